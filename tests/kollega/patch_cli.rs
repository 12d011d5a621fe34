//! Patches through the real binary: `patch import` in every edit format,
//! `patch show --json`, `patch accept|reject|apply` (all or nothing across
//! files, in stored and folder workspaces), `undo` and `redo`, file modes,
//! equivalence with `git apply`, and bad input.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use crate::common::{
    GitRepo, Kollega, assert_code, assert_success, json_error, read_tree, stderr, stdout, tree,
    write_tree,
};

const A: &str = "one\ntwo\nthree\n";
const B: &str = "fn b() {\n    1\n}\n";
const C: &str = "# C\n\ntext\nmore\n";

/// A git-style diff of three files: one hunk each, numbered 1, 2, 3.
const THREE: &str = "\
diff --git a/a.txt b/a.txt
--- a/a.txt
+++ b/a.txt
@@ -1,3 +1,3 @@
 one
-two
+TWO
 three
diff --git a/src/b.rs b/src/b.rs
--- a/src/b.rs
+++ b/src/b.rs
@@ -1,3 +1,3 @@
 fn b() {
-    1
+    2
 }
diff --git a/c.md b/c.md
--- a/c.md
+++ b/c.md
@@ -1,4 +1,4 @@
 # C
 
 text
-more
+MORE
";

fn three_files() -> crate::common::Tree {
    tree([("a.txt", A), ("src/b.rs", B), ("c.md", C)])
}

/// A stored workspace "shop" made of the three files.
fn shop(k: &Kollega) {
    let src = k.scratch("src");
    write_tree(&src, &three_files());
    k.import(&src, "shop", &[]);
}

/// A folder holding the three files.
fn folder(k: &Kollega) -> PathBuf {
    let dir = k.scratch("folder");
    write_tree(&dir, &three_files());
    dir
}

