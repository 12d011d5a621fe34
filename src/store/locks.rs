//! Queries of the `workspace_locks` table: one editing process per workspace.
//!
//! Two kollega processes editing one workspace would overwrite each other's
//! drafts and saves, so the first to open a workspace for editing takes its
//! lock and keeps it fresh with a heartbeat. A lock is taken over when its
//! holder is provably gone (same host, no such pid) or its heartbeat went
//! stale. This module decides that inside one transaction; when and how
//! often to heartbeat is the caller's business.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Result;

/// A lock whose heartbeat is older than this is taken over.
pub(crate) const STALE_SECS: i64 = 30;

/// What `acquire` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockOutcome {
    /// The lock is ours now (new, refreshed, or taken over).
    Acquired,
    /// Another live process holds it.
    HeldBy {
        pid: u32,
        host: String,
        /// RFC 3339 UTC, as stored.
        heartbeat_at: String,
    },
}

/// Takes the lock of workspace `key` for process `pid` on `host`, unless a
/// live holder with a heartbeat younger than `stale_after_secs` has it.
///
/// The read and the write share one IMMEDIATE transaction: it takes SQLite's
/// write lock before reading, so of two processes racing, the second reads
/// the first one's row and gets `HeldBy`.
pub(crate) fn acquire(
    conn: &mut Connection,
    key: &str,
    pid: u32,
    host: &str,
    now_unix: i64,
    stale_after_secs: i64,
) -> Result<LockOutcome> {
    let now = rfc3339(now_unix);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let holder: Option<(i64, String, String)> = tx
        .query_row(
            "SELECT pid, host, heartbeat_at FROM workspace_locks WHERE workspace_key = ?1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let outcome = match holder {
        None => {
            tx.execute(
                "INSERT INTO workspace_locks (workspace_key, pid, host, acquired_at, heartbeat_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![key, pid, host, now],
            )?;
            LockOutcome::Acquired
        }
        Some((held_pid, held_host, heartbeat_at)) => {
            let ours = held_pid == i64::from(pid) && held_host == host;
            // An unreadable heartbeat can only come from a hand-edited row;
            // treating it as stale keeps the workspace usable.
            let stale = unix_of(&heartbeat_at)
                .is_none_or(|beat| now_unix.saturating_sub(beat) > stale_after_secs);
            // A pid only means something on the host that recorded it.
            let dead = held_host == host && !pid_alive(held_pid);
            if ours {
                tx.execute(
                    "UPDATE workspace_locks SET heartbeat_at = ?2 WHERE workspace_key = ?1",
                    params![key, now],
                )?;
                LockOutcome::Acquired
            } else if stale || dead {
                tracing::warn!(
                    key,
                    held_pid,
                    held_host,
                    heartbeat_at,
                    stale,
                    dead,
                    "workspace lock taken over"
                );
                tx.execute(
                    "UPDATE workspace_locks
                     SET pid = ?2, host = ?3, acquired_at = ?4, heartbeat_at = ?4
                     WHERE workspace_key = ?1",
                    params![key, pid, host, now],
                )?;
                LockOutcome::Acquired
            } else {
                LockOutcome::HeldBy {
                    pid: u32::try_from(held_pid).unwrap_or(0),
                    host: held_host,
                    heartbeat_at,
                }
            }
        }
    };
    tx.commit()?;
    Ok(outcome)
}

/// Refreshes our lock's heartbeat. False when the row is no longer ours
/// (taken over after going stale, or released): the caller lost the lock.
pub(crate) fn heartbeat(conn: &Connection, key: &str, pid: u32) -> Result<bool> {
    let n = conn.execute(
        "UPDATE workspace_locks SET heartbeat_at = ?4
         WHERE workspace_key = ?1 AND pid = ?2 AND host = ?3",
        params![key, pid, hostname(), rfc3339(now_unix())],
    )?;
    Ok(n == 1)
}

/// Releases our lock; another process's row is left alone. True if a row
/// was deleted.
pub(crate) fn release(conn: &Connection, key: &str, pid: u32) -> Result<bool> {
    let n = conn.execute(
        "DELETE FROM workspace_locks WHERE workspace_key = ?1 AND pid = ?2 AND host = ?3",
        params![key, pid, hostname()],
    )?;
    Ok(n == 1)
}

/// This machine's host name, as locks record it.
pub(crate) fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the pointer and length describe `buf`, which outlives the call;
    // gethostname writes at most `len` bytes into it.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast::<libc::c_char>(), buf.len()) };
    if rc != 0 {
        return "unknown".to_string();
    }
    // POSIX leaves termination unspecified on truncation; stop at the first
    // NUL or at the end of the buffer.
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// Seconds since the Unix epoch now.
pub(crate) fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether process `pid` exists on this host. Only a definite "no such
/// process" counts as dead: EPERM means it exists under another user. The
/// one check of liveness for every holder kollega records (workspace locks,
/// staged imports, takeovers).
pub(crate) fn pid_alive(pid: i64) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // 0 and negative pids address process groups, never one holder.
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// The kernel's id of this boot (empty where it cannot be read): a pid
/// recorded under another boot id names no process alive now.
pub(crate) fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|id| id.trim().to_string())
        .unwrap_or_default()
}

