//! `kollega doctor`: checks of the store, the data directory and the
//! machine, each with a status and a detail a user can act on.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde::Serialize;

use std::process::ExitCode;

use super::output::human_bytes;
use crate::config::{Config, ConfigError};
use crate::error::Error;
use crate::store::{DB_FILE, SCHEMA_VERSION, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub ok: bool,
    pub checks: Vec<Check>,
}

/// Provider keys kollega reads from the environment; only names are shown.
const KEY_VARS: &[&str] = &["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN"];

/// Below this much free space on the data directory's disk, doctor fails.
const MIN_FREE_BYTES: u64 = 100 * 1024 * 1024;

pub fn run(config: &Config, problems: &[ConfigError]) -> DoctorReport {
    let mut checks = Vec::new();
    let mut add = |name, status, detail: String| {
        checks.push(Check {
            name,
            status,
            detail,
        })
    };

    match Store::open_read(&config.data_dir) {
        Ok(store) => {
            if store.read_only() {
                add(
                    "store",
                    Status::Warn,
                    format!(
                        "opens read-only: {} (this user may read it, not change it; imports, saves and jobs fail)",
                        store.path().display()
                    ),
                );
            } else {
                add(
                    "store",
                    Status::Ok,
                    format!("opens: {}", store.path().display()),
                );
            }
            match store.quick_check() {
                Ok(result) if result == "ok" => {
                    add("integrity", Status::Ok, "PRAGMA quick_check: ok".into())
                }
                Ok(result) => add(
                    "integrity",
                    Status::Fail,
                    format!("PRAGMA quick_check: {result}"),
                ),
                Err(e) => add("integrity", Status::Fail, e.to_string()),
            }
            match store.schema_version() {
                Ok(v) if v == SCHEMA_VERSION => add("schema", Status::Ok, format!("version {v}")),
                Ok(v) => add(
                    "schema",
                    Status::Fail,
                    format!("version {v}, this kollega writes {SCHEMA_VERSION}"),
                ),
                Err(e) => add("schema", Status::Fail, e.to_string()),
            }
            match crate::store::workspaces::staged_imports(&store.conn) {
                Ok(staged) => {
                    let left: Vec<String> = staged
                        .iter()
                        .filter(|s| !s.running())
                        .map(|s| {
                            format!(
                                "{} (started {}, {} files staged)",
                                super::output::printable(&s.name),
                                s.started_at,
                                s.staged_files
                            )
                        })
                        .collect();
                    if left.is_empty() {
                        add("imports", Status::Ok, "no interrupted imports".into());
                    } else {
                        add(
                            "imports",
                            Status::Warn,
                            format!(
                                "interrupted imports: {}; the same import resumes one, `kollega rm NAME --yes` drops it",
                                left.join(", ")
                            ),
                        );
                    }
                }
                Err(e) => add("imports", Status::Fail, e.to_string()),
            }
            match jobs_summary(&store, config.jobs.lease) {
                Ok((detail, dead)) => add(
                    "jobs",
                    if dead > 0 { Status::Warn } else { Status::Ok },
                    detail,
                ),
                Err(e) => add("jobs", Status::Fail, e.to_string()),
            }
        }
        Err(e) => {
            let db = config.data_dir.join(DB_FILE);
            let detail = if db.exists() && !may(&db, libc::R_OK) {
                format!(
                    "{} cannot be read by this user (permission denied){}; run kollega as its owner, or fix its owner and mode (chmod 600)",
                    db.display(),
                    owner_and_mode(&db)
                )
            } else if !may(&config.data_dir, libc::R_OK | libc::X_OK) {
                format!(
                    "the data directory {} cannot be entered by this user (permission denied){}; run kollega as its owner, or pass --data-dir",
                    config.data_dir.display(),
                    owner_and_mode(&config.data_dir)
                )
            } else {
                crate::error::describe(&e)
            };
            add("store", Status::Fail, detail);
        }
    }

    let (status, detail) = permissions(&config.data_dir);
    add("permissions", status, detail);

    match free_bytes(&config.data_dir) {
        Some(free) if free < MIN_FREE_BYTES => add(
            "disk",
            Status::Fail,
            format!(
                "{} free on the data directory's disk; free some space",
                human_bytes(free)
            ),
        ),
        Some(free) => add("disk", Status::Ok, format!("{} free", human_bytes(free))),
        None => add("disk", Status::Warn, "free space unknown".into()),
    }

    match std::process::Command::new("git").arg("--version").output() {
        Ok(out) if out.status.success() => add(
            "git",
            Status::Ok,
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        ),
        _ => add(
            "git",
            Status::Warn,
            "git not found on PATH; git workspaces need it".into(),
        ),
    }

    let set: Vec<&str> = KEY_VARS
        .iter()
        .copied()
        .filter(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
        .collect();
    add(
        "provider keys",
        Status::Ok,
        if set.is_empty() {
            format!("none set (kollega reads {})", KEY_VARS.join(", "))
        } else {
            format!("set: {}", set.join(", "))
        },
    );

    add("terminal", Status::Ok, terminal_colours());
    if problems.is_empty() {
        add(
            "config",
            Status::Ok,
            match &config.config_file {
                Some(path) => format!("{}", path.display()),
                None => "no config.toml; defaults in use".into(),
            },
        );
    }
    for problem in problems {
        add("config", Status::Fail, crate::error::describe(problem));
    }

    let ok = checks.iter().all(|c| c.status != Status::Fail);
    DoctorReport { ok, checks }
}

fn permissions(data_dir: &Path) -> (Status, String) {
    let dir_mode = std::fs::metadata(data_dir).map(|m| m.permissions().mode() & 0o777);
    let file_mode =
        std::fs::metadata(data_dir.join(DB_FILE)).map(|m| m.permissions().mode() & 0o777);
    match (dir_mode, file_mode) {
        (Ok(d), Ok(f)) if d & 0o077 == 0 && f & 0o077 == 0 => {
            (Status::Ok, format!("data dir {d:o}, {DB_FILE} {f:o}"))
        }
        (Ok(d), Ok(f)) => (
            Status::Fail,
            format!(
                "data dir {d:o}, {DB_FILE} {f:o}: others can read it; run chmod 700 {} && chmod 600 {}",
                data_dir.display(),
                data_dir.join(DB_FILE).display()
            ),
        ),
        (Err(e), _) | (_, Err(e)) => (
            Status::Fail,
            format!("cannot inspect {}: {e}", data_dir.display()),
        ),
    }
}

fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is a valid C string and `stat` a writable statvfs.
    let rc = unsafe { libc::statvfs(path.as_ptr(), &mut stat) };
    (rc == 0).then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}

