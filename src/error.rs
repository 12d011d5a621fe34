//! What kollega tells a user when something fails: every module's error
//! says what happened to what, and through [`Hint`] what to do about it.
//!
//! [`Error`] gathers the module errors the command line can meet, one
//! variant each, so a verb returns it with `?` and `main` prints the message
//! and the hint. A new module error cannot reach the user without a hint:
//! it needs a variant here before `?` compiles, and the variant needs an
//! arm in [`Error::hint`].

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::git::GitError;
use crate::git::github::GithubError;
use crate::git::takeover::TakeoverError;
use crate::jobs::JobsError;
use crate::meetings::MeetingsError;
use crate::patch::PatchError;
use crate::proposal::ProposalError;
use crate::store::StoreError;
use crate::store::backup::BackupError;
use crate::store::files::FileEditError;
use crate::store::jobs::QueueError;
use crate::store::worker::WorkerError;
use crate::workspace::export::ExportError;
use crate::workspace::watch::WatchError;
use crate::workspace::{ImportError, WorkspaceError};

/// The advice that goes with an error: what the user can do next.
pub(crate) trait Hint: std::error::Error {
    fn hint(&self) -> String;
}

/// "what happened; what to do", for a status bar or a job's log line.
pub(crate) fn describe(e: &impl Hint) -> String {
    format!("{e}; {}", e.hint())
}

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Worker(#[from] WorkerError),
    #[error(transparent)]
    FileEdit(#[from] FileEditError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Takeover(#[from] TakeoverError),
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error(transparent)]
    Watch(#[from] WatchError),
    #[error(transparent)]
    Jobs(#[from] JobsError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Patch(#[from] PatchError),
    #[error(transparent)]
    Proposal(#[from] ProposalError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error(transparent)]
    Meetings(#[from] MeetingsError),
    /// Arguments that name nothing kollega knows, or a wrong combination
    /// (exit 2).
    #[error("{message}")]
    Usage { message: String, hint: String },
    /// A well-formed request kollega will not carry out as asked (exit 1).
    #[error("{message}")]
    Refused { message: String, hint: String },
    /// `kollega worker --metrics ADDR` could not listen there.
    #[error("cannot serve metrics on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// The terminal UI asked for a terminal it does not have, or lost it.
    #[error("the terminal: {0}")]
    Terminal(String),
    /// A failure already printed as part of the command's JSON answer: it
    /// only sets the exit code.
    #[error("{0}")]
    Reported(Box<Error>),
    /// Writing the answer failed (a full disk, a closed pipe).
    #[error("cannot write to {what}: {source}")]
    Output {
        what: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub(crate) fn refused(message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::Refused {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub(crate) fn stdout(source: std::io::Error) -> Error {
        Error::Output {
            what: PathBuf::from("stdout"),
            source,
        }
    }

    /// `{"kind", "message", "hint"}`, as `--json` prints a failure.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind(),
            "message": self.to_string(),
            "hint": self.hint(),
        })
    }

    /// Whether it was printed already (as part of a JSON answer).
    pub(crate) fn reported(&self) -> bool {
        matches!(self, Error::Reported(_))
    }

    /// What kind of failure it is, for `--json` readers to match on.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Error::Config(_) => "config",
            Error::Store(_) | Error::Worker(_) => "store",
            Error::FileEdit(_) => "file",
            Error::Import(_) => "import",
            Error::Workspace(_) => "workspace",
            Error::Export(_) => "export",
            Error::Git(_) => "git",
            Error::Takeover(_) => "takeover",
            Error::Github(_) => "github",
            Error::Watch(_) => "watch",
            Error::Jobs(_) | Error::Queue(_) => "jobs",
            Error::Patch(_) | Error::Proposal(_) => "patch",
            Error::Backup(_) => "backup",
            Error::Meetings(_) => "meetings",
            Error::Usage { .. } => "usage",
            Error::Refused { .. } => "refused",
            Error::Listen { .. } => "listen",
            Error::Terminal(_) => "terminal",
            Error::Reported(e) => e.kind(),
            Error::Output { .. } => "output",
        }
    }

    /// 2 for a command line that means nothing, 1 for a failure.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } => 2,
            Error::Meetings(MeetingsError::BadDate { .. } | MeetingsError::BadConsent(_)) => 2,
            Error::Reported(e) => e.exit_code(),
            _ => 1,
        }
    }

    /// What the user can do about it.
    pub(crate) fn hint(&self) -> String {
        match self {
            Error::Config(e) => e.hint(),
            Error::Store(e) => e.hint(),
            Error::Worker(e) => e.hint(),
            Error::FileEdit(e) => e.hint(),
            Error::Import(e) => e.hint(),
            Error::Workspace(e) => e.hint(),
            Error::Export(e) => e.hint(),
            Error::Git(e) => e.hint(),
            Error::Takeover(e) => e.hint(),
            Error::Github(e) => e.hint(),
            Error::Watch(e) => e.hint(),
            Error::Jobs(e) => e.hint(),
            Error::Queue(e) => e.hint(),
            Error::Patch(e) => e.hint(),
            Error::Proposal(e) => e.hint(),
            Error::Backup(e) => e.hint(),
            Error::Meetings(e) => e.hint(),
            Error::Usage { hint, .. } | Error::Refused { hint, .. } => hint.clone(),
            Error::Listen { .. } => {
                "give a free address, like 127.0.0.1:9464, or stop what listens there".into()
            }
            Error::Reported(e) => e.hint(),
            Error::Terminal(_) => {
                "run kollega in a terminal, or use a subcommand (`kollega --help`)".into()
            }
            Error::Output { .. } => "check the disk's free space and where the output goes".into(),
        }
    }
}
