//! Metrics in the Prometheus text exposition format (version 0.0.4).
//!
//! The figures of jobs are computed from the `jobs` table each time they
//! are rendered. Counters and histograms of HTTP requests are kept in
//! `metric_series`, one row per name and label set, so they add up over
//! every process that shares the store; each [`record_request`] is one
//! UPSERT per series. `kollega metrics` prints [`render`]; `kollega worker
//! --metrics ADDR` serves it over HTTP with [`serve`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};

use super::{JobsError, Status};

type Result<T, E = JobsError> = std::result::Result<T, E>;

/// Histogram bucket bounds in seconds.
pub(crate) const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0,
];

/// The `Content-Type` of the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const HTTP_REQUESTS: &str = "kollega_http_requests_total";
const HTTP_SECONDS: &str = "kollega_http_request_duration_seconds";

/// A label set as the text format writes it: `a="x",b="y"`, in the order
/// given (callers give names sorted).
fn labels(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        escape_label(&mut out, value);
        out.push('"');
    }
    out
}

/// A label value: backslash, double quote and line feed escaped.
fn escape_label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// HELP text: backslash and line feed escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as the text format writes it.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        // Rust never writes an exponent here: `0.005`, `3`, `1800`.
        format!("{value}")
    }
}

/// Counts one outgoing or served HTTP request: kollega_http_requests_total{service,outcome} and kollega_http_request_duration_seconds{service}.
///
/// A duration that is negative or not finite counts as zero.
pub(crate) fn record_request(
    conn: &Connection,
    service: &str,
    outcome: &str,
    seconds: f64,
) -> Result<(), JobsError> {
    let seconds = if seconds.is_finite() && seconds > 0.0 {
        seconds
    } else {
        0.0
    };
    conn.prepare_cached(
        "INSERT INTO metric_series (name, labels, count, sum, buckets) VALUES (?1, ?2, 1, 0, NULL) \
         ON CONFLICT (name, labels) DO UPDATE SET count = count + 1",
    )?
    .execute(params![
        HTTP_REQUESTS,
        labels(&[("outcome", outcome), ("service", service)])
    ])?;
    observe(
        conn,
        HTTP_SECONDS,
        &labels(&[("service", service)]),
        seconds,
    )
}

/// Adds one observation to a persisted histogram. The stored buckets are
/// cumulative, so the observation adds one to every bucket from the first
/// whose bound holds it. A row whose buckets do not fit [`BUCKETS`] (bounds
/// changed, or a damaged row) starts over from this observation.
fn observe(conn: &Connection, name: &str, labels: &str, value: f64) -> Result<()> {
    let first = BUCKETS
        .iter()
        .position(|bound| value <= *bound)
        .unwrap_or(BUCKETS.len());
    let added: Vec<String> = (0..BUCKETS.len())
        .map(|i| u8::from(i >= first).to_string())
        .collect();
    let added = format!("[{}]", added.join(","));
    conn.prepare_cached(
        "INSERT INTO metric_series (name, labels, count, sum, buckets) VALUES (?1, ?2, 1, ?3, ?4) \
         ON CONFLICT (name, labels) DO UPDATE SET \
           count = CASE WHEN CASE WHEN json_valid(buckets) THEN json_array_length(buckets) END IS ?5 \
                   THEN count + 1 ELSE 1 END, \
           sum = CASE WHEN CASE WHEN json_valid(buckets) THEN json_array_length(buckets) END IS ?5 \
                 THEN sum + excluded.sum ELSE excluded.sum END, \
           buckets = CASE WHEN CASE WHEN json_valid(buckets) THEN json_array_length(buckets) END IS ?5 \
                     THEN (SELECT json_group_array(old.value + new.value ORDER BY old.key) \
                           FROM json_each(metric_series.buckets) AS old \
                           JOIN json_each(?4) AS new ON new.key = old.key) \
                     ELSE ?4 END",
    )?
    .execute(params![name, labels, value, added, BUCKETS.len() as i64])?;
    Ok(())
}

/// How a family's samples are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One histogram series: cumulative counts per bound of [`BUCKETS`].
#[derive(Debug, Clone, PartialEq)]
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

/// A metric family: its samples keyed by their rendered label set.
#[derive(Debug)]
struct Family {
    help: String,
    kind: Kind,
    values: BTreeMap<String, f64>,
    histograms: BTreeMap<String, Histogram>,
}

impl Family {
    fn new(kind: Kind, help: &str) -> Family {
        Family {
            help: help.to_string(),
            kind,
            values: BTreeMap::new(),
            histograms: BTreeMap::new(),
        }
    }

