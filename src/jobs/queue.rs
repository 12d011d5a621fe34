//! The queries of the `jobs`, `job_deps`, `job_logs` and `runners` tables.
//!
//! Every function takes the time as `now` (Unix ms) so that tests can move
//! it. Every status write goes through [`transition`], which refuses a
//! change [`Status::can_become`] does not allow and names the status it
//! expects to leave in its `WHERE`, so two processes racing for one job
//! change it once.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde_json::Value;

use super::{ErrorClass, JobError, JobsError, Status, backoff};

type Result<T, E = JobsError> = std::result::Result<T, E>;

/// What `enqueue` needs.
#[derive(Debug, Clone, Default)]
pub struct NewJob {
    pub kind: String,
    pub workspace: Option<String>,
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
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub workspace: Option<String>,
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
    pub fn duration_ms(&self, now: i64) -> Option<i64> {
        let start = self.started_at?;
        match (self.status, self.finished_at) {
            (Status::Running, _) => Some(now - start),
            (_, Some(end)) => Some(end - start),
            // Waiting for a retry: the last attempt's time is not known.
            _ => None,
        }
    }

    /// A one-line description: the command line, or the kind's target.
    pub fn title(&self) -> String {
        if let Some(argv) = self.payload.get("argv").and_then(Value::as_array) {
            let words: Vec<&str> = argv.iter().filter_map(Value::as_str).collect();
            return words.join(" ");
        }
        if let Some(task) = self.payload.get("title").and_then(Value::as_str) {
            return task.to_string();
        }
        self.kind.clone()
    }
}

const COLUMNS: &str = "id, kind, workspace, payload, status, progress, attempt, max_attempts, \
     retry_failed, next_run_at, timeout_ms, lease_owner, lease_expires_at, cancel_requested, \
     error, result, exit_code, cwd, env, log_lines, schedule_id, created_at, started_at, \
     finished_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    let status: String = row.get(4)?;
    Ok(Job {
        id: row.get(0)?,
        kind: row.get(1)?,
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
    })
}

