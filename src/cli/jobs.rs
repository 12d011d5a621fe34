//! Job verbs: `run`, `worker`, `jobs`, `tasks`, `schedule`, `metrics`, and
//! the `--detach` forms of `import`, `export` and `git push|pull`. A
//! foreground run and a worker are `jobs::foreground` and `jobs::worker`;
//! here they are started and what they say is printed.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

use super::args::{
    ExportArgs, GitCommand, ImportArgs, JobsAction, JobsArgs, RunArgs, ScheduleCommand, WorkerArgs,
};
use super::output::{Align, Table, print_json, printable, write_stdout};
use crate::config::Config;
use crate::error::Error;
use crate::git::remote::PushSpec;
use crate::jobs::foreground::{self, Notice};
use crate::jobs::kinds::{Place, resolve_place, shell_words};
use crate::jobs::payload::{CommandPayload, ExportPayload, ImportPayload, JobPayload, PullPayload};
use crate::jobs::queue::{self, Filter, Job, NewJob};
use crate::jobs::runner::Event;
use crate::jobs::{
    JobsError, Status, format_duration, format_ms, now_ms, routine, schedule, tasks, worker,
};
use crate::store::Store;
use crate::workspace::export::ExportTarget;

/// `kollega metrics`.
pub(super) fn metrics(store: &Store) -> Result<ExitCode, Error> {
    let text = crate::metrics::render(&store.conn, now_ms())?;
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// `git push` and `git pull` as jobs.
pub(super) fn git_job(
    config: &Config,
    store: Store,
    command: GitCommand,
) -> Result<ExitCode, Error> {
    let (target, push, detach, json) = match command {
        GitCommand::Push {
            target,
            remote,
            refspecs,
            set_upstream,
            detach,
            json,
        } => {
            let spec = PushSpec {
                remote,
                refspecs,
                set_upstream,
            };
            (target, Some(spec), detach, json)
        }
        GitCommand::Pull {
            target,
            detach,
            json,
        } => (target, None, detach, json),
        // `cli::git` runs them itself.
        GitCommand::Status { .. } | GitCommand::Commit(_) => return Ok(ExitCode::SUCCESS),
    };
    let place = resolve_place(&store, &target)?;
    if let Place::Store { name, .. } = &place {
        return Err(Error::refused(
            format!("{name} keeps its files in the store, not in a git repository"),
            format!("`kollega takeover {name} --git DIR` makes one"),
        ));
    }
    let workspace = Some(place.workspace());
    let new = match push {
        Some(spec) => spec.job(workspace),
        None => PullPayload {}.job(workspace),
    };
    job_cmd(config, store, new, detach.then_some(json), None)
}

/// `import --detach`.
pub(super) fn import_job(
    config: &Config,
    store: Store,
    args: &ImportArgs,
) -> Result<ExitCode, Error> {
    let source = args.source.canonicalize().map_err(|source| {
        crate::workspace::ImportError::SourceUnreadable {
            path: args.source.clone(),
            source,
        }
    })?;
    let payload = ImportPayload {
        source,
        name: args.name.clone(),
        replace: args.replace,
        respect_gitignore: args.respect_gitignore,
    };
    job_cmd(
        config,
        store,
        payload.job(args.name.clone()),
        Some(args.json),
        None,
    )
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
    // The job may run in another process, started elsewhere.
    let absolute = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let target = match super::workspace::export_target(args)? {
        ExportTarget::Zip(zip) => ExportTarget::Zip(absolute(&zip)),
        ExportTarget::Dir(dir) => ExportTarget::Dir(absolute(&dir)),
    };
    let payload = ExportPayload {
        target,
        force: args.force,
    };
    job_cmd(
        config,
        store,
        payload.job(Some(args.workspace.clone())),
        Some(args.json),
        None,
    )
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
    let payload = match &args.task {
        Some(task) => CommandPayload::task(task, task_command(&store, &place, task)?),
        // clap requires a command without --task.
        None => CommandPayload::argv(args.command.clone()),
    };
    let timeout_ms = args.timeout.map(|d| d.as_millis() as i64);
    let mut new = payload.job(Some(place.workspace()));
    if let Some(retries) = args.retries {
        new.max_attempts = retries.saturating_add(1).min(100);
        new.retry_failed = true;
    }
    new.timeout_ms = timeout_ms;
    new.after = args.after.clone();
    job_cmd(
        config,
        store,
        new,
        args.detach.then_some(args.json),
        Some(&payload.argv),
    )
}

/// Queues `new`. Detached (`Some(json)`) it prints the job's id, as JSON
/// when asked; else it runs the job here, copying its output, and exits as
/// it did.
pub(crate) fn job_cmd(
    config: &Config,
    mut store: Store,
    new: NewJob,
    detached: Option<bool>,
    argv: Option<&[String]>,
) -> Result<ExitCode, Error> {
    if let Some(json) = detached {
        let id = queue::enqueue(&mut store.conn, &new, now_ms())?;
        if json {
            print_json(&serde_json::json!({ "id": id }))?;
        } else {
            println!("{id}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let ran = foreground::run(config, store, &new, |notice| match notice {
        Notice::Queued(id) => {
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                let what = argv.map_or_else(|| new.kind.to_string(), shell_words);
                eprintln!("kollega: job {id}: {what}");
            }
        }
        Notice::Cancelling(id) => {
            eprintln!("kollega: cancelling job {id} (Ctrl-C again to leave at once)")
        }
    })?;
    let job = ran.job;
    if job.status == Status::Interrupted {
        eprintln!(
            "kollega: job {} was interrupted; {}",
            job.id,
            queue::interrupted_hint(job.id)
        );
        return Ok(ExitCode::from(130));
    }
    if !ran.ended || !job.status.is_final() {
        eprintln!(
            "kollega: job {} is {}; `kollega jobs log {} --follow` shows it, a worker or the TUI runs it again",
            job.id, job.status, job.id
        );
        return Ok(ExitCode::from(130));
    }
    Ok(exit(&job))
}

/// A job run in the foreground to a successful end.
pub(super) struct Answered {
    pub job_id: i64,
    pub result: Value,
}

impl Answered {
    /// The job's result with its `jobId`, as JSON on stdout.
    pub(super) fn print_json(mut self) -> Result<ExitCode, Error> {
        self.result["jobId"] = json!(self.job_id);
        print_json(&self.result)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Runs job `new` in the foreground (`what` names it on stderr) and waits
/// for its result: `None` when it was interrupted or cancelled (the caller
/// exits 130), the job's failure as an error naming its log.
pub(super) fn answered(
    config: &Config,
    store: Store,
    new: &NewJob,
    what: &str,
) -> Result<Option<Answered>, Error> {
    let ran = foreground::run(config, store, new, |notice| match notice {
        Notice::Queued(id) => eprintln!("kollega: job {id}: {what}"),
        Notice::Cancelling(id) => {
            eprintln!("kollega: cancelling job {id} (Ctrl-C again to leave at once)")
        }
    })?;
    let job = ran.job;
    if !ran.ended || !job.status.is_final() || job.status == Status::Cancelled {
        eprintln!(
            "kollega: job {} is {}; `kollega jobs log {} --follow` shows it",
            job.id, job.status, job.id
        );
        return Ok(None);
    }
    match (job.status, job.result) {
        (Status::Succeeded, Some(result)) => Ok(Some(Answered {
            job_id: job.id,
            result,
        })),
        (status, _) => Err(Error::refused(
            format!(
                "job {} {status}: {}",
                job.id,
                job.error.as_deref().unwrap_or("no reason was recorded")
            ),
            format!(
                "`kollega jobs log {}` shows what was received and each try",
                job.id
            ),
        )),
    }
}

/// The exit code of a foreground run of a job that ended; its error is
/// printed when it says more than the code.
fn exit(job: &Job) -> ExitCode {
    let exit = foreground::exit_of(job);
    if let Some(error) = &exit.error {
        eprintln!(
            "kollega: job {} {}: {}",
            job.id,
            job.status,
            printable(error)
        );
    }
    ExitCode::from(exit.code)
}

/// A worker's report line on stdout; a closed stdout does not stop it.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

pub(super) fn worker(config: &Config, store: Store, args: &WorkerArgs) -> Result<ExitCode, Error> {
    drop(store);
    let listener = match &args.metrics {
        Some(addr) => Some(
            std::net::TcpListener::bind(addr).map_err(|source| Error::Listen {
                addr: *addr,
                source,
            })?,
        ),
        None => None,
    };
    worker::run(config, args.parallel, listener, |notice| match notice {
        worker::Notice::Serving(addr) => say(&format!("metrics on http://{addr}/metrics")),
        worker::Notice::Running { owner, parallel } => say(&format!(
            "worker {owner} running up to {parallel} jobs at once (Ctrl-C to stop)"
        )),
        worker::Notice::Job(event) => {
            let line = match event {
                Event::Started { id, title } => format!("job {id} started: {}", printable(&title)),
                Event::Ended { id, title, status } => {
                    format!("job {id} {status}: {}", printable(&title))
                }
                // A model's answer as it streams: it is in the job's log.
                Event::Output { .. } => return,
                Event::Interrupted(ids) => ids
                    .iter()
                    .map(|id| format!("job {id} interrupted: {}", queue::interrupted_hint(*id)))
                    .collect::<Vec<_>>()
                    .join("\n"),
            };
            say(&format!("{} {line}", format_ms(now_ms())));
        }
        worker::Notice::Stopping => say(
            "stopping: running commands are stopped and wait, interrupted, for `kollega jobs retry ID`; other running jobs are retried",
        ),
    })?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn jobs(config: &Config, store: &mut Store, args: JobsArgs) -> Result<ExitCode, Error> {
    match args.action {
        None => {
            let jobs = queue::list(
                &store.conn,
                &Filter {
                    status: args.status,
                    kind: args.kind,
                    limit: Some(args.limit.max(1)),
                    ..Filter::default()
                },
            )?;
            if args.json {
                print_json(&jobs)?;
            } else {
                print_jobs(&jobs);
                let interrupted = queue::interrupted(&store.conn)?;
                if let Some(line) = queue::interrupted_line(&interrupted, "`kollega jobs retry ID`")
                {
                    println!("{line}");
                }
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
        // The ask job runs in the foreground on a store of its own.
        Some(JobsAction::Fix {
            id,
            provider,
            model,
            json,
        }) => {
            return super::ai::fix(
                config,
                Store::open(&config.data_dir)?,
                id,
                provider,
                model,
                json,
            );
        }
        Some(JobsAction::Retry { id, json }) => {
            queue::retry(&mut store.conn, id, now_ms())?;
            let job = queue::require(&store.conn, id)?;
            if json {
                print_json(&job)?;
            } else if job.attempt > 0 {
                println!(
                    "job {id} queued again for attempt {} of {}; the next runner takes it (the TUI or `kollega worker`)",
                    job.attempt + 1,
                    job.max_attempts
                );
            } else {
                println!("job {id} queued again");
            }
        }
        Some(JobsAction::Clean {
            older_than,
            status,
            json,
        }) => {
            let age = older_than.map_or(0, |d| d.as_millis() as i64);
            let removed = queue::clean(&mut store.conn, now_ms() - age + 1, status)?;
            let mut left = 0;
            for id in &removed {
                let dir = crate::jobs::log::job_dir(&config.data_dir, *id);
                if dir.exists() && std::fs::remove_dir_all(&dir).is_err() {
                    left += 1;
                }
            }
            if json {
                print_json(&serde_json::json!({ "removed": removed }))?;
            } else {
                println!(
                    "removed {} ended job{}",
                    removed.len(),
                    if removed.len() == 1 { "" } else { "s" }
                );
            }
            if left > 0 {
                eprintln!(
                    "warning: {left} log folder(s) under {} could not be removed",
                    config.data_dir.join("jobs").display()
                );
            }
        }
        Some(JobsAction::Cancel { id, json }) => {
            let status = queue::request_cancel(&mut store.conn, id, now_ms())?;
            if json {
                print_json(&queue::require(&store.conn, id)?)?;
            } else if status == Status::Running {
                println!("job {id} is asked to stop; its runner stops it within a few seconds");
            } else {
                println!("job {id} {status}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_jobs(jobs: &[Job]) {
    if jobs.is_empty() {
        println!("no jobs; `kollega run WS -- CMD` starts one");
        return;
    }
    let now = now_ms();
    let columns = [
        ("ID", Align::Right(5)),
        ("STATUS", Align::Left(11)),
        ("KIND", Align::Left(8)),
        ("WORKSPACE", Align::Left(14)),
        ("ATTEMPT", Align::Right(7)),
        ("TIME", Align::Right(8)),
    ];
    Table::new(&columns, "COMMAND").print(jobs.iter().map(|job| {
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
        (
            vec![
                job.id.to_string(),
                status,
                job.kind.to_string(),
                printable(&ws).into_owned(),
                format!("{}/{}", job.attempt, job.max_attempts),
                job.duration_ms(now).map_or("-".into(), format_duration),
            ],
            printable(&job.title()).into_owned(),
        )
    }));
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
    if job.status == Status::Interrupted {
        println!("  hint:      {}", queue::interrupted_hint(job.id));
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
                    return Ok(exit(&job));
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

/// The user's schedules as a table.
fn print_schedules(all: &[crate::store::schedules::Schedule]) {
    if all.is_empty() {
        println!("no schedules; `kollega schedule add WS \"0 3 * * *\" -- CMD` adds one");
        return;
    }
    let columns = [
        ("ID", Align::Right(4)),
        ("CRON", Align::Left(16)),
        ("CATCH", Align::Left(6)),
        ("NEXT RUN", Align::Left(20)),
        ("WORKSPACE", Align::Left(14)),
    ];
    Table::new(&columns, "COMMAND").print(all.iter().map(|s| {
        (
            vec![
                s.id.to_string(),
                printable(&s.cron).into_owned(),
                s.catch_up.to_string(),
                next_run(s.next_run_at),
                printable(&s.workspace).into_owned(),
            ],
            printable(&shell_words(&s.command)).into_owned(),
        )
    }));
}

/// The routines kollega runs by itself as a table.
fn print_routines(all: &[routine::Routine]) {
    println!("routines (a worker or the TUI runs them):");
    let columns = [
        ("KIND", Align::Left(16)),
        ("WHEN", Align::Left(14)),
        ("NEXT", Align::Left(20)),
        ("JOB", Align::Right(5)),
    ];
    Table::new(&columns, "WHAT").print(all.iter().map(|r| {
        (
            vec![
                r.kind.clone(),
                r.when.clone(),
                next_run(r.next_run_at),
                r.job_id.map(|id| id.to_string()).unwrap_or_default(),
            ],
            printable(&r.what).into_owned(),
        )
    }));
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
            json,
        } => {
            let place = resolve_place(store, &workspace)?;
            let policy = match catch_up {
                Some(policy) => policy,
                None => config.jobs.catch_up.parse().map_err(|why| {
                    Error::refused(
                        why,
                        "set [jobs] catch_up in config.toml to once, skip or all",
                    )
                })?,
            };
            let timeout_ms = timeout.map(|d| d.as_millis() as i64);
            let s = schedule::add(
                &store.conn,
                &place.workspace(),
                &cron,
                &command,
                policy,
                timeout_ms,
                now_ms(),
            )?;
            if json {
                print_json(&s)?;
            } else {
                println!(
                    "schedule {} added: {} in {}, next run {}",
                    s.id,
                    printable(&shell_words(&s.command)),
                    printable(&s.workspace),
                    next_run(s.next_run_at)
                );
            }
        }
        ScheduleCommand::Ls { routines, json } => {
            let all = schedule::list(&store.conn)?;
            let own = routine::list(&store.conn, now_ms(), &config.meetings)?;
            if json && routines {
                print_json(&own)?;
            } else if json {
                print_json(&all)?;
            } else {
                if !routines {
                    print_schedules(&all);
                    println!();
                }
                print_routines(&own);
            }
        }
        ScheduleCommand::Rm { id, json } => {
            let s = schedule::remove(&store.conn, id)?;
            if json {
                print_json(&s)?;
            } else {
                println!(
                    "schedule {} removed ({}); its past jobs stay",
                    s.id,
                    printable(&s.cron)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
