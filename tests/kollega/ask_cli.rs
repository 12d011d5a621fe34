//! `kollega ask` and `kollega usage` through the real binary, against a
//! local server speaking the OpenAI Responses stream (base URL and key
//! from the environment, as the SDKs read them).

use serde_json::{Value, json};

use crate::common::{FakeGithub, Kollega, assert_success, contains_bytes, stderr};

const KEY: &str = "sk-cli-test-0123456789abcdefKEYKEY";

/// A whole Responses stream answering `text` as response `id`.
fn stream(id: &str, text: &str) -> String {
    let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    [
        event(
            "response.created",
            json!({"type": "response.created", "response": {"id": id, "model": "gpt-5.1"}}),
        ),
        event(
            "response.output_text.delta",
            json!({"type": "response.output_text.delta", "delta": text}),
        ),
        event(
            "response.completed",
            json!({"type": "response.completed", "response": {"id": id, "model": "gpt-5.1",
                "usage": {"input_tokens": 800, "input_tokens_details": {"cached_tokens": 100}, "output_tokens": 60}}}),
        ),
    ]
    .concat()
}

const FIX: &str = "src/greet.ts\n```ts\n<<<<<<< SEARCH\n  return `hi ${name}`;\n=======\n  return `hello ${name}`;\n>>>>>>> REPLACE\n```\nCommit: greet with hello\n";

#[test]
fn ask_json_stores_a_patch_and_usage_adds_up_two_calls() {
    let answers = std::sync::atomic::AtomicUsize::new(0);
    let server = FakeGithub::start(move |_| {
        let n = answers.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let text = if n == 0 {
            FIX
        } else {
            "Nothing else needs to change."
        };
        (200, stream(&format!("resp_{n}"), text))
    });
    let k = Kollega::new()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", &format!("{}/v1", server.url));
    let ws = k.scratch("app");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::write(
        ws.join("src/greet.ts"),
        "export function greet(name: string) {\n  return `hi ${name}`;\n}\n",
    )
    .unwrap();
    std::fs::write(ws.join(".env"), "STRIPE_SECRET=sk_live_do_not_send\n").unwrap();
    let dir = ws.to_str().unwrap();

    let out = k.run([
        "ask",
        dir,
        "greet with hello",
        "--file",
        "src/greet.ts",
        "--json",
    ]);
    assert_success(&out);
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(answer["patchId"].as_i64().is_some(), "{answer}");
    assert_eq!(answer["files"], 1);
    assert_eq!(answer["hunks"], 1);
    assert_eq!(answer["usage"]["inputTokens"], 800);
    assert_eq!(answer["usage"]["cachedTokens"], 100);
    assert!(
        answer["usage"]["costUsd"].as_f64().unwrap() > 0.0,
        "{answer}"
    );
    assert!(
        stderr(&out).contains("hello ${name}"),
        "the answer streams to stderr"
    );
    // The workspace is not written before review.
    assert!(
        std::fs::read_to_string(ws.join("src/greet.ts"))
            .unwrap()
            .contains("hi ${name}")
    );

    let out = k.run(["ask", dir, "anything else?", "--continue", "--json"]);
    assert_success(&out);
    let second: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(second["patchId"], Value::Null);
    assert_eq!(second["conversationId"], answer["conversationId"]);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/v1/responses");
    let continued: Value = serde_json::from_str(&requests[1].body).unwrap();
    assert_eq!(continued["previous_response_id"], "resp_0");
    for request in &requests {
        assert!(!request.body.contains(KEY), "the key is in a body");
        assert!(
            !request.body.contains("sk_live_do_not_send"),
            ".env was sent"
        );
    }

    let usage = k.json(["usage", "--json"]);
    assert_eq!(usage["total"]["requests"], 2, "{usage}");
    assert_eq!(usage["total"]["inputTokens"], 1600);
    assert_eq!(usage["models"][0]["provider"], "openai");
    assert_eq!(usage["models"][0]["model"], "gpt-5.1");
    assert_eq!(usage["workspaces"].as_array().unwrap().len(), 1);
    assert_eq!(
        usage["sessions"].as_array().unwrap().len(),
        2,
        "one per process"
    );

    // The key reached no file kollega wrote.
    for entry in walkdir::WalkDir::new(&k.data).into_iter().flatten() {
        if entry.file_type().is_file() {
            let mut bytes = std::fs::read(entry.path()).unwrap();
            if entry.path().extension().is_some_and(|e| e == "gz") {
                let mut plain = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(&bytes[..]),
                    &mut plain,
                )
                .unwrap();
                bytes = plain;
            }
            assert!(
                !contains_bytes(&bytes, KEY.as_bytes()),
                "the key is in {}",
                entry.path().display()
            );
        }
    }
}

