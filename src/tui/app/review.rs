//! The review of a patch in the workstation: loading it, storing each
//! decision as it is made, splitting and editing hunks, and writing the
//! accepted hunks. Every read and write goes through the store worker;
//! answers come back as [`ReviewMsg`]s, and one for a patch no longer in
//! review is dropped.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget as _;

use super::{App, AppMsg, Focus};
use crate::error::describe;
use crate::store::Store;
use crate::store::patches::Decision;
use crate::tui::keymap::{Action, Scope};
use crate::tui::panes::review::{ReviewOp, ReviewPane};

/// A stored patch and the decisions on its hunks.
type Stored = crate::store::worker::LoadedPatch;

/// Answers about the patch in review.
pub(crate) enum ReviewMsg {
    Loaded {
        id: i64,
        result: Result<Option<Box<Stored>>, String>,
    },
    /// A decision, a split or an edit was stored (false: the hunk is gone).
    Stored {
        id: i64,
        what: &'static str,
        result: Result<bool, String>,
    },
    Written {
        id: i64,
        result: Result<Changed, String>,
    },
    /// An apply was undone or redone.
    Restored { result: Result<Changed, String> },
}

/// What a write, an undo or a redo changed: the message for the status
/// bar and the files, so open buffers take their new text.
pub(crate) struct Changed {
    pub message: String,
    pub files: Vec<String>,
}

/// Writes the accepted hunks of patch `patch_id` to its workspace, all or
/// nothing; the message for the status bar, or why nothing was written.
/// With `commit`, a write into a git workspace is committed too.
pub(crate) fn write_patch(
    store: &mut Store,
    patch_id: i64,
    commit: bool,
) -> Result<Changed, String> {
    use crate::proposal::{self, Selection, Target};
    let Some(row) = crate::store::patches::get(&store.conn, patch_id).map_err(|e| describe(&e))?
    else {
        return Err(format!(
            "there is no patch {patch_id}: `kollega patch ls` lists the patches"
        ));
    };
    let target = Target::from_key(store, &row.workspace_key).map_err(|e| describe(&e))?;
    let (note, mut files) = recovered_note(store, &target)?;
    let (applied, committed) = if commit && proposal::commits_in(&target) {
        let (applied, committed) =
            proposal::apply_and_commit(store, &target, patch_id, Selection::Accepted)
                .map_err(|e| describe(&e))?;
        (applied, format!(" and committed as {}", committed.short_id))
    } else {
        let applied = proposal::apply(store, &target, patch_id, Selection::Accepted)
            .map_err(|e| describe(&e))?;
        (applied, String::new())
    };
    Ok(Changed {
        message: format!(
            "{note}patch {patch_id}: {} hunk{} written to {} file{}{committed}",
            applied.hunks,
            if applied.hunks == 1 { "" } else { "s" },
            applied.files.len(),
            if applied.files.len() == 1 { "" } else { "s" },
        ),
        files: {
            files.extend(applied.files);
            files
        },
    })
}

/// Takes back the steps a killed process left half written in `target`:
/// a sentence for the status bar (ending in "; ") when there were any,
/// and the files put back.
fn recovered_note(
    store: &mut Store,
    target: &crate::proposal::Target,
) -> Result<(String, Vec<String>), String> {
    let recovered = crate::proposal::recover(store, target).map_err(|e| describe(&e))?;
    let files = recovered.iter().flat_map(|r| r.files.clone()).collect();
    let note = match recovered.len() {
        0 => String::new(),
        n => format!(
            "{n} interrupted step{} taken back first{}; ",
            if n == 1 { "" } else { "s" },
            if recovered.iter().any(|r| !r.left.is_empty()) {
                " (files changed since were left alone)"
            } else {
                ""
            }
        ),
    };
    Ok((note, files))
}

