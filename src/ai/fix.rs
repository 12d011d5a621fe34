//! Fix with AI: what a failed build or test asks the model.
//!
//! The request is the failed command, the tail of its log, and the files
//! its error lines name, so the model sees the code the errors point at.
//! Error lines name files in many ways (rustc's ` --> src/a.rs:3:5`, tsc's
//! `src/a.ts(3,5)`, Python's `File "a.py", line 3`, Go's `./a.go:3:5`,
//! Node's stack frames with absolute paths); every path-looking word
//! followed by a line number is a candidate, and a candidate counts when
//! it names a file of the workspace, directly, below the job's directory,
//! or by its end (`/home/ci/app/src/a.rs` names `src/a.rs`).

use std::collections::HashSet;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use crate::error::Hint;
use crate::jobs::{JobKind, Status};
use crate::store::jobs::{self as job_rows, Job};
use crate::store::{self, Store};

/// Lines of the log sent with the request: enough for a compiler's first
/// errors and a test runner's summary.
pub(crate) const TAIL_LINES: usize = 80;

/// Files sent with the request, in the order the log names them.
pub(crate) const MAX_FILES: usize = 6;

/// What a fix request sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FixRequest {
    pub prompt: String,
    /// Workspace paths named by the log, first named first.
    pub files: Vec<String>,
}

/// Why a job cannot be fixed with AI.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FixError {
    #[error("there is no job {0}")]
    NoJob(i64),
    #[error("job {id} is {status}: fix with AI reads the log of a job that failed")]
    NotFailed { id: i64, status: &'static str },
    #[error("job {id} is of kind {kind}: fix with AI reads the log of a command (a build, a test)")]
    NotACommand { id: i64, kind: String },
    #[error("job {0} belongs to no workspace, so there is no code to fix")]
    NoWorkspace(i64),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl Hint for FixError {
    fn hint(&self) -> String {
        match self {
            FixError::NoJob(_) => "list jobs with `kollega jobs ls`".into(),
            FixError::NotFailed { .. } | FixError::NotACommand { .. } => {
                "pick a failed command job in `kollega jobs ls --status failed`".into()
            }
            FixError::NoWorkspace(_) => {
                "run the command in a workspace (`kollega run <ws> -- …`), then fix that job".into()
            }
            FixError::Store(e) => e.hint(),
        }
    }
}

/// A failed job's fix request and the workspace it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobFix {
    pub request: FixRequest,
    pub job: i64,
    /// The workspace as the job names it: a name, or a folder's path.
    pub workspace: String,
    pub workspace_id: Option<i64>,
}

/// The fix request for failed job `id`: its command, the tail of its log
/// kept in the store, and the files of its workspace the log names.
pub(crate) fn for_job(store: &Store, id: i64) -> Result<JobFix, FixError> {
    let job = job_rows::get(&store.conn, id)?.ok_or(FixError::NoJob(id))?;
    if !matches!(job.status, Status::Failed | Status::Dead) {
        return Err(FixError::NotFailed {
            id,
            status: job.status.as_str(),
        });
    }
    if job.kind != JobKind::Command {
        return Err(FixError::NotACommand {
            id,
            kind: job.kind.to_string(),
        });
    }
    let workspace = job.workspace.clone().ok_or(FixError::NoWorkspace(id))?;
    let after = job.log_lines.saturating_sub(TAIL_LINES as i64 + 1);
    let lines = job_rows::logs_after(&store.conn, id, after, TAIL_LINES)?;
    let log: String = lines.iter().map(|l| format!("{}\n", l.line)).collect();
    let is_file = workspace_files(store, &job, &workspace)?;
    let request = request(
        &job.title(),
        job.exit_code,
        &log,
        job.cwd.as_deref(),
        &|path: &str| is_file(path),
    );
    Ok(JobFix {
        request,
        job: id,
        workspace,
        workspace_id: job.workspace_id,
    })
}

/// Whether a workspace path names a file.
type IsFile = Box<dyn Fn(&str) -> bool>;

/// Whether a path names a file of the job's workspace: a stored file of a
/// SQLite workspace, or a file inside a folder.
fn workspace_files(store: &Store, job: &Job, workspace: &str) -> Result<IsFile, FixError> {
    Ok(match job.workspace_id {
        Some(ws) => {
            let paths: HashSet<String> = store::files::list(&store.conn, ws)?
                .into_iter()
                .map(|f| f.path)
                .collect();
            Box::new(move |p: &str| paths.contains(p))
        }
        None => {
            let root = Path::new(workspace).to_path_buf();
            Box::new(move |p: &str| {
                crate::workspace::path::WorkspacePath::parse(p).is_ok() && root.join(p).is_file()
            })
        }
    })
}

