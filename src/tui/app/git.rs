//! The git side of the workstation: status, markers, the changes list and
//! its diff, staging, commits, push and pull, and changes made on disk by
//! others.
//!
//! Every git call runs off the UI task when a runtime is there (the app's
//! `Background`), and answers come back as [`AppMsg`]s tagged with a
//! generation, so an answer to an older request is dropped (gitui's
//! pattern). Without a runtime (tests) the same work runs inline.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{App, AppMsg, Focus, Overlay};
use crate::git::repo::Repo;
use crate::git::status::{self, RepoStatus, StatusOptions};
use crate::git::{GitError, commit, stage};
use crate::tui::keymap::Action;
use crate::tui::panes::changes::ChangesPane;
use crate::tui::panes::diff::DiffView;
use crate::tui::panes::prompt::{ConfirmKind, Prompt, PromptKind};
use crate::tui::session::content_hash;
use crate::workspace::watch::WatchEvent;

/// The git state of an open workspace.
pub(crate) struct GitView {
    pub root: PathBuf,
    pub status: Option<RepoStatus>,
    /// Markers of the tree: path (and every folder above it) → letter.
    pub markers: HashMap<String, char>,
    generation: u64,
    pub changes: ChangesPane,
    pub diff: Option<DiffView>,
    diff_generation: u64,
    pub staged_view: bool,
    /// A push or pull queued or running as a job.
    pub remote_busy: Option<&'static str>,
}

impl GitView {
    pub fn new(root: PathBuf) -> GitView {
        GitView {
            root,
            status: None,
            markers: HashMap::new(),
            generation: 0,
            changes: ChangesPane::new(),
            diff: None,
            diff_generation: 0,
            staged_view: false,
            remote_busy: None,
        }
    }

    /// "main ↑1 ↓0 ●3" for the status bar.
    pub fn summary(&self) -> Option<String> {
        let status = self.status.as_ref()?;
        let branch = status.branch.head.as_deref().unwrap_or("(detached)");
        let mut out = branch.to_string();
        if status.branch.upstream.is_some() {
            out.push_str(&format!(
                " ↑{} ↓{}",
                status.branch.ahead, status.branch.behind
            ));
        }
        let dirty = status.dirty_count();
        if dirty > 0 {
            out.push_str(&format!(" ●{dirty}"));
        }
        if let Some(what) = self.remote_busy {
            out.push_str(&format!(" ({what}…)"));
        }
        Some(out)
    }
}

fn markers_of(status: &RepoStatus) -> HashMap<String, char> {
    let mut markers = HashMap::new();
    for entry in &status.entries {
        let letter = entry.marker().letter();
        markers.insert(entry.path.clone(), letter);
        // Folders show that something inside changed.
        let mut path = entry.path.as_str();
        while let Some((parent, _)) = path.rsplit_once('/') {
            markers.entry(parent.to_string()).or_insert('•');
            path = parent;
        }
    }
    markers
}

fn describe(e: GitError) -> String {
    crate::error::describe(&e)
}

impl App {
    pub(crate) fn git(&self) -> Option<&GitView> {
        self.session.as_ref().and_then(|s| s.git.as_ref())
    }

    pub(crate) fn git_mut(&mut self) -> Option<&mut GitView> {
        self.session.as_mut().and_then(|s| s.git.as_mut())
    }

    /// Runs `work` on a blocking worker and hands its message back to the
    /// UI task; inline when there is no runtime.
    fn spawn_work(&mut self, work: impl FnOnce() -> AppMsg + Send + 'static) {
        match &self.background {
            Some(bg) => {
                let tx = bg.tx.clone();
                bg.handle.spawn_blocking(move || {
                    let _ = tx.send(work());
                });
            }
            None => {
                let msg = work();
                self.message_in(msg);
            }
        }
    }

