//! The editing keys a VS Code or helix user expects of the modeless
//! editor: selecting to the line's ends and by word, outdent, toggling
//! comments, moving and duplicating lines, and several cursors (Ctrl-D).
//!
//! With several cursors, moves and edits run at every one of them (as in
//! helix); Esc goes back to the primary cursor; an action that has no
//! meaning at several cursors (a search, a jump) first drops the others.

use super::EditorPane;
use crate::editor::buffer::{Buffer, NextMatch, line_comment_token};
use crate::tui::app::{Effect, Outcome};
use crate::tui::keymap::Action;

impl EditorPane {
    /// The actions of this module, and every action while several cursors
    /// are up; `None` leaves the action to the single-cursor code.
    ///
    /// With vim's keymap (reached from the palette) the line commands
    /// work; further cursors and Tab stay vim's business.
    pub(super) fn cursor_action(&mut self, action: Action) -> Option<Outcome> {
        if self.modal && matches!(action, Action::AddNextMatch | Action::Indent) {
            return None;
        }
        let many = self
            .active_tab()
            .is_some_and(|t| t.buffer.cursor_count() > 1);
        let moved = |f: fn(&mut Buffer, bool), extend: bool| {
            move |t: &mut super::Tab| t.buffer.each_cursor(|b| f(b, extend))
        };
        let outcome = match action {
            Action::SelectLineStart => self.moved(moved(Buffer::move_line_start, true)),
            Action::SelectLineEnd => self.moved(moved(Buffer::move_line_end, true)),
            Action::SelectWordBackward => self.moved(moved(Buffer::move_word_backward, true)),
            Action::SelectWordForward => self.moved(moved(Buffer::move_word_forward, true)),
            Action::Outdent => self.edit(|t| t.buffer.outdent_lines()),
            Action::Indent => self.edit(|t| t.buffer.tab()),
            Action::ToggleComment => {
                let token = self.active_tab().and_then(|t| line_comment_token(&t.path));
                let Some(token) = token else {
                    let name = self
                        .active_tab()
                        .map(|t| t.path.clone())
                        .unwrap_or_default();
                    return Some(Outcome::Effect(Effect::Notify(
                        format!("no line comment known for {name}"),
                        true,
                    )));
                };
                self.edit(|t| t.buffer.toggle_comment(token))
            }
            Action::MoveLinesUp | Action::MoveLinesDown => self.edit(|t| {
                t.buffer.move_lines(action == Action::MoveLinesUp);
            }),
            Action::DuplicateLines | Action::DuplicateLinesUp => self.edit(|t| {
                t.buffer.duplicate_lines(action == Action::DuplicateLines);
            }),
            Action::AddNextMatch => {
                let mut result = NextMatch::NoWord;
                self.with_tab(|t| result = t.buffer.add_next_match());
                match result {
                    NextMatch::AllSelected(n) => Outcome::Effect(Effect::Notify(
                        format!("all {n} occurrences are selected"),
                        false,
                    )),
                    NextMatch::NoWord => {
                        Outcome::Effect(Effect::Notify("no word under the cursor".into(), false))
                    }
                    NextMatch::SelectedWord | NextMatch::Added => Outcome::Redraw,
                }
            }
            _ if !many => return None,
            Action::Back | Action::NormalMode => self.moved(|t| {
                t.buffer.single_cursor();
            }),
            Action::Up => self.moved(moved(Buffer::move_up, false)),
            Action::Down => self.moved(moved(Buffer::move_down, false)),
            Action::Left => self.moved(moved(Buffer::move_left, false)),
            Action::Right => self.moved(moved(Buffer::move_right, false)),
            Action::SelectUp => self.moved(moved(Buffer::move_up, true)),
            Action::SelectDown => self.moved(moved(Buffer::move_down, true)),
            Action::SelectLeft => self.moved(moved(Buffer::move_left, true)),
            Action::SelectRight => self.moved(moved(Buffer::move_right, true)),
            Action::LineStart => self.moved(moved(Buffer::move_line_start, false)),
            Action::LineEnd => self.moved(moved(Buffer::move_line_end, false)),
            Action::WordForward => self.moved(moved(Buffer::move_word_forward, false)),
            Action::WordBackward => self.moved(moved(Buffer::move_word_backward, false)),
            Action::WordEnd => self.moved(moved(Buffer::move_word_end, false)),
            Action::Newline => self.edit(|t| t.buffer.edit_each(Buffer::insert_newline)),
            Action::Backspace => self.edit(|t| t.buffer.edit_each(Buffer::delete_backward)),
            Action::DeleteForward => self.edit(|t| t.buffer.edit_each(Buffer::delete_forward)),
            Action::Copy => {
                let text = self.active_tab().and_then(|t| t.buffer.selected_texts());
                match text {
                    Some(text) => self.copy_out(text),
                    None => Outcome::Redraw,
                }
            }
            Action::Cut => {
                let mut cut = None;
                let outcome = self.edit(|t| cut = t.buffer.cut_each());
                match cut {
                    Some(text) => self.copy_out(text),
                    None => outcome,
                }
            }
            Action::Paste => {
                let text = self.register.clone();
                self.edit(|t| t.buffer.paste_each(&text))
            }
            // Undo and redo bring back the cursors of the step; the rest
            // (saving, tabs, prompts) does not care how many there are.
            Action::Undo
            | Action::Redo
            | Action::Save
            | Action::SelectAll
            | Action::CloseTab
            | Action::Find
            | Action::Replace
            | Action::GotoLine
            | Action::CommandLine => return None,
            // A search, a jump or another tab: one cursor again.
            _ => {
                self.with_tab(|t| {
                    t.buffer.single_cursor();
                });
                return None;
            }
        };
        Some(outcome)
    }

    /// A move (no edit) of the active tab.
    fn moved(&mut self, f: impl FnOnce(&mut super::Tab)) -> Outcome {
        self.with_tab(f);
        Outcome::Redraw
    }
}

#[cfg(test)]
mod tests;
