//! The real workstation, driven in-process without a terminal: the app on
//! a ratatui test backend, with the real store worker, autosave task and
//! (when asked) job runner, its keys given by name as the keymap files
//! write them. Integration tests and benchmarks drive it as helix-term's
//! tests drive its `Application`.
//!
//! Everything the app sends off the UI task comes back as it would in the
//! terminal; [`Harness::settle`] waits until nothing is left in flight.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use super::app::{App, AppMsg, OpenTarget, Services};
use super::keymap::Keymap;
use super::theme::{ColorDepth, Theme};
use crate::autosave::{Autosave, AutosaveEvent, AutosaveReport};
use crate::config::Config;
use crate::jobs::queue::Role;
use crate::jobs::runner;
use crate::store::Store;
use crate::store::worker::StoreWorker;
use crate::workspace::disk::DiskWorkspace;

/// What the workstation opens.
#[derive(Debug, Clone)]
pub enum Target {
    /// The only workspace there is, else the list (as `kollega` alone).
    Start,
    /// A stored workspace by name.
    Workspace(String),
    /// A folder edited on disk.
    Folder(PathBuf),
}

/// How drafts are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drafts {
    /// The real autosave task, through the store worker.
    Autosave,
    /// Kept for the test to read (unit tests of the app).
    Captured,
}

/// How to start.
#[derive(Debug, Clone)]
pub struct Options {
    /// A shipped keymap by name (`vim`); the default keymap otherwise.
    pub keymap: Option<String>,
    pub width: u16,
    pub height: u16,
    pub drafts: Drafts,
    /// Run this process's job runner, as the TUI does.
    pub runner: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            keymap: None,
            width: 100,
            height: 30,
            drafts: Drafts::Autosave,
            runner: false,
        }
    }
}

/// Why the workstation could not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HarnessError(String);

fn fail(e: impl std::fmt::Display) -> HarnessError {
    HarnessError(e.to_string())
}

pub struct Harness {
    pub(crate) app: App,
    terminal: Terminal<TestBackend>,
    messages: mpsc::UnboundedReceiver<AppMsg>,
    runner_events: mpsc::UnboundedReceiver<runner::Event>,
    captured: Option<mpsc::UnboundedReceiver<AutosaveEvent>>,
    reports: mpsc::UnboundedReceiver<AutosaveReport>,
    autosave: Option<mpsc::UnboundedSender<AutosaveEvent>>,
    autosave_task: Option<tokio::task::JoinHandle<()>>,
    runner: Option<Arc<runner::Handle>>,
    worker: Option<StoreWorker>,
    // Kept open so that a watcher's sends never fail.
    _watch: mpsc::UnboundedReceiver<crate::workspace::watch::WatchEvent>,
    cursor: Option<(u16, u16)>,
    /// Autosave's reports of drafts written.
    autosaves: usize,
}

impl Harness {
    /// Starts the workstation on the store in `data_dir`, opening `target`
    /// and then `file` at `line` (1-based). Must run inside a tokio runtime.
    pub async fn start(
        data_dir: &Path,
        target: Target,
        file: Option<&str>,
        line: Option<usize>,
        options: Options,
    ) -> Result<Harness, HarnessError> {
        let config = Config::load(Some(data_dir.to_path_buf())).map_err(fail)?;
        let store = Store::open(&config.data_dir).map_err(fail)?;
        let workspaces = crate::store::workspaces::list(&store.conn).map_err(fail)?;
        let open = match &target {
            Target::Start => None,
            Target::Workspace(name) => Some(OpenTarget::Workspace(
                workspaces
                    .iter()
                    .find(|w| w.name == *name)
                    .cloned()
                    .ok_or_else(|| fail(format!("no workspace {name:?}")))?,
            )),
            Target::Folder(dir) => Some(OpenTarget::Dir(DiskWorkspace::open(dir).map_err(fail)?)),
        };
        let side = crate::tui::app::side::stored(&store.conn);
        drop(store);
        let worker = StoreWorker::spawn(&config.data_dir).map_err(fail)?;
        let (reports_tx, reports) = mpsc::unbounded_channel();
        let (autosave, autosave_task, captured) = match options.drafts {
            Drafts::Autosave => {
                let (tx, task) = Autosave::spawn(worker.handle(), reports_tx);
                (Some(tx), Some(task), None)
            }
            Drafts::Captured => {
                let (tx, rx) = mpsc::unbounded_channel();
                (Some(tx), None, Some(rx))
            }
        };
        let (runner_tx, runner_events) = mpsc::unbounded_channel();
        let runner = if options.runner {
            let mut runner_options =
                runner::Options::new(config.data_dir.clone(), Arc::new(config.clone()), Role::Tui);
            runner_options.events = Some(runner_tx);
            // Measure and test this process, whatever worker may run here.
            runner_options.defer_to_worker = false;
            runner_options.run_schedules = false;
            Some(Arc::new(runner::spawn(runner_options).map_err(fail)?))
        } else {
            drop(runner_tx);
            None
        };
        let (tx, messages) = mpsc::unbounded_channel();
        let (watch_tx, watch) = mpsc::unbounded_channel();
        let services = Services {
            runtime: tokio::runtime::Handle::current(),
            tx,
            watch: watch_tx,
            store: worker.handle(),
            runner: runner.clone(),
            autosave: autosave.clone(),
        };
        let theme = Theme::load("dark", None, ColorDepth::TrueColor).map_err(fail)?;
        let (keymap, errors) = Keymap::load(options.keymap.as_deref(), None);
        if let Some(e) = errors.first() {
            return Err(fail(e));
        }
        let mut app = App::new(services, theme, keymap, config.ignored.clone(), workspaces);
        app.set_side(side);
        let terminal =
            Terminal::new(TestBackend::new(options.width, options.height)).map_err(fail)?;
        let mut harness = Harness {
            app,
            terminal,
            messages,
            runner_events,
            captured,
            reports,
            autosave,
            autosave_task,
            runner,
            worker: Some(worker),
            _watch: watch,
            cursor: None,
            autosaves: 0,
        };
        harness.app.start(open, file, line);
        harness.until_open().await;
        Ok(harness)
    }

