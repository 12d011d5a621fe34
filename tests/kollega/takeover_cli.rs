//! `kollega takeover … --git` end to end: the real binary, real
//! repositories, a bare repository as the remote, a local stand-in for
//! GitHub's API, and takeovers killed with SIGKILL at every stage.
//!
//! These need the `takeover` subcommand in `src/cli.rs`
//! (`kollega takeover SOURCE --git REPO [--name N] [--remote URL] [--push]
//! [--github OWNER/NAME] [--json]`, the report on stdout, a failed network
//! step as `error:`/`hint:` and exit 1 after the report); they are ignored
//! until it is wired. The behaviour itself is covered in-process by the
//! tests of `src/git/takeover/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

const TOKEN: &str = "ghp_CLItokenCLItokenCLItokenCLItoken12345";
const SECRET: &str = "sk-proj-4f9aB2c7D1e0F3a9b8C7d6E5";

/// A repository harness whose HOME has a global identity, and an app to
/// take over.
fn setup() -> (GitRepo, PathBuf) {
    let g = GitRepo::new();
    global_identity(&g);
    let src = g.k.scratch("app");
    write_tree(
        &src,
        &tree([
            ("README.md", "# Shop\n".to_string()),
            (
                "app/page.tsx",
                "export default function Page() {}\n".to_string(),
            ),
            ("lib/ai.ts", format!("const key = \"{SECRET}\";\n")),
            ("node_modules/x/index.js", "1\n".to_string()),
        ]),
    );
    (g, src)
}

fn takeover(g: &GitRepo, src: &Path, repo: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<std::ffi::OsString> = vec![
        "takeover".into(),
        src.into(),
        "--git".into(),
        repo.into(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(Into::into));
    g.kollega(args)
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(out),
            stderr(out)
        )
    })
}

/// The baseline commit objects in `repo`, reachable or not.
fn baselines(g: &GitRepo, repo: &Path) -> Vec<String> {
    let listing = g.git_in(
        repo,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objecttype) %(objectname)",
        ],
    );
    String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("commit "))
        .filter(|id| {
            let subject = g.git_in(repo, &["log", "-1", "--format=%s", id]);
            String::from_utf8_lossy(&subject.stdout).starts_with("takeover: import ")
        })
        .map(str::to_string)
        .collect()
}

fn git_text(g: &GitRepo, repo: &Path, args: &[&str]) -> String {
    let out = g.git_in(repo, args);
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn takeover_prints_its_report_and_ls_shows_a_git_workspace() {
    let (g, src) = setup();
    let repo = g.k.scratch("shop-repo");
    let out = takeover(&g, &src, &repo, &[]);
    assert_success(&out);
    let report = json(&out);
    // The workspace takes the export's name, as an import does (the README
    // says so); `git status` finds the repository by it.
    assert_eq!(report["workspace"], "app");
    let status = g.k.run(["git", "status", "app", "--json"]);
    assert_success(&status);
    assert_eq!(report["storageType"], "git");
    assert_eq!(report["filesCount"], 2);
    assert_eq!(report["pushed"], false);
    let branch = report["branch"].as_str().unwrap();
    let stamp = branch.strip_prefix("takeover/app/").unwrap();
    assert_eq!(report["tag"], format!("import-{stamp}"));
    assert_eq!(
        git_text(&g, &repo, &["log", "--all", "--format=%s"])
            .lines()
            .count(),
        1
    );
    assert!(!git_text(&g, &repo, &["log", "-p", "--all"]).contains(SECRET));
    let rows = g.k.ls();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["storageType"], "git");
}

#[test]
fn dirty_repository_is_refused_with_a_hint_and_nothing_changes() {
    let (g, src) = setup();
    g.write("mine.txt", "mine\n");
    g.commit_all("first");
    g.write("mine.txt", "edited\n");
    let before = g.snapshot();
    let out = takeover(&g, &src, &g.dir, &[]);
    assert_code(&out, 1);
    let error = json_error(&out);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("uncommitted changes") && message.contains(" M mine.txt"),
        "{error}"
    );
    assert!(!error["hint"].as_str().unwrap().is_empty(), "{error}");
    assert_eq!(g.snapshot(), before);
    assert_eq!(g.k.ls(), Vec::<Value>::new());
}

