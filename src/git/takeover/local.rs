//! The takeover's local part, from a recorded row to a git workspace: the
//! repository opened (never a parent's) or created, its state checked, the
//! baseline committed, tagged and checked out, each step first looking for
//! its own result so a rerun finishes the job; then the store told.

use std::path::Path;

use git2::build::CheckoutBuilder;
use git2::{
    Commit, Delta, DiffOptions, ObjectType, Oid, Repository, RepositoryInitOptions, Signature,
    Status, StatusOptions,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::build::Built;
use super::error::{TakeoverError, git_err};
use super::outside::Outside;
use super::plan::{Origin, Plan};
use super::state::{Step, Stop, TakeoverState};
use super::{HANDOFF_FILE, TakeoverReport, TakeoverRequest, TakeoverStatus};
use crate::config::Config;
use crate::git::GitError;
use crate::git::repo::{Identity, Person, Repo, resolve_identity};
use crate::store::takeovers::TakeoverRow;
use crate::store::workspaces::{GitWorkspace, StorageType};
use crate::store::{self, Store};
use crate::workspace::{ImportError, Report};

/// How many changed paths a "dirty" error lists.
const DIRTY_SAMPLE: usize = 8;

/// Who the baseline commit and its tag are by, found as `git commit` finds
/// it, in the configuration and the variables this takeover sees (a
/// repository that does not exist yet has only the global configuration).
pub(super) fn identity(
    outside: &Outside,
    repo: Option<&Repo>,
    path: &Path,
) -> Result<Identity, TakeoverError> {
    let config = outside
        .git_config(repo.map(Repo::git))
        .map_err(git_err("read the git configuration", path))?;
    Ok(resolve_identity(
        |key| config.get_string(key).ok(),
        |var| outside.var(var).map(str::to_string),
    )?)
}

/// The author's and the committer's signatures at `at` (Unix seconds).
fn signatures(
    identity: &Identity,
    at: i64,
    repo: &Path,
) -> Result<(Signature<'static>, Signature<'static>), TakeoverError> {
    let time = git2::Time::new(at, 0);
    let sign = |person: &Person| {
        Signature::new(&person.name, &person.email, &time)
            .map_err(git_err("build the commit's signature", repo))
    };
    Ok((sign(&identity.author)?, sign(&identity.committer)?))
}

/// The repository whose work tree is `path`, if there is one. Never looks
/// in parent folders: a folder inside another repository gets its own.
/// A bare repository is refused: a takeover needs a work tree.
pub(super) fn open_repo(path: &Path) -> Result<Option<Repo>, TakeoverError> {
    match std::fs::metadata(path) {
        Err(_) => return Ok(None),
        Ok(meta) if !meta.is_dir() => {
            return Err(TakeoverError::NotADirectory {
                path: path.to_path_buf(),
            });
        }
        Ok(_) => {}
    }
    match Repo::open_here(path) {
        Ok(repo) => Ok(Some(repo)),
        Err(GitError::NotARepository { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A `git init` killed halfway leaves a `.git` that opens as no
/// repository, or not at all. When this takeover created the repository,
/// that `.git` is its own and goes, so the next step makes it again.
pub(super) fn discard_half_made_repository(path: &Path) {
    if matches!(open_repo(path), Ok(Some(_))) {
        return;
    }
    let git_dir = path.join(".git");
    if git_dir.is_dir() {
        tracing::warn!(path = %git_dir.display(), "removing a repository an interrupted takeover left half made");
        if let Err(e) = std::fs::remove_dir_all(&git_dir) {
            tracing::warn!(error = %e, "could not remove it");
        }
    }
    // Before it makes `.git`, libgit2 learns whether the file system has
    // links from a file, then a link, it makes in the folder under a
    // temporary name `_git2_…` and removes at once: a process killed in
    // between leaves it (and the folder, made for this takeover, holds
    // nothing else of anyone's).
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let probe = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with("_git2_"))
            && entry.file_type().is_ok_and(|t| !t.is_dir());
        if probe && let Err(e) = std::fs::remove_file(entry.path()) {
            tracing::warn!(error = %e, "could not remove a link git left");
        }
    }
}

/// A takeover killed while git wrote its branch or its tag leaves that
/// reference's lock (`<ref>.lock`, and its reflog's), and git then
/// refuses to write the reference. The names are this takeover's own
/// (`takeover/<name>/<stamp>`), so are their locks: they go before it
/// goes on.
pub(super) fn clear_own_reference_locks(path: &Path, branch: &str, tag: &str) {
    let git_dir = path.join(".git");
    let names = [format!("refs/heads/{branch}"), format!("refs/tags/{tag}")];
    for name in &names {
        let lock = format!("{name}.lock");
        for file in [git_dir.join(&lock), git_dir.join("logs").join(&lock)] {
            match std::fs::remove_file(&file) {
                Ok(()) => {
                    tracing::warn!(path = %file.display(), "removed a lock an interrupted takeover left");
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %file.display(), error = %e, "could not remove a lock an interrupted takeover left")
                }
            }
        }
    }
}

pub(super) fn has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

/// `git status --porcelain` as (code, path) pairs, submodules left out.
pub(super) fn changes(
    repo: &Repository,
    path: &Path,
    recurse: bool,
) -> Result<Vec<(String, String)>, TakeoverError> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(recurse)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo
        .statuses(Some(&mut options))
        .map_err(git_err("read the status", path))?;
    Ok(statuses
        .iter()
        .filter(|s| !s.status().is_ignored())
        .map(|s| {
            (
                porcelain_code(s.status()),
                s.path().unwrap_or("?").to_string(),
            )
        })
        .collect())
}

fn porcelain_code(s: Status) -> String {
    if s.is_wt_new() && !s.intersects(Status::INDEX_NEW | Status::INDEX_MODIFIED) {
        return "??".into();
    }
    if s.is_conflicted() {
        return "UU".into();
    }
    let index = if s.is_index_new() {
        'A'
    } else if s.is_index_modified() {
        'M'
    } else if s.is_index_deleted() {
        'D'
    } else if s.is_index_renamed() {
        'R'
    } else if s.is_index_typechange() {
        'T'
    } else {
        ' '
    };
    let work = if s.is_wt_modified() {
        'M'
    } else if s.is_wt_deleted() {
        'D'
    } else if s.is_wt_renamed() {
        'R'
    } else if s.is_wt_typechange() {
        'T'
    } else {
        ' '
    };
    format!("{index}{work}")
}

pub(super) fn sample(changes: &[(String, String)]) -> String {
    let mut text = changes
        .iter()
        .take(DIRTY_SAMPLE)
        .map(|(code, path)| format!("{code} {path}"))
        .collect::<Vec<_>>()
        .join(", ");
    if changes.len() > DIRTY_SAMPLE {
        text.push_str(&format!(", and {} more", changes.len() - DIRTY_SAMPLE));
    }
    text
}

pub(super) fn check_clean(repo: &Repo, path: &Path) -> Result<(), TakeoverError> {
    let changes = changes(repo.git(), path, false)?;
    if changes.is_empty() {
        return Ok(());
    }
    Err(TakeoverError::Dirty {
        path: path.to_path_buf(),
        count: changes.len(),
        sample: sample(&changes),
    })
}

/// A folder taken over where it is may be a repository only while nothing
/// was ever committed or staged there, or when this takeover's branch is
/// what it has.
pub(super) fn check_in_place(
    repo: &Repo,
    path: &Path,
    branch_done: bool,
) -> Result<(), TakeoverError> {
    if branch_done {
        return Ok(());
    }
    if repo.head_commit()?.is_some() {
        return Err(TakeoverError::AlreadyRepository {
            path: path.to_path_buf(),
        });
    }
    let staged = repo.git().index().map(|i| i.len()).unwrap_or(0);
    if staged > 0 {
        return Err(TakeoverError::Dirty {
            path: path.to_path_buf(),
            count: staged,
            sample: format!("{staged} staged files"),
        });
    }
    Ok(())
}

pub(super) fn reference_exists(repo: &Repo, name: &str) -> bool {
    repo.git().find_reference(name).is_ok()
}

fn short(oid: Oid) -> String {
    oid.to_string().chars().take(12).collect()
}

/// The takeover's local part, from a recorded row to a git workspace.
pub(super) struct Local<'a> {
    pub(super) store: &'a mut Store,
    pub(super) config: &'a Config,
    pub(super) request: &'a TakeoverRequest,
    pub(super) plan: &'a Plan,
    pub(super) identity: &'a Identity,
    pub(super) row: &'a TakeoverRow,
    /// How far the row says the takeover is.
    pub(super) state: std::cell::Cell<TakeoverState>,
    pub(super) stop: Stop,
}

