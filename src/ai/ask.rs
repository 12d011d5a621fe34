//! The `ask` job: a prompt and chosen files to a model, its answer as a
//! stored patch.
//!
//! One attempt builds the context (the chosen files, a map of the
//! workspace, existing names that look like the ones asked for; never a
//! flagged secret or an `.env*` file), renders the versioned prompt, and
//! streams the call into the job's log as it arrives. Failures are read by
//! `failure::classify`: a 429 waits its `retry-after` (bounded), 5xx and
//! 529 back off, a refused key or an empty account stop at once with what
//! to do; a cut stream or malformed JSON stops with the text received kept
//! in the log. The answer's edits are resolved against the workspace's
//! current files; an edit that does not apply goes back to the model in one
//! follow-up naming the file, the lines expected and the closest lines
//! found (on the Responses API by `previous_response_id`, else with the
//! conversation so far), up to `[ai] max_rounds` follow-ups. What applies
//! is stored as a pending patch for review; nothing in the workspace is
//! written here.
//!
//! Every HTTP request is recorded in `ai_calls` with its tokens and cost,
//! and the prompt and answer in the conversation. The key stays in the
//! request's header: no log line, row or result holds it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::client::{self, CallError, Endpoint, Message, Provider, Request, Timeouts};
use super::context::{self, Context, ContextError};
use super::failure::Retry;
use super::pricing::Pricing;
use super::prompt;
use super::usage;
use super::wire::{Reply, Usage, WireError};
use crate::error::{Hint, describe};
use crate::jobs::command::{StopToken, Tee};
use crate::jobs::kinds::{BoxFuture, Db, JobContext, Kind, Place, place_of};
use crate::jobs::payload::{ASK, AskPayload, JobPayload};
use crate::jobs::{JobError, JobKind, JobsError, now_ms};
use crate::patch::Patch;
use crate::patch::reply::{self, ReplyError};
use crate::store::conversations::{self, Role, Turn};
use crate::store::jobs::Stream;
use crate::store::{ai_calls, patches};
use crate::workspace::disk::DiskWorkspace;
use crate::workspace::files::Files;
use crate::workspace::path::WorkspacePath;
use crate::workspace::secrets::SecretScanner;

/// How the environment is read: the process's, or a test's.
pub(crate) type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Files of the workspace read for its map; a bigger workspace is mapped
/// in part.
const MAP_FILES: usize = 2_000;

/// Similar names shown with a request.
const SIMILAR_SHOWN: usize = 20;

/// How patiently a job calls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    pub timeouts: Timeouts,
    /// HTTP tries per round, the first included.
    pub tries: u32,
    /// The wait after the first failed try that backs off; doubled after
    /// each next one.
    pub backoff: Duration,
    /// The longest `retry-after` waited within the job.
    pub max_wait: Duration,
    pub max_output_tokens: u32,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            timeouts: Timeouts::default(),
            tries: 4,
            backoff: Duration::from_secs(2),
            max_wait: Duration::from_secs(120),
            max_output_tokens: 16_384,
        }
    }
}

/// The `ask` kind.
#[derive(Clone)]
pub(crate) struct AskKind {
    env: Env,
    tuning: Tuning,
}

impl AskKind {
    /// Reading keys and base URLs from the process's environment.
    pub(crate) fn new() -> AskKind {
        AskKind::with(Arc::new(|name| std::env::var(name).ok()), Tuning::default())
    }

    pub(crate) fn with(env: Env, tuning: Tuning) -> AskKind {
        AskKind { env, tuning }
    }
}

impl Kind for AskKind {
    fn kind(&self) -> JobKind {
        JobKind::Other(ASK.into())
    }

    /// Retries happen inside the attempt, where the conversation is; a
    /// second attempt is for a runner that died under the first.
    fn max_attempts(&self) -> u32 {
        2
    }

    /// The answer is read as it streams.
    fn streams_live(&self) -> bool {
        true
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        let kind = self.clone();
        Box::pin(async move { kind.ask(ctx).await })
    }
}

