//! Helpers shared by the integration tests: a `Kollega` harness that runs
//! the real binary against private temporary data and config directories,
//! tree and ZIP writers, and readers for what kollega stored or wrote.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;

use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use tempfile::TempDir;

/// Environment variables provider keys are read from; removed from every run
/// so a developer's own keys never reach the binary under test.
const PROVIDER_KEYS: &[&str] = &["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN"];

/// One kollega "installation": a data directory (not created up front, so
/// the binary creates it) and an empty config directory, both temporary.
pub struct Kollega {
    root: TempDir,
    pub data: PathBuf,
    pub config: PathBuf,
    envs: Vec<(String, String)>,
}

impl Kollega {
    pub fn new() -> Kollega {
        let root = tempfile::tempdir().expect("temp dir");
        let data = root.path().join("data");
        let config = root.path().join("config");
        std::fs::create_dir(&config).expect("config dir");
        Kollega {
            root,
            data,
            config,
            envs: Vec::new(),
        }
    }

    /// The root of this installation's temporary folders.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Sets an environment variable for every command this harness runs.
    pub fn env(mut self, key: &str, value: &str) -> Kollega {
        self.envs.push((key.to_string(), value.to_string()));
        self
    }

    /// A scratch directory beside the data dir, for sources and exports.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let path = self.root.path().join("scratch").join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("scratch dir");
        path
    }

    pub fn db_path(&self) -> PathBuf {
        self.data.join("kollega.db")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.data.join("logs")
    }

    /// The binary with `--data-dir`, a clean `KOLLEGA_*` environment and the
    /// harness's own variables.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = self.std_cmd_without_data_dir();
        cmd.arg("--data-dir").arg(&self.data);
        cmd
    }

    /// Like [`Kollega::std_cmd`], leaving `--data-dir` to the caller.
    pub fn std_cmd_without_data_dir(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kollega"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("KOLLEGA_") {
                cmd.env_remove(&key);
            }
        }
        for key in PROVIDER_KEYS {
            cmd.env_remove(key);
        }
        cmd.env_remove("NO_COLOR");
        cmd.env("KOLLEGA_CONFIG_DIR", &self.config);
        for (key, value) in &self.envs {
            cmd.env(key, value);
        }
        cmd.stdin(std::process::Stdio::null());
        cmd
    }

    pub fn cmd(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.std_cmd())
    }

    /// Runs with `args` and returns the output, whatever the exit code.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.std_cmd().args(args).output().expect("run kollega")
    }

    /// Runs with `args`, asserts exit 0 and parses stdout as JSON.
    pub fn json<I, S>(&self, args: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = self.run(args);
        assert_success(&out);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// `import SOURCE --name NAME --json EXTRA...`, asserting success.
    pub fn import(&self, source: &Path, name: &str, extra: &[&str]) -> Value {
        let mut args: Vec<std::ffi::OsString> = vec![
            "import".into(),
            source.into(),
            "--name".into(),
            name.into(),
            "--json".into(),
        ];
        args.extend(extra.iter().map(Into::into));
        self.json(args)
    }

    /// Like [`Kollega::import`] but expects failure (exit 1); returns stderr.
    pub fn import_fails(&self, source: &Path, name: &str, extra: &[&str]) -> String {
        let mut args: Vec<std::ffi::OsString> = vec![
            "import".into(),
            source.into(),
            "--name".into(),
            name.into(),
            "--json".into(),
        ];
        args.extend(extra.iter().map(Into::into));
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "expected exit 1\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // With --json the error is one JSON object on stdout, and nothing
        // else is printed.
        assert!(
            out.stderr.is_empty(),
            "a failed --json import printed on stderr: {}",
            stderr(&out)
        );
        let error = json_error(&out);
        format!(
            "error: {}\nhint: {}",
            error["message"].as_str().unwrap_or_default(),
            error["hint"].as_str().unwrap_or_default()
        )
    }

    /// The rows of `kollega ls --json`.
    pub fn ls(&self) -> Vec<Value> {
        match self.json(["ls", "--json"]) {
            Value::Array(rows) => rows,
            other => panic!("ls --json is not an array: {other}"),
        }
    }

    /// A read-only connection to the store, with a busy timeout.
    pub fn db(&self) -> Connection {
        let conn = Connection::open_with_flags(
            self.db_path(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .expect("open kollega.db read-only");
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .expect("busy timeout");
        conn
    }

    /// `SELECT COUNT(*) FROM <table>` on the store.
    pub fn rows(&self, table: &str) -> i64 {
        self.db()
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .expect("count rows")
    }

    /// Asserts the store holds no workspace, staged or ready, and no file.
    pub fn assert_nothing_stored(&self) {
        assert_eq!(self.ls(), Vec::<Value>::new(), "ls --json should be []");
        assert_eq!(self.rows("files"), 0, "rows in files");
        assert_eq!(self.rows("workspaces"), 0, "rows in workspaces");
        assert_eq!(self.rows("skipped_entries"), 0, "rows in skipped_entries");
    }

    /// Every byte kollega keeps on disk: the database, its WAL and the logs.
    pub fn stored_bytes(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut found = Vec::new();
        for entry in walkdir::WalkDir::new(&self.data) {
            let entry = entry.expect("walk data dir");
            if entry.file_type().is_file() {
                let bytes = std::fs::read(entry.path()).expect("read stored file");
                found.push((entry.path().to_path_buf(), bytes));
            }
        }
        found
    }
}

/// The `{"error": {...}}` a failed command printed with `--json`.
pub fn json_error(out: &Output) -> Value {
    let value: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout of a failed --json command is not one JSON object ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let error = value["error"].clone();
    for field in ["kind", "message", "hint"] {
        assert!(error[field].is_string(), "no {field} in {value}");
    }
    error
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "expected success, got {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

pub fn assert_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "unexpected exit\nstdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

/// Whether `haystack` contains `needle` as bytes.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A source tree: relative `/`-separated path → content.
pub type Tree = BTreeMap<String, Vec<u8>>;

pub fn tree<P: AsRef<str>, C: AsRef<[u8]>>(files: impl IntoIterator<Item = (P, C)>) -> Tree {
    files
        .into_iter()
        .map(|(p, c)| (p.as_ref().to_string(), c.as_ref().to_vec()))
        .collect()
}

/// Writes `tree` under `root`, creating folders as needed.
pub fn write_tree(root: &Path, tree: &Tree) {
    std::fs::create_dir_all(root).expect("tree root");
    for (path, content) in tree {
        let target = root.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("create parent");
        std::fs::write(&target, content).expect("write tree file");
    }
}

/// Reads every regular file under `root` into a tree.
pub fn read_tree(root: &Path) -> Tree {
    let mut found = Tree::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.expect("walk tree");
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(root)
                .expect("under root")
                .components()
                .map(|c| c.as_os_str().to_str().expect("utf-8 name"))
                .collect::<Vec<_>>()
                .join("/");
            found.insert(rel, std::fs::read(entry.path()).expect("read tree file"));
        }
    }
    found
}

/// One entry of a ZIP file written by a test.
pub enum ZipEntry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
}

