use super::*;

fn events(bytes: &[u8]) -> Vec<Event> {
    InputParser::default().feed(bytes, false)
}

fn k(code: KeyCode, modifiers: KeyModifiers) -> Event {
    key(code, modifiers)
}

#[test]
fn modified_f3_is_a_key_not_a_cursor_report() {
    assert_eq!(
        events(b"\x1b[1;2R"),
        [k(KeyCode::F(3), KeyModifiers::SHIFT)]
    );
    assert_eq!(
        events(b"\x1b[1;5R"),
        [k(KeyCode::F(3), KeyModifiers::CONTROL)]
    );
    assert_eq!(
        events(b"\x1b[1;4R"),
        [k(KeyCode::F(3), KeyModifiers::SHIFT | KeyModifiers::ALT)]
    );
    assert_eq!(
        events(b"\x1b[1;2P"),
        [k(KeyCode::F(1), KeyModifiers::SHIFT)]
    );
    assert_eq!(events(b"\x1b[1;3Q"), [k(KeyCode::F(2), KeyModifiers::ALT)]);
    assert_eq!(
        events(b"\x1b[1;6S"),
        [k(
            KeyCode::F(4),
            KeyModifiers::SHIFT | KeyModifiers::CONTROL
        )]
    );
    // A report of any other position is no key: dropped, and what follows
    // still reads.
    assert_eq!(
        events(b"\x1b[12;40Rx"),
        [k(KeyCode::Char('x'), KeyModifiers::NONE)]
    );
}

#[test]
fn function_keys_in_every_form() {
    assert_eq!(events(b"\x1bOR"), [k(KeyCode::F(3), KeyModifiers::NONE)]);
    assert_eq!(events(b"\x1b[13~"), [k(KeyCode::F(3), KeyModifiers::NONE)]);
    assert_eq!(
        events(b"\x1b[13;2~"),
        [k(KeyCode::F(3), KeyModifiers::SHIFT)]
    );
    assert_eq!(events(b"\x1b[25~"), [k(KeyCode::F(13), KeyModifiers::NONE)]);
    assert_eq!(
        events(b"\x1b[24;5~"),
        [k(KeyCode::F(12), KeyModifiers::CONTROL)]
    );
    assert_eq!(events(b"\x1b[[C"), [k(KeyCode::F(3), KeyModifiers::NONE)]);
}

#[test]
fn text_control_and_alt_keys_read_as_crossterm_reads_them() {
    assert_eq!(
        events("aZé界".as_bytes()),
        [
            k(KeyCode::Char('a'), KeyModifiers::NONE),
            k(KeyCode::Char('Z'), KeyModifiers::SHIFT),
            k(KeyCode::Char('é'), KeyModifiers::NONE),
            k(KeyCode::Char('界'), KeyModifiers::NONE),
        ]
    );
    assert_eq!(
        events(b"\r\t\x7f\x03\x00\x1c\n"),
        [
            k(KeyCode::Enter, KeyModifiers::NONE),
            k(KeyCode::Tab, KeyModifiers::NONE),
            k(KeyCode::Backspace, KeyModifiers::NONE),
            k(KeyCode::Char('c'), KeyModifiers::CONTROL),
            k(KeyCode::Char(' '), KeyModifiers::CONTROL),
            k(KeyCode::Char('\\'), KeyModifiers::CONTROL),
            k(KeyCode::Char('j'), KeyModifiers::CONTROL),
        ]
    );
    assert_eq!(
        events(b"\x1bg\x1b\x7f\x1bP"),
        [
            k(KeyCode::Char('g'), KeyModifiers::ALT),
            k(KeyCode::Backspace, KeyModifiers::ALT),
            k(KeyCode::Char('P'), KeyModifiers::ALT | KeyModifiers::SHIFT),
        ]
    );
    assert_eq!(
        events(b"\x1b[A\x1b[1;5D\x1b[H\x1b[4~\x1b[3;2~\x1b[Z\x1b[6~"),
        [
            k(KeyCode::Up, KeyModifiers::NONE),
            k(KeyCode::Left, KeyModifiers::CONTROL),
            k(KeyCode::Home, KeyModifiers::NONE),
            k(KeyCode::End, KeyModifiers::NONE),
            k(KeyCode::Delete, KeyModifiers::SHIFT),
            k(KeyCode::BackTab, KeyModifiers::SHIFT),
            k(KeyCode::PageDown, KeyModifiers::NONE),
        ]
    );
    assert_eq!(
        events(b"\x1b[97;5u\x1b[13;2u"),
        [
            k(KeyCode::Char('a'), KeyModifiers::CONTROL),
            k(KeyCode::Enter, KeyModifiers::SHIFT),
        ]
    );
}

#[test]
fn a_lone_escape_is_the_key_unless_more_is_coming() {
    let mut parser = InputParser::default();
    assert_eq!(
        parser.feed(b"\x1b", false),
        [k(KeyCode::Esc, KeyModifiers::NONE)]
    );
    assert!(parser.feed(b"\x1b", true).is_empty());
    assert_eq!(
        parser.feed(b"[1;2R", false),
        [k(KeyCode::F(3), KeyModifiers::SHIFT)]
    );
    assert_eq!(events(b"\x1b\x1b"), [k(KeyCode::Esc, KeyModifiers::NONE)]);
}

