//! The small HTTP server of `kollega worker --metrics ADDR`: `GET
//! /metrics` answers the text format, `GET /` a pointer to it; each
//! request it serves is counted like the requests kollega makes.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::text::CONTENT_TYPE;
use super::{record_request, render};

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
            Err(e) if no_data_yet(&e) => {}
            Err(_) if head.is_empty() => return Err(ReadError::Closed),
            Err(_) => return Err(ReadError::Incomplete),
        }
    }
}

/// A read that found nothing yet: its short timeout passed, or a signal
/// came. The caller looks at its deadline and the stop flag, and reads on.
fn no_data_yet(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
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
            Err(e) if no_data_yet(&e) => {}
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
        "/metrics" => match render(conn, crate::store::now_ms()) {
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
    use super::super::text::check::{assert_well_formed, value};
    use super::*;

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
