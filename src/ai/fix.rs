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

use std::sync::LazyLock;

use regex::Regex;

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

    fn files(list: &'static [&'static str]) -> impl Fn(&str) -> bool {
        move |p: &str| list.contains(&p)
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
