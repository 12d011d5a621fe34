//! File fidelity: what a file is besides its text (the executable bit, a
//! legacy 8-bit encoding) survives import, export, takeover and the jobs'
//! working copy; a forced folder export is exactly the workspace; ZIP
//! archives with ambiguous entries are refused.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A project with executable scripts beside plain files.
fn scripts_project(k: &Kollega) -> std::path::PathBuf {
    let src = k.scratch("scripts");
    write_tree(
        &src,
        &tree([
            ("run.sh", "#!/bin/sh\necho ran-from-copy\n"),
            ("gradlew", "#!/bin/sh\nexit 0\n"),
            (".husky/pre-commit", "#!/bin/sh\nnpm test\n"),
            ("README.md", "# app\n"),
        ]),
    );
    for exe in ["run.sh", "gradlew", ".husky/pre-commit"] {
        chmod(&src.join(exe), 0o755);
    }
    src
}

fn zip_modes(path: &Path) -> Vec<(String, u32)> {
    let file = std::fs::File::open(path).expect("open zip");
    let mut archive = zip::ZipArchive::new(file).expect("read zip");
    (0..archive.len())
        .map(|i| {
            let entry = archive.by_index(i).expect("entry");
            (
                String::from_utf8_lossy(entry.name_raw()).into_owned(),
                entry.unix_mode().unwrap_or(0) & 0o777,
            )
        })
        .collect()
}

#[test]
fn the_executable_bit_survives_folder_and_zip_export_and_import() {
    let k = Kollega::new();
    let src = scripts_project(&k);
    k.import(&src, "scripts", &[]);

    let out = k.scratch("out");
    assert_success(&k.run(["export", "scripts", "--dir", out.to_str().unwrap()]));
    for exe in ["run.sh", "gradlew", ".husky/pre-commit"] {
        assert_eq!(mode(&out.join(exe)), 0o755, "{exe} from export --dir");
    }
    assert_eq!(mode(&out.join("README.md")), 0o644);

    let zip = k.scratch("scripts.zip");
    assert_success(&k.run(["export", "scripts", "--zip", zip.to_str().unwrap()]));
    let modes = zip_modes(&zip);
    for (name, m) in &modes {
        let want = if name == "README.md" { 0o644 } else { 0o755 };
        assert_eq!(*m, want, "{name} in export --zip");
    }

    // The ZIP imported again keeps the bit, and the jobs' working copy
    // runs the script.
    k.import(&zip, "again", &[]);
    let out2 = k.scratch("out2");
    assert_success(&k.run(["export", "again", "--dir", out2.to_str().unwrap()]));
    assert_eq!(mode(&out2.join("run.sh")), 0o755);
    assert_eq!(mode(&out2.join("README.md")), 0o644);
    let run = k.run(["run", "again", "--", "./run.sh"]);
    assert_code(&run, 0);
    assert!(stdout(&run).contains("ran-from-copy"), "{}", stdout(&run));
}

#[test]
fn a_zip_entry_s_executable_bit_is_kept() {
    let k = Kollega::new();
    let zip = k.scratch("made.zip");
    {
        let file = std::fs::File::create(&zip).unwrap();
        let mut w = zip::ZipWriter::new(file);
        let exe = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        let plain = zip::write::SimpleFileOptions::default().unix_permissions(0o644);
        w.start_file("bin/tool", exe).unwrap();
        w.write_all(b"#!/bin/sh\necho tool\n").unwrap();
        w.start_file("notes.txt", plain).unwrap();
        w.write_all(b"notes\n").unwrap();
        w.finish().unwrap();
    }
    k.import(&zip, "made", &[]);
    let out = k.scratch("made-out");
    assert_success(&k.run(["export", "made", "--dir", out.to_str().unwrap()]));
    assert_eq!(mode(&out.join("bin/tool")), 0o755);
    assert_eq!(mode(&out.join("notes.txt")), 0o644);
}

