//! Autosave: the one debouncer that turns edits into stored drafts.
//!
//! The editor sends a snapshot of what changed on every edit and never waits;
//! this task coalesces snapshots (the latest per path wins, and the latest
//! editor-state JSON) and writes them through a `DraftSink` 500 ms after the
//! last change, and no later than 1 s after the first unsaved one while
//! typing goes on. A failed write keeps the snapshot in memory, reports
//! `AutosaveReport::Failed` for the status bar and retries after 1 s, 2 s,
//! 4 s, … up to 10 s; the stored drafts stay the last ones that were written
//! whole. `Flush` writes at once and answers, for quit, SIGHUP and SIGTERM.
//!
//! It knows nothing of buffers or the terminal: what a snapshot holds is the
//! editor's to build, and where it goes is the sink's.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::store::drafts::Draft;
use crate::store::now_rfc3339;
use crate::store::worker::StoreHandle;

/// Quiet time after the last change before writing.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(500);
/// Longest a change waits while typing continues.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(1);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(10);

/// What became of one buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DraftChange {
    /// The buffer differs from its saved file: keep this draft.
    Edited {
        path: String,
        /// The buffer's text; a rope clone costs nothing to send, and it
        /// becomes a string only when it is written.
        content: ropey::Rope,
        /// SHA-256 hex of the saved content it was edited from; `None` for
        /// a file never saved.
        base_hash: Option<String>,
    },
    /// The buffer was saved, reverted or discarded: drop its draft.
    Clean { path: String },
}

pub(crate) enum AutosaveEvent {
    /// A snapshot of what changed in workspace `key`.
    Changed {
        key: String,
        drafts: Vec<DraftChange>,
        /// The TUI's editor-state JSON, when it changed.
        editor_state: Option<String>,
    },
    /// Write whatever is pending now; answers with the error message if
    /// that failed (the snapshot is then still pending and retried).
    Flush(oneshot::Sender<Result<(), String>>),
    /// One last write of whatever is pending, then stop.
    Quit,
}

/// What the status bar shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AutosaveReport {
    /// Everything pending was written; clears an earlier `Failed`.
    Saved { at: SystemTime, drafts: usize },
    /// A write failed; the text is kept in memory and written again after
    /// `retry_in` (or at the next `Flush`).
    Failed { message: String, retry_in: Duration },
}

/// One workspace's coalesced changes, as the sink writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AutosaveBatch {
    pub key: String,
    pub upserts: Vec<Draft>,
    pub removals: Vec<String>,
    pub editor_state: Option<String>,
}

pub(crate) type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where autosave writes; the store worker in the app, a fake in tests.
pub(crate) trait DraftSink: Send + Sync + 'static {
    /// Writes `batch`; all of its drafts or none of them.
    fn write(&self, batch: &AutosaveBatch) -> impl Future<Output = Result<(), SinkError>> + Send;
}

impl DraftSink for StoreHandle {
    async fn write(&self, batch: &AutosaveBatch) -> Result<(), SinkError> {
        // Both are queued before either is awaited, so they run back to back.
        let drafts = (!batch.upserts.is_empty() || !batch.removals.is_empty())
            .then(|| self.save_drafts(&batch.key, batch.upserts.clone(), batch.removals.clone()));
        let state = batch
            .editor_state
            .as_deref()
            .map(|json| self.save_editor_state(&batch.key, json));
        if let Some(drafts) = drafts {
            drafts.await?;
        }
        if let Some(state) = state {
            state.await?;
        }
        Ok(())
    }
}

/// Changes of one workspace not written yet; a `None` draft is a removal.
#[derive(Default)]
struct Pending {
    drafts: BTreeMap<String, Option<PendingDraft>>,
    editor_state: Option<String>,
}

/// A draft waiting for its write, its text still a rope.
struct PendingDraft {
    content: ropey::Rope,
    base_hash: Option<String>,
    updated_at: String,
}

