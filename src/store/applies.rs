//! Queries of the `applies` and `apply_files` tables: each apply of a patch
//! as a checkpoint holding every file it changed, before and after, so
//! that undo and redo restore whole applies.
//!
//! Checkpoints of a workspace form one line: the applied ones, then the
//! undone ones. Undo takes the last applied, redo the first undone, and a
//! new apply drops the undone ones (like an editor's redo after a new
//! edit). Checking files and writing them is the `proposal` module's work;
//! this one only keeps rows, inside the caller's transaction.
//!
//! An apply's checkpoint may keep each file's `after` as a SHA-256 only
//! (`after_sha256`, migration 14), with the hunks the apply wrote
//! ([`AppliedHunks`]): the content is derived again from `before` and the
//! patch when undo or redo needs it (see `proposal`).
//!
//! A step written into a folder is journaled first: its row carries
//! `writing` (the step) and its writer from before the first file is
//! written until the step is recorded, so that a step cut short (a killed
//! process, a power cut) is found and taken back (see `proposal`).

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
    /// The git commit the apply was committed as (`patch apply --commit`).
    pub commit_id: Option<String>,
}

/// One file of a checkpoint: its bytes and git mode (`0o100644`,
/// `0o100755`) before and after; `None` where the file did not exist.
/// With `after_sha256`, the file exists after (`after_mode`) but its
/// bytes are not kept: they are derived from `before` and the applied
/// hunks, and must hash to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApplyFile {
    pub path: String,
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
    pub before_mode: Option<u32>,
    pub after_mode: Option<u32>,
    pub after_sha256: Option<Vec<u8>>,
}

/// An [`ApplyFile`] to store, borrowing its bytes from the caller's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NewApplyFile<'a> {
    pub path: &'a str,
    pub before: Option<&'a [u8]>,
    pub after: Option<&'a [u8]>,
    pub before_mode: Option<u32>,
    pub after_mode: Option<u32>,
    pub after_sha256: Option<&'a [u8]>,
}

/// The hunks an apply wrote, from which its files' `after` is derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppliedHunks {
    /// 1-based numbers over the whole patch, as ranges: `1-5000`, `1,3-4`.
    pub hunks: String,
    /// Whether the patch's files without hunks went with them.
    pub whole_files: bool,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApplyRow> {
    Ok(ApplyRow {
        id: r.get(0)?,
        workspace_key: r.get(1)?,
        patch_id: r.get(2)?,
        state: ApplyState::parse(&r.get::<_, String>(3)?),
        created_at: r.get(4)?,
        commit_id: r.get(5)?,
    })
}

const COLUMNS: &str = "id, workspace_key, patch_id, state, created_at, commit_id";

/// Records a new applied checkpoint with its files; its id. With a
/// `writer`, the checkpoint is journaled as being written by it; with
/// `hunks`, its files' `after` may be derived (see [`ApplyFile`]). The
/// workspace's undone checkpoints stay until [`finish_apply`]. Call inside
/// a transaction.
pub(crate) fn insert(
    conn: &Connection,
    workspace_key: &str,
    patch_id: Option<i64>,
    files: &[NewApplyFile<'_>],
    now: i64,
    writer: Option<&Writer>,
    hunks: Option<&AppliedHunks>,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO applies (workspace_key, patch_id, state, created_at, updated_at,
                              writing, writer_pid, writer_boot, hunks, whole_files)
         VALUES (?1, ?2, 'applied', ?3, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            workspace_key,
            patch_id,
            now,
            writer.map(|_| Writing::Apply.as_str()),
            writer.map(|w| w.pid),
            writer.map(|w| w.boot.as_str()),
            hunks.map(|h| h.hunks.as_str()),
            hunks.is_none_or(|h| h.whole_files),
        ],
    )?;
    let id = conn.last_insert_rowid();
    insert_files(conn, id, files)?;
    Ok(id)
}

