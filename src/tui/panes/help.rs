//! The help overlay, generated from the active key bindings: scrolled
//! with the list keys, filtered after `/` (the list table's `finder` key),
//! closed with `esc` or `q`.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::{fit, frame, inner, popup};
use crate::tui::keymap::{Action, KeyChord, Keymap, Scope};
use crate::tui::theme::Theme;

/// The help overlay's state: where it is scrolled and what it is filtered
/// by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HelpView {
    scroll: usize,
    filter: String,
    /// Typed keys go to the filter.
    filtering: bool,
    /// Rows shown in the last frame, for paging.
    page: usize,
}

impl HelpView {
    /// Handles a key; `false` when the overlay closes. `action` is what
    /// the `[list]` table binds the key to.
    pub(crate) fn handle_key(&mut self, action: Option<Action>, key: KeyEvent) -> bool {
        if self.filtering {
            match key.code {
                crossterm::event::KeyCode::Esc => {
                    self.filtering = false;
                    self.filter.clear();
                }
                crossterm::event::KeyCode::Enter => self.filtering = false,
                crossterm::event::KeyCode::Backspace => {
                    self.filter.pop();
                }
                _ => {
                    if let Some(c) = KeyChord::from_event(&key).and_then(|k| k.typed_char()) {
                        self.filter.push(c);
                    }
                }
            }
            self.scroll = 0;
            return true;
        }
        let page = self.page.max(1);
        match action {
            Some(Action::Quit | Action::Back | Action::Help) => return false,
            Some(Action::Finder) => {
                self.filtering = true;
                self.filter.clear();
            }
            Some(Action::Down) => self.scroll += 1,
            Some(Action::Up) => self.scroll = self.scroll.saturating_sub(1),
            Some(Action::PageDown) => self.scroll += page,
            Some(Action::PageUp) => self.scroll = self.scroll.saturating_sub(page),
            Some(Action::Top) => self.scroll = 0,
            Some(Action::Bottom) => self.scroll = usize::MAX,
            _ => {}
        }
        true
    }

    pub(crate) fn render(
        &mut self,
        keymap: &Keymap,
        scopes: &[Scope],
        area: Rect,
        buf: &mut Buffer,
        theme: &Theme,
    ) {
        let needle = self.filter.to_lowercase();
        let entries: Vec<(String, String)> = keymap
            .help(scopes)
            .into_iter()
            .map(|(action, keys)| (keys.join(" "), action.describe().to_string()))
            .filter(|(keys, what)| {
                needle.is_empty()
                    || keys.to_lowercase().contains(&needle)
                    || what.to_lowercase().contains(&needle)
            })
            .collect();
        // The list, a line for the filter or the keys that work here.
        let height = (entries.len() as u16).saturating_add(3).max(4);
        let popup = popup(area, 72, height, 2);
        Clear.render(popup, buf);
        frame(" Keys ", true, theme).render(popup, buf);
        let body = inner(popup);
        if body.height == 0 {
            return;
        }
        let rows = usize::from(body.height - 1);
        self.page = rows;
        self.scroll = self.scroll.min(entries.len().saturating_sub(rows));
        let width = usize::from(body.width);
        let lines: Vec<Line> = entries
            .iter()
            .skip(self.scroll)
            .take(rows)
            .map(|(keys, what)| {
                let keys = fit(keys, 18, false);
                Line::from(vec![
                    Span::styled(format!(" {keys} "), theme.ui("title")),
                    Span::styled(
                        fit(what, width.saturating_sub(21), false),
                        theme.ui("foreground"),
                    ),
                ])
            })
            .collect();
        Paragraph::new(lines).render(
            Rect {
                height: body.height - 1,
                ..body
            },
            buf,
        );
        let shown = if entries.is_empty() {
            "no key matches".to_string()
        } else {
            format!(
                "{}-{} of {}",
                self.scroll + 1,
                (self.scroll + rows).min(entries.len()),
                entries.len()
            )
        };
        // The keys named are the list table's, whatever the keymap says.
        let list = keymap.help(&[Scope::List]);
        let key = |action: Action, fallback: &str| {
            list.iter()
                .find(|(a, _)| *a == action)
                .and_then(|(_, keys)| keys.iter().min_by_key(|k| k.len()).cloned())
                .unwrap_or_else(|| fallback.to_string())
        };
        let footer = if self.filtering {
            format!(
                " filter: {}▏ {shown} · enter keeps, esc clears",
                self.filter
            )
        } else {
            let filter = if self.filter.is_empty() {
                String::new()
            } else {
                format!("filter: {} · ", self.filter)
            };
            format!(
                " {filter}{shown} · {} {} scroll · {} filter · {} closes",
                key(Action::Down, "down"),
                key(Action::Up, "up"),
                key(Action::Finder, "/"),
                key(Action::Quit, "esc"),
            )
        };
        Paragraph::new(fit(&footer, width, false))
            .style(theme.ui("muted"))
            .render(
                Rect {
                    y: body.y + body.height - 1,
                    height: 1,
                    ..body
                },
                buf,
            );
    }
}
