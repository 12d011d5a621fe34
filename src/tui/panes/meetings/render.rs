//! Drawing the dashboard: the days' meetings (or the stakeholders) on the
//! left, the selection's detail on the right, an open form under it.
//!
//! Statuses take the theme's `meeting_*` styles (done and healthy green,
//! needing attention yellow, failed or overdue red); without colour
//! (`NO_COLOR`) a marker before the word says the same: `!` needs
//! attention, `x` failed or overdue, `+` done, `>` under way. A module
//! answer's verdicts take the same looks: met as done, unclear as needing
//! attention, unmet as failed.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{MeetingsPane, View};
use crate::meetings::modules::answer::{self, Stored, Tone, Verdict};
use crate::meetings::status::MeetingStatus;
use crate::meetings::zone;
use crate::store::meetings::MeetingRow;
use crate::store::meetings::actions::{ActionRow, ActionStatus};
use crate::store::meetings::modules::AnswerRow;
use crate::tui::panes::{fit, frame, inner, scroll_for};
use crate::tui::theme::{ColorDepth, Theme};

/// The style and the no-colour marker of a status.
fn status_look(status: MeetingStatus, theme: &Theme) -> (Style, &'static str) {
    let (key, fallback, marker) = match status {
        MeetingStatus::Upcoming => ("meeting_upcoming", "foreground", " "),
        MeetingStatus::Lobby => ("meeting_lobby", "warning", "!"),
        MeetingStatus::Active => ("meeting_active", "title", ">"),
        MeetingStatus::Post => ("meeting_post", "warning", "!"),
        MeetingStatus::Done => ("meeting_done", "foreground", "+"),
        MeetingStatus::Failed => ("meeting_failed", "error", "x"),
    };
    (theme.ui_or(key, fallback), marker)
}

/// `word` with its marker when there is no colour to tell it.
fn marked(word: &str, marker: &str, theme: &Theme) -> String {
    if theme.depth() == ColorDepth::None {
        format!("{marker} {word}")
    } else {
        word.to_string()
    }
}

fn action_look(action: &ActionRow, overdue: bool, theme: &Theme) -> (Style, &'static str) {
    if overdue {
        return (theme.ui_or("meeting_overdue", "error"), "x");
    }
    match action.status {
        ActionStatus::Open => (theme.ui("foreground"), " "),
        ActionStatus::Doing => (theme.ui_or("meeting_lobby", "warning"), ">"),
        ActionStatus::Done => (theme.ui_or("meeting_done", "foreground"), "+"),
    }
}

impl MeetingsPane {
    /// "09:00–10:00", or "all day".
    pub(super) fn hours(&self, meeting: &MeetingRow) -> String {
        if meeting.all_day {
            return "all day".into();
        }
        let start = zone::local(meeting.start_at, self.zone);
        let end = zone::local(meeting.end_at, self.zone);
        format!("{}–{}", start.format("%H:%M"), end.format("%H:%M"))
    }

