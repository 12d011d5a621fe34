//! The grammar and the executor against the table of cases vim itself
//! produced (`tests/vim/generate.py` writes `tests/vim/cases.json`), and
//! random keys that must never break the buffer.

use proptest::prelude::*;
use serde::Deserialize;

use super::Key;
use super::exec::{Vim, VimMode, Window};
use super::registers::Marks;
use crate::editor::buffer::{Buffer, Selection};

const TABLE: &str = include_str!("../../../tests/vim/cases.json");

/// An empty file: vim's buffer holds one empty line and writes a line break
/// after it once changed; kollega's text has no line break to keep and
/// never adds one the user did not type.
const EMPTY_FILE: &str = "kollega adds no final line break to an empty file";
/// A file without a final line break whose last line is emptied: kollega's
/// text then ends in a line break, and has no empty line after it for the
/// cursor, which stays on the line above; vim keeps an empty last line.
const NO_EOL: &str = "no empty last line after a final line break";
/// `iw` on an empty line: vim's word object reaches over the line break
/// (onto the line before when the empty line is the last); kollega's
/// selects nothing there, so nothing is changed, yanked or put.
const EMPTY_WORD: &str = "iw on an empty line selects nothing";

/// `r<CR>` before blanks: vim leaves the cursor on the moved text's first
/// character there, one column right of where it leaves it otherwise.
const SPLIT_CURSOR: &str = "r<CR> before blanks leaves the cursor one column left";

/// Cases where kollega deliberately does what vim does not, and why.
const DIFFERS: &[(&str, &str)] = &[
    ("empty@0:0 yyp", EMPTY_FILE),
    ("empty@0:0 cw!<Esc>", EMPTY_FILE),
    ("empty@0:0 cc!<Esc>", EMPTY_FILE),
    ("empty@0:0 o!<Esc>", EMPTY_FILE),
    ("empty@0:0 O!<Esc>", EMPTY_FILE),
    ("empty@0:0 A!<Esc>", EMPTY_FILE),
    ("empty@0:0 99J", EMPTY_FILE),
    ("empty@0:0 c}!<Esc>", EMPTY_FILE),
    ("empty@0:0 wi!<Esc>", EMPTY_FILE),
    ("noeol@1:1 dw.", NO_EOL),
    ("noeol@1:1 dw..", NO_EOL),
    ("noeol@1:1 3dw.", NO_EOL),
    ("noeol@1:1 dw2.", NO_EOL),
    ("noeol@1:1 x..", NO_EOL),
    ("noeol@1:1 dwdw\"2P", NO_EOL),
    ("code@3:7 r<CR>", SPLIT_CURSOR),
    ("blank@1:0 ciwnew<Esc>w.", EMPTY_WORD),
    ("blank@1:0 ddyiw\"1p", EMPTY_WORD),
    ("blank@1:0 \"ayiww\"Ayiw\"ap", EMPTY_WORD),
];

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
    let window = Window {
        top: line,
        height: 23,
    };
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

