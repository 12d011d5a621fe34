//! Calls against a local server that speaks each provider's wire format,
//! streaming chunk by chunk, and its failures.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::ai::failure::Retry;
use crate::ai::wire::{Stop, Usage};
use crate::git::github::fake::{Request as Seen, read_request};

const KEY: &str = "sk-test-0123456789abcdefKEY";

/// One scripted answer: status, headers, then body pieces each sent after
/// its pause; `cut` drops the connection instead of ending the body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) pieces: Vec<(Duration, String)>,
    pub(crate) cut: bool,
}

impl Answer {
    pub(crate) fn stream(pieces: &[&str]) -> Answer {
        Answer {
            status: 200,
            headers: vec![("content-type", "text/event-stream".into())],
            pieces: pieces
                .iter()
                .map(|p| (Duration::ZERO, p.to_string()))
                .collect(),
            cut: false,
        }
    }

    pub(crate) fn error(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: vec![("content-type", "application/json".into())],
            pieces: vec![(Duration::ZERO, body.to_string())],
            cut: false,
        }
    }
}

/// A Chat Completions stream answering `text` from `gpt-4o-mini`, with
/// 1,000 input and 200 output tokens.
pub(crate) fn chat(text: &str) -> Answer {
    Answer::stream(&[
        &format!(
            "data: {}\n\n",
            serde_json::json!({"id": "c1", "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
        ),
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":200}}\n\n",
        "data: [DONE]\n\n",
    ])
}

/// Serves one answer per connection, in order, and records the requests.
pub(crate) fn serve(answers: Vec<Answer>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for answer in answers {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let Some(request) = read_request(&mut stream) else {
                continue;
            };
            log.lock().unwrap().push(request);
            let mut head = format!("HTTP/1.1 {} Status\r\n", answer.status);
            for (name, value) in &answer.headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.flush();
            for (pause, piece) in &answer.pieces {
                std::thread::sleep(*pause);
                let _ = write!(stream, "{:x}\r\n{piece}\r\n", piece.len());
                let _ = stream.flush();
            }
            if !answer.cut {
                let _ = stream.write_all(b"0\r\n\r\n");
            }
            let _ = stream.flush();
        }
    });
    (url, seen)
}

fn endpoint(provider: Provider, base: &str, key: Option<&str>) -> Endpoint {
    let vars = [
        ("OPENAI_API_KEY", key),
        ("ANTHROPIC_API_KEY", key),
        ("KOLLEGA_COMPAT_API_KEY", key),
        ("OPENAI_BASE_URL", Some(base)),
        ("ANTHROPIC_BASE_URL", Some(base)),
        ("KOLLEGA_COMPAT_BASE_URL", Some(base)),
    ];
    Endpoint::from_env(provider, None, |name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.map(str::to_string))
    })
    .unwrap()
}

const ASK: Request<'static> = Request {
    instructions: "Answer with a patch.",
    history: &[],
    prompt: "Rename foo to bar",
    previous_response_id: None,
    max_output_tokens: 4096,
};

fn quick() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        idle: Duration::from_secs(5),
    }
}

async fn call(
    endpoint: &Endpoint,
    request: &Request<'_>,
    timeouts: Timeouts,
) -> (Vec<String>, Result<Reply, CallError>) {
    let client = http_client(endpoint, timeouts).unwrap();
    let mut pieces = Vec::new();
    let reply = stream(&client, endpoint, request, timeouts, |t| {
        pieces.push(t.to_string())
    })
    .await;
    (pieces, reply)
}

pub(crate) fn event(name: &str, data: &str) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

