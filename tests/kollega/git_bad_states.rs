//! Every state in which kollega refuses to commit: exit 1, a message that
//! names the state, a hint with the fix, and the repository exactly as it
//! was (status, refs, HEAD, index bytes, operation files).

use crate::common::*;

/// A repository with one commit and a staged change, ready to commit
/// but for whatever the test breaks.
fn staged_repo() -> GitRepo {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.write("a.txt", "staged\n");
    repo.git(&["add", "a.txt"]);
    repo
}

/// Runs `kollega git commit` expecting a refusal; returns (error, hint)
/// lines and checks that nothing changed.
fn refused_commit(repo: &GitRepo) -> (String, String) {
    let before = repo.snapshot();
    let out = repo.kollega(["git", "commit", repo.path_str(), "-m", "should not happen"]);
    assert_code(&out, 1);
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));
    assert_eq!(repo.snapshot(), before, "the repository changed");
    let err = stderr(&out);
    let mut lines = err.lines();
    let error = lines.next().unwrap_or_default().to_string();
    let hint = lines.next().unwrap_or_default().to_string();
    assert!(error.starts_with("error: "), "{err}");
    assert!(hint.starts_with("hint: "), "{err}");
    (error, hint)
}

#[test]
fn folder_outside_any_repository_is_not_a_repository() {
    let repo = GitRepo::new();
    let plain = repo.k.scratch("plain");
    write_tree(&plain, &tree([("index.html", "<h1>hi</h1>\n")]));
    let before = read_tree(&plain);
    for args in [
        vec!["git", "status", plain.to_str().unwrap()],
        vec!["git", "commit", plain.to_str().unwrap(), "-m", "x"],
    ] {
        let out = repo.kollega(&args);
        assert_code(&out, 1);
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!(
                "error: {} is not in a git repository\nhint: ",
                plain.display()
            )),
            "{err}"
        );
        assert!(err.contains("git init"), "{err}");
    }
    assert_eq!(read_tree(&plain), before);
    assert!(!plain.join(".git").exists());
}

#[test]
fn bare_repository_has_no_working_tree() {
    let repo = GitRepo::new();
    let bare = repo.k.scratch("bare.git");
    repo.git(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    let before = read_tree(&bare);
    for args in [
        vec!["git", "status", bare.to_str().unwrap()],
        vec!["git", "commit", bare.to_str().unwrap(), "-m", "x"],
    ] {
        let out = repo.kollega(&args);
        assert_code(&out, 1);
        let err = stderr(&out);
        assert!(err.contains("is a bare repository"), "{err}");
        assert!(err.contains("hint: clone it into a working tree"), "{err}");
    }
    assert_eq!(read_tree(&bare), before);
}

#[test]
fn detached_head_is_refused_naming_the_commit() {
    let repo = staged_repo();
    repo.git(&["switch", "-q", "--detach"]);
    let short = repo.git(&["rev-parse", "--short=7", "HEAD"]);
    let (error, hint) = refused_commit(&repo);
    assert!(
        error.starts_with(&format!("error: HEAD is detached at {}", short.trim())),
        "{error}"
    );
    assert!(hint.contains("git switch -c"), "{hint}");
}

#[test]
fn merge_in_progress_is_refused_with_continue_and_abort() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.git(&["switch", "-q", "-c", "side"]);
    repo.write("a.txt", "side\n");
    repo.commit_all("side");
    repo.git(&["switch", "-q", "main"]);
    repo.write("a.txt", "main\n");
    repo.commit_all("main");
    assert!(
        !repo
            .git_in(&repo.dir, &["merge", "-q", "side"])
            .status
            .success()
    );
    // Even with the conflict resolved and staged, a libgit2 commit would
    // drop the merge parent: only `git commit` may finish a merge.
    repo.write("a.txt", "resolved\n");
    repo.git(&["add", "a.txt"]);
    let (error, hint) = refused_commit(&repo);
    assert!(error.contains("a merge is in progress"), "{error}");
    assert!(hint.contains("git merge --abort"), "{hint}");
}

#[test]
fn rebase_in_progress_is_refused_before_its_detached_head() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.git(&["switch", "-q", "-c", "topic"]);
    repo.write("a.txt", "topic\n");
    repo.commit_all("topic");
    repo.git(&["switch", "-q", "main"]);
    repo.write("a.txt", "main\n");
    repo.commit_all("main");
    repo.git(&["switch", "-q", "topic"]);
    assert!(
        !repo
            .git_in(&repo.dir, &["rebase", "-q", "main"])
            .status
            .success()
    );
    let (error, hint) = refused_commit(&repo);
    assert!(error.contains("a rebase is in progress"), "{error}");
    assert!(hint.contains("git rebase --continue"), "{hint}");
}

#[test]
fn cherry_pick_in_progress_is_refused() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("base");
    repo.git(&["switch", "-q", "-c", "side"]);
    repo.write("a.txt", "side\n");
    repo.commit_all("side");
    repo.git(&["switch", "-q", "main"]);
    repo.write("a.txt", "main\n");
    repo.commit_all("main");
    assert!(
        !repo
            .git_in(&repo.dir, &["cherry-pick", "side"])
            .status
            .success()
    );
    let (error, hint) = refused_commit(&repo);
    assert!(error.contains("a cherry-pick is in progress"), "{error}");
    assert!(hint.contains("git cherry-pick --abort"), "{hint}");
}

#[test]
fn locked_index_is_refused_naming_the_lock_file() {
    let repo = staged_repo();
    let lock = repo.dir.join(".git/index.lock");
    std::fs::write(&lock, b"").unwrap();
    let (error, hint) = refused_commit(&repo);
    assert_eq!(
        error,
        format!(
            "error: the index is locked: {} exists; nothing was changed",
            lock.display()
        )
    );
    assert!(
        hint.contains(&format!("if no git is running remove {}", lock.display())),
        "{hint}"
    );
    assert!(lock.exists(), "kollega must not remove another git's lock");
}

#[test]
fn missing_identity_is_refused_with_the_git_config_commands() {
    let repo = staged_repo();
    repo.git(&["config", "--unset", "user.name"]);
    repo.git(&["config", "--unset", "user.email"]);
    let (error, hint) = refused_commit(&repo);
    assert_eq!(
        error,
        "error: no author identity: user.name and user.email are not set; nothing was committed"
    );
    assert!(
        hint.contains("`git config --global user.name \"Your Name\"`")
            && hint.contains("`git config --global user.email you@example.com`"),
        "{hint}"
    );
}

#[test]
fn identity_from_the_environment_is_enough() {
    let repo = staged_repo();
    repo.git(&["config", "--unset", "user.name"]);
    repo.git(&["config", "--unset", "user.email"]);
    let out = repo
        .k
        .std_cmd()
        .args(["git", "commit", repo.path_str(), "-m", "from env"])
        .env("GIT_AUTHOR_NAME", "Env Author")
        .env("GIT_AUTHOR_EMAIL", "env@example.com")
        .env("GIT_COMMITTER_NAME", "Env Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>"]),
        "Env Author <env@example.com>|Env Committer <committer@example.com>\n"
    );
}

#[test]
fn missing_email_alone_names_only_the_email() {
    let repo = staged_repo();
    repo.git(&["config", "--unset", "user.email"]);
    let (error, hint) = refused_commit(&repo);
    assert!(error.contains("user.email is not set"), "{error}");
    assert!(!hint.contains("user.name"), "{hint}");
}
