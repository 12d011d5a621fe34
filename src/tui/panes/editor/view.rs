//! Drawing the active buffer: line numbers, syntax colours, the selection,
//! the search's matches and the cursor, with long lines either scrolled
//! sideways (marked `‹` `›` where they go on off screen) or soft-wrapped
//! at the window's width (continuation rows marked `↪` in the gutter);
//! keeping the cursor in view; and where a click lands.
//!
//! Only what is drawn costs: the lines on screen are highlighted and
//! searched, each no further than the columns the window can show.

use std::ops::Range;

use ratatui::buffer::Buffer as Cells;
use ratatui::style::{Modifier, Style};
use regex::Regex;
use unicode_segmentation::UnicodeSegmentation;

use super::Tab;
use super::wrap::{self, Wrapper};
use crate::editor::buffer::DEFAULT_TAB_WIDTH;
use crate::editor::grapheme;
use crate::editor::highlight::Highlighter;
use crate::editor::search;
use crate::tui::layout;
use crate::tui::theme::Theme;

/// What marks text besides its syntax colour.
pub(super) struct Marks<'a> {
    /// vim's selection (a block gives a range per line), or the buffer's.
    pub selected: Vec<Range<usize>>,
    /// Where the cursors other than the primary stand (the terminal draws
    /// the primary one).
    pub others: Vec<usize>,
    /// The search whose matches are shown.
    pub search: Option<&'a Regex>,
    /// Where the match the search stands on starts (the cursor).
    pub at: usize,
}

/// Chars of a line searched for matches to draw, per column the window
/// shows: enough for any text drawn, bounded for a megabyte-long line.
const CHARS_PER_COLUMN: usize = 4;

