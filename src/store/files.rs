//! Queries of the `files` table: the text content of SQLite workspaces.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

/// One stored file as the file tree and the viewer need it (no content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub hash: String,
}

pub(crate) fn list(conn: &Connection, workspace_id: i64) -> Result<Vec<FileEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, size, hash FROM files WHERE workspace_id = ?1 ORDER BY path",
    )?;
    let rows = stmt.query_map([workspace_id], |r| {
        Ok(FileEntry {
            path: r.get(0)?,
            size: r.get::<_, i64>(1)?.max(0) as u64,
            hash: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn content(conn: &Connection, workspace_id: i64, path: &str) -> Result<Option<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT content FROM files WHERE workspace_id = ?1 AND path = ?2")?;
    Ok(stmt
        .query_row(params![workspace_id, path], |r| r.get(0))
        .optional()?)
}

/// Calls `each(path, content)` for every file in path order, streaming rows
/// so that a large workspace is never held in memory at once.
pub(crate) fn for_each(
    conn: &Connection,
    workspace_id: i64,
    mut each: impl FnMut(
        &str,
        &str,
    ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>,
) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut stmt = conn
        .prepare_cached("SELECT path, content FROM files WHERE workspace_id = ?1 ORDER BY path")?;
    let mut rows = stmt.query([workspace_id])?;
    while let Some(row) = rows.next()? {
        let path = row.get_ref(0)?.as_str()?;
        let content = row.get_ref(1)?.as_str()?;
        each(path, content)?;
    }
    Ok(())
}

/// path → hash of what an interrupted import already staged.
pub(crate) fn hashes(conn: &Connection, workspace_id: i64) -> Result<HashMap<String, String>> {
    let mut stmt = conn.prepare_cached("SELECT path, hash FROM files WHERE workspace_id = ?1")?;
    let rows = stmt.query_map([workspace_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn upsert(
    conn: &Connection,
    workspace_id: i64,
    path: &str,
    content: &str,
    hash: &str,
    now: &str,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO files (workspace_id, path, content, size, hash, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (workspace_id, path) DO UPDATE SET
             content = excluded.content, size = excluded.size,
             hash = excluded.hash, updated_at = excluded.updated_at",
    )?;
    stmt.execute(params![
        workspace_id,
        path,
        content,
        content.len() as i64,
        hash,
        now
    ])?;
    Ok(())
}

pub(crate) fn delete(conn: &Connection, workspace_id: i64, path: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM files WHERE workspace_id = ?1 AND path = ?2",
        params![workspace_id, path],
    )?;
    Ok(())
}