/// Adds `files` to checkpoint `id`, as [`insert`] does: for a journal
/// whose files are recorded as they are planned. Call inside the
/// transaction of its insert.
pub(crate) fn insert_files(conn: &Connection, id: i64, files: &[NewApplyFile<'_>]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO apply_files (apply_id, path, before, after, before_mode, after_mode,
                                  after_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for f in files {
        stmt.execute(params![
            id,
            f.path,
            f.before,
            f.after,
            f.before_mode,
            f.after_mode,
            f.after_sha256,
        ])?;
    }
    Ok(())
}

/// The patch and hunks checkpoint `id` applied, when its files' `after`
/// may be derived from them; `None` for a checkpoint that keeps them.
pub(crate) fn applied_hunks(conn: &Connection, id: i64) -> Result<Option<(i64, AppliedHunks)>> {
    let row = conn
        .query_row(
            "SELECT patch_id, hunks, whole_files FROM applies WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            },
        )
        .optional()?;
    Ok(match row {
        Some((Some(patch_id), Some(hunks), whole_files)) => {
            Some((patch_id, AppliedHunks { hunks, whole_files }))
        }
        _ => None,
    })
}

/// A step whose files are being written into a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writing {
    Apply,
    Undo,
    Redo,
}

impl Writing {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Writing::Apply => "apply",
            Writing::Undo => "undo",
            Writing::Redo => "redo",
        }
    }

    fn parse(s: &str) -> Option<Writing> {
        match s {
            "apply" => Some(Writing::Apply),
            "undo" => Some(Writing::Undo),
            "redo" => Some(Writing::Redo),
            _ => None,
        }
    }
}

/// The process writing a step: its pid and the kernel's boot id, so that a
/// pid reused after a reboot is not taken for the writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Writer {
    pub pid: i64,
    pub boot: String,
}

/// A journaled step: checkpoint `apply_id` of a workspace, being written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Journaled {
    pub apply_id: i64,
    pub patch_id: Option<i64>,
    pub writing: Writing,
    pub writer: Writer,
}

/// Journals an undo or redo of checkpoint `id` that `writer` is about to
/// write. Call inside a transaction.
pub(crate) fn set_writing(
    conn: &Connection,
    id: i64,
    writing: Writing,
    writer: &Writer,
) -> Result<()> {
    conn.execute(
        "UPDATE applies SET writing = ?2, writer_pid = ?3, writer_boot = ?4 WHERE id = ?1",
        params![id, writing.as_str(), writer.pid, writer.boot],
    )?;
    Ok(())
}

/// Ends the journal of checkpoint `id`: its step is written, or taken back.
pub(crate) fn clear_writing(conn: &Connection, id: i64) -> Result<()> {
    conn.execute(
        "UPDATE applies SET writing = NULL, writer_pid = NULL, writer_boot = NULL WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// Records apply `id` as written: its journal ends, if it had one, and
/// the workspace's undone checkpoints go (a new apply drops what could be
/// redone). Call inside a transaction.
pub(crate) fn finish_apply(conn: &Connection, workspace_key: &str, id: i64) -> Result<()> {
    conn.execute(
        "DELETE FROM applies WHERE workspace_key = ?1 AND state = 'undone' AND id <> ?2",
        params![workspace_key, id],
    )?;
    clear_writing(conn, id)
}

/// Records the git commit checkpoint `id` was committed as.
pub(crate) fn set_commit(conn: &Connection, id: i64, commit_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE applies SET commit_id = ?2 WHERE id = ?1",
        params![id, commit_id],
    )?;
    Ok(())
}

/// Removes a journaled apply taken back before it was written.
pub(crate) fn remove(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM applies WHERE id = ?1", [id])?;
    Ok(())
}

/// The steps of a workspace whose files are (or were, when cut short)
/// being written, oldest first.
pub(crate) fn journaled(conn: &Connection, workspace_key: &str) -> Result<Vec<Journaled>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, patch_id, writing, writer_pid, writer_boot FROM applies
         WHERE workspace_key = ?1 AND writing IS NOT NULL ORDER BY id",
    )?;
    let rows = stmt
        .query_map([workspace_key], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(apply_id, patch_id, writing, pid, boot)| {
            Some(Journaled {
                apply_id,
                patch_id,
                writing: Writing::parse(&writing)?,
                writer: Writer {
                    pid: pid.unwrap_or(0),
                    boot: boot.unwrap_or_default(),
                },
            })
        })
        .collect())
}