/// The workspace as an ask sees it.
struct Workspace {
    /// Its key in the AI tables (`ws:NAME`, `dir:PATH`).
    key: String,
    name: String,
    files: Files,
    /// Paths the importer flagged as holding secrets.
    secret_paths: Vec<String>,
    /// The chosen files, in the order given.
    chosen: Vec<Chosen>,
    /// Paths and texts for the map.
    mapped: Vec<(String, String)>,
    /// Files not mapped (past [`MAP_FILES`]).
    unmapped: usize,
}

/// A file sent with the request: whole, or the lines chosen
/// (`PATH:FIRST-LAST`).
struct Chosen {
    path: String,
    text: String,
    range: Option<(usize, usize)>,
}

/// What one attempt is doing, for the log and the records.
struct Run<'a> {
    ctx: &'a JobContext,
    endpoint: Endpoint,
    http: reqwest::Client,
    /// The provider's timeouts: its `[ai.NAME]` table's, `[ai]`'s, or the
    /// kind's defaults.
    timeouts: Timeouts,
    pricing: Pricing,
    workspace_key: String,
    conversation: i64,
    /// Sums over every call of the job.
    usage: Usage,
    cost_micros: i64,
    unpriced: bool,
}

impl Run<'_> {
    fn say(&self, line: &str) {
        say(self.ctx, line);
    }
}

/// A line of kollega's own in the log, and on the terminal of a
/// foreground run.
pub(crate) fn say(ctx: &JobContext, line: &str) {
    ctx.log.info(line);
    if ctx.tee == Tee::Stdio {
        eprintln!("[kollega] {line}");
    }
}

/// Text of the answer as it arrives: into the log, and to stderr in a
/// foreground run.
pub(crate) fn show(ctx: &JobContext, text: &str) {
    ctx.log.write(Stream::Stdout, text.as_bytes());
    if ctx.tee == Tee::Stdio {
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
    }
}

/// Ends the answer's last line in the log and on the terminal.
pub(crate) fn end_text(ctx: &JobContext, shown: &str) {
    if !shown.is_empty() && !shown.ends_with('\n') {
        show(ctx, "\n");
    }
    ctx.log.end_streams();
}

fn permanent(e: &impl Hint) -> JobError {
    JobError::permanent(describe(e))
}

fn store_error(e: JobsError) -> JobError {
    match e {
        JobsError::UnknownWorkspace(_) | JobsError::BadInput(_) => permanent(&e),
        other => JobError::transient(describe(&other)),
    }
}

fn provider_of(name: &str) -> Result<Provider, JobError> {
    match name {
        "openai" => Ok(Provider::OpenAi),
        "anthropic" => Ok(Provider::Anthropic),
        "compat" => Ok(Provider::Compat),
        other => Err(JobError::permanent(format!(
            "no provider {other:?}; pick openai, anthropic or compat (--provider, or [ai] provider in config.toml)"
        ))),
    }
}

