//! Modules: prompt packs (`prompts/modules/*.v2.md`) a user turns on per
//! workspace and runs against a document attached to a meeting. The
//! document copilot answers a question about the document, citing its
//! numbered lines; the procurement check holds a tender or contract
//! against stated criteria (met, unmet or unclear, with the passage) and,
//! under consent `legal`, flags obligations, deadlines and contract terms.
//! Both answer JSON checked against their schema ([`answer`]) with one
//! repair request (`meetings::schema`), then a clear failure.
//!
//! A module run is a job of kind `module` (payload `{"meeting", "module",
//! "workspace", "doc", "ask" | "criteria"}`; the document and criteria
//! are files read by the job, so their text is never kept in the jobs
//! table). The job checks again that the module is on for the workspace
//! and that the meeting's consent lets document text reach a model (not
//! `basic`) before it reads anything. Its calls (the question, and a
//! repair request when the answer does not fit) go through
//! [`MeetingModel`], recorded and costed like a brief's. A cited line that
//! is not one of the document's lines sent is kept but marked
//! (`outOfRange`); procurement flags under a consent other than `legal`
//! are dropped, and the job's log and result say how many. The answer's
//! JSON is stored in `module_answers.answer` with the prompt version
//! (`modules/NAME.v2`) and the id of the call that answered; answers of
//! the `v1` prompts, plain text, still show as text.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};

pub(crate) mod answer;

use super::material;
use super::model::{MeetingModel, Tuning};
use super::schema::{self, REPAIRS, Unfit};
use crate::ai::ask::{self, Env};
use crate::jobs::kinds::{BoxFuture, JobContext, Kind};
use crate::jobs::payload::{Fields, JobPayload, PayloadError};
use crate::jobs::{JobError, JobKind, now_ms};
use crate::store::meetings::briefs;
use crate::store::meetings::modules::{self as rows, NewAnswer};
use crate::store::meetings::{self, Consent};
use answer::Answer;

/// The job kind's name.
pub(crate) const MODULE: &str = "module";

/// The legal section's marker in a prompt pack.
const LEGAL_MARK: &str = "<!-- legal -->";
/// Where the legal section's key goes in the shape a prompt pack asks for.
const LEGAL_KEY: &str = "{{legal_key}}";

/// A prompt pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Module {
    pub name: &'static str,
    /// What it does, for `modules ls`.
    pub about: &'static str,
    /// `modules/NAME.vN`, from the prompt's file name.
    pub version: &'static str,
    prompt: &'static str,
    /// Whether it asks a question (`--ask`) rather than checks criteria.
    pub asks: bool,
}

/// Every module, by name.
pub(crate) const MODULES: [Module; 2] = [
    Module {
        name: "copilot",
        about: "answer a question about an attached document, citing its passages",
        version: "modules/copilot.v2",
        prompt: include_str!("../../prompts/modules/copilot.v2.md"),
        asks: true,
    },
    Module {
        name: "procurement",
        about: "check a tender or contract against criteria (legal flags under consent legal)",
        version: "modules/procurement.v2",
        prompt: include_str!("../../prompts/modules/procurement.v2.md"),
        asks: false,
    },
];

/// The module called `name`.
pub(crate) fn find(name: &str) -> Option<Module> {
    MODULES.iter().copied().find(|m| m.name == name)
}

/// "copilot, procurement", for hints.
pub(crate) fn names() -> String {
    MODULES.map(|m| m.name).join(", ")
}

impl Module {
    /// Its instructions for a meeting of `consent`: the legal section (and
    /// the `flags` key in the shape asked for) only under `legal`.
    pub(crate) fn instructions(&self, consent: Consent) -> String {
        let (base, legal) = self
            .prompt
            .split_once(LEGAL_MARK)
            .unwrap_or((self.prompt, ""));
        let text = if consent == Consent::Legal {
            let base = base.replace(LEGAL_KEY, ",\n  \"flags\": [...]");
            format!("{}\n{}", base.trim_end(), legal.trim_start_matches('\n'))
        } else {
            base.replace(LEGAL_KEY, "")
        };
        text.trim_end().to_string() + "\n"
    }
}

/// Why a meeting's consent keeps documents from a model, or `None`.
pub(crate) fn consent_refusal(id: i64, consent: Consent) -> Option<(String, String)> {
    (!material::allows_text(consent)).then(|| {
        (
            format!(
                "meeting {id}'s consent is basic: no document text may reach a model under it"
            ),
            format!(
                "a module needs consent plus (or legal, for the legal flags): `kollega meetings consent {id} plus`"
            ),
        )
    })
}

/// A module's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub text: String,
    /// How many of the document's lines it holds (citations beyond them
    /// are marked).
    pub lines: usize,
    /// Whether the document was cut to fit.
    pub cut: bool,
}

