//! A takeover's local result, end to end: what the baseline holds, what
//! it refuses, and how a run interrupted at any step is finished.

use std::io::Write;
use std::path::Path;

use super::fixture::*;
use super::state::Step;
use super::*;
use crate::error::Hint;
use crate::git::GitError;
use crate::store::drafts::{self, Draft};
use crate::workspace::import::{ImportOptions, import};

#[test]
fn folder_takeover_makes_one_commit_with_every_file_and_handoff() {
    let mut env = Env::new();
    let src = env.app();
    let repo = env.path("repo");
    let report = env.run(&env.request(&src, &repo)).unwrap();

    let stamp = stamp_in(&report.branch).to_string();
    assert_eq!(report.branch, format!("takeover/app/{stamp}"));
    assert_eq!(report.tag, format!("import-{stamp}"));
    assert!(
        stamp.len() == 15
            && stamp.as_bytes()[8] == b'-'
            && stamp.chars().filter(char::is_ascii_digit).count() == 14,
        "{stamp}"
    );
    assert_eq!(report.status, TakeoverStatus::TakenOver);
    assert_eq!(report.summary.files_count, 4);
    let reasons: Vec<(&str, &str)> = report
        .summary
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (".env", "secret"),
            ("lib/ai.ts", "secret"),
            ("logo.png", "binary")
        ]
    );
    assert_eq!(report.summary.ignored, 1);

    let log = env.git(&repo, &["log", "--all", "--format=%s"]);
    let source = src.canonicalize().unwrap().display().to_string();
    assert_eq!(log, format!("takeover: import {source}\n"));
    let files = env.git(&repo, &["show", "--format=", "--name-only", "HEAD"]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        vec![
            ".env.example",
            "README.md",
            "app/page.tsx",
            "handoff.json",
            "lib/utils.ts"
        ]
    );
    assert_eq!(
        env.git(&repo, &["rev-parse", "--abbrev-ref", "HEAD"])
            .trim(),
        report.branch
    );
    assert_eq!(
        env.git(&repo, &["rev-parse", &format!("{}^{{commit}}", report.tag)])
            .trim(),
        report.commit
    );
    assert_eq!(
        env.git(&repo, &["cat-file", "-t", &report.tag]).trim(),
        "tag",
        "the tag is annotated"
    );
    assert_eq!(env.git(&repo, &["status", "--porcelain"]), "");
    assert_eq!(
        std::fs::read_to_string(repo.join("app/page.tsx")).unwrap(),
        "export default function Page() {}\n"
    );

    let handoff = env.git(&repo, &["cat-file", "-p", "HEAD:handoff.json"]);
    let keys: Vec<usize> = [
        "\"workspace\"",
        "\"source\"",
        "\"takenOverAt\"",
        "\"branch\"",
        "\"tag\"",
        "\"filesCount\"",
        "\"bytes\"",
        "\"skipped\"",
    ]
    .iter()
    .map(|k| {
        handoff
            .find(k)
            .unwrap_or_else(|| panic!("{k} in {handoff}"))
    })
    .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "key order: {handoff}");
    let handoff: serde_json::Value = serde_json::from_str(&handoff).unwrap();
    assert_eq!(
        handoff,
        serde_json::json!({
            "workspace": "app",
            "source": source,
            "takenOverAt": report.summary.taken_over_at,
            "branch": report.branch,
            "tag": report.tag,
            "filesCount": 4,
            "bytes": report.summary.bytes,
            "skipped": [
                {"path": ".env", "reason": "secret", "rule": "url-password"},
                {"path": "lib/ai.ts", "reason": "secret", "rule": "openai-api-key"},
                {"path": "logo.png", "reason": "binary"},
            ],
        })
    );

    let ws = store::workspaces::find(&env.store.conn, "app")
        .unwrap()
        .unwrap();
    assert_eq!(ws.storage_type, StorageType::Git);
    assert_eq!(
        ws.repo_path.as_deref(),
        Some(repo.canonicalize().unwrap().to_str().unwrap())
    );
    assert_eq!((ws.files_count, ws.bytes), (4, report.summary.bytes));
    assert_eq!(env.rows("SELECT COUNT(*) FROM files"), 0);
    assert_eq!(
        env.rows("SELECT COUNT(*) FROM skipped_entries WHERE reason = 'secret'"),
        2
    );

    let json = serde_json::to_value(&report).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "workspace",
        "storageType",
        "repoPath",
        "branch",
        "tag",
        "commit",
        "filesCount",
        "bytes",
        "takenOverAt",
        "source",
        "skipped",
        "ignored",
        "remote",
        "pushed",
        "github",
    ] {
        assert!(keys.contains(&key), "{key} missing from {json}");
    }
    assert_eq!(json["storageType"], "git");
    assert_eq!(json["pushed"], false);
    assert_eq!(json["remote"], serde_json::Value::Null);
}