/// Resolves once the job is asked to stop.
pub(crate) async fn stopped(stop: &StopToken) {
    while stop.reason().is_none() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn stop_error() -> JobError {
    JobError::failed("stopped")
}

/// Waits `wait`, or less when the job is stopped.
async fn pause(stop: &StopToken, wait: Duration) -> Result<(), JobError> {
    tokio::select! {
        () = tokio::time::sleep(wait) => Ok(()),
        () = stopped(stop) => Err(stop_error()),
    }
}

/// Where a job's calls go: `provider` (else `[ai] provider`), `model`
/// (else the provider's `[ai.NAME] model`, else its default), the base URL
/// from the environment, else `[ai.NAME] base_url`; the key from `env`.
pub(crate) fn endpoint_for(
    ai: &crate::config::AiConfig,
    provider: Option<&str>,
    model: Option<&str>,
    env: &Env,
) -> Result<Endpoint, JobError> {
    let provider = provider_of(provider.unwrap_or(&ai.provider))?;
    let section = ai.provider(provider.name()).cloned().unwrap_or_default();
    let model = model.map(str::to_string).or(section.model.clone());
    let base = section.base_url.clone();
    Endpoint::from_env(provider, model.as_deref(), |name| {
        env(name).or_else(|| {
            (name == provider.base_var())
                .then(|| base.clone())
                .flatten()
        })
    })
    .map_err(|e| permanent(&e))
}

/// The connect and idle timeouts for `provider`: `[ai.NAME]`'s, else
/// `[ai]`'s, else `default`.
pub(crate) fn timeouts_for(
    ai: &crate::config::AiConfig,
    provider: &str,
    default: Timeouts,
) -> Timeouts {
    let (connect, idle) = ai.timeouts(provider);
    Timeouts {
        connect: connect.unwrap_or(default.connect),
        idle: idle.unwrap_or(default.idle),
    }
}

/// The prices costs are reckoned with: the user's `pricing.toml` in the
/// config directory, else (said in the job's log) the bundled ones.
pub(crate) fn pricing_for(ctx: &JobContext) -> Pricing {
    match ctx.config.config_dir.as_ref() {
        Some(dir) => Pricing::load(&dir.join("pricing.toml")).unwrap_or_else(|e| {
            say(
                ctx,
                &format!("{}; costs use the bundled prices", describe(&e)),
            );
            Pricing::bundled()
        }),
        None => Pricing::bundled(),
    }
}

/// A failed call's short name, as `ai_calls.outcome` records it.
pub(crate) fn outcome(e: &CallError) -> String {
    match e {
        CallError::Http { failure, .. } => match (failure.status, failure.code.as_deref()) {
            (429, Some("insufficient_quota")) => "quota".into(),
            (429, _) => "rate-limited".into(),
            (529, _) => "overloaded".into(),
            (401 | 403, _) => "refused-key".into(),
            (500..=599, _) => "server-error".into(),
            (status, _) => format!("http-{status}"),
        },
        CallError::Idle { .. } => "timeout".into(),
        CallError::Connect { .. } => "connect".into(),
        CallError::Wire { source } => match source {
            WireError::Cut { .. } | WireError::Stream { .. } => "cut".into(),
            WireError::Malformed { .. } => "malformed".into(),
            WireError::Failed { .. } => "failed-mid-reply".into(),
        },
        CallError::NoKey { .. } | CallError::BadKey { .. } | CallError::BadBaseUrl { .. } => {
            "not-sent".into()
        }
    }
}

/// What to do after a failed call: wait this long and try again, or stop.
fn next_try(e: &CallError, tuning: &Tuning, tried: u32) -> Option<Duration> {
    let backoff = || {
        tuning
            .backoff
            .saturating_mul(1 << tried.saturating_sub(1).min(8))
    };
    match e {
        CallError::Http { failure, .. } => match &failure.retry {
            Retry::After(wait) if *wait <= tuning.max_wait => Some(*wait),
            Retry::After(_) | Retry::Never => None,
            Retry::Backoff => Some(backoff()),
        },
        CallError::Connect { .. } | CallError::Idle { .. } => Some(backoff()),
        // An overload or server error reported inside the stream.
        CallError::Wire {
            source: WireError::Failed { code, .. },
        } if ["overloaded", "server_error", "rate_limit", "api_error"]
            .iter()
            .any(|c| code.contains(c)) =>
        {
            Some(backoff())
        }
        // A cut stream or malformed JSON: the text so far is in the log.
        CallError::Wire { .. } => None,
        CallError::NoKey { .. } | CallError::BadKey { .. } | CallError::BadBaseUrl { .. } => None,
    }
}

/// The job's error for a call that will not be tried again.
fn call_error(e: &CallError, tuning: &Tuning) -> JobError {
    let partial = e.partial();
    let kept = if partial.is_empty() {
        String::new()
    } else {
        format!(
            " ({} characters of the reply are kept in the job's log)",
            partial.chars().count()
        )
    };
    if let CallError::Http { failure, .. } = e
        && let Retry::After(wait) = failure.retry
        && wait > tuning.max_wait
    {
        return JobError::failed(format!(
            "{e}; the provider asks to wait {} s: ask again later, or pick another provider with --provider",
            wait.as_secs()
        ));
    }
    let message = format!("{e}{kept}; {}", e.hint());
    match next_try(e, tuning, 1) {
        // Tried as often as the job tries.
        Some(_) => JobError::failed(message),
        None => JobError::permanent(message),
    }
}

impl AskKind {
    async fn ask(&self, ctx: JobContext) -> Result<Value, JobError> {
        let payload = AskPayload::of(&ctx.job)?;
        let ai = ctx.config.ai.clone();
        let endpoint = endpoint_for(
            &ai,
            payload.provider.as_deref(),
            payload.model.as_deref(),
            &self.env,
        )?;
        let provider = endpoint.provider;
        let format = payload
            .format
            .clone()
            .or(ai
                .provider(provider.name())
                .and_then(|section| section.format.clone()))
            .unwrap_or_else(|| prompt::DEFAULT_FORMAT.to_string());
        let timeouts = timeouts_for(&ai, provider.name(), self.tuning.timeouts);
        let http = client::http_client(&endpoint, timeouts).map_err(|e| permanent(&e))?;
        let pricing = pricing_for(&ctx);

        let workspace = load(&ctx, &payload).await?;
        let mut context = Context::new(ai.budget_tokens, workspace.secret_paths.clone());
        let scanner = SecretScanner::new();
        for Chosen { path, text, range } in &workspace.chosen {
            let flagged = WorkspacePath::parse(path)
                .ok()
                .and_then(|p| scanner.scan(&p, text));
            if let Some(rule) = flagged {
                return Err(JobError::permanent(format!(
                    "{path} is never sent to a model: it holds a secret ({rule}); move the value to an untracked .env file, or leave the file out"
                )));
            }
            match range {
                Some((first, last)) => context.add_range(path, text, *first, *last),
                None => context.add_file(path, text),
            }
            .map_err(|e| context_error(&e))?;
        }
        let map_pairs = workspace
            .mapped
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()));
        if let Err(e) = context.add_map(map_pairs) {
            say(&ctx, &format!("the workspace map is left out: {e}"));
        } else if workspace.unmapped > 0 {
            say(
                &ctx,
                &format!(
                    "the workspace map shows {MAP_FILES} files; {} more are left out",
                    workspace.unmapped
                ),
            );
        }
        let similar = similar_names(&payload.prompt, &workspace);
        say(
            &ctx,
            &format!(
                "asking {} {} about {} (prompt {}, {} format, about {} context tokens of {})",
                provider.name(),
                endpoint.model,
                workspace.name,
                prompt::VERSION,
                format,
                context.tokens(),
                ai.budget_tokens
            ),
        );

        // The conversation: continued, or started with this prompt.
        let key = workspace.key.clone();
        let title: String = payload
            .prompt
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(80)
            .collect();
        let (provider_name, model_name) = (provider.name().to_string(), endpoint.model.clone());
        let continued = payload.conversation;
        let (conversation, earlier, last_response_id) = ctx
            .db
            .call(move |store| {
                let now = now_ms();
                match continued {
                    Some(id) => {
                        let found = conversations::get(&store.conn, id)?
                            .filter(|c| c.workspace_key == key)
                            .ok_or_else(|| {
                                JobsError::BadInput(format!(
                                    "there is no conversation {id} in this workspace; `kollega ask --continue` picks the latest"
                                ))
                            })?;
                        let turns = conversations::turns(&store.conn, id)?;
                        let last = found.last_response_id.filter(|_| found.provider == provider_name);
                        Ok((id, turns, last))
                    }
                    None => {
                        let id = conversations::create(
                            &store.conn,
                            &key,
                            &title,
                            &provider_name,
                            &model_name,
                            now,
                        )?;
                        Ok((id, Vec::new(), None))
                    }
                }
            })
            .await
            .map_err(store_error)?;
        record_turn(&ctx.db, conversation, Role::User, &payload.prompt, None).await?;

        let mut run = Run {
            ctx: &ctx,
            endpoint,
            http,
            timeouts,
            pricing,
            workspace_key: workspace.key.clone(),
            conversation,
            usage: Usage::default(),
            cost_micros: 0,
            unpriced: false,
        };
        let instructions = prompt::instructions(&format);
        let first = prompt::request(&context.render(), &similar, &payload.prompt);
        let responses = provider == Provider::OpenAi;
        // On the Responses API the provider keeps the conversation.
        let mut previous = if responses { last_response_id } else { None };
        let mut history: Vec<Message> = if previous.is_some() {
            Vec::new()
        } else {
            earlier
                .into_iter()
                .map(|t| Message {
                    assistant: t.role == Role::Assistant,
                    text: t.text,
                })
                .collect()
        };
        let mut asking = first;
        let mut round = 0;
        let outcome = loop {
            round += 1;
            let request = Request {
                instructions: &instructions,
                history: &history,
                prompt: &asking,
                previous_response_id: previous.as_deref(),
                max_output_tokens: self.tuning.max_output_tokens,
            };
            if round > 1 {
                run.say(&format!(
                    "follow-up {} of at most {}",
                    round - 1,
                    ai.max_rounds
                ));
            }
            let reply = self.call(&mut run, &request).await?;
            let kept_id = reply.response_id.as_deref().filter(|_| responses);
            record_turn(&ctx.db, conversation, Role::Assistant, &reply.text, kept_id).await?;
            if let super::wire::Stop::Truncated(why) = &reply.stop {
                run.say(&format!(
                    "the reply was cut short by the provider ({why}); its edits may be incomplete"
                ));
            }
            let failure = match resolve(&ctx, &workspace.files, &reply.text).await? {
                Resolved::Patch(patch) => break Some((patch, reply)),
                Resolved::NoEdits => break None,
                Resolved::Failed(failure) => failure,
            };
            run.say(&format!(
                "the reply does not apply: {}",
                failure.lines().next().unwrap_or_default()
            ));
            if round > ai.max_rounds {
                return Err(JobError::failed(format!(
                    "{}; the model was asked {} times. Its answers are in the job's log; ask again with the file it names attached (--file)",
                    failure.lines().next().unwrap_or_default(),
                    round
                )));
            }
            let follow_up = prompt::recovery(&failure);
            record_turn(&ctx.db, conversation, Role::User, &follow_up, None).await?;
            match reply.response_id.filter(|_| responses) {
                Some(id) => {
                    previous = Some(id);
                    history.clear();
                }
                None => {
                    previous = None;
                    history.push(Message {
                        assistant: false,
                        text: std::mem::take(&mut asking),
                    });
                    history.push(Message {
                        assistant: true,
                        text: reply.text,
                    });
                }
            }
            asking = follow_up;
        };
        let usage_json = json!({
            "inputTokens": run.usage.input,
            "outputTokens": run.usage.output,
            "cachedTokens": run.usage.cached,
            "costUsd": (!run.unpriced).then(|| usage::dollars(run.cost_micros)),
        });
        let Some((patch, reply)) = outcome else {
            run.say("the answer holds no edits: nothing to review");
            return Ok(json!({
                "patchId": null, "files": 0, "hunks": 0, "usage": usage_json,
                "conversationId": conversation,
            }));
        };
        let files = patch.files.len();
        let hunks: usize = patch.files.iter().map(|f| f.hunks.len()).sum();
        let patch_id = store_patch(
            &ctx,
            &workspace.key,
            conversation,
            &payload.prompt,
            &reply.text,
            &patch,
        )
        .await?;
        run.say(&format!(
            "patch {patch_id}: {files} file(s), {hunks} hunk(s), pending review (`kollega review {patch_id}`)"
        ));
        Ok(json!({
            "patchId": patch_id, "files": files, "hunks": hunks, "usage": usage_json,
            "conversationId": conversation,
        }))
    }

    /// One round's call, tried again as its failure allows; every try is
    /// recorded.
    async fn call(&self, run: &mut Run<'_>, request: &Request<'_>) -> Result<Reply, JobError> {
        let ctx = run.ctx;
        let mut tried = 0;
        loop {
            tried += 1;
            if ctx.stop.reason().is_some() {
                return Err(stop_error());
            }
            let started = Instant::now();
            let mut shown = String::new();
            let result = tokio::select! {
                r = client::stream(&run.http, &run.endpoint, request, run.timeouts, |text| {
                    show(ctx, text);
                    shown.push_str(text);
                }) => r,
                () = stopped(&ctx.stop) => {
                    end_text(ctx, &shown);
                    self.record(run, None, "cancelled", started).await;
                    return Err(stop_error());
                }
            };
            end_text(ctx, &shown);
            match result {
                Ok(reply) => {
                    self.record(run, Some(&reply), "ok", started).await;
                    return Ok(reply);
                }
                Err(e) => {
                    self.record(run, None, &outcome(&e), started).await;
                    if !e.partial().is_empty() {
                        run.say(&format!(
                            "the reply broke off after {} characters (shown above)",
                            e.partial().chars().count()
                        ));
                    }
                    let wait = next_try(&e, &self.tuning, tried);
                    match wait {
                        Some(wait) if tried < self.tuning.tries => {
                            run.say(&format!(
                                "{e}; try {tried} of {}, next in {} ms",
                                self.tuning.tries,
                                wait.as_millis()
                            ));
                            pause(&ctx.stop, wait).await?;
                        }
                        _ => return Err(call_error(&e, &self.tuning)),
                    }
                }
            }
        }
    }

    /// Records one HTTP request and adds its usage to the job's.
    async fn record(
        &self,
        run: &mut Run<'_>,
        reply: Option<&Reply>,
        outcome: &str,
        started: Instant,
    ) {
        let usage = reply.map(|r| r.usage).unwrap_or_default();
        let model = reply
            .and_then(|r| r.model.clone())
            .unwrap_or_else(|| run.endpoint.model.clone());
        let cost = reply.and_then(|_| run.pricing.cost(&model, &usage));
        run.usage.input += usage.input;
        run.usage.output += usage.output;
        run.usage.cached += usage.cached;
        match cost {
            Some(dollars) => run.cost_micros += usage::micros(dollars),
            None if reply.is_some() => run.unpriced = true,
            None => {}
        }
        let row = (
            run.workspace_key.clone(),
            run.ctx.job.id,
            run.conversation,
            run.endpoint.provider.name(),
            model,
            reply.and_then(|r| r.response_id.clone()),
            usage,
            cost.map(usage::micros),
            started.elapsed(),
            outcome.to_string(),
        );
        let written = run
            .ctx
            .db
            .call(move |store| {
                let (
                    key,
                    job,
                    conversation,
                    provider,
                    model,
                    response_id,
                    usage,
                    cost,
                    took,
                    outcome,
                ) = row;
                let call = ai_calls::NewCall {
                    workspace_key: Some(&key),
                    job_id: Some(job),
                    conversation_id: Some(conversation),
                    session: usage::session(),
                    provider,
                    model: &model,
                    prompt_version: prompt::VERSION,
                    response_id: response_id.as_deref(),
                    input_tokens: usage.input,
                    output_tokens: usage.output,
                    cached_tokens: usage.cached,
                    cost_micros: cost,
                    duration_ms: took.as_millis().min(i64::MAX as u128) as i64,
                    outcome: &outcome,
                };
                ai_calls::insert(&store.conn, &call, now_ms())?;
                Ok(())
            })
            .await;
        if let Err(e) = written {
            // The call happened; a store that refuses its row is no reason
            // to throw the answer away.
            run.say(&format!(
                "the call's usage was not recorded: {}",
                describe(&e)
            ));
        }
    }
}

