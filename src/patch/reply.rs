//! A model's reply read into edits, whatever format it answered in, and the
//! edits resolved against the files into one [`Patch`].
//!
//! Four formats are recognised, whichever one was asked for:
//! - search/replace blocks: a path line, a fence, then
//!   `<<<<<<< SEARCH` / `=======` / `>>>>>>> REPLACE` (an empty search
//!   creates the file; a block without a path line of its own takes the
//!   previous block's path);
//! - unified diffs, git style or plain `---`/`+++`;
//! - the apply_patch envelope: `*** Begin Patch`, `*** Update File:`,
//!   `*** Add File:`, `*** Delete File:`, `*** Move to:`, `@@` anchors,
//!   `*** End Patch`;
//! - line ranges: `=== lines PATH FIRST-LAST`, the new text, `=== end`,
//!   for surgical edits of large files.
//!
//! Every edit remembers the reply line it started on, so an edit that does
//! not apply is named by where the model wrote it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::search::{self, Miss};
use super::{FilePatch, FileStatus, Patch, diff_texts};

/// Context lines a model's diff may get wrong at each end of a hunk, as
/// `patch`'s default fuzz.
const MODEL_FUZZ: usize = 2;

/// One change a reply asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Edit {
    Replace {
        line: usize,
        path: String,
        old: String,
        new: String,
    },
    Diff {
        line: usize,
        patch: FilePatch,
    },
    Add {
        line: usize,
        path: String,
        text: String,
    },
    Delete {
        line: usize,
        path: String,
    },
    Update {
        line: usize,
        path: String,
        move_to: Option<String>,
        chunks: Vec<Chunk>,
    },
    Lines {
        line: usize,
        path: String,
        first: usize,
        last: usize,
        text: String,
    },
}

impl Edit {
    /// The reply line the edit starts on.
    pub(crate) fn line(&self) -> usize {
        match self {
            Edit::Replace { line, .. }
            | Edit::Diff { line, .. }
            | Edit::Add { line, .. }
            | Edit::Delete { line, .. }
            | Edit::Update { line, .. }
            | Edit::Lines { line, .. } => *line,
        }
    }
}

/// One `@@` section of an envelope's update: the anchor lines to find
/// first, then the old lines (context and removed) and the new ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Chunk {
    pub(crate) anchor: Option<String>,
    pub(crate) old: String,
    pub(crate) new: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReplyError {
    #[error(
        "the reply holds no edits in a format kollega reads (search/replace, unified diff, apply_patch, line ranges)"
    )]
    NoEdits,
    #[error("line {line} of the reply: {what}")]
    Malformed { line: usize, what: String },
    #[error("the edit at line {line} of the reply ({path}) does not apply: {why}")]
    DoesNotApply {
        line: usize,
        path: String,
        why: String,
    },
}

/// The edits of `reply`, in reply order.
pub(crate) fn parse_reply(reply: &str) -> Result<Vec<Edit>, ReplyError> {
    parse_reply_of(reply, None)
}

/// [`parse_reply`] of a reply the caller shares: a diff's lines point
/// into it, no copy made.
pub(crate) fn parse_shared_reply(reply: &Arc<String>) -> Result<Vec<Edit>, ReplyError> {
    parse_reply_of(reply, Some(reply))
}

/// [`parse_reply`] of `reply`, which `shared` holds when there is one.
fn parse_reply_of(reply: &str, shared: Option<&Arc<String>>) -> Result<Vec<Edit>, ReplyError> {
    let mut edits = Vec::new();
    // A reply that is a diff only (a patch file) is parsed as it is,
    // without a copy, unless its lines end in `\r\n`.
    let plain = !reply.contains('\r') && !Other::anywhere(reply);
    let diff = match (plain, shared) {
        (true, Some(shared)) => super::parse_shared(shared),
        (true, None) => super::parse(reply.as_bytes()),
        (false, _) => super::parse_shared(&Arc::new(other_edits(reply, &mut edits)?)),
    }
    .map_err(|e| ReplyError::Malformed {
        line: 0,
        what: e.to_string(),
    })?;
    // The files come in the reply's order: one walk over its `+++` lines
    // finds where each starts, however many files there are.
    let mut plus_lines = plus_lines(reply);
    for patch in diff.files {
        let start = plus_lines
            .clone()
            .find(|(_, l)| l.contains(patch.path()))
            .map_or(0, |(at, _)| at + 1);
        if start > 0 {
            plus_lines.find(|&(at, _)| at + 1 == start);
        }
        edits.push(Edit::Diff { line: start, patch });
    }
    if edits.is_empty() {
        return Err(ReplyError::NoEdits);
    }
    edits.sort_by_key(Edit::line);
    Ok(edits)
}

