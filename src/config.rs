//! Configuration: where kollega keeps its data, and the limits it enforces.
//!
//! Values come from, in rising priority: built-in defaults, `config.toml` in
//! the config directory, and `KOLLEGA_*` environment variables. Paths come from
//! `directories` unless `--data-dir` or `KOLLEGA_DATA_DIR` say otherwise.

use crate::error::Hint;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod duration;
mod meetings;

pub(crate) use duration::{duration, shown as shown_duration};
pub use meetings::MeetingsConfig;

pub(crate) const DATA_DIR_ENV: &str = "KOLLEGA_DATA_DIR";
pub(crate) const CONFIG_DIR_ENV: &str = "KOLLEGA_CONFIG_DIR";

/// What an import skips unless configured otherwise, in gitignore syntax
/// (see `workspace::ignore_rules`): the folders of tools and builds at the
/// root only, and at any depth what is never source (every package of a
/// monorepo has its own `node_modules`; a nested `.git` is another
/// repository or a submodule's link).
pub(crate) const DEFAULT_IGNORED: &[&str] = &[
    ".git",
    "node_modules/",
    "/.next/",
    "/dist/",
    "/build/",
    "/target/",
    ".DS_Store",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}={value:?} is not a valid size or count: {message}")]
    Env {
        name: &'static str,
        value: String,
        message: String,
    },
    #[error("environment variable {name}={value:?} is not an http(s) URL")]
    EnvUrl { name: &'static str, value: String },
    #[error("no data directory: the platform gives none for this user")]
    NoDataDir,
    #[error("environment variable {name} is set but empty")]
    EmptyEnv { name: &'static str },
}

impl Hint for ConfigError {
    fn hint(&self) -> String {
        let hint = match self {
            ConfigError::Read { .. } | ConfigError::Parse { .. } => {
                "fix the file (see docs/storage.md for the keys) or move it aside"
            }
            ConfigError::Env { .. } => {
                "use a whole number, optionally with KB, MB, GB, KiB, MiB or GiB"
            }
            ConfigError::EnvUrl { .. } => {
                "give a URL starting with http:// or https://, or unset it"
            }
            ConfigError::NoDataDir => "pass --data-dir DIR or set KOLLEGA_DATA_DIR",
            ConfigError::EmptyEnv { .. } => {
                "give it a folder, or unset it to use the default (`kollega doctor` shows which)"
            }
        };
        hint.into()
    }
}

/// Limits the store and the importer enforce. Each can be raised in
/// `config.toml` under `[limits]` or with the environment variable named in
/// [`Limits::ENV`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_workspaces: u64,
    pub max_workspace_bytes: u64,
    pub max_file_bytes: u64,
    pub max_zip_entries: u64,
    pub max_zip_bytes: u64,
    pub max_zip_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_workspaces: 50,
            max_workspace_bytes: 200 * 1024 * 1024,
            max_file_bytes: 1024 * 1024,
            max_zip_entries: 50_000,
            max_zip_bytes: 1024 * 1024 * 1024,
            max_zip_ratio: 200,
        }
    }
}

impl Limits {
    /// (config key, environment variable) for each limit, in field order.
    pub(crate) const ENV: [(&'static str, &'static str); 6] = [
        ("max_workspaces", "KOLLEGA_MAX_WORKSPACES"),
        ("max_workspace_bytes", "KOLLEGA_MAX_WORKSPACE_BYTES"),
        ("max_file_bytes", "KOLLEGA_MAX_FILE_BYTES"),
        ("max_zip_entries", "KOLLEGA_MAX_ZIP_ENTRIES"),
        ("max_zip_bytes", "KOLLEGA_MAX_ZIP_BYTES"),
        ("max_zip_ratio", "KOLLEGA_MAX_ZIP_RATIO"),
    ];

    fn slot(&mut self, key: &str) -> Option<&mut u64> {
        Some(match key {
            "max_workspaces" => &mut self.max_workspaces,
            "max_workspace_bytes" => &mut self.max_workspace_bytes,
            "max_file_bytes" => &mut self.max_file_bytes,
            "max_zip_entries" => &mut self.max_zip_entries,
            "max_zip_bytes" => &mut self.max_zip_bytes,
            "max_zip_ratio" => &mut self.max_zip_ratio,
            _ => return None,
        })
    }

