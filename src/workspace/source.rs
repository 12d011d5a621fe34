//! Import sources: a directory tree or a ZIP archive, read one entry at a
//! time so an import never holds the tree in memory.
//!
//! A source yields [`Entry`] values in a stable order. Folders and files named
//! in the ignore list are pruned here (reported once, where they were cut);
//! what to do with each file (binary, secret, git-ignored) is the importer's
//! decision.

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::ImportError;
use super::ignore_rules::IgnoreRules;
use super::path::WorkspacePath;
use crate::config::Limits;

/// One entry of a source, in walk order.
pub(crate) enum Entry {
    /// A regular file (or a link to one inside the tree) within the size limit.
    File {
        path: WorkspacePath,
        bytes: Vec<u8>,
        /// Any of its unix x bits is set (a ZIP entry's from its unix mode).
        executable: bool,
    },
    /// A file over the size limit; its content was not read.
    TooLarge { path: WorkspacePath, size: u64 },
    /// Something that is not a file kollega can take, with the reason.
    Unusable {
        path: String,
        reason: &'static str,
        size: Option<u64>,
    },
    /// A folder or file pruned by the ignore rules, with the rule.
    Ignored { path: String, rule: String },
}

pub(crate) enum Source {
    Dir(PathBuf),
    Zip(PathBuf),
}

impl Source {
    /// Opens `path` as a directory or, by content, a ZIP file.
    pub(crate) fn open(path: &Path) -> Result<Source, ImportError> {
        let meta = std::fs::metadata(path).map_err(|e| ImportError::SourceUnreadable {
            path: path.to_path_buf(),
            source: e,
        })?;
        if meta.is_dir() {
            return Ok(Source::Dir(path.to_path_buf()));
        }
        let mut magic = [0u8; 4];
        let looks_like_zip = File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
            && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06");
        if looks_like_zip {
            Ok(Source::Zip(path.to_path_buf()))
        } else {
            Err(ImportError::NotASource {
                path: path.to_path_buf(),
            })
        }
    }

    /// The `.gitignore` files of the source as (folder, text), folder "" for
    /// the root. Pruned folders are not searched.
    pub(crate) fn gitignores(
        &self,
        ignored: &[String],
    ) -> Result<Vec<(String, String)>, ImportError> {
        let mut found = Vec::new();
        let rules = IgnoreRules::new(ignored);
        match self {
            Source::Dir(root) => {
                for entry in walker(root, ignored) {
                    let Ok(entry) = entry else { continue };
                    if entry.file_type().is_file() && entry.file_name() == ".gitignore" {
                        let Some(rel) = relative(root, entry.path()) else {
                            continue;
                        };
                        let dir = rel
                            .rsplit_once('/')
                            .map(|(d, _)| d.to_string())
                            .unwrap_or_default();
                        if let Ok(text) = std::fs::read_to_string(entry.path()) {
                            found.push((dir, text));
                        }
                    }
                }
            }
            Source::Zip(path) => {
                let mut archive = open_zip(path)?;
                for i in 0..archive.len() {
                    let Ok(mut file) = archive.by_index(i) else {
                        continue;
                    };
                    let Ok(name) = WorkspacePath::parse_bytes(file.name_raw()) else {
                        continue;
                    };
                    if name.file_name() == ".gitignore" && rules.cut(name.as_str()).is_none() {
                        let mut text = String::new();
                        if (&mut file).take(1 << 20).read_to_string(&mut text).is_ok() {
                            let dir = name.as_str().rsplit_once('/').map(|(d, _)| d.to_string());
                            found.push((dir.unwrap_or_default(), text));
                        }
                    }
                }
            }
        }
        Ok(found)
    }

    /// Calls `each` for every entry, in a stable order.
    pub(crate) fn walk(
        &self,
        limits: &Limits,
        ignored: &[String],
        each: &mut dyn FnMut(Entry) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        match self {
            Source::Dir(root) => walk_dir(root, limits, ignored, each),
            Source::Zip(path) => walk_zip(path, limits, ignored, each),
        }
    }

    /// The entries a walk meets (files and links; not the folders, nor what
    /// `ignored` prunes), from their names only: what an import's progress
    /// counts against.
    pub(crate) fn entry_count(&self, ignored: &[String]) -> Result<u64, ImportError> {
        match self {
            Source::Dir(root) => Ok(walker(root, ignored)
                .filter_map(Result::ok)
                .filter(|e| e.depth() > 0 && !e.file_type().is_dir())
                .count() as u64),
            Source::Zip(path) => {
                let mut archive = open_zip(path)?;
                let count = (0..archive.len())
                    .filter(|&i| archive.by_index_raw(i).is_ok_and(|e| !e.is_dir()))
                    .count();
                Ok(count as u64)
            }
        }
    }

