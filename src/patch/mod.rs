//! Patches: the model of a unified diff that git staging uses now and the
//! AI review will use later.
//!
//! A [`Patch`] holds one [`FilePatch`] per file, each with its [`Hunk`]s of
//! [`DiffLine`]s. `parse` reads diffs as `git diff` prints them (and the
//! plain `---`/`+++` diffs models write), `unified` writes a file's patch
//! back out so that `git apply --cached` and libgit2's `git_apply` accept it,
//! `hunk` splits (like `git add -p`'s `s`), joins and reverses hunks,
//! `texts` diffs two texts and `apply` applies a file's patch to a text.
//!
//! Nothing here touches a repository, the disk or the terminal: the git
//! module feeds it text and applies what it writes; the diff widget renders
//! the model. Line text never holds the `\n` that ends it; a `\r` before it
//! stays part of the text, as git treats it.

pub(crate) mod apply;
pub(crate) mod closest;
#[cfg(test)]
mod equivalence;
pub(crate) mod hunk;
pub(crate) mod parse;
pub(crate) mod reply;
pub(crate) mod search;
pub(crate) mod texts;
pub(crate) mod unified;

pub(crate) use texts::diff_texts;

pub(crate) use parse::{parse, parse_shared};

use std::ops::Range;
use std::sync::Arc;

use crate::error::Hint;

/// A whole diff: the files it changes, in the order it names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Patch {
    pub(crate) files: Vec<FilePatch>,
}

/// What a file's patch does to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FileStatus {
    Added,
    Deleted,
    Modified,
    Renamed,
    Copied,
}

impl FileStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FileStatus::Added => "added",
            FileStatus::Deleted => "deleted",
            FileStatus::Modified => "modified",
            FileStatus::Renamed => "renamed",
            FileStatus::Copied => "copied",
        }
    }
}

/// One file's part of a diff.
///
/// `old_path` is `None` for an added file and `new_path` for a deleted
/// one. An added file carries its `new_mode` and a deleted one its
/// `old_mode`; otherwise both modes are set only when the mode changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilePatch {
    pub(crate) old_path: Option<String>,
    pub(crate) new_path: Option<String>,
    pub(crate) status: FileStatus,
    pub(crate) old_mode: Option<u32>,
    pub(crate) new_mode: Option<u32>,
    /// `similarity index` of a rename or copy, in percent.
    pub(crate) similarity: Option<u8>,
    /// Git found binary content: there are no hunks to show or apply.
    pub(crate) binary: bool,
    pub(crate) hunks: Vec<Hunk>,
}

/// A run of changed lines with the context around them.
///
/// `old_start`/`new_start` are 1-based; a side with no lines names the line
/// before the change (0 at the top of the file), as `git diff` does.
/// `header` is the text after the second `@@` (git's function context),
/// without the space that separates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hunk {
    pub(crate) old_start: u32,
    pub(crate) old_lines: u32,
    pub(crate) new_start: u32,
    pub(crate) new_lines: u32,
    pub(crate) header: String,
    pub(crate) lines: Vec<DiffLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum LineKind {
    Context,
    Added,
    Removed,
}

impl LineKind {
    /// The character that starts the line in a unified diff.
    pub(crate) fn prefix(self) -> char {
        match self {
            LineKind::Context => ' ',
            LineKind::Added => '+',
            LineKind::Removed => '-',
        }
    }
}

/// A line of a hunk. Its text is a range of a shared buffer: a parsed
/// diff's lines all point into one copy of the diff (tens of thousands
/// of lines, no allocation each); a line made otherwise has a buffer of
/// its own.
#[derive(Clone)]
pub(crate) struct DiffLine {
    pub(crate) kind: LineKind,
    buffer: Arc<String>,
    range: Range<usize>,
    /// The line is the last of its side and has no `\n` after it.
    pub(crate) no_newline_at_end: bool,
}

impl DiffLine {
    pub(crate) fn new(kind: LineKind, text: impl Into<String>) -> DiffLine {
        let buffer = Arc::new(text.into());
        DiffLine {
            kind,
            range: 0..buffer.len(),
            buffer,
            no_newline_at_end: false,
        }
    }

    /// A line whose text is `range` of `buffer`; `None` when the range
    /// is not on character boundaries of it.
    pub(crate) fn shared(
        kind: LineKind,
        buffer: &Arc<String>,
        range: Range<usize>,
    ) -> Option<DiffLine> {
        buffer.get(range.clone())?;
        Some(DiffLine {
            kind,
            buffer: Arc::clone(buffer),
            range,
            no_newline_at_end: false,
        })
    }

    /// The line's text, without its prefix and `\n`.
    pub(crate) fn text(&self) -> &str {
        self.buffer.get(self.range.clone()).unwrap_or_default()
    }
}

