//! An import killed with SIGKILL halfway leaves a hidden staging row that
//! the same command resumes, ending with exactly the source's files.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

const NAME: &str = "big";

/// `count` files of about 8 KB each, spread over 40 folders, every one
/// different.
fn big_tree(count: usize) -> Tree {
    (0..count)
        .map(|i| {
            let path = format!("src/mod{:02}/file{i:05}.ts", i % 40);
            let mut text = format!("// file {i}\n");
            while text.len() < 8 * 1024 - 64 {
                text.push_str(&format!(
                    "export const value{i}_{} = \"lorem ipsum dolor sit amet {i}\";\n",
                    text.len()
                ));
            }
            (path, text.into_bytes())
        })
        .collect()
}

/// What a reader sees of an import in flight: files staged so far and the
/// state of the workspace row, if any.
fn peek(db: &Path) -> Option<(i64, Option<String>)> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    conn.busy_timeout(Duration::from_secs(1)).ok()?;
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM files),
                (SELECT state FROM workspaces WHERE name = ?1 ORDER BY id DESC LIMIT 1)",
        [NAME],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .ok()
    .flatten()
}

struct Killed {
    /// path → updated_at of every file staged before the kill.
    staged: BTreeMap<String, String>,
    started: Instant,
}

/// Starts the import, waits until it has committed some files under an
/// `importing` row, and kills it with SIGKILL. None when the import
/// finished before it could be killed.
fn import_and_kill(k: &Kollega, src: &Path) -> Option<Killed> {
    let started = Instant::now();
    let mut child = k
        .std_cmd()
        .args([
            "import".as_ref(),
            src.as_os_str(),
            "--name".as_ref(),
            NAME.as_ref(),
            "--json".as_ref(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn kollega import");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = false;
    while Instant::now() < deadline {
        if let Some((files, Some(state))) = peek(&k.db_path())
            && files > 0
            && state == "importing"
        {
            seen = true;
            break;
        }
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: plain kill(2) on our own child, which has not been reaped yet.
    let rc = unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_eq!(rc, 0, "kill -9 {pid}");
    let status = child.wait().expect("wait for the killed import");
    if !seen {
        return None;
    }
    // The kill must really have interrupted the import: no ready row yet.
    let conn = k.db();
    let ready: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM workspaces WHERE name = ?1 AND state = 'ready'",
            [NAME],
            |r| r.get(0),
        )
        .unwrap();
    if ready > 0 || status.success() {
        return None;
    }
    let mut stmt = conn
        .prepare("SELECT path, updated_at FROM files ORDER BY path")
        .unwrap();
    let staged = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<BTreeMap<String, String>, _>>()
        .unwrap();
    Some(Killed { staged, started })
}

#[test]
fn an_import_killed_halfway_is_hidden_and_resumes_to_exactly_the_source() {
    for count in [4000, 12000] {
        let k = Kollega::new().env("KOLLEGA_IMPORT_BATCH_FILES", "20");
        let tree = big_tree(count);
        let src = k.scratch("big");
        write_tree(&src, &tree);

        let Some(killed) = import_and_kill(&k, &src) else {
            eprintln!("the import of {count} files finished before the kill; retrying larger");
            continue;
        };
        assert!(!killed.staged.is_empty());
        assert!(
            killed.staged.len() < count,
            "all {count} files were staged before the kill"
        );
        assert_eq!(
            killed.staged.len() % 20,
            0,
            "staged files are committed in whole batches of 20"
        );

        // The half-imported workspace is listed as an interrupted import only.
        let rows = k.ls();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["state"], "interrupted");
        assert_code(&k.run(["show", NAME]), 1);
        assert_code(&k.run(["cat", NAME, tree.keys().next().unwrap()]), 1);

        // Make sure a rewrite of a staged file would show in updated_at.
        let elapsed = killed.started.elapsed();
        if elapsed < Duration::from_millis(1100) {
            std::thread::sleep(Duration::from_millis(1100) - elapsed);
        }

        let report = k.import(&src, NAME, &[]);
        assert_eq!(report["status"], "resumed");
        assert_eq!(report["filesCount"], count as u64);
        assert_eq!(report["bytes"], total_bytes(&tree));
        assert_eq!(report["skipped"], serde_json::json!([]));

        let conn = k.db();
        let rows: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM workspaces WHERE name = ?1",
                [NAME],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(rows, 1, "exactly one workspace row for {NAME}");
        let state: String = conn
            .query_row(
                "SELECT state FROM workspaces WHERE name = ?1",
                [NAME],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(state, "ready");
        let mut stmt = conn
            .prepare("SELECT path, content, updated_at FROM files ORDER BY path")
            .unwrap();
        let mut stored = Tree::new();
        let mut rewritten = Vec::new();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let path: String = row.get(0).unwrap();
            let content: String = row.get(1).unwrap();
            let updated_at: String = row.get(2).unwrap();
            if killed
                .staged
                .get(&path)
                .is_some_and(|before| *before != updated_at)
            {
                rewritten.push(path.clone());
            }
            stored.insert(path, content.into_bytes());
        }
        assert_eq!(stored.len(), count);
        assert!(stored == tree, "stored files differ from the source");
        assert!(
            rewritten.is_empty(),
            "{} files staged before the kill were written again, e.g. {:?}",
            rewritten.len(),
            rewritten.first()
        );
        drop(rows);
        drop(stmt);
        drop(conn);
        for path in [
            tree.keys().next().unwrap(),
            tree.keys().nth(count / 2).unwrap(),
            tree.keys().last().unwrap(),
        ] {
            let out = k.run(["cat", NAME, path]);
            assert_success(&out);
            assert_eq!(out.stdout, tree[path], "{path}");
        }

        let again = k.import(&src, NAME, &[]);
        assert_eq!(again["status"], "already-imported");
        assert_eq!(again["takenOverAt"], report["takenOverAt"]);
        assert_eq!(k.ls().len(), 1);
        return;
    }
    panic!("every import finished before it could be killed; the kill was never exercised");
}

#[test]
fn a_killed_import_is_not_resumed_for_another_source_but_started_afresh() {
    for count in [4000, 12000] {
        let k = Kollega::new().env("KOLLEGA_IMPORT_BATCH_FILES", "20");
        let first = k.scratch("first");
        write_tree(&first, &big_tree(count));
        if import_and_kill(&k, &first).is_none() {
            eprintln!("the import of {count} files finished before the kill; retrying larger");
            continue;
        }
        let other = k.scratch("other");
        write_tree(&other, &tree([("only.txt", "the other source\n")]));

        let report = k.import(&other, NAME, &[]);

        assert_eq!(report["status"], "imported");
        assert_eq!(report["filesCount"], 1);
        assert_eq!(k.rows("workspaces"), 1);
        assert_eq!(k.rows("files"), 1);
        return;
    }
    panic!("every import finished before it could be killed; the kill was never exercised");
}

#[test]
fn a_resumed_import_follows_changes_made_to_the_source_meanwhile() {
    for count in [4000, 12000] {
        let k = Kollega::new().env("KOLLEGA_IMPORT_BATCH_FILES", "20");
        let mut tree = big_tree(count);
        let src = k.scratch("big");
        write_tree(&src, &tree);
        let Some(killed) = import_and_kill(&k, &src) else {
            eprintln!("the import of {count} files finished before the kill; retrying larger");
            continue;
        };
        // One staged file is deleted, one is edited, one is added.
        let mut staged = killed.staged.keys();
        let deleted = staged.next().unwrap().clone();
        let edited = staged.next().unwrap().clone();
        std::fs::remove_file(src.join(&deleted)).unwrap();
        tree.remove(&deleted);
        std::fs::write(src.join(&edited), "// edited after the kill\n").unwrap();
        tree.insert(edited.clone(), b"// edited after the kill\n".to_vec());
        std::fs::write(src.join("added.ts"), "export const added = 1;\n").unwrap();
        tree.insert("added.ts".into(), b"export const added = 1;\n".to_vec());

        let report = k.import(&src, NAME, &[]);

        assert_eq!(report["status"], "resumed");
        assert_eq!(report["filesCount"], count as u64);
        assert_eq!(report["bytes"], total_bytes(&tree));
        let conn = k.db();
        let mut stmt = conn
            .prepare("SELECT path, content FROM files ORDER BY path")
            .unwrap();
        let stored: Tree = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?.into_bytes()))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!stored.contains_key(&deleted), "{deleted} is still stored");
        assert_eq!(stored[&edited], tree[&edited]);
        assert!(stored == tree, "stored files differ from the source");
        return;
    }
    panic!("every import finished before it could be killed; the kill was never exercised");
}
