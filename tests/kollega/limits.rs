//! Limits from the environment and from `config.toml`, and how a bad
//! config file is reported.

use crate::common::*;

fn small_app(k: &Kollega, name: &str) -> std::path::PathBuf {
    let src = k.scratch(name);
    write_tree(
        &src,
        &tree([("index.ts", format!("export const name = {name:?};\n"))]),
    );
    src
}

#[test]
fn max_workspaces_refuses_one_more_workspace_and_names_the_limit() {
    let k = Kollega::new().env("KOLLEGA_MAX_WORKSPACES", "2");
    k.import(&small_app(&k, "one"), "one", &[]);
    k.import(&small_app(&k, "two"), "two", &[]);

    let err = k.import_fails(&small_app(&k, "three"), "three", &[]);

    assert!(err.contains("max_workspaces"), "{err}");
    assert!(err.contains("KOLLEGA_MAX_WORKSPACES"), "{err}");
    assert!(err.contains("2 workspaces"), "{err}");
    let names: Vec<_> = k.ls().iter().map(|r| r["workspace"].clone()).collect();
    assert_eq!(names, ["one", "two"]);
    assert_eq!(k.rows("workspaces"), 2);

    // Replacing an existing workspace is not one more.
    let replaced = k.import(&small_app(&k, "one"), "one", &["--replace"]);
    assert_eq!(replaced["status"], "imported");
    // After a removal there is room again.
    assert_success(&k.run(["rm", "two", "--yes"]));
    k.import(&small_app(&k, "three"), "three", &[]);
    assert_eq!(k.ls().len(), 2);
}

#[test]
fn max_workspace_bytes_refuses_a_larger_workspace_and_stores_nothing() {
    let k = Kollega::new()
        .env("KOLLEGA_MAX_WORKSPACE_BYTES", "1000")
        .env("KOLLEGA_IMPORT_BATCH_FILES", "1");
    let src = k.scratch("big");
    let files: Vec<(String, String)> = (0..4)
        .map(|i| {
            (
                format!("src/part{i}.ts"),
                format!("// part {i}\n{}", "x".repeat(500)),
            )
        })
        .collect();
    write_tree(&src, &tree(files));

    let err = k.import_fails(&src, "big", &[]);

    assert!(err.contains("max_workspace_bytes"), "{err}");
    assert!(err.contains("KOLLEGA_MAX_WORKSPACE_BYTES"), "{err}");
    assert!(err.contains("1000 bytes"), "{err}");
    k.assert_nothing_stored();
}

#[test]
fn max_file_bytes_from_config_toml_applies_and_the_environment_overrides_it() {
    let k = Kollega::new();
    std::fs::write(
        k.config.join("config.toml"),
        "[limits]\nmax_file_bytes = \"1KiB\"\n",
    )
    .unwrap();
    let src = k.scratch("app");
    let big = "y".repeat(2000);
    write_tree(
        &src,
        &tree([("big.txt", big.as_str()), ("small.txt", "small\n")]),
    );

    let report = k.import(&src, "app", &[]);
    assert_eq!(report["filesCount"], 1);
    assert_eq!(
        skipped(&report),
        vec![("big.txt".to_string(), "too-large".to_string(), Some(2000))]
    );

    let k = k.env("KOLLEGA_MAX_FILE_BYTES", "4KiB");
    let report = k.import(&src, "app2", &[]);
    assert_eq!(report["filesCount"], 2);
    assert_eq!(report["skipped"], serde_json::json!([]));
}

#[test]
fn config_toml_with_an_unknown_limit_fails_naming_the_file_and_key() {
    let k = Kollega::new();
    let file = k.config.join("config.toml");
    std::fs::write(&file, "[limits]\nmax_wrkspaces = 3\n").unwrap();

    let out = k.run(["ls"]);

    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("max_wrkspaces"), "{err}");
    assert!(err.lines().any(|l| l.starts_with("hint:")), "{err}");
    assert!(!k.db_path().exists(), "a bad config still opened the store");
}

#[test]
fn config_toml_with_an_unknown_section_or_key_fails_naming_the_file_and_key() {
    for (text, key) in [
        ("[limitz]\nmax_workspaces = 3\n", "limitz"),
        ("[import]\nignores = [\"vendor\"]\n", "ignores"),
        ("colour = \"red\"\n", "colour"),
    ] {
        let k = Kollega::new();
        let file = k.config.join("config.toml");
        std::fs::write(&file, text).unwrap();

        let out = k.run(["ls"]);

        assert_code(&out, 1);
        let err = stderr(&out);
        assert!(err.contains(&file.display().to_string()), "{text}: {err}");
        assert!(err.contains(key), "{text}: {err}");
        let out = k.run(["ls", "--json"]);
        assert_code(&out, 1);
        let error = json_error(&out);
        assert_eq!(error["kind"], "config");
        assert!(error["message"].as_str().unwrap().contains(key), "{error}");
    }
}

#[test]
fn a_bad_limit_value_in_the_environment_names_the_variable() {
    let k = Kollega::new().env("KOLLEGA_MAX_FILE_BYTES", "lots");
    let out = k.run(["ls"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("KOLLEGA_MAX_FILE_BYTES"), "{err}");
    assert!(err.contains("lots"), "{err}");
}

#[test]
fn ignore_list_from_config_toml_replaces_the_defaults() {
    let k = Kollega::new();
    std::fs::write(
        k.config.join("config.toml"),
        "[import]\nignore = [\"vendor\"]\n",
    )
    .unwrap();
    let src = k.scratch("app");
    write_tree(
        &src,
        &tree([
            ("main.go", "package main\n"),
            ("vendor/lib/lib.go", "package lib\n"),
            ("node_modules/x/index.js", "module.exports = 1;\n"),
        ]),
    );

    let report = k.import(&src, "app", &[]);

    assert_eq!(report["ignored"], 1);
    assert_eq!(report["filesCount"], 2);
    assert_success(&k.run(["cat", "app", "node_modules/x/index.js"]));
    assert_code(&k.run(["cat", "app", "vendor/lib/lib.go"]), 1);
}

#[test]
fn a_file_of_exactly_max_file_bytes_is_imported_and_one_byte_more_is_not() {
    let k = Kollega::new().env("KOLLEGA_MAX_FILE_BYTES", "1024");
    let src = k.scratch("edge");
    write_tree(
        &src,
        &tree([
            ("at-limit.txt", "a".repeat(1024)),
            ("over-limit.txt", "b".repeat(1025)),
        ]),
    );

    let report = k.import(&src, "edge", &[]);

    assert_eq!(report["filesCount"], 1);
    assert_eq!(report["bytes"], 1024);
    assert_eq!(
        skipped(&report),
        vec![(
            "over-limit.txt".to_string(),
            "too-large".to_string(),
            Some(1025)
        )]
    );
}

#[test]
fn workspace_names_that_are_not_safe_are_refused() {
    let k = Kollega::new();
    let src = small_app(&k, "app");
    for name in [
        "../escape",
        "a/b",
        ".hidden",
        "a:b",
        "sp ace",
        &"x".repeat(65),
    ] {
        let err = k.import_fails(&src, name, &[]);
        assert!(err.contains("not a usable workspace name"), "{name}: {err}");
        assert!(err.contains("hint: pick a --name"), "{name}: {err}");
    }
    k.assert_nothing_stored();
    assert_eq!(k.import(&src, &"x".repeat(64), &[])["filesCount"], 1);
}
