//! The AI pane alone: what it sends, what it shows before and while the
//! answer streams.

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::jobs::queue::{LogLine, Stream};
use crate::tui::theme::{ColorDepth, Theme};

fn theme() -> Theme {
    Theme::load("dark", None, ColorDepth::TrueColor).unwrap()
}

fn typed(pane: &mut AiPane, text: &str) {
    for c in text.chars() {
        let code = if c == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(c)
        };
        pane.type_key(KeyEvent::from(code));
    }
}

fn draw(pane: &mut AiPane, width: u16, height: u16) -> String {
    let theme = theme();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| {
            pane.render(f.area(), f.buffer_mut(), true, &theme);
        })
        .unwrap();
    terminal.backend().to_string()
}

fn pane_with_context() -> AiPane {
    let mut pane = AiPane::new();
    pane.open_file = Some(ContextFile {
        path: "src/cart.rs".into(),
        tokens: None,
    });
    pane.file_read("src/cart.rs", &"x".repeat(4_001));
    pane.add_file("src/tax.rs").unwrap();
    pane
}

#[test]
fn the_payload_carries_the_prompt_the_files_and_the_conversation() {
    let mut pane = pane_with_context();
    typed(&mut pane, "rename count\nto quantity");
    let Outcome::Effect(Effect::Ai(AiOp::Send(payload))) = pane.update(Action::Submit) else {
        panic!("submit sends");
    };
    assert_eq!(payload["prompt"], "rename count\nto quantity");
    assert_eq!(
        payload["files"],
        serde_json::json!(["src/cart.rs", "src/tax.rs"])
    );
    assert!(payload["provider"].is_null() && payload["conversation"].is_null());
    pane.conversation = Some(Conversation {
        id: 4,
        title: "cart".into(),
        provider: "openai".into(),
        model: "gpt".into(),
        workspace_key: "ws:shop".into(),
        last_response_id: None,
        created_at: 0,
        updated_at: 0,
    });
    assert_eq!(pane.payload()["conversation"], 4);
}

#[test]
fn nothing_is_sent_without_a_prompt_or_while_an_answer_streams() {
    let mut pane = AiPane::new();
    assert!(matches!(
        pane.update(Action::Submit),
        Outcome::Effect(Effect::Notify(_, true))
    ));
    typed(&mut pane, "do it");
    pane.sent(12);
    assert_eq!(pane.running_job(), Some(12));
    assert!(matches!(
        pane.update(Action::Submit),
        Outcome::Effect(Effect::Notify(_, true))
    ));
}

#[test]
fn secrets_and_duplicates_are_not_added_to_the_context() {
    let mut pane = pane_with_context();
    assert!(
        pane.add_file(".env.local")
            .unwrap_err()
            .contains("never sends")
    );
    assert!(
        pane.add_file("src/cart.rs")
            .unwrap_err()
            .contains("already")
    );
    assert_eq!(pane.context_paths(), ["src/cart.rs", "src/tax.rs"]);
}

#[test]
fn the_keys_ask_the_app_for_files_conversations_and_leaving() {
    let mut pane = AiPane::new();
    assert!(matches!(
        pane.update(Action::AddContext),
        Outcome::Effect(Effect::Ai(AiOp::PickFile))
    ));
    assert!(matches!(
        pane.update(Action::Conversations),
        Outcome::Effect(Effect::Ai(AiOp::PickConversation))
    ));
    assert!(matches!(
        pane.update(Action::Back),
        Outcome::Effect(Effect::Ai(AiOp::Leave))
    ));
    typed(&mut pane, "old");
    pane.sent(3);
    let _ = pane.update(Action::NewConversation);
    assert!(pane.prompt().is_empty() && pane.running_job().is_none());
}

#[test]
fn the_context_and_its_estimate_show_before_sending() {
    let mut pane = pane_with_context();
    typed(&mut pane, "rename count to quantity");
    // 4,001 bytes: 1,001 tokens; the prompt's 24 bytes: 6.
    assert_eq!(pane.context_tokens(), 1_007);
    let screen = draw(&mut pane, 80, 24);
    assert!(screen.contains("~1001 tokens"), "{screen}");
    assert!(screen.contains("reading…"), "{screen}");
    assert!(screen.contains("~1007 tokens with the prompt"), "{screen}");
    insta::assert_snapshot!("ai_before_sending_80x24", screen);
}

#[test]
fn the_answer_streams_in_and_the_outcome_shows() {
    let mut pane = pane_with_context();
    typed(&mut pane, "rename count to quantity");
    pane.sent(21);
    pane.log.append(vec![
        LogLine {
            seq: 0,
            attempt: 1,
            stream: Stream::Stdout,
            at: 0,
            line: "I'll rename the parameter.".into(),
        },
        LogLine {
            seq: 1,
            attempt: 1,
            stream: Stream::Stdout,
            at: 0,
            line: "src/cart.rs".into(),
        },
    ]);
    let screen = draw(&mut pane, 100, 30);
    assert!(screen.contains("job 21, streaming"), "{screen}");
    assert!(screen.contains("I'll rename the parameter."), "{screen}");
    pane.state = AskState::Failed {
        id: 21,
        error: "the stream was cut".into(),
    };
    let screen = draw(&mut pane, 100, 30);
    assert!(
        screen.contains("job 21 failed") && screen.contains("the stream was cut"),
        "{screen}"
    );
    insta::assert_snapshot!("ai_failed_100x30", screen);
}
