//! The SQLite store: one `kollega.db` in the data directory.
//!
//! Opening creates the directory (0700) and file (0600), sets WAL, foreign
//! keys and a busy timeout, and applies the numbered migrations under
//! `migrations/`, recording each in `PRAGMA user_version`. A database whose
//! schema is newer than this binary is refused before anything is written.
//! The modules beside this one hold the queries of one table group each.

pub(crate) mod ai_calls;
pub(crate) mod applies;
pub(crate) mod audit;
pub(crate) mod backup;
pub(crate) mod conversations;
pub(crate) mod drafts;
pub(crate) mod editor_state;
pub(crate) mod encoding;
pub(crate) mod files;
pub(crate) mod ignored;
pub(crate) mod jobs;
pub(crate) mod locks;
pub(crate) mod meetings;
pub(crate) mod metrics;
pub(crate) mod patches;
pub(crate) mod runners;
pub(crate) mod schedules;
pub(crate) mod settings;
pub(crate) mod takeovers;
pub(crate) mod worker;
pub(crate) mod workspaces;

use crate::error::Hint;
use std::fs::DirBuilder;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

pub(crate) const DB_FILE: &str = "kollega.db";

/// Numbered migrations; the position in this list plus one is the version.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_editor.sql"),
    include_str!("migrations/0003_git.sql"),
    include_str!("migrations/0004_jobs.sql"),
    include_str!("migrations/0005_secret_rules.sql"),
    include_str!("migrations/0006_file_fidelity.sql"),
    include_str!("migrations/0007_job_workspace_ids.sql"),
    include_str!("migrations/0008_ai_patches.sql"),
    include_str!("migrations/0009_meetings.sql"),
    include_str!("migrations/0010_job_interrupted.sql"),
    include_str!("migrations/0011_apply_journal.sql"),
    include_str!("migrations/0012_meetings_more.sql"),
    include_str!("migrations/0013_watch_summary.sql"),
    include_str!("migrations/0014_apply_after_derived.sql"),
    include_str!("migrations/0015_patch_diffs.sql"),
];