    /// Checks a ZIP archive's directory before anything is read or stored:
    /// entry count, declared sizes and ratios, and that no entry escapes.
    pub(crate) fn validate(&self, limits: &Limits) -> Result<(), ImportError> {
        let Source::Zip(path) = self else {
            return Ok(());
        };
        let mut archive = open_zip(path)?;
        if archive.has_duplicate_names() {
            // The reader keeps one entry per name (the last); `unzip` takes
            // the first: which content is meant is ambiguous.
            let entry = duplicate_entry_name(path, archive.central_directory_start())
                .unwrap_or_else(|| "an entry".to_string());
            return Err(ImportError::ZipEscape {
                entry,
                why: "appears twice in the archive".into(),
            });
        }
        let count = archive.len() as u64;
        if count > limits.max_zip_entries {
            return Err(ImportError::ZipTooManyEntries {
                count,
                limit: limits.max_zip_entries,
            });
        }
        let mut total: u64 = 0;
        let mut files = HashSet::new();
        let mut dirs = BTreeSet::new();
        for i in 0..archive.len() {
            let entry = archive.by_index_raw(i).map_err(|e| bad_zip(path, e))?;
            let raw_name = String::from_utf8_lossy(entry.name_raw()).into_owned();
            let escape = |why: String| ImportError::ZipEscape {
                entry: raw_name.clone(),
                why,
            };
            let name =
                WorkspacePath::parse_bytes(entry.name_raw()).map_err(|e| escape(e.to_string()));
            let name = match name {
                Ok(name) => name,
                // A bare "./" or "/" folder entry names the archive root.
                Err(_) if entry.is_dir() && raw_name.trim_matches(['/', '.', '\\']).is_empty() => {
                    continue;
                }
                Err(e) => return Err(e),
            };
            if is_symlink(entry.unix_mode()) {
                // The target is checked when the entry is read; a link is
                // never followed out of the archive.
                continue;
            }
            let size = entry.size();
            total = total.saturating_add(size);
            if total > limits.max_zip_bytes {
                return Err(ImportError::ZipTooLarge {
                    bytes: total,
                    limit: limits.max_zip_bytes,
                });
            }
            let packed = entry.compressed_size().max(1);
            if size >= 64 * 1024 && size / packed > limits.max_zip_ratio {
                return Err(ImportError::ZipRatio {
                    entry: raw_name,
                    ratio: size / packed,
                    limit: limits.max_zip_ratio,
                });
            }
            if entry.is_dir() {
                dirs.insert(name.as_str().to_string());
                continue;
            }
            if !files.insert(name.as_str().to_string()) {
                return Err(escape("appears twice in the archive".into()));
            }
            for ancestor in name.ancestors() {
                dirs.insert(ancestor.to_string());
            }
        }
        if let Some(clash) = files.iter().find(|f| dirs.contains(f.as_str())) {
            return Err(ImportError::ZipEscape {
                entry: clash.clone(),
                why: "is both a file and a folder in the archive".into(),
            });
        }
        Ok(())
    }
}

fn walker(
    root: &Path,
    ignored: &[String],
) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> {
    let rules = IgnoreRules::new(ignored);
    let base = root.to_path_buf();
    walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| {
            e.depth() == 0
                || relative(&base, e.path())
                    .is_none_or(|rel| rules.rule_for(&rel, e.file_type().is_dir()).is_none())
        })
}

fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts = rel
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<Vec<_>>>()?;
    Some(parts.join("/"))
}

