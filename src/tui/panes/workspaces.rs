//! The workspaces pane: every published workspace, its storage and size.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{fit, frame, inner, moved, scroll_for};
use crate::store::workspaces::Workspace;
use crate::tui::app::{Effect, Outcome};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;
use unicode_width::UnicodeWidthStr;

pub(crate) struct WorkspacesPane {
    pub items: Vec<Workspace>,
    pub selected: usize,
    pub page: u16,
}

impl WorkspacesPane {
    pub fn new(items: Vec<Workspace>) -> WorkspacesPane {
        WorkspacesPane {
            items,
            selected: 0,
            page: 5,
        }
    }

    pub fn selected(&self) -> Option<&Workspace> {
        self.items.get(self.selected)
    }

    /// Moves the selection, or opens the selected workspace.
    pub fn update(&mut self, action: Action) -> Outcome {
        if action == Action::Open {
            return match self.selected() {
                Some(ws) => Outcome::Effect(Effect::OpenWorkspace(ws.clone())),
                None => Outcome::Ignored,
            };
        }
        let before = self.selected;
        self.selected =
            moved(self.selected, self.items.len(), self.page, action).unwrap_or(self.selected);
        if before != self.selected {
            Outcome::Redraw
        } else {
            Outcome::Ignored
        }
    }

    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        open: Option<&str>,
        theme: &Theme,
    ) {
        let body = inner(area);
        self.page = body.height;
        frame(" Workspaces ", focused, theme).render(area, buf);
        // A folder opened from disk is not a stored workspace: name it.
        if let Some(name) = open
            && !self.items.iter().any(|ws| ws.name == name)
        {
            let line = Line::from(vec![
                Span::styled(format!("● {name}"), theme.ui("foreground")),
                Span::styled(" (folder)", theme.ui("muted")),
            ]);
            Paragraph::new(line).render(body, buf);
            return;
        }
        if self.items.is_empty() {
            Paragraph::new("none yet: kollega import <dir|zip>")
                .style(theme.ui("muted"))
                .render(body, buf);
            return;
        }
        let first = scroll_for(self.selected, body.height);
        let lines: Vec<Line> = self
            .items
            .iter()
            .enumerate()
            .skip(first)
            .take(usize::from(body.height))
            .map(|(i, ws)| {
                let marker = if open == Some(ws.name.as_str()) {
                    "● "
                } else {
                    "  "
                };
                let width = usize::from(body.width);
                let name = format!("{marker}{}", ws.name);
                let name = fit(&name, width.min(name.width()), false);
                // The detail goes whole, or in part at a word, never cut
                // mid-word: "sqlite · 12 files", "sqlite", nothing.
                let room = width.saturating_sub(name.width());
                let full = format!(" {} · {} files", ws.storage_type.as_str(), ws.files_count);
                let short = format!(" {}", ws.storage_type.as_str());
                let detail = [full, short]
                    .into_iter()
                    .find(|d| d.width() <= room)
                    .unwrap_or_default();
                let style = if i == self.selected && focused {
                    theme.ui("selection")
                } else {
                    theme.ui("foreground")
                };
                Line::from(vec![
                    Span::styled(name, style),
                    Span::styled(detail, theme.ui("muted")),
                ])
            })
            .collect();
        Paragraph::new(lines).render(body, buf);
    }
}
