//! Proposed patches from their arrival to the workspace: import (any edit
//! format a model or a tool writes), review decisions and splits, an apply
//! that is atomic across files, and undo and redo of whole applies.
//!
//! A patch is stored as its unified diff (`store::patches`); its hunks are
//! numbered 1..N over the whole patch, in file then hunk order, the
//! numbers `patch show`, `patch apply --hunks` and error messages use.
//! Every apply is a checkpoint (`store::applies`) holding each file before
//! it, and after it as a hash with the hunks applied (the content after is
//! derived again from those), which undo and redo restore only while the
//! files are as the checkpoint left them. A hunk has a decision row only
//! once the review decided it.
//!
//! A workspace is either stored here (files in SQLite, changed in one
//! transaction with the checkpoint) or a folder on disk: the step is
//! journaled in the store first, then each file is written in place
//! (what was written put back when a later write fails), then the step
//! is recorded; a step cut short by a dead process is taken back by
//! `recover` before the next one. An apply may also be
//! committed in its git repository (`commit`). Nothing here knows the
//! terminal; everything is blocking, for the CLI or a blocking task.

pub(crate) mod apply;
mod checkpoint;
mod commit;
mod disk;
mod duplicates;
mod recover;
mod stream;
pub(crate) mod target;
#[cfg(test)]
mod tests;

use crate::error::Hint;
use crate::patch::reply::{self, Edit, ReplyError};
use crate::patch::{Patch, PatchError};
use crate::store::patches::{
    self, Decision, HunkDecision, NewPatch, PatchRow, PatchStatus, Source,
};
use crate::store::{Store, StoreError};
use crate::workspace::disk::DiskError;
use std::borrow::Cow;
use std::sync::Arc;

pub(crate) use apply::{Applied, Selection, apply};
pub(crate) use checkpoint::Restored;
pub(crate) use commit::{apply_and_commit, commits_in, redo, undo};
pub(crate) use duplicates::duplicate_warnings;
pub(crate) use recover::{describe_recovered, recover};
pub(crate) use target::Target;

