//! Undo history of one buffer: edits gathered into groups that undo and redo
//! as one step, with the selection before and after each group.
//!
//! The history only records; the buffer applies. A group keeps growing while
//! the user keeps doing the same thing in the same place (typing a word,
//! holding backspace) and closes at a whitespace-to-word transition, a line
//! break, a cursor jump, or when the caller forces a boundary. Memory is
//! bounded: the oldest groups are dropped past [`MAX_GROUPS`] groups or
//! [`MAX_BYTES`] of recorded text.

use std::collections::VecDeque;

use super::buffer::Selection;
use super::grapheme::is_line_break;

/// Undo steps kept per buffer.
pub(crate) const MAX_GROUPS: usize = 10_000;
/// Text kept in the history per buffer; a replace-all on a large file
/// records the whole file, so groups are also capped by size.
pub(crate) const MAX_BYTES: usize = 64 * 1024 * 1024;

/// One replacement: at char `at`, `removed` was replaced by `inserted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub(crate) at: usize,
    pub(crate) removed: String,
    pub(crate) inserted: String,
}

impl Edit {
    fn bytes(&self) -> usize {
        self.removed.len() + self.inserted.len() + std::mem::size_of::<Edit>()
    }

    fn has_line_break(&self) -> bool {
        self.removed
            .chars()
            .chain(self.inserted.chars())
            .any(is_line_break)
    }
}

/// What produced an edit; only runs of the same kind merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EditKind {
    Insert,
    DeleteBackward,
    DeleteForward,
    /// Cuts, pastes, replacements, line deletes: never merged.
    Other,
}

/// Edits that undo together, in the order they were applied.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) edits: Vec<Edit>,
    /// Selection restored by undo.
    pub(crate) before: Selection,
    /// Selection restored by redo.
    pub(crate) after: Selection,
    /// Further cursors restored by undo and by redo, beside `before` and
    /// `after`; empty for an edit made with one cursor.
    pub(crate) others_before: Vec<Selection>,
    pub(crate) others_after: Vec<Selection>,
    /// Text typed at several cursors: the next keystroke may join it.
    typed_at_cursors: bool,
    kind: EditKind,
    open: bool,
    before_state: u64,
    after_state: u64,
    bytes: usize,
}

impl Group {
    /// Whether `edit` continues this group: same kind, from where the last
    /// edit left the cursor, and not starting a new word or line.
    fn absorbs(&self, edit: &Edit, kind: EditKind, before: Selection) -> bool {
        if !self.open || self.kind != kind || kind == EditKind::Other {
            return false;
        }
        if self.after != before || !before.is_empty() || edit.has_line_break() {
            return false;
        }
        let Some(last) = self.edits.last() else {
            return false;
        };
        // The char typed or deleted just before, and the one now, in the
        // order the user produced them.
        let (prev, next) = match kind {
            EditKind::Insert => (last.inserted.chars().last(), edit.inserted.chars().next()),
            EditKind::DeleteBackward => (last.removed.chars().next(), edit.removed.chars().last()),
            EditKind::DeleteForward => (last.removed.chars().last(), edit.removed.chars().next()),
            EditKind::Other => return false,
        };
        match (prev, next) {
            // A word typed after a space starts a new step.
            (Some(prev), Some(next)) => !prev.is_whitespace() || next.is_whitespace(),
            _ => false,
        }
    }
}

/// Past groups (`groups[..applied]`) and undone ones still redoable.
#[derive(Debug)]
pub(crate) struct History {
    groups: VecDeque<Group>,
    applied: usize,
    /// Identifies the text the history is at; see [`History::state`].
    state: u64,
    next_state: u64,
    bytes: usize,
    forced_depth: usize,
    forced_started: bool,
    max_groups: usize,
    max_bytes: usize,
}

impl Default for History {
    fn default() -> Self {
        History::with_limits(MAX_GROUPS, MAX_BYTES)
    }
}

impl History {
    pub(crate) fn with_limits(max_groups: usize, max_bytes: usize) -> History {
        History {
            groups: VecDeque::new(),
            applied: 0,
            state: 0,
            next_state: 1,
            bytes: 0,
            forced_depth: 0,
            forced_started: false,
            max_groups: max_groups.max(1),
            max_bytes,
        }
    }

    /// An id for the text as the history has it: equal ids mean equal text,
    /// so undoing back to a saved state makes the buffer clean again.
    pub(crate) fn state(&self) -> u64 {
        self.state
    }

