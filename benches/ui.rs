//! Measurements of the workstation's real update and render path, for
//! `benches/editor.sh` and `benches/jobs.sh`: the app driven in-process
//! (`kollega::harness`) on a 100x30 ratatui test backend, with the real
//! store worker, autosave and job runner. Frames include layout,
//! highlighting and the buffer diff, not the terminal's own I/O.
//!
//! `cargo bench --bench ui -- SCENARIO DIR FILE` prints one JSON line.
//! Scenarios: keystroke, jump-end, open, typing, diff, first-frame,
//! jobs-stream (FILE is then the command line, run in DIR), review (a
//! review pane frame on a diff of FILE lines, e.g. 10000; DIR unused),
//! grep (FILE is then the text looked for in DIR's files).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use kollega::harness::{Drafts, Harness, Options, Target};
use serde_json::{Value, json};

type Result<T> = std::result::Result<T, String>;

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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Frame times as p50/p99/max and how many went past a 16 ms frame.
fn summary(mut times: Vec<Duration>) -> Value {
    times.sort();
    let over = times.iter().filter(|t| t.as_millis() > 16).count();
    json!({"frames": times.len(), "p50_ms": percentile(&times, 0.5),
           "p99_ms": percentile(&times, 0.99), "max_ms": percentile(&times, 1.0),
           "frames_over_16ms": over})
}

