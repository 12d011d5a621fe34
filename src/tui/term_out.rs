//! What a frame costs on the wire: the ratatui backend that writes the
//! terminal.
//!
//! Over SSH every byte of a frame is paid for, so [`LeanBackend`] writes
//! only what changes the screen. ratatui's diff hands it the cells whose
//! content or style changed; for those it keeps the terminal's pen (colours,
//! attributes, underline colour) and cursor from one cell to the next and
//! from one frame to the next, and writes:
//!
//! - one SGR sequence when the style changes, holding only the parameters
//!   that differ (the 16 named colours as `30–37`/`90–97`, so terminals
//!   without 256 colours understand them too); the underline colour only
//!   for underlined cells;
//! - a cursor move only when the cursor is not already there, in its
//!   shortest form;
//! - the cursor's visibility only when it changes.
//!
//! A frame is held in memory from [`LeanBackend::begin_frame`] to
//! [`LeanBackend::end_frame`] and leaves in one write, wrapped in
//! synchronized output (DECSET 2026), so SSH sends it in as few packets as
//! it can and the terminal never shows half of it. The backend never asks
//! the terminal anything: a query answered by the terminal would wait on
//! input, and its answer could be taken for a key.

use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

const BEGIN_SYNC: &[u8] = b"\x1b[?2026h";
const END_SYNC: &[u8] = b"\x1b[?2026l";

/// The terminal's pen: what the next printed character is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    underline: Color,
    modifier: Modifier,
}

impl Pen {
    /// The pen after `ESC[0m`.
    const RESET: Pen = Pen {
        fg: Color::Reset,
        bg: Color::Reset,
        underline: Color::Reset,
        modifier: Modifier::empty(),
    };
}

/// A ratatui backend that writes a terminal with as few bytes as it can
/// (see the module documentation). `W` is the terminal: standard output in
/// the app, a `Vec<u8>` in tests.
pub(crate) struct LeanBackend<W: Write> {
    out: W,
    /// Bytes not yet written to `out`.
    pending: Vec<u8>,
    /// While a frame is open, `flush` keeps the bytes for `end_frame`.
    in_frame: bool,
    /// The pen as the terminal has it; `None` when unknown.
    pen: Option<Pen>,
    /// Where the terminal's cursor is; `None` when unknown.
    cursor: Option<Position>,
    /// Whether the cursor is shown; `None` when unknown.
    cursor_shown: Option<bool>,
    /// The terminal's size as last read.
    size: std::cell::Cell<Option<Size>>,
    /// What the screen shows, row by row; `None` for a cell not known.
    screen: Vec<Vec<Option<Cell>>>,
}

impl<W: Write> LeanBackend<W> {
    /// A backend writing to `out`. It knows nothing of the terminal's
    /// state yet, so the first frame sets pen and cursor in full.
    pub(crate) fn new(out: W) -> LeanBackend<W> {
        LeanBackend {
            out,
            pending: Vec::with_capacity(16 * 1024),
            in_frame: false,
            pen: None,
            cursor: None,
            cursor_shown: None,
            size: std::cell::Cell::new(None),
            screen: Vec::new(),
        }
    }

    /// A backend for a terminal of a known size, which it never reads.
    #[cfg(test)]
    pub(crate) fn with_size(out: W, width: u16, height: u16) -> LeanBackend<W> {
        let backend = LeanBackend::new(out);
        backend.size.set(Some(Size { width, height }));
        backend
    }

    /// Starts a frame: everything up to [`Self::end_frame`] is shown at once.
    pub(crate) fn begin_frame(&mut self) {
        self.pending.extend_from_slice(BEGIN_SYNC);
        self.in_frame = true;
    }

    /// Ends the frame and writes it to the terminal in one write.
    pub(crate) fn end_frame(&mut self) -> io::Result<()> {
        self.pending.extend_from_slice(END_SYNC);
        self.in_frame = false;
        self.write_out()
    }

    /// The writer, for tests to read what was written.
    #[cfg(test)]
    pub(crate) fn writer(&self) -> &W {
        &self.out
    }

