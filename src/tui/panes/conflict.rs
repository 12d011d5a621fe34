//! The question over a tab whose file changed under it: the text shown
//! against the other version (a draft taken from an older file, or what
//! another program saved), as a unified diff, with the keys that answer.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Widget};

use super::editor::{ConflictKind, Tab};
use super::{frame, inner};
use crate::tui::theme::Theme;

/// Draws the question for `tab`'s conflict over `area`.
pub(crate) fn render(tab: &Tab, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let Some(conflict) = &tab.conflict else {
        return;
    };
    let saved = tab.buffer.text();
    let diff = similar::TextDiff::from_lines(&saved, &conflict.other);
    let (what, keys) = match conflict.kind {
        ConflictKind::StaleDraft => (
            format!(" {} changed after its draft was taken.", tab.path),
            " t: take the draft (undo brings the saved text back)   d: drop it   other keys: later",
        ),
        ConflictKind::ChangedOnDisk => (
            format!(" {} changed on disk while you were editing it.", tab.path),
            " t: take the disk's version (undo brings yours back)   k: keep yours   other keys: later",
        ),
    };
    let mut lines = vec![Line::styled(what, theme.ui("warning"))];
    lines.push(Line::styled(keys, theme.ui("title")));
    for hunk in diff.unified_diff().context_radius(2).iter_hunks() {
        lines.push(Line::styled(hunk.header().to_string(), theme.ui("muted")));
        for change in hunk.iter_changes() {
            let (sign, style) = match change.tag() {
                similar::ChangeTag::Delete => ("-", theme.ui("error")),
                similar::ChangeTag::Insert => ("+", theme.ui("title")),
                similar::ChangeTag::Equal => (" ", theme.ui("muted")),
            };
            let text = change
                .value()
                .trim_end_matches(['\n', '\r'])
                .replace('\t', "    ");
            lines.push(Line::styled(format!("{sign}{text}"), style));
        }
    }
    Clear.render(area, buf);
    let title = match conflict.kind {
        ConflictKind::StaleDraft => " saved file (-) against your draft (+) ",
        ConflictKind::ChangedOnDisk => " your text (-) against the disk's (+) ",
    };
    frame(title, true, theme).render(area, buf);
    Paragraph::new(lines).render(inner(area), buf);
}