/// A private store beside the inputs, so a bench never touches the user's.
fn data_dir(dir: &Path) -> PathBuf {
    std::env::var_os("KOLLEGA_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join(".kollega-bench-data"))
}

async fn open(dir: &Path, file: Option<&str>, drafts: Drafts, runner: bool) -> Result<Harness> {
    let options = Options {
        drafts,
        runner,
        ..Options::default()
    };
    Harness::start(
        &data_dir(dir),
        Target::Folder(dir.to_path_buf()),
        file,
        None,
        options,
    )
    .await
    .map_err(|e| e.to_string())
}

/// Keystroke to frame in the middle of a big file, autosave on.
async fn keystroke(dir: &Path, file: &str) -> Result<Value> {
    let mut h = open(dir, Some(file), Drafts::Autosave, false).await?;
    let lines = h.line_count();
    h.goto(lines / 2);
    h.draw();
    let mut times = Vec::new();
    for i in 0..2_000 {
        let started = Instant::now();
        h.key(if i % 10 == 9 { "space" } else { "x" });
        h.pump();
        h.draw();
        times.push(started.elapsed());
    }
    h.shutdown().await.map_err(|e| e.to_string())?;
    let mut out = summary(times);
    out["scenario"] = json!("keystroke");
    out["lines"] = json!(lines);
    Ok(out)
}

/// Jump to the end of a file and draw the highlighted window.
async fn jump_end(dir: &Path, file: &str) -> Result<Value> {
    let mut h = open(dir, Some(file), Drafts::Captured, false).await?;
    h.draw();
    let started = Instant::now();
    let lines = h.line_count();
    h.goto(lines);
    let drawn = h.draw();
    Ok(json!({"scenario": "jump-end", "lines": lines,
              "jump_and_frame_ms": ms(started.elapsed()), "frame_ms": ms(drawn)}))
}

/// Open a file and draw the first frame; peak memory of the process.
async fn open_file(dir: &Path, file: &str) -> Result<Value> {
    let started = Instant::now();
    let mut h = open(dir, Some(file), Drafts::Captured, false).await?;
    h.draw();
    let bytes = std::fs::metadata(dir.join(file))
        .map(|m| m.len())
        .unwrap_or(0);
    Ok(
        json!({"scenario": "open", "file_mb": bytes as f64 / 1048576.0,
              "first_frame_ms": ms(started.elapsed()), "peak_rss_mb": peak_rss_mb()}),
    )
}

/// A 1 MB minified file on one line: the first frame, then typing at the
/// end of that line, keystroke to frame.
async fn long_line(dir: &Path, file: &str) -> Result<Value> {
    let started = Instant::now();
    let mut h = open(dir, Some(file), Drafts::Autosave, false).await?;
    h.draw();
    let first_frame = started.elapsed();
    h.key("end");
    h.pump();
    h.draw();
    let mut times = Vec::new();
    for i in 0..200 {
        let started = Instant::now();
        h.key(if i % 10 == 9 { "space" } else { "x" });
        h.pump();
        h.draw();
        times.push(started.elapsed());
    }
    h.shutdown().await.map_err(|e| e.to_string())?;
    let mut out = summary(times);
    out["scenario"] = json!("long-line");
    out["first_frame_ms"] = json!(ms(first_frame));
    Ok(out)
}

/// The same megabyte on one line with soft wrap on: the first frame at the
/// line's end (the window scrolled to its last rows), then typing there.
async fn long_line_wrap(dir: &Path, file: &str) -> Result<Value> {
    let mut h = open(dir, Some(file), Drafts::Autosave, false).await?;
    h.key("alt-z");
    h.draw();
    let started = Instant::now();
    h.key("end");
    h.pump();
    h.draw();
    let end_frame = started.elapsed();
    let mut times = Vec::new();
    for i in 0..200 {
        let started = Instant::now();
        h.key(if i % 10 == 9 { "space" } else { "x" });
        h.pump();
        h.draw();
        times.push(started.elapsed());
    }
    h.shutdown().await.map_err(|e| e.to_string())?;
    let mut out = summary(times);
    out["scenario"] = json!("long-line-wrap");
    out["end_frame_ms"] = json!(ms(end_frame));
    Ok(out)
}

/// A search with thousands of matches in a big file: `f3` to the next
/// match, counted (up to 999) and highlighted, key to frame.
async fn search(dir: &Path, file: &str) -> Result<Value> {
    let mut h = open(dir, Some(file), Drafts::Captured, false).await?;
    h.draw();
    h.key("ctrl-f");
    h.type_text("item-");
    h.key("enter");
    h.draw();
    let mut times = Vec::new();
    for _ in 0..500 {
        let started = Instant::now();
        h.key("f3");
        h.pump();
        h.draw();
        times.push(started.elapsed());
    }
    let status = h.status_message().unwrap_or_default().to_string();
    let lines = h.line_count();
    h.shutdown().await.map_err(|e| e.to_string())?;
    let mut out = summary(times);
    out["scenario"] = json!("search");
    out["lines"] = json!(lines);
    out["status"] = json!(status);
    Ok(out)
}

/// 100 characters a second for 10 s, autosave writing drafts.
async fn typing(dir: &Path, file: &str) -> Result<Value> {
    let mut h = open(dir, Some(file), Drafts::Autosave, false).await?;
    h.goto(1);
    h.draw();
    let mut times = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let text = "const typed = \"hello world\"; // and on and on\n";
    for c in text.chars().cycle().take(1_000) {
        tick.tick().await;
        let started = Instant::now();
        match c {
            '\n' => h.key("enter"),
            ' ' => h.key("space"),
            c => h.key(&c.to_string()),
        };
        h.pump();
        h.draw();
        times.push(started.elapsed());
    }
    h.pump();
    let autosaves = h.autosaves();
    h.shutdown().await.map_err(|e| e.to_string())?;
    let mut out = summary(times);
    out["scenario"] = json!("typing");
    out["autosaves"] = json!(autosaves);
    Ok(out)
}

/// A 5,000-line change in the diff of the changes view: the first frame,
/// then frames paging to the end. The repository is made in a folder of
/// its own beside the input.
async fn diff(dir: &Path, file: &str) -> Result<Value> {
    let text = std::fs::read_to_string(dir.join(file)).map_err(|e| e.to_string())?;
    let new: String = text.lines().take(5_000).map(|l| format!("{l}\n")).collect();
    let old: String = new.lines().step_by(2).map(|l| format!("{l}\n")).collect();
    let repo = dir.join(".kollega-bench-diff");
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(&repo).map_err(|e| e.to_string())?;
    let name = Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file.txt");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args([
                "-c",
                "user.name=bench",
                "-c",
                "user.email=bench@example.com",
            ])
            .args(args)
            .current_dir(&repo)
            .output()
            .map_err(|e| e.to_string())
            .and_then(|o| {
                o.status
                    .success()
                    .then_some(())
                    .ok_or_else(|| String::from_utf8_lossy(&o.stderr).into_owned())
            })
    };
    git(&["init", "-q"])?;
    std::fs::write(repo.join(name), &old).map_err(|e| e.to_string())?;
    git(&["add", "-A"])?;
    git(&["commit", "-q", "-m", "old"])?;
    std::fs::write(repo.join(name), &new).map_err(|e| e.to_string())?;
    let mut h = Harness::start(
        &data_dir(dir),
        Target::Folder(repo.clone()),
        None,
        None,
        Options {
            drafts: Drafts::Captured,
            ..Options::default()
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    // The changes view, then into the file's diff. When the status comes,
    // the app compiles the syntaxes of the changed files on a thread of
    // its own; a user reads the list for longer than it takes.
    h.key("alt-g");
    h.settle().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    h.key("enter");
    let first = h.draw();
    let mut times = Vec::new();
    for _ in 0..400 {
        let started = Instant::now();
        h.key("pagedown");
        h.draw();
        times.push(started.elapsed());
    }
    let _ = std::fs::remove_dir_all(&repo);
    let mut out = summary(times);
    out["scenario"] = json!("diff");
    out["changed_lines"] = json!(5_000);
    out["first_frame_ms"] = json!(ms(first));
    Ok(out)
}

/// Start to first frame: the process is timed from outside.
async fn first_frame(dir: &Path, file: &str) -> Result<Value> {
    let mut h = open(dir, Some(file), Drafts::Captured, false).await?;
    h.draw();
    Ok(json!({"scenario": "first-frame", "peak_rss_mb": peak_rss_mb()}))
}

/// The jobs view on a job streaming output: the runner of this process
/// runs `command` in `dir`, as the TUI's does; a frame is timed from the
/// first answer handled to the end of the draw.
async fn jobs_stream(dir: &Path, command: &str) -> Result<Value> {
    const FRAME: Duration = Duration::from_millis(16);
    let mut h = open(dir, None, Drafts::Captured, true).await?;
    h.run_command(command);
    let started = Instant::now();
    const POLL: Duration = Duration::from_millis(250);
    let mut next_poll = Instant::now();
    let mut frames = Vec::new();
    let mut busy = Duration::ZERO;
    let mut dirty = true;
    let mut last_frame = Instant::now();
    let mut ended_at: Option<Instant> = None;
    loop {
        if dirty && last_frame.elapsed() >= FRAME {
            let drawn = h.draw();
            frames.push(busy + drawn);
            busy = Duration::ZERO;
            dirty = false;
            last_frame = Instant::now();
        }
        match ended_at {
            // A second after the end, the last lines have been read.
            Some(at) if at.elapsed() > Duration::from_secs(1) => break,
            None if h.followed_job_ended() => ended_at = Some(Instant::now()),
            _ if started.elapsed() > Duration::from_secs(900) => {
                return Err("the job did not end within 15 minutes".into());
            }
            _ => {}
        }
        if Instant::now() >= next_poll {
            let t = Instant::now();
            h.poll_jobs();
            busy += t.elapsed();
            next_poll = Instant::now() + POLL;
        }
        let mut wait = next_poll.saturating_duration_since(Instant::now());
        if dirty {
            wait = wait.min((last_frame + FRAME).saturating_duration_since(Instant::now()));
        }
        if h.next_message(wait).await {
            let t = Instant::now();
            h.pump();
            busy += t.elapsed();
            dirty = true;
        }
    }
    let streamed = started.elapsed();
    let peak = peak_rss_mb();
    let (id, status, last_seq, held) = h.followed_job().ok_or("the jobs view shows no job")?;
    h.shutdown().await.map_err(|e| e.to_string())?;
    let mut out = summary(frames);
    out["scenario"] = json!("jobs-stream");
    out["command"] = json!(command);
    out["job"] = json!(id);
    out["status"] = json!(status);
    out["lines"] = json!(last_seq + 1);
    out["lines_held"] = json!(held);
    out["seconds"] = json!(streamed.as_secs_f64());
    out["peak_rss_mb"] = json!(peak);
    Ok(out)
}

/// Review pane frames on a generated diff of `lines` lines, at 140x40
/// (side by side) and 100x30 (unified).
fn review(lines: &str) -> Result<Value> {
    let lines: usize = lines
        .parse()
        .map_err(|_| format!("{lines:?} is not a number of diff lines"))?;
    let wide = kollega::harness::review_frames(lines, 500, 140, 40)?;
    let narrow = kollega::harness::review_frames(lines, 500, 100, 30)?;
    Ok(json!({"scenario": "review", "lines": lines,
              "side_by_side_140x40": summary(wide), "unified_100x30": summary(narrow)}))
}

/// Grep in the workstation: from the keystroke that completes the text to
/// the first answer (a batch of matches, or the end) and to the last match
/// drawn, median of 9 runs.
async fn grep(dir: &Path, pattern: &str) -> Result<Value> {
    let mut h = open(dir, None, Drafts::Captured, false).await?;
    h.settle().await;
    h.key("alt-f");
    let (head, last) = pattern.split_at(pattern.len().saturating_sub(1));
    h.type_text(head);
    let (mut first, mut all) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        if !h.settle().await {
            return Err("the search did not end".into());
        }
        let started = Instant::now();
        h.type_text(last);
        if !h.next_message(Duration::from_secs(30)).await {
            return Err("no answer from the search".into());
        }
        first.push(started.elapsed());
        if !h.settle().await {
            return Err("the search did not end".into());
        }
        h.draw();
        all.push(started.elapsed());
        h.key("backspace");
    }
    let counts = h
        .screen()
        .lines()
        .find(|l| l.contains("files searched") || l.contains("no match"))
        .map(|l| l.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
        .unwrap_or_default();
    first.sort();
    all.sort();
    Ok(
        json!({"scenario": "grep", "pattern": pattern, "counts": counts,
              "first_answer_ms": percentile(&first, 0.5), "all_drawn_ms": percentile(&all, 0.5)}),
    )
}

fn main() -> ExitCode {
    // `cargo bench` adds its own flags (`--bench`); the scenario's
    // arguments are the rest.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [scenario, dir, file] = args.as_slice() else {
        eprintln!(
            "usage: cargo bench --bench ui -- SCENARIO DIR FILE\n\
             scenarios: keystroke, jump-end, open, typing, long-line, long-line-wrap, search, diff, first-frame, jobs-stream, review, grep"
        );
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let dir = Path::new(dir);
    let result = runtime.block_on(async {
        match scenario.as_str() {
            "keystroke" => keystroke(dir, file).await,
            "jump-end" => jump_end(dir, file).await,
            "open" => open_file(dir, file).await,
            "typing" => typing(dir, file).await,
            "long-line" => long_line(dir, file).await,
            "long-line-wrap" => long_line_wrap(dir, file).await,
            "search" => search(dir, file).await,
            "diff" => diff(dir, file).await,
            "first-frame" => first_frame(dir, file).await,
            "jobs-stream" => jobs_stream(dir, file).await,
            "review" => review(file),
            "grep" => grep(dir, file).await,
            other => Err(format!(
                "unknown scenario {other:?} (keystroke, jump-end, open, typing, long-line, long-line-wrap, search, diff, first-frame, jobs-stream, review, grep)"
            )),
        }
    });
    // Nothing may wait for a job's command still on a blocking thread.
    runtime.shutdown_background();
    match result {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
