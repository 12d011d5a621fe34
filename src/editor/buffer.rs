//! The text of one open file and the single selection editing it: moves,
//! edits, undo, search and the positions the view needs to draw.
//!
//! The text lives in a rope and positions are char indices into it. What
//! `text()` returns is what a save writes: line endings, tabs and a missing
//! final newline stay as the file had them, and only what the user types
//! uses the file's conventions (its line ending, its indent). Every method
//! clamps what it is given, so no input makes it panic. Keys, rendering and
//! files on disk belong to the editor pane and the store; this module knows
//! nothing of the terminal.

use std::borrow::Cow;
use std::ops::Range;

use regex::Regex;
use ropey::Rope;

mod cursors;
mod lines;

pub(crate) use cursors::NextMatch;
pub(crate) use lines::line_comment_token;

use super::grapheme::{self, is_line_break, line_ending_len};
use super::search;
use super::undo::{Edit, EditKind, History};

/// Cells a tab takes unless the caller sets another width.
pub(crate) const DEFAULT_TAB_WIDTH: usize = 4;

/// How lines end in a file, and what Enter inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum LineEnding {
    #[default]
    Lf,
    CrLf,
}

impl LineEnding {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }

    /// The ending most lines of `rope` use; LF on a tie or with no lines.
    fn detect(rope: &Rope) -> LineEnding {
        let (mut lf, mut crlf) = (0usize, 0usize);
        let mut after_cr = false;
        for byte in rope.bytes() {
            if byte == b'\n' {
                if after_cr {
                    crlf += 1;
                } else {
                    lf += 1;
                }
            }
            after_cr = byte == b'\r';
        }
        if crlf > lf {
            LineEnding::CrLf
        } else {
            LineEnding::Lf
        }
    }
}

/// What one indent level is in a file, and what Tab inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndentUnit {
    Tab,
    Spaces(usize),
}

impl Default for IndentUnit {
    fn default() -> Self {
        IndentUnit::Spaces(4)
    }
}

impl IndentUnit {
    /// Tabs when most indented lines start with one; otherwise the most
    /// common step between consecutive space indents among 2, 4 and 8.
    fn detect(rope: &Rope) -> IndentUnit {
        let (mut tab_lines, mut space_lines) = (0usize, 0usize);
        // How often consecutive indents differ by 2, 4 and 8 spaces.
        let mut steps = [(0usize, 2usize), (0, 4), (0, 8)];
        let mut previous = 0usize;
        for line in rope.lines() {
            let mut chars = line.chars();
            let mut spaces = 0usize;
            let first_other = loop {
                match chars.next() {
                    Some(' ') => spaces += 1,
                    other => break other,
                }
            };
            match first_other {
                Some('\t') if spaces == 0 => {
                    tab_lines += 1;
                    continue;
                }
                Some(c) if !c.is_whitespace() => {}
                // Blank lines say nothing about indentation.
                _ => continue,
            }
            if spaces > 0 {
                space_lines += 1;
            }
            let step = spaces.abs_diff(previous);
            if let Some(entry) = steps.iter_mut().find(|(_, width)| *width == step) {
                entry.0 += 1;
            }
            previous = spaces;
        }
        if tab_lines > space_lines {
            return IndentUnit::Tab;
        }
        let most = steps.iter().map(|(count, _)| *count).max().unwrap_or(0);
        // On a tie, 4 wins, then 2, then 8.
        [4, 2, 8]
            .into_iter()
            .find(|width| most > 0 && steps.iter().any(|&(c, w)| w == *width && c == most))
            .map_or_else(IndentUnit::default, IndentUnit::Spaces)
    }

    /// The text of one indent level.
    pub(crate) fn text(self) -> String {
        match self {
            IndentUnit::Tab => "\t".into(),
            IndentUnit::Spaces(n) => " ".repeat(n),
        }
    }
}

/// A selection in char indices: `anchor` stays put while extending, `head`
/// is where the cursor is drawn. Equal ends mean a bare cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Selection {
    pub(crate) anchor: usize,
    pub(crate) head: usize,
}

impl Selection {
    pub(crate) fn point(at: usize) -> Selection {
        Selection {
            anchor: at,
            head: at,
        }
    }

    pub(crate) fn new(anchor: usize, head: usize) -> Selection {
        Selection { anchor, head }
    }

    pub(crate) fn is_empty(self) -> bool {
        self.anchor == self.head
    }

    pub(crate) fn start(self) -> usize {
        self.anchor.min(self.head)
    }

    pub(crate) fn end(self) -> usize {
        self.anchor.max(self.head)
    }

    pub(crate) fn range(self) -> Range<usize> {
        self.start()..self.end()
    }

    /// Where a position ends up after `edit`: before it, unchanged; after
    /// it, shifted; inside the replaced text, at its start.
    fn map(self, edit: &Edit) -> Selection {
        let removed = edit.removed.chars().count();
        let inserted = edit.inserted.chars().count();
        let map = |pos: usize| {
            if pos <= edit.at {
                pos
            } else if pos >= edit.at + removed {
                pos - removed + inserted
            } else {
                edit.at
            }
        };
        Selection::new(map(self.anchor), map(self.head))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Space,
    Word,
    Punct,
}

fn class_of(c: char) -> CharClass {
    if c.is_whitespace() {
        CharClass::Space
    } else if c.is_alphanumeric() || c == '_' {
        CharClass::Word
    } else {
        CharClass::Punct
    }
}

/// Rewrites every CRLF, LF and lone CR in `text` as `ending`. Terminals
/// paste with CR line breaks, and a paste should match the file.
fn normalize_line_endings(text: &str, ending: LineEnding) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str(ending.as_str());
            }
            '\n' => out.push_str(ending.as_str()),
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug)]
pub(crate) struct Buffer {
    rope: Rope,
    selection: Selection,
    /// Further cursors besides `selection` (the primary one), in text
    /// order, none overlapping; see the `cursors` module.
    others: Vec<Selection>,
    /// The display column vertical moves aim for, kept across short lines.
    desired_col: Option<usize>,
    line_ending: LineEnding,
    indent: IndentUnit,
    tab_width: usize,
    history: History,
    version: u64,
    saved_state: u64,
}

impl Default for Buffer {
    fn default() -> Self {
        Buffer::from_text("")
    }
}

impl Buffer {
    /// A buffer holding `text` as read from disk, cursor at the top. The
    /// line ending and indent unit are taken from the text.
    pub(crate) fn from_text(text: &str) -> Buffer {
        let rope = Rope::from_str(text);
        let history = History::default();
        Buffer {
            line_ending: LineEnding::detect(&rope),
            indent: IndentUnit::detect(&rope),
            rope,
            selection: Selection::default(),
            others: Vec::new(),
            desired_col: None,
            tab_width: DEFAULT_TAB_WIDTH,
            saved_state: history.state(),
            history,
            version: 0,
        }
    }

    /// Exactly what saving writes.
    pub(crate) fn text(&self) -> String {
        self.rope.to_string()
    }

    pub(crate) fn rope(&self) -> &Rope {
        &self.rope
    }

    pub(crate) fn line_ending(&self) -> LineEnding {
        self.line_ending
    }

    pub(crate) fn indent_unit(&self) -> IndentUnit {
        self.indent
    }

    #[cfg(test)]
    pub(crate) fn tab_width(&self) -> usize {
        self.tab_width
    }

    /// Bumped on every change to the text, undo and redo included: a key
    /// for caches of anything derived from the text.
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// Whether the text differs from what was last saved (or loaded).
    /// Undoing back to the saved text makes the buffer clean again.
    pub(crate) fn is_dirty(&self) -> bool {
        self.history.state() != self.saved_state
    }

    pub(crate) fn mark_saved(&mut self) {
        self.saved_state = self.history.state();
    }

    /// Where the undo history stands: a save taken now records it, so
    /// that typing while the save is written keeps the buffer dirty.
    pub(crate) fn history_state(&self) -> u64 {
        self.history.state()
    }

    /// The text at history `state` was saved (see [`Self::history_state`]).
    pub(crate) fn mark_saved_at(&mut self, state: u64) {
        self.saved_state = state;
    }

    // ----- positions -------------------------------------------------

    pub(crate) fn len_chars(&self) -> usize {
        self.rope.len_chars()
    }

    /// Lines as the view shows them: text ending in a newline has an empty
    /// last line after it. Never 0.
    pub(crate) fn len_lines(&self) -> usize {
        self.rope.len_lines()
    }

