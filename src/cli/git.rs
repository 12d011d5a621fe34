//! Git verbs: `takeover` (an export into a repository), `git status`,
//! `git commit`, and `git push`/`git pull`, which run as jobs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::args::{GitCommand, TakeoverArgs};
use super::output::{human_bytes, print_json, print_secret_hint, printable, rule_note};
use crate::config::Config;
use crate::error::Error;
use crate::git::GitError;
use crate::git::commit::{CommitRequest, commit};
use crate::git::github::{RequestObserver, RequestRecord};
use crate::git::repo::Repo;
use crate::git::status::{RepoStatus, StatusOptions, read};
use crate::git::takeover::{TakeoverRequest, TakeoverStatus, takeover as take_over};
use crate::metrics::record_request;
use crate::store::{Store, workspaces};

/// `kollega takeover SOURCE --git DIR`.
pub(super) fn takeover(
    store: &mut Store,
    config: &Config,
    args: &TakeoverArgs,
) -> Result<ExitCode, Error> {
    let request = TakeoverRequest {
        source: args.source.clone(),
        repo: args.git.clone(),
        name: args.name.clone(),
        respect_gitignore: args.respect_gitignore,
        remote: args.remote.clone(),
        push: args.push,
        github: args.github.clone(),
        github_observer: store.path().parent().map(count_github_requests),
    };
    let mut report = take_over(store, config, &request)?;
    // A failed push or GitHub call keeps the local result: report it, then
    // fail with the reason.
    let remote_failure = report.remote_failure.take().map(Error::from);
    if args.json {
        // One JSON object: the local result, and the failure beside it.
        let mut value =
            serde_json::to_value(&report).map_err(|e| Error::stdout(std::io::Error::other(e)))?;
        if let (Some(e), Some(object)) = (&remote_failure, value.as_object_mut()) {
            object.insert("error".into(), e.to_json());
        }
        print_json(&value)?;
        if let Some(e) = remote_failure {
            return Err(Error::Reported(Box::new(e)));
        }
    } else {
        let verb = match report.status {
            TakeoverStatus::AlreadyTakenOver => "already taken over",
            TakeoverStatus::Resumed => "took over (finished an interrupted takeover)",
            TakeoverStatus::TakenOver => "took over",
        };
        println!(
            "{verb} {} into {}",
            report.summary.workspace,
            printable(report.summary.repo_path.as_deref().unwrap_or_default())
        );
        println!("  branch      {}", report.branch);
        println!("  tag         {}", report.tag);
        println!("  commit      {}", report.commit);
        println!(
            "  files       {} ({})",
            report.summary.files_count,
            human_bytes(report.summary.bytes)
        );
        println!("  skipped     {}", report.summary.skipped.len());
        for entry in &report.summary.skipped {
            println!(
                "    {:<12} {}{}",
                entry.reason,
                printable(&entry.path),
                rule_note(entry)
            );
        }
        print_secret_hint(&report.summary.skipped);
        if let Some(remote) = &report.remote {
            println!(
                "  remote      {}{}",
                printable(remote),
                if report.pushed { " (pushed)" } else { "" }
            );
        }
    }
    match remote_failure {
        Some(e) => Err(e),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Counts each request to GitHub's API in the store of `data_dir`, for
/// `kollega metrics`. The observer runs on a thread of its own, so it opens
/// its own connection; a failure to count is logged, never fatal.
fn count_github_requests(data_dir: &Path) -> RequestObserver {
    let data_dir = data_dir.to_path_buf();
    RequestObserver::new(move |request: RequestRecord| {
        let counted = Store::open(&data_dir)
            .map_err(Error::from)
            .and_then(|store| {
                record_request(&store.conn, "github", &request.outcome, request.seconds)
                    .map_err(Error::from)
            });
        if let Err(e) = counted {
            tracing::warn!(error = %e, "cannot count a GitHub request");
        }
    })
}

/// The working tree of a git workspace named `target`, else the folder.
fn folder(store: &Store, target: &str) -> Result<PathBuf, Error> {
    if let Some(repo) = workspaces::find(&store.conn, target)?.and_then(|ws| ws.repo_path) {
        return Ok(PathBuf::from(repo));
    }
    let path = Path::new(target);
    if path.is_dir() {
        Ok(path.to_path_buf())
    } else {
        Err(GitError::NotAFolder {
            path: path.to_path_buf(),
        }
        .into())
    }
}

/// `kollega git …`.
pub(super) fn dispatch(
    config: &Config,
    store: Store,
    command: GitCommand,
) -> Result<ExitCode, Error> {
    match command {
        GitCommand::Status {
            target,
            ignored,
            json,
        } => {
            let repo = Repo::open(&folder(&store, &target)?)?;
            let status = read(repo.workdir(), StatusOptions { ignored })?;
            if json {
                print_json(&status.report())?;
            } else {
                print_status(&status);
            }
        }
        GitCommand::Commit(args) => {
            let repo = Repo::open(&folder(&store, &args.target)?)?;
            let made = commit(
                &repo,
                &CommitRequest {
                    message: args.message.as_deref(),
                    all: args.all,
                    amend: args.amend,
                    verify: !args.no_verify,
                },
            )?;
            if args.json {
                print_json(&made)?;
            } else {
                println!(
                    "{} {} on {}: {}",
                    if made.amended { "amended" } else { "committed" },
                    made.short_id,
                    made.branch,
                    printable(&made.summary)
                );
            }
        }
        command @ (GitCommand::Push { .. } | GitCommand::Pull { .. }) => {
            return super::jobs::git_job(config, store, command);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_status(status: &RepoStatus) {
    let b = &status.branch;
    let short = |oid: &Option<String>| oid.as_deref().map(|o| o[..o.len().min(7)].to_string());
    match (&b.head, short(&b.oid)) {
        (Some(head), None) => println!("on {}, no commits yet", printable(head)),
        (Some(head), Some(_)) => match &b.upstream {
            Some(up) => println!(
                "on {}, tracking {} (ahead {}, behind {})",
                printable(head),
                printable(up),
                b.ahead,
                b.behind
            ),
            None => println!("on {}, no upstream", printable(head)),
        },
        (None, oid) => println!("HEAD detached at {}", oid.unwrap_or_default()),
    }
    if status.entries.is_empty() {
        println!("nothing changed");
        return;
    }
    for e in &status.entries {
        let xy = if e.untracked {
            "??".to_string()
        } else if e.ignored {
            "!!".to_string()
        } else {
            format!("{}{}", e.index.code(), e.worktree.code())
        };
        match &e.orig_path {
            Some(orig) => println!(
                "{xy}  {:<10}  {} <- {}",
                e.marker().as_str(),
                printable(&e.path),
                printable(orig)
            ),
            None => println!("{xy}  {:<10}  {}", e.marker().as_str(), printable(&e.path)),
        }
    }
}