fn key_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(
            "hjklwWbBeE0^$GgfFtT;,%{}HMLnN*#dcy<>uU~xXDCsSYpPJriaIAoOvV.mz'`\"12390 \tqé日(){}[]<>\n"
                .chars()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
        ),
        1 => proptest::sample::select(vec![
            "<Esc>".to_string(),
            "<C-v>".to_string(),
            "<C-r>".to_string(),
            "<CR>".to_string(),
            "<BS>".to_string(),
        ]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random keys on random text never panic, and the cursor stays on the
    /// text: on a character boundary, and off the line's end in normal mode.
    #[test]
    fn random_keys_never_break_the_buffer(
        text in "[a-c é日\\n(){}\"<>/]{0,40}",
        start in 0usize..50,
        keys in proptest::collection::vec(key_strategy(), 0..40),
    ) {
        let mut buf = Buffer::from_text(&text);
        buf.set_selection(Selection::point(start.min(buf.len_chars())));
        let mut vim = Vim::default();
        let mut marks = Marks::default();
        let window = Window { top: 0, height: 10 };
        // Esc first: a cursor placed past a line's end comes back onto it.
        for key in std::iter::once(Key::Esc).chain(Key::parse_notation(&keys.concat())) {
            vim.key(&mut buf, &mut marks, window, key, false);
            let cursor = buf.cursor();
            prop_assert!(cursor <= buf.len_chars());
            prop_assert_eq!(buf.prev_grapheme(buf.next_grapheme(cursor)), cursor.min(buf.prev_grapheme(buf.next_grapheme(cursor))));
            if vim.mode() == VimMode::Normal {
                let line = buf.char_to_line(cursor);
                let end = buf.line_end_char(line);
                prop_assert!(cursor < end || cursor == buf.line_to_char(line) || cursor == end && end == buf.line_to_char(line),
                    "cursor {} on the end of line {} of {:?}", cursor, line, buf.text());
            }
        }
    }

    /// A read-only buffer refuses every change whatever the keys.
    #[test]
    fn read_only_keys_change_nothing(
        keys in proptest::collection::vec(key_strategy(), 0..30),
    ) {
        let text = "alpha beta\n  gamma (delta)\n";
        let mut buf = Buffer::from_text(text);
        let mut vim = Vim::default();
        let mut marks = Marks::default();
        for key in Key::parse_notation(&keys.concat()) {
            vim.key(&mut buf, &mut marks, Window { top: 0, height: 10 }, key, true);
        }
        prop_assert_eq!(buf.text(), text);
    }
}

/// Types `keys` into `vim` on `buf`; the effects they had.
fn type_keys(vim: &mut Vim, buf: &mut Buffer, keys: &str) -> Vec<super::Effect> {
    let mut marks = Marks::default();
    let mut effects = Vec::new();
    for key in Key::parse_notation(keys) {
        effects.extend(vim.key(buf, &mut marks, Window { top: 0, height: 5 }, key, false));
    }
    effects
}

#[test]
fn a_change_and_the_typing_after_it_undo_as_one_step() {
    for keys in [
        "ciwnew word<Esc>u",
        "Aone<CR>two<Esc>u",
        "ofoo<CR>bar<Esc>u",
        "3ix<Esc>u",
        "cc<Esc>u",
    ] {
        let (text, _, _) = run("alpha beta\ngamma\n", 0, 6, keys);
        assert_eq!(text, "alpha beta\ngamma\n", "{keys}");
    }
    let (text, _, _) = run("alpha beta\ngamma\n", 0, 6, "ciwnew<Esc>u<C-r>");
    assert_eq!(text, "alpha new\ngamma\n");
}

#[test]
fn esc_cancels_a_half_typed_command_and_unknown_keys_do_nothing() {
    let (text, line, col) = run("alpha beta\n", 0, 6, "3d<Esc>");
    assert_eq!((text.as_str(), line, col), ("alpha beta\n", 0, 6));
    for keys in ["dq", "gZ", "zq", "\"!", "d3<C-v>", "c2<CR>", "g<Esc>"] {
        let mut buf = Buffer::from_text("alpha beta\n");
        let mut vim = Vim::default();
        type_keys(&mut vim, &mut buf, keys);
        assert_eq!(buf.text(), "alpha beta\n", "{keys}");
        assert_eq!(buf.cursor(), 0, "{keys}");
        assert!(!vim.is_pending(), "{keys}");
        assert_eq!(vim.mode(), VimMode::Normal, "{keys}");
    }
}

