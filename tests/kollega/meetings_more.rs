//! `kollega meetings expect`, what `meetings show` says of it, and
//! `kollega backup` / `kollega restore` from the command line.

use chrono::{Duration, Utc};
use serde_json::Value;

use crate::common::*;

/// A calendar with one meeting that ended yesterday, imported: its id.
fn meeting(k: &Kollega) -> String {
    let at = |hours: i64| {
        (Utc::now() - Duration::hours(hours))
            .format("%Y%m%dT%H%M%SZ")
            .to_string()
    };
    let ics = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "BEGIN:VEVENT".into(),
        "UID:retro@example.com".into(),
        format!("DTSTART:{}", at(26)),
        format!("DTEND:{}", at(25)),
        "SUMMARY:Retro".into(),
        "ATTENDEE;CN=Ann Berg:mailto:ann@example.com".into(),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ]
    .join("\r\n")
        + "\r\n";
    let file = k.scratch("retro.ics");
    std::fs::write(&file, ics).unwrap();
    k.json([
        "meetings".as_ref(),
        "import".as_ref(),
        file.as_os_str(),
        "--json".as_ref(),
    ]);
    k.json(["meetings", "--days", "1", "--json"]);
    k.db()
        .query_row(
            "SELECT id FROM meetings WHERE uid = 'retro@example.com'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        .to_string()
}

