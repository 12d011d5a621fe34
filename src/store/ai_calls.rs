//! Queries of the `ai_calls` table: one row per HTTP request to a model,
//! whatever its end, with what it cost. Totals per workspace, per
//! provider and model, and per session answer `kollega usage`; the rows
//! feed the AI series of the metrics.
//!
//! A row holds names, counts and the provider's response id: never a key,
//! a header or the request itself.

use rusqlite::{Connection, params};

use super::Result;

/// One finished request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewCall<'a> {
    pub workspace_key: Option<&'a str>,
    pub job_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub session: &'a str,
    pub provider: &'a str,
    pub model: &'a str,
    pub prompt_version: &'a str,
    pub response_id: Option<&'a str>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    /// Millionths of a dollar; `None` when the model has no price.
    pub cost_micros: Option<i64>,
    pub duration_ms: i64,
    /// `ok`, or the failure's short name.
    pub outcome: &'a str,
}

/// Records a request; its id.
pub(crate) fn insert(conn: &Connection, call: &NewCall<'_>, now: i64) -> Result<i64> {
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    conn.execute(
        "INSERT INTO ai_calls (workspace_key, job_id, conversation_id, session, provider, model,
                               prompt_version, response_id, input_tokens, output_tokens,
                               cached_tokens, cost_micros, duration_ms, outcome, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            call.workspace_key,
            call.job_id,
            call.conversation_id,
            call.session,
            call.provider,
            call.model,
            call.prompt_version,
            call.response_id,
            count(call.input_tokens),
            count(call.output_tokens),
            count(call.cached_tokens),
            call.cost_micros,
            call.duration_ms.max(0),
            call.outcome,
            now
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// What the totals are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// Everything together.
    All,
    Workspace,
    /// Provider and model.
    Model,
    Session,
}

/// The sums of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    /// The group's names: none, the workspace key, provider and model, or
    /// the session.
    pub key: Vec<String>,
    pub requests: i64,
    /// Requests that did not end with a reply.
    pub failed: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_tokens: i64,
    /// The sum over the requests with a known price.
    pub cost_micros: i64,
    /// Requests whose model has no price: the cost is a lower bound.
    pub unpriced: i64,
    /// The first and last request, Unix milliseconds.
    pub first_at: i64,
    pub last_at: i64,
}

