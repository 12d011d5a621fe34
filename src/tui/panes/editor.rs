//! The editor pane: the open tabs, the modes of a modal keymap, the
//! register and the last search; what each editing action does to them;
//! and the drawing of the active buffer with syntax colours, line numbers,
//! the selection and the cursor. Only visible lines are highlighted; wide
//! characters and tabs take their display width.
//!
//! The pane changes buffers only. What leaves it (a save, text for the
//! clipboard, a prompt, a question) goes back to the app as an [`Effect`].

mod find;
mod view;
mod wrap;

use ratatui::buffer::Buffer as Cells;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use regex::Regex;

use super::frame;
use super::prompt::{ConfirmKind, PromptKind};
use crate::editor::buffer::{Buffer, IndentUnit, LineEnding};
use crate::editor::highlight::{HighlightCache, Highlighter};
use crate::editor::vim::{self, InsertKey, Marks, ScrollTo, Vim, VimMode};
use crate::tui::app::{Effect, Focus, Outcome};
use crate::tui::keymap::Action;
use crate::tui::layout;
use crate::tui::theme::Theme;
use crate::workspace::files::content_hash;
pub(crate) use view::click_target;

mod keys;

/// The modes of a modal (vim) keymap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Normal,
    Insert,
    Visual,
}

/// Two versions of a file that kollega will not choose between alone: the
/// buffer, and `other`. The user takes `other` (undoably) or keeps the
/// buffer.
#[derive(Debug, Clone)]
pub(crate) struct DraftConflict {
    pub other: String,
    pub kind: ConflictKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConflictKind {
    /// The buffer shows the saved file; `other` is a draft taken from an
    /// older version of it. The draft stays stored until decided.
    StaleDraft,
    /// The buffer holds unsaved typing; `other` is what another program
    /// just saved to disk.
    ChangedOnDisk,
}

impl ConflictKind {
    /// The banner over the text while the question is open.
    pub(crate) fn banner(self) -> &'static str {
        match self {
            ConflictKind::StaleDraft => {
                "this file changed after its draft was taken: t takes the draft, d drops it"
            }
            ConflictKind::ChangedOnDisk => {
                "this file changed on disk: t takes the disk's version, k keeps yours"
            }
        }
    }
}

pub(crate) struct Tab {
    pub path: String,
    pub buffer: Buffer,
    /// SHA-256 of the saved content the buffer was loaded from; `None` for
    /// a file not saved yet.
    pub base_hash: Option<String>,
    pub top: usize,
    /// With soft wrap, the rows of line `top` scrolled past (a line longer
    /// than the window).
    pub top_row: usize,
    pub left: usize,
    /// Long lines wrap at the window's width instead of scrolling sideways.
    pub wrap: bool,
    pub cache: HighlightCache,
    pub cache_version: u64,
    pub conflict: Option<DraftConflict>,
    /// Buffer version the last autosave snapshot carried.
    pub sent_version: Option<u64>,
    /// The first line an edit touched since the last frame: highlighting
    /// above it is still good.
    pub edited_from: Option<usize>,
    /// vim's marks `a`–`z` in this file.
    pub marks: Marks,
}

impl Tab {
    pub fn new(path: String, saved: Option<&str>, highlighter: &Highlighter) -> Tab {
        let buffer = Buffer::from_text(saved.unwrap_or(""));
        Tab {
            cache: highlighter.cache_for(&path),
            cache_version: buffer.version(),
            base_hash: saved.map(content_hash),
            path,
            buffer,
            top: 0,
            top_row: 0,
            left: 0,
            wrap: false,
            conflict: None,
            sent_version: None,
            edited_from: None,
            marks: Marks::default(),
        }
    }

    /// Records that an edit touched `line`.
    pub fn touch(&mut self, line: usize) {
        self.edited_from = Some(self.edited_from.map_or(line, |l| l.min(line)));
    }

    /// The line where the first selection (of every cursor) starts.
    pub fn selection_line(&self) -> usize {
        let first = self.buffer.others().first().map(|s| s.start());
        let start = self.buffer.selection().start();
        self.buffer
            .char_to_line(first.map_or(start, |f| f.min(start)))
    }

