//! The workstation: its panes, which of them has the keys, and what the
//! app does with what they ask for.
//!
//! A key becomes an [`Action`] through the keymap and goes to the focused
//! pane's `update`, which changes the pane's own state and answers an
//! [`Outcome`]: nothing, a redraw, or [`Effect`]s the app carries out
//! (open a file, save, run git, queue a job, show a prompt), as gitui's
//! queue and codex-rs's `AppEvent` do. A pane never reaches into another
//! pane or into the store.
//!
//! Nothing slow runs here. Reads and writes of the store go to the store
//! worker (its own connection and thread), files on disk and git to
//! blocking threads; their answers come back as [`AppMsg`]s tagged with a
//! generation, so an answer for a session, a status or a diff no longer
//! shown is dropped. Rendering is a function of this state, so tests draw
//! it on a `TestBackend`.

mod ai;
mod git;
mod grep;
mod jobs;
mod meetings;
mod quit;
pub(crate) mod review;
mod session;
pub(crate) mod side;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseButton, MouseEventKind};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::widgets::{Block, Widget};
use tokio::sync::mpsc::UnboundedSender;

pub(crate) use ai::AiMsg;
pub(crate) use git::GitMsg;
pub(crate) use grep::GrepMsg;
pub(crate) use jobs::{JobsMsg, POLL as JOBS_POLL};
pub(crate) use meetings::MeetingsMsg;
pub(crate) use review::ReviewMsg;
pub(crate) use session::{OpenTarget, SessionMsg};

use super::keymap::{Action, KeyChord, Keymap, Lookup, Scope};
use super::layout::{self, Areas, Side};
use super::panes::editor::{EditorPane, Mode, click_target};
use super::panes::git::GitOp;
use super::panes::help;
use super::panes::picker::{Picker, PickerOutcome};
use super::panes::prompt::{self, ConfirmKind, Prompt, PromptKind, PromptOutcome};
use super::panes::status::StatusLine;
use super::panes::workspaces::WorkspacesPane;
use super::theme::Theme;
use crate::autosave::{AutosaveEvent, AutosaveReport};
use crate::editor::ex::ExCommand;
use crate::editor::highlight::Highlighter;
use crate::editor::search::Query;
use crate::jobs::runner;
use crate::store::worker::StoreHandle;
use crate::store::workspaces::Workspace;
use crate::workspace::watch::WatchEvent;
use session::{FileChange, Session};

/// Commands the palette remembers as picked lately.
const RECENT_COMMANDS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Focus {
    Workspaces,
    Tree,
    Editor,
    /// The git changes list (in place of the tree) and its diff.
    Changes,
    Diff,
    /// The jobs list (in place of the workspaces, tree and editor) and the
    /// selected job's log.
    Jobs,
    JobLog,
    /// The review of a patch (in place of everything but the status line).
    Review,
    /// The AI pane (in place of everything but the status line).
    Ai,
    /// The meeting dashboard (in place of everything but the status line).
    Meetings,
}

impl Focus {
    fn name(self) -> &'static str {
        match self {
            Focus::Workspaces => "workspaces",
            Focus::Tree => "tree",
            Focus::Editor => "editor",
            Focus::Changes | Focus::Diff => "changes",
            Focus::Jobs | Focus::JobLog => "jobs",
            Focus::Review => "review",
            Focus::Ai => "ai",
            Focus::Meetings => "meetings",
        }
    }
}

pub(crate) enum Overlay {
    Help(help::HelpView),
    Palette(Picker<Action>),
    Finder(Picker<String>),
    Grep(super::panes::grep::GrepView),
    /// "Run task…": the workspace's tasks.
    Tasks(Picker<crate::jobs::tasks::Task>),
    Prompt(Prompt),
    Confirm(ConfirmKind),
    Conflict,
    /// A job's details over the jobs view.
    JobDetails(i64),
    /// A file of the workspace to add to the AI pane's context.
    AiFile(Picker<String>),
    /// A conversation of the workspace to continue in the AI pane.
    Conversations(Picker<crate::store::conversations::Conversation>),
    /// Quitting once the jobs running here have ended.
    QuitWait,
}

/// What a pane answers to an action.
#[must_use]
pub(crate) enum Outcome {
    /// Not the pane's action, or nothing changed: no redraw.
    Ignored,
    Redraw,
    /// Redraw, and carry this out.
    Effect(Effect),
    Effects(Vec<Effect>),
}

impl Outcome {
    /// Ask for a line of input.
    pub(crate) fn prompt(kind: PromptKind, initial: &str) -> Outcome {
        Outcome::Effect(Effect::Overlay(Box::new(Overlay::Prompt(Prompt::new(
            kind, initial,
        )))))
    }
}

/// What a pane asks the app to do.
pub(crate) enum Effect {
    /// A line in the status bar; `true` for an error.
    Notify(String, bool),
    /// Into the register of the terminal's clipboard (OSC 52).
    Copy(String),
    Focus(Focus),
    Overlay(Box<Overlay>),
    Confirm(ConfirmKind),
    /// Ask about the next tab whose file changed under it, if any.
    ShowConflict,
    OpenWorkspace(Workspace),
    OpenFile(String),
    /// Save the active tab.
    Save,
    Git(GitOp),
    RequestDiff,
    RefreshGit,
    /// Leave the changes view for the editor (or the tree).
    LeaveChanges,
    /// `git push` (or pull) of the repository as a job.
    Remote {
        push: bool,
    },
    LeaveJobs,
    RetryJob(i64),
    /// Ask the model to fix a failed job, following the answer.
    FixJob(i64),
    /// Store a review decision, a split or an edit; write or leave.
    Review(super::panes::review::ReviewOp),
    /// Send a prompt, pick a file or a conversation, leave the AI pane.
    Ai(super::panes::ai::AiOp),
    /// Read or change meetings, leave the dashboard.
    Meetings(super::panes::meetings::MeetingsOp),
}

