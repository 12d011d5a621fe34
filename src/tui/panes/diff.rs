//! The diff view: one file's hunks with syntax colours, old and new line
//! numbers, a selected hunk, and the words that changed within a changed
//! line. Built over the `patch` model: the git changes pane and the AI
//! review pane both show their hunks with it, unified or side by side.
//!
//! Only the visible rows are drawn and highlighted; the highlight cache of
//! the editor (checkpoints plus the last window) makes a frame of a
//! 5,000-line change cost what its screenful costs. Changed words are
//! found once per hunk, the first time the hunk is on screen, and kept.

pub(crate) mod words;

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{frame, inner};
use crate::editor::highlight::{HighlightCache, Highlighter, SpanStyle};
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
    /// The line's position in its hunk (0 for a header).
    line: usize,
    kind: RowKind,
    old_no: Option<u32>,
    new_no: Option<u32>,
}

/// A row of the side-by-side view: the old side's row on the left, the
/// new side's on the right (the same row for context and headers).
#[derive(Debug, Clone, Copy)]
struct Pair {
    hunk: usize,
    left: Option<usize>,
    right: Option<usize>,
}

/// Which side of a side-by-side row a line is drawn on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Both,
    Old,
    New,
}

pub(crate) struct DiffView {
    pub patch: FilePatch,
    /// Showing what is staged (HEAD against the index) rather than the
    /// working tree against the index.
    pub staged: bool,
    /// The frame's title in place of the path and the staged side.
    pub title: Option<String>,
    /// A note per hunk after its `@@` line (a review decision), with the
    /// theme key it is drawn in.
    pub notes: Vec<Option<(String, &'static str)>>,
    /// Old and new side beside each other rather than one under the other.
    side_by_side: bool,
    rows: Vec<Row>,
    pairs: Vec<Pair>,
    /// Row texts with a line ending, as the highlighter reads them.
    texts: Vec<String>,
    /// The first row and the first side-by-side row of each hunk.
    first_row: Vec<usize>,
    first_pair: Vec<usize>,
    /// Changed byte ranges per row, filled a hunk at a time.
    words: Vec<Vec<Range<usize>>>,
    words_done: Vec<bool>,
    /// Digits of the largest line number.
    number_width: usize,
    pub selected: usize,
    /// The first row in view, counted in the current layout's rows.
    top: usize,
    page: usize,
    cache: HighlightCache,
}

impl DiffView {
    pub fn new(patch: FilePatch, staged: bool, highlighter: &Highlighter) -> DiffView {
        let mut rows = Vec::new();
        let mut texts = Vec::new();
        let mut pairs = Vec::new();
        let mut first_row = Vec::with_capacity(patch.hunks.len());
        let mut first_pair = Vec::with_capacity(patch.hunks.len());
        for (h, hunk) in patch.hunks.iter().enumerate() {
            first_row.push(rows.len());
            first_pair.push(pairs.len());
            pairs.push(Pair {
                hunk: h,
                left: Some(rows.len()),
                right: Some(rows.len()),
            });
            rows.push(Row {
                hunk: h,
                line: 0,
                kind: RowKind::Header,
                old_no: None,
                new_no: None,
            });
            texts.push("\n".to_string());
            let (mut old, mut new) = (hunk.old_start, hunk.new_start);
            // Removed rows waiting for the added rows they sit beside.
            let mut removed: Vec<usize> = Vec::new();
            let mut added: Vec<usize> = Vec::new();
            let flush =
                |removed: &mut Vec<usize>, added: &mut Vec<usize>, pairs: &mut Vec<Pair>| {
                    for k in 0..removed.len().max(added.len()) {
                        pairs.push(Pair {
                            hunk: h,
                            left: removed.get(k).copied(),
                            right: added.get(k).copied(),
                        });
                    }
                    removed.clear();
                    added.clear();
                };
            for (l, line) in hunk.lines.iter().enumerate() {
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
                let index = rows.len();
                match line.kind {
                    LineKind::Context => {
                        flush(&mut removed, &mut added, &mut pairs);
                        pairs.push(Pair {
                            hunk: h,
                            left: Some(index),
                            right: Some(index),
                        });
                    }
                    LineKind::Removed => {
                        if !added.is_empty() {
                            flush(&mut removed, &mut added, &mut pairs);
                        }
                        removed.push(index);
                    }
                    LineKind::Added => added.push(index),
                }
                rows.push(Row {
                    hunk: h,
                    line: l,
                    kind: RowKind::Line(line.kind),
                    old_no,
                    new_no,
                });
                texts.push(format!("{}\n", line.text().trim_end_matches(['\n', '\r'])));
            }
            flush(&mut removed, &mut added, &mut pairs);
        }
        let number_width = rows
            .iter()
            .filter_map(|r| r.old_no.max(r.new_no))
            .max()
            .unwrap_or(1)
            .to_string()
            .len();
        let hunks = patch.hunks.len();
        DiffView {
            cache: highlighter.cache_for(patch.path()),
            patch,
            staged,
            title: None,
            notes: vec![None; hunks],
            side_by_side: false,
            words: vec![Vec::new(); rows.len()],
            words_done: vec![false; hunks],
            rows,
            pairs,
            texts,
            first_row,
            first_pair,
            number_width,
            selected: 0,
            top: 0,
            page: 10,
        }
    }

