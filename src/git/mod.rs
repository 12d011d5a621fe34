//! Git working trees: open and check a repository (`repo`), read its
//! status (`status`), stage and unstage files and hunks (`stage`), commit
//! (`commit`), push and pull (`remote`), take an import over into git
//! (`takeover`, `github`). Following changes on disk is
//! `workspace::watch`'s job: it watches plain folders too.
//!
//! Local work goes through libgit2 (git2, built without network
//! transports) except the status refresh, which reads `git status
//! --porcelain=v2`: git has the fsmonitor, the untracked cache and the
//! threads libgit2 lacks on big trees (figures in `status`). Anything that talks
//! to a remote runs the `git` program, so the user's credential helpers
//! and SSH agent work as they do in a shell. Every call blocks: the
//! terminal UI runs them on workers, never on its own task.
//!
//! Refusals change nothing: a bad state (not a repository, bare, detached
//! HEAD, a merge or rebase in progress, a locked index, no identity) is a
//! [`GitError`] naming the state and the command that fixes it, raised
//! before anything is written.

pub(crate) mod commit;
pub(crate) mod github;
pub(crate) mod pack;
pub(crate) mod remote;
pub(crate) mod repo;
pub(crate) mod stage;
pub(crate) mod status;
pub(crate) mod takeover;

use crate::error::Hint;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::patch::PatchError;

/// Variables that point git at another repository. A kollega started from
/// a git hook inherits them; the `git` it runs must see the repository
/// libgit2 opened, nothing else.
const REPOSITORY_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
];

/// The `git` program, run in `workdir`, with paths printed as they are
/// (`core.quotepath=false`), no colour and no input.
pub(crate) fn git_command(workdir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(workdir)
        .args(["-c", "core.quotepath=false", "-c", "color.ui=false"])
        .stdin(Stdio::null());
    for key in REPOSITORY_ENV {
        cmd.env_remove(key);
    }
    cmd
}

/// An operation git has started and not finished; commits wait for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Merge,
    Rebase,
    CherryPick,
    Revert,
    Bisect,
    ApplyMailbox,
}

impl Operation {
    /// The operation of a repository state; `None` when nothing is in
    /// progress.
    pub(crate) fn of(state: git2::RepositoryState) -> Option<Operation> {
        use git2::RepositoryState as S;
        match state {
            S::Clean => None,
            S::Merge => Some(Operation::Merge),
            S::Revert | S::RevertSequence => Some(Operation::Revert),
            S::CherryPick | S::CherryPickSequence => Some(Operation::CherryPick),
            S::Bisect => Some(Operation::Bisect),
            S::Rebase | S::RebaseInteractive | S::RebaseMerge => Some(Operation::Rebase),
            S::ApplyMailbox | S::ApplyMailboxOrRebase => Some(Operation::ApplyMailbox),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Operation::Merge => "merge",
            Operation::Rebase => "rebase",
            Operation::CherryPick => "cherry-pick",
            Operation::Revert => "revert",
            Operation::Bisect => "bisect",
            Operation::ApplyMailbox => "am",
        }
    }