#[test]
fn zip_takeover_commits_what_the_folder_would() {
    let mut env = Env::new();
    let zip_path = env.path("shop.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in [
        ("index.html", "<h1>hi</h1>\n".to_string()),
        ("src/app.js", "console.log(1);\n".to_string()),
        (
            "src/keys.js",
            format!("export const k = \"{SECRET_KEY}\";\n"),
        ),
        ("node_modules/x/index.js", "1\n".to_string()),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    let repo = env.path("repo");
    let report = env.run(&env.request(&zip_path, &repo)).unwrap();
    assert_eq!(report.summary.workspace, "shop");
    assert!(report.branch.starts_with("takeover/shop/"));
    assert_eq!(report.summary.files_count, 2);
    assert_eq!(env.baselines(&repo).len(), 1);
    let files = env.git(&repo, &["ls-tree", "-r", "--name-only", "HEAD"]);
    assert_eq!(files, "handoff.json\nindex.html\nsrc/app.js\n");
    assert!(!contains(&env.all_objects(&repo), SECRET_KEY));
}

#[test]
fn secrets_never_reach_any_object_of_the_repository() {
    let mut env = Env::new();
    let src = env.app();
    let repo = env.path("repo");
    env.run(&env.request(&src, &repo)).unwrap();
    let log = env.git(&repo, &["log", "-p", "--all"]);
    assert!(log.contains("export const cn"), "the log shows content");
    for secret in [SECRET_KEY, SECRET_ENV, "hunter2"] {
        assert!(!log.contains(secret), "{secret} in git log -p --all");
        assert!(
            !contains(&env.all_objects(&repo), secret),
            "{secret} in an object"
        );
        assert!(!repo.join(".env").exists() && !repo.join("lib/ai.ts").exists());
    }
}

#[test]
fn dirty_repository_is_refused_and_left_as_it_was() {
    let mut env = Env::new();
    let src = env.app();
    let repo = env.repo_with_history("repo");
    std::fs::write(repo.join("old.txt"), "edited\n").unwrap();
    std::fs::write(repo.join("notes.txt"), "mine\n").unwrap();
    let refs_before = env.git(&repo, &["show-ref"]);
    let status_before = env.git(&repo, &["status", "--porcelain"]);

    let err = env.run(&env.request(&src, &repo)).unwrap_err();
    assert!(
        matches!(err, TakeoverError::Dirty { count: 2, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(" M old.txt") && text.contains("?? notes.txt"),
        "{text}"
    );
    assert!(err.hint().contains("stash"), "{}", err.hint());
    assert_eq!(env.git(&repo, &["show-ref"]), refs_before);
    assert_eq!(env.git(&repo, &["status", "--porcelain"]), status_before);
    assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 0);
    assert_eq!(env.rows("SELECT COUNT(*) FROM workspaces"), 0);
}

#[test]
fn clean_repository_gets_a_branch_from_its_head() {
    let mut env = Env::new();
    let src = env.app();
    let repo = env.repo_with_history("repo");
    let main = env.git(&repo, &["rev-parse", "main"]);
    let report = env.run(&env.request(&src, &repo)).unwrap();
    assert_eq!(
        env.git(&repo, &["rev-parse", &format!("{}^", report.branch)]),
        main,
        "the branch starts at main"
    );
    assert_eq!(env.git(&repo, &["rev-parse", "main"]), main, "main stays");
    // The baseline is the export: what it does not have is gone from
    // the branch (and still in main's history).
    assert!(!repo.join("old.txt").exists());
    assert_eq!(
        std::fs::read_to_string(repo.join("README.md")).unwrap(),
        "# Shop\n"
    );
    assert_eq!(env.git(&repo, &["status", "--porcelain"]), "");
}

#[test]
fn bad_repositories_are_refused_before_anything_is_written() {
    let mut env = Env::new();
    let src = env.app();

    let bare = env.bare("bare.git");
    let err = env.run(&env.request(&src, &bare)).unwrap_err();
    assert!(
        matches!(err, TakeoverError::Git(GitError::Bare { .. })),
        "{err:?}"
    );

    let merging = env.repo_with_history("merging");
    env.git(&merging, &["switch", "-q", "-c", "side"]);
    std::fs::write(merging.join("old.txt"), "side\n").unwrap();
    env.git(&merging, &["commit", "-q", "-am", "side"]);
    env.git(&merging, &["switch", "-q", "main"]);
    std::fs::write(merging.join("old.txt"), "main\n").unwrap();
    env.git(&merging, &["commit", "-q", "-am", "main"]);
    let _ = env.git_cmd(&merging, &["merge", "side"]).output().unwrap();
    let err = env.run(&env.request(&src, &merging)).unwrap_err();
    // The refusal of `kollega git commit`: "a merge is in progress in …".
    assert!(
        matches!(
            err,
            TakeoverError::Git(GitError::InProgress {
                operation: crate::git::Operation::Merge,
                ..
            })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("a merge is in progress"), "{err}");

    let detached = env.repo_with_history("detached");
    env.git(&detached, &["switch", "-q", "--detach", "HEAD"]);
    let err = env.run(&env.request(&src, &detached)).unwrap_err();
    assert!(
        matches!(err, TakeoverError::Git(GitError::DetachedHead { .. })),
        "{err:?}"
    );

    let locked = env.repo_with_history("locked");
    std::fs::write(locked.join(".git/index.lock"), "").unwrap();
    let err = env.run(&env.request(&src, &locked)).unwrap_err();
    assert!(
        matches!(err, TakeoverError::Git(GitError::IndexLocked { .. })),
        "{err:?}"
    );

    let plain = env.path("plain");
    write_files(&plain, &[("mine.txt", "x\n")]);
    let err = env.run(&env.request(&src, &plain)).unwrap_err();
    assert!(
        matches!(err, TakeoverError::NotARepository { .. }),
        "{err:?}"
    );

    let inside = src.join("repo");
    let err = env.run(&env.request(&src, &inside)).unwrap_err();
    assert!(matches!(err, TakeoverError::Overlap { .. }), "{err:?}");

    assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 0);
    assert_eq!(env.rows("SELECT COUNT(*) FROM workspaces"), 0);
    assert!(!inside.exists());
    assert_eq!(env.git(&detached, &["branch", "--list", "takeover/*"]), "");
}

#[test]
fn missing_identity_is_refused_before_the_repository_exists() {
    let mut env = Env::new();
    std::fs::remove_file(env.home().join(".gitconfig")).unwrap();
    let src = env.app();
    let repo = env.path("repo");
    let err = env.run(&env.request(&src, &repo)).unwrap_err();
    assert!(
        matches!(err, TakeoverError::Git(GitError::NoIdentity { .. })),
        "{err:?}"
    );
    assert!(err.hint().contains("user.email"), "{}", err.hint());
    assert!(!repo.exists());
    assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 0);

    // The variables git reads stand in for the configuration.
    env.outside
        .vars
        .insert("GIT_AUTHOR_NAME".into(), "Ada".into());
    env.outside
        .vars
        .insert("GIT_AUTHOR_EMAIL".into(), "ada@example.com".into());
    env.outside
        .vars
        .insert("GIT_COMMITTER_NAME".into(), "Bob".into());
    env.outside
        .vars
        .insert("GIT_COMMITTER_EMAIL".into(), "bob@example.com".into());
    env.run(&env.request(&src, &repo)).unwrap();
    assert_eq!(
        env.git(&repo, &["log", "-1", "--format=%an <%ae> / %cn <%ce>"]),
        "Ada <ada@example.com> / Bob <bob@example.com>\n"
    );
}

#[test]
fn promotion_moves_a_sqlite_workspace_into_git_and_keeps_its_drafts() {
    let mut env = Env::new();
    let src = env.app();
    let imported = import(
        &mut env.store,
        &env.config,
        &src,
        &ImportOptions {
            name: Some("shop".into()),
            ..ImportOptions::default()
        },
        &mut (),
    )
    .unwrap();
    let draft = Draft {
        path: "README.md".into(),
        content: "# Shop, edited\n".into(),
        base_hash: None,
        updated_at: store::now_rfc3339(),
    };
    drafts::save_batch(&mut env.store.conn, "ws:shop", &[draft], &[]).unwrap();
    let before = env.rows("SELECT COUNT(*) FROM files");
    assert_eq!(before, 4);

    let repo = env.path("repo");
    let mut request = env.request(Path::new("shop"), &repo);
    request.source = "shop".into();
    let report = env.run(&request).unwrap();
    assert_eq!(report.summary.workspace, "shop");
    assert_eq!(report.summary.source, imported.source);
    assert_eq!(report.summary.files_count, 4);
    assert_eq!(report.summary.skipped.len(), imported.skipped.len());

    let ws = store::workspaces::find(&env.store.conn, "shop")
        .unwrap()
        .unwrap();
    assert_eq!(ws.storage_type, StorageType::Git);
    assert!(ws.repo_path.is_some());
    assert_eq!(env.rows("SELECT COUNT(*) FROM files"), 0);
    assert_eq!(drafts::list(&env.store.conn, "ws:shop").unwrap().len(), 1);
    assert_eq!(
        env.rows("SELECT COUNT(*) FROM workspace_locks"),
        0,
        "the lock is released"
    );
    let files = env.git(&repo, &["ls-tree", "-r", "--name-only", "HEAD"]);
    assert_eq!(
        files,
        ".env.example\nREADME.md\napp/page.tsx\nhandoff.json\nlib/utils.ts\n"
    );
    assert_eq!(
        env.git(&repo, &["log", "--format=%s"]),
        format!("takeover: import {}\n", imported.source)
    );

    // Run again: nothing more to do.
    let again = env.run(&request).unwrap();
    assert_eq!(again.status, TakeoverStatus::AlreadyTakenOver);
    assert_eq!(again.commit, report.commit);
    assert_eq!(env.baselines(&repo).len(), 1);
}

#[test]
fn promotion_refuses_a_secret_typed_in_since_the_import() {
    let mut env = Env::new();
    let src = env.path("site");
    write_files(&src, &[("index.html", "<h1>hi</h1>\n")]);
    import(
        &mut env.store,
        &env.config,
        &src,
        &ImportOptions::default(),
        &mut (),
    )
    .unwrap();
    let ws = store::workspaces::find(&env.store.conn, "site")
        .unwrap()
        .unwrap();
    env.store
        .conn
        .execute(
            "UPDATE files SET content = ?2 WHERE workspace_id = ?1",
            rusqlite::params![ws.id, format!("<script>k='{SECRET_KEY}'</script>\n")],
        )
        .unwrap();
    let repo = env.path("repo");
    let mut request = env.request(&src, &repo);
    request.source = "site".into();
    let err = env.run(&request).unwrap_err();
    assert!(
        matches!(&err, TakeoverError::SecretInWorkspace { paths, .. } if paths == "index.html (openai-api-key)"),
        "{err:?}"
    );
    assert!(!repo.exists(), "the repository it created is gone again");
    assert_eq!(env.rows("SELECT COUNT(*) FROM files"), 1);
    assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 0);
    let ws = store::workspaces::find(&env.store.conn, "site")
        .unwrap()
        .unwrap();
    assert_eq!(ws.storage_type, StorageType::Sqlite);
}

