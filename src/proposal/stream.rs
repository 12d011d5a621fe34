//! An apply of a large new patch into a folder, journaled while it is
//! planned: two threads read and patch the files a chunk at a time while
//! this one stores the patch (a commit of its own, not synced) and then
//! records each chunk's files in the checkpoint as the chunk is done.
//! Once the last chunk is in, only the journal's synced commit (which
//! takes the patch to disk too) is left before the files are written,
//! instead of every row of it.
//!
//! Used for a patch of [`PARALLEL_FILES`] files or more, no two of which
//! touch the same path: each file's change then depends on that file
//! alone, and is final when its chunk is done. A plan that leaves a file
//! it touches as it was (whose checkpoint cannot derive the files'
//! `after`, see [`checkpoint::Derived`]) gives up the rows recorded and
//! is journaled whole, as a smaller patch is.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::apply::{self, Applied, PARALLEL_FILES, Planned};
use super::checkpoint::{self, Step};
use super::{ProposalError, Result, Target};
use crate::parallel::join;
use crate::patch::Patch;
use crate::store::applies::{self, AppliedHunks, Writer};
use crate::store::now_ms;
use crate::workspace::disk::DiskWorkspace;

/// Files a thread plans before it hands them over to be journaled.
const CHUNK_FILES: usize = 32;

/// Whether [`apply_new`] takes `patch`.
pub(super) fn fits(patch: &Patch) -> bool {
    patch.files.len() >= PARALLEL_FILES && apply::distinct_paths(&patch.files)
}

/// A run of files of the patch, and the number (0-based, over the whole
/// patch) of its first hunk.
struct Chunk {
    files: Range<usize>,
    first_hunk: usize,
}

/// Applies every hunk of `patch` (`chosen`: all of them), not stored
/// yet, to `folder`; see the module's text. `store_patch` stores the patch and gives its id; `conn`
/// is under [`checkpoint::Durable`].
pub(super) fn apply_new(
    conn: &Connection,
    target: &Target,
    folder: &DiskWorkspace,
    patch: Patch,
    chosen: &[bool],
    store_patch: impl FnOnce(&Connection, &Patch) -> Result<i64>,
) -> Result<Applied> {
    let chunks = chunks(&patch);
    let (sender, receiver) = channel();
    let next = AtomicUsize::new(0);
    let failed_at = AtomicUsize::new(usize::MAX);
    let work = Work {
        folder,
        patch: &patch,
        chunks: &chunks,
        chosen,
        next: &next,
        failed_at: &failed_at,
    };
    let (journal, ()) = join(
        || {
            Journal::record(
                conn,
                target,
                &patch,
                chosen,
                store_patch,
                receiver,
                chunks.len(),
            )
        },
        || {
            let (one, two) = (sender.clone(), sender);
            join(|| work.plan(&one), || work.plan(&two));
        },
    );
    let journal = journal?;
    let patch_id = journal.patch_id;
    // The parsed patch, tens of thousands of lines, is freed on another
    // thread while this one writes.
    let (applied, ()) = join(
        || {
            finish(
                conn,
                target,
                folder,
                patch_id,
                journal.rows,
                journal.planned,
                chosen,
            )
        },
        move || drop(patch),
    );
    if applied.is_err() {
        apply::take_back_patch(conn, patch_id);
    }
    applied
}

/// The patch's files in chunks of [`CHUNK_FILES`].
fn chunks(patch: &Patch) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut first_hunk = 0;
    for (i, files) in patch.files.chunks(CHUNK_FILES).enumerate() {
        let start = i * CHUNK_FILES;
        out.push(Chunk {
            files: start..start + files.len(),
            first_hunk,
        });
        first_hunk += files.iter().map(|f| f.hunks.len()).sum::<usize>();
    }
    out
}

/// What the planning threads share: the chunks, the next one to take,
/// and the first that failed (none is taken after it).
struct Work<'a> {
    folder: &'a DiskWorkspace,
    patch: &'a Patch,
    chunks: &'a [Chunk],
    chosen: &'a [bool],
    next: &'a AtomicUsize,
    failed_at: &'a AtomicUsize,
}

