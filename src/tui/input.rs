//! Terminal input: the bytes the terminal sends, as key, mouse and paste
//! events.
//!
//! kollega reads its terminal itself rather than through crossterm's
//! reader, because that reader takes `CSI 1;<mod> R` for the answer to a
//! cursor-position query and drops it, and that is exactly what xterm sends
//! for Shift-F3 (and Ctrl-F3, Alt-F3…). kollega never queries the terminal
//! while it reads input, so here keys always win: `CSI 1;<mod> P/Q/R/S` are
//! F1–F4 with modifiers, and a report that is not a key is dropped.
//!
//! Two more differences: the control bytes 0x1c–0x1f are the keys that
//! send them on a US layout (`ctrl-\`, `ctrl-]`, `ctrl-^`, `ctrl-/`), not
//! `ctrl-4`…`ctrl-7`; and xterm's `modifyOtherKeys` form `CSI 27;mod;code ~`
//! is read as the key it names (Ctrl-Shift-Z from xterm and tmux).
//!
//! Everything else is read as crossterm reads it, to the same events:
//! UTF-8 text, control keys, `ESC`-prefixed Alt keys, CSI and SS3 keys with
//! modifiers, `CSI … ~` keys, `CSI … u` keys, SGR, X10 and rxvt mouse
//! reports, focus changes and bracketed paste. A lone `ESC` at the end of a
//! read is the Escape key. Bytes that make no sense are skipped, never
//! fatal.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};

const ESC: u8 = 0x1b;
const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

/// Turns the terminal's bytes into events; keeps an unfinished sequence
/// until the next read completes it.
#[derive(Debug, Default)]
pub(crate) struct InputParser {
    pending: Vec<u8>,
}

/// What the bytes at the start of the buffer are.
enum Step {
    /// An event (or nothing, for a report that is not one), and how many
    /// bytes it took.
    Done(Option<Event>, usize),
    /// The start of a sequence: wait for more bytes.
    Incomplete,
}

impl InputParser {
    /// Parses `bytes` just read. `more` says the read filled its buffer, so
    /// more bytes are waiting: a trailing lone `ESC` is then the start of a
    /// sequence rather than the Escape key.
    pub(crate) fn feed(&mut self, bytes: &[u8], more: bool) -> Vec<Event> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut start = 0;
        while start < self.pending.len() {
            let rest = &self.pending[start..];
            match parse(rest) {
                Step::Done(event, used) => {
                    events.extend(event);
                    start += used.max(1);
                }
                Step::Incomplete if rest == [ESC] && !more => {
                    events.push(key(KeyCode::Esc, KeyModifiers::NONE));
                    start += 1;
                }
                Step::Incomplete => break,
            }
        }
        self.pending.drain(..start);
        events
    }
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
    Event::Key(KeyEvent::new(code, modifiers))
}

fn parse(buf: &[u8]) -> Step {
    match buf[0] {
        ESC => parse_escape(buf),
        b'\r' => Step::Done(Some(key(KeyCode::Enter, KeyModifiers::NONE)), 1),
        // Raw mode: a line feed is Ctrl-J, as crossterm reads it.
        b'\n' => Step::Done(Some(key(KeyCode::Char('j'), KeyModifiers::CONTROL)), 1),
        b'\t' => Step::Done(Some(key(KeyCode::Tab, KeyModifiers::NONE)), 1),
        0x7f => Step::Done(Some(key(KeyCode::Backspace, KeyModifiers::NONE)), 1),
        0 => Step::Done(Some(key(KeyCode::Char(' '), KeyModifiers::CONTROL)), 1),
        c @ 0x01..=0x1a => Step::Done(
            Some(key(
                KeyCode::Char(char::from(c - 0x1 + b'a')),
                KeyModifiers::CONTROL,
            )),
            1,
        ),
        // What these keys print on a US layout: xterm, tmux and most
        // terminals send 0x1f for Ctrl-/ (and Ctrl-_), 0x1d for Ctrl-].
        c @ 0x1c..=0x1f => {
            let ch = match c {
                0x1c => '\\',
                0x1d => ']',
                0x1e => '^',
                _ => '/',
            };
            Step::Done(Some(key(KeyCode::Char(ch), KeyModifiers::CONTROL)), 1)
        }
        _ => parse_char(buf),
    }
}

