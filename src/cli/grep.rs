//! `kollega grep WS-OR-DIR PATTERN`: the lines of a workspace's files that
//! match, as `path:line:column:text` (ripgrep's `--vimgrep` form) or JSON.
//! Like grep, it exits 1 when nothing matches.

use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use super::args::GrepArgs;
use super::output::{print_json, printable};
use super::workspace::target_of;
use crate::config::Config;
use crate::error::{Error, Hint};
use crate::store::Store;
use crate::tui::OpenTarget;
use crate::workspace::grep::{self, GrepError, Hit, Query};

pub(super) fn grep(config: &Config, store: &Store, args: &GrepArgs) -> Result<ExitCode, Error> {
    let query = Query {
        pattern: args.pattern.clone(),
        regex: args.regex,
    };
    let re = grep::compile(&query).map_err(|e| Error::usage(e.to_string(), e.hint()))?;
    let found = Mutex::new(Vec::new());
    let collect = |batch: Vec<Hit>| {
        found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(batch)
    };
    let never = AtomicBool::new(false);
    let max = args.max.max(1);
    let summary = match target_of(store, &args.workspace)? {
        OpenTarget::Workspace(ws) => {
            grep::search_store(store, ws.id, &re, max, &never, &collect)
                .map_err(|e: GrepError| Error::refused(e.to_string(), e.hint()))?
        }
        OpenTarget::Dir(disk) => {
            let disk = if crate::git::repo::Repo::open(disk.root()).is_ok() {
                disk.respecting_gitignore()
            } else {
                disk
            };
            grep::search_dir(&disk, &config.ignored, &re, max, &never, &collect)
        }
    };
    let mut hits = found.into_inner().unwrap_or_else(|e| e.into_inner());
    hits.sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
    hits.truncate(max);
    if args.json {
        print_json(&serde_json::json!({
            "matches": hits,
            "filesSearched": summary.files_searched,
            "filesMatched": summary.files_matched,
            "truncated": summary.truncated,
        }))?;
    } else {
        let mut out = String::new();
        for hit in &hits {
            out.push_str(&format!(
                "{}:{}:{}:{}\n",
                printable(&hit.path),
                hit.line,
                hit.column,
                printable(&hit.text)
            ));
        }
        super::output::write_stdout(out.as_bytes())?;
        if summary.truncated {
            eprintln!("kollega: stopped after {max} matches (--max raises the limit)");
        }
    }
    Ok(if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
