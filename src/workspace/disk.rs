//! Folder workspaces: files edited in place on disk (`kollega open <dir>`).
//!
//! Every path goes through [`WorkspacePath`] and is checked against the
//! real root after links are resolved, so nothing outside the folder is
//! read or written. A save is atomic: a temporary file beside the target,
//! fsync, rename over it, the old file's mode kept, the folder fsynced.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::path::WorkspacePath;

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("{path:?} is not a usable path: {why}")]
    BadPath { path: String, why: String },
    #[error("{path} leaves the workspace folder through a link")]
    Escapes { path: String },
    #[error("{path} already exists")]
    Exists { path: String },
    #[error("{path} is not valid UTF-8 text; kollega edits text files only")]
    NotText { path: String },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
}

impl DiskError {
    fn io(action: &'static str, path: &WorkspacePath) -> impl FnOnce(std::io::Error) -> DiskError {
        let path = path.to_string();
        move |source| DiskError::Io {
            action,
            path,
            source,
        }
    }
}

fn parse(path: &str) -> Result<WorkspacePath, DiskError> {
    WorkspacePath::parse(path).map_err(|e| DiskError::BadPath {
        path: path.to_string(),
        why: e.to_string(),
    })
}

/// The full paths of many files of one folder, for a step that reads or
/// writes a thousand of them at once: each folder on the way is looked
/// at once, and the file itself not at all. Whoever opens a path from
/// here opens it without following a link (`O_NOFOLLOW`), which refuses
/// a link at the file; the folders above it are checked as
/// [`DiskWorkspace::full_path`] checks them.
pub(crate) struct Resolver<'a> {
    disk: &'a DiskWorkspace,
    /// Folders found there and inside the root.
    inside: HashSet<PathBuf>,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(disk: &'a DiskWorkspace) -> Resolver<'a> {
        Resolver {
            disk,
            inside: HashSet::new(),
        }
    }

    /// The absolute path of `path`, refusing a path that is not a
    /// workspace path or whose folders lead outside the root.
    pub(crate) fn full_path(&mut self, path: &str) -> Result<PathBuf, DiskError> {
        self.below_folders(&parse(path)?)
    }

    /// The absolute path of `parsed`, each of its folders checked (once
    /// for all the paths this resolves) and its last component not.
    fn below_folders(&mut self, parsed: &WorkspacePath) -> Result<PathBuf, DiskError> {
        let mut full = self.disk.root.clone();
        let mut components = parsed.components().peekable();
        let mut checking = true;
        while let Some(component) = components.next() {
            full.push(component);
            let folder = components.peek().is_some();
            if checking && folder && !self.inside.contains(&full) {
                checking = self.disk.stays_inside(&full, parsed)?;
                if checking {
                    self.inside.insert(full.clone());
                }
            }
        }
        Ok(full)
    }
}

/// A folder opened as a workspace.
#[derive(Debug, Clone)]
pub struct DiskWorkspace {
    root: PathBuf,
    /// A git working tree: listings leave out what git ignores.
    gitignore: bool,
}

impl DiskWorkspace {
    pub fn open(root: &Path) -> std::io::Result<DiskWorkspace> {
        Ok(DiskWorkspace {
            root: root.canonicalize()?,
            gitignore: false,
        })
    }

