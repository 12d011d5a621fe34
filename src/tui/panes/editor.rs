//! The editor pane: a tab bar, banners, and the active buffer with syntax
//! colours, line numbers, the selection and the cursor. Only visible lines
//! are highlighted; wide characters and tabs take their display width.

use ratatui::buffer::Buffer as Cells;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use unicode_segmentation::UnicodeSegmentation;

use super::{frame, inner};
use crate::editor::grapheme;
use crate::editor::highlight::Highlighter;
use crate::tui::session::Tab;
use crate::tui::theme::Theme;

/// What the editor pane shows besides the text.
pub(crate) struct EditorView<'a> {
    pub tabs: &'a mut [Tab],
    pub active: usize,
    pub focused: bool,
    pub banner: Option<(&'a str, bool)>,
}

impl EditorView<'_> {
    /// Draws the pane; returns where the terminal cursor goes when focused.
    pub fn render(
        self,
        area: Rect,
        buf: &mut Cells,
        highlighter: &Highlighter,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let title = match self.tabs.get(self.active) {
            Some(tab) => format!(" {} ", tab.path),
            None => " no file open ".to_string(),
        };
        frame(&title, self.focused, theme).render(area, buf);
        let mut body = inner(area);
        if body.height == 0 || body.width == 0 {
            return None;
        }

        // Tab bar.
        let spans: Vec<Span> = self
            .tabs
            .iter()
            .enumerate()
            .flat_map(|(i, tab)| {
                let name = tab.path.rsplit('/').next().unwrap_or(&tab.path);
                let dirty = if tab.is_dirty() { " ●" } else { "" };
                let style = if i == self.active {
                    theme.ui("selection")
                } else {
                    theme.ui("muted")
                };
                [
                    Span::styled(format!(" {name}{dirty} "), style),
                    Span::raw("│"),
                ]
            })
            .collect();
        Paragraph::new(Line::from(spans)).render(Rect { height: 1, ..body }, buf);
        body.y += 1;
        body.height = body.height.saturating_sub(1);

        let tab = self.tabs.get_mut(self.active)?;
        if let Some((text, is_error)) = self.banner
            && body.height > 1
        {
            let style = if is_error {
                theme.ui("error")
            } else {
                theme.ui("warning")
            };
            Paragraph::new(Line::styled(text.to_string(), style))
                .render(Rect { height: 1, ..body }, buf);
            body.y += 1;
            body.height -= 1;
        }

        let gutter = tab.buffer.len_lines().max(1).to_string().len() + 1;
        let text_width = usize::from(body.width).saturating_sub(gutter);
        tab.scroll_to_cursor(usize::from(body.height), text_width);
        if tab.cache_version != tab.buffer.version() {
            tab.cache
                .invalidate_from(tab.edited_from.take().unwrap_or(0));
            tab.cache_version = tab.buffer.version();
        }
        let end = (tab.top + usize::from(body.height)).min(tab.buffer.len_lines());
        let top = tab.top;
        let spans = {
            let Tab { cache, buffer, .. } = &mut *tab;
            let lines = buffer.len_lines();
            highlighter.highlight(cache, |i| (i < lines).then(|| buffer.line(i)), top, end)
        };

        let selection = tab.buffer.selection();
        let selected = if selection.is_empty() {
            None
        } else {
            Some(selection.range())
        };
        let base = theme.ui("foreground");
        let select_style = theme.ui("selection");
        let number_style = theme.ui("line_number");
        let (cursor_line, cursor_col) = tab.buffer.cursor_line_col();
        let tab_width = crate::editor::buffer::DEFAULT_TAB_WIDTH;

        for (row, pieces) in spans.into_iter().enumerate() {
            let y = body.y + row as u16;
            let line_index = tab.top + row;
            buf.set_stringn(
                body.x,
                y,
                format!("{:>w$} ", line_index + 1, w = gutter - 1),
                gutter,
                number_style,
            );
            let mut char_idx = tab.buffer.line_to_char(line_index);
            let mut col = 0usize;
            let x0 = usize::from(body.x) + gutter;
            let right = usize::from(body.x + body.width);
            for (style, text) in pieces {
                let style = base.patch(theme.span_style(&style));
                for grapheme in text.graphemes(true) {
                    let chars = grapheme.chars().count();
                    // The buffer's own measure, so the cursor lands where
                    // the text is drawn.
                    let width = grapheme::width(grapheme, col, tab_width);
                    let in_selection = selected.as_ref().is_some_and(|r| r.contains(&char_idx));
                    let cell_style: Style = if in_selection {
                        style.patch(select_style)
                    } else {
                        style
                    };
                    if col >= tab.left && width > 0 {
                        let x = x0 + col - tab.left;
                        if x + width <= right {
                            let symbol = if grapheme == "\t" {
                                " ".repeat(width)
                            } else {
                                grapheme.to_string()
                            };
                            buf.set_stringn(x as u16, y, symbol, width, cell_style);
                        }
                    }
                    col += width;
                    char_idx += chars;
                }
            }
            // A selected line ending shows as one selected cell.
            if let Some(r) = &selected
                && r.contains(&char_idx)
                && char_idx < tab.buffer.line_end_char(line_index).max(char_idx + 1)
                && col >= tab.left
            {
                let x = x0 + col - tab.left;
                if x < right {
                    buf.set_stringn(x as u16, y, " ", 1, select_style);
                }
            }
        }
        if !self.focused || cursor_line < tab.top || cursor_line >= end.max(tab.top + 1) {
            return None;
        }
        let x = usize::from(body.x) + gutter + cursor_col.saturating_sub(tab.left);
        let y = usize::from(body.y) + cursor_line - tab.top;
        (x < usize::from(body.x + body.width)).then_some((x as u16, y as u16))
    }
}
