//! Committing the index, and amending HEAD, with libgit2.
//!
//! Every check comes first and changes nothing: no operation in progress,
//! a branch (not a detached HEAD), an unlocked index, an author identity,
//! a message, something staged (or, with `all`, a changed tracked file,
//! staged as `git commit -a` does). The repository's `pre-commit`,
//! `commit-msg` and `post-commit` hooks run as `git commit` runs them
//! (husky and lint-staged live there), unless `verify` is off; a failing
//! hook stops the commit. Messages are cleaned as `git commit -m` cleans
//! them: trailing spaces and surplus blank lines go, `#` lines stay.
//! Not done here: signing (`commit.gpgsign`), `GIT_AUTHOR_DATE`, and the
//! `prepare-commit-msg` hook, which needs an editor.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git2::Signature;

use super::repo::{Person, Repo};
use super::{GitError, REPOSITORY_ENV};

#[derive(Debug, Clone, Default)]
pub(crate) struct CommitRequest<'a> {
    /// Required for a new commit; with `amend`, `None` keeps HEAD's.
    pub(crate) message: Option<&'a str>,
    /// Stage every change to tracked files first (`git commit -a`).
    pub(crate) all: bool,
    /// Replace HEAD, keeping its author and parents.
    pub(crate) amend: bool,
    /// Run the commit hooks (off: `--no-verify`).
    pub(crate) verify: bool,
}

/// The commit that was made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Committed {
    pub(crate) commit: String,
    pub(crate) short_id: String,
    pub(crate) summary: String,
    pub(crate) branch: String,
    pub(crate) amended: bool,
}

pub(crate) fn commit(repo: &Repo, request: &CommitRequest<'_>) -> Result<Committed, GitError> {
    let (branch, identity) = repo.require_ready_to_commit()?;
    let mut message = match request.message {
        Some(text) => Some(clean_message(text)?),
        None if request.amend => None,
        None => return Err(GitError::EmptyMessage),
    };
    let head = repo.head_commit()?;
    if request.amend && head.is_none() {
        return Err(GitError::NothingToAmend { branch });
    }
    let mut index = repo.fresh_index()?;
    if let Some(path) = first_conflict(&index)? {
        return Err(GitError::Conflicted { path });
    }
    if request.all {
        // Pathspec "." matches every tracked file, as `git add -u` from
        // the top of the working tree.
        index.update_all(["."], None)?;
    }
    let tree_id = index.write_tree()?;
    if !request.amend {
        let unchanged = match &head {
            Some(commit) => commit.tree_id() == tree_id,
            None => index.is_empty(),
        };
        if unchanged {
            return Err(GitError::NothingToCommit {
                branch,
                all: request.all,
            });
        }
    }
    if request.all {
        index.write()?;
    }
    let hooks = Hooks::of(repo, request.verify)?;
    let mut tree_id = tree_id;
    if hooks.run(repo, "pre-commit", &[])? {
        // A pre-commit hook may restage files (formatters, lint-staged).
        tree_id = repo.fresh_index()?.write_tree()?;
    }
    if hooks.find("commit-msg").is_some() {
        let text = match &message {
            Some(text) => text.clone(),
            None => head
                .as_ref()
                .map(|c| String::from_utf8_lossy(c.message_bytes()).into_owned())
                .unwrap_or_default(),
        };
        let file = repo.git().path().join("COMMIT_EDITMSG");
        std::fs::write(&file, &text).map_err(|source| GitError::Io {
            action: "write",
            path: file.clone(),
            source,
        })?;
        hooks.run(repo, "commit-msg", &[file.as_os_str()])?;
        let edited = std::fs::read_to_string(&file).map_err(|source| GitError::Io {
            action: "read",
            path: file.clone(),
            source,
        })?;
        if edited != text {
            message = Some(clean_message(&edited)?);
        }
    }
    let tree = repo.git().find_tree(tree_id)?;
    let committer = signature(&identity.committer)?;
    let id = match &head {
        Some(parent) if request.amend => parent.amend(
            Some("HEAD"),
            None,
            Some(&committer),
            None,
            message.as_deref(),
            Some(&tree),
        )?,
        _ => {
            let author = signature(&identity.author)?;
            let parents: Vec<&git2::Commit<'_>> = head.iter().collect();
            repo.git().commit(
                Some("HEAD"),
                &author,
                &committer,
                message.as_deref().unwrap_or_default(),
                &tree,
                &parents,
            )?
        }
    };
    // Git ignores how post-commit ends: the commit is made.
    if let Err(e) = hooks.run(repo, "post-commit", &[]) {
        tracing::warn!(error = %e, "post-commit hook failed");
    }
    let made = repo.git().find_commit(id)?;
    let commit = id.to_string();
    tracing::info!(%commit, branch, amend = request.amend, "committed");
    Ok(Committed {
        short_id: commit[..7].to_string(),
        commit,
        summary: made
            .summary()
            .ok()
            .flatten()
            .unwrap_or_default()
            .to_string(),
        branch,
        amended: request.amend,
    })
}