/// A path, then where in it: `:12`, `(12,` or `", line 12`.
static LOCATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"([A-Za-z0-9_@~+./\\-]*[A-Za-z0-9_]\.[A-Za-z0-9]{1,10})(?::\d+|\(\d+[,)]|", line \d+)"#,
    )
    .ok()
});

/// The request for a failed job: `command` is what ran, `log` its whole
/// log (only the tail is sent), `cwd` the job's directory when it had one,
/// `is_file` whether a workspace path exists.
pub(crate) fn request(
    command: &str,
    exit: Option<i32>,
    log: &str,
    cwd: Option<&str>,
    is_file: &dyn Fn(&str) -> bool,
) -> FixRequest {
    let tail = tail(log, TAIL_LINES);
    let files = files_named(&tail, cwd, is_file);
    let ended = match exit {
        Some(code) => format!("exited with code {code}"),
        None => "failed".to_string(),
    };
    let mut prompt = format!(
        "The command `{command}` {ended}. Fix the code so that it succeeds. \
         Change only what the errors need; do not change the tests unless they are wrong.\n\n\
         The last lines of its output:\n```\n{tail}\n```\n"
    );
    if files.is_empty() {
        prompt.push_str("\nThe output names no file of the workspace.\n");
    }
    FixRequest { prompt, files }
}

/// The last `lines` lines of `log`, without a trailing newline.
fn tail(log: &str, lines: usize) -> String {
    let trimmed = log.trim_end_matches('\n');
    let start = trimmed
        .rmatch_indices('\n')
        .nth(lines.saturating_sub(1))
        .map_or(0, |(at, _)| at + 1);
    trimmed[start..].to_string()
}

/// Workspace files that `log` names, in the order it first names them.
fn files_named(log: &str, cwd: Option<&str>, is_file: &dyn Fn(&str) -> bool) -> Vec<String> {
    let Some(re) = LOCATION.as_ref() else {
        return Vec::new();
    };
    let mut found: Vec<String> = Vec::new();
    for capture in re.captures_iter(log) {
        let Some(word) = capture.get(1) else { continue };
        let Some(path) = workspace_path(word.as_str(), cwd, is_file) else {
            continue;
        };
        if !found.contains(&path) {
            found.push(path);
            if found.len() == MAX_FILES {
                break;
            }
        }
    }
    found
}