const STEPS: [Step; 7] = [
    Step::Recorded,
    Step::Repository,
    Step::CommitObject,
    Step::Branch,
    Step::Tag,
    Step::CheckedOut,
    Step::Done,
];

#[test]
fn interrupted_at_each_step_and_run_again_makes_exactly_one_baseline() {
    for with_history in [false, true] {
        for step in STEPS {
            let mut env = Env::new();
            let src = env.app();
            let repo = if with_history {
                env.repo_with_history("repo")
            } else {
                env.path("repo")
            };
            let request = env.request(&src, &repo);
            env.run_until(&request, step);
            let written = env.commit_objects(&repo);
            let report = env.run(&request).unwrap();
            if step >= Step::CommitObject && step != Step::Done {
                // The rerun found or rewrote the very same object.
                assert_eq!(written, vec![report.commit.clone()], "{step:?}");
            }
            assert_eq!(
                env.commit_objects(&repo),
                vec![report.commit.clone()],
                "{step:?}"
            );
            let expected = if step == Step::Done {
                TakeoverStatus::AlreadyTakenOver
            } else {
                TakeoverStatus::Resumed
            };
            assert_eq!(report.status, expected, "{step:?}");
            assert_eq!(
                env.baselines(&repo),
                vec![report.commit.clone()],
                "{step:?}"
            );
            assert_eq!(
                env.git(&repo, &["tag", "--list"]).trim(),
                report.tag,
                "{step:?}"
            );
            assert_eq!(
                env.git(&repo, &["rev-parse", "--abbrev-ref", "HEAD"])
                    .trim(),
                report.branch,
                "{step:?}"
            );
            assert_eq!(env.git(&repo, &["status", "--porcelain"]), "", "{step:?}");
            assert_eq!(
                env.rows("SELECT COUNT(*) FROM takeovers WHERE state = 'done'"),
                1,
                "{step:?}"
            );
            assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 1, "{step:?}");
            assert_eq!(env.rows("SELECT COUNT(*) FROM workspaces"), 1, "{step:?}");
            // And once more: nothing new.
            let again = env.run(&request).unwrap();
            assert_eq!(again.status, TakeoverStatus::AlreadyTakenOver);
            assert_eq!(env.baselines(&repo).len(), 1, "{step:?}");
        }
    }
}

