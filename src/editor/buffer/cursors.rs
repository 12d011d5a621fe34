//! Several cursors in one buffer, as VS Code and helix have them: the
//! primary selection plus `others`, kept in text order and never
//! overlapping.
//!
//! Moves run at every cursor (helix's way, not VS Code's collapse), each
//! cursor keeping its own column. Edits run at every cursor from the
//! bottom up, so each one leaves the positions above it alone, and the
//! whole keystroke is one undo step that restores every cursor. With one
//! cursor nothing here changes how the single-cursor commands behave
//! (typing still merges into words in the undo history).

use regex::Regex;

use super::{Buffer, CharClass, Selection};
use crate::editor::undo::EditKind;

/// What [`Buffer::add_next_match`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NextMatch {
    /// The cursor was bare: the word under it is selected now.
    SelectedWord,
    /// A selection was added at the next occurrence.
    Added,
    /// Every occurrence (this many) is already selected.
    AllSelected(usize),
    /// Nothing to select: the cursor is on no word.
    NoWord,
}

impl Buffer {
    /// The cursors besides the primary one, in text order.
    pub(crate) fn others(&self) -> &[Selection] {
        &self.others
    }

    /// How many cursors there are; at least 1.
    pub(crate) fn cursor_count(&self) -> usize {
        1 + self.others.len()
    }

    /// Drops every cursor but the primary one; `true` when there were
    /// others (Esc then does nothing else).
    pub(crate) fn single_cursor(&mut self) -> bool {
        let had = !self.others.is_empty();
        self.others.clear();
        had
    }

    /// Every selection, primary included, in text order.
    pub(crate) fn all_selections(&self) -> Vec<Selection> {
        let mut all = self.others.clone();
        all.push(self.selection);
        all.sort_by_key(|s| (s.start(), s.end()));
        all
    }

    /// Every selection in text order and the index of the primary one.
    fn numbered(&self) -> (Vec<Selection>, usize) {
        let mut all: Vec<(Selection, bool)> = self.others.iter().map(|s| (*s, false)).collect();
        all.push((self.selection, true));
        all.sort_by_key(|(s, _)| (s.start(), s.end()));
        let primary = all.iter().position(|(_, p)| *p).unwrap_or(0);
        (all.into_iter().map(|(s, _)| s).collect(), primary)
    }

    /// Takes `all` (in any order, `all[primary]` the primary one) as the
    /// cursors, merging those that overlap: ranges sharing text, equal
    /// points, or a point on a range's edge. Ranges that only touch stay
    /// apart, so adjacent occurrences can each be selected.
    fn set_cursors(&mut self, all: Vec<Selection>, primary: usize) {
        let mut tagged: Vec<(Selection, bool)> = all
            .into_iter()
            .enumerate()
            .map(|(i, s)| (s, i == primary))
            .collect();
        tagged.sort_by_key(|(s, _)| (s.start(), s.end()));
        let mut merged: Vec<(Selection, bool)> = Vec::with_capacity(tagged.len());
        for (next, is_primary) in tagged {
            if let Some((last, last_primary)) = merged.last_mut() {
                let touches_point =
                    (last.is_empty() || next.is_empty()) && next.start() <= last.end();
                if next.start() < last.end() || touches_point {
                    let (start, end) = (last.start(), last.end().max(next.end()));
                    let keep = if *last_primary || !is_primary {
                        *last
                    } else {
                        next
                    };
                    *last = if keep.head < keep.anchor {
                        Selection::new(end, start)
                    } else {
                        Selection::new(start, end)
                    };
                    *last_primary |= is_primary;
                    continue;
                }
            }
            merged.push((next, is_primary));
        }
        let index = merged.iter().position(|(_, p)| *p).unwrap_or(0);
        let mut others: Vec<Selection> = merged.into_iter().map(|(s, _)| s).collect();
        self.selection = if index < others.len() {
            others.remove(index)
        } else {
            Selection::default()
        };
        self.others = others;
    }

    /// Runs a move at every cursor. With one cursor it is just `f`.
    pub(crate) fn each_cursor(&mut self, mut f: impl FnMut(&mut Buffer)) {
        if self.others.is_empty() {
            f(self);
            return;
        }
        let (mut all, primary) = self.numbered();
        for selection in &mut all {
            self.selection = *selection;
            // Each cursor aims for its own column.
            self.desired_col = None;
            f(self);
            *selection = self.selection;
        }
        self.desired_col = None;
        self.set_cursors(all, primary);
    }

    /// Runs an edit at every cursor, bottom up, as one undo step that
    /// restores all of them. With one cursor it is just `f`.
    pub(crate) fn edit_each(&mut self, f: impl FnMut(&mut Buffer)) {
        self.edit_each_as(false, false, f);
    }

    /// Types `text` at every cursor. Like typing with one cursor, the
    /// keystrokes of a word make one undo step.
    pub(crate) fn type_each(&mut self, text: &str) {
        let join = self
            .history
            .continues_typing(self.selection, &self.others, text);
        self.edit_each_as(join, true, |buffer| buffer.insert(text));
    }

    fn edit_each_as(&mut self, join: bool, typed: bool, mut f: impl FnMut(&mut Buffer)) {
        if self.others.is_empty() {
            f(self);
            return;
        }
        self.step(join, typed, |buffer| {
            let (all, primary) = buffer.numbered();
            // Held in `others` while editing so every splice maps them.
            buffer.others = all;
            for i in (0..buffer.others.len()).rev() {
                buffer.selection = buffer.others[i];
                buffer.desired_col = None;
                f(buffer);
                buffer.others[i] = buffer.selection;
            }
            let all = std::mem::take(&mut buffer.others);
            buffer.set_cursors(all, primary);
        });
    }

