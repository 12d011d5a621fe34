//! Writing a set of file changes as one step, and the checkpoints that
//! make each apply undoable: undo restores the last apply's `before` of
//! every file, redo the first undone apply's `after`, each only while
//! every file is as the step it takes back left it.

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::target::{Content, Files, MODE_FILE};
use super::{ProposalError, Result, Target, disk};
use crate::store::applies::{self, ApplyFile, ApplyState};
use crate::store::patches::{self, PatchStatus};
use crate::store::{Store, files, now_ms};

/// What one step does to one file; `None` where the file does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) path: String,
    pub(crate) before: Option<Content>,
    pub(crate) after: Option<Content>,
}

/// The step a set of changes is.
#[derive(Debug, Clone, Copy)]
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
}

/// Writes `changes` to `target` and records `step`, all or nothing; the
/// checkpoint's id. A stored workspace changes inside `tx`; a folder is
/// written while `tx` holds the step's rows, and restored if the commit
/// fails.
pub(super) fn write(
    tx: Transaction<'_>,
    target: &Target,
    changes: &[Change],
    step: Step,
) -> Result<i64> {
    let id = record(&tx, target, changes, step)?;
    match &target.files {
        Files::Store { id: workspace_id } => {
            for change in changes {
                let after = change
                    .after
                    .as_ref()
                    .map(|a| (a.text.as_str(), a.executable()));
                files::put_file(&tx, *workspace_id, &change.path, after)?;
            }
            tx.commit()?;
        }
        Files::Dir(folder) => {
            disk::write_all(folder, changes)?;
            if let Err(e) = tx.commit() {
                disk::restore(folder, changes);
                return Err(e.into());
            }
        }
    }
    Ok(id)
}

fn record(conn: &Connection, target: &Target, changes: &[Change], step: Step) -> Result<i64> {
    let now = now_ms();
    let (id, patch, status) = match step {
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
            let id = applies::insert(conn, &target.key, Some(patch_id), &rows, now)?;
            (id, Some(patch_id), PatchStatus::Applied)
        }
        Step::Undo { apply_id, patch_id } => {
            applies::set_state(conn, apply_id, ApplyState::Undone, now)?;
            (apply_id, patch_id, PatchStatus::Pending)
        }
        Step::Redo { apply_id, patch_id } => {
            applies::set_state(conn, apply_id, ApplyState::Applied, now)?;
            (apply_id, patch_id, PatchStatus::Applied)
        }
    };
    if let Some(patch) = patch {
        patches::set_status(conn, patch, status, now)?;
    }
    Ok(id)
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
    let tx = store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
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
    let apply_id = write(tx, target, &changes, step)?;
    Ok(Restored {
        apply_id,
        patch_id: row.patch_id,
        files: changes.into_iter().map(|c| c.path).collect(),
    })
}

/// A checkpoint's side of a file as content.
fn content(path: &str, bytes: Option<Vec<u8>>, mode: Option<u32>) -> Result<Option<Content>> {
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
