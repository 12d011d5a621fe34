//! End to end: the real binary in tmux. First start takes over the bundled
//! demo, the tree and the file view work, `q` quits and restores the
//! terminal. tmux is required (CI installs it); these tests fail without it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub(crate) struct Tmux {
    socket: String,
}

impl Tmux {
    pub(crate) fn start(data_dir: &Path, config_dir: &Path, width: u16, height: u16) -> Tmux {
        Tmux::start_with(data_dir, config_dir, width, height, "")
    }

    /// Starts kollega with `args` (already shell-quoted) after the binary.
    pub(crate) fn start_with(
        data_dir: &Path,
        config_dir: &Path,
        width: u16,
        height: u16,
        args: &str,
    ) -> Tmux {
        Tmux::start_env(data_dir, config_dir, width, height, &[], args)
    }

    /// Starts kollega with environment variables `env` set (values
    /// without single quotes) and `args` after the binary.
    pub(crate) fn start_env(
        data_dir: &Path,
        config_dir: &Path,
        width: u16,
        height: u16,
        env: &[(&str, &str)],
        args: &str,
    ) -> Tmux {
        let found = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "tmux is required for the end-to-end tests: apt-get install -y tmux"
        );
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("kollega-e2e-{}-{n}", std::process::id());
        let env: String = env.iter().map(|(k, v)| format!("{k}='{v}' ")).collect();
        let script = format!(
            "{env}KOLLEGA_DATA_DIR='{}' KOLLEGA_CONFIG_DIR='{}' TERM=xterm-256color '{}' {args}; echo KOLLEGA-EXIT=$?; sleep 60",
            data_dir.display(),
            config_dir.display(),
            env!("CARGO_BIN_EXE_kollega")
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .arg(script)
            .status()
            .unwrap();
        assert!(status.success());
        Tmux { socket }
    }

