//! Queries of `regwatches` and `regwatch_versions`: the pages and feeds
//! watched for changes, and each content that differed from the one
//! before, newest last, with the AI summary of its change when one was
//! asked for (and the `ai_calls` row it took).

use rusqlite::{Connection, OptionalExtension, params};

use super::super::Result;

/// A watched page or feed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WatchRow {
    pub id: i64,
    pub url: String,
    pub every_s: i64,
    #[serde(skip)]
    pub etag: Option<String>,
    #[serde(skip)]
    pub last_modified: Option<String>,
    pub last_fetched_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub versions: i64,
    /// Whether each new version gets an AI summary of its change.
    pub summarize: bool,
}

const WATCH_SELECT: &str = "SELECT w.id, w.url, w.every_s, w.etag, w.last_modified,
        w.last_fetched_at, w.last_error, w.created_at,
        (SELECT count(*) FROM regwatch_versions v WHERE v.watch_id = w.id), w.summarize
     FROM regwatches w";

fn watch_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WatchRow> {
    Ok(WatchRow {
        id: r.get(0)?,
        url: r.get(1)?,
        every_s: r.get(2)?,
        etag: r.get(3)?,
        last_modified: r.get(4)?,
        last_fetched_at: r.get(5)?,
        last_error: r.get(6)?,
        created_at: r.get(7)?,
        versions: r.get(8)?,
        summarize: r.get(9)?,
    })
}

/// Watches `url` every `every_s` seconds: the new row's id, or `None` when
/// the URL is watched already.
pub(crate) fn add(conn: &Connection, url: &str, every_s: i64, now: i64) -> Result<Option<i64>> {
    let n = conn.execute(
        "INSERT INTO regwatches (url, every_s, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (url) DO NOTHING",
        params![url, every_s, now],
    )?;
    Ok((n > 0).then(|| conn.last_insert_rowid()))
}

/// Turns watch `id`'s summaries of each change on or off. False when
/// there is no such watch.
pub(crate) fn set_summarize(conn: &Connection, id: i64, on: bool) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE regwatches SET summarize = ?2 WHERE id = ?1",
        params![id, on],
    )? > 0)
}

/// One watch.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<WatchRow>> {
    Ok(conn
        .query_row(&format!("{WATCH_SELECT} WHERE w.id = ?1"), [id], watch_row)
        .optional()?)
}

/// Every watch, oldest first.
pub(crate) fn list(conn: &Connection) -> Result<Vec<WatchRow>> {
    let mut stmt = conn.prepare_cached(&format!("{WATCH_SELECT} ORDER BY w.id"))?;
    let rows = stmt.query_map([], watch_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Stops watching; its versions go with it. False when there was none.
pub(crate) fn remove(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM regwatches WHERE id = ?1", [id])? > 0)
}

/// The watches whose period is up at `now` (never fetched, or fetched
/// `every_s` ago or longer).
pub(crate) fn due(conn: &Connection, now: i64) -> Result<Vec<WatchRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{WATCH_SELECT} WHERE w.last_fetched_at IS NULL
            OR w.last_fetched_at + w.every_s * 1000 <= ?1 ORDER BY w.id"
    ))?;
    let rows = stmt.query_map([now], watch_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Marks watch `id` as looked at `now` (its period starts again).
pub(crate) fn touch(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE regwatches SET last_fetched_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Records a fetch of watch `id`: its validators after a good one, the
/// error of a failed one (validators kept).
pub(crate) fn fetched(
    conn: &Connection,
    id: i64,
    validators: Option<(Option<&str>, Option<&str>)>,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    match validators {
        Some((etag, modified)) => conn.execute(
            "UPDATE regwatches SET etag = ?2, last_modified = ?3, last_fetched_at = ?4,
                    last_error = ?5 WHERE id = ?1",
            params![id, etag, modified, now, error],
        )?,
        None => conn.execute(
            "UPDATE regwatches SET last_fetched_at = ?2, last_error = ?3 WHERE id = ?1",
            params![id, now, error],
        )?,
    };
    Ok(())
}

/// One stored content of a watch.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VersionRow {
    pub id: i64,
    pub watch_id: i64,
    pub content: String,
    pub content_hash: String,
    pub fetched_at: i64,
    /// The AI summary of the change from the version before, if asked.
    pub summary: Option<String>,
    /// What the summary took, when its call is still recorded.
    pub summary_call: Option<SummaryCall>,
}

/// The recorded model call a version's summary came from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SummaryCall {
    pub id: i64,
    pub provider: String,
    pub model: String,
    pub prompt_version: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Millionths of a US dollar; `None` for a model without a price.
    pub cost_micros: Option<i64>,
}