    /// "Today · Mon 7 Dec", "Tomorrow · …", or the date alone.
    fn day_label(&self, date: chrono::NaiveDate) -> String {
        let name = date.format("%a %-d %b").to_string();
        match (date - self.today()).num_days() {
            0 => format!("Today · {name}"),
            1 => format!("Tomorrow · {name}"),
            _ => name,
        }
    }

    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let left_width = (area.width * 2 / 5).max(38).min(area.width);
        let left = Rect {
            width: left_width,
            ..area
        };
        let right = Rect {
            x: area.x + left_width,
            width: area.width - left_width,
            ..area
        };
        let form_height = self.form.as_ref().map_or(0, |f| {
            if f.multiline() {
                8
            } else {
                f.fields.len() as u16 + 2
            }
        });
        let form_height = form_height.min(right.height.saturating_sub(3));
        let detail = Rect {
            height: right.height - form_height,
            ..right
        };
        let form_area = Rect {
            y: right.y + detail.height,
            height: form_height,
            ..right
        };
        let list_focused = focused && self.form.is_none();
        match self.view {
            View::Agenda => {
                self.render_agenda(left, buf, list_focused, theme);
                self.render_detail(detail, buf, theme);
            }
            View::Stakeholders => {
                self.render_people(left, buf, list_focused, theme);
                self.render_person(detail, buf, theme);
            }
            View::Watches => {
                self.render_watches(left, buf, list_focused, theme);
                self.render_change(detail, buf, theme);
            }
        }
        if form_height > 0 {
            return self.render_form(form_area, buf, focused, theme);
        }
        None
    }

    fn render_agenda(&mut self, area: Rect, buf: &mut Buffer, focused: bool, theme: &Theme) {
        let title = format!(" Next {} days · {} ", super::DAYS, self.zone.name());
        frame(&title, focused, theme).render(area, buf);
        let body = inner(area);
        self.page = body.height.max(1);
        let width = usize::from(body.width);
        if !self.loaded {
            Paragraph::new(Line::styled(" reading the meetings…", theme.ui("muted")))
                .render(body, buf);
            return;
        }
        if self.data.meetings.is_empty() {
            let lines = vec![
                Line::styled(" no meetings in the next 7 days", theme.ui("muted")),
                Line::styled(" kollega meetings import <file.ics>", theme.ui("muted")),
            ];
            Paragraph::new(lines).render(body, buf);
            return;
        }
        let mut rows: Vec<Line> = Vec::new();
        let mut selected_row = 0;
        let mut day = None;
        for (i, meeting) in self.data.meetings.iter().enumerate() {
            let date = zone::local(meeting.start_at.max(self.window().0), self.zone).date_naive();
            if day != Some(date) {
                day = Some(date);
                rows.push(Line::styled(
                    fit(&format!(" {}", self.day_label(date)), width, false),
                    theme.ui("title"),
                ));
            }
            let status = self
                .statuses
                .get(i)
                .copied()
                .unwrap_or_else(|| self.status_of(meeting));
            let (style, marker) = status_look(status, theme);
            let word = marked(status.as_str(), marker, theme);
            let hours = format!(" {:<11} ", self.hours(meeting));
            let status_width = if theme.depth() == ColorDepth::None {
                10
            } else {
                8
            }
            .min(width);
            let title_width = width.saturating_sub(hours.chars().count() + status_width + 1);
            let clean = crate::tui::ansi::strip(&meeting.title);
            let mut line = Line::from(vec![
                Span::styled(hours, theme.ui("muted")),
                Span::styled(fit(&clean, title_width, false), theme.ui("foreground")),
                Span::raw(" "),
                Span::styled(fit(&word, status_width, true), style),
            ]);
            if i == self.selected {
                selected_row = rows.len();
                line = line.patch_style(theme.ui("selection"));
            }
            rows.push(line);
        }
        let top = scroll_for(selected_row, body.height);
        Paragraph::new(rows.split_off(top.min(rows.len()))).render(body, buf);
    }

    fn render_detail(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let Some(meeting) = self.selected_meeting() else {
            frame(" Meeting ", false, theme).render(area, buf);
            return;
        };
        let title = format!(" {} ", crate::tui::ansi::strip(&meeting.title));
        frame(&title, false, theme).render(area, buf);
        let body = inner(area);
        let width = usize::from(body.width);
        let Some(detail) = self.detail() else {
            Paragraph::new(Line::styled(" reading…", theme.ui("muted"))).render(body, buf);
            return;
        };
        let muted = theme.ui("muted");
        let head = theme.ui("title");
        let text = theme.ui("foreground");
        let mut lines: Vec<Line> = Vec::new();
        let plain = |s: String, style: Style| Line::styled(fit(&s, width, false), style);
        let field = |label: &str, value: String, style: Style| {
            Line::from(vec![
                Span::styled(format!(" {label:<8}"), muted),
                Span::styled(fit(&value, width.saturating_sub(9), false), style),
            ])
        };
        let start = zone::local(meeting.start_at, self.zone);
        lines.push(field(
            "When",
            format!("{} {}", start.format("%a %-d %b %Y"), self.hours(meeting)),
            text,
        ));
        if let Some(place) = &meeting.location {
            lines.push(field("Where", crate::tui::ansi::strip(place), text));
        }
        if let Some(url) = &meeting.url {
            lines.push(field("Link", crate::tui::ansi::strip(url), text));
        }
        let status = self.status_of(meeting);
        let (style, marker) = status_look(status, theme);
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<8}", "Status"), muted),
            Span::styled(marked(status.as_str(), marker, theme), style),
            Span::styled("   consent ", muted),
            Span::styled(meeting.consent.as_str(), text.add_modifier(Modifier::BOLD)),
        ]));
        if let Some(error) = &meeting.processing_error {
            lines.push(field(
                "Failed",
                crate::tui::ansi::strip(error),
                theme.ui("error"),
            ));
        }
        if detail.attendees.is_empty() {
            lines.push(field("People", "none listed".into(), muted));
        }
        for (i, person) in detail.attendees.iter().enumerate() {
            let who = match &person.name {
                Some(name) => format!("{name} <{}>", person.email),
                None => person.email.clone(),
            };
            let role = if person.role == crate::store::meetings::Role::Organizer {
                " (organizer)"
            } else {
                ""
            };
            let label = if i == 0 { "People" } else { "" };
            lines.push(field(
                label,
                format!("{}{role}", crate::tui::ansi::strip(&who)),
                text,
            ));
        }
        lines.push(plain(" Pre-brief".into(), head));
        match &detail.pre_brief {
            Some(json) => {
                for line in brief_lines(json) {
                    lines.push(plain(format!("   {line}"), text));
                }
            }
            None => lines.push(plain("   none yet: b asks for one".into(), muted)),
        }
        if let Some(json) = &detail.post_brief {
            lines.push(plain(" Post-brief".into(), head));
            for line in brief_lines(json) {
                lines.push(plain(format!("   {line}"), text));
            }
        }
        lines.push(plain(format!(" Notes ({})", detail.notes.len()), head));
        if detail.notes.is_empty() {
            lines.push(plain("   none yet: n writes one".into(), muted));
        }
        for note in &detail.notes {
            for (i, line) in note.text.lines().enumerate() {
                let bullet = if i == 0 { "•" } else { " " };
                let line = crate::tui::ansi::strip(line);
                lines.push(plain(format!("   {bullet} {line}"), text));
            }
        }
        if !detail.transcripts.is_empty() {
            lines.push(plain(
                format!(" Transcripts ({})", detail.transcripts.len()),
                head,
            ));
            for t in &detail.transcripts {
                let size = crate::meetings::transcript::size(
                    t.cues.and_then(|n| usize::try_from(n).ok()),
                    usize::try_from(t.lines).unwrap_or(0),
                );
                lines.push(plain(
                    format!(
                        "   {} ({}, {size}, {} characters)",
                        crate::tui::ansi::strip(&t.source_name),
                        t.format,
                        t.chars
                    ),
                    text,
                ));
            }
        }
        lines.push(plain(
            format!(" Decisions ({})", detail.decisions.len()),
            head,
        ));
        if detail.decisions.is_empty() {
            lines.push(plain("   none yet: d records one".into(), muted));
        }
        for decision in &detail.decisions {
            lines.push(plain(
                format!("   • {}", crate::tui::ansi::strip(&decision.text)),
                text,
            ));
        }
        lines.push(plain(
            format!(" Action items ({})", detail.actions.len()),
            head,
        ));
        if detail.actions.is_empty() {
            lines.push(plain("   none yet: a adds one".into(), muted));
        }
        // The selection's first and last line: the view scrolls to show
        // its end, and never past its start.
        let mut selected_lines = (0, 0);
        for (i, action) in detail.actions.iter().enumerate() {
            let overdue = self.overdue(action);
            let mut line = action_line(action, overdue, i == self.item, width, theme);
            if i == self.item {
                selected_lines = (lines.len(), lines.len());
                line = line.patch_style(theme.ui("selection"));
            }
            lines.push(line);
        }
        lines.push(plain(
            format!(" Module answers ({})", detail.module_answers.len()),
            head,
        ));
        if detail.module_answers.is_empty() {
            lines.push(plain(
                "   none yet: `kollega meetings module`".into(),
                muted,
            ));
        }
        for (k, row) in detail.module_answers.iter().enumerate() {
            let selected = self.item == detail.actions.len() + k;
            let first = lines.len();
            lines.extend(self.answer_lines(row, selected, width, theme));
            if selected {
                selected_lines = (first, lines.len().saturating_sub(1));
            }
        }
        let top = scroll_for(selected_lines.1, body.height).min(selected_lines.0);
        Paragraph::new(lines.split_off(top.min(lines.len()))).render(body, buf);
    }

    /// A module answer in the detail: a heading (module, prompt version,
    /// when), then the answer, verdicts in their status colours.
    fn answer_lines(
        &self,
        row: &AnswerRow,
        selected: bool,
        width: usize,
        theme: &Theme,
    ) -> Vec<Line<'static>> {
        let when = zone::local(row.created_at, self.zone).format("%a %-d %b %H:%M");
        let pointer = if selected { "›" } else { " " };
        let heading = format!(
            " {pointer} {} · {} · {when}",
            row.module, row.prompt_version
        );
        let mut heading = Line::styled(fit(&heading, width, false), theme.ui("title"));
        if selected {
            heading = heading.patch_style(theme.ui("selection"));
        }
        let mut out = vec![heading];
        let stored = Stored::of(&row.module, &row.prompt_version, &row.answer);
        for pieces in answer::lines(&stored) {
            let styled = pieces
                .into_iter()
                .map(|(tone, text)| {
                    let text = crate::tui::ansi::strip(&text);
                    match tone {
                        Tone::Text => (theme.ui("foreground"), text),
                        Tone::Muted => (theme.ui("muted"), text),
                        Tone::Warning => (theme.ui("warning"), text),
                        Tone::Verdict(verdict) => {
                            let status = match verdict {
                                Verdict::Met => MeetingStatus::Done,
                                Verdict::Unclear => MeetingStatus::Lobby,
                                Verdict::Unmet => MeetingStatus::Failed,
                            };
                            let (style, marker) = status_look(status, theme);
                            (style, marked(&text, marker, theme))
                        }
                    }
                })
                .collect();
            out.extend(wrapped(styled, ANSWER_INDENT, width));
        }
        out
    }

    fn render_people(&mut self, area: Rect, buf: &mut Buffer, focused: bool, theme: &Theme) {
        let plural =
            |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let rows = self
            .data
            .stakeholders
            .iter()
            .map(|person| {
                let who = person.name.as_deref().unwrap_or(&person.email);
                let counts = format!(
                    "   {} · {} · {}",
                    plural(person.open_actions, "open action", "open actions"),
                    plural(person.meetings, "meeting", "meetings"),
                    plural(person.decisions, "decision", "decisions"),
                );
                (
                    format!(" {}", crate::tui::ansi::strip(who)),
                    counts,
                    theme.ui("muted"),
                )
            })
            .collect();
        let list = List {
            title: " Stakeholders ",
            empty: " nobody yet: attendees and organizers of imported meetings",
            selected: self.person,
        };
        self.render_list(&list, rows, area, buf, focused, theme);
    }

    /// A list of two-line rows (a name, then a detail line in its own
    /// style), the selected one marked and kept in view.
    fn render_list(
        &mut self,
        list: &List,
        rows: Vec<(String, String, Style)>,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        theme: &Theme,
    ) {
        frame(list.title, focused, theme).render(area, buf);
        let body = inner(area);
        self.page = body.height.max(1);
        let width = usize::from(body.width);
        if rows.is_empty() {
            let text = if self.loaded {
                list.empty
            } else {
                " reading…"
            };
            Paragraph::new(Line::styled(fit(text, width, false), theme.ui("muted")))
                .render(body, buf);
            return;
        }
        let mut lines = Vec::with_capacity(rows.len() * 2);
        for (i, (name, detail, style)) in rows.into_iter().enumerate() {
            let mut name = Line::styled(fit(&name, width, false), theme.ui("foreground"));
            let mut detail = Line::styled(fit(&detail, width, false), style);
            if i == list.selected {
                name = name.patch_style(theme.ui("selection"));
                detail = detail.patch_style(theme.ui("selection"));
            }
            lines.push(name);
            lines.push(detail);
        }
        let top = scroll_for(list.selected * 2 + 1, body.height);
        Paragraph::new(lines.split_off(top.min(lines.len()))).render(body, buf);
    }

    fn render_person(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let Some(person) = self.data.stakeholders.get(self.person) else {
            frame(" Stakeholder ", false, theme).render(area, buf);
            return;
        };
        let title = format!(" {} ", crate::tui::ansi::strip(&person.email));
        frame(&title, false, theme).render(area, buf);
        let body = inner(area);
        let width = usize::from(body.width);
        let Some(detail) = &self.data.stakeholder else {
            Paragraph::new(Line::styled(" reading…", theme.ui("muted"))).render(body, buf);
            return;
        };
        let head = theme.ui("title");
        let muted = theme.ui("muted");
        let text = theme.ui("foreground");
        let plain = |s: String, style: Style| Line::styled(fit(&s, width, false), style);
        let mut lines = vec![plain(
            format!(" Open action items ({})", detail.open_actions.len()),
            head,
        )];
        if detail.open_actions.is_empty() {
            lines.push(plain("   none".into(), muted));
        }
        for action in &detail.open_actions {
            let overdue = self.overdue(action);
            lines.push(action_line(action, overdue, false, width, theme));
            lines.push(plain(
                format!(
                    "       from {}",
                    crate::tui::ansi::strip(&action.meeting_title)
                ),
                muted,
            ));
        }
        lines.push(plain(
            format!(" Decisions ({})", detail.decisions.len()),
            head,
        ));
        if detail.decisions.is_empty() {
            lines.push(plain("   none".into(), muted));
        }
        for decision in &detail.decisions {
            lines.push(plain(
                format!(
                    "   • {} ({})",
                    crate::tui::ansi::strip(&decision.text),
                    crate::tui::ansi::strip(&decision.meeting_title)
                ),
                text,
            ));
        }
        lines.push(plain(
            format!(" Meetings ({})", detail.meetings.len()),
            head,
        ));
        for meeting in &detail.meetings {
            let start = zone::local(meeting.start_at, self.zone);
            lines.push(plain(
                format!(
                    "   {} {}  {}",
                    start.format("%a %-d %b"),
                    self.hours(meeting),
                    crate::tui::ansi::strip(&meeting.title)
                ),
                text,
            ));
        }
        Paragraph::new(lines).render(body, buf);
    }

    fn render_watches(&mut self, area: Rect, buf: &mut Buffer, focused: bool, theme: &Theme) {
        let rows = self
            .data
            .watches
            .iter()
            .map(|watch| {
                let fetched = watch
                    .last_fetched_at
                    .map_or("not read yet".to_string(), |at| {
                        format!("read {}", zone::local(at, self.zone).format("%-d %b %H:%M"))
                    });
                let versions = if watch.versions == 1 {
                    "version"
                } else {
                    "versions"
                };
                // Whether each change gets an AI summary, as text (read
                // without colours too).
                let ai = if watch.summarize { "Σ ai · " } else { "" };
                // A failure first: the line may be cut at the list's width.
                let (state, style) = match &watch.last_error {
                    Some(_) => (
                        format!("   failed · {ai}{} {versions} · {fetched}", watch.versions),
                        theme.ui("error"),
                    ),
                    None => (
                        format!("   {ai}{} {versions} · {fetched}", watch.versions),
                        theme.ui("muted"),
                    ),
                };
                (
                    format!(" {}", crate::tui::ansi::strip(&watch.url)),
                    state,
                    style,
                )
            })
            .collect();
        let list = List {
            title: " Watched pages ",
            empty: " none yet: kollega watch add URL",
            selected: self.watch,
        };
        self.render_list(&list, rows, area, buf, focused, theme);
    }

    fn render_change(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let title = match self.data.change.as_ref().and_then(|c| c.at) {
            Some(at) => format!(
                " Latest change · {} ",
                zone::local(at, self.zone).format("%a %-d %b %H:%M")
            ),
            None => " Latest change ".to_string(),
        };
        frame(&title, false, theme).render(area, buf);
        let body = inner(area);
        let width = usize::from(body.width);
        let Some(change) = &self.data.change else {
            let text = if self.loaded && self.data.watches.is_empty() {
                " nothing watched"
            } else {
                " reading…"
            };
            Paragraph::new(Line::styled(text, theme.ui("muted"))).render(body, buf);
            return;
        };
        // The summary first, wrapped at words under its heading; then the
        // diff, each line cut to fit.
        let mut lines: Vec<Line> = Vec::new();
        if let Some(summary) = &change.summary {
            lines.push(Line::styled(" Summary (AI)", theme.ui("title")));
            for line in summary.lines() {
                let text = crate::tui::ansi::strip(line);
                for row in wrap_words(&text, width.saturating_sub(3).max(1)) {
                    lines.push(Line::styled(format!("   {row}"), theme.ui("foreground")));
                }
            }
            lines.push(Line::raw(""));
        }
        lines.extend(change.text.lines().map(|line| {
            let style = match line.as_bytes().first() {
                _ if line.starts_with("+++") || line.starts_with("---") => theme.ui("muted"),
                Some(b'+') => theme.ui("diff_added"),
                Some(b'-') => theme.ui("diff_removed"),
                Some(b'@') => theme.ui("title"),
                _ => theme.ui("foreground"),
            };
            Line::styled(
                fit(&format!(" {}", crate::tui::ansi::strip(line)), width, false),
                style,
            )
        }));
        Paragraph::new(lines).render(body, buf);
    }

    fn render_form(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let form = self.form.as_mut()?;
        let hint = if form.multiline() {
            "ctrl-s stores, esc drops"
        } else {
            "enter: next / store, esc drops"
        };
        let title = format!(" {} ({hint}) ", form.title());
        frame(&title, focused, theme).render(area, buf);
        let body = inner(area);
        let mut cursor = None;
        if form.multiline() {
            let field = &mut form.fields[0];
            field.input.render(body, buf);
            let at = field.input.cursor();
            let (row, col) = (at.0, at.1);
            cursor = Some((
                body.x + (col as u16).min(body.width.saturating_sub(1)),
                body.y + (row as u16).min(body.height.saturating_sub(1)),
            ));
            return focused.then_some(cursor?);
        }
        let label_width = 9u16.min(body.width);
        for (i, field) in form.fields.iter_mut().enumerate() {
            let y = body.y + i as u16;
            if y >= body.y + body.height {
                break;
            }
            let style = if i == form.at {
                theme.ui("title")
            } else {
                theme.ui("muted")
            };
            Paragraph::new(Span::styled(format!(" {:<7}", field.label), style)).render(
                Rect {
                    x: body.x,
                    y,
                    width: label_width,
                    height: 1,
                },
                buf,
            );
            let input = Rect {
                x: body.x + label_width,
                y,
                width: body.width - label_width,
                height: 1,
            };
            field.input.render(input, buf);
            if i == form.at {
                let col = field.input.cursor().1;
                cursor = Some((input.x + (col as u16).min(input.width.saturating_sub(1)), y));
            }
        }
        if focused { cursor } else { None }
    }
}

