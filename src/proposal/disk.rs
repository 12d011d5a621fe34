//! Writing a step's changes into a folder, in place: each changed file
//! is written over from its first byte and then given its new length, a
//! new file is created, a deleted file removed; a file keeps its mode
//! unless the step changes its executable bit. A failure part way puts
//! back every file already written, the failing one included, from the
//! changes' `before`.
//!
//! No temp file and rename per file is needed for all or nothing: the
//! step is journaled in the store, every file before (and after, or
//! what derives it), synced, before the first write (see `checkpoint`),
//! and a step cut short (a killed process, a power cut) is taken back
//! from that journal before the next one (see `recover`): each file is
//! as before, as after, or part way between, every byte of it one of
//! the two's at its place (the writes of a file go from its start, its
//! length is set last), and all of them are put back as before. What a
//! reader of a file sees while it is being written is what it sees
//! during any in-place write (`git apply` empties a file and writes it
//! again), for the moment of its write.
//!
//! Writing over a file rather than emptying it (`O_TRUNC`) or replacing
//! it (unlink and create, or rename) keeps its blocks: nothing is freed
//! and allocated again, and ext4 does not flush a file emptied and
//! rewritten when it is closed (`auto_da_alloc`). A thousand files of
//! 3 KB, each a line longer, took 9 ms written over against 24 to 51 ms
//! emptied and written, and 290 ms removed and created again (as `git
//! apply` does), on the machine of docs/performance.md.
//!
//! Nothing is fsynced file by file: the new content reaches the disk with
//! the file system's writeback, as the files `git apply` or an editor
//! writes do, and a step whose record of being done a power cut lost is
//! taken back whole from its journal. A new file alone is fsynced.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::checkpoint::Change;
use super::target::Content;
use super::{ProposalError, Result};
use crate::workspace::disk::{DiskWorkspace, Resolver};

/// Writes every change, or none of them.
pub(super) fn write_all(folder: &DiskWorkspace, changes: &[Change]) -> Result<()> {
    let targets = full_paths(folder, changes)?;
    let mut folders = HashSet::new();
    for (i, (change, full)) in changes.iter().zip(&targets).enumerate() {
        let done = match &change.after {
            Some(content) => {
                // A file there before is in its folder already.
                let parent = match change.before {
                    None => make_parent(full, &mut folders),
                    Some(_) => Ok(()),
                };
                parent.map_err(Failed::untouched).and_then(|()| {
                    write_in_place(full, content, change.before.as_ref(), Fresh::MustBe)
                })
            }
            None => remove(full).map_err(Failed::untouched),
        };
        if let Err(failed) = done {
            // A file truncated before its write failed goes back too.
            let end = if failed.touched { i + 1 } else { i };
            put_back(&changes[..end], &targets[..end]);
            return Err(io("write", &change.path, failed.source));
        }
    }
    Ok(())
}

fn full_paths(folder: &DiskWorkspace, changes: &[Change]) -> Result<Vec<PathBuf>> {
    let mut resolver = Resolver::new(folder);
    changes
        .iter()
        .map(|c| resolver.full_path(&c.path).map_err(Into::into))
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
    let mut resolver = Resolver::new(folder);
    let targets: Vec<PathBuf> = changes
        .iter()
        .filter_map(|c| resolver.full_path(&c.path).ok())
        .collect();
    if targets.len() == changes.len() {
        put_back(changes, &targets);
    }
}

/// Writes each change's `before` over whatever its file is now: its
/// `after`, or part of it.
fn put_back(changes: &[Change], targets: &[PathBuf]) {
    for (change, full) in changes.iter().zip(targets) {
        let result = match &change.before {
            Some(content) => full
                .parent()
                .map_or(Ok(()), fs::create_dir_all)
                .map_err(Failed::untouched)
                .and_then(|()| write_in_place(full, content, change.after.as_ref(), Fresh::MayBe))
                .map_err(|f| f.source),
            None => remove(full),
        };
        if let Err(e) = result {
            tracing::error!(path = %change.path, error = %e, "cannot put a file back after a failed apply");
        }
    }
}

/// Removes `full`; a file already gone is fine.
fn remove(full: &Path) -> std::io::Result<()> {
    match fs::remove_file(full) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Whether a file to be written where none was may exist already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fresh {
    /// No: a file that appeared since the step was planned is someone
    /// else's, and is not overwritten.
    MustBe,
    /// Yes: a file put back may be there, part written.
    MayBe,
}

/// A write that failed, and whether the file had been changed (truncated
/// or created) before it did.
struct Failed {
    touched: bool,
    source: std::io::Error,
}

impl Failed {
    fn untouched(source: std::io::Error) -> Failed {
        Failed {
            touched: false,
            source,
        }
    }
}

fn io(action: &'static str, path: &str, source: std::io::Error) -> ProposalError {
    ProposalError::Io {
        action,
        path: path.to_string(),
        source,
    }
}

/// Writes `content` into `full` in place: over the file's bytes from its
/// start, then its length. `was` is the file as the step found it
/// (`None`: no file): its permissions stay unless the executable bit
/// changes, which gives 0755 or 0644; a new file gets one of those
/// (whatever the umask) and is fsynced.
fn write_in_place(
    full: &Path,
    content: &Content,
    was: Option<&Content>,
    fresh: Fresh,
) -> std::result::Result<(), Failed> {
    let executable = content.executable();
    let mode = if executable { 0o755 } else { 0o644 };
    let mut options = OpenOptions::new();
    // The paths come from a `Resolver`: a link at the file is refused.
    options
        .write(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW);
    match (was, fresh) {
        (None, Fresh::MustBe) => options.create_new(true),
        _ => options.create(true),
    };
    let mut file = options.open(full).map_err(Failed::untouched)?;
    let mut write = || -> std::io::Result<()> {
        let bytes = content.text.as_bytes();
        file.write_all(bytes)?;
        // A file planned from what was read moments ago ends where this
        // write did unless it was longer; one put back may be anything.
        let ends_here = fresh == Fresh::MustBe && was.is_none_or(|w| w.text.len() <= bytes.len());
        if !ends_here {
            // usize to u64 is lossless on every target Rust supports.
            file.set_len(bytes.len() as u64)?;
        }
        if was.is_none_or(|was| was.executable() != executable) {
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        if was.is_none() {
            file.sync_all()?;
        }
        Ok(())
    };
    write().map_err(|source| Failed {
        touched: true,
        source,
    })
}
