//! Queries of the `patches` and `patch_hunks` tables: patches proposed to a
//! workspace and the review's decision on each hunk.
//!
//! A patch is stored as the unified diff of its [`Patch`](crate::patch::Patch)
//! (`FilePatch::to_unified` per file), in `patch_diffs` beside its row (a
//! change of status does not write megabytes of diff again); hunks are
//! addressed by their file's
//! and their own position in it. A hunk has a `patch_hunks` row only once
//! the review decided it: a hunk without one is pending, so that a patch
//! applied whole (`patch import --apply`, `patch apply --all`) writes no
//! row per hunk. Parsing the diff back and applying it is the `proposal`
//! module's work; this one only keeps rows.

use rusqlite::{Connection, MAIN_DB, OptionalExtension, params};

use super::Result;

/// Where a patch came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A model's answer to `ask`.
    Ask,
    /// `patch import`: a diff from another tool, a mail, a PR.
    Import,
    /// Fix with AI from a failed job.
    Fix,
}

impl Source {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Source::Ask => "ask",
            Source::Import => "import",
            Source::Fix => "fix",
        }
    }

    fn parse(s: &str) -> Source {
        match s {
            "import" => Source::Import,
            "fix" => Source::Fix,
            _ => Source::Ask,
        }
    }
}

/// Where a patch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchStatus {
    /// Waiting for review.
    Pending,
    /// Its accepted hunks were written.
    Applied,
    /// Thrown away as a whole.
    Rejected,
}

impl PatchStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PatchStatus::Pending => "pending",
            PatchStatus::Applied => "applied",
            PatchStatus::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> PatchStatus {
        match s {
            "applied" => PatchStatus::Applied,
            "rejected" => PatchStatus::Rejected,
            _ => PatchStatus::Pending,
        }
    }
}

/// The review's decision on one hunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Pending,
    Accepted,
    Rejected,
}

impl Decision {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Decision::Pending => "pending",
            Decision::Accepted => "accepted",
            Decision::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Decision {
        match s {
            "accepted" => Decision::Accepted,
            "rejected" => Decision::Rejected,
            _ => Decision::Pending,
        }
    }
}

/// A patch to store.
#[derive(Debug, Clone)]
pub(crate) struct NewPatch<'a> {
    pub workspace_key: &'a str,
    pub source: Source,
    pub job_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub title: &'a str,
    pub message: Option<&'a str>,
    pub diff: &'a str,
}

/// A stored patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatchRow {
    pub id: i64,
    pub workspace_key: String,
    pub source: Source,
    pub job_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub title: String,
    pub message: Option<String>,
    pub diff: String,
    pub status: PatchStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One hunk's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HunkDecision {
    pub file_index: usize,
    pub hunk_index: usize,
    pub decision: Decision,
    pub reason: Option<String>,
}

/// A patch's columns, from `patches p` joined with its `patch_diffs d`.
const COLUMNS: &str = "p.id, p.workspace_key, p.source, p.job_id, p.conversation_id, p.title,
                       p.message, CAST(d.diff AS TEXT), p.status, p.created_at,
                       p.updated_at";
const FROM: &str = "patches p JOIN patch_diffs d ON d.patch_id = p.id";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PatchRow> {
    Ok(PatchRow {
        id: r.get(0)?,
        workspace_key: r.get(1)?,
        source: Source::parse(&r.get::<_, String>(2)?),
        job_id: r.get(3)?,
        conversation_id: r.get(4)?,
        title: r.get(5)?,
        message: r.get(6)?,
        diff: r.get(7)?,
        status: PatchStatus::parse(&r.get::<_, String>(8)?),
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

/// Stores a patch, every hunk pending; its id.
#[cfg(test)]
pub(crate) fn insert(conn: &mut Connection, patch: &NewPatch<'_>, now: i64) -> Result<i64> {
    let tx = conn.transaction()?;
    let id = insert_in(&tx, patch, now)?;
    tx.commit()?;
    Ok(id)
}

/// [`insert`] inside the caller's transaction (an import applied at once
/// stores its patch with the apply's checkpoint).
pub(crate) fn insert_in(conn: &Connection, patch: &NewPatch<'_>, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO patches (workspace_key, source, job_id, conversation_id, title, message,
                              status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7)",
        params![
            patch.workspace_key,
            patch.source.as_str(),
            patch.job_id,
            patch.conversation_id,
            patch.title,
            patch.message,
            now
        ],
    )?;
    let id = conn.last_insert_rowid();
    // The diff, megabytes for a big patch, goes from here into the row's
    // pages: bound as a value, SQLite would copy it twice first (the
    // value, then the row made of it). Its bytes are kept as a blob, read
    // back as text (see `COLUMNS`).
    let bytes = patch.diff.as_bytes();
    conn.execute(
        "INSERT INTO patch_diffs (patch_id, diff) VALUES (?1, zeroblob(?2))",
        params![id, bytes.len() as i64],
    )?;
    conn.blob_open(MAIN_DB, c"patch_diffs", c"diff", id, false)?
        .write_at(bytes, 0)?;
    Ok(id)
}

/// Removes patch `id` with its diff and decisions (an import whose apply
/// failed takes it back); whether there was one.
pub(crate) fn remove(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM patches WHERE id = ?1", [id])? > 0)
}

/// The workspace key of patch `id`, if there is such a patch, without
/// reading its diff.
pub(crate) fn workspace_key(conn: &Connection, id: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT workspace_key FROM patches WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?)
}

