//! Writing a set of file changes as one step, and the checkpoints that
//! make each apply undoable: undo restores the last apply's `before` of
//! every file, redo the first undone apply's `after`, each only while
//! every file is as the step it takes back left it.

use std::sync::Mutex;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::target::{Content, Files, MODE_FILE};
use super::{ProposalError, Result, Target, disk};
use crate::store::applies::{self, ApplyFile, ApplyState, Writer, Writing};
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
pub(super) fn write(
    conn: &Connection,
    tx: Transaction<'_>,
    target: &Target,
    changes: &[Change],
    step: Step,
) -> Result<i64> {
    match &target.files {
        Files::Store { id: workspace_id } => {
            let id = journal(&tx, target, changes, step, None)?;
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
            let id = begin(tx, target, changes, step, &Writer::this_process())?;
            let _writing = InFlight::enter(id);
            if let Err(e) = disk::write_all(folder, changes) {
                // The files are as they were: the journal goes too (or,
                // if the store fails now, at the next recovery).
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
    }
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
) -> Result<i64> {
    let id = journal(&tx, target, changes, step, Some(writer))?;
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
) -> Result<i64> {
    match step {
        Step::Apply { patch_id } => {
            let rows: Vec<ApplyFile> = changes
                .iter()
                .map(|c| ApplyFile {
                    path: c.path.clone(),
                    before: c.before.as_ref().map(|b| b.text.as_bytes().to_vec()),
                    after: c.after.as_ref().map(|a| a.text.as_bytes().to_vec()),
                    before_mode: c.before.as_ref().map(|b| b.mode),
                    after_mode: c.after.as_ref().map(|a| a.mode),
                })
                .collect();
            Ok(applies::insert(
                conn,
                &target.key,
                Some(patch_id),
                &rows,
                now_ms(),
                writer,
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
/// to a power cut). A step's journal must be on disk before its first
/// write, and its end before the command says it is done. SQLite
/// changes the level only outside a transaction: make this first.
pub(super) struct Durable<'a>(&'a Connection);

impl<'a> Durable<'a> {
    pub(super) fn new(conn: &'a Connection) -> Result<Durable<'a>> {
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(Durable(conn))
    }
}

impl Drop for Durable<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.pragma_update(None, "synchronous", "NORMAL") {
            tracing::warn!(error = %e, "cannot set the store's synchronous level back");
        }
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
    for file in applies::files(&tx, row.id)? {
        let before = content(&file.path, file.before, file.before_mode)?;
        let after = content(&file.path, file.after, file.after_mode)?;
        let (now_expected, then) = if back {
            (after, before)
        } else {
            (before, after)
        };
        if target.read(&tx, &file.path)? != now_expected {
            return Err(ProposalError::ChangedSince {
                path: file.path,
                what: if back { "apply" } else { "undo" },
                action: if back { "undoing" } else { "redoing" },
            });
        }
        changes.push(Change {
            path: file.path,
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
    let apply_id = write(conn, tx, target, &changes, step)?;
    Ok(Restored {
        apply_id,
        patch_id: row.patch_id,
        files: changes.into_iter().map(|c| c.path).collect(),
        commit: None,
    })
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