    /// Dirty against the saved file, or a file never saved.
    pub fn is_dirty(&self) -> bool {
        self.buffer.is_dirty() || self.base_hash.is_none()
    }

    /// Keeps the cursor inside a window of `height` lines and `width` columns.
    pub fn scroll_to_cursor(&mut self, height: usize, width: usize) {
        let (line, col) = self.buffer.cursor_line_col();
        let height = height.max(1);
        if line < self.top {
            self.top = line;
        } else if line >= self.top + height {
            self.top = line + 1 - height;
        }
        let width = width.max(1);
        if col < self.left {
            self.left = col;
        } else if col >= self.left + width {
            self.left = col + 1 - width;
        }
    }

    /// Replaces the whole text with `other` as one undo step.
    fn take(&mut self, other: &str) {
        self.touch(0);
        self.buffer.commit_group();
        self.buffer.select_all();
        self.buffer.paste(other);
        self.buffer.commit_group();
    }

    /// "LF 2sp": line endings and indent, for the status bar.
    pub fn format(&self) -> String {
        let ending = match self.buffer.line_ending() {
            LineEnding::Lf => "LF",
            LineEnding::CrLf => "CRLF",
        };
        match self.buffer.indent_unit() {
            IndentUnit::Tab => format!("{ending} tabs"),
            IndentUnit::Spaces(n) => format!("{ending} {n}sp"),
        }
    }
}

/// A save the app carries out: the text, and where the history stood.
#[derive(Debug, Clone)]
pub(crate) struct SaveRequest {
    pub path: String,
    pub content: String,
    pub state: u64,
}

pub(crate) struct EditorPane {
    pub tabs: Vec<Tab>,
    pub active: usize,
    pub mode: Mode,
    /// Whether the keymap is modal (vim): keys of normal and visual mode go
    /// to vim's grammar.
    modal: bool,
    vim: Vim,
    register: String,
    search: Option<find::Search>,
    /// The next search prompt starts as a regex (as the last search was).
    regex_search: bool,
    /// Soft wrap for every tab.
    wrap: bool,
    /// Lines of text the last frame showed, for page moves.
    height: usize,
    /// Why nothing may be edited (another kollega holds the workspace).
    pub read_only: Option<String>,
    /// Drafts to drop at the next snapshot (closed or discarded tabs).
    pub cleaned: Vec<String>,
}

impl EditorPane {
    pub fn new(tabs: Vec<Tab>, active: usize, modal: bool) -> EditorPane {
        EditorPane {
            active: active.min(tabs.len().saturating_sub(1)),
            tabs,
            mode: Mode::Normal,
            modal,
            vim: Vim::default(),
            register: String::new(),
            search: None,
            regex_search: modal,
            wrap: false,
            height: 20,
            read_only: None,
            cleaned: Vec::new(),
        }
    }

    pub fn active_tab(&self) -> Option<&Tab> {
        self.tabs.get(self.active)
    }

    pub fn active_tab_mut(&mut self) -> Option<&mut Tab> {
        self.tabs.get_mut(self.active)
    }

    pub fn tab_mut(&mut self, path: &str) -> Option<&mut Tab> {
        self.tabs.iter_mut().find(|t| t.path == path)
    }

    /// Back to normal mode before another tab shows: a change typed in
    /// insert mode ends as one undo step of its own buffer.
    fn leave_modes(&mut self) {
        let Self {
            vim, tabs, active, ..
        } = self;
        if let Some(tab) = tabs.get_mut(*active) {
            vim.reset(&mut tab.buffer);
        }
        self.mode = Mode::Normal;
    }

    /// Makes the tab of `path` active; false when there is none.
    pub fn activate(&mut self, path: &str) -> bool {
        match self.tabs.iter().position(|t| t.path == path) {
            Some(i) => {
                if i != self.active {
                    self.leave_modes();
                }
                self.active = i;
                true
            }
            None => false,
        }
    }