/// The sums per `group`, the most recent first.
pub(crate) fn totals(conn: &Connection, group: Group) -> Result<Vec<Totals>> {
    let keys: &[&str] = match group {
        Group::All => &[],
        Group::Workspace => &["COALESCE(workspace_key, '')"],
        Group::Model => &["provider", "model"],
        Group::Session => &["session"],
    };
    let select_keys: String = keys.iter().map(|k| format!("{k}, ")).collect();
    let group_by = if keys.is_empty() {
        String::new()
    } else {
        format!("GROUP BY {}", keys.join(", "))
    };
    let sql = format!(
        "SELECT {select_keys} COUNT(*), SUM(outcome <> 'ok'), SUM(input_tokens),
                SUM(output_tokens), SUM(cached_tokens), SUM(COALESCE(cost_micros, 0)),
                SUM(cost_micros IS NULL), MIN(created_at), MAX(created_at)
         FROM ai_calls {group_by} HAVING COUNT(*) > 0 ORDER BY MAX(created_at) DESC, MAX(id) DESC"
    );
    let mut stmt = conn.prepare(&sql)?;
    let n = keys.len();
    let rows = stmt.query_map([], |r| {
        let mut key = Vec::with_capacity(n);
        for i in 0..n {
            key.push(r.get::<_, String>(i)?);
        }
        Ok(Totals {
            key,
            requests: r.get(n)?,
            failed: r.get(n + 1)?,
            input_tokens: r.get(n + 2)?,
            output_tokens: r.get(n + 3)?,
            cached_tokens: r.get(n + 4)?,
            cost_micros: r.get(n + 5)?,
            unpriced: r.get(n + 6)?,
            first_at: r.get(n + 7)?,
            last_at: r.get(n + 8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Requests, tokens (in and out) and known cost of the calls of one
/// workspace (`workspace_key`) and/or one process (`session`); `None`
/// leaves that side open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sums {
    pub requests: i64,
    pub tokens: i64,
    pub cost_micros: i64,
}

/// The [`Sums`] of the calls matching `workspace_key` and `session`.
pub(crate) fn sums(
    conn: &Connection,
    workspace_key: Option<&str>,
    session: Option<&str>,
) -> Result<Sums> {
    Ok(conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(input_tokens + output_tokens), 0),
                COALESCE(SUM(COALESCE(cost_micros, 0)), 0)
         FROM ai_calls
         WHERE (?1 IS NULL OR workspace_key = ?1) AND (?2 IS NULL OR session = ?2)",
        params![workspace_key, session],
        |r| {
            Ok(Sums {
                requests: r.get(0)?,
                tokens: r.get(1)?,
                cost_micros: r.get(2)?,
            })
        },
    )?)
}

/// What the metrics need of each request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CallFigures {
    pub provider: String,
    pub model: String,
    pub outcome: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_tokens: i64,
    pub cost_micros: Option<i64>,
    pub duration_ms: i64,
}

/// Every request's figures, for the metrics.
pub(crate) fn figures(conn: &Connection) -> Result<Vec<CallFigures>> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider, model, outcome, input_tokens, output_tokens, cached_tokens,
                cost_micros, duration_ms
         FROM ai_calls",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(CallFigures {
            provider: r.get(0)?,
            model: r.get(1)?,
            outcome: r.get(2)?,
            input_tokens: r.get(3)?,
            output_tokens: r.get(4)?,
            cached_tokens: r.get(5)?,
            cost_micros: r.get(6)?,
            duration_ms: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn call<'a>(
        session: &'a str,
        model: &'a str,
        cost: Option<i64>,
        outcome: &'a str,
    ) -> NewCall<'a> {
        NewCall {
            workspace_key: Some("ws:a"),
            job_id: Some(1),
            conversation_id: None,
            session,
            provider: "openai",
            model,
            prompt_version: "edit.v1",
            response_id: Some("resp_1"),
            input_tokens: 100,
            output_tokens: 10,
            cached_tokens: 40,
            cost_micros: cost,
            duration_ms: 1200,
            outcome,
        }
    }

    #[test]
    fn totals_add_up_per_group_and_unknown_prices_are_counted_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        insert(&store.conn, &call("s1", "gpt-5.1", Some(250), "ok"), 1).unwrap();
        insert(
            &store.conn,
            &call("s1", "gpt-5.1", Some(0), "rate-limited"),
            2,
        )
        .unwrap();
        insert(&store.conn, &call("s2", "local", None, "ok"), 3).unwrap();
        let all = totals(&store.conn, Group::All).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(
            (
                all[0].requests,
                all[0].failed,
                all[0].input_tokens,
                all[0].cost_micros,
                all[0].unpriced
            ),
            (3, 1, 300, 250, 1)
        );
        let models = totals(&store.conn, Group::Model).unwrap();
        assert_eq!(models[0].key, ["openai", "local"], "most recent first");
        assert_eq!(models[1].requests, 2);
        let sessions = totals(&store.conn, Group::Session).unwrap();
        assert_eq!(
            sessions
                .iter()
                .map(|t| t.key[0].as_str())
                .collect::<Vec<_>>(),
            ["s2", "s1"]
        );
        assert_eq!(figures(&store.conn).unwrap().len(), 3);
        assert!(
            totals(
                &Store::open(tempfile::tempdir().unwrap().path())
                    .unwrap()
                    .conn,
                Group::All
            )
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn sums_of_a_workspace_and_of_a_session() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            sums(&store.conn, Some("ws:a"), None).unwrap(),
            Sums::default()
        );
        insert(&store.conn, &call("s1", "gpt-5.1", Some(250), "ok"), 1).unwrap();
        insert(&store.conn, &call("s2", "local", None, "ok"), 2).unwrap();
        let other = NewCall {
            workspace_key: Some("ws:b"),
            ..call("s1", "gpt-5.1", Some(1_000), "ok")
        };
        insert(&store.conn, &other, 3).unwrap();
        let sums_of = |ws, session| sums(&store.conn, ws, session).unwrap();
        assert_eq!(
            sums_of(Some("ws:a"), None),
            Sums {
                requests: 2,
                tokens: 220,
                cost_micros: 250
            }
        );
        assert_eq!(
            sums_of(None, Some("s1")),
            Sums {
                requests: 2,
                tokens: 220,
                cost_micros: 1_250
            }
        );
        assert_eq!(sums_of(Some("ws:b"), Some("s2")).requests, 0);
        assert_eq!(sums_of(None, None).requests, 3);
    }
}
