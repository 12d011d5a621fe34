//! Where vim's motions go: positions are char indices of the buffer, lines
//! are vim's (text ending in a line break has no empty line after it), and
//! the char index of a line's break is the "end of line" vim's cursor
//! reaches only while an operator is pending.

use regex::Regex;

use super::{Find, Motion, WindowRow};
use crate::editor::buffer::Buffer;

/// How an operator takes the text between the cursor and a motion's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Up to the end, without it (`w`, `b`, `h`).
    Exclusive,
    /// Up to the end, with it (`e`, `$`, `f`).
    Inclusive,
    /// Whole lines (`j`, `G`).
    Linewise,
}

/// Where a motion ended, and how an operator takes the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Moved {
    pub pos: usize,
    pub kind: Kind,
}

/// Vim's view of a buffer's lines and characters.
pub(super) struct Text<'a> {
    pub buf: &'a Buffer,
}

/// What a step from one position to the next crossed (vim's `inc`/`dec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stepped {
    /// Within the line.
    Char,
    /// Onto the end of the line.
    LineEnd,
    /// Onto another line.
    Line,
    /// Nowhere to go: the position did not change.
    Edge,
}

/// The class of a character for word motions: blanks, punctuation, word
/// characters; CJK ideographs and kana form words of their own.
fn class(c: Option<char>, big: bool) -> u8 {
    match c {
        None => 0,
        Some(c) if c.is_whitespace() => 0,
        Some(_) if big => 1,
        Some(c) if is_cjk(c) => 3,
        Some(c) if c.is_alphanumeric() || c == '_' => 2,
        Some(_) => 1,
    }
}

fn is_cjk(c: char) -> bool {
    matches!(u32::from(c), 0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xac00..=0xd7af)
}

