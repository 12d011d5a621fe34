//! The runner: claims jobs under a lease, runs them with their kind, keeps
//! the leases alive, moves log lines and progress into the store, and
//! writes each attempt's end.
//!
//! One runner per process (`kollega worker`, the TUI, a foreground
//! `kollega run`), one async task, any number of them on one database.
//! Every poll it takes back jobs whose runner died (`queue::sweep`),
//! enqueues due schedules, and claims jobs up to its parallelism. Every
//! heartbeat it renews its leases and learns which of its jobs were
//! cancelled (from any process) or taken by another runner after it lost
//! its lease. A runner in the TUI claims nothing while a worker is alive.
//!
//! The store is reached only through [`Db::call`], on blocking threads.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::command::{StopReason, StopToken, Tee};
use super::kinds::{Db, JobContext, Registry};
use super::log::{LogWriter, TAIL_LINES};
use super::progress::Progress;
use super::queue::{self, Job, Outcome, Role};
use super::{JobError, JobsError, Status, schedule};
use crate::config::Config;
use crate::store::runners;

/// The time a runner reads: the system clock, or tokio's (paused in tests).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Clock {
    System,
    /// `base` ms at `start`, moving with tokio's clock.
    #[cfg(test)]
    Tokio {
        base: i64,
        start: tokio::time::Instant,
    },
}

impl Clock {
    #[cfg(test)]
    pub(crate) fn tokio(base: i64) -> Clock {
        Clock::Tokio {
            base,
            start: tokio::time::Instant::now(),
        }
    }

    pub(crate) fn now(&self) -> i64 {
        match self {
            Clock::System => super::now_ms(),
            #[cfg(test)]
            Clock::Tokio { base, start } => base + start.elapsed().as_millis() as i64,
        }
    }
}

/// How a runner behaves.
#[derive(Clone)]
pub(crate) struct Options {
    pub data_dir: PathBuf,
    pub config: Arc<Config>,
    pub role: Role,
    /// This runner's name in leases.
    pub owner: String,
    /// Jobs run at once.
    pub parallel: usize,
    pub lease: Duration,
    /// How often to look for work when nothing wakes the runner.
    pub poll: Duration,
    pub grace: Duration,
    /// Claim nothing while a `kollega worker` is alive (the TUI).
    pub defer_to_worker: bool,
    pub run_schedules: bool,
    /// Enqueue kollega's own routines too (`routine`), with the schedules.
    pub routines: bool,
    /// Run only this job (a foreground `kollega run`); the runner ends when
    /// the job has ended.
    pub only: Option<i64>,
    /// A job already claimed for this runner (`queue::enqueue_claimed`).
    pub claimed: Option<Job>,
    pub tee: Tee,
    pub clock: Clock,
    pub kinds: Registry,
    pub events: Option<mpsc::UnboundedSender<Event>>,
}

/// A runner's name in leases: role, host, pid and a counter.
pub(crate) fn new_owner(role: Role) -> String {
    // Two runners in one process (tests) stay apart by the counter.
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{}:{}:{}:{}",
        role.as_str(),
        crate::store::locks::hostname(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl Options {
    pub(crate) fn new(data_dir: PathBuf, config: Arc<Config>, role: Role) -> Options {
        let jobs = &config.jobs;
        Options {
            data_dir,
            owner: new_owner(role),
            role,
            parallel: jobs.parallel.max(1),
            lease: jobs.lease,
            poll: Duration::from_millis(250),
            grace: jobs.grace,
            defer_to_worker: role == Role::Tui,
            run_schedules: role != Role::Cli,
            routines: true,
            only: None,
            claimed: None,
            tee: Tee::None,
            clock: Clock::System,
            kinds: Registry::standard(),
            events: None,
            config,
        }
    }
}

/// What a runner tells its owner (the TUI's status bar).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    Started {
        id: i64,
        title: String,
    },
    Ended {
        id: i64,
        title: String,
        status: Status,
    },
    /// Output of a kind that streams live, as it was written.
    Output {
        id: i64,
        text: String,
    },
    /// Jobs whose runner went away mid-attempt became interrupted: they
    /// wait for a person's word.
    Interrupted(Vec<i64>),
}

/// What becomes of the jobs a runner holds when it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Stopped mid-attempt: a kind safe to run twice is retried, any other
    /// (a command) becomes interrupted and waits for a person's word.
    Interrupt,
    /// Stopped and queued at once for another runner (a worker), which
    /// runs them again from the start.
    HandOver,
    /// Cancelled: not run again.
    Cancel,
}

/// Requests to a running runner.
enum Control {
    Wake,
    Cancel(i64),
    Shutdown(Stop),
}

