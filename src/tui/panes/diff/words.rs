//! Changed words within a changed line: a removed line and the added line
//! paired with it are cut into words (runs of letters and digits, runs of
//! spaces, single other characters) and diffed, so the diff view can mark
//! the words that differ rather than the whole line.

use std::ops::Range;

use similar::{Algorithm, DiffTag, capture_diff_slices};

use crate::patch::{DiffLine, LineKind};

/// Lines longer than this are not diffed word by word: the whole line is
/// already marked, and a minified file must not cost a frame.
const MAX_LINE: usize = 2_000;

/// The byte ranges of `text` in its words, in order.
fn words(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None::<(usize, u8)>;
    for (at, c) in text.char_indices() {
        let class = if c.is_alphanumeric() || c == '_' {
            1
        } else if c.is_whitespace() {
            2
        } else {
            0
        };
        match start {
            Some((_, k)) if k == class && class != 0 => {}
            Some((s, _)) => {
                out.push(s..at);
                start = Some((at, class));
            }
            None => start = Some((at, class)),
        }
    }
    if let Some((s, _)) = start {
        out.push(s..text.len());
    }
    out
}

/// The byte ranges that differ in `old` and in `new`, merged where they
/// touch. Lines with nothing in common (or too long) give no ranges: the
/// whole line is the change.
pub(crate) fn changed(old: &str, new: &str) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
    if old.len() > MAX_LINE || new.len() > MAX_LINE {
        return (Vec::new(), Vec::new());
    }
    let (old_words, new_words) = (words(old), words(new));
    let old_tokens: Vec<&str> = old_words.iter().map(|r| &old[r.clone()]).collect();
    let new_tokens: Vec<&str> = new_words.iter().map(|r| &new[r.clone()]).collect();
    let ops = capture_diff_slices(Algorithm::Myers, &old_tokens, &new_tokens);
    let (mut old_out, mut new_out) = (Vec::new(), Vec::new());
    let mut common = false;
    for op in ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            // Shared blanks alone do not make two lines alike.
            common |= old_tokens[old_range.clone()]
                .iter()
                .any(|t| !t.trim().is_empty());
            continue;
        }
        if !old_range.is_empty() {
            push_merged(
                &mut old_out,
                old_words[old_range.start].start..old_words[old_range.end - 1].end,
            );
        }
        if !new_range.is_empty() {
            push_merged(
                &mut new_out,
                new_words[new_range.start].start..new_words[new_range.end - 1].end,
            );
        }
    }
    if !common {
        return (Vec::new(), Vec::new());
    }
    (old_out, new_out)
}

fn push_merged(out: &mut Vec<Range<usize>>, range: Range<usize>) {
    match out.last_mut() {
        Some(last) if last.end >= range.start => last.end = last.end.max(range.end),
        _ => out.push(range),
    }
}

/// For each line of a hunk, the changed ranges of its text: each run of
/// removed lines followed by a run of added lines is paired line by line
/// (the first removed with the first added, and so on).
pub(crate) fn for_hunk(lines: &[DiffLine]) -> Vec<Vec<Range<usize>>> {
    let mut out = vec![Vec::new(); lines.len()];
    let mut i = 0;
    while i < lines.len() {
        if lines[i].kind != LineKind::Removed {
            i += 1;
            continue;
        }
        let removed_start = i;
        while i < lines.len() && lines[i].kind == LineKind::Removed {
            i += 1;
        }
        let added_start = i;
        while i < lines.len() && lines[i].kind == LineKind::Added {
            i += 1;
        }
        let pairs = (added_start - removed_start).min(i - added_start);
        for k in 0..pairs {
            let (old, new) = (removed_start + k, added_start + k);
            let (o, n) = changed(lines[old].text(), lines[new].text());
            out[old] = o;
            out[new] = n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_changed_words_are_marked() {
        let old = "let total = price * count;";
        let new = "let total = price * quantity;";
        let (o, n) = changed(old, new);
        assert_eq!(
            o.iter().map(|r| &old[r.clone()]).collect::<Vec<_>>(),
            ["count"]
        );
        assert_eq!(
            n.iter().map(|r| &new[r.clone()]).collect::<Vec<_>>(),
            ["quantity"]
        );
    }

    #[test]
    fn unrelated_lines_are_not_cut_into_words() {
        assert_eq!(changed("alpha beta", "gamma delta"), (vec![], vec![]));
        assert_eq!(changed(&"x ".repeat(2_000), "x"), (vec![], vec![]));
    }

    #[test]
    fn removed_and_added_runs_pair_in_order() {
        let lines = vec![
            DiffLine::new(LineKind::Context, "fn a() {"),
            DiffLine::new(LineKind::Removed, "    one(1);"),
            DiffLine::new(LineKind::Removed, "    two(2);"),
            DiffLine::new(LineKind::Added, "    one(10);"),
            DiffLine::new(LineKind::Context, "}"),
        ];
        let got = for_hunk(&lines);
        assert!(got[0].is_empty() && got[2].is_empty() && got[4].is_empty());
        assert_eq!(&lines[1].text()[got[1][0].clone()], "1");
        assert_eq!(&lines[3].text()[got[3][0].clone()], "10");
    }
}
