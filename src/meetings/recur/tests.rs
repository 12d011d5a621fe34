use super::*;
use crate::meetings::{MeetingsError, zone};
use chrono_tz::Europe::Stockholm;

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ics")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

/// Expands a fixture around 2026-10-01 (horizon to the end of March).
fn expand_fixture(name: &str, zone: chrono_tz::Tz) -> Expanded {
    let doc = ics::parse(name, &fixture(name)).unwrap();
    expand(&doc, zone, horizon(ms("2026-10-01T00:00:00Z")))
}

fn shown(e: &Expanded, zone: chrono_tz::Tz) -> Vec<(String, String, bool)> {
    e.occurrences
        .iter()
        .map(|o| {
            (
                zone::rfc3339(o.start_at, zone),
                o.title.clone(),
                o.cancelled,
            )
        })
        .collect()
}

#[test]
fn weekly_meeting_stays_at_nine_local_across_the_october_dst_change() {
    let e = expand_fixture("weekly_stockholm.ics", chrono_tz::UTC);
    assert!(e.skipped.is_empty(), "{:?}", e.skipped);
    let got = shown(&e, Stockholm);
    let want = [
        ("2026-10-06T09:00:00+02:00", "Weekly sync", false),
        // 10-13 is an EXDATE; 10-20 was moved by an override with a
        // higher SEQUENCE, and shows once.
        ("2026-10-20T10:30:00+02:00", "Weekly sync (moved)", false),
        // The last Sunday of October is the 25th: CET from here on.
        ("2026-10-27T09:00:00+01:00", "Weekly sync", false),
        ("2026-11-03T09:00:00+01:00", "Weekly sync", true),
        ("2026-11-10T09:00:00+01:00", "Weekly sync", false),
        ("2026-11-17T09:00:00+01:00", "Weekly sync", false),
        ("2026-11-24T09:00:00+01:00", "Weekly sync", false),
    ];
    let want: Vec<(String, String, bool)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
        .collect();
    assert_eq!(got, want);
    // The moved occurrence keeps the key of the time it replaced.
    let moved = &e.occurrences[1];
    assert_eq!(moved.occurrence_key, "20261020T070000Z");
    assert_eq!(e.occurrences[2].occurrence_key, "20261027T080000Z");
    assert_eq!(moved.end_at - moved.start_at, 30 * 60 * 1000);
    assert_eq!(e.occurrences[0].tzid.as_deref(), Some("Europe/Stockholm"));
}

#[test]
fn organizer_and_attendees_become_people_and_rooms_do_not() {
    let e = expand_fixture("weekly_stockholm.ics", Stockholm);
    let people: Vec<(&str, Option<&str>, Role)> = e.occurrences[0]
        .people
        .iter()
        .map(|p| (p.email.as_str(), p.name.as_deref(), p.role))
        .collect();
    assert_eq!(
        people,
        vec![
            ("eva@example.com", Some("Eva Lind"), Role::Organizer),
            ("ann@example.com", Some("Ann Berg"), Role::Attendee),
            ("bo@example.com", Some("Bo, Jr."), Role::Attendee),
        ]
    );
    // The folded description is read whole.
    let master = &e.events[0];
    assert_eq!(
        master.description.as_deref(),
        Some(
            "Agenda: status of the takeover, open actions, and the release plan for the next sprint."
        )
    );
    assert!(master.rrule.as_deref().unwrap().contains("FREQ=WEEKLY"));
    assert!(
        master
            .exdate
            .as_deref()
            .unwrap()
            .contains("20261013T090000")
    );
}

#[test]
fn windows_zone_names_resolve() {
    let doc = ics::parse("x", &fixture("exchange_windows_zone.ics")).unwrap();
    let e = expand(&doc, chrono_tz::UTC, horizon(ms("2026-12-01T00:00:00Z")));
    assert!(e.skipped.is_empty(), "{:?}", e.skipped);
    let review = e
        .occurrences
        .iter()
        .find(|o| o.title == "Contract review")
        .unwrap();
    assert_eq!(
        zone::rfc3339(review.start_at, chrono_tz::Europe::Berlin),
        "2026-12-08T14:00:00+01:00"
    );
    // A weekday series: no Saturday or Sunday, always 09:15 in Berlin.
    let standups: Vec<_> = e
        .occurrences
        .iter()
        .filter(|o| o.title == "Standup")
        .map(|o| zone::local(o.start_at, chrono_tz::Europe::Berlin))
        .collect();
    assert!(standups.len() > 100);
    use chrono::{Datelike, Timelike};
    assert!(
        standups
            .iter()
            .all(|d| d.weekday().number_from_monday() <= 5)
    );
    assert!(standups.iter().all(|d| (d.hour(), d.minute()) == (9, 15)));
}

#[test]
fn all_day_and_floating_are_taken_in_the_users_zone_and_utc_stays_utc() {
    let e = expand_fixture("kinds.ics", Stockholm);
    let by_uid = |uid: &str| e.occurrences.iter().find(|o| o.uid == uid).unwrap();
    let offsite = by_uid("all-day-offsite");
    assert!(offsite.all_day && !offsite.floating);
    assert_eq!(
        zone::rfc3339(offsite.start_at, Stockholm),
        "2026-12-08T00:00:00+01:00"
    );
    assert_eq!(
        zone::rfc3339(offsite.end_at, Stockholm),
        "2026-12-10T00:00:00+01:00"
    );
    let lunch = by_uid("floating-lunch");
    assert!(lunch.floating);
    assert_eq!(
        zone::rfc3339(lunch.start_at, Stockholm),
        "2026-12-09T12:00:00+01:00"
    );
    let call = by_uid("utc-call");
    assert_eq!(call.start_at, ms("2026-12-10T08:00:00Z"));
    assert_eq!(call.end_at - call.start_at, 45 * 60 * 1000);
    assert_eq!(call.url.as_deref(), Some("https://meet.example.com/abc"));
    assert!(by_uid("cancelled-demo").cancelled);
    // In New York the same floating lunch is noon there.
    let ny = expand_fixture("kinds.ics", chrono_tz::America::New_York);
    let lunch = ny
        .occurrences
        .iter()
        .find(|o| o.uid == "floating-lunch")
        .unwrap();
    assert_eq!(
        zone::rfc3339(lunch.start_at, chrono_tz::America::New_York),
        "2026-12-09T12:00:00-05:00"
    );
}

