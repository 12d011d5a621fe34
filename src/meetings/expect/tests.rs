//! Expected transcripts on tokio's paused clock through a real runner: a
//! file that never comes (three retries, then missing and a post-brief of
//! the notes), one that comes late, and one over a local HTTP server.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::ai::client::tests::{Answer, serve};
use crate::config::Config;
use crate::jobs::queue::{self, Role};
use crate::jobs::{Status, runner};
use crate::meetings::fixture;
use crate::store::Store;
use crate::store::meetings::Consent;

const MINUTE: u64 = 60;
const BASE: i64 = 1_800_000_000_000;

/// Stands in for the brief job: the post-brief's own tests cover it.
struct NoBrief;

impl Kind for NoBrief {
    fn kind(&self) -> JobKind {
        JobKind::Other(crate::meetings::brief::BRIEF.into())
    }

    fn max_attempts(&self) -> u32 {
        1
    }

    fn run(&self, _ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        Box::pin(async { Ok(json!({ "stood in": true })) })
    }
}

/// A meeting that ended an hour before `BASE`, its transcript expected at
/// `source`, and a runner on the paused clock from `BASE`.
fn start(
    dir: &Path,
    consent: Consent,
    source: impl Fn(&Path) -> String,
) -> (runner::Handle, String) {
    let source = source(dir);
    {
        let mut store = Store::open(dir).unwrap();
        let id = fixture::meeting(&mut store.conn, "s", BASE - 2 * 3_600_000, consent);
        rows::add_note(&store.conn, id, "NOTE-TEXT", 1).unwrap();
        let (_, run_at) = expect(&mut store.conn, id, &source, BASE).unwrap().unwrap();
        assert_eq!(run_at, BASE, "the meeting has ended: the first try is now");
    }
    let clock = Clock::tokio(BASE);
    let config = Arc::new(Config::load(Some(dir.to_path_buf())).unwrap());
    let mut o = runner::Options::new(dir.to_path_buf(), config, Role::Worker);
    o.clock = clock;
    o.poll = Duration::from_secs(30);
    o.kinds.register(Arc::new(TranscriptJob::on(clock)));
    o.kinds.register(Arc::new(NoBrief));
    (runner::spawn(o).unwrap(), source)
}

fn meeting(dir: &Path) -> rows::MeetingRow {
    rows::get(&Store::open(dir).unwrap().conn, 1)
        .unwrap()
        .unwrap()
}