fn context_error(e: &ContextError) -> JobError {
    let hint = match e {
        ContextError::Secret { .. } => "leave the file out; kollega never sends it",
        ContextError::OverBudget { .. } => {
            "attach fewer or smaller files, or raise budget_tokens under [ai] in config.toml"
        }
        ContextError::BadRange { .. } => "give a range inside the file",
    };
    JobError::permanent(format!("{e}; {hint}"))
}

async fn record_turn(
    db: &Db,
    conversation: i64,
    role: Role,
    text: &str,
    response_id: Option<&str>,
) -> Result<(), JobError> {
    let turn = Turn {
        role,
        text: text.to_string(),
    };
    let response_id = response_id.map(str::to_string);
    db.call(move |store| {
        conversations::add_turn(
            &mut store.conn,
            conversation,
            &turn,
            response_id.as_deref(),
            now_ms(),
        )?;
        Ok(())
    })
    .await
    .map_err(store_error)
}

/// The key a workspace's conversations, calls and patches are kept under:
/// its name for a stored workspace, its folder for one on disk (a
/// taken-over repository included), as the terminal UI keys its drafts.
pub(crate) fn workspace_key(place: &Place) -> String {
    match place {
        Place::Store { name, .. } => crate::store::drafts::sqlite_key(name),
        Place::Git { dir, .. } | Place::Dir(dir) => {
            let root = DiskWorkspace::open(dir)
                .map(|d| d.root().to_path_buf())
                .unwrap_or_else(|_| dir.clone());
            crate::store::drafts::dir_key(&root)
        }
    }
}