    #[cfg(test)]
    pub(crate) fn can_undo(&self) -> bool {
        self.applied > 0
    }

    #[cfg(test)]
    pub(crate) fn can_redo(&self) -> bool {
        self.applied < self.groups.len()
    }

    /// Records an applied edit. `before` is the selection just before it,
    /// `after` the one it left.
    pub(crate) fn record(
        &mut self,
        edit: Edit,
        kind: EditKind,
        before: Selection,
        after: Selection,
    ) {
        if edit.removed == edit.inserted {
            return;
        }
        self.drop_redo();
        let before_state = self.state;
        self.state = self.next_state;
        self.next_state += 1;
        let bytes = edit.bytes();
        let breaks_line = edit.has_line_break();
        let merge = if self.forced_depth > 0 {
            self.forced_started
        } else {
            self.groups
                .back()
                .is_some_and(|g| g.absorbs(&edit, kind, before))
        };
        match self.groups.back_mut() {
            Some(group) if merge => {
                group.edits.push(edit);
                group.after = after;
                group.after_state = self.state;
                group.bytes += bytes;
            }
            _ => {
                self.groups.push_back(Group {
                    edits: vec![edit],
                    before,
                    after,
                    others_before: Vec::new(),
                    others_after: Vec::new(),
                    typed_at_cursors: false,
                    kind,
                    open: true,
                    before_state,
                    after_state: self.state,
                    bytes,
                });
                self.applied += 1;
                self.forced_started |= self.forced_depth > 0;
            }
        }
        self.bytes += bytes;
        // Enter is its own undo step, and so is a line deleted with backspace.
        if breaks_line && self.forced_depth == 0 {
            self.close();
        }
        self.trim();
    }

    /// Ends the current group: the next edit starts a new one.
    pub(crate) fn close(&mut self) {
        if self.forced_depth > 0 {
            return;
        }
        if let Some(group) = self.groups.back_mut() {
            group.open = false;
        }
    }

    /// Starts a group that takes every edit until the matching [`end`].
    /// Nested calls join the outer group.
    ///
    /// [`end`]: History::end
    pub(crate) fn begin(&mut self) {
        if self.forced_depth == 0 {
            self.close();
            self.forced_started = false;
        }
        self.forced_depth += 1;
    }

    /// Ends a group started by [`begin`](History::begin); `after` is the
    /// selection redo will restore.
    pub(crate) fn end(&mut self, after: Selection) {
        let Some(depth) = self.forced_depth.checked_sub(1) else {
            return;
        };
        self.forced_depth = depth;
        if depth == 0 {
            if self.forced_started
                && let Some(group) = self.groups.back_mut()
            {
                group.after = after;
            }
            self.forced_started = false;
            self.close();
        }
    }

    /// Ends a group started by [`begin`](History::begin) of an edit made
    /// at several cursors: undo restores `before` and `others_before`, redo
    /// `after` and `others_after`.
    /// `before` is `None` for a group joined by [`begin_joined`]: it
    /// keeps the cursors it started with. `typed` marks text typed at the
    /// cursors, which the next keystroke may join.
    ///
    /// [`begin_joined`]: History::begin_joined
    pub(crate) fn end_cursors(
        &mut self,
        before: Option<(Selection, Vec<Selection>)>,
        after: (Selection, Vec<Selection>),
        typed: bool,
    ) {
        if self.forced_depth == 1
            && self.forced_started
            && let Some(group) = self.groups.back_mut()
        {
            if let Some((primary, others)) = before {
                group.before = primary;
                group.others_before = others;
            }
            group.others_after = after.1;
            group.typed_at_cursors = typed;
        }
        self.end(after.0);
    }

    /// Whether typing `text` with the cursors at `primary` and `others`
    /// continues the last step, as typing a word with one cursor does: the
    /// last step is text typed at these very cursors (nothing moved or
    /// was undone since), `text` breaks no line and starts no new word.
    pub(crate) fn continues_typing(
        &self,
        primary: Selection,
        others: &[Selection],
        text: &str,
    ) -> bool {
        let Some(group) = self.groups.back() else {
            return false;
        };
        let last = group.edits.last().and_then(|e| e.inserted.chars().last());
        let starts_word = last.is_some_and(char::is_whitespace)
            && text.chars().next().is_some_and(|c| !c.is_whitespace());
        self.applied == self.groups.len()
            && self.forced_depth == 0
            && group.typed_at_cursors
            && group.after == primary
            && group.others_after == others
            && !text.chars().any(is_line_break)
            && !starts_word
    }

