//! Queries of the `ignored_entries` table: every path an import's ignore
//! rules (or, when asked, the source's `.gitignore` files) dropped, with
//! the rule that dropped it.

use rusqlite::{Connection, params};

use super::Result;

/// One path an import left out on purpose.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IgnoredEntry {
    /// The folder or file, relative to the source's root.
    pub path: String,
    /// The rule as written: a line of `[import] ignore`, or
    /// `<folder>/.gitignore: <line>`.
    pub rule: String,
}

pub(crate) fn clear(conn: &Connection, workspace_id: i64) -> Result<()> {
    conn.execute(
        "DELETE FROM ignored_entries WHERE workspace_id = ?1",
        [workspace_id],
    )?;
    Ok(())
}

pub(crate) fn insert(conn: &Connection, workspace_id: i64, entry: &IgnoredEntry) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO ignored_entries (workspace_id, path, rule) VALUES (?1, ?2, ?3)",
    )?;
    stmt.execute(params![workspace_id, entry.path, entry.rule])?;
    Ok(())
}

/// The ignored paths of a workspace, in path order.
pub(crate) fn list(conn: &Connection, workspace_id: i64) -> Result<Vec<IgnoredEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, rule FROM ignored_entries WHERE workspace_id = ?1 ORDER BY path",
    )?;
    let rows = stmt.query_map([workspace_id], |r| {
        Ok(IgnoredEntry {
            path: r.get(0)?,
            rule: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