    /// Adds a tab and makes it active.
    pub fn push(&mut self, mut tab: Tab) {
        self.leave_modes();
        tab.wrap = self.wrap;
        self.tabs.push(tab);
        self.active = self.tabs.len() - 1;
        self.mode = Mode::Normal;
    }

    /// Whether some tab waits for the user to pick a version.
    pub fn conflict_tab(&mut self) -> Option<&Tab> {
        if self.active_tab().is_some_and(|t| t.conflict.is_some()) {
            return self.active_tab();
        }
        let i = self.tabs.iter().position(|t| t.conflict.is_some())?;
        self.active = i;
        self.tabs.get(i)
    }

    fn with_tab(&mut self, f: impl FnOnce(&mut Tab)) {
        if let Some(tab) = self.active_tab_mut() {
            f(tab);
        }
    }

    /// Applies an edit to the active tab, unless nothing may be edited.
    fn edit(&mut self, f: impl FnOnce(&mut Tab)) -> Outcome {
        if let Some(why) = &self.read_only {
            return Outcome::Effect(Effect::Notify(why.clone(), true));
        }
        if let Some(tab) = self.active_tab_mut() {
            let before = tab.selection_line();
            f(tab);
            let after = tab.selection_line();
            tab.touch(before.min(after));
        }
        Outcome::Redraw
    }

    /// A character typed where no key is bound.
    pub fn type_char(&mut self, c: char) -> Outcome {
        let mut text = [0u8; 4];
        let text = c.encode_utf8(&mut text).to_string();
        self.insert_key(InsertKey::Text(text))
    }

    /// A key of insert mode: with vim, kept for `.` and counts.
    fn insert_key(&mut self, key: InsertKey) -> Outcome {
        if self.modal && self.mode == Mode::Insert {
            let Self {
                vim, tabs, active, ..
            } = self;
            let Some(tab) = tabs.get_mut(*active) else {
                return Outcome::Ignored;
            };
            if let Some(why) = &self.read_only {
                return Outcome::Effect(Effect::Notify(why.clone(), true));
            }
            let before = tab.selection_line();
            vim.insert_key(&mut tab.buffer, key);
            tab.touch(before.min(tab.selection_line()));
            return Outcome::Redraw;
        }
        self.edit(|tab| match key {
            InsertKey::Text(text) => tab.buffer.type_each(&text),
            InsertKey::Newline => tab.buffer.edit_each(Buffer::insert_newline),
            InsertKey::Backspace => tab.buffer.edit_each(Buffer::delete_backward),
            InsertKey::Delete => tab.buffer.edit_each(Buffer::delete_forward),
            InsertKey::Tab => tab.buffer.tab(),
        })
    }

    /// Whether a vim command is half typed: the next key belongs to it.
    pub fn vim_pending(&self) -> bool {
        self.modal && self.vim.is_pending()
    }

    /// A key of normal or visual mode, as keymap files name it (`d`,
    /// `ctrl-v`, `esc`), for vim's grammar.
    pub fn vim_key(&mut self, label: &str) -> Outcome {
        match vim::Key::from_label(label) {
            Some(key) => self.vim_run(key),
            None => Outcome::Ignored,
        }
    }

