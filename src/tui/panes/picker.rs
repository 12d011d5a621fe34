//! A fuzzy picker over a list: the file finder and the command palette.
//! Matching and scoring are nucleo's, as in helix. Over paths, a match
//! inside the file name ranks above one spread over the folders (as helix
//! and fzf rank them: `tsks` finds `lib/tasks.ts` before
//! `app/api/tasks/route.ts`), and the matched characters are highlighted.

use std::cell::RefCell;

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
    /// Shared by scoring and by drawing the matched characters.
    matcher: RefCell<Matcher>,
    /// The items are paths: file-name matches rank first.
    paths: bool,
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
            matcher: RefCell::new(Matcher::new(Config::DEFAULT.match_paths())),
            paths: false,
        };
        picker.refilter();
        picker
    }

    /// A picker over workspace paths (the file finder).
    pub fn of_paths(title: &'static str, items: Vec<(String, String, T)>) -> Picker<T> {
        let mut picker = Picker::new(title, items);
        picker.paths = true;
        picker.refilter();
        picker
    }

    fn pattern(&self) -> Option<Pattern> {
        let query = self.query.lines().first().cloned().unwrap_or_default();
        (!query.is_empty())
            .then(|| Pattern::parse(&query, CaseMatching::Smart, Normalization::Smart))
    }

    fn refilter(&mut self) {
        match self.pattern() {
            None => self.matches = (0..self.items.len()).collect(),
            Some(pattern) => {
                let mut buf = Vec::new();
                let paths = self.paths;
                let matcher = self.matcher.get_mut();
                // (whether the whole query matches within the file name,
                // score, position): the name first, as helix and fzf rank.
                let mut scored: Vec<(bool, u32, usize)> = self
                    .items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, (text, _, _))| {
                        let score = pattern.score(Utf32Str::new(text, &mut buf), matcher)?;
                        let in_name = paths
                            && pattern
                                .score(Utf32Str::new(file_name(text), &mut buf), matcher)
                                .is_some();
                        Some((in_name, score, i))
                    })
                    .collect();
                scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
                self.matches = scored.into_iter().map(|(_, _, i)| i).collect();
            }
        }
        self.selected = 0;
    }

    /// The char positions of `text` the query matched, for highlighting;
    /// within the file name when the item ranked by it.
    fn matched(&self, text: &str) -> Vec<usize> {
        let Some(pattern) = self.pattern() else {
            return Vec::new();
        };
        let mut buf = Vec::new();
        let mut indices = Vec::new();
        let mut matcher = self.matcher.borrow_mut();
        if self.paths {
            let name = file_name(text);
            let offset = text[..text.len() - name.len()].chars().count();
            if pattern
                .indices(Utf32Str::new(name, &mut buf), &mut matcher, &mut indices)
                .is_some()
            {
                return indices.iter().map(|&i| i as usize + offset).collect();
            }
            indices.clear();
        }
        let _ = pattern.indices(Utf32Str::new(text, &mut buf), &mut matcher, &mut indices);
        indices.iter().map(|&i| i as usize).collect()
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
        let shown: Vec<(usize, usize)> = self
            .matches
            .iter()
            .copied()
            .enumerate()
            .skip(first)
            .take(list_height)
            .collect();
        let mut lines: Vec<Line> = Vec::with_capacity(shown.len());
        for (row, i) in shown {
            let text = self.items[i].0.clone();
            let style = if row == self.selected {
                theme.ui("selection")
            } else {
                theme.ui("foreground")
            };
            let hit = style.patch(theme.ui("title"));
            let matched = self.matched(&text);
            let mut spans: Vec<Span> = Vec::new();
            for (at, c) in text.chars().enumerate() {
                let style = if matched.contains(&at) { hit } else { style };
                match spans.last_mut() {
                    Some(last) if last.style == style => last.content.to_mut().push(c),
                    _ => spans.push(Span::styled(c.to_string(), style)),
                }
            }
            spans.push(Span::styled(
                format!("  {}", self.items[i].1),
                theme.ui("muted"),
            ));
            lines.push(Line::from(spans));
        }
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

/// The last part of a path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