/// The workspace path a word of the log names, if any.
fn workspace_path(word: &str, cwd: Option<&str>, is_file: &dyn Fn(&str) -> bool) -> Option<String> {
    let word = word.replace('\\', "/");
    let word = word.trim_start_matches("./");
    if word.is_empty() || word.contains("/../") || word.starts_with("../") {
        return None;
    }
    if let Some(rest) = cwd
        .map(|dir| dir.trim_end_matches('/'))
        .and_then(|dir| word.strip_prefix(dir))
        .and_then(|rest| rest.strip_prefix('/'))
        && is_file(rest)
    {
        return Some(rest.to_string());
    }
    if !word.starts_with('/') && is_file(word) {
        return Some(word.to_string());
    }
    // An absolute path from another machine or a build directory: the
    // longest end of it that names a workspace file.
    let mut rest = word.trim_start_matches('/');
    while let Some((_, after)) = rest.split_once('/') {
        if is_file(after) {
            return Some(after.to_string());
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::payload::JobPayload;

    fn files(list: &'static [&'static str]) -> impl Fn(&str) -> bool {
        move |p: &str| list.contains(&p)
    }

    fn failed_job(store: &mut Store, workspace: &str, status: &str, log: &[&str]) -> i64 {
        let new = crate::jobs::payload::CommandPayload::argv(vec!["cargo".into(), "test".into()])
            .job(Some(workspace.to_string()));
        let id = job_rows::enqueue(&mut store.conn, &new, 0).unwrap();
        let tx = store.conn.transaction().unwrap();
        let lines: Vec<_> = log
            .iter()
            .map(|l| (crate::store::jobs::Stream::Stdout, 0, l.to_string()))
            .collect();
        job_rows::append_logs(&tx, id, 1, &lines, 0, TAIL_LINES as i64).unwrap();
        tx.execute(
            "UPDATE jobs SET status = ?2, exit_code = 101 WHERE id = ?1",
            rusqlite::params![id, status],
        )
        .unwrap();
        tx.commit().unwrap();
        id
    }

    #[test]
    fn a_failed_job_asks_with_its_log_and_the_files_it_names() {
        let data = tempfile::tempdir().unwrap();
        let folder = tempfile::tempdir().unwrap();
        std::fs::create_dir(folder.path().join("src")).unwrap();
        std::fs::write(folder.path().join("src/lib.rs"), "fn f() {}\n").unwrap();
        let mut store = Store::open(data.path()).unwrap();
        let ws = folder.path().to_str().unwrap();
        let id = failed_job(
            &mut store,
            ws,
            "failed",
            &[
                "error[E0425]: cannot find value `x`",
                " --> src/lib.rs:1:9",
                " --> src/gone.rs:2:1",
            ],
        );
        let fix = for_job(&store, id).unwrap();
        assert_eq!(fix.request.files, ["src/lib.rs"]);
        assert_eq!(fix.workspace, ws);
        assert!(
            fix.request
                .prompt
                .contains("`cargo test` exited with code 101")
        );
        assert!(fix.request.prompt.contains("cannot find value `x`"));
    }

    #[test]
    fn only_a_failed_command_can_be_fixed() {
        let data = tempfile::tempdir().unwrap();
        let mut store = Store::open(data.path()).unwrap();
        let ok = failed_job(&mut store, "/nowhere", "succeeded", &[]);
        assert!(matches!(
            for_job(&store, ok),
            Err(FixError::NotFailed {
                status: "succeeded",
                ..
            })
        ));
        assert!(matches!(for_job(&store, 999), Err(FixError::NoJob(999))));
        let export = job_rows::enqueue(
            &mut store.conn,
            &job_rows::NewJob {
                kind: JobKind::Export,
                workspace: Some("shop".into()),
                ..job_rows::NewJob::default()
            },
            0,
        )
        .unwrap();
        store
            .conn
            .execute("UPDATE jobs SET status = 'dead' WHERE id = ?1", [export])
            .unwrap();
        let err = for_job(&store, export).unwrap_err();
        assert!(err.to_string().contains("is of kind export"), "{err}");
        assert!(!err.hint().is_empty());
    }

    #[test]
    fn compiler_and_runner_lines_name_workspace_files() {
        let known = files(&[
            "src/main.rs",
            "src/app.ts",
            "app/views.py",
            "main.go",
            "src/sum.test.js",
            "lib/util.c",
        ]);
        let log = "\
error[E0308]: mismatched types
 --> src/main.rs:3:5
src/app.ts(12,7): error TS2322: Type 'string' is not assignable
  File \"app/views.py\", line 40, in index
./main.go:9:2: undefined: foo
    at Object.<anonymous> (/home/ci/work/src/sum.test.js:4:17)
lib/util.c:7:1: error: expected ';'
  File \"/usr/lib/python3.12/runpy.py\", line 198, in _run_module_as_main
";
        let request = request("cargo build", Some(101), log, Some("/srv/ws"), &known);
        assert_eq!(
            request.files,
            [
                "src/main.rs",
                "src/app.ts",
                "app/views.py",
                "main.go",
                "src/sum.test.js",
                "lib/util.c"
            ]
        );
        assert!(
            request
                .prompt
                .contains("`cargo build` exited with code 101")
        );
        assert!(request.prompt.contains("--> src/main.rs:3:5"));
    }

    #[test]
    fn paths_below_the_job_directory_and_repeats_count_once() {
        let known = files(&["pkg/a.py"]);
        let log = "/work/copy/pkg/a.py:3: AssertionError\n/work/copy/pkg/a.py:9: in test\n";
        let request = request("pytest", Some(1), log, Some("/work/copy/"), &known);
        assert_eq!(request.files, ["pkg/a.py"]);
    }

    #[test]
    fn only_the_tail_is_sent_and_unknown_paths_are_left_out() {
        let mut log = String::new();
        for n in 0..200 {
            log.push_str(&format!("line {n}: other/x.rs:1:1\n"));
        }
        let request = request("make", None, &log, None, &files(&["src/lib.rs"]));
        assert!(request.files.is_empty());
        assert!(request.prompt.contains("`make` failed"));
        assert!(request.prompt.contains("line 199:"));
        assert!(!request.prompt.contains("line 119:"));
        assert!(request.prompt.contains("line 120:"));
        assert!(request.prompt.contains("names no file of the workspace"));
    }

    #[test]
    fn escapes_from_the_workspace_are_not_files() {
        let known = files(&["etc/passwd", "a.rs"]);
        let log = "../etc/passwd:1:1\nsrc/../../a.rs:2:2\n";
        assert!(request("x", Some(1), log, None, &known).files.is_empty());
    }

    #[test]
    fn at_most_max_files_are_named() {
        let log: String = (0..20).map(|n| format!("f{n}.rs:1:1\n")).collect();
        let request = request("x", Some(1), &log, None, &|p: &str| p.ends_with(".rs"));
        assert_eq!(request.files.len(), MAX_FILES);
        assert_eq!(request.files[0], "f0.rs");
    }
}