#[tokio::test]
async fn openai_responses_stream_with_follow_up_id() {
    let (url, seen) = serve(vec![Answer::stream(&[
        &event(
            "response.created",
            r#"{"type":"response.created","response":{"id":"resp_9","model":"gpt-5.1"}}"#,
        ),
        &event(
            "response.output_text.delta",
            r#"{"type":"response.output_text.delta","delta":"Hej"}"#,
        ),
        &event(
            "response.output_text.delta",
            r#"{"type":"response.output_text.delta","delta":" då"}"#,
        ),
        &event(
            "response.completed",
            r#"{"type":"response.completed","response":{"id":"resp_9","usage":{"input_tokens":50,"input_tokens_details":{"cached_tokens":10},"output_tokens":4}}}"#,
        ),
    ])]);
    let endpoint = endpoint(Provider::OpenAi, &format!("{url}/v1"), Some(KEY));
    let request = Request {
        previous_response_id: Some("resp_8"),
        ..ASK
    };
    let (pieces, reply) = call(&endpoint, &request, quick()).await;
    let reply = reply.unwrap();
    assert_eq!(pieces, ["Hej", " då"]);
    assert_eq!(reply.text, "Hej då");
    assert_eq!(reply.response_id.as_deref(), Some("resp_9"));
    assert_eq!(
        reply.usage,
        Usage {
            input: 50,
            output: 4,
            cached: 10
        }
    );
    let seen = seen.lock().unwrap();
    let sent = &seen[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/responses");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let body: Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["model"], "gpt-5.1");
    assert_eq!(body["stream"], true);
    assert_eq!(body["previous_response_id"], "resp_8");
    assert_eq!(body["input"][0]["content"][0]["text"], "Rename foo to bar");
}

#[tokio::test]
async fn anthropic_messages_carry_the_version_and_key_headers() {
    let (url, seen) = serve(vec![Answer::stream(&[
        &event(
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-4-5","usage":{"input_tokens":7,"output_tokens":1}}}"#,
        ),
        &event(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}"#,
        ),
        &event(
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":9}}"#,
        ),
        &event("message_stop", r#"{"type":"message_stop"}"#),
    ])]);
    let endpoint = endpoint(Provider::Anthropic, &url, Some(KEY));
    let (_, reply) = call(&endpoint, &ASK, quick()).await;
    let reply = reply.unwrap();
    assert_eq!(reply.text, "ok");
    assert_eq!(reply.stop, Stop::Truncated("max_tokens".into()));
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].path, "/v1/messages");
    assert_eq!(seen[0].header("x-api-key"), Some(KEY));
    assert_eq!(seen[0].header("anthropic-version"), Some(ANTHROPIC_VERSION));
    assert_eq!(seen[0].header("authorization"), None);
    let body: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body["system"], "Answer with a patch.");
    assert_eq!(body["max_tokens"], 4096);
}

#[tokio::test]
async fn a_compatible_server_needs_no_key_and_ends_at_done() {
    let (url, seen) = serve(vec![Answer::stream(&[
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    ])]);
    let endpoint = endpoint(Provider::Compat, &format!("{url}/v1"), None);
    let (_, reply) = call(&endpoint, &ASK, quick()).await;
    assert_eq!(reply.unwrap().text, "a");
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(seen[0].header("authorization"), None);
    let body: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["messages"][1]["content"], "Rename foo to bar");
}

