//! The workstation's state and what each key and action does to it.
//!
//! Rendering is a function of this state, so tests draw it on a
//! `TestBackend`. Side effects leave through small doors: drafts and editor
//! state go to the autosave task as snapshots (sending never blocks), text
//! copied goes out as OSC 52 through the runtime, and saves and tree changes
//! go to the workspace's files.

use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseButton, MouseEventKind};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};
use regex::Regex;
use tokio::sync::mpsc::UnboundedSender;

mod git;
mod jobs;

pub(crate) use jobs::{JobsMsg, POLL as JOBS_POLL};

use super::keymap::{Action, KeyChord, Keymap, Lookup, Scope};
use super::panes::editor::EditorView;
use super::panes::help;
use super::panes::picker::{Picker, PickerOutcome};
use super::panes::prompt::{self, ConfirmKind, Prompt, PromptKind, PromptOutcome};
use super::panes::status::StatusLine;
use super::panes::tree::{TreeOutcome, TreePane};
use super::panes::workspaces::WorkspacesPane;
use super::session::{self, ConflictKind, EditorState, Files, Tab, content_hash};
use super::theme::Theme;
use crate::autosave::{AutosaveEvent, AutosaveReport, DraftChange};
use crate::editor::highlight::Highlighter;
use crate::store::locks::{self, LockOutcome};
use crate::store::workspaces::Workspace;
use crate::store::{self, Store};
use crate::workspace::disk::DiskWorkspace;
use crate::workspace::path::WorkspacePath;
use crate::workspace::tree;

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
}

impl Focus {
    fn name(self) -> &'static str {
        match self {
            Focus::Workspaces => "workspaces",
            Focus::Tree => "tree",
            Focus::Editor => "editor",
            Focus::Changes | Focus::Diff => "changes",
            Focus::Jobs | Focus::JobLog => "jobs",
        }
    }
}

/// The modes of a modal (vim) keymap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Normal,
    Insert,
    Visual,
}

pub(crate) enum Overlay {
    Help,
    Palette(Picker<Action>),
    Finder(Picker<String>),
    /// "Run task…": the workspace's tasks.
    Tasks(Picker<crate::jobs::tasks::Task>),
    Prompt(Prompt),
    Confirm(ConfirmKind),
    Conflict,
    /// A job's details over the jobs view.
    JobDetails(i64),
}

/// Answers from workers (git) for the UI task.
pub(crate) enum AppMsg {
    Status {
        generation: u64,
        result: Result<crate::git::status::RepoStatus, String>,
    },
    Diff {
        generation: u64,
        staged: bool,
        result: Result<Option<crate::patch::FilePatch>, String>,
    },
    GitDone {
        what: &'static str,
        result: Result<String, String>,
    },
    Jobs(JobsMsg),
}

/// Where blocking work goes and how its answers come back.
pub(crate) struct Background {
    pub handle: tokio::runtime::Handle,
    pub tx: UnboundedSender<AppMsg>,
    pub watch: UnboundedSender<crate::workspace::watch::WatchEvent>,
    /// The store worker, for the jobs view's reads and writes.
    pub store: Option<crate::store::worker::StoreHandle>,
    /// This process's job runner, woken when a job is enqueued here.
    pub runner: Option<std::sync::Arc<crate::jobs::runner::Handle>>,
}

/// What to open: a stored workspace, or a folder on disk.
pub(crate) enum OpenTarget {
    Workspace(Workspace),
    Dir(DiskWorkspace),
}

/// The open workspace and its tabs.
pub(crate) struct Session {
    pub key: String,
    pub name: String,
    pub files: Files,
    pub tree: TreePane,
    pub tabs: Vec<Tab>,
    pub active: usize,
    /// Set when another kollega holds the workspace: nothing is written.
    pub read_only: Option<String>,
    last_state: String,
    /// Drafts to drop at the next snapshot (closed or discarded tabs).
    cleaned: Vec<String>,
    /// Set for a git working tree.
    pub git: Option<git::GitView>,
    /// Where this workspace's jobs run, as the jobs record it.
    pub place: crate::jobs::kinds::Place,
    /// Follows changes made on disk by others (folders and git trees).
    _watch: Option<crate::workspace::watch::WatchHandle>,
}

impl Session {
    fn storage_label(&self) -> &'static str {
        if self.git.is_some() {
            "git"
        } else {
            self.files.storage_label()
        }
    }
}

/// Where the last frame put things, for the mouse.
#[derive(Debug, Clone, Copy, Default)]
struct Areas {
    workspaces: Rect,
    tree: Rect,
    editor: Rect,
}

pub(crate) struct App {
    store: Store,
    ignored: Vec<String>,
    theme: Theme,
    keymap: Keymap,
    highlighter: Highlighter,
    workspaces: WorkspacesPane,
    pub(crate) session: Option<Session>,
    pub(crate) focus: Focus,
    pub(crate) mode: Mode,
    overlay: Option<Overlay>,
    pending: Vec<KeyChord>,
    register: String,
    search: Option<Regex>,
    message: Option<(String, bool)>,
    autosave_status: Option<(String, bool)>,
    clipboard_out: Option<String>,
    autosave: Option<UnboundedSender<AutosaveEvent>>,
    background: Option<Background>,
    jobs: jobs::JobsState,
    areas: Areas,
    editor_height: usize,
    pub quit: bool,
}

impl App {
    pub fn new(
        store: Store,
        theme: Theme,
        keymap: Keymap,
        ignored: Vec<String>,
    ) -> Result<App, store::StoreError> {
        let items = store::workspaces::list(&store.conn)?;
        let highlighter = Highlighter::new(&theme.syntax_palette());
        Ok(App {
            store,
            ignored,
            theme,
            keymap,
            highlighter,
            workspaces: WorkspacesPane::new(items),
            session: None,
            focus: Focus::Workspaces,
            mode: Mode::Normal,
            overlay: None,
            pending: Vec::new(),
            register: String::new(),
            search: None,
            message: None,
            autosave_status: None,
            clipboard_out: None,
            autosave: None,
            background: None,
            jobs: jobs::JobsState::new(),
            areas: Areas::default(),
            editor_height: 20,
            quit: false,
        })
    }

    /// Connects the autosave task; without it (tests) nothing is autosaved.
    pub fn set_autosave(&mut self, events: UnboundedSender<AutosaveEvent>) {
        self.autosave = Some(events);
    }

    /// Connects the runtime: git work runs on its blocking workers and the
    /// file watcher reports to the UI task. Without it (tests) git work
    /// runs inline and nothing is watched.
    pub fn set_background(&mut self, background: Background) {
        self.background = Some(background);
    }

    /// Shows a message (or an error) in the status bar.
    pub fn notify(&mut self, message: impl Into<String>, is_error: bool) {
        self.message = Some((message.into(), is_error));
    }

    /// Text to put on the terminal's clipboard (OSC 52), taken once.
    pub fn take_clipboard(&mut self) -> Option<String> {
        self.clipboard_out.take()
    }

    // ----- sessions ------------------------------------------------------

    /// Opens the only workspace there is (the demo on a first start) or
    /// `target`; then `path` at `line` (1-based) when given.
    pub fn start(&mut self, target: Option<OpenTarget>, path: Option<&str>, line: Option<usize>) {
        match target {
            Some(target) => self.open_session(target),
            None if self.workspaces.items.len() == 1 => self.open_selected_workspace(),
            None => {}
        }
        if let Some(path) = path {
            self.open_file(path);
            if let (Some(line), Some(tab)) = (line, self.active_tab_mut()) {
                tab.buffer.goto_line(line);
            }
        }
    }

    fn open_selected_workspace(&mut self) {
        if let Some(ws) = self.workspaces.selected().cloned() {
            self.open_session(OpenTarget::Workspace(ws));
        }
    }

