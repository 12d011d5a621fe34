//! The jobs view: the list of jobs (newest first) with status, progress,
//! attempts, duration, kind, workspace and command, filtered by status and
//! kind; under it (beside it on wide terminals) the selected job's log.
//!
//! The pane only holds what the store's polls handed it; the app decides
//! when to poll and what the keys that change jobs (retry, cancel) do.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

use super::job_log::JobLog;
use super::prompt::{ConfirmKind, PromptKind};
use super::{fit, frame, inner, moved, popup, scroll_for};
use crate::jobs::kinds::shell_words;
use crate::jobs::queue::Job;
use crate::jobs::{Status, format_duration, format_ms};
use crate::tui::ansi::strip;
use crate::tui::app::{Effect, Focus, Outcome, Overlay};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;

/// Jobs kept in the list; older ones fall off.
pub(crate) const MAX_JOBS: usize = 1000;

pub(crate) struct JobsPane {
    /// Every job the polls brought, newest first.
    jobs: Vec<Job>,
    /// Positions in `jobs` of the rows the filters let through.
    rows: Vec<usize>,
    selected: usize,
    selected_id: Option<i64>,
    pub status_filter: Option<Status>,
    pub kind_filter: Option<String>,
    pub log: JobLog,
    /// The newest `updated_at` seen: the next poll asks for changes since.
    newest: Option<i64>,
    list_page: u16,
    /// The key that follows the log again ("G"), for the log's title.
    pub follow_key: Option<String>,
}

/// The colour key of a status in the theme, and its fallback.
fn status_style(status: Status, theme: &Theme) -> Style {
    let (key, fallback) = match status {
        Status::Queued => ("job_queued", "muted"),
        Status::Running => ("job_running", "title"),
        Status::Succeeded => ("job_succeeded", "diff_added"),
        Status::Failed => ("job_failed", "error"),
        Status::Retrying => ("job_retrying", "warning"),
        Status::Dead => ("job_dead", "error"),
        Status::Cancelled => ("job_cancelled", "muted"),
        Status::Interrupted => ("job_interrupted", "warning"),
    };
    let style = theme.ui_or(key, fallback);
    // Only the colour: a status cell never takes the diff's background.
    Style {
        bg: if key == "job_dead" { style.bg } else { None },
        ..style
    }
}

/// The command line of a job as a person would type it.
pub(crate) fn command_line(job: &Job) -> String {
    match job.payload.get("argv").and_then(Value::as_array) {
        Some(argv) => {
            let words: Vec<String> = argv
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect();
            shell_words(&words)
        }
        None => job.title(),
    }
}

/// A workspace as the list shows it: a folder by its last part.
fn workspace_label(job: &Job) -> String {
    match job.workspace.as_deref() {
        None => "-".into(),
        Some(ws) if ws.starts_with('/') => std::path::Path::new(ws)
            .file_name()
            .map_or_else(|| ws.to_string(), |n| n.to_string_lossy().into_owned()),
        Some(ws) => ws.to_string(),
    }
}

/// The KIND column is as wide as the longest kind shown, within these.
const KIND_MIN: usize = 8;
const KIND_MAX: usize = 24;

/// Which columns fit, and how wide they are.
struct Columns {
    id: usize,
    bar: usize,
    /// The KIND column's width (the longest kind shown), 0 when it does
    /// not fit.
    kind: usize,
    workspace: usize,
}

impl Columns {
    fn for_width(width: u16, jobs: &[&Job]) -> Columns {
        let width = usize::from(width);
        let id = jobs
            .iter()
            .map(|j| j.id.to_string().len())
            .max()
            .unwrap_or(2)
            .max(2);
        let progress = jobs
            .iter()
            .any(|j| j.status == Status::Running && j.progress > 0);
        Columns {
            id,
            bar: match (progress, width >= 90) {
                (false, _) => 0,
                (true, true) => 10,
                (true, false) => 8,
            },
            kind: if width >= 70 {
                jobs.iter()
                    .map(|j| strip(j.kind.as_str()).width())
                    .max()
                    .unwrap_or(0)
                    .clamp(KIND_MIN, KIND_MAX)
            } else {
                0
            },
            workspace: if width >= 90 { 12 } else { 0 },
        }
    }
}

