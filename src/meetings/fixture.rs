//! Meetings made row by row for the tests of this module's parts.

use rusqlite::{Connection, params};

use crate::store::meetings::{self, Consent};

/// A meeting of series `uid` at `start` (ms) with `consent`, an agenda,
/// and Boss (organizer) and ann@example.com (attendee): its id.
pub(crate) fn meeting(conn: &mut Connection, uid: &str, start: i64, consent: Consent) -> i64 {
    conn.execute(
        "INSERT INTO calendar_events (uid, recurrence_id, summary, description, dtstart, dtend,
                                      updated_at)
         VALUES (?1, ?2, 'Vendor review', 'AGENDA: pick a vendor', ?3, ?3 + 3600000, 0)",
        params![uid, start.to_string(), start],
    )
    .unwrap();
    let event = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO meetings (uid, occurrence_key, event_id, title, location, url, start_at,
                               end_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'Vendor review', 'Room 4', 'https://meet.example/abc?pwd=PASSCODE',
                 ?4, ?4 + 3600000, 0, 0)",
        params![uid, start.to_string(), event, start],
    )
    .unwrap();
    let id = conn.last_insert_rowid();
    for (email, name, role) in [
        ("boss@example.com", Some("Boss"), "organizer"),
        ("ann@example.com", None, "attendee"),
    ] {
        conn.execute(
            "INSERT INTO stakeholders (email, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![email, name],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO meeting_stakeholders (meeting_id, stakeholder_id, role)
             SELECT ?1, id, ?3 FROM stakeholders WHERE email = ?2",
            params![id, email, role],
        )
        .unwrap();
    }
    meetings::set_consent(conn, id, consent, 0).unwrap();
    id
}

/// Puts a note, a transcript, a decision and an action owned by ann on
/// meeting `id`, each text carrying `mark`.
pub(crate) fn fill(conn: &mut Connection, id: i64, mark: &str) {
    meetings::add_note(conn, id, &format!("note {mark}"), 1).unwrap();
    let text = format!("transcript {mark}");
    let transcript = meetings::NewTranscript {
        format: meetings::TranscriptFormat::Txt,
        text: &text,
        cues: None,
        source_name: "call.txt",
    };
    meetings::add_transcript(conn, id, &transcript, 1).unwrap();
    meetings::add_decision(conn, id, &format!("decision {mark}"), 1).unwrap();
    let action = format!("action {mark}");
    meetings::actions::add(
        conn,
        &meetings::actions::NewAction {
            meeting_id: id,
            text: &action,
            owner: Some("ann@example.com"),
            due: None,
        },
        1,
    )
    .unwrap();
}