/// Writes a ZIP file with `entries` in the given order, deflated.
pub fn write_zip(path: &Path, entries: &[ZipEntry<'_>]) {
    let file = std::fs::File::create(path).expect("create zip");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for entry in entries {
        match entry {
            ZipEntry::File(name, content) => {
                zip.start_file(*name, options).expect("start zip entry");
                zip.write_all(content).expect("write zip entry");
            }
            ZipEntry::Dir(name) => zip
                .add_directory(*name, options)
                .expect("add zip directory"),
            ZipEntry::Symlink(name, target) => zip
                .add_symlink(*name, *target, zip::write::SimpleFileOptions::default())
                .expect("add zip symlink"),
        }
    }
    zip.finish().expect("finish zip");
}

/// Writes `tree` as a ZIP file, entries in path order.
pub fn write_tree_zip(path: &Path, tree: &Tree) {
    let entries: Vec<ZipEntry<'_>> = tree.iter().map(|(p, c)| ZipEntry::File(p, c)).collect();
    write_zip(path, &entries);
}

/// The entries of a ZIP file, in archive order, as (name, content).
pub fn read_zip(path: &Path) -> Vec<(String, Vec<u8>)> {
    let file = std::fs::File::open(path).expect("open zip");
    let mut archive = zip::ZipArchive::new(file).expect("read zip");
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("zip entry");
        let name = String::from_utf8(entry.name_raw().to_vec()).expect("utf-8 entry name");
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("read zip entry");
        entries.push((name, content));
    }
    entries
}

/// The tree a takeover import of a typical exported web app sees: text
/// files, hidden config files, and folders and files kollega ignores.
pub struct AppTree {
    pub all: Tree,
    /// What an import takes: every file outside the ignored folders.
    pub imported: Tree,
    /// How many ignore-list entries the walk meets (each pruned folder once).
    pub ignored: u64,
}

