//! The escape sequences of a job's output, as ratatui styles.
//!
//! Commands colour what they print with SGR sequences (`ESC [ … m`); the
//! log pane draws those colours and drops every other escape sequence
//! (cursor moves, erases, OSC titles and links, DCS strings) and every
//! control character, so a log line can never move the terminal's cursor,
//! retitle the window or reach the clipboard. Tabs become spaces up to the
//! next multiple of 8 columns.
//!
//! [`parse`] and [`strip`] walk a line with the same scanner, so the text
//! drawn is always exactly [`strip`]'s: search and copy work on what the
//! user sees. Colours follow the terminal's depth like the theme's: true
//! colour, the nearest of 256, the nearest of 16, or none for `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

use super::theme::{ColorDepth, nearest_16, nearest_256};

const TAB: usize = 8;
const ESC: char = '\u{1b}';
/// The 8-bit forms of CSI, OSC and the string introducers (DCS, SOS, PM,
/// APC) that a UTF-8 line may carry as C1 characters.
const C1_CSI: char = '\u{9b}';
const C1_OSC: char = '\u{9d}';
const C1_STRINGS: [char; 4] = ['\u{90}', '\u{98}', '\u{9e}', '\u{9f}'];

/// A line of output as styled spans; the spans' text is `strip(line)`.
pub(crate) fn parse(line: &str, depth: ColorDepth) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut pen = Pen::default();
    let mut text = String::new();
    let mut style = pen.style(depth);
    scan(line, |piece| match piece {
        Piece::Text(t) => text.push_str(t),
        Piece::Spaces(n) => text.extend(std::iter::repeat_n(' ', n)),
        Piece::Sgr(params) => {
            pen.apply(params);
            let next = pen.style(depth);
            if next != style {
                if !text.is_empty() {
                    spans.push(Span::styled(std::mem::take(&mut text), style));
                }
                style = next;
            }
        }
    });
    if !text.is_empty() {
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

/// The text of a line as drawn: no escape sequences, no control
/// characters, tabs expanded.
pub(crate) fn strip(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    scan(line, |piece| match piece {
        Piece::Text(t) => out.push_str(t),
        Piece::Spaces(n) => out.extend(std::iter::repeat_n(' ', n)),
        Piece::Sgr(_) => {}
    });
    out
}

/// Restyles the byte ranges `ranges` (of the line's text, as `strip` gives
/// it; sorted, not overlapping) with `style` patched over the spans'.
pub(crate) fn highlight(
    line: Line<'static>,
    ranges: &[(usize, usize)],
    style: Style,
) -> Line<'static> {
    if ranges.is_empty() {
        return line;
    }
    let line_style = line.style;
    let mut out: Vec<Span<'static>> = Vec::new();
    let mut at = 0;
    for span in line.spans {
        let text = span.content.as_ref();
        let end = at + text.len();
        // The span's pieces: (from, to, marked), in order.
        let mut pieces: Vec<(usize, usize, bool)> = Vec::new();
        let mut pos = at;
        for &(start, stop) in ranges {
            let (start, stop) = (start.max(pos), stop.min(end));
            if start >= stop {
                continue;
            }
            if start > pos {
                pieces.push((pos, start, false));
            }
            pieces.push((start, stop, true));
            pos = stop;
        }
        if pieces.is_empty() {
            out.push(span);
            at = end;
            continue;
        }
        if pos < end {
            pieces.push((pos, end, false));
        }
        for (from, to, marked) in pieces {
            let piece = text.get(from - at..to - at).unwrap_or_default().to_string();
            let piece_style = if marked {
                span.style.patch(style)
            } else {
                span.style
            };
            out.push(Span::styled(piece, piece_style));
        }
        at = end;
    }
    Line::from(out).style(line_style)
}

