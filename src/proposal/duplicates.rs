//! Warnings for the review (and `patch show`) when a patch writes what
//! the workspace already has: a new file named like an existing one
//! (`userService.ts` beside `user_service.ts`), or a function, class or
//! type whose name is an existing definition's once case, `_` and `-` are
//! set aside (`format_date` beside `formatDate`). Models often write what
//! already exists.
//!
//! Definitions are the top-level ones the AI context's workspace map
//! knows (`ai::context::symbols`: Rust, TypeScript/JavaScript, Python,
//! Go); a method inside a class or an `impl` is not one of them.

use std::collections::HashSet;

use super::{Result, Target};
use crate::ai::context::{has_symbols, same_symbol, similar, symbol_lines};
use crate::patch::{FilePatch, FileStatus, LineKind, Patch};
use crate::store::Store;

/// Existing places named for one duplicate, at most.
const PLACES: usize = 3;

/// Files read for their definitions, at most (a workspace map's worth).
const FILES_READ: usize = 5_000;

/// One line per file or definition the patch adds that looks like one
/// the workspace has, naming both places.
pub(crate) fn duplicate_warnings(store: &Store, key: &str, patch: &Patch) -> Result<Vec<String>> {
    let added_files: Vec<&str> = patch
        .files
        .iter()
        .filter(|f| f.status == FileStatus::Added)
        .map(|f| f.path())
        .collect();
    let added_symbols: Vec<(&str, String, usize)> = patch
        .files
        .iter()
        .flat_map(|f| {
            added_definitions(f)
                .into_iter()
                .map(move |(n, l)| (f.path(), n, l))
        })
        .collect();
    if added_files.is_empty() && added_symbols.is_empty() {
        return Ok(Vec::new());
    }
    let target = Target::from_key(store, key)?;
    let existing = target.list(&store.conn)?;
    let mut warnings = file_warnings(&added_files, &existing);
    if added_symbols.is_empty() {
        return Ok(warnings);
    }
    let mut defined: Vec<(String, String, usize)> = Vec::new();
    for path in existing.iter().filter(|p| has_symbols(p)).take(FILES_READ) {
        // A file that cannot be read is no place to warn about.
        if let Ok(Some(content)) = target.read(&store.conn, path) {
            for (name, line) in symbol_lines(path, &content.text) {
                defined.push((path.clone(), name, line));
            }
        }
    }
    for (path, name, line) in added_symbols {
        let places: Vec<String> = defined
            .iter()
            .filter(|(p, n, l)| same_symbol(n, &name) && !(p == path && *l == line))
            .take(PLACES)
            .map(|(p, n, l)| format!("`{n}` at {p}:{l}"))
            .collect();
        if !places.is_empty() {
            warnings.push(format!(
                "{path}:{line} defines `{name}`, like {}: a duplicate?",
                places.join(", ")
            ));
        }
    }
    Ok(warnings)
}

/// New files named like existing ones.
fn file_warnings(added: &[&str], existing: &[String]) -> Vec<String> {
    let name = |path: &str| path.rsplit('/').next().unwrap_or(path).to_string();
    let names: Vec<String> = existing.iter().map(|p| name(p)).collect();
    let mut warnings = Vec::new();
    for &path in added {
        let like = similar(&name(path), names.iter().map(String::as_str));
        let matches: Vec<&str> = existing
            .iter()
            .filter(|p| p.as_str() != path && like.contains(&name(p).as_str()))
            .map(String::as_str)
            .take(PLACES)
            .collect();
        if !matches.is_empty() {
            warnings.push(format!(
                "{path} is new, and looks like {}: a duplicate?",
                matches.join(", ")
            ));
        }
    }
    warnings
}

/// The definitions a file's added lines make, each with its line in the
/// new file; a name its removed lines define too is an edited
/// definition, not a new one.
fn added_definitions(file: &FilePatch) -> Vec<(String, usize)> {
    let path = file.path();
    if !has_symbols(path) {
        return Vec::new();
    }
    let mut added = Vec::new();
    let mut removed = HashSet::new();
    for hunk in &file.hunks {
        let mut line = hunk.new_start as usize;
        for diff_line in &hunk.lines {
            match diff_line.kind {
                LineKind::Added => {
                    for (name, _) in symbol_lines(path, diff_line.text()) {
                        added.push((name, line));
                    }
                    line += 1;
                }
                LineKind::Removed => {
                    for (name, _) in symbol_lines(path, diff_line.text()) {
                        removed.insert(name);
                    }
                }
                LineKind::Context => line += 1,
            }
        }
    }
    added.retain(|(name, _)| !removed.contains(name));
    added
}