/// The autosave task's state; see the module docs.
pub(crate) struct Autosave<S> {
    sink: S,
    reports: mpsc::UnboundedSender<AutosaveReport>,
    pending: BTreeMap<String, Pending>,
    /// The first and last change not written yet.
    first_change: Option<Instant>,
    last_change: Option<Instant>,
    /// Failed writes in a row, and when to try again.
    failures: u32,
    retry_at: Option<Instant>,
}

impl<S: DraftSink> Autosave<S> {
    /// Starts the task on the current tokio runtime. Sending on the returned
    /// channel never blocks; the task ends after `Quit` or when every
    /// sender is dropped, writing what is pending first.
    pub(crate) fn spawn(
        sink: S,
        reports: mpsc::UnboundedSender<AutosaveReport>,
    ) -> (mpsc::UnboundedSender<AutosaveEvent>, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let autosave = Autosave {
            sink,
            reports,
            pending: BTreeMap::new(),
            first_change: None,
            last_change: None,
            failures: 0,
            retry_at: None,
        };
        (tx, tokio::spawn(autosave.run(rx)))
    }

    async fn run(mut self, mut events: mpsc::UnboundedReceiver<AutosaveEvent>) {
        loop {
            let deadline = self.deadline();
            tokio::select! {
                // The timer first: a steady stream of edits must not starve
                // the 1 s cap.
                biased;
                () = sleep_until(deadline) => {
                    let _ = self.finish_debounce().await;
                }
                event = events.recv() => match event {
                    Some(AutosaveEvent::Changed { key, drafts, editor_state }) => {
                        self.handle_change(key, drafts, editor_state);
                    }
                    Some(AutosaveEvent::Flush(ack)) => {
                        let outcome = self.finish_debounce().await;
                        let _ = ack.send(outcome);
                    }
                    Some(AutosaveEvent::Quit) | None => {
                        if let Err(message) = self.finish_debounce().await {
                            tracing::error!(%message, "autosave could not write before quitting");
                        }
                        return;
                    }
                },
            }
        }
    }

    fn handle_change(&mut self, key: String, drafts: Vec<DraftChange>, state: Option<String>) {
        if drafts.is_empty() && state.is_none() {
            return;
        }
        let pending = self.pending.entry(key).or_default();
        let now = now_rfc3339();
        for change in drafts {
            match change {
                DraftChange::Edited {
                    path,
                    content,
                    base_hash,
                } => {
                    let draft = PendingDraft {
                        content,
                        base_hash,
                        updated_at: now.clone(),
                    };
                    pending.drafts.insert(path, Some(draft));
                }
                DraftChange::Clean { path } => {
                    pending.drafts.insert(path, None);
                }
            }
        }
        if state.is_some() {
            pending.editor_state = state;
        }
        let now = Instant::now();
        self.last_change = Some(now);
        self.first_change.get_or_insert(now);
    }

    /// When to write next: on the retry schedule after a failure, else the
    /// debounce capped by the maximum delay.
    fn deadline(&self) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        if self.retry_at.is_some() {
            return self.retry_at;
        }
        let debounced = self.last_change? + DEBOUNCE;
        Some(debounced.min(self.first_change? + MAX_DELAY))
    }

    /// Writes everything pending, one batch per workspace, and reports.
    async fn finish_debounce(&mut self) -> Result<(), String> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut written = 0;
        while let Some((key, pending)) = self.pending.pop_first() {
            let batch = into_batch(key, pending);
            if let Err(e) = self.sink.write(&batch).await {
                self.restore(batch);
                return Err(self.failed(e.to_string()));
            }
            written += batch.upserts.len();
        }
        self.first_change = None;
        self.last_change = None;
        self.failures = 0;
        self.retry_at = None;
        let _ = self.reports.send(AutosaveReport::Saved {
            at: SystemTime::now(),
            drafts: written,
        });
        Ok(())
    }

    fn failed(&mut self, message: String) -> String {
        self.failures = self.failures.saturating_add(1);
        let retry_in = backoff(self.failures);
        self.retry_at = Some(Instant::now() + retry_in);
        tracing::warn!(%message, failures = self.failures, ?retry_in, "autosave failed");
        let _ = self.reports.send(AutosaveReport::Failed {
            message: message.clone(),
            retry_in,
        });
        message
    }

    /// Puts a batch that failed back; anything newer pending for the same
    /// path wins over it.
    fn restore(&mut self, batch: AutosaveBatch) {
        let pending = self.pending.entry(batch.key).or_default();
        for draft in batch.upserts {
            pending
                .drafts
                .entry(draft.path)
                .or_insert(Some(PendingDraft {
                    content: ropey::Rope::from_str(&draft.content),
                    base_hash: draft.base_hash,
                    updated_at: draft.updated_at,
                }));
        }
        for path in batch.removals {
            pending.drafts.entry(path).or_insert(None);
        }
        if pending.editor_state.is_none() {
            pending.editor_state = batch.editor_state;
        }
    }
}