/// Whether process `pid`, recorded under boot `boot`, may still run: the
/// same boot (or an unknown one) and [`pid_alive`].
pub(crate) fn writer_alive(pid: i64, boot: &str) -> bool {
    let now = boot_id();
    (boot.is_empty() || now.is_empty() || boot == now) && pid_alive(pid)
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

fn unix_of(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;
    use crate::store::Store;

    const STALE: i64 = 30;
    const KEY: &str = "ws:site";

    /// A pid that is certainly alive and not ours: our parent.
    fn other_live_pid() -> u32 {
        // SAFETY: getppid has no preconditions and cannot fail.
        let ppid = unsafe { libc::getppid() };
        u32::try_from(ppid).unwrap()
    }

    /// A pid that existed and has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn second_pid_is_refused_while_holder_is_alive_and_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let host = hostname();
        let holder = other_live_pid();
        let now = now_unix();
        assert_eq!(
            acquire(&mut store.conn, KEY, holder, &host, now, STALE).unwrap(),
            LockOutcome::Acquired
        );

        let outcome = acquire(
            &mut store.conn,
            KEY,
            std::process::id(),
            &host,
            now + 5,
            STALE,
        );

        assert_eq!(
            outcome.unwrap(),
            LockOutcome::HeldBy {
                pid: holder,
                host: host.clone(),
                heartbeat_at: rfc3339(now)
            }
        );
        // The holder asking again keeps it.
        assert_eq!(
            acquire(&mut store.conn, KEY, holder, &host, now + 6, STALE).unwrap(),
            LockOutcome::Acquired
        );
    }

    #[test]
    fn stale_heartbeat_is_taken_over_even_from_another_host() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let now = now_unix();
        acquire(&mut store.conn, KEY, 4242, "elsewhere", now, STALE).unwrap();
        let me = std::process::id();
        let host = hostname();

        let fresh = acquire(&mut store.conn, KEY, me, &host, now + STALE, STALE).unwrap();
        let stale = acquire(&mut store.conn, KEY, me, &host, now + STALE + 1, STALE).unwrap();

        assert!(matches!(fresh, LockOutcome::HeldBy { pid: 4242, .. }));
        assert_eq!(stale, LockOutcome::Acquired);
        // The new holder's heartbeat and release work on its row.
        assert!(heartbeat(&store.conn, KEY, me).unwrap());
        assert!(release(&store.conn, KEY, me).unwrap());
    }

    #[test]
    fn dead_holder_on_this_host_is_taken_over_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let host = hostname();
        let now = now_unix();
        acquire(&mut store.conn, KEY, dead_pid(), &host, now, STALE).unwrap();

        let outcome = acquire(&mut store.conn, KEY, std::process::id(), &host, now, STALE);

        assert_eq!(outcome.unwrap(), LockOutcome::Acquired);
    }

    #[test]
    fn release_and_heartbeat_leave_another_holders_row_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let holder = other_live_pid();
        acquire(&mut store.conn, KEY, holder, &hostname(), now_unix(), STALE).unwrap();
        let me = std::process::id();

        assert!(!heartbeat(&store.conn, KEY, me).unwrap());
        assert!(!release(&store.conn, KEY, me).unwrap());

        assert!(matches!(
            acquire(&mut store.conn, KEY, me, &hostname(), now_unix(), STALE).unwrap(),
            LockOutcome::HeldBy { pid, .. } if pid == holder
        ));
        assert!(release(&store.conn, KEY, holder).unwrap());
        assert_eq!(
            acquire(&mut store.conn, KEY, me, &hostname(), now_unix(), STALE).unwrap(),
            LockOutcome::Acquired
        );
    }

    #[test]
    fn two_processes_racing_for_a_lock_get_exactly_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let pids = [std::process::id(), other_live_pid()];
        let barrier = Arc::new(Barrier::new(pids.len()));
        let threads: Vec<_> = pids
            .into_iter()
            .map(|pid| {
                let data = dir.path().to_path_buf();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    // One connection each, as two processes would have.
                    let mut store = Store::open(&data).unwrap();
                    barrier.wait();
                    acquire(&mut store.conn, KEY, pid, &hostname(), now_unix(), STALE).unwrap()
                })
            })
            .collect();
        let outcomes: Vec<LockOutcome> = threads.into_iter().map(|t| t.join().unwrap()).collect();

        let winners = outcomes
            .iter()
            .filter(|o| **o == LockOutcome::Acquired)
            .count();
        assert_eq!(winners, 1, "{outcomes:?}");
    }
}