/// One UTF-8 character; an uppercase letter carries Shift.
fn parse_char(buf: &[u8]) -> Step {
    let len = match buf[0] {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        // A continuation byte or worse where a character should start.
        _ => return Step::Done(None, 1),
    };
    if buf.len() < len {
        return if std::str::from_utf8(buf).is_err_and(|e| e.error_len().is_some()) {
            Step::Done(None, 1)
        } else {
            Step::Incomplete
        };
    }
    match std::str::from_utf8(&buf[..len])
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some(ch) => {
            let modifiers = if ch.is_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            Step::Done(Some(key(KeyCode::Char(ch), modifiers)), len)
        }
        None => Step::Done(None, 1),
    }
}

fn parse_escape(buf: &[u8]) -> Step {
    let Some(&next) = buf.get(1) else {
        return Step::Incomplete;
    };
    match next {
        b'[' => parse_csi(buf),
        b'O' => match buf.get(2) {
            None => Step::Incomplete,
            Some(&c) => Step::Done(final_key(c).map(|code| key(code, KeyModifiers::NONE)), 3),
        },
        // rxvt and terminals set to "send Esc for Alt" send Alt-Up as
        // `ESC ESC [ A`: the key of the sequence, with Alt.
        ESC if matches!(buf.get(2), Some(b'[' | b'O')) => match parse_escape(&buf[1..]) {
            Step::Done(Some(Event::Key(mut k)), used) => {
                k.modifiers |= KeyModifiers::ALT;
                Step::Done(Some(Event::Key(k)), used + 1)
            }
            Step::Done(other, used) => Step::Done(other, used + 1),
            Step::Incomplete => Step::Incomplete,
        },
        ESC => Step::Done(Some(key(KeyCode::Esc, KeyModifiers::NONE)), 2),
        _ => match parse(&buf[1..]) {
            Step::Done(Some(Event::Key(mut k)), used) => {
                k.modifiers |= KeyModifiers::ALT;
                Step::Done(Some(Event::Key(k)), used + 1)
            }
            Step::Done(other, used) => Step::Done(other, used + 1),
            Step::Incomplete => Step::Incomplete,
        },
    }
}

/// The key of a CSI or SS3 sequence's final byte, when it has one.
fn final_key(c: u8) -> Option<KeyCode> {
    Some(match c {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P' => KeyCode::F(1),
        b'Q' => KeyCode::F(2),
        b'R' => KeyCode::F(3),
        b'S' => KeyCode::F(4),
        _ => return None,
    })
}

fn parse_csi(buf: &[u8]) -> Step {
    if buf.starts_with(PASTE_START) {
        let body = &buf[PASTE_START.len()..];
        return match body.windows(PASTE_END.len()).position(|w| w == PASTE_END) {
            Some(end) => Step::Done(
                Some(Event::Paste(
                    String::from_utf8_lossy(&body[..end]).into_owned(),
                )),
                PASTE_START.len() + end + PASTE_END.len(),
            ),
            None => Step::Incomplete,
        };
    }
    match buf.get(2) {
        None => return Step::Incomplete,
        // X10 mouse: ESC [ M Cb Cx Cy, three raw bytes.
        Some(b'M') => {
            return match buf.get(3..6) {
                Some(&[cb, cx, cy]) => Step::Done(x10_mouse(cb, cx, cy), 6),
                _ => Step::Incomplete,
            };
        }
        // The Linux console's F1–F5: ESC [ [ A … E.
        Some(b'[') => {
            return match buf.get(3) {
                None => Step::Incomplete,
                Some(&c @ b'A'..=b'E') => {
                    Step::Done(Some(key(KeyCode::F(1 + c - b'A'), KeyModifiers::NONE)), 4)
                }
                Some(_) => Step::Done(None, 4),
            };
        }
        Some(_) => {}
    }
    // Parameter and intermediate bytes, then one final byte.
    let mut end = None;
    for (i, b) in buf.iter().enumerate().skip(2) {
        match b {
            0x40..=0x7e => {
                end = Some(i);
                break;
            }
            0x20..=0x3f => {}
            // Not a CSI sequence after all: skip its introducer.
            _ => return Step::Done(None, 2),
        }
    }
    let Some(end) = end else {
        return Step::Incomplete;
    };
    let params = &buf[2..end];
    let last = buf[end];
    let used = end + 1;
    let event = match (params.first(), last) {
        (Some(b'<'), b'M' | b'm') => sgr_mouse(&params[1..], last == b'm'),
        (Some(b'?' | b'>' | b'='), _) => None,
        (None, b'Z') => Some(key(KeyCode::BackTab, KeyModifiers::SHIFT)),
        (None, b'I') => Some(Event::FocusGained),
        (None, b'O') => Some(Event::FocusLost),
        (_, b'~') => tilde_key(params),
        (_, b'u') => csi_u_key(params),
        (_, b'M') => rxvt_mouse(params),
        (_, c) => modified_key(params, c),
    };
    Step::Done(event, used)
}

