//! Reads unified diffs: `git diff` output (`diff --git` headers, file
//! modes, renames and copies, `\ No newline at end of file`, binary files)
//! and plain `---`/`+++` diffs such as models write.
//!
//! Lines before the first file (a commit message, a mail header) are
//! skipped. Hunk line counts decide where a hunk ends, as in `git apply`,
//! so a removed line that reads `-- x` is never mistaken for a header.
//! Paths lose git's `a/` and `b/` prefixes; the git module always asks git
//! for those prefixes, whatever `diff.noprefix` says.

use std::sync::Arc;

use super::{DiffLine, FilePatch, FileStatus, Hunk, LineKind, Patch, PatchError};

/// Input from which a git diff is parsed in two halves on two threads.
const PARALLEL_BYTES: usize = 1 << 20;

/// Parses a whole diff. Bytes, not `&str`, because git prints file
/// content as it is; a hunk line that is not UTF-8 is an error naming the
/// file.
///
/// A big git diff is cut where a file starts (a `diff --git` line, which
/// no hunk or binary line can be) near its middle, and the halves parsed
/// at once; a failure in either is named after parsing it whole, by its
/// line in the whole input.
pub(crate) fn parse(input: &[u8]) -> Result<Patch, PatchError> {
    // One copy of the diff, which every hunk line points into, when it
    // is UTF-8 throughout; otherwise each line is checked and copied.
    let shared = std::str::from_utf8(input)
        .ok()
        .map(|text| Arc::new(text.to_string()));
    parse_from(input, shared.as_ref())
}

/// [`parse`] of a text the caller shares: the hunk lines point into it,
/// no copy made.
pub(crate) fn parse_shared(text: &Arc<String>) -> Result<Patch, PatchError> {
    parse_from(text.as_bytes(), Some(text))
}

/// [`parse`] of `input`, whose hunk lines point into `shared` (the same
/// bytes) when there is one.
fn parse_from(input: &[u8], shared: Option<&Arc<String>>) -> Result<Patch, PatchError> {
    let source = Source { input, shared };
    if input.len() >= PARALLEL_BYTES
        && let Some(at) = file_start_from(input, input.len() / 2)
    {
        let (front, back) = input.split_at(at);
        let (first, second) = crate::parallel::join(
            || parse_whole(front, &source),
            || parse_whole(back, &source),
        );
        if let (Ok(mut first), Ok(second)) = (first, second) {
            first.files.extend(second.files);
            return Ok(first);
        }
    }
    parse_whole(input, &source)
}

/// The whole input of [`parse`], and its copy the lines point into.
struct Source<'a> {
    input: &'a [u8],
    shared: Option<&'a Arc<String>>,
}

impl Source<'_> {
    /// The hunk line `body` (a slice of the input, line `line`).
    fn line(
        &self,
        kind: LineKind,
        body: &[u8],
        line: usize,
        path: &str,
    ) -> Result<DiffLine, PatchError> {
        let start = (body.as_ptr() as usize).wrapping_sub(self.input.as_ptr() as usize);
        let shared = self
            .shared
            .filter(|_| start <= self.input.len())
            .and_then(|buffer| DiffLine::shared(kind, buffer, start..start + body.len()));
        match shared {
            Some(line) => Ok(line),
            None => Ok(DiffLine::new(kind, text(body, line, path)?)),
        }
    }
}

/// Where the first `diff --git` line at or after `from` starts.
fn file_start_from(input: &[u8], from: usize) -> Option<usize> {
    const MARK: &[u8] = b"\ndiff --git ";
    memchr::memmem::find(input.get(from..)?, MARK).map(|at| from + at + 1)
}

/// [`parse`] on one thread, of `input`, all or part of `source`'s.
fn parse_whole(input: &[u8], source: &Source<'_>) -> Result<Patch, PatchError> {
    let lines = split_lines(input);
    let mut files = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with(b"diff --git ") {
            files.push(git_file(&lines, &mut i, source)?);
        } else if is_plain_start(&lines, i) {
            files.push(plain_file(&lines, &mut i, source)?);
        } else {
            i += 1;
        }
    }
    Ok(Patch { files })
}