/// What the scanner found next.
enum Piece<'a> {
    Text(&'a str),
    /// A tab, as the spaces up to the next tab stop.
    Spaces(usize),
    /// The parameters of an SGR sequence (between `ESC [` and `m`).
    Sgr(&'a str),
}

/// Walks `line`, handing out text, tab spaces and SGR parameters; drops
/// every other sequence and control character.
fn scan<'a>(line: &'a str, mut out: impl FnMut(Piece<'a>)) {
    let mut column = 0;
    let mut rest = line;
    while !rest.is_empty() {
        // Plain text up to the next character that needs a decision.
        let plain = rest
            .char_indices()
            .find(|(_, c)| c.is_control())
            .map_or(rest.len(), |(i, _)| i);
        if plain > 0 {
            let text = &rest[..plain];
            column += text.chars().map(|c| c.width().unwrap_or(0)).sum::<usize>();
            out(Piece::Text(text));
            rest = &rest[plain..];
            continue;
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        let after = chars.as_str();
        rest = match c {
            '\t' => {
                let n = TAB - column % TAB;
                column += n;
                out(Piece::Spaces(n));
                after
            }
            ESC => escape(after, &mut out),
            C1_CSI => csi(after, &mut out),
            C1_OSC => string_end(after, true),
            c if C1_STRINGS.contains(&c) => string_end(after, false),
            // Any other control character (CR, BS, BEL, DEL, C1) is dropped.
            _ => after,
        };
    }
}

/// After an ESC: the sequence it starts is consumed; returns what follows.
fn escape<'a>(rest: &'a str, out: &mut impl FnMut(Piece<'a>)) -> &'a str {
    let mut chars = rest.chars();
    match chars.next() {
        None => rest,
        Some('[') => csi(chars.as_str(), out),
        Some(']') => string_end(chars.as_str(), true),
        Some('P' | 'X' | '^' | '_') => string_end(chars.as_str(), false),
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            // nF: intermediates, then one final character (ESC ( B …).
            let tail = chars.as_str();
            let end = match tail
                .char_indices()
                .find(|(_, c)| !('\u{20}'..='\u{2f}').contains(c))
            {
                // A control character is not a final: the scanner drops it.
                Some((i, c)) if c.is_control() => i,
                Some((i, c)) => i + c.len_utf8(),
                None => tail.len(),
            };
            &tail[end..]
        }
        // Two-character sequences (ESC 7, ESC =, ESC c …). A control
        // character after ESC is left for the scanner to drop.
        Some(c) if !c.is_control() => chars.as_str(),
        Some(_) => rest,
    }
}

/// A control sequence after its introducer: SGR is handed out, anything
/// else dropped. An unfinished sequence swallows the rest of the line.
fn csi<'a>(rest: &'a str, out: &mut impl FnMut(Piece<'a>)) -> &'a str {
    let Some((end, last)) = rest
        .char_indices()
        .find(|(_, c)| !('\u{20}'..='\u{3f}').contains(c))
    else {
        return "";
    };
    let body = &rest[..end];
    let after = &rest[end + last.len_utf8()..];
    if !('\u{40}'..='\u{7e}').contains(&last) {
        // Not a final byte: the sequence is broken; drop up to here and let
        // the scanner look at the odd character.
        return &rest[end..];
    }
    if last == 'm'
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b';' || b == b':')
    {
        out(Piece::Sgr(body));
    }
    after
}

/// Skips an OSC or DCS-like string up to its terminator: ST (`ESC \` or
/// the C1 ST), or BEL for OSC. An unterminated string ends the line.
fn string_end(rest: &str, bel_ends: bool) -> &str {
    let mut iter = rest.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        match c {
            '\u{7}' if bel_ends => return &rest[i + 1..],
            '\u{9c}' => return &rest[i + c.len_utf8()..],
            ESC => {
                if let Some(&(j, '\\')) = iter.peek() {
                    return &rest[j + 1..];
                }
            }
            _ => {}
        }
    }
    ""
}

/// The graphic rendition so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Pen {
    fg: Option<Color>,
    bg: Option<Color>,
    modifiers: Modifier,
}

const BASIC: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

impl Pen {
    fn style(&self, depth: ColorDepth) -> Style {
        let mut style = Style::default().add_modifier(self.modifiers);
        style.fg = self.fg.and_then(|c| degrade(c, depth));
        style.bg = self.bg.and_then(|c| degrade(c, depth));
        style
    }

