//! Real repositories in temporary folders, inspected with the `git`
//! program under a private HOME (no user or system configuration); a
//! local HTTP server stands in for GitHub and a bare repository for the
//! remote.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::outside::Outside;
use super::state::{Step, Stop};
use super::{TakeoverError, TakeoverReport, TakeoverRequest, run};
use crate::config::Config;
use crate::store::Store;

pub(super) const SECRET_KEY: &str = "sk-proj-4f9aB2c7D1e0F3a9b8C7d6E5";
pub(super) const SECRET_ENV: &str = "DATABASE_URL=postgres://app:hunter2@db:5432/app";
pub(super) const TOKEN: &str = "ghp_T0KENt0kenT0KENt0kenT0KENt0ken1234";

/// One kollega with its store, a private HOME with a git identity, and
/// room for sources and repositories.
pub(super) struct Env {
    root: tempfile::TempDir,
    pub(super) config: Config,
    pub(super) store: Store,
    pub(super) outside: Outside,
}

impl Env {
    pub(super) fn new() -> Env {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = Tess Taker\n\temail = tess@example.com\n",
        )
        .unwrap();
        let config = Config::load(Some(root.path().join("data"))).unwrap();
        let store = Store::open(&config.data_dir).unwrap();
        Env {
            outside: Outside {
                vars: HashMap::new(),
                sandbox_home: Some(home),
                now: None,
            },
            root,
            config,
            store,
        }
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    pub(super) fn home(&self) -> PathBuf {
        self.path("home")
    }

    /// The exported app every test takes over: text files, a secret in
    /// code, a real `.env`, a binary, an ignored folder.
    pub(super) fn app(&self) -> PathBuf {
        let src = self.path("app");
        write_files(
            &src,
            &[
                ("README.md", "# Shop\n"),
                ("app/page.tsx", "export default function Page() {}\n"),
                ("lib/utils.ts", "export const cn = () => '';\n"),
                ("lib/ai.ts", &format!("const key = \"{SECRET_KEY}\";\n")),
                (".env", &format!("{SECRET_ENV}\n")),
                (".env.example", "OPENAI_API_KEY=your-key-here\n"),
                ("node_modules/react/index.js", "module.exports = {};\n"),
            ],
        );
        std::fs::write(src.join("logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0").unwrap();
        src
    }

    pub(super) fn request(&self, source: &Path, repo: &Path) -> TakeoverRequest {
        TakeoverRequest {
            source: source.to_string_lossy().into_owned(),
            repo: repo.to_path_buf(),
            ..TakeoverRequest::default()
        }
    }

    pub(super) fn run(
        &mut self,
        request: &TakeoverRequest,
    ) -> Result<TakeoverReport, TakeoverError> {
        run(
            &mut self.store,
            &self.config,
            request,
            &self.outside,
            Stop::default(),
        )
    }

    pub(super) fn run_until(&mut self, request: &TakeoverRequest, step: Step) {
        let stopped = run(
            &mut self.store,
            &self.config,
            request,
            &self.outside,
            Stop { after: Some(step) },
        );
        assert!(
            matches!(stopped, Err(TakeoverError::Interrupted(s)) if s == step),
            "{step:?}: {stopped:?}"
        );
    }

    pub(super) fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_cmd(dir, args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub(super) fn git_cmd(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("-C")
            .arg(dir)
            .args(args)
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("LC_ALL", "C");
        for key in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
            cmd.env_remove(key);
        }
        cmd
    }

    /// A repository with one commit on `main`.
    pub(super) fn repo_with_history(&self, name: &str) -> PathBuf {
        let repo = self.path(name);
        std::fs::create_dir_all(&repo).unwrap();
        self.git(&repo, &["init", "-q", "-b", "main"]);
        write_files(
            &repo,
            &[("old.txt", "from before\n"), ("README.md", "# Old\n")],
        );
        self.git(&repo, &["add", "-A"]);
        self.git(&repo, &["commit", "-q", "-m", "first"]);
        repo
    }

    pub(super) fn bare(&self, name: &str) -> PathBuf {
        let bare = self.path(name);
        std::fs::create_dir_all(&bare).unwrap();
        self.git(&bare, &["init", "-q", "--bare"]);
        bare
    }

    pub(super) fn baselines(&self, repo: &Path) -> Vec<String> {
        self.git(
            repo,
            &["log", "--all", "--format=%H", "--grep=^takeover: import "],
        )
        .lines()
        .map(str::to_string)
        .collect()
    }

    /// Every baseline commit object in the repository, reachable or not.
    pub(super) fn commit_objects(&self, repo: &Path) -> Vec<String> {
        if !repo.join(".git").exists() {
            return Vec::new();
        }
        let listing = self.git(
            repo,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objecttype) %(objectname)",
            ],
        );
        listing
            .lines()
            .filter_map(|l| l.strip_prefix("commit "))
            .filter(|id| {
                self.git(repo, &["log", "-1", "--format=%s", id])
                    .starts_with("takeover: import ")
            })
            .map(str::to_string)
            .collect()
    }

    pub(super) fn rows(&self, sql: &str) -> i64 {
        self.store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Every byte of every object in the repository, loose or packed.
    pub(super) fn all_objects(&self, repo: &Path) -> Vec<u8> {
        self.git_cmd(
            repo,
            &["cat-file", "--batch-all-objects", "--batch", "--unordered"],
        )
        .output()
        .unwrap()
        .stdout
    }

    pub(super) fn data_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in walkdir::WalkDir::new(&self.config.data_dir) {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                all.extend(std::fs::read(entry.path()).unwrap());
            }
        }
        all
    }
}

pub(super) fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let target = root.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, content).unwrap();
    }
}

pub(super) fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

pub(super) fn stamp_in(branch: &str) -> &str {
    branch.rsplit('/').next().unwrap()
}
