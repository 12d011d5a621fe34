//! Importing a calendar: a file read once, or a URL fetched (with a
//! conditional GET when it was fetched before) and kept as a subscribed
//! calendar. Parsing and expanding happen before the store is touched;
//! the store's one transaction writes everything or nothing.

use std::path::Path;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use rusqlite::Connection;

use super::MeetingsError;
use super::ics::{self, Skipped};
use super::recur;
use crate::store::meetings::calendar::{self, CalendarRow, ImportBatch, ImportCounts, SourceKind};

/// How often a subscribed calendar is fetched again, unless told.
pub(crate) const DEFAULT_REFRESH_S: i64 = 30 * 60;

/// Largest calendar read, file or URL.
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct ImportReport {
    pub source: String,
    #[serde(flatten)]
    pub counts: ImportCounts,
    pub skipped: Vec<Skipped>,
    /// The server said the calendar is as it was (304): nothing read.
    pub not_modified: bool,
}

/// Parses `text` (from `source`) and stores it in one transaction.
#[expect(clippy::too_many_arguments, reason = "the parts of one import, named")]
pub(crate) fn import_text(
    conn: &mut Connection,
    kind: SourceKind,
    source: &str,
    text: &str,
    etag: Option<String>,
    last_modified: Option<String>,
    zone: chrono_tz::Tz,
    now: i64,
) -> Result<ImportReport, MeetingsError> {
    // A subscribed calendar's address is named by its host alone.
    let label = match kind {
        SourceKind::Url => shown_url(source),
        SourceKind::File => source.to_string(),
    };
    let doc = ics::parse(&label, text)?;
    let horizon = recur::horizon(now);
    let expanded = recur::expand(&doc, zone, horizon);
    let batch = ImportBatch {
        kind,
        source: source.to_string(),
        refresh_every_s: (kind == SourceKind::Url).then_some(DEFAULT_REFRESH_S),
        etag,
        last_modified,
        events: expanded.events,
        occurrences: expanded.occurrences,
        horizon,
    };
    let counts = calendar::import(conn, &batch, now)?;
    Ok(ImportReport {
        source: label,
        counts,
        skipped: expanded.skipped,
        not_modified: false,
    })
}

/// Imports the calendar file at `path` (kept by its absolute path, so
/// importing it again updates the same calendar).
pub(crate) fn import_file(
    conn: &mut Connection,
    path: &Path,
    zone: chrono_tz::Tz,
    now: i64,
) -> Result<ImportReport, MeetingsError> {
    let read = |source| MeetingsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let absolute = std::fs::canonicalize(path).map_err(read)?;
    let bytes = std::fs::read(&absolute).map_err(read)?;
    if bytes.len() > MAX_BYTES {
        return Err(read(std::io::Error::other(format!(
            "it is larger than {} MiB",
            MAX_BYTES / 1024 / 1024
        ))));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| read(std::io::Error::other("it is not UTF-8 text")))?;
    let source = absolute.to_string_lossy().into_owned();
    import_text(
        conn,
        SourceKind::File,
        &source,
        &text,
        None,
        None,
        zone,
        now,
    )
}

/// A calendar URL's answer.
pub(crate) enum Fetched {
    NotModified,
    Body {
        text: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Whether `s` is an http or https URL (else a file path).
pub(crate) fn is_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("webcal://")
}

/// A calendar URL as shown in messages, logs and job results: its scheme
/// and host alone. A subscribed calendar's address is often its secret
/// (Google's and Outlook's "secret iCal address"); only the calendar row
/// keeps it whole.
pub(crate) fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(&http_url(url)) {
        Ok(parsed) => {
            let host = parsed.host_str().unwrap_or("?");
            let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
            let rest = if parsed.path().len() > 1 || parsed.query().is_some() {
                "/…"
            } else {
                ""
            };
            format!("{}://{host}{port}{rest}", parsed.scheme())
        }
        Err(_) => "(a calendar address that is not a URL)".into(),
    }
}

/// `webcal://` is the calendar apps' name for https.
fn http_url(url: &str) -> String {
    match url.get(..9) {
        Some(scheme) if scheme.eq_ignore_ascii_case("webcal://") => {
            format!("https://{}", &url[9..])
        }
        _ => url.to_string(),
    }
}