/// What a two-line list shows around its rows.
struct List {
    title: &'static str,
    /// Said when there are no rows once loaded.
    empty: &'static str,
    selected: usize,
}

/// One action item's line: marker, status, text, owner, due date.
fn action_line(
    action: &ActionRow,
    overdue: bool,
    selected: bool,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let (style, marker) = action_look(action, overdue, theme);
    let pointer = if selected { "›" } else { " " };
    let status = marked(action.status.as_str(), marker, theme);
    let mut tail = String::new();
    if let Some(due) = &action.due {
        let what = if overdue { "overdue since" } else { "due" };
        tail.push_str(&format!(" · {what} {due}"));
    }
    if let Some(owner) = &action.owner {
        tail.push_str(&format!(" — {}", crate::tui::ansi::strip(owner)));
    }
    let head = format!(" {pointer} [{status}] ");
    let text = crate::tui::ansi::strip(&action.text);
    // The text comes first; owner and due date take what is left, at
    // least a third of the line.
    let room = width.saturating_sub(head.chars().count());
    let tail_width = tail
        .chars()
        .count()
        .min(room.saturating_sub(text.chars().count()).max(room / 3));
    let text_width = text.chars().count().min(room.saturating_sub(tail_width));
    let tail_width = room.saturating_sub(text_width);
    Line::from(vec![
        Span::styled(head, style),
        Span::styled(fit(&text, text_width, false), theme.ui("foreground")),
        Span::styled(
            fit(&tail, tail_width, false),
            if overdue { style } else { theme.ui("muted") },
        ),
    ])
}

