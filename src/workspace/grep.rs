//! Grep across a workspace: every line of its files that matches a pattern,
//! in both storages, streamed in batches and cancellable.
//!
//! The pattern is literal unless asked for as a regex, and smart-cased: all
//! lowercase matches any case, one capital makes it exact (as ripgrep's
//! `--smart-case`, helix's and vim's `smartcase`). The files are the ones
//! the tree lists (`Files::list`: a folder's import ignore rules, a git
//! tree's `.gitignore`); a file with a NUL byte in its first 8 KiB is
//! binary and skipped, as ripgrep skips it. A folder's files are read and
//! searched on a few threads; a stored workspace's are searched as the
//! store hands them over. Each file's matching lines are found with one
//! pass of the regex over the whole file, not line by line.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use regex::bytes::{Regex, RegexBuilder};

use super::disk::DiskWorkspace;
use crate::editor::search::QueryError;
use crate::error::Hint;
use crate::store::{self, Store};

/// Bytes of a file looked at for a NUL, as ripgrep does.
const BINARY_PROBE: usize = 8 * 1024;
/// Characters of a matching line kept for display.
pub(crate) const LINE_CHARS: usize = 300;
/// Matches sent at once to whoever streams them.
const BATCH: usize = 256;
/// Files searched (by one thread) before what they matched is sent, however
/// few matches that is: the first matches of a long search show early.
const FILES_PER_BATCH: usize = 128;

/// What to look for: the editor's search query, one owner of "literal
/// unless regex, smart case".
pub(crate) use crate::editor::search::Query;

/// One matching line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Hit {
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters, of the first match on the line.
    pub column: usize,
    /// The line, without its ending, cut at [`LINE_CHARS`].
    pub text: String,
}

/// How a search ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub files_searched: usize,
    pub files_matched: usize,
    pub hits: usize,
    /// Stopped at the limit of hits.
    pub truncated: bool,
    pub cancelled: bool,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum GrepError {
    #[error("the pattern is empty")]
    Empty,
    #[error("{pattern:?} is not a valid regular expression: {why}")]
    BadRegex { pattern: String, why: String },
    #[error("cannot read the workspace's files: {0}")]
    Read(String),
}

/// The store's walk was stopped (cancelled, or enough hits).
#[derive(Debug, thiserror::Error)]
#[error("the search stopped")]
struct Stopped;

impl Hint for GrepError {
    fn hint(&self) -> String {
        match self {
            GrepError::Empty => {
                "give the text to look for, e.g. `kollega grep shop useCart`".into()
            }
            GrepError::BadRegex { .. } => {
                "fix the expression, or search for the text literally (without --regex)".into()
            }
            GrepError::Read(_) => "run `kollega doctor` to check the store".into(),
        }
    }
}

/// The regex that `query` stands for.
pub(crate) fn compile(query: &Query) -> Result<Regex, GrepError> {
    query
        .compile_with(|source, ignore_case| {
            RegexBuilder::new(source)
                .case_insensitive(ignore_case)
                .multi_line(true)
                .build()
        })
        .map_err(|e| match e {
            QueryError::Empty => GrepError::Empty,
            QueryError::BadRegex { pattern, why } => GrepError::BadRegex { pattern, why },
        })
}

/// The matching lines of one file's bytes; none for a binary file.
pub(crate) fn search_bytes(re: &Regex, path: &str, bytes: &[u8], out: &mut Vec<Hit>) {
    if memchr::memchr(0, &bytes[..bytes.len().min(BINARY_PROBE)]).is_some() {
        return;
    }
    let mut line = 1;
    // Where the line counting stands: the start of line `line`.
    let mut counted = 0;
    let mut next_line_start = 0;
    for m in re.find_iter(bytes) {
        if m.start() < next_line_start {
            continue; // another match on a line already reported
        }
        line += memchr::memchr_iter(b'\n', &bytes[counted..m.start()]).count();
        let start = memchr::memrchr(b'\n', &bytes[..m.start()]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &bytes[m.start()..]).map_or(bytes.len(), |i| m.start() + i);
        let text = String::from_utf8_lossy(&bytes[start..end]);
        let column = String::from_utf8_lossy(&bytes[start..m.start()])
            .chars()
            .count()
            + 1;
        out.push(Hit {
            path: path.to_string(),
            line,
            column,
            text: text
                .trim_end_matches('\r')
                .chars()
                .take(LINE_CHARS)
                .collect(),
        });
        counted = m.start();
        next_line_start = end + 1;
    }
}