/// The patch `id`, if there is one.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<PatchRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM {FROM} WHERE p.id = ?1"),
            [id],
            from_row,
        )
        .optional()?)
}

/// The patches of a workspace, newest first.
pub(crate) fn list(conn: &Connection, workspace_key: &str) -> Result<Vec<PatchRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE p.workspace_key = ?1 ORDER BY p.id DESC"
    ))?;
    let rows = stmt
        .query_map([workspace_key], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The decisions on the hunks of patch `id`, in file and hunk order; a
/// hunk not listed is pending.
pub(crate) fn decisions(conn: &Connection, id: i64) -> Result<Vec<HunkDecision>> {
    let mut stmt = conn.prepare_cached(
        "SELECT file_index, hunk_index, decision, reason FROM patch_hunks
         WHERE patch_id = ?1 ORDER BY file_index, hunk_index",
    )?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(HunkDecision {
                file_index: r.get::<_, i64>(0)? as usize,
                hunk_index: r.get::<_, i64>(1)? as usize,
                decision: Decision::parse(&r.get::<_, String>(2)?),
                reason: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Records the decision on one hunk (its position is the caller's to
/// check against the diff); whether the patch exists.
pub(crate) fn decide(
    conn: &Connection,
    id: i64,
    file_index: usize,
    hunk_index: usize,
    decision: Decision,
    reason: Option<&str>,
    now: i64,
) -> Result<bool> {
    let exists = conn.execute(
        "UPDATE patches SET updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )? > 0;
    if exists {
        conn.execute(
            "INSERT INTO patch_hunks (patch_id, file_index, hunk_index, decision, reason)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (patch_id, file_index, hunk_index)
             DO UPDATE SET decision = excluded.decision, reason = excluded.reason",
            params![
                id,
                file_index as i64,
                hunk_index as i64,
                decision.as_str(),
                reason
            ],
        )?;
    }
    Ok(exists)
}

/// Sets where patch `id` stands; whether it exists.
pub(crate) fn set_status(
    conn: &Connection,
    id: i64,
    status: PatchStatus,
    now: i64,
) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE patches SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, status.as_str(), now],
    )? > 0)
}

/// Replaces hunk `hunk_index` of file `file_index` by `parts` pieces in
/// the decisions of patch `id`, each pending (no row), moving the file's
/// later decisions along, and stores `diff` (the patch with the pieces in
/// place), in one transaction; whether the patch exists.
pub(crate) fn split_hunk(
    conn: &mut Connection,
    id: i64,
    file_index: usize,
    hunk_index: usize,
    parts: usize,
    diff: &str,
    now: i64,
) -> Result<bool> {
    let tx = conn.transaction()?;
    let (file, hunk) = (file_index as i64, hunk_index as i64);
    let exists = tx.execute(
        "UPDATE patches SET updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )? > 0;
    if !exists {
        return Ok(false);
    }
    tx.execute(
        "UPDATE patch_diffs SET diff = ?2 WHERE patch_id = ?1",
        params![id, diff],
    )?;
    tx.execute(
        "DELETE FROM patch_hunks WHERE patch_id = ?1 AND file_index = ?2 AND hunk_index = ?3",
        params![id, file, hunk],
    )?;
    // Two steps through negative numbers: one UPDATE that moves rows up
    // in place would collide with the rows it has not moved yet.
    let shift = parts as i64 - 1;
    tx.execute(
        "UPDATE patch_hunks SET hunk_index = -1 - (hunk_index + ?4)
         WHERE patch_id = ?1 AND file_index = ?2 AND hunk_index > ?3",
        params![id, file, hunk, shift],
    )?;
    tx.execute(
        "UPDATE patch_hunks SET hunk_index = -1 - hunk_index
         WHERE patch_id = ?1 AND file_index = ?2 AND hunk_index < 0",
        params![id, file],
    )?;
    tx.commit()?;
    Ok(true)
}

/// Removes the rows kept under a removed workspace's key: its patches
/// (their decisions cascade), its conversations (their turns cascade) and
/// its model calls, one statement per table. Checkpoints are
/// [`super::applies::remove_for_workspace`]'s.
pub(crate) fn remove_for_workspace(conn: &Connection, workspace_key: &str) -> Result<usize> {
    let patches = conn.execute(
        "DELETE FROM patches WHERE workspace_key = ?1",
        [workspace_key],
    )?;
    conn.execute(
        "DELETE FROM conversations WHERE workspace_key = ?1",
        [workspace_key],
    )?;
    conn.execute(
        "DELETE FROM ai_calls WHERE workspace_key = ?1",
        [workspace_key],
    )?;
    Ok(patches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_diff_written_as_a_blob_reads_back_as_the_same_text_beside_older_text_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let diff = "--- a/ö.txt\n+++ b/ö.txt\n@@ -1 +1 @@\n-å\n+ğ 🙂\n".repeat(1000);
        fn new(diff: &str) -> NewPatch<'_> {
            NewPatch {
                workspace_key: "ws:demo",
                source: Source::Import,
                job_id: None,
                conversation_id: None,
                title: "t",
                message: None,
                diff,
            }
        }
        let id = insert(&mut store.conn, &new(&diff), 1).unwrap();
        let kind: String = store
            .conn
            .query_row(
                "SELECT typeof(diff) FROM patch_diffs WHERE patch_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kind, "blob");
        assert_eq!(get(&store.conn, id).unwrap().unwrap().diff, diff);
        // A diff stored as text (before, or rewritten by a split) reads
        // the same way.
        let older = insert(&mut store.conn, &new("x"), 1).unwrap();
        store
            .conn
            .execute(
                "UPDATE patch_diffs SET diff = ?2 WHERE patch_id = ?1",
                params![older, "--- a/x\n"],
            )
            .unwrap();
        assert_eq!(get(&store.conn, older).unwrap().unwrap().diff, "--- a/x\n");
        assert_eq!(list(&store.conn, "ws:demo").unwrap().len(), 2);
    }

    #[test]
    fn a_patch_keeps_its_diff_and_a_row_per_decided_hunk() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let id = insert(
            &mut store.conn,
            &NewPatch {
                workspace_key: "ws:demo",
                source: Source::Import,
                job_id: None,
                conversation_id: None,
                title: "rename a helper",
                message: None,
                diff: "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
            },
            1_000,
        )
        .unwrap();
        let row = get(&store.conn, id).unwrap().unwrap();
        assert_eq!(row.source, Source::Import);
        assert_eq!(row.status, PatchStatus::Pending);
        assert!(row.diff.ends_with("+b\n"));
        // No row per hunk until the review decides one.
        assert!(decisions(&store.conn, id).unwrap().is_empty());
        assert!(decide(&store.conn, id, 1, 1, Decision::Rejected, Some("no"), 2_000).unwrap());
        assert!(decide(&store.conn, id, 0, 0, Decision::Accepted, None, 2_000).unwrap());
        // Deciding again replaces the decision and its reason.
        assert!(
            decide(
                &store.conn,
                id,
                0,
                0,
                Decision::Rejected,
                Some("why"),
                2_000
            )
            .unwrap()
        );
        assert!(!decide(&store.conn, id + 1, 0, 0, Decision::Accepted, None, 2_000).unwrap());
        let got: Vec<(usize, usize, Decision, Option<String>)> = decisions(&store.conn, id)
            .unwrap()
            .into_iter()
            .map(|d| (d.file_index, d.hunk_index, d.decision, d.reason))
            .collect();
        assert_eq!(
            got,
            [
                (0, 0, Decision::Rejected, Some("why".into())),
                (1, 1, Decision::Rejected, Some("no".into())),
            ]
        );
        assert_eq!(list(&store.conn, "ws:demo").unwrap().len(), 1);
        assert!(list(&store.conn, "ws:other").unwrap().is_empty());
    }

    #[test]
    fn splitting_a_hunk_moves_the_later_decisions_along() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let patch = NewPatch {
            workspace_key: "ws:demo",
            source: Source::Ask,
            job_id: None,
            conversation_id: None,
            title: "t",
            message: None,
            diff: "old",
        };
        let id = insert(&mut store.conn, &patch, 1).unwrap();
        decide(&store.conn, id, 0, 2, Decision::Rejected, Some("later"), 2).unwrap();
        decide(&store.conn, id, 0, 1, Decision::Accepted, None, 2).unwrap();
        decide(&store.conn, id, 0, 0, Decision::Accepted, None, 2).unwrap();
        decide(&store.conn, id, 1, 0, Decision::Rejected, None, 2).unwrap();
        assert!(split_hunk(&mut store.conn, id, 0, 1, 3, "new", 3).unwrap());
        let got: Vec<(usize, usize, Decision)> = decisions(&store.conn, id)
            .unwrap()
            .into_iter()
            .map(|d| (d.file_index, d.hunk_index, d.decision))
            .collect();
        assert_eq!(
            got,
            [
                (0, 0, Decision::Accepted),
                (0, 4, Decision::Rejected),
                (1, 0, Decision::Rejected),
            ]
        );
        assert_eq!(get(&store.conn, id).unwrap().unwrap().diff, "new");
        assert!(!split_hunk(&mut store.conn, id + 1, 0, 0, 2, "x", 4).unwrap());
        assert_eq!(remove_for_workspace(&store.conn, "ws:demo").unwrap(), 1);
        assert!(decisions(&store.conn, id).unwrap().is_empty());
    }
}
