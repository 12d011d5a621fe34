use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use proptest::prelude::*;

use super::checkpoint::{self, Change};
use super::target::{Content, Files, MODE_FILE};
use super::*;
use crate::patch::{diff_texts, strategies};
use crate::store::files::{self, FileMeta};
use crate::store::{applies, workspaces};
use crate::workspace::disk::DiskWorkspace;

mod recovery;
mod streamed;

/// A ready stored workspace "site" holding `files` (path, text, executable).
fn stored(store: &mut Store, files: &[(&str, &str, bool)]) -> Target {
    let id = workspaces::create_staging(&store.conn, "site", "/src", 1, "now").unwrap();
    for (path, content, executable) in files {
        let meta = FileMeta {
            executable: *executable,
            encoding: None,
        };
        files::upsert(&store.conn, id, path, content, "h", &meta, "now").unwrap();
    }
    assert!(
        workspaces::publish(
            &store.conn,
            &workspaces::Publish {
                staging_id: id,
                fingerprint: "f",
                taken_over_at: "now",
                ignored: 0,
            },
        )
        .unwrap()
    );
    Target::resolve(store, "site").unwrap()
}

fn folder(root: &Path, files: &[(&str, &str)]) -> Target {
    for (path, content) in files {
        let full = root.join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, content).unwrap();
    }
    Target::resolve_folder(root).unwrap()
}

fn read(store: &Store, target: &Target, path: &str) -> Option<String> {
    target.read(&store.conn, path).unwrap().map(|c| c.text)
}

/// A git-style diff turning each `(path, old, new)` into its new text.
fn diff_of(files: &[(&str, &str, &str)]) -> String {
    let patch = Patch {
        files: files
            .iter()
            .map(|(path, old, new)| diff_texts(old, new, path))
            .collect(),
    };
    patch.to_unified()
}

fn three_files() -> [(&'static str, &'static str); 3] {
    [
        ("a.txt", "one\ntwo\nthree\n"),
        ("src/b.rs", "fn b() {\n    1\n}\n"),
        ("c.md", "# C\n\ntext\nmore\n"),
    ]
}

fn three_file_diff() -> String {
    diff_of(&[
        ("a.txt", "one\ntwo\nthree\n", "one\nTWO\nthree\n"),
        ("src/b.rs", "fn b() {\n    1\n}\n", "fn b() {\n    2\n}\n"),
        ("c.md", "# C\n\ntext\nmore\n", "# C\n\ntext\nMORE\n"),
    ])
}

#[test]
fn search_replace_is_resolved_against_stored_files_then_applied_undone_and_redone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let target = stored(&mut store, &[("app.py", "def f():\n    return 1\n", false)]);
    let reply = "app.py\n```python\n<<<<<<< SEARCH\n    return 1\n=======\n    return 2\n>>>>>>> REPLACE\n```\n";
    let imported = import(&mut store, &target, reply, Source::Ask, "bump").unwrap();
    assert_eq!((imported.files, imported.hunks), (1, 1));
    // Nothing is written before the apply.
    assert_eq!(
        read(&store, &target, "app.py").unwrap(),
        "def f():\n    return 1\n"
    );
    let applied = apply(&mut store, &target, imported.id, Selection::All).unwrap();
    assert_eq!(applied.files, ["app.py"]);
    assert_eq!(
        read(&store, &target, "app.py").unwrap(),
        "def f():\n    return 2\n"
    );
    assert_eq!(
        load(&store, imported.id).unwrap().row.status,
        PatchStatus::Applied
    );
    let undone = undo(&mut store, &target).unwrap();
    assert_eq!(undone.apply_id, applied.apply_id);
    assert_eq!(
        read(&store, &target, "app.py").unwrap(),
        "def f():\n    return 1\n"
    );
    assert_eq!(
        load(&store, imported.id).unwrap().row.status,
        PatchStatus::Pending
    );
    redo(&mut store, &target).unwrap();
    assert_eq!(
        read(&store, &target, "app.py").unwrap(),
        "def f():\n    return 2\n"
    );
    assert!(matches!(
        redo(&mut store, &target),
        Err(ProposalError::Nothing("redo"))
    ));
    // The workspace's counts follow the rows.
    let ws = workspaces::find(&store.conn, "site").unwrap().unwrap();
    assert_eq!(ws.bytes, "def f():\n    return 2\n".len() as u64);
}

