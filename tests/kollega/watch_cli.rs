//! `kollega watch` summaries through the real binary: refused without a
//! provider (nothing stored), switched on and off, and one version's
//! change summarized on demand against a local server speaking the Chat
//! Completions stream, then shown by `watch show` and `watch diff`.

use crate::common::{FakeGithub, Kollega, assert_success, chat_stream, json_error, stdout};

const SUMMARY: &str =
    "Rule 7's fee rises from 10 EUR to 12 EUR.\nTeams must budget 12 EUR from 1 March 2027.";

#[test]
fn summaries_are_refused_without_a_provider_switched_and_asked_for_one_version() {
    // No key for the default provider: refused, nothing stored.
    let bare = Kollega::new();
    let out = bare.run([
        "watch",
        "add",
        "https://example.gov/rules/7",
        "--summarize",
        "--json",
    ]);
    let error = json_error(&out);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("summaries need a model provider"),
        "{error}"
    );
    assert!(message.contains("OPENAI_API_KEY"), "{error}");
    assert!(
        error["hint"]
            .as_str()
            .unwrap()
            .contains("without --summarize"),
        "{error}"
    );
    assert_eq!(bare.rows("regwatches"), 0);

    let server = FakeGithub::start(|_| (200, chat_stream(SUMMARY)));
    let k = Kollega::new().env("KOLLEGA_COMPAT_BASE_URL", &format!("{}/v1", server.url));
    std::fs::write(
        k.config.join("config.toml"),
        "[ai]\nprovider = \"compat\"\n",
    )
    .unwrap();
    let added = k.json([
        "watch",
        "add",
        "https://example.gov/rules/7",
        "--summarize",
        "--json",
    ]);
    assert_eq!(added["summarize"], true);
    let id = added["id"].as_i64().unwrap();
    let ids = id.to_string();
    assert_eq!(k.json(["watch", "ls", "--json"])[0]["summarize"], true);
    let off = k.json(["watch", "summarize", &ids, "off", "--json"]);
    assert_eq!(off["summarize"], false);
    assert_eq!(k.json(["watch", "ls", "--json"])[0]["summarize"], false);

    // Two versions, as two fetches would have stored them.
    let db = rusqlite::Connection::open(k.db_path()).unwrap();
    for (content, at) in [
        ("Fees: 10 EUR.\n", 1_000),
        ("Fees: 12 EUR from 1 March 2027.\n", 2_000),
    ] {
        db.execute(
            "INSERT INTO regwatch_versions (watch_id, content, content_hash, fetched_at)
             VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![id, content, format!("h{at}"), at],
        )
        .unwrap();
    }
    let versions: Vec<i64> = db
        .prepare("SELECT id FROM regwatch_versions ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(db);
    let (first, second) = (versions[0].to_string(), versions[1].to_string());

    let refused = k.run(["watch", "summarize", &ids, "--version", &first, "--json"]);
    assert!(
        json_error(&refused)["message"]
            .as_str()
            .unwrap()
            .contains("no change to summarize"),
        "{}",
        stdout(&refused)
    );
    assert!(server.requests().is_empty(), "nothing was asked");

    let out = k.run(["watch", "summarize", &ids, "--version", &second]);
    assert_success(&out);
    let printed = stdout(&out);
    assert!(
        printed.contains("Teams must budget 12 EUR from 1 March 2027."),
        "{printed}"
    );
    assert!(printed.contains("prompt watch/summary.v1"), "{printed}");
    assert!(printed.contains("90 input, 30 output tokens"), "{printed}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/chat/completions");
    assert!(
        requests[0]
            .body
            .contains("+Fees: 12 EUR from 1 March 2027.")
    );

    let shown = stdout(&k.run(["watch", "show", &ids]));
    assert!(
        shown.contains("summary of the change (compat qwen2.5-coder, watch/summary.v1):"),
        "{shown}"
    );
    assert!(
        shown.contains("      Rule 7's fee rises from 10 EUR to 12 EUR."),
        "{shown}"
    );
    let json = k.json(["watch", "show", &ids, "--json"]);
    assert_eq!(json["versions"][0]["summary"], serde_json::Value::Null);
    assert_eq!(json["versions"][1]["summary"], SUMMARY);
    assert_eq!(
        json["versions"][1]["summaryCall"]["promptVersion"],
        "watch/summary.v1"
    );
    assert_eq!(json["versions"][1]["summaryCall"]["inputTokens"], 90);
    let diff = k.json(["watch", "diff", &ids, "--json"]);
    assert_eq!(diff["summary"], SUMMARY);
}
