//! Export: a workspace written back out as a ZIP file or a folder, byte for
//! byte, and never over an existing target without `--force`.

use crate::common::*;

/// Text that round trips only if nothing normalises line endings, final
/// newlines, Unicode or whitespace.
fn tricky_tree() -> Tree {
    tree([
        ("crlf.txt", "line one\r\nline two\r\n".as_bytes()),
        ("mixed-endings.txt", b"unix\nwindows\r\nold mac\rend"),
        ("no-final-newline.ts", b"export const x = 1;"),
        (
            "unicode.md",
            "caf\u{e9} cafe\u{301} \u{1f44b}\u{1f3fd} \u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467} \u{65e5}\u{672c}\u{8a9e} \u{5e9}\u{5dc}\u{5d5}\u{5dd}\n"
                .as_bytes(),
        ),
        ("bom.cs", "\u{feff}class A {}\r\n".as_bytes()),
        ("tabs.go", b"func main() {\n\tfmt.Println(\"hi\")\t// tab\n}\n"),
        ("trailing-space.py", b"x = 1   \n\n\n"),
        ("empty.txt", b""),
        ("src/deep/nested/mod.rs", b"pub fn f() {}\n"),
        ("src/a.rs", b"mod deep;\n"),
        ("Z-upper.txt", b"sorted by bytes: 'Z' < 'a'\n"),
        (".hidden/config", b"k = v\n"),
    ])
}

fn imported(k: &Kollega) -> Tree {
    let tree = tricky_tree();
    let src = k.scratch("tricky");
    write_tree(&src, &tree);
    let report = k.import(&src, "tricky", &[]);
    assert_eq!(report["filesCount"], tree.len() as u64);
    assert_eq!(report["bytes"], total_bytes(&tree));
    tree
}