    /// Lists as git does: what the repository ignores stays out.
    pub fn respecting_gitignore(self) -> DiskWorkspace {
        DiskWorkspace {
            gitignore: true,
            ..self
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path of `path` in the folder, refusing a path that is
    /// not a workspace path or that resolves outside the root through a
    /// link: for code that writes files its own way (a patch's atomic
    /// apply across files).
    pub(crate) fn full_path(&self, path: &str) -> Result<PathBuf, DiskError> {
        self.resolve(path).map(|(_, full)| full)
    }

    /// The absolute path of `path`, refusing anything that resolves outside
    /// the root through a link.
    fn resolve(&self, path: &str) -> Result<(WorkspacePath, PathBuf), DiskError> {
        let parsed = parse(path)?;
        // Below the (canonical) root, only a link can lead out: each one
        // on the way is resolved and must stay inside, the last component
        // too. (One `lstat` per component instead of resolving the whole
        // path each time; below a component that does not exist, the
        // `lstat` of the next finds nothing.)
        let full = Resolver::new(self).below_folders(&parsed)?;
        self.stays_inside(&full, &parsed)?;
        Ok((parsed, full))
    }

    /// Whether there is something at `full`, a path below the root, that
    /// does not lead out of it: a link is resolved, and is refused when
    /// it leads out; `false` when there is nothing there (or a dangling
    /// link), and so nothing below it.
    fn stays_inside(&self, full: &Path, parsed: &WorkspacePath) -> Result<bool, DiskError> {
        match fs::symlink_metadata(full) {
            Ok(meta) if meta.file_type().is_symlink() => match full.canonicalize() {
                Ok(real) if !real.starts_with(&self.root) => Err(DiskError::Escapes {
                    path: parsed.to_string(),
                }),
                Ok(_) => Ok(true),
                Err(_) => Ok(false),
            },
            Ok(_) => Ok(true),
            Err(_) => Ok(false),
        }
    }

    /// Every file of a git working tree that git does not ignore (the
    /// repository's `.gitignore` files and `info/exclude`), sorted, without
    /// `.git` itself.
    fn list_unignored(&self) -> Vec<String> {
        let mut files: Vec<String> = ignore::WalkBuilder::new(&self.root)
            .hidden(false)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .parents(false)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .filter_map(|e| {
                e.path()
                    .strip_prefix(&self.root)
                    .ok()
                    .and_then(|p| p.to_str())
                    .map(str::to_string)
            })
            .collect();
        files.sort();
        files
    }

    /// Every file under the root, sorted, skipping what the import's
    /// ignore rules `ignored` skip (e.g. `.git`, `node_modules/`). No file
    /// is stat'ed: a 10,000-file tree lists in milliseconds.
    pub fn list(&self, ignored: &[String]) -> Vec<String> {
        if self.gitignore {
            return self.list_unignored();
        }
        let rules = super::ignore_rules::IgnoreRules::new(ignored);
        let mut files = Vec::new();
        let walker = walkdir::WalkDir::new(&self.root)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || e.path()
                        .strip_prefix(&self.root)
                        .ok()
                        .and_then(|rel| rel.to_str())
                        .is_none_or(|rel| rules.rule_for(rel, e.file_type().is_dir()).is_none())
            });
        for entry in walker.filter_map(Result::ok) {
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(&self.root) else {
                continue;
            };
            let Some(rel) = rel.to_str() else { continue };
            files.push(rel.to_string());
        }
        files
    }

    pub fn read(&self, path: &str) -> Result<String, DiskError> {
        let (parsed, full) = self.resolve(path)?;
        let bytes = fs::read(&full).map_err(DiskError::io("read", &parsed))?;
        String::from_utf8(bytes).map_err(|_| DiskError::NotText {
            path: parsed.to_string(),
        })
    }

    /// Writes `content` atomically, keeping the file's mode.
    pub fn save(&self, path: &str, content: &str) -> Result<(), DiskError> {
        let (parsed, full) = self.resolve(path)?;
        let parent = full.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&parent).map_err(DiskError::io("create the folder of", &parsed))?;
        let mode = fs::metadata(&full)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644);
        let tmp =
            write_temp(&full, content.as_bytes(), mode).map_err(DiskError::io("save", &parsed))?;
        let finish = || -> std::io::Result<()> {
            fs::rename(&tmp, &full)?;
            // Make the rename itself durable.
            File::open(&parent)?.sync_all()
        };
        finish().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            DiskError::io("save", &parsed)(e)
        })
    }

    pub fn create_file(&self, path: &str, content: &str) -> Result<(), DiskError> {
        let (parsed, full) = self.resolve(path)?;
        if full.exists() {
            return Err(DiskError::Exists {
                path: parsed.to_string(),
            });
        }
        self.save(parsed.as_str(), content)
    }

    pub fn create_dir(&self, path: &str) -> Result<(), DiskError> {
        let (parsed, full) = self.resolve(path)?;
        if full.exists() {
            return Err(DiskError::Exists {
                path: parsed.to_string(),
            });
        }
        fs::create_dir_all(&full).map_err(DiskError::io("create", &parsed))
    }

    /// Renames or moves a file or folder; the target must not exist.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), DiskError> {
        let (from_parsed, from_full) = self.resolve(from)?;
        let (to_parsed, to_full) = self.resolve(to)?;
        if to_full.exists() {
            return Err(DiskError::Exists {
                path: to_parsed.to_string(),
            });
        }
        if let Some(parent) = to_full.parent() {
            fs::create_dir_all(parent)
                .map_err(DiskError::io("create the folder of", &to_parsed))?;
        }
        fs::rename(&from_full, &to_full).map_err(DiskError::io("rename", &from_parsed))
    }

    /// Deletes a file, or a folder with everything in it.
    pub fn delete(&self, path: &str) -> Result<(), DiskError> {
        let (parsed, full) = self.resolve(path)?;
        let meta = fs::symlink_metadata(&full).map_err(DiskError::io("delete", &parsed))?;
        if meta.is_dir() {
            fs::remove_dir_all(&full).map_err(DiskError::io("delete", &parsed))
        } else {
            fs::remove_file(&full).map_err(DiskError::io("delete", &parsed))
        }
    }
}

