//! Takeover import: a folder or ZIP export into a SQLite workspace.
//!
//! The import stages its files under a workspace row in state `importing`,
//! committing a batch at a time, then publishes the row in one transaction.
//! Killed at any point, the same command resumes the staged row: files
//! already staged with the same hash are not written again. Any error
//! removes the staged row, so a failed import stores nothing.

use std::collections::HashMap;
use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::path::WorkspacePath;
use super::secrets::SecretScanner;
use super::source::{Entry, Source};
use super::{ImportError, ImportStatus, Report};
use crate::config::Config;
use crate::store::encoding;
use crate::store::files::FileMeta;
use crate::store::ignored::IgnoredEntry;
use crate::store::workspaces::{Publish, SkippedEntry};
use crate::store::{self, Store, now_rfc3339};

/// How `kollega import` was asked to behave.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub name: Option<String>,
    pub replace: bool,
    pub respect_gitignore: bool,
}

/// Progress as numbers, for a bar or a pane: files looked at so far.
pub trait ImportProgress {
    fn entry(&mut self, _path: &str) {}
}

impl ImportProgress for () {}

/// Staged bytes per transaction besides the file count in the config.
const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Imports `source` into the store and reports what was taken and skipped.
pub fn import(
    store: &mut Store,
    config: &Config,
    source_path: &Path,
    options: &ImportOptions,
    progress: &mut dyn ImportProgress,
) -> Result<Report, ImportError> {
    let source = Source::open(source_path)?;
    let source_str = source_path
        .canonicalize()
        .unwrap_or_else(|_| source_path.to_path_buf())
        .to_string_lossy()
        .into_owned();
    let name = match &options.name {
        Some(name) => validate_name(name)?,
        None => validate_name(&default_name(source_path))?,
    };
    let span = tracing::info_span!("import", workspace = %name);
    let _enter = span.enter();
    source.validate(&config.limits)?;
    let classifier = Classifier::new(config, &source, options.respect_gitignore)?;

    if let Some(existing) = store::workspaces::find(&store.conn, &name)? {
        if !options.replace {
            if existing.source != source_str {
                return Err(ImportError::Exists {
                    name,
                    why: format!("from another source ({})", existing.source),
                });
            }
            let scanned = scan_fingerprint(&source, config, &classifier)?;
            if scanned != existing.fingerprint {
                return Err(ImportError::Exists {
                    name,
                    why: "and its source has changed since".into(),
                });
            }
            let skipped = store::workspaces::skipped(&store.conn, existing.id)?;
            let mut report = Report::new(&existing, skipped);
            report.ignored_paths = Some(store::ignored::list(&store.conn, existing.id)?);
            report.status = Some(ImportStatus::AlreadyImported);
            tracing::info!("already imported");
            return Ok(report);
        }
    } else {
        let count = store::workspaces::count(&store.conn)?;
        if count >= config.limits.max_workspaces {
            return Err(ImportError::TooManyWorkspaces {
                count,
                limit: config.limits.max_workspaces,
            });
        }
    }

    let (staging_id, resumed) = claim_staging(&store.conn, &name, &source_str)?;
    let staged = Staged {
        conn: &store.conn,
        id: staging_id,
    };
    match stage_and_publish(
        &staged,
        config,
        &source,
        &classifier,
        &name,
        options,
        progress,
    ) {
        Ok(mut report) => {
            report.status = Some(if resumed {
                ImportStatus::Resumed
            } else {
                ImportStatus::Imported
            });
            Ok(report)
        }
        Err(e) => {
            // Leave nothing behind: the staged row goes with its files.
            let _ = store.conn.execute_batch("ROLLBACK");
            if let Err(cleanup) = store::workspaces::delete(&store.conn, staging_id) {
                tracing::warn!(error = %cleanup, "could not remove a failed import's staging");
            }
            tracing::warn!(error = %e, "import failed");
            Err(e)
        }
    }
}

struct Staged<'a> {
    conn: &'a Connection,
    id: i64,
}