#[test]
fn a_takeover_commits_executables_as_100755() {
    let g = GitRepo::new();
    global_identity(&g);
    let k = &g.k;
    let src = scripts_project(k);
    let zip = k.scratch("scripts.zip");
    // Through a stored workspace exported as a ZIP: no disk mode to peek at.
    k.import(&src, "scripts", &[]);
    assert_success(&k.run(["export", "scripts", "--zip", zip.to_str().unwrap()]));
    let from_zip = k.scratch("zip-repo");
    let out = k.run([
        "takeover".as_ref(),
        zip.as_os_str(),
        "--git".as_ref(),
        from_zip.as_os_str(),
        "--name".as_ref(),
        "from-zip".as_ref(),
        "--json".as_ref(),
    ]);
    assert_success(&out);
    // And the stored workspace itself, by name.
    let from_store = k.scratch("store-repo");
    let out = k.run([
        "takeover".as_ref(),
        "scripts".as_ref(),
        "--git".as_ref(),
        from_store.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_success(&out);
    for repo in [&from_zip, &from_store] {
        let listing = g.git_in(repo, &["ls-tree", "-r", "HEAD"]);
        let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
        for exe in ["run.sh", "gradlew", ".husky/pre-commit"] {
            assert!(
                listing
                    .lines()
                    .any(|l| l.starts_with("100755") && l.ends_with(&format!("\t{exe}"))),
                "{exe} is not 100755:\n{listing}"
            );
        }
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with("100644") && l.ends_with("\tREADME.md")),
            "{listing}"
        );
    }
}

