//! The grep overlay: a query line over the matching lines of the
//! workspace's files (`path:line: text`, the match highlighted), shown as
//! the search finds them, with a count and whether it still runs.
//!
//! Each change of the query starts a new search and stops the one before:
//! every search has a generation and a cancel flag, and answers of any
//! generation but the current one are dropped. The search itself runs
//! where the app puts it (off the UI task); this view only asks for it.

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};
use ratatui_textarea::TextArea;
use regex::bytes::Regex;

use super::{frame, inner, moved, scroll_for};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;
use crate::workspace::grep::{self, Hit, Query, Summary};

/// Matching lines kept at most; the search stops there.
pub(crate) const MAX_HITS: usize = 10_000;

/// Generations of every grep view of this process: an answer for a view
/// closed before can never pass for one of a view opened later.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

/// A search the view asks the app to run.
pub(crate) struct SearchRequest {
    pub generation: u64,
    pub regex: Regex,
    pub cancel: Arc<AtomicBool>,
}

/// What a key did to the view.
pub(crate) enum GrepOutcome {
    Open,
    /// Still open; run this search (the one before is cancelled).
    Search(SearchRequest),
    Closed,
    /// Open this file at this line and column.
    Picked(Hit),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Nothing to look for yet.
    Idle,
    Running,
    Done(Summary),
    Failed(String),
}

pub(crate) struct GrepView {
    query: TextArea<'static>,
    regex: bool,
    hits: Vec<Hit>,
    /// The files of `hits`, for the count.
    files: HashSet<String>,
    selected: usize,
    /// The search whose answers are shown.
    generation: u64,
    cancel: Option<Arc<AtomicBool>>,
    state: State,
    /// The current pattern, for the highlight.
    pattern: Option<Regex>,
    /// Rows of the list at the last draw, for paging.
    page: Cell<u16>,
}

impl GrepView {
    /// A view with `pattern` typed in; the search for it, if any.
    pub fn new(pattern: &str) -> (GrepView, Option<SearchRequest>) {
        let mut query = TextArea::new(vec![pattern.to_string()]);
        query.set_cursor_line_style(Style::default());
        query.move_cursor(ratatui_textarea::CursorMove::End);
        let mut view = GrepView {
            query,
            regex: false,
            hits: Vec::new(),
            files: HashSet::new(),
            selected: 0,
            generation: 0,
            cancel: None,
            state: State::Idle,
            pattern: None,
            page: Cell::new(10),
        };
        let request = view.restart();
        (view, request)
    }

    fn text(&self) -> String {
        self.query.lines().first().cloned().unwrap_or_default()
    }

    /// Stops the search running, if any.
    pub fn cancel(&mut self) {
        if let Some(flag) = self.cancel.take() {
            flag.store(true, Ordering::Relaxed);
        }
        if self.state == State::Running {
            self.state = State::Idle;
        }
    }

    /// Drops what was found and asks for a search of the query as it is.
    fn restart(&mut self) -> Option<SearchRequest> {
        self.cancel();
        self.generation = GENERATIONS.fetch_add(1, Ordering::Relaxed);
        self.hits.clear();
        self.files.clear();
        self.selected = 0;
        self.pattern = None;
        let pattern = self.text();
        if pattern.is_empty() {
            self.state = State::Idle;
            return None;
        }
        let query = Query {
            pattern,
            regex: self.regex,
        };
        match grep::compile(&query) {
            Ok(regex) => {
                let cancel = Arc::new(AtomicBool::new(false));
                self.cancel = Some(cancel.clone());
                self.pattern = Some(regex.clone());
                self.state = State::Running;
                Some(SearchRequest {
                    generation: self.generation,
                    regex,
                    cancel,
                })
            }
            Err(e) => {
                self.state = State::Failed(e.to_string());
                None
            }
        }
    }

    /// `action` is what the `[picker]` table binds the key to; a key bound
    /// to nothing edits the query.
    pub fn handle_key(&mut self, action: Option<Action>, key: KeyEvent) -> GrepOutcome {
        match action {
            Some(Action::Back) => {
                self.cancel();
                GrepOutcome::Closed
            }
            Some(Action::Open) => match self.hits.get(self.selected) {
                Some(hit) => {
                    let hit = hit.clone();
                    self.cancel();
                    GrepOutcome::Picked(hit)
                }
                None => GrepOutcome::Open,
            },
            Some(Action::ToggleRegex) => {
                self.regex = !self.regex;
                self.searching()
            }
            Some(action) if action.is_movement() => {
                if let Some(at) = moved(self.selected, self.hits.len(), self.page.get(), action) {
                    self.selected = at;
                }
                GrepOutcome::Open
            }
            _ => {
                if self.query.input(key) {
                    self.searching()
                } else {
                    GrepOutcome::Open
                }
            }
        }
    }

    fn searching(&mut self) -> GrepOutcome {
        match self.restart() {
            Some(request) => GrepOutcome::Search(request),
            None => GrepOutcome::Open,
        }
    }