    fn write_out(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.out.write_all(&self.pending)?;
            self.pending.clear();
        }
        self.out.flush()
    }

    /// Moves the cursor to `to` unless it is there already.
    fn move_to(&mut self, to: Position) {
        // After the last column the cursor waits to wrap, one column short
        // of where it is counted: moving left from there is left to `CUP`.
        let width = self.size.get().map_or(0, |s| s.width);
        let out = &mut self.pending;
        match self.cursor {
            Some(at) if at == to => {}
            Some(at) if at.y == to.y && to.x > at.x => {
                let n = to.x - at.x;
                if n == 1 {
                    out.extend_from_slice(b"\x1b[C");
                } else {
                    push_fmt(out, format_args!("\x1b[{n}C"));
                }
            }
            Some(at) if at.y == to.y && to.x == 0 => out.push(b'\r'),
            Some(at) if at.y == to.y && to.x < at.x && at.x < width => {
                let n = at.x - to.x;
                if n == 1 {
                    out.push(0x08);
                } else {
                    push_fmt(out, format_args!("\x1b[{n}D"));
                }
            }
            _ => match (to.x, to.y) {
                (0, 0) => out.extend_from_slice(b"\x1b[H"),
                (0, y) => push_fmt(out, format_args!("\x1b[{}H", u32::from(y) + 1)),
                (x, y) => push_fmt(
                    out,
                    format_args!("\x1b[{};{}H", u32::from(y) + 1, u32::from(x) + 1),
                ),
            },
        }
        self.cursor = Some(to);
    }

    /// Changes the pen to `to`, writing one SGR sequence with only what
    /// differs. The underline colour is left alone unless `to` underlines.
    fn set_pen(&mut self, to: Pen) {
        let from = self.pen;
        let known = from.unwrap_or(Pen::RESET);
        let mut params: Vec<u8> = Vec::new();
        if from.is_none() {
            // Unknown state: start from a clean pen.
            params.push(b'0');
        }
        let removed = known.modifier - to.modifier;
        let added = to.modifier - known.modifier;
        let mut add = added;
        if removed.intersects(Modifier::BOLD | Modifier::DIM) {
            // 22 ends both bold and dim: take back the one that stays.
            param(&mut params, "22");
            add |= to.modifier & (Modifier::BOLD | Modifier::DIM);
        }
        for (flag, code) in [
            (Modifier::ITALIC, "23"),
            (Modifier::UNDERLINED, "24"),
            (Modifier::REVERSED, "27"),
            (Modifier::HIDDEN, "28"),
            (Modifier::CROSSED_OUT, "29"),
        ] {
            if removed.contains(flag) {
                param(&mut params, code);
            }
        }
        if removed.intersects(Modifier::SLOW_BLINK | Modifier::RAPID_BLINK) {
            param(&mut params, "25");
            add |= to.modifier & (Modifier::SLOW_BLINK | Modifier::RAPID_BLINK);
        }
        for (flag, code) in [
            (Modifier::BOLD, "1"),
            (Modifier::DIM, "2"),
            (Modifier::ITALIC, "3"),
            (Modifier::UNDERLINED, "4"),
            (Modifier::SLOW_BLINK, "5"),
            (Modifier::RAPID_BLINK, "6"),
            (Modifier::REVERSED, "7"),
            (Modifier::HIDDEN, "8"),
            (Modifier::CROSSED_OUT, "9"),
        ] {
            if add.contains(flag) {
                param(&mut params, code);
            }
        }
        if to.fg != known.fg {
            color_param(&mut params, to.fg, Layer::Fg);
        }
        if to.bg != known.bg {
            color_param(&mut params, to.bg, Layer::Bg);
        }
        let mut underline = known.underline;
        if to.modifier.contains(Modifier::UNDERLINED) && to.underline != known.underline {
            color_param(&mut params, to.underline, Layer::Underline);
            underline = to.underline;
        }
        if !params.is_empty() {
            self.pending.extend_from_slice(b"\x1b[");
            self.pending.extend_from_slice(&params);
            self.pending.push(b'm');
        }
        self.pen = Some(Pen { underline, ..to });
    }
    /// The order of `rows` that writes the fewest bytes, trying them all.
    fn cheapest_order(&mut self, rows: &[(u16, Vec<(u16, &Cell)>)]) -> Vec<usize> {
        let mut best: (usize, Vec<usize>) = (usize::MAX, (0..rows.len()).collect());
        let mut order: Vec<usize> = (0..rows.len()).collect();
        permutations(&mut order, 0, &mut |order| {
            let state = (self.pending.len(), self.pen, self.cursor);
            for &i in order.iter() {
                let (y, row) = &rows[i];
                self.emit_row(*y, row);
            }
            let cost = self.pending.len() - state.0;
            self.pending.truncate(state.0);
            (self.pen, self.cursor) = (state.1, state.2);
            if cost < best.0 {
                best = (cost, order.to_vec());
            }
        });
        best.1
    }

    /// Sizes the screen copy to the terminal, forgetting it on a change.
    fn fit_screen(&mut self) {
        let Some(size) = self.size.get() else {
            self.screen.clear();
            return;
        };
        let fits = self.screen.len() == usize::from(size.height)
            && self
                .screen
                .first()
                .is_none_or(|r| r.len() == usize::from(size.width));
        if !fits {
            self.screen = vec![vec![None; usize::from(size.width)]; usize::from(size.height)];
        }
    }

    /// Writes the changed cells of row `y`: cell by cell, or, when text
    /// moved sideways on the row (a character typed or deleted), by
    /// shifting the rest of the row in the terminal (`ICH`/`DCH`) and
    /// writing only what then differs, whichever is shorter.
    fn emit_row(&mut self, y: u16, changes: &[(u16, &Cell)]) {
        let plans = self.shifted_row(y, changes);
        let start = (self.pending.len(), self.pen, self.cursor);
        for &(x, cell) in changes {
            self.put(x, y, cell);
        }
        for ShiftPlan { ops, patch } in plans {
            let best = (self.pending.len(), self.pen, self.cursor);
            let best_bytes = self.pending.split_off(start.0);
            (self.pen, self.cursor) = (start.1, start.2);
            for (x, op) in ops {
                self.move_to(Position { x, y });
                match op {
                    Shift::Insert(1) => self.pending.extend_from_slice(b"\x1b[@"),
                    Shift::Insert(n) => push_fmt(&mut self.pending, format_args!("\x1b[{n}@")),
                    Shift::Delete(1) => self.pending.extend_from_slice(b"\x1b[P"),
                    Shift::Delete(n) => push_fmt(&mut self.pending, format_args!("\x1b[{n}P")),
                }
            }
            for (x, cell) in &patch {
                self.put(*x, y, cell);
            }
            if self.pending.len() >= best.0 {
                self.pending.truncate(start.0);
                self.pending.extend_from_slice(&best_bytes);
                (self.pen, self.cursor) = (best.1, best.2);
            }
        }
    }

    /// Notes row `y`'s `changes` in the copy of the screen.
    fn remember_row(&mut self, y: u16, changes: &[(u16, &Cell)]) {
        if let Some(row) = self.screen.get_mut(usize::from(y)) {
            for &(x, cell) in changes {
                let wide = cell.symbol().width() > 1;
                if let Some(slot) = row.get_mut(usize::from(x)) {
                    *slot = (!wide).then(|| cell.clone());
                }
                if wide && let Some(next) = row.get_mut(usize::from(x) + 1) {
                    *next = None;
                }
            }
        }
    }

    /// When row `y` after `changes` is its old self with text inserted or
    /// deleted at one place: ways to shift the row in the terminal, each
    /// with the cells that still differ after it. The shift moves the rest
    /// of the row, or, with a second shift the other way where the changes
    /// end, only the text up to there (a pane border right of it stays).
    fn shifted_row(&self, y: u16, changes: &[(u16, &Cell)]) -> Vec<ShiftPlan> {
        const MAX_SHIFT: usize = 8;
        let Some(old) = self.screen.get(usize::from(y)) else {
            return Vec::new();
        };
        if changes.len() <= MAX_SHIFT || old.iter().any(Option::is_none) {
            return Vec::new();
        }
        let mut new: Vec<Cell> = old.iter().flatten().cloned().collect();
        for &(x, cell) in changes {
            match new.get_mut(usize::from(x)) {
                Some(slot) if cell.symbol().width() == 1 => *slot = cell.clone(),
                _ => return Vec::new(),
            }
        }
        let old: Vec<&Cell> = old.iter().flatten().collect();
        let width = new.len();
        let (Some(&(first, _)), Some(&(last, _))) = (changes.first(), changes.last()) else {
            return Vec::new();
        };
        let (from, end) = (usize::from(first), usize::from(last) + 1);
        let mut best: [Option<(usize, ShiftPlan)>; 2] = [None, None];
        for n in 1..=MAX_SHIFT.min(width - from - 1) {
            let bounded = end < width && end > from + n;
            let shapes = [
                (0, Shift::Insert(n), width),
                (0, Shift::Delete(n), width),
                (1, Shift::Insert(n), if bounded { end } else { width }),
                (1, Shift::Delete(n), if bounded { end } else { width }),
            ];
            for (slot, shift, stop) in shapes {
                if slot == 1 && stop == width {
                    continue;
                }
                // The row as the terminal has it after the shift; `None`
                // where it shows blanks of its own making.
                let shown = |x: usize| -> Option<&Cell> {
                    match shift {
                        _ if x < from || x >= stop => Some(old[x]),
                        Shift::Insert(n) if x < from + n => None,
                        Shift::Insert(n) => Some(old[x - n]),
                        Shift::Delete(n) if x + n < stop => Some(old[x + n]),
                        Shift::Delete(_) => None,
                    }
                };
                let patch: Vec<(u16, Cell)> = (from..width)
                    .filter(|&x| shown(x) != Some(&new[x]))
                    .filter_map(|x| Some((u16::try_from(x).ok()?, new[x].clone())))
                    .collect();
                if patch.len() >= changes.len()
                    || best[slot]
                        .as_ref()
                        .is_some_and(|(len, _)| *len <= patch.len())
                {
                    continue;
                }
                let at = |x: usize| u16::try_from(x).unwrap_or(u16::MAX);
                let ops = match (shift, stop < width) {
                    (_, false) => vec![(at(from), shift)],
                    // Take out what the insert pushes past `stop`, then insert.
                    (Shift::Insert(n), true) => {
                        vec![(at(stop - n), Shift::Delete(n)), (at(from), shift)]
                    }
                    // Delete, then put the room back before `stop`.
                    (Shift::Delete(n), true) => {
                        vec![(at(from), shift), (at(stop - n), Shift::Insert(n))]
                    }
                };
                best[slot] = Some((patch.len(), ShiftPlan { ops, patch }));
            }
        }
        best.into_iter().flatten().map(|(_, plan)| plan).collect()
    }

    /// Writes one cell at (x, y).
    fn put(&mut self, x: u16, y: u16, cell: &Cell) {
        self.move_to(Position { x, y });
        let pen = Pen {
            fg: cell.fg,
            bg: cell.bg,
            underline: cell.underline_color,
            modifier: cell.modifier,
        };
        if self.pen != Some(pen) {
            self.set_pen(pen);
        }
        let symbol = cell.symbol();
        self.pending.extend_from_slice(symbol.as_bytes());
        // A wide character may be one column or two depending on the
        // terminal: after one, the next cell moves explicitly.
        self.cursor = (symbol.width() == 1).then(|| Position { x: x + 1, y });
    }
}

