//! The command-line surface: help, usage errors, reading and removing
//! workspaces, doctor, the store's permissions and its schema guard.

use std::os::unix::fs::PermissionsExt;

use crate::common::*;
use predicates::prelude::*;
use serde_json::Value;

/// The subcommand names listed under `Commands:` in `kollega --help`.
fn subcommands(k: &Kollega) -> Vec<String> {
    let out = k.run(["--help"]);
    assert_success(&out);
    let help = stdout(&out);
    let section = help
        .split("Commands:")
        .nth(1)
        .expect("a Commands: section in --help");
    section
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

fn with_workspace(k: &Kollega) {
    let src = k.scratch("shop");
    write_tree(
        &src,
        &tree([
            ("app/page.tsx", "export default () => null;\n"),
            ("README.md", "# shop\n"),
        ]),
    );
    k.import(&src, "shop", &[]);
}

#[test]
fn every_subcommand_help_has_examples() {
    let k = Kollega::new();
    let names = subcommands(&k);
    assert_eq!(
        names,
        [
            "import",
            "export",
            "open",
            "ls",
            "show",
            "cat",
            "grep",
            "rm",
            "doctor",
            "takeover",
            "git",
            "run",
            "worker",
            "jobs",
            "tasks",
            "schedule",
            "metrics",
            "patch",
            "undo",
            "redo",
            "ask",
            "usage",
            "review",
            "meetings",
            "actions",
            "stakeholders",
            "modules",
            "watch",
            "backup",
            "restore"
        ]
    );
    k.cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
    for name in &names {
        k.cmd()
            .args([name.as_str(), "--help"])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("Examples:"))
            .stdout(predicate::str::contains(format!("kollega {name}")));
    }
    k.cmd()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("kollega "));
}

#[test]
fn unknown_flags_are_usage_errors_with_exit_2() {
    let k = Kollega::new();
    for args in [
        &["--bogus"][..],
        &["ls", "--bogus"],
        &["import", ".", "--frobnicate"],
        &["export", "x", "--zip", "x.zip", "--dir", "d"],
        &["cat", "only-one-arg"],
        &["no-such-subcommand"],
    ] {
        k.cmd()
            .args(args)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("error:"));
    }
}

#[test]
fn data_dir_is_accepted_after_the_subcommand_too() {
    let k = Kollega::new();
    with_workspace(&k);
    let out = k
        .std_cmd_without_data_dir()
        .args(["ls", "--json", "--data-dir"])
        .arg(&k.data)
        .output()
        .unwrap();
    assert_success(&out);
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["workspace"], "shop");
}

#[test]
fn cat_prints_a_file_and_names_a_missing_path() {
    let k = Kollega::new();
    with_workspace(&k);

    k.cmd()
        .args(["cat", "shop", "app/page.tsx"])
        .assert()
        .success()
        .stdout("export default () => null;\n");
    // A path is normalised the way the import stored it.
    k.cmd()
        .args(["cat", "shop", "./app//page.tsx"])
        .assert()
        .success()
        .stdout("export default () => null;\n");
    k.cmd()
        .args(["cat", "shop", "missing.txt"])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("missing.txt"))
        .stderr(predicate::str::contains("hint: `kollega show shop`"));
    k.cmd()
        .args(["cat", "shop", "../../etc/passwd"])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty());
}

