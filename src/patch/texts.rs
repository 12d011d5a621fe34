//! A file's patch from two texts, with `similar`: what AI patches and the
//! draft diff show, in the same model as git's diffs.
//!
//! Lines end at `\n` only, as in git, so a lone `\r` stays inside a line
//! (`similar`'s own line splitting would also cut there). Hunks carry 3
//! lines of context and no function header.

use std::time::Duration;

use similar::{Algorithm, DiffOp, DiffTag, TextDiffConfig};

use super::{DiffLine, FilePatch, FileStatus, Hunk, LineKind};

/// Lines of context around each change, git's default.
pub(crate) const CONTEXT: usize = 3;

/// How long the diff may search for the smallest edit before settling for
/// a larger, still correct one; keeps a pathological file from stalling a
/// worker.
const DEADLINE: Duration = Duration::from_secs(2);

/// The patch that turns `old` into `new`, as a modification of `path`.
/// An empty side is an empty file; callers that create or delete the file
/// set the status and modes themselves.
pub(crate) fn diff_texts(old: &str, new: &str, path: &str) -> FilePatch {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let diff = TextDiffConfig::default()
        .algorithm(Algorithm::Myers)
        .timeout(DEADLINE)
        .diff_slices(&old_lines, &new_lines);
    let mut hunks = Vec::new();
    for group in diff.grouped_ops(CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let mut lines = Vec::new();
        for op in &group {
            push_op(op, &old_lines, &new_lines, &mut lines);
        }
        hunks.push(Hunk {
            old_start: start(old_range.start, old_range.len()),
            old_lines: old_range.len() as u32,
            new_start: start(new_range.start, new_range.len()),
            new_lines: new_range.len() as u32,
            header: String::new(),
            lines,
        });
    }
    FilePatch {
        old_path: Some(path.to_string()),
        new_path: Some(path.to_string()),
        status: FileStatus::Modified,
        old_mode: None,
        new_mode: None,
        similarity: None,
        binary: false,
        hunks,
    }
}

/// A 0-based range start as git numbers it: 1-based, or the line before
/// when the side is empty.
fn start(index: usize, len: usize) -> u32 {
    if len == 0 {
        index as u32
    } else {
        index as u32 + 1
    }
}

fn push_op(op: &DiffOp, old: &[&str], new: &[&str], out: &mut Vec<DiffLine>) {
    let (tag, old_range, new_range) = op.as_tag_tuple();
    let mut push = |kind: LineKind, line: &str| {
        let (text, no_newline_at_end) = match line.strip_suffix('\n') {
            Some(text) => (text, false),
            None => (line, true),
        };
        let mut line = DiffLine::new(kind, text);
        line.no_newline_at_end = no_newline_at_end;
        out.push(line);
    };
    match tag {
        DiffTag::Equal => old[old_range]
            .iter()
            .for_each(|l| push(LineKind::Context, l)),
        DiffTag::Delete => old[old_range]
            .iter()
            .for_each(|l| push(LineKind::Removed, l)),
        DiffTag::Insert => new[new_range].iter().for_each(|l| push(LineKind::Added, l)),
        DiffTag::Replace => {
            old[old_range]
                .iter()
                .for_each(|l| push(LineKind::Removed, l));
            new[new_range].iter().for_each(|l| push(LineKind::Added, l));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_of_texts_reads_like_git_diff() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
        let new = "1\n2\n3\nfour\n5\n6\n7\n8\n9\n10\neleven";
        let patch = diff_texts(old, new, "n.txt");
        assert_eq!(
            patch.to_unified(),
            "diff --git a/n.txt b/n.txt\n--- a/n.txt\n+++ b/n.txt\n\
             @@ -1,10 +1,11 @@\n 1\n 2\n 3\n-4\n+four\n 5\n 6\n 7\n 8\n 9\n 10\n+eleven\n\
             \\ No newline at end of file\n"
        );
    }

    #[test]
    fn equal_texts_give_no_hunks() {
        assert!(diff_texts("a\n", "a\n", "x").hunks.is_empty());
    }

    #[test]
    fn new_text_from_nothing_starts_at_line_zero() {
        let patch = diff_texts("", "a\nb\n", "x");
        let h = &patch.hunks[0];
        assert_eq!(
            (h.old_start, h.old_lines, h.new_start, h.new_lines),
            (0, 0, 1, 2)
        );
    }

    #[test]
    fn lone_carriage_return_stays_inside_the_line() {
        let patch = diff_texts("a\rb\n", "a\rc\n", "x");
        assert_eq!(patch.hunks[0].lines[0].text(), "a\rb");
    }
}