#[test]
fn half_done_checkout_is_finished_on_the_next_run() {
    let mut env = Env::new();
    let src = env.app();
    let repo = env.repo_with_history("repo");
    let request = env.request(&src, &repo);
    env.run_until(&request, Step::Tag);
    // What a checkout killed halfway leaves: some new files written,
    // an old one removed.
    std::fs::write(repo.join("README.md"), "# Shop\n").unwrap();
    write_files(
        &repo,
        &[("app/page.tsx", "export default function Page() {}\n")],
    );
    std::fs::remove_file(repo.join("old.txt")).unwrap();
    let report = env.run(&request).unwrap();
    assert_eq!(report.status, TakeoverStatus::Resumed);
    assert_eq!(env.git(&repo, &["status", "--porcelain"]), "");
    assert_eq!(env.baselines(&repo).len(), 1);
}

#[test]
fn changes_of_the_users_after_an_interruption_stop_the_checkout() {
    let mut env = Env::new();
    let src = env.app();
    let repo = env.repo_with_history("repo");
    let request = env.request(&src, &repo);
    env.run_until(&request, Step::Tag);
    std::fs::write(repo.join("old.txt"), "my own edit\n").unwrap();
    let err = env.run(&request).unwrap_err();
    assert!(
        matches!(&err, TakeoverError::WorkTreeChanged { sample, .. } if sample.contains("old.txt")),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("old.txt")).unwrap(),
        "my own edit\n"
    );
    // Put right, the run finishes.
    std::fs::write(repo.join("old.txt"), "from before\n").unwrap();
    env.run(&request).unwrap();
    assert_eq!(env.baselines(&repo).len(), 1);
}

