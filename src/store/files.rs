//! Queries of the `files` table: the text content of SQLite workspaces.

use crate::error::Hint;
use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

/// One stored file as the file tree and the viewer need it (no content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub hash: String,
    pub meta: FileMeta,
}

/// What a file is besides its text: written back as it came in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileMeta {
    /// It came in executable (written 0755, committed 100755).
    pub executable: bool,
    /// The encoding it came in when not UTF-8 (see [`super::encoding`]).
    pub encoding: Option<String>,
}

impl FileMeta {
    /// The bytes `content` is written back as: encoded as it came in.
    pub fn bytes<'a>(
        &self,
        content: &'a str,
    ) -> std::result::Result<std::borrow::Cow<'a, [u8]>, super::encoding::Unrepresentable> {
        super::encoding::encode(content, self.encoding.as_deref())
    }

    /// The unix permission bits a written copy gets.
    pub fn mode(&self) -> u32 {
        if self.executable { 0o755 } else { 0o644 }
    }
}

fn meta_of(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<FileMeta> {
    Ok(FileMeta {
        executable: row.get::<_, i64>(first)? != 0,
        encoding: row.get(first + 1)?,
    })
}

pub(crate) fn list(conn: &Connection, workspace_id: i64) -> Result<Vec<FileEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, size, hash, executable, encoding FROM files
         WHERE workspace_id = ?1 ORDER BY path",
    )?;
    let rows = stmt.query_map([workspace_id], |r| {
        Ok(FileEntry {
            path: r.get(0)?,
            size: r.get::<_, i64>(1)?.max(0) as u64,
            hash: r.get(2)?,
            meta: meta_of(r, 3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn content(conn: &Connection, workspace_id: i64, path: &str) -> Result<Option<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT content FROM files WHERE workspace_id = ?1 AND path = ?2")?;
    Ok(stmt
        .query_row(params![workspace_id, path], |r| r.get(0))
        .optional()?)
}

/// A file's text with what it is besides.
pub(crate) fn content_with_meta(
    conn: &Connection,
    workspace_id: i64,
    path: &str,
) -> Result<Option<(String, FileMeta)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT content, executable, encoding FROM files WHERE workspace_id = ?1 AND path = ?2",
    )?;
    Ok(stmt
        .query_row(params![workspace_id, path], |r| {
            Ok((r.get(0)?, meta_of(r, 1)?))
        })
        .optional()?)
}

/// Calls `each(path, content, meta)` for every file in path order,
/// streaming rows so that a large workspace is never held in memory at once.
pub(crate) fn for_each(
    conn: &Connection,
    workspace_id: i64,
    mut each: impl FnMut(
        &str,
        &str,
        &FileMeta,
    ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>,
) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut stmt = conn.prepare_cached(
        "SELECT path, content, executable, encoding FROM files
         WHERE workspace_id = ?1 ORDER BY path",
    )?;
    let mut rows = stmt.query([workspace_id])?;
    while let Some(row) = rows.next()? {
        let path = row.get_ref(0)?.as_str()?;
        let content = row.get_ref(1)?.as_str()?;
        let meta = meta_of(row, 2)?;
        each(path, content, &meta)?;
    }
    Ok(())
}

/// path → hash of what an interrupted import already staged.
pub(crate) fn hashes(conn: &Connection, workspace_id: i64) -> Result<HashMap<String, String>> {
    let mut stmt = conn.prepare_cached("SELECT path, hash FROM files WHERE workspace_id = ?1")?;
    let rows = stmt.query_map([workspace_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Stores file `path` as an import found it: text and what it is besides.
pub(crate) fn upsert(
    conn: &Connection,
    workspace_id: i64,
    path: &str,
    content: &str,
    hash: &str,
    meta: &FileMeta,
    now: &str,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO files (workspace_id, path, content, size, hash, updated_at, executable, encoding)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (workspace_id, path) DO UPDATE SET
             content = excluded.content, size = excluded.size,
             hash = excluded.hash, updated_at = excluded.updated_at,
             executable = excluded.executable, encoding = excluded.encoding",
    )?;
    stmt.execute(params![
        workspace_id,
        path,
        content,
        content.len() as i64,
        hash,
        now,
        i64::from(meta.executable),
        meta.encoding
    ])?;
    Ok(())
}

/// Stores new text for file `path`, keeping what the file is besides (its
/// executable bit and encoding); a new file is plain UTF-8.
fn write_text(
    conn: &Connection,
    workspace_id: i64,
    path: &str,
    content: &str,
    hash: &str,
    now: &str,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO files (workspace_id, path, content, size, hash, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (workspace_id, path) DO UPDATE SET
             content = excluded.content, size = excluded.size,
             hash = excluded.hash, updated_at = excluded.updated_at",
    )?;
    stmt.execute(params![
        workspace_id,
        path,
        content,
        content.len() as i64,
        hash,
        now
    ])?;
    Ok(())
}

pub(crate) fn delete(conn: &Connection, workspace_id: i64, path: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM files WHERE workspace_id = ?1 AND path = ?2",
        params![workspace_id, path],
    )?;
    Ok(())
}

// Editing a SQLite workspace. Each function below changes its rows and the
// workspace's `files_count` and `bytes` in one transaction, so the counts
// `ls` shows never drift from the rows. The counts move by deltas: summing
// `size` over a workspace would read every file's content pages on each save.
//
// Folder prefixes are matched as the range ["p/", "p0") ('0' follows '/' in
// ASCII): with SQLite's byte-wise comparison that is exactly the paths under
// "p/", it uses the (workspace_id, path) index, and unlike LIKE it is neither
// case-insensitive nor confused by '%' or '_' in a name. "app" thus never
// matches "apple/x".

/// Why an edit of a workspace's files was refused.
#[derive(Debug, thiserror::Error)]
pub enum FileEditError {
    #[error("{path:?} already exists in the workspace")]
    Exists { path: String },
    #[error("{path:?} cannot be created: {parent:?} is a file")]
    ParentIsFile { path: String, parent: String },
    #[error("{path:?} is not in the workspace")]
    NotFound { path: String },
    #[error("cannot move {from:?} into itself ({to:?})")]
    IntoItself { from: String, to: String },
    #[error("{path:?} is not saved: {source}")]
    Unrepresentable {
        path: String,
        source: super::encoding::Unrepresentable,
    },
    #[error(transparent)]
    Store(#[from] super::StoreError),
}

impl From<rusqlite::Error> for FileEditError {
    fn from(e: rusqlite::Error) -> Self {
        FileEditError::Store(super::StoreError::Sqlite(e))
    }
}

impl Hint for FileEditError {
    fn hint(&self) -> String {
        let hint = match self {
            FileEditError::Exists { .. } => "pick another name, or delete that one first",
            FileEditError::ParentIsFile { .. } => "rename or delete that file first",
            FileEditError::NotFound { .. } => "it may have been renamed or deleted meanwhile",
            FileEditError::IntoItself { .. } => "pick a target outside the folder",
            FileEditError::Unrepresentable { .. } => {
                "remove or replace that character (the file keeps its encoding so that it is exported as it came in)"
            }
            FileEditError::Store(e) => return e.hint(),
        };
        hint.into()
    }
}

/// The entry `content` makes at `path`: size and SHA-256 hex, as import hashes.
fn file_entry(path: &str, content: &str, meta: FileMeta) -> FileEntry {
    use sha2::{Digest, Sha256};
    FileEntry {
        path: path.to_string(),
        size: content.len() as u64,
        hash: hex::encode(Sha256::digest(content.as_bytes())),
        meta,
    }
}

/// The upper end of the range of paths under folder `prefix`.
fn folder_end(prefix: &str) -> String {
    format!("{prefix}0")
}

fn folder_start(prefix: &str) -> String {
    format!("{prefix}/")
}

/// (files, bytes) at `path` itself or under it as a folder.
fn count_under(conn: &Connection, workspace_id: i64, path: &str) -> Result<(i64, i64)> {
    Ok(conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM files
         WHERE workspace_id = ?1 AND (path = ?2 OR (path >= ?3 AND path < ?4))",
        params![workspace_id, path, folder_start(path), folder_end(path)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Whether anything is stored at `path` or under it as a folder; unlike
/// `count_under` it stops at the first row and never reads a file's content.
fn exists_under(conn: &Connection, workspace_id: i64, path: &str) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM files
         WHERE workspace_id = ?1 AND (path = ?2 OR (path >= ?3 AND path < ?4)) LIMIT 1",
    )?;
    Ok(stmt.exists(params![
        workspace_id,
        path,
        folder_start(path),
        folder_end(path)
    ])?)
}

/// Refuses a new file or folder at `path` that would clash with what is
/// stored: a file or folder of that name, or a file where a parent folder
/// of it would have to be (export could not write either).
fn check_free(conn: &Connection, workspace_id: i64, path: &str) -> Result<(), FileEditError> {
    if exists_under(conn, workspace_id, path)? {
        return Err(FileEditError::Exists {
            path: path.to_string(),
        });
    }
    let mut stmt =
        conn.prepare_cached("SELECT 1 FROM files WHERE workspace_id = ?1 AND path = ?2")?;
    for (i, _) in path.match_indices('/') {
        let parent = &path[..i];
        if stmt.exists(params![workspace_id, parent])? {
            return Err(FileEditError::ParentIsFile {
                path: path.to_string(),
                parent: parent.to_string(),
            });
        }
    }
    Ok(())
}

fn add_to_counts(conn: &Connection, workspace_id: i64, files: i64, bytes: i64) -> Result<()> {
    conn.execute(
        "UPDATE workspaces SET files_count = files_count + ?2, bytes = bytes + ?3 WHERE id = ?1",
        params![workspace_id, files, bytes],
    )?;
    Ok(())
}

/// Saves `content` as file `path`, creating it if needed.
pub(crate) fn save_file(
    conn: &mut Connection,
    workspace_id: i64,
    path: &str,
    content: &str,
) -> Result<FileEntry, FileEditError> {
    let tx = conn.transaction()?;
    let old: Option<(i64, FileMeta)> = tx
        .query_row(
            "SELECT size, executable, encoding FROM files WHERE workspace_id = ?1 AND path = ?2",
            params![workspace_id, path],
            |r| Ok((r.get(0)?, meta_of(r, 1)?)),
        )
        .optional()?;
    let old_size = old.as_ref().map(|(size, _)| *size);
    let meta = old.map(|(_, meta)| meta).unwrap_or_default();
    if old_size.is_none() {
        check_free(&tx, workspace_id, path)?;
    }
    // The file is written back in its encoding: refuse what it cannot hold
    // now, while the user still has the text, rather than lose it later.
    meta.bytes(content)
        .map_err(|source| FileEditError::Unrepresentable {
            path: path.to_string(),
            source,
        })?;
    let entry = file_entry(path, content, meta);
    write_text(
        &tx,
        workspace_id,
        path,
        content,
        &entry.hash,
        &super::now_rfc3339(),
    )?;
    let added = i64::from(old_size.is_none());
    add_to_counts(
        &tx,
        workspace_id,
        added,
        entry.size as i64 - old_size.unwrap_or(0),
    )?;
    tx.commit()?;
    Ok(entry)
}

/// Creates file `path` with `content`; refuses if anything is in the way.
pub(crate) fn create_file(
    conn: &mut Connection,
    workspace_id: i64,
    path: &str,
    content: &str,
) -> Result<FileEntry, FileEditError> {
    let tx = conn.transaction()?;
    check_free(&tx, workspace_id, path)?;
    let entry = file_entry(path, content, FileMeta::default());
    write_text(
        &tx,
        workspace_id,
        path,
        content,
        &entry.hash,
        &super::now_rfc3339(),
    )?;
    add_to_counts(&tx, workspace_id, 1, entry.size as i64)?;
    tx.commit()?;
    Ok(entry)
}

/// Moves file `from` to `to`, or every file of folder `from` to folder
/// `to`, and their drafts with them. Refuses if `to` exists as a file or a
/// folder, so nothing is ever overwritten or merged. Returns the number of
/// files moved.
pub(crate) fn rename_path(
    conn: &mut Connection,
    workspace_id: i64,
    from: &str,
    to: &str,
) -> Result<usize, FileEditError> {
    if to == from || to.starts_with(&folder_start(from)) {
        return Err(FileEditError::IntoItself {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let tx = conn.transaction()?;
    if !exists_under(&tx, workspace_id, from)? {
        return Err(FileEditError::NotFound {
            path: from.to_string(),
        });
    }
    check_free(&tx, workspace_id, to)?;
    let now = super::now_rfc3339();
    // substr counts characters, as length() does, so a multi-byte name in
    // `from` cuts at the right place.
    let moved = tx.execute(
        "UPDATE files SET path = ?5 || substr(path, length(?2) + 1), updated_at = ?6
         WHERE workspace_id = ?1 AND (path = ?2 OR (path >= ?3 AND path < ?4))",
        params![
            workspace_id,
            from,
            folder_start(from),
            folder_end(from),
            to,
            now
        ],
    )?;
    // Unsaved edits follow their file. OR IGNORE leaves a draft where it was
    // rather than overwrite a draft already kept under the new name.
    let name: Option<String> = tx
        .query_row(
            "SELECT name FROM workspaces WHERE id = ?1",
            [workspace_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(name) = name {
        tx.execute(
            "UPDATE OR IGNORE drafts SET path = ?5 || substr(path, length(?2) + 1)
             WHERE workspace_key = ?1 AND (path = ?2 OR (path >= ?3 AND path < ?4))",
            params![
                super::drafts::sqlite_key(&name),
                from,
                folder_start(from),
                folder_end(from),
                to
            ],
        )?;
    }
    tx.commit()?;
    Ok(moved)
}

/// Deletes file `path`, or folder `path` with everything under it. Drafts
/// are kept: text typed into a deleted file is the user's to discard.
/// Returns the number of files deleted.
pub(crate) fn delete_path(
    conn: &mut Connection,
    workspace_id: i64,
    path: &str,
) -> Result<usize, FileEditError> {
    let tx = conn.transaction()?;
    let (files, bytes) = count_under(&tx, workspace_id, path)?;
    if files == 0 {
        return Err(FileEditError::NotFound {
            path: path.to_string(),
        });
    }
    let deleted = tx.execute(
        "DELETE FROM files WHERE workspace_id = ?1 AND (path = ?2 OR (path >= ?3 AND path < ?4))",
        params![workspace_id, path, folder_start(path), folder_end(path)],
    )?;
    add_to_counts(&tx, workspace_id, -files, -bytes)?;
    tx.commit()?;
    Ok(deleted)
}

/// Sets file `path` to `content` with its executable bit, or deletes it
/// (`None`), inside the caller's transaction, so that several files change
/// together (a patch's apply, its undo). An existing file keeps its
/// encoding; a new one must not clash with what is stored.
pub(crate) fn put_file(
    conn: &Connection,
    workspace_id: i64,
    path: &str,
    content: Option<(&str, bool)>,
) -> Result<(), FileEditError> {
    let old: Option<(i64, FileMeta)> = conn
        .query_row(
            "SELECT size, executable, encoding FROM files WHERE workspace_id = ?1 AND path = ?2",
            params![workspace_id, path],
            |r| Ok((r.get(0)?, meta_of(r, 1)?)),
        )
        .optional()?;
    let Some((content, executable)) = content else {
        if let Some((size, _)) = old {
            delete(conn, workspace_id, path)?;
            add_to_counts(conn, workspace_id, -1, -size)?;
        }
        return Ok(());
    };
    let old_size = old.as_ref().map(|(size, _)| *size);
    let meta = FileMeta {
        executable,
        ..old.map(|(_, meta)| meta).unwrap_or_default()
    };
    if old_size.is_none() {
        check_free(conn, workspace_id, path)?;
    }
    let bytes = meta
        .bytes(content)
        .map_err(|source| FileEditError::Unrepresentable {
            path: path.to_string(),
            source,
        })?;
    drop(bytes);
    let entry = file_entry(path, content, meta);
    upsert(
        conn,
        workspace_id,
        path,
        content,
        &entry.hash,
        &entry.meta,
        &super::now_rfc3339(),
    )?;
    add_to_counts(
        conn,
        workspace_id,
        i64::from(old_size.is_none()),
        entry.size as i64 - old_size.unwrap_or(0),
    )?;
    Ok(())
}

#[cfg(test)]
mod edit_tests {
    use super::*;
    use crate::store::drafts::{self, Draft};
    use crate::store::{Store, workspaces};

    /// A ready workspace "site" holding `files`.
    fn workspace(store: &mut Store, files: &[(&str, &str)]) -> i64 {
        let id = workspaces::create_staging(&store.conn, "site", "/src", 1, "now").unwrap();
        for (path, content) in files {
            upsert(
                &store.conn,
                id,
                path,
                content,
                "h",
                &FileMeta::default(),
                "now",
            )
            .unwrap();
        }
        let published = workspaces::publish(
            &store.conn,
            &workspaces::Publish {
                staging_id: id,
                fingerprint: "f",
                taken_over_at: "now",
                ignored: 0,
            },
        )
        .unwrap();
        assert!(published);
        id
    }

    fn paths(store: &Store, id: i64) -> Vec<String> {
        list(&store.conn, id)
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect()
    }

    /// (files_count, bytes) as recorded, checked against the rows.
    fn counts(store: &Store) -> (u64, u64) {
        let ws = workspaces::find(&store.conn, "site").unwrap().unwrap();
        let rows = list(&store.conn, ws.id).unwrap();
        let actual = (rows.len() as u64, rows.iter().map(|f| f.size).sum());
        assert_eq!((ws.files_count, ws.bytes), actual, "counts drifted");
        actual
    }

    #[test]
    fn save_file_updates_content_hash_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let id = workspace(&mut store, &[("a.ts", "12345")]);

        let entry = save_file(&mut store.conn, id, "a.ts", "12").unwrap();
        save_file(&mut store.conn, id, "src/new.ts", "abc").unwrap();

        assert_eq!(
            entry.hash,
            "6b51d431df5d7f141cbececcf79edf3dd861c3b4069f0b11661a3eefacbba918"
        );
        assert_eq!(content(&store.conn, id, "a.ts").unwrap().unwrap(), "12");
        assert_eq!(hashes(&store.conn, id).unwrap()["a.ts"], entry.hash);
        assert_eq!(counts(&store), (2, 5));
    }

    #[test]
    fn a_save_keeps_the_executable_bit_and_the_encoding_or_says_what_it_cannot_hold() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let id = workspace(&mut store, &[]);
        let legacy = FileMeta {
            executable: true,
            encoding: Some(crate::store::encoding::WINDOWS_1252.to_string()),
        };
        upsert(
            &store.conn,
            id,
            "run.sh",
            "caf\u{e9}\n",
            "h",
            &legacy,
            "now",
        )
        .unwrap();

        let saved = save_file(&mut store.conn, id, "run.sh", "caf\u{e9} \u{20ac}\n").unwrap();
        assert_eq!(saved.meta, legacy);
        let (text, meta) = content_with_meta(&store.conn, id, "run.sh")
            .unwrap()
            .unwrap();
        assert_eq!(meta, legacy);
        assert_eq!(meta.bytes(&text).unwrap().as_ref(), b"caf\xe9 \x80\n");

        let refused = save_file(&mut store.conn, id, "run.sh", "caf\u{e9} \u{1f44b}\n");
        match refused {
            Err(e @ FileEditError::Unrepresentable { .. }) => {
                let message = e.to_string();
                assert!(message.contains("run.sh"), "{message}");
                assert!(message.contains("U+1F44B"), "{message}");
            }
            other => panic!("saved a character windows-1252 lacks: {other:?}"),
        }
        let kept = content(&store.conn, id, "run.sh").unwrap().unwrap();
        assert_eq!(
            kept, "caf\u{e9} \u{20ac}\n",
            "the refused save changed nothing"
        );
    }

    #[test]
    fn create_file_refuses_what_is_in_the_way() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let id = workspace(&mut store, &[("a.ts", "a"), ("lib/x.ts", "x")]);

        let file = create_file(&mut store.conn, id, "a.ts", "new");
        let folder = create_file(&mut store.conn, id, "lib", "new");
        let under_file = create_file(&mut store.conn, id, "a.ts/b.ts", "new");
        create_file(&mut store.conn, id, "lib/y.ts", "yy").unwrap();

        assert!(matches!(file, Err(FileEditError::Exists { .. })));
        assert!(matches!(folder, Err(FileEditError::Exists { .. })));
        assert!(
            matches!(under_file, Err(FileEditError::ParentIsFile { parent, .. }) if parent == "a.ts")
        );
        assert_eq!(content(&store.conn, id, "a.ts").unwrap().unwrap(), "a");
        assert_eq!(counts(&store), (3, 4));
    }

    #[test]
    fn renaming_a_folder_moves_its_children_and_not_its_prefix_siblings() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let id = workspace(
            &mut store,
            &[
                ("app/a.ts", "a"),
                ("app/sub/b.ts", "b"),
                ("app.ts", "s"),
                ("apple/x.ts", "x"),
                ("app_%/y.ts", "y"),
                ("App/z.ts", "z"),
            ],
        );
        let typed = Draft {
            path: "app/a.ts".into(),
            content: "typed".into(),
            base_hash: None,
            updated_at: "now".into(),
        };
        drafts::save_batch(&mut store.conn, "ws:site", &[typed], &[]).unwrap();

        let moved = rename_path(&mut store.conn, id, "app", "src/web").unwrap();

        assert_eq!(moved, 2);
        assert_eq!(
            paths(&store, id),
            [
                "App/z.ts",
                "app.ts",
                "app_%/y.ts",
                "apple/x.ts",
                "src/web/a.ts",
                "src/web/sub/b.ts"
            ]
        );
        assert_eq!(
            drafts::list(&store.conn, "ws:site").unwrap()[0].path,
            "src/web/a.ts"
        );
        assert_eq!(counts(&store), (6, 6));
    }

    #[test]
    fn rename_refuses_an_existing_target_and_leaves_everything() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let id = workspace(
            &mut store,
            &[("a/x.ts", "1"), ("b/y.ts", "2"), ("c.ts", "3")],
        );

        let onto_folder = rename_path(&mut store.conn, id, "a", "b");
        let onto_file = rename_path(&mut store.conn, id, "a/x.ts", "c.ts");
        let into_itself = rename_path(&mut store.conn, id, "a", "a/inner");
        let missing = rename_path(&mut store.conn, id, "nope", "z");
        let file = rename_path(&mut store.conn, id, "c.ts", "b/c.ts").unwrap();

        assert!(matches!(onto_folder, Err(FileEditError::Exists { .. })));
        assert!(matches!(onto_file, Err(FileEditError::Exists { .. })));
        assert!(matches!(into_itself, Err(FileEditError::IntoItself { .. })));
        assert!(matches!(missing, Err(FileEditError::NotFound { .. })));
        assert_eq!(file, 1);
        assert_eq!(paths(&store, id), ["a/x.ts", "b/c.ts", "b/y.ts"]);
        assert_eq!(counts(&store), (3, 3));
    }

    #[test]
    fn deleting_a_folder_deletes_its_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let id = workspace(
            &mut store,
            &[
                ("app/a.ts", "aaa"),
                ("app/sub/b.ts", "bb"),
                ("apple/x.ts", "x"),
                ("app.ts", "y"),
            ],
        );

        let deleted = delete_path(&mut store.conn, id, "app").unwrap();
        let missing = delete_path(&mut store.conn, id, "app");
        let file = delete_path(&mut store.conn, id, "app.ts").unwrap();

        assert_eq!((deleted, file), (2, 1));
        assert!(matches!(missing, Err(FileEditError::NotFound { .. })));
        assert_eq!(paths(&store, id), ["apple/x.ts"]);
        assert_eq!(counts(&store), (1, 1));
    }
}
