//! The workspace a patch is for: stored here or a folder on disk, named on
//! the command line (a workspace name or a folder) or by a patch's key.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use rusqlite::Connection;

use super::{ProposalError, Result};
use crate::store::drafts::{dir_key, sqlite_key};
use crate::store::{Store, files, workspaces};
use crate::workspace::disk::{DiskWorkspace, Resolver};
use crate::workspace::path::WorkspacePath;

/// Git's mode of a regular file and of an executable one.
pub(crate) const MODE_FILE: u32 = 0o100644;
pub(crate) const MODE_EXECUTABLE: u32 = 0o100755;

/// A file's text and its git mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Content {
    pub(crate) text: String,
    pub(crate) mode: u32,
}

impl Content {
    pub(crate) fn executable(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

/// Where a workspace's files are.
#[derive(Debug, Clone)]
pub(crate) enum Files {
    /// Stored here, in the `files` table.
    Store { id: i64 },
    /// A folder on disk (a git workspace's repository, or any folder).
    Dir(DiskWorkspace),
}

/// A workspace a patch is imported into or applied to.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Its key, as drafts and patches name it.
    pub(crate) key: String,
    pub(crate) files: Files,
}

impl Target {
    /// A workspace by name (a git workspace is its repository's folder),
    /// else a folder.
    pub(crate) fn resolve(store: &Store, arg: &str) -> Result<Target> {
        if let Some(ws) = workspaces::find(&store.conn, arg)? {
            return match ws.repo_path {
                Some(repo) => Target::folder(Path::new(&repo))
                    .ok_or_else(|| ProposalError::WorkspaceGone(repo.clone())),
                None => Ok(Target {
                    key: sqlite_key(&ws.name),
                    files: Files::Store { id: ws.id },
                }),
            };
        }
        if Path::new(arg).is_dir() {
            return Target::folder(Path::new(arg))
                .ok_or_else(|| ProposalError::UnknownWorkspace(arg.to_string()));
        }
        Err(ProposalError::UnknownWorkspace(arg.to_string()))
    }

    /// The workspace a stored key names.
    pub(crate) fn from_key(store: &Store, key: &str) -> Result<Target> {
        let gone = || ProposalError::WorkspaceGone(key.to_string());
        if let Some(name) = key.strip_prefix("ws:") {
            let ws = workspaces::find(&store.conn, name)?.ok_or_else(gone)?;
            return Ok(Target {
                key: key.to_string(),
                files: Files::Store { id: ws.id },
            });
        }
        let dir = key.strip_prefix("dir:").ok_or_else(gone)?;
        Target::folder(Path::new(dir)).ok_or_else(gone)
    }

    /// A folder as a workspace, whatever its name.
    #[cfg(test)]
    pub(crate) fn resolve_folder(path: &Path) -> Option<Target> {
        Target::folder(path)
    }

    fn folder(path: &Path) -> Option<Target> {
        let disk = DiskWorkspace::open(path).ok()?;
        Some(Target {
            key: dir_key(disk.root()),
            files: Files::Dir(disk),
        })
    }

    /// What to call it in a message: the name or the folder.
    pub(crate) fn label(&self) -> &str {
        self.key
            .strip_prefix("ws:")
            .or_else(|| self.key.strip_prefix("dir:"))
            .unwrap_or(&self.key)
    }

    /// Every file's path (a folder's without what the import leaves out:
    /// `.git`, `node_modules/`, build output).
    pub(crate) fn list(&self, conn: &Connection) -> Result<Vec<String>> {
        Ok(match &self.files {
            Files::Store { id } => files::list(conn, *id)?
                .into_iter()
                .map(|f| f.path)
                .collect(),
            Files::Dir(disk) => {
                let ignored: Vec<String> = crate::config::DEFAULT_IGNORED
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                disk.list(&ignored)
            }
        })
    }

    /// File `path` now, or `None` when there is no such file.
    pub(crate) fn read(&self, conn: &Connection, path: &str) -> Result<Option<Content>> {
        let checked = checked(path)?;
        match &self.files {
            Files::Store { id } => Ok(files::content_with_meta(conn, *id, checked.as_str())?.map(
                |(text, meta)| Content {
                    text,
                    mode: if meta.executable {
                        MODE_EXECUTABLE
                    } else {
                        MODE_FILE
                    },
                },
            )),
            Files::Dir(disk) => read_disk(&mut Resolver::new(disk), checked.as_str()),
        }
    }
}

/// File `path` of a folder now, as [`Target::read`] reads it: for a
/// reader that holds no store connection (another thread), with the
/// folders it has looked at already.
pub(super) fn read_folder(resolver: &mut Resolver<'_>, path: &str) -> Result<Option<Content>> {
    read_disk(resolver, checked(path)?.as_str())
}

fn checked(path: &str) -> Result<WorkspacePath> {
    WorkspacePath::parse(path).map_err(|e| ProposalError::File {
        path: path.to_string(),
        what: "patched",
        why: e.to_string(),
    })
}

fn read_disk(resolver: &mut Resolver<'_>, path: &str) -> Result<Option<Content>> {
    let full = resolver.full_path(path)?;
    let refuse = |why: &str| ProposalError::File {
        path: path.to_string(),
        what: "patched",
        why: why.to_string(),
    };
    let failed = |source| ProposalError::Io {
        action: "read",
        path: path.to_string(),
        source,
    };
    // Not through a link; and without waiting for a writer, should the
    // path be a named pipe (refused below with whatever is not a file).
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&full)
    {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(refuse(
                "it is a symbolic link; kollega patches regular files",
            ));
        }
        Err(source) => return Err(failed(source)),
    };
    let meta = file.metadata().map_err(failed)?;
    if meta.is_dir() {
        return Err(refuse("it is a folder"));
    }
    if !meta.is_file() {
        return Err(refuse(
            "it is not a regular file (a pipe, socket or device)",
        ));
    }
    // Read to the end from the size just found (a file growing meanwhile
    // is read whole all the same), without `fs::read` looking it up again.
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(size.saturating_add(1))
        .map_err(|_| refuse("it is too big to hold in memory"))?;
    Unsized(&file).read_to_end(&mut bytes).map_err(failed)?;
    let text = String::from_utf8(bytes).map_err(|_| refuse("it is not UTF-8 text"))?;
    let mode = if meta.permissions().mode() & 0o111 != 0 {
        MODE_EXECUTABLE
    } else {
        MODE_FILE
    };
    Ok(Some(Content { text, mode }))
}

/// A file read without asking its size first, for a reader that knows it.
struct Unsized<'a>(&'a File);

impl Read for Unsized<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        (&mut &*self.0).read(buf)
    }
}
