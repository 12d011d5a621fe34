//! The workstation's state and what each action does to it. Rendering is a
//! pure function of this state, so tests draw it on a `TestBackend`.

use crossterm::event::{Event, KeyEventKind};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Widget};

use super::keymap::{Action, Keymap, Scope};
use super::panes::help;
use super::panes::status::StatusLine;
use super::panes::tree::{TreeOutcome, TreePane};
use super::panes::viewer::ViewerPane;
use super::panes::workspaces::WorkspacesPane;
use super::theme::Theme;
use crate::editor::highlight::Highlighter;
use crate::store::workspaces::Workspace;
use crate::store::{self, Store};
use crate::workspace::tree;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Focus {
    Workspaces,
    Tree,
    Viewer,
}

pub(crate) struct App {
    store: Store,
    theme: Theme,
    keymap: Keymap,
    highlighter: Option<Highlighter>,
    workspaces: WorkspacesPane,
    open: Option<(Workspace, TreePane)>,
    viewer: Option<ViewerPane>,
    focus: Focus,
    help: bool,
    message: Option<(String, bool)>,
    pub quit: bool,
}

impl App {
    pub fn new(store: Store, theme: Theme, keymap: Keymap) -> Result<App, store::StoreError> {
        let items = store::workspaces::list(&store.conn)?;
        let mut app = App {
            store,
            theme,
            keymap,
            highlighter: None,
            workspaces: WorkspacesPane::new(items),
            open: None,
            viewer: None,
            focus: Focus::Workspaces,
            help: false,
            message: None,
            quit: false,
        };
        // Land in the only workspace there is, e.g. the demo on a first start.
        if app.workspaces.items.len() == 1 {
            app.open_selected_workspace();
        }
        Ok(app)
    }

    /// Shows a message (or an error) in the status bar.
    pub fn notify(&mut self, message: impl Into<String>, is_error: bool) {
        self.message = Some((message.into(), is_error));
    }

