//! The command line: the verbs by area, each a short function over the
//! library. `args` holds what clap parses; `output` the shared text and
//! JSON printing. A verb answers an exit code or an [`Error`], printed
//! with its hint.

mod args;
mod doctor;
mod git;
mod jobs;
pub(crate) mod output;
mod workspace;

use std::process::ExitCode;

pub use args::Cli;
use args::Command;

use crate::config::Config;
use crate::error::Error;
use crate::store::Store;

/// Runs one parsed command line; a failure is printed with its hint and
/// exits 1.
pub fn run(cli: Cli) -> ExitCode {
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            eprintln!("hint: {}", err.hint());
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode, Error> {
    let config = Config::load(cli.data_dir.clone())?;
    let _telemetry = crate::telemetry::init(&config.data_dir, cli.verbose);
    let Some(command) = cli.command else {
        return workspace::open_tui(&config);
    };
    match command {
        Command::Open { target, location } => {
            return workspace::open(&config, &target, location.as_deref());
        }
        Command::Doctor { json } => return doctor::doctor(&config, json),
        _ => {}
    }
    // Like other Unix tools, end quietly when a reader such as `head`
    // closes the pipe; the terminal UI never gets here.
    // SAFETY: signal() with SIG_DFL only changes this process's disposition
    // of SIGPIPE; no other thread writes to a pipe.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let mut store = Store::open(&config.data_dir)?;
    match command {
        Command::Import(args) if args.detach => jobs::import_job(&config, store, &args),
        Command::Import(args) => workspace::import(&mut store, &config, &args),
        Command::Export(args) if args.detach => jobs::export_job(&config, store, &args),
        Command::Export(args) => workspace::export(&store, &args),
        Command::Ls { json } => workspace::ls(&store, json),
        Command::Show { workspace, json } => workspace::show(&store, &workspace, json),
        Command::Cat { workspace, path } => workspace::cat(&store, &workspace, &path),
        Command::Rm { workspace, yes } => workspace::rm(&mut store, &workspace, yes),
        Command::Takeover(args) => git::takeover(&mut store, &config, &args),
        Command::Git(command) => git::dispatch(&config, store, command),
        Command::Run(args) => jobs::run(&config, store, &args),
        Command::Worker(args) => jobs::worker(&config, store, &args),
        Command::Jobs(args) => jobs::jobs(&config, &mut store, args),
        Command::Tasks { workspace, json } => jobs::tasks(&store, &workspace, json),
        Command::Schedule(command) => jobs::schedule(&config, &mut store, command),
        Command::Metrics => jobs::metrics(&store),
        Command::Open { .. } | Command::Doctor { .. } => Ok(ExitCode::SUCCESS),
    }
}