    /// How a user raises the limit named by its config key.
    pub(crate) fn how_to_raise(key: &str) -> String {
        let env = Self::ENV
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, e)| *e)
            .unwrap_or("KOLLEGA_…");
        format!("raise `{key}` under [limits] in config.toml, or set {env}")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub config_file: Option<PathBuf>,
    pub limits: Limits,
    /// What an import skips, as gitignore lines (`[import] ignore`).
    pub ignored: Vec<String>,
    /// Files staged per transaction during an import; a killed import
    /// resumes from the last committed batch.
    pub import_batch_files: usize,
    /// The config directory: user themes, keymaps.
    pub config_dir: Option<PathBuf>,
    /// Theme name (`themes/<name>.toml`); `KOLLEGA_THEME` overrides.
    pub theme: String,
    /// Keymap merged over the defaults (`keymaps/<name>.toml`), if any.
    pub keymap: Option<String>,
    /// Long lines wrap at the editor's width (`[ui] soft_wrap`); off, they
    /// scroll sideways. `alt-z` or `:set wrap` switches while running.
    pub soft_wrap: bool,
    pub jobs: JobsConfig,
    pub ai: AiConfig,
    /// `[meetings]`: nudges, retention, backups.
    pub meetings: MeetingsConfig,
}

/// `[ai]`: which provider an `ask` uses, how far it goes, and per provider
/// (`[ai.openai]`, `[ai.anthropic]`, `[ai.compat]`) its base URL, model
/// and the edit format it is asked for. Keys are never read from here:
/// they come from the environment only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiConfig {
    /// `openai`, `anthropic` or `compat`.
    pub provider: String,
    /// Follow-ups that send an edit that did not apply back to the model.
    pub max_rounds: u32,
    /// Tokens of context (files, the workspace map) a request may carry.
    pub budget_tokens: usize,
    /// `[ai] connect_timeout`: how long a call waits for its connection,
    /// unless the provider's table says otherwise (default 10 s).
    pub connect_timeout: Option<std::time::Duration>,
    /// `[ai] idle_timeout`: how long a call waits for each next piece of
    /// the answer, unless the provider's table says otherwise (default
    /// 120 s).
    pub idle_timeout: Option<std::time::Duration>,
    /// `[ai] commit_applies`: every apply in a git workspace is committed
    /// with the patch's message (off by default).
    pub commit_applies: bool,
    pub openai: AiProviderConfig,
    pub anthropic: AiProviderConfig,
    pub compat: AiProviderConfig,
}

/// One provider's `[ai.NAME]` table; the environment's base URL wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiProviderConfig {
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// The edit format asked for: `search-replace`, `unified-diff`,
    /// `apply-patch` or `line-ranges`.
    pub format: Option<String>,
    /// This provider's connect timeout, as `10s`, `500ms` or `2m`
    /// (checked when the file is read).
    pub connect_timeout: Option<String>,
    /// This provider's idle timeout, written the same way.
    pub idle_timeout: Option<String>,
}

/// The edit formats a model can be asked for, by their config names.
pub(crate) const EDIT_FORMATS: [&str; 4] = [
    "search-replace",
    "unified-diff",
    "apply-patch",
    "line-ranges",
];

impl Default for AiConfig {
    fn default() -> AiConfig {
        AiConfig {
            provider: "openai".into(),
            max_rounds: 2,
            budget_tokens: 32_000,
            connect_timeout: None,
            idle_timeout: None,
            commit_applies: false,
            openai: AiProviderConfig::default(),
            anthropic: AiProviderConfig::default(),
            compat: AiProviderConfig::default(),
        }
    }
}

impl AiConfig {
    /// The `[ai.NAME]` table of provider `name`.
    pub(crate) fn provider(&self, name: &str) -> Option<&AiProviderConfig> {
        match name {
            "openai" => Some(&self.openai),
            "anthropic" => Some(&self.anthropic),
            "compat" => Some(&self.compat),
            _ => None,
        }
    }

