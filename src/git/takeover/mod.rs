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
//!
//! The steps live beside this file: `plan` (the request resolved and
//! checked), `state` (the row's state machine), `build` (index and pack,
//! secrets kept out), `local` (repository, commit, tag, checkout, record),
//! `remote` (origin, GitHub, push) and `outside` (what is read from the
//! environment).

mod build;
mod error;
#[cfg(test)]
mod fixture;
mod local;
mod outside;
mod plan;
mod remote;
mod state;
#[cfg(test)]
mod tests;

pub(crate) use error::TakeoverError;

use std::path::PathBuf;

use serde::Serialize;

use self::build::{Item, walk_items};
use self::local::{
    Local, check_clean, check_in_place, clear_own_reference_locks, discard_half_made_repository,
    has_entries, identity, open_repo, reference_exists,
};
use self::outside::Outside;
use self::plan::{Origin, Plan, plan};
use self::remote::finish_remote;
use self::state::{Step, Stop, TakeoverState, abandon_if_traceless, claim_row, new_row, traces_of};
use crate::config::Config;
use crate::git::github::RequestObserver;
use crate::store::workspaces::{StorageType, Workspace};
use crate::store::{self, Store, locks};
use crate::workspace::import::Fingerprint;
use crate::workspace::{ImportError, Report};

/// The file every baseline commit carries at its root.
pub(crate) const HANDOFF_FILE: &str = "handoff.json";

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
    /// The workspace as `kollega show` reports it. Its `status` stays
    /// unset: the takeover's own `status` below says what this run did.
    #[serde(flatten)]
    pub summary: Report,
    pub branch: String,
    pub tag: String,
    pub commit: String,
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

impl TakeoverReport {
    /// The local result, before the network steps add theirs.
    fn local(
        summary: Report,
        branch: String,
        tag: String,
        commit: String,
        status: TakeoverStatus,
    ) -> TakeoverReport {
        TakeoverReport {
            summary,
            branch,
            tag,
            commit,
            remote: None,
            pushed: false,
            push_error: None,
            github: None,
            status,
            remote_failure: None,
        }
    }
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

    if let Some(row) = &unfinished {
        if row.created_repo {
            discard_half_made_repository(&plan.repo_path);
        }
        clear_own_reference_locks(&plan.repo_path, &row.branch, &row.tag);
    }
    let repo = open_repo(&plan.repo_path)?;
    match &repo {
        Some(repo) => {
            repo.require_settled()?;
        }
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
    let identity = identity(outside, repo.as_ref(), &plan.repo_path)?;
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
        None => new_row(store, plan, repo.as_ref(), outside.now())?,
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
                    Item::File {
                        path, hash, meta, ..
                    } => fingerprint.file(&path, &hash, &meta),
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
    let skipped = store::workspaces::skipped(&store.conn, existing.id)?;
    Ok(Some(TakeoverReport::local(
        Report::new(existing, skipped),
        last.branch,
        last.tag,
        last.commit_id.unwrap_or_default(),
        TakeoverStatus::AlreadyTakenOver,
    )))
}
