//! The verbs of a meeting's AI work and of the store's safety copies:
//! `meetings brief` (a `brief` job in the foreground, or queued with
//! `--detach`; a verb of `cli::meetings`' `MeetingsCommand`), `backup` and
//! `restore`. The work itself is
//! `meetings::brief` and `store::backup`.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use super::output::{print_json, printable};
use crate::config::Config;
use crate::error::Error;
use crate::jobs::payload::JobPayload;
use crate::meetings::brief::BriefPayload;
use crate::store::{Store, backup, meetings};

/// `kollega meetings brief`'s help after the options.
pub(super) const BRIEF_HELP: &str = "Examples:\n  kollega meetings brief 12 --pre\n  \
                      kollega meetings brief 12 --post --json\n  \
                      kollega meetings brief 12 --post --detach\n\n\
                      Consent basic sends the calendar's details only (title, times, place, \
                      people, description) and has no post-brief; plus adds notes, transcripts, \
                      decisions and actions; legal adds flags for obligations, deadlines and \
                      contract terms. A post-brief's decisions and actions are added to the \
                      meeting, marked as the model's.";

#[derive(Debug, Args)]
pub(crate) struct BriefArgs {
    /// The meeting's id (`kollega meetings` lists them)
    pub(crate) id: i64,
    /// Before the meeting: agenda, what to prepare, open actions of the people, earlier decisions
    #[arg(long, conflicts_with = "post", required_unless_present = "post")]
    pub(crate) pre: bool,
    /// After it: summary, decisions, actions (and legal flags under consent legal)
    #[arg(long)]
    pub(crate) post: bool,
    /// openai, anthropic or compat [default: ai.provider]
    #[arg(long)]
    pub(crate) provider: Option<String>,
    /// The model [default: the provider's, or ai.NAME.model]
    #[arg(long)]
    pub(crate) model: Option<String>,
    /// Queue it for a worker or the TUI and print the job's id
    #[arg(long)]
    pub(crate) detach: bool,
    /// Print JSON: {meeting, kind, briefId, brief, usage, jobId}
    #[arg(long)]
    pub(crate) json: bool,
}

/// `kollega meetings expect`'s help after the options.
pub(super) const EXPECT_HELP: &str = "Examples:\n  kollega meetings expect 12 ~/Recordings/standup.vtt\n  \
                      kollega meetings expect 12 https://recorder.example.com/t/abc.srt --json\n\n\
                      A `transcript` job looks for it at the meeting's end (WebVTT, SubRip or plain \
                      text), then 10, 30 and 90 minutes later. Found, it is read into the store. \
                      Not found after the fourth try, the meeting's transcript is marked missing and, \
                      under consent plus or legal, a post-brief of the notes is queued. Run a worker \
                      (`kollega worker`) or the TUI for the jobs to run.";

#[derive(Debug, Args)]
pub(crate) struct ExpectArgs {
    /// The meeting's id (`kollega meetings` lists them)
    pub(crate) id: i64,
    /// A file path, or an http(s) URL, where the transcript will appear
    pub(crate) source: String,
    /// Print JSON: {meeting, source, jobId, firstTry}
    #[arg(long)]
    pub(crate) json: bool,
}