#[test]
fn zip_export_holds_every_file_byte_identical_in_sorted_order() {
    let k = Kollega::new();
    let tree = imported(&k);
    let zip = k.scratch("out.zip");

    let summary = k.json([
        "export".as_ref(),
        "tricky".as_ref(),
        "--zip".as_ref(),
        zip.as_os_str(),
        "--json".as_ref(),
    ]);

    assert_eq!(summary["workspace"], "tricky");
    assert_eq!(summary["filesCount"], tree.len() as u64);
    assert_eq!(summary["bytes"], total_bytes(&tree));
    let entries = read_zip(&zip);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    let expected: Vec<&str> = tree.keys().map(String::as_str).collect();
    assert_eq!(names, expected, "entries in sorted order");
    for (name, content) in &entries {
        assert_eq!(content, &tree[name], "{name} differs");
    }
    // No temporary file is left beside the target.
    let beside: Vec<_> = std::fs::read_dir(zip.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("kollega") || n.ends_with(".tmp"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

#[test]
fn dir_export_writes_every_file_byte_identical() {
    let k = Kollega::new();
    let tree = imported(&k);
    let out = k.scratch("out");

    let summary = k.json([
        "export".as_ref(),
        "tricky".as_ref(),
        "--dir".as_ref(),
        out.as_os_str(),
        "--json".as_ref(),
    ]);

    assert_eq!(summary["filesCount"], tree.len() as u64);
    assert_eq!(summary["bytes"], total_bytes(&tree));
    assert_eq!(read_tree(&out), tree);
}

#[test]
fn export_round_trips_through_a_second_import() {
    let k = Kollega::new();
    let tree = imported(&k);
    let zip = k.scratch("out.zip");
    assert_success(&k.run([
        "export".as_ref(),
        "tricky".as_ref(),
        "--zip".as_ref(),
        zip.as_os_str(),
    ]));

    let again = k.import(&zip, "again", &[]);

    assert_eq!(again["filesCount"], tree.len() as u64);
    assert_eq!(again["bytes"], total_bytes(&tree));
    let out = k.scratch("again-out");
    assert_success(&k.run([
        "export".as_ref(),
        "again".as_ref(),
        "--dir".as_ref(),
        out.as_os_str(),
    ]));
    assert_eq!(read_tree(&out), tree);
}

#[test]
fn export_over_an_existing_zip_needs_force() {
    let k = Kollega::new();
    let tree = imported(&k);
    let zip = k.scratch("out.zip");
    let export = |force: bool| {
        let mut args = vec![
            "export".into(),
            "tricky".into(),
            "--zip".into(),
            zip.clone().into_os_string(),
        ];
        if force {
            args.push("--force".into());
        }
        k.run(args)
    };
    assert_success(&export(false));
    // Something else now owns the path.
    std::fs::write(&zip, b"precious").unwrap();

    let out = export(false);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("already exists"), "{err}");
    assert!(err.contains(&zip.display().to_string()), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("hint:") && l.contains("--force")),
        "{err}"
    );
    assert_eq!(std::fs::read(&zip).unwrap(), b"precious");

    assert_success(&export(true));
    let entries: Tree = read_zip(&zip).into_iter().collect();
    assert_eq!(entries, tree);
}

#[test]
fn export_into_a_non_empty_folder_needs_force() {
    let k = Kollega::new();
    let tree = imported(&k);
    let out_dir = k.scratch("out");
    assert_success(&k.run([
        "export".as_ref(),
        "tricky".as_ref(),
        "--dir".as_ref(),
        out_dir.as_os_str(),
    ]));
    std::fs::write(out_dir.join("crlf.txt"), b"edited by hand\n").unwrap();

    let out = k.run([
        "export".as_ref(),
        "tricky".as_ref(),
        "--dir".as_ref(),
        out_dir.as_os_str(),
    ]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("already exists"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("hint:") && l.contains("--force")),
        "{err}"
    );
    assert_eq!(
        std::fs::read(out_dir.join("crlf.txt")).unwrap(),
        b"edited by hand\n"
    );

    let out = k.run([
        "export".as_ref(),
        "tricky".as_ref(),
        "--dir".as_ref(),
        out_dir.as_os_str(),
        "--force".as_ref(),
    ]);
    assert_success(&out);
    assert_eq!(read_tree(&out_dir), tree);
}

#[test]
fn export_into_an_existing_empty_folder_needs_no_force() {
    let k = Kollega::new();
    let tree = imported(&k);
    let out_dir = k.scratch("empty");
    std::fs::create_dir(&out_dir).unwrap();
    assert_success(&k.run([
        "export".as_ref(),
        "tricky".as_ref(),
        "--dir".as_ref(),
        out_dir.as_os_str(),
    ]));
    assert_eq!(read_tree(&out_dir), tree);
}

#[test]
fn export_of_an_unknown_workspace_or_without_a_target_fails() {
    let k = Kollega::new();
    imported(&k);
    let zip = k.scratch("nope.zip");
    let out = k.run([
        "export".as_ref(),
        "nope".as_ref(),
        "--zip".as_ref(),
        zip.as_os_str(),
    ]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("no workspace named \"nope\""),
        "{}",
        stderr(&out)
    );
    assert!(!zip.exists());

    // clap refuses a missing --zip/--dir as a usage error.
    assert_code(&k.run(["export", "tricky"]), 2);
}

/// `--force` overwrites files inside the target folder; it must not follow
/// a symlink planted there and overwrite a file outside it.
#[test]
fn forced_dir_export_does_not_write_through_symlinks_out_of_the_folder() {
    let k = Kollega::new();
    let tree = imported(&k);
    let victim = k.scratch("victim.txt");
    std::fs::write(&victim, b"must stay\n").unwrap();
    let victim_dir = k.scratch("victim-dir");
    std::fs::create_dir(&victim_dir).unwrap();
    let out_dir = k.scratch("out");
    std::fs::create_dir(&out_dir).unwrap();
    std::os::unix::fs::symlink(&victim, out_dir.join("crlf.txt")).unwrap();
    std::os::unix::fs::symlink(&victim_dir, out_dir.join("src")).unwrap();

    let out = k.run([
        "export".as_ref(),
        "tricky".as_ref(),
        "--dir".as_ref(),
        out_dir.as_os_str(),
        "--force".as_ref(),
    ]);

    assert_eq!(std::fs::read(&victim).unwrap(), b"must stay\n");
    assert!(
        std::fs::read_dir(&victim_dir).unwrap().next().is_none(),
        "files were written into a folder outside the export target"
    );
    if out.status.success() {
        assert_eq!(read_tree(&out_dir), tree);
    }
}
