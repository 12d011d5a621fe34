//! The file tree pane of the open workspace: folders expand and collapse.

use std::collections::{HashMap, HashSet};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::prompt::{ConfirmKind, PromptKind};
use super::{fit, frame, inner, moved, scroll_for};
use crate::tui::app::{Effect, Focus, Outcome};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;
use crate::workspace::tree::FileNode;

/// One visible row of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub depth: usize,
    pub name: String,
    pub path: String,
    pub is_dir: bool,
}

pub(crate) struct TreePane {
    nodes: Vec<FileNode>,
    expanded: HashSet<String>,
    pub rows: Vec<Row>,
    pub selected: usize,
    page: u16,
}

impl TreePane {
    pub fn new(nodes: Vec<FileNode>) -> TreePane {
        let mut pane = TreePane {
            nodes,
            expanded: HashSet::new(),
            rows: Vec::new(),
            selected: 0,
            page: 10,
        };
        pane.rebuild();
        pane
    }

    /// Shows a new listing, keeping open folders and the selected path.
    pub fn replace(&mut self, nodes: Vec<FileNode>) {
        let selected = self.rows.get(self.selected).map(|r| r.path.clone());
        self.nodes = nodes;
        self.rebuild();
        if let Some(path) = selected
            && let Some(i) = self.rows.iter().position(|r| r.path == path)
        {
            self.selected = i;
        }
    }

    /// Selects the row at `offset` from the top of the pane; a click on a
    /// folder opens or closes it.
    pub fn click(&mut self, offset: usize) -> Outcome {
        let index = scroll_for(self.selected, self.page) + offset;
        if index >= self.rows.len() {
            return Outcome::Ignored;
        }
        self.selected = index;
        self.update(Action::Open)
    }

    fn rebuild(&mut self) {
        fn walk(nodes: &[FileNode], depth: usize, expanded: &HashSet<String>, rows: &mut Vec<Row>) {
            for node in nodes {
                let is_dir = matches!(node, FileNode::Dir { .. });
                rows.push(Row {
                    depth,
                    name: node.name().to_string(),
                    path: node.path().to_string(),
                    is_dir,
                });
                if let FileNode::Dir { children, path, .. } = node
                    && expanded.contains(path)
                {
                    walk(children, depth + 1, expanded, rows);
                }
            }
        }
        let mut rows = Vec::new();
        walk(&self.nodes, 0, &self.expanded, &mut rows);
        self.rows = rows;
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    /// The folder a new file or folder goes into: the selected folder, or
    /// the selected file's ("app/").
    fn folder(&self) -> String {
        self.rows
            .get(self.selected)
            .map(|r| {
                if r.is_dir {
                    format!("{}/", r.path)
                } else {
                    r.path
                        .rsplit_once('/')
                        .map(|(d, _)| format!("{d}/"))
                        .unwrap_or_default()
                }
            })
            .unwrap_or_default()
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        let before = self.selected;
        if let Some(selected) = moved(self.selected, self.rows.len(), self.page, action) {
            self.selected = selected;
            return if before == self.selected {
                Outcome::Ignored
            } else {
                Outcome::Redraw
            };
        }
        let selected = self.rows.get(self.selected).cloned();
        match action {
            Action::NewFile => Outcome::prompt(PromptKind::NewFile, &self.folder()),
            Action::NewFolder => Outcome::prompt(PromptKind::NewFolder, &self.folder()),
            Action::Rename => match selected {
                Some(row) => Outcome::prompt(
                    PromptKind::Rename {
                        from: row.path.clone(),
                    },
                    &row.path,
                ),
                None => Outcome::Redraw,
            },
            Action::Delete => match selected {
                Some(row) => {
                    Outcome::Effect(Effect::Confirm(ConfirmKind::Delete { path: row.path }))
                }
                None => Outcome::Redraw,
            },
            Action::Open => {
                let Some(row) = selected else {
                    return Outcome::Ignored;
                };
                if !row.is_dir {
                    return Outcome::Effect(Effect::OpenFile(row.path));
                }
                if !self.expanded.remove(&row.path) {
                    self.expanded.insert(row.path);
                }
                self.rebuild();
                Outcome::Redraw
            }
            Action::Back => {
                let leave = Outcome::Effect(Effect::Focus(Focus::Workspaces));
                let Some(row) = selected else {
                    return leave;
                };
                if row.is_dir && self.expanded.remove(&row.path) {
                    self.rebuild();
                    return Outcome::Redraw;
                }
                // Go to the parent folder, or leave the tree at the top.
                let Some((parent, _)) = row.path.rsplit_once('/') else {
                    return leave;
                };
                if let Some(i) = self.rows.iter().position(|r| r.path == parent) {
                    self.selected = i;
                }
                Outcome::Redraw
            }
            _ => Outcome::Ignored,
        }
    }

    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        open_file: Option<&str>,
        markers: Option<&HashMap<String, char>>,
        theme: &Theme,
    ) {
        let body = inner(area);
        self.page = body.height;
        frame(" Files ", focused, theme).render(area, buf);
        let first = scroll_for(self.selected, body.height);
        let lines: Vec<Line> = self
            .rows
            .iter()
            .enumerate()
            .skip(first)
            .take(usize::from(body.height))
            .map(|(i, row)| {
                let icon = match (row.is_dir, self.expanded.contains(&row.path)) {
                    (true, true) => "▾ ",
                    (true, false) => "▸ ",
                    (false, _) => "  ",
                };
                // A name too long for the pane ends with `…`, never cut
                // silently; the marker column comes off the width.
                let width = usize::from(body.width).saturating_sub(usize::from(markers.is_some()));
                let text = fit(
                    &format!("{}{icon}{}", "  ".repeat(row.depth), row.name),
                    width,
                    false,
                );
                // A git marker (M, A, D, R, ?, !, U, or • for a folder
                // holding changes) leads the row, as in lazygit.
                let marker = markers.and_then(|m| m.get(&row.path).copied());
                let marker_style = match marker {
                    Some('A' | '?') => theme.ui("diff_added"),
                    Some('D' | 'U') => theme.ui("diff_removed"),
                    _ => theme.ui("warning"),
                };
                let marker = Span::styled(
                    marker.map(String::from).unwrap_or_else(|| " ".into()),
                    marker_style,
                );
                let style = if i == self.selected && focused {
                    theme.ui("selection")
                } else if open_file == Some(row.path.as_str()) {
                    theme.ui("title")
                } else if row.is_dir {
                    theme.ui("border_focused")
                } else {
                    theme.ui("foreground")
                };
                if markers.is_some() {
                    Line::from(vec![marker, Span::styled(text, style)])
                } else {
                    Line::styled(text, style)
                }
            })
            .collect();
        Paragraph::new(lines).render(body, buf);
    }
}