/// The request: the meeting's title, the document with numbered lines
/// (cut at `budget_chars`), and the question or criteria.
pub(crate) fn prompt(
    module: &Module,
    title: &str,
    doc_name: &str,
    doc: &str,
    asked: &str,
    budget_chars: usize,
) -> Request {
    let mut out = format!("Meeting: {title}\n\nDocument {doc_name}:\n");
    let mut cut = false;
    let mut lines = 0;
    for (i, line) in doc.lines().enumerate() {
        if out.len() + line.len() > budget_chars {
            cut = true;
            break;
        }
        out.push_str(&format!("L{}: {line}\n", i + 1));
        lines = i + 1;
    }
    if cut {
        out.push_str("(the document is cut here: it is longer than the request may be)\n");
    }
    let label = if module.asks { "Question" } else { "Criteria" };
    out.push_str(&format!("\n{label}:\n{}\n", asked.trim()));
    Request {
        text: out,
        lines,
        cut,
    }
}

/// How many criteria `asked` holds: its non-empty lines.
pub(crate) fn criteria_count(asked: &str) -> usize {
    asked.lines().filter(|l| !l.trim().is_empty()).count()
}

/// `module`: which meeting, which module, for which workspace, on what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ModulePayload {
    pub meeting: i64,
    pub module: String,
    /// The workspace's key (`ws:NAME`, `dir:PATH`) the module must be on for.
    pub workspace: String,
    /// The document's absolute path.
    pub doc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask: Option<String>,
    /// The criteria file's absolute path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criteria: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl JobPayload for ModulePayload {
    fn kind() -> JobKind {
        JobKind::Other(MODULE.into())
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        let meeting: Option<i64> = f.get("meeting")?;
        let meeting = meeting.ok_or_else(|| f.problem("meeting", "is missing"))?;
        let module: String = f.or_default("module")?;
        if find(&module).is_none() {
            return Err(f.problem("module", &format!("is {module:?}: one of {}", names())));
        }
        let workspace: String = f.or_default("workspace")?;
        if workspace.is_empty() {
            return Err(f.problem("workspace", "is missing"));
        }
        let doc: String = f.or_default("doc")?;
        if doc.is_empty() {
            return Err(f.problem("doc", "is missing"));
        }
        let ask: Option<String> = f.get("ask")?;
        let criteria: Option<String> = f.get("criteria")?;
        if ask.is_none() && criteria.is_none() {
            return Err(f.problem("ask", "is missing, and so is criteria: one is needed"));
        }
        Ok(ModulePayload {
            meeting,
            module,
            workspace,
            doc,
            ask,
            criteria,
            provider: f.get("provider")?,
            model: f.get("model")?,
        })
    }
}

/// The `module` job kind.
#[derive(Clone)]
pub(crate) struct ModuleJob {
    env: Env,
    tuning: Tuning,
}

impl ModuleJob {
    /// Keys and base URLs from the process's environment.
    pub(crate) fn new() -> ModuleJob {
        ModuleJob::with(Arc::new(|name| std::env::var(name).ok()), Tuning::default())
    }

    pub(crate) fn with(env: Env, tuning: Tuning) -> ModuleJob {
        ModuleJob { env, tuning }
    }
}

impl Kind for ModuleJob {
    fn kind(&self) -> JobKind {
        JobKind::Other(MODULE.into())
    }

    /// A provider's passing trouble is retried with the engine's backoff.
    fn max_attempts(&self) -> u32 {
        3
    }

    fn streams_live(&self) -> bool {
        true
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        let job = self.clone();
        Box::pin(async move { job.answer(ctx).await })
    }
}

/// The text of the file at `path` (what it is, for errors, is `what`).
async fn read_text(path: &str, what: &str) -> Result<String, JobError> {
    let owned = path.to_string();
    let read = tokio::task::spawn_blocking(move || std::fs::read(owned))
        .await
        .map_err(|e| JobError::transient(format!("reading {path} stopped: {e}")))?;
    let bytes = read.map_err(|e| {
        JobError::permanent(format!(
            "the {what} {path} could not be read: {e}; give a readable file"
        ))
    })?;
    String::from_utf8(bytes).map_err(|_| {
        JobError::permanent(format!(
            "the {what} {path} is not UTF-8 text; convert it to text first (for a PDF, `pdftotext`)"
        ))
    })
}