/// Fails unless a commit can be made now (see [`Repo::require_ready_to_commit`])
/// and the index stages nothing but `paths` (relative to the top of the
/// working tree): a commit of those files must not take the user's other
/// staged work along.
pub(crate) fn require_only_staged(repo: &Repo, paths: &[String]) -> Result<(), GitError> {
    repo.require_ready_to_commit()?;
    let index = repo.fresh_index()?;
    if let Some(path) = first_conflict(&index)? {
        return Err(GitError::Conflicted { path });
    }
    let head = super::stage::head_tree(repo)?;
    let diff = repo
        .git()
        .diff_tree_to_index(head.as_ref(), Some(&index), None)?;
    let wanted: HashSet<&str> = paths.iter().map(String::as_str).collect();
    let others: Vec<String> = diff
        .deltas()
        .filter_map(|d| {
            let path = d.new_file().path().or_else(|| d.old_file().path())?;
            let path = path.to_string_lossy();
            (!wanted.contains(path.as_ref())).then(|| path.into_owned())
        })
        .collect();
    match others.first() {
        Some(path) => Err(GitError::OtherStaged {
            path: path.clone(),
            more: others.len() - 1,
        }),
        None => Ok(()),
    }
}

/// Commits `paths` (relative to the top of the working tree) as the
/// working tree has them, and nothing else, with `message` and the
/// repository's hooks: refused, changing nothing, when anything else is
/// staged. When the commit fails (a hook), `paths` are taken out of the
/// index again.
pub(crate) fn commit_paths(
    repo: &Repo,
    paths: &[String],
    message: &str,
) -> Result<Committed, GitError> {
    require_only_staged(repo, paths)?;
    let mut index = repo.fresh_index()?;
    for path in paths {
        super::stage::stage_into(repo, &mut index, path)?;
    }
    index.write()?;
    let made = commit(
        repo,
        &CommitRequest {
            message: Some(message),
            verify: true,
            ..CommitRequest::default()
        },
    );
    if made.is_err() {
        for path in paths {
            if let Err(e) = super::stage::unstage_path(repo, path) {
                tracing::warn!(path, error = %e, "cannot unstage a file after a failed commit");
            }
        }
    }
    made
}

/// The message as `git commit -m` stores it; empty is refused.
fn clean_message(text: &str) -> Result<String, GitError> {
    let cleaned = git2::message_prettify(text, None)?;
    if cleaned.trim().is_empty() {
        return Err(GitError::EmptyMessage);
    }
    Ok(cleaned)
}

fn signature(person: &Person) -> Result<Signature<'static>, GitError> {
    Ok(Signature::now(&person.name, &person.email)?)
}

fn first_conflict(index: &git2::Index) -> Result<Option<String>, GitError> {
    if !index.has_conflicts() {
        return Ok(None);
    }
    for conflict in index.conflicts()? {
        let conflict = conflict?;
        if let Some(entry) = conflict.our.or(conflict.their).or(conflict.ancestor) {
            return Ok(Some(String::from_utf8_lossy(&entry.path).into_owned()));
        }
    }
    Ok(None)
}