/// A row redrawn by shifting it: the shifts (where, which) and the cells
/// to write after them.
struct ShiftPlan {
    ops: Vec<(u16, Shift)>,
    patch: Vec<(u16, Cell)>,
}

/// How a row's text moved: characters inserted or deleted at the cursor.
#[derive(Debug, Clone, Copy)]
enum Shift {
    Insert(usize),
    Delete(usize),
}

/// Calls `visit` with every order of `items[k..]` after `items[..k]`.
fn permutations(items: &mut [usize], k: usize, visit: &mut impl FnMut(&[usize])) {
    if k + 1 >= items.len() {
        visit(items);
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permutations(items, k + 1, visit);
        items.swap(k, i);
    }
}

/// Where a colour goes: foreground, background or underline.
#[derive(Clone, Copy)]
enum Layer {
    Fg,
    Bg,
    Underline,
}

/// Appends one SGR parameter, `;`-separated from the ones before.
fn param(params: &mut Vec<u8>, code: &str) {
    if !params.is_empty() {
        params.push(b';');
    }
    params.extend_from_slice(code.as_bytes());
}

/// Appends the SGR parameters that set `color` on `layer`.
fn color_param(params: &mut Vec<u8>, color: Color, layer: Layer) {
    let named = |color: Color| -> Option<u8> {
        Some(match color {
            Color::Black => 0,
            Color::Red => 1,
            Color::Green => 2,
            Color::Yellow => 3,
            Color::Blue => 4,
            Color::Magenta => 5,
            Color::Cyan => 6,
            Color::Gray => 7,
            Color::DarkGray => 8,
            Color::LightRed => 9,
            Color::LightGreen => 10,
            Color::LightYellow => 11,
            Color::LightBlue => 12,
            Color::LightMagenta => 13,
            Color::LightCyan => 14,
            Color::White => 15,
            _ => return None,
        })
    };
    let (reset, extended, normal, bright) = match layer {
        Layer::Fg => ("39", "38", 30, 90),
        Layer::Bg => ("49", "48", 40, 100),
        Layer::Underline => ("59", "58", 0, 0),
    };
    let text = match (color, named(color), layer) {
        (Color::Reset, _, _) => reset.to_string(),
        (_, Some(n), Layer::Underline) => format!("{extended};5;{n}"),
        (_, Some(n), _) if n < 8 => (normal + u16::from(n)).to_string(),
        (_, Some(n), _) => (bright + u16::from(n) - 8).to_string(),
        (Color::Indexed(n), _, _) => format!("{extended};5;{n}"),
        (Color::Rgb(r, g, b), _, _) => format!("{extended};2;{r};{g};{b}"),
        // Every other colour is named above.
        _ => reset.to_string(),
    };
    param(params, &text);
}