#[test]
fn rm_needs_yes_and_then_removes_everything_of_the_workspace() {
    let k = Kollega::new();
    with_workspace(&k);

    k.cmd()
        .args(["rm", "shop"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--yes"))
        .stderr(predicate::str::contains(
            "hint: run `kollega rm shop --yes`",
        ));
    assert_eq!(k.ls().len(), 1);
    assert_eq!(k.rows("files"), 2);

    k.cmd()
        .args(["rm", "shop", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed workspace shop"));
    assert_eq!(k.ls(), Vec::<Value>::new());
    assert_eq!(k.rows("workspaces"), 0);
    assert_eq!(k.rows("files"), 0);
    let actions: Vec<(String, String)> = {
        let conn = k.db();
        let mut stmt = conn
            .prepare("SELECT action, workspace FROM audit_log ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        actions,
        [
            ("import".to_string(), "shop".to_string()),
            ("remove".to_string(), "shop".to_string())
        ]
    );

    k.cmd()
        .args(["rm", "shop", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no workspace named \"shop\""));
}

#[test]
fn show_of_an_unknown_workspace_hints_at_ls() {
    let k = Kollega::new();
    k.cmd()
        .args(["show", "nope"])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("no workspace named \"nope\""))
        .stderr(predicate::str::is_match("(?m)^hint: .*kollega ls").unwrap());
    // With --json, the same error is one JSON object on stdout.
    let out = k.run(["show", "nope", "--json"]);
    assert_code(&out, 1);
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let error = json_error(&out);
    assert_eq!(error["kind"], "workspace");
    assert_eq!(error["message"], "no workspace named \"nope\"");
    assert!(error["hint"].as_str().unwrap().contains("kollega ls"));
}

#[test]
fn ls_on_an_empty_store_prints_an_empty_list_or_a_hint() {
    let k = Kollega::new();
    k.cmd()
        .args(["ls", "--json"])
        .assert()
        .success()
        .stdout("[]\n");
    k.cmd()
        .arg("ls")
        .assert()
        .success()
        .stdout(predicate::str::contains("kollega import"));
}

#[test]
fn no_subcommand_without_a_terminal_says_the_ui_needs_one() {
    let k = Kollega::new();
    k.cmd()
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("the terminal UI needs a terminal"));
    // It did not take the demo over either.
    if k.db_path().exists() {
        assert_eq!(k.ls(), Vec::<Value>::new());
    }
}

fn check_names(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["name"].as_str().expect("check name").to_string())
        .collect()
}

#[test]
fn doctor_json_reports_every_check_ok() {
    let k = Kollega::new();
    let report = k.json(["doctor", "--json"]);

    assert_eq!(report["ok"], true, "{report:#}");
    let names = check_names(&report);
    for expected in [
        "store",
        "integrity",
        "schema",
        "permissions",
        "disk",
        "git",
        "provider keys",
        "terminal",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "no {expected}: {names:?}"
        );
    }
    for check in report["checks"].as_array().unwrap() {
        assert!(
            ["ok", "warn", "fail"].contains(&check["status"].as_str().unwrap()),
            "{check}"
        );
        assert!(check["detail"].is_string(), "{check}");
        assert_ne!(check["status"], "fail", "{check}");
    }
    let by_name = |name: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("integrity")["status"], "ok");
    assert_eq!(by_name("schema")["status"], "ok");
    assert_eq!(by_name("permissions")["status"], "ok");
}

#[test]
fn doctor_names_provider_keys_but_never_prints_their_values() {
    let k = Kollega::new().env("OPENAI_API_KEY", "sk-test-value-123");
    for args in [&["doctor"][..], &["doctor", "--json"]] {
        let out = k.run(args);
        assert_success(&out);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(all.contains("OPENAI_API_KEY"), "{all}");
        assert!(!all.contains("sk-test-value-123"), "{all}");
    }
    for (_, bytes) in k.stored_bytes() {
        assert!(!contains_bytes(&bytes, b"sk-test-value-123"));
    }
}

#[test]
fn the_data_dir_is_private_and_the_database_owner_only() {
    let k = Kollega::new();
    assert!(!k.data.exists());
    assert_success(&k.run(["ls"]));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&k.data), 0o700, "data dir mode");
    assert_eq!(mode(&k.db_path()), 0o600, "kollega.db mode");

    // A data dir others can read is made private again.
    std::fs::set_permissions(&k.data, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_success(&k.run(["ls"]));
    assert_eq!(mode(&k.data), 0o700, "data dir mode after a chmod 755");
}

#[test]
fn a_store_with_a_newer_schema_is_refused_and_left_unchanged() {
    let k = Kollega::new();
    with_workspace(&k);
    {
        let conn = rusqlite::Connection::open(k.db_path()).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let wal = k.data.join("kollega.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "the test's own write is checkpointed"
    );
    let before = std::fs::read(k.db_path()).unwrap();

    for args in [&["ls"][..], &["show", "shop"]] {
        k.cmd()
            .args(args)
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("schema version 99"))
            .stderr(predicate::str::contains("left unchanged"))
            .stderr(predicate::str::contains("hint:"));
    }
    let out = k.run(["ls", "--json"]);
    assert_code(&out, 1);
    let error = json_error(&out);
    assert_eq!(error["kind"], "store");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("schema version 99")
    );
    // An import is refused the same way, before it reads or writes anything.
    let src = k.scratch("other");
    write_tree(&src, &tree([("a.txt", "a\n")]));
    let err = k.import_fails(&src, "other", &[]);
    assert!(err.contains("schema version 99"), "{err}");

    assert!(
        std::fs::read(k.db_path()).unwrap() == before,
        "kollega.db changed"
    );
    if wal.exists() {
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0, "WAL written");
    }
    let version: i64 = k
        .db()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 99);

    // doctor reports it rather than failing to run.
    let out = k.run(["doctor", "--json"]);
    assert_code(&out, 1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let store = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "store")
        .unwrap();
    assert_eq!(store["status"], "fail");
    assert!(
        store["detail"]
            .as_str()
            .unwrap()
            .contains("schema version 99"),
        "{store}"
    );
    assert!(
        std::fs::read(k.db_path()).unwrap() == before,
        "doctor changed kollega.db"
    );
}

