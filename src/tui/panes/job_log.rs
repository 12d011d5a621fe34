//! One job's log as the jobs pane shows it: the last [`LOG_LINES`] lines
//! in a ring, following new output like `tail -f` while the view is at the
//! bottom, with the command's colours and a regex search.
//!
//! The ring bounds memory whatever the job prints (a 10,000,000-line log
//! costs the same as a 5,000-line one), and a frame parses and draws only
//! the lines in view. Lines are addressed by an absolute index (lines
//! dropped from the front plus the position in the ring), so the view and
//! the current search hit stay on their line while older ones fall out.

use std::collections::VecDeque;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};
use regex::Regex;

use super::{frame, inner};
use crate::jobs::queue::{LogLine, Stream};
use crate::tui::ansi;
use crate::tui::theme::Theme;

/// Lines of the selected job kept in memory.
pub(crate) const LOG_LINES: usize = 5000;

/// A line of the ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogEntry {
    pub seq: i64,
    pub stream: Stream,
    pub text: String,
}

pub(crate) struct JobLog {
    /// The job whose lines these are.
    pub job: Option<i64>,
    lines: VecDeque<LogEntry>,
    cap: usize,
    /// Lines dropped from the front since the job was selected.
    dropped: usize,
    /// The seq of the last stored line taken: where the next poll starts.
    pub last_seq: i64,
    /// Whether the view sticks to the newest line.
    pub follow: bool,
    /// The absolute index of the first line in view, when not following.
    top: usize,
    /// Rows of text the last frame had.
    height: usize,
    pub search: Option<Regex>,
    /// The absolute index of the line of the current search hit.
    current: Option<usize>,
    /// Whether the last line is still being written (live text without
    /// its newline yet).
    open_tail: bool,
}

impl JobLog {
    pub fn new() -> JobLog {
        JobLog::with_capacity(LOG_LINES)
    }

    pub fn with_capacity(cap: usize) -> JobLog {
        JobLog {
            job: None,
            lines: VecDeque::new(),
            cap: cap.max(1),
            dropped: 0,
            last_seq: -1,
            follow: true,
            top: 0,
            height: 10,
            search: None,
            current: None,
            open_tail: false,
        }
    }