/// Answers from the store worker, blocking threads and git for the UI task.
pub(crate) enum AppMsg {
    Session(SessionMsg),
    Git(GitMsg),
    Jobs(JobsMsg),
    Review(ReviewMsg),
    Ai(AiMsg),
    Grep(GrepMsg),
    /// The side column's width was saved, or why not.
    SideSaved(Option<String>),
    Meetings(MeetingsMsg),
    /// The store worker did not answer.
    Lost(String),
}

/// Where slow work goes and how its answers come back.
#[derive(Clone)]
pub(crate) struct Services {
    pub runtime: tokio::runtime::Handle,
    pub tx: UnboundedSender<AppMsg>,
    pub watch: UnboundedSender<WatchEvent>,
    /// The store worker: every read and write of the store.
    pub store: StoreHandle,
    /// This process's job runner, woken when a job is enqueued here.
    pub runner: Option<Arc<runner::Handle>>,
    /// Drafts and the editor state; without it (tests) nothing is autosaved.
    pub autosave: Option<UnboundedSender<AutosaveEvent>>,
}

pub(crate) struct App {
    services: Services,
    ignored: Vec<String>,
    theme: Theme,
    keymap: Keymap,
    highlighter: Highlighter,
    workspaces: WorkspacesPane,
    pub(crate) session: Option<Session>,
    /// The name of a workspace being opened, until it has loaded.
    opening: Option<String>,
    /// Bumped by every open: answers for an older session are dropped.
    generation: u64,
    pub(crate) focus: Focus,
    overlay: Option<Overlay>,
    pending: Vec<KeyChord>,
    message: Option<(String, bool)>,
    /// Commands picked in the palette, the latest first: the palette
    /// lists them before the others.
    recent: Vec<Action>,
    autosave_status: Option<(String, bool)>,
    clipboard_out: Option<String>,
    jobs: jobs::JobsState,
    review: review::ReviewState,
    ai: ai::AiState,
    side: Side,
    pub(crate) meetings: meetings::MeetingsState,
    /// The terminal's size at the last frame or resize: the mouse finds
    /// things where that layout put them.
    screen: Rect,
    /// Answers still to come from workers.
    in_flight: usize,
    /// A file (and line) to open once the session has loaded.
    pending_open: Option<(String, Option<session::Spot>)>,
    /// Editors start with soft wrap on (`[ui] soft_wrap`).
    pub soft_wrap: bool,
    pub quit: bool,
    /// What becomes of the jobs running here when the app quits.
    pub quit_stop: runner::Stop,
}

impl App {
    pub fn new(
        services: Services,
        theme: Theme,
        keymap: Keymap,
        ignored: Vec<String>,
        workspaces: Vec<Workspace>,
    ) -> App {
        let highlighter = Highlighter::new(&theme.syntax_palette());
        App {
            services,
            ignored,
            theme,
            keymap,
            highlighter,
            workspaces: WorkspacesPane::new(workspaces),
            session: None,
            opening: None,
            generation: 0,
            focus: Focus::Workspaces,
            overlay: None,
            pending: Vec::new(),
            message: None,
            recent: Vec::new(),
            autosave_status: None,
            clipboard_out: None,
            jobs: jobs::JobsState::new(),
            review: review::ReviewState::new(),
            ai: ai::AiState::new(),
            side: Side::default(),
            meetings: meetings::MeetingsState::new(),
            screen: Rect::new(0, 0, 100, 30),
            in_flight: 0,
            pending_open: None,
            soft_wrap: false,
            quit: false,
            quit_stop: runner::Stop::Interrupt,
        }
    }

    /// Shows a message (or an error) in the status bar.
    pub fn notify(&mut self, message: impl Into<String>, is_error: bool) {
        self.message = Some((message.into(), is_error));
    }

    /// Text to put on the terminal's clipboard (OSC 52), taken once.
    pub fn take_clipboard(&mut self) -> Option<String> {
        self.clipboard_out.take()
    }

    /// The status bar's message, if any.
    pub fn status_message(&self) -> Option<&str> {
        self.autosave_status
            .as_ref()
            .or(self.message.as_ref())
            .map(|(m, _)| m.as_str())
    }

    /// Answers the app still waits for (tests and benchmarks settle on 0).
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    fn editor(&self) -> Option<&EditorPane> {
        self.session.as_ref().map(|s| &s.editor)
    }

    /// Open files with unsaved changes.
    fn unsaved_files(&self) -> usize {
        self.editor()
            .map_or(0, |e| e.tabs.iter().filter(|t| t.is_dirty()).count())
    }

    fn editor_mut(&mut self) -> Option<&mut EditorPane> {
        self.session.as_mut().map(|s| &mut s.editor)
    }

    fn active_tab(&self) -> Option<&super::panes::editor::Tab> {
        self.editor().and_then(EditorPane::active_tab)
    }