/// An edit that is not a diff, as the line that starts it says.
enum Other<'a> {
    /// `*** Begin Patch`: an apply_patch envelope.
    Envelope,
    /// `<<<<<<< SEARCH`: a search/replace block.
    Search,
    /// `=== lines SPEC`: a line range.
    Range(&'a str),
}

/// The `+++ ` lines of `reply`, each with its index among the lines: a
/// search for the mark, not a walk over every line.
fn plus_lines(reply: &str) -> impl Iterator<Item = (usize, &str)> + Clone {
    const MARK: &str = "\n+++ ";
    let first = reply.starts_with(&MARK[1..]).then_some(0);
    let rest = memchr::memmem::find_iter(reply.as_bytes(), MARK.as_bytes()).map(|at| at + 1);
    let mut line = 0;
    let mut counted = 0;
    first.into_iter().chain(rest).map(move |start| {
        line += memchr::memchr_iter(b'\n', &reply.as_bytes()[counted..start]).count();
        counted = start;
        let end =
            memchr::memchr(b'\n', &reply.as_bytes()[start..]).map_or(reply.len(), |n| start + n);
        (line, &reply[start..end])
    })
}

impl<'a> Other<'a> {
    /// Whether any line of `reply` starts an edit that is not a diff. No
    /// such line can be where none of the words that start one is.
    fn anywhere(reply: &str) -> bool {
        ["*** Begin Patch", "SEARCH", "=== lines "]
            .iter()
            .any(|word| memchr::memmem::find(reply.as_bytes(), word.as_bytes()).is_some())
            && reply.lines().any(|l| Other::at(l).is_some())
    }

