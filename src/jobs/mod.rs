//! Jobs: the persistent queue every background task runs on.
//!
//! A job is a row in the store (`queue`), claimed by a runner under a lease
//! (`runner`), executed by its kind (`kinds`), with its log kept as a tail
//! in the store and whole in a gzip file per attempt (`log`). Commands run
//! in a process group of their own (`command`); a SQLite workspace's
//! commands run in a managed working copy (`workcopy`). Schedules turn cron
//! expressions into jobs (`schedule`); `metrics` renders what the queue and
//! the HTTP clients counted in Prometheus text format.
//!
//! The status a job may move to from each status is decided in one place,
//! [`Status::can_become`]; every write of a status goes through
//! `queue::transition`, which asks it first.

pub(crate) mod backoff;
pub(crate) mod command;
pub(crate) mod kinds;
pub(crate) mod log;
pub(crate) mod metrics;
pub(crate) mod queue;
pub(crate) mod runner;
pub(crate) mod schedule;
pub(crate) mod tasks;
pub(crate) mod workcopy;

use crate::error::Hint;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting to be claimed (maybe for its `--after` jobs).
    Queued,
    /// Claimed by a runner that holds its lease.
    Running,
    Succeeded,
    /// Ended unsuccessfully and will not run again by itself: a command's
    /// non-zero exit, a timeout, a dependency that did not succeed.
    Failed,
    /// Waiting for its next attempt after a transient error.
    Retrying,
    /// A dead letter: a permanent error, or the attempts ran out. Keeps its
    /// last error; `jobs retry` queues it again.
    Dead,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Queued,
        Status::Running,
        Status::Succeeded,
        Status::Failed,
        Status::Retrying,
        Status::Dead,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Retrying => "retrying",
            Status::Dead => "dead",
            Status::Cancelled => "cancelled",
        }
    }

    /// Whether the job has ended (nothing runs it until a person retries).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Succeeded | Status::Failed | Status::Dead | Status::Cancelled
        )
    }

    /// The one table of allowed status changes.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        match (self, to) {
            // Claimed by a runner, cancelled before it ran, or failed
            // because a job it waits for did not succeed.
            (Queued | Retrying, Running | Cancelled | Failed) => true,
            // An attempt ends. Running → Retrying also when the runner
            // died and its lease expired.
            (Running, Succeeded | Failed | Retrying | Dead | Cancelled) => true,
            // A person retries an ended job (`jobs retry`).
            (Failed | Dead | Cancelled, Queued) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(text: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown status {text:?}; one of {}", names.join(", "))
            })
    }
}

/// How an attempt that did not succeed should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Might work next time (a lost connection, a runner that died): retried
    /// with backoff while attempts remain, then dead.
    Transient,
    /// Will not change by trying again (bad input, a 4xx, a command that
    /// does not exist): dead at once.
    Permanent,
    /// The work itself said no (a command's non-zero exit, a timeout):
    /// failed, retried only when the job asked for retries.
    Failed,
}

/// An attempt's error: what happened and how to treat it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    pub class: ErrorClass,
    pub message: String,
    /// A command's exit code, when it ran and exited.
    pub exit_code: Option<i32>,
}

impl JobError {
    pub fn transient(message: impl Into<String>) -> JobError {
        JobError {
            class: ErrorClass::Transient,
            message: message.into(),
            exit_code: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> JobError {
        JobError {
            class: ErrorClass::Permanent,
            message: message.into(),
            exit_code: None,
        }
    }

    pub fn failed(message: impl Into<String>) -> JobError {
        JobError {
            class: ErrorClass::Failed,
            message: message.into(),
            exit_code: None,
        }
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Errors of the job commands (`jobs`, `run`, `schedule`), with a hint.
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("there is no job {0}")]
    UnknownJob(i64),
    #[error("job {id} is {status}; only {allowed} jobs can be {action}")]
    WrongStatus {
        id: i64,
        status: Status,
        allowed: &'static str,
        action: &'static str,
    },
    #[error("there is no schedule {0}")]
    UnknownSchedule(i64),
    #[error("bad cron expression {expr:?}: {message}")]
    BadCron { expr: String, message: String },
    #[error("no workspace or folder named {0:?}")]
    UnknownWorkspace(String),
    #[error("unknown job kind {0:?}")]
    UnknownKind(String),
    #[error("{0}")]
    BadInput(String),
    #[error("the working copy {path} cannot be written: {source}")]
    WorkingCopy {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the log of job {id} at {path}: {source}")]
    Log {
        id: i64,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The machine refused a thread, a runtime or a signal handler.
    #[error("cannot {what}: {source}")]
    System {
        what: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl JobsError {
    pub(crate) fn system(what: &'static str) -> impl Fn(std::io::Error) -> JobsError + Copy {
        move |source| JobsError::System { what, source }
    }
}

impl From<rusqlite::Error> for JobsError {
    fn from(e: rusqlite::Error) -> JobsError {
        JobsError::Store(e.into())
    }
}

impl Hint for JobsError {
    fn hint(&self) -> String {
        match self {
            JobsError::UnknownJob(_) => "`kollega jobs` lists the jobs and their ids".into(),
            JobsError::WrongStatus { .. } => {
                "`kollega jobs` shows each job's status; retry works on failed, dead and cancelled jobs, cancel on queued, retrying and running ones".into()
            }
            JobsError::UnknownSchedule(_) => "`kollega schedule ls` lists the schedules".into(),
            JobsError::BadCron { .. } => {
                "five fields, minute hour day-of-month month day-of-week, in UTC: \"*/15 * * * *\" or \"0 3 * * 1-5\"; quote it".into()
            }
            JobsError::UnknownWorkspace(_) => {
                "`kollega ls` lists workspaces; a folder path works too".into()
            }
            JobsError::UnknownKind(_) => {
                "kinds: command, import, export, git-push, git-pull".into()
            }
            JobsError::BadInput(_) => "see `kollega help run`".into(),
            JobsError::WorkingCopy { .. } => {
                "free some space or fix the permissions of the data directory; the store was not changed".into()
            }
            JobsError::Log { .. } => {
                "the tail of the log is still in the store: `kollega jobs log ID` prints it when the file is gone".into()
            }
            JobsError::System { .. } => {
                "the machine is short of threads or file descriptors: close other programs, then run it again".into()
            }
            JobsError::Store(e) => e.hint(),
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A Unix-millisecond time as RFC 3339 (UTC, seconds).
pub(crate) fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.replace_nanosecond(0).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// A duration in milliseconds as people read it: `850ms`, `12.3s`, `4m05s`.
pub(crate) fn format_duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                (Failed, Queued),
                (Retrying, Running),
                (Retrying, Failed),
                (Retrying, Cancelled),
                (Dead, Queued),
                (Cancelled, Queued),
            ]
        );
        // Nothing leaves a success, and no status becomes itself.
        for s in Status::ALL {
            assert!(!Succeeded.can_become(s));
            assert!(!s.can_become(s));
        }
    }

    #[test]
    fn status_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert!("done".parse::<Status>().unwrap_err().contains("queued"));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(format_duration(850), "850ms");
        assert_eq!(format_duration(12_345), "12.3s");
        assert_eq!(format_duration(245_000), "4m05s");
        assert_eq!(format_duration(3_723_000), "1h02m");
    }
}
