//! The review and the AI pane through the harness: decisions stored as
//! keys are pressed and found again after a restart, and an `ask` job
//! queued from the AI pane whose answer streams in and opens its patch.

use super::*;
use crate::jobs::queue::{self as job_queue, Outcome as JobOutcome, Stream};
use crate::store::patches::{self, Decision, NewPatch, Source};
use crate::tui::panes::ai::AskState;

const DIFF: &str = "\
diff --git a/lib/cart.ts b/lib/cart.ts
--- a/lib/cart.ts
+++ b/lib/cart.ts
@@ -1,3 +1,3 @@
-export function total(items: number[]): number {
+export function total(prices: number[]): number {
   return items.reduce((a, b) => a + b, 0);
 }
diff --git a/README.md b/README.md
--- a/README.md
+++ b/README.md
@@ -1,3 +1,3 @@
 # Shop
 
-A small shop.
+A small shop, reviewed.
";

fn insert_patch(data: &Path) -> i64 {
    let mut store = Store::open(data).unwrap();
    patches::insert(
        &mut store.conn,
        &NewPatch {
            workspace_key: "ws:shop",
            source: Source::Ask,
            job_id: None,
            conversation_id: None,
            title: "rename items",
            message: None,
            diff: DIFF,
        },
        1,
    )
    .unwrap()
}

fn stored_decisions(data: &Path, id: i64) -> Vec<(Decision, Option<String>)> {
    let store = Store::open(data).unwrap();
    patches::decisions(&store.conn, id)
        .unwrap()
        .into_iter()
        .map(|d| (d.decision, d.reason))
        .collect()
}

#[tokio::test]
async fn review_keys_store_decisions_that_survive_a_restart() {
    let mut f = fixture(None).await;
    let id = insert_patch(&f.data);
    f.h.app.open_review(id);
    assert!(f.h.settle().await);
    assert_eq!(f.h.app.focus, Focus::Review);
    let screen = draw(&mut f.h, 100, 30);
    assert!(
        screen.contains("rename items") && screen.contains("lib/cart.ts"),
        "{screen}"
    );

    f.h.key("y");
    assert!(f.h.settle().await);
    f.h.key("n");
    f.h.type_text("keep the wording");
    f.h.key("enter");
    assert!(f.h.settle().await);
    assert_eq!(
        stored_decisions(&f.data, id),
        [
            (Decision::Accepted, None),
            (Decision::Rejected, Some("keep the wording".into()))
        ]
    );
    let screen = draw(&mut f.h, 100, 30);
    assert!(
        screen.contains("✓1 ✗0") && screen.contains("✗1"),
        "{screen}"
    );

    // The help lists the review's keys.
    f.h.key("?");
    let screen = draw(&mut f.h, 100, 30);
    assert!(screen.contains("accept the hunk"), "{screen}");
    f.h.key("esc");

    // w writes through the one function the app calls for it.
    f.h.key("w");
    assert!(f.h.settle().await);
    let message = f.h.status_message().unwrap_or_default().to_string();
    assert!(
        message.contains(&format!("patch {id}: 1 hunk written")),
        "{message}"
    );
    // It names the key that takes it back, not the action's name.
    assert!(message.ends_with("; u takes it back"), "{message}");
    let store = Store::open(&f.data).unwrap();
    let ws = crate::store::workspaces::find(&store.conn, "shop")
        .unwrap()
        .unwrap();
    let text = crate::store::files::content(&store.conn, ws.id, "lib/cart.ts").unwrap();
    assert!(format!("{text:?}").contains("prices: number[]"), "{text:?}");
    drop(store);

    // A new start finds the decisions where they were left.
    f.h.key("q");
    assert_ne!(f.h.app.focus, Focus::Review);
    drop(f.h);
    let mut h = harness_on(&f.data, Target::Workspace("shop".into()), None).await;
    h.app.open_review(id);
    assert!(h.settle().await);
    let pane = h.app.review.pane.as_ref().unwrap();
    assert_eq!(pane.decision((0, 0)).unwrap().0, Decision::Accepted);
    assert_eq!(
        pane.decision((1, 0)).unwrap().1.as_deref(),
        Some("keep the wording")
    );
}

#[tokio::test]
async fn a_missing_patch_is_named() {
    let mut f = fixture(None).await;
    f.h.app.open_review(999);
    assert!(f.h.settle().await);
    let message = f.h.status_message().unwrap_or_default().to_string();
    assert!(message.contains("no patch 999"), "{message}");
    assert_ne!(f.h.app.focus, Focus::Review);
}

#[tokio::test]
async fn the_ai_pane_queues_an_ask_job_streams_its_answer_and_opens_the_review() {
    let mut f = fixture(None).await;
    f.h.app.open_file("lib/cart.ts", None);
    assert!(f.h.settle().await);
    f.h.key("alt-a");
    assert!(f.h.settle().await);
    assert_eq!(f.h.app.focus, Focus::Ai);
    f.h.type_text("rename items to prices");
    let screen = draw(&mut f.h, 100, 30);
    assert!(
        screen.contains("lib/cart.ts (open) ~24 tokens")
            && screen.contains("rename items to prices"),
        "{screen}"
    );
    f.h.key("ctrl-s");
    assert!(f.h.settle().await);
    let AskState::Running { id: job } = f.h.app.ai.pane.state else {
        panic!("{:?}", f.h.app.ai.pane.state);
    };
    let patch_id = insert_patch(&f.data);
    {
        let mut store = Store::open(&f.data).unwrap();
        let row = job_queue::require(&store.conn, job).unwrap();
        assert_eq!(row.kind.as_str(), "ask");
        assert_eq!(row.workspace.as_deref(), Some("shop"));
        assert_eq!(row.payload["prompt"], "rename items to prices");
        assert_eq!(row.payload["files"], serde_json::json!(["lib/cart.ts"]));
        // The ask kind answers: a line of text, then its patch.
        let c = &mut store.conn;
        let now = crate::jobs::now_ms();
        assert!(
            job_queue::claim_id(c, job, "test:1", now, 60_000)
                .unwrap()
                .is_some()
        );
        let tx = c.transaction().unwrap();
        let lines = vec![(Stream::Stdout, now, "Renaming the parameter.".to_string())];
        job_queue::append_logs(&tx, job, 1, &lines, 0, 2000).unwrap();
        tx.commit().unwrap();
    }
    f.h.app.poll();
    assert!(f.h.settle().await);
    let screen = draw(&mut f.h, 100, 30);
    assert!(screen.contains("Renaming the parameter."), "{screen}");
    assert_eq!(f.h.app.focus, Focus::Ai);
    {
        let mut store = Store::open(&f.data).unwrap();
        let result = serde_json::json!({"patchId": patch_id, "files": 2, "hunks": 2, "usage": {}});
        job_queue::finish(
            &mut store.conn,
            job,
            "test:1",
            &JobOutcome::Succeeded(result),
            crate::jobs::now_ms(),
        )
        .unwrap();
    }
    f.h.app.poll();
    assert!(f.h.settle().await);
    assert_eq!(
        f.h.app.focus,
        Focus::Review,
        "{:?} {:?}",
        f.h.app.ai.pane.state,
        f.h.status_message()
    );
    assert_eq!(
        f.h.app.review.pane.as_ref().map(|p| p.patch_id),
        Some(patch_id)
    );
}

#[tokio::test]
async fn a_review_opened_at_start_keeps_the_keys_once_the_workspace_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with_workspace(dir.path());
    drop(store);
    let id = insert_patch(&config.data_dir);
    let mut h = Harness::start(
        &config.data_dir,
        Target::Workspace("shop".into()),
        None,
        None,
        options(None),
    )
    .await
    .unwrap();
    h.app.open_review(id);
    assert!(h.settle().await);
    assert!(h.app.session.is_some());
    assert_eq!(h.app.focus, Focus::Review);
    h.key("esc");
    assert_eq!(h.app.focus, Focus::Tree);
}

