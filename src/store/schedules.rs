//! The `schedules` table: a command run as a job at the times of a cron
//! expression, with the policy for fire times missed while nothing ran.
//! What the expression means and which missed times run is
//! `jobs::schedule`'s; this module stores and reads the rows.

use std::fmt;
use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::Result;

/// What to do with fire times missed while nothing ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CatchUp {
    /// One run for all of them.
    #[default]
    Once,
    /// None: only a fire time that is on time runs.
    Skip,
    /// One run per missed fire time, the latest 100 at most.
    All,
}

impl CatchUp {
    pub(crate) const ALL: [CatchUp; 3] = [CatchUp::Once, CatchUp::Skip, CatchUp::All];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CatchUp::Once => "once",
            CatchUp::Skip => "skip",
            CatchUp::All => "all",
        }
    }
}

impl fmt::Display for CatchUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CatchUp {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<CatchUp, String> {
        CatchUp::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown catch-up policy {text:?}; one of once (one run for all missed times), \
                     skip (no run for missed times), all (one run per missed time)"
                )
            })
    }
}

/// A schedule row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Schedule {
    pub id: i64,
    /// The workspace's name, or a folder's absolute path.
    pub workspace: String,
    /// The workspace's row; `None` for a folder.
    pub workspace_id: Option<i64>,
    pub cron: String,
    pub command: Vec<String>,
    pub catch_up: CatchUp,
    pub timeout_ms: Option<i64>,
    /// The next fire time not yet enqueued; `i64::MAX` when the expression
    /// never fires again.
    pub next_run_at: i64,
    /// When the last job was enqueued.
    pub last_run_at: Option<i64>,
    pub last_job_id: Option<i64>,
    pub created_at: i64,
}

/// What `insert` stores; the expression was checked by the caller.
#[derive(Debug, Clone)]
pub(crate) struct NewSchedule<'a> {
    pub workspace: &'a str,
    pub workspace_id: Option<i64>,
    pub cron: &'a str,
    pub command: &'a [String],
    pub catch_up: CatchUp,
    pub timeout_ms: Option<i64>,
    pub next_run_at: i64,
}

const COLUMNS: &str = "id, workspace, cron, command, catch_up, timeout_ms, next_run_at, \
     last_run_at, last_job_id, created_at, workspace_id";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Schedule> {
    let bad = |index: usize, message: String| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            message.into(),
        )
    };
    let command: String = row.get(3)?;
    let command: Vec<String> = serde_json::from_str(&command).map_err(|e| {
        bad(
            3,
            format!("the command is not a JSON array of strings: {e}"),
        )
    })?;
    let catch_up: String = row.get(4)?;
    Ok(Schedule {
        id: row.get(0)?,
        workspace: row.get(1)?,
        cron: row.get(2)?,
        command,
        catch_up: catch_up.parse().map_err(|e| bad(4, e))?,
        timeout_ms: row.get(5)?,
        next_run_at: row.get(6)?,
        last_run_at: row.get(7)?,
        last_job_id: row.get(8)?,
        created_at: row.get(9)?,
        workspace_id: row.get(10)?,
    })
}

/// Adds a schedule and returns its id.
pub(crate) fn insert(conn: &Connection, new: &NewSchedule<'_>, now: i64) -> Result<i64> {
    let command = serde_json::Value::from(new.command.to_vec()).to_string();
    conn.execute(
        "INSERT INTO schedules (workspace, cron, command, catch_up, timeout_ms, next_run_at, \
         created_at, workspace_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            new.workspace,
            new.cron,
            command,
            new.catch_up.as_str(),
            new.timeout_ms,
            new.next_run_at,
            now,
            new.workspace_id,
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// One schedule, if it exists.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<Schedule>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM schedules WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// Every schedule, oldest first.
pub(crate) fn list(conn: &Connection) -> Result<Vec<Schedule>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM schedules ORDER BY id"))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Removes a schedule; whether it was there. Jobs it enqueued stay.
pub(crate) fn remove(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM schedules WHERE id = ?1", [id])? > 0)
}

/// Removes the schedules of a workspace (it is being removed); how many.
pub(crate) fn remove_for_workspace(conn: &Connection, workspace_id: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM schedules WHERE workspace_id = ?1",
        [workspace_id],
    )?)
}

/// The schedules whose next fire time has come, the earliest first.
pub(crate) fn due(conn: &Connection, now: i64) -> Result<Vec<Schedule>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM schedules WHERE next_run_at <= ?1 ORDER BY next_run_at, id"
        ))?
        .query_map([now], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Moves a schedule to its next fire time (`i64::MAX`: never again); when
/// `last_job` is a job just enqueued for it, records it and `now`.
pub(crate) fn advance(
    conn: &Connection,
    id: i64,
    next_run_at: i64,
    last_job: Option<i64>,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE schedules SET next_run_at = ?2, \
         last_run_at = CASE WHEN ?3 IS NULL THEN last_run_at ELSE ?4 END, \
         last_job_id = COALESCE(?3, last_job_id) WHERE id = ?1",
    )?
    .execute(params![id, next_run_at, last_job, now])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn catch_up_names_round_trip() {
        for c in CatchUp::ALL {
            assert_eq!(c.as_str().parse::<CatchUp>(), Ok(c));
            assert_eq!(c.to_string(), c.as_str());
        }
        let e = "never".parse::<CatchUp>().unwrap_err();
        assert!(e.contains("\"never\"") && e.contains("once") && e.contains("skip"));
    }

    #[test]
    fn a_row_that_does_not_read_names_its_column() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let argv = vec!["make".to_string()];
        let new = NewSchedule {
            workspace: "demo",
            workspace_id: None,
            cron: "@daily",
            command: &argv,
            catch_up: CatchUp::All,
            timeout_ms: None,
            next_run_at: 5,
        };
        let id = insert(&store.conn, &new, 1).unwrap();
        assert_eq!(due(&store.conn, 4).unwrap(), vec![]);
        assert_eq!(due(&store.conn, 5).unwrap()[0].command, argv);
        advance(&store.conn, id, 9, None, 6).unwrap();
        let s = get(&store.conn, id).unwrap().unwrap();
        assert_eq!((s.next_run_at, s.last_run_at), (9, None));
        store
            .conn
            .execute("UPDATE schedules SET command = 'make' WHERE id = ?1", [id])
            .unwrap();
        let err = list(&store.conn).unwrap_err().to_string();
        assert!(err.contains("not a JSON array"), "{err}");
        assert!(remove(&store.conn, id).unwrap());
        assert!(!remove(&store.conn, id).unwrap());
    }
}
