use super::calendar::{
    self, EventStatus, ImportBatch, NewEvent, NewOccurrence, Person, SourceKind,
};
use super::*;
use crate::store::Store;

fn event(uid: &str, start: i64) -> NewEvent {
    NewEvent {
        uid: uid.into(),
        recurrence_id: String::new(),
        sequence: 0,
        summary: format!("{uid} title"),
        description: Some("agenda".into()),
        location: None,
        url: None,
        organizer: Some("boss@example.com".into()),
        dtstart: start,
        dtend: start + 3_600_000,
        tzid: None,
        all_day: false,
        floating: false,
        rrule: None,
        rdate: None,
        exdate: None,
        status: EventStatus::Confirmed,
        raw: None,
    }
}

fn occurrence(uid: &str, key: &str, event: usize, start: i64) -> NewOccurrence {
    NewOccurrence {
        uid: uid.into(),
        occurrence_key: key.into(),
        event,
        title: format!("{uid} title"),
        location: None,
        url: None,
        start_at: start,
        end_at: start + 3_600_000,
        tzid: None,
        all_day: false,
        floating: false,
        cancelled: false,
        people: vec![
            Person {
                email: "boss@example.com".into(),
                name: Some("Boss".into()),
                role: Role::Organizer,
            },
            Person {
                email: "Ann@example.com".into(),
                name: None,
                role: Role::Attendee,
            },
        ],
    }
}

fn batch(occurrences: Vec<NewOccurrence>) -> ImportBatch {
    ImportBatch {
        kind: SourceKind::File,
        source: "/cal.ics".into(),
        refresh_every_s: None,
        etag: None,
        last_modified: None,
        events: vec![event("a", 1_000_000), event("s", 2_000_000)],
        occurrences,
        horizon: (0, 100_000_000),
    }
}

#[test]
fn reimport_finds_the_same_rows_and_keeps_what_hangs_on_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let first = batch(vec![
        occurrence("a", "", 0, 1_000_000),
        occurrence("s", "k1", 1, 2_000_000),
        occurrence("s", "k2", 1, 3_000_000),
    ]);
    let counts = calendar::import(&mut store.conn, &first, 1).unwrap();
    assert_eq!(
        (counts.imported, counts.updated, counts.cancelled),
        (3, 0, 0)
    );
    let ids: Vec<i64> = between(&store.conn, 0, i64::MAX)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    add_note(&store.conn, ids[1], "keep me", 2)
        .unwrap()
        .unwrap();

    // The same file again changes nothing.
    let again = calendar::import(&mut store.conn, &first, 3).unwrap();
    assert_eq!((again.imported, again.unchanged), (0, 3));

    // k1 moved, k2 dropped from the series.
    let mut moved = occurrence("s", "k1", 1, 2_500_000);
    moved.title = "moved".into();
    let second = batch(vec![occurrence("a", "", 0, 1_000_000), moved]);
    let counts = calendar::import(&mut store.conn, &second, 4).unwrap();
    assert_eq!(
        (counts.updated, counts.cancelled, counts.unchanged),
        (1, 1, 1)
    );
    let listed = between(&store.conn, 0, i64::MAX).unwrap();
    assert_eq!(listed.len(), 2);
    let k1 = get(&store.conn, ids[1]).unwrap().unwrap();
    assert_eq!((k1.title.as_str(), k1.start_at), ("moved", 2_500_000));
    assert_eq!(notes(&store.conn, ids[1]).unwrap()[0].text, "keep me");
    let people = attendees(&store.conn, ids[0]).unwrap();
    assert_eq!(people[0].role, Role::Organizer);
    assert_eq!(people.len(), 2);
}

#[test]
fn reimport_rewrites_people_only_where_the_calendar_changed_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut both = occurrence("s", "k1", 1, 2_000_000);
    // Listed twice, as organizer and attendee: stays organizer, once.
    both.people.push(Person {
        email: "BOSS@example.com".into(),
        name: None,
        role: Role::Attendee,
    });
    let first = batch(vec![occurrence("a", "", 0, 1_000_000), both.clone()]);
    calendar::import(&mut store.conn, &first, 1).unwrap();
    let ids: Vec<i64> = between(&store.conn, 0, i64::MAX)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    let roles = |store: &Store, id| -> Vec<(String, Role)> {
        attendees(&store.conn, id)
            .unwrap()
            .into_iter()
            .map(|p| (p.email.to_lowercase(), p.role))
            .collect()
    };
    let before = roles(&store, ids[1]);
    assert_eq!(
        before,
        vec![
            ("boss@example.com".into(), Role::Organizer),
            ("ann@example.com".into(), Role::Attendee)
        ]
    );

    // Ann leaves k1 and Bo joins; the single event keeps its people.
    let mut changed = both;
    changed
        .people
        .retain(|p| !p.email.eq_ignore_ascii_case("ann@example.com"));
    changed.people.push(Person {
        email: "bo@example.com".into(),
        name: Some("Bo".into()),
        role: Role::Attendee,
    });
    let second = batch(vec![occurrence("a", "", 0, 1_000_000), changed]);
    let counts = calendar::import(&mut store.conn, &second, 2).unwrap();
    assert_eq!(counts.unchanged, 2, "times and titles are as they were");
    assert_eq!(
        roles(&store, ids[1]),
        vec![
            ("boss@example.com".into(), Role::Organizer),
            ("bo@example.com".into(), Role::Attendee)
        ]
    );
    assert_eq!(
        roles(&store, ids[0]),
        vec![
            ("boss@example.com".into(), Role::Organizer),
            ("ann@example.com".into(), Role::Attendee)
        ]
    );
}

