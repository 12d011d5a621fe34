//! Command-line definitions for the headless subcommands (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    pub data_dir: Option<PathBuf>,

    /// Human-readable logs on stderr (-v info, -vv debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
    /// Measure the editor's update and render path (benches/editor.sh)
    #[command(hide = true)]
    BenchUi {
        scenario: String,
        dir: PathBuf,
        file: String,
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
    #[command(after_help = "Examples:\n  kollega cat shop app/page.tsx")]
    Cat { workspace: String, path: String },
    /// Remove a workspace and everything stored for it
    #[command(after_help = "Examples:\n  kollega rm shop --yes")]
    Rm {
        workspace: String,
        /// Confirm the removal
        #[arg(long)]
        yes: bool,
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
}

#[derive(Debug, Subcommand)]
pub enum GitCommand {
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
}

#[derive(Debug, Args)]
pub struct GitCommitArgs {
    /// A working tree folder (or a folder inside one)
    #[arg(value_name = "WS-OR-DIR")]
    pub target: String,
    /// The commit message
    #[arg(short, long, value_name = "MSG", required_unless_present = "amend")]
    pub message: Option<String>,
    /// Stage every change to tracked files first, as `git commit -a`
    #[arg(short, long)]
    pub all: bool,
    /// Replace the last commit, keeping its author (and its message without -m)
    #[arg(long)]
    pub amend: bool,
    /// Skip the pre-commit and commit-msg hooks
    #[arg(long)]
    pub no_verify: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TakeoverArgs {
    /// A folder, a .zip file, or the name of a SQLite workspace to promote
    pub source: String,
    /// The repository's folder (created when absent; an existing one must be clean)
    #[arg(long, value_name = "REPO-DIR")]
    pub git: PathBuf,
    /// Workspace name (default: the folder or ZIP file name)
    #[arg(long)]
    pub name: Option<String>,
    /// Add or set the `origin` remote
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// Push the branch and the tag to origin
    #[arg(long)]
    pub push: bool,
    /// Create a private GitHub repository OWNER/NAME and push to it
    #[arg(long, value_name = "OWNER/NAME")]
    pub github: Option<String>,
    /// Apply the export's own .gitignore files
    #[arg(long)]
    pub respect_gitignore: bool,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A folder or a .zip file
    pub source: PathBuf,
    /// Workspace name (default: the folder or ZIP file name)
    #[arg(long)]
    pub name: Option<String>,
    /// Replace an existing workspace of that name
    #[arg(long)]
    pub replace: bool,
    /// Apply the export's own .gitignore files (off: an export is taken over whole)
    #[arg(long)]
    pub respect_gitignore: bool,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["zip", "dir"])))]
pub struct ExportArgs {
    pub workspace: String,
    /// Write a ZIP file
    #[arg(long, value_name = "FILE")]
    pub zip: Option<PathBuf>,
    /// Write into a folder
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Overwrite an existing file or non-empty folder
    #[arg(long)]
    pub force: bool,
    /// Print a JSON summary
    #[arg(long)]
    pub json: bool,
}
