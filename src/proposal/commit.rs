//! The optional git commit of an apply (`patch apply --commit`, or
//! `[ai] commit_applies` in a git workspace): the files the apply wrote,
//! and nothing else, committed with the patch's message (the model's
//! `Commit:` line, else the first line of the prompt or the imported
//! patch's title).
//!
//! Everything a commit needs is checked before a file is written (a
//! branch, an identity, no operation in progress, nothing else staged);
//! when the commit still fails (a hook), the step is taken back, so an
//! apply asked to commit is applied and committed, or neither.
//!
//! Undo of a committed apply writes the files back and commits them as a
//! revert (`Revert "…"`, "This reverts commit …"), history is never
//! rewritten; redo commits the apply again and records the new commit.
//! Without a commit, undo and redo are the checkpoint's own.

use std::path::PathBuf;

use super::apply::{Applied, Selection};
use super::checkpoint::{self, Restored};
use super::target::Files;
use super::{ProposalError, Result, Target};
use crate::git::GitError;
use crate::git::commit::{Committed, commit_paths, require_only_staged};
use crate::git::repo::Repo;
use crate::store::Store;
use crate::store::applies;

/// The repository holding a folder workspace, and the folder's place in
/// its working tree.
struct InGit {
    repo: Repo,
    /// The folder relative to the top of the working tree (empty at the
    /// top).
    prefix: PathBuf,
}

impl InGit {
    /// The repository of `target`: `None` for a workspace stored here or
    /// a folder in no repository.
    fn of(target: &Target) -> Result<Option<InGit>> {
        let Files::Dir(folder) = &target.files else {
            return Ok(None);
        };
        let repo = match Repo::open(folder.root()) {
            Ok(repo) => repo,
            Err(GitError::NotARepository { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let top = repo
            .workdir()
            .canonicalize()
            .unwrap_or_else(|_| repo.workdir().to_path_buf());
        let prefix = folder
            .root()
            .strip_prefix(&top)
            .map(PathBuf::from)
            .unwrap_or_default();
        Ok(Some(InGit { repo, prefix }))
    }

    /// The repository of `target`, or why an apply there cannot be
    /// committed.
    fn require(target: &Target) -> Result<InGit> {
        InGit::of(target)?.ok_or_else(|| ProposalError::NotGit(target.label().to_string()))
    }

    /// Workspace paths as paths in the working tree.
    fn paths(&self, files: &[String]) -> Vec<String> {
        files
            .iter()
            .map(|f| self.prefix.join(f).to_string_lossy().into_owned())
            .collect()
    }
}

/// Whether an apply to `target` is committed when `[ai] commit_applies`
/// is on: only in a git working tree.
pub(crate) fn commits_in(target: &Target) -> bool {
    matches!(InGit::of(target), Ok(Some(_)))
}

/// Applies like [`super::apply`], then commits the files written with the
/// patch's message and records the commit on the checkpoint. Refused
/// before anything is written when the workspace is not in git or a
/// commit cannot be made; a failed commit takes the apply back.
pub(crate) fn apply_and_commit(
    store: &mut Store,
    target: &Target,
    id: i64,
    selection: Selection,
) -> Result<(Applied, Committed)> {
    let git = InGit::require(target)?;
    super::recover(store, target)?;
    let proposal = super::load(store, id)?;
    let paths: Vec<String> = proposal
        .patch
        .files
        .iter()
        .flat_map(|f| [f.old_path.clone(), Some(f.path().to_string())])
        .flatten()
        .collect();
    require_only_staged(&git.repo, &git.paths(&paths))?;
    let message = proposal
        .row
        .message
        .clone()
        .filter(|m| !m.trim().is_empty())
        .or_else(|| Some(proposal.row.title.clone()).filter(|t| !t.trim().is_empty()))
        .unwrap_or_else(|| format!("Apply patch {id}"));
    let applied = super::apply(store, target, id, selection)?;
    match commit_paths(&git.repo, &git.paths(&applied.files), &message) {
        Ok(committed) => {
            applies::set_commit(&store.conn, applied.apply_id, &committed.commit)?;
            Ok((applied, committed))
        }
        Err(source) => Err(not_committed(
            "apply",
            source,
            checkpoint::undo(store, target),
        )),
    }
}

/// Takes back the last apply in `target` (see [`checkpoint::undo`]); a
/// committed one is committed again as a revert.
pub(crate) fn undo(store: &mut Store, target: &Target) -> Result<Restored> {
    step(store, target, true)
}

/// Applies again the apply undone last (see [`checkpoint::redo`]); a
/// committed one is committed again with its message.
pub(crate) fn redo(store: &mut Store, target: &Target) -> Result<Restored> {
    step(store, target, false)
}

fn step(store: &mut Store, target: &Target, back: bool) -> Result<Restored> {
    super::recover(store, target)?;
    let row = if back {
        applies::last_applied(&store.conn, &target.key)?
    } else {
        applies::first_undone(&store.conn, &target.key)?
    };
    let committed = match row.as_ref().and_then(|r| r.commit_id.clone()) {
        Some(commit) => {
            let git = InGit::require(target)?;
            let files: Vec<String> = applies::files(&store.conn, row.as_ref().map_or(0, |r| r.id))?
                .into_iter()
                .map(|f| f.path)
                .collect();
            require_only_staged(&git.repo, &git.paths(&files))?;
            Some((git, commit))
        }
        None => None,
    };
    let mut restored = if back {
        checkpoint::undo(store, target)?
    } else {
        checkpoint::redo(store, target)?
    };
    let Some((git, commit)) = committed else {
        return Ok(restored);
    };
    let message = message_of(&git.repo, &commit, back);
    match commit_paths(&git.repo, &git.paths(&restored.files), &message) {
        Ok(made) => {
            if !back {
                applies::set_commit(&store.conn, restored.apply_id, &made.commit)?;
            }
            restored.commit = Some(made);
            Ok(restored)
        }
        Err(source) => {
            let taken_back = if back {
                checkpoint::redo(store, target)
            } else {
                checkpoint::undo(store, target)
            };
            Err(not_committed(
                if back { "undo" } else { "redo" },
                source,
                taken_back,
            ))
        }
    }
}

/// The message of a revert of `commit` (`back`), or of the commit again.
fn message_of(repo: &Repo, commit: &str, back: bool) -> String {
    let original = git2::Oid::from_str(commit)
        .and_then(|oid| repo.git().find_commit(oid))
        .ok()
        .map(|c| String::from_utf8_lossy(c.message_bytes()).into_owned());
    match (back, original) {
        (true, Some(message)) => {
            let summary = message.lines().next().unwrap_or_default();
            format!("Revert \"{summary}\"\n\nThis reverts commit {commit}.")
        }
        (true, None) => format!("Revert commit {commit}"),
        (false, Some(message)) => message,
        (false, None) => format!("Apply again what commit {commit} applied"),
    }
}

fn not_committed(
    step: &'static str,
    source: GitError,
    taken_back: Result<Restored>,
) -> ProposalError {
    let left = match taken_back {
        Ok(_) => None,
        Err(e) => {
            tracing::error!(step, error = %e, "cannot take back a step whose commit failed");
            Some(crate::error::describe(&e))
        }
    };
    ProposalError::NotCommitted { step, source, left }
}

#[cfg(test)]
mod tests;