    /// Takes a batch of matches; false (and nothing changes) when it
    /// belongs to a search no longer shown.
    pub fn batch(&mut self, generation: u64, hits: Vec<Hit>) -> bool {
        if generation != self.generation || self.state != State::Running {
            return false;
        }
        for hit in &hits {
            if !self.files.contains(&hit.path) {
                self.files.insert(hit.path.clone());
            }
        }
        self.hits.extend(hits);
        true
    }

    /// The search of `generation` ended: how, or why it failed. The
    /// matches, found in any order on several threads, are put in path and
    /// line order; the selection stays on its match.
    pub fn done(&mut self, generation: u64, result: Result<Summary, String>) -> bool {
        if generation != self.generation || self.state != State::Running {
            return false;
        }
        let selected = self
            .hits
            .get(self.selected)
            .map(|h| (h.path.clone(), h.line));
        self.hits
            .sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
        if let Some((path, line)) = selected {
            self.selected = self
                .hits
                .iter()
                .position(|h| h.path == path && h.line == line)
                .unwrap_or(0);
        }
        self.cancel = None;
        self.state = match result {
            Ok(summary) => State::Done(summary),
            Err(e) => State::Failed(e),
        };
        true
    }

    /// Whether a search is under way.
    #[cfg(test)]
    pub fn running(&self) -> bool {
        self.state == State::Running
    }

    /// The matching lines found so far.
    #[cfg(test)]
    pub fn hits(&self) -> &[Hit] {
        &self.hits
    }

    /// The line under the counts: how many, whether it still runs, or why
    /// nothing is shown.
    fn counts(&self) -> (String, bool) {
        let files = self.files.len();
        let found = format!(
            "{} match{} in {} file{}",
            self.hits.len(),
            if self.hits.len() == 1 { "" } else { "es" },
            files,
            if files == 1 { "" } else { "s" }
        );
        let mode = if self.regex { "regex" } else { "literal" };
        match &self.state {
            State::Idle => (
                format!("type the text to find ({mode}; alt-r switches)"),
                false,
            ),
            State::Running => (format!("{found} · searching… ({mode})"), false),
            State::Done(summary) => {
                let mut line = format!("{found} · {} files searched", summary.files_searched);
                if summary.truncated {
                    line.push_str(&format!(" · stopped at {MAX_HITS}"));
                }
                if self.hits.is_empty() {
                    line = format!("no match in {} files ({mode})", summary.files_searched);
                }
                (line, false)
            }
            State::Failed(why) => (why.clone(), true),
        }
    }

    /// Draws the view over most of `area`; returns the cursor position.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) -> (u16, u16) {
        let width = area.width.saturating_sub(4).clamp(20.min(area.width), 120);
        let height = area.height.saturating_sub(2).clamp(4.min(area.height), 40);
        let popup = super::popup(area, width, height, 3);
        Clear.render(popup, buf);
        let title = if self.regex {
            " Grep (regex) "
        } else {
            " Grep "
        };
        frame(title, true, theme).render(popup, buf);
        let body = inner(popup);
        if body.height == 0 || body.width == 0 {
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
        let cursor = (
            field.x + (self.query.cursor().1 as u16).min(field.width.saturating_sub(1)),
            field.y,
        );
        if body.height < 2 {
            return cursor;
        }
        let (counts, is_error) = self.counts();
        let style = if is_error {
            theme.ui("error")
        } else {
            theme.ui("muted")
        };
        Paragraph::new(counts).style(style).render(
            Rect {
                y: body.y + 1,
                height: 1,
                ..body
            },
            buf,
        );
        let list = Rect {
            y: body.y + 2,
            height: body.height.saturating_sub(2),
            ..body
        };
        self.page.set(list.height.max(1));
        let first = scroll_for(self.selected, list.height);
        let lines: Vec<Line> = self
            .hits
            .iter()
            .enumerate()
            .skip(first)
            .take(usize::from(list.height))
            .map(|(i, hit)| self.row(hit, i == self.selected, theme))
            .collect();
        Paragraph::new(lines).render(list, buf);
        cursor
    }

    /// One match: `path:line:` then the line without its indent, the
    /// matched text highlighted.
    fn row(&self, hit: &Hit, selected: bool, theme: &Theme) -> Line<'static> {
        let base = if selected {
            theme.ui("selection")
        } else {
            theme.ui("foreground")
        };
        let place = if selected { base } else { theme.ui("muted") };
        let marked = base.patch(theme.ui("title"));
        let text: String = hit
            .text
            .trim_start()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut spans = vec![
            Span::styled(if selected { "▌" } else { " " }, base),
            Span::styled(format!("{}:{}: ", hit.path, hit.line), place),
        ];
        let mut at = 0;
        if let Some(re) = &self.pattern {
            for m in re.find_iter(text.as_bytes()) {
                // Byte offsets of a match on the same text are char
                // boundaries unless the pattern matched inside a char.
                let (Some(before), Some(matched)) =
                    (text.get(at..m.start()), text.get(m.start()..m.end()))
                else {
                    break;
                };
                if m.is_empty() {
                    continue;
                }
                spans.push(Span::styled(before.to_string(), base));
                spans.push(Span::styled(matched.to_string(), marked));
                at = m.end();
            }
        }
        spans.push(Span::styled(
            text.get(at..).unwrap_or_default().to_string(),
            base,
        ));
        Line::from(spans)
    }
}