pub fn app_tree() -> AppTree {
    let imported = tree([
        (
            ".env.example",
            "OPENAI_API_KEY=your-key-here\nNEXT_PUBLIC_URL=http://localhost:3000\n".as_bytes(),
        ),
        (
            ".eslintrc.json",
            b"{\n  \"extends\": \"next/core-web-vitals\"\n}\n",
        ),
        (".gitignore", b"node_modules\n.next\n.env*.local\n"),
        (
            "README.md",
            "# Shop\n\nGenerated with v0 \u{2014} taken over by kollega.\n".as_bytes(),
        ),
        (
            "app/layout.tsx",
            b"export default function RootLayout({ children }) {\n  return <html><body>{children}</body></html>;\n}\n",
        ),
        (
            "app/page.tsx",
            b"export default function Page() {\n  return <main className=\"p-4\">Hello</main>;\n}\n",
        ),
        (
            "components/ui/button.tsx",
            b"export function Button(props) {\n  return <button {...props} />;\n}\n",
        ),
        (
            "lib/utils.ts",
            b"export function cn(...xs: string[]) {\n  return xs.filter(Boolean).join(\" \");\n}\n",
        ),
        (
            "package.json",
            b"{\n  \"name\": \"shop\",\n  \"private\": true,\n  \"scripts\": { \"dev\": \"next dev\" }\n}\n",
        ),
        (
            "packages/web/index.ts",
            b"export const web = true;\n",
        ),
    ]);
    let ignored_files = tree([
        (
            "node_modules/react/index.js",
            b"module.exports = {};\n".as_slice(),
        ),
        ("node_modules/react/package.json", b"{\"name\":\"react\"}\n"),
        (
            "packages/web/node_modules/left-pad/index.js",
            b"module.exports = 1;\n",
        ),
        ("packages/web/node_modules/left-pad/README.md", b"pad\n"),
        (".git/HEAD", b"ref: refs/heads/main\n"),
        (".git/config", b"[core]\n\tbare = false\n"),
        (".next/cache/build.json", b"{}\n"),
        ("dist/bundle.js", b"console.log(1);\n"),
        ("build/out.js", b"console.log(2);\n"),
        ("target/debug/app.d", b"app: src/main.rs\n"),
        (".DS_Store", b"\0\0\0\x01Bud1\0\0"),
        ("app/.DS_Store", b"\0\0\0\x01Bud1\0\0"),
    ]);
    // node_modules, packages/web/node_modules, .git, .next, dist, build,
    // target, .DS_Store, app/.DS_Store.
    let ignored = 9;
    let mut all = imported.clone();
    all.extend(ignored_files);
    AppTree {
        all,
        imported,
        ignored,
    }
}

pub fn total_bytes(tree: &Tree) -> u64 {
    tree.values().map(|c| c.len() as u64).sum()
}

/// One skipped entry of a report as `(path, reason, size)`.
pub type Skip = (String, String, Option<u64>);

/// The `(path, reason, size)` triples of a report's `skipped` list.
pub fn skipped(report: &Value) -> Vec<Skip> {
    report["skipped"]
        .as_array()
        .expect("skipped is an array")
        .iter()
        .map(|e| {
            (
                e["path"].as_str().expect("skipped path").to_string(),
                e["reason"].as_str().expect("skipped reason").to_string(),
                e.get("size").map(|s| s.as_u64().expect("skipped size")),
            )
        })
        .collect()
}

/// Variables that would let the runner's own git identity or repository
/// reach a git test; removed from every command a [`GitRepo`] runs.
const GIT_LEAKS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "EMAIL",
];

/// A git repository in a temporary folder, on branch `main` with an
/// identity in its own config, and a [`Kollega`] to run against it. Both
/// `git` and kollega run under a private HOME with
/// `GIT_CONFIG_NOSYSTEM=1`, so no user or system configuration leaks in.
pub struct GitRepo {
    pub k: Kollega,
    pub home: PathBuf,
    pub dir: PathBuf,
}