/// `kollega meetings expect ID SOURCE`.
pub(super) fn expect(store: &mut Store, args: &ExpectArgs) -> Result<ExitCode, Error> {
    let cwd = std::env::current_dir().map_err(|e| {
        Error::refused(
            format!("cannot read the current folder: {e}"),
            "run kollega from a folder that exists, or give an absolute path",
        )
    })?;
    let source = crate::meetings::expect::source_of(&args.source, &cwd)?;
    let now = crate::jobs::now_ms();
    let (job, first) = crate::meetings::expect::expect(&mut store.conn, args.id, &source, now)?
        .ok_or(crate::meetings::MeetingsError::UnknownMeeting(args.id))?;
    tracing::info!(meeting = args.id, job, "transcript expected");
    if args.json {
        print_json(&json!({
            "meeting": args.id,
            "source": source,
            "jobId": job,
            "firstTry": crate::jobs::format_ms(first),
        }))?;
    } else {
        println!(
            "meeting {}: transcript expected at {}; job {job} looks for it at {} (a worker or the TUI runs it)",
            args.id,
            printable(&source),
            crate::jobs::format_ms(first)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What `meetings show` adds of this file's concerns: the expected
/// transcript, the latest briefs with what the meeting's model calls cost,
/// and which decisions and actions a model wrote (JSON keys, text lines).
pub(super) fn shown(
    conn: &rusqlite::Connection,
    m: &meetings::MeetingRow,
) -> Result<(Value, Vec<String>), Error> {
    use crate::store::meetings::actions;
    use crate::store::meetings::briefs::{self, BriefKind};
    let mut lines = Vec::new();
    if let Some(said) = crate::meetings::expect::shown(m) {
        lines.push(printable(&said).into_owned());
    }
    let mut latest = serde_json::Map::new();
    for kind in [BriefKind::Pre, BriefKind::Post] {
        if let Some(b) = briefs::latest(conn, m.id, kind)? {
            lines.push(format!(
                "{}-brief {} of {} (prompt {}; `kollega meetings brief {} --{}` asks again)",
                kind.as_str(),
                b.id,
                crate::jobs::format_ms(b.created_at),
                b.prompt_version,
                m.id,
                kind.as_str()
            ));
            let brief: Value = serde_json::from_str(&b.json).unwrap_or(Value::Null);
            latest.insert(
                kind.as_str().to_string(),
                json!({ "id": b.id, "promptVersion": b.prompt_version, "brief": brief }),
            );
        }
    }
    let usage = briefs::usage(conn, m.id)?;
    if usage.calls > 0 {
        lines.push(format!(
            "model calls {}: {} tokens in, {} out, ${:.4}",
            usage.calls,
            usage.input_tokens,
            usage.output_tokens,
            usage.cost_micros as f64 / 1e6
        ));
    }
    let (decisions, actions) = briefs::model_items(conn, m.id)?;
    if !decisions.is_empty() || !actions.is_empty() {
        lines.push(format!(
            "written by the model: decisions {decisions:?}, actions {actions:?}"
        ));
    }
    let items = actions::list(
        conn,
        &actions::ActionFilter {
            meeting_id: Some(m.id),
            ..actions::ActionFilter::default()
        },
    )?;
    let mut nudged = Vec::new();
    for item in &items {
        let log = actions::nudges(conn, item.id)?;
        let Some(last) = log.last() else { continue };
        let badges = log.iter().filter(|n| n.channel == "badge").count();
        let mut line = format!(
            "action {} nudged {badges} time(s), last {}",
            item.id,
            crate::jobs::format_ms(last.at)
        );
        if let Some(dead) = log.iter().rev().find(|n| n.outcome == "dead") {
            line.push_str(&format!(
                "; the webhook gave up: {}",
                printable(dead.error.as_deref().unwrap_or("no reason"))
            ));
        }
        lines.push(line);
        nudged.extend(log.iter().map(|n| {
            json!({
                "action": n.action_id,
                "at": crate::jobs::format_ms(n.at),
                "channel": n.channel,
                "outcome": n.outcome,
                "error": n.error,
            })
        }));
    }
    let (module_answers, module_lines) = super::modules::shown(conn, m.id)?;
    lines.extend(module_lines);
    let value = json!({
        "moduleAnswers": module_answers,
        "nudges": nudged,
        "transcriptExpected": m.transcript_source.as_ref().map(|source| json!({
            "source": source,
            "state": m.transcript_state,
            "tries": m.transcript_attempts,
        })),
        "processing": m.processing.as_str(),
        "briefs": latest,
        "usage": usage,
        "fromModel": { "decisions": decisions, "actions": actions },
    });
    Ok((value, lines))
}

/// `kollega meetings brief ID --pre|--post`.
pub(super) fn brief(
    config: &Config,
    mut store: Store,
    args: &BriefArgs,
) -> Result<ExitCode, Error> {
    if let Some(p) = &args.provider
        && !matches!(p.as_str(), "openai" | "anthropic" | "compat")
    {
        return Err(Error::usage(
            format!("no provider {p:?}"),
            "pick openai, anthropic or compat",
        ));
    }
    let kind = if args.pre { "pre" } else { "post" };
    let meeting = meetings::get(&store.conn, args.id)?
        .ok_or(crate::meetings::MeetingsError::UnknownMeeting(args.id))?;
    if kind == "post" && !crate::meetings::material::allows_text(meeting.consent) {
        return Err(Error::refused(
            format!(
                "meeting {}'s consent is basic: no note or transcript of it may reach a model, so there is nothing to write a post-brief from",
                args.id
            ),
            format!("`kollega meetings consent {} plus` allows it", args.id),
        ));
    }
    let payload = BriefPayload {
        meeting: args.id,
        kind: kind.into(),
        provider: args.provider.clone(),
        model: args.model.clone(),
    };
    let new = payload.job(None);
    if args.detach {
        let id = crate::jobs::queue::enqueue(&mut store.conn, &new, crate::jobs::now_ms())?;
        if args.json {
            print_json(&json!({ "jobId": id, "meeting": args.id, "kind": kind }))?;
        } else {
            println!(
                "job {id}: {kind}-brief of meeting {}; `kollega jobs log {id} --follow` shows it",
                args.id
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let what = format!("{kind}-brief of {}", printable(&meeting.title));
    let Some(done) = super::jobs::answered(config, store, &new, &what)? else {
        return Ok(ExitCode::from(130));
    };
    if args.json {
        return done.print_json();
    }
    print_brief(&done.result);
    Ok(ExitCode::SUCCESS)
}

/// A brief as text: its lists, then what it cost.
fn print_brief(result: &Value) {
    let brief = &result["brief"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str())
                    .map(|s| printable(s).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let action = |a: &Value| {
        let mut line = printable(a["text"].as_str().unwrap_or_default()).into_owned();
        if let Some(owner) = a["owner"].as_str() {
            line.push_str(&format!(" (owner: {})", printable(owner)));
        }
        if let Some(due) = a["due"].as_str() {
            line.push_str(&format!(" (due {due})"));
        }
        line
    };
    let section = |title: &str, items: Vec<String>| {
        if !items.is_empty() {
            println!("{title}:");
            for item in items {
                println!("  - {item}");
            }
        }
    };
    if let Some(summary) = brief["summary"].as_str() {
        println!("{}\n", printable(summary));
    }
    section("Agenda", strings(&brief["agenda"]));
    section("Prepare", strings(&brief["prepare"]));
    let list = |key: &str| -> Vec<String> {
        brief[key]
            .as_array()
            .map(|a| a.iter().map(action).collect())
            .unwrap_or_default()
    };
    section("Open actions", list("openActions"));
    section("Earlier decisions", strings(&brief["earlierDecisions"]));
    section("Decisions (added)", strings(&brief["decisions"]));
    section("Actions (added)", list("actions"));
    let flags: Vec<String> = brief["legalFlags"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| format!("[{}] {}", f["kind"].as_str().unwrap_or("flag"), action(f)))
                .collect()
        })
        .unwrap_or_default();
    section("Legal flags (for review, not legal advice)", flags);
    let usage = &result["usage"];
    println!(
        "meeting {}: {} call(s), {} tokens in, {} out, ${:.4} in all",
        result["meeting"],
        usage["calls"],
        usage["inputTokens"],
        usage["outputTokens"],
        usage["costUsd"].as_f64().unwrap_or(0.0)
    );
}

/// `kollega backup FILE`.
pub(super) fn backup(
    store: &Store,
    file: &Path,
    force: bool,
    json: bool,
) -> Result<ExitCode, Error> {
    let copied = backup::backup(&store.conn, file, force)?;
    if json {
        print_json(&copied)?;
    } else {
        println!(
            "backed up the store to {} ({} bytes, schema {})",
            copied.path.display(),
            copied.bytes,
            copied.schema_version
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `kollega restore FILE --yes`.
pub(super) fn restore(
    config: &Config,
    store: &mut Store,
    file: &Path,
    yes: bool,
    json: bool,
) -> Result<ExitCode, Error> {
    let version = backup::check(file)?;
    if !yes {
        return Err(Error::refused(
            format!(
                "restoring {} (schema {version}) replaces everything in the store",
                file.display()
            ),
            format!(
                "run `kollega restore {} --yes`; a copy of the store as it is now is kept under backups/",
                file.display()
            ),
        ));
    }
    let restored = backup::restore(store, &config.data_dir, file, crate::jobs::now_ms())?;
    if json {
        print_json(&restored)?;
    } else {
        println!(
            "restored the store from {} (schema {}); the store before is kept at {}",
            restored.path.display(),
            restored.schema_version,
            restored
                .previous
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
