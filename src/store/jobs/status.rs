//! A job's [`Status`] and the one table of the changes allowed between
//! them ([`Status::can_become`]).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
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
    /// Its runner went away mid-attempt (kollega quit without handing it
    /// over, a hangup, kill -9, a crash) and its kind is not safe to run
    /// twice (a person's command): it waits for a person's word, `jobs
    /// retry` runs it again, `jobs cancel` drops it.
    Interrupted,
}

impl Status {
    pub(crate) const ALL: [Status; 8] = [
        Status::Queued,
        Status::Running,
        Status::Succeeded,
        Status::Failed,
        Status::Retrying,
        Status::Dead,
        Status::Cancelled,
        Status::Interrupted,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Retrying => "retrying",
            Status::Dead => "dead",
            Status::Cancelled => "cancelled",
            Status::Interrupted => "interrupted",
        }
    }

    /// Whether the job has ended (nothing runs it until a person retries).
    pub(crate) fn is_final(self) -> bool {
        matches!(
            self,
            Status::Succeeded
                | Status::Failed
                | Status::Dead
                | Status::Cancelled
                | Status::Interrupted
        )
    }

    /// The one table of allowed status changes.
    pub(crate) fn can_become(self, to: Status) -> bool {
        use Status::*;
        match (self, to) {
            // Claimed by a runner, cancelled before it ran, or failed
            // because a job it waits for did not succeed.
            (Queued | Retrying, Running | Cancelled | Failed) => true,
            // An attempt ends. Running → Retrying or Interrupted also when
            // the runner went away and its lease expired.
            (Running, Succeeded | Failed | Retrying | Dead | Cancelled | Interrupted) => true,
            // A person retries an ended job (`jobs retry`), or drops an
            // interrupted one (`jobs cancel`).
            (Failed | Dead | Cancelled | Interrupted, Queued) => true,
            (Interrupted, Cancelled) => true,
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