/// Why a patch could not be imported, applied, undone or redone.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProposalError {
    #[error("no workspace or folder named {0:?}")]
    UnknownWorkspace(String),
    #[error("the workspace of this patch ({0}) is gone")]
    WorkspaceGone(String),
    #[error("the patch text: {0}")]
    Reply(#[from] ReplyError),
    #[error("the patch text: {0}")]
    Diff(#[from] PatchError),
    #[error("the patch changes nothing")]
    Empty,
    #[error("there is no patch {0}")]
    NotFound(i64),
    #[error("patch {id} has {count} hunks; there is no hunk {number}")]
    NoSuchHunk {
        id: i64,
        number: usize,
        count: usize,
    },
    #[error("no hunk of patch {0} is accepted")]
    NothingAccepted(i64),
    #[error("patch {id} was {status} already")]
    NotPending { id: i64, status: &'static str },
    #[error("patch {id} was made for {patch_workspace}, not {workspace}")]
    OtherWorkspace {
        id: i64,
        patch_workspace: String,
        workspace: String,
    },
    #[error(
        "hunk {hunk} of {path} does not apply: {why}\nexpected (from line {line}):\n{expected}\nclosest found{closest}"
    )]
    DoesNotApply {
        path: String,
        /// Its number over the whole patch, 1-based.
        hunk: usize,
        /// Where the hunk said its old lines start, 1-based.
        line: u32,
        why: String,
        /// The hunk's old lines, one per line, each after `  | `.
        expected: String,
        /// ` (line N):` and the closest lines, or `: nothing (the file is empty)`.
        closest: String,
    },
    #[error("{path} cannot be {what}: {why}")]
    File {
        path: String,
        what: &'static str,
        why: String,
    },
    #[error("{path} has changed since the last {what}; {action} it would lose its edits since")]
    ChangedSince {
        path: String,
        what: &'static str,
        action: &'static str,
    },
    #[error("another kollega (pid {pid}) is writing an apply, undo or redo into {workspace}")]
    Writing { workspace: String, pid: i64 },
    #[error("there is nothing to {0} in this workspace")]
    Nothing(&'static str),
    #[error("{0} is not in a git repository: an apply there cannot be committed")]
    NotGit(String),
    #[error("the {step} was written but its commit failed: {source}{}", taken_back_or_not(.left))]
    NotCommitted {
        step: &'static str,
        source: crate::git::GitError,
        /// Why the step could not be taken back, when it could not.
        left: Option<String>,
    },
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    #[error(transparent)]
    Disk(#[from] DiskError),
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    FileEdit(#[from] crate::store::files::FileEditError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn taken_back_or_not(left: &Option<String>) -> String {
    match left {
        None => "; it was taken back, nothing changed".into(),
        Some(why) => format!("; it could not be taken back: {why}"),
    }
}

impl From<rusqlite::Error> for ProposalError {
    fn from(e: rusqlite::Error) -> Self {
        ProposalError::Store(StoreError::Sqlite(e))
    }
}

impl Hint for ProposalError {
    fn hint(&self) -> String {
        match self {
            ProposalError::UnknownWorkspace(_) => {
                "`kollega ls` lists workspaces; pass a folder path for files on disk".into()
            }
            ProposalError::WorkspaceGone(_) => {
                "the workspace was removed or the folder moved; import the patch again where it belongs".into()
            }
            ProposalError::Reply(_) | ProposalError::Diff(_) => {
                "give a unified diff (`git diff`), an apply_patch envelope, search/replace blocks or `=== lines` ranges".into()
            }
            ProposalError::Empty => "there is nothing to review; check the patch text".into(),
            ProposalError::NotFound(_) => "`kollega patch ls <ws>` lists the patches of a workspace".into(),
            ProposalError::NoSuchHunk { id, .. } => {
                format!("`kollega patch show {id}` numbers the hunks")
            }
            ProposalError::NothingAccepted(id) => format!(
                "review it first (`kollega review {id}`), or pass --all or --hunks 1,3 (numbers from `kollega patch show {id}`)"
            ),
            ProposalError::NotPending { .. } => {
                "`kollega undo <ws>` takes an applied patch back; import it again to apply it anew".into()
            }
            ProposalError::OtherWorkspace { .. } => {
                "apply it in the workspace it was made for".into()
            }
            ProposalError::DoesNotApply { .. } => {
                "nothing was changed; the file moved on since the patch was made: edit the hunk, leave it out with --hunks, or ask for the patch again".into()
            }
            ProposalError::File { .. } => {
                "nothing was changed; leave that file's hunks out with --hunks, or fix the file first".into()
            }
            ProposalError::ChangedSince { action, .. } => format!(
                "nothing was changed; save or copy those edits elsewhere and revert the file first if you still want {action} it"
            ),
            ProposalError::Writing { .. } => {
                "nothing was changed; wait for it to finish and try again (a step whose process is gone is taken back on the next try)".into()
            }
            ProposalError::Nothing(_) => {
                "`kollega patch ls <ws>` lists the patches; each apply is one step".into()
            }
            ProposalError::NotGit(_) => {
                "leave out --commit, or `git init` the folder first".into()
            }
            ProposalError::NotCommitted { left: None, source, .. } => source.hint(),
            ProposalError::NotCommitted { left: Some(_), .. } => {
                "the files are as the step left them, uncommitted: commit them with git, or `kollega undo`/`redo` the step".into()
            }
            ProposalError::Git(e) => format!("{}; nothing was changed", e.hint()),
            ProposalError::Disk(e) => format!("{e}; nothing was changed"),
            ProposalError::Io { .. } => {
                "check the folder's permissions and free space; files already written were restored".into()
            }
            ProposalError::FileEdit(e) => e.hint(),
            ProposalError::Store(e) => e.hint(),
        }
    }
}

type Result<T, E = ProposalError> = std::result::Result<T, E>;

/// A stored patch with its parsed diff and the review's decisions.
#[derive(Debug, Clone)]
pub(crate) struct Proposal {
    pub(crate) row: PatchRow,
    pub(crate) patch: Patch,
    pub(crate) decisions: Vec<HunkDecision>,
}

/// One hunk as `patch show` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HunkRef {
    /// 1-based over the whole patch.
    pub(crate) number: usize,
    pub(crate) file_index: usize,
    pub(crate) hunk_index: usize,
    pub(crate) decision: Decision,
    pub(crate) reason: Option<String>,
}

impl Proposal {
    /// Every hunk with its global number and decision, in file then hunk
    /// order. A hunk without a decision row counts as pending.
    pub(crate) fn hunks(&self) -> Vec<HunkRef> {
        let mut out = Vec::new();
        let mut decisions = self.decisions.iter().peekable();
        for (file_index, file) in self.patch.files.iter().enumerate() {
            for hunk_index in 0..file.hunks.len() {
                // Both are in (file, hunk) order: one walk pairs them.
                while decisions
                    .peek()
                    .is_some_and(|d| (d.file_index, d.hunk_index) < (file_index, hunk_index))
                {
                    decisions.next();
                }
                let row = decisions
                    .peek()
                    .filter(|d| (d.file_index, d.hunk_index) == (file_index, hunk_index));
                out.push(HunkRef {
                    number: out.len() + 1,
                    file_index,
                    hunk_index,
                    decision: row.map_or(Decision::Pending, |d| d.decision),
                    reason: row.and_then(|d| d.reason.clone()),
                });
            }
        }
        out
    }

    /// How many hunks the patch has.
    pub(crate) fn hunk_count(&self) -> usize {
        self.patch.files.iter().map(|f| f.hunks.len()).sum()
    }
}

/// What `import` stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Imported {
    pub(crate) id: i64,
    pub(crate) files: usize,
    pub(crate) hunks: usize,
}

/// Reads `text` in any edit format kollega knows, resolves search/replace
/// blocks, envelopes and line ranges against `target`'s current files,
/// and stores the result as a pending patch of `source` named `title`.
///
/// Unified diffs are kept as they came, hunk for hunk, so the review shows
/// the hunks their author made; they are checked against the files only
/// when applied. A text in no known format, or a block that matches
/// nothing, is an error naming the block and why.
pub(crate) fn import(
    store: &mut Store,
    target: &Target,
    text: &str,
    source: Source,
    title: &str,
) -> Result<Imported> {
    let (patch, verbatim) = read_patch(store, target, text, None)?;
    let tx = store.conn.transaction()?;
    let id = store_patch_in(
        &tx,
        &target.key,
        &patch,
        verbatim.then_some(text),
        source,
        title,
        None,
        None,
        None,
    )?;
    tx.commit()?;
    Ok(Imported {
        id,
        files: patch.files.len(),
        hunks: patch.files.iter().map(|f| f.hunks.len()).sum(),
    })
}

/// `text`, in any edit format, as one patch for `target` (see [`import`]),
/// and whether `text` is that patch's diff as it is: a git diff from its
/// first line, read by the diff parser alone, no path changed. Such a
/// text is stored as it came (it parses back to the same patch), not
/// written out again.
/// `shared`, when there is one, holds `text`: a diff's lines point into it.
fn read_patch(
    store: &Store,
    target: &Target,
    text: &str,
    shared: Option<&Arc<String>>,
) -> Result<(Patch, bool)> {
    let edits = match shared {
        Some(shared) => reply::parse_shared_reply(shared)?,
        None => reply::parse_reply(text)?,
    };
    if edits.iter().all(|e| matches!(e, Edit::Diff { .. })) {
        let mut stripped = false;
        let files = edits
            .into_iter()
            .filter_map(|e| match e {
                Edit::Diff { mut patch, .. } => {
                    stripped |= strip_folder_prefix(&mut patch);
                    Some(patch)
                }
                _ => None,
            })
            .collect();
        let verbatim = !stripped && text.starts_with("diff --git ") && !text.contains('\r');
        return Ok((Patch { files }, verbatim));
    }
    let conn = &store.conn;
    let patch = reply::resolve(&edits, |path| {
        target
            .read(conn, path)
            .ok()
            .flatten()
            .map(|content| content.text)
    })?;
    Ok((patch, false))
}

/// `diff -ru old new` names a file `old/x` on one side and `new/x` on
/// the other: both lose their first folder, as `patch -p1` takes them.
/// Whether they did.
fn strip_folder_prefix(file: &mut crate::patch::FilePatch) -> bool {
    let (Some(old), Some(new)) = (&file.old_path, &file.new_path) else {
        return false;
    };
    let (Some((old_top, old_rest)), Some((new_top, new_rest))) =
        (old.split_once('/'), new.split_once('/'))
    else {
        return false;
    };
    let strip = old_top != new_top && old_rest == new_rest && !old_rest.is_empty();
    if strip {
        let rest = old_rest.to_string();
        file.old_path = Some(rest.clone());
        file.new_path = Some(rest);
        if file.status == crate::patch::FileStatus::Renamed {
            file.status = crate::patch::FileStatus::Modified;
        }
    }
    strip
}

/// Stores `patch` for the workspace keyed `workspace_key` (as
/// `store::drafts` keys it), every hunk pending; its id. The
/// ask job calls this with its job and conversation.
#[expect(
    clippy::too_many_arguments,
    reason = "each is a column of the patch row; a struct would only rename them"
)]
pub(crate) fn store_patch(
    store: &mut Store,
    workspace_key: &str,
    patch: &Patch,
    source: Source,
    title: &str,
    message: Option<&str>,
    job_id: Option<i64>,
    conversation_id: Option<i64>,
) -> Result<i64> {
    let tx = store.conn.transaction()?;
    let id = store_patch_in(
        &tx,
        workspace_key,
        patch,
        None,
        source,
        title,
        message,
        job_id,
        conversation_id,
    )?;
    tx.commit()?;
    Ok(id)
}

