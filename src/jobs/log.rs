//! A job's log: the whole output in a gzip file per attempt, and a bounded
//! tail of lines for the store.
//!
//! Producers (the pipe readers of a command, a kind writing `info` lines)
//! call [`LogWriter::write`] and never wait for the store: complete lines
//! go straight into the gzip stream, and the last [`TAIL_LINES`] of them
//! into a pending queue that the runner moves into `job_logs` every flush.
//! Lines that fell out of the queue before a flush are counted, so the
//! stored sequence numbers still say where in the log a line was.
//!
//! Each flush also ends a deflate block (`Z_SYNC_FLUSH`), so a runner that
//! is killed leaves a file that decompresses up to its last flush.

use std::collections::VecDeque;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::queue::Stream;
pub(crate) use crate::store::jobs::TAIL_LINES;
/// A stored line is cut here (the file keeps it whole).
pub(crate) const MAX_LINE_BYTES: usize = 4096;
/// A line longer than this without a newline is broken up.
const MAX_PARTIAL: usize = 64 * 1024;

/// The folder of a job's log files.
pub(crate) fn job_dir(data_dir: &Path, id: i64) -> PathBuf {
    data_dir.join("jobs").join(id.to_string())
}

/// The log file of one attempt.
pub(crate) fn attempt_path(data_dir: &Path, id: i64, attempt: u32) -> PathBuf {
    job_dir(data_dir, id).join(format!("{attempt}.log.gz"))
}

/// Where a writer hands its output as it is written.
pub(crate) type Live = Arc<dyn Fn(&str) + Send + Sync>;

/// The writing side of one attempt's log; clones share it.
#[derive(Clone)]
pub(crate) struct LogWriter {
    inner: Arc<Mutex<Inner>>,
    /// Gets every chunk of output as it is written, before it is cut into
    /// lines and stored: a model's answer on screen as it arrives.
    live: Option<Live>,
}

struct Inner {
    file: Option<GzEncoder<BufWriter<File>>>,
    /// Why the file stopped taking lines, once it did (disk full …).
    file_error: Option<String>,
    pending: VecDeque<(Stream, i64, String)>,
    /// Lines that left `pending` unflushed since the last `take`.
    dropped: i64,
    /// The unfinished last line of stdout and stderr.
    partial: [Vec<u8>; 2],
}

/// What a flush takes from the writer.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub lines: Vec<(Stream, i64, String)>,
    /// Lines written before `lines` that were not kept.
    pub dropped: i64,
}

impl LogWriter {
    /// Creates the attempt's file (0600, in a 0700 folder).
    pub(crate) fn create(data_dir: &Path, id: i64, attempt: u32) -> io::Result<LogWriter> {
        let dir = job_dir(data_dir, id);
        DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(attempt_path(data_dir, id, attempt))?;
        let gz = GzEncoder::new(
            BufWriter::with_capacity(256 * 1024, file),
            Compression::fast(),
        );
        Ok(LogWriter::with_file(Some(gz)))
    }

    /// A writer that keeps only the tail (when the file cannot be made).
    pub(crate) fn tail_only(reason: String) -> LogWriter {
        let writer = LogWriter::with_file(None);
        writer.lock().file_error = Some(reason);
        writer
    }

    fn with_file(file: Option<GzEncoder<BufWriter<File>>>) -> LogWriter {
        LogWriter {
            inner: Arc::new(Mutex::new(Inner {
                file,
                file_error: None,
                pending: VecDeque::new(),
                dropped: 0,
                partial: [Vec::new(), Vec::new()],
            })),
            live: None,
        }
    }

