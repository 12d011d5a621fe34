//! The jobs side of the workstation: the jobs view and its log, "Run
//! task…" and "Run command…", git push and pull as jobs, and what the
//! runner of this process reports.
//!
//! Reads and writes of the queue go through the store worker (its own
//! connection and thread), so a busy database never holds a frame: every
//! 250 ms while the view is open, or while a job started here has not
//! ended, one request asks for the jobs changed since the last answer and
//! the selected job's new log lines. One poll is in flight at a time; an
//! answer for a job no longer selected, or from an older place in its log,
//! is dropped.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crossterm::event::{MouseButton, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::{App, AppMsg, Focus, Overlay};
use crate::error::describe;
use crate::git::remote::PushSpec;
use crate::jobs::kinds::Place;
use crate::jobs::payload::{CommandPayload, JobPayload, PullPayload};
use crate::jobs::queue::{self, Filter, Job, LogLine};
use crate::jobs::runner::Event;
use crate::jobs::tasks::{self, Discovery, Task};
use crate::jobs::{Status, now_ms};
use crate::store::Store;
use crate::tui::ansi::strip;
use crate::tui::keymap::{Action, Scope};
use crate::tui::panes::jobs::JobsPane;
use crate::tui::panes::picker::Picker;
use crate::tui::panes::prompt::{Prompt, PromptKind};

/// How often the view asks the store for news.
pub(crate) const POLL: Duration = Duration::from_millis(250);
/// Log lines one poll takes at most (the store keeps this many).
const LOG_BATCH: usize = 2000;
/// Jobs the first poll loads.
const FIRST_LOAD: usize = 500;
/// A poll not answered by then is given up, and the next one sent.
const POLL_STALE: Duration = Duration::from_secs(5);
/// Changes are asked for since a little before the newest one seen, so a
/// change written in the same millisecond as the last answer is not missed.
const OVERLAP_MS: i64 = 2000;

/// Answers about jobs for the UI task.
pub(crate) enum JobsMsg {
    Polled {
        jobs: Result<Vec<Job>, String>,
        /// The job, the seq the lines follow, the lines.
        log: Option<(i64, i64, Result<Vec<LogLine>, String>)>,
    },
    Queued {
        what: Queued,
        result: Result<Box<Job>, String>,
    },
    /// A retry or a cancel: the message for the status bar, and a running
    /// job the runner should stop now.
    Changed {
        result: Result<String, String>,
        stop: Option<i64>,
    },
    /// The tasks of the workspace, for "Run task…".
    Tasks(Discovery),
    /// The jobs that wait, interrupted, for a person's word.
    Interrupted(Result<Vec<Job>, String>),
}

/// Why a job was enqueued here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queued {
    /// A task or a command line: the view opens on it.
    Run,
    Git {
        push: bool,
    },
}

impl Queued {
    fn label(self) -> &'static str {
        match self {
            Queued::Run => "job",
            Queued::Git { push: true } => "push",
            Queued::Git { push: false } => "pull",
        }
    }
}

/// The jobs view and the bookkeeping around it.
pub(crate) struct JobsState {
    pub pane: JobsPane,
    /// Where the keys go back to when the view closes.
    back_to: Focus,
    /// Jobs enqueued here whose end the status bar reports.
    watched: HashMap<i64, Queued>,
    in_flight: Option<Instant>,
    poll_again: bool,
    /// A fixed "now" for the durations (snapshot tests).
    pub fixed_now: Option<i64>,
    /// Jobs this process's runner is running now, with their titles
    /// (quitting asks what becomes of them).
    pub running_here: std::collections::BTreeMap<i64, String>,
}

impl JobsState {
    pub fn new() -> JobsState {
        JobsState {
            pane: JobsPane::new(),
            back_to: Focus::Tree,
            watched: HashMap::new(),
            in_flight: None,
            poll_again: false,
            fixed_now: None,
            running_here: std::collections::BTreeMap::new(),
        }
    }

    /// The store worker did not answer: the next poll may go.
    pub fn lost(&mut self) {
        self.in_flight = None;
    }
}

impl App {
    pub(crate) fn jobs_visible(&self) -> bool {
        matches!(self.focus, Focus::Jobs | Focus::JobLog)
    }

