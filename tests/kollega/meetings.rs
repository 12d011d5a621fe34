//! Meetings from the command line: importing calendars (files and URLs),
//! the listing in the user's zone, notes, transcripts, decisions, action
//! items, stakeholders, consent, and forgetting a meeting whole.

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use serde_json::Value;

use crate::common::*;

const ZONE: chrono_tz::Tz = chrono_tz::Europe::Stockholm;

/// An iCalendar instant `days` from today at `hour`:00 Stockholm time, as
/// `YYYYMMDDTHHMMSS` for a `TZID=Europe/Stockholm` property.
fn local_at(days: i64, hour: u32) -> String {
    local_at_minute(days, hour, 0)
}

fn local_at_minute(days: i64, hour: u32, minute: u32) -> String {
    let today = Utc::now().with_timezone(&ZONE).date_naive();
    let day = today + Duration::days(days);
    day.and_hms_opt(hour, minute, 0)
        .expect("time")
        .format("%Y%m%dT%H%M%S")
        .to_string()
}

/// A calendar with a meeting tomorrow at 10:00 (with people), a weekly
/// series from today at 09:00, and a cancelled meeting the day after.
fn calendar() -> String {
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "BEGIN:VEVENT".into(),
        "UID:review@example.com".into(),
        format!("DTSTART;TZID=Europe/Stockholm:{}", local_at(1, 10)),
        format!("DTEND;TZID=Europe/Stockholm:{}", local_at(1, 11)),
        "SUMMARY:Takeover review".into(),
        "DESCRIPTION:Go through the open findings".into(),
        "LOCATION:Room 4".into(),
        "ORGANIZER;CN=Eva Lind:mailto:eva@example.com".into(),
        "ATTENDEE;CN=Ann Berg:mailto:ann@example.com".into(),
        "END:VEVENT".into(),
        "BEGIN:VEVENT".into(),
        "UID:weekly@example.com".into(),
        format!("DTSTART;TZID=Europe/Stockholm:{}", local_at(0, 9)),
        format!("DTEND;TZID=Europe/Stockholm:{}", local_at_minute(0, 9, 30)),
        "RRULE:FREQ=WEEKLY".into(),
        "SUMMARY:Weekly sync".into(),
        "ATTENDEE:mailto:ann@example.com".into(),
        "END:VEVENT".into(),
        "BEGIN:VEVENT".into(),
        "UID:dropped@example.com".into(),
        format!("DTSTART;TZID=Europe/Stockholm:{}", local_at(2, 13)),
        "SUMMARY:Dropped demo".into(),
        "STATUS:CANCELLED".into(),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    lines.join("\r\n") + "\r\n"
}

fn kollega() -> Kollega {
    Kollega::new().env("TZ", "Europe/Stockholm")
}

fn listed(k: &Kollega, days: &str) -> Vec<Value> {
    k.json(["meetings", "--days", days, "--json"])
        .as_array()
        .expect("a list")
        .clone()
}

fn id_of(list: &[Value], title: &str) -> i64 {
    list.iter()
        .find(|m| m["title"] == title)
        .and_then(|m| m["id"].as_i64())
        .unwrap_or_else(|| panic!("{title} in {list:?}"))
}

