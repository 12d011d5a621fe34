//! Cancels that come from outside a job's runner: the runner's look at
//! every poll, and the removal of a job's workspace.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Status, append_info};

/// Of `ids`, the jobs someone asked to cancel: a read the runner makes at
/// every poll, so a cancel reaches a running job within a poll rather than
/// at the next heartbeat.
pub(crate) fn cancels_requested(conn: &Connection, ids: &[i64]) -> crate::store::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM jobs WHERE id = ?1 AND cancel_requested = 1 AND status = 'running'",
    )?;
    let mut cancel = Vec::new();
    for &id in ids {
        if let Some(id) = stmt.query_row([id], |r| r.get(0)).optional()? {
            cancel.push(id);
        }
    }
    Ok(cancel)
}

/// The jobs of a workspace being removed, inside the removal's
/// transaction: waiting ones are cancelled with `reason`, running ones are
/// asked to stop (their runner sees it within a poll) with `reason` in
/// their log. Returns how many jobs were cancelled or asked to stop.
pub(crate) fn cancel_for_workspace(
    tx: &Transaction<'_>,
    workspace_id: i64,
    reason: &str,
    now: i64,
) -> crate::store::Result<usize> {
    let jobs: Vec<(i64, String, u32)> = tx
        .prepare(
            "SELECT id, status, attempt FROM jobs \
             WHERE workspace_id = ?1 AND status IN ('queued', 'retrying', 'running') ORDER BY id",
        )?
        .query_map([workspace_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut cancelled = 0;
    for (id, status, attempt) in jobs {
        match status.parse::<Status>() {
            // As `request_cancel` does (the table allows both).
            Ok(from @ (Status::Queued | Status::Retrying)) => {
                let changed = tx.execute(
                    "UPDATE jobs SET status = 'cancelled', updated_at = ?2, error = ?3, \
                     finished_at = ?2 WHERE id = ?1 AND status = ?4",
                    params![id, now, reason, from.as_str()],
                )?;
                if changed == 1 {
                    append_info(tx, id, attempt, reason, now)?;
                    cancelled += 1;
                }
            }
            Ok(Status::Running) => {
                tx.execute(
                    "UPDATE jobs SET cancel_requested = 1, updated_at = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
                append_info(tx, id, attempt, &format!("{reason}; stopping it"), now)?;
                cancelled += 1;
            }
            _ => {}
        }
    }
    Ok(cancelled)
}
