//! Workspaces: takeover import, export, reading what is stored, and
//! watching a workspace's folder for changes (`watch`).
//!
//! This module knows sources (folders, ZIP files), paths, limits and the
//! secret scan; it reaches the database only through `store`.

pub(crate) mod demo;
pub(crate) mod disk;
pub(crate) mod export;
pub(crate) mod files;
pub(crate) mod grep;
pub(crate) mod ignore_rules;
pub(crate) mod import;
pub(crate) mod path;
pub(crate) mod secrets;
pub(crate) mod source;
pub(crate) mod tree;
pub(crate) mod watch;

use crate::error::Hint;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Limits;
use crate::store::ignored::IgnoredEntry;
use crate::store::workspaces::{SkippedEntry, StorageType, Workspace};
use crate::store::{self, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    SourceUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is neither a folder nor a ZIP file")]
    NotASource { path: PathBuf },
    #[error("{path} is not a readable ZIP file: {message}")]
    BadZip { path: PathBuf, message: String },
    #[error("ZIP entry {entry:?} {why}; nothing was imported")]
    ZipEscape { entry: String, why: String },
    #[error("the ZIP file has {count} entries, over the limit of {limit}; nothing was imported")]
    ZipTooManyEntries { count: u64, limit: u64 },
    #[error(
        "the ZIP file unpacks to more than {limit} bytes ({bytes} so far); nothing was imported"
    )]
    ZipTooLarge { bytes: u64, limit: u64 },
    #[error(
        "ZIP entry {entry:?} is compressed {ratio}:1, over the limit of {limit}:1 (a ZIP bomb?); nothing was imported"
    )]
    ZipRatio {
        entry: String,
        ratio: u64,
        limit: u64,
    },
    #[error("no text files found in {source_path}")]
    NoTextFiles { source_path: String },
    #[error("{name:?} is not a usable workspace name: {why}")]
    BadName { name: String, why: &'static str },
    #[error("workspace {name:?} already exists {why}")]
    Exists { name: String, why: String },
    #[error("workspace {name:?} is being imported by another kollega (pid {pid})")]
    Running { name: String, pid: i64 },
    #[error(
        "the store already holds {count} workspaces, the limit (max_workspaces = {limit}); nothing was imported"
    )]
    TooManyWorkspaces { count: u64, limit: u64 },
    #[error(
        "workspace {name:?} would hold more than {limit} bytes (max_workspace_bytes); nothing was imported"
    )]
    WorkspaceTooLarge { name: String, limit: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ImportError {
    fn from(e: rusqlite::Error) -> Self {
        ImportError::Store(StoreError::Sqlite(e))
    }
}

impl Hint for ImportError {
    fn hint(&self) -> String {
        match self {
            ImportError::SourceUnreadable { .. } => "check the path and its permissions".into(),
            ImportError::NotASource { .. } | ImportError::BadZip { .. } => {
                "pass a folder or a .zip export".into()
            }
            ImportError::ZipEscape { .. } => {
                "the archive is unsafe; unpack it by hand and import the folder if you trust it"
                    .into()
            }
            ImportError::ZipTooManyEntries { .. } => Limits::how_to_raise("max_zip_entries"),
            ImportError::ZipTooLarge { .. } => Limits::how_to_raise("max_zip_bytes"),
            ImportError::ZipRatio { .. } => Limits::how_to_raise("max_zip_ratio"),
            ImportError::NoTextFiles { .. } => {
                "kollega imports UTF-8 text files; see the skipped list with --json".into()
            }
            ImportError::BadName { .. } => {
                "pick a --name of letters, digits, '.', '_' or '-' (at most 64)".into()
            }
            ImportError::Exists { .. } => {
                "pass --replace to take it over again, or pick another --name".into()
            }
            ImportError::Running { .. } => {
                "wait for it to finish, or stop that process and run again".into()
            }
            ImportError::TooManyWorkspaces { .. } => format!(
                "remove one with `kollega rm NAME --yes`, or {}",
                Limits::how_to_raise("max_workspaces")
            ),
            ImportError::WorkspaceTooLarge { .. } => Limits::how_to_raise("max_workspace_bytes"),
            ImportError::Store(e) => e.hint(),
        }
    }
}

/// Errors of reading or removing a stored workspace.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("no workspace named {name:?}")]
    NotFound { name: String },
    #[error("workspace {workspace:?} has no file {path:?}")]
    NoFile { workspace: String, path: String },
    #[error("refusing to remove workspace {name:?} without --yes")]
    NotConfirmed { name: String },
    #[error("workspace {name:?} is a git workspace: its files live in the repository {repo}")]
    InGit { name: String, repo: String },
    #[error("an import of {name:?} is running (pid {pid}); its staged files are not removed")]
    ImportRunning { name: String, pid: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for WorkspaceError {
    fn from(e: rusqlite::Error) -> Self {
        WorkspaceError::Store(StoreError::Sqlite(e))
    }
}

impl Hint for WorkspaceError {
    fn hint(&self) -> String {
        match self {
            WorkspaceError::NotFound { .. } => "`kollega ls` lists the workspaces".into(),
            WorkspaceError::NoFile { workspace, .. } => {
                format!("`kollega show {workspace}` lists its files")
            }
            WorkspaceError::NotConfirmed { name } => format!("run `kollega rm {name} --yes`"),
            WorkspaceError::InGit { name, .. } => {
                format!("read them with git, or edit them with `kollega open {name}`")
            }
            WorkspaceError::ImportRunning { name, .. } => {
                format!("wait for it to end, or stop it, then run `kollega rm {name} --yes`")
            }
            WorkspaceError::Store(e) => e.hint(),
        }
    }
}

/// A workspace as the CLI reports it; the JSON shape of `import`, `show`
/// and each `ls` row.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub workspace: String,
    pub storage_type: StorageType,
    pub files_count: u64,
    pub bytes: u64,
    pub taken_over_at: String,
    pub source: String,
    pub skipped: Vec<SkippedEntry>,
    pub ignored: u64,
    /// Every path the ignore rules dropped, with the rule; in `import` and
    /// `show`, not in `ls` rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_paths: Option<Vec<IgnoredEntry>>,
    /// The repository of a git workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo_path: Option<String>,
    /// What `import` did; absent outside `import`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ImportStatus>,
}

/// What an import did, as its report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportStatus {
    Imported,
    /// A killed import of the same source was finished.
    Resumed,
    /// The workspace already holds this source unchanged.
    AlreadyImported,
}