    fn write(&self, name: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {}", escape_help(&self.help));
        let _ = writeln!(out, "# TYPE {name} {}", self.kind.as_str());
        for (labels, value) in &self.values {
            let _ = writeln!(out, "{name}{} {}", braces(labels), number(*value));
        }
        for (labels, h) in &self.histograms {
            let sep = if labels.is_empty() { "" } else { "," };
            for (bound, count) in BUCKETS.iter().zip(&h.buckets) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{{labels}{sep}le=\"{}\"}} {count}",
                    number(*bound)
                );
            }
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{} {}", braces(labels), number(h.sum));
            let _ = writeln!(out, "{name}_count{} {}", braces(labels), h.count);
        }
    }
}

fn braces(labels: &str) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    }
}

/// The metrics of the store at `now`, in the text format, families sorted
/// by name and samples by label set.
pub(crate) fn render(conn: &Connection, now: i64) -> Result<String, JobsError> {
    // One read transaction, so the figures agree with each other; inside a
    // caller's transaction that one already does.
    let snapshot = if conn.is_autocommit() {
        Some(conn.unchecked_transaction()?)
    } else {
        None
    };
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    persisted(conn, &mut families)?;
    jobs(conn, now, &mut families)?;
    drop(snapshot);
    let mut out = String::new();
    for (name, family) in &families {
        family.write(name, &mut out);
    }
    Ok(out)
}

/// The series of `metric_series`: counters where `buckets` is NULL,
/// histograms otherwise.
fn persisted(conn: &Connection, families: &mut BTreeMap<String, Family>) -> Result<()> {
    families.insert(
        HTTP_REQUESTS.into(),
        Family::new(
            Kind::Counter,
            "HTTP requests made or served, by service and outcome (a status code or an error).",
        ),
    );
    families.insert(
        HTTP_SECONDS.into(),
        Family::new(
            Kind::Histogram,
            "Duration of HTTP requests made or served, by service.",
        ),
    );
    let mut stmt = conn.prepare_cached(
        "SELECT name, labels, count, sum, buckets FROM metric_series ORDER BY name, labels",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, f64>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })?;
    for row in rows {
        let (name, labels, count, sum, buckets) = row?;
        if !valid_name(&name) {
            tracing::warn!(name, "skipped a stored metric series with an invalid name");
            continue;
        }
        let count = count.max(0) as u64;
        let kind = if buckets.is_some() {
            Kind::Histogram
        } else {
            Kind::Counter
        };
        let family = families
            .entry(name.clone())
            .or_insert_with(|| Family::new(kind, &format!("Stored series {name}.")));
        if family.kind != kind {
            tracing::warn!(
                name,
                labels,
                "skipped a stored metric series of another type"
            );
            continue;
        }
        match buckets {
            None => {
                family.values.insert(labels, count as f64);
            }
            Some(text) => {
                let parsed: Option<Vec<u64>> = serde_json::from_str(&text).ok();
                let Some(buckets) = parsed.filter(|b| b.len() == BUCKETS.len()) else {
                    tracing::warn!(
                        name,
                        labels,
                        "skipped a stored histogram with damaged buckets"
                    );
                    continue;
                };
                family.histograms.insert(
                    labels,
                    Histogram {
                        buckets,
                        count,
                        sum,
                    },
                );
            }
        }
    }
    Ok(())
}

/// Whether a metric name fits the text format.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The figures of the `jobs` table.
fn jobs(conn: &Connection, now: i64, families: &mut BTreeMap<String, Family>) -> Result<()> {
    let mut by_status = Family::new(Kind::Gauge, "Jobs in the store, by kind and status.");
    let mut attempts = Family::new(
        Kind::Counter,
        "Attempts started, summed over the jobs in the store, by kind.",
    );
    let mut dead = 0i64;
    let mut running = 0i64;
    let mut stmt = conn.prepare_cached(
        "SELECT kind, status, COUNT(*), TOTAL(attempt) FROM jobs GROUP BY kind, status",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, f64>(3)?,
        ))
    })?;
    let mut counts: BTreeMap<String, BTreeMap<&'static str, i64>> = BTreeMap::new();
    let mut attempt_sums: BTreeMap<String, f64> = BTreeMap::new();
    for row in rows {
        let (kind, status, count, attempt) = row?;
        *attempt_sums.entry(kind.clone()).or_default() += attempt;
        // The CHECK constraint keeps other names out of the table.
        let Ok(status) = status.parse::<Status>() else {
            continue;
        };
        match status {
            Status::Dead => dead += count,
            Status::Running => running += count,
            _ => {}
        }
        let per_status = counts
            .entry(kind)
            .or_insert_with(|| Status::ALL.iter().map(|s| (s.as_str(), 0)).collect());
        per_status.insert(status.as_str(), count);
    }
    for (kind, per_status) in &counts {
        for (status, count) in per_status {
            by_status
                .values
                .insert(labels(&[("kind", kind), ("status", status)]), *count as f64);
        }
    }
    for (kind, sum) in &attempt_sums {
        attempts.values.insert(labels(&[("kind", kind)]), *sum);
    }
    families.insert("kollega_jobs".into(), by_status);
    families.insert("kollega_job_attempts_total".into(), attempts);

    let depth: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'retrying') AND next_run_at <= ?1",
        )?
        .query_row([now], |r| r.get(0))?;
    let mut gauge = |name: &str, help: &str, value: i64| {
        let mut family = Family::new(Kind::Gauge, help);
        family.values.insert(String::new(), value as f64);
        families.insert(name.into(), family);
    };
    gauge(
        "kollega_queue_depth",
        "Queued and retrying jobs whose time to run has come.",
        depth,
    );
    gauge(
        "kollega_jobs_dead",
        "Dead letters: jobs that failed permanently or ran out of attempts.",
        dead,
    );
    gauge("kollega_jobs_running", "Jobs a runner holds now.", running);

    families.insert("kollega_job_run_duration_seconds".into(), durations(conn)?);
    Ok(())
}