/// The lines of `input` without their `\n`; a final line without one is
/// kept.
fn split_lines(input: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', input).count() + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', input) {
        lines.push(&input[start..end]);
        start = end + 1;
    }
    if start < input.len() {
        lines.push(&input[start..]);
    }
    lines
}

fn is_plain_start(lines: &[&[u8]], i: usize) -> bool {
    lines[i].starts_with(b"--- ")
        && lines.get(i + 1).is_some_and(|l| l.starts_with(b"+++ "))
        && lines.get(i + 2).is_some_and(|l| l.starts_with(b"@@ "))
}

/// What the extended header lines of one file said.
#[derive(Default)]
struct Header {
    git_old: Option<String>,
    git_new: Option<String>,
    minus: Option<Option<String>>,
    plus: Option<Option<String>>,
    rename_from: Option<String>,
    rename_to: Option<String>,
    copy_from: Option<String>,
    copy_to: Option<String>,
    old_mode: Option<u32>,
    new_mode: Option<u32>,
    new_file: bool,
    deleted_file: bool,
    similarity: Option<u8>,
    binary: bool,
    binary_old_null: bool,
    binary_new_null: bool,
}

fn git_file(lines: &[&[u8]], i: &mut usize, source: &Source<'_>) -> Result<FilePatch, PatchError> {
    let start = *i;
    let first = text(lines[start], start, "")?;
    let mut header = Header::default();
    if let Some((old, new)) = git_header_paths(&first["diff --git ".len()..]) {
        header.git_old = Some(old);
        header.git_new = Some(new);
    }
    *i += 1;
    while *i < lines.len() {
        let raw = lines[*i];
        if raw.starts_with(b"diff --git ") || raw.starts_with(b"@@ ") {
            break;
        }
        if raw.starts_with(b"--- ") && lines.get(*i + 1).is_some_and(|l| l.starts_with(b"+++ ")) {
            let minus = text(raw, *i, "")?;
            let plus = text(lines[*i + 1], *i + 1, "")?;
            header.minus = Some(field_path(&minus[4..], *i)?);
            header.plus = Some(field_path(&plus[4..], *i + 1)?);
            *i += 2;
            break;
        }
        if raw.starts_with(b"GIT binary patch") {
            header.binary = true;
            // The literal or delta data runs until the next file.
            while *i < lines.len() && !lines[*i].starts_with(b"diff --git ") {
                *i += 1;
            }
            break;
        }
        let Ok(line) = std::str::from_utf8(raw) else {
            break;
        };
        if !extended_line(line, *i, &mut header)? {
            break;
        }
        *i += 1;
    }
    let mut hunks = Vec::new();
    let path_hint = header
        .plus
        .clone()
        .flatten()
        .or(header.git_new.clone())
        .unwrap_or_default();
    while *i < lines.len() && lines[*i].starts_with(b"@@ ") {
        hunks.push(hunk(lines, i, &path_hint, source)?);
        reject_extra_hunk_lines(lines, *i)?;
    }
    finish(header, hunks, start)
}