    /// The pid of kollega inside the pane (the child of the pane's shell).
    pub(crate) fn kollega_pid(&self) -> u32 {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "list-panes", "-F", "#{pane_pid}"])
            .output()
            .unwrap();
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = Command::new("pgrep")
                .args(["-P", &shell, "kollega"])
                .output()
                .unwrap();
            if let Some(pid) = String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .and_then(|l| l.trim().parse().ok())
            {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "kollega is not running under pane shell {shell}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn resize(&self, width: u16, height: u16) {
        let status = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "resize-window",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub(crate) fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub(crate) fn keys(&self, keys: &[&str]) {
        for key in keys {
            let status = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", key])
                .status()
                .unwrap();
            assert!(status.success());
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Waits until the screen shows `text`, or fails with the screen.
    pub(crate) fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

#[test]
fn first_start_opens_the_demo_and_q_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&dir.path().join("data"), &dir.path().join("config"), 80, 24);
    let screen = tmux.wait_for("demo [sqlite]");
    assert!(screen.contains("package.json"), "{screen}");
    // Files sort folders first: app, components, lib. Open lib/tasks.ts.
    tmux.keys(&["j", "j", "Enter", "j", "Enter"]);
    let screen = tmux.wait_for("lib/tasks.ts");
    assert!(screen.contains("export const TASK_STATUSES"), "{screen}");
    tmux.keys(&["F1"]);
    tmux.wait_for("quit kollega");
    tmux.keys(&["Escape", "C-q"]);
    let screen = tmux.wait_for("KOLLEGA-EXIT=0");
    assert!(
        !screen.contains("Workspaces"),
        "the alternate screen was not left:\n{screen}"
    );
}

#[test]
fn small_terminal_still_shows_tree_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&dir.path().join("data"), &dir.path().join("config"), 60, 20);
    let screen = tmux.wait_for("demo [sqlite]");
    assert!(
        screen.contains("Files") && screen.contains("app"),
        "{screen}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("KOLLEGA-EXIT=0");
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits until the store holds a draft containing `text`.
fn wait_for_draft(data_dir: &Path, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(conn) = rusqlite::Connection::open_with_flags(
            data_dir.join("kollega.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        ) {
            let found: Option<i64> = conn
                .query_row(
                    "SELECT COUNT(*) FROM drafts WHERE instr(content, ?1) > 0",
                    [text],
                    |r| r.get(0),
                )
                .ok();
            if found.unwrap_or(0) > 0 {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no draft with {text:?} was stored"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Opens lib/tasks.ts of the demo (folders sort first: app, components, lib).
fn open_tasks(tmux: &Tmux) {
    tmux.wait_for("demo [sqlite]");
    tmux.keys(&["j", "j", "Enter", "j", "Enter"]);
    tmux.wait_for("lib/tasks.ts");
}

#[test]
fn draft_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    {
        let tmux = Tmux::start(&data, &config, 80, 24);
        open_tasks(&tmux);
        tmux.keys(&["End", "Enter", "// typed before kill -9"]);
        tmux.wait_for("// typed before kill -9");
        wait_for_draft(&data, "// typed before kill -9");
        signal(tmux.kollega_pid(), "-KILL");
    }
    let tmux = Tmux::start(&data, &config, 80, 24);
    let screen = tmux.wait_for("// typed before kill -9");
    // The cursor came back too: line 2, after the typed text.
    assert!(screen.contains("lib/tasks.ts ● 2:24"), "{screen}");
    // The restored text is unsaved: quitting asks first.
    tmux.keys(&["C-q"]);
    tmux.wait_for("with unsaved changes");
    tmux.keys(&["y"]);
    tmux.wait_for("KOLLEGA-EXIT=0");
}

#[test]
fn sighup_flushes_typing_before_exit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    {
        let tmux = Tmux::start(&data, &config, 80, 24);
        open_tasks(&tmux);
        tmux.keys(&["ssh dropped here"]);
        tmux.wait_for("ssh dropped here");
        // No waiting for the debounce: the hangup itself must flush.
        signal(tmux.kollega_pid(), "-HUP");
        tmux.wait_for("KOLLEGA-EXIT=");
    }
    let tmux = Tmux::start(&data, &config, 80, 24);
    tmux.wait_for("ssh dropped here");
}

#[test]
fn resize_redraws_at_the_new_size() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(&dir.path().join("data"), &dir.path().join("config"), 80, 24);
    open_tasks(&tmux);
    tmux.resize(60, 20);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let screen = tmux.screen();
        let widest = screen.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        if widest <= 60 && screen.contains("tasks.ts") {
            break;
        }
        assert!(Instant::now() < deadline, "no redraw at 60x20:\n{screen}");
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.keys(&["C-q"]);
    tmux.wait_for("KOLLEGA-EXIT=0");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn edit_stage_a_hunk_and_commit_in_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Test"]);
    git(&repo, &["config", "user.email", "test@example.com"]);
    let lines: String = (1..=12).map(|i| format!("line{i}\n")).collect();
    std::fs::write(repo.join("a.txt"), &lines).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "init"]);

    let tmux = Tmux::start_with(
        &dir.path().join("data"),
        &dir.path().join("config"),
        80,
        24,
        &format!("open '{}' a.txt:2", repo.display()),
    );
    tmux.wait_for("[git main]");
    // Edit line 2 and line 11, save.
    tmux.keys(&["End", " edited", "C-g"]);
    tmux.wait_for("go to line");
    tmux.keys(&["11", "Enter", "End", " also", "C-s"]);
    tmux.wait_for("saved a.txt");
    // Changes view: stage the first hunk only, commit it.
    tmux.keys(&["M-g"]);
    tmux.wait_for("a.txt (unstaged");
    tmux.keys(&["Enter", "Space"]);
    tmux.wait_for("staged a hunk of a.txt");
    tmux.keys(&["c"]);
    tmux.wait_for("commit message");
    tmux.keys(&["Edit line two", "Enter"]);
    tmux.wait_for("committed");
    assert_eq!(
        git(&repo, &["log", "--format=%s"])
            .lines()
            .collect::<Vec<_>>(),
        ["Edit line two", "init"]
    );
    let rest = git(&repo, &["diff"]);
    assert!(
        rest.contains("+line11 also") && !rest.contains("line2 edited"),
        "{rest}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("KOLLEGA-EXIT=0");
}

#[test]
fn run_a_task_follow_its_log_and_cancel_it() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    // A build that prints a numbered line every 0.1 s for hours.
    std::fs::write(
        site.join("Makefile"),
        "build:\n\t@i=0; while [ $$i -lt 100000 ]; do i=$$((i+1)); echo \"line $$i\"; sleep 0.1; done\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    let tmux = Tmux::start_with(
        &data,
        &config,
        100,
        30,
        &format!("open '{}'", site.display()),
    );
    tmux.wait_for("site [dir]");
    // Run task… from the palette, then the build task from the picker.
    tmux.keys(&["M-p"]);
    tmux.wait_for("Commands");
    tmux.keys(&["run_task", "Enter"]);
    tmux.wait_for("Makefile · make build");
    tmux.keys(&["build", "Enter"]);
    tmux.wait_for("job 1 queued: make build");
    tmux.wait_for("line 3");
    // The log follows: a later line shows up at the bottom without a key.
    let screen = tmux.wait_for("line 25");
    assert!(screen.contains("following"), "{screen}");
    tmux.keys(&["x"]);
    tmux.wait_for("cancel job 1 (make build)?");
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("job 1 cancelled: make build");
    assert!(screen.contains("› 1 cancelled"), "{screen}");
    let out = Command::new(env!("CARGO_BIN_EXE_kollega"))
        .args(["jobs", "--json"])
        .env("KOLLEGA_DATA_DIR", &data)
        .env("KOLLEGA_CONFIG_DIR", &config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jobs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jobs[0]["id"], 1, "{jobs}");
    assert_eq!(jobs[0]["status"], "cancelled", "{jobs}");
    assert_eq!(jobs[0]["payload"]["task"], "build", "{jobs}");
    tmux.keys(&["q"]);
    tmux.wait_for("KOLLEGA-EXIT=0");
}

