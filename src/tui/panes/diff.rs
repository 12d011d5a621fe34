//! The diff view: one file's hunks with syntax colours, old and new line
//! numbers, and a selected hunk. Built over the `patch` model, so the git
//! changes pane uses it now and the AI review pane will later.
//!
//! Only the visible rows are drawn and highlighted; the highlight cache of
//! the editor (checkpoints plus the last window) makes a frame of a
//! 5,000-line change cost what its screenful costs.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{frame, inner};
use crate::editor::highlight::{HighlightCache, Highlighter};
use crate::patch::{FilePatch, LineKind};
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowKind {
    Header,
    Line(LineKind),
}

#[derive(Debug, Clone, Copy)]
struct Row {
    hunk: usize,
    kind: RowKind,
    old_no: Option<u32>,
    new_no: Option<u32>,
}

pub(crate) struct DiffView {
    pub patch: FilePatch,
    /// Showing what is staged (HEAD against the index) rather than the
    /// working tree against the index.
    pub staged: bool,
    rows: Vec<Row>,
    /// Row texts with a line ending, as the highlighter reads them.
    texts: Vec<String>,
    pub selected: usize,
    top: usize,
    page: usize,
    cache: HighlightCache,
}

impl DiffView {
    pub fn new(patch: FilePatch, staged: bool, highlighter: &Highlighter) -> DiffView {
        let mut rows = Vec::new();
        let mut texts = Vec::new();
        for (h, hunk) in patch.hunks.iter().enumerate() {
            rows.push(Row {
                hunk: h,
                kind: RowKind::Header,
                old_no: None,
                new_no: None,
            });
            texts.push("\n".to_string());
            let (mut old, mut new) = (hunk.old_start, hunk.new_start);
            for line in &hunk.lines {
                let (old_no, new_no) = match line.kind {
                    LineKind::Context => {
                        old += 1;
                        new += 1;
                        (Some(old - 1), Some(new - 1))
                    }
                    LineKind::Removed => {
                        old += 1;
                        (Some(old - 1), None)
                    }
                    LineKind::Added => {
                        new += 1;
                        (None, Some(new - 1))
                    }
                };
                rows.push(Row {
                    hunk: h,
                    kind: RowKind::Line(line.kind),
                    old_no,
                    new_no,
                });
                texts.push(format!("{}\n", line.text.trim_end_matches(['\n', '\r'])));
            }
        }
        DiffView {
            cache: highlighter.cache_for(patch.path()),
            patch,
            staged,
            rows,
            texts,
            selected: 0,
            top: 0,
            page: 10,
        }
    }

    pub fn hunk_count(&self) -> usize {
        self.patch.hunks.len()
    }

    fn first_row_of(&self, hunk: usize) -> usize {
        self.rows.iter().position(|r| r.hunk == hunk).unwrap_or(0)
    }

    /// Selects the next or previous hunk and scrolls it into view.
    pub fn select(&mut self, forward: bool) -> bool {
        let before = self.selected;
        self.selected = if forward {
            (self.selected + 1).min(self.hunk_count().saturating_sub(1))
        } else {
            self.selected.saturating_sub(1)
        };
        let row = self.first_row_of(self.selected);
        if row < self.top || row >= self.top + self.page {
            self.top = row;
        }
        before != self.selected
    }

    /// Scrolls by pages, keeping the selection on a hunk in view.
    pub fn scroll(&mut self, pages: isize) {
        let last = self.rows.len().saturating_sub(1);
        let step = self.page.max(1) as isize * pages;
        self.top = self.top.saturating_add_signed(step).min(last);
        if let Some(row) = self.rows.get(self.top) {
            self.selected = row.hunk;
        }
    }

    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        highlighter: &Highlighter,
        theme: &Theme,
    ) {
        let (added, removed) = self.patch.line_counts();
        let side = if self.staged { "staged" } else { "unstaged" };
        let title = format!(" {} ({side}: +{added} -{removed}) ", self.patch.path());
        frame(&title, focused, theme).render(area, buf);
        let body = inner(area);
        self.page = usize::from(body.height.max(1));
        if self.patch.binary {
            Paragraph::new("binary file: no text to show")
                .style(theme.ui("muted"))
                .render(body, buf);
            return;
        }
        if self.rows.is_empty() {
            Paragraph::new("no changes")
                .style(theme.ui("muted"))
                .render(body, buf);
            return;
        }
        let end = (self.top + self.page).min(self.rows.len());
        let texts = &self.texts;
        let spans = highlighter.highlight(
            &mut self.cache,
            |i| texts.get(i).map(|t| std::borrow::Cow::Borrowed(t.as_str())),
            self.top,
            end,
        );
        let width = self
            .rows
            .iter()
            .filter_map(|r| r.old_no.max(r.new_no))
            .max()
            .unwrap_or(1)
            .to_string()
            .len();
        let lines: Vec<Line> = (self.top..end)
            .zip(spans)
            .map(|(i, pieces)| {
                let row = self.rows[i];
                let mark = if row.hunk == self.selected {
                    "▌"
                } else {
                    " "
                };
                let mark = Span::styled(mark, theme.ui("border_focused"));
                let number = |n: Option<u32>| {
                    n.map(|n| format!("{n:>width$}"))
                        .unwrap_or_else(|| " ".repeat(width))
                };
                match row.kind {
                    RowKind::Header => {
                        let header = &self.patch.hunks[row.hunk];
                        let text = format!(
                            "@@ -{},{} +{},{} @@ {}",
                            header.old_start,
                            header.old_lines,
                            header.new_start,
                            header.new_lines,
                            header.header
                        );
                        Line::from(vec![mark, Span::styled(text, theme.ui("muted"))])
                    }
                    RowKind::Line(kind) => {
                        let (sign, tint): (&str, Style) = match kind {
                            LineKind::Added => ("+", theme.ui("diff_added")),
                            LineKind::Removed => ("-", theme.ui("diff_removed")),
                            LineKind::Context => (" ", Style::default()),
                        };
                        let mut line = vec![
                            mark,
                            Span::styled(
                                format!("{} {} ", number(row.old_no), number(row.new_no)),
                                theme.ui("line_number"),
                            ),
                            Span::styled(sign, theme.ui("foreground").patch(tint)),
                        ];
                        line.extend(pieces.into_iter().map(|(style, text)| {
                            let style = theme.ui("foreground").patch(theme.span_style(&style));
                            // The tint's background shows the change; the
                            // syntax keeps the foreground.
                            let style = match tint.bg {
                                Some(bg) => style.bg(bg),
                                None => style,
                            };
                            Span::styled(text.replace('\t', "    "), style)
                        }));
                        Line::from(line).style(match tint.bg {
                            Some(bg) => Style::default().bg(bg),
                            None => Style::default(),
                        })
                    }
                }
            })
            .collect();
        Paragraph::new(lines).render(body, buf);
    }
}
