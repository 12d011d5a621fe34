//! The read-only file view: syntax colours, line numbers, scrolling. Only
//! the visible lines are highlighted; parser states are cached.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{frame, inner};
use crate::editor::highlight::{HighlightCache, Highlighter};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;

pub(crate) struct ViewerPane {
    pub path: String,
    pub syntax: String,
    lines: Vec<String>,
    pub scroll: usize,
    cache: HighlightCache,
    page: u16,
}

const TAB: &str = "    ";

impl ViewerPane {
    pub fn new(path: String, content: &str, highlighter: &Highlighter) -> ViewerPane {
        // Keep line endings: the highlighter's syntaxes expect them.
        let lines = content.split_inclusive('\n').map(str::to_string).collect();
        ViewerPane {
            syntax: highlighter.syntax_name(&path).to_string(),
            cache: highlighter.cache_for(&path),
            path,
            lines,
            scroll: 0,
            page: 10,
        }
    }

    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    pub fn update(&mut self, action: Action) -> bool {
        let last = self.lines.len().saturating_sub(1);
        let page = usize::from(self.page.max(1));
        let before = self.scroll;
        self.scroll = match action {
            Action::Up => self.scroll.saturating_sub(1),
            Action::Down => (self.scroll + 1).min(last),
            Action::PageUp => self.scroll.saturating_sub(page),
            Action::PageDown => (self.scroll + page).min(last),
            Action::Top => 0,
            Action::Bottom => last.saturating_sub(page.saturating_sub(1)),
            _ => self.scroll,
        };
        before != self.scroll
    }

    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        highlighter: &Highlighter,
        theme: &Theme,
    ) {
        let title = format!(" {} ", self.path);
        let body = inner(area);
        self.page = body.height;
        frame(&title, focused, theme).render(area, buf);
        let end = (self.scroll + usize::from(body.height)).min(self.lines.len());
        let lines = &self.lines;
        let spans = highlighter.highlight(
            &mut self.cache,
            |i| lines.get(i).map(String::as_str),
            self.scroll,
            end,
        );
        let gutter = self.lines.len().max(1).to_string().len();
        let rendered: Vec<Line> = spans
            .into_iter()
            .enumerate()
            .map(|(offset, pieces)| {
                let number = format!("{:>gutter$} ", self.scroll + offset + 1);
                let mut line = vec![Span::styled(number, theme.ui("line_number"))];
                line.extend(pieces.into_iter().map(|(style, text)| {
                    Span::styled(
                        text.replace('\t', TAB),
                        theme.ui("foreground").patch(theme.span_style(&style)),
                    )
                }));
                Line::from(line)
            })
            .collect();
        Paragraph::new(rendered).render(body, buf);
    }
}
