//! Where jobs run and how far a stop reaches: a cancel that reaches the
//! process at once, process trees that left their session, jobs whose
//! workspace was removed, `rm` and what it takes with it.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{Kollega, assert_code, assert_success, stdout};
use crate::jobs_cli::{Worker, detach, project, status, wait_job};

/// Whether `pid` runs (a zombie waiting to be reaped does not).
fn alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
    !matches!(state, None | Some('Z' | 'X'))
}

/// The pid a job's shell wrote into `file`, waiting for it.
fn pid_in(file: &Path) -> i32 {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(pid) = std::fs::read_to_string(file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            Instant::now() < until,
            "{} was never written",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits up to `limit` for `pid` to end; returns how long it took.
fn gone_within(pid: i32, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if !alive(pid) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// Kills the processes a test started if the code under test left them.
struct Strays(Vec<i32>);

impl Drop for Strays {
    fn drop(&mut self) {
        for &pid in &self.0 {
            if alive(pid) {
                // SAFETY: a process this test's job started.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

#[test]
fn a_cancel_reaches_the_process_long_before_the_next_heartbeat() {
    // A lease of two minutes: heartbeats every 40 s.
    let k = Kollega::new().env("KOLLEGA_JOBS_LEASE_SECONDS", "120");
    let dir = project(&k);
    let pidfile = dir.join("pid");
    let script = format!("echo $$ > {}; exec sleep 300", pidfile.display());
    let id = detach(&k, &dir, &["--", "sh", "-c", &script]);
    let _worker = Worker::start(&k, &[]);
    let pid = pid_in(&pidfile);
    let _strays = Strays(vec![pid]);
    wait_job(&k, id, "running", |j| status(j) == "running");
    let asked = Instant::now();
    assert_success(&k.run(["jobs", "cancel", &id.to_string()]));
    let took = gone_within(pid, Duration::from_secs(10));
    assert!(
        took.is_some_and(|_| asked.elapsed() < Duration::from_millis(2500)),
        "the process outlived the cancel by {:?}",
        asked.elapsed()
    );
    let j = wait_job(&k, id, "cancelled", |j| status(j) == "cancelled");
    assert_eq!(j["error"], "cancelled by request");
}

#[test]
fn cancel_ends_a_grandchild_that_left_the_session() {
    let k = Kollega::new();
    let dir = project(&k);
    let gpid = dir.join("gpid");
    let script = format!(
        "setsid sh -c 'echo $$ > {}; exec sleep 300' & echo started; sleep 300",
        gpid.display()
    );
    let id = detach(&k, &dir, &["--", &script]);
    let _worker = Worker::start(&k, &[]);
    let pid = pid_in(&gpid);
    let _strays = Strays(vec![pid]);
    wait_job(&k, id, "running", |j| status(j) == "running");
    assert_success(&k.run(["jobs", "cancel", &id.to_string()]));
    wait_job(&k, id, "cancelled", |j| status(j) == "cancelled");
    assert!(
        gone_within(pid, Duration::from_secs(3)).is_some(),
        "the setsid grandchild {pid} survived the cancel"
    );
}

#[test]
fn a_grandchild_that_ignores_sigterm_is_killed_at_the_grace() {
    let k = Kollega::new().env("KOLLEGA_JOBS_GRACE_SECONDS", "1");
    let dir = project(&k);
    let gpid = dir.join("gpid");
    let script = format!(
        "setsid sh -c 'trap \"\" TERM; echo $$ > {}; while :; do sleep 0.1; done' & \
         trap '' TERM; while :; do sleep 0.1; done",
        gpid.display()
    );
    let id = detach(&k, &dir, &["--", &script]);
    let _worker = Worker::start(&k, &[]);
    let pid = pid_in(&gpid);
    let _strays = Strays(vec![pid]);
    wait_job(&k, id, "running", |j| status(j) == "running");
    let asked = Instant::now();
    assert_success(&k.run(["jobs", "cancel", &id.to_string()]));
    assert!(
        gone_within(pid, Duration::from_secs(10)).is_some(),
        "the grandchild that ignores SIGTERM survived"
    );
    // One second of grace, and the cancel comes within a second.
    assert!(
        asked.elapsed() < Duration::from_millis(3500),
        "killed {:?} after the cancel",
        asked.elapsed()
    );
    wait_job(&k, id, "cancelled", |j| status(j) == "cancelled");
}

#[test]
fn a_job_ends_with_its_main_process_while_a_setsid_grandchild_holds_the_output() {
    let k = Kollega::new();
    let dir = project(&k);
    let gpid = dir.join("gpid");
    let script = format!(
        "setsid sh -c 'echo $$ > {}; exec sleep 300' & echo started",
        gpid.display()
    );
    let started = Instant::now();
    let out = k.run(["run", dir.to_str().unwrap(), "--", &script]);
    let took = started.elapsed();
    let pid = pid_in(&gpid);
    let _strays = Strays(vec![pid]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "started\n");
    assert!(took < Duration::from_millis(1800), "the run took {took:?}");
    assert!(
        gone_within(pid, Duration::from_secs(3)).is_some(),
        "the grandchild {pid} outlived its job"
    );
}

/// A workspace `proj` with one file, imported from a scratch folder.
fn proj(k: &Kollega, name: &str, file: &str) {
    let src = k.scratch(&format!("src-{name}-{file}"));
    crate::common::write_tree(&src, &crate::common::tree([(file, "stored\n")]));
    k.import(&src, name, &[]);
}

/// A folder `other` holding a folder named like the workspace, where a
/// worker started in `other` must never run the workspace's jobs.
fn decoy(k: &Kollega, name: &str) -> std::path::PathBuf {
    let other = k.scratch("other");
    std::fs::create_dir_all(other.join(name)).unwrap();
    other
}

/// A worker started in `cwd`.
fn worker_in(k: &Kollega, cwd: &Path) -> Worker {
    Worker::start_in(k, cwd, &[])
}

#[test]
fn removing_a_workspace_cancels_its_jobs_and_schedules_and_deletes_its_working_copy() {
    let k = Kollega::new();
    proj(&k, "proj", "a.txt");
    // A run makes the working copy.
    assert_code(&k.run(["run", "proj", "--", "true"]), 0);
    let wc = k.data.join("workcopies").join("proj");
    assert!(wc.join("a.txt").is_file());
    let queued: Vec<i64> = (0..2)
        .map(|_| {
            let out = k.run(["run", "proj", "--detach", "--", "touch", "ran-here"]);
            assert_success(&out);
            stdout(&out).trim().parse().unwrap()
        })
        .collect();
    let out = k.run([
        "schedule",
        "add",
        "proj",
        "* * * * *",
        "--",
        "touch",
        "ran-here",
    ]);
    assert_success(&out);

    let out = k.run(["rm", "proj", "--yes"]);
    assert_success(&out);
    assert_eq!(
        stdout(&out).trim(),
        "removed workspace proj: 2 jobs cancelled, 1 schedule removed, working copy deleted"
    );
    assert!(!wc.exists(), "the working copy is still there");
    for id in &queued {
        let j = crate::jobs_cli::job(&k, *id);
        assert_eq!(status(&j), "cancelled", "{j}");
        assert_eq!(j["error"], "its workspace proj was removed", "{j}");
    }
    assert_eq!(k.json(["schedule", "ls", "--json"]), serde_json::json!([]));

    // A worker started beside a folder of that name runs nothing there.
    let other = decoy(&k, "proj");
    let dir = project(&k);
    let _worker = worker_in(&k, &other);
    let probe = detach(&k, &dir, &["--", "true"]);
    wait_job(&k, probe, "succeeded", |j| status(j) == "succeeded");
    assert!(!other.join("proj/ran-here").exists());
}

#[test]
fn a_job_whose_workspace_is_gone_fails_and_never_runs_in_a_folder_of_its_name() {
    let k = Kollega::new();
    proj(&k, "proj", "a.txt");
    let out = k.run(["run", "proj", "--detach", "--", "touch", "ran-here"]);
    assert_success(&out);
    let id: i64 = stdout(&out).trim().parse().unwrap();
    // The workspace goes without its jobs (an older kollega's rm).
    crate::jobs_cli::writable(&k)
        .execute("DELETE FROM workspaces WHERE name = 'proj'", [])
        .unwrap();
    let other = decoy(&k, "proj");
    let _worker = worker_in(&k, &other);
    let j = wait_job(&k, id, "an end", |j| {
        matches!(status(j), "failed" | "dead" | "succeeded" | "cancelled")
    });
    assert!(
        !other.join("proj/ran-here").exists(),
        "ran in {other:?}/proj"
    );
    assert_eq!(status(&j), "dead", "{j}");
    let error = j["error"].as_str().unwrap_or_default();
    assert!(error.contains("workspace proj"), "{error}");
    assert!(error.contains("removed"), "{error}");
}

#[test]
fn a_folder_job_is_stored_with_its_absolute_path() {
    let k = Kollega::new();
    let dir = project(&k);
    let out = k
        .std_cmd()
        .current_dir(dir.parent().unwrap())
        .args(["run", "project", "--detach", "--", "true"])
        .output()
        .unwrap();
    assert_success(&out);
    let id: i64 = stdout(&out).trim().parse().unwrap();
    let j = crate::jobs_cli::job(&k, id);
    assert_eq!(
        j["workspace"],
        dir.canonicalize().unwrap().to_str().unwrap(),
        "{j}"
    );
}

#[test]
fn a_new_workspace_of_a_removed_ones_name_starts_from_a_clean_working_copy() {
    let k = Kollega::new();
    proj(&k, "proj", "old.txt");
    assert_code(
        &k.run(["run", "proj", "--", "sh", "-c", "echo token > secret.txt"]),
        0,
    );
    let wc = k.data.join("workcopies").join("proj");
    assert!(wc.join("secret.txt").is_file());
    assert_success(&k.run(["rm", "proj", "--yes"]));
    proj(&k, "proj", "new.txt");
    let out = k.run(["run", "proj", "--", "ls", "-A"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "new.txt\n");
}

#[test]
fn a_working_copy_left_by_another_workspace_of_the_name_is_not_inherited() {
    let k = Kollega::new();
    proj(&k, "proj", "old.txt");
    assert_code(
        &k.run(["run", "proj", "--", "sh", "-c", "echo token > secret.txt"]),
        0,
    );
    // The workspace goes, its working copy stays, with a manifest that does
    // not say whose it is (an older kollega's rm and sync).
    crate::jobs_cli::writable(&k)
        .execute("DELETE FROM workspaces WHERE name = 'proj'", [])
        .unwrap();
    let manifest = k.data.join("workcopy-manifests/proj.json");
    let mut old: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    old.as_object_mut().unwrap().remove("workspace_id");
    std::fs::write(&manifest, old.to_string()).unwrap();
    proj(&k, "proj", "new.txt");
    let out = k.run(["run", "proj", "--", "ls", "-A"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "new.txt\n");
}

#[test]
fn rm_json_says_what_went_with_the_workspace() {
    let k = Kollega::new();
    proj(&k, "shop", "a.txt");
    let out = k.run(["run", "shop", "--detach", "--", "true"]);
    assert_success(&out);
    let removed = k.json(["rm", "shop", "--yes", "--json"]);
    assert_eq!(
        removed,
        serde_json::json!({
            "removed": "shop",
            "jobsCancelled": 1,
            "schedulesRemoved": 0,
            "workingCopy": false,
        })
    );
    let out = k.run(["rm", "shop", "--yes", "--json"]);
    assert_code(&out, 1);
    let error = crate::common::json_error(&out);
    assert!(error.to_string().contains("shop"), "{error}");
}

/// Writes the `importing` row and two staged files an import killed
/// halfway leaves (its importer, pid 2^30, is long gone).
fn interrupted_import(k: &Kollega, name: &str) {
    let db = crate::jobs_cli::writable(k);
    db.execute(
        "INSERT INTO workspaces (name, state, storage_type, source, importer_pid, created_at) \
         VALUES (?1, 'importing', 'sqlite', '/src/big', 1073741824, '2026-12-01T10:00:00Z')",
        [name],
    )
    .unwrap();
    let id = db.last_insert_rowid();
    for path in ["a.txt", "b.txt"] {
        db.execute(
            "INSERT INTO files (workspace_id, path, content, size, hash, updated_at) \
             VALUES (?1, ?2, 'x', 1, 'h', '2026-12-01T10:00:01Z')",
            rusqlite::params![id, path],
        )
        .unwrap();
    }
}

#[test]
fn an_interrupted_import_is_shown_by_ls_and_doctor_and_dropped_by_rm() {
    let k = Kollega::new();
    proj(&k, "big", "ready.txt");
    interrupted_import(&k, "big");

    let rows = k.ls();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let staged = rows
        .iter()
        .find(|r| r["state"] == "interrupted")
        .unwrap_or_else(|| panic!("no interrupted import in {rows:?}"));
    assert_eq!(staged["workspace"], "big");
    assert_eq!(staged["stagedFiles"], 2);
    assert_eq!(staged["startedAt"], "2026-12-01T10:00:00Z");
    let text = stdout(&k.run(["ls"]));
    assert!(text.contains("interrupted import"), "{text}");
    assert!(text.contains("2 files staged"), "{text}");
    let doctor = k.run(["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "imports")
        .unwrap_or_else(|| panic!("no imports check in {report}"));
    assert_eq!(check["status"], "warn", "{check}");
    assert!(check["detail"].as_str().unwrap().contains("big"), "{check}");

    // Both: the ready workspace goes first, and rm says so.
    let out = k.run(["rm", "big", "--yes"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("removed workspace big"), "{text}");
    assert!(text.contains("interrupted import"), "{text}");
    assert_eq!(k.ls().len(), 1);
    // Then the interrupted import, with its staged files.
    let out = k.run(["rm", "big", "--yes"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        text.contains("removed the interrupted import of big"),
        "{text}"
    );
    assert_eq!(k.ls(), Vec::<serde_json::Value>::new());
    assert_eq!(k.rows("files"), 0);
    assert_code(&k.run(["rm", "big", "--yes"]), 1);
}

/// SQLite gives a new row the id of the highest one deleted: a job of a
/// removed workspace, retried, must not reach the next workspace made.
#[test]
fn a_retried_job_of_a_removed_workspace_never_reaches_the_next_one() {
    let k = Kollega::new();
    proj(&k, "proj", "a.txt");
    let out = k.run(["run", "proj", "--detach", "--", "touch", "ran-here"]);
    assert_success(&out);
    let id: i64 = stdout(&out).trim().parse().unwrap();
    assert_success(&k.run(["rm", "proj", "--yes"]));
    proj(&k, "next", "b.txt");
    assert_success(&k.run(["jobs", "retry", &id.to_string()]));
    let anywhere = k.scratch("anywhere");
    std::fs::create_dir_all(&anywhere).unwrap();
    let _worker = worker_in(&k, &anywhere);
    let j = wait_job(&k, id, "dead", |j| status(j) == "dead");
    assert!(
        j["error"]
            .as_str()
            .unwrap_or_default()
            .contains("its workspace proj was removed"),
        "{j}"
    );
    let out = k.run(["run", "next", "--", "ls", "-A"]);
    assert_eq!(stdout(&out), "b.txt\n");
}