/// [`store_patch`] inside the caller's transaction; `verbatim`: the text
/// `patch` was parsed from, when it is stored as it is (see
/// [`read_patch`]).
#[expect(
    clippy::too_many_arguments,
    reason = "each is a column of the patch row; a struct would only rename them"
)]
fn store_patch_in(
    conn: &rusqlite::Connection,
    workspace_key: &str,
    patch: &Patch,
    verbatim: Option<&str>,
    source: Source,
    title: &str,
    message: Option<&str>,
    job_id: Option<i64>,
    conversation_id: Option<i64>,
) -> Result<i64> {
    if patch.files.is_empty() {
        return Err(ProposalError::Empty);
    }
    let diff = verbatim.map_or_else(|| Cow::Owned(patch.to_unified()), Cow::Borrowed);
    Ok(patches::insert_in(
        conn,
        &NewPatch {
            workspace_key,
            source,
            job_id,
            conversation_id,
            title,
            message,
            diff: &diff,
        },
        crate::store::now_ms(),
    )?)
}

/// Imports `text` as [`import`] does and applies every hunk of it at
/// once, like `git apply`: one parse, and the patch stored in the same
/// transaction as the apply's checkpoint. A hunk that does not apply
/// fails it all: nothing is written and nothing is stored.
pub(crate) fn import_and_apply(
    store: &mut Store,
    target: &Target,
    text: Arc<String>,
    source: Source,
    title: &str,
) -> Result<apply::Applied> {
    let (patch, verbatim) = read_patch(store, target, &text, Some(&text))?;
    let verbatim = verbatim.then_some(text.as_str());
    apply::apply_new(store, target, patch, |conn, patch| {
        store_patch_in(
            conn,
            &target.key,
            patch,
            verbatim,
            source,
            title,
            None,
            None,
            None,
        )
    })
}

