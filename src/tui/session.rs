//! How an open workspace comes back after a crash: the editor state (tabs,
//! cursors, scroll, focus) and the drafts of the last run, rebuilt into
//! tabs over the files as they are saved now.
//!
//! Loading reads the store and the files (off the UI task); rebuilding is
//! a pure function of what was read. A draft whose file changed since it
//! was taken is not applied but offered beside the saved text.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::panes::editor::{ConflictKind, DraftConflict, Tab};
use crate::editor::buffer::{Buffer, Selection};
use crate::editor::highlight::Highlighter;
use crate::store::drafts::Draft;
use crate::workspace::files::content_hash;

/// What is stored of the editor between runs, per workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EditorState {
    pub tabs: Vec<TabState>,
    pub active: usize,
    pub focus: String,
    /// The AI pane's prompt, typed and not sent yet.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prompt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TabState {
    pub path: String,
    pub anchor: usize,
    pub head: usize,
    pub top: usize,
}

impl EditorState {
    pub fn of(tabs: &[Tab], active: usize, focus: &str, prompt: String) -> EditorState {
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
            prompt,
        }
    }

    /// The stored JSON, or the empty state when there is none or it does
    /// not read (a newer or damaged row never stops a workspace opening).
    pub fn parse(json: Option<&str>) -> EditorState {
        json.and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }
}

/// What the last run left: its editor state and its drafts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stored {
    pub state: EditorState,
    pub drafts: Vec<Draft>,
    /// Why something could not be read.
    pub notes: Vec<String>,
}

impl Stored {
    /// The files to read: every tab of the last run, then every draft
    /// without a tab, by path.
    pub fn wanted(&self) -> Vec<String> {
        let mut wanted: Vec<String> = self.state.tabs.iter().map(|t| t.path.clone()).collect();
        let mut extra: Vec<String> = self
            .drafts
            .iter()
            .map(|d| d.path.clone())
            .filter(|p| !wanted.contains(p))
            .collect();
        extra.sort();
        extra.dedup();
        wanted.extend(extra);
        wanted
    }
}

/// The saved text of each wanted file (`None`: no such file), or why it
/// could not be read.
pub(crate) type Texts = HashMap<String, Result<Option<String>, String>>;

/// The tabs the last run had, the active one, the focus and notes for the
/// status bar. Every draft comes back: in its tab, or in a tab of its own.
pub(crate) struct Restored {
    pub tabs: Vec<Tab>,
    pub active: usize,
    pub focus: Option<String>,
    /// The AI pane's unsent prompt of the last run.
    pub prompt: String,
    pub notes: Vec<String>,
}

pub(crate) fn restore(stored: Stored, mut texts: Texts, highlighter: &Highlighter) -> Restored {
    let wanted = stored.wanted();
    let Stored {
        state,
        drafts,
        mut notes,
    } = stored;
    let mut drafts: HashMap<String, Draft> =
        drafts.into_iter().map(|d| (d.path.clone(), d)).collect();
    let mut tabs = Vec::new();
    for path in wanted {
        let saved = match texts.remove(&path) {
            Some(Ok(saved)) => saved,
            Some(Err(e)) => {
                notes.push(format!("cannot reopen {path}: {e}"));
                continue;
            }
            None => None,
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
                tab.buffer.restore_draft(&draft.content);
            } else if draft.content != saved.as_deref().unwrap_or_default() {
                notes.push(format!("{path} changed after its draft was taken: the saved file is shown, the draft is offered"));
                tab.conflict = Some(DraftConflict {
                    other: draft.content,
                    kind: ConflictKind::StaleDraft,
                });
            }
        }
        if let Some(ts) = state.tabs.iter().find(|t| t.path == path) {
            let len = tab.buffer.len_chars();
            tab.buffer
                .set_selection(Selection::new(ts.anchor.min(len), ts.head.min(len)));
            tab.top = ts.top.min(tab.buffer.len_lines().saturating_sub(1));
        }
        tab.cache_version = tab.buffer.version();
        tabs.push(tab);
    }
    Restored {
        active: state.active.min(tabs.len().saturating_sub(1)),
        tabs,
        focus: (!state.focus.is_empty()).then_some(state.focus),
        prompt: state.prompt,
        notes,
    }
}