#[test]
fn between_finds_what_overlaps_the_window_also_when_it_began_days_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    const DAY: i64 = 86_400_000;
    let window = (10 * DAY, 17 * DAY);
    let mut long = occurrence("long", "", 0, 7 * DAY);
    long.end_at = 11 * DAY; // a four-day conference, begun three days before
    let mut ended = occurrence("ended", "", 0, 9 * DAY);
    ended.end_at = 10 * DAY; // ends as the window starts
    let mut instant = occurrence("instant", "", 0, 10 * DAY);
    instant.end_at = 10 * DAY; // no length, at the window's start
    let inside = occurrence("inside", "", 0, 12 * DAY);
    let after = occurrence("after", "", 0, 17 * DAY);
    let mut old = occurrence("old", "", 0, DAY);
    old.end_at = 2 * DAY;
    let mut b = batch(vec![long, ended, instant, inside, after, old]);
    b.horizon = (0, 30 * DAY);
    calendar::import(&mut store.conn, &b, 1).unwrap();
    let listed: Vec<String> = between(&store.conn, window.0, window.1)
        .unwrap()
        .into_iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(listed, ["long", "instant", "inside"]);
}

#[test]
fn consent_change_is_audited_and_unknown_meeting_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    calendar::import(
        &mut store.conn,
        &batch(vec![occurrence("a", "", 0, 1_000_000)]),
        1,
    )
    .unwrap();
    let id = between(&store.conn, 0, i64::MAX).unwrap()[0].id;
    assert_eq!(
        set_consent(&mut store.conn, id, Consent::Plus, 2).unwrap(),
        Some(Consent::Basic)
    );
    assert_eq!(
        get(&store.conn, id).unwrap().unwrap().consent,
        Consent::Plus
    );
    assert!(
        crate::store::audit::actions(&store.conn)
            .unwrap()
            .iter()
            .any(|(a, _)| a == "meeting consent")
    );
    assert_eq!(
        set_consent(&mut store.conn, 999, Consent::Plus, 2).unwrap(),
        None
    );
    assert_eq!(add_note(&store.conn, 999, "x", 2).unwrap(), None);
}

#[test]
fn forget_removes_everything_and_a_reimport_does_not_bring_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let b = batch(vec![occurrence("a", "", 0, 1_000_000)]);
    calendar::import(&mut store.conn, &b, 1).unwrap();
    let id = between(&store.conn, 0, i64::MAX).unwrap()[0].id;
    add_note(&store.conn, id, "secret note", 2).unwrap();
    add_decision(&store.conn, id, "secret decision", 2).unwrap();
    let action = actions::add(
        &store.conn,
        &actions::NewAction {
            meeting_id: id,
            text: "secret action",
            owner: Some("ann@example.com"),
            due: None,
        },
        2,
    )
    .unwrap()
    .unwrap();
    actions::record_nudge(&store.conn, action, "bell", "ok", None, 3).unwrap();
    let gone = forget(&mut store.conn, id, 4).unwrap().unwrap();
    assert_eq!(
        (
            gone.meetings,
            gone.events,
            gone.notes,
            gone.decisions,
            gone.actions,
            gone.nudges
        ),
        (1, 1, 1, 1, 1, 1)
    );
    assert_eq!(get(&store.conn, id).unwrap(), None);
    let again = calendar::import(&mut store.conn, &b, 5).unwrap();
    assert_eq!((again.imported, again.forgotten), (0, 1));
    scrub(&store.conn).unwrap();
}

