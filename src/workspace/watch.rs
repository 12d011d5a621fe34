//! The file watcher of a folder or git workspace (notify), coalescing
//! bursts: a `git checkout` touching 10,000 files arrives as one rescan,
//! not 10,000 messages.
//!
//! Raw events go to a thread of their own, which gathers them for a short
//! window after the first (and never longer than a cap while they keep
//! coming), drops what lives under ignored folders, and sends one
//! [`WatchEvent`] per window. Changes inside `.git` matter only as "the
//! status may have changed" (a commit, a checkout, `git add` elsewhere).

use crate::error::Hint;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;

use super::ignore_rules::IgnoreRules;

/// Quiet time that ends a burst.
const QUIET: Duration = Duration::from_millis(120);
/// The longest a burst is held while events keep coming.
const MAX_HOLD: Duration = Duration::from_millis(600);
/// Past this many paths in one burst, the receiver rescans instead.
const MAX_PATHS: usize = 512;

/// What changed on disk in one burst.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WatchEvent {
    /// These workspace paths (files or folders) changed, were created or
    /// removed; `git` says whether the repository's own state moved too.
    Changed { paths: Vec<String>, git: bool },
    /// Too much changed to list: reload the tree and every clean buffer.
    Rescan,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path} for changes: {message}")]
pub struct WatchError {
    path: PathBuf,
    message: String,
}

impl Hint for WatchError {
    fn hint(&self) -> String {
        "kollega still works; changes made outside show after a restart. On Linux, raise fs.inotify.max_user_watches".into()
    }
}

/// Keeps the watch alive; dropping it stops watching.
pub(crate) struct WatchHandle {
    _watcher: RecommendedWatcher,
}

/// Watches `root` recursively and sends coalesced events on `events`.
/// `ignored` holds the import's ignore rules: what they drop never matters
/// (`node_modules/`).
pub(crate) fn spawn(
    root: &Path,
    ignored: Vec<String>,
    events: UnboundedSender<WatchEvent>,
) -> Result<WatchHandle, WatchError> {
    let root = root.canonicalize().map_err(|e| WatchError {
        path: root.to_path_buf(),
        message: e.to_string(),
    })?;
    let (raw_tx, raw_rx) = mpsc::channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            // Reading a file changes nothing, and our own `git status`
            // opens the index every time: counting opens would refresh
            // the status forever. A write's close still counts.
            if event.kind.is_access()
                && event.kind
                    != notify::EventKind::Access(notify::event::AccessKind::Close(
                        notify::event::AccessMode::Write,
                    ))
            {
                return;
            }
            for path in event.paths {
                let _ = raw_tx.send(path);
            }
        }
    })
    .map_err(|e| WatchError {
        path: root.clone(),
        message: e.to_string(),
    })?;
    watcher
        .watch(&root, RecursiveMode::Recursive)
        .map_err(|e| WatchError {
            path: root.clone(),
            message: e.to_string(),
        })?;
    let thread_root = root.clone();
    std::thread::Builder::new()
        .name("kollega-watch".into())
        .spawn(move || coalesce(&thread_root, &ignored, &raw_rx, &events))
        .map_err(|e| WatchError {
            path: root,
            message: e.to_string(),
        })?;
    Ok(WatchHandle { _watcher: watcher })
}

/// Gathers raw paths into bursts until the watcher or the receiver goes.
fn coalesce(
    root: &Path,
    ignored: &[String],
    raw: &mpsc::Receiver<PathBuf>,
    events: &UnboundedSender<WatchEvent>,
) {
    let rules = IgnoreRules::new(ignored);
    while let Ok(first) = raw.recv() {
        let started = Instant::now();
        let mut burst = Burst::default();
        burst.add(root, &rules, &first);
        loop {
            let left = MAX_HOLD.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            match raw.recv_timeout(QUIET.min(left)) {
                Ok(path) => burst.add(root, &rules, &path),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    burst.send(events);
                    return;
                }
            }
        }
        if !burst.send(events) {
            return;
        }
    }
}

