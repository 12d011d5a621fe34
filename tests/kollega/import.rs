//! Takeover import of folders and ZIP files: what is taken, what is ignored,
//! what is skipped and why, and how a repeated import behaves.

use crate::common::*;
use serde_json::Value;

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn is_rfc3339_utc(text: &str) -> bool {
    // 2024-05-01T12:34:56Z (whole seconds, as stored), or with a fraction.
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && text.ends_with('Z')
}

#[test]
fn directory_import_reports_exact_json_and_takes_hidden_files_but_not_ignored_folders() {
    let k = Kollega::new();
    let app = app_tree();
    let src = k.scratch("shop");
    write_tree(&src, &app.all);

    let report = k.import(&src, "shop", &[]);

    assert_eq!(
        keys(&report),
        [
            "bytes",
            "filesCount",
            "ignored",
            "ignoredPaths",
            "skipped",
            "source",
            "status",
            "storageType",
            "takenOverAt",
            "workspace"
        ]
    );
    assert_eq!(report["workspace"], "shop");
    assert_eq!(report["storageType"], "sqlite");
    assert_eq!(report["status"], "imported");
    assert_eq!(report["filesCount"], app.imported.len() as u64);
    assert_eq!(report["bytes"], total_bytes(&app.imported));
    assert_eq!(report["ignored"], app.ignored);
    assert_eq!(report["skipped"], serde_json::json!([]));
    assert_eq!(
        report["source"],
        src.canonicalize().unwrap().to_string_lossy().as_ref()
    );
    let taken = report["takenOverAt"].as_str().unwrap();
    assert!(is_rfc3339_utc(taken), "takenOverAt {taken:?}");

    // Exactly the files outside the ignored folders are stored, byte for byte.
    let conn = k.db();
    let mut stmt = conn
        .prepare("SELECT path, content, size FROM files ORDER BY path")
        .unwrap();
    let stored: Tree = stmt
        .query_map([], |r| {
            let content: String = r.get(1)?;
            let size: i64 = r.get(2)?;
            assert_eq!(size as usize, content.len());
            Ok((r.get::<_, String>(0)?, content.into_bytes()))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stored, app.imported);
    // Hidden files are part of an export and are taken over.
    for hidden in [".gitignore", ".eslintrc.json", ".env.example"] {
        let out = k.run(["cat", "shop", hidden]);
        assert_success(&out);
        assert_eq!(out.stdout, app.imported[hidden], "{hidden}");
    }
}

#[test]
fn zip_import_of_the_same_tree_matches_the_directory_import_and_ls_agrees_with_show() {
    let k = Kollega::new();
    let app = app_tree();
    let dir = k.scratch("shop");
    write_tree(&dir, &app.all);
    let zip = k.scratch("shop.zip");
    // Folder entries as zip tools write them, then the files.
    let mut entries = vec![
        ZipEntry::Dir("app/"),
        ZipEntry::Dir("node_modules/"),
        ZipEntry::Dir(".git/"),
    ];
    entries.extend(app.all.iter().map(|(p, c)| ZipEntry::File(p, c)));
    write_zip(&zip, &entries);

    let from_dir = k.import(&dir, "from-dir", &[]);
    let from_zip = k.import(&zip, "from-zip", &[]);

    assert_eq!(from_zip["status"], "imported");
    assert_eq!(from_zip["storageType"], "sqlite");
    assert_eq!(from_zip["filesCount"], app.imported.len() as u64);
    assert_eq!(from_zip["bytes"], total_bytes(&app.imported));
    assert_eq!(from_zip["filesCount"], from_dir["filesCount"]);
    assert_eq!(from_zip["bytes"], from_dir["bytes"]);
    assert_eq!(from_zip["ignored"], from_dir["ignored"]);
    assert_eq!(from_zip["skipped"], from_dir["skipped"]);
    assert_eq!(
        from_zip["source"],
        zip.canonicalize().unwrap().to_string_lossy().as_ref()
    );
    for (path, content) in &app.imported {
        let out = k.run(["cat", "from-zip", path]);
        assert_success(&out);
        assert_eq!(&out.stdout, content, "{path}");
    }

    let rows = k.ls();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["workspace"], "from-dir");
    assert_eq!(rows[1]["workspace"], "from-zip");
    for (row, imported) in rows.iter().zip([&from_dir, &from_zip]) {
        let name = row["workspace"].as_str().unwrap();
        let show = k.json(["show", name, "--json"]);
        for key in [
            "workspace",
            "storageType",
            "filesCount",
            "bytes",
            "takenOverAt",
            "source",
            "ignored",
        ] {
            assert_eq!(row[key], show[key], "ls and show disagree on {key}");
            assert_eq!(row[key], imported[key], "ls and import disagree on {key}");
        }
        assert_eq!(show["skipped"], imported["skipped"]);
        assert_eq!(
            row["skippedCount"],
            show["skipped"].as_array().unwrap().len() as u64
        );
        assert!(show.get("status").is_none(), "show has no status: {show}");
    }
}

