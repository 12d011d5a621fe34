//! Briefs end to end through a runner, against a local server speaking the
//! Chat Completions stream; every request body it received is searched for
//! what consent keeps home.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::ai::client::Timeouts;
use crate::ai::client::tests::{Answer, serve};
use crate::config::Config;
use crate::git::github::fake::Request as Seen;
use crate::jobs::queue::{self, Job, Role};
use crate::jobs::{Status, runner};
use crate::meetings::fixture::{fill, meeting};
use crate::store::Store;
use crate::store::meetings::briefs::{Origin, from_model};

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

struct Ran {
    job: Job,
    log: String,
    seen: Vec<Seen>,
    data: tempfile::TempDir,
}

impl Ran {
    fn store(&self) -> Store {
        Store::open(self.data.path()).unwrap()
    }
}

/// Runs a brief job of `kind` for the meeting `setup` makes, against
/// `answers`.
async fn run(kind: &str, answers: Vec<Answer>, setup: impl FnOnce(&mut Store) -> i64) -> Ran {
    let (url, seen) = serve(answers);
    let data = tempfile::tempdir().unwrap();
    let base = format!("{url}/v1");
    let env: Env =
        Arc::new(move |name: &str| (name == "KOLLEGA_COMPAT_BASE_URL").then(|| base.clone()));
    let mut config = Config::load(Some(data.path().to_path_buf())).unwrap();
    config.config_dir = None;
    config.ai.provider = "compat".into();
    let id = {
        let mut store = Store::open(data.path()).unwrap();
        let meeting = setup(&mut store);
        let payload = BriefPayload {
            meeting,
            kind: kind.into(),
            provider: None,
            model: None,
        };
        queue::enqueue(&mut store.conn, &payload.job(None), now_ms()).unwrap()
    };
    let mut options =
        runner::Options::new(data.path().to_path_buf(), Arc::new(config), Role::Worker);
    options.only = Some(id);
    options.parallel = 1;
    options.poll = Duration::from_millis(20);
    options.run_schedules = false;
    let tuning = Tuning {
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            idle: Duration::from_secs(5),
        },
        max_output_tokens: 1024,
    };
    options
        .kinds
        .register(Arc::new(BriefJob::with(env, tuning)));
    let handle = runner::spawn(options).unwrap();
    tokio::time::timeout(Duration::from_secs(60), handle.wait())
        .await
        .expect("the job ends")
        .unwrap();
    let store = Store::open(data.path()).unwrap();
    let job = queue::require(&store.conn, id).unwrap();
    let log = queue::logs_after(&store.conn, id, -1, 100_000)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("\n");
    let seen = seen.lock().unwrap().drain(..).collect();
    Ran {
        job,
        log,
        seen,
        data,
    }
}

const PRE_ANSWER: &str = r#"{"agenda": ["pick a vendor"], "prepare": ["read the offers"], "openActions": [], "earlierDecisions": []}"#;

