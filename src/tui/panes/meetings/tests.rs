//! The dashboard drawn at a fixed moment in a fixed zone (snapshots at
//! 80x24 and 120x40, with and without colour), and its `update`: what
//! each key changes and which reads and writes it asks the app for.

use chrono::TimeZone;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::form::FormKind;
use super::*;
use crate::store::meetings::actions::ActionRow;
use crate::store::meetings::pane::{DecisionOf, MeetingDetail, StakeholderDetail, TranscriptInfo};
use crate::store::meetings::stakeholders::StakeholderRow;
use crate::store::meetings::watches::WatchRow;
use crate::store::meetings::{Attendee, Processing, Role, TextRow};
use crate::tui::app::{Effect, Outcome};
use crate::tui::theme::{ColorDepth, Theme};

const ZONE: Tz = chrono_tz::Europe::Stockholm;

/// Unix ms of a wall-clock time in Stockholm.
fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    ZONE.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .unwrap()
        .timestamp_millis()
}

/// The clock of every test: Monday 7 December 2026, 09:55 in Stockholm.
fn now() -> i64 {
    at(2026, 12, 7, 9, 55)
}

fn meeting(id: i64, title: &str, start: i64, minutes: i64, processing: Processing) -> MeetingRow {
    MeetingRow {
        id,
        uid: format!("uid-{id}"),
        occurrence_key: String::new(),
        title: title.into(),
        location: None,
        url: None,
        start_at: start,
        end_at: start + minutes * 60_000,
        tzid: Some("Europe/Stockholm".into()),
        all_day: false,
        floating: false,
        cancelled: false,
        consent: Consent::Basic,
        processing,
        processing_error: None,
        transcript_source: None,
        transcript_state: "none".into(),
        transcript_attempts: 0,
    }
}

fn action(
    id: i64,
    text: &str,
    owner: Option<&str>,
    due: Option<&str>,
    status: ActionStatus,
) -> ActionRow {
    ActionRow {
        id,
        meeting_id: 1,
        meeting_title: "Standup".into(),
        text: text.into(),
        owner_id: None,
        owner: owner.map(str::to_string),
        due: due.map(str::to_string),
        status,
        created_at: 0,
        updated_at: 0,
        last_nudged_at: None,
    }
}

fn text_row(id: i64, text: &str) -> TextRow {
    TextRow {
        id,
        meeting_id: 1,
        text: text.into(),
        created_at: 0,
        updated_at: 0,
    }
}