    pub fn hunk_count(&self) -> usize {
        self.patch.hunks.len()
    }

    /// Rows in the current layout.
    fn shown(&self) -> usize {
        if self.side_by_side {
            self.pairs.len()
        } else {
            self.rows.len()
        }
    }

    fn first_row_of(&self, hunk: usize) -> usize {
        let firsts = if self.side_by_side {
            &self.first_pair
        } else {
            &self.first_row
        };
        firsts.get(hunk).copied().unwrap_or(0)
    }

    fn hunk_at(&self, row: usize) -> Option<usize> {
        if self.side_by_side {
            self.pairs.get(row).map(|p| p.hunk)
        } else {
            self.rows.get(row).map(|r| r.hunk)
        }
    }

    pub fn side_by_side(&self) -> bool {
        self.side_by_side
    }

    /// Switches the layout, keeping the selected hunk at the top.
    pub fn set_side_by_side(&mut self, on: bool) {
        if self.side_by_side != on {
            self.side_by_side = on;
            self.top = self.first_row_of(self.selected);
        }
    }

    /// Selects the next or previous hunk and scrolls it into view.
    pub fn select(&mut self, forward: bool) -> bool {
        let before = self.selected;
        let hunk = if forward {
            (self.selected + 1).min(self.hunk_count().saturating_sub(1))
        } else {
            self.selected.saturating_sub(1)
        };
        self.select_hunk(hunk);
        before != self.selected
    }

    /// Selects hunk `hunk` (clamped) and scrolls it into view.
    pub fn select_hunk(&mut self, hunk: usize) {
        self.selected = hunk.min(self.hunk_count().saturating_sub(1));
        let row = self.first_row_of(self.selected);
        if row < self.top || row >= self.top + self.page {
            self.top = row;
        }
    }

    /// Scrolls by pages, keeping the selection on a hunk in view.
    pub fn scroll(&mut self, pages: isize) {
        let last = self.shown().saturating_sub(1);
        let step = self.page.max(1) as isize * pages;
        self.top = self.top.saturating_add_signed(step).min(last);
        if let Some(hunk) = self.hunk_at(self.top) {
            self.selected = hunk;
        }
    }

    /// Finds the changed words of `hunk` once.
    fn words_of(&mut self, hunk: usize) {
        if self.words_done.get(hunk).copied().unwrap_or(true) {
            return;
        }
        self.words_done[hunk] = true;
        let start = self.first_row[hunk] + 1;
        for (k, ranges) in words::for_hunk(&self.patch.hunks[hunk].lines)
            .into_iter()
            .enumerate()
        {
            self.words[start + k] = ranges;
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
        let title = match &self.title {
            Some(title) => title.clone(),
            None => {
                let (added, removed) = self.patch.line_counts();
                let side = if self.staged { "staged" } else { "unstaged" };
                format!(" {} ({side}: +{added} -{removed}) ", self.patch.path())
            }
        };
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
        self.top = self.top.min(self.shown().saturating_sub(1));
        let end = (self.top + self.page).min(self.shown());
        // The rows of the unified layout this frame shows.
        let (lo, hi) = if self.side_by_side {
            let shown = &self.pairs[self.top..end];
            let all = shown.iter().flat_map(|p| [p.left, p.right]).flatten();
            let lo = all.clone().min().unwrap_or(0);
            (lo, all.max().map_or(lo, |m| m + 1))
        } else {
            (self.top, end)
        };
        let (first_hunk, last_hunk) = (
            self.rows.get(lo).map_or(0, |r| r.hunk),
            self.rows.get(hi.saturating_sub(1)).map_or(0, |r| r.hunk),
        );
        for hunk in first_hunk..=last_hunk {
            self.words_of(hunk);
        }
        let texts = &self.texts;
        let spans = highlighter.highlight(
            &mut self.cache,
            |i| texts.get(i).map(|t| std::borrow::Cow::Borrowed(t.as_str())),
            lo,
            hi,
        );
        let line_at = |row: usize, side: Side| -> Line<'static> {
            let pieces = spans.get(row - lo).map_or(&[][..], Vec::as_slice);
            self.row_line(row, pieces, side, theme)
        };
        if !self.side_by_side {
            let lines: Vec<Line> = (lo..hi).map(|i| line_at(i, Side::Both)).collect();
            Paragraph::new(lines).render(body, buf);
            return;
        }
        let half = body.width.saturating_sub(1) / 2;
        let left = Rect {
            width: half,
            ..body
        };
        let divider = Rect {
            x: body.x + half,
            width: 1.min(body.width),
            ..body
        };
        let right = Rect {
            x: body.x + half + 1,
            width: body.width.saturating_sub(half + 1),
            ..body
        };
        let mut lefts = Vec::with_capacity(end - self.top);
        let mut rights = Vec::with_capacity(end - self.top);
        for pair in &self.pairs[self.top..end] {
            let header = pair
                .left
                .is_some_and(|r| self.rows[r].kind == RowKind::Header);
            lefts.push(pair.left.map_or_else(
                || self.blank_line(pair.hunk, theme),
                |r| line_at(r, Side::Old),
            ));
            rights.push(match pair.right {
                Some(_) if header => self.blank_line(pair.hunk, theme),
                Some(r) => line_at(r, Side::New),
                None => self.blank_line(pair.hunk, theme),
            });
        }
        Paragraph::new(lefts).render(left, buf);
        Paragraph::new(vec![Line::from("│"); end - self.top])
            .style(theme.ui("border"))
            .render(divider, buf);
        Paragraph::new(rights).render(right, buf);
    }