    /// The edit `line` starts, if it starts one.
    fn at(line: &'a str) -> Option<Other<'a>> {
        let line = line.trim_end();
        if line.trim() == "*** Begin Patch" {
            Some(Other::Envelope)
        } else if is_marker(line, '<', "SEARCH") {
            Some(Other::Search)
        } else {
            line.strip_prefix("=== lines ").map(Other::Range)
        }
    }
}

/// Reads the envelopes, blocks and ranges of `reply` into `edits`; the
/// lines outside them, for the diff parser.
fn other_edits(reply: &str, edits: &mut Vec<Edit>) -> Result<String, ReplyError> {
    let lines: Vec<&str> = reply.lines().collect();
    let mut rest = String::new();
    let mut i = 0;
    let mut last_path: Option<String> = None;
    while i < lines.len() {
        match Other::at(lines[i]) {
            Some(Other::Envelope) => i = envelope(&lines, i, edits)?,
            Some(Other::Search) => {
                let path = block_path(&lines, i).or_else(|| last_path.clone()).ok_or(
                    ReplyError::Malformed {
                        line: i + 1,
                        what: "a SEARCH block with no file path before it".into(),
                    },
                )?;
                last_path = Some(path.clone());
                i = search_block(&lines, i, path, edits)?;
            }
            Some(Other::Range(spec)) => i = line_range(&lines, i, spec, edits)?,
            None => {
                rest.push_str(lines[i]);
                rest.push('\n');
                i += 1;
            }
        }
    }
    Ok(rest)
}

/// `<<<<<<< SEARCH`, `>>>>>>> REPLACE`: 5 to 9 marker characters.
fn is_marker(line: &str, c: char, word: &str) -> bool {
    let line = line.trim();
    let count = line.chars().take_while(|&x| x == c).count();
    (5..=9).contains(&count) && line[count..].trim() == word
}

fn is_divider(line: &str) -> bool {
    let line = line.trim();
    (5..=9).contains(&line.len()) && line.chars().all(|c| c == '=')
}

/// The path a search block belongs to: the nearest line above it that is
/// not a fence, stripped of the decoration models put around it.
fn block_path(lines: &[&str], at: usize) -> Option<String> {
    let mut j = at;
    while j > 0 {
        j -= 1;
        let line = lines[j].trim();
        if line.starts_with("```") {
            // A fence whose info string is a path (```src/a.rs) names it.
            let info = line.trim_start_matches('`').trim();
            if info.contains('/') || info.contains('.') && !info.contains(' ') {
                return Some(info.to_string());
            }
            continue;
        }
        if line.is_empty() || is_marker(line, '>', "REPLACE") {
            return None;
        }
        let path = line
            .trim_matches(|c| c == '`' || c == '*')
            .trim_start_matches('#')
            .trim()
            .trim_end_matches(':')
            .trim_matches('`');
        let path = path.strip_prefix("File: ").unwrap_or(path).trim();
        return (!path.is_empty() && !path.contains(' ')).then(|| path.to_string());
    }
    None
}

fn search_block(
    lines: &[&str],
    at: usize,
    path: String,
    edits: &mut Vec<Edit>,
) -> Result<usize, ReplyError> {
    let mut old = String::new();
    let mut new = String::new();
    let mut i = at + 1;
    let mut in_new = false;
    while i < lines.len() {
        let line = lines[i];
        if !in_new && is_divider(line) {
            in_new = true;
        } else if in_new && is_marker(line, '>', "REPLACE") {
            edits.push(Edit::Replace {
                line: at + 1,
                path,
                old,
                new,
            });
            return Ok(i + 1);
        } else {
            let side = if in_new { &mut new } else { &mut old };
            side.push_str(line);
            side.push('\n');
        }
        i += 1;
    }
    Err(ReplyError::Malformed {
        line: at + 1,
        what: format!(
            "the SEARCH block for {path} has no {}",
            if in_new { ">>>>>>> REPLACE" } else { "=======" }
        ),
    })
}

fn line_range(
    lines: &[&str],
    at: usize,
    spec: &str,
    edits: &mut Vec<Edit>,
) -> Result<usize, ReplyError> {
    let bad = |what: String| ReplyError::Malformed { line: at + 1, what };
    let (path, range) = spec
        .trim()
        .rsplit_once(' ')
        .ok_or_else(|| bad("`=== lines` needs a path and FIRST-LAST".into()))?;
    let (first, last) = range
        .split_once('-')
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
        .filter(|(a, b)| *a >= 1 && a <= b)
        .ok_or_else(|| bad(format!("{range:?} is not a line range like 12-20")))?;
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate().skip(at + 1) {
        if line.trim_end() == "=== end" {
            edits.push(Edit::Lines {
                line: at + 1,
                path: path.trim().to_string(),
                first,
                last,
                text,
            });
            return Ok(i + 1);
        }
        text.push_str(line);
        text.push('\n');
    }
    Err(bad(format!("the line range of {path} has no `=== end`")))
}

fn malformed(line: usize, what: &str) -> ReplyError {
    ReplyError::Malformed {
        line,
        what: what.to_string(),
    }
}

fn envelope(lines: &[&str], at: usize, edits: &mut Vec<Edit>) -> Result<usize, ReplyError> {
    let mut i = at + 1;
    while i < lines.len() {
        let line = lines[i].trim_end();
        if line == "*** End Patch" {
            return Ok(i + 1);
        } else if let Some(path) = line.strip_prefix("*** Add File: ") {
            let start = i;
            let mut text = String::new();
            i += 1;
            while i < lines.len() && !lines[i].starts_with("*** ") {
                let body = lines[i]
                    .strip_prefix('+')
                    .ok_or_else(|| malformed(i + 1, "a line of an added file must start with +"))?;
                text.push_str(body);
                text.push('\n');
                i += 1;
            }
            edits.push(Edit::Add {
                line: start + 1,
                path: path.trim().to_string(),
                text,
            });
        } else if let Some(path) = line.strip_prefix("*** Delete File: ") {
            edits.push(Edit::Delete {
                line: i + 1,
                path: path.trim().to_string(),
            });
            i += 1;
        } else if let Some(path) = line.strip_prefix("*** Update File: ") {
            let start = i;
            i += 1;
            let mut move_to = None;
            if let Some(to) = lines.get(i).and_then(|l| l.strip_prefix("*** Move to: ")) {
                move_to = Some(to.trim().to_string());
                i += 1;
            }
            let mut chunks: Vec<Chunk> = Vec::new();
            while i < lines.len() && !lines[i].starts_with("*** ") {
                let line = lines[i];
                if let Some(anchor) = line.strip_prefix("@@") {
                    let anchor = anchor.trim();
                    chunks.push(Chunk {
                        anchor: (!anchor.is_empty()).then(|| anchor.to_string()),
                        ..Chunk::default()
                    });
                } else {
                    if chunks.is_empty() {
                        chunks.push(Chunk::default());
                    }
                    let Some(chunk) = chunks.last_mut() else {
                        break;
                    };
                    let (kind, body) = match line.chars().next() {
                        Some(c @ ('+' | '-' | ' ')) => (c, &line[1..]),
                        // An empty line is an empty context line.
                        None => (' ', ""),
                        Some(_) => {
                            return Err(malformed(
                                i + 1,
                                "a line of an update must start with space, + or -",
                            ));
                        }
                    };
                    if kind != '+' {
                        chunk.old.push_str(body);
                        chunk.old.push('\n');
                    }
                    if kind != '-' {
                        chunk.new.push_str(body);
                        chunk.new.push('\n');
                    }
                }
                i += 1;
            }
            edits.push(Edit::Update {
                line: start + 1,
                path: path.trim().to_string(),
                move_to,
                chunks,
            });
        } else if line == "*** End of File" || line.trim().is_empty() {
            i += 1;
        } else {
            return Err(malformed(
                i + 1,
                "expected *** Add File:, *** Update File:, *** Delete File: or *** End Patch",
            ));
        }
    }
    Err(ReplyError::Malformed {
        line: at + 1,
        what: "*** Begin Patch without *** End Patch".into(),
    })
}

/// The files' new texts, or `None` for a deleted file, keyed by path.
type Outcome = BTreeMap<String, Option<String>>;

/// The edits applied to the files `read` gives (`None`: no such file), as
/// one patch; nothing is written. An edit that does not apply fails the
/// whole reply, naming it.
pub(crate) fn resolve(
    edits: &[Edit],
    read: impl Fn(&str) -> Option<String>,
) -> Result<Patch, ReplyError> {
    let mut before: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut after: Outcome = BTreeMap::new();
    let mut current = |path: &str, after: &mut Outcome| -> Option<String> {
        if let Some(text) = after.get(path) {
            return text.clone();
        }
        let text = read(path);
        before.insert(path.to_string(), text.clone());
        text
    };
    for edit in edits {
        let fail = |path: &str, why: String| ReplyError::DoesNotApply {
            line: edit.line(),
            path: path.to_string(),
            why,
        };
        match edit {
            Edit::Replace { path, old, new, .. } => {
                let text = current(path, &mut after);
                let text = match (text, old.trim().is_empty()) {
                    (Some(text), _) => text,
                    (None, true) => String::new(),
                    (None, false) => return Err(fail(path, "the file does not exist".into())),
                };
                let changed = search::replace(&text, old, new).map_err(|m| fail(path, miss(&m)))?;
                after.insert(path.clone(), Some(changed));
            }
            Edit::Diff { patch, .. } => {
                let path = patch.path().to_string();
                let text = current(&path, &mut after).unwrap_or_default();
                let changed = patch
                    .apply_with_fuzz(&text, MODEL_FUZZ)
                    .map_err(|e| fail(&path, e.to_string()))?;
                let deleted = patch.status == FileStatus::Deleted;
                after.insert(path, (!deleted).then_some(changed));
            }
            Edit::Add { path, text, .. } => {
                if current(path, &mut after).is_some() {
                    return Err(fail(path, "the file exists already".into()));
                }
                after.insert(path.clone(), Some(text.clone()));
            }
            Edit::Delete { path, .. } => {
                if current(path, &mut after).is_none() {
                    return Err(fail(path, "the file does not exist".into()));
                }
                after.insert(path.clone(), None);
            }
            Edit::Update {
                path,
                move_to,
                chunks,
                ..
            } => {
                let mut text = current(path, &mut after)
                    .ok_or_else(|| fail(path, "the file does not exist".into()))?;
                for (n, chunk) in chunks.iter().enumerate() {
                    text = apply_chunk(&text, chunk)
                        .map_err(|why| fail(path, format!("section {} {why}", n + 1)))?;
                }
                // A move shows as the old file deleted and the new one added.
                match move_to {
                    Some(to) => {
                        after.insert(path.clone(), None);
                        current(to, &mut after);
                        after.insert(to.clone(), Some(text));
                    }
                    None => {
                        after.insert(path.clone(), Some(text));
                    }
                }
            }
            Edit::Lines {
                path,
                first,
                last,
                text,
                ..
            } => {
                let old = current(path, &mut after)
                    .ok_or_else(|| fail(path, "the file does not exist".into()))?;
                let changed =
                    replace_lines(&old, *first, *last, text).map_err(|why| fail(path, why))?;
                after.insert(path.clone(), Some(changed));
            }
        }
    }
    let mut files = Vec::new();
    for (path, new) in &after {
        let old = before.get(path).cloned().flatten();
        if old.as_deref() == new.as_deref() {
            continue;
        }
        let mut file = diff_texts(
            old.as_deref().unwrap_or(""),
            new.as_deref().unwrap_or(""),
            path,
        );
        match (&old, new) {
            (None, _) => {
                file.status = FileStatus::Added;
                file.old_path = None;
                file.new_mode = Some(0o100644);
            }
            (_, None) => {
                file.status = FileStatus::Deleted;
                file.new_path = None;
                file.old_mode = Some(0o100644);
            }
            _ => {}
        }
        files.push(file);
    }
    Ok(Patch { files })
}

fn miss(m: &Miss) -> String {
    match m {
        Miss::Nothing => format!("{m}; quote the lines as they are in the file"),
        Miss::Many(_) => format!("{m}; quote more lines around the change"),
    }
}

fn apply_chunk(text: &str, chunk: &Chunk) -> Result<String, String> {
    // The anchor narrows the search to what follows it.
    let (head, tail) = match &chunk.anchor {
        Some(anchor) => {
            let at = text
                .match_indices('\n')
                .map(|(i, _)| i + 1)
                .chain([0])
                .filter(|&start| {
                    text[start..]
                        .lines()
                        .next()
                        .is_some_and(|l| l.trim() == anchor.trim())
                })
                .min()
                .ok_or_else(|| format!("has an @@ anchor {anchor:?} that is not in the file"))?;
            text.split_at(at)
        }
        None => ("", text),
    };
    let tail = search::replace(tail, &chunk.old, &chunk.new).map_err(|m| miss(&m))?;
    Ok(format!("{head}{tail}"))
}

fn replace_lines(text: &str, first: usize, last: usize, new: &str) -> Result<String, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if last > lines.len() {
        return Err(format!(
            "lines {first}-{last} reach past the end of the file ({} lines)",
            lines.len()
        ));
    }
    let end = if lines.iter().any(|l| l.ends_with("\r\n")) {
        "\r\n"
    } else {
        "\n"
    };
    let mut out: String = lines[..first - 1].concat();
    for line in new.lines() {
        out.push_str(line);
        out.push_str(end);
    }
    if last == lines.len() && !text.ends_with('\n') && out.ends_with(end) {
        out.truncate(out.len() - end.len());
    }
    out.push_str(&lines[last..].concat());
    Ok(out)
}

#[cfg(test)]
mod tests;