    /// Waits until the workspace (and the file asked for) is open, as the
    /// terminal draws its first frame then; the git status, the folder's
    /// watcher and the rest may still be coming ([`Harness::settle`]).
    pub async fn until_open(&mut self) -> bool {
        while self.app.opening() {
            match tokio::time::timeout(Duration::from_secs(10), self.messages.recv()).await {
                Ok(Some(msg)) => {
                    self.app.message_in(msg);
                }
                _ => return false,
            }
        }
        self.app.sync_autosave();
        true
    }

    /// Takes every answer that has come, then waits for the rest until
    /// nothing is in flight (at most `limit` for each).
    pub async fn settle_within(&mut self, limit: Duration) -> bool {
        loop {
            while let Ok(msg) = self.messages.try_recv() {
                self.app.message_in(msg);
            }
            while let Ok(event) = self.runner_events.try_recv() {
                self.app.job_event(event);
            }
            self.take_reports();
            if self.app.in_flight() == 0 {
                self.app.sync_autosave();
                return true;
            }
            match tokio::time::timeout(limit, self.messages.recv()).await {
                Ok(Some(msg)) => {
                    self.app.message_in(msg);
                }
                _ => return false,
            }
        }
    }

    /// [`Harness::settle_within`] ten seconds.
    pub async fn settle(&mut self) -> bool {
        self.settle_within(Duration::from_secs(10)).await
    }

    /// Takes the answers that have come, without waiting.
    pub fn pump(&mut self) -> bool {
        let mut redraw = false;
        while let Ok(msg) = self.messages.try_recv() {
            redraw |= self.app.message_in(msg);
        }
        while let Ok(event) = self.runner_events.try_recv() {
            redraw |= self.app.job_event(event);
        }
        redraw |= self.take_reports();
        self.app.sync_autosave();
        redraw
    }

    fn take_reports(&mut self) -> bool {
        let mut redraw = false;
        while let Ok(report) = self.reports.try_recv() {
            if matches!(report, AutosaveReport::Saved { .. }) {
                self.autosaves += 1;
            }
            redraw |= self.app.autosave_report(report);
        }
        redraw
    }

    /// How many times autosave wrote drafts so far.
    pub fn autosaves(&self) -> usize {
        self.autosaves
    }

    /// Waits for the next answer of a worker or the runner (at most
    /// `limit`); false when none came.
    pub async fn next_message(&mut self, limit: Duration) -> bool {
        tokio::select! {
            Some(msg) = self.messages.recv() => {
                self.app.message_in(msg);
                true
            }
            Some(event) = self.runner_events.recv() => {
                self.app.job_event(event);
                true
            }
            _ = tokio::time::sleep(limit) => false,
        }
    }

    /// One key by the name the keymap files use: "j", "G", "ctrl-s",
    /// "shift-down", "enter", "f1". Returns whether a redraw is due.
    pub fn key(&mut self, name: &str) -> bool {
        let Some(event) = key_event(name) else {
            return false;
        };
        let redraw = self.app.handle_event(&Event::Key(event));
        self.app.sync_autosave();
        redraw
    }

