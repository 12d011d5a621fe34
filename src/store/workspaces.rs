//! Queries of the `workspaces` and `skipped_entries` tables.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::Result;

/// Where a workspace's files live: in the store, or in a git repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageType {
    Sqlite,
    Git,
}

impl StorageType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StorageType::Sqlite => "sqlite",
            StorageType::Git => "git",
        }
    }

    fn parse(text: &str) -> StorageType {
        if text == "git" {
            StorageType::Git
        } else {
            StorageType::Sqlite
        }
    }
}

/// A published workspace as `ls` and `show` describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: i64,
    pub name: String,
    pub storage_type: StorageType,
    pub source: String,
    pub fingerprint: String,
    pub taken_over_at: String,
    pub files_count: u64,
    pub bytes: u64,
    pub ignored: u64,
    /// The repository of a git workspace; `None` for SQLite workspaces.
    pub repo_path: Option<String>,
}

/// A source entry an import did not take, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedEntry {
    pub path: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// For a `secret`: the id of the rule that found it, never its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What to do about it (secrets only); not stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<&'static str>,
}

impl SkippedEntry {
    pub(crate) fn new(
        path: String,
        reason: &str,
        size: Option<u64>,
        rule: Option<String>,
    ) -> SkippedEntry {
        let hint = (reason == "secret").then_some(crate::workspace::secrets::SECRET_HINT);
        SkippedEntry {
            path,
            reason: reason.to_string(),
            size,
            rule,
            hint,
        }
    }
}

/// An import that staged files but has not published them yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Staging {
    pub id: i64,
    pub source: String,
    pub importer_pid: Option<i64>,
}

const WORKSPACE_COLUMNS: &str = "id, name, storage_type, source, COALESCE(fingerprint, ''), \
     COALESCE(taken_over_at, ''), files_count, bytes, ignored_count, repo_path";

fn workspace_from_row(row: &Row<'_>) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        id: row.get(0)?,
        name: row.get(1)?,
        storage_type: StorageType::parse(&row.get::<_, String>(2)?),
        source: row.get(3)?,
        fingerprint: row.get(4)?,
        taken_over_at: row.get(5)?,
        files_count: row.get::<_, i64>(6)?.max(0) as u64,
        bytes: row.get::<_, i64>(7)?.max(0) as u64,
        ignored: row.get::<_, i64>(8)?.max(0) as u64,
        repo_path: row.get(9)?,
    })
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<Workspace>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE state = 'ready' ORDER BY name"
    ))?;
    let rows = stmt.query_map([], workspace_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn find(conn: &Connection, name: &str) -> Result<Option<Workspace>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE state = 'ready' AND name = ?1"
    ))?;
    Ok(stmt.query_row([name], workspace_from_row).optional()?)
}

/// The ready workspace of row `id`, if it is still there.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<Workspace>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE state = 'ready' AND id = ?1"
    ))?;
    Ok(stmt.query_row([id], workspace_from_row).optional()?)
}

/// The row of the ready workspace `name`; `None` for a folder's absolute
/// path or a name no workspace has.
pub(crate) fn id_of(conn: &Connection, name: &str) -> Result<Option<i64>> {
    if name.starts_with('/') {
        return Ok(None);
    }
    let mut stmt =
        conn.prepare_cached("SELECT id FROM workspaces WHERE state = 'ready' AND name = ?1")?;
    Ok(stmt.query_row([name], |r| r.get(0)).optional()?)
}