#[test]
fn a_block_that_matches_nothing_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let target = stored(&mut store, &[("app.py", "x = 1\n", false)]);
    let reply = "app.py\n<<<<<<< SEARCH\ny = 1\n=======\ny = 2\n>>>>>>> REPLACE\n";
    let err = import(&mut store, &target, reply, Source::Ask, "t").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 2") && text.contains("app.py"), "{text}");
    let err = import(&mut store, &target, "just some prose\n", Source::Ask, "t").unwrap_err();
    assert!(matches!(err, ProposalError::Reply(_)), "{err}");
    assert!(list(&store, &target).unwrap().is_empty());
}

fn failing_hunk_changes_nothing(store: &mut Store, target: &Target) {
    let files_before: Vec<Option<String>> = three_files()
        .iter()
        .map(|(p, _)| read(store, target, p))
        .collect();
    // The third file moved on: its hunk's lines are gone.
    let mut diff = three_file_diff();
    diff = diff.replace(" text\n-more\n+MORE\n", " text\n-less\n+MORE\n");
    let imported = import(store, target, &diff, Source::Import, "t").unwrap();
    let err = apply(store, target, imported.id, Selection::All).unwrap_err();
    let ProposalError::DoesNotApply {
        path,
        hunk,
        expected,
        closest,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!((path.as_str(), *hunk), ("c.md", 3));
    assert!(expected.contains("  | less"), "{expected}");
    assert!(
        closest.contains("(line 1)") && closest.contains("  | more"),
        "{closest}"
    );
    let files_after: Vec<Option<String>> = three_files()
        .iter()
        .map(|(p, _)| read(store, target, p))
        .collect();
    assert_eq!(files_before, files_after);
    assert_eq!(
        applies::last_applied(&store.conn, &target.key).unwrap(),
        None
    );
    assert_eq!(
        load(store, imported.id).unwrap().row.status,
        PatchStatus::Pending
    );
    // Leaving the failing hunk out applies the rest.
    let applied = apply(store, target, imported.id, Selection::Hunks(vec![1, 2])).unwrap();
    assert_eq!(applied.files, ["a.txt", "src/b.rs"]);
    assert_eq!(read(store, target, "a.txt").unwrap(), "one\nTWO\nthree\n");
    assert_eq!(read(store, target, "c.md").unwrap(), "# C\n\ntext\nmore\n");
}

#[test]
fn a_failing_hunk_changes_nothing_in_a_stored_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let files: Vec<(&str, &str, bool)> =
        three_files().iter().map(|(p, c)| (*p, *c, false)).collect();
    let target = stored(&mut store, &files);
    failing_hunk_changes_nothing(&mut store, &target);
}

#[test]
fn a_failing_hunk_changes_nothing_in_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder(&root, &three_files());
    failing_hunk_changes_nothing(&mut store, &target);
    // No temp file is left beside the targets.
    let names: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn only_accepted_hunks_are_applied_and_none_accepted_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let target = folder(&dir.path().join("ws"), &three_files());
    let id = import(&mut store, &target, &three_file_diff(), Source::Import, "t")
        .unwrap()
        .id;
    assert!(matches!(
        apply(&mut store, &target, id, Selection::Accepted),
        Err(ProposalError::NothingAccepted(_))
    ));
    assert!(matches!(
        apply(&mut store, &target, id, Selection::Hunks(vec![4])),
        Err(ProposalError::NoSuchHunk {
            number: 4,
            count: 3,
            ..
        })
    ));
    decide(&mut store, id, &[2], Decision::Accepted, None).unwrap();
    decide(&mut store, id, &[1, 3], Decision::Rejected, Some("keep")).unwrap();
    let applied = apply(&mut store, &target, id, Selection::Accepted).unwrap();
    assert_eq!(
        (applied.files.as_slice(), applied.hunks),
        (&["src/b.rs".to_string()][..], 1)
    );
    assert_eq!(read(&store, &target, "a.txt").unwrap(), "one\ntwo\nthree\n");
    assert_eq!(
        read(&store, &target, "src/b.rs").unwrap(),
        "fn b() {\n    2\n}\n"
    );
    let hunks = load(&store, id).unwrap().hunks();
    assert_eq!(hunks[0].reason.as_deref(), Some("keep"));
    assert!(matches!(
        apply(&mut store, &target, id, Selection::All),
        Err(ProposalError::NotPending {
            status: "applied",
            ..
        })
    ));
}

