//! The open workspace: opening and closing it, its lock, and every read
//! and write of its files (load, save, create, rename, delete, changes made
//! by other programs), each run off the UI task with its answer tagged by
//! the session's generation. Drafts and the editor state leave through the
//! autosave task.

use std::path::PathBuf;

use super::{App, AppMsg, Focus, Overlay};
use crate::autosave::{AutosaveEvent, DraftChange};
use crate::error::describe;
use crate::jobs::kinds::Place;
use crate::store::locks::{self, LockOutcome};
use crate::store::workspaces::Workspace;
use crate::store::{self, Store};
use crate::tui::panes::editor::{ConflictKind, EditorPane, Tab};
use crate::tui::panes::git::GitPane;
use crate::tui::panes::tree::TreePane;
use crate::tui::session::{self, EditorState, Stored, Texts};
use crate::workspace::disk::DiskWorkspace;
use crate::workspace::files::{Files, FilesError};
use crate::workspace::tree;
use crate::workspace::watch::{self, WatchEvent, WatchHandle};

/// What to open: a stored workspace, or a folder on disk.
pub(crate) enum OpenTarget {
    Workspace(Workspace),
    Dir(DiskWorkspace),
}

/// Where the cursor goes in a file being opened: a 1-based line and, when
/// known, a 1-based column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spot {
    pub line: usize,
    pub column: Option<usize>,
}

impl Spot {
    pub(crate) fn line(line: usize) -> Spot {
        Spot { line, column: None }
    }

    /// Puts `tab`'s cursor there (clamped to the text).
    fn place(self, tab: &mut Tab) {
        tab.buffer.goto_line(self.line);
        if let Some(column) = self.column {
            let line = self.line.saturating_sub(1);
            let start = tab.buffer.line_to_char(line);
            let end = tab.buffer.line_end_char(line);
            tab.buffer
                .move_to((start + column.saturating_sub(1)).min(end), false);
        }
    }
}

/// The open workspace and its panes.
pub(crate) struct Session {
    generation: u64,
    pub key: String,
    pub name: String,
    pub files: Files,
    /// Where this workspace's jobs run, as the jobs record it.
    pub place: Place,
    pub tree: TreePane,
    pub editor: EditorPane,
    /// Set for a git working tree.
    pub git: Option<GitPane>,
    /// Every file's path as last listed, for the finder.
    pub listing: Vec<String>,
    /// This process holds the workspace's lock (else it is read-only).
    holds_lock: bool,
    last_state: String,
    /// Files asked for and not read yet.
    loading: Vec<String>,
    /// Saves sent and not answered yet.
    saving: usize,
    /// Quit once the saves in flight are written (`:wq`).
    quit_after_save: bool,
    /// Follows changes made on disk by others (folders and git trees);
    /// dropping it stops the watcher.
    watch: Option<WatchHandle>,
}

impl Session {
    pub(crate) fn storage_label(&self) -> &'static str {
        if self.git.is_some() {
            "git"
        } else {
            self.files.storage_label()
        }
    }
}

/// A change of the tree the user asked for.
pub(crate) enum FileChange {
    NewFile(String),
    NewFolder(String),
    Rename { from: String, to: String },
    Delete(String),
}

/// What a change of the tree did.
pub(crate) enum Changed {
    Created(String),
    CreatedFolder(String),
    Renamed { from: String, to: String },
    Deleted(String),
}

/// A workspace read in full, ready to show.
pub(crate) struct Loaded {
    key: String,
    name: String,
    files: Files,
    place: Place,
    git: Option<PathBuf>,
    lock: Result<LockOutcome, String>,
    listing: Result<Vec<String>, String>,
    stored: Stored,
    texts: Texts,
}

