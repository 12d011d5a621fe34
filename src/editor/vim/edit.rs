//! The text changes vim's commands are made of: whole lines and their
//! register text, case, indent, joins, replaced characters, opened lines,
//! the keys of insert mode and block inserts.

use std::ops::Range;

use super::exec::InsertKey;
use super::motion::Text;
use super::registers::{Register, Shape};
use super::{InsertAt, Operator};
use crate::editor::buffer::{Buffer, Selection};

/// The chars an operator works on.
#[derive(Debug, Clone)]
pub(super) struct Region {
    pub(super) range: Range<usize>,
    /// Whole lines `lines` (then `range` covers them with their breaks).
    pub(super) lines: Option<(usize, usize)>,
    /// Goes to `"1` rather than `"-` when deleted.
    pub(super) big: bool,
    /// Where the operator starts: the cursor goes there after `gu`, `yk`.
    pub(super) from: usize,
}

pub(super) fn ends_with_break(buf: &Buffer) -> bool {
    let len = buf.len_chars();
    len > 0 && buf.rope().char(len - 1) == '\n'
}

/// Whole lines `l1..=l2` with their breaks; the last line takes the break
/// before it instead, so no empty line is left.
pub(super) fn lines_region(text: &Text, l1: usize, l2: usize) -> Region {
    Region {
        from: text.start(l1),
        range: text.start(l1)..text.next_start(l2),
        lines: Some((l1, l2)),
        big: true,
    }
}

/// A charwise region; a delete over lines that leaves only blanks around
/// it takes the whole lines (vim's rule for `d`).
pub(super) fn charwise(text: &Text, op: Operator, range: Range<usize>, big: bool) -> Region {
    let (la, lb) = (text.line_of(range.start), text.line_of(range.end));
    if op == Operator::Delete && lb > la && range.start <= text.first_non_blank(la) {
        let after = text
            .buf
            .rope()
            .slice(range.end.min(text.end(lb))..text.end(lb));
        if after.chars().all(|c| c == ' ' || c == '\t') && range.end <= text.end(lb) {
            return lines_region(text, la, lb);
        }
    }
    Region {
        from: range.start,
        range,
        lines: None,
        big: big || la != lb,
    }
}

/// The register text of a region: whole lines end with a line break.
pub(super) fn register_of(buf: &Buffer, region: &Region) -> Register {
    let mut text = buf.rope().slice(region.range.clone()).to_string();
    if region.lines.is_some() {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Register {
            text: text.replace("\r\n", "\n"),
            shape: Shape::Lines,
        }
    } else {
        Register {
            text: text.replace("\r\n", "\n"),
            shape: Shape::Chars,
        }
    }
}

pub(super) fn delete_lines(buf: &mut Buffer, region: &Region) {
    let text = Text { buf };
    let Some((l1, l2)) = region.lines else {
        return;
    };
    let mut range = region.range.clone();
    // The last line of a file without a final line break: the break
    // before it goes, so no empty line is left.
    if l2 >= text.last_line() && l1 > 0 && !ends_with_break(buf) {
        range.start = text.end(l1 - 1);
    }
    buf.replace_range(range, "");
}

/// Inserts `text` at `at`, its line breaks as the file writes them.
pub(super) fn insert_text(buf: &mut Buffer, at: usize, text: &str) {
    let ending = buf.line_ending().as_str();
    let text = if ending == "\n" {
        text.to_string()
    } else {
        text.replace('\n', ending)
    };
    buf.replace_range(at..at, &text);
}

pub(super) fn set_cursor(buf: &mut Buffer, pos: usize) {
    buf.set_selection(Selection::point(pos.min(buf.len_chars())));
}

pub(super) fn map_chars(buf: &mut Buffer, range: Range<usize>, f: impl Fn(char) -> char) {
    let old = buf.rope().slice(range.clone()).to_string();
    let new: String = old
        .chars()
        .map(|c| if c == '\n' || c == '\r' { c } else { f(c) })
        .collect();
    if new != old {
        buf.replace_range(range, &new);
    }
}