/// Applies one extended header line; false when `line` is not one.
fn extended_line(line: &str, n: usize, h: &mut Header) -> Result<bool, PatchError> {
    let mode = |value: &str| {
        u32::from_str_radix(value.trim(), 8).map_err(|_| PatchError::Malformed {
            line: n + 1,
            what: format!("{value:?} is not a file mode"),
        })
    };
    if let Some(v) = line.strip_prefix("old mode ") {
        h.old_mode = Some(mode(v)?);
    } else if let Some(v) = line.strip_prefix("new mode ") {
        h.new_mode = Some(mode(v)?);
    } else if let Some(v) = line.strip_prefix("deleted file mode ") {
        h.deleted_file = true;
        h.old_mode = Some(mode(v)?);
    } else if let Some(v) = line.strip_prefix("new file mode ") {
        h.new_file = true;
        h.new_mode = Some(mode(v)?);
    } else if let Some(v) = line.strip_prefix("rename from ") {
        h.rename_from = Some(header_path(v, n)?);
    } else if let Some(v) = line.strip_prefix("rename to ") {
        h.rename_to = Some(header_path(v, n)?);
    } else if let Some(v) = line.strip_prefix("copy from ") {
        h.copy_from = Some(header_path(v, n)?);
    } else if let Some(v) = line.strip_prefix("copy to ") {
        h.copy_to = Some(header_path(v, n)?);
    } else if let Some(v) = line.strip_prefix("similarity index ") {
        h.similarity = v.trim().trim_end_matches('%').parse().ok();
    } else if line.starts_with("dissimilarity index ") || line.starts_with("index ") {
        // Blob ids are not kept: applying text needs only the lines.
    } else if let Some(rest) = line.strip_prefix("Binary files ") {
        h.binary = true;
        h.binary_old_null = rest.starts_with("/dev/null ");
        h.binary_new_null = rest.ends_with(" /dev/null differ");
    } else {
        return Ok(false);
    }
    Ok(true)
}

fn finish(h: Header, hunks: Vec<Hunk>, start: usize) -> Result<FilePatch, PatchError> {
    let minus = h.minus.clone();
    let plus = h.plus.clone();
    let added = h.new_file
        || matches!(minus, Some(None))
        || (h.binary && h.binary_old_null && !h.deleted_file);
    let deleted = h.deleted_file || matches!(plus, Some(None)) || (h.binary && h.binary_new_null);
    let status = if added {
        FileStatus::Added
    } else if deleted {
        FileStatus::Deleted
    } else if h.rename_from.is_some() || h.rename_to.is_some() {
        FileStatus::Renamed
    } else if h.copy_from.is_some() || h.copy_to.is_some() {
        FileStatus::Copied
    } else {
        FileStatus::Modified
    };
    let old_path = h
        .rename_from
        .or(h.copy_from)
        .or(minus.flatten())
        .or(h.git_old);
    let new_path = h.rename_to.or(h.copy_to).or(plus.flatten()).or(h.git_new);
    let missing = |side: &str| PatchError::Malformed {
        line: start + 1,
        what: format!("cannot tell the {side} path of this file"),
    };
    let (old_path, new_path, old_mode, new_mode) = match status {
        FileStatus::Added => (
            None,
            Some(new_path.or(old_path).ok_or_else(|| missing("new"))?),
            None,
            // A plain diff names no mode; git's default for a new file.
            Some(h.new_mode.unwrap_or(0o100644)),
        ),
        FileStatus::Deleted => (
            Some(old_path.or(new_path).ok_or_else(|| missing("old"))?),
            None,
            Some(h.old_mode.unwrap_or(0o100644)),
            None,
        ),
        _ => {
            let old = old_path
                .or(new_path.clone())
                .ok_or_else(|| missing("old"))?;
            let new = new_path.unwrap_or_else(|| old.clone());
            (Some(old), Some(new), h.old_mode, h.new_mode)
        }
    };
    let similarity = match status {
        FileStatus::Renamed | FileStatus::Copied => Some(h.similarity.unwrap_or(100)),
        _ => None,
    };
    Ok(FilePatch {
        old_path,
        new_path,
        status,
        old_mode,
        new_mode,
        similarity,
        binary: h.binary,
        hunks,
    })
}

fn plain_file(
    lines: &[&[u8]],
    i: &mut usize,
    source: &Source<'_>,
) -> Result<FilePatch, PatchError> {
    let start = *i;
    let minus = text(lines[*i], *i, "")?;
    let plus = text(lines[*i + 1], *i + 1, "")?;
    let header = Header {
        minus: Some(field_path(&minus[4..], *i)?),
        plus: Some(field_path(&plus[4..], *i + 1)?),
        ..Header::default()
    };
    *i += 2;
    let path_hint = header.plus.clone().flatten().unwrap_or_default();
    let mut hunks = Vec::new();
    while *i < lines.len() && lines[*i].starts_with(b"@@ ") {
        hunks.push(hunk(lines, i, &path_hint, source)?);
        reject_extra_hunk_lines(lines, *i)?;
    }
    finish(header, hunks, start)
}

