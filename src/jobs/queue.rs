//! The job protocol over the store's queue (`store::jobs`): how an
//! attempt's end is sorted into the next status by its error class and the
//! attempts left, and what a job whose runner stopped answering becomes.
//! Both wait the backoff before a retry.
//!
//! The queries the verbs, the runner and the TUI use are the store's,
//! re-exported here so that a caller speaks to the queue in one place.

use rusqlite::Connection;
use serde_json::Value;

use super::{ErrorClass, JobError, JobKind, JobsError, ProgramEnd, Status, backoff};
use crate::store::jobs::{self as store_jobs, Ending, Expired, Requeue};
pub(crate) use crate::store::jobs::{
    Filter, Job, LogLine, NewJob, QueueError, Stream, Swept, append_logs, cancels_requested, claim,
    claim_id, clean, enqueue, enqueue_claimed, enqueue_in, heartbeat, list, logs_after,
    request_cancel, require, retry, set_place, set_progress,
};
pub(crate) use crate::store::runners::Role;

/// The jobs that wait, interrupted, for a person's word; the newest first.
pub(crate) fn interrupted(conn: &Connection) -> Result<Vec<Job>, crate::store::StoreError> {
    list(
        conn,
        &Filter {
            status: Some(Status::Interrupted),
            ..Filter::default()
        },
    )
}

/// What a start says of the interrupted `jobs` (none: nothing), with `how`
/// a person runs one again: "1 job was interrupted when kollega stopped
/// (12 make deploy): r in the jobs view re-runs it".
pub(crate) fn interrupted_line(jobs: &[Job], how: &str) -> Option<String> {
    match jobs {
        [] => None,
        [job] => Some(format!(
            "1 job was interrupted when kollega stopped ({} {}): {how} re-runs it",
            job.id,
            job.title()
        )),
        _ => {
            let ids: Vec<String> = jobs.iter().map(|j| j.id.to_string()).collect();
            Some(format!(
                "{} jobs were interrupted when kollega stopped ({}): {how} re-runs one",
                jobs.len(),
                ids.join(", ")
            ))
        }
    }
}

/// How an attempt ended, as the runner saw it.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Succeeded(Value),
    Error(JobError),
    Cancelled(String),
    /// Its runner stopped mid-attempt (kollega quit, a hangup): retried
    /// like a transient error when the kind may run again by itself
    /// ([`reruns_by_itself`]), interrupted otherwise.
    Interrupted(String),
    /// Stopped to be handed over: queued at once for another runner, which
    /// runs it again from the start.
    HandedOver(String),
}

/// Whether a job of `kind` whose runner went away mid-attempt may run again
/// by itself. kollega's own work (imports, exports, git, model calls) may:
/// running it twice does no harm. A command is the person's own program
/// (`make deploy`), which kollega cannot know to be safe to run twice: it
/// waits, interrupted, for `jobs retry`.
pub(crate) fn reruns_by_itself(kind: &JobKind) -> bool {
    *kind != JobKind::Command
}

/// The line that tells how to run an interrupted job again.
pub(crate) fn interrupted_hint(id: i64) -> String {
    format!(
        "not run again by itself: `kollega jobs retry {id}` (or retry in the jobs view) runs it again, `kollega jobs cancel {id}` drops it"
    )
}

/// Writes the end of an attempt held by `owner`: a success, a cancel, or
/// an error sorted by its class into retrying (after the backoff), failed
/// or dead. Returns the status the job is in now, or `None` when `owner`
/// no longer held it.
pub(crate) fn finish(
    conn: &mut Connection,
    id: i64,
    owner: &str,
    outcome: &Outcome,
    now: i64,
) -> Result<Option<Status>, JobsError> {
    Ok(store_jobs::finish(conn, id, owner, now, |job| {
        ending(job, outcome, now)
    })?)
}

