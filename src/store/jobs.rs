//! The queries of the `jobs`, `job_deps` and `job_logs` tables, and the
//! column types they store: a job's [`Status`] with the one table of
//! allowed changes, its [`JobKind`], a log line's [`Stream`].
//!
//! Every function takes the time as `now` (Unix ms) so that tests can move
//! it. Every status write goes through [`transition`], which refuses a
//! change [`Status::can_become`] does not allow and names the status it
//! expects to leave in its `WHERE`, so two processes racing for one job
//! change it once. What an attempt's end or an expired lease becomes (a
//! retry and when, or a dead letter) is the caller's rule (`jobs::queue`):
//! [`finish`] and [`sweep`] ask it inside their transaction. What a
//! payload means is the kind's: the store keeps it as JSON.

use std::fmt;

use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::StoreError;
use crate::error::Hint;

/// Lines of each job kept in `job_logs`; older ones are deleted as new
/// ones come (the log file keeps them all).
pub(crate) const TAIL_LINES: i64 = 2000;

/// What a job does, stored as its name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum JobKind {
    /// A program or shell line in a workspace's directory.
    #[default]
    Command,
    /// A folder or ZIP into a SQLite workspace.
    Import,
    /// A workspace to a ZIP file or a folder.
    Export,
    GitPush,
    GitPull,
    /// A name this kollega has no kind for (a newer kollega wrote it, or a
    /// test registered a kind of its own): listed like the others.
    Other(String),
}

impl JobKind {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            JobKind::Command => "command",
            JobKind::Import => "import",
            JobKind::Export => "export",
            JobKind::GitPush => "git-push",
            JobKind::GitPull => "git-pull",
            JobKind::Other(name) => name,
        }
    }
}

impl From<&str> for JobKind {
    fn from(name: &str) -> JobKind {
        match name {
            "command" => JobKind::Command,
            "import" => JobKind::Import,
            "export" => JobKind::Export,
            "git-push" => JobKind::GitPush,
            "git-pull" => JobKind::GitPull,
            other => JobKind::Other(other.to_string()),
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for JobKind {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

impl Serialize for JobKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Which stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Stream {
    Stdout,
    Stderr,
    /// Written by kollega: attempts, retries, errors.
    Info,
}

impl Stream {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::Info => "info",
        }
    }

    fn parse(text: &str) -> Stream {
        match text {
            "stdout" => Stream::Stdout,
            "stderr" => Stream::Stderr,
            _ => Stream::Info,
        }
    }
}

/// Why a change to the queue was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum QueueError {
    #[error("there is no job {0}")]
    UnknownJob(i64),
    #[error("job {id} is {status}; only {allowed} jobs can be {action}")]
    WrongStatus {
        id: i64,
        status: Status,
        allowed: &'static str,
        action: &'static str,
    },
    /// A change the status table does not allow: a bug in the caller.
    #[error("job {id}: a change from {from} to {to} is not allowed")]
    NotAllowed { id: i64, from: Status, to: Status },
    #[error("only ended jobs are cleaned: succeeded, failed, dead or cancelled")]
    NotEnded,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for QueueError {
    fn from(e: rusqlite::Error) -> QueueError {
        QueueError::Store(e.into())
    }
}

impl Hint for QueueError {
    fn hint(&self) -> String {
        match self {
            QueueError::UnknownJob(_) => "`kollega jobs` lists the jobs and their ids".into(),
            QueueError::WrongStatus { .. } => {
                "`kollega jobs` shows each job's status; retry works on failed, dead, cancelled and interrupted jobs, cancel on queued, retrying and running ones".into()
            }
            QueueError::NotAllowed { .. } => {
                "the job was left as it was; `kollega jobs show ID` shows where it is".into()
            }
            QueueError::NotEnded => {
                "`--status` takes succeeded, failed, dead or cancelled here".into()
            }
            QueueError::Store(e) => e.hint(),
        }
    }
}

type Result<T, E = QueueError> = std::result::Result<T, E>;

mod cancel;
mod status;
pub(crate) use cancel::{cancel_for_workspace, cancels_requested};
pub(crate) use status::Status;

/// What `enqueue` needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewJob {
    pub kind: JobKind,
    /// A workspace's name (for display), or a folder's absolute path.
    pub workspace: Option<String>,
    /// The workspace's row; `None` for a folder or no workspace.
    pub workspace_id: Option<i64>,
    /// The kind's JSON (`jobs::payload` builds it).
    pub payload: Value,
    pub max_attempts: u32,
    pub retry_failed: bool,
    pub timeout_ms: Option<i64>,
    /// Jobs that must succeed first (`--after`).
    pub after: Vec<i64>,
    pub schedule_id: Option<i64>,
    /// Not before this time; `None` is now.
    pub run_at: Option<i64>,
}

/// A job row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub workspace: Option<String>,
    /// The workspace's row, never resolved again by name; `None` for a
    /// folder job (`workspace` is its absolute path) or no workspace.
    pub workspace_id: Option<i64>,
    /// The kind's JSON; `jobs::payload` reads it.
    pub payload: Value,
    pub status: Status,
    pub progress: u8,
    pub attempt: u32,
    pub max_attempts: u32,
    pub retry_failed: bool,
    pub next_run_at: i64,
    pub timeout_ms: Option<i64>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub cancel_requested: bool,
    pub error: Option<String>,
    pub result: Option<Value>,
    pub exit_code: Option<i32>,
    pub cwd: Option<String>,
    pub env: Option<Value>,
    pub log_lines: i64,
    pub schedule_id: Option<i64>,
    pub after: Vec<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
}