#[tokio::test]
async fn the_ai_pane_shows_the_streamed_answer_at_once_and_the_stored_log_after_the_end() {
    let mut f = fixture(None).await;
    f.h.app.open_file("lib/cart.ts", None);
    assert!(f.h.settle().await);
    f.h.key("alt-a");
    f.h.type_text("rename items to prices");
    f.h.key("ctrl-s");
    assert!(f.h.settle().await);
    let AskState::Running { id: job } = f.h.app.ai.pane.state else {
        panic!("{:?}", f.h.app.ai.pane.state);
    };
    use crate::jobs::runner::Event as RunnerEvent;
    // Text of another job is not this pane's.
    assert!(!f.h.app.job_event(RunnerEvent::Output {
        id: job + 1,
        text: "elsewhere".into(),
    }));
    assert!(f.h.app.job_event(RunnerEvent::Output {
        id: job,
        text: "Renaming the ".into(),
    }));
    assert!(f.h.app.job_event(RunnerEvent::Output {
        id: job,
        text: "parameter.\nThen the".into(),
    }));
    let screen = draw(&mut f.h, 100, 30);
    assert!(
        screen.contains("Renaming the parameter.") && screen.contains("Then the"),
        "{screen}"
    );
    assert!(!screen.contains("elsewhere"), "{screen}");
    // The poll brings the same text stored and a line of kollega's own:
    // the answer is shown once, the retry line between.
    {
        let mut store = Store::open(&f.data).unwrap();
        let c = &mut store.conn;
        let now = crate::jobs::now_ms();
        assert!(
            job_queue::claim_id(c, job, "test:1", now, 60_000)
                .unwrap()
                .is_some()
        );
        let tx = c.transaction().unwrap();
        let lines = vec![
            (Stream::Stdout, now, "Renaming the parameter.".to_string()),
            (Stream::Info, now, "[kollega] round 2 of 3".to_string()),
        ];
        job_queue::append_logs(&tx, job, 1, &lines, 0, 2000).unwrap();
        tx.commit().unwrap();
    }
    f.h.app.poll();
    assert!(f.h.settle().await);
    let screen = draw(&mut f.h, 100, 30);
    assert_eq!(
        screen.matches("Renaming the parameter.").count(),
        1,
        "{screen}"
    );
    assert!(screen.contains("round 2 of 3"), "{screen}");
    {
        let mut store = Store::open(&f.data).unwrap();
        job_queue::finish(
            &mut store.conn,
            job,
            "test:1",
            &JobOutcome::Succeeded(serde_json::json!({"patchId": null})),
            crate::jobs::now_ms(),
        )
        .unwrap();
    }
    f.h.app.poll();
    assert!(f.h.settle().await);
    assert!(matches!(f.h.app.ai.pane.state, AskState::Done { .. }));
    let screen = draw(&mut f.h, 100, 30);
    // No call of this process yet: no usage in the status bar.
    assert!(!screen.contains("AI "), "{screen}");
    // After the end: the stored log, without the unfinished live line.
    assert!(
        screen.contains("Renaming the parameter.") && !screen.contains("Then the"),
        "{screen}"
    );
}

