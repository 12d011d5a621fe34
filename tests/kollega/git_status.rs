//! `kollega git status`: what it reports against what `git status
//! --porcelain=v2` says about the same real repository.

use std::collections::BTreeMap;

use crate::common::*;
use serde_json::Value;

/// The words kollega's JSON uses for git's XY letters.
fn word(letter: char) -> &'static str {
    match letter {
        '.' => "unmodified",
        'M' => "modified",
        'T' => "typechange",
        'A' => "added",
        'D' => "deleted",
        'R' => "renamed",
        'C' => "copied",
        'U' => "unmerged",
        other => panic!("unexpected status letter {other:?}"),
    }
}

/// (origPath, index, worktree) per path, read from git's own
/// `--porcelain=v2` (without -z: the test's paths need no quoting).
fn porcelain(repo: &GitRepo) -> BTreeMap<String, (Option<String>, String, String)> {
    let text = repo.git(&[
        "-c",
        "core.quotepath=false",
        "status",
        "--porcelain=v2",
        "--untracked-files=all",
    ]);
    let mut entries = BTreeMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let xy: Vec<char> = fields
            .get(1)
            .map(|f| f.chars().collect())
            .unwrap_or_default();
        let (path, orig, index, worktree) = match fields[0] {
            "1" => (fields[8..].join(" "), None, word(xy[0]), word(xy[1])),
            "2" => {
                let rest = fields[9..].join(" ");
                let (path, orig) = rest.split_once('\t').expect("rename has a tab");
                (
                    path.to_string(),
                    Some(orig.to_string()),
                    word(xy[0]),
                    word(xy[1]),
                )
            }
            "u" => (fields[10..].join(" "), None, word(xy[0]), word(xy[1])),
            "?" => (fields[1..].join(" "), None, "unmodified", "untracked"),
            other => panic!("unexpected record {other:?} in {line:?}"),
        };
        entries.insert(path, (orig, index.to_string(), worktree.to_string()));
    }
    entries
}

fn kollega_entries(status: &Value) -> BTreeMap<String, (Option<String>, String, String)> {
    status["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["path"].as_str().expect("path").to_string(),
                (
                    e["origPath"].as_str().map(str::to_string),
                    e["index"].as_str().expect("index").to_string(),
                    e["worktree"].as_str().expect("worktree").to_string(),
                ),
            )
        })
        .collect()
}

fn kinds(status: &Value) -> BTreeMap<String, String> {
    status["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["path"].as_str().expect("path").to_string(),
                e["kind"].as_str().expect("kind").to_string(),
            )
        })
        .collect()
}

#[test]
fn status_matches_git_porcelain_v2_for_every_kind_of_change() {
    let repo = GitRepo::new();
    for name in [
        "modified.txt",
        "staged.txt",
        "both.txt",
        "deleted.txt",
        "removed.txt",
        "conflict.txt",
        "theirs-deleted.txt",
    ] {
        repo.write(name, &format!("{name}\nline 2\nline 3\n"));
    }
    repo.write(
        "old name.txt",
        "a file long enough\nto be found again\nafter its move\n",
    );
    repo.commit_all("base");

    // A conflict first: a side branch and main change the same lines.
    repo.git(&["switch", "-q", "-c", "side"]);
    repo.write("conflict.txt", "side\n");
    repo.write("theirs-deleted.txt", "changed on side\n");
    repo.write("both-added.txt", "side version\n");
    repo.commit_all("side");
    repo.git(&["switch", "-q", "main"]);
    repo.write("conflict.txt", "main\n");
    repo.git(&["rm", "-q", "theirs-deleted.txt"]);
    repo.write("both-added.txt", "main version\n");
    repo.commit_all("main");
    let merge = repo.git_in(&repo.dir, &["merge", "-q", "side"]);
    assert!(!merge.status.success(), "the merge should conflict");

    repo.write("modified.txt", "changed\n");
    repo.write("staged.txt", "staged\n");
    repo.git(&["add", "staged.txt"]);
    repo.write("both.txt", "staged\n");
    repo.git(&["add", "both.txt"]);
    repo.write("both.txt", "and changed again\n");
    std::fs::remove_file(repo.dir.join("deleted.txt")).unwrap();
    repo.git(&["rm", "-q", "removed.txt"]);
    repo.git(&["mv", "old name.txt", "new name.txt"]);
    repo.write("added.txt", "new\n");
    repo.git(&["add", "added.txt"]);
    repo.write("added.txt", "new and edited\n");
    repo.write("untracked dir/caf\u{e9}.txt", "?\n");

    let status = repo.status_json();
    assert_eq!(kollega_entries(&status), porcelain(&repo));
    let want: BTreeMap<String, String> = [
        ("added.txt", "added"),
        ("both-added.txt", "conflicted"),
        ("both.txt", "modified"),
        ("conflict.txt", "conflicted"),
        ("deleted.txt", "deleted"),
        ("modified.txt", "modified"),
        ("new name.txt", "renamed"),
        ("removed.txt", "deleted"),
        ("staged.txt", "modified"),
        ("theirs-deleted.txt", "conflicted"),
        ("untracked dir/caf\u{e9}.txt", "untracked"),
    ]
    .into_iter()
    .map(|(p, k)| (p.to_string(), k.to_string()))
    .collect();
    assert_eq!(kinds(&status), want);
    assert_eq!(status["branch"], "main");
    assert_eq!(status["detached"], false);
}