impl Work<'_> {
    /// Plans chunks, each hashed, until none is left, sending each.
    fn plan(&self, to: &Sender<(usize, Result<Planned>)>) {
        let read = apply::folder_reader(self.folder);
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            // A chunk after one that failed is not needed: the first
            // failure in the patch's order is the one named.
            if i >= self.chunks.len() || i > self.failed_at.load(Ordering::Relaxed) {
                return;
            }
            let chunk = &self.chunks[i];
            let files = &self.patch.files[chunk.files.clone()];
            let hunks = files.iter().map(|f| f.hunks.len()).sum::<usize>();
            let chosen = &self.chosen[chunk.first_hunk..chunk.first_hunk + hunks];
            let planned =
                apply::plan(&read, files, chosen, chunk.first_hunk + 1, true).map(Planned::hashed);
            if planned.is_err() {
                self.failed_at.fetch_min(i, Ordering::Relaxed);
            }
            if to.send((i, planned)).is_err() {
                // The journal gave up (the store failed): nothing waits.
                return;
            }
        }
    }
}

/// The patch stored, and the journal of its apply as far as the chunks
/// planned so far.
struct Journal<'c> {
    patch_id: i64,
    /// The journal's transaction and checkpoint, not committed yet.
    rows: Result<(Transaction<'c>, i64)>,
    /// Each chunk's plan, by number; `None` for a chunk not planned.
    planned: Vec<Option<Result<Planned>>>,
}

impl<'c> Journal<'c> {
    /// Stores the patch (committed, not synced), opens the journal of its
    /// apply, and records the files of each chunk `planned` gives, until
    /// the planning threads are done. An error when the patch could not
    /// be stored (the threads stop at their next chunk).
    fn record(
        conn: &'c Connection,
        target: &Target,
        patch: &Patch,
        chosen: &[bool],
        store_patch: impl FnOnce(&Connection, &Patch) -> Result<i64>,
        planned: Receiver<(usize, Result<Planned>)>,
        chunks: usize,
    ) -> Result<Journal<'c>> {
        let immediate = || Transaction::new_unchecked(conn, TransactionBehavior::Immediate);
        // The patch's commit is not synced on its own: the journal's,
        // synced, takes the WAL to disk with it before any file changes.
        // A power cut before that may lose the patch, with nothing
        // written.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let tx = immediate()?;
        let patch_id = store_patch(&tx, patch)?;
        tx.commit()?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let mut rows = immediate().map_err(ProposalError::from).and_then(|tx| {
            let apply_id = applies::insert(
                &tx,
                &target.key,
                Some(patch_id),
                &[],
                now_ms(),
                Some(&Writer::this_process()),
                Some(&AppliedHunks {
                    hunks: apply::ranges(chosen),
                    whole_files: true,
                }),
            )?;
            Ok((tx, apply_id))
        });
        let mut slots: Vec<Option<Result<Planned>>> = (0..chunks).map(|_| None).collect();
        for (i, result) in planned {
            if let (Ok((tx, apply_id)), Ok(chunk)) = (&rows, &result)
                && chunk.complete
            {
                let recorded = applies::insert_files(
                    tx,
                    *apply_id,
                    &checkpoint::apply_rows(&chunk.changes, chunk.after_sha256.as_deref()),
                );
                if let Err(e) = recorded {
                    rows = Err(e.into());
                }
            }
            if let Some(slot) = slots.get_mut(i) {
                *slot = Some(result);
            }
        }
        Ok(Journal {
            patch_id,
            rows,
            planned: slots,
        })
    }
}

/// Once every chunk is planned: the first failure in the patch's order,
/// or the journal committed (synced) and the files written. A plan that
/// leaves a touched file as it was is journaled whole instead.
fn finish(
    conn: &Connection,
    target: &Target,
    folder: &DiskWorkspace,
    patch_id: i64,
    rows: Result<(Transaction<'_>, i64)>,
    planned: Vec<Option<Result<Planned>>>,
    chosen: &[bool],
) -> Result<Applied> {
    let mut whole = Planned {
        changes: Vec::new(),
        after_sha256: Some(Vec::new()),
        complete: true,
    };
    for chunk in planned {
        let chunk = chunk.ok_or_else(|| ProposalError::File {
            path: "the patch".into(),
            what: "applied",
            why: "its planning stopped part way".into(),
        })??;
        whole.append(chunk);
    }
    let (tx, apply_id) = rows?;
    if whole.changes.is_empty() {
        return Err(ProposalError::Empty);
    }
    if !whole.complete {
        drop(tx);
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        return apply::write(conn, tx, target, whole, patch_id, chosen, true);
    }
    tx.commit()?;
    let step = Step::Apply { patch_id };
    checkpoint::write_journaled(conn, folder, target, apply_id, &whole.changes, step)?;
    Ok(Applied {
        apply_id,
        patch_id,
        hunks: chosen.len(),
        files: whole.changes.into_iter().map(|c| c.path).collect(),
    })
}