/// The owner's side of a runner task.
pub(crate) struct Handle {
    tx: mpsc::UnboundedSender<Control>,
    task: JoinHandle<Result<(), JobsError>>,
}

/// Requests to a runner from elsewhere while its handle is awaited.
#[derive(Clone)]
pub(crate) struct Remote {
    tx: mpsc::UnboundedSender<Control>,
}

impl Remote {
    /// Stop a job this runner holds now.
    pub(crate) fn cancel(&self, id: i64) {
        let _ = self.tx.send(Control::Cancel(id));
    }

    /// Stop the runner: its jobs are stopped as [`Stop::Interrupt`] says.
    pub(crate) fn shutdown(&self) {
        let _ = self.tx.send(Control::Shutdown(Stop::Interrupt));
    }
}

impl Handle {
    pub(crate) fn remote(&self) -> Remote {
        Remote {
            tx: self.tx.clone(),
        }
    }

    /// Look for work now (a job was just enqueued).
    pub(crate) fn wake(&self) {
        let _ = self.tx.send(Control::Wake);
    }

    /// Stop a job this runner holds now, without waiting for a heartbeat.
    pub(crate) fn cancel(&self, id: i64) {
        let _ = self.tx.send(Control::Cancel(id));
    }

    /// Stops the runner: running jobs are stopped as [`Stop::Interrupt`]
    /// says; waits until their ends are written.
    pub(crate) async fn shutdown(self) -> Result<(), JobsError> {
        self.stop(Stop::Interrupt).await
    }

    /// Stops the runner, its running jobs as `how` says; waits until their
    /// ends are written.
    pub(crate) async fn stop(self, how: Stop) -> Result<(), JobsError> {
        let _ = self.tx.send(Control::Shutdown(how));
        self.wait().await
    }

    /// Waits for the runner to end by itself (`Options::only`).
    pub(crate) async fn wait(self) -> Result<(), JobsError> {
        self.task
            .await
            .map_err(|e| JobsError::BadInput(format!("the job runner failed: {e}")))?
    }
}

/// Starts a runner on the current tokio runtime.
pub(crate) fn spawn(options: Options) -> Result<Handle, JobsError> {
    let store = crate::store::Store::open(&options.data_dir)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let mut runner = Runner::new(options, Db::new(store));
    if let Some(job) = runner.o.claimed.take()
        && job.status == Status::Running
    {
        runner.start(job);
    }
    let task = tokio::spawn(runner.run(rx));
    Ok(Handle { tx, task })
}

/// A job this runner holds.
struct Running {
    job: Job,
    stop: StopToken,
    log: LogWriter,
    progress: Progress,
    /// The progress the job's row has.
    stored_progress: u8,
}

impl Running {
    fn new(job: Job, stop: StopToken, log: LogWriter, progress: Progress) -> Running {
        Running {
            job,
            stop,
            log,
            progress,
            stored_progress: 0,
        }
    }
}

struct Runner {
    o: Options,
    db: Db,
    owner: String,
    running: HashMap<i64, Running>,
    done_tx: mpsc::UnboundedSender<(i64, Result<serde_json::Value, JobError>)>,
    done_rx: mpsc::UnboundedReceiver<(i64, Result<serde_json::Value, JobError>)>,
    last_beat: i64,
    last_sweep: i64,
    /// Whether a worker held the queue at the last look (TUI only).
    worker_alive: bool,
    /// The foreground job ended.
    finished: bool,
    /// When the store last failed a poll and it was reported.
    store_trouble: Option<i64>,
}

impl Runner {
    fn new(o: Options, db: Db) -> Runner {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let owner = o.owner.clone();
        Runner {
            o,
            db,
            owner,
            running: HashMap::new(),
            done_tx,
            done_rx,
            last_beat: 0,
            last_sweep: 0,
            worker_alive: false,
            finished: false,
            store_trouble: None,
        }
    }

    fn lease_ms(&self) -> i64 {
        self.o.lease.as_millis() as i64
    }