    /// Asks for a fresh status (and the diff of the selected file).
    pub(crate) fn refresh_git(&mut self) {
        let Some(git) = self.git_mut() else { return };
        git.generation += 1;
        let generation = git.generation;
        let root = git.root.clone();
        self.spawn_work(move || AppMsg::Status {
            generation,
            result: status::read(&root, StatusOptions::default()).map_err(describe),
        });
    }

    fn request_diff(&mut self) {
        let Some(git) = self.git_mut() else { return };
        let Some(entry) = git.changes.selected_entry().cloned() else {
            git.diff = None;
            return;
        };
        git.diff_generation += 1;
        let generation = git.diff_generation;
        let root = git.root.clone();
        let staged = git.staged_view;
        self.spawn_work(move || {
            let result = Repo::open(&root).and_then(|repo| {
                if staged {
                    stage::diff_index(&repo, &entry.path)
                } else {
                    stage::diff_worktree(&repo, &entry.path)
                }
            });
            AppMsg::Diff {
                generation,
                staged,
                result: result.map_err(describe),
            }
        });
    }

    /// Runs a git change (stage, commit, …) off the UI task, then refreshes.
    fn run_git(
        &mut self,
        what: &'static str,
        work: impl FnOnce(&Repo) -> Result<String, GitError> + Send + 'static,
    ) {
        let Some(git) = self.git() else { return };
        let root = git.root.clone();
        self.spawn_work(move || AppMsg::GitDone {
            what,
            result: Repo::open(&root)
                .and_then(|repo| work(&repo))
                .map_err(describe),
        });
    }

    /// Takes a message from a worker or the watcher; returns whether to redraw.
    pub(crate) fn message_in(&mut self, msg: AppMsg) -> bool {
        match msg {
            AppMsg::Status { generation, result } => {
                let Some(git) = self.git_mut() else {
                    return false;
                };
                if generation != git.generation {
                    return false;
                }
                match result {
                    Ok(status) => {
                        // Compile the syntaxes of what changed before the
                        // diff of one is first drawn.
                        let root = git.root.clone();
                        let mut seen = std::collections::HashSet::new();
                        let warm: Vec<String> = status
                            .entries
                            .iter()
                            .filter(|e| {
                                !e.ignored
                                    && seen
                                        .insert(self.highlighter.syntax_name(&e.path).to_string())
                            })
                            .take(8)
                            .map(|e| e.path.clone())
                            .collect();
                        for path in warm {
                            drop(self.highlighter.warm_up_file(&path, root.join(&path)));
                        }
                        let Some(git) = self.git_mut() else {
                            return false;
                        };
                        git.markers = markers_of(&status);
                        git.changes.replace(&status);
                        git.status = Some(status);
                        self.request_diff();
                    }
                    Err(e) => self.notify(format!("git status failed: {e}"), true),
                }
                true
            }
            AppMsg::Diff {
                generation,
                staged,
                result,
            } => {
                let highlighter = &self.highlighter;
                let Some(git) = self.session.as_mut().and_then(|s| s.git.as_mut()) else {
                    return false;
                };
                if generation != git.diff_generation {
                    return false;
                }
                match result {
                    Ok(patch) => {
                        let keep = git.diff.as_ref().map(|d| d.selected);
                        git.diff = patch.map(|p| DiffView::new(p, staged, highlighter));
                        if let (Some(diff), Some(selected)) = (&mut git.diff, keep) {
                            diff.selected = selected.min(diff.hunk_count().saturating_sub(1));
                        }
                    }
                    Err(e) => {
                        git.diff = None;
                        self.notify(format!("cannot show the diff: {e}"), true);
                    }
                }
                true
            }
            AppMsg::GitDone { what, result } => {
                match result {
                    Ok(message) => self.notify(message, false),
                    Err(e) => self.notify(format!("{what} failed: {e}"), true),
                }
                self.refresh_git();
                true
            }
            AppMsg::Jobs(msg) => self.jobs_msg(msg),
        }
    }

