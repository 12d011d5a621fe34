//! Taking back a step cut short: an apply, undo or redo of a folder whose
//! process died (killed, crashed, the machine lost power) between
//! journaling the step and recording it as done. The journal (the
//! checkpoint's rows, each file before and after, the after derived
//! again where it is kept as a hash) tells what every file
//! was before the step; each file the step had changed already, whole or
//! part way (each of its bytes what the step writes or what was there
//! before, at that place: the file was cut short while being written
//! over in place), is put back, and the journal
//! ends. (Temp files a writer of an earlier version left beside its
//! targets are removed.) The step is taken back rather than finished: its
//! command never said it succeeded, and a failed apply changes nothing.
//!
//! A file that is none of these was changed since by someone else: it is
//! left alone and named.

use std::fs;
use std::path::Path;

use rusqlite::Connection;

use super::checkpoint::{self, Change, InFlight, Step};
use super::target::Files;
use super::{ProposalError, Result, Target, disk};
use crate::store::applies::{self, Journaled, Writing};
use crate::store::{Store, locks};
use crate::workspace::disk::is_temp_of;

/// A step that was cut short and has been taken back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recovered {
    pub(crate) apply_id: i64,
    pub(crate) patch_id: Option<i64>,
    /// `apply`, `undo` or `redo`.
    pub(crate) step: &'static str,
    /// The files put back as they were before the step.
    pub(crate) files: Vec<String>,
    /// The files changed since by someone else, left as they are.
    pub(crate) left: Vec<String>,
}

/// Takes back every step of `target` that was cut short; what was taken
/// back. Refuses while another process (or this one, on another thread)
/// is writing a step of this workspace. Cheap when there is nothing to do
/// (one query): called before every apply, undo and redo.
pub(crate) fn recover(store: &mut Store, target: &Target) -> Result<Vec<Recovered>> {
    recover_on(&store.conn, target)
}

pub(super) fn recover_on(conn: &Connection, target: &Target) -> Result<Vec<Recovered>> {
    let Files::Dir(folder) = &target.files else {
        return Ok(Vec::new());
    };
    let mut recovered = Vec::new();
    for journaled in applies::journaled(conn, &target.key)? {
        let own = journaled.writer.pid == i64::from(std::process::id())
            && journaled.writer.boot == locks::boot_id();
        let writing = if own {
            InFlight::holds(journaled.apply_id)
        } else {
            locks::writer_alive(journaled.writer.pid, &journaled.writer.boot)
        };
        if writing {
            return Err(ProposalError::Writing {
                workspace: target.label().to_string(),
                pid: journaled.writer.pid,
            });
        }
        recovered.push(take_back(conn, target, folder, &journaled)?);
    }
    for r in &recovered {
        tracing::warn!(
            apply = r.apply_id,
            step = r.step,
            files = r.files.len(),
            left = ?r.left,
            "an interrupted step was taken back"
        );
    }
    Ok(recovered)
}

/// What a taken-back step did, for a person: the step, the files put
/// back, the files left alone.
pub(crate) fn describe_recovered(r: &Recovered) -> String {
    let patch = r
        .patch_id
        .map(|id| format!(" of patch {id}"))
        .unwrap_or_default();
    let mut text = format!(
        "note: an {}{patch} was cut short (its process ended before it was done); it was taken back: {} file{} put back as before",
        r.step,
        r.files.len(),
        if r.files.len() == 1 { "" } else { "s" }
    );
    for path in &r.left {
        text.push_str(&format!(
            "\n  {path} was changed since and is left as it is; check it by hand"
        ));
    }
    text
}