pub(crate) fn count(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM workspaces WHERE state = 'ready'",
        [],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

pub(crate) fn skipped(conn: &Connection, workspace_id: i64) -> Result<Vec<SkippedEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, reason, size, rule FROM skipped_entries WHERE workspace_id = ?1 ORDER BY path",
    )?;
    let rows = stmt.query_map([workspace_id], |r| {
        Ok(SkippedEntry::new(
            r.get(0)?,
            &r.get::<_, String>(1)?,
            r.get::<_, Option<i64>>(2)?.map(|s| s.max(0) as u64),
            r.get(3)?,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn skipped_count(conn: &Connection, workspace_id: i64) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM skipped_entries WHERE workspace_id = ?1",
        [workspace_id],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

/// Deletes a workspace with its files and skipped entries (cascade).
pub(crate) fn delete(conn: &Connection, workspace_id: i64) -> Result<()> {
    conn.execute("DELETE FROM workspaces WHERE id = ?1", [workspace_id])?;
    Ok(())
}

/// An import's staged rows: a workspace row still `importing`, because
/// its import runs or was interrupted (killed, or the store failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StagedImport {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub started_at: String,
    pub staged_files: u64,
    pub importer_pid: Option<i64>,
}

impl StagedImport {
    /// Whether its importer still runs (on this machine).
    pub(crate) fn running(&self) -> bool {
        self.importer_pid
            .is_some_and(|pid| pid != i64::from(std::process::id()) && super::locks::pid_alive(pid))
    }
}

/// Every import's staged rows, by name.
pub(crate) fn staged_imports(conn: &Connection) -> Result<Vec<StagedImport>> {
    let mut stmt = conn.prepare_cached(
        "SELECT w.id, w.name, w.source, w.created_at, \
                (SELECT COUNT(*) FROM files f WHERE f.workspace_id = w.id), w.importer_pid \
         FROM workspaces w WHERE w.state = 'importing' ORDER BY w.name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(StagedImport {
            id: r.get(0)?,
            name: r.get(1)?,
            source: r.get(2)?,
            started_at: r.get(3)?,
            staged_files: r.get::<_, i64>(4)?.max(0) as u64,
            importer_pid: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn find_staging(conn: &Connection, name: &str) -> Result<Option<Staging>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, source, importer_pid FROM workspaces WHERE state = 'importing' AND name = ?1",
    )?;
    Ok(stmt
        .query_row([name], |r| {
            Ok(Staging {
                id: r.get(0)?,
                source: r.get(1)?,
                importer_pid: r.get(2)?,
            })
        })
        .optional()?)
}

/// The row id of a new workspace: above every id a workspace ever had.
/// SQLite alone gives a new row the id of the highest one deleted, and a
/// removed workspace's jobs, schedules and working copy still name it; the
/// highest id handed out is kept in `settings` for that.
fn next_id(conn: &Connection) -> Result<i64> {
    const LAST_ID: &str = "workspaces.last_id";
    let next: i64 = conn.query_row(
        "SELECT 1 + max(
             coalesce((SELECT max(id) FROM workspaces), 0),
             coalesce((SELECT max(workspace_id) FROM jobs), 0),
             coalesce((SELECT max(workspace_id) FROM schedules), 0))",
        [],
        |r| r.get(0),
    )?;
    let handed_out = super::settings::get(conn, LAST_ID)?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let next = next.max(handed_out + 1);
    super::settings::set(conn, LAST_ID, &next.to_string())?;
    Ok(next)
}

pub(crate) fn create_staging(
    conn: &Connection,
    name: &str,
    source: &str,
    pid: u32,
    now: &str,
) -> Result<i64> {
    let id = next_id(conn)?;
    conn.execute(
        "INSERT INTO workspaces (id, name, state, storage_type, source, importer_pid, created_at)
         VALUES (?5, ?1, 'importing', 'sqlite', ?2, ?3, ?4)",
        params![name, source, pid, now, id],
    )?;
    Ok(id)
}

pub(crate) fn claim_staging(conn: &Connection, id: i64, pid: u32) -> Result<()> {
    conn.execute(
        "UPDATE workspaces SET importer_pid = ?2 WHERE id = ?1",
        params![id, pid],
    )?;
    Ok(())
}

pub(crate) fn clear_skipped(conn: &Connection, workspace_id: i64) -> Result<()> {
    conn.execute(
        "DELETE FROM skipped_entries WHERE workspace_id = ?1",
        [workspace_id],
    )?;
    Ok(())
}

pub(crate) fn insert_skipped(
    conn: &Connection,
    workspace_id: i64,
    entry: &SkippedEntry,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO skipped_entries (workspace_id, path, reason, size, rule) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    stmt.execute(params![
        workspace_id,
        entry.path,
        entry.reason,
        entry.size.map(|s| s as i64),
        entry.rule
    ])?;
    Ok(())
}

/// What publishing a staged import records on its workspace row.
pub(crate) struct Publish<'a> {
    pub staging_id: i64,
    pub fingerprint: &'a str,
    pub taken_over_at: &'a str,
    pub ignored: u64,
}

/// Turns a staged import into the ready workspace of its name, counting its
/// files and bytes from the rows themselves. Returns false when the staging
/// row was published or removed by someone else meanwhile.
pub(crate) fn publish(conn: &Connection, p: &Publish<'_>) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE workspaces SET state = 'ready', fingerprint = ?2, taken_over_at = ?3,
                ignored_count = ?4, importer_pid = NULL,
                files_count = (SELECT COUNT(*) FROM files WHERE workspace_id = ?1),
                bytes = (SELECT COALESCE(SUM(size), 0) FROM files WHERE workspace_id = ?1)
         WHERE id = ?1 AND state = 'importing'",
        params![
            p.staging_id,
            p.fingerprint,
            p.taken_over_at,
            p.ignored as i64
        ],
    )?;
    Ok(changed == 1)
}

// Git workspaces (migration 3): a workspace whose files live in a
// repository. The takeovers that make them are `store::takeovers`.

/// What a finished takeover records on its workspace row.
pub(crate) struct GitWorkspace<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub repo_path: &'a str,
    pub fingerprint: &'a str,
    pub taken_over_at: &'a str,
    pub files_count: u64,
    pub bytes: u64,
    pub ignored: u64,
}

/// Creates the ready git workspace `w.name` and returns its id.
pub(crate) fn insert_git_workspace(conn: &Connection, w: &GitWorkspace<'_>) -> Result<i64> {
    let id = next_id(conn)?;
    conn.execute(
        "INSERT INTO workspaces (id, name, state, storage_type, source, fingerprint, taken_over_at,
                                 files_count, bytes, ignored_count, repo_path, created_at)
         VALUES (?9, ?1, 'ready', 'git', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?4)",
        params![
            w.name,
            w.source,
            w.fingerprint,
            w.taken_over_at,
            w.files_count as i64,
            w.bytes as i64,
            w.ignored as i64,
            w.repo_path,
            id
        ],
    )?;
    Ok(id)
}

/// Turns workspace `id` into the git workspace `w` describes: its files rows
/// go, since the repository holds the files now. Drafts and editor state are
/// keyed by name and stay.
pub(crate) fn make_git_workspace(conn: &Connection, id: i64, w: &GitWorkspace<'_>) -> Result<()> {
    conn.execute("DELETE FROM files WHERE workspace_id = ?1", [id])?;
    conn.execute(
        "UPDATE workspaces SET storage_type = 'git', repo_path = ?2, source = ?3,
                fingerprint = ?4, taken_over_at = ?5, files_count = ?6, bytes = ?7,
                ignored_count = ?8
         WHERE id = ?1",
        params![
            id,
            w.repo_path,
            w.source,
            w.fingerprint,
            w.taken_over_at,
            w.files_count as i64,
            w.bytes as i64,
            w.ignored as i64
        ],
    )?;
    Ok(())
}
