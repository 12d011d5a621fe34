//! The status of a working tree: branch, upstream, ahead/behind and every
//! changed, untracked, conflicted (and on request ignored) file.
//!
//! It runs `git status --porcelain=v2 -z --branch --untracked-files=all`
//! and parses the records, as lazygit does, rather than libgit2's status:
//! git uses the untracked cache and an fsmonitor when a repository has
//! them and preloads the index on several threads, none of which libgit2
//! does, so on big trees libgit2 cannot be faster and falls behind where
//! those are on. Measured on 50,000 files with 500 changed, 2 cores, no
//! fsmonitor (`status_refresh_speed` below, release build): this refresh
//! 91 ms, `git status --porcelain` 90 ms, libgit2's statuses 93 ms.
//!
//! The run sets `GIT_OPTIONAL_LOCKS=0` so a refresh never takes the index
//! lock (a refresh racing a `git commit` in another terminal must not make
//! it fail) and `LC_ALL=C`; with `-z` paths come unquoted, byte for byte.
//! A path that is not UTF-8 is shown with replacement characters.
//!
//! Reading only: nothing here writes to the repository.

use std::path::Path;

use serde::Serialize;

use super::{GitError, git_command};

/// Where HEAD is and how it relates to its upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BranchInfo {
    /// The branch name; `None` when HEAD is detached.
    pub(crate) head: Option<String>,
    /// The commit HEAD is at; `None` before the first commit.
    pub(crate) oid: Option<String>,
    pub(crate) upstream: Option<String>,
    pub(crate) ahead: usize,
    pub(crate) behind: usize,
    pub(crate) detached: bool,
}

/// What happened to a file on one side (index or working tree), git's
/// `XY` letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Change {
    Unmodified,
    Modified,
    TypeChanged,
    Added,
    Deleted,
    Renamed,
    Copied,
    /// Updated but unmerged (`U`), one side of a conflict.
    Unmerged,
}

impl Change {
    pub(crate) fn from_code(code: u8) -> Option<Change> {
        Some(match code {
            b'.' => Change::Unmodified,
            b'M' => Change::Modified,
            b'T' => Change::TypeChanged,
            b'A' => Change::Added,
            b'D' => Change::Deleted,
            b'R' => Change::Renamed,
            b'C' => Change::Copied,
            b'U' => Change::Unmerged,
            _ => return None,
        })
    }

    pub(crate) fn code(self) -> char {
        match self {
            Change::Unmodified => '.',
            Change::Modified => 'M',
            Change::TypeChanged => 'T',
            Change::Added => 'A',
            Change::Deleted => 'D',
            Change::Renamed => 'R',
            Change::Copied => 'C',
            Change::Unmerged => 'U',
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Change::Unmodified => "unmodified",
            Change::Modified => "modified",
            Change::TypeChanged => "typechange",
            Change::Added => "added",
            Change::Deleted => "deleted",
            Change::Renamed => "renamed",
            Change::Copied => "copied",
            Change::Unmerged => "unmerged",
        }
    }
}

/// The one mark a file gets in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Marker {
    Modified,
    Added,
    Deleted,
    Renamed,
    Untracked,
    Ignored,
    Conflicted,
}

impl Marker {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Marker::Modified => "modified",
            Marker::Added => "added",
            Marker::Deleted => "deleted",
            Marker::Renamed => "renamed",
            Marker::Untracked => "untracked",
            Marker::Ignored => "ignored",
            Marker::Conflicted => "conflicted",
        }
    }

    /// A one-letter mark, as lazygit and `git status -s` show.
    pub(crate) fn letter(self) -> char {
        match self {
            Marker::Modified => 'M',
            Marker::Added => 'A',
            Marker::Deleted => 'D',
            Marker::Renamed => 'R',
            Marker::Untracked => '?',
            Marker::Ignored => '!',
            Marker::Conflicted => 'U',
        }
    }
}

/// One path `git status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusEntry {
    pub(crate) path: String,
    /// The path before a rename or copy.
    pub(crate) orig_path: Option<String>,
    pub(crate) index: Change,
    pub(crate) worktree: Change,
    pub(crate) conflicted: bool,
    pub(crate) untracked: bool,
    pub(crate) ignored: bool,
}

impl StatusEntry {
    /// The tree's mark. A conflict outranks everything; then what the
    /// file is on disk now (deleted there, or new to git); then the
    /// staged change; then any modification.
    pub(crate) fn marker(&self) -> Marker {
        if self.conflicted {
            Marker::Conflicted
        } else if self.untracked {
            Marker::Untracked
        } else if self.ignored {
            Marker::Ignored
        } else if self.worktree == Change::Deleted {
            Marker::Deleted
        } else {
            match self.index {
                Change::Added | Change::Copied => Marker::Added,
                Change::Deleted => Marker::Deleted,
                Change::Renamed => Marker::Renamed,
                _ => Marker::Modified,
            }
        }
    }

