//! `kollega modules ls|on|off` (which prompt-pack modules are on for a
//! workspace, kept in `meeting_modules` under the workspace's key) and
//! `kollega meetings module` (a `module` job in the foreground). The work
//! itself is `meetings::modules`.

use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::output::{print_json, printable};
use crate::config::Config;
use crate::error::Error;
use crate::jobs::payload::JobPayload;
use crate::meetings::modules::answer::{self, Stored};
use crate::meetings::modules::{self, MODULES, Module, ModulePayload};
use crate::store::Store;
use crate::store::meetings::{self, modules as rows};

/// The workspace option's help, shared by the verbs.
const WORKSPACE: &str = "Workspace name, or a folder [default: the current folder]";

#[derive(Debug, Subcommand)]
pub(crate) enum ModulesCommand {
    /// Each module, its prompt version, and whether it is on for the workspace
    #[command(
        after_help = "Examples:\n  kollega modules ls\n  kollega modules ls --workspace acme --json"
    )]
    Ls {
        #[arg(long, value_name = "WS-OR-DIR", help = WORKSPACE)]
        workspace: Option<String>,
        /// Print JSON: [{name, about, promptVersion, on}]
        #[arg(long)]
        json: bool,
    },
    /// Turn a module on for the workspace
    #[command(
        after_help = "Examples:\n  kollega modules on copilot\n  kollega modules on procurement --workspace acme"
    )]
    On {
        /// copilot or procurement
        name: String,
        #[arg(long, value_name = "WS-OR-DIR", help = WORKSPACE)]
        workspace: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Turn a module off for the workspace
    #[command(after_help = "Examples:\n  kollega modules off copilot")]
    Off {
        /// copilot or procurement
        name: String,
        #[arg(long, value_name = "WS-OR-DIR", help = WORKSPACE)]
        workspace: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

impl ModulesCommand {
    pub(crate) fn json(&self) -> bool {
        match self {
            ModulesCommand::Ls { json, .. }
            | ModulesCommand::On { json, .. }
            | ModulesCommand::Off { json, .. } => *json,
        }
    }

    pub(crate) fn only_reads(&self) -> bool {
        matches!(self, ModulesCommand::Ls { .. })
    }
}

/// The key of the workspace named by `--workspace` (a name or a folder;
/// the current folder when absent), and how to show it.
fn workspace_key(store: &Store, workspace: Option<&str>) -> Result<String, Error> {
    let place = crate::jobs::kinds::resolve_place(store, workspace.unwrap_or("."))?;
    Ok(crate::ai::ask::workspace_key(&place))
}

/// The module called `name`, or a usage error listing them.
fn module(name: &str) -> Result<Module, Error> {
    modules::find(name).ok_or_else(|| {
        Error::usage(
            format!("there is no module {name:?}"),
            format!(
                "pick one of {}; `kollega modules ls` lists them",
                modules::names()
            ),
        )
    })
}

/// `kollega modules ...`.
pub(super) fn dispatch(store: &mut Store, command: ModulesCommand) -> Result<ExitCode, Error> {
    match command {
        ModulesCommand::Ls { workspace, json } => {
            let key = workspace_key(store, workspace.as_deref())?;
            let mut list = Vec::new();
            for m in MODULES {
                let on = rows::enabled(&store.conn, &key, m.name)?;
                list.push(json!({
                    "name": m.name,
                    "about": m.about,
                    "promptVersion": m.version,
                    "on": on,
                }));
            }
            if json {
                print_json(&json!({ "workspace": key, "modules": list }))?;
            } else {
                println!("modules for {}", printable(&key));
                for m in &list {
                    println!(
                        "  {:<12} {:<3} {:<24} {}",
                        m["name"].as_str().unwrap_or_default(),
                        if m["on"] == true { "on" } else { "off" },
                        m["promptVersion"].as_str().unwrap_or_default(),
                        m["about"].as_str().unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModulesCommand::On {
            name,
            workspace,
            json,
        } => switch(store, &name, workspace.as_deref(), true, json),
        ModulesCommand::Off {
            name,
            workspace,
            json,
        } => switch(store, &name, workspace.as_deref(), false, json),
    }
}

fn switch(
    store: &mut Store,
    name: &str,
    workspace: Option<&str>,
    on: bool,
    json: bool,
) -> Result<ExitCode, Error> {
    let m = module(name)?;
    let key = workspace_key(store, workspace)?;
    let changed = rows::set(&store.conn, &key, m.name, on, crate::jobs::now_ms())?;
    let state = if on { "on" } else { "off" };
    if json {
        print_json(&json!({ "workspace": key, "module": m.name, "on": on, "changed": changed }))?;
    } else if changed {
        println!("module {} is {state} for {}", m.name, printable(&key));
    } else {
        println!(
            "module {} was already {state} for {}",
            m.name,
            printable(&key)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `kollega meetings module`'s help after the options.
pub(super) const MODULE_HELP: &str = "Examples:\n  kollega meetings module 12 copilot --doc offer.txt --ask \"What is the delivery date?\"\n  \
                      kollega meetings module 12 procurement --doc tender.txt --criteria criteria.txt --json\n\n\
                      The module must be on for the workspace (`kollega modules on NAME`). Consent basic \
                      lets no document text reach a model, so it is refused; plus sends the document \
                      (lines numbered, for citing) and the question or criteria; legal adds, for \
                      procurement, flags for obligations, deadlines and contract terms. The answer is \
                      kept with the meeting (`kollega meetings show ID`).";

#[derive(Debug, Args)]
pub(crate) struct ModuleArgs {
    /// The meeting's id (`kollega meetings` lists them)
    pub(crate) id: i64,
    /// copilot or procurement
    pub(crate) name: String,
    /// The document (UTF-8 text)
    #[arg(long, value_name = "FILE")]
    pub(crate) doc: String,
    /// The question about the document (copilot)
    #[arg(
        long,
        conflicts_with = "criteria",
        required_unless_present = "criteria"
    )]
    pub(crate) ask: Option<String>,
    /// A file of criteria, one a line (procurement)
    #[arg(long, value_name = "FILE")]
    pub(crate) criteria: Option<String>,
    #[arg(long, value_name = "WS-OR-DIR", help = WORKSPACE)]
    pub(crate) workspace: Option<String>,
    /// openai, anthropic or compat [default: ai.provider]
    #[arg(long)]
    pub(crate) provider: Option<String>,
    /// The model [default: the provider's, or ai.NAME.model]
    #[arg(long)]
    pub(crate) model: Option<String>,
    /// Print JSON: {meeting, module, answerId, answer, promptVersion, aiCallId, calls, repaired, flagsDropped, outOfRangeLines, usage, jobId}
    #[arg(long)]
    pub(crate) json: bool,
}

/// An absolute path of the readable file `path` (`what` names it).
fn file(path: &str, what: &str) -> Result<String, Error> {
    let found = Path::new(path).canonicalize().ok().filter(|p| p.is_file());
    found.map(|p| p.display().to_string()).ok_or_else(|| {
        Error::usage(
            format!("the {what} {} is not a readable file", printable(path)),
            "give the path of a text file",
        )
    })
}

/// `kollega meetings module ID NAME --doc FILE --ask Q | --criteria FILE`.
pub(super) fn run(config: &Config, store: Store, args: &ModuleArgs) -> Result<ExitCode, Error> {
    let m = module(&args.name)?;
    let meeting = meetings::get(&store.conn, args.id)?
        .ok_or(crate::meetings::MeetingsError::UnknownMeeting(args.id))?;
    let key = workspace_key(&store, args.workspace.as_deref())?;
    if !rows::enabled(&store.conn, &key, m.name)? {
        let flag = args
            .workspace
            .as_deref()
            .map(|w| format!(" --workspace {}", printable(w)))
            .unwrap_or_default();
        return Err(Error::refused(
            format!("module {} is off for {}", m.name, printable(&key)),
            format!("`kollega modules on {}{flag}` turns it on", m.name),
        ));
    }
    if let Some((message, hint)) = modules::consent_refusal(args.id, meeting.consent) {
        return Err(Error::refused(message, hint));
    }
    let payload = ModulePayload {
        meeting: args.id,
        module: m.name.to_string(),
        workspace: key,
        doc: file(&args.doc, "document")?,
        ask: args.ask.clone(),
        criteria: args
            .criteria
            .as_deref()
            .map(|c| file(c, "criteria file"))
            .transpose()?,
        provider: args.provider.clone(),
        model: args.model.clone(),
    };
    let what = format!("module {} on meeting {}", m.name, printable(&meeting.title));
    let Some(done) = super::jobs::answered(config, store, &payload.job(None), &what)? else {
        return Ok(ExitCode::from(130));
    };
    if args.json {
        return done.print_json();
    }
    let result = done.result;
    let module_name = result["module"].as_str().unwrap_or_default();
    let version = result["promptVersion"].as_str().unwrap_or_default();
    let stored = Stored::of(module_name, version, &result["answer"].to_string());
    for line in answer::lines(&stored) {
        println!("{}", printable(&answer::plain(&line)));
    }
    if let Some(n) = result["flagsDropped"].as_u64().filter(|n| *n > 0) {
        println!(
            "\n{n} flag(s) left out: flags are kept only under consent legal (`kollega meetings consent {} legal`)",
            args.id
        );
    }
    print_cost(&result);
    Ok(ExitCode::SUCCESS)
}

fn print_cost(result: &Value) {
    let usage = &result["usage"];
    println!(
        "\n{} (prompt {}); meeting's model calls {}: ${:.4}",
        result["module"].as_str().unwrap_or_default(),
        result["promptVersion"].as_str().unwrap_or_default(),
        usage["calls"],
        usage["costUsd"].as_f64().unwrap_or(0.0)
    );
}

/// What `meetings show` adds of module answers (JSON, text lines).
pub(super) fn shown(conn: &rusqlite::Connection, id: i64) -> Result<(Value, Vec<String>), Error> {
    let answers = rows::answers(conn, id)?;
    let mut lines = Vec::new();
    let mut list = Vec::new();
    for a in &answers {
        let stored = Stored::of(&a.module, &a.prompt_version, &a.answer);
        lines.push(format!(
            "module {} answer {} of {} (prompt {}{}){}",
            a.module,
            a.id,
            crate::jobs::format_ms(a.created_at),
            a.prompt_version,
            a.cost_micros
                .map(|c| format!(", ${:.4}", c as f64 / 1e6))
                .unwrap_or_default(),
            a.question
                .as_deref()
                .filter(|_| a.module == "copilot")
                .map(|q| format!(": {}", printable(q.trim())))
                .unwrap_or_default()
        ));
        for line in answer::lines(&stored) {
            lines.push(format!("  {}", printable(&answer::plain(&line))));
        }
        list.push(json!({
            "id": a.id,
            "module": a.module,
            "promptVersion": a.prompt_version,
            "question": a.question,
            "format": if matches!(stored, Stored::Text(_)) { "text" } else { "json" },
            "answer": stored.to_json(),
            "aiCallId": a.ai_call_id,
            "costUsd": a.cost_micros.map(crate::ai::usage::dollars),
            "createdAt": crate::jobs::format_ms(a.created_at),
        }));
    }
    Ok((Value::Array(list), lines))
}