fn write_patch(k: &Kollega, name: &str, text: &str) -> PathBuf {
    let path = k.scratch(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `patch import WS FILE --json`: the new patch's id.
fn import(k: &Kollega, ws: &str, text: &str) -> Value {
    let file = write_patch(k, "in.patch", text);
    k.json(["patch", "import", ws, file.to_str().unwrap(), "--json"])
}

fn cat(k: &Kollega, path: &str) -> String {
    let out = k.run(["cat", "shop", path]);
    assert_success(&out);
    stdout(&out)
}

#[test]
fn every_edit_format_imports_into_a_patch_with_numbered_hunks() {
    let k = Kollega::new();
    shop(&k);
    let unified = import(&k, "shop", THREE);
    assert_eq!(
        (unified["files"].as_u64(), unified["hunks"].as_u64()),
        (Some(3), Some(3))
    );
    let envelope = import(
        &k,
        "shop",
        "*** Begin Patch\n*** Update File: a.txt\n@@\n one\n-two\n+zwei\n three\n*** Add File: d.txt\n+new\n*** End Patch\n",
    );
    assert_eq!(envelope["files"], 2);
    let search = import(
        &k,
        "shop",
        "src/b.rs\n```rust\n<<<<<<< SEARCH\n    1\n=======\n    3\n>>>>>>> REPLACE\n```\n",
    );
    assert_eq!(
        (search["files"].as_u64(), search["hunks"].as_u64()),
        (Some(1), Some(1))
    );
    let lines = import(&k, "shop", "=== lines c.md 3-4\nTEXT\nMORE\n=== end\n");
    assert_eq!(lines["files"], 1);
    // Nothing is written before an apply.
    assert_eq!(cat(&k, "a.txt"), A);

    let show = k.json(["patch", "show", &unified["patchId"].to_string(), "--json"]);
    let files = show["files"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["a.txt", "src/b.rs", "c.md"]);
    let hunk = &files[2]["hunks"][0];
    assert_eq!(hunk["number"], 3);
    assert_eq!(hunk["header"], "@@ -1,4 +1,4 @@");
    assert_eq!(hunk["decision"], "pending");
    assert_eq!(
        (hunk["added"].as_u64(), hunk["removed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(files[0]["status"], "modified");

    let ls = k.json(["patch", "ls", "shop", "--json"]);
    assert_eq!(ls["patches"].as_array().unwrap().len(), 4);
    let text = stdout(&k.run(["patch", "show", &unified["patchId"].to_string()]));
    assert!(
        text.contains("# hunk 3 (pending)") && text.contains("+MORE"),
        "{text}"
    );
    // Said as people say it: one hunk in one file.
    let file = write_patch(
        &k,
        "one.patch",
        "*** Begin Patch\n*** Update File: a.txt\n@@\n one\n-two\n+two!\n three\n*** End Patch\n",
    );
    let out = k.run(["patch", "import", "shop", file.to_str().unwrap()]);
    assert_success(&out);
    assert!(
        stdout(&out).contains(": 1 hunk in 1 file for shop"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn selected_hunks_apply_then_undo_and_redo_round_trip() {
    let k = Kollega::new();
    shop(&k);
    let id = import(&k, "shop", THREE)["patchId"].to_string();
    let applied = k.json(["patch", "apply", &id, "--hunks", "1,3", "--json"]);
    assert_eq!(applied["hunks"], 2);
    assert_eq!(applied["files"], serde_json::json!(["a.txt", "c.md"]));
    assert_eq!(cat(&k, "a.txt"), "one\nTWO\nthree\n");
    assert_eq!(cat(&k, "src/b.rs"), B);
    assert_eq!(cat(&k, "c.md"), "# C\n\ntext\nMORE\n");

    let undone = k.json(["undo", "shop", "--json"]);
    assert_eq!(undone["patchId"].to_string(), id);
    assert_eq!(
        (cat(&k, "a.txt"), cat(&k, "c.md")),
        (A.to_string(), C.to_string())
    );
    let redone = k.json(["redo", "shop", "--json"]);
    assert_eq!(redone["files"].as_array().unwrap().len(), 2);
    assert_eq!(cat(&k, "a.txt"), "one\nTWO\nthree\n");
    let out = k.run(["redo", "shop"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("nothing to redo"), "{}", stderr(&out));
    // The workspace's listing follows the files.
    let show = k.json(["show", "shop", "--json"]);
    assert_eq!(
        show["files_count"].as_u64().or(show["filesCount"].as_u64()),
        Some(3)
    );
}

fn assert_failing_hunk_changes_nothing(k: &Kollega, ws: &str, read: &dyn Fn() -> Vec<String>) {
    let before = read();
    let broken = THREE.replace(" text\n-more\n", " text\n-less\n");
    let id = import(k, ws, &broken)["patchId"].to_string();
    let out = k.run(["patch", "apply", &id, "--all"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("hunk 3 of c.md does not apply"), "{err}");
    assert!(
        err.contains("  | less") && err.contains("closest found (line 1)"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(read(), before);
    let out = k.run(["patch", "apply", &id, "--all", "--json"]);
    assert_code(&out, 1);
    assert_eq!(json_error(&out)["kind"], "patch");
    assert_eq!(read(), before);
    // Nothing to undo: the failed apply left no checkpoint.
    assert_code(&k.run(["undo", ws]), 1);

    // Imported and applied at once: the same failure, nothing written,
    // the patch kept for review.
    let file = write_patch(k, "broken.patch", &broken);
    let out = k.run(["patch", "import", ws, file.to_str().unwrap(), "--apply"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("hunk 3 of c.md does not apply"), "{err}");
    assert!(err.contains("for review: kollega patch show"), "{err}");
    assert_eq!(read(), before);
    assert_code(&k.run(["undo", ws]), 1);
    let listed = k.json(["patch", "ls", ws, "--json"]);
    assert_eq!(listed["patches"][0]["status"], "pending");
}

#[test]
fn a_failing_hunk_changes_nothing_across_three_stored_files() {
    let k = Kollega::new();
    shop(&k);
    let read = || ["a.txt", "src/b.rs", "c.md"].map(|p| cat(&k, p)).to_vec();
    assert_failing_hunk_changes_nothing(&k, "shop", &read);
}

#[test]
fn a_failing_hunk_changes_nothing_across_three_files_in_a_folder() {
    let k = Kollega::new();
    let dir = folder(&k);
    let read = || {
        read_tree(&dir)
            .into_iter()
            .map(|(p, c)| format!("{p}={}", String::from_utf8_lossy(&c)))
            .collect::<Vec<_>>()
    };
    assert_failing_hunk_changes_nothing(&k, dir.to_str().unwrap(), &read);
}

#[test]
fn undo_is_refused_after_a_later_edit_and_nothing_changes() {
    let k = Kollega::new();
    let dir = folder(&k);
    let ws = dir.to_str().unwrap();
    let id = import(&k, ws, THREE)["patchId"].to_string();
    k.json(["patch", "apply", &id, "--all", "--json"]);
    std::fs::write(dir.join("src/b.rs"), "my own edit\n").unwrap();
    let out = k.run(["undo", ws, "--json"]);
    assert_code(&out, 1);
    let error = json_error(&out);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("src/b.rs has changed since the last apply"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("a.txt")).unwrap(),
        "one\nTWO\nthree\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("src/b.rs")).unwrap(),
        "my own edit\n"
    );
}

#[test]
fn file_modes_are_kept_and_new_files_take_the_patch_mode() {
    let k = Kollega::new();
    let dir = k.scratch("modes");
    write_tree(&dir, &tree([("run.sh", "#!/bin/sh\necho hi\n")]));
    std::fs::set_permissions(dir.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let ws = dir.to_str().unwrap();
    let diff = "diff --git a/run.sh b/run.sh\n--- a/run.sh\n+++ b/run.sh\n@@ -1,2 +1,2 @@\n #!/bin/sh\n-echo hi\n+echo ho\n\
                diff --git a/bin/tool b/bin/tool\nnew file mode 100755\n--- /dev/null\n+++ b/bin/tool\n@@ -0,0 +1,2 @@\n+#!/bin/sh\n+exit 0\n";
    let id = import(&k, ws, diff)["patchId"].to_string();
    k.json(["patch", "apply", &id, "--all", "--json"]);
    let mode = |p: &str| std::fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("run.sh"), 0o755);
    assert_eq!(mode("bin/tool") & 0o111, 0o111);
    assert_eq!(
        std::fs::read_to_string(dir.join("run.sh")).unwrap(),
        "#!/bin/sh\necho ho\n"
    );
    k.json(["undo", ws, "--json"]);
    assert!(!dir.join("bin/tool").exists());
    assert_eq!(mode("run.sh"), 0o755);
}

#[test]
fn without_accepted_hunks_apply_says_to_review_then_accepted_ones_apply() {
    let k = Kollega::new();
    shop(&k);
    let id = import(&k, "shop", THREE)["patchId"].to_string();
    let out = k.run(["patch", "apply", &id]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("--all or --hunks"),
        "{}",
        stderr(&out)
    );
    k.json(["patch", "accept", &id, "--hunks", "2", "--json"]);
    k.json([
        "patch", "reject", &id, "--hunks", "1", "--reason", "keep two", "--json",
    ]);
    let show = k.json(["patch", "show", &id, "--json"]);
    assert_eq!(show["files"][0]["hunks"][0]["reason"], "keep two");
    assert_eq!(show["files"][1]["hunks"][0]["decision"], "accepted");
    let applied = k.json(["patch", "apply", &id, "--json"]);
    assert_eq!(applied["files"], serde_json::json!(["src/b.rs"]));
    assert_eq!(cat(&k, "src/b.rs"), "fn b() {\n    2\n}\n");
    assert_eq!(cat(&k, "a.txt"), A);
    let show = k.json(["patch", "show", &id, "--json"]);
    assert_eq!(show["status"], "applied");
}

#[test]
fn bad_input_is_refused_with_what_and_where() {
    let k = Kollega::new();
    shop(&k);
    // Prose in no edit format.
    let file = write_patch(&k, "prose.txt", "Sure! Here is what I would change.\n");
    let out = k.run(["patch", "import", "shop", file.to_str().unwrap()]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("no edits in a format"),
        "{}",
        stderr(&out)
    );
    // A patch that does not exist.
    let out = k.run(["patch", "show", "999", "--json"]);
    assert_code(&out, 1);
    assert!(
        json_error(&out)["message"]
            .as_str()
            .unwrap()
            .contains("no patch 999")
    );
    let out = k.run(["patch", "apply", "999"]);
    assert_code(&out, 1);
    // A file the workspace does not have.
    let id = import(
        &k,
        "shop",
        "--- a/missing.txt\n+++ b/missing.txt\n@@ -1 +1 @@\n-x\n+y\n",
    )["patchId"]
        .to_string();
    let out = k.run(["patch", "apply", &id, "--all"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("missing.txt cannot be patched: it is not in the workspace"),
        "{}",
        stderr(&out)
    );
    // A workspace that does not exist, a patch file that does not exist.
    assert_code(
        &k.run(["patch", "import", "nope", file.to_str().unwrap()]),
        1,
    );
    let out = k.run(["patch", "import", "shop", "/no/such/file.diff"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("/no/such/file.diff"),
        "{}",
        stderr(&out)
    );
    // A hunk number past the end.
    let id = import(&k, "shop", THREE)["patchId"].to_string();
    let out = k.run(["patch", "apply", &id, "--hunks", "4"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("has 3 hunks; there is no hunk 4"),
        "{}",
        stderr(&out)
    );
    assert_eq!(cat(&k, "a.txt"), A);
}

#[test]
fn a_patch_is_read_from_stdin() {
    let k = Kollega::new();
    shop(&k);
    let mut child = k
        .std_cmd()
        .args(["patch", "import", "shop", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(THREE.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["hunks"], 3);
}

#[test]
fn removing_a_workspace_removes_its_patches() {
    let k = Kollega::new();
    shop(&k);
    let id = import(&k, "shop", THREE)["patchId"].to_string();
    k.json(["patch", "apply", &id, "--all", "--json"]);
    k.json(["rm", "shop", "--yes", "--json"]);
    assert_eq!(k.rows("patches"), 0);
    assert_eq!(k.rows("applies"), 0);
    assert_eq!(k.rows("apply_files"), 0);
}

/// Copies every file of `from` (but `.git`) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    let files: crate::common::Tree = read_tree(from)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".git/"))
        .collect();
    write_tree(to, &files);
}

#[test]
fn a_git_diff_applied_by_kollega_gives_what_git_apply_gives() {
    let repo = GitRepo::new();
    let mut files = Vec::new();
    for i in 0..6 {
        let text: String = (0..40).map(|n| format!("file {i} line {n}\n")).collect();
        files.push((format!("dir{}/f{i}.txt", i % 2), text));
    }
    write_tree(
        &repo.dir,
        &tree(files.iter().map(|(p, c)| (p.as_str(), c.as_str()))),
    );
    repo.commit_all("base");
    let base = repo.k.scratch("base");
    copy_tree(&repo.dir, &base);
    for (i, (path, text)) in files.iter().enumerate() {
        let changed: String = text
            .lines()
            .enumerate()
            .filter(|(n, _)| n % 13 != i % 5)
            .map(|(n, l)| {
                if n % 7 == 3 {
                    format!("{l} changed\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(repo.dir.join(path), changed).unwrap();
    }
    std::fs::remove_file(repo.dir.join("dir1/f1.txt")).unwrap();
    std::fs::write(repo.dir.join("dir0/new.txt"), "brand new\n").unwrap();
    repo.git(&["add", "-A"]);
    let diff = repo.git(&["diff", "--cached"]);
    let wanted = read_tree(&repo.dir);

    let by_git = repo.k.scratch("by-git");
    copy_tree(&base, &by_git);
    let patch_file = write_patch(&repo.k, "git.diff", &diff);
    let out = repo.git_in(&by_git, &["apply", patch_file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let by_kollega = repo.k.scratch("by-kollega");
    copy_tree(&base, &by_kollega);
    let ws = by_kollega.to_str().unwrap();
    let id = import(&repo.k, ws, &diff)["patchId"].to_string();
    repo.k.json(["patch", "apply", &id, "--all", "--json"]);

    let strip = |t: crate::common::Tree| -> crate::common::Tree {
        t.into_iter()
            .filter(|(p, _)| !p.starts_with(".git/"))
            .collect()
    };
    assert_eq!(read_tree(&by_kollega), read_tree(&by_git));
    assert_eq!(read_tree(&by_kollega), strip(wanted.clone()));

    // Imported and applied in one step: the same files, one apply to undo.
    let at_once = repo.k.scratch("at-once");
    copy_tree(&base, &at_once);
    let ws = at_once.to_str().unwrap();
    let applied = repo.k.json([
        "patch",
        "import",
        ws,
        patch_file.to_str().unwrap(),
        "--apply",
        "--json",
    ]);
    assert_eq!(applied["files"].as_array().unwrap().len(), 7);
    assert_eq!(read_tree(&at_once), read_tree(&by_git));
    let listed = repo.k.json(["patch", "ls", ws, "--json"]);
    assert_eq!(listed["patches"][0]["id"], applied["patchId"]);
    assert_eq!(listed["patches"][0]["status"], "applied");
    repo.k.json(["undo", ws, "--json"]);
    assert_eq!(read_tree(&at_once), read_tree(&base));
    repo.k.json(["redo", ws, "--json"]);
    assert_eq!(read_tree(&at_once), strip(wanted));
}

/// `files` files of 20 lines and a git diff changing line 10 of each.
fn many_files(files: usize) -> (crate::common::Tree, crate::common::Tree, String) {
    let mut before = crate::common::Tree::new();
    let mut after = crate::common::Tree::new();
    let mut diff = String::new();
    for i in 0..files {
        let path = format!("d{}/f{i}.txt", i % 10);
        let lines: Vec<String> = (0..20).map(|n| format!("file {i} line {n}")).collect();
        let mut changed = lines.clone();
        changed[9] = format!("file {i} line 9 (changed)");
        before.insert(path.clone(), (lines.join("\n") + "\n").into_bytes());
        after.insert(path.clone(), (changed.join("\n") + "\n").into_bytes());
        diff.push_str(&format!(
            "diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -7,7 +7,7 @@\n"
        ));
        for n in 6..13 {
            if n == 9 {
                diff.push_str(&format!("-{}\n+{}\n", lines[n], changed[n]));
            } else {
                diff.push_str(&format!(" {}\n", lines[n]));
            }
        }
    }
    (before, after, diff)
}

#[test]
fn an_apply_killed_while_writing_is_all_or_nothing_after_recovery() {
    let k = Kollega::new();
    let (before, after, diff) = many_files(300);
    let patch_file = write_patch(&k, "many.patch", &diff);
    let mut cut_short = 0;
    // Kill at several moments: before, during and after the writes, of
    // `patch apply` and of `patch import --apply`.
    let rounds = [0u64, 15, 30, 60, 120, 250]
        .map(|delay| (delay, false))
        .into_iter()
        .chain([15u64, 60, 120].map(|delay| (delay, true)));
    for (round, (delay_ms, at_once)) in rounds.enumerate() {
        let dir = k.scratch(&format!("killed-{round}"));
        write_tree(&dir, &before);
        let ws = dir.to_str().unwrap();
        let args = if at_once {
            [
                "patch",
                "import",
                ws,
                patch_file.to_str().unwrap(),
                "--apply",
            ]
            .map(String::from)
        } else {
            let id = import(&k, ws, &diff)["patchId"].as_i64().unwrap();
            ["patch", "apply", &id.to_string(), "--all", "--no-commit"].map(String::from)
        };
        let mut child = k
            .std_cmd()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        // SIGKILL: nothing of the process runs after it.
        child.kill().unwrap();
        child.wait().unwrap();
        // The next step in the workspace takes back what was cut short.
        let out = k.run(["redo", ws]);
        let note = stderr(&out);
        if note.contains("was cut short") {
            cut_short += 1;
        }
        let now = read_tree(&dir);
        assert!(
            now == before || now == after,
            "round {round} ({delay_ms} ms): neither all before nor all after; {note}"
        );
        if note.contains("was cut short") {
            assert_eq!(now, before, "a cut apply is taken back whole");
        }
    }
    eprintln!("{cut_short} of 9 kills landed while the files were being written");
}

#[test]
fn commit_applies_commits_the_applied_files_alone_and_undo_commits_a_revert() {
    let repo = GitRepo::new();
    write_tree(&repo.dir, &three_files());
    repo.write("notes.txt", "mine\n");
    repo.commit_all("base");
    std::fs::write(
        repo.k.config.join("config.toml"),
        "[ai]\ncommit_applies = true\n",
    )
    .unwrap();
    repo.write("notes.txt", "mine, not staged\n");
    let file = write_patch(&repo.k, "in.patch", THREE);
    let id = repo.kollega([
        "patch",
        "import",
        repo.path_str(),
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_success(&id);
    let id: Value = serde_json::from_slice(&id.stdout).unwrap();
    let id = id["patchId"].to_string();

    let out = repo.kollega(["patch", "apply", &id, "--hunks", "1,2", "--json"]);
    assert_success(&out);
    let applied: Value = serde_json::from_slice(&out.stdout).unwrap();
    let commit = applied["commit"].as_str().expect("a commit id").to_string();
    assert_eq!(repo.git(&["rev-parse", "HEAD"]).trim(), commit);
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"]),
        "a.txt\nsrc/b.rs\n"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), " M notes.txt\n");

    let out = repo.kollega(["undo", repo.path_str()]);
    assert_success(&out);
    assert!(stdout(&out).contains("committed"), "{}", stdout(&out));
    assert!(
        repo.git(&["log", "-1", "--format=%B"])
            .contains(&format!("This reverts commit {commit}.")),
    );
    assert_eq!(std::fs::read_to_string(repo.dir.join("a.txt")).unwrap(), A);

    // --no-commit wins over the config.
    let out = repo.kollega([
        "patch",
        "apply",
        &id,
        "--hunks",
        "3",
        "--no-commit",
        "--json",
    ]);
    assert_success(&out);
    let applied: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(applied["commit"].is_null(), "{applied}");
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]).trim(), "3");
}

#[test]
fn patch_show_warns_of_a_definition_that_duplicates_an_existing_one() {
    let k = Kollega::new();
    let dir = k.scratch("folder");
    write_tree(&dir, &tree([("src/date.rs", "pub fn format_date() {}\n")]));
    let ws = dir.to_str().unwrap();
    let id = import(
        &k,
        ws,
        "diff --git a/src/text.rs b/src/text.rs\nnew file mode 100644\n--- /dev/null\n\
         +++ b/src/text.rs\n@@ -0,0 +1 @@\n+pub fn formatDate() {}\n",
    )["patchId"]
        .to_string();
    let wanted =
        "src/text.rs:1 defines `formatDate`, like `format_date` at src/date.rs:1: a duplicate?";
    let shown = k.json(["patch", "show", &id, "--json"]);
    assert_eq!(shown["warnings"], serde_json::json!([wanted]), "{shown}");
    let text = stdout(&k.run(["patch", "show", &id]));
    assert!(text.contains(&format!("warning   {wanted}")), "{text}");
}

#[test]
fn one_hunk_in_one_file_is_said_in_the_singular() {
    let k = Kollega::new();
    shop(&k);
    let one = THREE.split("diff --git a/src/b.rs").next().unwrap();
    let id = import(&k, "shop", one)["patchId"].to_string();
    let out = k.run(["patch", "apply", &id, "--all"]);
    assert_success(&out);
    assert!(
        stdout(&out).starts_with(&format!("patch {id}: 1 hunk applied to 1 file\n")),
        "{}",
        stdout(&out)
    );
    let out = k.run(["undo", "shop"]);
    assert_success(&out);
    assert!(
        stdout(&out).contains(": 1 file\n  a.txt\n"),
        "{}",
        stdout(&out)
    );
}