impl PartialEq for DiffLine {
    fn eq(&self, other: &DiffLine) -> bool {
        self.kind == other.kind
            && self.no_newline_at_end == other.no_newline_at_end
            && self.text() == other.text()
    }
}

impl Eq for DiffLine {}

impl std::fmt::Debug for DiffLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiffLine")
            .field("kind", &self.kind)
            .field("text", &self.text())
            .field("no_newline_at_end", &self.no_newline_at_end)
            .finish()
    }
}

impl FilePatch {
    /// The path to show for the file: the new one, or the old one of a
    /// deleted file.
    pub(crate) fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or_default()
    }

    /// This file's patch with `hunks` in place of its own, in file order,
    /// each `new_start` recomputed so that the patch applies with only
    /// these hunks: what staging a single hunk or sub-hunk needs, since
    /// libgit2 applies a hunk exactly at its `new_start`.
    pub(crate) fn with_hunks(&self, hunks: impl IntoIterator<Item = Hunk>) -> FilePatch {
        let mut hunks: Vec<Hunk> = hunks.into_iter().collect();
        hunks.sort_by_key(|h| h.old_start);
        let mut delta: i64 = 0;
        for h in &mut hunks {
            let old_first = i64::from(h.old_start) + i64::from(h.old_lines == 0);
            let new_first = old_first + delta;
            let new_start = new_first - i64::from(h.new_lines == 0);
            h.new_start = u32::try_from(new_start.max(0)).unwrap_or(u32::MAX);
            delta += i64::from(h.new_lines) - i64::from(h.old_lines);
        }
        FilePatch {
            hunks,
            ..self.clone()
        }
    }

    /// The patch that undoes this one: sides, paths and modes swapped, an
    /// added file becomes a deleted one and back.
    pub(crate) fn reversed(&self) -> FilePatch {
        FilePatch {
            old_path: self.new_path.clone(),
            new_path: self.old_path.clone(),
            status: match self.status {
                FileStatus::Added => FileStatus::Deleted,
                FileStatus::Deleted => FileStatus::Added,
                other => other,
            },
            old_mode: self.new_mode,
            new_mode: self.old_mode,
            similarity: self.similarity,
            binary: self.binary,
            hunks: self.hunks.iter().map(Hunk::reversed).collect(),
        }
    }

    /// Lines added and removed over all hunks.
    pub(crate) fn line_counts(&self) -> (usize, usize) {
        let mut added = 0;
        let mut removed = 0;
        for line in self.hunks.iter().flat_map(|h| &h.lines) {
            match line.kind {
                LineKind::Added => added += 1,
                LineKind::Removed => removed += 1,
                LineKind::Context => {}
            }
        }
        (added, removed)
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum PatchError {
    #[error("line {line} of the diff: {what}")]
    Malformed { line: usize, what: String },
    #[error("line {line} of the diff ({path}) is not UTF-8 text")]
    NotUtf8 { line: usize, path: String },
    #[error("hunk {hunk} of {path} (@@ -{old_start}) does not apply: {why}")]
    DoesNotApply {
        path: String,
        hunk: usize,
        old_start: u32,
        why: String,
    },
}

impl Hint for PatchError {
    fn hint(&self) -> String {
        match self {
            PatchError::Malformed { .. } => {
                "the diff is damaged or not a unified diff; make it again with `git diff`".into()
            }
            PatchError::NotUtf8 { .. } => {
                "kollega shows and stages hunks of UTF-8 text only; stage or discard the whole file"
                    .into()
            }
            PatchError::DoesNotApply { .. } => {
                "the text changed since the diff was made; refresh the diff and try again".into()
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! Proptest generators of consistent patches, shared by the tests of
    //! the modules beside this one.

    use proptest::prelude::*;

    use super::*;

    /// A line of text: no `\n`, sometimes empty, spaces, `\r`, non-ASCII.
    pub(crate) fn line_text() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-z]{0,6}",
            1 => Just(String::new()),
            1 => "[ a-z\\t\u{e9}\u{4e16}@+-]{0,8}\r?",
        ]
    }

    /// A text of a few lines, with or without a final newline.
    pub(crate) fn text() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(prop_oneof!["[a-d]", line_text()], 0..24),
            any::<bool>(),
        )
            .prop_map(|(lines, final_newline)| {
                let mut text = lines.join("\n");
                if final_newline && !text.is_empty() {
                    text.push('\n');
                }
                text
            })
    }

    /// A hunk whose counts match its lines, changes in git's order
    /// (removed before added within a run), starting at `old_start`.
    pub(crate) fn hunk() -> impl Strategy<Value = Hunk> {
        let segment = (0u8..3, proptest::collection::vec(line_text(), 1..4));
        (
            1u32..500,
            proptest::collection::vec(segment, 1..6),
            "[a-z (){}]{0,12}",
            any::<bool>(),
        )
            .prop_map(|(old_start, segments, header, last_missing_newline)| {
                let mut lines = Vec::new();
                for (kind, texts) in segments {
                    let kind = match kind {
                        0 => LineKind::Context,
                        1 => LineKind::Removed,
                        _ => LineKind::Added,
                    };
                    lines.extend(texts.into_iter().map(|t| DiffLine::new(kind, t)));
                }
                canonical_order(&mut lines);
                if last_missing_newline && let Some(last) = lines.last_mut() {
                    last.no_newline_at_end = true;
                }
                let old_lines = lines.iter().filter(|l| l.kind != LineKind::Added).count() as u32;
                let new_lines = lines.iter().filter(|l| l.kind != LineKind::Removed).count() as u32;
                let old_start = if old_lines == 0 {
                    old_start - 1
                } else {
                    old_start
                };
                let new_start = if new_lines == 0 {
                    old_start.saturating_sub(1)
                } else if old_lines == 0 {
                    old_start + 1
                } else {
                    old_start
                };
                Hunk {
                    old_start,
                    old_lines,
                    new_start,
                    new_lines,
                    header: header.trim_end().to_string(),
                    lines,
                }
            })
    }

    /// Sorts every run of changed lines so removed lines come first.
    fn canonical_order(lines: &mut [DiffLine]) {
        let mut start = 0;
        while start < lines.len() {
            if lines[start].kind == LineKind::Context {
                start += 1;
                continue;
            }
            let mut end = start;
            while end < lines.len() && lines[end].kind != LineKind::Context {
                end += 1;
            }
            lines[start..end].sort_by_key(|l| l.kind != LineKind::Removed);
            start = end;
        }
    }

    fn path() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-z]{1,6}(/[a-z]{1,6}){0,2}(\\.rs)?",
            1 => "[a-z]{1,4} [a-z]{1,4}",
            1 => "d\u{e9}j\u{e0}/[a-z\"\\\\\\t]{1,5}",
        ]
    }

    fn mode() -> impl Strategy<Value = u32> {
        prop_oneof![Just(0o100644), Just(0o100755), Just(0o120000)]
    }

    /// A file's patch whose fields agree with its status.
    pub(crate) fn file_patch() -> impl Strategy<Value = FilePatch> {
        (
            0u8..5,
            path(),
            path(),
            mode(),
            mode(),
            any::<bool>(),
            any::<bool>(),
            1u8..=100,
            proptest::collection::vec(hunk(), 0..4),
        )
            .prop_map(
                |(status, old, new, old_mode, new_mode, mode_change, binary, sim, hunks)| {
                    let hunks = if binary { Vec::new() } else { ordered(hunks) };
                    let (status, old_path, new_path, old_mode, new_mode, similarity) = match status
                    {
                        0 => (
                            FileStatus::Added,
                            None,
                            Some(new),
                            None,
                            Some(new_mode),
                            None,
                        ),
                        1 => (
                            FileStatus::Deleted,
                            Some(old),
                            None,
                            Some(old_mode),
                            None,
                            None,
                        ),
                        2 => (
                            FileStatus::Modified,
                            Some(new.clone()),
                            Some(new),
                            mode_change.then_some(old_mode),
                            mode_change.then_some(new_mode),
                            None,
                        ),
                        3 => (
                            FileStatus::Renamed,
                            Some(old),
                            Some(new),
                            mode_change.then_some(old_mode),
                            mode_change.then_some(new_mode),
                            Some(sim),
                        ),
                        _ => (
                            FileStatus::Copied,
                            Some(old),
                            Some(new),
                            mode_change.then_some(old_mode),
                            mode_change.then_some(new_mode),
                            Some(sim),
                        ),
                    };
                    FilePatch {
                        old_path,
                        new_path,
                        status,
                        old_mode,
                        new_mode,
                        similarity,
                        binary,
                        hunks,
                    }
                },
            )
    }

    /// Hunks moved apart so they follow one another in the file.
    fn ordered(mut hunks: Vec<Hunk>) -> Vec<Hunk> {
        let mut next_free = 1u32;
        let mut delta: i64 = 0;
        for h in &mut hunks {
            let shift = next_free + 1;
            h.old_start += shift;
            h.new_start = (i64::from(h.new_start) + i64::from(shift) + delta) as u32;
            next_free = h.old_start + h.old_lines + 1;
            delta += i64::from(h.new_lines) - i64::from(h.old_lines);
        }
        hunks
    }

    pub(crate) fn patch() -> impl Strategy<Value = Patch> {
        proptest::collection::vec(file_patch(), 0..4).prop_map(|files| Patch { files })
    }
}
