//! Grep in the workstation: the overlay's searches run off the UI task (a
//! folder's files on a blocking thread, a stored workspace's on the store
//! worker, as its other reads), their matches come back in batches tagged
//! with the search's generation, and a picked match opens its file at its
//! line and column.

use crossterm::event::KeyEvent;

use super::session::Spot;
use super::{App, AppMsg, Outcome, Overlay};
use crate::tui::keymap::Scope;
use crate::tui::panes::grep::{GrepOutcome, GrepView, MAX_HITS, SearchRequest};
use crate::workspace::files::Files;
use crate::workspace::grep::{self, Hit, Summary};

/// What a search sends back.
pub(crate) enum GrepMsg {
    /// More matches; the search goes on.
    Batch { generation: u64, hits: Vec<Hit> },
    /// The search ended (or stopped): how, or why it failed.
    Done {
        generation: u64,
        result: Result<Summary, String>,
    },
}

impl App {
    /// Opens the grep overlay with `pattern` typed in (and searched for).
    pub(super) fn open_grep(&mut self, pattern: &str) -> bool {
        if self.session.is_none() {
            self.notify("open a workspace first", true);
            return true;
        }
        let (view, request) = GrepView::new(pattern);
        self.overlay = Some(Overlay::Grep(view));
        if let Some(request) = request {
            self.search(request);
        }
        true
    }

    /// `:grep PATTERN`: the overlay with the pattern searched for.
    pub(super) fn grep_ex(&mut self, pattern: &str) -> Outcome {
        self.open_grep(pattern);
        Outcome::Redraw
    }

    pub(super) fn grep_key(&mut self, mut view: GrepView, key: KeyEvent) {
        match view.handle_key(self.keymap.action(Scope::Picker, &key), key) {
            GrepOutcome::Open => self.overlay = Some(Overlay::Grep(view)),
            GrepOutcome::Search(request) => {
                self.overlay = Some(Overlay::Grep(view));
                self.search(request);
            }
            GrepOutcome::Closed => {}
            GrepOutcome::Picked(hit) => self.open_file(
                &hit.path,
                Some(Spot {
                    line: hit.line,
                    column: Some(hit.column),
                }),
            ),
        }
    }

    /// Runs `request` over the open workspace's files; its batches and its
    /// end come back as [`GrepMsg`]s (only the end counts as an answer in
    /// flight).
    fn search(&mut self, request: SearchRequest) {
        let Some(session) = &self.session else { return };
        let SearchRequest {
            generation,
            regex,
            cancel,
        } = request;
        let batches = self.services.tx.clone();
        let on_batch = move |hits: Vec<Hit>| {
            let _ = batches.send(AppMsg::Grep(GrepMsg::Batch { generation, hits }));
        };
        let done = move |result| AppMsg::Grep(GrepMsg::Done { generation, result });
        match session.files.clone() {
            Files::Dir(disk) => {
                let ignored = self.ignored.clone();
                self.spawn_blocking(move || {
                    done(Ok(grep::search_dir(
                        &disk, &ignored, &regex, MAX_HITS, &cancel, &on_batch,
                    )))
                });
            }
            Files::Sqlite { id } => self.store_work(
                move |store| {
                    grep::search_store(store, id, &regex, MAX_HITS, &cancel, &on_batch)
                        .map_err(|e| crate::error::describe(&e))
                },
                done,
            ),
        }
    }

    /// Takes a search's answer; whether to redraw.
    pub(super) fn grep_msg(&mut self, msg: GrepMsg) -> bool {
        let Some(Overlay::Grep(view)) = &mut self.overlay else {
            return false;
        };
        match msg {
            GrepMsg::Batch { generation, hits } => view.batch(generation, hits),
            GrepMsg::Done { generation, result } => view.done(generation, result),
        }
    }
}
