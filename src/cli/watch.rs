//! `kollega watch`: regulation pages and feeds watched for changes, their
//! stored versions and the diff between two, and the optional AI summary
//! of each change. The fetching is `meetings::watch`'s `watch` job, run by
//! a worker or the TUI; a summary is its `watch-summary` job, queued by a
//! fetch or run here by `watch summarize ID --version V`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use serde_json::json;

use super::output::{print_json, printable};
use crate::config::Config;
use crate::error::Error;
use crate::jobs::payload::JobPayload;
use crate::meetings::watch;
use crate::store::Store;
use crate::store::meetings::watches::{self, VersionRow};

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
        /// Summarize each change with the configured model ([ai] provider)
        #[arg(long)]
        summarize: bool,
        /// Print JSON: {id, url, everySeconds, summarize}
        #[arg(long)]
        json: bool,
    },
    /// The watches with their versions, last look and last error
    #[command(after_help = "Examples:\n  kollega watch ls\n  kollega watch ls --json")]
    Ls {
        /// Print JSON: [{id, url, everyS, lastFetchedAt, lastError, createdAt, versions, summarize}]
        #[arg(long)]
        json: bool,
    },
    /// A watch's versions
    #[command(after_help = "Examples:\n  kollega watch show 2\n  kollega watch show 2 --json")]
    Show {
        id: i64,
        /// Print JSON: {watch, versions: [{id, fetchedAt, lines, contentHash, summary, summaryCall}]}
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
        /// Print JSON: {watch, from, to, diff, summary}
        #[arg(long)]
        json: bool,
    },
    /// Turn the AI summary of each change on or off, or summarize one version's change now
    #[command(
        after_help = "Examples:\n  kollega watch summarize 2 on\n  kollega watch summarize 2 off\n  \
                      kollega watch summarize 2 --version 9\n  \
                      kollega watch summarize 2 --version 9 --provider anthropic --json\n\n\
                      With summaries on, each new version after the first gets a summary of its \
                      change from the model [ai] provider names (what changed, what it may oblige \
                      a team to do), asked by a worker or the TUI. --version asks for one now and \
                      waits for it (again, if it has one).",
        group(clap::ArgGroup::new("what").required(true).args(["state", "version"]))
    )]
    Summarize {
        id: i64,
        /// on or off: whether each new version gets a summary
        #[arg(value_parser = ["on", "off"])]
        state: Option<String>,
        /// Summarize this version's change from the one before, now
        #[arg(long, value_name = "V")]
        version: Option<i64>,
        /// openai, anthropic or compat [default: ai.provider]
        #[arg(long, requires = "version")]
        provider: Option<String>,
        /// The model [default: the provider's, or ai.NAME.model]
        #[arg(long, requires = "version")]
        model: Option<String>,
        /// Print JSON: {id, summarize} or the summary job's result
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
            | WatchCommand::Summarize { json, .. }
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

/// Refuses turning summaries on when no provider can be asked: the
/// configured one's key is missing (or its base URL is bad).
fn summaries_possible(config: &Config) -> Result<(), Error> {
    let env: crate::ai::ask::Env = std::sync::Arc::new(|name| std::env::var(name).ok());
    watch::summaries_possible(&config.ai, &env).map_err(|why| {
        Error::refused(
            format!("summaries need a model provider, and none can be asked: {why}"),
            "set the provider's key (or `[ai] provider = \"compat\"` with a local server), or watch without --summarize",
        )
    })
}

/// What `watch show` prints of a version: its line, then its summary
/// (indented), if it has one.
pub(crate) fn version_lines(v: &VersionRow) -> Vec<String> {
    let mut lines = vec![format!(
        "  version {:>4}  {}  {} lines",
        v.id,
        crate::jobs::format_ms(v.fetched_at),
        v.content.lines().count()
    )];
    if let Some(summary) = &v.summary {
        let by = v
            .summary_call
            .as_ref()
            .map(|c| format!(" ({} {}, {})", c.provider, c.model, c.prompt_version))
            .unwrap_or_default();
        lines.push(format!("    summary of the change{by}:"));
        lines.extend(summary.lines().map(|l| format!("      {}", printable(l))));
    }
    lines
}

/// Runs one of the verbs above.
pub(super) fn dispatch(
    config: &Config,
    mut store: Store,
    command: WatchCommand,
) -> Result<ExitCode, Error> {
    let conn = &store.conn;
    match command {
        WatchCommand::Add {
            url,
            every,
            summarize,
            json,
        } => {
            let url = watch::url_of(&url)?;
            if summarize {
                summaries_possible(config)?;
            }
            let secs = i64::try_from(every.as_secs()).unwrap_or(i64::MAX);
            let tx = store
                .conn
                .transaction()
                .map_err(crate::store::StoreError::from)?;
            let id = watches::add(&tx, &url, secs, crate::jobs::now_ms())?.ok_or_else(|| {
                Error::refused(
                    format!("{url} is watched already"),
                    "`kollega watch ls` shows it; `kollega watch rm ID` first to change its period",
                )
            })?;
            watches::set_summarize(&tx, id, summarize)?;
            tx.commit().map_err(crate::store::StoreError::from)?;
            if json {
                print_json(
                    &json!({ "id": id, "url": url, "everySeconds": secs, "summarize": summarize }),
                )?;
            } else {
                println!(
                    "watch {id}: {} every {}{}; a worker or the TUI fetches it",
                    printable(&url),
                    crate::jobs::format_duration(secs.saturating_mul(1000)),
                    if summarize {
                        ", each change summarized"
                    } else {
                        ""
                    }
                );
            }
        }
        WatchCommand::Summarize {
            id,
            state,
            version,
            provider,
            model,
            json,
        } => return summarize(config, store, id, state, version, provider, model, json),
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
                        "{:>4}  every {:<6}  {:>3} version(s)  last {last}  {}{}",
                        w.id,
                        crate::jobs::format_duration(w.every_s.saturating_mul(1000)),
                        w.versions,
                        printable(&w.url),
                        if w.summarize { "  (summarized)" } else { "" }
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
                            "summary": v.summary,
                            "summaryCall": v.summary_call,
                        })
                    })
                    .collect();
                print_json(&json!({ "watch": w, "versions": list }))?;
            } else {
                println!("watch {id}: {}", printable(&w.url));
                if let Some(e) = &w.last_error {
                    println!("  last error: {}", printable(e));
                }
                for line in versions.iter().flat_map(version_lines) {
                    println!("{line}");
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
                print_json(&json!({
                    "watch": id,
                    "from": old.id,
                    "to": new.id,
                    "diff": diff,
                    "summary": new.summary,
                }))?;
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

/// `kollega watch summarize ID on|off` and `--version V`.
#[expect(clippy::too_many_arguments, reason = "one verb's flags, read once")]
fn summarize(
    config: &Config,
    store: Store,
    id: i64,
    state: Option<String>,
    version: Option<i64>,
    provider: Option<String>,
    model: Option<String>,
    json: bool,
) -> Result<ExitCode, Error> {
    let w = watches::get(&store.conn, id)?.ok_or_else(|| unknown(id))?;
    if let Some(p) = &provider
        && !matches!(p.as_str(), "openai" | "anthropic" | "compat")
    {
        return Err(Error::usage(
            format!("no provider {p:?}"),
            "pick openai, anthropic or compat",
        ));
    }
    let Some(version) = version else {
        let on = state.as_deref() == Some("on");
        if on {
            summaries_possible(config)?;
        }
        watches::set_summarize(&store.conn, id, on)?;
        if json {
            print_json(&json!({ "id": id, "summarize": on }))?;
        } else if on {
            println!(
                "watch {id}: each new version's change is summarized from now on; `kollega watch summarize {id} --version V` asks for one already stored"
            );
        } else {
            println!("watch {id}: changes are no longer summarized; summaries kept stay");
        }
        return Ok(ExitCode::SUCCESS);
    };
    match watches::with_previous(&store.conn, id, version)? {
        None => {
            return Err(Error::refused(
                format!("watch {id} has no version {version}"),
                format!("`kollega watch show {id}` lists its versions"),
            ));
        }
        Some((None, _)) => {
            return Err(Error::refused(
                format!("version {version} is watch {id}'s first: there is no change to summarize"),
                format!("`kollega watch show {id}` lists its versions; pick a later one"),
            ));
        }
        Some((Some(_), _)) => {}
    }
    if provider.is_none() {
        summaries_possible(config)?;
    }
    let payload = watch::SummaryPayload {
        watch: id,
        version,
        provider,
        model,
    };
    let what = format!(
        "summary of version {version} of {}",
        printable(&crate::meetings::import::shown_url(&w.url))
    );
    let Some(done) = super::jobs::answered(config, store, &payload.job(None), &what)? else {
        return Ok(ExitCode::from(130));
    };
    if json {
        return done.print_json();
    }
    let result = done.result;
    println!(
        "{}",
        printable(result["summary"].as_str().unwrap_or_default())
    );
    println!(
        "\nversion {version} of watch {id} (prompt {}); {} input, {} output tokens",
        result["promptVersion"].as_str().unwrap_or_default(),
        result["usage"]["inputTokens"],
        result["usage"]["outputTokens"]
    );
    Ok(ExitCode::SUCCESS)
}
