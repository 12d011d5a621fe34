//! Export: a stored workspace back out, byte for byte, as a ZIP or a folder.

use crate::error::Hint;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::path::WorkspacePath;
use super::{WorkspaceError, find_stored};
use crate::store::{self, Store};

#[derive(Debug, Clone)]
pub enum ExportTarget {
    Zip(PathBuf),
    Dir(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    pub workspace: String,
    pub files_count: u64,
    pub bytes: u64,
    pub target: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error("{path} already exists")]
    Exists { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("stored path {path:?} is not a safe relative path; nothing was written for it")]
    UnsafePath { path: String },
    #[error("{path} is a link; kollega does not write through links in an export folder")]
    Link { path: PathBuf },
    #[error("cannot write the ZIP file {path}: {message}")]
    Zip { path: PathBuf, message: String },
}

impl Hint for ExportError {
    fn hint(&self) -> String {
        match self {
            ExportError::Workspace(e) => e.hint(),
            ExportError::Exists { .. } => {
                "pass --force to overwrite it, or pick another path".into()
            }
            ExportError::Io { .. } | ExportError::Zip { .. } => {
                "check the target's folder, its permissions and free space".into()
            }
            ExportError::UnsafePath { .. } => {
                "run `kollega doctor`; the store may be damaged".into()
            }
            ExportError::Link { .. } => "remove the link, or export into an empty folder".into(),
        }
    }
}

/// Progress as numbers, for a job's progress: files written so far of the
/// workspace's count.
pub trait ExportProgress {
    fn file(&mut self, _done: u64, _total: u64) {}
}

impl ExportProgress for () {}

/// Writes every stored file of `name` to `target`. A ZIP is written to a
/// temporary file beside the target and renamed into place, so a failed
/// export never leaves half an archive.
pub fn export(
    store: &Store,
    name: &str,
    target: &ExportTarget,
    force: bool,
    progress: &mut dyn ExportProgress,
) -> Result<ExportSummary, ExportError> {
    let ws = find_stored(store, name)?;
    let mut written = |files: u64| progress.file(files, ws.files_count);
    let _span = tracing::info_span!("export", workspace = %name).entered();
    let (files_count, bytes, target_path) = match target {
        ExportTarget::Zip(path) => {
            if path.exists() && !force {
                return Err(ExportError::Exists { path: path.clone() });
            }
            let (files, bytes) = export_zip(store, ws.id, &ws.taken_over_at, path, &mut written)?;
            (files, bytes, path)
        }
        ExportTarget::Dir(path) => {
            let non_empty = fs::read_dir(path)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false);
            if (non_empty || path.is_file()) && !force {
                return Err(ExportError::Exists { path: path.clone() });
            }
            let (files, bytes) = export_dir(store, ws.id, path, &mut written)?;
            (files, bytes, path)
        }
    };
    tracing::info!(files = files_count, bytes, "exported");
    Ok(ExportSummary {
        workspace: name.to_string(),
        files_count,
        bytes,
        target: target_path.display().to_string(),
    })
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Turns the boxed error of a row callback back into an [`ExportError`].
fn unbox(e: BoxError, path: &Path) -> ExportError {
    match e.downcast::<ExportError>() {
        Ok(e) => *e,
        Err(e) => match e.downcast::<rusqlite::Error>() {
            Ok(e) => ExportError::Workspace(WorkspaceError::Store(store::StoreError::Sqlite(*e))),
            Err(e) => ExportError::Zip {
                path: path.to_path_buf(),
                message: e.to_string(),
            },
        },
    }
}

fn export_zip(
    store: &Store,
    id: i64,
    taken_over_at: &str,
    path: &Path,
    written: &mut dyn FnMut(u64),
) -> Result<(u64, u64), ExportError> {
    let tmp = temp_beside(path);
    let io = |source| ExportError::Io {
        path: tmp.clone(),
        source,
    };
    let file = File::create(&tmp).map_err(io)?;
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644)
        .last_modified_time(zip_time(taken_over_at));
    let (mut files, mut bytes) = (0u64, 0u64);
    let result = store::files::for_each(&store.conn, id, |stored, content| {
        let safe = WorkspacePath::parse(stored).map_err(|_| ExportError::UnsafePath {
            path: stored.to_string(),
        })?;
        zip.start_file(safe.as_str(), options)?;
        zip.write_all(content.as_bytes())?;
        files += 1;
        bytes += content.len() as u64;
        written(files);
        Ok(())
    })
    .map_err(|e| unbox(e, path))
    .and_then(|()| {
        let writer = zip.finish().map_err(|e| ExportError::Zip {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)
    })
    .and_then(|()| {
        fs::rename(&tmp, path).map_err(|source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        })
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|()| (files, bytes))
}

fn export_dir(
    store: &Store,
    id: i64,
    root: &Path,
    written: &mut dyn FnMut(u64),
) -> Result<(u64, u64), ExportError> {
    fs::create_dir_all(root).map_err(|source| ExportError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let (mut files, mut bytes) = (0u64, 0u64);
    store::files::for_each(&store.conn, id, |stored, content| {
        let safe = WorkspacePath::parse(stored).map_err(|_| ExportError::UnsafePath {
            path: stored.to_string(),
        })?;
        // Create each folder ourselves, refusing links, so a link planted in
        // the target (with --force) cannot lead a write outside it.
        let mut target = root.to_path_buf();
        let parts: Vec<&str> = safe.components().collect();
        for (i, part) in parts.iter().enumerate() {
            target.push(part);
            let io = |source| ExportError::Io {
                path: target.clone(),
                source,
            };
            match fs::symlink_metadata(&target) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(ExportError::Link {
                        path: target.clone(),
                    }
                    .into());
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if i + 1 < parts.len() {
                        fs::create_dir(&target).map_err(io)?;
                    }
                }
                Err(e) => return Err(io(e).into()),
            }
        }
        fs::write(&target, content.as_bytes()).map_err(|source| ExportError::Io {
            path: target.clone(),
            source,
        })?;
        files += 1;
        bytes += content.len() as u64;
        written(files);
        Ok(())
    })
    .map_err(|e| unbox(e, root))?;
    Ok((files, bytes))
}

fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export.zip".into());
    path.with_file_name(format!(".{name}.kollega-{}.tmp", std::process::id()))
}

/// The ZIP timestamp for entries: when the workspace was taken over.
fn zip_time(rfc3339: &str) -> zip::DateTime {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| {
            zip::DateTime::from_date_and_time(
                t.year().try_into().ok()?,
                t.month().into(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
            )
            .ok()
        })
        .unwrap_or_default()
}