fn terminal_colours() -> String {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return "NO_COLOR set: no colours".into();
    }
    let colorterm = std::env::var("COLORTERM").unwrap_or_default();
    let term = std::env::var("TERM").unwrap_or_default();
    let depth = if colorterm == "truecolor" || colorterm == "24bit" {
        "true colour"
    } else if term.contains("256") {
        "256 colours"
    } else if term.is_empty() || term == "dumb" {
        "no colour terminal"
    } else {
        "16 colours"
    };
    format!("{depth} (TERM={term:?}, COLORTERM={colorterm:?})")
}

/// `kollega doctor [--json]`: fails (exit 1) when a check fails.
pub(super) fn doctor(
    config: &Config,
    problems: &[ConfigError],
    json: bool,
) -> Result<ExitCode, Error> {
    let report = run(config, problems);
    if json {
        super::output::print_json(&report)?;
    } else {
        for check in &report.checks {
            let mark = match check.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
            };
            println!("{mark}  {:<14} {}", check.name, check.detail);
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Whether this user may access `path` as `mode` asks (`access(2)`: it
/// opens nothing, so no lock of the store is touched).
fn may(path: &Path, mode: libc::c_int) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access() reads the NUL-terminated path and nothing else.
    unsafe { libc::access(c_path.as_ptr(), mode) == 0 }
}

/// " (owner uid 1000, mode 600)", for a permission problem.
fn owner_and_mode(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .map(|m| format!(" (owner uid {}, mode {:o})", m.uid(), m.mode() & 0o777))
        .unwrap_or_default()
}

/// Jobs by status and whether a worker is alive; the number of dead jobs.
fn jobs_summary(
    store: &Store,
    lease: std::time::Duration,
) -> Result<(String, i64), crate::store::StoreError> {
    // By status name, as `jobs --status` takes them.
    let mut counts: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for count in crate::store::jobs::counts(&store.conn)? {
        *counts.entry(count.status.as_str()).or_default() += count.jobs;
    }
    let dead = counts.get("dead").copied().unwrap_or(0);
    // Alive as the TUI's runner judges it: a heartbeat within three leases.
    let since = crate::store::now_ms() - 3 * lease.as_millis() as i64;
    let workers = crate::store::runners::live_workers(&store.conn, since)?;
    let mut parts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    if parts.is_empty() {
        parts.push("none".into());
    }
    let worker = match workers {
        0 => "no worker running".to_string(),
        1 => "1 worker running".to_string(),
        n => format!("{n} workers running"),
    };
    let mut detail = format!("{}; {worker}", parts.join(", "));
    if dead > 0 {
        detail.push_str("; `kollega jobs --status dead` lists the dead ones");
    }
    Ok((detail, dead))
}