/// A week with a meeting in every status, the first one (in the lobby)
/// with its detail.
fn week() -> Loaded {
    let mut failed = meeting(
        7,
        "Vendor sync",
        at(2026, 12, 7, 6, 0),
        30,
        Processing::Failed,
    );
    failed.processing_error = Some("the transcript never came".into());
    let mut offsite = meeting(
        6,
        "Team offsite",
        at(2026, 12, 9, 0, 0),
        24 * 60,
        Processing::None,
    );
    offsite.all_day = true;
    let mut standup = meeting(1, "Standup", at(2026, 12, 7, 10, 0), 15, Processing::None);
    standup.location = Some("Room 4".into());
    standup.url = Some("https://meet.example.com/standup".into());
    standup.consent = Consent::Plus;
    let meetings = vec![
        failed,
        meeting(3, "Retro", at(2026, 12, 7, 7, 0), 60, Processing::Done),
        meeting(
            2,
            "Design review",
            at(2026, 12, 7, 8, 0),
            60,
            Processing::None,
        ),
        meeting(
            4,
            "Vendor call",
            at(2026, 12, 7, 9, 30),
            60,
            Processing::None,
        ),
        standup.clone(),
        meeting(5, "Budget", at(2026, 12, 8, 14, 0), 60, Processing::None),
        offsite,
    ];
    let detail = MeetingDetail {
        module_answers: Vec::new(),
        meeting: standup,
        description: Some("daily".into()),
        attendees: vec![
            Attendee {
                stakeholder_id: 1,
                email: "boss@example.com".into(),
                name: Some("Boss".into()),
                role: Role::Organizer,
            },
            Attendee {
                stakeholder_id: 2,
                email: "ann@example.com".into(),
                name: None,
                role: Role::Attendee,
            },
        ],
        pre_brief: Some(r#"{"agenda":["blockers","release"],"open_actions":2}"#.into()),
        post_brief: None,
        notes: vec![text_row(1, "release on friday\nann checks the build")],
        transcripts: vec![TranscriptInfo {
            id: 1,
            source_name: "standup.vtt".into(),
            format: "vtt".into(),
            chars: 1834,
            cues: Some(42),
            lines: 42,
        }],
        decisions: vec![text_row(1, "ship 2.0 on friday")],
        actions: vec![
            action(
                1,
                "fix the flaky test",
                Some("ann@example.com"),
                Some("2026-12-01"),
                ActionStatus::Open,
            ),
            action(
                2,
                "book the room",
                Some("Boss"),
                Some("2026-12-10"),
                ActionStatus::Doing,
            ),
            action(3, "send the agenda", None, None, ActionStatus::Done),
        ],
    };
    Loaded {
        meetings,
        detail: Some(detail),
        stakeholders: Vec::new(),
        stakeholder: None,
        watches: Vec::new(),
        change: None,
    }
}

/// The pane at the test clock with the week loaded and the standup
/// selected.
fn pane() -> MeetingsPane {
    let mut pane = MeetingsPane::new(ZONE, now());
    let (_, again) = pane.loaded(week());
    // The first load selects the first meeting; its detail is asked for.
    assert_eq!(again.map(|q| q.meeting), Some(Some(7)));
    pane.selected = 4;
    let (_, again) = pane.loaded(week());
    assert_eq!(again, None);
    pane
}

fn draw(
    pane: &mut MeetingsPane,
    width: u16,
    height: u16,
    depth: ColorDepth,
) -> (String, Terminal<TestBackend>) {
    let theme = Theme::load("dark", None, depth).unwrap();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| {
            pane.render(f.area(), f.buffer_mut(), true, &theme);
        })
        .unwrap();
    (terminal.backend().to_string(), terminal)
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent {
        code,
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    }
}

fn type_into(pane: &mut MeetingsPane, text: &str) {
    for c in text.chars() {
        assert!(matches!(
            pane.form_key(None, key(KeyCode::Char(c))),
            Outcome::Redraw
        ));
    }
}

fn write_of(outcome: Outcome) -> Write {
    match outcome {
        Outcome::Effect(Effect::Meetings(MeetingsOp::Write(write, _))) => write,
        _ => panic!("expected a write"),
    }
}

fn notified(outcome: Outcome) -> String {
    match outcome {
        Outcome::Effect(Effect::Notify(text, true)) => text,
        _ => panic!("expected an error in the status bar"),
    }
}

#[test]
fn the_week_by_day_with_statuses_and_the_selected_meetings_detail() {
    let mut pane = pane();
    for (width, height) in [(80, 24), (120, 40)] {
        let (screen, _) = draw(&mut pane, width, height, ColorDepth::TrueColor);
        insta::assert_snapshot!(format!("meetings_{width}x{height}"), screen);
    }
}

#[test]
fn without_colour_a_marker_tells_the_status() {
    let mut pane = pane();
    let (screen, _) = draw(&mut pane, 80, 24, ColorDepth::None);
    insta::assert_snapshot!("meetings_no_color_80x24", screen);
    assert!(screen.contains("! lobby") && screen.contains("x failed") && screen.contains("+ done"));
    assert!(screen.contains("[x open]"), "the overdue item is marked");
}

/// The colour of the first cell of `word`'s first appearance on `screen`.
fn fg_at(screen: &str, terminal: &Terminal<TestBackend>, word: &str) -> Color {
    let (y, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(word))
        .unwrap();
    let x = line[..line.find(word).unwrap()].chars().count();
    terminal.backend().buffer()[(x as u16, y as u16)].fg
}

