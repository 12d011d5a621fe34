//! Applying a patch's chosen hunks: every file's new text is computed
//! first, with offset and fuzz like `patch`; one hunk that does not apply
//! fails the whole apply, naming the file, the hunk, the lines it expected
//! and the closest lines the file has, and nothing is written.

use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};

use super::checkpoint::{self, Change, Derived, Step};
use super::target::{self, Content, Files, MODE_FILE};
use super::{Proposal, ProposalError, Result, Target};
use crate::parallel::join;
use crate::patch::closest::closest;
use crate::patch::{DiffLine, FilePatch, FileStatus, Hunk, LineKind, Patch, PatchError};
use crate::store::Store;
use crate::store::applies::AppliedHunks;
use crate::store::patches::{Decision, PatchStatus};
use crate::workspace::disk::{DiskWorkspace, Resolver};

/// Context lines a hunk may have wrong at each end and still apply, as
/// `patch`'s default fuzz: diffs from models and mails drift.
const FUZZ: usize = 2;

/// The mode of a symbolic link, which a text patch cannot make.
const MODE_SYMLINK: u32 = 0o120000;

/// Files from which a folder's plan is made on two threads (see
/// [`plan_folder`]); a smaller patch is planned on one.
pub(super) const PARALLEL_FILES: usize = 64;

/// Which hunks an apply writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selection {
    /// The hunks the review accepted.
    Accepted,
    /// These hunks, by their 1-based number over the whole patch.
    Hunks(Vec<usize>),
    /// Every hunk.
    All,
}

/// What an apply wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    /// The checkpoint `undo` takes back.
    pub(crate) apply_id: i64,
    pub(crate) patch_id: i64,
    /// The paths written, created or deleted, in patch order.
    pub(crate) files: Vec<String>,
    /// How many hunks were applied.
    pub(crate) hunks: usize,
}

/// Applies the `selection` of patch `id` to `target`: every file or none.
/// A workspace stored here changes in one transaction with its
/// checkpoint; a folder is journaled first, then written in place, and
/// put back if a write fails. The patch is then marked applied.
pub(crate) fn apply(
    store: &mut Store,
    target: &Target,
    id: i64,
    selection: Selection,
) -> Result<Applied> {
    super::recover(store, target)?;
    let proposal = super::load(store, id)?;
    if proposal.row.workspace_key != target.key {
        return Err(ProposalError::OtherWorkspace {
            id,
            patch_workspace: proposal.row.workspace_key.clone(),
            workspace: target.key.clone(),
        });
    }
    match proposal.row.status {
        PatchStatus::Pending => {}
        status => {
            return Err(ProposalError::NotPending {
                id,
                status: status.as_str(),
            });
        }
    }
    let chosen = chosen(&proposal, &selection)?;
    let whole_files = !matches!(selection, Selection::Hunks(_));
    let conn = &store.conn;
    let _durable = checkpoint::Durable::new(conn)?;
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let planned = match &target.files {
        Files::Dir(folder) => plan_folder(folder, &proposal.patch, &chosen, whole_files)?,
        Files::Store { .. } => plan(
            &|path: &str| target.read(&tx, path),
            &proposal.patch.files,
            &chosen,
            1,
            whole_files,
        )?,
    };
    write(conn, tx, target, planned, id, &chosen, whole_files)
}

