//! The AI pane in the workstation: opening it on the workspace with the
//! open buffer as context, reading the files added to the context for
//! their token estimate, queueing the `ask` job the way the jobs pane
//! queues its jobs, following its log while it runs, and opening the
//! review of the patch it answers with.
//!
//! Reads go through the store worker (or a blocking thread for a folder's
//! files); one poll of the running job is in flight at a time, and an
//! answer for a job the pane no longer follows is dropped.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use serde_json::Value;

use super::{App, AppMsg, Focus, Overlay};
use crate::ai::{fix, usage};
use crate::error::describe;
use crate::jobs::Status;
use crate::jobs::now_ms;
use crate::jobs::payload::{AskPayload, JobPayload};
use crate::jobs::queue::{self, Job, LogLine, NewJob};
use crate::store::ai_calls::{self, Sums};
use crate::store::conversations::Conversation;
use crate::store::jobs::JobKind;
use crate::tui::panes::ai::{AiOp, AiPane, AskState};
use crate::tui::panes::picker::Picker;

/// Log lines one poll takes at most.
const LOG_BATCH: usize = 2000;

/// Answers for the AI pane.
pub(crate) enum AiMsg {
    Queued(Result<i64, String>),
    /// The `ask` job fixing failed job `failed` was queued.
    FixQueued {
        failed: i64,
        result: Result<i64, String>,
    },
    /// The `ask` job asking again for the rejected hunks of `patch`.
    Regenerating {
        patch: i64,
        result: Result<i64, String>,
    },
    FileRead {
        path: String,
        result: Result<Option<String>, String>,
    },
    Conversations(Result<Vec<Conversation>, String>),
    Polled {
        id: i64,
        after: i64,
        result: Result<Box<(Job, Vec<LogLine>)>, String>,
    },
    /// This process's and the workspace's sums of the model's calls.
    Usage(Result<(Sums, Option<Sums>), String>),
}

/// The AI pane and where the keys go back to when it closes.
pub(crate) struct AiState {
    pub pane: AiPane,
    back_to: Focus,
    polling: bool,
    /// What the model's calls cost, for the status bar: none before this
    /// process's first call.
    pub usage: Option<String>,
}

impl AiState {
    pub fn new() -> AiState {
        AiState {
            pane: AiPane::new(),
            back_to: Focus::Workspaces,
            polling: false,
            usage: None,
        }
    }
}

impl App {
    /// Opens the AI pane on the open workspace, with the open buffer as
    /// context.
    pub(crate) fn open_ai(&mut self) -> bool {
        if self.session.is_none() {
            self.notify("open a workspace first: the model changes its files", true);
            return true;
        }
        if self.focus == Focus::Ai {
            self.leave_ai();
            return true;
        }
        self.ai.back_to = self.focus;
        self.focus = Focus::Ai;
        let open = self.active_tab().map(|t| (t.path.clone(), t.buffer.text()));
        let pane = &mut self.ai.pane;
        match open {
            Some((path, text)) if !crate::ai::context::is_never_sent(&path) => {
                if pane.open_file.as_ref().is_none_or(|f| f.path != path) {
                    pane.files.retain(|f| f.path != path);
                    pane.open_file = Some(crate::tui::panes::ai::ContextFile {
                        path: path.clone(),
                        tokens: None,
                    });
                }
                pane.file_read(&path, &text);
            }
            _ => pane.open_file = None,
        }
        true
    }

    pub(crate) fn leave_ai(&mut self) {
        self.focus = match self.ai.back_to {
            Focus::Editor if self.active_tab().is_some() => Focus::Editor,
            Focus::Ai | Focus::Review | Focus::Workspaces => Focus::Workspaces,
            _ if self.session.is_some() => Focus::Tree,
            _ => Focus::Workspaces,
        };
    }

    /// Whether the loop should poll the running `ask` job.
    pub(crate) fn wants_ai_poll(&self) -> bool {
        self.ai.pane.running_job().is_some()
    }