    async fn run(mut self, mut control: mpsc::UnboundedReceiver<Control>) -> Result<(), JobsError> {
        let owner = self.owner.clone();
        let role = self.o.role;
        let now = self.o.clock.now();
        self.db
            .call(move |s| Ok(runners::register(&s.conn, &owner, role, now)?))
            .await?;
        tracing::info!(runner = %self.owner, "job runner started");
        let mut shutting_down = false;
        loop {
            if self.finished || (shutting_down && self.running.is_empty()) {
                break;
            }
            if !shutting_down {
                match self.tick().await {
                    Ok(()) => self.store_trouble = None,
                    // A busy or full store: report once a minute, keep the
                    // jobs, try again at the next poll.
                    Err(e) => {
                        let now = self.o.clock.now();
                        if self.store_trouble.is_none_or(|since| now - since >= 60_000) {
                            self.store_trouble = Some(now);
                            tracing::warn!(error = %e, "the job runner could not reach the store");
                        }
                    }
                }
            }
            let poll = tokio::time::sleep(self.o.poll);
            tokio::select! {
                () = poll => {}
                Some((id, result)) = self.done_rx.recv() => {
                    self.ended(id, result).await;
                }
                msg = control.recv() => match msg {
                    Some(Control::Wake) => {}
                    Some(Control::Cancel(id)) => {
                        if let Some(r) = self.running.get(&id) {
                            r.stop.stop(StopReason::Cancelled);
                        }
                    }
                    msg @ (Some(Control::Shutdown(_)) | None) => {
                        if !shutting_down {
                            shutting_down = true;
                            let reason = match msg {
                                Some(Control::Shutdown(Stop::Cancel)) => StopReason::Cancelled,
                                Some(Control::Shutdown(Stop::HandOver)) => StopReason::Handover,
                                _ => StopReason::Shutdown,
                            };
                            for r in self.running.values() {
                                r.stop.stop(reason.clone());
                            }
                        }
                    }
                },
            }
        }
        let owner = self.owner.clone();
        let _ = self
            .db
            .call(move |s| Ok(runners::remove(&s.conn, &owner)?))
            .await;
        tracing::info!(runner = %self.owner, "job runner stopped");
        Ok(())
    }

    /// One round: heartbeat, logs, sweep, schedules, claims.
    async fn tick(&mut self) -> Result<(), JobsError> {
        let now = self.o.clock.now();
        let lease = self.lease_ms();
        if now - self.last_beat >= lease / 3 {
            self.last_beat = now;
            self.heartbeat(now).await?;
        } else {
            self.look_for_cancels().await?;
        }
        self.flush_logs().await?;
        if now - self.last_sweep >= 1000 {
            self.last_sweep = now;
            let run_schedules = self.o.run_schedules;
            let routines = self.o.routines.then(|| self.o.config.meetings.clone());
            let defer = self.o.defer_to_worker;
            let swept = self
                .db
                .call(move |s| {
                    let swept = queue::sweep(&mut s.conn, now)?;
                    let worker = defer && runners::live_workers(&s.conn, now - 3 * lease)? > 0;
                    if run_schedules && !worker {
                        schedule::enqueue_due(&mut s.conn, now)?;
                        if let Some(meetings) = &routines {
                            super::routine::enqueue_due(&mut s.conn, now, meetings)?;
                        }
                    }
                    Ok((swept, worker))
                })
                .await?;
            self.worker_alive = swept.1;
            for id in &swept.0.expired {
                tracing::info!(job = id, "took back a job whose runner stopped answering");
            }
            if !swept.0.interrupted.is_empty()
                && let Some(events) = &self.o.events
            {
                let _ = events.send(Event::Interrupted(swept.0.interrupted));
            }
        }
        if self.worker_alive {
            return Ok(());
        }
        while self.running.len() < self.o.parallel {
            let owner = self.owner.clone();
            let only = self.o.only;
            let now = self.o.clock.now();
            let job = self
                .db
                .call(move |s| {
                    Ok(match only {
                        Some(id) => queue::claim_id(&mut s.conn, id, &owner, now, lease),
                        None => queue::claim(&mut s.conn, &owner, now, lease),
                    }?)
                })
                .await?;
            let Some(job) = job else {
                if let Some(id) = only {
                    self.check_only(id).await?;
                }
                break;
            };
            self.start(job);
        }
        Ok(())
    }

    /// In foreground mode: the job ended, or another runner took it.
    async fn check_only(&mut self, id: i64) -> Result<(), JobsError> {
        if self.running.contains_key(&id) {
            return Ok(());
        }
        let job = self
            .db
            .call(move |s| Ok(queue::require(&s.conn, id)?))
            .await?;
        if job.status.is_final() {
            self.finished = true;
        }
        Ok(())
    }