    /// This writer, also handing every chunk of output to `live`.
    pub(crate) fn with_live(self, live: Live) -> LogWriter {
        LogWriter {
            live: Some(live),
            ..self
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A producer that panicked mid-write leaves at worst a torn line.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a chunk of a command's output.
    pub(crate) fn write(&self, stream: Stream, chunk: &[u8]) {
        if let Some(live) = &self.live {
            live(&String::from_utf8_lossy(chunk));
        }
        let slot = usize::from(stream == Stream::Stderr);
        let now = super::now_ms();
        let mut inner = self.lock();
        let inner = &mut *inner;
        let Some(last_nl) = memchr::memrchr(b'\n', chunk) else {
            inner.partial[slot].extend_from_slice(chunk);
            if inner.partial[slot].len() > MAX_PARTIAL {
                let line = std::mem::take(&mut inner.partial[slot]);
                inner.complete(stream, now, &line, b"\n");
            }
            return;
        };
        let (whole, rest) = chunk.split_at(last_nl + 1);
        if inner.partial[slot].is_empty() {
            inner.complete(stream, now, whole, b"");
        } else {
            let mut joined = std::mem::take(&mut inner.partial[slot]);
            joined.extend_from_slice(whole);
            inner.complete(stream, now, &joined, b"");
        }
        inner.partial[slot].extend_from_slice(rest);
    }

    /// Writes a line of kollega's own (attempt started, retry, error).
    pub(crate) fn info(&self, line: &str) {
        let now = super::now_ms();
        let mut inner = self.lock();
        let mut text = String::from("[kollega] ");
        text.push_str(line);
        text.push('\n');
        inner.complete(Stream::Info, now, text.as_bytes(), b"");
    }

    /// Writes a line of kollega's own to the file only (the store gets its
    /// own account of the same moment).
    pub(crate) fn file_only(&self, line: &str) {
        let mut inner = self.lock();
        if let Some(file) = inner.file.as_mut() {
            let written = writeln!(file, "[kollega] {line}");
            if let Err(e) = written {
                inner.fail_file(&e);
            }
        }
    }

    /// Ends unfinished lines (the process exited without a last newline).
    pub(crate) fn end_streams(&self) {
        let now = super::now_ms();
        let mut inner = self.lock();
        for (slot, stream) in [(0, Stream::Stdout), (1, Stream::Stderr)] {
            if !inner.partial[slot].is_empty() {
                let line = std::mem::take(&mut inner.partial[slot]);
                inner.complete(stream, now, &line, b"\n");
            }
        }
    }

    /// Takes the lines to store and makes the file readable up to here.
    pub(crate) fn flush(&self) -> Pending {
        let mut inner = self.lock();
        if let Some(file) = inner.file.as_mut()
            && let Err(e) = file.flush()
        {
            inner.fail_file(&e);
        }
        Pending {
            lines: inner.pending.drain(..).collect(),
            dropped: std::mem::take(&mut inner.dropped),
        }
    }

    /// Finishes the gzip stream; later writes only reach the tail.
    pub(crate) fn close(&self) {
        let mut inner = self.lock();
        if let Some(file) = inner.file.take() {
            let done = file.finish().and_then(|mut w| w.flush());
            if let Err(e) = done {
                inner.fail_file(&e);
            }
        }
    }

    /// Why the file stopped, if it did.
    pub(crate) fn file_error(&self) -> Option<String> {
        self.lock().file_error.clone()
    }
}

impl Inner {
    /// Takes whole lines (each ending in '\n', or `end` appended).
    fn complete(&mut self, stream: Stream, now: i64, text: &[u8], end: &[u8]) {
        if let Some(file) = self.file.as_mut() {
            let written = file.write_all(text).and_then(|()| file.write_all(end));
            if let Err(e) = written {
                self.fail_file(&e);
            }
        }
        let body = text.strip_suffix(b"\n").unwrap_or(text);
        let count = memchr::memchr_iter(b'\n', body).count() as i64 + 1;
        // Only the last TAIL_LINES can survive to the next flush: count the
        // others without building them.
        let keep = count.min(TAIL_LINES);
        let skip = count - keep;
        let start = if skip == 0 {
            0
        } else {
            memchr::memchr_iter(b'\n', body)
                .nth(skip as usize - 1)
                .map_or(0, |i| i + 1)
        };
        self.dropped_lines(skip);
        for line in body[start..].split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if self.pending.len() as i64 >= TAIL_LINES {
                self.pending.pop_front();
                self.dropped += 1;
            }
            self.pending.push_back((stream, now, stored_line(line)));
        }
    }

    fn dropped_lines(&mut self, n: i64) {
        if n > 0 {
            // Everything pending is older than these lines and will not
            // survive either.
            self.dropped += self.pending.len() as i64 + n;
            self.pending.clear();
        }
    }

    fn fail_file(&mut self, e: &io::Error) {
        tracing::warn!(error = %e, "a job log file stopped taking lines");
        self.file = None;
        self.file_error = Some(e.to_string());
    }
}

/// A line as the store keeps it: valid UTF-8, at most MAX_LINE_BYTES.
fn stored_line(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(MAX_LINE_BYTES)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > MAX_LINE_BYTES {
        text.push('…');
    }
    text
}

/// Reads an attempt's whole log, as far as it was written: a file cut off
/// by a killed runner reads up to its last flush.
pub(crate) fn read_attempt(path: &Path, out: &mut dyn Write) -> io::Result<()> {
    let file = File::open(path)?;
    let mut decoder = MultiGzDecoder::new(io::BufReader::new(file));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match decoder.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => out.write_all(&buf[..n])?,
            // The end of a file whose writer was killed.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The attempts that have a log file, in order.
pub(crate) fn attempts(data_dir: &Path, id: i64) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(job_dir(data_dir, id)) else {
        return Vec::new();
    };
    let mut found: Vec<u32> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".log.gz")?
                .parse()
                .ok()
        })
        .collect();
    found.sort_unstable();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_reach_the_file_whole_and_the_tail_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let log = LogWriter::create(dir.path(), 7, 1).unwrap();
        log.write(Stream::Stdout, b"one\ntw");
        log.write(Stream::Stderr, b"err\n");
        log.write(Stream::Stdout, b"o\r\nthree");
        log.end_streams();
        log.info("exit 0");
        let pending = log.flush();
        let lines: Vec<(Stream, &str)> = pending
            .lines
            .iter()
            .map(|(s, _, l)| (*s, l.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (Stream::Stdout, "one"),
                (Stream::Stderr, "err"),
                (Stream::Stdout, "two"),
                (Stream::Stdout, "three"),
                (Stream::Info, "[kollega] exit 0"),
            ]
        );
        assert_eq!(pending.dropped, 0);
        log.close();
        let mut text = Vec::new();
        read_attempt(&attempt_path(dir.path(), 7, 1), &mut text).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "one\nerr\ntwo\r\nthree\n[kollega] exit 0\n"
        );
        assert_eq!(attempts(dir.path(), 7), vec![1]);
    }

    #[test]
    fn a_flood_keeps_only_the_last_lines_and_counts_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let log = LogWriter::create(dir.path(), 1, 1).unwrap();
        let total = TAIL_LINES as usize * 3 + 17;
        let mut text = String::new();
        for i in 0..total {
            text.push_str(&format!("{i}\n"));
        }
        // In odd chunks, so lines are split across writes.
        for chunk in text.as_bytes().chunks(977) {
            log.write(Stream::Stdout, chunk);
        }
        let pending = log.flush();
        assert_eq!(pending.lines.len() as i64, TAIL_LINES);
        assert_eq!(pending.dropped + TAIL_LINES, total as i64);
        assert_eq!(pending.lines.last().unwrap().2, (total - 1).to_string());
    }

    #[test]
    fn a_flushed_file_reads_back_although_it_was_never_finished() {
        let dir = tempfile::tempdir().unwrap();
        let log = LogWriter::create(dir.path(), 3, 2).unwrap();
        log.write(Stream::Stdout, b"before the kill\n");
        log.flush();
        // No close(): as if the process died here.
        let mut text = Vec::new();
        read_attempt(&attempt_path(dir.path(), 3, 2), &mut text).unwrap();
        assert_eq!(text, b"before the kill\n");
        std::mem::forget(log);
    }

    #[test]
    fn long_and_invalid_lines_are_stored_safely() {
        let dir = tempfile::tempdir().unwrap();
        let log = LogWriter::create(dir.path(), 2, 1).unwrap();
        log.write(Stream::Stdout, &vec![b'x'; MAX_PARTIAL + 10]);
        log.write(Stream::Stdout, b"\xff\xfe ok\n");
        let pending = log.flush();
        assert_eq!(pending.lines.len(), 2);
        assert!(pending.lines[0].2.ends_with('…'));
        assert!(pending.lines[0].2.len() <= MAX_LINE_BYTES + 3);
        assert_eq!(pending.lines[1].2, "\u{fffd}\u{fffd} ok");
    }
}