impl Job {
    /// Run time so far (running) or in all (ended), in ms.
    pub(crate) fn duration_ms(&self, now: i64) -> Option<i64> {
        let start = self.started_at?;
        match (self.status, self.finished_at) {
            (Status::Running, _) => Some(now - start),
            (_, Some(end)) => Some(end - start),
            // Waiting for a retry: the last attempt's time is not known.
            _ => None,
        }
    }
}

const COLUMNS: &str = "id, kind, workspace, payload, status, progress, attempt, max_attempts, \
     retry_failed, next_run_at, timeout_ms, lease_owner, lease_expires_at, cancel_requested, \
     error, result, exit_code, cwd, env, log_lines, schedule_id, created_at, started_at, \
     finished_at, updated_at, workspace_id";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    let kind: String = row.get(1)?;
    let status: String = row.get(4)?;
    Ok(Job {
        id: row.get(0)?,
        kind: JobKind::from(kind.as_str()),
        workspace: row.get(2)?,
        payload: json(row.get(3)?).unwrap_or(Value::Null),
        // The CHECK constraint keeps other names out of the table.
        status: status.parse().unwrap_or(Status::Failed),
        progress: row.get::<_, i64>(5)?.clamp(0, 100) as u8,
        attempt: row.get::<_, i64>(6)?.max(0) as u32,
        max_attempts: row.get::<_, i64>(7)?.max(1) as u32,
        retry_failed: row.get(8)?,
        next_run_at: row.get(9)?,
        timeout_ms: row.get(10)?,
        lease_owner: row.get(11)?,
        lease_expires_at: row.get(12)?,
        cancel_requested: row.get(13)?,
        error: row.get(14)?,
        result: json(row.get(15)?),
        exit_code: row.get(16)?,
        cwd: row.get(17)?,
        env: json(row.get(18)?),
        log_lines: row.get(19)?,
        schedule_id: row.get(20)?,
        after: Vec::new(),
        created_at: row.get(21)?,
        started_at: row.get(22)?,
        finished_at: row.get(23)?,
        updated_at: row.get(24)?,
        workspace_id: row.get(25)?,
    })
}

fn with_deps(conn: &Connection, mut job: Job) -> rusqlite::Result<Job> {
    let mut stmt =
        conn.prepare_cached("SELECT after_id FROM job_deps WHERE job_id = ?1 ORDER BY after_id")?;
    job.after = stmt
        .query_map([job.id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(job)
}

/// Adds a job; its `--after` jobs must exist.
pub(crate) fn enqueue(conn: &mut Connection, new: &NewJob, now: i64) -> Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id = enqueue_in(&tx, new, now)?;
    tx.commit()?;
    Ok(id)
}

/// `enqueue` inside the caller's transaction.
pub(crate) fn enqueue_in(tx: &Transaction<'_>, new: &NewJob, now: i64) -> Result<i64> {
    for after in &new.after {
        if get(tx, *after)?.is_none() {
            return Err(QueueError::UnknownJob(*after));
        }
    }
    // Kept by its row from here on; an import's workspace is yet to be made.
    let workspace_id = match (new.workspace_id, &new.workspace) {
        (None, Some(name)) if new.kind != JobKind::Import => super::workspaces::id_of(tx, name)?,
        (id, _) => id,
    };
    tx.execute(
        "INSERT INTO jobs (kind, workspace, payload, status, max_attempts, retry_failed, \
         next_run_at, timeout_ms, schedule_id, created_at, updated_at, workspace_id) \
         VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)",
        params![
            new.kind.as_str(),
            new.workspace,
            new.payload.to_string(),
            new.max_attempts.max(1),
            new.retry_failed,
            new.run_at.unwrap_or(now),
            new.timeout_ms,
            new.schedule_id,
            now,
            workspace_id,
        ],
    )?;
    let id = tx.last_insert_rowid();
    for after in &new.after {
        tx.execute(
            "INSERT OR IGNORE INTO job_deps (job_id, after_id) VALUES (?1, ?2)",
            params![id, after],
        )?;
    }
    Ok(id)
}

pub(crate) fn get(conn: &Connection, id: i64) -> super::Result<Option<Job>> {
    let job = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?;
    Ok(job.map(|j| with_deps(conn, j)).transpose()?)
}

/// `get`, or the error that names the id.
pub(crate) fn require(conn: &Connection, id: i64) -> Result<Job> {
    get(conn, id)?.ok_or(QueueError::UnknownJob(id))
}

/// Which jobs `list` returns.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub status: Option<Status>,
    pub kind: Option<JobKind>,
    pub workspace: Option<String>,
    /// Only jobs changed after this time (the TUI's poll).
    pub updated_after: Option<i64>,
    pub limit: Option<usize>,
}