    fn start(&mut self, job: Job) {
        let Some(kind) = self.o.kinds.get(&job.kind) else {
            let err = JobError::permanent(format!(
                "this kollega has no job kind {:?} (it knows {})",
                job.kind,
                self.o.kinds.names().join(", ")
            ));
            let _ = self.done_tx.send((job.id, Err(err)));
            let log = LogWriter::tail_only("unknown kind".into());
            let running = Running::new(job, StopToken::default(), log, Progress::default());
            self.running.insert(running.job.id, running);
            return;
        };
        let log = LogWriter::create(&self.o.data_dir, job.id, job.attempt).unwrap_or_else(|e| {
            tracing::warn!(job = job.id, error = %e, "cannot create the job's log file; keeping the tail only");
            let log = LogWriter::tail_only(e.to_string());
            log.info(&format!("the log file could not be created ({e}); only the last lines are kept"));
            log
        });
        let log = match (&self.o.events, kind.streams_live()) {
            (Some(events), true) => {
                let events = events.clone();
                let id = job.id;
                log.with_live(Arc::new(move |text: &str| {
                    let _ = events.send(Event::Output {
                        id,
                        text: text.to_string(),
                    });
                }))
            }
            _ => log,
        };
        if job.attempt > 1 {
            // Why this attempt runs, in the file too (the store has it as
            // the previous attempt's end).
            match &job.error {
                Some(e) => log.info(&format!(
                    "attempt {} of {}; the previous one ended: {e}",
                    job.attempt, job.max_attempts
                )),
                None => log.info(&format!("attempt {} of {}", job.attempt, job.max_attempts)),
            }
        }
        let stop = StopToken::default();
        let progress = Progress::default();
        let ctx = JobContext {
            job: job.clone(),
            data_dir: self.o.data_dir.clone(),
            config: self.o.config.clone(),
            log: log.clone(),
            stop: stop.clone(),
            progress: progress.clone(),
            tee: self.o.tee,
            db: self.db.clone(),
            grace: self.o.grace,
        };
        if let Some(events) = &self.o.events {
            let _ = events.send(Event::Started {
                id: job.id,
                title: job.title(),
            });
        }
        let id = job.id;
        let done = self.done_tx.clone();
        let future = kind.run(ctx);
        tokio::spawn(async move {
            let result = future.await;
            let _ = done.send((id, result));
        });
        self.running
            .insert(id, Running::new(job, stop, log, progress));
    }

