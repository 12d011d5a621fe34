//! Writing a set of file changes as one step, and the checkpoints that
//! make each apply undoable: undo restores the last apply's `before` of
//! every file, redo the first undone apply's `after`, each only while
//! every file is as the step it takes back left it. An apply's `after`
//! is kept as a SHA-256 with the hunks it applied, and derived again from
//! `before` when needed ([`sides`]).

use std::sync::Mutex;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::target::{Content, Files, MODE_FILE};
use super::{ProposalError, Result, Target, disk};
use crate::workspace::disk::DiskWorkspace;
use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::store::applies::{self, AppliedHunks, ApplyState, NewApplyFile, Writer, Writing};
use crate::store::patches::{self, PatchStatus};
use crate::store::{Store, files, locks, now_ms};

/// What one step does to one file; `None` where the file does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) path: String,
    pub(crate) before: Option<Content>,
    pub(crate) after: Option<Content>,
}

/// The step a set of changes is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Apply {
        patch_id: i64,
    },
    Undo {
        apply_id: i64,
        patch_id: Option<i64>,
    },
    Redo {
        apply_id: i64,
        patch_id: Option<i64>,
    },
}

/// How an apply's checkpoint keeps its files' `after`: the hunks it
/// applied, from which each is derived again, and the SHA-256 of each
/// change's `after` (in the order of the changes), which the derived one
/// must have.
pub(super) struct Derived<'a> {
    pub(super) hunks: AppliedHunks,
    pub(super) after_sha256: &'a [Option<[u8; 32]>],
}

/// What an undo or redo restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Restored {
    pub(crate) apply_id: i64,
    pub(crate) patch_id: Option<i64>,
    /// The paths written, created or deleted.
    pub(crate) files: Vec<String>,
    /// The commit that recorded the step, for an apply that was committed.
    pub(crate) commit: Option<crate::git::commit::Committed>,
}

/// Writes `changes` to `target` and records `step`, all or nothing; the
/// checkpoint's id. `tx` is a transaction on `conn` that read what the
/// changes were computed from. A stored workspace changes inside `tx`. A
/// folder's step is journaled first (`tx` commits the checkpoint marked
/// as being written, with the WAL synced), then its files are written,
/// then a second transaction records it as done; a step cut short between
/// the two is taken back by [`super::recover`].
///
/// With `applied` (an apply), the checkpoint keeps each file's `after`
/// as its SHA-256 only, derived again from `before` and those hunks when
/// needed (see [`sides`]).
pub(super) fn write(
    conn: &Connection,
    tx: Transaction<'_>,
    target: &Target,
    changes: &[Change],
    step: Step,
    applied: Option<&Derived<'_>>,
) -> Result<i64> {
    match &target.files {
        Files::Store { id: workspace_id } => {
            let id = journal(&tx, target, changes, step, None, applied)?;
            for change in changes {
                let after = change
                    .after
                    .as_ref()
                    .map(|a| (a.text.as_str(), a.executable()));
                files::put_file(&tx, *workspace_id, &change.path, after)?;
            }
            finish_rows(&tx, target, id, step)?;
            tx.commit()?;
            Ok(id)
        }
        Files::Dir(folder) => {
            let id = begin(tx, target, changes, step, &Writer::this_process(), applied)?;
            write_journaled(conn, folder, target, id, changes, step)
        }
    }
}

/// Writes the `changes` of `step`, journaled as checkpoint `id` (its
/// journal committed, synced), into `folder`, and records the step as
/// done; on a failure, the files and the journal are taken back.
pub(super) fn write_journaled(
    conn: &Connection,
    folder: &DiskWorkspace,
    target: &Target,
    id: i64,
    changes: &[Change],
    step: Step,
) -> Result<i64> {
    let _writing = InFlight::enter(id);
    // The journal is synced; the record of the end need not be (see
    // `Durable`).
    relax(conn);
    if let Err(e) = disk::write_all(folder, changes) {
        // The files are as they were: the journal goes too (or, if the
        // store fails now, at the next recovery).
        if let Err(rows) = take_back(conn, id, step) {
            tracing::error!(apply = id, error = %rows, "cannot end the journal of a failed apply");
        }
        return Err(e);
    }
    let finished = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        .map_err(ProposalError::from)
        .and_then(|tx| {
            finish_rows(&tx, target, id, step)?;
            tx.commit().map_err(ProposalError::from)
        });
    if let Err(e) = finished {
        disk::restore(folder, changes);
        if let Err(rows) = take_back(conn, id, step) {
            tracing::error!(apply = id, error = %rows, "cannot end the journal of a failed apply");
        }
        return Err(e);
    }
    Ok(id)
}