#[tokio::test]
async fn the_status_bar_shows_the_ai_usage_once_an_ask_job_ends() {
    use crate::store::ai_calls::{self, NewCall};
    let mut f = fixture(None).await;
    f.h.app.open_file("lib/cart.ts", None);
    assert!(f.h.settle().await);
    let key = f.h.app.session.as_ref().unwrap().key.clone();
    f.h.key("alt-a");
    f.h.type_text("rename items to prices");
    f.h.key("ctrl-s");
    assert!(f.h.settle().await);
    let AskState::Running { id: job } = f.h.app.ai.pane.state else {
        panic!("{:?}", f.h.app.ai.pane.state);
    };
    {
        let mut store = Store::open(&f.data).unwrap();
        let call = |session, tokens, cost| NewCall {
            workspace_key: Some(&key),
            job_id: Some(job),
            conversation_id: None,
            session,
            provider: "openai",
            model: "gpt-5.1",
            prompt_version: "edit.v1",
            response_id: None,
            input_tokens: tokens,
            output_tokens: 400,
            cached_tokens: 0,
            cost_micros: Some(cost),
            duration_ms: 900,
            outcome: "ok",
        };
        // This process's call, and an earlier one of another in the
        // same workspace.
        let here = crate::ai::usage::session();
        ai_calls::insert(&store.conn, &call(here, 12_000, 30_000), 2).unwrap();
        ai_calls::insert(&store.conn, &call("1-1", 100, 380_000), 1).unwrap();
        let c = &mut store.conn;
        let now = crate::jobs::now_ms();
        assert!(
            job_queue::claim_id(c, job, "test:1", now, 60_000)
                .unwrap()
                .is_some()
        );
        // Not shown before the job ends.
        drop(store);
        f.h.app.poll();
        assert!(f.h.settle().await);
        assert!(!draw(&mut f.h, 120, 30).contains("AI 12.4k"));
        let mut store = Store::open(&f.data).unwrap();
        job_queue::finish(
            &mut store.conn,
            job,
            "test:1",
            &JobOutcome::Succeeded(serde_json::json!({"patchId": null})),
            crate::jobs::now_ms(),
        )
        .unwrap();
    }
    f.h.app.poll();
    assert!(f.h.settle().await);
    let screen = draw(&mut f.h, 160, 30);
    let status = screen.lines().last().unwrap_or_default().to_string();
    assert!(status.contains("AI 12.4k tok $0.03 · ws $0.41"), "{screen}");
}
