//! One model call made by a meetings job: streamed into the job's log,
//! recorded in `ai_calls` with its tokens, cost and prompt version, and,
//! for a meeting's call, linked to the meeting at once (so forgetting the
//! meeting removes the record, even of a call whose brief never got
//! stored). A call that belongs to no meeting (a watched page's summary)
//! is recorded alike, unlinked.
//!
//! A failure the provider says will pass (a 429, a 5xx, a lost connection)
//! is the job's transient error, retried by the jobs engine with its
//! backoff; one that will not (a refused key, an empty account) is
//! permanent. The request itself is built by the caller from
//! `material::Material`, where consent is enforced.

use std::time::{Duration, Instant};

use crate::ai::ask::{self, Env};
use crate::ai::client::{self, CallError, Endpoint, Message, Request, Timeouts};
use crate::ai::failure::Retry;
use crate::ai::pricing::Pricing;
use crate::ai::usage;
use crate::ai::wire::Reply;
use crate::error::{Hint, describe};
use crate::jobs::kinds::JobContext;
use crate::jobs::{JobError, now_ms};
use crate::store::{ai_calls, meetings};

/// How patiently a meeting's calls wait.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    pub timeouts: Timeouts,
    pub max_output_tokens: u32,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            timeouts: Timeouts::default(),
            max_output_tokens: 8_192,
        }
    }
}

/// The calls of one job, about one meeting or none.
pub(crate) struct MeetingModel<'a> {
    ctx: &'a JobContext,
    /// The meeting each call is linked to, if any.
    meeting: Option<i64>,
    endpoint: Endpoint,
    http: reqwest::Client,
    pricing: Pricing,
    tuning: Tuning,
    /// Every call recorded, in order.
    pub calls: Vec<i64>,
    /// The last call that answered.
    pub answered: Option<i64>,
}