/// Reads the job's workspace: where its files are, what is flagged, the
/// chosen files and the files for the map.
async fn load(ctx: &JobContext, payload: &AskPayload) -> Result<Workspace, JobError> {
    let job = ctx.job.clone();
    let wanted = payload.files.clone();
    ctx.db
        .call(move |store| {
            let place = place_of(store, &job)?.ok_or_else(|| {
                JobsError::BadInput("an ask job names no workspace".into())
            })?;
            let disk = |dir: &std::path::Path| {
                DiskWorkspace::open(dir).map_err(|e| {
                    JobsError::BadInput(format!("cannot open the folder {}: {e}", dir.display()))
                })
            };
            let key = workspace_key(&place);
            let (name, files, id) = match &place {
                Place::Store { id, name } => (name.clone(), Files::Sqlite { id: *id }, Some(*id)),
                Place::Git { name, dir } => {
                    let disk = disk(dir)?.respecting_gitignore();
                    let id = crate::store::workspaces::id_of(&store.conn, name)?;
                    (name.clone(), Files::Dir(disk), id)
                }
                Place::Dir(dir) => {
                    let mut disk = disk(dir)?;
                    if crate::git::repo::Repo::open(disk.root()).is_ok() {
                        disk = disk.respecting_gitignore();
                    }
                    (place.workspace(), Files::Dir(disk), None)
                }
            };
            let secret_paths = match id {
                Some(id) => crate::store::workspaces::skipped(&store.conn, id)?
                    .into_iter()
                    .filter(|s| s.reason == "secret")
                    .map(|s| s.path)
                    .collect(),
                None => Vec::new(),
            };
            let read_error = |path: &str, e: &dyn std::fmt::Display| {
                JobsError::BadInput(format!("cannot read {path} of {name}: {e}"))
            };
            let mut chosen = Vec::new();
            for raw in &wanted {
                let (path, range) = split_range(raw.trim_start_matches("./"));
                // Never read, so never at risk of being sent.
                if context::is_never_sent(&path) || secret_paths.contains(&path) {
                    return Err(JobsError::BadInput(format!(
                        "{path} is never sent to a model: it holds or may hold secrets; leave it out"
                    )));
                }
                let text = files
                    .read(Some(store), &path)
                    .map_err(|e| read_error(&path, &e))?
                    .ok_or_else(|| {
                        JobsError::BadInput(format!(
                            "{name} has no file {path}; `kollega show {name}` lists its files"
                        ))
                    })?;
                chosen.push(Chosen { path, text, range });
            }
            let ignored = crate::config::DEFAULT_IGNORED
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>();
            let all = files
                .list(Some(store), &ignored)
                .map_err(|e| read_error("the file list", &e))?;
            let mut mapped = Vec::new();
            for path in all.iter().filter(|p| !context::is_never_sent(p)).take(MAP_FILES) {
                if secret_paths.contains(path) {
                    continue;
                }
                // A file that cannot be read as text is left off the map.
                if let Ok(Some(text)) = files.read(Some(store), path) {
                    mapped.push((path.clone(), text));
                }
            }
            Ok(Workspace {
                key,
                name,
                files,
                secret_paths,
                chosen,
                unmapped: all.len().saturating_sub(MAP_FILES),
                mapped,
            })
        })
        .await
        .map_err(store_error)
}

