use ratatui::Terminal;
use ratatui::buffer::Cell;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Paragraph, Widget};

use super::*;

fn cell(symbol: &'static str, style: Style) -> Cell {
    let mut cell = Cell::new(symbol);
    cell.set_style(style);
    cell
}

/// What drawing `cells` (x, y, cell) writes, as text, after `setup`.
fn written(backend: &mut LeanBackend<Vec<u8>>, cells: &[(u16, u16, Cell)]) -> String {
    let start = backend.writer().len();
    backend
        .draw(cells.iter().map(|(x, y, c)| (*x, *y, c)))
        .unwrap();
    Write::flush(backend).unwrap();
    String::from_utf8(backend.writer()[start..].to_vec()).unwrap()
}

fn fresh() -> LeanBackend<Vec<u8>> {
    LeanBackend::new(Vec::new())
}

#[test]
fn a_run_of_one_style_sets_the_pen_once_and_moves_once() {
    let theme = Style::default()
        .fg(Color::Rgb(0xd5, 0xc4, 0xa1))
        .bg(Color::Rgb(0x1d, 0x20, 0x21));
    let cells: Vec<_> = "ab c"
        .chars()
        .enumerate()
        .map(|(i, ch)| {
            (3 + i as u16, 1, {
                let mut c = Cell::default();
                c.set_symbol(&ch.to_string());
                c.set_style(theme);
                c
            })
        })
        .collect();
    let mut b = fresh();
    assert_eq!(
        written(&mut b, &cells),
        "\x1b[2;4H\x1b[0;38;2;213;196;161;48;2;29;32;33mab c"
    );
    // The next frame keeps the pen and knows where the cursor is.
    assert_eq!(
        written(
            &mut b,
            &[(7, 1, cell("d", theme)), (9, 1, cell("e", theme))]
        ),
        "d\x1b[Ce"
    );
}

#[test]
fn only_what_changes_in_the_style_is_written() {
    let base = Style::default()
        .fg(Color::Indexed(223))
        .bg(Color::Indexed(234));
    let keyword = base.fg(Color::Indexed(203));
    let bold = keyword.add_modifier(Modifier::BOLD);
    let mut b = fresh();
    let out = written(
        &mut b,
        &[
            (0, 0, cell("l", keyword)),
            (1, 0, cell("e", keyword)),
            (2, 0, cell("t", keyword)),
            (3, 0, cell(" ", base)),
            (4, 0, cell("x", base)),
            (5, 0, cell("!", bold)),
            (6, 0, cell("y", base)),
        ],
    );
    assert_eq!(
        out,
        "\x1b[H\x1b[0;38;5;203;48;5;234mlet\x1b[38;5;223m x\x1b[1;38;5;203m!\x1b[22;38;5;223my"
    );
}

#[test]
fn named_colours_use_the_sixteen_colour_codes() {
    let mut b = fresh();
    let out = written(
        &mut b,
        &[
            (
                0,
                0,
                cell("a", Style::default().fg(Color::Red).bg(Color::Black)),
            ),
            (
                1,
                0,
                cell("b", Style::default().fg(Color::LightRed).bg(Color::White)),
            ),
            (2, 0, cell("c", Style::default())),
        ],
    );
    assert_eq!(out, "\x1b[H\x1b[0;31;40ma\x1b[91;107mb\x1b[39;49mc");
}

#[test]
fn no_colour_cells_write_attributes_only() {
    // Under NO_COLOR the app draws with modifiers and the terminal's colours.
    let mut b = fresh();
    let out = written(
        &mut b,
        &[
            (
                0,
                2,
                cell("s", Style::default().add_modifier(Modifier::REVERSED)),
            ),
            (1, 2, cell("t", Style::default())),
            (
                2,
                2,
                cell(
                    "u",
                    Style::default().add_modifier(Modifier::BOLD | Modifier::DIM),
                ),
            ),
            (
                3,
                2,
                cell("v", Style::default().add_modifier(Modifier::DIM)),
            ),
        ],
    );
    assert_eq!(out, "\x1b[3H\x1b[0;7ms\x1b[27mt\x1b[1;2mu\x1b[22;2mv");
}

