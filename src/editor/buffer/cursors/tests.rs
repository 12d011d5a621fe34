use proptest::prelude::*;

use super::super::{Buffer, Selection};
use super::NextMatch;

fn buffer(text: &str, at: usize) -> Buffer {
    let mut buffer = Buffer::from_text(text);
    buffer.set_selection(Selection::point(at));
    buffer
}

fn ranges(b: &Buffer) -> Vec<std::ops::Range<usize>> {
    b.all_selections().into_iter().map(|s| s.range()).collect()
}

#[test]
fn ctrl_d_selects_the_word_then_adds_each_next_occurrence_wrapping() {
    let mut b = buffer("foo bar foo foobar foo", 9);
    assert_eq!(b.add_next_match(), NextMatch::SelectedWord);
    assert_eq!(b.selection().range(), 8..11);
    assert_eq!(b.cursor_count(), 1);
    assert_eq!(b.add_next_match(), NextMatch::Added);
    // Whole words only: not the foo of foobar.
    assert_eq!(ranges(&b), [8..11, 19..22]);
    assert_eq!(b.selection(), Selection::new(19, 22));
    assert_eq!(b.add_next_match(), NextMatch::Added);
    assert_eq!(ranges(&b), [0..3, 8..11, 19..22]);
    assert_eq!(b.add_next_match(), NextMatch::AllSelected(3));
    assert_eq!(buffer("  ", 1).add_next_match(), NextMatch::NoWord);
}

#[test]
fn a_selected_piece_of_text_matches_anywhere_even_touching() {
    let mut b = Buffer::from_text("abab.ab");
    b.set_selection(Selection::new(0, 2));
    b.add_next_match();
    b.add_next_match();
    assert_eq!(ranges(&b), [0..2, 2..4, 5..7]);
    b.edit_each(|b| b.insert("X"));
    assert_eq!(b.text(), "XX.X");
}

#[test]
fn typing_backspace_enter_and_paste_apply_at_every_cursor_in_one_undo_step() {
    let text = "  let a = 1;\n  let a2 = a;\n";
    let mut b = buffer(text, 6);
    b.add_next_match();
    b.add_next_match();
    assert_eq!(b.cursor_count(), 2);
    b.type_each("x");
    b.type_each("y");
    assert_eq!(b.text(), "  let xy = 1;\n  let a2 = xy;\n");
    b.edit_each(Buffer::delete_backward);
    assert_eq!(b.text(), "  let x = 1;\n  let a2 = x;\n");
    b.edit_each(Buffer::insert_newline);
    assert_eq!(b.text(), "  let x\n   = 1;\n  let a2 = x\n  ;\n");
    b.paste_each("z");
    assert_eq!(b.text(), "  let x\n  z = 1;\n  let a2 = x\n  z;\n");
    b.edit_each(Buffer::delete_forward);
    assert_eq!(b.text(), "  let x\n  z= 1;\n  let a2 = x\n  z\n");
    while b.undo() {}
    assert_eq!(b.text(), text);
    // Undo brought back both selections of the first edit.
    assert_eq!(ranges(&b), [6..7, 24..25]);
    // The word typed over both selections is one step.
    b.redo();
    assert_eq!(b.text(), "  let xy = 1;\n  let a2 = xy;\n");
    assert_eq!(b.cursor_count(), 2);
}

#[test]
fn a_paste_of_as_many_lines_as_cursors_gives_each_its_line() {
    let mut b = buffer("a\nb\nc\n", 1);
    b.others = vec![Selection::point(3), Selection::point(5)];
    b.paste_each("1\n2\n3\n");
    assert_eq!(b.text(), "a1\nb2\nc3\n");
    b.paste_each("x");
    assert_eq!(b.text(), "a1x\nb2x\nc3x\n");
}

#[test]
fn cursors_that_meet_merge_into_one() {
    let mut b = buffer("abc", 1);
    b.others = vec![Selection::point(2)];
    b.edit_each(Buffer::delete_backward);
    assert_eq!(b.text(), "c");
    assert_eq!(b.cursor_count(), 1);
    let mut b = buffer("abcdef", 0);
    b.set_selection(Selection::new(0, 3));
    b.others = vec![Selection::new(2, 5)];
    b.each_cursor(|b| b.move_right(true));
    assert_eq!(b.selection().range(), 0..6);
    assert_eq!(b.cursor_count(), 1);
}

#[test]
fn moves_move_every_cursor_and_esc_keeps_the_primary() {
    let mut b = buffer("ab\ncd\nef", 1);
    b.others = vec![Selection::point(4)];
    b.each_cursor(|b| b.move_down(false));
    assert_eq!(ranges(&b), [4..4, 7..7]);
    b.each_cursor(|b| b.move_line_end(true));
    assert_eq!(ranges(&b), [4..5, 7..8]);
    assert_eq!(b.selected_texts().as_deref(), Some("d\nf"));
    assert_eq!(b.cut_each().as_deref(), Some("d\nf"));
    assert_eq!(b.text(), "ab\nc\ne");
    assert!(b.single_cursor());
    assert_eq!(b.cursor_count(), 1);
    assert_eq!(b.cursor(), 4);
}

proptest! {
    #[test]
    fn cursors_never_overlap_and_typing_then_undo_is_identity(
        text in "[ab \n]{0,30}",
        points in prop::collection::vec(0usize..31, 1..6),
        typed in "[xy\n]{1,3}",
    ) {
        let mut b = Buffer::from_text(&text);
        let len = b.len_chars();
        let mut all: Vec<Selection> = points.iter().map(|p| Selection::point((*p).min(len))).collect();
        let primary = all.len() - 1;
        b.set_cursors(std::mem::take(&mut all), primary);
        for c in typed.chars() {
            if c == '\n' {
                b.edit_each(Buffer::insert_newline);
            } else {
                b.edit_each(|b| b.insert(&c.to_string()));
            }
            let all = b.all_selections();
            for pair in all.windows(2) {
                prop_assert!(pair[0].end() < pair[1].start() || (!pair[0].is_empty() && !pair[1].is_empty() && pair[0].end() == pair[1].start()));
            }
        }
        while b.undo() {}
        prop_assert_eq!(b.text(), text);
    }
}

#[test]
fn a_word_typed_at_several_cursors_is_one_undo_step() {
    let mut b = buffer("a\nb\n", 0);
    b.others = vec![Selection::point(2)];
    for c in ["n", "e", "w", " ", "x"] {
        b.type_each(c);
    }
    assert_eq!(b.text(), "new xa\nnew xb\n");
    b.undo();
    assert_eq!(b.text(), "new a\nnew b\n");
    b.undo();
    assert_eq!(b.text(), "a\nb\n");
    assert_eq!(ranges(&b), [0..0, 2..2]);
    // A move in between starts a new step.
    b.type_each("p");
    b.each_cursor(|b| b.move_left(false));
    b.type_each("q");
    b.undo();
    assert_eq!(b.text(), "pa\npb\n");
}