/// Many files, so a kill lands inside the walk, the commit or the checkout.
fn big_app(g: &GitRepo) -> PathBuf {
    let src = g.k.scratch("big");
    let files: Tree = (0..1500)
        .map(|i| {
            let mut text = format!("// file {i}\n");
            while text.len() < 4096 {
                text.push_str(&format!(
                    "export const v{i}_{} = \"lorem {i}\";\n",
                    text.len()
                ));
            }
            (format!("src/m{:02}/f{i:05}.ts", i % 30), text.into_bytes())
        })
        .collect();
    write_tree(&src, &files);
    src
}

#[test]
fn takeover_killed_at_any_moment_finishes_on_the_next_run_with_one_baseline() {
    let mut killed_midway = 0;
    for delay_ms in [5u64, 30, 80, 160, 300, 550, 900] {
        let g = GitRepo::new();
        global_identity(&g);
        let src = big_app(&g);
        let repo = g.k.scratch("repo-big");
        let mut cmd = g.k.std_cmd();
        cmd.args([
            "takeover".as_ref(),
            src.as_os_str(),
            "--git".as_ref(),
            repo.as_os_str(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn kollega takeover");
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(delay_ms) {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if child.try_wait().expect("wait").is_none() {
            killed_midway += 1;
        }
        // SIGKILL: nothing of kollega's runs after this.
        let _ = child.kill();
        let _ = child.wait();

        let out = takeover(&g, &src, &repo, &[]);
        assert_success(&out);
        let report = json(&out);
        let commit = report["commit"].as_str().unwrap().to_string();
        assert_eq!(
            baselines(&g, &repo),
            vec![commit.clone()],
            "killed after {delay_ms} ms"
        );
        let tag = report["tag"].as_str().unwrap();
        assert_eq!(git_text(&g, &repo, &["tag", "--list"]).trim(), tag);
        assert_eq!(
            git_text(&g, &repo, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
            report["branch"].as_str().unwrap()
        );
        assert_eq!(git_text(&g, &repo, &["status", "--porcelain"]), "");
        assert_eq!(report["filesCount"], 1500);
        let again = json(&takeover(&g, &src, &repo, &[]));
        assert_eq!(again["status"], "already-taken-over");
        assert_eq!(again["commit"], commit);
    }
    assert!(
        killed_midway >= 2,
        "only {killed_midway} kills landed before the end"
    );
}

#[test]
fn push_to_a_bare_remote_sends_branch_and_tag() {
    let (g, src) = setup();
    let bare = g.k.scratch("origin.git");
    std::fs::create_dir_all(&bare).unwrap();
    git_text(&g, &bare, &["init", "-q", "--bare"]);
    let url = format!("file://{}", bare.display());
    let repo = g.k.scratch("repo");
    let out = takeover(&g, &src, &repo, &["--remote", &url, "--push"]);
    assert_success(&out);
    let report = json(&out);
    assert_eq!(report["pushed"], true);
    assert_eq!(report["remote"], url);
    let refs = git_text(&g, &bare, &["show-ref"]);
    assert!(refs.contains(report["branch"].as_str().unwrap()), "{refs}");
    assert!(refs.contains(report["tag"].as_str().unwrap()), "{refs}");
}

fn everything_kollega_wrote(g: &GitRepo, out: &std::process::Output, repo: &Path) -> Vec<u8> {
    let mut all = out.stdout.clone();
    all.extend(&out.stderr);
    for (_, bytes) in g.k.stored_bytes() {
        all.extend(bytes);
    }
    all.extend(std::fs::read(repo.join(".git/config")).unwrap_or_default());
    all
}

#[test]
fn github_repository_is_created_private_and_pushed_without_the_token_anywhere() {
    let (g, src) = setup();
    let bare = g.k.scratch("gh-shop.git");
    std::fs::create_dir_all(&bare).unwrap();
    git_text(&g, &bare, &["init", "-q", "--bare"]);
    let clone_url = format!("file://{}", bare.display());
    let answer = clone_url.clone();
    let server = FakeGithub::start(move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/user") => (200, r#"{"login":"octo"}"#.into()),
        ("POST", "/orgs/acme/repos") => (
            201,
            serde_json::json!({
                "full_name": "acme/shop",
                "html_url": "https://github.example/acme/shop",
                "clone_url": answer,
                "ssh_url": "git@github.example:acme/shop.git",
            })
            .to_string(),
        ),
        _ => (404, r#"{"message":"Not Found"}"#.into()),
    });
    let mut cmd = g.k.std_cmd();
    let repo = g.k.scratch("repo");
    cmd.args([
        "takeover".as_ref(),
        src.as_os_str(),
        "--git".as_ref(),
        repo.as_os_str(),
        "--github".as_ref(),
        "acme/shop".as_ref(),
        "--json".as_ref(),
    ])
    .env("GITHUB_TOKEN", TOKEN)
    .env("KOLLEGA_GITHUB_API_URL", &server.url);
    let out = cmd.output().unwrap();
    assert_success(&out);
    let report = json(&out);
    assert_eq!(report["pushed"], true);
    assert_eq!(report["github"]["created"], true);
    let requests = server.requests();
    assert_eq!(requests[1].path, "/orgs/acme/repos");
    let body: Value = serde_json::from_str(&requests[1].body).unwrap();
    assert_eq!(body["private"], true);
    // The token travels in its header only, beside the API version GitHub
    // documents.
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
        assert!(!request.path.contains(TOKEN) && !request.body.contains(TOKEN));
    }
    assert!(git_text(&g, &bare, &["show-ref"]).contains(report["tag"].as_str().unwrap()));
    assert!(!contains_bytes(
        &everything_kollega_wrote(&g, &out, &repo),
        TOKEN.as_bytes()
    ));
    // Each API request is counted for `kollega metrics`.
    let metrics = g.kollega(["metrics"]);
    let text = String::from_utf8_lossy(&metrics.stdout);
    let counted: u64 = text
        .lines()
        .filter(|l| {
            l.starts_with("kollega_http_requests_total{") && l.contains("service=\"github\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(counted, requests.len() as u64, "{text}");
}

#[test]
fn github_name_taken_exits_1_keeps_the_local_takeover_and_suggests_remote() {
    let (g, src) = setup();
    let server = FakeGithub::start(|r| {
        match r.method.as_str() {
        "GET" => (200, r#"{"login":"octo"}"#.into()),
        _ => (
            422,
            r#"{"message":"Repository creation failed.","errors":[{"resource":"Repository","code":"custom","field":"name","message":"name already exists on this account"}]}"#.into(),
        ),
    }
    });
    let repo = g.k.scratch("repo");
    let mut cmd = g.k.std_cmd();
    cmd.args([
        "takeover".as_ref(),
        src.as_os_str(),
        "--git".as_ref(),
        repo.as_os_str(),
        "--github".as_ref(),
        "octo/shop".as_ref(),
        "--json".as_ref(),
    ])
    .env("GITHUB_TOKEN", TOKEN)
    .env("KOLLEGA_GITHUB_API_URL", &server.url);
    let out = cmd.output().unwrap();
    assert_code(&out, 1);
    let report = json(&out);
    assert_eq!(report["pushed"], false);
    assert_eq!(report["storageType"], "git");
    // The failure is in the same JSON object as the local result.
    let error = &report["error"];
    assert_eq!(error["kind"], "takeover", "{report}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{error}"
    );
    assert!(
        error["hint"].as_str().unwrap().contains("--remote"),
        "{error}"
    );
    assert_eq!(baselines(&g, &repo).len(), 1);
    assert_eq!(g.k.ls()[0]["storageType"], "git");
    assert!(!contains_bytes(
        &everything_kollega_wrote(&g, &out, &repo),
        TOKEN.as_bytes()
    ));
}
