//! What goes into the baseline: the source walked and classified as
//! `import` classifies it, every file's blob written into one pack, the
//! index and its trees, `handoff.json`; and, for a folder taken over where
//! it is, the secrets the scan kept out excluded from a later `git add`.

use std::path::PathBuf;

use git2::{Index, IndexEntry, IndexTime, Oid, Repository};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::HANDOFF_FILE;
use super::error::{TakeoverError, git_err};
use super::local::Local;
use super::plan::Origin;
use crate::config::Config;
use crate::git::pack::BlobPack;
use crate::store::files::FileMeta;
use crate::store::workspaces::SkippedEntry;
use crate::store::{self, StoreError};
use crate::workspace::ImportError;
use crate::workspace::import::{Fingerprint, Verdict, walk_classified};
use crate::workspace::path::WorkspacePath;
use crate::workspace::secrets::SecretScanner;

/// One entry of what is taken over, after the importer's classification.
pub(super) enum Item {
    File {
        path: String,
        text: String,
        hash: String,
        meta: FileMeta,
    },
    Skipped(SkippedEntry),
    Ignored,
}

/// Calls `each` for every entry of the source, classified as `import`
/// classifies it, plus the two rules git adds: `handoff.json` at the root
/// is the takeover's own, and no path may enter a `.git` folder.
pub(super) fn walk_items(
    conn: &rusqlite::Connection,
    config: &Config,
    origin: &Origin,
    respect_gitignore: bool,
    each: &mut dyn FnMut(Item) -> Result<(), TakeoverError>,
) -> Result<(), TakeoverError> {
    let mut route = |item: Item| -> Result<(), TakeoverError> {
        if let Item::File { path, text, .. } = &item {
            let reason = if path == HANDOFF_FILE {
                Some("reserved-name")
            } else if path.split('/').any(|c| c.eq_ignore_ascii_case(".git")) {
                Some("unsafe-name")
            } else {
                None
            };
            if let Some(reason) = reason {
                return each(Item::Skipped(SkippedEntry::new(
                    path.clone(),
                    reason,
                    Some(text.len() as u64),
                    None,
                )));
            }
        }
        each(item)
    };
    match origin {
        Origin::Path(source) => {
            // The importer's walk speaks ImportError; an error of ours is
            // kept aside and the walk stopped with a placeholder.
            let mut ours = None;
            let walked = walk_classified(config, source, respect_gitignore, &mut |verdict| {
                let item = match verdict {
                    Verdict::Import {
                        path,
                        text,
                        hash,
                        meta,
                    } => Item::File {
                        path: path.to_string(),
                        text,
                        hash,
                        meta,
                    },
                    Verdict::Skip(entry) => Item::Skipped(entry),
                    Verdict::Ignored(_) => Item::Ignored,
                };
                match route(item) {
                    Ok(()) => Ok(()),
                    Err(TakeoverError::Import(e)) => Err(e),
                    Err(e) => {
                        ours = Some(e);
                        Err(ImportError::NoTextFiles {
                            source_path: String::new(),
                        })
                    }
                }
            });
            if let Some(e) = ours {
                return Err(e);
            }
            walked?;
        }
        Origin::Workspace(ws) => {
            // The stored files passed the secret scan when imported, but
            // may have been edited since: scan them again.
            let scanner = SecretScanner::new();
            let mut secrets = Vec::new();
            let walked = store::files::for_each(conn, ws.id, |path, content, meta| {
                let rule = WorkspacePath::parse(path)
                    .ok()
                    .and_then(|p| scanner.scan(&p, content));
                if let Some(rule) = rule {
                    secrets.push(format!("{path} ({rule})"));
                    return Ok(());
                }
                let item = Item::File {
                    path: path.to_string(),
                    text: content.to_string(),
                    hash: hex::encode(Sha256::digest(content.as_bytes())),
                    meta: meta.clone(),
                };
                route(item).map_err(|e| Box::new(e) as BoxError)
            });
            walked.map_err(unbox)?;
            if !secrets.is_empty() {
                return Err(TakeoverError::SecretInWorkspace {
                    name: ws.name.clone(),
                    paths: secrets.join(", "),
                });
            }
            for entry in store::workspaces::skipped(conn, ws.id)? {
                route(Item::Skipped(entry))?;
            }
            for _ in 0..ws.ignored {
                route(Item::Ignored)?;
            }
        }
    }
    Ok(())
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Our error back out of the store's row callback.
fn unbox(e: BoxError) -> TakeoverError {
    match e.downcast::<TakeoverError>() {
        Ok(e) => *e,
        Err(e) => match e.downcast::<rusqlite::Error>() {
            Ok(e) => TakeoverError::Store(StoreError::Sqlite(*e)),
            Err(e) => TakeoverError::Store(StoreError::Open {
                path: PathBuf::from(store::DB_FILE),
                reason: e.to_string(),
                source: e,
            }),
        },
    }
}

/// What the walk put into the repository's object store.
pub(super) struct Built {
    /// The imported files alone.
    pub(super) files_tree: Oid,
    /// With `handoff.json`: the baseline commit's tree.
    pub(super) tree: Oid,
    pub(super) files_count: u64,
    pub(super) bytes: u64,
    pub(super) skipped: Vec<SkippedEntry>,
    pub(super) ignored: u64,
    pub(super) fingerprint: String,
}

/// `handoff.json`, keys in this order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Handoff<'a> {
    workspace: &'a str,
    source: &'a str,
    taken_over_at: &'a str,
    branch: &'a str,
    tag: &'a str,
    files_count: u64,
    bytes: u64,
    skipped: Vec<HandoffSkip<'a>>,
}