impl Report {
    pub(crate) fn new(workspace: &Workspace, skipped: Vec<SkippedEntry>) -> Report {
        Report {
            workspace: workspace.name.clone(),
            storage_type: workspace.storage_type,
            files_count: workspace.files_count,
            bytes: workspace.bytes,
            taken_over_at: workspace.taken_over_at.clone(),
            source: workspace.source.clone(),
            skipped,
            ignored: workspace.ignored,
            ignored_paths: None,
            repo_path: workspace.repo_path.clone(),
            status: None,
        }
    }
}

/// Finds the ready workspace `name`.
pub fn find(store: &Store, name: &str) -> Result<Workspace, WorkspaceError> {
    store::workspaces::find(&store.conn, name)?.ok_or_else(|| WorkspaceError::NotFound {
        name: name.to_string(),
    })
}

/// Finds workspace `name` whose files are in the store (not a git one).
pub fn find_stored(store: &Store, name: &str) -> Result<Workspace, WorkspaceError> {
    let ws = find(store, name)?;
    match ws.repo_path {
        Some(repo) => Err(WorkspaceError::InGit {
            name: name.to_string(),
            repo,
        }),
        None => Ok(ws),
    }
}

/// The metadata and skipped entries of workspace `name`.
pub fn show(store: &Store, name: &str) -> Result<Report, WorkspaceError> {
    let ws = find(store, name)?;
    let skipped = store::workspaces::skipped(&store.conn, ws.id)?;
    let mut report = Report::new(&ws, skipped);
    report.ignored_paths = Some(store::ignored::list(&store.conn, ws.id)?);
    Ok(report)
}

/// The content of one stored file.
pub fn cat(store: &Store, name: &str, path: &str) -> Result<String, WorkspaceError> {
    let ws = find_stored(store, name)?;
    let no_file = || WorkspaceError::NoFile {
        workspace: name.to_string(),
        path: path.to_string(),
    };
    let normalized = path::WorkspacePath::parse(path).map_err(|_| no_file())?;
    store::files::content(&store.conn, ws.id, normalized.as_str())?.ok_or_else(no_file)
}

/// What `rm` took with a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Removed {
    pub removed: String,
    /// Its waiting jobs cancelled and running ones stopped.
    pub jobs_cancelled: usize,
    pub schedules_removed: usize,
    /// Whether its working copy was deleted.
    pub working_copy: bool,
    /// An interrupted import of the name: removed (it was all there was),
    /// or left for the next `rm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted_import: Option<StagedRemoval>,
}

/// What `rm` did with an interrupted import of the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StagedRemoval {
    /// Its staged rows were removed.
    Removed,
    /// A ready workspace of the name was removed instead; the import's
    /// rows are left for the next `rm`.
    Left,
}