/// Where the repository's hooks live, or nothing when hooks are off.
struct Hooks {
    dir: Option<PathBuf>,
}

impl Hooks {
    fn of(repo: &Repo, verify: bool) -> Result<Hooks, GitError> {
        if !verify {
            return Ok(Hooks { dir: None });
        }
        let config = repo.git().config()?.snapshot()?;
        let dir = match config.get_path("core.hooksPath") {
            // A relative hooksPath is read from the top of the working
            // tree, where git runs hooks.
            Ok(path) if path.is_relative() => repo.workdir().join(path),
            Ok(path) => path,
            Err(_) => repo.git().commondir().join("hooks"),
        };
        Ok(Hooks { dir: Some(dir) })
    }

    /// The hook's file when it exists and is executable; git skips the
    /// others.
    fn find(&self, name: &str) -> Option<PathBuf> {
        let path = self.dir.as_ref()?.join(name);
        let meta = std::fs::metadata(&path).ok()?;
        (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(path)
    }

    /// Runs hook `name` if there is one, as git does: in the top of the
    /// working tree, with `GIT_INDEX_FILE` set and no input. True when it
    /// ran.
    fn run(
        &self,
        repo: &Repo,
        name: &'static str,
        args: &[&std::ffi::OsStr],
    ) -> Result<bool, GitError> {
        let Some(path) = self.find(name) else {
            return Ok(false);
        };
        let mut cmd = Command::new(&path);
        cmd.args(args)
            .current_dir(repo.workdir())
            .stdin(Stdio::null());
        for key in REPOSITORY_ENV {
            cmd.env_remove(key);
        }
        cmd.env("GIT_INDEX_FILE", index_path(repo))
            .env("GIT_EDITOR", ":");
        tracing::debug!(hook = name, "running hook");
        let out = cmd.output().map_err(|source| GitError::Io {
            action: "run",
            path: path.clone(),
            source,
        })?;
        if out.status.success() {
            return Ok(true);
        }
        let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        Err(GitError::HookFailed {
            hook: name,
            status: out.status.to_string(),
            output: last_lines(&output, 20),
        })
    }
}

fn index_path(repo: &Repo) -> PathBuf {
    let path: &Path = repo.git().path();
    path.join("index")
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::super::fixture::TestRepo;
    use super::*;

    fn request(message: &str) -> CommitRequest<'_> {
        CommitRequest {
            message: Some(message),
            verify: true,
            ..CommitRequest::default()
        }
    }

