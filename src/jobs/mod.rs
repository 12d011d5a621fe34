//! Jobs: the persistent queue every background task runs on.
//!
//! A job is a row in the store (`store::jobs`); `queue` is the protocol
//! over it: how an attempt's end and an expired lease become the next
//! status (error classes, attempts, `backoff`). A runner (`runner`) claims
//! jobs under a lease and runs them with their kind (`kinds`), which reads
//! its typed payload (`payload`) and reports its `progress`; the log is
//! kept as a tail in the store and whole in a gzip file per attempt
//! (`log`). Commands run in a process group of their own (`command`); a
//! SQLite workspace's commands run in a managed working copy (`workcopy`);
//! `tasks` finds the tasks a workspace declares. Schedules turn cron
//! expressions into jobs (`schedule`). `foreground` runs one job in this
//! process (`kollega run`), `worker` runs them all (`kollega worker`), both
//! on what `process` sets up.
//!
//! The status a job may move to from each status is decided in one place,
//! [`Status::can_become`] (a column type of the store, re-exported here);
//! every write of a status asks it first.

pub(crate) mod backoff;
pub(crate) mod command;
pub(crate) mod foreground;
pub(crate) mod kinds;
pub(crate) mod log;
pub(crate) mod payload;
pub(crate) mod process;
pub(crate) mod progress;
pub(crate) mod queue;
pub(crate) mod routine;
pub(crate) mod runner;
pub(crate) mod schedule;
pub(crate) mod tasks;
pub(crate) mod tree;
pub(crate) mod workcopy;
pub(crate) mod worker;

use crate::error::Hint;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) use crate::store::jobs::{JobKind, QueueError, Status};
pub(crate) use crate::store::now_ms;

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
    /// How the program ended, for a kind that ran one.
    pub program: Option<ProgramEnd>,
}

impl JobError {
    pub fn transient(message: impl Into<String>) -> JobError {
        JobError::new(ErrorClass::Transient, message)
    }

    pub fn permanent(message: impl Into<String>) -> JobError {
        JobError::new(ErrorClass::Permanent, message)
    }

    /// The store failed a job's read or write (busy past its wait, a disk
    /// briefly full): passing trouble, tried again with the backoff.
    pub(crate) fn from_store(e: JobsError) -> JobError {
        JobError::transient(crate::error::describe(&e))
    }

    pub fn failed(message: impl Into<String>) -> JobError {
        JobError::new(ErrorClass::Failed, message)
    }

    fn new(class: ErrorClass, message: impl Into<String>) -> JobError {
        JobError {
            class,
            message: message.into(),
            program: None,
        }
    }

    /// The same error, saying how the program ended.
    pub(crate) fn with_program(mut self, end: ProgramEnd) -> JobError {
        self.program = Some(end);
        self
    }
}

/// How a program that a job ran ended. The kinds that run one record it
/// as the job's `result` (`{"exit_code": 0}` when it succeeded), so that
/// what a job ended with is read from this type, never from its error's
/// words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ProgramEnd {
    pub exit_code: i32,
    /// Why it ended, when it did not exit by itself with `exit_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<EndCause>,
}

/// Why a program ended other than by exiting by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum EndCause {
    /// It was not there: 127, as a shell answers.
    NotFound,
    /// It was there but could not be run: 126, as a shell answers.
    NotExecutable,
    /// A signal ended it; the code is 128 + the signal.
    Signal,
    TimedOut,
    /// Stopped on request: a cancel, or its runner stopping.
    Stopped,
}

impl ProgramEnd {
    /// It exited by itself with `code`.
    pub(crate) fn exited(code: i32) -> ProgramEnd {
        ProgramEnd {
            exit_code: code,
            cause: None,
        }
    }

    pub(crate) fn ended(code: i32, cause: EndCause) -> ProgramEnd {
        ProgramEnd {
            exit_code: code,
            cause: Some(cause),
        }
    }

    /// The end a job's result records, if it ran a program.
    pub(crate) fn of_result(result: &Value) -> Option<ProgramEnd> {
        ProgramEnd::deserialize(result).ok()
    }

    pub(crate) fn to_result(self) -> Value {
        serde_json::to_value(self)
            .unwrap_or_else(|_| serde_json::json!({ "exit_code": self.exit_code }))
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
    #[error("there is no schedule {0}")]
    UnknownSchedule(i64),
    #[error("bad cron expression {expr:?}: {message}")]
    BadCron { expr: String, message: String },
    #[error("no workspace or folder named {0:?}")]
    UnknownWorkspace(String),
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
    Queue(#[from] QueueError),
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
            JobsError::UnknownSchedule(_) => "`kollega schedule ls` lists the schedules".into(),
            JobsError::BadCron { .. } => {
                "five fields, minute hour day-of-month month day-of-week, in UTC: \"*/15 * * * *\" or \"0 3 * * 1-5\"; quote it".into()
            }
            JobsError::UnknownWorkspace(_) => {
                "`kollega ls` lists workspaces; a folder path works too".into()
            }
            JobsError::BadInput(_) => {
                "check what the message names; `kollega help COMMAND` lists the arguments of each command".into()
            }
            JobsError::WorkingCopy { .. } => {
                "free some space or fix the permissions of the data directory; the store was not changed".into()
            }
            JobsError::Log { .. } => {
                "the tail of the log is still in the store: `kollega jobs log ID` prints it when the file is gone".into()
            }
            JobsError::System { .. } => {
                "the machine is short of threads or file descriptors: close other programs, then run it again".into()
            }
            JobsError::Queue(e) => e.hint(),
            JobsError::Store(e) => e.hint(),
        }
    }
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
    fn durations_read_well() {
        assert_eq!(format_duration(850), "850ms");
        assert_eq!(format_duration(12_345), "12.3s");
        assert_eq!(format_duration(245_000), "4m05s");
        assert_eq!(format_duration(3_723_000), "1h02m");
    }
}
