//! Briefs: before a meeting (agenda, what to prepare, the open actions of
//! the people invited, earlier decisions of the series) and after it
//! (summary, decisions, actions, and under `legal` consent the legal
//! flags), asked of a model as JSON and checked against a schema.
//!
//! A brief is a job of kind `brief` (payload `{"meeting", "kind"}`). Its
//! request is built from `material::gather`, where consent is enforced: a
//! post-brief of a `basic` meeting is refused, as there is nothing it may
//! read. The answer is read as one JSON object whose keys are exactly the
//! schema's (serde's `deny_unknown_fields`), then validated (non-empty
//! texts, `YYYY-MM-DD` dates, bounded counts). An answer that fails goes
//! back once with its problems (`schema::ask_fitting`, shared with the
//! modules); a second failure fails the job with those problems and the
//! meeting's processing is marked failed. A valid post-brief's decisions and actions are added
//! to the meeting as the model's (`origin = 'model'`), replacing the ones
//! an earlier post-brief added that nobody has touched since.
//!
//! The prompts are versioned files (`prompts/meetings/*.v1.md`); each
//! call records its version, tokens and cost, linked to the meeting.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::material::{self, Material, Purpose};
use super::model::{MeetingModel, Tuning};
use super::schema::{self, REPAIRS, Unfit};
use crate::ai::ask::{self, Env};
use crate::jobs::kinds::{BoxFuture, JobContext, Kind};
use crate::jobs::payload::{Fields, JobPayload, PayloadError};
use crate::jobs::{JobError, JobKind, now_ms};
use crate::store::meetings::briefs::{self, BriefKind, Extracted, ModelAction, NewBrief};
use crate::store::meetings::{self, Consent, Processing};

/// The job kind's name.
pub(crate) const BRIEF: &str = "brief";

const PRE: &str = include_str!("../../prompts/meetings/pre.v1.md");
const POST: &str = include_str!("../../prompts/meetings/post.v1.md");
const PRE_VERSION: &str = "meetings/pre.v1";
const POST_VERSION: &str = "meetings/post.v1";

/// The most items of any list a brief may hold.
const MAX_ITEMS: usize = 100;
const MAX_TEXT: usize = 4_000;

/// An action item in a brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BriefAction {
    pub text: String,
    pub owner: Option<String>,
    pub due: Option<String>,
}

/// A pre-brief, as the model must answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PreBrief {
    pub agenda: Vec<String>,
    pub prepare: Vec<String>,
    pub open_actions: Vec<BriefAction>,
    pub earlier_decisions: Vec<String>,
}

/// What a legal flag is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum FlagKind {
    Obligation,
    Deadline,
    ContractTerm,
}

/// An obligation, deadline or contract term found (consent `legal`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LegalFlag {
    pub kind: FlagKind,
    pub text: String,
    #[serde(default)]
    pub due: Option<String>,
}

/// A post-brief, as the model must answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PostBrief {
    pub summary: String,
    pub decisions: Vec<String>,
    pub actions: Vec<BriefAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legal_flags: Vec<LegalFlag>,
}

/// A brief that passed its schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Brief {
    Pre(PreBrief),
    Post(PostBrief),
}

impl Brief {
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Brief::Pre(b) => serde_json::to_value(b),
            Brief::Post(b) => serde_json::to_value(b),
        }
        .unwrap_or(Value::Null)
    }
}

fn check_text(problems: &mut Vec<String>, at: &str, text: &str) {
    schema::check_text(problems, at, text, MAX_TEXT);
}

fn check_due(problems: &mut Vec<String>, at: &str, due: Option<&str>) {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if let Some(due) = due
        && time::Date::parse(due, &format).is_err()
    {
        problems.push(format!("{at}.due {due:?} is not a date written YYYY-MM-DD"));
    }
}

fn check_list(problems: &mut Vec<String>, name: &str, items: &[String]) {
    schema::check_count(problems, name, items.len(), MAX_ITEMS);
    for (i, item) in items.iter().enumerate() {
        check_text(problems, &format!("{name}[{i}]"), item);
    }
}

fn check_actions(problems: &mut Vec<String>, name: &str, actions: &[BriefAction]) {
    schema::check_count(problems, name, actions.len(), MAX_ITEMS);
    for (i, a) in actions.iter().enumerate() {
        let at = format!("{name}[{i}]");
        check_text(problems, &format!("{at}.text"), &a.text);
        check_due(problems, &at, a.due.as_deref());
    }
}