/// A hunk header and its lines; leaves `i` on the line after the hunk.
fn hunk(
    lines: &[&[u8]],
    i: &mut usize,
    path: &str,
    source: &Source<'_>,
) -> Result<Hunk, PatchError> {
    let n = *i;
    let header_line = text(lines[n], n, path)?;
    let malformed = |what: String| PatchError::Malformed { line: n + 1, what };
    let rest = &header_line[3..];
    let (ranges, after) = rest
        .split_once(" @@")
        .ok_or_else(|| malformed(format!("{header_line:?} is not a hunk header")))?;
    let (old, new) = ranges
        .split_once(' ')
        .ok_or_else(|| malformed(format!("{header_line:?} is not a hunk header")))?;
    let (old_start, old_lines) =
        range(old, '-').ok_or_else(|| malformed(format!("{old:?} is not a line range")))?;
    let (new_start, new_lines) =
        range(new, '+').ok_or_else(|| malformed(format!("{new:?} is not a line range")))?;
    let header = after.strip_prefix(' ').unwrap_or(after).to_string();
    *i += 1;
    // Context lines count on both sides: the sum is an upper bound.
    let mut out = Vec::with_capacity(old_lines.saturating_add(new_lines).min(1 << 16) as usize);
    let (mut old_left, mut new_left) = (old_lines, new_lines);
    while old_left > 0 || new_left > 0 {
        let Some(&raw) = lines.get(*i) else {
            return Err(PatchError::Malformed {
                line: *i + 1,
                what: format!(
                    "the hunk at line {} ends early (the diff is cut short)",
                    n + 1
                ),
            });
        };
        let (kind, body) = match raw.first() {
            Some(b' ') => (LineKind::Context, &raw[1..]),
            Some(b'+') => (LineKind::Added, &raw[1..]),
            Some(b'-') => (LineKind::Removed, &raw[1..]),
            // Some tools strip the space of an empty context line.
            None => (LineKind::Context, raw),
            Some(b'\\') if !out.is_empty() => {
                mark_no_newline(&mut out);
                *i += 1;
                continue;
            }
            Some(_) => {
                return Err(PatchError::Malformed {
                    line: *i + 1,
                    what: format!(
                        "the hunk at line {} has fewer lines than its header counts",
                        n + 1
                    ),
                });
            }
        };
        let left = match kind {
            LineKind::Context => old_left.min(new_left),
            LineKind::Added => new_left,
            LineKind::Removed => old_left,
        };
        if left == 0 {
            return Err(PatchError::Malformed {
                line: *i + 1,
                what: format!(
                    "the hunk at line {} has more lines than its header counts",
                    n + 1
                ),
            });
        }
        match kind {
            LineKind::Context => {
                old_left -= 1;
                new_left -= 1;
            }
            LineKind::Added => new_left -= 1,
            LineKind::Removed => old_left -= 1,
        }
        out.push(source.line(kind, body, *i, path)?);
        *i += 1;
    }
    if lines.get(*i).is_some_and(|l| l.starts_with(b"\\")) {
        mark_no_newline(&mut out);
        *i += 1;
    }
    Ok(Hunk {
        old_start,
        old_lines,
        new_start,
        new_lines,
        header,
        lines: out,
    })
}

fn mark_no_newline(lines: &mut [DiffLine]) {
    if let Some(last) = lines.last_mut() {
        last.no_newline_at_end = true;
    }
}

/// After a hunk comes another hunk, another file, or text that is not
/// part of the diff; a `+` or ` ` line means the counts were wrong.
fn reject_extra_hunk_lines(lines: &[&[u8]], i: usize) -> Result<(), PatchError> {
    match lines.get(i) {
        Some(l) if l.starts_with(b"+") || l.starts_with(b" ") => Err(PatchError::Malformed {
            line: i + 1,
            what: "a hunk has more lines than its header counts".into(),
        }),
        _ => Ok(()),
    }
}