fn with_deps(conn: &Connection, mut job: Job) -> Result<Job> {
    let mut stmt =
        conn.prepare_cached("SELECT after_id FROM job_deps WHERE job_id = ?1 ORDER BY after_id")?;
    job.after = stmt
        .query_map([job.id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(job)
}

/// Adds a job; its `--after` jobs must exist.
pub fn enqueue(conn: &mut Connection, new: &NewJob, now: i64) -> Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id = enqueue_in(&tx, new, now)?;
    tx.commit()?;
    Ok(id)
}

/// `enqueue` inside the caller's transaction.
pub fn enqueue_in(tx: &Transaction<'_>, new: &NewJob, now: i64) -> Result<i64> {
    for after in &new.after {
        if get_in(tx, *after)?.is_none() {
            return Err(JobsError::UnknownJob(*after));
        }
    }
    tx.execute(
        "INSERT INTO jobs (kind, workspace, payload, status, max_attempts, retry_failed, \
         next_run_at, timeout_ms, schedule_id, created_at, updated_at) \
         VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            new.kind,
            new.workspace,
            new.payload.to_string(),
            new.max_attempts.max(1),
            new.retry_failed,
            new.run_at.unwrap_or(now),
            new.timeout_ms,
            new.schedule_id,
            now,
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

pub fn get(conn: &Connection, id: i64) -> Result<Option<Job>> {
    get_in(conn, id)
}

fn get_in(conn: &Connection, id: i64) -> Result<Option<Job>> {
    let job = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?;
    job.map(|j| with_deps(conn, j)).transpose()
}

/// `get`, or the error that names the id.
pub fn require(conn: &Connection, id: i64) -> Result<Job> {
    get(conn, id)?.ok_or(JobsError::UnknownJob(id))
}

/// Which jobs `list` returns.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<Status>,
    pub kind: Option<String>,
    pub workspace: Option<String>,
    /// Only jobs changed after this time (the TUI's poll).
    pub updated_after: Option<i64>,
    pub limit: Option<usize>,
}

/// Jobs, newest first.
pub fn list(conn: &Connection, filter: &Filter) -> Result<Vec<Job>> {
    let mut sql = format!("SELECT {COLUMNS} FROM jobs WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(status) = filter.status {
        sql.push_str(" AND status = ?");
        args.push(status.as_str().to_string().into());
    }
    if let Some(kind) = &filter.kind {
        sql.push_str(" AND kind = ?");
        args.push(kind.clone().into());
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
    jobs.into_iter().map(|j| with_deps(conn, j)).collect()
}

/// Changes a job's status from `from` to `to`, with the extra assignments
/// in `set` (SQL, `?1` is the id, `?2` the time, then `args`). Returns
/// whether the row was in `from` (and so changed).
///
/// A change the status table does not allow is a bug in the caller: it is
/// refused, logged, and reported as an error.
pub fn transition(
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
        return Err(JobsError::BadInput(format!(
            "job {id}: a change from {from} to {to} is not allowed"
        )));
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

/// Claims the next ready job for `owner`: queued or retrying, due, and
/// every job it waits for succeeded. Counts the attempt and sets the lease.
pub fn claim(conn: &mut Connection, owner: &str, now: i64, lease_ms: i64) -> Result<Option<Job>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let id: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM jobs WHERE status IN ('queued', 'retrying') AND next_run_at <= ?1 \
             AND NOT EXISTS (SELECT 1 FROM job_deps d JOIN jobs a ON a.id = d.after_id \
                             WHERE d.job_id = jobs.id AND a.status <> 'succeeded') \
             ORDER BY next_run_at, id LIMIT 1",
        )?
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
pub fn enqueue_claimed(
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
        false => get_in(&tx, id)?,
    };
    tx.commit()?;
    job.ok_or(JobsError::UnknownJob(id))
}

fn claim_ready(conn: &Connection, id: i64, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM jobs WHERE id = ?1 AND next_run_at <= ?2 \
             AND NOT EXISTS (SELECT 1 FROM job_deps d JOIN jobs a ON a.id = d.after_id \
                             WHERE d.job_id = jobs.id AND a.status <> 'succeeded')",
        )?
        .query_row(params![id, now], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Claims one job by id (a foreground `kollega run`); `None` when it is
/// not queued or retrying.
pub fn claim_id(
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
    let Some(job) = get_in(tx, id)? else {
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
    get_in(tx, id)
}

/// What `sweep` changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Running jobs whose runner stopped renewing the lease.
    pub expired: Vec<i64>,
    /// Waiting jobs failed because a job they wait for did not succeed.
    pub blocked: Vec<i64>,
}

/// Takes back jobs whose lease expired (retrying, or dead when the
/// attempts ran out) and fails jobs whose `--after` jobs ended badly.
pub fn sweep(conn: &mut Connection, now: i64) -> Result<Swept> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut swept = Swept::default();
    let expired: Vec<(i64, u32, u32, Option<String>)> = tx
        .prepare_cached(
            "SELECT id, attempt, max_attempts, lease_owner FROM jobs \
             WHERE status = 'running' AND lease_expires_at < ?1",
        )?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, attempt, max, owner) in expired {
        let owner = owner.unwrap_or_default();
        let message = format!("the runner {owner} stopped renewing its lease (killed or cut off)");
        let to = if attempt < max {
            Status::Retrying
        } else {
            Status::Dead
        };
        let next = now + backoff::delay_ms(attempt, id);
        let changed = transition(
            &tx,
            id,
            Status::Running,
            to,
            "lease_owner = NULL, lease_expires_at = NULL, error = ?3, next_run_at = ?4, \
             finished_at = CASE WHEN ?5 THEN ?2 ELSE NULL END",
            &[&message, &next, &to.is_final()],
            now,
        )?;
        if changed {
            let line = match to {
                Status::Retrying => format!("{message}; attempt {attempt} of {max} is retried"),
                _ => format!("{message}; no attempts left ({attempt} of {max})"),
            };
            append_info(&tx, id, attempt, &line, now)?;
            swept.expired.push(id);
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
pub struct Beat {
    /// Jobs someone asked to cancel.
    pub cancel: Vec<i64>,
    /// Jobs this runner no longer holds (its lease expired and another
    /// runner took them): stop them without writing their end.
    pub lost: Vec<i64>,
}

/// Renews the leases of `ids` held by `owner`.
pub fn heartbeat(
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

/// How an attempt ended, as the runner saw it.
#[derive(Debug, Clone)]
pub enum Outcome {
    Succeeded(Value),
    Error(JobError),
    Cancelled(String),
}

/// Writes the end of an attempt held by `owner`. Returns the status the
/// job is in now, or `None` when `owner` no longer held it.
pub fn finish(
    conn: &mut Connection,
    id: i64,
    owner: &str,
    outcome: &Outcome,
    now: i64,
) -> Result<Option<Status>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(job) = get_in(&tx, id)? else {
        return Ok(None);
    };
    if job.status != Status::Running || job.lease_owner.as_deref() != Some(owner) {
        return Ok(None);
    }
    let clear = "lease_owner = NULL, lease_expires_at = NULL";
    let to = match outcome {
        Outcome::Succeeded(result) => {
            let exit = result
                .get("exit_code")
                .and_then(Value::as_i64)
                .map(|c| c as i32);
            transition(
                &tx,
                id,
                Status::Running,
                Status::Succeeded,
                &format!(
                    "{clear}, result = ?3, exit_code = ?4, error = NULL, progress = 100, finished_at = ?2"
                ),
                &[&result.to_string(), &exit],
                now,
            )?;
            Status::Succeeded
        }
        Outcome::Cancelled(reason) => {
            transition(
                &tx,
                id,
                Status::Running,
                Status::Cancelled,
                &format!("{clear}, error = ?3, finished_at = ?2"),
                &[reason],
                now,
            )?;
            append_info(&tx, id, job.attempt, reason, now)?;
            Status::Cancelled
        }
        Outcome::Error(err) => {
            let attempts_left = job.attempt < job.max_attempts;
            let to = match err.class {
                ErrorClass::Permanent => Status::Dead,
                ErrorClass::Transient if attempts_left => Status::Retrying,
                ErrorClass::Transient => Status::Dead,
                ErrorClass::Failed if attempts_left && job.retry_failed => Status::Retrying,
                ErrorClass::Failed if job.retry_failed => Status::Dead,
                ErrorClass::Failed => Status::Failed,
            };
            let next = now + backoff::delay_ms(job.attempt, id);
            transition(
                &tx,
                id,
                Status::Running,
                to,
                &format!(
                    "{clear}, error = ?3, exit_code = ?4, next_run_at = ?5, \
                     finished_at = CASE WHEN ?6 THEN ?2 ELSE NULL END"
                ),
                &[&err.message, &err.exit_code, &next, &to.is_final()],
                now,
            )?;
            let line = match to {
                Status::Retrying => format!(
                    "attempt {} of {} failed: {}; next attempt in {}",
                    job.attempt,
                    job.max_attempts,
                    err.message,
                    super::format_duration(next - now)
                ),
                Status::Dead if err.class == ErrorClass::Permanent => {
                    format!("{} (permanent; not retried)", err.message)
                }
                Status::Dead => format!(
                    "{} (attempt {} of {}; no attempts left)",
                    err.message, job.attempt, job.max_attempts
                ),
                _ => err.message.clone(),
            };
            append_info(&tx, id, job.attempt, &line, now)?;
            to
        }
    };
    tx.commit()?;
    Ok(Some(to))
}

/// Sets a running job's progress (0 to 100).
pub fn set_progress(conn: &Connection, id: i64, owner: &str, progress: u8, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE jobs SET progress = ?3, updated_at = ?4 \
         WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'",
    )?
    .execute(params![id, owner, progress.min(100), now])?;
    Ok(())
}

/// Records where a running job works and what it adds to the environment.
pub fn set_place(conn: &Connection, id: i64, cwd: &str, env: &Value, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE jobs SET cwd = ?2, env = ?3, updated_at = ?4 WHERE id = ?1")?
        .execute(params![id, cwd, env.to_string(), now])?;
    Ok(())
}

/// `jobs cancel`: a waiting job is cancelled at once; a running one is
/// asked to stop (its runner kills it at its next heartbeat). Returns the
/// status after the request.
pub fn request_cancel(conn: &mut Connection, id: i64, now: i64) -> Result<Status> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let job = get_in(&tx, id)?.ok_or(JobsError::UnknownJob(id))?;
    let status = match job.status {
        Status::Queued | Status::Retrying => {
            let reason = "cancelled before it ran";
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
            return Err(JobsError::WrongStatus {
                id,
                status,
                allowed: "queued, retrying or running",
                action: "cancelled",
            });
        }
    };
    tx.commit()?;
    Ok(status)
}

/// `jobs retry`: a failed, dead or cancelled job is queued again with its
/// attempts counted from zero. Its last error goes into the log.
pub fn retry(conn: &mut Connection, id: i64, now: i64) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let job = get_in(&tx, id)?.ok_or(JobsError::UnknownJob(id))?;
    if !job.status.can_become(Status::Queued) {
        return Err(JobsError::WrongStatus {
            id,
            status: job.status,
            allowed: "failed, dead or cancelled",
            action: "retried",
        });
    }
    transition(
        &tx,
        id,
        job.status,
        Status::Queued,
        "attempt = 0, next_run_at = ?2, cancel_requested = 0, error = NULL, \
         exit_code = NULL, finished_at = NULL, progress = 0",
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
pub fn clean(conn: &mut Connection, before: i64, status: Option<Status>) -> Result<Vec<i64>> {
    if status.is_some_and(|s| !s.is_final()) {
        return Err(JobsError::BadInput(
            "only ended jobs are cleaned: succeeded, failed, dead or cancelled".into(),
        ));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ids: Vec<i64> = tx
        .prepare(
            "SELECT id FROM jobs j WHERE status IN ('succeeded', 'failed', 'dead', 'cancelled') \
             AND finished_at < ?1 AND (?2 IS NULL OR status = ?2) \
             AND NOT EXISTS (SELECT 1 FROM job_deps d JOIN jobs w ON w.id = d.job_id \
                             WHERE d.after_id = j.id \
                               AND w.status NOT IN ('succeeded', 'failed', 'dead', 'cancelled')) \
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
pub struct LogLine {
    pub seq: i64,
    pub attempt: u32,
    pub stream: Stream,
    pub at: i64,
    pub line: String,
}

/// Which stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
    /// Written by kollega: attempts, retries, errors.
    Info,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
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

/// Appends lines (stream, time, text) to a job's stored tail and keeps at
/// most `keep` lines of it. Returns the seq after the last line.
pub fn append_logs(
    tx: &Transaction<'_>,
    id: i64,
    attempt: u32,
    lines: &[(Stream, i64, String)],
    skipped: i64,
    keep: i64,
) -> Result<i64> {
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
pub fn append_info(
    tx: &Transaction<'_>,
    id: i64,
    attempt: u32,
    line: &str,
    now: i64,
) -> Result<()> {
    append_logs(
        tx,
        id,
        attempt,
        &[(Stream::Info, now, format!("[kollega] {line}"))],
        0,
        super::log::TAIL_LINES,
    )?;
    Ok(())
}

/// Stored lines of a job after `after_seq`, oldest first, at most `limit`.
pub fn logs_after(
    conn: &Connection,
    id: i64,
    after_seq: i64,
    limit: usize,
) -> Result<Vec<LogLine>> {
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

/// Which kind of process a runner lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Worker,
    Tui,
    Cli,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Tui => "tui",
            Role::Cli => "cli",
        }
    }
}

pub fn register_runner(conn: &Connection, id: &str, role: Role, now: i64) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO runners (id, role, pid, host, started_at, heartbeat_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![
            id,
            role.as_str(),
            std::process::id(),
            crate::store::locks::hostname(),
            now
        ],
    )?;
    Ok(())
}

pub fn runner_heartbeat(conn: &Connection, id: &str, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE runners SET heartbeat_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

pub fn remove_runner(conn: &Connection, id: &str) -> Result<()> {
    conn.execute("DELETE FROM runners WHERE id = ?1", [id])?;
    Ok(())
}

/// Whether a `kollega worker` has sent a heartbeat since `since`.
pub fn live_worker(conn: &Connection, since: i64) -> Result<bool> {
    Ok(live_workers(conn, since)? > 0)
}

/// How many `kollega worker`s have sent a heartbeat since `since`.
pub fn live_workers(conn: &Connection, since: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM runners WHERE role = 'worker' AND heartbeat_at >= ?1",
        )?
        .query_row([since], |r| r.get(0))?)
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
            kind: "command".into(),
            workspace: Some("demo".into()),
            payload: serde_json::json!({ "argv": argv }),
            max_attempts: 3,
            ..NewJob::default()
        }
    }

    const LEASE: i64 = 30_000;

    #[test]
    fn a_claimed_job_is_held_once() {
        let (_d, mut store) = store();
        let id = enqueue(&mut store.conn, &command(&["true"]), 1000).unwrap();
        let job = claim(&mut store.conn, "a", 1000, LEASE).unwrap().unwrap();
        assert_eq!((job.id, job.status, job.attempt), (id, Status::Running, 1));
        assert_eq!(job.lease_expires_at, Some(1000 + LEASE));
        assert!(claim(&mut store.conn, "b", 1001, LEASE).unwrap().is_none());
        let end = finish(
            &mut store.conn,
            id,
            "a",
            &Outcome::Succeeded(serde_json::json!({"exit_code": 0})),
            2000,
        )
        .unwrap();
        assert_eq!(end, Some(Status::Succeeded));
        let job = require(&store.conn, id).unwrap();
        assert_eq!(job.exit_code, Some(0));
        assert_eq!(job.duration_ms(9999), Some(1000));
    }

    #[test]
    fn a_lost_runner_is_replaced_after_its_lease_with_the_attempt_counted() {
        let (_d, mut store) = store();
        let id = enqueue(&mut store.conn, &command(&["sleep", "9"]), 0).unwrap();
        claim(&mut store.conn, "dead", 0, LEASE).unwrap().unwrap();
        // Before the lease ends nothing changes.
        assert_eq!(sweep(&mut store.conn, LEASE - 1).unwrap(), Swept::default());
        let swept = sweep(&mut store.conn, LEASE + 1).unwrap();
        assert_eq!(swept.expired, vec![id]);
        let job = require(&store.conn, id).unwrap();
        assert_eq!(job.status, Status::Retrying);
        assert!(job.error.unwrap().contains("dead"));
        let later = job.next_run_at;
        let again = claim(&mut store.conn, "b", later, LEASE).unwrap().unwrap();
        assert_eq!(again.attempt, 2);
        // The old runner's late answer is ignored.
        let late = finish(
            &mut store.conn,
            id,
            "dead",
            &Outcome::Succeeded(Value::Null),
            later,
        );
        assert_eq!(late.unwrap(), None);
        let beat = heartbeat(&mut store.conn, "dead", &[id], later, LEASE).unwrap();
        assert_eq!(beat.lost, vec![id]);
    }

    #[test]
    fn errors_are_sorted_into_retrying_dead_and_failed() {
        let (_d, mut store) = store();
        let run = |store: &mut Store, new: NewJob, err: JobError| {
            let id = enqueue(&mut store.conn, &new, 0).unwrap();
            let mut now = 0;
            let mut seen = Vec::new();
            while let Some(job) = claim_id(&mut store.conn, id, "r", now, LEASE).unwrap() {
                let to = finish(
                    &mut store.conn,
                    job.id,
                    "r",
                    &Outcome::Error(err.clone()),
                    now,
                )
                .unwrap()
                .unwrap();
                seen.push(to);
                now = require(&store.conn, id).unwrap().next_run_at;
            }
            seen
        };
        use Status::*;
        assert_eq!(
            run(&mut store, command(&["x"]), JobError::transient("net")),
            vec![Retrying, Retrying, Dead]
        );
        assert_eq!(
            run(&mut store, command(&["x"]), JobError::permanent("400")),
            vec![Dead]
        );
        assert_eq!(
            run(&mut store, command(&["x"]), JobError::failed("exit 1")),
            vec![Failed]
        );
        let mut retried = command(&["x"]);
        retried.retry_failed = true;
        retried.max_attempts = 2;
        assert_eq!(
            run(&mut store, retried, JobError::failed("exit 1")),
            vec![Retrying, Dead]
        );
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
        finish(
            &mut store.conn,
            first,
            "r",
            &Outcome::Error(JobError::failed("exit 2")),
            5,
        )
        .unwrap();
        let swept = sweep(&mut store.conn, 6).unwrap();
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
            Err(JobsError::UnknownJob(999))
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
            Err(JobsError::WrongStatus { .. })
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
            Err(JobsError::WrongStatus { .. })
        ));
        assert!(matches!(
            retry(&mut store.conn, 77, 6),
            Err(JobsError::UnknownJob(77))
        ));
        // A change outside the table is refused and changes nothing.
        assert!(transition(&store.conn, id, Status::Running, Status::Queued, "", &[], 7).is_err());
        assert_eq!(require(&store.conn, id).unwrap().status, Status::Running);
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
            finish(
                &mut store.conn,
                id,
                "r",
                &Outcome::Succeeded(Value::Null),
                2,
            )
            .unwrap();
        }
        assert!(matches!(
            clean(&mut store.conn, 10, Some(Status::Queued)),
            Err(JobsError::BadInput(_))
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
}