#[test]
fn the_clipboard_register_goes_out_as_an_effect() {
    let mut buf = Buffer::from_text("alpha beta\n");
    let mut vim = Vim::default();
    let out = type_keys(&mut vim, &mut buf, "\"+yiw");
    assert!(
        matches!(out.as_slice(), [super::Effect::Clipboard(text)] if text == "alpha"),
        "{out:?}"
    );
    type_keys(&mut vim, &mut buf, "$\"+p");
    assert_eq!(buf.text(), "alpha betaalpha\n");
}

#[test]
fn star_searches_the_word_and_n_goes_on_with_nothing_selected() {
    let mut buf = Buffer::from_text("foo bar foo baz foo\n");
    let mut vim = Vim::default();
    let effects = type_keys(&mut vim, &mut buf, "*");
    assert_eq!(buf.cursor(), 8);
    assert!(buf.selection().is_empty());
    assert!(matches!(
        effects.as_slice(),
        [super::Effect::Search(re), super::Effect::Searched { forward: true }] if re.is_match("foo")
    ));
    type_keys(&mut vim, &mut buf, "nx");
    // `x` after a search deletes one character, not the match.
    assert_eq!(buf.text(), "foo bar foo baz oo\n");
}

#[test]
fn n_goes_the_way_the_search_went_and_says_so() {
    let mut buf = Buffer::from_text("foo bar foo baz foo\n");
    let mut vim = Vim::default();
    buf.move_to(8, false);
    // `#` searches up: `n` goes on up, `N` down.
    let effects = type_keys(&mut vim, &mut buf, "#");
    assert_eq!(buf.cursor(), 0);
    assert!(matches!(
        effects.last(),
        Some(super::Effect::Searched { forward: false })
    ));
    let effects = type_keys(&mut vim, &mut buf, "n");
    assert_eq!(buf.cursor(), 16);
    assert!(matches!(
        effects.as_slice(),
        [super::Effect::Searched { forward: false }]
    ));
    let effects = type_keys(&mut vim, &mut buf, "N");
    assert_eq!(buf.cursor(), 0);
    assert!(matches!(
        effects.as_slice(),
        [super::Effect::Searched { forward: true }]
    ));
    // As after `?foo`.
    vim.set_search(regex::Regex::new("ba.").unwrap(), true);
    type_keys(&mut vim, &mut buf, "n");
    assert_eq!(buf.cursor(), 12);
    // An operator with a search moves nothing to report.
    let effects = type_keys(&mut vim, &mut buf, "dn");
    assert!(effects.is_empty(), "{effects:?}");
}

#[test]
fn marks_follow_their_lines_when_lines_above_come_and_go() {
    let (text, line, _) = run("a\nb\nc\nd\n", 2, 0, "maggdd'ax");
    assert_eq!((text.as_str(), line), ("b\n\nd\n", 1));
    let (text, line, _) = run("a\nb\nc\nd\n", 2, 0, "maggyyP'ax");
    assert_eq!((text.as_str(), line), ("a\na\nb\n\nd\n", 3));
    // A mark below removed lines goes up with its line; one in them goes.
    let (text, line, _) = run("a\nb\nc\nd\ne\n", 4, 0, "maggjd2jgg'ax");
    assert_eq!((text.as_str(), line), ("a\n\n", 1));
    let (text, line, _) = run("a\nb\nc\nd\n", 2, 0, "maggjd2jgg'ax");
    // `d2j` took c with the mark: `'a` does nothing and `x` stays on line 0.
    assert_eq!((text.as_str(), line), ("\n", 0));
}

#[test]
fn huge_counts_stay_within_bounds() {
    let (text, _, _) = run("abc\n", 0, 0, "yy999999p");
    assert_eq!(text, "abc\n".repeat(999_999 + 1));
    let (text, _, _) = run(&"x".repeat(1 << 20), 0, 0, "yy999999p");
    assert_eq!(text.len(), 1 << 20, "a put past the limit does nothing");
    let (text, _, _) = run("\n", 0, 0, "999999999ixy<Esc>");
    assert!(text.len() <= (16 << 20) + 1, "{}", text.len());
}