    async fn ended(&mut self, id: i64, result: Result<serde_json::Value, JobError>) {
        let Some(r) = self.running.remove(&id) else {
            return;
        };
        let outcome = match (r.stop.reason(), result) {
            // Work that ended well before the stop reached it stays done.
            (
                Some(StopReason::Cancelled | StopReason::Shutdown | StopReason::Handover) | None,
                Ok(value),
            ) => Outcome::Succeeded(value),
            (Some(StopReason::Cancelled), Err(_)) => {
                Outcome::Cancelled("cancelled by request".into())
            }
            (Some(StopReason::Shutdown), Err(_)) => {
                Outcome::Interrupted(format!("interrupted: its runner {} stopped", self.owner))
            }
            (Some(StopReason::Handover), Err(_)) => Outcome::HandedOver(format!(
                "stopped when kollega quit ({}) and handed to a worker",
                self.owner
            )),
            (Some(StopReason::Lost), _) => {
                // Another runner holds the job now; its end is not ours.
                r.log.close();
                return;
            }
            (None, Err(err)) => Outcome::Error(err),
        };
        // The store's tail gets the end from `finish`, with what happens
        // next (a retry and when); the file gets it here.
        match &outcome {
            Outcome::Succeeded(_) => r.log.info("succeeded"),
            Outcome::Error(e) => r.log.file_only(&e.message),
            Outcome::Cancelled(reason)
            | Outcome::Interrupted(reason)
            | Outcome::HandedOver(reason) => r.log.file_only(reason),
        }
        r.log.close();
        if let Some(err) = r.log.file_error() {
            tracing::warn!(job = id, error = %err, "the job's log file is incomplete");
        }
        let pending = r.log.flush();
        let owner = self.owner.clone();
        let attempt = r.job.attempt;
        let now = self.o.clock.now();
        // The end of an attempt must reach the store: a busy store is tried
        // again for a while, or the lease runs out and the job runs twice.
        let mut tries = 0;
        let written = loop {
            let owner = owner.clone();
            let outcome = outcome.clone();
            let lines = pending.lines.clone();
            let dropped = pending.dropped;
            let result = self
                .db
                .call(move |s| {
                    let tx = s
                        .conn
                        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    queue::append_logs(&tx, id, attempt, &lines, dropped, TAIL_LINES)?;
                    tx.commit()?;
                    queue::finish(&mut s.conn, id, &owner, &outcome, now)
                })
                .await;
            tries += 1;
            match result {
                Err(e) if tries < 20 => {
                    tracing::warn!(job = id, error = %e, "cannot write the end of a job yet; trying again");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                other => break other,
            }
        };
        let status = match written {
            Ok(Some(status)) => status,
            Ok(None) => return,
            Err(e) => {
                // The lease runs out and another runner takes the job again.
                tracing::error!(job = id, error = %e, "cannot write the end of a job");
                return;
            }
        };
        if let Some(events) = &self.o.events {
            let _ = events.send(Event::Ended {
                id,
                title: r.job.title(),
                status,
            });
        }
        if self.o.only == Some(id) && status.is_final() {
            self.finished = true;
        }
    }

    async fn heartbeat(&mut self, now: i64) -> Result<(), JobsError> {
        let owner = self.owner.clone();
        let ids: Vec<i64> = self.running.keys().copied().collect();
        let lease = self.lease_ms();
        let beat = self
            .db
            .call(move |s| {
                runners::heartbeat(&s.conn, &owner, now)?;
                Ok(queue::heartbeat(&mut s.conn, &owner, &ids, now, lease)?)
            })
            .await?;
        for id in beat.cancel {
            if let Some(r) = self.running.get(&id) {
                r.stop.stop(StopReason::Cancelled);
            }
        }
        for id in beat.lost {
            if let Some(r) = self.running.get(&id) {
                tracing::warn!(job = id, "lost the lease of a running job; stopping it");
                r.stop.stop(StopReason::Lost);
            }
        }
        Ok(())
    }

    /// Stops the running jobs someone asked to cancel since the last look;
    /// a cheap read at every poll, so a cancel from any process reaches the
    /// job within a poll, not at the next heartbeat.
    async fn look_for_cancels(&mut self) -> Result<(), JobsError> {
        let ids: Vec<i64> = self
            .running
            .iter()
            .filter(|(_, r)| r.stop.reason().is_none())
            .map(|(id, _)| *id)
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let cancel = self
            .db
            .call(move |s| Ok(queue::cancels_requested(&s.conn, &ids)?))
            .await?;
        for id in cancel {
            if let Some(r) = self.running.get(&id) {
                r.stop.stop(StopReason::Cancelled);
            }
        }
        Ok(())
    }

    /// Moves the new log lines and the grown progress of every running job
    /// into the store, in one transaction.
    async fn flush_logs(&mut self) -> Result<(), JobsError> {
        let batches: Vec<(i64, u32, super::log::Pending)> = self
            .running
            .values()
            .map(|r| (r.job.id, r.job.attempt, r.log.flush()))
            .filter(|(_, _, p)| !p.lines.is_empty() || p.dropped > 0)
            .collect();
        let grown: Vec<(i64, u8)> = self
            .running
            .values()
            .filter_map(|r| {
                let progress = r.progress.get();
                (progress > r.stored_progress).then_some((r.job.id, progress))
            })
            .collect();
        if batches.is_empty() && grown.is_empty() {
            return Ok(());
        }
        let owner = self.owner.clone();
        let now = self.o.clock.now();
        let written = grown.clone();
        self.db
            .call(move |s| {
                let tx = s
                    .conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                for (id, attempt, pending) in &batches {
                    queue::append_logs(
                        &tx,
                        *id,
                        *attempt,
                        &pending.lines,
                        pending.dropped,
                        TAIL_LINES,
                    )?;
                }
                for (id, progress) in &written {
                    queue::set_progress(&tx, *id, &owner, *progress, now)?;
                }
                tx.commit()?;
                Ok(())
            })
            .await?;
        for (id, progress) in grown {
            if let Some(r) = self.running.get_mut(&id) {
                r.stored_progress = progress;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;
    use crate::jobs::JobKind;
    use crate::jobs::kinds::{BoxFuture, Kind};
    use crate::jobs::queue::NewJob;
    use crate::store::Store;

    /// Fails with a transient error `fails` times, then succeeds.
    struct Flaky {
        fails: AtomicU32,
        runs: Arc<AtomicU32>,
    }

    impl Kind for Flaky {
        fn kind(&self) -> JobKind {
            JobKind::Other("flaky".into())
        }
        fn max_attempts(&self) -> u32 {
            5
        }
        fn run(&self, ctx: JobContext) -> BoxFuture<Result<serde_json::Value, JobError>> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            let fail = self
                .fails
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            Box::pin(async move {
                ctx.log.info(&format!("attempt {}", ctx.job.attempt));
                if fail {
                    Err(JobError::transient("the registry is down"))
                } else {
                    Ok(serde_json::json!({ "ok": true }))
                }
            })
        }
    }

    fn options(dir: &std::path::Path, runs: &Arc<AtomicU32>, fails: u32, base: i64) -> Options {
        let config = Arc::new(Config::load(Some(dir.to_path_buf())).unwrap());
        let mut o = Options::new(dir.to_path_buf(), config, Role::Worker);
        o.clock = Clock::tokio(base);
        o.lease = Duration::from_secs(10);
        o.parallel = 2;
        o.kinds.register(Arc::new(Flaky {
            fails: AtomicU32::new(fails),
            runs: runs.clone(),
        }));
        o
    }

    fn flaky_job() -> NewJob {
        NewJob {
            kind: "flaky".into(),
            payload: serde_json::json!({}),
            max_attempts: 5,
            ..NewJob::default()
        }
    }

    async fn wait_for(dir: &std::path::Path, id: i64, status: Status) -> Job {
        for _ in 0..10_000 {
            let job = queue::require(&Store::open(dir).unwrap().conn, id).unwrap();
            if job.status == status {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let job = queue::require(&Store::open(dir).unwrap().conn, id).unwrap();
        panic!("job {id} never became {status}: {job:?}");
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn transient_errors_are_retried_after_the_backoff() {
        let dir = tempfile::tempdir().unwrap();
        let base = 1_000_000;
        let id = {
            let mut store = Store::open(dir.path()).unwrap();
            queue::enqueue(&mut store.conn, &flaky_job(), base).unwrap()
        };
        let runs = Arc::new(AtomicU32::new(0));
        let handle = spawn(options(dir.path(), &runs, 2, base)).unwrap();
        let started = tokio::time::Instant::now();
        let job = wait_for(dir.path(), id, Status::Succeeded).await;
        assert_eq!(job.attempt, 3);
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        // Two waits: about 2 s and 4 s, each within the jitter.
        let waited = started.elapsed().as_millis() as i64;
        let least = crate::jobs::backoff::delay_ms(1, id) + crate::jobs::backoff::delay_ms(2, id);
        assert!(waited >= least, "waited {waited} ms, backoff says {least}");
        assert!(
            waited < least + 2_000,
            "waited {waited} ms, backoff says {least}"
        );
        let log = queue::logs_after(&Store::open(dir.path()).unwrap().conn, id, -1, 100).unwrap();
        let text: Vec<&str> = log.iter().map(|l| l.line.as_str()).collect();
        assert!(
            text.iter()
                .any(|l| l.contains("attempt 1 of 5 failed: the registry is down")),
            "{text:?}"
        );
        assert!(text.contains(&"[kollega] succeeded"), "{text:?}");
        handle.shutdown().await.unwrap();
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_job_of_a_dead_runner_is_taken_after_its_lease() {
        let dir = tempfile::tempdir().unwrap();
        let base = 5_000_000;
        let id = {
            let mut store = Store::open(dir.path()).unwrap();
            let id = queue::enqueue(&mut store.conn, &flaky_job(), base).unwrap();
            // A runner claims it and dies: no heartbeat ever comes.
            queue::claim(&mut store.conn, "worker:gone:1:1", base, 10_000)
                .unwrap()
                .unwrap();
            id
        };
        let runs = Arc::new(AtomicU32::new(0));
        let handle = spawn(options(dir.path(), &runs, 0, base)).unwrap();
        tokio::time::sleep(Duration::from_secs(9)).await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            0,
            "taken before the lease ran out"
        );
        let job = wait_for(dir.path(), id, Status::Succeeded).await;
        assert_eq!(job.attempt, 2);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let log = queue::logs_after(&Store::open(dir.path()).unwrap().conn, id, -1, 100).unwrap();
        assert!(
            log[0].line.contains("stopped renewing its lease"),
            "{log:?}"
        );
        handle.shutdown().await.unwrap();
    }

    /// A command (by its kind) that holds until it is stopped, counting
    /// its runs: stands in for `make deploy` on tokio's paused clock.
    struct Hold {
        runs: Arc<AtomicU32>,
    }

    impl Kind for Hold {
        fn kind(&self) -> JobKind {
            JobKind::Command
        }
        fn max_attempts(&self) -> u32 {
            3
        }
        fn run(&self, ctx: JobContext) -> BoxFuture<Result<serde_json::Value, JobError>> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                loop {
                    if ctx.stop.reason().is_some() {
                        return Err(JobError::failed("stopped"));
                    }
                    if ctx.job.payload["finish"] == true {
                        return Ok(serde_json::json!({ "exit_code": 0 }));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        }
    }

    fn hold_options(dir: &std::path::Path, runs: &Arc<AtomicU32>, base: i64) -> Options {
        let mut o = options(dir, &Arc::new(AtomicU32::new(0)), 0, base);
        o.kinds.register(Arc::new(Hold { runs: runs.clone() }));
        o
    }

    fn command_job() -> NewJob {
        NewJob {
            kind: "command".into(),
            payload: serde_json::json!({ "argv": ["make", "deploy"] }),
            max_attempts: 3,
            ..NewJob::default()
        }
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_dead_runners_command_is_not_taken_again_but_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let base = 5_000_000;
        let id = {
            let mut store = Store::open(dir.path()).unwrap();
            let id = queue::enqueue(&mut store.conn, &command_job(), base).unwrap();
            // A runner claims it and dies: no heartbeat ever comes.
            queue::claim(&mut store.conn, "tui:gone:1:1", base, 10_000)
                .unwrap()
                .unwrap();
            id
        };
        let runs = Arc::new(AtomicU32::new(0));
        let handle = spawn(hold_options(dir.path(), &runs, base)).unwrap();
        let job = wait_for(dir.path(), id, Status::Interrupted).await;
        assert_eq!(job.attempt, 1);
        assert!(job.error.unwrap().contains("tui:gone:1:1"));
        // Long past any backoff: still not run again.
        tokio::time::sleep(Duration::from_secs(120)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0, "re-run without a word");
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            queue::require(&store.conn, id).unwrap().status,
            Status::Interrupted
        );
        let log = queue::logs_after(&store.conn, id, -1, 100).unwrap();
        assert!(
            log.iter()
                .any(|l| l.line.contains(&format!("kollega jobs retry {id}"))),
            "{log:?}"
        );
        handle.shutdown().await.unwrap();
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn an_interrupted_command_runs_its_next_attempt_on_the_users_word() {
        let dir = tempfile::tempdir().unwrap();
        let base = 5_000_000;
        let id = {
            let mut store = Store::open(dir.path()).unwrap();
            let mut new = command_job();
            new.payload["finish"] = true.into();
            let id = queue::enqueue(&mut store.conn, &new, base).unwrap();
            queue::claim(&mut store.conn, "tui:gone:1:1", base, 10_000)
                .unwrap()
                .unwrap();
            queue::sweep(&mut store.conn, base + 10_001).unwrap();
            assert_eq!(
                queue::require(&store.conn, id).unwrap().status,
                Status::Interrupted
            );
            queue::retry(&mut store.conn, id, base).unwrap();
            id
        };
        let runs = Arc::new(AtomicU32::new(0));
        let handle = spawn(hold_options(dir.path(), &runs, base + 10_001)).unwrap();
        let job = wait_for(dir.path(), id, Status::Succeeded).await;
        assert_eq!(job.attempt, 2);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        handle.shutdown().await.unwrap();
    }

    /// How a stopping runner leaves a running command, for each way to stop.
    async fn stopped_as(how: Stop) -> Job {
        let dir = tempfile::tempdir().unwrap();
        let base = 5_000_000;
        let id = {
            let mut store = Store::open(dir.path()).unwrap();
            queue::enqueue(&mut store.conn, &command_job(), base).unwrap()
        };
        let runs = Arc::new(AtomicU32::new(0));
        let handle = spawn(hold_options(dir.path(), &runs, base)).unwrap();
        wait_for(dir.path(), id, Status::Running).await;
        handle.stop(how).await.unwrap();
        queue::require(&Store::open(dir.path()).unwrap().conn, id).unwrap()
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_stopping_runner_interrupts_hands_over_or_cancels_its_commands() {
        let job = stopped_as(Stop::Interrupt).await;
        assert_eq!(job.status, Status::Interrupted, "{job:?}");
        let job = stopped_as(Stop::HandOver).await;
        assert_eq!(job.status, Status::Retrying, "{job:?}");
        assert!(job.next_run_at <= job.updated_at, "due at once: {job:?}");
        assert!(job.error.unwrap().contains("handed to a worker"));
        let job = stopped_as(Stop::Cancel).await;
        assert_eq!(job.status, Status::Cancelled, "{job:?}");
    }

    /// Succeeds at once; stands in for `command` so schedules can be run
    /// on tokio's paused clock (a real process would hold a blocking
    /// thread, which keeps that clock from moving).
    struct Instant;

    impl Kind for Instant {
        fn kind(&self) -> JobKind {
            JobKind::Command
        }
        fn max_attempts(&self) -> u32 {
            1
        }
        fn run(&self, ctx: JobContext) -> BoxFuture<Result<serde_json::Value, JobError>> {
            Box::pin(
                async move { Ok(serde_json::json!({ "fire_at": ctx.job.payload["fire_at"] })) },
            )
        }
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn schedules_fire_on_the_runners_clock_and_catch_up_once() {
        let dir = tempfile::tempdir().unwrap();
        // 12:00:30 UTC on some day; the schedule fires every minute.
        let base = 1_700_000_000_000 / 3_600_000 * 3_600_000 + 30_000;
        {
            let store = Store::open(dir.path()).unwrap();
            let argv = vec!["true".to_string()];
            // Added 10 minutes before the runner starts: nine missed minutes.
            let s = crate::jobs::schedule::add(
                &store.conn,
                "ws",
                "* * * * *",
                &argv,
                crate::jobs::schedule::CatchUp::Once,
                None,
                base - 600_000,
            )
            .unwrap();
            assert_eq!(s.next_run_at, base - 570_000);
        }
        let runs = Arc::new(AtomicU32::new(0));
        let mut o = options(dir.path(), &runs, 0, base);
        o.routines = false;
        o.kinds.register(Arc::new(Instant));
        let handle = spawn(o).unwrap();
        let count = |dir: &std::path::Path| {
            queue::list(&Store::open(dir).unwrap().conn, &queue::Filter::default())
                .unwrap()
                .len()
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(count(dir.path()), 1, "the missed runs are caught up once");
        // 12:01:00, 12:02:00, 12:03:00 pass.
        tokio::time::sleep(Duration::from_secs(180)).await;
        let jobs = queue::list(
            &Store::open(dir.path()).unwrap().conn,
            &queue::Filter::default(),
        )
        .unwrap();
        assert_eq!(jobs.len(), 4, "{jobs:#?}");
        for job in &jobs {
            assert_eq!(job.status, Status::Succeeded);
            assert_eq!(job.schedule_id, Some(1));
        }
        let fired: Vec<i64> = jobs
            .iter()
            .rev()
            .map(|j| j.payload["fire_at"].as_i64().unwrap())
            .collect();
        assert_eq!(
            fired,
            vec![base - 30_000, base + 30_000, base + 90_000, base + 150_000]
        );
        handle.shutdown().await.unwrap();
    }

    /// Real time: a running command holds a blocking thread, which keeps
    /// tokio's paused clock from moving.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancel_from_another_process_reaches_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let base = crate::jobs::now_ms();
        let id = {
            let mut store = Store::open(dir.path()).unwrap();
            let new = NewJob {
                kind: "command".into(),
                workspace: Some(dir.path().display().to_string()),
                payload: serde_json::json!({ "argv": ["sleep", "30"] }),
                max_attempts: 3,
                ..NewJob::default()
            };
            queue::enqueue(&mut store.conn, &new, base).unwrap()
        };
        let runs = Arc::new(AtomicU32::new(0));
        let mut o = options(dir.path(), &runs, 0, base);
        o.clock = Clock::System;
        o.lease = Duration::from_millis(900);
        let handle = spawn(o).unwrap();
        wait_for(dir.path(), id, Status::Running).await;
        {
            let mut store = Store::open(dir.path()).unwrap();
            assert_eq!(
                queue::request_cancel(&mut store.conn, id, base).unwrap(),
                Status::Running
            );
        }
        let job = wait_for(dir.path(), id, Status::Cancelled).await;
        assert_eq!(job.error.as_deref(), Some("cancelled by request"));
        handle.shutdown().await.unwrap();
    }

    /// Does its work in quarters, a beat apart, saying so as it goes.
    struct Steps;

    impl Kind for Steps {
        fn kind(&self) -> JobKind {
            JobKind::Other("steps".into())
        }
        fn max_attempts(&self) -> u32 {
            1
        }
        fn run(&self, ctx: JobContext) -> BoxFuture<Result<serde_json::Value, JobError>> {
            Box::pin(async move {
                for done in 1..=3 {
                    ctx.progress.set(done, 4);
                    tokio::time::sleep(Duration::from_millis(400)).await;
                }
                Ok(serde_json::json!({}))
            })
        }
    }

    /// Real time: the steps must outlast the runner's flushes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_jobs_progress_rises_in_the_store_as_it_works() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let mut store = Store::open(dir.path()).unwrap();
            // Every write of a job's progress, in order.
            store
                .conn
                .execute_batch(
                    "CREATE TABLE progress_seen (progress INTEGER NOT NULL); \
                     CREATE TRIGGER progress_seen AFTER UPDATE OF progress ON jobs \
                     BEGIN INSERT INTO progress_seen VALUES (NEW.progress); END;",
                )
                .unwrap();
            let new = NewJob {
                kind: "steps".into(),
                max_attempts: 1,
                ..NewJob::default()
            };
            queue::enqueue(&mut store.conn, &new, crate::jobs::now_ms()).unwrap()
        };
        let runs = Arc::new(AtomicU32::new(0));
        let mut o = options(dir.path(), &runs, 0, 0);
        o.clock = Clock::System;
        o.poll = Duration::from_millis(50);
        o.kinds.register(Arc::new(Steps));
        let handle = spawn(o).unwrap();
        wait_for(dir.path(), id, Status::Succeeded).await;
        handle.shutdown().await.unwrap();
        let store = Store::open(dir.path()).unwrap();
        let seen: Vec<u8> = store
            .conn
            .prepare("SELECT progress FROM progress_seen ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        // Claimed at 0, then the quarters as they were reached, then done.
        assert_eq!(seen.first(), Some(&0), "{seen:?}");
        assert_eq!(seen.last(), Some(&100), "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        let between: Vec<u8> = seen
            .iter()
            .copied()
            .filter(|p| (1..100).contains(p))
            .collect();
        assert!(between.len() >= 2, "{seen:?}");
        assert!(between.iter().all(|p| [25, 50, 75].contains(p)), "{seen:?}");
    }
}
