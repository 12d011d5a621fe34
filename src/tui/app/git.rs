//! The git side of the workstation: status, the changes list and its diff,
//! and the changes the user makes (stage, discard, commit).
//!
//! Every git call runs on a blocking thread, and answers come back as
//! [`GitMsg`]s tagged with a generation, so an answer to an older request
//! is dropped (gitui's pattern). Push and pull are jobs (see `jobs.rs`).

use super::{App, AppMsg, Focus};
use crate::error::describe;
use crate::git::repo::Repo;
use crate::git::status::{self, RepoStatus, StatusOptions};
use crate::git::{GitError, commit, stage};
use crate::patch::FilePatch;
use crate::tui::panes::diff::DiffView;
use crate::tui::panes::git::{GitOp, GitPane};

/// Answers of git for the UI task.
pub(crate) enum GitMsg {
    Status {
        generation: u64,
        result: Result<RepoStatus, String>,
    },
    Diff {
        generation: u64,
        staged: bool,
        result: Result<Option<FilePatch>, String>,
    },
    Done {
        what: &'static str,
        result: Result<String, String>,
    },
}

/// Carries `op` out in `repo`; the line for the status bar.
fn run(op: GitOp, repo: &Repo) -> Result<String, GitError> {
    match op {
        GitOp::StagePath(path) => stage::stage_path(repo, &path).map(|()| format!("staged {path}")),
        GitOp::UnstagePath(path) => {
            stage::unstage_path(repo, &path).map(|()| format!("unstaged {path}"))
        }
        GitOp::DiscardPath(path) => {
            stage::discard_path(repo, &path).map(|()| format!("discarded the changes of {path}"))
        }
        GitOp::StageHunk(file, hunk) => stage::stage_hunk(repo, &file, &hunk)
            .map(|()| format!("staged a hunk of {}", file.path())),
        GitOp::UnstageHunk(file, hunk) => stage::unstage_hunk(repo, &file, &hunk)
            .map(|()| format!("unstaged a hunk of {}", file.path())),
        GitOp::DiscardHunk(file, hunk) => stage::discard_hunk(repo, &file, &hunk)
            .map(|()| format!("discarded a hunk of {}", file.path())),
        GitOp::Commit { message, amend } => {
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
        }
    }
}

impl App {
    pub(crate) fn git(&self) -> Option<&GitPane> {
        self.session.as_ref().and_then(|s| s.git.as_ref())
    }

    pub(crate) fn git_mut(&mut self) -> Option<&mut GitPane> {
        self.session.as_mut().and_then(|s| s.git.as_mut())
    }

    /// Asks for a fresh status (and then the diff of the selected file).
    pub(crate) fn refresh_git(&mut self) {
        let Some(git) = self.git_mut() else { return };
        git.generation += 1;
        let generation = git.generation;
        let root = git.root.clone();
        self.spawn_blocking(move || {
            AppMsg::Git(GitMsg::Status {
                generation,
                result: status::read(&root, StatusOptions::default()).map_err(|e| describe(&e)),
            })
        });
    }

    pub(super) fn request_diff(&mut self) {
        let Some(git) = self.git_mut() else { return };
        let Some(entry) = git.changes.selected_entry().cloned() else {
            git.diff = None;
            return;
        };
        git.diff_generation += 1;
        let generation = git.diff_generation;
        let root = git.root.clone();
        let staged = git.staged_view;
        self.spawn_blocking(move || {
            let result = Repo::open(&root).and_then(|repo| {
                if staged {
                    stage::diff_index(&repo, &entry.path)
                } else {
                    stage::diff_worktree(&repo, &entry.path)
                }
            });
            AppMsg::Git(GitMsg::Diff {
                generation,
                staged,
                result: result.map_err(|e| describe(&e)),
            })
        });
    }

    /// Runs a change of the repository off the UI task, then refreshes.
    pub(super) fn run_git(&mut self, op: GitOp) {
        // The message is kept until the commit succeeds.
        if let (
            GitOp::Commit {
                message,
                amend: false,
            },
            Some(git),
        ) = (&op, self.git_mut())
        {
            git.commit_draft = Some(message.clone());
        }
        let Some(git) = self.git() else { return };
        let root = git.root.clone();
        let what = op.what();
        self.spawn_blocking(move || {
            AppMsg::Git(GitMsg::Done {
                what,
                result: Repo::open(&root)
                    .and_then(|repo| run(op, &repo))
                    .map_err(|e| describe(&e)),
            })
        });
    }

    /// Takes an answer of git; returns whether to redraw.
    pub(super) fn git_msg(&mut self, msg: GitMsg) -> bool {
        match msg {
            GitMsg::Status { generation, result } => {
                let Some(git) = self.git_mut() else {
                    return false;
                };
                if generation != git.generation {
                    return false;
                }
                match result {
                    Ok(status) => {
                        self.warm_up(&status);
                        if let Some(git) = self.git_mut() {
                            git.set_status(status);
                        }
                        self.request_diff();
                    }
                    Err(e) => self.notify(format!("git status failed: {e}"), true),
                }
                true
            }
            GitMsg::Diff {
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
                    // The same diff as shown: the view keeps its splits
                    // until the file changes.
                    Ok(patch)
                        if patch.is_some()
                            && patch == git.diff_source
                            && git.diff.as_ref().is_some_and(|d| d.staged == staged) => {}
                    Ok(patch) => {
                        let keep = git.diff.as_ref().map(|d| d.selected);
                        git.diff_source = patch.clone();
                        git.diff = patch.map(|p| DiffView::new(p, staged, highlighter));
                        if let (Some(diff), Some(selected)) = (&mut git.diff, keep) {
                            diff.selected = selected.min(diff.hunk_count().saturating_sub(1));
                        }
                    }
                    Err(e) => {
                        git.diff = None;
                        git.diff_source = None;
                        self.notify(format!("cannot show the diff: {e}"), true);
                    }
                }
                true
            }
            GitMsg::Done { what, result } => {
                match result {
                    Ok(message) => {
                        if what == "commit"
                            && let Some(git) = self.git_mut()
                        {
                            git.commit_draft = None;
                        }
                        self.notify(message, false)
                    }
                    Err(e) if what == "commit" => self.notify(
                        format!("commit failed: {e} (your message is kept for the next commit)"),
                        true,
                    ),
                    Err(e) => self.notify(format!("{what} failed: {e}"), true),
                }
                self.refresh_git();
                true
            }
        }
    }

    /// Compiles the syntaxes of what changed (on threads of their own)
    /// before the diff of one is first drawn.
    fn warm_up(&self, status: &RepoStatus) {
        let Some(root) = self.git().map(|g| g.root.clone()) else {
            return;
        };
        let mut seen = std::collections::HashSet::new();
        let warm = status
            .entries
            .iter()
            .filter(|e| !e.ignored && seen.insert(self.highlighter.syntax_name(&e.path)))
            .take(8);
        for entry in warm {
            drop(
                self.highlighter
                    .warm_up_file(&entry.path, root.join(&entry.path)),
            );
        }
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
}