const VERSION_SELECT: &str = "SELECT v.id, v.watch_id, v.content, v.content_hash,
        v.fetched_at, v.summary, c.id, c.provider, c.model, c.prompt_version,
        c.input_tokens, c.output_tokens, c.cost_micros
     FROM regwatch_versions v LEFT JOIN ai_calls c ON c.id = v.ai_call_id";

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VersionRow> {
    let call_id: Option<i64> = r.get(6)?;
    let summary_call = match call_id {
        Some(id) => Some(SummaryCall {
            id,
            provider: r.get(7)?,
            model: r.get(8)?,
            prompt_version: r.get(9)?,
            input_tokens: r.get(10)?,
            output_tokens: r.get(11)?,
            cost_micros: r.get(12)?,
        }),
        None => None,
    };
    Ok(VersionRow {
        id: r.get(0)?,
        watch_id: r.get(1)?,
        content: r.get(2)?,
        content_hash: r.get(3)?,
        fetched_at: r.get(4)?,
        summary: r.get(5)?,
        summary_call,
    })
}

/// Stores `content` as watch `id`'s newest version unless it equals the
/// newest already there: the new version's id, or `None` for no change.
pub(crate) fn add_version(
    conn: &Connection,
    id: i64,
    content: &str,
    hash: &str,
    now: i64,
) -> Result<Option<i64>> {
    let last: Option<String> = conn
        .query_row(
            "SELECT content_hash FROM regwatch_versions WHERE watch_id = ?1
             ORDER BY id DESC LIMIT 1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    if last.as_deref() == Some(hash) {
        return Ok(None);
    }
    conn.execute(
        "INSERT INTO regwatch_versions (watch_id, content, content_hash, fetched_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![id, content, hash, now],
    )?;
    Ok(Some(conn.last_insert_rowid()))
}

/// Watch `id`'s versions, oldest first.
pub(crate) fn versions(conn: &Connection, id: i64) -> Result<Vec<VersionRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{VERSION_SELECT} WHERE v.watch_id = ?1 ORDER BY v.id"
    ))?;
    let rows = stmt.query_map([id], version_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Version `version` of watch `watch` and the one before it (`None` for
/// its first), or `None` when the watch has no such version.
pub(crate) fn with_previous(
    conn: &Connection,
    watch: i64,
    version: i64,
) -> Result<Option<(Option<VersionRow>, VersionRow)>> {
    let Some(new) = conn
        .query_row(
            &format!("{VERSION_SELECT} WHERE v.watch_id = ?1 AND v.id = ?2"),
            params![watch, version],
            version_row,
        )
        .optional()?
    else {
        return Ok(None);
    };
    let old = conn
        .query_row(
            &format!(
                "{VERSION_SELECT} WHERE v.watch_id = ?1 AND v.id < ?2 ORDER BY v.id DESC LIMIT 1"
            ),
            params![watch, version],
            version_row,
        )
        .optional()?;
    Ok(Some((old, new)))
}

/// Stores `summary` (from call `ai_call_id`) on version `version`,
/// replacing one asked before. False when the version is gone (its watch
/// was removed meanwhile).
pub(crate) fn set_summary(
    conn: &Connection,
    version: i64,
    summary: &str,
    ai_call_id: Option<i64>,
) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE regwatch_versions SET summary = ?2, ai_call_id = ?3 WHERE id = ?1",
        params![version, summary, ai_call_id],
    )? > 0)
}