/// The schema version this binary writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the store {path}: {reason}")]
    Open {
        path: PathBuf,
        /// What went wrong, without the path said again.
        reason: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "the store {path} has schema version {found}, newer than this kollega knows ({known}); it was left unchanged"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("migration {version} of {path} failed: {source}")]
    Migration {
        path: PathBuf,
        version: i64,
        source: rusqlite::Error,
    },
    #[error("the store {path} cannot be written by this user")]
    NotWritable { path: PathBuf },
    #[error(
        "the store {path} has schema version {found}, older than this kollega's ({known}), and cannot be written here to bring it up to date"
    )]
    ReadOnlyOlder {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl Hint for StoreError {
    fn hint(&self) -> String {
        let hint = match self {
            StoreError::DataDir { .. } => {
                "check the permissions of the directory, or pass --data-dir"
            }
            StoreError::Open { .. } => {
                "run `kollega doctor`; another --data-dir starts an empty store"
            }
            StoreError::NewerSchema { .. } => {
                "upgrade kollega to the version that wrote this store, or pass another --data-dir"
            }
            StoreError::NotWritable { .. } => {
                "reading works here (ls, show, cat, export, doctor); to change it, run kollega as the store's owner or give this user write access to it and its folder"
            }
            StoreError::ReadOnlyOlder { .. } => {
                "run any kollega command once as the store's owner, where it may write, then read it here again"
            }
            StoreError::Migration { .. } | StoreError::Sqlite(_) => {
                "run `kollega doctor` to check the store; it was left as it was"
            }
        };
        hint.into()
    }
}

impl StoreError {
    /// Whether it failed for want of write access (a read-only folder,
    /// file or disk, another user's store), so reading may still work.
    pub(crate) fn is_not_writable(&self) -> bool {
        use std::io::ErrorKind;
        let io_denied = |e: &std::io::Error| {
            matches!(
                e.kind(),
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
            )
        };
        let sqlite_denied = |e: &rusqlite::Error| {
            matches!(
                e.sqlite_error_code(),
                Some(
                    rusqlite::ErrorCode::ReadOnly
                        | rusqlite::ErrorCode::CannotOpen
                        | rusqlite::ErrorCode::PermissionDenied
                )
            )
        };
        match self {
            StoreError::DataDir { source, .. } => io_denied(source),
            StoreError::Open { source, .. } => {
                source
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(io_denied)
                    || source
                        .downcast_ref::<rusqlite::Error>()
                        .is_some_and(sqlite_denied)
            }
            StoreError::Sqlite(e) | StoreError::Migration { source: e, .. } => sqlite_denied(e),
            StoreError::NotWritable { .. } => true,
            StoreError::NewerSchema { .. } | StoreError::ReadOnlyOlder { .. } => false,
        }
    }

    pub(crate) fn open(
        path: &Path,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> StoreError {
        // SQLite's own message ends with the file's name: say it once.
        let text = source.to_string();
        let reason = text
            .strip_suffix(&format!(": {}", path.display()))
            .unwrap_or(&text)
            .to_string();
        StoreError::Open {
            path: path.to_path_buf(),
            reason,
            source: Box::new(source),
        }
    }
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The WAL size (about SQLite's `wal_autocheckpoint` default, 1,000
/// pages of 4 KiB) over which a commit or an open checkpoints it and to
/// which a WAL that starts over is cut back.
const BIG_WAL: u64 = 4 * 1024 * 1024;

/// The page size of a new store. The store holds files (drafts, stored
/// workspaces, checkpoints for undo) of some kilobytes each, and SQLite
/// keeps such blobs best in pages of 8 or 16 KiB: a row of 3 KB fills a
/// 4 KiB page alone, and every page of a commit is a write to the WAL.
/// A patch of 1,000 files applies 10 % faster than with 4 KiB pages. A
/// store made before keeps its page size.
const PAGE_SIZE: u64 = 16 * 1024;

/// How long opening waits out other processes setting the store up.
const SET_UP_PATIENCE: Duration = Duration::from_secs(20);

/// SQLite's "busy" and "locked": another connection holds what we need.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// An open store. One writer connection per process; readers may open more.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    /// Opened read-only ([`Store::open_read`] where it may not write).
    read_only: bool,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir` and migrates it.
    /// Another process opening the same new store at the same moment is
    /// waited out: the WAL switch and the migrations each take the write
    /// lock, and a store that is busy being set up is asked again.
    pub fn open(data_dir: &Path) -> Result<Store> {
        ensure_private_dir(data_dir)?;
        let path = data_dir.join(DB_FILE);
        // SQLite creates the file. Opening it any other way in this process
        // would be a bug: closing any descriptor of a file drops every
        // fcntl lock the process holds on it, SQLite's own included, and
        // another program closing the store would then delete the WAL
        // under our open connections.
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::open(&path, e))?;
        // By path, before anything is written (the directory is 0700 since
        // the start); SQLite gives the -wal and -shm files this mode.
        // Only ever taken away from group and others: a store its owner
        // made read-only stays so.
        let mode = std::fs::metadata(&path)
            .map_err(|e| StoreError::open(&path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o700))
                .map_err(|e| StoreError::open(&path, e))?;
        }
        // SQLite opens a file it may not write read-only without a word.
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(StoreError::NotWritable { path });
        }
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mut store = Store {
            conn,
            path,
            read_only: false,
        };
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            match store.set_up() {
                Err(StoreError::Sqlite(e)) | Err(StoreError::Migration { source: e, .. })
                    if is_busy(&e) && started.elapsed() < SET_UP_PATIENCE =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                other => {
                    return other.map(|()| {
                        store.checkpoint_a_big_wal();
                        store
                    });
                }
            }
        }
    }

    /// Opens the store for reading, also where it cannot be written: a
    /// read-only folder or disk, a backup, a store this user may read but
    /// not change. `ls`, `show`, `cat`, `export` and `doctor` work there;
    /// a write through it fails. Where it can be written it is opened (and
    /// migrated) as [`Store::open`] does.
    pub(crate) fn open_read(data_dir: &Path) -> Result<Store> {
        match Store::open(data_dir) {
            Ok(store) => Ok(store),
            Err(e) if e.is_not_writable() => {
                Store::open_read_only(data_dir).map_err(|ro| match ro {
                    // No store to read: the first error says why none was made.
                    StoreError::Open { .. } => e,
                    other => other,
                })
            }
            Err(e) => Err(e),
        }
    }

    fn open_read_only(data_dir: &Path) -> Result<Store> {
        let path = data_dir.join(DB_FILE);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|e| StoreError::open(&path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let (conn, found) = match conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        {
            Ok(found) => (conn, found),
            // A WAL store in a folder we may not write has no shared-memory
            // file to read through: read the file as it stands (nobody can
            // be writing where we may not).
            Err(_) => {
                drop(conn);
                let uri = format!("file:{}?immutable=1", uri_path(&path));
                let conn = Connection::open_with_flags(&uri, flags | OpenFlags::SQLITE_OPEN_URI)
                    .map_err(|e| StoreError::open(&path, e))?;
                let found = conn
                    .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
                    .map_err(|e| StoreError::open(&path, e))?;
                (conn, found)
            }
        };
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path,
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::ReadOnlyOlder {
                path,
                found,
                known: SCHEMA_VERSION,
            });
        }
        Ok(Store {
            conn,
            path,
            read_only: true,
        })
    }

    /// Whether it was opened read-only (this user may not write it).
    pub(crate) fn read_only(&self) -> bool {
        self.read_only
    }

    /// The pragmas and migrations of a fresh connection.
    fn set_up(&mut self) -> Result<()> {
        // Refuse a newer schema before any pragma that writes to the file.
        let found: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        // Only a new, empty file takes it; before the WAL, which fixes it.
        self.conn
            .pragma_update(None, "page_size", PAGE_SIZE as i64)?;
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let page_size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        self.conn.pragma_update(
            None,
            "wal_autocheckpoint",
            (BIG_WAL as i64 / page_size.max(512)).max(1),
        )?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        // A WAL grown by a big commit is cut back to this when it starts
        // over after a checkpoint.
        self.conn
            .pragma_update(None, "journal_size_limit", BIG_WAL as i64)?;
        self.migrate(found)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Leaves the copy of what this connection writes from the WAL into
    /// the database to a later writer or open: no checkpoint when one of
    /// its commits passes `wal_autocheckpoint`, none when it closes. For
    /// a command that writes megabytes (a patch's apply with its
    /// checkpoint for undo) and then ends: the copy and its fsync are
    /// work the command need not wait for. The WAL stays bounded: every
    /// other connection checkpoints as usual, and an open that finds the
    /// WAL over [`BIG_WAL`] checkpoints it.
    pub(crate) fn defer_checkpoints(&self) -> Result<()> {
        self.conn
            .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Checkpoints the WAL when it holds more than [`BIG_WAL`] (a command
    /// that [deferred](Store::defer_checkpoints) its checkpoints left it
    /// so). Passive: it waits for nobody, and what it cannot copy now the
    /// next open or writer does. A failure is logged: the store works
    /// with a long WAL, only slower.
    fn checkpoint_a_big_wal(&self) {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let big = std::fs::metadata(&wal).is_ok_and(|m| m.len() > BIG_WAL);
        if big
            && let Err(e) = self
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, "cannot checkpoint the store's WAL");
        }
    }

    fn migrate(&mut self, from: i64) -> Result<()> {
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(from.max(0) as usize) {
            let version = index as i64 + 1;
            let fail = |source| StoreError::Migration {
                path: self.path.clone(),
                version,
                source,
            };
            // IMMEDIATE, and the version read again inside: two processes
            // opening a new store at once must not both apply a migration.
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(fail)?;
            let now: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(fail)?;
            if now >= version {
                continue;
            }
            tx.execute_batch(sql).map_err(fail)?;
            tx.pragma_update(None, "user_version", version)
                .map_err(fail)?;
            tx.commit().map_err(fail)?;
            tracing::info!(version, "store migrated");
        }
        Ok(())
    }

    /// `PRAGMA quick_check`: "ok" or the problems SQLite found.
    pub(crate) fn quick_check(&self) -> Result<String> {
        let mut stmt = self.conn.prepare("PRAGMA quick_check")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows.join("; "))
    }

    pub(crate) fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }
}

fn ensure_private_dir(dir: &Path) -> Result<()> {
    let fail = |source| StoreError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    if !dir.is_dir() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
    }
    let mode = std::fs::metadata(dir).map_err(fail)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
    }
    Ok(())
}

/// `path` for a `file:` URI: the characters a URI gives meaning to are
/// escaped.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// The current time as RFC 3339 UTC with whole seconds, as stored.
pub(crate) fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0);
    let now = now.unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

/// Milliseconds since the Unix epoch, now: the time of the jobs tables,
/// which the runner compares and subtracts on every poll.
pub(crate) fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_opening_a_new_store_at_once_migrate_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let path = dir.path().to_path_buf();
                std::thread::spawn(move || Store::open(&path).map(|s| s.schema_version()))
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap().unwrap(), SCHEMA_VERSION);
        }
    }

    #[test]
    fn open_creates_private_files_and_migrates() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = Store::open(&data).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(store.quick_check().unwrap(), "ok");
        let dir_mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
        let file_mode = std::fs::metadata(data.join(DB_FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!((dir_mode, file_mode), (0o700, 0o600));
        drop(store);
        // A second open finds the schema current and changes nothing.
        assert_eq!(
            Store::open(&data).unwrap().schema_version().unwrap(),
            SCHEMA_VERSION
        );
    }

    #[test]
    fn jobs_and_schedules_learn_their_workspace_rows_by_name() {
        let dir = tempfile::tempdir().unwrap();
        {
            // A store as the version before job workspace rows left it.
            let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            for sql in &MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            conn.execute_batch(
                "INSERT INTO workspaces (id, name, state, storage_type, source, created_at) \
                 VALUES (7, 'shop', 'ready', 'sqlite', '/src', 'now');
                 INSERT INTO jobs (id, kind, workspace, status, next_run_at, created_at, updated_at) \
                 VALUES (1, 'command', 'shop', 'queued', 0, 0, 0), \
                        (2, 'command', 'gone', 'queued', 0, 0, 0), \
                        (3, 'command', '/srv/app', 'queued', 0, 0, 0), \
                        (4, 'command', NULL, 'queued', 0, 0, 0);
                 INSERT INTO schedules (id, workspace, cron, command, next_run_at, created_at) \
                 VALUES (1, 'shop', '@daily', '[\"true\"]', 0, 0), \
                        (2, 'gone', '@daily', '[\"true\"]', 0, 0), \
                        (3, '/srv/app', '@daily', '[\"true\"]', 0, 0);",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let ids = |sql: &str| -> Vec<(i64, Option<i64>)> {
            let mut stmt = store.conn.prepare(sql).unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(
            ids("SELECT id, workspace_id FROM jobs ORDER BY id"),
            vec![(1, Some(7)), (2, None), (3, None), (4, None)]
        );
        // The schedule of a workspace that was gone goes too.
        assert_eq!(
            ids("SELECT id, workspace_id FROM schedules ORDER BY id"),
            vec![(1, Some(7)), (3, None)]
        );
    }

    /// A new store file in `dir`, empty, in WAL mode with pages of `size`
    /// bytes (4096: as stores were made before [`PAGE_SIZE`]).
    pub(super) fn store_file_with_pages(dir: &Path, size: i64) {
        let conn = Connection::open(dir.join(DB_FILE)).unwrap();
        conn.pragma_update(None, "page_size", size).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    }

    /// A store in `dir` as version `version` of the schema left it.
    fn store_at_version(dir: &Path, version: usize) -> Connection {
        let conn = Connection::open(dir.join(DB_FILE)).unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        for sql in &MIGRATIONS[..version] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", version as i64)
            .unwrap();
        conn
    }

    #[test]
    fn patch_diffs_move_to_their_own_table_and_go_with_their_patch() {
        let dir = tempfile::tempdir().unwrap();
        let before = 14;
        assert!(MIGRATIONS[before].contains("CREATE TABLE patch_diffs"));
        {
            // A store as version 14 left it: the diff in the patch's row.
            let conn = store_at_version(dir.path(), before);
            conn.execute_batch(
                "INSERT INTO patches (id, workspace_key, source, title, diff, status, created_at, updated_at) \
                 VALUES (3, 'ws:a', 'import', 't', '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n', 'applied', 1, 2);
                 INSERT INTO patch_hunks (patch_id, file_index, hunk_index, decision) \
                 VALUES (3, 0, 0, 'accepted');",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let row = patches::get(&store.conn, 3).unwrap().unwrap();
        assert!(row.diff.ends_with("-a\n+b\n"), "{:?}", row.diff);
        assert_eq!(row.status, patches::PatchStatus::Applied);
        assert_eq!(row.updated_at, 2);
        assert_eq!(patches::list(&store.conn, "ws:a").unwrap(), vec![row]);
        assert_eq!(store.quick_check().unwrap(), "ok");
        // Removing the workspace's patches takes their diffs along.
        patches::remove_for_workspace(&store.conn, "ws:a").unwrap();
        let left: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM patch_diffs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn interrupted_jobs_are_allowed_and_every_job_keeps_its_log_and_deps() {
        let dir = tempfile::tempdir().unwrap();
        let before = MIGRATIONS.len() - 1;
        {
            // A store as the version before the interrupted status left it.
            let conn = store_at_version(dir.path(), before);
            conn.execute_batch(
                "INSERT INTO jobs (id, kind, status, next_run_at, created_at, updated_at) \
                 VALUES (1, 'command', 'running', 0, 0, 0), (2, 'command', 'queued', 0, 0, 0);
                 INSERT INTO job_deps (job_id, after_id) VALUES (2, 1);
                 INSERT INTO job_logs (job_id, seq, attempt, stream, at, line) \
                 VALUES (1, 0, 1, 'stdout', 0, 'deploying');",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let count = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT COUNT(*) FROM job_logs"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM job_deps"), 1);
        store
            .conn
            .execute("UPDATE jobs SET status = 'interrupted' WHERE id = 1", [])
            .unwrap();
        assert!(
            store
                .conn
                .execute("UPDATE jobs SET status = 'paused' WHERE id = 1", [])
                .is_err(),
            "the check still refuses a status it does not know"
        );
        assert_eq!(store.quick_check().unwrap(), "ok");
        // Another connection reads the widened check too.
        let other = Connection::open(dir.path().join(DB_FILE)).unwrap();
        other
            .execute("UPDATE jobs SET status = 'interrupted' WHERE id = 2", [])
            .unwrap();
    }

    #[test]
    fn newer_schema_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let db = dir.path().join(DB_FILE);
        {
            let conn = Connection::open(&db).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 7)
                .unwrap();
        }
        let before = std::fs::read(&db).unwrap();
        let err = Store::open(dir.path()).err().unwrap();
        assert!(
            matches!(err, StoreError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 7)
        );
        assert_eq!(std::fs::read(&db).unwrap(), before);
    }

    #[test]
    fn a_new_store_has_big_pages_and_an_old_one_keeps_its_own() {
        let pragma = |store: &Store, name: &str| -> i64 {
            store
                .conn
                .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(pragma(&store, "page_size"), PAGE_SIZE as i64);
        // The WAL is checkpointed when it holds 4 MiB, whatever its pages.
        assert_eq!(
            pragma(&store, "wal_autocheckpoint") * PAGE_SIZE as i64,
            BIG_WAL as i64
        );
        // A store made with 4 KiB pages opens, migrates and keeps them.
        let old = tempfile::tempdir().unwrap();
        store_file_with_pages(old.path(), 4096);
        let store = Store::open(old.path()).unwrap();
        assert_eq!(pragma(&store, "page_size"), 4096);
        assert_eq!(pragma(&store, "wal_autocheckpoint") * 4096, BIG_WAL as i64);
        assert_eq!(pragma(&store, "user_version"), SCHEMA_VERSION);
    }

    #[test]
    fn a_deferred_checkpoint_is_left_in_the_wal_and_made_by_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(DB_FILE);
        let wal = dir.path().join(format!("{DB_FILE}-wal"));
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let big = "x".repeat(6 * 1024 * 1024);
        {
            let store = Store::open(dir.path()).unwrap();
            store.defer_checkpoints().unwrap();
            store
                .conn
                .execute(
                    "INSERT INTO patches (id, workspace_key, source, title, created_at, updated_at)
                     VALUES (1, 'ws:a', 'import', 't', 1, 1)",
                    [],
                )
                .unwrap();
            store
                .conn
                .execute(
                    "INSERT INTO patch_diffs (patch_id, diff) VALUES (1, ?1)",
                    [&big],
                )
                .unwrap();
        }
        // Neither the commit nor the close copied it into the database.
        assert!(size(&wal) > BIG_WAL, "the WAL holds the commit");
        assert!(size(&db) < 1024 * 1024, "the database does not yet");
        let store = Store::open(dir.path()).unwrap();
        assert!(
            size(&db) > BIG_WAL,
            "an open that finds a big WAL checkpoints it"
        );
        let diff: String = store
            .conn
            .query_row("SELECT diff FROM patch_diffs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(diff.len(), big.len());
        // A connection that did not defer closes as SQLite does: the last
        // close checkpoints and removes the WAL.
        drop(store);
        assert!(
            size(&wal) == 0,
            "the last close checkpoints and removes the WAL"
        );
    }
}