#[test]
fn statuses_take_the_themes_colours() {
    let mut pane = pane();
    let (screen, terminal) = draw(&mut pane, 120, 40, ColorDepth::TrueColor);
    let fg_of = |word: &str| fg_at(&screen, &terminal, word);
    assert_eq!(
        fg_of("failed"),
        Color::Rgb(0xfb, 0x49, 0x34),
        "failed is red"
    );
    assert_eq!(
        fg_of(" done"),
        Color::Rgb(0xb8, 0xbb, 0x26),
        "done is green"
    );
    assert_eq!(
        fg_of("post"),
        Color::Rgb(0xfa, 0xbd, 0x2f),
        "post needs attention: yellow"
    );
    assert_eq!(
        fg_of("overdue"),
        Color::Rgb(0xfb, 0x49, 0x34),
        "overdue is red"
    );
}

#[test]
fn moving_selects_a_meeting_and_asks_for_its_detail() {
    let mut pane = pane();
    let Outcome::Effect(Effect::Meetings(MeetingsOp::Load(query))) = pane.update(Action::Down)
    else {
        panic!("expected a load");
    };
    assert_eq!(query.meeting, Some(5));
    assert_eq!(
        query.window,
        (at(2026, 12, 7, 0, 0), at(2026, 12, 14, 0, 0))
    );
    assert!(
        pane.detail().is_none(),
        "the standup's detail is not the budget's"
    );
    assert!(matches!(pane.update(Action::Top), Outcome::Effect(_)));
    assert!(
        matches!(pane.update(Action::Up), Outcome::Ignored),
        "already at the top"
    );
    assert!(matches!(
        pane.update(Action::Back),
        Outcome::Effect(Effect::Meetings(MeetingsOp::Leave))
    ));
}

#[test]
fn a_load_keeps_the_selection_on_the_same_meeting() {
    let mut pane = pane();
    let mut data = week();
    data.meetings.remove(0);
    let (changed, again) = pane.loaded(data);
    assert!(changed && again.is_none());
    assert_eq!(pane.selected_meeting().map(|m| m.id), Some(1));
    let (changed, _) = pane.loaded(pane.data.clone());
    assert!(!changed, "the same rows again draw nothing");
}

#[test]
fn the_tick_redraws_only_when_a_status_changes() {
    let mut pane = pane();
    assert!(
        !pane.tick(now() + 60_000),
        "09:56: the standup is still in the lobby"
    );
    assert!(pane.tick(at(2026, 12, 7, 10, 0)), "10:00: it starts");
    assert_eq!(
        pane.status_of(pane.selected_meeting().unwrap()),
        MeetingStatus::Active
    );
}

#[test]
fn an_action_item_cycles_open_doing_done_and_open_again() {
    let mut pane = pane();
    assert_eq!(
        write_of(pane.update(Action::CycleActionItem)),
        Write::ActionStatus {
            id: 1,
            status: ActionStatus::Doing
        }
    );
    assert!(matches!(pane.update(Action::NextItem), Outcome::Redraw));
    assert_eq!(
        write_of(pane.update(Action::CycleActionItem)),
        Write::ActionStatus {
            id: 2,
            status: ActionStatus::Done
        }
    );
    let _ = pane.update(Action::NextItem);
    assert!(
        matches!(pane.update(Action::NextItem), Outcome::Ignored),
        "the last one"
    );
    assert_eq!(
        write_of(pane.update(Action::CycleActionItem)),
        Write::ActionStatus {
            id: 3,
            status: ActionStatus::Open
        }
    );
    let _ = pane.update(Action::PrevItem);
    assert_eq!(pane.selected_action().map(|a| a.id), Some(2));
}

#[test]
fn a_decision_is_typed_in_place_and_an_empty_one_refused() {
    let mut pane = pane();
    assert!(matches!(pane.update(Action::AddDecision), Outcome::Redraw));
    assert_eq!(pane.form_is_multiline(), Some(false));
    assert!(
        matches!(pane.update(Action::Down), Outcome::Ignored),
        "the form has the keys"
    );
    assert!(notified(pane.form_key(Some(Action::Submit), key(KeyCode::Enter))).contains("empty"));
    type_into(&mut pane, "ship on friday");
    assert_eq!(
        write_of(pane.form_key(Some(Action::Submit), key(KeyCode::Enter))),
        Write::Decision {
            meeting: 1,
            text: "ship on friday".into()
        }
    );
    assert!(pane.form.is_none());
    let _ = pane.update(Action::AddDecision);
    let _ = pane.form_key(Some(Action::Back), key(KeyCode::Esc));
    assert!(pane.form.is_none(), "esc drops the form");
}

