//! Quitting while this process's runner holds jobs: the question (leave
//! them to a worker, cancel them, wait for them, or stay), the wait, and
//! what the runner is told to do with them when the app is gone
//! ([`App::quit_stop`], carried out by the caller of the event loop).
//!
//! Nothing is stopped without an answer: a person's command (`make
//! deploy`) is never run twice by itself, so a job left to a worker is
//! said to start again from the start, and a quit by hangup leaves it
//! interrupted for a person's word.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{App, Overlay};
use crate::jobs::runner::Stop;
use crate::tui::keymap::Action;
use crate::tui::panes::prompt::{self, ConfirmKind};

impl App {
    /// The jobs this process's runner runs now: id and title.
    pub fn running_here(&self) -> Vec<(i64, String)> {
        self.jobs
            .running_here
            .iter()
            .map(|(id, title)| (*id, title.clone()))
            .collect()
    }

    /// Quits, asking first when this process runs jobs; whether to redraw.
    pub(super) fn quit_unless_jobs(&mut self) -> bool {
        if !self.jobs.running_here.is_empty() {
            let running = self.jobs.running_here.values().cloned().collect();
            self.overlay = Some(Overlay::Confirm(ConfirmKind::QuitWithJobs { running }));
            return true;
        }
        self.quit = true;
        false
    }

    /// The answer to "1 job running: …": leave, cancel, wait or stay.
    pub(super) fn answer_quit(&mut self, action: Option<Action>) {
        match action {
            Some(Action::QuitLeave) => {
                self.quit_stop = Stop::HandOver;
                self.quit = true;
            }
            Some(Action::QuitCancel) => {
                self.quit_stop = Stop::Cancel;
                self.quit = true;
            }
            Some(Action::QuitWait) => {
                self.overlay = Some(Overlay::QuitWait);
                // They may have ended while the question was up.
                self.quit_if_waited_for();
            }
            // Any other key stays, as a question's unbound key answers no.
            _ => {}
        }
    }

    /// A key while quitting waits for the jobs: `no` (esc) stays open.
    pub(super) fn key_while_waiting(&mut self, action: Option<Action>) {
        match action {
            Some(Action::No) => self.notify("quit put off; the jobs go on", false),
            _ => self.overlay = Some(Overlay::QuitWait),
        }
    }

    /// Quits when it waited for the jobs running here and the last ended.
    pub(super) fn quit_if_waited_for(&mut self) {
        if matches!(self.overlay, Some(Overlay::QuitWait)) && self.jobs.running_here.is_empty() {
            self.overlay = None;
            self.quit = true;
        }
    }

    /// The wait, over the status line: its key first, then what it waits for.
    pub(super) fn render_quit_wait(&self, area: Rect, buf: &mut Buffer) {
        let running = &self.jobs.running_here;
        let titles: Vec<String> = running
            .values()
            .map(|t| crate::tui::ansi::strip(t))
            .collect();
        let what = format!(
            "quitting when {} ends: {}",
            match running.len() {
                1 => "1 job".to_string(),
                n => format!("{n} jobs"),
            },
            titles.join(", ")
        );
        prompt::render_question(" [esc] stay open ", &what, area, buf, &self.theme);
    }
}