/// Drops the staged rows of an interrupted import of `name`.
fn remove_staged(
    store: &mut Store,
    staged: &store::workspaces::StagedImport,
) -> Result<Removed, WorkspaceError> {
    if staged.running() {
        return Err(WorkspaceError::ImportRunning {
            name: staged.name.clone(),
            pid: staged.importer_pid.unwrap_or_default(),
        });
    }
    let tx = store
        .conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    store::workspaces::delete(&tx, staged.id)?;
    store::audit::record(
        &tx,
        "remove-import",
        Some(&staged.name),
        &serde_json::json!({ "stagedFiles": staged.staged_files, "source": staged.source }),
    )?;
    tx.commit()?;
    tracing::info!(workspace = %staged.name, "interrupted import removed");
    Ok(Removed {
        removed: staged.name.clone(),
        jobs_cancelled: 0,
        schedules_removed: 0,
        working_copy: false,
        interrupted_import: Some(StagedRemoval::Removed),
    })
}

/// Removes workspace `name` and everything stored for it, in one
/// transaction: its files, its schedules, its patches, checkpoints,
/// conversations and model calls, and its jobs (waiting ones are
/// cancelled, running ones stopped); then its working copy.
///
/// A name with only an interrupted import's staged rows has those removed;
/// a name with both a ready workspace and an interrupted import has the
/// workspace removed, and says that the import is left.
pub fn remove(store: &mut Store, name: &str, confirmed: bool) -> Result<Removed, WorkspaceError> {
    let staged = store::workspaces::staged_imports(&store.conn)?
        .into_iter()
        .find(|s| s.name == name);
    let ws = match (store::workspaces::find(&store.conn, name)?, staged) {
        (Some(ws), staged) => (ws, staged),
        (None, Some(staged)) if confirmed => return remove_staged(store, &staged),
        (None, Some(_)) => {
            return Err(WorkspaceError::NotConfirmed {
                name: name.to_string(),
            });
        }
        (None, None) => {
            return Err(WorkspaceError::NotFound {
                name: name.to_string(),
            });
        }
    };
    let (ws, staged) = ws;
    if !confirmed {
        return Err(WorkspaceError::NotConfirmed {
            name: name.to_string(),
        });
    }
    let now = store::now_ms();
    let tx = store
        .conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let reason = format!("its workspace {name} was removed");
    let jobs_cancelled = store::jobs::cancel_for_workspace(&tx, ws.id, &reason, now)?;
    let schedules_removed = store::schedules::remove_for_workspace(&tx, ws.id)?;
    // Patches, checkpoints, conversations and model calls are kept under
    // the workspace's key, not its id: they go with it here.
    let key = store::drafts::sqlite_key(name);
    store::applies::remove_for_workspace(&tx, &key)?;
    store::patches::remove_for_workspace(&tx, &key)?;
    store::workspaces::delete(&tx, ws.id)?;
    store::audit::record(
        &tx,
        "remove",
        Some(name),
        &serde_json::json!({
            "files": ws.files_count,
            "bytes": ws.bytes,
            "jobsCancelled": jobs_cancelled,
            "schedulesRemoved": schedules_removed,
        }),
    )?;
    tx.commit()?;
    // The working copy goes after the rows: a sync for another workspace of
    // this name starts clean anyway (`workcopy`), so a copy that cannot be
    // deleted now is only disk space.
    let data_dir = store.path().parent().unwrap_or(Path::new("."));
    let working_copy = match crate::jobs::workcopy::remove(data_dir, name) {
        Ok(there) => there,
        Err(e) => {
            tracing::warn!(workspace = name, error = %e, "cannot delete the working copy of a removed workspace");
            false
        }
    };
    tracing::info!(workspace = name, "workspace removed");
    Ok(Removed {
        removed: name.to_string(),
        jobs_cancelled,
        schedules_removed,
        working_copy,
        interrupted_import: staged.map(|_| StagedRemoval::Left),
    })
}

#[cfg(test)]
mod tests {
    use super::import::{ImportOptions, import};
    use super::*;
    use crate::config::Config;

    #[test]
    fn import_and_remove_are_audited_and_remove_needs_confirmation() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("site");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("index.html"), "<h1>hi</h1>\n").unwrap();
        let config = Config::load(Some(dir.path().join("data"))).unwrap();
        let mut store = Store::open(&config.data_dir).unwrap();
        import(
            &mut store,
            &config,
            &src,
            &ImportOptions::default(),
            &mut (),
        )
        .unwrap();
        assert!(matches!(
            remove(&mut store, "site", false),
            Err(WorkspaceError::NotConfirmed { .. })
        ));
        assert_eq!(
            cat(&store, "site", "./index.html").unwrap(),
            "<h1>hi</h1>\n"
        );
        remove(&mut store, "site", true).unwrap();
        assert!(matches!(
            show(&store, "site"),
            Err(WorkspaceError::NotFound { .. })
        ));
        let actions = store::audit::actions(&store.conn).unwrap();
        assert_eq!(
            actions,
            vec![
                ("import".to_string(), Some("site".to_string())),
                ("remove".to_string(), Some("site".to_string()))
            ]
        );
    }
}