/// Undoes (or redoes) the last apply in the workspace of `key`, all files
/// or none.
pub(crate) fn restore_apply(store: &mut Store, key: &str, redo: bool) -> Result<Changed, String> {
    use crate::proposal::{self, Target};
    let target = Target::from_key(store, key).map_err(|e| describe(&e))?;
    let (note, mut files) = recovered_note(store, &target)?;
    let restored = if redo {
        proposal::redo(store, &target)
    } else {
        proposal::undo(store, &target)
    }
    .map_err(|e| describe(&e))?;
    let what = if redo { "redid" } else { "undid" };
    let patch = restored
        .patch_id
        .map(|id| format!(" of patch {id}"))
        .unwrap_or_default();
    let committed = restored
        .commit
        .as_ref()
        .map(|c| format!(", committed as {}", c.short_id))
        .unwrap_or_default();
    Ok(Changed {
        message: format!(
            "{note}{what} the apply{patch}: {} file{}{committed}",
            restored.files.len(),
            if restored.files.len() == 1 { "" } else { "s" }
        ),
        files: {
            files.extend(restored.files);
            files
        },
    })
}

/// The review and where the keys go back to when it closes.
pub(crate) struct ReviewState {
    pub pane: Option<ReviewPane>,
    back_to: Focus,
    /// `[ai] commit_applies`: a write into a git workspace commits.
    commit_applies: bool,
}

impl ReviewState {
    pub fn new() -> ReviewState {
        ReviewState {
            pane: None,
            back_to: Focus::Workspaces,
            commit_applies: false,
        }
    }
}

impl App {
    /// Whether a write into a git workspace is committed (`[ai]
    /// commit_applies`).
    pub(crate) fn set_commit_applies(&mut self, commit: bool) {
        self.review.commit_applies = commit;
    }

    /// Loads patch `id` and shows it in the review pane.
    pub(crate) fn open_review(&mut self, id: i64) {
        let answer = self.services.store.load_patch(id);
        self.await_store(answer, move |result| {
            AppMsg::Review(ReviewMsg::Loaded {
                id,
                result: result
                    .map(|found| found.map(Box::new))
                    .map_err(|e| describe(&e)),
            })
        });
    }