fn walk_dir(
    root: &Path,
    limits: &Limits,
    ignored: &[String],
    each: &mut dyn FnMut(Entry) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let canonical_root = root
        .canonicalize()
        .map_err(|e| ImportError::SourceUnreadable {
            path: root.to_path_buf(),
            source: e,
        })?;
    let rules = IgnoreRules::new(ignored);
    let mut it = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                // A folder that cannot be listed is skipped, not fatal; the
                // source itself or a loop is.
                let rel = e
                    .path()
                    .and_then(|p| p.strip_prefix(root).ok())
                    .map(|p| p.to_string_lossy().into_owned())
                    .filter(|p| !p.is_empty());
                match rel {
                    Some(rel) if e.loop_ancestor().is_none() => {
                        each(Entry::Unusable {
                            path: rel,
                            reason: "unreadable",
                            size: None,
                        })?;
                        continue;
                    }
                    _ => {
                        return Err(ImportError::SourceUnreadable {
                            path: e
                                .path()
                                .map(Path::to_path_buf)
                                .unwrap_or_else(|| root.to_path_buf()),
                            source: e
                                .into_io_error()
                                .unwrap_or_else(|| std::io::Error::other("filesystem loop")),
                        });
                    }
                }
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        let rel_lossy = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .into_owned();
        if let Some(rule) = rules.rule_for(&rel_lossy, entry.file_type().is_dir()) {
            if entry.file_type().is_dir() {
                it.skip_current_dir();
            }
            each(Entry::Ignored {
                path: rel_lossy,
                rule,
            })?;
            continue;
        }
        let name_ok = entry
            .file_name()
            .to_str()
            .is_some_and(|n| !n.contains('\\'));
        let path = relative(root, entry.path())
            .filter(|_| name_ok)
            .and_then(|r| WorkspacePath::parse(&r).ok());
        let Some(path) = path else {
            if entry.file_type().is_dir() {
                it.skip_current_dir();
            }
            each(Entry::Unusable {
                path: rel_lossy,
                reason: "unsafe-name",
                size: None,
            })?;
            continue;
        };
        if path.too_long() {
            if entry.file_type().is_dir() {
                it.skip_current_dir();
            }
            each(Entry::Unusable {
                path: path.to_string(),
                reason: "name-too-long",
                size: None,
            })?;
            continue;
        }
        let file_type = entry.file_type();
        let real = if file_type.is_symlink() {
            match entry.path().canonicalize() {
                Ok(target) if !target.starts_with(&canonical_root) => {
                    each(Entry::Unusable {
                        path: path.to_string(),
                        reason: "outside-tree",
                        size: None,
                    })?;
                    continue;
                }
                Ok(target) if target.is_file() => target,
                Ok(_) => {
                    each(Entry::Unusable {
                        path: path.to_string(),
                        reason: "symlink",
                        size: None,
                    })?;
                    continue;
                }
                Err(_) => {
                    each(Entry::Unusable {
                        path: path.to_string(),
                        reason: "broken-link",
                        size: None,
                    })?;
                    continue;
                }
            }
        } else if file_type.is_dir() {
            continue;
        } else if file_type.is_file() {
            entry.path().to_path_buf()
        } else {
            each(Entry::Unusable {
                path: path.to_string(),
                reason: "special",
                size: None,
            })?;
            continue;
        };
        // A file that cannot be opened or read is skipped, not fatal.
        let read = |bytes: &mut Vec<u8>| -> std::io::Result<(u64, bool)> {
            let file = File::open(&real)?;
            let meta = file.metadata()?;
            if meta.len() > limits.max_file_bytes {
                return Ok((meta.len(), false));
            }
            bytes.reserve(meta.len() as usize);
            file.take(limits.max_file_bytes + 1).read_to_end(bytes)?;
            Ok((meta.len(), meta.permissions().mode() & 0o111 != 0))
        };
        let mut bytes = Vec::new();
        let executable = match read(&mut bytes) {
            Ok((size, _)) if size > limits.max_file_bytes => {
                each(Entry::TooLarge { path, size })?;
                continue;
            }
            Ok((_, executable)) => executable,
            Err(e) => {
                tracing::debug!(path = %real.display(), error = %e, "unreadable");
                each(Entry::Unusable {
                    path: path.to_string(),
                    reason: "unreadable",
                    size: None,
                })?;
                continue;
            }
        };
        if bytes.len() as u64 > limits.max_file_bytes {
            // Grew while we read it.
            let size = bytes.len() as u64;
            each(Entry::TooLarge { path, size })?;
            continue;
        }
        each(Entry::File {
            path,
            bytes,
            executable,
        })?;
    }
    Ok(())
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<BufReader<File>>, ImportError> {
    let file = File::open(path).map_err(|e| ImportError::SourceUnreadable {
        path: path.to_path_buf(),
        source: e,
    })?;
    zip::ZipArchive::new(BufReader::new(file)).map_err(|e| bad_zip(path, e))
}

