//! Job kinds: what a job of each kind does, behind one trait that later
//! kinds (AI requests, meeting briefs) implement too.
//!
//! A kind gets a [`JobContext`] (the job row, its log, its stop token, its
//! progress, the store), reads its typed payload (`payload`) once, and
//! answers with a JSON result or a classified [`JobError`]; the runner
//! turns that into the job's next status.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::command::{self, CommandSpec, SpawnError, StopToken, Tee};
use super::log::LogWriter;
use super::payload::{CommandPayload, ExportPayload, ImportPayload, JobPayload, PullPayload};
use super::progress::Progress;
use super::queue::{self, Job};
use super::{EndCause, ErrorClass, JobError, JobKind, JobsError, ProgramEnd, workcopy};
use crate::config::Config;
use crate::git::remote::{self, PushSpec};
use crate::store::Store;
use crate::store::workspaces::{self, StorageType};

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The store, shared by a runner and its jobs; every call runs on a
/// blocking thread so no async task waits on SQLite.
#[derive(Clone)]
pub(crate) struct Db(Arc<Mutex<Store>>);

impl Db {
    pub(crate) fn new(store: Store) -> Db {
        Db(Arc::new(Mutex::new(store)))
    }

    /// Runs `f` with the store on a blocking thread.
    pub(crate) async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, JobsError> + Send + 'static,
    ) -> Result<T, JobsError> {
        let db = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = db.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut store)
        })
        .await
        .map_err(|e| JobsError::BadInput(format!("a store task failed: {e}")))?
    }
}

/// What a kind gets to run one attempt.
pub(crate) struct JobContext {
    pub job: Job,
    pub data_dir: PathBuf,
    pub config: Arc<Config>,
    pub log: LogWriter,
    pub stop: StopToken,
    /// Set as the work goes on; the runner stores it.
    pub progress: Progress,
    pub tee: Tee,
    pub db: Db,
    /// Between SIGTERM and SIGKILL when a command is stopped.
    pub grace: Duration,
}

/// A kind of job.
pub(crate) trait Kind: Send + Sync {
    fn kind(&self) -> JobKind;
    /// Attempts a job of this kind gets unless it asks for others.
    fn max_attempts(&self) -> u32;
    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>>;
    /// Whether its output goes to the runner's owner as it is written
    /// (`runner::Event::Output`), not only into the log: a model's answer
    /// is read as it streams. A build's output is not sent this way.
    fn streams_live(&self) -> bool {
        false
    }
}

/// The kinds a runner knows.
#[derive(Clone, Default)]
pub(crate) struct Registry {
    kinds: BTreeMap<JobKind, Arc<dyn Kind>>,
}

impl Registry {
    /// command, import, export, git-push, git-pull, ask, brief, module, transcript,
    /// watch, watch-summary, and the
    /// routines nudge, nudge-webhook, retention and backup.
    pub(crate) fn standard() -> Registry {
        let mut r = Registry::default();
        r.register(Arc::new(CommandKind));
        r.register(Arc::new(ImportKind));
        r.register(Arc::new(crate::meetings::refresh::RefreshKind));
        r.register(Arc::new(ExportKind));
        r.register(Arc::new(GitKind { push: true }));
        r.register(Arc::new(GitKind { push: false }));
        r.register(Arc::new(crate::ai::ask::AskKind::new()));
        r.register(Arc::new(crate::meetings::brief::BriefJob::new()));
        r.register(Arc::new(crate::meetings::modules::ModuleJob::new()));
        r.register(Arc::new(crate::meetings::expect::TranscriptJob::new()));
        r.register(Arc::new(crate::meetings::watch::WatchJob::new()));
        r.register(Arc::new(crate::meetings::watch::SummaryJob::new()));
        r.register(Arc::new(crate::meetings::nudge::NudgeJob::new()));
        r.register(Arc::new(crate::meetings::nudge::WebhookJob::new()));
        r.register(Arc::new(crate::meetings::retention::RetentionJob::new()));
        r.register(Arc::new(crate::meetings::retention::BackupJob::new()));
        r
    }

    pub(crate) fn register(&mut self, kind: Arc<dyn Kind>) {
        self.kinds.insert(kind.kind(), kind);
    }

    pub(crate) fn get(&self, kind: &JobKind) -> Option<Arc<dyn Kind>> {
        self.kinds.get(kind).cloned()
    }

    /// The names of the kinds, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.kinds.keys().map(JobKind::to_string).collect();
        names.sort();
        names
    }
}

