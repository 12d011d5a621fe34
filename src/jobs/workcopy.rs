//! The managed working copy of a SQLite workspace.
//!
//! A SQLite workspace keeps its files in the store. Its commands (`npm
//! install`, builds) run in a folder under the data directory,
//! `workcopies/<name>`, which [`sync`] brings up to date before each run.
//!
//! Only what changed is written. A manifest kept outside the working copy
//! (`workcopy-manifests/<name>.json`, so no command can edit it and no
//! workspace name can clash with it) records what the last sync wrote:
//! each file's store hash and the size, mtime and inode it had on disk. A
//! file whose store hash and disk state still match is left alone; one a
//! command changed or removed is restored from the store. What commands
//! create (node_modules, build output) stays and is never read back:
//! nothing here writes to the store.
//!
//! Commands may plant links. Before a file is written or removed every
//! folder above it must be a real folder, or the sync stops with an error
//! that names it; files are written to a temporary file beside the target
//! and renamed over it, which replaces a link instead of writing through it.
//!
//! A working copy belongs to one workspace row: the manifest records it,
//! and a sync for another row (a workspace removed and another made under
//! its name, or a manifest that does not say) starts from an empty folder,
//! so nothing a command of the old workspace left is inherited. `kollega
//! rm` deletes the working copy and its manifest ([`remove`]).
//!
//! The manifest is written last, atomically. A sync cut short leaves the
//! old one, and the next sync rewrites whatever it cannot vouch for.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::JobsError;
use crate::store::files::{self, FileMeta};
use crate::workspace::path::WorkspacePath;

const WORKCOPIES: &str = "workcopies";
const MANIFESTS: &str = "workcopy-manifests";
const MANIFEST_VERSION: u32 = 1;

const DIR_MODE: u32 = 0o755;
const PRIVATE_DIR_MODE: u32 = 0o700;

/// Tells apart the temporary files of concurrent syncs in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The working copy of workspace `workspace`: `<data_dir>/workcopies/<name>`.
/// The name is not checked here; [`sync`] refuses names that are not a
/// single path component.
pub(crate) fn dir_for(data_dir: &Path, workspace: &str) -> PathBuf {
    data_dir.join(WORKCOPIES).join(workspace)
}

fn manifest_path(data_dir: &Path, workspace: &str) -> PathBuf {
    data_dir.join(MANIFESTS).join(format!("{workspace}.json"))
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyncReport {
    /// Files written: new, changed in the store, or restored.
    pub written: usize,
    /// Files removed because the store no longer has them.
    pub removed: usize,
    /// Files left as they were.
    pub unchanged: usize,
    /// The working copy, where the workspace's commands run.
    pub dir: PathBuf,
}

/// What the last sync wrote.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    version: u32,
    /// The workspace row whose sync wrote the working copy.
    #[serde(default)]
    workspace_id: Option<i64>,
    files: BTreeMap<String, Written>,
    /// The folders the syncs created, which they may remove once empty.
    dirs: BTreeSet<String>,
}

/// What the manifest records of a stored file: its hash, and its
/// executable bit and encoding when they are not the plain defaults, so a
/// change of either rewrites the file too.
fn copy_key(hash: &str, meta: &FileMeta) -> String {
    let mut key = hash.to_string();
    if meta.executable {
        key.push_str(":x");
    }
    if let Some(encoding) = &meta.encoding {
        key.push(':');
        key.push_str(encoding);
    }
    key
}

/// One file as a sync wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Written {
    /// The store's hash of the content written ([`copy_key`]).
    hash: String,
    size: u64,
    mtime_s: i64,
    mtime_ns: i64,
    ino: u64,
}

impl Written {
    fn new(hash: &str, meta: &fs::Metadata) -> Written {
        Written {
            hash: hash.to_string(),
            size: meta.len(),
            mtime_s: meta.mtime(),
            mtime_ns: meta.mtime_nsec(),
            ino: meta.ino(),
        }
    }

    /// Whether `meta` is still the file this sync wrote.
    fn matches(&self, meta: &fs::Metadata) -> bool {
        meta.file_type().is_file()
            && meta.len() == self.size
            && meta.mtime() == self.mtime_s
            && meta.mtime_nsec() == self.mtime_ns
            && meta.ino() == self.ino
    }
}

