//! The job engine through the real binary: `run`, `worker`, `jobs`,
//! `schedule`, `tasks`, `metrics`, with real processes, one store shared by
//! several kollega processes, kill -9 and cancel of process trees.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Kollega, assert_code, assert_success, stderr, stdout};
use serde_json::Value;

/// A `kollega worker` that is stopped (SIGTERM) when dropped.
pub(crate) struct Worker {
    child: Child,
}

impl Worker {
    pub(crate) fn start(k: &Kollega, extra: &[&str]) -> Worker {
        Worker::start_in(k, k.root(), extra)
    }

    /// A worker started in the folder `cwd`.
    pub(crate) fn start_in(k: &Kollega, cwd: &Path, extra: &[&str]) -> Worker {
        let child = k
            .std_cmd()
            .current_dir(cwd)
            .arg("worker")
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the worker");
        Worker { child }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // SAFETY: signals our own child.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let until = Instant::now() + Duration::from_secs(15);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn job(k: &Kollega, id: i64) -> Value {
    k.json(["jobs", "show", &id.to_string(), "--json"])
}

pub(crate) fn wait_job(k: &Kollega, id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        // The job may not be there yet (a foreground run is starting).
        let out = k.run(["jobs", "show", &id.to_string(), "--json"]);
        let j: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        if done(&j) {
            return j;
        }
        assert!(Instant::now() < until, "job {id} never got {what}: {j:#}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn status(j: &Value) -> &str {
    j["status"].as_str().unwrap_or("?")
}

pub(crate) fn detach(k: &Kollega, dir: &Path, args: &[&str]) -> i64 {
    let mut all = vec!["run", dir.to_str().unwrap(), "--detach"];
    all.extend_from_slice(args);
    let out = k.run(&all);
    assert_success(&out);
    stdout(&out).trim().parse().expect("a job id")
}

pub(crate) fn writable(k: &Kollega) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(k.db_path()).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    db
}

pub(crate) fn project(k: &Kollega) -> std::path::PathBuf {
    let dir = k.scratch("project");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn run_streams_the_output_and_exits_with_the_command_code() {
    let k = Kollega::new();
    let dir = project(&k);
    let out = k.run([
        "run",
        dir.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "echo out-line; echo err-line >&2; exit 7",
    ]);
    assert_code(&out, 7);
    assert_eq!(stdout(&out), "out-line\n");
    assert!(stderr(&out).contains("err-line"), "{}", stderr(&out));

    let jobs = k.json(["jobs", "--json"]);
    let j = &jobs[0];
    assert_eq!(status(j), "failed");
    assert_eq!(j["exit_code"], 7);
    assert_eq!(j["kind"], "command");
    assert_eq!(j["attempt"], 1);
    let cwd = dir.canonicalize().unwrap();
    assert_eq!(j["cwd"], cwd.to_str().unwrap());
    assert_eq!(j["env"]["KOLLEGA_JOB_ID"], j["id"].to_string());

    // The whole log, from the gzip file, with kollega's own lines.
    let log = stdout(&k.run(["jobs", "log", &j["id"].to_string()]));
    assert!(log.contains("out-line\n"), "{log}");
    assert!(log.contains("err-line\n"), "{log}");
    assert!(log.contains("[kollega] exited with code 7"), "{log}");

    let ok = k.run(["run", dir.to_str().unwrap(), "--", "true"]);
    assert_code(&ok, 0);
}

#[test]
fn bad_input_is_named_and_changes_nothing() {
    let k = Kollega::new();
    let dir = project(&k);
    let d = dir.to_str().unwrap();

    let out = k.run(["run", "no-such-workspace", "--", "true"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("no workspace or folder named \"no-such-workspace\""));
    assert!(
        stderr(&out).contains("hint: `kollega ls`"),
        "{}",
        stderr(&out)
    );

    for args in [
        vec!["jobs", "log", "42"],
        vec!["jobs", "retry", "42"],
        vec!["jobs", "cancel", "42"],
        vec!["jobs", "show", "42"],
    ] {
        let out = k.run(&args);
        assert_code(&out, 1);
        assert!(
            stderr(&out).contains("there is no job 42"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("hint:"), "{}", stderr(&out));
    }
    // Values that mean nothing are usage errors (exit 2), named.
    let out = k.run(["run", d, "--timeout", "soon", "--", "true"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("\"soon\" is not a duration"),
        "{}",
        stderr(&out)
    );
    let out = k.run(["run", d, "--after", "9", "--", "true"]);
    assert!(
        stderr(&out).contains("there is no job 9"),
        "{}",
        stderr(&out)
    );
    let out = k.run(["jobs", "--status", "done"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("unknown status \"done\""),
        "{}",
        stderr(&out)
    );
    for args in [
        vec!["jobs", "--kind", "bogus"],
        vec!["run", d],
        vec!["worker", "--metrics", "notanaddr"],
        vec!["jobs", "clean", "--older-than", "forever"],
    ] {
        let out = k.run(&args);
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("error:"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = k.run(["schedule", "add", d, "61 * * * *", "--", "true"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("bad cron expression \"61 * * * *\""),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("hint: five fields"),
        "{}",
        stderr(&out)
    );
    let out = k.run(["schedule", "rm", "3"]);
    assert!(
        stderr(&out).contains("there is no schedule 3"),
        "{}",
        stderr(&out)
    );
    assert_eq!(k.json(["jobs", "--json"]), Value::Array(vec![]));
    assert_eq!(k.json(["schedule", "ls", "--json"]), Value::Array(vec![]));

    // A command that is not there: dead at once, exit 127, never retried.
    let out = k.run(["run", d, "--", "no-such-program-kollega"]);
    assert_code(&out, 127);
    assert!(stderr(&out).contains("command not found: no-such-program-kollega"));
    let j = &k.json(["jobs", "--json"])[0];
    assert_eq!((status(j), j["attempt"].as_i64()), ("dead", Some(1)));

    // Retrying a succeeded job is refused, and it stays as it was.
    let out = k.run(["run", d, "--", "true"]);
    assert_success(&out);
    let id = k.json(["jobs", "--json"])[0]["id"].as_i64().unwrap();
    let out = k.run(["jobs", "retry", &id.to_string()]);
    assert!(
        stderr(&out).contains(
            "is succeeded; only failed, dead, cancelled or interrupted jobs can be retried"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(status(&job(&k, id)), "succeeded");
}

#[test]
fn a_timeout_stops_the_command_and_fails_the_job() {
    let k = Kollega::new();
    let dir = project(&k).to_str().unwrap().to_string();
    let started = Instant::now();
    let out = k.run(["run", &dir, "--timeout", "1s", "--", "sleep", "30"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_code(&out, 143);
    let j = &k.json(["jobs", "--json"])[0];
    assert_eq!(status(j), "failed");
    assert_eq!(j["error"], "timed out");
}

#[test]
fn retries_follow_the_backoff_and_a_dependency_failure_fails_the_dependent() {
    let k = Kollega::new();
    let dir = project(&k);
    let flag = dir.join("second-time");
    let script = format!(
        "if [ -e {f} ]; then echo ok; else touch {f}; echo first >&2; exit 1; fi",
        f = flag.display()
    );
    let out = k.run([
        "run",
        dir.to_str().unwrap(),
        "--retries",
        "2",
        "--",
        &script,
    ]);
    assert_code(&out, 0);
    let j = &k.json(["jobs", "--json"])[0];
    assert_eq!((status(j), j["attempt"].as_i64()), ("succeeded", Some(2)));
    let log = stdout(&k.run(["jobs", "log", &j["id"].to_string()]));
    assert!(log.contains("[kollega] attempt 2"), "{log}");
    assert!(
        log.contains("attempt 2 of 3; the previous one ended: exited with code 1"),
        "{log}"
    );
    // The stored tail also says when the retry was due.
    let tail = stdout(&k.run(["jobs", "log", &j["id"].to_string(), "--follow"]));
    assert!(tail.contains("next attempt in"), "{tail}");

    let first = detach(&k, &dir, &["--", "exit 3"]);
    let second = detach(
        &k,
        &dir,
        &["--after", &first.to_string(), "--", "echo never"],
    );
    let _worker = Worker::start(&k, &["--parallel", "2"]);
    let j = wait_job(&k, second, "failed", |j| status(j) == "failed");
    assert_eq!(
        j["error"],
        format!("job {first}, which this job runs after, is failed")
    );
    assert_eq!(j["attempt"], 0, "it never ran");
}

#[test]
fn cancel_stops_the_whole_process_tree() {
    let k = Kollega::new();
    let dir = project(&k);
    let pids = dir.join("pids");
    let script = format!(
        "sleep 300 & echo $! >> {p}; (sleep 301 & echo $! >> {p}; wait) & echo started; wait",
        p = pids.display()
    );
    let id = detach(&k, &dir, &["--", &script]);
    let _worker = Worker::start(&k, &[]);
    wait_job(&k, id, "two children", |_| {
        std::fs::read_to_string(&pids).is_ok_and(|t| t.lines().count() == 2)
    });
    let out = k.run(["jobs", "cancel", &id.to_string()]);
    assert_success(&out);
    let j = wait_job(&k, id, "cancelled", |j| status(j) == "cancelled");
    assert_eq!(j["error"], "cancelled by request");
    std::thread::sleep(Duration::from_millis(300));
    for pid in std::fs::read_to_string(&pids).unwrap().lines() {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
        assert!(
            matches!(state, None | Some('Z' | 'X')),
            "process {pid} survived: {stat}"
        );
    }
    // Retry by hand queues it again with its attempts from zero.
    assert_success(&k.run(["jobs", "retry", &id.to_string()]));
    let j = job(&k, id);
    assert!(matches!(status(&j), "queued" | "running"), "{j}");
}

#[test]
fn a_runner_killed_mid_command_leaves_it_interrupted_and_a_retry_keeps_the_earlier_lines() {
    let k = Kollega::new().env("KOLLEGA_JOBS_LEASE_SECONDS", "2");
    let dir = project(&k);
    let script = "echo \"attempt $KOLLEGA_JOB_ATTEMPT begins\"; i=0; \
                  while [ $i -lt 20 ]; do echo line $i; i=$((i+1)); sleep 0.1; done; echo done";
    let id = detach(&k, &dir, &["--", script]);
    let worker = Worker::start(&k, &[]);
    let victim = worker.pid();
    wait_job(&k, id, "a few stored lines", |j| {
        j["log_lines"].as_i64() >= Some(4)
    });
    worker.kill9();
    // SAFETY: signal 0 only asks whether the process exists.
    assert_ne!(unsafe { libc::kill(victim, 0) }, 0, "the worker is gone");
    let before = stdout(&k.run(["jobs", "log", &id.to_string()]));
    assert!(before.contains("attempt 1 begins"), "{before}");

    // A command is not run twice without a word: interrupted after the
    // lease, and `kollega jobs` says how to run it again.
    let _second = Worker::start(&k, &[]);
    wait_job(&k, id, "interrupted", |j| status(j) == "interrupted");
    let list = stdout(&k.run(["jobs"]));
    assert!(list.contains("interrupted"), "{list}");
    assert!(
        list.contains(&format!(
            "1 job was interrupted when kollega stopped ({id} "
        )) && list.contains("`kollega jobs retry ID` re-runs it"),
        "{list}"
    );
    let shown = stdout(&k.run(["jobs", "show", &id.to_string()]));
    assert!(
        shown.contains(&format!("kollega jobs retry {id}")),
        "{shown}"
    );
    let retried = k.run(["jobs", "retry", &id.to_string()]);
    assert_success(&retried);
    assert!(
        stdout(&retried).contains("queued again for attempt 2 of 3"),
        "{}",
        stdout(&retried)
    );
    let j = wait_job(&k, id, "succeeded", |j| status(j) == "succeeded");
    assert_eq!(j["attempt"], 2, "{j}");
    let log = stdout(&k.run(["jobs", "log", &id.to_string()]));
    assert!(
        log.contains("attempt 1 begins"),
        "the first attempt's lines are gone:\n{log}"
    );
    assert!(log.contains("line 0\n"), "{log}");
    assert!(log.contains("attempt 2 begins"), "{log}");
    assert!(log.contains("stopped renewing its lease"), "{log}");
    assert!(log.trim_end().ends_with("[kollega] succeeded"), "{log}");
    // The stored tail has both attempts too.
    let follow = stdout(&k.run(["jobs", "log", &id.to_string(), "--follow"]));
    assert!(follow.contains("attempt 1 begins") && follow.contains("attempt 2 begins"));
}

#[test]
fn two_workers_on_one_store_run_each_of_1000_jobs_exactly_once() {
    let k = Kollega::new();
    let dir = project(&k);
    let ran = dir.join("ran");
    let line = format!("echo $KOLLEGA_JOB_ID >> {}", ran.display());
    // Enqueue through the store directly after one real enqueue: 1,000
    // process starts would dominate the test's time.
    let first = detach(&k, &dir, &["--", &line]);
    {
        let db = writable(&k);
        let row: (String, String, String) = db
            .query_row(
                "SELECT workspace, payload, created_at FROM jobs WHERE id = ?1",
                [first],
                |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.to_string())),
            )
            .unwrap();
        db.execute_batch("BEGIN").unwrap();
        for _ in 1..1000 {
            db.execute(
                "INSERT INTO jobs (kind, workspace, payload, status, max_attempts, next_run_at, \
                 created_at, updated_at) VALUES ('command', ?1, ?2, 'queued', 3, ?3, ?3, ?3)",
                rusqlite::params![row.0, row.1, row.2.parse::<i64>().unwrap()],
            )
            .unwrap();
        }
        db.execute_batch("COMMIT").unwrap();
    }
    let a = Worker::start(&k, &["--parallel", "4"]);
    let b = Worker::start(&k, &["--parallel", "4"]);
    let until = Instant::now() + Duration::from_secs(240);
    loop {
        let done: i64 = k
            .db()
            .query_row(
                "SELECT count(*) FROM jobs WHERE status = 'succeeded'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if done == 1000 {
            break;
        }
        assert!(Instant::now() < until, "only {done} of 1000 jobs ran");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(a);
    drop(b);
    let text = std::fs::read_to_string(&ran).unwrap();
    let mut ids: Vec<i64> = text.lines().map(|l| l.parse().unwrap()).collect();
    if ids.len() != 1000 {
        let db = k.db();
        let mut stmt = db
            .prepare(
                "SELECT attempt, status, count(*), min(error), max(error) FROM jobs GROUP BY 1, 2",
            )
            .unwrap();
        let rows: Vec<String> = stmt
            .query_map([], |r| {
                Ok(format!(
                    "{:?} {:?} {:?} {:?} {:?}",
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?
                ))
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        let dups: Vec<i64> = sorted
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .take(10)
            .collect();
        panic!(
            "{} lines for 1000 jobs; jobs: {rows:#?}; twice: {dups:?}",
            ids.len()
        );
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1000);
    let (attempts, owners): (i64, i64) = k
        .db()
        .query_row(
            "SELECT sum(attempt), count(DISTINCT substr(json_extract(env, '$.KOLLEGA_JOB_ID'), 1, 0) || cwd) FROM jobs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(attempts, 1000);
    assert_eq!(owners, 1);
}

#[test]
fn schedules_are_listed_removed_and_run_by_the_worker() {
    let k = Kollega::new();
    let dir = project(&k);
    let d = dir.to_str().unwrap();
    let out = k.run(["schedule", "add", d, "* * * * *", "--", "echo", "tick"]);
    assert_success(&out);
    assert!(
        stdout(&out).starts_with("schedule 1 added: echo tick in "),
        "{}",
        stdout(&out)
    );
    let list = k.json(["schedule", "ls", "--json"]);
    assert_eq!(list[0]["cron"], "* * * * *");
    assert_eq!(list[0]["command"], serde_json::json!(["echo", "tick"]));
    // Make it due now, as if the worker had been down for a while.
    writable(&k)
        .execute(
            "UPDATE schedules SET next_run_at = next_run_at - 600000",
            [],
        )
        .unwrap();
    let _worker = Worker::start(&k, &[]);
    let until = Instant::now() + Duration::from_secs(30);
    let jobs = loop {
        let jobs = k.json(["jobs", "--json"]);
        if jobs.as_array().is_some_and(|a| !a.is_empty()) && status(&jobs[0]) == "succeeded" {
            break jobs;
        }
        assert!(Instant::now() < until, "the schedule never ran: {jobs}");
        std::thread::sleep(Duration::from_millis(200));
    };
    // Ten missed minutes are caught up once.
    assert_eq!(jobs.as_array().unwrap().len(), 1, "{jobs:#}");
    assert_eq!(jobs[0]["schedule_id"], 1);
    let out = k.run(["schedule", "rm", "1"]);
    assert_success(&out);
    assert_eq!(k.json(["schedule", "ls", "--json"]), Value::Array(vec![]));
    assert_eq!(
        k.json(["jobs", "--json"]).as_array().unwrap().len(),
        1,
        "past jobs stay"
    );
}

#[test]
fn tasks_are_found_and_run_by_name() {
    let k = Kollega::new();
    let dir = project(&k);
    std::fs::write(
        dir.join("Makefile"),
        "build: ## compile it\n\t@echo building\n\ntest:\n\t@echo testing\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(".kollega.toml"),
        "[tasks]\nhello = \"echo hi from kollega\"\n",
    )
    .unwrap();
    let found = k.json(["tasks", dir.to_str().unwrap(), "--json"]);
    let names: Vec<&str> = found["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["hello", "build", "test"]);
    let out = k.run(["run", dir.to_str().unwrap(), "--task", "build"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "building\n");
    let out = k.run(["run", dir.to_str().unwrap(), "--task", "deploy"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("no task \"deploy\""),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("hello, build, test"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_sqlite_workspace_runs_in_its_managed_working_copy() {
    let k = Kollega::new();
    let src = k.scratch("app");
    crate::common::write_tree(
        &src,
        &crate::common::tree([
            (
                "package.json",
                "{\"scripts\":{\"build\":\"node build.js\"}}",
            ),
            ("src/a.txt", "alpha\n"),
            ("src/b.txt", "beta\n"),
        ]),
    );
    k.import(&src, "app", &[]);
    let out = k.run([
        "run",
        "app",
        "--",
        "sh",
        "-c",
        "cat src/a.txt; mkdir -p node_modules; echo x > node_modules/made; pwd",
    ]);
    assert_code(&out, 0);
    let text = stdout(&out);
    assert!(text.starts_with("alpha\n"), "{text}");
    let wc = k.data.join("workcopies").join("app");
    assert_eq!(
        text.lines().last().unwrap(),
        wc.canonicalize().unwrap().to_str().unwrap()
    );
    // What the command made stays in the working copy, never in the store.
    assert!(wc.join("node_modules/made").is_file());
    let stored: i64 = k
        .db()
        .query_row(
            "SELECT count(*) FROM files WHERE path LIKE 'node_modules%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0);
    // A command that edits a tracked file gets it back from the store next time.
    assert_code(
        &k.run(["run", "app", "--", "sh", "-c", "echo changed > src/b.txt"]),
        0,
    );
    let out = k.run(["run", "app", "--", "cat", "src/b.txt"]);
    assert_eq!(stdout(&out), "beta\n");
    let tasks = k.json(["tasks", "app", "--json"]);
    assert_eq!(tasks["tasks"][0]["command"], "npm run build");

    // A working copy that cannot be written: a clear error, the store unchanged.
    let before = k.stored_bytes();
    std::fs::remove_dir_all(&wc).unwrap();
    std::fs::write(&wc, "not a folder").unwrap();
    let out = k.run(["run", "app", "--", "true"]);
    assert_ne!(out.status.code(), Some(0));
    let j = &k.json(["jobs", "--json"])[0];
    let error = j["error"].as_str().unwrap();
    assert!(error.contains("working copy"), "{error}");
    assert!(error.contains(wc.to_str().unwrap()), "{error}");
    assert_eq!(
        before
            .iter()
            .filter(|(p, _)| p.ends_with("kollega.db"))
            .count(),
        k.stored_bytes()
            .iter()
            .filter(|(p, _)| p.ends_with("kollega.db"))
            .count()
    );
    let content: String = k
        .db()
        .query_row(
            "SELECT content FROM files WHERE path = 'src/b.txt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(content, "beta\n");
}

#[test]
fn metrics_are_printed_and_served() {
    let k = Kollega::new();
    let dir = project(&k);
    assert_code(&k.run(["run", dir.to_str().unwrap(), "--", "false"]), 1);
    let text = stdout(&k.run(["metrics"]));
    assert!(text.contains("# TYPE kollega_jobs gauge"), "{text}");
    assert!(
        text.contains("kollega_jobs{kind=\"command\",status=\"failed\"} 1"),
        "{text}"
    );
    assert!(text.contains("kollega_queue_depth 0"), "{text}");

    let mut worker = k
        .std_cmd()
        .args(["worker", "--metrics", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(worker.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .trim()
        .strip_prefix("metrics on http://")
        .and_then(|a| a.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("kollega_jobs{kind=\"command\",status=\"failed\"} 1"));
    // SAFETY: signals our own child.
    unsafe {
        libc::kill(worker.id() as i32, libc::SIGTERM);
    }
    let status = worker.wait().unwrap();
    assert!(status.success(), "{status}");
    let text = stdout(&k.run(["metrics"]));
    assert!(
        text.contains("kollega_http_requests_total{outcome=\"200\",service=\"metrics\"} 1"),
        "{text}"
    );
}

#[test]
fn push_and_pull_run_as_jobs_and_a_missing_remote_is_not_retried() {
    let g = crate::common::GitRepo::new();
    let bare = g.k.scratch("remote.git");
    let out = g.git_in(
        &g.k.scratch(""),
        &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
    );
    assert!(out.status.success());
    g.write("a.txt", "one\n");
    g.git(&["add", "a.txt"]);
    g.git(&["commit", "-q", "-m", "first"]);
    g.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    let out = g.kollega([
        "git",
        "push",
        g.path_str(),
        "--remote",
        "origin",
        "main",
        "--set-upstream",
    ]);
    assert_code(&out, 0);
    let head = g.git(&["rev-parse", "HEAD"]);
    let remote = g.git_in(&bare, &["rev-parse", "main"]);
    assert_eq!(String::from_utf8_lossy(&remote.stdout), head);
    let j = &g.k.json(["jobs", "--json"])[0];
    assert_eq!(
        (j["kind"].as_str(), status(j)),
        (Some("git-push"), "succeeded")
    );

    // Pull, fast-forward only: nothing to do.
    assert_code(&g.kollega(["git", "pull", g.path_str()]), 0);

    // A remote that is not there: dead at once, with git's answer.
    g.git(&["remote", "set-url", "origin", "/nowhere/at/all.git"]);
    let out = g.kollega(["git", "push", g.path_str()]);
    assert_ne!(out.status.code(), Some(0));
    let j = &g.k.json(["jobs", "--json"])[0];
    assert_eq!(status(j), "dead", "{j:#}");
    assert_eq!(j["attempt"], 1);
    assert!(
        j["error"]
            .as_str()
            .unwrap()
            .contains("does not appear to be a git repository"),
        "{j:#}"
    );
}

#[test]
fn import_and_export_can_be_queued_as_jobs() {
    let k = Kollega::new();
    let src = k.scratch("site");
    crate::common::write_tree(
        &src,
        &crate::common::tree([("index.html", "<h1>hi</h1>\n")]),
    );
    let out = k.run([
        "import",
        src.to_str().unwrap(),
        "--name",
        "site",
        "--detach",
    ]);
    assert_success(&out);
    let id: i64 = stdout(&out).trim().parse().unwrap();
    let zip = k.scratch("site.zip");
    let out = k.run(["export", "site", "--zip", zip.to_str().unwrap(), "--detach"]);
    // The workspace does not exist until the import job ran.
    assert_code(&out, 1);
    assert!(stderr(&out).contains("no workspace or folder named \"site\""));
    let _worker = Worker::start(&k, &[]);
    wait_job(&k, id, "succeeded", |j| status(j) == "succeeded");
    assert_eq!(k.ls().len(), 1);
    let out = k.run(["export", "site", "--zip", zip.to_str().unwrap(), "--detach"]);
    assert_success(&out);
    let id: i64 = stdout(&out).trim().parse().unwrap();
    let j = wait_job(&k, id, "succeeded", |j| status(j) == "succeeded");
    assert_eq!(j["result"]["filesCount"], 1);
    assert!(zip.is_file());
}

#[test]
fn clean_removes_ended_jobs_and_their_logs() {
    let k = Kollega::new();
    let dir = project(&k);
    let d = dir.to_str().unwrap();
    assert_code(&k.run(["run", d, "--", "true"]), 0);
    assert_code(&k.run(["run", d, "--", "false"]), 1);
    let waiting = detach(&k, &dir, &["--", "true"]);
    assert!(k.data.join("jobs/1/1.log.gz").is_file());

    let out = k.run(["jobs", "clean", "--older-than", "1h"]);
    assert_success(&out);
    assert_eq!(stdout(&out), "removed 0 ended jobs\n");
    let out = k.run(["jobs", "clean", "--status", "queued"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("only ended jobs are cleaned"),
        "{}",
        stderr(&out)
    );

    let out = k.run(["jobs", "clean", "--status", "succeeded"]);
    assert_eq!(stdout(&out), "removed 1 ended job\n");
    assert!(!k.data.join("jobs/1").exists());
    assert!(k.data.join("jobs/2/1.log.gz").is_file());
    let out = k.run(["jobs", "clean"]);
    assert_eq!(stdout(&out), "removed 1 ended job\n");
    let left: Vec<i64> = k
        .json(["jobs", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .collect();
    assert_eq!(left, vec![waiting], "a queued job stays");
}

#[test]
fn ctrl_c_cancels_a_foreground_job_and_a_hangup_leaves_it_to_a_worker() {
    let k = Kollega::new();
    let dir = project(&k);
    let d = dir.to_str().unwrap();
    let run = |script: &str| {
        k.std_cmd()
            .args(["run", d, "--", script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let signal = |child: &Child, sig: i32| {
        // SAFETY: signals our own child.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
    };
    let child = run("echo started; sleep 30");
    wait_job(&k, 1, "running", |j| j["log_lines"].as_i64() >= Some(2));
    signal(&child, libc::SIGINT);
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_code(&out, 130);
    assert_eq!(status(&job(&k, 1)), "cancelled");

    let child = run("echo \"attempt $KOLLEGA_JOB_ATTEMPT\"; sleep 1; echo done");
    wait_job(&k, 2, "running", |j| j["log_lines"].as_i64() >= Some(2));
    signal(&child, libc::SIGHUP);
    let out = child.wait_with_output().unwrap();
    assert_code(&out, 130);
    assert!(
        stderr(&out).contains("was interrupted; not run again by itself: `kollega jobs retry 2`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(status(&job(&k, 2)), "interrupted");
    // A worker leaves it alone until a person says so.
    let _worker = Worker::start(&k, &[]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(status(&job(&k, 2)), "interrupted");
    assert_success(&k.run(["jobs", "retry", "2"]));
    let j = wait_job(&k, 2, "succeeded", |j| status(j) == "succeeded");
    assert_eq!(j["attempt"], 2);
}

#[test]
fn a_foreground_run_shows_the_attempt_a_worker_took_over() {
    let k = Kollega::new().env("KOLLEGA_JOBS_LEASE_SECONDS", "1");
    let dir = project(&k);
    let child = k
        .std_cmd()
        .args([
            "run",
            dir.to_str().unwrap(),
            "--",
            "echo \"attempt $KOLLEGA_JOB_ATTEMPT\"; sleep 4; echo \"done $KOLLEGA_JOB_ATTEMPT\"",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_job(&k, 1, "running", |j| j["log_lines"].as_i64() >= Some(2));
    let _worker = Worker::start(&k, &[]);
    // The foreground process stops answering; its lease runs out, the
    // command is interrupted (a worker does not run it twice by itself),
    // and a person's retry gives the worker the next attempt.
    // SAFETY: signals our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGSTOP);
    }
    wait_job(&k, 1, "interrupted", |j| status(j) == "interrupted");
    assert_success(&k.run(["jobs", "retry", "1"]));
    wait_job(&k, 1, "a second attempt", |j| {
        j["attempt"].as_i64() == Some(2)
    });
    unsafe {
        libc::kill(child.id() as i32, libc::SIGCONT);
    }
    let output = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.starts_with("attempt 1\n"), "{out}");
    assert!(out.contains("attempt 2\n"), "{out}");
    assert!(out.contains("done 2\n"), "{out}");
    assert!(
        !out.contains("done 1"),
        "the lost attempt was stopped: {out}"
    );
}

#[test]
fn schedule_ls_lists_the_routines_beside_the_schedules() {
    let k = Kollega::new();
    let out = k.run(["watch", "add", "https://example.org/rules", "--every", "6h"]);
    assert_success(&out);
    let routines = k.json(["schedule", "ls", "--routines", "--json"]);
    let kinds: Vec<&str> = routines
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["nudge", "retention", "backup", "watch"]);
    assert_eq!(routines[3]["when"], "every 6 hours");
    assert!(
        routines[0]["what"]
            .as_str()
            .unwrap()
            .contains("untouched for 2 days"),
        "{routines:#}"
    );
    // The schedules' JSON stays the list of the user's schedules.
    assert_eq!(k.json(["schedule", "ls", "--json"]), Value::Array(vec![]));
    let out = k.run(["schedule", "ls"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.starts_with("no schedules"), "{text}");
    assert!(text.contains("routines"), "{text}");
    assert!(
        text.contains("fetches watch 1 (https://example.org/rules)"),
        "{text}"
    );
}
