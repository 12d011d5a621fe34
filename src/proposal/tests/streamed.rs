//! A new patch of many files applied at once into a folder: journaled
//! chunk by chunk while it is planned (see `stream`).

use super::*;

/// Files enough for several chunks on each planning thread.
fn files() -> Vec<(String, String, String)> {
    many_files(2 * super::super::apply::PARALLEL_FILES + 3)
}

fn at_once(store: &mut Store, target: &Target, diff: &str) -> Result<apply::Applied> {
    import_and_apply(store, target, diff.to_string().into(), Source::Import, "t")
}

#[derive(Clone, Copy)]
enum Side {
    Before,
    After,
}

/// Every one of `files` is as `side` has it.
fn assert_sides(store: &Store, target: &Target, files: &[(String, String, String)], side: Side) {
    for (path, before, after) in files {
        let expected = match side {
            Side::Before => before,
            Side::After => after,
        };
        assert_eq!(&read(store, target, path).unwrap(), expected, "{path}");
    }
}

fn checkpoint_rows(store: &Store) -> Vec<applies::ApplyFile> {
    let id: i64 = store
        .conn
        .query_row("SELECT max(id) FROM applies", [], |r| r.get(0))
        .unwrap();
    applies::files(&store.conn, id).unwrap()
}

#[test]
fn a_new_patch_of_many_files_is_journaled_as_it_is_planned_and_undone_whole() {
    let files = files();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let target = folder_of_many(&dir.path().join("ws"), &files);
    let diff = diff_of_many(&files);
    let applied = at_once(&mut store, &target, &diff).unwrap();
    assert_eq!(applied.files.len(), files.len());
    assert_eq!(applied.hunks, 2 * files.len());
    assert_sides(&store, &target, &files, Side::After);
    // One row per file, each `after` kept as its hash, the journal ended.
    let rows = checkpoint_rows(&store);
    assert_eq!(rows.len(), files.len());
    assert!(
        rows.iter()
            .all(|r| r.after.is_none() && r.after_sha256.is_some())
    );
    let writing: Option<String> = store
        .conn
        .query_row("SELECT writing FROM applies", [], |r| r.get(0))
        .unwrap();
    assert_eq!(writing, None);
    assert_eq!(
        list(&store, &target).unwrap()[0].status,
        PatchStatus::Applied
    );
    undo(&mut store, &target).unwrap();
    assert_sides(&store, &target, &files, Side::Before);
    redo(&mut store, &target).unwrap();
    assert_sides(&store, &target, &files, Side::After);
}

#[test]
fn the_first_failure_in_patch_order_is_named_and_nothing_is_left() {
    let files = files();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder_of_many(&root, &files);
    let diff = diff_of_many(&files);
    // Two files that moved on, in the first chunk and the last: the
    // earlier one is named, whichever thread planned it.
    let (early, late) = (3, files.len() - 2);
    for at in [early, late] {
        fs::write(root.join(&files[at].0), "moved on\n").unwrap();
    }
    let err = at_once(&mut store, &target, &diff).unwrap_err();
    match &err {
        ProposalError::DoesNotApply { path, hunk, .. } => {
            assert_eq!(path, &files[early].0);
            assert_eq!(*hunk, 2 * early + 1);
        }
        other => panic!("{other}"),
    }
    // No file written, no patch kept, no checkpoint or journal left.
    for (i, (path, before, _)) in files.iter().enumerate() {
        let expected = if i == early || i == late {
            "moved on\n"
        } else {
            before.as_str()
        };
        assert_eq!(read(&store, &target, path).unwrap(), expected, "{path}");
    }
    assert!(list(&store, &target).unwrap().is_empty());
    let checkpoints: i64 = store
        .conn
        .query_row("SELECT count(*) FROM applies", [], |r| r.get(0))
        .unwrap();
    assert_eq!(checkpoints, 0);
    let rows: i64 = store
        .conn
        .query_row("SELECT count(*) FROM apply_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
    // Only the late one moved on: it is named by its number in the patch.
    fs::write(root.join(&files[early].0), &files[early].1).unwrap();
    let err = at_once(&mut store, &target, &diff).unwrap_err();
    assert!(
        matches!(&err, ProposalError::DoesNotApply { path, hunk, .. }
            if path == &files[late].0 && *hunk == 2 * late + 1),
        "{err}"
    );
    fs::write(root.join(&files[late].0), &files[late].1).unwrap();
    at_once(&mut store, &target, &diff).unwrap();
    assert_eq!(list(&store, &target).unwrap().len(), 1);
}

#[test]
fn a_file_the_patch_leaves_as_it_was_has_the_whole_apply_journaled_with_its_afters() {
    let files = files();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder_of_many(&root, &files);
    fs::write(root.join("same.txt"), "same\n").unwrap();
    // A hunk that takes a line out and puts it back as it was.
    let mut diff = diff_of_many(&files);
    diff.push_str(
        "diff --git a/same.txt b/same.txt\n--- a/same.txt\n+++ b/same.txt\n@@ -1 +1 @@\n-same\n+same\n",
    );
    let applied = at_once(&mut store, &target, &diff).unwrap();
    assert_eq!(applied.files.len(), files.len());
    assert_sides(&store, &target, &files, Side::After);
    assert_eq!(fs::read_to_string(root.join("same.txt")).unwrap(), "same\n");
    // Derivation would not find the file left alone: every `after` is kept.
    let rows = checkpoint_rows(&store);
    assert_eq!(rows.len(), files.len());
    assert!(rows.iter().all(|r| r.after.is_some()));
    undo(&mut store, &target).unwrap();
    assert_sides(&store, &target, &files, Side::Before);
}