/// A keyword character, as `*` and `iw` see it.
pub(super) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Text<'_> {
    /// Lines as vim counts them: never 0.
    pub fn lines(&self) -> usize {
        let len = self.buf.len_chars();
        let lines = self.buf.len_lines();
        if len > 0 && self.buf.rope().char(len - 1) == '\n' {
            lines.saturating_sub(1).max(1)
        } else {
            lines
        }
    }

    pub fn last_line(&self) -> usize {
        self.lines() - 1
    }

    pub fn line_of(&self, pos: usize) -> usize {
        self.buf.char_to_line(pos).min(self.last_line())
    }

    pub fn start(&self, line: usize) -> usize {
        self.buf.line_to_char(line.min(self.last_line()))
    }

    /// The end of `line`'s text: its line break, or the end of the text.
    pub fn end(&self, line: usize) -> usize {
        self.buf.line_end_char(line.min(self.last_line()))
    }

    /// Where the next line starts, past `line`'s break (the end of the
    /// text for the last line).
    pub fn next_start(&self, line: usize) -> usize {
        if line >= self.last_line() {
            self.buf.len_chars()
        } else {
            self.start(line + 1)
        }
    }

    pub fn is_empty_line(&self, line: usize) -> bool {
        self.start(line) == self.end(line)
    }

    /// The character at `pos`; `None` at the end of a line.
    pub fn char_at(&self, pos: usize) -> Option<char> {
        if pos >= self.end(self.line_of(pos)) {
            None
        } else {
            self.buf.rope().get_char(pos)
        }
    }

    /// The last character of `line` (its start when empty): where the
    /// normal-mode cursor stops.
    pub fn last_char(&self, line: usize) -> usize {
        let (start, end) = (self.start(line), self.end(line));
        if end > start {
            self.buf.prev_grapheme(end).max(start)
        } else {
            start
        }
    }

    pub fn first_non_blank(&self, line: usize) -> usize {
        self.buf.first_non_blank(line.min(self.last_line()))
    }

    pub fn col(&self, pos: usize) -> usize {
        self.buf.display_col(pos)
    }

    /// The char at display column `col` of `line`, as far as the line goes
    /// (its end when `to_end`, else its last character).
    pub fn at_col(&self, line: usize, col: usize, to_end: bool) -> usize {
        let pos = self
            .buf
            .display_col_to_char(line.min(self.last_line()), col);
        if to_end {
            pos
        } else {
            pos.min(self.last_char(line))
        }
    }

    /// vim's `inc`: one character on, onto the end of the line, then onto
    /// the next line.
    pub fn inc(&self, pos: &mut usize) -> Stepped {
        let line = self.line_of(*pos);
        let end = self.end(line);
        if *pos < end {
            *pos = self.buf.next_grapheme(*pos).min(end);
            if *pos == end {
                Stepped::LineEnd
            } else {
                Stepped::Char
            }
        } else if line < self.last_line() {
            *pos = self.start(line + 1);
            Stepped::Line
        } else {
            Stepped::Edge
        }
    }

    /// vim's `dec`: one character back; from a line's start onto the end
    /// of the line before.
    pub fn dec(&self, pos: &mut usize) -> Stepped {
        let line = self.line_of(*pos);
        let start = self.start(line);
        if *pos > start {
            *pos = self.buf.prev_grapheme(*pos).max(start);
            Stepped::Char
        } else if line > 0 {
            *pos = self.end(line - 1);
            Stepped::Line
        } else {
            Stepped::Edge
        }
    }

    fn cls(&self, pos: usize, big: bool) -> u8 {
        class(self.char_at(pos), big)
    }

    fn at_empty_line(&self, pos: usize) -> bool {
        let line = self.line_of(pos);
        pos == self.start(line) && self.is_empty_line(line)
    }

    /// vim's `fwd_word`; `eol` (an operator is pending) stops the last
    /// word at the end of its line. `false` when the text ended first.
    pub fn word_forward(&self, pos: &mut usize, count: usize, big: bool, eol: bool) -> bool {
        for left in (0..count).rev() {
            let last = left == 0;
            let start_class = self.cls(*pos, big);
            let on_last_line = self.line_of(*pos) == self.last_line();
            let step = self.inc(pos);
            if step == Stepped::Edge || (step != Stepped::Char && on_last_line) {
                return false;
            }
            if step != Stepped::Char && eol && last {
                return true;
            }
            if start_class != 0 {
                while self.cls(*pos, big) == start_class {
                    let step = self.inc(pos);
                    if step == Stepped::Edge || (step != Stepped::Char && eol && last) {
                        return true;
                    }
                }
            }
            while self.cls(*pos, big) == 0 {
                if self.at_empty_line(*pos) {
                    break;
                }
                let step = self.inc(pos);
                if step == Stepped::Edge || (step != Stepped::Char && eol && last) {
                    return true;
                }
            }
        }
        true
    }

    /// Moves while the class stays `class`; true when the text ended.
    fn skip(&self, pos: &mut usize, class: u8, big: bool, forward: bool) -> bool {
        while self.cls(*pos, big) == class {
            let step = if forward {
                self.inc(pos)
            } else {
                self.dec(pos)
            };
            if step == Stepped::Edge {
                return true;
            }
        }
        false
    }

    /// vim's `bck_word`; `stop` keeps a cursor inside a word at its start.
    pub fn word_backward(&self, pos: &mut usize, count: usize, big: bool, stop: bool) -> bool {
        let mut stop = stop;
        for _ in 0..count {
            let start_class = self.cls(*pos, big);
            if self.dec(pos) == Stepped::Edge {
                return false;
            }
            let mut finished = false;
            if !stop || start_class == self.cls(*pos, big) || start_class == 0 {
                while self.cls(*pos, big) == 0 {
                    if self.at_empty_line(*pos) {
                        finished = true;
                        break;
                    }
                    if self.dec(pos) == Stepped::Edge {
                        return true;
                    }
                }
                if !finished {
                    let class = self.cls(*pos, big);
                    if self.skip(pos, class, big, false) {
                        return true;
                    }
                }
            }
            if !finished {
                self.inc(pos);
            }
            stop = false;
        }
        true
    }

    /// vim's `end_word`; `stop` leaves a cursor at a word's end there;
    /// `empty` stops at an empty line.
    pub fn word_end(
        &self,
        pos: &mut usize,
        count: usize,
        big: bool,
        stop: bool,
        empty: bool,
    ) -> bool {
        let mut stop = stop;
        'words: for _ in 0..count {
            let start_class = self.cls(*pos, big);
            if self.inc(pos) == Stepped::Edge {
                return false;
            }
            if self.cls(*pos, big) == start_class && start_class != 0 {
                if self.skip(pos, start_class, big, true) {
                    return false;
                }
            } else if !stop || start_class == 0 {
                while self.cls(*pos, big) == 0 {
                    if empty && self.at_empty_line(*pos) {
                        stop = false;
                        continue 'words;
                    }
                    if self.inc(pos) == Stepped::Edge {
                        return false;
                    }
                }
                let class = self.cls(*pos, big);
                if self.skip(pos, class, big, true) {
                    return false;
                }
            }
            self.dec(pos);
            stop = false;
        }
        true
    }

    /// `f` `F` `t` `T`: the `count`th `c` on the line; `repeat` when `;`
    /// or `,` repeats a `t`/`T`, which then skips the adjacent character.
    pub fn find(
        &self,
        from: usize,
        count: usize,
        find: Find,
        c: char,
        repeat: bool,
    ) -> Option<usize> {
        let line = self.line_of(from);
        let (start, end) = (self.start(line), self.end(line));
        let forward = matches!(find, Find::Forward | Find::TillForward);
        let till = matches!(find, Find::TillForward | Find::TillBackward);
        let mut stop = !(repeat && till && count == 1);
        let mut pos = from;
        for _ in 0..count {
            loop {
                if forward {
                    pos = self.buf.next_grapheme(pos);
                    if pos >= end {
                        return None;
                    }
                } else {
                    if pos <= start {
                        return None;
                    }
                    pos = self.buf.prev_grapheme(pos).max(start);
                }
                if self.char_at(pos) == Some(c) && stop {
                    break;
                }
                stop = true;
            }
        }
        if till {
            pos = if forward {
                self.buf.prev_grapheme(pos)
            } else {
                self.buf.next_grapheme(pos)
            };
        }
        Some(pos)
    }

    /// `%`: the partner of the first bracket at or after the cursor on its
    /// line.
    pub fn match_pair(&self, from: usize) -> Option<usize> {
        let line = self.line_of(from);
        let end = self.end(line);
        let mut pos = from;
        while pos < end {
            if let Some(c) = self.char_at(pos)
                && "(){}[]".contains(c)
            {
                return self.partner(pos);
            }
            pos = self.buf.next_grapheme(pos);
        }
        None
    }

    /// The bracket matching the one at `pos`.
    pub fn partner(&self, pos: usize) -> Option<usize> {
        self.buf.matching_bracket(pos)
    }

    /// `}` and `{`: the next empty line; the text's end or start when none.
    pub fn paragraph(&self, from: usize, count: usize, forward: bool) -> Option<Moved> {
        let mut line = self.line_of(from);
        let last = self.last_line();
        for left in (0..count).rev() {
            let mut skipped = false;
            let mut first = true;
            loop {
                if !self.is_empty_line(line) {
                    skipped = true;
                }
                if !first && skipped && self.is_empty_line(line) {
                    break;
                }
                first = false;
                let next = if forward {
                    (line < last).then_some(line + 1)
                } else {
                    line.checked_sub(1)
                };
                match next {
                    Some(next) => line = next,
                    None if left > 0 => return None,
                    None => break,
                }
            }
        }
        if forward && line == last && !self.is_empty_line(line) {
            return Some(Moved {
                pos: self.last_char(line),
                kind: Kind::Inclusive,
            });
        }
        Some(Moved {
            pos: self.start(line),
            kind: Kind::Exclusive,
        })
    }
}