/// Patch `id` with its parsed diff and decisions.
pub(crate) fn load(store: &Store, id: i64) -> Result<Proposal> {
    let row = patches::get(&store.conn, id)?.ok_or(ProposalError::NotFound(id))?;
    let patch = crate::patch::parse(row.diff.as_bytes())?;
    let decisions = patches::decisions(&store.conn, id)?;
    Ok(Proposal {
        row,
        patch,
        decisions,
    })
}

/// The patches of a workspace, newest first.
pub(crate) fn list(store: &Store, target: &Target) -> Result<Vec<PatchRow>> {
    Ok(patches::list(&store.conn, &target.key)?)
}

/// Splits hunk `hunk_index` of file `file_index` of patch `id` like
/// `git add -p`'s `s`: the stored diff is rewritten with the pieces and
/// the hunk's decision replaced by a pending one per piece, in one
/// transaction. How many pieces there are (1: nothing to split).
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "the review pane's `s` key splits a hunk")
)]
pub(crate) fn split(
    store: &mut Store,
    id: i64,
    file_index: usize,
    hunk_index: usize,
) -> Result<usize> {
    let mut proposal = load(store, id)?;
    let count = proposal.hunk_count();
    let file = proposal
        .patch
        .files
        .get_mut(file_index)
        .filter(|f| hunk_index < f.hunks.len())
        .ok_or(ProposalError::NoSuchHunk {
            id,
            number: count + 1,
            count,
        })?;
    let pieces = file.hunks[hunk_index].split();
    let parts = pieces.len();
    if parts < 2 {
        return Ok(1);
    }
    file.hunks.splice(hunk_index..=hunk_index, pieces);
    let diff = proposal.patch.to_unified();
    patches::split_hunk(
        &mut store.conn,
        id,
        file_index,
        hunk_index,
        parts,
        &diff,
        crate::store::now_ms(),
    )?;
    Ok(parts)
}

/// Records `decision` (with an optional reason, sent back to the model
/// by "regenerate") on hunks `numbers` of patch `id`, 1-based over the
/// whole patch, in one transaction; an unknown number changes nothing.
pub(crate) fn decide(
    store: &mut Store,
    id: i64,
    numbers: &[usize],
    decision: Decision,
    reason: Option<&str>,
) -> Result<()> {
    let proposal = load(store, id)?;
    let hunks = proposal.hunks();
    let count = hunks.len();
    let mut picked = Vec::with_capacity(numbers.len());
    for &number in numbers {
        let hunk = number
            .checked_sub(1)
            .and_then(|i| hunks.get(i))
            .ok_or(ProposalError::NoSuchHunk { id, number, count })?;
        picked.push((hunk.file_index, hunk.hunk_index));
    }
    let now = crate::store::now_ms();
    let tx = store.conn.transaction()?;
    for (file_index, hunk_index) in picked {
        patches::decide(&tx, id, file_index, hunk_index, decision, reason, now)?;
    }
    tx.commit()?;
    Ok(())
}

/// Marks patch `id` rejected as a whole.
pub(crate) fn reject(store: &Store, id: i64) -> Result<()> {
    let row = patches::get(&store.conn, id)?.ok_or(ProposalError::NotFound(id))?;
    if row.status == PatchStatus::Applied {
        return Err(ProposalError::NotPending {
            id,
            status: "applied",
        });
    }
    patches::set_status(
        &store.conn,
        id,
        PatchStatus::Rejected,
        crate::store::now_ms(),
    )?;
    Ok(())
}