    /// Whether the loop should poll: the view is open, or a job started
    /// here has not reported its end.
    pub(crate) fn wants_job_poll(&self) -> bool {
        self.jobs_visible() || !self.jobs.watched.is_empty()
    }

    /// The job the view shows: id, status, the last log seq taken and the
    /// lines held (the frame benchmark watches it stream).
    pub(crate) fn followed_job(&self) -> Option<(i64, Status, i64, usize)> {
        let pane = &self.jobs.pane;
        let job = pane.selected_job()?;
        Some((job.id, job.status, pane.log.last_seq, pane.log.len()))
    }

    fn jobs_now(&self) -> i64 {
        self.jobs.fixed_now.unwrap_or_else(now_ms)
    }

    /// Runs `work` with the store worker's connection and hands its message
    /// back to the UI task.
    fn jobs_work(&mut self, work: impl FnOnce(&mut Store) -> JobsMsg + Send + 'static) {
        self.store_work(work, AppMsg::Jobs);
    }

    fn wake_runner(&self) {
        if let Some(runner) = self.services.runner.as_ref() {
            runner.wake();
        }
    }

    /// Asks for the jobs changed since the last answer and the selected
    /// job's new lines (one request in flight at a time).
    pub(crate) fn poll_jobs(&mut self) {
        if self
            .jobs
            .in_flight
            .is_some_and(|sent| sent.elapsed() < POLL_STALE)
        {
            self.jobs.poll_again = true;
            return;
        }
        self.jobs.in_flight = Some(Instant::now());
        self.jobs.poll_again = false;
        self.jobs.pane.sync_log();
        let since = self.jobs.pane.since();
        let log = self
            .jobs_visible()
            .then_some(self.jobs.pane.log.job)
            .flatten()
            .map(|id| (id, self.jobs.pane.log.last_seq));
        self.jobs_work(move |store| {
            let filter = Filter {
                updated_after: since.map(|t| t - OVERLAP_MS),
                limit: since.is_none().then_some(FIRST_LOAD),
                ..Filter::default()
            };
            let jobs = queue::list(&store.conn, &filter).map_err(|e| describe(&e));
            let log = log.map(|(id, after)| {
                let lines =
                    queue::logs_after(&store.conn, id, after, LOG_BATCH).map_err(|e| describe(&e));
                (id, after, lines)
            });
            JobsMsg::Polled { jobs, log }
        });
    }

    /// Takes an answer about jobs; returns whether to redraw.
    pub(crate) fn jobs_msg(&mut self, msg: JobsMsg) -> bool {
        match msg {
            JobsMsg::Polled { jobs, log } => {
                self.jobs.in_flight = None;
                let mut redraw = false;
                match jobs {
                    Ok(jobs) => redraw |= self.jobs_arrived(jobs),
                    Err(e) => {
                        self.notify(format!("cannot read the jobs: {e}"), true);
                        redraw = true;
                    }
                }
                if let Some((id, after, lines)) = log {
                    let log = &mut self.jobs.pane.log;
                    if log.job == Some(id) && log.last_seq == after {
                        match lines {
                            Ok(lines) => {
                                // A full batch: more may be waiting.
                                self.jobs.poll_again |= lines.len() >= LOG_BATCH;
                                redraw |= !lines.is_empty();
                                log.append(lines);
                            }
                            Err(e) => {
                                self.notify(format!("cannot read the log of job {id}: {e}"), true);
                                redraw = true;
                            }
                        }
                    }
                }
                // The selection moved while the poll was out.
                if self.jobs_visible() && self.jobs.pane.sync_log() {
                    self.jobs.poll_again = true;
                    redraw = true;
                }
                if self.jobs.poll_again && self.wants_job_poll() {
                    self.poll_jobs();
                }
                // A running job's time moves on.
                let running = self
                    .jobs
                    .pane
                    .jobs()
                    .iter()
                    .any(|j| j.status == Status::Running);
                redraw || (self.jobs_visible() && running)
            }
            JobsMsg::Queued { what, result } => {
                match result {
                    Ok(job) => {
                        let id = job.id;
                        let title = strip(&job.title());
                        self.jobs.watched.insert(id, what);
                        self.jobs_arrived(vec![*job]);
                        match what {
                            Queued::Run => {
                                self.notify(format!("job {id} queued: {title}"), false);
                                self.open_jobs_on(id);
                            }
                            Queued::Git { .. } => {
                                self.notify(format!("{}: job {id} queued", what.label()), false);
                            }
                        }
                        self.wake_runner();
                    }
                    Err(e) => {
                        if let (Queued::Git { .. }, Some(git)) = (what, self.git_mut()) {
                            git.remote_busy = None;
                        }
                        self.notify(format!("{} not queued: {e}", what.label()), true);
                    }
                }
                true
            }
            JobsMsg::Changed { result, stop } => {
                match result {
                    Ok(message) => self.notify(message, false),
                    Err(e) => self.notify(e, true),
                }
                if let Some(id) = stop
                    && let Some(runner) = self.services.runner.as_ref()
                {
                    runner.cancel(id);
                }
                self.wake_runner();
                self.poll_jobs();
                true
            }
            JobsMsg::Tasks(found) => self.tasks_found(found),
            JobsMsg::Interrupted(Ok(jobs)) => {
                let how = self.retry_how();
                match queue::interrupted_line(&jobs, &how) {
                    Some(line) => {
                        self.notify(line, true);
                        true
                    }
                    None => false,
                }
            }
            JobsMsg::Interrupted(Err(e)) => {
                self.notify(format!("cannot list the interrupted jobs: {e}"), true);
                true
            }
        }
    }

