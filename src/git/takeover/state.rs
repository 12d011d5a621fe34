//! The state machine of a takeover row: where a takeover stands
//! (`started` → `committed` → `tagged` → `checked-out` → `done`), the steps
//! a test may stop it after, and the row's life: recorded before the
//! repository is touched, claimed by a rerun, forgotten when a failure left
//! no trace.

use std::path::Path;

use crate::git::repo::Repo;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::TakeoverError;
use super::local::{open_repo, reference_exists};
use super::plan::Plan;
use crate::store::takeovers::{NewTakeover, TakeoverRow};
use crate::store::{self, Store};

/// Where a takeover's progress stands; the text is the `takeovers.state`
/// column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum TakeoverState {
    Started,
    Committed,
    Tagged,
    CheckedOut,
    Done,
}

impl TakeoverState {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            TakeoverState::Started => "started",
            TakeoverState::Committed => "committed",
            TakeoverState::Tagged => "tagged",
            TakeoverState::CheckedOut => "checked-out",
            TakeoverState::Done => "done",
        }
    }

    pub(super) fn parse(text: &str) -> TakeoverState {
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
    pub(super) fn may_move_to(self, next: TakeoverState) -> bool {
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
pub(super) struct Stop {
    #[cfg(test)]
    pub(super) after: Option<Step>,
}

impl Stop {
    pub(super) fn reached(self, step: Step) -> Result<(), TakeoverError> {
        #[cfg(test)]
        if self.after == Some(step) {
            return Err(TakeoverError::Interrupted(step));
        }
        tracing::debug!(?step, "takeover step done");
        Ok(())
    }
}

/// The branch and tag an unfinished takeover left in its repository.
pub(super) fn traces_of(row: &TakeoverRow) -> Vec<String> {
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
pub(super) fn abandon_if_traceless(conn: &rusqlite::Connection, row: &TakeoverRow) {
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
    let empty = matches!(repo.head_commit(), Ok(None))
        && repo
            .git()
            .references()
            .map(|mut r| r.next().is_none())
            .unwrap_or(false);
    let git_dir = repo.git().path().to_path_buf();
    drop(repo);
    if empty && git_dir.starts_with(path) && git_dir.ends_with(".git") {
        if let Err(e) = std::fs::remove_dir_all(&git_dir) {
            tracing::warn!(error = %e, "could not remove the repository a failed takeover created");
        }
        // Only when nothing else is in it (it was made for this takeover).
        let _ = std::fs::remove_dir(path);
    }
}

pub(super) fn claim_row(store: &mut Store, row: TakeoverRow) -> Result<TakeoverRow, TakeoverError> {
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

pub(super) fn new_row(
    store: &mut Store,
    plan: &Plan,
    repo: Option<&Repo>,
    now: OffsetDateTime,
) -> Result<TakeoverRow, TakeoverError> {
    let started_at = now
        .format(&Rfc3339)
        .unwrap_or_else(|_| store::now_rfc3339());
    let stamp = stamp_of(now);
    let branch = format!("takeover/{}/{stamp}", plan.name);
    let tag = format!("import-{stamp}");
    let base = match repo {
        Some(repo) => repo.head_commit()?.map(|c| c.id().to_string()),
        None => None,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn stamp_is_utc_digits() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000)
            .unwrap()
            .to_offset(time::UtcOffset::from_hms(5, 30, 0).unwrap());
        assert_eq!(stamp_of(at), "20231114-221320");
    }
}