/// The checkpoint undo takes: the workspace's last applied one.
pub(crate) fn last_applied(conn: &Connection, workspace_key: &str) -> Result<Option<ApplyRow>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM applies WHERE workspace_key = ?1 AND state = 'applied'
                   AND (writing IS NULL OR writing <> 'apply')
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
        "SELECT path, before, after, before_mode, after_mode, after_sha256 FROM apply_files
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
                after_sha256: r.get(5)?,
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

    fn file<'a>(
        path: &'a str,
        before: Option<&'a str>,
        after: Option<&'a str>,
    ) -> NewApplyFile<'a> {
        NewApplyFile {
            path,
            before: before.map(str::as_bytes),
            after: after.map(str::as_bytes),
            before_mode: before.map(|_| 0o100644),
            after_mode: after.map(|_| 0o100755),
            after_sha256: None,
        }
    }

    /// [`file`] as [`files`] reads it back.
    fn stored(path: &str, before: Option<&str>, after: Option<&str>) -> ApplyFile {
        let new = file(path, before, after);
        ApplyFile {
            path: new.path.to_string(),
            before: new.before.map(<[u8]>::to_vec),
            after: new.after.map(<[u8]>::to_vec),
            before_mode: new.before_mode,
            after_mode: new.after_mode,
            after_sha256: None,
        }
    }

    #[test]
    fn undo_takes_the_last_applied_and_redo_the_first_undone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = &store.conn;
        let one = insert(
            conn,
            "ws:a",
            None,
            &[file("x", Some("1"), Some("2"))],
            1,
            None,
            None,
        )
        .unwrap();
        let two = insert(
            conn,
            "ws:a",
            None,
            &[file("y", None, Some("new"))],
            2,
            None,
            None,
        )
        .unwrap();
        insert(
            conn,
            "ws:b",
            None,
            &[file("z", Some("b"), None)],
            3,
            None,
            None,
        )
        .unwrap();
        assert_eq!(last_applied(conn, "ws:a").unwrap().unwrap().id, two);
        assert!(set_state(conn, two, ApplyState::Undone, 4).unwrap());
        assert!(set_state(conn, one, ApplyState::Undone, 5).unwrap());
        assert_eq!(first_undone(conn, "ws:a").unwrap().unwrap().id, one);
        assert_eq!(last_applied(conn, "ws:a").unwrap(), None);
        let got = files(conn, two).unwrap();
        assert_eq!(got, vec![stored("y", None, Some("new"))]);
        // A new apply drops what was undone.
        let three = insert(
            conn,
            "ws:a",
            None,
            &[file("x", Some("1"), Some("3"))],
            6,
            None,
            None,
        )
        .unwrap();
        assert_eq!(first_undone(conn, "ws:a").unwrap().unwrap().id, one);
        finish_apply(conn, "ws:a", three).unwrap();
        assert_eq!(first_undone(conn, "ws:a").unwrap(), None);
        assert!(files(conn, two).unwrap().is_empty());
        assert_eq!(last_applied(conn, "ws:a").unwrap().unwrap().id, three);
        assert_eq!(remove_for_workspace(conn, "ws:a").unwrap(), 1);
        assert!(last_applied(conn, "ws:b").unwrap().is_some());
    }

    #[test]
    fn a_journaled_step_is_listed_until_it_is_finished_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = &store.conn;
        let writer = Writer {
            pid: 42,
            boot: "boot".into(),
        };
        let done = insert(
            conn,
            "dir:/w",
            None,
            &[file("x", Some("1"), Some("2"))],
            1,
            None,
            None,
        )
        .unwrap();
        let apply = insert(
            conn,
            "dir:/w",
            None,
            &[file("y", None, Some("3"))],
            2,
            Some(&writer),
            None,
        )
        .unwrap();
        // A journaled apply is not undone before it is written.
        assert_eq!(last_applied(conn, "dir:/w").unwrap().unwrap().id, done);
        set_writing(conn, done, Writing::Undo, &writer).unwrap();
        let listed = journaled(conn, "dir:/w").unwrap();
        assert_eq!(
            listed,
            vec![
                Journaled {
                    apply_id: done,
                    patch_id: None,
                    writing: Writing::Undo,
                    writer: writer.clone(),
                },
                Journaled {
                    apply_id: apply,
                    patch_id: None,
                    writing: Writing::Apply,
                    writer: writer.clone(),
                },
            ]
        );
        clear_writing(conn, done).unwrap();
        remove(conn, apply).unwrap();
        assert!(journaled(conn, "dir:/w").unwrap().is_empty());
        assert!(files(conn, apply).unwrap().is_empty());
        assert_eq!(last_applied(conn, "dir:/w").unwrap().unwrap().id, done);
    }
}