const DATABASE_URL: &str = "postgres://u:p@h/db";
const OPENAI_KEY: &str = "sk-proj-4f9aB2c7D1e0F3a9b8C7d6E5f4";
const PEM_HEADER: &str = "-----BEGIN RSA PRIVATE KEY-----";
const PEM_BODY: &str = "MIIEpAIBAAKCAQEA7bq98Ld2Hf0kQmXoQ4vTnJzQ2w8xY3k1uVq";

/// A tree with one file for each skip reason, and the skips it must yield.
fn skip_tree() -> (Tree, Tree, Vec<Skip>) {
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0".to_vec();
    // Neither UTF-8 nor plausible Windows-1252 (DEL and other controls);
    // Latin-1 text is imported (see fidelity.rs).
    let blob: Vec<u8> = b"\x7fELF\x02\x01\x01\x03\xe9".to_vec();
    let big: Vec<u8> = "// generated\n".repeat(160).into_bytes(); // 2080 bytes
    let env = format!("DATABASE_URL={DATABASE_URL}\n").into_bytes();
    let source = format!("const k = \"{OPENAI_KEY}\";\nexport default k;\n").into_bytes();
    let pem = format!("{PEM_HEADER}\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----\n").into_bytes();
    let imported = tree([
        ("README.md", b"# app\n".as_slice()),
        (
            "app/page.tsx",
            b"export default function Page() { return null; }\n",
        ),
    ]);
    let mut all = imported.clone();
    let expected = vec![
        (
            ".env".to_string(),
            "secret".to_string(),
            Some(env.len() as u64),
        ),
        ("big.txt".into(), "too-large".into(), Some(big.len() as u64)),
        (
            "certs/server.key".into(),
            "secret".into(),
            Some(pem.len() as u64),
        ),
        ("data/blob".into(), "binary".into(), Some(blob.len() as u64)),
        (
            "lib/openai.ts".into(),
            "secret".into(),
            Some(source.len() as u64),
        ),
        (
            "public/logo.png".into(),
            "binary".into(),
            Some(png.len() as u64),
        ),
    ];
    all.extend(tree([
        (".env", env),
        ("big.txt", big),
        ("certs/server.key", pem),
        ("data/blob", blob),
        ("lib/openai.ts", source),
        ("public/logo.png", png),
    ]));
    (all, imported, expected)
}

fn assert_no_secret_in(what: &str, bytes: &[u8]) {
    for secret in [DATABASE_URL, OPENAI_KEY, PEM_HEADER, PEM_BODY] {
        assert!(
            !contains_bytes(bytes, secret.as_bytes()),
            "{secret:?} leaked into {what}"
        );
    }
}

