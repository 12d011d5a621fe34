//! The store worker: one OS thread owning its own `Store`, so the UI never
//! waits on SQLite (a busy timeout, an fsync on a slow disk).
//!
//! Requests are closures queued on an unbounded channel and run in order;
//! each answers on its own oneshot channel. A request is queued when its
//! method is called, not when the returned future is first polled, so the
//! order of calls is the order of writes, and `StoreWorker::shutdown` waits
//! for every request queued before it. The typed methods of `StoreHandle`
//! are the whole interface; which queries they run is the modules beside
//! this one.

use crate::error::Hint;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::conversations::{self, Conversation};
use super::drafts::{self, Draft};
use super::locks::{self, LockOutcome};
use super::patches::{self, Decision, HunkDecision, PatchRow};
use super::{Store, StoreError, editor_state, now_ms};

/// A patch row, its decisions and its duplicate warnings.
pub(crate) type LoadedPatch = (PatchRow, Vec<HunkDecision>, Vec<String>);

/// Why a request to the worker did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the store worker stopped before answering")]
    Stopped,
}

impl Hint for WorkerError {
    fn hint(&self) -> String {
        let hint = match self {
            WorkerError::Store(e) => return e.hint(),
            WorkerError::Stopped => {
                "restart kollega; unsaved text stays in memory until it is written"
            }
        };
        hint.into()
    }
}

type Job = Box<dyn FnOnce(&mut Store) + Send>;

enum Message {
    Job(Job),
    Shutdown,
}

/// The worker thread; dropping it without `shutdown` lets the thread run
/// until every handle is gone.
pub(crate) struct StoreWorker {
    handle: StoreHandle,
    thread: JoinHandle<()>,
}

/// A cheap, cloneable way to send requests to the worker.
#[derive(Clone)]
pub(crate) struct StoreHandle {
    tx: mpsc::UnboundedSender<Message>,
}

impl StoreWorker {
    /// Opens a second connection to the store in `data_dir` and starts the
    /// worker thread on it. Opening happens here so that its errors reach
    /// the caller directly.
    pub(crate) fn spawn(data_dir: &Path) -> Result<StoreWorker, StoreError> {
        let store = Store::open(data_dir)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("kollega-store".to_string())
            .spawn(move || run(store, rx))
            .map_err(|e| StoreError::open(data_dir, e))?;
        Ok(StoreWorker {
            handle: StoreHandle { tx },
            thread,
        })
    }

    pub(crate) fn handle(&self) -> StoreHandle {
        self.handle.clone()
    }

    /// Blocks until every request queued before this call is done, then
    /// stops the thread. Requests queued later answer `Stopped`. Call it on
    /// the way out (quit, SIGHUP, SIGTERM) after the last autosave flush.
    pub(crate) fn shutdown(self) -> Result<(), WorkerError> {
        // A send error means the thread is already gone; join reports how.
        let _ = self.handle.tx.send(Message::Shutdown);
        self.thread.join().map_err(|_| WorkerError::Stopped)
    }
}

fn run(mut store: Store, mut rx: mpsc::UnboundedReceiver<Message>) {
    while let Some(message) = rx.blocking_recv() {
        match message {
            Message::Job(job) => {
                // A panicking request drops its reply sender (its caller gets
                // `Stopped`) and rolls back its transaction on unwind; the
                // thread keeps serving the others, autosave among them.
                if catch_unwind(AssertUnwindSafe(|| job(&mut store))).is_err() {
                    tracing::error!("a store worker request panicked");
                }
            }
            Message::Shutdown => break,
        }
    }
    tracing::debug!("store worker stopped");
}