/// The lines of `tab` in `areas.body`; the cursor's cell when focused.
pub(super) fn draw_text(
    tab: &mut Tab,
    areas: layout::EditorAreas,
    focused: bool,
    marks: &Marks,
    buf: &mut Cells,
    highlighter: &Highlighter,
    theme: &Theme,
) -> Option<(u16, u16)> {
    let body = areas.body;
    let gutter = usize::from(areas.gutter);
    let width = areas.text_width();
    let height = usize::from(body.height);
    if tab.wrap {
        tab.left = 0;
        scroll_wrapped(tab, height, width);
    } else {
        tab.top_row = 0;
        tab.scroll_to_cursor(height, width);
    }
    if tab.cache_version != tab.buffer.version() {
        tab.cache
            .invalidate_from(tab.edited_from.take().unwrap_or(0));
        tab.cache_version = tab.buffer.version();
    }
    let end = (tab.top + height).min(tab.buffer.len_lines());
    let top = tab.top;
    let spans = {
        let Tab { cache, buffer, .. } = &mut *tab;
        let lines = buffer.len_lines();
        highlighter.highlight(cache, |i| (i < lines).then(|| buffer.line(i)), top, end)
    };

    // The other cursors are cells of their own, in reverse video unless
    // the theme styles them; only those on screen are looked at per cell.
    let shown = tab.buffer.line_to_char(top)..=tab.buffer.line_to_char(end);
    let selected: Vec<Range<usize>> = marks
        .selected
        .iter()
        .filter(|r| r.start <= *shown.end() && r.end >= *shown.start())
        .cloned()
        .collect();
    let others: Vec<usize> = marks
        .others
        .iter()
        .copied()
        .filter(|head| shown.contains(head))
        .collect();
    let other_style = match theme.ui("secondary_cursor") {
        style if style == Style::default() => Style::default().add_modifier(Modifier::REVERSED),
        style => style,
    };
    let base = theme.ui("foreground");
    let select_style = theme.ui("selection");
    let match_style = theme.ui("search_match");
    let current_style = theme.ui_or("search_current", "search_match");
    let number_style = theme.ui("line_number");
    let more_style = theme.ui("muted").add_modifier(Modifier::BOLD);
    let cursor = tab.buffer.cursor();
    let x0 = usize::from(body.x) + gutter;
    let right = usize::from(body.x + body.width);
    let mut cursor_cell = None;
    // The screen row the next line starts on.
    let mut y = 0usize;
    for (i, pieces) in spans.into_iter().enumerate() {
        if y >= height {
            break;
        }
        let line_index = top + i;
        let skip = if i == 0 { tab.top_row } else { 0 };
        let line_start = tab.buffer.line_to_char(line_index);
        let row_y = |row: usize| usize::from(body.y) + y + row - skip;
        // A wrapped line's rows after its first are marked where its
        // number would be.
        let continued = |buf: &mut Cells, y: usize| {
            let x = (x0 - 1).saturating_sub(1).max(usize::from(body.x));
            buf.set_stringn(x as u16, y as u16, "↪", 1, more_style);
        };
        if skip == 0 {
            buf.set_stringn(
                body.x,
                row_y(0) as u16,
                format!("{:>w$} ", line_index + 1, w = gutter.saturating_sub(1)),
                gutter,
                number_style,
            );
        } else {
            continued(buf, row_y(skip));
        }
        // The matches from a little before the first char drawn to as far
        // as the window can show.
        let columns = if tab.wrap {
            (height - y) * width.max(1)
        } else {
            tab.left + width
        };
        let matches_from = |first: usize| {
            marks.search.map_or_else(Vec::new, |re| {
                let line = tab.buffer.rope().line(line_index);
                let from = first.saturating_sub(line_start).saturating_sub(256);
                let to = line
                    .len_chars()
                    .min(first - line_start + columns * CHARS_PER_COLUMN + 64);
                let cut = String::from(line.slice(from.min(to)..to));
                search::matches_in(&cut, re, line_start + from.min(to))
            })
        };
        let mut matches = None;
        let style_at = |matches: &[Range<usize>], char_idx: usize, style: Style| -> Style {
            // Sorted and apart: the one that could hold `char_idx`.
            let i = matches.partition_point(|r| r.end <= char_idx);
            let found = matches.get(i).filter(|r| r.contains(&char_idx));
            if others.contains(&char_idx) {
                style.patch(other_style)
            } else if found.is_some_and(|r| r.start == marks.at) {
                style.patch(current_style)
            } else if selected.iter().any(|r| r.contains(&char_idx)) {
                style.patch(select_style)
            } else if found.is_some() {
                style.patch(match_style)
            } else {
                style
            }
        };
        let mut char_idx = line_start;
        let mut wrapper = Wrapper::new(width, DEFAULT_TAB_WIDTH);
        let mut col = 0usize;
        let mut last_row = skip;
        let mut continues = false;
        'line: for (style, text) in pieces {
            let style = base.patch(theme.span_style(&style));
            let mut text = text.as_str();
            if tab.wrap && skip > 0 && matches.is_none() {
                // The rows scrolled past, by arithmetic where it can.
                let used = wrapper.skip_rows(text, skip);
                char_idx += text[..used].chars().count();
                text = &text[used..];
                if text.is_empty() {
                    continue;
                }
            }
            if !tab.wrap && col + 1 < tab.left {
                // Scrolled sideways: plain ASCII left of the window is a
                // cell a char, stepped over without segmenting (the end of
                // a megabyte line costs the columns shown, not the line).
                let plain = text
                    .bytes()
                    .take(tab.left - col - 1)
                    .take_while(|b| (0x20..0x7f).contains(b))
                    .count();
                col += plain;
                char_idx += plain;
                text = &text[plain..];
                if text.is_empty() {
                    continue;
                }
            }
            let matches = matches.get_or_insert_with(|| matches_from(char_idx));
            for g in text.graphemes(true) {
                let chars = g.chars().count();
                // Where the grapheme goes: its row within the line, its
                // column on screen, its cells.
                let (row, x, cells) = if tab.wrap {
                    let placed = wrapper.place(g);
                    if y + placed.row - skip >= height {
                        break 'line;
                    }
                    (placed.row, Some(placed.col), placed.width)
                } else {
                    // Past the right edge nothing more is drawn: a
                    // megabyte on one line costs only the columns shown.
                    if col >= tab.left + width {
                        continues = true;
                        break 'line;
                    }
                    let cells = grapheme::width(g, col, DEFAULT_TAB_WIDTH);
                    let x = (col >= tab.left && col + cells <= tab.left + width)
                        .then(|| col - tab.left);
                    col += cells;
                    (0, x, cells)
                };
                if row > last_row {
                    last_row = row;
                    // A wrapped line goes on: marked where its number would be.
                    continued(buf, row_y(row));
                }
                if let Some(x) = x {
                    if char_idx == cursor {
                        cursor_cell = Some((x0 + x, row_y(row)));
                    }
                    if cells > 0 && x0 + x < right {
                        let symbol = if g == "\t" {
                            " ".repeat(cells)
                        } else {
                            g.to_string()
                        };
                        let room = cells.min(right - x0 - x);
                        buf.set_stringn(
                            (x0 + x) as u16,
                            row_y(row) as u16,
                            symbol,
                            room,
                            style_at(matches, char_idx, style),
                        );
                    }
                }
                char_idx += chars;
            }
        }
        // The cell after the text: where a cursor at the line's end stands,
        // and a selected line ending shows.
        let (row, x) = if tab.wrap {
            wrapper.end()
        } else {
            (0, col.saturating_sub(tab.left))
        };
        let end_visible = !continues
            && row >= skip
            && y + row - skip < height
            && (tab.wrap || col >= tab.left)
            && x0 + x < right;
        if end_visible {
            if char_idx == cursor {
                cursor_cell = Some((x0 + x, row_y(row)));
            }
            if others.contains(&char_idx) {
                buf.set_stringn(
                    (x0 + x) as u16,
                    row_y(row) as u16,
                    " ",
                    1,
                    base.patch(other_style),
                );
            } else if selected.iter().any(|r| r.contains(&char_idx))
                && char_idx < tab.buffer.line_end_char(line_index).max(char_idx + 1)
            {
                buf.set_stringn((x0 + x) as u16, row_y(row) as u16, " ", 1, select_style);
            }
            if row > last_row {
                last_row = row;
                continued(buf, row_y(row));
            }
        }
        if !tab.wrap && right > x0 {
            // Text off the window's edges is marked, as vim's `listchars`
            // extends and precedes: a short line below a scrolled long one
            // does not look empty.
            if continues {
                buf.set_stringn((right - 1) as u16, row_y(0) as u16, "›", 1, more_style);
            }
            if tab.left > 0 && col > 0 {
                buf.set_stringn(x0 as u16, row_y(0) as u16, "‹", 1, more_style);
            }
        }
        y += last_row - skip + 1;
    }
    let (x, y) = cursor_cell.filter(|_| focused)?;
    Some((x as u16, y as u16))
}