#[derive(Default)]
struct Burst {
    paths: BTreeSet<String>,
    git: bool,
    overflow: bool,
}

impl Burst {
    fn add(&mut self, root: &Path, rules: &IgnoreRules, path: &Path) {
        let Ok(rel) = path.strip_prefix(root) else {
            return;
        };
        let Some(rel) = rel.to_str() else { return };
        if rel == ".git" || rel.starts_with(".git/") {
            // Lock files come and go with every git command; the index,
            // HEAD and refs are what move the status.
            if !rel.ends_with(".lock") {
                self.git = true;
            }
            return;
        }
        if rules.cut(rel).is_some() || (path.is_dir() && rules.rule_for(rel, true).is_some()) {
            return;
        }
        if self.overflow {
            return;
        }
        self.paths.insert(rel.to_string());
        if self.paths.len() > MAX_PATHS {
            self.overflow = true;
            self.paths.clear();
        }
    }

    /// Sends the burst; false when nobody listens any more.
    fn send(self, events: &UnboundedSender<WatchEvent>) -> bool {
        let event = if self.overflow {
            WatchEvent::Rescan
        } else if self.paths.is_empty() && !self.git {
            return !events.is_closed();
        } else {
            WatchEvent::Changed {
                paths: self.paths.into_iter().collect(),
                git: self.git,
            }
        };
        events.send(event).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<WatchEvent>) -> WatchEvent {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a watch event within 10 s")
            .expect("the watcher is running")
    }

    #[tokio::test]
    async fn a_change_outside_arrives_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _watch = spawn(dir.path(), vec!["node_modules".into()], tx).unwrap();
        std::fs::write(dir.path().join("node_modules.txt"), "not ignored").unwrap();
        std::fs::create_dir_all(dir.path().join("node_modules/x")).unwrap();
        std::fs::write(dir.path().join("node_modules/x/i.js"), "ignored").unwrap();
        std::fs::write(dir.path().join("app/page.tsx"), "x").unwrap();
        let mut seen = BTreeSet::new();
        while !seen.contains("app/page.tsx") {
            match next(&mut rx).await {
                WatchEvent::Changed { paths, .. } => seen.extend(paths),
                WatchEvent::Rescan => panic!("three files are not a burst"),
            }
        }
        assert!(seen.contains("node_modules.txt"));
        assert!(
            seen.iter().all(|p| !p.starts_with("node_modules/")),
            "{seen:?}"
        );
    }

    #[tokio::test]
    async fn reading_files_and_the_git_index_is_no_change() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/index"), "index").unwrap();
        std::fs::write(dir.path().join("a.ts"), "x").unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _watch = spawn(dir.path(), vec![], tx).unwrap();
        for _ in 0..5 {
            std::fs::read(dir.path().join(".git/index")).unwrap();
            std::fs::read(dir.path().join("a.ts")).unwrap();
        }
        // A write after the reads is the first thing that arrives.
        std::fs::write(dir.path().join("b.ts"), "y").unwrap();
        assert_eq!(
            next(&mut rx).await,
            WatchEvent::Changed {
                paths: vec!["b.ts".into()],
                git: false
            }
        );
    }

    #[tokio::test]
    async fn a_burst_of_ten_thousand_files_is_coalesced() {
        let dir = tempfile::tempdir().unwrap();
        for d in 0..10 {
            std::fs::create_dir_all(dir.path().join(format!("d{d}"))).unwrap();
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _watch = spawn(dir.path(), vec![], tx).unwrap();
        for i in 0..10_000 {
            std::fs::write(dir.path().join(format!("d{}/f{i}.ts", i % 10)), "x").unwrap();
        }
        // However the kernel delivers them, a handful of messages at most.
        let mut messages = 0;
        let mut rescans = 0;
        while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
            messages += 1;
            if event == WatchEvent::Rescan {
                rescans += 1;
            }
        }
        assert!(rescans >= 1, "a 10,000-file burst asks for a rescan");
        assert!(messages <= 40, "{messages} messages for one burst");
    }
}