    /// Starts over for `job` (or none), following, keeping the search.
    pub fn reset(&mut self, job: Option<i64>) {
        let search = self.search.take();
        let height = self.height;
        *self = JobLog::with_capacity(self.cap);
        self.job = job;
        self.search = search;
        self.height = height;
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    #[cfg(test)]
    pub fn entries(&self) -> impl Iterator<Item = &LogEntry> {
        self.lines.iter()
    }

    /// Takes the lines a poll found after `last_seq`. A gap (lines the
    /// store no longer keeps, or never kept) becomes one note line.
    pub fn append(&mut self, lines: Vec<LogLine>) {
        let Some(first) = lines.first() else { return };
        let missing = first.seq - (self.last_seq + 1);
        if missing > 0 {
            let id = self.job.unwrap_or_default();
            let text = if self.last_seq < 0 {
                format!(
                    "[kollega] {missing} earlier lines are not shown here; `kollega jobs log {id}` prints the whole log"
                )
            } else {
                format!(
                    "[kollega] {missing} lines came faster than shown; `kollega jobs log {id}` prints the whole log"
                )
            };
            self.push(LogEntry {
                seq: first.seq - 1,
                stream: Stream::Info,
                text,
            });
        }
        for line in lines {
            self.last_seq = self.last_seq.max(line.seq);
            self.push(LogEntry {
                seq: line.seq,
                stream: line.stream,
                text: line.line,
            });
        }
    }

    /// Takes text as it is written, not yet cut into lines: a chunk
    /// without its newline stays the open last line, which the next chunk
    /// continues.
    pub fn stream_text(&mut self, stream: Stream, text: &str) {
        for piece in text.split_inclusive('\n') {
            let ends = piece.ends_with('\n');
            let body = piece.trim_end_matches(['\n', '\r']);
            match self.lines.back_mut() {
                Some(last) if self.open_tail && last.stream == stream => last.text.push_str(body),
                _ => {
                    self.last_seq += 1;
                    self.push(LogEntry {
                        seq: self.last_seq,
                        stream,
                        text: body.to_string(),
                    });
                }
            }
            self.open_tail = !ends;
        }
    }

    /// Takes one whole line between streamed text (a line of kollega's
    /// own), closing the open line.
    pub fn push_line(&mut self, stream: Stream, text: String) {
        self.last_seq += 1;
        self.push(LogEntry {
            seq: self.last_seq,
            stream,
            text,
        });
        self.open_tail = false;
    }

    fn push(&mut self, entry: LogEntry) {
        if self.lines.len() == self.cap {
            self.lines.pop_front();
            self.dropped += 1;
            if self.current.is_some_and(|c| c < self.dropped) {
                self.current = None;
            }
        }
        self.lines.push_back(entry);
    }

    /// The ring position of the first line in view.
    fn first_shown(&self) -> usize {
        let bottom = self.lines.len().saturating_sub(self.height);
        if self.follow {
            bottom
        } else {
            self.top.saturating_sub(self.dropped).min(bottom)
        }
    }

    /// Scrolls by `delta` lines; up stops following, reaching the bottom
    /// follows again.
    pub fn scroll(&mut self, delta: isize) {
        let bottom = self.lines.len().saturating_sub(self.height);
        let at = self.first_shown().saturating_add_signed(delta).min(bottom);
        self.top = self.dropped + at;
        self.follow = at >= bottom;
    }

    pub fn page(&self) -> isize {
        self.height.max(1) as isize
    }

    pub fn scroll_to_top(&mut self) {
        self.top = self.dropped;
        self.follow = self.lines.len() <= self.height;
    }

    /// Back to the newest line, following (`G`, End).
    pub fn follow_end(&mut self) {
        self.follow = true;
    }

    /// Searches for `re` from the view, downwards.
    pub fn set_search(&mut self, re: Regex) -> bool {
        self.search = Some(re);
        self.current = None;
        self.find(true)
    }

    /// Moves to the next (or previous) line with a hit, wrapping around;
    /// false when no line in the ring has one.
    pub fn find(&mut self, forward: bool) -> bool {
        let Some(re) = &self.search else { return false };
        let n = self.lines.len();
        if n == 0 {
            return false;
        }
        let start = match self.current.map(|c| c.saturating_sub(self.dropped)) {
            Some(c) if forward => c + 1,
            Some(c) => c + n - 1,
            None if forward => self.first_shown(),
            None => self.first_shown() + self.height.min(n) + n - 1,
        };
        let hit = (0..n)
            .map(|k| {
                if forward {
                    (start + k) % n
                } else {
                    (start + n - k % n) % n
                }
            })
            .find(|&i| {
                self.lines
                    .get(i)
                    .is_some_and(|l| re.is_match(&ansi::strip(&l.text)))
            });
        let Some(i) = hit else { return false };
        self.current = Some(self.dropped + i);
        // Show the hit a third of the way down, as less does.
        let bottom = n.saturating_sub(self.height);
        let at = i.saturating_sub(self.height / 3).min(bottom);
        self.top = self.dropped + at;
        // A hit holds the view; G or End follows again.
        self.follow = false;
        true
    }

    /// The text of the lines in view, as drawn (for copy).
    pub fn visible_text(&self) -> String {
        self.lines
            .iter()
            .skip(self.first_shown())
            .take(self.height)
            .map(|l| ansi::strip(&l.text))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The seq of the first line in view (for the title's position).
    pub fn first_seq_shown(&self) -> Option<i64> {
        self.lines.get(self.first_shown()).map(|l| l.seq)
    }

    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        title: &str,
        focused: bool,
        theme: &Theme,
    ) {
        frame(title, focused, theme).render(area, buf);
        let body = inner(area);
        self.height = usize::from(body.height).max(1);
        if self.lines.is_empty() {
            let note = if self.job.is_some() {
                "no output yet"
            } else {
                "select a job: its log shows here"
            };
            Paragraph::new(note)
                .style(theme.ui("muted"))
                .render(body, buf);
            return;
        }
        let first = self.first_shown();
        let depth = theme.depth();
        let hit = theme.ui_or("search_match", "selection");
        let current = theme.ui("selection");
        let lines: Vec<Line<'static>> = self
            .lines
            .iter()
            .enumerate()
            .skip(first)
            .take(self.height)
            .map(|(i, entry)| {
                let mut line = ansi::parse(&entry.text, depth);
                if entry.stream == Stream::Info {
                    line = line.style(theme.ui("muted"));
                }
                if let Some(re) = &self.search {
                    let text = ansi::strip(&entry.text);
                    let ranges: Vec<(usize, usize)> = re
                        .find_iter(&text)
                        .filter(|m| !m.is_empty())
                        .map(|m| (m.start(), m.end()))
                        .collect();
                    let style = if self.current == Some(self.dropped + i) {
                        current
                    } else {
                        hit
                    };
                    line = ansi::highlight(line, &ranges, style);
                }
                line
            })
            .collect();
        Paragraph::new(lines).render(body, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(from: i64, to: i64) -> Vec<LogLine> {
        (from..to)
            .map(|seq| LogLine {
                seq,
                attempt: 1,
                stream: Stream::Stdout,
                at: 0,
                line: format!("line {seq}"),
            })
            .collect()
    }

    #[test]
    fn the_ring_keeps_the_newest_lines_and_follows() {
        let mut log = JobLog::with_capacity(100);
        log.reset(Some(7));
        log.height = 10;
        log.append(lines(0, 250));
        assert_eq!(log.len(), 100);
        assert_eq!(log.last_seq, 249);
        assert_eq!(log.first_seq_shown(), Some(240));
        assert!(log.follow);
    }

    #[test]
    fn scrolling_up_stops_following_and_the_view_stays_put() {
        let mut log = JobLog::with_capacity(100);
        log.reset(Some(7));
        log.height = 10;
        log.append(lines(0, 50));
        log.scroll(-5);
        assert!(!log.follow);
        assert_eq!(log.first_seq_shown(), Some(35));
        log.append(lines(50, 60));
        assert_eq!(
            log.first_seq_shown(),
            Some(35),
            "new lines do not move the view"
        );
        // Lines falling out of the ring do not move it either.
        log.append(lines(60, 120));
        assert_eq!(log.first_seq_shown(), Some(35));
        log.append(lines(120, 200));
        assert_eq!(log.first_seq_shown(), Some(100), "the oldest kept line");
        log.follow_end();
        assert_eq!(log.first_seq_shown(), Some(190));
        log.scroll(-1);
        log.scroll(1);
        assert!(log.follow, "back at the bottom, it follows again");
    }

    #[test]
    fn a_gap_becomes_a_note() {
        let mut log = JobLog::new();
        log.reset(Some(3));
        log.append(lines(9_998_000, 10_000_000));
        let first = log.entries().next().unwrap();
        assert_eq!(first.stream, Stream::Info);
        assert!(
            first.text.contains("9998000 earlier lines"),
            "{}",
            first.text
        );
        log.append(lines(10_000_500, 10_000_501));
        assert!(
            log.entries()
                .any(|e| e.text.contains("500 lines came faster"))
        );
    }

    #[test]
    fn search_moves_between_hits_and_wraps() {
        let mut log = JobLog::with_capacity(1000);
        log.reset(Some(1));
        log.height = 5;
        log.append(lines(0, 100));
        log.scroll_to_top();
        assert!(log.set_search(Regex::new(r"line \d*7$").unwrap()));
        assert_eq!(log.current, Some(7));
        assert!(!log.follow);
        assert!(log.find(true));
        assert_eq!(log.current, Some(17));
        assert!(log.find(false));
        assert!(log.find(false));
        assert_eq!(log.current, Some(97), "wrapped to the last hit");
        assert!(!log.set_search(Regex::new("nothing").unwrap()));
    }
}