/// The numbers of a parameter string: `1;5:2` is `[[1], [5, 2]]`.
fn numbers(params: &[u8]) -> Option<Vec<Vec<u16>>> {
    std::str::from_utf8(params)
        .ok()?
        .split(';')
        .map(|p| {
            p.split(':')
                .map(|n| {
                    if n.is_empty() {
                        Some(0)
                    } else {
                        n.parse().ok()
                    }
                })
                .collect()
        })
        .collect()
}

/// The modifiers and kind of a `mask[:kind]` parameter (xterm's 1 + bits).
fn modifiers(param: Option<&Vec<u16>>) -> (KeyModifiers, KeyEventKind) {
    let Some(param) = param else {
        return (KeyModifiers::NONE, KeyEventKind::Press);
    };
    let mask = param.first().copied().unwrap_or(1).saturating_sub(1);
    let mut modifiers = KeyModifiers::NONE;
    for (bit, m) in [
        (1, KeyModifiers::SHIFT),
        (2, KeyModifiers::ALT),
        (4, KeyModifiers::CONTROL),
        (8, KeyModifiers::SUPER),
        (16, KeyModifiers::HYPER),
        (32, KeyModifiers::META),
    ] {
        if mask & bit != 0 {
            modifiers |= m;
        }
    }
    let kind = match param.get(1) {
        Some(2) => KeyEventKind::Repeat,
        Some(3) => KeyEventKind::Release,
        _ => KeyEventKind::Press,
    };
    (modifiers, kind)
}

fn key_with(code: KeyCode, (modifiers, kind): (KeyModifiers, KeyEventKind)) -> Event {
    Event::Key(KeyEvent {
        code,
        modifiers,
        kind,
        state: KeyEventState::NONE,
    })
}

/// `CSI 1;<mod> A…D/F/H/P/Q/R/S`: arrows, Home, End and F1–F4. With `R`
/// this is what a cursor-position report looks like; kollega asks for
/// none, so it is Shift-F3 or another modified F3. Any other report is
/// dropped.
fn modified_key(params: &[u8], last: u8) -> Option<Event> {
    let code = final_key(last)?;
    if params.is_empty() {
        return Some(key(code, KeyModifiers::NONE));
    }
    let numbers = numbers(params)?;
    match numbers.as_slice() {
        [first, m] if first.first() == Some(&1) => Some(key_with(code, modifiers(Some(m)))),
        _ => None,
    }
}

/// `CSI n[;mod] ~`: Insert, Delete, Home, End, Page Up/Down, F1–F20;
/// and xterm's `modifyOtherKeys` form `CSI 27;mod;codepoint ~`, how xterm
/// and tmux send Ctrl-Shift-Z and other chords with no code of their own.
fn tilde_key(params: &[u8]) -> Option<Event> {
    let numbers = numbers(params)?;
    let n = *numbers.first()?.first()?;
    if n == 27 {
        let codepoint = *numbers.get(2)?.first()?;
        return codepoint_key(codepoint, numbers.get(1));
    }
    let code = match n {
        1 | 7 => KeyCode::Home,
        2 => KeyCode::Insert,
        3 => KeyCode::Delete,
        4 | 8 => KeyCode::End,
        5 => KeyCode::PageUp,
        6 => KeyCode::PageDown,
        11..=15 => KeyCode::F((n - 10) as u8),
        17..=21 => KeyCode::F((n - 11) as u8),
        23..=26 => KeyCode::F((n - 12) as u8),
        28..=29 => KeyCode::F((n - 15) as u8),
        31..=34 => KeyCode::F((n - 17) as u8),
        _ => return None,
    };
    Some(key_with(code, modifiers(numbers.get(1))))
}

/// `CSI codepoint[;mod] u`: a key as the fixterms and kitty protocols send it.
fn csi_u_key(params: &[u8]) -> Option<Event> {
    let numbers = numbers(params)?;
    codepoint_key(*numbers.first()?.first()?, numbers.get(1))
}

