//! kollega: a terminal workstation for taking over and shaping AI-generated
//! code. This file parses the command line, sets up telemetry and dispatches.

#![deny(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // wired by the editor pane
mod autosave;
mod cli;
mod config;
mod doctor;
mod editor;
mod git;
#[allow(dead_code)] // wired by the CLI and the TUI as they land
mod jobs;
mod jobs_cli;
#[allow(dead_code)] // the diff view and the AI review use more of it
mod patch;
mod store;
mod telemetry;
mod tui;
mod workspace;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use cli::{Cli, Command, ExportArgs, ImportArgs, TakeoverArgs};
use config::Config;
use doctor::human_bytes;
use store::Store;
use workspace::export::{ExportTarget, export};
use workspace::import::{ImportOptions, ImportProgress, import};
use workspace::{Report, demo};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            if let Some(hint) = hint_for(&err) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(1)
        }
    }
}

/// The advice that goes with an error, from the module that raised it.
fn hint_for(err: &anyhow::Error) -> Option<String> {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<workspace::ImportError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<workspace::WorkspaceError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<workspace::export::ExportError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<store::StoreError>() {
            return Some(e.hint().into());
        }
        if let Some(e) = cause.downcast_ref::<git::takeover::TakeoverError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<git::GitError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<jobs::JobsError>() {
            return Some(e.hint());
        }
        if let Some(e) = cause.downcast_ref::<config::ConfigError>() {
            return Some(e.hint().into());
        }
        if let Some(e) = cause.downcast_ref::<git::GitError>() {
            return Some(e.hint());
        }
    }
    None
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(cli.data_dir.clone())?;
    let _telemetry = telemetry::init(&config.data_dir, cli.verbose);
    let Some(command) = cli.command else {
        return open_tui(&config);
    };
    if let Command::Doctor { json } = command {
        return doctor(&config, json);
    }
    if let Command::BenchUi {
        scenario,
        dir,
        file,
    } = &command
    {
        tui::bench::run(&config, scenario, dir, file)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Open { target, location } = command {
        return open_cmd(&config, &target, location.as_deref());
    }
    // Like other Unix tools, end quietly when a reader such as `head`
    // closes the pipe; the terminal UI never gets here.
    // SAFETY: signal() with SIG_DFL only changes this process's disposition
    // of SIGPIPE; no other thread writes to a pipe.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let mut store = Store::open(&config.data_dir)?;
    if let Command::Git(command) = command {
        return match command {
            cli::GitCommand::Push { .. } | cli::GitCommand::Pull { .. } => {
                jobs_cli::git_job(&config, store, command)
            }
            command => git_cmd(&store, command),
        };
    }
    match &command {
        Command::Import(args) if args.detach => return jobs_cli::import_job(&config, store, args),
        Command::Export(args) if args.detach => return jobs_cli::export_job(&config, store, args),
        _ => {}
    }
    match command {
        Command::Takeover(args) => return takeover_cmd(&mut store, &config, &args),
        Command::Import(args) => import_cmd(&mut store, &config, &args)?,
        Command::Export(args) => export_cmd(&store, &args)?,
        Command::Ls { json } => ls(&store, json)?,
        Command::Show { workspace, json } => {
            let report = workspace::show(&store, &workspace)?;
            if json {
                print_json(&report)?;
            } else {
                print_report(&report);
            }
        }
        Command::Cat { workspace, path } => {
            let content = workspace::cat(&store, &workspace, &path)?;
            let mut out = std::io::stdout().lock();
            out.write_all(content.as_bytes())
                .and_then(|()| out.flush())
                .context("cannot write to stdout")?;
        }
        Command::Rm { workspace, yes } => {
            workspace::remove(&mut store, &workspace, yes)?;
            println!("removed workspace {workspace}");
        }
        Command::Run(_)
        | Command::Worker(_)
        | Command::Jobs(_)
        | Command::Tasks { .. }
        | Command::Schedule(_)
        | Command::Metrics => return jobs_cli::dispatch(&config, store, command),
        Command::Doctor { .. }
        | Command::Open { .. }
        | Command::BenchUi { .. }
        | Command::Git(_) => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// `path:line` into its parts; a path may itself contain ':'.
fn split_location(location: &str) -> (String, Option<usize>) {
    match location.rsplit_once(':') {
        Some((path, line)) if !path.is_empty() && line.parse::<usize>().is_ok() => {
            (path.to_string(), line.parse().ok())
        }
        _ => (location.to_string(), None),
    }
}

fn open_cmd(config: &Config, target: &str, location: Option<&str>) -> anyhow::Result<ExitCode> {
    require_terminal()?;
    let store = Store::open(&config.data_dir)?;
    let open = match store::workspaces::find(&store.conn, target)? {
        // A git workspace lives in its repository.
        Some(ws) if ws.repo_path.is_some() => {
            let repo = ws.repo_path.unwrap_or_default();
            let disk = workspace::disk::DiskWorkspace::open(std::path::Path::new(&repo))
                .with_context(|| {
                    format!("cannot open the repository {repo} of workspace {target}")
                })?;
            tui::OpenTarget::Dir(disk)
        }
        Some(ws) => tui::OpenTarget::Workspace(ws),
        None if std::path::Path::new(target).is_dir() => {
            let disk = workspace::disk::DiskWorkspace::open(std::path::Path::new(target))
                .with_context(|| format!("cannot open folder {target}"))?;
            tui::OpenTarget::Dir(disk)
        }
        None => anyhow::bail!(
            "no workspace or folder named {target:?}\nhint: `kollega ls` lists workspaces; pass a folder path to edit files on disk"
        ),
    };
    let (path, line) = match location.map(split_location) {
        Some((path, line)) => (Some(path), line),
        None => (None, None),
    };
    tui::run(
        store,
        config,
        tui::Start {
            target: Some(open),
            path,
            line,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn require_terminal() -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the terminal UI needs a terminal on stdin and stdout\nhint: run kollega in a terminal, or use a subcommand (`kollega --help`)"
        );
    }
    Ok(())
}

fn open_tui(config: &Config) -> anyhow::Result<ExitCode> {
    require_terminal()?;
    let mut store = Store::open(&config.data_dir)?;
    if let Err(e) = demo::offer_once(&mut store, config) {
        tracing::warn!(error = %e, "the bundled demo could not be imported");
    }
    tui::run(
        store,
        config,
        tui::Start {
            target: None,
            path: None,
            line: None,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// A progress spinner on stderr when it is a terminal; silent otherwise.
struct Spinner(indicatif::ProgressBar);

impl ImportProgress for Spinner {
    fn entry(&mut self, path: &str) {
        self.0.inc(1);
        if self.0.position().is_multiple_of(64) {
            self.0.set_message(path.to_string());
        }
    }
}

fn import_cmd(store: &mut Store, config: &Config, args: &ImportArgs) -> anyhow::Result<()> {
    let options = ImportOptions {
        name: args.name.clone(),
        replace: args.replace,
        respect_gitignore: args.respect_gitignore,
    };
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {pos} files  {wide_msg}")
    {
        bar.set_style(style);
    }
    let mut spinner = Spinner(bar);
    let result = import(store, config, &args.source, &options, &mut spinner);
    spinner.0.finish_and_clear();
    let report = result?;
    if args.json {
        print_json(&report)?;
    } else {
        match report.status {
            Some("already-imported") => {
                println!("already imported: {} is unchanged", report.workspace)
            }
            Some("resumed") => println!(
                "imported {} (resumed an interrupted import)",
                report.workspace
            ),
            _ => println!("imported {}", report.workspace),
        }
        print_report(&report);
    }
    Ok(())
}

fn export_cmd(store: &Store, args: &ExportArgs) -> anyhow::Result<()> {
    let target = match (&args.zip, &args.dir) {
        (Some(zip), _) => ExportTarget::Zip(zip.clone()),
        (None, Some(dir)) => ExportTarget::Dir(dir.clone()),
        (None, None) => anyhow::bail!("pass --zip FILE or --dir DIR"),
    };
    let summary = export(store, &args.workspace, &target, args.force)?;
    if args.json {
        print_json(&summary)?;
    } else {
        println!(
            "exported {}: {} files, {} to {}",
            summary.workspace,
            summary.files_count,
            human_bytes(summary.bytes),
            printable(&summary.target)
        );
    }
    Ok(())
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct LsRow {
    workspace: String,
    storage_type: store::workspaces::StorageType,
    files_count: u64,
    bytes: u64,
    taken_over_at: String,
    source: String,
    skipped_count: u64,
    ignored: u64,
}

fn ls(store: &Store, json: bool) -> anyhow::Result<()> {
    let workspaces = store::workspaces::list(&store.conn)?;
    let mut rows = Vec::with_capacity(workspaces.len());
    for ws in workspaces {
        rows.push(LsRow {
            skipped_count: store::workspaces::skipped_count(&store.conn, ws.id)?,
            workspace: ws.name,
            storage_type: ws.storage_type,
            files_count: ws.files_count,
            bytes: ws.bytes,
            taken_over_at: ws.taken_over_at,
            source: ws.source,
            ignored: ws.ignored,
        });
    }
    if json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        println!("no workspaces yet; take one over with `kollega import <dir|file.zip>`");
        return Ok(());
    }
    let width = rows
        .iter()
        .map(|r| r.workspace.len())
        .max()
        .unwrap_or(9)
        .max(9);
    println!(
        "{:<width$}  {:<7}  {:>6}  {:>10}  {:<20}  SOURCE",
        "WORKSPACE", "STORAGE", "FILES", "SIZE", "TAKEN OVER"
    );
    for r in rows {
        println!(
            "{:<width$}  {:<7}  {:>6}  {:>10}  {:<20}  {}",
            r.workspace,
            r.storage_type.as_str(),
            r.files_count,
            human_bytes(r.bytes),
            r.taken_over_at,
            printable(&r.source)
        );
    }
    Ok(())
}

/// `text` with control characters escaped, so a file name cannot move the
/// cursor, retitle the terminal or forge a line of a report.
fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

fn print_report(report: &Report) {
    println!("  workspace   {}", report.workspace);
    println!("  storage     {}", report.storage_type.as_str());
    println!("  source      {}", printable(&report.source));
    if let Some(repo) = &report.repo_path {
        println!("  repository  {}", printable(repo));
    }
    println!("  taken over  {}", report.taken_over_at);
    println!("  files       {}", report.files_count);
    println!(
        "  bytes       {} ({})",
        report.bytes,
        human_bytes(report.bytes)
    );
    println!("  ignored     {}", report.ignored);
    println!("  skipped     {}", report.skipped.len());
    for entry in &report.skipped {
        match entry.size {
            Some(size) => println!(
                "    {:<12} {} ({})",
                entry.reason,
                printable(&entry.path),
                human_bytes(size)
            ),
            None => println!("    {:<12} {}", entry.reason, printable(&entry.path)),
        }
    }
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot encode JSON")?;
    println!("{text}");
    Ok(())
}

fn doctor(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let report = doctor::run(config);
    if json {
        print_json(&report)?;
    } else {
        for check in &report.checks {
            let mark = match check.status {
                doctor::Status::Ok => "ok  ",
                doctor::Status::Warn => "warn",
                doctor::Status::Fail => "FAIL",
            };
            println!("{mark}  {:<14} {}", check.name, check.detail);
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `kollega git …`: a folder for now; naming a git workspace comes with
/// the workspaces' repository path.
fn takeover_cmd(
    store: &mut Store,
    config: &Config,
    args: &TakeoverArgs,
) -> anyhow::Result<ExitCode> {
    let request = git::takeover::TakeoverRequest {
        source: args.source.clone(),
        repo: args.git.clone(),
        name: args.name.clone(),
        respect_gitignore: args.respect_gitignore,
        remote: args.remote.clone(),
        push: args.push,
        github: args.github.clone(),
    };
    let mut report = git::takeover::takeover(store, config, &request)?;
    // A failed push or GitHub call keeps the local result: report it, then
    // fail with the reason.
    let remote_failure = report.remote_failure.take();
    if args.json {
        print_json(&report)?;
    } else {
        let verb = match report.status {
            "already-taken-over" => "already taken over",
            "resumed" => "took over (finished an interrupted takeover)",
            _ => "took over",
        };
        println!(
            "{verb} {} into {}",
            report.workspace,
            printable(&report.repo_path)
        );
        println!("  branch      {}", report.branch);
        println!("  tag         {}", report.tag);
        println!("  commit      {}", report.commit);
        println!(
            "  files       {} ({})",
            report.files_count,
            human_bytes(report.bytes)
        );
        println!("  skipped     {}", report.skipped.len());
        for entry in &report.skipped {
            println!("    {:<12} {}", entry.reason, printable(&entry.path));
        }
        if let Some(remote) = &report.remote {
            println!(
                "  remote      {}{}",
                printable(remote),
                if report.pushed { " (pushed)" } else { "" }
            );
        }
    }
    match remote_failure {
        Some(e) => Err(e.into()),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn git_cmd(store: &Store, command: cli::GitCommand) -> anyhow::Result<ExitCode> {
    use git::commit::{CommitRequest, commit};
    use git::repo::Repo;
    use git::status::{StatusOptions, read};

    // A git workspace by name, else a folder.
    let folder = |target: &str| -> anyhow::Result<std::path::PathBuf> {
        if let Some(repo) =
            store::workspaces::find(&store.conn, target)?.and_then(|ws| ws.repo_path)
        {
            return Ok(std::path::PathBuf::from(repo));
        }
        let path = std::path::Path::new(target);
        if path.is_dir() {
            Ok(path.to_path_buf())
        } else {
            Err(git::GitError::NotAFolder {
                path: path.to_path_buf(),
            }
            .into())
        }
    };
    match command {
        cli::GitCommand::Status {
            target,
            ignored,
            json,
        } => {
            let repo = Repo::open(&folder(&target)?)?;
            let status = read(repo.workdir(), StatusOptions { ignored })?;
            if json {
                print_json(&status.report())?;
            } else {
                print_git_status(&status);
            }
        }
        // Run as jobs by `jobs_cli::git_job`.
        cli::GitCommand::Push { .. } | cli::GitCommand::Pull { .. } => {}
        cli::GitCommand::Commit(args) => {
            let repo = Repo::open(&folder(&args.target)?)?;
            let made = commit(
                &repo,
                &CommitRequest {
                    message: args.message.as_deref(),
                    all: args.all,
                    amend: args.amend,
                    verify: !args.no_verify,
                },
            )?;
            if args.json {
                print_json(&made)?;
            } else {
                println!(
                    "{} {} on {}: {}",
                    if made.amended { "amended" } else { "committed" },
                    made.short_id,
                    made.branch,
                    printable(&made.summary)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_git_status(status: &git::status::RepoStatus) {
    let b = &status.branch;
    let short = |oid: &Option<String>| oid.as_deref().map(|o| o[..o.len().min(7)].to_string());
    match (&b.head, short(&b.oid)) {
        (Some(head), None) => println!("on {}, no commits yet", printable(head)),
        (Some(head), Some(_)) => match &b.upstream {
            Some(up) => println!(
                "on {}, tracking {} (ahead {}, behind {})",
                printable(head),
                printable(up),
                b.ahead,
                b.behind
            ),
            None => println!("on {}, no upstream", printable(head)),
        },
        (None, oid) => println!("HEAD detached at {}", oid.unwrap_or_default()),
    }
    if status.entries.is_empty() {
        println!("nothing changed");
        return;
    }
    for e in &status.entries {
        let xy = if e.untracked {
            "??".to_string()
        } else if e.ignored {
            "!!".to_string()
        } else {
            format!("{}{}", e.index.code(), e.worktree.code())
        };
        match &e.orig_path {
            Some(orig) => println!(
                "{xy}  {:<10}  {} <- {}",
                e.marker().as_str(),
                printable(&e.path),
                printable(orig)
            ),
            None => println!("{xy}  {:<10}  {}", e.marker().as_str(), printable(&e.path)),
        }
    }
}