/// Asks the task to write now and waits for the answer.
pub(crate) async fn flush(events: &mpsc::UnboundedSender<AutosaveEvent>) -> Result<(), String> {
    let (ack, answer) = oneshot::channel();
    events
        .send(AutosaveEvent::Flush(ack))
        .map_err(|_| "autosave has stopped".to_string())?;
    answer
        .await
        .map_err(|_| "autosave has stopped".to_string())?
}

fn into_batch(key: String, pending: Pending) -> AutosaveBatch {
    let mut upserts = Vec::new();
    let mut removals = Vec::new();
    for (path, draft) in pending.drafts {
        match draft {
            Some(draft) => upserts.push(Draft {
                path,
                content: draft.content.to_string(),
                base_hash: draft.base_hash,
                updated_at: draft.updated_at,
            }),
            None => removals.push(path),
        }
    }
    AutosaveBatch {
        key,
        upserts,
        removals,
        editor_state: pending.editor_state,
    }
}

/// 1 s, 2 s, 4 s, … capped at 10 s, for the `failures`-th failure in a row.
fn backoff(failures: u32) -> Duration {
    let doubled = FIRST_RETRY.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)));
    doubled.min(MAX_RETRY)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    use tokio::time::advance;

    use super::*;
    use crate::store::{Store, drafts};

    const KEY: &str = "ws:site";

    /// Records every write and fails the first `failures` of them.
    #[derive(Clone, Default)]
    struct RecordingSink {
        writes: Arc<Mutex<Vec<(Instant, AutosaveBatch)>>>,
        failures: Arc<AtomicU32>,
    }

    impl RecordingSink {
        fn writes(&self) -> Vec<(Instant, AutosaveBatch)> {
            self.writes.lock().unwrap().clone()
        }
    }

    impl DraftSink for RecordingSink {
        async fn write(&self, batch: &AutosaveBatch) -> Result<(), SinkError> {
            self.writes
                .lock()
                .unwrap()
                .push((Instant::now(), batch.clone()));
            let failing = self
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                Err("database is locked".into())
            } else {
                Ok(())
            }
        }
    }

    /// Writes into a real store, synchronously: a worker thread would let
    /// the paused clock run ahead while the test waits for its answer.
    #[derive(Clone)]
    struct StoreSink {
        store: Arc<Mutex<Store>>,
        attempts: Arc<Mutex<Vec<Instant>>>,
    }

    impl DraftSink for StoreSink {
        async fn write(&self, batch: &AutosaveBatch) -> Result<(), SinkError> {
            self.attempts.lock().unwrap().push(Instant::now());
            let mut store = self.store.lock().unwrap();
            drafts::save_batch(&mut store.conn, &batch.key, &batch.upserts, &batch.removals)?;
            Ok(())
        }
    }

    fn edit(events: &mpsc::UnboundedSender<AutosaveEvent>, path: &str, content: &str) {
        let change = DraftChange::Edited {
            path: path.to_string(),
            content: ropey::Rope::from_str(content),
            base_hash: None,
        };
        events
            .send(AutosaveEvent::Changed {
                key: KEY.to_string(),
                drafts: vec![change],
                editor_state: None,
            })
            .unwrap();
    }

    /// Lets the autosave task run until it waits again.
    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    async fn step(by: Duration) {
        advance(by).await;
        settle().await;
    }

    fn contents(batch: &AutosaveBatch) -> Vec<(&str, &str)> {
        batch
            .upserts
            .iter()
            .map(|d| (d.path.as_str(), d.content.as_str()))
            .collect()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test(start_paused = true)]
    async fn debounce_writes_once_after_a_burst() {
        let sink = RecordingSink::default();
        let (reports, mut report_rx) = mpsc::unbounded_channel();
        let (events, _task) = Autosave::spawn(sink.clone(), reports);
        let start = Instant::now();

        for i in 0..4 {
            edit(&events, "a.ts", &format!("v{i}"));
            settle().await;
            step(ms(100)).await;
        }
        step(ms(399)).await;
        assert!(sink.writes().is_empty(), "wrote before 500 ms of quiet");
        step(ms(1)).await;
        step(Duration::from_secs(5)).await;

        let writes = sink.writes();
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].0 - start, ms(800));
        assert_eq!(contents(&writes[0].1), [("a.ts", "v3")]);
        assert!(matches!(
            report_rx.try_recv(),
            Ok(AutosaveReport::Saved { drafts: 1, .. })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn continuous_typing_is_written_at_least_every_second() {
        let sink = RecordingSink::default();
        let (reports, _report_rx) = mpsc::unbounded_channel();
        let (events, _task) = Autosave::spawn(sink.clone(), reports);
        let start = Instant::now();

        // A keystroke every 200 ms never leaves 500 ms of quiet.
        for i in 0..10 {
            edit(&events, "a.ts", &format!("v{i}"));
            settle().await;
            step(ms(200)).await;
        }

        let writes = sink.writes();
        let times: Vec<Duration> = writes.iter().map(|(at, _)| *at - start).collect();
        assert_eq!(times, [ms(1000), ms(2000)]);
        assert_eq!(contents(&writes[0].1), [("a.ts", "v4")]);
        assert_eq!(contents(&writes[1].1), [("a.ts", "v9")]);
    }

    #[tokio::test(start_paused = true)]
    async fn flush_writes_at_once_and_answers() {
        let sink = RecordingSink::default();
        let (reports, _report_rx) = mpsc::unbounded_channel();
        let (events, _task) = Autosave::spawn(sink.clone(), reports);
        let start = Instant::now();

        edit(&events, "a.ts", "typed");
        let flushed = flush(&events).await;

        assert_eq!(flushed, Ok(()));
        let writes = sink.writes();
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].0, start);
        step(Duration::from_secs(3)).await;
        assert_eq!(sink.writes().len(), 1, "nothing left to write");
    }

    #[tokio::test(start_paused = true)]
    async fn quit_writes_what_is_pending_and_stops() {
        let sink = RecordingSink::default();
        let (reports, _report_rx) = mpsc::unbounded_channel();
        let (events, task) = Autosave::spawn(sink.clone(), reports);

        edit(&events, "a.ts", "typed");
        events.send(AutosaveEvent::Quit).unwrap();
        task.await.unwrap();

        assert_eq!(contents(&sink.writes()[0].1), [("a.ts", "typed")]);
    }

    #[tokio::test(start_paused = true)]
    async fn coalescing_keeps_the_latest_per_path_and_latest_state() {
        let sink = RecordingSink::default();
        let (reports, _report_rx) = mpsc::unbounded_channel();
        let (events, _task) = Autosave::spawn(sink.clone(), reports);
        let changed = |drafts: Vec<DraftChange>, state: Option<&str>| AutosaveEvent::Changed {
            key: KEY.to_string(),
            drafts,
            editor_state: state.map(str::to_string),
        };
        let edited = |path: &str, content: &str| DraftChange::Edited {
            path: path.to_string(),
            content: ropey::Rope::from_str(content),
            base_hash: Some("h".to_string()),
        };
        let clean = |path: &str| DraftChange::Clean {
            path: path.to_string(),
        };

        events
            .send(changed(
                vec![edited("a.ts", "a1"), edited("b.ts", "b1")],
                Some("s1"),
            ))
            .unwrap();
        events
            .send(changed(
                vec![edited("a.ts", "a2"), edited("c.ts", "c1")],
                None,
            ))
            .unwrap();
        events
            .send(changed(vec![clean("c.ts"), clean("d.ts")], Some("s2")))
            .unwrap();
        events.send(changed(vec![], Some("s3"))).unwrap();
        settle().await;
        step(DEBOUNCE).await;

        let writes = sink.writes();
        assert_eq!(writes.len(), 1);
        let batch = &writes[0].1;
        assert_eq!(contents(batch), [("a.ts", "a2"), ("b.ts", "b1")]);
        assert_eq!(batch.removals, ["c.ts", "d.ts"]);
        assert_eq!(batch.editor_state.as_deref(), Some("s3"));
    }

    #[tokio::test(start_paused = true)]
    async fn failed_write_keeps_last_good_draft_and_retries_with_backoff() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Mutex::new(Store::open(dir.path()).unwrap()));
        let sink = StoreSink {
            store: Arc::clone(&store),
            attempts: Arc::default(),
        };
        let (reports, mut report_rx) = mpsc::unbounded_channel();
        let (events, _task) = Autosave::spawn(sink.clone(), reports);
        let stored = || {
            let store = store.lock().unwrap();
            let drafts = drafts::list(&store.conn, KEY).unwrap();
            drafts.into_iter().map(|d| d.content).collect::<Vec<_>>()
        };

        edit(&events, "a.ts", "good");
        settle().await;
        step(DEBOUNCE).await;
        assert_eq!(stored(), ["good"]);
        assert!(matches!(
            report_rx.try_recv(),
            Ok(AutosaveReport::Saved { .. })
        ));
        // The disk fills up.
        store
            .lock()
            .unwrap()
            .conn
            .execute_batch(
                "CREATE TRIGGER full BEFORE INSERT ON drafts
                 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
            )
            .unwrap();

        edit(&events, "a.ts", "newer");
        settle().await;
        let failed_at = Instant::now() + DEBOUNCE;
        step(DEBOUNCE).await;
        for retry_in in [1, 2, 4] {
            let retry_in = Duration::from_secs(retry_in);
            assert_eq!(stored(), ["good"], "last good draft kept");
            match report_rx.try_recv() {
                Ok(AutosaveReport::Failed {
                    message,
                    retry_in: reported,
                }) => {
                    assert!(message.contains("disk is full"), "{message}");
                    assert_eq!(reported, retry_in);
                }
                other => panic!("expected a failure report, got {other:?}"),
            }
            step(retry_in - ms(1)).await;
            assert!(report_rx.try_recv().is_err(), "retried early");
            if retry_in == Duration::from_secs(4) {
                store
                    .lock()
                    .unwrap()
                    .conn
                    .execute_batch("DROP TRIGGER full")
                    .unwrap();
            }
            step(ms(1)).await;
        }

        assert_eq!(stored(), ["newer"]);
        assert!(matches!(
            report_rx.try_recv(),
            Ok(AutosaveReport::Saved { drafts: 1, .. })
        ));
        let attempts: Vec<Duration> = sink.attempts.lock().unwrap()[1..]
            .iter()
            .map(|at| *at - failed_at)
            .collect();
        assert_eq!(
            attempts,
            [ms(0), ms(1000), ms(3000), ms(7000)],
            "retries after 1 s, 2 s, 4 s"
        );
    }

    #[test]
    fn backoff_doubles_from_one_second_up_to_ten() {
        let secs: Vec<u64> = (1..=7).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10, 10]);
        assert_eq!(backoff(u32::MAX), MAX_RETRY);
    }
}