impl Local<'_> {
    pub(super) fn path(&self) -> &Path {
        &self.plan.repo_path
    }

    fn started_unix(&self) -> i64 {
        OffsetDateTime::parse(&self.row.started_at, &Rfc3339)
            .map(|t| t.unix_timestamp())
            .unwrap_or(0)
    }

    pub(super) fn message(&self) -> String {
        format!("takeover: import {}\n", self.plan.source_display)
    }

    fn advance(
        &self,
        to: TakeoverState,
        commit: Option<Oid>,
        files_tree: Option<Oid>,
    ) -> Result<(), TakeoverError> {
        let from = self.state.get();
        // A rerun confirms steps an earlier run recorded; the row never
        // moves back.
        if to < from {
            return Ok(());
        }
        if !from.may_move_to(to) {
            tracing::warn!(
                from = from.as_str(),
                to = to.as_str(),
                "takeover state skipped a step"
            );
        }
        self.state.set(to);
        store::takeovers::advance(
            &self.store.conn,
            self.row.id,
            to.as_str(),
            commit.map(|c| c.to_string()).as_deref(),
            files_tree.map(|t| t.to_string()).as_deref(),
        )?;
        Ok(())
    }

    pub(super) fn run(self) -> Result<TakeoverReport, TakeoverError> {
        let repo = self.repository()?;
        let repo = repo.git();
        self.stop.reached(Step::Repository)?;
        let built = self.build(repo)?;
        let commit = self.commit(repo, &built)?;
        self.advance(
            TakeoverState::Committed,
            Some(commit),
            Some(built.files_tree),
        )?;
        self.stop.reached(Step::Branch)?;
        self.tag(repo, commit)?;
        self.advance(TakeoverState::Tagged, None, None)?;
        self.stop.reached(Step::Tag)?;
        self.check_out(repo, commit, &built)?;
        self.advance(TakeoverState::CheckedOut, None, None)?;
        self.stop.reached(Step::CheckedOut)?;
        self.record(&built, commit)
    }

    pub(super) fn repository(&self) -> Result<Repo, TakeoverError> {
        if let Some(repo) = open_repo(self.path())? {
            return Ok(repo);
        }
        std::fs::create_dir_all(self.path()).map_err(|e| TakeoverError::Io {
            path: self.path().to_path_buf(),
            source: e,
        })?;
        let mut options = RepositoryInitOptions::new();
        // HEAD names the takeover branch from the start, so no empty
        // default branch is left behind.
        options.initial_head(&self.row.branch);
        let repo = Repository::init_opts(self.path(), &options)
            .map_err(git_err("create the repository", self.path()))?;
        tracing::info!(repo = %self.path().display(), "repository created");
        Ok(Repo::from_git(repo)?)
    }

    /// Whether `commit` is the baseline this takeover makes (or made).
    fn is_ours(&self, commit: &Commit<'_>) -> bool {
        if self.row.commit_id.as_deref() == Some(&commit.id().to_string()) {
            return true;
        }
        let parents: Vec<String> = commit.parent_ids().map(|p| p.to_string()).collect();
        let base: Vec<String> = self.row.base_commit.iter().cloned().collect();
        commit.message().ok() == Some(self.message().as_str())
            && commit.time().seconds() == self.started_unix()
            && parents == base
    }

    /// The baseline commit on the branch: found when a run before this one
    /// made it, else written (the same object when only the branch was
    /// missing: same tree, parents, identity, time and message).
    fn commit(&self, repo: &Repository, built: &Built) -> Result<Oid, TakeoverError> {
        let path = self.path();
        let branch_ref = format!("refs/heads/{}", self.row.branch);
        if let Ok(existing) = repo.find_reference(&branch_ref) {
            let tip = existing
                .peel_to_commit()
                .map_err(git_err(format!("read {}", self.row.branch), path))?;
            if !self.is_ours(&tip) {
                return Err(TakeoverError::BranchTaken {
                    branch: self.row.branch.clone(),
                    repo: path.to_path_buf(),
                });
            }
            if tip.tree_id() != built.tree {
                return Err(TakeoverError::SourceChanged {
                    branch: self.row.branch.clone(),
                    tag: self.row.tag.clone(),
                    commit: short(tip.id()),
                    repo: path.to_path_buf(),
                });
            }
            tracing::info!(commit = %tip.id(), "baseline commit already made");
            return Ok(tip.id());
        }
        let (author, committer) = signatures(self.identity, self.started_unix(), path)?;
        let tree = repo
            .find_tree(built.tree)
            .map_err(git_err("read the tree", path))?;
        let parent = match &self.row.base_commit {
            Some(base) => {
                let oid = Oid::from_str(base).map_err(git_err("read the base commit", path))?;
                Some(
                    repo.find_commit(oid)
                        .map_err(git_err(format!("find commit {base}"), path))?,
                )
            }
            None => None,
        };
        let parents: Vec<&Commit<'_>> = parent.iter().collect();
        let oid = repo
            .commit(None, &author, &committer, &self.message(), &tree, &parents)
            .map_err(git_err("write the baseline commit", path))?;
        self.stop.reached(Step::CommitObject)?;
        repo.reference(
            &branch_ref,
            oid,
            false,
            &format!("takeover: {}", self.row.branch),
        )
        .map_err(git_err(format!("create branch {}", self.row.branch), path))?;
        tracing::info!(commit = %oid, branch = %self.row.branch, "baseline committed");
        Ok(oid)
    }

    /// An annotated tag: it records who took over and when, and `git
    /// describe` finds it without `--tags`.
    fn tag(&self, repo: &Repository, commit: Oid) -> Result<(), TakeoverError> {
        let path = self.path();
        let tag_ref = format!("refs/tags/{}", self.row.tag);
        if let Ok(existing) = repo.find_reference(&tag_ref) {
            let target = existing.peel_to_commit().map(|c| c.id()).ok();
            if target != Some(commit) {
                return Err(TakeoverError::TagTaken {
                    tag: self.row.tag.clone(),
                    repo: path.to_path_buf(),
                    commit: short(commit),
                });
            }
            return Ok(());
        }
        let (_, tagger) = signatures(self.identity, self.started_unix(), path)?;
        let object = repo
            .find_object(commit, Some(ObjectType::Commit))
            .map_err(git_err("read the baseline commit", path))?;
        let message = format!(
            "takeover of {}: import {}\n",
            self.plan.name, self.plan.source_display
        );
        repo.tag(&self.row.tag, &object, &tagger, &message, false)
            .map_err(git_err(format!("create tag {}", self.row.tag), path))?;
        Ok(())
    }

    /// Puts the work tree on the branch. A run killed halfway through a
    /// checkout leaves files of the baseline in the work tree; those are
    /// recognised by content and overwritten, anything else stops the run.
    fn check_out(
        &self,
        repo: &Repository,
        commit: Oid,
        built: &Built,
    ) -> Result<(), TakeoverError> {
        let path = self.path();
        let branch_ref = format!("refs/heads/{}", self.row.branch);
        let commit = repo
            .find_commit(commit)
            .map_err(git_err("read the baseline commit", path))?;
        let tree = commit
            .tree()
            .map_err(git_err("read the baseline tree", path))?;
        if self.plan.in_place {
            // The work tree is the source: its files are there already,
            // only handoff.json is new.
            let mut index = repo.index().map_err(git_err("open the index", path))?;
            index
                .read_tree(&tree)
                .map_err(git_err("fill the index", path))?;
            index.write().map_err(git_err("write the index", path))?;
            repo.set_head(&branch_ref)
                .map_err(git_err(format!("check out {}", self.row.branch), path))?;
            let mut options = CheckoutBuilder::new();
            options.force().disable_filters(true).path(HANDOFF_FILE);
            repo.checkout_head(Some(&mut options))
                .map_err(git_err("write handoff.json", path))?;
            return self.exclude_secrets(repo, built);
        }
        // Every difference between the work tree and the commit the branch
        // starts from must be one this takeover wrote; then a forced
        // checkout overwrites nothing of the user's.
        let touched = self.touched_since_base(repo)?;
        let workdir = repo.workdir().unwrap_or(path);
        let foreign: Vec<(String, String)> = touched
            .into_iter()
            .filter(|(_, p)| !matches_tree(repo, workdir, &tree, p))
            .collect();
        if !foreign.is_empty() {
            return Err(TakeoverError::WorkTreeChanged {
                repo: path.to_path_buf(),
                sample: sample(&foreign),
            });
        }
        let mut options = CheckoutBuilder::new();
        // Write exactly the bytes taken over; never clobber an ignored
        // file (a real .env) with one from the export.
        options
            .force()
            .disable_filters(true)
            .overwrite_ignored(false);
        repo.checkout_tree(tree.as_object(), Some(&mut options))
            .map_err(|e| TakeoverError::CheckoutBlocked {
                branch: self.row.branch.clone(),
                repo: path.to_path_buf(),
                what: "files that are not committed",
                message: e.message().to_string(),
            })?;
        repo.set_head(&branch_ref)
            .map_err(git_err(format!("check out {}", self.row.branch), path))?;
        tracing::info!(branch = %self.row.branch, "checked out");
        Ok(())
    }

    /// The work-tree paths that differ from the base commit (or that exist
    /// at all, in a repository that had none), as (code, path).
    fn touched_since_base(
        &self,
        repo: &Repository,
    ) -> Result<Vec<(String, String)>, TakeoverError> {
        let path = self.path();
        let base = match &self.row.base_commit {
            Some(base) => {
                let oid = Oid::from_str(base).map_err(git_err("read the base commit", path))?;
                let commit = repo
                    .find_commit(oid)
                    .map_err(git_err(format!("find commit {base}"), path))?;
                Some(commit.tree().map_err(git_err("read the base tree", path))?)
            }
            None => None,
        };
        let mut options = DiffOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_typechange(true);
        let diff = repo
            .diff_tree_to_workdir(base.as_ref(), Some(&mut options))
            .map_err(git_err("compare the work tree", path))?;
        Ok(diff
            .deltas()
            .filter_map(|d| {
                let file = d.new_file().path().or_else(|| d.old_file().path())?;
                let code = match d.status() {
                    Delta::Untracked | Delta::Added => "??",
                    Delta::Deleted => " D",
                    Delta::Typechange => " T",
                    _ => " M",
                };
                Some((code.to_string(), file.to_string_lossy().into_owned()))
            })
            .collect())
    }

    /// One transaction: the workspace becomes (or is created as) a git
    /// workspace and the takeover is done.
    fn record(self, built: &Built, commit: Oid) -> Result<TakeoverReport, TakeoverError> {
        let repo_str = self.plan.repo_str();
        let git = GitWorkspace {
            name: &self.plan.name,
            source: &self.plan.source_display,
            repo_path: &repo_str,
            fingerprint: &built.fingerprint,
            taken_over_at: &self.row.started_at,
            files_count: built.files_count,
            bytes: built.bytes,
            ignored: built.ignored,
        };
        let tx = self
            .store
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let id = match store::workspaces::find(&tx, &self.plan.name)? {
            Some(ws) => {
                store::workspaces::make_git_workspace(&tx, ws.id, &git)?;
                ws.id
            }
            None => {
                let count = store::workspaces::count(&tx)?;
                if count >= self.config.limits.max_workspaces {
                    return Err(ImportError::TooManyWorkspaces {
                        count,
                        limit: self.config.limits.max_workspaces,
                    }
                    .into());
                }
                store::workspaces::insert_git_workspace(&tx, &git)?
            }
        };
        store::workspaces::clear_skipped(&tx, id)?;
        for entry in &built.skipped {
            store::workspaces::insert_skipped(&tx, id, entry)?;
        }
        store::audit::record(
            &tx,
            "takeover",
            Some(&self.plan.name),
            &serde_json::json!({
                "source": self.plan.source_display,
                "repo": repo_str,
                "branch": self.row.branch,
                "tag": self.row.tag,
                "commit": commit.to_string(),
                "files": built.files_count,
                "bytes": built.bytes,
                "skipped": built.skipped.len(),
                "promoted": matches!(self.plan.origin, Origin::Workspace(_)),
            }),
        )?;
        store::takeovers::advance(&tx, self.row.id, TakeoverState::Done.as_str(), None, None)?;
        tx.commit()?;
        tracing::info!(
            files = built.files_count,
            bytes = built.bytes,
            commit = %commit,
            "taken over into git"
        );
        let summary = Report {
            workspace: self.plan.name.clone(),
            storage_type: StorageType::Git,
            files_count: built.files_count,
            bytes: built.bytes,
            taken_over_at: self.row.started_at.clone(),
            source: self.plan.source_display.clone(),
            skipped: built.skipped.clone(),
            ignored: built.ignored,
            ignored_paths: None,
            repo_path: Some(repo_str),
            status: None,
        };
        Ok(TakeoverReport::local(
            summary,
            self.row.branch.clone(),
            self.row.tag.clone(),
            commit.to_string(),
            TakeoverStatus::TakenOver,
        ))
    }
}

/// Whether the work-tree file at `path` is what `tree` holds there (both
/// absent counts), or the start of it that an interrupted checkout wrote.
fn matches_tree(repo: &Repository, workdir: &Path, tree: &git2::Tree<'_>, path: &str) -> bool {
    let on_disk = workdir.join(path);
    match tree.get_path(Path::new(path)) {
        Ok(entry) => {
            if !std::fs::symlink_metadata(&on_disk).is_ok_and(|m| m.is_file()) {
                return false;
            }
            if Oid::hash_file(ObjectType::Blob, &on_disk).is_ok_and(|id| id == entry.id()) {
                return true;
            }
            // A checkout killed while writing this file leaves the start
            // of it: a prefix of the blob is this takeover's own half-work.
            let blob = entry.to_object(repo).ok().and_then(|o| o.into_blob().ok());
            match (blob, std::fs::read(&on_disk)) {
                (Some(blob), Ok(bytes)) => blob.content().starts_with(&bytes),
                _ => false,
            }
        }
        Err(_) => std::fs::symlink_metadata(&on_disk).is_err(),
    }
}