/// How far a module answer's lines are indented.
const ANSWER_INDENT: usize = 5;

/// Styled pieces laid out in lines of `width` columns after `indent`
/// spaces, broken at spaces where a piece can be (else anywhere).
fn wrapped(pieces: Vec<(Style, String)>, indent: usize, width: usize) -> Vec<Line<'static>> {
    use unicode_width::UnicodeWidthChar;
    let room = width.saturating_sub(indent).max(1);
    let pad = " ".repeat(indent);
    let mut lines = Vec::new();
    let mut spans = vec![Span::raw(pad.clone())];
    let mut used = 0;
    for (style, text) in pieces {
        let mut rest = text.as_str();
        while !rest.is_empty() {
            // The longest head of `rest` that fits what is left of the row.
            let mut fits = 0;
            let mut cols = 0;
            for (at, c) in rest.char_indices() {
                let w = c.width().unwrap_or(0);
                if used + cols + w > room {
                    break;
                }
                cols += w;
                fits = at + c.len_utf8();
            }
            let take = if fits == rest.len() {
                fits
            } else {
                match rest[..fits].rfind(' ') {
                    Some(space) if space > 0 => space + 1,
                    _ if used > 0 && fits < rest.len() => 0,
                    _ => fits.max(rest.chars().next().map_or(0, char::len_utf8)),
                }
            };
            if take > 0 {
                spans.push(Span::styled(rest[..take].to_string(), style));
                used += unicode_width::UnicodeWidthStr::width(&rest[..take]);
                rest = &rest[take..];
            }
            if !rest.is_empty() {
                lines.push(Line::from(std::mem::replace(
                    &mut spans,
                    vec![Span::raw(pad.clone())],
                )));
                used = 0;
                rest = rest.trim_start_matches(' ');
            }
        }
    }
    lines.push(Line::from(spans));
    lines
}

