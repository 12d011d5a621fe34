//! Nudges: a routine job (`nudge`, every 15 minutes) finds the action
//! items not done and untouched by a user for `[meetings] nudge_after`
//! (48 h) and not nudged in the last 24 hours, and nudges each once: a
//! `badge` row in the nudge log (the dashboard reads it for its badge and
//! rings the terminal bell when a new one arrives), a desktop notification
//! where `notify-send` exists (skipped, and said in the log, where it does
//! not), and with a webhook configured (`nudge_webhook`,
//! `KOLLEGA_NUDGE_WEBHOOK`) a `nudge-webhook` job per item that POSTs it as
//! JSON, retried by the jobs engine with its backoff and dead after its
//! last attempt, each try logged as a nudge row. Log lines name ids and
//! counts, never an item's text.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::ai::ask::say;
use crate::jobs::kinds::{BoxFuture, JobContext, Kind};
use crate::jobs::payload::{Fields, JobPayload, PayloadError};
use crate::jobs::runner::Clock;
use crate::jobs::{JobError, JobKind};
use crate::store::meetings::actions::{self, ActionRow};

/// The routine's job kind.
pub(crate) const NUDGE: &str = "nudge";
/// One webhook POST's job kind.
pub(crate) const NUDGE_WEBHOOK: &str = "nudge-webhook";

/// No item is nudged twice within this.
pub(crate) const ONCE_PER_MS: i64 = 24 * 3_600_000;

/// The items a nudge is due for at `now`.
pub(crate) fn due(
    conn: &rusqlite::Connection,
    now: i64,
    nudge_after: Duration,
) -> crate::store::Result<Vec<ActionRow>> {
    let after = i64::try_from(nudge_after.as_millis()).unwrap_or(i64::MAX);
    actions::due_for_nudge(conn, now.saturating_sub(after), now - ONCE_PER_MS)
}

/// `notify-send` on the PATH, if there.
fn notify_send() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("notify-send"))
        .find(|p| p.is_file())
}

/// The `nudge` routine.
pub(crate) struct NudgeJob {
    clock: Clock,
}

impl NudgeJob {
    pub(crate) fn new() -> NudgeJob {
        NudgeJob {
            clock: Clock::System,
        }
    }

    #[cfg(test)]
    pub(crate) fn on(clock: Clock) -> NudgeJob {
        NudgeJob { clock }
    }
}

impl Kind for NudgeJob {
    fn kind(&self) -> JobKind {
        JobKind::Other(NUDGE.into())
    }

    fn max_attempts(&self) -> u32 {
        3
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        let now = self.clock.now();
        Box::pin(async move { nudge(ctx, now).await })
    }
}

async fn nudge(ctx: JobContext, now: i64) -> Result<Value, JobError> {
    let config = ctx.config.meetings.clone();
    let webhook = config.nudge_webhook.clone();
    let items = ctx
        .db
        .call(move |store| {
            let items = due(&store.conn, now, config.nudge_after)?;
            let tx = store.conn.transaction()?;
            let mut hooks = Vec::new();
            for item in &items {
                actions::record_nudge(&tx, item.id, "badge", "ok", None, now)?;
                if let Some(url) = &webhook {
                    let payload = WebhookPayload {
                        action: item.id,
                        url: url.clone(),
                    };
                    hooks.push(crate::store::jobs::enqueue_in(
                        &tx,
                        &payload.job(None),
                        now,
                    )?);
                }
            }
            tx.commit()?;
            Ok((items, hooks))
        })
        .await
        .map_err(JobError::from_store)?;
    let (items, hooks) = items;
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    say(
        &ctx,
        &format!("{} action item(s) nudged: {ids:?}", ids.len()),
    );
    let mut desktop = 0;
    if !items.is_empty() {
        match notify_send() {
            None => say(
                &ctx,
                "notify-send is not installed: no desktop notification",
            ),
            Some(program) => {
                for item in &items {
                    let body = match &item.due {
                        Some(due) => format!("{} (due {due})", item.text),
                        None => item.text.clone(),
                    };
                    let title = format!("Action item waiting: {}", item.meeting_title);
                    let program = program.clone();
                    let sent = tokio::task::spawn_blocking(move || {
                        std::process::Command::new(program)
                            .args(["--app-name=kollega", &title, &body])
                            .stdin(std::process::Stdio::null())
                            .stdout(std::process::Stdio::null())
                            .stderr(std::process::Stdio::null())
                            .status()
                    })
                    .await;
                    let (outcome, error) = match sent {
                        Ok(Ok(status)) if status.success() => ("ok", None),
                        Ok(Ok(status)) => ("failed", Some(format!("notify-send {status}"))),
                        Ok(Err(e)) => ("failed", Some(e.to_string())),
                        Err(e) => ("failed", Some(e.to_string())),
                    };
                    desktop += usize::from(outcome == "ok");
                    let id = item.id;
                    ctx.db
                        .call(move |store| {
                            actions::record_nudge(
                                &store.conn,
                                id,
                                "desktop",
                                outcome,
                                error.as_deref(),
                                now,
                            )?;
                            Ok(())
                        })
                        .await
                        .map_err(JobError::from_store)?;
                }
            }
        }
    }
    if !hooks.is_empty() {
        say(&ctx, &format!("webhook jobs queued: {hooks:?}"));
    }
    Ok(json!({ "nudged": ids, "desktop": desktop, "webhookJobs": hooks }))
}