const POST_ANSWER: &str = r#"{"summary": "The vendor was picked.", "decisions": ["Acme is the vendor"], "actions": [{"text": "sign the contract", "owner": "ann@example.com", "due": "2026-12-31"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_basic_no_note_or_transcript_text_reaches_the_model() {
    let ran = run("pre", vec![chat(PRE_ANSWER)], |store| {
        // An earlier meeting of the series, basic too, with its own text.
        let earlier = meeting(&mut store.conn, "s", 1_000, Consent::Basic);
        fill(&mut store.conn, earlier, "EARLIER-SECRET");
        let id = meeting(&mut store.conn, "s", 1_000_000, Consent::Basic);
        fill(&mut store.conn, id, "BASIC-SECRET");
        id
    })
    .await;
    assert_eq!(ran.job.status, Status::Succeeded, "{}", ran.log);
    assert_eq!(ran.seen.len(), 1);
    for seen in &ran.seen {
        for secret in ["BASIC-SECRET", "EARLIER-SECRET", "PASSCODE"] {
            assert!(
                !seen.body.contains(secret),
                "{secret} was sent: {}",
                seen.body
            );
        }
        assert!(seen.body.contains("Vendor review"), "{}", seen.body);
        assert!(seen.body.contains("AGENDA: pick a vendor"), "{}", seen.body);
    }
    assert!(ran.log.contains("withheld by consent"), "{}", ran.log);
    assert!(!ran.log.contains("BASIC-SECRET"), "{}", ran.log);
    let store = ran.store();
    let brief = briefs::latest(&store.conn, 2, BriefKind::Pre)
        .unwrap()
        .unwrap();
    assert_eq!(brief.prompt_version, "meetings/pre.v1");
    let usage = briefs::usage(&store.conn, 2).unwrap();
    assert_eq!(
        (usage.calls, usage.input_tokens, usage.output_tokens),
        (1, 900, 100)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_brief_of_a_basic_meeting_is_refused_before_any_request() {
    let ran = run("post", vec![chat(POST_ANSWER)], |store| {
        let id = meeting(&mut store.conn, "s", 1_000, Consent::Basic);
        fill(&mut store.conn, id, "BASIC-SECRET");
        id
    })
    .await;
    assert_eq!(ran.job.status, Status::Dead);
    let error = ran.job.error.clone().unwrap_or_default();
    assert!(error.contains("consent is basic"), "{error}");
    assert!(error.contains("kollega meetings consent 1 plus"), "{error}");
    assert!(ran.seen.is_empty(), "a request was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_post_brief_is_repaired_once_and_its_items_added_as_the_models() {
    let wrong = r#"Here it is: {"summary": "", "decisions": [], "actions": [{"text": "x", "owner": null, "due": "31/12/2026"}], "mood": "good"}"#;
    let ran = run("post", vec![chat(wrong), chat(POST_ANSWER)], |store| {
        let id = meeting(&mut store.conn, "s", 1_000, Consent::Plus);
        fill(&mut store.conn, id, "PLUS-TEXT");
        id
    })
    .await;
    assert_eq!(ran.job.status, Status::Succeeded, "{}", ran.log);
    assert_eq!(ran.seen.len(), 2);
    assert!(
        ran.seen[0].body.contains("transcript PLUS-TEXT"),
        "plus sends the transcript"
    );
    let repair_body = &ran.seen[1].body;
    assert!(
        repair_body.contains("unknown field `mood`"),
        "{repair_body}"
    );
    assert!(repair_body.contains("could not be used"), "{repair_body}");
    let result = ran.job.result.clone().unwrap();
    assert_eq!(result["repaired"], true);
    assert_eq!(result["decisionsAdded"], 1);
    assert_eq!(result["usage"]["calls"], 2);
    let store = ran.store();
    let decisions = meetings::decisions(&store.conn, 1).unwrap();
    let added = decisions
        .iter()
        .find(|d| d.text == "Acme is the vendor")
        .unwrap();
    assert!(from_model(&store.conn, Origin::Decision, added.id).unwrap());
    let actions = meetings::actions::list(
        &store.conn,
        &meetings::actions::ActionFilter {
            meeting_id: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let signed = actions
        .iter()
        .find(|a| a.text == "sign the contract")
        .unwrap();
    assert_eq!(signed.owner.as_deref(), Some("ann@example.com"));
    assert_eq!(signed.owner_id, Some(2), "matched to the stakeholder");
    assert!(from_model(&store.conn, Origin::Action, signed.id).unwrap());
    let m = meetings::get(&store.conn, 1).unwrap().unwrap();
    assert_eq!(m.processing, Processing::Done);
    let versions: Vec<String> = store
        .conn
        .prepare("SELECT prompt_version FROM ai_calls ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(versions, ["meetings/post.v1", "meetings/repair.v1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_brief_still_invalid_after_the_repair_fails_the_meeting_clearly() {
    let ran = run(
        "post",
        vec![chat("no json at all"), chat("{\"summary\": 3}")],
        |store| meeting(&mut store.conn, "s", 1_000, Consent::Legal),
    )
    .await;
    assert_eq!(ran.job.status, Status::Dead, "{}", ran.log);
    let error = ran.job.error.clone().unwrap_or_default();
    assert!(
        error.contains("does not fit its schema after 1 repair request"),
        "{error}"
    );
    assert!(error.contains("invalid type: integer `3`"), "{error}");
    assert_eq!(ran.seen.len(), 2, "one request and one repair, no more");
    assert!(
        ran.seen[0].body.contains("legalFlags"),
        "legal asks for flags"
    );
    let store = ran.store();
    let m = meetings::get(&store.conn, 1).unwrap().unwrap();
    assert_eq!(m.processing, Processing::Failed);
    assert!(m.processing_error.unwrap().contains("schema"));
    assert!(
        briefs::latest(&store.conn, 1, BriefKind::Post)
            .unwrap()
            .is_none()
    );
}

#[test]
fn legal_flags_are_asked_for_only_under_legal_and_read_by_the_schema() {
    let (plus, _) = instructions(BriefKind::Post, Consent::Plus);
    let (legal, version) = instructions(BriefKind::Post, Consent::Legal);
    assert!(!plus.contains("legalFlags"), "{plus}");
    assert!(legal.contains("\"legalFlags\": [...]"), "{legal}");
    assert!(legal.contains("contract-term"), "{legal}");
    assert_eq!(version, "meetings/post.v1");
    let answer = r#"```json
{"summary": "s", "decisions": [], "actions": [], "legalFlags": [{"kind": "deadline", "text": "pay by friday", "due": "2026-12-11"}]}
```"#;
    let Ok(Brief::Post(post)) = read(BriefKind::Post, answer) else {
        panic!("a fenced answer reads");
    };
    assert_eq!(post.legal_flags[0].kind, FlagKind::Deadline);
    let problems = read(
        BriefKind::Post,
        r#"{"summary": "s", "decisions": [""], "actions": [], "legalFlags": [{"kind": "vibe", "text": "t"}]}"#,
    )
    .unwrap_err();
    assert!(
        problems[0].contains("unknown variant `vibe`"),
        "{problems:?}"
    );
    let problems = read(BriefKind::Pre, r#"{"agenda": [""], "prepare": [], "openActions": [{"text": "t", "owner": null, "due": "tomorrow"}], "earlierDecisions": []}"#).unwrap_err();
    assert_eq!(
        problems,
        [
            "agenda[0] is empty",
            "openActions[0].due \"tomorrow\" is not a date written YYYY-MM-DD"
        ]
    );
}
