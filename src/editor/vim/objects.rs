//! Text objects: the range `iw aw i" a" i( a( it at` and the others take
//! around the cursor, as vim's `current_word`, `current_quote`,
//! `current_block` and `current_tagblock` compute them.

use std::ops::Range;

use super::Object;
use super::motion::{Stepped, Text};

/// Whether an operator takes `range` of `object` as whole lines: the inside
/// of a block that starts and ends with its lines (`i{` of a body).
pub(super) fn linewise(text: &Text, object: Object, range: &Range<usize>) -> bool {
    matches!(object, Object::Pair { around: false, .. })
        && range.end > range.start
        && range.start == text.start(text.line_of(range.start))
        && range.end == text.start(text.line_of(range.end))
        && text.line_of(range.end) > text.line_of(range.start)
}

/// The chars an object covers around `cursor`.
pub(super) fn select(
    text: &Text,
    cursor: usize,
    object: Object,
    count: usize,
) -> Option<Range<usize>> {
    match object {
        Object::Word { big, around } => word(text, cursor, count, big, around),
        Object::Quote { quote, around } => quoted(text, cursor, quote, around),
        Object::Pair {
            open,
            close,
            around,
        } => block(text, cursor, open, close, around, count),
        Object::Tag { around } => tag(text, cursor, around, count),
    }
}

fn cls(text: &Text, pos: usize, big: bool) -> u8 {
    match text.char_at(pos) {
        None => 0,
        Some(c) if c.is_whitespace() => 0,
        Some(_) if big => 1,
        Some(c) if super::motion::is_word_char(c) => 2,
        Some(_) => 1,
    }
}

/// Back to the start of the run of the cursor's class on its line.
fn back_in_line(text: &Text, pos: &mut usize, big: bool) {
    let class = cls(text, *pos, big);
    let start = text.start(text.line_of(*pos));
    while *pos > start {
        let before = text.buf.prev_grapheme(*pos).max(start);
        if cls(text, before, big) != class {
            break;
        }
        *pos = before;
    }
}

/// One char left within the line; false at its start.
fn one_left(text: &Text, pos: &mut usize) -> bool {
    let start = text.start(text.line_of(*pos));
    if *pos <= start {
        return false;
    }
    *pos = text.buf.prev_grapheme(*pos).max(start);
    true
}

/// vim's `decl`: back one char, over a line break onto the last char.
fn decl(text: &Text, pos: &mut usize) -> Stepped {
    let step = text.dec(pos);
    if step == Stepped::Line && *pos > text.start(text.line_of(*pos)) {
        text.dec(pos);
    }
    step
}

/// vim's `incl`: on one char, over a line's end onto the next line.
fn incl(text: &Text, pos: &mut usize) -> Stepped {
    let step = text.inc(pos);
    if matches!(step, Stepped::LineEnd | Stepped::Line) && *pos > text.start(text.line_of(*pos)) {
        return text.inc(pos);
    }
    step
}

fn word(text: &Text, cursor: usize, count: usize, big: bool, around: bool) -> Option<Range<usize>> {
    let mut pos = cursor;
    back_in_line(text, &mut pos, big);
    let mut start = pos;
    let mut include_white = false;
    let mut inclusive = true;
    if (cls(text, pos, big) == 0) == around {
        if !text.word_end(&mut pos, 1, big, true, true) {
            return None;
        }
    } else {
        text.word_forward(&mut pos, 1, big, true);
        if pos == text.start(text.line_of(pos)) {
            decl(text, &mut pos);
        } else {
            one_left(text, &mut pos);
        }
        include_white = around;
    }
    for _ in 1..count {
        inclusive = true;
        if incl(text, &mut pos) == Stepped::Edge {
            return None;
        }
        if around != (cls(text, pos, big) == 0) {
            text.word_forward(&mut pos, 1, big, true);
            if !one_left(text, &mut pos) {
                inclusive = false;
            }
        } else if !text.word_end(&mut pos, 1, big, true, true) {
            return None;
        }
    }
    let at_line_start = pos == text.start(text.line_of(pos));
    if include_white && (cls(text, pos, big) != 0 || (at_line_start && !inclusive)) {
        // No white space after the word: take the white space before it,
        // but not a line's indent.
        let mut before = start;
        if one_left(text, &mut before) {
            back_in_line(text, &mut before, big);
            if cls(text, before, big) == 0 && before > text.start(text.line_of(before)) {
                start = before;
            }
        }
    }
    let end = if inclusive && text.char_at(pos).is_some() {
        text.buf.next_grapheme(pos)
    } else {
        pos
    };
    Some(start..end.max(start))
}

/// The position just past the char at `pos` (past its line break when
/// `pos` is a line's end).
fn past(text: &Text, pos: usize) -> usize {
    if text.char_at(pos).is_some() {
        text.buf.next_grapheme(pos)
    } else {
        text.next_start(text.line_of(pos)).max(pos)
    }
}

/// The quote chars of the cursor's line, skipping escaped ones.
fn quotes(text: &Text, line: usize, quote: char) -> Vec<usize> {
    let (start, end) = (text.start(line), text.end(line));
    let mut found = Vec::new();
    let mut escaped = false;
    for (i, c) in text.buf.rope().slice(start..end).chars().enumerate() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            found.push(start + i);
        }
    }
    found
}

