//! Safety copies of the store, with SQLite's online backup API: a copy is
//! taken while others read and write, and a restore replaces the live
//! store in one transaction.
//!
//! A backup is written to a temporary file beside its target, made 0600,
//! synced, then renamed into place: a half-written file never carries the
//! target's name. A restore first checks the file (a SQLite database with
//! kollega's tables, a schema this kollega knows), copies it into a
//! temporary store under the data dir, brings that copy's schema up to
//! date and checks it, keeps a copy of the live store under `backups/`,
//! and only then copies it over the live store in one backup step (one
//! write transaction: other connections see the old store or the new one,
//! never a mix). Any failure before that step leaves the live store as it
//! was; the step itself commits whole or not at all.
//!
//! [`rotate`] keeps the newest daily backups under `<data dir>/backups`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::{SCHEMA_VERSION, Store, audit};
use crate::error::Hint;

/// The folder of daily backups and pre-restore copies, in the data dir.
pub(crate) const BACKUPS_DIR: &str = "backups";
/// Names of daily backups: `kollega-YYYYMMDD-HHMMSS.db`.
const DAILY_PREFIX: &str = "kollega-";

/// Tables every kollega store has had since its first schema.
const KOLLEGA_TABLES: [&str; 4] = ["workspaces", "files", "audit_log", "settings"];

#[derive(Debug, thiserror::Error)]
pub(crate) enum BackupError {
    #[error("{path} already exists")]
    Exists { path: PathBuf },
    #[error("cannot write the backup {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path} is not a kollega database: {reason}")]
    NotKollega { path: PathBuf, reason: String },
    #[error(
        "{path} has schema version {found}, newer than this kollega knows ({known}); the store was left as it was"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{path} is damaged: {problems}; the store was left as it was")]
    Damaged { path: PathBuf, problems: String },
    #[error("the store is busy: another program holds its write lock; nothing was restored")]
    Busy,
    #[error("restoring {path} failed: {reason}; the store was left as it was")]
    Restore { path: PathBuf, reason: String },
}

impl Hint for BackupError {
    fn hint(&self) -> String {
        match self {
            BackupError::Exists { .. } => "pick another file name, or pass --force to replace it".into(),
            BackupError::Write { .. } => {
                "check that the folder exists, that this user may write there and that the disk has room".into()
            }
            BackupError::Read { .. } => "check the path and that this user may read it".into(),
            BackupError::NotKollega { .. } => {
                "give a file written by `kollega backup` (or a daily copy under the data dir's backups/ folder)".into()
            }
            BackupError::Newer { .. } => {
                "restore it with the kollega version that wrote it, or upgrade kollega".into()
            }
            BackupError::Damaged { .. } => "restore an older backup".into(),
            BackupError::Busy => {
                "close the terminal UI and stop `kollega worker`, then run the restore again".into()
            }
            BackupError::Restore { .. } => "run `kollega doctor`, then try again".into(),
        }
    }
}

/// What a backup or restore did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Copied {
    pub path: PathBuf,
    pub bytes: u64,
    pub schema_version: i64,
    /// A restore's copy of the store as it was before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PathBuf>,
}

