//! The terminal UI. The only module that knows ratatui and crossterm.
//!
//! One tokio runtime. The UI task owns the app and is the only one that
//! draws; terminal input (read and parsed on a thread of its own by
//! [`input`], so that keys always win over look-alike reports), resizes
//! (SIGWINCH), autosave reports, the job runner's events, a heartbeat tick
//! and signals reach it through `select!`. It drains what is queued, then draws once if something
//! changed, at most one frame per 16 ms, each frame wrapped in synchronized
//! output (DECSET 2026) so SSH and tmux never show half a frame, and
//! written by [`term_out`] with as few bytes as the change needs. Nothing
//! else redraws: idle costs nothing (the jobs poll runs only while the jobs
//! view is open or a job started here has not ended).
//!
//! Typed text is never lost: edits go to the autosave task as they happen;
//! quit, SIGHUP and SIGTERM flush it before exit, and a panic restores the
//! terminal first. Then the job runner stops: its running jobs are left to
//! a worker, cancelled, or (without an answer: a hangup, a signal)
//! interrupted, as the person answered when quitting ([`farewell`] says which).

mod ansi;
mod app;
pub mod harness;
mod input;
pub(crate) mod keymap;
mod layout;
mod panes;
mod session;
mod term_out;
pub(crate) mod theme;

use std::io::{IsTerminal, Read, Write, stdout};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::style::{Attribute, SetAttribute};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, event, execute};
use ratatui::Terminal;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::autosave::{self, Autosave, AutosaveEvent};
use crate::config::Config;
use crate::jobs::queue::Role;
use crate::jobs::runner::{self, Stop};
use crate::jobs::worker::{self, Taker};
use crate::store::Store;
use crate::store::worker::StoreWorker;
use crate::store::workspaces::Workspace;
pub(crate) use app::OpenTarget;
use app::{App, Services};
use input::InputParser;
use keymap::Keymap;
use term_out::LeanBackend;
use theme::{ColorDepth, Theme};

const FRAME: Duration = Duration::from_millis(16);
const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long exit waits for the last drafts to be written.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long exit waits for running jobs to stop, past their grace time.
const RUNNER_STOP_SLACK: Duration = Duration::from_secs(5);

/// Builds the app from the config: theme and keymap errors are shown in the
/// status bar, and the defaults stay in use.
pub(crate) fn build_app(
    services: Services,
    config: &Config,
    workspaces: Vec<Workspace>,
) -> Result<App, crate::error::Error> {
    let depth = ColorDepth::detect();
    let user_themes = config.config_dir.as_ref().map(|d| d.join("themes"));
    let mut problems = Vec::new();
    let theme = match Theme::load(&config.theme, user_themes.as_deref(), depth) {
        Ok(theme) => theme,
        Err(e) => {
            problems.push(e.to_string());
            Theme::load("dark", None, depth).map_err(|e| {
                crate::error::Error::usage(
                    e.to_string(),
                    "reinstall kollega: its bundled dark theme does not load",
                )
            })?
        }
    };
    let user_keymap = config.config_dir.as_ref().map(|d| d.join("keymap.toml"));
    let (keymap, errors) = Keymap::load(config.keymap.as_deref(), user_keymap.as_deref());
    problems.extend(errors.iter().map(ToString::to_string));
    let mut app = App::new(services, theme, keymap, config.ignored.clone(), workspaces);
    app.soft_wrap = config.soft_wrap;
    app.meetings.nudge_after = config.meetings.nudge_after;
    app.set_commit_applies(config.ai.commit_applies);
    if !problems.is_empty() {
        app.notify(format!("{} (defaults in use)", problems.join("; ")), true);
    }
    Ok(app)
}

/// Asks the terminal to tell apart the chords its legacy encoding merges
/// (Ctrl-Shift-Z from Ctrl-Z): kitty's keyboard protocol with its first
/// flag (disambiguate) and xterm's `modifyOtherKeys` at level 1. A
/// terminal that knows neither ignores both; nothing waits for an answer.
/// The input parser reads both forms.
const KEYS_DISAMBIGUATED: &str = "\x1b[>1u\x1b[>4;1m";
/// Back to the legacy keys: kitty's flags popped, xterm's default restored.
const KEYS_LEGACY: &str = "\x1b[<u\x1b[>4m";

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        crossterm::style::Print(KEYS_LEGACY),
        DisableMouseCapture,
        DisableBracketedPaste,
        SetAttribute(Attribute::Reset),
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// What to open at start: a workspace or folder, then a file at a line.
pub(crate) struct Start {
    pub target: Option<OpenTarget>,
    pub path: Option<String>,
    pub line: Option<usize>,
    /// A patch to open in the review pane.
    pub review: Option<i64>,
}

