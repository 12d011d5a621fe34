//! Writes a file's patch as a unified diff in git's format, the text that
//! `git apply --cached` and libgit2's `git_apply` take.
//!
//! libgit2 reads extended headers in a fixed order (modes, then
//! similarity and rename, then `index`, then `---`/`+++`) and wants an
//! `index` line between a mode change or rename and the `---` line; blob
//! ids are not kept in the model, so that line carries zeros, which
//! neither libgit2 nor git check when applying text.

use std::fmt::Write as _;

use super::{FilePatch, FileStatus, Hunk, Patch};

const NO_ID: &str = "index 0000000..0000000";

impl Patch {
    /// The whole patch as text: each file's patch in turn.
    pub(crate) fn to_unified(&self) -> String {
        self.files.iter().map(FilePatch::to_unified).collect()
    }
}

impl FilePatch {
    /// This file's patch as text. To write a subset of hunks, take
    /// [`FilePatch::with_hunks`] first so the line numbers agree.
    pub(crate) fn to_unified(&self) -> String {
        let old = self.old_path.as_deref().unwrap_or_else(|| self.path());
        let new = self.new_path.as_deref().unwrap_or_else(|| self.path());
        let mut out = String::new();
        // Unquoted, a name with a space makes this line ambiguous: libgit2
        // (1.9) misreads it, and its diff stats of a deleted file's patch
        // then crash. Quoted, git and libgit2 both read it; rename lines
        // likewise.
        let _ = writeln!(
            out,
            "diff --git {} {}",
            quote_header_path("a/", old),
            quote_header_path("b/", new)
        );
        // After these, libgit2 wants an `index` line before `---`.
        let mut needs_index = false;
        match self.status {
            FileStatus::Added => {
                if let Some(mode) = self.new_mode {
                    let _ = writeln!(out, "new file mode {mode:06o}");
                }
            }
            FileStatus::Deleted => {
                if let Some(mode) = self.old_mode {
                    let _ = writeln!(out, "deleted file mode {mode:06o}");
                }
            }
            FileStatus::Modified | FileStatus::Renamed | FileStatus::Copied => {
                if let (Some(old_mode), Some(new_mode)) = (self.old_mode, self.new_mode) {
                    let _ = writeln!(out, "old mode {old_mode:06o}\nnew mode {new_mode:06o}");
                    needs_index = true;
                }
            }
        }
        if let FileStatus::Renamed | FileStatus::Copied = self.status {
            let verb = if self.status == FileStatus::Renamed {
                "rename"
            } else {
                "copy"
            };
            let _ = writeln!(
                out,
                "similarity index {}%\n{verb} from {}\n{verb} to {}",
                self.similarity.unwrap_or(100),
                quote_header_path("", old),
                quote_header_path("", new)
            );
            needs_index = true;
        }
        let old_label = match self.old_path.as_deref() {
            Some(path) if self.status != FileStatus::Added => quote_path("a/", path),
            _ => "/dev/null".to_string(),
        };
        let new_label = match self.new_path.as_deref() {
            Some(path) if self.status != FileStatus::Deleted => quote_path("b/", path),
            _ => "/dev/null".to_string(),
        };
        if self.binary {
            let _ = writeln!(
                out,
                "{NO_ID}\nBinary files {old_label} and {new_label} differ"
            );
            return out;
        }
        // An empty added or deleted file still gets its `---`/`+++` lines:
        // libgit2 refuses a patch that ends after `new file mode`.
        let creates_or_deletes = matches!(self.status, FileStatus::Added | FileStatus::Deleted);
        if self.hunks.is_empty() && !creates_or_deletes {
            return out;
        }
        if needs_index {
            let _ = writeln!(out, "{NO_ID}");
        }
        let _ = writeln!(
            out,
            "--- {old_label}{}\n+++ {new_label}{}",
            tab_after(&old_label),
            tab_after(&new_label)
        );
        for hunk in &self.hunks {
            hunk.write_unified(&mut out);
        }
        out
    }
}

impl Hunk {
    /// The `@@ -a,b +c,d @@ header` line, counts of 1 left out as git does.
    pub(crate) fn header_line(&self) -> String {
        let range = |start: u32, lines: u32| {
            if lines == 1 {
                start.to_string()
            } else {
                format!("{start},{lines}")
            }
        };
        let mut line = format!(
            "@@ -{} +{} @@",
            range(self.old_start, self.old_lines),
            range(self.new_start, self.new_lines)
        );
        if !self.header.is_empty() {
            line.push(' ');
            line.push_str(&self.header);
        }
        line
    }

