//! AI verbs: `ask` (a model's answer as a patch to review, run as a job in
//! the foreground) and `usage` (what the calls cost). The job itself is
//! `ai::ask`; here it is started and what it ended with is printed.

use std::process::ExitCode;

use serde_json::{Value, json};

use super::args::AskArgs;
use super::output::{Align, Table, print_json, printable};
use crate::ai::usage;
use crate::config::Config;
use crate::error::Error;
use crate::jobs::kinds::resolve_place;
use crate::jobs::payload::{AskPayload, JobPayload};
use crate::store::{Store, conversations};

/// `kollega ask`.
pub(super) fn ask(config: &Config, store: Store, args: &AskArgs) -> Result<ExitCode, Error> {
    let place = resolve_place(&store, &args.workspace)?;
    let conversation = if args.continue_ {
        let key = crate::ai::ask::workspace_key(&place);
        let latest = conversations::latest(&store.conn, &key)?.ok_or_else(|| Error::Refused {
            message: format!("{} has no conversation to continue", place.workspace()),
            hint: "ask without --continue to start one".into(),
        })?;
        Some(latest.id)
    } else {
        None
    };
    let payload = AskPayload {
        prompt: args.prompt.clone(),
        files: args.file.clone(),
        provider: args.provider.clone(),
        model: args.model.clone(),
        conversation,
        format: None,
    };
    if payload.prompt.trim().is_empty() {
        return Err(Error::Usage {
            message: "the prompt is empty".into(),
            hint: "say what to change: kollega ask WS \"rename foo to bar\"".into(),
        });
    }
    run_ask(config, store, &place, payload, args.json)
}

/// `kollega jobs fix ID`: the model is asked to fix what a failed build or
/// test complains about, with the log's tail and the files it names.
pub(super) fn fix(
    config: &Config,
    store: Store,
    id: i64,
    provider: Option<String>,
    model: Option<String>,
    json: bool,
) -> Result<ExitCode, Error> {
    let fix = crate::ai::fix::for_job(&store, id)
        .map_err(|e| Error::refused(e.to_string(), crate::error::Hint::hint(&e)))?;
    let place = resolve_place(&store, &fix.workspace)?;
    if !json {
        eprintln!(
            "kollega: asking to fix job {id} with {} file(s): {}",
            fix.request.files.len(),
            fix.request.files.join(", ")
        );
    }
    let payload = AskPayload {
        prompt: fix.request.prompt,
        files: fix.request.files,
        provider,
        model,
        conversation: None,
        format: None,
    };
    run_ask(config, store, &place, payload, json)
}

/// `kollega patch regenerate ID`: the rejected hunks go back to the model
/// with their reasons, in the patch's conversation, for a new patch.
pub(super) fn regenerate(
    config: &Config,
    store: Store,
    id: i64,
    provider: Option<String>,
    model: Option<String>,
    json: bool,
) -> Result<ExitCode, Error> {
    let proposal = crate::proposal::load(&store, id)?;
    let Some(prompt) = crate::ai::feedback::prompt(&proposal.patch, &proposal.decisions) else {
        return Err(Error::refused(
            format!("patch {id} has no rejected hunk to ask for again"),
            format!(
                "reject what should change first: kollega patch reject {id} --hunks N --reason \"…\""
            ),
        ));
    };
    let target = crate::proposal::Target::from_key(&store, &proposal.row.workspace_key)?;
    let place = resolve_place(&store, target.label())?;
    let files = crate::ai::feedback::rejected_files(&proposal.patch, &proposal.decisions);
    let payload = AskPayload {
        prompt,
        files,
        provider,
        model,
        conversation: proposal.row.conversation_id,
        format: None,
    };
    run_ask(config, store, &place, payload, json)
}

/// Runs an ask job in the foreground and prints what it ended with.
fn run_ask(
    config: &Config,
    store: Store,
    place: &crate::jobs::kinds::Place,
    payload: AskPayload,
    json: bool,
) -> Result<ExitCode, Error> {
    let new = payload.job(Some(place.workspace()));
    let what = format!("ask {}", place.workspace());
    let Some(done) = super::jobs::answered(config, store, &new, &what)? else {
        return Ok(ExitCode::from(130));
    };
    let (job_id, result) = (done.job_id, done.result);
    if json {
        print_json(&json!({
            "patchId": result["patchId"],
            "files": result["files"],
            "hunks": result["hunks"],
            "usage": result["usage"],
            "conversationId": result["conversationId"],
            "jobId": job_id,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let usage = &result["usage"];
    let cost = match usage["costUsd"].as_f64() {
        Some(cost) => format!("${cost:.4}"),
        None => "cost unknown".into(),
    };
    match result["patchId"].as_i64() {
        Some(id) => println!(
            "patch {id}: {} file(s), {} hunk(s) to review; `kollega review {id}` opens it",
            result["files"], result["hunks"]
        ),
        None => println!("no edits in the answer (it is in `kollega jobs log {job_id}`)"),
    }
    println!(
        "{} tokens in ({} cached), {} out, {cost}",
        usage["inputTokens"], usage["cachedTokens"], usage["outputTokens"]
    );
    Ok(ExitCode::SUCCESS)
}

/// `kollega usage`.
pub(super) fn usage(store: &Store, json: bool) -> Result<ExitCode, Error> {
    let report = usage::report(&store.conn)?;
    if json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let total = &report["total"];
    if total["requests"].as_i64().unwrap_or(0) == 0 {
        println!("no model calls yet");
        return Ok(ExitCode::SUCCESS);
    }
    let columns = [
        ("REQUESTS", Align::Right(8)),
        ("IN", Align::Right(10)),
        ("CACHED", Align::Right(10)),
        ("OUT", Align::Right(10)),
        ("COST", Align::Right(10)),
    ];
    let mut rows: Vec<(Vec<String>, String)> = Vec::new();
    let mut row = |name: String, t: &Value| {
        let unpriced = t["unpricedRequests"].as_i64().unwrap_or(0);
        let cost = format!(
            "${:.4}{}",
            t["costUsd"].as_f64().unwrap_or(0.0),
            if unpriced > 0 { "+" } else { "" }
        );
        rows.push((
            vec![
                t["requests"].to_string(),
                t["inputTokens"].to_string(),
                t["cachedTokens"].to_string(),
                t["outputTokens"].to_string(),
                cost,
            ],
            printable(&name).into_owned(),
        ));
    };
    row("total".into(), total);
    let list = |name: &str| report[name].as_array().cloned().unwrap_or_default();
    for w in list("workspaces") {
        row(
            format!("workspace {}", w["workspace"].as_str().unwrap_or("")),
            &w,
        );
    }
    for m in list("models") {
        row(
            format!(
                "{} {}",
                m["provider"].as_str().unwrap_or(""),
                m["model"].as_str().unwrap_or("")
            ),
            &m,
        );
    }
    for s in list("sessions") {
        row(
            format!("session {}", s["session"].as_str().unwrap_or("")),
            &s,
        );
    }
    Table::new(&columns, "GROUP").print(rows);
    if total["unpricedRequests"].as_i64().unwrap_or(0) > 0 {
        println!(
            "+: some calls were of models without a price; add them to pricing.toml in the config directory"
        );
    }
    Ok(ExitCode::SUCCESS)
}