/// Reads `answer` as a brief of `kind`: the brief, or every problem found
/// (one line each, naming the field).
pub(crate) fn read(kind: BriefKind, answer: &str) -> Result<Brief, Vec<String>> {
    match kind {
        BriefKind::Pre => schema::parse(answer, |b: &PreBrief, problems| {
            check_list(problems, "agenda", &b.agenda);
            check_list(problems, "prepare", &b.prepare);
            check_actions(problems, "openActions", &b.open_actions);
            check_list(problems, "earlierDecisions", &b.earlier_decisions);
        })
        .map(Brief::Pre),
        BriefKind::Post => schema::parse(answer, |b: &PostBrief, problems| {
            check_text(problems, "summary", &b.summary);
            check_list(problems, "decisions", &b.decisions);
            check_actions(problems, "actions", &b.actions);
            for (i, flag) in b.legal_flags.iter().enumerate() {
                let at = format!("legalFlags[{i}]");
                check_text(problems, &format!("{at}.text"), &flag.text);
                check_due(problems, &at, flag.due.as_deref());
            }
        })
        .map(Brief::Post),
    }
}

/// The instructions of a brief of `kind` for a meeting of `consent`, and
/// their version.
pub(crate) fn instructions(kind: BriefKind, consent: Consent) -> (String, &'static str) {
    match kind {
        BriefKind::Pre => (PRE.trim_end().to_string() + "\n", PRE_VERSION),
        BriefKind::Post => {
            let (base, legal) = POST.split_once("<!-- legal -->").unwrap_or((POST, ""));
            let text = if consent == Consent::Legal {
                base.replace("{{legal_key}}", ",\n  \"legalFlags\": [...]") + legal.trim_start()
            } else {
                base.replace("{{legal_key}}", "")
            };
            (text.trim_end().to_string() + "\n", POST_VERSION)
        }
    }
}

/// `brief`: which meeting, which brief, and optionally whose model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct BriefPayload {
    pub meeting: i64,
    /// "pre" or "post".
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl JobPayload for BriefPayload {
    fn kind() -> JobKind {
        JobKind::Other(BRIEF.into())
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        let meeting: Option<i64> = f.get("meeting")?;
        let meeting = meeting.ok_or_else(|| f.problem("meeting", "is missing"))?;
        let kind: String = f.or_default("kind")?;
        if BriefKind::parse(&kind).is_none() {
            return Err(f.problem("kind", &format!("is {kind:?}: pre or post")));
        }
        Ok(BriefPayload {
            meeting,
            kind,
            provider: f.get("provider")?,
            model: f.get("model")?,
        })
    }
}

/// The `brief` job kind.
#[derive(Clone)]
pub(crate) struct BriefJob {
    env: Env,
    tuning: Tuning,
}

impl BriefJob {
    /// Keys and base URLs from the process's environment.
    pub(crate) fn new() -> BriefJob {
        BriefJob::with(Arc::new(|name| std::env::var(name).ok()), Tuning::default())
    }

    pub(crate) fn with(env: Env, tuning: Tuning) -> BriefJob {
        BriefJob { env, tuning }
    }
}

impl Kind for BriefJob {
    fn kind(&self) -> JobKind {
        JobKind::Other(BRIEF.into())
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
        Box::pin(async move { job.brief(ctx).await })
    }
}

/// Marks meeting `id`'s processing failed with `why`, then answers `error`.
async fn failed(ctx: &JobContext, id: i64, error: JobError) -> JobError {
    let why = error.message.clone();
    let _ = ctx
        .db
        .call(move |store| {
            meetings::set_processing(&store.conn, id, Processing::Failed, Some(&why), now_ms())?;
            Ok(())
        })
        .await;
    error
}