#[test]
fn an_action_item_form_walks_its_fields_and_checks_the_date() {
    let mut pane = pane();
    let _ = pane.update(Action::AddActionItem);
    let submit = |pane: &mut MeetingsPane| pane.form_key(Some(Action::Submit), key(KeyCode::Enter));
    type_into(&mut pane, "write the notes");
    assert!(matches!(submit(&mut pane), Outcome::Redraw));
    // No owner.
    assert!(matches!(submit(&mut pane), Outcome::Redraw));
    type_into(&mut pane, "12/24");
    let (screen, _) = draw(&mut pane, 80, 24, ColorDepth::TrueColor);
    insta::assert_snapshot!("meetings_action_form_80x24", screen);
    assert!(notified(submit(&mut pane)).contains("YYYY-MM-DD"));
    assert_eq!(
        pane.form.as_ref().map(|f| f.at),
        Some(2),
        "the cursor stays on the date"
    );
    for _ in 0..5 {
        let _ = pane.form_key(None, key(KeyCode::Backspace));
    }
    type_into(&mut pane, "2026-12-24");
    assert_eq!(
        write_of(submit(&mut pane)),
        Write::NewAction {
            meeting: 1,
            text: "write the notes".into(),
            owner: None,
            due: Some("2026-12-24".into()),
        }
    );
}

#[test]
fn tab_and_shift_tab_move_between_the_fields_of_a_form() {
    let mut pane = pane();
    let _ = pane.update(Action::AddActionItem);
    let at = |pane: &MeetingsPane| pane.form.as_ref().map(|f| f.at);
    type_into(&mut pane, "write the notes");
    let _ = pane.form_key(Some(Action::NextField), key(KeyCode::Tab));
    assert_eq!(at(&pane), Some(1));
    let _ = pane.form_key(Some(Action::NextField), key(KeyCode::Tab));
    type_into(&mut pane, "2026-12-24");
    let _ = pane.form_key(Some(Action::NextField), key(KeyCode::Tab));
    assert_eq!(at(&pane), Some(0), "tab goes round");
    let _ = pane.form_key(Some(Action::PrevField), key(KeyCode::BackTab));
    assert_eq!(at(&pane), Some(2));
    let _ = pane.form_key(Some(Action::PrevField), key(KeyCode::BackTab));
    type_into(&mut pane, "anna");
    // Enter goes on to the due date, which is filled in: the next stores.
    let _ = pane.form_key(Some(Action::Submit), key(KeyCode::Enter));
    assert_eq!(
        write_of(pane.form_key(Some(Action::Submit), key(KeyCode::Enter))),
        Write::NewAction {
            meeting: 1,
            text: "write the notes".into(),
            owner: Some("anna".into()),
            due: Some("2026-12-24".into()),
        }
    );
}

#[test]
fn editing_an_action_item_starts_from_what_it_says() {
    let mut pane = pane();
    let _ = pane.update(Action::EditActionItem);
    let form = pane.form.as_ref().unwrap();
    assert_eq!(form.kind, FormKind::EditAction { id: 1 });
    let texts: Vec<String> = form.fields.iter().map(|f| f.text()).collect();
    assert_eq!(
        texts,
        ["fix the flaky test", "ann@example.com", "2026-12-01"]
    );
    type_into(&mut pane, " today");
    let _ = pane.form_key(Some(Action::Submit), key(KeyCode::Enter));
    let _ = pane.form_key(Some(Action::Submit), key(KeyCode::Enter));
    assert_eq!(
        write_of(pane.form_key(Some(Action::Submit), key(KeyCode::Enter))),
        Write::EditAction {
            id: 1,
            text: "fix the flaky test today".into(),
            owner: Some("ann@example.com".into()),
            due: Some("2026-12-01".into()),
        }
    );
}

#[test]
fn a_note_takes_several_lines() {
    let mut pane = pane();
    let _ = pane.update(Action::AddNote);
    assert_eq!(pane.form_is_multiline(), Some(true));
    type_into(&mut pane, "first");
    // Enter is bound to nothing in [compose]: a new line.
    let _ = pane.form_key(None, key(KeyCode::Enter));
    type_into(&mut pane, "second");
    assert_eq!(
        write_of(pane.form_key(Some(Action::Submit), key(KeyCode::Char('s')))),
        Write::Note {
            meeting: 1,
            text: "first\nsecond".into()
        }
    );
}

