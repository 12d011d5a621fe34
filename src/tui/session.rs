//! The open workspace: where its files live, its tabs, and how they come
//! back after a crash.
//!
//! A session reads and writes files through [`Files`] (the store for a
//! SQLite workspace, the folder for one opened from disk). Restoring puts
//! back the tabs, cursors and scroll of the last run and the unsaved text
//! of every draft; a draft whose file changed since it was taken is not
//! applied but offered beside the saved text.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::editor::buffer::{Buffer, Selection};
use crate::editor::highlight::{HighlightCache, Highlighter};
use crate::store::{self, Store};
use crate::workspace::disk::DiskWorkspace;

/// Where a session's files are stored.
pub(crate) enum Files {
    Sqlite { id: i64 },
    Dir(DiskWorkspace),
}

impl Files {
    pub fn storage_label(&self) -> &'static str {
        match self {
            Files::Sqlite { .. } => "sqlite",
            Files::Dir(_) => "dir",
        }
    }

    pub fn list(&self, store: &Store, ignored: &[String]) -> Result<Vec<String>, String> {
        match self {
            Files::Sqlite { id } => store::files::list(&store.conn, *id)
                .map(|files| files.into_iter().map(|f| f.path).collect())
                .map_err(|e| e.to_string()),
            Files::Dir(disk) => Ok(disk.list(ignored)),
        }
    }

    /// The saved content of `path`; `Ok(None)` when there is no such file.
    pub fn read(&self, store: &Store, path: &str) -> Result<Option<String>, String> {
        match self {
            Files::Sqlite { id } => {
                store::files::content(&store.conn, *id, path).map_err(|e| e.to_string())
            }
            Files::Dir(disk) => match disk.read(path) {
                Ok(text) => Ok(Some(text)),
                Err(crate::workspace::disk::DiskError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    Ok(None)
                }
                Err(e) => Err(e.to_string()),
            },
        }
    }
}

pub(crate) fn content_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Two versions of a file that kollega will not choose between alone: the
/// buffer, and `other`. The user takes `other` (undoably) or keeps the
/// buffer.
#[derive(Debug, Clone)]
pub(crate) struct DraftConflict {
    pub other: String,
    pub kind: ConflictKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConflictKind {
    /// The buffer shows the saved file; `other` is a draft taken from an
    /// older version of it. The draft stays stored until decided.
    StaleDraft,
    /// The buffer holds unsaved typing; `other` is what another program
    /// just saved to disk.
    ChangedOnDisk,
}

pub(crate) struct Tab {
    pub path: String,
    pub buffer: Buffer,
    /// SHA-256 of the saved content the buffer was loaded from; `None` for
    /// a file not saved yet.
    pub base_hash: Option<String>,
    pub top: usize,
    pub left: usize,
    pub cache: HighlightCache,
    pub cache_version: u64,
    pub conflict: Option<DraftConflict>,
    /// Buffer version the last autosave snapshot carried.
    pub sent_version: Option<u64>,
    /// The first line an edit touched since the last frame: highlighting
    /// above it is still good.
    pub edited_from: Option<usize>,
}

impl Tab {
    pub fn new(path: String, saved: Option<&str>, highlighter: &Highlighter) -> Tab {
        let buffer = Buffer::from_text(saved.unwrap_or(""));
        Tab {
            cache: highlighter.cache_for(&path),
            cache_version: buffer.version(),
            base_hash: saved.map(content_hash),
            path,
            buffer,
            top: 0,
            left: 0,
            conflict: None,
            sent_version: None,
            edited_from: None,
        }
    }

    /// Records that an edit touched `line`.
    pub fn touch(&mut self, line: usize) {
        self.edited_from = Some(self.edited_from.map_or(line, |l| l.min(line)));
    }

    /// The line where the selection starts.
    pub fn selection_line(&self) -> usize {
        self.buffer.char_to_line(self.buffer.selection().start())
    }

    /// Dirty against the saved file, or a file never saved.
    pub fn is_dirty(&self) -> bool {
        self.buffer.is_dirty() || self.base_hash.is_none()
    }