#[test]
fn a_forced_folder_export_leaves_exactly_the_workspace() {
    let k = Kollega::new();
    let src = scripts_project(&k);
    k.import(&src, "scripts", &[]);
    let out = k.scratch("out");
    assert_success(&k.run(["export", "scripts", "--dir", out.to_str().unwrap()]));
    std::fs::write(out.join("stale.txt"), "from before").unwrap();
    std::fs::create_dir_all(out.join("old/deep")).unwrap();
    std::fs::write(out.join("old/deep/x.js"), "1").unwrap();

    assert_success(&k.run([
        "export",
        "scripts",
        "--dir",
        out.to_str().unwrap(),
        "--force",
    ]));
    let names: Vec<String> = read_tree(&out).into_keys().collect();
    assert_eq!(
        names,
        vec![".husky/pre-commit", "README.md", "gradlew", "run.sh"],
        "stale files stay after export --force"
    );
    assert!(!out.join("old").exists());
    // Nothing of ours is left beside the target.
    let beside: Vec<String> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("kollega"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

#[test]
fn a_killed_forced_folder_export_leaves_the_old_folder_or_the_new_one() {
    let k = Kollega::new();
    let src = k.scratch("many");
    let big: Tree = (0..800)
        .map(|i| {
            (
                format!("src/m{:03}/f{i:04}.ts", i % 40),
                format!("export const v{i} = {i};\n")
                    .repeat(40)
                    .into_bytes(),
            )
        })
        .collect();
    write_tree(&src, &big);
    k.import(&src, "many", &[]);
    let out = k.scratch("target");
    let old = tree([("old.txt", "old\n"), ("keep/me.md", "me\n")]);

    let mut seed = std::process::id() as u64;
    for round in 0..12 {
        let _ = std::fs::remove_dir_all(&out);
        write_tree(&out, &old);
        let mut child = k
            .std_cmd()
            .args(["export", "many", "--dir", out.to_str().unwrap(), "--force"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn export");
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = 5 + (seed >> 33) % 120 + round * 3;
        std::thread::sleep(std::time::Duration::from_millis(delay));
        // SAFETY: plain kill(2) on our own child, which has not been reaped yet.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        let found = read_tree(&out);
        assert!(
            found == old || found == big,
            "round {round} (after {delay} ms): the target is neither the old folder nor the export ({} files)",
            found.len()
        );
    }
    // A rerun finishes and cleans what the killed runs left beside it.
    assert_success(&k.run(["export", "many", "--dir", out.to_str().unwrap(), "--force"]));
    assert_eq!(read_tree(&out), big);
    let beside: Vec<String> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("kollega"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

/// The pid of a process that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

#[test]
fn a_zip_export_removes_the_temp_files_of_dead_exports_only() {
    let k = Kollega::new();
    let src = scripts_project(&k);
    k.import(&src, "scripts", &[]);
    let zip = k.scratch("x.zip");
    let dir = zip.parent().unwrap().to_path_buf();
    let dead = dir.join(format!(".x.zip.kollega-{}.tmp", dead_pid()));
    let alive = dir.join(format!(".x.zip.kollega-{}.tmp", std::process::id()));
    std::fs::write(&dead, "half an archive").unwrap();
    std::fs::write(&alive, "another export still running").unwrap();
    assert_success(&k.run(["export", "scripts", "--zip", zip.to_str().unwrap()]));
    assert!(!dead.exists(), "a dead export's temp file stays");
    assert!(alive.exists(), "a live export's temp file was removed");
}

#[test]
fn a_zip_export_into_a_missing_folder_names_that_folder() {
    let k = Kollega::new();
    let src = scripts_project(&k);
    k.import(&src, "scripts", &[]);
    let missing = k.scratch("missing/dir");
    let out = k.run([
        "export",
        "scripts",
        "--zip",
        missing.join("x.zip").to_str().unwrap(),
    ]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(!err.contains(".kollega-"), "names our temp file: {err}");
    assert!(err.contains(missing.to_str().unwrap()), "{err}");
    assert!(err.contains("create"), "says what to do: {err}");
}

#[test]
fn a_zip_with_two_entries_of_the_same_name_is_refused() {
    let k = Kollega::new();
    let zip = k.scratch("twice.zip");
    write_zip(
        &zip,
        &[
            ZipEntry::File("app/a.ts", b"first\n"),
            ZipEntry::File("app/b.ts", b"second\n"),
        ],
    );
    // Rename the second entry to the first one's name, in its local header
    // and in the central directory alike (same length, no CRC over names).
    let mut bytes = std::fs::read(&zip).unwrap();
    let mut i = 0;
    while let Some(at) = bytes[i..].windows(8).position(|w| w == b"app/b.ts") {
        bytes[i + at..i + at + 8].copy_from_slice(b"app/a.ts");
        i += at + 8;
    }
    std::fs::write(&zip, &bytes).unwrap();
    let err = k.import_fails(&zip, "twice", &[]);
    assert!(err.contains("app/a.ts"), "{err}");
    assert!(err.contains("twice"), "{err}");
    assert_eq!(k.json(["ls", "--json"]).as_array().map(Vec::len), Some(0));
}

/// Latin-1 and Windows-1252 text, as older editors on Windows save it.
fn legacy_tree() -> Tree {
    tree([
        ("latin1.txt", b"caf\xe9 na\xefve gar\xe7on\r\n".to_vec()),
        ("cp1252.txt", b"\x93quoted\x94 \x80 5 \x96 dash\n".to_vec()),
        ("utf8.txt", "caf\u{e9}\n".as_bytes().to_vec()),
    ])
}

#[test]
fn legacy_8_bit_text_is_imported_and_exported_byte_for_byte() {
    let k = Kollega::new();
    let src = k.scratch("legacy");
    let legacy = legacy_tree();
    write_tree(&src, &legacy);
    let mut with_binary = legacy.clone();
    with_binary.insert("logo.bin".into(), b"\x89PNG\x00\xff".to_vec());
    write_tree(&src, &with_binary);
    let report = k.import(&src, "legacy", &[]);
    assert_eq!(report["filesCount"], 3, "{report}");
    assert_eq!(
        skipped(&report),
        vec![("logo.bin".to_string(), "binary".to_string(), Some(6))]
    );
    // Stored as UTF-8: `cat` shows the text.
    let cat = k.run(["cat", "legacy", "cp1252.txt"]);
    assert_success(&cat);
    assert_eq!(
        stdout(&cat),
        "\u{201c}quoted\u{201d} \u{20ac} 5 \u{2013} dash\n"
    );

    let out = k.scratch("legacy-out");
    assert_success(&k.run(["export", "legacy", "--dir", out.to_str().unwrap()]));
    assert_eq!(read_tree(&out), legacy);
    let zip = k.scratch("legacy.zip");
    assert_success(&k.run(["export", "legacy", "--zip", zip.to_str().unwrap()]));
    let entries: Tree = read_zip(&zip).into_iter().collect();
    assert_eq!(entries, legacy);

    // The jobs' working copy holds the bytes that came in.
    let run = k.run(["run", "legacy", "--", "cat", "cp1252.txt"]);
    assert_code(&run, 0);
    assert_eq!(run.stdout, legacy["cp1252.txt"]);
}

#[test]
fn a_takeover_commits_legacy_text_in_its_own_encoding() {
    let g = GitRepo::new();
    global_identity(&g);
    let k = &g.k;
    let src = k.scratch("legacy");
    let legacy = legacy_tree();
    write_tree(&src, &legacy);
    k.import(&src, "legacy", &[]);
    let repo = k.scratch("legacy-repo");
    let out = k.run([
        "takeover".as_ref(),
        "legacy".as_ref(),
        "--git".as_ref(),
        repo.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_success(&out);
    for (path, bytes) in &legacy {
        let shown = g.git_in(&repo, &["cat-file", "blob", &format!("HEAD:{path}")]);
        assert_eq!(&shown.stdout, bytes, "{path} in the takeover commit");
    }
}

fn chown_tree(root: &Path, uid: u32) {
    for entry in walkdir::WalkDir::new(root).contents_first(true) {
        let entry = entry.expect("walk");
        std::os::unix::fs::lchown(entry.path(), Some(uid), Some(uid)).expect("chown");
    }
}

#[test]
fn unreadable_entries_and_paths_too_long_are_skipped_not_fatal() {
    let k = Kollega::new();
    let src = k.scratch("odd");
    write_tree(
        &src,
        &tree([
            ("ok.txt", "ok\n"),
            ("locked.txt", "locked\n"),
            ("closed/inner.txt", "inner\n"),
        ]),
    );
    if running_as_root() {
        // Root reads anything: the import runs as nobody, who owns the
        // installation but not the locked entries' contents.
        std::fs::create_dir_all(&k.data).unwrap();
        chown_tree(k.root(), 65534);
    }
    // A path over 4,096 bytes inside the folder: 16 folders of 240 bytes
    // and a 250-byte file name, made relative to stay under PATH_MAX.
    let dirs: Vec<String> = (0..16)
        .map(|i| format!("{}{i:02}", "d".repeat(238)))
        .collect();
    let file = "f".repeat(250);
    let script = format!(
        "set -e; for d in {}; do mkdir \"$d\"; cd \"$d\"; done; echo deep > {file}",
        dirs.join(" ")
    );
    let made = std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(&src)
        .status()
        .expect("sh");
    assert!(made.success());
    let deep = format!("{}/{file}", dirs.join("/"));
    assert!(deep.len() > 4096);

    chmod(&src.join("locked.txt"), 0o000);
    chmod(&src.join("closed"), 0o000);
    let mut cmd = kollega_without_root();
    let out = cmd
        .arg("--data-dir")
        .arg(&k.data)
        .args(["import", src.to_str().unwrap(), "--name", "odd", "--json"])
        .env("KOLLEGA_CONFIG_DIR", &k.config)
        .output()
        .expect("run kollega");
    chmod(&src.join("closed"), 0o755);
    assert_success(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["filesCount"], 1, "{report}");
    assert_eq!(
        skipped(&report),
        vec![
            ("closed".to_string(), "unreadable".to_string(), None),
            (deep.clone(), "name-too-long".to_string(), None),
            ("locked.txt".to_string(), "unreadable".to_string(), None),
        ]
    );
}

#[test]
fn zip_entries_with_names_too_long_are_skipped() {
    let k = Kollega::new();
    let zip = k.scratch("long.zip");
    let long = format!("src/{}.ts", "n".repeat(300));
    write_zip(
        &zip,
        &[
            ZipEntry::File("ok.ts", b"ok\n"),
            ZipEntry::File(&long, b"long\n"),
        ],
    );
    let report = k.import(&zip, "long", &[]);
    assert_eq!(report["filesCount"], 1, "{report}");
    assert_eq!(
        skipped(&report),
        vec![(long, "name-too-long".to_string(), None)]
    );
    let out = k.scratch("long-out");
    assert_success(&k.run(["export", "long", "--dir", out.to_str().unwrap()]));
}

/// A Next.js app whose routes and scripts are named like build folders.
fn next_app() -> Tree {
    tree([
        ("app/build/page.tsx", "export default function Build() {}\n"),
        ("app/dist/page.tsx", "export default function Dist() {}\n"),
        (
            "app/target/page.tsx",
            "export default function Target() {}\n",
        ),
        ("scripts/build", "#!/bin/sh\nnext build\n"),
        ("src/a.ts", "export {};\n"),
        ("build/out.js", "compiled\n"),
        (".next/cache/x", "cache\n"),
        ("node_modules/x/i.js", "1\n"),
        ("web/node_modules/y/i.js", "2\n"),
        (".DS_Store", "junk\n"),
        ("debug.log", "log\n"),
    ])
}

fn ignored_paths(report: &serde_json::Value) -> Vec<(String, String)> {
    report["ignoredPaths"]
        .as_array()
        .unwrap_or_else(|| panic!("no ignoredPaths in {report}"))
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap_or_default().to_string(),
                e["rule"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn build_folders_are_ignored_at_the_root_only_and_show_names_each_with_its_rule() {
    let k = Kollega::new();
    let src = k.scratch("next");
    write_tree(&src, &next_app());
    let zip = k.scratch("next.zip");
    write_tree_zip(&zip, &next_app());
    let expected: Vec<(String, String)> = [
        (".DS_Store", ".DS_Store"),
        (".next", "/.next/"),
        ("build", "/build/"),
        ("node_modules", "node_modules/"),
        ("web/node_modules", "node_modules/"),
    ]
    .iter()
    .map(|(p, r)| (p.to_string(), r.to_string()))
    .collect();
    for (name, source) in [("next", &src), ("nextzip", &zip)] {
        let report = k.import(source, name, &[]);
        assert_eq!(report["filesCount"], 6, "{name}: {report}");
        assert_eq!(report["ignored"], 5, "{name}: {report}");
        assert_eq!(ignored_paths(&report), expected, "{name}");
        let shown = k.json(["show", name, "--json"]);
        assert_eq!(ignored_paths(&shown), expected, "{name}");
    }
    let out = k.scratch("next-out");
    assert_success(&k.run(["export", "next", "--dir", out.to_str().unwrap()]));
    for kept in [
        "app/build/page.tsx",
        "app/dist/page.tsx",
        "app/target/page.tsx",
        "scripts/build",
        "debug.log",
    ] {
        assert!(out.join(kept).is_file(), "{kept} vanished");
    }
    let human = stdout(&k.run(["show", "next"]));
    assert!(
        human
            .lines()
            .any(|l| l.contains("web/node_modules") && l.contains("node_modules/")),
        "{human}"
    );
}

#[test]
fn the_ignore_rules_are_gitignore_lines_in_the_config() {
    let k = Kollega::new();
    std::fs::write(
        k.config.join("config.toml"),
        "[import]\nignore = [\"/build/\", \"*.log\", \"!keep.log\"]\n",
    )
    .unwrap();
    let src = k.scratch("next");
    let mut app = next_app();
    app.insert("keep.log".into(), b"kept\n".to_vec());
    write_tree(&src, &app);
    let report = k.import(&src, "next", &[]);
    assert_eq!(
        ignored_paths(&report),
        vec![
            ("build".to_string(), "/build/".to_string()),
            ("debug.log".to_string(), "*.log".to_string()),
        ]
    );
    assert_eq!(report["filesCount"], 10, "{report}");

    std::fs::write(
        k.config.join("config.toml"),
        "[import]\nignore = [\"[z-a]\"]\n",
    )
    .unwrap();
    let out = k.run(["import", src.to_str().unwrap(), "--name", "bad"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("[z-a]"), "{}", stderr(&out));
}

#[test]
fn a_forced_export_into_the_current_folder_replaces_it() {
    let k = Kollega::new();
    let src = scripts_project(&k);
    k.import(&src, "scripts", &[]);
    let out = k.scratch("here");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("stale.txt"), "old").unwrap();
    let run = k
        .std_cmd()
        .args(["export", "scripts", "--dir", ".", "--force"])
        .current_dir(&out)
        .output()
        .unwrap();
    assert_success(&run);
    let names: Vec<String> = read_tree(&out).into_keys().collect();
    assert_eq!(
        names,
        vec![".husky/pre-commit", "README.md", "gradlew", "run.sh"]
    );
}