/// Journals `step` in `tx` and commits it (under [`Durable`], with the
/// WAL synced): from here on, a crash leaves the step findable. The
/// checkpoint's id.
pub(super) fn begin(
    tx: Transaction<'_>,
    target: &Target,
    changes: &[Change],
    step: Step,
    writer: &Writer,
    applied: Option<&Derived<'_>>,
) -> Result<i64> {
    let id = journal(&tx, target, changes, step, Some(writer), applied)?;
    tx.commit()?;
    Ok(id)
}

/// The rows of `step` before its files are written: a new checkpoint for
/// an apply, the journal mark for an undo or redo (with a `writer`).
fn journal(
    conn: &Connection,
    target: &Target,
    changes: &[Change],
    step: Step,
    writer: Option<&Writer>,
    applied: Option<&Derived<'_>>,
) -> Result<i64> {
    match step {
        Step::Apply { patch_id } => {
            let rows = apply_rows(changes, applied.map(|d| d.after_sha256));
            Ok(applies::insert(
                conn,
                &target.key,
                Some(patch_id),
                &rows,
                now_ms(),
                writer,
                applied.map(|d| &d.hunks),
            )?)
        }
        Step::Undo { apply_id, .. } | Step::Redo { apply_id, .. } => {
            if let Some(writer) = writer {
                applies::set_writing(conn, apply_id, step.writing(), writer)?;
            }
            Ok(apply_id)
        }
    }
}

/// An apply checkpoint's rows of `changes`: each file's `after` whole,
/// or, with `after_sha256` (one per change, in order), as that hash
/// only (see [`Derived`]).
pub(super) fn apply_rows<'a>(
    changes: &'a [Change],
    after_sha256: Option<&'a [Option<[u8; 32]>]>,
) -> Vec<NewApplyFile<'a>> {
    let derived = after_sha256.is_some();
    let hashes = after_sha256.unwrap_or_default();
    changes
        .iter()
        .enumerate()
        .map(|(i, c)| NewApplyFile {
            path: &c.path,
            before: c.before.as_ref().map(|b| b.text.as_bytes()),
            after: c
                .after
                .as_ref()
                .filter(|_| !derived)
                .map(|a| a.text.as_bytes()),
            before_mode: c.before.as_ref().map(|b| b.mode),
            after_mode: c.after.as_ref().map(|a| a.mode),
            after_sha256: hashes.get(i).and_then(|h| h.as_ref()).map(|h| &h[..]),
        })
        .collect()
}

/// The rows of `step` once its files are written: the checkpoint's state,
/// the patch's status, the journal's end.
fn finish_rows(conn: &Connection, target: &Target, id: i64, step: Step) -> Result<()> {
    let now = now_ms();
    let (patch, status) = match step {
        Step::Apply { patch_id } => {
            applies::finish_apply(conn, &target.key, id)?;
            (Some(patch_id), PatchStatus::Applied)
        }
        Step::Undo { patch_id, .. } => {
            applies::set_state(conn, id, ApplyState::Undone, now)?;
            applies::clear_writing(conn, id)?;
            (patch_id, PatchStatus::Pending)
        }
        Step::Redo { patch_id, .. } => {
            applies::set_state(conn, id, ApplyState::Applied, now)?;
            applies::clear_writing(conn, id)?;
            (patch_id, PatchStatus::Applied)
        }
    };
    if let Some(patch) = patch {
        patches::set_status(conn, patch, status, now)?;
    }
    Ok(())
}