/// A stored brief's JSON as short lines: each field, text as it is, lists
/// joined.
fn brief_lines(json: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(json)
    else {
        return json.lines().map(crate::tui::ansi::strip).collect();
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => crate::tui::ansi::strip(s),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| match i {
                serde_json::Value::String(s) => crate::tui::ansi::strip(s),
                // An action or a legal flag: its text, then what it has of
                // kind, owner and due date.
                serde_json::Value::Object(item) if item.contains_key("text") => {
                    let part = |key: &str| item.get(key).and_then(|v| v.as_str());
                    let mut line = crate::tui::ansi::strip(part("text").unwrap_or_default());
                    let extra: Vec<String> = [("kind", ""), ("owner", "owner "), ("due", "due ")]
                        .iter()
                        .filter_map(|(key, label)| {
                            part(key).map(|v| format!("{label}{}", crate::tui::ansi::strip(v)))
                        })
                        .collect();
                    if !extra.is_empty() {
                        line.push_str(&format!(" ({})", extra.join(", ")));
                    }
                    line
                }
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    };
    // A post-brief's summary first, then the rest in order.
    let summary = fields.iter().filter(|(key, _)| *key == "summary");
    let rest = fields.iter().filter(|(key, _)| *key != "summary");
    summary
        .chain(rest)
        .map(|(key, value)| format!("{key}: {}", text(value)))
        .collect()
}

/// `text` broken at spaces into rows at most `width` columns wide; a word
/// wider than a row is cut.
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let mut rows = Vec::new();
    let mut row = String::new();
    for word in text.split_whitespace() {
        let wide = row.width() + usize::from(!row.is_empty()) + word.width();
        if !row.is_empty() && wide > width {
            rows.push(std::mem::take(&mut row));
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.push_str(word);
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(row);
    }
    rows.into_iter().map(|r| fit(&r, width, false)).collect()
}