#[test]
fn source_changed_after_the_commit_is_reported_not_committed_again() {
    let mut env = Env::new();
    let src = env.app();
    let repo = env.path("repo");
    let request = env.request(&src, &repo);
    env.run_until(&request, Step::Branch);
    std::fs::write(src.join("README.md"), "# Changed\n").unwrap();
    let err = env.run(&request).unwrap_err();
    assert!(
        matches!(err, TakeoverError::SourceChanged { .. }),
        "{err:?}"
    );
    assert!(err.hint().contains("branch -D"), "{}", err.hint());
    assert_eq!(env.baselines(&repo).len(), 1);
}

#[test]
fn interrupted_takeover_into_another_repository_blocks_a_new_one() {
    let mut env = Env::new();
    let src = env.app();
    let first = env.path("first");
    env.run_until(&env.request(&src, &first), Step::Branch);
    let err = env
        .run(&env.request(&src, &env.path("second")))
        .unwrap_err();
    assert!(
        matches!(&err, TakeoverError::Unfinished { traces, .. } if traces.starts_with("branch takeover/app/")),
        "{err:?}"
    );
    // One that never reached its repository is simply forgotten.
    let mut env = Env::new();
    let src = env.app();
    env.run_until(&env.request(&src, &env.path("first")), Step::Recorded);
    let second = env.path("second");
    env.run(&env.request(&src, &second)).unwrap();
    assert_eq!(env.baselines(&second).len(), 1);
    assert_eq!(env.rows("SELECT COUNT(*) FROM takeovers"), 1);
}