    /// Polls whatever wants it: the jobs view and the running `ask` job.
    pub(crate) fn poll(&mut self) {
        if self.wants_job_poll() {
            self.poll_jobs();
        }
        if self.wants_ai_poll() {
            self.poll_ai();
        }
    }

    pub(crate) fn wants_poll(&self) -> bool {
        self.wants_job_poll() || self.wants_ai_poll()
    }

    /// Asks for the running job's row and its new log lines.
    pub(crate) fn poll_ai(&mut self) {
        let Some(id) = self.ai.pane.running_job() else {
            return;
        };
        if self.ai.polling {
            return;
        }
        self.ai.polling = true;
        let after = self.ai.pane.log.last_seq;
        self.store_work(
            move |store| {
                let job = queue::require(&store.conn, id).map_err(|e| describe(&e))?;
                let lines = queue::logs_after(&store.conn, id, after, LOG_BATCH)
                    .map_err(|e| describe(&e))?;
                Ok(Box::new((job, lines)))
            },
            move |result| AppMsg::Ai(AiMsg::Polled { id, after, result }),
        );
    }

    /// Carries out what the AI pane asked for.
    pub(crate) fn ai_op(&mut self, op: AiOp) {
        match op {
            AiOp::Send(payload) => self.send_ask(payload),
            AiOp::PickFile => {
                let Some(session) = &self.session else { return };
                let items = session
                    .listing
                    .iter()
                    .filter(|p| !crate::ai::context::is_never_sent(p))
                    .map(|p| (p.clone(), String::new(), p.clone()))
                    .collect();
                self.overlay = Some(Overlay::AiFile(Picker::new("Add to the context", items)));
            }
            AiOp::PickConversation => {
                let Some(key) = self.session.as_ref().map(|s| s.key.clone()) else {
                    return;
                };
                let answer = self.services.store.conversations(&key);
                self.in_flight += 1;
                let tx = self.services.tx.clone();
                self.services.runtime.spawn(async move {
                    let result = answer.await.map_err(|e| describe(&e));
                    let _ = tx.send(AppMsg::Ai(AiMsg::Conversations(result)));
                });
            }
            AiOp::Leave => self.leave_ai(),
        }
    }

    /// Queues the `ask` job of the workspace, as the jobs pane queues.
    fn send_ask(&mut self, payload: Value) {
        let Some(place) = self.session.as_ref().map(|s| s.place.clone()) else {
            self.notify("open a workspace first: the model changes its files", true);
            return;
        };
        let kind = JobKind::from("ask");
        let new = NewJob {
            max_attempts: crate::jobs::kinds::default_attempts(&kind),
            kind,
            workspace: Some(place.workspace()),
            payload,
            ..NewJob::default()
        };
        self.store_work(
            move |store| queue::enqueue(&mut store.conn, &new, now_ms()).map_err(|e| describe(&e)),
            |result| AppMsg::Ai(AiMsg::Queued(result)),
        );
    }

    /// Queues the `ask` job that fixes failed job `id` (its command, log
    /// tail and the files the log names), in the job's workspace.
    pub(crate) fn fix_job(&mut self, id: i64) {
        self.store_work(
            move |store| {
                let fix = fix::for_job(store, id).map_err(|e| describe(&e))?;
                let payload = AskPayload {
                    prompt: fix.request.prompt,
                    files: fix.request.files,
                    provider: None,
                    model: None,
                    conversation: None,
                    format: None,
                };
                let new = payload.job(Some(fix.workspace));
                queue::enqueue(&mut store.conn, &new, now_ms()).map_err(|e| describe(&e))
            },
            move |result| AppMsg::Ai(AiMsg::FixQueued { failed: id, result }),
        );
    }