/// The window a pane shows, for `H`, `M`, `L` and scrolling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub top: usize,
    pub height: usize,
}

/// What a motion needs besides the text: the cursor's wanted column,
/// the last `f`, the search, marks, the window.
pub(super) struct Context<'a> {
    pub curswant: Option<usize>,
    pub last_find: Option<(Find, char)>,
    pub search: Option<&'a Regex>,
    /// The search went up the text: `n` goes up, `N` down.
    pub search_backward: bool,
    pub marks: &'a super::Marks,
    pub window: Window,
    /// An operator is pending (`w` then stops at the end of a line).
    pub operator: bool,
}

/// Where `motion` done `count` times (`None`: once, as typed) takes the
/// cursor from `from`; `None` when it cannot move (vim beeps).
pub(super) fn apply(
    text: &Text,
    from: usize,
    motion: Motion,
    count: Option<usize>,
    cx: &Context,
) -> Option<Moved> {
    let n = count.unwrap_or(1).max(1);
    let line = text.line_of(from);
    let last = text.last_line();
    let exclusive = |pos| {
        Some(Moved {
            pos,
            kind: Kind::Exclusive,
        })
    };
    let inclusive = |pos| {
        Some(Moved {
            pos,
            kind: Kind::Inclusive,
        })
    };
    let linewise = |pos| {
        Some(Moved {
            pos,
            kind: Kind::Linewise,
        })
    };
    let vertical = |target: usize| {
        let col = cx.curswant.unwrap_or_else(|| text.col(from));
        let pos = if col == usize::MAX {
            text.last_char(target)
        } else {
            text.at_col(target, col, false)
        };
        linewise(pos)
    };
    match motion {
        Motion::Left => {
            let start = text.start(line);
            if from <= start {
                return None;
            }
            let mut pos = from;
            for _ in 0..n {
                if pos <= start {
                    break;
                }
                pos = text.buf.prev_grapheme(pos).max(start);
            }
            exclusive(pos)
        }
        Motion::Right => {
            let end = text.end(line);
            let last_char = text.last_char(line);
            if from >= last_char && !cx.operator {
                return None;
            }
            let mut pos = from;
            let mut kind = Kind::Exclusive;
            for _ in 0..n {
                if pos >= last_char {
                    if cx.operator && end > text.start(line) {
                        kind = Kind::Inclusive;
                    }
                    break;
                }
                pos = text.buf.next_grapheme(pos).min(end);
            }
            Some(Moved { pos, kind })
        }
        Motion::Down => (line < last).then(|| vertical((line + n).min(last)))?,
        Motion::Up => (line > 0).then(|| vertical(line.saturating_sub(n)))?,
        Motion::WordForward { big } => {
            let mut pos = from;
            let ok = text.word_forward(&mut pos, n, big, cx.operator);
            if !ok && !cx.operator {
                // vim beeps but keeps the move, off the end of the line.
                return (pos != from)
                    .then(|| exclusive(pos.min(text.last_char(text.line_of(pos)))))?;
            }
            let mut kind = Kind::Exclusive;
            // Never left on the end of a line past the last character.
            if pos > from && text.char_at(pos).is_none() && pos > text.start(text.line_of(pos)) {
                pos = text.buf.prev_grapheme(pos);
                kind = Kind::Inclusive;
            }
            Some(Moved { pos, kind })
        }
        Motion::WordBackward { big } => {
            let mut pos = from;
            // At the text's start vim stops there, unless an operator waits.
            if !text.word_backward(&mut pos, n, big, false) && (cx.operator || pos == from) {
                return None;
            }
            exclusive(pos)
        }
        Motion::WordEnd { big } => {
            let mut pos = from;
            let ok = text.word_end(&mut pos, n, big, false, false);
            if text.char_at(pos).is_none() && pos > text.start(text.line_of(pos)) {
                pos = text.buf.prev_grapheme(pos);
            }
            if !ok && !cx.operator && pos == from {
                return None;
            }
            inclusive(pos)
        }
        Motion::LineStart => exclusive(text.start(line)),
        Motion::FirstNonBlank => exclusive(text.first_non_blank(line)),
        Motion::LineEnd => {
            let target = (line + n - 1).min(last);
            if line + n - 1 > last {
                return None;
            }
            let end = text.end(target);
            let pos = if cx.operator {
                end
            } else {
                text.last_char(target)
            };
            Some(Moved {
                pos: if cx.operator && end > text.start(target) {
                    text.buf.prev_grapheme(end)
                } else {
                    pos
                },
                kind: Kind::Inclusive,
            })
        }
        Motion::FirstLine => {
            let target = count.map_or(0, |c| c - 1).min(last);
            linewise(text.first_non_blank(target))
        }
        Motion::LastLine => {
            let target = count.map_or(last, |c| c - 1).min(last);
            linewise(text.first_non_blank(target))
        }
        Motion::Find(find, c) => {
            let pos = text.find(from, n, find, c, false)?;
            find_kind(find, pos)
        }
        Motion::RepeatFind { reverse } => {
            let (find, c) = cx.last_find?;
            let find = if reverse { find.reversed() } else { find };
            let pos = text.find(from, n, find, c, true)?;
            find_kind(find, pos)
        }
        Motion::MatchPair => {
            if let Some(percent) = count {
                if percent > 100 {
                    return None;
                }
                let target = (percent * text.lines()).div_ceil(100).max(1) - 1;
                return linewise(text.first_non_blank(target));
            }
            inclusive(text.match_pair(from)?)
        }
        Motion::Paragraph { forward } => text.paragraph(from, n, forward),
        Motion::Window(row) => {
            let top = cx.window.top.min(last);
            let bottom = (top + cx.window.height.max(1) - 1).min(last);
            let target = match row {
                WindowRow::Top => (top + n - 1).min(bottom),
                WindowRow::Bottom => bottom.saturating_sub(n - 1).max(top),
                WindowRow::Middle => top + (bottom - top) / 2,
            };
            linewise(text.first_non_blank(target))
        }
        Motion::SearchNext { reverse } => {
            let re = cx.search?;
            search(text, from, re, reverse == cx.search_backward, n)
        }
        Motion::SearchWord { forward } => {
            let re = word_pattern(text, from)?;
            // From the word's start, so `#` skips the word itself.
            let (start, _) = word_under(text, from)?;
            search(text, start, &re, forward, n)
        }
        Motion::Mark { name, exact } => {
            let (mark_line, mark_col) = cx.marks.get(name)?;
            if mark_line > last {
                return None;
            }
            if exact {
                let start = text.start(mark_line);
                exclusive((start + mark_col).min(text.end(mark_line)))
            } else {
                linewise(text.first_non_blank(mark_line))
            }
        }
    }
}

