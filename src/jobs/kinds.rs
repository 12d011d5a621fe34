//! Job kinds: what a job of each kind does, behind one trait that later
//! kinds (AI requests, meeting briefs) implement too.
//!
//! A kind gets a [`JobContext`] (the job row, its log, its stop token, the
//! store) and answers with a JSON result or a classified [`JobError`]; the
//! runner turns that into the job's next status.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::command::{self, CommandSpec, SpawnError, StopToken, Tee};
use super::log::LogWriter;
use super::queue::{self, Job};
use super::{JobError, JobsError, workcopy};
use crate::config::Config;
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

    /// Runs `f` with the store on this thread (blocking code only).
    pub(crate) fn blocking<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut store = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut store)
    }
}

/// What a kind gets to run one attempt.
pub(crate) struct JobContext {
    pub job: Job,
    pub data_dir: PathBuf,
    pub config: Arc<Config>,
    pub log: LogWriter,
    pub stop: StopToken,
    pub tee: Tee,
    pub db: Db,
    /// Between SIGTERM and SIGKILL when a command is stopped.
    pub grace: Duration,
}

/// A kind of job.
pub(crate) trait Kind: Send + Sync {
    fn name(&self) -> &'static str;
    /// Attempts a job of this kind gets unless it asks for others.
    fn max_attempts(&self) -> u32;
    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>>;
}

/// The kinds a runner knows, by name.
#[derive(Clone, Default)]
pub(crate) struct Registry {
    kinds: BTreeMap<&'static str, Arc<dyn Kind>>,
}

impl Registry {
    /// command, import, export, git-push, git-pull.
    pub(crate) fn standard() -> Registry {
        let mut r = Registry::default();
        r.register(Arc::new(CommandKind));
        r.register(Arc::new(ImportKind));
        r.register(Arc::new(ExportKind));
        r.register(Arc::new(GitKind { push: true }));
        r.register(Arc::new(GitKind { push: false }));
        r
    }

    pub(crate) fn register(&mut self, kind: Arc<dyn Kind>) {
        self.kinds.insert(kind.name(), kind);
    }

    pub(crate) fn get(&self, name: &str) -> Option<Arc<dyn Kind>> {
        self.kinds.get(name).cloned()
    }

    pub(crate) fn names(&self) -> Vec<&'static str> {
        self.kinds.keys().copied().collect()
    }
}

