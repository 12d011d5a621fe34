//! What a process that runs jobs from a terminal (`kollega run`, `kollega
//! worker`) sets up around its runner: a small tokio runtime, the signals
//! it answers (Ctrl-C, a hangup, SIGTERM), and SIGPIPE ignored, so that a
//! reader that goes away (`| head`, a closed terminal) ends the copy of the
//! output, not the jobs.

use tokio::signal::unix::{Signal, SignalKind, signal};

use super::JobsError;

/// The runtime a runner of this process runs on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, JobsError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(JobsError::system("start the async runtime"))
}

/// A write to a closed pipe fails with an error instead of killing the
/// process; the job's whole log is still kept.
pub(crate) fn ignore_sigpipe() {
    // SAFETY: only changes this process's disposition of SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// The signals a runner in the foreground answers.
pub(crate) struct Signals {
    pub interrupt: Signal,
    pub hangup: Signal,
    pub terminate: Signal,
}

impl Signals {
    /// Listens from now on: a signal that comes right after the start is
    /// answered, not left to its default action. Inside the runtime.
    pub(crate) fn listen() -> Result<Signals, JobsError> {
        let listen = JobsError::system("listen for signals");
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt()).map_err(listen)?,
            hangup: signal(SignalKind::hangup()).map_err(listen)?,
            terminate: signal(SignalKind::terminate()).map_err(listen)?,
        })
    }
}
