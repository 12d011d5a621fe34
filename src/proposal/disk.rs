//! Writing a step's changes into a folder all at once: every new content
//! goes to a temp file beside its target first (a failure there changes
//! nothing), then the temp files are renamed over their targets and
//! deleted files removed; a failure among the renames puts back what was
//! already changed.
//!
//! Nothing is fsynced file by file: the step is journaled in the store
//! before the first rename (see `checkpoint`), which is what makes it all
//! or nothing across a killed process or a power cut, and one `syncfs` of
//! the folder's file system at the end makes the written step durable
//! before the store records it as done.

use std::collections::HashSet;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::checkpoint::Change;
use super::target::Content;
use super::{ProposalError, Result};
use crate::workspace::disk::{DiskWorkspace, Sync, write_temp};

/// Writes every change, or none of them.
pub(super) fn write_all(folder: &DiskWorkspace, changes: &[Change]) -> Result<()> {
    let targets = full_paths(folder, changes)?;
    let mut folders = HashSet::new();
    let mut temps: Vec<Option<PathBuf>> = Vec::with_capacity(changes.len());
    for (i, (change, full)) in changes.iter().zip(&targets).enumerate() {
        let written = match &change.after {
            Some(content) => make_parent(full, &mut folders)
                .and_then(|()| write_beside(full, content, i))
                .map(Some),
            None => Ok(None),
        };
        match written {
            Ok(temp) => temps.push(temp),
            Err(source) => {
                remove_temps(&temps);
                return Err(io("write", &change.path, source));
            }
        }
    }
    for (i, (change, full)) in changes.iter().zip(&targets).enumerate() {
        let done = match &temps[i] {
            Some(temp) => fs::rename(temp, full),
            None => match fs::remove_file(full) {
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        if let Err(source) = done {
            remove_temps(&temps[i..]);
            put_back(&changes[..i], &targets[..i]);
            return Err(io("write", &change.path, source));
        }
    }
    sync(folder.root());
    Ok(())
}

fn full_paths(folder: &DiskWorkspace, changes: &[Change]) -> Result<Vec<PathBuf>> {
    changes
        .iter()
        .map(|c| folder.full_path(&c.path).map_err(Into::into))
        .collect()
}

/// Creates the folder of `full` unless it was made or seen already.
fn make_parent<'a>(full: &'a Path, made: &mut HashSet<&'a Path>) -> std::io::Result<()> {
    let parent = full
        .parent()
        .ok_or_else(|| std::io::Error::other("the path has no folder"))?;
    if !made.contains(parent) {
        fs::create_dir_all(parent)?;
        made.insert(parent);
    }
    Ok(())
}

/// Flushes the file system that holds `root`: everything written so far
/// reaches the disk before the step is recorded as done. A failure is
/// only a durability warning: the files are written.
fn sync(root: &Path) {
    let synced = fs::File::open(root).and_then(|dir| {
        use std::os::fd::AsRawFd;
        // SAFETY: `dir` is an open descriptor for the duration of the call.
        match unsafe { libc::syncfs(dir.as_raw_fd()) } {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        }
    });
    if let Err(e) = synced {
        tracing::warn!(folder = %root.display(), error = %e, "cannot sync a patched folder");
    }
}

/// Puts back every change's `before` after a step was written but could
/// not be recorded, or was cut short.
pub(super) fn restore(folder: &DiskWorkspace, changes: &[Change]) {
    let targets: Vec<PathBuf> = changes
        .iter()
        .filter_map(|c| folder.full_path(&c.path).ok())
        .collect();
    if targets.len() == changes.len() {
        put_back(changes, &targets);
        sync(folder.root());
    }
}

fn put_back(changes: &[Change], targets: &[PathBuf]) {
    for (i, (change, full)) in changes.iter().zip(targets).enumerate() {
        let result = match &change.before {
            Some(content) => full
                .parent()
                .map_or(Ok(()), fs::create_dir_all)
                .and_then(|()| write_beside(full, content, changes.len() + i))
                .and_then(|temp| fs::rename(temp, full)),
            None => match fs::remove_file(full) {
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        if let Err(e) = result {
            tracing::error!(path = %change.path, error = %e, "cannot put a file back after a failed apply");
        }
    }
}

fn remove_temps(temps: &[Option<PathBuf>]) {
    for temp in temps.iter().flatten() {
        let _ = fs::remove_file(temp);
    }
}

fn io(action: &'static str, path: &str, source: std::io::Error) -> ProposalError {
    ProposalError::Io {
        action,
        path: path.to_string(),
        source,
    }
}

/// `content` in the `n`th temp file beside `full`, with the mode `full`
/// will have: its own when its executable bit stays, else 0755 or 0644.
fn write_beside(full: &Path, content: &Content, n: usize) -> std::io::Result<PathBuf> {
    let executable = content.executable();
    let mode = match fs::metadata(full) {
        Ok(meta) if (meta.permissions().mode() & 0o111 != 0) == executable => {
            meta.permissions().mode() & 0o7777
        }
        _ if executable => 0o755,
        _ => 0o644,
    };
    write_temp(full, content.text.as_bytes(), mode, Some(n), Sync::Later)
}
