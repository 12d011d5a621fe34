//! The git side of a workspace that is a working tree: its status (the
//! tree's markers, the status bar's summary), the changes list and the
//! diff of the selected file, and what their keys mean. Every change to
//! the repository leaves as an [`Effect::Git`] the app runs off the UI task.

use std::collections::HashMap;
use std::path::PathBuf;

use super::changes::ChangesPane;
use super::diff::DiffView;
use super::prompt::{ConfirmKind, PromptKind};
use crate::editor::highlight::Highlighter;
use crate::git::status::RepoStatus;
use crate::patch::{FilePatch, Hunk};
use crate::tui::app::{Effect, Focus, Outcome};
use crate::tui::keymap::Action;

/// A change to the repository, run on a blocking worker.
#[derive(Debug, Clone)]
pub(crate) enum GitOp {
    StagePath(String),
    UnstagePath(String),
    DiscardPath(String),
    StageHunk(FilePatch, Hunk),
    UnstageHunk(FilePatch, Hunk),
    DiscardHunk(FilePatch, Hunk),
    Commit { message: String, amend: bool },
}

impl GitOp {
    /// What it is called when it fails ("stage failed: …").
    pub(crate) fn what(&self) -> &'static str {
        match self {
            GitOp::StagePath(_) | GitOp::StageHunk(..) => "stage",
            GitOp::UnstagePath(_) | GitOp::UnstageHunk(..) => "unstage",
            GitOp::DiscardPath(_) | GitOp::DiscardHunk(..) => "discard",
            GitOp::Commit { amend: false, .. } => "commit",
            GitOp::Commit { amend: true, .. } => "amend",
        }
    }
}

/// The git state of an open workspace.
pub(crate) struct GitPane {
    pub root: PathBuf,
    pub status: Option<RepoStatus>,
    /// Markers of the tree: path (and every folder above it) → letter.
    pub markers: HashMap<String, char>,
    /// The status request answers carry it; an older answer is dropped.
    pub generation: u64,
    pub changes: ChangesPane,
    pub diff: Option<DiffView>,
    pub diff_generation: u64,
    pub staged_view: bool,
    /// A push or pull queued or running as a job.
    pub remote_busy: Option<&'static str>,
    /// The diff as git last gave it, before any split: a refresh that
    /// finds the same keeps the view and its splits.
    pub diff_source: Option<FilePatch>,
    /// A commit message typed and not committed yet (the commit failed,
    /// or is running): the next commit prompt starts from it.
    pub commit_draft: Option<String>,
}

impl GitPane {
    pub fn new(root: PathBuf) -> GitPane {
        GitPane {
            root,
            status: None,
            markers: HashMap::new(),
            generation: 0,
            changes: ChangesPane::new(),
            diff: None,
            diff_generation: 0,
            staged_view: false,
            remote_busy: None,
            diff_source: None,
            commit_draft: None,
        }
    }