#[test]
fn an_expected_transcript_is_queued_for_the_meetings_end_and_shown() {
    let k = Kollega::new();
    let id = meeting(&k);
    let source = k.scratch("retro.vtt");
    let out = k.json([
        "meetings".as_ref(),
        "expect".as_ref(),
        id.as_ref(),
        source.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(out["source"], source.to_string_lossy().as_ref());
    let job = out["jobId"].as_i64().unwrap();
    let kind: String = k
        .db()
        .query_row("SELECT kind FROM jobs WHERE id = ?1", [job], |r| r.get(0))
        .unwrap();
    assert_eq!(kind, "transcript");
    let shown = k.json(["meetings", "show", &id, "--json"]);
    assert_eq!(shown["transcriptExpected"]["state"], "expected");
    assert_eq!(shown["transcriptExpected"]["tries"], 0);
    assert_eq!(shown["processing"], "none");
    let text = stdout(&k.run(["meetings", "show", &id]));
    assert!(text.contains("transcript expected from"), "{text}");

    // A nudged action item, its webhook dead: show says so.
    let added = k.json(["actions", "add", &id, "Send the notes", "--json"]);
    let action = added["id"].as_i64().unwrap();
    rusqlite::Connection::open(k.db_path())
        .unwrap()
        .execute(
            "INSERT INTO nudges (action_id, at, channel, outcome, error) VALUES
                 (?1, 1, 'badge', 'ok', NULL), (?1, 2, 'webhook', 'dead', 'it answered 503')",
            [action],
        )
        .unwrap();
    let shown = k.json(["meetings", "show", &id, "--json"]);
    assert_eq!(shown["nudges"].as_array().unwrap().len(), 2, "{shown}");
    assert_eq!(shown["nudges"][1]["outcome"], "dead");
    let text = stdout(&k.run(["meetings", "show", &id]));
    assert!(text.contains("nudged 1 time(s)"), "{text}");
    assert!(
        text.contains("the webhook gave up: it answered 503"),
        "{text}"
    );

    let bad = k.run(["meetings", "expect", "999", "x.vtt", "--json"]);
    assert_code(&bad, 1);
    let error = json_error(&bad);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no meeting 999")
    );
    assert!(error["hint"].as_str().unwrap().contains("kollega meetings"));
    let hostless = k.run(["meetings", "expect", &id, "https://", "--json"]);
    assert!(!hostless.status.success());
    assert!(
        json_error(&hostless)["message"]
            .as_str()
            .unwrap()
            .contains("https://")
    );
}

#[test]
fn backup_and_restore_round_trip_and_refuse_what_is_not_a_store() {
    let k = Kollega::new();
    let id = meeting(&k);
    let copy = k.scratch("copy.db");
    let done = k.json(["backup".as_ref(), copy.as_os_str(), "--json".as_ref()]);
    assert!(done["bytes"].as_u64().unwrap() > 0);
    // Again without --force: refused, the copy kept.
    let again = k.run(["backup".as_ref(), copy.as_os_str()]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    k.json([
        "meetings",
        "note",
        &id,
        "--text",
        "after the backup",
        "--json",
    ]);
    assert_eq!(k.rows("meeting_notes"), 1);
    let unasked = k.run(["restore".as_ref(), copy.as_os_str()]);
    assert!(!unasked.status.success());
    assert!(stderr(&unasked).contains("--yes"), "{}", stderr(&unasked));
    assert_eq!(k.rows("meeting_notes"), 1, "nothing restored without --yes");
    let restored = k.json([
        "restore".as_ref(),
        copy.as_os_str(),
        "--yes".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(k.rows("meeting_notes"), 0, "the store is the backup's");
    let previous = restored["previous"].as_str().unwrap();
    assert!(std::path::Path::new(previous).is_file(), "{restored}");
    let shown: Value = k.json(["meetings", "show", &id, "--json"]);
    assert_eq!(shown["title"], "Retro");

    let junk = k.scratch("junk.db");
    std::fs::write(&junk, "not a database at all, only text").unwrap();
    let refused = k.run([
        "restore".as_ref(),
        junk.as_os_str(),
        "--yes".as_ref(),
        "--json".as_ref(),
    ]);
    assert!(!refused.status.success());
    let error = json_error(&refused);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("is not a kollega database"),
        "{error}"
    );
    let shown: Value = k.json(["meetings", "show", &id, "--json"]);
    assert_eq!(shown["title"], "Retro", "the store is untouched");
}

#[test]
fn watches_are_added_listed_and_removed_with_clear_refusals() {
    let k = Kollega::new();
    let added = k.json([
        "watch",
        "add",
        "https://example.gov/rules.rss",
        "--every",
        "1d",
        "--json",
    ]);
    assert_eq!(added["everySeconds"], 86_400);
    let id = added["id"].as_i64().unwrap().to_string();
    let twice = k.run(["watch", "add", "https://example.gov/rules.rss", "--json"]);
    assert!(
        json_error(&twice)["message"]
            .as_str()
            .unwrap()
            .contains("watched already")
    );
    let often = k.run(["watch", "add", "https://example.gov/b", "--every", "1m"]);
    assert_code(&often, 2);
    assert!(
        stderr(&often).contains("5 minutes to 365 days"),
        "{}",
        stderr(&often)
    );
    let ftp = k.run(["watch", "add", "ftp://example.gov/x", "--json"]);
    assert!(
        json_error(&ftp)["message"]
            .as_str()
            .unwrap()
            .contains("ftp://")
    );

    let list = k.json(["watch", "ls", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["versions"], 0);
    let shown = k.json(["watch", "show", &id, "--json"]);
    assert_eq!(shown["versions"].as_array().unwrap().len(), 0);
    let nothing = k.run(["watch", "diff", &id, "--json"]);
    let error = json_error(&nothing);
    assert!(
        error["hint"]
            .as_str()
            .unwrap()
            .contains("kollega watch show"),
        "{error}"
    );
    k.json(["watch", "rm", &id, "--json"]);
    let gone = k.run(["watch", "rm", &id, "--json"]);
    assert!(
        json_error(&gone)["hint"]
            .as_str()
            .unwrap()
            .contains("kollega watch ls")
    );
}

#[test]
fn modules_are_switched_per_workspace_and_refused_when_off_or_under_basic() {
    let k = Kollega::new();
    let id = meeting(&k);
    let ws = k.scratch("acme");
    std::fs::create_dir_all(&ws).unwrap();
    let ws = ws.display().to_string();
    let doc = k.scratch("offer.txt");
    std::fs::write(&doc, "Delivery within 30 days.\n").unwrap();
    let doc = doc.display().to_string();

    let listed = k.json(["modules", "ls", "--workspace", &ws, "--json"]);
    let names: Vec<(&str, bool)> = listed["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["on"].as_bool().unwrap()))
        .collect();
    assert_eq!(names, [("copilot", false), ("procurement", false)]);
    assert_eq!(listed["modules"][0]["promptVersion"], "modules/copilot.v2");

    let ask = [
        "meetings",
        "module",
        &id,
        "copilot",
        "--doc",
        &doc,
        "--ask",
        "When?",
        "--workspace",
        &ws,
        "--json",
    ];
    let off = json_error(&k.run(ask));
    assert!(
        off["message"]
            .as_str()
            .unwrap()
            .contains("module copilot is off"),
        "{off}"
    );
    assert!(
        off["hint"]
            .as_str()
            .unwrap()
            .contains("kollega modules on copilot --workspace")
    );

    let on = k.json(["modules", "on", "copilot", "--workspace", &ws, "--json"]);
    assert_eq!(
        (on["on"].as_bool(), on["changed"].as_bool()),
        (Some(true), Some(true))
    );
    let listed = k.json(["modules", "ls", "--workspace", &ws, "--json"]);
    assert_eq!(listed["modules"][0]["on"], true);

    // The imported meeting's consent is basic: no document text may go.
    let basic = json_error(&k.run(ask));
    assert!(
        basic["message"]
            .as_str()
            .unwrap()
            .contains("consent is basic"),
        "{basic}"
    );
    assert!(
        basic["hint"]
            .as_str()
            .unwrap()
            .contains(&format!("kollega meetings consent {id} plus")),
        "{basic}"
    );
    assert_eq!(k.rows("jobs"), 0, "nothing was queued");
    assert_eq!(k.rows("module_answers"), 0);

    // Stored answers are listed by `meetings show`: a plain-text one of
    // the v1 prompt as text, a v2 one as its structure.
    let procurement = r#"{"criteria":[{"criterion":"Delivery within 45 days","verdict":"met","passage":"Delivery within 30 days.","line":1},{"criterion":"Fixed price","verdict":"unclear","passage":"no passage","line":null}],"flags":[{"kind":"deadline","text":"delivery by 2027-01-31","line":9,"outOfRange":true}]}"#;
    let conn = rusqlite::Connection::open(k.db_path()).unwrap();
    conn.execute(
        "INSERT INTO module_answers (meeting_id, module, prompt_version, question, answer, created_at)
         VALUES (?1, 'copilot', 'modules/copilot.v1', 'When?', 'Within 30 days [L1].', 0)",
        [id.parse::<i64>().unwrap()],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO module_answers (meeting_id, module, prompt_version, question, answer, created_at)
         VALUES (?1, 'procurement', 'modules/procurement.v2', 'Delivery within 45 days', ?2, 1000)",
        rusqlite::params![id.parse::<i64>().unwrap(), procurement],
    )
    .unwrap();
    drop(conn);
    let shown = k.json(["meetings", "show", &id, "--json"]);
    let answers = shown["moduleAnswers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(answers.len(), 2, "{shown}");
    assert_eq!(answers[0]["promptVersion"], "modules/copilot.v1");
    assert_eq!(answers[0]["format"], "text");
    assert_eq!(answers[0]["answer"], "Within 30 days [L1].");
    assert_eq!(answers[1]["promptVersion"], "modules/procurement.v2");
    assert_eq!(answers[1]["format"], "json");
    assert_eq!(answers[1]["answer"]["criteria"][1]["verdict"], "unclear");
    assert_eq!(answers[1]["answer"]["flags"][0]["outOfRange"], true);
    let text = stdout(&k.run(["meetings", "show", &id]));
    assert!(text.contains("module copilot answer 1"), "{text}");
    assert!(text.contains("    Within 30 days [L1]."), "{text}");
    assert!(text.contains("module procurement answer 2"), "{text}");
    assert!(
        text.contains(
            "met Delivery within 45 days \u{2014} \u{201c}Delivery within 30 days.\u{201d} [L1]"
        ),
        "{text}"
    );
    assert!(text.contains("1 met, 0 unmet, 1 unclear"), "{text}");
    assert!(
        text.contains("deadline delivery by 2027-01-31 [L9: not a line of the document]"),
        "{text}"
    );

    let off = k.json(["modules", "off", "copilot", "--workspace", &ws, "--json"]);
    assert_eq!(off["on"], false);
    let bad = json_error(&k.run(["modules", "on", "translator", "--json"]));
    assert!(
        bad["hint"]
            .as_str()
            .unwrap()
            .contains("copilot, procurement"),
        "{bad}"
    );
}

#[test]
fn a_procurement_check_answers_verdicts_and_drops_flags_under_plus() {
    let answer = r#"{"criteria": [
        {"criterion": "Delivery within 45 days", "verdict": "met", "passage": "Delivery within 30 days.", "line": 1},
        {"criterion": "Fixed price", "verdict": "unmet", "passage": "Price on request.", "line": 2}
    ], "flags": [{"kind": "term", "text": "price on request", "line": 2}]}"#;
    let server = FakeGithub::start(move |_| (200, chat_stream(answer)));
    let k = Kollega::new().env("KOLLEGA_COMPAT_BASE_URL", &format!("{}/v1", server.url));
    std::fs::write(
        k.config.join("config.toml"),
        "[ai]\nprovider = \"compat\"\n",
    )
    .unwrap();
    let id = meeting(&k);
    let ws = k.scratch("acme");
    std::fs::create_dir_all(&ws).unwrap();
    let ws = ws.display().to_string();
    let doc = k.scratch("tender.txt");
    std::fs::write(&doc, "Delivery within 30 days.\nPrice on request.\n").unwrap();
    let criteria = k.scratch("criteria.txt");
    std::fs::write(&criteria, "Delivery within 45 days\nFixed price\n").unwrap();
    assert_success(&k.run(["modules", "on", "procurement", "--workspace", &ws]));
    assert_success(&k.run(["meetings", "consent", &id, "plus"]));
    let (doc, criteria) = (doc.display().to_string(), criteria.display().to_string());
    let check = [
        "meetings",
        "module",
        &id,
        "procurement",
        "--doc",
        &doc,
        "--criteria",
        &criteria,
        "--workspace",
        &ws,
    ];
    let out = k.run(check);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("met Delivery within 45 days"), "{text}");
    assert!(text.contains("unmet Fixed price"), "{text}");
    assert!(text.contains("1 met, 1 unmet, 0 unclear"), "{text}");
    assert!(
        text.contains("1 flag(s) left out: flags are kept only under consent legal"),
        "{text}"
    );
    assert!(
        !text.contains("price on request ["),
        "the flag is not shown: {text}"
    );

    assert_success(&k.run(["meetings", "consent", &id, "legal"]));
    let mut json_check = check.to_vec();
    json_check.push("--json");
    let result = k.json(json_check);
    assert_eq!(result["promptVersion"], "modules/procurement.v2");
    assert_eq!(result["flagsDropped"], 0);
    assert_eq!(result["answer"]["flags"][0]["kind"], "term");
    assert_eq!(result["answer"]["criteria"][1]["verdict"], "unmet");
    let shown = k.json(["meetings", "show", &id, "--json"]);
    let answers = shown["moduleAnswers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(answers.len(), 2, "{shown}");
    assert!(answers[0]["answer"].get("flags").is_none(), "{shown}");
    assert_eq!(answers[1]["answer"]["flags"][0]["text"], "price on request");
}