    fn fix(self) -> &'static str {
        match self {
            Operation::Merge => {
                "resolve the conflicts and finish it with `git commit`, or abort it with `git merge --abort`"
            }
            Operation::Rebase => {
                "finish it with `git rebase --continue` or abort it with `git rebase --abort`"
            }
            Operation::CherryPick => {
                "finish it with `git cherry-pick --continue` or abort it with `git cherry-pick --abort`"
            }
            Operation::Revert => {
                "finish it with `git revert --continue` or abort it with `git revert --abort`"
            }
            Operation::Bisect => "end it with `git bisect reset`",
            Operation::ApplyMailbox => {
                "finish it with `git am --continue` or abort it with `git am --abort`"
            }
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let article = if *self == Operation::ApplyMailbox {
            "an"
        } else {
            "a"
        };
        write!(f, "{article} {}", self.name())
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum GitError {
    #[error("{path} is not a folder")]
    NotAFolder { path: PathBuf },
    #[error("{path} is not in a git repository")]
    NotARepository { path: PathBuf },
    #[error(
        "the repository at {path} belongs to another user, and git refuses repositories it does not trust"
    )]
    NotOwned { path: PathBuf },
    #[error("{path} is a bare repository: it has no working tree to edit")]
    Bare { path: PathBuf },
    #[error(
        "HEAD is detached at {commit} in {workdir}: a commit here would be on no branch; nothing was changed"
    )]
    DetachedHead { workdir: PathBuf, commit: String },
    #[error("{operation} is in progress in {workdir}; nothing was changed")]
    InProgress {
        workdir: PathBuf,
        operation: Operation,
    },
    #[error("the index is locked: {lock} exists; nothing was changed")]
    IndexLocked { lock: PathBuf },
    #[error("no author identity: {} not set; nothing was committed", missing_list(.missing))]
    NoIdentity { missing: Vec<&'static str> },
    #[error("the commit message is empty; nothing was committed")]
    EmptyMessage,
    #[error("nothing is staged to commit on {branch}")]
    NothingToCommit { branch: String, all: bool },
    #[error("{path}{} staged in the index: the apply's commit would take that work along; nothing was changed", others(*.more))]
    OtherStaged { path: String, more: usize },
    #[error("{branch} has no commit to amend yet")]
    NothingToAmend { branch: String },
    #[error("{path} has unresolved conflicts")]
    Conflicted { path: String },
    #[error("{path} is binary: its hunks cannot be staged one by one")]
    Binary { path: String },
    #[error("the hunk no longer applies to {path} in {place}: {message}")]
    HunkDoesNotApply {
        path: String,
        place: &'static str,
        message: String,
    },
    #[error("the {hook} hook failed ({status}); nothing was committed{}", hook_output(.output))]
    HookFailed {
        hook: &'static str,
        status: String,
        output: String,
    },
    #[error("cannot run `git`: {source}")]
    GitMissing { source: std::io::Error },
    #[error("`{command}` failed ({status}): {stderr}")]
    GitFailed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("`git status` printed a record kollega cannot read: {record:?}")]
    StatusFormat { record: String },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Patch(#[from] PatchError),
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
}

fn missing_list(missing: &[&str]) -> String {
    match missing {
        [one] => format!("{one} is"),
        many => format!("{} are", many.join(" and ")),
    }
}

fn others(more: usize) -> String {
    match more {
        0 => " is".into(),
        1 => " and 1 other file are".into(),
        n => format!(" and {n} other files are"),
    }
}

fn hook_output(output: &str) -> String {
    let output = output.trim_end();
    if output.is_empty() {
        String::new()
    } else {
        format!(":\n{output}")
    }
}