/// `nudge-webhook`: one action item POSTed to `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct WebhookPayload {
    pub action: i64,
    pub url: String,
}

impl JobPayload for WebhookPayload {
    fn kind() -> JobKind {
        JobKind::Other(NUDGE_WEBHOOK.into())
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        let action: Option<i64> = f.get("action")?;
        let url: Option<String> = f.get("url")?;
        Ok(WebhookPayload {
            action: action.ok_or_else(|| f.problem("action", "is missing"))?,
            url: url.ok_or_else(|| f.problem("url", "is missing"))?,
        })
    }
}

/// The `nudge-webhook` kind.
pub(crate) struct WebhookJob {
    clock: Clock,
    timeout: Duration,
}

impl WebhookJob {
    pub(crate) fn new() -> WebhookJob {
        WebhookJob {
            clock: Clock::System,
            timeout: Duration::from_secs(10),
        }
    }
}

impl Kind for WebhookJob {
    fn kind(&self) -> JobKind {
        JobKind::Other(NUDGE_WEBHOOK.into())
    }

    /// Then it is dead: the dead letter, with its tries in the nudge log.
    fn max_attempts(&self) -> u32 {
        4
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        let now = self.clock.now();
        let timeout = self.timeout;
        Box::pin(async move { post(ctx, now, timeout).await })
    }
}

/// The JSON a webhook receives for action item `a`.
pub(crate) fn body(a: &ActionRow) -> Value {
    json!({
        "event": "kollega.nudge",
        "action": {
            "id": a.id,
            "text": a.text,
            "owner": a.owner,
            "due": a.due,
            "status": a.status.as_str(),
            "untouchedSince": crate::jobs::format_ms(a.updated_at),
        },
        "meeting": { "id": a.meeting_id, "title": a.meeting_title },
    })
}

async fn post(ctx: JobContext, now: i64, timeout: Duration) -> Result<Value, JobError> {
    let payload = WebhookPayload::of(&ctx.job)?;
    let id = payload.action;
    let Some(item) = ctx
        .db
        .call(move |store| Ok(actions::get(&store.conn, id)?))
        .await
        .map_err(JobError::from_store)?
    else {
        say(&ctx, &format!("action item {id} is gone: nothing to send"));
        return Ok(json!({ "action": id, "sent": false }));
    };
    let url = reqwest::Url::parse(&payload.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            JobError::permanent(format!(
                "the nudge webhook {:?} is not an http(s) URL; fix nudge_webhook under [meetings] in config.toml or KOLLEGA_NUDGE_WEBHOOK",
                payload.url
            ))
        })?;
    let mut client = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    if matches!(
        url.host_str(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    ) {
        client = client.no_proxy();
    }
    let sent = match client.build() {
        Ok(client) => client
            .post(url.clone())
            .json(&body(&item))
            .send()
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| {
                if r.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("it answered {}", r.status()))
                }
            }),
        Err(e) => Err(e.to_string()),
    };
    let last = ctx.job.attempt >= ctx.job.max_attempts;
    let (outcome, error) = match &sent {
        Ok(()) => ("ok", None),
        Err(e) if last => ("dead", Some(e.clone())),
        Err(e) => ("failed", Some(e.clone())),
    };
    let logged = error.clone();
    ctx.db
        .call(move |store| {
            actions::record_nudge(&store.conn, id, "webhook", outcome, logged.as_deref(), now)?;
            Ok(())
        })
        .await
        .map_err(JobError::from_store)?;
    match error {
        None => {
            say(&ctx, &format!("action item {id} sent to the nudge webhook"));
            Ok(json!({ "action": id, "sent": true }))
        }
        Some(e) => Err(JobError::transient(format!(
            "the nudge webhook {} refused action item {id}: {e}; tried {} of {} times, then the job is dead (`kollega jobs retry {}` sends it again)",
            url.host_str().unwrap_or("?"),
            ctx.job.attempt,
            ctx.job.max_attempts,
            ctx.job.id
        ))),
    }
}

#[cfg(test)]
mod tests;