#[test]
fn consent_is_one_of_three_levels() {
    let mut pane = pane();
    let _ = pane.update(Action::SetConsent);
    assert_eq!(pane.form.as_ref().unwrap().fields[0].text(), "plus");
    for _ in 0..4 {
        let _ = pane.form_key(None, key(KeyCode::Backspace));
    }
    type_into(&mut pane, "secret");
    assert!(
        notified(pane.form_key(Some(Action::Submit), key(KeyCode::Enter)))
            .contains("basic, plus or legal")
    );
    for _ in 0..6 {
        let _ = pane.form_key(None, key(KeyCode::Backspace));
    }
    type_into(&mut pane, "Legal");
    assert_eq!(
        write_of(pane.form_key(Some(Action::Submit), key(KeyCode::Enter))),
        Write::Consent {
            meeting: 1,
            consent: Consent::Legal
        }
    );
}

#[test]
fn without_meetings_a_change_says_how_to_get_some() {
    let mut pane = MeetingsPane::new(ZONE, now());
    let _ = pane.loaded(Loaded::default());
    assert!(notified(pane.update(Action::AddDecision)).contains("kollega meetings import"));
    let (screen, _) = draw(&mut pane, 80, 24, ColorDepth::TrueColor);
    assert!(screen.contains("no meetings in the next 7 days"));
}

#[test]
fn the_stakeholders_view_lists_people_with_their_work() {
    let mut pane = pane();
    let Outcome::Effect(Effect::Meetings(MeetingsOp::Load(query))) =
        pane.update(Action::MeetingsView)
    else {
        panic!("expected a load");
    };
    assert!(query.stakeholders);
    let mut data = week();
    data.stakeholders = vec![
        StakeholderRow {
            id: 2,
            email: "ann@example.com".into(),
            name: None,
            meetings: 3,
            decisions: 1,
            open_actions: 1,
        },
        StakeholderRow {
            id: 1,
            email: "boss@example.com".into(),
            name: Some("Boss".into()),
            meetings: 5,
            decisions: 2,
            open_actions: 0,
        },
    ];
    data.stakeholder = Some(StakeholderDetail {
        open_actions: vec![action(
            1,
            "fix the flaky test",
            Some("ann@example.com"),
            Some("2026-12-01"),
            ActionStatus::Open,
        )],
        decisions: vec![DecisionOf {
            meeting_title: "Standup".into(),
            text: "ship 2.0 on friday".into(),
        }],
        meetings: vec![week().meetings[4].clone()],
    });
    let _ = pane.loaded(data);
    let (screen, _) = draw(&mut pane, 80, 24, ColorDepth::TrueColor);
    insta::assert_snapshot!("meetings_stakeholders_80x24", screen);
    assert!(notified(pane.update(Action::AddDecision)).contains("meetings view"));
    let Outcome::Effect(Effect::Meetings(MeetingsOp::Load(query))) = pane.update(Action::Down)
    else {
        panic!("expected a load");
    };
    assert_eq!(query.stakeholder, Some(1));
}

