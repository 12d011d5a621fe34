//! `kollega git commit`: commits and amends seen through `git log`, and
//! the refusals that leave the repository as it was.

use crate::common::*;
use serde_json::Value;

fn log(repo: &GitRepo, format: &str) -> String {
    repo.git(&["log", &format!("--format={format}")])
}

#[test]
fn commit_of_staged_changes_shows_in_git_log() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.write("a.txt", "b\n");
    repo.write("b.txt", "not staged\n");
    repo.git(&["add", "a.txt"]);
    let out = repo.kollega(["git", "commit", repo.path_str(), "-m", "Change a"]);
    assert_success(&out);
    let head = repo.git(&["rev-parse", "--short=7", "HEAD"]);
    assert_eq!(
        stdout(&out),
        format!("committed {} on main: Change a\n", head.trim())
    );
    assert_eq!(
        log(&repo, "%s|%an <%ae>|%cn"),
        "Change a|Test Author <author@example.com>|Test Author\nbase|Test Author <author@example.com>|Test Author\n"
    );
    assert_eq!(
        repo.git(&["show", "--format=", "--name-only", "HEAD"]),
        "a.txt\n"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "?? b.txt\n");
    // git's own reflog names the commit like `git commit` does.
    assert_eq!(
        repo.git(&["reflog", "-1", "--format=%gs"]),
        "commit: Change a\n"
    );
}

#[test]
fn first_commit_of_a_new_repository_has_no_parent() {
    let repo = GitRepo::new();
    repo.write("README.md", "# hi\n");
    repo.git(&["add", "README.md"]);
    let out = repo.kollega(["git", "commit", repo.path_str(), "-m", "Initial", "--json"]);
    assert_success(&out);
    let made: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(made["summary"], "Initial");
    assert_eq!(made["branch"], "main");
    assert_eq!(made["amended"], false);
    assert_eq!(
        made["commit"].as_str().unwrap(),
        repo.git(&["rev-parse", "HEAD"]).trim()
    );
    assert_eq!(
        repo.git(&["rev-list", "--parents", "HEAD"])
            .split(' ')
            .count(),
        1
    );
}

#[test]
fn commit_all_takes_tracked_changes_and_deletions_but_not_new_files() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.write("gone.txt", "g\n");
    repo.commit_all("base");
    repo.write("a.txt", "b\n");
    std::fs::remove_file(repo.dir.join("gone.txt")).unwrap();
    repo.write("new.txt", "n\n");
    let out = repo.kollega(["git", "commit", repo.path_str(), "-m", "All", "--all"]);
    assert_success(&out);
    assert_eq!(
        repo.git(&["show", "--format=", "--name-status", "HEAD"]),
        "M\ta.txt\nD\tgone.txt\n"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "?? new.txt\n");
}

#[test]
fn amend_rewrites_head_and_keeps_its_author() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.write("a.txt", "b\n");
    repo.commit_all("Frist");
    let before = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["config", "user.name", "Reviewer"]);
    repo.git(&["config", "user.email", "reviewer@example.com"]);
    repo.write("a.txt", "c\n");
    repo.git(&["add", "a.txt"]);
    let out = repo.kollega(["git", "commit", repo.path_str(), "--amend"]);
    assert_success(&out);
    assert!(stdout(&out).starts_with("amended "), "{}", stdout(&out));
    assert_ne!(repo.git(&["rev-parse", "HEAD"]), before);
    assert_eq!(
        log(&repo, "%s|%an|%cn"),
        "Frist|Test Author|Reviewer\nbase|Test Author|Test Author\n"
    );
    assert_eq!(repo.git(&["show", "HEAD:a.txt"]), "c\n");

    let out = repo.kollega(["git", "commit", repo.path_str(), "--amend", "-m", "First"]);
    assert_success(&out);
    assert_eq!(
        log(&repo, "%s|%an"),
        "First|Test Author\nbase|Test Author\n"
    );
}

#[test]
fn nothing_staged_is_refused_with_a_hint_and_nothing_changes() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.write("a.txt", "b\n");
    let before = repo.snapshot();
    let out = repo.kollega(["git", "commit", repo.path_str(), "-m", "x"]);
    assert_code(&out, 1);
    assert_eq!(
        stderr(&out),
        "error: nothing is staged to commit on main\n\
         hint: stage changes first, or pass --all to commit every change to tracked files\n"
    );
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn empty_message_is_refused_and_a_missing_one_is_a_usage_error() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "a.txt"]);
    let before = repo.snapshot();
    let out = repo.kollega(["git", "commit", repo.path_str(), "-m", "  \n"]);
    assert_code(&out, 1);
    assert!(stderr(&out).starts_with("error: the commit message is empty"));
    let out = repo.kollega(["git", "commit", repo.path_str()]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("--message <MSG>"), "{}", stderr(&out));
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn failing_pre_commit_hook_refuses_and_no_verify_commits() {
    use std::os::unix::fs::PermissionsExt;
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    let hook = repo.dir.join(".husky/pre-commit");
    repo.write(
        ".husky/pre-commit",
        "#!/bin/sh\necho 'eslint: 2 problems' >&2\nexit 1\n",
    );
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    repo.git(&["config", "core.hooksPath", ".husky"]);
    repo.write("a.txt", "b\n");
    repo.git(&["add", "a.txt"]);
    let before = repo.snapshot();
    let out = repo.kollega(["git", "commit", repo.path_str(), "-m", "x"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("the pre-commit hook failed"), "{err}");
    assert!(err.contains("eslint: 2 problems"), "{err}");
    assert!(err.contains("hint: fix what the hook reports"), "{err}");
    assert_eq!(repo.snapshot(), before);
    let out = repo.kollega(["git", "commit", repo.path_str(), "-m", "x", "--no-verify"]);
    assert_success(&out);
}
