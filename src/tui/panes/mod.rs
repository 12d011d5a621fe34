//! The panes of the workstation. Each is a struct with its state, an
//! `update(Action) -> Outcome` for the actions it understands (the app
//! carries out the effects an outcome asks for) and a `render(area, buf)`.
//! The overlays (picker, prompt, help, conflict) draw over them.

pub(crate) mod ai;
pub(crate) mod changes;
pub(crate) mod conflict;
pub(crate) mod diff;
pub(crate) mod editor;
pub(crate) mod git;
pub(crate) mod grep;
pub(crate) mod help;
pub(crate) mod job_log;
pub(crate) mod jobs;
pub(crate) mod meetings;
pub(crate) mod picker;
pub(crate) mod prompt;
pub(crate) mod review;
pub(crate) mod status;
pub(crate) mod tree;
pub(crate) mod workspaces;

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, BorderType, Borders};

use super::keymap::Action;
use super::theme::Theme;

/// The bordered frame every pane draws in, highlighted when focused.
pub(crate) fn frame<'a>(title: &'a str, focused: bool, theme: &Theme) -> Block<'a> {
    let border = if focused {
        theme.ui("border_focused")
    } else {
        theme.ui("border")
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(border)
        .title(title)
        .title_style(if focused {
            theme.ui("title")
        } else {
            Style::default()
        })
}

/// `text` cut to `width` columns (with … when cut) and padded to it.
pub(crate) fn fit(text: &str, width: usize, right: bool) -> String {
    let mut out = String::new();
    let mut used = 0;
    let full = unicode_width::UnicodeWidthStr::width(text) <= width;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + usize::from(!full) > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if !full && width > 0 {
        out.push('…');
        used += 1;
    }
    let pad = " ".repeat(width.saturating_sub(used));
    if right {
        format!("{pad}{out}")
    } else {
        format!("{out}{pad}")
    }
}

/// Moves `selected` within `len` items by a signed step, clamped.
pub(crate) fn step(selected: usize, len: usize, delta: isize) -> usize {
    if len == 0 {
        return 0;
    }
    selected.saturating_add_signed(delta).min(len - 1)
}

/// Where a list selection goes for a movement action (`None` for any
/// other action): a step, a page of `page` rows, or either end.
pub(crate) fn moved(selected: usize, len: usize, page: u16, action: Action) -> Option<usize> {
    let page = page.max(1) as isize;
    Some(match action {
        Action::Up => step(selected, len, -1),
        Action::Down => step(selected, len, 1),
        Action::PageUp => step(selected, len, -page),
        Action::PageDown => step(selected, len, page),
        Action::Top => 0,
        Action::Bottom => len.saturating_sub(1),
        _ => return None,
    })
}

/// The first row to show so that `selected` stays in a window of `height`.
pub(crate) fn scroll_for(selected: usize, height: u16) -> usize {
    let height = usize::from(height.max(1));
    selected.saturating_sub(height - 1)
}

/// A `width` x `height` box centred across `area`, placed `1/divisor` of
/// the way down (2 centres it; 3 sits it higher, where the eye starts).
pub(crate) fn popup(area: Rect, width: u16, height: u16, divisor: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / divisor.max(1),
        width,
        height,
    }
}

pub(crate) use super::layout::inner;

#[cfg(test)]
mod tests;
