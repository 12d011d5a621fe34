//! What a job of each kind is asked to do: one typed payload per kind,
//! built by its constructor and turned into a [`NewJob`] with
//! [`JobPayload::job`], parsed once where the kind runs.
//!
//! The store keeps a payload as the JSON older kollegas wrote, field for
//! field: `{"argv": [...], "task": ..., "env": {...}}` for a command,
//! `{"source", "name", "replace", "respect_gitignore"}` for an import,
//! `{"zip", "dir", "force"}` for an export, [`PushSpec`] for a push, `{}`
//! for a pull. Fields are read one by one, so a payload that does not
//! parse is a permanent error that names its field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{JobError, JobKind};
use crate::git::remote::PushSpec;
use crate::store::jobs::{Job, NewJob};
use crate::workspace::export::ExportTarget;

/// Why a payload does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PayloadError {
    #[error("the {kind} job's payload is not a JSON object")]
    NotAnObject { kind: JobKind },
    #[error("the {kind} job's payload.{field} {problem}")]
    Field {
        kind: JobKind,
        field: &'static str,
        problem: String,
    },
}

impl From<PayloadError> for JobError {
    /// Trying again reads the same payload.
    fn from(e: PayloadError) -> JobError {
        JobError::permanent(e.to_string())
    }
}

/// A kind's payload.
pub(crate) trait JobPayload: Serialize + Sized {
    fn kind() -> JobKind;

    /// Reads the payload's fields.
    fn read(fields: &Fields<'_>) -> Result<Self, PayloadError>;

    /// A job of this payload with its kind's attempts, due now.
    fn job(&self, workspace: Option<String>) -> NewJob {
        let kind = Self::kind();
        NewJob {
            max_attempts: super::kinds::default_attempts(&kind),
            // A payload is plain data: maps with string keys, strings,
            // numbers; it always serializes.
            payload: serde_json::to_value(self).unwrap_or_else(|_| Value::Object(Map::new())),
            kind,
            workspace,
            ..NewJob::default()
        }
    }

    /// The payload of `job`, which must be of this kind.
    fn of(job: &Job) -> Result<Self, PayloadError> {
        let kind = Self::kind();
        let Value::Object(map) = &job.payload else {
            return Err(PayloadError::NotAnObject { kind });
        };
        Self::read(&Fields { kind, map })
    }
}

/// The fields of one payload, read by name.
pub(crate) struct Fields<'a> {
    kind: JobKind,
    map: &'a Map<String, Value>,
}

impl Fields<'_> {
    /// A field that may be absent (or null).
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        field: &'static str,
    ) -> Result<Option<T>, PayloadError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => T::deserialize(value)
                .map(Some)
                .map_err(|e| PayloadError::Field {
                    kind: self.kind.clone(),
                    field,
                    problem: format!("does not read: {e}"),
                }),
        }
    }

    /// A field whose absence means its default.
    pub(crate) fn or_default<T: DeserializeOwned + Default>(
        &self,
        field: &'static str,
    ) -> Result<T, PayloadError> {
        Ok(self.get(field)?.unwrap_or_default())
    }

    /// What is wrong with a field that reads.
    pub(crate) fn problem(&self, field: &'static str, problem: &str) -> PayloadError {
        PayloadError::Field {
            kind: self.kind.clone(),
            field,
            problem: problem.to_string(),
        }
    }
}

/// `command`: a program, or a shell line as the only word of `argv`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct CommandPayload {
    pub argv: Vec<String>,
    /// The task it runs, when it was started by name (`--task`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// What it adds to the environment.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// The schedule that enqueued it, and the fire time it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fire_at: Option<i64>,
}

impl CommandPayload {
    pub(crate) fn argv(argv: Vec<String>) -> CommandPayload {
        CommandPayload {
            argv,
            ..CommandPayload::default()
        }
    }

