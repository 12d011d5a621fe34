//! Takeover into git: a folder, a ZIP export or a SQLite workspace becomes
//! one baseline commit on a fresh branch of a git repository, tagged, with a
//! `handoff.json` that says what was taken and what was left out.
//!
//! Files pass through the importer's own walk and classification, so a
//! takeover into git skips and ignores exactly what `kollega import` does,
//! and a file the secret scan flags never becomes an object in the
//! repository. Each takeover is recorded in the `takeovers` table before the
//! repository is touched, and each step first looks in the repository for
//! its own result (branch at the expected commit, tag on it, work tree on
//! the branch), so a run killed anywhere and started again finishes the job
//! or says exactly what exists, and never makes a second baseline commit.
//! The commit and the tag carry the takeover's recorded time, which makes
//! them the same objects when a rerun has to write them again.
//!
//! Network steps (origin, push through the `git` CLI so the user's
//! credentials just work, a GitHub repository) come after the local result
//! is complete and never undo it: their failure is reported beside it.

use super::pack::BlobPack;
use crate::error::Hint;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use git2::build::CheckoutBuilder;
use git2::{
    Commit, Delta, DiffOptions, ErrorCode, Index, IndexEntry, IndexTime, ObjectType, Oid,
    Repository, RepositoryInitOptions, RepositoryOpenFlags, Signature, Status, StatusOptions,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::github::{self, GithubApi, GithubError, RepoName, RequestObserver};
use crate::config::Config;
use crate::store::takeovers::{NewTakeover, TakeoverRow};
use crate::store::workspaces::{GitWorkspace, SkippedEntry, StorageType, Workspace};
use crate::store::{self, Store, StoreError, locks};
use crate::workspace::ImportError;
use crate::workspace::import::{
    Fingerprint, Verdict, default_name, validate_name, walk_classified,
};
use crate::workspace::path::WorkspacePath;
use crate::workspace::secrets::SecretScanner;
use crate::workspace::source::Source;

/// The file every baseline commit carries at its root.
pub(crate) const HANDOFF_FILE: &str = "handoff.json";

/// How many changed paths a "dirty" error lists.
const DIRTY_SAMPLE: usize = 8;

/// What `kollega takeover` was asked to do.
#[derive(Debug, Clone, Default)]
pub(crate) struct TakeoverRequest {
    /// A folder, a ZIP file, or the name of a SQLite workspace to promote.
    /// A name wins over a same-named path in the current folder, as with
    /// `kollega open`; `./name` always means the path.
    pub source: String,
    /// The repository's work tree; created when absent.
    pub repo: PathBuf,
    /// The workspace name for a folder or ZIP (default: as `import` names it).
    pub name: Option<String>,
    /// Skip what the source's own `.gitignore` files ignore, as `import` does.
    pub respect_gitignore: bool,
    /// Add or set `origin` to this URL.
    pub remote: Option<String>,
    /// Push the branch and the tag to `origin`.
    pub push: bool,
    /// `OWNER/NAME`: create a private GitHub repository, make it `origin`
    /// and push the branch and the tag.
    pub github: Option<String>,
    /// Told of every request to GitHub's API (the CLI counts them for
    /// `kollega metrics`).
    pub github_observer: Option<RequestObserver>,
}

/// What a takeover made, as `kollega takeover --json` prints it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TakeoverReport {
    pub workspace: String,
    pub storage_type: StorageType,
    pub repo_path: String,
    pub branch: String,
    pub tag: String,
    pub commit: String,
    pub files_count: u64,
    pub bytes: u64,
    pub taken_over_at: String,
    pub source: String,
    pub skipped: Vec<SkippedEntry>,
    pub ignored: u64,
    /// `origin`'s URL after the run, if the repository has one.
    pub remote: Option<String>,
    pub pushed: bool,
    /// Why the push did not happen, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_error: Option<String>,
    pub github: Option<GithubOutcome>,
    pub status: TakeoverStatus,
    /// The failure of a network step; the local result above stands. The
    /// CLI prints the report, then this as its error, and exits 1.
    #[serde(skip)]
    pub remote_failure: Option<TakeoverError>,
}

/// What a takeover run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum TakeoverStatus {
    TakenOver,
    /// An interrupted run was finished.
    Resumed,
    /// Nothing was left to do locally.
    AlreadyTakenOver,
}

/// The GitHub part of a report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GithubOutcome {
    /// `OWNER/NAME` as asked.
    pub repository: String,
    /// Whether this run created it (false when an earlier run had).
    pub created: bool,
    /// Its web page, when GitHub said.
    pub url: Option<String>,
    pub error: Option<String>,
}

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
    #[error("git failed to {action} in {repo}: {message}")]
    Git {
        action: String,
        repo: PathBuf,
        message: String,
    },
    #[error("{path} exists and is not a folder")]
    NotADirectory { path: PathBuf },
    #[error("{path} is a folder with files in it but not a git repository")]
    NotARepository { path: PathBuf },
    #[error("{path} is a bare git repository; a takeover needs a work tree")]
    Bare { path: PathBuf },
    #[error("{path} has {operation} in progress")]
    InProgress {
        path: PathBuf,
        operation: super::Operation,
    },
    #[error("the index of {path} is locked ({lock} exists)")]
    Locked { path: PathBuf, lock: PathBuf },
    #[error("HEAD of {path} is detached at {commit}")]
    Detached { path: PathBuf, commit: String },
    #[error("{path} has uncommitted changes ({count}): {sample}")]
    Dirty {
        path: PathBuf,
        count: usize,
        sample: String,
    },
    #[error("{path} is already a git repository with commits")]
    AlreadyRepository { path: PathBuf },
    #[error("no git identity: user.name and user.email are not set for {path}")]
    NoIdentity { path: PathBuf },
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
    #[error("cannot run git: {message}")]
    GitCli { message: String },
    #[error("git push to {remote} failed: {output}")]
    Push {
        remote: String,
        repo: PathBuf,
        branch: String,
        tag: String,
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
    Interrupted(Step),
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
            TakeoverError::Git { repo, .. } => format!(
                "check the repository with `git -C {} status`; run again once it is fixed",
                repo.display()
            ),
            TakeoverError::NotADirectory { .. } | TakeoverError::NotARepository { .. } => {
                "pass --git an empty or missing folder (kollega creates the repository), or an existing repository".into()
            }
            TakeoverError::Bare { .. } => {
                "clone it (`git clone BARE DIR`) and pass the clone's folder to --git".into()
            }
            TakeoverError::InProgress { path, operation } => format!(
                "finish or abort the {} (`git -C {} status` says how), then run again; nothing was changed",
                operation.name(),
                path.display()
            ),
            TakeoverError::Locked { lock, .. } => format!(
                "wait for the other git process to finish; if none is running, remove {}",
                lock.display()
            ),
            TakeoverError::Detached { path, .. } => format!(
                "check out a branch first (`git -C {} switch main`)",
                path.display()
            ),
            TakeoverError::Dirty { path, .. } => format!(
                "commit or stash them (`git -C {} stash --include-untracked`), then run again; nothing was changed",
                path.display()
            ),
            TakeoverError::AlreadyRepository { path } => format!(
                "its files are in git already: `kollega open {}` works on it as it is; to take the folder over into another repository pass that one to --git",
                path.display()
            ),
            TakeoverError::NoIdentity { .. } => {
                "set one: `git config --global user.name \"Your Name\"` and `git config --global user.email you@example.com` (or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL); nothing was changed".into()
            }
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
            TakeoverError::GitCli { .. } => "install git and make sure it is on PATH".into(),
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

fn git_err(action: impl Into<String>, repo: &Path) -> impl FnOnce(git2::Error) -> TakeoverError {
    let action = action.into();
    let repo = repo.to_path_buf();
    move |e| TakeoverError::Git {
        action,
        repo,
        message: e.message().to_string(),
    }
}

/// What a takeover reads from outside its request: a few environment
/// variables, where git's global configuration lives, and the environment
/// of the `git` processes it starts. The process's own in production; tests
/// give each run a sandbox so parallel tests and the developer's git setup
/// never meet.
#[derive(Clone, Default)]
pub(crate) struct Outside {
    vars: HashMap<String, String>,
    /// A home folder standing in for `$HOME`: git's global configuration is
    /// read from it only, and `git` processes run with it and without the
    /// system configuration.
    sandbox_home: Option<PathBuf>,
}

/// The variables a takeover reads.
const VARS: &[&str] = &[
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "EMAIL",
    github::TOKEN_ENV,
    github::API_URL_ENV,
];

impl Outside {
    pub(crate) fn from_process() -> Outside {
        let vars = VARS
            .iter()
            .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
            .collect();
        Outside {
            vars,
            sandbox_home: None,
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// git's configuration as a commit in `repo` (or a new repository) sees it.
    fn git_config(&self, repo: Option<&Repository>) -> Result<git2::Config, git2::Error> {
        match &self.sandbox_home {
            None => match repo {
                Some(repo) => repo.config(),
                None => git2::Config::open_default(),
            },
            Some(home) => {
                let mut config = git2::Config::new()?;
                let global = home.join(".gitconfig");
                if global.is_file() {
                    config.add_file(&global, git2::ConfigLevel::Global, false)?;
                }
                if let Some(repo) = repo {
                    config.add_file(
                        &repo.path().join("config"),
                        git2::ConfigLevel::Local,
                        false,
                    )?;
                }
                Ok(config)
            }
        }
    }

    /// `git` in `repo`, with the sandbox's environment if any.
    fn git(&self, repo: &Path) -> Command {
        let mut cmd = super::git_command(repo);
        if let Some(home) = &self.sandbox_home {
            cmd.env("HOME", home)
                .env("XDG_CONFIG_HOME", home.join(".config"))
                .env("GIT_CONFIG_NOSYSTEM", "1");
        }
        cmd
    }
}

/// Who the baseline commit and its tag are by.
struct Identity {
    author: (String, String),
    committer: (String, String),
}

impl Identity {
    /// As `git commit` finds it: `GIT_AUTHOR_*` / `GIT_COMMITTER_*` over
    /// `user.name` and `user.email`, `EMAIL` last for the address.
    fn find(
        outside: &Outside,
        repo: Option<&Repository>,
        path: &Path,
    ) -> Result<Identity, TakeoverError> {
        let config = outside
            .git_config(repo)
            .map_err(git_err("read the git configuration", path))?;
        let user_name = config
            .get_string("user.name")
            .ok()
            .filter(|s| !s.trim().is_empty());
        let user_email = config
            .get_string("user.email")
            .ok()
            .filter(|s| !s.trim().is_empty());
        let pick = |name_var: &str, email_var: &str| -> Option<(String, String)> {
            let name = outside
                .var(name_var)
                .map(str::to_string)
                .or(user_name.clone())?;
            let email = outside
                .var(email_var)
                .map(str::to_string)
                .or(user_email.clone())
                .or(outside.var("EMAIL").map(str::to_string))?;
            Some((name, email))
        };
        let no_identity = || TakeoverError::NoIdentity {
            path: path.to_path_buf(),
        };
        Ok(Identity {
            author: pick("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL").ok_or_else(no_identity)?,
            committer: pick("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL").ok_or_else(no_identity)?,
        })
    }

    fn signatures(
        &self,
        at: i64,
        repo: &Path,
    ) -> Result<(Signature<'static>, Signature<'static>), TakeoverError> {
        let time = git2::Time::new(at, 0);
        let fail = || git_err("build the commit's signature", repo);
        let author = Signature::new(&self.author.0, &self.author.1, &time).map_err(fail())?;
        let committer =
            Signature::new(&self.committer.0, &self.committer.1, &time).map_err(fail())?;
        Ok((author, committer))
    }
}

/// Where a takeover's progress stands; the text is the `takeovers.state`
/// column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TakeoverState {
    Started,
    Committed,
    Tagged,
    CheckedOut,
    Done,
}

impl TakeoverState {
    fn as_str(self) -> &'static str {
        match self {
            TakeoverState::Started => "started",
            TakeoverState::Committed => "committed",
            TakeoverState::Tagged => "tagged",
            TakeoverState::CheckedOut => "checked-out",
            TakeoverState::Done => "done",
        }
    }

    fn parse(text: &str) -> TakeoverState {
        match text {
            "committed" => TakeoverState::Committed,
            "tagged" => TakeoverState::Tagged,
            "checked-out" => TakeoverState::CheckedOut,
            "done" => TakeoverState::Done,
            _ => TakeoverState::Started,
        }
    }

    /// The one place that says which moves are allowed: forward one step,
    /// or staying put when a rerun confirms a step already done.
    fn may_move_to(self, next: TakeoverState) -> bool {
        use TakeoverState::*;
        matches!(
            (self, next),
            (Started, Started | Committed)
                | (Committed, Committed | Tagged)
                | (Tagged, Tagged | CheckedOut)
                | (CheckedOut, CheckedOut | Done)
        )
    }
}

/// The points after which a test may stop a run, as `kill -9` would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    /// The takeovers row is written.
    Recorded,
    /// The repository exists.
    Repository,
    /// The commit object is written, its branch not yet.
    CommitObject,
    /// The branch points at the baseline.
    Branch,
    Tag,
    CheckedOut,
    /// The store says `git`; the network steps have not run.
    Done,
}

