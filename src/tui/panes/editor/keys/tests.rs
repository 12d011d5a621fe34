use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;

use super::super::{EditorPane, Tab};
use crate::editor::highlight::Highlighter;
use crate::tui::app::{Effect, Focus, Outcome};
use crate::tui::keymap::Action;
use crate::tui::theme::{ColorDepth, Theme};

const CART: &str = "const item = 1;\nlet total = item + item;\nexport { item };\n";

fn pane(path: &str, text: &str, theme: &Theme) -> EditorPane {
    let highlighter = Highlighter::new(&theme.syntax_palette());
    EditorPane::new(
        vec![Tab::new(path.into(), Some(text), &highlighter)],
        0,
        false,
    )
}

fn text(pane: &EditorPane) -> String {
    pane.active_tab()
        .map(|t| t.buffer.text())
        .unwrap_or_default()
}

/// The screen, then the cells drawn in reverse video as `#`: without
/// colour that is how selections and the further cursors show.
fn screen_with_marks(pane: &mut EditorPane, theme: &Theme) -> String {
    let highlighter = Highlighter::new(&theme.syntax_palette());
    let mut terminal = Terminal::new(TestBackend::new(60, 8)).unwrap();
    terminal
        .draw(|f| {
            pane.render(f.area(), f.buffer_mut(), true, None, &highlighter, theme);
        })
        .unwrap();
    let cells = terminal.backend().buffer().clone();
    let mut marks = String::new();
    for y in 0..cells.area.height {
        let row: String = (0..cells.area.width)
            .map(|x| {
                let reversed = cells[(x, y)].modifier.contains(Modifier::REVERSED);
                if reversed { '#' } else { ' ' }
            })
            .collect();
        marks.push_str(row.trim_end());
        marks.push('\n');
    }
    format!("{}\n{marks}", terminal.backend())
}

#[test]
fn three_cursors_are_drawn_each_with_its_selection() {
    let theme = Theme::load("dark", None, ColorDepth::None).unwrap();
    let mut pane = pane("lib/cart.ts", CART, &theme);
    let _ = pane.update(Action::Down);
    let _ = pane.update(Action::WordForward);
    let _ = pane.update(Action::WordForward);
    let _ = pane.update(Action::WordForward);
    for _ in 0..3 {
        let _ = pane.update(Action::AddNextMatch);
    }
    assert_eq!(pane.active_tab().map(|t| t.buffer.cursor_count()), Some(3));
    insta::assert_snapshot!(
        "three_cursors_selected",
        screen_with_marks(&mut pane, &theme)
    );
    for c in "entry".chars() {
        let _ = pane.type_char(c);
    }
    assert_eq!(
        text(&pane),
        "const item = 1;\nlet total = entry + entry;\nexport { entry };\n"
    );
    insta::assert_snapshot!("three_cursors_typed", screen_with_marks(&mut pane, &theme));
}

#[test]
fn esc_drops_the_further_cursors_before_it_leaves_the_editor() {
    let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
    let mut pane = pane("lib/cart.ts", CART, &theme);
    let _ = pane.update(Action::AddNextMatch);
    // Only one `const`: every occurrence is taken.
    assert!(matches!(
        pane.update(Action::AddNextMatch),
        Outcome::Effect(Effect::Notify(message, false)) if message.contains("all 1")
    ));
    let mut pane = pane_with_two_lets(&theme);
    let _ = pane.update(Action::AddNextMatch);
    let _ = pane.update(Action::AddNextMatch);
    let _ = pane.update(Action::Backspace);
    assert_eq!(text(&pane), "\na = 1;\n\nb = 2;\n");
    assert!(matches!(pane.update(Action::Back), Outcome::Redraw));
    assert_eq!(pane.active_tab().map(|t| t.buffer.cursor_count()), Some(1));
    assert!(matches!(
        pane.update(Action::Back),
        Outcome::Effect(Effect::Focus(Focus::Tree))
    ));
    // One undo step takes the edit back at both places.
    let _ = pane.update(Action::Undo);
    assert_eq!(text(&pane), "let\na = 1;\nlet\nb = 2;\n");
}

fn pane_with_two_lets(theme: &Theme) -> EditorPane {
    pane("x.rs", "let\na = 1;\nlet\nb = 2;\n", theme)
}

#[test]
fn line_keys_comment_move_duplicate_and_outdent_the_line() {
    let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
    let mut pane = pane("db/q.sql", "select 1;\n  select 2;\n", &theme);
    let _ = pane.update(Action::ToggleComment);
    assert_eq!(text(&pane), "-- select 1;\n  select 2;\n");
    let _ = pane.update(Action::MoveLinesDown);
    assert_eq!(text(&pane), "  select 2;\n-- select 1;\n");
    let _ = pane.update(Action::DuplicateLines);
    assert_eq!(text(&pane), "  select 2;\n-- select 1;\n-- select 1;\n");
    let _ = pane.update(Action::MoveLinesUp);
    let _ = pane.update(Action::MoveLinesUp);
    assert_eq!(text(&pane), "-- select 1;\n  select 2;\n-- select 1;\n");
    let _ = pane.update(Action::Down);
    let _ = pane.update(Action::Outdent);
    assert_eq!(text(&pane), "-- select 1;\nselect 2;\n-- select 1;\n");
    let _ = pane.update(Action::Up);
    let _ = pane.update(Action::LineStart);
    let _ = pane.update(Action::SelectLineEnd);
    let _ = pane.update(Action::Copy);
    assert_eq!(
        pane.active_tab().and_then(|t| t.buffer.selected_text()),
        Some("-- select 1;".into())
    );
    let mut plain = pane_for_notes(&theme);
    assert!(matches!(
        plain.update(Action::ToggleComment),
        Outcome::Effect(Effect::Notify(message, true)) if message.contains("notes.txt")
    ));
}

fn pane_for_notes(theme: &Theme) -> EditorPane {
    pane("notes.txt", "a\n", theme)
}

#[test]
fn shift_home_selects_to_the_first_non_blank_then_to_column_zero() {
    let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
    let mut pane = pane("a.py", "    return x\n", &theme);
    let _ = pane.update(Action::LineEnd);
    let _ = pane.update(Action::SelectLineStart);
    let selected = |p: &EditorPane| p.active_tab().and_then(|t| t.buffer.selected_text());
    assert_eq!(selected(&pane).as_deref(), Some("return x"));
    let _ = pane.update(Action::SelectLineStart);
    assert_eq!(selected(&pane).as_deref(), Some("    return x"));
    let _ = pane.update(Action::SelectWordForward);
    assert_eq!(selected(&pane).as_deref(), Some("return x"));
    let _ = pane.update(Action::LineEnd);
    let _ = pane.update(Action::SelectWordBackward);
    assert_eq!(selected(&pane).as_deref(), Some("x"));
    let _ = pane.update(Action::SelectWordBackward);
    assert_eq!(selected(&pane).as_deref(), Some("return x"));
}