impl Hint for GitError {
    fn hint(&self) -> String {
        match self {
            GitError::NotAFolder { .. } => {
                "pass the folder of a git working tree (naming a git workspace comes with git workspaces)".into()
            }
            GitError::NotARepository { path } => format!(
                "pass the folder of a git working tree, or make one with `git init {}`",
                path.display()
            ),
            GitError::NotOwned { .. } => {
                "if you trust it, run `git config --global --add safe.directory DIR` with DIR the repository's top folder".into()
            }
            GitError::Bare { path } => format!(
                "clone it into a working tree with `git clone {} DIR` and pass DIR",
                path.display()
            ),
            GitError::DetachedHead { .. } => {
                "switch to a branch with `git switch BRANCH`, or keep this work on a new one with `git switch -c NEW-BRANCH`".into()
            }
            GitError::InProgress { operation, .. } => operation.fix().into(),
            GitError::IndexLocked { lock } => format!(
                "another git process is using the repository; wait for it, or if no git is running remove {}",
                lock.display()
            ),
            GitError::NoIdentity { missing } => {
                let mut fixes = Vec::new();
                if missing.contains(&"user.name") {
                    fixes.push("git config --global user.name \"Your Name\"");
                }
                if missing.contains(&"user.email") {
                    fixes.push("git config --global user.email you@example.com");
                }
                format!(
                    "tell git who you are: `{}` (without --global for this repository only)",
                    fixes.join("` and `")
                )
            }
            GitError::EmptyMessage => "pass a message with -m \"…\"".into(),
            GitError::NothingToCommit { all: false, .. } => {
                "stage changes first, or pass --all to commit every change to tracked files".into()
            }
            GitError::NothingToCommit { all: true, .. } => {
                "no tracked file changed; new files need staging first (`git add PATH`)".into()
            }
            GitError::NothingToAmend { .. } => "make a first commit without --amend".into(),
            GitError::OtherStaged { .. } => {
                "commit them first, or unstage them with `git restore --staged PATH`; or leave out --commit".into()
            }
            GitError::Conflicted { path } => format!(
                "edit out the conflict markers in {path}, then stage the whole file"
            ),
            GitError::Binary { .. } => "stage or unstage the whole file".into(),
            GitError::HunkDoesNotApply { .. } => {
                "the file changed since its diff was shown; refresh the diff and try again".into()
            }
            GitError::HookFailed { .. } => {
                "fix what the hook reports and commit again, or skip hooks with --no-verify".into()
            }
            GitError::GitMissing { .. } => {
                "install git and make sure `git` is on PATH (`kollega doctor` checks)".into()
            }
            GitError::GitFailed { .. } => "run the command in a shell to see more".into(),
            GitError::StatusFormat { .. } => {
                "run `git status` to check the repository; please report this with `git --version`".into()
            }
            GitError::Io { .. } => "check the path and its permissions".into(),
            GitError::Patch(e) => e.hint(),
            GitError::Git(_) => "run `git status` in the repository to see its state".into(),
        }
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    //! Real repositories in temporary folders, built with the `git`
    //! program under a private HOME so no user or system configuration
    //! leaks in.

    use std::path::{Path, PathBuf};
    use std::process::Command;

    pub(crate) struct TestRepo {
        _root: tempfile::TempDir,
        pub(crate) home: PathBuf,
        pub(crate) dir: PathBuf,
    }

    impl TestRepo {
        /// An empty repository on branch `main` with an identity in its
        /// own config.
        pub(crate) fn new() -> TestRepo {
            let root = tempfile::tempdir().expect("temp dir");
            let home = root.path().join("home");
            let dir = root.path().join("repo");
            std::fs::create_dir_all(&home).expect("home");
            std::fs::create_dir_all(&dir).expect("repo dir");
            let repo = TestRepo {
                _root: root,
                home,
                dir,
            };
            repo.git(&["init", "-q", "-b", "main"]);
            repo.git(&["config", "user.name", "Test Author"]);
            repo.git(&["config", "user.email", "author@example.com"]);
            repo
        }

        pub(crate) fn command(&self, args: &[&str]) -> Command {
            let mut cmd = Command::new("git");
            cmd.current_dir(&self.dir)
                .args(args)
                .env("HOME", &self.home)
                .env("XDG_CONFIG_HOME", self.home.join(".config"))
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("LC_ALL", "C");
            for key in [
                "GIT_DIR",
                "GIT_WORK_TREE",
                "GIT_INDEX_FILE",
                "GIT_AUTHOR_NAME",
                "GIT_AUTHOR_EMAIL",
                "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL",
                "EMAIL",
            ] {
                cmd.env_remove(key);
            }
            cmd
        }

        /// Runs git and returns stdout; panics with stderr on failure.
        pub(crate) fn git(&self, args: &[&str]) -> String {
            let out = self.command(args).output().expect("run git");
            assert!(
                out.status.success(),
                "git {args:?} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        }

        pub(crate) fn write(&self, path: &str, content: &str) {
            let target = self.dir.join(path);
            std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
            std::fs::write(target, content).expect("write");
        }

        pub(crate) fn read(&self, path: &str) -> String {
            std::fs::read_to_string(self.dir.join(path)).expect("read")
        }

        pub(crate) fn commit_all(&self, message: &str) {
            self.git(&["add", "-A"]);
            self.git(&["commit", "-q", "-m", message]);
        }

        pub(crate) fn path(&self) -> &Path {
            &self.dir
        }
    }

    /// `n` numbered lines, `line 1\n` … `line n\n`.
    pub(crate) fn numbered(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }
}