/// Answers about the open workspace.
pub(crate) enum SessionMsg {
    Loaded {
        generation: u64,
        result: Result<Box<Loaded>, String>,
    },
    File {
        generation: u64,
        path: String,
        at: Option<Spot>,
        result: Result<Option<String>, String>,
    },
    Listed {
        generation: u64,
        result: Result<Vec<String>, String>,
    },
    Saved {
        generation: u64,
        path: String,
        state: u64,
        result: Result<String, String>,
    },
    Changed {
        generation: u64,
        result: Result<Changed, String>,
    },
    /// What other programs wrote to open files.
    OnDisk {
        generation: u64,
        texts: Vec<(String, String)>,
    },
    Heartbeat {
        generation: u64,
        result: Result<bool, String>,
    },
    /// The folder's watcher is set up (after the first frame: a big tree
    /// takes a while to watch).
    Watching {
        generation: u64,
        watch: WatchHandle,
    },
    NotWatching {
        generation: u64,
        why: String,
    },
}

/// Where a target's files live, what it is called, and where its jobs
/// run; a folder in a git working tree lists as git does. Blocks (it
/// resolves paths and opens the repository).
fn resolve(target: OpenTarget) -> Result<(String, String, Files, Place, Option<PathBuf>), String> {
    // A workspace taken over into git lives in its repository; it keeps
    // its name.
    let (stored_name, target) = match target {
        OpenTarget::Workspace(ws) if ws.repo_path.is_some() => {
            let repo = ws.repo_path.clone().unwrap_or_default();
            let disk = DiskWorkspace::open(std::path::Path::new(&repo))
                .map_err(|e| format!("cannot open the repository {repo} of {}: {e}", ws.name))?;
            (Some(ws.name), OpenTarget::Dir(disk))
        }
        other => (None, other),
    };
    Ok(match target {
        OpenTarget::Workspace(ws) => (
            store::drafts::sqlite_key(&ws.name),
            ws.name.clone(),
            Files::Sqlite { id: ws.id },
            Place::Store {
                id: ws.id,
                name: ws.name,
            },
            None,
        ),
        OpenTarget::Dir(disk) => {
            let root = disk.root().to_path_buf();
            let key = store::drafts::dir_key(&root);
            // A working tree lists what git tracks or would track, and
            // gets the git pane.
            let git = crate::git::repo::Repo::open(&root).is_ok();
            let disk = if git {
                disk.respecting_gitignore()
            } else {
                disk
            };
            // Jobs name a stored workspace by its name (a taken-over one
            // runs in its repository) and a folder by its path.
            let (name, place) = match stored_name {
                Some(name) => (
                    name.clone(),
                    Place::Git {
                        name,
                        dir: root.clone(),
                    },
                ),
                None => (
                    root.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| root.display().to_string()),
                    Place::Dir(root.clone()),
                ),
            };
            (key, name, Files::Dir(disk), place, git.then_some(root))
        }
    })
}

/// Reads the listing and `paths` of `files`.
fn read_files(
    files: &Files,
    mut store: Option<&mut Store>,
    ignored: &[String],
    paths: &[String],
) -> (Result<Vec<String>, String>, Texts) {
    let listing = files
        .list(store.as_deref_mut(), ignored)
        .map_err(|e| describe(&e));
    let texts = paths
        .iter()
        .map(|p| {
            let text = files
                .read(store.as_deref_mut(), p)
                .map_err(|e| describe(&e));
            (p.clone(), text)
        })
        .collect();
    (listing, texts)
}

impl App {
    /// Opens the only workspace there is (the demo on a first start) or
    /// `target`; then `path` at `line` (1-based) when given.
    pub fn start(&mut self, target: Option<OpenTarget>, path: Option<&str>, line: Option<usize>) {
        match target {
            Some(target) => self.open_session(target),
            None if self.workspaces.items.len() == 1 => {
                if let Some(ws) = self.workspaces.selected().cloned() {
                    self.open_session(OpenTarget::Workspace(ws));
                }
            }
            None => {}
        }
        if let Some(path) = path
            && self.opening.is_some()
        {
            self.pending_open = Some((path.to_string(), line.map(Spot::line)));
        }
    }