impl GitRepo {
    pub fn new() -> GitRepo {
        let k = Kollega::new();
        let home = k.scratch("home");
        let dir = k.scratch("repo");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::create_dir_all(&dir).expect("repo");
        let k = k
            .env("HOME", home.to_str().expect("utf-8 home"))
            .env(
                "XDG_CONFIG_HOME",
                home.join(".config").to_str().expect("utf-8 home"),
            )
            .env("GIT_CONFIG_NOSYSTEM", "1");
        let repo = GitRepo { k, home, dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Test Author"]);
        repo.git(&["config", "user.email", "author@example.com"]);
        repo
    }

    /// `git` in `dir` with the private environment.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = std::process::Command::new("git");
        cmd.current_dir(dir)
            .args(args)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            // Test reads must not refresh (rewrite) the index.
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::null());
        for key in GIT_LEAKS {
            cmd.env_remove(key);
        }
        cmd.output().expect("run git")
    }

    /// Runs git in the repository, asserting success; returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_in(&self.dir, args);
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs kollega with `args` (no identity from the environment).
    pub fn kollega<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = self.k.std_cmd();
        for key in GIT_LEAKS {
            cmd.env_remove(key);
        }
        cmd.args(args).output().expect("run kollega")
    }

    /// `kollega git status <repo> --json`, asserting success.
    pub fn status_json(&self) -> Value {
        let out = self.kollega(["git", "status", self.path_str(), "--json"]);
        assert_success(&out);
        serde_json::from_slice(&out.stdout).expect("status JSON")
    }

    pub fn path_str(&self) -> &str {
        self.dir.to_str().expect("utf-8 repo path")
    }

    pub fn write(&self, path: &str, content: &str) {
        let target = self.dir.join(path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(target, content).expect("write");
    }

    pub fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// Everything a refused command must leave as it was: the status, the
    /// refs, HEAD, the index file's bytes and what is in progress.
    pub fn snapshot(&self) -> GitSnapshot {
        let git_dir = self.dir.join(".git");
        let head = self.git_in(&self.dir, &["rev-parse", "HEAD"]);
        GitSnapshot {
            status: self.git(&["status", "--porcelain=v2", "--branch"]),
            head: String::from_utf8_lossy(&head.stdout).into_owned(),
            refs: self.git(&["for-each-ref"]),
            index: std::fs::read(git_dir.join("index")).unwrap_or_default(),
            state_files: [
                "MERGE_HEAD",
                "REBASE_HEAD",
                "CHERRY_PICK_HEAD",
                "index.lock",
            ]
            .into_iter()
            .filter(|f| git_dir.join(f).exists())
            .collect(),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct GitSnapshot {
    pub status: String,
    pub head: String,
    pub refs: String,
    pub index: Vec<u8>,
    pub state_files: Vec<&'static str>,
}

/// Gives `repo`'s private HOME a global git identity, for repositories
/// kollega creates itself (`kollega takeover` into a new folder).
pub fn global_identity(repo: &GitRepo) {
    std::fs::write(
        repo.home.join(".gitconfig"),
        "[user]\n\tname = Tess Taker\n\temail = tess@example.com\n",
    )
    .expect("write .gitconfig");
}

/// One request a [`FakeGithub`] received.
#[derive(Debug, Clone)]
pub struct FakeRequest {
    pub method: String,
    pub path: String,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl FakeRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

type FakeAnswer = dyn Fn(&FakeRequest) -> (u16, String) + Send + Sync;

/// A stand-in for GitHub's REST API: hand-rolled HTTP/1.1 on 127.0.0.1
/// that records each request and answers `(status, JSON body)` from a
/// closure. Serves until the test process ends.
pub struct FakeGithub {
    pub url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<FakeRequest>>>,
}

impl FakeGithub {
    pub fn start(
        answer: impl Fn(&FakeRequest) -> (u16, String) + Send + Sync + 'static,
    ) -> FakeGithub {
        use std::io::BufRead;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&requests);
        let answer: std::sync::Arc<FakeAnswer> = std::sync::Arc::new(answer);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Ok(clone) = stream.try_clone() else {
                    continue;
                };
                let mut reader = std::io::BufReader::new(clone);
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                let mut headers = Vec::new();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).is_err() {
                        break;
                    }
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                    }
                }
                let length = headers
                    .iter()
                    .find(|(n, _)| n == "content-length")
                    .and_then(|(_, v)| v.parse::<usize>().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let request = FakeRequest {
                    method,
                    path,
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                };
                let (status, body) = answer(&request);
                seen.lock().expect("requests").push(request);
                let response = format!(
                    "HTTP/1.1 {status} Fake\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        FakeGithub { url, requests }
    }

    pub fn requests(&self) -> Vec<FakeRequest> {
        self.requests.lock().expect("requests").clone()
    }
}

/// Whether the tests run as root (they do in CI's containers).
pub fn running_as_root() -> bool {
    // SAFETY: geteuid(2) cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The kollega binary, run as the unprivileged user 65534 when the tests
/// run as root (root reads any file whatever its mode), as is otherwise.
pub fn kollega_without_root() -> std::process::Command {
    if running_as_root() {
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_kollega"));
        cmd
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_kollega"))
    }
}

/// A whole Chat Completions stream (as a compatible server sends it)
/// answering `text` from `qwen2.5-coder`, with 90 input and 30 output
/// tokens.
pub fn chat_stream(text: &str) -> String {
    let chunk = serde_json::json!({"id": "c1", "model": "qwen2.5-coder",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
    format!(
        "data: {chunk}\n\n\
         data: {{\"id\":\"c1\",\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\n\
         data: {{\"id\":\"c1\",\"choices\":[],\"usage\":{{\"prompt_tokens\":90,\"completion_tokens\":30}}}}\n\n\
         data: [DONE]\n\n"
    )
}