impl<'a> MeetingModel<'a> {
    /// Calls to the provider the job (else `[ai]`) names, for `meeting`.
    pub(crate) fn new(
        ctx: &'a JobContext,
        meeting: i64,
        provider: Option<&str>,
        model: Option<&str>,
        env: &Env,
        tuning: Tuning,
    ) -> Result<MeetingModel<'a>, JobError> {
        MeetingModel::linked(ctx, Some(meeting), provider, model, env, tuning)
    }

    /// Calls like [`MeetingModel::new`]'s that belong to no meeting: each
    /// is recorded in `ai_calls` and linked to nothing.
    pub(crate) fn unlinked(
        ctx: &'a JobContext,
        provider: Option<&str>,
        model: Option<&str>,
        env: &Env,
        tuning: Tuning,
    ) -> Result<MeetingModel<'a>, JobError> {
        MeetingModel::linked(ctx, None, provider, model, env, tuning)
    }

    fn linked(
        ctx: &'a JobContext,
        meeting: Option<i64>,
        provider: Option<&str>,
        model: Option<&str>,
        env: &Env,
        tuning: Tuning,
    ) -> Result<MeetingModel<'a>, JobError> {
        let endpoint = ask::endpoint_for(&ctx.config.ai, provider, model, env)?;
        let timeouts = ask::timeouts_for(&ctx.config.ai, endpoint.provider.name(), tuning.timeouts);
        let http = client::http_client(&endpoint, timeouts)
            .map_err(|e| JobError::permanent(describe(&e)))?;
        Ok(MeetingModel {
            ctx,
            meeting,
            pricing: ask::pricing_for(ctx),
            endpoint,
            http,
            tuning,
            calls: Vec::new(),
            answered: None,
        })
    }

    /// "openai gpt-5.1", for the log.
    pub(crate) fn name(&self) -> String {
        format!("{} {}", self.endpoint.provider.name(), self.endpoint.model)
    }

    /// One call of `prompt` (after `history`) under `instructions`,
    /// recorded under `prompt_version`.
    pub(crate) async fn call(
        &mut self,
        instructions: &str,
        history: &[Message],
        prompt: &str,
        prompt_version: &'static str,
    ) -> Result<Reply, JobError> {
        let request = Request {
            instructions,
            history,
            prompt,
            previous_response_id: None,
            max_output_tokens: self.tuning.max_output_tokens,
        };
        let ctx = self.ctx;
        let started = Instant::now();
        let mut shown = String::new();
        let result = tokio::select! {
            r = client::stream(&self.http, &self.endpoint, &request, self.tuning.timeouts, |text| {
                ask::show(ctx, text);
                shown.push_str(text);
            }) => r,
            () = ask::stopped(&ctx.stop) => {
                ask::end_text(ctx, &shown);
                self.record(None, "cancelled", prompt_version, started.elapsed()).await;
                return Err(JobError::failed("stopped"));
            }
        };
        ask::end_text(ctx, &shown);
        match result {
            Ok(reply) => {
                let id = self
                    .record(Some(&reply), "ok", prompt_version, started.elapsed())
                    .await;
                self.answered = id.or(self.answered);
                Ok(reply)
            }
            Err(e) => {
                self.record(None, &ask::outcome(&e), prompt_version, started.elapsed())
                    .await;
                Err(call_error(&e))
            }
        }
    }

    /// Records one request and links it to the meeting, if any: its id, or `None`
    /// when the store refused the row (said in the log; the answer stands).
    async fn record(
        &mut self,
        reply: Option<&Reply>,
        outcome: &str,
        prompt_version: &'static str,
        took: Duration,
    ) -> Option<i64> {
        let usage = reply.map(|r| r.usage).unwrap_or_default();
        let model = reply
            .and_then(|r| r.model.clone())
            .unwrap_or_else(|| self.endpoint.model.clone());
        let cost = reply
            .and_then(|_| self.pricing.cost(&model, &usage))
            .map(usage::micros);
        let provider = self.endpoint.provider.name();
        let response_id = reply.and_then(|r| r.response_id.clone());
        let (job, meeting, outcome) = (self.ctx.job.id, self.meeting, outcome.to_string());
        let written = self
            .ctx
            .db
            .call(move |store| {
                let call = ai_calls::NewCall {
                    workspace_key: None,
                    job_id: Some(job),
                    conversation_id: None,
                    session: usage::session(),
                    provider,
                    model: &model,
                    prompt_version,
                    response_id: response_id.as_deref(),
                    input_tokens: usage.input,
                    output_tokens: usage.output,
                    cached_tokens: usage.cached,
                    cost_micros: cost,
                    duration_ms: took.as_millis().min(i64::MAX as u128) as i64,
                    outcome: &outcome,
                };
                let id = ai_calls::insert(&store.conn, &call, now_ms())?;
                if let Some(meeting) = meeting
                    && meetings::get(&store.conn, meeting)?.is_some()
                {
                    meetings::link_ai_call(&store.conn, meeting, id)?;
                }
                Ok(id)
            })
            .await;
        match written {
            Ok(id) => {
                self.calls.push(id);
                Some(id)
            }
            Err(e) => {
                ask::say(
                    self.ctx,
                    &format!("the call's usage was not recorded: {}", describe(&e)),
                );
                None
            }
        }
    }
}

/// The job's error for a failed call: transient when trying again later
/// may help, permanent when it will not.
fn call_error(e: &CallError) -> JobError {
    let message = format!("{e}; {}", e.hint());
    let again = match e {
        CallError::Http { failure, .. } => !matches!(failure.retry, Retry::Never),
        CallError::Connect { .. } | CallError::Idle { .. } | CallError::Wire { .. } => true,
        CallError::NoKey { .. } | CallError::BadKey { .. } | CallError::BadBaseUrl { .. } => false,
    };
    if again {
        JobError::transient(message)
    } else {
        JobError::permanent(message)
    }
}
