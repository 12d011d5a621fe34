//! The review pane: a stored patch, file by file and hunk by hunk, with
//! `git add -p`'s keys. `y` accepts the selected hunk and `n` rejects it
//! (with an optional reason the model gets back), `s` splits it, `e` edits
//! its result, `a`/`d` decide the rest of the file, `w` writes the
//! accepted hunks. Every decision is an effect the app stores at once, so
//! a restart finds the review where it was left.
//!
//! The hunks show in the diff view of the changes pane, unified or side
//! by side (side by side from [`SIDE_BY_SIDE_WIDTH`] columns, switchable),
//! with syntax colours and the changed words marked.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};
use ratatui_textarea::TextArea;
use similar::{Algorithm, DiffTag, capture_diff_slices};

use super::diff::DiffView;
use super::prompt::PromptKind;
use super::{frame, inner, popup};
use crate::editor::highlight::Highlighter;
use crate::patch::{DiffLine, FilePatch, FileStatus, Hunk, LineKind, Patch};
use crate::store::patches::{Decision, HunkDecision, PatchRow, PatchStatus};
use crate::tui::app::{Effect, Outcome};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;

/// From this many columns the pane shows old and new side by side.
pub(crate) const SIDE_BY_SIDE_WIDTH: u16 = 120;

/// What the review asks the app to store or do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReviewOp {
    /// Record the decision on hunk `at` (file, hunk).
    Decide {
        patch_id: i64,
        at: (usize, usize),
        decision: Decision,
        reason: Option<String>,
    },
    /// Hunk `at` became `parts` hunks (split, or 1 when edited); `diff`
    /// is the whole patch rewritten with them.
    Replace {
        patch_id: i64,
        at: (usize, usize),
        parts: usize,
        diff: String,
    },
    /// Write the accepted hunks to the workspace.
    Write { patch_id: i64 },
    /// Leave the review.
    Leave,
}

/// A hunk's result being edited.
pub(crate) struct HunkEdit {
    at: (usize, usize),
    input: TextArea<'static>,
}

pub(crate) struct ReviewPane {
    pub patch_id: i64,
    pub title: String,
    pub status: PatchStatus,
    files: Vec<FilePatch>,
    /// Per file, per hunk: the decision and the reason of a rejection.
    decisions: Vec<Vec<(Decision, Option<String>)>>,
    /// The selected file; its hunks are in `view`.
    file: usize,
    view: Option<DiffView>,
    /// Side by side or unified as chosen with a key; by width otherwise.
    layout: Option<bool>,
    pub editing: Option<HunkEdit>,
    list_top: usize,
    /// Files the patch adds that look like existing ones, shown above the
    /// file list.
    pub warnings: Vec<String>,
}

impl ReviewPane {
    /// The review of `row` with its stored `decisions`; an error names the
    /// patch when its diff does not parse.
    pub fn new(
        row: &PatchRow,
        decisions: &[HunkDecision],
        highlighter: &Highlighter,
    ) -> Result<ReviewPane, String> {
        let patch = crate::patch::parse(row.diff.as_bytes()).map_err(|e| {
            format!(
                "patch {} does not parse ({e}); `kollega patch show {}` prints it",
                row.id, row.id
            )
        })?;
        let mut table: Vec<Vec<(Decision, Option<String>)>> = patch
            .files
            .iter()
            .map(|f| vec![(Decision::Pending, None); f.hunks.len()])
            .collect();
        for d in decisions {
            if let Some(slot) = table
                .get_mut(d.file_index)
                .and_then(|f| f.get_mut(d.hunk_index))
            {
                *slot = (d.decision, d.reason.clone());
            }
        }
        let mut pane = ReviewPane {
            patch_id: row.id,
            title: row.title.clone(),
            status: row.status,
            files: patch.files,
            decisions: table,
            file: 0,
            view: None,
            layout: None,
            editing: None,
            list_top: 0,
            warnings: Vec::new(),
        };
        pane.show_file(0, 0, highlighter);
        // Start at the first hunk still to decide.
        if let Some((f, h)) = pane.next_pending((0, 0)) {
            pane.show_file(f, h, highlighter);
        }
        Ok(pane)
    }

    /// The selected file and hunk.
    pub fn at(&self) -> (usize, usize) {
        (self.file, self.view.as_ref().map_or(0, |v| v.selected))
    }

