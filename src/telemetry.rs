//! Tracing: JSON lines to a daily rolling file under `<data dir>/logs/`
//! (seven kept), and human lines on stderr with `-v`.
//!
//! Log lines carry workspace and job ids, sizes and counts; never file
//! content or a key. Code that logs must keep it so.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
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

    let logs = data_dir.join("logs");
    let appender = std::fs::create_dir_all(&logs).ok().and_then(|()| {
        Builder::new()
            .rotation(Rotation::DAILY)
            .filename_prefix("kollega")
            .filename_suffix("log")
            .max_log_files(7)
            .build(&logs)
            .ok()
    });
    let (file_layer, guard) = match appender {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
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
