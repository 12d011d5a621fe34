//! Routines: work kollega schedules for itself, beside the user's
//! schedules and read by the same scheduler (`jobs::schedule`'s cron
//! expressions and fire times, UTC): nudging untouched action items
//! (`*/15 * * * *`), purging meetings past their retention (`30 2 * * *`)
//! and the daily backup of the store (`0 3 * * *`). A routine's next fire
//! time is a `settings` row (`routine.<kind>.next_at`); [`enqueue_due`]
//! runs on a runner's poll right after the schedules, in an IMMEDIATE
//! transaction, so two runners never enqueue one twice. A missed fire
//! time (no runner was up) runs once, as the schedules' `once` policy.
//!
//! Each watched page or feed (`meetings::watch`) gets a `watch` job when its
//! own period (`--every`) is up, and each subscribed calendar that has no
//! refresh waiting (its waiting one was cancelled) gets one
//! (`meetings::refresh::ensure_waiting`).
//!
//! A routine becomes a job only when it has work: a nudge when an item is
//! due for one, a purge when a meeting is past its retention, a backup
//! once a day (the first at the first fire time after the store is first
//! seen by a runner). So the jobs list holds no empty runs, and a routine is not
//! enqueued while a job of its kind still waits or runs.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::{JobsError, schedule};
use crate::config::MeetingsConfig;
use crate::jobs::payload::JobPayload;
use crate::meetings::{nudge, refresh, retention, watch};
use crate::store::jobs::NewJob;
use crate::store::meetings::{calendar, watches};
use crate::store::settings;

/// (kind, cron expression) of each routine.
pub(crate) const ROUTINES: [(&str, &str); 3] = [
    (nudge::NUDGE, "*/15 * * * *"),
    (retention::RETENTION, "30 2 * * *"),
    (retention::BACKUP, "0 3 * * *"),
];

fn key(kind: &str) -> String {
    format!("routine.{kind}.next_at")
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whether routine `kind` has work at `now`.
fn has_work(
    conn: &Connection,
    kind: &str,
    now: i64,
    config: &MeetingsConfig,
) -> Result<bool, JobsError> {
    Ok(match kind {
        nudge::NUDGE => !nudge::due(conn, now, config.nudge_after)?.is_empty(),
        retention::RETENTION => conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM meetings WHERE end_at < ?1)",
            [now.saturating_sub(ms(config.retention))],
            |r| r.get(0),
        )?,
        _ => true,
    })
}

/// Enqueues each routine whose time has come and that has work: the new
/// jobs' ids.
pub(crate) fn enqueue_due(
    conn: &mut Connection,
    now: i64,
    config: &MeetingsConfig,
) -> Result<Vec<i64>, JobsError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut ids = Vec::new();
    for (kind, expr) in ROUTINES {
        let cron = schedule::parse(expr)?;
        let after = schedule::next_after(&cron, now).unwrap_or(i64::MAX);
        let stored: Option<i64> = settings::get(&tx, &key(kind))?.and_then(|v| v.parse().ok());
        let next = match stored {
            Some(next) => next,
            // A backup waits for its time; the others look at once.
            None if kind == retention::BACKUP => {
                settings::set(&tx, &key(kind), &after.to_string())?;
                continue;
            }
            None => now,
        };
        if next > now {
            continue;
        }
        settings::set(&tx, &key(kind), &after.to_string())?;
        let pending = waiting(&tx, kind, None)?.is_some();
        if pending || !has_work(&tx, kind, now, config)? {
            continue;
        }
        let new = NewJob {
            kind: kind.into(),
            payload: serde_json::json!({ "at": now }),
            max_attempts: super::kinds::default_attempts(&kind.into()),
            ..NewJob::default()
        };
        ids.push(crate::store::jobs::enqueue_in(&tx, &new, now)?);
    }
    ids.extend(enqueue_watches(&tx, now)?);
    ids.extend(refresh::ensure_waiting(&tx, now)?);
    tx.commit()?;
    Ok(ids)
}

/// A `watch` job for each watched page whose period is up and that has
/// none waiting; its period starts again now.
fn enqueue_watches(tx: &rusqlite::Transaction<'_>, now: i64) -> Result<Vec<i64>, JobsError> {
    let mut ids = Vec::new();
    for w in watches::due(tx, now)? {
        watches::touch(tx, w.id, now)?;
        if waiting(tx, watch::WATCH, Some(("watch", w.id)))?.is_none() {
            let payload = watch::WatchPayload { watch: w.id };
            ids.push(crate::store::jobs::enqueue_in(tx, &payload.job(None), now)?);
        }
    }
    Ok(ids)
}

/// One piece of work kollega schedules for itself, as
/// `kollega schedule ls` lists it beside the user's schedules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Routine {
    /// The kind of the jobs it makes.
    pub kind: String,
    /// When it looks for work: a cron expression (UTC) or `every 6 hours`.
    pub when: String,
    /// When it next looks (Unix ms): a waiting job's time when one waits.
    pub next_run_at: i64,
    /// The job of it waiting or running, if there is one.
    pub job_id: Option<i64>,
    /// What it does, with the settings it uses.
    pub what: String,
}