/// Ends the journal of a step whose files are as before it: an apply's
/// checkpoint goes, an undo's or redo's mark is cleared.
pub(super) fn take_back(conn: &Connection, id: i64, step: Step) -> Result<()> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    match step {
        Step::Apply { .. } => applies::remove(&tx, id)?,
        Step::Undo { .. } | Step::Redo { .. } => applies::clear_writing(&tx, id)?,
    }
    tx.commit()?;
    Ok(())
}

impl Step {
    fn writing(self) -> Writing {
        match self {
            Step::Apply { .. } => Writing::Apply,
            Step::Undo { .. } => Writing::Undo,
            Step::Redo { .. } => Writing::Redo,
        }
    }

    /// The step a journal entry is.
    pub(super) fn of(journaled: &applies::Journaled) -> Step {
        let (apply_id, patch_id) = (journaled.apply_id, journaled.patch_id);
        match journaled.writing {
            Writing::Apply => Step::Apply {
                patch_id: patch_id.unwrap_or_default(),
            },
            Writing::Undo => Step::Undo { apply_id, patch_id },
            Writing::Redo => Step::Redo { apply_id, patch_id },
        }
    }
}

impl Writer {
    /// This process, as a journal names its writer.
    pub(super) fn this_process() -> Writer {
        Writer {
            pid: i64::from(std::process::id()),
            boot: locks::boot_id(),
        }
    }
}

/// Commits synced to disk while this lives (SQLite's `synchronous =
/// FULL`; the store's everyday level, NORMAL, may lose the last commits
/// to a power cut, never to a killed process). A folder's step needs one
/// synced commit: its journal, on disk before the first file is written,
/// so that a power cut at any moment after leaves the step findable and
/// it is taken back. The record of its end is an ordinary commit (see
/// [`relax`]): a power cut within moments of it may lose it, and the
/// step, journaled and no longer marked done, is then taken back whole
/// at the next start; a killed process loses nothing. SQLite changes
/// the level only outside a transaction: make this first.
pub(super) struct Durable<'a>(&'a Connection);

impl<'a> Durable<'a> {
    pub(super) fn new(conn: &'a Connection) -> Result<Durable<'a>> {
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(Durable(conn))
    }
}

impl Drop for Durable<'_> {
    fn drop(&mut self) {
        relax(self.0);
    }
}

/// Sets the store's everyday synchronous level (NORMAL) back, outside a
/// transaction.
fn relax(conn: &Connection) {
    if let Err(e) = conn.pragma_update(None, "synchronous", "NORMAL") {
        tracing::warn!(error = %e, "cannot set the store's synchronous level back");
    }
}

/// The checkpoints this process is writing now: a journal entry of this
/// process that is not among them was left by a failure.
static IN_FLIGHT: Mutex<Vec<i64>> = Mutex::new(Vec::new());

/// Checkpoint `id` in [`IN_FLIGHT`] while this lives.
pub(super) struct InFlight(i64);

impl InFlight {
    pub(super) fn enter(id: i64) -> InFlight {
        IN_FLIGHT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(id);
        InFlight(id)
    }

    /// Whether this process is writing checkpoint `id` now.
    pub(super) fn holds(id: i64) -> bool {
        IN_FLIGHT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&id)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|&id| id != self.0);
    }
}

/// Takes back the last apply in `target`, if every file it wrote is still
/// as it left it.
pub(crate) fn undo(store: &mut Store, target: &Target) -> Result<Restored> {
    step_back_or_forth(store, target, true)
}

/// Applies again the apply undone last, if every file is still as the
/// undo left it.
pub(crate) fn redo(store: &mut Store, target: &Target) -> Result<Restored> {
    step_back_or_forth(store, target, false)
}

