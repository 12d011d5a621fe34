//! Subscribed calendars kept fresh: the `calendar-refresh` job fetches a
//! calendar URL again (a conditional GET with the ETag and Last-Modified
//! of the last answer, so an unchanged calendar costs a 304) and imports
//! what changed.
//!
//! Each subscribed calendar has one refresh waiting at a time, due its
//! `refresh_every_s` after the last one ([`schedule_next`]); the job queues
//! the next when it is done, and the routines ([`ensure_waiting`]) queue
//! one for a subscription left without (its waiting refresh cancelled). A failure (the network, a 5xx, a calendar
//! that does not parse) is recorded on the calendar row, its meetings
//! stay, and the jobs engine retries the job with its backoff; when the
//! attempts run out the next regular refresh is queued all the same, so a
//! subscription outlives an outage.

use rusqlite::{Connection, Transaction, TransactionBehavior};
use serde::Serialize;
use serde_json::{Value, json};

use super::MeetingsError;
use super::import::{self, DEFAULT_REFRESH_S, ImportReport};
use super::zone;
use crate::jobs::kinds::{BoxFuture, Db, JobContext, Kind};
use crate::jobs::payload::{Fields, JobPayload, PayloadError};
use crate::jobs::{JobError, JobKind, JobsError, now_ms};
use crate::store::StoreError;
use crate::store::jobs::{self as store_jobs, QueueError};
use crate::store::meetings::calendar::{self, CalendarRow, SourceKind};

/// The kind's name in the jobs table.
pub(crate) const CALENDAR_REFRESH: &str = "calendar-refresh";

/// Attempts of one refresh before it waits for the next regular one.
const MAX_ATTEMPTS: u32 = 4;

/// `calendar-refresh`: which calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RefreshPayload {
    pub calendar: i64,
}

impl JobPayload for RefreshPayload {
    fn kind() -> JobKind {
        JobKind::Other(CALENDAR_REFRESH.into())
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        let calendar: Option<i64> = f.get("calendar")?;
        let calendar = calendar.ok_or_else(|| f.problem("calendar", "is missing"))?;
        Ok(RefreshPayload { calendar })
    }
}

/// Queues the next refresh of `calendar` (a subscribed URL), due its
/// refresh interval after `now`, unless one other than job `running` (the
/// refresh asking) is already waiting. Answers the waiting job's id, or
/// `None` for a calendar that is not a URL.
pub(crate) fn schedule_next(
    conn: &mut Connection,
    calendar: &CalendarRow,
    now: i64,
    running: Option<i64>,
) -> Result<Option<i64>, MeetingsError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::from)?;
    let id = queue_next(&tx, calendar, now, now, running)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(id)
}

/// `schedule_next` inside the caller's transaction, the interval counted
/// from `since`.
fn queue_next(
    tx: &Transaction<'_>,
    calendar: &CalendarRow,
    since: i64,
    now: i64,
    running: Option<i64>,
) -> Result<Option<i64>, QueueError> {
    if calendar.kind != SourceKind::Url {
        return Ok(None);
    }
    if let Some(id) = calendar::pending_job(tx, CALENDAR_REFRESH, calendar.id, running)? {
        return Ok(Some(id));
    }
    let every_ms = calendar
        .refresh_every_s
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_REFRESH_S)
        .saturating_mul(1000);
    let mut job = RefreshPayload {
        calendar: calendar.id,
    }
    .job(None);
    job.max_attempts = MAX_ATTEMPTS;
    job.run_at = Some(since.saturating_add(every_ms).max(now));
    Ok(Some(store_jobs::enqueue_in(tx, &job, now)?))
}

/// Gives every subscribed calendar that has no refresh waiting one, due
/// its interval after its last fetch (at once when that has passed): a
/// refresh cancelled by hand, or lost with a store restored from a
/// backup, does not end the subscription. Answers the new jobs' ids.
/// Called by `jobs::routine` on every runner poll.
pub(crate) fn ensure_waiting(tx: &Transaction<'_>, now: i64) -> Result<Vec<i64>, QueueError> {
    let mut ids = Vec::new();
    for row in calendar::calendars(tx)? {
        if row.kind != SourceKind::Url
            || calendar::pending_job(tx, CALENDAR_REFRESH, row.id, None)?.is_some()
        {
            continue;
        }
        let since = row.last_fetched_at.unwrap_or(now);
        ids.extend(queue_next(tx, &row, since, now, None)?);
    }
    Ok(ids)
}