/// Where a run stops early; only tests set it.
#[derive(Debug, Clone, Copy, Default)]
struct Stop {
    #[cfg(test)]
    after: Option<Step>,
}

impl Stop {
    fn reached(self, step: Step) -> Result<(), TakeoverError> {
        #[cfg(test)]
        if self.after == Some(step) {
            return Err(TakeoverError::Interrupted(step));
        }
        tracing::debug!(?step, "takeover step done");
        Ok(())
    }
}

/// What is taken over.
enum Origin {
    Path(Source),
    /// A SQLite workspace being promoted.
    Workspace(Workspace),
}

/// A takeover's inputs, resolved and checked before anything is written.
struct Plan {
    name: String,
    origin: Origin,
    /// `takeovers.source`: the canonical path, or `workspace:<name>`.
    source_key: String,
    /// The source as reports, `handoff.json` and the commit message say it.
    source_display: String,
    repo_path: PathBuf,
    /// The source folder is the repository's work tree.
    in_place: bool,
    /// The ready workspace of this name, if any.
    existing: Option<Workspace>,
    /// The URL `origin` is set to.
    remote: Option<String>,
    /// Push the branch and the tag (always with `--github`).
    push: bool,
    github: Option<(RepoName, GithubApi)>,
}

impl Plan {
    fn repo_str(&self) -> String {
        self.repo_path.to_string_lossy().into_owned()
    }
}

/// Takes `request.source` over into the git repository `request.repo`:
/// creates the repository if absent, commits every imported file and
/// `handoff.json` on `takeover/<workspace>/<UTC stamp>`, tags it
/// `import-<stamp>`, checks the branch out and records the workspace as a
/// git workspace. Then the network steps asked for. Run again after an
/// interruption, it finishes what is left.
pub(crate) fn takeover(
    store: &mut Store,
    config: &Config,
    request: &TakeoverRequest,
) -> Result<TakeoverReport, TakeoverError> {
    run(
        store,
        config,
        request,
        &Outside::from_process(),
        Stop::default(),
    )
}

fn run(
    store: &mut Store,
    config: &Config,
    request: &TakeoverRequest,
    outside: &Outside,
    stop: Stop,
) -> Result<TakeoverReport, TakeoverError> {
    let plan = plan(store, config, request, outside)?;
    let span = tracing::info_span!("takeover", workspace = %plan.name);
    let _enter = span.enter();
    // A promotion rewrites the workspace's stored files: no editor may hold
    // it meanwhile. The lock is this process's until the end of the run.
    let lock_key = match &plan.origin {
        Origin::Workspace(ws) => Some(store::drafts::sqlite_key(&ws.name)),
        Origin::Path(_) => None,
    };
    if let Some(key) = &lock_key {
        match locks::acquire(
            &mut store.conn,
            key,
            std::process::id(),
            &locks::hostname(),
            locks::now_unix(),
            locks::STALE_SECS,
        )? {
            locks::LockOutcome::Acquired => {}
            locks::LockOutcome::HeldBy { pid, host, .. } => {
                return Err(TakeoverError::WorkspaceOpen {
                    name: plan.name.clone(),
                    pid,
                    host,
                });
            }
        }
    }
    let result = run_planned(store, config, request, outside, &plan, stop);
    #[cfg(test)]
    if matches!(result, Err(TakeoverError::Interrupted(_))) {
        // A kill releases nothing.
        return result;
    }
    if let Some(key) = &lock_key
        && let Err(e) = locks::release(&store.conn, key, std::process::id())
    {
        tracing::warn!(error = %e, "could not release the workspace lock");
    }
    result
}

fn run_planned(
    store: &mut Store,
    config: &Config,
    request: &TakeoverRequest,
    outside: &Outside,
    plan: &Plan,
    stop: Stop,
) -> Result<TakeoverReport, TakeoverError> {
    let repo_str = plan.repo_str();
    let unfinished = match store::takeovers::unfinished(&store.conn, &plan.name)? {
        Some(row) if row.source == plan.source_key && row.repo_path == repo_str => Some(row),
        Some(row) => {
            let traces = traces_of(&row);
            if !traces.is_empty() {
                return Err(TakeoverError::Unfinished {
                    name: plan.name.clone(),
                    repo: row.repo_path,
                    traces: traces.join(" and "),
                    source_key: row.source,
                });
            }
            // It never reached the repository: nothing to finish.
            store::takeovers::delete(&store.conn, row.id)?;
            None
        }
        None => None,
    };

    if unfinished.as_ref().is_some_and(|row| row.created_repo) {
        discard_half_made_repository(&plan.repo_path);
    }
    let repo = open_repo(&plan.repo_path)?;
    match &repo {
        Some(repo) => check_repo_state(repo, &plan.repo_path)?,
        None if !plan.in_place && has_entries(&plan.repo_path) => {
            return Err(TakeoverError::NotARepository {
                path: plan.repo_path.clone(),
            });
        }
        None => {}
    }
    let resuming = unfinished.is_some();
    let branch_done = match (&unfinished, &repo) {
        (Some(row), Some(repo)) => reference_exists(repo, &format!("refs/heads/{}", row.branch)),
        _ => false,
    };
    if let Some(repo) = &repo {
        if plan.in_place {
            check_in_place(repo, &plan.repo_path, branch_done)?;
        } else if !branch_done {
            check_clean(repo, &plan.repo_path)?;
        }
    }
    if unfinished.is_none()
        && let Some(existing) = &plan.existing
        && existing.storage_type == StorageType::Git
        && let Some(report) = already_taken_over(store, config, request, plan, existing)?
    {
        return Ok(finish_remote(store, outside, plan, report));
    }
    let identity = Identity::find(outside, repo.as_ref(), &plan.repo_path)?;
    if unfinished.is_none() && plan.existing.is_none() {
        let count = store::workspaces::count(&store.conn)?;
        if count >= config.limits.max_workspaces {
            return Err(ImportError::TooManyWorkspaces {
                count,
                limit: config.limits.max_workspaces,
            }
            .into());
        }
    }

    let row = match unfinished {
        Some(row) => claim_row(store, row)?,
        None => new_row(store, plan, repo.as_ref())?,
    };
    drop(repo);
    stop.reached(Step::Recorded)?;

    let local = Local {
        store,
        config,
        request,
        plan,
        identity: &identity,
        row: &row,
        state: std::cell::Cell::new(TakeoverState::parse(&row.state)),
        stop,
    };
    let report = match local.run() {
        Ok(report) => report,
        #[cfg(test)]
        Err(e @ TakeoverError::Interrupted(_)) => return Err(e),
        Err(e) => {
            abandon_if_traceless(&store.conn, &row);
            tracing::warn!(error = %e, "takeover failed");
            return Err(e);
        }
    };
    let mut report = report;
    report.status = if resuming {
        TakeoverStatus::Resumed
    } else {
        TakeoverStatus::TakenOver
    };
    stop.reached(Step::Done)?;
    Ok(finish_remote(store, outside, plan, report))
}

/// Resolves the request into a plan and refuses what cannot work, before
/// anything is written anywhere.
fn plan(
    store: &Store,
    config: &Config,
    request: &TakeoverRequest,
    outside: &Outside,
) -> Result<Plan, TakeoverError> {
    if request.remote.is_some() && request.github.is_some() {
        return Err(TakeoverError::Options {
            message: "--remote and --github both set origin; pass one of them".into(),
            hint: "--github OWNER/NAME creates the repository and pushes; --remote URL --push uses one that exists",
        });
    }
    if let Some(url) = &request.remote
        && (url.trim().is_empty() || url.starts_with('-'))
    {
        return Err(TakeoverError::Options {
            message: format!("--remote {url:?} is not a repository URL"),
            hint: "pass a URL such as git@github.com:OWNER/NAME.git or https://…",
        });
    }
    let github = match &request.github {
        Some(value) => {
            let name = RepoName::parse(value)?;
            let mut api = GithubApi::new(
                outside.var(github::API_URL_ENV),
                outside.var(github::TOKEN_ENV),
            )?;
            if let Some(observer) = &request.github_observer {
                api = api.observed_by(observer.clone());
            }
            Some((name, api))
        }
        None => None,
    };

    let as_workspace = if request.source.contains('/') {
        None
    } else {
        store::workspaces::find(&store.conn, &request.source)?
    };
    let repo_path = absolute(&request.repo)?;
    let (origin, name, source_key, source_display, existing) = match as_workspace {
        Some(ws) => {
            if let Some(name) = &request.name
                && name != &ws.name
            {
                return Err(TakeoverError::Options {
                    message: format!(
                        "--name {name:?} cannot rename workspace {:?} while taking it into git",
                        ws.name
                    ),
                    hint: "leave out --name when the source is a workspace",
                });
            }
            let key = format!("workspace:{}", ws.name);
            (
                Origin::Workspace(ws.clone()),
                ws.name.clone(),
                key,
                ws.source.clone(),
                Some(ws),
            )
        }
        None => {
            let path = Path::new(&request.source);
            if std::fs::symlink_metadata(path).is_err() {
                return Err(TakeoverError::NoSource {
                    source_arg: request.source.clone(),
                });
            }
            let source = Source::open(path)?;
            source.validate(&config.limits)?;
            let canonical = path.canonicalize().map_err(|e| TakeoverError::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            let name = match &request.name {
                Some(name) => validate_name(name)?,
                None => validate_name(&default_name(path))?,
            };
            let display = canonical.to_string_lossy().into_owned();
            let existing = store::workspaces::find(&store.conn, &name)?;
            (
                Origin::Path(source),
                name,
                display.clone(),
                display,
                existing,
            )
        }
    };
    if !git2::Reference::is_valid_name(&format!("refs/heads/takeover/{name}/20000101-000000")) {
        return Err(TakeoverError::BadBranchName { name });
    }

    let mut in_place = false;
    if let Origin::Path(source) = &origin {
        let (Source::Dir(p) | Source::Zip(p)) = source;
        let source_path = p.canonicalize().unwrap_or_else(|_| p.clone());
        if source_path == repo_path && matches!(source, Source::Dir(_)) {
            in_place = true;
        } else if repo_path.starts_with(&source_path) {
            return Err(TakeoverError::Overlap {
                source_path,
                repo: repo_path,
                why: "the repository is inside the source",
            });
        } else if source_path.starts_with(&repo_path) {
            return Err(TakeoverError::Overlap {
                source_path,
                repo: repo_path,
                why: "the source is inside the repository's work tree",
            });
        }
    }

    if let Some(ws) = &existing {
        let same_repo = ws.repo_path.as_deref() == Some(&*repo_path.to_string_lossy());
        let refuse = |why: String| TakeoverError::WorkspaceExists {
            name: name.clone(),
            why,
        };
        match (&origin, ws.storage_type) {
            (Origin::Workspace(_), StorageType::Git) | (Origin::Path(_), StorageType::Git)
                if !same_repo =>
            {
                return Err(refuse(format!(
                    "as a git workspace in {}",
                    ws.repo_path.as_deref().unwrap_or("another repository")
                )));
            }
            (Origin::Path(_), StorageType::Sqlite) => {
                return Err(refuse(format!(
                    "as a SQLite workspace (from {}); `kollega takeover {name} --git …` takes that one into git",
                    ws.source
                )));
            }
            _ => {}
        }
    }

    if request.push && request.remote.is_none() && github.is_none() {
        let has_origin =
            open_repo(&repo_path)?.is_some_and(|repo| repo.find_remote("origin").is_ok());
        if !has_origin {
            return Err(TakeoverError::Options {
                message: format!(
                    "--push needs a remote, and {} has no origin",
                    repo_path.display()
                ),
                hint: "add --remote URL (or --github OWNER/NAME)",
            });
        }
    }

    Ok(Plan {
        name,
        origin,
        source_key,
        source_display,
        repo_path,
        in_place,
        existing,
        remote: request.remote.clone(),
        push: request.push || github.is_some(),
        github,
    })
}

/// `path` made absolute and, as far as it exists, canonical.
fn absolute(path: &Path) -> Result<PathBuf, TakeoverError> {
    let io = |e| TakeoverError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_err(io)?.join(path)
    };
    // Canonicalize the longest existing ancestor, keep the rest as given.
    let mut existing = joined.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let mut full = canonical;
            for part in rest.iter().rev() {
                full.push(part);
            }
            return Ok(full);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return Ok(joined),
        }
    }
}

