//! Staging: the diffs a changes pane shows, and moving whole files, hunks
//! and sub-hunks between working tree, index and HEAD.
//!
//! Diffs come from libgit2 (3 lines of context, like `git diff`) printed
//! as patch text and read by `patch::parse`, so the pane, the staging and
//! the AI review share one model. A hunk is staged by writing a patch of
//! that hunk alone (`FilePatch::with_hunks` renumbers it) and applying it
//! to the index with libgit2, as `git add -p` does with `git apply
//! --cached`; unstaging applies the reversed hunk of the HEAD→index diff to
//! the index, discarding the reversed hunk of the index→worktree diff to
//! the working tree. libgit2 checks every context line, so a hunk shown
//! before the file changed is refused, never applied in the wrong place.
//!
//! Writes check the index lock and nothing of the branch: staging works
//! on a detached HEAD and during a merge (it is how conflicts get
//! resolved), but the hunks of a conflicted file cannot be staged one by
//! one, nor the file discarded (that would lose both sides). Mode changes
//! are staged with the whole file, not with a hunk. Whole-file staging
//! runs libgit2's own filters (CRLF, ident), not external filter drivers
//! such as Git LFS: stage those files with `git add`.

use std::path::Path;

use git2::{ApplyLocation, DiffOptions, ErrorCode, IndexAddOption};

use super::GitError;
use super::repo::Repo;
use crate::patch::{self, FilePatch, FileStatus, Hunk};

/// What the working tree changes against the index for `path`
/// (`git diff -- path`); an untracked file shows as added. `None` when
/// nothing differs.
pub(crate) fn diff_worktree(repo: &Repo, path: &str) -> Result<Option<FilePatch>, GitError> {
    let mut opts = diff_options(path);
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .show_untracked_content(true);
    let index = repo.fresh_index()?;
    let diff = repo
        .git()
        .diff_index_to_workdir(Some(&index), Some(&mut opts))?;
    file_patch(&diff, path)
}

/// What the index changes against HEAD for `path` (`git diff --cached --
/// path`); before the first commit everything staged is added. `None`
/// when nothing differs.
pub(crate) fn diff_index(repo: &Repo, path: &str) -> Result<Option<FilePatch>, GitError> {
    let mut opts = diff_options(path);
    let index = repo.fresh_index()?;
    let head = head_tree(repo)?;
    let diff = repo
        .git()
        .diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut opts))?;
    file_patch(&diff, path)
}

/// Stages `path` whole, as `git add` does: its content, its mode, its
/// deletion, or every file under it when it is a folder. Staging a
/// conflicted file marks the conflict resolved.
pub(crate) fn stage_path(repo: &Repo, path: &str) -> Result<(), GitError> {
    repo.require_unlocked_index()?;
    let mut index = repo.fresh_index()?;
    stage_into(repo, &mut index, path)?;
    index.write()?;
    Ok(())
}

/// [`stage_path`] into `index`, which the caller writes.
pub(super) fn stage_into(repo: &Repo, index: &mut git2::Index, path: &str) -> Result<(), GitError> {
    let full = repo.workdir().join(path);
    match std::fs::symlink_metadata(&full) {
        Ok(meta) if meta.is_dir() => {
            index.add_all([path], IndexAddOption::DEFAULT, None)?;
            // `git add DIR` also records what was deleted under it.
            index.update_all([path], None)?;
        }
        Ok(_) => index.add_path(Path::new(path))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => remove_from(index, path)?,
        Err(source) => {
            return Err(GitError::Io {
                action: "read",
                path: full,
                source,
            });
        }
    }
    Ok(())
}

/// Takes `path` out of the index back to what HEAD has (`git restore
/// --staged`); before the first commit, out of the index altogether. The
/// working tree is not touched.
pub(crate) fn unstage_path(repo: &Repo, path: &str) -> Result<(), GitError> {
    repo.require_unlocked_index()?;
    match repo.head_commit()? {
        Some(commit) => {
            repo.fresh_index()?;
            repo.git().reset_default(Some(commit.as_object()), [path])?;
        }
        None => {
            let mut index = repo.fresh_index()?;
            remove_from(&mut index, path)?;
            index.write()?;
        }
    }
    Ok(())
}