#[test]
fn the_watches_view_lists_pages_and_shows_the_latest_change() {
    let mut pane = pane();
    let _ = pane.update(Action::MeetingsView);
    let Outcome::Effect(Effect::Meetings(MeetingsOp::Load(query))) =
        pane.update(Action::MeetingsView)
    else {
        panic!("expected a load");
    };
    assert!(query.watches && !query.stakeholders);
    let watch = |id: i64, url: &str, versions: i64, error: Option<&str>| WatchRow {
        id,
        url: url.into(),
        every_s: 6 * 3600,
        etag: None,
        last_modified: None,
        last_fetched_at: Some(at(2026, 12, 7, 8, 0)),
        last_error: error.map(str::to_string),
        created_at: at(2026, 12, 1, 8, 0),
        versions,
        summarize: id == 4,
    };
    let mut data = week();
    data.watches = vec![
        watch(4, "https://eur-lex.example/feed.xml", 3, None),
        watch(
            5,
            "https://gov.example/procurement",
            1,
            Some("503 Service Unavailable"),
        ),
    ];
    data.change = Some(WatchChange {
        watch: 4,
        at: Some(at(2026, 12, 7, 8, 0)),
        text: "--- https://eur-lex.example/feed.xml\n+++ https://eur-lex.example/feed.xml\n\
               @@ -1,2 +1,3 @@\n * Data Act guidance\n+* AI Act: obligations from August\n"
            .into(),
        summary: Some(
            "A new item announces AI Act obligations that apply from August.\n\
             Teams placing AI systems on the market may have to document them by then."
                .into(),
        ),
    });
    let _ = pane.loaded(data);
    let (screen, _) = draw(&mut pane, 80, 24, ColorDepth::TrueColor);
    insta::assert_snapshot!("meetings_watches_80x24", screen);
    assert!(screen.contains("AI Act: obligations"), "{screen}");
    assert!(screen.contains("Summary (AI)"), "{screen}");
    let summary_row = screen.lines().position(|l| l.contains("Summary (AI)"));
    let diff_row = screen.lines().position(|l| l.contains("@@ -1,2 +1,3 @@"));
    assert!(
        summary_row < diff_row,
        "the summary is above the diff: {screen}"
    );
    assert!(screen.contains("failed"), "{screen}");
    // Moving down asks for the second page's change; the view cycles back.
    let Outcome::Effect(Effect::Meetings(MeetingsOp::Load(query))) = pane.update(Action::Down)
    else {
        panic!("expected a load");
    };
    assert_eq!(query.watch, Some(5));
    let _ = pane.update(Action::MeetingsView);
    assert_eq!(pane.view, View::Agenda);
}

#[test]
fn the_watches_view_without_watches_says_so_on_both_sides() {
    let mut pane = pane();
    let _ = pane.update(Action::MeetingsView);
    let _ = pane.update(Action::MeetingsView);
    let _ = pane.loaded(week());
    let (screen, _) = draw(&mut pane, 80, 24, ColorDepth::TrueColor);
    assert!(screen.contains("kollega watch add URL"), "{screen}");
    assert!(screen.contains("nothing watched"), "{screen}");
    assert!(!screen.contains("reading"), "{screen}");
}

/// The week with the standup's latest module answers: a copilot answer
/// citing a line the document does not have, and a procurement check.
fn week_with_answers() -> Loaded {
    use crate::store::meetings::modules::AnswerRow;
    let mut data = week();
    let answer = |id: i64, module: &str, json: &str| AnswerRow {
        id,
        meeting_id: 1,
        module: module.into(),
        prompt_version: format!("modules/{module}.v2"),
        question: None,
        answer: json.into(),
        ai_call_id: Some(id),
        created_at: at(2026, 12, 7, 9, 40 + id as u32),
        cost_micros: Some(1200),
    };
    if let Some(detail) = data.detail.as_mut() {
        detail.module_answers = vec![
            answer(
                1,
                "copilot",
                r#"{"answer": "Delivery is within 30 days of signing.", "citations": [{"line": 2, "quote": "Delivery within 30 days."}, {"line": 40, "quote": "Penalties apply.", "outOfRange": true}]}"#,
            ),
            answer(
                2,
                "procurement",
                r#"{"criteria": [
                    {"criterion": "Delivery within 45 days", "verdict": "met", "passage": "Delivery within 30 days.", "line": 2},
                    {"criterion": "Support in Swedish", "verdict": "unmet", "passage": "Support in English only.", "line": 5},
                    {"criterion": "ISO 27001", "verdict": "unclear", "passage": "no passage", "line": null}
                ], "flags": [{"kind": "deadline", "text": "offer valid until 2027-01-31", "line": 7}]}"#,
            ),
        ];
    }
    data
}