    /// Changes made on disk by others: reload clean buffers, offer the new
    /// text beside dirty ones, refresh the tree and the status.
    pub(crate) fn on_watch(&mut self, event: WatchEvent) -> bool {
        let (paths, all) = match &event {
            WatchEvent::Changed { paths, .. } => (paths.clone(), false),
            WatchEvent::Rescan => (Vec::new(), true),
        };
        let mut offered = false;
        if let Some(session) = &mut self.session {
            for tab in &mut session.tabs {
                let touched = all || paths.contains(&tab.path);
                if !touched {
                    continue;
                }
                let Ok(Some(disk)) = session.files.read(&self.store, &tab.path) else {
                    continue;
                };
                let hash = content_hash(&disk);
                if tab.base_hash.as_deref() == Some(hash.as_str()) {
                    continue;
                }
                if tab.is_dirty() {
                    // Never replace typed text: offer the disk's version.
                    tab.conflict = Some(crate::tui::session::DraftConflict {
                        other: disk,
                        kind: crate::tui::session::ConflictKind::ChangedOnDisk,
                    });
                    offered = true;
                } else {
                    let cursor = tab.buffer.cursor();
                    tab.buffer = crate::editor::buffer::Buffer::from_text(&disk);
                    tab.buffer
                        .move_to(cursor.min(tab.buffer.len_chars()), false);
                    tab.base_hash = Some(hash);
                    tab.cache = self.highlighter.cache_for(&tab.path);
                    tab.cache_version = tab.buffer.version();
                    tab.sent_version = None;
                }
            }
        }
        self.refresh_tree();
        if offered && self.overlay.is_none() {
            self.show_next_conflict();
        }
        self.refresh_git();
        true
    }

    pub(crate) fn toggle_changes(&mut self) -> bool {
        if self.git().is_none() {
            self.notify(
                "not a git workspace: open a repository with `kollega open <dir>`",
                true,
            );
            return true;
        }
        if matches!(self.focus, Focus::Changes | Focus::Diff) {
            self.focus = if self.active_tab().is_some() {
                Focus::Editor
            } else {
                Focus::Tree
            };
        } else {
            self.focus = Focus::Changes;
            self.refresh_git();
        }
        true
    }