/// The stored content of `path` in the demo, as `kollega cat` prints it.
fn cat_demo(data: &Path, config: &Path, path: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kollega"))
        .args(["cat", "demo", path])
        .env("KOLLEGA_DATA_DIR", data)
        .env("KOLLEGA_CONFIG_DIR", config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_save_after_another_program_read_the_store_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    let tmux = Tmux::start(&data, &config, 80, 24);
    open_tasks(&tmux);
    tmux.keys(&["// first save", "C-s"]);
    tmux.wait_for("saved lib/tasks.ts");
    assert!(cat_demo(&data, &config, "lib/tasks.ts").starts_with("// first save"));
    // The TUI's runner runs an export job: it opens the store again in
    // this process and closes it when done.
    let zip = dir.path().join("demo.zip");
    let queued = Command::new(env!("CARGO_BIN_EXE_kollega"))
        .args(["export", "demo", "--zip"])
        .arg(&zip)
        .arg("--detach")
        .env("KOLLEGA_DATA_DIR", &data)
        .env("KOLLEGA_CONFIG_DIR", &config)
        .output()
        .unwrap();
    assert!(queued.status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !zip.exists() {
        assert!(Instant::now() < deadline, "the TUI's runner did not export");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    // Another SQLite client (a backup script, the sqlite3 shell) opens the
    // store and closes it while the TUI has it open. If the TUI had let go
    // of its locks, this close would checkpoint and delete the WAL under it.
    let db = data.join("kollega.db");
    let read = Command::new("python3")
        .arg("-c")
        .arg("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM files').fetchall(); c.close()")
        .arg(&db)
        .status()
        .unwrap();
    assert!(read.success());
    assert!(
        data.join("kollega.db-wal").exists(),
        "the WAL was deleted under the running TUI"
    );
    tmux.keys(&["Home", "// second save ", "C-s"]);
    tmux.wait_for("// second save");
    std::thread::sleep(Duration::from_millis(500));
    let stored = cat_demo(&data, &config, "lib/tasks.ts");
    assert!(
        stored.starts_with("// second save // first save"),
        "the second save is lost: {:?}",
        stored.lines().next()
    );
    tmux.keys(&["C-q"]);
    tmux.wait_for("KOLLEGA-EXIT=0");
}

#[test]
fn ask_review_two_hunks_in_one_out_apply_and_undo() {
    let k = crate::common::Kollega::new();
    let ws = k.scratch("shop");
    std::fs::create_dir_all(ws.join("lib")).unwrap();
    let original: String = (1..=30)
        .map(|n| match n {
            3 => "const first = 1;\n".to_string(),
            15 => "const second = 2;\n".to_string(),
            27 => "const third = 3;\n".to_string(),
            n => format!("// line {n}\n"),
        })
        .collect();
    std::fs::write(ws.join("lib/cart.ts"), &original).unwrap();
    std::fs::write(ws.join(".env"), "STRIPE_SECRET=sk_live_never_sent\n").unwrap();
    let block = |old: &str, new: &str| {
        format!("lib/cart.ts\n```ts\n<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n```\n")
    };
    let answer = [
        block("const first = 1;", "const first = 10;"),
        block("const second = 2;", "const second = 20;"),
        block("const third = 3;", "const third = 30;"),
    ]
    .concat();
    let server =
        crate::common::FakeGithub::start(move |_| (200, crate::common::chat_stream(&answer)));
    std::fs::write(
        k.config.join("config.toml"),
        "[ai]\nprovider = \"compat\"\n",
    )
    .unwrap();
    let base = format!("{}/v1", server.url);
    let tmux = Tmux::start_env(
        &k.data,
        &k.config,
        100,
        30,
        &[("KOLLEGA_COMPAT_BASE_URL", &base)],
        &format!("open '{}' lib/cart.ts", ws.display()),
    );
    tmux.wait_for("const first = 1;");
    // The AI pane: a prompt, sent with the open file as context.
    tmux.keys(&["M-a"]);
    tmux.wait_for("Context");
    let status = Command::new("tmux")
        .args([
            "-L",
            &tmux.socket,
            "send-keys",
            "-l",
            "make the constants tens",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    tmux.keys(&["C-s"]);
    // The answer becomes a patch in review: three hunks.
    tmux.wait_for("hunk 1/3");
    tmux.keys(&["y"]);
    tmux.wait_for("hunk 2/3");
    tmux.keys(&["y"]);
    tmux.wait_for("hunk 3/3");
    tmux.keys(&["n"]);
    let status = Command::new("tmux")
        .args(["-L", &tmux.socket, "send-keys", "-l", "keep three"])
        .status()
        .unwrap();
    assert!(status.success());
    tmux.keys(&["Enter"]);
    // Nothing is written before `w`.
    assert_eq!(
        std::fs::read_to_string(ws.join("lib/cart.ts")).unwrap(),
        original
    );
    tmux.keys(&["w"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let applied = loop {
        let text = std::fs::read_to_string(ws.join("lib/cart.ts")).unwrap();
        if text != original || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(applied.contains("const first = 10;"), "{applied}");
    assert!(applied.contains("const second = 20;"));
    assert!(
        applied.contains("const third = 3;"),
        "the rejected hunk stays out"
    );
    // The reason is stored with the rejected hunk.
    let show = k.json(["patch", "show", "1", "--json"]);
    let hunks = show["files"][0]["hunks"].as_array().unwrap().clone();
    assert_eq!(hunks[2]["decision"], "rejected", "{show}");
    assert_eq!(hunks[2]["reason"], "keep three");
    // Undo the whole apply in the TUI, redo it, and undo it again from the
    // command line: the file goes back and forth whole.
    let wait_file = |want: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(ws.join("lib/cart.ts")).unwrap();
            if want(&text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out; the file is:\n{text}\n{}",
                tmux.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    tmux.keys(&["u"]);
    wait_file(&|t| t == original);
    tmux.wait_for("undid the apply of patch 1");
    tmux.keys(&["U"]);
    wait_file(&|t| t == applied);
    let undo = k.run(["undo", ws.to_str().unwrap()]);
    crate::common::assert_success(&undo);
    assert_eq!(
        std::fs::read_to_string(ws.join("lib/cart.ts")).unwrap(),
        original
    );
    // `r` asks again for the rejected hunk, with its reason; the answer
    // opens in review as patch 2.
    tmux.keys(&["r"]);
    tmux.wait_for(" #2 ");
    // Nothing secret went to the model.
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1].body.contains("keep three"),
        "{}",
        requests[1].body
    );
    assert!(requests[1].body.contains("was rejected"));
    assert_eq!(requests[0].path, "/v1/chat/completions");
    assert!(!requests[0].body.contains("sk_live_never_sent"));
    assert!(requests[0].body.contains("make the constants tens"));
}

#[test]
fn shift_f3_goes_back_to_the_previous_match() {
    // xterm (and tmux) send Shift-F3 as `ESC[1;2R`, which looks like a
    // cursor-position report; kollega asks for none, so it is the key.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("notes");
    std::fs::create_dir_all(&folder).unwrap();
    let text: String = (1..=9)
        .map(|i| {
            if i % 3 == 0 {
                format!("needle {i}\n")
            } else {
                format!("hay {i}\n")
            }
        })
        .collect();
    std::fs::write(folder.join("n.txt"), text).unwrap();
    let tmux = Tmux::start_with(
        &dir.path().join("data"),
        &dir.path().join("config"),
        80,
        24,
        &format!("open '{}' n.txt:1", folder.display()),
    );
    tmux.wait_for("hay 1");
    tmux.keys(&["C-f"]);
    tmux.keys(&["needle", "Enter"]);
    tmux.wait_for(" 3:");
    tmux.keys(&["F3"]);
    tmux.wait_for(" 6:");
    tmux.keys(&["F3"]);
    tmux.wait_for(" 9:");
    tmux.keys(&["S-F3"]);
    tmux.wait_for(" 6:");
    tmux.keys(&["S-F3"]);
    let screen = tmux.wait_for(" 3:");
    assert!(screen.contains("needle 9"), "{screen}");
    tmux.keys(&["C-q"]);
    tmux.wait_for("KOLLEGA-EXIT=0");
}

#[test]
fn grep_opens_the_match_at_its_line_and_the_tree_hides() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("site");
    std::fs::create_dir_all(folder.join("src")).unwrap();
    std::fs::write(folder.join("src/a.ts"), "export const a = 1;\n").unwrap();
    std::fs::write(
        folder.join("src/b.ts"),
        "import { a } from './a';\n  const total = sumOf(a);\n",
    )
    .unwrap();
    let tmux = Tmux::start_with(
        &dir.path().join("data"),
        &dir.path().join("config"),
        80,
        24,
        &format!("open '{}'", folder.display()),
    );
    tmux.wait_for("Files");
    tmux.keys(&["M-f"]);
    tmux.wait_for("Grep");
    tmux.keys(&["sumof"]);
    let screen = tmux.wait_for("1 match in 1 file");
    assert!(
        screen.contains("src/b.ts:2: const total = sumOf(a);"),
        "{screen}"
    );
    tmux.keys(&["Enter"]);
    // The cursor on the `s` of sumOf: line 2, column 17.
    tmux.wait_for("src/b.ts 2:17");
    // ctrl-b hides the tree; the editor takes the width and the keys.
    tmux.keys(&["C-b"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while tmux.screen().contains("Files") {
        assert!(
            Instant::now() < deadline,
            "the tree stays:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.keys(&["x"]);
    tmux.wait_for("const total = xsumOf(a);");
    tmux.keys(&["C-z", "C-b"]);
    tmux.wait_for("Files");
    tmux.keys(&["C-q"]);
    tmux.wait_for("KOLLEGA-EXIT=0");
}

#[test]
fn two_cursors_after_ctrl_d_type_at_both_places_and_the_save_has_both() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("app");
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("main.rs");
    std::fs::write(&file, "let foo = 1;\nlet bar = foo + 2;\n").unwrap();
    let tmux = Tmux::start_with(
        &dir.path().join("data"),
        &dir.path().join("config"),
        80,
        24,
        &format!("open '{}' main.rs:1", folder.display()),
    );
    tmux.wait_for("let bar");
    // The first ctrl-d selects `let`, the second adds the next `let`.
    tmux.keys(&["C-d", "C-d", "const", "Escape", "C-s"]);
    tmux.wait_for("saved main.rs");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "const foo = 1;\nconst bar = foo + 2;\n"
    );
    // Esc kept the newest cursor, on the second line. Ctrl-/ arrives as
    // 0x1f and Alt-Up as ESC[1;3A: the line is commented out and moved
    // above the first.
    tmux.keys(&["C-_", "M-Up", "C-s"]);
    tmux.wait_for("1 // const bar");
    let deadline = Instant::now() + Duration::from_secs(20);
    let expected = "// const bar = foo + 2;\nconst foo = 1;\n";
    while std::fs::read_to_string(&file).unwrap() != expected {
        assert!(
            Instant::now() < deadline,
            "not saved: {:?}",
            std::fs::read_to_string(&file)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.keys(&["C-q"]);
    tmux.wait_for("KOLLEGA-EXIT=0");
}