    /// Says which jobs wait, interrupted, for a person's word (at start,
    /// and when the runner finds more).
    pub(crate) fn tell_interrupted(&mut self) {
        self.jobs_work(|store| {
            JobsMsg::Interrupted(queue::interrupted(&store.conn).map_err(|e| describe(&e)))
        });
    }

    /// How a person re-runs a job, in this keymap's keys: "r in the jobs
    /// view (alt-j)".
    fn retry_how(&self) -> String {
        let key = |scope: Scope, action: Action| {
            self.keymap
                .help(&[scope])
                .into_iter()
                .find(|(a, _)| *a == action)
                .and_then(|(_, keys)| keys.into_iter().min_by_key(String::len))
        };
        match (
            key(Scope::Jobs, Action::RetryJob),
            key(Scope::Global, Action::Jobs),
        ) {
            (Some(retry), Some(view)) => format!("{retry} in the jobs view ({view})"),
            (Some(retry), None) => format!("{retry} in the jobs view"),
            _ => "`kollega jobs retry ID`".into(),
        }
    }

    /// Merges changed jobs and reports the end of jobs started here.
    fn jobs_arrived(&mut self, jobs: Vec<Job>) -> bool {
        let ended: Vec<(Job, Queued)> = jobs
            .iter()
            .filter(|j| j.status.is_final())
            .filter_map(|j| self.jobs.watched.get(&j.id).map(|w| (j.clone(), *w)))
            .collect();
        for (job, what) in ended {
            self.jobs.watched.remove(&job.id);
            self.report_end(job.id, &job.title(), job.status, job.error.as_deref(), what);
        }
        self.jobs.pane.merge(jobs)
    }

    /// "job 12 succeeded: npm test", "push: job 13 failed: …".
    fn report_end(
        &mut self,
        id: i64,
        title: &str,
        status: Status,
        error: Option<&str>,
        what: Queued,
    ) {
        let failed = matches!(status, Status::Failed | Status::Dead);
        // Titles and errors come from commands: no escape reaches the screen.
        let title = strip(title);
        let why = error
            .filter(|_| failed)
            .map(|e| format!(" ({})", strip(e)))
            .unwrap_or_default();
        let message = match what {
            Queued::Run => format!("job {id} {status}: {title}{why}"),
            Queued::Git { .. } => format!("{}: job {id} {status}{why}", what.label()),
        };
        self.notify(message, failed);
        if let Queued::Git { .. } = what {
            if let Some(git) = self.git_mut() {
                git.remote_busy = None;
            }
            self.refresh_git();
        }
    }

