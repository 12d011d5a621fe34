//! Queries of the `applies` and `apply_files` tables: each apply of a patch
//! as a checkpoint holding every file it changed, before and after, so
//! that undo and redo restore whole applies.
//!
//! Checkpoints of a workspace form one line: the applied ones, then the
//! undone ones. Undo takes the last applied, redo the first undone, and a
//! new apply drops the undone ones (like an editor's redo after a new
//! edit). Checking files and writing them is the `proposal` module's work;
//! this one only keeps rows, inside the caller's transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

/// Where a checkpoint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApplyState {
    Applied,
    Undone,
}

impl ApplyState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ApplyState::Applied => "applied",
            ApplyState::Undone => "undone",
        }
    }

    fn parse(s: &str) -> ApplyState {
        match s {
            "undone" => ApplyState::Undone,
            _ => ApplyState::Applied,
        }
    }
}

/// One checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApplyRow {
    pub id: i64,
    pub workspace_key: String,
    pub patch_id: Option<i64>,
    pub state: ApplyState,
    pub created_at: i64,
}

/// One file of a checkpoint: its bytes and git mode (`0o100644`,
/// `0o100755`) before and after; `None` where the file did not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApplyFile {
    pub path: String,
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
    pub before_mode: Option<u32>,
    pub after_mode: Option<u32>,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApplyRow> {
    Ok(ApplyRow {
        id: r.get(0)?,
        workspace_key: r.get(1)?,
        patch_id: r.get(2)?,
        state: ApplyState::parse(&r.get::<_, String>(3)?),
        created_at: r.get(4)?,
    })
}

const COLUMNS: &str = "id, workspace_key, patch_id, state, created_at";

/// Records a new applied checkpoint with its files, dropping the undone
/// checkpoints of the workspace first; its id. Call inside a transaction.
pub(crate) fn insert(
    conn: &Connection,
    workspace_key: &str,
    patch_id: Option<i64>,
    files: &[ApplyFile],
    now: i64,
) -> Result<i64> {
    conn.execute(
        "DELETE FROM applies WHERE workspace_key = ?1 AND state = 'undone'",
        [workspace_key],
    )?;
    conn.execute(
        "INSERT INTO applies (workspace_key, patch_id, state, created_at, updated_at)
         VALUES (?1, ?2, 'applied', ?3, ?3)",
        params![workspace_key, patch_id, now],
    )?;
    let id = conn.last_insert_rowid();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO apply_files (apply_id, path, before, after, before_mode, after_mode)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for f in files {
        stmt.execute(params![
            id,
            f.path,
            f.before,
            f.after,
            f.before_mode,
            f.after_mode
        ])?;
    }
    Ok(id)
}

/// The checkpoint undo takes: the workspace's last applied one.
pub(crate) fn last_applied(conn: &Connection, workspace_key: &str) -> Result<Option<ApplyRow>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM applies WHERE workspace_key = ?1 AND state = 'applied'
                 ORDER BY id DESC LIMIT 1"
            ),
            [workspace_key],
            from_row,
        )
        .optional()?)
}

/// The checkpoint redo takes: the workspace's first undone one.
pub(crate) fn first_undone(conn: &Connection, workspace_key: &str) -> Result<Option<ApplyRow>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM applies WHERE workspace_key = ?1 AND state = 'undone'
                 ORDER BY id ASC LIMIT 1"
            ),
            [workspace_key],
            from_row,
        )
        .optional()?)
}

/// The files of checkpoint `id`, in path order.
pub(crate) fn files(conn: &Connection, id: i64) -> Result<Vec<ApplyFile>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, before, after, before_mode, after_mode FROM apply_files
         WHERE apply_id = ?1 ORDER BY path",
    )?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(ApplyFile {
                path: r.get(0)?,
                before: r.get(1)?,
                after: r.get(2)?,
                before_mode: r.get(3)?,
                after_mode: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Marks checkpoint `id` applied or undone; whether it exists.
pub(crate) fn set_state(conn: &Connection, id: i64, state: ApplyState, now: i64) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE applies SET state = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, state.as_str(), now],
    )? > 0)
}

/// Removes every checkpoint of a workspace (their files cascade); how many.
pub(crate) fn remove_for_workspace(conn: &Connection, workspace_key: &str) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM applies WHERE workspace_key = ?1",
        [workspace_key],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn file(path: &str, before: Option<&str>, after: Option<&str>) -> ApplyFile {
        ApplyFile {
            path: path.into(),
            before: before.map(|s| s.as_bytes().to_vec()),
            after: after.map(|s| s.as_bytes().to_vec()),
            before_mode: before.map(|_| 0o100644),
            after_mode: after.map(|_| 0o100755),
        }
    }

    #[test]
    fn undo_takes_the_last_applied_and_redo_the_first_undone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = &store.conn;
        let one = insert(conn, "ws:a", None, &[file("x", Some("1"), Some("2"))], 1).unwrap();
        let two = insert(conn, "ws:a", None, &[file("y", None, Some("new"))], 2).unwrap();
        insert(conn, "ws:b", None, &[file("z", Some("b"), None)], 3).unwrap();
        assert_eq!(last_applied(conn, "ws:a").unwrap().unwrap().id, two);
        assert!(set_state(conn, two, ApplyState::Undone, 4).unwrap());
        assert!(set_state(conn, one, ApplyState::Undone, 5).unwrap());
        assert_eq!(first_undone(conn, "ws:a").unwrap().unwrap().id, one);
        assert_eq!(last_applied(conn, "ws:a").unwrap(), None);
        let got = files(conn, two).unwrap();
        assert_eq!(got, vec![file("y", None, Some("new"))]);
        // A new apply drops what was undone.
        let three = insert(conn, "ws:a", None, &[file("x", Some("1"), Some("3"))], 6).unwrap();
        assert_eq!(first_undone(conn, "ws:a").unwrap(), None);
        assert!(files(conn, two).unwrap().is_empty());
        assert_eq!(last_applied(conn, "ws:a").unwrap().unwrap().id, three);
        assert_eq!(remove_for_workspace(conn, "ws:a").unwrap(), 1);
        assert!(last_applied(conn, "ws:b").unwrap().is_some());
    }
}
