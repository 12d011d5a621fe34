//! Opening a working tree and checking that it is fit for an operation.
//!
//! [`Repo::open`] refuses what is no working tree at all (not a
//! repository, a bare one). The `require_*` checks refuse the states in
//! which a commit or a write to the index would go wrong: detached HEAD, a
//! merge, rebase or other operation in progress, a locked index, no author
//! identity. They only read; a refusal leaves the repository as it was.
//! Which operation needs which check is decided by its module.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, Repository, RepositoryOpenFlags};

use super::{GitError, Operation};

/// An open, non-bare repository and its working tree.
pub(crate) struct Repo {
    git: Repository,
    workdir: PathBuf,
}

/// A name and an email, as a signature needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person {
    pub(crate) name: String,
    pub(crate) email: String,
}

/// Who a commit is by: the author, and the committer (usually the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) author: Person,
    pub(crate) committer: Person,
}

impl Repo {
    /// Opens the repository holding `path` (which may be a folder inside
    /// the working tree, as for `git -C`).
    pub(crate) fn open(path: &Path) -> Result<Repo, GitError> {
        Repo::open_with(path, RepositoryOpenFlags::empty())
    }

    /// Opens the repository whose working tree is `path` itself, never one
    /// in a parent folder: a takeover into a folder inside another
    /// repository makes a repository of its own there.
    pub(crate) fn open_here(path: &Path) -> Result<Repo, GitError> {
        Repo::open_with(path, RepositoryOpenFlags::NO_SEARCH)
    }

    fn open_with(path: &Path, flags: RepositoryOpenFlags) -> Result<Repo, GitError> {
        let git =
            Repository::open_ext(path, flags, [] as [&OsStr; 0]).map_err(|e| match e.code() {
                ErrorCode::NotFound => GitError::NotARepository {
                    path: path.to_path_buf(),
                },
                ErrorCode::Owner => GitError::NotOwned {
                    path: path.to_path_buf(),
                },
                _ => GitError::Git(e),
            })?;
        Repo::from_git(git)
    }

    /// A libgit2 handle (one just opened or created) as a `Repo`; refuses
    /// a bare repository.
    pub(crate) fn from_git(git: Repository) -> Result<Repo, GitError> {
        let workdir = match git.workdir() {
            // libgit2 ends it with a '/'; messages name the folder without.
            Some(workdir) if !git.is_bare() => workdir.components().collect(),
            _ => {
                return Err(GitError::Bare {
                    path: git.path().to_path_buf(),
                });
            }
        };
        Ok(Repo { git, workdir })
    }

    pub(crate) fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The libgit2 handle, for operations this module has no wrapper for.
    pub(crate) fn git(&self) -> &Repository {
        &self.git
    }

    /// Every check a commit needs, in the order a user fixes them: those
    /// of [`Repo::require_settled`], then who is committing. Returns the
    /// branch name and the identity.
    pub(crate) fn require_ready_to_commit(&self) -> Result<(String, Identity), GitError> {
        let branch = self.require_settled()?;
        let identity = self.identity()?;
        Ok((branch, identity))
    }

    /// What any write to the index and HEAD needs, in the order a user
    /// fixes them: no operation in progress (a rebase also detaches HEAD;
    /// naming the rebase is the useful answer), a branch, an unlocked
    /// index. Returns the branch name.
    pub(crate) fn require_settled(&self) -> Result<String, GitError> {
        self.require_no_operation()?;
        let branch = self.require_branch()?;
        self.require_unlocked_index()?;
        Ok(branch)
    }

    /// The branch HEAD names (it may have no commit yet); refuses a
    /// detached HEAD.
    pub(crate) fn require_branch(&self) -> Result<String, GitError> {
        if self.git.head_detached()? {
            let commit = self
                .git
                .head()?
                .target()
                .map(|id| id.to_string()[..7].to_string())
                .unwrap_or_default();
            return Err(GitError::DetachedHead {
                workdir: self.workdir.clone(),
                commit,
            });
        }
        Ok(self.head_branch()?.unwrap_or_else(|| "HEAD".into()))
    }

    /// Refuses a merge, rebase, cherry-pick, revert, bisect or `git am`
    /// that has started and not finished.
    pub(crate) fn require_no_operation(&self) -> Result<(), GitError> {
        match Operation::of(self.git.state()) {
            Some(operation) => Err(GitError::InProgress {
                workdir: self.workdir.clone(),
                operation,
            }),
            None => Ok(()),
        }
    }

    /// Refuses while `index.lock` exists: another git is writing the
    /// index, or one died and left it. libgit2 would fail too, later and
    /// with a less useful message.
    pub(crate) fn require_unlocked_index(&self) -> Result<(), GitError> {
        let lock = self.git.path().join("index.lock");
        if lock.exists() {
            return Err(GitError::IndexLocked { lock });
        }
        Ok(())
    }

    /// Who commits, found as git finds it, from the environment of this
    /// process and the repository's configuration.
    pub(crate) fn identity(&self) -> Result<Identity, GitError> {
        let config = self.git.config()?.snapshot()?;
        resolve_identity(
            |key| config.get_string(key).ok(),
            |var| std::env::var(var).ok(),
        )
    }

