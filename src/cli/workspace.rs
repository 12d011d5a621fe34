//! Workspace verbs: `import`, `export`, `ls`, `show`, `cat`, `rm`, and
//! `open` (the terminal UI on a workspace or a folder).

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use super::args::{ExportArgs, ImportArgs};
use super::output::{Align, Table, human_bytes, print_json, print_report, printable, write_stdout};
use crate::config::Config;
use crate::error::Error;
use crate::store::Store;
use crate::store::workspaces::{self, StorageType};
use crate::tui;
use crate::workspace::ImportStatus;
use crate::workspace::disk::DiskWorkspace;
use crate::workspace::export::{ExportTarget, export as export_workspace};
use crate::workspace::import::{ImportOptions, ImportProgress, import as import_source};
use crate::workspace::{self as ws, demo};

/// A progress spinner on stderr when it is a terminal; silent otherwise.
struct Spinner(indicatif::ProgressBar);

impl ImportProgress for Spinner {
    fn entry(&mut self, path: &str) {
        self.0.inc(1);
        if self.0.position().is_multiple_of(64) {
            self.0.set_message(path.to_string());
        }
    }
}

pub(super) fn import(
    store: &mut Store,
    config: &Config,
    args: &ImportArgs,
) -> Result<ExitCode, Error> {
    let options = ImportOptions {
        name: args.name.clone(),
        replace: args.replace,
        respect_gitignore: args.respect_gitignore,
    };
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {pos} files  {wide_msg}")
    {
        bar.set_style(style);
    }
    let mut spinner = Spinner(bar);
    let result = import_source(store, config, &args.source, &options, &mut spinner);
    spinner.0.finish_and_clear();
    let report = result?;
    if args.json {
        print_json(&report)?;
    } else {
        match report.status {
            Some(ImportStatus::AlreadyImported) => {
                println!("already imported: {} is unchanged", report.workspace)
            }
            Some(ImportStatus::Resumed) => println!(
                "imported {} (resumed an interrupted import)",
                report.workspace
            ),
            Some(ImportStatus::Imported) | None => println!("imported {}", report.workspace),
        }
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// Where `export` writes: `--zip`, else `--dir`.
pub(super) fn export_target(args: &ExportArgs) -> Result<ExportTarget, Error> {
    match (&args.zip, &args.dir) {
        (Some(zip), _) => Ok(ExportTarget::Zip(zip.clone())),
        (None, Some(dir)) => Ok(ExportTarget::Dir(dir.clone())),
        (None, None) => Err(Error::usage(
            "export needs a target",
            "pass --zip FILE or --dir DIR",
        )),
    }
}

pub(super) fn export(store: &Store, args: &ExportArgs) -> Result<ExitCode, Error> {
    let target = export_target(args)?;
    let summary = export_workspace(store, &args.workspace, &target, args.force, &mut ())?;
    if args.json {
        print_json(&summary)?;
    } else {
        println!(
            "exported {}: {} files, {} to {}",
            summary.workspace,
            summary.files_count,
            human_bytes(summary.bytes),
            printable(&summary.target)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// An import's staged rows in `ls --json`, beside the workspaces.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct StagedRow {
    workspace: String,
    /// `interrupted`, or `importing` while its importer runs.
    state: &'static str,
    source: String,
    started_at: String,
    staged_files: u64,
    importer_pid: Option<i64>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct LsRow {
    workspace: String,
    /// Always `ready`; staged imports are `StagedRow`s.
    state: &'static str,
    storage_type: StorageType,
    files_count: u64,
    bytes: u64,
    taken_over_at: String,
    source: String,
    skipped_count: u64,
    ignored: u64,
}

pub(super) fn ls(store: &Store, json: bool) -> Result<ExitCode, Error> {
    let all = workspaces::list(&store.conn)?;
    let mut rows = Vec::with_capacity(all.len());
    for ws in all {
        rows.push(LsRow {
            state: "ready",
            skipped_count: workspaces::skipped_count(&store.conn, ws.id)?,
            workspace: ws.name,
            storage_type: ws.storage_type,
            files_count: ws.files_count,
            bytes: ws.bytes,
            taken_over_at: ws.taken_over_at,
            source: ws.source,
            ignored: ws.ignored,
        });
    }
    let staged: Vec<StagedRow> = workspaces::staged_imports(&store.conn)?
        .into_iter()
        .map(|s| StagedRow {
            state: if s.running() {
                "importing"
            } else {
                "interrupted"
            },
            workspace: s.name,
            source: s.source,
            started_at: s.started_at,
            staged_files: s.staged_files,
            importer_pid: s.importer_pid,
        })
        .collect();
    if json {
        let all: Vec<serde_json::Value> = rows
            .iter()
            .map(serde_json::to_value)
            .chain(staged.iter().map(serde_json::to_value))
            .collect::<Result<_, _>>()
            .map_err(|e| Error::stdout(std::io::Error::other(e)))?;
        print_json(&all)?;
        return Ok(ExitCode::SUCCESS);
    }
    print_staged(&staged);
    if rows.is_empty() {
        if staged.is_empty() {
            println!("no workspaces yet; take one over with `kollega import <dir|file.zip>`");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let width = rows
        .iter()
        .map(|r| r.workspace.len())
        .max()
        .unwrap_or(9)
        .max(9);
    let columns = [
        ("WORKSPACE", Align::Left(width)),
        ("STORAGE", Align::Left(7)),
        ("FILES", Align::Right(6)),
        ("SIZE", Align::Right(10)),
        ("TAKEN OVER", Align::Left(20)),
    ];
    Table::new(&columns, "SOURCE").print(rows.into_iter().map(|r| {
        (
            vec![
                r.workspace,
                r.storage_type.as_str().to_string(),
                r.files_count.to_string(),
                human_bytes(r.bytes),
                r.taken_over_at,
            ],
            printable(&r.source).into_owned(),
        )
    }));
    Ok(ExitCode::SUCCESS)
}

/// The staged rows of imports, before the table of workspaces.
fn print_staged(staged: &[StagedRow]) {
    for s in staged {
        let files = match s.staged_files {
            1 => "1 file staged".to_string(),
            n => format!("{n} files staged"),
        };
        let name = printable(&s.workspace);
        if s.state == "importing" {
            println!(
                "{name}: import running (pid {}, started {}, {files})",
                s.importer_pid.unwrap_or_default(),
                s.started_at
            );
        } else {
            println!(
                "{name}: interrupted import of {} (started {}, {files}); the same import resumes it, `kollega rm {name} --yes` drops it",
                printable(&s.source),
                s.started_at
            );
        }
    }
}

pub(super) fn show(store: &Store, name: &str, json: bool) -> Result<ExitCode, Error> {
    let report = ws::show(store, name)?;
    if json {
        print_json(&report)?;
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn cat(store: &Store, name: &str, path: &str) -> Result<ExitCode, Error> {
    let content = ws::cat(store, name, path)?;
    write_stdout(content.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn rm(store: &mut Store, name: &str, yes: bool, json: bool) -> Result<ExitCode, Error> {
    let removed = ws::remove(store, name, yes)?;
    if json {
        print_json(&removed)?;
        return Ok(ExitCode::SUCCESS);
    }
    if removed.interrupted_import == Some(ws::StagedRemoval::Removed) {
        println!(
            "removed the interrupted import of {} and its staged files",
            printable(name)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    println!(
        "removed workspace {}: {} cancelled, {} removed, {}",
        printable(name),
        plural(removed.jobs_cancelled, "job", "jobs"),
        plural(removed.schedules_removed, "schedule", "schedules"),
        if removed.working_copy {
            "working copy deleted"
        } else {
            "no working copy"
        }
    );
    if removed.interrupted_import == Some(ws::StagedRemoval::Left) {
        println!(
            "an interrupted import of {n} is left; `kollega rm {n} --yes` again removes it",
            n = printable(name)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `path:line` into its parts; a path may itself contain ':'.
fn split_location(location: &str) -> (String, Option<usize>) {
    match location.rsplit_once(':') {
        Some((path, line)) if !path.is_empty() && line.parse::<usize>().is_ok() => {
            (path.to_string(), line.parse().ok())
        }
        _ => (location.to_string(), None),
    }
}

fn open_folder(path: &Path, what: impl FnOnce() -> String) -> Result<DiskWorkspace, Error> {
    DiskWorkspace::open(path).map_err(|e| {
        Error::usage(
            format!("cannot open {}: {e}", what()),
            "check that the folder exists and that you may read it",
        )
    })
}

/// `kollega open WS-OR-DIR [PATH[:LINE]]`.
pub(super) fn open(
    config: &Config,
    target: &str,
    location: Option<&str>,
) -> Result<ExitCode, Error> {
    require_terminal()?;
    let store = Store::open(&config.data_dir)?;
    let open = target_of(&store, target)?;
    let (path, line) = match location.map(split_location) {
        Some((path, line)) => (Some(path), line),
        None => (None, None),
    };
    tui::run(
        store,
        config,
        tui::Start {
            target: Some(open),
            path,
            line,
            review: None,
        },
    )
    .map_err(|e| Error::Terminal(format!("{e:#}")))?;
    Ok(ExitCode::SUCCESS)
}

/// What a `WS-OR-DIR` argument names: a stored workspace, the repository
/// of a taken-over one, or a folder.
pub(super) fn target_of(store: &Store, target: &str) -> Result<tui::OpenTarget, Error> {
    Ok(match workspaces::find(&store.conn, target)? {
        // A git workspace lives in its repository.
        Some(ws) if ws.repo_path.is_some() => {
            let repo = ws.repo_path.unwrap_or_default();
            let disk = open_folder(Path::new(&repo), || {
                format!("the repository {repo} of workspace {target}")
            })?;
            tui::OpenTarget::Dir(disk)
        }
        Some(ws) => tui::OpenTarget::Workspace(ws),
        None if Path::new(target).is_dir() => {
            tui::OpenTarget::Dir(open_folder(Path::new(target), || {
                format!("folder {target}")
            })?)
        }
        None => {
            return Err(Error::usage(
                format!("no workspace or folder named {target:?}"),
                "`kollega ls` lists workspaces; pass a folder path to edit files on disk",
            ));
        }
    })
}

fn require_terminal() -> Result<(), Error> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Error::Terminal(
            "the terminal UI needs a terminal on stdin and stdout".into(),
        ));
    }
    Ok(())
}

/// `kollega` alone: the terminal UI, with the bundled demo on a first start.
/// `kollega review PATCH-ID`: the TUI on the patch's workspace, with the
/// review pane on the patch.
pub(super) fn review(config: &Config, patch_id: i64) -> Result<ExitCode, Error> {
    require_terminal()?;
    let store = Store::open(&config.data_dir)?;
    let Some(patch) = crate::store::patches::get(&store.conn, patch_id)? else {
        return Err(Error::usage(
            format!("there is no patch {patch_id}"),
            "`kollega patch ls <workspace>` lists the patches; `kollega ask` and `kollega patch import` make them",
        ));
    };
    let key = patch.workspace_key.as_str();
    let target = if let Some(name) = key.strip_prefix("ws:") {
        match workspaces::find(&store.conn, name)? {
            Some(ws) if ws.repo_path.is_some() => {
                let repo = ws.repo_path.unwrap_or_default();
                tui::OpenTarget::Dir(open_folder(Path::new(&repo), || {
                    format!("the repository {repo} of workspace {name}")
                })?)
            }
            Some(ws) => tui::OpenTarget::Workspace(ws),
            None => {
                return Err(Error::usage(
                    format!(
                        "patch {patch_id} belongs to workspace {name:?}, which no longer exists"
                    ),
                    "`kollega ls` lists the workspaces; import it again to review the patch",
                ));
            }
        }
    } else if let Some(dir) = key.strip_prefix("dir:") {
        tui::OpenTarget::Dir(open_folder(Path::new(dir), || format!("folder {dir}"))?)
    } else {
        return Err(Error::usage(
            format!("patch {patch_id} names no workspace kollega knows ({key:?})"),
            "import the patch again with `kollega patch import <workspace> <file>`",
        ));
    };
    tui::run(
        store,
        config,
        tui::Start {
            target: Some(target),
            path: None,
            line: None,
            review: Some(patch_id),
        },
    )
    .map_err(|e| Error::Terminal(format!("{e:#}")))?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn open_tui(config: &Config) -> Result<ExitCode, Error> {
    require_terminal()?;
    let mut store = Store::open(&config.data_dir)?;
    if let Err(e) = demo::offer_once(&mut store, config) {
        tracing::warn!(error = %e, "the bundled demo could not be imported");
    }
    tui::run(
        store,
        config,
        tui::Start {
            target: None,
            path: None,
            line: None,
            review: None,
        },
    )
    .map_err(|e| Error::Terminal(format!("{e:#}")))?;
    Ok(ExitCode::SUCCESS)
}