    pub(super) fn open_session(&mut self, target: OpenTarget) {
        self.close_session();
        self.generation += 1;
        let generation = self.generation;
        self.opening = Some(match &target {
            OpenTarget::Workspace(ws) => ws.name.clone(),
            OpenTarget::Dir(disk) => disk
                .root()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        });
        let services = self.services.clone();
        let ignored = self.ignored.clone();
        self.in_flight += 1;
        self.services.runtime.spawn(async move {
            let result = load(&services, target, ignored).await.map(Box::new);
            let _ = services
                .tx
                .send(AppMsg::Session(SessionMsg::Loaded { generation, result }));
        });
    }

    fn close_session(&mut self) {
        self.sync_autosave();
        if let Some(session) = self.session.take()
            && session.holds_lock
        {
            // Queued now, so it is written before the worker stops.
            drop(self.services.store.release_lock(&session.key));
        }
        self.opening = None;
    }

    /// Whether a workspace, or a file asked for at the start, is still
    /// being opened.
    pub fn opening(&self) -> bool {
        self.opening.is_some()
            || self.pending_open.is_some()
            || self.session.as_ref().is_some_and(|s| !s.loading.is_empty())
    }

    /// Releases the workspace lock; called once at exit after the flush.
    pub async fn release_lock(&mut self) {
        if let Some(session) = &self.session
            && session.holds_lock
        {
            let _ = self.services.store.release_lock(&session.key).await;
        }
    }

    /// Keeps the workspace lock fresh (every few seconds).
    pub fn heartbeat(&mut self) {
        let Some(session) = &self.session else { return };
        if !session.holds_lock {
            return;
        }
        let generation = session.generation;
        let answer = self.services.store.heartbeat(&session.key);
        let tx = self.services.tx.clone();
        self.in_flight += 1;
        self.services.runtime.spawn(async move {
            let result = answer.await.map_err(|e| describe(&e));
            let _ = tx.send(AppMsg::Session(SessionMsg::Heartbeat {
                generation,
                result,
            }));
        });
    }