fn jobs(dir: &Path, kind: &str) -> Vec<queue::Job> {
    let store = Store::open(dir).unwrap();
    queue::list(&store.conn, &queue::Filter::default())
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == kind)
        .collect()
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_transcript_that_never_comes_is_tried_four_times_then_the_notes_are_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, _) = start(dir.path(), Consent::Plus, |d| {
        d.join("call.vtt").to_string_lossy().into_owned()
    });
    tokio::time::sleep(Duration::from_secs(MINUTE)).await;
    let m = meeting(dir.path());
    assert_eq!(
        (m.transcript_state.as_str(), m.transcript_attempts),
        ("expected", 1)
    );
    assert!(shown(&m).unwrap().contains("not found in 1 of 4 tries"));
    // 10, 30 and 90 minutes later: the second, third and fourth tries.
    tokio::time::sleep(Duration::from_secs(9 * MINUTE)).await;
    assert_eq!(
        meeting(dir.path()).transcript_attempts,
        1,
        "the wait is 10 minutes"
    );
    tokio::time::sleep(Duration::from_secs(2 * MINUTE)).await;
    assert_eq!(meeting(dir.path()).transcript_attempts, 2);
    tokio::time::sleep(Duration::from_secs(31 * MINUTE)).await;
    assert_eq!(meeting(dir.path()).transcript_attempts, 3);
    assert!(
        jobs(dir.path(), "brief").is_empty(),
        "no post-brief before the last try"
    );
    tokio::time::sleep(Duration::from_secs(91 * MINUTE)).await;
    let m = meeting(dir.path());
    assert_eq!(
        (m.transcript_state.as_str(), m.transcript_attempts),
        ("missing", 4)
    );
    assert!(shown(&m).unwrap().contains("from the notes only"));
    handle.shutdown().await.unwrap();
    let tries = jobs(dir.path(), TRANSCRIPT);
    assert_eq!(tries.len(), 4);
    assert!(tries.iter().all(|j| j.status == Status::Succeeded));
    let briefs = jobs(dir.path(), "brief");
    assert_eq!(briefs.len(), 1, "the post-analysis of the notes");
    assert_eq!(briefs[0].payload["kind"], "post");
    // The post-brief's request says the transcript did not arrive.
    let store = Store::open(dir.path()).unwrap();
    let material = material::gather(&store.conn, 1, material::Purpose::Post)
        .unwrap()
        .unwrap();
    let prompt = material.render(100_000);
    assert!(prompt.contains("did not arrive"), "{prompt}");
    assert!(prompt.contains("NOTE-TEXT"));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn basic_consent_marks_it_missing_without_a_post_brief() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, _) = start(dir.path(), Consent::Basic, |d| {
        d.join("call.srt").to_string_lossy().into_owned()
    });
    tokio::time::sleep(Duration::from_secs(3 * 3600)).await;
    handle.shutdown().await.unwrap();
    assert_eq!(meeting(dir.path()).transcript_state, "missing");
    assert!(jobs(dir.path(), "brief").is_empty());
    let last = jobs(dir.path(), TRANSCRIPT).pop().unwrap();
    assert_eq!(last.result.unwrap()["briefJob"], Value::Null);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_transcript_that_comes_late_is_read_in_and_the_tries_stop() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, source) = start(dir.path(), Consent::Plus, |d| {
        d.join("call.vtt").to_string_lossy().into_owned()
    });
    tokio::time::sleep(Duration::from_secs(MINUTE)).await;
    std::fs::write(
        &source,
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nAnn: we pick the second vendor\n",
    )
    .unwrap();
    tokio::time::sleep(Duration::from_secs(11 * MINUTE)).await;
    let m = meeting(dir.path());
    assert_eq!(
        (m.transcript_state.as_str(), m.transcript_attempts),
        ("received", 1)
    );
    assert_eq!(shown(&m), None);
    tokio::time::sleep(Duration::from_secs(3 * 3600)).await;
    handle.shutdown().await.unwrap();
    assert_eq!(
        jobs(dir.path(), TRANSCRIPT).len(),
        2,
        "no try after it was found"
    );
    let store = Store::open(dir.path()).unwrap();
    let t = rows::transcripts(&store.conn, 1).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].text, "Ann: we pick the second vendor");
    assert!(jobs(dir.path(), "brief").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_is_fetched_and_a_changed_expectation_ends_the_old_tries() {
    let (url, seen) = serve(vec![Answer::error(200, "plain words of the call")]);
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let mut store = Store::open(dir.path()).unwrap();
        let id = fixture::meeting(&mut store.conn, "s", 0, Consent::Plus);
        // A first expectation, replaced before its try runs.
        expect(
            &mut store.conn,
            id,
            "/nowhere/old.txt",
            crate::jobs::now_ms(),
        )
        .unwrap();
        let (job, _) = expect(
            &mut store.conn,
            id,
            &format!("{url}/t.txt"),
            crate::jobs::now_ms(),
        )
        .unwrap()
        .unwrap();
        job
    };
    let config = Arc::new(Config::load(Some(dir.path().to_path_buf())).unwrap());
    let mut o = runner::Options::new(dir.path().to_path_buf(), config, Role::Worker);
    o.run_schedules = false;
    o.routines = false;
    o.poll = Duration::from_millis(20);
    let handle = runner::spawn(o).unwrap();
    for _ in 0..500 {
        let store = Store::open(dir.path()).unwrap();
        if queue::require(&store.conn, id).unwrap().status.is_final()
            && queue::require(&store.conn, id - 1)
                .unwrap()
                .status
                .is_final()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.shutdown().await.unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
    let store = Store::open(dir.path()).unwrap();
    let old = queue::require(&store.conn, id - 1).unwrap();
    let old = old.result.unwrap();
    assert!(
        old.get("transcript").is_none(),
        "the old try did nothing: {old}"
    );
    let t = rows::transcripts(&store.conn, 1).unwrap();
    assert_eq!(t[0].text, "plain words of the call");
    assert_eq!(t[0].source_name, "t.txt");
}
