//! What vim's commands do to a buffer: the state the grammar's commands
//! work with (mode, registers, the selection's anchor, the wanted column,
//! the last `f`, the search, the last change for `.`) and the changes,
//! each one undo step (a change that enters insert mode takes the typing
//! into the same step, as vim does).

use std::ops::Range;

use regex::Regex;

use super::edit::{
    Region, apply_insert_key, begin_insert, block_copy, block_piece, charwise, delete_lines,
    ends_with_break, insert_text, join, lines_region, map_chars, open_line, register_of,
    replace_chars, set_cursor, shift_at, shift_lines, to_lower, to_upper, toggle_case, typed_len,
};
use super::motion::{self, Context, Kind, Text};
use super::registers::{Marks, Register, Registers, Shape, Why};
use super::{
    Action, Command, Find, Grammar, InsertAt, Key, Motion, Operator, Parsed, ScrollTo, Target,
    VisualKind, objects,
};
use crate::editor::buffer::Buffer;

pub(crate) use super::motion::Window;

mod block;

/// The most text a count may repeat into the buffer (`999999p`): beyond
/// it the command does nothing rather than exhaust memory.
const MAX_REPEAT_BYTES: usize = 16 << 20;
/// The most times a count replays typing with line breaks or deletions in
/// it, key by key (`99999o`).
const MAX_REPLAYS: usize = 100_000;

/// The mode vim is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VimMode {
    Normal,
    Insert,
    Visual(VisualKind),
}

/// What a command asks of the pane beyond the buffer.
#[derive(Debug, Clone)]
pub(crate) enum Effect {
    /// Text for the terminal clipboard (the `"+` register).
    Clipboard(String),
    /// `zt` `zz` `zb`.
    Scroll(ScrollTo),
    /// `*` or `#` searched for this pattern; `n` continues it.
    Search(Regex),
    /// The cursor moved to a match of the search (`n`, `N`, `*`, `#`),
    /// going down the text (`forward`) or up.
    Searched { forward: bool },
    /// A change was asked for where nothing may be changed.
    Refused,
}

/// A key typed in insert mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InsertKey {
    Text(String),
    Newline,
    Backspace,
    Delete,
    Tab,
}

/// The last change, for `.`: the command and what was typed after it.
#[derive(Debug, Clone)]
struct Change {
    command: Command,
    typed: Vec<InsertKey>,
}

/// The text typed since insert mode began, and what to do with it when it
/// ends (repeat it count times, copy it down a block).
#[derive(Debug, Clone)]
struct Insertion {
    count: usize,
    typed: Vec<InsertKey>,
    /// The change to remember for `.`; `None` while repeating.
    change: Option<Command>,
    /// Open a line before each repetition (`3o`, `3O`).
    open_line: bool,
    /// Block insert: the other lines, the display column, whether it
    /// appends; and where the cursor goes after (the block's corner).
    block: Option<(Range<usize>, usize, bool)>,
    home: Option<usize>,
}

/// vim for one pane: the grammar, the registers, the mode and what the
/// commands remember between them. Marks belong to each buffer.
#[derive(Debug, Default)]
pub(crate) struct Vim {
    grammar: Grammar,
    registers: Registers,
    mode: VimModeState,
    /// The other end of a visual selection.
    anchor: usize,
    /// The display column `j`/`k` aim for; `usize::MAX` after `$`.
    curswant: Option<usize>,
    last_find: Option<(Find, char)>,
    search: Option<Regex>,
    /// The search went up the text (`?`, `#`): `n` goes on up.
    search_backward: bool,
    last_change: Option<Change>,
    insertion: Option<Insertion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct VimModeState(Option<VimMode>);

impl Vim {
    pub(crate) fn mode(&self) -> VimMode {
        self.mode.0.unwrap_or(VimMode::Normal)
    }

    fn set_mode(&mut self, mode: VimMode) {
        self.mode = VimModeState(Some(mode));
    }

    /// Whether a command is half typed: the next key belongs to it.
    pub(crate) fn is_pending(&self) -> bool {
        self.grammar.is_pending()
    }

    /// The search `n` and `N` continue (set by `/` or `?` in the pane, or
    /// `*`), and its direction: `n` goes on `backward` after `?`.
    pub(crate) fn set_search(&mut self, re: Regex, backward: bool) {
        self.search = Some(re);
        self.search_backward = backward;
    }