impl JobsPane {
    pub fn new() -> JobsPane {
        JobsPane {
            jobs: Vec::new(),
            rows: Vec::new(),
            selected: 0,
            selected_id: None,
            status_filter: None,
            kind_filter: None,
            log: JobLog::new(),
            newest: None,
            follow_key: None,
            list_page: 5,
        }
    }

    /// The `updated_after` of the next poll; `None` before the first.
    pub fn since(&self) -> Option<i64> {
        self.newest
    }

    /// Takes jobs that changed; returns whether anything did.
    pub fn merge(&mut self, changed: Vec<Job>) -> bool {
        let mut any = false;
        for job in changed {
            self.newest = Some(
                self.newest
                    .map_or(job.updated_at, |n| n.max(job.updated_at)),
            );
            match self.jobs.iter_mut().find(|j| j.id == job.id) {
                Some(old) if *old == job => {}
                Some(old) => {
                    *old = job;
                    any = true;
                }
                None => {
                    self.jobs.push(job);
                    any = true;
                }
            }
        }
        if any {
            self.jobs.sort_by_key(|j| std::cmp::Reverse(j.id));
            self.jobs.truncate(MAX_JOBS);
            self.refilter();
        }
        any
    }

    fn refilter(&mut self) {
        self.rows = self
            .jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| self.status_filter.is_none_or(|s| j.status == s))
            .filter(|(_, j)| {
                self.kind_filter
                    .as_ref()
                    .is_none_or(|k| j.kind.as_str() == k)
            })
            .map(|(i, _)| i)
            .collect();
        let keep = self
            .selected_id
            .and_then(|id| self.rows.iter().position(|&i| self.jobs[i].id == id));
        self.selected = keep.unwrap_or(self.selected.min(self.rows.len().saturating_sub(1)));
        self.selected_id = self.rows.get(self.selected).map(|&i| self.jobs[i].id);
    }

    pub fn job(&self, id: i64) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    pub fn selected_job(&self) -> Option<&Job> {
        self.selected_id.and_then(|id| self.job(id))
    }

    /// Selects job `id`, clearing the filters that would hide it.
    pub fn select_id(&mut self, id: i64) {
        if let Some((status, kind)) = self.job(id).map(|j| (j.status, j.kind.to_string())) {
            if self.status_filter.is_some_and(|s| s != status) {
                self.status_filter = None;
            }
            if self.kind_filter.as_ref().is_some_and(|k| *k != kind) {
                self.kind_filter = None;
            }
        }
        self.selected_id = Some(id);
        self.refilter();
    }

    /// Points the log at the selected job; true when that started it over
    /// (and it needs its lines).
    pub fn sync_log(&mut self) -> bool {
        if self.log.job == self.selected_id {
            return false;
        }
        self.log.reset(self.selected_id);
        true
    }

    /// Cycles the status filter: all, then each status in turn.
    pub fn cycle_status(&mut self) {
        self.status_filter = match self.status_filter {
            None => Some(Status::ALL[0]),
            Some(s) => Status::ALL
                .iter()
                .position(|x| *x == s)
                .and_then(|i| Status::ALL.get(i + 1).copied()),
        };
        self.refilter();
    }

    /// Cycles the kind filter over the kinds in the list.
    pub fn cycle_kind(&mut self) {
        let mut kinds: Vec<&str> = self.jobs.iter().map(|j| j.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        self.kind_filter = match &self.kind_filter {
            None => kinds.first().map(|k| k.to_string()),
            Some(k) => kinds
                .iter()
                .position(|x| x == k)
                .and_then(|i| kinds.get(i + 1))
                .map(|k| k.to_string()),
        };
        self.refilter();
    }

    /// The keys of the list (`in_log` false) and of the selected job's log.
    pub fn update(&mut self, action: Action, in_log: bool) -> Outcome {
        match action {
            Action::FocusNext | Action::FocusPrev => Outcome::Effect(Effect::Focus(if in_log {
                Focus::Jobs
            } else {
                Focus::JobLog
            })),
            Action::Back if in_log => Outcome::Effect(Effect::Focus(Focus::Jobs)),
            Action::Back => Outcome::Effect(Effect::LeaveJobs),
            action if action.is_movement() => {
                let moved = if in_log {
                    self.update_log(action)
                } else {
                    self.update_list(action)
                };
                if moved {
                    Outcome::Redraw
                } else {
                    Outcome::Ignored
                }
            }
            Action::FilterStatus => {
                self.cycle_status();
                Outcome::Redraw
            }
            Action::FilterKind => {
                self.cycle_kind();
                Outcome::Redraw
            }
            Action::JobDetails => match self.selected_job() {
                Some(job) => {
                    Outcome::Effect(Effect::Overlay(Box::new(Overlay::JobDetails(job.id))))
                }
                None => Outcome::Redraw,
            },
            Action::Find => Outcome::prompt(PromptKind::LogSearch, ""),
            Action::FindNext | Action::FindPrev => {
                let note = match &self.log.search {
                    None => Some("no search yet: / searches the log".to_string()),
                    Some(re) => {
                        let pattern = re.as_str().to_string();
                        (!self.log.find(action == Action::FindNext))
                            .then(|| format!("no match for {pattern} in the lines kept here"))
                    }
                };
                match note {
                    Some(note) => Outcome::Effect(Effect::Notify(note, false)),
                    None => Outcome::Redraw,
                }
            }
            Action::RetryJob => match self.selected_job() {
                Some(job) => Outcome::Effect(Effect::RetryJob(job.id)),
                None => Outcome::Redraw,
            },
            Action::FixWithAi => match self.selected_job() {
                Some(job) => Outcome::Effect(Effect::FixJob(job.id)),
                None => Outcome::Redraw,
            },
            Action::CancelJob => match self.selected_job() {
                Some(job) if job.status.is_final() => Outcome::Effect(Effect::Notify(
                    format!("job {} has ended ({})", job.id, job.status),
                    false,
                )),
                Some(job) => Outcome::Effect(Effect::Confirm(ConfirmKind::CancelJob {
                    id: job.id,
                    title: job.title(),
                })),
                None => Outcome::Redraw,
            },
            Action::CopyCommand => match self.selected_job() {
                Some(job) => {
                    let line = command_line(job);
                    Outcome::Effects(vec![
                        Effect::Notify(format!("copied: {}", strip(&line)), false),
                        Effect::Copy(line),
                    ])
                }
                None => Outcome::Redraw,
            },
            Action::CopyLog => {
                let text = self.log.visible_text();
                let lines = text.lines().count();
                Outcome::Effects(vec![
                    Effect::Copy(text),
                    Effect::Notify(format!("copied {lines} log lines"), false),
                ])
            }
            _ => Outcome::Ignored,
        }
    }

    /// Searches the log for `pattern`; the note when nothing matches.
    pub fn search_log(&mut self, pattern: &str) -> Option<(String, bool)> {
        match regex::Regex::new(pattern) {
            Ok(re) => (!self.log.set_search(re)).then(|| {
                (
                    format!("no match for {pattern} in the lines kept here"),
                    false,
                )
            }),
            Err(e) => Some((format!("bad search pattern: {e}"), true)),
        }
    }

    /// A movement in the list; true when the selection moved.
    pub fn update_list(&mut self, action: Action) -> bool {
        let Some(to) = moved(self.selected, self.rows.len(), self.list_page, action) else {
            return false;
        };
        let changed = to != self.selected;
        self.selected = to;
        self.selected_id = self.rows.get(to).map(|&i| self.jobs[i].id);
        changed
    }

    /// A movement in the log.
    pub fn update_log(&mut self, action: Action) -> bool {
        match action {
            Action::Up => self.log.scroll(-1),
            Action::Down => self.log.scroll(1),
            Action::PageUp => self.log.scroll(-self.log.page()),
            Action::PageDown => self.log.scroll(self.log.page()),
            Action::Top => self.log.scroll_to_top(),
            Action::Bottom => self.log.follow_end(),
            _ => return false,
        }
        true
    }

    /// " Jobs 3/12 · status failed · kind command ".
    fn title(&self) -> String {
        let mut title = format!(" Jobs {}/{}", self.rows.len(), self.jobs.len());
        if let Some(s) = self.status_filter {
            title.push_str(&format!(" · status {s}"));
        }
        if let Some(k) = &self.kind_filter {
            title.push_str(&format!(" · kind {k}"));
        }
        title.push(' ');
        title
    }

    fn log_title(&self) -> String {
        let Some(job) = self.selected_job() else {
            return " Log ".into();
        };
        let mut title = format!(" Log · job {}", job.id);
        if self.log.follow {
            if !job.status.is_final() {
                title.push_str(" · following");
            }
        } else if let Some(seq) = self.log.first_seq_shown() {
            title.push_str(&format!(
                " · line {} of {}",
                seq + 1,
                job.log_lines.max(seq + 1)
            ));
            match &self.follow_key {
                Some(key) => title.push_str(&format!(" · {key} follows")),
                None => title.push_str(" · paused"),
            }
        }
        if let Some(re) = &self.log.search {
            title.push_str(&format!(" · /{}", re.as_str()));
        }
        title.push(' ');
        title
    }

    /// Where the list and the log go in `area`.
    pub fn areas(&self, area: Rect) -> (Rect, Rect) {
        crate::tui::layout::jobs(area, self.rows.len())
    }

    /// Draws the list and the log; `focus` is `Some(true)` when the list
    /// has the keys, `Some(false)` for the log.
    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        focus: Option<bool>,
        theme: &Theme,
        now: i64,
    ) {
        let (list_area, log_area) = self.areas(area);
        self.render_list(list_area, buf, focus == Some(true), theme, now);
        let title = self.log_title();
        self.log
            .render(log_area, buf, &title, focus == Some(false), theme);
    }

    fn render_list(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        theme: &Theme,
        now: i64,
    ) {
        frame(&self.title(), focused, theme).render(area, buf);
        let body = inner(area);
        if body.height == 0 {
            return;
        }
        if self.rows.is_empty() {
            let note = if self.jobs.is_empty() {
                "no jobs yet: Run task… or Run command… in the command palette starts one"
            } else {
                "no job matches the filters in the title"
            };
            Paragraph::new(note)
                .style(theme.ui("muted"))
                .render(body, buf);
            return;
        }
        let shown: Vec<&Job> = self.rows.iter().map(|&i| &self.jobs[i]).collect();
        let cols = Columns::for_width(body.width, &shown);
        let mut header = format!(" {} {} ", fit("ID", cols.id, true), fit("STATUS", 9, false));
        if cols.bar > 0 {
            let name = if cols.bar >= 10 { "PROGRESS" } else { "DONE" };
            header.push_str(&fit(name, cols.bar, false));
            header.push(' ');
        }
        header.push_str(&format!(
            "{} {} ",
            fit("TRY", 5, true),
            fit("TIME", 8, true)
        ));
        if cols.kind > 0 {
            header.push_str(&format!("{} ", fit("KIND", cols.kind, false)));
        }
        if cols.workspace > 0 {
            header.push_str(&format!("{} ", fit("WORKSPACE", cols.workspace, false)));
        }
        header.push_str("COMMAND");
        let rows_height = body.height.saturating_sub(1);
        self.list_page = rows_height.max(1);
        let first = scroll_for(self.selected, rows_height);
        let mut lines = vec![Line::styled(header, theme.ui("muted"))];
        for (row, job) in shown
            .iter()
            .enumerate()
            .skip(first)
            .take(usize::from(rows_height))
        {
            let selected = row == self.selected;
            let base = if selected && focused {
                theme.ui("selection")
            } else {
                theme.ui("foreground")
            };
            let marker = if selected { "›" } else { " " };
            let mut spans = vec![
                Span::styled(
                    format!("{marker}{} ", fit(&job.id.to_string(), cols.id, true)),
                    base,
                ),
                Span::styled(
                    fit(job.status.as_str(), 9, false),
                    if selected && focused {
                        base
                    } else {
                        status_style(job.status, theme)
                    },
                ),
                Span::styled(" ", base),
            ];
            if cols.bar > 0 {
                spans.extend(progress_bar(job, cols.bar, theme, base));
                spans.push(Span::styled(" ", base));
            }
            let time = match job.status {
                // Waiting: for how long still, if it is not due yet.
                Status::Queued | Status::Retrying if job.next_run_at > now => {
                    format!("in {}", format_duration(job.next_run_at - now))
                }
                Status::Queued | Status::Retrying => "-".into(),
                _ => job.duration_ms(now).map_or("-".into(), format_duration),
            };
            let mut rest = format!(
                "{} {} ",
                fit(&format!("{}/{}", job.attempt, job.max_attempts), 5, true),
                fit(&time, 8, true)
            );
            // What comes from commands and folder names never carries an
            // escape to the screen.
            if cols.kind > 0 {
                rest.push_str(&format!(
                    "{} ",
                    fit(&strip(job.kind.as_str()), cols.kind, false)
                ));
            }
            if cols.workspace > 0 {
                let workspace = strip(&workspace_label(job));
                rest.push_str(&format!("{} ", fit(&workspace, cols.workspace, false)));
            }
            rest.push_str(&strip(&command_line(job)));
            spans.push(Span::styled(rest, base));
            let width = usize::from(body.width);
            let used: usize = spans.iter().map(|s| s.content.width()).sum();
            if selected && focused && used < width {
                spans.push(Span::styled(" ".repeat(width - used), base));
            }
            lines.push(Line::from(spans));
        }
        Paragraph::new(lines).render(body, buf);
    }
}