    /// Asks the model again for the rejected hunks of patch `id`, with
    /// their reasons, in the patch's conversation; the AI pane follows the
    /// job and opens the new patch in review.
    pub(crate) fn regenerate_patch(&mut self, id: i64) {
        self.store_work(
            move |store| {
                let proposal = crate::proposal::load(store, id).map_err(|e| describe(&e))?;
                let prompt = crate::ai::feedback::prompt(&proposal.patch, &proposal.decisions)
                    .ok_or_else(|| {
                        "nothing is rejected: reject the hunks to redo (with a reason), then ask again"
                            .to_string()
                    })?;
                let target = crate::proposal::Target::from_key(store, &proposal.row.workspace_key)
                    .map_err(|e| describe(&e))?;
                let files =
                    crate::ai::feedback::rejected_files(&proposal.patch, &proposal.decisions);
                let payload = AskPayload {
                    prompt,
                    files,
                    provider: None,
                    model: None,
                    conversation: proposal.row.conversation_id,
                    format: None,
                };
                let new = payload.job(Some(target.label().to_string()));
                queue::enqueue(&mut store.conn, &new, now_ms()).map_err(|e| describe(&e))
            },
            move |result| AppMsg::Ai(AiMsg::Regenerating { patch: id, result }),
        );
    }

    /// Follows ask job `id` in the AI pane, from wherever the keys were.
    fn follow_ask(&mut self, id: i64, note: String) {
        if self.focus != Focus::Ai {
            self.ai.back_to = self.focus;
            self.focus = Focus::Ai;
        }
        self.ai.pane.sent(id);
        self.notify(note, false);
        if let Some(runner) = self.services.runner.as_ref() {
            runner.wake();
        }
        self.poll_ai();
    }

    /// Reads the sums of this process's calls and of the open workspace's,
    /// for the status bar (after an `ask` job ends, not every frame).
    pub(crate) fn refresh_ai_usage(&mut self) {
        let key = self.session.as_ref().map(|s| s.key.clone());
        self.store_work(
            move |store| {
                let session = ai_calls::sums(&store.conn, None, Some(usage::session()))
                    .map_err(|e| describe(&e))?;
                let workspace = match key {
                    Some(key) => Some(
                        ai_calls::sums(&store.conn, Some(&key), None).map_err(|e| describe(&e))?,
                    ),
                    None => None,
                };
                Ok((session, workspace))
            },
            |result| AppMsg::Ai(AiMsg::Usage(result)),
        );
    }

    /// A file picked for the context: added, then read for its estimate.
    pub(crate) fn add_context_file(&mut self, path: String) {
        if let Err(e) = self.ai.pane.add_file(&path) {
            self.notify(e, true);
            return;
        }
        let wanted = path.clone();
        self.files_work(
            move |files, store| files.read(store, &wanted).map_err(|e| describe(&e)),
            move |result| AppMsg::Ai(AiMsg::FileRead { path, result }),
        );
    }

    /// Takes an answer for the AI pane; returns whether to redraw.
    pub(crate) fn ai_msg(&mut self, msg: AiMsg) -> bool {
        match msg {
            AiMsg::Queued(Ok(id)) => {
                self.ai.pane.sent(id);
                self.notify(format!("asked the model: job {id}"), false);
                if let Some(runner) = self.services.runner.as_ref() {
                    runner.wake();
                }
                self.poll_ai();
            }
            AiMsg::Queued(Err(e)) => self.notify(format!("the request was not queued: {e}"), true),
            AiMsg::FixQueued {
                failed,
                result: Ok(id),
            } => self.follow_ask(id, format!("asked the model to fix job {failed}: job {id}")),
            AiMsg::Regenerating {
                patch,
                result: Ok(id),
            } => self.follow_ask(
                id,
                format!("asked again for the rejected hunks of patch {patch}: job {id}"),
            ),
            AiMsg::Regenerating {
                patch,
                result: Err(e),
            } => self.notify(format!("cannot ask again for patch {patch}: {e}"), true),
            AiMsg::FixQueued {
                failed,
                result: Err(e),
            } => self.notify(format!("cannot fix job {failed} with AI: {e}"), true),
            AiMsg::FileRead { path, result } => match result {
                Ok(Some(text)) => self.ai.pane.file_read(&path, &text),
                Ok(None) => {
                    self.ai.pane.files.retain(|f| f.path != path);
                    self.notify(format!("{path} is no longer in the workspace"), true);
                }
                Err(e) => {
                    self.ai.pane.files.retain(|f| f.path != path);
                    self.notify(format!("cannot read {path}: {e}"), true);
                }
            },
            AiMsg::Conversations(Ok(rows)) if rows.is_empty() => {
                self.notify("no conversation in this workspace yet", false);
            }
            AiMsg::Conversations(Ok(rows)) => {
                let items = rows
                    .into_iter()
                    .map(|c| {
                        let detail = format!("{}/{} · #{}", c.provider, c.model, c.id);
                        (crate::tui::ansi::strip(&c.title), detail, c)
                    })
                    .collect();
                self.overlay = Some(Overlay::Conversations(Picker::new("Continue", items)));
            }
            AiMsg::Conversations(Err(e)) => {
                self.notify(format!("cannot list the conversations: {e}"), true);
            }
            AiMsg::Usage(Ok((session, workspace))) => {
                self.ai.usage = usage_line(session, workspace);
            }
            AiMsg::Usage(Err(e)) => self.notify(format!("cannot add up the AI usage: {e}"), true),
            AiMsg::Polled { id, after, result } => {
                self.ai.polling = false;
                return self.ai_polled(id, after, result);
            }
        }
        true
    }