    /// The chars a visual selection covers, for drawing; `None` outside
    /// visual mode. A block gives one range per line.
    pub(crate) fn highlight(&self, buf: &Buffer) -> Vec<Range<usize>> {
        let text = Text { buf };
        let cursor = buf.cursor();
        match self.mode() {
            VimMode::Visual(VisualKind::Block) => {
                let (lines, cols) = self.block(&text, cursor);
                (lines.0..=lines.1)
                    .map(|l| block_piece(&text, l, cols.0, cols.1))
                    .collect()
            }
            VimMode::Visual(kind) => vec![self.visual_region(&text, cursor, kind).range],
            _ => Vec::new(),
        }
    }

    /// Leaves any mode for normal mode (another tab, a prompt).
    pub(crate) fn reset(&mut self, buf: &mut Buffer) {
        if self.mode() == VimMode::Insert {
            self.leave_insert(buf);
        }
        self.grammar.clear();
        self.set_mode(VimMode::Normal);
    }

    /// One key in normal, visual or insert mode. With `read_only` a
    /// command that would change the text is refused.
    pub(crate) fn key(
        &mut self,
        buf: &mut Buffer,
        marks: &mut Marks,
        window: Window,
        key: Key,
        read_only: bool,
    ) -> Vec<Effect> {
        if self.mode() == VimMode::Insert {
            match key {
                Key::Esc => self.leave_insert(buf),
                Key::Char(c) => self.insert_key(buf, InsertKey::Text(c.to_string())),
                Key::Enter => self.insert_key(buf, InsertKey::Newline),
                Key::Backspace => self.insert_key(buf, InsertKey::Backspace),
                Key::Ctrl('i') => self.insert_key(buf, InsertKey::Tab),
                _ => {}
            }
            return Vec::new();
        }
        let visual = matches!(self.mode(), VimMode::Visual(_));
        match self.grammar.push(key, visual) {
            Parsed::Done(command) if read_only && command.action.changes() => vec![Effect::Refused],
            Parsed::Done(command) => {
                let text = Text { buf };
                let (lines, line) = (text.lines(), text.line_of(buf.cursor()));
                let effects = self.run(buf, marks, window, command);
                let text = Text { buf };
                let delta = text.lines() as isize - lines as isize;
                if delta != 0 {
                    // `J` keeps its first line and removes the ones after.
                    let joined = usize::from(command.action == Action::Join);
                    marks.shift(line.min(text.line_of(buf.cursor())) + joined, delta);
                }
                effects
            }
            Parsed::Pending | Parsed::Invalid => Vec::new(),
        }
    }

    /// A key typed in insert mode: applied and kept for `.` and counts.
    pub(crate) fn insert_key(&mut self, buf: &mut Buffer, key: InsertKey) {
        apply_insert_key(buf, &key);
        if let Some(insertion) = &mut self.insertion {
            insertion.typed.push(key);
        }
    }

