//! `kollega watch`: regulation pages and feeds watched for changes, their
//! stored versions and the diff between two. The fetching is
//! `meetings::watch`'s `watch` job, run by a worker or the TUI.

use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use serde_json::json;

use super::output::{print_json, printable};
use crate::error::Error;
use crate::meetings::watch;
use crate::store::Store;
use crate::store::meetings::watches;

#[derive(Debug, Subcommand)]
pub(crate) enum WatchCommand {
    /// Watch a page or an RSS/Atom feed for changes
    #[command(
        after_help = "Examples:\n  kollega watch add https://eur-lex.europa.eu/EN/display-feed.rss\n  \
                      kollega watch add https://example.gov/rules/ai-act --every 1d --json\n\n\
                      A worker or the TUI fetches it when its period is up (asking whether it \
                      changed), keeps each content that differs as a new version and retries a \
                      failed fetch with backoff."
    )]
    Add {
        /// An http(s) address
        url: String,
        /// How often to look (m, h, d, w)
        #[arg(long, default_value = "6h", value_parser = every)]
        every: Duration,
        /// Print JSON: {id, url, everySeconds}
        #[arg(long)]
        json: bool,
    },
    /// The watches with their versions, last look and last error
    #[command(after_help = "Examples:\n  kollega watch ls\n  kollega watch ls --json")]
    Ls {
        /// Print JSON: [{id, url, everyS, lastFetchedAt, lastError, createdAt, versions}]
        #[arg(long)]
        json: bool,
    },
    /// A watch's versions
    #[command(after_help = "Examples:\n  kollega watch show 2\n  kollega watch show 2 --json")]
    Show {
        id: i64,
        /// Print JSON: {watch, versions: [{id, fetchedAt, lines, contentHash}]}
        #[arg(long)]
        json: bool,
    },
    /// What changed between two versions (the last two unless named)
    #[command(
        after_help = "Examples:\n  kollega watch diff 2\n  kollega watch diff 2 --from 5 --to 9"
    )]
    Diff {
        id: i64,
        /// The older version's id
        #[arg(long)]
        from: Option<i64>,
        /// The newer version's id
        #[arg(long)]
        to: Option<i64>,
        /// Print JSON: {watch, from, to, diff}
        #[arg(long)]
        json: bool,
    },
    /// Stop watching (its versions are deleted)
    #[command(after_help = "Examples:\n  kollega watch rm 2")]
    Rm {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

/// `--every`: five minutes to a year.
fn every(text: &str) -> Result<Duration, String> {
    crate::config::duration(
        text,
        Duration::from_secs(300),
        Duration::from_secs(365 * 86_400),
    )
}

impl WatchCommand {
    pub(crate) fn json(&self) -> bool {
        match self {
            WatchCommand::Add { json, .. }
            | WatchCommand::Ls { json }
            | WatchCommand::Show { json, .. }
            | WatchCommand::Diff { json, .. }
            | WatchCommand::Rm { json, .. } => *json,
        }
    }

    pub(crate) fn only_reads(&self) -> bool {
        matches!(
            self,
            WatchCommand::Ls { .. } | WatchCommand::Show { .. } | WatchCommand::Diff { .. }
        )
    }
}

fn unknown(id: i64) -> Error {
    Error::refused(
        format!("no watch {id}"),
        "`kollega watch ls` lists the watches with their ids",
    )
}

/// Runs one of the verbs above.
pub(super) fn dispatch(store: &mut Store, command: WatchCommand) -> Result<ExitCode, Error> {
    let conn = &store.conn;
    match command {
        WatchCommand::Add { url, every, json } => {
            let url = watch::url_of(&url)?;
            let secs = i64::try_from(every.as_secs()).unwrap_or(i64::MAX);
            let id = watches::add(conn, &url, secs, crate::jobs::now_ms())?.ok_or_else(|| {
                Error::refused(
                    format!("{url} is watched already"),
                    "`kollega watch ls` shows it; `kollega watch rm ID` first to change its period",
                )
            })?;
            if json {
                print_json(&json!({ "id": id, "url": url, "everySeconds": secs }))?;
            } else {
                println!(
                    "watch {id}: {} every {}; a worker or the TUI fetches it",
                    printable(&url),
                    crate::jobs::format_duration(secs.saturating_mul(1000))
                );
            }
        }
        WatchCommand::Ls { json } => {
            let list = watches::list(conn)?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("Nothing watched. `kollega watch add URL` watches a page or feed.");
            } else {
                for w in &list {
                    let last = w
                        .last_fetched_at
                        .map(crate::jobs::format_ms)
                        .unwrap_or_else(|| "not yet".into());
                    println!(
                        "{:>4}  every {:<6}  {:>3} version(s)  last {last}  {}",
                        w.id,
                        crate::jobs::format_duration(w.every_s.saturating_mul(1000)),
                        w.versions,
                        printable(&w.url)
                    );
                    if let Some(e) = &w.last_error {
                        println!("      last error: {}", printable(e));
                    }
                }
            }
        }
        WatchCommand::Show { id, json } => {
            let w = watches::get(conn, id)?.ok_or_else(|| unknown(id))?;
            let versions = watches::versions(conn, id)?;
            if json {
                let list: Vec<_> = versions
                    .iter()
                    .map(|v| {
                        json!({
                            "id": v.id,
                            "fetchedAt": crate::jobs::format_ms(v.fetched_at),
                            "lines": v.content.lines().count(),
                            "contentHash": v.content_hash,
                        })
                    })
                    .collect();
                print_json(&json!({ "watch": w, "versions": list }))?;
            } else {
                println!("watch {id}: {}", printable(&w.url));
                if let Some(e) = &w.last_error {
                    println!("  last error: {}", printable(e));
                }
                for v in &versions {
                    println!(
                        "  version {:>4}  {}  {} lines",
                        v.id,
                        crate::jobs::format_ms(v.fetched_at),
                        v.content.lines().count()
                    );
                }
                if versions.is_empty() {
                    println!("  no version yet");
                }
            }
        }
        WatchCommand::Diff { id, from, to, json } => {
            watches::get(conn, id)?.ok_or_else(|| unknown(id))?;
            let versions = watches::versions(conn, id)?;
            let pick = |want: Option<i64>, default: Option<usize>| {
                match want {
                    Some(v) => versions.iter().find(|x| x.id == v),
                    None => default.and_then(|i| versions.get(i)),
                }
                .ok_or_else(|| {
                    Error::refused(
                        format!(
                            "watch {id} has no version {}",
                            want.map_or("to compare".into(), |v| v.to_string())
                        ),
                        format!("`kollega watch show {id}` lists its versions"),
                    )
                })
            };
            let n = versions.len();
            let new = pick(to, n.checked_sub(1))?;
            let old = pick(from, n.checked_sub(2))?;
            let diff = watch::diff(&old.content, &new.content, &format!("watch-{id}"));
            if json {
                print_json(&json!({ "watch": id, "from": old.id, "to": new.id, "diff": diff }))?;
            } else if diff.is_empty() {
                println!("versions {} and {} are the same", old.id, new.id);
            } else {
                print!("{}", printable(&diff));
            }
        }
        WatchCommand::Rm { id, json } => {
            if !watches::remove(conn, id)? {
                return Err(unknown(id));
            }
            if json {
                print_json(&json!({ "removed": id }))?;
            } else {
                println!("watch {id} removed with its versions");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