    pub(crate) fn write_unified(&self, out: &mut String) {
        out.push_str(&self.header_line());
        out.push('\n');
        for line in &self.lines {
            out.push(line.kind.prefix());
            out.push_str(line.text());
            out.push('\n');
            if line.no_newline_at_end {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
}

/// Git ends a `---`/`+++` name that holds a space with a tab, so that
/// tools reading a timestamp after the name know where it ends.
fn tab_after(label: &str) -> &'static str {
    if label.contains(' ') && !label.starts_with('"') {
        "\t"
    } else {
        ""
    }
}

/// Like [`quote_path`], and quoted also when the path holds a space,
/// which libgit2 reads as the end of a header path.
fn quote_header_path(prefix: &str, path: &str) -> String {
    let quoted = quote_path(prefix, path);
    if path.contains(' ') && !quoted.starts_with('"') {
        format!("\"{quoted}\"")
    } else {
        quoted
    }
}

/// `prefix` + `path`, C-quoted as git does when the path holds a quote, a
/// backslash or a control character, or ends in whitespace (which libgit2
/// would trim). Non-ASCII stays as it is (`core.quotepath=false`).
fn quote_path(prefix: &str, path: &str) -> String {
    let needs_quotes = path
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_control())
        || path.ends_with([' ', '\t'])
        || path.starts_with(' ');
    if !needs_quotes {
        return format!("{prefix}{path}");
    }
    let mut out = String::from("\"");
    out.push_str(prefix);
    for c in path.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{byte:03o}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::strategies;
    use super::*;
    use crate::patch::parse;

    proptest! {
        #[test]
        fn parse_reads_back_what_to_unified_writes(patch in strategies::patch()) {
            let text = patch.to_unified();
            let parsed = parse(text.as_bytes()).map_err(|e| {
                TestCaseError::fail(format!("{e}\n{text}"))
            })?;
            prop_assert_eq!(parsed, patch, "{}", text);
        }

        #[test]
        fn with_all_its_hunks_a_file_patch_is_unchanged(file in strategies::file_patch()) {
            prop_assert_eq!(file.with_hunks(file.hunks.clone()), file);
        }
    }

    proptest! {
        #[test]
        fn libgit2_reads_every_written_file_patch(file in strategies::file_patch()) {
            // A binary patch without its data is for display, never
            // applied (libgit2 also misreads its quoted names).
            let file = FilePatch { binary: false, ..file };
            // A modification without hunks or a mode change is no patch.
            prop_assume!(
                file.status != FileStatus::Modified
                    || !file.hunks.is_empty()
                    || file.old_mode != file.new_mode
            );
            let text = file.to_unified();
            let diff = git2::Diff::from_buffer(text.as_bytes())
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(diff.deltas().len(), 1, "{}", text);
            let stats = diff.stats().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let (added, removed) = file.line_counts();
            prop_assert_eq!((stats.insertions(), stats.deletions()), (added, removed), "{}", text);
        }
    }

    #[test]
    fn single_hunk_of_a_file_gets_its_new_start_rebased() {
        let text = "--- a/x\n+++ b/x\n@@ -1,2 +1,3 @@\n a\n+b\n c\n@@ -10,2 +11,2 @@\n d\n-e\n+f\n";
        let file = &parse(text.as_bytes()).unwrap().files[0];
        let second = file.with_hunks([file.hunks[1].clone()]);
        assert_eq!(second.hunks[0].header_line(), "@@ -10,2 +10,2 @@");
        assert_eq!(
            second.to_unified(),
            "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -10,2 +10,2 @@\n d\n-e\n+f\n"
        );
    }

    #[test]
    fn names_with_quotes_or_trailing_space_are_quoted() {
        assert_eq!(quote_path("a/", "x\"y"), "\"a/x\\\"y\"");
        assert_eq!(quote_path("b/", "end "), "\"b/end \"");
        assert_eq!(quote_path("a/", "d\u{e9}j\u{e0} vu"), "a/d\u{e9}j\u{e0} vu");
        assert_eq!(quote_path("", "bell\u{7}"), "\"bell\\007\"");
    }
}