impl StoreHandle {
    /// Queues `job` now; the future resolves with its answer.
    fn call<T, F>(&self, job: F) -> impl Future<Output = Result<T, WorkerError>> + Send + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            // The caller may have stopped waiting; the work is done anyway.
            let _ = reply.send(job(store));
        });
        let queued = self.tx.send(Message::Job(job)).is_ok();
        async move {
            if !queued {
                return Err(WorkerError::Stopped);
            }
            Ok(answer.await.map_err(|_| WorkerError::Stopped)??)
        }
    }

    /// Runs `job` on the worker's connection after everything queued
    /// before it, for callers whose queries live outside `store` (the
    /// jobs pane's polls and its enqueue, retry and cancel). Its answer,
    /// errors included, is the caller's.
    pub(crate) fn run<T, F>(
        &self,
        job: F,
    ) -> impl Future<Output = Result<T, WorkerError>> + Send + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> T + Send + 'static,
    {
        self.call(move |store| Ok(job(store)))
    }

    /// Writes `upserts` and deletes `removals` in one transaction.
    pub(crate) fn save_drafts(
        &self,
        key: &str,
        upserts: Vec<Draft>,
        removals: Vec<String>,
    ) -> impl Future<Output = Result<(), WorkerError>> + Send + use<> {
        let key = key.to_string();
        self.call(move |store| drafts::save_batch(&mut store.conn, &key, &upserts, &removals))
    }

    pub(crate) fn load_drafts(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Vec<Draft>, WorkerError>> + Send + use<> {
        let key = key.to_string();
        self.call(move |store| drafts::list(&store.conn, &key))
    }

    pub(crate) fn save_editor_state(
        &self,
        key: &str,
        state_json: &str,
    ) -> impl Future<Output = Result<(), WorkerError>> + Send + use<> {
        let (key, json) = (key.to_string(), state_json.to_string());
        self.call(move |store| editor_state::save(&store.conn, &key, &json))
    }

    pub(crate) fn load_editor_state(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, WorkerError>> + Send + use<> {
        let key = key.to_string();
        self.call(move |store| editor_state::load(&store.conn, &key))
    }

    /// Takes the lock of `key` for this process (see `locks::acquire`).
    pub(crate) fn acquire_lock(
        &self,
        key: &str,
        stale_after_secs: i64,
    ) -> impl Future<Output = Result<LockOutcome, WorkerError>> + Send + use<> {
        let key = key.to_string();
        self.call(move |store| {
            locks::acquire(
                &mut store.conn,
                &key,
                std::process::id(),
                &locks::hostname(),
                locks::now_unix(),
                stale_after_secs,
            )
        })
    }

    /// Refreshes this process's lock of `key`; false if it was lost.
    pub(crate) fn heartbeat(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<bool, WorkerError>> + Send + use<> {
        let key = key.to_string();
        self.call(move |store| locks::heartbeat(&store.conn, &key, std::process::id()))
    }

    /// Releases this process's lock of `key`, if it holds it.
    pub(crate) fn release_lock(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<bool, WorkerError>> + Send + use<> {
        let key = key.to_string();
        self.call(move |store| locks::release(&store.conn, &key, std::process::id()))
    }

    /// Patch `id`, the decisions on its hunks and the warnings about files
    /// it adds that look like existing ones, for the review pane.
    pub(crate) fn load_patch(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<Option<LoadedPatch>, WorkerError>> + Send + use<> {
        self.call(move |store| {
            let Some(row) = patches::get(&store.conn, id)? else {
                return Ok(None);
            };
            let decisions = patches::decisions(&store.conn, id)?;
            // The warnings are advice: a workspace that cannot be listed
            // still gets its review.
            let warnings = crate::patch::parse(row.diff.as_bytes())
                .ok()
                .and_then(|patch| {
                    crate::proposal::duplicate_warnings(store, &row.workspace_key, &patch).ok()
                })
                .unwrap_or_default();
            Ok(Some((row, decisions, warnings)))
        })
    }

    /// Records the review's decision on one hunk; whether the patch exists.
    pub(crate) fn decide_hunk(
        &self,
        id: i64,
        (file_index, hunk_index): (usize, usize),
        decision: Decision,
        reason: Option<String>,
    ) -> impl Future<Output = Result<bool, WorkerError>> + Send + use<> {
        self.call(move |store| {
            patches::decide(
                &store.conn,
                id,
                file_index,
                hunk_index,
                decision,
                reason.as_deref(),
                now_ms(),
            )
        })
    }

    /// Replaces one hunk by `parts` pending ones and stores the rewritten
    /// `diff` (see `patches::replace_hunk`).
    pub(crate) fn replace_hunk(
        &self,
        id: i64,
        (file_index, hunk_index): (usize, usize),
        parts: usize,
        diff: String,
    ) -> impl Future<Output = Result<bool, WorkerError>> + Send + use<> {
        self.call(move |store| {
            patches::split_hunk(
                &mut store.conn,
                id,
                file_index,
                hunk_index,
                parts,
                &diff,
                now_ms(),
            )
        })
    }

    /// The workspace's conversations, the latest first.
    pub(crate) fn conversations(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Vec<Conversation>, WorkerError>> + Send + use<> {
        let key = key.to_string();
        self.call(move |store| conversations::list(&store.conn, &key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(path: &str, content: &str) -> Draft {
        Draft {
            path: path.to_string(),
            content: content.to_string(),
            base_hash: None,
            updated_at: "2026-01-02T03:04:05Z".to_string(),
        }
    }

    #[tokio::test]
    async fn handle_round_trips_drafts_state_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        let worker = StoreWorker::spawn(dir.path()).unwrap();
        let store = worker.handle();

        store
            .save_drafts("ws:site", vec![draft("a.ts", "typed")], vec![])
            .await
            .unwrap();
        store
            .save_editor_state("ws:site", r#"{"tabs":[]}"#)
            .await
            .unwrap();

        assert_eq!(
            store.load_drafts("ws:site").await.unwrap(),
            vec![draft("a.ts", "typed")]
        );
        assert_eq!(
            store.load_editor_state("ws:site").await.unwrap().as_deref(),
            Some(r#"{"tabs":[]}"#)
        );
        assert_eq!(
            store.acquire_lock("ws:site", 30).await.unwrap(),
            LockOutcome::Acquired
        );
        assert!(store.heartbeat("ws:site").await.unwrap());
        assert!(store.release_lock("ws:site").await.unwrap());
        worker.shutdown().unwrap();
        assert!(matches!(
            store.load_drafts("ws:site").await,
            Err(WorkerError::Stopped)
        ));
    }

    #[tokio::test]
    async fn a_generic_request_runs_in_queue_order_with_its_own_answer() {
        let dir = tempfile::tempdir().unwrap();
        let worker = StoreWorker::spawn(dir.path()).unwrap();
        let handle = worker.handle();
        drop(handle.save_drafts("ws:site", vec![draft("a.ts", "first")], vec![]));
        let seen = handle
            .run(|store| {
                drafts::list(&store.conn, "ws:site")
                    .map(|d| d.into_iter().map(|d| d.content).collect::<Vec<_>>())
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(seen, vec!["first".to_string()]);
        worker.shutdown().unwrap();
        assert!(matches!(handle.run(|_| 1).await, Err(WorkerError::Stopped)));
    }

    #[test]
    fn shutdown_waits_for_writes_queued_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let worker = StoreWorker::spawn(dir.path()).unwrap();
        let handle = worker.handle();
        for i in 0..50 {
            // Nobody awaits these: queuing alone must be enough.
            drop(handle.save_drafts("ws:site", vec![draft("a.ts", &i.to_string())], vec![]));
        }

        worker.shutdown().unwrap();

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            drafts::list(&store.conn, "ws:site").unwrap(),
            vec![draft("a.ts", "49")]
        );
    }
}