#[test]
fn skipped_files_are_reported_with_reasons_and_secrets_are_stored_nowhere() {
    let k = Kollega::new().env("KOLLEGA_MAX_FILE_BYTES", "1024");
    let (all, imported, expected) = skip_tree();
    let src = k.scratch("app");
    write_tree(&src, &all);

    let out = k.run([
        "import".as_ref(),
        src.as_os_str(),
        "--name".as_ref(),
        "app".as_ref(),
        "--json".as_ref(),
    ]);
    assert_success(&out);
    assert_no_secret_in("import stdout", &out.stdout);
    assert_no_secret_in("import stderr", &out.stderr);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(skipped(&report), expected);
    assert_eq!(report["filesCount"], imported.len() as u64);
    assert_eq!(report["bytes"], total_bytes(&imported));
    let show = k.json(["show", "app", "--json"]);
    assert_eq!(show["skipped"], report["skipped"]);

    // Nothing of a skipped file reached the store.
    for skipped_path in [".env", "lib/openai.ts", "certs/server.key", "big.txt"] {
        let out = k.run(["cat", "app", skipped_path]);
        assert_code(&out, 1);
    }

    // Exports (ZIP entries decompressed, and a folder) hold no secret.
    let zip = k.scratch("app.zip");
    let out_dir = k.scratch("app-out");
    assert_success(&k.run([
        "export".as_ref(),
        "app".as_ref(),
        "--zip".as_ref(),
        zip.as_os_str(),
    ]));
    assert_success(&k.run([
        "export".as_ref(),
        "app".as_ref(),
        "--dir".as_ref(),
        out_dir.as_os_str(),
    ]));
    assert_no_secret_in("the ZIP file", &std::fs::read(&zip).unwrap());
    let zipped = read_zip(&zip);
    for (name, content) in &zipped {
        assert_no_secret_in(&format!("ZIP entry {name}"), content);
    }
    let exported = read_tree(&out_dir);
    assert_eq!(exported, imported);
    for (name, content) in &exported {
        assert_no_secret_in(&format!("exported {name}"), content);
    }

    // The database, its WAL (if any) and every log file hold no secret.
    let stored = k.stored_bytes();
    let names: Vec<String> = stored
        .iter()
        .map(|(p, _)| p.strip_prefix(&k.data).unwrap().display().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "kollega.db"), "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with("logs/")),
        "no log file was written: {names:?}"
    );
    let logs: Vec<u8> = stored
        .iter()
        .filter(|(p, _)| p.starts_with(k.logs_dir()))
        .flat_map(|(_, b)| b.clone())
        .collect();
    assert!(!logs.is_empty(), "the logs are empty");
    for (path, bytes) in &stored {
        assert_no_secret_in(&path.display().to_string(), bytes);
    }
}

#[test]
fn zip_import_reports_the_same_skips_as_the_folder() {
    let k = Kollega::new().env("KOLLEGA_MAX_FILE_BYTES", "1024");
    let (all, imported, expected) = skip_tree();
    let zip = k.scratch("app.zip");
    write_tree_zip(&zip, &all);

    let report = k.import(&zip, "app", &[]);

    assert_eq!(skipped(&report), expected);
    assert_eq!(report["filesCount"], imported.len() as u64);
    assert_eq!(report["bytes"], total_bytes(&imported));
    for (path, bytes) in k.stored_bytes() {
        assert_no_secret_in(&path.display().to_string(), &bytes);
    }
}

fn gitignore_tree() -> Tree {
    tree([
        (".gitignore", b"coverage/\n*.log\n.env*.local\n".as_slice()),
        ("app/page.tsx", b"export default () => null;\n"),
        (
            "coverage/lcov.info",
            b"TN:\nSF:app/page.tsx\nend_of_record\n",
        ),
        ("debug.log", b"started\n"),
        ("server/logs/app.log", b"GET / 200\n"),
        (".env.local", b"STRIPE_SECRET=rk_live_51Habc123\n"),
    ])
}

