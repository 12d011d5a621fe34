//! The audit log: one row per change a user made to the store.

use rusqlite::{Connection, params};

use super::{Result, now_rfc3339};

/// Records `action` on `workspace` with a JSON `detail`. Never pass file
/// content or a key in `detail`.
pub(crate) fn record(
    conn: &Connection,
    action: &str,
    workspace: Option<&str>,
    detail: &serde_json::Value,
) -> Result<()> {
    conn.execute(
        "INSERT INTO audit_log (at, action, workspace, detail) VALUES (?1, ?2, ?3, ?4)",
        params![now_rfc3339(), action, workspace, detail.to_string()],
    )?;
    Ok(())
}

#[cfg(test)]
pub(crate) fn actions(conn: &Connection) -> Result<Vec<(String, Option<String>)>> {
    let mut stmt = conn.prepare("SELECT action, workspace FROM audit_log ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