/// Brings the working copy of workspace `workspace` (row `workspace_id`)
/// up to date with the store, creating it if needed. Reads the store only.
pub(crate) fn sync(
    conn: &Connection,
    data_dir: &Path,
    workspace_id: i64,
    workspace: &str,
) -> Result<SyncReport, JobsError> {
    check_name(workspace)?;
    let mut wanted: BTreeMap<WorkspacePath, String> = BTreeMap::new();
    for entry in files::list(conn, workspace_id)? {
        let path = store_path(&entry.path, workspace)?;
        wanted.insert(path, copy_key(&entry.hash, &entry.meta));
    }

    let root = dir_for(data_dir, workspace);
    let manifest_file = manifest_path(data_dir, workspace);
    let (mut old, mut manifest_mtime) = load_manifest(&manifest_file);
    if old.workspace_id != Some(workspace_id) {
        // Another workspace's, or nobody can say whose: start clean.
        clear_dir(&root)?;
        old = Manifest::default();
        manifest_mtime = None;
    }
    make_root(data_dir, &root)?;
    let mut copy = WorkingCopy {
        root: root.clone(),
        real_dirs: HashSet::new(),
        made_dirs: old.dirs.clone(),
    };
    let mut report = SyncReport {
        written: 0,
        removed: 0,
        unchanged: 0,
        dir: root.clone(),
    };

    // Removals come first, so that a file may become a folder and back.
    let mut gone = Vec::new();
    for path in old.files.keys() {
        let Ok(path) = WorkspacePath::parse(path) else {
            continue;
        };
        if !wanted.contains_key(&path) {
            if copy.remove_file(&path)? {
                report.removed += 1;
            }
            gone.push(path);
        }
    }
    copy.prune_dirs(&gone)?;

    let mut recorded = BTreeMap::new();
    let mut to_write = Vec::new();
    for (path, hash) in &wanted {
        if let Some(prev) = old.files.get(path.as_str())
            && prev.hash == *hash
            && copy.is_unchanged(path, prev, manifest_mtime)?
        {
            recorded.insert(path.to_string(), prev.clone());
            report.unchanged += 1;
        } else {
            to_write.push((path, hash));
        }
    }

    for (path, hash) in to_write {
        match files::content_with_meta(conn, workspace_id, path.as_str())? {
            Some((content, meta)) => {
                let written = copy.write_file(path, &content, &meta, hash)?;
                recorded.insert(path.to_string(), written);
                report.written += 1;
            }
            // Deleted from the store since the listing: as if it never was.
            None => {
                if old.files.contains_key(path.as_str()) && copy.remove_file(path)? {
                    report.removed += 1;
                }
            }
        }
    }

    copy.made_dirs
        .retain(|dir| fs::symlink_metadata(root.join(dir)).is_ok_and(|m| m.is_dir()));
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        workspace_id: Some(workspace_id),
        files: recorded,
        dirs: copy.made_dirs,
    };
    save_manifest(&manifest_file, &manifest)?;
    Ok(report)
}

/// Refuses a workspace name that is not one plain path component.
/// Deletes the working copy of workspace `workspace` and its manifest (the
/// workspace is being removed); whether there was a working copy.
pub(crate) fn remove(data_dir: &Path, workspace: &str) -> Result<bool, JobsError> {
    check_name(workspace)?;
    let root = dir_for(data_dir, workspace);
    let there = fs::symlink_metadata(&root).is_ok();
    clear_dir(&root)?;
    let manifest = manifest_path(data_dir, workspace);
    match fs::remove_file(&manifest) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(copy_error(&manifest, e)),
    }
    Ok(there)
}

/// Removes the folder `root` with all it holds (a link in its place is
/// removed, never followed); anything else there is left for the caller
/// to report.
fn clear_dir(root: &Path) -> Result<(), JobsError> {
    match fs::symlink_metadata(root) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(root).map_err(|e| copy_error(root, e)),
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::remove_file(root).map_err(|e| copy_error(root, e))
        }
        _ => Ok(()),
    }
}

fn check_name(name: &str) -> Result<(), JobsError> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(JobsError::BadInput(format!(
            "the workspace name {name:?} cannot name its working copy folder: it must not be empty, \".\" or \"..\", nor contain \"/\" or NUL; import the workspace again with --name"
        )));
    }
    Ok(())
}