/// The standup selected with its module answers, the item cursor stepped
/// onto the procurement check (after the three action items and the
/// copilot answer), which the detail scrolls to.
fn pane_with_answers() -> MeetingsPane {
    let mut pane = MeetingsPane::new(ZONE, now());
    let _ = pane.loaded(week_with_answers());
    pane.selected = 4;
    let (_, again) = pane.loaded(week_with_answers());
    assert_eq!(again, None);
    for _ in 0..4 {
        assert!(matches!(pane.update(Action::NextItem), Outcome::Redraw));
    }
    assert_eq!(pane.item, 4);
    assert!(
        matches!(pane.update(Action::NextItem), Outcome::Ignored),
        "the last module answer is the end"
    );
    assert!(pane.selected_action().is_none());
    assert_eq!(
        notified(pane.update(Action::CycleActionItem)),
        "a module answer is selected, not an action item"
    );
    pane
}

#[test]
fn the_detail_shows_the_latest_module_answers_with_coloured_verdicts() {
    let mut pane = pane_with_answers();
    for (width, height) in [(80, 24), (120, 40)] {
        let (screen, _) = draw(&mut pane, width, height, ColorDepth::TrueColor);
        insta::assert_snapshot!(format!("meetings_module_answers_{width}x{height}"), screen);
        assert!(screen.contains("Module answers (2)"), "{screen}");
        assert!(
            screen.contains("procurement · modules/procurement.v2"),
            "{screen}"
        );
    }
    let (screen, terminal) = draw(&mut pane, 120, 40, ColorDepth::TrueColor);
    assert!(
        screen.contains("[L40: not a line of the document]"),
        "{screen}"
    );
    assert!(screen.contains("1 met, 1 unmet, 1 unclear"), "{screen}");
    let fg_of = |word: &str| fg_at(&screen, &terminal, word);
    assert_eq!(
        fg_of("met Delivery"),
        Color::Rgb(0xb8, 0xbb, 0x26),
        "met is green"
    );
    assert_eq!(
        fg_of("unmet Support"),
        Color::Rgb(0xfb, 0x49, 0x34),
        "unmet is red"
    );
    assert_eq!(
        fg_of("unclear ISO"),
        Color::Rgb(0xfa, 0xbd, 0x2f),
        "unclear is yellow"
    );
}

#[test]
fn without_colour_the_verdicts_carry_their_markers() {
    let mut pane = pane_with_answers();
    let (screen, _) = draw(&mut pane, 80, 24, ColorDepth::None);
    insta::assert_snapshot!("meetings_module_answers_no_color_80x24", screen);
    assert!(screen.contains("+ met Delivery"), "{screen}");
    assert!(screen.contains("x unmet Support"), "{screen}");
    assert!(screen.contains("! unclear ISO"), "{screen}");
}

fn op_of(outcome: Outcome) -> MeetingsOp {
    match outcome {
        Outcome::Effect(Effect::Meetings(op)) => op,
        _ => panic!("expected a meetings op"),
    }
}

#[test]
fn a_transcript_is_attached_by_its_path_typed_in_place() {
    let mut pane = pane();
    assert!(matches!(
        pane.update(Action::AttachTranscript),
        Outcome::Redraw
    ));
    let form = pane.form.as_ref().unwrap();
    assert_eq!(form.kind, FormKind::Transcript { meeting: 1 });
    assert_eq!(pane.form_is_multiline(), Some(false));
    // An empty path is refused and the form stays.
    assert!(
        notified(pane.form_key(Some(Action::Submit), key(KeyCode::Enter)))
            .contains("no file given")
    );
    assert!(pane.form.is_some());
    type_into(&mut pane, "~/calls/standup.vtt");
    let MeetingsOp::Attach {
        meeting,
        path,
        query,
    } = op_of(pane.form_key(Some(Action::Submit), key(KeyCode::Enter)))
    else {
        panic!("expected an attach");
    };
    assert_eq!((meeting, path.as_str()), (1, "~/calls/standup.vtt"));
    assert_eq!(query.meeting, Some(1));
    assert!(pane.form.is_none());
}

#[test]
fn a_transcript_write_says_what_was_attached() {
    let read = |name: &str, text: &str| Write::Transcript {
        meeting: 1,
        loaded: Box::new(transcript::Loaded {
            name: name.into(),
            transcript: transcript::read(name, text).unwrap(),
        }),
    };
    let vtt = read(
        "call.vtt",
        "WEBVTT\n\n00:00.000 --> 00:02.000\nhello\n\n00:02.000 --> 00:04.000\nbye\n",
    );
    assert_eq!(
        vtt.done_note(),
        "transcript call.vtt attached (vtt, 2 cues)"
    );
    let txt = read("notes.txt", "one\ntwo\nthree\n");
    assert_eq!(
        txt.done_note(),
        "transcript notes.txt attached (txt, 3 lines)"
    );
}