/// `PATH:FIRST-LAST` as the path and its lines; a plain path whole.
fn split_range(raw: &str) -> (String, Option<(usize, usize)>) {
    let parsed = raw.rsplit_once(':').and_then(|(path, range)| {
        let (first, last) = range.split_once('-')?;
        Some((path, (first.parse().ok()?, last.parse().ok()?)))
    });
    match parsed {
        Some((path, range)) => (path.to_string(), Some(range)),
        None => (raw.to_string(), None),
    }
}

/// Existing paths and symbols that look like names in the prompt.
fn similar_names(prompt_text: &str, workspace: &Workspace) -> Vec<String> {
    let mut names: Vec<(String, String)> = Vec::new();
    for (path, text) in &workspace.mapped {
        names.push((path.clone(), path.clone()));
        for symbol in context::symbols(path, text) {
            names.push((symbol.clone(), format!("{symbol} in {path}")));
        }
    }
    let mut found: Vec<String> = Vec::new();
    for wanted in prompt::names_in(prompt_text) {
        let hits = context::similar(&wanted, names.iter().map(|(n, _)| n.as_str()));
        for hit in hits {
            if let Some((_, shown)) = names.iter().find(|(n, _)| n == hit)
                && !found.contains(shown)
            {
                found.push(shown.clone());
            }
        }
    }
    found.truncate(SIMILAR_SHOWN);
    found
}

