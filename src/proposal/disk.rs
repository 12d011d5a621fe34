//! Writing a step's changes into a folder all at once: every new content
//! goes to a temp file beside its target and is fsynced first (a failure
//! there changes nothing), then the temp files are renamed over their
//! targets and deleted files removed; a failure among the renames puts
//! back what was already changed. The folders are fsynced last.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::checkpoint::Change;
use super::target::Content;
use super::{ProposalError, Result};
use crate::workspace::disk::DiskWorkspace;

/// Writes every change, or none of them.
pub(super) fn write_all(folder: &DiskWorkspace, changes: &[Change]) -> Result<()> {
    let mut targets = Vec::with_capacity(changes.len());
    for change in changes {
        targets.push(folder.full_path(&change.path)?);
    }
    let mut temps: Vec<Option<PathBuf>> = Vec::with_capacity(changes.len());
    for (i, (change, full)) in changes.iter().zip(&targets).enumerate() {
        let temp = match &change.after {
            Some(content) => match write_temp(full, content, i) {
                Ok(temp) => Some(temp),
                Err(source) => {
                    remove_temps(&temps);
                    return Err(io("write", &change.path, source));
                }
            },
            None => None,
        };
        temps.push(temp);
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
    let folders: BTreeSet<&Path> = targets.iter().filter_map(|t| t.parent()).collect();
    for dir in folders {
        // The renames are done; a folder that cannot be synced is only a
        // durability warning, not a reason to undo them.
        if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
            tracing::warn!(folder = %dir.display(), error = %e, "cannot sync a patched folder");
        }
    }
    Ok(())
}

/// Puts back every change's `before` after a step was written but could
/// not be recorded.
pub(super) fn restore(folder: &DiskWorkspace, changes: &[Change]) {
    let targets: Vec<PathBuf> = changes
        .iter()
        .filter_map(|c| folder.full_path(&c.path).ok())
        .collect();
    if targets.len() == changes.len() {
        put_back(changes, &targets);
    }
}

fn put_back(changes: &[Change], targets: &[PathBuf]) {
    for (i, (change, full)) in changes.iter().zip(targets).enumerate() {
        let result = match &change.before {
            Some(content) => {
                write_temp(full, content, changes.len() + i).and_then(|temp| fs::rename(temp, full))
            }
            None => fs::remove_file(full),
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

/// `content` in a fsynced temp file beside `full`, with the mode `full`
/// will have: its own when its executable bit stays, else 0755 or 0644.
fn write_temp(full: &Path, content: &Content, n: usize) -> std::io::Result<PathBuf> {
    let parent = full
        .parent()
        .ok_or_else(|| std::io::Error::other("the path has no folder"))?;
    fs::create_dir_all(parent)?;
    let executable = content.executable();
    let mode = match fs::metadata(full) {
        Ok(meta) if (meta.permissions().mode() & 0o111 != 0) == executable => {
            meta.permissions().mode() & 0o7777
        }
        _ if executable => 0o755,
        _ => 0o644,
    };
    let name = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = parent.join(format!(".{name}.kollega-{}-{n}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&temp)?;
        file.write_all(content.text.as_bytes())?;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.sync_all()
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&temp);
    })?;
    Ok(temp)
}
