//! What model calls cost: the session this process's calls are recorded
//! under, and the totals `kollega usage` prints (per workspace, per
//! provider and model, per session), from the `ai_calls` table.

use std::sync::LazyLock;

use serde_json::{Value, json};

use crate::store::ai_calls::{self, Group, Totals};

static SESSION: LazyLock<String> =
    LazyLock::new(|| format!("{}-{}", std::process::id(), crate::store::now_ms()));

/// This process's session id: its calls add up under it.
pub(crate) fn session() -> &'static str {
    &SESSION
}

/// Dollars from millionths.
pub(crate) fn dollars(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// Millionths of a dollar, rounded.
pub(crate) fn micros(dollars: f64) -> i64 {
    (dollars * 1_000_000.0).round() as i64
}

fn totals_json(t: &Totals) -> Value {
    json!({
        "requests": t.requests,
        "failed": t.failed,
        "inputTokens": t.input_tokens,
        "outputTokens": t.output_tokens,
        "cachedTokens": t.cached_tokens,
        "costUsd": dollars(t.cost_micros),
        "unpricedRequests": t.unpriced,
        "firstAt": crate::jobs::format_ms(t.first_at),
        "lastAt": crate::jobs::format_ms(t.last_at),
    })
}

/// The sessions shown: the most recent ones.
const SESSIONS_SHOWN: usize = 10;

/// Every total, as `kollega usage --json` prints it: `total`,
/// `workspaces` (by workspace key), `models` (by provider and model) and
/// the most recent `sessions`, each newest first.
pub(crate) fn report(conn: &rusqlite::Connection) -> Result<Value, crate::store::StoreError> {
    let total = ai_calls::totals(conn, Group::All)?
        .into_iter()
        .next()
        .unwrap_or_default();
    let with = |group: Group,
                names: &[&str],
                take: usize|
     -> Result<Vec<Value>, crate::store::StoreError> {
        Ok(ai_calls::totals(conn, group)?
            .iter()
            .take(take)
            .map(|t| {
                let mut value = totals_json(t);
                for (name, key) in names.iter().zip(&t.key) {
                    value[*name] = json!(key);
                }
                value
            })
            .collect())
    };
    Ok(json!({
        "total": totals_json(&total),
        "workspaces": with(Group::Workspace, &["workspace"], usize::MAX)?,
        "models": with(Group::Model, &["provider", "model"], usize::MAX)?,
        "sessions": with(Group::Session, &["session"], SESSIONS_SHOWN)?,
    }))
}