fn take_back(
    conn: &Connection,
    target: &Target,
    folder: &crate::workspace::disk::DiskWorkspace,
    journaled: &Journaled,
) -> Result<Recovered> {
    let step = Step::of(journaled);
    let mut changes = Vec::new();
    let mut left = Vec::new();
    for file in checkpoint::sides(conn, journaled.apply_id)? {
        let (before, after) = (file.before, file.after);
        // What the file was before the step, and what the step makes it.
        let (origin, written) = match journaled.writing {
            Writing::Apply | Writing::Redo => (before, after),
            Writing::Undo => (after, before),
        };
        remove_temps(folder, &file.path, journaled.writer.pid);
        // A file that cannot be read as text is neither side, but may be
        // part of the written side (cut inside a character).
        let now = target.read(conn, &file.path).ok();
        let ours = match now {
            Some(now) if now == origin => continue,
            Some(now) if now == written => true,
            _ => part_written(folder, &file.path, origin.as_ref(), written.as_ref()),
        };
        if ours {
            changes.push(Change {
                path: file.path,
                before: written,
                after: origin,
            });
        } else {
            left.push(file.path);
        }
    }
    if !changes.is_empty() {
        disk::write_all(folder, &changes)?;
    }
    checkpoint::take_back(conn, journaled.apply_id, step)?;
    Ok(Recovered {
        apply_id: journaled.apply_id,
        patch_id: journaled.patch_id,
        step: journaled.writing.as_str(),
        files: changes.into_iter().map(|c| c.path).collect(),
        left,
    })
}

/// Whether the file at `path` is part way from `origin` to `written`,
/// whatever its mode: written over from its start and cut short, or
/// written and not yet given its length or its mode.
fn part_written(
    folder: &crate::workspace::disk::DiskWorkspace,
    path: &str,
    origin: Option<&super::target::Content>,
    written: Option<&super::target::Content>,
) -> bool {
    let Some(written) = written else {
        return false;
    };
    let origin = origin.map_or(&[][..], |o| o.text.as_bytes());
    folder
        .full_path(path)
        .ok()
        .and_then(|full| fs::read(full).ok())
        .is_some_and(|now| between(&now, origin, written.text.as_bytes()))
}

/// Whether every byte of `now` is `origin`'s or `written`'s at its place,
/// and `now` is no longer than the longer of them: what writing `written`
/// over `origin` in place leaves at any moment (or, after a power cut,
/// any mix of the two's pages).
fn between(now: &[u8], origin: &[u8], written: &[u8]) -> bool {
    now.len() <= origin.len().max(written.len())
        && now
            .iter()
            .enumerate()
            .all(|(i, b)| origin.get(i) == Some(b) || written.get(i) == Some(b))
}

/// Removes the temp files process `pid` left beside `path` (an earlier
/// version of the apply wrote through them).
fn remove_temps(folder: &crate::workspace::disk::DiskWorkspace, path: &str, pid: i64) {
    let Ok(full) = folder.full_path(path) else {
        return;
    };
    let (Some(dir), Some(name)) = (full.parent(), full.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let Ok(pid) = u32::try_from(pid) else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| is_temp_of(n, name, pid))
        {
            let _ = fs::remove_file(Path::new(dir).join(entry.file_name()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::between;
    use proptest::prelude::*;

    #[test]
    fn a_file_written_over_part_way_is_between_its_two_sides() {
        let (origin, written) = (&b"one\ntwo\nthree\n"[..], &b"one\nTWO\n"[..]);
        // Cut in the middle, written but not yet given its length, done.
        assert!(between(b"one\nTWo\nthree\n", origin, written));
        assert!(between(b"one\nTWO\nthree\n", origin, written));
        assert!(between(written, origin, written));
        assert!(between(b"", origin, written));
        // A byte neither had, or a file longer than both: someone else's.
        assert!(!between(b"one\nTWX\nthree\n", origin, written));
        assert!(!between(b"one\ntwo\nthree\nfour\n", origin, written));
        // A new file cut short is a prefix of what was written.
        assert!(between(b"on", b"", written));
        assert!(!between(b"ox", b"", written));
    }

    proptest! {
        #[test]
        fn any_moment_of_a_write_over_is_between(
            origin in proptest::collection::vec(any::<u8>(), 0..64),
            written in proptest::collection::vec(any::<u8>(), 0..64),
            cut in 0usize..64,
        ) {
            let cut = cut.min(written.len());
            let mut now = origin.clone();
            now.resize(origin.len().max(cut), 0);
            now[..cut].copy_from_slice(&written[..cut]);
            prop_assert!(between(&now, &origin, &written));
        }
    }
}