/// The job of `kind` waiting or running whose payload's `field` is `id`
/// (any, for no field): its id and when it runs.
fn waiting(
    conn: &Connection,
    kind: &str,
    field: Option<(&str, i64)>,
) -> Result<Option<(i64, i64)>, JobsError> {
    let (path, id) = match field {
        Some((name, id)) => (format!("$.{name}"), Some(id)),
        None => (String::new(), None),
    };
    Ok(conn
        .query_row(
            "SELECT id, next_run_at FROM jobs
             WHERE kind = ?1 AND status IN ('queued', 'running', 'retrying')
               AND (?3 IS NULL OR json_extract(payload, ?2) = ?3)
             ORDER BY id LIMIT 1",
            params![kind, path, id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Every routine, watched page and subscribed calendar, with when it
/// next looks for work at `now`.
pub(crate) fn list(
    conn: &Connection,
    now: i64,
    config: &MeetingsConfig,
) -> Result<Vec<Routine>, JobsError> {
    let spoken = |d: std::time::Duration| crate::config::shown_duration(d);
    let mut all = Vec::new();
    for (kind, expr) in ROUTINES {
        let stored: Option<i64> = settings::get(conn, &key(kind))?.and_then(|v| v.parse().ok());
        let next = match stored {
            Some(next) => next,
            None => schedule::next_after(&schedule::parse(expr)?, now).unwrap_or(i64::MAX),
        };
        let job = waiting(conn, kind, None)?;
        let what = match kind {
            nudge::NUDGE => format!(
                "nudges action items untouched for {} ([meetings] nudge_after)",
                spoken(config.nudge_after)
            ),
            retention::RETENTION => format!(
                "forgets meetings that ended over {} ago ([meetings] retention)",
                spoken(config.retention)
            ),
            _ => format!(
                "backs up the store, keeping the newest {} ([meetings] backups_keep)",
                config.backups_keep
            ),
        };
        all.push(Routine {
            kind: kind.into(),
            when: expr.into(),
            next_run_at: job.map_or(next, |(_, at)| at),
            job_id: job.map(|(id, _)| id),
            what,
        });
    }
    let every = |secs: i64| match secs {
        60 => "every minute".to_string(),
        3600 => "every hour".to_string(),
        86_400 => "every day".to_string(),
        secs => {
            let secs = u64::try_from(secs).unwrap_or(0);
            format!("every {}", spoken(std::time::Duration::from_secs(secs)))
        }
    };
    for w in watches::list(conn)? {
        let job = waiting(conn, watch::WATCH, Some(("watch", w.id)))?;
        let due = w
            .last_fetched_at
            .map_or(now, |at| at.saturating_add(w.every_s.saturating_mul(1000)));
        all.push(Routine {
            kind: watch::WATCH.into(),
            when: every(w.every_s),
            next_run_at: job.map_or(due.max(now), |(_, at)| at),
            job_id: job.map(|(id, _)| id),
            what: format!("fetches watch {} ({})", w.id, w.url),
        });
    }
    for c in calendar::calendars(conn)? {
        if c.kind != calendar::SourceKind::Url {
            continue;
        }
        let job = waiting(conn, refresh::CALENDAR_REFRESH, Some(("calendar", c.id)))?;
        let every_s = c
            .refresh_every_s
            .filter(|s| *s > 0)
            .unwrap_or(crate::meetings::import::DEFAULT_REFRESH_S);
        all.push(Routine {
            kind: refresh::CALENDAR_REFRESH.into(),
            when: every(every_s),
            // Without a waiting refresh, the next poll queues one now.
            next_run_at: job.map_or(now, |(_, at)| at),
            job_id: job.map(|(id, _)| id),
            what: format!(
                "refreshes calendar {} ({})",
                c.id,
                crate::meetings::import::shown_url(&c.source)
            ),
        });
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meetings::fixture;
    use crate::store::Store;
    use crate::store::meetings::Consent;

    fn kinds(store: &Store, ids: &[i64]) -> Vec<String> {
        ids.iter()
            .map(|id| {
                crate::jobs::queue::require(&store.conn, *id)
                    .unwrap()
                    .kind
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn routines_run_only_with_work_at_their_period_and_never_pile_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let config = MeetingsConfig::default();
        let day = 86_400_000;
        let quarter = 15 * 60_000;
        // An empty store: nothing to do, no job.
        assert!(
            enqueue_due(&mut store.conn, day, &config)
                .unwrap()
                .is_empty()
        );
        // A meeting long past its retention, with an untouched action item.
        let id = fixture::meeting(&mut store.conn, "old", 0, Consent::Basic);
        fixture::fill(&mut store.conn, id, "x");
        let later = 400 * day;
        let ids = enqueue_due(&mut store.conn, later, &config).unwrap();
        assert_eq!(kinds(&store, &ids), ["nudge", "retention", "backup"]);
        // The nudge is still queued: the next period enqueues none.
        let ids = enqueue_due(&mut store.conn, later + quarter, &config).unwrap();
        assert!(ids.is_empty(), "{ids:?}");
        store
            .conn
            .execute("UPDATE jobs SET status = 'succeeded'", [])
            .unwrap();
        let ids = enqueue_due(&mut store.conn, later + 2 * quarter, &config).unwrap();
        assert_eq!(
            kinds(&store, &ids),
            ["nudge"],
            "the daily ones wait their day"
        );
    }
}
