//! End to end in tmux: the meeting dashboard on the bundled demo's
//! calendar. Alt-m shows the next days; a decision and an action item
//! typed in place are in the store, as the CLI reads them.

use std::path::Path;
use std::process::Command;

use crate::e2e_tui::Tmux;

/// `kollega ARGS` on the same store, its standard output.
fn kollega(data: &Path, config: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kollega"))
        .args(args)
        .env("KOLLEGA_DATA_DIR", data)
        .env("KOLLEGA_CONFIG_DIR", config)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kollega {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_dashboard_shows_the_demo_week_and_keeps_a_decision_and_an_action_item() {
    let dir = tempfile::tempdir().unwrap();
    let (data, config) = (dir.path().join("data"), dir.path().join("config"));
    let tmux = Tmux::start_env(&data, &config, 80, 24, &[("TZ", "UTC")], "");
    tmux.wait_for("demo [sqlite]");
    tmux.keys(&["M-m"]);
    let screen = tmux.wait_for("Next 7 days");
    assert!(screen.contains("Standup"), "{screen}");
    assert!(screen.contains("Checkout rede"), "{screen}");

    // The first meeting of today is selected: a decision, then an action
    // item with an owner and no due date.
    tmux.keys(&["d"]);
    tmux.keys(&["Keep server-side validation", "Enter"]);
    tmux.wait_for("Decisions (1)");
    tmux.keys(&["a"]);
    tmux.keys(&["Wire the API errors", "Enter", "Deniz", "Enter", "Enter"]);
    let screen = tmux.wait_for("Action items (1)");
    assert!(screen.contains("Wire the API errors"), "{screen}");

    tmux.keys(&["M-m", "C-q"]);
    tmux.wait_for("KOLLEGA-EXIT=0");

    let actions = kollega(&data, &config, &["actions", "--json"]);
    assert!(actions.contains("Wire the API errors"), "{actions}");
    assert!(actions.contains("Deniz"), "{actions}");
    // The decision is on whichever meeting came first; one of the week's.
    let week = kollega(&data, &config, &["meetings", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&week).unwrap();
    let decided = list.as_array().unwrap().iter().any(|m| {
        kollega(&data, &config, &["meetings", "show", &m["id"].to_string()])
            .contains("Keep server-side validation")
    });
    assert!(decided, "no meeting of {week} has the decision");
}