#[test]
fn a_brief_is_the_pre_brief_before_the_meeting_and_the_post_brief_after() {
    let mut pane = pane();
    // The standup starts in five minutes (lobby), consent plus.
    assert_eq!(
        op_of(pane.update(Action::MeetingBrief)),
        MeetingsOp::Brief {
            meeting: 1,
            kind: BriefKind::Pre,
            metadata_only: false,
        }
    );
    // The retro is done, consent basic: no post-brief, and the pane says
    // how to allow one.
    pane.selected = 1;
    let _ = pane.loaded(week());
    assert_eq!(pane.selected_meeting().map(|m| m.id), Some(3));
    let said = notified(pane.update(Action::MeetingBrief));
    assert!(
        said.contains("no post-brief under consent basic") && said.contains("plus"),
        "{said}"
    );
    // Under consent plus it is asked for.
    let mut data = week();
    data.meetings[1].consent = Consent::Plus;
    let _ = pane.loaded(data);
    assert_eq!(
        op_of(pane.update(Action::MeetingBrief)),
        MeetingsOp::Brief {
            meeting: 3,
            kind: BriefKind::Post,
            metadata_only: false,
        }
    );
    // A basic meeting still to come gets a pre-brief of its metadata.
    let mut data = week();
    let budget = data.meetings.iter().position(|m| m.id == 5).unwrap();
    pane.selected = budget;
    data.meetings[budget].consent = Consent::Basic;
    let _ = pane.loaded(data);
    assert_eq!(
        op_of(pane.update(Action::MeetingBrief)),
        MeetingsOp::Brief {
            meeting: 5,
            kind: BriefKind::Pre,
            metadata_only: true,
        }
    );
}

#[test]
fn the_detail_shows_the_post_brief_and_the_transcripts_size() {
    let mut pane = pane();
    let mut data = week();
    if let Some(detail) = data.detail.as_mut() {
        detail.post_brief = Some(
            r#"{"summary":"Release moves to friday.","decisions":["ship 2.0 on friday"],"actions":[{"text":"tag the release","owner":"ann@example.com","due":"2026-12-11"}]}"#
                .into(),
        );
        detail.transcripts.push(TranscriptInfo {
            id: 2,
            source_name: "minutes.txt".into(),
            format: "txt".into(),
            chars: 120,
            cues: None,
            lines: 6,
        });
    }
    let _ = pane.loaded(data);
    let (screen, _) = draw(&mut pane, 120, 40, ColorDepth::None);
    insta::assert_snapshot!("meetings_post_brief_120x40", screen);
    assert!(screen.contains("Post-brief"), "{screen}");
    assert!(
        screen.contains("tag the release (owner ann@example.com, due 2026-12-11)"),
        "{screen}"
    );
    assert!(screen.contains("standup.vtt (vtt, 42 cues"), "{screen}");
    assert!(screen.contains("minutes.txt (txt, 6 lines"), "{screen}");
}

#[test]
fn the_watches_list_marks_ai_summaries_without_colour() {
    let mut pane = pane();
    let _ = pane.update(Action::MeetingsView);
    let _ = pane.update(Action::MeetingsView);
    let watch = |id: i64, url: &str, summarize: bool| WatchRow {
        id,
        url: url.into(),
        every_s: 3600,
        etag: None,
        last_modified: None,
        last_fetched_at: None,
        last_error: None,
        created_at: at(2026, 12, 1, 8, 0),
        versions: 0,
        summarize,
    };
    let mut data = week();
    data.watches = vec![
        watch(1, "https://a.example/", true),
        watch(2, "https://b.example/", false),
    ];
    let _ = pane.loaded(data);
    let (screen, _) = draw(&mut pane, 80, 24, ColorDepth::None);
    let marked: Vec<&str> = screen.lines().filter(|l| l.contains("Σ ai")).collect();
    assert_eq!(marked.len(), 1, "{screen}");
    assert!(marked[0].contains("0 versions"), "{screen}");
}
