use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::git::fixture::TestRepo;
use crate::proposal::import;
use crate::store::patches::{PatchStatus, Source};

/// A repository with two committed files (one in a folder), a store, and
/// the repository's folder as a workspace.
fn setup() -> (TestRepo, tempfile::TempDir, Store, Target) {
    let repo = TestRepo::new();
    repo.write("a.txt", "one\ntwo\nthree\n");
    repo.write("src/b.txt", "alpha\nbeta\n");
    repo.write("notes.txt", "mine\n");
    repo.commit_all("base");
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(data.path()).unwrap();
    let target = Target::resolve_folder(repo.path()).unwrap();
    (repo, data, store, target)
}

const DIFF: &str = "\
--- a/a.txt
+++ b/a.txt
@@ -1,3 +1,3 @@
 one
-two
+TWO
 three
--- a/src/b.txt
+++ b/src/b.txt
@@ -1,2 +1,2 @@
-alpha
+ALPHA
 beta
";

fn patch(store: &mut Store, target: &Target) -> i64 {
    import(store, target, DIFF, Source::Import, "Shout two words")
        .unwrap()
        .id
}

fn status_of(store: &Store, id: i64) -> PatchStatus {
    crate::store::patches::get(&store.conn, id)
        .unwrap()
        .unwrap()
        .status
}

#[test]
fn an_apply_is_committed_alone_with_the_patch_message_and_undone_by_a_revert() {
    let (repo, _data, mut store, target) = setup();
    // The user's own unstaged edit stays out of the commit.
    repo.write("notes.txt", "mine, edited\n");
    let id = patch(&mut store, &target);
    let (applied, committed) = apply_and_commit(&mut store, &target, id, Selection::All).unwrap();
    assert_eq!(committed.summary, "Shout two words");
    assert_eq!(
        repo.git(&["log", "-1", "--format=%H"]).trim(),
        committed.commit
    );
    let files = repo.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files.lines().collect::<Vec<_>>(), ["a.txt", "src/b.txt"]);
    assert_eq!(repo.git(&["status", "--porcelain"]), " M notes.txt\n");
    let row = applies::last_applied(&store.conn, &target.key)
        .unwrap()
        .unwrap();
    assert_eq!(row.id, applied.apply_id);
    assert_eq!(row.commit_id.as_deref(), Some(committed.commit.as_str()));

    let undone = undo(&mut store, &target).unwrap();
    let revert = undone.commit.expect("a revert commit");
    assert_eq!(revert.summary, "Revert \"Shout two words\"");
    assert_eq!(repo.read("a.txt"), "one\ntwo\nthree\n");
    assert_eq!(repo.read("src/b.txt"), "alpha\nbeta\n");
    let body = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        body.contains(&format!("This reverts commit {}.", committed.commit)),
        "{body}"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), " M notes.txt\n");
    assert_eq!(status_of(&store, id), PatchStatus::Pending);

    let redone = redo(&mut store, &target).unwrap();
    let again = redone.commit.expect("committed again");
    assert_eq!(again.summary, "Shout two words");
    assert_eq!(repo.read("a.txt"), "one\nTWO\nthree\n");
    let row = applies::last_applied(&store.conn, &target.key)
        .unwrap()
        .unwrap();
    assert_eq!(row.commit_id.as_deref(), Some(again.commit.as_str()));
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]).trim(), "4");
}

#[test]
fn other_staged_changes_refuse_the_apply_before_anything_is_written() {
    let (repo, _data, mut store, target) = setup();
    repo.write("notes.txt", "staged work\n");
    repo.git(&["add", "notes.txt"]);
    let id = patch(&mut store, &target);
    let err = apply_and_commit(&mut store, &target, id, Selection::All).unwrap_err();
    assert!(
        matches!(&err, ProposalError::Git(GitError::OtherStaged { path, more: 0 }) if path == "notes.txt"),
        "{err:?}"
    );
    assert!(
        crate::error::describe(&err).contains("git restore --staged"),
        "{err}"
    );
    assert_eq!(repo.read("a.txt"), "one\ntwo\nthree\n");
    assert_eq!(status_of(&store, id), PatchStatus::Pending);
    assert_eq!(repo.git(&["status", "--porcelain"]), "M  notes.txt\n");
}

#[test]
fn a_failing_hook_takes_the_apply_back_and_unstages_its_files() {
    let (repo, _data, mut store, target) = setup();
    let hook = repo.path().join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\necho 'lint says no' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let id = patch(&mut store, &target);
    let err = apply_and_commit(&mut store, &target, id, Selection::All).unwrap_err();
    assert!(
        matches!(
            &err,
            ProposalError::NotCommitted {
                step: "apply",
                left: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("lint says no"), "{err}");
    assert_eq!(repo.read("a.txt"), "one\ntwo\nthree\n");
    assert_eq!(repo.read("src/b.txt"), "alpha\nbeta\n");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]).trim(), "1");
    assert_eq!(status_of(&store, id), PatchStatus::Pending);
}

#[test]
fn a_folder_outside_git_cannot_commit_and_plain_applies_stay_uncommitted() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::write(ws.join("a.txt"), "one\ntwo\nthree\n").unwrap();
    std::fs::write(ws.join("src/b.txt"), "alpha\nbeta\n").unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let target = Target::resolve_folder(&ws).unwrap();
    assert!(!commits_in(&target));
    let id = patch(&mut store, &target);
    let err = apply_and_commit(&mut store, &target, id, Selection::All).unwrap_err();
    assert!(matches!(err, ProposalError::NotGit(_)), "{err:?}");
    assert_eq!(
        std::fs::read_to_string(ws.join("a.txt")).unwrap(),
        "one\ntwo\nthree\n"
    );
    super::super::apply(&mut store, &target, id, Selection::All).unwrap();
    assert_eq!(undo(&mut store, &target).unwrap().commit, None);
}
