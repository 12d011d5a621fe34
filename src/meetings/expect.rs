//! An expected transcript: `kollega meetings expect ID SOURCE` names where
//! a meeting's transcript will appear (a file path, or an http(s) URL) and
//! queues a `transcript` job for the meeting's end. A try that finds the
//! transcript reads it (WebVTT, SubRip or plain text) into the store; a
//! try that finds nothing queues the next one after a growing wait
//! ([`RETRY_AFTER_MS`]: 10, 30 and 90 minutes, three retries), and after
//! the last the meeting's transcript is `missing`: the meeting degrades to
//! a post-analysis of its notes (a post-brief job, whose prompt says the
//! transcript did not arrive), and `meetings show` says so. Under consent
//! `basic` no post-brief is queued: nothing of the notes may reach a model.
//!
//! Each try is a job of its own, so the jobs list shows when the next one
//! is due; the meeting's `transcript_attempts` and `transcript_next_at`
//! follow them. A try whose expectation was changed or met meanwhile (a
//! new source, a transcript attached by hand) ends without doing anything.

use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};

use super::brief::BriefPayload;
use super::import::{self, Fetched};
use super::transcript;
use super::{MeetingsError, material};
use crate::ai::ask::say;
use crate::jobs::kinds::{BoxFuture, JobContext, Kind};
use crate::jobs::payload::{Fields, JobPayload, PayloadError};
use crate::jobs::runner::Clock;
use crate::jobs::{JobError, JobKind, JobsError};
use crate::store::jobs::NewJob;
use crate::store::meetings::{self as rows, NewTranscript};

/// The job kind's name.
pub(crate) const TRANSCRIPT: &str = "transcript";

/// The waits before the retries after a first try that found nothing.
pub(crate) const RETRY_AFTER_MS: [i64; 3] = [10 * 60_000, 30 * 60_000, 90 * 60_000];

/// `transcript`: one try to find meeting `meeting`'s transcript at
/// `source`; `attempt` 1 is the first try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TranscriptPayload {
    pub meeting: i64,
    pub source: String,
    pub attempt: u32,
}

impl JobPayload for TranscriptPayload {
    fn kind() -> JobKind {
        JobKind::Other(TRANSCRIPT.into())
    }

    fn read(f: &Fields<'_>) -> Result<Self, PayloadError> {
        let meeting: Option<i64> = f.get("meeting")?;
        let source: Option<String> = f.get("source")?;
        let attempt: Option<u32> = f.get("attempt")?;
        Ok(TranscriptPayload {
            meeting: meeting.ok_or_else(|| f.problem("meeting", "is missing"))?,
            source: source.ok_or_else(|| f.problem("source", "is missing"))?,
            attempt: attempt.unwrap_or(1).max(1),
        })
    }
}

impl TranscriptPayload {
    /// The job of this try, not run before `run_at`. One run per try: a
    /// try that finds nothing queues the next itself.
    fn at(&self, run_at: i64) -> NewJob {
        let mut job = self.job(None);
        job.run_at = Some(run_at);
        job.max_attempts = 1;
        job
    }
}

/// Whether `source` names a URL (else a file path).
fn is_url(source: &str) -> bool {
    import::is_url(source)
}

/// Checks `source` as given on the command line: an http(s) URL, or a
/// path made absolute against `cwd`.
pub(crate) fn source_of(source: &str, cwd: &Path) -> Result<String, MeetingsError> {
    let trimmed = source.trim();
    if trimmed.is_empty() {
        return Err(MeetingsError::Transcript {
            path: source.into(),
            what: "no source given".into(),
        });
    }
    if is_url(trimmed) {
        return reqwest::Url::parse(&trimmed.replacen("webcal://", "https://", 1))
            .map(|_| trimmed.to_string())
            .map_err(|e| MeetingsError::Fetch {
                url: trimmed.to_string(),
                reason: e.to_string(),
            });
    }
    Ok(cwd.join(trimmed).to_string_lossy().into_owned())
}

