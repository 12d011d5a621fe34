//! A foreground run: `kollega run`, and `import`, `export`, `git push` and
//! `git pull` without `--detach`.
//!
//! The job is enqueued already claimed by this process's runner, so no
//! other runner takes its first attempt, and its output is copied to this
//! process's stdout and stderr as it comes. Ctrl-C cancels it (a second one
//! leaves at once: the command dies with the process and the job is taken
//! back later); a hangup or SIGTERM stops it here and leaves it to a worker
//! or the TUI to retry. When another runner holds an attempt (this one lost
//! its lease), that attempt's stored lines are copied too, so every attempt
//! shows. What the person is told is the caller's to print.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::command::Tee;
use super::process::{self, Signals};
use super::queue::{self, Job, NewJob, QueueError, Role};
use super::{JobsError, ProgramEnd, Status, now_ms, runner};
use crate::config::Config;
use crate::store::Store;

/// What a foreground run tells the person while it runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Notice {
    /// The job is in the store, and runs here now.
    Queued(i64),
    /// Ctrl-C: the job is being cancelled.
    Cancelling(i64),
}

/// How a foreground run ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ran {
    /// The job as the store has it now.
    pub job: Job,
    /// Whether this process saw it end; not when the person left (a
    /// second Ctrl-C) or the session ended first, and the job is left to
    /// a worker or the TUI.
    pub ended: bool,
}

/// Enqueues `new` claimed by this process and runs it here until it ends.
pub(crate) fn run(
    config: &Config,
    mut store: Store,
    new: &NewJob,
    mut tell: impl FnMut(Notice),
) -> Result<Ran, JobsError> {
    process::ignore_sigpipe();
    let config = Arc::new(config.clone());
    let data_dir = config.data_dir.clone();
    let mut options = runner::Options::new(data_dir.clone(), config, Role::Cli);
    let lease = options.lease.as_millis() as i64;
    let job = queue::enqueue_claimed(&mut store.conn, new, &options.owner, now_ms(), lease)?;
    let id = job.id;
    drop(store);
    tell(Notice::Queued(id));
    options.only = Some(id);
    options.claimed = Some(job);
    options.tee = Tee::Stdio;
    options.parallel = 1;
    options.poll = Duration::from_millis(100);
    let runtime = process::runtime()?;
    let follow_stop = Arc::new(AtomicBool::new(false));
    let follower = follow_elsewhere(&data_dir, id, options.owner.clone(), follow_stop.clone());
    let signal_dir = data_dir.clone();
    let ended = runtime.block_on(async move {
        let mut signals = Signals::listen()?;
        let handle = runner::spawn(options)?;
        let remote = handle.remote();
        let mut wait = std::pin::pin!(handle.wait());
        let mut interrupts = 0;
        loop {
            tokio::select! {
                r = &mut wait => return r.map(|()| true),
                _ = signals.interrupt.recv() => {
                    interrupts += 1;
                    if interrupts > 1 {
                        return Ok(false);
                    }
                    tell(Notice::Cancelling(id));
                    remote.cancel(id);
                    // Through the store too, for an attempt another runner holds.
                    let data_dir = signal_dir.clone();
                    tokio::task::spawn_blocking(move || cancel(&data_dir, id))
                        .await
                        .map_err(|e| JobsError::System {
                            what: "cancel the job",
                            source: std::io::Error::other(e),
                        })??;
                }
                // The terminal or the session ends: the job is stopped here;
                // a command waits, interrupted, for a person's word, other
                // kinds are retried by a worker or the TUI.
                _ = signals.hangup.recv() => remote.shutdown(),
                _ = signals.terminate.recv() => remote.shutdown(),
            }
        }
    })?;
    // Nothing may wait for a command still running on a blocking thread.
    runtime.shutdown_background();
    follow_stop.store(true, Ordering::SeqCst);
    if let Some(follower) = follower {
        follower.thread().unpark();
        let _ = follower.join();
    }
    let store = Store::open(&data_dir)?;
    let job = queue::require(&store.conn, id)?;
    Ok(Ran { job, ended })
}

