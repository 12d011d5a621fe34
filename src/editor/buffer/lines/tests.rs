use proptest::prelude::*;

use super::super::{Buffer, Selection};
use super::line_comment_token;

fn buffer(text: &str, anchor: usize, head: usize) -> Buffer {
    let mut buffer = Buffer::from_text(text);
    buffer.set_selection(Selection::new(anchor, head));
    buffer
}

#[test]
fn shift_tab_outdents_every_selected_line_by_one_unit() {
    let text = "fn a() {\n        x();\n    y();\nz();\n}\n";
    let mut b = buffer(text, 9, 30);
    b.outdent_lines();
    assert_eq!(b.text(), "fn a() {\n    x();\ny();\nz();\n}\n");
    assert!(b.undo());
    assert_eq!(b.text(), text);
    // A tab-indented file loses one tab; two spaces less than a unit go.
    let mut b = buffer("\t\tx\n", 0, 0);
    b.outdent_lines();
    assert_eq!(b.text(), "\tx\n");
    let mut b = buffer("  x\n", 3, 3);
    b.outdent_lines();
    assert_eq!(b.text(), "x\n");
    assert_eq!(b.cursor(), 1);
}

#[test]
fn tab_indents_a_multi_line_selection_and_types_a_tab_otherwise() {
    let text = "a\n\nb\nc\n";
    // Lines 0–2 selected (the selection ends at the start of line 3).
    let mut b = buffer(text, 0, 5);
    b.tab();
    assert_eq!(b.text(), "    a\n\n    b\nc\n");
    assert_eq!(b.selection(), Selection::new(4, 13));
    assert!(b.undo());
    assert_eq!(b.text(), text);
    let mut b = buffer(text, 0, 1);
    b.tab();
    assert_eq!(b.text(), "    \n\nb\nc\n");
}

#[test]
fn toggle_comment_comments_at_the_smallest_indent_and_back() {
    let text = "fn a() {\n    if x {\n        y();\n\n    }\n}\n";
    let mut b = buffer(text, 12, 40);
    b.toggle_comment("//");
    assert_eq!(
        b.text(),
        "fn a() {\n    // if x {\n    //     y();\n\n    // }\n}\n"
    );
    b.toggle_comment("//");
    assert_eq!(b.text(), text);
    // One undo step each.
    b.undo();
    b.undo();
    assert_eq!(b.text(), text);
}

#[test]
fn toggle_comment_comments_a_mixed_run_and_uncomments_without_a_space() {
    let mut b = buffer("# a\nb\n", 0, 5);
    b.toggle_comment("#");
    assert_eq!(b.text(), "# # a\n# b\n");
    let mut b = buffer("--x\n  -- y\n", 0, 9);
    b.toggle_comment("--");
    assert_eq!(b.text(), "x\n  y\n");
    // The cursor stays on its text.
    let mut b = buffer("let x;\n", 4, 4);
    b.toggle_comment("//");
    assert_eq!(b.text(), "// let x;\n");
    assert_eq!(b.cursor(), 7);
    // A blank line gets a comment to type into.
    let mut b = buffer("\n", 0, 0);
    b.toggle_comment("#");
    assert_eq!(b.text(), "# \n");
    assert_eq!(b.cursor(), 2);
}

#[test]
fn comment_tokens_come_from_the_file_name() {
    assert_eq!(line_comment_token("src/main.rs"), Some("//"));
    assert_eq!(line_comment_token("app/page.TSX"), Some("//"));
    assert_eq!(line_comment_token("x.py"), Some("#"));
    assert_eq!(line_comment_token("Cargo.toml"), Some("#"));
    assert_eq!(line_comment_token("db/schema.sql"), Some("--"));
    assert_eq!(line_comment_token("init.lua"), Some("--"));
    assert_eq!(line_comment_token("Makefile"), Some("#"));
    assert_eq!(line_comment_token("README"), None);
    assert_eq!(line_comment_token("index.html"), None);
}

#[test]
fn alt_up_and_down_move_the_lines_and_the_selection_follows() {
    let text = "one\ntwo\nthree\nfour";
    let mut b = buffer(text, 5, 10);
    assert!(b.move_lines(true));
    assert_eq!(b.text(), "two\nthree\none\nfour");
    assert_eq!(b.selection(), Selection::new(1, 6));
    assert!(!b.move_lines(true));
    assert!(b.move_lines(false));
    assert!(b.move_lines(false));
    // The last line has no line break and keeps none.
    assert_eq!(b.text(), "one\nfour\ntwo\nthree");
    assert!(!b.move_lines(false));
    assert!(b.undo());
    assert_eq!(b.text(), text);
    assert_eq!(b.selection(), Selection::new(5, 10));
}

