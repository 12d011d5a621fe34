//! Meetings: iCalendar files and subscribed calendar URLs turned into
//! occurrences in the store, their shown status, and transcripts read from
//! WebVTT, SRT or plain text.
//!
//! [`ics`] reads a calendar (structure checked with line numbers, parsed
//! with `calcard`), [`recur`] expands its series into occurrences within a
//! horizon with overrides merged, [`import`] stores the result in one
//! transaction, [`status`] derives upcoming/lobby/active/post/done/failed
//! from the clock, and [`zone`] finds the user's time zone. [`refresh`] is
//! the job that keeps a subscribed calendar URL fresh. The store's
//! `meetings` module holds the rows; nothing here knows the terminal.
//!
//! What the AI does with a meeting stays within its consent: [`material`]
//! is the one place a request about a meeting is built from, consent
//! enforced; [`model`] makes and records a meeting's calls; [`brief`] is
//! the `brief` job (pre- and post-briefs as schema-checked JSON); [`modules`]
//! is the `module` job (prompt packs run on a document for a meeting, on
//! per workspace, answering schema-checked JSON too); [`schema`] is what
//! both share: the JSON asked for, checked, and one repair request; [`expect`] looks for an expected transcript after the
//! meeting and degrades to the notes when it never comes; [`nudge`] and
//! [`retention`] are the routines (`jobs::routine`) that nudge untouched
//! action items, purge meetings past their retention and keep daily
//! backups of the store; [`watch`] keeps the versions of watched
//! regulation pages and feeds.

pub(crate) mod brief;
pub(crate) mod expect;
#[cfg(test)]
pub(crate) mod fixture;
pub(crate) mod ics;
pub(crate) mod import;
pub(crate) mod material;
pub(crate) mod model;
pub(crate) mod modules;
pub(crate) mod nudge;
pub(crate) mod recur;
pub(crate) mod refresh;
pub(crate) mod retention;
pub(crate) mod schema;
pub(crate) mod status;
pub(crate) mod transcript;
pub(crate) mod watch;
pub(crate) mod zone;

use std::path::PathBuf;

use crate::error::Hint;
use crate::store::StoreError;
use crate::store::jobs::QueueError;

/// What can go wrong with meetings, for the CLI and the dashboard.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MeetingsError {
    #[error("{source_name}, line {line}: {what}; nothing was imported")]
    Malformed {
        source_name: String,
        line: usize,
        what: String,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot fetch the calendar {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("no meeting {0}")]
    UnknownMeeting(i64),
    #[error("no action item {0}")]
    UnknownAction(i64),
    #[error("{value:?} is not a date (for {field})")]
    BadDate { field: &'static str, value: String },
    #[error("{0:?} is not a consent level")]
    BadConsent(String),
    #[error("{path}: {what}")]
    Transcript { path: PathBuf, what: String },
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Hint for MeetingsError {
    fn hint(&self) -> String {
        match self {
            MeetingsError::Malformed { .. } => {
                "fix that line (or export the calendar again) and import it again".into()
            }
            MeetingsError::Read { .. } => "check the path and that this user may read it".into(),
            MeetingsError::Fetch { .. } => {
                "check the address (a calendar's secret iCal address) and the network, then import it again".into()
            }
            MeetingsError::UnknownMeeting(_) => {
                "`kollega meetings --days 30` lists the meetings with their ids".into()
            }
            MeetingsError::UnknownAction(_) => "`kollega actions` lists the action items with their ids".into(),
            MeetingsError::BadDate { .. } => "write the date as YYYY-MM-DD, e.g. 2026-12-31".into(),
            MeetingsError::BadConsent(_) => "use basic, plus or legal".into(),
            MeetingsError::Transcript { .. } => {
                "give a WebVTT (.vtt), SubRip (.srt) or plain text file in UTF-8".into()
            }
            MeetingsError::Queue(e) => e.hint(),
            MeetingsError::Store(e) => e.hint(),
        }
    }
}

/// Checks a `YYYY-MM-DD` date given for `field`.
pub(crate) fn parse_date(field: &'static str, value: &str) -> Result<String, MeetingsError> {
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| MeetingsError::BadDate {
            field,
            value: value.to_string(),
        })
}