/// The temp file beside `full` that process `pid` writes, the `n`th of a
/// step when it writes many (as a patch's apply did before it wrote in
/// place; recovery still clears those): `.NAME.kollega-PID[-N].tmp`.
pub(crate) fn temp_path(full: &Path, pid: u32, n: Option<usize>) -> PathBuf {
    let name = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match n {
        Some(n) => format!(".{name}.kollega-{pid}-{n}.tmp"),
        None => format!(".{name}.kollega-{pid}.tmp"),
    };
    full.with_file_name(name)
}

/// Whether `file_name` is a temp file that process `pid` wrote beside
/// `name` (see [`temp_path`]).
pub(crate) fn is_temp_of(file_name: &str, name: &str, pid: u32) -> bool {
    file_name
        .strip_prefix(&format!(".{name}.kollega-{pid}"))
        .is_some_and(|rest| rest.ends_with(".tmp") && (rest == ".tmp" || rest.starts_with('-')))
}

/// `bytes` in a new temp file beside `full` (its folder must exist) with
/// permissions `mode`, fsynced; its path, for a save to rename over its
/// target. A failure leaves no temp file.
fn write_temp(full: &Path, bytes: &[u8], mode: u32) -> std::io::Result<PathBuf> {
    let tmp = temp_path(full, std::process::id(), None);
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(bytes)?;
        // The umask may have taken bits `mode` asks for.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.sync_all()
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })?;
    Ok(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_is_atomic_keeps_mode_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("run.sh");
        fs::write(&file, "#!/bin/sh\r\necho hi\r\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
        let ws = DiskWorkspace::open(dir.path()).unwrap();
        ws.save("run.sh", "#!/bin/sh\r\necho bye").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"#!/bin/sh\r\necho bye");
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o755
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn paths_and_links_cannot_leave_the_folder() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        let ws = DiskWorkspace::open(dir.path()).unwrap();
        assert!(matches!(
            ws.save("../x.txt", "x"),
            Err(DiskError::BadPath { .. })
        ));
        assert!(matches!(
            ws.save("out/x.txt", "x"),
            Err(DiskError::Escapes { .. })
        ));
        assert!(!outside.path().join("x.txt").exists());
    }

    #[test]
    fn a_resolver_checks_each_folder_once_and_gives_what_full_path_gives() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("in")).unwrap();
        let ws = DiskWorkspace::open(dir.path()).unwrap();
        let mut resolver = Resolver::new(&ws);
        for path in [
            "a/b/x.txt",
            "a/b/y.txt",
            "in/b/z.txt",
            "new/folder/f.txt",
            "top.txt",
        ] {
            assert_eq!(
                resolver.full_path(path).unwrap(),
                ws.full_path(path).unwrap(),
                "{path}"
            );
        }
        assert_eq!(
            resolver.inside.len(),
            4,
            "a, a/b, in, in/b: {:?}",
            resolver.inside
        );
        assert!(matches!(
            resolver.full_path("out/x.txt"),
            Err(DiskError::Escapes { .. })
        ));
        assert!(matches!(
            resolver.full_path("../x.txt"),
            Err(DiskError::BadPath { .. })
        ));
    }

    #[test]
    fn create_rename_delete_and_list() {
        let dir = tempfile::tempdir().unwrap();
        let ws = DiskWorkspace::open(dir.path()).unwrap();
        ws.create_file("app/page.tsx", "x\n").unwrap();
        assert!(matches!(
            ws.create_file("app/page.tsx", "y"),
            Err(DiskError::Exists { .. })
        ));
        ws.create_dir("lib").unwrap();
        ws.rename("app", "src/app").unwrap();
        fs::create_dir_all(dir.path().join("node_modules/x")).unwrap();
        fs::write(dir.path().join("node_modules/x/i.js"), "1").unwrap();
        let listed = ws.list(&["node_modules".to_string()]);
        assert_eq!(listed, vec!["src/app/page.tsx".to_string()]);
        assert_eq!(ws.read("src/app/page.tsx").unwrap(), "x\n");
        ws.delete("src").unwrap();
        assert!(ws.list(&[]).iter().all(|p| !p.starts_with("src/")));
        fs::write(dir.path().join("logo.png"), [0x89, 0x50, 0xff, 0x00]).unwrap();
        assert!(matches!(
            ws.read("logo.png"),
            Err(DiskError::NotText { .. })
        ));
    }
}