    pub(crate) fn update_changes(&mut self, action: Action) -> bool {
        let in_diff = self.focus == Focus::Diff;
        let Some(git) = self.git_mut() else {
            return false;
        };
        let entry = git.changes.selected_entry().cloned();
        match action {
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => {
                if in_diff {
                    if let Some(diff) = &mut git.diff {
                        match action {
                            Action::Up => return diff.select(false),
                            Action::Down => return diff.select(true),
                            Action::PageUp => diff.scroll(-1),
                            Action::PageDown => diff.scroll(1),
                            _ => {}
                        }
                    }
                    return true;
                }
                if git.changes.update(action) {
                    self.request_diff();
                }
                true
            }
            Action::Open => {
                if in_diff {
                    if let Some(entry) = entry {
                        self.open_file(&entry.path);
                    }
                } else if git.diff.is_some() {
                    self.focus = Focus::Diff;
                }
                true
            }
            Action::Back => {
                self.focus = if in_diff {
                    Focus::Changes
                } else if self.active_tab().is_some() {
                    Focus::Editor
                } else {
                    Focus::Tree
                };
                true
            }
            Action::ToggleStaged => {
                git.staged_view = !git.staged_view;
                self.request_diff();
                true
            }
            Action::Refresh => {
                self.refresh_git();
                true
            }
            Action::StageToggle => {
                let Some(entry) = entry else { return false };
                let staged_view = git.staged_view;
                let hunk = in_diff
                    .then(|| {
                        git.diff.as_ref().and_then(|d| {
                            d.patch
                                .hunks
                                .get(d.selected)
                                .cloned()
                                .map(|h| (d.patch.clone(), h))
                        })
                    })
                    .flatten();
                match hunk {
                    Some((file, hunk)) if staged_view => self.run_git("unstage", move |repo| {
                        stage::unstage_hunk(repo, &file, &hunk)
                            .map(|()| format!("unstaged a hunk of {}", file.path()))
                    }),
                    Some((file, hunk)) => self.run_git("stage", move |repo| {
                        stage::stage_hunk(repo, &file, &hunk)
                            .map(|()| format!("staged a hunk of {}", file.path()))
                    }),
                    None if entry.unstaged() => self.run_git("stage", move |repo| {
                        stage::stage_path(repo, &entry.path)
                            .map(|()| format!("staged {}", entry.path))
                    }),
                    None => self.run_git("unstage", move |repo| {
                        stage::unstage_path(repo, &entry.path)
                            .map(|()| format!("unstaged {}", entry.path))
                    }),
                }
                true
            }
            Action::SplitHunk => {
                if let Some(diff) = &mut git.diff
                    && let Some(hunk) = diff.patch.hunks.get(diff.selected).cloned()
                {
                    let parts = hunk.split();
                    if parts.len() < 2 {
                        self.notify("this hunk cannot be split further", false);
                        return true;
                    }
                    let mut patch = diff.patch.clone();
                    let at = diff.selected;
                    patch.hunks.splice(at..=at, parts);
                    let staged = diff.staged;
                    let highlighter = &self.highlighter;
                    let mut view = DiffView::new(patch, staged, highlighter);
                    view.selected = at;
                    if let Some(git) = self.session.as_mut().and_then(|s| s.git.as_mut()) {
                        git.diff = Some(view);
                    }
                }
                true
            }
            Action::Discard => {
                if let Some(entry) = entry {
                    let hunk = in_diff
                        .then(|| git.diff.as_ref().map(|d| d.selected))
                        .flatten();
                    self.overlay = Some(Overlay::Confirm(ConfirmKind::Discard {
                        path: entry.path,
                        hunk,
                    }));
                }
                true
            }
            Action::Commit => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(
                    PromptKind::Commit { amend: false },
                    "",
                )));
                true
            }
            Action::Amend => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(
                    PromptKind::Commit { amend: true },
                    "",
                )));
                true
            }
            Action::Push | Action::Pull => {
                self.start_remote(action == Action::Push);
                true
            }
            _ => false,
        }
    }

    /// After a yes to "discard?": the file's or one hunk's changes go.
    pub(crate) fn discard_confirmed(&mut self, path: String, hunk: Option<usize>) {
        let file_and_hunk = hunk.and_then(|i| {
            self.git()
                .and_then(|g| g.diff.as_ref())
                .filter(|d| !d.staged)
                .and_then(|d| d.patch.hunks.get(i).cloned().map(|h| (d.patch.clone(), h)))
        });
        match file_and_hunk {
            Some((file, hunk)) => self.run_git("discard", move |repo| {
                stage::discard_hunk(repo, &file, &hunk)
                    .map(|()| format!("discarded a hunk of {}", file.path()))
            }),
            None => self.run_git("discard", move |repo| {
                stage::discard_path(repo, &path)
                    .map(|()| format!("discarded the changes of {path}"))
            }),
        }
    }

    pub(crate) fn commit_with(&mut self, message: String, amend: bool) {
        self.run_git(if amend { "amend" } else { "commit" }, move |repo| {
            let message = message.trim().to_string();
            let request = commit::CommitRequest {
                message: (!message.is_empty() || !amend).then_some(message.as_str()),
                all: false,
                amend,
                verify: true,
            };
            commit::commit(repo, &request).map(|c| {
                format!(
                    "{} {} on {}: {}",
                    if c.amended { "amended" } else { "committed" },
                    c.short_id,
                    c.branch,
                    c.summary
                )
            })
        });
    }

    /// Push or pull as a job (`git-push`, `git-pull`) of this repository:
    /// the runner runs the git program, its output is the job's log, and
    /// the status bar reports the end. Nothing ever pushes by itself.
    fn start_remote(&mut self, push: bool) {
        self.enqueue_git(push);
    }
}
