//! Where an open workspace's files live, and every edit the workstation
//! makes to them: read, list, save, create, rename, delete. A SQLite
//! workspace keeps them in the store (each edit one transaction, see
//! `store::files`); a folder keeps them on disk (atomic saves, links out of
//! the folder refused, see `disk`).
//!
//! Every operation blocks (SQLite, the disk). The terminal UI never calls
//! them on its own task: a SQLite workspace's run on the store worker,
//! which hands them its connection; a folder's on a blocking thread, with
//! no store at all.

use super::disk::{DiskError, DiskWorkspace};
use super::path::WorkspacePath;
use crate::error::Hint;
use crate::store::files::FileEditError;
use crate::store::{self, Store};

/// Where a session's files are stored.
#[derive(Debug, Clone)]
pub(crate) enum Files {
    Sqlite { id: i64 },
    Dir(DiskWorkspace),
}

/// Why a file could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FilesError {
    #[error("{path:?} {why}")]
    BadPath { path: String, why: String },
    #[error(transparent)]
    Store(#[from] FileEditError),
    #[error(transparent)]
    Disk(#[from] DiskError),
    #[error(
        "a SQLite workspace stores files, not empty folders: create a file inside it (e.g. {0}/new.ts)"
    )]
    NoEmptyFolders(String),
    /// A SQLite workspace's files were asked for without the store.
    #[error("the store is not at hand for this workspace's files")]
    NoStore,
}

impl Hint for FilesError {
    fn hint(&self) -> String {
        match self {
            FilesError::BadPath { .. } => {
                "use a relative path inside the workspace, e.g. lib/new.ts".into()
            }
            FilesError::Store(e) => e.hint(),
            FilesError::Disk(DiskError::NotText { .. }) => {
                "kollega edits UTF-8 text files only".into()
            }
            FilesError::Disk(DiskError::Exists { .. }) => {
                "pick another name, or delete that one first".into()
            }
            FilesError::Disk(_) => "check the folder's permissions and free space".into(),
            FilesError::NoEmptyFolders(_) => {
                "folders of a SQLite workspace come with their files".into()
            }
            FilesError::NoStore => "restart kollega; your text is kept as a draft".into(),
        }
    }
}

/// A saved file's content hash, as drafts and the buffers record it.
pub(crate) fn content_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn parse(path: &str) -> Result<WorkspacePath, FilesError> {
    WorkspacePath::parse(path).map_err(|e| FilesError::BadPath {
        path: path.to_string(),
        why: e.to_string(),
    })
}

impl Files {
    pub(crate) fn storage_label(&self) -> &'static str {
        match self {
            Files::Sqlite { .. } => "sqlite",
            Files::Dir(_) => "dir",
        }
    }

    /// Whether this workspace's files are read and written through the
    /// store (and so on the store worker).
    pub(crate) fn in_store(&self) -> bool {
        matches!(self, Files::Sqlite { .. })
    }

    fn conn(store: Option<&mut Store>) -> Result<&mut rusqlite::Connection, FilesError> {
        store.map(|s| &mut s.conn).ok_or(FilesError::NoStore)
    }

    /// Every file's path, sorted. A folder leaves out the names in `ignored`.
    pub(crate) fn list(
        &self,
        store: Option<&mut Store>,
        ignored: &[String],
    ) -> Result<Vec<String>, FilesError> {
        match self {
            Files::Sqlite { id } => Ok(store::files::list(Self::conn(store)?, *id)
                .map_err(FileEditError::Store)?
                .into_iter()
                .map(|f| f.path)
                .collect()),
            Files::Dir(disk) => Ok(disk.list(ignored)),
        }
    }

    /// The saved content of `path`; `Ok(None)` when there is no such file.
    pub(crate) fn read(
        &self,
        store: Option<&mut Store>,
        path: &str,
    ) -> Result<Option<String>, FilesError> {
        match self {
            Files::Sqlite { id } => Ok(store::files::content(Self::conn(store)?, *id, path)
                .map_err(FileEditError::Store)?),
            Files::Dir(disk) => match disk.read(path) {
                Ok(text) => Ok(Some(text)),
                Err(DiskError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    Ok(None)
                }
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Writes `content` as `path` (creating it); answers its content hash.
    pub(crate) fn save(
        &self,
        store: Option<&mut Store>,
        path: &str,
        content: &str,
    ) -> Result<String, FilesError> {
        match self {
            Files::Sqlite { id } => {
                store::files::save_file(Self::conn(store)?, *id, path, content)?;
            }
            Files::Dir(disk) => disk.save(path, content)?,
        }
        Ok(content_hash(content))
    }

    /// Creates an empty file; refuses if anything is in the way.
    pub(crate) fn create_file(
        &self,
        store: Option<&mut Store>,
        path: &str,
    ) -> Result<String, FilesError> {
        let parsed = parse(path)?;
        match self {
            Files::Sqlite { id } => {
                store::files::create_file(Self::conn(store)?, *id, parsed.as_str(), "")?;
            }
            Files::Dir(disk) => disk.create_file(parsed.as_str(), "")?,
        }
        Ok(parsed.to_string())
    }

    /// Creates a folder (a folder workspace only).
    pub(crate) fn create_dir(&self, path: &str) -> Result<String, FilesError> {
        let path = path.trim_end_matches('/');
        match self {
            Files::Sqlite { .. } => Err(FilesError::NoEmptyFolders(path.to_string())),
            Files::Dir(disk) => {
                disk.create_dir(path)?;
                Ok(path.to_string())
            }
        }
    }

    /// Renames or moves a file or a folder; the target must not exist.
    pub(crate) fn rename(
        &self,
        store: Option<&mut Store>,
        from: &str,
        to: &str,
    ) -> Result<String, FilesError> {
        let to = parse(to.trim_end_matches('/'))?;
        match self {
            Files::Sqlite { id } => {
                store::files::rename_path(Self::conn(store)?, *id, from, to.as_str())?;
            }
            Files::Dir(disk) => disk.rename(from, to.as_str())?,
        }
        Ok(to.to_string())
    }

    /// Deletes a file, or a folder with everything in it.
    pub(crate) fn delete(&self, store: Option<&mut Store>, path: &str) -> Result<(), FilesError> {
        match self {
            Files::Sqlite { id } => {
                store::files::delete_path(Self::conn(store)?, *id, path)?;
            }
            Files::Dir(disk) => disk.delete(path)?,
        }
        Ok(())
    }
}