    /// Whether anything is staged (as the last status read it).
    pub fn has_staged(&self) -> bool {
        self.status.as_ref().is_some_and(|s| {
            s.entries
                .iter()
                .any(|e| !e.ignored && e.index != crate::git::status::Change::Unmodified)
        })
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

    /// A fresh status: the list, the markers.
    pub fn set_status(&mut self, status: RepoStatus) {
        self.markers = markers_of(&status);
        self.changes.replace(&status);
        self.status = Some(status);
    }

    /// The diff's selected hunk with its file, when the diff has the keys.
    fn selected_hunk(&self, in_diff: bool) -> Option<(FilePatch, Hunk)> {
        if !in_diff {
            return None;
        }
        let d = self.diff.as_ref()?;
        let hunk = d.patch.hunks.get(d.selected)?.clone();
        Some((d.patch.clone(), hunk))
    }

    /// The keys of the changes list (`in_diff` false) and of the diff.
    pub fn update(&mut self, action: Action, in_diff: bool, highlighter: &Highlighter) -> Outcome {
        let entry = self.changes.selected_entry().cloned();
        match action {
            action if action.is_movement() => {
                if in_diff {
                    if let Some(diff) = &mut self.diff {
                        match action {
                            Action::Up => {
                                diff.select(false);
                            }
                            Action::Down => {
                                diff.select(true);
                            }
                            Action::PageUp => diff.scroll(-1),
                            Action::PageDown => diff.scroll(1),
                            _ => {}
                        }
                    }
                    return Outcome::Redraw;
                }
                if self.changes.update(action) {
                    return Outcome::Effect(Effect::RequestDiff);
                }
                Outcome::Redraw
            }
            // In the diff, `open` stays there: the keys that follow stage
            // and split hunks, they never type into the file.
            Action::Open => match in_diff {
                false if self.diff.is_some() => Outcome::Effect(Effect::Focus(Focus::Diff)),
                _ => Outcome::Redraw,
            },
            Action::EditFile => match entry {
                Some(entry) => Outcome::Effect(Effect::OpenFile(entry.path)),
                None => Outcome::Redraw,
            },
            Action::Back if in_diff => Outcome::Effect(Effect::Focus(Focus::Changes)),
            Action::Back => Outcome::Effect(Effect::LeaveChanges),
            Action::ToggleStaged => {
                self.staged_view = !self.staged_view;
                Outcome::Effect(Effect::RequestDiff)
            }
            Action::Refresh => Outcome::Effect(Effect::RefreshGit),
            Action::StageToggle => {
                let Some(entry) = entry else {
                    return Outcome::Ignored;
                };
                let op = match self.selected_hunk(in_diff) {
                    Some((file, hunk)) if self.staged_view => GitOp::UnstageHunk(file, hunk),
                    Some((file, hunk)) => GitOp::StageHunk(file, hunk),
                    None if entry.unstaged() => GitOp::StagePath(entry.path),
                    None => GitOp::UnstagePath(entry.path),
                };
                Outcome::Effect(Effect::Git(op))
            }
            Action::SplitHunk => {
                if let Some(diff) = &mut self.diff
                    && let Some(hunk) = diff.patch.hunks.get(diff.selected).cloned()
                {
                    let parts = hunk.split();
                    if parts.len() < 2 {
                        return Outcome::Effect(Effect::Notify(
                            "this hunk cannot be split further".into(),
                            false,
                        ));
                    }
                    let mut patch = diff.patch.clone();
                    let at = diff.selected;
                    patch.hunks.splice(at..=at, parts);
                    let mut view = DiffView::new(patch, diff.staged, highlighter);
                    view.selected = at;
                    self.diff = Some(view);
                }
                Outcome::Redraw
            }
            Action::Discard => match entry {
                Some(entry) => Outcome::Effect(Effect::Confirm(ConfirmKind::Discard {
                    path: entry.path,
                    hunk: in_diff
                        .then(|| self.diff.as_ref().map(|d| d.selected))
                        .flatten(),
                })),
                None => Outcome::Redraw,
            },
            Action::Commit if !self.has_staged() => Outcome::Effect(Effect::Notify(
                "nothing is staged: stage a file or a hunk first, then commit".into(),
                true,
            )),
            Action::Commit => Outcome::prompt(
                PromptKind::Commit { amend: false },
                self.commit_draft.as_deref().unwrap_or_default(),
            ),
            Action::Amend => Outcome::prompt(PromptKind::Commit { amend: true }, ""),
            Action::Push | Action::Pull => Outcome::Effect(Effect::Remote {
                push: action == Action::Push,
            }),
            _ => Outcome::Ignored,
        }
    }

    /// After a yes to "discard?": one hunk of the unstaged diff, or the
    /// whole file.
    pub fn discard_op(&self, path: String, hunk: Option<usize>) -> GitOp {
        let file_and_hunk = hunk.and_then(|i| {
            self.diff
                .as_ref()
                .filter(|d| !d.staged)
                .and_then(|d| d.patch.hunks.get(i).cloned().map(|h| (d.patch.clone(), h)))
        });
        match file_and_hunk {
            Some((file, hunk)) => GitOp::DiscardHunk(file, hunk),
            None => GitOp::DiscardPath(path),
        }
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