#[test]
fn sequences_split_across_reads_are_joined() {
    let mut parser = InputParser::default();
    assert!(parser.feed(b"\x1b[1;", false).is_empty());
    assert_eq!(
        parser.feed(b"2R", false),
        [k(KeyCode::F(3), KeyModifiers::SHIFT)]
    );
    let e = "é".as_bytes();
    assert!(parser.feed(&e[..1], false).is_empty());
    assert_eq!(
        parser.feed(&e[1..], false),
        [k(KeyCode::Char('é'), KeyModifiers::NONE)]
    );
    assert!(parser.feed(b"\x1b[200~one\x1b[1;2R", false).is_empty());
    assert_eq!(
        parser.feed(b"two\x1b[201~q", false),
        [
            Event::Paste("one\x1b[1;2Rtwo".into()),
            k(KeyCode::Char('q'), KeyModifiers::NONE),
        ]
    );
}

#[test]
fn mouse_reports_in_sgr_x10_and_rxvt_forms() {
    let m = |kind, column, row, modifiers| {
        Event::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers,
        })
    };
    assert_eq!(
        events(b"\x1b[<0;10;5M\x1b[<0;10;5m\x1b[<64;3;4M\x1b[<32;11;5M\x1b[<20;1;1M"),
        [
            m(
                MouseEventKind::Down(MouseButton::Left),
                9,
                4,
                KeyModifiers::NONE
            ),
            m(
                MouseEventKind::Up(MouseButton::Left),
                9,
                4,
                KeyModifiers::NONE
            ),
            m(MouseEventKind::ScrollUp, 2, 3, KeyModifiers::NONE),
            m(
                MouseEventKind::Drag(MouseButton::Left),
                10,
                4,
                KeyModifiers::NONE
            ),
            m(
                MouseEventKind::Down(MouseButton::Left),
                0,
                0,
                KeyModifiers::SHIFT | KeyModifiers::CONTROL
            ),
        ]
    );
    assert_eq!(
        events(b"\x1b[M\x20\x2a\x25\x1b[32;10;5M"),
        [
            m(
                MouseEventKind::Down(MouseButton::Left),
                9,
                4,
                KeyModifiers::NONE
            ),
            m(
                MouseEventKind::Down(MouseButton::Left),
                9,
                4,
                KeyModifiers::NONE
            ),
        ]
    );
    assert_eq!(
        events(b"\x1b[I\x1b[O"),
        [Event::FocusGained, Event::FocusLost]
    );
}

#[test]
fn nonsense_is_skipped_never_fatal() {
    assert_eq!(
        events(b"\xff\x80\x1b[?62;4c\x1b[>1;2m\x1b[99~\x1b[1;2;3R\x1b[\x01x"),
        [
            k(KeyCode::Char('a'), KeyModifiers::CONTROL),
            k(KeyCode::Char('x'), KeyModifiers::NONE),
        ]
    );
}

#[test]
fn editing_chords_of_xterm_and_tmux_read_as_their_keys() {
    let shift_ctrl = KeyModifiers::SHIFT | KeyModifiers::CONTROL;
    assert_eq!(
        events(b"\x1b[1;6D\x1b[1;6C\x1b[1;2H\x1b[1;2F\x1b[Z\x1b[1;3A\x1b[1;3B\x1b[1;4B"),
        [
            k(KeyCode::Left, shift_ctrl),
            k(KeyCode::Right, shift_ctrl),
            k(KeyCode::Home, KeyModifiers::SHIFT),
            k(KeyCode::End, KeyModifiers::SHIFT),
            k(KeyCode::BackTab, KeyModifiers::SHIFT),
            k(KeyCode::Up, KeyModifiers::ALT),
            k(KeyCode::Down, KeyModifiers::ALT),
            k(KeyCode::Down, KeyModifiers::ALT | KeyModifiers::SHIFT),
        ]
    );
    // Alt as an Esc before the sequence (rxvt, "Esc for Alt").
    assert_eq!(
        events(b"\x1b\x1b[A\x1b\x1bOB"),
        [
            k(KeyCode::Up, KeyModifiers::ALT),
            k(KeyCode::Down, KeyModifiers::ALT),
        ]
    );
    // Ctrl-Shift-Z in the kitty and in xterm's modifyOtherKeys forms.
    assert_eq!(
        events(b"\x1b[90;6u\x1b[27;6;90~\x1b[122;6u"),
        [
            k(KeyCode::Char('Z'), shift_ctrl),
            k(KeyCode::Char('Z'), shift_ctrl),
            k(KeyCode::Char('Z'), shift_ctrl),
        ]
    );
    // Ctrl-/ arrives as 0x1f, or as a codepoint with Ctrl.
    assert_eq!(
        events(b"\x1f\x1d\x1b[47;5u\x1b[27;5;47~"),
        [
            k(KeyCode::Char('/'), KeyModifiers::CONTROL),
            k(KeyCode::Char(']'), KeyModifiers::CONTROL),
            k(KeyCode::Char('/'), KeyModifiers::CONTROL),
            k(KeyCode::Char('/'), KeyModifiers::CONTROL),
        ]
    );
}