fn quoted(text: &Text, cursor: usize, quote: char, around: bool) -> Option<Range<usize>> {
    let line = text.line_of(cursor);
    let marks = quotes(text, line, quote);
    let (open, close) = if text.char_at(cursor) == Some(quote) {
        // On a quote: pair the quotes from the line's start to see which.
        marks
            .chunks(2)
            .filter_map(|pair| match pair {
                [a, b] => Some((*a, *b)),
                _ => None,
            })
            .find(|(a, b)| *a <= cursor && cursor <= *b)?
    } else {
        match marks.iter().rev().find(|&&q| q < cursor) {
            Some(&open) => (open, *marks.iter().find(|&&q| q > cursor)?),
            None => {
                let mut after = marks.iter().filter(|&&q| q > cursor);
                (*after.next()?, *after.next()?)
            }
        }
    };
    if !around {
        return Some(open + 1..close);
    }
    let (line_start, line_end) = (text.start(line), text.end(line));
    let white = |p: usize| text.char_at(p).is_some_and(|c| c == ' ' || c == '\t');
    let (mut start, mut end) = (open, close + 1);
    if end < line_end && white(end) {
        while end < line_end && white(end) {
            end += 1;
        }
    } else {
        while start > line_start && white(start - 1) {
            start -= 1;
        }
    }
    Some(start..end)
}

/// The unclosed `open` before `pos` (the one at `pos` excluded).
fn unclosed(text: &Text, pos: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    let mut chars = text.buf.rope().chars_at(pos);
    let mut at = pos;
    while let Some(c) = chars.prev() {
        at -= 1;
        if c == close {
            depth += 1;
        } else if c == open {
            if depth == 0 {
                return Some(at);
            }
            depth -= 1;
        }
    }
    None
}

fn block(
    text: &Text,
    cursor: usize,
    open: char,
    close: char,
    around: bool,
    count: usize,
) -> Option<Range<usize>> {
    let mut pos = cursor;
    if open == '{' {
        // Indent before a `{` does not count.
        while in_indent(text, pos) {
            if text.inc(&mut pos) != Stepped::Char {
                break;
            }
        }
    }
    if text.char_at(pos) == Some(open) {
        pos += 1;
    }
    let mut start = pos;
    for _ in 0..count.max(1) {
        match unclosed(text, start, open, close) {
            Some(found) => start = found,
            // Outside any pair: the next one on the line (vim 9).
            None if count <= 1 => start = next_on_line(text, cursor, open)?,
            None => return None,
        }
    }
    let end = text.partner(start)?;
    if around {
        return Some(start..end + 1);
    }
    incl(text, &mut start);
    let mut end = end;
    let mut sol = end == text.start(text.line_of(end));
    decl(text, &mut end);
    while in_indent(text, end) {
        sol = true;
        if decl(text, &mut end) != Stepped::Char {
            break;
        }
    }
    if sol {
        incl(text, &mut end);
        Some(start..end.max(start))
    } else if start <= end {
        Some(start..past(text, end))
    } else {
        Some(start..start)
    }
}

/// The first `c` after `from` on its line.
fn next_on_line(text: &Text, from: usize, c: char) -> Option<usize> {
    let end = text.end(text.line_of(from));
    let mut pos = from;
    while pos < end {
        if text.char_at(pos) == Some(c) {
            return Some(pos);
        }
        pos = text.buf.next_grapheme(pos);
    }
    None
}

/// Whether `pos` is on white space before a line's first non-blank.
fn in_indent(text: &Text, pos: usize) -> bool {
    let line = text.line_of(pos);
    let first = text.first_non_blank(line);
    pos < first && pos < text.end(line)
}

/// A tag of an element: `<name ...>` or `</name>` at chars `range`.
struct Tag {
    name: String,
    closing: bool,
    range: Range<usize>,
}

fn tags(text: &Text) -> Vec<Tag> {
    let rope = text.buf.rope();
    let mut out = Vec::new();
    let mut chars = rope.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '<' {
            continue;
        }
        let mut body = String::new();
        let mut end = None;
        for (j, c) in chars.by_ref() {
            if c == '>' {
                end = Some(j + 1);
                break;
            }
            if c == '<' {
                break;
            }
            body.push(c);
        }
        let Some(end) = end else { continue };
        if body.ends_with('/') {
            continue;
        }
        let closing = body.starts_with('/');
        let name: String = body
            .trim_start_matches('/')
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        if name.is_empty() {
            continue;
        }
        out.push(Tag {
            name,
            closing,
            range: i..end,
        });
    }
    out
}

fn tag(text: &Text, cursor: usize, around: bool, count: usize) -> Option<Range<usize>> {
    let mut open: Vec<&Tag> = Vec::new();
    let mut elements: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    let all = tags(text);
    for tag in &all {
        if !tag.closing {
            open.push(tag);
        } else if let Some(at) = open.iter().rposition(|t| t.name == tag.name) {
            let start = open[at];
            open.truncate(at);
            elements.push((start.range.clone(), tag.range.clone()));
        }
    }
    // Innermost first: the enclosing elements ordered by their size.
    let mut around_cursor: Vec<_> = elements
        .into_iter()
        .filter(|(o, c)| o.start <= cursor && cursor < c.end)
        .collect();
    around_cursor.sort_by_key(|(o, c)| c.end - o.start);
    let (o, c) = around_cursor.get(count.max(1) - 1)?;
    Some(if around {
        o.start..c.end
    } else {
        o.end..c.start
    })
}