/// Expects meeting `id`'s transcript at `source` and queues the first try
/// at the meeting's end (or now, if it has ended): the job's id and when
/// it runs, or `None` for no meeting. A second call replaces the source
/// and starts the tries again; the queued try of the old source ends
/// without doing anything.
pub(crate) fn expect(
    conn: &mut rusqlite::Connection,
    id: i64,
    source: &str,
    now: i64,
) -> Result<Option<(i64, i64)>, JobsError> {
    let tx = conn.transaction()?;
    let Some(meeting) = rows::get(&tx, id)? else {
        return Ok(None);
    };
    rows::expect_transcript(&tx, id, Some(source), now)?;
    let run_at = meeting.end_at.max(now);
    let payload = TranscriptPayload {
        meeting: id,
        source: source.to_string(),
        attempt: 1,
    };
    let job = crate::store::jobs::enqueue_in(&tx, &payload.at(run_at), now)?;
    tx.commit()?;
    Ok(Some((job, run_at)))
}

/// The `transcript` kind.
pub(crate) struct TranscriptJob {
    clock: Clock,
}

impl TranscriptJob {
    pub(crate) fn new() -> TranscriptJob {
        TranscriptJob {
            clock: Clock::System,
        }
    }

    #[cfg(test)]
    pub(crate) fn on(clock: Clock) -> TranscriptJob {
        TranscriptJob { clock }
    }
}

impl Kind for TranscriptJob {
    fn kind(&self) -> JobKind {
        JobKind::Other(TRANSCRIPT.into())
    }

    /// One run per try; the tries are jobs of their own.
    fn max_attempts(&self) -> u32 {
        1
    }

    fn run(&self, ctx: JobContext) -> BoxFuture<Result<Value, JobError>> {
        let clock = self.clock;
        Box::pin(async move { try_once(ctx, clock).await })
    }
}

