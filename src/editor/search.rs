//! What a search means and where it matches: the query (literal text
//! unless asked for as a regex, smart-cased) that the editor's search and
//! the workspace's grep both compile; regex search, match counting,
//! replacement and bracket matching over a rope, answering in char
//! indices. Read-only: the buffer turns answers into selections and edits.
//!
//! The regex crate needs contiguous text, so each search call copies the
//! rope into one `String`. At the 1 MiB import limit that copy costs about
//! a millisecond, cheaper than a streaming matcher and done once per call,
//! never per match.

use std::borrow::Cow;
use std::ops::Range;

use regex::{Regex, RegexBuilder};
use ropey::Rope;

use crate::error::Hint;

/// Matches counted at most for `3/17`; more show as `999+`, as vim's
/// `searchcount()` stops at its `maxcount`.
pub(crate) const MAX_COUNT: usize = 999;

/// What to look for: literal text unless `regex`. Smart case: a pattern
/// without a capital letter matches any case, one capital makes it exact
/// (ripgrep's `--smart-case`, vim's and helix's `smartcase`). In a regex,
/// `^` and `$` match at every line's start and end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub pattern: String,
    /// The pattern is a regular expression; otherwise literal text.
    pub regex: bool,
}

/// Why a query compiles to nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum QueryError {
    #[error("the pattern is empty")]
    Empty,
    #[error("{pattern:?} is not a valid regular expression: {why}")]
    BadRegex { pattern: String, why: String },
}

impl Hint for QueryError {
    fn hint(&self) -> String {
        match self {
            QueryError::Empty => "type the text to look for".into(),
            QueryError::BadRegex { .. } => {
                "fix the expression, or search for the text literally".into()
            }
        }
    }
}

impl Query {
    /// Whether the query matches any case: the pattern has no capital
    /// letter. In a regex, what follows a backslash is syntax, not text
    /// (`\S`, `\W`, `\p{Lu}`), and does not count.
    pub(crate) fn ignores_case(&self) -> bool {
        if !self.regex {
            return !self.pattern.chars().any(char::is_uppercase);
        }
        let mut chars = self.pattern.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                // A class name: `\p{Lu}`, `\PL`.
                if let Some('p' | 'P') = chars.next() {
                    if chars.clone().next() == Some('{') {
                        chars.by_ref().take_while(|c| *c != '}').for_each(drop);
                    } else {
                        chars.next();
                    }
                }
            } else if c.is_uppercase() {
                return false;
            }
        }
        true
    }

    /// The regular expression the query stands for, before case.
    fn source(&self) -> Cow<'_, str> {
        if self.regex {
            Cow::Borrowed(&self.pattern)
        } else {
            Cow::Owned(regex::escape(&self.pattern))
        }
    }

    /// Compiles the query with `build`, which gets the expression and
    /// whether to ignore case and picks the regex flavour (text or bytes).
    pub(crate) fn compile_with<R>(
        &self,
        build: impl FnOnce(&str, bool) -> Result<R, regex::Error>,
    ) -> Result<R, QueryError> {
        if self.pattern.is_empty() {
            return Err(QueryError::Empty);
        }
        build(&self.source(), self.ignores_case()).map_err(|e| QueryError::BadRegex {
            pattern: self.pattern.clone(),
            why: e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .trim_start_matches("error: ")
                .to_string(),
        })
    }

    /// The query as a regex over text, for the editor.
    pub(crate) fn compile(&self) -> Result<Regex, QueryError> {
        self.compile_with(|source, ignore_case| {
            RegexBuilder::new(source)
                .case_insensitive(ignore_case)
                .multi_line(true)
                .build()
        })
    }
}

/// Where the match at the cursor stands among all matches: `3/17`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MatchCount {
    /// 1-based; `None` when the cursor is on no match, or past
    /// [`MAX_COUNT`] of them.
    pub current: Option<usize>,
    /// Matches counted, at most [`MAX_COUNT`].
    pub total: usize,
    /// There are more than [`MAX_COUNT`].
    pub more: bool,
}

impl std::fmt::Display for MatchCount {
    /// `3/17`, `3/999+`, `>999/999+`, `?/17` off every match.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = if self.more {
            format!("{MAX_COUNT}+")
        } else {
            self.total.to_string()
        };
        match self.current {
            Some(n) => write!(f, "{n}/{total}"),
            None if self.more => write!(f, ">{MAX_COUNT}/{total}"),
            None => write!(f, "?/{total}"),
        }
    }
}

/// Counts the matches of `re`, and which one starts at char `at`, up to
/// [`MAX_COUNT`]: a search over a large file stops counting early.
pub(crate) fn count(rope: &Rope, re: &Regex, at: usize) -> MatchCount {
    let text = rope.to_string();
    let at_byte = rope.char_to_byte(at.min(rope.len_chars()));
    let mut counted = MatchCount {
        current: None,
        total: 0,
        more: false,
    };
    for found in re.find_iter(&text) {
        if counted.total == MAX_COUNT {
            counted.more = true;
            break;
        }
        counted.total += 1;
        if found.start() == at_byte {
            counted.current = Some(counted.total);
        }
    }
    counted
}