#[test]
fn events_that_cannot_be_read_are_skipped_with_their_line() {
    let e = expand_fixture("some_unreadable.ics", Stockholm);
    assert_eq!(e.occurrences.len(), 1);
    assert_eq!(e.occurrences[0].uid, "good");
    let skipped: Vec<(usize, Option<&str>)> = e
        .skipped
        .iter()
        .map(|s| (s.line, s.uid.as_deref()))
        .collect();
    assert_eq!(
        skipped,
        vec![(8, Some("mars")), (13, Some("no-start")), (17, None)]
    );
    assert!(
        e.skipped[0].reason.contains("Mars/Olympus_Mons"),
        "{:?}",
        e.skipped[0]
    );
}

#[test]
fn malformed_files_name_the_line() {
    for (name, line, words) in [
        ("malformed_no_colon.ics", 7, "no colon"),
        ("malformed_unterminated.ics", 7, "END:VEVENT"),
    ] {
        let err = ics::parse(name, &fixture(name)).err().unwrap();
        match &err {
            MeetingsError::Malformed { line: l, what, .. } => {
                assert_eq!(*l, line, "{name}: {what}");
                assert!(what.contains(words), "{name}: {what}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(ics::parse("e", "").is_err());
    assert!(ics::parse("h", "<html>not a calendar</html>").is_err());
}

#[test]
fn a_series_without_end_is_cut_at_the_horizon() {
    let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:daily\nDTSTART:20200101T090000Z\n\
                DURATION:PT15M\nRRULE:FREQ=DAILY\nSUMMARY:Daily\nEND:VEVENT\nEND:VCALENDAR\n";
    let doc = ics::parse("d", text).unwrap();
    let now = ms("2026-10-01T00:00:00Z");
    let (from, to) = horizon(now);
    let e = expand(&doc, chrono_tz::UTC, (from, to));
    let days = (HORIZON_PAST_DAYS + HORIZON_AHEAD_DAYS) as usize;
    assert!(
        (days - 1..=days + 1).contains(&e.occurrences.len()),
        "{}",
        e.occurrences.len()
    );
    assert!(
        e.occurrences
            .iter()
            .all(|o| o.start_at < to && o.end_at > from)
    );
}

#[test]
fn a_utc_series_stays_utc_and_a_floating_one_follows_the_users_zone() {
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
        BEGIN:VEVENT\r\nUID:utc-daily\r\nDTSTART:20261020T134500Z\r\nDTEND:20261020T141500Z\r\n\
        RRULE:FREQ=DAILY;COUNT=10\r\nEXDATE:20261022T134500Z\r\nSUMMARY:UTC daily\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:floating-weekly\r\nDTSTART:20261020T090000\r\nDTEND:20261020T093000\r\n\
        RRULE:FREQ=WEEKLY;COUNT=2\r\nSUMMARY:Floating weekly\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";
    let doc = ics::parse("series.ics", text).unwrap();
    let e = expand(&doc, Stockholm, horizon(ms("2026-10-01T00:00:00Z")));
    assert!(e.skipped.is_empty(), "{:?}", e.skipped);
    let utc: Vec<(String, String)> = e
        .occurrences
        .iter()
        .filter(|o| o.uid == "utc-daily")
        .map(|o| {
            (
                zone::rfc3339(o.start_at, chrono_tz::UTC),
                o.occurrence_key.clone(),
            )
        })
        .collect();
    // 13:45 UTC every day, across Stockholm's change to CET on the 25th,
    // and the EXDATE of the 22nd left out.
    assert_eq!(utc.len(), 9, "{utc:?}");
    assert!(
        utc.iter()
            .all(|(at, key)| at.ends_with("T13:45:00+00:00") && key.ends_with("T134500Z")),
        "{utc:?}"
    );
    assert!(!utc.iter().any(|(at, _)| at.starts_with("2026-10-22")));
    let floating: Vec<String> = e
        .occurrences
        .iter()
        .filter(|o| o.uid == "floating-weekly")
        .map(|o| zone::rfc3339(o.start_at, Stockholm))
        .collect();
    assert_eq!(
        floating,
        ["2026-10-20T09:00:00+02:00", "2026-10-27T09:00:00+01:00"]
    );
}

#[test]
fn an_all_day_series_ends_at_its_until_date() {
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
        BEGIN:VEVENT\r\nUID:review-day\r\nDTSTART;VALUE=DATE:20261015\r\n\
        DTEND;VALUE=DATE:20261016\r\nRRULE:FREQ=WEEKLY;UNTIL=20261105\r\n\
        EXDATE;VALUE=DATE:20261022\r\nSUMMARY:Review day\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";
    let doc = ics::parse("until.ics", text).unwrap();
    let e = expand(&doc, Stockholm, horizon(ms("2026-10-01T00:00:00Z")));
    let keys: Vec<&str> = e
        .occurrences
        .iter()
        .map(|o| o.occurrence_key.as_str())
        .collect();
    // Thursdays up to and including the UNTIL date, the EXDATE left out.
    assert_eq!(keys, ["20261015", "20261029", "20261105"]);
}