    /// A task's command line, started by the task's name.
    pub(crate) fn task(name: &str, line: String) -> CommandPayload {
        CommandPayload {
            argv: vec![line],
            task: Some(name.to_string()),
            ..CommandPayload::default()
        }
    }
}

impl JobPayload for CommandPayload {
    fn kind() -> JobKind {
        JobKind::Command
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        let argv: Vec<String> = f.or_default("argv")?;
        if argv.is_empty() {
            return Err(f.problem("argv", "is empty: the job has no command"));
        }
        Ok(CommandPayload {
            argv,
            task: f.get("task")?,
            env: f.or_default("env")?,
            schedule: f.get("schedule")?,
            fire_at: f.get("fire_at")?,
        })
    }
}

/// `import`: a folder or ZIP into a SQLite workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ImportPayload {
    pub source: PathBuf,
    /// The workspace's name; the source's name when absent.
    pub name: Option<String>,
    pub replace: bool,
    pub respect_gitignore: bool,
}

impl JobPayload for ImportPayload {
    fn kind() -> JobKind {
        JobKind::Import
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        Ok(ImportPayload {
            source: f
                .get("source")?
                .ok_or_else(|| f.problem("source", "is missing: the import names no source"))?,
            name: f.get("name")?,
            replace: f.or_default("replace")?,
            respect_gitignore: f.or_default("respect_gitignore")?,
        })
    }
}

/// `export`: a workspace (the job's) to a ZIP file or a folder.
#[derive(Debug, Clone)]
pub(crate) struct ExportPayload {
    pub target: ExportTarget,
    /// Overwrite what is there.
    pub force: bool,
}

impl Serialize for ExportPayload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// The stored shape: one of `zip` and `dir`, the other null.
        #[derive(Serialize)]
        struct Stored<'a> {
            zip: Option<&'a Path>,
            dir: Option<&'a Path>,
            force: bool,
        }
        let (zip, dir) = match &self.target {
            ExportTarget::Zip(path) => (Some(path.as_path()), None),
            ExportTarget::Dir(path) => (None, Some(path.as_path())),
        };
        Stored {
            zip,
            dir,
            force: self.force,
        }
        .serialize(s)
    }
}

impl JobPayload for ExportPayload {
    fn kind() -> JobKind {
        JobKind::Export
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        let target = match (f.get::<PathBuf>("zip")?, f.get::<PathBuf>("dir")?) {
            (Some(zip), None) => ExportTarget::Zip(zip),
            (None, Some(dir)) => ExportTarget::Dir(dir),
            (Some(_), Some(_)) => {
                return Err(f.problem(
                    "dir",
                    "is given with payload.zip; an export writes one of them",
                ));
            }
            (None, None) => {
                return Err(f.problem(
                    "zip",
                    "is missing, and so is payload.dir; an export needs one of them",
                ));
            }
        };
        Ok(ExportPayload {
            target,
            force: f.or_default("force")?,
        })
    }
}

/// `git-push`: what to push, as `git::remote` says.
impl JobPayload for PushSpec {
    fn kind() -> JobKind {
        JobKind::GitPush
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        Ok(PushSpec {
            remote: f.get("remote")?,
            refspecs: f.or_default("refspecs")?,
            set_upstream: f.or_default("set_upstream")?,
        })
    }
}

/// `git-pull`: `git pull --ff-only` of the current branch; nothing to say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct PullPayload {}

impl JobPayload for PullPayload {
    fn kind() -> JobKind {
        JobKind::GitPull
    }

    fn read(_: &Fields<'_>) -> Result<Self, PayloadError> {
        Ok(PullPayload {})
    }
}

/// The name of the `ask` kind: a model asked for a change.
pub(crate) const ASK: &str = "ask";

/// `ask`: a prompt and the files sent with it, to a provider and model
/// (the configured ones when absent), in a conversation when continuing
/// one, asking for an edit format (the configured one when absent). The
/// terminal UI's AI pane queues this JSON as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct AskPayload {
    pub prompt: String,
    pub files: Vec<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub conversation: Option<i64>,
    pub format: Option<String>,
}

