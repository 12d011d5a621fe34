//! The clean-up routines: `retention` (daily) purges the meetings that
//! ended longer ago than `[meetings] retention` (365 days) exactly as
//! `kollega meetings forget` does (the store's `meetings::forget`: every
//! row hung on the meeting and its AI call records, an audit entry of
//! counts each), then scrubs the freed pages; `backup` (daily) writes a
//! copy of the store under `<data dir>/backups` and keeps the newest
//! `[meetings] backups_keep` (30).

use serde_json::{Value, json};

use crate::ai::ask::say;
use crate::error::describe;
use crate::jobs::kinds::{BoxFuture, JobContext, Kind};
use crate::jobs::runner::Clock;
use crate::jobs::{JobError, JobKind, JobsError};
use crate::store::meetings;

pub(crate) const RETENTION: &str = "retention";
pub(crate) const BACKUP: &str = "backup";

/// Purges the meetings that ended before `cutoff`: how many, and the rows.
pub(crate) fn purge(
    conn: &mut rusqlite::Connection,
    cutoff: i64,
    now: i64,
) -> crate::store::Result<(usize, usize)> {
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM meetings WHERE end_at < ?1 ORDER BY id")?
        .query_map([cutoff], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let (mut purged, mut rows) = (0, 0);
    for id in ids {
        if let Some(gone) = meetings::forget(conn, id, now)? {
            purged += 1;
            rows += gone.rows();
        }
    }
    if purged > 0 {
        meetings::scrub(conn)?;
    }
    Ok((purged, rows))
}

/// The `retention` routine.
pub(crate) struct RetentionJob {
    clock: Clock,
}

impl RetentionJob {
    pub(crate) fn new() -> RetentionJob {
        RetentionJob {
            clock: Clock::System,
        }
    }

    #[cfg(test)]
    pub(crate) fn on(clock: Clock) -> RetentionJob {
        RetentionJob { clock }
    }
}

impl Kind for RetentionJob {
    fn kind(&self) -> JobKind {
        JobKind::Other(RETENTION.into())
    }

    fn max_attempts(&self) -> u32 {
        3
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        let now = self.clock.now();
        Box::pin(async move {
            let keep = i64::try_from(ctx.config.meetings.retention.as_millis()).unwrap_or(i64::MAX);
            let cutoff = now.saturating_sub(keep);
            let (purged, rows) = ctx
                .db
                .call(move |store| Ok(purge(&mut store.conn, cutoff, now)?))
                .await
                .map_err(JobError::from_store)?;
            say(
                &ctx,
                &format!(
                    "{purged} meeting(s) past retention purged ({rows} rows), ended before {}",
                    crate::jobs::format_ms(cutoff)
                ),
            );
            Ok(json!({ "purged": purged, "rows": rows }))
        })
    }
}

/// The daily `backup` routine.
pub(crate) struct BackupJob {
    clock: Clock,
}

impl BackupJob {
    pub(crate) fn new() -> BackupJob {
        BackupJob {
            clock: Clock::System,
        }
    }

    #[cfg(test)]
    pub(crate) fn on(clock: Clock) -> BackupJob {
        BackupJob { clock }
    }
}

impl Kind for BackupJob {
    fn kind(&self) -> JobKind {
        JobKind::Other(BACKUP.into())
    }

    fn max_attempts(&self) -> u32 {
        3
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        let now = self.clock.now();
        Box::pin(async move {
            let keep = ctx.config.meetings.backups_keep;
            let dir = ctx.data_dir.clone();
            let done = ctx
                .db
                .call(move |store| {
                    crate::store::backup::daily(&store.conn, &dir, keep, now)
                        .map_err(|e| JobsError::BadInput(describe(&e)))
                })
                .await
                .map_err(JobError::from_store)?;
            let (copied, removed) = done;
            say(
                &ctx,
                &format!(
                    "backup {} ({} bytes); {} older copy(ies) removed",
                    copied.path.display(),
                    copied.bytes,
                    removed.len()
                ),
            );
            Ok(json!({ "path": copied.path, "bytes": copied.bytes, "removed": removed }))
        })
    }
}

#[cfg(test)]
mod tests;