/// Keeps the cursor's row in a soft-wrapped window of `height` rows:
/// `tab.top` and `tab.top_row` name the first row shown.
fn scroll_wrapped(tab: &mut Tab, height: usize, width: usize) {
    let height = height.max(1);
    let rows_of = |tab: &Tab, line: usize, cap: usize| {
        wrap::rows(&tab.buffer.line(line), width, DEFAULT_TAB_WIDTH, cap)
    };
    let cursor = tab.buffer.cursor();
    let line = tab.buffer.char_to_line(cursor);
    let (row, _) = wrap::position(
        &tab.buffer.line(line),
        cursor - tab.buffer.line_to_char(line),
        width,
        DEFAULT_TAB_WIDTH,
    );
    tab.top = tab.top.min(tab.buffer.len_lines().saturating_sub(1));
    // An edit may have shortened the top line.
    tab.top_row = tab
        .top_row
        .min(rows_of(tab, tab.top, tab.top_row + 1).saturating_sub(1));
    if line < tab.top || (line == tab.top && row < tab.top_row) {
        tab.top = line;
        tab.top_row = row;
        return;
    }
    // Rows from the top of the window down to the cursor's, counted no
    // further than the window.
    let mut below = row;
    for l in tab.top..line {
        let skip = if l == tab.top { tab.top_row } else { 0 };
        below += rows_of(tab, l, skip + height + 1).saturating_sub(skip);
        if below >= height {
            break;
        }
    }
    if line == tab.top {
        below -= tab.top_row;
    }
    if below < height {
        return;
    }
    // Off the bottom: the cursor's row becomes the last one.
    let mut above = height - 1;
    if row >= above {
        tab.top = line;
        tab.top_row = row - above;
        return;
    }
    above -= row;
    let mut l = line;
    while l > 0 {
        l -= 1;
        let rows = rows_of(tab, l, usize::MAX);
        if rows >= above {
            tab.top = l;
            tab.top_row = rows - above;
            return;
        }
        above -= rows;
    }
    tab.top = 0;
    tab.top_row = 0;
}

/// The character a click at (`column`, `row`) of the screen lands on, in
/// the editor drawn in `area` (the same layout the frame used).
pub(crate) fn click_target(
    tab: &Tab,
    area: ratatui::layout::Rect,
    banner: bool,
    column: u16,
    row: u16,
) -> Option<usize> {
    let areas = layout::editor(area, banner, tab.buffer.len_lines());
    if areas.body.height == 0 {
        return None;
    }
    let last = tab.buffer.len_lines().saturating_sub(1);
    let screen_row = usize::from(row.saturating_sub(areas.body.y));
    let col = usize::from(column.saturating_sub(areas.body.x + areas.gutter));
    if !tab.wrap {
        let line = (tab.top + screen_row).min(last);
        return Some(tab.buffer.display_col_to_char(line, col + tab.left));
    }
    let width = areas.text_width();
    let mut want = screen_row + tab.top_row;
    let mut line = tab.top.min(last);
    loop {
        let text = tab.buffer.line(line);
        let rows = wrap::rows(&text, width, DEFAULT_TAB_WIDTH, want + 1);
        if want < rows || line == last {
            let at = wrap::char_at(&text, want, col, width, DEFAULT_TAB_WIDTH);
            let end = tab.buffer.line_end_char(line);
            return Some((tab.buffer.line_to_char(line) + at).min(end));
        }
        want -= rows;
        line += 1;
    }
}
