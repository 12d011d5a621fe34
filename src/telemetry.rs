//! Tracing: JSON lines to a daily rolling file under `<data dir>/logs/`
//! (seven kept), and human lines on stderr with `-v`.
//!
//! Log lines carry workspace and job ids, sizes and counts; never file
//! content or a key. Code that logs must keep it so.

use std::path::Path;

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

/// Keeps the file writer flushing until dropped at exit.
pub struct TelemetryGuard {
    _file: Option<WorkerGuard>,
}

/// Sets up logging. A log directory that cannot be made only loses the log
/// file; kollega still runs.
pub fn init(data_dir: &Path, verbose: u8) -> TelemetryGuard {
    let stderr_level = match verbose {
        0 => LevelFilter::OFF,
        1 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(stderr_level);

    let appender = DailyLog::open(&data_dir.join("logs"));
    let (file_layer, guard) = match appender {
        Some(appender) => {
            // A short queue: the default (128,000 lines) is allocated and
            // touched at every start, a few milliseconds of each command.
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .buffered_lines_limit(LOG_QUEUE_LINES)
                .finish(appender);
            let layer = tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(writer)
                .with_filter(LevelFilter::INFO);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init();
    TelemetryGuard { _file: guard }
}

/// Log lines waiting for the writer thread before more are dropped.
const LOG_QUEUE_LINES: usize = 4096;

/// Log files kept: today's and six before it.
const KEEP: usize = 7;

/// `kollega.YYYY-MM-DD.log` in a folder of its own, a new file each UTC
/// day, the oldest beyond [`KEEP`] removed. The folder is 0700 and each
/// file 0600 like the rest of the data directory: log lines name
/// workspaces and paths.
struct DailyLog {
    dir: PathBuf,
    day: String,
    file: Option<File>,
}

impl DailyLog {
    /// `None` when the folder cannot be made private: kollega runs on,
    /// without a log file.
    fn open(dir: &Path) -> Option<DailyLog> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .ok()?;
        let mode = std::fs::metadata(dir).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).ok()?;
        }
        Some(DailyLog {
            dir: dir.to_path_buf(),
            day: String::new(),
            file: None,
        })
    }

    fn today() -> String {
        let now = time::OffsetDateTime::now_utc();
        format!(
            "{:04}-{:02}-{:02}",
            now.year(),
            u8::from(now.month()),
            now.day()
        )
    }

    /// Today's file, opened (and older ones pruned) when the day turns.
    fn file(&mut self) -> std::io::Result<&mut File> {
        let today = DailyLog::today();
        if self.file.is_none() || self.day != today {
            let path = self.dir.join(format!("kollega.{today}.log"));
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&path)?;
            self.file = Some(file);
            self.day = today;
            self.prune();
        }
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the log file is not open"))
    }

    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut logs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("kollega.") && n.ends_with(".log"))
            })
            .collect();
        // The date sorts as text.
        logs.sort();
        let excess = logs.len().saturating_sub(KEEP);
        for old in &logs[..excess] {
            let _ = std::fs::remove_file(old);
        }
    }
}

impl Write for DailyLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file()?.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_folder_and_files_are_private_and_seven_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("data/logs");
        for day in 1..=9 {
            std::fs::create_dir_all(&logs).unwrap();
            std::fs::write(logs.join(format!("kollega.2020-01-0{day}.log")), "old\n").unwrap();
        }
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut log = DailyLog::open(&logs).unwrap();
        writeln!(log, "{{\"line\":1}}").unwrap();
        log.flush().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&logs), 0o700);
        let today = logs.join(format!("kollega.{}.log", DailyLog::today()));
        assert_eq!(mode(&today), 0o600);
        assert_eq!(std::fs::read_to_string(&today).unwrap(), "{\"line\":1}\n");
        let kept = std::fs::read_dir(&logs).unwrap().count();
        assert_eq!(kept, KEEP);
        assert!(!logs.join("kollega.2020-01-01.log").exists());
    }
}