/// The run time of ended jobs (their last attempt, from start to end),
/// bucketed in SQL so no job row leaves the store.
fn durations(conn: &Connection) -> Result<Family> {
    let mut family = Family::new(
        Kind::Histogram,
        "Run time of ended jobs' last attempt, by kind and final status.",
    );
    let mut sql = String::from("SELECT kind, status, COUNT(*), TOTAL(d)");
    for bound in BUCKETS {
        // Every bound is a whole number of milliseconds.
        let ms = (bound * 1000.0).round() as i64;
        let _ = write!(sql, ", TOTAL(d <= {ms})");
    }
    sql.push_str(
        " FROM (SELECT kind, status, MAX(finished_at - started_at, 0) AS d FROM jobs \
         WHERE status IN ('succeeded', 'failed', 'dead', 'cancelled') \
           AND started_at IS NOT NULL AND finished_at IS NOT NULL) \
         GROUP BY kind, status",
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |r| {
        let mut buckets = Vec::with_capacity(BUCKETS.len());
        for i in 0..BUCKETS.len() {
            buckets.push(r.get::<_, f64>(4 + i)? as u64);
        }
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            Histogram {
                buckets,
                count: r.get::<_, i64>(2)?.max(0) as u64,
                sum: r.get::<_, f64>(3)? / 1000.0,
            },
        ))
    })?;
    for row in rows {
        let (kind, status, histogram) = row?;
        family
            .histograms
            .insert(labels(&[("kind", &kind), ("status", &status)]), histogram);
    }
    Ok(family)
}

/// How long a client has to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest request head read.
const MAX_REQUEST: usize = 16 * 1024;
/// How often a waiting server looks at its stop flag.
const POLL: Duration = Duration::from_millis(50);
/// How long a response waits for the client to close after it was sent.
const LINGER: Duration = Duration::from_millis(250);

/// Serves GET /metrics (and GET / with a short HTML/text pointer) on `listener` until `stop` is set; every other path 404, other methods on those two 405. Each served request is itself counted with record_request("metrics", "<status code>", secs).
///
/// Requests are handled one at a time, one per connection: a scrape is
/// small and rare, and the store has one writer anyway. A client gets
/// five seconds and 16 KiB for its request head; a malformed or oversized
/// head gets 400, a slow one 408. Returns when `stop` is set (within about
/// 100 ms, also while a client is connected), or at once with an error
/// when the store in `data_dir` cannot be opened.
pub(crate) fn serve(
    listener: TcpListener,
    data_dir: PathBuf,
    stop: Arc<AtomicBool>,
) -> io::Result<()> {
    let store = crate::store::Store::open(&data_dir).map_err(io::Error::other)?;
    listener.set_nonblocking(true)?;
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _peer)) => {
                let started = Instant::now();
                let Some(status) = handle(&store.conn, stream, &stop) else {
                    continue;
                };
                let seconds = started.elapsed().as_secs_f64();
                if let Err(e) = record_request(&store.conn, "metrics", &status.to_string(), seconds)
                {
                    tracing::warn!(error = %e, "could not count a metrics request");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // Out of file descriptors, a connection reset before it
                // was taken: none of these ends the server.
                tracing::warn!(error = %e, "the metrics server could not accept a connection");
                std::thread::sleep(POLL);
            }
        }
    }
    Ok(())
}