    /// The connect and idle timeouts of provider `name`: its table's, else
    /// `[ai]`'s; `None` where neither sets one (the caller's default).
    pub(crate) fn timeouts(
        &self,
        name: &str,
    ) -> (Option<std::time::Duration>, Option<std::time::Duration>) {
        let table = self.provider(name);
        let of = |value: Option<&String>| value.and_then(|v| parse_duration(v).ok());
        (
            of(table.and_then(|t| t.connect_timeout.as_ref())).or(self.connect_timeout),
            of(table.and_then(|t| t.idle_timeout.as_ref())).or(self.idle_timeout),
        )
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AiSection {
    provider: Option<String>,
    max_rounds: Option<u32>,
    budget_tokens: Option<usize>,
    connect_timeout: Option<String>,
    idle_timeout: Option<String>,
    commit_applies: Option<bool>,
    openai: Option<AiProviderConfig>,
    anthropic: Option<AiProviderConfig>,
    compat: Option<AiProviderConfig>,
}

/// `[jobs]`: how runners behave.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Jobs one runner runs at once.
    pub parallel: usize,
    /// How long a runner's claim on a job lasts without a heartbeat; a
    /// job whose runner died is taken again after this.
    pub lease: std::time::Duration,
    /// Between SIGTERM and SIGKILL when a command is stopped.
    pub grace: std::time::Duration,
    /// What new schedules do with runs missed while nothing ran.
    pub catch_up: String,
}

impl Default for JobsConfig {
    fn default() -> JobsConfig {
        JobsConfig {
            parallel: std::thread::available_parallelism().map_or(2, |n| n.get()),
            lease: std::time::Duration::from_secs(30),
            grace: std::time::Duration::from_secs(5),
            catch_up: "once".into(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    limits: toml::Table,
    #[serde(default)]
    import: ImportSection,
    #[serde(default)]
    ui: UiSection,
    #[serde(default)]
    jobs: JobsSection,
    #[serde(default)]
    ai: AiSection,
    #[serde(default)]
    meetings: meetings::MeetingsSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsSection {
    parallel: Option<usize>,
    lease_seconds: Option<f64>,
    grace_seconds: Option<f64>,
    catch_up: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UiSection {
    theme: Option<String>,
    keymap: Option<String>,
    soft_wrap: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportSection {
    ignore: Option<Vec<String>>,
    batch_files: Option<usize>,
}

impl Config {
    /// Loads the configuration. `data_dir` is the `--data-dir` flag.
    pub fn load(data_dir: Option<PathBuf>) -> Result<Config, ConfigError> {
        let (config, problems) = Config::load_lenient(data_dir)?;
        match problems.into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(config),
        }
    }

    /// The configuration as far as it reads: where the data and config
    /// directories are must be known, but a bad `config.toml` or variable
    /// is returned beside the defaults it leaves in place (for `doctor`,
    /// which reports it instead of failing).
    pub(crate) fn load_lenient(
        data_dir: Option<PathBuf>,
    ) -> Result<(Config, Vec<ConfigError>), ConfigError> {
        let dirs = directories::ProjectDirs::from("dev", "kollega", "kollega");
        let data_dir = match data_dir {
            Some(dir) => dir,
            None => match env_path(DATA_DIR_ENV)? {
                Some(dir) => dir,
                None => dirs
                    .as_ref()
                    .map(|d| d.data_dir().to_path_buf())
                    .ok_or(ConfigError::NoDataDir)?,
            },
        };
        let config_dir = match env_path(CONFIG_DIR_ENV)? {
            Some(dir) => Some(dir),
            None => dirs.as_ref().map(|d| d.config_dir().to_path_buf()),
        };
        let config_file = config_dir.as_ref().map(|d| d.join("config.toml"));

        let mut config = Config {
            data_dir,
            config_file: None,
            limits: Limits::default(),
            ignored: DEFAULT_IGNORED.iter().map(|s| s.to_string()).collect(),
            import_batch_files: 200,
            config_dir,
            theme: "dark".into(),
            keymap: None,
            soft_wrap: false,
            jobs: JobsConfig::default(),
            ai: AiConfig::default(),
            meetings: MeetingsConfig::default(),
        };
        let mut problems = Vec::new();
        if let Some(path) = config_file.filter(|p| p.is_file()) {
            match config.apply_file(&path) {
                Ok(()) => config.config_file = Some(path),
                Err(e) => problems.push(e),
            }
        }
        if let Err(e) = config.apply_env(|name| std::env::var(name).ok()) {
            problems.push(e);
        }
        Ok((config, problems))
    }

    fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let parse_err = |message: String| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let file: FileConfig =
            toml::from_str(&text).map_err(|e| parse_err(toml_message(&text, &e)))?;
        for (key, value) in &file.limits {
            let slot = self
                .limits
                .slot(key)
                .ok_or_else(|| parse_err(format!("unknown key `limits.{key}`")))?;
            *slot = match value {
                toml::Value::Integer(n) if *n > 0 => *n as u64,
                toml::Value::String(s) => {
                    parse_size(s).map_err(|m| parse_err(format!("`limits.{key}` = {s:?}: {m}")))?
                }
                other => {
                    return Err(parse_err(format!(
                        "`limits.{key}` must be a positive number or a size like \"200MiB\", found {other}"
                    )));
                }
            };
        }
        if let Some(ignore) = file.import.ignore {
            for pattern in &ignore {
                crate::workspace::ignore_rules::check_pattern(pattern).map_err(|m| {
                    parse_err(format!(
                        "`import.ignore` line {pattern:?} is not a gitignore pattern: {m}"
                    ))
                })?;
            }
            self.ignored = ignore;
        }
        if let Some(n) = file.import.batch_files {
            self.import_batch_files = n.max(1);
        }
        if let Some(theme) = file.ui.theme {
            self.theme = theme;
        }
        if file.ui.keymap.is_some() {
            self.keymap = file.ui.keymap;
        }
        if let Some(wrap) = file.ui.soft_wrap {
            self.soft_wrap = wrap;
        }
        let jobs = file.jobs;
        if let Some(n) = jobs.parallel {
            self.jobs.parallel = n.clamp(1, 256);
        }
        let seconds = |key: &str, v: f64| {
            if v.is_finite() && (0.1..=86_400.0).contains(&v) {
                Ok(std::time::Duration::from_secs_f64(v))
            } else {
                Err(parse_err(format!(
                    "`jobs.{key}` = {v}: give seconds between 0.1 and 86400"
                )))
            }
        };
        if let Some(v) = jobs.lease_seconds {
            self.jobs.lease = seconds("lease_seconds", v)?;
        }
        if let Some(v) = jobs.grace_seconds {
            self.jobs.grace = seconds("grace_seconds", v)?;
        }
        if let Some(policy) = jobs.catch_up {
            if !matches!(policy.as_str(), "once" | "skip" | "all") {
                return Err(parse_err(format!(
                    "`jobs.catch_up` = {policy:?}: one of \"once\", \"skip\", \"all\""
                )));
            }
            self.jobs.catch_up = policy;
        }
        self.meetings.apply(file.meetings).map_err(parse_err)?;
        self.apply_ai(file.ai, &text).map_err(parse_err)
    }

    /// `[ai]`; a wrong value is named with its line.
    fn apply_ai(&mut self, ai: AiSection, text: &str) -> Result<(), String> {
        let at = |key: &str| match line_of(text, key) {
            Some(line) => format!("line {line}: "),
            None => String::new(),
        };
        if let Some(provider) = ai.provider {
            if !matches!(provider.as_str(), "openai" | "anthropic" | "compat") {
                return Err(format!(
                    "{}`ai.provider` = {provider:?}: one of \"openai\", \"anthropic\", \"compat\"",
                    at("provider")
                ));
            }
            self.ai.provider = provider;
        }
        if let Some(rounds) = ai.max_rounds {
            if rounds > 10 {
                return Err(format!(
                    "{}`ai.max_rounds` = {rounds}: give 0 to 10 follow-ups",
                    at("max_rounds")
                ));
            }
            self.ai.max_rounds = rounds;
        }
        if let Some(budget) = ai.budget_tokens {
            if !(1_000..=2_000_000).contains(&budget) {
                return Err(format!(
                    "{}`ai.budget_tokens` = {budget}: give 1000 to 2000000 tokens",
                    at("budget_tokens")
                ));
            }
            self.ai.budget_tokens = budget;
        }
        let timeout = |key: &str, value: &str| {
            parse_duration(value).map_err(|why| {
                format!(
                    "{}`ai.{key}` = {value:?}: {why}",
                    at(key.rsplit('.').next().unwrap_or(key))
                )
            })
        };
        if let Some(commit) = ai.commit_applies {
            self.ai.commit_applies = commit;
        }
        if let Some(value) = &ai.connect_timeout {
            self.ai.connect_timeout = Some(timeout("connect_timeout", value)?);
        }
        if let Some(value) = &ai.idle_timeout {
            self.ai.idle_timeout = Some(timeout("idle_timeout", value)?);
        }
        for (name, table, slot) in [
            ("openai", ai.openai, &mut self.ai.openai),
            ("anthropic", ai.anthropic, &mut self.ai.anthropic),
            ("compat", ai.compat, &mut self.ai.compat),
        ] {
            let Some(table) = table else { continue };
            if let Some(format) = &table.format
                && !EDIT_FORMATS.contains(&format.as_str())
            {
                return Err(format!(
                    "{}`ai.{name}.format` = {format:?}: one of {}",
                    at("format"),
                    EDIT_FORMATS.map(|f| format!("{f:?}")).join(", ")
                ));
            }
            if let Some(url) = &table.base_url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(format!(
                    "{}`ai.{name}.base_url` = {url:?}: give an http(s) URL",
                    at("base_url")
                ));
            }
            for (key, value) in [
                ("connect_timeout", &table.connect_timeout),
                ("idle_timeout", &table.idle_timeout),
            ] {
                if let Some(value) = value {
                    timeout(&format!("{name}.{key}"), value)?;
                }
            }
            *slot = table;
        }
        Ok(())
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for (key, name) in Limits::ENV {
            if let Some(value) = get(name) {
                let parsed = parse_size(&value).map_err(|message| ConfigError::Env {
                    name,
                    value: value.clone(),
                    message,
                })?;
                if let Some(slot) = self.limits.slot(key) {
                    *slot = parsed;
                }
            }
        }
        if let Some(theme) = get("KOLLEGA_THEME").filter(|t| !t.is_empty()) {
            self.theme = theme;
        }
        if let Some(keymap) = get("KOLLEGA_KEYMAP").filter(|k| !k.is_empty()) {
            self.keymap = Some(keymap);
        }
        for (name, slot) in [
            ("KOLLEGA_JOBS_LEASE_SECONDS", &mut self.jobs.lease),
            ("KOLLEGA_JOBS_GRACE_SECONDS", &mut self.jobs.grace),
        ] {
            if let Some(value) = get(name) {
                let parsed = value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && (0.1..=86_400.0).contains(v))
                    .ok_or_else(|| ConfigError::Env {
                        name,
                        value: value.clone(),
                        message: "give seconds between 0.1 and 86400".into(),
                    })?;
                *slot = std::time::Duration::from_secs_f64(parsed);
            }
        }
        if let Some(value) = get("KOLLEGA_JOBS_PARALLEL") {
            let parsed = parse_size(&value).map_err(|message| ConfigError::Env {
                name: "KOLLEGA_JOBS_PARALLEL",
                value: value.clone(),
                message,
            })?;
            self.jobs.parallel = parsed.clamp(1, 256) as usize;
        }
        if let Some(value) = get("KOLLEGA_IMPORT_BATCH_FILES") {
            let parsed = parse_size(&value).map_err(|message| ConfigError::Env {
                name: "KOLLEGA_IMPORT_BATCH_FILES",
                value: value.clone(),
                message,
            })?;
            self.import_batch_files = parsed.clamp(1, 100_000) as usize;
        }
        if let Some(hook) = get(meetings::WEBHOOK_ENV) {
            self.meetings
                .apply_webhook_env(&hook)
                .map_err(|_| ConfigError::EnvUrl {
                    name: meetings::WEBHOOK_ENV,
                    value: hook,
                })?;
        }
        Ok(())
    }
}

/// A folder from the environment; set but empty is a mistake, never a
/// silent fallback to the default.
fn env_path(name: &'static str) -> Result<Option<PathBuf>, ConfigError> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(v) if v.to_string_lossy().trim().is_empty() => Err(ConfigError::EmptyEnv { name }),
        Some(v) => Ok(Some(PathBuf::from(v))),
    }
}

/// The line (from 1) where `key = ` is first set in a TOML text.
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// A TOML error of `text` in one line: the line number and toml's own
/// words, not its drawing.
pub(crate) fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let line = e.span().map(|span| {
        let before = &text.as_bytes()[..span.start.min(text.len())];
        before.iter().filter(|&&b| b == b'\n').count() + 1
    });
    match line {
        Some(line) => format!("line {line}: {}", e.message()),
        None => e.message().to_string(),
    }
}

/// Parses "1048576", "200MiB", "1 MB", "2GiB" into a positive number.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| "expected a whole number".to_string())?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        other => return Err(format!("unknown unit {other:?}")),
    };
    let value = number
        .checked_mul(factor)
        .ok_or_else(|| "number too large".to_string())?;
    if value == 0 {
        return Err("must be greater than zero".to_string());
    }
    Ok(value)
}