/// The attempts a job of `kind` gets unless it asks for others.
pub(crate) fn default_attempts(kind: &str) -> u32 {
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

/// A workspace name, or a folder.
pub(crate) fn resolve_place(store: &Store, workspace: &str) -> Result<Place, JobsError> {
    if let Some(ws) = workspaces::find(&store.conn, workspace)? {
        return Ok(match (ws.storage_type, ws.repo_path) {
            (StorageType::Git, Some(dir)) => Place::Git {
                name: ws.name,
                dir: PathBuf::from(dir),
            },
            _ => Place::Store {
                id: ws.id,
                name: ws.name,
            },
        });
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

/// Resolves the job's workspace to a directory, bringing a working copy
/// up to date first.
async fn workdir(ctx: &JobContext) -> Result<PathBuf, JobError> {
    let Some(workspace) = ctx.job.workspace.clone() else {
        return Ok(ctx.data_dir.clone());
    };
    let data_dir = ctx.data_dir.clone();
    let log = ctx.log.clone();
    ctx.db
        .call(move |store| {
            let place = resolve_place(store, &workspace)?;
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
        .call(move |store| queue::set_place(&store.conn, id, &cwd_text, &env_json, super::now_ms()))
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
            _ => JobError::permanent(e.to_string()),
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

fn argv_of(payload: &Value) -> Result<Vec<String>, JobError> {
    let argv: Vec<String> = payload
        .get("argv")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if argv.is_empty() {
        return Err(JobError::permanent(
            "the job has no command (payload.argv is empty)",
        ));
    }
    Ok(argv)
}

/// `command`: a program or shell line in the workspace's directory.
struct CommandKind;

impl Kind for CommandKind {
    fn name(&self) -> &'static str {
        "command"
    }

    /// Room for a runner that dies (twice) under a command; a non-zero
    /// exit is retried only with `--retries`.
    fn max_attempts(&self) -> u32 {
        3
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        Box::pin(async move {
            let argv = argv_of(&ctx.job.payload)?;
            let env: Vec<(String, String)> = ctx
                .job
                .payload
                .get("env")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            let cwd = workdir(&ctx).await?;
            let exit = run_program(&ctx, argv, cwd, env).await?;
            command_result(&exit)
        })
    }
}

/// A finished program as a result or an error.
fn command_result(exit: &command::Exit) -> Result<Value, JobError> {
    if exit.code == 0 && exit.stopped.is_none() && !exit.timed_out {
        return Ok(json!({ "exit_code": 0 }));
    }
    let mut err = if exit.stopped.is_some() {
        JobError::failed("stopped")
    } else if exit.timed_out {
        JobError::failed("timed out")
    } else if exit.code == 127 {
        JobError::permanent("command not found (the shell answered 127); check the name and PATH")
    } else if exit.code == 126 {
        JobError::permanent("the command is not executable (the shell answered 126)")
    } else if let Some(sig) = exit.signal {
        JobError::failed(format!("killed by signal {sig}"))
    } else {
        JobError::failed(format!("exited with code {}", exit.code))
    };
    err.exit_code = Some(exit.code);
    Err(err)
}

/// `git-push` and `git-pull`: the git program in the workspace's
/// repository, without a terminal.
struct GitKind {
    push: bool,
}

/// Answers of git that trying again will not change.
const GIT_PERMANENT: &[&str] = &[
    "Authentication failed",
    "Permission denied",
    "Repository not found",
    "could not read Username",
    "does not appear to be a git repository",
    "[rejected]",
    "Not possible to fast-forward",
    "not a git repository",
    "has no upstream branch",
    "no tracking information",
];

impl Kind for GitKind {
    fn name(&self) -> &'static str {
        if self.push { "git-push" } else { "git-pull" }
    }

    fn max_attempts(&self) -> u32 {
        4
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        let push = self.push;
        Box::pin(async move {
            let cwd = workdir(&ctx).await?;
            let mut argv: Vec<String> = if push {
                vec!["git".into(), "push".into(), "--progress".into()]
            } else {
                vec![
                    "git".into(),
                    "pull".into(),
                    "--ff-only".into(),
                    "--progress".into(),
                ]
            };
            let p = &ctx.job.payload;
            if push && p.get("set_upstream").and_then(Value::as_bool) == Some(true) {
                argv.push("--set-upstream".into());
            }
            if let Some(remote) = p.get("remote").and_then(Value::as_str) {
                argv.push("--".into());
                argv.push(remote.into());
                if let Some(refs) = p.get("refspecs").and_then(Value::as_array) {
                    argv.extend(refs.iter().filter_map(Value::as_str).map(String::from));
                }
            }
            let env = vec![("GIT_TERMINAL_PROMPT".to_string(), "0".to_string())];
            let exit = run_program(&ctx, argv, cwd, env).await?;
            match command_result(&exit) {
                Ok(v) => Ok(v),
                Err(mut e) if exit.stopped.is_none() && !exit.timed_out => {
                    if GIT_PERMANENT.iter().any(|m| exit.stderr_tail.contains(m)) {
                        e.class = super::ErrorClass::Permanent;
                    } else {
                        // A dropped connection, a busy server.
                        e.class = super::ErrorClass::Transient;
                    }
                    // git's own verdict ("fatal: …", "error: …"), else its last word.
                    let lines: Vec<&str> = exit
                        .stderr_tail
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .collect();
                    let said = lines
                        .iter()
                        .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
                        .or(lines.last());
                    if let Some(said) = said {
                        e.message = format!("{}: {said}", e.message);
                    }
                    Err(e)
                }
                Err(e) => Err(e),
            }
        })
    }
}

/// `import`: a folder or ZIP into a SQLite workspace.
struct ImportKind;

impl Kind for ImportKind {
    fn name(&self) -> &'static str {
        "import"
    }

    fn max_attempts(&self) -> u32 {
        2
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        Box::pin(async move {
            let p = ctx.job.payload.clone();
            let Some(source) = p.get("source").and_then(Value::as_str).map(PathBuf::from) else {
                return Err(JobError::permanent("the import job names no source"));
            };
            let options = crate::workspace::import::ImportOptions {
                name: p.get("name").and_then(Value::as_str).map(String::from),
                replace: p.get("replace").and_then(Value::as_bool).unwrap_or(false),
                respect_gitignore: p
                    .get("respect_gitignore")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            };
            ctx.log.info(&format!("importing {}", source.display()));
            let data_dir = ctx.data_dir.clone();
            let config = ctx.config.clone();
            let stop = ctx.stop.clone();
            let log = ctx.log.clone();
            tokio::task::spawn_blocking(move || {
                // Its own connection: an import holds long transactions.
                let mut store = Store::open(&data_dir)
                    .map_err(|e| JobError::transient(crate::error::describe(&e)))?;
                let mut progress = ImportLog {
                    log,
                    stop,
                    count: 0,
                    told: false,
                };
                let report = crate::workspace::import::import(
                    &mut store,
                    &config,
                    &source,
                    &options,
                    &mut progress,
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

struct ImportLog {
    log: LogWriter,
    stop: StopToken,
    count: u64,
    told: bool,
}

impl crate::workspace::import::ImportProgress for ImportLog {
    fn entry(&mut self, path: &str) {
        self.count += 1;
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
    fn name(&self) -> &'static str {
        "export"
    }

    fn max_attempts(&self) -> u32 {
        2
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        Box::pin(async move {
            let p = ctx.job.payload.clone();
            let Some(workspace) = ctx.job.workspace.clone() else {
                return Err(JobError::permanent("the export job names no workspace"));
            };
            let target = match (
                p.get("zip").and_then(Value::as_str),
                p.get("dir").and_then(Value::as_str),
            ) {
                (Some(zip), None) => crate::workspace::export::ExportTarget::Zip(zip.into()),
                (None, Some(dir)) => crate::workspace::export::ExportTarget::Dir(dir.into()),
                _ => {
                    return Err(JobError::permanent(
                        "the export job needs exactly one of payload.zip and payload.dir",
                    ));
                }
            };
            let force = p.get("force").and_then(Value::as_bool).unwrap_or(false);
            ctx.log.info(&format!("exporting {workspace}"));
            let summary = ctx
                .db
                .call(move |store| {
                    crate::workspace::export::export(store, &workspace, &target, force)
                        .map_err(|e| JobsError::BadInput(crate::error::describe(&e)))
                })
                .await
                .map_err(|e| JobError::permanent(e.to_string()))?;
            serde_json::to_value(&summary)
                .map_err(|e| JobError::permanent(format!("cannot describe the export: {e}")))
        })
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
        assert!(command_result(&exit(0, None)).is_ok());
        let e = command_result(&exit(2, None)).unwrap_err();
        assert_eq!(
            (e.class, e.exit_code),
            (super::super::ErrorClass::Failed, Some(2))
        );
        let e = command_result(&exit(127, None)).unwrap_err();
        assert_eq!(e.class, super::super::ErrorClass::Permanent);
        let e = command_result(&exit(137, Some(9))).unwrap_err();
        assert!(e.message.contains("signal 9"));
    }
}