#[test]
fn undo_is_refused_when_a_file_changed_since_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder(&root, &three_files());
    let id = import(&mut store, &target, &three_file_diff(), Source::Import, "t")
        .unwrap()
        .id;
    apply(&mut store, &target, id, Selection::All).unwrap();
    fs::write(root.join("c.md"), "edited by hand\n").unwrap();
    let err = undo(&mut store, &target).unwrap_err();
    assert!(
        matches!(&err, ProposalError::ChangedSince { path, .. } if path == "c.md"),
        "{err}"
    );
    assert!(err.to_string().contains("lose its edits"), "{err}");
    assert_eq!(read(&store, &target, "a.txt").unwrap(), "one\nTWO\nthree\n");
    // Put back as the apply left it, the undo goes through.
    fs::write(root.join("c.md"), "# C\n\ntext\nMORE\n").unwrap();
    undo(&mut store, &target).unwrap();
    assert_eq!(
        read(&store, &target, "c.md").unwrap(),
        "# C\n\ntext\nmore\n"
    );
    // A redo is refused the same way after an edit.
    fs::write(root.join("a.txt"), "mine\n").unwrap();
    assert!(matches!(
        redo(&mut store, &target),
        Err(ProposalError::ChangedSince { .. })
    ));
}

#[test]
fn a_new_apply_drops_what_could_be_redone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let target = folder(&dir.path().join("ws"), &three_files());
    let first = import(&mut store, &target, &three_file_diff(), Source::Import, "t")
        .unwrap()
        .id;
    apply(&mut store, &target, first, Selection::Hunks(vec![1])).unwrap();
    undo(&mut store, &target).unwrap();
    let second = import(&mut store, &target, &three_file_diff(), Source::Import, "t")
        .unwrap()
        .id;
    apply(&mut store, &target, second, Selection::Hunks(vec![3])).unwrap();
    assert!(matches!(
        redo(&mut store, &target),
        Err(ProposalError::Nothing("redo"))
    ));
}

#[test]
fn modes_renames_additions_and_deletions_round_trip_in_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder(
        &root,
        &[
            ("run.sh", "#!/bin/sh\necho hi\n"),
            ("old.txt", "keep\n"),
            ("gone.txt", "bye\n"),
        ],
    );
    fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o750)).unwrap();
    let diff = "diff --git a/run.sh b/run.sh\n--- a/run.sh\n+++ b/run.sh\n@@ -1,2 +1,2 @@\n #!/bin/sh\n-echo hi\n+echo ho\n\
                diff --git a/tool b/tool\nnew file mode 100755\n--- /dev/null\n+++ b/tool\n@@ -0,0 +1 @@\n+#!/bin/sh\n\
                diff --git a/old.txt b/new.txt\nsimilarity index 100%\nrename from old.txt\nrename to new.txt\n\
                diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n";
    let id = import(&mut store, &target, diff, Source::Import, "t")
        .unwrap()
        .id;
    let applied = apply(&mut store, &target, id, Selection::All).unwrap();
    assert_eq!(applied.files.len(), 5, "{:?}", applied.files);
    let mode = |p: &str| fs::metadata(root.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("run.sh"), 0o750, "an edited file keeps its mode");
    assert_eq!(
        mode("tool") & 0o111,
        0o111,
        "a new file takes the patch's mode"
    );
    assert_eq!(fs::read_to_string(root.join("new.txt")).unwrap(), "keep\n");
    assert!(!root.join("old.txt").exists() && !root.join("gone.txt").exists());
    undo(&mut store, &target).unwrap();
    assert_eq!(
        fs::read_to_string(root.join("run.sh")).unwrap(),
        "#!/bin/sh\necho hi\n"
    );
    assert_eq!(mode("run.sh"), 0o750);
    assert!(root.join("old.txt").exists() && root.join("gone.txt").exists());
    assert!(!root.join("new.txt").exists() && !root.join("tool").exists());
}

#[test]
fn a_stored_workspace_keeps_the_executable_bit_and_takes_a_new_mode() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let target = stored(&mut store, &[("run.sh", "echo hi\n", true)]);
    let diff = "diff --git a/run.sh b/run.sh\n--- a/run.sh\n+++ b/run.sh\n@@ -1 +1 @@\n-echo hi\n+echo ho\n\
                diff --git a/tool b/tool\nnew file mode 100755\n--- /dev/null\n+++ b/tool\n@@ -0,0 +1 @@\n+x\n";
    let id = import(&mut store, &target, diff, Source::Import, "t")
        .unwrap()
        .id;
    apply(&mut store, &target, id, Selection::All).unwrap();
    let Files::Store { id: ws } = target.files else {
        panic!("a stored workspace");
    };
    let (_, meta) = files::content_with_meta(&store.conn, ws, "run.sh")
        .unwrap()
        .unwrap();
    assert!(meta.executable);
    let (_, meta) = files::content_with_meta(&store.conn, ws, "tool")
        .unwrap()
        .unwrap();
    assert!(meta.executable);
}

