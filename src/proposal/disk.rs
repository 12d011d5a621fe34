//! Writing a step's changes into a folder all at once: every new content
//! goes to a temp file beside its target first (a failure there changes
//! nothing), then the temp files are renamed over their targets and
//! deleted files removed; a failure among the renames puts back what was
//! already changed.
//!
//! Nothing is fsynced file by file: the step is journaled in the store,
//! synced, before the first rename (see `checkpoint`), which makes it all
//! or nothing across a killed process, and the store's record that the
//! step is done is synced after the last rename. A file replaced by a
//! rename reaches the disk with its rename on file systems that order
//! them (ext4's default `auto_da_alloc`, btrfs), so after a power cut
//! each file is as before or as after and recovery makes them all one.
//! A new file has no old file to be ordered with: it alone is fsynced
//! before its rename. (`syncfs` at the end was measured instead: on a
//! file system shared with builds it waits for their writes too, 0.7 s.)

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
                .and_then(|()| write_beside(full, content, i, change.before.is_none()))
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

/// Puts back every change's `before` after a step was written but could
/// not be recorded, or was cut short.
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
            Some(content) => full
                .parent()
                .map_or(Ok(()), fs::create_dir_all)
                .and_then(|()| write_beside(full, content, changes.len() + i, false))
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
/// will have: its own when its executable bit stays, else 0755 or 0644;
/// fsynced when it is `new` (nothing there to be ordered with).
fn write_beside(full: &Path, content: &Content, n: usize, new: bool) -> std::io::Result<PathBuf> {
    let executable = content.executable();
    let mode = match fs::metadata(full) {
        Ok(meta) if (meta.permissions().mode() & 0o111 != 0) == executable => {
            meta.permissions().mode() & 0o7777
        }
        _ if executable => 0o755,
        _ => 0o644,
    };
    let sync = if new { Sync::Now } else { Sync::Later };
    write_temp(full, content.text.as_bytes(), mode, Some(n), sync)
}
