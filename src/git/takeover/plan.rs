//! A takeover's plan: the request resolved (which source, which workspace
//! name, which repository, which remote) and checked before anything is
//! written anywhere.

use std::path::{Path, PathBuf};

use super::TakeoverRequest;
use super::error::TakeoverError;
use super::local::open_repo;
use super::outside::Outside;
use crate::config::Config;
use crate::git::github::{self, GithubApi, RepoName};
use crate::store::workspaces::{StorageType, Workspace};
use crate::store::{self, Store};
use crate::workspace::import::{default_name, validate_name};
use crate::workspace::source::Source;

/// What is taken over.
pub(super) enum Origin {
    Path(Source),
    /// A SQLite workspace being promoted.
    Workspace(Workspace),
}

/// A takeover's inputs, resolved and checked before anything is written.
pub(super) struct Plan {
    pub(super) name: String,
    pub(super) origin: Origin,
    /// `takeovers.source`: the canonical path, or `workspace:<name>`.
    pub(super) source_key: String,
    /// The source as reports, `handoff.json` and the commit message say it.
    pub(super) source_display: String,
    pub(super) repo_path: PathBuf,
    /// The source folder is the repository's work tree.
    pub(super) in_place: bool,
    /// The ready workspace of this name, if any.
    pub(super) existing: Option<Workspace>,
    /// The URL `origin` is set to.
    pub(super) remote: Option<String>,
    /// Push the branch and the tag (always with `--github`).
    pub(super) push: bool,
    pub(super) github: Option<(RepoName, GithubApi)>,
}

impl Plan {
    pub(super) fn repo_str(&self) -> String {
        self.repo_path.to_string_lossy().into_owned()
    }
}

/// Resolves the request into a plan and refuses what cannot work, before
/// anything is written anywhere.
pub(super) fn plan(
    store: &Store,
    config: &Config,
    request: &TakeoverRequest,
    outside: &Outside,
) -> Result<Plan, TakeoverError> {
    if request.remote.is_some() && request.github.is_some() {
        return Err(TakeoverError::Options {
            message: "--remote and --github both set origin; pass one of them".into(),
            hint: "--github OWNER/NAME creates the repository and pushes; --remote URL --push uses one that exists",
        });
    }
    if let Some(url) = &request.remote
        && (url.trim().is_empty() || url.starts_with('-'))
    {
        return Err(TakeoverError::Options {
            message: format!("--remote {url:?} is not a repository URL"),
            hint: "pass a URL such as git@github.com:OWNER/NAME.git or https://…",
        });
    }
    let github = match &request.github {
        Some(value) => {
            let name = RepoName::parse(value)?;
            let mut api = GithubApi::new(
                outside.var(github::API_URL_ENV),
                outside.var(github::TOKEN_ENV),
            )?;
            if let Some(observer) = &request.github_observer {
                api = api.observed_by(observer.clone());
            }
            Some((name, api))
        }
        None => None,
    };

    let as_workspace = if request.source.contains('/') {
        None
    } else {
        store::workspaces::find(&store.conn, &request.source)?
    };
    let repo_path = absolute(&request.repo)?;
    let (origin, name, source_key, source_display, existing) = match as_workspace {
        Some(ws) => {
            if let Some(name) = &request.name
                && name != &ws.name
            {
                return Err(TakeoverError::Options {
                    message: format!(
                        "--name {name:?} cannot rename workspace {:?} while taking it into git",
                        ws.name
                    ),
                    hint: "leave out --name when the source is a workspace",
                });
            }
            let key = format!("workspace:{}", ws.name);
            (
                Origin::Workspace(ws.clone()),
                ws.name.clone(),
                key,
                ws.source.clone(),
                Some(ws),
            )
        }
        None => {
            let path = Path::new(&request.source);
            if std::fs::symlink_metadata(path).is_err() {
                return Err(TakeoverError::NoSource {
                    source_arg: request.source.clone(),
                });
            }
            let source = Source::open(path)?;
            source.validate(&config.limits)?;
            let canonical = path.canonicalize().map_err(|e| TakeoverError::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            let name = match &request.name {
                Some(name) => validate_name(name)?,
                None => validate_name(&default_name(path))?,
            };
            let display = canonical.to_string_lossy().into_owned();
            let existing = store::workspaces::find(&store.conn, &name)?;
            (
                Origin::Path(source),
                name,
                display.clone(),
                display,
                existing,
            )
        }
    };
    if !git2::Reference::is_valid_name(&format!("refs/heads/takeover/{name}/20000101-000000")) {
        return Err(TakeoverError::BadBranchName { name });
    }

    let mut in_place = false;
    if let Origin::Path(source) = &origin {
        let (Source::Dir(p) | Source::Zip(p)) = source;
        let source_path = p.canonicalize().unwrap_or_else(|_| p.clone());
        if source_path == repo_path && matches!(source, Source::Dir(_)) {
            in_place = true;
        } else if repo_path.starts_with(&source_path) {
            return Err(TakeoverError::Overlap {
                source_path,
                repo: repo_path,
                why: "the repository is inside the source",
            });
        } else if source_path.starts_with(&repo_path) {
            return Err(TakeoverError::Overlap {
                source_path,
                repo: repo_path,
                why: "the source is inside the repository's work tree",
            });
        }
    }

    if let Some(ws) = &existing {
        let same_repo = ws.repo_path.as_deref() == Some(&*repo_path.to_string_lossy());
        let refuse = |why: String| TakeoverError::WorkspaceExists {
            name: name.clone(),
            why,
        };
        match (&origin, ws.storage_type) {
            (Origin::Workspace(_), StorageType::Git) | (Origin::Path(_), StorageType::Git)
                if !same_repo =>
            {
                return Err(refuse(format!(
                    "as a git workspace in {}",
                    ws.repo_path.as_deref().unwrap_or("another repository")
                )));
            }
            (Origin::Path(_), StorageType::Sqlite) => {
                return Err(refuse(format!(
                    "as a SQLite workspace (from {}); `kollega takeover {name} --git …` takes that one into git",
                    ws.source
                )));
            }
            _ => {}
        }
    }

    if request.push && request.remote.is_none() && github.is_none() {
        let has_origin =
            open_repo(&repo_path)?.is_some_and(|repo| repo.git().find_remote("origin").is_ok());
        if !has_origin {
            return Err(TakeoverError::Options {
                message: format!(
                    "--push needs a remote, and {} has no origin",
                    repo_path.display()
                ),
                hint: "add --remote URL (or --github OWNER/NAME)",
            });
        }
    }

    Ok(Plan {
        name,
        origin,
        source_key,
        source_display,
        repo_path,
        in_place,
        existing,
        remote: request.remote.clone(),
        push: request.push || github.is_some(),
        github,
    })
}

/// `path` made absolute and, as far as it exists, canonical.
fn absolute(path: &Path) -> Result<PathBuf, TakeoverError> {
    let io = |e| TakeoverError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_err(io)?.join(path)
    };
    // Canonicalize the longest existing ancestor, keep the rest as given.
    let mut existing = joined.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let mut full = canonical;
            for part in rest.iter().rev() {
                full.push(part);
            }
            return Ok(full);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return Ok(joined),
        }
    }
}