/// Throws away the working tree's changes to `path` (`git restore`): a
/// tracked file goes back to its staged content, an untracked file is
/// deleted. The caller confirms first; there is no undo.
pub(crate) fn discard_path(repo: &Repo, path: &str) -> Result<(), GitError> {
    let mut index = repo.fresh_index()?;
    // A conflicted file has no stage-0 entry but is not untracked:
    // deleting it would lose both sides.
    if (1..=3).any(|stage| index.get_path(Path::new(path), stage).is_some()) {
        return Err(GitError::Conflicted {
            path: path.to_string(),
        });
    }
    if index.get_path(Path::new(path), 0).is_none() {
        let full = repo.workdir().join(path);
        return match std::fs::remove_file(&full) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(GitError::Io {
                action: "delete",
                path: full,
                source: e,
            }),
            _ => Ok(()),
        };
    }
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout
        .force()
        .path(path)
        .disable_pathspec_match(true)
        .update_index(false);
    repo.git()
        .checkout_index(Some(&mut index), Some(&mut checkout))?;
    Ok(())
}

/// Stages one hunk (or a piece of [`Hunk::split`]) of `file`, a diff from
/// [`diff_worktree`].
pub(crate) fn stage_hunk(repo: &Repo, file: &FilePatch, hunk: &Hunk) -> Result<(), GitError> {
    check_hunk(repo, file, true)?;
    let patch = without_mode_change(file.with_hunks([hunk.clone()]));
    apply(repo, &patch, ApplyLocation::Index, "the index")
}

/// Takes one hunk of `file`, a diff from [`diff_index`], out of the index.
pub(crate) fn unstage_hunk(repo: &Repo, file: &FilePatch, hunk: &Hunk) -> Result<(), GitError> {
    check_hunk(repo, file, true)?;
    let patch = without_mode_change(file.reversed().with_hunks([hunk.reversed()]));
    apply(repo, &patch, ApplyLocation::Index, "the index")
}

/// Throws away one hunk of `file`, a diff from [`diff_worktree`], from the
/// working tree. The caller confirms first; there is no undo.
pub(crate) fn discard_hunk(repo: &Repo, file: &FilePatch, hunk: &Hunk) -> Result<(), GitError> {
    check_hunk(repo, file, false)?;
    let patch = without_mode_change(file.reversed().with_hunks([hunk.reversed()]));
    apply(repo, &patch, ApplyLocation::WorkDir, "the working tree")
}

fn check_hunk(repo: &Repo, file: &FilePatch, writes_index: bool) -> Result<(), GitError> {
    if writes_index {
        repo.require_unlocked_index()?;
    }
    if file.binary {
        return Err(GitError::Binary {
            path: file.path().to_string(),
        });
    }
    let index = repo.fresh_index()?;
    if index
        .conflicts()?
        .filter_map(Result::ok)
        .filter_map(|c| c.our.or(c.their).or(c.ancestor))
        .any(|entry| entry.path == file.path().as_bytes())
    {
        return Err(GitError::Conflicted {
            path: file.path().to_string(),
        });
    }
    Ok(())
}

/// A hunk carries lines, not the file's mode: a mode change waits for the
/// whole file to be staged, as in `git add -p`, where it is a question of
/// its own.
fn without_mode_change(mut patch: FilePatch) -> FilePatch {
    if !matches!(patch.status, FileStatus::Added | FileStatus::Deleted) {
        patch.old_mode = None;
        patch.new_mode = None;
    }
    patch
}

fn apply(
    repo: &Repo,
    patch: &FilePatch,
    location: ApplyLocation,
    place: &'static str,
) -> Result<(), GitError> {
    let text = patch.to_unified();
    tracing::debug!(path = patch.path(), place, "applying a hunk");
    let diff = git2::Diff::from_buffer(text.as_bytes())?;
    repo.fresh_index()?;
    repo.git()
        .apply(&diff, location, None)
        .map_err(|e| match e.code() {
            ErrorCode::ApplyFail => GitError::HunkDoesNotApply {
                path: patch.path().to_string(),
                place,
                message: e.message().to_string(),
            },
            _ => GitError::Git(e),
        })
}

