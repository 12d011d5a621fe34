//! The meeting dashboard through the harness, on a real store: a
//! transcript file attached by its path (read off the UI task, stored by
//! the same function as `kollega meetings transcript`), refused with the
//! file named when it cannot be read; and a post-brief asked for with `b`,
//! run as a real `brief` job against a local provider server, then shown
//! in the detail once the job has ended.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::ai::client::tests::{Answer, serve};
use crate::jobs::queue::{self as job_queue, Role};
use crate::jobs::{Status, runner};
use crate::meetings::fixture;
use crate::store::meetings::Consent;

/// Monday 7 December 2026, 12:00 UTC: the dashboard's clock.
const NOON: i64 = 1_796_644_800_000;

fn noon() -> i64 {
    NOON
}

/// The fixture with meeting "Vendor review" (10:00–11:00, ended) under
/// `consent`, the dashboard on a fixed clock in UTC: the meeting's id.
async fn dashboard(f: &mut Fixture, consent: Consent) -> i64 {
    let id = {
        let mut store = Store::open(&f.data).unwrap();
        let id = fixture::meeting(&mut store.conn, "vendor", NOON - 2 * 3_600_000, consent);
        fixture::fill(&mut store.conn, id, "MARK");
        id
    };
    let app = &mut f.h.app;
    app.meetings.clock = noon;
    app.meetings.pane.zone = chrono_tz::UTC;
    app.meetings.pane.now = NOON;
    f.h.key("alt-m");
    assert!(f.h.settle().await);
    assert_eq!(f.h.app.focus, Focus::Meetings);
    assert_eq!(
        f.h.app.meetings.pane.detail().map(|d| d.meeting.id),
        Some(id)
    );
    id
}

