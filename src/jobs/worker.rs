//! `kollega worker`: a runner that claims every job it can, up to its
//! parallelism, until Ctrl-C or SIGTERM; it outlives the terminal it was
//! started from (a hangup is ignored). Given a listener, the metrics server
//! runs beside it. What the person is told is the caller's to print.
//! [`spawn_detached`] starts one in the background (the TUI hands its jobs
//! to it when it quits).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::JobsError;
use super::process::{self, Signals};
use super::queue::Role;
use super::runner::{self, Event};
use crate::config::Config;

/// What a worker tells the person while it runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Notice {
    /// The metrics are served at this address.
    Serving(String),
    Running {
        owner: String,
        parallel: usize,
    },
    Job(Event),
    /// A stop was asked for: running jobs are stopped and will be retried.
    Stopping,
}

/// Runs a worker until it is asked to stop.
pub(crate) fn run(
    config: &Config,
    parallel: Option<usize>,
    metrics: Option<TcpListener>,
    mut tell: impl FnMut(Notice),
) -> Result<(), JobsError> {
    // A worker outlives whoever reads its output (a closed pipe, a gone
    // terminal); its jobs must not die with it.
    process::ignore_sigpipe();
    let config = Arc::new(config.clone());
    let mut options = runner::Options::new(config.data_dir.clone(), config.clone(), Role::Worker);
    if let Some(n) = parallel {
        options.parallel = n.clamp(1, 256);
    }
    let runtime = process::runtime()?;
    let stop = Arc::new(AtomicBool::new(false));
    let server_stop = stop.clone();
    let data_dir = config.data_dir.clone();
    let server = runtime.block_on(async move {
        let mut signals = Signals::listen()?;
        let mut server = None;
        if let Some(listener) = metrics {
            let shown = listener
                .local_addr()
                .map_or_else(|_| "?".to_string(), |a| a.to_string());
            server = Some(std::thread::spawn(move || {
                if let Err(e) = crate::metrics::server::serve(listener, data_dir, server_stop) {
                    tracing::error!(error = %e, "the metrics server stopped");
                }
            }));
            tell(Notice::Serving(shown));
        }
        let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        options.events = Some(events_tx);
        tell(Notice::Running {
            owner: options.owner.clone(),
            parallel: options.parallel,
        });
        let handle = runner::spawn(options)?;
        loop {
            tokio::select! {
                Some(event) = events.recv() => tell(Notice::Job(event)),
                _ = signals.interrupt.recv() => break,
                _ = signals.terminate.recv() => break,
                // A worker outlives the terminal it was started from.
                _ = signals.hangup.recv() => {}
            }
        }
        tell(Notice::Stopping);
        handle.shutdown().await?;
        Ok::<_, JobsError>(server)
    })?;
    stop.store(true, Ordering::SeqCst);
    if let Some(server) = server {
        let _ = server.join();
    }
    Ok(())
}

/// A `kollega worker` started to outlive the process that started it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Detached {
    pub pid: u32,
    /// Where its output goes.
    pub log: PathBuf,
}

/// Starts `kollega worker` on `data_dir` in a session of its own (no
/// terminal, so a hangup of this one does not reach it), its input empty
/// and its output appended to `logs/worker.log` under `data_dir`. It
/// inherits the environment, and with it the configuration's directory and
/// settings. It runs until it is stopped (`kill PID`, SIGTERM), as any
/// worker does.
pub(crate) fn spawn_detached(data_dir: &Path) -> Result<Detached, JobsError> {
    use std::os::unix::process::CommandExt;
    let fail = JobsError::system("start a worker");
    let exe = std::env::current_exe().map_err(fail)?;
    let logs = data_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(fail)?;
    let log = logs.join("worker.log");
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(fail)?;
    let err = out.try_clone().map_err(fail)?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--data-dir")
        .arg(data_dir)
        .arg("worker")
        .current_dir(data_dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    // SAFETY: setsid is async-signal-safe and affects only the child
    // between fork and exec: it leads a new session without a terminal.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(fail)?;
    Ok(Detached {
        pid: child.id(),
        log,
    })
}

/// Who runs the jobs a stopping runner handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Taker {
    /// A worker that was alive already.
    Alive,
    /// A worker started for them.
    Started(Detached),
    /// None of them waits any more (they ended before they were stopped).
    Nobody,
}

/// After a runner stopped with [`runner::Stop::HandOver`]: makes sure a
/// worker runs those of `ids` that wait, starting one in the background
/// when none has been alive within three leases.
pub(crate) fn hand_over(
    data_dir: &Path,
    lease: std::time::Duration,
    ids: &[i64],
) -> Result<Taker, JobsError> {
    let store = crate::store::Store::open(data_dir)?;
    let mut waiting = 0;
    for &id in ids {
        let job = super::queue::require(&store.conn, id)?;
        if matches!(job.status, super::Status::Queued | super::Status::Retrying) {
            waiting += 1;
        }
    }
    if waiting == 0 {
        return Ok(Taker::Nobody);
    }
    let since = super::now_ms() - 3 * lease.as_millis() as i64;
    if crate::store::runners::live_workers(&store.conn, since)? > 0 {
        return Ok(Taker::Alive);
    }
    Ok(Taker::Started(spawn_detached(data_dir)?))
}
