//! Finding a model's "old text" in a file and putting its "new text" in
//! its place: what search/replace blocks and apply_patch chunks need.
//!
//! Matching tries, in order, and stops at the first level that matches:
//! 1. exact lines (a CRLF file matches LF text);
//! 2. lines equal but for trailing whitespace;
//! 3. the same, with the indentation shifted as a whole (the model quoted
//!    the block at another depth).
//!
//! A level with more than one match is ambiguous and refused: the model has
//! to quote more lines. The replacement changes only the lines the edit
//! changes: lines the old and new text share keep the file's bytes, new
//! lines take the file's indentation and line ending.

use similar::{Algorithm, DiffOp, capture_diff_slices};

/// Why an old text could not be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Miss {
    Nothing,
    Many(usize),
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Miss::Nothing => f.write_str("its old text matches no lines of the file"),
            Miss::Many(n) => write!(f, "its old text matches {n} places in the file"),
        }
    }
}

/// A line of the file: its text without the line ending, and the ending
/// (`"\n"`, `"\r\n"`, or empty for a last line without one).
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    text: &'a str,
    end: &'a str,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    text.split_inclusive('\n')
        .map(|raw| {
            if let Some(text) = raw.strip_suffix("\r\n") {
                Line { text, end: "\r\n" }
            } else if let Some(text) = raw.strip_suffix('\n') {
                Line { text, end: "\n" }
            } else {
                Line { text: raw, end: "" }
            }
        })
        .collect()
}

/// The lines of a model's text, endings dropped (a trailing `\r` too).
fn texts(text: &str) -> Vec<&str> {
    lines(text).into_iter().map(|l| l.text).collect()
}

fn indent(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// The indentation every non-blank line of `lines` starts with.
fn common_indent<'a>(lines: &[&'a str]) -> &'a str {
    let mut common: Option<&str> = None;
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let this = indent(line);
        common = Some(match common {
            None => this,
            Some(c) => {
                let shared = c
                    .bytes()
                    .zip(this.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                &c[..shared]
            }
        });
    }
    common.unwrap_or("")
}

/// How a window of the file matched: at level 3, the indentation the file
/// adds in front of the old text's own (after removing its common indent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit<'a> {
    Same,
    Shifted { file: &'a str, old: &'a str },
}