    /// The commit HEAD is at; `None` before the first commit.
    pub(crate) fn head_commit(&self) -> Result<Option<git2::Commit<'_>>, GitError> {
        match self.git.head() {
            Ok(head) => Ok(Some(head.peel_to_commit()?)),
            Err(e) if e.code() == ErrorCode::UnbornBranch || e.code() == ErrorCode::NotFound => {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The index as it is on disk now: libgit2 keeps the one it read
    /// first, and another git may have written since.
    pub(crate) fn fresh_index(&self) -> Result<git2::Index, GitError> {
        let mut index = self.git.index()?;
        index.read(true)?;
        Ok(index)
    }

    /// The branch HEAD points at, even when it has no commit yet; `None`
    /// when HEAD is detached.
    pub(crate) fn head_branch(&self) -> Result<Option<String>, GitError> {
        let head = self.git.find_reference("HEAD")?;
        Ok(head.symbolic_target()?.map(|target| {
            target
                .strip_prefix("refs/heads/")
                .unwrap_or(target)
                .to_string()
        }))
    }
}

/// The identity git would use, from `config` (a key → value lookup) and
/// `env`: `GIT_AUTHOR_NAME`, then `author.name`, then `user.name`; the
/// same for emails, with `EMAIL` last; committers alike. Git would go on
/// to guess from the system account and host name; kollega does not,
/// because those guesses (`root@host.(none)`) end up in history that is
/// hard to rewrite once pushed.
pub(crate) fn resolve_identity(
    config: impl Fn(&str) -> Option<String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Identity, GitError> {
    let pick = |var: &str, keys: &[&str], fallback_env: Option<&str>| {
        env(var)
            .or_else(|| keys.iter().find_map(|k| config(k)))
            .or_else(|| fallback_env.and_then(&env))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let author_name = pick("GIT_AUTHOR_NAME", &["author.name", "user.name"], None);
    let author_email = pick(
        "GIT_AUTHOR_EMAIL",
        &["author.email", "user.email"],
        Some("EMAIL"),
    );
    let committer_name = pick("GIT_COMMITTER_NAME", &["committer.name", "user.name"], None);
    let committer_email = pick(
        "GIT_COMMITTER_EMAIL",
        &["committer.email", "user.email"],
        Some("EMAIL"),
    );
    let mut missing = Vec::new();
    if author_name.is_none() || committer_name.is_none() {
        missing.push("user.name");
    }
    if author_email.is_none() || committer_email.is_none() {
        missing.push("user.email");
    }
    match (author_name, author_email, committer_name, committer_email) {
        (Some(an), Some(ae), Some(cn), Some(ce)) => Ok(Identity {
            author: Person {
                name: an,
                email: ae,
            },
            committer: Person {
                name: cn,
                email: ce,
            },
        }),
        _ => Err(GitError::NoIdentity { missing }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::fixture::TestRepo;
    use super::*;
    use crate::error::Hint;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn identity_prefers_environment_then_author_keys_then_user_keys() {
        let config = lookup(&[
            ("user.name", "User"),
            ("user.email", "user@example.com"),
            ("author.name", "Author"),
        ]);
        let env = lookup(&[("GIT_COMMITTER_EMAIL", "ci@example.com")]);
        let id = resolve_identity(config, env).unwrap();
        assert_eq!(id.author.name, "Author");
        assert_eq!(id.author.email, "user@example.com");
        assert_eq!(id.committer.name, "User");
        assert_eq!(id.committer.email, "ci@example.com");
    }

    #[test]
    fn identity_takes_email_from_the_email_variable_last() {
        let id = resolve_identity(
            lookup(&[("user.name", "U")]),
            lookup(&[("EMAIL", "env@example.com")]),
        )
        .unwrap();
        assert_eq!(id.author.email, "env@example.com");
    }

    #[test]
    fn missing_or_blank_identity_names_both_keys() {
        let err = resolve_identity(lookup(&[("user.name", "  ")]), lookup(&[])).unwrap_err();
        assert!(
            matches!(&err, GitError::NoIdentity { missing } if missing == &["user.name", "user.email"])
        );
        assert_eq!(
            err.to_string(),
            "no author identity: user.name and user.email are not set; nothing was committed"
        );
        assert!(err.hint().contains("git config --global user.name"));
    }

    #[test]
    fn open_finds_the_repository_from_a_subfolder() {
        let repo = TestRepo::new();
        repo.write("src/a.txt", "a\n");
        let opened = Repo::open(&repo.dir.join("src")).unwrap();
        assert_eq!(
            opened.workdir().canonicalize().unwrap(),
            repo.dir.canonicalize().unwrap()
        );
    }

    #[test]
    fn detached_head_is_refused_with_its_commit() {
        let repo = TestRepo::new();
        repo.write("a", "1\n");
        repo.commit_all("one");
        repo.git(&["switch", "-q", "--detach"]);
        let err = Repo::open(repo.path())
            .unwrap()
            .require_branch()
            .unwrap_err();
        assert!(matches!(err, GitError::DetachedHead { .. }), "{err}");
    }
}