#[tokio::test]
async fn rate_limits_quota_and_overload_are_read_from_the_answer() {
    let mut limited = Answer::error(
        429,
        r#"{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}"#,
    );
    limited.headers.push(("retry-after", "2".into()));
    let (url, _) = serve(vec![
        limited,
        Answer::error(
            429,
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        ),
        Answer::error(
            529,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
    ]);
    let openai = endpoint(Provider::OpenAi, &url, Some(KEY));
    let retry = |r: Result<Reply, CallError>| match r {
        Err(CallError::Http { failure, .. }) => failure.retry,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        retry(call(&openai, &ASK, quick()).await.1),
        Retry::After(Duration::from_secs(2))
    );
    assert_eq!(retry(call(&openai, &ASK, quick()).await.1), Retry::Never);
    let anthropic = endpoint(Provider::Anthropic, &url, Some(KEY));
    assert_eq!(
        retry(call(&anthropic, &ASK, quick()).await.1),
        Retry::Backoff
    );
}

#[tokio::test]
async fn a_cut_or_stalled_stream_keeps_the_text_received() {
    let delta = event(
        "response.output_text.delta",
        r#"{"type":"response.output_text.delta","delta":"half"}"#,
    );
    let mut cut = Answer::stream(&[&delta, "event: response.completed\ndata: {\"type\":"]);
    cut.cut = true;
    let mut stalled = Answer::stream(&[&delta]);
    stalled.pieces.push((Duration::from_secs(3), delta.clone()));
    let (url, _) = serve(vec![cut, stalled]);
    let endpoint = endpoint(Provider::OpenAi, &url, Some(KEY));
    let err = call(&endpoint, &ASK, quick()).await.1.unwrap_err();
    assert!(
        matches!(
            &err,
            CallError::Wire {
                source: WireError::Cut { .. }
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.partial(), "half");
    let short = Timeouts {
        connect: Duration::from_secs(5),
        idle: Duration::from_millis(300),
    };
    let err = call(&endpoint, &ASK, short).await.1.unwrap_err();
    assert!(matches!(&err, CallError::Idle { .. }), "{err:?}");
    assert_eq!(err.partial(), "half");
}

#[tokio::test]
async fn the_key_never_shows_in_an_error_even_when_the_server_echoes_it() {
    let (url, _) = serve(vec![Answer::error(
        401,
        &format!(
            r#"{{"error":{{"message":"Incorrect API key provided: {KEY}","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
        ),
    )]);
    let endpoint = endpoint(Provider::OpenAi, &url, Some(KEY));
    let err = call(&endpoint, &ASK, quick()).await.1.unwrap_err();
    let shown = format!("{err} {err:?} {} {endpoint:?}", err.hint());
    assert!(!shown.contains(KEY), "{shown}");
    assert!(
        shown.contains("[redacted]") && shown.contains("OPENAI_API_KEY"),
        "{shown}"
    );
}

#[test]
fn the_environment_is_read_as_the_official_sdks_read_it() {
    let none = |_: &str| None;
    let err = Endpoint::from_env(Provider::Anthropic, None, none).unwrap_err();
    assert!(
        err.to_string().contains("ANTHROPIC_API_KEY is not set"),
        "{err}"
    );
    let openai = Endpoint::from_env(Provider::OpenAi, None, |n: &str| {
        (n == "OPENAI_API_KEY").then(|| KEY.into())
    })
    .unwrap();
    assert_eq!(openai.url(), "https://api.openai.com/v1/responses");
    assert_eq!(openai.model, "gpt-5.1");
    let anthropic = Endpoint::from_env(Provider::Anthropic, Some("claude-opus-4-1"), |n: &str| {
        (n == "ANTHROPIC_API_KEY").then(|| KEY.into())
    })
    .unwrap();
    assert_eq!(anthropic.url(), "https://api.anthropic.com/v1/messages");
    assert_eq!(anthropic.model, "claude-opus-4-1");
    let compat = Endpoint::from_env(Provider::Compat, None, |n: &str| match n {
        "KOLLEGA_COMPAT_BASE_URL" => Some("http://gpu-box:8000/v1/".into()),
        "KOLLEGA_COMPAT_MODEL" => Some("llama3.3".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(compat.url(), "http://gpu-box:8000/v1/chat/completions");
    assert_eq!(compat.model, "llama3.3");
    let err = Endpoint::from_env(Provider::Compat, None, |n: &str| {
        (n == "KOLLEGA_COMPAT_BASE_URL").then(|| "ftp://x".into())
    })
    .unwrap_err();
    assert!(err.to_string().contains("KOLLEGA_COMPAT_BASE_URL"), "{err}");
}