    fn mode(&self) -> Mode {
        self.editor().map_or(Mode::Normal, |e| e.mode)
    }

    /// Runs `work` on a blocking thread; its message comes back to the UI
    /// task.
    fn spawn_blocking(&mut self, work: impl FnOnce() -> AppMsg + Send + 'static) {
        self.in_flight += 1;
        let tx = self.services.tx.clone();
        self.services.runtime.spawn_blocking(move || {
            let _ = tx.send(work());
        });
    }

    /// Runs `work` on the store worker's connection; `reply` turns its
    /// answer into the message for the UI task.
    fn store_work<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&mut crate::store::Store) -> T + Send + 'static,
        reply: impl FnOnce(T) -> AppMsg + Send + 'static,
    ) {
        self.in_flight += 1;
        let tx = self.services.tx.clone();
        let answer = self.services.store.run(work);
        self.services.runtime.spawn(async move {
            let msg = match answer.await {
                Ok(value) => reply(value),
                Err(e) => AppMsg::Lost(crate::error::describe(&e)),
            };
            let _ = tx.send(msg);
        });
    }

    /// Takes an answer from a worker; returns whether to redraw.
    pub fn message_in(&mut self, msg: AppMsg) -> bool {
        // A search's batches come before its one answer.
        if !matches!(msg, AppMsg::Grep(GrepMsg::Batch { .. })) {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        match msg {
            AppMsg::Session(msg) => self.session_msg(msg),
            AppMsg::Git(msg) => self.git_msg(msg),
            AppMsg::Jobs(msg) => self.jobs_msg(msg),
            AppMsg::Review(msg) => self.review_msg(msg),
            AppMsg::Ai(msg) => self.ai_msg(msg),
            AppMsg::Grep(msg) => self.grep_msg(msg),
            AppMsg::SideSaved(e) => e.is_some_and(|e| {
                self.notify(format!("the tree's width was not saved: {e}"), true);
                true
            }),
            AppMsg::Meetings(msg) => self.meetings_msg(msg),
            AppMsg::Lost(e) => {
                self.jobs.lost();
                self.notify(format!("the store did not answer: {e}"), true);
                true
            }
        }
    }

    /// Shows what autosave reported; returns whether to redraw.
    pub fn autosave_report(&mut self, report: AutosaveReport) -> bool {
        let status = match report {
            AutosaveReport::Saved { .. } => None,
            AutosaveReport::Failed { message, retry_in } => Some((
                format!(
                    "drafts not saved: {message}; retrying in {} s, keep typing",
                    retry_in.as_secs().max(1)
                ),
                true,
            )),
        };
        let changed = status != self.autosave_status;
        self.autosave_status = status;
        changed
    }

    // ----- input ---------------------------------------------------------

    /// Handles one terminal event; returns whether a redraw is needed.
    pub fn handle_event(&mut self, event: &Event) -> bool {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.handle_key(*key),
            Event::Paste(text) => {
                if self.focus == Focus::Editor
                    && self.overlay.is_none()
                    && let Some(editor) = self.editor_mut()
                {
                    let outcome = editor.paste_text(text);
                    self.carry_out(outcome);
                }
                true
            }
            Event::Mouse(mouse) => self.handle_mouse(mouse.kind, mouse.column, mouse.row),
            Event::Resize(width, height) => {
                self.screen = Rect::new(0, 0, *width, *height);
                true
            }
            _ => false,
        }
    }

    fn areas(&self) -> Areas {
        let side = Side {
            hidden: self.side_hidden(),
            ..self.side
        };
        layout::workstation(self.screen, self.workspaces.items.len(), side)
    }

    fn handle_mouse(&mut self, kind: MouseEventKind, column: u16, row: u16) -> bool {
        let at = Position { x: column, y: row };
        let areas = self.areas();
        if self.jobs_visible() {
            return self.jobs_mouse(kind, at, areas.main);
        }
        match kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if areas.tree.contains(at) && self.session.is_some() {
                    self.focus = Focus::Tree;
                    let inner_y = row.saturating_sub(areas.tree.y + 1);
                    if let Some(session) = &mut self.session {
                        let outcome = session.tree.click(usize::from(inner_y));
                        self.carry_out(outcome);
                    }
                } else if areas.right.contains(at) && self.active_tab().is_some() {
                    self.focus = Focus::Editor;
                    let banner = self.banner().is_some();
                    if let Some(tab) = self.editor_mut().and_then(EditorPane::active_tab_mut)
                        && let Some(target) = click_target(tab, areas.right, banner, column, row)
                    {
                        tab.buffer.move_to(target, false);
                    }
                } else if areas.workspaces.contains(at) {
                    self.focus = Focus::Workspaces;
                }
                true
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = kind == MouseEventKind::ScrollDown;
                if areas.right.contains(at) {
                    let height =
                        usize::from(layout::editor(areas.right, false, 1).body.height.max(1));
                    if let Some(tab) = self.editor_mut().and_then(EditorPane::active_tab_mut) {
                        let max_top = tab.buffer.len_lines().saturating_sub(1);
                        tab.top = if down {
                            (tab.top + 3).min(max_top)
                        } else {
                            tab.top.saturating_sub(3)
                        };
                        tab.top_row = 0;
                        // Keep the cursor on screen, as editors do when scrolling.
                        let (line, _) = tab.buffer.cursor_line_col();
                        if line < tab.top {
                            tab.buffer.goto_line(tab.top + 1);
                        } else if line >= tab.top + height {
                            tab.buffer.goto_line(tab.top + height);
                        }
                    }
                } else if areas.tree.contains(at)
                    && let Some(session) = &mut self.session
                {
                    let _ = session
                        .tree
                        .update(if down { Action::Down } else { Action::Up });
                }
                true
            }
            _ => false,
        }
    }

    fn scope(&self) -> Scope {
        match self.focus {
            Focus::Workspaces | Focus::Tree => Scope::List,
            Focus::Changes | Focus::Diff => Scope::Changes,
            Focus::Jobs | Focus::JobLog => Scope::Jobs,
            Focus::Review => Scope::Review,
            Focus::Ai => Scope::Ai,
            Focus::Meetings => Scope::Meetings,
            Focus::Editor if !self.keymap.modal => Scope::Editor,
            Focus::Editor => match self.mode() {
                Mode::Normal => Scope::Normal,
                Mode::Insert => Scope::Insert,
                Mode::Visual => Scope::Visual,
            },
        }
    }

    fn handle_key(&mut self, key: KeyEvent) -> bool {
        self.leave_hidden_side();
        if self.overlay.is_some() {
            return self.handle_overlay_key(key);
        }
        if self.focus == Focus::Review
            && let Some(pane) = self.review.pane.as_mut().filter(|p| p.editing.is_some())
        {
            let action = self.keymap.action(Scope::Compose, &key);
            let outcome = pane.edit_key(action, key, &self.highlighter);
            self.carry_out(outcome);
            return true;
        }
        if self.focus == Focus::Meetings
            && let Some(multiline) = self.meetings.pane.form_is_multiline()
        {
            let scope = if multiline {
                Scope::Compose
            } else {
                Scope::Prompt
            };
            let outcome = self
                .meetings
                .pane
                .form_key(self.keymap.action(scope, &key), key);
            return self.carry_out(outcome);
        }
        let Some(chord) = KeyChord::from_event(&key) else {
            return false;
        };
        let scope = self.scope();
        // A half-typed vim command takes the next key, whatever it is bound to.
        if matches!(scope, Scope::Normal | Scope::Visual)
            && self.pending.is_empty()
            && self.editor_mut().is_some_and(|e| e.vim_pending())
        {
            return self.vim_keys(&[chord]);
        }
        self.pending.push(chord);
        match self.keymap.lookup(scope, &self.pending) {
            Lookup::Action(Action::Vim) => {
                let keys = std::mem::take(&mut self.pending);
                self.message = None;
                self.vim_keys(&keys)
            }
            Lookup::Action(action) => {
                self.pending.clear();
                self.message = None;
                self.update(action)
            }
            Lookup::Pending => true,
            Lookup::None if scope == Scope::Ai => {
                let sequence = self.pending.len() > 1;
                self.pending.clear();
                sequence || self.ai.pane.type_key(key)
            }
            Lookup::None => {
                let sequence = self.pending.len() > 1;
                self.pending.clear();
                let typing = matches!(scope, Scope::Editor | Scope::Insert);
                match (chord.typed_char(), self.editor_mut()) {
                    (Some(c), Some(editor)) if typing && !sequence => {
                        let outcome = editor.type_char(c);
                        self.carry_out(outcome);
                        true
                    }
                    _ => sequence,
                }
            }
        }
    }

    /// Keys for vim's grammar in the editor.
    fn vim_keys(&mut self, keys: &[KeyChord]) -> bool {
        for key in keys {
            if let Some(editor) = self.editor_mut() {
                let outcome = editor.vim_key(&key.label());
                self.carry_out(outcome);
            }
        }
        true
    }

    fn handle_overlay_key(&mut self, key: KeyEvent) -> bool {
        let Some(overlay) = self.overlay.take() else {
            return false;
        };
        match overlay {
            Overlay::Help(mut view) => {
                if view.handle_key(self.keymap.action(Scope::List, &key), key) {
                    self.overlay = Some(Overlay::Help(view));
                }
            }
            // Any key closes it.
            Overlay::JobDetails(_) => {}
            Overlay::Palette(mut picker) => {
                match picker.handle_key(self.keymap.action(Scope::Picker, &key), key) {
                    PickerOutcome::Open => self.overlay = Some(Overlay::Palette(picker)),
                    PickerOutcome::Cancelled => {}
                    PickerOutcome::Picked(action) => {
                        self.recent.retain(|a| *a != action);
                        self.recent.insert(0, action);
                        self.recent.truncate(RECENT_COMMANDS);
                        self.update(action);
                    }
                }
            }
            Overlay::Finder(mut picker) => {
                match picker.handle_key(self.keymap.action(Scope::Picker, &key), key) {
                    PickerOutcome::Open => self.overlay = Some(Overlay::Finder(picker)),
                    PickerOutcome::Cancelled => {}
                    PickerOutcome::Picked(path) => self.open_file(&path, None),
                }
            }
            Overlay::Grep(view) => self.grep_key(view, key),
            Overlay::AiFile(mut picker) => {
                match picker.handle_key(self.keymap.action(Scope::Picker, &key), key) {
                    PickerOutcome::Open => self.overlay = Some(Overlay::AiFile(picker)),
                    PickerOutcome::Cancelled => {}
                    PickerOutcome::Picked(path) => self.add_context_file(path),
                }
            }
            Overlay::Conversations(mut picker) => {
                match picker.handle_key(self.keymap.action(Scope::Picker, &key), key) {
                    PickerOutcome::Open => self.overlay = Some(Overlay::Conversations(picker)),
                    PickerOutcome::Cancelled => {}
                    PickerOutcome::Picked(row) => self.ai.pane.conversation = Some(row),
                }
            }
            Overlay::Tasks(mut picker) => {
                match picker.handle_key(self.keymap.action(Scope::Picker, &key), key) {
                    PickerOutcome::Open => self.overlay = Some(Overlay::Tasks(picker)),
                    PickerOutcome::Cancelled => {}
                    PickerOutcome::Picked(task) => self.run_task(task),
                }
            }
            Overlay::Prompt(mut prompt) => {
                match prompt.handle_key(self.keymap.action(Scope::Prompt, &key), key) {
                    PromptOutcome::Editing => self.overlay = Some(Overlay::Prompt(prompt)),
                    PromptOutcome::Cancelled => {}
                    PromptOutcome::Submitted(text) => self.submit_prompt(prompt.kind, text),
                }
            }
            Overlay::Confirm(ConfirmKind::QuitWithJobs { .. }) => {
                self.answer_quit(self.keymap.action(Scope::Confirm, &key));
            }
            Overlay::QuitWait => {
                self.key_while_waiting(self.keymap.action(Scope::Confirm, &key));
            }
            Overlay::Confirm(kind) => {
                if self.keymap.action(Scope::Confirm, &key) == Some(Action::Yes) {
                    self.confirm(kind);
                }
            }
            Overlay::Conflict => match self.keymap.action(Scope::Conflict, &key) {
                Some(Action::TakeOther) => self.resolve_conflict(true),
                Some(Action::KeepCurrent) => self.resolve_conflict(false),
                _ => {}
            },
        }
        true
    }

    /// Runs one action; returns whether a redraw is needed.
    pub fn update(&mut self, action: Action) -> bool {
        match action {
            Action::Quit => {
                let files = self.unsaved_files();
                if files > 0 && !matches!(self.overlay, Some(Overlay::Confirm(_))) {
                    self.overlay = Some(Overlay::Confirm(ConfirmKind::QuitUnsaved { files }));
                    return true;
                }
                return self.quit_unless_jobs();
            }
            Action::Help => {
                self.overlay = Some(Overlay::Help(help::HelpView::default()));
                return true;
            }
            Action::Palette => {
                // Bound actions first with their keys, then every other one.
                let bound = self.keymap.help(&[Scope::Global, self.scope()]);
                let unbound: Vec<Action> = Action::ALL
                    .iter()
                    .copied()
                    .filter(|a| a.in_palette() && bound.iter().all(|(b, _)| b != a))
                    .collect();
                let mut items: Vec<(Action, String)> = bound
                    .into_iter()
                    .map(|(a, keys)| (a, keys.join(" ")))
                    .chain(unbound.into_iter().map(|a| (a, String::new())))
                    .collect();
                // The commands picked lately come first, the latest on top.
                items.sort_by_key(|(a, _)| {
                    self.recent
                        .iter()
                        .position(|r| r == a)
                        .unwrap_or(usize::MAX)
                });
                let items = items
                    .into_iter()
                    .map(|(a, keys)| (format!("{} — {}", a.name(), a.describe()), keys, a))
                    .collect();
                self.overlay = Some(Overlay::Palette(Picker::new("Commands", items)));
                return true;
            }
            Action::Finder => {
                let Some(session) = &self.session else {
                    self.notify("open a workspace first", true);
                    return true;
                };
                let items = session
                    .listing
                    .iter()
                    .map(|p| (p.clone(), String::new(), p.clone()))
                    .collect();
                self.overlay = Some(Overlay::Finder(Picker::of_paths("Files", items)));
                return true;
            }
            Action::FocusNext | Action::FocusPrev
                if !matches!(
                    self.focus,
                    Focus::Changes
                        | Focus::Diff
                        | Focus::Jobs
                        | Focus::JobLog
                        | Focus::Review
                        | Focus::Ai
                        | Focus::Meetings
                ) =>
            {
                return self.cycle_focus(action == Action::FocusNext);
            }
            Action::Grep => return self.open_grep(""),
            Action::ToggleTree | Action::NarrowTree | Action::WidenTree => {
                return self.side_action(action);
            }
            Action::Changes => return self.toggle_changes(),
            Action::Jobs => return self.toggle_jobs(),
            Action::Ai => return self.open_ai(),
            Action::Meetings => return self.toggle_meetings(),
            Action::UndoApply => return self.restore_apply(false),
            Action::Regenerate => {
                match self.review.pane.as_ref().map(|p| p.patch_id) {
                    Some(id) => self.regenerate_patch(id),
                    None => self.notify("open a patch in review first", true),
                }
                return true;
            }
            Action::RedoApply => return self.restore_apply(true),
            Action::RunTask => return self.open_task_picker(),
            Action::RunCommand => return self.open_command_prompt(),
            _ => {}
        }
        let highlighter = &self.highlighter;
        let outcome = match (self.focus, &mut self.session) {
            (Focus::Workspaces, _) => self.workspaces.update(action),
            (Focus::Tree, Some(session)) => session.tree.update(action),
            (Focus::Editor, Some(session)) => session.editor.update(action),
            (Focus::Changes | Focus::Diff, _)
                if matches!(action, Action::FocusNext | Action::FocusPrev) =>
            {
                self.focus = if self.focus == Focus::Changes {
                    Focus::Diff
                } else {
                    Focus::Changes
                };
                Outcome::Redraw
            }
            (Focus::Changes | Focus::Diff, Some(session)) => match &mut session.git {
                Some(git) => git.update(action, self.focus == Focus::Diff, highlighter),
                None => Outcome::Ignored,
            },
            (Focus::Ai, _) => self.ai.pane.update(action),
            (Focus::Meetings, _) => self.meetings.pane.update(action),
            (Focus::Review, _) => match &mut self.review.pane {
                Some(pane) => pane.update(action, highlighter),
                None if action == Action::Back => {
                    self.leave_review();
                    Outcome::Redraw
                }
                None => Outcome::Ignored,
            },
            (Focus::Jobs | Focus::JobLog, _) => {
                let outcome = self.jobs.pane.update(action, self.focus == Focus::JobLog);
                let redraw = self.carry_out(outcome);
                if self.jobs.pane.sync_log() {
                    self.poll_jobs();
                }
                return redraw;
            }
            (Focus::Tree | Focus::Editor | Focus::Changes | Focus::Diff, None) => {
                if action == Action::Back {
                    self.focus = Focus::Workspaces;
                }
                Outcome::Redraw
            }
        };
        self.carry_out(outcome)
    }

    /// Carries out what a pane answered; returns whether to redraw.
    fn carry_out(&mut self, outcome: Outcome) -> bool {
        match outcome {
            Outcome::Ignored => false,
            Outcome::Redraw => true,
            Outcome::Effect(effect) => {
                self.apply(effect);
                true
            }
            Outcome::Effects(effects) => {
                for effect in effects {
                    self.apply(effect);
                }
                true
            }
        }
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Notify(message, is_error) => self.notify(message, is_error),
            Effect::Copy(text) => self.clipboard_out = Some(text),
            Effect::Focus(focus) => self.focus_on(focus),
            Effect::Overlay(overlay) => self.overlay = Some(*overlay),
            Effect::Confirm(kind) => self.overlay = Some(Overlay::Confirm(kind)),
            Effect::ShowConflict => self.show_next_conflict(),
            Effect::OpenWorkspace(ws) => self.open_session(OpenTarget::Workspace(ws)),
            Effect::OpenFile(path) => self.open_file(&path, None),
            Effect::Save => self.save_active(false),
            Effect::Git(op) => self.run_git(op),
            Effect::RequestDiff => self.request_diff(),
            Effect::RefreshGit => self.refresh_git(),
            Effect::LeaveChanges => {
                self.focus = if self.active_tab().is_some() {
                    Focus::Editor
                } else {
                    Focus::Tree
                };
            }
            Effect::Remote { push } => self.enqueue_git(push),
            Effect::LeaveJobs => self.leave_jobs(),
            Effect::RetryJob(id) => self.retry_job(id),
            Effect::FixJob(id) => self.fix_job(id),
            Effect::Review(op) => self.review_op(op),
            Effect::Ai(op) => self.ai_op(op),
            Effect::Meetings(op) => self.meetings_op(op),
        }
    }

    fn cycle_focus(&mut self, forward: bool) -> bool {
        let mut order = Vec::new();
        if !self.side_hidden() {
            order.push(Focus::Workspaces);
            if self.session.is_some() {
                order.push(Focus::Tree);
            }
        }
        if self.active_tab().is_some() {
            order.push(Focus::Editor);
        }
        if order.is_empty() {
            order.push(Focus::Editor);
        }
        let at = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let next = if forward {
            (at + 1) % order.len()
        } else {
            (at + order.len() - 1) % order.len()
        };
        let changed = order[next] != self.focus;
        self.focus = order[next];
        changed
    }

    fn submit_prompt(&mut self, kind: PromptKind, text: String) {
        let outcome = match kind {
            PromptKind::Find { regex, backward } => match self.editor_mut() {
                Some(editor) => editor.search(
                    Query {
                        pattern: text,
                        regex,
                    },
                    backward,
                ),
                None => Outcome::Ignored,
            },
            PromptKind::ReplacePattern => match regex::Regex::new(&text) {
                Ok(_) => Outcome::prompt(PromptKind::ReplaceWith { pattern: text }, ""),
                Err(e) => Outcome::Effect(Effect::Notify(format!("bad pattern: {e}"), true)),
            },
            PromptKind::ReplaceWith { pattern } => {
                match (regex::Regex::new(&pattern), self.editor_mut()) {
                    (Ok(re), Some(editor)) => editor.replace_all(&re, &text),
                    _ => Outcome::Ignored,
                }
            }
            PromptKind::GotoLine => match (text.trim().parse::<usize>(), self.editor_mut()) {
                (Ok(line), Some(editor)) => editor.goto_line(line),
                (Ok(_), None) => Outcome::Ignored,
                (Err(_), _) => Outcome::Effect(Effect::Notify(
                    format!("{text:?} is not a line number"),
                    true,
                )),
            },
            PromptKind::NewFile => {
                self.change_files(FileChange::NewFile(text.trim().to_string()));
                Outcome::Redraw
            }
            PromptKind::NewFolder => {
                self.change_files(FileChange::NewFolder(text.trim().to_string()));
                Outcome::Redraw
            }
            PromptKind::Rename { from } => {
                self.change_files(FileChange::Rename {
                    from,
                    to: text.trim().to_string(),
                });
                Outcome::Redraw
            }
            PromptKind::Command => self.run_ex(&text),
            PromptKind::Commit { amend } => {
                self.run_git(GitOp::Commit {
                    message: text,
                    amend,
                });
                Outcome::Redraw
            }
            PromptKind::RunCommand => {
                self.run_command_line(&text);
                Outcome::Redraw
            }
            PromptKind::LogSearch => match self.jobs.pane.search_log(&text) {
                Some((note, is_error)) => Outcome::Effect(Effect::Notify(note, is_error)),
                None => Outcome::Redraw,
            },
            PromptKind::RejectReason {
                patch_id,
                file,
                hunk,
            } => {
                self.rejected_with(patch_id, (file, hunk), text);
                Outcome::Redraw
            }
        };
        self.carry_out(outcome);
    }

    /// The vim command line.
    fn run_ex(&mut self, line: &str) -> Outcome {
        match ExCommand::parse(line) {
            Ok(ExCommand::Write) => Outcome::Effect(Effect::Save),
            // As vim's `:q`: refused while a buffer has unsaved changes.
            Ok(ExCommand::Quit { force: false }) if self.unsaved_files() > 0 => {
                let files = self.unsaved_files();
                Outcome::Effect(Effect::Notify(
                    format!(
                        "{files} file{} with unsaved changes: :w saves, :q! quits (the drafts stay for the next start)",
                        if files == 1 { "" } else { "s" }
                    ),
                    true,
                ))
            }
            Ok(ExCommand::Quit { .. }) => {
                self.quit_unless_jobs();
                Outcome::Redraw
            }
            Ok(ExCommand::WriteQuit) => {
                self.save_active(true);
                Outcome::Redraw
            }
            Ok(ExCommand::Edit(path)) => Outcome::Effect(Effect::OpenFile(path)),
            Ok(ExCommand::Grep(pattern)) => self.grep_ex(&pattern),
            Ok(ExCommand::Goto(line)) => match self.editor_mut() {
                Some(editor) => editor.goto_line(line),
                None => Outcome::Ignored,
            },
            Ok(ExCommand::Substitute {
                pattern,
                replacement,
                whole,
                global,
            }) => match self.editor_mut() {
                Some(editor) => editor.substitute(&pattern, &replacement, whole, global),
                None => Outcome::Ignored,
            },
            Ok(command @ (ExCommand::Wrap(_) | ExCommand::NoHighlight)) => self
                .editor_mut()
                .map_or(Outcome::Ignored, |e| e.view_command(command)),
            Ok(ExCommand::CloseBuffer { force }) => match self.editor_mut() {
                Some(editor) => editor.close_tab(force),
                None => Outcome::Ignored,
            },
            Err(e) => Outcome::Effect(Effect::Notify(e.to_string(), true)),
        }
    }

    fn confirm(&mut self, kind: ConfirmKind) {
        match kind {
            ConfirmKind::Discard { path, hunk } => {
                if let Some(op) = self.git().map(|g| g.discard_op(path, hunk)) {
                    self.run_git(op);
                }
            }
            ConfirmKind::CancelJob { id, .. } => self.cancel_job_confirmed(id),
            // Answered by its own keys (`answer_quit`).
            ConfirmKind::QuitWithJobs { .. } => {}
            ConfirmKind::QuitUnsaved { .. } => {
                self.quit_unless_jobs();
            }
            ConfirmKind::DiscardTab { index } => {
                if let Some(editor) = self.editor_mut() {
                    let outcome = editor.discard_tab(index);
                    self.carry_out(outcome);
                }
            }
            ConfirmKind::Delete { path } => self.change_files(FileChange::Delete(path)),
        }
    }

    // ----- drawing -------------------------------------------------------

    /// The line over the active tab: read-only, or a conflict waiting.
    fn banner(&self) -> Option<String> {
        let session = self.session.as_ref()?;
        session.editor.read_only.clone().or_else(|| {
            session
                .editor
                .active_tab()
                .and_then(|t| t.conflict.as_ref())
                .map(|c| c.kind.banner().to_string())
        })
    }

    /// Draws everything; returns where the terminal cursor goes, if shown.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer) -> Option<(u16, u16)> {
        self.screen = area;
        Block::default().style(self.theme.base()).render(area, buf);
        let areas = self.areas();
        let mut cursor = None;
        if self.jobs_visible() {
            self.render_jobs(areas.main, buf);
        } else if self.focus == Focus::Review {
            self.render_review(areas.main, buf);
        } else if self.focus == Focus::Ai {
            cursor = self.render_ai(areas.main, buf);
        } else if self.focus == Focus::Meetings {
            let focused = self.overlay.is_none();
            cursor = self
                .meetings
                .pane
                .render(areas.main, buf, focused, &self.theme);
        } else {
            let open_name = self
                .session
                .as_ref()
                .map(|s| s.name.clone())
                .or_else(|| self.opening.clone());
            self.workspaces.render(
                areas.workspaces,
                buf,
                self.focus == Focus::Workspaces,
                open_name.as_deref(),
                &self.theme,
            );
            cursor = self.render_session(&areas, buf);
        }
        self.render_status(areas.status, buf);

        let scope = self.scope();
        if let Some(Overlay::Help(view)) = &mut self.overlay {
            view.render(
                &self.keymap,
                &[Scope::Global, scope],
                areas.main,
                buf,
                &self.theme,
            );
            return None;
        }
        match &self.overlay {
            None => cursor,
            Some(Overlay::Help(_)) => None,
            Some(Overlay::Palette(picker)) => Some(picker.render(areas.main, buf, &self.theme)),
            Some(Overlay::Finder(picker)) => Some(picker.render(areas.main, buf, &self.theme)),
            Some(Overlay::Grep(view)) => Some(view.render(areas.main, buf, &self.theme)),
            Some(Overlay::Tasks(picker)) => Some(picker.render(areas.main, buf, &self.theme)),
            Some(Overlay::AiFile(picker)) => Some(picker.render(areas.main, buf, &self.theme)),
            Some(Overlay::Conversations(picker)) => {
                Some(picker.render(areas.main, buf, &self.theme))
            }
            Some(Overlay::JobDetails(id)) => {
                self.render_job_details(*id, areas.main, buf);
                None
            }
            Some(Overlay::Prompt(p)) => Some(p.render(areas.status, buf, &self.theme)),
            Some(Overlay::Confirm(kind)) => {
                prompt::render_question(
                    kind.answers(),
                    &kind.question(),
                    areas.status,
                    buf,
                    &self.theme,
                );
                None
            }
            Some(Overlay::QuitWait) => {
                self.render_quit_wait(areas.status, buf);
                None
            }
            Some(Overlay::Conflict) => {
                if let Some(tab) = self.active_tab() {
                    super::panes::conflict::render(tab, areas.right, buf, &self.theme);
                }
                None
            }
        }
    }

    /// The tree (or the changes) and the editor (or the diff).
    fn render_session(&mut self, areas: &Areas, buf: &mut Buffer) -> Option<(u16, u16)> {
        let banner = self.banner();
        let changes_view = matches!(self.focus, Focus::Changes | Focus::Diff);
        let Some(session) = &mut self.session else {
            let waiting = match &self.opening {
                Some(name) => format!(" opening {name}… "),
                None => " open a workspace with enter ".to_string(),
            };
            super::panes::frame(" Files ", false, &self.theme).render(areas.tree, buf);
            super::panes::frame(&waiting, false, &self.theme).render(areas.right, buf);
            return None;
        };
        let open_file = session.editor.active_tab().map(|t| t.path.clone());
        match (&mut session.git, changes_view) {
            (Some(git), true) => git.changes.render(
                areas.tree,
                buf,
                self.focus == Focus::Changes,
                git.status.as_ref(),
                &self.theme,
            ),
            (git, _) => session.tree.render(
                areas.tree,
                buf,
                self.focus == Focus::Tree,
                open_file.as_deref(),
                git.as_ref().map(|g| &g.markers),
                &self.theme,
            ),
        }
        if changes_view && let Some(git) = &mut session.git {
            match &mut git.diff {
                Some(diff) => diff.render(
                    areas.right,
                    buf,
                    self.focus == Focus::Diff,
                    &self.highlighter,
                    &self.theme,
                ),
                None => {
                    let hint = if git.changes.entries.is_empty() {
                        " nothing to commit "
                    } else {
                        " select a file: its diff shows here "
                    };
                    super::panes::frame(hint, false, &self.theme).render(areas.right, buf);
                }
            }
            return None;
        }
        session.editor.render(
            areas.right,
            buf,
            self.focus == Focus::Editor && self.overlay.is_none(),
            banner.as_deref().map(|b| (b, true)),
            &self.highlighter,
            &self.theme,
        )
    }

    fn render_status(&self, area: Rect, buf: &mut Buffer) {
        let mode = self.keymap.modal.then_some(match self.mode() {
            Mode::Normal => "NORMAL",
            Mode::Insert => "INSERT",
            Mode::Visual => "VISUAL",
        });
        let ws = self
            .session
            .as_ref()
            .map(|s| (s.name.as_str(), s.storage_label()));
        let git_summary = self.git().and_then(|g| g.summary());
        let format = self.active_tab().map(|t| t.format());
        let file = self.active_tab().map(|t| {
            let (line, col) = t.buffer.cursor_line_col();
            (
                t.path.as_str(),
                self.highlighter.syntax_name(&t.path),
                line + 1,
                col + 1,
                t.is_dirty(),
            )
        });
        let message = self.autosave_status.as_ref().or(self.message.as_ref());
        let hint = self.key_hint();
        StatusLine {
            git: git_summary.as_deref(),
            format: format.as_deref(),
            hint: &hint,
            mode,
            workspace: ws,
            file,
            message: message.map(|(m, _)| m.as_str()),
            is_error: message.is_some_and(|(_, e)| *e),
            usage: self.ai.usage.as_deref(),
            nudges: self.meetings.badge.filter(|n| *n > 0),
        }
        .render(area, buf, &self.theme);
    }

    /// "f1 help  ctrl-q quit": the shortest keys for help and quit here.
    fn key_hint(&self) -> String {
        let bindings = self.keymap.help(&[Scope::Global, self.scope()]);
        let shortest = |action| {
            bindings
                .iter()
                .find(|(a, _)| *a == action)
                .and_then(|(_, keys)| keys.iter().min_by_key(|k| k.len()).cloned())
        };
        [
            (Action::Help, "help"),
            (Action::Palette, "commands"),
            (Action::Quit, "quit"),
        ]
        .iter()
        .filter_map(|(action, label)| shortest(*action).map(|k| format!("{k} {label}")))
        .collect::<Vec<_>>()
        .join("  ")
    }
}