    /// Waits off the UI task for a store worker answer; `reply` turns it
    /// into the message for the UI task.
    fn await_store<T: Send + 'static>(
        &mut self,
        answer: impl std::future::Future<Output = T> + Send + 'static,
        reply: impl FnOnce(T) -> AppMsg + Send + 'static,
    ) {
        self.in_flight += 1;
        let tx = self.services.tx.clone();
        self.services.runtime.spawn(async move {
            let _ = tx.send(reply(answer.await));
        });
    }

    fn reviewing(&self, id: i64) -> bool {
        self.review.pane.as_ref().is_some_and(|p| p.patch_id == id)
    }

    /// Takes an answer about the review; returns whether to redraw.
    pub(crate) fn review_msg(&mut self, msg: ReviewMsg) -> bool {
        match msg {
            ReviewMsg::Loaded { id, result } => match result {
                Ok(Some(found)) => {
                    let (row, decisions, warnings) = *found;
                    match ReviewPane::new(&row, &decisions, &self.highlighter) {
                        Ok(mut pane) => {
                            pane.warnings = warnings;
                            if self.focus != Focus::Review {
                                self.review.back_to = self.focus;
                            }
                            self.review.pane = Some(pane);
                            self.focus = Focus::Review;
                        }
                        Err(e) => self.notify(e, true),
                    }
                }
                Ok(None) => self.notify(
                    format!("there is no patch {id}: `kollega patch ls` lists the patches"),
                    true,
                ),
                Err(e) => self.notify(format!("cannot read patch {id}: {e}"), true),
            },
            ReviewMsg::Stored { id, what, result } => {
                match result {
                    Ok(true) => {}
                    Ok(false) if self.reviewing(id) => {
                        self.notify(
                        format!("the {what} was not stored: patch {id} changed elsewhere; reloading it"),
                        true,
                    );
                        self.open_review(id);
                    }
                    Ok(false) => {}
                    Err(e) => self.notify(
                        format!("the {what} was not stored: {e}; press the key again"),
                        true,
                    ),
                }
            }
            ReviewMsg::Written { id, result } => match result {
                Ok(mut changed) => {
                    let keys = self.keymap.help(&[Scope::Review]);
                    let undo = keys.iter().find(|(a, _)| *a == Action::UndoApply);
                    changed
                        .message
                        .push_str(&match undo.and_then(|(_, k)| k.first()) {
                            Some(key) => format!("; {key} takes it back"),
                            None => "; `kollega undo` takes it back".into(),
                        });
                    self.files_applied(changed);
                    if self.reviewing(id) {
                        self.open_review(id);
                    }
                }
                Err(e) => self.notify(e, true),
            },
            ReviewMsg::Restored { result } => match result {
                Ok(changed) => self.files_applied(changed),
                Err(e) => self.notify(e, true),
            },
        }
        true
    }

    /// Carries out what the review pane asked for.
    pub(crate) fn review_op(&mut self, op: ReviewOp) {
        match op {
            ReviewOp::Decide {
                patch_id,
                at,
                decision,
                reason,
            } => {
                let answer = self
                    .services
                    .store
                    .decide_hunk(patch_id, at, decision, reason);
                let what = match decision {
                    Decision::Accepted => "acceptance",
                    Decision::Rejected => "rejection",
                    Decision::Pending => "decision",
                };
                self.await_store(answer, move |result| {
                    AppMsg::Review(ReviewMsg::Stored {
                        id: patch_id,
                        what,
                        result: result.map_err(|e| describe(&e)),
                    })
                });
            }
            ReviewOp::Replace {
                patch_id,
                at,
                parts,
                diff,
            } => {
                let answer = self.services.store.replace_hunk(patch_id, at, parts, diff);
                let what = if parts == 1 { "edited hunk" } else { "split" };
                self.await_store(answer, move |result| {
                    AppMsg::Review(ReviewMsg::Stored {
                        id: patch_id,
                        what,
                        result: result.map_err(|e| describe(&e)),
                    })
                });
            }
            ReviewOp::Write { patch_id } => {
                self.notify(
                    format!("writing the accepted hunks of patch {patch_id}…"),
                    false,
                );
                let commit = self.review.commit_applies;
                self.store_work(
                    move |store| write_patch(store, patch_id, commit),
                    move |result| {
                        AppMsg::Review(ReviewMsg::Written {
                            id: patch_id,
                            result,
                        })
                    },
                );
            }
            ReviewOp::Leave => self.leave_review(),
        }
    }

    /// Undoes (or redoes) the open workspace's last apply.
    pub(crate) fn restore_apply(&mut self, redo: bool) -> bool {
        let Some(key) = self.session.as_ref().map(|s| s.key.clone()) else {
            self.notify(
                "open a workspace first: applies are undone per workspace",
                true,
            );
            return true;
        };
        self.store_work(
            move |store| restore_apply(store, &key, redo),
            |result| AppMsg::Review(ReviewMsg::Restored { result }),
        );
        true
    }

    /// After an apply, an undo or a redo: open buffers of the files take
    /// their new text in place (their undo history kept; one with unsaved
    /// typing is offered the new text instead), and the tree and git
    /// follow.
    fn files_applied(&mut self, changed: Changed) {
        self.notify(changed.message, false);
        self.on_watch(crate::workspace::watch::WatchEvent::Changed {
            paths: changed.files,
            git: true,
        });
    }

    /// Where the keys go when the review closes.
    pub(crate) fn review_returns_to(&mut self, focus: Focus) {
        self.review.back_to = focus;
    }

    pub(crate) fn leave_review(&mut self) {
        self.focus = match self.review.back_to {
            Focus::Review => Focus::Workspaces,
            Focus::Editor if self.active_tab().is_some() => Focus::Editor,
            Focus::Workspaces => Focus::Workspaces,
            _ if self.session.is_some() => Focus::Tree,
            _ => Focus::Workspaces,
        };
    }

    /// A rejection's reason was typed (or left empty).
    pub(crate) fn rejected_with(&mut self, patch_id: i64, at: (usize, usize), reason: String) {
        let highlighter = &self.highlighter;
        let Some(pane) = self.review.pane.as_mut().filter(|p| p.patch_id == patch_id) else {
            return;
        };
        let outcome = pane.decide(at, Decision::Rejected, Some(reason), highlighter);
        self.carry_out(outcome);
    }

    pub(crate) fn render_review(&mut self, area: Rect, buf: &mut Buffer) {
        let focused = self.overlay.is_none();
        match &mut self.review.pane {
            Some(pane) => pane.render(area, buf, focused, &self.highlighter, &self.theme),
            None => crate::tui::panes::frame(" loading the patch… ", false, &self.theme)
                .render(area, buf),
        }
    }
}
