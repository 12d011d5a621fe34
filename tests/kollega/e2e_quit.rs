//! End to end in tmux: quitting while a job runs in the TUI asks what
//! becomes of it (leave it to a worker, cancel it, wait for it, or stay),
//! and a job interrupted by a stop is told at the next start, never run
//! again by itself.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::e2e_tui::Tmux;

/// A folder whose Makefile has `forever` (a line every 0.1 s for hours)
/// and `slow` (three seconds, then done).
fn site(dir: &Path) -> std::path::PathBuf {
    let site = dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("Makefile"),
        "forever:\n\t@i=0; while [ $$i -lt 100000 ]; do i=$$((i+1)); echo \"line $$i\"; sleep 0.1; done\n\n\
         slow:\n\t@echo started; sleep 3; echo deployed\n",
    )
    .unwrap();
    site
}

/// Runs the Makefile's `task` from the palette's "Run task…".
fn run_task(tmux: &Tmux, task: &str) {
    tmux.keys(&["M-p"]);
    tmux.wait_for("Commands");
    tmux.keys(&["run_task", "Enter"]);
    tmux.wait_for(&format!("make {task}"));
    tmux.keys(&[task, "Enter"]);
}

/// `kollega ARGS --json` on the same store.
fn kollega_json(data: &Path, config: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kollega"))
        .args(args)
        .arg("--json")
        .env("KOLLEGA_DATA_DIR", data)
        .env("KOLLEGA_CONFIG_DIR", config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn job(data: &Path, config: &Path, id: i64) -> serde_json::Value {
    kollega_json(data, config, &["jobs", "show", &id.to_string()])
}

fn wait_job(
    data: &Path,
    config: &Path,
    id: i64,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let j = job(data, config, id);
        if done(&j) {
            return j;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} never got {what}: {j:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

const QUESTION: &str = "[l]eave to a worker  [c]ancel  [w]ait  [esc] stay  1 job running: make";

#[test]
fn quitting_with_a_running_job_asks_and_cancels_or_waits() {
    let dir = tempfile::tempdir().unwrap();
    let site = site(dir.path());
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    let open = format!("open '{}'", site.display());

    // Wait: the TUI stays open, says so, and quits when the job ends.
    {
        let tmux = Tmux::start_with(&data, &config, 120, 30, &open);
        tmux.wait_for("site [dir]");
        run_task(&tmux, "slow");
        tmux.wait_for("started");
        tmux.keys(&["C-q"]);
        tmux.wait_for(QUESTION);
        // Esc stays, the job goes on.
        tmux.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(300));
        assert!(!tmux.screen().contains(QUESTION), "{}", tmux.screen());
        tmux.keys(&["C-q"]);
        tmux.wait_for(QUESTION);
        tmux.keys(&["w"]);
        tmux.wait_for("[esc] stay open  quitting when 1 job ends: make slow");
        tmux.wait_for("KOLLEGA-EXIT=0");
        let j = job(&data, &config, 1);
        assert_eq!(j["status"], "succeeded", "{j}");
    }

    // Cancel: the job is cancelled, not retried, and kollega quits.
    let tmux = Tmux::start_with(&data, &config, 120, 30, &open);
    tmux.wait_for("site [dir]");
    run_task(&tmux, "forever");
    tmux.wait_for("line 3");
    tmux.keys(&["C-q"]);
    tmux.wait_for("1 job running: make forever");
    tmux.keys(&["c"]);
    let screen = tmux.wait_for("KOLLEGA-EXIT=0");
    assert!(
        screen.contains("kollega: cancelled 1 job: 2 make forever"),
        "{screen}"
    );
    let j = job(&data, &config, 2);
    assert_eq!(j["status"], "cancelled", "{j}");
    assert_eq!(j["attempt"], 1, "{j}");
}

/// The pid in "handed to a worker (pid N)".
fn worker_pid(screen: &str) -> i32 {
    let at = screen.find("(pid ").expect("the worker's pid is said") + 5;
    screen[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// Stops the worker started for the test when the test ends, however.
struct StopWorker(i32);

impl Drop for StopWorker {
    fn drop(&mut self) {
        // SAFETY: signals the worker this test's kollega started.
        unsafe {
            libc::kill(self.0, libc::SIGTERM);
        }
        let until = Instant::now() + Duration::from_secs(15);
        // SAFETY: signal 0 only asks whether the process exists.
        while unsafe { libc::kill(self.0, 0) } == 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn leaving_a_job_to_a_worker_keeps_it_running_after_quit() {
    let dir = tempfile::tempdir().unwrap();
    let site = site(dir.path());
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    let open = format!("open '{}'", site.display());
    let worker = {
        let tmux = Tmux::start_with(&data, &config, 120, 30, &open);
        tmux.wait_for("site [dir]");
        run_task(&tmux, "forever");
        tmux.wait_for("line 3");
        tmux.keys(&["C-q"]);
        tmux.wait_for("a worker runs it again from the start");
        tmux.keys(&["l"]);
        let screen = tmux.wait_for("KOLLEGA-EXIT=0");
        let screen = screen.replace('\n', " ");
        assert!(
            screen.contains("kollega: 1 job handed to a worker (pid")
                && screen.contains("which runs it again from the start: 1 make forever"),
            "{screen}"
        );
        StopWorker(worker_pid(&screen))
    };
    // The worker took it: attempt 2 runs under the worker, after the TUI
    // is gone.
    let j = wait_job(&data, &config, 1, "running under a worker", |j| {
        j["status"] == "running"
            && j["lease_owner"]
                .as_str()
                .is_some_and(|o| o.starts_with("worker:"))
    });
    assert_eq!(j["attempt"], 2, "{j}");
    let listed = kollega_json(&data, &config, &["jobs"]);
    assert_eq!(listed[0]["status"], "running", "{listed}");

    // The worker stops (SIGTERM): the command is interrupted, not run
    // again; the next start says so and how to run it again.
    drop(worker);
    wait_job(&data, &config, 1, "interrupted", |j| {
        j["status"] == "interrupted"
    });
    let tmux = Tmux::start_with(&data, &config, 140, 30, &open);
    tmux.wait_for(
        "1 job was interrupted when kollega stopped (1 make forever): r in the jobs view (alt-j) re-runs it",
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(job(&data, &config, 1)["status"], "interrupted");
    // r in the jobs view runs attempt 3 here.
    tmux.keys(&["M-j"]);
    tmux.wait_for("interrupted");
    tmux.keys(&["r"]);
    tmux.wait_for("job 1 queued again");
    wait_job(&data, &config, 1, "attempt 3", |j| {
        j["status"] == "running" && j["attempt"] == 3
    });
    tmux.keys(&["C-q"]);
    tmux.wait_for("1 job running: make forever");
    tmux.keys(&["c"]);
    tmux.wait_for("KOLLEGA-EXIT=0");
}
