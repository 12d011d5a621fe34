//! Job verbs: `run`, `worker`, `jobs`, `tasks`, `schedule`, `metrics`, and
//! the `--detach` forms of `import`, `export` and `git push|pull`.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;

use super::args::{
    ExportArgs, GitCommand, ImportArgs, JobsAction, JobsArgs, RunArgs, ScheduleCommand, WorkerArgs,
};
use super::output::{print_json, printable, write_stdout};
use crate::config::Config;
use crate::error::Error;
use crate::jobs::command::Tee;
use crate::jobs::kinds::{Place, default_attempts, resolve_place, shell_words};
use crate::jobs::queue::{self, Filter, Job, NewJob, Role};
use crate::jobs::runner::{self, Event};
use crate::jobs::{
    JobsError, Status, format_duration, format_ms, metrics, now_ms, schedule, tasks,
};
use crate::store::Store;

/// `kollega metrics`.
pub(super) fn metrics(store: &Store) -> Result<ExitCode, Error> {
    let text = metrics::render(&store.conn, now_ms())?;
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// `git push` and `git pull` as jobs.
pub(super) fn git_job(
    config: &Config,
    store: Store,
    command: GitCommand,
) -> Result<ExitCode, Error> {
    let (target, kind, payload, detach) = match command {
        GitCommand::Push {
            target,
            remote,
            refspecs,
            set_upstream,
            detach,
        } => (
            target,
            "git-push",
            json!({ "remote": remote, "refspecs": refspecs, "set_upstream": set_upstream }),
            detach,
        ),
        GitCommand::Pull { target, detach } => (target, "git-pull", json!({}), detach),
        GitCommand::Status { .. } | GitCommand::Commit(_) => {
            return Err(JobsError::BadInput("not a git job".into()).into());
        }
    };
    let place = resolve_place(&store, &target)?;
    if let Place::Store { name, .. } = &place {
        return Err(JobsError::BadInput(format!(
            "{name} keeps its files in the store, not in a repository; `kollega takeover {name} --git DIR` makes one"
        ))
        .into());
    }
    let new = NewJob {
        kind: kind.into(),
        workspace: Some(place.workspace()),
        payload,
        max_attempts: default_attempts(kind),
        ..NewJob::default()
    };
    job_cmd(config, store, new, detach, None)
}

/// `import --detach`.
pub(super) fn import_job(
    config: &Config,
    store: Store,
    args: &ImportArgs,
) -> Result<ExitCode, Error> {
    let source = args
        .source
        .canonicalize()
        .map_err(|e| JobsError::BadInput(format!("cannot read {}: {e}", args.source.display())))?;
    let new = NewJob {
        kind: "import".into(),
        workspace: args.name.clone(),
        max_attempts: default_attempts("import"),
        payload: json!({
            "source": source,
            "name": args.name,
            "replace": args.replace,
            "respect_gitignore": args.respect_gitignore,
        }),
        ..NewJob::default()
    };
    job_cmd(config, store, new, true, None)
}

/// `export --detach`.
pub(super) fn export_job(
    config: &Config,
    store: Store,
    args: &ExportArgs,
) -> Result<ExitCode, Error> {
    if crate::store::workspaces::find(&store.conn, &args.workspace)?.is_none() {
        return Err(JobsError::UnknownWorkspace(args.workspace.clone()).into());
    }
    let absolute = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let new = NewJob {
        kind: "export".into(),
        workspace: Some(args.workspace.clone()),
        max_attempts: default_attempts("export"),
        payload: json!({
            "zip": args.zip.as_deref().map(absolute),
            "dir": args.dir.as_deref().map(absolute),
            "force": args.force,
        }),
        ..NewJob::default()
    };
    job_cmd(config, store, new, true, None)
}

/// A schedule's next run; a cron that never fires again is parked at the
/// end of time.
fn next_run(at: i64) -> String {
    if at == i64::MAX {
        "never".to_string()
    } else {
        format_ms(at)
    }
}

/// "90", "90s", "10m", "2h", "1500ms" as a duration.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, JobsError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| bad_duration(text))?;
    let secs = match unit.trim() {
        "" | "s" | "sec" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        _ => return Err(bad_duration(text)),
    };
    if !(secs.is_finite() && secs > 0.0 && secs <= 365.0 * 86_400.0) {
        return Err(bad_duration(text));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn bad_duration(text: &str) -> JobsError {
    JobsError::BadInput(format!(
        "bad duration {text:?}: give a number with ms, s, m, h or d, like 90s, 10m, 2h or 7d (at most 365 days)"
    ))
}

fn task_command(store: &Store, place: &Place, name: &str) -> Result<String, JobsError> {
    let found = tasks::for_place(store, place);
    found
        .tasks
        .iter()
        .find(|t| t.name == name)
        .map(|t| t.command.clone())
        .ok_or_else(|| {
            let names: Vec<&str> = found.tasks.iter().map(|t| t.name.as_str()).collect();
            JobsError::BadInput(if names.is_empty() {
                format!(
                    "no task {name:?}: {} has no tasks that kollega can find",
                    place.workspace()
                )
            } else {
                format!(
                    "no task {name:?} in {}; it has {}",
                    place.workspace(),
                    names.join(", ")
                )
            })
        })
}

pub(super) fn run(config: &Config, store: Store, args: &RunArgs) -> Result<ExitCode, Error> {
    let place = resolve_place(&store, &args.workspace)?;
    let argv = match &args.task {
        Some(task) => vec![task_command(&store, &place, task)?],
        None if args.command.is_empty() => {
            return Err(JobsError::BadInput(
                "no command: give one after `--` (kollega run WS -- npm test) or --task NAME"
                    .into(),
            )
            .into());
        }
        None => args.command.clone(),
    };
    let timeout_ms = args
        .timeout
        .as_deref()
        .map(parse_duration)
        .transpose()?
        .map(|d| d.as_millis() as i64);
    let new = NewJob {
        kind: "command".into(),
        workspace: Some(place.workspace()),
        payload: match &args.task {
            Some(task) => json!({ "argv": argv, "task": task }),
            None => json!({ "argv": argv }),
        },
        max_attempts: args.retries.map_or(default_attempts("command"), |r| {
            r.saturating_add(1).min(100)
        }),
        retry_failed: args.retries.is_some(),
        timeout_ms,
        after: args.after.clone(),
        schedule_id: None,
        run_at: None,
    };
    job_cmd(config, store, new, args.detach, Some(&argv))
}

/// Queues `new`; with `detach` prints its id, else runs it here, copying
/// its output, and exits as it did.
pub(crate) fn job_cmd(
    config: &Config,
    mut store: Store,
    new: NewJob,
    detach: bool,
    argv: Option<&[String]>,
) -> Result<ExitCode, Error> {
    if detach {
        let id = queue::enqueue(&mut store.conn, &new, now_ms())?;
        println!("{id}");
        return Ok(ExitCode::SUCCESS);
    }
    // A reader that goes away (`| head`) stops the copy to stdout, not the
    // job: its whole log is still kept.
    // SAFETY: only changes this process's disposition of SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let config = Arc::new(config.clone());
    let mut options = runner::Options::new(config.data_dir.clone(), config.clone(), Role::Cli);
    let lease = options.lease.as_millis() as i64;
    let job = queue::enqueue_claimed(&mut store.conn, &new, &options.owner, now_ms(), lease)?;
    let id = job.id;
    drop(store);
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let what = argv.map_or_else(|| new.kind.clone(), shell_words);
        eprintln!("kollega: job {id}: {what}");
    }
    options.only = Some(id);
    options.claimed = Some(job);
    options.tee = Tee::Stdio;
    options.parallel = 1;
    options.poll = Duration::from_millis(100);
    let data_dir = config.data_dir.clone();
    let signal_dir = data_dir.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(JobsError::system("start the async runtime"))?;
    let follow_stop = Arc::new(AtomicBool::new(false));
    let follower = follow_elsewhere(&data_dir, id, options.owner.clone(), follow_stop.clone());
    let ended = runtime.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = JobsError::system("listen for signals");
        let mut interrupt = signal(SignalKind::interrupt()).map_err(listen)?;
        let mut hangup = signal(SignalKind::hangup()).map_err(listen)?;
        let mut term = signal(SignalKind::terminate()).map_err(listen)?;
        let handle = runner::spawn(options)?;
        let remote = handle.remote();
        let mut wait = std::pin::pin!(handle.wait());
        let mut interrupts = 0;
        loop {
            tokio::select! {
                r = &mut wait => return r.map(|()| true),
                _ = interrupt.recv() => {
                    interrupts += 1;
                    if interrupts > 1 {
                        // A second Ctrl-C: leave now; the command dies with
                        // this process and the job is taken back later.
                        return Ok(false);
                    }
                    eprintln!("kollega: cancelling job {id} (Ctrl-C again to leave at once)");
                    remote.cancel(id);
                    // Through the store too, for an attempt another runner holds.
                    let data_dir = signal_dir.clone();
                    tokio::task::spawn_blocking(move || {
                        let mut s = Store::open(&data_dir)?;
                        match queue::request_cancel(&mut s.conn, id, now_ms()) {
                            // Already ended by the cancel above.
                            Ok(_) | Err(JobsError::WrongStatus { .. }) => Ok(()),
                            Err(e) => Err(e),
                        }
                    })
                    .await
                    .map_err(|e| JobsError::System { what: "cancel the job", source: std::io::Error::other(e) })??;
                }
                // The terminal or the session ends: the job is stopped here
                // and retried by a worker or the TUI.
                _ = hangup.recv() => remote.shutdown(),
                _ = term.recv() => remote.shutdown(),
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
    if !ended || !job.status.is_final() {
        eprintln!(
            "kollega: job {id} is {}; `kollega jobs log {id} --follow` shows it, a worker or the TUI runs it again",
            job.status
        );
        return Ok(ExitCode::from(130));
    }
    Ok(exit_for(&job))
}

/// Copies the stored output of attempts that another runner holds (a
/// worker took a retry of a foreground job), so `kollega run` shows every
/// attempt. The attempts this process runs are copied by the runner itself.
fn follow_elsewhere(
    data_dir: &std::path::Path,
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

/// The exit code of `kollega run`: the command's, 130 when cancelled.
fn exit_for(job: &Job) -> ExitCode {
    match job.status {
        Status::Succeeded => ExitCode::SUCCESS,
        Status::Cancelled => ExitCode::from(130),
        _ => {
            // A plain non-zero exit was the command's own answer.
            if let Some(error) = job
                .error
                .as_ref()
                .filter(|e| !e.starts_with("exited with code"))
            {
                eprintln!(
                    "kollega: job {} {}: {}",
                    job.id,
                    job.status,
                    printable(error)
                );
            }
            let code = match job.exit_code {
                Some(c) if (1..=255).contains(&c) => c as u8,
                _ if job
                    .error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("command not found")) =>
                {
                    127
                }
                _ => 1,
            };
            ExitCode::from(code)
        }
    }
}

/// A worker's report line on stdout; a closed stdout does not stop it.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

pub(super) fn worker(config: &Config, store: Store, args: &WorkerArgs) -> Result<ExitCode, Error> {
    drop(store);
    // A worker outlives whoever reads its output (a closed pipe, a gone
    // terminal); its jobs must not die with it.
    // SAFETY: only changes this process's disposition of SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let config = Arc::new(config.clone());
    let mut options = runner::Options::new(config.data_dir.clone(), config.clone(), Role::Worker);
    if let Some(n) = args.parallel {
        options.parallel = n.clamp(1, 256);
    }
    let listener = match &args.metrics {
        Some(addr) => Some(std::net::TcpListener::bind(addr).map_err(|e| {
            JobsError::BadInput(format!(
                "cannot serve metrics on {addr}: {e}; give a free address like 127.0.0.1:9464"
            ))
        })?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(JobsError::system("start the async runtime"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let server_stop = stop.clone();
    let data_dir = config.data_dir.clone();
    let server = runtime.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        // Signals first: a stop that comes right after the start is a
        // stop, not the default action.
        let listen = JobsError::system("listen for signals");
        let mut interrupt = signal(SignalKind::interrupt()).map_err(listen)?;
        let mut term = signal(SignalKind::terminate()).map_err(listen)?;
        let mut hangup = signal(SignalKind::hangup()).map_err(listen)?;
        let mut server = None;
        if let Some(listener) = listener {
            let shown = listener
                .local_addr()
                .map_or_else(|_| "?".to_string(), |a| a.to_string());
            server = Some(std::thread::spawn(move || {
                if let Err(e) = metrics::serve(listener, data_dir, server_stop) {
                    tracing::error!(error = %e, "the metrics server stopped");
                }
            }));
            say(&format!("metrics on http://{shown}/metrics"));
        }
        let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        options.events = Some(events_tx);
        say(&format!(
            "worker {} running up to {} jobs at once (Ctrl-C to stop)",
            options.owner, options.parallel
        ));
        let handle = runner::spawn(options)?;
        loop {
            tokio::select! {
                Some(event) = events.recv() => {
                    let line = match event {
                        Event::Started { id, title } => format!("job {id} started: {}", printable(&title)),
                        Event::Ended { id, title, status } => format!("job {id} {status}: {}", printable(&title)),
                    };
                    say(&format!("{} {line}", format_ms(now_ms())));
                }
                _ = interrupt.recv() => break,
                _ = term.recv() => break,
                // A worker outlives the terminal it was started from.
                _ = hangup.recv() => {}
            }
        }
        say("stopping: running jobs are stopped and will be retried");
        handle.shutdown().await?;
        Ok::<_, JobsError>(server)
    })?;
    stop.store(true, Ordering::SeqCst);
    if let Some(server) = server {
        let _ = server.join();
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn jobs(config: &Config, store: &mut Store, args: JobsArgs) -> Result<ExitCode, Error> {
    match args.action {
        None => {
            let status = parse_status(args.status.as_deref())?;
            let jobs = queue::list(
                &store.conn,
                &Filter {
                    status,
                    kind: args.kind.clone(),
                    limit: Some(args.limit.max(1)),
                    ..Filter::default()
                },
            )?;
            if args.json {
                print_json(&jobs)?;
            } else {
                print_jobs(&jobs);
            }
        }
        Some(JobsAction::Show { id, json }) => {
            let job = queue::require(&store.conn, id)?;
            if json {
                print_json(&job)?;
            } else {
                print_job(&job);
            }
        }
        Some(JobsAction::Log { id, follow }) => return log_cmd(config, store, id, follow),
        Some(JobsAction::Retry { id }) => {
            queue::retry(&mut store.conn, id, now_ms())?;
            println!("job {id} queued again");
        }
        Some(JobsAction::Clean { older_than, status }) => {
            let status = parse_status(status.as_deref())?;
            let age = older_than
                .as_deref()
                .map(parse_duration)
                .transpose()?
                .map_or(0, |d| d.as_millis() as i64);
            let removed = queue::clean(&mut store.conn, now_ms() - age + 1, status)?;
            let mut left = 0;
            for id in &removed {
                let dir = crate::jobs::log::job_dir(&config.data_dir, *id);
                if dir.exists() && std::fs::remove_dir_all(&dir).is_err() {
                    left += 1;
                }
            }
            println!(
                "removed {} ended job{}",
                removed.len(),
                if removed.len() == 1 { "" } else { "s" }
            );
            if left > 0 {
                eprintln!(
                    "warning: {left} log folder(s) under {} could not be removed",
                    config.data_dir.join("jobs").display()
                );
            }
        }
        Some(JobsAction::Cancel { id }) => {
            match queue::request_cancel(&mut store.conn, id, now_ms())? {
                Status::Running => {
                    println!("job {id} is asked to stop; its runner stops it within a few seconds")
                }
                status => println!("job {id} {status}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--status NAME`, with the names listed when it is not one.
fn parse_status(name: Option<&str>) -> Result<Option<Status>, JobsError> {
    name.map(|s| s.parse::<Status>().map_err(JobsError::BadInput))
        .transpose()
}

fn print_jobs(jobs: &[Job]) {
    if jobs.is_empty() {
        println!("no jobs; `kollega run WS -- CMD` starts one");
        return;
    }
    let now = now_ms();
    println!(
        "{:>5}  {:<9}  {:<8}  {:<14}  {:>7}  {:>8}  COMMAND",
        "ID", "STATUS", "KIND", "WORKSPACE", "ATTEMPT", "TIME"
    );
    for job in jobs {
        let ws = job.workspace.as_deref().unwrap_or("-");
        let ws = if ws.chars().count() > 14 {
            format!(
                "…{}",
                ws.chars()
                    .rev()
                    .take(13)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<String>()
            )
        } else {
            ws.to_string()
        };
        let status = match job.status {
            Status::Running if job.progress > 0 => format!("{} {}%", job.status, job.progress),
            s => s.to_string(),
        };
        println!(
            "{:>5}  {:<9}  {:<8}  {:<14}  {:>7}  {:>8}  {}",
            job.id,
            status,
            job.kind,
            printable(&ws),
            format!("{}/{}", job.attempt, job.max_attempts),
            job.duration_ms(now).map_or("-".into(), format_duration),
            printable(&job.title())
        );
    }
}

fn print_job(job: &Job) {
    let now = now_ms();
    println!("job {}  {}  ({})", job.id, job.status, job.kind);
    println!("  command:   {}", printable(&job.title()));
    if let Some(ws) = &job.workspace {
        println!("  workspace: {}", printable(ws));
    }
    if let Some(cwd) = &job.cwd {
        println!("  directory: {}", printable(cwd));
    }
    if let Some(env) = job.env.as_ref().and_then(|e| e.as_object()) {
        for (k, v) in env {
            println!(
                "  env:       {k}={}",
                printable(v.as_str().unwrap_or_default())
            );
        }
    }
    println!("  attempt:   {} of {}", job.attempt, job.max_attempts);
    println!("  created:   {}", format_ms(job.created_at));
    if let Some(t) = job.started_at {
        println!("  started:   {}", format_ms(t));
    }
    if let Some(t) = job.finished_at {
        println!("  finished:  {}", format_ms(t));
    }
    if let Some(d) = job.duration_ms(now) {
        println!("  duration:  {}", format_duration(d));
    }
    if matches!(job.status, Status::Queued | Status::Retrying) && job.next_run_at > now {
        println!(
            "  next run:  {} (in {})",
            format_ms(job.next_run_at),
            format_duration(job.next_run_at - now)
        );
    }
    if let Some(t) = job.timeout_ms {
        println!("  timeout:   {}", format_duration(t));
    }
    if !job.after.is_empty() {
        let ids: Vec<String> = job.after.iter().map(|i| i.to_string()).collect();
        println!("  after:     {}", ids.join(", "));
    }
    if let Some(code) = job.exit_code {
        println!("  exit code: {code}");
    }
    if let Some(e) = &job.error {
        println!("  error:     {}", printable(e));
    }
    if let Some(owner) = &job.lease_owner {
        println!("  runner:    {owner}");
    }
}

fn log_cmd(config: &Config, store: &mut Store, id: i64, follow: bool) -> Result<ExitCode, Error> {
    queue::require(&store.conn, id)?;
    let mut out = std::io::stdout().lock();
    if follow {
        // The stored tail, then new lines as they come, until the job ends.
        let mut after = -1;
        loop {
            let lines = queue::logs_after(&store.conn, id, after, 10_000)?;
            for line in &lines {
                out.write_all(line.line.as_bytes()).map_err(Error::stdout)?;
                out.write_all(b"\n").map_err(Error::stdout)?;
                after = line.seq;
            }
            out.flush().map_err(Error::stdout)?;
            if lines.is_empty() {
                let job = queue::require(&store.conn, id)?;
                if job.status.is_final() {
                    return Ok(exit_for(&job));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    let attempts = crate::jobs::log::attempts(&config.data_dir, id);
    if attempts.is_empty() {
        for line in queue::logs_after(&store.conn, id, -1, usize::MAX >> 1)? {
            writeln!(out, "{}", line.line).map_err(Error::stdout)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let several = attempts.len() > 1;
    for attempt in attempts {
        if several {
            writeln!(out, "[kollega] attempt {attempt}").map_err(Error::stdout)?;
        }
        let path = crate::jobs::log::attempt_path(&config.data_dir, id, attempt);
        crate::jobs::log::read_attempt(&path, &mut out).map_err(|source| JobsError::Log {
            id,
            path: path.clone(),
            source,
        })?;
    }
    out.flush().map_err(Error::stdout)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn tasks(store: &Store, workspace: &str, json: bool) -> Result<ExitCode, Error> {
    let place = resolve_place(store, workspace)?;
    let found = tasks::for_place(store, &place);
    if json {
        let tasks: Vec<_> = found
            .tasks
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "source": t.source.to_string(),
                    "command": t.command,
                    "description": t.description,
                })
            })
            .collect();
        print_json(&json!({ "tasks": tasks, "problems": found.problems }))?;
    } else {
        if found.tasks.is_empty() {
            println!("no tasks found in package.json, Cargo.toml, Makefile or .kollega.toml");
        }
        for t in &found.tasks {
            println!(
                "{:<20}  {:<14}  {}",
                printable(&t.name),
                t.source.to_string(),
                printable(&t.command)
            );
        }
        for p in &found.problems {
            eprintln!("warning: {}", printable(p));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn schedule(
    config: &Config,
    store: &mut Store,
    command: ScheduleCommand,
) -> Result<ExitCode, Error> {
    match command {
        ScheduleCommand::Add {
            workspace,
            cron,
            catch_up,
            timeout,
            command,
        } => {
            let place = resolve_place(store, &workspace)?;
            let policy: schedule::CatchUp = catch_up
                .as_deref()
                .unwrap_or(&config.jobs.catch_up)
                .parse()
                .map_err(JobsError::BadInput)?;
            let timeout_ms = timeout
                .as_deref()
                .map(parse_duration)
                .transpose()?
                .map(|d| d.as_millis() as i64);
            let s = schedule::add(
                &store.conn,
                &place.workspace(),
                &cron,
                &command,
                policy,
                timeout_ms,
                now_ms(),
            )?;
            println!(
                "schedule {} added: {} in {}, next run {}",
                s.id,
                printable(&shell_words(&s.command)),
                printable(&s.workspace),
                next_run(s.next_run_at)
            );
        }
        ScheduleCommand::Ls { json } => {
            let all = schedule::list(&store.conn)?;
            if json {
                print_json(&all)?;
            } else if all.is_empty() {
                println!("no schedules; `kollega schedule add WS \"0 3 * * *\" -- CMD` adds one");
            } else {
                println!(
                    "{:>4}  {:<16}  {:<6}  {:<20}  {:<14}  COMMAND",
                    "ID", "CRON", "CATCH", "NEXT RUN", "WORKSPACE"
                );
                for s in all {
                    println!(
                        "{:>4}  {:<16}  {:<6}  {:<20}  {:<14}  {}",
                        s.id,
                        printable(&s.cron),
                        s.catch_up.to_string(),
                        next_run(s.next_run_at),
                        printable(&s.workspace),
                        printable(&shell_words(&s.command))
                    );
                }
            }
        }
        ScheduleCommand::Rm { id } => {
            let s = schedule::remove(&store.conn, id)?;
            println!(
                "schedule {} removed ({}); its past jobs stay",
                s.id,
                printable(&s.cron)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(
            parse_duration("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86_400)
        );
        for bad in ["", "abc", "10x", "-5s", "0", "99999h", "400d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