/// Takes over the staging row of `name`: resumes it when it is for the
/// same source and its importer is gone, else starts afresh.
fn claim_staging(conn: &Connection, name: &str, source: &str) -> Result<(i64, bool), ImportError> {
    let pid = std::process::id();
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        if let Some(staging) = store::workspaces::find_staging(conn, name)? {
            if let Some(holder) = staging.importer_pid
                && holder != i64::from(pid)
                && crate::store::locks::pid_alive(holder)
            {
                return Err(ImportError::Running {
                    name: name.to_string(),
                    pid: holder,
                });
            }
            if staging.source == source {
                store::workspaces::claim_staging(conn, staging.id, pid)?;
                return Ok((staging.id, true));
            }
            store::workspaces::delete(conn, staging.id)?;
        }
        let id = store::workspaces::create_staging(conn, name, source, pid, &now_rfc3339())?;
        Ok((id, false))
    })();
    match result {
        Ok(v) => {
            conn.execute_batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn stage_and_publish(
    staged: &Staged<'_>,
    config: &Config,
    source: &Source,
    classifier: &Classifier,
    name: &str,
    options: &ImportOptions,
    progress: &mut dyn ImportProgress,
) -> Result<Report, ImportError> {
    let conn = staged.conn;
    let mut already: HashMap<String, String> = store::files::hashes(conn, staged.id)?;
    let now = now_rfc3339();
    let mut fingerprint = Fingerprint::default();
    let mut skipped = Vec::new();
    let mut ignored = 0u64;
    let mut total_bytes = 0u64;
    let mut in_batch = (0usize, 0usize);

    conn.execute_batch("BEGIN IMMEDIATE")?;
    store::workspaces::clear_skipped(conn, staged.id)?;
    store::ignored::clear(conn, staged.id)?;
    source.walk(&config.limits, &config.ignored, &mut |entry| {
        let verdict = classifier.classify(entry);
        match verdict {
            Verdict::Import {
                path,
                text,
                hash,
                meta,
            } => {
                progress.entry(path.as_str());
                total_bytes += text.len() as u64;
                if total_bytes > config.limits.max_workspace_bytes {
                    return Err(ImportError::WorkspaceTooLarge {
                        name: name.to_string(),
                        limit: config.limits.max_workspace_bytes,
                    });
                }
                fingerprint.file(path.as_str(), &hash, &meta);
                if already.remove(path.as_str()).as_deref() != Some(hash.as_str()) {
                    store::files::upsert(
                        conn,
                        staged.id,
                        path.as_str(),
                        &text,
                        &hash,
                        &meta,
                        &now,
                    )?;
                    in_batch.0 += 1;
                    in_batch.1 += text.len();
                }
                if in_batch.0 >= config.import_batch_files || in_batch.1 >= BATCH_BYTES {
                    conn.execute_batch("COMMIT; BEGIN IMMEDIATE")?;
                    in_batch = (0, 0);
                }
            }
            Verdict::Skip(entry) => {
                progress.entry(&entry.path);
                fingerprint.skipped(&entry.path, &entry.reason);
                tracing::debug!(
                    path = %entry.path,
                    reason = %entry.reason,
                    rule = entry.rule.as_deref(),
                    "skipped"
                );
                store::workspaces::insert_skipped(conn, staged.id, &entry)?;
                skipped.push(entry);
            }
            Verdict::Ignored(entry) => {
                ignored += 1;
                store::ignored::insert(conn, staged.id, &entry)?;
            }
        }
        Ok(())
    })?;
    // Files staged by an earlier run that the source no longer has.
    for gone in already.keys() {
        store::files::delete(conn, staged.id, gone)?;
    }
    conn.execute_batch("COMMIT")?;

    let files = store::files::hashes(conn, staged.id)?.len();
    if files == 0 {
        return Err(ImportError::NoTextFiles {
            source_path: match source {
                Source::Dir(p) | Source::Zip(p) => p.display().to_string(),
            },
        });
    }

    let taken_over_at = now_rfc3339();
    let fingerprint = fingerprint.finish();
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let previous = store::workspaces::find(conn, name)?;
    if let Some(previous) = &previous {
        if !options.replace {
            return Err(ImportError::Exists {
                name: name.to_string(),
                why: "(another import finished first)".into(),
            });
        }
        store::workspaces::delete(conn, previous.id)?;
    }
    let count = store::workspaces::count(conn)?;
    if count >= config.limits.max_workspaces {
        return Err(ImportError::TooManyWorkspaces {
            count,
            limit: config.limits.max_workspaces,
        });
    }
    let published = store::workspaces::publish(
        conn,
        &Publish {
            staging_id: staged.id,
            fingerprint: &fingerprint,
            taken_over_at: &taken_over_at,
            ignored,
        },
    )?;
    if !published {
        return Err(ImportError::Exists {
            name: name.to_string(),
            why: "(another import finished first)".into(),
        });
    }
    let workspace = store::workspaces::find(conn, name)?.ok_or_else(|| ImportError::Exists {
        name: name.to_string(),
        why: "(it vanished while being published)".into(),
    })?;
    store::audit::record(
        conn,
        if previous.is_some() {
            "replace"
        } else {
            "import"
        },
        Some(name),
        &serde_json::json!({
            "source": workspace.source,
            "files": workspace.files_count,
            "bytes": workspace.bytes,
            "skipped": skipped.len(),
        }),
    )?;
    conn.execute_batch("COMMIT")?;
    tracing::info!(
        files = workspace.files_count,
        bytes = workspace.bytes,
        skipped = skipped.len(),
        "imported"
    );
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    let mut report = Report::new(&workspace, skipped);
    report.ignored_paths = Some(store::ignored::list(conn, workspace.id)?);
    Ok(report)
}

/// Reads the whole source to compute its fingerprint without storing anything.
fn scan_fingerprint(
    source: &Source,
    config: &Config,
    classifier: &Classifier,
) -> Result<String, ImportError> {
    let mut fingerprint = Fingerprint::default();
    source.walk(&config.limits, &config.ignored, &mut |entry| {
        match classifier.classify(entry) {
            Verdict::Import {
                path, hash, meta, ..
            } => fingerprint.file(path.as_str(), &hash, &meta),
            Verdict::Skip(entry) => fingerprint.skipped(&entry.path, &entry.reason),
            Verdict::Ignored(_) => {}
        }
        Ok(())
    })?;
    Ok(fingerprint.finish())
}

/// Walks `source` and classifies each entry exactly as `import` does (ignore
/// list, limits, binary check, secret scan, and the source's `.gitignore`
/// when asked), for a takeover that stores the files somewhere else.
pub(crate) fn walk_classified(
    config: &Config,
    source: &Source,
    respect_gitignore: bool,
    each: &mut dyn FnMut(Verdict) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let classifier = Classifier::new(config, source, respect_gitignore)?;
    source.walk(&config.limits, &config.ignored, &mut |entry| {
        each(classifier.classify(entry))
    })
}

/// A hash of what an import takes and skips, independent of walk order.
#[derive(Default)]
pub(crate) struct Fingerprint {
    lines: Vec<String>,
}

impl Fingerprint {
    /// A file taken; its executable bit and a non-UTF-8 encoding count
    /// (and leave the line of a plain UTF-8 file as it always was).
    pub(crate) fn file(&mut self, path: &str, hash: &str, meta: &FileMeta) {
        let mut line = format!("F\t{path}\t{hash}");
        if meta.executable {
            line.push_str("\tx");
        }
        if let Some(encoding) = &meta.encoding {
            line.push('\t');
            line.push_str(encoding);
        }
        self.lines.push(line);
    }

    pub(crate) fn skipped(&mut self, path: &str, reason: &str) {
        self.lines.push(format!("S\t{path}\t{reason}"));
    }

    pub(crate) fn finish(mut self) -> String {
        self.lines.sort_unstable();
        let mut hasher = Sha256::new();
        for line in &self.lines {
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
        }
        hex::encode(hasher.finalize())
    }
}

/// What happens to one source entry.
pub(crate) enum Verdict {
    Import {
        path: WorkspacePath,
        text: String,
        hash: String,
        meta: FileMeta,
    },
    Skip(SkippedEntry),
    Ignored(IgnoredEntry),
}

/// Decides what happens to each entry: binary, secret (before any ignore
/// rule), git-ignored when asked, else imported.
struct Classifier {
    secrets: SecretScanner,
    gitignores: Vec<Gitignore>,
}

impl Classifier {
    fn new(
        config: &Config,
        source: &Source,
        respect_gitignore: bool,
    ) -> Result<Classifier, ImportError> {
        let mut gitignores = Vec::new();
        if respect_gitignore {
            for (dir, text) in source.gitignores(&config.ignored)? {
                // Match against a virtual root so folders and ZIPs behave alike.
                let mut builder = GitignoreBuilder::new(format!("/{dir}"));
                for line in text.lines() {
                    let _ = builder.add_line(None, line);
                }
                if let Ok(matcher) = builder.build() {
                    gitignores.push(matcher);
                }
            }
            // Deepest folder first, as git applies them.
            gitignores.sort_by_key(|g| std::cmp::Reverse(g.path().as_os_str().len()));
        }
        Ok(Classifier {
            secrets: SecretScanner::new(),
            gitignores,
        })
    }

    fn classify(&self, entry: Entry) -> Verdict {
        let skip = |path: String, reason: &str, size: Option<u64>| {
            Verdict::Skip(SkippedEntry::new(path, reason, size, None))
        };
        match entry {
            Entry::Ignored { path, rule } => {
                tracing::debug!(%path, %rule, "ignored");
                Verdict::Ignored(IgnoredEntry { path, rule })
            }
            Entry::Unusable { path, reason, size } => skip(path, reason, size),
            Entry::TooLarge { path, size } => skip(path.to_string(), "too-large", Some(size)),
            Entry::File {
                path,
                bytes,
                executable,
            } => {
                let size = Some(bytes.len() as u64);
                let Some((text, encoding)) = encoding::decode(bytes) else {
                    return skip(path.to_string(), "binary", size);
                };
                let meta = FileMeta {
                    executable,
                    encoding: encoding.map(str::to_string),
                };
                if let Some(rule) = self.secrets.scan(&path, &text) {
                    return Verdict::Skip(SkippedEntry::new(
                        path.to_string(),
                        "secret",
                        size,
                        Some(rule.to_string()),
                    ));
                }
                if let Some(rule) = self.gitignore_rule(&path) {
                    return Verdict::Ignored(IgnoredEntry {
                        path: path.to_string(),
                        rule,
                    });
                }
                let hash = hex::encode(Sha256::digest(text.as_bytes()));
                Verdict::Import {
                    path,
                    text,
                    hash,
                    meta,
                }
            }
        }
    }

    /// The `.gitignore` line that ignores `path`, as `<folder>/.gitignore:
    /// <line>`, if one does.
    fn gitignore_rule(&self, path: &WorkspacePath) -> Option<String> {
        let absolute = format!("/{path}");
        for matcher in &self.gitignores {
            if !absolute.starts_with(&format!("{}/", matcher.path().display()).replace("//", "/")) {
                continue;
            }
            match matcher.matched_path_or_any_parents(&absolute, false) {
                ignore::Match::Ignore(glob) => {
                    let folder = matcher.path().display().to_string();
                    let file = format!("{}/.gitignore", folder.trim_start_matches('/'));
                    let file = file.trim_start_matches('/');
                    return Some(format!("{file}: {}", glob.original()));
                }
                ignore::Match::Whitelist(_) => return None,
                ignore::Match::None => {}
            }
        }
        None
    }
}

/// The workspace name a source gets without `--name`: its folder name or
/// ZIP file stem, reduced to safe characters.
pub(crate) fn default_name(source: &Path) -> String {
    let base = source
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "workspace".into());
    let base = base.strip_suffix(".zip").unwrap_or(&base);
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = cleaned
        .trim_start_matches(['.', '-'])
        .chars()
        .take(64)
        .collect::<String>();
    if trimmed.is_empty() {
        "workspace".into()
    } else {
        trimmed
    }
}

pub(crate) fn validate_name(name: &str) -> Result<String, ImportError> {
    let bad = |why| ImportError::BadName {
        name: name.to_string(),
        why,
    };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name.chars().count() > 64 {
        return Err(bad("it is longer than 64 characters"));
    }
    if name.starts_with(['.', '-']) {
        return Err(bad("it starts with '.' or '-'"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(bad(
            "it has characters other than letters, digits, '.', '_' and '-'",
        ));
    }
    Ok(name.to_string())
}
