//! Regex search, replacement and bracket matching over a rope, answering in
//! char indices. Read-only: the buffer turns answers into selections and
//! edits.
//!
//! The regex crate needs contiguous text, so each search call copies the
//! rope into one `String`. At the 1 MiB import limit that copy costs about
//! a millisecond, cheaper than a streaming matcher and done once per call,
//! never per match.

use std::ops::Range;

use regex::Regex;
use ropey::Rope;

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
}
