//! Writing a step's changes into a folder all at once: every new content
//! goes to a temp file beside its target and is fsynced first (a failure
//! there changes nothing), then the temp files are renamed over their
//! targets and deleted files removed; a failure among the renames puts
//! back what was already changed. The folders are fsynced last.
//!
//! The temp files are written and fsynced on many threads at once: the
//! file system commits concurrent fsyncs together, so a thousand files
//! cost about one journal commit instead of a thousand (4 s against 0.1 s
//! on this project's test machine's ext4).

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
    let written = in_parallel(changes.len(), |i| match &changes[i].after {
        Some(content) => write_temp(&targets[i], content, i).map(Some),
        None => Ok(None),
    });
    let written = written
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(std::io::Error::other("a writing thread failed"))));
    let mut temps: Vec<Option<PathBuf>> = Vec::with_capacity(changes.len());
    let mut failed = None;
    for (i, result) in written.into_iter().enumerate() {
        match result {
            Ok(temp) => temps.push(temp),
            Err(source) => {
                failed.get_or_insert((i, source));
                temps.push(None);
            }
        }
    }
    if let Some((i, source)) = failed {
        remove_temps(&temps);
        return Err(io("write", &changes[i].path, source));
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
    let folders: Vec<&Path> = targets
        .iter()
        .filter_map(|t| t.parent())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let synced = in_parallel(folders.len(), |i| {
        File::open(folders[i]).and_then(|d| d.sync_all())
    });
    for (dir, result) in folders.iter().zip(synced) {
        let result =
            result.unwrap_or_else(|| Err(std::io::Error::other("a syncing thread failed")));
        // The renames are done; a folder that cannot be synced is only a
        // durability warning, not a reason to undo them.
        if let Err(e) = result {
            tracing::warn!(folder = %dir.display(), error = %e, "cannot sync a patched folder");
        }
    }
    Ok(())
}

/// Threads that write and sync at once.
const WRITERS: usize = 32;

/// `work(i)` for every `i` below `count` on up to [`WRITERS`] threads; the
/// results in order, `None` where a thread died before giving one.
fn in_parallel<T: Send>(count: usize, work: impl Fn(usize) -> T + Sync) -> Vec<Option<T>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WRITERS.min(count))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= count {
                            return done;
                        }
                        done.push((i, work(i)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut out: Vec<Option<T>> = (0..count).map(|_| None).collect();
    for (i, result) in results {
        out[i] = Some(result);
    }
    out
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
