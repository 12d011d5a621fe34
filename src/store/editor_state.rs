//! Queries of the `editor_state` table: the editor's layout per workspace.
//!
//! The state is JSON whose shape belongs to the TUI (tabs, active tab,
//! cursors, selections, scroll, layout, focus); the store keeps it opaque so
//! that the TUI can change it without a migration.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, now_rfc3339};

/// Replaces the editor state of workspace `key`.
pub(crate) fn save(conn: &Connection, key: &str, state_json: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO editor_state (workspace_key, state, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (workspace_key) DO UPDATE SET
             state = excluded.state, updated_at = excluded.updated_at",
        params![key, state_json, now_rfc3339()],
    )?;
    Ok(())
}

/// The editor state last saved for workspace `key`, if any.
pub(crate) fn load(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT state FROM editor_state WHERE workspace_key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn editor_state_is_stored_opaque_and_latest_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(load(&store.conn, "ws:site").unwrap(), None);
        save(&store.conn, "ws:site", r#"{"tabs":["a.ts"]}"#).unwrap();
        save(
            &store.conn,
            "ws:site",
            r#"{"tabs":["a.ts","b.ts"],"active":1}"#,
        )
        .unwrap();
        save(&store.conn, "dir:/home/u/app", "{}").unwrap();
        assert_eq!(
            load(&store.conn, "ws:site").unwrap().as_deref(),
            Some(r#"{"tabs":["a.ts","b.ts"],"active":1}"#)
        );
        assert_eq!(
            load(&store.conn, "dir:/home/u/app").unwrap().as_deref(),
            Some("{}")
        );
    }
}