fn step_back_or_forth(store: &mut Store, target: &Target, back: bool) -> Result<Restored> {
    super::recover(store, target)?;
    let conn = &store.conn;
    let _durable = Durable::new(conn)?;
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let row = if back {
        applies::last_applied(&tx, &target.key)?.ok_or(ProposalError::Nothing("undo"))?
    } else {
        applies::first_undone(&tx, &target.key)?.ok_or(ProposalError::Nothing("redo"))?
    };
    let mut changes = Vec::new();
    for side in sides(&tx, row.id)? {
        let (file, before, after) = (side.path, side.before, side.after);
        let (now_expected, then) = if back {
            (after, before)
        } else {
            (before, after)
        };
        if target.read(&tx, &file)? != now_expected {
            return Err(ProposalError::ChangedSince {
                path: file,
                what: if back { "apply" } else { "undo" },
                action: if back { "undoing" } else { "redoing" },
            });
        }
        changes.push(Change {
            path: file,
            before: now_expected,
            after: then,
        });
    }
    let step = if back {
        Step::Undo {
            apply_id: row.id,
            patch_id: row.patch_id,
        }
    } else {
        Step::Redo {
            apply_id: row.id,
            patch_id: row.patch_id,
        }
    };
    let apply_id = write(conn, tx, target, &changes, step, None)?;
    Ok(Restored {
        apply_id,
        patch_id: row.patch_id,
        files: changes.into_iter().map(|c| c.path).collect(),
        commit: None,
    })
}

/// One file of a checkpoint, before and after the apply.
pub(super) struct Sides {
    pub(super) path: String,
    pub(super) before: Option<Content>,
    pub(super) after: Option<Content>,
}

/// The files of checkpoint `id`, in path order, each before and after the
/// apply. An `after` kept as a SHA-256 only is derived from the `before`
/// of every file and the hunks the apply wrote, and checked against it.
pub(super) fn sides(conn: &Connection, id: i64) -> Result<Vec<Sides>> {
    let rows = applies::files(conn, id)?;
    let mut out = Vec::with_capacity(rows.len());
    let mut hashes = Vec::new();
    for file in rows {
        let before = content(&file.path, file.before, file.before_mode)?;
        let after = content(&file.path, file.after, file.after_mode)?;
        if let Some(sha) = file.after_sha256 {
            hashes.push((out.len(), sha, file.after_mode.unwrap_or(MODE_FILE)));
        }
        out.push(Sides {
            path: file.path,
            before,
            after,
        });
    }
    if hashes.is_empty() {
        return Ok(out);
    }
    let cannot = |path: &str, why: &str| ProposalError::File {
        path: path.to_string(),
        what: "restored",
        why: why.to_string(),
    };
    let (patch_id, applied) = applies::applied_hunks(conn, id)?.ok_or_else(|| {
        cannot(
            &out[hashes[0].0].path,
            "its checkpoint no longer names the patch its content after the apply is derived from",
        )
    })?;
    let diff = patches::get(conn, patch_id)?
        .ok_or_else(|| {
            cannot(
                &out[hashes[0].0].path,
                "the patch of its checkpoint is gone",
            )
        })?
        .diff;
    let patch = crate::patch::parse(diff.as_bytes())?;
    let before: HashMap<String, Option<Content>> = out
        .iter()
        .map(|s| (s.path.clone(), s.before.clone()))
        .collect();
    let mut derived: HashMap<String, Option<Content>> =
        super::apply::derive_afters(&patch, &applied, &before)?
            .into_iter()
            .collect();
    for (at, sha, mode) in hashes {
        let side = &mut out[at];
        let after = derived.remove(&side.path).flatten().filter(|a| {
            a.mode == mode && Sha256::digest(a.text.as_bytes()).as_slice() == sha.as_slice()
        });
        side.after = Some(after.ok_or_else(|| {
            cannot(
                &side.path,
                "its content after the apply, derived from its patch, is not what was written (the patch was rewritten since)",
            )
        })?);
    }
    Ok(out)
}

/// A checkpoint's side of a file as content.
pub(super) fn content(
    path: &str,
    bytes: Option<Vec<u8>>,
    mode: Option<u32>,
) -> Result<Option<Content>> {
    bytes
        .map(|bytes| {
            let text = String::from_utf8(bytes).map_err(|_| ProposalError::File {
                path: path.to_string(),
                what: "restored",
                why: "its stored copy is not UTF-8 text".into(),
            })?;
            Ok(Content {
                text,
                mode: mode.unwrap_or(MODE_FILE),
            })
        })
        .transpose()
}