#[test]
fn the_underline_colour_is_written_only_for_underlined_cells() {
    let plain = Style::default().underline_color(Color::Reset);
    let squiggle = Style::default()
        .add_modifier(Modifier::UNDERLINED)
        .underline_color(Color::Rgb(255, 0, 0));
    let mut b = fresh();
    let out = written(
        &mut b,
        &[
            (0, 0, cell("a", plain)),
            (1, 0, cell("b", squiggle)),
            (2, 0, cell("c", plain)),
            (3, 0, cell("d", plain.underline_color(Color::Blue))),
            (4, 0, cell("e", squiggle)),
        ],
    );
    // No `59` after `b`: the red underline colour stays set, unused, and
    // `e` needs nothing but the underline back.
    assert_eq!(out, "\x1b[H\x1b[0ma\x1b[4;58;2;255;0;0mb\x1b[24mcd\x1b[4me");
}

#[test]
fn cursor_moves_take_their_shortest_form() {
    let s = Style::default();
    let mut b = fresh();
    let out = written(
        &mut b,
        &[
            (5, 3, cell("a", s)),
            (6, 3, cell("b", s)),
            (0, 3, cell("c", s)),
            (0, 9, cell("d", s)),
            (4, 9, cell("界", s)),
            (6, 9, cell("e", s)),
        ],
    );
    assert_eq!(out, "\x1b[4;6H\x1b[0mab\rc\x1b[10Hd\x1b[3C界\x1b[10;7He");
    b.set_cursor_position(Position { x: 7, y: 9 }).unwrap();
    b.show_cursor().unwrap();
    b.show_cursor().unwrap();
    b.hide_cursor().unwrap();
    Write::flush(&mut b).unwrap();
    assert!(String::from_utf8_lossy(b.writer()).ends_with("e\x1b[?25h\x1b[?25l"));
}

#[test]
fn a_frame_leaves_in_one_write_inside_synchronized_output() {
    /// Records each write it gets.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);
    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut terminal = Terminal::with_options(
        LeanBackend::new(Writes::default()),
        ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 6, 2)),
        },
    )
    .unwrap();
    for text in ["hello", "help"] {
        terminal.backend_mut().begin_frame();
        terminal
            .draw(|frame| {
                let area = frame.area();
                Paragraph::new(text).render(area, frame.buffer_mut());
                frame.set_cursor_position((1, 1));
            })
            .unwrap();
        write!(terminal.backend_mut(), "\x1b]52;c;eA==\x07").unwrap();
        terminal.backend_mut().end_frame().unwrap();
    }
    let writes = &terminal.backend().writer().0;
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert_eq!(
        String::from_utf8_lossy(&writes[0]),
        "\x1b[?2026h\x1b[H\x1b[0mhello\x1b[?25h\x1b[2;2H\x1b]52;c;eA==\x07\x1b[?2026l"
    );
    // The second frame changes two cells; the cursor goes back, nothing else.
    assert_eq!(
        String::from_utf8_lossy(&writes[1]),
        "\x1b[?2026h\x1b[1;4Hp \x1b[2;2H\x1b]52;c;eA==\x07\x1b[?2026l"
    );
}

/// The bytes of each frame drawing `lines` in turn on a `width`x1 terminal.
fn frames(width: u16, lines: &[&str]) -> Vec<String> {
    let mut terminal = Terminal::new(LeanBackend::with_size(Vec::new(), width, 1)).unwrap();
    terminal.clear().unwrap();
    let style = Style::default()
        .fg(Color::Indexed(223))
        .bg(Color::Indexed(234));
    let mut out = Vec::new();
    for line in lines {
        let start = terminal.backend().writer().len();
        terminal.backend_mut().begin_frame();
        terminal
            .draw(|frame| {
                let area = frame.area();
                Paragraph::new(*line)
                    .style(style)
                    .render(area, frame.buffer_mut());
            })
            .unwrap();
        terminal.backend_mut().end_frame().unwrap();
        let bytes = &terminal.backend().writer()[start..];
        out.push(String::from_utf8(bytes.to_vec()).unwrap());
    }
    out
}