    /// `Esc` in insert mode: the typing repeated count times (or down the
    /// block), the cursor back onto the last character typed, and the
    /// whole change closed as one undo step.
    pub(crate) fn leave_insert(&mut self, buf: &mut Buffer) {
        if let Some(insertion) = self.insertion.take() {
            let typed = typed_len(&insertion.typed);
            // A count never makes more text than a put may (`999999ix`).
            let count = insertion.count.min(MAX_REPEAT_BYTES / typed.max(1)).max(1);
            let plain: Option<String> = insertion
                .typed
                .iter()
                .map(|k| match k {
                    InsertKey::Text(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect();
            match plain {
                // Typed text alone goes in as one edit, however many times.
                Some(text) if !insertion.open_line => {
                    if count > 1 {
                        buf.insert(&text.repeat(count - 1));
                    }
                }
                _ => {
                    for _ in 1..count.min(MAX_REPLAYS) {
                        // Each repetition opens its line below the one just
                        // typed, for `O` too, so the lines read in typing order.
                        if insertion.open_line {
                            open_line(buf, true);
                        }
                        for key in &insertion.typed {
                            apply_insert_key(buf, key);
                        }
                    }
                }
            }
            if let Some((lines, col, append)) = &insertion.block {
                block_copy(buf, &insertion.typed, lines.clone(), *col, *append);
            }
            if let Some(home) = insertion.home {
                // Never past a line's last character in normal mode: a
                // block changed to nothing at a line's end (`<C-v>c<Esc>`
                // on its last column) leaves the cursor on the new last.
                let text = Text { buf };
                let home = home.min(text.last_char(text.line_of(home)));
                set_cursor(buf, home);
                buf.end_group();
                self.curswant = None;
                self.set_mode(VimMode::Normal);
                return;
            }
            if let Some(command) = insertion.change {
                self.last_change = Some(Change {
                    command,
                    typed: insertion.typed,
                });
            }
        }
        let text = Text { buf };
        let cursor = buf.cursor();
        let line = text.line_of(cursor);
        let back = if cursor > text.start(line) {
            buf.prev_grapheme(cursor)
        } else {
            cursor
        };
        set_cursor(buf, back.min(text.last_char(line)));
        buf.end_group();
        self.curswant = None;
        self.set_mode(VimMode::Normal);
    }

    fn context<'a>(&'a self, marks: &'a Marks, window: Window, operator: bool) -> Context<'a> {
        Context {
            curswant: self.curswant,
            last_find: self.last_find,
            search: self.search.as_ref(),
            search_backward: self.search_backward,
            marks,
            window,
            operator,
        }
    }

    /// Runs a complete command.
    pub(crate) fn run(
        &mut self,
        buf: &mut Buffer,
        marks: &mut Marks,
        window: Window,
        command: Command,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        let count = command.count;
        let n = count.unwrap_or(1).max(1);
        let visual = match self.mode() {
            VimMode::Visual(kind) => Some(kind),
            _ => None,
        };
        match command.action {
            Action::Escape => {
                if visual.is_some() {
                    self.set_mode(VimMode::Normal);
                }
            }
            Action::Move(m) => {
                if let Some(moved) = self.motion(buf, marks, window, m, count, false, &mut effects)
                {
                    set_cursor(buf, moved.pos);
                    self.after_move(m);
                }
            }
            Action::Operate(op, target) => {
                let region = self.region(buf, marks, window, op, target, count, &mut effects);
                if let Some(region) = region {
                    let changes = op != Operator::Yank;
                    if changes {
                        buf.begin_group();
                    }
                    effects.extend(self.operate(buf, op, region, command));
                    if changes && self.mode() != VimMode::Insert {
                        buf.end_group();
                        self.last_change = Some(Change {
                            command,
                            typed: Vec::new(),
                        });
                    }
                }
            }
            Action::OperateSelection { op, lines } => {
                if let Some(kind) = visual {
                    effects.extend(self.operate_selection(buf, op, lines, kind, command));
                }
            }
            Action::SelectObject(object) => {
                let text = Text { buf };
                if let Some(range) = objects::select(&text, buf.cursor(), object, n)
                    && !range.is_empty()
                {
                    self.anchor = range.start;
                    let last = buf.prev_grapheme(range.end);
                    set_cursor(buf, last.max(range.start));
                }
            }
            Action::Put { before } => self.change(buf, command, |vim, buf| {
                if let Some(kind) = visual {
                    vim.put_over_selection(buf, kind, command.register, n)
                } else {
                    vim.put(buf, command.register, before, n)
                }
            }),
            Action::ReplaceChar(c) => self.change(buf, command, |vim, buf| {
                if let Some(kind) = visual {
                    let text = Text { buf };
                    let ranges = vim.selection_ranges(&text, buf.cursor(), kind);
                    let start = ranges.first().map_or(buf.cursor(), |r| r.start);
                    for range in ranges.into_iter().rev() {
                        map_chars(buf, range, |_| c);
                    }
                    set_cursor(buf, start);
                    vim.set_mode(VimMode::Normal);
                    true
                } else {
                    replace_chars(buf, c, n)
                }
            }),
            Action::Join => self.change(buf, command, |vim, buf| {
                let text = Text { buf };
                let (first, count) = match visual {
                    Some(kind) => {
                        let region = vim.visual_region(&text, buf.cursor(), kind);
                        let l1 = text.line_of(region.range.start);
                        let l2 = text
                            .line_of(buf.prev_grapheme(region.range.end).max(region.range.start));
                        vim.set_mode(VimMode::Normal);
                        (l1, (l2 - l1 + 1).max(2))
                    }
                    None => (text.line_of(buf.cursor()), n.max(2)),
                };
                join(buf, first, count, visual.is_some())
            }),
            Action::ToggleCaseChars => self.change(buf, command, |_, buf| {
                let text = Text { buf };
                let cursor = buf.cursor();
                let end = text.end(text.line_of(cursor));
                if cursor >= end {
                    return false;
                }
                let mut stop = cursor;
                for _ in 0..n {
                    if stop >= end {
                        break;
                    }
                    stop = buf.next_grapheme(stop).min(end);
                }
                map_chars(buf, cursor..stop, toggle_case);
                set_cursor(buf, stop);
                true
            }),
            Action::Insert(at) => {
                buf.begin_group();
                begin_insert(buf, at);
                self.insertion = Some(Insertion {
                    count: n,
                    typed: Vec::new(),
                    change: Some(command),
                    open_line: matches!(at, InsertAt::LineBelow | InsertAt::LineAbove),
                    block: None,
                    home: None,
                });
                self.set_mode(VimMode::Insert);
            }
            Action::BlockInsert { append } => {
                if let Some(kind) = visual {
                    self.block_insert(buf, kind, append);
                }
            }
            Action::Undo | Action::Redo => {
                for _ in 0..n {
                    let stepped = if command.action == Action::Undo {
                        buf.undo()
                    } else {
                        buf.redo()
                    };
                    if !stepped {
                        break;
                    }
                }
                let cursor = buf.selection().start();
                set_cursor(buf, cursor);
            }
            Action::Repeat => {
                if let Some(change) = self.last_change.clone() {
                    self.repeat(buf, marks, window, change, count);
                }
            }
            Action::Visual(kind) => match visual {
                Some(current) if current == kind => self.set_mode(VimMode::Normal),
                Some(_) => self.set_mode(VimMode::Visual(kind)),
                None => {
                    self.anchor = buf.cursor();
                    self.set_mode(VimMode::Visual(kind));
                }
            },
            Action::SwapEnds => {
                let cursor = buf.cursor();
                set_cursor(buf, self.anchor);
                self.anchor = cursor;
            }
            Action::Scroll(to) => effects.push(Effect::Scroll(to)),
            Action::SetMark(name) => {
                let text = Text { buf };
                let cursor = buf.cursor();
                let line = text.line_of(cursor);
                marks.set(name, (line, cursor - text.start(line)));
            }
        }
        if self.mode() == VimMode::Normal {
            let text = Text { buf };
            let cursor = buf.cursor();
            let last = text.last_char(text.line_of(cursor));
            if cursor > last {
                set_cursor(buf, last);
            }
        }
        effects
    }

    /// Runs `f` as one undo step, remembered for `.` when it changed
    /// something.
    fn change(
        &mut self,
        buf: &mut Buffer,
        command: Command,
        f: impl FnOnce(&mut Vim, &mut Buffer) -> bool,
    ) {
        let visual = matches!(self.mode(), VimMode::Visual(_));
        buf.begin_group();
        let done = f(self, buf);
        buf.end_group();
        if done && !visual {
            self.last_change = Some(Change {
                command,
                typed: Vec::new(),
            });
        }
        if visual {
            self.set_mode(VimMode::Normal);
        }
    }

    fn after_move(&mut self, m: Motion) {
        match m {
            Motion::Up | Motion::Down => {}
            Motion::LineEnd => self.curswant = Some(usize::MAX),
            _ => self.curswant = None,
        }
        if matches!(m, Motion::Up | Motion::Down) && self.curswant.is_none() {
            // Set by the caller from the column moved from.
        }
        if let Motion::Find(find, c) = m {
            self.last_find = Some((find, c));
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "a motion needs all of vim's state"
    )]
    fn motion(
        &mut self,
        buf: &Buffer,
        marks: &Marks,
        window: Window,
        m: Motion,
        count: Option<usize>,
        operator: bool,
        effects: &mut Vec<Effect>,
    ) -> Option<motion::Moved> {
        let text = Text { buf };
        let from = buf.cursor();
        if matches!(m, Motion::Up | Motion::Down) && self.curswant.is_none() {
            self.curswant = Some(text.col(from));
        }
        if let Motion::SearchWord { .. } = m
            && let Some(re) = motion::word_pattern(&text, from)
        {
            effects.push(Effect::Search(re.clone()));
            self.search = Some(re);
            self.search_backward = matches!(m, Motion::SearchWord { forward: false });
        }
        let cx = self.context(marks, window, operator);
        let moved = motion::apply(&text, from, m, count, &cx);
        if moved.is_some() && !operator {
            match m {
                Motion::SearchNext { reverse } => effects.push(Effect::Searched {
                    forward: reverse == self.search_backward,
                }),
                Motion::SearchWord { forward } => effects.push(Effect::Searched { forward }),
                _ => {}
            }
        }
        if let Motion::Find(find, c) = m {
            self.last_find = Some((find, c));
        }
        moved
    }

    /// What an operator works on: the motion's, the object's or the lines'
    /// chars; `None` when the motion fails.
    #[expect(
        clippy::too_many_arguments,
        reason = "an operator needs all of vim's state"
    )]
    fn region(
        &mut self,
        buf: &Buffer,
        marks: &Marks,
        window: Window,
        op: Operator,
        target: Target,
        count: Option<usize>,
        effects: &mut Vec<Effect>,
    ) -> Option<Region> {
        let text = Text { buf };
        let cursor = buf.cursor();
        let n = count.unwrap_or(1).max(1);
        match target {
            Target::Lines => {
                let line = text.line_of(cursor);
                let last = text.last_line();
                if n > 1 && line == last {
                    return None;
                }
                let l2 = (line + n - 1).min(last);
                let mut region = lines_region(&text, line, l2);
                // vim puts the cursor on the last line's first non-blank
                // first; the operator starts at the earlier of the two.
                region.from = if op == Operator::Yank {
                    cursor
                } else {
                    cursor.min(text.first_non_blank(l2))
                };
                Some(region)
            }
            Target::Object(object) => {
                let range = objects::select(&text, cursor, object, n)?;
                if objects::linewise(&text, object, &range) {
                    let last = text.line_of(range.end) - 1;
                    return Some(lines_region(&text, text.line_of(range.start), last));
                }
                Some(Region {
                    from: range.start,
                    range,
                    lines: None,
                    big: false,
                })
            }
            Target::Motion(m) => {
                // `cw` on a word changes to its end, like `ce`.
                let moved = if op == Operator::Change
                    && let Motion::WordForward { big } = m
                    && text.char_at(cursor).is_some_and(|c| !c.is_whitespace())
                {
                    let mut pos = cursor;
                    text.word_end(&mut pos, n, big, true, false);
                    if text.char_at(pos).is_none() && pos > text.start(text.line_of(pos)) {
                        pos = buf.prev_grapheme(pos);
                    }
                    motion::Moved {
                        pos,
                        kind: Kind::Inclusive,
                    }
                } else {
                    self.motion(buf, marks, window, m, count, true, effects)?
                };
                let text = Text { buf };
                let (a, b) = if moved.pos < cursor {
                    (moved.pos, cursor)
                } else {
                    (cursor, moved.pos)
                };
                let big = matches!(
                    m,
                    Motion::MatchPair
                        | Motion::Paragraph { .. }
                        | Motion::SearchNext { .. }
                        | Motion::SearchWord { .. }
                        | Motion::Mark { .. }
                );
                let (la, lb) = (text.line_of(a), text.line_of(b));
                let region = match moved.kind {
                    Kind::Linewise => lines_region(&text, la, lb),
                    Kind::Inclusive => {
                        let end = if text.char_at(b).is_some() {
                            buf.next_grapheme(b)
                        } else {
                            b
                        };
                        charwise(&text, op, a..end, big)
                    }
                    Kind::Exclusive => {
                        if lb > la && b == text.start(lb) {
                            // An exclusive motion to a line's start stops
                            // at the end of the line before; from the
                            // indent, it takes whole lines.
                            if a <= text.first_non_blank(la) {
                                lines_region(&text, la, lb - 1)
                            } else {
                                charwise(&text, op, a..text.end(lb - 1), big)
                            }
                        } else {
                            charwise(&text, op, a..b, big)
                        }
                    }
                };
                Some(Region { from: a, ..region })
            }
        }
    }

    /// Applies `op` to `region`.
    fn operate(
        &mut self,
        buf: &mut Buffer,
        op: Operator,
        region: Region,
        command: Command,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        let text = Text { buf };
        let range = region.range.clone();
        match op {
            Operator::Yank | Operator::Delete | Operator::Change => {
                let reg = register_of(buf, &region);
                let why = if op == Operator::Yank {
                    Why::Yank
                } else {
                    Why::Delete {
                        big: region.big || region.lines.is_some(),
                    }
                };
                if let Some(out) = self.registers.store(command.register, reg, why) {
                    effects.push(Effect::Clipboard(out));
                }
                match (op, region.lines) {
                    (Operator::Yank, Some(_)) => set_cursor(buf, region.from),
                    (Operator::Yank, None) => set_cursor(buf, range.start),
                    (Operator::Delete, Some((l1, _))) => {
                        set_cursor(buf, text.first_non_blank(l1));
                        delete_lines(buf, &region);
                        let text = Text { buf };
                        set_cursor(buf, text.first_non_blank(l1.min(text.last_line())));
                    }
                    (Operator::Change, Some((l1, l2))) => {
                        let indent_end = text.first_non_blank(l1);
                        let indent = buf.rope().slice(text.start(l1)..indent_end).to_string();
                        let start = text.start(l1);
                        buf.replace_range(start..text.end(l2), &indent);
                        self.start_change_insert(command);
                    }
                    (_, None) => {
                        // Undo brings the cursor back to where the change was.
                        set_cursor(buf, range.start);
                        buf.replace_range(range.clone(), "");
                        set_cursor(buf, range.start);
                        if op == Operator::Change {
                            self.start_change_insert(command);
                        }
                    }
                    (_, Some(_)) => {}
                }
            }
            Operator::Indent | Operator::Outdent => {
                let (l1, l2) = region.lines.unwrap_or_else(|| {
                    (
                        text.line_of(range.start),
                        text.line_of(range.end.saturating_sub(1).max(range.start)),
                    )
                });
                shift_lines(buf, l1, l2, op == Operator::Indent);
                let text = Text { buf };
                set_cursor(buf, text.first_non_blank(l1));
            }
            Operator::Lower | Operator::Upper | Operator::ToggleCase => {
                let f: fn(char) -> char = match op {
                    Operator::Lower => to_lower,
                    Operator::Upper => to_upper,
                    _ => toggle_case,
                };
                let range = match region.lines {
                    Some((l1, l2)) => text.start(l1)..text.end(l2),
                    None => range,
                };
                map_chars(buf, range.clone(), f);
                let target = if region.lines.is_some() {
                    region.from
                } else {
                    range.start
                };
                set_cursor(buf, target);
            }
        }
        effects
    }

    fn start_change_insert(&mut self, command: Command) {
        self.insertion = Some(Insertion {
            count: 1,
            typed: Vec::new(),
            change: Some(command),
            open_line: false,
            block: None,
            home: None,
        });
        self.set_mode(VimMode::Insert);
    }

    /// The block of a `ctrl-v` selection: its lines and display columns.
    fn block(&self, text: &Text, cursor: usize) -> ((usize, usize), (usize, usize)) {
        let (la, lc) = (text.line_of(self.anchor), text.line_of(cursor));
        let (ca, cc) = (text.col(self.anchor), text.col(cursor));
        let right = |pos: usize, col: usize| {
            col + text.char_at(pos).map_or(1, |c| {
                unicode_width::UnicodeWidthChar::width(c)
                    .unwrap_or(1)
                    .max(1)
            }) - 1
        };
        let (left, right) = if ca <= cc {
            (ca, right(cursor, cc))
        } else {
            (cc, right(self.anchor, ca))
        };
        let right = if self.curswant == Some(usize::MAX) {
            usize::MAX
        } else {
            right
        };
        ((la.min(lc), la.max(lc)), (left, right))
    }

    /// A charwise or linewise selection as a region.
    fn visual_region(&self, text: &Text, cursor: usize, kind: VisualKind) -> Region {
        let (a, b) = if self.anchor <= cursor {
            (self.anchor, cursor)
        } else {
            (cursor, self.anchor)
        };
        match kind {
            VisualKind::Line | VisualKind::Block => {
                lines_region(text, text.line_of(a), text.line_of(b))
            }
            VisualKind::Char => {
                // After `$` the selection takes the line break too, but
                // the last line's.
                let line = text.line_of(b);
                let end = if text.char_at(b).is_some() && self.curswant != Some(usize::MAX) {
                    text.buf.next_grapheme(b)
                } else if line == text.last_line() {
                    text.end(line).max(b)
                } else {
                    text.next_start(line).max(b)
                };
                Region {
                    from: a,
                    range: a..end,
                    lines: None,
                    big: text.line_of(a) != text.line_of(b),
                }
            }
        }
    }

    fn selection_ranges(&self, text: &Text, cursor: usize, kind: VisualKind) -> Vec<Range<usize>> {
        match kind {
            VisualKind::Block => {
                let ((l1, l2), (c1, c2)) = self.block(text, cursor);
                (l1..=l2).map(|l| block_piece(text, l, c1, c2)).collect()
            }
            kind => vec![self.visual_region(text, cursor, kind).range],
        }
    }

    fn operate_selection(
        &mut self,
        buf: &mut Buffer,
        op: Operator,
        lines: bool,
        kind: VisualKind,
        command: Command,
    ) -> Vec<Effect> {
        let text = Text { buf };
        let cursor = buf.cursor();
        self.set_mode(VimMode::Normal);
        if kind == VisualKind::Block && !lines {
            return self.operate_block(buf, op, cursor, command);
        }
        let mut region = self.visual_region(&text, cursor, kind);
        if lines || matches!(op, Operator::Indent | Operator::Outdent) {
            let start = text.line_of(region.range.start);
            let end = text.line_of(buf.prev_grapheme(region.range.end).max(region.range.start));
            region = lines_region(&text, start, end);
        }
        let record = kind == VisualKind::Char && region.lines.is_none() && !region.big;
        let chars = buf.rope().slice(region.range.clone()).chars().count();
        let lines_count = region.lines.map(|(a, b)| b - a + 1);
        let changes = op != Operator::Yank;
        if changes {
            buf.begin_group();
        }
        // The operator runs from the selection's start.
        set_cursor(buf, region.range.start);
        if let Some((l1, _)) = region.lines
            && op == Operator::Yank
        {
            set_cursor(
                buf,
                Text { buf }
                    .start(l1)
                    .max(region.range.start.min(cursor).min(self.anchor)),
            );
        }
        let effects = self.operate(buf, op, region, command);
        if changes {
            // `.` repeats the change on as much text from the cursor.
            let repeat = match (record, lines_count) {
                (true, _) => Some(Command {
                    register: command.register,
                    count: Some(chars),
                    action: Action::Operate(op, Target::Motion(Motion::Right)),
                }),
                (false, Some(n)) => Some(Command {
                    register: command.register,
                    count: Some(n),
                    action: Action::Operate(op, Target::Lines),
                }),
                _ => None,
            };
            if self.mode() == VimMode::Insert {
                if let Some(insertion) = &mut self.insertion {
                    insertion.change = repeat;
                }
            } else {
                buf.end_group();
                if let Some(command) = repeat {
                    self.last_change = Some(Change {
                        command,
                        typed: Vec::new(),
                    });
                }
            }
        }
        effects
    }

    fn operate_block(
        &mut self,
        buf: &mut Buffer,
        op: Operator,
        cursor: usize,
        command: Command,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        let text = Text { buf };
        let ((l1, l2), (c1, c2)) = self.block(&text, cursor);
        let ranges: Vec<Range<usize>> = (l1..=l2).map(|l| block_piece(&text, l, c1, c2)).collect();
        let top_left = ranges.first().map_or(cursor, |r| r.start);
        if matches!(op, Operator::Yank | Operator::Delete | Operator::Change) {
            let pieces: Vec<String> = ranges
                .iter()
                .map(|r| buf.rope().slice(r.clone()).to_string())
                .collect();
            let reg = Register {
                text: pieces.join("\n"),
                shape: Shape::Block,
            };
            let why = if op == Operator::Yank {
                Why::Yank
            } else {
                Why::Delete { big: true }
            };
            if let Some(out) = self.registers.store(command.register, reg, why) {
                effects.push(Effect::Clipboard(out));
            }
        }
        if op == Operator::Yank {
            set_cursor(buf, top_left);
            return effects;
        }
        buf.begin_group();
        match op {
            Operator::Delete | Operator::Change => {
                for range in ranges.iter().rev() {
                    buf.replace_range(range.clone(), "");
                }
            }
            Operator::Indent | Operator::Outdent => {
                for range in ranges.iter().rev() {
                    shift_at(buf, range.start, op == Operator::Indent);
                }
            }
            Operator::Lower | Operator::Upper | Operator::ToggleCase => {
                let f: fn(char) -> char = match op {
                    Operator::Lower => to_lower,
                    Operator::Upper => to_upper,
                    _ => toggle_case,
                };
                for range in ranges.iter().rev() {
                    map_chars(buf, range.clone(), f);
                }
            }
            Operator::Yank => {}
        }
        set_cursor(buf, top_left);
        if op == Operator::Change {
            self.insertion = Some(Insertion {
                count: 1,
                typed: Vec::new(),
                change: None,
                open_line: false,
                block: Some((l1 + 1..l2 + 1, c1, false)),
                home: Some(top_left),
            });
            self.set_mode(VimMode::Insert);
            return effects;
        }
        buf.end_group();
        effects
    }

    fn put(&mut self, buf: &mut Buffer, register: Option<char>, before: bool, n: usize) -> bool {
        let Some(reg) = self.registers.get(register).cloned() else {
            return false;
        };
        if reg.text.len().saturating_mul(n) > MAX_REPEAT_BYTES {
            return false;
        }
        let text = Text { buf };
        let cursor = buf.cursor();
        let line = text.line_of(cursor);
        match reg.shape {
            Shape::Lines => {
                let body = reg.text.repeat(n);
                let at_line = if before { line } else { line + 1 };
                if at_line > text.last_line() && !ends_with_break(buf) {
                    let end = buf.len_chars();
                    let body = body.strip_suffix('\n').unwrap_or(&body);
                    insert_text(buf, end, &format!("\n{body}"));
                } else {
                    let at = if before {
                        text.start(line)
                    } else {
                        text.next_start(line)
                    };
                    insert_text(buf, at, &body);
                }
                let text = Text { buf };
                set_cursor(buf, text.first_non_blank(at_line));
            }
            Shape::Chars => {
                let body = reg.text.repeat(n);
                let at = if before || text.char_at(cursor).is_none() {
                    cursor
                } else {
                    buf.next_grapheme(cursor)
                };
                insert_text(buf, at, &body);
                let len = body.chars().count();
                if body.contains('\n') {
                    set_cursor(buf, at);
                } else {
                    set_cursor(buf, buf.prev_grapheme(at + len).max(at));
                }
            }
            Shape::Block => {
                let col = if before || text.char_at(cursor).is_none() {
                    text.col(cursor)
                } else {
                    text.col(buf.next_grapheme(cursor))
                };
                let pieces = reg.pieces();
                let width = pieces
                    .iter()
                    .map(|p| unicode_width::UnicodeWidthStr::width(*p))
                    .max()
                    .unwrap_or(0);
                for (i, piece) in pieces.iter().enumerate().rev() {
                    let l = line + i;
                    let text = Text { buf };
                    if l > text.last_line() {
                        let end = buf.len_chars();
                        let pad = " ".repeat(col);
                        let prefix = if ends_with_break(buf) { "" } else { "\n" };
                        insert_text(buf, end, &format!("{prefix}{pad}{}\n", piece.repeat(n)));
                        continue;
                    }
                    let have = text.col(text.end(l));
                    let mut body = piece.repeat(n);
                    let at = if have < col {
                        body = format!("{}{body}", " ".repeat(col - have));
                        text.end(l)
                    } else {
                        text.at_col(l, col, true)
                    };
                    if at < text.end(l) {
                        let w = unicode_width::UnicodeWidthStr::width(*piece) * n;
                        body.push_str(&" ".repeat(width * n - w));
                    }
                    insert_text(buf, at, &body);
                }
                let text = Text { buf };
                set_cursor(buf, text.at_col(line, col, false));
            }
        }
        true
    }

    fn put_over_selection(
        &mut self,
        buf: &mut Buffer,
        kind: VisualKind,
        register: Option<char>,
        n: usize,
    ) -> bool {
        // An empty register puts nothing: the selection just goes.
        let reg = self.registers.get(register).cloned().unwrap_or_default();
        let text = Text { buf };
        let cursor = buf.cursor();
        let region = self.visual_region(&text, cursor, kind);
        let old = register_of(buf, &region);
        self.set_mode(VimMode::Normal);
        let start = region.range.start;
        match (region.lines, reg.shape) {
            (Some((l1, _)), _) if reg.text.is_empty() => {
                delete_lines(buf, &region);
                let text = Text { buf };
                set_cursor(buf, text.first_non_blank(l1.min(text.last_line())));
            }
            (Some((l1, _)), Shape::Lines) => {
                delete_lines(buf, &region);
                let text = Text { buf };
                if l1 > text.last_line() || (buf.len_chars() == 0 && l1 == 0) {
                    let end = buf.len_chars();
                    let body = reg.text.repeat(n);
                    let prefix = if end > 0 && !ends_with_break(buf) {
                        "\n"
                    } else {
                        ""
                    };
                    insert_text(buf, end, &format!("{prefix}{body}"));
                } else {
                    insert_text(buf, text.start(l1), &reg.text.repeat(n));
                }
                let text = Text { buf };
                set_cursor(buf, text.first_non_blank(l1));
            }
            (Some((l1, l2)), _) => {
                let text = Text { buf };
                let range = text.start(l1)..text.end(l2);
                buf.replace_range(range, "");
                insert_text(buf, start, &format!("{}\n", reg.text.repeat(n)));
                set_cursor(buf, start);
            }
            (None, Shape::Lines) => {
                buf.replace_range(region.range.clone(), "");
                insert_text(buf, start, &format!("\n{}", reg.text.repeat(n)));
                let text = Text { buf };
                set_cursor(buf, text.first_non_blank(text.line_of(start) + 1));
            }
            (None, _) => {
                buf.replace_range(region.range.clone(), "");
                let body = reg.text.repeat(n);
                insert_text(buf, start, &body);
                let len = body.chars().count();
                set_cursor(buf, buf.prev_grapheme(start + len).max(start));
            }
        }
        self.registers.store(
            None,
            old,
            Why::Delete {
                big: region.lines.is_some(),
            },
        );
        true
    }

    /// `.`: the last change again, with a new count if one was typed.
    fn repeat(
        &mut self,
        buf: &mut Buffer,
        marks: &mut Marks,
        window: Window,
        change: Change,
        count: Option<usize>,
    ) {
        let mut command = change.command;
        if count.is_some() {
            command.count = count;
        }
        self.run(buf, marks, window, command);
        if self.mode() == VimMode::Insert {
            for key in &change.typed {
                self.insert_key(buf, key.clone());
            }
            self.leave_insert(buf);
        }
        self.last_change = Some(Change {
            command,
            typed: change.typed,
        });
    }
}
