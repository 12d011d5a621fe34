//! The editor's search: the query typed in the search prompt (literal, or
//! a regex after `alt-r`; vim's `/` and `?` start as a regex, as vim users
//! expect) or vim's `*` and `#`; moving to the next or previous match; the
//! `3/17` count and the note when the search wraps around the text's end
//! (vim's "search hit BOTTOM, continuing at TOP"); which matches are shown
//! highlighted, until `:noh` or `esc` hides them; and soft wrap on or off.

use regex::Regex;

use super::super::prompt::PromptKind;
use super::EditorPane;
use crate::editor::ex::ExCommand;
use crate::editor::search::{self, MatchCount, Query};
use crate::error::Hint;
use crate::tui::app::{Effect, Outcome};

/// The search `n`, `N`, `f3` and `shift-f3` continue.
pub(crate) struct Search {
    pub re: Regex,
    /// What was searched for, as typed, for messages.
    pub label: String,
    /// Its matches are highlighted (vim's `hlsearch`, until `:noh`).
    pub shown: bool,
    /// The count the last move found, while the buffer and the cursor
    /// stay where they were: (buffer version, match start, count).
    pub count: Option<(u64, usize, MatchCount)>,
}

impl Search {
    fn new(re: Regex, label: String) -> Search {
        Search {
            re,
            label,
            shown: true,
            count: None,
        }
    }
}

impl EditorPane {
    /// The search prompt, literal or regex as the last search was (at
    /// first literal, and a regex with vim's keys).
    pub(super) fn find_prompt(&self, backward: bool) -> Outcome {
        Outcome::prompt(
            PromptKind::Find {
                regex: self.regex_search,
                backward,
            },
            "",
        )
    }

    /// Searches for `query` from the cursor, down the text or `backward`
    /// up it (vim's `?`: `n` then goes on up).
    pub fn search(&mut self, query: Query, backward: bool) -> Outcome {
        let re = match query.compile() {
            Ok(re) => re,
            Err(e) => {
                return Outcome::Effect(Effect::Notify(format!("{e}: {}", e.hint()), true));
            }
        };
        self.regex_search = query.regex;
        self.vim.set_search(re.clone(), backward);
        let missing = self
            .active_tab()
            .is_some_and(|t| t.buffer.find_next(&re, 0).is_none());
        self.search = Some(Search::new(re, query.pattern));
        if missing {
            return self.no_match();
        }
        if self.modal {
            self.vim_run(crate::editor::vim::Key::Char('n'))
        } else {
            self.step(!backward)
        }
    }

    /// vim's `*` or `#` searched for `re`.
    pub(super) fn searched_word(&mut self, re: Regex) {
        let label = re.as_str().to_string();
        self.search = Some(Search::new(re, label));
    }

    /// The next match down the text (`forward`) or up, selected, outside
    /// vim.
    pub(super) fn step(&mut self, forward: bool) -> Outcome {
        let Some(re) = self.search.as_ref().map(|s| s.re.clone()) else {
            return Outcome::Effect(Effect::Notify("no search yet".into(), false));
        };
        let Some(tab) = self.active_tab_mut() else {
            return Outcome::Ignored;
        };
        let before = tab.buffer.selection().start();
        let found = if forward {
            tab.buffer.search_next(&re)
        } else {
            tab.buffer.search_prev(&re)
        };
        if !found {
            return self.no_match();
        }
        self.searched(forward, before)
    }

    /// Nothing matches the search anywhere.
    pub(super) fn no_match(&self) -> Outcome {
        let label = self.search.as_ref().map_or("", |s| s.label.as_str());
        Outcome::Effect(Effect::Notify(format!("no match for {label}"), false))
    }

    /// After a move to a match from char `before`: the count, and the note
    /// when the search went past the end (or the start) and on from the
    /// other one.
    pub(super) fn searched(&mut self, forward: bool, before: usize) -> Outcome {
        let Self {
            search,
            tabs,
            active,
            ..
        } = self;
        let (Some(search), Some(tab)) = (search.as_mut(), tabs.get(*active)) else {
            return Outcome::Redraw;
        };
        let at = tab.buffer.selection().start();
        let count = search::count(tab.buffer.rope(), &search.re, at);
        search.count = Some((tab.buffer.version(), at, count));
        search.shown = true;
        let wrapped = if forward { at <= before } else { at >= before };
        let message = match (wrapped, forward) {
            (true, true) => format!("search hit BOTTOM, continuing at TOP [{count}]"),
            (true, false) => format!("search hit TOP, continuing at BOTTOM [{count}]"),
            (false, true) => format!("/{} [{count}]", search.label),
            (false, false) => format!("?{} [{count}]", search.label),
        };
        Outcome::Effect(Effect::Notify(message, false))
    }

    /// The count to show at the bottom of the pane: only while the cursor
    /// is where the last search move left it, on an unchanged buffer.
    pub(super) fn shown_count(&self) -> Option<MatchCount> {
        let (version, at, count) = self.search.as_ref()?.count?;
        let tab = self.active_tab()?;
        (tab.buffer.version() == version && tab.buffer.selection().start() == at).then_some(count)
    }

    /// Hides the matches until the next search (`:noh`, `esc`); false when
    /// none were shown.
    pub(super) fn hide_matches(&mut self) -> bool {
        match &mut self.search {
            Some(search) if search.shown => {
                search.shown = false;
                true
            }
            _ => false,
        }
    }

    /// Soft wrap on or off (`None`: the other way) for every tab, and for
    /// the tabs opened later.
    pub fn set_wrap(&mut self, on: Option<bool>) -> Outcome {
        self.wrap_all(on.unwrap_or(!self.wrap));
        let note = if self.wrap {
            "soft wrap on: long lines wrap at the window's width"
        } else {
            "soft wrap off: long lines scroll sideways"
        };
        Outcome::Effect(Effect::Notify(note.into(), false))
    }

    /// Soft wrap on or off, without a word (the setting at start).
    pub fn wrap_all(&mut self, on: bool) {
        self.wrap = on;
        for tab in &mut self.tabs {
            tab.wrap = on;
        }
    }

    /// The ex commands of the view: `:set wrap`, `:set nowrap`, `:noh`.
    pub fn view_command(&mut self, command: ExCommand) -> Outcome {
        match command {
            ExCommand::Wrap(on) => self.set_wrap(on),
            ExCommand::NoHighlight => {
                self.hide_matches();
                Outcome::Redraw
            }
            _ => Outcome::Ignored,
        }
    }
}