    /// The selection mark of a row of `hunk`.
    fn mark(&self, hunk: usize, theme: &Theme) -> Span<'static> {
        let mark = if hunk == self.selected { "▌" } else { " " };
        Span::styled(mark, theme.ui("border_focused"))
    }

    /// The side-by-side filler where one side has no line.
    fn blank_line(&self, hunk: usize, theme: &Theme) -> Line<'static> {
        Line::from(vec![self.mark(hunk, theme)])
    }

    /// One row drawn: the mark, the line numbers of `side`, the sign and
    /// the highlighted text with its changed words.
    fn row_line(
        &self,
        row: usize,
        pieces: &[(SpanStyle, String)],
        side: Side,
        theme: &Theme,
    ) -> Line<'static> {
        let row = self.rows[row];
        let index = self.first_row.get(row.hunk).map_or(0, |f| f + 1 + row.line);
        let mark = self.mark(row.hunk, theme);
        let width = self.number_width;
        let number = |n: Option<u32>| {
            n.map(|n| format!("{n:>width$}"))
                .unwrap_or_else(|| " ".repeat(width))
        };
        let kind = match row.kind {
            RowKind::Header => {
                let header = &self.patch.hunks[row.hunk];
                let text = format!(
                    "@@ -{},{} +{},{} @@ {}",
                    header.old_start,
                    header.old_lines,
                    header.new_start,
                    header.new_lines,
                    header.header
                )
                .trim_end()
                .to_string();
                let mut spans = vec![mark, Span::styled(text, theme.ui("muted"))];
                if let Some(Some((note, key))) = self.notes.get(row.hunk) {
                    spans.push(Span::raw(" "));
                    spans.push(Span::styled(note.clone(), theme.ui(key)));
                }
                return Line::from(spans);
            }
            RowKind::Line(kind) => kind,
        };
        let (sign, tint, word_key, fallback): (&str, Style, &str, &str) = match kind {
            LineKind::Added => ("+", theme.ui("diff_added"), "diff_added_word", "diff_added"),
            LineKind::Removed => (
                "-",
                theme.ui("diff_removed"),
                "diff_removed_word",
                "diff_removed",
            ),
            LineKind::Context => (" ", Style::default(), "foreground", "foreground"),
        };
        let numbers = match side {
            Side::Both => format!("{} {} ", number(row.old_no), number(row.new_no)),
            Side::Old => format!("{} ", number(row.old_no)),
            Side::New => format!("{} ", number(row.new_no)),
        };
        let mut line = vec![
            mark,
            Span::styled(numbers, theme.ui("line_number")),
            Span::styled(sign, theme.ui("foreground").patch(tint)),
        ];
        let word = theme.ui_or(word_key, fallback).add_modifier(Modifier::BOLD);
        let changed = self.words.get(index).map_or(&[][..], Vec::as_slice);
        let mut at = 0;
        for (style, text) in pieces {
            let base = theme.ui("foreground").patch(theme.span_style(style));
            // The tint's background shows the change; the syntax keeps the
            // foreground.
            let base = match tint.bg {
                Some(bg) => base.bg(bg),
                None => base,
            };
            let text = text.trim_end_matches(['\n', '\r']);
            for (start, end, is_word) in cut(text.len(), at, changed) {
                let style = if is_word {
                    let style = base.add_modifier(word.add_modifier);
                    match word.bg {
                        Some(bg) => style.bg(bg),
                        None => style,
                    }
                } else {
                    base
                };
                if let Some(piece) = text.get(start..end) {
                    line.push(Span::styled(piece.replace('\t', "    "), style));
                }
            }
            at += text.len();
        }
        Line::from(line).style(match tint.bg {
            Some(bg) => Style::default().bg(bg),
            None => Style::default(),
        })
    }
}

/// A piece of `len` bytes starting at byte `at` of its line, cut where the
/// changed `ranges` of the line begin and end: (start, end, changed) in
/// the piece's own bytes.
fn cut(len: usize, at: usize, ranges: &[Range<usize>]) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let mut pos = 0;
    for range in ranges {
        let start = range.start.saturating_sub(at).min(len);
        let end = range.end.saturating_sub(at).min(len);
        if end <= pos {
            continue;
        }
        if start > pos {
            out.push((pos, start, false));
        }
        out.push((start.max(pos), end, true));
        pos = end;
    }
    if pos < len || out.is_empty() {
        out.push((pos, len, false));
    }
    out
}
