//! Measurements of the real update and render path, for `benches/editor.sh`
//! (`kollega bench-ui …`, hidden from help). Frames are drawn on a ratatui
//! `TestBackend` of 100x30, so they include layout, highlighting and the
//! buffer diff, but not the terminal's own I/O.

use std::path::Path;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

use std::sync::Arc;

use super::app::{App, Background, JOBS_POLL, OpenTarget};
use super::build_app;
use crate::autosave::Autosave;
use crate::config::Config;
use crate::jobs::queue::Role;
use crate::jobs::runner;
use crate::store::Store;
use crate::store::worker::StoreWorker;
use crate::workspace::disk::DiskWorkspace;

fn frame(terminal: &mut Terminal<TestBackend>, app: &mut App) -> anyhow::Result<Duration> {
    let started = Instant::now();
    terminal.draw(|f| {
        app.render(f.area(), f.buffer_mut());
    })?;
    Ok(started.elapsed())
}

fn key(c: char) -> Event {
    Event::Key(KeyEvent {
        code: KeyCode::Char(c),
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    })
}

fn open(config: &Config, dir: &Path, file: &str, line: Option<usize>) -> anyhow::Result<App> {
    let store = Store::open(&config.data_dir)?;
    let mut app = build_app(store, config)?;
    app.start(
        Some(OpenTarget::Dir(DiskWorkspace::open(dir)?)),
        Some(file),
        line,
    );
    Ok(app)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Runs one scenario and prints its figures as one JSON line.
pub fn run(config: &Config, scenario: &str, dir: &Path, file: &str) -> anyhow::Result<()> {
    let mut terminal = Terminal::new(TestBackend::new(100, 30))?;
    let out = match scenario {
        // Keystroke to frame in the middle of a big file, autosave on.
        "keystroke" => {
            let runtime = tokio::runtime::Runtime::new()?;
            let _guard = runtime.enter();
            let worker = StoreWorker::spawn(&config.data_dir)?;
            let (reports, _reports_rx) = tokio::sync::mpsc::unbounded_channel();
            let (events, _task) = Autosave::spawn(worker.handle(), reports);
            let mut app = open(config, dir, file, None)?;
            app.set_autosave(events);
            let lines = app.active_line_count();
            app.goto(lines / 2);
            frame(&mut terminal, &mut app)?;
            let mut times = Vec::new();
            for i in 0..2_000 {
                let started = Instant::now();
                app.handle_event(&key(if i % 10 == 9 { ' ' } else { 'x' }));
                app.sync_autosave();
                frame(&mut terminal, &mut app)?;
                times.push(started.elapsed());
            }
            times.sort();
            json!({"scenario": scenario, "lines": lines, "keys": times.len(),
                   "p50_ms": percentile(&times, 0.5), "p99_ms": percentile(&times, 0.99),
                   "max_ms": percentile(&times, 1.0)})
        }
        // Jump to the end of a file and draw the highlighted window.
        "jump-end" => {
            let mut app = open(config, dir, file, None)?;
            frame(&mut terminal, &mut app)?;
            let started = Instant::now();
            let lines = app.active_line_count();
            app.goto(lines);
            let drawn = frame(&mut terminal, &mut app)?;
            json!({"scenario": scenario, "lines": lines,
                   "jump_and_frame_ms": started.elapsed().as_secs_f64() * 1e3,
                   "frame_ms": drawn.as_secs_f64() * 1e3})
        }
        // Open a file and draw the first frame; peak memory of the process.
        "open" => {
            let started = Instant::now();
            let mut app = open(config, dir, file, None)?;
            frame(&mut terminal, &mut app)?;
            let bytes = std::fs::metadata(dir.join(file))
                .map(|m| m.len())
                .unwrap_or(0);
            json!({"scenario": scenario, "file_mb": bytes as f64 / 1048576.0,
                   "first_frame_ms": started.elapsed().as_secs_f64() * 1e3,
                   "peak_rss_mb": peak_rss_mb()})
        }
        // 100 characters a second for 10 s with autosave writing drafts.
        "typing" => {
            let runtime = tokio::runtime::Runtime::new()?;
            let config = config.clone();
            let dir = dir.to_path_buf();
            let file = file.to_string();
            runtime.block_on(async move {
                let worker = StoreWorker::spawn(&config.data_dir)?;
                let (reports, mut reports_rx) = tokio::sync::mpsc::unbounded_channel();
                let (events, task) = Autosave::spawn(worker.handle(), reports);
                let mut app = open(&config, &dir, &file, Some(1))?;
                app.set_autosave(events.clone());
                let mut terminal = Terminal::new(TestBackend::new(100, 30))?;
                frame(&mut terminal, &mut app)?;
                let mut times = Vec::new();
                let mut tick = tokio::time::interval(Duration::from_millis(10));
                let text = "const typed = \"hello world\"; // and on and on\n";
                for c in text.chars().cycle().take(1_000) {
                    tick.tick().await;
                    let started = Instant::now();
                    app.handle_event(&key(c));
                    app.sync_autosave();
                    frame(&mut terminal, &mut app)?;
                    times.push(started.elapsed());
                }
                let flushed = crate::autosave::flush(&events).await.is_ok();
                let mut saves = 0;
                while let Ok(report) = reports_rx.try_recv() {
                    if matches!(report, crate::autosave::AutosaveReport::Saved { .. }) {
                        saves += 1;
                    }
                }
                drop(events);
                drop(app);
                let _ = task.await;
                times.sort();
                Ok::<_, anyhow::Error>(json!({"scenario": "typing", "keys": times.len(),
                    "autosaves": saves, "flushed": flushed,
                    "p50_ms": percentile(&times, 0.5), "p99_ms": percentile(&times, 0.99),
                    "max_ms": percentile(&times, 1.0)}))
            })?
        }
        // A 5,000-line change in the diff view: first frame, then frames
        // paging to the end.
        "diff" => {
            let text = std::fs::read_to_string(dir.join(file))?;
            let new: String = text.lines().take(5_000).map(|l| format!("{l}\n")).collect();
            let old: String = new.lines().step_by(2).map(|l| format!("{l}\n")).collect();
            let patch = crate::patch::diff_texts(&old, &new, file);
            let theme = crate::tui::theme::Theme::load(
                "dark",
                None,
                crate::tui::theme::ColorDepth::TrueColor,
            )?;
            let highlighter = crate::editor::highlight::Highlighter::new(&theme.syntax_palette());
            // The app warms the syntaxes of changed files when the status
            // arrives, before their diff is opened; so does the bench.
            let _ = highlighter.warm_up(file, text.clone()).join();
            let mut view = crate::tui::panes::diff::DiffView::new(patch, false, &highlighter);
            let mut draw =
                |view: &mut crate::tui::panes::diff::DiffView| -> anyhow::Result<Duration> {
                    let started = Instant::now();
                    terminal.draw(|f| {
                        view.render(f.area(), f.buffer_mut(), true, &highlighter, &theme)
                    })?;
                    Ok(started.elapsed())
                };
            let first = draw(&mut view)?;
            let mut times = Vec::new();
            for _ in 0..400 {
                view.scroll(1);
                times.push(draw(&mut view)?);
            }
            times.sort();
            let over = times.iter().filter(|t| t.as_millis() > 16).count();
            json!({"scenario": scenario, "changed_lines": 5_000, "first_frame_ms": first.as_secs_f64() * 1e3,
                   "frames": times.len(), "p50_ms": percentile(&times, 0.5), "p99_ms": percentile(&times, 0.99),
                   "max_ms": percentile(&times, 1.0), "frames_over_16ms": over})
        }
        // Start to first frame: the process is timed from outside.
        "first-frame" => {
            let mut app = open(config, dir, file, None)?;
            frame(&mut terminal, &mut app)?;
            json!({"scenario": scenario, "peak_rss_mb": peak_rss_mb()})
        }
        // The jobs view on a job streaming output: `dir` is the folder it
        // runs in, `file` its command line (`seq 10000000`). The runner of
        // this process runs it, as the TUI's does; frames are timed from
        // the first answer handled to the end of the draw.
        "jobs-stream" => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(jobs_stream(config, dir, file))?
        }
        other => anyhow::bail!(
            "unknown scenario {other:?} (keystroke, jump-end, open, typing, diff, first-frame, jobs-stream)"
        ),
    };
    println!("{out}");
    Ok(())
}

