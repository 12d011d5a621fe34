//! Workspace paths: relative, `/`-separated and confined to the workspace.
//!
//! Every path that enters the store (from a directory walk, a ZIP entry or a
//! user) goes through [`WorkspacePath::parse`]. Backslashes count as
//! separators, so `..\..\x` is caught like `../../x`.

use std::fmt;

/// The longest file or folder name ext4, XFS, APFS and NTFS all take, in bytes.
pub const MAX_NAME_BYTES: usize = 255;
/// The longest path Linux takes (`PATH_MAX`), in bytes.
pub const MAX_PATH_BYTES: usize = 4096;

/// A path that cannot leave its workspace: no empty, `.` or `..` components,
/// not absolute, no drive letter, no NUL or control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkspacePath(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("is empty")]
    Empty,
    #[error("contains a NUL byte")]
    Nul,
    #[error("contains a control character")]
    Control,
    #[error("is absolute")]
    Absolute,
    #[error("starts with a drive letter")]
    DriveLetter,
    #[error("climbs out of the workspace with `..`")]
    ParentDir,
    #[error("is not valid UTF-8")]
    NotUtf8,
}

impl WorkspacePath {
    pub fn parse(raw: &str) -> Result<WorkspacePath, PathError> {
        if raw.contains('\0') {
            return Err(PathError::Nul);
        }
        if raw.chars().any(|c| c.is_control()) {
            return Err(PathError::Control);
        }
        let unified = raw.replace('\\', "/");
        if unified.starts_with('/') {
            return Err(PathError::Absolute);
        }
        let mut parts = Vec::new();
        for part in unified.split('/') {
            match part {
                "" | "." => {}
                ".." => return Err(PathError::ParentDir),
                other => parts.push(other),
            }
        }
        let Some(first) = parts.first() else {
            return Err(PathError::Empty);
        };
        // `C:x`, also behind `./`, is drive-relative on Windows.
        let first = first.as_bytes();
        if first.len() >= 2 && first[0].is_ascii_alphabetic() && first[1] == b':' {
            return Err(PathError::DriveLetter);
        }
        Ok(WorkspacePath(parts.join("/")))
    }

    /// Parses raw bytes, such as a ZIP entry name.
    pub fn parse_bytes(raw: &[u8]) -> Result<WorkspacePath, PathError> {
        std::str::from_utf8(raw)
            .map_err(|_| PathError::NotUtf8)
            .and_then(WorkspacePath::parse)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether common file systems cannot hold this path: a component over
    /// [`MAX_NAME_BYTES`] or the whole over [`MAX_PATH_BYTES`]. Such a path
    /// is never stored, so an export never fails half-way on it.
    pub fn too_long(&self) -> bool {
        self.0.len() > MAX_PATH_BYTES || self.components().any(|c| c.len() > MAX_NAME_BYTES)
    }

    /// The last component.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// Every component, outermost first.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// Every proper ancestor directory, outermost first (`a`, `a/b` for `a/b/c`).
    pub fn ancestors(&self) -> impl Iterator<Item = &str> {
        self.0.match_indices('/').map(move |(i, _)| &self.0[..i])
    }
}

impl fmt::Display for WorkspacePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normal_paths_are_kept_and_tidied() {
        assert_eq!(
            WorkspacePath::parse("app/page.tsx").unwrap().as_str(),
            "app/page.tsx"
        );
        assert_eq!(
            WorkspacePath::parse("./app//x/./y.ts").unwrap().as_str(),
            "app/x/y.ts"
        );
        assert_eq!(
            WorkspacePath::parse("win\\style\\a.ts").unwrap().as_str(),
            "win/style/a.ts"
        );
        assert_eq!(
            WorkspacePath::parse(".env.example").unwrap().file_name(),
            ".env.example"
        );
        let p = WorkspacePath::parse("a/b/c.txt").unwrap();
        assert_eq!(p.ancestors().collect::<Vec<_>>(), vec!["a", "a/b"]);
    }

    #[test]
    fn escaping_paths_are_refused() {
        use PathError::*;
        for (raw, err) in [
            ("", Empty),
            ("./", Empty),
            ("/etc/passwd", Absolute),
            ("\\\\server\\share\\x", Absolute),
            ("C:/Windows/x", DriveLetter),
            ("c:evil", DriveLetter),
            ("../x", ParentDir),
            ("a/../../x", ParentDir),
            ("a\\..\\..\\x", ParentDir),
            ("a/\0b", Nul),
            ("a/\x1b[31mb", Control),
        ] {
            assert_eq!(WorkspacePath::parse(raw), Err(err), "{raw:?}");
        }
        assert_eq!(WorkspacePath::parse_bytes(b"a/\xff"), Err(NotUtf8));
    }

    #[test]
    fn names_and_paths_too_long_for_file_systems_are_told() {
        let long_name = "n".repeat(MAX_NAME_BYTES + 1);
        assert!(
            WorkspacePath::parse(&format!("a/{long_name}"))
                .unwrap()
                .too_long()
        );
        let ok_name = "n".repeat(MAX_NAME_BYTES);
        assert!(
            !WorkspacePath::parse(&format!("a/{ok_name}"))
                .unwrap()
                .too_long()
        );
        let deep = vec!["d".repeat(200); 21].join("/");
        assert!(WorkspacePath::parse(&deep).unwrap().too_long());
    }

    proptest! {
        #[test]
        fn parsed_paths_never_escape(raw in "[a-z./\\\\:\\x00-\\x02]{0,24}") {
            if let Ok(p) = WorkspacePath::parse(&raw) {
                let s = p.as_str();
                prop_assert!(!s.starts_with('/'));
                prop_assert!(!s.contains('\\'));
                prop_assert!(!s.contains('\0'));
                prop_assert!(s.split('/').all(|c| !c.is_empty() && c != "." && c != ".."));
                // Parsing is idempotent.
                prop_assert_eq!(WorkspacePath::parse(s), Ok(p.clone()));
            }
        }
    }
}