/// Asks the store to cancel job `id`, whoever holds it.
fn cancel(data_dir: &Path, id: i64) -> Result<(), JobsError> {
    let mut store = Store::open(data_dir)?;
    match queue::request_cancel(&mut store.conn, id, now_ms()) {
        // Already ended by the cancel this runner got.
        Ok(_) | Err(QueueError::WrongStatus { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Copies the stored output of attempts that another runner holds (a
/// worker took a retry of a foreground job), so a foreground run shows
/// every attempt. The attempts this process runs are copied by its runner.
fn follow_elsewhere(
    data_dir: &Path,
    id: i64,
    owner: String,
    stop: Arc<AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    let store = Store::open(data_dir).ok()?;
    let body = move || {
        // The last line seen while no other runner held the job; what
        // comes after it in the store is the other runner's.
        let mut after = -1;
        // The attempt another runner holds, while we copy it.
        let mut following: Option<u32> = None;
        loop {
            // Read the stop flag first: one more pass after it is set
            // copies the last lines of an attempt that just ended.
            let last_pass = stop.load(Ordering::SeqCst);
            let Ok(job) = queue::require(&store.conn, id) else {
                return;
            };
            let elsewhere = job.status == Status::Running
                && job.lease_owner.as_deref().is_some_and(|o| o != owner);
            if elsewhere {
                following = Some(job.attempt);
            }
            match following {
                None => after = job.log_lines - 1,
                Some(attempt) => {
                    if let Ok(lines) = queue::logs_after(&store.conn, id, after, 10_000) {
                        let mut out = std::io::stdout().lock();
                        for line in lines.iter().filter(|l| l.attempt == attempt) {
                            let _ = writeln!(out, "{}", line.line);
                        }
                        if let Some(last) = lines.last() {
                            after = last.seq;
                        }
                        let _ = out.flush();
                    }
                    if !elsewhere {
                        following = None;
                    }
                }
            }
            if last_pass {
                return;
            }
            // Woken early by the stop.
            std::thread::park_timeout(Duration::from_millis(200));
        }
    };
    std::thread::Builder::new()
        .name("kollega-follow".into())
        .spawn(body)
        .ok()
}

/// What a foreground run exits with, from how its job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exit {
    /// The command's own exit code; 127 for a program that is not there
    /// (as a shell answers), 130 when cancelled, else 1.
    pub code: u8,
    /// The job's error, when it says more than the code. A command that
    /// exited by itself with a non-zero code said why in its own output.
    pub error: Option<String>,
}

/// The exit of a job that ended.
pub(crate) fn exit_of(job: &Job) -> Exit {
    match job.status {
        Status::Succeeded => Exit {
            code: 0,
            error: None,
        },
        Status::Cancelled => Exit {
            code: 130,
            error: None,
        },
        _ => {
            let end = job.result.as_ref().and_then(ProgramEnd::of_result);
            let own_answer = end.is_some_and(|end| end.cause.is_none());
            let code = match job.exit_code {
                Some(c) if (1..=255).contains(&c) => c as u8,
                _ => 1,
            };
            Exit {
                code,
                error: job.error.clone().filter(|_| !own_answer),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::queue::Outcome;
    use crate::jobs::{EndCause, JobError};

    /// A job that ended as `outcome` after one attempt.
    fn ended(outcome: Outcome) -> Job {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let new = NewJob {
            max_attempts: 1,
            ..NewJob::default()
        };
        let id = queue::enqueue(&mut store.conn, &new, 0).unwrap();
        queue::claim_id(&mut store.conn, id, "r", 0, 1000).unwrap();
        queue::finish(&mut store.conn, id, "r", &outcome, 1).unwrap();
        queue::require(&store.conn, id).unwrap()
    }

    fn failed(message: &str, end: Option<ProgramEnd>) -> Exit {
        let mut err = JobError::failed(message);
        err.program = end;
        exit_of(&ended(Outcome::Error(err)))
    }

    #[test]
    fn the_exit_is_read_from_how_the_program_ended() {
        let ok = ended(Outcome::Succeeded(ProgramEnd::exited(0).to_result()));
        assert_eq!(exit_of(&ok).code, 0);
        let cancelled = ended(Outcome::Cancelled("cancelled by request".into()));
        assert_eq!(exit_of(&cancelled).code, 130);
        // Its own non-zero exit: the code, and nothing more to say.
        let own = failed("exited with code 7", Some(ProgramEnd::exited(7)));
        assert_eq!((own.code, own.error), (7, None));
        // Not there: 127 as a shell answers, with the reason.
        let missing = ProgramEnd::ended(127, EndCause::NotFound);
        let exit = failed("command not found: nope", Some(missing));
        assert_eq!(exit.code, 127);
        assert_eq!(exit.error.as_deref(), Some("command not found: nope"));
        let timed_out = failed(
            "timed out",
            Some(ProgramEnd::ended(143, EndCause::TimedOut)),
        );
        assert_eq!(
            (timed_out.code, timed_out.error.as_deref()),
            (143, Some("timed out"))
        );
        // No program ran: 1, with the error.
        let other = failed("the store is full", None);
        assert_eq!(
            (other.code, other.error.as_deref()),
            (1, Some("the store is full"))
        );
    }
}