    pub fn decision(&self, (file, hunk): (usize, usize)) -> Option<&(Decision, Option<String>)> {
        self.decisions.get(file).and_then(|f| f.get(hunk))
    }

    pub fn hunk_count(&self, file: usize) -> usize {
        self.files.get(file).map_or(0, |f| f.hunks.len())
    }

    /// Hunks accepted so far over the whole patch.
    pub fn accepted(&self) -> usize {
        self.decisions
            .iter()
            .flatten()
            .filter(|(d, _)| *d == Decision::Accepted)
            .count()
    }

    pub fn side_by_side(&self) -> bool {
        self.view.as_ref().is_some_and(DiffView::side_by_side)
    }

    fn show_file(&mut self, file: usize, hunk: usize, highlighter: &Highlighter) {
        let Some(patch) = self.files.get(file) else {
            self.view = None;
            return;
        };
        let keep = self.view.as_ref().map(DiffView::side_by_side);
        if self.file != file || self.view.is_none() {
            let mut view = DiffView::new(patch.clone(), false, highlighter);
            if let Some(on) = keep {
                view.set_side_by_side(on);
            }
            self.view = Some(view);
            self.file = file;
        }
        if let Some(view) = &mut self.view {
            view.select_hunk(hunk);
        }
    }

    /// The first pending hunk at or after `from`, wrapping around.
    fn next_pending(&self, from: (usize, usize)) -> Option<(usize, usize)> {
        let all: Vec<(usize, usize)> = self
            .decisions
            .iter()
            .enumerate()
            .flat_map(|(f, hunks)| (0..hunks.len()).map(move |h| (f, h)))
            .collect();
        let start = all.iter().position(|at| *at >= from).unwrap_or(0);
        all[start..]
            .iter()
            .chain(&all[..start])
            .copied()
            .find(|&(f, h)| self.decisions[f][h].0 == Decision::Pending)
    }