/// The attempts a job of `kind` gets unless it asks for others.
pub(crate) fn default_attempts(kind: &JobKind) -> u32 {
    Registry::standard()
        .get(kind)
        .map_or(1, |k| k.max_attempts())
}

/// Where a workspace's commands run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// A SQLite workspace: in its managed working copy.
    Store { id: i64, name: String },
    /// A git workspace: in its repository.
    Git { name: String, dir: PathBuf },
    /// A folder on disk.
    Dir(PathBuf),
}

impl Place {
    /// The name jobs record: the workspace's, or the folder's path.
    pub(crate) fn workspace(&self) -> String {
        match self {
            Place::Store { name, .. } | Place::Git { name, .. } => name.clone(),
            Place::Dir(dir) => dir.display().to_string(),
        }
    }
}

impl Place {
    /// Where a job of workspace `ws` runs: its repository, or the working
    /// copy of its stored files.
    fn of_workspace(ws: workspaces::Workspace) -> Place {
        match (ws.storage_type, ws.repo_path) {
            (StorageType::Git, Some(dir)) => Place::Git {
                name: ws.name,
                dir: PathBuf::from(dir),
            },
            _ => Place::Store {
                id: ws.id,
                name: ws.name,
            },
        }
    }
}

/// A workspace name, or a folder.
pub(crate) fn resolve_place(store: &Store, workspace: &str) -> Result<Place, JobsError> {
    if let Some(ws) = workspaces::find(&store.conn, workspace)? {
        return Ok(Place::of_workspace(ws));
    }
    let path = Path::new(workspace);
    if path.is_dir() {
        let dir = path
            .canonicalize()
            .map_err(|_| JobsError::UnknownWorkspace(workspace.to_string()))?;
        return Ok(Place::Dir(dir));
    }
    Err(JobsError::UnknownWorkspace(workspace.to_string()))
}

/// Why a job cannot run: the workspace it was queued for is gone.
fn workspace_gone(name: &str) -> JobsError {
    JobsError::BadInput(format!(
        "its workspace {name} was removed; a workspace made since under that name is another one"
    ))
}

/// Where a queued job runs: its workspace's row (never a name resolved
/// again), or the absolute folder it was queued for.
pub(crate) fn place_of(store: &Store, job: &Job) -> Result<Option<Place>, JobsError> {
    let Some(workspace) = &job.workspace else {
        return Ok(None);
    };
    if let Some(id) = job.workspace_id {
        let ws = workspaces::get(&store.conn, id)?.ok_or_else(|| workspace_gone(workspace))?;
        return Ok(Some(Place::of_workspace(ws)));
    }
    if Path::new(workspace).is_absolute() {
        return Ok(Some(Place::Dir(PathBuf::from(workspace))));
    }
    // A workspace name without its row: queued before jobs kept rows, for
    // a workspace that was gone by then.
    Err(workspace_gone(workspace))
}

/// Resolves the job's workspace to a directory, bringing a working copy
/// up to date first.
async fn workdir(ctx: &JobContext) -> Result<PathBuf, JobError> {
    let data_dir = ctx.data_dir.clone();
    let log = ctx.log.clone();
    let job = ctx.job.clone();
    ctx.db
        .call(move |store| {
            let Some(place) = place_of(store, &job)? else {
                return Ok(data_dir);
            };
            match place {
                Place::Store { id, name } => {
                    let report = workcopy::sync(&store.conn, &data_dir, id, &name)?;
                    log.info(&format!(
                        "working copy {}: {} written, {} removed, {} unchanged",
                        report.dir.display(),
                        report.written,
                        report.removed,
                        report.unchanged
                    ));
                    Ok(report.dir)
                }
                Place::Git { dir, .. } | Place::Dir(dir) => Ok(dir),
            }
        })
        .await
        .map_err(|e| match e {
            JobsError::UnknownWorkspace(_) | JobsError::BadInput(_) => {
                JobError::permanent(crate::error::describe(&e))
            }
            // A full disk or a lock may clear up.
            other => JobError::transient(crate::error::describe(&other)),
        })
}

