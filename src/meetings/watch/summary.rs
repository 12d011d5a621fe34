//! The optional AI summary of a watched page's change: a job of kind
//! `watch-summary` (payload `{"watch", "version"}`), enqueued by a fetch
//! that stored a new version of a watch with summaries on, or asked for by
//! `kollega watch summarize ID --version V`. Being its own job, a fetch's
//! retries and the model's are independent.
//!
//! The request is the page's address and the unified diff from the
//! version before, cut at the `[ai] budget_tokens` budget (and saying so),
//! under the versioned instructions `prompts/watch/summary.v1.md`. The
//! call goes through [`MeetingModel`] unlinked (it is no meeting's):
//! recorded in `ai_calls` with tokens, cost, prompt version and duration.
//! The answer is stored on the version with the call's id. A provider's
//! passing trouble is retried by the jobs engine; a missing key or an
//! empty account fails the job with what to do.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};

use super::diff;
use crate::ai::ask::{self, Env};
use crate::jobs::kinds::{BoxFuture, JobContext, Kind};
use crate::jobs::payload::{Fields, JobPayload, PayloadError};
use crate::jobs::{JobError, JobKind};
use crate::meetings::import::shown_url;
use crate::meetings::model::{MeetingModel, Tuning};
use crate::store::meetings::watches;

/// The job kind's name.
pub(crate) const WATCH_SUMMARY: &str = "watch-summary";

const PROMPT: &str = include_str!("../../../prompts/watch/summary.v1.md");
/// The instructions' version, as `ai_calls.prompt_version` records it.
pub(crate) const PROMPT_VERSION: &str = "watch/summary.v1";

/// `watch-summary`: the change that made version `version` of watch
/// `watch`, and optionally whose model summarizes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SummaryPayload {
    pub watch: i64,
    pub version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl JobPayload for SummaryPayload {
    fn kind() -> JobKind {
        JobKind::Other(WATCH_SUMMARY.into())
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        let watch: Option<i64> = f.get("watch")?;
        let version: Option<i64> = f.get("version")?;
        Ok(SummaryPayload {
            watch: watch.ok_or_else(|| f.problem("watch", "is missing"))?,
            version: version.ok_or_else(|| f.problem("version", "is missing"))?,
            provider: f.get("provider")?,
            model: f.get("model")?,
        })
    }
}

/// The request: the page's address and the diff, cut at `budget_chars`
/// (whole lines) with a line saying how much was left out; and whether it
/// was cut.
pub(crate) fn request(url: &str, diff: &str, budget_chars: usize) -> (String, bool) {
    let mut out = format!(
        "Watched page: {}\n\nChange (unified diff):\n",
        shown_url(url)
    );
    let lines: Vec<&str> = diff.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if out.len() + line.len() + 1 > budget_chars {
            out.push_str(&format!(
                "(the diff is cut here: {} more of its {} lines were left out, as it is longer than the request may be)\n",
                lines.len() - i,
                lines.len()
            ));
            return (out, true);
        }
        out.push_str(line);
        out.push('\n');
    }
    (out, false)
}

/// The instructions sent with each summary.
pub(crate) fn instructions() -> String {
    PROMPT.trim_end().to_string() + "\n"
}

/// The `watch-summary` job kind.
#[derive(Clone)]
pub(crate) struct SummaryJob {
    env: Env,
    tuning: Tuning,
}

impl SummaryJob {
    /// Keys and base URLs from the process's environment.
    pub(crate) fn new() -> SummaryJob {
        SummaryJob::with(Arc::new(|name| std::env::var(name).ok()), Tuning::default())
    }

    pub(crate) fn with(env: Env, tuning: Tuning) -> SummaryJob {
        SummaryJob { env, tuning }
    }
}

impl Kind for SummaryJob {
    fn kind(&self) -> JobKind {
        JobKind::Other(WATCH_SUMMARY.into())
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
        Box::pin(async move { job.summarize(ctx).await })
    }
}

impl SummaryJob {
    async fn summarize(&self, ctx: JobContext) -> Result<Value, JobError> {
        let payload = SummaryPayload::of(&ctx.job)?;
        let (id, version) = (payload.watch, payload.version);
        let (watch, versions) = ctx
            .db
            .call(move |store| {
                Ok((
                    watches::get(&store.conn, id)?,
                    watches::with_previous(&store.conn, id, version)?,
                ))
            })
            .await
            .map_err(JobError::from_store)?;
        let Some(watch) = watch else {
            ask::say(
                &ctx,
                &format!("watch {id} was removed: nothing to summarize"),
            );
            return Ok(json!({ "watch": id, "version": version, "removed": true }));
        };
        let (old, new) = versions.ok_or_else(|| {
            JobError::permanent(format!(
                "watch {id} has no version {version}; `kollega watch show {id}` lists its versions"
            ))
        })?;
        let old = old.ok_or_else(|| {
            JobError::permanent(format!(
                "version {version} is watch {id}'s first: there is no change to summarize yet"
            ))
        })?;
        let mut model = MeetingModel::unlinked(
            &ctx,
            payload.provider.as_deref(),
            payload.model.as_deref(),
            &self.env,
            self.tuning,
        )?;
        let change = diff(&old.content, &new.content, &format!("watch-{id}"));
        let budget_chars = ctx.config.ai.budget_tokens.saturating_mul(4);
        let (asked, cut) = request(&watch.url, &change, budget_chars);
        let mut said = format!(
            "summary of watch {id}'s change from version {} to {version} (prompt {PROMPT_VERSION}) by {}",
            old.id,
            model.name()
        );
        if cut {
            said.push_str("; the diff was cut to fit the request");
        }
        ask::say(&ctx, &said);
        let reply = model
            .call(&instructions(), &[], &asked, PROMPT_VERSION)
            .await?;
        let summary = reply.text.trim().to_string();
        if summary.is_empty() {
            return Err(JobError::permanent(
                "the model answered nothing; ask again with `kollega watch summarize`, or try another model with --model".to_string(),
            ));
        }
        let ai_call_id = model.answered;
        let kept = summary.clone();
        let stored = ctx
            .db
            .call(move |store| {
                Ok(watches::set_summary(
                    &store.conn,
                    version,
                    &kept,
                    ai_call_id,
                )?)
            })
            .await
            .map_err(JobError::from_store)?;
        if !stored {
            return Err(JobError::permanent(format!(
                "watch {id} was removed while its change was summarized; nothing was kept"
            )));
        }
        ask::say(
            &ctx,
            &format!("summary stored on version {version} of watch {id}"),
        );
        let usage = reply.usage;
        Ok(json!({
            "watch": id,
            "from": old.id,
            "version": version,
            "summary": summary,
            "promptVersion": PROMPT_VERSION,
            "aiCallId": ai_call_id,
            "diffCut": cut,
            "usage": { "inputTokens": usage.input, "outputTokens": usage.output },
        }))
    }
}