pub(super) fn to_lower(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

pub(super) fn to_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

pub(super) fn toggle_case(c: char) -> char {
    if c.is_lowercase() {
        to_upper(c)
    } else if c.is_uppercase() {
        to_lower(c)
    } else {
        c
    }
}

/// `r`: `n` characters from the cursor become `c`; nothing when the line
/// has fewer.
pub(super) fn replace_chars(buf: &mut Buffer, c: char, n: usize) -> bool {
    let text = Text { buf };
    let cursor = buf.cursor();
    let end = text.end(text.line_of(cursor));
    let mut stop = cursor;
    for _ in 0..n {
        if stop >= end {
            return false;
        }
        stop = buf.next_grapheme(stop).min(end);
    }
    if c == '\n' {
        // A line break in their place, the new line indented like this one.
        let line = text.line_of(cursor);
        let indent = buf
            .rope()
            .slice(text.start(line)..text.first_non_blank(line).min(cursor))
            .to_string();
        let ending = buf.line_ending().as_str().to_string();
        // The text moved down loses its leading blanks (autoindent).
        let mut rest = stop;
        while matches!(text.char_at(rest), Some(' ' | '\t')) {
            rest += 1;
        }
        buf.replace_range(cursor..rest, &format!("{ending}{indent}"));
        let after = buf.cursor();
        set_cursor(buf, if indent.is_empty() { after } else { after - 1 });
        return true;
    }
    buf.replace_range(cursor..stop, &c.to_string().repeat(n));
    set_cursor(buf, cursor + n - 1);
    true
}

/// `J`: `count` lines from `first` joined with one space between; false
/// when there is no line to join.
pub(super) fn join(buf: &mut Buffer, first: usize, count: usize, visual: bool) -> bool {
    let text = Text { buf };
    let last = text.last_line();
    let mut count = count;
    if first + count - 1 > last {
        if count <= 2 && !visual {
            return false;
        }
        if first >= last {
            // Nothing to join: vim still puts the cursor at the line's start.
            set_cursor(buf, text.start(first));
            return false;
        }
        count = last - first + 1;
    }
    let mut cursor = text.end(first);
    for _ in 1..count {
        let text = Text { buf };
        let end = text.end(first);
        let next = first + 1;
        let next_text_start = text.first_non_blank(next);
        let next_end = text.end(next);
        let current_empty = end == text.start(first);
        let ends_white =
            end > text.start(first) && matches!(buf.rope().get_char(end - 1), Some(' ' | '\t'));
        let next_char = (next_text_start < next_end).then(|| buf.rope().char(next_text_start));
        let space = !current_empty && !ends_white && next_char.is_some_and(|c| c != ')');
        buf.replace_range(end..next_text_start, if space { " " } else { "" });
        cursor = end;
        if !space && next_char.is_none() && !current_empty {
            cursor = buf.prev_grapheme(end);
        }
    }
    set_cursor(buf, cursor);
    true
}

/// `>` and `<` on lines `l1..=l2`: one indent unit more or less; blank
/// lines are not indented.
pub(super) fn shift_lines(buf: &mut Buffer, l1: usize, l2: usize, right: bool) {
    let unit = buf.indent_unit().text();
    let width = if unit == "\t" {
        crate::editor::buffer::DEFAULT_TAB_WIDTH
    } else {
        unit.len()
    };
    for line in (l1..=l2).rev() {
        let text = Text { buf };
        let (start, end) = (text.start(line), text.end(line));
        if start == end {
            continue;
        }
        let first = text.first_non_blank(line);
        let indent = text.col(first);
        let new = if right {
            indent + width
        } else {
            indent.saturating_sub(width)
        };
        let fill = if unit == "\t" {
            format!("{}{}", "\t".repeat(new / width), " ".repeat(new % width))
        } else {
            " ".repeat(new)
        };
        buf.replace_range(start..first, &fill);
    }
}

/// The block's top-left corner: column `col` of line `line`.
pub(super) fn text_start_of_block(buf: &Buffer, line: usize, col: usize) -> usize {
    Text { buf }.at_col(line, col, false)
}

/// `>` and `<` on a block: white space added or taken at `at`.
pub(super) fn shift_at(buf: &mut Buffer, at: usize, right: bool) {
    let text = Text { buf };
    let end = text.end(text.line_of(at));
    if at >= end {
        return;
    }
    let unit = buf.indent_unit().text();
    if right {
        buf.replace_range(at..at, &unit);
        return;
    }
    let mut stop = at;
    while stop < end && stop - at < unit.len() && matches!(text.char_at(stop), Some(' ' | '\t')) {
        stop += 1;
    }
    buf.replace_range(at..stop, "");
}

/// Enters insert mode where `at` says, opening a line for `o` and `O`.
pub(super) fn begin_insert(buf: &mut Buffer, at: InsertAt) {
    let text = Text { buf };
    let cursor = buf.cursor();
    let line = text.line_of(cursor);
    match at {
        InsertAt::Before => {}
        InsertAt::After => {
            if text.char_at(cursor).is_some() {
                set_cursor(buf, buf.next_grapheme(cursor));
            }
        }
        InsertAt::LineStart => set_cursor(buf, text.first_non_blank(line)),
        InsertAt::LineEnd => set_cursor(buf, text.end(line)),
        InsertAt::LineBelow => open_line(buf, true),
        InsertAt::LineAbove => open_line(buf, false),
    }
}

/// A new line below or above the cursor's, with its indent.
pub(super) fn open_line(buf: &mut Buffer, below: bool) {
    let text = Text { buf };
    let line = text.line_of(buf.cursor());
    let indent = buf
        .rope()
        .slice(text.start(line)..text.first_non_blank(line))
        .to_string();
    let ending = buf.line_ending().as_str().to_string();
    if below {
        let at = text.end(line);
        buf.replace_range(at..at, &format!("{ending}{indent}"));
    } else {
        let at = text.start(line);
        buf.replace_range(at..at, &format!("{indent}{ending}"));
        set_cursor(buf, at + indent.chars().count());
    }
}

pub(super) fn apply_insert_key(buf: &mut Buffer, key: &InsertKey) {
    match key {
        InsertKey::Text(text) => buf.insert(text),
        InsertKey::Newline => buf.insert_newline(),
        InsertKey::Backspace => buf.delete_backward(),
        InsertKey::Delete => buf.delete_forward(),
        InsertKey::Tab => buf.insert_tab(),
    }
}

/// The chars of line `l` between display columns `c1` and `c2`.
pub(super) fn block_piece(text: &Text, l: usize, c1: usize, c2: usize) -> Range<usize> {
    let start = text.at_col(l, c1, true);
    let end = if c2 == usize::MAX {
        text.end(l)
    } else {
        text.at_col(l, c2.saturating_add(1), true)
    };
    start..end.max(start)
}

/// After a block insert: the typed text on each of `lines` at `col`.
pub(super) fn block_copy(
    buf: &mut Buffer,
    typed: &[InsertKey],
    lines: Range<usize>,
    col: usize,
    append: bool,
) {
    let mut inserted = String::new();
    for key in typed {
        match key {
            InsertKey::Text(t) => inserted.push_str(t),
            InsertKey::Backspace => {
                inserted.pop();
            }
            // A line break typed in a block insert is not copied (vim).
            _ => return,
        }
    }
    if inserted.is_empty() {
        return;
    }
    for line in lines.rev() {
        let text = Text { buf };
        if line > text.last_line() {
            continue;
        }
        let end = text.end(line);
        let have = text.col(end);
        if col == usize::MAX {
            insert_text(buf, end, &inserted);
        } else if have >= col {
            let at = text.at_col(line, col, true);
            insert_text(buf, at, &inserted);
        } else if append {
            // Appending pads a short line to the block's column.
            insert_text(buf, end, &format!("{}{inserted}", " ".repeat(col - have)));
        }
    }
}

/// How much the keys of an insertion type, in bytes (a key of its own
/// counts one).
pub(super) fn typed_len(typed: &[InsertKey]) -> usize {
    typed
        .iter()
        .map(|k| match k {
            InsertKey::Text(t) => t.len(),
            _ => 1,
        })
        .sum()
}