/// The `calendar-refresh` job kind.
pub(crate) struct RefreshKind;

impl Kind for RefreshKind {
    fn kind(&self) -> JobKind {
        JobKind::Other(CALENDAR_REFRESH.into())
    }

    /// A server's passing trouble is retried with the engine's backoff.
    fn max_attempts(&self) -> u32 {
        MAX_ATTEMPTS
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        Box::pin(async move {
            let payload = RefreshPayload::of(&ctx.job)?;
            let attempt = Attempt {
                job: ctx.job.id,
                last_try: ctx.job.attempt >= ctx.job.max_attempts,
            };
            let done = refresh(
                &ctx.db,
                payload.calendar,
                attempt,
                zone::user_zone(),
                now_ms,
            )
            .await;
            // A failure is logged by the runner with the attempt it ended.
            if let Ok(result) = &done {
                ctx.log
                    .info(&format!("calendar {}: {result}", payload.calendar));
            }
            done
        })
    }
}

fn store_error(e: JobsError) -> JobError {
    JobError::transient(format!("the store: {e}"))
}

/// The attempt of a refresh job that is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// The job's id: it is not the next refresh.
    pub job: i64,
    /// The engine will not retry it: the next regular refresh is queued
    /// even when this one fails.
    pub last_try: bool,
}

/// Refreshes calendar `id` through `db`: fetched without holding the
/// store, then stored and the next refresh queued in one store call.
/// `clock` reads the time after the fetch.
pub(crate) async fn refresh(
    db: &Db,
    id: i64,
    attempt: Attempt,
    zone: chrono_tz::Tz,
    clock: fn() -> i64,
) -> Result<Value, JobError> {
    let Attempt { job, last_try } = attempt;
    let known = db
        .call(move |store| Ok(calendar::calendar(&store.conn, id)?))
        .await
        .map_err(store_error)?;
    let Some(known) = known else {
        // Removed since the job was queued: nothing to refresh any more.
        return Ok(json!({ "calendar": id, "removed": true }));
    };
    if known.kind != SourceKind::Url {
        return Err(JobError::permanent(format!(
            "calendar {id} is the file {}, which is imported, not subscribed; `kollega meetings import FILE` reads it again",
            known.source
        )));
    }
    let fetched = import::fetch(
        &known.source,
        known.etag.as_deref(),
        known.last_modified.as_deref(),
    )
    .await;
    let (stored, next) = db
        .call(move |store| {
            let now = clock();
            let stored = import::store_fetched(
                &mut store.conn,
                &known.source,
                Some(&known),
                fetched,
                zone,
                now,
            );
            // A calendar that does not parse parses no better in a minute.
            let ends = last_try || matches!(stored, Err(MeetingsError::Malformed { .. }));
            let next = if stored.is_ok() || ends {
                let row = calendar::calendar(&store.conn, id)?;
                match row {
                    Some(row) => schedule_next(&mut store.conn, &row, now, Some(job)),
                    None => Ok(None),
                }
            } else {
                Ok(None)
            };
            Ok((stored, next))
        })
        .await
        .map_err(store_error)?;
    let next = next.map_err(|e| JobError::transient(e.to_string()))?;
    match stored {
        Ok(report) => Ok(result(&report, next)),
        Err(e @ MeetingsError::Malformed { .. }) => Err(JobError::permanent(format!(
            "{e}; the meetings stay as they were, and the next refresh{} reads it again",
            queued(next)
        ))),
        Err(e) => Err(JobError::transient(format!(
            "{e}; the meetings stay as they were{}",
            if last_try {
                format!(", and the next refresh{} tries again", queued(next))
            } else {
                String::new()
            }
        ))),
    }
}

fn queued(next: Option<i64>) -> String {
    next.map(|id| format!(" (job {id})")).unwrap_or_default()
}

/// A refresh's result as the job records it.
fn result(report: &ImportReport, next: Option<i64>) -> Value {
    let c = &report.counts;
    json!({
        "calendar": c.calendar,
        "notModified": report.not_modified,
        "imported": c.imported,
        "updated": c.updated,
        "cancelled": c.cancelled,
        "unchanged": c.unchanged,
        "skipped": report.skipped.len(),
        "nextJob": next,
    })
}

#[cfg(test)]
mod tests;