    /// Every hunk in order, as (file, hunk).
    fn flat(&self) -> Vec<(usize, usize)> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(f, file)| (0..file.hunks.len()).map(move |h| (f, h)))
            .collect()
    }

    /// Moves to another hunk, across files.
    fn step(&mut self, action: Action, highlighter: &Highlighter) -> bool {
        let flat = self.flat();
        if flat.is_empty() {
            return false;
        }
        let here = flat.iter().position(|at| *at == self.at()).unwrap_or(0);
        let Some(to) = super::moved(here, flat.len(), 1, action) else {
            return false;
        };
        let (file, hunk) = flat[to];
        self.show_file(file, hunk, highlighter);
        to != here
    }

    /// Records `decision` on the hunk at `at` and moves to the next
    /// pending hunk.
    pub fn decide(
        &mut self,
        at: (usize, usize),
        decision: Decision,
        reason: Option<String>,
        highlighter: &Highlighter,
    ) -> Outcome {
        let Some(slot) = self.decisions.get_mut(at.0).and_then(|f| f.get_mut(at.1)) else {
            return Outcome::Ignored;
        };
        let reason = reason.filter(|r| !r.trim().is_empty());
        *slot = (decision, reason.clone());
        let op = ReviewOp::Decide {
            patch_id: self.patch_id,
            at,
            decision,
            reason,
        };
        self.advance(at, highlighter);
        Outcome::Effect(Effect::Review(op))
    }

    /// After a decision: the next pending hunk, or the next hunk if all
    /// are decided.
    fn advance(&mut self, at: (usize, usize), highlighter: &Highlighter) {
        let flat = self.flat();
        let after = flat
            .iter()
            .position(|x| *x == at)
            .and_then(|i| flat.get(i + 1))
            .copied()
            .unwrap_or(at);
        let (f, h) = self.next_pending(after).unwrap_or(after);
        self.show_file(f, h, highlighter);
    }

    /// Decides the selected hunk and the file's later pending hunks.
    fn decide_rest(&mut self, decision: Decision, highlighter: &Highlighter) -> Outcome {
        let (file, from) = self.at();
        let Some(hunks) = self.decisions.get_mut(file) else {
            return Outcome::Ignored;
        };
        let mut effects = Vec::new();
        for (h, slot) in hunks.iter_mut().enumerate().skip(from) {
            if h == from || slot.0 == Decision::Pending {
                *slot = (decision, None);
                effects.push(Effect::Review(ReviewOp::Decide {
                    patch_id: self.patch_id,
                    at: (file, h),
                    decision,
                    reason: None,
                }));
            }
        }
        let last = (file, self.hunk_count(file).saturating_sub(1));
        self.advance(last, highlighter);
        Outcome::Effects(effects)
    }

    /// The whole patch as text, as the store keeps it.
    fn diff_text(&self) -> String {
        Patch {
            files: self.files.clone(),
        }
        .to_unified()
    }

    /// Puts `hunks` in place of the hunk at `at`, pending; the op that
    /// stores it.
    fn replace(
        &mut self,
        at: (usize, usize),
        hunks: Vec<Hunk>,
        highlighter: &Highlighter,
    ) -> Outcome {
        let parts = hunks.len();
        let (Some(file), Some(decisions)) =
            (self.files.get_mut(at.0), self.decisions.get_mut(at.0))
        else {
            return Outcome::Ignored;
        };
        file.hunks.splice(at.1..=at.1, hunks);
        decisions.splice(at.1..=at.1, vec![(Decision::Pending, None); parts]);
        self.view = None;
        self.show_file(at.0, at.1, highlighter);
        Outcome::Effect(Effect::Review(ReviewOp::Replace {
            patch_id: self.patch_id,
            at,
            parts,
            diff: self.diff_text(),
        }))
    }

    fn selected_hunk(&self) -> Option<&Hunk> {
        let (f, h) = self.at();
        self.files.get(f).and_then(|file| file.hunks.get(h))
    }

    pub fn update(&mut self, action: Action, highlighter: &Highlighter) -> Outcome {
        if action.is_movement() {
            if let (Action::PageUp | Action::PageDown, Some(view)) = (action, &mut self.view) {
                view.scroll(if action == Action::PageDown { 1 } else { -1 });
                return Outcome::Redraw;
            }
            return if self.step(action, highlighter) {
                Outcome::Redraw
            } else {
                Outcome::Ignored
            };
        }
        let at = self.at();
        if self.selected_hunk().is_none() && action != Action::Back {
            return Outcome::Effect(Effect::Notify("this patch has no hunks".into(), true));
        }
        match action {
            Action::AcceptHunk => self.decide(at, Decision::Accepted, None, highlighter),
            Action::RejectHunk => Outcome::prompt(
                PromptKind::RejectReason {
                    patch_id: self.patch_id,
                    file: at.0,
                    hunk: at.1,
                },
                self.decision(at)
                    .and_then(|(_, r)| r.clone())
                    .as_deref()
                    .unwrap_or(""),
            ),
            Action::AcceptRest => self.decide_rest(Decision::Accepted, highlighter),
            Action::RejectRest => self.decide_rest(Decision::Rejected, highlighter),
            Action::SplitHunk => {
                let Some(pieces) = self.selected_hunk().map(Hunk::split) else {
                    return Outcome::Ignored;
                };
                if pieces.len() < 2 {
                    return Outcome::Effect(Effect::Notify(
                        "this hunk has one run of changes: it does not split further (e edits it)"
                            .into(),
                        false,
                    ));
                }
                self.replace(at, pieces, highlighter)
            }
            Action::EditHunk => {
                let Some(hunk) = self.selected_hunk() else {
                    return Outcome::Ignored;
                };
                let mut input = TextArea::new(new_side(hunk));
                input.set_cursor_line_style(Style::default());
                self.editing = Some(HunkEdit { at, input });
                Outcome::Redraw
            }
            Action::WritePatch if self.accepted() == 0 => Outcome::Effect(Effect::Notify(
                "no hunk is accepted yet: y accepts the selected one".into(),
                true,
            )),
            Action::WritePatch => Outcome::Effect(Effect::Review(ReviewOp::Write {
                patch_id: self.patch_id,
            })),
            Action::ToggleSideBySide => {
                let on = !self.side_by_side();
                self.layout = Some(on);
                if let Some(view) = &mut self.view {
                    view.set_side_by_side(on);
                }
                Outcome::Redraw
            }
            Action::Back => Outcome::Effect(Effect::Review(ReviewOp::Leave)),
            _ => Outcome::Ignored,
        }
    }

    /// A key while a hunk's result is edited: `action` is what the
    /// `[compose]` table binds it to; a key bound to nothing is typed.
    pub fn edit_key(
        &mut self,
        action: Option<Action>,
        key: KeyEvent,
        highlighter: &Highlighter,
    ) -> Outcome {
        let Some(edit) = &mut self.editing else {
            return Outcome::Ignored;
        };
        match action {
            Some(Action::Back) => {
                self.editing = None;
                Outcome::Redraw
            }
            Some(Action::Submit) => {
                let Some(edit) = self.editing.take() else {
                    return Outcome::Ignored;
                };
                let Some(hunk) = self
                    .files
                    .get(edit.at.0)
                    .and_then(|f| f.hunks.get(edit.at.1))
                else {
                    return Outcome::Ignored;
                };
                let edited = edited_hunk(hunk, edit.input.lines());
                if edited == *hunk {
                    return Outcome::Effect(Effect::Notify("the hunk is unchanged".into(), false));
                }
                if edited.lines.iter().all(|l| l.kind == LineKind::Context) {
                    return Outcome::Effect(Effect::Notify(
                        "the edit leaves no change: n rejects the hunk instead".into(),
                        true,
                    ));
                }
                self.replace(edit.at, vec![edited], highlighter)
            }
            _ => {
                edit.input.input(key);
                Outcome::Redraw
            }
        }
    }

    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        highlighter: &Highlighter,
        theme: &Theme,
    ) {
        let (list, diff) = if area.width >= 100 {
            let width = (area.width / 3).min(44);
            (
                Rect { width, ..area },
                Rect {
                    x: area.x + width,
                    width: area.width - width,
                    ..area
                },
            )
        } else {
            let height = (self.files.len() as u16 + 2).min(area.height / 3).max(3);
            (
                Rect { height, ..area },
                Rect {
                    y: area.y + height,
                    height: area.height.saturating_sub(height),
                    ..area
                },
            )
        };
        self.render_files(list, buf, theme);
        let side_by_side = self.layout.unwrap_or(area.width >= SIDE_BY_SIDE_WIDTH);
        let status = self.status;
        let (file, _) = self.at();
        let count = self.hunk_count(file);
        let notes: Vec<Option<(String, &'static str)>> = self
            .decisions
            .get(file)
            .map(|hunks| hunks.iter().map(note).collect())
            .unwrap_or_default();
        let Some(view) = &mut self.view else {
            frame(" no files in this patch ", focused, theme).render(diff, buf);
            return;
        };
        view.set_side_by_side(side_by_side);
        view.notes = notes;
        let state = match status {
            PatchStatus::Pending => String::new(),
            other => format!(" [{}]", other.as_str()),
        };
        view.title = Some(format!(
            " #{} {}{state} — {} (hunk {}/{count}) ",
            self.patch_id,
            crate::tui::ansi::strip(&self.title),
            view.patch.path(),
            view.selected + 1,
        ));
        view.render(
            diff,
            buf,
            focused && self.editing.is_none(),
            highlighter,
            theme,
        );
        if let Some(edit) = &self.editing {
            let rows = (edit.input.lines().len() as u16 + 3).max(6);
            let pop = popup(diff, diff.width.saturating_sub(4).max(20), rows, 3);
            Clear.render(pop, buf);
            frame(
                " edit the hunk's result (ctrl-s keeps it, esc drops it) ",
                true,
                theme,
            )
            .render(pop, buf);
            edit.input.render(inner(pop), buf);
        }
    }

    fn render_files(&mut self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        frame(&format!(" Files ({}) ", self.files.len()), false, theme).render(area, buf);
        let mut body = inner(area);
        // Duplicate warnings first, a row each (at most half the list).
        let shown = self.warnings.len().min(usize::from(body.height / 2));
        for (row, warning) in self.warnings.iter().take(shown).enumerate() {
            let text = super::fit(&format!("! {warning}"), usize::from(body.width), false);
            buf.set_stringn(
                body.x,
                body.y + row as u16,
                text,
                usize::from(body.width),
                theme.ui("warning"),
            );
        }
        body.y += shown as u16;
        body.height -= shown as u16;
        let height = usize::from(body.height.max(1));
        if self.file < self.list_top {
            self.list_top = self.file;
        } else if self.file >= self.list_top + height {
            self.list_top = self.file + 1 - height;
        }
        let lines: Vec<Line> = self
            .files
            .iter()
            .zip(&self.decisions)
            .enumerate()
            .skip(self.list_top)
            .take(height)
            .map(|(i, (file, decisions))| {
                let (added, removed) = file.line_counts();
                let count = |d: Decision| decisions.iter().filter(|(x, _)| *x == d).count();
                let (yes, no) = (count(Decision::Accepted), count(Decision::Rejected));
                let letter = match file.status {
                    FileStatus::Added => "A",
                    FileStatus::Deleted => "D",
                    FileStatus::Modified => "M",
                    FileStatus::Renamed => "R",
                    FileStatus::Copied => "C",
                };
                let path = match (&file.old_path, file.status) {
                    (Some(old), FileStatus::Renamed | FileStatus::Copied) => {
                        format!("{old} → {}", file.path())
                    }
                    _ => file.path().to_string(),
                };
                let selected = i == self.file;
                let base = if selected {
                    theme.ui("selection")
                } else {
                    theme.ui("foreground")
                };
                let tally = format!(
                    " +{added} -{removed} ✓{yes} ✗{no} ·{}",
                    decisions.len() - yes - no
                );
                Line::from(vec![
                    Span::styled(if selected { "▌" } else { " " }, base),
                    Span::styled(
                        format!("{letter} "),
                        base.patch(status_style(file.status, theme)),
                    ),
                    Span::styled(path, base),
                    Span::styled(tally, if selected { base } else { theme.ui("muted") }),
                ])
                .style(base)
            })
            .collect();
        Paragraph::new(lines).render(body, buf);
    }
}