impl ModuleJob {
    async fn answer(&self, ctx: JobContext) -> Result<Value, JobError> {
        let payload = ModulePayload::of(&ctx.job)?;
        let module = find(&payload.module).ok_or_else(|| {
            JobError::permanent(format!("there is no module {:?}", payload.module))
        })?;
        let id = payload.meeting;
        let (key, name) = (payload.workspace.clone(), module.name);
        let (meeting, on) = ctx
            .db
            .call(move |store| {
                Ok((
                    meetings::get(&store.conn, id)?,
                    rows::enabled(&store.conn, &key, name)?,
                ))
            })
            .await
            .map_err(JobError::from_store)?;
        let meeting = meeting.ok_or_else(|| {
            JobError::permanent(format!(
                "there is no meeting {id} (forgotten, or purged by retention); `kollega meetings --days 30` lists the meetings"
            ))
        })?;
        if !on {
            return Err(JobError::permanent(format!(
                "module {name} is off for workspace {}; `kollega modules on {name}` turns it on",
                payload.workspace
            )));
        }
        if let Some((message, hint)) = consent_refusal(id, meeting.consent) {
            return Err(JobError::permanent(format!("{message}; {hint}")));
        }
        let doc = read_text(&payload.doc, "document").await?;
        let asked = match (&payload.ask, &payload.criteria) {
            (Some(question), _) => question.clone(),
            (None, Some(path)) => read_text(path, "criteria file").await?,
            (None, None) => String::new(),
        };
        if asked.trim().is_empty() {
            return Err(JobError::permanent(
                "the question or criteria are empty; give --ask \"...\" or a criteria file with one criterion a line".to_string(),
            ));
        }
        let mut model = MeetingModel::new(
            &ctx,
            id,
            payload.provider.as_deref(),
            payload.model.as_deref(),
            &self.env,
            self.tuning,
        )?;
        let doc_name = Path::new(&payload.doc)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| payload.doc.clone());
        let budget_chars = ctx.config.ai.budget_tokens.saturating_mul(4);
        let request = prompt(
            &module,
            &meeting.title,
            &doc_name,
            &doc,
            &asked,
            budget_chars,
        );
        let consent = meeting.consent;
        let instructions = module.instructions(consent);
        let mut said = format!(
            "module {name} on {doc_name} for meeting {id} (consent {}, prompt {}) by {}",
            consent.as_str(),
            module.version,
            model.name()
        );
        if request.cut {
            said.push_str("; the document was cut to fit the request");
        }
        ask::say(&ctx, &said);
        let criteria = criteria_count(&asked);
        let fitted = schema::ask_fitting(
            &ctx,
            &mut model,
            &instructions,
            request.text,
            module.version,
            |text| Answer::read(module.asks, criteria, text),
        )
        .await;
        let (mut answer, repairs) = match fitted {
            Ok(fitted) => (fitted.value, fitted.repairs),
            Err(Unfit::Call(e)) => return Err(e),
            Err(Unfit::Schema(problems)) => {
                return Err(JobError::permanent(format!(
                    "the {name} module's answer does not fit its schema after {REPAIRS} repair request: {}; its answers are in the job's log: ask again, or try another model with --model",
                    problems.join("; ")
                )));
            }
        };
        let flags_dropped = if consent == Consent::Legal {
            0
        } else {
            answer.drop_flags()
        };
        if flags_dropped > 0 {
            ask::say(
                &ctx,
                &format!(
                    "{flags_dropped} flag(s) left out: the meeting's consent is {}, not legal",
                    consent.as_str()
                ),
            );
        }
        let out_of_range = answer.mark_lines(request.lines);
        if out_of_range > 0 {
            ask::say(
                &ctx,
                &format!(
                    "{out_of_range} cited line(s) are not among the {} lines of the document sent: kept, marked outOfRange",
                    request.lines
                ),
            );
        }
        let answer_json = answer.to_json();
        let ai_call_id = model.answered;
        let calls = model.calls.len();
        let (stored_answer, question) = (answer_json.to_string(), asked.clone());
        let stored = ctx
            .db
            .call(move |store| {
                let new = NewAnswer {
                    meeting_id: id,
                    module: name,
                    prompt_version: module.version,
                    question: Some(&question),
                    answer: &stored_answer,
                    ai_call_id,
                };
                let stored = rows::insert(&store.conn, &new, now_ms())?;
                Ok(match stored {
                    Some(answer_id) => Some((answer_id, briefs::usage(&store.conn, id)?)),
                    None => None,
                })
            })
            .await
            .map_err(JobError::from_store)?;
        let Some((answer_id, usage)) = stored else {
            return Err(JobError::permanent(format!(
                "meeting {id} was forgotten while the module answered; nothing was kept"
            )));
        };
        ask::say(
            &ctx,
            &format!("module answer {answer_id} stored for meeting {id}"),
        );
        Ok(json!({
            "meeting": id,
            "module": name,
            "answerId": answer_id,
            "answer": answer_json,
            "promptVersion": module.version,
            "aiCallId": ai_call_id,
            "calls": calls,
            "repaired": repairs > 0,
            "legalFlags": consent == Consent::Legal && !module.asks,
            "flagsDropped": flags_dropped,
            "outOfRangeLines": out_of_range,
            "documentCut": request.cut,
            "usage": {
                "calls": usage.calls,
                "inputTokens": usage.input_tokens,
                "outputTokens": usage.output_tokens,
                "costUsd": crate::ai::usage::dollars(usage.cost_micros),
                "unpricedCalls": usage.unpriced,
            },
        }))
    }
}

#[cfg(test)]
mod tests;
