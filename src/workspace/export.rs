//! Export: a stored workspace back out, byte for byte, as a ZIP or a folder.

use crate::error::Hint;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::path::WorkspacePath;
use super::{WorkspaceError, find_stored};
use crate::store::files::FileMeta;
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
    #[error("cannot write the ZIP file {path}: {message}")]
    Zip { path: PathBuf, message: String },
    #[error("the folder {path} does not exist")]
    NoFolder { path: PathBuf },
    #[error("stored file {path:?} cannot be written back: {message}")]
    Unencodable { path: String, message: String },
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
            ExportError::NoFolder { path } => format!(
                "create it first (mkdir -p {}), or pick a path in an existing folder",
                path.display()
            ),
            ExportError::Unencodable { .. } => {
                "open the file in kollega and save it again, or run `kollega doctor`".into()
            }
        }
    }
}

/// Progress as numbers, for a job's progress: files written so far of the
/// workspace's count.
pub trait ExportProgress {
    fn file(&mut self, _done: u64, _total: u64) {}
}

impl ExportProgress for () {}

/// Writes every stored file of `name` to `target`, each file in the bytes
/// and with the executable bit it came in. Both forms are written to a
/// temporary file or folder beside the target and swapped into place, so a
/// failed or killed export never leaves half an archive or a mix of the old
/// folder and the new one: the target is either what it was or exactly the
/// workspace. Temporaries of exports whose process is gone are removed.
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

/// The bytes a stored file is written back as.
fn file_bytes<'a>(
    stored: &str,
    content: &'a str,
    meta: &FileMeta,
) -> Result<std::borrow::Cow<'a, [u8]>, ExportError> {
    meta.bytes(content).map_err(|e| ExportError::Unencodable {
        path: stored.to_string(),
        message: e.to_string(),
    })
}

/// The folder a target lives in ("." for a bare name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn export_zip(
    store: &Store,
    id: i64,
    taken_over_at: &str,
    path: &Path,
    written: &mut dyn FnMut(u64),
) -> Result<(u64, u64), ExportError> {
    let folder = folder_of(path);
    if !folder.is_dir() {
        return Err(ExportError::NoFolder { path: folder });
    }
    clean_dead_temps(path);
    let tmp = temp_beside(path);
    // Errors name the user's target, never our temporary file.
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let _ = fs::remove_file(&tmp);
    let file = File::create(&tmp).map_err(io)?;
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip_time(taken_over_at));
    let (mut files, mut bytes) = (0u64, 0u64);
    let result = store::files::for_each(&store.conn, id, |stored, content, meta| {
        let safe = WorkspacePath::parse(stored).map_err(|_| ExportError::UnsafePath {
            path: stored.to_string(),
        })?;
        let data = file_bytes(stored, content, meta)?;
        zip.start_file(safe.as_str(), options.unix_permissions(meta.mode()))?;
        zip.write_all(&data)?;
        files += 1;
        bytes += data.len() as u64;
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
    .and_then(|()| fs::rename(&tmp, path).map_err(io));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|()| (files, bytes))
}