    /// Runs `work` where `files` live: on the store worker for a SQLite
    /// workspace, on a blocking thread for a folder.
    pub(super) fn files_work<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&Files, Option<&mut Store>) -> T + Send + 'static,
        reply: impl FnOnce(T) -> AppMsg + Send + 'static,
    ) {
        let Some(session) = &self.session else { return };
        let files = session.files.clone();
        if files.in_store() {
            self.store_work(move |store| work(&files, Some(store)), reply);
        } else {
            self.spawn_blocking(move || reply(work(&files, None)));
        }
    }

    /// Watches `root` for changes made by other programs, off the UI task
    /// and after the first frame (a big tree takes a while to watch).
    fn watch_folder(&mut self, generation: u64, root: PathBuf) {
        let events = self.services.watch.clone();
        let ignored = self.ignored.clone();
        self.spawn_blocking(move || {
            AppMsg::Session(match watch::spawn(&root, ignored, events) {
                Ok(watch) => SessionMsg::Watching { generation, watch },
                Err(e) => SessionMsg::NotWatching {
                    generation,
                    why: describe(&e),
                },
            })
        });
    }

    fn generation_of_session(&self) -> Option<u64> {
        self.session.as_ref().map(|s| s.generation)
    }

    /// Opens `path` in a tab (or switches to it), at `at` when given. A
    /// path with no file opens an empty buffer that the first save creates.
    pub(super) fn open_file(&mut self, path: &str, at: Option<Spot>) {
        let Some(session) = &mut self.session else {
            return;
        };
        let path = match crate::workspace::path::WorkspacePath::parse(path) {
            Ok(p) => p.to_string(),
            Err(e) => {
                self.notify(format!("{path:?} {e}"), true);
                return;
            }
        };
        if session.editor.activate(&path) {
            if let (Some(at), Some(tab)) = (at, session.editor.active_tab_mut()) {
                at.place(tab);
            }
            self.focus = Focus::Editor;
            session.editor.mode = crate::tui::panes::editor::Mode::Normal;
            return;
        }
        if session.loading.contains(&path) {
            return;
        }
        session.loading.push(path.clone());
        let generation = session.generation;
        let wanted = path.clone();
        self.files_work(
            move |files, store| files.read(store, &wanted).map_err(|e| describe(&e)),
            move |result| {
                AppMsg::Session(SessionMsg::File {
                    generation,
                    path,
                    at,
                    result,
                })
            },
        );
    }

    /// Lists the files again (after a save, a change of the tree, a change
    /// on disk).
    pub(super) fn refresh_tree(&mut self) {
        let Some(generation) = self.generation_of_session() else {
            return;
        };
        let ignored = self.ignored.clone();
        self.files_work(
            move |files, store| files.list(store, &ignored).map_err(|e| describe(&e)),
            move |result| AppMsg::Session(SessionMsg::Listed { generation, result }),
        );
    }

    /// Saves the active tab; with `then_quit`, quits once it is written.
    pub(super) fn save_active(&mut self, then_quit: bool) {
        let Some(session) = &mut self.session else {
            return;
        };
        let request = match session.editor.save_request() {
            Ok(Some(request)) => request,
            Ok(None) => {
                self.quit |= then_quit;
                return;
            }
            Err(why) => {
                self.notify(why, true);
                return;
            }
        };
        session.saving += 1;
        session.quit_after_save |= then_quit;
        let generation = session.generation;
        let (path, state) = (request.path.clone(), request.state);
        self.files_work(
            move |files, store| {
                files
                    .save(store, &request.path, &request.content)
                    .map_err(|e| describe(&e))
            },
            move |result: Result<String, String>| {
                AppMsg::Session(SessionMsg::Saved {
                    generation,
                    path,
                    state,
                    result,
                })
            },
        );
    }

    /// Creates, renames or deletes in the tree.
    pub(super) fn change_files(&mut self, change: FileChange) {
        let Some(session) = &self.session else { return };
        if let Some(why) = session.editor.read_only.clone() {
            self.notify(why, true);
            return;
        }
        let generation = session.generation;
        self.files_work(
            move |files, store| {
                let done: Result<Changed, FilesError> = match change {
                    FileChange::NewFile(path) => {
                        files.create_file(store, &path).map(Changed::Created)
                    }
                    FileChange::NewFolder(path) => {
                        files.create_dir(&path).map(Changed::CreatedFolder)
                    }
                    FileChange::Rename { from, to } => files
                        .rename(store, &from, &to)
                        .map(|to| Changed::Renamed { from, to }),
                    FileChange::Delete(path) => {
                        files.delete(store, &path).map(|()| Changed::Deleted(path))
                    }
                };
                done.map_err(|e| e.to_string())
            },
            move |result| AppMsg::Session(SessionMsg::Changed { generation, result }),
        );
    }

    /// Changes made on disk by others: reload clean buffers, offer the new
    /// text beside dirty ones, refresh the tree and the status.
    pub(crate) fn on_watch(&mut self, event: WatchEvent) -> bool {
        let Some(session) = &self.session else {
            return false;
        };
        let generation = session.generation;
        let paths: Vec<String> = session
            .editor
            .tabs
            .iter()
            .map(|t| t.path.clone())
            .filter(|p| match &event {
                WatchEvent::Changed { paths, .. } => paths.contains(p),
                WatchEvent::Rescan => true,
            })
            .collect();
        if !paths.is_empty() {
            self.files_work(
                move |files, mut store| {
                    paths
                        .into_iter()
                        .filter_map(|p| {
                            let text = files.read(store.as_deref_mut(), &p).ok()??;
                            Some((p, text))
                        })
                        .collect()
                },
                move |texts| AppMsg::Session(SessionMsg::OnDisk { generation, texts }),
            );
        }
        self.refresh_tree();
        self.refresh_git();
        true
    }

    pub(super) fn session_msg(&mut self, msg: SessionMsg) -> bool {
        if let SessionMsg::Loaded { generation, result } = msg {
            return self.session_loaded(generation, result);
        }
        let current = self.generation_of_session();
        match msg {
            SessionMsg::Loaded { .. } => false,
            SessionMsg::File {
                generation,
                path,
                at,
                result,
            } if current == Some(generation) => {
                self.file_loaded(path, at, result);
                true
            }
            SessionMsg::Listed { generation, result } if current == Some(generation) => {
                match result {
                    Ok(listing) => {
                        if let Some(session) = &mut self.session {
                            session
                                .tree
                                .replace(tree::build(listing.iter().map(String::as_str)));
                            session.listing = listing;
                        }
                    }
                    Err(e) => self.notify(format!("cannot list files: {e}"), true),
                }
                true
            }
            SessionMsg::Saved {
                generation,
                path,
                state,
                result,
            } if current == Some(generation) => {
                self.saved(path, state, result);
                true
            }
            SessionMsg::Changed { generation, result } if current == Some(generation) => {
                self.files_changed(result);
                true
            }
            SessionMsg::OnDisk { generation, texts } if current == Some(generation) => {
                let mut offered = false;
                if let Some(session) = &mut self.session {
                    for (path, text) in texts {
                        offered |= session
                            .editor
                            .changed_on_disk(&path, text, &self.highlighter);
                    }
                }
                if offered && self.overlay.is_none() {
                    self.show_next_conflict();
                }
                true
            }
            SessionMsg::Watching { generation, watch } if current == Some(generation) => {
                if let Some(session) = &mut self.session {
                    session.watch = Some(watch);
                }
                false
            }
            SessionMsg::NotWatching { generation, why } if current == Some(generation) => {
                tracing::warn!(error = %why, "no file watcher");
                false
            }
            SessionMsg::Heartbeat { generation, result } if current == Some(generation) => {
                match result {
                    Ok(true) => false,
                    Ok(false) => {
                        self.notify("the workspace lock was taken over by another kollega", true);
                        true
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "lock heartbeat failed");
                        false
                    }
                }
            }
            // An answer for a session no longer open.
            _ => false,
        }
    }

    fn session_loaded(&mut self, generation: u64, result: Result<Box<Loaded>, String>) -> bool {
        let loaded = match result {
            Ok(loaded) => loaded,
            Err(e) => {
                if generation == self.generation {
                    self.opening = None;
                    self.pending_open = None;
                    self.notify(e, true);
                }
                return true;
            }
        };
        let loaded = *loaded;
        let (key, name, lock) = (loaded.key, loaded.name, loaded.lock);
        let holds_lock = matches!(lock, Ok(LockOutcome::Acquired));
        let watch_root = match &loaded.files {
            Files::Dir(disk) => Some(disk.root().to_path_buf()),
            Files::Sqlite { .. } => None,
        };
        if generation != self.generation {
            // Another open came after it: let go of what it took.
            if holds_lock {
                drop(self.services.store.release_lock(&key));
            }
            return false;
        }
        self.opening = None;
        let read_only = match lock {
            Ok(LockOutcome::Acquired) => None,
            Ok(LockOutcome::HeldBy { pid, host, .. }) => Some(format!(
                "read-only: {name} is open in another kollega (pid {pid} on {host}); nothing here is saved"
            )),
            Err(e) => Some(format!("read-only: cannot lock {name}: {e}")),
        };
        let listing = match loaded.listing {
            Ok(listing) => listing,
            Err(e) => {
                self.notify(format!("cannot list {name}: {e}"), true);
                Vec::new()
            }
        };
        let restored = session::restore(loaded.stored, loaded.texts, &self.highlighter);
        // The prompt is the workspace's: the last run's unsent one, or none.
        self.ai.pane.restore_prompt(&restored.prompt);
        let conflict = restored.tabs.iter().any(|t| t.conflict.is_some());
        let mut editor = EditorPane::new(restored.tabs, restored.active, self.keymap.modal);
        editor.read_only = read_only;
        editor.wrap_all(self.soft_wrap);
        let has_tab = editor.active_tab().is_some();
        self.session = Some(Session {
            generation,
            key,
            name,
            files: loaded.files,
            place: loaded.place,
            tree: TreePane::new(tree::build(listing.iter().map(String::as_str))),
            editor,
            git: loaded.git.map(GitPane::new),
            listing,
            holds_lock,
            last_state: String::new(),
            loading: Vec::new(),
            saving: 0,
            quit_after_save: false,
            watch: None,
        });
        if let Some(root) = watch_root {
            self.watch_folder(generation, root);
        }
        self.refresh_git();
        let restored_focus = match restored.focus.as_deref() {
            Some("editor") if has_tab => Focus::Editor,
            _ => Focus::Tree,
        };
        // A review opened at start (`kollega review`) keeps the keys.
        if self.focus == Focus::Review {
            self.review_returns_to(restored_focus);
        } else {
            self.focus_on(restored_focus);
        }
        if !restored.notes.is_empty() {
            self.notify(restored.notes.join("; "), false);
        }
        if conflict {
            self.show_next_conflict();
        }
        // What was restored is the baseline: the first snapshot only carries
        // what changes from here.
        self.mark_snapshot_sent();
        if let Some((path, at)) = self.pending_open.take() {
            self.open_file(&path, at);
        }
        true
    }

    fn file_loaded(
        &mut self,
        path: String,
        at: Option<Spot>,
        result: Result<Option<String>, String>,
    ) {
        let Some(session) = &mut self.session else {
            return;
        };
        session.loading.retain(|p| *p != path);
        match result {
            Ok(saved) => {
                if !session.editor.activate(&path) {
                    session.editor.push(Tab::new(
                        path.clone(),
                        saved.as_deref(),
                        &self.highlighter,
                    ));
                }
                if let (Some(at), Some(tab)) = (at, session.editor.active_tab_mut()) {
                    at.place(tab);
                }
                self.focus = Focus::Editor;
                if saved.is_none() {
                    self.notify(format!("{path} is new; save to create it"), false);
                }
            }
            Err(e) => self.notify(format!("cannot open {path}: {e}"), true),
        }
    }

    fn saved(&mut self, path: String, state: u64, result: Result<String, String>) {
        let Some(session) = &mut self.session else {
            return;
        };
        session.saving = session.saving.saturating_sub(1);
        match result {
            Ok(hash) => {
                session.editor.saved(&path, state, hash);
                if session.quit_after_save && session.saving == 0 {
                    self.quit = true;
                }
                self.notify(format!("saved {path}"), false);
                self.refresh_tree();
            }
            Err(e) => {
                // Whatever was asked after the save, the text stays here.
                session.quit_after_save = false;
                self.notify(
                    format!("not saved: {e} (your text is kept as a draft)"),
                    true,
                );
            }
        }
    }

    fn files_changed(&mut self, result: Result<Changed, String>) {
        let changed = match result {
            Ok(changed) => changed,
            Err(e) => {
                self.notify(e, true);
                return;
            }
        };
        self.refresh_tree();
        let Some(session) = &mut self.session else {
            return;
        };
        match changed {
            Changed::Created(path) => self.open_file(&path, None),
            Changed::CreatedFolder(path) => self.notify(format!("created {path}/"), false),
            Changed::Renamed { from, to } => {
                session.editor.renamed(&from, &to, &self.highlighter);
                self.notify(format!("renamed {from} to {to}"), false);
            }
            Changed::Deleted(path) => {
                session.editor.deleted(&path);
                self.notify(format!("deleted {path}"), false);
            }
        }
    }

    // ----- drafts that changed under us ------------------------------------

    pub(super) fn show_next_conflict(&mut self) {
        if self
            .editor_mut()
            .and_then(EditorPane::conflict_tab)
            .is_some()
        {
            self.overlay = Some(Overlay::Conflict);
        }
    }

    pub(super) fn resolve_conflict(&mut self, take: bool) {
        let note = self.editor_mut().and_then(|e| e.resolve_conflict(take));
        if let Some(note) = note {
            self.notify(note, false);
        }
        self.show_next_conflict();
    }

    // ----- autosave ------------------------------------------------------

    fn mark_snapshot_sent(&mut self) {
        let focus = self.focus.name();
        let prompt = self.ai.pane.unsent_prompt();
        if let Some(session) = &mut self.session {
            for tab in &mut session.editor.tabs {
                tab.sent_version = Some(tab.buffer.version());
            }
            session.last_state = serde_json::to_string(&EditorState::of(
                &session.editor.tabs,
                session.editor.active,
                focus,
                prompt,
            ))
            .unwrap_or_default();
        }
    }

    /// Sends what changed since the last snapshot to the autosave task:
    /// drafts of edited buffers, removals of clean ones, the editor state.
    pub fn sync_autosave(&mut self) {
        let focus = self.focus.name();
        let prompt = self.ai.pane.unsent_prompt();
        let Some(session) = &mut self.session else {
            return;
        };
        if session.editor.read_only.is_some() {
            return;
        }
        let mut drafts: Vec<DraftChange> = session
            .editor
            .cleaned
            .drain(..)
            .map(|path| DraftChange::Clean { path })
            .collect();
        for tab in &mut session.editor.tabs {
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
        let state = serde_json::to_string(&EditorState::of(
            &session.editor.tabs,
            session.editor.active,
            focus,
            prompt,
        ))
        .unwrap_or_default();
        let editor_state = (state != session.last_state).then(|| {
            session.last_state = state.clone();
            state
        });
        if drafts.is_empty() && editor_state.is_none() {
            return;
        }
        if let Some(events) = &self.services.autosave {
            let _ = events.send(AutosaveEvent::Changed {
                key: session.key.clone(),
                drafts,
                editor_state,
            });
        }
    }
}