    /// Like [`begin`](History::begin), but the edits join the last group
    /// (after [`continues_typing`](History::continues_typing) said so).
    pub(crate) fn begin_joined(&mut self) {
        if self.forced_depth == 0 {
            self.forced_started = !self.groups.is_empty();
        }
        self.forced_depth += 1;
    }

    /// Steps back one group, returning it for the buffer to revert.
    pub(crate) fn undo(&mut self) -> Option<&Group> {
        self.forced_depth = 0;
        self.close();
        let index = self.applied.checked_sub(1)?;
        self.applied = index;
        let group = self.groups.get(index)?;
        self.state = group.before_state;
        Some(group)
    }

    /// Steps forward one undone group, returning it for the buffer to apply.
    pub(crate) fn redo(&mut self) -> Option<&Group> {
        self.forced_depth = 0;
        self.close();
        let group = self.groups.get(self.applied)?;
        self.applied += 1;
        self.state = group.after_state;
        Some(group)
    }

    fn drop_redo(&mut self) {
        while self.groups.len() > self.applied {
            if let Some(group) = self.groups.pop_back() {
                self.bytes -= group.bytes;
            }
        }
    }

    fn trim(&mut self) {
        while self.groups.len() > self.max_groups
            || (self.bytes > self.max_bytes && self.groups.len() > 1)
        {
            let Some(group) = self.groups.pop_front() else {
                break;
            };
            self.bytes -= group.bytes;
            self.applied = self.applied.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(at: usize, text: &str) -> Edit {
        Edit {
            at,
            removed: String::new(),
            inserted: text.into(),
        }
    }

    fn type_text(history: &mut History, text: &str) {
        for (at, c) in text.chars().enumerate() {
            history.record(
                typed(at, &c.to_string()),
                EditKind::Insert,
                Selection::point(at),
                Selection::point(at + 1),
            );
        }
    }

    #[test]
    fn typing_two_words_makes_two_undo_steps() {
        let mut history = History::default();
        type_text(&mut history, "hello world");
        let last = history.undo().map(|g| g.edits.len());
        assert_eq!(last, Some(5));
        let first = history.undo().map(|g| g.edits.len());
        assert_eq!(first, Some(6));
        assert!(!history.can_undo());
    }

    #[test]
    fn a_cursor_jump_starts_a_new_group() {
        let mut history = History::default();
        type_text(&mut history, "ab");
        history.record(
            typed(0, "x"),
            EditKind::Insert,
            Selection::point(0),
            Selection::point(1),
        );
        assert_eq!(history.undo().map(|g| g.edits.len()), Some(1));
        assert_eq!(history.undo().map(|g| g.edits.len()), Some(2));
    }

    #[test]
    fn history_keeps_at_most_its_group_limit() {
        let mut history = History::with_limits(3, usize::MAX);
        for i in 0..10 {
            history.record(
                typed(i, "x"),
                EditKind::Other,
                Selection::point(i),
                Selection::point(i + 1),
            );
        }
        let mut steps = 0;
        while history.undo().is_some() {
            steps += 1;
        }
        assert_eq!(steps, 3);
    }

    #[test]
    fn history_drops_old_groups_past_its_byte_budget() {
        let mut history = History::with_limits(100, 1000);
        for i in 0..10 {
            history.record(
                typed(i, &"x".repeat(400)),
                EditKind::Other,
                Selection::point(i),
                Selection::point(i + 1),
            );
        }
        assert!(history.bytes <= 1000 || history.groups.len() == 1);
        assert!(history.groups.len() <= 2);
    }

    #[test]
    fn a_forced_group_takes_edits_of_any_kind() {
        let mut history = History::default();
        history.begin();
        history.record(
            typed(0, "a"),
            EditKind::Other,
            Selection::point(0),
            Selection::point(1),
        );
        history.record(
            typed(5, "\n"),
            EditKind::Insert,
            Selection::point(5),
            Selection::point(6),
        );
        history.end(Selection::point(9));
        let group = history.undo();
        assert_eq!(
            group.map(|g| (g.edits.len(), g.after)),
            Some((2, Selection::point(9)))
        );
        assert!(!history.can_undo());
    }

    #[test]
    fn undo_to_the_start_returns_to_the_first_state() {
        let mut history = History::default();
        let start = history.state();
        type_text(&mut history, "a b");
        assert_ne!(history.state(), start);
        while history.undo().is_some() {}
        assert_eq!(history.state(), start);
    }
}
