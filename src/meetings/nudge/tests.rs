//! Nudges on tokio's paused clock through a real runner, and the webhook
//! against a local server, failures to the dead letter included.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::ai::client::tests::{Answer, serve};
use crate::config::Config;
use crate::jobs::queue::{self, Role};
use crate::jobs::{Status, now_ms, runner};
use crate::meetings::fixture;
use crate::store::Store;
use crate::store::meetings::Consent;

const HOUR: u64 = 3600;

fn rows(dir: &std::path::Path, channel: &str) -> Vec<actions::NudgeRow> {
    let store = Store::open(dir).unwrap();
    actions::nudges(&store.conn, 1)
        .unwrap()
        .into_iter()
        .filter(|n| n.channel == channel)
        .collect()
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_item_untouched_for_48_hours_is_nudged_once_a_day() {
    let dir = tempfile::tempdir().unwrap();
    let base = 1_800_000_000_000;
    {
        let mut store = Store::open(dir.path()).unwrap();
        let id = fixture::meeting(&mut store.conn, "s", base - 3_600_000, Consent::Basic);
        // The action item, last touched at `base`.
        actions::add(
            &store.conn,
            &actions::NewAction {
                meeting_id: id,
                text: "send the offer",
                owner: Some("ann@example.com"),
                due: None,
            },
            base,
        )
        .unwrap();
    }
    let clock = Clock::tokio(base);
    let config = Arc::new(Config::load(Some(dir.path().to_path_buf())).unwrap());
    let mut o = runner::Options::new(dir.path().to_path_buf(), config, Role::Worker);
    o.clock = clock;
    o.poll = Duration::from_secs(600);
    o.kinds.register(Arc::new(NudgeJob::on(clock)));
    let handle = runner::spawn(o).unwrap();

    tokio::time::sleep(Duration::from_secs(47 * HOUR)).await;
    assert!(
        rows(dir.path(), "badge").is_empty(),
        "nudged before 48 hours"
    );
    tokio::time::sleep(Duration::from_secs(2 * HOUR)).await;
    let first = rows(dir.path(), "badge");
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].at >= base + 48 * 3_600_000);
    // Still untouched 11 hours later: no second nudge within 24 hours.
    tokio::time::sleep(Duration::from_secs(11 * HOUR)).await;
    assert_eq!(rows(dir.path(), "badge").len(), 1);
    tokio::time::sleep(Duration::from_secs(14 * HOUR)).await;
    let again = rows(dir.path(), "badge");
    assert_eq!(again.len(), 2, "{again:?}");
    assert!(again[1].at - again[0].at >= ONCE_PER_MS);
    // A user's touch resets the wait.
    {
        let store = Store::open(dir.path()).unwrap();
        let now = clock.now();
        actions::set_status(&store.conn, 1, actions::ActionStatus::Doing, now).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(40 * HOUR)).await;
    assert_eq!(rows(dir.path(), "badge").len(), 2, "touched 40 hours ago");
    handle.shutdown().await.unwrap();
    // The routine's job logs name ids, never the item's text.
    let store = Store::open(dir.path()).unwrap();
    let jobs = queue::list(&store.conn, &queue::Filter::default()).unwrap();
    for job in jobs.iter().filter(|j| j.kind == NUDGE) {
        assert_eq!(job.status, Status::Succeeded);
        for line in queue::logs_after(&store.conn, job.id, -1, 1000).unwrap() {
            assert!(!line.line.contains("send the offer"), "{}", line.line);
        }
    }
}

/// Runs one webhook job for action 1 against `answers`, with `attempts`.
async fn webhook(answers: Vec<Answer>, attempts: u32) -> (tempfile::TempDir, Job, Vec<String>) {
    let (url, seen) = serve(answers);
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let mut store = Store::open(dir.path()).unwrap();
        let meeting = fixture::meeting(&mut store.conn, "s", 0, Consent::Basic);
        fixture::fill(&mut store.conn, meeting, "HOOK");
        let mut new = WebhookPayload {
            action: 1,
            url: format!("{url}/hook"),
        }
        .job(None);
        new.max_attempts = attempts;
        queue::enqueue(&mut store.conn, &new, now_ms()).unwrap()
    };
    let config = Arc::new(Config::load(Some(dir.path().to_path_buf())).unwrap());
    let mut o = runner::Options::new(dir.path().to_path_buf(), config, Role::Worker);
    o.only = Some(id);
    o.run_schedules = false;
    o.poll = Duration::from_millis(20);
    let handle = runner::spawn(o).unwrap();
    tokio::time::timeout(Duration::from_secs(60), handle.wait())
        .await
        .expect("the job ends")
        .unwrap();
    let job = queue::require(&Store::open(dir.path()).unwrap().conn, id).unwrap();
    let bodies = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.body.clone())
        .collect();
    (dir, job, bodies)
}

use crate::jobs::queue::Job;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_gets_the_item_as_json() {
    let (dir, job, bodies) = webhook(vec![Answer::error(204, "")], 2).await;
    assert_eq!(job.status, Status::Succeeded);
    let body: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(body["event"], "kollega.nudge");
    assert_eq!(body["action"]["text"], "action HOOK");
    assert_eq!(body["action"]["owner"], "ann@example.com");
    assert_eq!(body["meeting"]["title"], "Vendor review");
    let logged = rows(dir.path(), "webhook");
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].outcome, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_webhook_is_retried_then_dead_lettered_and_logged() {
    let (dir, job, bodies) =
        webhook(vec![Answer::error(500, "{}"), Answer::error(503, "{}")], 2).await;
    assert_eq!(bodies.len(), 2, "tried twice");
    assert_eq!(job.status, Status::Dead);
    let error = job.error.unwrap_or_default();
    assert!(error.contains("503"), "{error}");
    assert!(error.contains("kollega jobs retry"), "{error}");
    let logged: Vec<(String, Option<String>)> = rows(dir.path(), "webhook")
        .into_iter()
        .map(|n| (n.outcome, n.error))
        .collect();
    assert_eq!(logged.len(), 2);
    assert_eq!(logged[0].0, "failed");
    assert_eq!(logged[1].0, "dead");
    assert!(logged[1].1.as_deref().unwrap_or_default().contains("503"));
}