#[test]
fn actions_filter_by_owner_and_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    calendar::import(
        &mut store.conn,
        &batch(vec![occurrence("a", "", 0, 1_000_000)]),
        1,
    )
    .unwrap();
    let id = between(&store.conn, 0, i64::MAX).unwrap()[0].id;
    let add = |text, owner| {
        actions::add(
            &store.conn,
            &actions::NewAction {
                meeting_id: id,
                text,
                owner,
                due: Some("2026-12-09"),
            },
            2,
        )
        .unwrap()
        .unwrap()
    };
    let one = add("write it", Some("ann@EXAMPLE.com"));
    add("someone else's", Some("Bob"));
    actions::set_status(&store.conn, one, actions::ActionStatus::Done, 3).unwrap();
    let anns = actions::list(
        &store.conn,
        &actions::ActionFilter {
            owner: Some("ann@example.com"),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(anns.len(), 1);
    assert_eq!(anns[0].owner.as_deref(), Some("Ann@example.com"));
    let open = actions::list(
        &store.conn,
        &actions::ActionFilter {
            open: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].owner.as_deref(), Some("Bob"));
    let people = stakeholders::list(&store.conn).unwrap();
    assert_eq!(people.len(), 2);
    assert!(people.iter().all(|p| p.meetings == 1));
}

#[test]
fn edits_processing_transcript_tries_and_nudges() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    calendar::import(
        &mut store.conn,
        &batch(vec![
            occurrence("s", "k1", 1, 2_000_000),
            occurrence("s", "k2", 1, 3_000_000),
        ]),
        1,
    )
    .unwrap();
    assert_eq!(calendar::calendars(&store.conn).unwrap().len(), 1);
    let ids: Vec<i64> = between(&store.conn, 0, i64::MAX)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    let (first, second) = (ids[0], ids[1]);

    // The series' earlier meetings, newest first.
    let earlier = earlier_in_series(&store.conn, "s", 3_000_000).unwrap();
    assert_eq!(
        earlier.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![first]
    );

    let note = add_note(&store.conn, first, "draft", 2).unwrap().unwrap();
    assert!(edit_note(&store.conn, note, "final", 3).unwrap());
    assert_eq!(notes(&store.conn, first).unwrap()[0].text, "final");
    let decision = add_decision(&store.conn, first, "maybe", 2)
        .unwrap()
        .unwrap();
    assert!(edit_decision(&store.conn, decision, "yes", 3).unwrap());
    assert_eq!(decisions(&store.conn, first).unwrap()[0].updated_at, 3);
    assert!(remove_decision(&store.conn, decision).unwrap());
    assert!(!remove_decision(&store.conn, decision).unwrap());

    assert!(
        set_processing(
            &store.conn,
            second,
            Processing::Failed,
            Some("no transcript"),
            4
        )
        .unwrap()
    );
    let m = get(&store.conn, second).unwrap().unwrap();
    assert_eq!(
        (m.processing, m.processing_error.as_deref()),
        (Processing::Failed, Some("no transcript"))
    );
    assert!(!set_processing(&store.conn, 999, Processing::Done, None, 4).unwrap());

    assert!(expect_transcript(&store.conn, second, Some("https://example.com/t.vtt"), 5).unwrap());
    assert!(transcript_try_failed(&store.conn, second, Some(10), 6).unwrap());
    assert!(transcript_try_failed(&store.conn, second, None, 7).unwrap());
    let m = get(&store.conn, second).unwrap().unwrap();
    assert_eq!(
        (m.transcript_state.as_str(), m.transcript_attempts),
        ("missing", 2)
    );

    let call = crate::store::ai_calls::insert(
        &store.conn,
        &crate::store::ai_calls::NewCall {
            workspace_key: None,
            job_id: None,
            conversation_id: None,
            session: "s",
            provider: "openai",
            model: "m",
            prompt_version: "brief-1",
            response_id: None,
            input_tokens: 1,
            output_tokens: 1,
            cached_tokens: 0,
            cost_micros: None,
            duration_ms: 1,
            outcome: "ok",
        },
        5,
    )
    .unwrap();
    link_ai_call(&store.conn, second, call).unwrap();

    let action = actions::add(
        &store.conn,
        &actions::NewAction {
            meeting_id: second,
            text: "write",
            owner: None,
            due: None,
        },
        10,
    )
    .unwrap()
    .unwrap();
    assert!(
        actions::edit(
            &store.conn,
            action,
            "write it",
            Some("boss@example.com"),
            Some("2026-12-31"),
            10
        )
        .unwrap()
    );
    let row = actions::get(&store.conn, action).unwrap().unwrap();
    assert_eq!(row.owner.as_deref(), Some("boss@example.com"));
    assert!(row.owner_id.is_some());
    // Untouched since 10, never nudged: due at 100; nudged at 100, not
    // again until the next day.
    assert_eq!(
        actions::due_for_nudge(&store.conn, 100, 100).unwrap().len(),
        1
    );
    actions::record_nudge(&store.conn, action, "webhook", "failed", Some("500"), 100).unwrap();
    assert!(
        actions::due_for_nudge(&store.conn, 100, 100)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        actions::due_for_nudge(&store.conn, 200, 200).unwrap().len(),
        1
    );
    let logged = actions::nudges(&store.conn, action).unwrap();
    assert_eq!(
        (logged[0].channel.as_str(), logged[0].error.as_deref()),
        ("webhook", Some("500"))
    );
    // A nudge is not a touch.
    assert_eq!(
        actions::get(&store.conn, action)
            .unwrap()
            .unwrap()
            .updated_at,
        10
    );

    // Forgetting the meeting takes its AI call records along.
    let gone = forget(&mut store.conn, second, 11).unwrap().unwrap();
    assert_eq!((gone.ai_calls, gone.actions, gone.nudges), (1, 1, 1));
    let calls: i64 = store
        .conn
        .query_row("SELECT count(*) FROM ai_calls", [], |r| r.get(0))
        .unwrap();
    assert_eq!(calls, 0);
}