    /// Keeps the cursor inside a window of `height` lines and `width` columns.
    pub fn scroll_to_cursor(&mut self, height: usize, width: usize) {
        let (line, col) = self.buffer.cursor_line_col();
        let height = height.max(1);
        if line < self.top {
            self.top = line;
        } else if line >= self.top + height {
            self.top = line + 1 - height;
        }
        let width = width.max(1);
        if col < self.left {
            self.left = col;
        } else if col >= self.left + width {
            self.left = col + 1 - width;
        }
    }
}

/// What is stored of the editor between runs, per workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EditorState {
    pub tabs: Vec<TabState>,
    pub active: usize,
    pub focus: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TabState {
    pub path: String,
    pub anchor: usize,
    pub head: usize,
    pub top: usize,
}

impl EditorState {
    pub fn of(tabs: &[Tab], active: usize, focus: &str) -> EditorState {
        EditorState {
            tabs: tabs
                .iter()
                .map(|t| {
                    let sel = t.buffer.selection();
                    TabState {
                        path: t.path.clone(),
                        anchor: sel.anchor,
                        head: sel.head,
                        top: t.top,
                    }
                })
                .collect(),
            active,
            focus: focus.to_string(),
        }
    }
}

/// Rebuilds the tabs of the last run from the stored editor state and
/// drafts. Every draft comes back: in its tab, or in a tab of its own.
pub(crate) fn restore(
    store: &Store,
    files: &Files,
    key: &str,
    highlighter: &Highlighter,
) -> (Vec<Tab>, usize, Option<String>, Vec<String>) {
    let mut notes = Vec::new();
    let state: EditorState = store::editor_state::load(&store.conn, key)
        .ok()
        .flatten()
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    let drafts = store::drafts::list(&store.conn, key).unwrap_or_else(|e| {
        notes.push(format!("cannot read drafts: {e}"));
        Vec::new()
    });
    let mut drafts: HashMap<String, store::drafts::Draft> =
        drafts.into_iter().map(|d| (d.path.clone(), d)).collect();

    let mut tabs = Vec::new();
    let mut wanted: Vec<(String, Option<&TabState>)> = state
        .tabs
        .iter()
        .map(|t| (t.path.clone(), Some(t)))
        .collect();
    let mut extra: Vec<String> = drafts
        .keys()
        .filter(|p| !state.tabs.iter().any(|t| &t.path == *p))
        .cloned()
        .collect();
    extra.sort();
    wanted.extend(extra.into_iter().map(|p| (p, None)));

    for (path, tab_state) in wanted {
        let saved = match files.read(store, &path) {
            Ok(saved) => saved,
            Err(e) => {
                notes.push(format!("cannot reopen {path}: {e}"));
                continue;
            }
        };
        let draft = drafts.remove(&path);
        if saved.is_none() && draft.is_none() {
            // The file is gone and nothing unsaved was in it.
            continue;
        }
        let mut tab = Tab::new(path.clone(), saved.as_deref(), highlighter);
        if let Some(draft) = draft {
            let current = saved.as_deref().map(content_hash);
            if draft.base_hash == current {
                // The draft was taken from what is saved now: apply it.
                tab.buffer = Buffer::from_text(saved.as_deref().unwrap_or(""));
                tab.buffer.select_all();
                tab.buffer.paste(&draft.content);
                tab.buffer.commit_group();
            } else if draft.content != saved.as_deref().unwrap_or_default() {
                notes.push(format!("{path} changed after its draft was taken: the saved file is shown, the draft is offered"));
                tab.conflict = Some(DraftConflict {
                    other: draft.content,
                    kind: ConflictKind::StaleDraft,
                });
            }
        }
        if let Some(ts) = tab_state {
            let len = tab.buffer.len_chars();
            tab.buffer
                .set_selection(Selection::new(ts.anchor.min(len), ts.head.min(len)));
            tab.top = ts.top.min(tab.buffer.len_lines().saturating_sub(1));
        }
        tab.cache_version = tab.buffer.version();
        tabs.push(tab);
    }
    let active = state.active.min(tabs.len().saturating_sub(1));
    let focus = (!state.focus.is_empty()).then_some(state.focus);
    (tabs, active, focus, notes)
}