/// Applies every hunk of `patch`, a patch not stored yet, to `target`:
/// `store_patch` stores it and gives its id. In a stored workspace the
/// patch and its checkpoint are one commit. For a folder, the patch is
/// stored and synced in a commit of its own while other threads read and
/// patch the files, so that the journal's synced commit has only the
/// checkpoint left to write; an apply that fails then takes the patch
/// back out. (A process killed in between leaves the patch imported and
/// pending, as `patch import` would.)
pub(super) fn apply_new(
    store: &mut Store,
    target: &Target,
    patch: Patch,
    store_patch: impl FnOnce(&Connection, &Patch) -> Result<i64>,
) -> Result<Applied> {
    super::recover(store, target)?;
    let chosen = vec![true; patch.files.iter().map(|f| f.hunks.len()).sum()];
    let conn = &store.conn;
    let _durable = checkpoint::Durable::new(conn)?;
    let immediate = || Transaction::new_unchecked(conn, TransactionBehavior::Immediate);
    match &target.files {
        Files::Dir(folder) if super::stream::fits(&patch) => {
            super::stream::apply_new(conn, target, folder, patch, &chosen, store_patch)
        }
        Files::Dir(folder) => {
            let stored = || -> Result<i64> {
                let tx = immediate()?;
                let id = store_patch(&tx, &patch)?;
                tx.commit()?;
                Ok(id)
            };
            let (id, planned) = join(stored, || plan_folder(folder, &patch, &chosen, true));
            let id = id?;
            // The parsed patch, tens of thousands of lines, is freed on
            // another thread while this one writes.
            let (applied, ()) = join(
                || {
                    let planned = planned?;
                    write(conn, immediate()?, target, planned, id, &chosen, true)
                },
                move || drop(patch),
            );
            if applied.is_err() {
                take_back_patch(conn, id);
            }
            applied
        }
        Files::Store { .. } => {
            let tx = immediate()?;
            let id = store_patch(&tx, &patch)?;
            let read = |path: &str| target.read(&tx, path);
            let planned = plan(&read, &patch.files, &chosen, 1, true)?;
            write(conn, tx, target, planned, id, &chosen, true)
        }
    }
}

/// Removes patch `id`, stored for an apply that failed. A failure is
/// logged: the patch stays, pending, as a `patch import` leaves it.
pub(super) fn take_back_patch(conn: &Connection, id: i64) {
    if let Err(e) = crate::store::patches::remove(conn, id) {
        tracing::warn!(patch = id, error = %e, "cannot take back the patch of a failed apply");
    }
}

/// Every file's change, the SHA-256 of each one's `after` once hashed
/// (a folder's many files are hashed on the threads that planned them,
/// the rest by [`write`]), and whether every file the patch touches is
/// among them (see [`plan`]).
pub(super) struct Planned {
    pub(super) changes: Vec<Change>,
    pub(super) after_sha256: Option<Vec<Option<[u8; 32]>>>,
    pub(super) complete: bool,
}

impl Planned {
    /// `more`, planned from the files after these, added after them.
    pub(super) fn append(&mut self, more: Planned) {
        self.changes.extend(more.changes);
        if let (Some(hashes), Some(more)) = (&mut self.after_sha256, more.after_sha256) {
            hashes.extend(more);
        }
        self.complete &= more.complete;
    }

    pub(super) fn hashed(mut self) -> Planned {
        if self.after_sha256.is_none() {
            let hashes = self
                .changes
                .iter()
                .map(|c| {
                    c.after
                        .as_ref()
                        .map(|a| Sha256::digest(a.text.as_bytes()).into())
                })
                .collect();
            self.after_sha256 = Some(hashes);
        }
        self
    }
}

/// Writes the `planned` changes of the `chosen` hunks of patch `id` to
/// `target` with their checkpoint; `tx` is the immediate transaction on
/// `conn`, under [`checkpoint::Durable`], they were planned in.
pub(super) fn write(
    conn: &Connection,
    tx: Transaction<'_>,
    target: &Target,
    planned: Planned,
    id: i64,
    chosen: &[bool],
    whole_files: bool,
) -> Result<Applied> {
    let Planned {
        changes,
        after_sha256,
        complete,
    } = planned.hashed();
    let after_sha256 = after_sha256.unwrap_or_default();
    let hunks = chosen.iter().filter(|&&c| c).count();
    if changes.is_empty() {
        return Err(ProposalError::Empty);
    }
    // The files' `after` is derived again from `before` and these hunks,
    // unless a file the patch touches is left as it was: derivation,
    // reading only the checkpoint, would not find it.
    let applied = complete.then(|| Derived {
        hunks: AppliedHunks {
            hunks: ranges(chosen),
            whole_files,
        },
        after_sha256: &after_sha256,
    });
    let apply_id = checkpoint::write(
        conn,
        tx,
        target,
        &changes,
        Step::Apply { patch_id: id },
        applied.as_ref(),
    )?;
    Ok(Applied {
        apply_id,
        patch_id: id,
        files: changes.into_iter().map(|c| c.path).collect(),
        hunks,
    })
}