    /// What this process's runner reports; returns whether to redraw.
    pub(crate) fn job_event(&mut self, event: Event) -> bool {
        match event {
            Event::Started { id, title } => {
                self.jobs.running_here.insert(id, title);
            }
            Event::Ended { id, title, status } => {
                self.jobs.running_here.remove(&id);
                self.meetings_job_ended(id);
                self.quit_if_waited_for();
                let what = match self.jobs.watched.get(&id) {
                    Some(what) if status.is_final() => {
                        let what = *what;
                        self.jobs.watched.remove(&id);
                        what
                    }
                    // A retry comes later; its end is reported then.
                    Some(_) => return self.wants_job_poll(),
                    None => Queued::Run,
                };
                let error = self.jobs.pane.job(id).and_then(|j| j.error.clone());
                self.report_end(id, &title, status, error.as_deref(), what);
            }
            // The AI pane shows the answer it follows as it streams.
            Event::Output { id, text } => return self.ai.pane.streamed(id, &text),
            Event::Interrupted(_) => self.tell_interrupted(),
        }
        if self.wants_job_poll() {
            self.poll_jobs();
        }
        true
    }

    // ----- the view ------------------------------------------------------

    pub(crate) fn toggle_jobs(&mut self) -> bool {
        if self.jobs_visible() {
            self.leave_jobs();
        } else {
            self.jobs.back_to = self.focus;
            self.enter_jobs();
            self.poll_jobs();
        }
        true
    }

    fn enter_jobs(&mut self) {
        self.focus = Focus::Jobs;
        if self.jobs.pane.follow_key.is_none() {
            // The keymap does not change while running: look once.
            self.jobs.pane.follow_key = self
                .keymap
                .help(&[Scope::Jobs])
                .into_iter()
                .find(|(a, _)| *a == Action::Bottom)
                .and_then(|(_, keys)| keys.into_iter().min_by_key(String::len));
        }
    }

    pub(super) fn leave_jobs(&mut self) {
        self.focus = match self.jobs.back_to {
            Focus::Editor if self.active_tab().is_some() => Focus::Editor,
            Focus::Changes | Focus::Diff if self.git().is_some() => self.jobs.back_to,
            Focus::Review if self.review.pane.is_some() => Focus::Review,
            Focus::Ai if self.session.is_some() => Focus::Ai,
            Focus::Tree | Focus::Editor | Focus::Changes | Focus::Diff
                if self.session.is_some() =>
            {
                Focus::Tree
            }
            _ => Focus::Workspaces,
        };
    }

    /// Opens the view with job `id` selected and its log followed.
    fn open_jobs_on(&mut self, id: i64) {
        if !self.jobs_visible() {
            self.jobs.back_to = self.focus;
        }
        self.enter_jobs();
        self.jobs.pane.select_id(id);
        self.jobs.pane.sync_log();
        self.poll_jobs();
    }

    /// Queues the selected job again.
    pub(super) fn retry_job(&mut self, id: i64) {
        self.jobs_work(move |store| JobsMsg::Changed {
            result: queue::retry(&mut store.conn, id, now_ms())
                .map(|()| format!("job {id} queued again"))
                .map_err(|e| describe(&e)),
            stop: None,
        });
    }

    /// After a yes to "cancel job N?".
    pub(crate) fn cancel_job_confirmed(&mut self, id: i64) {
        self.jobs_work(
            move |store| match queue::request_cancel(&mut store.conn, id, now_ms()) {
                Ok(Status::Running) => JobsMsg::Changed {
                    result: Ok(format!("job {id} is asked to stop")),
                    stop: Some(id),
                },
                Ok(status) => JobsMsg::Changed {
                    result: Ok(format!("job {id} {status}")),
                    stop: None,
                },
                Err(e) => JobsMsg::Changed {
                    result: Err(describe(&e)),
                    stop: None,
                },
            },
        );
    }

    // ----- starting jobs -------------------------------------------------

    fn place(&mut self) -> Option<Place> {
        match &self.session {
            Some(session) => Some(session.place.clone()),
            None => {
                self.notify("open a workspace first: jobs run in one", true);
                None
            }
        }
    }

    /// "Run task…": the workspace's tasks, read off the UI task.
    pub(crate) fn open_task_picker(&mut self) -> bool {
        if let Some(place) = self.place() {
            self.jobs_work(move |store| JobsMsg::Tasks(tasks::for_place(store, &place)));
        }
        true
    }

