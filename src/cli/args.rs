//! Command-line definitions for the headless subcommands (clap).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::jobs::schedule::CatchUp;
use crate::jobs::{JobKind, Status};

pub(crate) use super::meetings::{ActionsArgs, MeetingsArgs};

/// "90", "90s", "10m", "2h", "1500ms", "7d" as a duration (at most 365
/// days): the values of `--timeout` and `--older-than`.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    crate::config::duration(text, Duration::ZERO, Duration::from_secs(365 * 86_400))
}

/// A job kind this kollega runs, by name: the value of `--kind`.
fn job_kind(name: &str) -> Result<JobKind, String> {
    let kind = JobKind::from(name);
    let kinds = crate::jobs::kinds::Registry::standard();
    match kinds.get(&kind) {
        Some(_) => Ok(kind),
        None => Err(format!(
            "{name:?} is not a job kind: {}",
            kinds.names().join(", ")
        )),
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "kollega",
    version,
    about = "A terminal workstation for taking over and shaping AI-generated code",
    long_about = "A terminal workstation for taking over and shaping AI-generated code.\n\n\
                  With no subcommand, kollega opens its terminal UI. The first start on an \
                  empty store takes over the bundled demo export.",
    after_help = "Examples:\n  kollega                         open the terminal UI\n  \
                  kollega import ./v0-export.zip   take over an export\n  \
                  kollega ls                       list workspaces\n  \
                  kollega export demo --zip out.zip\n  \
                  kollega doctor                   check the store and the machine"
)]
pub struct Cli {
    /// Where kollega keeps its store and logs [env: KOLLEGA_DATA_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,