/// `-12,3` → (12, 3); a missing count is 1.
fn range(text: &str, sign: char) -> Option<(u32, u32)> {
    let text = text.strip_prefix(sign)?;
    match text.split_once(',') {
        Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
        None => Some((text.parse().ok()?, 1)),
    }
}

fn text(raw: &[u8], line: usize, path: &str) -> Result<String, PatchError> {
    String::from_utf8(raw.to_vec()).map_err(|_| PatchError::NotUtf8 {
        line: line + 1,
        path: path.to_string(),
    })
}

/// The path of a `---`/`+++` line: `None` for `/dev/null`, git's prefix
/// removed, a timestamp after a tab dropped.
fn field_path(value: &str, line: usize) -> Result<Option<String>, PatchError> {
    let path = if value.starts_with('"') {
        let (path, _) = unquote(value).ok_or_else(|| PatchError::Malformed {
            line: line + 1,
            what: format!("{value:?} is not a quoted path"),
        })?;
        path
    } else {
        value.split('\t').next().unwrap_or(value).to_string()
    };
    if path == "/dev/null" {
        return Ok(None);
    }
    Ok(Some(strip_prefix(&path).to_string()))
}

/// The path of a `rename from`/`copy to` line: quoted or not, no prefix.
fn header_path(value: &str, line: usize) -> Result<String, PatchError> {
    if value.starts_with('"') {
        unquote(value)
            .map(|(p, _)| p)
            .ok_or_else(|| PatchError::Malformed {
                line: line + 1,
                what: format!("{value:?} is not a quoted path"),
            })
    } else {
        Ok(value.to_string())
    }
}

fn strip_prefix(path: &str) -> &str {
    path.strip_prefix("a/")
        .or_else(|| path.strip_prefix("b/"))
        .unwrap_or(path)
}

/// The two paths of `diff --git a/x b/y`. Unquoted names with spaces are
/// ambiguous; like git, prefer the split where both names are equal. The
/// `---`/`+++` and rename lines win over these when present.
fn git_header_paths(rest: &str) -> Option<(String, String)> {
    if rest.starts_with('"') {
        let (old, used) = unquote(rest)?;
        let tail = rest[used..].trim_start();
        let new = if tail.starts_with('"') {
            unquote(tail)?.0
        } else {
            tail.to_string()
        };
        return Some((strip_prefix(&old).into(), strip_prefix(&new).into()));
    }
    if let Some(quote) = rest.find(" \"") {
        let new = unquote(&rest[quote + 1..])?.0;
        return Some((
            strip_prefix(&rest[..quote]).into(),
            strip_prefix(&new).into(),
        ));
    }
    let splits: Vec<usize> = rest.match_indices(" b/").map(|(at, _)| at).collect();
    let pick = splits
        .iter()
        .copied()
        .find(|&at| strip_prefix(&rest[..at]) == strip_prefix(&rest[at + 1..]))
        .or_else(|| splits.first().copied())
        .or_else(|| rest.find(' '))?;
    Some((
        strip_prefix(&rest[..pick]).into(),
        strip_prefix(&rest[pick + 1..]).into(),
    ))
}