/// Runs the UI until the user quits or the terminal goes away. `store`
/// gives the workspaces to list; the UI itself reads and writes the store
/// only through its worker.
pub(crate) fn run(store: Store, config: &Config, start: Start) -> Result<(), crate::error::Error> {
    let workspaces = crate::store::workspaces::list(&store.conn)?;
    let side = app::side::stored(&store.conn);
    drop(store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            crate::error::Error::Terminal(format!("cannot start the async runtime: {e}"))
        })?;
    runtime
        .block_on(run_async(workspaces, side, config, start))
        .map_err(|e| crate::error::Error::Terminal(format!("{e:#}")))
}

#[derive(Debug, PartialEq, Eq)]
enum Exit {
    Quit,
    Hangup,
    Terminate,
}

/// Starts this process's job runner: it runs queued jobs while no
/// `kollega worker` is alive, and reports their start and end.
fn start_runner(
    config: &Config,
    events: mpsc::UnboundedSender<runner::Event>,
) -> Result<runner::Handle, crate::jobs::JobsError> {
    let mut options =
        runner::Options::new(config.data_dir.clone(), Arc::new(config.clone()), Role::Tui);
    options.events = Some(events);
    runner::spawn(options)
}

/// What the UI task listens to besides the terminal.
struct Inbox {
    reports: mpsc::UnboundedReceiver<crate::autosave::AutosaveReport>,
    messages: mpsc::UnboundedReceiver<app::AppMsg>,
    watch: mpsc::UnboundedReceiver<crate::workspace::watch::WatchEvent>,
    jobs: mpsc::UnboundedReceiver<runner::Event>,
}

