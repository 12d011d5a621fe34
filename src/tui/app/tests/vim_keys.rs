//! vim's grammar through the app: keys from the keymap reach it, Esc stays
//! in the editor, searches leave nothing selected, `"+` reaches the
//! clipboard.

use super::*;

fn cursor(h: &Harness) -> (usize, usize) {
    active_tab(h).unwrap().buffer.cursor_line_col()
}

#[tokio::test]
async fn counts_operators_objects_and_repeat_reach_the_grammar() {
    let mut f = fixture(Some("vim")).await;
    open_page(&mut f.h).await;
    typing(&mut f.h, "2j").await;
    assert_eq!(cursor(&f.h).0, 2);
    typing(&mut f.h, "gg").await;
    // `g t` stays the keymap's: the grammar gets `g g` only.
    assert_eq!(cursor(&f.h), (0, 0));
    typing(&mut f.h, "ciwimport").await;
    key(&mut f.h, KeyCode::Esc, KeyModifiers::NONE).await;
    assert_eq!(f.h.app.mode(), Mode::Normal);
    assert!(
        text_of(&f.h).starts_with("import default function"),
        "{}",
        text_of(&f.h)
    );
    typing(&mut f.h, "w.").await;
    assert!(
        text_of(&f.h).starts_with("import import function"),
        "{}",
        text_of(&f.h)
    );
    // One undo step per change, the typing included.
    typing(&mut f.h, "u").await;
    assert!(text_of(&f.h).starts_with("import default function"));
    typing(&mut f.h, "2dd").await;
    assert_eq!(text_of(&f.h), "}\n");
}

#[tokio::test]
async fn esc_in_normal_mode_stays_in_the_editor_and_cancels() {
    let mut f = fixture(Some("vim")).await;
    open_page(&mut f.h).await;
    key(&mut f.h, KeyCode::Esc, KeyModifiers::NONE).await;
    assert_eq!(f.h.app.focus, Focus::Editor);
    typing(&mut f.h, "3d").await;
    key(&mut f.h, KeyCode::Esc, KeyModifiers::NONE).await;
    assert_eq!(f.h.app.focus, Focus::Editor);
    // After the cancelled `3d`, `x` deletes one character, in the file.
    typing(&mut f.h, "x").await;
    assert!(
        text_of(&f.h).starts_with("xport default"),
        "{}",
        text_of(&f.h)
    );
}

#[tokio::test]
async fn a_search_puts_the_cursor_on_the_match_with_nothing_selected() {
    let mut f = fixture(Some("vim")).await;
    open_page(&mut f.h).await;
    typing(&mut f.h, "/Shop").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    let tab = active_tab(&f.h).unwrap();
    assert!(tab.buffer.selection().is_empty());
    assert_eq!(cursor(&f.h), (1, 31));
    typing(&mut f.h, "x").await;
    assert!(text_of(&f.h).contains(">hop</h1>"), "{}", text_of(&f.h));
    typing(&mut f.h, "ggw*").await;
    assert!(active_tab(&f.h).unwrap().buffer.selection().is_empty());
}

#[tokio::test]
async fn the_plus_register_reaches_the_clipboard_and_visual_mode_shows() {
    let mut f = fixture(Some("vim")).await;
    open_page(&mut f.h).await;
    typing(&mut f.h, "\"+yiw").await;
    assert_eq!(f.h.app.take_clipboard().as_deref(), Some("export"));
    typing(&mut f.h, "vj").await;
    assert_eq!(f.h.app.mode(), Mode::Visual);
    typing(&mut f.h, "d").await;
    assert_eq!(f.h.app.mode(), Mode::Normal);
    assert!(
        text_of(&f.h).starts_with(" return <h1"),
        "{}",
        text_of(&f.h)
    );
}

#[tokio::test]
async fn z_commands_scroll_the_window_around_the_cursor() {
    let mut f = fixture(Some("vim")).await;
    open_page(&mut f.h).await;
    typing(&mut f.h, "jzt").await;
    assert_eq!(active_tab(&f.h).unwrap().top, 1);
    typing(&mut f.h, "zb").await;
    assert_eq!(active_tab(&f.h).unwrap().top, 0);
    // Scrolling moves neither the cursor nor the text.
    assert_eq!(cursor(&f.h), (1, 0));
    assert!(!active_tab(&f.h).unwrap().is_dirty());
}