fn push_fmt(out: &mut Vec<u8>, args: std::fmt::Arguments<'_>) {
    // Writing to a Vec cannot fail.
    let _ = out.write_fmt(args);
}

impl<W: Write> Write for LeanBackend<W> {
    /// Raw bytes for the terminal (an OSC 52 copy), sent with the frame.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.in_frame {
            Ok(())
        } else {
            self.write_out()
        }
    }
}

impl<W: Write> Backend for LeanBackend<W> {
    type Error = io::Error;

    /// Writes the changed rows; when only a few changed (a typed key), in
    /// the order that costs the fewest bytes: each row starts with the pen
    /// and cursor the one before left.
    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        const ORDERED_ROWS: usize = 4;
        self.fit_screen();
        let mut rows: Vec<(u16, Vec<(u16, &Cell)>)> = Vec::new();
        for (x, y, cell) in content {
            match rows.last_mut() {
                Some((row_y, row)) if *row_y == y => row.push((x, cell)),
                _ => rows.push((y, vec![(x, cell)])),
            }
        }
        let order = if rows.len() <= ORDERED_ROWS {
            self.cheapest_order(&rows)
        } else {
            (0..rows.len()).collect()
        };
        for i in order {
            let (y, row) = &rows[i];
            self.emit_row(*y, row);
            self.remember_row(*y, row);
        }
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_shown != Some(false) {
            self.pending.extend_from_slice(b"\x1b[?25l");
            self.cursor_shown = Some(false);
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_shown != Some(true) {
            self.pending.extend_from_slice(b"\x1b[?25h");
            self.cursor_shown = Some(true);
        }
        Ok(())
    }

