//! The `runners` table: the processes that run jobs (a `kollega worker`, a
//! TUI, a foreground `kollega run`) and when each last said it was alive.

use rusqlite::{Connection, params};

use super::Result;

/// Which kind of process a runner lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Worker,
    Tui,
    Cli,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Tui => "tui",
            Role::Cli => "cli",
        }
    }
}

pub(crate) fn register(conn: &Connection, id: &str, role: Role, now: i64) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO runners (id, role, pid, host, started_at, heartbeat_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![
            id,
            role.as_str(),
            std::process::id(),
            super::locks::hostname(),
            now
        ],
    )?;
    Ok(())
}

pub(crate) fn heartbeat(conn: &Connection, id: &str, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE runners SET heartbeat_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

pub(crate) fn remove(conn: &Connection, id: &str) -> Result<()> {
    conn.execute("DELETE FROM runners WHERE id = ?1", [id])?;
    Ok(())
}

/// How many `kollega worker`s have sent a heartbeat since `since`.
pub(crate) fn live_workers(conn: &Connection, since: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM runners WHERE role = 'worker' AND heartbeat_at >= ?1",
        )?
        .query_row([since], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn only_workers_with_a_fresh_heartbeat_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        register(&store.conn, "worker:h:1:1", Role::Worker, 100).unwrap();
        register(&store.conn, "tui:h:2:1", Role::Tui, 100).unwrap();
        assert_eq!(live_workers(&store.conn, 50).unwrap(), 1);
        assert_eq!(live_workers(&store.conn, 150).unwrap(), 0);
        heartbeat(&store.conn, "worker:h:1:1", 200).unwrap();
        assert_eq!(live_workers(&store.conn, 150).unwrap(), 1);
        remove(&store.conn, "worker:h:1:1").unwrap();
        assert_eq!(live_workers(&store.conn, 0).unwrap(), 0);
    }
}