/// Why no request head was read.
#[derive(Debug, PartialEq, Eq)]
enum ReadError {
    /// Closed before sending anything: nothing to answer.
    Closed,
    /// Closed in the middle of a request.
    Incomplete,
    TooLarge,
    TimedOut,
    /// The server is stopping.
    Stopped,
}

/// Answers one connection. Returns the status code sent, if any.
fn handle(conn: &Connection, mut stream: TcpStream, stop: &AtomicBool) -> Option<u16> {
    // An accepted socket must block, with a short timeout so the stop flag
    // and the deadline are looked at while a client is slow.
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(POLL)))
        .and_then(|()| stream.set_write_timeout(Some(REQUEST_TIMEOUT)));
    if let Err(e) = setup {
        tracing::warn!(error = %e, "could not set up a metrics connection");
        return None;
    }
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    let response = match read_head(&mut stream, deadline, stop) {
        Ok(head) => respond(conn, &head),
        Err(ReadError::Closed | ReadError::Stopped) => return None,
        Err(ReadError::Incomplete) => Response::text(400, "the request ended early\n"),
        Err(ReadError::TooLarge) => Response::text(400, "the request is larger than 16 KiB\n"),
        Err(ReadError::TimedOut) => Response::text(408, "the request took too long\n"),
    };
    if let Err(e) = response.send(&mut stream) {
        tracing::debug!(error = %e, "a metrics client went away before its response");
    }
    linger(&mut stream, stop);
    Some(response.status)
}

/// Reads up to the blank line that ends a request head.
fn read_head(
    stream: &mut TcpStream,
    deadline: Instant,
    stop: &AtomicBool,
) -> std::result::Result<Vec<u8>, ReadError> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = head_end(&head) {
            head.truncate(end);
            return Ok(head);
        }
        if head.len() >= MAX_REQUEST {
            return Err(ReadError::TooLarge);
        }
        if stop.load(Ordering::Relaxed) {
            return Err(ReadError::Stopped);
        }
        if Instant::now() >= deadline {
            return Err(ReadError::TimedOut);
        }
        let room = (MAX_REQUEST - head.len()).min(chunk.len());
        match stream.read(&mut chunk[..room]) {
            Ok(0) if head.is_empty() => return Err(ReadError::Closed),
            Ok(0) => return Err(ReadError::Incomplete),
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) if head.is_empty() => return Err(ReadError::Closed),
            Err(_) => return Err(ReadError::Incomplete),
        }
    }
}

/// Where the head ends (before its blank line), if it has.
fn head_end(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = bytes.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Waits briefly for the client to close, so that a request body it is
/// still sending does not reset the connection before it read the answer.
fn linger(stream: &mut TcpStream, stop: &AtomicBool) {
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let until = Instant::now() + LINGER;
    let mut sink = [0u8; 4096];
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return,
        }
    }
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: String,
    /// HEAD: the headers of GET without the body.
    head_only: bool,
    allow: bool,
}

impl Response {
    fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.to_string(),
            head_only: false,
            allow: false,
        }
    }

    fn send(&self, stream: &mut TcpStream) -> io::Result<()> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            408 => "Request Timeout",
            _ => "Internal Server Error",
        };
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n",
            self.status,
            self.content_type,
            self.body.len()
        );
        if self.allow {
            head.push_str("Allow: GET, HEAD\r\n");
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        if !self.head_only {
            stream.write_all(self.body.as_bytes())?;
        }
        stream.flush()
    }
}

const INDEX: &str = "<!doctype html>\n<html><head><title>kollega metrics</title></head>\n\
     <body><p>kollega serves its metrics in the Prometheus text format at \
     <a href=\"/metrics\">/metrics</a>.</p></body></html>\n";

/// The answer to a request head.
fn respond(conn: &Connection, head: &[u8]) -> Response {
    let Some((method, target)) = request_line(head) else {
        return Response::text(400, "a request line `GET /metrics HTTP/1.1` was expected\n");
    };
    let path = target.split(['?', '#']).next().unwrap_or(target);
    let mut response = match path {
        "/metrics" | "/" if !matches!(method, "GET" | "HEAD") => {
            let mut r = Response::text(405, "only GET and HEAD are served\n");
            r.allow = true;
            return r;
        }
        "/metrics" => match render(conn, super::now_ms()) {
            Ok(body) => Response {
                status: 200,
                content_type: CONTENT_TYPE,
                body,
                head_only: false,
                allow: false,
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not render the metrics");
                Response::text(500, &format!("cannot read the store: {e}\n"))
            }
        },
        "/" => Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: INDEX.to_string(),
            head_only: false,
            allow: false,
        },
        _ => Response::text(404, "not found; the metrics are at /metrics\n"),
    };
    response.head_only = method == "HEAD";
    response
}