/// Searches a folder's files (as `disk.list(ignored)` lists them) on up to
/// `threads` threads. `on_batch` gets the hits file by file, in batches;
/// the search stops when `cancel` is set or after `max_hits`.
pub(crate) fn search_dir(
    disk: &DiskWorkspace,
    ignored: &[String],
    re: &Regex,
    max_hits: usize,
    cancel: &AtomicBool,
    on_batch: &(dyn Fn(Vec<Hit>) + Sync),
) -> Summary {
    let files = disk.list(ignored);
    let next = AtomicUsize::new(0);
    let hits = AtomicUsize::new(0);
    let summary = Mutex::new(Summary::default());
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut found = Vec::new();
                let (mut searched, mut matched, mut since_sent) = (0, 0, 0);
                loop {
                    if cancel.load(Ordering::Relaxed) || hits.load(Ordering::Relaxed) >= max_hits {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let Ok(bytes) = std::fs::read(disk.root().join(path)) else {
                        continue;
                    };
                    searched += 1;
                    let before = found.len();
                    search_bytes(re, path, &bytes, &mut found);
                    if found.len() > before {
                        matched += 1;
                        hits.fetch_add(found.len() - before, Ordering::Relaxed);
                    }
                    since_sent += 1;
                    if found.len() >= BATCH || (since_sent >= FILES_PER_BATCH && !found.is_empty())
                    {
                        on_batch(std::mem::take(&mut found));
                        since_sent = 0;
                    }
                }
                if !found.is_empty() {
                    on_batch(found);
                }
                let mut s = summary.lock().unwrap_or_else(|e| e.into_inner());
                s.files_searched += searched;
                s.files_matched += matched;
            });
        }
    });
    finish(
        summary.into_inner().unwrap_or_else(|e| e.into_inner()),
        hits.load(Ordering::Relaxed),
        max_hits,
        cancel,
    )
}

/// Searches a stored workspace's files, in path order.
pub(crate) fn search_store(
    store: &Store,
    workspace_id: i64,
    re: &Regex,
    max_hits: usize,
    cancel: &AtomicBool,
    on_batch: &(dyn Fn(Vec<Hit>) + Sync),
) -> Result<Summary, GrepError> {
    let mut summary = Summary::default();
    let mut found = Vec::new();
    let mut hits = 0;
    let mut since_sent = 0;
    let walked = store::files::for_each(&store.conn, workspace_id, |path, content, _| {
        if cancel.load(Ordering::Relaxed) || hits >= max_hits {
            return Err(Box::new(Stopped));
        }
        summary.files_searched += 1;
        let before = found.len();
        search_bytes(re, path, content.as_bytes(), &mut found);
        if found.len() > before {
            summary.files_matched += 1;
            hits += found.len() - before;
        }
        since_sent += 1;
        if found.len() >= BATCH || (since_sent >= FILES_PER_BATCH && !found.is_empty()) {
            on_batch(std::mem::take(&mut found));
            since_sent = 0;
        }
        Ok(())
    });
    if let Err(e) = walked
        && !e.is::<Stopped>()
    {
        return Err(GrepError::Read(e.to_string()));
    }
    if !found.is_empty() {
        on_batch(found);
    }
    Ok(finish(summary, hits, max_hits, cancel))
}

