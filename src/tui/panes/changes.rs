//! The changes pane of a git workspace: every changed file with its staged
//! (index) and unstaged (work tree) state, lazygit-style two-letter codes.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{frame, inner, moved, scroll_for};
use crate::git::status::{Change, RepoStatus, StatusEntry};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;

pub(crate) struct ChangesPane {
    pub entries: Vec<StatusEntry>,
    pub selected: usize,
    page: u16,
}

impl ChangesPane {
    pub fn new() -> ChangesPane {
        ChangesPane {
            entries: Vec::new(),
            selected: 0,
            page: 10,
        }
    }

    /// Shows a new status, keeping the selected path when it is still there.
    pub fn replace(&mut self, status: &RepoStatus) {
        let keep = self.selected_entry().map(|e| e.path.clone());
        self.entries = status
            .entries
            .iter()
            .filter(|e| !e.ignored)
            .cloned()
            .collect();
        self.selected = keep
            .and_then(|p| self.entries.iter().position(|e| e.path == p))
            .unwrap_or(self.selected)
            .min(self.entries.len().saturating_sub(1));
    }

    pub fn selected_entry(&self) -> Option<&StatusEntry> {
        self.entries.get(self.selected)
    }

    pub fn update(&mut self, action: Action) -> bool {
        let before = self.selected;
        self.selected =
            moved(self.selected, self.entries.len(), self.page, action).unwrap_or(self.selected);
        before != self.selected
    }

    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        status: Option<&RepoStatus>,
        theme: &Theme,
    ) {
        let title = match status {
            Some(s) => {
                let branch = s.branch.head.as_deref().unwrap_or("(detached)");
                match s.branch.upstream {
                    Some(_) => format!(
                        " Changes · {branch} ↑{} ↓{} ",
                        s.branch.ahead, s.branch.behind
                    ),
                    None => format!(" Changes · {branch} "),
                }
            }
            None => " Changes ".to_string(),
        };
        frame(&title, focused, theme).render(area, buf);
        let body = inner(area);
        self.page = body.height;
        if self.entries.is_empty() {
            Paragraph::new("working tree clean")
                .style(theme.ui("muted"))
                .render(body, buf);
            return;
        }
        let first = scroll_for(self.selected, body.height);
        let lines: Vec<Line> = self
            .entries
            .iter()
            .enumerate()
            .skip(first)
            .take(usize::from(body.height))
            .map(|(i, e)| {
                let code = |c: Change| {
                    if c == Change::Unmodified {
                        ' '
                    } else {
                        c.code()
                    }
                };
                let (x, y) = if e.untracked {
                    ('?', '?')
                } else {
                    (code(e.index), code(e.worktree))
                };
                let staged = Span::styled(x.to_string(), theme.ui("diff_added"));
                let unstaged = Span::styled(y.to_string(), theme.ui("diff_removed"));
                let style = if i == self.selected && focused {
                    theme.ui("selection")
                } else {
                    theme.ui("foreground")
                };
                Line::from(vec![
                    staged,
                    unstaged,
                    Span::raw(" "),
                    Span::styled(e.path.clone(), style),
                ])
            })
            .collect();
        Paragraph::new(lines).render(body, buf);
    }
}
