//! Steps cut short (a killed process, a power cut) and taken back whole
//! before the next one; a step another live process is writing is left
//! to it.

use super::*;

/// A pid no process has now: a child that has exited and been reaped.
fn dead_pid() -> i64 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    i64::from(pid)
}

fn text(s: &str) -> Option<Content> {
    Some(Content {
        text: s.into(),
        mode: MODE_FILE,
    })
}

/// What a process killed in the middle of `step` leaves: the step
/// journaled by `writer`, the first `written` of `changes` written in
/// place, the next one written over part way (its first three quarters
/// new, the rest as it was).
fn cut_short(
    store: &Store,
    target: &Target,
    changes: &[Change],
    step: checkpoint::Step,
    writer: &crate::store::applies::Writer,
    written: usize,
) -> i64 {
    let conn = &store.conn;
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let id = checkpoint::begin(tx, target, changes, step, writer, None).unwrap();
    let Files::Dir(disk) = &target.files else {
        panic!("a folder")
    };
    super::disk::write_all(disk, &changes[..written]).unwrap();
    let next = &changes[written];
    let text = &next.after.as_ref().unwrap().text;
    let was = next.before.as_ref().map_or("", |b| b.text.as_str());
    let cut = text.len() * 3 / 4;
    let part = format!("{}{}", &text[..cut], was.get(cut..).unwrap_or(""));
    fs::write(disk.full_path(&next.path).unwrap(), part).unwrap();
    id
}

fn three_changes(forward: bool) -> Vec<Change> {
    let afters = [
        "one\nTWO\nthree\n",
        "fn b() {\n    2\n}\n",
        "# C\n\ntext\nMORE\n",
    ];
    three_files()
        .iter()
        .zip(afters)
        .map(|((path, before), after)| {
            let (from, to) = if forward {
                (before, &after)
            } else {
                (&after, before)
            };
            Change {
                path: path.to_string(),
                before: text(from),
                after: text(to),
            }
        })
        .collect()
}

fn temps_in(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn an_apply_cut_short_is_taken_back_whole_before_the_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder(&root, &three_files());
    let imported = import(&mut store, &target, &three_file_diff(), Source::Import, "t").unwrap();
    let writer = crate::store::applies::Writer {
        pid: dead_pid(),
        boot: crate::store::locks::boot_id(),
    };
    let step = checkpoint::Step::Apply {
        patch_id: imported.id,
    };
    cut_short(&store, &target, &three_changes(true), step, &writer, 2);
    // Killed after two of three files, in the middle of the third: the
    // files are half applied, the third cut inside a line, the rest of
    // which is still the old one's.
    assert_eq!(read(&store, &target, "a.txt").unwrap(), "one\nTWO\nthree\n");
    assert_eq!(
        read(&store, &target, "c.md").unwrap(),
        "# C\n\ntext\nMore\n"
    );
    // A writer of an earlier version went through temp files.
    let c = root.join("c.md");
    let temp = crate::workspace::disk::temp_path(&c, writer.pid as u32, Some(2));
    fs::write(temp, "# C\n\ntext\nMO").unwrap();
    assert!(!temps_in(&root).is_empty());

    let recovered = recover(&mut store, &target).unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].step, "apply");
    assert_eq!(recovered[0].files, ["a.txt", "c.md", "src/b.rs"]);
    assert!(recovered[0].left.is_empty());
    for (path, before) in three_files() {
        assert_eq!(read(&store, &target, path).unwrap(), before, "{path}");
    }
    assert!(temps_in(&root).is_empty(), "{:?}", temps_in(&root));
    // Nothing is left to undo, the patch is still to apply, and it applies.
    assert!(matches!(
        undo(&mut store, &target),
        Err(ProposalError::Nothing("undo"))
    ));
    assert_eq!(
        load(&store, imported.id).unwrap().row.status,
        PatchStatus::Pending
    );
    assert!(recover(&mut store, &target).unwrap().is_empty());
    apply(&mut store, &target, imported.id, Selection::All).unwrap();
    assert_eq!(
        read(&store, &target, "c.md").unwrap(),
        "# C\n\ntext\nMORE\n"
    );
    undo(&mut store, &target).unwrap();
    for (path, before) in three_files() {
        assert_eq!(read(&store, &target, path).unwrap(), before, "{path}");
    }
}