/// Whether each hunk, by global number - 1, is to be applied.
fn chosen(proposal: &Proposal, selection: &Selection) -> Result<Vec<bool>> {
    let hunks = proposal.hunks();
    let count = hunks.len();
    Ok(match selection {
        Selection::All => vec![true; count],
        Selection::Accepted => {
            let chosen: Vec<bool> = hunks
                .iter()
                .map(|h| h.decision == Decision::Accepted)
                .collect();
            if count > 0 && !chosen.contains(&true) {
                return Err(ProposalError::NothingAccepted(proposal.row.id));
            }
            chosen
        }
        Selection::Hunks(numbers) => {
            let mut chosen = vec![false; count];
            for &number in numbers {
                let slot = number
                    .checked_sub(1)
                    .and_then(|i| chosen.get_mut(i))
                    .ok_or(ProposalError::NoSuchHunk {
                        id: proposal.row.id,
                        number,
                        count,
                    })?;
                *slot = true;
            }
            chosen
        }
    })
}

/// [`plan`] on a folder's files. A patch of many files, no two of which
/// touch the same path, is planned in two halves on two threads: each
/// file's change then depends on that file alone.
fn plan_folder(
    folder: &DiskWorkspace,
    patch: &Patch,
    chosen: &[bool],
    whole_files: bool,
) -> Result<Planned> {
    // One reader per thread, each with the folders it has looked at.
    let reader = || folder_reader(folder);
    let files = &patch.files;
    if files.len() < PARALLEL_FILES || !distinct_paths(files) {
        return plan(&reader(), files, chosen, 1, whole_files);
    }
    let (front, back) = files.split_at(files.len() / 2);
    let front_hunks: usize = front.iter().map(|f| f.hunks.len()).sum();
    let (chosen_front, chosen_back) = chosen.split_at(front_hunks.min(chosen.len()));
    let (first, second) = join(
        || plan(&reader(), front, chosen_front, 1, whole_files).map(Planned::hashed),
        || plan(&reader(), back, chosen_back, front_hunks + 1, whole_files).map(Planned::hashed),
    );
    // The first file that fails, in patch order, is the one named.
    let (mut planned, more) = (first?, second?);
    planned.append(more);
    Ok(planned)
}

/// A reader of `folder`'s files for [`plan`], for one thread: it checks
/// each folder on the way once.
pub(super) fn folder_reader(
    folder: &DiskWorkspace,
) -> impl Fn(&str) -> Result<Option<Content>> + '_ {
    let resolver = RefCell::new(Resolver::new(folder));
    move |path: &str| target::read_folder(&mut resolver.borrow_mut(), path)
}

/// Whether no two of `files` touch the same path (old or new).
pub(super) fn distinct_paths(files: &[FilePatch]) -> bool {
    let mut seen = std::collections::HashSet::new();
    files.iter().all(|f| {
        let old = f.old_path.as_deref();
        let new = f.new_path.as_deref().filter(|&n| Some(n) != old);
        [old, new].into_iter().flatten().all(|p| seen.insert(p))
    })
}

/// Every change of `files`, computed from the files as `read` gives them
/// (`None` where there is no such file); nothing is written. `chosen`
/// holds a flag per hunk of `files`, whose first hunk is number
/// `first_number` of the patch. `whole_files`: the files without hunks
/// go along. Whether every file they touch is among the changes (a file
/// left as it was is not).
pub(super) fn plan<R>(
    read: &R,
    files: &[FilePatch],
    chosen: &[bool],
    first_number: usize,
    whole_files: bool,
) -> Result<Planned>
where
    R: Fn(&str) -> Result<Option<Content>>,
{
    let mut plan = Plan {
        read,
        changes: Vec::new(),
        at: HashMap::new(),
    };
    let mut first = 0;
    for file in files {
        let indexes = first..first + file.hunks.len();
        first = indexes.end;
        let picked: Vec<usize> = (0..file.hunks.len())
            .filter(|&i| chosen.get(indexes.start + i) == Some(&true))
            .collect();
        // A file without hunks (a rename, a mode change, an empty file)
        // has nothing to review: it goes with the rest unless hunks were
        // picked by number.
        let whole = file.hunks.is_empty() && whole_files;
        if picked.is_empty() && !whole {
            continue;
        }
        let all_hunks = picked.len() == file.hunks.len();
        plan.file(file, &picked, first_number + indexes.start, all_hunks)?;
    }
    let mut changes = plan.changes;
    let touched = changes.len();
    changes.retain(|c| c.before != c.after);
    let complete = changes.len() == touched;
    Ok(Planned {
        changes,
        after_sha256: None,
        complete,
    })
}