/// A URL's answer as it came: its bytes and the media type it was sent as.
pub(crate) enum Raw {
    NotModified,
    Body {
        bytes: Vec<u8>,
        /// The `Content-Type` header (`text/html; charset=iso-8859-1`).
        content_type: Option<String>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// What a failed request says: reqwest's sentence and, beneath it, the
/// cause (`connection refused`, a TLS or DNS failure), never the URL.
fn cause(e: reqwest::Error) -> String {
    let inner = std::error::Error::source(&e).map(|_| crate::ai::client::without_url(&e));
    let top = e.without_url().to_string();
    match inner {
        Some(inner) if !top.contains(&inner) => format!("{top}: {inner}"),
        _ => top,
    }
}

/// Fetches a calendar at `url`, conditionally on `etag`/`last_modified`
/// from before; a calendar must be UTF-8 text.
pub(crate) async fn fetch(
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<Fetched, MeetingsError> {
    match fetch_bytes(url, etag, last_modified).await? {
        Raw::NotModified => Ok(Fetched::NotModified),
        Raw::Body {
            bytes,
            etag,
            last_modified,
            ..
        } => {
            let text = String::from_utf8(bytes).map_err(|_| MeetingsError::Fetch {
                url: shown_url(url),
                reason: "it is not UTF-8 text".into(),
            })?;
            Ok(Fetched::Body {
                text,
                etag,
                last_modified,
            })
        }
    }
}

/// Fetches `url` (at most `MAX_BYTES`), conditionally on
/// `etag`/`last_modified` from before. An error names the URL as
/// [`shown_url`] does and the request's cause.
pub(crate) async fn fetch_bytes(
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<Raw, MeetingsError> {
    let fail = |reason: String| MeetingsError::Fetch {
        url: shown_url(url),
        reason,
    };
    let target = http_url(url);
    let parsed = reqwest::Url::parse(&target).map_err(|e| fail(e.to_string()))?;
    let mut client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60));
    if matches!(
        parsed.host_str(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    ) {
        client = client.no_proxy();
    }
    let client = client.build().map_err(|e| fail(cause(e)))?;
    let mut request = client.get(parsed);
    if let Some(etag) = etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    if let Some(modified) = last_modified {
        request = request.header(IF_MODIFIED_SINCE, modified);
    }
    let response = request.send().await.map_err(|e| fail(cause(e)))?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Raw::NotModified);
    }
    if !status.is_success() {
        return Err(fail(format!("the server answered {status}")));
    }
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
    let content_type = header(CONTENT_TYPE);
    let bytes = response.bytes().await.map_err(|e| fail(cause(e)))?;
    if bytes.len() > MAX_BYTES {
        return Err(fail(format!(
            "the answer is larger than {} MiB",
            MAX_BYTES / 1024 / 1024
        )));
    }
    Ok(Raw::Body {
        bytes: bytes.to_vec(),
        content_type,
        etag,
        last_modified,
    })
}

/// Fetches and imports the calendar at `url`, subscribing to it; asks
/// conditionally when it was fetched before. A failed fetch is recorded
/// on a known calendar and nothing else changes.
pub(crate) async fn import_url(
    conn: &mut Connection,
    url: &str,
    zone: chrono_tz::Tz,
    now: i64,
) -> Result<ImportReport, MeetingsError> {
    let known = calendar::calendar_by_source(conn, url)?;
    let (etag, modified) = known
        .as_ref()
        .map(|c| (c.etag.clone(), c.last_modified.clone()))
        .unwrap_or_default();
    let fetched = fetch(url, etag.as_deref(), modified.as_deref()).await;
    store_fetched(conn, url, known.as_ref(), fetched, zone, now)
}

/// Stores what a fetch of `url` answered: a new body imported (in one
/// transaction), a 304 noted as a refresh that found the calendar as it
/// was (its meetings stay), a failure recorded on `known` (the calendar
/// as stored before, if it was) and answered.
pub(crate) fn store_fetched(
    conn: &mut Connection,
    url: &str,
    known: Option<&CalendarRow>,
    fetched: Result<Fetched, MeetingsError>,
    zone: chrono_tz::Tz,
    now: i64,
) -> Result<ImportReport, MeetingsError> {
    let fetched = match (fetched, known) {
        (Ok(f), _) => f,
        (Err(e), Some(c)) => {
            calendar::refresh_failed(conn, c.id, &e.to_string(), now)?;
            return Err(e);
        }
        (Err(e), None) => return Err(e),
    };
    match (fetched, known) {
        (Fetched::NotModified, Some(c)) => {
            calendar::refresh_unchanged(conn, c.id, now)?;
            Ok(ImportReport {
                source: shown_url(url),
                counts: ImportCounts {
                    calendar: c.id,
                    ..ImportCounts::default()
                },
                skipped: Vec::new(),
                not_modified: true,
            })
        }
        // Nothing was asked conditionally, so a 304 here is the server's
        // error: there is nothing to keep.
        (Fetched::NotModified, None) => Err(MeetingsError::Fetch {
            url: shown_url(url),
            reason: "the server answered 304 Not Modified to a first request".into(),
        }),
        (
            Fetched::Body {
                text,
                etag,
                last_modified,
            },
            _,
        ) => {
            let result = import_text(
                conn,
                SourceKind::Url,
                url,
                &text,
                etag,
                last_modified,
                zone,
                now,
            );
            if let (Err(e), Some(c)) = (&result, known) {
                calendar::refresh_failed(conn, c.id, &e.to_string(), now)?;
            }
            result
        }
    }
}