fn find_kind(find: Find, pos: usize) -> Option<Moved> {
    let kind = match find {
        Find::Forward | Find::TillForward => Kind::Inclusive,
        Find::Backward | Find::TillBackward => Kind::Exclusive,
    };
    Some(Moved { pos, kind })
}

/// The `count`th match of `re` after (or before) `from`, wrapping around.
fn search(text: &Text, from: usize, re: &Regex, forward: bool, count: usize) -> Option<Moved> {
    let mut pos = from;
    for _ in 0..count {
        let found = if forward {
            let next = text.buf.next_grapheme(pos);
            let next = if next >= text.buf.len_chars() {
                0
            } else {
                next
            };
            text.buf.find_next(re, next)?
        } else {
            text.buf.find_prev(re, pos)?
        };
        pos = found.start;
    }
    Some(Moved {
        pos,
        kind: Kind::Exclusive,
    })
}

/// The pattern `*` and `#` search for: the keyword under or after the
/// cursor on its line, as a whole word.
pub(super) fn word_pattern(text: &Text, from: usize) -> Option<Regex> {
    let (start, end) = word_under(text, from)?;
    let word = text.buf.rope().slice(start..end).to_string();
    let first = word.chars().next().is_some_and(is_word_char);
    let last = word.chars().last().is_some_and(is_word_char);
    let pattern = format!(
        "{}{}{}",
        if first { r"\b" } else { "" },
        regex::escape(&word),
        if last { r"\b" } else { "" }
    );
    Regex::new(&pattern).ok()
}

/// The keyword at or after `from` on its line (a run of other non-blanks
/// when the line has no keyword there).
pub(super) fn word_under(text: &Text, from: usize) -> Option<(usize, usize)> {
    let line = text.line_of(from);
    let end = text.end(line);
    let mut start = from;
    let keyword = |p: usize| text.char_at(p).is_some_and(is_word_char);
    while start < end && !keyword(start) {
        start = text.buf.next_grapheme(start);
    }
    let test: &dyn Fn(usize) -> bool = if start >= end {
        start = from;
        while start < end && text.char_at(start).is_some_and(char::is_whitespace) {
            start = text.buf.next_grapheme(start);
        }
        if start >= end {
            return None;
        }
        &|p: usize| {
            text.char_at(p)
                .is_some_and(|c| !c.is_whitespace() && !is_word_char(c))
        }
    } else {
        &keyword
    };
    let line_start = text.start(line);
    while start > line_start && test(text.buf.prev_grapheme(start)) {
        start = text.buf.prev_grapheme(start);
    }
    let mut stop = start;
    while stop < end && test(stop) {
        stop = text.buf.next_grapheme(stop);
    }
    Some((start, stop))
}