/// The content of every file after an apply of `applied` hunks of
/// `patch`, derived from `before`, every file's content before it (the
/// checkpoint's): path and content, `None` where no file is left. An
/// error when the hunks no longer apply to it (the patch was rewritten
/// since, by a split in review).
pub(super) fn derive_afters(
    patch: &Patch,
    applied: &AppliedHunks,
    before: &HashMap<String, Option<Content>>,
) -> Result<Vec<(String, Option<Content>)>> {
    let count = patch.files.iter().map(|f| f.hunks.len()).sum();
    let chosen = parse_ranges(&applied.hunks, count).ok_or_else(|| {
        refuse(
            "the checkpoint",
            "restored",
            "its list of applied hunks no longer fits its patch",
        )
    })?;
    let read = |path: &str| -> Result<Option<Content>> {
        before.get(path).cloned().ok_or_else(|| {
            refuse(
                path,
                "restored",
                "the patch no longer touches the files its checkpoint holds",
            )
        })
    };
    let planned = plan(&read, &patch.files, &chosen, 1, applied.whole_files)?;
    Ok(planned
        .changes
        .into_iter()
        .map(|c| (c.path, c.after))
        .collect())
}

/// `chosen` (a flag per hunk, in order) as 1-based ranges: `1-3,7`.
pub(super) fn ranges(chosen: &[bool]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < chosen.len() {
        if !chosen[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < chosen.len() && chosen[i] {
            i += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if i - start == 1 {
            out.push_str(&(start + 1).to_string());
        } else {
            out.push_str(&format!("{}-{}", start + 1, i));
        }
    }
    out
}

/// The flags [`ranges`] wrote, for a patch of `count` hunks; `None` when
/// the text is not such ranges or names a hunk past `count`.
fn parse_ranges(text: &str, count: usize) -> Option<Vec<bool>> {
    let mut chosen = vec![false; count];
    for part in text.split(',').filter(|p| !p.is_empty()) {
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => {
                let n = part.parse::<usize>().ok()?;
                (n, n)
            }
        };
        if first == 0 || last < first || last > count {
            return None;
        }
        chosen[first - 1..last].fill(true);
    }
    Some(chosen)
}

/// The changes computed so far, one per path, and where each path's is.
struct Plan<'a, R> {
    read: &'a R,
    changes: Vec<Change>,
    at: HashMap<String, usize>,
}

