//! The status bar: workspace, storage type, file, syntax, position, and the
//! last message.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::tui::theme::Theme;

pub(crate) struct StatusLine<'a> {
    /// Branch, ahead/behind and dirty count of a git workspace.
    pub git: Option<&'a str>,
    /// Line endings and indent of the active file ("LF 2sp").
    pub format: Option<&'a str>,
    /// Keys for help and quit, shown when there is no message.
    pub hint: &'a str,
    /// The editor mode of a modal keymap.
    pub mode: Option<&'a str>,
    pub workspace: Option<(&'a str, &'a str)>,
    /// Path, syntax, line, column (1-based), dirty.
    pub file: Option<(&'a str, &'a str, usize, usize, bool)>,
    pub message: Option<&'a str>,
    pub is_error: bool,
    /// What the model calls cost ("AI 12.4k tok $0.03 · ws $0.41").
    pub usage: Option<&'a str>,
    /// Open action items untouched past `[meetings] nudge_after`.
    pub nudges: Option<i64>,
}

impl StatusLine<'_> {
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let base = theme.ui("status");
        let mut spans = vec![Span::styled(" kollega ", base.patch(theme.ui("title")))];
        if let Some(mode) = self.mode {
            spans.push(Span::styled(
                format!("{mode} "),
                base.patch(theme.ui("title")),
            ));
        }
        if let Some((name, storage)) = self.workspace {
            let git = self.git.map(|g| format!(" {g}")).unwrap_or_default();
            spans.push(Span::styled(format!("│ {name} [{storage}{git}] "), base));
        }
        if let Some((path, _, line, col, dirty)) = self.file {
            let dirty = if dirty { " ●" } else { "" };
            spans.push(Span::styled(format!("│ {path}{dirty} {line}:{col} "), base));
        }
        // The message comes before the details, so a narrow terminal cuts
        // the syntax name, not the news.
        match self.message {
            Some(message) => {
                let style = if self.is_error {
                    base.patch(theme.ui("error"))
                } else {
                    base
                };
                spans.push(Span::styled(format!("│ {message} "), style));
            }
            None => spans.push(Span::styled(
                format!("│ {} ", self.hint),
                base.patch(theme.ui("muted")),
            )),
        }
        if let Some(count) = self.nudges {
            let s = if count == 1 { "" } else { "s" };
            spans.push(Span::styled(
                format!("│ ⚑ {count} action{s} to nudge "),
                base.patch(theme.ui("warning")),
            ));
        }
        if let Some(usage) = self.usage {
            spans.push(Span::styled(
                format!("│ {usage} "),
                base.patch(theme.ui("muted")),
            ));
        }
        if let Some((_, syntax, ..)) = self.file {
            let format = self.format.map(|f| format!(" · {f}")).unwrap_or_default();
            spans.push(Span::styled(
                format!("│ {syntax}{format}"),
                base.patch(theme.ui("muted")),
            ));
        }
        Paragraph::new(Line::from(spans))
            .style(base)
            .render(area, buf);
    }
}