    fn vim_run(&mut self, key: vim::Key) -> Outcome {
        let height = self.height.max(1);
        let read_only = self.read_only.clone();
        let Self {
            vim, tabs, active, ..
        } = self;
        let Some(tab) = tabs.get_mut(*active) else {
            return Outcome::Ignored;
        };
        let (before, version) = (tab.selection_line(), tab.buffer.version());
        let before_at = tab.buffer.selection().start();
        // `n` or `N` as a command of its own (not `fn`, `3n` is fine too).
        let search_key = !vim.is_pending() && matches!(key, vim::Key::Char('n' | 'N'));
        let window = vim::Window {
            top: tab.top,
            height,
        };
        let effects = vim.key(
            &mut tab.buffer,
            &mut tab.marks,
            window,
            key,
            read_only.is_some(),
        );
        if tab.buffer.version() != version {
            tab.touch(before.min(tab.selection_line()));
        }
        let mut outcome = Outcome::Redraw;
        let mut searched = None;
        for effect in effects {
            match effect {
                vim::Effect::Clipboard(text) => outcome = Outcome::Effect(Effect::Copy(text)),
                vim::Effect::Scroll(to) => {
                    let (line, _) = tab.buffer.cursor_line_col();
                    tab.top = match to {
                        ScrollTo::Top => line,
                        ScrollTo::Center => line.saturating_sub(height / 2),
                        ScrollTo::Bottom => (line + 1).saturating_sub(height),
                    };
                    tab.top_row = 0;
                }
                vim::Effect::Search(re) => searched = Some(re),
                vim::Effect::Searched { forward } => {
                    if let Some(re) = searched.take() {
                        self.searched_word(re);
                    }
                    let note = self.searched(forward, before_at);
                    self.sync_mode();
                    return note;
                }
                vim::Effect::Refused => {
                    let why = read_only.clone().unwrap_or_default();
                    outcome = Outcome::Effect(Effect::Notify(why, true));
                }
            }
        }
        if let Some(re) = searched {
            self.searched_word(re);
        }
        self.sync_mode();
        if search_key
            && self.search.as_ref().is_some_and(|search| {
                self.tabs
                    .get(self.active)
                    .is_some_and(|t| t.buffer.find_next(&search.re, 0).is_none())
            })
        {
            // Nothing matched anywhere: vim's "Pattern not found".
            return self.no_match();
        }
        outcome
    }

    /// The pane's mode follows vim's.
    fn sync_mode(&mut self) {
        self.mode = match self.vim.mode() {
            VimMode::Normal => Mode::Normal,
            VimMode::Insert => Mode::Insert,
            VimMode::Visual(_) => Mode::Visual,
        };
    }

    /// Text pasted by the terminal (bracketed paste): one undo step.
    pub fn paste_text(&mut self, text: &str) -> Outcome {
        self.edit(|tab| tab.buffer.paste_each(text))
    }

    fn leave_visual(&mut self) {
        if self.mode == Mode::Visual {
            self.mode = Mode::Normal;
        }
    }

    /// Keeps `text` in the register and sends it to the terminal clipboard.
    fn copy_out(&mut self, text: String) -> Outcome {
        self.register = text.clone();
        Outcome::Effect(Effect::Copy(text))
    }

    /// Replaces every match of `re` in the active buffer, as one undo step.
    pub fn replace_all(&mut self, re: &Regex, replacement: &str) -> Outcome {
        self.substitute(re, replacement, true, true)
    }

    /// vim's `:s`: on the cursor's line or the `whole` buffer, every match
    /// of a line (`global`) or its first; one undo step.
    pub fn substitute(
        &mut self,
        re: &Regex,
        replacement: &str,
        whole: bool,
        global: bool,
    ) -> Outcome {
        let mut count = 0;
        if let Outcome::Effect(refused) = self.edit(|t| {
            let line = t.buffer.char_to_line(t.buffer.cursor());
            let lines = (!whole).then_some(line..line + 1);
            count = t.buffer.substitute(re, replacement, lines, global);
            t.touch(0);
        }) {
            return Outcome::Effect(refused);
        }
        Outcome::Effect(Effect::Notify(
            format!(
                "replaced {count} match{}",
                if count == 1 { "" } else { "es" }
            ),
            false,
        ))
    }

    pub fn goto_line(&mut self, line: usize) -> Outcome {
        self.with_tab(|t| t.buffer.goto_line(line));
        Outcome::Redraw
    }

    /// The buffer is to be saved: what to write.
    pub fn save_request(&self) -> Result<Option<SaveRequest>, String> {
        if let Some(why) = &self.read_only {
            return Err(why.clone());
        }
        Ok(self.active_tab().map(|tab| SaveRequest {
            path: tab.path.clone(),
            content: tab.buffer.text(),
            state: tab.buffer.history_state(),
        }))
    }

    /// A save of `path` at history `state` reached the disk or the store.
    pub fn saved(&mut self, path: &str, state: u64, hash: String) {
        if let Some(tab) = self.tab_mut(path) {
            tab.base_hash = Some(hash);
            tab.buffer.mark_saved_at(state);
            tab.sent_version = None;
        }
    }