    fn open_session(&mut self, target: OpenTarget) {
        self.close_session();
        // A workspace taken over into git lives in its repository; it keeps
        // its name.
        let mut stored_name = None;
        let target = match target {
            OpenTarget::Workspace(ws) if ws.repo_path.is_some() => {
                let repo = ws.repo_path.clone().unwrap_or_default();
                match DiskWorkspace::open(std::path::Path::new(&repo)) {
                    Ok(disk) => {
                        stored_name = Some(ws.name.clone());
                        OpenTarget::Dir(disk)
                    }
                    Err(e) => {
                        self.notify(
                            format!("cannot open the repository {repo} of {}: {e}", ws.name),
                            true,
                        );
                        return;
                    }
                }
            }
            other => other,
        };
        let (key, name, files) = match target {
            OpenTarget::Workspace(ws) => (
                store::drafts::sqlite_key(&ws.name),
                ws.name,
                Files::Sqlite { id: ws.id },
            ),
            OpenTarget::Dir(disk) => {
                let name = disk
                    .root()
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| disk.root().display().to_string());
                let key = store::drafts::dir_key(disk.root());
                // A working tree lists what git tracks or would track, and
                // gets the git view below.
                let disk = if crate::git::repo::Repo::open(disk.root()).is_ok() {
                    disk.respecting_gitignore()
                } else {
                    disk
                };
                (key, name, Files::Dir(disk))
            }
        };
        // Jobs name a stored workspace by its name (a taken-over one runs
        // in its repository) and a folder by its path.
        let stored = stored_name.is_some();
        let name = stored_name.unwrap_or(name);
        let place = match &files {
            Files::Sqlite { id } => crate::jobs::kinds::Place::Store {
                id: *id,
                name: name.clone(),
            },
            Files::Dir(disk) if stored => crate::jobs::kinds::Place::Git {
                name: name.clone(),
                dir: disk.root().to_path_buf(),
            },
            Files::Dir(disk) => crate::jobs::kinds::Place::Dir(disk.root().to_path_buf()),
        };
        let (git, watch) = match &files {
            Files::Dir(disk) => {
                let git = disk
                    .respects_gitignore()
                    .then(|| git::GitView::new(disk.root().to_path_buf()));
                let watch = self.background.as_ref().and_then(|bg| {
                    crate::workspace::watch::spawn(
                        disk.root(),
                        self.ignored.clone(),
                        bg.watch.clone(),
                    )
                    .map_err(|e| tracing::warn!(error = %e, "no file watcher"))
                    .ok()
                });
                (git, watch)
            }
            Files::Sqlite { .. } => (None, None),
        };
        let read_only = match locks::acquire(
            &mut self.store.conn,
            &key,
            std::process::id(),
            &locks::hostname(),
            locks::now_unix(),
            locks::STALE_SECS,
        ) {
            Ok(LockOutcome::Acquired) => None,
            Ok(LockOutcome::HeldBy { pid, host, .. }) => Some(format!(
                "read-only: {name} is open in another kollega (pid {pid} on {host}); nothing here is saved"
            )),
            Err(e) => Some(format!("read-only: cannot lock {name}: {e}")),
        };
        let listed = match files.list(&self.store, &self.ignored) {
            Ok(listed) => listed,
            Err(e) => {
                self.notify(format!("cannot list {name}: {e}"), true);
                Vec::new()
            }
        };
        let nodes = tree::build(listed.iter().map(String::as_str));
        let (tabs, active, focus, notes) =
            session::restore(&self.store, &files, &key, &self.highlighter);
        let conflict = tabs.iter().any(|t| t.conflict.is_some());
        self.session = Some(Session {
            last_state: String::new(),
            key,
            name,
            files,
            tree: TreePane::new(nodes),
            tabs,
            active,
            read_only,
            cleaned: Vec::new(),
            git,
            place,
            _watch: watch,
        });
        self.refresh_git();
        self.focus = match focus.as_deref() {
            Some("editor") if self.active_tab().is_some() => Focus::Editor,
            _ => Focus::Tree,
        };
        if !notes.is_empty() {
            self.notify(notes.join("; "), false);
        }
        if conflict {
            self.show_next_conflict();
        }
        // What was restored is the baseline: the first snapshot only carries
        // what changes from here.
        self.mark_snapshot_sent();
    }

    fn close_session(&mut self) {
        self.sync_autosave();
        if let Some(session) = self.session.take()
            && session.read_only.is_none()
        {
            let _ = locks::release(&self.store.conn, &session.key, std::process::id());
        }
    }

    /// Lines of the active buffer (0 with no tab).
    pub fn active_line_count(&self) -> usize {
        self.active_tab().map_or(0, |t| t.buffer.len_lines())
    }

    /// Moves the active buffer's cursor to `line` (1-based).
    pub fn goto(&mut self, line: usize) {
        self.with_tab(|t| t.buffer.goto_line(line));
    }

    /// Releases the workspace lock; called once at exit after the flush.
    pub fn release_lock(&mut self) {
        if let Some(session) = &self.session
            && session.read_only.is_none()
        {
            let _ = locks::release(&self.store.conn, &session.key, std::process::id());
        }
    }

    /// Keeps the workspace lock fresh (every few seconds).
    pub fn heartbeat(&mut self) {
        if let Some(session) = &self.session
            && session.read_only.is_none()
        {
            match locks::heartbeat(&self.store.conn, &session.key, std::process::id()) {
                Ok(true) => {}
                Ok(false) => {
                    self.notify("the workspace lock was taken over by another kollega", true)
                }
                Err(e) => tracing::warn!(error = %e, "lock heartbeat failed"),
            }
        }
    }

    fn active_tab(&self) -> Option<&Tab> {
        self.session.as_ref().and_then(|s| s.tabs.get(s.active))
    }

    fn active_tab_mut(&mut self) -> Option<&mut Tab> {
        self.session.as_mut().and_then(|s| s.tabs.get_mut(s.active))
    }

    /// Opens `path` in a tab (or switches to it). A path with no file opens
    /// an empty buffer that the first save creates.
    pub fn open_file(&mut self, path: &str) {
        let Some(session) = &mut self.session else {
            return;
        };
        let path = match WorkspacePath::parse(path) {
            Ok(p) => p.to_string(),
            Err(e) => {
                self.notify(format!("{path:?} {e}"), true);
                return;
            }
        };
        if let Some(i) = session.tabs.iter().position(|t| t.path == path) {
            session.active = i;
        } else {
            match session.files.read(&self.store, &path) {
                Ok(saved) => {
                    let is_new = saved.is_none();
                    session
                        .tabs
                        .push(Tab::new(path.clone(), saved.as_deref(), &self.highlighter));
                    session.active = session.tabs.len() - 1;
                    if is_new {
                        self.message = Some((format!("{path} is new; save to create it"), false));
                    }
                }
                Err(e) => {
                    self.notify(format!("cannot open {path}: {e}"), true);
                    return;
                }
            }
        }
        self.focus = Focus::Editor;
        self.mode = Mode::Normal;
    }

    fn refresh_tree(&mut self) {
        let Some(session) = &mut self.session else {
            return;
        };
        match session.files.list(&self.store, &self.ignored) {
            Ok(listed) => {
                let nodes = tree::build(listed.iter().map(String::as_str));
                session.tree.replace(nodes);
            }
            Err(e) => self.message = Some((format!("cannot list files: {e}"), true)),
        }
    }

    // ----- autosave ------------------------------------------------------

    fn mark_snapshot_sent(&mut self) {
        let focus = self.focus.name();
        if let Some(session) = &mut self.session {
            for tab in &mut session.tabs {
                tab.sent_version = Some(tab.buffer.version());
            }
            session.last_state =
                serde_json::to_string(&EditorState::of(&session.tabs, session.active, focus))
                    .unwrap_or_default();
        }
    }

    /// Sends what changed since the last snapshot to the autosave task:
    /// drafts of edited buffers, removals of clean ones, the editor state.
    pub fn sync_autosave(&mut self) {
        let focus = self.focus.name();
        let Some(session) = &mut self.session else {
            return;
        };
        if session.read_only.is_some() {
            return;
        }
        let mut drafts: Vec<DraftChange> = session
            .cleaned
            .drain(..)
            .map(|path| DraftChange::Clean { path })
            .collect();
        for tab in &mut session.tabs {
            let version = tab.buffer.version();
            // A stale draft stays stored until the user decides; typing in
            // a buffer whose file changed on disk is saved as ever.
            let stale = tab
                .conflict
                .as_ref()
                .is_some_and(|c| c.kind == ConflictKind::StaleDraft);
            if tab.sent_version == Some(version) || stale {
                continue;
            }
            tab.sent_version = Some(version);
            drafts.push(if tab.is_dirty() {
                DraftChange::Edited {
                    path: tab.path.clone(),
                    content: tab.buffer.rope().clone(),
                    base_hash: tab.base_hash.clone(),
                }
            } else {
                DraftChange::Clean {
                    path: tab.path.clone(),
                }
            });
        }
        let state = serde_json::to_string(&EditorState::of(&session.tabs, session.active, focus))
            .unwrap_or_default();
        let editor_state = (state != session.last_state).then(|| {
            session.last_state = state.clone();
            state
        });
        if drafts.is_empty() && editor_state.is_none() {
            return;
        }
        if let Some(events) = &self.autosave {
            let _ = events.send(AutosaveEvent::Changed {
                key: session.key.clone(),
                drafts,
                editor_state,
            });
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
                if self.focus == Focus::Editor && self.overlay.is_none() {
                    self.edit(|tab, _| {
                        tab.buffer.commit_group();
                        tab.buffer.paste(text);
                        tab.buffer.commit_group();
                    });
                }
                true
            }
            Event::Mouse(mouse) => self.handle_mouse(mouse.kind, mouse.column, mouse.row),
            Event::Resize(..) => true,
            _ => false,
        }
    }

    fn handle_mouse(&mut self, kind: MouseEventKind, column: u16, row: u16) -> bool {
        let at = Position { x: column, y: row };
        if self.jobs_visible() {
            return self.jobs_mouse(kind, at);
        }
        match kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if self.areas.tree.contains(at) && self.session.is_some() {
                    self.focus = Focus::Tree;
                    let inner_y = row.saturating_sub(self.areas.tree.y + 1);
                    if let Some(session) = &mut self.session {
                        session.tree.click(usize::from(inner_y));
                    }
                } else if self.areas.editor.contains(at) && self.active_tab().is_some() {
                    self.focus = Focus::Editor;
                    let area = self.areas.editor;
                    if let Some(tab) = self.active_tab_mut() {
                        // Rows: border, tab bar, then text; columns: border, gutter.
                        let line = tab.top + usize::from(row.saturating_sub(area.y + 2));
                        let gutter = tab.buffer.len_lines().max(1).to_string().len() + 1;
                        let col = usize::from(column.saturating_sub(area.x + 1))
                            .saturating_sub(gutter)
                            + tab.left;
                        let line = line.min(tab.buffer.len_lines().saturating_sub(1));
                        let target = tab.buffer.display_col_to_char(line, col);
                        tab.buffer.move_to(target, false);
                    }
                } else if self.areas.workspaces.contains(at) {
                    self.focus = Focus::Workspaces;
                }
                true
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = kind == MouseEventKind::ScrollDown;
                if self.areas.editor.contains(at) {
                    let height = self.editor_height;
                    if let Some(tab) = self.active_tab_mut() {
                        let max_top = tab.buffer.len_lines().saturating_sub(1);
                        tab.top = if down {
                            (tab.top + 3).min(max_top)
                        } else {
                            tab.top.saturating_sub(3)
                        };
                        // Keep the cursor on screen, as editors do when scrolling.
                        let (line, _) = tab.buffer.cursor_line_col();
                        if line < tab.top {
                            tab.buffer.goto_line(tab.top + 1);
                        } else if line >= tab.top + height {
                            tab.buffer.goto_line(tab.top + height);
                        }
                    }
                } else if self.areas.tree.contains(at)
                    && let Some(session) = &mut self.session
                {
                    session
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
            Focus::Editor if !self.keymap.modal => Scope::Editor,
            Focus::Editor => match self.mode {
                Mode::Normal => Scope::Normal,
                Mode::Insert => Scope::Insert,
                Mode::Visual => Scope::Visual,
            },
        }
    }

    fn handle_key(&mut self, key: KeyEvent) -> bool {
        if self.overlay.is_some() {
            return self.handle_overlay_key(key);
        }
        let Some(chord) = KeyChord::from_event(&key) else {
            return false;
        };
        self.pending.push(chord);
        let scope = self.scope();
        match self.keymap.lookup(scope, &self.pending) {
            Lookup::Action(action) => {
                self.pending.clear();
                self.message = None;
                self.update(action)
            }
            Lookup::Pending => true,
            Lookup::None => {
                let sequence = self.pending.len() > 1;
                self.pending.clear();
                let typing = matches!(scope, Scope::Editor | Scope::Insert);
                match chord.typed_char() {
                    Some(c) if typing && !sequence => {
                        let mut text = [0u8; 4];
                        let text = c.encode_utf8(&mut text).to_string();
                        self.edit(|tab, _| tab.buffer.insert(&text));
                        true
                    }
                    _ => sequence,
                }
            }
        }
    }

    fn handle_overlay_key(&mut self, key: KeyEvent) -> bool {
        let Some(overlay) = self.overlay.take() else {
            return false;
        };
        match overlay {
            Overlay::Help => {}
            Overlay::Palette(mut picker) => match picker.handle_key(key) {
                PickerOutcome::Open => self.overlay = Some(Overlay::Palette(picker)),
                PickerOutcome::Cancelled => {}
                PickerOutcome::Picked(action) => {
                    self.update(action);
                }
            },
            Overlay::Finder(mut picker) => match picker.handle_key(key) {
                PickerOutcome::Open => self.overlay = Some(Overlay::Finder(picker)),
                PickerOutcome::Cancelled => {}
                PickerOutcome::Picked(path) => self.open_file(&path),
            },
            Overlay::Tasks(mut picker) => match picker.handle_key(key) {
                PickerOutcome::Open => self.overlay = Some(Overlay::Tasks(picker)),
                PickerOutcome::Cancelled => {}
                PickerOutcome::Picked(task) => self.run_task(task),
            },
            // Any key closes the details.
            Overlay::JobDetails(_) => {}
            Overlay::Prompt(mut prompt) => match prompt.handle_key(key) {
                PromptOutcome::Editing => self.overlay = Some(Overlay::Prompt(prompt)),
                PromptOutcome::Cancelled => {}
                PromptOutcome::Submitted(text) => self.submit_prompt(prompt.kind, text),
            },
            Overlay::Confirm(kind) => {
                let yes = matches!(key.code, crossterm::event::KeyCode::Char('y' | 'Y'));
                if yes {
                    self.confirm(kind);
                }
            }
            Overlay::Conflict => match key.code {
                crossterm::event::KeyCode::Char('t') => self.resolve_conflict(true),
                crossterm::event::KeyCode::Char('d' | 'k') => self.resolve_conflict(false),
                _ => {}
            },
        }
        true
    }

    /// Runs one action; returns whether a redraw is needed.
    pub fn update(&mut self, action: Action) -> bool {
        match action {
            Action::Quit => {
                let running = self.jobs.running_here.len();
                if running > 0 && !matches!(self.overlay, Some(Overlay::Confirm(_))) {
                    self.overlay = Some(Overlay::Confirm(ConfirmKind::QuitWithJobs { running }));
                    return true;
                }
                self.quit = true;
                return false;
            }
            Action::Help => {
                self.overlay = Some(Overlay::Help);
                return true;
            }
            Action::Palette => {
                // Bound actions first with their keys, then every other one.
                let bound = self.keymap.help(&[Scope::Global, self.scope()]);
                let unbound: Vec<Action> = Action::ALL
                    .iter()
                    .copied()
                    .filter(|a| bound.iter().all(|(b, _)| b != a))
                    .collect();
                let items = bound
                    .into_iter()
                    .map(|(a, keys)| (a, keys.join(" ")))
                    .chain(unbound.into_iter().map(|a| (a, String::new())))
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
                let items = match session.files.list(&self.store, &self.ignored) {
                    Ok(listed) => listed
                        .into_iter()
                        .map(|p| (p.clone(), String::new(), p))
                        .collect(),
                    Err(e) => {
                        self.notify(format!("cannot list files: {e}"), true);
                        return true;
                    }
                };
                self.overlay = Some(Overlay::Finder(Picker::new("Files", items)));
                return true;
            }
            Action::FocusNext | Action::FocusPrev
                if !matches!(
                    self.focus,
                    Focus::Changes | Focus::Diff | Focus::Jobs | Focus::JobLog
                ) =>
            {
                return self.cycle_focus(action == Action::FocusNext);
            }
            Action::Changes => return self.toggle_changes(),
            Action::Jobs => return self.toggle_jobs(),
            Action::RunTask => return self.open_task_picker(),
            Action::RunCommand => return self.open_command_prompt(),
            _ => {}
        }
        match self.focus {
            Focus::Workspaces => match action {
                Action::Open => {
                    self.open_selected_workspace();
                    true
                }
                _ => self.workspaces.update(action),
            },
            Focus::Tree => self.update_tree(action),
            Focus::Editor => self.update_editor(action),
            Focus::Changes | Focus::Diff => match action {
                Action::FocusNext | Action::FocusPrev => {
                    self.focus = if self.focus == Focus::Changes {
                        Focus::Diff
                    } else {
                        Focus::Changes
                    };
                    true
                }
                _ => self.update_changes(action),
            },
            Focus::Jobs | Focus::JobLog => self.update_jobs(action),
        }
    }

    fn update_tree(&mut self, action: Action) -> bool {
        let Some(session) = &mut self.session else {
            return false;
        };
        let selected = session.tree.rows.get(session.tree.selected).cloned();
        let folder = selected
            .as_ref()
            .map(|r| {
                if r.is_dir {
                    format!("{}/", r.path)
                } else {
                    r.path
                        .rsplit_once('/')
                        .map(|(d, _)| format!("{d}/"))
                        .unwrap_or_default()
                }
            })
            .unwrap_or_default();
        match action {
            Action::NewFile => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::NewFile, &folder)));
                true
            }
            Action::NewFolder => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::NewFolder, &folder)));
                true
            }
            Action::Rename => {
                if let Some(row) = selected {
                    self.overlay = Some(Overlay::Prompt(Prompt::new(
                        PromptKind::Rename {
                            from: row.path.clone(),
                        },
                        &row.path,
                    )));
                }
                true
            }
            Action::Delete => {
                if let Some(row) = selected {
                    self.overlay = Some(Overlay::Confirm(ConfirmKind::Delete { path: row.path }));
                }
                true
            }
            _ => match session.tree.update(action) {
                TreeOutcome::None => false,
                TreeOutcome::Redraw => true,
                TreeOutcome::OpenFile(path) => {
                    self.open_file(&path);
                    true
                }
                TreeOutcome::LeaveTree => {
                    self.focus = Focus::Workspaces;
                    true
                }
            },
        }
    }

    /// Applies an edit to the active tab unless the session is read-only.
    fn edit(&mut self, f: impl FnOnce(&mut Tab, &mut String)) {
        let read_only = self.session.as_ref().and_then(|s| s.read_only.clone());
        if let Some(why) = read_only {
            self.notify(why, true);
            return;
        }
        let Some(session) = &mut self.session else {
            return;
        };
        if let Some(tab) = session.tabs.get_mut(session.active) {
            let before = tab.selection_line();
            f(tab, &mut self.register);
            let after = tab.selection_line();
            tab.touch(before.min(after));
        }
    }

    fn update_editor(&mut self, action: Action) -> bool {
        if self.active_tab().is_none() {
            if action == Action::Back {
                self.focus = Focus::Tree;
            }
            return true;
        }
        let page = self.editor_height.max(1);
        let visual = self.mode == Mode::Visual;
        match action {
            Action::Up | Action::Down | Action::Left | Action::Right => {
                if let Some(tab) = self.active_tab_mut() {
                    match action {
                        Action::Up => tab.buffer.move_up(visual),
                        Action::Down => tab.buffer.move_down(visual),
                        Action::Left => tab.buffer.move_left(visual),
                        _ => tab.buffer.move_right(visual),
                    }
                }
            }
            Action::SelectUp | Action::SelectDown | Action::SelectLeft | Action::SelectRight => {
                if let Some(tab) = self.active_tab_mut() {
                    match action {
                        Action::SelectUp => tab.buffer.move_up(true),
                        Action::SelectDown => tab.buffer.move_down(true),
                        Action::SelectLeft => tab.buffer.move_left(true),
                        _ => tab.buffer.move_right(true),
                    }
                }
            }
            Action::PageUp => self.with_tab(|t| t.buffer.page_up(page, visual)),
            Action::PageDown => self.with_tab(|t| t.buffer.page_down(page, visual)),
            Action::Top => self.with_tab(|t| t.buffer.move_doc_start(visual)),
            Action::Bottom => self.with_tab(|t| t.buffer.move_doc_end(visual)),
            Action::WordForward => self.with_tab(|t| t.buffer.move_word_forward(visual)),
            Action::WordBackward => self.with_tab(|t| t.buffer.move_word_backward(visual)),
            Action::WordEnd => self.with_tab(|t| t.buffer.move_word_end(visual)),
            Action::LineStart => self.with_tab(|t| t.buffer.move_line_start(visual)),
            Action::LineEnd => self.with_tab(|t| t.buffer.move_line_end(visual)),
            Action::MatchBracket => self.with_tab(|t| {
                if let Some(at) = t.buffer.matching_bracket(t.buffer.cursor()) {
                    t.buffer.move_to(at, false);
                }
            }),
            Action::SelectAll => self.with_tab(|t| t.buffer.select_all()),
            Action::Newline => self.edit(|t, _| t.buffer.insert_newline()),
            Action::Indent => self.edit(|t, _| t.buffer.insert_tab()),
            Action::Backspace => self.edit(|t, _| t.buffer.delete_backward()),
            Action::DeleteForward => self.edit(|t, _| t.buffer.delete_forward()),
            Action::Undo => self.edit(|t, _| {
                t.buffer.undo();
            }),
            Action::Redo => self.edit(|t, _| {
                t.buffer.redo();
            }),
            Action::Copy => {
                if let Some(text) = self.active_tab().and_then(|t| t.buffer.selected_text()) {
                    self.copy_out(text);
                }
                self.leave_visual();
            }
            Action::Cut => {
                let mut cut = None;
                self.edit(|t, _| cut = t.buffer.cut());
                if let Some(text) = cut {
                    self.copy_out(text);
                }
                self.leave_visual();
            }
            Action::Paste => {
                let text = self.register.clone();
                self.edit(|t, _| {
                    t.buffer.commit_group();
                    t.buffer.paste(&text);
                    t.buffer.commit_group();
                });
                self.leave_visual();
            }
            Action::DeleteLine => {
                let mut line = None;
                self.edit(|t, _| line = Some(t.buffer.delete_line()));
                if let Some(text) = line {
                    self.copy_out(text);
                }
            }
            Action::YankLine => {
                if let Some(text) = self.active_tab().map(|t| t.buffer.yank_line()) {
                    self.copy_out(text);
                }
            }
            Action::PasteAfter => {
                let text = self.register.clone();
                self.edit(|t, _| {
                    t.buffer.commit_group();
                    if text.ends_with('\n') {
                        t.buffer.paste_lines(&text, true);
                    } else {
                        t.buffer.move_right(false);
                        t.buffer.paste(&text);
                    }
                    t.buffer.commit_group();
                });
            }
            Action::InsertMode => self.mode = Mode::Insert,
            Action::Append => {
                self.with_tab(|t| t.buffer.move_right(false));
                self.mode = Mode::Insert;
            }
            Action::OpenBelow => {
                self.with_tab(|t| t.buffer.move_line_end(false));
                self.edit(|t, _| t.buffer.insert_newline());
                self.mode = Mode::Insert;
            }
            Action::NormalMode => {
                self.mode = Mode::Normal;
                self.with_tab(|t| {
                    let at = t.buffer.cursor();
                    t.buffer.move_to(at, false);
                    t.buffer.commit_group();
                });
            }
            Action::VisualMode => self.mode = Mode::Visual,
            Action::CommandLine => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::Command, "")))
            }
            Action::Find => self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::Find, ""))),
            Action::Replace => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::ReplacePattern, "")))
            }
            Action::GotoLine => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::GotoLine, "")))
            }
            Action::FindNext | Action::FindPrev => {
                let Some(re) = self.search.clone() else {
                    self.notify("no search yet", false);
                    return true;
                };
                let mut found = false;
                self.with_tab(|t| {
                    found = if action == Action::FindNext {
                        t.buffer.search_next(&re)
                    } else {
                        t.buffer.search_prev(&re)
                    };
                });
                if !found {
                    self.notify(format!("no match for {}", re.as_str()), false);
                }
            }
            Action::Save => self.save_active(),
            Action::CloseTab => self.close_tab(false),
            Action::NextTab | Action::PrevTab => {
                if let Some(session) = &mut self.session
                    && !session.tabs.is_empty()
                {
                    let n = session.tabs.len();
                    session.active = if action == Action::NextTab {
                        (session.active + 1) % n
                    } else {
                        (session.active + n - 1) % n
                    };
                }
                self.show_next_conflict();
            }
            Action::MoveTabLeft | Action::MoveTabRight => {
                if let Some(session) = &mut self.session {
                    let i = session.active;
                    let j = if action == Action::MoveTabLeft {
                        i.checked_sub(1)
                    } else {
                        Some(i + 1).filter(|j| *j < session.tabs.len())
                    };
                    if let Some(j) = j {
                        session.tabs.swap(i, j);
                        session.active = j;
                    }
                }
            }
            Action::Back => {
                if self.keymap.modal && self.mode != Mode::Normal {
                    self.mode = Mode::Normal;
                } else {
                    self.focus = Focus::Tree;
                }
            }
            _ => return false,
        }
        true
    }

    fn with_tab(&mut self, f: impl FnOnce(&mut Tab)) {
        if let Some(tab) = self.active_tab_mut() {
            f(tab);
        }
    }

    fn leave_visual(&mut self) {
        if self.mode == Mode::Visual {
            self.mode = Mode::Normal;
        }
    }

    /// Keeps `text` in the register and sends it to the terminal clipboard.
    fn copy_out(&mut self, text: String) {
        self.clipboard_out = Some(text.clone());
        self.register = text;
    }

    fn cycle_focus(&mut self, forward: bool) -> bool {
        let mut order = vec![Focus::Workspaces];
        if self.session.is_some() {
            order.push(Focus::Tree);
        }
        if self.active_tab().is_some() {
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

    // ----- files ---------------------------------------------------------

    fn save_active(&mut self) {
        let Some(session) = &mut self.session else {
            return;
        };
        if let Some(why) = &session.read_only {
            self.message = Some((why.clone(), true));
            return;
        }
        let Some(tab) = session.tabs.get_mut(session.active) else {
            return;
        };
        let content = tab.buffer.text();
        let result = match &session.files {
            Files::Sqlite { id } => {
                store::files::save_file(&mut self.store.conn, *id, &tab.path, &content)
                    .map(|_| ())
                    .map_err(|e| crate::error::describe(&e))
            }
            Files::Dir(disk) => disk.save(&tab.path, &content).map_err(|e| e.to_string()),
        };
        match result {
            Ok(()) => {
                tab.base_hash = Some(content_hash(&content));
                tab.buffer.mark_saved();
                tab.sent_version = None;
                let path = tab.path.clone();
                self.message = Some((format!("saved {path}"), false));
                self.refresh_tree();
            }
            Err(e) => {
                self.message = Some((
                    format!("not saved: {e} (your text is kept as a draft)"),
                    true,
                ))
            }
        }
    }

    fn close_tab(&mut self, confirmed: bool) {
        let Some(session) = &mut self.session else {
            return;
        };
        let Some(tab) = session.tabs.get(session.active) else {
            return;
        };
        if tab.is_dirty() && !confirmed && session.read_only.is_none() {
            self.overlay = Some(Overlay::Confirm(ConfirmKind::DiscardTab {
                index: session.active,
            }));
            return;
        }
        let tab = session.tabs.remove(session.active);
        if tab.is_dirty() || tab.conflict.is_some() {
            session.cleaned.push(tab.path);
        }
        session.active = session.active.min(session.tabs.len().saturating_sub(1));
        if session.tabs.is_empty() {
            self.focus = Focus::Tree;
        }
    }

    fn confirm(&mut self, kind: ConfirmKind) {
        match kind {
            ConfirmKind::Discard { path, hunk } => self.discard_confirmed(path, hunk),
            ConfirmKind::CancelJob { id, .. } => self.cancel_job_confirmed(id),
            ConfirmKind::QuitWithJobs { .. } => self.quit = true,
            ConfirmKind::DiscardTab { index } => {
                if let Some(session) = &mut self.session {
                    session.active = index.min(session.tabs.len().saturating_sub(1));
                }
                self.close_tab(true);
            }
            ConfirmKind::Delete { path } => {
                let result = self.tree_change(|store, files| match files {
                    Files::Sqlite { id } => store::files::delete_path(&mut store.conn, *id, &path)
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Files::Dir(disk) => disk.delete(&path).map_err(|e| e.to_string()),
                });
                if result {
                    if let Some(session) = &mut self.session {
                        let prefix = format!("{path}/");
                        // Open tabs of deleted files stay, as unsaved new
                        // files, so nothing typed is lost.
                        for tab in session
                            .tabs
                            .iter_mut()
                            .filter(|t| t.path == path || t.path.starts_with(&prefix))
                        {
                            tab.base_hash = None;
                            tab.sent_version = None;
                        }
                    }
                    self.notify(format!("deleted {path}"), false);
                }
            }
        }
    }

    /// Runs a change of the tree in one step and refreshes it; false on error.
    fn tree_change(&mut self, f: impl FnOnce(&mut Store, &Files) -> Result<(), String>) -> bool {
        let Some(session) = &self.session else {
            return false;
        };
        if let Some(why) = session.read_only.clone() {
            self.notify(why, true);
            return false;
        }
        let result = f(&mut self.store, &session.files);
        match result {
            Ok(()) => {
                self.refresh_tree();
                true
            }
            Err(e) => {
                self.notify(e, true);
                false
            }
        }
    }

    fn submit_prompt(&mut self, kind: PromptKind, text: String) {
        match kind {
            PromptKind::Find => match Regex::new(&text) {
                Ok(re) => {
                    self.search = Some(re);
                    self.update_editor(Action::FindNext);
                }
                Err(e) => self.notify(format!("bad search pattern: {e}"), true),
            },
            PromptKind::ReplacePattern => match Regex::new(&text) {
                Ok(_) => {
                    self.overlay = Some(Overlay::Prompt(Prompt::new(
                        PromptKind::ReplaceWith { pattern: text },
                        "",
                    )))
                }
                Err(e) => self.notify(format!("bad pattern: {e}"), true),
            },
            PromptKind::ReplaceWith { pattern } => self.replace_all(&pattern, &text),
            PromptKind::GotoLine => match text.trim().parse::<usize>() {
                Ok(line) => self.with_tab(|t| t.buffer.goto_line(line)),
                Err(_) => self.notify(format!("{text:?} is not a line number"), true),
            },
            PromptKind::NewFile => {
                let path = text.trim().to_string();
                let ok = self.tree_change(|store, files| {
                    let parsed =
                        WorkspacePath::parse(&path).map_err(|e| format!("{path:?} {e}"))?;
                    match files {
                        Files::Sqlite { id } => {
                            store::files::create_file(&mut store.conn, *id, parsed.as_str(), "")
                                .map(|_| ())
                                .map_err(|e| e.to_string())
                        }
                        Files::Dir(disk) => disk
                            .create_file(parsed.as_str(), "")
                            .map_err(|e| e.to_string()),
                    }
                });
                if ok {
                    self.open_file(&path);
                }
            }
            PromptKind::NewFolder => {
                let path = text.trim().trim_end_matches('/').to_string();
                let ok = self.tree_change(|_, files| match files {
                    Files::Sqlite { .. } => Err("a SQLite workspace stores files, not empty folders: create a file inside it (e.g. lib/new.ts)".into()),
                    Files::Dir(disk) => disk.create_dir(&path).map_err(|e| e.to_string()),
                });
                if ok {
                    self.notify(format!("created {path}/"), false);
                }
            }
            PromptKind::Rename { from } => {
                let to = text.trim().trim_end_matches('/').to_string();
                let ok = self.tree_change(|store, files| {
                    let parsed = WorkspacePath::parse(&to).map_err(|e| format!("{to:?} {e}"))?;
                    match files {
                        Files::Sqlite { id } => {
                            store::files::rename_path(&mut store.conn, *id, &from, parsed.as_str())
                                .map(|_| ())
                                .map_err(|e| e.to_string())
                        }
                        Files::Dir(disk) => disk
                            .rename(&from, parsed.as_str())
                            .map_err(|e| e.to_string()),
                    }
                });
                if ok {
                    if let Some(session) = &mut self.session {
                        let prefix = format!("{from}/");
                        for tab in &mut session.tabs {
                            let renamed = if tab.path == from {
                                Some(to.clone())
                            } else {
                                tab.path
                                    .strip_prefix(&prefix)
                                    .map(|rest| format!("{to}/{rest}"))
                            };
                            if let Some(new_path) = renamed {
                                session
                                    .cleaned
                                    .push(std::mem::replace(&mut tab.path, new_path));
                                tab.cache = self.highlighter.cache_for(&tab.path);
                                tab.sent_version = None;
                            }
                        }
                    }
                    self.notify(format!("renamed {from} to {to}"), false);
                }
            }
            PromptKind::Command => self.run_command(text.trim()),
            PromptKind::Commit { amend } => self.commit_with(text, amend),
            PromptKind::RunCommand => self.run_command_line(&text),
            PromptKind::LogSearch => self.search_log(&text),
        }
    }

    fn replace_all(&mut self, pattern: &str, replacement: &str) {
        let Ok(re) = Regex::new(pattern) else { return };
        let mut count = 0;
        self.edit(|t, _| {
            count = t.buffer.replace_all(&re, replacement);
            t.touch(0);
        });
        self.notify(
            format!(
                "replaced {count} match{}",
                if count == 1 { "" } else { "es" }
            ),
            false,
        );
    }

    /// The vim command line: `:w`, `:q`, `:wq`, `:x`, `:q!`, `:e PATH`,
    /// `:N`, `:%s/PAT/REP/g`.
    fn run_command(&mut self, command: &str) {
        match command {
            "w" => self.save_active(),
            "q" | "q!" | "qa" | "qa!" => self.quit = true,
            "wq" | "x" => {
                self.save_active();
                self.quit = true;
            }
            _ => {
                if let Some(path) = command.strip_prefix("e ") {
                    self.open_file(path.trim());
                } else if let Ok(line) = command.parse::<usize>() {
                    self.with_tab(|t| t.buffer.goto_line(line));
                } else if let Some(rest) = command.strip_prefix("%s/") {
                    let parts: Vec<&str> = rest.splitn(3, '/').collect();
                    match parts.as_slice() {
                        [pattern, replacement, ..] => match Regex::new(pattern) {
                            Ok(_) => self.replace_all(pattern, replacement),
                            Err(e) => self.notify(format!("bad pattern: {e}"), true),
                        },
                        _ => self.notify("use :%s/pattern/replacement/g", true),
                    }
                } else {
                    self.notify(
                        format!("unknown command :{command} (try :w :q :wq :e PATH :N)"),
                        true,
                    );
                }
            }
        }
    }

    // ----- drafts that changed under us ------------------------------------

    fn show_next_conflict(&mut self) {
        if self.active_tab().is_some_and(|t| t.conflict.is_some()) {
            self.overlay = Some(Overlay::Conflict);
        } else if let Some(session) = &mut self.session
            && let Some(i) = session.tabs.iter().position(|t| t.conflict.is_some())
        {
            session.active = i;
            self.overlay = Some(Overlay::Conflict);
        }
    }

    fn resolve_conflict(&mut self, take: bool) {
        let Some(tab) = self.active_tab_mut() else {
            return;
        };
        let Some(conflict) = tab.conflict.take() else {
            return;
        };
        tab.sent_version = None;
        if conflict.kind == ConflictKind::ChangedOnDisk {
            // Either way the disk's version is now the base: a save writes
            // over it knowingly, and taking it leaves nothing unsaved.
            tab.base_hash = Some(content_hash(&conflict.other));
        }
        let note = match (take, conflict.kind) {
            (true, ConflictKind::StaleDraft) => "took the draft; undo brings the saved text back",
            (false, ConflictKind::StaleDraft) => "dropped the draft; the saved file stays",
            (true, ConflictKind::ChangedOnDisk) => {
                "took the version on disk; undo brings yours back"
            }
            (false, ConflictKind::ChangedOnDisk) => {
                "kept your text; saving writes it over the disk's"
            }
        };
        if take {
            tab.touch(0);
            tab.buffer.commit_group();
            tab.buffer.select_all();
            tab.buffer.paste(&conflict.other);
            tab.buffer.commit_group();
            if conflict.kind == ConflictKind::ChangedOnDisk {
                tab.buffer.mark_saved();
            }
        }
        self.notify(note, false);
        self.show_next_conflict();
    }

    // ----- drawing -------------------------------------------------------

    /// Draws everything; returns where the terminal cursor goes, if shown.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer) -> Option<(u16, u16)> {
        Block::default()
            .style(self.theme.ui("foreground"))
            .render(area, buf);
        let [main, status] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
        let side_width = (main.width / 4).clamp(20.min(main.width), 32);
        let [side, right] =
            Layout::horizontal([Constraint::Length(side_width), Constraint::Min(10)]).areas(main);
        let list_height =
            (self.workspaces.items.len() as u16 + 2).clamp(3, (side.height / 4).max(3));
        let [list_area, tree_area] =
            Layout::vertical([Constraint::Length(list_height), Constraint::Min(3)]).areas(side);
        self.areas = Areas {
            workspaces: list_area,
            tree: tree_area,
            editor: right,
        };
        self.editor_height = usize::from(right.height.saturating_sub(3));

        let mut cursor = None;
        if self.jobs_visible() {
            self.areas = Areas::default();
            self.render_jobs(main, buf);
        } else {
            let open_name = self.session.as_ref().map(|s| s.name.clone());
            self.workspaces.render(
                list_area,
                buf,
                self.focus == Focus::Workspaces,
                open_name.as_deref(),
                &self.theme,
            );
            match &mut self.session {
                Some(session) => {
                    let open_file = session.tabs.get(session.active).map(|t| t.path.clone());
                    let changes_view = matches!(self.focus, Focus::Changes | Focus::Diff);
                    match (&mut session.git, changes_view) {
                        (Some(git), true) => git.changes.render(
                            tree_area,
                            buf,
                            self.focus == Focus::Changes,
                            git.status.as_ref(),
                            &self.theme,
                        ),
                        (git, _) => session.tree.render(
                            tree_area,
                            buf,
                            self.focus == Focus::Tree,
                            open_file.as_deref(),
                            git.as_ref().map(|g| &g.markers),
                            &self.theme,
                        ),
                    }
                    let conflict_note = session
                        .tabs
                        .get(session.active)
                        .and_then(|t| t.conflict.as_ref())
                        .map(|c| {
                            match c.kind {
                                ConflictKind::StaleDraft => {
                                    "this file changed after its draft was taken: t takes the draft, d drops it"
                                }
                                ConflictKind::ChangedOnDisk => {
                                    "this file changed on disk: t takes the disk's version, k keeps yours"
                                }
                            }
                            .to_string()
                        });
                    let banner = session.read_only.clone().or(conflict_note);
                    if changes_view && let Some(git) = &mut session.git {
                        match &mut git.diff {
                            Some(diff) => diff.render(
                                right,
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
                                super::panes::frame(hint, false, &self.theme).render(right, buf);
                            }
                        }
                    } else {
                        cursor = EditorView {
                            tabs: &mut session.tabs,
                            active: session.active,
                            focused: self.focus == Focus::Editor && self.overlay.is_none(),
                            banner: banner.as_deref().map(|b| (b, true)),
                        }
                        .render(right, buf, &self.highlighter, &self.theme);
                    }
                }
                None => {
                    super::panes::frame(" Files ", false, &self.theme).render(tree_area, buf);
                    super::panes::frame(" open a workspace with enter ", false, &self.theme)
                        .render(right, buf);
                }
            }
        }

        let mode = self.keymap.modal.then_some(match self.mode {
            Mode::Normal => "NORMAL",
            Mode::Insert => "INSERT",
            Mode::Visual => "VISUAL",
        });
        let ws = self
            .session
            .as_ref()
            .map(|s| (s.name.as_str(), s.storage_label()));
        let git_summary = self
            .session
            .as_ref()
            .and_then(|s| s.git.as_ref())
            .and_then(|g| g.summary());
        let format = self.active_tab().map(|t| {
            let ending = match t.buffer.line_ending() {
                crate::editor::buffer::LineEnding::Lf => "LF",
                crate::editor::buffer::LineEnding::CrLf => "CRLF",
            };
            match t.buffer.indent_unit() {
                crate::editor::buffer::IndentUnit::Tab => format!("{ending} tabs"),
                crate::editor::buffer::IndentUnit::Spaces(n) => format!("{ending} {n}sp"),
            }
        });
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
        }
        .render(status, buf, &self.theme);

        match &self.overlay {
            None => cursor,
            Some(Overlay::Help) => {
                help::render(
                    &self.keymap,
                    &[Scope::Global, self.scope()],
                    main,
                    buf,
                    &self.theme,
                );
                None
            }
            Some(Overlay::Palette(picker)) => Some(picker.render(main, buf, &self.theme)),
            Some(Overlay::Finder(picker)) => Some(picker.render(main, buf, &self.theme)),
            Some(Overlay::Tasks(picker)) => Some(picker.render(main, buf, &self.theme)),
            Some(Overlay::JobDetails(id)) => {
                self.render_job_details(*id, main, buf);
                None
            }
            Some(Overlay::Prompt(p)) => Some(p.render(status, buf, &self.theme)),
            Some(Overlay::Confirm(kind)) => {
                let question = match kind {
                    ConfirmKind::Delete { path } => format!("delete {path}?"),
                    ConfirmKind::Discard {
                        path,
                        hunk: Some(_),
                    } => {
                        format!("discard this hunk of {path} from the working tree?")
                    }
                    ConfirmKind::Discard { path, hunk: None } => {
                        format!("discard every unstaged change of {path}?")
                    }
                    ConfirmKind::DiscardTab { .. } => {
                        "close the tab and drop its unsaved changes?".to_string()
                    }
                    ConfirmKind::CancelJob { id, title } => {
                        format!("cancel job {id} ({})?", crate::tui::ansi::strip(title))
                    }
                    ConfirmKind::QuitWithJobs { running } => format!(
                        "quit? {running} running job{} will be stopped and run again at the next start or by a worker",
                        if *running == 1 { "" } else { "s" },
                    ),
                };
                prompt::render_question(&question, status, buf, &self.theme);
                None
            }
            Some(Overlay::Conflict) => {
                self.render_conflict(right, buf);
                None
            }
        }
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

    /// The saved text against the draft, as a unified diff.
    fn render_conflict(&self, area: Rect, buf: &mut Buffer) {
        let Some(tab) = self.active_tab() else { return };
        let Some(conflict) = &tab.conflict else {
            return;
        };
        let saved = tab.buffer.text();
        let diff = similar::TextDiff::from_lines(&saved, &conflict.other);
        let (what, keys) = match conflict.kind {
            ConflictKind::StaleDraft => (
                format!(" {} changed after its draft was taken.", tab.path),
                " t: take the draft (undo brings the saved text back)   d: drop it   other keys: later",
            ),
            ConflictKind::ChangedOnDisk => (
                format!(" {} changed on disk while you were editing it.", tab.path),
                " t: take the disk's version (undo brings yours back)   k: keep yours   other keys: later",
            ),
        };
        let mut lines = vec![ratatui::text::Line::styled(what, self.theme.ui("warning"))];
        lines.push(ratatui::text::Line::styled(keys, self.theme.ui("title")));
        for hunk in diff.unified_diff().context_radius(2).iter_hunks() {
            lines.push(ratatui::text::Line::styled(
                hunk.header().to_string(),
                self.theme.ui("muted"),
            ));
            for change in hunk.iter_changes() {
                let (sign, style) = match change.tag() {
                    similar::ChangeTag::Delete => ("-", self.theme.ui("error")),
                    similar::ChangeTag::Insert => ("+", self.theme.ui("title")),
                    similar::ChangeTag::Equal => (" ", self.theme.ui("muted")),
                };
                let text = change
                    .value()
                    .trim_end_matches(['\n', '\r'])
                    .replace('\t', "    ");
                lines.push(ratatui::text::Line::styled(format!("{sign}{text}"), style));
            }
        }
        Clear.render(area, buf);
        let title = match conflict.kind {
            ConflictKind::StaleDraft => " saved file (-) against your draft (+) ",
            ConflictKind::ChangedOnDisk => " your text (-) against the disk's (+) ",
        };
        super::panes::frame(title, true, &self.theme).render(area, buf);
        Paragraph::new(lines).render(super::panes::inner(area), buf);
    }

    /// Paths with unsaved text in this session.
    #[cfg(test)]
    pub fn dirty_paths(&self) -> std::collections::HashSet<String> {
        self.session
            .as_ref()
            .map(|s| {
                s.tabs
                    .iter()
                    .filter(|t| t.is_dirty())
                    .map(|t| t.path.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEventState, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use tokio::sync::mpsc;

    use super::*;
    use crate::config::Config;
    use crate::tui::theme::ColorDepth;
    use crate::workspace::import::{ImportOptions, import};

    struct Fixture {
        app: App,
        events: mpsc::UnboundedReceiver<AutosaveEvent>,
        data: std::path::PathBuf,
        _dir: tempfile::TempDir,
    }

    const FILES: &[(&str, &str)] = &[
        (
            "app/page.tsx",
            "export default function Page() {\n  return <h1 className=\"title\">Shop</h1>;\n}\n",
        ),
        (
            "app/layout.tsx",
            "export const metadata = { title: \"Shop\" };\n",
        ),
        (
            "lib/cart.ts",
            "export function total(items: number[]): number {\n  return items.reduce((a, b) => a + b, 0);\n}\n",
        ),
        ("package.json", "{\n  \"name\": \"shop\"\n}\n"),
        ("README.md", "# Shop\n\nA small shop.\n"),
    ];

    fn store_with_workspace(dir: &std::path::Path) -> (Store, Config) {
        let src = dir.join("shop");
        for (path, text) in FILES {
            let target = src.join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, text).unwrap();
        }
        let config = Config::load(Some(dir.join("data"))).unwrap();
        let mut store = Store::open(&config.data_dir).unwrap();
        import(
            &mut store,
            &config,
            &src,
            &ImportOptions::default(),
            &mut (),
        )
        .unwrap();
        (store, config)
    }

    fn app_on(store: Store, keymap: Option<&str>) -> (App, mpsc::UnboundedReceiver<AutosaveEvent>) {
        let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
        let (keymap, errors) = Keymap::load(keymap, None);
        assert!(errors.is_empty());
        let mut app = App::new(store, theme, keymap, vec![".git".into()]).unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        app.set_autosave(tx);
        app.start(None, None, None);
        (app, rx)
    }

    fn fixture(keymap: Option<&str>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let (store, config) = store_with_workspace(dir.path());
        let (app, events) = app_on(store, keymap);
        Fixture {
            app,
            events,
            data: config.data_dir,
            _dir: dir,
        }
    }

    fn draw(app: &mut App, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| {
                app.render(f.area(), f.buffer_mut());
            })
            .unwrap();
        terminal.backend().to_string()
    }

    fn key(app: &mut App, code: KeyCode, modifiers: KeyModifiers) {
        app.handle_event(&Event::Key(KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }));
    }

    fn typing(app: &mut App, text: &str) {
        for c in text.chars() {
            key(app, KeyCode::Char(c), KeyModifiers::NONE);
        }
    }

    fn text_of(app: &App) -> String {
        app.active_tab().unwrap().buffer.text()
    }

    /// Opens app/page.tsx from the tree: expand app/, down to page.tsx.
    fn open_page(app: &mut App) {
        assert_eq!(app.focus, Focus::Tree);
        app.update(Action::Open);
        app.update(Action::Down);
        app.update(Action::Down);
        app.update(Action::Open);
        assert_eq!(
            app.active_tab().map(|t| t.path.as_str()),
            Some("app/page.tsx")
        );
    }

    #[test]
    fn single_workspace_opens_its_tree() {
        let mut f = fixture(None);
        assert_eq!(f.app.focus, Focus::Tree);
        insta::assert_snapshot!("tree_100x30", draw(&mut f.app, 100, 30));
        insta::assert_snapshot!("tree_60x20", draw(&mut f.app, 60, 20));
    }

    #[test]
    fn opening_a_file_shows_it_with_line_numbers_and_cursor() {
        let mut f = fixture(None);
        open_page(&mut f.app);
        assert_eq!(f.app.focus, Focus::Editor);
        insta::assert_snapshot!("editor_100x30", draw(&mut f.app, 100, 30));
        insta::assert_snapshot!("editor_60x20", draw(&mut f.app, 60, 20));
        key(&mut f.app, KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(f.app.focus, Focus::Tree);
    }

    #[test]
    fn typing_edits_the_buffer_and_sends_a_draft() {
        let mut f = fixture(None);
        open_page(&mut f.app);
        typing(&mut f.app, "// hi");
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        assert!(text_of(&f.app).starts_with("// hi\nexport default"));
        f.app.sync_autosave();
        let mut saw_draft = false;
        while let Ok(event) = f.events.try_recv() {
            if let AutosaveEvent::Changed { key, drafts, .. } = event {
                assert_eq!(key, "ws:shop");
                saw_draft |= drafts.iter().any(|d| matches!(d, DraftChange::Edited { path, content, .. } if path == "app/page.tsx" && content.to_string().starts_with("// hi\n")));
            }
        }
        assert!(saw_draft);
        insta::assert_snapshot!("editor_dirty_60x20", draw(&mut f.app, 60, 20));
    }

    #[test]
    fn save_writes_the_store_and_clears_the_draft() {
        let mut f = fixture(None);
        open_page(&mut f.app);
        typing(&mut f.app, "X");
        key(&mut f.app, KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert!(f.app.dirty_paths().is_empty());
        let store = Store::open(&f.data).unwrap();
        let ws = store::workspaces::find(&store.conn, "shop")
            .unwrap()
            .unwrap();
        let saved = store::files::content(&store.conn, ws.id, "app/page.tsx")
            .unwrap()
            .unwrap();
        assert!(saved.starts_with("Xexport default"));
        f.app.sync_autosave();
        let mut cleaned = false;
        while let Ok(event) = f.events.try_recv() {
            if let AutosaveEvent::Changed { drafts, .. } = event {
                cleaned |= drafts
                    .iter()
                    .any(|d| matches!(d, DraftChange::Clean { path } if path == "app/page.tsx"));
            }
        }
        assert!(cleaned);
    }

    #[test]
    fn drafts_and_tabs_come_back_on_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let (store, config) = store_with_workspace(dir.path());
        let saved = FILES[0].1;
        let mut conn = Store::open(&config.data_dir).unwrap();
        let draft = store::drafts::Draft {
            path: "app/page.tsx".into(),
            content: format!("// typed before the crash\n{saved}"),
            base_hash: Some(content_hash(saved)),
            updated_at: String::new(),
        };
        store::drafts::save_batch(&mut conn.conn, "ws:shop", &[draft], &[]).unwrap();
        let state = EditorState {
            tabs: vec![session::TabState {
                path: "app/page.tsx".into(),
                anchor: 5,
                head: 5,
                top: 0,
            }],
            active: 0,
            focus: "editor".into(),
        };
        store::editor_state::save(
            &conn.conn,
            "ws:shop",
            &serde_json::to_string(&state).unwrap(),
        )
        .unwrap();
        let (app, _events) = app_on(store, None);
        assert_eq!(app.focus, Focus::Editor);
        let tab = app.active_tab().unwrap();
        assert!(tab.buffer.text().starts_with("// typed before the crash\n"));
        assert_eq!(tab.buffer.cursor(), 5);
        assert!(tab.is_dirty());
    }

    #[test]
    fn a_stale_draft_is_offered_not_applied() {
        let dir = tempfile::tempdir().unwrap();
        let (store, config) = store_with_workspace(dir.path());
        let mut conn = Store::open(&config.data_dir).unwrap();
        let draft = store::drafts::Draft {
            path: "lib/cart.ts".into(),
            content: "// my unsaved idea\n".into(),
            base_hash: Some(content_hash(
                "what the file held before someone else saved it\n",
            )),
            updated_at: String::new(),
        };
        store::drafts::save_batch(&mut conn.conn, "ws:shop", &[draft], &[]).unwrap();
        let (mut app, _events) = app_on(store, None);
        // The saved file wins and the draft is shown as a diff.
        assert_eq!(text_of(&app), FILES[2].1);
        assert!(matches!(app.overlay, Some(Overlay::Conflict)));
        insta::assert_snapshot!("conflict_100x30", draw(&mut app, 100, 30));
        insta::assert_snapshot!("conflict_60x20", draw(&mut app, 60, 20));
        key(&mut app, KeyCode::Char('t'), KeyModifiers::NONE);
        assert_eq!(text_of(&app), "// my unsaved idea\n");
        // Undo brings the saved text back: nothing is lost either way.
        app.focus = Focus::Editor;
        key(&mut app, KeyCode::Char('z'), KeyModifiers::CONTROL);
        assert_eq!(text_of(&app), FILES[2].1);
    }

    #[test]
    fn a_second_kollega_opens_read_only() {
        let mut first = fixture(None);
        let second_store = Store::open(&first.data).unwrap();
        // Pretend the first holder is another live process: our own pid
        // would count as "ours", so use the parent's (alive) pid.
        let parent = std::os::unix::process::parent_id();
        second_store
            .conn
            .execute("UPDATE workspace_locks SET pid = ?1", [parent])
            .unwrap();
        let (mut second, _events) = app_on(second_store, None);
        let session = second.session.as_ref().unwrap();
        assert!(
            session
                .read_only
                .as_deref()
                .unwrap_or_default()
                .contains("read-only")
        );
        open_page(&mut second);
        let before = text_of(&second);
        typing(&mut second, "nope");
        assert_eq!(text_of(&second), before);
        let screen = draw(&mut second, 100, 30);
        assert!(screen.contains("read-only"), "{screen}");
        first.app.quit = true;
    }

    #[test]
    fn help_palette_and_finder_overlays() {
        let mut f = fixture(None);
        f.app.update(Action::Help);
        let screen = draw(&mut f.app, 100, 30);
        assert!(screen.contains("quit kollega"));
        insta::assert_snapshot!("help_100x30", screen);
        insta::assert_snapshot!("help_60x20", draw(&mut f.app, 60, 20));
        key(&mut f.app, KeyCode::Esc, KeyModifiers::NONE);
        assert!(f.app.overlay.is_none());

        key(&mut f.app, KeyCode::Char('p'), KeyModifiers::CONTROL);
        typing(&mut f.app, "cart");
        insta::assert_snapshot!("finder_60x20", draw(&mut f.app, 60, 20));
        insta::assert_snapshot!("finder_100x30", draw(&mut f.app, 100, 30));
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(
            f.app.active_tab().map(|t| t.path.as_str()),
            Some("lib/cart.ts")
        );

        key(&mut f.app, KeyCode::Char('p'), KeyModifiers::ALT);
        typing(&mut f.app, "goto");
        insta::assert_snapshot!("palette_100x30", draw(&mut f.app, 100, 30));
        insta::assert_snapshot!("palette_60x20", draw(&mut f.app, 60, 20));
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        assert!(matches!(f.app.overlay, Some(Overlay::Prompt(_))));
        typing(&mut f.app, "3");
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(f.app.active_tab().unwrap().buffer.cursor_line_col().0, 2);
    }

    #[test]
    fn tree_creates_renames_and_deletes_in_the_store() {
        let mut f = fixture(None);
        key(&mut f.app, KeyCode::Char('a'), KeyModifiers::NONE);
        // The prompt starts in the selected folder ("app/").
        typing(&mut f.app, "new.ts");
        insta::assert_snapshot!("prompt_60x20", draw(&mut f.app, 60, 20));
        insta::assert_snapshot!("prompt_100x30", draw(&mut f.app, 100, 30));
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(
            f.app.active_tab().map(|t| t.path.as_str()),
            Some("app/new.ts")
        );
        key(&mut f.app, KeyCode::Esc, KeyModifiers::NONE);
        let rows = |app: &App| {
            app.session
                .as_ref()
                .unwrap()
                .tree
                .rows
                .iter()
                .map(|r| r.path.clone())
                .collect::<Vec<_>>()
        };
        // Expand app/ and rename the folder.
        f.app.update(Action::Top);
        f.app.update(Action::Open);
        assert!(rows(&f.app).contains(&"app/new.ts".to_string()));
        key(&mut f.app, KeyCode::Char('r'), KeyModifiers::NONE);
        for _ in 0..3 {
            key(&mut f.app, KeyCode::Backspace, KeyModifiers::NONE);
        }
        typing(&mut f.app, "web");
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        let store = Store::open(&f.data).unwrap();
        let ws = store::workspaces::find(&store.conn, "shop")
            .unwrap()
            .unwrap();
        let paths: Vec<String> = store::files::list(&store.conn, ws.id)
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert!(
            paths.contains(&"web/new.ts".to_string())
                && paths.contains(&"web/page.tsx".to_string()),
            "{paths:?}"
        );
        assert_eq!(
            f.app.active_tab().map(|t| t.path.as_str()),
            Some("web/new.ts")
        );
        // Delete asks first; "n" keeps it, "y" deletes. Rows: lib, web, …
        f.app.update(Action::Top);
        f.app.update(Action::Down);
        key(&mut f.app, KeyCode::Char('d'), KeyModifiers::NONE);
        key(&mut f.app, KeyCode::Char('n'), KeyModifiers::NONE);
        assert!(rows(&f.app).iter().any(|p| p.starts_with("web")));
        key(&mut f.app, KeyCode::Char('d'), KeyModifiers::NONE);
        key(&mut f.app, KeyCode::Char('y'), KeyModifiers::NONE);
        assert!(
            !rows(&f.app).iter().any(|p| p.starts_with("web")),
            "{:?} {:?}",
            rows(&f.app),
            f.app.message
        );
        assert!(rows(&f.app).contains(&"lib".to_string()));
    }

    #[test]
    fn vim_keys_edit_with_modes_and_sequences() {
        let mut f = fixture(Some("vim"));
        open_page(&mut f.app);
        assert_eq!(f.app.mode, Mode::Normal);
        // Normal mode: letters are commands, not text.
        typing(&mut f.app, "dd");
        assert!(text_of(&f.app).starts_with("  return"));
        typing(&mut f.app, "u");
        assert!(text_of(&f.app).starts_with("export default"));
        typing(&mut f.app, "Gggi");
        assert_eq!(f.app.mode, Mode::Insert);
        typing(&mut f.app, "// top");
        key(&mut f.app, KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(f.app.mode, Mode::Normal);
        assert!(text_of(&f.app).starts_with("// topexport"));
        typing(&mut f.app, "yyp");
        assert!(
            text_of(&f.app).starts_with("// topexport default function Page() {\n// topexport")
        );
        insta::assert_snapshot!("vim_normal_60x20", draw(&mut f.app, 60, 20));
        typing(&mut f.app, ":w");
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        assert!(f.app.dirty_paths().is_empty());
        typing(&mut f.app, ":q");
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        assert!(f.app.quit);
    }

    #[test]
    fn search_replace_and_copy_reach_the_clipboard() {
        let mut f = fixture(None);
        open_page(&mut f.app);
        key(&mut f.app, KeyCode::Char('f'), KeyModifiers::CONTROL);
        typing(&mut f.app, "Sh(o)p");
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        key(&mut f.app, KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(f.app.take_clipboard().as_deref(), Some("Shop"));
        key(&mut f.app, KeyCode::Char('r'), KeyModifiers::CONTROL);
        typing(&mut f.app, "Sh(o)p");
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        typing(&mut f.app, "St${1}re");
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        assert!(
            text_of(&f.app).contains(">Store</h1>"),
            "{}",
            text_of(&f.app)
        );
        // One undo step takes the whole replace back.
        key(&mut f.app, KeyCode::Char('z'), KeyModifiers::CONTROL);
        assert!(text_of(&f.app).contains(">Shop</h1>"));
    }

    #[test]
    fn folder_workspace_saves_to_disk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("index.html"), "<h1>hi</h1>\r\n").unwrap();
        let config = Config::load(Some(dir.path().join("data"))).unwrap();
        let store = Store::open(&config.data_dir).unwrap();
        let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
        let (keymap, _) = Keymap::load(None, None);
        let mut app = App::new(store, theme, keymap, vec![".git".into()]).unwrap();
        let disk = DiskWorkspace::open(&root).unwrap();
        app.start(Some(OpenTarget::Dir(disk)), Some("index.html"), Some(1));
        assert_eq!(app.session.as_ref().unwrap().files.storage_label(), "dir");
        key(&mut app, KeyCode::End, KeyModifiers::NONE);
        typing(&mut app, "!");
        key(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(
            std::fs::read(root.join("index.html")).unwrap(),
            b"<h1>hi</h1>!\r\n"
        );
    }

    #[test]
    fn several_workspaces_start_in_the_list() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, config) = store_with_workspace(dir.path());
        let other = dir.path().join("blog");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("index.md"), "# Blog\n").unwrap();
        import(
            &mut store,
            &config,
            &other,
            &ImportOptions::default(),
            &mut (),
        )
        .unwrap();
        let (mut app, _events) = app_on(store, None);
        assert_eq!(app.focus, Focus::Workspaces);
        assert!(app.session.is_none());
        insta::assert_snapshot!("workspaces_100x30", draw(&mut app, 100, 30));
        insta::assert_snapshot!("workspaces_60x20", draw(&mut app, 60, 20));
        app.update(Action::Down);
        app.update(Action::Open);
        assert_eq!(app.session.as_ref().map(|s| s.name.as_str()), Some("shop"));
    }

    #[test]
    fn every_keymap_and_theme_file_on_disk_loads() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for entry in std::fs::read_dir(root.join("keymaps")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let (_, errors) = Keymap::load(Some(&name), None);
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            assert!(
                super::super::keymap::SHIPPED
                    .iter()
                    .any(|(n, _)| *n == name),
                "{name} is not shipped"
            );
        }
        for entry in std::fs::read_dir(root.join("themes")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            Theme::load(&name, None, ColorDepth::TrueColor)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }

    #[test]
    fn the_cursor_lands_on_wide_text_as_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("a.txt"), "中文\t😀e\u{301}x\n").unwrap();
        let config = Config::load(Some(dir.path().join("data"))).unwrap();
        let store = Store::open(&config.data_dir).unwrap();
        let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
        let (keymap, _) = Keymap::load(None, None);
        let mut app = App::new(store, theme, keymap, vec![]).unwrap();
        app.start(
            Some(OpenTarget::Dir(DiskWorkspace::open(&root).unwrap())),
            Some("a.txt"),
            None,
        );
        key(&mut app, KeyCode::End, KeyModifiers::NONE);
        key(&mut app, KeyCode::Left, KeyModifiers::NONE);
        let mut terminal = Terminal::new(TestBackend::new(60, 20)).unwrap();
        let mut cursor = None;
        terminal
            .draw(|f| cursor = app.render(f.area(), f.buffer_mut()))
            .unwrap();
        let (x, y) = cursor.unwrap();
        // One step left of the end sits on "x", drawn after 中文 (4 cells),
        // a tab to column 8, 😀 (2 cells) and é (1 cell): column 11.
        assert_eq!(terminal.backend().buffer()[(x, y)].symbol(), "x");
        assert_eq!(app.active_tab().unwrap().buffer.cursor_line_col(), (0, 11));
    }

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A repository with one commit, two changed hunks in a.txt and an
    /// untracked b.txt, opened in the app.
    fn git_fixture() -> (App, tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["config", "user.name", "Test"]);
        git(&repo, &["config", "user.email", "test@example.com"]);
        let lines: String = (1..=12).map(|i| format!("line{i}\n")).collect();
        std::fs::write(repo.join("a.txt"), &lines).unwrap();
        std::fs::write(repo.join(".gitignore"), "build/\n").unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "init"]);
        std::fs::write(
            repo.join("a.txt"),
            lines
                .replace("line2\n", "LINE2\n")
                .replace("line11\n", "LINE11\n"),
        )
        .unwrap();
        std::fs::write(repo.join("b.txt"), "new\n").unwrap();
        std::fs::create_dir_all(repo.join("build")).unwrap();
        std::fs::write(repo.join("build/out.js"), "ignored\n").unwrap();
        let config = Config::load(Some(dir.path().join("data"))).unwrap();
        let store = Store::open(&config.data_dir).unwrap();
        let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
        let (keymap, _) = Keymap::load(None, None);
        let mut app = App::new(store, theme, keymap, vec![".git".into()]).unwrap();
        app.start(
            Some(OpenTarget::Dir(DiskWorkspace::open(&repo).unwrap())),
            None,
            None,
        );
        (app, dir, repo)
    }

    #[test]
    fn a_git_workspace_shows_markers_and_respects_gitignore() {
        let (mut app, _dir, _repo) = git_fixture();
        let session = app.session.as_ref().unwrap();
        assert_eq!(session.storage_label(), "git");
        let rows: Vec<&str> = session.tree.rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            rows,
            [".gitignore", "a.txt", "b.txt"],
            "build/ is ignored by git"
        );
        let screen = draw(&mut app, 100, 30);
        assert!(screen.contains("[git main ●2]"), "{screen}");
        insta::assert_snapshot!("git_tree_60x20", draw(&mut app, 60, 20));
    }

    #[test]
    fn changes_view_stages_one_hunk_and_commits_it() {
        let (mut app, _dir, repo) = git_fixture();
        key(&mut app, KeyCode::Char('g'), KeyModifiers::ALT);
        assert_eq!(app.focus, Focus::Changes);
        insta::assert_snapshot!("changes_100x30", draw(&mut app, 100, 30));
        insta::assert_snapshot!("changes_60x20", draw(&mut app, 60, 20));
        // Into the diff of a.txt; stage its first hunk only.
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(app.focus, Focus::Diff);
        key(&mut app, KeyCode::Char(' '), KeyModifiers::NONE);
        let cached = git(&repo, &["diff", "--cached"]);
        assert!(
            cached.contains("+LINE2") && !cached.contains("LINE11"),
            "{cached}"
        );
        // Commit it with a message typed in the prompt.
        key(&mut app, KeyCode::Char('c'), KeyModifiers::NONE);
        typing(&mut app, "Capitalise line two");
        insta::assert_snapshot!("commit_prompt_60x20", draw(&mut app, 60, 20));
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        let log = git(&repo, &["log", "--format=%s"]);
        assert_eq!(
            log.lines().collect::<Vec<_>>(),
            ["Capitalise line two", "init"]
        );
        let left = git(&repo, &["diff"]);
        assert!(
            left.contains("+LINE11") && !left.contains("LINE2"),
            "{left}"
        );
        // The status follows: one file still modified, one untracked.
        let status = app
            .session
            .as_ref()
            .unwrap()
            .git
            .as_ref()
            .unwrap()
            .status
            .clone()
            .unwrap();
        assert_eq!(status.dirty_count(), 2);
    }

    #[test]
    fn a_split_hunk_stages_half_and_discard_asks_first() {
        let (mut app, _dir, repo) = git_fixture();
        // One hunk with two separate changes: lines 2 and 5.
        let lines: String = (1..=6).map(|i| format!("line{i}\n")).collect();
        std::fs::write(repo.join("c.txt"), &lines).unwrap();
        git(&repo, &["add", "c.txt"]);
        git(&repo, &["commit", "-q", "-m", "c"]);
        std::fs::write(
            repo.join("c.txt"),
            lines.replace("line2", "TWO").replace("line5", "FIVE"),
        )
        .unwrap();
        key(&mut app, KeyCode::Char('g'), KeyModifiers::ALT);
        // Rows: a.txt, b.txt, c.txt (sorted by path).
        let paths: Vec<String> = app
            .session
            .as_ref()
            .unwrap()
            .git
            .as_ref()
            .unwrap()
            .changes
            .entries
            .iter()
            .map(|e| e.path.clone())
            .collect();
        let c = paths.iter().position(|p| p == "c.txt").unwrap();
        for _ in 0..c {
            key(&mut app, KeyCode::Char('j'), KeyModifiers::NONE);
        }
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        key(&mut app, KeyCode::Char('s'), KeyModifiers::NONE);
        let diff = app
            .session
            .as_ref()
            .unwrap()
            .git
            .as_ref()
            .unwrap()
            .diff
            .as_ref()
            .unwrap();
        assert_eq!(diff.hunk_count(), 2);
        key(&mut app, KeyCode::Char(' '), KeyModifiers::NONE);
        let cached = git(&repo, &["diff", "--cached", "c.txt"]);
        assert!(
            cached.contains("+TWO") && !cached.contains("FIVE"),
            "{cached}"
        );
        // Discard the rest: "n" keeps it, "y" discards.
        key(&mut app, KeyCode::Char('d'), KeyModifiers::NONE);
        key(&mut app, KeyCode::Char('n'), KeyModifiers::NONE);
        assert!(
            std::fs::read_to_string(repo.join("c.txt"))
                .unwrap()
                .contains("FIVE")
        );
        key(&mut app, KeyCode::Char('d'), KeyModifiers::NONE);
        key(&mut app, KeyCode::Char('y'), KeyModifiers::NONE);
        let text = std::fs::read_to_string(repo.join("c.txt")).unwrap();
        assert!(text.contains("TWO") && !text.contains("FIVE"), "{text}");
    }

    #[test]
    fn a_change_on_disk_reloads_clean_buffers_and_offers_beside_dirty_ones() {
        let (mut app, _dir, repo) = git_fixture();
        app.open_file("a.txt");
        app.open_file("b.txt");
        std::fs::write(repo.join("b.txt"), "changed elsewhere\n").unwrap();
        app.on_watch(crate::workspace::watch::WatchEvent::Changed {
            paths: vec!["b.txt".into()],
            git: false,
        });
        assert_eq!(text_of(&app), "changed elsewhere\n");
        assert!(!app.active_tab().unwrap().is_dirty());
        typing(&mut app, "mine ");
        std::fs::write(repo.join("b.txt"), "theirs\n").unwrap();
        app.on_watch(crate::workspace::watch::WatchEvent::Rescan);
        // The typed text stays; the disk's version is offered as a diff.
        assert_eq!(text_of(&app), "mine changed elsewhere\n");
        assert!(matches!(app.overlay, Some(Overlay::Conflict)));
        insta::assert_snapshot!("disk_conflict_60x20", draw(&mut app, 60, 20));
        key(&mut app, KeyCode::Char('t'), KeyModifiers::NONE);
        assert_eq!(text_of(&app), "theirs\n");
        assert!(!app.active_tab().unwrap().is_dirty());
    }

    // ----- jobs ------------------------------------------------------------

    use crate::jobs::queue::{self as job_queue, NewJob, Outcome, Stream};
    use crate::jobs::{JobError, Status};

    /// Milliseconds the seeded jobs start at: 2026-01-02T03:04:05Z.
    const T0: i64 = 1_767_323_045_000;

    fn command_job(argv: &str) -> NewJob {
        NewJob {
            kind: "command".into(),
            workspace: Some("shop".into()),
            payload: serde_json::json!({ "argv": [argv] }),
            max_attempts: 3,
            ..NewJob::default()
        }
    }

    /// Jobs in every status, one running at 40% with a coloured log.
    fn seed_jobs(data: &std::path::Path) -> i64 {
        let mut store = Store::open(data).unwrap();
        let c = &mut store.conn;
        let owner = "tui:host:1:1";
        let ok = job_queue::enqueue(c, &command_job("npm test"), T0).unwrap();
        job_queue::claim_id(c, ok, owner, T0 + 1_000, 30_000).unwrap();
        job_queue::finish(
            c,
            ok,
            owner,
            &Outcome::Succeeded(serde_json::json!({})),
            T0 + 13_300,
        )
        .unwrap();
        let failed = job_queue::enqueue(c, &command_job("npm run lint"), T0).unwrap();
        job_queue::claim_id(c, failed, owner, T0 + 2_000, 30_000).unwrap();
        let mut exit = JobError::failed("exited with code 1");
        exit.exit_code = Some(1);
        job_queue::finish(c, failed, owner, &Outcome::Error(exit), T0 + 4_500).unwrap();
        let push = job_queue::enqueue(
            c,
            &NewJob {
                kind: "git-push".into(),
                workspace: Some("shop".into()),
                payload: serde_json::json!({}),
                max_attempts: 4,
                ..NewJob::default()
            },
            T0,
        )
        .unwrap();
        job_queue::claim_id(c, push, owner, T0 + 3_000, 30_000).unwrap();
        job_queue::finish(
            c,
            push,
            owner,
            &Outcome::Error(JobError::permanent(
                "exited with code 128: Permission denied",
            )),
            T0 + 3_800,
        )
        .unwrap();
        let retrying = job_queue::enqueue(c, &command_job("curl https://example.com"), T0).unwrap();
        job_queue::claim_id(c, retrying, owner, T0 + 5_000, 30_000).unwrap();
        job_queue::finish(
            c,
            retrying,
            owner,
            &Outcome::Error(JobError::transient("connection reset")),
            T0 + 6_000,
        )
        .unwrap();
        let cancelled = job_queue::enqueue(c, &command_job("sleep 100"), T0 + 7_000).unwrap();
        job_queue::request_cancel(c, cancelled, T0 + 8_000).unwrap();
        job_queue::enqueue(c, &command_job("make deploy"), T0 + 9_000).unwrap();
        let running =
            job_queue::enqueue(c, &command_job("cargo build --release"), T0 + 10_000).unwrap();
        job_queue::claim_id(c, running, owner, T0 + 10_000, 30_000).unwrap();
        job_queue::set_progress(c, running, owner, 40, T0 + 20_000).unwrap();
        let lines: Vec<(Stream, i64, String)> = [
            "\x1b[1m   Compiling\x1b[0m kollega v0.1.0",
            "\x1b[1;33mwarning\x1b[0m: unused variable: `x`",
            "\x1b[1;31merror\x1b[0m[E0308]: mismatched types",
            "\tsrc/main.rs:12:5",
            "\x1b]0;window title\x07\x1b[2Kprogress 40%",
            "\x1b[32mok\x1b[0m: the error above is fixed",
        ]
        .iter()
        .map(|l| (Stream::Stdout, T0 + 11_000, l.to_string()))
        .collect();
        let tx = c.transaction().unwrap();
        job_queue::append_logs(&tx, running, 1, &lines, 0, 2000).unwrap();
        tx.commit().unwrap();
        running
    }

    #[test]
    fn jobs_view_shows_statuses_progress_colours_filter_and_search() {
        let mut f = fixture(None);
        let running = seed_jobs(&f.data);
        f.app.jobs.fixed_now = Some(T0 + 22_300);
        key(&mut f.app, KeyCode::Char('j'), KeyModifiers::ALT);
        assert_eq!(f.app.focus, Focus::Jobs);
        assert_eq!(f.app.jobs.pane.jobs().len(), 7);
        // Down the list to the running job; its log follows.
        while f.app.jobs.pane.selected_job().map(|j| j.id) != Some(running) {
            key(&mut f.app, KeyCode::Char('j'), KeyModifiers::NONE);
        }
        assert_eq!(f.app.jobs.pane.log.job, Some(running));
        assert_eq!(f.app.jobs.pane.log.len(), 6);
        insta::assert_snapshot!("jobs_100x30", draw(&mut f.app, 100, 30));
        insta::assert_snapshot!("jobs_60x20", draw(&mut f.app, 60, 20));
        let screen = draw(&mut f.app, 80, 24);
        for text in ["KIND", "40%", "cargo build --release", "mismatched types"] {
            assert!(screen.contains(text), "{text} at 80x24:\n{screen}");
        }

        // Kind filter: the git push goes; the title says why.
        key(&mut f.app, KeyCode::Char('F'), KeyModifiers::NONE);
        assert_eq!(f.app.jobs.pane.kind_filter.as_deref(), Some("command"));
        // Search the log, into the log pane.
        key(&mut f.app, KeyCode::Tab, KeyModifiers::NONE);
        assert_eq!(f.app.focus, Focus::JobLog);
        key(&mut f.app, KeyCode::Char('/'), KeyModifiers::NONE);
        typing(&mut f.app, "error");
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        let screen = draw(&mut f.app, 100, 30);
        assert!(
            screen.contains("kind command") && screen.contains("/error"),
            "{screen}"
        );
        assert!(!screen.contains("git-push"), "{screen}");
        insta::assert_snapshot!("jobs_filtered_search_100x30", screen);
        insta::assert_snapshot!("jobs_filtered_search_60x20", draw(&mut f.app, 60, 20));

        // The command's colours are drawn: "error" in bold red, the hit
        // of the search over it.
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal
            .draw(|fr| {
                f.app.render(fr.area(), fr.buffer_mut());
            })
            .unwrap();
        let buf = terminal.backend().buffer().clone();
        let row_of = |text: &str| {
            (0..buf.area.height)
                .find(|&y| {
                    (0..buf.area.width)
                        .map(|x| buf[(x, y)].symbol())
                        .collect::<String>()
                        .contains(text)
                })
                .unwrap()
        };
        let y = row_of("mismatched types");
        let x = (0..buf.area.width)
            .find(|&x| buf[(x, y)].symbol() == "e" && buf[(x + 1, y)].symbol() == "r")
            .unwrap();
        assert!(
            buf[(x, y)]
                .modifier
                .contains(ratatui::style::Modifier::BOLD)
        );
        let y = row_of("Compiling");
        let x = (0..buf.area.width)
            .find(|&x| buf[(x, y)].symbol() == "C")
            .unwrap();
        assert!(
            buf[(x, y)]
                .modifier
                .contains(ratatui::style::Modifier::BOLD)
        );
        let y = row_of("the error above");
        let x = (0..buf.area.width)
            .find(|&x| buf[(x, y)].symbol() == "o")
            .unwrap();
        assert_eq!(buf[(x, y)].fg, ratatui::style::Color::Green);
        // The window title and the erase did not reach the screen.
        let screen = terminal.backend().to_string();
        assert!(!screen.contains("window title"), "{screen}");

        // Details of the job.
        key(&mut f.app, KeyCode::Enter, KeyModifiers::NONE);
        let screen = draw(&mut f.app, 100, 30);
        assert!(
            screen.contains("cargo build --release") && screen.contains("1 of 3"),
            "{screen}"
        );
        insta::assert_snapshot!("job_details_60x20", draw(&mut f.app, 60, 20));
        key(&mut f.app, KeyCode::Esc, KeyModifiers::NONE);
        assert!(f.app.overlay.is_none());
        key(&mut f.app, KeyCode::Char('j'), KeyModifiers::ALT);
        assert_eq!(f.app.focus, Focus::Tree);
    }

    #[test]
    fn quitting_while_jobs_run_here_asks_first() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(Some(dir.path().join("data"))).unwrap();
        let store = Store::open(&config.data_dir).unwrap();
        let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
        let (keymap, _) = Keymap::load(None, None);
        let mut app = App::new(store, theme, keymap, vec![]).unwrap();
        app.start(None, None, None);
        app.job_event(crate::jobs::runner::Event::Started {
            id: 7,
            title: "make build".into(),
        });
        app.update(Action::Quit);
        assert!(!app.quit, "quit without asking");
        let screen = draw(&mut app, 120, 24);
        assert!(
            screen.contains("quit? 1 running job will be stopped"),
            "{screen}"
        );
        key(&mut app, KeyCode::Char('n'), KeyModifiers::NONE);
        assert!(!app.quit);
        app.update(Action::Quit);
        key(&mut app, KeyCode::Char('y'), KeyModifiers::NONE);
        assert!(app.quit);
        // With nothing running here, quit is at once.
        let mut app2 = {
            let store = Store::open(&config.data_dir).unwrap();
            let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
            let (keymap, _) = Keymap::load(None, None);
            App::new(store, theme, keymap, vec![]).unwrap()
        };
        app2.start(None, None, None);
        app2.update(Action::Quit);
        assert!(app2.quit);
    }

    #[test]
    fn run_task_enqueues_the_task_and_opens_the_jobs_view_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("Makefile"),
            "build:\n\techo built\n\ntest:\n\techo tested\n",
        )
        .unwrap();
        let config = Config::load(Some(dir.path().join("data"))).unwrap();
        let store = Store::open(&config.data_dir).unwrap();
        let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
        let (keymap, _) = Keymap::load(None, None);
        let mut app = App::new(store, theme, keymap, vec![]).unwrap();
        app.start(
            Some(OpenTarget::Dir(DiskWorkspace::open(&root).unwrap())),
            None,
            None,
        );
        // From the palette, by name.
        key(&mut app, KeyCode::Char('p'), KeyModifiers::ALT);
        typing(&mut app, "run_task");
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        assert!(matches!(app.overlay, Some(Overlay::Tasks(_))));
        let screen = draw(&mut app, 80, 24);
        assert!(
            screen.contains("build") && screen.contains("make build"),
            "{screen}"
        );
        typing(&mut app, "test");
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE);

        let store = Store::open(&config.data_dir).unwrap();
        let jobs = job_queue::list(&store.conn, &job_queue::Filter::default()).unwrap();
        assert_eq!(jobs.len(), 1);
        let job = &jobs[0];
        let canonical = root.canonicalize().unwrap();
        assert_eq!(job.kind, "command");
        assert_eq!(job.status, Status::Queued);
        assert_eq!(job.workspace.as_deref(), Some(canonical.to_str().unwrap()));
        assert_eq!(job.payload["argv"], serde_json::json!(["make test"]));
        assert_eq!(job.payload["task"], "test");
        // Asked for colour, which the log pane renders.
        assert_eq!(job.payload["env"]["FORCE_COLOR"], "1");
        // The view is open on it, and the status bar says so.
        assert_eq!(app.focus, Focus::Jobs);
        assert_eq!(app.jobs.pane.selected_job().map(|j| j.id), Some(job.id));
        assert_eq!(app.jobs.pane.log.job, Some(job.id));
        let screen = draw(&mut app, 80, 24);
        assert!(
            screen.contains(&format!("job {} queued: make test", job.id)),
            "{screen}"
        );

        // "Run command…" takes any shell line.
        key(&mut app, KeyCode::Char('!'), KeyModifiers::NONE);
        typing(&mut app, "ls | wc -l");
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        let jobs = job_queue::list(&store.conn, &job_queue::Filter::default()).unwrap();
        assert_eq!(jobs[0].payload["argv"], serde_json::json!(["ls | wc -l"]));
        assert_eq!(app.jobs.pane.selected_job().map(|j| j.id), Some(jobs[0].id));
    }

    #[test]
    fn cancel_asks_first_and_retry_queues_again() {
        let mut f = fixture(None);
        let id = {
            let mut store = Store::open(&f.data).unwrap();
            job_queue::enqueue(&mut store.conn, &command_job("sleep 60"), T0).unwrap()
        };
        let status = |data: &std::path::Path| {
            job_queue::require(&Store::open(data).unwrap().conn, id)
                .unwrap()
                .status
        };
        key(&mut f.app, KeyCode::Char('j'), KeyModifiers::ALT);
        key(&mut f.app, KeyCode::Char('x'), KeyModifiers::NONE);
        let screen = draw(&mut f.app, 80, 24);
        assert!(
            screen.contains(&format!("cancel job {id} (sleep 60)?")),
            "{screen}"
        );
        // "n" keeps it.
        key(&mut f.app, KeyCode::Char('n'), KeyModifiers::NONE);
        assert_eq!(status(&f.data), Status::Queued);
        key(&mut f.app, KeyCode::Char('x'), KeyModifiers::NONE);
        key(&mut f.app, KeyCode::Char('y'), KeyModifiers::NONE);
        assert_eq!(status(&f.data), Status::Cancelled);
        assert_eq!(
            f.app.jobs.pane.job(id).map(|j| j.status),
            Some(Status::Cancelled)
        );
        // An ended job is not asked about.
        key(&mut f.app, KeyCode::Char('x'), KeyModifiers::NONE);
        assert!(f.app.overlay.is_none());
        key(&mut f.app, KeyCode::Char('r'), KeyModifiers::NONE);
        assert_eq!(status(&f.data), Status::Queued);
        assert!(draw(&mut f.app, 80, 24).contains(&format!("job {id} queued again")));
        // y copies the command line to the terminal clipboard.
        key(&mut f.app, KeyCode::Char('y'), KeyModifiers::NONE);
        assert_eq!(f.app.take_clipboard().as_deref(), Some("sleep 60"));
    }

    #[test]
    fn the_log_ring_stays_bounded_when_a_job_floods_it() {
        let mut f = fixture(None);
        let id = {
            let mut store = Store::open(&f.data).unwrap();
            job_queue::enqueue(&mut store.conn, &command_job("seq 100000"), T0).unwrap()
        };
        key(&mut f.app, KeyCode::Char('j'), KeyModifiers::ALT);
        assert_eq!(f.app.jobs.pane.log.job, Some(id));
        for batch in 0..50 {
            let from = batch * 2000;
            let lines = (from..from + 2000)
                .map(|seq| job_queue::LogLine {
                    seq,
                    attempt: 1,
                    stream: Stream::Stdout,
                    at: T0,
                    line: format!("\x1b[32m{}\x1b[0m", seq + 1),
                })
                .collect();
            let after = f.app.jobs.pane.log.last_seq;
            f.app.jobs_msg(JobsMsg::Polled {
                jobs: Ok(Vec::new()),
                log: Some((id, after, Ok(lines))),
            });
            assert!(f.app.jobs.pane.log.len() <= crate::tui::panes::job_log::LOG_LINES);
        }
        let log = &f.app.jobs.pane.log;
        assert_eq!(log.len(), crate::tui::panes::job_log::LOG_LINES);
        assert_eq!(log.last_seq, 99_999);
        assert_eq!(log.entries().last().map(|e| e.seq), Some(99_999));
        assert_eq!(log.entries().next().map(|e| e.seq), Some(95_000));
        // An answer from an older place in the log is dropped.
        f.app.jobs_msg(JobsMsg::Polled {
            jobs: Ok(Vec::new()),
            log: Some((id, 10, Ok(vec![]))),
        });
        let screen = draw(&mut f.app, 60, 20);
        assert!(screen.contains("100000"), "{screen}");
        // Y copies what is in view, as drawn.
        key(&mut f.app, KeyCode::Char('Y'), KeyModifiers::NONE);
        let copied = f.app.take_clipboard().unwrap();
        assert!(
            copied.ends_with("99999\n100000") && !copied.contains('\x1b'),
            "{copied:?}"
        );
    }

    #[test]
    fn push_in_the_changes_view_is_a_git_push_job() {
        let (mut app, dir, repo) = git_fixture();
        key(&mut app, KeyCode::Char('g'), KeyModifiers::ALT);
        key(&mut app, KeyCode::Char('P'), KeyModifiers::NONE);
        let store = Store::open(&dir.path().join("data")).unwrap();
        let jobs = job_queue::list(&store.conn, &job_queue::Filter::default()).unwrap();
        assert_eq!(jobs.len(), 1);
        let canonical = repo.canonicalize().unwrap();
        assert_eq!(jobs[0].kind, "git-push");
        assert_eq!(
            jobs[0].workspace.as_deref(),
            Some(canonical.to_str().unwrap())
        );
        assert_eq!(jobs[0].max_attempts, 4);
        let screen = draw(&mut app, 100, 30);
        assert!(
            screen.contains(&format!("push: job {} queued", jobs[0].id)),
            "{screen}"
        );
        assert!(screen.contains("(push…)"), "{screen}");
        // A second push waits for the first.
        key(&mut app, KeyCode::Char('P'), KeyModifiers::NONE);
        assert!(draw(&mut app, 100, 30).contains("a push is still queued or running"));
        // Its end (here: as a worker would write it) reaches the status bar.
        {
            let mut store = Store::open(&dir.path().join("data")).unwrap();
            let now = crate::jobs::now_ms();
            job_queue::claim_id(&mut store.conn, jobs[0].id, "worker:x:1:1", now, 30_000)
                .unwrap()
                .unwrap();
            job_queue::finish(
                &mut store.conn,
                jobs[0].id,
                "worker:x:1:1",
                &Outcome::Error(JobError::permanent("has no upstream branch")),
                crate::jobs::now_ms(),
            )
            .unwrap();
        }
        assert!(app.wants_job_poll());
        app.poll_jobs();
        let screen = draw(&mut app, 100, 30);
        assert!(
            screen.contains(&format!(
                "push: job {} dead (has no upstream branch)",
                jobs[0].id
            )),
            "{screen}"
        );
        assert!(!screen.contains("(push…)"), "{screen}");
        assert!(!app.wants_job_poll());
        // Pull queues a git-pull job the same way.
        key(&mut app, KeyCode::Char('p'), KeyModifiers::NONE);
        let jobs = job_queue::list(&store.conn, &job_queue::Filter::default()).unwrap();
        assert_eq!(jobs[0].kind, "git-pull");
    }

    #[test]
    fn a_finished_job_of_the_runner_is_reported_in_the_status_bar() {
        let mut f = fixture(None);
        f.app.job_event(crate::jobs::runner::Event::Ended {
            id: 12,
            title: "npm test".into(),
            status: Status::Succeeded,
        });
        assert_eq!(
            f.app.message,
            Some(("job 12 succeeded: npm test".into(), false))
        );
        f.app.job_event(crate::jobs::runner::Event::Ended {
            id: 13,
            title: "npm run lint".into(),
            status: Status::Failed,
        });
        assert_eq!(
            f.app.message,
            Some(("job 13 failed: npm run lint".into(), true))
        );
    }
}