    /// Types `text`, one key per character.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let event = KeyEvent {
                code: KeyCode::Char(c),
                modifiers: KeyModifiers::NONE,
                kind: KeyEventKind::Press,
                state: KeyEventState::NONE,
            };
            self.app.handle_event(&Event::Key(event));
        }
        self.app.sync_autosave();
    }

    /// Draws a frame; how long the drawing took.
    pub fn draw(&mut self) -> Duration {
        let started = Instant::now();
        let app = &mut self.app;
        let mut cursor = None;
        let drawn = self.terminal.draw(|f| {
            cursor = app.render(f.area(), f.buffer_mut());
        });
        if drawn.is_ok() {
            self.cursor = cursor;
        }
        started.elapsed()
    }

    /// The screen of the last frame, as text.
    pub fn screen(&self) -> String {
        self.terminal.backend().to_string()
    }

    /// Draws at `width` x `height` and gives the screen.
    pub fn screen_at(&mut self, width: u16, height: u16) -> String {
        self.terminal.backend_mut().resize(width, height);
        self.draw();
        self.screen()
    }

    /// Where the last frame put the terminal cursor.
    pub fn cursor(&self) -> Option<(u16, u16)> {
        self.cursor
    }

    /// The cells of the last frame.
    pub fn buffer(&self) -> &ratatui::buffer::Buffer {
        self.terminal.backend().buffer()
    }

    /// With [`Drafts::Captured`]: the number of draft and editor-state
    /// snapshots the app sent since the last call.
    pub fn captured_snapshots(&mut self) -> usize {
        self.drain_captured().len()
    }

    pub(crate) fn drain_captured(&mut self) -> Vec<AutosaveEvent> {
        self.app.sync_autosave();
        match &mut self.captured {
            Some(events) => std::iter::from_fn(|| events.try_recv().ok()).collect(),
            None => Vec::new(),
        }
    }

    /// Lines of the active buffer (0 with no tab).
    pub fn line_count(&self) -> usize {
        self.app
            .session
            .as_ref()
            .and_then(|s| s.editor.active_tab())
            .map_or(0, |t| t.buffer.len_lines())
    }

    /// Moves the active buffer's cursor to `line` (1-based).
    pub fn goto(&mut self, line: usize) {
        if let Some(tab) = self
            .app
            .session
            .as_mut()
            .and_then(|s| s.editor.active_tab_mut())
        {
            tab.buffer.goto_line(line);
        }
    }

    /// The text of the active buffer.
    pub fn text(&self) -> Option<String> {
        self.app
            .session
            .as_ref()
            .and_then(|s| s.editor.active_tab())
            .map(|t| t.buffer.text())
    }

    /// Whether the active buffer holds unsaved text.
    pub fn dirty(&self) -> bool {
        self.app
            .session
            .as_ref()
            .and_then(|s| s.editor.active_tab())
            .is_some_and(|t| t.is_dirty())
    }

    /// Queues a shell line as a job of the open workspace, as "Run
    /// command…" does.
    pub fn run_command(&mut self, line: &str) {
        self.app.run_command_line(line);
    }

    /// Asks the store for news of the jobs, as the loop does while the jobs
    /// view is open.
    pub fn poll_jobs(&mut self) {
        if self.app.wants_job_poll() {
            self.app.poll_jobs();
        }
    }

    /// The job the jobs view shows: id, status name, the last log seq taken
    /// and the lines held.
    pub fn followed_job(&self) -> Option<(i64, &'static str, i64, usize)> {
        self.app
            .followed_job()
            .map(|(id, status, seq, held)| (id, status.as_str(), seq, held))
    }

    /// Whether the followed job has ended.
    pub fn followed_job_ended(&self) -> bool {
        self.app
            .followed_job()
            .is_some_and(|(_, status, ..)| status.is_final())
    }

    /// The last line of the status bar's message, if any.
    pub fn status_message(&self) -> Option<&str> {
        self.app.status_message()
    }

    /// Writes the last drafts and stops everything, as quitting does.
    pub async fn shutdown(mut self) -> Result<(), HarnessError> {
        self.app.sync_autosave();
        if let Some(events) = &self.autosave
            && self.autosave_task.is_some()
        {
            crate::autosave::flush(events).await.map_err(fail)?;
        }
        self.app.release_lock().await;
        let Harness {
            app,
            autosave,
            autosave_task,
            runner,
            worker,
            ..
        } = self;
        drop(app);
        if let Some(runner) = runner.and_then(|r| Arc::try_unwrap(r).ok()) {
            runner.shutdown().await.map_err(fail)?;
        }
        if let Some(events) = autosave {
            let _ = events.send(AutosaveEvent::Quit);
        }
        if let Some(task) = autosave_task {
            let _ = task.await;
        }
        if let Some(worker) = worker {
            tokio::task::spawn_blocking(move || worker.shutdown())
                .await
                .map_err(fail)?
                .map_err(fail)?;
        }
        Ok(())
    }
}

