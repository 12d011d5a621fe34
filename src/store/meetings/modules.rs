//! Queries of `meeting_modules` (which prompt-pack modules a workspace has
//! turned on, keyed `ws:NAME` / `dir:PATH` like the AI tables) and
//! `module_answers` (each module answer kept with its meeting, its prompt
//! version and the AI call that wrote it). The `answer` column holds the
//! answer's JSON for the `v2` prompts and plain text for `v1`;
//! `meetings::modules::answer::Stored` tells them apart by version.

use rusqlite::{Connection, params};

use super::super::Result;

/// Whether `module` is on for `workspace_key`.
pub(crate) fn enabled(conn: &Connection, workspace_key: &str, module: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM meeting_modules WHERE workspace_key = ?1 AND module = ?2)",
        params![workspace_key, module],
        |r| r.get(0),
    )?)
}

/// Turns `module` on (`true`) or off for `workspace_key`: whether that
/// changed anything.
pub(crate) fn set(
    conn: &Connection,
    workspace_key: &str,
    module: &str,
    on: bool,
    now: i64,
) -> Result<bool> {
    let changed = if on {
        conn.execute(
            "INSERT OR IGNORE INTO meeting_modules (workspace_key, module, enabled_at)
             VALUES (?1, ?2, ?3)",
            params![workspace_key, module, now],
        )?
    } else {
        conn.execute(
            "DELETE FROM meeting_modules WHERE workspace_key = ?1 AND module = ?2",
            params![workspace_key, module],
        )?
    };
    Ok(changed > 0)
}

/// A module answer about to be stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewAnswer<'a> {
    pub meeting_id: i64,
    pub module: &'a str,
    pub prompt_version: &'a str,
    /// The question asked, or the criteria checked.
    pub question: Option<&'a str>,
    pub answer: &'a str,
    pub ai_call_id: Option<i64>,
}

/// Stores `new`: its id, or `None` when the meeting is gone (forgotten
/// while the model wrote).
pub(crate) fn insert(conn: &Connection, new: &NewAnswer<'_>, now: i64) -> Result<Option<i64>> {
    if super::get(conn, new.meeting_id)?.is_none() {
        return Ok(None);
    }
    conn.execute(
        "INSERT INTO module_answers
             (meeting_id, module, prompt_version, question, answer, ai_call_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            new.meeting_id,
            new.module,
            new.prompt_version,
            new.question,
            new.answer,
            new.ai_call_id,
            now
        ],
    )?;
    Ok(Some(conn.last_insert_rowid()))
}

/// A stored module answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AnswerRow {
    pub id: i64,
    pub meeting_id: i64,
    pub module: String,
    pub prompt_version: String,
    pub question: Option<String>,
    pub answer: String,
    pub ai_call_id: Option<i64>,
    pub created_at: i64,
    /// What the answer's calls cost in micro-dollars (every call of the
    /// job that wrote it: a repair request too), when they were priced.
    pub cost_micros: Option<i64>,
}

/// The columns an [`AnswerRow`] is read from (`a` the answer, `c` its call).
const ANSWER_COLUMNS: &str = "a.id, a.meeting_id, a.module, a.prompt_version, a.question, a.answer,
     a.ai_call_id, a.created_at,
     CASE WHEN c.job_id IS NULL THEN c.cost_micros
          ELSE (SELECT SUM(j.cost_micros) FROM meeting_ai_calls l
                JOIN ai_calls j ON j.id = l.ai_call_id
                WHERE l.meeting_id = a.meeting_id AND j.job_id = c.job_id) END";

fn answer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AnswerRow> {
    Ok(AnswerRow {
        id: r.get(0)?,
        meeting_id: r.get(1)?,
        module: r.get(2)?,
        prompt_version: r.get(3)?,
        question: r.get(4)?,
        answer: r.get(5)?,
        ai_call_id: r.get(6)?,
        created_at: r.get(7)?,
        cost_micros: r.get(8)?,
    })
}

/// Meeting `id`'s module answers, oldest first.
pub(crate) fn answers(conn: &Connection, id: i64) -> Result<Vec<AnswerRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ANSWER_COLUMNS}
         FROM module_answers a LEFT JOIN ai_calls c ON c.id = a.ai_call_id
         WHERE a.meeting_id = ?1 ORDER BY a.id"
    ))?;
    let rows = stmt.query_map([id], answer_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Meeting `id`'s latest answer of each module, by module name.
pub(crate) fn latest(conn: &Connection, id: i64) -> Result<Vec<AnswerRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ANSWER_COLUMNS}
         FROM module_answers a LEFT JOIN ai_calls c ON c.id = a.ai_call_id
         WHERE a.meeting_id = ?1
           AND a.id = (SELECT MAX(b.id) FROM module_answers b
                       WHERE b.meeting_id = a.meeting_id AND b.module = a.module)
         ORDER BY a.module"
    ))?;
    let rows = stmt.query_map([id], answer_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