#[test]
fn a_file_missing_or_in_the_way_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let target = folder(&dir.path().join("ws"), &[("a.txt", "one\ntwo\nthree\n")]);
    let diff = diff_of(&[
        ("a.txt", "one\ntwo\nthree\n", "one\n2\nthree\n"),
        ("nowhere.txt", "x\n", "y\n"),
    ]);
    let id = import(&mut store, &target, &diff, Source::Import, "t")
        .unwrap()
        .id;
    let err = apply(&mut store, &target, id, Selection::All).unwrap_err();
    assert!(err.to_string().contains("nowhere.txt"), "{err}");
    assert!(err.to_string().contains("not in the workspace"), "{err}");
    assert_eq!(read(&store, &target, "a.txt").unwrap(), "one\ntwo\nthree\n");
    let escape = "--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n";
    let id = import(&mut store, &target, escape, Source::Import, "t")
        .unwrap()
        .id;
    assert!(apply(&mut store, &target, id, Selection::All).is_err());
}

#[test]
fn links_and_pipes_in_a_folder_are_refused_or_followed_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("a.txt"), "one\n").unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder(&root, &[("real/a.txt", "one\n"), ("b.txt", "one\n")]);
    std::os::unix::fs::symlink(outside.path(), root.join("out")).unwrap();
    std::os::unix::fs::symlink(root.join("real"), root.join("alias")).unwrap();
    std::os::unix::fs::symlink(root.join("b.txt"), root.join("link.txt")).unwrap();
    let mut try_apply = |path: &str| {
        let diff = diff_of(&[(path, "one\n", "two\n")]);
        let id = import(&mut store, &target, &diff, Source::Import, "t")
            .unwrap()
            .id;
        apply(&mut store, &target, id, Selection::All)
    };
    let err = try_apply("out/a.txt").unwrap_err();
    assert!(err.to_string().contains("leaves the workspace"), "{err}");
    let err = try_apply("link.txt").unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(
        fs::read_to_string(outside.path().join("a.txt")).unwrap(),
        "one\n"
    );
    assert_eq!(fs::read_to_string(root.join("b.txt")).unwrap(), "one\n");
    // A named pipe is refused at once, not waited on.
    let made = std::process::Command::new("mkfifo")
        .arg(root.join("pipe.txt"))
        .status()
        .unwrap();
    assert!(made.success());
    let err = try_apply("pipe.txt").unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    // A folder linked inside the workspace is the folder it names.
    try_apply("alias/a.txt").unwrap();
    assert_eq!(
        fs::read_to_string(root.join("real/a.txt")).unwrap(),
        "two\n"
    );
}

#[test]
fn a_write_failing_midway_puts_back_what_was_already_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    fs::create_dir_all(root.join("d/inside")).unwrap();
    fs::write(root.join("a.txt"), "old\n").unwrap();
    let disk = DiskWorkspace::open(&root).unwrap();
    let content = |text: &str| {
        Some(Content {
            text: text.into(),
            mode: MODE_FILE,
        })
    };
    let changes = [
        Change {
            path: "a.txt".into(),
            before: content("old\n"),
            after: content("new\n"),
        },
        // A file cannot be written where a folder is.
        Change {
            path: "d".into(),
            before: None,
            after: content("x\n"),
        },
    ];
    let err = super::disk::write_all(&disk, &changes).unwrap_err();
    assert!(err.to_string().contains("cannot write d"), "{err}");
    assert_eq!(fs::read_to_string(root.join("a.txt")).unwrap(), "old\n");
    assert!(root.join("d/inside").is_dir());
    let left: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn split_gives_each_piece_a_decision_and_the_pieces_apply() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
    let new = "a\nB\nc\nd\ne\nf\nG\nh\n";
    let target = folder(&dir.path().join("ws"), &[("x", old)]);
    let id = import(
        &mut store,
        &target,
        &diff_of(&[("x", old, new)]),
        Source::Import,
        "t",
    )
    .unwrap()
    .id;
    assert_eq!(load(&store, id).unwrap().hunk_count(), 1);
    assert_eq!(split(&mut store, id, 0, 0).unwrap(), 2);
    let proposal = load(&store, id).unwrap();
    assert_eq!(proposal.hunk_count(), 2);
    // Each piece pending: no decision row until the review decides.
    assert!(proposal.decisions.is_empty());
    assert!(
        proposal
            .hunks()
            .iter()
            .all(|h| h.decision == Decision::Pending)
    );
    apply(&mut store, &target, id, Selection::Hunks(vec![2])).unwrap();
    assert_eq!(
        read(&store, &target, "x").unwrap(),
        "a\nb\nc\nd\ne\nf\nG\nh\n"
    );
}