async fn run_async(
    workspaces: Vec<Workspace>,
    side: layout::Side,
    config: &Config,
    start: Start,
) -> anyhow::Result<()> {
    let worker = StoreWorker::spawn(&config.data_dir)?;
    let (reports_tx, reports) = mpsc::unbounded_channel();
    let (autosave_tx, autosave_task) = Autosave::spawn(worker.handle(), reports_tx);
    let (msg_tx, messages) = mpsc::unbounded_channel();
    let (watch_tx, watch) = mpsc::unbounded_channel();
    let (jobs_tx, jobs) = mpsc::unbounded_channel();
    let (runner, runner_error) = match start_runner(config, jobs_tx) {
        Ok(handle) => (Some(Arc::new(handle)), None),
        Err(e) => (None, Some(crate::error::describe(&e))),
    };
    let services = Services {
        runtime: tokio::runtime::Handle::current(),
        tx: msg_tx,
        watch: watch_tx,
        store: worker.handle(),
        runner: runner.clone(),
        autosave: Some(autosave_tx.clone()),
    };
    let mut app = build_app(services, config, workspaces)?;
    app.set_side(side);
    if let Some(e) = runner_error {
        app.notify(format!("jobs do not run in this kollega: {e}"), true);
    }
    app.tell_interrupted();
    let mut inbox = Inbox {
        reports,
        messages,
        watch,
        jobs,
    };
    app.start(start.target, start.path.as_deref(), start.line);
    if let Some(id) = start.review {
        app.open_review(id);
    }

    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        default_hook(info);
    }));
    enable_raw_mode()?;
    execute!(
        stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        EnableMouseCapture,
        crossterm::style::Print(KEYS_DISAMBIGUATED),
        cursor::Hide
    )?;

    // The UI runs as a task of its own, so that a panic in it is caught
    // here: what it had sent to autosave is still flushed below.
    let local = tokio::task::LocalSet::new();
    let ui = local.spawn_local(async move {
        let exit = event_loop(&mut app, &mut inbox).await;
        app.sync_autosave();
        (app, exit)
    });
    let (app, exit) = match local.run_until(ui).await {
        Ok((app, exit)) => (Some(app), exit),
        Err(e) => (
            None,
            Err(anyhow::anyhow!(
                "kollega stopped on an internal error ({e}); the drafts sent before it were saved\nhint: start kollega again to get them back, and please report the error above"
            )),
        ),
    };

    // Whatever the reason, write the last edits before leaving.
    let flushed = tokio::time::timeout(FLUSH_TIMEOUT, autosave::flush(&autosave_tx)).await;
    // What becomes of the jobs running here: as the person answered when
    // quitting, else (a hangup, a signal, an error) interrupted.
    let (stop, running) = match (&app, &exit) {
        (Some(app), Ok(Exit::Quit)) => (app.quit_stop, app.running_here()),
        (Some(app), _) => (Stop::Interrupt, app.running_here()),
        (None, _) => (Stop::Interrupt, Vec::new()),
    };
    if let Some(mut app) = app {
        app.release_lock().await;
    }
    // The app is gone, and with it every other handle on the runner.
    if let Some(runner) = runner {
        match Arc::try_unwrap(runner) {
            Ok(runner) => {
                let limit = config.jobs.grace + RUNNER_STOP_SLACK;
                match tokio::time::timeout(limit, runner.stop(stop)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "the job runner stopped badly"),
                    Err(_) => tracing::warn!(
                        "running jobs did not stop in time; when their leases run out, commands become interrupted and other jobs are retried"
                    ),
                }
            }
            Err(_) => tracing::warn!(
                "the job runner is still in use at exit; after their lease its commands become interrupted and other jobs are retried"
            ),
        }
    }
    let handed = match stop {
        Stop::HandOver if !running.is_empty() => {
            let data_dir = config.data_dir.clone();
            let lease = config.jobs.lease;
            let ids: Vec<i64> = running.iter().map(|(id, _)| *id).collect();
            tokio::task::spawn_blocking(move || worker::hand_over(&data_dir, lease, &ids))
                .await
                .ok()
        }
        _ => None,
    };
    let _ = autosave_tx.send(AutosaveEvent::Quit);
    drop(autosave_tx);
    let _ = tokio::time::timeout(FLUSH_TIMEOUT, autosave_task).await;
    let _ = tokio::task::spawn_blocking(move || worker.shutdown()).await;
    restore_terminal();
    if let Some(line) = farewell(stop, &running, handed.as_ref()) {
        eprintln!("{line}");
    }
    match flushed {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("warning: the last drafts could not be written: {e}"),
        Err(_) => eprintln!("warning: writing the last drafts timed out"),
    }
    match exit {
        Ok(Exit::Quit) => Ok(()),
        Ok(reason) => {
            tracing::info!(?reason, "exit on signal after flushing drafts");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// What the terminal is told after the UI is gone about the jobs that ran
/// here: handed to a worker (which one, where its output goes, that it
/// starts them again), or cancelled.
fn farewell(
    stop: Stop,
    running: &[(i64, String)],
    handed: Option<&Result<Taker, crate::jobs::JobsError>>,
) -> Option<String> {
    if running.is_empty() {
        return None;
    }
    let n = match running.len() {
        1 => "1 job".to_string(),
        n => format!("{n} jobs"),
    };
    let it = if running.len() == 1 { "it" } else { "them" };
    let list: Vec<String> = running
        .iter()
        .map(|(id, title)| format!("{id} {}", ansi::strip(title)))
        .collect();
    let list = list.join(", ");
    match (stop, handed) {
        (Stop::Cancel, _) => Some(format!("kollega: cancelled {n}: {list}")),
        (Stop::HandOver, Some(Ok(Taker::Started(w)))) => Some(format!(
            "kollega: {n} handed to a worker (pid {}), which runs {it} again from the start: {list}\n\
             `kollega jobs` follows {it}; the worker's output goes to {}; `kill {}` stops the worker",
            w.pid,
            w.log.display(),
            w.pid
        )),
        (Stop::HandOver, Some(Ok(Taker::Alive))) => Some(format!(
            "kollega: {n} handed to the running worker, which runs {it} again from the start: {list}\n\
             `kollega jobs` follows {it}"
        )),
        (Stop::HandOver, Some(Ok(Taker::Nobody))) => Some(format!(
            "kollega: {n} ended before it was handed over: {list}"
        )),
        (Stop::HandOver, Some(Err(e))) => Some(format!(
            "kollega: {n} could not be handed to a worker ({}): {list}\n\
             {} queued: `kollega worker` or the next kollega runs {it}",
            crate::error::describe(e),
            if running.len() == 1 {
                "it waits"
            } else {
                "they wait"
            }
        )),
        _ => None,
    }
}

async fn event_loop(app: &mut App, inbox: &mut Inbox) -> anyhow::Result<Exit> {
    // Frames go straight to the terminal's file, one write each.
    let out = std::fs::File::from(stdout().as_fd().try_clone_to_owned()?);
    let mut terminal = Terminal::new(LeanBackend::new(out))?;
    // A known blank screen to start from.
    terminal.clear()?;
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut tty = input_tty()?;
    // Reading the terminal blocks; it gets a thread of its own.
    std::thread::Builder::new()
        .name("kollega-input".into())
        .spawn(move || {
            let mut parser = InputParser::default();
            let mut buf = [0u8; 1024];
            loop {
                let n = match tty.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                for ev in parser.feed(&buf[..n], n == buf.len()) {
                    if events_tx.send(ev).is_err() {
                        return;
                    }
                }
            }
        })?;
    let mut resized = signal(SignalKind::window_change())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut jobs_poll = tokio::time::interval(app::JOBS_POLL);
    jobs_poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = true;
    let mut last_frame = Instant::now() - FRAME;

    loop {
        if dirty && last_frame.elapsed() >= FRAME {
            draw(&mut terminal, app)?;
            last_frame = Instant::now();
            dirty = false;
        }
        let next_frame = last_frame + FRAME;
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { return Ok(Exit::Hangup) };
                dirty |= app.handle_event(&ev);
                while let Ok(ev) = events.try_recv() {
                    dirty |= app.handle_event(&ev);
                }
            }
            Some(report) = inbox.reports.recv() => dirty |= app.autosave_report(report),
            Some(msg) = inbox.messages.recv() => {
                dirty |= app.message_in(msg);
                while let Ok(msg) = inbox.messages.try_recv() {
                    dirty |= app.message_in(msg);
                }
            }
            Some(event) = inbox.watch.recv() => dirty |= app.on_watch(event),
            Some(event) = inbox.jobs.recv() => dirty |= app.job_event(event),
            _ = jobs_poll.tick(), if app.wants_poll() => app.poll(),
            _ = heartbeat.tick() => {
                app.heartbeat();
                dirty |= app.meetings_tick();
            }
            _ = resized.recv() => {
                if let Ok((width, height)) = crossterm::terminal::size() {
                    dirty |= app.handle_event(&event::Event::Resize(width, height));
                }
            }
            _ = hangup.recv() => return Ok(Exit::Hangup),
            _ = terminate.recv() => return Ok(Exit::Terminate),
            _ = tokio::time::sleep_until(next_frame), if dirty => {}
        }
        app.sync_autosave();
        if app.quit {
            return Ok(Exit::Quit);
        }
    }
}

/// The terminal to read keys from: standard input when it is one, else
/// the controlling terminal.
fn input_tty() -> std::io::Result<std::fs::File> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        Ok(std::fs::File::from(stdin.as_fd().try_clone_to_owned()?))
    } else {
        std::fs::File::open("/dev/tty")
    }
}

fn draw(terminal: &mut Terminal<LeanBackend<std::fs::File>>, app: &mut App) -> anyhow::Result<()> {
    terminal.backend_mut().begin_frame();
    terminal.draw(|frame| {
        let area = frame.area();
        if let Some((x, y)) = app.render(area, frame.buffer_mut()) {
            frame.set_cursor_position((x, y));
        }
    })?;
    if let Some(text) = app.take_clipboard() {
        // OSC 52: the terminal (also over SSH and in tmux) puts it on the
        // local clipboard.
        let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
        write!(terminal.backend_mut(), "\x1b]52;c;{encoded}\x07")?;
    }
    if app.take_bell() {
        // A new action item needs a nudge: BEL, which the terminal turns
        // into its bell (or a flash, or an urgent window), over SSH too.
        write!(terminal.backend_mut(), "\x07")?;
    }
    terminal.backend_mut().end_frame()?;
    Ok(())
}