    /// The working tree differs from the index (untracked files too).
    pub(crate) fn unstaged(&self) -> bool {
        !self.conflicted && !self.ignored && (self.untracked || self.worktree != Change::Unmodified)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RepoStatus {
    pub(crate) branch: BranchInfo,
    pub(crate) entries: Vec<StatusEntry>,
}

impl RepoStatus {
    /// Files that are changed, untracked or conflicted: the status bar's
    /// dirty count.
    pub(crate) fn dirty_count(&self) -> usize {
        self.entries.iter().filter(|e| !e.ignored).count()
    }

    /// The JSON shape of `kollega git status --json`.
    pub(crate) fn report(&self) -> StatusReport<'_> {
        StatusReport {
            branch: self.branch.head.as_deref(),
            upstream: self.branch.upstream.as_deref(),
            ahead: self.branch.ahead,
            behind: self.branch.behind,
            detached: self.branch.detached,
            entries: self
                .entries
                .iter()
                .map(|e| EntryReport {
                    path: &e.path,
                    orig_path: e.orig_path.as_deref(),
                    index: e.index.as_str(),
                    worktree: if e.untracked {
                        "untracked"
                    } else if e.ignored {
                        "ignored"
                    } else {
                        e.worktree.as_str()
                    },
                    kind: e.marker(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusReport<'a> {
    pub(crate) branch: Option<&'a str>,
    pub(crate) upstream: Option<&'a str>,
    pub(crate) ahead: usize,
    pub(crate) behind: usize,
    pub(crate) detached: bool,
    pub(crate) entries: Vec<EntryReport<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EntryReport<'a> {
    pub(crate) path: &'a str,
    pub(crate) orig_path: Option<&'a str>,
    pub(crate) index: &'static str,
    pub(crate) worktree: &'static str,
    pub(crate) kind: Marker,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StatusOptions {
    /// Also list ignored files (`--ignored=matching`: an ignored folder
    /// as one entry, not every file in it).
    pub(crate) ignored: bool,
}

/// Runs `git status` in `workdir` and parses it. Takes a path, not a
/// [`super::repo::Repo`], so a worker can refresh without a libgit2 handle.
pub(crate) fn read(workdir: &Path, options: StatusOptions) -> Result<RepoStatus, GitError> {
    let mut cmd = git_command(workdir);
    cmd.args([
        "status",
        "--porcelain=v2",
        "-z",
        "--branch",
        "--untracked-files=all",
    ]);
    if options.ignored {
        cmd.arg("--ignored=matching");
    }
    cmd.env("GIT_OPTIONAL_LOCKS", "0").env("LC_ALL", "C");
    let out = cmd
        .output()
        .map_err(|source| GitError::GitMissing { source })?;
    if !out.status.success() {
        return Err(GitError::GitFailed {
            command: "git status".into(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    parse(&out.stdout)
}

/// Parses the records of `git status --porcelain=v2 -z --branch`.
pub(crate) fn parse(output: &[u8]) -> Result<RepoStatus, GitError> {
    let mut status = RepoStatus::default();
    let mut records = output.split(|&b| b == 0).filter(|r| !r.is_empty());
    while let Some(record) = records.next() {
        let text = String::from_utf8_lossy(record);
        let bad = || GitError::StatusFormat {
            record: text.to_string(),
        };
        match record[0] {
            b'#' => branch_header(&text, &mut status.branch).ok_or_else(bad)?,
            b'1' => {
                let fields: Vec<&str> = text.splitn(9, ' ').collect();
                let [_, xy, _, _, _, _, _, _, path] = fields[..] else {
                    return Err(bad());
                };
                status
                    .entries
                    .push(tracked(xy, path, None, false).ok_or_else(bad)?);
            }
            b'2' => {
                let fields: Vec<&str> = text.splitn(10, ' ').collect();
                let [_, xy, _, _, _, _, _, _, _, path] = fields[..] else {
                    return Err(bad());
                };
                let orig = records.next().ok_or_else(bad)?;
                let orig = String::from_utf8_lossy(orig).into_owned();
                status
                    .entries
                    .push(tracked(xy, path, Some(orig), false).ok_or_else(bad)?);
            }
            b'u' => {
                let fields: Vec<&str> = text.splitn(11, ' ').collect();
                let [_, xy, _, _, _, _, _, _, _, _, path] = fields[..] else {
                    return Err(bad());
                };
                status
                    .entries
                    .push(tracked(xy, path, None, true).ok_or_else(bad)?);
            }
            b'?' | b'!' => {
                let path = text.get(2..).filter(|p| !p.is_empty()).ok_or_else(bad)?;
                status.entries.push(StatusEntry {
                    path: path.to_string(),
                    orig_path: None,
                    index: Change::Unmodified,
                    worktree: Change::Unmodified,
                    conflicted: false,
                    untracked: record[0] == b'?',
                    ignored: record[0] == b'!',
                });
            }
            _ => return Err(bad()),
        }
    }
    Ok(status)
}

fn tracked(xy: &str, path: &str, orig: Option<String>, conflicted: bool) -> Option<StatusEntry> {
    let &[x, y] = xy.as_bytes() else {
        return None;
    };
    Some(StatusEntry {
        path: path.to_string(),
        orig_path: orig,
        index: Change::from_code(x)?,
        worktree: Change::from_code(y)?,
        conflicted,
        untracked: false,
        ignored: false,
    })
}

/// One `# branch.*` header; other `#` headers (a stash count) are skipped.
fn branch_header(text: &str, branch: &mut BranchInfo) -> Option<()> {
    let rest = text.strip_prefix("# ")?;
    let (key, value) = rest.split_once(' ').unwrap_or((rest, ""));
    match key {
        "branch.oid" => branch.oid = (value != "(initial)").then(|| value.to_string()),
        "branch.head" => {
            branch.detached = value == "(detached)";
            branch.head = (!branch.detached).then(|| value.to_string());
        }
        "branch.upstream" => branch.upstream = Some(value.to_string()),
        "branch.ab" => {
            let (ahead, behind) = value.split_once(' ')?;
            branch.ahead = ahead.strip_prefix('+')?.parse().ok()?;
            branch.behind = behind.strip_prefix('-')?.parse().ok()?;
        }
        _ => {}
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::fixture::TestRepo;
    use super::*;

    const ZERO: &str = "0000000000000000000000000000000000000000";

    /// Writes `entry` as `git status --porcelain=v2 -z` would.
    fn record(entry: &StatusEntry) -> Vec<u8> {
        let xy = format!("{}{}", entry.index.code(), entry.worktree.code());
        let text = if entry.untracked {
            format!("? {}\0", entry.path)
        } else if entry.ignored {
            format!("! {}\0", entry.path)
        } else if entry.conflicted {
            format!(
                "u {xy} N... 100644 100644 100644 100644 {ZERO} {ZERO} {ZERO} {}\0",
                entry.path
            )
        } else if let Some(orig) = &entry.orig_path {
            format!(
                "2 {xy} N... 100644 100644 100644 {ZERO} {ZERO} R100 {}\0{orig}\0",
                entry.path
            )
        } else {
            format!(
                "1 {xy} N... 100644 100644 100644 {ZERO} {ZERO} {}\0",
                entry.path
            )
        };
        text.into_bytes()
    }

    fn change() -> impl Strategy<Value = Change> {
        prop::sample::select(vec![
            Change::Unmodified,
            Change::Modified,
            Change::TypeChanged,
            Change::Added,
            Change::Deleted,
            Change::Renamed,
            Change::Copied,
            Change::Unmerged,
        ])
    }

    /// An entry with a staged change `x` and an unstaged one `y`, and
    /// nothing else to say.
    fn plain(path: &str, x: Change, y: Change) -> StatusEntry {
        StatusEntry {
            path: path.into(),
            orig_path: None,
            index: x,
            worktree: y,
            conflicted: false,
            untracked: false,
            ignored: false,
        }
    }

    fn entry() -> impl Strategy<Value = StatusEntry> {
        let path = "[a-z\u{e9}\u{4e16} \\n\\t#?!]{1,12}(/[a-z. ]{1,8}){0,2}";
        (0u8..5, path, path, change(), change()).prop_map(|(kind, path, orig, x, y)| {
            let mut e = plain(&path, x, y);
            match kind {
                0 => {}
                1 => e.orig_path = Some(orig),
                2 => e.conflicted = true,
                3 | 4 => {
                    e.untracked = kind == 3;
                    e.ignored = kind == 4;
                    e.index = Change::Unmodified;
                    e.worktree = Change::Unmodified;
                }
                _ => unreachable!(),
            }
            e
        })
    }

    proptest! {
        #[test]
        fn parser_reads_every_generated_record(
            entries in proptest::collection::vec(entry(), 0..20),
            ahead in 0usize..1000,
            behind in 0usize..1000,
        ) {
            let mut out = format!(
                "# branch.oid {ZERO}\0# branch.head feature/x y\0# branch.upstream origin/feature/x y\0# branch.ab +{ahead} -{behind}\0"
            ).into_bytes();
            for e in &entries {
                out.extend(record(e));
            }
            let status = parse(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(status.entries, entries);
            prop_assert_eq!(status.branch.head.as_deref(), Some("feature/x y"));
            prop_assert_eq!(status.branch.upstream.as_deref(), Some("origin/feature/x y"));
            prop_assert_eq!((status.branch.ahead, status.branch.behind), (ahead, behind));
        }
    }

    #[test]
    fn detached_and_initial_heads_read_as_none() {
        let status = parse(b"# branch.oid (initial)\0# branch.head (detached)\0").unwrap();
        assert_eq!(status.branch.oid, None);
        assert_eq!(status.branch.head, None);
        assert!(status.branch.detached);
    }

    #[test]
    fn unknown_record_is_an_error_quoting_it() {
        let err = parse(b"3 what\0").unwrap_err();
        assert!(err.to_string().contains("\"3 what\""), "{err}");
    }

    #[test]
    fn markers_follow_the_strongest_change() {
        let e = |x, y| plain("p", x, y);
        use Change::*;
        assert_eq!(e(Added, Modified).marker(), Marker::Added);
        assert_eq!(e(Modified, Deleted).marker(), Marker::Deleted);
        assert_eq!(e(Renamed, Unmodified).marker(), Marker::Renamed);
        assert_eq!(e(Unmodified, TypeChanged).marker(), Marker::Modified);
        assert_eq!(
            StatusEntry {
                conflicted: true,
                ..e(Unmerged, Unmerged)
            }
            .marker(),
            Marker::Conflicted
        );
    }

    /// Times this refresh against libgit2's status on the repository in
    /// `KOLLEGA_STATUS_BENCH_REPO` (figures for docs/performance.md):
    /// `cargo test --release --bin kollega status_refresh_speed -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement on a repository the caller generates"]
    fn status_refresh_speed() {
        let Some(dir) = std::env::var_os("KOLLEGA_STATUS_BENCH_REPO") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        let time = |f: &mut dyn FnMut() -> usize| {
            let mut runs: Vec<(std::time::Duration, usize)> = (0..9)
                .map(|_| {
                    let start = std::time::Instant::now();
                    let n = f();
                    (start.elapsed(), n)
                })
                .collect();
            runs.sort();
            runs[runs.len() / 2]
        };
        let (ours, n) = time(&mut || read(&dir, StatusOptions::default()).unwrap().entries.len());
        let (plain, _) = time(&mut || {
            let out = std::process::Command::new("git")
                .args(["status", "--porcelain"])
                .current_dir(&dir)
                .output()
                .unwrap();
            out.stdout.len()
        });
        let repo = git2::Repository::open(&dir).unwrap();
        let (libgit2, m) = time(&mut || {
            let mut opts = git2::StatusOptions::new();
            opts.include_untracked(true).recurse_untracked_dirs(true);
            repo.statuses(Some(&mut opts)).unwrap().len()
        });
        println!(
            "entries {n}/{m}: status::read {ours:?}, git status --porcelain {plain:?}, libgit2 statuses {libgit2:?}"
        );
    }

    #[test]
    fn refresh_of_a_real_repository_lists_each_kind() {
        let repo = TestRepo::new();
        repo.write("keep.txt", "keep\n");
        repo.write("change.txt", "a\n");
        repo.write("gone.txt", "bye\n");
        repo.write("move.txt", "moving content\nthat stays the same\n");
        repo.write(".gitignore", "*.log\n");
        repo.commit_all("base");
        repo.write("change.txt", "b\n");
        std::fs::remove_file(repo.dir.join("gone.txt")).unwrap();
        repo.git(&["mv", "move.txt", "moved.txt"]);
        repo.write("new dir/n\u{e9}w.txt", "new\n");
        repo.write("staged.txt", "s\n");
        repo.git(&["add", "staged.txt"]);
        repo.write("debug.log", "x\n");
        let status = read(repo.path(), StatusOptions { ignored: true }).unwrap();
        let got: Vec<(String, Marker)> = status
            .entries
            .iter()
            .map(|e| (e.path.clone(), e.marker()))
            .collect();
        let want = [
            ("change.txt", Marker::Modified),
            ("gone.txt", Marker::Deleted),
            ("moved.txt", Marker::Renamed),
            ("staged.txt", Marker::Added),
            ("new dir/n\u{e9}w.txt", Marker::Untracked),
            ("debug.log", Marker::Ignored),
        ];
        for (path, marker) in want {
            assert!(
                got.contains(&(path.to_string(), marker)),
                "{path} should be {marker:?} in {got:?}"
            );
        }
        assert_eq!(got.len(), want.len(), "{got:?}");
        assert_eq!(status.branch.head.as_deref(), Some("main"));
        assert_eq!(status.dirty_count(), 5);
    }
}
