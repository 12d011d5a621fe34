//! What a takeover refuses or fails with, and what the user can do about
//! it. A refusal comes before anything is written; a failure after the
//! local result stands says so in its hint.

use std::path::{Path, PathBuf};

use crate::error::Hint;
use crate::git::GitError;
use crate::git::github::GithubError;
use crate::store::StoreError;
use crate::workspace::ImportError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum TakeoverError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error("no folder, ZIP file or workspace named {source_arg:?}")]
    NoSource { source_arg: String },
    #[error("{message}")]
    Options { message: String, hint: &'static str },
    /// The repository is not fit for a takeover (bare, detached, busy,
    /// locked, no identity) or git could not be run: as `kollega git`
    /// says it.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A libgit2 call of a takeover step failed.
    #[error("git failed to {action} in {repo}: {message}")]
    Libgit2 {
        action: String,
        repo: PathBuf,
        message: String,
    },
    #[error("{path} exists and is not a folder")]
    NotADirectory { path: PathBuf },
    #[error("{path} is a folder with files in it but not a git repository")]
    NotARepository { path: PathBuf },
    #[error("{path} has uncommitted changes ({count}): {sample}")]
    Dirty {
        path: PathBuf,
        count: usize,
        sample: String,
    },
    #[error("{path} is already a git repository with commits")]
    AlreadyRepository { path: PathBuf },
    #[error("{source_path} and the repository {repo} overlap: {why}")]
    Overlap {
        source_path: PathBuf,
        repo: PathBuf,
        why: &'static str,
    },
    #[error("workspace {name:?} cannot name a branch (takeover/{name}/…)")]
    BadBranchName { name: String },
    #[error("workspace {name:?} already exists {why}")]
    WorkspaceExists { name: String, why: String },
    #[error("workspace {name:?} is open in another kollega (pid {pid} on {host})")]
    WorkspaceOpen {
        name: String,
        pid: u32,
        host: String,
    },
    #[error("workspace {name:?} has files that look like secrets: {paths}")]
    SecretInWorkspace { name: String, paths: String },
    #[error("workspace {name:?} is being taken over by another kollega (pid {pid})")]
    Running { name: String, pid: i64 },
    #[error(
        "an interrupted takeover of {name:?} into {repo} left {traces}; it was from {source_key}"
    )]
    Unfinished {
        name: String,
        repo: String,
        traces: String,
        source_key: String,
    },
    #[error("branch {branch} already exists in {repo} and is not this takeover's baseline")]
    BranchTaken { branch: String, repo: PathBuf },
    #[error("tag {tag} already exists in {repo} and does not point at {commit}")]
    TagTaken {
        tag: String,
        repo: PathBuf,
        commit: String,
    },
    #[error(
        "the source changed since the interrupted takeover committed {commit} on {branch} in {repo}"
    )]
    SourceChanged {
        branch: String,
        tag: String,
        commit: String,
        repo: PathBuf,
    },
    #[error("{repo} has changes since the interrupted takeover that are not its own: {sample}")]
    WorkTreeChanged { repo: PathBuf, sample: String },
    #[error("checking out {branch} in {repo} would overwrite {what}: {message}")]
    CheckoutBlocked {
        branch: String,
        repo: PathBuf,
        what: &'static str,
        message: String,
    },
    #[error("git push to {remote} failed: {output}")]
    Push {
        remote: String,
        repo: PathBuf,
        branch: String,
        tag: String,
        /// git's own verdict: its `fatal:` or `error:` line.
        output: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A test stopped the run after `step`, as a kill would.
    #[cfg(test)]
    #[error("stopped after {0:?}")]
    Interrupted(super::state::Step),
}

impl From<rusqlite::Error> for TakeoverError {
    fn from(e: rusqlite::Error) -> Self {
        TakeoverError::Store(StoreError::Sqlite(e))
    }
}

impl Hint for TakeoverError {
    fn hint(&self) -> String {
        match self {
            TakeoverError::Import(e) => e.hint(),
            TakeoverError::Store(e) => e.hint(),
            TakeoverError::Github(e) => e.hint(),
            TakeoverError::NoSource { .. } => {
                "pass a folder, a .zip export, or a workspace name from `kollega ls`".into()
            }
            TakeoverError::Options { hint, .. } => (*hint).into(),
            TakeoverError::Git(e) => e.hint(),
            TakeoverError::Libgit2 { repo, .. } => format!(
                "check the repository with `git -C {} status`; run again once it is fixed",
                repo.display()
            ),
            TakeoverError::NotADirectory { .. } | TakeoverError::NotARepository { .. } => {
                "pass --git an empty or missing folder (kollega creates the repository), or an existing repository".into()
            }
            TakeoverError::Dirty { path, .. } => format!(
                "commit or stash them (`git -C {} stash --include-untracked`), then run again; nothing was changed",
                path.display()
            ),
            TakeoverError::AlreadyRepository { path } => format!(
                "its files are in git already: `kollega open {}` works on it as it is; to take the folder over into another repository pass that one to --git",
                path.display()
            ),
            TakeoverError::Overlap { .. } => {
                "put the repository beside the source, not inside it or around it".into()
            }
            TakeoverError::BadBranchName { .. } => {
                "pick a --name without '..', without a trailing '.' and not ending in .lock".into()
            }
            TakeoverError::WorkspaceExists { .. } => {
                "pass another --name; to take a SQLite workspace into git, pass its name as the source".into()
            }
            TakeoverError::WorkspaceOpen { .. } => {
                "close it there first (its drafts are kept), then run again".into()
            }
            TakeoverError::SecretInWorkspace { name, .. } => format!(
                "remove the secrets from those files (`kollega open {name}`), then run again; nothing was committed"
            ),
            TakeoverError::Running { .. } => {
                "wait for it to finish, or stop that process and run again".into()
            }
            TakeoverError::Unfinished { .. } => {
                "run that takeover again to finish it, or delete its branch and tag from that repository and run this one again".into()
            }
            TakeoverError::BranchTaken { .. } => {
                "wait a second and run again (the branch name carries the time), or remove that branch".into()
            }
            TakeoverError::TagTaken { tag, repo, .. } => format!(
                "move it aside (`git -C {} tag -m old {tag}-old {tag} && git -C {} tag -d {tag}`), then run again",
                repo.display(),
                repo.display()
            ),
            TakeoverError::SourceChanged {
                branch, tag, repo, ..
            } => format!(
                "put the source back as it was and run again; or start over: `git -C {r} switch -`, `git -C {r} branch -D {branch}`, `git -C {r} tag -d {tag}`",
                r = repo.display()
            ),
            TakeoverError::WorkTreeChanged { repo, .. } => format!(
                "commit, stash or remove those changes (`git -C {} status`), then run again",
                repo.display()
            ),
            TakeoverError::CheckoutBlocked { .. } => {
                "move those files aside, then run again; the commit and tag are made already".into()
            }
            TakeoverError::Push {
                repo, branch, tag, ..
            } => format!(
                "the local takeover is complete; fix access to the remote and push by hand: `git -C {} push origin {branch} {tag}`",
                repo.display()
            ),
            TakeoverError::Io { .. } => "check the path and its permissions".into(),
            #[cfg(test)]
            TakeoverError::Interrupted(_) => "run again".into(),
        }
    }
}

pub(super) fn git_err(
    action: impl Into<String>,
    repo: &Path,
) -> impl FnOnce(git2::Error) -> TakeoverError {
    let action = action.into();
    let repo = repo.to_path_buf();
    move |e| TakeoverError::Libgit2 {
        action,
        repo,
        message: e.message().to_string(),
    }
}