/// A store path checked again before it reaches the disk: it must already
/// be in the tidy form `WorkspacePath` gives.
fn store_path(raw: &str, workspace: &str) -> Result<WorkspacePath, JobsError> {
    let refuse = |why: String| {
        JobsError::BadInput(format!(
            "workspace {workspace:?} holds the file {raw:?}, whose path {why}; nothing was written to its working copy. Rename or delete that file in the workspace"
        ))
    };
    let path = WorkspacePath::parse(raw).map_err(|e| refuse(e.to_string()))?;
    if path.as_str() != raw {
        return Err(refuse(format!("is not in plain form ({path})")));
    }
    Ok(path)
}

fn copy_error(path: &Path, source: io::Error) -> JobsError {
    JobsError::WorkingCopy {
        path: path.to_path_buf(),
        source,
    }
}

/// The error for something other than a real folder where a folder of the
/// working copy must be.
fn not_a_folder(full: &Path, root: &Path, meta: &fs::Metadata) -> JobsError {
    let what = if meta.file_type().is_symlink() {
        "a symbolic link"
    } else {
        "a file"
    };
    copy_error(
        full,
        io::Error::new(
            io::ErrorKind::NotADirectory,
            format!(
                "it is {what} where a folder of the workspace must be, probably made by a command; kollega does not write through it. Remove it, or remove the whole working copy (rm -rf {}), which the next run rebuilds from the store",
                root.display()
            ),
        ),
    )
}

/// Creates `<data_dir>/workcopies` and the working copy folder, both 0700,
/// and refuses a working copy that is not a real folder.
fn make_root(data_dir: &Path, root: &Path) -> Result<(), JobsError> {
    let parent = data_dir.join(WORKCOPIES);
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR_MODE)
        .create(&parent)
        .map_err(|e| copy_error(&parent, e))?;
    match fs::symlink_metadata(root) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(meta) => Err(not_a_folder(root, root, &meta)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => DirBuilder::new()
            .mode(PRIVATE_DIR_MODE)
            .create(root)
            .map_err(|e| copy_error(root, e)),
        Err(e) => Err(copy_error(root, e)),
    }
}

/// The last manifest and its mtime. A missing or unreadable manifest is an
/// empty one: every file is then written again.
fn load_manifest(path: &Path) -> (Manifest, Option<(i64, i64)>) {
    let read = || -> Result<(Manifest, (i64, i64)), String> {
        let mut file = File::open(path).map_err(|e| e.to_string())?;
        let meta = file.metadata().map_err(|e| e.to_string())?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|e| e.to_string())?;
        let mut manifest: Manifest = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        if manifest.version != MANIFEST_VERSION {
            return Err(format!("unknown version {}", manifest.version));
        }
        // Only paths a sync could have written count.
        let plain = |p: &String| WorkspacePath::parse(p).is_ok_and(|w| w.as_str() == p);
        manifest.files.retain(|p, _| plain(p));
        manifest.dirs.retain(plain);
        Ok((manifest, (meta.mtime(), meta.mtime_nsec())))
    };
    match read() {
        Ok((manifest, mtime)) => (manifest, Some(mtime)),
        Err(e) => {
            if path.exists() {
                tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable working copy manifest; every file is written again");
            }
            (Manifest::default(), None)
        }
    }
}

/// Writes the manifest atomically: a temporary file, fsync, rename.
fn save_manifest(path: &Path, manifest: &Manifest) -> Result<(), JobsError> {
    let err = |e| copy_error(path, e);
    let folder = path.parent().unwrap_or(path);
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR_MODE)
        .create(folder)
        .map_err(err)?;
    let json = serde_json::to_vec(manifest).map_err(|e| err(io::Error::other(e)))?;
    let tmp = temp_path(folder);
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(folder)?.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        err(e)
    })
}

/// A fresh temporary file name in `folder`.
fn temp_path(folder: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    folder.join(format!(".kollega-sync-{}-{n}.tmp", std::process::id()))
}

/// A working copy being synced.
struct WorkingCopy {
    root: PathBuf,
    /// Folders known to be real folders during this sync.
    real_dirs: HashSet<String>,
    /// Folders the syncs created.
    made_dirs: BTreeSet<String>,
}

impl WorkingCopy {
    fn full(&self, rel: &str) -> PathBuf {
        rel.split('/').fold(self.root.clone(), |p, c| p.join(c))
    }