#[test]
fn text_typed_or_deleted_mid_row_shifts_the_row_in_the_terminal() {
    let out = frames(
        24,
        &[
            "const tasks = [];  |",
            "xconst tasks = [];  |",
            "xconst tasks = [];|",
            "onst tasks = [];|",
        ],
    );
    assert_eq!(
        out[0],
        "\x1b[0m\x1b[2J\x1b[H\x1b[?2026h\x1b[38;5;223;48;5;234mconst tasks = [];  |    \x1b[?25l\x1b[?2026l"
    );
    // Typed at the start: one cell inserted, then written; the row's
    // trailing blanks take the shift.
    assert_eq!(out[1], "\x1b[?2026h\r\x1b[@x\x1b[?2026l");
    // Two changed cells: written as they are.
    assert_eq!(out[2], "\x1b[?2026h\x1b[17C|\x1b[C \x1b[?2026l");
    // Two deleted at the start: the row moves left, the two cells it
    // leaves at the end are written.
    assert_eq!(out[3], "\x1b[?2026h\r\x1b[2P\x1b[22C  \x1b[?2026l");
}

#[test]
fn moving_left_is_relative_except_from_the_wrap_column() {
    let s = Style::default();
    let mut b = LeanBackend::with_size(Vec::new(), 10, 2);
    let out = written(
        &mut b,
        &[
            (5, 0, cell("a", s)),
            (2, 0, cell("b", s)),
            (2, 0, cell("c", s)),
            (9, 1, cell("d", s)),
            (8, 1, cell("e", s)),
        ],
    );
    assert_eq!(out, "\x1b[1;6H\x1b[0ma\x1b[4Db\x08c\x1b[2;10Hd\x1b[2;9He");
}

#[test]
fn rows_are_written_in_the_order_that_keeps_the_pen() {
    let text = Style::default()
        .fg(Color::Indexed(223))
        .bg(Color::Indexed(234));
    let bar = Style::default()
        .fg(Color::Indexed(223))
        .bg(Color::Indexed(236));
    let mut b = LeanBackend::with_size(Vec::new(), 10, 5);
    // The pen is the bar's: the bar's row goes first, though it is lower.
    written(&mut b, &[(0, 4, cell("1", bar))]);
    let out = written(&mut b, &[(3, 1, cell("x", text)), (0, 4, cell("2", bar))]);
    assert_eq!(out, "\r2\x1b[2;4H\x1b[48;5;234mx");
}

#[test]
fn a_border_right_of_the_text_stays_put_while_the_text_shifts() {
    use ratatui::text::{Line, Span};
    let text = Style::default()
        .fg(Color::Indexed(223))
        .bg(Color::Indexed(234));
    let border = Style::default()
        .fg(Color::Indexed(108))
        .bg(Color::Indexed(234));
    let mut terminal = Terminal::new(LeanBackend::with_size(Vec::new(), 40, 1)).unwrap();
    terminal.clear().unwrap();
    let mut frame_bytes = Vec::new();
    let letters = "abcdefghijklmnopqrstuvwxyz0123456789";
    let typed = format!("X{letters}  ");
    let plain = format!("{letters}   ");
    for content in [plain.as_str(), typed.as_str(), plain.as_str()] {
        let start = terminal.backend().writer().len();
        terminal
            .draw(|frame| {
                let line = Line::from(vec![Span::styled(content, text), Span::styled("|", border)]);
                let area = frame.area();
                Paragraph::new(line).render(area, frame.buffer_mut());
            })
            .unwrap();
        let bytes = terminal.backend().writer()[start..].to_vec();
        frame_bytes.push(String::from_utf8(bytes).unwrap());
    }
    // Typed: the cell before the border is taken out, then one inserted
    // at the start; the border never moves, so it is not written again.
    assert_eq!(frame_bytes[1], "\x1b[1;37H\x1b[P\r\x1b[@\x1b[38;5;223mX");
    // Deleted: the reverse; the room made before the border is written.
    assert_eq!(frame_bytes[2], "\r\x1b[P\x1b[36C\x1b[@ ");
}