/// A hunk's decision as its `@@` line shows it.
fn note((decision, reason): &(Decision, Option<String>)) -> Option<(String, &'static str)> {
    match decision {
        Decision::Pending => None,
        Decision::Accepted => Some(("✓ accepted".into(), "diff_added")),
        Decision::Rejected => Some((
            match reason {
                Some(r) => format!("✗ rejected: {}", crate::tui::ansi::strip(r)),
                None => "✗ rejected".into(),
            },
            "error",
        )),
    }
}

fn status_style(status: FileStatus, theme: &Theme) -> Style {
    match status {
        FileStatus::Added => theme.ui("diff_added"),
        FileStatus::Deleted => theme.ui("diff_removed"),
        _ => theme.ui("title"),
    }
}

/// The new side of a hunk: its context and added lines.
fn new_side(hunk: &Hunk) -> Vec<String> {
    hunk.lines
        .iter()
        .filter(|l| l.kind != LineKind::Removed)
        .map(|l| l.text().to_string())
        .collect()
}

/// `hunk` with its new side replaced by `new`: the old side stays, and
/// the lines are diffed again, so the hunk still applies where it did.
pub(crate) fn edited_hunk(hunk: &Hunk, new: &[String]) -> Hunk {
    let old: Vec<&DiffLine> = hunk
        .lines
        .iter()
        .filter(|l| l.kind != LineKind::Added)
        .collect();
    let old_texts: Vec<&str> = old.iter().map(|l| l.text()).collect();
    let new_texts: Vec<&str> = new.iter().map(String::as_str).collect();
    let ends_bare = hunk
        .lines
        .iter()
        .rev()
        .find(|l| l.kind != LineKind::Removed)
        .is_some_and(|l| l.no_newline_at_end);
    let mut lines = Vec::with_capacity(old.len() + new.len());
    for op in capture_diff_slices(Algorithm::Myers, &old_texts, &new_texts) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => lines.extend(old_range.map(|i| old[i].clone()).map(|mut l| {
                l.kind = LineKind::Context;
                l
            })),
            DiffTag::Delete | DiffTag::Replace | DiffTag::Insert => {
                lines.extend(old_range.map(|i| {
                    let mut l = old[i].clone();
                    l.kind = LineKind::Removed;
                    l
                }));
                lines.extend(new_range.map(|i| {
                    let mut l = DiffLine::new(LineKind::Added, new[i].clone());
                    l.no_newline_at_end = ends_bare && i + 1 == new.len();
                    l
                }));
            }
        }
    }
    Hunk {
        old_start: hunk.old_start,
        old_lines: old.len() as u32,
        new_start: hunk.new_start,
        new_lines: new.len() as u32,
        header: hunk.header.clone(),
        lines,
    }
}

#[cfg(test)]
mod tests;
