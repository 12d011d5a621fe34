//! The grammar and the executor against the table of cases vim itself
//! produced (`tests/vim/generate.py` writes `tests/vim/cases.json`), and
//! random keys that must never break the buffer.

use proptest::prelude::*;
use serde::Deserialize;

use super::exec::{Marks, Vim, VimMode, Window};
use super::Key;
use crate::editor::buffer::{Buffer, Selection};

const TABLE: &str = include_str!("../../../tests/vim/cases.json");

/// Cases where kollega deliberately does what vim does not, and why.
const DIFFERS: &[(&str, &str)] = &[];

#[derive(Deserialize)]
struct Case {
    name: String,
    text: String,
    line: usize,
    col: usize,
    keys: String,
    expect: Expect,
}

#[derive(Deserialize)]
struct Expect {
    text: String,
    line: usize,
    col: usize,
}

/// Runs `keys` on `text` with the cursor at `line`/`col`, as the table's
/// vim did: a window of 23 lines whose top is the cursor's line.
fn run(text: &str, line: usize, col: usize, keys: &str) -> (String, usize, usize) {
    let mut buf = Buffer::from_text(text);
    let start = buf.line_to_char(line) + col;
    buf.set_selection(Selection::point(start));
    let mut vim = Vim::default();
    let mut marks = Marks::default();
    let window = Window { top: line, height: 23 };
    // `<Sync>` marks where vim's run paused between keys (an undo step
    // ends there); kollega ends its steps by itself.
    for key in Key::parse_notation(&keys.replace("<Sync>", "")) {
        vim.key(&mut buf, &mut marks, window, key, false);
    }
    if vim.mode() == VimMode::Insert {
        vim.leave_insert(&mut buf);
    }
    let cursor = buf.cursor();
    let line = buf.char_to_line(cursor);
    (buf.text(), line, cursor - buf.line_to_char(line))
}

#[test]
fn every_case_of_the_table_does_what_vim_does() {
    let cases: Vec<Case> = serde_json::from_str(TABLE).unwrap();
    assert!(cases.len() >= 500, "{} cases", cases.len());
    let mut failures = Vec::new();
    let mut passing_differences = Vec::new();
    for case in &cases {
        let got = run(&case.text, case.line, case.col, &case.keys);
        let want = (case.expect.text.clone(), case.expect.line, case.expect.col);
        let differs = DIFFERS.iter().any(|(name, _)| *name == case.name);
        if got != want && !differs {
            failures.push(format!(
                "{:?} keys {:?}\n    text {:?}\n    want {:?} {}:{}\n    got  {:?} {}:{}",
                case.name, case.keys, case.text, want.0, want.1, want.2, got.0, got.1, got.2
            ));
        } else if got == want && differs {
            passing_differences.push(case.name.clone());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from vim:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(
        passing_differences.is_empty(),
        "listed as differing but now matching vim: {passing_differences:?}"
    );
}