#[derive(Serialize)]
struct HandoffSkip<'a> {
    path: &'a str,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
}

fn index_entry(path: &str, id: Oid, size: usize, executable: bool) -> IndexEntry {
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: if executable { 0o100755 } else { 0o100644 },
        uid: 0,
        gid: 0,
        file_size: u32::try_from(size).unwrap_or(u32::MAX),
        id,
        flags: 0,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

impl Local<'_> {
    pub(super) fn build(&self, repo: &Repository) -> Result<Built, TakeoverError> {
        let path = self.path().to_path_buf();
        let mut index = Index::new().map_err(git_err("start an index", &path))?;
        // Every blob goes into one pack: one file instead of one per blob.
        let mut pack = BlobPack::new(repo.path()).map_err(|e| TakeoverError::Io {
            path: repo.path().to_path_buf(),
            source: e,
        })?;
        let mut fingerprint = Fingerprint::default();
        let mut skipped = Vec::new();
        let (mut files_count, mut bytes, mut ignored) = (0u64, 0u64, 0u64);
        let limit = self.config.limits.max_workspace_bytes;
        walk_items(
            &self.store.conn,
            self.config,
            &self.plan.origin,
            self.request.respect_gitignore,
            &mut |item| {
                match item {
                    Item::File {
                        path: file,
                        text,
                        hash,
                        meta,
                    } => {
                        bytes += text.len() as u64;
                        if bytes > limit {
                            return Err(ImportError::WorkspaceTooLarge {
                                name: self.plan.name.clone(),
                                limit,
                            }
                            .into());
                        }
                        // The blob holds the bytes the file came in.
                        let blob = meta.bytes(&text).map_err(|e| TakeoverError::Io {
                            path: path.join(&file),
                            source: std::io::Error::other(e.to_string()),
                        })?;
                        let id = pack.add_blob(&blob).map_err(|e| TakeoverError::Io {
                            path: path.join(&file),
                            source: std::io::Error::other(e.to_string()),
                        })?;
                        index
                            .add(&index_entry(&file, id, blob.len(), meta.executable))
                            .map_err(git_err(format!("add {file}"), &path))?;
                        fingerprint.file(&file, &hash, &meta);
                        files_count += 1;
                    }
                    Item::Skipped(entry) => {
                        fingerprint.skipped(&entry.path, &entry.reason);
                        skipped.push(entry);
                    }
                    Item::Ignored => ignored += 1,
                }
                Ok(())
            },
        )?;
        if files_count == 0 {
            return Err(ImportError::NoTextFiles {
                source_path: self.plan.source_display.clone(),
            }
            .into());
        }
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        // The trees refer to the blobs: the pack is stored first.
        pack.finish(repo).map_err(|e| TakeoverError::Io {
            path: repo.path().to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let files_tree = index
            .write_tree_to(repo)
            .map_err(git_err("write the tree", &path))?;
        let handoff = Handoff {
            workspace: &self.plan.name,
            source: &self.plan.source_display,
            taken_over_at: &self.row.started_at,
            branch: &self.row.branch,
            tag: &self.row.tag,
            files_count,
            bytes,
            skipped: skipped
                .iter()
                .map(|s| HandoffSkip {
                    path: &s.path,
                    reason: &s.reason,
                    rule: s.rule.as_deref(),
                })
                .collect(),
        };
        let mut json = serde_json::to_string_pretty(&handoff).map_err(|e| TakeoverError::Io {
            path: PathBuf::from(HANDOFF_FILE),
            source: e.into(),
        })?;
        json.push('\n');
        let id = repo
            .blob(json.as_bytes())
            .map_err(git_err("store handoff.json", &path))?;
        index
            .add(&index_entry(HANDOFF_FILE, id, json.len(), false))
            .map_err(git_err("add handoff.json", &path))?;
        let tree = index
            .write_tree_to(repo)
            .map_err(git_err("write the tree", &path))?;
        Ok(Built {
            files_tree,
            tree,
            files_count,
            bytes,
            skipped,
            ignored,
            fingerprint: fingerprint.finish(),
        })
    }

    /// In a folder taken over where it is, the secrets the scan kept out
    /// are still on disk: keep a later `git add -A` from committing them.
    pub(super) fn exclude_secrets(
        &self,
        repo: &Repository,
        built: &Built,
    ) -> Result<(), TakeoverError> {
        let secrets: Vec<&str> = built
            .skipped
            .iter()
            .filter(|s| s.reason == "secret")
            .map(|s| s.path.as_str())
            .collect();
        if secrets.is_empty() {
            return Ok(());
        }
        let file = repo.path().join("info").join("exclude");
        let io = |e| TakeoverError::Io {
            path: file.clone(),
            source: e,
        };
        let mut text = std::fs::read_to_string(&file).unwrap_or_default();
        let mut added = false;
        for secret in secrets {
            // Anchored and escaped so the pattern names that one file.
            let pattern = format!("/{}", glob_escape(secret));
            if !text.lines().any(|l| l == pattern) {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                if !added {
                    text.push_str("# files kollega's secret scan kept out of the takeover\n");
                    added = true;
                }
                text.push_str(&pattern);
                text.push('\n');
            }
        }
        if added {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            std::fs::write(&file, text).map_err(io)?;
        }
        Ok(())
    }
}

fn glob_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | '\\' | '!' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