impl<R> Plan<'_, R>
where
    R: Fn(&str) -> Result<Option<Content>>,
{
    /// The content of `path` as the files before it in the patch leave
    /// it, else as the workspace has it.
    fn current(&self, path: &str) -> Result<Option<Content>> {
        match self.at.get(path) {
            Some(&i) => Ok(self.changes[i].after.clone()),
            None => (self.read)(path),
        }
    }

    /// Sets `path` to `after`; a path changed before keeps its first
    /// `before`, so the checkpoint holds one row per path.
    fn set(&mut self, path: String, before: Option<Content>, after: Option<Content>) {
        match self.at.get(&path) {
            Some(&i) => self.changes[i].after = after,
            None => {
                self.at.insert(path.clone(), self.changes.len());
                self.changes.push(Change {
                    path,
                    before,
                    after,
                });
            }
        }
    }

    fn file(
        &mut self,
        file: &FilePatch,
        picked: &[usize],
        first_number: usize,
        all_hunks: bool,
    ) -> Result<()> {
        let path = file.path().to_string();
        if file.binary {
            return Err(refuse(&path, "patched", "it is a binary patch"));
        }
        if file.new_mode.is_some_and(|m| m & 0o170000 == MODE_SYMLINK)
            || file.old_mode.is_some_and(|m| m & 0o170000 == MODE_SYMLINK)
        {
            return Err(refuse(&path, "patched", "it is a symbolic link"));
        }
        // A plain diff (`diff -N`) shows a new file as hunks from line 0
        // of an empty file. (A file it empties stays, empty: only a git
        // diff says that a file is deleted.)
        let from_nothing = file
            .hunks
            .iter()
            .all(|h| h.old_start == 0 && h.old_lines == 0);
        let creates = file.status == FileStatus::Added
            || (file.status == FileStatus::Modified
                && !file.hunks.is_empty()
                && from_nothing
                && self.current(&path)?.is_none());
        let before = if creates {
            if self.current(&path)?.is_some() {
                return Err(refuse(&path, "added", "it exists already"));
            }
            None
        } else {
            let old_path = file.old_path.as_deref().unwrap_or(&path);
            let before = self
                .current(old_path)?
                .ok_or_else(|| refuse(old_path, "patched", "it is not in the workspace"))?;
            Some(before)
        };
        let base = before.as_ref().map_or("", |b| b.text.as_str());
        // Every hunk (the usual case) applies from the patch as it is;
        // a choice of hunks from a copy holding only those.
        let applied = if all_hunks {
            file.apply_with_fuzz(base, FUZZ)
        } else {
            FilePatch {
                old_path: file.old_path.clone(),
                new_path: file.new_path.clone(),
                status: file.status,
                old_mode: file.old_mode,
                new_mode: file.new_mode,
                similarity: file.similarity,
                binary: false,
                hunks: picked.iter().map(|&i| file.hunks[i].clone()).collect(),
            }
            .apply_with_fuzz(base, FUZZ)
        };
        let text = applied.map_err(|e| match e {
            PatchError::DoesNotApply { hunk, why, .. } => {
                let index = picked.get(hunk.saturating_sub(1)).copied().unwrap_or(0);
                does_not_apply(&path, &file.hunks[index], first_number + index, base, why)
            }
            other => ProposalError::Diff(other),
        })?;
        let mode = file
            .new_mode
            .or(before.as_ref().map(|b| b.mode))
            .unwrap_or(MODE_FILE);
        let after = Some(Content { text, mode });
        match file.status {
            FileStatus::Deleted if all_hunks => {
                if after.as_ref().is_some_and(|a| !a.text.is_empty()) {
                    return Err(refuse(
                        &path,
                        "deleted",
                        "it holds lines the patch does not remove",
                    ));
                }
                self.set(path, before, None);
            }
            FileStatus::Renamed | FileStatus::Copied => {
                let old_path = file.old_path.clone().unwrap_or_default();
                let new_path = file.new_path.clone().unwrap_or_default();
                if new_path == old_path {
                    self.set(new_path, before, after);
                    return Ok(());
                }
                let existing = self.current(&new_path)?;
                if existing.is_some() {
                    return Err(refuse(&new_path, "created", "it exists already"));
                }
                if file.status == FileStatus::Renamed {
                    self.set(old_path, before, None);
                }
                self.set(new_path, None, after);
            }
            _ => self.set(path, before, after),
        }
        Ok(())
    }
}

fn refuse(path: &str, what: &'static str, why: &str) -> ProposalError {
    ProposalError::File {
        path: path.to_string(),
        what,
        why: why.to_string(),
    }
}

/// The failure of hunk `number` (over the whole patch) on `text`: the
/// lines it expected and the closest lines the file has.
fn does_not_apply(
    path: &str,
    hunk: &Hunk,
    number: usize,
    text: &str,
    why: String,
) -> ProposalError {
    let expected: Vec<&str> = hunk
        .lines
        .iter()
        .filter(|l| l.kind != LineKind::Added)
        .map(DiffLine::text)
        .collect();
    let quote = |lines: &mut dyn Iterator<Item = &str>| -> String {
        lines
            .map(|l| format!("  | {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let closest = match closest(text, &expected) {
        Some((at, lines)) => format!(
            " (line {}):\n{}",
            at + 1,
            quote(&mut lines.iter().map(String::as_str))
        ),
        None => ": nothing (the file is empty)".to_string(),
    };
    ProposalError::DoesNotApply {
        path: path.to_string(),
        hunk: number,
        line: hunk.old_start,
        why,
        expected: quote(&mut expected.iter().copied()),
        closest,
    }
}
