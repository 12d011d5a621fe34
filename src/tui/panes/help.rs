//! The help overlay, generated from the active key bindings.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::{frame, inner};
use crate::tui::keymap::{Keymap, Scope};
use crate::tui::theme::Theme;

pub(crate) fn render(
    keymap: &Keymap,
    scopes: &[Scope],
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) {
    let entries = keymap.help(scopes);
    let width = area.width.min(64);
    let height = (entries.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    Clear.render(popup, buf);
    frame(" Keys (? to close) ", true, theme).render(popup, buf);
    let lines: Vec<Line> = entries
        .into_iter()
        .map(|(action, keys)| {
            Line::from(vec![
                Span::styled(format!(" {:<18}", keys.join(" ")), theme.ui("title")),
                Span::styled(action.describe(), theme.ui("foreground")),
            ])
        })
        .collect();
    Paragraph::new(lines).render(inner(popup), buf);
}