/// The repository whose work tree is `path`, if there is one. Never looks
/// in parent folders: a folder inside another repository gets its own.
fn open_repo(path: &Path) -> Result<Option<Repository>, TakeoverError> {
    match std::fs::metadata(path) {
        Err(_) => return Ok(None),
        Ok(meta) if !meta.is_dir() => {
            return Err(TakeoverError::NotADirectory {
                path: path.to_path_buf(),
            });
        }
        Ok(_) => {}
    }
    match Repository::open_ext(
        path,
        RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&OsStr>(),
    ) {
        Ok(repo) => Ok(Some(repo)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(git_err("open the repository", path)(e)),
    }
}

/// A `git init` killed halfway leaves a `.git` that opens as no
/// repository. When this takeover created the repository, that `.git` is
/// its own and goes, so the next step makes it again.
fn discard_half_made_repository(path: &Path) {
    let git_dir = path.join(".git");
    if !git_dir.is_dir() || matches!(open_repo(path), Ok(Some(_))) {
        return;
    }
    tracing::warn!(path = %git_dir.display(), "removing a repository an interrupted takeover left half made");
    if let Err(e) = std::fs::remove_dir_all(&git_dir) {
        tracing::warn!(error = %e, "could not remove it");
    }
}

fn has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

fn check_repo_state(repo: &Repository, path: &Path) -> Result<(), TakeoverError> {
    if repo.is_bare() {
        return Err(TakeoverError::Bare {
            path: path.to_path_buf(),
        });
    }
    if let Some(operation) = super::Operation::of(repo.state()) {
        return Err(TakeoverError::InProgress {
            path: path.to_path_buf(),
            operation,
        });
    }
    let lock = repo.path().join("index.lock");
    if lock.exists() {
        return Err(TakeoverError::Locked {
            path: path.to_path_buf(),
            lock,
        });
    }
    if repo.head_detached().unwrap_or(false) {
        let commit = repo
            .head()
            .ok()
            .and_then(|h| h.target())
            .map(short)
            .unwrap_or_default();
        return Err(TakeoverError::Detached {
            path: path.to_path_buf(),
            commit,
        });
    }
    Ok(())
}

/// `git status --porcelain` as (code, path) pairs, submodules left out.
fn changes(
    repo: &Repository,
    path: &Path,
    recurse: bool,
) -> Result<Vec<(String, String)>, TakeoverError> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(recurse)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo
        .statuses(Some(&mut options))
        .map_err(git_err("read the status", path))?;
    Ok(statuses
        .iter()
        .filter(|s| !s.status().is_ignored())
        .map(|s| {
            (
                porcelain_code(s.status()),
                s.path().unwrap_or("?").to_string(),
            )
        })
        .collect())
}

fn porcelain_code(s: Status) -> String {
    if s.is_wt_new() && !s.intersects(Status::INDEX_NEW | Status::INDEX_MODIFIED) {
        return "??".into();
    }
    if s.is_conflicted() {
        return "UU".into();
    }
    let index = if s.is_index_new() {
        'A'
    } else if s.is_index_modified() {
        'M'
    } else if s.is_index_deleted() {
        'D'
    } else if s.is_index_renamed() {
        'R'
    } else if s.is_index_typechange() {
        'T'
    } else {
        ' '
    };
    let work = if s.is_wt_modified() {
        'M'
    } else if s.is_wt_deleted() {
        'D'
    } else if s.is_wt_renamed() {
        'R'
    } else if s.is_wt_typechange() {
        'T'
    } else {
        ' '
    };
    format!("{index}{work}")
}

fn sample(changes: &[(String, String)]) -> String {
    let mut text = changes
        .iter()
        .take(DIRTY_SAMPLE)
        .map(|(code, path)| format!("{code} {path}"))
        .collect::<Vec<_>>()
        .join(", ");
    if changes.len() > DIRTY_SAMPLE {
        text.push_str(&format!(", and {} more", changes.len() - DIRTY_SAMPLE));
    }
    text
}

fn check_clean(repo: &Repository, path: &Path) -> Result<(), TakeoverError> {
    let changes = changes(repo, path, false)?;
    if changes.is_empty() {
        return Ok(());
    }
    Err(TakeoverError::Dirty {
        path: path.to_path_buf(),
        count: changes.len(),
        sample: sample(&changes),
    })
}

/// A folder taken over where it is may be a repository only while nothing
/// was ever committed or staged there, or when this takeover's branch is
/// what it has.
fn check_in_place(repo: &Repository, path: &Path, branch_done: bool) -> Result<(), TakeoverError> {
    if branch_done {
        return Ok(());
    }
    if head_commit(repo).is_some() {
        return Err(TakeoverError::AlreadyRepository {
            path: path.to_path_buf(),
        });
    }
    let staged = repo.index().map(|i| i.len()).unwrap_or(0);
    if staged > 0 {
        return Err(TakeoverError::Dirty {
            path: path.to_path_buf(),
            count: staged,
            sample: format!("{staged} staged files"),
        });
    }
    Ok(())
}

fn head_commit(repo: &Repository) -> Option<Oid> {
    repo.head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id())
}

fn reference_exists(repo: &Repository, name: &str) -> bool {
    repo.find_reference(name).is_ok()
}

fn short(oid: Oid) -> String {
    oid.to_string().chars().take(12).collect()
}

/// The branch and tag an unfinished takeover left in its repository.
fn traces_of(row: &TakeoverRow) -> Vec<String> {
    let Ok(Some(repo)) = open_repo(Path::new(&row.repo_path)) else {
        return Vec::new();
    };
    let mut traces = Vec::new();
    if reference_exists(&repo, &format!("refs/heads/{}", row.branch)) {
        traces.push(format!("branch {}", row.branch));
    }
    if reference_exists(&repo, &format!("refs/tags/{}", row.tag)) {
        traces.push(format!("tag {}", row.tag));
    }
    traces
}

/// After a failure that left no branch or tag: forget the takeover, and
/// remove the repository it created if that still holds nothing.
fn abandon_if_traceless(conn: &rusqlite::Connection, row: &TakeoverRow) {
    if !traces_of(row).is_empty() {
        return;
    }
    if let Err(e) = store::takeovers::delete(conn, row.id) {
        tracing::warn!(error = %e, "could not forget a failed takeover");
    }
    if !row.created_repo {
        return;
    }
    let path = Path::new(&row.repo_path);
    let Ok(Some(repo)) = open_repo(path) else {
        return;
    };
    let empty = head_commit(&repo).is_none()
        && repo
            .references()
            .map(|mut r| r.next().is_none())
            .unwrap_or(false);
    let git_dir = repo.path().to_path_buf();
    drop(repo);
    if empty && git_dir.starts_with(path) && git_dir.ends_with(".git") {
        if let Err(e) = std::fs::remove_dir_all(&git_dir) {
            tracing::warn!(error = %e, "could not remove the repository a failed takeover created");
        }
        // Only when nothing else is in it (it was made for this takeover).
        let _ = std::fs::remove_dir(path);
    }
}

fn claim_row(store: &mut Store, row: TakeoverRow) -> Result<TakeoverRow, TakeoverError> {
    let pid = std::process::id();
    if let Some(holder) = row.pid
        && holder != i64::from(pid)
        && crate::store::locks::pid_alive(holder)
    {
        return Err(TakeoverError::Running {
            name: row.workspace,
            pid: holder,
        });
    }
    store::takeovers::claim(&store.conn, row.id, pid)?;
    tracing::info!(branch = %row.branch, state = %row.state, "resuming an interrupted takeover");
    Ok(row)
}

fn new_row(
    store: &mut Store,
    plan: &Plan,
    repo: Option<&Repository>,
) -> Result<TakeoverRow, TakeoverError> {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let started_at = now
        .format(&Rfc3339)
        .unwrap_or_else(|_| store::now_rfc3339());
    let stamp = stamp_of(now);
    let branch = format!("takeover/{}/{stamp}", plan.name);
    let tag = format!("import-{stamp}");
    let base = repo.and_then(head_commit).map(|o| o.to_string());
    let repo_str = plan.repo_str();
    let tx = store
        .conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if let Some(other) = store::takeovers::unfinished(&tx, &plan.name)? {
        return Err(TakeoverError::Running {
            name: plan.name.clone(),
            pid: other.pid.unwrap_or(0),
        });
    }
    let id = store::takeovers::insert(
        &tx,
        &NewTakeover {
            workspace: &plan.name,
            source: &plan.source_key,
            repo_path: &repo_str,
            stamp: &stamp,
            branch: &branch,
            tag: &tag,
            base_commit: base.as_deref(),
            created_repo: repo.is_none(),
            pid: std::process::id(),
            started_at: &started_at,
        },
    )?;
    tx.commit()?;
    tracing::info!(%branch, %tag, "takeover recorded");
    Ok(TakeoverRow {
        id,
        workspace: plan.name.clone(),
        source: plan.source_key.clone(),
        repo_path: repo_str,
        stamp,
        branch,
        tag,
        base_commit: base,
        created_repo: repo.is_none(),
        state: TakeoverState::Started.as_str().into(),
        commit_id: None,
        files_tree: None,
        pid: Some(i64::from(std::process::id())),
        remote_url: None,
        github_repo: None,
        started_at,
    })
}