impl BriefJob {
    async fn brief(&self, ctx: JobContext) -> Result<Value, JobError> {
        let payload = BriefPayload::of(&ctx.job)?;
        let kind = BriefKind::parse(&payload.kind).unwrap_or(BriefKind::Post);
        let id = payload.meeting;
        let purpose = match kind {
            BriefKind::Pre => Purpose::Pre,
            BriefKind::Post => Purpose::Post,
        };
        let material: Material = ctx
            .db
            .call(move |store| Ok(material::gather(&store.conn, id, purpose)?))
            .await
            .map_err(JobError::from_store)?
            .ok_or_else(|| {
                JobError::permanent(format!(
                    "there is no meeting {id} (forgotten, or purged by retention); `kollega meetings --days 30` lists the meetings"
                ))
            })?;
        let consent = material.meeting.consent;
        if kind == BriefKind::Post && !material::allows_text(consent) {
            return Err(JobError::permanent(format!(
                "meeting {id}'s consent is basic: no note or transcript of it may reach a model, so there is nothing to write a post-brief from; `kollega meetings consent {id} plus` allows it"
            )));
        }
        if kind == BriefKind::Post {
            let _ = ctx
                .db
                .call(move |store| {
                    meetings::set_processing(&store.conn, id, Processing::Running, None, now_ms())?;
                    Ok(())
                })
                .await;
        }
        let mut model = match MeetingModel::new(
            &ctx,
            id,
            payload.provider.as_deref(),
            payload.model.as_deref(),
            &self.env,
            self.tuning,
        ) {
            Ok(model) => model,
            Err(e) => return Err(failed(&ctx, id, e).await),
        };
        let budget_chars = ctx.config.ai.budget_tokens.saturating_mul(4);
        let prompt = material.render(budget_chars);
        let (instructions, version) = instructions(kind, consent);
        let mut said = format!(
            "{} brief of meeting {id} (consent {}, prompt {version}) by {}",
            kind.as_str(),
            consent.as_str(),
            model.name()
        );
        if material.withheld.any() {
            said.push_str(&format!(
                "; withheld by consent: {}",
                material.withheld.describe()
            ));
        }
        ask::say(&ctx, &said);

        let fitted =
            schema::ask_fitting(&ctx, &mut model, &instructions, prompt, version, |text| {
                read(kind, text)
            })
            .await;
        let (mut brief, repairs) = match fitted {
            Ok(fitted) => (fitted.value, fitted.repairs),
            Err(Unfit::Call(e))
                if kind == BriefKind::Post && e.class != crate::jobs::ErrorClass::Transient =>
            {
                return Err(failed(&ctx, id, e).await);
            }
            Err(Unfit::Call(e)) => return Err(e),
            Err(Unfit::Schema(problems)) => {
                let e = JobError::permanent(format!(
                    "the model's {} brief does not fit its schema after {} repair request: {}; its answers are in the job's log: ask again, or try another model with --model",
                    kind.as_str(),
                    REPAIRS,
                    problems.join("; ")
                ));
                return Err(if kind == BriefKind::Post {
                    failed(&ctx, id, e).await
                } else {
                    e
                });
            }
        };
        if let Brief::Post(post) = &mut brief
            && consent != Consent::Legal
            && !post.legal_flags.is_empty()
        {
            ask::say(
                &ctx,
                &format!(
                    "{} legal flag(s) left out: the meeting's consent is {}, not legal",
                    post.legal_flags.len(),
                    consent.as_str()
                ),
            );
            post.legal_flags.clear();
        }
        let json_value = brief.to_json();
        let json_text = json_value.to_string();
        let calls = model.calls.clone();
        let answered = model.answered;
        let to_store = brief.clone();
        let stored = ctx
            .db
            .call(move |store| {
                let extracted = match &to_store {
                    Brief::Post(post) => Extracted {
                        decisions: post.decisions.iter().map(String::as_str).collect(),
                        actions: post
                            .actions
                            .iter()
                            .map(|a| ModelAction {
                                text: &a.text,
                                owner: a.owner.as_deref().filter(|o| !o.trim().is_empty()),
                                due: a.due.as_deref(),
                            })
                            .collect(),
                    },
                    Brief::Pre(_) => Extracted::default(),
                };
                let new = NewBrief {
                    meeting_id: id,
                    kind,
                    json: &json_text,
                    prompt_version: version,
                    ai_call_id: answered,
                    calls: &calls,
                };
                let stored = briefs::store(&mut store.conn, &new, &extracted, now_ms())?;
                let usage = briefs::usage(&store.conn, id)?;
                Ok(stored.map(|s| (s, usage)))
            })
            .await
            .map_err(JobError::from_store)?;
        let Some((stored, usage)) = stored else {
            return Err(JobError::permanent(format!(
                "meeting {id} was forgotten while its brief was written; nothing was kept"
            )));
        };
        ask::say(
            &ctx,
            &format!(
                "{} brief {} stored for meeting {id}: {} decision(s), {} action(s) added",
                kind.as_str(),
                stored.brief_id,
                stored.decisions_added,
                stored.actions_added
            ),
        );
        Ok(json!({
            "meeting": id,
            "kind": kind.as_str(),
            "briefId": stored.brief_id,
            "brief": json_value,
            "promptVersion": version,
            "repaired": repairs > 0,
            "decisionsAdded": stored.decisions_added,
            "actionsAdded": stored.actions_added,
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