fn transcripts(data: &Path, id: i64) -> Vec<(String, String, Option<String>)> {
    let store = Store::open(data).unwrap();
    let mut stmt = store
        .conn
        .prepare(
            "SELECT source_name, format, cues FROM transcripts WHERE meeting_id = ?1 ORDER BY id",
        )
        .unwrap();
    stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

async fn attach(f: &mut Fixture, path: &str) -> String {
    f.h.key("t");
    assert!(f.h.settle().await);
    assert!(f.h.app.meetings.pane.form.is_some());
    f.h.type_text(path);
    f.h.key("enter");
    assert!(f.h.settle().await);
    f.h.status_message().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_transcript_file_is_attached_from_the_dashboard_and_shown() {
    let mut f = fixture(None).await;
    let id = dashboard(&mut f, Consent::Plus).await;
    let files = tempfile::tempdir().unwrap();
    let vtt = files.path().join("standup.vtt");
    std::fs::write(
        &vtt,
        "WEBVTT\n\n00:00.000 --> 00:02.000\nWe pick Acme.\n\n00:02.000 --> 00:05.000\nAnn signs.\n",
    )
    .unwrap();
    let said = attach(&mut f, &vtt.to_string_lossy()).await;
    assert_eq!(said, "transcript standup.vtt attached (vtt, 2 cues)");
    let stored = transcripts(&f.data, id);
    assert_eq!(stored.len(), 2, "the fixture's and the new one: {stored:?}");
    assert_eq!(stored[1].0, "standup.vtt");
    assert_eq!(stored[1].1, "vtt");
    assert!(stored[1].2.as_deref().unwrap().contains("We pick Acme."));
    let screen = draw(&mut f.h, 120, 40);
    assert!(
        screen.contains("standup.vtt (vtt, 2 cues") && screen.contains("call.txt (txt, 1 line,"),
        "{screen}"
    );
}

#[tokio::test]
async fn a_missing_or_malformed_transcript_is_named_and_nothing_is_stored() {
    let mut f = fixture(None).await;
    let id = dashboard(&mut f, Consent::Plus).await;
    let files = tempfile::tempdir().unwrap();
    let missing = files.path().join("nowhere.vtt");
    let said = attach(&mut f, &missing.to_string_lossy()).await;
    assert!(
        said.starts_with("transcript not attached: cannot read")
            && said.contains("nowhere.vtt")
            && said.contains("check the path"),
        "{said}"
    );
    let broken = files.path().join("broken.srt");
    std::fs::write(&broken, "1\nnot a timing line\nhello\n").unwrap();
    let said = attach(&mut f, &broken.to_string_lossy()).await;
    assert!(
        said.contains("broken.srt") && said.contains("WebVTT (.vtt), SubRip (.srt) or plain text"),
        "{said}"
    );
    assert_eq!(transcripts(&f.data, id).len(), 1, "only the fixture's");
    assert!(f.h.app.meetings.pane.form.is_none());
}

#[tokio::test]
async fn without_a_provider_no_brief_is_queued_and_the_pane_says_so() {
    let mut f = fixture(None).await;
    let id = dashboard(&mut f, Consent::Plus).await;
    f.h.app.meetings.ai_env = Arc::new(|_: &str| None);
    f.h.key("b");
    assert!(f.h.settle().await);
    let said = f.h.status_message().unwrap_or_default().to_string();
    assert!(
        said.starts_with("no brief: no AI provider is set up") && said.contains("OPENAI_API_KEY"),
        "{said}"
    );
    let store = Store::open(&f.data).unwrap();
    let jobs: i64 = store
        .conn
        .query_row("SELECT count(*) FROM jobs WHERE kind = 'brief'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(jobs, 0, "meeting {id}: nothing queued");
}

#[tokio::test]
async fn under_consent_basic_the_pane_refuses_a_post_brief() {
    let mut f = fixture(None).await;
    dashboard(&mut f, Consent::Basic).await;
    f.h.key("b");
    assert!(f.h.settle().await);
    let said = f.h.status_message().unwrap_or_default().to_string();
    assert!(said.contains("no post-brief under consent basic"), "{said}");
}

const POST_ANSWER: &str = r#"{"summary": "Acme was picked.", "decisions": ["Acme is the vendor"], "actions": [{"text": "sign the contract", "owner": "ann@example.com", "due": "2026-12-31"}]}"#;

fn chat(text: &str) -> Answer {
    Answer::stream(&[
        &format!(
            "data: {}\n\n",
            json!({"id": "c1", "model": "qwen2.5-coder", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
        ),
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":900,\"completion_tokens\":100}}\n\n",
        "data: [DONE]\n\n",
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_brief_asked_for_in_the_dashboard_runs_and_shows_in_the_detail() {
    let mut f = fixture(None).await;
    let id = dashboard(&mut f, Consent::Plus).await;
    let (url, _seen) = serve(vec![chat(POST_ANSWER)]);
    let base = format!("{url}/v1");
    let env: crate::ai::ask::Env = Arc::new(move |name: &str| match name {
        "KOLLEGA_COMPAT_BASE_URL" => Some(base.clone()),
        // The dashboard checks the provider the configuration names.
        "OPENAI_API_KEY" => Some("sk-test".into()),
        _ => None,
    });
    f.h.app.meetings.ai_env = env.clone();
    f.h.key("b");
    assert!(f.h.settle().await);
    let said = f.h.status_message().unwrap_or_default().to_string();
    assert!(said.starts_with("post-brief queued (job "), "{said}");
    let job = {
        let store = Store::open(&f.data).unwrap();
        store
            .conn
            .query_row("SELECT id FROM jobs WHERE kind = 'brief'", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
    };
    {
        let store = Store::open(&f.data).unwrap();
        let row = job_queue::require(&store.conn, job).unwrap();
        assert_eq!(row.payload, json!({"meeting": id, "kind": "post"}));
    }
    // A second ask while it is queued is refused.
    f.h.key("b");
    assert!(f.h.settle().await);
    assert!(
        f.h.status_message()
            .unwrap_or_default()
            .contains("is still being written")
    );
    // The job runs as this process's runner runs it, against the local
    // provider.
    let mut config = Config::load(Some(f.data.clone())).unwrap();
    config.config_dir = None;
    config.ai.provider = "compat".into();
    let mut options = runner::Options::new(f.data.clone(), Arc::new(config), Role::Tui);
    options.only = Some(job);
    options.parallel = 1;
    options.poll = Duration::from_millis(20);
    options.run_schedules = false;
    options
        .kinds
        .register(Arc::new(crate::meetings::brief::BriefJob::with(
            env,
            crate::meetings::model::Tuning {
                timeouts: crate::ai::client::Timeouts {
                    connect: Duration::from_secs(5),
                    idle: Duration::from_secs(5),
                },
                max_output_tokens: 1024,
            },
        )));
    let handle = runner::spawn(options).unwrap();
    tokio::time::timeout(Duration::from_secs(60), handle.wait())
        .await
        .expect("the job ends")
        .unwrap();
    f.h.app.job_event(runner::Event::Ended {
        id: job,
        title: "brief".into(),
        status: Status::Succeeded,
    });
    assert!(f.h.settle().await);
    let said = f.h.status_message().unwrap_or_default().to_string();
    assert_eq!(said, format!("post-brief written (job {job})"));
    let screen = draw(&mut f.h, 120, 40);
    assert!(
        screen.contains("Post-brief") && screen.contains("summary: Acme was picked."),
        "{screen}"
    );
    assert!(
        screen.contains("sign the contract (owner ann@example.com, due 2026-12-31)"),
        "{screen}"
    );
}

#[test]
fn a_typed_transcript_path_expands_home_and_starts_relative_ones_at_the_base() {
    use super::super::meetings::transcript_path;
    let base = Path::new("/work/shop");
    assert_eq!(
        transcript_path(" calls/retro.srt ", base),
        PathBuf::from("/work/shop/calls/retro.srt")
    );
    assert_eq!(
        transcript_path("/tmp/retro.vtt", base),
        PathBuf::from("/tmp/retro.vtt")
    );
    let home = directories::BaseDirs::new()
        .unwrap()
        .home_dir()
        .to_path_buf();
    assert_eq!(
        transcript_path("~/calls/retro.vtt", base),
        home.join("calls/retro.vtt")
    );
    // `~name` is not expanded: a file of that name under the base.
    assert_eq!(
        transcript_path("~ann/x.txt", base),
        PathBuf::from("/work/shop/~ann/x.txt")
    );
}

#[tokio::test]
async fn a_brief_job_that_is_deleted_is_let_go_and_another_may_be_asked() {
    let mut f = fixture(None).await;
    dashboard(&mut f, Consent::Plus).await;
    f.h.app.meetings.ai_env =
        Arc::new(|name: &str| (name == "OPENAI_API_KEY").then(|| "sk-test".to_string()));
    f.h.key("b");
    assert!(f.h.settle().await);
    {
        let store = Store::open(&f.data).unwrap();
        store
            .conn
            .execute("DELETE FROM jobs WHERE kind = 'brief'", [])
            .unwrap();
    }
    f.h.app.meetings_tick();
    assert!(f.h.settle().await);
    let said = f.h.status_message().unwrap_or_default().to_string();
    assert!(
        said.contains("is gone") && said.contains("b asks again"),
        "{said}"
    );
    f.h.key("b");
    assert!(f.h.settle().await);
    let said = f.h.status_message().unwrap_or_default().to_string();
    assert!(said.starts_with("post-brief queued (job "), "{said}");
}