/// Jobs, newest first.
pub(crate) fn list(conn: &Connection, filter: &Filter) -> super::Result<Vec<Job>> {
    let mut sql = format!("SELECT {COLUMNS} FROM jobs WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(status) = filter.status {
        sql.push_str(" AND status = ?");
        args.push(status.as_str().to_string().into());
    }
    if let Some(kind) = &filter.kind {
        sql.push_str(" AND kind = ?");
        args.push(kind.as_str().to_string().into());
    }
    if let Some(ws) = &filter.workspace {
        sql.push_str(" AND workspace = ?");
        args.push(ws.clone().into());
    }
    if let Some(t) = filter.updated_after {
        sql.push_str(" AND updated_at > ?");
        args.push(t.into());
    }
    sql.push_str(" ORDER BY id DESC");
    if let Some(limit) = filter.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let mut stmt = conn.prepare(&sql)?;
    let jobs = stmt
        .query_map(rusqlite::params_from_iter(args), from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(jobs
        .into_iter()
        .map(|j| with_deps(conn, j))
        .collect::<rusqlite::Result<_>>()?)
}

/// Changes a job's status from `from` to `to`, with the extra assignments
/// in `set` (SQL, `?1` is the id, `?2` the time, then `args`). Returns
/// whether the row was in `from` (and so changed).
///
/// A change the status table does not allow is a bug in the caller: it is
/// refused, logged, and reported as an error.
fn transition(
    conn: &Connection,
    id: i64,
    from: Status,
    to: Status,
    set: &str,
    args: &[&dyn rusqlite::ToSql],
    now: i64,
) -> Result<bool> {
    if !from.can_become(to) {
        tracing::error!(id, %from, %to, "refused a job status change the table does not allow");
        return Err(QueueError::NotAllowed { id, from, to });
    }
    let extra = if set.is_empty() {
        String::new()
    } else {
        format!(", {set}")
    };
    let sql = format!(
        "UPDATE jobs SET status = '{to}', updated_at = ?2{extra} WHERE id = ?1 AND status = '{from}'"
    );
    let mut all: Vec<&dyn rusqlite::ToSql> = vec![&id, &now];
    all.extend_from_slice(args);
    Ok(conn.prepare_cached(&sql)?.execute(all.as_slice())? == 1)
}

/// A job whose turn has come: due, and every job it waits for succeeded.
const READY: &str = "next_run_at <= ?1 \
     AND NOT EXISTS (SELECT 1 FROM job_deps d JOIN jobs a ON a.id = d.after_id \
                     WHERE d.job_id = jobs.id AND a.status <> 'succeeded')";

/// Claims the next ready job for `owner`: queued or retrying, due, and
/// every job it waits for succeeded. Counts the attempt and sets the lease.
pub(crate) fn claim(
    conn: &mut Connection,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Job>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id: Option<i64> = tx
        .prepare_cached(&format!(
            "SELECT id FROM jobs WHERE status IN ('queued', 'retrying') AND {READY} \
             ORDER BY next_run_at, id LIMIT 1"
        ))?
        .query_row([now], |r| r.get(0))
        .optional()?;
    let Some(id) = id else {
        return Ok(None);
    };
    let job = claim_in(&tx, id, owner, now, lease_ms)?;
    tx.commit()?;
    Ok(job)
}

/// Adds a job already claimed by `owner` (a foreground `kollega run`), so
/// no other runner can take its first attempt.
pub(crate) fn enqueue_claimed(
    conn: &mut Connection,
    new: &NewJob,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<Job> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id = enqueue_in(&tx, new, now)?;
    // A job that waits for others is claimed when they succeed.
    let job = match claim_ready(&tx, id, now)? {
        true => claim_in(&tx, id, owner, now, lease_ms)?,
        false => get(&tx, id)?,
    };
    tx.commit()?;
    job.ok_or(QueueError::UnknownJob(id))
}

fn claim_ready(conn: &Connection, id: i64, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(&format!("SELECT 1 FROM jobs WHERE id = ?2 AND {READY}"))?
        .query_row(params![now, id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Claims one job by id (a foreground `kollega run`); `None` when it is
/// not queued or retrying.
pub(crate) fn claim_id(
    conn: &mut Connection,
    id: i64,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Job>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let job = claim_in(&tx, id, owner, now, lease_ms)?;
    tx.commit()?;
    Ok(job)
}

fn claim_in(
    tx: &Transaction<'_>,
    id: i64,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Job>> {
    let Some(job) = get(tx, id)? else {
        return Ok(None);
    };
    if !matches!(job.status, Status::Queued | Status::Retrying) || !claim_ready(tx, id, now)? {
        return Ok(None);
    }
    let changed = transition(
        tx,
        id,
        job.status,
        Status::Running,
        "attempt = attempt + 1, lease_owner = ?3, lease_expires_at = ?4, started_at = ?2, \
         finished_at = NULL, progress = 0",
        &[&owner, &(now + lease_ms)],
        now,
    )?;
    if !changed {
        return Ok(None);
    }
    Ok(get(tx, id)?)
}

/// A running job whose runner stopped renewing its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expired {
    pub id: i64,
    pub kind: JobKind,
    pub attempt: u32,
    pub max_attempts: u32,
    /// The runner that held it.
    pub owner: String,
}

/// What an expired job becomes, as the caller's rule decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Requeue {
    /// Retrying, dead or interrupted.
    pub status: Status,
    pub error: String,
    /// When a retry may run.
    pub next_run_at: i64,
    /// The `info` line for the log.
    pub line: String,
}

/// What `sweep` changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Swept {
    /// Running jobs whose runner stopped renewing the lease.
    pub expired: Vec<i64>,
    /// Of those, the ones that became interrupted (they wait for a person).
    pub interrupted: Vec<i64>,
    /// Waiting jobs failed because a job they wait for did not succeed.
    pub blocked: Vec<i64>,
}

/// Takes back jobs whose lease expired (as `requeue` decides) and fails
/// jobs whose `--after` jobs ended badly, in one transaction.
pub(crate) fn sweep(
    conn: &mut Connection,
    now: i64,
    requeue: impl Fn(&Expired) -> Requeue,
) -> Result<Swept> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut swept = Swept::default();
    let expired: Vec<Expired> = tx
        .prepare_cached(
            "SELECT id, kind, attempt, max_attempts, lease_owner FROM jobs \
             WHERE status = 'running' AND lease_expires_at < ?1",
        )?
        .query_map([now], |r| {
            Ok(Expired {
                id: r.get(0)?,
                kind: JobKind::from(r.get::<_, String>(1)?.as_str()),
                attempt: r.get(2)?,
                max_attempts: r.get(3)?,
                owner: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    for job in expired {
        let next = requeue(&job);
        let changed = transition(
            &tx,
            job.id,
            Status::Running,
            next.status,
            "lease_owner = NULL, lease_expires_at = NULL, error = ?3, next_run_at = ?4, \
             finished_at = CASE WHEN ?5 THEN ?2 ELSE NULL END",
            &[&next.error, &next.next_run_at, &next.status.is_final()],
            now,
        )?;
        if changed {
            append_info(&tx, job.id, job.attempt, &next.line, now)?;
            swept.expired.push(job.id);
            if next.status == Status::Interrupted {
                swept.interrupted.push(job.id);
            }
        }
    }
    let blocked: Vec<(i64, Status, i64, String)> = tx
        .prepare_cached(
            "SELECT j.id, j.status, a.id, a.status FROM jobs j \
             JOIN job_deps d ON d.job_id = j.id JOIN jobs a ON a.id = d.after_id \
             WHERE j.status IN ('queued', 'retrying') \
               AND a.status IN ('failed', 'dead', 'cancelled')",
        )?
        .query_map([], |r| {
            let status: String = r.get(1)?;
            Ok((
                r.get(0)?,
                status.parse().unwrap_or(Status::Queued),
                r.get(2)?,
                r.get(3)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (id, status, after, after_status) in blocked {
        let message = format!("job {after}, which this job runs after, is {after_status}");
        if transition(
            &tx,
            id,
            status,
            Status::Failed,
            "error = ?3, finished_at = ?2",
            &[&message],
            now,
        )? {
            let attempt: u32 =
                tx.query_row("SELECT attempt FROM jobs WHERE id = ?1", [id], |r| r.get(0))?;
            append_info(&tx, id, attempt, &message, now)?;
            swept.blocked.push(id);
        }
    }
    tx.commit()?;
    Ok(swept)
}

/// What the runner learns from a heartbeat.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Beat {
    /// Jobs someone asked to cancel.
    pub cancel: Vec<i64>,
    /// Jobs this runner no longer holds (its lease expired and another
    /// runner took them): stop them without writing their end.
    pub lost: Vec<i64>,
}

/// Renews the leases of `ids` held by `owner`.
pub(crate) fn heartbeat(
    conn: &mut Connection,
    owner: &str,
    ids: &[i64],
    now: i64,
    lease_ms: i64,
) -> Result<Beat> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut beat = Beat::default();
    for &id in ids {
        let changed = tx
            .prepare_cached(
                "UPDATE jobs SET lease_expires_at = ?3 \
                 WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'",
            )?
            .execute(params![id, owner, now + lease_ms])?;
        if changed == 0 {
            beat.lost.push(id);
            continue;
        }
        let cancel: bool = tx.query_row(
            "SELECT cancel_requested FROM jobs WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        if cancel {
            beat.cancel.push(id);
        }
    }
    tx.commit()?;
    Ok(beat)
}

/// How an attempt ends, as the caller's rule decides from the job.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ending {
    Succeeded {
        result: Value,
        exit_code: Option<i32>,
    },
    Cancelled {
        reason: String,
    },
    /// Retrying, failed or dead.
    Unsuccessful {
        status: Status,
        error: String,
        exit_code: Option<i32>,
        /// What the attempt left, when it says more than the error (how a
        /// program ended).
        result: Option<Value>,
        /// When a retry may run.
        next_run_at: i64,
        /// The `info` line for the log.
        line: String,
    },
}

/// Writes the end of an attempt held by `owner`, as `decide` says from the
/// job. Returns the status the job is in now, or `None` when `owner` no
/// longer held it.
pub(crate) fn finish(
    conn: &mut Connection,
    id: i64,
    owner: &str,
    now: i64,
    decide: impl FnOnce(&Job) -> Ending,
) -> Result<Option<Status>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(job) = get(&tx, id)? else {
        return Ok(None);
    };
    if job.status != Status::Running || job.lease_owner.as_deref() != Some(owner) {
        return Ok(None);
    }
    let clear = "lease_owner = NULL, lease_expires_at = NULL";
    let to = match decide(&job) {
        Ending::Succeeded { result, exit_code } => {
            transition(
                &tx,
                id,
                Status::Running,
                Status::Succeeded,
                &format!(
                    "{clear}, result = ?3, exit_code = ?4, error = NULL, progress = 100, finished_at = ?2"
                ),
                &[&result.to_string(), &exit_code],
                now,
            )?;
            Status::Succeeded
        }
        Ending::Cancelled { reason } => {
            transition(
                &tx,
                id,
                Status::Running,
                Status::Cancelled,
                &format!("{clear}, error = ?3, finished_at = ?2"),
                &[&reason],
                now,
            )?;
            append_info(&tx, id, job.attempt, &reason, now)?;
            Status::Cancelled
        }
        Ending::Unsuccessful {
            status,
            error,
            exit_code,
            result,
            next_run_at,
            line,
        } => {
            transition(
                &tx,
                id,
                Status::Running,
                status,
                &format!(
                    "{clear}, error = ?3, exit_code = ?4, result = ?5, next_run_at = ?6, \
                     finished_at = CASE WHEN ?7 THEN ?2 ELSE NULL END"
                ),
                &[
                    &error,
                    &exit_code,
                    &result.map(|r| r.to_string()),
                    &next_run_at,
                    &status.is_final(),
                ],
                now,
            )?;
            append_info(&tx, id, job.attempt, &line, now)?;
            status
        }
    };
    tx.commit()?;
    Ok(Some(to))
}

/// Sets a running job's progress (0 to 100).
pub(crate) fn set_progress(
    conn: &Connection,
    id: i64,
    owner: &str,
    progress: u8,
    now: i64,
) -> super::Result<()> {
    conn.prepare_cached(
        "UPDATE jobs SET progress = ?3, updated_at = ?4 \
         WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'",
    )?
    .execute(params![id, owner, progress.min(100), now])?;
    Ok(())
}

/// Records where a running job works and what it adds to the environment.
pub(crate) fn set_place(
    conn: &Connection,
    id: i64,
    cwd: &str,
    env: &Value,
    now: i64,
) -> super::Result<()> {
    conn.prepare_cached("UPDATE jobs SET cwd = ?2, env = ?3, updated_at = ?4 WHERE id = ?1")?
        .execute(params![id, cwd, env.to_string(), now])?;
    Ok(())
}

/// `jobs cancel`: a waiting job is cancelled at once; a running one is
/// asked to stop (its runner sees it within a poll). Returns the
/// status after the request.
pub(crate) fn request_cancel(conn: &mut Connection, id: i64, now: i64) -> Result<Status> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let job = get(&tx, id)?.ok_or(QueueError::UnknownJob(id))?;
    let status = match job.status {
        Status::Queued | Status::Retrying | Status::Interrupted => {
            let reason = match job.status {
                Status::Interrupted => "cancelled after it was interrupted; not run again",
                _ => "cancelled before it ran",
            };
            transition(
                &tx,
                id,
                job.status,
                Status::Cancelled,
                "error = ?3, finished_at = ?2",
                &[&reason],
                now,
            )?;
            append_info(&tx, id, job.attempt, reason, now)?;
            Status::Cancelled
        }
        Status::Running => {
            tx.execute(
                "UPDATE jobs SET cancel_requested = 1, updated_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
            Status::Running
        }
        status => {
            return Err(QueueError::WrongStatus {
                id,
                status,
                allowed: "queued, retrying, running or interrupted",
                action: "cancelled",
            });
        }
    };
    tx.commit()?;
    Ok(status)
}

/// `jobs retry`: a failed, dead or cancelled job is queued again with its
/// attempts counted from zero; an interrupted one goes on to its next
/// attempt (with one more allowed if it had none left), keeping its error
/// for that attempt's log. Its last error goes into the log.
pub(crate) fn retry(conn: &mut Connection, id: i64, now: i64) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let job = get(&tx, id)?.ok_or(QueueError::UnknownJob(id))?;
    if !job.status.can_become(Status::Queued) {
        return Err(QueueError::WrongStatus {
            id,
            status: job.status,
            allowed: "failed, dead, cancelled or interrupted",
            action: "retried",
        });
    }
    // An interrupted job's next attempt says why the last one ended.
    let attempts = if job.status == Status::Interrupted {
        "max_attempts = MAX(max_attempts, attempt + 1)"
    } else {
        "attempt = 0, error = NULL"
    };
    transition(
        &tx,
        id,
        job.status,
        Status::Queued,
        &format!(
            "{attempts}, next_run_at = ?2, cancel_requested = 0, \
             exit_code = NULL, result = NULL, finished_at = NULL, progress = 0"
        ),
        &[],
        now,
    )?;
    let line = match &job.error {
        Some(e) => format!("retried by hand (it was {}: {e})", job.status),
        None => format!("retried by hand (it was {})", job.status),
    };
    append_info(&tx, id, job.attempt, &line, now)?;
    tx.commit()?;
    Ok(())
}

/// `jobs clean`: removes ended jobs that finished before `before` (only
/// those of `status`, if given) and their stored lines, except those a
/// waiting job still runs after. Returns the removed ids; their log files
/// are the caller's to remove.
pub(crate) fn clean(
    conn: &mut Connection,
    before: i64,
    status: Option<Status>,
) -> Result<Vec<i64>> {
    if status.is_some_and(|s| !s.is_final()) {
        return Err(QueueError::NotEnded);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ids: Vec<i64> = tx
        .prepare(
            "SELECT id FROM jobs j \
             WHERE status IN ('succeeded', 'failed', 'dead', 'cancelled', 'interrupted') \
             AND finished_at < ?1 AND (?2 IS NULL OR status = ?2) \
             AND NOT EXISTS (SELECT 1 FROM job_deps d JOIN jobs w ON w.id = d.job_id \
                             WHERE d.after_id = j.id \
                               AND w.status NOT IN ('succeeded', 'failed', 'dead', 'cancelled', \
                                                    'interrupted')) \
             ORDER BY id",
        )?
        .query_map(params![before, status.map(Status::as_str)], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in &ids {
        tx.execute("DELETE FROM jobs WHERE id = ?1", [id])?;
    }
    tx.commit()?;
    Ok(ids)
}

/// One stored log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LogLine {
    pub seq: i64,
    pub attempt: u32,
    pub stream: Stream,
    pub at: i64,
    pub line: String,
}

/// Appends lines (stream, time, text) to a job's stored tail and keeps at
/// most `keep` lines of it. Returns the seq after the last line.
pub(crate) fn append_logs(
    tx: &Transaction<'_>,
    id: i64,
    attempt: u32,
    lines: &[(Stream, i64, String)],
    skipped: i64,
    keep: i64,
) -> super::Result<i64> {
    let start: i64 = tx.query_row("SELECT log_lines FROM jobs WHERE id = ?1", [id], |r| {
        r.get(0)
    })?;
    // Lines the producer wrote past the tail bound were counted, not kept.
    let first = start + skipped;
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR REPLACE INTO job_logs (job_id, seq, attempt, stream, at, line) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (i, (stream, at, line)) in lines.iter().enumerate() {
            insert.execute(params![
                id,
                first + i as i64,
                attempt,
                stream.as_str(),
                at,
                line
            ])?;
        }
    }
    let next = first + lines.len() as i64;
    tx.prepare_cached("UPDATE jobs SET log_lines = ?2 WHERE id = ?1")?
        .execute(params![id, next])?;
    tx.prepare_cached("DELETE FROM job_logs WHERE job_id = ?1 AND seq < ?2")?
        .execute(params![id, next - keep])?;
    Ok(next)
}

/// One `info` line, inside the caller's transaction.
pub(super) fn append_info(
    tx: &Transaction<'_>,
    id: i64,
    attempt: u32,
    line: &str,
    now: i64,
) -> super::Result<()> {
    append_logs(
        tx,
        id,
        attempt,
        &[(Stream::Info, now, format!("[kollega] {line}"))],
        0,
        TAIL_LINES,
    )?;
    Ok(())
}

/// Stored lines of a job after `after_seq`, oldest first, at most `limit`.
pub(crate) fn logs_after(
    conn: &Connection,
    id: i64,
    after_seq: i64,
    limit: usize,
) -> super::Result<Vec<LogLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, attempt, stream, at, line FROM job_logs \
         WHERE job_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let lines = stmt
        .query_map(params![id, after_seq, limit as i64], |r| {
            let stream: String = r.get(2)?;
            Ok(LogLine {
                seq: r.get(0)?,
                attempt: r.get(1)?,
                stream: Stream::parse(&stream),
                at: r.get(3)?,
                line: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(lines)
}

/// Jobs of one kind in one status, and the attempts they started.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Count {
    pub kind: JobKind,
    pub status: Status,
    pub jobs: i64,
    pub attempts: f64,
}

/// The jobs by kind and status, in the order of the kinds' and statuses'
/// names.
pub(crate) fn counts(conn: &Connection) -> super::Result<Vec<Count>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, status, COUNT(*), TOTAL(attempt) FROM jobs GROUP BY kind, status \
         ORDER BY kind, status",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, f64>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        // The CHECK constraint keeps other names out of the table.
        .filter_map(|(kind, status, jobs, attempts)| {
            Some(Count {
                kind: JobKind::from(kind.as_str()),
                status: status.parse().ok()?,
                jobs,
                attempts,
            })
        })
        .collect())
}

/// Queued and retrying jobs whose time to run has come.
pub(crate) fn due_count(conn: &Connection, now: i64) -> super::Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'retrying') AND next_run_at <= ?1",
        )?
        .query_row([now], |r| r.get(0))?)
}