#[test]
fn a_file_cut_before_its_mode_and_a_new_file_cut_short_are_taken_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder(&root, &[("run.sh", "echo one\n")]);
    let imported = import(&mut store, &target, &three_file_diff(), Source::Import, "t").unwrap();
    let changes = [
        Change {
            path: "run.sh".into(),
            before: text("echo one\n"),
            after: Some(Content {
                text: "echo two\n".into(),
                mode: super::target::MODE_EXECUTABLE,
            }),
        },
        Change {
            path: "new/made.txt".into(),
            before: None,
            after: text("a new file\n"),
        },
    ];
    let writer = crate::store::applies::Writer {
        pid: dead_pid(),
        boot: crate::store::locks::boot_id(),
    };
    let step = checkpoint::Step::Apply {
        patch_id: imported.id,
    };
    let tx =
        rusqlite::Transaction::new_unchecked(&store.conn, rusqlite::TransactionBehavior::Immediate)
            .unwrap();
    checkpoint::begin(tx, &target, &changes, step, &writer, None).unwrap();
    // Killed after run.sh's write, before its mode, and in the middle of
    // the new file.
    fs::write(root.join("run.sh"), "echo two\n").unwrap();
    fs::create_dir_all(root.join("new")).unwrap();
    fs::write(root.join("new/made.txt"), "a new").unwrap();

    let recovered = recover(&mut store, &target).unwrap();
    assert_eq!(recovered[0].files, ["new/made.txt", "run.sh"]);
    assert!(recovered[0].left.is_empty());
    assert_eq!(
        fs::read_to_string(root.join("run.sh")).unwrap(),
        "echo one\n"
    );
    let mode = fs::metadata(root.join("run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0, "{mode:o}");
    assert!(!root.join("new/made.txt").exists());
}

#[test]
fn an_undo_cut_short_is_taken_back_and_a_file_edited_since_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder(&root, &three_files());
    let imported = import(&mut store, &target, &three_file_diff(), Source::Import, "t").unwrap();
    let applied = apply(&mut store, &target, imported.id, Selection::All).unwrap();
    let writer = crate::store::applies::Writer {
        pid: dead_pid(),
        boot: crate::store::locks::boot_id(),
    };
    let step = checkpoint::Step::Undo {
        apply_id: applied.apply_id,
        patch_id: Some(imported.id),
    };
    cut_short(&store, &target, &three_changes(false), step, &writer, 1);
    assert_eq!(read(&store, &target, "a.txt").unwrap(), "one\ntwo\nthree\n");
    // Someone edits a file the undo had not reached yet.
    fs::write(root.join("c.md"), "mine\n").unwrap();

    // Undo recovers first: the cut undo is taken back (the apply stands),
    // then refuses to undo over the edit.
    let err = undo(&mut store, &target).unwrap_err();
    assert!(matches!(err, ProposalError::ChangedSince { .. }), "{err}");
    assert_eq!(read(&store, &target, "a.txt").unwrap(), "one\nTWO\nthree\n");
    assert_eq!(
        read(&store, &target, "src/b.rs").unwrap(),
        "fn b() {\n    2\n}\n"
    );
    assert_eq!(read(&store, &target, "c.md").unwrap(), "mine\n");
    assert!(temps_in(&root).is_empty());
    assert_eq!(
        load(&store, imported.id).unwrap().row.status,
        PatchStatus::Applied
    );
    // With the edit gone, undo takes the whole apply back.
    fs::write(root.join("c.md"), "# C\n\ntext\nMORE\n").unwrap();
    undo(&mut store, &target).unwrap();
    for (path, before) in three_files() {
        assert_eq!(read(&store, &target, path).unwrap(), before, "{path}");
    }
}

#[test]
fn a_step_another_live_process_is_writing_is_not_taken_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let root = dir.path().join("ws");
    let target = folder(&root, &three_files());
    let imported = import(&mut store, &target, &three_file_diff(), Source::Import, "t").unwrap();
    // A live process stands for another kollega writing the step.
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let writer = crate::store::applies::Writer {
        pid: i64::from(child.id()),
        boot: crate::store::locks::boot_id(),
    };
    let step = checkpoint::Step::Apply {
        patch_id: imported.id,
    };
    cut_short(&store, &target, &three_changes(true), step, &writer, 1);
    let err = apply(&mut store, &target, imported.id, Selection::All).unwrap_err();
    assert!(matches!(err, ProposalError::Writing { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("pid {}", child.id())),
        "{err}"
    );
    assert_eq!(read(&store, &target, "a.txt").unwrap(), "one\nTWO\nthree\n");
    // Once the writer is gone, its step is taken back.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(recover(&mut store, &target).unwrap().len(), 1);
    assert_eq!(read(&store, &target, "a.txt").unwrap(), "one\ntwo\nthree\n");
}
