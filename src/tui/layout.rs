//! Where everything goes on the screen. Drawing and the mouse both ask
//! these functions, so a click lands on what the last frame showed there.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Borders};

/// The workstation's areas for a terminal of `area`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Areas {
    /// Everything above the status line (the jobs view takes all of it).
    pub main: Rect,
    pub status: Rect,
    pub workspaces: Rect,
    /// The file tree, or the git changes list.
    pub tree: Rect,
    /// The editor, or the diff of the selected change.
    pub right: Rect,
}

/// The side column (workspaces and tree): shown or hidden, and its width
/// when the user set one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Side {
    pub hidden: bool,
    pub width: Option<u16>,
}

/// The narrowest side column: a short file name and its indent.
pub(crate) const SIDE_MIN: u16 = 12;
/// Cells a narrow or widen step moves the side column's edge.
pub(crate) const SIDE_STEP: u16 = 4;

impl Side {
    /// The column's width on a screen `width` cells wide: the user's width
    /// kept between [`SIDE_MIN`] and half the screen, else a quarter of
    /// the width (20 to 32 cells); 0 when hidden.
    pub(crate) fn width_on(self, width: u16) -> u16 {
        if self.hidden {
            return 0;
        }
        let least = SIDE_MIN.min(width);
        match self.width {
            Some(w) => w.clamp(least, (width / 2).max(least)),
            None => (width / 4).clamp(20.min(width), 32),
        }
    }

    /// The width one step narrower (or wider) than shown on a screen
    /// `width` cells wide, kept within the bounds.
    pub(crate) fn stepped(self, width: u16, wider: bool) -> Side {
        let now = Side {
            hidden: false,
            ..self
        }
        .width_on(width);
        let next = if wider {
            now.saturating_add(SIDE_STEP)
        } else {
            now.saturating_sub(SIDE_STEP)
        };
        let width = Side {
            hidden: false,
            width: Some(next),
        }
        .width_on(width);
        Side {
            hidden: false,
            width: Some(width),
        }
    }
}

/// The side column is as [`Side::width_on`] says; the workspaces list
/// takes what it needs, up to a quarter of the height.
pub(crate) fn workstation(area: Rect, workspaces: usize, side: Side) -> Areas {
    let [main, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let side_width = side.width_on(main.width);
    let [side, right] =
        Layout::horizontal([Constraint::Length(side_width), Constraint::Min(10)]).areas(main);
    let list_height = (workspaces as u16 + 2).clamp(3, (side.height / 4).max(3));
    let [workspaces, tree] =
        Layout::vertical([Constraint::Length(list_height), Constraint::Min(3)]).areas(side);
    Areas {
        main,
        status,
        workspaces,
        tree,
        right,
    }
}

/// The inner area of a bordered block.
pub(crate) fn inner(area: Rect) -> Rect {
    Block::default().borders(Borders::ALL).inner(area)
}

/// The editor pane's parts: tab bar, an optional banner, and the text with
/// its line-number gutter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct EditorAreas {
    pub tab_bar: Rect,
    pub banner: Option<Rect>,
    /// Where lines are drawn, gutter included.
    pub body: Rect,
    /// Cells of the line numbers and the space after them.
    pub gutter: u16,
}

impl EditorAreas {
    /// The cells of text right of the gutter.
    pub(crate) fn text_width(&self) -> usize {
        usize::from(self.body.width.saturating_sub(self.gutter))
    }
}

/// The editor in `area` (its frame included), for a buffer of `lines`
/// lines, with a banner line when there is one to show.
pub(crate) fn editor(area: Rect, banner: bool, lines: usize) -> EditorAreas {
    let mut body = inner(area);
    if body.height == 0 || body.width == 0 {
        return EditorAreas {
            body,
            ..EditorAreas::default()
        };
    }
    let tab_bar = Rect { height: 1, ..body };
    body.y += 1;
    body.height = body.height.saturating_sub(1);
    let banner = (banner && body.height > 1).then(|| {
        let line = Rect { height: 1, ..body };
        body.y += 1;
        body.height -= 1;
        line
    });
    let gutter = (lines.max(1).to_string().len() + 1) as u16;
    EditorAreas {
        tab_bar,
        banner,
        body,
        gutter,
    }
}

/// The jobs view: the list over the log, or beside it from 140 columns;
/// the list takes its rows and up to two fifths of the height.
pub(crate) fn jobs(area: Rect, rows: usize) -> (Rect, Rect) {
    if area.width >= 140 {
        let [list, log] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Min(20)]).areas(area);
        (list, log)
    } else {
        let most = (area.height * 2 / 5).max(5);
        let want = rows.max(1) as u16 + 3;
        let [list, log] = Layout::vertical([
            Constraint::Length(want.clamp(4.min(most), most)),
            Constraint::Min(3),
        ])
        .areas(area);
        (list, log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_side_column_and_the_list_keep_their_bounds() {
        let a = workstation(Rect::new(0, 0, 100, 30), 1, Side::default());
        assert_eq!((a.main.height, a.status.y), (29, 29));
        assert_eq!(a.workspaces.width, 25);
        assert_eq!(a.workspaces.height, 3);
        assert_eq!(a.tree.y, 3);
        assert_eq!((a.right.x, a.right.width), (25, 75));
        let narrow = workstation(Rect::new(0, 0, 30, 10), 40, Side::default());
        assert_eq!(narrow.workspaces.width, 20);
        assert!(narrow.tree.height >= 3);
    }

    #[test]
    fn the_side_column_hides_and_keeps_a_width_within_bounds() {
        let hidden = Side {
            hidden: true,
            width: Some(30),
        };
        let a = workstation(Rect::new(0, 0, 80, 24), 1, hidden);
        assert_eq!((a.tree.width, a.workspaces.width), (0, 0));
        assert_eq!((a.right.x, a.right.width), (0, 80));
        // Steps of 4 from the default (20 at 80 columns), down to 12 and
        // up to half the screen.
        let mut side = Side::default();
        let mut widths = Vec::new();
        for _ in 0..4 {
            side = side.stepped(80, false);
            widths.push(side.width_on(80));
        }
        assert_eq!(widths, [16, 12, 12, 12]);
        for _ in 0..10 {
            side = side.stepped(80, true);
        }
        assert_eq!(side.width_on(80), 40);
        // A width set on a wide screen still leaves a small one usable.
        assert_eq!(side.width_on(60), 30);
        let a = workstation(Rect::new(0, 0, 60, 20), 1, side);
        assert_eq!((a.tree.width, a.right.width), (30, 30));
        // A showing side column was never narrower than SIDE_MIN.
        let tiny = Side {
            hidden: false,
            width: Some(2),
        };
        assert_eq!(tiny.width_on(60), SIDE_MIN);
        assert_eq!(tiny.width_on(8), 8);
    }

    #[test]
    fn the_editor_body_starts_below_the_tab_bar_and_banner() {
        let e = editor(Rect::new(10, 0, 50, 20), true, 1234);
        assert_eq!(e.tab_bar, Rect::new(11, 1, 48, 1));
        assert_eq!(e.banner, Some(Rect::new(11, 2, 48, 1)));
        assert_eq!(e.body, Rect::new(11, 3, 48, 16));
        assert_eq!(e.gutter, 5);
        assert_eq!(e.text_width(), 43);
        // Too small for anything: nothing is drawn, nothing panics.
        let tiny = editor(Rect::new(0, 0, 1, 1), true, 1);
        assert_eq!(tiny.body.area(), 0);
    }
}