#[test]
fn ask_without_a_key_names_the_variable_to_set() {
    let k = Kollega::new();
    let ws = k.scratch("app");
    std::fs::create_dir_all(&ws).unwrap();
    let out = k.run(["ask", ws.to_str().unwrap(), "do it", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("OPENAI_API_KEY"), "{error}");
}

#[test]
fn ask_reads_a_stored_workspace_and_refuses_its_flagged_secrets() {
    let server = FakeGithub::start(|_| (200, stream("resp_s", FIX)));
    let k = Kollega::new()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", &format!("{}/v1", server.url));
    let src = k.scratch("shop");
    std::fs::create_dir_all(src.join("src")).unwrap();
    std::fs::write(
        src.join("src/greet.ts"),
        "export function greet(name: string) {\n  return `hi ${name}`;\n}\n",
    )
    .unwrap();
    std::fs::write(
        src.join("src/stripe.ts"),
        "export const key = \"sk_live_51HfYq2LkPq8Zr3Tx9Vb7Nc4Md2Wa6Ke5Jf1Gh0\";\n",
    )
    .unwrap();
    k.import(&src, "shop", &[]);

    let out = k.run(["ask", "shop", "look", "--file", "src/stripe.ts", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("never sent"),
        "{error}"
    );
    assert!(server.requests().is_empty(), "nothing was sent");

    let answer = k.json([
        "ask",
        "shop",
        "greet with hello",
        "--file",
        "src/greet.ts",
        "--json",
    ]);
    assert_eq!(answer["files"], 1, "{answer}");
    let sent = &server.requests()[0].body;
    assert!(
        sent.contains("return `hi ${name}`"),
        "the stored file was sent"
    );
    assert!(!sent.contains("sk_live_"), "the flagged file was not");
}

#[test]
fn a_failed_build_is_fixed_through_the_model_with_its_log_and_files() {
    let server = FakeGithub::start(move |_| (200, stream("resp_fix", FIX)));
    let k = Kollega::new()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", &format!("{}/v1", server.url));
    let ws = k.scratch("app");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::write(
        ws.join("src/greet.ts"),
        "export function greet(name: string) {\n  return `hi ${name}`;\n}\n",
    )
    .unwrap();
    let dir = ws.to_str().unwrap();
    // A "build" that fails naming the file, as tsc does.
    let build = k.run([
        "run",
        dir,
        "--",
        "sh",
        "-c",
        "echo \"src/greet.ts(2,3): error TS2322: greeting must say hello\"; exit 2",
    ]);
    assert!(!build.status.success());
    let jobs = k.json(["jobs", "--json"]);
    let id = jobs[0]["id"].as_i64().unwrap();
    let out = k.run(["jobs", "fix", &id.to_string(), "--json"]);
    assert_success(&out);
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["hunks"], 1, "{answer}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let body = &requests[0].body;
    assert!(
        body.contains("greeting must say hello"),
        "the log's tail is sent"
    );
    assert!(
        body.contains("return `hi ${name}`"),
        "the named file is sent: {body}"
    );
    assert!(body.contains("exited with code 2"));
    // A job that did not fail is refused, clearly.
    let ok = k.run(["run", dir, "--", "true"]);
    assert_success(&ok);
    let jobs = k.json(["jobs", "--json"]);
    let done = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["status"] == "succeeded" && j["kind"] == "command")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let refused = k.run(["jobs", "fix", &done.to_string()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("fix with AI reads the log of a job that failed"));
}