    /// Checks the folders above `rel`, outermost first: each must be a real
    /// folder. Returns false when one is missing (so is everything below).
    fn check_parents(&mut self, rel: &str) -> Result<bool, JobsError> {
        self.walk_parents(rel, |_, _, _| Ok(false))
    }

    /// Creates the missing folders above `rel` (0755), checking those that
    /// exist.
    fn make_parents(&mut self, rel: &str) -> Result<(), JobsError> {
        self.walk_parents(rel, |copy, dir, full| {
            DirBuilder::new()
                .mode(DIR_MODE)
                .create(full)
                .and_then(|()| fs::set_permissions(full, fs::Permissions::from_mode(DIR_MODE)))
                .map_err(|e| copy_error(full, e))?;
            copy.made_dirs.insert(dir.to_string());
            Ok(true)
        })?;
        Ok(())
    }

    /// Goes through the folders above `rel` not yet known to be real,
    /// outermost first: one that exists must be a real folder; a missing
    /// one goes to `missing`, which makes it (true) or ends the walk
    /// (false). Returns whether the walk got to `rel`.
    fn walk_parents(
        &mut self,
        rel: &str,
        mut missing: impl FnMut(&mut Self, &str, &Path) -> Result<bool, JobsError>,
    ) -> Result<bool, JobsError> {
        for (i, _) in rel.match_indices('/') {
            let dir = &rel[..i];
            if self.real_dirs.contains(dir) {
                continue;
            }
            let full = self.full(dir);
            match fs::symlink_metadata(&full) {
                Ok(meta) if meta.is_dir() => {}
                Ok(meta) => return Err(not_a_folder(&full, &self.root, &meta)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if !missing(self, dir, &full)? {
                        return Ok(false);
                    }
                }
                Err(e) => return Err(copy_error(&full, e)),
            }
            self.real_dirs.insert(dir.to_string());
        }
        Ok(true)
    }

    /// Whether the file at `path` is still what the last sync wrote as
    /// `prev`. `manifest_mtime` is when that sync's manifest was written: a
    /// file written in the same clock tick could change again within that
    /// tick without its mtime showing it, so its content is compared.
    fn is_unchanged(
        &mut self,
        path: &WorkspacePath,
        prev: &Written,
        manifest_mtime: Option<(i64, i64)>,
    ) -> Result<bool, JobsError> {
        if !self.check_parents(path.as_str())? {
            return Ok(false);
        }
        let full = self.full(path.as_str());
        let meta = match fs::symlink_metadata(&full) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(copy_error(&full, e)),
        };
        if !prev.matches(&meta) {
            return Ok(false);
        }
        let racy = manifest_mtime.is_none_or(|m| (prev.mtime_s, prev.mtime_ns) >= m);
        if !racy {
            return Ok(true);
        }
        // Unreadable counts as changed: the write then replaces it.
        Ok(sha256_of(&full).is_ok_and(|hash| hash == prev.hash))
    }

    /// Writes `content` to `path` through a temporary file beside it, in
    /// the bytes and with the mode it came in (0755 or 0644), and returns
    /// what the manifest records.
    fn write_file(
        &mut self,
        path: &WorkspacePath,
        content: &str,
        meta: &FileMeta,
        hash: &str,
    ) -> Result<Written, JobsError> {
        self.make_parents(path.as_str())?;
        let full = self.full(path.as_str());
        if fs::symlink_metadata(&full).is_ok_and(|m| m.is_dir()) {
            return Err(copy_error(
                &full,
                io::Error::new(
                    io::ErrorKind::IsADirectory,
                    format!(
                        "a folder is where the file {path} must be, probably made by a command. Remove it, or remove the whole working copy (rm -rf {}), which the next run rebuilds from the store",
                        self.root.display()
                    ),
                ),
            ));
        }
        let bytes = meta
            .bytes(content)
            .map_err(|e| copy_error(&full, io::Error::other(e.to_string())))?;
        let mode = meta.mode();
        let folder = full.parent().unwrap_or(&self.root);
        let tmp = temp_path(folder);
        let write = || -> io::Result<fs::Metadata> {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&tmp)?;
            file.write_all(&bytes)?;
            file.set_permissions(fs::Permissions::from_mode(mode))?;
            let meta = file.metadata()?;
            drop(file);
            fs::rename(&tmp, &full)?;
            Ok(meta)
        };
        match write() {
            Ok(meta) => Ok(Written::new(hash, &meta)),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(copy_error(&full, e))
            }
        }
    }

    /// Removes the file at `path` if it is there. A folder a command made in
    /// its place stays. Returns whether a file was removed.
    fn remove_file(&mut self, path: &WorkspacePath) -> Result<bool, JobsError> {
        if !self.check_parents(path.as_str())? {
            return Ok(false);
        }
        let full = self.full(path.as_str());
        match fs::symlink_metadata(&full) {
            Ok(meta) if meta.is_dir() => Ok(false),
            // A link is removed itself, never what it points to.
            Ok(_) => fs::remove_file(&full)
                .map(|()| true)
                .map_err(|e| copy_error(&full, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(copy_error(&full, e)),
        }
    }

    /// Removes the folders above the `gone` files that the syncs created
    /// and that are now empty, innermost first.
    fn prune_dirs(&mut self, gone: &[WorkspacePath]) -> Result<(), JobsError> {
        let mut candidates: Vec<&str> = gone
            .iter()
            .flat_map(|p| p.ancestors())
            .filter(|dir| self.made_dirs.contains(*dir))
            .collect();
        candidates.sort_by(|a, b| {
            b.matches('/')
                .count()
                .cmp(&a.matches('/').count())
                .then(b.cmp(a))
        });
        candidates.dedup();
        for dir in candidates {
            if !self.check_parents(dir)? {
                self.made_dirs.remove(dir);
                continue;
            }
            let full = self.full(dir);
            match fs::symlink_metadata(&full) {
                Ok(meta) if meta.is_dir() => {}
                // Gone, or replaced by a command: no longer ours.
                _ => {
                    self.made_dirs.remove(dir);
                    continue;
                }
            }
            match fs::remove_dir(&full) {
                Ok(()) => {
                    self.made_dirs.remove(dir);
                }
                Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    self.made_dirs.remove(dir);
                }
                Err(e) => return Err(copy_error(&full, e)),
            }
        }
        // Folders checked before the removals may be gone now.
        self.real_dirs.clear();
        Ok(())
    }
}