#[test]
fn respect_gitignore_skips_ignored_paths_but_still_reports_secrets() {
    let k = Kollega::new();
    let src = k.scratch("app");
    write_tree(&src, &gitignore_tree());

    let with = k.import(&src, "with", &["--respect-gitignore"]);
    let without = k.import(&src, "without", &[]);

    // Without the flag the export is taken whole (the secret aside).
    assert_eq!(without["filesCount"], 5);
    assert_eq!(without["ignored"], 0);
    for path in ["coverage/lcov.info", "debug.log", "server/logs/app.log"] {
        assert_success(&k.run(["cat", "without", path]));
    }
    // With it, the three git-ignored files are left out and counted.
    assert_eq!(with["filesCount"], 2);
    let tree = gitignore_tree();
    assert_eq!(
        with["bytes"],
        (tree[".gitignore"].len() + tree["app/page.tsx"].len()) as u64
    );
    assert_eq!(with["ignored"], 3);
    for path in ["coverage/lcov.info", "debug.log", "server/logs/app.log"] {
        assert_code(&k.run(["cat", "with", path]), 1);
    }
    assert_success(&k.run(["cat", "with", "app/page.tsx"]));
    // A git-ignored secret is still reported, not silently ignored.
    let env_size = Some(b"STRIPE_SECRET=rk_live_51Habc123\n".len() as u64);
    for report in [&with, &without] {
        assert_eq!(
            skipped(report),
            vec![(".env.local".to_string(), "secret".to_string(), env_size)]
        );
    }
}

#[test]
fn importing_an_unchanged_source_again_is_a_no_op() {
    let k = Kollega::new();
    let app = app_tree();
    let src = k.scratch("shop");
    write_tree(&src, &app.all);

    let first = k.import(&src, "shop", &[]);
    let second = k.import(&src, "shop", &[]);
    assert_eq!(second["status"], "already-imported");
    for key in [
        "workspace",
        "filesCount",
        "bytes",
        "takenOverAt",
        "source",
        "ignored",
        "skipped",
    ] {
        assert_eq!(first[key], second[key], "{key}");
    }

    let out = k.run([
        "import".as_ref(),
        src.as_os_str(),
        "--name".as_ref(),
        "shop".as_ref(),
    ]);
    assert_success(&out);
    assert!(
        stdout(&out).contains("already imported"),
        "{}",
        stdout(&out)
    );

    let rows = k.ls();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["takenOverAt"], first["takenOverAt"]);
    assert_eq!(k.rows("workspaces"), 1);
    assert_eq!(k.rows("files"), app.imported.len() as i64);
}

#[test]
fn a_changed_source_needs_replace_and_replace_takes_the_new_content() {
    let k = Kollega::new();
    let app = app_tree();
    let src = k.scratch("shop");
    write_tree(&src, &app.all);
    let first = k.import(&src, "shop", &[]);

    let new_page = "export default function Page() {\n  return <main>Changed</main>;\n}\n";
    std::fs::write(src.join("app/page.tsx"), new_page).unwrap();

    let err = k.import_fails(&src, "shop", &[]);
    assert!(err.contains("--replace"), "{err}");
    assert!(err.contains("changed"), "{err}");
    // The refused import changed nothing.
    let out = k.run(["cat", "shop", "app/page.tsx"]);
    assert_eq!(out.stdout, app.imported["app/page.tsx"]);
    assert_eq!(k.rows("workspaces"), 1);

    let replaced = k.import(&src, "shop", &["--replace"]);
    assert_eq!(replaced["status"], "imported");
    assert_eq!(replaced["filesCount"], first["filesCount"]);
    let expected_bytes = total_bytes(&app.imported) - app.imported["app/page.tsx"].len() as u64
        + new_page.len() as u64;
    assert_eq!(replaced["bytes"], expected_bytes);
    let out = k.run(["cat", "shop", "app/page.tsx"]);
    assert_success(&out);
    assert_eq!(stdout(&out), new_page);
    assert_eq!(k.ls().len(), 1);
    assert_eq!(k.rows("workspaces"), 1);
    assert_eq!(k.rows("files"), app.imported.len() as i64);
}