impl Drop for GrepView {
    /// A closed view stops its search.
    fn drop(&mut self) {
        self.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn typed(view: &mut GrepView, text: &str) -> Vec<GrepOutcome> {
        text.chars()
            .map(|c| view.handle_key(None, KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
            .collect()
    }

    fn hit(path: &str, line: usize) -> Hit {
        Hit {
            path: path.into(),
            line,
            column: 1,
            text: "needle".into(),
        }
    }

    fn request(outcome: GrepOutcome) -> SearchRequest {
        match outcome {
            GrepOutcome::Search(r) => r,
            _ => panic!("no search asked for"),
        }
    }

    #[test]
    fn each_keystroke_cancels_the_search_before_and_drops_its_answers() {
        let (mut view, none) = GrepView::new("");
        assert!(none.is_none(), "an empty query searches nothing");
        let mut outcomes = typed(&mut view, "ne");
        let second = request(outcomes.pop().unwrap());
        let first = request(outcomes.pop().unwrap());
        assert!(
            first.cancel.load(Ordering::Relaxed),
            "the first was cancelled"
        );
        assert!(!second.cancel.load(Ordering::Relaxed));
        assert!(second.generation > first.generation);
        // The old search's answers are dropped, the new one's taken.
        assert!(!view.batch(first.generation, vec![hit("a.ts", 1)]));
        assert!(view.batch(second.generation, vec![hit("b.ts", 2)]));
        assert!(!view.done(first.generation, Ok(Summary::default())));
        assert!(view.running());
        assert!(view.done(second.generation, Ok(Summary::default())));
        assert!(!view.running());
        assert_eq!(view.hits(), [hit("b.ts", 2)]);
        // After it ended, a late batch of it changes nothing.
        assert!(!view.batch(second.generation, vec![hit("c.ts", 3)]));
    }

    #[test]
    fn esc_and_enter_stop_the_search_and_enter_picks_the_selected_match() {
        let (mut view, first) = GrepView::new("needle");
        let first = first.unwrap();
        assert!(view.batch(first.generation, vec![hit("a.ts", 1), hit("b.ts", 7)]));
        let _ = view.handle_key(Some(Action::Down), KeyEvent::from(KeyCode::Down));
        match view.handle_key(Some(Action::Open), KeyEvent::from(KeyCode::Enter)) {
            GrepOutcome::Picked(h) => assert_eq!(h, hit("b.ts", 7)),
            _ => panic!("enter did not pick"),
        }
        assert!(first.cancel.load(Ordering::Relaxed));

        let (mut view, second) = GrepView::new("needle");
        let second = second.unwrap();
        assert!(matches!(
            view.handle_key(Some(Action::Back), KeyEvent::from(KeyCode::Esc)),
            GrepOutcome::Closed
        ));
        assert!(second.cancel.load(Ordering::Relaxed));
        // A view dropped while searching stops its search too.
        let (view, third) = GrepView::new("needle");
        drop(view);
        assert!(third.unwrap().cancel.load(Ordering::Relaxed));
    }

    #[test]
    fn matches_found_on_threads_end_in_path_order_and_the_selection_follows() {
        let (mut view, request) = GrepView::new("needle");
        let generation = request.unwrap().generation;
        assert!(view.batch(generation, vec![hit("b.ts", 9), hit("b.ts", 12)]));
        assert!(view.batch(generation, vec![hit("a.ts", 3)]));
        let _ = view.handle_key(Some(Action::Down), KeyEvent::from(KeyCode::Down));
        assert_eq!(
            view.counts().0,
            "3 matches in 2 files · searching… (literal)"
        );
        assert!(view.done(generation, Ok(Summary::default())));
        assert_eq!(
            view.hits(),
            [hit("a.ts", 3), hit("b.ts", 9), hit("b.ts", 12)]
        );
        assert_eq!(view.hits()[view.selected], hit("b.ts", 12));
    }

    #[test]
    fn a_bad_regex_says_why_and_searches_nothing() {
        let (mut view, literal) = GrepView::new("a(");
        assert!(literal.is_some(), "literal by default: `a(` is fine");
        assert!(matches!(
            view.handle_key(
                Some(Action::ToggleRegex),
                KeyEvent::from(KeyCode::Char('r'))
            ),
            GrepOutcome::Open
        ));
        let (counts, is_error) = view.counts();
        assert!(
            is_error && counts.contains("not a valid regular expression"),
            "{counts}"
        );
        assert!(!view.running());
    }
}