async fn jobs_stream(
    config: &Config,
    dir: &Path,
    command: &str,
) -> anyhow::Result<serde_json::Value> {
    const FRAME: Duration = Duration::from_millis(16);
    let worker = StoreWorker::spawn(&config.data_dir)?;
    let mut app = build_app(Store::open(&config.data_dir)?, config)?;
    app.start(Some(OpenTarget::Dir(DiskWorkspace::open(dir)?)), None, None);
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let mut options =
        runner::Options::new(config.data_dir.clone(), Arc::new(config.clone()), Role::Tui);
    options.events = Some(events_tx);
    // Measure the view, whatever worker may be running on this machine.
    options.defer_to_worker = false;
    options.run_schedules = false;
    let runner = Arc::new(runner::spawn(options)?);
    let (tx, mut messages) = tokio::sync::mpsc::unbounded_channel();
    let (watch, _watched) = tokio::sync::mpsc::unbounded_channel();
    app.set_background(Background {
        handle: tokio::runtime::Handle::current(),
        tx,
        watch,
        store: Some(worker.handle()),
        runner: Some(runner.clone()),
    });
    let mut terminal = Terminal::new(TestBackend::new(100, 30))?;
    app.run_command_line(command);
    let started = Instant::now();
    let mut poll = tokio::time::interval(JOBS_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut frames = Vec::new();
    let mut busy = Duration::ZERO;
    let mut dirty = true;
    let mut last_frame = Instant::now();
    let mut ended_at: Option<Instant> = None;
    loop {
        if dirty && last_frame.elapsed() >= FRAME {
            let drawn = frame(&mut terminal, &mut app)?;
            frames.push(busy + drawn);
            busy = Duration::ZERO;
            dirty = false;
            last_frame = Instant::now();
        }
        match (app.followed_job(), ended_at) {
            // A second after the end, the last lines have been read.
            (_, Some(at)) if at.elapsed() > Duration::from_secs(1) => break,
            (Some((_, status, ..)), None) if status.is_final() => ended_at = Some(Instant::now()),
            _ if started.elapsed() > Duration::from_secs(900) => {
                anyhow::bail!("the job did not end within 15 minutes")
            }
            _ => {}
        }
        let next_frame = tokio::time::Instant::from_std(last_frame + FRAME);
        tokio::select! {
            Some(msg) = messages.recv() => {
                let t = Instant::now();
                dirty |= app.message_in(msg);
                while let Ok(msg) = messages.try_recv() {
                    dirty |= app.message_in(msg);
                }
                busy += t.elapsed();
            }
            Some(event) = events.recv() => {
                let t = Instant::now();
                dirty |= app.job_event(event);
                busy += t.elapsed();
            }
            _ = poll.tick(), if app.wants_job_poll() => {
                let t = Instant::now();
                app.poll_jobs();
                busy += t.elapsed();
            }
            _ = tokio::time::sleep_until(next_frame), if dirty => {}
        }
    }
    let streamed = started.elapsed();
    let peak = peak_rss_mb();
    let (id, status, last_seq, held) = app
        .followed_job()
        .ok_or_else(|| anyhow::anyhow!("the jobs view shows no job"))?;
    drop(app);
    if let Ok(runner) = Arc::try_unwrap(runner) {
        runner.shutdown().await?;
    }
    tokio::task::spawn_blocking(move || worker.shutdown()).await??;
    frames.sort();
    let over = frames.iter().filter(|t| t.as_millis() > 16).count();
    Ok(
        json!({"scenario": "jobs-stream", "command": command, "job": id,
              "status": status.as_str(), "lines": last_seq + 1, "lines_held": held,
              "seconds": streamed.as_secs_f64(), "frames": frames.len(),
              "p50_ms": percentile(&frames, 0.5), "p99_ms": percentile(&frames, 0.99),
              "max_ms": percentile(&frames, 1.0), "frames_over_16ms": over,
              "peak_rss_mb": peak}),
    )
}
