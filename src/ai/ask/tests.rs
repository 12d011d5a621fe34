//! The `ask` job end to end through a runner, against a local server that
//! speaks each provider's wire format and its failures. Every request body
//! the server received is searched for what must never be sent.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::ai::client::tests::{Answer, event, serve};
use crate::config::Config;
use crate::git::github::fake::Request as Seen;
use crate::jobs::queue::{self, Job, Role};
use crate::jobs::{Status, runner};
use crate::store::Store;

const KEY: &str = "sk-test-0123456789abcdefSECRETKEY";
const ENV_SECRET: &str = "DATABASE_PASSWORD=hunter2-very-secret";

/// A folder workspace: a source file, an `.env` and a file with a key in it.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/greet.rs"),
        "pub fn greet(name: &str) -> String {\n    format!(\"hi {name}\")\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".env"), format!("{ENV_SECRET}\n")).unwrap();
    std::fs::write(
        dir.path().join("src/keys.rs"),
        "pub const STRIPE: &str = \"sk_live_51HfYq2LkPq8Zr3Tx9Vb7Nc4Md2Wa6Ke5Jf1Gh0\";\n",
    )
    .unwrap();
    dir
}

struct Outcome {
    job: Job,
    log: String,
    seen: Vec<Seen>,
    data: tempfile::TempDir,
}

impl Outcome {
    fn bodies(&self) -> Vec<Value> {
        self.seen
            .iter()
            .map(|s| serde_json::from_str(&s.body).unwrap())
            .collect()
    }

    fn store(&self) -> Store {
        Store::open(self.data.path()).unwrap()
    }

    /// Nothing that must stay home left it, nor reached the store or log.
    fn assert_nothing_leaked(&self) {
        for seen in &self.seen {
            assert!(!seen.body.contains(KEY), "the key is in a body");
            assert!(!seen.body.contains("hunter2"), ".env content was sent");
            assert!(!seen.body.contains("sk_live_"), "a secret file was sent");
        }
        assert!(!self.log.contains(KEY), "the key is in the log");
        for entry in std::fs::read_dir(self.data.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
                    "the key is in {}",
                    path.display()
                );
            }
        }
    }
}

fn quick() -> Tuning {
    Tuning {
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            idle: Duration::from_secs(5),
        },
        tries: 4,
        backoff: Duration::from_millis(20),
        max_wait: Duration::from_secs(2),
        max_output_tokens: 1024,
    }
}

/// Runs one ask job for `payload` in `ws` against `answers`.
async fn ask(
    provider: &str,
    answers: Vec<Answer>,
    payload: Value,
    ws: &std::path::Path,
) -> Outcome {
    let started = start(provider, answers, payload, ws);
    finish(started, |_| {}).await
}

/// A runner working on one ask job.
struct Started {
    id: i64,
    handle: runner::Handle,
    seen: Arc<std::sync::Mutex<Vec<Seen>>>,
    data: tempfile::TempDir,
    /// What the runner reports, the answer's live output included.
    events: tokio::sync::mpsc::UnboundedReceiver<runner::Event>,
}

fn start(provider: &str, answers: Vec<Answer>, payload: Value, ws: &std::path::Path) -> Started {
    start_configured(provider, answers, payload, ws, |_| {})
}

/// [`start`] with the config changed by `configure` first.
fn start_configured(
    provider: &str,
    answers: Vec<Answer>,
    payload: Value,
    ws: &std::path::Path,
    configure: impl FnOnce(&mut Config),
) -> Started {
    let (url, seen) = serve(answers);
    let data = tempfile::tempdir().unwrap();
    let base = if provider == "anthropic" {
        url.clone()
    } else {
        format!("{url}/v1")
    };
    let env: Env = Arc::new(move |name: &str| match name {
        "OPENAI_API_KEY" | "ANTHROPIC_API_KEY" => Some(KEY.to_string()),
        "OPENAI_BASE_URL" | "ANTHROPIC_BASE_URL" | "KOLLEGA_COMPAT_BASE_URL" => Some(base.clone()),
        _ => None,
    });
    let mut config = Config::load(Some(data.path().to_path_buf())).unwrap();
    config.config_dir = None;
    config.ai.provider = provider.to_string();
    configure(&mut config);
    let config = Arc::new(config);
    let id = {
        let mut store = Store::open(data.path()).unwrap();
        let payload = AskPayload::of(&fake_job(payload)).unwrap();
        let new = payload.job(Some(ws.canonicalize().unwrap().display().to_string()));
        queue::enqueue(&mut store.conn, &new, now_ms()).unwrap()
    };
    let mut options = runner::Options::new(data.path().to_path_buf(), config, Role::Worker);
    options.only = Some(id);
    options.parallel = 1;
    options.poll = Duration::from_millis(20);
    options.run_schedules = false;
    options
        .kinds
        .register(Arc::new(AskKind::with(env, quick())));
    let (events_tx, events) = tokio::sync::mpsc::unbounded_channel();
    options.events = Some(events_tx);
    let handle = runner::spawn(options).unwrap();
    Started {
        id,
        handle,
        seen,
        data,
        events,
    }
}