/// The transcript's text read from `source`, or why there is none yet.
async fn look(source: &str) -> Result<(String, String), String> {
    if is_url(source) {
        match import::fetch(source, None, None).await {
            Ok(Fetched::Body { text, .. }) => {
                let name = source
                    .rsplit('/')
                    .next()
                    .and_then(|n| n.split(['?', '#']).next())
                    .unwrap_or_default()
                    .to_string();
                Ok((name, text))
            }
            Ok(Fetched::NotModified) => Err("the server answered 304 Not Modified".into()),
            Err(MeetingsError::Fetch { reason, .. }) => Err(reason),
            Err(e) => Err(e.to_string()),
        }
    } else {
        let path = source.to_string();
        let read = tokio::task::spawn_blocking(move || std::fs::read_to_string(&path)).await;
        let name = Path::new(source)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match read {
            Ok(Ok(text)) => Ok((name, text)),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                Err("no such file yet".into())
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}

async fn try_once(ctx: JobContext, clock: Clock) -> Result<Value, JobError> {
    let payload = TranscriptPayload::of(&ctx.job)?;
    let id = payload.meeting;
    let meeting = ctx
        .db
        .call(move |store| Ok(rows::get(&store.conn, id)?))
        .await
        .map_err(JobError::from_store)?;
    let Some(meeting) = meeting else {
        say(&ctx, &format!("meeting {id} is gone: nothing to look for"));
        return Ok(json!({ "meeting": id, "state": "gone" }));
    };
    if meeting.transcript_state != "expected"
        || meeting.transcript_source.as_deref() != Some(payload.source.as_str())
    {
        say(
            &ctx,
            &format!(
                "meeting {id}'s transcript is {} now (from {}): this try is not needed",
                meeting.transcript_state,
                meeting.transcript_source.as_deref().unwrap_or("nowhere")
            ),
        );
        return Ok(json!({ "meeting": id, "state": meeting.transcript_state }));
    }
    let tries = RETRY_AFTER_MS.len() + 1;
    let found = match look(&payload.source).await {
        Ok((name, text)) => transcript::read(&name, &text)
            .map(|t| (name, t))
            .map_err(|what| format!("it is there but cannot be read: {what}")),
        Err(why) => Err(why),
    };
    let now = clock.now();
    match found {
        Ok((name, parsed)) => {
            let cues = (!parsed.cues.is_empty())
                .then(|| serde_json::to_string(&parsed.cues).ok())
                .flatten();
            let count = parsed.cues.len();
            let row = ctx
                .db
                .call(move |store| {
                    let new = NewTranscript {
                        format: parsed.format,
                        text: &parsed.text,
                        cues: cues.as_deref(),
                        source_name: &name,
                    };
                    Ok(rows::add_transcript(&mut store.conn, id, &new, now)?)
                })
                .await
                .map_err(JobError::from_store)?;
            say(
                &ctx,
                &format!(
                    "meeting {id}'s transcript found on try {} of {tries}: transcript {} ({count} cues)",
                    payload.attempt,
                    row.unwrap_or_default()
                ),
            );
            Ok(
                json!({ "meeting": id, "state": "received", "transcript": row, "try": payload.attempt }),
            )
        }
        Err(why) => {
            let index = usize::try_from(payload.attempt.saturating_sub(1)).unwrap_or(usize::MAX);
            match RETRY_AFTER_MS.get(index) {
                Some(wait) => {
                    let next = TranscriptPayload {
                        attempt: payload.attempt + 1,
                        ..payload.clone()
                    };
                    let at = now + wait;
                    let job = ctx
                        .db
                        .call(move |store| {
                            let tx = store.conn.transaction()?;
                            rows::transcript_try_failed(&tx, id, Some(at), now)?;
                            let job = crate::store::jobs::enqueue_in(&tx, &next.at(at), now)?;
                            tx.commit()?;
                            Ok(job)
                        })
                        .await
                        .map_err(JobError::from_store)?;
                    say(
                        &ctx,
                        &format!(
                            "meeting {id}'s transcript not found on try {} of {tries} ({why}); job {job} tries again at {}",
                            payload.attempt,
                            crate::jobs::format_ms(at)
                        ),
                    );
                    Ok(
                        json!({ "meeting": id, "state": "expected", "try": payload.attempt, "why": why, "nextJob": job, "nextAt": at }),
                    )
                }
                None => give_up(&ctx, id, payload.attempt, &why, now).await,
            }
        }
    }
}

/// The last try found nothing: the transcript is missing, and a meeting
/// whose consent allows it gets a post-brief of its notes.
async fn give_up(
    ctx: &JobContext,
    id: i64,
    attempt: u32,
    why: &str,
    now: i64,
) -> Result<Value, JobError> {
    let brief = ctx
        .db
        .call(move |store| {
            let tx = store.conn.transaction()?;
            rows::transcript_try_failed(&tx, id, None, now)?;
            let consent = rows::get(&tx, id)?.map(|m| m.consent);
            let job = match consent {
                Some(c) if material::allows_text(c) => {
                    let post = BriefPayload {
                        meeting: id,
                        kind: "post".into(),
                        provider: None,
                        model: None,
                    };
                    Some(crate::store::jobs::enqueue_in(&tx, &post.job(None), now)?)
                }
                _ => None,
            };
            tx.commit()?;
            Ok(job)
        })
        .await
        .map_err(JobError::from_store)?;
    let then = match brief {
        Some(job) => format!("post-brief job {job} works from the notes only"),
        None => "consent basic: no post-brief (`kollega meetings consent {id} plus` allows one)"
            .replace("{id}", &id.to_string()),
    };
    say(
        ctx,
        &format!(
            "meeting {id}'s transcript did not arrive after {attempt} tries ({why}): marked missing; {then}"
        ),
    );
    Ok(json!({ "meeting": id, "state": "missing", "try": attempt, "why": why, "briefJob": brief }))
}

/// What `meetings show` says of meeting `m`'s expected transcript, if
/// anything.
pub(crate) fn shown(m: &rows::MeetingRow) -> Option<String> {
    let source = m.transcript_source.as_deref().unwrap_or("?");
    let tries = RETRY_AFTER_MS.len() + 1;
    match m.transcript_state.as_str() {
        "expected" if m.transcript_attempts == 0 => Some(format!(
            "transcript expected from {source}: first looked for at the meeting's end"
        )),
        "expected" => Some(format!(
            "transcript expected from {source}: not found in {} of {tries} tries yet",
            m.transcript_attempts
        )),
        "missing" => Some(format!(
            "transcript missing: nothing at {source} after {tries} tries; the post-analysis works from the notes only"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
