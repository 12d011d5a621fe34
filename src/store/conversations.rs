//! Reads of the `conversations` table for the AI pane: the workspace's
//! past conversations, to continue one. The `ask` job writes them.

use rusqlite::Connection;

use super::Result;

/// A conversation as the AI pane lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConversationRow {
    pub id: i64,
    pub title: String,
    pub provider: String,
    pub model: String,
    pub updated_at: i64,
}

/// The conversations of `workspace_key`, the latest first.
pub(crate) fn list(conn: &Connection, workspace_key: &str) -> Result<Vec<ConversationRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, title, provider, model, updated_at FROM conversations
         WHERE workspace_key = ?1 ORDER BY updated_at DESC, id DESC",
    )?;
    let rows = stmt
        .query_map([workspace_key], |r| {
            Ok(ConversationRow {
                id: r.get(0)?,
                title: r.get(1)?,
                provider: r.get(2)?,
                model: r.get(3)?,
                updated_at: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn conversations_list_per_workspace_latest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (ws, title, at) in [
            ("ws:a", "first", 1),
            ("ws:a", "second", 2),
            ("ws:b", "x", 3),
        ] {
            store
                .conn
                .execute(
                    "INSERT INTO conversations (workspace_key, title, provider, model,
                                                created_at, updated_at)
                     VALUES (?1, ?2, 'openai', 'gpt', ?3, ?3)",
                    rusqlite::params![ws, title, at],
                )
                .unwrap();
        }
        let got = list(&store.conn, "ws:a").unwrap();
        assert_eq!(
            got.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(),
            ["second", "first"]
        );
        assert!(list(&store.conn, "ws:c").unwrap().is_empty());
    }
}
