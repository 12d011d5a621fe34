//! `kollega patch import|ls|show|apply|reject`, `kollega undo` and
//! `kollega redo`: the command line over [`crate::proposal`].

use std::io::Read;
use std::process::ExitCode;

use serde_json::{Value, json};

use super::args::PatchCommand;
use super::output::{Align, Table, print_json, printable, write_stdout};
use crate::error::Error;
use crate::git::commit::Committed;
use crate::proposal::{self, Applied, Proposal, ProposalError, Restored, Selection, Target};
use crate::store::Store;
use crate::store::patches::{self, Decision, PatchRow, Source};

pub(super) fn dispatch(
    config: &crate::config::Config,
    store: &mut Store,
    command: PatchCommand,
) -> Result<ExitCode, Error> {
    match command {
        // The ask job runs in the foreground on a store of its own.
        PatchCommand::Regenerate {
            id,
            provider,
            model,
            json,
        } => super::ai::regenerate(
            config,
            Store::open(&config.data_dir)?,
            id,
            provider,
            model,
            json,
        ),
        PatchCommand::Import {
            workspace,
            file,
            apply,
            commit,
            no_commit,
            json,
        } => {
            store.defer_checkpoints()?;
            let then_apply = apply.then(|| Commit::choose(config, commit, no_commit));
            import(store, &workspace, &file, then_apply, json)
        }
        PatchCommand::Ls { workspace, json } => ls(store, &workspace, json),
        PatchCommand::Show { id, json } => show(store, id, json),
        PatchCommand::Apply {
            id,
            hunks,
            all,
            commit,
            no_commit,
            json,
        } => {
            let selection = match (all, hunks.is_empty()) {
                (true, _) => Selection::All,
                (false, false) => Selection::Hunks(hunks),
                (false, true) => Selection::Accepted,
            };
            store.defer_checkpoints()?;
            apply(
                store,
                id,
                selection,
                Commit::choose(config, commit, no_commit),
                json,
            )
        }
        PatchCommand::Accept {
            id,
            hunks,
            all,
            json,
        } => {
            let hunks = if all {
                (1..=proposal::load(store, id)?.hunk_count()).collect()
            } else {
                hunks
            };
            decide(store, id, &hunks, Decision::Accepted, None, json)
        }
        PatchCommand::Reject {
            id,
            hunks,
            reason,
            json,
        } if !hunks.is_empty() => decide(
            store,
            id,
            &hunks,
            Decision::Rejected,
            reason.as_deref(),
            json,
        ),
        PatchCommand::Reject { id, json, .. } => {
            proposal::reject(store, id)?;
            if json {
                print_json(&json!({ "patchId": id, "status": "rejected" }))?;
            } else {
                println!("patch {id} rejected");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn decide(
    store: &mut Store,
    id: i64,
    hunks: &[usize],
    decision: Decision,
    reason: Option<&str>,
    json: bool,
) -> Result<ExitCode, Error> {
    proposal::decide(store, id, hunks, decision, reason)?;
    if json {
        print_json(&json!({
            "patchId": id,
            "hunks": hunks,
            "decision": decision.as_str(),
        }))?;
    } else {
        let numbers: Vec<String> = hunks.iter().map(usize::to_string).collect();
        println!(
            "patch {id}: hunks {} {}",
            numbers.join(", "),
            decision.as_str()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `patch import`: stores the patch in `file` (`-`: stdin) for review,
/// or with `then_apply` applies every hunk of it at once.
fn import(
    store: &mut Store,
    workspace: &str,
    file: &str,
    then_apply: Option<Commit>,
    json: bool,
) -> Result<ExitCode, Error> {
    let target = Target::resolve(store, workspace)?;
    let (text, title) = read_patch_file(file)?;
    if let Some(commit) = then_apply {
        return import_and_apply(store, &target, text, &title, commit, json);
    }
    let imported = proposal::import(store, &target, &text, Source::Import, &title)?;
    if json {
        print_json(&json!({
            "patchId": imported.id,
            "files": imported.files,
            "hunks": imported.hunks,
        }))?;
    } else {
        println!(
            "patch {}: {} hunk{} in {} file{} for {}",
            imported.id,
            imported.hunks,
            if imported.hunks == 1 { "" } else { "s" },
            imported.files,
            if imported.files == 1 { "" } else { "s" },
            printable(target.label())
        );
        println!(
            "  review: kollega patch show {id}; apply: kollega patch apply {id} --all",
            id = imported.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The text of the patch in `file` (`-`: stdin) and a title naming it.
fn read_patch_file(file: &str) -> Result<(String, String), Error> {
    let (bytes, title) = if file == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map_err(|e| {
            Error::usage(
                format!("cannot read the patch from stdin: {e}"),
                "pipe a patch in, like `git diff | kollega patch import <ws> -`",
            )
        })?;
        (bytes, "patch from stdin".to_string())
    } else {
        let bytes = std::fs::read(file).map_err(|e| {
            Error::usage(
                format!("cannot read the patch file {file}: {e}"),
                "give the path of a patch file, or - to read stdin",
            )
        })?;
        let name = std::path::Path::new(file)
            .file_name()
            .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned());
        (bytes, format!("patch {name}"))
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::usage(
            format!(
                "the patch {} is not UTF-8 text",
                if file == "-" { "from stdin" } else { file }
            ),
            "give a text diff; binary patches are not applied by kollega",
        )
    })?;
    Ok((text, title))
}

/// `patch import --apply`: one parse, and the patch stored with the
/// apply's checkpoint in one transaction. A patch that does not apply
/// changes nothing and is stored for review; one to be committed goes
/// through `patch apply`'s path.
fn import_and_apply(
    store: &mut Store,
    target: &Target,
    text: String,
    title: &str,
    commit: Commit,
    json: bool,
) -> Result<ExitCode, Error> {
    recover_first(store, target)?;
    if commit.commits(target) {
        let imported = proposal::import(store, target, &text, Source::Import, title)?;
        return apply(store, imported.id, Selection::All, Commit::Always, json);
    }
    // Shared with the parsed patch, whose lines point into it.
    let text = std::sync::Arc::new(text);
    let applied = proposal::import_and_apply(
        store,
        target,
        std::sync::Arc::clone(&text),
        Source::Import,
        title,
    );
    match applied {
        Ok(applied) => print_applied(&applied, None, target, json),
        Err(e @ (ProposalError::DoesNotApply { .. } | ProposalError::File { .. })) => {
            // Advice only: the failure is what the command reports.
            if let Ok(imported) = proposal::import(store, target, &text, Source::Import, title) {
                eprintln!(
                    "the patch is stored as patch {id} for review: kollega patch show {id}",
                    id = imported.id
                );
            }
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

fn ls(store: &Store, workspace: &str, json: bool) -> Result<ExitCode, Error> {
    let target = Target::resolve(store, workspace)?;
    let rows = proposal::list(store, &target)?;
    let counts = |row: &PatchRow| -> (usize, usize) {
        crate::patch::parse(row.diff.as_bytes()).map_or((0, 0), |p| {
            (p.files.len(), p.files.iter().map(|f| f.hunks.len()).sum())
        })
    };
    if json {
        let patches: Vec<Value> = rows
            .iter()
            .map(|row| {
                let (files, hunks) = counts(row);
                json!({
                    "id": row.id,
                    "title": row.title,
                    "source": row.source.as_str(),
                    "status": row.status.as_str(),
                    "files": files,
                    "hunks": hunks,
                    "createdAt": row.created_at,
                })
            })
            .collect();
        print_json(&json!({ "patches": patches }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no patches for {}", printable(target.label()));
        return Ok(ExitCode::SUCCESS);
    }
    let columns = [
        ("ID", Align::Right(5)),
        ("STATUS", Align::Left(8)),
        ("SOURCE", Align::Left(6)),
        ("FILES", Align::Right(5)),
        ("HUNKS", Align::Right(5)),
    ];
    Table::new(&columns, "TITLE").print(rows.iter().map(|row| {
        let (files, hunks) = counts(row);
        (
            vec![
                row.id.to_string(),
                row.status.as_str().to_string(),
                row.source.as_str().to_string(),
                files.to_string(),
                hunks.to_string(),
            ],
            printable(&row.title).into_owned(),
        )
    }));
    Ok(ExitCode::SUCCESS)
}

fn show(store: &Store, id: i64, json: bool) -> Result<ExitCode, Error> {
    let proposal = proposal::load(store, id)?;
    // Advice only: a workspace that cannot be read still shows its patch.
    let warnings =
        proposal::duplicate_warnings(store, &proposal.row.workspace_key, &proposal.patch)
            .unwrap_or_default();
    if json {
        print_json(&show_json(&proposal, &warnings))?;
        return Ok(ExitCode::SUCCESS);
    }
    let row = &proposal.row;
    println!(
        "patch {}  {}  {}  {}",
        row.id,
        row.status.as_str(),
        row.source.as_str(),
        printable(&row.title)
    );
    println!(
        "workspace {}",
        printable(
            row.workspace_key
                .split_once(':')
                .map_or(row.workspace_key.as_str(), |(_, rest)| rest)
        )
    );
    if let Some(message) = &row.message {
        println!("message   {}", printable(message));
    }
    for warning in &warnings {
        println!("warning   {}", printable(warning));
    }
    let hunks = proposal.hunks();
    let mut refs = hunks.iter();
    for file in &proposal.patch.files {
        let (added, removed) = file.line_counts();
        println!();
        let from = match (&file.old_path, &file.new_path) {
            (Some(old), Some(new)) if old != new => format!(" (from {})", printable(old)),
            _ => String::new(),
        };
        println!(
            "=== {}{from}  {}  +{added} -{removed}",
            printable(file.path()),
            file.status.as_str()
        );
        for hunk in &file.hunks {
            let Some(r) = refs.next() else { break };
            let reason = r
                .reason
                .as_deref()
                .map(|why| format!(": {}", printable(why)))
                .unwrap_or_default();
            println!("# hunk {} ({}{reason})", r.number, r.decision.as_str());
            let mut text = String::new();
            hunk.write_unified(&mut text);
            for line in text.lines() {
                println!("{}", printable(line));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show_json(proposal: &Proposal, warnings: &[String]) -> Value {
    let hunks = proposal.hunks();
    let mut refs = hunks.iter();
    let files: Vec<Value> = proposal
        .patch
        .files
        .iter()
        .map(|file| {
            let hunks: Vec<Value> = file
                .hunks
                .iter()
                .filter_map(|hunk| {
                    let r = refs.next()?;
                    let added = hunk
                        .lines
                        .iter()
                        .filter(|l| l.kind == crate::patch::LineKind::Added)
                        .count();
                    let removed = hunk
                        .lines
                        .iter()
                        .filter(|l| l.kind == crate::patch::LineKind::Removed)
                        .count();
                    Some(json!({
                        "number": r.number,
                        "header": hunk.header_line(),
                        "decision": r.decision.as_str(),
                        "reason": r.reason,
                        "added": added,
                        "removed": removed,
                    }))
                })
                .collect();
            json!({
                "path": file.path(),
                "oldPath": file.old_path,
                "status": file.status.as_str(),
                "hunks": hunks,
            })
        })
        .collect();
    let row = &proposal.row;
    json!({
        "id": row.id,
        "workspace": row.workspace_key,
        "source": row.source.as_str(),
        "title": row.title,
        "message": row.message,
        "status": row.status.as_str(),
        "createdAt": row.created_at,
        "warnings": warnings,
        "files": files,
    })
}

/// Whether `patch apply` commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Commit {
    /// `--commit`: commit, or refuse outside git.
    Always,
    /// `[ai] commit_applies`: commit in a git workspace.
    InGit,
    Never,
}

impl Commit {
    /// What `--commit`, `--no-commit` and `[ai] commit_applies` ask for.
    fn choose(config: &crate::config::Config, commit: bool, no_commit: bool) -> Commit {
        match (commit, no_commit) {
            (true, _) => Commit::Always,
            (false, true) => Commit::Never,
            (false, false) if config.ai.commit_applies => Commit::InGit,
            (false, false) => Commit::Never,
        }
    }

    /// Whether an apply to `target` commits.
    fn commits(self, target: &Target) -> bool {
        match self {
            Commit::Always => true,
            Commit::InGit => proposal::commits_in(target),
            Commit::Never => false,
        }
    }
}

fn apply(
    store: &mut Store,
    id: i64,
    selection: Selection,
    commit: Commit,
    json: bool,
) -> Result<ExitCode, Error> {
    let key = patches::workspace_key(&store.conn, id)?.ok_or(ProposalError::NotFound(id))?;
    let target = Target::from_key(store, &key)?;
    recover_first(store, &target)?;
    let (applied, committed) = if commit.commits(&target) {
        let (applied, committed) = proposal::apply_and_commit(store, &target, id, selection)?;
        (applied, Some(committed))
    } else {
        (proposal::apply(store, &target, id, selection)?, None)
    };
    print_applied(&applied, committed.as_ref(), &target, json)
}

/// What an apply wrote, and the commit it made.
fn print_applied(
    applied: &Applied,
    committed: Option<&Committed>,
    target: &Target,
    json: bool,
) -> Result<ExitCode, Error> {
    if json {
        print_json(&json!({
            "patchId": applied.patch_id,
            "applyId": applied.apply_id,
            "hunks": applied.hunks,
            "files": applied.files,
            "commit": committed.map(|c| &c.commit),
        }))?;
    } else {
        // One write, not one per file.
        let mut out = format!(
            "patch {}: {} hunk{} applied to {} file{}\n",
            applied.patch_id,
            applied.hunks,
            if applied.hunks == 1 { "" } else { "s" },
            applied.files.len(),
            if applied.files.len() == 1 { "" } else { "s" },
        );
        for path in &applied.files {
            out.push_str(&format!("  {}\n", printable(path)));
        }
        if let Some(c) = committed {
            out.push_str(&format!(
                "  committed {} on {}: {}\n",
                c.short_id,
                c.branch,
                printable(&c.summary)
            ));
        }
        out.push_str(&format!(
            "  undo: kollega undo {}\n",
            printable(&shell_word(target.label()))
        ));
        write_stdout(out.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Takes back the steps of `target` a killed process left half written,
/// saying so on stderr, before a new step.
fn recover_first(store: &mut Store, target: &Target) -> Result<(), Error> {
    for r in proposal::recover(store, target)? {
        eprintln!("{}", proposal::describe_recovered(&r));
    }
    Ok(())
}

/// `text` as one shell word, quoted when it needs to be.
fn shell_word(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

pub(super) fn undo(store: &mut Store, workspace: &str, json: bool) -> Result<ExitCode, Error> {
    let target = Target::resolve(store, workspace)?;
    recover_first(store, &target)?;
    let restored = proposal::undo(store, &target)?;
    print_restored(&restored, "undid", json)
}

pub(super) fn redo(store: &mut Store, workspace: &str, json: bool) -> Result<ExitCode, Error> {
    let target = Target::resolve(store, workspace)?;
    recover_first(store, &target)?;
    let restored = proposal::redo(store, &target)?;
    print_restored(&restored, "redid", json)
}

fn print_restored(restored: &Restored, verb: &str, json: bool) -> Result<ExitCode, Error> {
    if json {
        print_json(&json!({
            "applyId": restored.apply_id,
            "patchId": restored.patch_id,
            "files": restored.files,
            "commit": restored.commit.as_ref().map(|c| &c.commit),
        }))?;
    } else {
        let patch = restored
            .patch_id
            .map(|id| format!(" of patch {id}"))
            .unwrap_or_default();
        println!(
            "{verb} apply {}{patch}: {} file{}",
            restored.apply_id,
            restored.files.len(),
            if restored.files.len() == 1 { "" } else { "s" },
        );
        for path in &restored.files {
            println!("  {}", printable(path));
        }
        if let Some(c) = &restored.commit {
            println!(
                "  committed {} on {}: {}",
                c.short_id,
                c.branch,
                printable(&c.summary)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