/// Writes the whole workspace into a fresh folder beside `root`, then swaps
/// it in: the old folder (if any) is exchanged with the new one in one
/// rename and then removed.
fn export_dir(
    store: &Store,
    id: i64,
    root: &Path,
    written: &mut dyn FnMut(u64),
) -> Result<(u64, u64), ExportError> {
    // `.` or `..` has no name to put a folder beside: use its real path.
    let resolved;
    let root = if root.file_name().is_none() {
        resolved = root.canonicalize().map_err(|source| ExportError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        &resolved
    } else {
        root
    };
    if root.file_name().is_none() {
        return Err(ExportError::Io {
            path: root.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the root folder cannot be replaced; export into a folder under it",
            ),
        });
    }
    let folder = folder_of(root);
    fs::create_dir_all(&folder).map_err(|source| ExportError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    clean_dead_temps(root);
    let tmp = temp_beside(root);
    remove_any(&tmp);
    let io = |source| ExportError::Io {
        path: root.to_path_buf(),
        source,
    };
    fs::create_dir(&tmp).map_err(io)?;
    let result = write_tree(store, id, &tmp, root, written).and_then(|counts| {
        // The new folder gets the old one's permissions.
        if let Ok(old) = fs::symlink_metadata(root)
            && old.is_dir()
        {
            fs::set_permissions(&tmp, old.permissions()).map_err(io)?;
        }
        swap_in(&tmp, root).map_err(io)?;
        Ok(counts)
    });
    // After the swap `tmp` holds the old folder; after a failure, the
    // partial export.
    remove_any(&tmp);
    result
}

/// Writes every stored file under `dir` (a fresh folder of ours); errors
/// name the file under `root`, the user's target.
fn write_tree(
    store: &Store,
    id: i64,
    dir: &Path,
    root: &Path,
    written: &mut dyn FnMut(u64),
) -> Result<(u64, u64), ExportError> {
    let (mut files, mut bytes) = (0u64, 0u64);
    store::files::for_each(&store.conn, id, |stored, content, meta| {
        let safe = WorkspacePath::parse(stored).map_err(|_| ExportError::UnsafePath {
            path: stored.to_string(),
        })?;
        let data = file_bytes(stored, content, meta)?;
        let target = safe.components().fold(dir.to_path_buf(), |p, c| p.join(c));
        let io = |source| ExportError::Io {
            path: safe.components().fold(root.to_path_buf(), |p, c| p.join(c)),
            source,
        };
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io)?;
        }
        let write = || -> std::io::Result<()> {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(meta.mode())
                .open(&target)?;
            file.write_all(&data)?;
            // The mode again: the umask may have taken bits off.
            file.set_permissions(fs::Permissions::from_mode(meta.mode()))
        };
        write().map_err(io)?;
        files += 1;
        bytes += data.len() as u64;
        written(files);
        Ok(())
    })
    .map_err(|e| unbox(e, root))?;
    Ok((files, bytes))
}

/// Puts `new` where `target` is: an atomic exchange when `target` exists
/// (after which `new` names the old one), else a rename.
fn swap_in(new: &Path, target: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return fs::rename(new, target),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    match exchange(new, target) {
        Ok(()) => Ok(()),
        // A file system without RENAME_EXCHANGE: move the old one aside
        // first. A kill between the two renames leaves the old folder
        // under the temporary name, which the next export removes.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
            let aside = new.with_extension("old");
            fs::rename(target, &aside)?;
            fs::rename(new, target)?;
            fs::rename(&aside, new)
        }
        Err(e) => Err(e),
    }
}

/// `renameat2(a, b, RENAME_EXCHANGE)`: both names swap in one step.
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Removes a file, a link or a folder with everything in it, if there.
fn remove_any(path: &Path) {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            let _ = fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// The temporary name an export of `path` writes to: it carries our pid.
fn temp_beside(path: &Path) -> PathBuf {
    let (prefix, suffix) = temp_affixes(path);
    folder_of(path).join(format!("{prefix}{}{suffix}", std::process::id()))
}

fn temp_affixes(path: &Path) -> (String, &'static str) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    (format!(".{name}.kollega-"), ".tmp")
}

/// Removes the temporaries beside `path` that exports of it left when they
/// were killed: those whose pid is no longer alive.
fn clean_dead_temps(path: &Path) {
    let (prefix, suffix) = temp_affixes(path);
    let Ok(entries) = fs::read_dir(folder_of(path)) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let pid = name
            .strip_prefix(&prefix)
            .and_then(|rest| {
                rest.strip_suffix(suffix)
                    .or_else(|| rest.strip_suffix(".old"))
            })
            .and_then(|pid| pid.parse::<i64>().ok());
        if let Some(pid) = pid
            && !store::locks::pid_alive(pid)
        {
            tracing::info!(path = %entry.path().display(), "removing a killed export's leftovers");
            remove_any(&entry.path());
        }
    }
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