    /// Handles one terminal event; returns whether a redraw is needed.
    pub fn handle_event(&mut self, event: &Event) -> bool {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => {
                let scope = Scope::List;
                match self.keymap.action(scope, key) {
                    Some(action) => self.update(action),
                    None => false,
                }
            }
            Event::Resize(..) => true,
            _ => false,
        }
    }

    pub fn update(&mut self, action: Action) -> bool {
        if self.help {
            // Any key closes the help overlay; quit still quits.
            self.help = false;
            if action == Action::Quit {
                self.quit = true;
            }
            return true;
        }
        match action {
            Action::Quit => {
                self.quit = true;
                return false;
            }
            Action::Help => {
                self.help = true;
                return true;
            }
            Action::FocusNext | Action::FocusPrev => {
                return self.cycle_focus(action == Action::FocusNext);
            }
            _ => {}
        }
        match self.focus {
            Focus::Workspaces => {
                if action == Action::Open {
                    self.open_selected_workspace();
                    return true;
                }
                self.workspaces.update(action)
            }
            Focus::Tree => {
                let Some((_, tree)) = &mut self.open else {
                    return false;
                };
                match tree.update(action) {
                    TreeOutcome::None => false,
                    TreeOutcome::Redraw => true,
                    TreeOutcome::OpenFile(path) => {
                        self.open_file(&path);
                        true
                    }
                    TreeOutcome::LeaveTree => {
                        self.focus = Focus::Workspaces;
                        true
                    }
                }
            }
            Focus::Viewer => {
                if action == Action::Back {
                    self.focus = Focus::Tree;
                    return true;
                }
                self.viewer.as_mut().is_some_and(|v| v.update(action))
            }
        }
    }

    fn cycle_focus(&mut self, forward: bool) -> bool {
        let mut order = vec![Focus::Workspaces];
        if self.open.is_some() {
            order.push(Focus::Tree);
        }
        if self.viewer.is_some() {
            order.push(Focus::Viewer);
        }
        let at = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let next = if forward {
            (at + 1) % order.len()
        } else {
            (at + order.len() - 1) % order.len()
        };
        let changed = order[next] != self.focus;
        self.focus = order[next];
        changed
    }

    fn open_selected_workspace(&mut self) {
        let Some(ws) = self.workspaces.selected().cloned() else {
            return;
        };
        match store::files::list(&self.store.conn, ws.id) {
            Ok(files) => {
                let nodes = tree::build(files.iter().map(|f| (f.path.as_str(), f.size)));
                self.open = Some((ws, TreePane::new(nodes)));
                self.viewer = None;
                self.focus = Focus::Tree;
                self.message = None;
            }
            Err(e) => self.notify(format!("cannot read workspace {}: {e}", ws.name), true),
        }
    }

    fn open_file(&mut self, path: &str) {
        let Some((ws, _)) = &self.open else { return };
        match store::files::content(&self.store.conn, ws.id, path) {
            Ok(Some(content)) => {
                let palette = self.theme.syntax_palette();
                let highlighter = self
                    .highlighter
                    .get_or_insert_with(|| Highlighter::new(&palette));
                self.viewer = Some(ViewerPane::new(path.to_string(), &content, highlighter));
                self.focus = Focus::Viewer;
                self.message = None;
            }
            Ok(None) => self.notify(format!("{path} is no longer stored"), true),
            Err(e) => self.notify(format!("cannot read {path}: {e}"), true),
        }
    }

    pub fn render(&mut self, area: Rect, buf: &mut Buffer) {
        Block::default()
            .style(self.theme.ui("foreground"))
            .render(area, buf);
        let [main, status] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
        let side_width = (main.width / 3).clamp(22.min(main.width), 36);
        let [side, right] =
            Layout::horizontal([Constraint::Length(side_width), Constraint::Min(10)]).areas(main);
        let list_height =
            (self.workspaces.items.len() as u16 + 2).clamp(3, (side.height / 3).max(3));
        let [list_area, tree_area] =
            Layout::vertical([Constraint::Length(list_height), Constraint::Min(3)]).areas(side);

        let open_name = self.open.as_ref().map(|(ws, _)| ws.name.clone());
        self.workspaces.render(
            list_area,
            buf,
            self.focus == Focus::Workspaces,
            open_name.as_deref(),
            &self.theme,
        );
        let open_file = self.viewer.as_ref().map(|v| v.path.clone());
        match &mut self.open {
            Some((_, tree)) => tree.render(
                tree_area,
                buf,
                self.focus == Focus::Tree,
                open_file.as_deref(),
                &self.theme,
            ),
            None => super::panes::frame(" Files ", false, &self.theme).render(tree_area, buf),
        }
        match (&mut self.viewer, &self.highlighter) {
            (Some(viewer), Some(highlighter)) => viewer.render(
                right,
                buf,
                self.focus == Focus::Viewer,
                highlighter,
                &self.theme,
            ),
            _ => {
                let hint = if self.open.is_some() {
                    " open a file with enter "
                } else {
                    " open a workspace with enter "
                };
                super::panes::frame(hint, false, &self.theme).render(right, buf);
            }
        }
        let ws = self
            .open
            .as_ref()
            .map(|(ws, _)| (ws.name.as_str(), ws.storage_type.as_str()));
        let file = self.viewer.as_ref().map(|v| {
            (
                v.path.as_str(),
                v.syntax.as_str(),
                v.scroll + 1,
                v.line_count(),
            )
        });
        StatusLine {
            workspace: ws,
            file,
            message: self.message.as_ref().map(|(m, _)| m.as_str()),
            is_error: self.message.as_ref().is_some_and(|(_, e)| *e),
        }
        .render(status, buf, &self.theme);
        if self.help {
            help::render(
                &self.keymap,
                &[Scope::Global, Scope::List],
                main,
                buf,
                &self.theme,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::config::Config;
    use crate::tui::theme::ColorDepth;
    use crate::workspace::import::{ImportOptions, import};

    /// An app over a store holding one small workspace, plus its temp dirs.
    fn app_with_workspace() -> (App, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("shop");
        for (path, text) in [
            (
                "app/page.tsx",
                "export default function Page() {\n  return <h1 className=\"title\">Shop</h1>;\n}\n",
            ),
            (
                "app/layout.tsx",
                "export const metadata = { title: \"Shop\" };\n",
            ),
            (
                "lib/cart.ts",
                "export function total(items: number[]): number {\n  return items.reduce((a, b) => a + b, 0);\n}\n",
            ),
            ("package.json", "{\n  \"name\": \"shop\"\n}\n"),
            ("README.md", "# Shop\n\nA small shop.\n"),
        ] {
            let target = src.join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, text).unwrap();
        }
        let config = Config::load(Some(dir.path().join("data"))).unwrap();
        let mut store = Store::open(&config.data_dir).unwrap();
        import(
            &mut store,
            &config,
            &src,
            &ImportOptions::default(),
            &mut (),
        )
        .unwrap();
        let theme = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
        let (keymap, errors) = Keymap::load(None, None);
        assert!(errors.is_empty());
        (App::new(store, theme, keymap).unwrap(), dir)
    }

    fn draw(app: &mut App, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| app.render(f.area(), f.buffer_mut()))
            .unwrap();
        terminal.backend().to_string()
    }

    #[test]
    fn single_workspace_opens_its_tree() {
        let (mut app, _dir) = app_with_workspace();
        assert_eq!(app.focus, Focus::Tree);
        insta::assert_snapshot!("tree_100x30", draw(&mut app, 100, 30));
        insta::assert_snapshot!("tree_60x20", draw(&mut app, 60, 20));
    }

    #[test]
    fn opening_a_file_shows_it_with_line_numbers() {
        let (mut app, _dir) = app_with_workspace();
        // app/ is the first row: expand it, go to page.tsx, open it.
        assert!(app.update(Action::Open));
        app.update(Action::Down);
        app.update(Action::Down);
        app.update(Action::Open);
        assert_eq!(app.focus, Focus::Viewer);
        assert_eq!(
            app.viewer.as_ref().map(|v| v.path.as_str()),
            Some("app/page.tsx")
        );
        insta::assert_snapshot!("viewer_100x30", draw(&mut app, 100, 30));
        insta::assert_snapshot!("viewer_60x20", draw(&mut app, 60, 20));
        // Back returns to the tree, quit ends the loop.
        app.update(Action::Back);
        assert_eq!(app.focus, Focus::Tree);
        app.update(Action::Quit);
        assert!(app.quit);
    }

    #[test]
    fn help_lists_the_active_bindings() {
        let (mut app, _dir) = app_with_workspace();
        app.update(Action::Help);
        let screen = draw(&mut app, 100, 30);
        assert!(screen.contains("quit kollega"));
        insta::assert_snapshot!("help_100x30", screen);
        insta::assert_snapshot!("help_60x20", draw(&mut app, 60, 20));
        app.update(Action::Down);
        assert!(!app.help);
    }

    #[test]
    fn focus_cycles_through_open_panes() {
        let (mut app, _dir) = app_with_workspace();
        app.update(Action::FocusNext);
        assert_eq!(app.focus, Focus::Workspaces);
        app.update(Action::FocusPrev);
        assert_eq!(app.focus, Focus::Tree);
        app.update(Action::Back);
        assert_eq!(app.focus, Focus::Workspaces);
        insta::assert_snapshot!("workspaces_60x20", draw(&mut app, 60, 20));
    }
}