fn finish(mut summary: Summary, hits: usize, max_hits: usize, cancel: &AtomicBool) -> Summary {
    summary.hits = hits;
    summary.truncated = hits >= max_hits;
    summary.cancelled = cancel.load(Ordering::Relaxed);
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pattern: &str, regex: bool) -> Regex {
        compile(&Query {
            pattern: pattern.into(),
            regex,
        })
        .unwrap()
    }

    fn hits(re: &Regex, text: &str) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        search_bytes(re, "f", text.as_bytes(), &mut out);
        out.into_iter()
            .map(|h| (h.line, h.column, h.text))
            .collect()
    }

    #[test]
    fn literal_and_smart_case_by_default() {
        let text = "let cart = useCart();\nconst x = a.b;\nCART.clear()\n";
        assert_eq!(
            hits(&query("cart", false), text),
            [
                (1, 5, "let cart = useCart();".into()),
                (3, 1, "CART.clear()".into())
            ]
        );
        assert_eq!(
            hits(&query("Cart", false), text),
            [(1, 15, "let cart = useCart();".into())]
        );
        assert_eq!(
            hits(&query("a.b", false), text),
            [(2, 11, "const x = a.b;".into())]
        );
        assert_eq!(
            hits(&query("a.b", true), text).len(),
            1,
            "`.` is any char as a regex"
        );
        assert_eq!(
            hits(&query("^c", true), text),
            [
                (2, 1, "const x = a.b;".into()),
                (3, 1, "CART.clear()".into())
            ]
        );
    }

    #[test]
    fn lines_columns_and_endings() {
        let text = "é first\r\nsecond é\r\n\r\nlast é";
        assert_eq!(
            hits(&query("é", false), text),
            [
                (1, 1, "é first".into()),
                (2, 8, "second é".into()),
                (4, 6, "last é".into())
            ]
        );
    }

    #[test]
    fn binary_files_and_bad_patterns() {
        assert!(hits(&query("x", false), "x\0x").is_empty());
        let err = compile(&Query {
            pattern: "a(".into(),
            regex: true,
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("not a valid regular expression"),
            "{err}"
        );
        assert!(matches!(
            compile(&Query {
                pattern: String::new(),
                regex: false
            }),
            Err(GrepError::Empty)
        ));
        // Literal text with regex characters is fine.
        assert_eq!(hits(&query("a(", false), "f(a(b))").len(), 1);
    }

    #[test]
    fn a_folder_is_searched_on_threads_and_stops_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..50 {
            std::fs::write(
                dir.path().join(format!("f{i:02}.ts")),
                format!("a\nneedle {i}\nb\n"),
            )
            .unwrap();
        }
        std::fs::create_dir(dir.path().join("node_modules")).unwrap();
        std::fs::write(dir.path().join("node_modules/x.js"), "needle\n").unwrap();
        let disk = DiskWorkspace::open(dir.path()).unwrap();
        let found = Mutex::new(Vec::new());
        let cancel = AtomicBool::new(false);
        let summary = search_dir(
            &disk,
            &["node_modules".into()],
            &query("needle", false),
            1_000,
            &cancel,
            &|batch| found.lock().unwrap().extend(batch),
        );
        let mut found = found.into_inner().unwrap();
        found.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(found.len(), 50);
        assert_eq!((found[7].path.as_str(), found[7].line), ("f07.ts", 2));
        assert_eq!(summary.files_matched, 50);
        assert!(!summary.truncated && !summary.cancelled);
        let limited = search_dir(&disk, &[], &query("needle", false), 5, &cancel, &|_| {});
        assert!(limited.truncated && limited.hits < 50, "{limited:?}");
        cancel.store(true, Ordering::Relaxed);
        let stopped = search_dir(&disk, &[], &query("needle", false), 1_000, &cancel, &|_| {});
        assert!(stopped.cancelled && stopped.hits == 0);
    }

    #[test]
    fn a_long_search_sends_its_first_matches_before_the_end() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..600 {
            std::fs::write(dir.path().join(format!("f{i:03}.ts")), "needle\n").unwrap();
        }
        let disk = DiskWorkspace::open(dir.path()).unwrap();
        let sizes = Mutex::new(Vec::new());
        let summary = search_dir(
            &disk,
            &[],
            &query("needle", false),
            1_000,
            &AtomicBool::new(false),
            &|batch| sizes.lock().unwrap().push(batch.len()),
        );
        let sizes = sizes.into_inner().unwrap();
        assert_eq!(summary.hits, 600);
        assert_eq!(sizes.iter().sum::<usize>(), 600);
        // A thread sends what it found every FILES_PER_BATCH files, though
        // that is far fewer than BATCH matches.
        assert!(
            sizes.len() >= 600_usize.div_ceil(FILES_PER_BATCH),
            "{sizes:?}"
        );
        assert!(sizes.iter().all(|&n| n <= FILES_PER_BATCH), "{sizes:?}");
    }
}