    /// Applies one SGR sequence's parameters (`1;31`, `38;5;208`,
    /// `38:2::255:0:0`).
    fn apply(&mut self, params: &str) {
        let mut groups = params.split(';').peekable();
        while let Some(group) = groups.next() {
            let mut sub = group.split(':');
            let code: u16 = sub.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let colon: Vec<u16> = sub.map(|n| n.parse().unwrap_or(0)).collect();
            match code {
                0 => *self = Pen::default(),
                1 => self.modifiers.insert(Modifier::BOLD),
                2 => self.modifiers.insert(Modifier::DIM),
                3 => self.modifiers.insert(Modifier::ITALIC),
                4 => {
                    // 4:0 turns the underline off; 4:1…4:5 are its kinds.
                    if colon.first() == Some(&0) {
                        self.modifiers.remove(Modifier::UNDERLINED);
                    } else {
                        self.modifiers.insert(Modifier::UNDERLINED);
                    }
                }
                5 => self.modifiers.insert(Modifier::SLOW_BLINK),
                6 => self.modifiers.insert(Modifier::RAPID_BLINK),
                7 => self.modifiers.insert(Modifier::REVERSED),
                8 => self.modifiers.insert(Modifier::HIDDEN),
                9 => self.modifiers.insert(Modifier::CROSSED_OUT),
                21 => self.modifiers.insert(Modifier::UNDERLINED),
                22 => self.modifiers.remove(Modifier::BOLD | Modifier::DIM),
                23 => self.modifiers.remove(Modifier::ITALIC),
                24 => self.modifiers.remove(Modifier::UNDERLINED),
                25 => self
                    .modifiers
                    .remove(Modifier::SLOW_BLINK | Modifier::RAPID_BLINK),
                27 => self.modifiers.remove(Modifier::REVERSED),
                28 => self.modifiers.remove(Modifier::HIDDEN),
                29 => self.modifiers.remove(Modifier::CROSSED_OUT),
                30..=37 => self.fg = Some(BASIC[usize::from(code - 30)]),
                39 => self.fg = None,
                40..=47 => self.bg = Some(BASIC[usize::from(code - 40)]),
                49 => self.bg = None,
                90..=97 => self.fg = Some(BASIC[usize::from(code - 90 + 8)]),
                100..=107 => self.bg = Some(BASIC[usize::from(code - 100 + 8)]),
                38 | 48 => {
                    let color = if colon.is_empty() {
                        extended(&mut groups)
                    } else {
                        extended_colon(&colon)
                    };
                    if let Some(color) = color {
                        if code == 38 {
                            self.fg = Some(color);
                        } else {
                            self.bg = Some(color);
                        }
                    }
                }
                // Fonts, frames, overlines, underline colours: not drawn.
                _ => {}
            }
        }
    }
}

/// The next parameter as a colour channel; an empty one is 0, a missing
/// one ends the colour.
fn channel<'a>(groups: &mut impl Iterator<Item = &'a str>) -> Option<u8> {
    groups
        .next()
        .map(|n| n.parse::<u16>().map_or(0, |n| n.min(255) as u8))
}

/// `5;n` or `2;r;g;b` after a 38 or 48 written with semicolons.
fn extended<'a>(groups: &mut impl Iterator<Item = &'a str>) -> Option<Color> {
    match groups.next()?.parse::<u16>().ok()? {
        5 => Some(indexed(channel(groups)?)),
        2 => {
            let (r, g, b) = (channel(groups)?, channel(groups)?, channel(groups)?);
            Some(Color::Rgb(r, g, b))
        }
        _ => None,
    }
}

/// `38:5:n`, `38:2:r:g:b` or `38:2:space:r:g:b` (ITU T.416).
fn extended_colon(sub: &[u16]) -> Option<Color> {
    let byte = |n: &u16| (*n).min(255) as u8;
    match sub {
        [5, n, ..] => Some(indexed(byte(n))),
        [2, _, r, g, b, ..] | [2, r, g, b] => Some(Color::Rgb(byte(r), byte(g), byte(b))),
        _ => None,
    }
}

fn indexed(n: u8) -> Color {
    BASIC
        .get(usize::from(n))
        .copied()
        .unwrap_or(Color::Indexed(n))
}