#[test]
fn another_source_under_an_existing_name_needs_replace() {
    let k = Kollega::new();
    let app = app_tree();
    let one = k.scratch("one");
    let two = k.scratch("two");
    write_tree(&one, &app.all);
    write_tree(&two, &tree([("main.py", b"print('two')\n".as_slice())]));
    k.import(&one, "shop", &[]);

    let err = k.import_fails(&two, "shop", &[]);
    assert!(err.contains("--replace"), "{err}");
    assert!(err.contains("another source"), "{err}");
    let shown = k.json(["show", "shop", "--json"]);
    assert_eq!(
        shown["source"],
        one.canonicalize().unwrap().to_string_lossy().as_ref()
    );

    let replaced = k.import(&two, "shop", &["--replace"]);
    assert_eq!(replaced["filesCount"], 1);
    assert_eq!(stdout(&k.run(["cat", "shop", "main.py"])), "print('two')\n");
    assert_code(&k.run(["cat", "shop", "app/page.tsx"]), 1);
    assert_eq!(k.rows("workspaces"), 1);
    assert_eq!(k.rows("files"), 1);
}

#[test]
fn a_source_without_text_files_is_refused_and_nothing_is_stored() {
    let k = Kollega::new();
    let src = k.scratch("images");
    write_tree(
        &src,
        &tree([("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".as_slice())]),
    );

    let err = k.import_fails(&src, "images", &[]);
    assert!(err.contains("no text files found in"), "{err}");
    assert!(err.contains("images"), "{err}");
    k.assert_nothing_stored();
}

#[test]
fn the_default_name_is_the_folder_or_zip_file_name() {
    let k = Kollega::new();
    let app = app_tree();
    let dir = k.scratch("my app");
    write_tree(&dir, &app.all);
    let zip = k.scratch("v0-export.zip");
    write_tree_zip(&zip, &app.imported);

    let from_dir = k.json(["import".as_ref(), dir.as_os_str(), "--json".as_ref()]);
    let from_zip = k.json(["import".as_ref(), zip.as_os_str(), "--json".as_ref()]);
    assert_eq!(from_dir["workspace"], "my-app");
    assert_eq!(from_zip["workspace"], "v0-export");
}

#[test]
fn a_symlink_leaving_the_folder_is_skipped_not_followed() {
    let k = Kollega::new();
    let outside = k.scratch("outside");
    write_tree(
        &outside,
        &tree([("secret.txt", b"outside the tree\n".as_slice())]),
    );
    let src = k.scratch("app");
    write_tree(&src, &tree([("app/page.tsx", b"export {};\n".as_slice())]));
    std::os::unix::fs::symlink(outside.join("secret.txt"), src.join("escape.txt")).unwrap();
    std::os::unix::fs::symlink("app/page.tsx", src.join("inside.tsx")).unwrap();

    let report = k.import(&src, "app", &[]);

    let skips = skipped(&report);
    assert!(
        skips.contains(&("escape.txt".to_string(), "outside-tree".to_string(), None)),
        "{skips:?}"
    );
    assert_code(&k.run(["cat", "app", "escape.txt"]), 1);
    // A link to a file inside the tree is taken as that file's content.
    assert_eq!(stdout(&k.run(["cat", "app", "inside.tsx"])), "export {};\n");
    for (_, bytes) in k.stored_bytes() {
        assert!(!contains_bytes(&bytes, b"outside the tree"));
    }
}

#[test]
fn zip_entries_with_backslashes_or_dot_slash_are_normalised() {
    let k = Kollega::new();
    let zip = k.scratch("windows.zip");
    write_zip(
        &zip,
        &[
            ZipEntry::Dir("./"),
            ZipEntry::File("./README.md", b"# hi\r\n"),
            ZipEntry::File("app\\page.tsx", b"export {};\r\n"),
            ZipEntry::File("node_modules\\x\\index.js", b"module.exports = 1;\r\n"),
        ],
    );

    let report = k.import(&zip, "win", &[]);

    assert_eq!(report["filesCount"], 2);
    assert_eq!(report["ignored"], 1);
    assert_eq!(
        stdout(&k.run(["cat", "win", "app/page.tsx"])),
        "export {};\r\n"
    );
    assert_eq!(stdout(&k.run(["cat", "win", "README.md"])), "# hi\r\n");
}