impl JobPayload for AskPayload {
    fn kind() -> JobKind {
        JobKind::Other(ASK.into())
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        let prompt: String = f.or_default("prompt")?;
        if prompt.trim().is_empty() {
            return Err(f.problem("prompt", "is empty: say what to change"));
        }
        let provider: Option<String> = f.get("provider")?;
        if let Some(p) = &provider
            && !matches!(p.as_str(), "openai" | "anthropic" | "compat")
        {
            return Err(f.problem(
                "provider",
                &format!("is {p:?}: one of openai, anthropic, compat"),
            ));
        }
        let format: Option<String> = f.get("format")?;
        if let Some(name) = &format
            && !crate::config::EDIT_FORMATS.contains(&name.as_str())
        {
            return Err(f.problem(
                "format",
                &format!(
                    "is {name:?}: one of {}",
                    crate::config::EDIT_FORMATS.join(", ")
                ),
            ));
        }
        Ok(AskPayload {
            prompt,
            files: f.or_default("files")?,
            provider,
            model: f.get("model")?,
            conversation: f.get("conversation")?,
            format,
        })
    }
}

impl Job {
    /// A one-line description: the command line, or the kind.
    pub(crate) fn title(&self) -> String {
        match &self.kind {
            JobKind::Command => match CommandPayload::of(self) {
                Ok(command) => command.argv.join(" "),
                Err(_) => self.kind.to_string(),
            },
            JobKind::Other(name) if name == ASK => match AskPayload::of(self) {
                Ok(ask) => format!("ask: {}", ask.prompt.lines().next().unwrap_or_default()),
                Err(_) => self.kind.to_string(),
            },
            kind => kind.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job_of(new: &NewJob) -> Job {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::store::Store::open(dir.path()).unwrap();
        let id = crate::store::jobs::enqueue(&mut store.conn, new, 0).unwrap();
        crate::store::jobs::require(&store.conn, id).unwrap()
    }

    fn stored(kind: &str, payload: Value) -> Job {
        job_of(&NewJob {
            kind: kind.into(),
            payload,
            ..NewJob::default()
        })
    }

    #[test]
    fn payloads_are_stored_in_the_shape_older_kollegas_wrote() {
        let mut task = CommandPayload::task("test", "npm test".into());
        task.env.insert("FORCE_COLOR".into(), "1".into());
        let new = task.job(Some("shop".into()));
        assert_eq!(new.kind, JobKind::Command);
        assert_eq!(new.max_attempts, 3);
        assert_eq!(
            new.payload,
            json!({ "argv": ["npm test"], "task": "test", "env": { "FORCE_COLOR": "1" } })
        );
        assert_eq!(
            CommandPayload::argv(vec!["ls".into()]).job(None).payload,
            json!({ "argv": ["ls"] })
        );
        let import = ImportPayload {
            source: "/tmp/app.zip".into(),
            name: None,
            replace: true,
            respect_gitignore: false,
        };
        assert_eq!(
            import.job(None).payload,
            json!({ "source": "/tmp/app.zip", "name": null, "replace": true, "respect_gitignore": false })
        );
        let export = ExportPayload {
            target: ExportTarget::Zip("/tmp/out.zip".into()),
            force: false,
        };
        assert_eq!(
            export.job(Some("shop".into())).payload,
            json!({ "zip": "/tmp/out.zip", "dir": null, "force": false })
        );
        let push = PushSpec {
            remote: Some("origin".into()),
            refspecs: vec!["main".into()],
            set_upstream: true,
        };
        assert_eq!(
            push.job(None).payload,
            json!({ "remote": "origin", "refspecs": ["main"], "set_upstream": true })
        );
        assert_eq!(PullPayload {}.job(None).payload, json!({}));
        assert_eq!(PullPayload {}.job(None).kind.as_str(), "git-pull");
    }

    #[test]
    fn stored_payloads_read_back_as_they_were_built() {
        let mut command = CommandPayload::argv(vec!["make".into(), "test".into()]);
        command.schedule = Some(4);
        command.fire_at = Some(1_000);
        assert_eq!(CommandPayload::of(&job_of(&command.job(None))), Ok(command));
        let push = PushSpec::default();
        assert_eq!(PushSpec::of(&job_of(&push.job(None))), Ok(push));
        let export = ExportPayload::of(&stored("export", json!({ "dir": "/out", "zip": null })));
        assert!(
            matches!(export, Ok(ExportPayload { target: ExportTarget::Dir(d), force: false }) if d == Path::new("/out"))
        );
        // Rows written before the payloads were typed: a pull with an empty
        // object, a push without its optional fields.
        assert_eq!(
            PullPayload::of(&stored("git-pull", json!({}))),
            Ok(PullPayload {})
        );
        assert_eq!(
            PushSpec::of(&stored("git-push", json!({}))),
            Ok(PushSpec::default())
        );
    }

    #[test]
    fn a_payload_that_does_not_parse_names_its_field() {
        let error = |kind: &str, payload: Value| -> String {
            let job = stored(kind, payload);
            let e = match kind {
                "command" => CommandPayload::of(&job).err(),
                "import" => ImportPayload::of(&job).err(),
                "export" => ExportPayload::of(&job).err(),
                _ => PushSpec::of(&job).err(),
            };
            e.map(|e| JobError::from(e).message).unwrap_or_default()
        };
        assert_eq!(
            error("command", json!({})),
            "the command job's payload.argv is empty: the job has no command"
        );
        assert!(
            error("command", json!({ "argv": "ls" }))
                .starts_with("the command job's payload.argv does not read")
        );
        assert!(
            error("command", json!({ "argv": ["ls"], "env": { "A": 1 } })).contains("payload.env")
        );
        assert!(error("import", json!({ "name": "x" })).contains("payload.source is missing"));
        assert!(
            error("import", json!({ "source": "/a", "replace": "yes" }))
                .contains("payload.replace")
        );
        assert!(error("export", json!({ "force": true })).contains("payload.zip is missing"));
        assert!(error("export", json!({ "zip": "/a", "dir": "/b" })).contains("payload.dir"));
        assert!(error("git-push", json!({ "refspecs": [1] })).contains("payload.refspecs"));
        assert_eq!(
            error("command", json!(["ls"])),
            "the command job's payload is not a JSON object"
        );
    }

    #[test]
    fn a_title_is_the_command_line_or_the_kind() {
        let job = job_of(&CommandPayload::argv(vec!["cargo".into(), "test".into()]).job(None));
        assert_eq!(job.title(), "cargo test");
        assert_eq!(stored("command", json!({})).title(), "command");
        assert_eq!(job_of(&PushSpec::default().job(None)).title(), "git-push");
    }

    #[test]
    fn an_ask_payload_reads_the_json_the_ai_pane_queues() {
        let job = stored(
            "ask",
            json!({"prompt": "rename foo", "files": ["src/a.rs"], "provider": "anthropic",
                   "model": null, "conversation": 4, "format": "unified-diff"}),
        );
        let ask = AskPayload::of(&job).unwrap();
        assert_eq!(ask.files, ["src/a.rs"]);
        assert_eq!(ask.conversation, Some(4));
        assert_eq!(ask.provider.as_deref(), Some("anthropic"));
        assert_eq!(job.title(), "ask: rename foo");
        let written = job_of(&ask.job(None));
        assert_eq!(AskPayload::of(&written).unwrap(), ask);
        for (payload, field) in [
            (json!({"prompt": " "}), "payload.prompt"),
            (
                json!({"prompt": "x", "provider": "gemini"}),
                "payload.provider",
            ),
            (json!({"prompt": "x", "format": "xml"}), "payload.format"),
            (json!({"prompt": "x", "files": "a.rs"}), "payload.files"),
        ] {
            let err = AskPayload::of(&stored("ask", payload))
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{err}");
        }
    }
}
