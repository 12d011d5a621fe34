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
