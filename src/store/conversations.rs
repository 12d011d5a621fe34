//! Queries of the `conversations` and `conversation_turns` tables: what a
//! person asked a model in a workspace and what it answered, kept so that
//! a follow-up (`ask --continue`, the AI pane's list) carries on where the
//! last one stopped, after a restart too.
//!
//! Only the typed prompt and the answer's text are kept: never the context
//! files sent with them (they are read again) and never a key.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

/// One conversation of a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conversation {
    pub id: i64,
    pub workspace_key: String,
    pub title: String,
    pub provider: String,
    pub model: String,
    /// The Responses API's id of the last answer, for `previous_response_id`.
    pub last_response_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Who said a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    User,
    Assistant,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One turn, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Turn {
    pub role: Role,
    pub text: String,
}

const COLUMNS: &str =
    "id, workspace_key, title, provider, model, last_response_id, created_at, updated_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: r.get(0)?,
        workspace_key: r.get(1)?,
        title: r.get(2)?,
        provider: r.get(3)?,
        model: r.get(4)?,
        last_response_id: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// Starts a conversation; its id.
pub(crate) fn create(
    conn: &Connection,
    workspace_key: &str,
    title: &str,
    provider: &str,
    model: &str,
    now: i64,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO conversations (workspace_key, title, provider, model, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![workspace_key, title, provider, model, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The conversation `id`, if there is one.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<Conversation>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM conversations WHERE id = ?1"),
            [id],
            from_row,
        )
        .optional()?)
}

/// The workspace's most recently continued conversation.
pub(crate) fn latest(conn: &Connection, workspace_key: &str) -> Result<Option<Conversation>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM conversations WHERE workspace_key = ?1
                 ORDER BY updated_at DESC, id DESC LIMIT 1"
            ),
            [workspace_key],
            from_row,
        )
        .optional()?)
}

/// The workspace's conversations, most recent first.
pub(crate) fn list(conn: &Connection, workspace_key: &str) -> Result<Vec<Conversation>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM conversations WHERE workspace_key = ?1
         ORDER BY updated_at DESC, id DESC"
    ))?;
    let rows = stmt.query_map([workspace_key], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Adds a turn and marks the conversation as continued; with the
/// answer's response id when the provider gave one worth following up.
pub(crate) fn add_turn(
    conn: &mut Connection,
    id: i64,
    turn: &Turn,
    response_id: Option<&str>,
    now: i64,
) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO conversation_turns (conversation_id, role, text, created_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![id, turn.role.as_str(), turn.text, now],
    )?;
    tx.execute(
        "UPDATE conversations SET updated_at = ?2,
                last_response_id = COALESCE(?3, last_response_id)
         WHERE id = ?1",
        params![id, now, response_id],
    )?;
    tx.commit()?;
    Ok(())
}

/// The turns of a conversation, in order.
pub(crate) fn turns(conn: &Connection, id: i64) -> Result<Vec<Turn>> {
    let mut stmt = conn.prepare_cached(
        "SELECT role, text FROM conversation_turns WHERE conversation_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        let role: String = r.get(0)?;
        Ok(Turn {
            role: if role == "user" {
                Role::User
            } else {
                Role::Assistant
            },
            text: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn turns_keep_their_order_and_the_latest_conversation_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let first = create(&store.conn, "ws:a", "first", "openai", "gpt-5.1", 1).unwrap();
        let second = create(&store.conn, "ws:a", "second", "openai", "gpt-5.1", 2).unwrap();
        create(&store.conn, "ws:b", "other", "openai", "gpt-5.1", 3).unwrap();
        let user = Turn {
            role: Role::User,
            text: "rename foo".into(),
        };
        let answer = Turn {
            role: Role::Assistant,
            text: "done".into(),
        };
        add_turn(&mut store.conn, first, &user, None, 5).unwrap();
        add_turn(&mut store.conn, first, &answer, Some("resp_1"), 6).unwrap();
        // A turn without an id keeps the last one.
        add_turn(&mut store.conn, first, &user, None, 7).unwrap();
        let latest = latest(&store.conn, "ws:a").unwrap().unwrap();
        assert_eq!(latest.id, first, "continued last");
        assert_eq!(latest.last_response_id.as_deref(), Some("resp_1"));
        assert_eq!(
            turns(&store.conn, first).unwrap(),
            [user.clone(), answer, user]
        );
        assert!(turns(&store.conn, second).unwrap().is_empty());
        assert_eq!(list(&store.conn, "ws:a").unwrap().len(), 2);
        assert!(get(&store.conn, 99).unwrap().is_none());
    }
}