/// "███░░░ 40%": a bar for a running job with progress, blank otherwise.
fn progress_bar(job: &Job, width: usize, theme: &Theme, base: Style) -> Vec<Span<'static>> {
    if job.status != Status::Running || job.progress == 0 {
        return vec![Span::styled(" ".repeat(width), base)];
    }
    let cells = width.saturating_sub(4);
    let filled = (cells * usize::from(job.progress)).div_ceil(100).min(cells);
    vec![
        Span::styled("█".repeat(filled), status_style(Status::Running, theme)),
        Span::styled("░".repeat(cells - filled), theme.ui("muted")),
        Span::styled(format!("{:>4}", format!("{}%", job.progress)), base),
    ]
}

/// The job's details over `area`: command, directory, environment,
/// attempts, times and error.
pub(crate) fn render_details(job: &Job, area: Rect, buf: &mut Buffer, theme: &Theme, now: i64) {
    let label = theme.ui("muted");
    let text = theme.ui("foreground");
    let mut lines = vec![Line::from(vec![
        Span::styled(format!(" job {} ", job.id), theme.ui("title")),
        Span::styled(
            job.status.as_str().to_string(),
            status_style(job.status, theme).add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("  ({})", job.kind), label),
    ])];
    let mut field = |name: &str, value: String| {
        lines.push(Line::from(vec![
            Span::styled(format!(" {name:<10} "), label),
            Span::styled(strip(&value), text),
        ]));
    };
    field("command", command_line(job));
    if let Some(task) = job.payload.get("task").and_then(Value::as_str) {
        field("task", task.to_string());
    }
    if let Some(ws) = &job.workspace {
        field("workspace", ws.clone());
    }
    if let Some(cwd) = &job.cwd {
        field("directory", cwd.clone());
    }
    if let Some(env) = job.env.as_ref().and_then(Value::as_object) {
        for (k, v) in env {
            field("env", format!("{k}={}", v.as_str().unwrap_or_default()));
        }
    }
    field(
        "attempt",
        format!("{} of {}", job.attempt, job.max_attempts),
    );
    field("created", format_ms(job.created_at));
    if let Some(t) = job.started_at {
        field("started", format_ms(t));
    }
    if let Some(t) = job.finished_at {
        field("finished", format_ms(t));
    }
    if let Some(d) = job.duration_ms(now) {
        field("duration", format_duration(d));
    }
    if matches!(job.status, Status::Queued | Status::Retrying) && job.next_run_at > now {
        field(
            "next run",
            format!("in {}", format_duration(job.next_run_at - now)),
        );
    }
    if let Some(t) = job.timeout_ms {
        field("timeout", format_duration(t));
    }
    if !job.after.is_empty() {
        let ids: Vec<String> = job.after.iter().map(i64::to_string).collect();
        field("after", ids.join(", "));
    }
    if let Some(code) = job.exit_code {
        field("exit code", code.to_string());
    }
    if let Some(e) = &job.error {
        field("error", e.clone());
    }
    if let Some(owner) = &job.lease_owner {
        field("runner", owner.clone());
    }
    let width = area.width.saturating_sub(4).min(100);
    let height = (lines.len() as u16 + 3).min(area.height);
    let rect = popup(area, width, height, 3);
    Clear.render(rect, buf);
    let frame_block = frame(" Job (any key closes) ", true, theme);
    frame_block.render(rect, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(inner(rect), buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_with_an_ellipsis_and_padded() {
        assert_eq!(fit("npm", 5, false), "npm  ");
        assert_eq!(fit("12", 4, true), "  12");
        assert_eq!(fit("succeeded", 5, false), "succ…");
        assert_eq!(fit("中文字", 4, false), "中… ");
    }

    /// A kind longer than eight columns (`calendar-refresh`) is shown
    /// whole, and the columns after it stay under their headings.
    #[test]
    fn the_kind_column_fits_the_longest_kind_shown() {
        use crate::jobs::payload::{CommandPayload, JobPayload};
        use crate::jobs::queue::{self, Filter};
        use crate::meetings::refresh::RefreshPayload;
        use crate::store::Store;
        use crate::tui::theme::ColorDepth;
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        const T0: i64 = 1_767_323_045_000;
        let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let c = &mut store.conn;
        let refresh = RefreshPayload { calendar: 1 }.job(None);
        queue::enqueue(c, &refresh, T0).unwrap();
        let build = CommandPayload::argv(vec!["cargo build".to_string()]).job(Some("shop".into()));
        queue::enqueue(c, &build, T0).unwrap();
        let mut pane = JobsPane::new();
        pane.merge(queue::list(c, &Filter::default()).unwrap());
        let mut terminal = Terminal::new(TestBackend::new(100, 12)).unwrap();
        terminal
            .draw(|f| pane.render(f.area(), f.buffer_mut(), Some(true), &theme, T0))
            .unwrap();
        let screen = terminal.backend().to_string();
        let rows: Vec<&str> = screen.lines().collect();
        let column = |row: &str, text: &str| row.find(text).map(|b| row[..b].chars().count());
        let header = rows.iter().find(|r| r.contains("KIND")).unwrap();
        let refresh_row = rows
            .iter()
            .find(|r| r.contains("calendar-refresh"))
            .unwrap();
        let command_row = rows.iter().find(|r| r.contains("command ")).unwrap();
        assert_eq!(
            column(header, "KIND"),
            column(refresh_row, "calendar-refresh")
        );
        assert_eq!(column(header, "WORKSPACE"), column(command_row, "shop"));
        insta::assert_snapshot!("jobs_long_kind_100x12", screen);
    }
}