#[test]
fn a_worker_and_commands_started_at_once_on_a_new_store_all_open_it() {
    for _ in 0..10 {
        let k = Kollega::new();
        let mut worker = k
            .std_cmd()
            .arg("worker")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let commands: Vec<_> = (0..3)
            .map(|i| {
                let args: &[&str] = match i {
                    0 => &["ls"],
                    1 => &["jobs"],
                    _ => &["schedule", "ls"],
                };
                k.std_cmd()
                    .args(args)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for command in commands {
            let out = command.wait_with_output().unwrap();
            assert_success(&out);
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        let _ = worker.kill();
        let out = worker.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!said.contains("error"), "the worker failed: {said}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("running up to"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn with_json_every_failure_is_one_json_object_on_stdout() {
    let k = Kollega::new();
    let missing = k.scratch("missing");
    let missing = missing.to_str().unwrap();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["show", "nope", "--json"], 1, "workspace"),
        (&["export", "nope", "--zip", "x.zip", "--json"], 1, "export"),
        (&["import", missing, "--json"], 1, "import"),
        (&["jobs", "show", "42", "--json"], 1, "jobs"),
        (&["jobs", "retry", "42", "--json"], 1, "jobs"),
        (&["jobs", "cancel", "42", "--json"], 1, "jobs"),
        (&["schedule", "rm", "3", "--json"], 1, "jobs"),
        (&["tasks", "nope", "--json"], 1, "jobs"),
        (&["git", "status", missing, "--json"], 1, "git"),
        (
            &["run", "nope", "--detach", "--json", "--", "true"],
            1,
            "jobs",
        ),
        (&["jobs", "--status", "bogus", "--json"], 2, "usage"),
        (&["ls", "--bogus", "--json"], 2, "usage"),
    ];
    for (args, code, kind) in cases {
        let out = k.run(*args);
        assert_code(&out, *code);
        assert!(
            out.stderr.is_empty(),
            "{args:?} printed on stderr: {}",
            stderr(&out)
        );
        let error = json_error(&out);
        assert_eq!(error["kind"], *kind, "{args:?}: {error}");
    }
    // The usage hint names the subcommand it was for.
    let error = json_error(&k.run(["jobs", "--status", "bogus", "--json"]));
    assert!(
        error["hint"]
            .as_str()
            .unwrap()
            .contains("kollega help jobs"),
        "{error}"
    );
}

/// The binary as a user who owns the data directory but may not write it:
/// as root, the user `nobody` (root ignores file modes); else this user,
/// with the folder and the store made read-only.
/// Runs the binary with some arguments.
type Runner<'a> = Box<dyn Fn(&[&str]) -> std::process::Output + 'a>;

fn read_only_user(k: &Kollega) -> Runner<'_> {
    let chmod = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    if running_as_root() {
        chmod(k.root(), 0o755);
        let status = std::process::Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(&k.data)
            .arg(&k.config)
            .status()
            .unwrap();
        assert!(status.success());
    }
    chmod(&k.data.join("kollega.db"), 0o400);
    chmod(&k.data, 0o500);
    Box::new(move |args: &[&str]| {
        let mut cmd = kollega_without_root();
        cmd.arg("--data-dir")
            .arg(&k.data)
            .args(args)
            .env("KOLLEGA_CONFIG_DIR", &k.config)
            .current_dir(k.root())
            .output()
            .unwrap()
    })
}

#[test]
fn a_store_this_user_may_only_read_still_lists_shows_cats_exports_and_checks() {
    let k = Kollega::new();
    let src = k.scratch("shop");
    write_tree(&src, &tree([("app/page.tsx", "export default 1;\n")]));
    k.import(&src, "shop", &[]);
    let out_dir = k.root().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    std::fs::set_permissions(&out_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let zip = out_dir.join("shop.zip");
    let run = read_only_user(&k);
    let ls = run(&["ls", "--json"]);
    assert_success(&ls);
    assert!(stdout(&ls).contains("\"shop\""), "{}", stdout(&ls));
    assert_success(&run(&["show", "shop"]));
    let cat = run(&["cat", "shop", "app/page.tsx"]);
    assert_success(&cat);
    assert_eq!(stdout(&cat), "export default 1;\n");
    assert_success(&run(&["export", "shop", "--zip", zip.to_str().unwrap()]));
    assert!(zip.is_file());
    let doctor = run(&["doctor"]);
    assert!(
        stdout(&doctor).contains("opens read-only"),
        "{}",
        stdout(&doctor)
    );
    // A write is refused, saying why, and the store is as it was.
    let import = run(&["import", src.to_str().unwrap(), "--name", "other"]);
    assert_code(&import, 1);
    assert!(
        stderr(&import).contains("cannot be written by this user"),
        "{}",
        stderr(&import)
    );
    std::fs::set_permissions(&k.data, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(k.ls().len(), 1);
}

#[test]
fn doctor_says_an_unreadable_store_is_a_permission_problem() {
    let k = Kollega::new();
    let src = k.scratch("shop");
    write_tree(&src, &tree([("a.txt", "a\n")]));
    k.import(&src, "shop", &[]);
    let run = read_only_user(&k);
    std::fs::set_permissions(
        k.data.join("kollega.db"),
        std::fs::Permissions::from_mode(0o0),
    )
    .unwrap();
    let doctor = run(&["doctor"]);
    assert_code(&doctor, 1);
    let text = stdout(&doctor);
    assert!(
        text.contains("FAIL  store") && text.contains("permission denied"),
        "{text}"
    );
    // Other commands name the store once, not its path twice.
    let ls = run(&["ls"]);
    assert_code(&ls, 1);
    let db = k.data.join("kollega.db").display().to_string();
    assert_eq!(stderr(&ls).matches(&db).count(), 1, "{}", stderr(&ls));
}

#[test]
fn doctor_reports_a_bad_config_file_as_a_failed_check() {
    let k = Kollega::new();
    std::fs::write(k.config.join("config.toml"), "[limitz]\nx = 1\n").unwrap();
    let out = k.run(["doctor"]);
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("FAIL  config") && text.contains("line 1") && text.contains("limitz"),
        "{text}"
    );
    // The other checks still ran.
    assert!(text.contains("store"), "{text}");
}

#[test]
fn an_empty_data_dir_variable_is_an_error_not_a_fallback() {
    let k = Kollega::new().env("KOLLEGA_DATA_DIR", "");
    let out = k.std_cmd_without_data_dir().arg("ls").output().unwrap();
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("KOLLEGA_DATA_DIR is set but empty"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_log_folder_and_its_files_are_private() {
    let k = Kollega::new();
    assert_success(&k.run(["ls"]));
    let logs = k.logs_dir();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&logs), 0o700);
    let files: Vec<_> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!files.is_empty());
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

/// Each failure names its cause once: an OS error is not repeated by the
/// layers it passes through.
#[test]
fn an_os_error_is_printed_once() {
    let k = Kollega::new();
    with_workspace(&k);
    let file = k.scratch("a-file");
    std::fs::write(&file, "not a folder\n").unwrap();
    let under_file = file.join("export");
    // (arguments, whether they name their own data dir)
    let cases: Vec<(Vec<String>, bool)> = vec![
        (
            vec!["import".into(), "/nonexistent/kollega-src".into()],
            false,
        ),
        (
            vec![
                "export".into(),
                "shop".into(),
                "--dir".into(),
                under_file.display().to_string(),
            ],
            false,
        ),
        (
            vec![
                "ls".into(),
                "--data-dir".into(),
                file.join("data").display().to_string(),
            ],
            true,
        ),
        (
            vec!["worker".into(), "--metrics".into(), "192.0.2.1:9".into()],
            false,
        ),
    ];
    for (args, own_data_dir) in cases {
        let mut cmd = if own_data_dir {
            k.std_cmd_without_data_dir()
        } else {
            k.std_cmd()
        };
        let out = cmd.args(&args).output().unwrap();
        assert_code(&out, 1);
        let err = stderr(&out);
        assert_eq!(err.matches("os error").count(), 1, "{args:?}: {err}");
        let first = err.lines().next().unwrap_or_default();
        for part in first.split(": ").filter(|p| p.len() > 8) {
            assert_eq!(first.matches(part).count(), 1, "{args:?}: {err}");
        }
    }
}