/// Copies every page of `from` into `to` in one step, waiting out a
/// short lock held by another connection.
fn copy_all(from: &Connection, to: &mut Connection) -> Result<(), String> {
    let backup = Backup::new(from, to).map_err(|e| e.to_string())?;
    for _ in 0..50 {
        match backup.step(-1).map_err(|e| e.to_string())? {
            StepResult::Done => return Ok(()),
            // More, Busy, Locked: another connection holds a lock.
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    Err("busy".into())
}

/// A temporary name beside `path`.
fn partial(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kollega.db".into());
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// Writes a copy of the store `conn` to `path` (refused when it exists
/// unless `force`).
pub(crate) fn backup(conn: &Connection, path: &Path, force: bool) -> Result<Copied, BackupError> {
    if path.exists() && !force {
        return Err(BackupError::Exists {
            path: path.to_path_buf(),
        });
    }
    let write = |reason: String| BackupError::Write {
        path: path.to_path_buf(),
        reason,
    };
    let temp = partial(path);
    let _ = std::fs::remove_file(&temp);
    let result = (|| {
        let mut dest = Connection::open(&temp).map_err(|e| write(e.to_string()))?;
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| write(e.to_string()))?;
        copy_all(conn, &mut dest).map_err(write)?;
        // A copy of a WAL store is in WAL mode: make it one file.
        dest.pragma_update(None, "journal_mode", "DELETE")
            .map_err(|e| write(e.to_string()))?;
        let version: i64 = dest
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| write(e.to_string()))?;
        drop(dest);
        std::fs::File::open(&temp)
            .and_then(|f| f.sync_all())
            .map_err(|e| write(e.to_string()))?;
        std::fs::rename(&temp, path).map_err(|e| write(e.to_string()))?;
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        Ok(Copied {
            path: path.to_path_buf(),
            bytes,
            schema_version: version,
            previous: None,
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Checks that `path` is a kollega store this kollega can read: its
/// schema version.
pub(crate) fn check(path: &Path) -> Result<i64, BackupError> {
    let not = |reason: String| BackupError::NotKollega {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(BackupError::Read {
            path: path.to_path_buf(),
            reason: "no such file".into(),
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| BackupError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| not(e.to_string()))?;
    if found > SCHEMA_VERSION {
        return Err(BackupError::Newer {
            path: path.to_path_buf(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    let mut missing = Vec::new();
    for table in KOLLEGA_TABLES {
        let there: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(|e| not(e.to_string()))?;
        if !there {
            missing.push(table);
        }
    }
    if found < 1 || !missing.is_empty() {
        return Err(not(format!(
            "a SQLite database without kollega's tables ({})",
            missing.join(", ")
        )));
    }
    Ok(found)
}

/// A UTC stamp for file names, `YYYYMMDD-HHMMSS`.
pub(crate) fn stamp(ms: i64) -> String {
    crate::jobs::format_ms(ms)
        .replace(['-', ':'], "")
        .replace('T', "-")
        .trim_end_matches('Z')
        .to_string()
}

/// Replaces the live store `store` (in `data_dir`) with the backup at
/// `path`, as the module says.
pub(crate) fn restore(
    store: &mut Store,
    data_dir: &Path,
    path: &Path,
    now: i64,
) -> Result<Copied, BackupError> {
    let found = check(path)?;
    let failed = |reason: String| BackupError::Restore {
        path: path.to_path_buf(),
        reason,
    };
    // The copy is taken and brought up to date away from the live store.
    let staging = data_dir.join(format!(".restore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let result = (|| {
        std::fs::create_dir_all(&staging).map_err(|e| failed(e.to_string()))?;
        {
            let source = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| failed(e.to_string()))?;
            let mut copy = Connection::open(staging.join(super::DB_FILE))
                .map_err(|e| failed(e.to_string()))?;
            copy_all(&source, &mut copy).map_err(failed)?;
            same_page_size(&store.conn, &copy).map_err(|e| failed(e.to_string()))?;
        }
        let staged = Store::open(&staging).map_err(|e| failed(e.to_string()))?;
        let problems = staged.quick_check().map_err(|e| failed(e.to_string()))?;
        if problems != "ok" {
            return Err(BackupError::Damaged {
                path: path.to_path_buf(),
                problems,
            });
        }
        let backups = data_dir.join(BACKUPS_DIR);
        std::fs::create_dir_all(&backups).map_err(|e| failed(e.to_string()))?;
        let previous = backups.join(format!("pre-restore-{}.db", stamp(now)));
        backup(&store.conn, &previous, true)?;
        match copy_all(&staged.conn, &mut store.conn) {
            Ok(()) => {}
            Err(reason) if reason == "busy" => return Err(BackupError::Busy),
            Err(reason) => return Err(failed(reason)),
        }
        audit::record(
            &store.conn,
            "restore",
            None,
            &serde_json::json!({ "schemaVersion": found, "previous": previous }),
        )
        .map_err(|e| failed(e.to_string()))?;
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        Ok(Copied {
            path: path.to_path_buf(),
            bytes,
            schema_version: found,
            previous: Some(previous),
        })
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Gives `copy` (a store in rollback mode) the page size of `live`: the
/// copy into a store in WAL mode needs it. A store made before stores
/// had pages of 16 KiB has pages of 4 KiB, and a backup has its store's.
fn same_page_size(live: &Connection, copy: &Connection) -> rusqlite::Result<()> {
    let size = |conn: &Connection| conn.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0));
    let wanted = size(live)?;
    if size(copy)? != wanted {
        copy.pragma_update(None, "page_size", wanted)?;
        copy.execute_batch("VACUUM")?;
    }
    Ok(())
}

/// Writes today's backup under `<data dir>/backups` and removes the
/// oldest daily ones past `keep`: the new file and the removed ones.
pub(crate) fn daily(
    conn: &Connection,
    data_dir: &Path,
    keep: usize,
    now: i64,
) -> Result<(Copied, Vec<PathBuf>), BackupError> {
    let dir = data_dir.join(BACKUPS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| BackupError::Write {
        path: dir.clone(),
        reason: e.to_string(),
    })?;
    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    let path = dir.join(format!("{DAILY_PREFIX}{}.db", stamp(now)));
    let copied = backup(conn, &path, true)?;
    let removed = rotate(&dir, keep.max(1));
    Ok((copied, removed))
}

/// Removes the oldest daily backups in `dir` past the newest `keep`.
pub(crate) fn rotate(dir: &Path, keep: usize) -> Vec<PathBuf> {
    let mut daily: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name().is_some_and(|n| {
                        let n = n.to_string_lossy();
                        n.starts_with(DAILY_PREFIX) && n.ends_with(".db")
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    // The stamp sorts as the time.
    daily.sort();
    let extra = daily.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for path in daily.into_iter().take(extra) {
        if std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

#[cfg(test)]
mod tests;