    /// Runs `f`, made of any number of edits, as one undo step: undo
    /// brings back every cursor as it was before, redo as `f` left them.
    pub(super) fn as_one_step(&mut self, f: impl FnOnce(&mut Buffer)) {
        self.step(false, false, f);
    }

    /// [`as_one_step`](Buffer::as_one_step), or with `join` a part of the
    /// last step; `typed` marks text typed at several cursors, which the
    /// next keystroke may join.
    fn step(&mut self, join: bool, typed: bool, f: impl FnOnce(&mut Buffer)) {
        let before = (self.selection, self.others.clone());
        if join {
            self.history.begin_joined();
        } else {
            self.history.close();
            self.history.begin();
        }
        f(self);
        self.desired_col = None;
        let after = (self.selection, self.others.clone());
        self.history
            .end_cursors((!join).then_some(before), after, typed);
    }

    /// Replaces chars `range` with `text` inside a step of
    /// [`as_one_step`](Buffer::as_one_step), mapping every cursor.
    pub(super) fn splice_recorded(&mut self, range: std::ops::Range<usize>, text: &str) {
        let before = self.selection;
        if let Some(edit) = self.splice(range, text) {
            self.history
                .record(edit, EditKind::Other, before, self.selection);
        }
    }

    /// The selected texts of every cursor, top to bottom, one per line:
    /// what copy takes. `None` when nothing is selected anywhere.
    pub(crate) fn selected_texts(&self) -> Option<String> {
        let texts: Vec<String> = self
            .all_selections()
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(|s| self.rope.slice(s.range()).to_string())
            .collect();
        (!texts.is_empty()).then(|| texts.join(self.line_ending.as_str()))
    }

    /// Cut at every cursor: the texts as [`selected_texts`] joins them,
    /// removed in one undo step.
    ///
    /// [`selected_texts`]: Buffer::selected_texts
    pub(crate) fn cut_each(&mut self) -> Option<String> {
        let text = self.selected_texts()?;
        self.edit_each(|buffer| {
            if !buffer.selection.is_empty() {
                buffer.replace(buffer.selection.range(), "", EditKind::Other);
            }
        });
        Some(text)
    }

    /// Pastes at every cursor as one undo step. A text with as many lines
    /// as there are cursors gives each cursor its line, as VS Code does.
    pub(crate) fn paste_each(&mut self, text: &str) {
        let normalized = super::normalize_line_endings(text, super::LineEnding::Lf);
        let pieces: Vec<&str> = normalized
            .strip_suffix('\n')
            .unwrap_or(&normalized)
            .split('\n')
            .collect();
        if self.others.is_empty() || pieces.len() != self.cursor_count() {
            self.history.close();
            self.edit_each(|buffer| buffer.paste(text));
            self.history.close();
            return;
        }
        let mut next = pieces.len();
        self.edit_each(|buffer| {
            // Cursors come bottom up.
            next = next.saturating_sub(1);
            let piece = pieces.get(next).copied().unwrap_or_default();
            buffer.paste(piece);
        });
    }

    /// The word around `at` (word characters on either side of it).
    fn word_at(&self, at: usize) -> Option<std::ops::Range<usize>> {
        let is_word = |i: usize| self.class_at(i) == CharClass::Word;
        let at = at.min(self.len_chars());
        let inside = if is_word(at) {
            at
        } else if at > 0 && is_word(at - 1) {
            at - 1
        } else {
            return None;
        };
        let mut start = inside;
        while start > 0 && is_word(start - 1) {
            start -= 1;
        }
        let mut end = inside + 1;
        while end < self.len_chars() && is_word(end) {
            end += 1;
        }
        Some(start..end)
    }

    /// Ctrl-D: a bare cursor selects its word; a selection adds one at
    /// the next occurrence of its text after the newest cursor, wrapping
    /// at the end, and the new one becomes the primary cursor. A whole
    /// word matches whole words only, other text anywhere.
    pub(crate) fn add_next_match(&mut self) -> NextMatch {
        let primary = self.selection;
        if primary.is_empty() {
            let Some(word) = self.word_at(primary.head) else {
                return NextMatch::NoWord;
            };
            self.selection = Selection::new(word.start, word.end);
            self.desired_col = None;
            self.history.close();
            let (all, index) = self.numbered();
            self.set_cursors(all, index);
            return NextMatch::SelectedWord;
        }
        let range = primary.range();
        let text = self.rope.slice(range.clone()).to_string();
        let whole_word = self.word_at(range.start) == Some(range.clone());
        let pattern = if whole_word {
            format!(r"\b{}\b", regex::escape(&text))
        } else {
            regex::escape(&text)
        };
        let Ok(re) = Regex::new(&pattern) else {
            return NextMatch::NoWord;
        };
        let all = self.all_selections();
        let taken =
            |m: &std::ops::Range<usize>| all.iter().any(|s| s.start() < m.end && m.start < s.end());
        let haystack = self.rope.to_string();
        let matches: Vec<std::ops::Range<usize>> = re
            .find_iter(&haystack)
            .map(|m| self.rope.byte_to_char(m.start())..self.rope.byte_to_char(m.end()))
            .collect();
        let after = range.end;
        let next = matches
            .iter()
            .filter(|m| m.start >= after)
            .chain(matches.iter().filter(|m| m.start < after))
            .find(|m| !taken(m));
        let Some(next) = next.cloned() else {
            return NextMatch::AllSelected(matches.len());
        };
        let mut cursors = self.others.clone();
        cursors.push(primary);
        cursors.push(Selection::new(next.start, next.end));
        let index = cursors.len() - 1;
        self.desired_col = None;
        self.history.close();
        self.set_cursors(cursors, index);
        NextMatch::Added
    }
}

#[cfg(test)]
mod tests;
