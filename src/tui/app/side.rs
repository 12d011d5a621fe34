//! The side column (the workspaces list over the file tree): hidden or
//! shown, narrower or wider, kept in the store's settings across restarts.
//! A hidden column never holds the focus: the editor takes it.

use rusqlite::Connection;

use super::{App, AppMsg, Focus};
use crate::store::settings;
use crate::tui::keymap::Action;
use crate::tui::layout::Side;

/// The settings keys of the side column.
const WIDTH_KEY: &str = "tui.side_width";
const HIDDEN_KEY: &str = "tui.side_hidden";

/// The side column as last left; the default when nothing (or nothing
/// readable) is stored.
pub(crate) fn stored(conn: &Connection) -> Side {
    let get = |key| settings::get(conn, key).ok().flatten();
    Side {
        hidden: get(HIDDEN_KEY).as_deref() == Some("1"),
        width: get(WIDTH_KEY).and_then(|w| w.trim().parse().ok()),
    }
}

impl App {
    /// The side column as stored (at start).
    pub(crate) fn set_side(&mut self, side: Side) {
        self.side = side;
    }

    /// Whether the side column is hidden now: only with a workspace open
    /// (the list is how one is opened), and never in the changes view,
    /// which lists the changes there.
    pub(super) fn side_hidden(&self) -> bool {
        self.side.hidden
            && self.session.is_some()
            && !matches!(self.focus, Focus::Changes | Focus::Diff)
    }

    /// Hides, shows, narrows or widens the side column; whether to redraw.
    pub(super) fn side_action(&mut self, action: Action) -> bool {
        match action {
            Action::ToggleTree if self.session.is_none() => {
                self.notify("open a workspace first: the list is how one opens", true);
                return true;
            }
            Action::ToggleTree => self.side.hidden = !self.side.hidden,
            Action::NarrowTree | Action::WidenTree => {
                self.side = self
                    .side
                    .stepped(self.screen.width, action == Action::WidenTree);
            }
            _ => return false,
        }
        self.leave_hidden_side();
        let Side { hidden, width } = self.side;
        self.store_work(
            move |store| {
                let width = width.map(|w| w.to_string());
                settings::set(&store.conn, HIDDEN_KEY, if hidden { "1" } else { "0" })
                    .and_then(|()| match &width {
                        Some(w) => settings::set(&store.conn, WIDTH_KEY, w),
                        None => Ok(()),
                    })
                    .map_err(|e| crate::error::describe(&e))
            },
            |result| AppMsg::SideSaved(result.err()),
        );
        true
    }

    /// The focus leaves a hidden side column for the editor.
    pub(super) fn leave_hidden_side(&mut self) {
        if self.side_hidden() && matches!(self.focus, Focus::Tree | Focus::Workspaces) {
            self.focus = Focus::Editor;
        }
    }

    /// Moves the focus to `focus`, unless that is the hidden side column.
    pub(super) fn focus_on(&mut self, focus: Focus) {
        self.focus = focus;
        self.leave_hidden_side();
    }
}
