//! `kollega worker`: a runner that claims every job it can, up to its
//! parallelism, until Ctrl-C or SIGTERM; it outlives the terminal it was
//! started from (a hangup is ignored). Given a listener, the metrics server
//! runs beside it. What the person is told is the caller's to print.

use std::net::TcpListener;
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