/// The matches of `re` in `line` (one line's text, from char `offset` of
/// the document), as document char ranges, for drawing.
pub(crate) fn matches_in(line: &str, re: &Regex, offset: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut chars = 0;
    let mut counted_to = 0;
    for found in re.find_iter(line) {
        if found.is_empty() {
            continue;
        }
        chars += line[counted_to..found.start()].chars().count();
        let len = found.as_str().chars().count();
        out.push(offset + chars..offset + chars + len);
        chars += len;
        counted_to = found.end();
    }
    out
}

/// The first match starting at or after char `from`, wrapping around to the
/// top of the document when there is none below.
pub(crate) fn find_next(rope: &Rope, re: &Regex, from: usize) -> Option<Range<usize>> {
    let text = rope.to_string();
    let from_byte = rope.char_to_byte(from.min(rope.len_chars()));
    let found = re.find_at(&text, from_byte).or_else(|| re.find(&text))?;
    Some(to_chars(rope, found.range()))
}

/// The last match starting before char `from`, wrapping around to the last
/// match of the document when there is none above.
pub(crate) fn find_prev(rope: &Rope, re: &Regex, from: usize) -> Option<Range<usize>> {
    let text = rope.to_string();
    let from_byte = rope.char_to_byte(from.min(rope.len_chars()));
    let mut above = None;
    let mut last = None;
    for found in re.find_iter(&text) {
        if found.start() < from_byte {
            above = Some(found.range());
        } else if above.is_some() {
            break;
        }
        last = Some(found.range());
    }
    above.or(last).map(|bytes| to_chars(rope, bytes))
}

/// The replacement for the match of `re` spanning exactly chars `range`,
/// with `$1`, `${name}` and `$$` expanded; `None` when that text is not a
/// match there.
#[cfg(test)]
pub(crate) fn expand_match(
    rope: &Rope,
    re: &Regex,
    range: Range<usize>,
    replacement: &str,
) -> Option<String> {
    let text = rope.to_string();
    let len = rope.len_chars();
    let start = rope.char_to_byte(range.start.min(len));
    let end = rope.char_to_byte(range.end.clamp(range.start.min(len), len));
    let caps = re.captures_at(&text, start)?;
    let whole = caps.get(0)?;
    if whole.start() != start || whole.end() != end {
        return None;
    }
    let mut out = String::new();
    caps.expand(replacement, &mut out);
    Some(out)
}

/// Every match of `re` in document order with its expanded replacement.
pub(crate) fn replacements(
    rope: &Rope,
    re: &Regex,
    replacement: &str,
) -> Vec<(Range<usize>, String)> {
    let text = rope.to_string();
    re.captures_iter(&text)
        .filter_map(|caps| {
            let whole = caps.get(0)?;
            let mut out = String::new();
            caps.expand(replacement, &mut out);
            Some((to_chars(rope, whole.range()), out))
        })
        .collect()
}

/// The bracket matching the one at `char_idx` among `()`, `[]` and `{}`,
/// counting nesting of the same kind only (brackets in strings and comments
/// count too).
pub(crate) fn matching_bracket(rope: &Rope, char_idx: usize) -> Option<usize> {
    let here = rope.get_char(char_idx)?;
    let (open, close, forward) = match here {
        '(' => ('(', ')', true),
        '[' => ('[', ']', true),
        '{' => ('{', '}', true),
        ')' => ('(', ')', false),
        ']' => ('[', ']', false),
        '}' => ('{', '}', false),
        _ => return None,
    };
    let mut depth = 0usize;
    if forward {
        for (offset, c) in rope.get_chars_at(char_idx)?.enumerate() {
            if c == open {
                depth += 1;
            } else if c == close {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(char_idx + offset);
                }
            }
        }
    } else {
        let mut chars = rope.get_chars_at(char_idx + 1)?;
        let mut pos = char_idx + 1;
        while let Some(c) = chars.prev() {
            pos -= 1;
            if c == close {
                depth += 1;
            } else if c == open {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(pos);
                }
            }
        }
    }
    None
}

