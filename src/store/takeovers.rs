//! Queries of the `takeovers` table (migration 3): one row a takeover into
//! git, written before the repository is touched and moved forward step by
//! step, so an interrupted takeover can be found and finished.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Result;

/// A takeover into git as the `takeovers` table records it. `state` is the
/// text of the takeover's state machine, which its owner keeps; the store
/// only knows that `done` ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TakeoverRow {
    pub id: i64,
    pub workspace: String,
    pub source: String,
    pub repo_path: String,
    pub stamp: String,
    pub branch: String,
    pub tag: String,
    pub base_commit: Option<String>,
    pub created_repo: bool,
    pub state: String,
    pub commit_id: Option<String>,
    pub files_tree: Option<String>,
    pub pid: Option<i64>,
    pub remote_url: Option<String>,
    pub github_repo: Option<String>,
    pub started_at: String,
}

/// What a takeover records before it touches the repository.
pub(crate) struct NewTakeover<'a> {
    pub workspace: &'a str,
    pub source: &'a str,
    pub repo_path: &'a str,
    pub stamp: &'a str,
    pub branch: &'a str,
    pub tag: &'a str,
    pub base_commit: Option<&'a str>,
    pub created_repo: bool,
    pub pid: u32,
    pub started_at: &'a str,
}

const TAKEOVER_COLUMNS: &str = "id, workspace, source, repo_path, stamp, branch, tag, base_commit, \
     created_repo, state, commit_id, files_tree, pid, remote_url, github_repo, started_at";

fn takeover_from_row(row: &Row<'_>) -> rusqlite::Result<TakeoverRow> {
    Ok(TakeoverRow {
        id: row.get(0)?,
        workspace: row.get(1)?,
        source: row.get(2)?,
        repo_path: row.get(3)?,
        stamp: row.get(4)?,
        branch: row.get(5)?,
        tag: row.get(6)?,
        base_commit: row.get(7)?,
        created_repo: row.get::<_, i64>(8)? != 0,
        state: row.get(9)?,
        commit_id: row.get(10)?,
        files_tree: row.get(11)?,
        pid: row.get(12)?,
        remote_url: row.get(13)?,
        github_repo: row.get(14)?,
        started_at: row.get(15)?,
    })
}

pub(crate) fn insert(conn: &Connection, t: &NewTakeover<'_>) -> Result<i64> {
    conn.execute(
        "INSERT INTO takeovers (workspace, source, repo_path, stamp, branch, tag, base_commit,
                                created_repo, state, pid, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'started', ?9, ?10)",
        params![
            t.workspace,
            t.source,
            t.repo_path,
            t.stamp,
            t.branch,
            t.tag,
            t.base_commit,
            i64::from(t.created_repo),
            t.pid,
            t.started_at
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The takeover of `workspace` that has not reached `done`, if any.
pub(crate) fn unfinished(conn: &Connection, workspace: &str) -> Result<Option<TakeoverRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TAKEOVER_COLUMNS} FROM takeovers WHERE workspace = ?1 AND state <> 'done'"
    ))?;
    Ok(stmt.query_row([workspace], takeover_from_row).optional()?)
}

/// The most recent finished takeover of `workspace`, if any.
pub(crate) fn last_finished(conn: &Connection, workspace: &str) -> Result<Option<TakeoverRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TAKEOVER_COLUMNS} FROM takeovers WHERE workspace = ?1 AND state = 'done'
         ORDER BY id DESC LIMIT 1"
    ))?;
    Ok(stmt.query_row([workspace], takeover_from_row).optional()?)
}

pub(crate) fn claim(conn: &Connection, id: i64, pid: u32) -> Result<()> {
    conn.execute(
        "UPDATE takeovers SET pid = ?2 WHERE id = ?1",
        params![id, pid],
    )?;
    Ok(())
}

/// Moves takeover `id` to `state`, recording the commit and the files'
/// tree once known (a `None` keeps what is recorded).
pub(crate) fn advance(
    conn: &Connection,
    id: i64,
    state: &str,
    commit_id: Option<&str>,
    files_tree: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE takeovers SET state = ?2, commit_id = COALESCE(?3, commit_id),
                files_tree = COALESCE(?4, files_tree),
                finished_at = CASE WHEN ?2 = 'done' THEN ?5 ELSE NULL END,
                pid = CASE WHEN ?2 = 'done' THEN NULL ELSE pid END
         WHERE id = ?1",
        params![id, state, commit_id, files_tree, super::now_rfc3339()],
    )?;
    Ok(())
}

pub(crate) fn delete(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM takeovers WHERE id = ?1", [id])?;
    Ok(())
}

/// Records the origin a takeover set up and the GitHub repository it created.
pub(crate) fn set_remote(
    conn: &Connection,
    id: i64,
    remote_url: Option<&str>,
    github_repo: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE takeovers SET remote_url = COALESCE(?2, remote_url),
                github_repo = COALESCE(?3, github_repo)
         WHERE id = ?1",
        params![id, remote_url, github_repo],
    )?;
    Ok(())
}
