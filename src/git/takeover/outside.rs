//! What a takeover reads from outside its request (environment variables,
//! git's configuration, the clock), in one place, so tests can give each
//! run a sandbox of its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use git2::Repository;
use time::OffsetDateTime;

use crate::git::github;

/// What a takeover reads from outside its request: a few environment
/// variables, where git's global configuration lives, the environment of
/// the `git` processes it starts, and the time. The process's own in
/// production; tests give each run a sandbox so parallel tests and the
/// developer's git setup never meet, and set the clock instead of waiting
/// for it.
#[derive(Clone, Default)]
pub(super) struct Outside {
    pub(super) vars: HashMap<String, String>,
    /// A home folder standing in for `$HOME`: git's global configuration is
    /// read from it only, and `git` processes run with it and without the
    /// system configuration.
    pub(super) sandbox_home: Option<PathBuf>,
    /// The time a takeover starts at, standing in for the clock.
    pub(super) now: Option<OffsetDateTime>,
}

/// The variables a takeover reads.
const VARS: &[&str] = &[
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "EMAIL",
    github::TOKEN_ENV,
    github::API_URL_ENV,
];

impl Outside {
    pub(super) fn from_process() -> Outside {
        let vars = VARS
            .iter()
            .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
            .collect();
        Outside {
            vars,
            ..Outside::default()
        }
    }

    /// The time now, in whole seconds: a takeover's branch, tag and commit
    /// carry it, and a rerun must write the very same objects again.
    pub(super) fn now(&self) -> OffsetDateTime {
        let now = self.now.unwrap_or_else(OffsetDateTime::now_utc);
        now.replace_nanosecond(0).unwrap_or(now)
    }

    pub(super) fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// git's configuration as a commit in `repo` (or a new repository) sees it.
    pub(super) fn git_config(
        &self,
        repo: Option<&Repository>,
    ) -> Result<git2::Config, git2::Error> {
        match &self.sandbox_home {
            None => match repo {
                Some(repo) => repo.config(),
                None => git2::Config::open_default(),
            },
            Some(home) => {
                let mut config = git2::Config::new()?;
                let global = home.join(".gitconfig");
                if global.is_file() {
                    config.add_file(&global, git2::ConfigLevel::Global, false)?;
                }
                if let Some(repo) = repo {
                    config.add_file(
                        &repo.path().join("config"),
                        git2::ConfigLevel::Local,
                        false,
                    )?;
                }
                Ok(config)
            }
        }
    }

    /// `git` in `repo`, with the sandbox's environment if any.
    pub(super) fn git(&self, repo: &Path) -> Command {
        let mut cmd = crate::git::git_command(repo);
        if let Some(home) = &self.sandbox_home {
            cmd.env("HOME", home)
                .env("XDG_CONFIG_HOME", home.join(".config"))
                .env("GIT_CONFIG_NOSYSTEM", "1");
        }
        cmd
    }
}