    /// Human-readable logs on stderr (-v info, -vv debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Take over a folder or ZIP export into a SQLite workspace
    #[command(after_help = "Examples:\n  kollega import ./my-app\n  \
                      kollega import ./v0-export.zip --name shop --json\n  \
                      kollega import ./my-app --name shop --replace\n\n\
                      Skipped: binary, too-large and secret-bearing files (reported, never stored).\n\
                      Ignored: .git, node_modules, .next, dist, build, target, .DS_Store.")]
    Import(ImportArgs),
    /// Write a workspace out as a ZIP file or a folder, byte for byte
    #[command(after_help = "Examples:\n  kollega export shop --zip shop.zip\n  \
                      kollega export shop --dir ./shop-out --force")]
    Export(ExportArgs),
    /// Open the terminal UI on a workspace (by name) or a folder, at a file and line
    #[command(after_help = "Examples:\n  kollega open shop\n  \
                      kollega open shop app/page.tsx:42\n  \
                      kollega open ./my-repo src/main.rs\n\n\
                      A folder is edited in place on disk; saves are atomic.")]
    Open {
        /// Workspace name, or a folder
        target: String,
        /// A file to open, optionally with :LINE
        location: Option<String>,
    },
    /// List workspaces
    #[command(after_help = "Examples:\n  kollega ls\n  kollega ls --json")]
    Ls {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show one workspace: metadata and skipped entries
    #[command(after_help = "Examples:\n  kollega show shop\n  kollega show shop --json")]
    Show {
        workspace: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Print one stored file to stdout
    #[command(after_help = "Examples:\n  kollega cat shop app/page.tsx\n\n\
                      Prints the file's bytes as stored, so there is no --json.")]
    Cat { workspace: String, path: String },
    /// Find the lines of a workspace's files that match a pattern
    #[command(after_help = "Examples:\n  kollega grep shop useCart\n  \
                      kollega grep ./my-repo 'fn \\w+_test' --regex\n  \
                      kollega grep shop TODO --json\n\n\
                      Literal and smart-cased (all lowercase matches any case) unless --regex.\n\
                      Prints path:line:column:text; exits 1 when nothing matches.")]
    Grep(GrepArgs),
    /// Remove a workspace and everything stored for it
    #[command(
        after_help = "Examples:\n  kollega rm shop --yes\n  kollega rm shop --yes --json\n\n\
                      Its queued jobs are cancelled, its running jobs stopped, its schedules\n\
                      removed and its working copy deleted."
    )]
    Rm {
        workspace: String,
        /// Confirm the removal
        #[arg(long)]
        yes: bool,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Check the store, the data directory and the machine
    #[command(after_help = "Examples:\n  kollega doctor\n  kollega doctor --json")]
    Doctor {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Take an export (or a SQLite workspace) over into a git repository
    #[command(
        after_help = "Examples:\n  kollega takeover ./v0-export.zip --git ./shop\n  \
                      kollega takeover shop --git ./shop --remote git@github.com:me/shop.git --push\n  \
                      kollega takeover ./my-app --git ./my-app-repo --github me/my-app\n\n\
                      Makes branch takeover/<workspace>/<UTC stamp> with one commit\n\
                      \"takeover: import <source>\" holding the files and handoff.json, and tag\n\
                      import-<stamp>. The same checks as import: no secret is ever committed.\n\
                      --github creates a private repository (token from GITHUB_TOKEN; API base\n\
                      from KOLLEGA_GITHUB_API_URL for GitHub Enterprise) and pushes to it.\n\
                      Run again after an interruption, it finishes what was started."
    )]
    Takeover(TakeoverArgs),
    /// Git working trees: status, commit
    #[command(
        subcommand,
        after_help = "Examples:\n  kollega git status ./my-repo\n  \
                      kollega git commit ./my-repo -m \"Fix the header\" --all"
    )]
    Git(GitCommand),
    /// Run a command (or a task) in a workspace as a job, streaming its output
    #[command(after_help = "Examples:\n  kollega run shop -- npm test\n  \
                      kollega run shop --task build\n  \
                      kollega run ./my-repo --timeout 10m -- cargo test\n  \
                      kollega run shop --detach --after 12 -- npm run deploy\n\n\
                      Exits with the command's exit code (130 when cancelled). A SQLite workspace's \
                      commands run in its working copy under the data directory, brought up to \
                      date from the store first; what they create stays there. --detach only \
                      queues the job for `kollega worker` or the TUI and prints its id (as JSON \
                      with --json); in the foreground the command's own output streams, so \
                      --json needs --detach.")]
    Run(RunArgs),
    /// Run queued jobs and schedules without a terminal UI (for a server)
    #[command(after_help = "Examples:\n  kollega worker\n  \
                      kollega worker --metrics 127.0.0.1:9464 --parallel 4\n\n\
                      Stops on SIGINT or SIGTERM; running jobs are stopped and retried later. \
                      It prints a line per job as it goes, so there is no --json.")]
    Worker(WorkerArgs),
    /// List jobs; print, follow, retry or cancel one
    #[command(after_help = "Examples:\n  kollega jobs\n  \
                      kollega jobs --status dead --json\n  \
                      kollega jobs log 12 --follow\n  \
                      kollega jobs retry 12\n  \
                      kollega jobs cancel 12")]
    Jobs(JobsArgs),
    /// Discovered tasks of a workspace (package.json, Cargo.toml, Makefile, .kollega.toml)
    #[command(after_help = "Examples:\n  kollega tasks shop\n  kollega tasks . --json")]
    Tasks {
        #[arg(value_name = "WS-OR-DIR")]
        workspace: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Run commands on a cron schedule (UTC)
    #[command(
        subcommand,
        after_help = "Examples:\n  kollega schedule add shop \"0 3 * * *\" -- npm run backup\n  \
                      kollega schedule ls\n  kollega schedule rm 2\n\n\
                      A `kollega worker` (or the TUI) enqueues each run as a job."
    )]
    Schedule(ScheduleCommand),
    /// Print counters and histograms in Prometheus text format
    #[command(
        after_help = "Examples:\n  kollega metrics\n  kollega metrics | grep kollega_queue_depth\n\n\
                      Prints the Prometheus text format, so there is no --json."
    )]
    Metrics,
    /// Patches: import one from another tool, list, show, apply, reject
    #[command(
        subcommand,
        after_help = "Examples:\n  git diff | kollega patch import shop -\n  \
                      kollega patch ls shop\n  kollega patch show 3\n  \
                      kollega patch apply 3 --hunks 1,3\n  kollega patch reject 3\n\n\
                      An apply writes every chosen hunk or nothing, and is undone with \
                      `kollega undo <ws>`."
    )]
    Patch(PatchCommand),
    /// Take back the last apply of a patch in a workspace
    #[command(
        after_help = "Examples:\n  kollega undo shop\n  kollega undo ./my-repo --json\n\n\
                      Refused, with nothing changed, when a file the apply wrote was edited \
                      since: undoing would lose those edits."
    )]
    Undo {
        #[arg(value_name = "WS-OR-DIR")]
        workspace: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Apply again what the last undo took back
    #[command(
        after_help = "Examples:\n  kollega redo shop\n  kollega redo ./my-repo --json\n\n\
                      A new apply after an undo drops what could be redone."
    )]
    Redo {
        #[arg(value_name = "WS-OR-DIR")]
        workspace: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Ask a model for a change; its answer is stored as a patch to review
    #[command(
        after_help = "Examples:\n  kollega ask shop \"rename formatDate to formatDay\" --file src/date.ts\n  \
                      kollega ask . \"add a unit test for parse\" --provider anthropic\n  \
                      kollega ask shop \"now also update the callers\" --continue --json\n\n\
                      Keys come from the environment only: OPENAI_API_KEY, ANTHROPIC_API_KEY,\n\
                      KOLLEGA_COMPAT_API_KEY (base URLs: OPENAI_BASE_URL, ANTHROPIC_BASE_URL,\n\
                      KOLLEGA_COMPAT_BASE_URL). The answer streams to stderr; .env files and\n\
                      files flagged as secrets are never sent. Nothing is written until the\n\
                      patch is reviewed."
    )]
    Ask(AskArgs),
    /// Tokens, cost and requests of model calls: in all, per workspace, per model, per session
    #[command(after_help = "Examples:\n  kollega usage\n  kollega usage --json")]
    Usage {
        /// Print JSON: {total, workspaces, models, sessions}
        #[arg(long)]
        json: bool,
    },
    /// Review a patch hunk by hunk in the terminal UI (y accept, n reject, w write)
    #[command(after_help = "Examples:\n  kollega review 12\n\n\
                      Opens the patch's workspace with the review pane on the patch.\n\
                      Decisions are stored as they are made; nothing is written before w.")]
    Review {
        /// The patch's id (`kollega ask` and `kollega patch import` print it)
        patch_id: i64,
    },
    /// Meetings from your calendars: list, import, show, notes, transcripts, decisions, consent, forget
    #[command(
        after_help = "Examples:\n  kollega meetings\n  kollega meetings --days 14 --json\n  \
                      kollega meetings import ~/Downloads/calendar.ics\n  \
                      kollega meetings show 12\n\n\
                      Times are shown in your time zone (TZ, else the system's)."
    )]
    Meetings(MeetingsArgs),
    /// Action items from meetings: list, add, done
    #[command(
        after_help = "Examples:\n  kollega actions --open\n  kollega actions --owner ann@example.com --json\n  \
                      kollega actions add 12 \"Write the release notes\" --due 2026-12-11\n  \
                      kollega actions done 7"
    )]
    Actions(ActionsArgs),
    /// Everyone who organizes or attends your meetings, with their open actions
    #[command(after_help = "Examples:\n  kollega stakeholders\n  kollega stakeholders --json")]
    Stakeholders {
        /// Print JSON: [{email, name, meetings, decisions, openActions}]
        #[arg(long)]
        json: bool,
    },
    /// AI modules (prompt packs) for meetings, per workspace: ls, on, off
    #[command(
        subcommand,
        after_help = "Examples:\n  kollega modules ls\n  kollega modules on copilot\n  \
                      kollega modules off procurement --workspace acme\n\n\
                      A module on for a workspace runs with `kollega meetings module ID NAME --doc FILE`."
    )]
    Modules(super::modules::ModulesCommand),
    /// Watch regulation pages and feeds for changes: add, ls, show, diff, rm
    #[command(
        subcommand,
        after_help = "Examples:\n  kollega watch add https://example.gov/rules.rss --every 6h\n  \
                      kollega watch ls\n  kollega watch diff 2"
    )]
    Watch(super::watch::WatchCommand),
    /// Copy the store to a file with SQLite's online backup API, while it is in use
    #[command(after_help = "Examples:\n  kollega backup ~/kollega-2026-12-07.db\n  \
                      kollega backup /mnt/usb/kollega.db --force --json\n\n\
                      The file is written beside its name and renamed into place (mode 0600). \
                      A worker or the TUI also keeps a daily copy under the data dir's backups/ \
                      folder, the last [meetings] backups_keep (30).")]
    Backup {
        /// Where to write the copy
        file: PathBuf,
        /// Replace the file if it exists
        #[arg(long)]
        force: bool,
        /// Print JSON: {path, bytes, schemaVersion}
        #[arg(long)]
        json: bool,
    },
    /// Replace the store with a backup (checked first; the store before is kept)
    #[command(
        after_help = "Examples:\n  kollega restore ~/kollega-2026-12-07.db --yes\n\n\
                      Refused: a file that is not a kollega database, or one with a newer schema. \
                      The backup is copied and checked away from the store, the store as it is \
                      is kept under backups/pre-restore-STAMP.db, then the store is replaced in \
                      one transaction."
    )]
    Restore {
        /// The backup to restore
        file: PathBuf,
        /// Yes, replace everything in the store
        #[arg(long)]
        yes: bool,
        /// Print JSON: {path, bytes, schemaVersion, previous}
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AskArgs {
    /// Workspace name, or a folder
    #[arg(value_name = "WS-OR-DIR")]
    pub(crate) workspace: String,
    /// What to change
    pub(crate) prompt: String,
    /// A file sent with the request (repeatable), as its workspace path
    #[arg(long, value_name = "PATH")]
    pub(crate) file: Vec<String>,
    /// openai, anthropic or compat [default: ai.provider, openai]
    #[arg(long, value_parser = ["openai", "anthropic", "compat"])]
    pub(crate) provider: Option<String>,
    /// The model [default: the provider's configured or default model]
    #[arg(long, value_name = "MODEL")]
    pub(crate) model: Option<String>,
    /// Continue the workspace's latest conversation
    #[arg(long = "continue")]
    pub(crate) continue_: bool,
    /// Print {"patchId","files","hunks","usage"} on stdout
    #[arg(long)]
    pub(crate) json: bool,
}

impl Command {
    /// Whether it only reads the store, so a store it may not write (a
    /// read-only folder, a backup, another user's) serves it.
    pub(crate) fn only_reads(&self) -> bool {
        match self {
            Command::Ls { .. }
            | Command::Show { .. }
            | Command::Cat { .. }
            | Command::Grep(_)
            | Command::Tasks { .. }
            | Command::Metrics
            | Command::Patch(PatchCommand::Ls { .. } | PatchCommand::Show { .. })
            | Command::Usage { .. }
            | Command::Schedule(ScheduleCommand::Ls { .. })
            | Command::Git(GitCommand::Status { .. })
            | Command::Stakeholders { .. } => true,
            Command::Watch(c) => c.only_reads(),
            Command::Modules(c) => c.only_reads(),
            Command::Meetings(args) => args.only_reads(),
            Command::Actions(args) => args.only_reads(),
            Command::Export(args) => !args.detach,
            Command::Jobs(args) => matches!(
                args.action,
                None | Some(JobsAction::Show { .. } | JobsAction::Log { .. })
            ),
            _ => false,
        }
    }

    /// Whether the command line asked for JSON: an error is then JSON too.
    pub(crate) fn json(&self) -> bool {
        match self {
            Command::Import(a) => a.json,
            Command::Export(a) => a.json,
            Command::Takeover(a) => a.json,
            Command::Run(a) => a.json,
            Command::Grep(a) => a.json,
            Command::Ask(a) => a.json,
            Command::Usage { json } | Command::Stakeholders { json } => *json,
            Command::Meetings(a) => a.json(),
            Command::Actions(a) => a.json(),
            Command::Backup { json, .. } | Command::Restore { json, .. } => *json,
            Command::Watch(c) => c.json(),
            Command::Modules(c) => c.json(),
            Command::Ls { json }
            | Command::Rm { json, .. }
            | Command::Show { json, .. }
            | Command::Doctor { json }
            | Command::Tasks { json, .. }
            | Command::Undo { json, .. }
            | Command::Redo { json, .. } => *json,
            Command::Patch(
                PatchCommand::Import { json, .. }
                | PatchCommand::Ls { json, .. }
                | PatchCommand::Show { json, .. }
                | PatchCommand::Apply { json, .. }
                | PatchCommand::Accept { json, .. }
                | PatchCommand::Reject { json, .. }
                | PatchCommand::Regenerate { json, .. },
            ) => *json,
            Command::Jobs(a) => match &a.action {
                None => a.json,
                Some(
                    JobsAction::Show { json, .. }
                    | JobsAction::Retry { json, .. }
                    | JobsAction::Fix { json, .. }
                    | JobsAction::Cancel { json, .. }
                    | JobsAction::Clean { json, .. },
                ) => *json,
                Some(JobsAction::Log { .. }) => false,
            },
            Command::Schedule(
                ScheduleCommand::Add { json, .. }
                | ScheduleCommand::Ls { json, .. }
                | ScheduleCommand::Rm { json, .. },
            ) => *json,
            Command::Git(
                GitCommand::Status { json, .. }
                | GitCommand::Push { json, .. }
                | GitCommand::Pull { json, .. },
            ) => *json,
            Command::Git(GitCommand::Commit(a)) => a.json,
            Command::Open { .. }
            | Command::Review { .. }
            | Command::Cat { .. }
            | Command::Worker(_)
            | Command::Metrics => false,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct GrepArgs {
    /// Workspace name, or a folder
    #[arg(value_name = "WS-OR-DIR")]
    pub(crate) workspace: String,
    /// The text to look for (a regular expression with --regex)
    pub(crate) pattern: String,
    /// Read the pattern as a regular expression
    #[arg(long)]
    pub(crate) regex: bool,
    /// Stop after this many matching lines
    #[arg(long, default_value_t = 10_000)]
    pub(crate) max: usize,
    /// Print JSON instead of lines
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Workspace name, or a folder
    #[arg(value_name = "WS-OR-DIR")]
    pub(crate) workspace: String,
    /// Only queue the job and print its id
    #[arg(long)]
    pub(crate) detach: bool,
    /// Stop the command after this long (90s, 10m, 2h)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) timeout: Option<Duration>,
    /// Start only after job ID succeeded (repeatable); fails if it does not
    #[arg(long, value_name = "ID")]
    pub(crate) after: Vec<i64>,
    /// Retry a failing command up to N times, with backoff
    #[arg(long, value_name = "N")]
    pub(crate) retries: Option<u32>,
    /// Run a discovered task by name (see `kollega tasks`)
    #[arg(long, value_name = "NAME", conflicts_with = "command")]
    pub(crate) task: Option<String>,
    /// With --detach, print the job's id as JSON (a run in the foreground
    /// streams the command's own output)
    #[arg(long, requires = "detach")]
    pub(crate) json: bool,
    /// The command and its arguments, after `--`
    #[arg(last = true, value_name = "CMD", required_unless_present = "task")]
    pub(crate) command: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    /// Serve /metrics on this address (host:port)
    #[arg(long, value_name = "ADDR")]
    pub(crate) metrics: Option<SocketAddr>,
    /// Jobs run at once [default: jobs.parallel, the number of CPUs]
    #[arg(long, value_name = "N")]
    pub(crate) parallel: Option<usize>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct JobsArgs {
    #[command(subcommand)]
    pub(crate) action: Option<JobsAction>,
    /// Only jobs with this status (queued, running, succeeded, failed, retrying, dead, cancelled)
    #[arg(long)]
    pub(crate) status: Option<Status>,
    /// Only jobs of this kind (command, import, export, git-push, git-pull, ask, brief, transcript, watch, nudge, …)
    #[arg(long, value_parser = job_kind)]
    pub(crate) kind: Option<JobKind>,
    /// At most this many, newest first
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: usize,
    /// Print JSON instead of a table
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum JobsAction {
    /// One job in full: command, place, environment, attempts, error
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Print a job's log; --follow waits for new lines until the job ends
    #[command(
        after_help = "The log is the job's own output, as it printed it: there is no --json."
    )]
    Log {
        id: i64,
        #[arg(short, long)]
        follow: bool,
    },
    /// Queue a failed, dead or cancelled job again
    Retry {
        id: i64,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Ask the model to fix a failed build or test: its log's tail and the files it names
    #[command(after_help = "Examples:\n  kollega jobs fix 12\n  \
                      kollega jobs fix 12 --provider anthropic --json\n\n\
                      The answer is a patch to review (`kollega review ID`); nothing is written.")]
    Fix {
        id: i64,
        /// openai, anthropic or compat [default: ai.provider, openai]
        #[arg(long, value_parser = ["openai", "anthropic", "compat"])]
        provider: Option<String>,
        /// The model [default: the provider's configured or default model]
        #[arg(long, value_name = "MODEL")]
        model: Option<String>,
        /// Print {"patchId","files","hunks","usage"} on stdout
        #[arg(long)]
        json: bool,
    },
    /// Cancel a queued or running job (its whole process tree is stopped)
    Cancel {
        id: i64,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Remove ended jobs and their logs
    #[command(after_help = "Examples:\n  kollega jobs clean\n  \
                      kollega jobs clean --older-than 7d\n  \
                      kollega jobs clean --status succeeded\n\n\
                      Jobs that a waiting job runs after are kept.")]
    Clean {
        /// Only jobs that ended at least this long ago (90m, 12h, 7d)
        #[arg(long, value_name = "DURATION", value_parser = duration)]
        older_than: Option<Duration>,
        /// Only jobs with this status (succeeded, failed, dead, cancelled)
        #[arg(long)]
        status: Option<Status>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ScheduleCommand {
    /// Add a schedule: a cron expression (UTC) and a command
    #[command(
        after_help = "Examples:\n  kollega schedule add shop \"0 3 * * *\" -- npm run backup\n  \
                      kollega schedule add ./repo \"*/15 * * * *\" --catch-up skip -- make check\n\n\
                      Five fields: minute hour day-of-month month day-of-week, or @hourly, @daily, \
                      @weekly, @monthly. Runs missed while no worker or TUI was running are \
                      caught up once (--catch-up once), not at all (skip), or each (all, at most 100)."
    )]
    Add {
        #[arg(value_name = "WS-OR-DIR")]
        workspace: String,
        cron: String,
        #[arg(long, value_name = "POLICY")]
        catch_up: Option<CatchUp>,
        /// Stop each run after this long (90s, 10m, 2h)
        #[arg(long, value_name = "DURATION", value_parser = duration)]
        timeout: Option<Duration>,
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
        /// Print the schedule as JSON
        #[arg(long)]
        json: bool,
    },
    /// List schedules and their next run, then the routines kollega runs
    /// by itself (nudges, retention, backups, watched pages, calendars)
    Ls {
        /// Only the routines
        #[arg(long)]
        routines: bool,
        /// Print JSON: the schedules, or with --routines the routines
        #[arg(long)]
        json: bool,
    },
    /// Remove a schedule (its past jobs stay)
    Rm {
        id: i64,
        /// Print the removed schedule as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PatchCommand {
    /// Store a patch from a file or stdin for review (unified diff,
    /// apply_patch envelope, search/replace blocks, `=== lines` ranges)
    #[command(after_help = "Examples:\n  kollega patch import shop fix.diff\n  \
                      git diff | kollega patch import ./my-repo - --json\n  \
                      kollega patch import ./my-repo fix.diff --apply\n\n\
                      Search/replace blocks and line ranges are resolved against the files \
                      now; a block that matches nothing is refused. Nothing is written to \
                      the files until `kollega patch apply`, or at once with --apply: every \
                      hunk, all or nothing, like `git apply` (`kollega undo <ws>` takes it \
                      back; a patch that does not apply is stored for review).")]
    Import {
        #[arg(value_name = "WS-OR-DIR")]
        workspace: String,
        /// The patch file, or - for stdin
        #[arg(value_name = "FILE")]
        file: String,
        /// Apply every hunk at once, as `patch apply --all` would
        #[arg(long)]
        apply: bool,
        /// With --apply: commit the applied files in the folder's git repository
        #[arg(long, requires = "apply", conflicts_with = "no_commit")]
        commit: bool,
        /// With --apply: do not commit, whatever `[ai] commit_applies` says
        #[arg(long, requires = "apply")]
        no_commit: bool,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// List the patches of a workspace, newest first
    #[command(after_help = "Examples:\n  kollega patch ls shop\n  kollega patch ls . --json")]
    Ls {
        #[arg(value_name = "WS-OR-DIR")]
        workspace: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show a patch: its hunks, numbered over the whole patch, and their decisions
    #[command(after_help = "Examples:\n  kollega patch show 3\n  kollega patch show 3 --json")]
    Show {
        id: i64,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Apply a patch's accepted hunks (or --hunks, or --all): all or nothing
    #[command(after_help = "Examples:\n  kollega patch apply 3\n  \
                      kollega patch apply 3 --hunks 1,3\n  kollega patch apply 3 --all --json\n\n\
                      A hunk that does not apply (its lines are not in the file, even with an \
                      offset or 2 lines of fuzz) fails the whole apply with exit 1, naming the \
                      file, the hunk, the lines expected and the closest lines found; nothing \
                      is written. `kollega undo <ws>` takes an apply back.\n\n\
                      --commit (or `[ai] commit_applies = true` in a git workspace) commits \
                      the applied files, and only them, with the patch's message; refused when \
                      other changes are staged. Undo of a committed apply commits a revert.")]
    Apply {
        id: i64,
        /// These hunks, by number (see `kollega patch show`)
        #[arg(
            long,
            value_name = "N,N",
            value_delimiter = ',',
            conflicts_with = "all"
        )]
        hunks: Vec<usize>,
        /// Every hunk, whatever the review decided
        #[arg(long)]
        all: bool,
        /// Commit the applied files in the folder's git repository
        #[arg(long, conflicts_with = "no_commit")]
        commit: bool,
        /// Do not commit, whatever `[ai] commit_applies` says
        #[arg(long)]
        no_commit: bool,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Accept hunks of a patch, ready for `patch apply`
    #[command(after_help = "Examples:\n  kollega patch accept 3 --hunks 1,2\n  \
                      kollega patch accept 3 --all")]
    #[command(group(clap::ArgGroup::new("which").required(true).args(["hunks", "all"])))]
    Accept {
        id: i64,
        /// These hunks, by number (see `kollega patch show`)
        #[arg(long, value_name = "N,N", value_delimiter = ',')]
        hunks: Vec<usize>,
        /// Every hunk
        #[arg(long)]
        all: bool,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Ask the model again for the rejected hunks of a patch, with their reasons
    #[command(
        after_help = "Examples:\n  kollega patch reject 3 --hunks 2 --reason \"keep the old name\"\n  \
                      kollega patch regenerate 3\n\n\
                      The follow-up continues the patch's conversation and names the hunks that \
                      were accepted; the answer is a new patch to review."
    )]
    Regenerate {
        id: i64,
        /// openai, anthropic or compat [default: ai.provider, openai]
        #[arg(long, value_parser = ["openai", "anthropic", "compat"])]
        provider: Option<String>,
        /// The model [default: the provider's configured or default model]
        #[arg(long, value_name = "MODEL")]
        model: Option<String>,
        /// Print {"patchId","files","hunks","usage"} on stdout
        #[arg(long)]
        json: bool,
    },
    /// Reject a patch as a whole, or some of its hunks (with a reason)
    #[command(after_help = "Examples:\n  kollega patch reject 3\n  \
                      kollega patch reject 3 --hunks 2 --reason \"keep the old name\"\n\n\
                      Rejected hunks are left out of `patch apply`; their reasons go back to \
                      the model when the patch is asked for again.")]
    Reject {
        id: i64,
        /// Only these hunks, by number (see `kollega patch show`)
        #[arg(long, value_name = "N,N", value_delimiter = ',')]
        hunks: Vec<usize>,
        /// Why, for the model
        #[arg(long, value_name = "TEXT", requires = "hunks")]
        reason: Option<String>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum GitCommand {
    /// Branch, upstream and changed files of a working tree
    #[command(after_help = "Examples:\n  kollega git status ./my-repo\n  \
                      kollega git status . --json\n\n\
                      Each file shows its index and working-tree letters (as `git status \
                      --porcelain=v2`: M modified, A added, D deleted, R renamed, U unmerged, \
                      . unchanged) and its mark: modified, added, deleted, renamed, untracked, \
                      ignored or conflicted.")]
    Status {
        /// A working tree folder (or a folder inside one)
        #[arg(value_name = "WS-OR-DIR")]
        target: String,
        /// Also list ignored files
        #[arg(long)]
        ignored: bool,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Commit the staged changes (never pushes)
    #[command(
        after_help = "Examples:\n  kollega git commit . -m \"Add the pricing page\"\n  \
                      kollega git commit . -m \"Fix typos\" --all\n  \
                      kollega git commit . --amend\n  \
                      kollega git commit . --amend -m \"Better message\"\n\n\
                      Refused, with nothing changed: a detached HEAD, a merge or rebase in \
                      progress, a locked index, no user.name/user.email, nothing staged."
    )]
    Commit(GitCommitArgs),
    /// Push as a job (the git program, your credential helpers and SSH agent)
    #[command(after_help = "Examples:\n  kollega git push ./my-repo\n  \
                      kollega git push shop --remote origin main --set-upstream\n  \
                      kollega git push shop --detach\n\n\
                      A dropped connection is retried with backoff; a rejected push or bad \
                      credentials are not (the job is dead, with git's answer).")]
    Push {
        #[arg(value_name = "WS-OR-DIR")]
        target: String,
        /// The remote, then the branches and tags to push
        #[arg(long, value_name = "REMOTE")]
        remote: Option<String>,
        #[arg(requires = "remote", value_name = "REFSPEC")]
        refspecs: Vec<String>,
        /// Record the remote branch as upstream (-u)
        #[arg(long)]
        set_upstream: bool,
        /// Only queue the job and print its id
        #[arg(long)]
        detach: bool,
        /// With --detach, print the job's id as JSON (in the foreground,
        /// git's own output streams)
        #[arg(long, requires = "detach")]
        json: bool,
    },
    /// Pull (fast-forward only) as a job
    #[command(
        after_help = "Examples:\n  kollega git pull ./my-repo\n  kollega git pull shop --detach"
    )]
    Pull {
        #[arg(value_name = "WS-OR-DIR")]
        target: String,
        /// Only queue the job and print its id
        #[arg(long)]
        detach: bool,
        /// With --detach, print the job's id as JSON (in the foreground,
        /// git's own output streams)
        #[arg(long, requires = "detach")]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct GitCommitArgs {
    /// A working tree folder (or a folder inside one)
    #[arg(value_name = "WS-OR-DIR")]
    pub(crate) target: String,
    /// The commit message
    #[arg(short, long, value_name = "MSG", required_unless_present = "amend")]
    pub(crate) message: Option<String>,
    /// Stage every change to tracked files first, as `git commit -a`
    #[arg(short, long)]
    pub(crate) all: bool,
    /// Replace the last commit, keeping its author (and its message without -m)
    #[arg(long)]
    pub(crate) amend: bool,
    /// Skip the pre-commit and commit-msg hooks
    #[arg(long)]
    pub(crate) no_verify: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TakeoverArgs {
    /// A folder, a .zip file, or the name of a SQLite workspace to promote
    pub(crate) source: String,
    /// The repository's folder (created when absent; an existing one must be clean)
    #[arg(long, value_name = "REPO-DIR")]
    pub(crate) git: PathBuf,
    /// Workspace name (default: the folder or ZIP file name)
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Add or set the `origin` remote
    #[arg(long, value_name = "URL")]
    pub(crate) remote: Option<String>,
    /// Push the branch and the tag to origin
    #[arg(long)]
    pub(crate) push: bool,
    /// Create a private GitHub repository OWNER/NAME and push to it
    #[arg(long, value_name = "OWNER/NAME")]
    pub(crate) github: Option<String>,
    /// Apply the export's own .gitignore files
    #[arg(long)]
    pub(crate) respect_gitignore: bool,
    /// Print the report as JSON
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// A folder or a .zip file
    pub(crate) source: PathBuf,
    /// Workspace name (default: the folder or ZIP file name)
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Replace an existing workspace of that name
    #[arg(long)]
    pub(crate) replace: bool,
    /// Apply the export's own .gitignore files (off: an export is taken over whole)
    #[arg(long)]
    pub(crate) respect_gitignore: bool,
    /// Print the report as JSON
    #[arg(long)]
    pub(crate) json: bool,
    /// Queue the import as a job and print its id
    #[arg(long)]
    pub(crate) detach: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["zip", "dir"])))]
pub(crate) struct ExportArgs {
    pub(crate) workspace: String,
    /// Write a ZIP file
    #[arg(long, value_name = "FILE")]
    pub(crate) zip: Option<PathBuf>,
    /// Write into a folder
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
    /// Overwrite an existing file or non-empty folder
    #[arg(long)]
    pub(crate) force: bool,
    /// Print a JSON summary
    #[arg(long)]
    pub(crate) json: bool,
    /// Queue the export as a job and print its id
    #[arg(long)]
    pub(crate) detach: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(duration("1500ms").unwrap(), Duration::from_millis(1500));
        assert_eq!(duration("7d").unwrap(), Duration::from_secs(7 * 86_400));
        for bad in ["", "abc", "10x", "-5s", "0", "99999h", "400d"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_known_job_kinds_are_taken() {
        assert_eq!(job_kind("git-push"), Ok(JobKind::GitPush));
        assert!(job_kind("bogus").unwrap_err().contains("git-pull"));
        assert_eq!(job_kind("watch"), Ok(JobKind::Other("watch".into())));
        assert!(job_kind("bogus").unwrap_err().contains("transcript"));
    }
}