/// The run times of ended jobs of one kind and final status (their last
/// attempt, from start to end).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunTimes {
    pub kind: JobKind,
    pub status: Status,
    pub count: u64,
    pub sum_ms: f64,
    /// How many took at most each of the bounds given, in their order.
    pub at_most: Vec<u64>,
}

/// Counts the run times of ended jobs against `bounds_ms`, in SQL, so no
/// job row leaves the store.
pub(crate) fn run_times(conn: &Connection, bounds_ms: &[i64]) -> super::Result<Vec<RunTimes>> {
    let mut sql = String::from("SELECT kind, status, COUNT(*), TOTAL(d)");
    for ms in bounds_ms {
        sql.push_str(&format!(", TOTAL(d <= {ms})"));
    }
    sql.push_str(
        " FROM (SELECT kind, status, MAX(finished_at - started_at, 0) AS d FROM jobs \
         WHERE status IN ('succeeded', 'failed', 'dead', 'cancelled') \
           AND started_at IS NOT NULL AND finished_at IS NOT NULL) \
         GROUP BY kind, status",
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([], |r| {
            let mut at_most = Vec::with_capacity(bounds_ms.len());
            for i in 0..bounds_ms.len() {
                at_most.push(r.get::<_, f64>(4 + i)? as u64);
            }
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?.max(0) as u64,
                r.get::<_, f64>(3)?,
                at_most,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, status, count, sum_ms, at_most)| {
            Some(RunTimes {
                kind: JobKind::from(kind.as_str()),
                status: status.parse().ok()?,
                count,
                sum_ms,
                at_most,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn command(argv: &[&str]) -> NewJob {
        NewJob {
            kind: JobKind::Command,
            workspace: Some("demo".into()),
            payload: serde_json::json!({ "argv": argv }),
            max_attempts: 3,
            ..NewJob::default()
        }
    }

    const LEASE: i64 = 30_000;

    fn succeed(store: &mut Store, id: i64, owner: &str, now: i64) -> Option<Status> {
        let ending = Ending::Succeeded {
            result: serde_json::json!({"exit_code": 0}),
            exit_code: Some(0),
        };
        finish(&mut store.conn, id, owner, now, |_| ending).unwrap()
    }

    fn fail(store: &mut Store, id: i64, owner: &str, now: i64) -> Option<Status> {
        let ending = Ending::Unsuccessful {
            status: Status::Failed,
            error: "exit 2".into(),
            exit_code: Some(2),
            result: None,
            next_run_at: now,
            line: "exit 2".into(),
        };
        finish(&mut store.conn, id, owner, now, |_| ending).unwrap()
    }

    #[test]
    fn transitions_are_the_documented_table() {
        use Status::*;
        let allowed: Vec<(Status, Status)> = Status::ALL
            .into_iter()
            .flat_map(|a| Status::ALL.into_iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Queued, Running),
                (Queued, Failed),
                (Queued, Cancelled),
                (Running, Succeeded),
                (Running, Failed),
                (Running, Retrying),
                (Running, Dead),
                (Running, Cancelled),
                (Running, Interrupted),
                (Failed, Queued),
                (Retrying, Running),
                (Retrying, Failed),
                (Retrying, Cancelled),
                (Dead, Queued),
                (Cancelled, Queued),
                (Interrupted, Queued),
                (Interrupted, Cancelled),
            ]
        );
        // Nothing leaves a success, and no status becomes itself.
        for s in Status::ALL {
            assert!(!Succeeded.can_become(s));
            assert!(!s.can_become(s));
        }
    }

    #[test]
    fn status_and_kind_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert!("done".parse::<Status>().unwrap_err().contains("queued"));
        for name in ["command", "import", "export", "git-push", "git-pull", "ask"] {
            assert_eq!(JobKind::from(name).as_str(), name);
        }
        assert_eq!(JobKind::from("ask"), JobKind::Other("ask".into()));
    }

    #[test]
    fn a_claimed_job_is_held_once() {
        let (_d, mut store) = store();
        let id = enqueue(&mut store.conn, &command(&["true"]), 1000).unwrap();
        let job = claim(&mut store.conn, "a", 1000, LEASE).unwrap().unwrap();
        assert_eq!((job.id, job.status, job.attempt), (id, Status::Running, 1));
        assert_eq!(job.lease_expires_at, Some(1000 + LEASE));
        assert!(claim(&mut store.conn, "b", 1001, LEASE).unwrap().is_none());
        assert_eq!(succeed(&mut store, id, "a", 2000), Some(Status::Succeeded));
        let job = require(&store.conn, id).unwrap();
        assert_eq!(job.exit_code, Some(0));
        assert_eq!(job.progress, 100);
        assert_eq!(job.duration_ms(9999), Some(1000));
    }

    #[test]
    fn a_lost_runner_is_requeued_as_the_rule_says_and_its_late_answer_ignored() {
        let (_d, mut store) = store();
        let id = enqueue(&mut store.conn, &command(&["sleep", "9"]), 0).unwrap();
        claim(&mut store.conn, "dead", 0, LEASE).unwrap().unwrap();
        let rule = |e: &Expired| Requeue {
            status: Status::Retrying,
            error: format!("{} is gone", e.owner),
            next_run_at: LEASE + 500,
            line: format!("attempt {} of {} is retried", e.attempt, e.max_attempts),
        };
        // Before the lease ends nothing changes.
        assert_eq!(
            sweep(&mut store.conn, LEASE - 1, rule).unwrap(),
            Swept::default()
        );
        let swept = sweep(&mut store.conn, LEASE + 1, rule).unwrap();
        assert_eq!(swept.expired, vec![id]);
        let job = require(&store.conn, id).unwrap();
        assert_eq!(job.status, Status::Retrying);
        assert_eq!(job.error.as_deref(), Some("dead is gone"));
        assert_eq!(job.next_run_at, LEASE + 500);
        let log = logs_after(&store.conn, id, -1, 10).unwrap();
        assert_eq!(log[0].line, "[kollega] attempt 1 of 3 is retried");
        let again = claim(&mut store.conn, "b", job.next_run_at, LEASE)
            .unwrap()
            .unwrap();
        assert_eq!(again.attempt, 2);
        // The old runner's late answer is ignored.
        assert_eq!(succeed(&mut store, id, "dead", job.next_run_at), None);
        let beat = heartbeat(&mut store.conn, "dead", &[id], job.next_run_at, LEASE).unwrap();
        assert_eq!(beat.lost, vec![id]);
    }

    #[test]
    fn an_unsuccessful_end_keeps_what_the_program_left() {
        let (_d, mut store) = store();
        let id = enqueue(&mut store.conn, &command(&["x"]), 0).unwrap();
        claim_id(&mut store.conn, id, "r", 0, LEASE)
            .unwrap()
            .unwrap();
        let ending = Ending::Unsuccessful {
            status: Status::Retrying,
            error: "exited with code 3".into(),
            exit_code: Some(3),
            result: Some(serde_json::json!({"exit_code": 3})),
            next_run_at: 4_000,
            line: "attempt 1 of 3 failed".into(),
        };
        let to = finish(&mut store.conn, id, "r", 10, |job| {
            assert_eq!(job.attempt, 1);
            ending
        });
        assert_eq!(to.unwrap(), Some(Status::Retrying));
        let job = require(&store.conn, id).unwrap();
        assert_eq!((job.exit_code, job.next_run_at), (Some(3), 4_000));
        assert_eq!(job.result, Some(serde_json::json!({"exit_code": 3})));
        assert_eq!(job.finished_at, None);
        assert_eq!(job.lease_owner, None);
        // A retry by hand forgets the last attempt's end.
        claim_id(&mut store.conn, id, "r", 4_000, LEASE)
            .unwrap()
            .unwrap();
        fail(&mut store, id, "r", 4_100);
        retry(&mut store.conn, id, 5_000).unwrap();
        let job = require(&store.conn, id).unwrap();
        assert_eq!((job.exit_code, job.result, job.attempt), (None, None, 0));
    }

    #[test]
    fn a_job_waits_for_its_dependencies_and_fails_with_them() {
        let (_d, mut store) = store();
        let first = enqueue(&mut store.conn, &command(&["a"]), 0).unwrap();
        let mut second = command(&["b"]);
        second.after = vec![first];
        let second = enqueue(&mut store.conn, &second, 0).unwrap();
        let claimed = claim(&mut store.conn, "r", 0, LEASE).unwrap().unwrap();
        assert_eq!(claimed.id, first);
        assert!(claim(&mut store.conn, "r", 0, LEASE).unwrap().is_none());
        fail(&mut store, first, "r", 5);
        let swept = sweep(&mut store.conn, 6, |_| unreachable!("nothing expired")).unwrap();
        assert_eq!(swept.blocked, vec![second]);
        let job = require(&store.conn, second).unwrap();
        assert_eq!(job.status, Status::Failed);
        assert_eq!(
            job.error.as_deref(),
            Some(format!("job {first}, which this job runs after, is failed").as_str())
        );
        // An unknown dependency is refused before anything is stored.
        let mut bad = command(&["c"]);
        bad.after = vec![999];
        assert!(matches!(
            enqueue(&mut store.conn, &bad, 0),
            Err(QueueError::UnknownJob(999))
        ));
        assert_eq!(list(&store.conn, &Filter::default()).unwrap().len(), 2);
    }

    #[test]
    fn cancel_and_retry_follow_the_table() {
        let (_d, mut store) = store();
        let id = enqueue(&mut store.conn, &command(&["a"]), 0).unwrap();
        assert_eq!(
            request_cancel(&mut store.conn, id, 1).unwrap(),
            Status::Cancelled
        );
        assert!(matches!(
            request_cancel(&mut store.conn, id, 2),
            Err(QueueError::WrongStatus { .. })
        ));
        retry(&mut store.conn, id, 3).unwrap();
        let job = claim(&mut store.conn, "r", 3, LEASE).unwrap().unwrap();
        assert_eq!(
            request_cancel(&mut store.conn, id, 4).unwrap(),
            Status::Running
        );
        let beat = heartbeat(&mut store.conn, "r", &[id], 5, LEASE).unwrap();
        assert_eq!(beat.cancel, vec![job.id]);
        assert!(matches!(
            retry(&mut store.conn, id, 6),
            Err(QueueError::WrongStatus { .. })
        ));
        assert!(matches!(
            retry(&mut store.conn, 77, 6),
            Err(QueueError::UnknownJob(77))
        ));
        // A change outside the table is refused and changes nothing.
        assert!(matches!(
            transition(&store.conn, id, Status::Running, Status::Queued, "", &[], 7),
            Err(QueueError::NotAllowed { .. })
        ));
        assert_eq!(require(&store.conn, id).unwrap().status, Status::Running);
        let ending = Ending::Cancelled {
            reason: "cancelled by request".into(),
        };
        let to = finish(&mut store.conn, id, "r", 8, |_| ending).unwrap();
        assert_eq!(to, Some(Status::Cancelled));
    }

    #[test]
    fn clean_removes_ended_jobs_but_not_what_a_waiting_job_needs() {
        let (_d, mut store) = store();
        let done = enqueue(&mut store.conn, &command(&["a"]), 0).unwrap();
        let mut waiting = command(&["b"]);
        waiting.after = vec![done];
        let waiting = enqueue(&mut store.conn, &waiting, 0).unwrap();
        let other = enqueue(&mut store.conn, &command(&["c"]), 0).unwrap();
        for id in [done, other] {
            claim_id(&mut store.conn, id, "r", 1, LEASE)
                .unwrap()
                .unwrap();
            succeed(&mut store, id, "r", 2);
        }
        assert!(matches!(
            clean(&mut store.conn, 10, Some(Status::Queued)),
            Err(QueueError::NotEnded)
        ));
        // Not yet old enough.
        assert_eq!(clean(&mut store.conn, 2, None).unwrap(), Vec::<i64>::new());
        assert_eq!(clean(&mut store.conn, 10, None).unwrap(), vec![other]);
        assert!(get(&store.conn, done).unwrap().is_some());
        assert!(get(&store.conn, waiting).unwrap().is_some());
        assert!(logs_after(&store.conn, other, -1, 10).unwrap().is_empty());
    }

    #[test]
    fn the_stored_tail_is_bounded_and_continues_over_attempts() {
        let (_d, mut store) = store();
        let id = enqueue(&mut store.conn, &command(&["a"]), 0).unwrap();
        let tx = store.conn.transaction().unwrap();
        let lines: Vec<_> = (0..10)
            .map(|i| (Stream::Stdout, 0, format!("line {i}")))
            .collect();
        let next = append_logs(&tx, id, 1, &lines, 0, 4).unwrap();
        assert_eq!(next, 10);
        let next = append_logs(&tx, id, 2, &lines[..2], 100, 4).unwrap();
        assert_eq!(next, 112);
        tx.commit().unwrap();
        let kept = logs_after(&store.conn, id, -1, 100).unwrap();
        let seqs: Vec<i64> = kept.iter().map(|l| l.seq).collect();
        assert_eq!(seqs, vec![110, 111]);
        assert_eq!(kept[1].attempt, 2);
    }

    #[test]
    fn progress_is_set_only_by_the_holder() {
        let (_d, mut store) = store();
        let id = enqueue(&mut store.conn, &command(&["a"]), 0).unwrap();
        claim_id(&mut store.conn, id, "r", 0, LEASE)
            .unwrap()
            .unwrap();
        set_progress(&store.conn, id, "someone else", 70, 1).unwrap();
        assert_eq!(require(&store.conn, id).unwrap().progress, 0);
        set_progress(&store.conn, id, "r", 30, 2).unwrap();
        let job = require(&store.conn, id).unwrap();
        assert_eq!((job.progress, job.updated_at), (30, 2));
    }

    #[test]
    fn counts_and_run_times_group_by_kind_and_status() {
        let (_d, mut store) = store();
        let a = enqueue(&mut store.conn, &command(&["a"]), 0).unwrap();
        let mut export = command(&["b"]);
        export.kind = JobKind::Export;
        enqueue(&mut store.conn, &export, 0).unwrap();
        claim_id(&mut store.conn, a, "r", 10, LEASE)
            .unwrap()
            .unwrap();
        succeed(&mut store, a, "r", 40);
        let counts = counts(&store.conn).unwrap();
        let seen: Vec<(&str, Status, i64)> = counts
            .iter()
            .map(|c| (c.kind.as_str(), c.status, c.jobs))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("command", Status::Succeeded, 1),
                ("export", Status::Queued, 1)
            ]
        );
        assert_eq!(due_count(&store.conn, 0).unwrap(), 1);
        let times = run_times(&store.conn, &[10, 30, 100]).unwrap();
        assert_eq!(times.len(), 1);
        assert_eq!((times[0].count, times[0].sum_ms), (1, 30.0));
        assert_eq!(times[0].at_most, vec![0, 1, 1]);
    }
}