/// How an answer's edits came out.
enum Resolved {
    Patch(Patch),
    NoEdits,
    /// What to tell the model.
    Failed(String),
}

/// The answer's edits against the workspace's current files.
async fn resolve(ctx: &JobContext, files: &Files, answer: &str) -> Result<Resolved, JobError> {
    let edits = match reply::parse_reply(answer) {
        Ok(edits) => edits,
        Err(ReplyError::NoEdits) => return Ok(Resolved::NoEdits),
        Err(e) => return Ok(Resolved::Failed(format!("{e}\n"))),
    };
    let files = files.clone();
    ctx.db
        .call(move |store| {
            let store = std::cell::RefCell::new(store);
            let read = |path: &str| {
                let mut store = store.borrow_mut();
                files.read(Some(&mut **store), path).ok().flatten()
            };
            let resolved = reply::resolve(&edits, read);
            Ok(match resolved {
                Ok(patch) if patch.files.is_empty() => Resolved::NoEdits,
                Ok(patch) => Resolved::Patch(patch),
                Err(e) => {
                    let (edit, file) = match &e {
                        ReplyError::DoesNotApply { line, path, .. } => {
                            (edits.iter().find(|edit| edit.line() == *line), read(path))
                        }
                        _ => (None, None),
                    };
                    Resolved::Failed(prompt::failure_detail(
                        &e.to_string(),
                        edit,
                        file.as_deref(),
                    ))
                }
            })
        })
        .await
        .map_err(store_error)
}

async fn store_patch(
    ctx: &JobContext,
    workspace_key: &str,
    conversation: i64,
    prompt_text: &str,
    answer: &str,
    patch: &Patch,
) -> Result<i64, JobError> {
    let key = workspace_key.to_string();
    let title: String = prompt_text
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(120)
        .collect();
    let message = prompt::commit_message(answer);
    let patch = patch.clone();
    let job = ctx.job.id;
    ctx.db
        .call(move |store| {
            crate::proposal::store_patch(
                store,
                &key,
                &patch,
                patches::Source::Ask,
                &title,
                message.as_deref(),
                Some(job),
                Some(conversation),
            )
            .map_err(|e| crate::jobs::JobsError::BadInput(crate::error::describe(&e)))
        })
        .await
        .map_err(store_error)
}

#[cfg(test)]
mod tests;