fn fits<'a>(window: &[Line<'a>], old: &[&'a str], level: u8) -> Option<Fit<'a>> {
    match level {
        1 => window
            .iter()
            .zip(old)
            .all(|(f, o)| f.text == *o)
            .then_some(Fit::Same),
        2 => window
            .iter()
            .zip(old)
            .all(|(f, o)| f.text.trim_end() == o.trim_end())
            .then_some(Fit::Same),
        _ => {
            let common = common_indent(old);
            let mut added: Option<&str> = None;
            for (f, o) in window.iter().zip(old) {
                if o.trim().is_empty() {
                    if !f.text.trim().is_empty() {
                        return None;
                    }
                    continue;
                }
                if f.text.trim() != o.trim() {
                    return None;
                }
                let own = &indent(o)[common.len()..];
                let prefix = indent(f.text).strip_suffix(own)?;
                match added {
                    None => added = Some(prefix),
                    Some(p) if p == prefix => {}
                    Some(_) => return None,
                }
            }
            Some(Fit::Shifted {
                file: added.unwrap_or(""),
                old: common,
            })
        }
    }
}

/// `text` with the one place where `old` sits replaced by `new`. An empty
/// `old` appends `new` (how a model creates a file or adds to its end).
pub(crate) fn replace(text: &str, old: &str, new: &str) -> Result<String, Miss> {
    let file = lines(text);
    let old_lines = texts(old);
    let new_lines = texts(new);
    if old_lines.is_empty() {
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(dominant_end(&file));
        }
        out.push_str(&with_ends(new, dominant_end(&file)));
        return Ok(out);
    }
    let width = old_lines.len();
    for level in 1..=3 {
        let found: Vec<(usize, Fit<'_>)> = (0..=file.len().saturating_sub(width))
            .filter(|&at| at + width <= file.len())
            .filter_map(|at| fits(&file[at..at + width], &old_lines, level).map(|fit| (at, fit)))
            .collect();
        match found.as_slice() {
            [] => continue,
            [(at, fit)] => return Ok(splice(&file, *at, &old_lines, &new_lines, *fit)),
            many => return Err(Miss::Many(many.len())),
        }
    }
    Err(Miss::Nothing)
}

/// The file's most common line ending, LF when it has none.
fn dominant_end(file: &[Line<'_>]) -> &'static str {
    let crlf = file.iter().filter(|l| l.end == "\r\n").count();
    let lf = file.iter().filter(|l| l.end == "\n").count();
    if crlf > lf { "\r\n" } else { "\n" }
}

fn with_ends(text: &str, end: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in lines(text) {
        out.push_str(line.text);
        if !line.end.is_empty() {
            out.push_str(end);
        }
    }
    out
}

fn splice(file: &[Line<'_>], at: usize, old: &[&str], new: &[&str], fit: Fit<'_>) -> String {
    let window = &file[at..at + old.len()];
    let end = window
        .iter()
        .map(|l| l.end)
        .find(|e| !e.is_empty())
        .unwrap_or_else(|| dominant_end(file));
    // The old text ended the file without a final newline: so does the new.
    let open_end = window.last().is_some_and(|l| l.end.is_empty());
    let shape = |line: &str| -> String {
        match fit {
            Fit::Same => line.to_string(),
            Fit::Shifted { .. } if line.trim().is_empty() => String::new(),
            Fit::Shifted { file, old } => match line.strip_prefix(old) {
                Some(rest) => format!("{file}{rest}"),
                None => format!("{file}{}", line.trim_start()),
            },
        }
    };
    let compare = |line: &str| line.trim_end().to_string();
    let old_keys: Vec<String> = old.iter().map(|l| compare(l)).collect();
    let new_keys: Vec<String> = new.iter().map(|l| compare(l)).collect();
    let mut middle: Vec<(String, &str)> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &old_keys, &new_keys) {
        match op {
            DiffOp::Equal { old_index, len, .. } => {
                for line in &window[old_index..old_index + len] {
                    middle.push((line.text.to_string(), line.end));
                }
            }
            DiffOp::Delete { .. } => {}
            DiffOp::Insert {
                new_index, new_len, ..
            }
            | DiffOp::Replace {
                new_index, new_len, ..
            } => {
                for line in &new[new_index..new_index + new_len] {
                    middle.push((shape(line), end));
                }
            }
        }
    }
    if let Some(last) = middle.last_mut() {
        last.1 = if open_end {
            ""
        } else if last.1.is_empty() {
            end
        } else {
            last.1
        };
    }
    let mut out = String::new();
    for line in &file[..at] {
        out.push_str(line.text);
        out.push_str(line.end);
    }
    for (text, end) in &middle {
        out.push_str(text);
        out.push_str(end);
    }
    for line in &file[at + old.len()..] {
        out.push_str(line.text);
        out.push_str(line.end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_exact_match_is_replaced_and_the_rest_kept() {
        let text = "fn a() {\n    one();\n}\n\nfn b() {}\n";
        let out = replace(text, "    one();\n", "    one();\n    two();\n").unwrap();
        assert_eq!(out, "fn a() {\n    one();\n    two();\n}\n\nfn b() {}\n");
    }

    #[test]
    fn crlf_and_trailing_spaces_match_and_new_lines_take_the_files_endings() {
        let text = "a\r\nb  \r\nc\r\n";
        let out = replace(text, "b\nc\n", "b\nX\n").unwrap();
        // `b  ` is a line the edit leaves alone: its bytes stay.
        assert_eq!(out, "a\r\nb  \r\nX\r\n");
    }

    #[test]
    fn a_block_quoted_at_another_depth_takes_the_files_indentation() {
        let text = "class A:\n    def f(self):\n        if x:\n            go()\n";
        let old = "def f(self):\n    if x:\n        go()\n";
        let new = "def f(self):\n    if x:\n        go()\n        stop()\n";
        let out = replace(text, old, new).unwrap();
        assert_eq!(
            out,
            "class A:\n    def f(self):\n        if x:\n            go()\n            stop()\n"
        );
    }

    #[test]
    fn ambiguity_and_misses_are_refused() {
        assert_eq!(replace("x\ny\nx\n", "x\n", "z\n"), Err(Miss::Many(2)));
        assert_eq!(replace("x\ny\n", "q\n", "z\n"), Err(Miss::Nothing));
        // An exact match wins over a tolerant one elsewhere.
        assert_eq!(replace("  x\nx\n", "x\n", "z\n").unwrap(), "  x\nz\n");
    }

    #[test]
    fn an_empty_old_text_appends_and_a_missing_final_newline_is_kept() {
        assert_eq!(replace("", "", "new\nfile\n").unwrap(), "new\nfile\n");
        assert_eq!(replace("a", "", "b\n").unwrap(), "a\nb\n");
        assert_eq!(replace("a\nb", "b\n", "c\n").unwrap(), "a\nc");
    }

    proptest! {
        /// Replacing a unique window of a file gives the file with that
        /// window swapped, byte for byte.
        #[test]
        fn a_unique_window_is_swapped_exactly(
            before in proptest::collection::vec("[a-c]{0,3}", 0..6),
            window in proptest::collection::vec("[x-z]{1,3}", 1..4),
            after in proptest::collection::vec("[a-c]{0,3}", 0..6),
            new in proptest::collection::vec("[a-z]{0,5}", 0..4),
        ) {
            let join = |v: &[String]| v.iter().map(|l| format!("{l}\n")).collect::<String>();
            let marker = "UNIQUE".to_string();
            let mut old = window.clone();
            old.insert(0, marker.clone());
            let mut new_lines = new.clone();
            new_lines.insert(0, marker);
            let text = format!("{}{}{}", join(&before), join(&old), join(&after));
            let out = replace(&text, &join(&old), &join(&new_lines)).unwrap();
            prop_assert_eq!(out, format!("{}{}{}", join(&before), join(&new_lines), join(&after)));
        }
    }
}