fn diff_options(path: &str) -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.pathspec(path)
        .disable_pathspec_match(true)
        .context_lines(patch::texts::CONTEXT as u32)
        .interhunk_lines(0)
        .old_prefix("a/")
        .new_prefix("b/");
    opts
}

pub(super) fn head_tree(repo: &Repo) -> Result<Option<git2::Tree<'_>>, GitError> {
    Ok(match repo.head_commit()? {
        Some(commit) => Some(commit.tree()?),
        None => None,
    })
}

/// Removes a file, or every file under a folder, from the index.
fn remove_from(index: &mut git2::Index, path: &str) -> Result<(), GitError> {
    let has_file = index.get_path(Path::new(path), 0).is_some()
        || (1..=3).any(|stage| index.get_path(Path::new(path), stage).is_some());
    if has_file {
        index.remove_path(Path::new(path))?;
    } else {
        index.remove_dir(Path::new(path), 0)?;
    }
    Ok(())
}

/// The one file of `diff`, printed as a patch and parsed.
fn file_patch(diff: &git2::Diff<'_>, path: &str) -> Result<Option<FilePatch>, GitError> {
    for index in 0..diff.deltas().len() {
        let Some(mut one) = git2::Patch::from_diff(diff, index)? else {
            // Unchanged or unreadable; nothing to show.
            continue;
        };
        let text = one.to_buf()?;
        let mut parsed = patch::parse(&text)?;
        if let Some(file) = parsed.files.pop()
            && (file.path() == path || file.old_path.as_deref() == Some(path))
        {
            return Ok(Some(file));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{TestRepo, numbered};
    use super::*;
    use crate::patch::{LineKind, Patch};

    /// `numbered(20)` with line 2 and line 18 changed: two hunks.
    fn two_hunks(repo: &TestRepo) -> (Repo, FilePatch) {
        repo.write("f.txt", &numbered(20));
        repo.commit_all("base");
        let text = numbered(20)
            .replace("line 2\n", "line two\n")
            .replace("line 18\n", "line eighteen\n");
        repo.write("f.txt", &text);
        let opened = Repo::open(repo.path()).unwrap();
        let file = diff_worktree(&opened, "f.txt").unwrap().unwrap();
        assert_eq!(file.hunks.len(), 2);
        (opened, file)
    }

    fn git_diff(repo: &TestRepo, args: &[&str]) -> Patch {
        let mut all = vec!["diff", "--no-color", "--src-prefix=a/", "--dst-prefix=b/"];
        all.extend_from_slice(args);
        patch::parse(repo.git(&all).as_bytes()).unwrap()
    }

    fn changed(file: &FilePatch) -> Vec<(LineKind, String)> {
        file.hunks
            .iter()
            .flat_map(|h| &h.lines)
            .filter(|l| l.kind != LineKind::Context)
            .map(|l| (l.kind, l.text().to_string()))
            .collect()
    }

    fn index_bytes(repo: &TestRepo) -> Vec<u8> {
        std::fs::read(repo.dir.join(".git/index")).unwrap()
    }

    #[test]
    fn libgit2_diff_reads_the_same_as_git_diff() {
        let repo = TestRepo::new();
        let (opened, file) = two_hunks(&repo);
        let cli = git_diff(&repo, &[]);
        assert_eq!(cli.files, vec![file]);
        let _ = opened;
    }

    #[test]
    fn staged_hunk_is_exactly_what_git_diff_cached_shows() {
        let repo = TestRepo::new();
        let (opened, file) = two_hunks(&repo);
        stage_hunk(&opened, &file, &file.hunks[1]).unwrap();
        let cached = git_diff(&repo, &["--cached"]);
        assert_eq!(cached.files.len(), 1);
        assert_eq!(cached.files[0].hunks, vec![file.hunks[1].clone()]);
        let left = git_diff(&repo, &[]);
        assert_eq!(
            changed(&left.files[0]),
            changed(&file.with_hunks([file.hunks[0].clone()]))
        );
        assert_eq!(
            repo.read("f.txt"),
            numbered(20)
                .replace("line 2\n", "line two\n")
                .replace("line 18\n", "line eighteen\n")
        );
    }

    #[test]
    fn one_piece_of_a_split_hunk_is_staged_alone() {
        let repo = TestRepo::new();
        repo.write("f.txt", &numbered(12));
        repo.commit_all("base");
        let text = numbered(12)
            .replace("line 4\n", "line four\n")
            .replace("line 8\n", "line eight\n");
        repo.write("f.txt", &text);
        let opened = Repo::open(repo.path()).unwrap();
        let file = diff_worktree(&opened, "f.txt").unwrap().unwrap();
        assert_eq!(file.hunks.len(), 1);
        let pieces = file.hunks[0].split();
        assert_eq!(pieces.len(), 2);
        stage_hunk(&opened, &file, &pieces[1]).unwrap();
        let cached = git_diff(&repo, &["--cached"]);
        assert_eq!(
            changed(&cached.files[0]),
            [
                (LineKind::Removed, "line 8".to_string()),
                (LineKind::Added, "line eight".to_string())
            ]
        );
        let left = git_diff(&repo, &[]);
        assert_eq!(
            changed(&left.files[0]),
            [
                (LineKind::Removed, "line 4".to_string()),
                (LineKind::Added, "line four".to_string())
            ]
        );
    }

    #[test]
    fn unstaged_hunk_leaves_the_other_staged() {
        let repo = TestRepo::new();
        let (opened, _) = two_hunks(&repo);
        repo.git(&["add", "f.txt"]);
        let staged = diff_index(&opened, "f.txt").unwrap().unwrap();
        unstage_hunk(&opened, &staged, &staged.hunks[0]).unwrap();
        let cached = git_diff(&repo, &["--cached"]);
        assert_eq!(cached.files[0].hunks, vec![staged.hunks[1].clone()]);
        let left = git_diff(&repo, &[]);
        assert_eq!(
            changed(&left.files[0]),
            [
                (LineKind::Removed, "line 2".to_string()),
                (LineKind::Added, "line two".to_string())
            ]
        );
    }

    #[test]
    fn discarded_hunk_is_gone_from_the_file_and_the_index_is_untouched() {
        let repo = TestRepo::new();
        let (opened, file) = two_hunks(&repo);
        let before = index_bytes(&repo);
        discard_hunk(&opened, &file, &file.hunks[0]).unwrap();
        assert_eq!(
            repo.read("f.txt"),
            numbered(20).replace("line 18\n", "line eighteen\n")
        );
        assert_eq!(index_bytes(&repo), before);
    }

    #[test]
    fn hunk_of_a_file_changed_since_its_diff_is_refused() {
        let repo = TestRepo::new();
        let (opened, file) = two_hunks(&repo);
        repo.write("f.txt", &numbered(20).replace("line 17\n", "edited\n"));
        repo.git(&["add", "f.txt"]);
        let before = index_bytes(&repo);
        let err = stage_hunk(&opened, &file, &file.hunks[1]).unwrap_err();
        assert!(matches!(err, GitError::HunkDoesNotApply { .. }), "{err}");
        assert_eq!(index_bytes(&repo), before);
    }

    #[test]
    fn untracked_file_is_one_added_hunk_that_stages_and_discards() {
        let repo = TestRepo::new();
        repo.write("base.txt", "b\n");
        repo.commit_all("base");
        repo.write("dir/new.txt", "a\nb");
        let opened = Repo::open(repo.path()).unwrap();
        let file = diff_worktree(&opened, "dir/new.txt").unwrap().unwrap();
        assert_eq!(file.status, FileStatus::Added);
        assert_eq!(file.hunks.len(), 1);
        stage_hunk(&opened, &file, &file.hunks[0]).unwrap();
        assert_eq!(
            repo.git(&["diff", "--cached", "--name-status"]),
            "A\tdir/new.txt\n"
        );
        let staged = diff_index(&opened, "dir/new.txt").unwrap().unwrap();
        unstage_hunk(&opened, &staged, &staged.hunks[0]).unwrap();
        assert_eq!(repo.git(&["diff", "--cached", "--name-status"]), "");
        discard_hunk(&opened, &file, &file.hunks[0]).unwrap();
        assert!(!repo.dir.join("dir/new.txt").exists());
    }

    #[test]
    fn new_file_with_a_space_in_its_name_unstages_by_hunk() {
        // Unstaging writes a deleted-file patch for a name with a space,
        // a header libgit2 misreads unless the name is quoted.
        let repo = TestRepo::new();
        repo.write("base.txt", "b\n");
        repo.commit_all("base");
        repo.write("my notes.txt", "one\ntwo\n");
        repo.git(&["add", "my notes.txt"]);
        let opened = Repo::open(repo.path()).unwrap();
        let staged = diff_index(&opened, "my notes.txt").unwrap().unwrap();
        unstage_hunk(&opened, &staged, &staged.hunks[0]).unwrap();
        assert_eq!(repo.git(&["diff", "--cached", "--name-status"]), "");
        assert_eq!(repo.read("my notes.txt"), "one\ntwo\n");
    }

    #[test]
    fn whole_files_stage_and_unstage_including_deletions() {
        let repo = TestRepo::new();
        repo.write("a.txt", "a\n");
        repo.write("b.txt", "b\n");
        repo.commit_all("base");
        repo.write("a.txt", "A\n");
        std::fs::remove_file(repo.dir.join("b.txt")).unwrap();
        repo.write("c/new.txt", "c\n");
        let opened = Repo::open(repo.path()).unwrap();
        for path in ["a.txt", "b.txt", "c"] {
            stage_path(&opened, path).unwrap();
        }
        assert_eq!(
            repo.git(&["diff", "--cached", "--name-status"]),
            "M\ta.txt\nD\tb.txt\nA\tc/new.txt\n"
        );
        for path in ["a.txt", "b.txt", "c/new.txt"] {
            unstage_path(&opened, path).unwrap();
        }
        assert_eq!(repo.git(&["diff", "--cached", "--name-status"]), "");
        assert_eq!(repo.read("a.txt"), "A\n");
    }

    #[test]
    fn unstage_before_the_first_commit_empties_the_index_entry() {
        let repo = TestRepo::new();
        repo.write("a.txt", "a\n");
        repo.git(&["add", "a.txt"]);
        let opened = Repo::open(repo.path()).unwrap();
        unstage_path(&opened, "a.txt").unwrap();
        assert_eq!(repo.git(&["ls-files"]), "");
        assert_eq!(repo.read("a.txt"), "a\n");
    }

    #[test]
    fn discard_path_restores_tracked_and_deletes_untracked() {
        let repo = TestRepo::new();
        repo.write("a.txt", "a\n");
        repo.commit_all("base");
        repo.write("a.txt", "changed\n");
        repo.write("junk.txt", "junk\n");
        let opened = Repo::open(repo.path()).unwrap();
        discard_path(&opened, "a.txt").unwrap();
        discard_path(&opened, "junk.txt").unwrap();
        assert_eq!(repo.read("a.txt"), "a\n");
        assert!(!repo.dir.join("junk.txt").exists());
        assert_eq!(repo.git(&["status", "--porcelain"]), "");
    }

    #[test]
    fn crlf_lines_and_a_missing_final_newline_survive_hunk_staging() {
        let repo = TestRepo::new();
        repo.write("w.txt", "one\r\ntwo\r\nthree");
        repo.commit_all("base");
        repo.write("w.txt", "one\r\n2\r\nthree\r\nfour");
        let opened = Repo::open(repo.path()).unwrap();
        let file = diff_worktree(&opened, "w.txt").unwrap().unwrap();
        for hunk in &file.hunks {
            stage_hunk(&opened, &file, hunk).unwrap();
        }
        assert_eq!(repo.git(&["diff"]), "");
        assert_eq!(repo.git(&["show", ":w.txt"]), "one\r\n2\r\nthree\r\nfour");
    }

    #[test]
    fn binary_file_hunks_are_refused() {
        let repo = TestRepo::new();
        std::fs::write(repo.dir.join("b.bin"), b"\0\x01\x02").unwrap();
        repo.commit_all("base");
        std::fs::write(repo.dir.join("b.bin"), b"\0\x01\x03").unwrap();
        let opened = Repo::open(repo.path()).unwrap();
        let file = diff_worktree(&opened, "b.bin").unwrap().unwrap();
        assert!(file.binary);
        let hunk = crate::patch::diff_texts("a\n", "b\n", "b.bin")
            .hunks
            .remove(0);
        let err = stage_hunk(&opened, &file, &hunk).unwrap_err();
        assert!(matches!(err, GitError::Binary { .. }), "{err}");
    }

    #[test]
    fn locked_index_refuses_staging_and_changes_nothing() {
        let repo = TestRepo::new();
        let (opened, file) = two_hunks(&repo);
        std::fs::write(repo.dir.join(".git/index.lock"), b"").unwrap();
        let before = index_bytes(&repo);
        let err = stage_hunk(&opened, &file, &file.hunks[0]).unwrap_err();
        assert!(err.to_string().contains("index.lock"), "{err}");
        let err = stage_path(&opened, "f.txt").unwrap_err();
        assert!(matches!(err, GitError::IndexLocked { .. }), "{err}");
        assert_eq!(index_bytes(&repo), before);
    }

    #[test]
    fn conflicted_file_is_neither_discarded_nor_staged_by_hunk() {
        let repo = TestRepo::new();
        repo.write("a.txt", "a\n");
        repo.commit_all("base");
        repo.git(&["switch", "-q", "-c", "side"]);
        repo.write("a.txt", "side\n");
        repo.commit_all("side");
        repo.git(&["switch", "-q", "main"]);
        repo.write("a.txt", "main\n");
        repo.commit_all("main");
        let merge = repo.command(&["merge", "-q", "side"]).output().unwrap();
        assert!(!merge.status.success());
        let before = repo.read("a.txt");
        let opened = Repo::open(repo.path()).unwrap();
        let err = discard_path(&opened, "a.txt").unwrap_err();
        assert!(matches!(err, GitError::Conflicted { .. }), "{err}");
        assert_eq!(repo.read("a.txt"), before);
        let hunk = crate::patch::diff_texts("a\n", "b\n", "a.txt");
        let err = stage_hunk(&opened, &hunk, &hunk.hunks[0]).unwrap_err();
        assert!(matches!(err, GitError::Conflicted { .. }), "{err}");
        // Staging the whole file is how the conflict gets resolved.
        repo.write("a.txt", "resolved\n");
        stage_path(&opened, "a.txt").unwrap();
        assert_eq!(repo.git(&["diff", "--name-only", "--diff-filter=U"]), "");
    }

    #[test]
    #[ignore = "a measurement, not a check"]
    fn diff_of_a_5000_line_change_speed() {
        let repo = TestRepo::new();
        repo.write("big.ts", &numbered(10_000));
        repo.commit_all("base");
        let changed: String = (1..=10_000)
            .map(|i| {
                if i % 2 == 0 {
                    format!("changed {i}\n")
                } else {
                    format!("line {i}\n")
                }
            })
            .collect();
        repo.write("big.ts", &changed);
        let opened = Repo::open(repo.path()).unwrap();
        let start = std::time::Instant::now();
        let file = diff_worktree(&opened, "big.ts").unwrap().unwrap();
        let (added, removed) = file.line_counts();
        println!(
            "diff_worktree: +{added} -{removed} in {:?}",
            start.elapsed()
        );
    }

    #[test]
    fn unchanged_path_has_no_diff() {
        let repo = TestRepo::new();
        repo.write("a.txt", "a\n");
        repo.commit_all("base");
        let opened = Repo::open(repo.path()).unwrap();
        assert_eq!(diff_worktree(&opened, "a.txt").unwrap(), None);
        assert_eq!(diff_index(&opened, "a.txt").unwrap(), None);
    }
}