/// UTC `yyyymmdd-hhmmss`.
fn stamp_of(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// One entry of what is taken over, after the importer's classification.
enum Item {
    File {
        path: String,
        text: String,
        hash: String,
        executable: bool,
    },
    Skipped(SkippedEntry),
    Ignored,
}

/// Calls `each` for every entry of the source, classified as `import`
/// classifies it, plus the two rules git adds: `handoff.json` at the root
/// is the takeover's own, and no path may enter a `.git` folder.
fn walk_items(
    conn: &rusqlite::Connection,
    config: &Config,
    origin: &Origin,
    respect_gitignore: bool,
    each: &mut dyn FnMut(Item) -> Result<(), TakeoverError>,
) -> Result<(), TakeoverError> {
    let mut route = |item: Item| -> Result<(), TakeoverError> {
        if let Item::File { path, text, .. } = &item {
            let reason = if path == HANDOFF_FILE {
                Some("reserved-name")
            } else if path.split('/').any(|c| c.eq_ignore_ascii_case(".git")) {
                Some("unsafe-name")
            } else {
                None
            };
            if let Some(reason) = reason {
                return each(Item::Skipped(SkippedEntry {
                    path: path.clone(),
                    reason: reason.into(),
                    size: Some(text.len() as u64),
                }));
            }
        }
        each(item)
    };
    match origin {
        Origin::Path(source) => {
            let root = match source {
                Source::Dir(root) => Some(root.clone()),
                Source::Zip(_) => None,
            };
            // The importer's walk speaks ImportError; an error of ours is
            // kept aside and the walk stopped with a placeholder.
            let mut ours = None;
            let walked = walk_classified(config, source, respect_gitignore, &mut |verdict| {
                let item = match verdict {
                    Verdict::Import { path, text, hash } => Item::File {
                        executable: root
                            .as_ref()
                            .is_some_and(|r| is_executable(&r.join(path.as_str()))),
                        path: path.to_string(),
                        text,
                        hash,
                    },
                    Verdict::Skip(entry) => Item::Skipped(entry),
                    Verdict::Ignored => Item::Ignored,
                };
                match route(item) {
                    Ok(()) => Ok(()),
                    Err(TakeoverError::Import(e)) => Err(e),
                    Err(e) => {
                        ours = Some(e);
                        Err(ImportError::NoTextFiles {
                            source_path: String::new(),
                        })
                    }
                }
            });
            if let Some(e) = ours {
                return Err(e);
            }
            walked?;
        }
        Origin::Workspace(ws) => {
            // The stored files passed the secret scan when imported, but
            // may have been edited since: scan them again.
            let scanner = SecretScanner::new();
            let mut secrets = Vec::new();
            let walked = store::files::for_each(conn, ws.id, |path, content| {
                let is_secret = WorkspacePath::parse(path)
                    .map(|p| scanner.is_secret(&p, content))
                    .unwrap_or(false);
                if is_secret {
                    secrets.push(path.to_string());
                    return Ok(());
                }
                let item = Item::File {
                    path: path.to_string(),
                    text: content.to_string(),
                    hash: hex::encode(Sha256::digest(content.as_bytes())),
                    executable: false,
                };
                route(item).map_err(|e| Box::new(e) as BoxError)
            });
            walked.map_err(unbox)?;
            if !secrets.is_empty() {
                return Err(TakeoverError::SecretInWorkspace {
                    name: ws.name.clone(),
                    paths: secrets.join(", "),
                });
            }
            for entry in store::workspaces::skipped(conn, ws.id)? {
                route(Item::Skipped(entry))?;
            }
            for _ in 0..ws.ignored {
                route(Item::Ignored)?;
            }
        }
    }
    Ok(())
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Our error back out of the store's row callback.
fn unbox(e: BoxError) -> TakeoverError {
    match e.downcast::<TakeoverError>() {
        Ok(e) => *e,
        Err(e) => match e.downcast::<rusqlite::Error>() {
            Ok(e) => TakeoverError::Store(StoreError::Sqlite(*e)),
            Err(e) => TakeoverError::Store(StoreError::Open {
                path: PathBuf::from(store::DB_FILE),
                source: e,
            }),
        },
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

/// What the walk put into the repository's object store.
struct Built {
    /// The imported files alone.
    files_tree: Oid,
    /// With `handoff.json`: the baseline commit's tree.
    tree: Oid,
    files_count: u64,
    bytes: u64,
    skipped: Vec<SkippedEntry>,
    ignored: u64,
    fingerprint: String,
}

/// `handoff.json`, keys in this order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Handoff<'a> {
    workspace: &'a str,
    source: &'a str,
    taken_over_at: &'a str,
    branch: &'a str,
    tag: &'a str,
    files_count: u64,
    bytes: u64,
    skipped: Vec<HandoffSkip<'a>>,
}

#[derive(Serialize)]
struct HandoffSkip<'a> {
    path: &'a str,
    reason: &'a str,
}

fn index_entry(path: &str, id: Oid, size: usize, executable: bool) -> IndexEntry {
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: if executable { 0o100755 } else { 0o100644 },
        uid: 0,
        gid: 0,
        file_size: u32::try_from(size).unwrap_or(u32::MAX),
        id,
        flags: 0,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

/// The takeover's local part, from a recorded row to a git workspace.
struct Local<'a> {
    store: &'a mut Store,
    config: &'a Config,
    request: &'a TakeoverRequest,
    plan: &'a Plan,
    identity: &'a Identity,
    row: &'a TakeoverRow,
    /// How far the row says the takeover is.
    state: std::cell::Cell<TakeoverState>,
    stop: Stop,
}

impl Local<'_> {
    fn path(&self) -> &Path {
        &self.plan.repo_path
    }

    fn started_unix(&self) -> i64 {
        OffsetDateTime::parse(&self.row.started_at, &Rfc3339)
            .map(|t| t.unix_timestamp())
            .unwrap_or(0)
    }

    fn message(&self) -> String {
        format!("takeover: import {}\n", self.plan.source_display)
    }

    fn advance(
        &self,
        to: TakeoverState,
        commit: Option<Oid>,
        files_tree: Option<Oid>,
    ) -> Result<(), TakeoverError> {
        let from = self.state.get();
        // A rerun confirms steps an earlier run recorded; the row never
        // moves back.
        if to < from {
            return Ok(());
        }
        if !from.may_move_to(to) {
            tracing::warn!(
                from = from.as_str(),
                to = to.as_str(),
                "takeover state skipped a step"
            );
        }
        self.state.set(to);
        store::takeovers::advance(
            &self.store.conn,
            self.row.id,
            to.as_str(),
            commit.map(|c| c.to_string()).as_deref(),
            files_tree.map(|t| t.to_string()).as_deref(),
        )?;
        Ok(())
    }

    fn run(self) -> Result<TakeoverReport, TakeoverError> {
        let repo = self.repository()?;
        self.stop.reached(Step::Repository)?;
        let built = self.build(&repo)?;
        let commit = self.commit(&repo, &built)?;
        self.advance(
            TakeoverState::Committed,
            Some(commit),
            Some(built.files_tree),
        )?;
        self.stop.reached(Step::Branch)?;
        self.tag(&repo, commit)?;
        self.advance(TakeoverState::Tagged, None, None)?;
        self.stop.reached(Step::Tag)?;
        self.check_out(&repo, commit, &built)?;
        self.advance(TakeoverState::CheckedOut, None, None)?;
        self.stop.reached(Step::CheckedOut)?;
        self.record(&built, commit)
    }

    fn repository(&self) -> Result<Repository, TakeoverError> {
        if let Some(repo) = open_repo(self.path())? {
            return Ok(repo);
        }
        std::fs::create_dir_all(self.path()).map_err(|e| TakeoverError::Io {
            path: self.path().to_path_buf(),
            source: e,
        })?;
        let mut options = RepositoryInitOptions::new();
        // HEAD names the takeover branch from the start, so no empty
        // default branch is left behind.
        options.initial_head(&self.row.branch);
        let repo = Repository::init_opts(self.path(), &options)
            .map_err(git_err("create the repository", self.path()))?;
        tracing::info!(repo = %self.path().display(), "repository created");
        Ok(repo)
    }

    fn build(&self, repo: &Repository) -> Result<Built, TakeoverError> {
        let path = self.path().to_path_buf();
        let mut index = Index::new().map_err(git_err("start an index", &path))?;
        // Every blob goes into one pack: one file instead of one per blob.
        let mut pack = BlobPack::new(repo.path()).map_err(|e| TakeoverError::Io {
            path: repo.path().to_path_buf(),
            source: e,
        })?;
        let mut fingerprint = Fingerprint::default();
        let mut skipped = Vec::new();
        let (mut files_count, mut bytes, mut ignored) = (0u64, 0u64, 0u64);
        let limit = self.config.limits.max_workspace_bytes;
        walk_items(
            &self.store.conn,
            self.config,
            &self.plan.origin,
            self.request.respect_gitignore,
            &mut |item| {
                match item {
                    Item::File {
                        path: file,
                        text,
                        hash,
                        executable,
                    } => {
                        bytes += text.len() as u64;
                        if bytes > limit {
                            return Err(ImportError::WorkspaceTooLarge {
                                name: self.plan.name.clone(),
                                limit,
                            }
                            .into());
                        }
                        let id = pack
                            .add_blob(text.as_bytes())
                            .map_err(|e| TakeoverError::Io {
                                path: path.join(&file),
                                source: std::io::Error::other(e.to_string()),
                            })?;
                        index
                            .add(&index_entry(&file, id, text.len(), executable))
                            .map_err(git_err(format!("add {file}"), &path))?;
                        fingerprint.file(&file, &hash);
                        files_count += 1;
                    }
                    Item::Skipped(entry) => {
                        fingerprint.skipped(&entry.path, &entry.reason);
                        skipped.push(entry);
                    }
                    Item::Ignored => ignored += 1,
                }
                Ok(())
            },
        )?;
        if files_count == 0 {
            return Err(ImportError::NoTextFiles {
                source_path: self.plan.source_display.clone(),
            }
            .into());
        }
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        // The trees refer to the blobs: the pack is stored first.
        pack.finish(repo).map_err(|e| TakeoverError::Io {
            path: repo.path().to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let files_tree = index
            .write_tree_to(repo)
            .map_err(git_err("write the tree", &path))?;
        let handoff = Handoff {
            workspace: &self.plan.name,
            source: &self.plan.source_display,
            taken_over_at: &self.row.started_at,
            branch: &self.row.branch,
            tag: &self.row.tag,
            files_count,
            bytes,
            skipped: skipped
                .iter()
                .map(|s| HandoffSkip {
                    path: &s.path,
                    reason: &s.reason,
                })
                .collect(),
        };
        let mut json = serde_json::to_string_pretty(&handoff).map_err(|e| TakeoverError::Io {
            path: PathBuf::from(HANDOFF_FILE),
            source: e.into(),
        })?;
        json.push('\n');
        let id = repo
            .blob(json.as_bytes())
            .map_err(git_err("store handoff.json", &path))?;
        index
            .add(&index_entry(HANDOFF_FILE, id, json.len(), false))
            .map_err(git_err("add handoff.json", &path))?;
        let tree = index
            .write_tree_to(repo)
            .map_err(git_err("write the tree", &path))?;
        Ok(Built {
            files_tree,
            tree,
            files_count,
            bytes,
            skipped,
            ignored,
            fingerprint: fingerprint.finish(),
        })
    }

    /// Whether `commit` is the baseline this takeover makes (or made).
    fn is_ours(&self, commit: &Commit<'_>) -> bool {
        if self.row.commit_id.as_deref() == Some(&commit.id().to_string()) {
            return true;
        }
        let parents: Vec<String> = commit.parent_ids().map(|p| p.to_string()).collect();
        let base: Vec<String> = self.row.base_commit.iter().cloned().collect();
        commit.message().ok() == Some(self.message().as_str())
            && commit.time().seconds() == self.started_unix()
            && parents == base
    }

    /// The baseline commit on the branch: found when a run before this one
    /// made it, else written (the same object when only the branch was
    /// missing: same tree, parents, identity, time and message).
    fn commit(&self, repo: &Repository, built: &Built) -> Result<Oid, TakeoverError> {
        let path = self.path();
        let branch_ref = format!("refs/heads/{}", self.row.branch);
        if let Ok(existing) = repo.find_reference(&branch_ref) {
            let tip = existing
                .peel_to_commit()
                .map_err(git_err(format!("read {}", self.row.branch), path))?;
            if !self.is_ours(&tip) {
                return Err(TakeoverError::BranchTaken {
                    branch: self.row.branch.clone(),
                    repo: path.to_path_buf(),
                });
            }
            if tip.tree_id() != built.tree {
                return Err(TakeoverError::SourceChanged {
                    branch: self.row.branch.clone(),
                    tag: self.row.tag.clone(),
                    commit: short(tip.id()),
                    repo: path.to_path_buf(),
                });
            }
            tracing::info!(commit = %tip.id(), "baseline commit already made");
            return Ok(tip.id());
        }
        let (author, committer) = self.identity.signatures(self.started_unix(), path)?;
        let tree = repo
            .find_tree(built.tree)
            .map_err(git_err("read the tree", path))?;
        let parent = match &self.row.base_commit {
            Some(base) => {
                let oid = Oid::from_str(base).map_err(git_err("read the base commit", path))?;
                Some(
                    repo.find_commit(oid)
                        .map_err(git_err(format!("find commit {base}"), path))?,
                )
            }
            None => None,
        };
        let parents: Vec<&Commit<'_>> = parent.iter().collect();
        let oid = repo
            .commit(None, &author, &committer, &self.message(), &tree, &parents)
            .map_err(git_err("write the baseline commit", path))?;
        self.stop.reached(Step::CommitObject)?;
        repo.reference(
            &branch_ref,
            oid,
            false,
            &format!("takeover: {}", self.row.branch),
        )
        .map_err(git_err(format!("create branch {}", self.row.branch), path))?;
        tracing::info!(commit = %oid, branch = %self.row.branch, "baseline committed");
        Ok(oid)
    }

    /// An annotated tag: it records who took over and when, and `git
    /// describe` finds it without `--tags`.
    fn tag(&self, repo: &Repository, commit: Oid) -> Result<(), TakeoverError> {
        let path = self.path();
        let tag_ref = format!("refs/tags/{}", self.row.tag);
        if let Ok(existing) = repo.find_reference(&tag_ref) {
            let target = existing.peel_to_commit().map(|c| c.id()).ok();
            if target != Some(commit) {
                return Err(TakeoverError::TagTaken {
                    tag: self.row.tag.clone(),
                    repo: path.to_path_buf(),
                    commit: short(commit),
                });
            }
            return Ok(());
        }
        let (_, tagger) = self.identity.signatures(self.started_unix(), path)?;
        let object = repo
            .find_object(commit, Some(ObjectType::Commit))
            .map_err(git_err("read the baseline commit", path))?;
        let message = format!(
            "takeover of {}: import {}\n",
            self.plan.name, self.plan.source_display
        );
        repo.tag(&self.row.tag, &object, &tagger, &message, false)
            .map_err(git_err(format!("create tag {}", self.row.tag), path))?;
        Ok(())
    }

    /// Puts the work tree on the branch. A run killed halfway through a
    /// checkout leaves files of the baseline in the work tree; those are
    /// recognised by content and overwritten, anything else stops the run.
    fn check_out(
        &self,
        repo: &Repository,
        commit: Oid,
        built: &Built,
    ) -> Result<(), TakeoverError> {
        let path = self.path();
        let branch_ref = format!("refs/heads/{}", self.row.branch);
        let commit = repo
            .find_commit(commit)
            .map_err(git_err("read the baseline commit", path))?;
        let tree = commit
            .tree()
            .map_err(git_err("read the baseline tree", path))?;
        if self.plan.in_place {
            // The work tree is the source: its files are there already,
            // only handoff.json is new.
            let mut index = repo.index().map_err(git_err("open the index", path))?;
            index
                .read_tree(&tree)
                .map_err(git_err("fill the index", path))?;
            index.write().map_err(git_err("write the index", path))?;
            repo.set_head(&branch_ref)
                .map_err(git_err(format!("check out {}", self.row.branch), path))?;
            let mut options = CheckoutBuilder::new();
            options.force().disable_filters(true).path(HANDOFF_FILE);
            repo.checkout_head(Some(&mut options))
                .map_err(git_err("write handoff.json", path))?;
            return self.exclude_secrets(repo, built);
        }
        // Every difference between the work tree and the commit the branch
        // starts from must be one this takeover wrote; then a forced
        // checkout overwrites nothing of the user's.
        let touched = self.touched_since_base(repo)?;
        let workdir = repo.workdir().unwrap_or(path);
        let foreign: Vec<(String, String)> = touched
            .into_iter()
            .filter(|(_, p)| !matches_tree(repo, workdir, &tree, p))
            .collect();
        if !foreign.is_empty() {
            return Err(TakeoverError::WorkTreeChanged {
                repo: path.to_path_buf(),
                sample: sample(&foreign),
            });
        }
        let mut options = CheckoutBuilder::new();
        // Write exactly the bytes taken over; never clobber an ignored
        // file (a real .env) with one from the export.
        options
            .force()
            .disable_filters(true)
            .overwrite_ignored(false);
        repo.checkout_tree(tree.as_object(), Some(&mut options))
            .map_err(|e| TakeoverError::CheckoutBlocked {
                branch: self.row.branch.clone(),
                repo: path.to_path_buf(),
                what: "files that are not committed",
                message: e.message().to_string(),
            })?;
        repo.set_head(&branch_ref)
            .map_err(git_err(format!("check out {}", self.row.branch), path))?;
        tracing::info!(branch = %self.row.branch, "checked out");
        Ok(())
    }

    /// The work-tree paths that differ from the base commit (or that exist
    /// at all, in a repository that had none), as (code, path).
    fn touched_since_base(
        &self,
        repo: &Repository,
    ) -> Result<Vec<(String, String)>, TakeoverError> {
        let path = self.path();
        let base = match &self.row.base_commit {
            Some(base) => {
                let oid = Oid::from_str(base).map_err(git_err("read the base commit", path))?;
                let commit = repo
                    .find_commit(oid)
                    .map_err(git_err(format!("find commit {base}"), path))?;
                Some(commit.tree().map_err(git_err("read the base tree", path))?)
            }
            None => None,
        };
        let mut options = DiffOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_typechange(true);
        let diff = repo
            .diff_tree_to_workdir(base.as_ref(), Some(&mut options))
            .map_err(git_err("compare the work tree", path))?;
        Ok(diff
            .deltas()
            .filter_map(|d| {
                let file = d.new_file().path().or_else(|| d.old_file().path())?;
                let code = match d.status() {
                    Delta::Untracked | Delta::Added => "??",
                    Delta::Deleted => " D",
                    Delta::Typechange => " T",
                    _ => " M",
                };
                Some((code.to_string(), file.to_string_lossy().into_owned()))
            })
            .collect())
    }

    /// In a folder taken over where it is, the secrets the scan kept out
    /// are still on disk: keep a later `git add -A` from committing them.
    fn exclude_secrets(&self, repo: &Repository, built: &Built) -> Result<(), TakeoverError> {
        let secrets: Vec<&str> = built
            .skipped
            .iter()
            .filter(|s| s.reason == "secret")
            .map(|s| s.path.as_str())
            .collect();
        if secrets.is_empty() {
            return Ok(());
        }
        let file = repo.path().join("info").join("exclude");
        let io = |e| TakeoverError::Io {
            path: file.clone(),
            source: e,
        };
        let mut text = std::fs::read_to_string(&file).unwrap_or_default();
        let mut added = false;
        for secret in secrets {
            // Anchored and escaped so the pattern names that one file.
            let pattern = format!("/{}", glob_escape(secret));
            if !text.lines().any(|l| l == pattern) {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                if !added {
                    text.push_str("# files kollega's secret scan kept out of the takeover\n");
                    added = true;
                }
                text.push_str(&pattern);
                text.push('\n');
            }
        }
        if added {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            std::fs::write(&file, text).map_err(io)?;
        }
        Ok(())
    }

    /// One transaction: the workspace becomes (or is created as) a git
    /// workspace and the takeover is done.
    fn record(self, built: &Built, commit: Oid) -> Result<TakeoverReport, TakeoverError> {
        let repo_str = self.plan.repo_str();
        let git = GitWorkspace {
            name: &self.plan.name,
            source: &self.plan.source_display,
            repo_path: &repo_str,
            fingerprint: &built.fingerprint,
            taken_over_at: &self.row.started_at,
            files_count: built.files_count,
            bytes: built.bytes,
            ignored: built.ignored,
        };
        let tx = self
            .store
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let id = match store::workspaces::find(&tx, &self.plan.name)? {
            Some(ws) => {
                store::workspaces::make_git_workspace(&tx, ws.id, &git)?;
                ws.id
            }
            None => {
                let count = store::workspaces::count(&tx)?;
                if count >= self.config.limits.max_workspaces {
                    return Err(ImportError::TooManyWorkspaces {
                        count,
                        limit: self.config.limits.max_workspaces,
                    }
                    .into());
                }
                store::workspaces::insert_git_workspace(&tx, &git)?
            }
        };
        store::workspaces::clear_skipped(&tx, id)?;
        for entry in &built.skipped {
            store::workspaces::insert_skipped(&tx, id, entry)?;
        }
        store::audit::record(
            &tx,
            "takeover",
            Some(&self.plan.name),
            &serde_json::json!({
                "source": self.plan.source_display,
                "repo": repo_str,
                "branch": self.row.branch,
                "tag": self.row.tag,
                "commit": commit.to_string(),
                "files": built.files_count,
                "bytes": built.bytes,
                "skipped": built.skipped.len(),
                "promoted": matches!(self.plan.origin, Origin::Workspace(_)),
            }),
        )?;
        store::takeovers::advance(&tx, self.row.id, TakeoverState::Done.as_str(), None, None)?;
        tx.commit()?;
        tracing::info!(
            files = built.files_count,
            bytes = built.bytes,
            commit = %commit,
            "taken over into git"
        );
        Ok(TakeoverReport {
            workspace: self.plan.name.clone(),
            storage_type: StorageType::Git,
            repo_path: repo_str,
            branch: self.row.branch.clone(),
            tag: self.row.tag.clone(),
            commit: commit.to_string(),
            files_count: built.files_count,
            bytes: built.bytes,
            taken_over_at: self.row.started_at.clone(),
            source: self.plan.source_display.clone(),
            skipped: built.skipped.clone(),
            ignored: built.ignored,
            remote: None,
            pushed: false,
            push_error: None,
            github: None,
            status: TakeoverStatus::TakenOver,
            remote_failure: None,
        })
    }
}

/// Whether the work-tree file at `path` is what `tree` holds there (both
/// absent counts), or the start of it that an interrupted checkout wrote.
fn matches_tree(repo: &Repository, workdir: &Path, tree: &git2::Tree<'_>, path: &str) -> bool {
    let on_disk = workdir.join(path);
    match tree.get_path(Path::new(path)) {
        Ok(entry) => {
            if !std::fs::symlink_metadata(&on_disk).is_ok_and(|m| m.is_file()) {
                return false;
            }
            if Oid::hash_file(ObjectType::Blob, &on_disk).is_ok_and(|id| id == entry.id()) {
                return true;
            }
            // A checkout killed while writing this file leaves the start
            // of it: a prefix of the blob is this takeover's own half-work.
            let blob = entry.to_object(repo).ok().and_then(|o| o.into_blob().ok());
            match (blob, std::fs::read(&on_disk)) {
                (Some(blob), Ok(bytes)) => blob.content().starts_with(&bytes),
                _ => false,
            }
        }
        Err(_) => std::fs::symlink_metadata(&on_disk).is_err(),
    }
}

fn glob_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | '\\' | '!' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A path source taken over before into the same repository: when nothing
/// changed, the report of that takeover (and no new commit); else `None`,
/// and a new baseline is made on a new branch.
fn already_taken_over(
    store: &Store,
    config: &Config,
    request: &TakeoverRequest,
    plan: &Plan,
    existing: &Workspace,
) -> Result<Option<TakeoverReport>, TakeoverError> {
    let Some(last) = store::takeovers::last_finished(&store.conn, &plan.name)? else {
        if let Origin::Workspace(_) = &plan.origin {
            // Git by other means than a takeover: there is nothing to promote.
            return Err(TakeoverError::WorkspaceExists {
                name: plan.name.clone(),
                why: format!("as a git workspace in {}", plan.repo_path.display()),
            });
        }
        return Ok(None);
    };
    if let Origin::Path(_) = &plan.origin {
        let mut fingerprint = Fingerprint::default();
        walk_items(
            &store.conn,
            config,
            &plan.origin,
            request.respect_gitignore,
            &mut |item| {
                match item {
                    Item::File { path, hash, .. } => fingerprint.file(&path, &hash),
                    Item::Skipped(entry) => fingerprint.skipped(&entry.path, &entry.reason),
                    Item::Ignored => {}
                }
                Ok(())
            },
        )?;
        if fingerprint.finish() != existing.fingerprint {
            return Ok(None);
        }
    }
    tracing::info!(branch = %last.branch, "already taken over");
    Ok(Some(TakeoverReport {
        workspace: existing.name.clone(),
        storage_type: StorageType::Git,
        repo_path: plan.repo_str(),
        branch: last.branch,
        tag: last.tag,
        commit: last.commit_id.unwrap_or_default(),
        files_count: existing.files_count,
        bytes: existing.bytes,
        taken_over_at: existing.taken_over_at.clone(),
        source: existing.source.clone(),
        skipped: store::workspaces::skipped(&store.conn, existing.id)?,
        ignored: existing.ignored,
        remote: None,
        pushed: false,
        push_error: None,
        github: None,
        status: TakeoverStatus::AlreadyTakenOver,
        remote_failure: None,
    }))
}

/// The network steps, after the local result is complete: origin, GitHub,
/// push. A failure is written into the report; the local result stands.
fn finish_remote(
    store: &mut Store,
    outside: &Outside,
    plan: &Plan,
    mut report: TakeoverReport,
) -> TakeoverReport {
    let row = store::takeovers::last_finished(&store.conn, &plan.name)
        .ok()
        .flatten();
    if let Err(e) = remote_steps(store, outside, plan, &mut report, row.as_ref()) {
        tracing::warn!(error = %e, "network step failed; the local takeover stands");
        if plan.push {
            report.push_error = Some(e.to_string());
        }
        report.remote_failure = Some(e);
    }
    report.remote = origin_url(&plan.repo_path).map(|url| redact(&url));
    report
}

fn origin_url(path: &Path) -> Option<String> {
    let repo = open_repo(path).ok().flatten()?;
    let origin = repo.find_remote("origin").ok()?;
    origin.url().ok().map(str::to_string)
}

fn remote_steps(
    store: &mut Store,
    outside: &Outside,
    plan: &Plan,
    report: &mut TakeoverReport,
    row: Option<&TakeoverRow>,
) -> Result<(), TakeoverError> {
    let path = plan.repo_path.as_path();
    if let Some(url) = &plan.remote {
        set_origin(path, url)?;
        if let Some(row) = row {
            store::takeovers::set_remote(&store.conn, row.id, Some(&redact(url)), None)?;
        }
    }
    let mut github_push = None;
    if let Some((name, api)) = &plan.github {
        let full = name.full();
        let mut outcome = GithubOutcome {
            repository: full.clone(),
            created: false,
            url: None,
            error: None,
        };
        // An earlier run created it and set origin: push there again.
        let recorded = row
            .filter(|r| r.github_repo.as_deref() == Some(full.as_str()))
            .and_then(|r| r.remote_url.clone())
            .and_then(|recorded| origin_url(path).filter(|url| redact(url) == recorded));
        let url = match recorded {
            Some(url) => url,
            None => {
                let description = format!("Taken over with kollega: {}", plan.name);
                let created = match api.create_private_repo(name, &description) {
                    Ok(created) => created,
                    Err(e) => {
                        outcome.error = Some(e.to_string());
                        report.github = Some(outcome);
                        return Err(e.into());
                    }
                };
                outcome.created = true;
                outcome.url = Some(created.html_url.clone());
                // https first: the token works there, SSH keys may not.
                let url = if created.clone_url.is_empty() {
                    created.ssh_url
                } else {
                    created.clone_url
                };
                report.github = Some(outcome.clone());
                set_origin(path, &url)?;
                if let Some(row) = row {
                    store::takeovers::set_remote(
                        &store.conn,
                        row.id,
                        Some(&redact(&url)),
                        Some(&full),
                    )?;
                }
                url
            }
        };
        report.github = Some(outcome);
        github_push = Some((url, api));
    }
    if plan.push {
        push(outside, path, &report.branch, &report.tag, github_push)?;
        report.pushed = true;
    }
    Ok(())
}

/// `url` without the user and password it may carry
/// (`https://user:secret@host/…` → `https://***@host/…`), for reports,
/// logs and the store.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    match rest[..host_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

fn set_origin(path: &Path, url: &str) -> Result<(), TakeoverError> {
    let repo = Repository::open(path).map_err(git_err("open the repository", path))?;
    let result = if repo.find_remote("origin").is_ok() {
        repo.remote_set_url("origin", url)
    } else {
        repo.remote("origin", url).map(|_| ())
    };
    result.map_err(git_err(format!("set origin to {}", redact(url)), path))?;
    tracing::info!(url = %redact(url), "origin set");
    Ok(())
}

/// `git push origin <branch> <tag>` with the output captured. For a GitHub
/// https remote the token reaches git through a credential helper's
/// environment, never its arguments.
fn push(
    outside: &Outside,
    path: &Path,
    branch: &str,
    tag: &str,
    github: Option<(String, &GithubApi)>,
) -> Result<(), TakeoverError> {
    let mut cmd = outside.git(path);
    let mut token: Option<&str> = None;
    if let Some((url, api)) = &github
        && let Some(host) = api.web_host()
        && url.starts_with(&format!("https://{host}/"))
    {
        cmd.arg("-c")
            .arg(format!("credential.https://{host}.helper="));
        cmd.arg("-c").arg(format!(
            "credential.https://{host}.helper=!f() {{ test \"$1\" = get && echo username=x-access-token && echo \"password=$KOLLEGA_GIT_TOKEN\"; }}; f"
        ));
        cmd.env("KOLLEGA_GIT_TOKEN", api.token_for_git());
        token = Some(api.token_for_git());
    }
    cmd.args([
        "push",
        "origin",
        &format!("refs/heads/{branch}:refs/heads/{branch}"),
        &format!("refs/tags/{tag}:refs/tags/{tag}"),
    ]);
    let output = cmd.output().map_err(|e| TakeoverError::GitCli {
        message: e.to_string(),
    })?;
    if output.status.success() {
        tracing::info!(%branch, %tag, "pushed");
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    if let Some(token) = token {
        text = text.replace(token, "***");
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(6)..].join(" | ");
    let remote = Repository::open(path)
        .ok()
        .and_then(|r| {
            r.find_remote("origin")
                .ok()
                .and_then(|o| o.url().ok().map(str::to_string))
        })
        .map(|url| redact(&url))
        .unwrap_or_else(|| "origin".into());
    Err(TakeoverError::Push {
        remote,
        repo: path.to_path_buf(),
        branch: branch.to_string(),
        tag: tag.to_string(),
        output: if tail.is_empty() {
            format!("git exited with {}", output.status)
        } else {
            tail
        },
    })
}

#[cfg(test)]
mod tests {
    //! Real repositories in temporary folders, inspected with the `git`
    //! program under a private HOME (no user or system configuration); a
    //! local HTTP server stands in for GitHub and a bare repository for the
    //! remote.

    use std::io::Write;
    use std::process::Command;

    use super::super::github::fake::FakeGithub;
    use super::*;
    use crate::store::drafts::{self, Draft};
    use crate::workspace::import::{ImportOptions, import};

    const SECRET_KEY: &str = "sk-proj-4f9aB2c7D1e0F3a9b8C7d6E5";
    const SECRET_ENV: &str = "DATABASE_URL=postgres://app:hunter2@db:5432/app";
    const TOKEN: &str = "ghp_T0KENt0kenT0KENt0kenT0KENt0ken1234";

    /// One kollega with its store, a private HOME with a git identity, and
    /// room for sources and repositories.
    struct Env {
        root: tempfile::TempDir,
        config: Config,
        store: Store,
        outside: Outside,
    }

    impl Env {
        fn new() -> Env {
            let root = tempfile::tempdir().unwrap();
            let home = root.path().join("home");
            std::fs::create_dir_all(&home).unwrap();
            std::fs::write(
                home.join(".gitconfig"),
                "[user]\n\tname = Tess Taker\n\temail = tess@example.com\n",
            )
            .unwrap();
            let config = Config::load(Some(root.path().join("data"))).unwrap();
            let store = Store::open(&config.data_dir).unwrap();
            Env {
                outside: Outside {
                    vars: HashMap::new(),
                    sandbox_home: Some(home),
                },
                root,
                config,
                store,
            }
        }

        fn path(&self, name: &str) -> PathBuf {
            self.root.path().join(name)
        }

        fn home(&self) -> PathBuf {
            self.path("home")
        }

        /// The exported app every test takes over: text files, a secret in
        /// code, a real `.env`, a binary, an ignored folder.
        fn app(&self) -> PathBuf {
            let src = self.path("app");
            write_files(
                &src,
                &[
                    ("README.md", "# Shop\n"),
                    ("app/page.tsx", "export default function Page() {}\n"),
                    ("lib/utils.ts", "export const cn = () => '';\n"),
                    ("lib/ai.ts", &format!("const key = \"{SECRET_KEY}\";\n")),
                    (".env", &format!("{SECRET_ENV}\n")),
                    (".env.example", "OPENAI_API_KEY=your-key-here\n"),
                    ("node_modules/react/index.js", "module.exports = {};\n"),
                ],
            );
            std::fs::write(src.join("logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0").unwrap();
            src
        }

        fn request(&self, source: &Path, repo: &Path) -> TakeoverRequest {
            TakeoverRequest {
                source: source.to_string_lossy().into_owned(),
                repo: repo.to_path_buf(),
                ..TakeoverRequest::default()
            }
        }

        fn run(&mut self, request: &TakeoverRequest) -> Result<TakeoverReport, TakeoverError> {
            run(
                &mut self.store,
                &self.config,
                request,
                &self.outside,
                Stop::default(),
            )
        }

        fn run_until(&mut self, request: &TakeoverRequest, step: Step) {
            let stopped = run(
                &mut self.store,
                &self.config,
                request,
                &self.outside,
                Stop { after: Some(step) },
            );
            assert!(
                matches!(stopped, Err(TakeoverError::Interrupted(s)) if s == step),
                "{step:?}: {stopped:?}"
            );
        }

        fn git(&self, dir: &Path, args: &[&str]) -> String {
            let out = self.git_cmd(dir, args).output().unwrap();
            assert!(
                out.status.success(),
                "git {args:?} in {}: {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        }

        fn git_cmd(&self, dir: &Path, args: &[&str]) -> Command {
            let mut cmd = Command::new("git");
            cmd.arg("-C")
                .arg(dir)
                .args(args)
                .env("HOME", self.home())
                .env("XDG_CONFIG_HOME", self.home().join(".config"))
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("LC_ALL", "C");
            for key in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
                cmd.env_remove(key);
            }
            cmd
        }

        /// A repository with one commit on `main`.
        fn repo_with_history(&self, name: &str) -> PathBuf {
            let repo = self.path(name);
            std::fs::create_dir_all(&repo).unwrap();
            self.git(&repo, &["init", "-q", "-b", "main"]);
            write_files(
                &repo,
                &[("old.txt", "from before\n"), ("README.md", "# Old\n")],
            );
            self.git(&repo, &["add", "-A"]);
            self.git(&repo, &["commit", "-q", "-m", "first"]);
            repo
        }

        fn bare(&self, name: &str) -> PathBuf {
            let bare = self.path(name);
            std::fs::create_dir_all(&bare).unwrap();
            self.git(&bare, &["init", "-q", "--bare"]);
            bare
        }

        fn baselines(&self, repo: &Path) -> Vec<String> {
            self.git(
                repo,
                &["log", "--all", "--format=%H", "--grep=^takeover: import "],
            )
            .lines()
            .map(str::to_string)
            .collect()
        }

        /// Every baseline commit object in the repository, reachable or not.
        fn commit_objects(&self, repo: &Path) -> Vec<String> {
            if !repo.join(".git").exists() {
                return Vec::new();
            }
            let listing = self.git(
                repo,
                &[
                    "cat-file",
                    "--batch-all-objects",
                    "--batch-check=%(objecttype) %(objectname)",
                ],
            );
            listing
                .lines()
                .filter_map(|l| l.strip_prefix("commit "))
                .filter(|id| {
                    self.git(repo, &["log", "-1", "--format=%s", id])
                        .starts_with("takeover: import ")
                })
                .map(str::to_string)
                .collect()
        }

        fn rows(&self, sql: &str) -> i64 {
            self.store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
        }

        /// Every byte of every object in the repository, loose or packed.
        fn all_objects(&self, repo: &Path) -> Vec<u8> {
            self.git_cmd(
                repo,
                &["cat-file", "--batch-all-objects", "--batch", "--unordered"],
            )
            .output()
            .unwrap()
            .stdout
        }

        fn data_bytes(&self) -> Vec<u8> {
            let mut all = Vec::new();
            for entry in walkdir::WalkDir::new(&self.config.data_dir) {
                let entry = entry.unwrap();
                if entry.file_type().is_file() {
                    all.extend(std::fs::read(entry.path()).unwrap());
                }
            }
            all
        }
    }

    fn write_files(root: &Path, files: &[(&str, &str)]) {
        for (path, content) in files {
            let target = root.join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, content).unwrap();
        }
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }

    fn stamp_in(branch: &str) -> &str {
        branch.rsplit('/').next().unwrap()
    }

    #[test]
    fn folder_takeover_makes_one_commit_with_every_file_and_handoff() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.path("repo");
        let report = env.run(&env.request(&src, &repo)).unwrap();

        let stamp = stamp_in(&report.branch).to_string();
        assert_eq!(report.branch, format!("takeover/app/{stamp}"));
        assert_eq!(report.tag, format!("import-{stamp}"));
        assert!(
            stamp.len() == 15
                && stamp.as_bytes()[8] == b'-'
                && stamp.chars().filter(char::is_ascii_digit).count() == 14,
            "{stamp}"
        );
        assert_eq!(report.status, TakeoverStatus::TakenOver);
        assert_eq!(report.files_count, 4);
        let reasons: Vec<(&str, &str)> = report
            .skipped
            .iter()
            .map(|s| (s.path.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (".env", "secret"),
                ("lib/ai.ts", "secret"),
                ("logo.png", "binary")
            ]
        );
        assert_eq!(report.ignored, 1);

        let log = env.git(&repo, &["log", "--all", "--format=%s"]);
        let source = src.canonicalize().unwrap().display().to_string();
        assert_eq!(log, format!("takeover: import {source}\n"));
        let files = env.git(&repo, &["show", "--format=", "--name-only", "HEAD"]);
        assert_eq!(
            files.lines().collect::<Vec<_>>(),
            vec![
                ".env.example",
                "README.md",
                "app/page.tsx",
                "handoff.json",
                "lib/utils.ts"
            ]
        );
        assert_eq!(
            env.git(&repo, &["rev-parse", "--abbrev-ref", "HEAD"])
                .trim(),
            report.branch
        );
        assert_eq!(
            env.git(&repo, &["rev-parse", &format!("{}^{{commit}}", report.tag)])
                .trim(),
            report.commit
        );
        assert_eq!(
            env.git(&repo, &["cat-file", "-t", &report.tag]).trim(),
            "tag",
            "the tag is annotated"
        );
        assert_eq!(env.git(&repo, &["status", "--porcelain"]), "");
        assert_eq!(
            std::fs::read_to_string(repo.join("app/page.tsx")).unwrap(),
            "export default function Page() {}\n"
        );

        let handoff = env.git(&repo, &["cat-file", "-p", "HEAD:handoff.json"]);
        let keys: Vec<usize> = [
            "\"workspace\"",
            "\"source\"",
            "\"takenOverAt\"",
            "\"branch\"",
            "\"tag\"",
            "\"filesCount\"",
            "\"bytes\"",
            "\"skipped\"",
        ]
        .iter()
        .map(|k| {
            handoff
                .find(k)
                .unwrap_or_else(|| panic!("{k} in {handoff}"))
        })
        .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "key order: {handoff}");
        let handoff: serde_json::Value = serde_json::from_str(&handoff).unwrap();
        assert_eq!(
            handoff,
            serde_json::json!({
                "workspace": "app",
                "source": source,
                "takenOverAt": report.taken_over_at,
                "branch": report.branch,
                "tag": report.tag,
                "filesCount": 4,
                "bytes": report.bytes,
                "skipped": [
                    {"path": ".env", "reason": "secret"},
                    {"path": "lib/ai.ts", "reason": "secret"},
                    {"path": "logo.png", "reason": "binary"},
                ],
            })
        );

        let ws = store::workspaces::find(&env.store.conn, "app")
            .unwrap()
            .unwrap();
        assert_eq!(ws.storage_type, StorageType::Git);
        assert_eq!(
            ws.repo_path.as_deref(),
            Some(repo.canonicalize().unwrap().to_str().unwrap())
        );
        assert_eq!((ws.files_count, ws.bytes), (4, report.bytes));
        assert_eq!(env.rows("SELECT COUNT(*) FROM files"), 0);
        assert_eq!(
            env.rows("SELECT COUNT(*) FROM skipped_entries WHERE reason = 'secret'"),
            2
        );

        let json = serde_json::to_value(&report).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "workspace",
            "storageType",
            "repoPath",
            "branch",
            "tag",
            "commit",
            "filesCount",
            "bytes",
            "takenOverAt",
            "source",
            "skipped",
            "ignored",
            "remote",
            "pushed",
            "github",
        ] {
            assert!(keys.contains(&key), "{key} missing from {json}");
        }
        assert_eq!(json["storageType"], "git");
        assert_eq!(json["pushed"], false);
        assert_eq!(json["remote"], serde_json::Value::Null);
    }

    #[test]
    fn zip_takeover_commits_what_the_folder_would() {
        let mut env = Env::new();
        let zip_path = env.path("shop.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in [
            ("index.html", "<h1>hi</h1>\n".to_string()),
            ("src/app.js", "console.log(1);\n".to_string()),
            (
                "src/keys.js",
                format!("export const k = \"{SECRET_KEY}\";\n"),
            ),
            ("node_modules/x/index.js", "1\n".to_string()),
        ] {
            zip.start_file(name, options).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        let repo = env.path("repo");
        let report = env.run(&env.request(&zip_path, &repo)).unwrap();
        assert_eq!(report.workspace, "shop");
        assert!(report.branch.starts_with("takeover/shop/"));
        assert_eq!(report.files_count, 2);
        assert_eq!(env.baselines(&repo).len(), 1);
        let files = env.git(&repo, &["ls-tree", "-r", "--name-only", "HEAD"]);
        assert_eq!(files, "handoff.json\nindex.html\nsrc/app.js\n");
        assert!(!contains(&env.all_objects(&repo), SECRET_KEY));
    }

    #[test]
    fn secrets_never_reach_any_object_of_the_repository() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.path("repo");
        env.run(&env.request(&src, &repo)).unwrap();
        let log = env.git(&repo, &["log", "-p", "--all"]);
        assert!(log.contains("export const cn"), "the log shows content");
        for secret in [SECRET_KEY, SECRET_ENV, "hunter2"] {
            assert!(!log.contains(secret), "{secret} in git log -p --all");
            assert!(
                !contains(&env.all_objects(&repo), secret),
                "{secret} in an object"
            );
            assert!(!repo.join(".env").exists() && !repo.join("lib/ai.ts").exists());
        }
    }

    #[test]
    fn dirty_repository_is_refused_and_left_as_it_was() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.repo_with_history("repo");
        std::fs::write(repo.join("old.txt"), "edited\n").unwrap();
        std::fs::write(repo.join("notes.txt"), "mine\n").unwrap();
        let refs_before = env.git(&repo, &["show-ref"]);
        let status_before = env.git(&repo, &["status", "--porcelain"]);

        let err = env.run(&env.request(&src, &repo)).unwrap_err();
        assert!(
            matches!(err, TakeoverError::Dirty { count: 2, .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains(" M old.txt") && text.contains("?? notes.txt"),
            "{text}"
        );
        assert!(err.hint().contains("stash"), "{}", err.hint());
        assert_eq!(env.git(&repo, &["show-ref"]), refs_before);
        assert_eq!(env.git(&repo, &["status", "--porcelain"]), status_before);
        assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 0);
        assert_eq!(env.rows("SELECT COUNT(*) FROM workspaces"), 0);
    }

    #[test]
    fn clean_repository_gets_a_branch_from_its_head() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.repo_with_history("repo");
        let main = env.git(&repo, &["rev-parse", "main"]);
        let report = env.run(&env.request(&src, &repo)).unwrap();
        assert_eq!(
            env.git(&repo, &["rev-parse", &format!("{}^", report.branch)]),
            main,
            "the branch starts at main"
        );
        assert_eq!(env.git(&repo, &["rev-parse", "main"]), main, "main stays");
        // The baseline is the export: what it does not have is gone from
        // the branch (and still in main's history).
        assert!(!repo.join("old.txt").exists());
        assert_eq!(
            std::fs::read_to_string(repo.join("README.md")).unwrap(),
            "# Shop\n"
        );
        assert_eq!(env.git(&repo, &["status", "--porcelain"]), "");
    }

    #[test]
    fn bad_repositories_are_refused_before_anything_is_written() {
        let mut env = Env::new();
        let src = env.app();

        let bare = env.bare("bare.git");
        let err = env.run(&env.request(&src, &bare)).unwrap_err();
        assert!(matches!(err, TakeoverError::Bare { .. }), "{err:?}");

        let merging = env.repo_with_history("merging");
        env.git(&merging, &["switch", "-q", "-c", "side"]);
        std::fs::write(merging.join("old.txt"), "side\n").unwrap();
        env.git(&merging, &["commit", "-q", "-am", "side"]);
        env.git(&merging, &["switch", "-q", "main"]);
        std::fs::write(merging.join("old.txt"), "main\n").unwrap();
        env.git(&merging, &["commit", "-q", "-am", "main"]);
        let _ = env.git_cmd(&merging, &["merge", "side"]).output().unwrap();
        let err = env.run(&env.request(&src, &merging)).unwrap_err();
        assert!(err.to_string().contains("a merge in progress"), "{err}");

        let detached = env.repo_with_history("detached");
        env.git(&detached, &["switch", "-q", "--detach", "HEAD"]);
        let err = env.run(&env.request(&src, &detached)).unwrap_err();
        assert!(matches!(err, TakeoverError::Detached { .. }), "{err:?}");

        let locked = env.repo_with_history("locked");
        std::fs::write(locked.join(".git/index.lock"), "").unwrap();
        let err = env.run(&env.request(&src, &locked)).unwrap_err();
        assert!(matches!(err, TakeoverError::Locked { .. }), "{err:?}");

        let plain = env.path("plain");
        write_files(&plain, &[("mine.txt", "x\n")]);
        let err = env.run(&env.request(&src, &plain)).unwrap_err();
        assert!(
            matches!(err, TakeoverError::NotARepository { .. }),
            "{err:?}"
        );

        let inside = src.join("repo");
        let err = env.run(&env.request(&src, &inside)).unwrap_err();
        assert!(matches!(err, TakeoverError::Overlap { .. }), "{err:?}");

        assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 0);
        assert_eq!(env.rows("SELECT COUNT(*) FROM workspaces"), 0);
        assert!(!inside.exists());
        assert_eq!(env.git(&detached, &["branch", "--list", "takeover/*"]), "");
    }

    #[test]
    fn missing_identity_is_refused_before_the_repository_exists() {
        let mut env = Env::new();
        std::fs::remove_file(env.home().join(".gitconfig")).unwrap();
        let src = env.app();
        let repo = env.path("repo");
        let err = env.run(&env.request(&src, &repo)).unwrap_err();
        assert!(matches!(err, TakeoverError::NoIdentity { .. }), "{err:?}");
        assert!(err.hint().contains("user.email"), "{}", err.hint());
        assert!(!repo.exists());
        assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 0);

        // The variables git reads stand in for the configuration.
        env.outside
            .vars
            .insert("GIT_AUTHOR_NAME".into(), "Ada".into());
        env.outside
            .vars
            .insert("GIT_AUTHOR_EMAIL".into(), "ada@example.com".into());
        env.outside
            .vars
            .insert("GIT_COMMITTER_NAME".into(), "Bob".into());
        env.outside
            .vars
            .insert("GIT_COMMITTER_EMAIL".into(), "bob@example.com".into());
        env.run(&env.request(&src, &repo)).unwrap();
        assert_eq!(
            env.git(&repo, &["log", "-1", "--format=%an <%ae> / %cn <%ce>"]),
            "Ada <ada@example.com> / Bob <bob@example.com>\n"
        );
    }

    #[test]
    fn promotion_moves_a_sqlite_workspace_into_git_and_keeps_its_drafts() {
        let mut env = Env::new();
        let src = env.app();
        let imported = import(
            &mut env.store,
            &env.config,
            &src,
            &ImportOptions {
                name: Some("shop".into()),
                ..ImportOptions::default()
            },
            &mut (),
        )
        .unwrap();
        let draft = Draft {
            path: "README.md".into(),
            content: "# Shop, edited\n".into(),
            base_hash: None,
            updated_at: store::now_rfc3339(),
        };
        drafts::save_batch(&mut env.store.conn, "ws:shop", &[draft], &[]).unwrap();
        let before = env.rows("SELECT COUNT(*) FROM files");
        assert_eq!(before, 4);

        let repo = env.path("repo");
        let mut request = env.request(Path::new("shop"), &repo);
        request.source = "shop".into();
        let report = env.run(&request).unwrap();
        assert_eq!(report.workspace, "shop");
        assert_eq!(report.source, imported.source);
        assert_eq!(report.files_count, 4);
        assert_eq!(report.skipped.len(), imported.skipped.len());

        let ws = store::workspaces::find(&env.store.conn, "shop")
            .unwrap()
            .unwrap();
        assert_eq!(ws.storage_type, StorageType::Git);
        assert!(ws.repo_path.is_some());
        assert_eq!(env.rows("SELECT COUNT(*) FROM files"), 0);
        assert_eq!(drafts::list(&env.store.conn, "ws:shop").unwrap().len(), 1);
        assert_eq!(
            env.rows("SELECT COUNT(*) FROM workspace_locks"),
            0,
            "the lock is released"
        );
        let files = env.git(&repo, &["ls-tree", "-r", "--name-only", "HEAD"]);
        assert_eq!(
            files,
            ".env.example\nREADME.md\napp/page.tsx\nhandoff.json\nlib/utils.ts\n"
        );
        assert_eq!(
            env.git(&repo, &["log", "--format=%s"]),
            format!("takeover: import {}\n", imported.source)
        );

        // Run again: nothing more to do.
        let again = env.run(&request).unwrap();
        assert_eq!(again.status, TakeoverStatus::AlreadyTakenOver);
        assert_eq!(again.commit, report.commit);
        assert_eq!(env.baselines(&repo).len(), 1);
    }

    #[test]
    fn promotion_refuses_a_secret_typed_in_since_the_import() {
        let mut env = Env::new();
        let src = env.path("site");
        write_files(&src, &[("index.html", "<h1>hi</h1>\n")]);
        import(
            &mut env.store,
            &env.config,
            &src,
            &ImportOptions::default(),
            &mut (),
        )
        .unwrap();
        let ws = store::workspaces::find(&env.store.conn, "site")
            .unwrap()
            .unwrap();
        env.store
            .conn
            .execute(
                "UPDATE files SET content = ?2 WHERE workspace_id = ?1",
                rusqlite::params![ws.id, format!("<script>k='{SECRET_KEY}'</script>\n")],
            )
            .unwrap();
        let repo = env.path("repo");
        let mut request = env.request(&src, &repo);
        request.source = "site".into();
        let err = env.run(&request).unwrap_err();
        assert!(
            matches!(&err, TakeoverError::SecretInWorkspace { paths, .. } if paths == "index.html"),
            "{err:?}"
        );
        assert!(!repo.exists(), "the repository it created is gone again");
        assert_eq!(env.rows("SELECT COUNT(*) FROM files"), 1);
        assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 0);
        let ws = store::workspaces::find(&env.store.conn, "site")
            .unwrap()
            .unwrap();
        assert_eq!(ws.storage_type, StorageType::Sqlite);
    }

    const STEPS: [Step; 7] = [
        Step::Recorded,
        Step::Repository,
        Step::CommitObject,
        Step::Branch,
        Step::Tag,
        Step::CheckedOut,
        Step::Done,
    ];

    #[test]
    fn interrupted_at_each_step_and_run_again_makes_exactly_one_baseline() {
        for with_history in [false, true] {
            for step in STEPS {
                let mut env = Env::new();
                let src = env.app();
                let repo = if with_history {
                    env.repo_with_history("repo")
                } else {
                    env.path("repo")
                };
                let request = env.request(&src, &repo);
                env.run_until(&request, step);
                let written = env.commit_objects(&repo);
                let report = env.run(&request).unwrap();
                if step >= Step::CommitObject && step != Step::Done {
                    // The rerun found or rewrote the very same object.
                    assert_eq!(written, vec![report.commit.clone()], "{step:?}");
                }
                assert_eq!(
                    env.commit_objects(&repo),
                    vec![report.commit.clone()],
                    "{step:?}"
                );
                let expected = if step == Step::Done {
                    TakeoverStatus::AlreadyTakenOver
                } else {
                    TakeoverStatus::Resumed
                };
                assert_eq!(report.status, expected, "{step:?}");
                assert_eq!(
                    env.baselines(&repo),
                    vec![report.commit.clone()],
                    "{step:?}"
                );
                assert_eq!(
                    env.git(&repo, &["tag", "--list"]).trim(),
                    report.tag,
                    "{step:?}"
                );
                assert_eq!(
                    env.git(&repo, &["rev-parse", "--abbrev-ref", "HEAD"])
                        .trim(),
                    report.branch,
                    "{step:?}"
                );
                assert_eq!(env.git(&repo, &["status", "--porcelain"]), "", "{step:?}");
                assert_eq!(
                    env.rows("SELECT COUNT(*) FROM takeovers WHERE state = 'done'"),
                    1,
                    "{step:?}"
                );
                assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 1, "{step:?}");
                assert_eq!(env.rows("SELECT COUNT(*) FROM workspaces"), 1, "{step:?}");
                // And once more: nothing new.
                let again = env.run(&request).unwrap();
                assert_eq!(again.status, TakeoverStatus::AlreadyTakenOver);
                assert_eq!(env.baselines(&repo).len(), 1, "{step:?}");
            }
        }
    }

    #[test]
    fn half_done_checkout_is_finished_on_the_next_run() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.repo_with_history("repo");
        let request = env.request(&src, &repo);
        env.run_until(&request, Step::Tag);
        // What a checkout killed halfway leaves: some new files written,
        // an old one removed.
        std::fs::write(repo.join("README.md"), "# Shop\n").unwrap();
        write_files(
            &repo,
            &[("app/page.tsx", "export default function Page() {}\n")],
        );
        std::fs::remove_file(repo.join("old.txt")).unwrap();
        let report = env.run(&request).unwrap();
        assert_eq!(report.status, TakeoverStatus::Resumed);
        assert_eq!(env.git(&repo, &["status", "--porcelain"]), "");
        assert_eq!(env.baselines(&repo).len(), 1);
    }

    #[test]
    fn changes_of_the_users_after_an_interruption_stop_the_checkout() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.repo_with_history("repo");
        let request = env.request(&src, &repo);
        env.run_until(&request, Step::Tag);
        std::fs::write(repo.join("old.txt"), "my own edit\n").unwrap();
        let err = env.run(&request).unwrap_err();
        assert!(
            matches!(&err, TakeoverError::WorkTreeChanged { sample, .. } if sample.contains("old.txt")),
            "{err:?}"
        );
        assert_eq!(
            std::fs::read_to_string(repo.join("old.txt")).unwrap(),
            "my own edit\n"
        );
        // Put right, the run finishes.
        std::fs::write(repo.join("old.txt"), "from before\n").unwrap();
        env.run(&request).unwrap();
        assert_eq!(env.baselines(&repo).len(), 1);
    }

    #[test]
    fn source_changed_after_the_commit_is_reported_not_committed_again() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.path("repo");
        let request = env.request(&src, &repo);
        env.run_until(&request, Step::Branch);
        std::fs::write(src.join("README.md"), "# Changed\n").unwrap();
        let err = env.run(&request).unwrap_err();
        assert!(
            matches!(err, TakeoverError::SourceChanged { .. }),
            "{err:?}"
        );
        assert!(err.hint().contains("branch -D"), "{}", err.hint());
        assert_eq!(env.baselines(&repo).len(), 1);
    }

    #[test]
    fn interrupted_takeover_into_another_repository_blocks_a_new_one() {
        let mut env = Env::new();
        let src = env.app();
        let first = env.path("first");
        env.run_until(&env.request(&src, &first), Step::Branch);
        let err = env
            .run(&env.request(&src, &env.path("second")))
            .unwrap_err();
        assert!(
            matches!(&err, TakeoverError::Unfinished { traces, .. } if traces.starts_with("branch takeover/app/")),
            "{err:?}"
        );
        // One that never reached its repository is simply forgotten.
        let mut env = Env::new();
        let src = env.app();
        env.run_until(&env.request(&src, &env.path("first")), Step::Recorded);
        let second = env.path("second");
        env.run(&env.request(&src, &second)).unwrap();
        assert_eq!(env.baselines(&second).len(), 1);
        assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 1);
    }

    #[test]
    fn folder_taken_over_in_place_keeps_its_secrets_out_of_git() {
        let mut env = Env::new();
        let src = env.app();
        std::fs::remove_file(src.join("logo.png")).unwrap();
        let report = env.run(&env.request(&src, &src)).unwrap();
        assert_eq!(report.files_count, 4);
        assert_eq!(
            std::fs::read_to_string(src.join(".env")).unwrap(),
            format!("{SECRET_ENV}\n"),
            "the user's .env stays on disk"
        );
        // node_modules is untracked; the secrets are excluded from git.
        assert_eq!(
            env.git(&src, &["status", "--porcelain"]),
            "?? node_modules/\n"
        );
        env.git(&src, &["add", "-A"]);
        let staged = env.git(&src, &["diff", "--cached", "--name-only"]);
        assert!(
            !staged.contains(".env\n") && !staged.contains("lib/ai.ts"),
            "{staged}"
        );
        assert!(!contains(&env.all_objects(&src), SECRET_KEY));
    }

    #[test]
    fn existing_repository_folder_is_not_taken_over_in_place() {
        let mut env = Env::new();
        let repo = env.repo_with_history("repo");
        let err = env.run(&env.request(&repo, &repo)).unwrap_err();
        assert!(
            matches!(err, TakeoverError::AlreadyRepository { .. }),
            "{err:?}"
        );
        assert!(err.hint().contains("kollega open"), "{}", err.hint());
    }

    #[test]
    fn a_handoff_json_of_the_source_makes_way_for_the_takeovers() {
        let mut env = Env::new();
        let src = env.path("again");
        write_files(
            &src,
            &[("handoff.json", "{\"old\":true}\n"), ("a.txt", "a\n")],
        );
        let repo = env.path("repo");
        let report = env.run(&env.request(&src, &repo)).unwrap();
        assert_eq!(report.skipped[0].path, "handoff.json");
        assert_eq!(report.skipped[0].reason, "reserved-name");
        let handoff = env.git(&repo, &["cat-file", "-p", "HEAD:handoff.json"]);
        assert!(handoff.contains("\"workspace\": \"again\""), "{handoff}");
    }

    #[test]
    fn a_new_export_into_the_same_repository_gets_a_new_baseline() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.path("repo");
        let request = env.request(&src, &repo);
        let first = env.run(&request).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        std::fs::write(src.join("README.md"), "# Shop v2\n").unwrap();
        let second = env.run(&request).unwrap();
        assert_eq!(second.status, TakeoverStatus::TakenOver);
        assert_ne!(second.branch, first.branch);
        assert_eq!(
            env.git(&repo, &["rev-parse", &format!("{}^", second.branch)])
                .trim(),
            first.commit
        );
        assert_eq!(env.baselines(&repo).len(), 2);
        assert_eq!(env.rows("SELECT COUNT(*) FROM workspaces"), 1);
    }

    #[test]
    fn remote_and_push_send_branch_and_tag() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.path("repo");
        let bare = env.bare("origin.git");
        let url = format!("file://{}", bare.display());
        let mut request = env.request(&src, &repo);
        request.remote = Some(url.clone());
        request.push = true;
        let report = env.run(&request).unwrap();
        assert!(report.pushed, "{:?}", report.push_error);
        assert!(report.remote_failure.is_none());
        assert_eq!(report.remote.as_deref(), Some(url.as_str()));
        let refs = env.git(&bare, &["show-ref"]);
        assert!(
            refs.contains(&format!("refs/heads/{}", report.branch)),
            "{refs}"
        );
        assert!(
            refs.contains(&format!("refs/tags/{}", report.tag)),
            "{refs}"
        );
    }

    #[test]
    fn failed_push_keeps_the_local_result_and_says_why() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.path("repo");
        let mut request = env.request(&src, &repo);
        request.remote = Some(format!("file://{}", env.path("nowhere.git").display()));
        request.push = true;
        let report = env.run(&request).unwrap();
        assert!(!report.pushed);
        let why = report.push_error.clone().unwrap();
        assert!(why.contains("git push to file://"), "{why}");
        let failure = report.remote_failure.as_ref().unwrap();
        assert!(matches!(failure, TakeoverError::Push { .. }), "{failure:?}");
        assert!(failure.hint().contains("push origin"), "{}", failure.hint());
        assert_eq!(env.baselines(&repo).len(), 1);
        let ws = store::workspaces::find(&env.store.conn, "app")
            .unwrap()
            .unwrap();
        assert_eq!(ws.storage_type, StorageType::Git);

        // --push with no remote at all is refused up front.
        let mut env = Env::new();
        let src = env.app();
        let mut request = env.request(&src, &env.path("repo"));
        request.push = true;
        let err = env.run(&request).unwrap_err();
        assert!(err.to_string().contains("has no origin"), "{err}");
    }

    fn github_env(env: &mut Env, server: &FakeGithub) {
        env.outside
            .vars
            .insert(github::TOKEN_ENV.into(), TOKEN.into());
        env.outside
            .vars
            .insert(github::API_URL_ENV.into(), server.url.clone());
    }

    fn assert_no_token(env: &Env, repo: &Path, report: &TakeoverReport) {
        let json = serde_json::to_string(report).unwrap();
        assert!(!json.contains(TOKEN), "token in the report");
        if let Some(e) = &report.remote_failure {
            let text = format!("{e} {} {e:?}", e.hint());
            assert!(!text.contains(TOKEN), "token in {text}");
        }
        assert!(!contains(&env.data_bytes(), TOKEN), "token in the store");
        let config = std::fs::read(repo.join(".git/config")).unwrap();
        assert!(!contains(&config, TOKEN), "token in .git/config");
        assert!(
            !contains(&env.all_objects(repo), TOKEN),
            "token in an object"
        );
    }

    #[test]
    fn github_repository_is_created_private_and_pushed_to() {
        let mut env = Env::new();
        let bare = env.bare("github-shop.git");
        let clone_url = format!("file://{}", bare.display());
        let answer_url = clone_url.clone();
        let server = FakeGithub::start(move |r| match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/user") => (200, r#"{"login":"octo"}"#.into()),
            ("POST", "/user/repos") => (
                201,
                serde_json::json!({
                    "full_name": "octo/shop",
                    "html_url": "https://github.example/octo/shop",
                    "clone_url": answer_url,
                    "ssh_url": "git@github.example:octo/shop.git",
                })
                .to_string(),
            ),
            _ => (404, r#"{"message":"Not Found"}"#.into()),
        });
        github_env(&mut env, &server);
        let src = env.app();
        let repo = env.path("repo");
        let mut request = env.request(&src, &repo);
        request.github = Some("octo/shop".into());
        let report = env.run(&request).unwrap();
        assert!(report.pushed, "{:?}", report.push_error);
        let github = report.github.clone().unwrap();
        assert!(github.created && github.error.is_none(), "{github:?}");
        assert_eq!(report.remote.as_deref(), Some(clone_url.as_str()));
        let refs = env.git(&bare, &["show-ref"]);
        assert!(
            refs.contains(&report.branch) && refs.contains(&report.tag),
            "{refs}"
        );

        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        let body: serde_json::Value = serde_json::from_str(&requests[1].body).unwrap();
        assert_eq!(body["name"], "shop");
        assert_eq!(body["private"], true);
        assert_no_token(&env, &repo, &report);

        // Run again: the repository is not created twice, the push repeats.
        let again = env.run(&request).unwrap();
        assert_eq!(again.status, TakeoverStatus::AlreadyTakenOver);
        assert!(again.pushed);
        assert!(!again.github.unwrap().created);
        assert_eq!(server.requests().len(), 2, "no second POST");
    }

    #[test]
    fn github_name_taken_keeps_the_local_result_and_suggests_remote() {
        let mut env = Env::new();
        let server = FakeGithub::start(|r| {
            match r.method.as_str() {
            "GET" => (200, r#"{"login":"octo"}"#.into()),
            _ => (
                422,
                r#"{"message":"Repository creation failed.","errors":[{"resource":"Repository","code":"custom","field":"name","message":"name already exists on this account"}]}"#.into(),
            ),
        }
        });
        github_env(&mut env, &server);
        let src = env.app();
        let repo = env.path("repo");
        let mut request = env.request(&src, &repo);
        request.github = Some("octo/shop".into());
        let report = env.run(&request).unwrap();
        assert!(!report.pushed);
        let failure = report.remote_failure.as_ref().unwrap();
        assert!(
            matches!(
                failure,
                TakeoverError::Github(GithubError::NameTaken { .. })
            ),
            "{failure:?}"
        );
        assert!(
            failure
                .hint()
                .contains("--remote https://github.com/octo/shop.git")
                || failure.hint().contains("--remote"),
            "{}",
            failure.hint()
        );
        let github = report.github.clone().unwrap();
        assert!(!github.created);
        assert!(github.error.unwrap().contains("already exists"));
        assert_eq!(report.remote, None);
        assert_eq!(env.baselines(&repo).len(), 1);
        assert_eq!(env.git(&repo, &["status", "--porcelain"]), "");
        assert_no_token(&env, &repo, &report);
    }

    #[test]
    fn github_bad_credentials_keep_the_local_result_and_never_show_the_token() {
        let mut env = Env::new();
        let server = FakeGithub::start(|_| (401, r#"{"message":"Bad credentials"}"#.into()));
        github_env(&mut env, &server);
        let src = env.app();
        let repo = env.path("repo");
        let mut request = env.request(&src, &repo);
        request.github = Some("octo/shop".into());
        let report = env.run(&request).unwrap();
        assert!(!report.pushed);
        assert!(matches!(
            report.remote_failure,
            Some(TakeoverError::Github(GithubError::BadCredentials { .. }))
        ));
        assert_eq!(
            store::workspaces::find(&env.store.conn, "app")
                .unwrap()
                .unwrap()
                .storage_type,
            StorageType::Git
        );
        assert_eq!(
            server.requests()[0].header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_no_token(&env, &repo, &report);
    }

    #[test]
    fn github_without_a_token_is_refused_before_anything_is_written() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.path("repo");
        let mut request = env.request(&src, &repo);
        request.github = Some("octo/shop".into());
        let err = env.run(&request).unwrap_err();
        assert!(
            matches!(err, TakeoverError::Github(GithubError::NoToken)),
            "{err:?}"
        );
        assert!(!repo.exists());
        assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 0);
    }

    #[test]
    fn state_moves_forward_one_step_at_a_time() {
        use TakeoverState::*;
        assert!(Started.may_move_to(Committed));
        assert!(Committed.may_move_to(Committed));
        assert!(!Started.may_move_to(Tagged));
        assert!(!Done.may_move_to(Started));
        for s in [Started, Committed, Tagged, CheckedOut, Done] {
            assert_eq!(TakeoverState::parse(s.as_str()), s);
        }
    }

    #[test]
    fn credentials_in_remote_urls_are_never_repeated() {
        assert_eq!(
            redact("https://me:s3cret@github.com/acme/shop.git"),
            "https://***@github.com/acme/shop.git"
        );
        assert_eq!(
            redact("https://github.com/acme/shop.git"),
            "https://github.com/acme/shop.git"
        );
        assert_eq!(
            redact("git@github.com:acme/shop.git"),
            "git@github.com:acme/shop.git"
        );
        assert_eq!(redact("file:///tmp/a@b/x.git"), "file:///tmp/a@b/x.git");
    }

    #[test]
    fn a_half_made_repository_of_an_interrupted_takeover_is_made_again() {
        let mut env = Env::new();
        let src = env.app();
        let repo = env.path("repo");
        let request = env.request(&src, &repo);
        env.run_until(&request, Step::Recorded);
        // What `git init` killed early leaves.
        std::fs::create_dir_all(repo.join(".git/objects/pack")).unwrap();
        let report = env.run(&request).unwrap();
        assert_eq!(report.status, TakeoverStatus::Resumed);
        assert_eq!(env.baselines(&repo).len(), 1);
    }

    #[test]
    fn stamp_is_utc_digits() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000)
            .unwrap()
            .to_offset(time::UtcOffset::from_hms(5, 30, 0).unwrap());
        assert_eq!(stamp_of(at), "20231114-221320");
    }
}