/// Runs a program for a kind: records where and with what, logs the
/// command line, and waits on a blocking thread.
async fn run_program(
    ctx: &JobContext,
    argv: Vec<String>,
    cwd: PathBuf,
    extra_env: Vec<(String, String)>,
) -> Result<command::Exit, JobError> {
    let mut env = vec![
        ("KOLLEGA_JOB_ID".to_string(), ctx.job.id.to_string()),
        (
            "KOLLEGA_JOB_ATTEMPT".to_string(),
            ctx.job.attempt.to_string(),
        ),
    ];
    if let Some(ws) = &ctx.job.workspace {
        env.push(("KOLLEGA_WORKSPACE".to_string(), ws.clone()));
    }
    env.extend(extra_env);
    let shown_env: serde_json::Map<String, Value> = env
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let id = ctx.job.id;
    let cwd_text = cwd.display().to_string();
    let env_json = Value::Object(shown_env);
    // Where it ran is shown in the job even if the store is busy now.
    if let Err(e) = ctx
        .db
        .call(move |store| {
            Ok(queue::set_place(
                &store.conn,
                id,
                &cwd_text,
                &env_json,
                super::now_ms(),
            )?)
        })
        .await
    {
        tracing::warn!(job = id, error = %e, "cannot record where a job runs");
    }
    ctx.log.info(&format!(
        "$ {}   (in {}, attempt {} of {})",
        shell_words(&argv),
        cwd.display(),
        ctx.job.attempt,
        ctx.job.max_attempts
    ));
    let spec = CommandSpec {
        argv,
        cwd,
        env,
        timeout: ctx
            .job
            .timeout_ms
            .map(|ms| Duration::from_millis(ms.max(0) as u64)),
        grace: ctx.grace,
    };
    let log = ctx.log.clone();
    let stop = ctx.stop.clone();
    let tee = ctx.tee;
    tokio::task::spawn_blocking(move || command::run(&spec, &log, tee, &stop))
        .await
        .map_err(|e| JobError::transient(format!("the job's thread failed: {e}")))?
        .map_err(|e| match e {
            SpawnError::Other(_) => JobError::transient(e.to_string()),
            // As a shell answers: 127 for a program that is not there, 126
            // for one that cannot run.
            SpawnError::NotFound(_) => JobError::permanent(e.to_string())
                .with_program(ProgramEnd::ended(127, EndCause::NotFound)),
            SpawnError::NotExecutable(_) => JobError::permanent(e.to_string())
                .with_program(ProgramEnd::ended(126, EndCause::NotExecutable)),
            SpawnError::NoDirectory(_) => JobError::permanent(e.to_string()),
        })
}