/// The SHA-256 hex of the file at `path`, not following a link.
fn sha256_of(path: &Path) -> io::Result<String> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, workspaces};

    struct Site {
        _tmp: tempfile::TempDir,
        data: PathBuf,
        store: Store,
        id: i64,
    }

    impl Site {
        /// A data directory whose store holds the ready workspace "site".
        fn new(list: &[(&str, &str)]) -> Site {
            let tmp = tempfile::tempdir().unwrap();
            let data = tmp.path().join("data");
            let store = Store::open(&data).unwrap();
            let id = workspaces::create_staging(&store.conn, "site", "/src", 1, "now").unwrap();
            let site = Site {
                _tmp: tmp,
                data,
                store,
                id,
            };
            for (path, content) in list {
                site.put(path, content);
            }
            let publish = workspaces::Publish {
                staging_id: id,
                fingerprint: "f",
                taken_over_at: "now",
                ignored: 0,
            };
            assert!(workspaces::publish(&site.store.conn, &publish).unwrap());
            site
        }

        fn put(&self, path: &str, content: &str) {
            let hash = hex::encode(Sha256::digest(content.as_bytes()));
            files::upsert(
                &self.store.conn,
                self.id,
                path,
                content,
                &hash,
                &FileMeta::default(),
                "now",
            )
            .unwrap();
        }

        fn delete(&self, path: &str) {
            files::delete(&self.store.conn, self.id, path).unwrap();
        }

        fn try_sync(&self) -> Result<SyncReport, JobsError> {
            sync(&self.store.conn, &self.data, self.id, "site")
        }

        /// (written, removed, unchanged)
        fn sync(&self) -> (usize, usize, usize) {
            let r = self.try_sync().unwrap();
            assert_eq!(r.dir, self.root());
            (r.written, r.removed, r.unchanged)
        }

        fn root(&self) -> PathBuf {
            dir_for(&self.data, "site")
        }

        fn at(&self, rel: &str) -> PathBuf {
            self.root().join(rel)
        }

        fn read(&self, rel: &str) -> String {
            fs::read_to_string(self.at(rel)).unwrap()
        }

        /// Every row of the workspace, to show the store was not changed.
        fn rows(&self) -> Vec<(String, String, String)> {
            let mut stmt = self
                .store
                .conn
                .prepare("SELECT path, hash, updated_at FROM files ORDER BY path")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// Every entry under `dir`, relative, sorted.
    fn tree(dir: &Path) -> Vec<String> {
        let mut all: Vec<String> = walkdir::WalkDir::new(dir)
            .min_depth(1)
            .into_iter()
            .map(|e| {
                let e = e.unwrap();
                e.path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        all.sort();
        all
    }

    const FILES: &[(&str, &str)] = &[
        ("package.json", "{}\n"),
        ("src/app/page.tsx", "export default 1;\n"),
        ("src/lib.ts", "export {};\n"),
    ];

    #[test]
    fn the_first_sync_writes_everything_and_the_second_nothing() {
        let site = Site::new(FILES);
        let before = site.rows();

        assert_eq!(site.sync(), (3, 0, 0));
        assert_eq!(site.sync(), (0, 0, 3));

        assert_eq!(site.read("src/app/page.tsx"), "export default 1;\n");
        assert_eq!(
            tree(&site.root()),
            [
                "package.json",
                "src",
                "src/app",
                "src/app/page.tsx",
                "src/lib.ts"
            ],
            "no temporary file is left behind"
        );
        assert_eq!(mode(&site.root()), 0o700);
        assert_eq!(mode(&site.at("src")), 0o755);
        assert_eq!(mode(&site.at("src/app")), 0o755);
        assert_eq!(mode(&site.at("package.json")), 0o644);
        // The manifest is kept outside the working copy.
        assert!(manifest_path(&site.data, "site").is_file());
        assert!(!manifest_path(&site.data, "site").starts_with(site.root()));
        assert_eq!(site.rows(), before, "the store is only read");
    }

    #[test]
    fn a_working_copy_of_another_workspace_row_starts_clean() {
        let site = Site::new(FILES);
        site.sync();
        fs::write(site.at("left-by-a-command"), "secret").unwrap();
        // The same name, another row: a workspace removed and made again.
        let other = sync(&site.store.conn, &site.data, site.id + 1000, "site").unwrap();
        assert_eq!(other.written, 0, "the other row has no files");
        assert!(!site.at("left-by-a-command").exists());
        assert!(!site.at("src/lib.ts").exists());
    }

    #[test]
    fn a_file_changed_in_the_store_is_the_only_one_written() {
        let site = Site::new(FILES);
        site.sync();
        let untouched = fs::metadata(site.at("src/lib.ts")).unwrap();
        site.put("src/app/page.tsx", "export default 2;\n");
        site.put("README.md", "# site\n");

        assert_eq!(site.sync(), (2, 0, 2));

        assert_eq!(site.read("src/app/page.tsx"), "export default 2;\n");
        assert_eq!(site.read("README.md"), "# site\n");
        let after = fs::metadata(site.at("src/lib.ts")).unwrap();
        assert_eq!(
            (after.ino(), after.mtime(), after.mtime_nsec()),
            (untouched.ino(), untouched.mtime(), untouched.mtime_nsec())
        );
        assert_eq!(site.sync(), (0, 0, 4));
    }

    #[test]
    fn deleted_files_go_with_the_empty_folders_the_sync_made() {
        let site = Site::new(&[("a/b/c.txt", "c"), ("a/d.txt", "d"), ("top.txt", "t")]);
        site.sync();
        // A folder a command made, which a store file then lands in.
        fs::create_dir_all(site.at("user")).unwrap();
        site.put("user/y.txt", "y");
        site.sync();

        site.delete("a/b/c.txt");
        site.delete("a/d.txt");
        site.delete("user/y.txt");
        assert_eq!(site.sync(), (0, 3, 1));

        assert_eq!(tree(&site.root()), ["top.txt", "user"]);
        // A file may become a folder and a folder a file.
        site.delete("top.txt");
        site.put("top.txt/inner.txt", "i");
        site.put("a", "now a file");
        assert_eq!(site.sync(), (2, 1, 0));
        assert_eq!(site.read("top.txt/inner.txt"), "i");
        assert_eq!(site.read("a"), "now a file");
        site.delete("top.txt/inner.txt");
        site.put("top.txt", "a file again");
        assert_eq!(site.sync(), (1, 1, 1));
        assert_eq!(tree(&site.root()), ["a", "top.txt", "user"]);
    }

    #[test]
    fn files_changed_on_disk_are_restored() {
        let site = Site::new(&[
            ("a.txt", "aaaa"),
            ("b.txt", "bbbb"),
            ("c.txt", "cccc"),
            ("d.txt", "dddd"),
            ("e.txt", "eeee"),
        ]);
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("secret");
        fs::write(&target, "keep").unwrap();
        site.sync();

        fs::write(site.at("a.txt"), "longer text").unwrap();
        // Same size, written at once: only the content tells.
        fs::write(site.at("b.txt"), "BBBB").unwrap();
        fs::remove_file(site.at("c.txt")).unwrap();
        fs::remove_file(site.at("d.txt")).unwrap();
        std::os::unix::fs::symlink(&target, site.at("d.txt")).unwrap();
        fs::set_permissions(site.at("e.txt"), fs::Permissions::from_mode(0o600)).unwrap();

        assert_eq!(site.sync(), (4, 0, 1));

        for (name, content) in [("a", "aaaa"), ("b", "bbbb"), ("c", "cccc"), ("d", "dddd")] {
            let path = format!("{name}.txt");
            assert_eq!(site.read(&path), content);
            assert!(fs::symlink_metadata(site.at(&path)).unwrap().is_file());
        }
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(site.sync(), (0, 0, 5));
    }

    #[test]
    fn what_commands_create_stays() {
        let site = Site::new(&[("package.json", "{}"), ("src/a.ts", "a"), ("src/b.ts", "b")]);
        site.sync();
        fs::create_dir_all(site.at("node_modules/x")).unwrap();
        fs::write(site.at("node_modules/x/index.js"), "module.exports = 1;").unwrap();
        fs::write(site.at("src/gen.js"), "generated").unwrap();

        site.delete("src/a.ts");
        site.delete("src/b.ts");
        site.put("package.json", "{\"name\": \"site\"}");
        assert_eq!(site.sync(), (1, 2, 0));

        assert_eq!(
            fs::read_to_string(site.at("node_modules/x/index.js")).unwrap(),
            "module.exports = 1;"
        );
        assert_eq!(site.read("src/gen.js"), "generated");
        assert!(
            files::content(&site.store.conn, site.id, "src/gen.js")
                .unwrap()
                .is_none(),
            "output is never read back into the store"
        );
        // Once the output is gone, the folder the sync made goes too.
        fs::remove_file(site.at("src/gen.js")).unwrap();
        site.put("src/c.ts", "c");
        site.sync();
        site.delete("src/c.ts");
        site.sync();
        assert_eq!(
            tree(&site.root()),
            [
                "node_modules",
                "node_modules/x",
                "node_modules/x/index.js",
                "package.json"
            ]
        );
    }

    #[test]
    fn a_planted_link_or_file_in_place_of_a_folder_is_refused() {
        let site = Site::new(&[("src/a.ts", "a"), ("lib/b.ts", "b")]);
        site.sync();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("a.ts"), "outside").unwrap();
        fs::remove_dir_all(site.at("src")).unwrap();
        std::os::unix::fs::symlink(outside.path(), site.at("src")).unwrap();

        // A write through the link, a removal through it, and even a file
        // that did not change are all refused.
        for change in [
            Box::new(|s: &Site| s.put("src/new.ts", "new")) as Box<dyn Fn(&Site)>,
            Box::new(|s: &Site| s.delete("src/a.ts")),
            Box::new(|_: &Site| {}),
        ] {
            change(&site);
            let err = site.try_sync().unwrap_err();
            let JobsError::WorkingCopy { path, source } = &err else {
                panic!("{err:?}");
            };
            assert_eq!(path, &site.at("src"));
            let message = source.to_string();
            assert!(message.contains("symbolic link"), "{message}");
            assert!(message.contains(&format!("rm -rf {}", site.root().display())));
        }
        assert_eq!(tree(outside.path()), ["a.ts"]);
        assert_eq!(
            fs::read_to_string(outside.path().join("a.ts")).unwrap(),
            "outside"
        );

        // A file where a folder must be is refused alike.
        fs::remove_file(site.at("src")).unwrap();
        fs::remove_dir_all(site.at("lib")).unwrap();
        fs::write(site.at("lib"), "not a folder").unwrap();
        let err = site.try_sync().unwrap_err();
        assert!(
            matches!(&err, JobsError::WorkingCopy { path, .. } if *path == site.at("lib")),
            "{err:?}"
        );
        assert!(err.to_string().contains("a file where a folder"), "{err}");
        assert_eq!(site.read("lib"), "not a folder");

        // Removing it, as the error says, lets the next sync through.
        fs::remove_file(site.at("lib")).unwrap();
        assert_eq!(site.sync(), (2, 0, 0));
    }

    #[test]
    fn a_folder_in_place_of_a_file_is_an_error_naming_it() {
        let site = Site::new(&[("a.txt", "a")]);
        site.sync();
        fs::remove_file(site.at("a.txt")).unwrap();
        fs::create_dir_all(site.at("a.txt/x")).unwrap();
        let err = site.try_sync().unwrap_err();
        assert!(
            matches!(&err, JobsError::WorkingCopy { path, .. } if *path == site.at("a.txt")),
            "{err:?}"
        );
        assert!(site.at("a.txt/x").is_dir());
    }

    /// Whether permissions stop this process (not so for root).
    fn permissions_apply(dir: &Path) -> bool {
        let probe = dir.join("probe");
        let blocked = fs::write(&probe, "x").is_err();
        let _ = fs::remove_file(probe);
        blocked
    }

    #[test]
    fn a_read_only_working_copy_is_an_error_and_the_next_sync_completes() {
        let site = Site::new(&[("a.txt", "a"), ("b.txt", "b")]);
        site.sync();
        site.put("a.txt", "changed");
        site.put("c.txt", "new");
        let before = site.rows();
        fs::set_permissions(site.root(), fs::Permissions::from_mode(0o500)).unwrap();
        if !permissions_apply(&site.root()) {
            eprintln!("skipped: permissions do not apply to this user");
            fs::set_permissions(site.root(), fs::Permissions::from_mode(0o700)).unwrap();
            return;
        }

        let err = site.try_sync().unwrap_err();

        fs::set_permissions(site.root(), fs::Permissions::from_mode(0o700)).unwrap();
        assert!(
            matches!(&err, JobsError::WorkingCopy { path, .. } if *path == site.at("a.txt")),
            "{err:?}"
        );
        assert_eq!(site.rows(), before, "the store was not changed");
        assert_eq!(site.read("a.txt"), "a");
        assert_eq!(site.sync(), (2, 0, 1));
        assert_eq!(site.read("a.txt"), "changed");
        assert_eq!(tree(&site.root()), ["a.txt", "b.txt", "c.txt"]);
    }

    #[test]
    fn a_lost_or_damaged_manifest_means_writing_everything_again() {
        let site = Site::new(FILES);
        site.sync();
        // As if the last sync had been cut short before its manifest.
        fs::remove_file(manifest_path(&site.data, "site")).unwrap();
        assert_eq!(site.sync(), (3, 0, 0));
        fs::write(manifest_path(&site.data, "site"), "{ not json").unwrap();
        assert_eq!(site.sync(), (3, 0, 0));
        assert_eq!(site.sync(), (0, 0, 3));
    }

    #[test]
    fn bad_workspace_names_are_refused() {
        let site = Site::new(FILES);
        for name in ["", ".", "..", "a/b", "../x", "a\0b"] {
            let err = sync(&site.store.conn, &site.data, site.id, name).unwrap_err();
            assert!(matches!(err, JobsError::BadInput(_)), "{name:?}: {err:?}");
        }
        assert!(!site.data.join(WORKCOPIES).exists());
    }

    #[test]
    fn a_store_path_that_could_escape_is_refused_before_anything_is_written() {
        let site = Site::new(FILES);
        for bad in ["../escape.txt", "/etc/x", "a//b.txt", "./c.txt"] {
            site.put(bad, "x");
            let err = site.try_sync().unwrap_err();
            assert!(
                matches!(&err, JobsError::BadInput(m) if m.contains(bad)),
                "{err:?}"
            );
            site.delete(bad);
        }
        assert!(!site.data.join(WORKCOPIES).join("escape.txt").exists());
        assert!(!site.root().exists());
    }
}