/// A timeout as the config writes one (`10s`, `1.5s`, `500ms`, `2m`):
/// between 0.1 s and a day.
pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    duration(
        text,
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(86_400),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("200MiB"), Ok(200 << 20));
        assert_eq!(parse_size("1 MB"), Ok(1_000_000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }

    #[test]
    fn config_file_sets_limits_and_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[limits]\nmax_file_bytes = \"2MiB\"\nmax_workspaces = 3\n[import]\nignore = [\"vendor\"]\n",
        )
        .unwrap();
        let mut config = Config::load(Some(dir.path().to_path_buf())).unwrap();
        config.apply_file(&path).unwrap();
        assert_eq!(config.limits.max_file_bytes, 2 << 20);
        assert_eq!(config.limits.max_workspaces, 3);
        assert_eq!(config.ignored, vec!["vendor".to_string()]);

        std::fs::write(&path, "[limits]\nmax_wrkspaces = 3\n").unwrap();
        let err = config.apply_file(&path).unwrap_err().to_string();
        assert!(err.contains("limits.max_wrkspaces"), "{err}");
        assert!(err.contains("config.toml"), "{err}");
    }

    #[test]
    fn a_bad_key_at_the_start_of_a_line_is_reported_on_that_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[ui]\ntheme = \"dark\"\nthem = \"light\"\n").unwrap();
        let mut config = Config::load(Some(dir.path().to_path_buf())).unwrap();
        let err = config.apply_file(&path).unwrap_err().to_string();
        assert!(err.contains("line 3:") && err.contains("them"), "{err}");
    }

    #[test]
    fn environment_overrides_and_names_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::load(Some(dir.path().to_path_buf())).unwrap();
        config
            .apply_env(|n| (n == "KOLLEGA_MAX_FILE_BYTES").then(|| "10KiB".to_string()))
            .unwrap();
        assert_eq!(config.limits.max_file_bytes, 10 << 10);
        let err = config
            .apply_env(|n| (n == "KOLLEGA_MAX_WORKSPACES").then(|| "lots".to_string()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("KOLLEGA_MAX_WORKSPACES"), "{err}");
    }

    #[test]
    fn ai_timeouts_are_read_per_provider_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[ai]\nconnect_timeout = \"3s\"\nidle_timeout = \"2m\"\n[ai.compat]\nidle_timeout = \"500ms\"\n",
        )
        .unwrap();
        let mut config = Config::load(Some(dir.path().to_path_buf())).unwrap();
        config.apply_file(&path).unwrap();
        let secs = |s: f64| Some(std::time::Duration::from_secs_f64(s));
        assert_eq!(config.ai.timeouts("compat"), (secs(3.0), secs(0.5)));
        assert_eq!(config.ai.timeouts("openai"), (secs(3.0), secs(120.0)));
        for (bad, why) in [
            ("ten s", "is not a duration"),
            ("5 days", "is not a duration"),
            ("20ms", "100ms to a day"),
        ] {
            std::fs::write(
                &path,
                format!("[ai]\nmax_rounds = 2\n\n[ai.openai]\nconnect_timeout = \"{bad}\"\n"),
            )
            .unwrap();
            let err = config.apply_file(&path).unwrap_err().to_string();
            assert!(
                err.contains("line 5:")
                    && err.contains("ai.openai.connect_timeout")
                    && err.contains(why),
                "{err}"
            );
        }
    }

    #[test]
    fn the_ai_section_sets_providers_and_names_a_bad_value_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[ai]\nprovider = \"anthropic\"\nmax_rounds = 1\n[ai.compat]\nbase_url = \"http://127.0.0.1:8080/v1\"\nmodel = \"qwen\"\nformat = \"unified-diff\"\n",
        )
        .unwrap();
        let mut config = Config::load(Some(dir.path().to_path_buf())).unwrap();
        config.apply_file(&path).unwrap();
        assert_eq!(config.ai.provider, "anthropic");
        assert_eq!(config.ai.max_rounds, 1);
        assert_eq!(config.ai.compat.format.as_deref(), Some("unified-diff"));
        assert_eq!(
            config
                .ai
                .provider("compat")
                .and_then(|p| p.model.as_deref()),
            Some("qwen")
        );
        std::fs::write(
            &path,
            "[ai]\nmax_rounds = 2\n\n[ai.openai]\nformat = \"xml\"\n",
        )
        .unwrap();
        let err = config.apply_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 5:") && err.contains("ai.openai.format"),
            "{err}"
        );
        std::fs::write(&path, "[ai]\nprovider = \"gemini\"\n").unwrap();
        let err = config.apply_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 2:") && err.contains("config.toml"),
            "{err}"
        );
        std::fs::write(&path, "[ai.openai]\nkey = \"sk-no\"\n").unwrap();
        let err = config.apply_file(&path).unwrap_err().to_string();
        assert!(err.contains("line 2:") && err.contains("key"), "{err}");
    }
}
