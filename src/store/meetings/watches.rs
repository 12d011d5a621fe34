//! Queries of `regwatches` and `regwatch_versions`: the pages and feeds
//! watched for changes, and each content that differed from the one
//! before, newest last.

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
}

const WATCH_SELECT: &str = "SELECT w.id, w.url, w.every_s, w.etag, w.last_modified,
        w.last_fetched_at, w.last_error, w.created_at,
        (SELECT count(*) FROM regwatch_versions v WHERE v.watch_id = w.id)
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
    let mut stmt = conn.prepare_cached(
        "SELECT id, watch_id, content, content_hash, fetched_at FROM regwatch_versions
         WHERE watch_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(VersionRow {
            id: r.get(0)?,
            watch_id: r.get(1)?,
            content: r.get(2)?,
            content_hash: r.get(3)?,
            fetched_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