#[test]
fn moving_never_takes_the_final_line_break() {
    let mut b = buffer("a\nb\n", 2, 2);
    assert!(!b.move_lines(false));
    assert_eq!(b.text(), "a\nb\n");
    let mut b = buffer("a\nb\n", 4, 4);
    assert!(!b.move_lines(true));
    assert_eq!(b.text(), "a\nb\n");
}

#[test]
fn crlf_lines_move_with_their_endings() {
    let mut b = buffer("a\r\nb\r\nc", 3, 3);
    assert!(b.move_lines(false));
    assert_eq!(b.text(), "a\r\nc\r\nb");
    assert_eq!(b.cursor(), 6);
}

#[test]
fn duplicate_copies_the_lines_below_and_the_cursor_goes_to_the_copy() {
    let mut b = buffer("x\nab\ny", 3, 3);
    b.duplicate_lines(true);
    assert_eq!(b.text(), "x\nab\nab\ny");
    assert_eq!(b.cursor(), 6);
    let mut b = buffer("a\nb", 0, 3);
    b.duplicate_lines(true);
    assert_eq!(b.text(), "a\nb\na\nb");
    assert_eq!(b.selection(), Selection::new(4, 7));
    assert!(b.undo());
    assert_eq!(b.text(), "a\nb");
    // Above: the cursor stays on the upper copy.
    let mut b = buffer("x\nab\ny", 4, 4);
    b.duplicate_lines(false);
    assert_eq!(b.text(), "x\nab\nab\ny");
    assert_eq!(b.cursor(), 4);
}

#[test]
fn line_commands_work_at_every_cursor() {
    let mut b = buffer("a\nb\nc\nd\n", 0, 0);
    b.others = vec![Selection::point(4)];
    b.toggle_comment("#");
    assert_eq!(b.text(), "# a\nb\n# c\nd\n");
    b.duplicate_lines(true);
    assert_eq!(b.text(), "# a\n# a\nb\n# c\n# c\nd\n");
    assert_eq!(b.cursor_count(), 2);
    assert!(b.move_lines(false));
    assert_eq!(b.text(), "# a\nb\n# a\n# c\nd\n# c\n");
    b.undo();
    b.undo();
    b.undo();
    assert_eq!(b.text(), "a\nb\nc\nd\n");
    assert_eq!(b.cursor_count(), 2);
    // Above: each cursor stays on the upper copy of its line.
    let mut b = buffer("a\nb\nc\n", 0, 0);
    b.others = vec![Selection::point(4)];
    b.duplicate_lines(false);
    assert_eq!(b.text(), "a\na\nb\nc\nc\n");
    let lines: Vec<usize> = b
        .all_selections()
        .iter()
        .map(|s| b.char_to_line(s.head))
        .collect();
    assert_eq!(lines, [0, 3]);
}

fn lines_text() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-c ]{0,4}", 1..8).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #[test]
    fn moving_up_then_down_is_identity(text in lines_text(), a in 0usize..40, h in 0usize..40) {
        let mut b = buffer(&text, a.min(text.len()), h.min(text.len()));
        let before = b.selection();
        // A selection ending at the start of the last line, moved past a
        // last line without a break, ends at that line's end instead.
        let last_start = b.line_to_char(b.len_lines() - 1);
        let excused = !before.is_empty() && before.end() == last_start && last_start < b.len_chars();
        let same_place = |b: &Buffer| excused || b.selection() == before;
        if b.move_lines(true) {
            prop_assert!(b.move_lines(false));
            prop_assert_eq!(b.text(), text.clone());
            prop_assert!(same_place(&b));
        }
        if b.move_lines(false) {
            prop_assert!(b.move_lines(true));
            prop_assert_eq!(b.text(), text.clone());
            prop_assert!(same_place(&b));
        }
    }

    #[test]
    fn duplicate_and_comment_then_undo_are_identity(text in lines_text(), a in 0usize..40, h in 0usize..40) {
        let mut b = buffer(&text, a.min(text.len()), h.min(text.len()));
        let before = b.selection();
        for below in [true, false] {
            b.duplicate_lines(below);
            prop_assert!(b.undo());
            prop_assert_eq!(b.text(), text.clone());
            prop_assert_eq!(b.selection(), before);
        }
        b.toggle_comment("//");
        b.toggle_comment("//");
        prop_assert_eq!(b.text(), text.clone());
        // Outdent also empties lines of only spaces, which indent skips.
        if !text.split('\n').any(|l| !l.is_empty() && l.trim().is_empty()) {
            b.indent_lines();
            b.outdent_lines();
            prop_assert_eq!(b.text(), text.clone());
        }
    }
}
