//! Module runs end to end through a runner, against a local server
//! speaking the Chat Completions stream: what consent and the workspace's
//! switch let through, and what is stored.

use std::time::Duration;

use super::*;
use crate::ai::client::Timeouts;
use crate::ai::client::tests::{Answer, serve};
use crate::config::Config;
use crate::git::github::fake::Request as Seen;
use crate::jobs::queue::{self, Job, Role};
use crate::jobs::{Status, runner};
use crate::meetings::fixture::meeting;
use crate::store::Store;

const WS: &str = "ws:acme";
const DOC: &str = "Tender by Acme\nDelivery within 30 days.\nPrice: 10,000 EUR fixed.\n";

fn chat(text: &str) -> Answer {
    Answer::stream(&[
        &format!(
            "data: {}\n\n",
            json!({"id": "c1", "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
        ),
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":200}}\n\n",
        "data: [DONE]\n\n",
    ])
}

struct Ran {
    job: Job,
    seen: Vec<Seen>,
    data: tempfile::TempDir,
}

/// Runs a `module` job of `module` for a meeting of `consent`, with the
/// module on for the workspace when `on`, against `answers`.
async fn run(module: &str, consent: Consent, on: bool, answers: Vec<Answer>) -> Ran {
    let (url, seen) = serve(answers);
    let data = tempfile::tempdir().unwrap();
    let doc = data.path().join("tender.txt");
    std::fs::write(&doc, DOC).unwrap();
    let criteria = data.path().join("criteria.txt");
    std::fs::write(&criteria, "Delivery within 45 days\nFixed price\n").unwrap();
    let base = format!("{url}/v1");
    let env: Env =
        Arc::new(move |name: &str| (name == "KOLLEGA_COMPAT_BASE_URL").then(|| base.clone()));
    let mut config = Config::load(Some(data.path().to_path_buf())).unwrap();
    config.config_dir = None;
    config.ai.provider = "compat".into();
    let id = {
        let mut store = Store::open(data.path()).unwrap();
        let id = meeting(&mut store.conn, "s", 1_000, consent);
        if on {
            rows::set(&store.conn, WS, module, true, 1).unwrap();
        }
        let asks = find(module).unwrap().asks;
        let payload = ModulePayload {
            meeting: id,
            module: module.into(),
            workspace: WS.into(),
            doc: doc.display().to_string(),
            ask: asks.then(|| "When is delivery?".to_string()),
            criteria: (!asks).then(|| criteria.display().to_string()),
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
        .register(Arc::new(ModuleJob::with(env, tuning)));
    let handle = runner::spawn(options).unwrap();
    tokio::time::timeout(Duration::from_secs(60), handle.wait())
        .await
        .expect("the job ends")
        .unwrap();
    let store = Store::open(data.path()).unwrap();
    let job = queue::require(&store.conn, id).unwrap();
    let seen = seen.lock().unwrap().drain(..).collect();
    Ran { job, seen, data }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_basic_consent_the_module_is_refused_and_nothing_is_sent() {
    let ran = run("copilot", Consent::Basic, true, vec![chat("x")]).await;
    assert_eq!(ran.job.status, Status::Dead);
    let error = ran.job.error.clone().unwrap_or_default();
    assert!(error.contains("consent is basic"), "{error}");
    assert!(error.contains("kollega meetings consent 1 plus"), "{error}");
    assert!(ran.seen.is_empty(), "a request was sent");
    let store = Store::open(ran.data.path()).unwrap();
    assert!(rows::answers(&store.conn, 1).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_that_is_off_for_the_workspace_is_refused() {
    let ran = run("copilot", Consent::Plus, false, vec![chat("x")]).await;
    assert_eq!(ran.job.status, Status::Dead);
    let error = ran.job.error.clone().unwrap_or_default();
    assert!(error.contains("module copilot is off"), "{error}");
    assert!(error.contains("kollega modules on copilot"), "{error}");
    assert!(ran.seen.is_empty(), "a request was sent");
}

const COPILOT: &str = r#"{"answer": "Delivery is within 30 days.", "citations": [{"line": 2, "quote": "Delivery within 30 days."}]}"#;
const PROCUREMENT: &str = r#"{"criteria": [
  {"criterion": "Delivery within 45 days", "verdict": "met", "passage": "Delivery within 30 days.", "line": 2},
  {"criterion": "Fixed price", "verdict": "met", "passage": "Price: 10,000 EUR fixed.", "line": 3}
], "flags": [{"kind": "term", "text": "fixed price of 10,000 EUR", "line": 3}]}"#;

/// The prompt versions of the calls recorded, in order.
fn versions(store: &Store) -> Vec<String> {
    store
        .conn
        .prepare("SELECT prompt_version FROM ai_calls ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_plus_the_document_is_sent_and_the_json_answer_stored_with_version_and_cost() {
    let ran = run("copilot", Consent::Plus, true, vec![chat(COPILOT)]).await;
    assert_eq!(ran.job.status, Status::Succeeded, "{:?}", ran.job.error);
    assert_eq!(ran.seen.len(), 1);
    let body = &ran.seen[0].body;
    assert!(body.contains("L2: Delivery within 30 days."), "{body}");
    assert!(body.contains("When is delivery?"), "{body}");
    assert!(body.contains("document copilot"), "{body}");
    assert!(
        body.contains("\\\"citations\\\""),
        "the JSON shape is asked for: {body}"
    );
    let store = Store::open(ran.data.path()).unwrap();
    let answers = rows::answers(&store.conn, 1).unwrap();
    assert_eq!(answers.len(), 1);
    let a = &answers[0];
    assert_eq!(
        (a.module.as_str(), a.prompt_version.as_str()),
        ("copilot", "modules/copilot.v2")
    );
    let stored: Value = serde_json::from_str(&a.answer).unwrap();
    assert_eq!(
        stored,
        json!({"answer": "Delivery is within 30 days.", "citations": [{"line": 2, "quote": "Delivery within 30 days."}]})
    );
    assert_eq!(a.question.as_deref(), Some("When is delivery?"));
    assert!(a.ai_call_id.is_some());
    let usage = briefs::usage(&store.conn, 1).unwrap();
    assert_eq!(
        (usage.calls, usage.input_tokens, usage.output_tokens),
        (1, 1000, 200)
    );
    assert!(a.cost_micros.is_some_and(|c| c > 0), "{a:?}");
    let result = ran.job.result.clone().unwrap();
    assert_eq!(result["promptVersion"], "modules/copilot.v2");
    assert_eq!(result["answer"], stored);
    assert_eq!(result["repaired"], false);
    assert_eq!(result["legalFlags"], false);
    assert_eq!(result["outOfRangeLines"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_does_not_fit_is_repaired_once_and_both_calls_are_costed() {
    let wrong = r#"{"answer": "30 days", "citations": [{"line": 2, "quote": "30 days"}], "confidence": "high"}"#;
    let ran = run(
        "copilot",
        Consent::Plus,
        true,
        vec![chat(wrong), chat(COPILOT)],
    )
    .await;
    assert_eq!(ran.job.status, Status::Succeeded, "{:?}", ran.job.error);
    assert_eq!(ran.seen.len(), 2);
    let repair_body = &ran.seen[1].body;
    assert!(
        repair_body.contains("unknown field `confidence`"),
        "the problem is named: {repair_body}"
    );
    assert!(repair_body.contains("could not be used"), "{repair_body}");
    let result = ran.job.result.clone().unwrap();
    assert_eq!(result["repaired"], true);
    assert_eq!(result["calls"], 2);
    assert_eq!(result["usage"]["calls"], 2);
    let store = Store::open(ran.data.path()).unwrap();
    assert_eq!(
        versions(&store),
        ["modules/copilot.v2", "meetings/repair.v1"]
    );
    let answers = rows::answers(&store.conn, 1).unwrap();
    assert_eq!(answers.len(), 1);
    let usage = briefs::usage(&store.conn, 1).unwrap();
    assert_eq!(
        answers[0].cost_micros,
        Some(usage.cost_micros),
        "the answer's cost is both calls'"
    );
    let one: i64 = store
        .conn
        .query_row("SELECT cost_micros FROM ai_calls WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(usage.cost_micros > one, "{usage:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_still_unfit_after_the_repair_fails_the_job_clearly() {
    let ran = run(
        "procurement",
        Consent::Plus,
        true,
        vec![
            chat("1. MET [L2]"),
            chat(r#"{"criteria": [{"criterion": "Fixed price", "verdict": "yes", "passage": "x", "line": 3}]}"#),
        ],
    )
    .await;
    assert_eq!(ran.job.status, Status::Dead);
    let error = ran.job.error.clone().unwrap_or_default();
    assert!(
        error.contains("does not fit its schema after 1 repair request"),
        "{error}"
    );
    assert!(error.contains("unknown variant `yes`"), "{error}");
    assert!(error.contains("--model"), "says what to do: {error}");
    assert_eq!(ran.seen.len(), 2, "one request and one repair, no more");
    let store = Store::open(ran.data.path()).unwrap();
    assert!(rows::answers(&store.conn, 1).unwrap().is_empty());
    assert_eq!(
        versions(&store),
        ["modules/procurement.v2", "meetings/repair.v1"],
        "both calls are recorded"
    );
    assert_eq!(briefs::usage(&store.conn, 1).unwrap().calls, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procurement_flags_are_kept_under_legal_and_dropped_under_plus() {
    let legal = run("procurement", Consent::Legal, true, vec![chat(PROCUREMENT)]).await;
    assert_eq!(legal.job.status, Status::Succeeded, "{:?}", legal.job.error);
    let body = &legal.seen[0].body;
    assert!(body.contains("\\\"flags\\\""), "{body}");
    assert!(
        body.contains("Fixed price"),
        "the criteria are sent: {body}"
    );
    let result = legal.job.result.clone().unwrap();
    assert_eq!(result["legalFlags"], true);
    assert_eq!(result["flagsDropped"], 0);
    assert_eq!(result["answer"]["flags"][0]["kind"], "term");
    let store = Store::open(legal.data.path()).unwrap();
    let stored: Value =
        serde_json::from_str(&rows::answers(&store.conn, 1).unwrap()[0].answer).unwrap();
    assert_eq!(stored["flags"].as_array().map(Vec::len), Some(1));
    assert_eq!(stored["criteria"][0]["verdict"], "met");

    let plus = run("procurement", Consent::Plus, true, vec![chat(PROCUREMENT)]).await;
    assert_eq!(plus.job.status, Status::Succeeded, "{:?}", plus.job.error);
    assert!(!plus.seen[0].body.contains("\\\"flags\\\""));
    let result = plus.job.result.clone().unwrap();
    assert_eq!(result["flagsDropped"], 1);
    let store = Store::open(plus.data.path()).unwrap();
    let answers = rows::answers(&store.conn, 1).unwrap();
    assert_eq!(answers[0].prompt_version, "modules/procurement.v2");
    let stored: Value = serde_json::from_str(&answers[0].answer).unwrap();
    assert!(stored.get("flags").is_none(), "{stored}");
    assert_eq!(stored["criteria"].as_array().map(Vec::len), Some(2));
    let log = queue::logs_after(&store.conn, plus.job.id, -1, 100).unwrap();
    assert!(
        log.iter().any(|l| l
            .line
            .contains("1 flag(s) left out: the meeting's consent is plus")),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cited_line_outside_the_document_is_kept_and_marked() {
    let answer = r#"{"answer": "Delivery in 30 days, penalties apply.", "citations": [
        {"line": 2, "quote": "Delivery within 30 days."},
        {"line": 99, "quote": "Penalties of 5% a week."}
    ]}"#;
    let ran = run("copilot", Consent::Plus, true, vec![chat(answer)]).await;
    assert_eq!(ran.job.status, Status::Succeeded, "{:?}", ran.job.error);
    assert_eq!(ran.seen.len(), 1, "a bad line is marked, not repaired");
    assert_eq!(ran.job.result.clone().unwrap()["outOfRangeLines"], 1);
    let store = Store::open(ran.data.path()).unwrap();
    let stored: Value =
        serde_json::from_str(&rows::answers(&store.conn, 1).unwrap()[0].answer).unwrap();
    assert!(stored["citations"][0].get("outOfRange").is_none());
    assert_eq!(stored["citations"][1]["line"], 99);
    assert_eq!(stored["citations"][1]["outOfRange"], true);
}

#[test]
fn the_legal_section_is_only_in_legal_instructions() {
    let procurement = find("procurement").unwrap();
    assert!(
        procurement
            .instructions(Consent::Legal)
            .contains("every obligation a party takes on")
    );
    assert!(
        !procurement
            .instructions(Consent::Plus)
            .contains("every obligation a party takes on")
    );
    assert!(!procurement.instructions(Consent::Plus).contains(LEGAL_MARK));
    assert!(!procurement.instructions(Consent::Plus).contains(LEGAL_KEY));
    assert!(
        !procurement
            .instructions(Consent::Plus)
            .contains("\"flags\"")
    );
    assert!(
        procurement
            .instructions(Consent::Legal)
            .contains("\"flags\": [...]")
    );
}

#[test]
fn a_procurement_answer_needs_one_entry_per_criterion() {
    let one = r#"{"criteria": [{"criterion": "a", "verdict": "unclear", "passage": "no passage", "line": null}]}"#;
    let problems = answer::Answer::read(false, 2, one).err().unwrap();
    assert!(
        problems[0].contains("criteria has 1 entries for the 2 criteria given"),
        "{problems:?}"
    );
    assert!(answer::Answer::read(false, 1, one).is_ok());
    assert_eq!(criteria_count("a\n\n  \nb\n"), 2);
}

#[test]
fn v1_answers_show_as_text_and_v2_answers_as_their_structure() {
    use answer::{Stored, Tone, Verdict, lines, plain};
    let old = Stored::of(
        "copilot",
        "modules/copilot.v1",
        "Delivery is in 30 days [L2].\nThat is all.",
    );
    assert_eq!(
        lines(&old).iter().map(plain).collect::<Vec<_>>(),
        ["Delivery is in 30 days [L2].", "That is all."]
    );
    assert_eq!(
        old.to_json(),
        json!("Delivery is in 30 days [L2].\nThat is all.")
    );
    let v1_json = Stored::of("copilot", "modules/copilot.v1", COPILOT);
    assert!(
        matches!(v1_json, Stored::Text(_)),
        "v1 is text whatever it holds"
    );
    let mut answer = answer::Answer::read(false, 2, PROCUREMENT).unwrap();
    assert_eq!(answer.mark_lines(2), 2, "line 3 is not among 2 lines sent");
    let text = answer.to_json().to_string();
    let shown = Stored::of("procurement", "modules/procurement.v2", &text);
    let shown_lines = lines(&shown);
    assert_eq!(
        shown_lines[0][0],
        (Tone::Verdict(Verdict::Met), "met".to_string())
    );
    let plain_lines: Vec<String> = shown_lines.iter().map(plain).collect();
    assert_eq!(
        plain_lines,
        [
            "met Delivery within 45 days \u{2014} \u{201c}Delivery within 30 days.\u{201d} [L2]",
            "met Fixed price \u{2014} \u{201c}Price: 10,000 EUR fixed.\u{201d} [L3: not a line of the document]",
            "2 met, 0 unmet, 0 unclear",
            "term fixed price of 10,000 EUR [L3: not a line of the document]",
        ]
    );
    let broken = Stored::of("procurement", "modules/procurement.v2", "not json");
    assert_eq!(broken, Stored::Text("not json".into()));
}