#[test]
fn status_json_reports_upstream_ahead_and_behind() {
    let repo = GitRepo::new();
    let remote = repo.k.scratch("remote.git");
    let remote = remote.to_str().unwrap();
    repo.git(&["init", "-q", "--bare", "-b", "main", remote]);
    repo.git(&["remote", "add", "origin", remote]);
    repo.write("a.txt", "a\n");
    repo.commit_all("one");
    repo.git(&["push", "-q", "-u", "origin", "main"]);
    // Someone else pushes one commit; we make two.
    let other = repo.k.scratch("other");
    let other_str = other.to_str().unwrap();
    repo.git(&["clone", "-q", remote, other_str]);
    std::fs::write(other.join("b.txt"), "b\n").unwrap();
    for args in [
        vec!["add", "b.txt"],
        vec![
            "-c",
            "user.name=O",
            "-c",
            "user.email=o@example.com",
            "commit",
            "-q",
            "-m",
            "theirs",
        ],
        vec!["push", "-q"],
    ] {
        assert_success(&repo.git_in(&other, &args));
    }
    repo.git(&["fetch", "-q"]);
    for n in ["c", "d"] {
        repo.write(n, "x\n");
        repo.commit_all(n);
    }
    let status = repo.status_json();
    assert_eq!(
        status,
        serde_json::json!({
            "branch": "main",
            "upstream": "origin/main",
            "ahead": 2,
            "behind": 1,
            "detached": false,
            "entries": []
        })
    );
    let out = repo.kollega(["git", "status", repo.path_str()]);
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        "on main, tracking origin/main (ahead 2, behind 1)\nnothing changed\n"
    );
}

#[test]
fn status_text_lists_letters_mark_and_path() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.write("b.txt", "b\n");
    repo.commit_all("base");
    repo.write("a.txt", "changed\n");
    repo.git(&["mv", "b.txt", "c.txt"]);
    repo.write("new.txt", "n\n");
    let out = repo.kollega(["git", "status", repo.path_str()]);
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        "on main, no upstream\n\
         .M  modified    a.txt\n\
         R.  renamed     c.txt <- b.txt\n\
         ??  untracked   new.txt\n"
    );
}

#[test]
fn status_of_an_unborn_branch_and_a_detached_head() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    let status = repo.status_json();
    assert_eq!(status["branch"], "main");
    assert_eq!(kinds(&status)["a.txt"], "untracked");
    let out = repo.kollega(["git", "status", repo.path_str()]);
    assert!(stdout(&out).starts_with("on main, no commits yet\n"));

    repo.commit_all("base");
    repo.git(&["switch", "-q", "--detach"]);
    let status = repo.status_json();
    assert_eq!(status["branch"], Value::Null);
    assert_eq!(status["detached"], true);
    let short = repo.git(&["rev-parse", "--short=7", "HEAD"]);
    let out = repo.kollega(["git", "status", repo.path_str()]);
    assert_eq!(
        stdout(&out),
        format!("HEAD detached at {}nothing changed\n", short)
    );
}

#[test]
fn ignored_files_are_listed_only_when_asked() {
    let repo = GitRepo::new();
    repo.write(".gitignore", "*.log\nbuild/\n");
    repo.commit_all("base");
    repo.write("debug.log", "x\n");
    repo.write("build/out.js", "x\n");
    assert_eq!(repo.status_json()["entries"], serde_json::json!([]));
    let out = repo.kollega(["git", "status", repo.path_str(), "--ignored", "--json"]);
    assert_success(&out);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: BTreeMap<String, String> = [("build/", "ignored"), ("debug.log", "ignored")]
        .into_iter()
        .map(|(p, k)| (p.to_string(), k.to_string()))
        .collect();
    assert_eq!(kinds(&status), want);
}

#[test]
fn status_reads_while_the_index_is_locked_and_leaves_the_lock() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.write("a.txt", "b\n");
    std::fs::write(repo.dir.join(".git/index.lock"), b"").unwrap();
    let before = repo.snapshot();
    let status = repo.status_json();
    assert_eq!(kinds(&status)["a.txt"], "modified");
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn status_of_a_subfolder_reports_the_whole_repository() {
    let repo = GitRepo::new();
    repo.write("src/lib.rs", "a\n");
    repo.write("top.txt", "t\n");
    let out = repo.kollega([
        "git",
        "status",
        repo.dir.join("src").to_str().unwrap(),
        "--json",
    ]);
    assert_success(&out);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        kinds(&status).keys().collect::<Vec<_>>(),
        ["src/lib.rs", "top.txt"]
    );
}

#[test]
fn a_name_that_is_not_a_folder_is_refused_with_a_hint() {
    let repo = GitRepo::new();
    let out = repo.kollega(["git", "status", "no-such-workspace"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "error: no-such-workspace is not a folder\nhint: pass the folder of a git working tree"
        ),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn git_help_has_examples() {
    let repo = GitRepo::new();
    for args in [
        vec!["git", "--help"],
        vec!["git", "status", "--help"],
        vec!["git", "commit", "--help"],
    ] {
        let out = repo.kollega(&args);
        assert_success(&out);
        assert!(stdout(&out).contains("Examples:"), "{args:?}");
    }
}