fn to_chars(rope: &Rope, bytes: Range<usize>) -> Range<usize> {
    rope.byte_to_char(bytes.start)..rope.byte_to_char(bytes.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(pattern: &str) -> Regex {
        Regex::new(pattern).unwrap()
    }

    #[test]
    fn find_next_answers_in_chars_and_wraps_around() {
        let rope = Rope::from_str("中 foo 中 foo");
        assert_eq!(find_next(&rope, &re("foo"), 0), Some(2..5));
        assert_eq!(find_next(&rope, &re("foo"), 3), Some(8..11));
        assert_eq!(find_next(&rope, &re("foo"), 9), Some(2..5));
        assert_eq!(find_next(&rope, &re("bar"), 0), None);
        assert_eq!(find_next(&rope, &re("foo"), 999), Some(2..5));
    }

    #[test]
    fn find_prev_finds_the_match_above_and_wraps_to_the_last() {
        let rope = Rope::from_str("foo bar foo bar");
        assert_eq!(find_prev(&rope, &re("foo"), 9), Some(8..11));
        assert_eq!(find_prev(&rope, &re("foo"), 8), Some(0..3));
        assert_eq!(find_prev(&rope, &re("foo"), 0), Some(8..11));
    }

    #[test]
    fn expand_match_fills_groups_only_for_an_exact_match() {
        let rope = Rope::from_str("let a = 1;");
        let r = re(r"(\w+) = (\d+)");
        assert_eq!(
            expand_match(&rope, &r, 4..9, "$2 = $1"),
            Some("1 = a".into())
        );
        assert_eq!(expand_match(&rope, &r, 4..8, "$2"), None);
        assert_eq!(expand_match(&rope, &r, 0..3, "$2"), None);
    }

    #[test]
    fn brackets_match_through_nesting_in_both_directions() {
        let rope = Rope::from_str("f(a[0], (b)) {x}");
        assert_eq!(matching_bracket(&rope, 1), Some(11));
        assert_eq!(matching_bracket(&rope, 11), Some(1));
        assert_eq!(matching_bracket(&rope, 3), Some(5));
        assert_eq!(matching_bracket(&rope, 8), Some(10));
        assert_eq!(matching_bracket(&rope, 13), Some(15));
        assert_eq!(matching_bracket(&rope, 15), Some(13));
        assert_eq!(matching_bracket(&rope, 0), None);
        assert_eq!(matching_bracket(&rope, 99), None);
        assert_eq!(matching_bracket(&Rope::from_str("(("), 0), None);
    }

    fn query(pattern: &str, regex: bool) -> Result<Regex, QueryError> {
        Query {
            pattern: pattern.into(),
            regex,
        }
        .compile()
    }

    fn found(re: &Regex, text: &str) -> Vec<String> {
        re.find_iter(text).map(|m| m.as_str().to_string()).collect()
    }

    #[test]
    fn a_query_is_literal_unless_regex() {
        let text = "a.b axb a+b";
        assert_eq!(found(&query("a.b", false).unwrap(), text), ["a.b"]);
        assert_eq!(
            found(&query("a.b", true).unwrap(), text),
            ["a.b", "axb", "a+b"]
        );
        assert_eq!(found(&query("a+b", false).unwrap(), text), ["a+b"]);
        assert_eq!(found(&query("(", false).unwrap(), "f(x)"), ["("]);
        // `^` and `$` are the line's ends in a regex.
        assert_eq!(
            found(&query("^b.$", true).unwrap(), "a\nbc\nbd"),
            ["bc", "bd"]
        );
    }

    #[test]
    fn a_query_is_smart_cased() {
        let text = "cart Cart CART";
        assert_eq!(found(&query("cart", false).unwrap(), text).len(), 3);
        assert_eq!(found(&query("Cart", false).unwrap(), text), ["Cart"]);
        assert_eq!(found(&query("c.rt", true).unwrap(), text).len(), 3);
        assert_eq!(found(&query("C.rt", true).unwrap(), text), ["Cart"]);
        // Escapes are syntax, not capitals: `\S` still ignores case.
        assert_eq!(found(&query(r"c\S+", true).unwrap(), text).len(), 3);
        assert_eq!(found(&query(r"\p{Lu}A", true).unwrap(), text), ["CA"]);
        assert_eq!(found(&query(r"\bC", true).unwrap(), text), ["C", "C"]);
    }

    #[test]
    fn a_bad_or_empty_query_is_an_error_that_says_why() {
        let err = query("a(", true).unwrap_err();
        assert!(
            matches!(&err, QueryError::BadRegex { pattern, why } if pattern == "a(" && !why.is_empty()),
            "{err:?}"
        );
        assert!(err.to_string().contains("not a valid regular expression"));
        assert!(err.hint().contains("literally"));
        assert_eq!(query("", false).unwrap_err(), QueryError::Empty);
        assert_eq!(query("", true).unwrap_err(), QueryError::Empty);
    }

    #[test]
    fn count_says_which_match_the_cursor_is_on_up_to_the_limit() {
        let rope = Rope::from_str("中 foo\nfoo foo\n");
        let r = re("foo");
        let at = |pos| count(&rope, &r, pos).to_string();
        assert_eq!(at(2), "1/3");
        assert_eq!(at(10), "3/3");
        assert_eq!(at(0), "?/3");
        let many = Rope::from_str(&"x ".repeat(MAX_COUNT + 5));
        let counted = count(&many, &re("x"), 4);
        assert_eq!(
            (counted.current, counted.total, counted.more),
            (Some(3), MAX_COUNT, true)
        );
        assert_eq!(counted.to_string(), "3/999+");
        assert_eq!(
            count(&many, &re("x"), 2 * (MAX_COUNT + 2)).to_string(),
            ">999/999+"
        );
        assert_eq!(count(&rope, &re("bar"), 0).to_string(), "?/0");
    }

    #[test]
    fn matches_in_a_line_are_document_chars() {
        let r = re("é+");
        assert_eq!(matches_in("aé bééc é", &r, 10), [11..12, 14..16, 18..19]);
        assert!(
            matches_in("abc", &re("x*"), 0).is_empty(),
            "empty matches draw nothing"
        );
    }
}
