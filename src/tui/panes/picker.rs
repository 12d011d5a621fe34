//! A fuzzy picker over a list: the file finder and the command palette.
//! Matching and ranking are nucleo's, as in helix.

use crossterm::event::KeyEvent;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};
use ratatui_textarea::TextArea;

use super::{frame, inner};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;

pub(crate) struct Picker<T> {
    title: &'static str,
    items: Vec<(String, String, T)>,
    query: TextArea<'static>,
    matches: Vec<usize>,
    selected: usize,
    matcher: Matcher,
}

pub(crate) enum PickerOutcome<T> {
    Open,
    Cancelled,
    Picked(T),
}

impl<T: Clone> Picker<T> {
    /// `items` are (text matched, detail shown beside it, value).
    pub fn new(title: &'static str, items: Vec<(String, String, T)>) -> Picker<T> {
        let mut query = TextArea::default();
        query.set_cursor_line_style(ratatui::style::Style::default());
        let mut picker = Picker {
            title,
            matches: (0..items.len()).collect(),
            items,
            query,
            selected: 0,
            matcher: Matcher::new(Config::DEFAULT.match_paths()),
        };
        picker.refilter();
        picker
    }

    fn refilter(&mut self) {
        let query = self.query.lines().first().cloned().unwrap_or_default();
        if query.is_empty() {
            self.matches = (0..self.items.len()).collect();
        } else {
            let pattern = Pattern::parse(&query, CaseMatching::Smart, Normalization::Smart);
            let mut buf = Vec::new();
            let mut scored: Vec<(u32, usize)> = self
                .items
                .iter()
                .enumerate()
                .filter_map(|(i, (text, _, _))| {
                    let score = pattern.score(Utf32Str::new(text, &mut buf), &mut self.matcher)?;
                    Some((score, i))
                })
                .collect();
            scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            self.matches = scored.into_iter().map(|(_, i)| i).collect();
        }
        self.selected = 0;
    }

    /// `action` is what the `[picker]` keymap table binds the key to; a
    /// key bound to nothing edits the query.
    pub fn handle_key(&mut self, action: Option<Action>, key: KeyEvent) -> PickerOutcome<T> {
        match action {
            Some(Action::Back) => PickerOutcome::Cancelled,
            Some(Action::Open) => match self.matches.get(self.selected) {
                Some(&i) => PickerOutcome::Picked(self.items[i].2.clone()),
                None => PickerOutcome::Open,
            },
            Some(Action::Up) => {
                self.selected = self.selected.saturating_sub(1);
                PickerOutcome::Open
            }
            Some(Action::Down) => {
                self.selected = (self.selected + 1).min(self.matches.len().saturating_sub(1));
                PickerOutcome::Open
            }
            _ => {
                if self.query.input(key) {
                    self.refilter();
                }
                PickerOutcome::Open
            }
        }
    }

    /// Draws the picker centred in `area`; returns the cursor position.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) -> (u16, u16) {
        let width = area.width.saturating_sub(4).clamp(20.min(area.width), 80);
        let height = area.height.saturating_sub(2).clamp(3.min(area.height), 20);
        let popup = super::popup(area, width, height, 3);
        Clear.render(popup, buf);
        let title = format!(
            " {} ({}/{}) ",
            self.title,
            self.matches.len(),
            self.items.len()
        );
        frame(&title, true, theme).render(popup, buf);
        let body = inner(popup);
        if body.height == 0 {
            return (body.x, body.y);
        }
        let query_area = Rect { height: 1, ..body };
        Paragraph::new("> ")
            .style(theme.ui("title"))
            .render(query_area, buf);
        let field = Rect {
            x: query_area.x + 2,
            width: query_area.width.saturating_sub(2),
            ..query_area
        };
        self.query.render(field, buf);
        let list_height = usize::from(body.height.saturating_sub(1));
        let first = self.selected.saturating_sub(list_height.saturating_sub(1));
        let lines: Vec<Line> = self
            .matches
            .iter()
            .enumerate()
            .skip(first)
            .take(list_height)
            .map(|(row, &i)| {
                let (text, detail, _) = &self.items[i];
                let style = if row == self.selected {
                    theme.ui("selection")
                } else {
                    theme.ui("foreground")
                };
                Line::from(vec![
                    Span::styled(text.clone(), style),
                    Span::styled(format!("  {detail}"), theme.ui("muted")),
                ])
            })
            .collect();
        Paragraph::new(lines).render(
            Rect {
                y: body.y + 1,
                height: body.height - 1,
                ..body
            },
            buf,
        );
        let col = self.query.cursor().1;
        (
            field.x + (col as u16).min(field.width.saturating_sub(1)),
            field.y,
        )
    }
}