    /// Line `i` with its line ending; empty past the end.
    pub(crate) fn line(&self, i: usize) -> Cow<'_, str> {
        self.rope.get_line(i).map_or(Cow::Borrowed(""), Cow::from)
    }

    pub(crate) fn char_to_line(&self, char_idx: usize) -> usize {
        self.rope.char_to_line(char_idx.min(self.len_chars()))
    }

    /// The first char of `line`; the end of the text past the last line.
    pub(crate) fn line_to_char(&self, line: usize) -> usize {
        self.rope.line_to_char(line.min(self.len_lines()))
    }

    fn last_line(&self) -> usize {
        self.len_lines().saturating_sub(1)
    }

    /// The char just past the text of `line`, before its line ending.
    pub(crate) fn line_end_char(&self, line: usize) -> usize {
        let line = line.min(self.last_line());
        let slice = self.rope.line(line);
        self.line_to_char(line) + slice.len_chars() - line_ending_len(slice)
    }

    /// The first char of `line` that is not a space or tab (its end when
    /// the line is blank).
    pub(crate) fn first_non_blank(&self, line: usize) -> usize {
        let line = line.min(self.last_line());
        let start = self.line_to_char(line);
        let end = self.line_end_char(line);
        // By cluster: a space followed by a combining mark is not blank.
        grapheme::graphemes(self.rope.slice(start..end))
            .find(|(_, g)| g != " " && g != "\t")
            .map_or(end, |(offset, _)| start + offset)
    }

    /// The display column of `char_idx` on its line: cells before it, with
    /// wide characters counting 2 and tabs reaching the next tab stop.
    pub(crate) fn display_col(&self, char_idx: usize) -> usize {
        let char_idx = char_idx.min(self.len_chars());
        let line = self.rope.char_to_line(char_idx);
        let line_start = self.line_to_char(line);
        let end = self.line_end_char(line);
        // Plain ASCII before the position is a cell a char.
        let plain = grapheme::plain_prefix(self.rope.slice(line_start..char_idx.max(line_start)));
        let start = line_start + plain;
        let mut col = plain;
        for (offset, g) in grapheme::graphemes(self.rope.slice(start..end)) {
            // A position inside a cluster counts as the cluster's start.
            if start + offset + g.chars().count() > char_idx {
                break;
            }
            col += grapheme::width(&g, col, self.tab_width);
        }
        col
    }

    /// The char under display column `col` of `line` (a mouse click, a
    /// vertical move): the start of the cluster covering that cell, or the
    /// end of the line's text when the line is shorter.
    pub(crate) fn display_col_to_char(&self, line: usize, col: usize) -> usize {
        let line = line.min(self.last_line());
        let line_start = self.line_to_char(line);
        let end = self.line_end_char(line);
        // Plain ASCII is a cell a char.
        let plain = grapheme::plain_prefix(self.rope.slice(line_start..end));
        if col < plain {
            return line_start + col;
        }
        let start = line_start + plain;
        let mut x = plain;
        for (offset, g) in grapheme::graphemes(self.rope.slice(start..end)) {
            let w = grapheme::width(&g, x, self.tab_width);
            if x + w > col {
                return start + offset;
            }
            x += w;
        }
        end
    }

    /// Line and display column of the cursor, both from 0.
    pub(crate) fn cursor_line_col(&self) -> (usize, usize) {
        let head = self.selection.head;
        (self.char_to_line(head), self.display_col(head))
    }

    pub(crate) fn next_grapheme(&self, char_idx: usize) -> usize {
        grapheme::next_boundary(self.rope.slice(..), char_idx)
    }

    pub(crate) fn prev_grapheme(&self, char_idx: usize) -> usize {
        grapheme::prev_boundary(self.rope.slice(..), char_idx)
    }

    fn class_at(&self, char_idx: usize) -> CharClass {
        self.rope
            .get_char(char_idx)
            .map_or(CharClass::Space, class_of)
    }

    /// Whether `char_idx` starts a line holding nothing but its ending.
    fn is_empty_line(&self, char_idx: usize) -> bool {
        self.rope.get_char(char_idx).is_some_and(is_line_break)
            && self.line_to_char(self.char_to_line(char_idx)) == char_idx
    }

    /// Where vim's `w` goes from `from`: the start of the next word, a run
    /// of word characters or of punctuation, or the next empty line.
    pub(crate) fn word_forward_start(&self, from: usize) -> usize {
        let len = self.len_chars();
        if from >= len {
            return len;
        }
        let class = self.class_at(from);
        let mut pos = self.next_grapheme(from);
        if class != CharClass::Space {
            while pos < len && self.class_at(pos) == class {
                pos = self.next_grapheme(pos);
            }
        }
        while pos < len && self.class_at(pos) == CharClass::Space {
            if self.is_empty_line(pos) {
                return pos;
            }
            pos = self.next_grapheme(pos);
        }
        pos
    }

    /// Where vim's `b` goes from `from`: the start of this or the previous
    /// word, or the previous empty line.
    pub(crate) fn word_backward_start(&self, from: usize) -> usize {
        let from = from.min(self.len_chars());
        if from == 0 {
            return 0;
        }
        let mut pos = self.prev_grapheme(from);
        while self.class_at(pos) == CharClass::Space {
            if pos == 0 || self.is_empty_line(pos) {
                return pos;
            }
            pos = self.prev_grapheme(pos);
        }
        let class = self.class_at(pos);
        while pos > 0 {
            let before = self.prev_grapheme(pos);
            if self.class_at(before) != class {
                break;
            }
            pos = before;
        }
        pos
    }

    /// Where vim's `e` goes from `from`: onto the last cluster of this or
    /// the next word (a block cursor sits on it, so it is not past it).
    pub(crate) fn word_forward_end(&self, from: usize) -> usize {
        let len = self.len_chars();
        let last = self.prev_grapheme(len);
        let mut pos = self.next_grapheme(from);
        while pos < len && self.class_at(pos) == CharClass::Space {
            pos = self.next_grapheme(pos);
        }
        if pos >= len {
            return last;
        }
        let class = self.class_at(pos);
        loop {
            let next = self.next_grapheme(pos);
            if next >= len || self.class_at(next) != class {
                return pos;
            }
            pos = next;
        }
    }

    /// The bracket matching the one at `char_idx` (`()`, `[]`, `{}`).
    pub(crate) fn matching_bracket(&self, char_idx: usize) -> Option<usize> {
        search::matching_bracket(&self.rope, char_idx)
    }

    // ----- selection and moves --------------------------------------------

    pub(crate) fn selection(&self) -> Selection {
        self.selection
    }

    pub(crate) fn cursor(&self) -> usize {
        self.selection.head
    }

    /// Sets the selection, clamped to the text and snapped back to cluster
    /// boundaries so a cursor never lands inside a CRLF or an emoji.
    pub(crate) fn set_selection(&mut self, selection: Selection) {
        self.others.clear();
        let text = self.rope.slice(..);
        self.selection = Selection::new(
            grapheme::snap(text, selection.anchor),
            grapheme::snap(text, selection.head),
        );
        self.desired_col = None;
        self.history.close();
    }

    /// Moves the cursor to `char_idx` (snapped like [`set_selection`]),
    /// extending the selection or collapsing it.
    ///
    /// [`set_selection`]: Buffer::set_selection
    pub(crate) fn move_to(&mut self, char_idx: usize, extend: bool) {
        let anchor = if extend {
            self.selection.anchor
        } else {
            char_idx
        };
        self.set_selection(Selection::new(anchor, char_idx));
    }

    /// Moves the head without snapping; for positions computed here.
    fn put_head(&mut self, head: usize, extend: bool) {
        let head = head.min(self.len_chars());
        self.selection = if extend {
            Selection::new(self.selection.anchor, head)
        } else {
            Selection::point(head)
        };
        self.desired_col = None;
        self.history.close();
    }

    /// One cluster left; without `extend` a selection collapses to its start.
    pub(crate) fn move_left(&mut self, extend: bool) {
        if !extend && !self.selection.is_empty() {
            self.put_head(self.selection.start(), false);
        } else {
            self.put_head(self.prev_grapheme(self.selection.head), extend);
        }
    }

    /// One cluster right; without `extend` a selection collapses to its end.
    pub(crate) fn move_right(&mut self, extend: bool) {
        if !extend && !self.selection.is_empty() {
            self.put_head(self.selection.end(), false);
        } else {
            self.put_head(self.next_grapheme(self.selection.head), extend);
        }
    }

    pub(crate) fn move_up(&mut self, extend: bool) {
        self.page_up(1, extend);
    }

    pub(crate) fn move_down(&mut self, extend: bool) {
        self.page_down(1, extend);
    }

    pub(crate) fn page_up(&mut self, lines: usize, extend: bool) {
        let line = self.char_to_line(self.selection.head);
        self.move_to_line(line.saturating_sub(lines), extend);
    }

    pub(crate) fn page_down(&mut self, lines: usize, extend: bool) {
        let line = self.char_to_line(self.selection.head);
        self.move_to_line(line.saturating_add(lines), extend);
    }

    /// Moves to `line` (clamped), aiming for the display column the vertical
    /// move started from so a short line in between does not lose it.
    fn move_to_line(&mut self, line: usize, extend: bool) {
        let head = self.selection.head;
        let col = self.desired_col.unwrap_or_else(|| self.display_col(head));
        let pos = self.display_col_to_char(line, col);
        self.put_head(pos, extend);
        self.desired_col = Some(col);
    }

    /// To the first non-blank of the line, or to column 0 when already there.
    pub(crate) fn move_line_start(&mut self, extend: bool) {
        let head = self.selection.head;
        let line = self.char_to_line(head);
        let first = self.first_non_blank(line);
        let target = if head == first {
            self.line_to_char(line)
        } else {
            first
        };
        self.put_head(target, extend);
    }

    /// To the end of the line's text, before its line ending.
    pub(crate) fn move_line_end(&mut self, extend: bool) {
        let line = self.char_to_line(self.selection.head);
        self.put_head(self.line_end_char(line), extend);
    }

    pub(crate) fn move_doc_start(&mut self, extend: bool) {
        self.put_head(0, extend);
    }

    pub(crate) fn move_doc_end(&mut self, extend: bool) {
        self.put_head(self.len_chars(), extend);
    }

    /// vim `w`.
    pub(crate) fn move_word_forward(&mut self, extend: bool) {
        self.put_head(self.word_forward_start(self.selection.head), extend);
    }

    /// vim `b`.
    pub(crate) fn move_word_backward(&mut self, extend: bool) {
        self.put_head(self.word_backward_start(self.selection.head), extend);
    }

    /// vim `e`.
    pub(crate) fn move_word_end(&mut self, extend: bool) {
        self.put_head(self.word_forward_end(self.selection.head), extend);
    }

    /// To the first non-blank of line `line` (1-based, clamped to the
    /// document), collapsing the selection.
    pub(crate) fn goto_line(&mut self, line: usize) {
        let line = line.saturating_sub(1).min(self.last_line());
        self.others.clear();
        self.put_head(self.first_non_blank(line), false);
    }

    pub(crate) fn select_all(&mut self) {
        self.others.clear();
        self.selection = Selection::new(0, self.len_chars());
        self.desired_col = None;
        self.history.close();
    }

    // ----- editing -------------------------------------------------------

    /// Replaces chars `range` (clamped) with `text`, maps the selection
    /// through the change and bumps the version. `None` when nothing changed.
    fn splice(&mut self, range: Range<usize>, text: &str) -> Option<Edit> {
        let len = self.len_chars();
        let start = range.start.min(len);
        let end = range.end.clamp(start, len);
        let removed = self.rope.slice(start..end).to_string();
        if removed == text {
            return None;
        }
        self.rope.try_remove(start..end).ok()?;
        if self.rope.try_insert(start, text).is_err() {
            // Unreachable with `start` clamped; put the text back regardless.
            let _ = self.rope.try_insert(start, &removed);
            return None;
        }
        self.version += 1;
        let edit = Edit {
            at: start,
            removed,
            inserted: text.to_string(),
        };
        self.selection = self.selection.map(&edit);
        for other in &mut self.others {
            *other = other.map(&edit);
        }
        Some(edit)
    }

    /// Replaces `range` with `text`, leaves the cursor after it and records
    /// the change for undo.
    fn replace(&mut self, range: Range<usize>, text: &str, kind: EditKind) {
        let before = self.selection;
        let start = range.start.min(self.len_chars());
        let edit = self.splice(range, text);
        self.selection = Selection::point(start + text.chars().count());
        self.desired_col = None;
        if let Some(edit) = edit {
            self.history.record(edit, kind, before, self.selection);
        }
    }

    /// Replaces chars `range` with `text` as one recorded edit, leaving the
    /// cursor after it: the building block of vim's operators.
    pub(crate) fn replace_range(&mut self, range: Range<usize>, text: &str) {
        self.replace(range, text, EditKind::Other);
    }

    /// Types `text` over the selection, as is: line breaks in it are not
    /// converted (Enter should call [`insert_newline`]).
    ///
    /// [`insert_newline`]: Buffer::insert_newline
    pub(crate) fn insert(&mut self, text: &str) {
        self.replace(self.selection.range(), text, EditKind::Insert);
    }

    /// Enter: the file's line ending, then the leading whitespace of the
    /// current line, one level deeper after a line ending in `{`, `[`, `(`
    /// or `:`.
    pub(crate) fn insert_newline(&mut self) {
        let start = self.selection.start();
        let line_start = self.line_to_char(self.char_to_line(start));
        let before_cursor = self.rope.slice(line_start..start);
        let mut text: String = self.line_ending.as_str().into();
        text.extend(
            before_cursor
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t'),
        );
        let opens_block = before_cursor
            .chars_at(before_cursor.len_chars())
            .reversed()
            .find(|c| !c.is_whitespace())
            .is_some_and(|c| matches!(c, '{' | '[' | '(' | ':'));
        if opens_block {
            text.push_str(&self.indent.text());
        }
        self.replace(self.selection.range(), &text, EditKind::Insert);
    }

    /// Tab: a tab character in a tab-indented file, otherwise spaces up to
    /// the next indent stop.
    pub(crate) fn insert_tab(&mut self) {
        let text = match self.indent {
            IndentUnit::Tab => "\t".to_string(),
            IndentUnit::Spaces(unit) => {
                let unit = unit.max(1);
                let col = self.display_col(self.selection.start());
                " ".repeat(unit - col % unit)
            }
        };
        self.replace(self.selection.range(), &text, EditKind::Insert);
    }

    /// Backspace: the selection, or the cluster before the cursor. Inside
    /// leading spaces of a space-indented file it deletes back to the
    /// previous indent stop, undoing one soft tab.
    pub(crate) fn delete_backward(&mut self) {
        if !self.selection.is_empty() {
            self.replace(self.selection.range(), "", EditKind::Other);
            return;
        }
        let head = self.selection.head;
        let line_start = self.line_to_char(self.char_to_line(head));
        let mut from = self.prev_grapheme(head);
        if let IndentUnit::Spaces(unit) = self.indent {
            let before = head - line_start;
            let only_spaces = self.rope.slice(line_start..head).chars().all(|c| c == ' ');
            if before > 0 && only_spaces {
                let unit = unit.max(1);
                let step = match before % unit {
                    0 => unit,
                    partial => partial,
                };
                from = head - step;
            }
        }
        self.replace(from..head, "", EditKind::DeleteBackward);
    }

    /// Delete: the selection, or the cluster after the cursor.
    pub(crate) fn delete_forward(&mut self) {
        if !self.selection.is_empty() {
            self.replace(self.selection.range(), "", EditKind::Other);
            return;
        }
        let head = self.selection.head;
        let to = self.next_grapheme(head);
        self.replace(head..to, "", EditKind::DeleteForward);
    }

    /// The cursor's line with its line ending (the file's ending appended
    /// when the last line has none), as vim's linewise registers hold it.
    pub(crate) fn yank_line(&self) -> String {
        let line = self.char_to_line(self.selection.head);
        let mut text = self.line(line).into_owned();
        if !text.ends_with(is_line_break) {
            text.push_str(self.line_ending.as_str());
        }
        text
    }

    /// vim `dd`: removes the cursor's line and returns it like
    /// [`yank_line`]. Removing the last line also removes the line break
    /// before it, so no empty line is left behind. The cursor goes to the
    /// first non-blank of the line that takes its place.
    ///
    /// [`yank_line`]: Buffer::yank_line
    pub(crate) fn delete_line(&mut self) -> String {
        let yanked = self.yank_line();
        let line = self.char_to_line(self.selection.head);
        let mut start = self.line_to_char(line);
        let end = self.line_to_char(line + 1);
        if line == self.last_line() && start > 0 {
            start = self.prev_grapheme(start);
        }
        self.history.begin();
        self.replace(start..end, "", EditKind::Other);
        let target = self.first_non_blank(self.char_to_line(start));
        self.put_head(target, false);
        self.history.end(self.selection);
        yanked
    }

    /// vim `p`/`P` for a linewise register: `text` as whole lines below or
    /// above the cursor's line, line breaks converted to the file's.
    pub(crate) fn paste_lines(&mut self, text: &str, below: bool) {
        let mut text = normalize_line_endings(text, self.line_ending);
        let ending = self.line_ending.as_str();
        if !text.ends_with(ending) {
            text.push_str(ending);
        }
        let line = self.char_to_line(self.selection.head);
        let line_text_end = self.line_end_char(line);
        let next = self.line_to_char(line + 1);
        let (at, text) = if !below {
            (self.line_to_char(line), text)
        } else if next > line_text_end {
            (next, text)
        } else {
            // The last line has no break to insert after: add one before.
            let body = text.strip_suffix(ending).unwrap_or(&text);
            (line_text_end, format!("{ending}{body}"))
        };
        self.history.begin();
        self.replace(at..at, &text, EditKind::Other);
        let first_pasted = if below { line + 1 } else { line };
        self.put_head(self.first_non_blank(first_pasted), false);
        self.history.end(self.selection);
    }

    /// The selected text; `None` for a bare cursor.
    pub(crate) fn selected_text(&self) -> Option<String> {
        let range = self.selection.range();
        (!range.is_empty()).then(|| self.rope.slice(range).to_string())
    }

    /// Removes and returns the selected text; `None` for a bare cursor.
    pub(crate) fn cut(&mut self) -> Option<String> {
        let text = self.selected_text()?;
        self.replace(self.selection.range(), "", EditKind::Other);
        Some(text)
    }

    /// Pastes `text` over the selection as one undo step, its line breaks
    /// converted to the file's (terminals paste with lone CRs).
    pub(crate) fn paste(&mut self, text: &str) {
        let text = normalize_line_endings(text, self.line_ending);
        self.replace(self.selection.range(), &text, EditKind::Other);
    }

    // ----- undo ------------------------------------------------------------

    /// Ends the current undo group: the next edit starts a new step.
    pub(crate) fn commit_group(&mut self) {
        self.history.close();
    }

    /// Starts an undo group that takes every edit until [`end_group`]
    /// (calls nest), for commands made of several edits.
    ///
    /// [`end_group`]: Buffer::end_group
    pub(crate) fn begin_group(&mut self) {
        self.history.begin();
    }

    pub(crate) fn end_group(&mut self) {
        self.history.end(self.selection);
    }

    #[cfg(test)]
    pub(crate) fn can_undo(&self) -> bool {
        self.history.can_undo()
    }

    #[cfg(test)]
    pub(crate) fn can_redo(&self) -> bool {
        self.history.can_redo()
    }

    /// Reverts the last undo group and restores the selection from before
    /// it. `false` when there is nothing to undo.
    pub(crate) fn undo(&mut self) -> bool {
        let Some(group) = self.history.undo() else {
            return false;
        };
        for edit in group.edits.iter().rev() {
            let inserted = edit.inserted.chars().count();
            let _ = self.rope.try_remove(edit.at..edit.at + inserted);
            let _ = self.rope.try_insert(edit.at, &edit.removed);
        }
        self.selection = group.before;
        self.others.clone_from(&group.others_before);
        self.after_history_step();
        true
    }

    /// Re-applies the last undone group and restores the selection it left.
    /// `false` when there is nothing to redo.
    pub(crate) fn redo(&mut self) -> bool {
        let Some(group) = self.history.redo() else {
            return false;
        };
        for edit in &group.edits {
            let removed = edit.removed.chars().count();
            let _ = self.rope.try_remove(edit.at..edit.at + removed);
            let _ = self.rope.try_insert(edit.at, &edit.inserted);
        }
        self.selection = group.after;
        self.others.clone_from(&group.others_after);
        self.after_history_step();
        true
    }

    fn after_history_step(&mut self) {
        let len = self.len_chars();
        let clamp = |s: Selection| Selection::new(s.anchor.min(len), s.head.min(len));
        self.selection = clamp(self.selection);
        self.others.iter_mut().for_each(|s| *s = clamp(*s));
        self.desired_col = None;
        self.version += 1;
    }

    // ----- search and replace -----------------------------------------

    /// The first match of `re` at or after char `from`, wrapping around.
    pub(crate) fn find_next(&self, re: &Regex, from: usize) -> Option<Range<usize>> {
        search::find_next(&self.rope, re, from)
    }

    /// The last match of `re` starting before char `from`, wrapping around.
    pub(crate) fn find_prev(&self, re: &Regex, from: usize) -> Option<Range<usize>> {
        search::find_prev(&self.rope, re, from)
    }

    /// Selects the next match after the selection (`n` in vim). `false`
    /// when `re` matches nowhere.
    pub(crate) fn search_next(&mut self, re: &Regex) -> bool {
        let from = self.selection.end();
        let mut found = self.find_next(re, from);
        // An empty match where the last one ended would select it forever.
        if let Some(range) = &found
            && range.is_empty()
            && range.start == from
        {
            let next = self.next_grapheme(from);
            found = self.find_next(re, if next > from { next } else { 0 });
        }
        let Some(range) = found else {
            return false;
        };
        self.select_found(range);
        true
    }

    /// Selects the previous match before the selection (`N` in vim).
    pub(crate) fn search_prev(&mut self, re: &Regex) -> bool {
        let Some(range) = self.find_prev(re, self.selection.start()) else {
            return false;
        };
        self.select_found(range);
        true
    }

    fn select_found(&mut self, range: Range<usize>) {
        self.others.clear();
        self.selection = Selection::new(range.start, range.end);
        self.desired_col = None;
        self.history.close();
    }

    /// Replaces the selection with `replacement` (`$1`, `${name}` expanded)
    /// when the selection is exactly a match of `re`, as its own undo step.
    /// `false`, changing nothing, when it is not.
    #[cfg(test)]
    pub(crate) fn replace_selection(&mut self, re: &Regex, replacement: &str) -> bool {
        let range = self.selection.range();
        let Some(text) = search::expand_match(&self.rope, re, range.clone(), replacement) else {
            return false;
        };
        self.history.close();
        self.replace(range, &text, EditKind::Other);
        true
    }

    /// Takes `text` as the saved content (another program or an applied
    /// patch changed the file) as one undo step: the history stays, so
    /// undo steps back to the text before the change and further, and the
    /// cursor stays on the text it was on. Only the part that differs is
    /// replaced. The buffer is clean afterwards.
    pub(crate) fn reload(&mut self, text: &str) {
        let changes = self.line_changes(text);
        self.history.close();
        if !changes.is_empty() {
            self.history.begin();
            for (range, inserted) in changes.into_iter().rev() {
                let before = self.selection;
                if let Some(edit) = self.splice(range, &inserted) {
                    self.history
                        .record(edit, EditKind::Other, before, self.selection);
                }
            }
            self.history.end(self.selection);
        }
        self.desired_col = None;
        self.line_ending = LineEnding::detect(&self.rope);
        self.mark_saved();
    }

    /// Brings back `text` (a draft kept over a restart) over the saved
    /// text, one undo step per changed run of lines: the first undo takes
    /// back one change, not the whole draft. The buffer stays dirty.
    pub(crate) fn restore_draft(&mut self, text: &str) {
        let changes = self.line_changes(text);
        self.history.close();
        for (range, inserted) in changes.into_iter().rev() {
            let before = self.selection;
            if let Some(edit) = self.splice(range, &inserted) {
                self.history.begin();
                self.history
                    .record(edit, EditKind::Other, before, self.selection);
                self.history.end(self.selection);
            }
        }
        self.desired_col = None;
        self.line_ending = LineEnding::detect(&self.rope);
    }

    /// The runs of lines that differ between the text and `text`: a char
    /// range of the text and what replaces it, top to bottom.
    fn line_changes(&self, text: &str) -> Vec<(Range<usize>, String)> {
        let old = self.rope.to_string();
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let new_lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut starts = Vec::with_capacity(old_lines.len() + 1);
        let mut at = 0;
        for line in &old_lines {
            starts.push(at);
            at += line.chars().count();
        }
        starts.push(at);
        let mut changes = Vec::new();
        for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_lines, &new_lines) {
            let (old_range, new_range) = match op {
                similar::DiffOp::Equal { .. } => continue,
                similar::DiffOp::Delete {
                    old_index,
                    old_len,
                    new_index,
                } => (old_index..old_index + old_len, new_index..new_index),
                similar::DiffOp::Insert {
                    old_index,
                    new_index,
                    new_len,
                } => (old_index..old_index, new_index..new_index + new_len),
                similar::DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => (
                    old_index..old_index + old_len,
                    new_index..new_index + new_len,
                ),
            };
            let inserted: String = new_lines[new_range].concat();
            changes.push((starts[old_range.start]..starts[old_range.end], inserted));
        }
        changes
    }

    /// Replaces every match of `re` as one undo step and returns how many
    /// there were. The cursor stays on the text it was on.
    #[cfg(test)]
    pub(crate) fn replace_all(&mut self, re: &Regex, replacement: &str) -> usize {
        self.substitute(re, replacement, None, true)
    }

    /// vim's `:s`: the matches of `re` starting on `lines` (every line when
    /// `None`) replaced, all of them with `global`, else the first of each
    /// line; one undo step. Returns how many were replaced.
    pub(crate) fn substitute(
        &mut self,
        re: &Regex,
        replacement: &str,
        lines: Option<Range<usize>>,
        global: bool,
    ) -> usize {
        let mut last_line = None;
        let matches: Vec<_> = search::replacements(&self.rope, re, replacement)
            .into_iter()
            .filter(|(range, _)| {
                let line = self.rope.char_to_line(range.start);
                let wanted = lines.as_ref().is_none_or(|l| l.contains(&line));
                let first = last_line != Some(line);
                if wanted && first {
                    last_line = Some(line);
                }
                wanted && (global || first)
            })
            .collect();
        if matches.is_empty() {
            return 0;
        }
        let count = matches.len();
        self.history.begin();
        // From the bottom up, so earlier matches keep their positions.
        for (range, text) in matches.into_iter().rev() {
            let before = self.selection;
            if let Some(edit) = self.splice(range, &text) {
                self.history
                    .record(edit, EditKind::Other, before, self.selection);
            }
        }
        self.desired_col = None;
        self.history.end(self.selection);
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer_at(text: &str, cursor: usize) -> Buffer {
        let mut buffer = Buffer::from_text(text);
        buffer.move_to(cursor, false);
        buffer
    }

    fn re(pattern: &str) -> Regex {
        Regex::new(pattern).unwrap()
    }

    #[test]
    fn crlf_file_stays_crlf_after_typing_and_enter_inserts_crlf() {
        let mut buffer = buffer_at("one\r\ntwo\r\n", 3);
        assert_eq!(buffer.line_ending(), LineEnding::CrLf);
        buffer.insert("!");
        buffer.insert_newline();
        buffer.insert("new");
        assert_eq!(buffer.text(), "one!\r\nnew\r\ntwo\r\n");
    }

    #[test]
    fn untouched_lines_keep_their_own_endings_in_a_mixed_file() {
        let mut buffer = buffer_at("a\r\nb\nc\r\n", 0);
        assert_eq!(buffer.line_ending(), LineEnding::CrLf);
        buffer.insert("x");
        assert_eq!(buffer.text(), "xa\r\nb\nc\r\n");
    }

    #[test]
    fn lf_wins_a_tie_and_new_files_use_lf() {
        assert_eq!(Buffer::from_text("a\r\nb\n").line_ending(), LineEnding::Lf);
        assert_eq!(Buffer::from_text("").line_ending(), LineEnding::Lf);
    }

    #[test]
    fn file_without_final_newline_keeps_none() {
        let mut buffer = buffer_at("fn main() {}", 12);
        buffer.insert(" // done");
        assert_eq!(buffer.text(), "fn main() {} // done");
        buffer.move_doc_end(false);
        buffer.delete_backward();
        assert_eq!(buffer.text(), "fn main() {} // don");
    }

    #[test]
    fn tabs_are_kept_and_tab_inserts_a_tab_in_a_tab_indented_file() {
        let mut buffer = buffer_at("fn a() {\n\tx();\n\ty();\n}\n", 10);
        assert_eq!(buffer.indent_unit(), IndentUnit::Tab);
        buffer.insert_tab();
        assert_eq!(buffer.text(), "fn a() {\n\t\tx();\n\ty();\n}\n");
    }

    #[test]
    fn backspace_removes_an_emoji_family_as_one_cluster() {
        let family = "👨\u{200d}👩\u{200d}👧";
        let text = format!("a{family}b");
        let mut buffer = buffer_at(&text, 1 + family.chars().count());
        buffer.delete_backward();
        assert_eq!(buffer.text(), "ab");
        assert_eq!(buffer.cursor(), 1);
    }

    #[test]
    fn backspace_and_delete_remove_e_with_combining_acute_as_one_cluster() {
        let mut buffer = buffer_at("xe\u{301}y", 3);
        buffer.delete_backward();
        assert_eq!(buffer.text(), "xy");
        let mut buffer = buffer_at("xe\u{301}y", 1);
        buffer.delete_forward();
        assert_eq!(buffer.text(), "xy");
    }

    #[test]
    fn left_and_right_step_over_crlf_and_accents_in_one_move() {
        let mut buffer = buffer_at("e\u{301}\r\nz", 0);
        buffer.move_right(false);
        assert_eq!(buffer.cursor(), 2);
        buffer.move_right(false);
        assert_eq!(buffer.cursor(), 4);
        buffer.move_left(false);
        assert_eq!(buffer.cursor(), 2);
        buffer.delete_forward();
        assert_eq!(buffer.text(), "e\u{301}z");
    }

    #[test]
    fn a_cursor_placed_inside_crlf_snaps_before_it() {
        let mut buffer = buffer_at("a\r\nb", 2);
        assert_eq!(buffer.cursor(), 1);
        buffer.set_selection(Selection::new(99, 2));
        assert_eq!(buffer.selection(), Selection::new(4, 1));
    }

    #[test]
    fn up_and_down_across_cjk_keep_the_display_column() {
        // Column 3 falls on the right half of 中 (cells 2-3) on the second
        // line, so the cursor stops on 中 and comes back to column 3 on the
        // lines around it.
        let mut buffer = buffer_at("abcdef\nab中文x\nabcdef\n", 3);
        buffer.move_down(false);
        assert_eq!(buffer.cursor(), 7 + 2);
        assert_eq!(buffer.cursor_line_col(), (1, 2));
        buffer.move_down(false);
        assert_eq!(buffer.cursor_line_col(), (2, 3));
        buffer.move_up(false);
        buffer.move_up(false);
        assert_eq!(buffer.cursor_line_col(), (0, 3));
        // After a wide char the column counts both its cells.
        buffer.move_down(false);
        buffer.move_right(false);
        buffer.move_right(false);
        assert_eq!(buffer.cursor_line_col(), (1, 6));
        buffer.move_up(false);
        assert_eq!(buffer.cursor_line_col(), (0, 6));
    }

    #[test]
    fn a_short_line_in_between_does_not_lose_the_column() {
        let mut buffer = buffer_at("abcdefgh\nab\nabcdefgh", 6);
        buffer.move_down(false);
        assert_eq!(buffer.cursor_line_col(), (1, 2));
        buffer.move_down(false);
        assert_eq!(buffer.cursor_line_col(), (2, 6));
    }

    #[test]
    fn tabs_count_to_the_next_tab_stop_in_columns() {
        let buffer = buffer_at("\tab\tc", 0);
        assert_eq!(buffer.display_col(1), 4);
        assert_eq!(buffer.display_col(4), 8);
        assert_eq!(buffer.display_col_to_char(0, 2), 0);
        assert_eq!(buffer.display_col_to_char(0, 6), 3);
        assert_eq!(buffer.display_col_to_char(0, 8), 4);
        assert_eq!(buffer.display_col_to_char(0, 99), 5);
        assert_eq!(buffer.display_col_to_char(99, 0), 0);
    }

    #[test]
    fn enter_after_an_open_brace_indents_one_level_more() {
        let mut buffer = buffer_at("    if x {\n    }\n", 10);
        buffer.insert_newline();
        buffer.insert("y();");
        assert_eq!(buffer.text(), "    if x {\n        y();\n    }\n");
    }

    #[test]
    fn enter_copies_the_leading_whitespace_and_indents_after_a_colon() {
        let mut buffer = buffer_at("def f():\n  return 1", 20);
        assert_eq!(buffer.indent_unit(), IndentUnit::Spaces(2));
        buffer.insert_newline();
        assert_eq!(buffer.text(), "def f():\n  return 1\n  ");
        let mut buffer = buffer_at("def f():\n  return 1", 8);
        buffer.insert_newline();
        assert_eq!(buffer.text(), "def f():\n  \n  return 1");
    }

    #[test]
    fn tab_inserts_spaces_to_the_next_indent_stop() {
        let mut buffer = buffer_at("x\n", 0);
        buffer.insert("ab");
        buffer.insert_tab();
        assert_eq!(buffer.text(), "ab  x\n");
        buffer.insert_tab();
        assert_eq!(buffer.text(), "ab      x\n");
    }

    #[test]
    fn backspace_in_leading_spaces_deletes_back_to_the_previous_stop() {
        let file = |indent: &str| format!("fn a() {{\n    if b {{\n{indent}x\n    }}\n}}\n");
        let mut buffer = buffer_at(&file("        "), 20 + 8);
        assert_eq!(buffer.indent_unit(), IndentUnit::Spaces(4));
        buffer.delete_backward();
        assert_eq!(buffer.text(), file("    "));
        buffer.delete_backward();
        assert_eq!(buffer.text(), file(""));
        // Between stops, back to the previous one.
        let mut buffer = buffer_at(&file("      "), 20 + 6);
        buffer.delete_backward();
        assert_eq!(buffer.text(), file("    "));
        // Past the indent, backspace deletes one char.
        let mut buffer = buffer_at("    a    b", 9);
        buffer.delete_backward();
        assert_eq!(buffer.text(), "    a   b");
    }

    #[test]
    fn indent_unit_follows_the_most_common_step() {
        let two = "a:\n  b:\n    c\n  d\n";
        assert_eq!(Buffer::from_text(two).indent_unit(), IndentUnit::Spaces(2));
        let eight = "a\n        b\n        c\n";
        assert_eq!(
            Buffer::from_text(eight).indent_unit(),
            IndentUnit::Spaces(8)
        );
        assert_eq!(
            Buffer::from_text("no indent\n").indent_unit(),
            IndentUnit::Spaces(4)
        );
        let mostly_tabs = "a\n\tb\n\tc\n    d\n";
        assert_eq!(
            Buffer::from_text(mostly_tabs).indent_unit(),
            IndentUnit::Tab
        );
    }

    #[test]
    fn typing_a_word_undoes_in_one_step_and_restores_the_selection() {
        let mut buffer = buffer_at("x", 1);
        for c in "hello world".chars() {
            buffer.insert(&c.to_string());
        }
        assert!(buffer.undo());
        assert_eq!(buffer.text(), "xhello ");
        assert!(buffer.undo());
        assert_eq!(buffer.text(), "x");
        assert_eq!(buffer.selection(), Selection::point(1));
        assert!(!buffer.undo());
        assert!(buffer.redo());
        assert_eq!(buffer.text(), "xhello ");
        assert_eq!(buffer.cursor(), 7);
    }

    #[test]
    fn a_cursor_move_ends_the_undo_group() {
        let mut buffer = buffer_at("", 0);
        buffer.insert("a");
        buffer.insert("b");
        buffer.move_left(false);
        buffer.move_right(false);
        buffer.insert("c");
        buffer.undo();
        assert_eq!(buffer.text(), "ab");
    }

    #[test]
    fn enter_and_held_backspace_are_their_own_undo_steps() {
        let mut buffer = buffer_at("ab", 2);
        buffer.insert("c");
        buffer.insert_newline();
        buffer.insert("d");
        buffer.undo();
        assert_eq!(buffer.text(), "abc\n");
        buffer.undo();
        assert_eq!(buffer.text(), "abc");
        buffer.delete_backward();
        buffer.delete_backward();
        buffer.undo();
        assert_eq!(buffer.text(), "abc");
    }

    #[test]
    fn an_edit_after_undo_drops_the_redo_branch() {
        let mut buffer = buffer_at("", 0);
        buffer.insert("a");
        buffer.undo();
        buffer.insert("b");
        assert!(!buffer.redo());
        assert_eq!(buffer.text(), "b");
    }

    #[test]
    fn begin_and_end_group_make_one_undo_step() {
        let mut buffer = buffer_at("", 0);
        buffer.begin_group();
        buffer.insert("a");
        buffer.insert_newline();
        buffer.move_doc_start(false);
        buffer.delete_forward();
        buffer.end_group();
        assert_eq!(buffer.text(), "\n");
        buffer.undo();
        assert_eq!(buffer.text(), "");
        buffer.redo();
        assert_eq!(buffer.selection(), Selection::point(0));
    }

    #[test]
    fn undoing_back_to_the_saved_text_makes_the_buffer_clean() {
        let mut buffer = buffer_at("a", 1);
        assert!(!buffer.is_dirty());
        let v0 = buffer.version();
        buffer.insert("b");
        assert!(buffer.is_dirty());
        assert!(buffer.version() > v0);
        buffer.mark_saved();
        assert!(!buffer.is_dirty());
        buffer.insert("c");
        assert!(buffer.is_dirty());
        let v1 = buffer.version();
        buffer.undo();
        assert!(buffer.version() > v1);
        assert_eq!(buffer.text(), "a");
        assert!(buffer.is_dirty());
        buffer.redo();
        assert_eq!(buffer.text(), "abc");
        assert!(buffer.is_dirty());
    }

    #[test]
    fn undo_to_the_saved_point_is_clean_again() {
        let mut buffer = buffer_at("a", 1);
        buffer.insert(" b");
        buffer.mark_saved();
        buffer.commit_group();
        buffer.insert("c");
        assert!(buffer.is_dirty());
        buffer.undo();
        assert!(!buffer.is_dirty());
    }

    #[test]
    fn selection_moves_do_not_bump_the_version() {
        let mut buffer = buffer_at("abc\ndef", 0);
        let version = buffer.version();
        buffer.move_down(true);
        buffer.select_all();
        buffer.move_word_forward(false);
        assert_eq!(buffer.version(), version);
    }

    #[test]
    fn a_restored_draft_undoes_one_change_at_a_time() {
        let mut buffer = buffer_at("a\nb\nc\nd\ne\n", 0);
        buffer.restore_draft("a\nB\nc\nd\nE\nf\n");
        assert_eq!(buffer.text(), "a\nB\nc\nd\nE\nf\n");
        assert!(buffer.is_dirty());
        buffer.undo();
        assert_eq!(
            buffer.text(),
            "a\nb\nc\nd\nE\nf\n",
            "one change back, not the whole draft"
        );
        buffer.undo();
        assert_eq!(buffer.text(), "a\nb\nc\nd\ne\n");
        assert!(!buffer.is_dirty());
    }

    #[test]
    fn reload_is_one_undo_step_and_keeps_the_history() {
        let mut buffer = buffer_at("one\ntwo\nthree\n", 0);
        buffer.insert("a ");
        buffer.mark_saved();
        buffer.move_to(10, false);
        buffer.reload("a one\n2\nthree\nfour\n");
        assert_eq!(buffer.text(), "a one\n2\nthree\nfour\n");
        assert!(!buffer.is_dirty());
        assert_eq!(buffer.cursor(), 8, "the cursor stays on `three`");
        buffer.undo();
        assert_eq!(buffer.text(), "a one\ntwo\nthree\n");
        buffer.undo();
        assert_eq!(buffer.text(), "one\ntwo\nthree\n");
        buffer.redo();
        buffer.redo();
        assert_eq!(buffer.text(), "a one\n2\nthree\nfour\n");
        assert!(!buffer.is_dirty());
    }

    #[test]
    fn reload_of_the_same_text_changes_nothing() {
        let mut buffer = buffer_at("same\n", 2);
        let version = buffer.version();
        buffer.reload("same\n");
        assert_eq!(buffer.version(), version);
        buffer.undo();
        assert_eq!(buffer.text(), "same\n");
    }

    #[test]
    fn replace_all_with_groups_is_one_undo_step() {
        let mut buffer = buffer_at("let a = 1;\nlet bb = 22;\n", 15);
        let n = buffer.replace_all(&re(r"let (\w+) = (\d+)"), "const $1: i32 = $2");
        assert_eq!(n, 2);
        assert_eq!(buffer.text(), "const a: i32 = 1;\nconst bb: i32 = 22;\n");
        // The cursor was inside the second match: it lands on its start.
        assert_eq!(buffer.cursor(), 18);
        assert!(buffer.undo());
        assert_eq!(buffer.text(), "let a = 1;\nlet bb = 22;\n");
        assert_eq!(buffer.cursor(), 15);
        assert!(!buffer.undo());
        assert_eq!(buffer.replace_all(&re("nothing"), "x"), 0);
        assert!(!buffer.can_undo());
    }

    #[test]
    fn replace_selection_needs_the_selection_to_be_a_match() {
        let mut buffer = buffer_at("foo(1) foo(2)", 0);
        let pattern = re(r"foo\((\d)\)");
        assert!(!buffer.replace_selection(&pattern, "bar$1"));
        assert!(buffer.search_next(&pattern));
        assert_eq!(buffer.selection(), Selection::new(0, 6));
        assert!(buffer.replace_selection(&pattern, "bar$1"));
        assert!(buffer.search_next(&pattern));
        assert!(buffer.replace_selection(&pattern, "bar$1"));
        assert_eq!(buffer.text(), "bar1 bar2");
        buffer.undo();
        assert_eq!(buffer.text(), "bar1 foo(2)");
    }

    #[test]
    fn search_moves_through_matches_and_wraps() {
        let mut buffer = buffer_at("ab ab ab", 0);
        let pattern = re("ab");
        assert!(buffer.search_next(&pattern));
        assert_eq!(buffer.selection().range(), 0..2);
        assert!(buffer.search_next(&pattern));
        assert_eq!(buffer.selection().range(), 3..5);
        assert!(buffer.search_prev(&pattern));
        assert_eq!(buffer.selection().range(), 0..2);
        assert!(buffer.search_prev(&pattern));
        assert_eq!(buffer.selection().range(), 6..8);
        assert!(!buffer.search_next(&re("zz")));
    }

    #[test]
    fn search_for_an_empty_match_still_advances() {
        let mut buffer = buffer_at("a\nb\n", 0);
        let pattern = re("(?m)^");
        assert!(buffer.search_next(&pattern));
        assert_eq!(buffer.cursor(), 2);
        assert!(buffer.search_next(&pattern));
        assert_eq!(buffer.cursor(), 4);
        assert!(buffer.search_next(&pattern));
        assert_eq!(buffer.cursor(), 0);
    }

    #[test]
    fn matching_bracket_finds_the_partner() {
        let buffer = buffer_at("fn f(a: [u8; 2]) { g(a) }", 0);
        assert_eq!(buffer.matching_bracket(4), Some(15));
        assert_eq!(buffer.matching_bracket(15), Some(4));
        assert_eq!(buffer.matching_bracket(17), Some(24));
        assert_eq!(buffer.matching_bracket(0), None);
    }

    #[test]
    fn goto_line_clamps_and_lands_on_the_first_non_blank() {
        let mut buffer = buffer_at("a\n  b\nc", 0);
        buffer.goto_line(2);
        assert_eq!(buffer.cursor(), 4);
        buffer.goto_line(0);
        assert_eq!(buffer.cursor(), 0);
        buffer.goto_line(99);
        assert_eq!(buffer.cursor(), 6);
    }

    #[test]
    fn home_toggles_between_first_non_blank_and_column_zero() {
        let mut buffer = buffer_at("x\n    abc\n", 8);
        buffer.move_line_start(false);
        assert_eq!(buffer.cursor(), 6);
        buffer.move_line_start(false);
        assert_eq!(buffer.cursor(), 2);
        buffer.move_line_start(false);
        assert_eq!(buffer.cursor(), 6);
        buffer.move_line_end(true);
        assert_eq!(buffer.selected_text().as_deref(), Some("abc"));
    }

    #[test]
    fn word_motions_follow_vim() {
        let buffer = buffer_at("foo.bar  baz\n\nqux", 0);
        assert_eq!(buffer.word_forward_start(0), 3);
        assert_eq!(buffer.word_forward_start(3), 4);
        assert_eq!(buffer.word_forward_start(4), 9);
        assert_eq!(buffer.word_forward_start(9), 13);
        assert_eq!(buffer.word_forward_start(13), 14);
        assert_eq!(buffer.word_forward_start(14), 17);
        assert_eq!(buffer.word_backward_start(14), 13);
        assert_eq!(buffer.word_backward_start(13), 9);
        assert_eq!(buffer.word_backward_start(9), 4);
        assert_eq!(buffer.word_backward_start(5), 4);
        assert_eq!(buffer.word_backward_start(4), 3);
        assert_eq!(buffer.word_backward_start(0), 0);
        assert_eq!(buffer.word_forward_end(0), 2);
        assert_eq!(buffer.word_forward_end(2), 3);
        assert_eq!(buffer.word_forward_end(3), 6);
        assert_eq!(buffer.word_forward_end(6), 11);
        assert_eq!(buffer.word_forward_end(11), 16);
        assert_eq!(buffer.word_forward_end(16), 16);
    }

    #[test]
    fn word_motions_treat_an_accented_letter_as_part_of_the_word() {
        let buffer = buffer_at("cafe\u{301} ok", 0);
        assert_eq!(buffer.word_forward_start(0), 6);
        assert_eq!(buffer.word_forward_end(0), 3);
        assert_eq!(buffer.word_backward_start(6), 0);
    }

    #[test]
    fn delete_line_returns_the_line_and_leaves_no_empty_line() {
        let mut buffer = buffer_at("a\n  b\nc", 3);
        assert_eq!(buffer.yank_line(), "  b\n");
        assert_eq!(buffer.delete_line(), "  b\n");
        assert_eq!(buffer.text(), "a\nc");
        assert_eq!(buffer.cursor(), 2);
        assert_eq!(buffer.delete_line(), "c\n");
        assert_eq!(buffer.text(), "a");
        assert_eq!(buffer.delete_line(), "a\n");
        assert_eq!(buffer.text(), "");
        assert_eq!(buffer.delete_line(), "\n");
        buffer.undo();
        assert_eq!(buffer.text(), "a");
        buffer.undo();
        buffer.undo();
        assert_eq!(buffer.text(), "a\n  b\nc");
        assert_eq!(buffer.cursor(), 3);
    }

    #[test]
    fn paste_lines_puts_whole_lines_below_or_above() {
        let mut buffer = buffer_at("a\nb", 0);
        buffer.paste_lines("  x\n", true);
        assert_eq!(buffer.text(), "a\n  x\nb");
        assert_eq!(buffer.cursor(), 4);
        buffer.move_doc_end(false);
        buffer.paste_lines("y", true);
        assert_eq!(buffer.text(), "a\n  x\nb\ny");
        buffer.paste_lines("z\n", false);
        assert_eq!(buffer.text(), "a\n  x\nb\nz\ny");
        assert_eq!(buffer.cursor(), 8);
    }

    #[test]
    fn paste_converts_line_breaks_to_the_files_and_is_one_step() {
        let mut buffer = buffer_at("a\r\nb\r\n", 1);
        buffer.paste("x\ry\nz\r\n");
        assert_eq!(buffer.text(), "ax\r\ny\r\nz\r\n\r\nb\r\n");
        buffer.undo();
        assert_eq!(buffer.text(), "a\r\nb\r\n");
    }

    #[test]
    fn cut_removes_and_returns_the_selection() {
        let mut buffer = buffer_at("hello world", 0);
        assert_eq!(buffer.cut(), None);
        buffer.move_word_end(true);
        buffer.move_right(true);
        assert_eq!(buffer.cut().as_deref(), Some("hello"));
        assert_eq!(buffer.text(), " world");
        buffer.select_all();
        buffer.insert("new");
        assert_eq!(buffer.text(), "new");
        buffer.undo();
        assert_eq!(buffer.selection(), Selection::new(0, 6));
    }

    #[test]
    fn line_accessors_include_endings_and_count_the_last_empty_line() {
        let buffer = buffer_at("a\r\nb\n", 0);
        assert_eq!(buffer.len_lines(), 3);
        assert_eq!(buffer.line(0), "a\r\n");
        assert_eq!(buffer.line(1), "b\n");
        assert_eq!(buffer.line(2), "");
        assert_eq!(buffer.line(99), "");
        assert_eq!(buffer.line_to_char(1), 3);
        assert_eq!(buffer.line_to_char(99), 5);
        assert_eq!(buffer.char_to_line(99), 2);
        assert_eq!(buffer.line_end_char(0), 1);
    }

    #[test]
    fn an_empty_document_survives_every_operation() {
        let mut buffer = Buffer::from_text("");
        buffer.move_left(true);
        buffer.move_right(true);
        buffer.move_up(true);
        buffer.move_down(false);
        buffer.page_up(50, false);
        buffer.page_down(50, true);
        buffer.move_word_forward(false);
        buffer.move_word_backward(false);
        buffer.move_word_end(false);
        buffer.move_line_start(false);
        buffer.move_line_end(false);
        buffer.goto_line(7);
        buffer.move_to(99, true);
        buffer.delete_backward();
        buffer.delete_forward();
        assert_eq!(buffer.cut(), None);
        assert_eq!(buffer.selected_text(), None);
        assert_eq!(buffer.delete_line(), "\n");
        assert!(!buffer.undo());
        assert!(!buffer.redo());
        assert_eq!(buffer.find_next(&re("x"), 5), None);
        assert_eq!(buffer.find_prev(&re(""), 5), Some(0..0));
        assert_eq!(buffer.replace_all(&re("x"), "y"), 0);
        assert!(!buffer.replace_selection(&re("x"), "y"));
        assert_eq!(buffer.matching_bracket(0), None);
        assert_eq!(buffer.cursor_line_col(), (0, 0));
        assert_eq!(buffer.display_col_to_char(5, 5), 0);
        assert_eq!(buffer.len_lines(), 1);
        assert_eq!(buffer.text(), "");
        assert!(!buffer.is_dirty());
        buffer.end_group();
        buffer.insert_tab();
        buffer.insert_newline();
        assert_eq!(buffer.text(), "    \n    ");
    }

    mod model {
        //! A second, deliberately naive implementation on a `Vec<char>`,
        //! with cluster boundaries from segmenting the whole string.

        use super::super::*;
        use proptest::prelude::*;
        use unicode_segmentation::UnicodeSegmentation;
        use unicode_width::UnicodeWidthStr;

        const PIECES: &[&str] = &[
            "a",
            "b",
            "xyz",
            " ",
            "    ",
            "\t",
            "\n",
            "\r\n",
            "e\u{301}",
            "\u{301}",
            "👨\u{200d}👩\u{200d}👧",
            "🇫🇷",
            "中",
            "{",
            "(",
            ":",
            "}",
            "_w",
            ".",
        ];

        const REPLACEMENTS: &[(&str, &str)] = &[
            ("a", "A"),
            (r"(\w)(\w)", "$2$1"),
            (r"[ \t]+", " "),
            ("e\u{301}|中", "<$0>"),
            ("b", ""),
        ];

        fn piece() -> impl Strategy<Value = String> {
            proptest::sample::select(PIECES).prop_map(str::to_string)
        }

        fn text() -> impl Strategy<Value = String> {
            proptest::collection::vec(piece(), 0..16).prop_map(|p| p.concat())
        }

        #[derive(Debug, Clone)]
        enum Op {
            Insert(String),
            Paste(String),
            Newline,
            Tab,
            Backspace,
            Delete,
            Left(bool),
            Right(bool),
            MoveTo(usize, bool),
            SelectAll,
            Cut,
            Copy,
            PasteClipboard,
            DeleteLine,
            ReplaceAll(usize),
            Up(bool),
            Down(bool),
            PageDown(usize),
            WordForward(bool),
            WordBackward(bool),
            WordEnd(bool),
            LineStart(bool),
            LineEnd(bool),
            DocStart(bool),
            DocEnd(bool),
            GotoLine(usize),
            Undo,
            Redo,
            Commit,
            RoundTrip,
        }

        fn edit_op() -> impl Strategy<Value = Op> {
            prop_oneof![
                4 => piece().prop_map(Op::Insert),
                1 => text().prop_map(Op::Paste),
                1 => Just(Op::Newline),
                1 => Just(Op::Tab),
                3 => Just(Op::Backspace),
                2 => Just(Op::Delete),
                2 => any::<bool>().prop_map(Op::Left),
                2 => any::<bool>().prop_map(Op::Right),
                2 => (0..80usize, any::<bool>()).prop_map(|(i, e)| Op::MoveTo(i, e)),
                1 => Just(Op::SelectAll),
                1 => Just(Op::Cut),
                1 => Just(Op::Copy),
                1 => Just(Op::PasteClipboard),
                1 => Just(Op::DeleteLine),
                1 => (0..REPLACEMENTS.len()).prop_map(Op::ReplaceAll),
                1 => any::<bool>().prop_map(Op::Up),
                1 => any::<bool>().prop_map(Op::Down),
                1 => (0..5usize).prop_map(Op::PageDown),
                1 => any::<bool>().prop_map(Op::WordForward),
                1 => any::<bool>().prop_map(Op::WordBackward),
                1 => any::<bool>().prop_map(Op::WordEnd),
                1 => any::<bool>().prop_map(Op::LineStart),
                1 => any::<bool>().prop_map(Op::LineEnd),
                1 => any::<bool>().prop_map(Op::DocStart),
                1 => any::<bool>().prop_map(Op::DocEnd),
                1 => (0..8usize).prop_map(Op::GotoLine),
            ]
        }

        fn op_with_undo() -> impl Strategy<Value = Op> {
            prop_oneof![
                8 => edit_op(),
                2 => Just(Op::Undo),
                1 => Just(Op::Redo),
            ]
        }

        fn op_with_round_trips() -> impl Strategy<Value = Op> {
            prop_oneof![
                8 => edit_op(),
                1 => Just(Op::RoundTrip),
                1 => Just(Op::Commit),
            ]
        }

        type Snapshot = (Vec<char>, Selection);

        #[derive(Debug)]
        struct Model {
            text: Vec<char>,
            sel: Selection,
            ending: LineEnding,
            indent: IndentUnit,
            tab_width: usize,
            clipboard: String,
            undo: Vec<(Snapshot, Snapshot)>,
            redo: Vec<(Snapshot, Snapshot)>,
        }

        fn is_break_at(text: &[char], i: usize) -> bool {
            match text.get(i) {
                Some('\r') => text.get(i + 1) != Some(&'\n'),
                Some(&c) => is_line_break(c),
                None => false,
            }
        }

        impl Model {
            fn new(buffer: &Buffer) -> Model {
                Model {
                    text: buffer.text().chars().collect(),
                    sel: buffer.selection(),
                    ending: buffer.line_ending(),
                    indent: buffer.indent_unit(),
                    tab_width: buffer.tab_width(),
                    clipboard: String::new(),
                    undo: Vec::new(),
                    redo: Vec::new(),
                }
            }

            fn string(&self) -> String {
                self.text.iter().collect()
            }

            fn len(&self) -> usize {
                self.text.len()
            }

            fn boundaries(&self) -> Vec<usize> {
                let s = self.string();
                let mut out = vec![0];
                let mut pos = 0;
                for g in s.graphemes(true) {
                    pos += g.chars().count();
                    out.push(pos);
                }
                out
            }

            fn next(&self, pos: usize) -> usize {
                let len = self.len();
                self.boundaries()
                    .into_iter()
                    .find(|b| *b > pos)
                    .unwrap_or(len)
            }

            fn prev(&self, pos: usize) -> usize {
                self.boundaries()
                    .into_iter()
                    .rev()
                    .find(|b| *b < pos)
                    .unwrap_or(0)
            }

            fn snap(&self, pos: usize) -> usize {
                let pos = pos.min(self.len());
                self.boundaries()
                    .into_iter()
                    .rev()
                    .find(|b| *b <= pos)
                    .unwrap_or(0)
            }

            fn line_start(&self, pos: usize) -> usize {
                (0..pos)
                    .rev()
                    .find(|&i| is_break_at(&self.text, i))
                    .map_or(0, |i| i + 1)
            }

            fn line_index(&self, pos: usize) -> usize {
                (0..pos).filter(|&i| is_break_at(&self.text, i)).count()
            }

            /// Where the text of the line starting at `start` ends.
            fn content_end(&self, start: usize) -> usize {
                (start..self.len())
                    .find(|&i| is_line_break(self.text[i]))
                    .unwrap_or(self.len())
            }

            fn first_non_blank(&self, line_start: usize) -> usize {
                let end = self.content_end(line_start);
                let content: String = self.text[line_start..end].iter().collect();
                let mut pos = line_start;
                for g in content.graphemes(true) {
                    if g != " " && g != "\t" {
                        return pos;
                    }
                    pos += g.chars().count();
                }
                end
            }

            fn display_col(&self, pos: usize) -> usize {
                let start = self.line_start(pos);
                let end = self.content_end(start);
                let content: String = self.text[start..end].iter().collect();
                let (mut col, mut at) = (0, start);
                for g in content.graphemes(true) {
                    at += g.chars().count();
                    if at > pos {
                        break;
                    }
                    col += if g == "\t" {
                        self.tab_width - col % self.tab_width
                    } else {
                        g.width()
                    };
                }
                col
            }

            /// Replaces `range` and puts the cursor after it; whether the
            /// text changed.
            fn replace(&mut self, range: Range<usize>, text: &str) -> bool {
                let new: Vec<char> = text.chars().collect();
                let changed = self.text[range.clone()] != new[..];
                self.sel = Selection::point(range.start + new.len());
                self.text.splice(range, new);
                changed
            }

            fn normalize(&self, text: &str) -> String {
                text.replace("\r\n", "\n")
                    .replace('\r', "\n")
                    .replace('\n', self.ending.as_str())
            }

            fn put_head(&mut self, head: usize, extend: bool) {
                self.sel = if extend {
                    Selection::new(self.sel.anchor, head)
                } else {
                    Selection::point(head)
                };
            }

            /// Applies an edit or a move the model knows; `None` for the
            /// moves it leaves to the buffer, `Some(changed)` otherwise.
            fn apply(&mut self, op: &Op) -> Option<bool> {
                let range = self.sel.range();
                let changed = match op {
                    Op::Insert(text) => self.replace(range, text),
                    Op::Paste(text) => {
                        let text = self.normalize(text);
                        self.replace(range, &text)
                    }
                    Op::PasteClipboard => {
                        let text = self.normalize(&self.clipboard.clone());
                        self.replace(range, &text)
                    }
                    Op::Newline => {
                        let start = range.start;
                        let prefix = &self.text[self.line_start(start)..start];
                        let mut text = self.ending.as_str().to_string();
                        text.extend(prefix.iter().take_while(|c| **c == ' ' || **c == '\t'));
                        if let Some('{' | '[' | '(' | ':') =
                            prefix.iter().rev().find(|c| !c.is_whitespace())
                        {
                            text.push_str(&self.indent.text());
                        }
                        self.replace(range, &text)
                    }
                    Op::Tab => {
                        let text = match self.indent {
                            IndentUnit::Tab => "\t".to_string(),
                            IndentUnit::Spaces(n) => {
                                " ".repeat(n - self.display_col(range.start) % n)
                            }
                        };
                        self.replace(range, &text)
                    }
                    Op::Backspace if !range.is_empty() => self.replace(range, ""),
                    Op::Backspace => {
                        let head = self.sel.head;
                        let start = self.line_start(head);
                        let mut from = self.prev(head);
                        if let IndentUnit::Spaces(n) = self.indent
                            && head > start
                            && self.text[start..head].iter().all(|c| *c == ' ')
                        {
                            let partial = (head - start) % n;
                            from = head - if partial == 0 { n } else { partial };
                        }
                        self.replace(from..head, "")
                    }
                    Op::Delete if !range.is_empty() => self.replace(range, ""),
                    Op::Delete => {
                        let head = self.sel.head;
                        let to = self.next(head);
                        self.replace(head..to, "")
                    }
                    Op::Cut if !range.is_empty() => {
                        self.clipboard = self.text[range.clone()].iter().collect();
                        self.replace(range, "")
                    }
                    Op::Copy if !range.is_empty() => {
                        self.clipboard = self.text[range].iter().collect();
                        false
                    }
                    Op::Cut | Op::Copy => false,
                    Op::DeleteLine => {
                        let head = self.sel.head;
                        let start = self.line_start(head);
                        let content_end = self.content_end(start);
                        let last = content_end == self.len();
                        let end = if last {
                            content_end
                        } else if self.text[content_end] == '\r'
                            && self.text.get(content_end + 1) == Some(&'\n')
                        {
                            content_end + 2
                        } else {
                            content_end + 1
                        };
                        let mut yanked: String = self.text[start..end].iter().collect();
                        if last {
                            yanked.push_str(self.ending.as_str());
                        }
                        self.clipboard = yanked;
                        let from = if last && start > 0 {
                            self.prev(start)
                        } else {
                            start
                        };
                        let changed = self.replace(from..end, "");
                        let line = self.line_start(from);
                        self.sel = Selection::point(self.first_non_blank(line));
                        changed
                    }
                    Op::ReplaceAll(i) => {
                        let (pattern, replacement) = REPLACEMENTS[*i];
                        let re = Regex::new(pattern).ok()?;
                        let s = self.string();
                        let char_at = |b: usize| s[..b].chars().count();
                        let matches: Vec<(usize, usize, usize)> = re
                            .captures_iter(&s)
                            .filter_map(|caps| {
                                let m = caps.get(0)?;
                                let mut out = String::new();
                                caps.expand(replacement, &mut out);
                                // Replacing a match with itself leaves the
                                // cursor alone.
                                (out != m.as_str()).then(|| {
                                    (char_at(m.start()), char_at(m.end()), out.chars().count())
                                })
                            })
                            .collect();
                        let map = |pos: usize| {
                            let pos = matches
                                .iter()
                                .find(|(a, b, _)| *a < pos && pos < *b)
                                .map_or(pos, |(a, _, _)| *a);
                            let shift: isize = matches
                                .iter()
                                .filter(|(a, b, _)| *a < pos && *b <= pos)
                                .map(|(a, b, n)| *n as isize - (*b - *a) as isize)
                                .sum();
                            pos.saturating_add_signed(shift)
                        };
                        let new: Vec<char> = re.replace_all(&s, replacement).chars().collect();
                        let changed = new != self.text;
                        self.sel = Selection::new(map(self.sel.anchor), map(self.sel.head));
                        self.text = new;
                        changed
                    }
                    Op::Left(extend) => {
                        if !extend && !self.sel.is_empty() {
                            self.sel = Selection::point(self.sel.start());
                        } else {
                            self.put_head(self.prev(self.sel.head), *extend);
                        }
                        false
                    }
                    Op::Right(extend) => {
                        if !extend && !self.sel.is_empty() {
                            self.sel = Selection::point(self.sel.end());
                        } else {
                            self.put_head(self.next(self.sel.head), *extend);
                        }
                        false
                    }
                    Op::MoveTo(pos, extend) => {
                        let anchor = if *extend { self.sel.anchor } else { *pos };
                        self.sel = Selection::new(self.snap(anchor), self.snap(*pos));
                        false
                    }
                    Op::SelectAll => {
                        self.sel = Selection::new(0, self.len());
                        false
                    }
                    Op::GotoLine(n) => {
                        let lines = self.line_index(self.len()) + 1;
                        let target = n.saturating_sub(1).min(lines - 1);
                        let start = (0..=self.len())
                            .find(|&p| self.line_start(p) == p && self.line_index(p) == target)
                            .unwrap_or(0);
                        self.sel = Selection::point(self.first_non_blank(start));
                        false
                    }
                    _ => return None,
                };
                Some(changed)
            }

            fn snapshot(&self) -> Snapshot {
                (self.text.clone(), self.sel)
            }

            fn restore(&mut self, (text, sel): Snapshot) {
                self.text = text;
                self.sel = sel;
            }
        }

        fn extend_of(op: &Op) -> Option<bool> {
            match op {
                Op::Up(e)
                | Op::Down(e)
                | Op::WordForward(e)
                | Op::WordBackward(e)
                | Op::WordEnd(e)
                | Op::LineStart(e)
                | Op::LineEnd(e)
                | Op::DocStart(e)
                | Op::DocEnd(e) => Some(*e),
                Op::PageDown(_) => Some(false),
                _ => None,
            }
        }

        /// Applies `op` to the buffer; returns what cut/copy/delete_line gave.
        fn run(buffer: &mut Buffer, op: &Op) -> Option<String> {
            match op {
                Op::Insert(text) => buffer.insert(text),
                Op::Paste(text) => buffer.paste(text),
                Op::Newline => buffer.insert_newline(),
                Op::Tab => buffer.insert_tab(),
                Op::Backspace => buffer.delete_backward(),
                Op::Delete => buffer.delete_forward(),
                Op::Left(e) => buffer.move_left(*e),
                Op::Right(e) => buffer.move_right(*e),
                Op::MoveTo(pos, e) => buffer.move_to(*pos, *e),
                Op::SelectAll => buffer.select_all(),
                Op::Cut => return buffer.cut(),
                Op::Copy => return buffer.selected_text(),
                Op::PasteClipboard => {}
                Op::DeleteLine => return Some(buffer.delete_line()),
                Op::ReplaceAll(i) => {
                    let (pattern, replacement) = REPLACEMENTS[*i];
                    if let Ok(re) = Regex::new(pattern) {
                        buffer.replace_all(&re, replacement);
                    }
                }
                Op::Up(e) => buffer.move_up(*e),
                Op::Down(e) => buffer.move_down(*e),
                Op::PageDown(n) => buffer.page_down(*n, false),
                Op::WordForward(e) => buffer.move_word_forward(*e),
                Op::WordBackward(e) => buffer.move_word_backward(*e),
                Op::WordEnd(e) => buffer.move_word_end(*e),
                Op::LineStart(e) => buffer.move_line_start(*e),
                Op::LineEnd(e) => buffer.move_line_end(*e),
                Op::DocStart(e) => buffer.move_doc_start(*e),
                Op::DocEnd(e) => buffer.move_doc_end(*e),
                Op::GotoLine(n) => buffer.goto_line(*n),
                Op::Undo => {
                    buffer.undo();
                }
                Op::Redo => {
                    buffer.redo();
                }
                Op::Commit => buffer.commit_group(),
                Op::RoundTrip => {}
            }
            None
        }

        /// Runs one op on both; checks text, selection and returned text.
        fn step(buffer: &mut Buffer, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
            if let Op::PasteClipboard = op {
                buffer.paste(&model.clipboard);
            }
            let old_sel = buffer.selection();
            let old_line = buffer.char_to_line(old_sel.head);
            let returned = run(buffer, op);
            let before = model.snapshot();
            let clipboard = model.clipboard.clone();
            match model.apply(op) {
                Some(changed) => {
                    if changed {
                        model.undo.push((before, model.snapshot()));
                        model.redo.clear();
                    }
                }
                None => match op {
                    Op::Undo => {
                        if let Some((before, after)) = model.undo.pop() {
                            model.restore(before.clone());
                            model.redo.push((before, after));
                        }
                    }
                    Op::Redo => {
                        if let Some((before, after)) = model.redo.pop() {
                            model.restore(after.clone());
                            model.undo.push((before, after));
                        }
                    }
                    Op::Commit | Op::RoundTrip => {}
                    _ => {
                        // A move the model does not compute: check it is
                        // sane, then follow the buffer.
                        let sel = buffer.selection();
                        let boundaries = model.boundaries();
                        prop_assert!(boundaries.contains(&sel.head), "{op:?} -> {sel:?}");
                        if extend_of(op) == Some(true) {
                            prop_assert_eq!(sel.anchor, old_sel.anchor);
                        } else {
                            prop_assert!(sel.is_empty());
                        }
                        let line = model.line_index(sel.head);
                        let last = model.line_index(model.len());
                        match op {
                            Op::Up(_) => prop_assert_eq!(line, old_line.saturating_sub(1)),
                            Op::Down(_) => prop_assert_eq!(line, (old_line + 1).min(last)),
                            Op::PageDown(n) => prop_assert_eq!(line, (old_line + n).min(last)),
                            _ => {}
                        }
                        model.sel = sel;
                    }
                },
            }
            prop_assert_eq!(buffer.text(), model.string(), "after {:?}", op);
            prop_assert_eq!(buffer.selection(), model.sel, "after {:?}", op);
            match op {
                Op::Cut | Op::Copy if returned.is_some() => {
                    prop_assert_eq!(returned.as_deref(), Some(model.clipboard.as_str()));
                }
                Op::Cut | Op::Copy => prop_assert_eq!(&clipboard, &model.clipboard),
                Op::DeleteLine => {
                    prop_assert_eq!(returned.as_deref(), Some(model.clipboard.as_str()));
                }
                _ => {}
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// With a boundary after every op, each op is one undo step, so
            /// the model can undo and redo by snapshots.
            #[test]
            fn buffer_matches_the_model_through_edits_undo_and_redo(
                initial in text(),
                ops in proptest::collection::vec(op_with_undo(), 0..40),
            ) {
                let mut buffer = Buffer::from_text(&initial);
                let mut model = Model::new(&buffer);
                for op in &ops {
                    step(&mut buffer, &mut model, op)?;
                    buffer.commit_group();
                    prop_assert_eq!(buffer.can_undo(), !model.undo.is_empty());
                    prop_assert_eq!(buffer.can_redo(), !model.redo.is_empty());
                }
                while buffer.undo() {}
                prop_assert_eq!(buffer.text(), initial);
                prop_assert!(!buffer.is_dirty());
            }

            /// With natural grouping: undo only ever returns to texts the
            /// buffer had, in reverse order, down to the original; undo then
            /// redo right after an edit gives back text and selection.
            #[test]
            fn grouped_undo_walks_back_through_past_texts(
                initial in text(),
                ops in proptest::collection::vec(op_with_round_trips(), 0..40),
            ) {
                let mut buffer = Buffer::from_text(&initial);
                let mut model = Model::new(&buffer);
                let mut seen = vec![initial.clone()];
                let mut last_op_edited = false;
                for op in &ops {
                    if let Op::RoundTrip = op {
                        let text = buffer.text();
                        let sel = buffer.selection();
                        let version = buffer.version();
                        if buffer.undo() {
                            prop_assert!(buffer.version() > version);
                            prop_assert!(buffer.redo());
                            prop_assert_eq!(buffer.text(), text);
                            // Redo restores the selection its group's last
                            // edit left, which is the current one only
                            // when nothing moved since.
                            if last_op_edited {
                                prop_assert_eq!(buffer.selection(), sel);
                            }
                            model.sel = buffer.selection();
                        }
                        continue;
                    }
                    let version = buffer.version();
                    step(&mut buffer, &mut model, op)?;
                    last_op_edited = buffer.version() != version;
                    prop_assert_eq!(buffer.version() != version, seen.last() != Some(&buffer.text()));
                    if seen.last() != Some(&buffer.text()) {
                        seen.push(buffer.text());
                    }
                }
                let last = buffer.text();
                let mut cursor = seen.len();
                while buffer.undo() {
                    let text = buffer.text();
                    let found = seen[..cursor].iter().rposition(|t| *t == text);
                    prop_assert!(found.is_some(), "undo reached a text never seen: {:?}", text);
                    cursor = found.unwrap_or(0);
                }
                prop_assert_eq!(buffer.text(), initial);
                while buffer.redo() {}
                prop_assert_eq!(buffer.text(), last);
            }
        }
    }
}