    /// Runs one editing action.
    pub fn update(&mut self, action: Action) -> Outcome {
        if self.active_tab().is_none() {
            return match action {
                Action::Back => Outcome::Effect(Effect::Focus(Focus::Tree)),
                _ => Outcome::Redraw,
            };
        }
        if self.modal
            && let Some(outcome) = self.vim_action(action)
        {
            return outcome;
        }
        if let Some(outcome) = self.cursor_action(action) {
            return outcome;
        }
        let page = self.height.max(1);
        let visual = self.mode == Mode::Visual;
        match action {
            Action::Up => self.with_tab(|t| t.buffer.move_up(visual)),
            Action::Down => self.with_tab(|t| t.buffer.move_down(visual)),
            Action::Left => self.with_tab(|t| t.buffer.move_left(visual)),
            Action::Right => self.with_tab(|t| t.buffer.move_right(visual)),
            Action::SelectUp => self.with_tab(|t| t.buffer.move_up(true)),
            Action::SelectDown => self.with_tab(|t| t.buffer.move_down(true)),
            Action::SelectLeft => self.with_tab(|t| t.buffer.move_left(true)),
            Action::SelectRight => self.with_tab(|t| t.buffer.move_right(true)),
            Action::PageUp => self.with_tab(|t| t.buffer.page_up(page, visual)),
            Action::PageDown => self.with_tab(|t| t.buffer.page_down(page, visual)),
            Action::Top => self.with_tab(|t| t.buffer.move_doc_start(visual)),
            Action::Bottom => self.with_tab(|t| t.buffer.move_doc_end(visual)),
            Action::WordForward => self.with_tab(|t| t.buffer.move_word_forward(visual)),
            Action::WordBackward => self.with_tab(|t| t.buffer.move_word_backward(visual)),
            Action::WordEnd => self.with_tab(|t| t.buffer.move_word_end(visual)),
            Action::LineStart => self.with_tab(|t| t.buffer.move_line_start(visual)),
            Action::LineEnd => self.with_tab(|t| t.buffer.move_line_end(visual)),
            Action::MatchBracket => self.with_tab(|t| {
                if let Some(at) = t.buffer.matching_bracket(t.buffer.cursor()) {
                    t.buffer.move_to(at, false);
                }
            }),
            Action::SelectAll => self.with_tab(|t| t.buffer.select_all()),
            Action::Newline => return self.edit(|t| t.buffer.insert_newline()),
            Action::Indent => return self.edit(|t| t.buffer.insert_tab()),
            Action::Backspace => return self.edit(|t| t.buffer.delete_backward()),
            Action::DeleteForward => return self.edit(|t| t.buffer.delete_forward()),
            Action::Undo => {
                return self.edit(|t| {
                    t.buffer.undo();
                });
            }
            Action::Redo => {
                return self.edit(|t| {
                    t.buffer.redo();
                });
            }
            Action::Copy => {
                let text = self.active_tab().and_then(|t| t.buffer.selected_text());
                self.leave_visual();
                if let Some(text) = text {
                    return self.copy_out(text);
                }
            }
            Action::Cut => {
                let mut cut = None;
                let outcome = self.edit(|t| cut = t.buffer.cut());
                self.leave_visual();
                return match cut {
                    Some(text) => self.copy_out(text),
                    None => outcome,
                };
            }
            Action::Paste => {
                let text = self.register.clone();
                let outcome = self.edit(|t| {
                    t.buffer.commit_group();
                    t.buffer.paste(&text);
                    t.buffer.commit_group();
                });
                self.leave_visual();
                return outcome;
            }
            Action::DeleteLine => {
                let mut line = None;
                let outcome = self.edit(|t| line = Some(t.buffer.delete_line()));
                return match line {
                    Some(text) => self.copy_out(text),
                    None => outcome,
                };
            }
            Action::YankLine => {
                if let Some(text) = self.active_tab().map(|t| t.buffer.yank_line()) {
                    return self.copy_out(text);
                }
            }
            Action::PasteAfter => {
                let text = self.register.clone();
                return self.edit(|t| {
                    t.buffer.commit_group();
                    if text.ends_with('\n') {
                        t.buffer.paste_lines(&text, true);
                    } else {
                        t.buffer.move_right(false);
                        t.buffer.paste(&text);
                    }
                    t.buffer.commit_group();
                });
            }
            Action::InsertMode => self.mode = Mode::Insert,
            Action::Append => {
                self.with_tab(|t| t.buffer.move_right(false));
                self.mode = Mode::Insert;
            }
            Action::OpenBelow => {
                self.with_tab(|t| t.buffer.move_line_end(false));
                let outcome = self.edit(|t| t.buffer.insert_newline());
                self.mode = Mode::Insert;
                return outcome;
            }
            Action::NormalMode => {
                self.mode = Mode::Normal;
                self.with_tab(|t| {
                    let at = t.buffer.cursor();
                    t.buffer.move_to(at, false);
                    t.buffer.commit_group();
                });
            }
            Action::VisualMode => self.mode = Mode::Visual,
            Action::CommandLine => return Outcome::prompt(PromptKind::Command, ""),
            Action::Find => return self.find_prompt(false),
            Action::FindBackward => return self.find_prompt(true),
            Action::ToggleWrap => return self.set_wrap(None),
            Action::Replace => return Outcome::prompt(PromptKind::ReplacePattern, ""),
            Action::GotoLine => return Outcome::prompt(PromptKind::GotoLine, ""),
            Action::FindNext => return self.step(true),
            Action::FindPrev => return self.step(false),
            Action::Save => return Outcome::Effect(Effect::Save),
            Action::CloseTab => return self.close_tab(false),
            Action::NextTab | Action::PrevTab => {
                self.leave_modes();
                let n = self.tabs.len();
                self.active = if action == Action::NextTab {
                    (self.active + 1) % n
                } else {
                    (self.active + n - 1) % n
                };
                return Outcome::Effect(Effect::ShowConflict);
            }
            Action::MoveTabLeft | Action::MoveTabRight => {
                let i = self.active;
                let j = if action == Action::MoveTabLeft {
                    i.checked_sub(1)
                } else {
                    Some(i + 1).filter(|j| *j < self.tabs.len())
                };
                if let Some(j) = j {
                    self.tabs.swap(i, j);
                    self.active = j;
                }
            }
            Action::Back => {
                if self.modal && self.mode != Mode::Normal {
                    self.mode = Mode::Normal;
                } else if !self.modal && self.hide_matches() {
                    // The first esc hides the search's matches.
                } else {
                    return Outcome::Effect(Effect::Focus(Focus::Tree));
                }
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Redraw
    }

    /// An action of a modal keymap that vim carries out: entering and
    /// leaving modes, the keys of insert mode, and searches, which leave
    /// the cursor on the match with nothing selected.
    fn vim_action(&mut self, action: Action) -> Option<Outcome> {
        let key = |c| Some(vim::Key::Char(c));
        let run = match (action, self.mode) {
            (Action::InsertMode, Mode::Normal) => key('i'),
            (Action::Append, Mode::Normal) => key('a'),
            (Action::OpenBelow, Mode::Normal) => key('o'),
            (Action::VisualMode, Mode::Normal) => key('v'),
            (Action::FindNext, Mode::Normal | Mode::Visual) => key('n'),
            (Action::FindPrev, Mode::Normal | Mode::Visual) => key('N'),
            // Esc stays in the editor: it cancels a half-typed command.
            (Action::NormalMode | Action::Back, Mode::Visual | Mode::Normal) => Some(vim::Key::Esc),
            (Action::NormalMode | Action::Back, Mode::Insert) => {
                let Self {
                    vim, tabs, active, ..
                } = self;
                if let Some(tab) = tabs.get_mut(*active) {
                    vim.leave_insert(&mut tab.buffer);
                }
                self.mode = Mode::Normal;
                return Some(Outcome::Redraw);
            }
            (Action::Newline, Mode::Insert) => return Some(self.insert_key(InsertKey::Newline)),
            (Action::Indent, Mode::Insert) => return Some(self.insert_key(InsertKey::Tab)),
            (Action::Backspace, Mode::Insert) => {
                return Some(self.insert_key(InsertKey::Backspace));
            }
            (Action::DeleteForward, Mode::Insert) => {
                return Some(self.insert_key(InsertKey::Delete));
            }
            _ => None,
        }?;
        if matches!(action, Action::FindNext | Action::FindPrev) {
            let Some(re) = self.search.as_ref().map(|s| s.re.clone()) else {
                return Some(Outcome::Effect(Effect::Notify(
                    "no search yet".into(),
                    false,
                )));
            };
            if self
                .active_tab()
                .is_some_and(|t| t.buffer.find_next(&re, 0).is_none())
            {
                return Some(self.no_match());
            }
        }
        Some(self.vim_run(run))
    }

    /// Closes the active tab; a dirty one asks first unless `confirmed`.
    pub fn close_tab(&mut self, confirmed: bool) -> Outcome {
        let Some(tab) = self.active_tab() else {
            return Outcome::Ignored;
        };
        if tab.is_dirty() && !confirmed && self.read_only.is_none() {
            return Outcome::Effect(Effect::Confirm(ConfirmKind::DiscardTab {
                index: self.active,
            }));
        }
        let tab = self.tabs.remove(self.active);
        if tab.is_dirty() || tab.conflict.is_some() {
            self.cleaned.push(tab.path);
        }
        self.active = self.active.min(self.tabs.len().saturating_sub(1));
        if self.tabs.is_empty() {
            return Outcome::Effect(Effect::Focus(Focus::Tree));
        }
        Outcome::Redraw
    }

    /// After a yes to "close the tab and drop its changes?".
    pub fn discard_tab(&mut self, index: usize) -> Outcome {
        self.active = index.min(self.tabs.len().saturating_sub(1));
        self.close_tab(true)
    }

    /// The answer to a conflict: take the other version (undoably) or keep
    /// the buffer. Returns the note for the status bar.
    pub fn resolve_conflict(&mut self, take: bool) -> Option<&'static str> {
        let tab = self.active_tab_mut()?;
        let conflict = tab.conflict.take()?;
        tab.sent_version = None;
        if conflict.kind == ConflictKind::ChangedOnDisk {
            // Either way the disk's version is now the base: a save writes
            // over it knowingly, and taking it leaves nothing unsaved.
            tab.base_hash = Some(content_hash(&conflict.other));
        }
        if take {
            tab.take(&conflict.other);
            if conflict.kind == ConflictKind::ChangedOnDisk {
                tab.buffer.mark_saved();
            }
        }
        Some(match (take, conflict.kind) {
            (true, ConflictKind::StaleDraft) => "took the draft; undo brings the saved text back",
            (false, ConflictKind::StaleDraft) => "dropped the draft; the saved file stays",
            (true, ConflictKind::ChangedOnDisk) => {
                "took the version on disk; undo brings yours back"
            }
            (false, ConflictKind::ChangedOnDisk) => {
                "kept your text; saving writes it over the disk's"
            }
        })
    }

    /// Another program wrote `text` as `path`: a clean buffer takes it, a
    /// dirty one is offered it beside the typed text. True when offered.
    pub fn changed_on_disk(&mut self, path: &str, text: String, highlighter: &Highlighter) -> bool {
        let Some(tab) = self.tab_mut(path) else {
            return false;
        };
        let hash = content_hash(&text);
        if tab.base_hash.as_deref() == Some(hash.as_str()) {
            return false;
        }
        if tab.is_dirty() {
            // Never replace typed text: offer the disk's version.
            tab.conflict = Some(DraftConflict {
                other: text,
                kind: ConflictKind::ChangedOnDisk,
            });
            return true;
        }
        // In place, as one undo step: undo brings back the text before the
        // change (an applied patch, another program's write).
        tab.buffer.reload(&text);
        tab.base_hash = Some(hash);
        tab.cache = highlighter.cache_for(&tab.path);
        tab.cache_version = tab.buffer.version();
        tab.sent_version = None;
        false
    }

    /// Tabs of `from` (a file, or a folder's files) follow it to `to`.
    pub fn renamed(&mut self, from: &str, to: &str, highlighter: &Highlighter) {
        let prefix = format!("{from}/");
        for tab in &mut self.tabs {
            let renamed = if tab.path == from {
                Some(to.to_string())
            } else {
                tab.path
                    .strip_prefix(&prefix)
                    .map(|rest| format!("{to}/{rest}"))
            };
            if let Some(new_path) = renamed {
                self.cleaned
                    .push(std::mem::replace(&mut tab.path, new_path));
                tab.cache = highlighter.cache_for(&tab.path);
                tab.sent_version = None;
            }
        }
    }

    /// Tabs of a deleted file or folder stay, as unsaved new files, so
    /// nothing typed is lost.
    pub fn deleted(&mut self, path: &str) {
        let prefix = format!("{path}/");
        for tab in self
            .tabs
            .iter_mut()
            .filter(|t| t.path == path || t.path.starts_with(&prefix))
        {
            tab.base_hash = None;
            tab.sent_version = None;
        }
    }

    /// Draws the pane; returns where the terminal cursor goes when focused.
    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Cells,
        focused: bool,
        banner: Option<(&str, bool)>,
        highlighter: &Highlighter,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let title = match self.tabs.get(self.active) {
            Some(tab) => format!(" {} ", tab.path),
            None => " no file open ".to_string(),
        };
        frame(&title, focused, theme).render(area, buf);
        let lines = self.active_tab().map_or(1, |t| t.buffer.len_lines());
        let has_banner = banner.is_some() && self.active_tab().is_some();
        let areas = layout::editor(area, has_banner, lines);
        if areas.body.width == 0 || areas.tab_bar.height == 0 {
            return None;
        }
        self.height = usize::from(areas.body.height);

        let spans: Vec<Span> = self
            .tabs
            .iter()
            .enumerate()
            .flat_map(|(i, tab)| {
                let name = tab.path.rsplit('/').next().unwrap_or(&tab.path);
                let dirty = if tab.is_dirty() { " ●" } else { "" };
                let style = if i == self.active {
                    theme.ui("selection")
                } else {
                    theme.ui("muted")
                };
                [
                    Span::styled(format!(" {name}{dirty} "), style),
                    Span::raw("│"),
                ]
            })
            .collect();
        Paragraph::new(Line::from(spans)).render(areas.tab_bar, buf);

        let count = self.shown_count();
        let visual = match self.tabs.get(self.active) {
            Some(tab) if self.modal => self.vim.highlight(&tab.buffer),
            _ => Vec::new(),
        };
        let Self {
            tabs,
            active,
            search,
            ..
        } = self;
        let tab = tabs.get_mut(*active)?;
        let selection = tab.buffer.selection();
        let marks = view::Marks {
            selected: if !visual.is_empty() {
                visual
            } else {
                tab.buffer
                    .all_selections()
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| s.range())
                    .collect()
            },
            others: tab.buffer.others().iter().map(|s| s.head).collect(),
            search: search.as_ref().filter(|s| s.shown).map(|s| &s.re),
            at: selection.start(),
        };
        if let Some(count) = count {
            // Where the search stands, on the bottom border: ` 3/17 `.
            let text = format!(" {count} ");
            let width = text.chars().count() as u16;
            if area.width > width + 2 && area.height > 0 {
                buf.set_string(
                    area.right() - width - 2,
                    area.bottom() - 1,
                    text,
                    theme.ui("title"),
                );
            }
        }
        if let (Some(line), Some((text, is_error))) = (areas.banner, banner) {
            let style = if is_error {
                theme.ui("error")
            } else {
                theme.ui("warning")
            };
            Paragraph::new(Line::styled(text.to_string(), style)).render(line, buf);
        }
        view::draw_text(tab, areas, focused, &marks, buf, highlighter, theme)
    }
}