#[test]
fn calendar_import_lists_meetings_in_the_users_zone_and_is_idempotent() {
    let k = kollega();
    let file = k.scratch("team.ics");
    std::fs::write(&file, calendar()).unwrap();
    let first = k.json([
        "meetings".as_ref(),
        "import".as_ref(),
        file.as_os_str(),
        "--json".as_ref(),
    ]);
    // Tomorrow's review, the weekly series within the horizon, and the
    // cancelled demo, which counts as cancelled and is not listed.
    assert_eq!(first["cancelled"], 1, "{first}");
    assert!(first["imported"].as_i64().unwrap() > 25, "{first}");
    let again = k.json([
        "meetings".as_ref(),
        "import".as_ref(),
        file.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(
        (again["imported"].as_i64(), again["updated"].as_i64()),
        (Some(0), Some(0)),
        "{again}"
    );

    let list = listed(&k, "7");
    let titles: Vec<&str> = list.iter().map(|m| m["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"Takeover review"), "{titles:?}");
    assert!(!titles.contains(&"Dropped demo"), "{titles:?}");
    let review = list
        .iter()
        .find(|m| m["title"] == "Takeover review")
        .unwrap();
    let start = review["start"].as_str().unwrap();
    // RFC 3339 with Stockholm's offset, at 10:00 there.
    assert!(
        start.ends_with("+01:00") || start.ends_with("+02:00"),
        "{start}"
    );
    assert!(start.contains("T10:00:00"), "{start}");
    assert_eq!(review["status"], "upcoming");
    assert_eq!(review["allDay"], false);
    assert_eq!(review["uid"], "review@example.com");
    let weekly = list.iter().filter(|m| m["title"] == "Weekly sync").count();
    assert!((1..=2).contains(&weekly), "{list:?}");

    // The text listing groups by day.
    let out = k.run(["meetings", "--days", "3"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("10:00–11:00"), "{text}");
    assert!(text.contains("Takeover review"), "{text}");
}

#[test]
fn notes_decisions_actions_consent_and_forget() {
    let k = kollega();
    let file = k.scratch("team.ics");
    std::fs::write(&file, calendar()).unwrap();
    k.json([
        "meetings".as_ref(),
        "import".as_ref(),
        file.as_os_str(),
        "--json".as_ref(),
    ]);
    let id = id_of(&listed(&k, "7"), "Takeover review").to_string();

    k.json([
        "meetings",
        "note",
        &id,
        "--text",
        "zebra-note: the parser needs a rewrite",
        "--json",
    ]);
    let notes = k.scratch("notes.md");
    std::fs::write(&notes, "second note from a file").unwrap();
    k.json([
        "meetings".as_ref(),
        "note".as_ref(),
        id.as_ref(),
        "--file".as_ref(),
        notes.as_os_str(),
        "--json".as_ref(),
    ]);
    k.json([
        "meetings",
        "decide",
        &id,
        "zebra-decision: ship on Friday",
        "--json",
    ]);
    let vtt = k.scratch("call.vtt");
    std::fs::write(
        &vtt,
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Ann>zebra-transcript: I will write the notes.\n",
    )
    .unwrap();
    let attached = k.json([
        "meetings".as_ref(),
        "transcript".as_ref(),
        id.as_ref(),
        vtt.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(
        (attached["format"].as_str(), attached["cues"].as_i64()),
        (Some("vtt"), Some(1))
    );
    let action = k.json([
        "actions",
        "add",
        &id,
        "zebra-action: write release notes",
        "--owner",
        "ANN@example.com",
        "--due",
        "2026-12-31",
        "--json",
    ]);
    assert_eq!(action["owner"], "ann@example.com");
    assert_eq!(action["due"], "2026-12-31");
    k.json([
        "actions",
        "add",
        &id,
        "ask legal",
        "--owner",
        "Someone Else",
        "--json",
    ]);

    let open = k.json(["actions", "--open", "--owner", "ann@example.com", "--json"]);
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    let action_id = action["id"].as_i64().unwrap().to_string();
    let closed = k.json(["actions", "done", &action_id, "--json"]);
    assert_eq!(closed["status"], "done");
    let open = k.json(["actions", "--open", "--json"]);
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open[0]["owner"], "Someone Else");

    let people = k.json(["stakeholders", "--json"]);
    let ann = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "ann@example.com")
        .expect("ann");
    assert_eq!(ann["name"], "Ann Berg");
    assert!(ann["meetings"].as_array().unwrap().len() >= 2, "{ann}");
    assert_eq!(ann["decisions"].as_array().unwrap().len(), 1);

    let shown = k.json(["meetings", "show", &id, "--json"]);
    assert_eq!(shown["location"], "Room 4");
    assert_eq!(shown["consent"], "basic");
    assert_eq!(shown["description"], "Go through the open findings");
    assert_eq!(shown["notes"].as_array().unwrap().len(), 2);
    assert_eq!(shown["stakeholders"][0]["role"], "organizer");
    assert_eq!(
        shown["transcripts"][0]["text"],
        "Ann: zebra-transcript: I will write the notes."
    );
    let text = stdout(&k.run(["meetings", "show", &id]));
    assert!(text.contains("zebra-decision: ship on Friday"), "{text}");
    assert!(text.contains("call.vtt (vtt, 1 cue, "), "{text}");

    let consent = k.json(["meetings", "consent", &id, "plus", "--json"]);
    assert_eq!(
        (consent["from"].as_str(), consent["consent"].as_str()),
        (Some("basic"), Some("plus"))
    );
    let audited: i64 = k
        .db()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'meeting consent'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);

    // Bad input names what and what to do.
    let bad = k.run(["meetings", "consent", &id, "everything", "--json"]);
    assert_code(&bad, 2);
    assert!(
        json_error(&bad)["hint"]
            .as_str()
            .unwrap()
            .contains("basic, plus or legal")
    );
    let bad = k.run(["actions", "add", &id, "x", "--due", "next friday"]);
    assert_code(&bad, 2);
    assert!(stderr(&bad).contains("YYYY-MM-DD"), "{}", stderr(&bad));
    let bad = k.run(["meetings", "note", "99999", "--text", "x", "--json"]);
    assert_code(&bad, 1);
    assert_eq!(json_error(&bad)["message"], "no meeting 99999");
    let bad = k.run(["actions", "done", "99999"]);
    assert_code(&bad, 1);

    // Forget asks first, then leaves no text of the meeting in any file.
    let refused = k.run(["meetings", "forget", &id]);
    assert_code(&refused, 1);
    assert!(stderr(&refused).contains("--yes"));
    let gone = k.json(["meetings", "forget", &id, "--yes", "--json"]);
    assert!(gone["rows"].as_i64().unwrap() >= 8, "{gone}");
    for (path, bytes) in k.stored_bytes() {
        for secret in [
            "zebra-note",
            "zebra-decision",
            "zebra-transcript",
            "zebra-action",
            "second note from a file",
            "Go through the open findings",
        ] {
            assert!(
                !contains_bytes(&bytes, secret.as_bytes()),
                "{secret} found in {}",
                path.display()
            );
        }
    }
    let forgotten: i64 = k
        .db()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'meeting forget'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(forgotten, 1);
    let missing = k.run(["meetings", "show", &id]);
    assert_code(&missing, 1);
    // Importing the calendar again does not bring it back.
    let again = k.json([
        "meetings".as_ref(),
        "import".as_ref(),
        file.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(again["forgotten"], 1, "{again}");
    let titles: Vec<Value> = listed(&k, "7").iter().map(|m| m["title"].clone()).collect();
    assert!(
        !titles.contains(&Value::from("Takeover review")),
        "{titles:?}"
    );
}

#[test]
fn a_malformed_calendar_is_refused_with_its_line_and_stores_nothing() {
    let k = kollega();
    let file = k.scratch("bad.ics");
    let mut text = calendar();
    text = text.replacen("SUMMARY:Takeover review", "SUMMARY Takeover review", 1);
    std::fs::write(&file, text).unwrap();
    let out = k.run([
        "meetings".as_ref(),
        "import".as_ref(),
        file.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_code(&out, 1);
    let error = json_error(&out);
    assert!(
        error["message"].as_str().unwrap().contains("line 7"),
        "{error}"
    );
    assert_eq!(k.rows("meetings"), 0);
    assert_eq!(k.rows("calendar_events"), 0);
    assert_eq!(k.rows("calendars"), 0);
}

/// A calendar server on 127.0.0.1 that answers 304 to a matching
/// `If-None-Match`, or `fail` as a 500; records each request's
/// If-None-Match.
struct CalendarServer {
    url: String,
    seen: Arc<Mutex<Vec<Option<String>>>>,
    fail: Arc<Mutex<bool>>,
}

impl CalendarServer {
    fn start(body: String) -> CalendarServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/cal/secret.ics", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(Mutex::new(false));
        let (seen2, fail2) = (Arc::clone(&seen), Arc::clone(&fail));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut etag = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("if-none-match")
                    {
                        etag = Some(value.trim().to_string());
                    }
                }
                let matched = etag.as_deref() == Some("\"v1\"");
                seen2.lock().unwrap().push(etag);
                let response = if *fail2.lock().unwrap() {
                    "HTTP/1.1 500 Oops\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_string()
                } else if matched {
                    "HTTP/1.1 304 Not Modified\r\netag: \"v1\"\r\nconnection: close\r\n\r\n"
                        .to_string()
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/calendar\r\netag: \"v1\"\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                let _ = stream.write_all(response.as_bytes());
            }
        });
        CalendarServer { url, seen, fail }
    }
}

#[test]
fn a_calendar_url_is_subscribed_and_asked_again_conditionally() {
    let k = kollega();
    let server = CalendarServer::start(calendar());
    let first = k.json(["meetings", "import", &server.url, "--json"]);
    assert!(first["imported"].as_i64().unwrap() > 2, "{first}");
    let second = k.json(["meetings", "import", &server.url, "--json"]);
    assert_eq!(second["not_modified"], true, "{second}");
    assert_eq!(
        *server.seen.lock().unwrap(),
        vec![None, Some("\"v1\"".to_string())]
    );
    let (kind, every): (String, Option<i64>) = k
        .db()
        .query_row("SELECT kind, refresh_every_s FROM calendars", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((kind.as_str(), every), ("url", Some(1800)));
    // One refresh waits for the jobs engine, due half an hour on; the
    // second import found it there.
    assert_eq!(first["refresh_job"], second["refresh_job"], "{second}");
    let (job, status, due, created): (i64, String, i64, i64) = k
        .db()
        .query_row(
            "SELECT id, status, next_run_at, created_at FROM jobs WHERE kind = 'calendar-refresh'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(first["refresh_job"], job);
    assert_eq!((status.as_str(), due - created), ("queued", 1_800_000));

    // A failing server is an error that names the address; the meetings
    // stay and the calendar remembers the failure.
    *server.fail.lock().unwrap() = true;
    let out = k.run(["meetings", "import", &server.url]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("500"), "{}", stderr(&out));
    let error: Option<String> = k
        .db()
        .query_row("SELECT last_error FROM calendars", [], |r| r.get(0))
        .unwrap();
    assert!(error.unwrap().contains("500"));
    assert!(listed(&k, "7").len() >= 2);
    // The failure shows on the calendar, beside its next refresh.
    let calendars = k.json(["meetings", "calendars", "--json"]);
    let c = &calendars[0];
    assert_eq!(
        (c["kind"].as_str(), c["source"].as_str()),
        (Some("url"), Some(server.url.as_str()))
    );
    assert!(c["lastError"].as_str().unwrap().contains("500"), "{c}");
    assert_eq!(c["refreshJob"], first["refresh_job"], "{c}");
    assert!(c["nextRefresh"].as_str().is_some(), "{c}");
    let text = stdout(&k.run(["meetings", "calendars"]));
    assert!(text.contains("failed") && text.contains("500"), "{text}");

    // A cancelled refresh leaves none waiting; importing the address
    // again queues one, even while the server fails.
    let job = first["refresh_job"].as_i64().unwrap().to_string();
    assert_success(&k.run(["jobs", "cancel", job.as_str()]));
    let text = stdout(&k.run(["meetings", "calendars"]));
    assert!(text.contains("none waiting"), "{text}");
    assert_code(&k.run(["meetings", "import", &server.url]), 1);
    let calendars = k.json(["meetings", "calendars", "--json"]);
    let again = calendars[0]["refreshJob"].as_i64().unwrap();
    assert!(
        again > first["refresh_job"].as_i64().unwrap(),
        "{calendars}"
    );
}