#[test]
fn removing_a_workspace_removes_its_patches_and_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let target = stored(&mut store, &[("a", "1\n", false)]);
    let id = import(
        &mut store,
        &target,
        &diff_of(&[("a", "1\n", "2\n")]),
        Source::Import,
        "t",
    )
    .unwrap()
    .id;
    apply(&mut store, &target, id, Selection::All).unwrap();
    crate::workspace::remove(&mut store, "site", true).unwrap();
    assert!(patches::get(&store.conn, id).unwrap().is_none());
    assert_eq!(applies::last_applied(&store.conn, "ws:site").unwrap(), None);
    let left: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM apply_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

/// Up to three files: their paths, old texts and new texts.
fn edits() -> impl Strategy<Value = Vec<(String, String, String)>> {
    proptest::collection::vec(("[a-z]{1,4}", strategies::text(), strategies::text()), 1..4)
        .prop_map(|files| {
            let mut seen = std::collections::HashSet::new();
            files
                .into_iter()
                .filter(|(path, _, _)| seen.insert(path.clone()))
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_edits_diffed_and_applied_give_the_targets(files in edits(), on_disk in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("data")).unwrap();
        let target = if on_disk {
            let olds: Vec<(&str, &str)> = files.iter().map(|(p, o, _)| (p.as_str(), o.as_str())).collect();
            folder(&dir.path().join("ws"), &olds)
        } else {
            let olds: Vec<(&str, &str, bool)> =
                files.iter().map(|(p, o, _)| (p.as_str(), o.as_str(), false)).collect();
            stored(&mut store, &olds)
        };
        let patch = Patch {
            files: files
                .iter()
                .map(|(p, o, n)| diff_texts(o, n, p))
                .filter(|f| !f.hunks.is_empty())
                .collect(),
        };
        prop_assume!(!patch.files.is_empty());
        let id = store_patch(&mut store, &target.key, &patch, Source::Ask, "t", None, None, None).unwrap();
        apply(&mut store, &target, id, Selection::All).unwrap();
        for (path, _, new) in &files {
            prop_assert_eq!(read(&store, &target, path), Some(new.clone()));
        }
        undo(&mut store, &target).unwrap();
        for (path, old, _) in &files {
            prop_assert_eq!(read(&store, &target, path), Some(old.clone()));
        }
    }
}

#[test]
fn a_new_file_named_like_an_existing_one_is_flagged() {
    let data = tempfile::tempdir().unwrap();
    let mut store = Store::open(data.path()).unwrap();
    let target = stored(
        &mut store,
        &[
            ("lib/user_service.ts", "export {}\n", false),
            ("lib/cart.ts", "export {}\n", false),
        ],
    );
    let patch = crate::patch::parse(
        b"diff --git a/lib/userService.ts b/lib/userService.ts\nnew file mode 100644\n\
          --- /dev/null\n+++ b/lib/userService.ts\n@@ -0,0 +1 @@\n+export const x = 1;\n\
          diff --git a/lib/orders.ts b/lib/orders.ts\nnew file mode 100644\n\
          --- /dev/null\n+++ b/lib/orders.ts\n@@ -0,0 +1 @@\n+export {}\n",
    )
    .unwrap();
    let warnings = duplicate_warnings(&store, &target.key, &patch).unwrap();
    assert_eq!(
        warnings,
        ["lib/userService.ts is new, and looks like lib/user_service.ts: a duplicate?"]
    );
    // A patch that adds nothing new reads nothing.
    assert!(
        duplicate_warnings(&store, "ws:gone", &Patch::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_definition_named_like_an_existing_one_is_flagged_with_both_places() {
    let data = tempfile::tempdir().unwrap();
    let mut store = Store::open(data.path()).unwrap();
    let target = stored(
        &mut store,
        &[
            (
                "src/date.rs",
                "use std::fmt;\n\npub fn format_date() {}\n\nfn other() {}\n",
                false,
            ),
            (
                "lib/util.py",
                "import sys\n\ndef parse_args():\n    pass\n",
                false,
            ),
            (
                "web/a.ts",
                "export const fetchUser = async () => {};\n",
                false,
            ),
        ],
    );
    let patch = crate::patch::parse(
        b"diff --git a/src/text.rs b/src/text.rs\nnew file mode 100644\n\
          --- /dev/null\n+++ b/src/text.rs\n@@ -0,0 +1,3 @@\n+pub fn formatDate() {}\n+\n+fn fresh_name() {}\n\
          diff --git a/src/date.rs b/src/date.rs\n--- a/src/date.rs\n+++ b/src/date.rs\n\
          @@ -3,3 +3,3 @@\n pub fn format_date() {}\n \n-fn other() {}\n+fn other(x: u8) {}\n\
          diff --git a/tools/cli.py b/tools/cli.py\nnew file mode 100644\n\
          --- /dev/null\n+++ b/tools/cli.py\n@@ -0,0 +1,2 @@\n+class ParseArgs:\n+    pass\n\
          diff --git a/web/b.ts b/web/b.ts\nnew file mode 100644\n\
          --- /dev/null\n+++ b/web/b.ts\n@@ -0,0 +1,2 @@\n+// users\n+export function fetch_user() {}\n",
    )
    .unwrap();
    let warnings = duplicate_warnings(&store, &target.key, &patch).unwrap();
    assert_eq!(
        warnings,
        [
            "src/text.rs:1 defines `formatDate`, like `format_date` at src/date.rs:3: a duplicate?",
            "tools/cli.py:1 defines `ParseArgs`, like `parse_args` at lib/util.py:3: a duplicate?",
            "web/b.ts:2 defines `fetch_user`, like `fetchUser` at web/a.ts:1: a duplicate?",
        ]
    );
}

/// Every file of `root` (path and bytes), in path order.
fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                out.push((name, fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn an_apply_keeps_no_after_and_redo_derives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder(&root, &three_files());
    let diff = format!(
        "{}diff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+fresh\n",
        three_file_diff()
    );
    let id = import(&mut store, &target, &diff, Source::Import, "t")
        .unwrap()
        .id;
    // Hunks 1, 3 and 4: the choice is kept with the checkpoint.
    let applied = apply(&mut store, &target, id, Selection::Hunks(vec![1, 3, 4])).unwrap();
    let after = snapshot(&root);
    let (stored_after, hashes): (i64, i64) = store
        .conn
        .query_row(
            "SELECT COUNT(after), COUNT(after_sha256) FROM apply_files WHERE apply_id = ?1",
            [applied.apply_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (stored_after, hashes),
        (0, 3),
        "only hashes of the after side"
    );
    undo(&mut store, &target).unwrap();
    assert_eq!(
        read(&store, &target, "a.txt").as_deref(),
        Some("one\ntwo\nthree\n")
    );
    assert_eq!(read(&store, &target, "new.txt"), None);
    redo(&mut store, &target).unwrap();
    assert_eq!(snapshot(&root), after, "redo writes what the apply wrote");
    // Undo checks the files against the derived after too.
    fs::write(root.join("c.md"), "edited\n").unwrap();
    assert!(matches!(
        undo(&mut store, &target),
        Err(ProposalError::ChangedSince { .. })
    ));
}

#[test]
fn a_checkpoint_from_before_derivation_still_undoes_and_redoes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder(&root, &three_files());
    let id = import(&mut store, &target, &three_file_diff(), Source::Import, "t")
        .unwrap()
        .id;
    let applied = apply(&mut store, &target, id, Selection::All).unwrap();
    let after = snapshot(&root);
    // The row as a version before migration 14 wrote it: `after` whole,
    // no hashes, no hunks.
    for (path, bytes) in &after {
        store
            .conn
            .execute(
                "UPDATE apply_files SET after = ?3, after_sha256 = NULL
                 WHERE apply_id = ?1 AND path = ?2",
                rusqlite::params![applied.apply_id, path, bytes],
            )
            .unwrap();
    }
    store
        .conn
        .execute(
            "UPDATE applies SET hunks = NULL WHERE id = ?1",
            [applied.apply_id],
        )
        .unwrap();
    // And its patch rewritten: nothing is derived from it.
    store
        .conn
        .execute(
            "UPDATE patch_diffs SET diff = 'gone' WHERE patch_id = ?1",
            [id],
        )
        .unwrap();
    undo(&mut store, &target).unwrap();
    assert_eq!(
        read(&store, &target, "a.txt").as_deref(),
        Some("one\ntwo\nthree\n")
    );
    redo(&mut store, &target).unwrap();
    assert_eq!(snapshot(&root), after);
}

#[test]
fn a_redo_whose_patch_was_split_since_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    let new = "1\nTWO\n3\n4\n5\n6\n7\nEIGHT\n9\n";
    let target = folder(&root, &[("n.txt", old)]);
    let diff = diff_of(&[("n.txt", old, new)]);
    let id = import(&mut store, &target, &diff, Source::Import, "t")
        .unwrap()
        .id;
    apply(&mut store, &target, id, Selection::All).unwrap();
    undo(&mut store, &target).unwrap();
    // One hunk becomes two: the numbers the checkpoint kept name
    // something else now.
    assert_eq!(split(&mut store, id, 0, 0).unwrap(), 2);
    let before = snapshot(&root);
    let refused = redo(&mut store, &target).unwrap_err();
    assert!(
        matches!(
            refused,
            ProposalError::File {
                what: "restored",
                ..
            }
        ),
        "{refused}"
    );
    assert_eq!(snapshot(&root), before);
}

/// `count` files of two hunks each, their texts before and after.
fn many_files(count: usize) -> Vec<(String, String, String)> {
    (0..count)
        .map(|i| {
            let before: String = (0..12).map(|n| format!("file {i} line {n}\n")).collect();
            let after = before
                .replace(&format!("file {i} line 1\n"), &format!("file {i} LINE 1\n"))
                .replace(
                    &format!("file {i} line 10\n"),
                    &format!("file {i} LINE 10\n"),
                );
            (format!("d{}/f{i:03}.txt", i % 7), before, after)
        })
        .collect()
}

/// [`diff_of`] for [`many_files`].
fn diff_of_many(files: &[(String, String, String)]) -> String {
    let triples: Vec<(&str, &str, &str)> = files
        .iter()
        .map(|(p, b, a)| (p.as_str(), b.as_str(), a.as_str()))
        .collect();
    diff_of(&triples)
}

/// [`folder`] holding [`many_files`] as they are before.
fn folder_of_many(root: &Path, files: &[(String, String, String)]) -> Target {
    let befores: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, b, _)| (p.as_str(), b.as_str()))
        .collect();
    folder(root, &befores)
}

#[test]
fn a_patch_of_many_files_is_planned_in_halves_with_its_first_failure_named() {
    let files = many_files(2 * super::apply::PARALLEL_FILES + 3);
    let diff = diff_of_many(&files);

    // Two files that moved on, one in each half: the earlier one is named,
    // and nothing is written.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder_of_many(&root, &files);
    let (early, late) = (10, files.len() - 5);
    for at in [early, late] {
        fs::write(root.join(&files[at].0), "moved on\n").unwrap();
    }
    let imported = import(&mut store, &target, &diff, Source::Import, "t").unwrap();
    let err = apply(&mut store, &target, imported.id, Selection::All).unwrap_err();
    match &err {
        ProposalError::DoesNotApply { path, hunk, .. } => {
            assert_eq!(path, &files[early].0);
            assert_eq!(*hunk, 2 * early + 1);
        }
        other => panic!("{other}"),
    }
    assert_eq!(read(&store, &target, &files[0].0).unwrap(), files[0].1);
    // Only the late one moved on: it is named by its number in the
    // second half.
    fs::write(root.join(&files[early].0), &files[early].1).unwrap();
    let err = apply(&mut store, &target, imported.id, Selection::All).unwrap_err();
    assert!(
        matches!(&err, ProposalError::DoesNotApply { path, hunk, .. }
            if path == &files[late].0 && *hunk == 2 * late + 1),
        "{err}"
    );
    // Every file as it was: the patch applies whole, and undo takes it back.
    fs::write(root.join(&files[late].0), &files[late].1).unwrap();
    apply(&mut store, &target, imported.id, Selection::All).unwrap();
    for (path, _, after) in &files {
        assert_eq!(&read(&store, &target, path).unwrap(), after, "{path}");
    }
    undo(&mut store, &target).unwrap();
    for (path, before, _) in &files {
        assert_eq!(&read(&store, &target, path).unwrap(), before, "{path}");
    }
    // Chosen hunks keep their numbers across the halves.
    let last = 2 * files.len();
    apply(
        &mut store,
        &target,
        imported.id,
        Selection::Hunks(vec![1, last]),
    )
    .unwrap();
    let (first_path, first_before, _) = &files[0];
    let first = read(&store, &target, first_path).unwrap();
    assert!(first.contains("file 0 LINE 1\n") && first.contains("file 0 line 10\n"));
    assert_ne!(&first, first_before);
    let (last_path, _, _) = &files[files.len() - 1];
    let last_text = read(&store, &target, last_path).unwrap();
    let n = files.len() - 1;
    assert!(last_text.contains(&format!("file {n} line 1\n")));
    assert!(last_text.contains(&format!("file {n} LINE 10\n")));
}

#[test]
fn files_that_share_a_path_are_planned_in_order() {
    // The first file changed again at the end of the patch: planned on
    // one thread, in order, the second change on top of the first.
    let mut files = many_files(super::apply::PARALLEL_FILES + 1);
    let (path, _, after) = files[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let target = folder_of_many(&dir.path().join("ws"), &files);
    let again = after.replace("line 5\n", "line five\n");
    files.push((path.clone(), after.clone(), again.clone()));
    let imported = import(
        &mut store,
        &target,
        &diff_of_many(&files),
        Source::Import,
        "t",
    )
    .unwrap();
    apply(&mut store, &target, imported.id, Selection::All).unwrap();
    assert_eq!(read(&store, &target, &path).unwrap(), again);
}

#[test]
fn a_git_diff_is_stored_as_it_came_and_other_diffs_written_out_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let target = folder(&dir.path().join("ws"), &three_files());
    let stored = |store: &Store, id: i64| {
        crate::store::patches::get(&store.conn, id)
            .unwrap()
            .unwrap()
            .diff
    };
    // git's own lines (`index`) are kept: the text parses back whole.
    let git =
        three_file_diff().replace("--- a/a.txt", "index 5626abf..f719efd 100644\n--- a/a.txt");
    assert!(git.starts_with("diff --git "));
    let imported = import(&mut store, &target, &git, Source::Import, "t").unwrap();
    assert_eq!(stored(&store, imported.id), git);
    assert_eq!(
        load(&store, imported.id).unwrap().patch,
        crate::patch::parse(git.as_bytes()).unwrap()
    );
    // A diff in prose, or with its folders to strip, is written out again.
    let prose = format!("The fix:\n{git}");
    let imported = import(&mut store, &target, &prose, Source::Import, "t").unwrap();
    let diff = stored(&store, imported.id);
    assert!(diff.starts_with("diff --git a/a.txt b/a.txt\n"), "{diff}");
    assert!(!diff.contains("index 5626abf"));
    let plain = "--- old/a.txt\n+++ new/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n";
    let imported = import(&mut store, &target, plain, Source::Import, "t").unwrap();
    assert!(stored(&store, imported.id).starts_with("diff --git a/a.txt b/a.txt\n"));
    // Applied at once, the text is stored as it came too.
    let applied = import_and_apply(
        &mut store,
        &target,
        git.to_string().into(),
        Source::Import,
        "t",
    )
    .unwrap();
    assert_eq!(stored(&store, applied.patch_id), git);
    assert_eq!(read(&store, &target, "a.txt").unwrap(), "one\nTWO\nthree\n");
}

#[test]
fn an_import_applied_at_once_that_fails_leaves_no_patch_and_no_change() {
    for in_folder in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("data")).unwrap();
        let files = three_files();
        let target = if in_folder {
            folder(&dir.path().join("ws"), &files)
        } else {
            let rows: Vec<(&str, &str, bool)> = files.iter().map(|&(p, c)| (p, c, false)).collect();
            stored(&mut store, &rows)
        };
        let mut diff = three_file_diff();
        diff.push_str(&diff_of(&[("a.txt", "not\nthere\n", "at\nall\n")]));
        let err = import_and_apply(
            &mut store,
            &target,
            diff.to_string().into(),
            Source::Import,
            "t",
        )
        .unwrap_err();
        assert!(matches!(err, ProposalError::DoesNotApply { .. }), "{err}");
        assert!(
            list(&store, &target).unwrap().is_empty(),
            "folder: {in_folder}"
        );
        for (path, content) in files {
            assert_eq!(read(&store, &target, path).unwrap(), content);
        }
        // The same patch without the hunk that failed applies, once.
        let applied = import_and_apply(
            &mut store,
            &target,
            three_file_diff().to_string().into(),
            Source::Import,
            "t",
        )
        .unwrap();
        assert_eq!(list(&store, &target).unwrap().len(), 1);
        assert_eq!(list(&store, &target).unwrap()[0].id, applied.patch_id);
    }
}
