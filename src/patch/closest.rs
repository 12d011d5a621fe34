//! The lines of a text that come closest to a hunk's old side: what a
//! failed apply shows (and sends back to a model) beside the lines it
//! expected, so the difference is plain to see.

/// Where the best match of `expected` starts in `text` (0-based line) and
/// the lines found there, or `None` for an empty text or nothing expected.
///
/// Every window of `expected.len()` lines is scored by the lines equal to
/// the expected ones, counting a line equal but for whitespace at either
/// end as half; the earliest best window wins. Only a failed apply calls
/// this, and its cost is the text's lines times the hunk's.
pub(crate) fn closest(text: &str, expected: &[&str]) -> Option<(usize, Vec<String>)> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() || expected.is_empty() {
        return None;
    }
    let width = expected.len().min(lines.len());
    let mut best: Option<(usize, usize)> = None;
    for start in 0..=lines.len() - width {
        let score: usize = lines[start..start + width]
            .iter()
            .zip(expected)
            .map(|(have, want)| {
                if have == want {
                    2
                } else if have.trim() == want.trim() {
                    1
                } else {
                    0
                }
            })
            .sum();
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((start, score));
        }
    }
    let (start, _) = best?;
    Some((
        start,
        lines[start..start + width]
            .iter()
            .map(|l| (*l).to_string())
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_with_most_equal_lines_wins() {
        let text = "fn a() {\n    one();\n}\nfn b() {\n    two();\n    three();\n}\n";
        let (at, found) = closest(text, &["fn b() {", "    two();", "    four();"]).unwrap();
        assert_eq!(at, 3);
        assert_eq!(found, ["fn b() {", "    two();", "    three();"]);
    }

    #[test]
    fn whitespace_differences_still_count_for_something() {
        let (at, _) = closest("x\n  y\nz\n", &["y"]).unwrap();
        assert_eq!(at, 1);
    }

    #[test]
    fn a_text_shorter_than_the_hunk_is_shown_whole() {
        let (at, found) = closest("only\n", &["a", "b", "only"]).unwrap();
        assert_eq!((at, found), (0, vec!["only".to_string()]));
        assert_eq!(closest("", &["a"]), None);
    }
}