/// Reads a workspace in full, off the UI task: where it lives, its lock,
/// the last run's state and drafts, its listing and the files to reopen,
/// and a watcher for a folder.
async fn load(
    services: &super::Services,
    target: OpenTarget,
    ignored: Vec<String>,
) -> Result<Loaded, String> {
    let (key, name, files, place, git) = tokio::task::spawn_blocking(move || resolve(target))
        .await
        .map_err(|e| e.to_string())??;
    let lock = services
        .store
        .acquire_lock(&key, locks::STALE_SECS)
        .await
        .map_err(|e| describe(&e));
    // A state that does not read never stops a workspace opening; drafts
    // that do not read are said.
    let state = services.store.load_editor_state(&key).await.ok().flatten();
    let mut notes = Vec::new();
    let drafts = services.store.load_drafts(&key).await.unwrap_or_else(|e| {
        notes.push(format!("cannot read drafts: {}", describe(&e)));
        Vec::new()
    });
    let stored = Stored {
        state: EditorState::parse(state.as_deref()),
        drafts,
        notes,
    };
    let wanted = stored.wanted();
    let reading = files.clone();
    let (listing, texts) = if files.in_store() {
        services
            .store
            .run(move |store| read_files(&reading, Some(store), &ignored, &wanted))
            .await
            .map_err(|e| describe(&e))?
    } else {
        tokio::task::spawn_blocking(move || read_files(&reading, None, &ignored, &wanted))
            .await
            .map_err(|e| e.to_string())?
    };
    Ok(Loaded {
        key,
        name,
        files,
        place,
        git,
        lock,
        listing,
        stored,
        texts,
    })
}