    /// Where the cursor was left, without asking the terminal (a query
    /// would wait on input); the top left corner when not known.
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor.unwrap_or(Position::ORIGIN))
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.move_to(position.into());
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        if clear_type == ClearType::All {
            // Erased cells take the pen's background: with a clean pen the
            // screen is known to be blank.
            if self.pen != Some(Pen::RESET) {
                self.pending.extend_from_slice(b"\x1b[0m");
                self.pen = Some(Pen::RESET);
            }
            self.pending.extend_from_slice(b"\x1b[2J");
            self.fit_screen();
            for row in &mut self.screen {
                row.fill(Some(Cell::default()));
            }
            return Ok(());
        }
        for row in &mut self.screen {
            row.fill(None);
        }
        let code: &[u8] = match clear_type {
            ClearType::All => b"\x1b[2J",
            ClearType::AfterCursor => b"\x1b[J",
            ClearType::BeforeCursor => b"\x1b[1J",
            ClearType::CurrentLine => b"\x1b[2K",
            ClearType::UntilNewLine => b"\x1b[K",
        };
        self.pending.extend_from_slice(code);
        Ok(())
    }

    fn size(&self) -> io::Result<Size> {
        if cfg!(test)
            && let Some(size) = self.size.get()
        {
            return Ok(size);
        }
        let (width, height) = crossterm::terminal::size()?;
        let size = Size { width, height };
        self.size.set(Some(size));
        Ok(size)
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        let size = crossterm::terminal::window_size()?;
        Ok(WindowSize {
            columns_rows: Size {
                width: size.columns,
                height: size.rows,
            },
            pixels: Size {
                width: size.width,
                height: size.height,
            },
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Write::flush(self)
    }
}

#[cfg(test)]
mod tests;