/// The RGB value of an xterm-256 index past the 16 basic colours.
fn rgb_of_index(n: u8) -> (u8, u8, u8) {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    if n >= 232 {
        let v = 8 + 10 * (n - 232);
        return (v, v, v);
    }
    let i = usize::from(n.saturating_sub(16));
    (LEVELS[i / 36 % 6], LEVELS[i / 6 % 6], LEVELS[i % 6])
}

/// A colour as this terminal can show it.
fn degrade(color: Color, depth: ColorDepth) -> Option<Color> {
    match (depth, color) {
        (ColorDepth::None, _) => None,
        (ColorDepth::TrueColor, c) => Some(c),
        (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(nearest_256(r, g, b))),
        (ColorDepth::Ansi256, c) => Some(c),
        (ColorDepth::Ansi16, Color::Rgb(r, g, b)) => Some(nearest_16(r, g, b)),
        (ColorDepth::Ansi16, Color::Indexed(n)) => {
            let (r, g, b) = rgb_of_index(n);
            Some(nearest_16(r, g, b))
        }
        (ColorDepth::Ansi16, c) => Some(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn styled(line: &str) -> Vec<(String, Style)> {
        parse(line, ColorDepth::TrueColor)
            .spans
            .into_iter()
            .map(|s| (s.content.into_owned(), s.style))
            .collect()
    }

    #[test]
    fn basic_colours_and_reset() {
        assert_eq!(
            styled("\x1b[31merror\x1b[0m: \x1b[1;32mok\x1b[m"),
            vec![
                ("error".into(), Style::default().fg(Color::Red)),
                (": ".into(), Style::default()),
                (
                    "ok".into(),
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD)
                ),
            ]
        );
        assert_eq!(
            styled("\x1b[93;104mhi"),
            vec![(
                "hi".into(),
                Style::default().fg(Color::LightYellow).bg(Color::LightBlue)
            )]
        );
    }

    #[test]
    fn modifiers_turn_on_and_off() {
        let all = Modifier::BOLD
            | Modifier::DIM
            | Modifier::ITALIC
            | Modifier::UNDERLINED
            | Modifier::REVERSED
            | Modifier::CROSSED_OUT;
        assert_eq!(
            styled("\x1b[1;2;3;4;7;9mx\x1b[22;23;24;27;29my"),
            vec![
                ("x".into(), Style::default().add_modifier(all)),
                ("y".into(), Style::default()),
            ]
        );
        assert_eq!(
            styled("\x1b[4mu\x1b[4:0mv"),
            vec![
                (
                    "u".into(),
                    Style::default().add_modifier(Modifier::UNDERLINED)
                ),
                ("v".into(), Style::default()),
            ]
        );
        assert_eq!(
            styled("\x1b[31;42ma\x1b[39mb\x1b[49mc"),
            vec![
                ("a".into(), Style::default().fg(Color::Red).bg(Color::Green)),
                ("b".into(), Style::default().bg(Color::Green)),
                ("c".into(), Style::default()),
            ]
        );
    }

    #[test]
    fn extended_colours_with_semicolons_and_colons() {
        assert_eq!(
            styled("\x1b[38;5;208ma\x1b[48;2;1;2;3mb"),
            vec![
                ("a".into(), Style::default().fg(Color::Indexed(208))),
                (
                    "b".into(),
                    Style::default()
                        .fg(Color::Indexed(208))
                        .bg(Color::Rgb(1, 2, 3))
                ),
            ]
        );
        assert_eq!(
            styled("\x1b[38:2::10:20:30mc\x1b[38:5:1md\x1b[38:2:4:5:6;1me"),
            vec![
                ("c".into(), Style::default().fg(Color::Rgb(10, 20, 30))),
                ("d".into(), Style::default().fg(Color::Red)),
                (
                    "e".into(),
                    Style::default()
                        .fg(Color::Rgb(4, 5, 6))
                        .add_modifier(Modifier::BOLD)
                ),
            ]
        );
        // A colour cut short changes nothing and does not eat what follows.
        assert_eq!(styled("\x1b[38;5mx"), vec![("x".into(), Style::default())]);
    }

    #[test]
    fn colours_follow_the_terminal_depth() {
        let fg = |line: &str, depth| parse(line, depth).spans[0].style.fg;
        assert_eq!(
            fg("\x1b[38;2;251;73;52mx", ColorDepth::Ansi256),
            Some(Color::Indexed(203))
        );
        assert_eq!(
            fg("\x1b[38;2;251;73;52mx", ColorDepth::Ansi16),
            Some(Color::LightRed)
        );
        assert_eq!(
            fg("\x1b[38;5;196mx", ColorDepth::Ansi16),
            Some(Color::LightRed)
        );
        assert_eq!(fg("\x1b[31mx", ColorDepth::Ansi16), Some(Color::Red));
        let plain = parse("\x1b[1;31mx", ColorDepth::None).spans[0].style;
        assert_eq!(plain, Style::default().add_modifier(Modifier::BOLD));
    }

    #[test]
    fn other_sequences_and_controls_are_dropped() {
        // Cursor moves, erase, OSC title (BEL and ST), a hyperlink, DCS,
        // charset selection, CR and BS.
        let line = "\x1b[2K\x1b[1Gstart\r\x1b]0;title\x07 \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1bPq#0\x1b\\\x1b(Bend\x08!\x1b7";
        assert_eq!(strip(line), "start link end!");
        assert_eq!(text(&parse(line, ColorDepth::TrueColor)), "start link end!");
        // Private modes and C1 introducers.
        assert_eq!(strip("a\x1b[?25lb\u{9b}31mc\u{9d}t\u{9c}d"), "abcd");
        // Unfinished sequences end the line quietly.
        assert_eq!(strip("tail\x1b["), "tail");
        assert_eq!(strip("tail\x1b]0;never ends"), "tail");
        assert_eq!(strip("tail\x1b"), "tail");
    }

    #[test]
    fn tabs_expand_to_the_next_stop_by_display_width() {
        assert_eq!(strip("a\tb"), "a       b");
        assert_eq!(strip("\tx"), "        x");
        assert_eq!(strip("12345678\ty"), "12345678        y");
        // 中 is two columns wide; colours do not take a column.
        assert_eq!(strip("中\x1b[31m\tz"), "中      z");
    }

    #[test]
    fn highlight_splits_spans_at_match_edges() {
        let line = parse("\x1b[31mred\x1b[0m plain red", ColorDepth::TrueColor);
        let mark = Style::default().bg(Color::Yellow);
        let lit = highlight(line, &[(1, 5), (10, 13)], mark);
        let parts: Vec<(String, Style)> = lit
            .spans
            .iter()
            .map(|s| (s.content.to_string(), s.style))
            .collect();
        assert_eq!(
            parts,
            vec![
                ("r".into(), Style::default().fg(Color::Red)),
                (
                    "ed".into(),
                    Style::default().fg(Color::Red).bg(Color::Yellow)
                ),
                (" p".into(), Style::default().bg(Color::Yellow)),
                ("lain ".into(), Style::default()),
                ("red".into(), Style::default().bg(Color::Yellow)),
            ]
        );
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_draws_what_strip_says(
            line in proptest::collection::vec(
                prop_oneof![
                    Just("\x1b[".to_string()),
                    Just("\x1b]".to_string()),
                    Just("\x1b".to_string()),
                    Just(";".to_string()),
                    Just(":".to_string()),
                    Just("m".to_string()),
                    Just("\x07".to_string()),
                    Just("\t".to_string()),
                    Just("\u{9b}".to_string()),
                    "[0-9]{1,3}",
                    "\\PC{0,4}",
                    any::<char>().prop_map(String::from),
                ],
                0..40,
            ).prop_map(|parts| parts.concat()),
            depth in prop_oneof![
                Just(ColorDepth::TrueColor),
                Just(ColorDepth::Ansi256),
                Just(ColorDepth::Ansi16),
                Just(ColorDepth::None),
            ],
        ) {
            let stripped = strip(&line);
            let drawn = parse(&line, depth);
            prop_assert_eq!(text(&drawn), stripped.clone());
            prop_assert!(!stripped.chars().any(char::is_control), "{:?}", stripped);
            let ranges: Vec<(usize, usize)> = stripped
                .char_indices()
                .step_by(3)
                .map(|(i, c)| (i, i + c.len_utf8()))
                .collect();
            let lit = highlight(drawn, &ranges, Style::default().bg(Color::Yellow));
            prop_assert_eq!(text(&lit), stripped);
        }
    }
}
