//! The help overlay, generated from the active key bindings.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::{frame, inner, popup};
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
    let popup = popup(area, 64, entries.len() as u16 + 2, 2);
    Clear.render(popup, buf);
    frame(" Keys (any key closes) ", true, theme).render(popup, buf);
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