    /// The tasks arrived: the picker, or why there is none.
    fn tasks_found(&mut self, found: Discovery) -> bool {
        if !found.problems.is_empty() {
            self.notify(found.problems.join("; "), true);
        }
        if found.tasks.is_empty() {
            if found.problems.is_empty() {
                self.notify(
                    "no tasks in package.json, Cargo.toml, a Makefile or .kollega.toml; Run command… runs any line",
                    false,
                );
            }
            return true;
        }
        let items = found
            .tasks
            .into_iter()
            .map(|t| {
                let detail = strip(&format!("{} · {}", t.source, t.command));
                (strip(&t.name), detail, t)
            })
            .collect();
        self.overlay = Some(Overlay::Tasks(Picker::new("Run task", items)));
        true
    }

    /// "Run command…": a shell line for the workspace.
    pub(crate) fn open_command_prompt(&mut self) -> bool {
        if self.place().is_some() {
            self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::RunCommand, "")));
        }
        true
    }

    pub(crate) fn run_task(&mut self, task: Task) {
        let mut payload = CommandPayload::task(&task.name, task.command);
        payload.env = colour_env();
        self.enqueue(&payload, Queued::Run);
    }

    pub(crate) fn run_command_line(&mut self, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let mut payload = CommandPayload::argv(vec![line.to_string()]);
        payload.env = colour_env();
        self.enqueue(&payload, Queued::Run);
    }

    /// `git push` or `git pull --ff-only` as a job of the repository.
    pub(crate) fn enqueue_git(&mut self, push: bool) {
        let what = Queued::Git { push };
        let Some(git) = self.git_mut() else { return };
        if let Some(busy) = git.remote_busy {
            self.notify(format!("a {busy} is still queued or running"), true);
            return;
        }
        git.remote_busy = Some(what.label());
        if push {
            self.enqueue(&PushSpec::default(), what);
        } else {
            self.enqueue(&PullPayload {}, what);
        }
    }

    fn enqueue(&mut self, payload: &impl JobPayload, what: Queued) {
        let Some(place) = self.place() else { return };
        let new = payload.job(Some(place.workspace()));
        self.jobs_work(move |store| {
            let result = queue::enqueue(&mut store.conn, &new, now_ms())
                .and_then(|id| queue::require(&store.conn, id))
                .map(Box::new)
                .map_err(|e| describe(&e));
            JobsMsg::Queued { what, result }
        });
    }

    /// Clicks focus the list or the log; the wheel scrolls what it is over.
    pub(crate) fn jobs_mouse(&mut self, kind: MouseEventKind, at: Position, main: Rect) -> bool {
        let pane = &mut self.jobs.pane;
        let (list, log) = pane.areas(main);
        let (in_list, in_log) = (list.contains(at), log.contains(at));
        match kind {
            MouseEventKind::Down(MouseButton::Left) if in_list => self.focus = Focus::Jobs,
            MouseEventKind::Down(MouseButton::Left) if in_log => self.focus = Focus::JobLog,
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = kind == MouseEventKind::ScrollDown;
                if in_log {
                    pane.log.scroll(if down { 3 } else { -3 });
                } else if in_list {
                    pane.update_list(if down { Action::Down } else { Action::Up });
                    if pane.sync_log() {
                        self.poll_jobs();
                    }
                } else {
                    return false;
                }
            }
            _ => return false,
        }
        true
    }

    // ----- drawing -------------------------------------------------------

    pub(crate) fn render_jobs(
        &mut self,
        area: ratatui::layout::Rect,
        buf: &mut ratatui::buffer::Buffer,
    ) {
        let now = self.jobs_now();
        let focus = match self.focus {
            Focus::Jobs if self.overlay.is_none() => Some(true),
            Focus::JobLog if self.overlay.is_none() => Some(false),
            _ => None,
        };
        self.jobs.pane.render(area, buf, focus, &self.theme, now);
    }

    pub(crate) fn render_job_details(
        &self,
        id: i64,
        area: ratatui::layout::Rect,
        buf: &mut ratatui::buffer::Buffer,
    ) {
        if let Some(job) = self.jobs.pane.job(id) {
            crate::tui::panes::jobs::render_details(job, area, buf, &self.theme, self.jobs_now());
        }
    }
}

/// Jobs started from the TUI are read in its log pane, which renders ANSI
/// colours: ask the common tools for colour although their output is a
/// pipe (npm and node, cargo, and the CLICOLOR convention).
fn colour_env() -> std::collections::BTreeMap<String, String> {
    [
        ("FORCE_COLOR", "1"),
        ("CLICOLOR_FORCE", "1"),
        ("CARGO_TERM_COLOR", "always"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}