/// Waits for the job to end, `meanwhile` given the runner's remote.
async fn finish(started: Started, meanwhile: impl FnOnce(runner::Remote)) -> Outcome {
    let Started {
        id,
        handle,
        seen,
        data,
        ..
    } = started;
    meanwhile(handle.remote());
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
    Outcome {
        job,
        log,
        seen,
        data,
    }
}

/// A job row holding `payload`, to read it as the kind does.
fn fake_job(payload: Value) -> Job {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let new = crate::store::jobs::NewJob {
        kind: ASK.into(),
        payload,
        ..Default::default()
    };
    let id = queue::enqueue(&mut store.conn, &new, 0).unwrap();
    queue::require(&store.conn, id).unwrap()
}

const FIX: &str = "src/greet.rs\n```rust\n<<<<<<< SEARCH\n    format!(\"hi {name}\")\n=======\n    format!(\"hello {name}\")\n>>>>>>> REPLACE\n```\n\nCommit: say hello\n";
const WRONG: &str = "src/greet.rs\n```rust\n<<<<<<< SEARCH\n    format!(\"hey {name}\")\n=======\n    format!(\"hello {name}\")\n>>>>>>> REPLACE\n```\n";

/// A Responses stream of `text` in two deltas.
fn responses(id: &str, text: &str) -> Answer {
    let (a, b) = text.split_at(text.len() / 2);
    let delta = |t: &str| {
        event(
            "response.output_text.delta",
            &json!({"type": "response.output_text.delta", "delta": t}).to_string(),
        )
    };
    Answer::stream(&[
        &event(
            "response.created",
            &json!({"type": "response.created", "response": {"id": id, "model": "gpt-5.1"}}).to_string(),
        ),
        &delta(a),
        &delta(b),
        &event(
            "response.completed",
            &json!({"type": "response.completed", "response": {"id": id, "model": "gpt-5.1",
                "usage": {"input_tokens": 1000, "input_tokens_details": {"cached_tokens": 200}, "output_tokens": 50}}})
            .to_string(),
        ),
    ])
}

fn messages(text: &str) -> Answer {
    Answer::stream(&[
        &event(
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-4-5","usage":{"input_tokens":300,"output_tokens":1}}}"#,
        ),
        &event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}).to_string(),
        ),
        &event(
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":40}}"#,
        ),
        &event("message_stop", r#"{"type":"message_stop"}"#),
    ])
}

fn chat(text: &str) -> Answer {
    Answer::stream(&[
        &format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-1", "model": "qwen2.5-coder", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
        ),
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":90,\"completion_tokens\":30}}\n\n",
        "data: [DONE]\n\n",
    ])
}

fn greet_after(out: &Outcome) -> String {
    let store = out.store();
    let id = out.job.result.as_ref().unwrap()["patchId"]
        .as_i64()
        .unwrap();
    patches::get(&store.conn, id).unwrap().unwrap().diff
}