#[test]
fn folder_taken_over_in_place_keeps_its_secrets_out_of_git() {
    let mut env = Env::new();
    let src = env.app();
    std::fs::remove_file(src.join("logo.png")).unwrap();
    let report = env.run(&env.request(&src, &src)).unwrap();
    assert_eq!(report.summary.files_count, 4);
    assert_eq!(
        std::fs::read_to_string(src.join(".env")).unwrap(),
        format!("{SECRET_ENV}\n"),
        "the user's .env stays on disk"
    );
    // node_modules is untracked; the secrets are excluded from git.
    assert_eq!(
        env.git(&src, &["status", "--porcelain"]),
        "?? node_modules/\n"
    );
    env.git(&src, &["add", "-A"]);
    let staged = env.git(&src, &["diff", "--cached", "--name-only"]);
    assert!(
        !staged.contains(".env\n") && !staged.contains("lib/ai.ts"),
        "{staged}"
    );
    assert!(!contains(&env.all_objects(&src), SECRET_KEY));
}

#[test]
fn existing_repository_folder_is_not_taken_over_in_place() {
    let mut env = Env::new();
    let repo = env.repo_with_history("repo");
    let err = env.run(&env.request(&repo, &repo)).unwrap_err();
    assert!(
        matches!(err, TakeoverError::AlreadyRepository { .. }),
        "{err:?}"
    );
    assert!(err.hint().contains("kollega open"), "{}", err.hint());
}