/// The end `finish` writes for `outcome` of the attempt `job` ran.
fn ending(job: &Job, outcome: &Outcome, now: i64) -> Ending {
    let err = match outcome {
        Outcome::Succeeded(result) => {
            return Ending::Succeeded {
                result: result.clone(),
                exit_code: ProgramEnd::of_result(result).map(|end| end.exit_code),
            };
        }
        Outcome::Cancelled(reason) => {
            return Ending::Cancelled {
                reason: reason.clone(),
            };
        }
        Outcome::Error(err) => err.clone(),
        Outcome::Interrupted(reason) if !reruns_by_itself(&job.kind) => {
            return Ending::Unsuccessful {
                status: Status::Interrupted,
                error: reason.clone(),
                exit_code: None,
                result: None,
                next_run_at: now,
                line: format!("{reason}; {}", interrupted_hint(job.id)),
            };
        }
        Outcome::Interrupted(reason) => JobError::transient(reason.clone()),
        Outcome::HandedOver(reason) => {
            return Ending::Unsuccessful {
                status: Status::Retrying,
                error: reason.clone(),
                exit_code: None,
                result: None,
                next_run_at: now,
                line: format!(
                    "{reason}; the worker runs it again from the start (attempt {})",
                    job.attempt + 1
                ),
            };
        }
    };
    let attempts_left = job.attempt < job.max_attempts;
    let status = match err.class {
        ErrorClass::Permanent => Status::Dead,
        ErrorClass::Transient if attempts_left => Status::Retrying,
        ErrorClass::Transient => Status::Dead,
        ErrorClass::Failed if attempts_left && job.retry_failed => Status::Retrying,
        ErrorClass::Failed if job.retry_failed => Status::Dead,
        ErrorClass::Failed => Status::Failed,
    };
    let next_run_at = now + backoff::delay_ms(job.attempt, job.id);
    let line = match status {
        Status::Retrying => format!(
            "attempt {} of {} failed: {}; next attempt in {}",
            job.attempt,
            job.max_attempts,
            err.message,
            super::format_duration(next_run_at - now)
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
    Ending::Unsuccessful {
        status,
        error: err.message.clone(),
        exit_code: err.program.map(|end| end.exit_code),
        result: err.program.map(|end| end.to_result()),
        next_run_at,
        line,
    }
}

/// Takes back jobs whose lease expired (retrying after the backoff, or
/// dead when the attempts ran out; interrupted when their kind may not run
/// again by itself) and fails jobs whose `--after` jobs
/// ended badly.
pub(crate) fn sweep(conn: &mut Connection, now: i64) -> Result<Swept, JobsError> {
    Ok(store_jobs::sweep(conn, now, |job| requeue(job, now))?)
}

/// What a job whose runner stopped renewing its lease becomes.
fn requeue(job: &Expired, now: i64) -> Requeue {
    let error = format!(
        "the runner {} stopped renewing its lease (killed or cut off)",
        job.owner
    );
    let (status, line) = if !reruns_by_itself(&job.kind) {
        let line = format!("{error}; {}", interrupted_hint(job.id));
        (Status::Interrupted, line)
    } else if job.attempt < job.max_attempts {
        let line = format!(
            "{error}; attempt {} of {} is retried",
            job.attempt, job.max_attempts
        );
        (Status::Retrying, line)
    } else {
        let line = format!(
            "{error}; no attempts left ({} of {})",
            job.attempt, job.max_attempts
        );
        (Status::Dead, line)
    };
    Requeue {
        status,
        next_run_at: now + backoff::delay_ms(job.attempt, job.id),
        error,
        line,
    }
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
    fn a_lost_runner_is_replaced_after_its_lease_with_the_attempt_counted() {
        let (_d, mut store) = store();
        // kollega's own work runs again by itself.
        let export = NewJob {
            kind: "export".into(),
            ..command(&[])
        };
        let id = enqueue(&mut store.conn, &export, 0).unwrap();
        claim(&mut store.conn, "dead", 0, LEASE).unwrap().unwrap();
        let swept = sweep(&mut store.conn, LEASE + 1).unwrap();
        assert_eq!(swept.expired, vec![id]);
        let job = require(&store.conn, id).unwrap();
        assert_eq!(job.status, Status::Retrying);
        assert!(job.error.unwrap().contains("dead"));
        assert_eq!(job.next_run_at, LEASE + 1 + backoff::delay_ms(1, id));
        // The last attempt's runner dies too: dead, with the reason.
        for attempt in 2..=3 {
            let now = require(&store.conn, id).unwrap().next_run_at;
            let again = claim(&mut store.conn, "b", now, LEASE).unwrap().unwrap();
            assert_eq!(again.attempt, attempt);
            sweep(&mut store.conn, now + LEASE + 1).unwrap();
        }
        let job = require(&store.conn, id).unwrap();
        assert_eq!(job.status, Status::Dead);
        let log = logs_after(&store.conn, id, -1, 10).unwrap();
        assert!(
            log[2].line.ends_with("no attempts left (3 of 3)"),
            "{log:?}"
        );
    }

    #[test]
    fn a_lost_runners_command_waits_interrupted_for_a_persons_word() {
        let (_d, mut store) = store();
        let id = enqueue(&mut store.conn, &command(&["make", "deploy"]), 0).unwrap();
        claim(&mut store.conn, "tui:host:1:1", 0, LEASE)
            .unwrap()
            .unwrap();
        assert_eq!(sweep(&mut store.conn, LEASE + 1).unwrap().expired, vec![id]);
        let job = require(&store.conn, id).unwrap();
        assert_eq!(job.status, Status::Interrupted);
        assert_eq!(job.finished_at, Some(LEASE + 1));
        // Nothing claims it, however late.
        assert_eq!(
            claim(&mut store.conn, "w", i64::MAX / 2, LEASE).unwrap(),
            None
        );
        // `jobs cancel` drops it; `jobs retry` would have run attempt 2.
        assert_eq!(
            request_cancel(&mut store.conn, id, LEASE + 2).unwrap(),
            Status::Cancelled
        );
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
    fn a_success_records_the_programs_exit_code() {
        let (_d, mut store) = store();
        let id = enqueue(&mut store.conn, &command(&["true"]), 0).unwrap();
        claim_id(&mut store.conn, id, "r", 0, LEASE)
            .unwrap()
            .unwrap();
        let result = ProgramEnd::exited(0).to_result();
        let to = finish(&mut store.conn, id, "r", &Outcome::Succeeded(result), 5).unwrap();
        assert_eq!(to, Some(Status::Succeeded));
        let job = require(&store.conn, id).unwrap();
        assert_eq!(job.exit_code, Some(0));
        assert_eq!(job.result, Some(serde_json::json!({ "exit_code": 0 })));
    }
}
