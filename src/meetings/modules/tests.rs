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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_plus_the_document_is_sent_and_the_answer_stored_with_version_and_cost() {
    let answer = "Delivery is within 30 days [L2].";
    let ran = run("copilot", Consent::Plus, true, vec![chat(answer)]).await;
    assert_eq!(ran.job.status, Status::Succeeded, "{:?}", ran.job.error);
    assert_eq!(ran.seen.len(), 1);
    let body = &ran.seen[0].body;
    assert!(body.contains("L2: Delivery within 30 days."), "{body}");
    assert!(body.contains("When is delivery?"), "{body}");
    assert!(body.contains("document copilot"), "{body}");
    let store = Store::open(ran.data.path()).unwrap();
    let answers = rows::answers(&store.conn, 1).unwrap();
    assert_eq!(answers.len(), 1);
    let a = &answers[0];
    assert_eq!(
        (
            a.module.as_str(),
            a.prompt_version.as_str(),
            a.answer.as_str()
        ),
        ("copilot", "modules/copilot.v1", answer)
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
    assert_eq!(result["promptVersion"], "modules/copilot.v1");
    assert_eq!(result["legalFlags"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legal_consent_adds_the_legal_flags_instruction_and_plus_does_not() {
    let legal = run(
        "procurement",
        Consent::Legal,
        true,
        vec![chat("1. MET [L2]")],
    )
    .await;
    assert_eq!(legal.job.status, Status::Succeeded, "{:?}", legal.job.error);
    let body = &legal.seen[0].body;
    assert!(body.contains("LEGAL FLAGS"), "{body}");
    assert!(
        body.contains("Fixed price"),
        "the criteria are sent: {body}"
    );
    assert_eq!(legal.job.result.clone().unwrap()["legalFlags"], true);

    let plus = run(
        "procurement",
        Consent::Plus,
        true,
        vec![chat("1. MET [L2]")],
    )
    .await;
    assert_eq!(plus.job.status, Status::Succeeded, "{:?}", plus.job.error);
    assert!(!plus.seen[0].body.contains("LEGAL FLAGS"));
    let store = Store::open(plus.data.path()).unwrap();
    let answers = rows::answers(&store.conn, 1).unwrap();
    assert_eq!(answers[0].prompt_version, "modules/procurement.v1");
}

#[test]
fn the_legal_section_is_only_in_legal_instructions() {
    let procurement = find("procurement").unwrap();
    assert!(
        procurement
            .instructions(Consent::Legal)
            .contains("LEGAL FLAGS")
    );
    assert!(
        !procurement
            .instructions(Consent::Plus)
            .contains("LEGAL FLAGS")
    );
    assert!(!procurement.instructions(Consent::Plus).contains(LEGAL_MARK));
}