#[test]
fn importing_an_unchanged_zip_again_is_a_no_op() {
    let k = Kollega::new();
    let app = app_tree();
    let zip = k.scratch("shop.zip");
    write_tree_zip(&zip, &app.all);

    let first = k.import(&zip, "shop", &[]);
    let second = k.import(&zip, "shop", &[]);

    assert_eq!(first["status"], "imported");
    assert_eq!(second["status"], "already-imported");
    assert_eq!(second["takenOverAt"], first["takenOverAt"]);
    assert_eq!(k.rows("workspaces"), 1);
}

#[test]
fn special_files_are_skipped_without_blocking_the_import() {
    let k = Kollega::new();
    let src = k.scratch("app");
    write_tree(&src, &tree([("index.ts", "export {};\n")]));
    let fifo = std::ffi::CString::new(src.join("pipe").to_str().unwrap()).unwrap();
    // SAFETY: a valid C string; mkfifo only creates a node.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);

    let report = k.import(&src, "app", &[]);

    assert_eq!(report["filesCount"], 1);
    assert_eq!(
        skipped(&report),
        vec![("pipe".to_string(), "special".to_string(), None)]
    );
}

#[test]
fn non_ascii_file_names_are_imported_and_exported_intact() {
    let k = Kollega::new();
    let files = tree([
        ("docs/\u{fc}ber.md", "\u{fc}ber\n"),
        ("\u{65e5}\u{672c}/readme.txt", "\u{65e5}\u{672c}\n"),
        ("emoji-\u{1f600}.txt", "\u{1f600}\n"),
    ]);
    let src = k.scratch("intl");
    write_tree(&src, &files);

    let report = k.import(&src, "intl", &[]);
    assert_eq!(report["filesCount"], 3);

    let zip = k.scratch("intl.zip");
    assert_success(&k.run([
        "export".as_ref(),
        "intl".as_ref(),
        "--zip".as_ref(),
        zip.as_os_str(),
    ]));
    let entries: Tree = read_zip(&zip).into_iter().collect();
    assert_eq!(entries, files);
    let again = k.import(&zip, "intl-again", &[]);
    assert_eq!(again["bytes"], report["bytes"]);
}

/// Control characters in a file name must not reach the terminal raw: the
/// text report names the file escaped, one line per skipped entry.
#[test]
fn unsafe_file_names_are_not_echoed_raw_to_the_terminal() {
    let k = Kollega::new();
    let src = k.scratch("app");
    write_tree(&src, &tree([("index.ts", "export {};\n")]));
    std::fs::write(src.join("evil\x1b]0;pwned\x07.txt"), "x\n").unwrap();
    std::fs::write(src.join("two\nlines.txt"), "y\n").unwrap();

    let report = k.import(&src, "app", &[]);
    let reasons: Vec<String> = skipped(&report).into_iter().map(|s| s.1).collect();
    assert_eq!(reasons, ["unsafe-name", "unsafe-name"]);

    let out = k.run(["show", "app"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        !text.contains(['\x1b', '\x07']),
        "control characters reached the terminal: {text:?}"
    );
    let skipped_lines = text.lines().filter(|l| l.contains("unsafe-name")).count();
    assert_eq!(skipped_lines, 2, "{text:?}");
    assert!(
        !text.lines().any(|l| l.trim() == "lines.txt"),
        "a newline in a name forged a report line: {text:?}"
    );
    let other = k.scratch("again");
    write_tree(&other, &tree([("index.ts", "export {};\n")]));
    std::fs::write(other.join("evil\x1b[2J.txt"), "x\n").unwrap();
    let out = k.run([
        "import".as_ref(),
        other.as_os_str(),
        "--name".as_ref(),
        "again".as_ref(),
    ]);
    assert_success(&out);
    assert!(!stdout(&out).contains('\x1b'), "{:?}", stdout(&out));
}
