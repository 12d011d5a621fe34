//! The status bar: workspace, storage type, file, syntax, position, and the
//! last message.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::tui::theme::Theme;

pub(crate) struct StatusLine<'a> {
    pub workspace: Option<(&'a str, &'a str)>,
    pub file: Option<(&'a str, &'a str, usize, usize)>,
    pub message: Option<&'a str>,
    pub is_error: bool,
}

impl StatusLine<'_> {
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let base = theme.ui("status");
        let mut spans = vec![Span::styled(" kollega ", base.patch(theme.ui("title")))];
        if let Some((name, storage)) = self.workspace {
            spans.push(Span::styled(format!("│ {name} [{storage}] "), base));
        }
        if let Some((path, syntax, line, total)) = self.file {
            spans.push(Span::styled(
                format!("│ {path} · {syntax} · {line}/{total} "),
                base,
            ));
        }
        match self.message {
            Some(message) => {
                let style = if self.is_error {
                    base.patch(theme.ui("error"))
                } else {
                    base
                };
                spans.push(Span::styled(format!("│ {message}"), style));
            }
            None => spans.push(Span::styled(
                "│ ? help  q quit",
                base.patch(theme.ui("muted")),
            )),
        }
        Paragraph::new(Line::from(spans))
            .style(base)
            .render(area, buf);
    }
}