/// The key of a Unicode `codepoint` with a `mask[:kind]` parameter, as
/// `CSI … u` and `CSI 27;… ~` carry them. Shift with a letter is its
/// capital, as crossterm reads it: Ctrl-Shift-Z is `ctrl-Z`.
fn codepoint_key(codepoint: u16, param: Option<&Vec<u16>>) -> Option<Event> {
    let codepoint = u32::from(codepoint);
    let code = match codepoint {
        9 => KeyCode::Tab,
        13 => KeyCode::Enter,
        27 => KeyCode::Esc,
        127 => KeyCode::Backspace,
        c => KeyCode::Char(char::from_u32(c)?),
    };
    let (mut mods, kind) = modifiers(param);
    let code = match code {
        KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_lowercase() => {
            KeyCode::Char(c.to_ascii_uppercase())
        }
        KeyCode::Char(c) if c.is_uppercase() => {
            mods |= KeyModifiers::SHIFT;
            KeyCode::Char(c)
        }
        other => other,
    };
    Some(key_with(code, (mods, kind)))
}

/// The button, motion and modifiers of a mouse report's button byte.
fn mouse_button(cb: u8) -> Option<(MouseEventKind, KeyModifiers)> {
    let button = (cb & 0b0000_0011) | ((cb & 0b1100_0000) >> 4);
    let dragging = cb & 0b0010_0000 != 0;
    let kind = match (button, dragging) {
        (0, false) => MouseEventKind::Down(MouseButton::Left),
        (1, false) => MouseEventKind::Down(MouseButton::Middle),
        (2, false) => MouseEventKind::Down(MouseButton::Right),
        (0, true) => MouseEventKind::Drag(MouseButton::Left),
        (1, true) => MouseEventKind::Drag(MouseButton::Middle),
        (2, true) => MouseEventKind::Drag(MouseButton::Right),
        (3, false) => MouseEventKind::Up(MouseButton::Left),
        (3..=5, true) => MouseEventKind::Moved,
        (4, false) => MouseEventKind::ScrollUp,
        (5, false) => MouseEventKind::ScrollDown,
        (6, false) => MouseEventKind::ScrollLeft,
        (7, false) => MouseEventKind::ScrollRight,
        _ => return None,
    };
    let mut modifiers = KeyModifiers::NONE;
    if cb & 0b0000_0100 != 0 {
        modifiers |= KeyModifiers::SHIFT;
    }
    if cb & 0b0000_1000 != 0 {
        modifiers |= KeyModifiers::ALT;
    }
    if cb & 0b0001_0000 != 0 {
        modifiers |= KeyModifiers::CONTROL;
    }
    Some((kind, modifiers))
}

fn mouse(kind: MouseEventKind, column: u16, row: u16, modifiers: KeyModifiers) -> Event {
    Event::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers,
    })
}

/// `CSI < Cb;Cx;Cy M` (press) or `m` (release), one-based cells.
fn sgr_mouse(params: &[u8], release: bool) -> Option<Event> {
    let numbers = numbers(params)?;
    let [cb, cx, cy] = numbers.as_slice() else {
        return None;
    };
    let (kind, modifiers) = mouse_button(u8::try_from(*cb.first()?).ok()?)?;
    let kind = match kind {
        MouseEventKind::Down(button) if release => MouseEventKind::Up(button),
        other => other,
    };
    Some(mouse(
        kind,
        cx.first()?.saturating_sub(1),
        cy.first()?.saturating_sub(1),
        modifiers,
    ))
}

/// `ESC [ M` and three bytes, each 32 more than its value.
fn x10_mouse(cb: u8, cx: u8, cy: u8) -> Option<Event> {
    let (kind, modifiers) = mouse_button(cb.checked_sub(32)?)?;
    Some(mouse(
        kind,
        u16::from(cx.saturating_sub(33)),
        u16::from(cy.saturating_sub(33)),
        modifiers,
    ))
}

/// `CSI Cb;Cx;Cy M`, the button 32 more than its value, one-based cells.
fn rxvt_mouse(params: &[u8]) -> Option<Event> {
    let numbers = numbers(params)?;
    let [cb, cx, cy] = numbers.as_slice() else {
        return None;
    };
    let cb = u8::try_from(*cb.first()?).ok()?.checked_sub(32)?;
    let (kind, modifiers) = mouse_button(cb)?;
    Some(mouse(
        kind,
        cx.first()?.saturating_sub(1),
        cy.first()?.saturating_sub(1),
        modifiers,
    ))
}

#[cfg(test)]
mod tests;
