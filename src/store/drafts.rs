//! Queries of the `drafts` table: the unsaved text of open buffers.
//!
//! A draft is what the user typed and has not saved yet, kept so that a
//! dropped SSH session, a crash or a `kill -9` never loses it. This module
//! only stores and lists drafts per workspace key; deciding when to write
//! them is `autosave`'s job, and restoring them is the editor's.

use rusqlite::{Connection, params};

use super::Result;

/// The key of a workspace stored in SQLite.
pub(crate) fn sqlite_key(name: &str) -> String {
    format!("ws:{name}")
}

/// The key of a folder opened from disk; pass the canonical path so that
/// two spellings of one folder share their drafts and lock. A path that is
/// not UTF-8 is keyed by its lossy display form.
pub(crate) fn dir_key(canonical: &std::path::Path) -> String {
    format!("dir:{}", canonical.display())
}

/// The unsaved content of one file of a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub path: String,
    pub content: String,
    /// SHA-256 hex of the saved content the draft was edited from; `None`
    /// for a file that has never been saved.
    pub base_hash: Option<String>,
    pub updated_at: String,
}

/// Writes `upserts` and deletes the drafts of `removals` in one transaction:
/// either all of it lands or the drafts stay as they were, so a failed write
/// (disk full, database locked) never leaves a half-written set behind.
/// Removals run first, so a path in both lists keeps its upserted draft.
pub(crate) fn save_batch(
    conn: &mut Connection,
    key: &str,
    upserts: &[Draft],
    removals: &[String],
) -> Result<()> {
    let tx = conn.transaction()?;
    {
        let mut delete =
            tx.prepare_cached("DELETE FROM drafts WHERE workspace_key = ?1 AND path = ?2")?;
        for path in removals {
            delete.execute(params![key, path])?;
        }
        let mut upsert = tx.prepare_cached(
            "INSERT INTO drafts (workspace_key, path, content, base_hash, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (workspace_key, path) DO UPDATE SET
                 content = excluded.content, base_hash = excluded.base_hash,
                 updated_at = excluded.updated_at",
        )?;
        for draft in upserts {
            upsert.execute(params![
                key,
                draft.path,
                draft.content,
                draft.base_hash,
                draft.updated_at
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Every draft of workspace `key`, in path order.
pub(crate) fn list(conn: &Connection, key: &str) -> Result<Vec<Draft>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, content, base_hash, updated_at FROM drafts
         WHERE workspace_key = ?1 ORDER BY path",
    )?;
    let rows = stmt.query_map([key], |r| {
        Ok(Draft {
            path: r.get(0)?,
            content: r.get(1)?,
            base_hash: r.get(2)?,
            updated_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn draft(path: &str, content: &str) -> Draft {
        Draft {
            path: path.to_string(),
            content: content.to_string(),
            base_hash: Some("ab".repeat(32)),
            updated_at: "2026-01-02T03:04:05Z".to_string(),
        }
    }

    #[test]
    fn drafts_round_trip_per_workspace_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let new_file = Draft {
            base_hash: None,
            ..draft("src/new.ts", "export {}\n")
        };
        save_batch(
            &mut store.conn,
            "ws:site",
            &[draft("b.ts", "b1"), draft("a.ts", "a1"), new_file.clone()],
            &[],
        )
        .unwrap();
        save_batch(&mut store.conn, "ws:other", &[draft("a.ts", "x")], &[]).unwrap();
        save_batch(
            &mut store.conn,
            "ws:site",
            &[draft("a.ts", "a2")],
            &["b.ts".to_string()],
        )
        .unwrap();

        assert_eq!(
            list(&store.conn, "ws:site").unwrap(),
            vec![draft("a.ts", "a2"), new_file]
        );
        // Removing a draft that is gone already changes nothing.
        for _ in 0..2 {
            save_batch(&mut store.conn, "ws:site", &[], &["a.ts".to_string()]).unwrap();
            assert_eq!(list(&store.conn, "ws:site").unwrap().len(), 1);
        }
        assert_eq!(
            list(&store.conn, "ws:other").unwrap(),
            vec![draft("a.ts", "x")]
        );
    }

    #[test]
    fn failed_batch_keeps_the_previous_drafts() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        save_batch(
            &mut store.conn,
            "ws:site",
            &[draft("a.ts", "good"), draft("b.ts", "good")],
            &[],
        )
        .unwrap();
        // Stands in for a disk-full or I/O error in the middle of a batch.
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER boom BEFORE INSERT ON drafts WHEN NEW.path = 'boom.ts'
                 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
            )
            .unwrap();

        let err = save_batch(
            &mut store.conn,
            "ws:site",
            &[draft("a.ts", "half"), draft("boom.ts", "x")],
            &["b.ts".to_string()],
        );

        assert!(err.is_err());
        assert_eq!(
            list(&store.conn, "ws:site").unwrap(),
            vec![draft("a.ts", "good"), draft("b.ts", "good")]
        );
    }
}