#[test]
fn a_handoff_json_of_the_source_makes_way_for_the_takeovers() {
    let mut env = Env::new();
    let src = env.path("again");
    write_files(
        &src,
        &[("handoff.json", "{\"old\":true}\n"), ("a.txt", "a\n")],
    );
    let repo = env.path("repo");
    let report = env.run(&env.request(&src, &repo)).unwrap();
    assert_eq!(report.summary.skipped[0].path, "handoff.json");
    assert_eq!(report.summary.skipped[0].reason, "reserved-name");
    let handoff = env.git(&repo, &["cat-file", "-p", "HEAD:handoff.json"]);
    assert!(handoff.contains("\"workspace\": \"again\""), "{handoff}");
}

#[test]
fn a_new_export_into_the_same_repository_gets_a_new_baseline() {
    let mut env = Env::new();
    let src = env.app();
    let repo = env.path("repo");
    let request = env.request(&src, &repo);
    // The branch name carries the time to the second: the second run
    // comes a second after the first.
    let start = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    env.outside.now = Some(start);
    let first = env.run(&request).unwrap();
    env.outside.now = Some(start + time::Duration::seconds(1));
    std::fs::write(src.join("README.md"), "# Shop v2\n").unwrap();
    let second = env.run(&request).unwrap();
    assert_eq!(second.status, TakeoverStatus::TakenOver);
    assert_ne!(second.branch, first.branch);
    assert_eq!(
        env.git(&repo, &["rev-parse", &format!("{}^", second.branch)])
            .trim(),
        first.commit
    );
    assert_eq!(env.baselines(&repo).len(), 2);
    assert_eq!(env.rows("SELECT COUNT(*) FROM workspaces"), 1);
}

#[test]
fn a_half_made_repository_of_an_interrupted_takeover_is_made_again() {
    let mut env = Env::new();
    let src = env.app();
    let repo = env.path("repo");
    let request = env.request(&src, &repo);
    env.run_until(&request, Step::Recorded);
    // What `git init` killed early leaves.
    std::fs::create_dir_all(repo.join(".git/objects/pack")).unwrap();
    let report = env.run(&request).unwrap();
    assert_eq!(report.status, TakeoverStatus::Resumed);
    assert_eq!(env.baselines(&repo).len(), 1);
}

#[test]
fn a_link_left_by_git_init_killed_before_it_made_git_is_removed() {
    let mut env = Env::new();
    let src = env.app();
    let repo = env.path("repo");
    let request = env.request(&src, &repo);
    env.run_until(&request, Step::Recorded);
    // libgit2 tries a link in the folder to learn whether the file system
    // has them, before `.git` exists; killed then, it leaves the link.
    std::fs::create_dir_all(&repo).unwrap();
    std::os::unix::fs::symlink("testing", repo.join("_git2_99cbf55295f6000c")).unwrap();
    let report = env.run(&request).unwrap();
    assert_eq!(report.status, TakeoverStatus::Resumed);
    assert_eq!(env.baselines(&repo).len(), 1);
    assert!(!repo.join("_git2_99cbf55295f6000c").exists());
    assert!(
        std::fs::symlink_metadata(repo.join("_git2_99cbf55295f6000c")).is_err(),
        "the link is gone"
    );
}

#[test]
fn the_lock_of_its_own_branch_left_by_a_killed_takeover_is_removed() {
    let mut env = Env::new();
    let src = env.app();
    let repo = env.path("repo");
    let request = env.request(&src, &repo);
    env.run_until(&request, Step::CommitObject);
    // Killed while git wrote the branch: its lock and the reflog's stay.
    let branch: String = env
        .store
        .conn
        .query_row("SELECT branch FROM takeovers", [], |r| r.get(0))
        .unwrap();
    let lock = repo.join(format!(".git/refs/heads/{branch}.lock"));
    let log_lock = repo.join(format!(".git/logs/refs/heads/{branch}.lock"));
    for file in [&lock, &log_lock] {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, "").unwrap();
    }
    let report = env.run(&request).unwrap();
    assert_eq!(report.status, TakeoverStatus::Resumed);
    assert_eq!(env.baselines(&repo).len(), 1);
    assert!(!lock.exists() && !log_lock.exists());
}