/// A key event from its keymap name.
fn key_event(name: &str) -> Option<KeyEvent> {
    let (mut modifiers, mut rest) = (KeyModifiers::NONE, name);
    loop {
        if let Some(r) = rest.strip_prefix("ctrl-") {
            modifiers |= KeyModifiers::CONTROL;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("alt-") {
            modifiers |= KeyModifiers::ALT;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("shift-") {
            modifiers |= KeyModifiers::SHIFT;
            rest = r;
        } else {
            break;
        }
    }
    let code = match rest {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" => KeyCode::Backspace,
        "delete" => KeyCode::Delete,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pageup" => KeyCode::PageUp,
        "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "space" => KeyCode::Char(' '),
        f if f.starts_with('f') && f.len() > 1 => KeyCode::F(f[1..].parse().ok()?),
        c => {
            let mut chars = c.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => {
                    if c.is_uppercase() {
                        modifiers |= KeyModifiers::SHIFT;
                    }
                    KeyCode::Char(c)
                }
                _ => return None,
            }
        }
    };
    Some(KeyEvent {
        code,
        modifiers,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    })
}

/// A patch of one Rust file whose diff has `lines` lines (hunks of ten:
/// context, two removed, three added, context), as the review benchmark
/// shows it.
fn review_patch(lines: usize) -> String {
    let mut diff =
        String::from("diff --git a/src/big.rs b/src/big.rs\n--- a/src/big.rs\n+++ b/src/big.rs\n");
    let hunks = lines.div_ceil(10).max(1);
    for h in 0..hunks {
        let old = 1 + h * 20;
        let new = 1 + h * 21;
        diff.push_str(&format!("@@ -{old},6 +{new},7 @@ fn step_{h}() {{\n"));
        diff.push_str(&format!(
            "     let total_{h} = prices.iter().sum::<u32>();\n"
        ));
        diff.push_str(&format!("     let count_{h} = items.len() as u32;\n"));
        diff.push_str(&format!("-    let share = total_{h} / count_{h};\n"));
        diff.push_str(&format!("-    log(\"step {h}\", share);\n"));
        diff.push_str(&format!(
            "+    let share = total_{h}.checked_div(count_{h}).unwrap_or(0);\n"
        ));
        diff.push_str(&format!("+    log(\"step {h} (checked)\", share);\n"));
        diff.push_str(&format!("+    record(share, {h});\n"));
        diff.push_str("     share\n");
        diff.push_str("     // end\n");
    }
    diff
}

/// Frame times of the review pane on a diff of `lines` lines at
/// `width` x `height`: one frame per key, paging down and moving between
/// hunks, as the review benchmark measures (no terminal I/O).
pub fn review_frames(
    lines: usize,
    frames: usize,
    width: u16,
    height: u16,
) -> Result<Vec<Duration>, String> {
    use crate::store::patches::{PatchRow, PatchStatus, Source};
    use crate::tui::keymap::Action;
    use crate::tui::panes::review::ReviewPane;

    let theme = Theme::load("dark", None, ColorDepth::TrueColor).map_err(|e| e.to_string())?;
    let highlighter = crate::editor::highlight::Highlighter::new(&theme.syntax_palette());
    let row = PatchRow {
        id: 1,
        workspace_key: "dir:/bench".into(),
        source: Source::Import,
        job_id: None,
        conversation_id: None,
        title: "bench".into(),
        message: None,
        diff: review_patch(lines),
        status: PatchStatus::Pending,
        created_at: 0,
        updated_at: 0,
    };
    let mut pane = ReviewPane::new(&row, &[], &highlighter)?;
    let area = ratatui::layout::Rect::new(0, 0, width, height);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    let mut times = Vec::with_capacity(frames);
    for i in 0..frames {
        let started = Instant::now();
        let action = if i % 4 == 3 {
            Action::Down
        } else {
            Action::PageDown
        };
        let _ = pane.update(action, &highlighter);
        buf.reset();
        pane.render(area, &mut buf, true, &highlighter, &theme);
        times.push(started.elapsed());
    }
    Ok(times)
}
