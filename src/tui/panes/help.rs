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
    // The pane's own keys first: when the list is taller than the screen,
    // the global ones are what is cut.
    let own: Vec<_> = keymap
        .help(&scopes[scopes.len().saturating_sub(1)..])
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    let (mut entries, global): (Vec<_>, Vec<_>) = keymap
        .help(scopes)
        .into_iter()
        .partition(|(action, _)| own.contains(action));
    entries.extend(global);
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