    fn ai_polled(
        &mut self,
        id: i64,
        after: i64,
        result: Result<Box<(Job, Vec<LogLine>)>, String>,
    ) -> bool {
        let pane = &mut self.ai.pane;
        if pane.running_job() != Some(id) {
            return false;
        }
        let (job, lines) = match result {
            Ok(answer) => *answer,
            Err(e) => {
                self.notify(format!("cannot follow job {id}: {e}"), true);
                return true;
            }
        };
        let full = lines.len() >= LOG_BATCH;
        let redraw = !lines.is_empty();
        if pane.log.last_seq == after {
            pane.polled(lines);
        }
        if full {
            self.poll_ai();
            return true;
        }
        if !job.status.is_final() {
            return redraw;
        }
        self.refresh_ai_usage();
        match job.status {
            Status::Succeeded => {
                let patch_id = job
                    .result
                    .as_ref()
                    .and_then(|r| r.get("patchId"))
                    .and_then(Value::as_i64);
                self.ai.pane.state = AskState::Done { id, patch_id };
                match patch_id {
                    Some(patch) => self.open_review(patch),
                    None => self.notify(
                        format!("job {id}: the model answered without a change"),
                        false,
                    ),
                }
            }
            status => {
                let error = job
                    .error
                    .clone()
                    .unwrap_or_else(|| format!("the job {status}"));
                self.notify(
                    format!("job {id} {status}: `kollega jobs log {id}` has the whole answer"),
                    true,
                );
                self.ai.pane.state = AskState::Failed { id, error };
            }
        }
        true
    }

    pub(crate) fn render_ai(&mut self, area: Rect, buf: &mut Buffer) -> Option<(u16, u16)> {
        let focused = self.overlay.is_none();
        self.ai.pane.render(area, buf, focused, &self.theme)
    }
}

/// "AI 12.4k tok $0.03 · ws $0.41": this process's calls and the
/// workspace's; nothing before this process's first call.
fn usage_line(session: Sums, workspace: Option<Sums>) -> Option<String> {
    if session.requests == 0 {
        return None;
    }
    let tokens = match session.tokens {
        t if t >= 1_000_000 => format!("{:.1}M", t as f64 / 1_000_000.0),
        t if t >= 1_000 => format!("{:.1}k", t as f64 / 1_000.0),
        t => t.to_string(),
    };
    let mut line = format!(
        "AI {tokens} tok ${:.2}",
        usage::dollars(session.cost_micros)
    );
    if let Some(ws) = workspace {
        line.push_str(&format!(" · ws ${:.2}", usage::dollars(ws.cost_micros)));
    }
    Some(line)
}