/// A command line as a person would type it.
pub(crate) fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|w| {
            if argv.len() > 1 && (w.is_empty() || command::needs_shell(w)) {
                format!("'{}'", w.replace('\'', "'\\''"))
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `command`: a program or shell line in the workspace's directory.
struct CommandKind;

impl Kind for CommandKind {
    fn kind(&self) -> JobKind {
        JobKind::Command
    }

    /// Room for a runner that dies (twice) under a command; a non-zero
    /// exit is retried only with `--retries`.
    fn max_attempts(&self) -> u32 {
        3
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        Box::pin(async move {
            let payload = CommandPayload::of(&ctx.job)?;
            let cwd = workdir(&ctx).await?;
            let env = payload.env.into_iter().collect();
            let exit = run_program(&ctx, payload.argv, cwd, env).await?;
            command_result(&exit)
        })
    }
}

/// A finished program as a result or an error; either says how it ended.
fn command_result(exit: &command::Exit) -> Result<Value, JobError> {
    let (err, cause) = if exit.stopped.is_some() {
        (JobError::failed("stopped"), Some(EndCause::Stopped))
    } else if exit.timed_out {
        (JobError::failed("timed out"), Some(EndCause::TimedOut))
    } else if exit.code == 0 {
        return Ok(ProgramEnd::exited(0).to_result());
    } else if exit.code == 127 {
        let message = "command not found (the shell answered 127); check the name and PATH";
        (JobError::permanent(message), Some(EndCause::NotFound))
    } else if exit.code == 126 {
        let message = "the command is not executable (the shell answered 126)";
        (JobError::permanent(message), Some(EndCause::NotExecutable))
    } else if let Some(sig) = exit.signal {
        let message = format!("killed by signal {sig}");
        (JobError::failed(message), Some(EndCause::Signal))
    } else {
        let message = format!("exited with code {}", exit.code);
        (JobError::failed(message), None)
    };
    Err(err.with_program(ProgramEnd {
        exit_code: exit.code,
        cause,
    }))
}

/// `git-push` and `git-pull`: the git program in the workspace's
/// repository, without a terminal, as `git::remote` says a push and a pull
/// are and reads what git answered.
struct GitKind {
    push: bool,
}

impl Kind for GitKind {
    fn kind(&self) -> JobKind {
        if self.push {
            JobKind::GitPush
        } else {
            JobKind::GitPull
        }
    }

    fn max_attempts(&self) -> u32 {
        4
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        let push = self.push;
        Box::pin(async move {
            let args = if push {
                remote::push_args(&PushSpec::of(&ctx.job)?, true)
            } else {
                PullPayload::of(&ctx.job)?;
                remote::pull_args(true)
            };
            let cwd = workdir(&ctx).await?;
            let argv = std::iter::once("git".to_string()).chain(args).collect();
            let env = remote::NETWORK_ENV
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let exit = run_program(&ctx, argv, cwd, env).await?;
            command_result(&exit).map_err(|mut e| {
                if exit.stopped.is_none() && !exit.timed_out {
                    let verdict = remote::verdict(&exit.stderr_tail);
                    // Else a dropped connection, a busy server.
                    e.class = if verdict.permanent {
                        ErrorClass::Permanent
                    } else {
                        ErrorClass::Transient
                    };
                    if let Some(said) = verdict.said {
                        e.message = format!("{}: {said}", e.message);
                    }
                }
                e
            })
        })
    }
}

/// `import`: a folder or ZIP into a SQLite workspace.
struct ImportKind;

impl Kind for ImportKind {
    fn kind(&self) -> JobKind {
        JobKind::Import
    }

    fn max_attempts(&self) -> u32 {
        2
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        Box::pin(async move {
            let payload = ImportPayload::of(&ctx.job)?;
            let options = crate::workspace::import::ImportOptions {
                name: payload.name,
                replace: payload.replace,
                respect_gitignore: payload.respect_gitignore,
            };
            let source = payload.source;
            ctx.log.info(&format!("importing {}", source.display()));
            let JobContext {
                data_dir,
                config,
                stop,
                log,
                progress,
                ..
            } = ctx;
            tokio::task::spawn_blocking(move || {
                // Its own connection: an import holds long transactions.
                let mut store = Store::open(&data_dir)
                    .map_err(|e| JobError::transient(crate::error::describe(&e)))?;
                let mut watch = ImportWatch {
                    total: entry_count(&source, &config),
                    log,
                    stop,
                    progress,
                    count: 0,
                    told: false,
                };
                let report = crate::workspace::import::import(
                    &mut store, &config, &source, &options, &mut watch,
                )
                .map_err(|e| JobError::permanent(crate::error::describe(&e)))?;
                serde_json::to_value(&report)
                    .map_err(|e| JobError::permanent(format!("cannot describe the import: {e}")))
            })
            .await
            .map_err(|e| JobError::transient(format!("the import's thread failed: {e}")))?
        })
    }
}

/// The entries of an import's source, for its progress; 0 (no progress
/// shown) when the source cannot be read, which the import then reports.
fn entry_count(source: &Path, config: &Config) -> u64 {
    crate::workspace::source::Source::open(source)
        .and_then(|s| s.entry_count(&config.ignored))
        .unwrap_or(0)
}

/// What an import job does as the import looks at each entry: counts it
/// into the progress, says how far it got now and then, and answers a
/// stop request once.
struct ImportWatch {
    log: LogWriter,
    stop: StopToken,
    progress: Progress,
    total: u64,
    count: u64,
    told: bool,
}

impl crate::workspace::import::ImportProgress for ImportWatch {
    fn entry(&mut self, path: &str) {
        self.count += 1;
        self.progress.set(self.count, self.total);
        if self.count.is_multiple_of(500) {
            self.log
                .info(&format!("{} entries looked at ({path})", self.count));
        }
        // An import cannot stop halfway (it publishes in one transaction);
        // a stop request is answered once, and the import runs to its end.
        if !self.told && self.stop.reason().is_some() {
            self.told = true;
            self.log
                .info("an import cannot stop halfway; it finishes first");
        }
    }
}

/// `export`: a workspace to a ZIP file or a folder.
struct ExportKind;

impl Kind for ExportKind {
    fn kind(&self) -> JobKind {
        JobKind::Export
    }

    fn max_attempts(&self) -> u32 {
        2
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        Box::pin(async move {
            let payload = ExportPayload::of(&ctx.job)?;
            let Some(mut workspace) = ctx.job.workspace.clone() else {
                return Err(JobError::permanent("the export job names no workspace"));
            };
            let job = ctx.job.clone();
            let place = ctx
                .db
                .call(move |store| place_of(store, &job))
                .await
                .map_err(|e| JobError::permanent(crate::error::describe(&e)))?;
            // Its name now: the workspace may have been renamed, never
            // replaced by another of the name.
            if let Some(Place::Store { name, .. } | Place::Git { name, .. }) = place {
                workspace = name;
            }
            ctx.log.info(&format!("exporting {workspace}"));
            let data_dir = ctx.data_dir.clone();
            let progress = ctx.progress.clone();
            let summary = tokio::task::spawn_blocking(move || {
                // Its own connection, so the runner's store (its heartbeats,
                // this job's progress) is not held while files are written.
                let store = Store::open(&data_dir)
                    .map_err(|e| JobError::transient(crate::error::describe(&e)))?;
                let mut written = ExportWatch(progress);
                crate::workspace::export::export(
                    &store,
                    &workspace,
                    &payload.target,
                    payload.force,
                    &mut written,
                )
                .map_err(|e| JobError::permanent(crate::error::describe(&e)))
            })
            .await
            .map_err(|e| JobError::transient(format!("the export's thread failed: {e}")))??;
            serde_json::to_value(&summary)
                .map_err(|e| JobError::permanent(format!("cannot describe the export: {e}")))
        })
    }
}

/// Counts an export's files into its job's progress.
struct ExportWatch(Progress);

impl crate::workspace::export::ExportProgress for ExportWatch {
    fn file(&mut self, done: u64, total: u64) {
        self.0.set(done, total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_read_as_typed() {
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(shell_words(&argv(&["cargo", "test"])), "cargo test");
        assert_eq!(
            shell_words(&argv(&["echo", "a b", "it's"])),
            "echo 'a b' 'it'\\''s'"
        );
        assert_eq!(
            shell_words(&argv(&["npm run build && ls"])),
            "npm run build && ls"
        );
    }

    #[test]
    fn exits_are_classified() {
        let exit = |code, signal| command::Exit {
            code,
            signal,
            timed_out: false,
            stopped: None,
            stderr_tail: String::new(),
        };
        assert_eq!(
            command_result(&exit(0, None)),
            Ok(serde_json::json!({ "exit_code": 0 }))
        );
        let e = command_result(&exit(2, None)).unwrap_err();
        assert_eq!(
            (e.class, e.program),
            (ErrorClass::Failed, Some(ProgramEnd::exited(2)))
        );
        let e = command_result(&exit(127, None)).unwrap_err();
        assert_eq!(e.class, ErrorClass::Permanent);
        assert_eq!(e.program, Some(ProgramEnd::ended(127, EndCause::NotFound)));
        let e = command_result(&exit(137, Some(9))).unwrap_err();
        assert!(e.message.contains("signal 9"));
        assert_eq!(e.program.and_then(|p| p.cause), Some(EndCause::Signal));
        let mut timed_out = exit(143, Some(15));
        timed_out.timed_out = true;
        let e = command_result(&timed_out).unwrap_err();
        assert_eq!(e.message, "timed out");
        assert_eq!(e.program, Some(ProgramEnd::ended(143, EndCause::TimedOut)));
    }

    #[test]
    fn import_and_export_count_their_progress_against_the_whole() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("app");
        std::fs::create_dir_all(src.join("node_modules/left-pad")).unwrap();
        std::fs::write(src.join("node_modules/left-pad/index.js"), "x\n").unwrap();
        for i in 0..4 {
            std::fs::write(src.join(format!("f{i}.txt")), format!("{i}\n")).unwrap();
        }
        let data = dir.path().join("data");
        let config = Config::load(Some(data.clone())).unwrap();
        // What an import prunes is not part of the whole.
        assert_eq!(entry_count(&src, &config), 4);
        assert_eq!(entry_count(&dir.path().join("gone"), &config), 0);

        let mut store = Store::open(&data).unwrap();
        let imported = Progress::default();
        let mut watch = ImportWatch {
            log: LogWriter::tail_only("test".into()),
            stop: StopToken::default(),
            progress: imported.clone(),
            total: 4,
            count: 0,
            told: false,
        };
        let options = crate::workspace::import::ImportOptions {
            name: Some("app".into()),
            ..Default::default()
        };
        crate::workspace::import::import(&mut store, &config, &src, &options, &mut watch).unwrap();
        assert_eq!(imported.get(), 100);

        let exported = Progress::default();
        let target = crate::workspace::export::ExportTarget::Dir(dir.path().join("out"));
        let mut watch = ExportWatch(exported.clone());
        crate::workspace::export::export(&store, "app", &target, false, &mut watch).unwrap();
        assert_eq!(exported.get(), 100);
    }
}