/// Reads a C-quoted string as git writes it (`"a\tb\303\251"`); returns
/// the text and how many bytes of `quoted` it used.
pub(crate) fn unquote(quoted: &str) -> Option<(String, usize)> {
    let bytes = quoted.as_bytes();
    if bytes.first() != Some(&b'"') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return String::from_utf8(out).ok().map(|s| (s, i + 1)),
            b'\\' => {
                let c = *bytes.get(i + 1)?;
                i += 2;
                out.push(match c {
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'v' => 0x0b,
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'0'..=b'3' => {
                        let digits = bytes.get(i..i + 2)?;
                        if !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                            return None;
                        }
                        i += 2;
                        (c - b'0') * 64 + (digits[0] - b'0') * 8 + (digits[1] - b'0')
                    }
                    _ => return None,
                });
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODIFIED: &str = "diff --git a/src/main.rs b/src/main.rs
index 3b18e51..a8f2c3d 100644
--- a/src/main.rs
+++ b/src/main.rs
@@ -1,4 +1,5 @@ fn main() {
 fn main() {
-    println!(\"hi\");
+    println!(\"hello\");
+    println!(\"world\");
 }
 
@@ -10 +11,0 @@ mod tests
-// gone
";

    #[test]
    fn modified_file_with_two_hunks_is_read_with_counts_and_headers() {
        let patch = parse(MODIFIED.as_bytes()).unwrap();
        assert_eq!(patch.files.len(), 1);
        let file = &patch.files[0];
        assert_eq!(file.status, FileStatus::Modified);
        assert_eq!(file.old_path.as_deref(), Some("src/main.rs"));
        assert_eq!(file.new_path.as_deref(), Some("src/main.rs"));
        assert_eq!(file.hunks.len(), 2);
        let h = &file.hunks[0];
        assert_eq!(
            (h.old_start, h.old_lines, h.new_start, h.new_lines),
            (1, 4, 1, 5)
        );
        assert_eq!(h.header, "fn main() {");
        assert_eq!(h.lines[1].kind, LineKind::Removed);
        assert_eq!(h.lines[5].text(), "");
        let h = &file.hunks[1];
        assert_eq!(
            (h.old_start, h.old_lines, h.new_start, h.new_lines),
            (10, 1, 11, 0)
        );
    }

    #[test]
    fn added_deleted_renamed_and_binary_files_get_their_status() {
        let text = "diff --git a/new file.txt b/new file.txt
new file mode 100755
index 0000000..e69de29
--- /dev/null
+++ b/new file.txt\t
@@ -0,0 +1 @@
+x
\\ No newline at end of file
diff --git a/old.txt b/old.txt
deleted file mode 100644
index e69de29..0000000
diff --git a/a.rs b/b.rs
similarity index 90%
rename from a.rs
rename to b.rs
index 1111111..2222222 100644
--- a/a.rs
+++ b/b.rs
@@ -1 +1 @@
-a
+b
diff --git a/logo.png b/logo.png
index 1111111..2222222 100644
Binary files a/logo.png and b/logo.png differ
diff --git a/blob.bin b/blob.bin
new file mode 100644
index 0000000..2222222
GIT binary patch
literal 3
KcmZ>Y%Kre#00I90

literal 0
HcmV?d00001

diff --git \"a/tab\\there\" \"b/tab\\there\"
old mode 100644
new mode 100755
";
        let patch = parse(text.as_bytes()).unwrap();
        let got: Vec<_> = patch
            .files
            .iter()
            .map(|f| (f.status, f.path().to_string(), f.binary, f.hunks.len()))
            .collect();
        assert_eq!(
            got,
            vec![
                (FileStatus::Added, "new file.txt".into(), false, 1),
                (FileStatus::Deleted, "old.txt".into(), false, 0),
                (FileStatus::Renamed, "b.rs".into(), false, 1),
                (FileStatus::Modified, "logo.png".into(), true, 0),
                (FileStatus::Added, "blob.bin".into(), true, 0),
                (FileStatus::Modified, "tab\there".into(), false, 0),
            ]
        );
        assert!(patch.files[0].hunks[0].lines[0].no_newline_at_end);
        assert_eq!(patch.files[0].new_mode, Some(0o100755));
        assert_eq!(patch.files[2].old_path.as_deref(), Some("a.rs"));
        assert_eq!(patch.files[2].similarity, Some(90));
        assert_eq!(
            (patch.files[5].old_mode, patch.files[5].new_mode),
            (Some(0o100644), Some(0o100755))
        );
    }

    #[test]
    fn removed_line_that_looks_like_a_header_stays_in_its_hunk() {
        let text = "--- a/x\n+++ b/x\n@@ -1,2 +0,0 @@\n--- a/y\n-+++ b/y\n";
        let patch = parse(text.as_bytes()).unwrap();
        let lines: Vec<_> = patch.files[0].hunks[0]
            .lines
            .iter()
            .map(|l| l.text())
            .collect();
        assert_eq!(lines, ["-- a/y", "+++ b/y"]);
    }

    #[test]
    fn plain_diff_without_git_header_is_read() {
        let text = "Here is the change:\n--- src/app.ts\t2024-01-01\n+++ src/app.ts\n@@ -2,2 +2,2 @@\n a\n-b\n+c\n";
        let patch = parse(text.as_bytes()).unwrap();
        assert_eq!(patch.files[0].path(), "src/app.ts");
        assert_eq!(patch.files[0].status, FileStatus::Modified);
    }

    #[test]
    fn truncated_hunk_is_an_error_naming_the_line() {
        let err = parse(b"--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n").unwrap_err();
        assert!(err.to_string().contains("ends early"), "{err}");
        let err = parse(b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n a\n+b\n").unwrap_err();
        assert!(err.to_string().contains("more lines"), "{err}");
    }

    #[test]
    fn latin1_content_is_reported_as_not_utf8() {
        let err = parse(b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-caf\xe9\n+cafe\n").unwrap_err();
        assert!(matches!(err, PatchError::NotUtf8 { line: 4, .. }), "{err}");
    }

    #[test]
    fn bytes_that_are_not_utf8_outside_the_hunks_leave_the_lines_copied_one_by_one() {
        let diff = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-caf\u{e9}\n+cafe\n";
        let clean = parse(diff.as_bytes()).unwrap();
        // A mail's Latin-1 signature after the diff: the hunk is the same.
        let mut mailed = diff.as_bytes().to_vec();
        mailed.extend_from_slice(b"-- \nJos\xe9\n");
        let parsed = parse(&mailed).unwrap();
        assert_eq!(parsed, clean);
        let texts: Vec<&str> = parsed.files[0].hunks[0]
            .lines
            .iter()
            .map(DiffLine::text)
            .collect();
        assert_eq!(texts, ["a", "caf\u{e9}", "cafe"]);
    }

    #[test]
    fn quoted_paths_with_octal_escapes_are_decoded() {
        assert_eq!(
            unquote("\"a/caf\\303\\251\\t\\\"x\\\"\" rest"),
            Some(("a/caf\u{e9}\t\"x\"".to_string(), 22))
        );
        assert_eq!(unquote("\"open"), None);
    }

    /// A git diff of `files` files, over [`PARALLEL_BYTES`] when there
    /// are enough of them.
    fn big_diff(files: usize) -> String {
        (0..files)
            .map(|i| {
                let mut file = format!(
                    "diff --git a/d/f{i}.txt b/d/f{i}.txt\nindex 1..2 100644\n--- a/d/f{i}.txt\n+++ b/d/f{i}.txt\n"
                );
                for h in 0..5 {
                    let at = 1 + h * 12;
                    file.push_str(&format!(
                        "@@ -{at},3 +{at},4 @@\n line {i} {h} a\n-line {i} {h} b\n+line {i} {h} B\n+new {h}\n line {i} {h} c\n"
                    ));
                }
                file
            })
            .collect()
    }

    /// `input` parsed on one thread, its lines copied one by one.
    fn one_by_one(input: &[u8]) -> Result<Patch, PatchError> {
        parse_whole(
            input,
            &Source {
                input,
                shared: None,
            },
        )
    }

    #[test]
    fn a_big_diff_parsed_in_halves_is_the_diff_parsed_whole() {
        let text = big_diff(6_000);
        assert!(text.len() >= PARALLEL_BYTES);
        let cut = file_start_from(text.as_bytes(), text.len() / 2).unwrap();
        assert!(text[cut..].starts_with("diff --git a/d/f"));
        let patch = parse(text.as_bytes()).unwrap();
        assert_eq!(patch, one_by_one(text.as_bytes()).unwrap());
        assert_eq!(patch.files.len(), 6_000);
        assert_eq!(patch.files[5_999].path(), "d/f5999.txt");
        // A failure in the second half is named by its line in the whole.
        let bad = format!("{text}diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n");
        let lines = bad.lines().count();
        let err = parse(bad.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            one_by_one(bad.as_bytes()).unwrap_err().to_string()
        );
        assert!(
            matches!(err, PatchError::Malformed { line, .. } if line == lines + 1),
            "{err:?}"
        );
    }
}