#[tokio::test]
async fn responses_recovery_round_carries_the_failure_by_previous_response_id() {
    let ws = workspace();
    let out = ask(
        "openai",
        vec![responses("resp_1", WRONG), responses("resp_2", FIX)],
        json!({"prompt": "greet with hello", "files": ["src/greet.rs"]}),
        ws.path(),
    )
    .await;
    assert_eq!(
        out.job.status,
        Status::Succeeded,
        "{:?}\n{}",
        out.job.error,
        out.log
    );
    let bodies = out.bodies();
    assert_eq!(bodies.len(), 2, "one follow-up, never a blind resend");
    assert!(bodies[0].get("previous_response_id").is_none());
    assert_eq!(bodies[1]["previous_response_id"], "resp_1");
    let follow_up = bodies[1]["input"][0]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(follow_up.contains("src/greet.rs"), "{follow_up}");
    assert!(
        follow_up.contains("format!(\"hey {name}\")"),
        "the expected lines: {follow_up}"
    );
    assert!(
        follow_up.contains("    2     format!(\"hi {name}\")"),
        "the closest lines, numbered: {follow_up}"
    );
    assert_ne!(bodies[0]["input"], bodies[1]["input"]);
    // The first request had the file, the map and the prompt; no secret.
    let first = bodies[0]["input"][0]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        first.contains("=== src/greet.rs") && first.contains("greet with hello"),
        "{first}"
    );
    assert!(first.contains("src/greet.rs: greet"), "the map: {first}");
    assert!(!first.contains(".env"), "{first}");
    out.assert_nothing_leaked();
    let result = out.job.result.clone().unwrap();
    assert_eq!(
        (result["files"].clone(), result["hunks"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(result["usage"]["inputTokens"], 2000);
    assert_eq!(result["usage"]["cachedTokens"], 400);
    assert!(result["usage"]["costUsd"].as_f64().unwrap() > 0.0);
    assert!(greet_after(&out).contains("+    format!(\"hello {name}\")"));
    assert!(out.log.contains("follow-up 1 of at most 2"), "{}", out.log);
    assert!(
        out.log.contains("hello {name}"),
        "the streamed text is in the log"
    );
    let store = out.store();
    let patch = patches::list(
        &store.conn,
        &workspace_key(&Place::Dir(ws.path().canonicalize().unwrap())),
    )
    .unwrap();
    assert_eq!(patch[0].message.as_deref(), Some("say hello"));
    let calls = ai_calls::totals(&store.conn, ai_calls::Group::All).unwrap();
    assert_eq!(calls[0].requests, 2);
    let version: String = store
        .conn
        .query_row("SELECT prompt_version FROM ai_calls LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(version, prompt::VERSION);
    let conversation = result["conversationId"].as_i64().unwrap();
    let turns = conversations::turns(&store.conn, conversation).unwrap();
    assert_eq!(turns.len(), 4, "prompt, answer, follow-up, answer");
    let conv = conversations::get(&store.conn, conversation)
        .unwrap()
        .unwrap();
    assert_eq!(conv.last_response_id.as_deref(), Some("resp_2"));
}

#[tokio::test]
async fn messages_carry_the_version_header_and_the_conversation_on_recovery() {
    let ws = workspace();
    let out = ask(
        "anthropic",
        vec![messages(WRONG), messages(FIX)],
        json!({"prompt": "greet with hello", "files": ["src/greet.rs"]}),
        ws.path(),
    )
    .await;
    assert_eq!(
        out.job.status,
        Status::Succeeded,
        "{:?}\n{}",
        out.job.error,
        out.log
    );
    assert_eq!(out.seen[0].path, "/v1/messages");
    assert_eq!(out.seen[0].header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(out.seen[0].header("x-api-key"), Some(KEY));
    let bodies = out.bodies();
    let sent = bodies[1]["messages"].as_array().unwrap();
    assert_eq!(sent.len(), 3, "the conversation so far, then the failure");
    assert_eq!(sent[1]["role"], "assistant");
    assert!(
        sent[2]["content"]
            .as_str()
            .unwrap()
            .contains("could not be applied")
    );
    out.assert_nothing_leaked();
}

#[tokio::test]
async fn chat_completions_end_at_done_without_a_key() {
    let ws = workspace();
    let out = ask(
        "compat",
        vec![chat(FIX)],
        json!({"prompt": "greet with hello", "files": ["src/greet.rs"]}),
        ws.path(),
    )
    .await;
    assert_eq!(
        out.job.status,
        Status::Succeeded,
        "{:?}\n{}",
        out.job.error,
        out.log
    );
    assert_eq!(out.seen[0].path, "/v1/chat/completions");
    assert_eq!(out.seen[0].header("authorization"), None);
    let result = out.job.result.clone().unwrap();
    assert_eq!(result["usage"]["outputTokens"], 30);
    // A local model is priced at zero on purpose, or unknown.
    assert!(greet_after(&out).contains("hello"));
}

#[tokio::test]
async fn the_answer_reaches_the_runners_owner_as_it_streams() {
    let ws = workspace();
    let mut started = start(
        "openai",
        vec![responses("resp_live", FIX)],
        json!({"prompt": "greet with hello", "files": ["src/greet.rs"]}),
        ws.path(),
    );
    let id = started.id;
    let mut live = String::new();
    let mut chunks = 0;
    // Output arrives before the job's end is reported.
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), started.events.recv())
            .await
            .expect("runner events")
            .expect("the runner is running");
        match event {
            runner::Event::Output { id: from, text } => {
                assert_eq!(from, id);
                live.push_str(&text);
                chunks += 1;
            }
            runner::Event::Ended { .. } => break,
            runner::Event::Started { .. } | runner::Event::Interrupted(_) => {}
        }
    }
    assert!(chunks >= 2, "the answer came in {chunks} chunk(s)");
    assert!(live.contains("format!(\"hello {name}\")"), "{live}");
    let out = finish(started, |_| {}).await;
    assert_eq!(out.job.status, Status::Succeeded, "{}", out.log);
}

#[tokio::test]
async fn a_provider_idle_timeout_from_the_config_ends_a_stalled_stream() {
    let ws = workspace();
    // The answer stops for 2 s in the middle: longer than the provider's
    // configured idle timeout, shorter than the kind's own (5 s).
    let mut stalled = responses("resp_1", FIX);
    stalled.pieces[2].0 = Duration::from_secs(2);
    let started = start_configured(
        "openai",
        vec![stalled, responses("resp_2", FIX)],
        json!({"prompt": "greet with hello", "files": ["src/greet.rs"]}),
        ws.path(),
        |config| config.ai.openai.idle_timeout = Some("300ms".into()),
    );
    let out = finish(started, |_| {}).await;
    assert_eq!(out.job.status, Status::Succeeded, "{}", out.log);
    assert_eq!(
        out.seen.len(),
        2,
        "the stalled call was given up and tried again"
    );
    let store = out.store();
    let outcomes = outcomes(&store);
    assert_eq!(
        outcomes.first().map(String::as_str),
        Some("timeout"),
        "{outcomes:?}"
    );
}

/// The outcome of every recorded call, in order.
fn outcomes(store: &Store) -> Vec<String> {
    store
        .conn
        .prepare("SELECT outcome FROM ai_calls ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_within_the_job() {
    let ws = workspace();
    let mut limited = Answer::error(
        429,
        r#"{"error":{"message":"slow down","type":"rate_limit_exceeded"}}"#,
    );
    limited.headers.push(("retry-after-ms", "50".into()));
    let out = ask(
        "openai",
        vec![
            limited,
            Answer::error(500, r#"{"error":{"message":"boom"}}"#),
            responses("resp_1", FIX),
        ],
        json!({"prompt": "greet with hello", "files": ["src/greet.rs"]}),
        ws.path(),
    )
    .await;
    assert_eq!(
        out.job.status,
        Status::Succeeded,
        "{:?}\n{}",
        out.job.error,
        out.log
    );
    assert_eq!(out.seen.len(), 3);
    assert_eq!(out.job.attempt, 1, "retried inside the attempt");
    assert!(out.log.contains("try 1 of 4, next in 50 ms"), "{}", out.log);
    let store = out.store();
    let outcomes = outcomes(&store);
    assert_eq!(outcomes, ["rate-limited", "server-error", "ok"]);
}

#[tokio::test]
async fn anthropic_overload_529_backs_off() {
    let ws = workspace();
    let out = ask(
        "anthropic",
        vec![
            Answer::error(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ),
            messages(FIX),
        ],
        json!({"prompt": "greet with hello", "files": ["src/greet.rs"]}),
        ws.path(),
    )
    .await;
    assert_eq!(
        out.job.status,
        Status::Succeeded,
        "{:?}\n{}",
        out.job.error,
        out.log
    );
    assert_eq!(out.seen.len(), 2);
}

#[tokio::test]
async fn insufficient_quota_is_not_retried_and_says_what_to_do() {
    let ws = workspace();
    let out = ask(
        "openai",
        vec![
            Answer::error(429, r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#),
            responses("resp_1", FIX),
        ],
        json!({"prompt": "greet with hello"}),
        ws.path(),
    )
    .await;
    assert_eq!(out.job.status, Status::Dead, "{:?}", out.job);
    assert_eq!(out.seen.len(), 1, "never retried");
    let error = out.job.error.clone().unwrap();
    assert!(error.contains("add credit"), "{error}");
    out.assert_nothing_leaked();
}

#[tokio::test]
async fn a_cut_stream_fails_with_the_partial_text_in_the_log() {
    let ws = workspace();
    let mut cut = responses("resp_1", FIX);
    cut.pieces.pop();
    cut.cut = true;
    let out = ask(
        "openai",
        vec![cut],
        json!({"prompt": "greet with hello"}),
        ws.path(),
    )
    .await;
    assert!(
        matches!(out.job.status, Status::Dead | Status::Failed),
        "{:?}",
        out.job
    );
    let error = out.job.error.clone().unwrap();
    assert!(error.contains("ended before the reply did"), "{error}");
    assert!(error.contains("kept in the job's log"), "{error}");
    assert!(
        out.log.contains("<<<<<<< SEARCH"),
        "the partial text: {}",
        out.log
    );
    assert_eq!(out.seen.len(), 1);
}

#[tokio::test]
async fn malformed_json_fails_clearly() {
    let ws = workspace();
    let answer = Answer::stream(&[
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Half\"}\n\n",
        "event: response.output_text.delta\ndata: {\"type\": nope\n\n",
    ]);
    let out = ask(
        "openai",
        vec![answer],
        json!({"prompt": "greet"}),
        ws.path(),
    )
    .await;
    let error = out.job.error.clone().unwrap_or_default();
    assert!(error.contains("malformed"), "{error}");
    assert!(out.log.contains("Half"), "{}", out.log);
}

#[tokio::test]
async fn an_answer_without_edits_is_no_error() {
    let ws = workspace();
    let out = ask(
        "openai",
        vec![responses("resp_1", "It already greets; nothing to change.")],
        json!({"prompt": "does it greet?"}),
        ws.path(),
    )
    .await;
    assert_eq!(out.job.status, Status::Succeeded, "{:?}", out.job.error);
    assert_eq!(out.job.result.clone().unwrap()["patchId"], Value::Null);
    assert!(out.log.contains("nothing to change"), "{}", out.log);
}

#[tokio::test]
async fn secret_files_are_refused_before_anything_is_sent() {
    let ws = workspace();
    for file in [".env", "src/keys.rs"] {
        let out = ask(
            "openai",
            vec![responses("resp_1", FIX)],
            json!({"prompt": "look", "files": [file]}),
            ws.path(),
        )
        .await;
        assert_eq!(out.job.status, Status::Dead, "{file}");
        assert!(
            out.job.error.clone().unwrap().contains("never sent"),
            "{:?}",
            out.job.error
        );
        assert!(out.seen.is_empty(), "{file}: nothing was sent");
    }
}

#[tokio::test]
async fn a_cancel_stops_the_call_mid_stream_and_is_recorded() {
    let ws = workspace();
    let mut slow = responses("resp_1", FIX);
    // The last event comes much later than the cancel.
    let last = slow.pieces.len() - 1;
    slow.pieces[last].0 = Duration::from_secs(30);
    let started = start("openai", vec![slow], json!({"prompt": "greet"}), ws.path());
    let seen = started.seen.clone();
    let id = started.id;
    let out = finish(started, move |remote| {
        std::thread::spawn(move || {
            for _ in 0..200 {
                if !seen.lock().unwrap().is_empty() {
                    std::thread::sleep(Duration::from_millis(200));
                    remote.cancel(id);
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
    })
    .await;
    assert_eq!(out.job.status, Status::Cancelled, "{:?}", out.job);
    let outcome: String = out
        .store()
        .conn
        .query_row("SELECT outcome FROM ai_calls", [], |r| r.get(0))
        .unwrap();
    assert_eq!(outcome, "cancelled");
}

#[test]
fn ranges_split_from_paths() {
    assert_eq!(
        split_range("src/a.rs:3-9"),
        ("src/a.rs".into(), Some((3, 9)))
    );
    assert_eq!(split_range("src/a.rs"), ("src/a.rs".into(), None));
    assert_eq!(split_range("c:odd"), ("c:odd".into(), None));
}