/// The method and target of a well-formed HTTP/1.x request head.
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    let well_formed = parts.next().is_none()
        && token(method)
        && (target.starts_with('/') || target == "*")
        && !target.bytes().any(|b| b.is_ascii_control())
        && matches!(version, "HTTP/1.1" | "HTTP/1.0");
    if !well_formed {
        return None;
    }
    // Every header line needs a name and a colon.
    for line in lines {
        let (name, _) = line.split_once(':')?;
        if !token(name) {
            return None;
        }
    }
    Some((method, target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::queue::{self, NewJob};
    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    /// Every sample line has the shape of the text format.
    fn assert_well_formed(text: &str) {
        let sample = regex::Regex::new(
            r#"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+-]+|[+-]Inf|NaN)$"#,
        )
        .unwrap();
        let comment = regex::Regex::new(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$").unwrap();
        assert!(text.ends_with('\n'));
        for line in text.lines() {
            if line.starts_with('#') {
                assert!(comment.is_match(line), "bad comment line: {line:?}");
            } else {
                assert!(sample.is_match(line), "bad sample line: {line:?}");
            }
        }
    }

    /// The value of one sample line, by its name and labels.
    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .map(|v| v.parse().unwrap())
    }

    #[test]
    fn an_empty_store_renders_zeros() {
        let (_d, store) = store();
        let text = render(&store.conn, 0).unwrap();
        assert_well_formed(&text);
        let expected = "\
# HELP kollega_http_request_duration_seconds Duration of HTTP requests made or served, by service.
# TYPE kollega_http_request_duration_seconds histogram
# HELP kollega_http_requests_total HTTP requests made or served, by service and outcome (a status code or an error).
# TYPE kollega_http_requests_total counter
# HELP kollega_job_attempts_total Attempts started, summed over the jobs in the store, by kind.
# TYPE kollega_job_attempts_total counter
# HELP kollega_job_run_duration_seconds Run time of ended jobs' last attempt, by kind and final status.
# TYPE kollega_job_run_duration_seconds histogram
# HELP kollega_jobs Jobs in the store, by kind and status.
# TYPE kollega_jobs gauge
# HELP kollega_jobs_dead Dead letters: jobs that failed permanently or ran out of attempts.
# TYPE kollega_jobs_dead gauge
kollega_jobs_dead 0
# HELP kollega_jobs_running Jobs a runner holds now.
# TYPE kollega_jobs_running gauge
kollega_jobs_running 0
# HELP kollega_queue_depth Queued and retrying jobs whose time to run has come.
# TYPE kollega_queue_depth gauge
kollega_queue_depth 0
";
        assert_eq!(text, expected);
    }

    fn job(store: &mut Store, kind: &str, now: i64) -> i64 {
        let new = NewJob {
            kind: kind.into(),
            workspace: Some("demo".into()),
            payload: serde_json::json!({ "argv": ["true"] }),
            max_attempts: 3,
            ..NewJob::default()
        };
        queue::enqueue(&mut store.conn, &new, now).unwrap()
    }

    /// Puts a job in a status with an attempt count and run times.
    fn set(
        store: &Store,
        id: i64,
        status: &str,
        attempt: i64,
        started: Option<i64>,
        finished: Option<i64>,
    ) {
        store
            .conn
            .execute(
                "UPDATE jobs SET status = ?2, attempt = ?3, started_at = ?4, finished_at = ?5 \
                 WHERE id = ?1",
                params![id, status, attempt, started, finished],
            )
            .unwrap();
    }

    #[test]
    fn jobs_are_counted_by_kind_and_status() {
        let (_d, mut store) = store();
        let now = 1_000_000;
        // Two queued commands, one due later.
        job(&mut store, "command", now);
        let later = job(&mut store, "command", now);
        store
            .conn
            .execute(
                "UPDATE jobs SET next_run_at = ?2 WHERE id = ?1",
                params![later, now + 60_000],
            )
            .unwrap();
        // One retrying command, due.
        let retrying = job(&mut store, "command", now);
        set(
            &store,
            retrying,
            "retrying",
            1,
            Some(now - 10),
            Some(now - 5),
        );
        // Ended commands: 3 ms, 40 ms and 2 s; one cancelled before it ran.
        let a = job(&mut store, "command", now);
        set(&store, a, "succeeded", 1, Some(now), Some(now + 3));
        let b = job(&mut store, "command", now);
        set(&store, b, "succeeded", 2, Some(now), Some(now + 40));
        let c = job(&mut store, "command", now);
        set(&store, c, "failed", 1, Some(now), Some(now + 2000));
        let d = job(&mut store, "command", now);
        set(&store, d, "cancelled", 0, None, Some(now));
        // An export running and one dead after 3 attempts of 10 minutes.
        let e = job(&mut store, "export", now);
        set(&store, e, "running", 1, Some(now), None);
        let f = job(&mut store, "export", now);
        set(&store, f, "dead", 3, Some(now), Some(now + 600_000));

        let text = render(&store.conn, now).unwrap();
        assert_well_formed(&text);
        let jobs = |kind: &str, status: &str| {
            value(
                &text,
                &format!("kollega_jobs{{kind=\"{kind}\",status=\"{status}\"}}"),
            )
        };
        assert_eq!(jobs("command", "queued"), Some(2.0));
        assert_eq!(jobs("command", "retrying"), Some(1.0));
        assert_eq!(jobs("command", "succeeded"), Some(2.0));
        assert_eq!(jobs("command", "failed"), Some(1.0));
        assert_eq!(jobs("command", "cancelled"), Some(1.0));
        assert_eq!(jobs("command", "running"), Some(0.0));
        assert_eq!(jobs("command", "dead"), Some(0.0));
        assert_eq!(jobs("export", "running"), Some(1.0));
        assert_eq!(jobs("export", "dead"), Some(1.0));
        assert_eq!(jobs("export", "queued"), Some(0.0));
        assert_eq!(jobs("import", "queued"), None);
        // All seven statuses of both kinds, sorted.
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("kollega_jobs{"))
            .collect();
        assert_eq!(lines.len(), 14);
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted);

        assert_eq!(value(&text, "kollega_queue_depth"), Some(2.0));
        assert_eq!(value(&text, "kollega_jobs_dead"), Some(1.0));
        assert_eq!(value(&text, "kollega_jobs_running"), Some(1.0));
        assert_eq!(
            value(&text, "kollega_job_attempts_total{kind=\"command\"}"),
            Some(5.0)
        );
        assert_eq!(
            value(&text, "kollega_job_attempts_total{kind=\"export\"}"),
            Some(4.0)
        );

        let run = |labels: &str, le: &str| {
            value(
                &text,
                &format!("kollega_job_run_duration_seconds_bucket{{{labels},le=\"{le}\"}}"),
            )
        };
        let ok = "kind=\"command\",status=\"succeeded\"";
        assert_eq!(run(ok, "0.001"), None);
        assert_eq!(run(ok, "0.005"), Some(1.0));
        assert_eq!(run(ok, "0.025"), Some(1.0));
        assert_eq!(run(ok, "0.05"), Some(2.0));
        assert_eq!(run(ok, "+Inf"), Some(2.0));
        assert_eq!(
            value(
                &text,
                &format!("kollega_job_run_duration_seconds_sum{{{ok}}}")
            ),
            Some(0.043)
        );
        assert_eq!(
            value(
                &text,
                &format!("kollega_job_run_duration_seconds_count{{{ok}}}")
            ),
            Some(2.0)
        );
        let failed = "kind=\"command\",status=\"failed\"";
        assert_eq!(run(failed, "1"), Some(0.0));
        assert_eq!(run(failed, "2.5"), Some(1.0));
        let dead = "kind=\"export\",status=\"dead\"";
        assert_eq!(run(dead, "300"), Some(0.0));
        assert_eq!(run(dead, "1800"), Some(1.0));
        // A job that never started has no run time.
        assert!(!text.contains("status=\"cancelled\"}_"));
        assert!(!text.contains(
            "kollega_job_run_duration_seconds_count{kind=\"command\",status=\"cancelled\"}"
        ));
        assert_histograms_hold_together(&text);
    }

    /// Every histogram's buckets only grow, and `+Inf` equals `_count`.
    fn assert_histograms_hold_together(text: &str) {
        let mut buckets: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut counts: BTreeMap<String, f64> = BTreeMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (series, v) = line.rsplit_once(' ').unwrap();
            let v: f64 = v.parse().unwrap();
            if let Some((name, rest)) = series.split_once("_bucket{") {
                let labels = rest.split("le=").next().unwrap().trim_end_matches(',');
                buckets
                    .entry(format!("{name}{{{labels}}}"))
                    .or_default()
                    .push(v);
            } else if let Some((name, rest)) = series.split_once("_count") {
                let labels = rest.trim_start_matches('{').trim_end_matches('}');
                counts.insert(format!("{name}{{{labels}}}"), v);
            }
        }
        assert!(!buckets.is_empty());
        for (series, values) in &buckets {
            assert_eq!(values.len(), BUCKETS.len() + 1, "{series}");
            assert!(
                values.windows(2).all(|w| w[0] <= w[1]),
                "{series}: {values:?}"
            );
            assert_eq!(values.last(), counts.get(series), "{series}");
        }
    }

    #[test]
    fn requests_accumulate_in_cumulative_buckets_across_connections() {
        let dir = tempfile::tempdir().unwrap();
        let one = Store::open(dir.path()).unwrap();
        let two = Store::open(dir.path()).unwrap();
        record_request(&one.conn, "github", "200", 0.003).unwrap();
        record_request(&two.conn, "github", "200", 0.2).unwrap();
        record_request(&one.conn, "github", "error", 7200.0).unwrap();
        record_request(&two.conn, "github", "503", 1.0).unwrap();
        record_request(&one.conn, "ollama", "200", -1.0).unwrap();
        record_request(&two.conn, "ollama", "200", f64::NAN).unwrap();

        let text = render(&one.conn, 0).unwrap();
        assert_well_formed(&text);
        assert_histograms_hold_together(&text);
        let requests = |service: &str, outcome: &str| {
            value(
                &text,
                &format!(
                    "kollega_http_requests_total{{outcome=\"{outcome}\",service=\"{service}\"}}"
                ),
            )
        };
        assert_eq!(requests("github", "200"), Some(2.0));
        assert_eq!(requests("github", "error"), Some(1.0));
        assert_eq!(requests("github", "503"), Some(1.0));
        assert_eq!(requests("ollama", "200"), Some(2.0));

        let bucket = |service: &str, le: &str| {
            value(
                &text,
                &format!(
                    "kollega_http_request_duration_seconds_bucket{{service=\"{service}\",le=\"{le}\"}}"
                ),
            )
        };
        assert_eq!(bucket("github", "0.005"), Some(1.0));
        assert_eq!(bucket("github", "0.1"), Some(1.0));
        assert_eq!(bucket("github", "0.25"), Some(2.0));
        assert_eq!(bucket("github", "1"), Some(3.0));
        assert_eq!(bucket("github", "1800"), Some(3.0));
        assert_eq!(bucket("github", "+Inf"), Some(4.0));
        assert_eq!(
            value(
                &text,
                "kollega_http_request_duration_seconds_count{service=\"github\"}"
            ),
            Some(4.0)
        );
        let sum = value(
            &text,
            "kollega_http_request_duration_seconds_sum{service=\"github\"}",
        )
        .unwrap();
        assert!((sum - 7201.203).abs() < 1e-9, "{sum}");
        // Negative and NaN durations count as zero.
        assert_eq!(bucket("ollama", "0.005"), Some(2.0));
        assert_eq!(
            value(
                &text,
                "kollega_http_request_duration_seconds_sum{service=\"ollama\"}"
            ),
            Some(0.0)
        );
        // Both connections see the same text.
        assert_eq!(render(&two.conn, 0).unwrap(), text);
    }

    #[test]
    fn a_histogram_row_that_does_not_fit_starts_over() {
        let (_d, store) = store();
        store
            .conn
            .execute(
                "INSERT INTO metric_series (name, labels, count, sum, buckets) \
                 VALUES (?1, 'service=\"x\"', 9, 9.0, '[1,2]')",
                [HTTP_SECONDS],
            )
            .unwrap();
        let text = render(&store.conn, 0).unwrap();
        assert!(!text.contains("service=\"x\""));
        record_request(&store.conn, "x", "200", 0.5).unwrap();
        let text = render(&store.conn, 0).unwrap();
        assert_eq!(
            value(
                &text,
                "kollega_http_request_duration_seconds_count{service=\"x\"}"
            ),
            Some(1.0)
        );
        assert_histograms_hold_together(&text);
    }

    #[test]
    fn label_values_are_escaped() {
        let (_d, mut store) = store();
        record_request(&store.conn, "a\"b\\c\nd", "ok", 0.01).unwrap();
        job(&mut store, "we\"ird\\kind\n", 0);
        let text = render(&store.conn, 0).unwrap();
        assert_well_formed(&text);
        assert!(text.contains(
            "kollega_http_requests_total{outcome=\"ok\",service=\"a\\\"b\\\\c\\nd\"} 1\n"
        ));
        assert!(text.contains(
            "kollega_http_request_duration_seconds_bucket{service=\"a\\\"b\\\\c\\nd\",le=\"0.01\"} 1\n"
        ));
        assert!(text.contains("kollega_jobs{kind=\"we\\\"ird\\\\kind\\n\",status=\"queued\"} 1\n"));
        assert_eq!(escape_help("a\\b\nc"), "a\\\\b\\nc");
    }

    #[test]
    fn the_format_check_catches_bad_lines() {
        let bad = std::panic::catch_unwind(|| assert_well_formed("metric{a=\"x} 1\n"));
        assert!(bad.is_err());
        let bad = std::panic::catch_unwind(|| assert_well_formed("9metric 1\n"));
        assert!(bad.is_err());
        assert_well_formed("m{a=\"x\\\"y\",b=\"\"} -1.5\nm_bucket{le=\"+Inf\"} 3\n");
    }

    #[test]
    fn request_heads_are_checked() {
        assert_eq!(
            request_line(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*"),
            Some(("GET", "/metrics?x=1"))
        );
        assert_eq!(request_line(b"GET / HTTP/1.0"), Some(("GET", "/")));
        for bad in [
            &b"hello"[..],
            b"GET /metrics",
            b"GET /metrics HTTP/2.0",
            b"GET  /metrics HTTP/1.1",
            b"GET metrics HTTP/1.1",
            b"G(T /metrics HTTP/1.1",
            b"GET /metrics HTTP/1.1\r\nno colon here",
            b"GET /\xff HTTP/1.1",
        ] {
            assert_eq!(
                request_line(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nbody"), Some(14));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\n"), Some(14));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
    }

    /// A server on a free port of 127.0.0.1, and its stop flag.
    fn server(
        dir: &std::path::Path,
    ) -> (
        std::net::SocketAddr,
        Arc<AtomicBool>,
        std::thread::JoinHandle<io::Result<()>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let dir = dir.to_path_buf();
        let thread = std::thread::spawn(move || serve(listener, dir, flag));
        (addr, stop, thread)
    }

    /// Sends raw bytes and reads the whole answer: status, headers, body.
    fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> (String, String, String) {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let answer = String::from_utf8(answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
        (status.to_string(), headers.to_string(), body.to_string())
    }

    fn get(addr: std::net::SocketAddr, path: &str) -> (String, String, String) {
        exchange(
            addr,
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\n\r\n").as_bytes(),
        )
    }

    #[test]
    fn serve_answers_scrapes_and_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let (addr, stop, thread) = server(dir.path());

        let (status, headers, body) = get(addr, "/metrics");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(
            headers.contains("Content-Type: text/plain; version=0.0.4"),
            "{headers}"
        );
        assert!(headers.contains(&format!("Content-Length: {}", body.len())));
        assert_well_formed(&body);
        assert!(body.contains("kollega_queue_depth 0\n"));

        let (status, _, body) = get(addr, "/nothing");
        assert_eq!(status, "HTTP/1.1 404 Not Found");
        assert!(body.contains("/metrics"));

        let (status, headers, _) = exchange(
            addr,
            b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        );
        assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
        assert!(headers.contains("Allow: GET, HEAD"));

        let (status, _, _) = exchange(addr, b"hello there\r\n\r\n");
        assert_eq!(status, "HTTP/1.1 400 Bad Request");
        let (status, _, _) = exchange(addr, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n");
        assert_eq!(status, "HTTP/1.1 400 Bad Request");
        let (status, _, body) = exchange(addr, &[b'a'; 20_000]);
        assert_eq!(status, "HTTP/1.1 400 Bad Request");
        assert!(body.contains("16 KiB"));

        let (status, headers, body) = get(addr, "/");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(headers.contains("text/html"));
        assert!(body.contains("href=\"/metrics\""));

        let (status, headers, body) = exchange(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(headers.contains("Content-Length: "));
        assert!(body.is_empty());

        // The requests above were counted, each by its status.
        let (_, _, body) = get(addr, "/metrics");
        let served = |code: &str| {
            value(
                &body,
                &format!("kollega_http_requests_total{{outcome=\"{code}\",service=\"metrics\"}}"),
            )
        };
        assert_eq!(served("200"), Some(3.0));
        assert_eq!(served("404"), Some(1.0));
        assert_eq!(served("405"), Some(1.0));
        assert_eq!(served("400"), Some(3.0));
        assert_eq!(
            value(
                &body,
                "kollega_http_request_duration_seconds_count{service=\"metrics\"}"
            ),
            Some(8.0)
        );

        // A client that connects and says nothing does not hold up stop.
        let _idle = TcpStream::connect(addr).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let asked = Instant::now();
        stop.store(true, Ordering::Relaxed);
        thread.join().unwrap().unwrap();
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{:?}",
            asked.elapsed()
        );
    }

    #[test]
    fn serve_stops_when_asked_while_idle() {
        let dir = tempfile::tempdir().unwrap();
        let (_addr, stop, thread) = server(dir.path());
        std::thread::sleep(Duration::from_millis(100));
        let asked = Instant::now();
        stop.store(true, Ordering::Relaxed);
        thread.join().unwrap().unwrap();
        assert!(asked.elapsed() < Duration::from_millis(500));
    }
}
