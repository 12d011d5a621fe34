//! End to end: the real binary in tmux. First start takes over the bundled
//! demo, the tree and the file view work, `q` quits and restores the
//! terminal. tmux is required (CI installs it); these tests fail without it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(data_dir: &Path, config_dir: &Path, width: u16, height: u16) -> Tmux {
        let found = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "tmux is required for the end-to-end tests: apt-get install -y tmux"
        );
        let socket = format!("kollega-e2e-{}-{}", std::process::id(), width);
        let script = format!(
            "KOLLEGA_DATA_DIR='{}' KOLLEGA_CONFIG_DIR='{}' TERM=xterm-256color '{}'; echo KOLLEGA-EXIT=$?; sleep 60",
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

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
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
    fn wait_for(&self, text: &str) -> String {
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
    tmux.keys(&["?"]);
    tmux.wait_for("quit kollega");
    tmux.keys(&["Escape", "q"]);
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