/// The first name that two central directory headers of the ZIP file at
/// `path` share, reading the headers from `dir_start`; `None` if the
/// directory cannot be read that far.
fn duplicate_entry_name(path: &Path, dir_start: u64) -> Option<String> {
    use std::io::{Seek, SeekFrom};
    let mut file = BufReader::new(File::open(path).ok()?);
    file.seek(SeekFrom::Start(dir_start)).ok()?;
    let mut seen = HashSet::new();
    let mut header = [0u8; 46];
    loop {
        file.read_exact(&mut header).ok()?;
        if header[..4] != *b"PK\x01\x02" {
            return None;
        }
        let field = |at: usize| usize::from(u16::from_le_bytes([header[at], header[at + 1]]));
        let (name_len, extra_len, comment_len) = (field(28), field(30), field(32));
        let mut name = vec![0u8; name_len];
        file.read_exact(&mut name).ok()?;
        let skip = i64::try_from(extra_len + comment_len).ok()?;
        file.seek_relative(skip).ok()?;
        if !seen.insert(name.clone()) {
            return Some(String::from_utf8_lossy(&name).into_owned());
        }
    }
}

fn bad_zip(path: &Path, e: zip::result::ZipError) -> ImportError {
    ImportError::BadZip {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn is_symlink(mode: Option<u32>) -> bool {
    mode.is_some_and(|m| m & 0o170000 == 0o120000)
}

/// Whether a link at `link` pointing to `target` resolves inside the archive.
fn link_stays_inside(link: &WorkspacePath, target: &str) -> bool {
    let target = target.replace('\\', "/");
    if target.starts_with('/')
        || WorkspacePath::parse(&target) == Err(super::path::PathError::DriveLetter)
    {
        return false;
    }
    let mut depth: usize = link.ancestors().count();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => depth += 1,
        }
    }
    true
}

fn walk_zip(
    path: &Path,
    limits: &Limits,
    ignored: &[String],
    each: &mut dyn FnMut(Entry) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let mut archive = open_zip(path)?;
    // Read in name order so a ZIP and the folder it came from import alike.
    let mut order: Vec<(String, usize)> = (0..archive.len())
        .filter_map(|i| {
            let entry = archive.by_index_raw(i).ok()?;
            Some((
                String::from_utf8_lossy(entry.name_raw()).replace('\\', "/"),
                i,
            ))
        })
        .collect();
    order.sort();
    let rules = IgnoreRules::new(ignored);
    let mut pruned = HashSet::new();
    let mut read_total: u64 = 0;
    for (raw_name, index) in order {
        let mut file = archive.by_index(index).map_err(|e| bad_zip(path, e))?;
        let name = match WorkspacePath::parse_bytes(file.name_raw()) {
            Ok(name) => name,
            Err(_) if file.is_dir() => continue,
            Err(e) => {
                return Err(ImportError::ZipEscape {
                    entry: raw_name,
                    why: e.to_string(),
                });
            }
        };
        if file.is_dir() {
            continue;
        }
        if let Some((prefix, rule)) = rules.cut(name.as_str()) {
            if pruned.insert(prefix.clone()) {
                each(Entry::Ignored { path: prefix, rule })?;
            }
            continue;
        }
        if name.too_long() {
            each(Entry::Unusable {
                path: name.to_string(),
                reason: "name-too-long",
                size: None,
            })?;
            continue;
        }
        if is_symlink(file.unix_mode()) {
            let mut target = String::new();
            (&mut file)
                .take(4096)
                .read_to_string(&mut target)
                .map_err(|e| bad_zip(path, e.into()))?;
            if !link_stays_inside(&name, &target) {
                return Err(ImportError::ZipEscape {
                    entry: raw_name,
                    why: format!("is a link to {target:?}, outside the archive"),
                });
            }
            each(Entry::Unusable {
                path: name.to_string(),
                reason: "symlink",
                size: None,
            })?;
            continue;
        }
        let declared = file.size();
        if declared > limits.max_file_bytes {
            each(Entry::TooLarge {
                path: name,
                size: declared,
            })?;
            continue;
        }
        let mut bytes = Vec::with_capacity(declared as usize);
        (&mut file)
            .take(limits.max_file_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad_zip(path, e.into()))?;
        read_total = read_total.saturating_add(bytes.len() as u64);
        if read_total > limits.max_zip_bytes {
            return Err(ImportError::ZipTooLarge {
                bytes: read_total,
                limit: limits.max_zip_bytes,
            });
        }
        if bytes.len() as u64 > limits.max_file_bytes {
            let size = bytes.len() as u64;
            each(Entry::TooLarge { path: name, size })?;
            continue;
        }
        each(Entry::File {
            path: name,
            bytes,
            executable: file.unix_mode().is_some_and(|m| m & 0o111 != 0),
        })?;
    }
    Ok(())
}
