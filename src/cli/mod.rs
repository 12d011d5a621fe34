//! The command line: the verbs by area, each a short function over the
//! library. `args` holds what clap parses; `output` the shared text and
//! JSON printing. A verb answers an exit code or an [`Error`], printed
//! with its hint.

mod ai;
mod args;
mod doctor;
mod git;
mod grep;
mod jobs;
mod meetings;
mod meetings_more;
mod modules;
pub(crate) mod output;
mod patch;
pub(crate) mod watch;
mod workspace;

use std::process::ExitCode;

pub use args::Cli;
use args::Command;

use crate::config::Config;
use crate::error::Error;
use crate::store::Store;

/// Runs one parsed command line. A failure is printed with its hint (on
/// stdout as one JSON object when the command line asked for JSON) and
/// exits 1, or 2 for a command line that means nothing.
pub fn run(cli: Cli) -> ExitCode {
    let json = cli.command.as_ref().is_some_and(Command::json);
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            if !err.reported() {
                report(err.kind(), &err.to_string(), &err.hint(), json);
            }
            ExitCode::from(err.exit_code())
        }
    }
}

/// A command line clap refused (or `--help`, `--version`): clap's own text,
/// or with `--json` anywhere in it, the error as JSON. Exits 2, or 0 for
/// help and version.
pub fn refused(e: clap::Error) -> ExitCode {
    let json = std::env::args_os().any(|a| a == "--json");
    if !e.use_stderr() || !json {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
    }
    let text = e.render().to_string();
    let message = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ");
    // The subcommand the line was for, for a hint that names it.
    let command = <Cli as clap::CommandFactory>::command();
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let sub = std::env::args()
        .skip(1)
        .find(|a| names.contains(a))
        .map(|name| format!(" {name}"))
        .unwrap_or_default();
    report(
        "usage",
        message,
        &format!("`kollega help{sub}` lists its arguments, with examples"),
        true,
    );
    ExitCode::from(2)
}

/// Prints a failure: `error:` and `hint:` on stderr, or
/// `{"error": {"kind", "message", "hint"}}` on stdout.
fn report(kind: &str, message: &str, hint: &str, json: bool) {
    if json {
        let error = serde_json::json!({
            "error": { "kind": kind, "message": message, "hint": hint }
        });
        println!("{error}");
    } else {
        eprintln!("error: {message}");
        eprintln!("hint: {hint}");
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, Error> {
    // Doctor reports a bad config.toml or variable as a failed check.
    if let Some(Command::Doctor { json }) = &cli.command {
        let (config, problems) = Config::load_lenient(cli.data_dir.clone())?;
        let _telemetry = crate::telemetry::init(&config.data_dir, cli.verbose);
        return doctor::doctor(&config, &problems, *json);
    }
    let config = Config::load(cli.data_dir.clone())?;
    let _telemetry = crate::telemetry::init(&config.data_dir, cli.verbose);
    let Some(command) = cli.command else {
        return workspace::open_tui(&config);
    };
    if let Command::Open { target, location } = &command {
        return workspace::open(&config, target, location.as_deref());
    }
    if let Command::Review { patch_id } = &command {
        return workspace::review(&config, *patch_id);
    }
    // Like other Unix tools, end quietly when a reader such as `head`
    // closes the pipe; the terminal UI never gets here.
    // SAFETY: signal() with SIG_DFL only changes this process's disposition
    // of SIGPIPE; no other thread writes to a pipe.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let mut store = if command.only_reads() {
        Store::open_read(&config.data_dir)?
    } else {
        Store::open(&config.data_dir)?
    };
    match command {
        Command::Import(args) if args.detach => jobs::import_job(&config, store, &args),
        Command::Import(args) => workspace::import(&mut store, &config, &args),
        Command::Export(args) if args.detach => jobs::export_job(&config, store, &args),
        Command::Export(args) => workspace::export(&store, &args),
        Command::Ls { json } => workspace::ls(&store, json),
        Command::Show { workspace, json } => workspace::show(&store, &workspace, json),
        Command::Cat { workspace, path } => workspace::cat(&store, &workspace, &path),
        Command::Grep(args) => grep::grep(&config, &store, &args),
        Command::Rm {
            workspace,
            yes,
            json,
        } => workspace::rm(&mut store, &workspace, yes, json),
        Command::Takeover(args) => git::takeover(&mut store, &config, &args),
        Command::Git(command) => git::dispatch(&config, store, command),
        Command::Run(args) => jobs::run(&config, store, &args),
        Command::Worker(args) => jobs::worker(&config, store, &args),
        Command::Jobs(args) => jobs::jobs(&config, &mut store, args),
        Command::Tasks { workspace, json } => jobs::tasks(&store, &workspace, json),
        Command::Schedule(command) => jobs::schedule(&config, &mut store, command),
        Command::Metrics => jobs::metrics(&store),
        Command::Patch(command) => patch::dispatch(&config, &mut store, command),
        Command::Undo { workspace, json } => patch::undo(&mut store, &workspace, json),
        Command::Redo { workspace, json } => patch::redo(&mut store, &workspace, json),
        Command::Ask(args) => ai::ask(&config, store, &args),
        Command::Usage { json } => ai::usage(&store, json),
        Command::Meetings(args::MeetingsArgs {
            action: Some(meetings::MeetingsCommand::Brief(args)),
            ..
        }) => meetings_more::brief(&config, store, &args),
        Command::Meetings(args::MeetingsArgs {
            action: Some(meetings::MeetingsCommand::Module(args)),
            ..
        }) => modules::run(&config, store, &args),
        Command::Meetings(args) => meetings::meetings(&mut store, args),
        Command::Modules(command) => modules::dispatch(&mut store, command),
        Command::Actions(args) => meetings::actions_verb(&mut store, args),
        Command::Stakeholders { json } => meetings::stakeholders_verb(&store, json),
        Command::Watch(command) => watch::dispatch(&config, store, command),
        Command::Backup { file, force, json } => meetings_more::backup(&store, &file, force, json),
        Command::Restore { file, yes, json } => {
            meetings_more::restore(&config, &mut store, &file, yes, json)
        }
        Command::Open { .. } | Command::Review { .. } | Command::Doctor { .. } => {
            Ok(ExitCode::SUCCESS)
        }
    }
}