    fn head(repo: &TestRepo) -> String {
        repo.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    fn hook(repo: &TestRepo, name: &str, script: &str) {
        let path = repo.dir.join(".git/hooks").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn commit_of_the_index_is_on_the_branch_with_a_clean_message() {
        let repo = TestRepo::new();
        repo.write("a.txt", "a\n");
        repo.git(&["add", "a.txt"]);
        let opened = Repo::open(repo.path()).unwrap();
        let made = commit(&opened, &request("First  \n\n\n\nbody\n\n")).unwrap();
        assert_eq!(made.branch, "main");
        assert_eq!(made.summary, "First");
        assert_eq!(head(&repo), made.commit);
        assert_eq!(repo.git(&["log", "-1", "--format=%B"]), "First\n\nbody\n\n");
        assert_eq!(
            repo.git(&["log", "-1", "--format=%an <%ae>"]).trim(),
            "Test Author <author@example.com>"
        );
    }

    #[test]
    fn nothing_staged_is_refused_and_all_stages_tracked_changes_only() {
        let repo = TestRepo::new();
        repo.write("a.txt", "a\n");
        repo.commit_all("base");
        repo.write("a.txt", "b\n");
        repo.write("new.txt", "n\n");
        let opened = Repo::open(repo.path()).unwrap();
        let err = commit(&opened, &request("x")).unwrap_err();
        assert!(
            matches!(err, GitError::NothingToCommit { all: false, .. }),
            "{err}"
        );
        let all = CommitRequest {
            all: true,
            ..request("all")
        };
        commit(&opened, &all).unwrap();
        assert_eq!(
            repo.git(&["show", "--format=", "--name-only", "HEAD"]),
            "a.txt\n"
        );
        assert_eq!(repo.git(&["status", "--porcelain"]), "?? new.txt\n");
    }

    #[test]
    fn amend_keeps_the_author_and_optionally_the_message() {
        let repo = TestRepo::new();
        repo.write("a.txt", "a\n");
        repo.commit_all("original");
        let first = head(&repo);
        repo.git(&["config", "user.name", "Someone Else"]);
        repo.write("a.txt", "b\n");
        repo.git(&["add", "a.txt"]);
        let opened = Repo::open(repo.path()).unwrap();
        let amend = CommitRequest {
            message: None,
            amend: true,
            verify: true,
            all: false,
        };
        let made = commit(&opened, &amend).unwrap();
        assert_ne!(made.commit, first);
        assert_eq!(made.summary, "original");
        assert_eq!(
            repo.git(&["log", "--format=%an|%cn|%s"]),
            "Test Author|Someone Else|original\n"
        );
        assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "b\n");
        let reworded = commit(
            &opened,
            &CommitRequest {
                message: Some("reworded"),
                ..amend
            },
        )
        .unwrap();
        assert_eq!(reworded.summary, "reworded");
        assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]).trim(), "1");
    }

    #[test]
    fn failing_pre_commit_hook_stops_the_commit_and_no_verify_skips_it() {
        let repo = TestRepo::new();
        repo.write("a.txt", "a\n");
        repo.commit_all("base");
        let before = head(&repo);
        hook(
            &repo,
            "pre-commit",
            "#!/bin/sh\necho lint failed: a.txt >&2\nexit 1\n",
        );
        repo.write("a.txt", "b\n");
        repo.git(&["add", "a.txt"]);
        let opened = Repo::open(repo.path()).unwrap();
        let err = commit(&opened, &request("x")).unwrap_err();
        assert!(err.to_string().contains("lint failed: a.txt"), "{err}");
        assert_eq!(head(&repo), before);
        let skip = CommitRequest {
            verify: false,
            ..request("x")
        };
        commit(&opened, &skip).unwrap();
        assert_ne!(head(&repo), before);
    }

    #[test]
    fn commit_msg_hook_may_rewrite_the_message() {
        let repo = TestRepo::new();
        repo.write("a.txt", "a\n");
        repo.git(&["add", "a.txt"]);
        hook(
            &repo,
            "commit-msg",
            "#!/bin/sh\nprintf 'feat: %s' \"$(cat \"$1\")\" > \"$1\"\n",
        );
        let opened = Repo::open(repo.path()).unwrap();
        let made = commit(&opened, &request("add a")).unwrap();
        assert_eq!(made.summary, "feat: add a");
    }

    #[test]
    fn pre_commit_hook_that_restages_is_committed() {
        let repo = TestRepo::new();
        repo.write("a.txt", "messy\n");
        repo.git(&["add", "a.txt"]);
        hook(
            &repo,
            "pre-commit",
            "#!/bin/sh\necho tidy > a.txt\ngit add a.txt\n",
        );
        let opened = Repo::open(repo.path()).unwrap();
        commit(&opened, &request("tidy")).unwrap();
        assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "tidy\n");
    }

    #[test]
    fn empty_message_and_amend_without_a_commit_are_refused() {
        let repo = TestRepo::new();
        repo.write("a.txt", "a\n");
        repo.git(&["add", "a.txt"]);
        let opened = Repo::open(repo.path()).unwrap();
        assert!(matches!(
            commit(&opened, &request(" \n\n")).unwrap_err(),
            GitError::EmptyMessage
        ));
        let amend = CommitRequest {
            amend: true,
            ..request("x")
        };
        assert!(matches!(
            commit(&opened, &amend).unwrap_err(),
            GitError::NothingToAmend { .. }
        ));
    }
}
