//! Queries of the meeting tables: the occurrences the dashboard lists and
//! what hangs on one (stakeholders, notes, transcripts, decisions, consent,
//! processing state), and forgetting a meeting whole.
//!
//! Writing calendars and their events is [`calendar`]'s, action items and
//! nudges [`actions`]'s, the people across meetings [`stakeholders`]'. A
//! write to a meeting that does not exist answers `None`: the caller names
//! the id to the user. Text of a meeting never goes to a log line or the
//! audit log, only ids and counts.

pub(crate) mod actions;
pub(crate) mod briefs;
pub(crate) mod calendar;
pub(crate) mod modules;
pub(crate) mod pane;
pub(crate) mod stakeholders;
pub(crate) mod watches;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, audit};

/// How much of a meeting's text a model may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Consent {
    /// Metadata only: no note or transcript text reaches a model.
    Basic,
    /// Briefs and extraction of decisions and actions.
    Plus,
    /// As plus, with flags for obligations, deadlines and contract terms.
    Legal,
}

impl Consent {
    pub(crate) const ALL: [Consent; 3] = [Consent::Basic, Consent::Plus, Consent::Legal];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Consent::Basic => "basic",
            Consent::Plus => "plus",
            Consent::Legal => "legal",
        }
    }

    /// The level named `s`, or `None` for a name that is none.
    pub(crate) fn parse(s: &str) -> Option<Consent> {
        Consent::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Where the work after a meeting (transcript, post-brief) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Processing {
    /// Nothing done yet.
    None,
    Running,
    Done,
    Failed,
}

impl Processing {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Processing::None => "none",
            Processing::Running => "running",
            Processing::Done => "done",
            Processing::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Processing {
        match s {
            "running" => Processing::Running,
            "done" => Processing::Done,
            "failed" => Processing::Failed,
            _ => Processing::None,
        }
    }
}

/// One occurrence as the dashboard lists it. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MeetingRow {
    pub id: i64,
    pub uid: String,
    /// '' for a single event, the original start in a series.
    pub occurrence_key: String,
    pub title: String,
    pub location: Option<String>,
    pub url: Option<String>,
    pub start_at: i64,
    pub end_at: i64,
    /// The zone the calendar wrote it in, if any.
    pub tzid: Option<String>,
    pub all_day: bool,
    pub floating: bool,
    pub cancelled: bool,
    pub consent: Consent,
    pub processing: Processing,
    pub processing_error: Option<String>,
    pub transcript_source: Option<String>,
    /// 'none', 'expected', 'received' or 'missing'.
    pub transcript_state: String,
    pub transcript_attempts: i64,
}

const MEETING_COLUMNS: &str = "id, uid, occurrence_key, title, location, url, start_at, end_at, \
     tzid, all_day, floating, cancelled, consent, processing, processing_error, \
     transcript_source, transcript_state, transcript_attempts";

fn meeting_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MeetingRow> {
    let consent: String = r.get(12)?;
    let processing: String = r.get(13)?;
    Ok(MeetingRow {
        id: r.get(0)?,
        uid: r.get(1)?,
        occurrence_key: r.get(2)?,
        title: r.get(3)?,
        location: r.get(4)?,
        url: r.get(5)?,
        start_at: r.get(6)?,
        end_at: r.get(7)?,
        tzid: r.get(8)?,
        all_day: r.get(9)?,
        floating: r.get(10)?,
        cancelled: r.get(11)?,
        consent: Consent::parse(&consent).unwrap_or(Consent::Basic),
        processing: Processing::parse(&processing),
        processing_error: r.get(14)?,
        transcript_source: r.get(15)?,
        transcript_state: r.get(16)?,
        transcript_attempts: r.get(17)?,
    })
}

/// The meetings not cancelled that overlap `[from, to)`, by start.
pub(crate) fn between(conn: &Connection, from: i64, to: i64) -> Result<Vec<MeetingRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MEETING_COLUMNS} FROM meetings
         WHERE cancelled = 0 AND start_at < ?2 AND (end_at > ?1 OR start_at >= ?1)
           AND start_at >= ?1 - (SELECT max(0, coalesce(max(end_at - start_at), 0))
                                 FROM meetings)
         ORDER BY start_at, id"
    ))?;
    let rows = stmt.query_map(params![from, to], meeting_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Meeting `id`, cancelled or not.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<MeetingRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {MEETING_COLUMNS} FROM meetings WHERE id = ?1"),
            [id],
            meeting_row,
        )
        .optional()?)
}

/// Meetings of the series `uid` that start before `before`, newest first:
/// the earlier decisions of a series for a pre-brief.
pub(crate) fn earlier_in_series(
    conn: &Connection,
    uid: &str,
    before: i64,
) -> Result<Vec<MeetingRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {MEETING_COLUMNS} FROM meetings WHERE uid = ?1 AND start_at < ?2
         ORDER BY start_at DESC"
    ))?;
    let rows = stmt.query_map(params![uid, before], meeting_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn exists(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM meetings WHERE id = ?1", [id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The description the calendar gave meeting `id` (its agenda).
pub(crate) fn description(conn: &Connection, id: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT e.description FROM meetings m JOIN calendar_events e ON e.id = m.event_id
             WHERE m.id = ?1",
            [id],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}

/// A person's part in a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Organizer,
    Attendee,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Organizer => "organizer",
            Role::Attendee => "attendee",
        }
    }

    pub(crate) fn parse(s: &str) -> Role {
        if s == "organizer" {
            Role::Organizer
        } else {
            Role::Attendee
        }
    }
}

/// A stakeholder of one meeting.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Attendee {
    pub stakeholder_id: i64,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
}

/// The people of meeting `id`, organizer first.
pub(crate) fn attendees(conn: &Connection, id: i64) -> Result<Vec<Attendee>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.email, s.name, ms.role FROM meeting_stakeholders ms
         JOIN stakeholders s ON s.id = ms.stakeholder_id
         WHERE ms.meeting_id = ?1 ORDER BY ms.role = 'attendee', s.email",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Attendee {
            stakeholder_id: r.get(0)?,
            email: r.get(1)?,
            name: r.get(2)?,
            role: Role::parse(&r.get::<_, String>(3)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A note or a decision.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextRow {
    pub id: i64,
    pub meeting_id: i64,
    pub text: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn text_rows(conn: &Connection, table: &str, id: i64) -> Result<Vec<TextRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, meeting_id, text, created_at, updated_at FROM {table}
         WHERE meeting_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([id], |r| {
        Ok(TextRow {
            id: r.get(0)?,
            meeting_id: r.get(1)?,
            text: r.get(2)?,
            created_at: r.get(3)?,
            updated_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn add_text(conn: &Connection, table: &str, id: i64, text: &str, now: i64) -> Result<Option<i64>> {
    if !exists(conn, id)? {
        return Ok(None);
    }
    conn.execute(
        &format!(
            "INSERT INTO {table} (meeting_id, text, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?3)"
        ),
        params![id, text, now],
    )?;
    Ok(Some(conn.last_insert_rowid()))
}

fn edit_text(conn: &Connection, table: &str, row: i64, text: &str, now: i64) -> Result<bool> {
    let n = conn.execute(
        &format!("UPDATE {table} SET text = ?2, updated_at = ?3 WHERE id = ?1"),
        params![row, text, now],
    )?;
    Ok(n > 0)
}

/// The notes of meeting `id`, oldest first.
pub(crate) fn notes(conn: &Connection, id: i64) -> Result<Vec<TextRow>> {
    text_rows(conn, "meeting_notes", id)
}

/// Adds a note to meeting `id`: the note's id, or `None` for no meeting.
pub(crate) fn add_note(conn: &Connection, id: i64, text: &str, now: i64) -> Result<Option<i64>> {
    add_text(conn, "meeting_notes", id, text, now)
}

/// Replaces the text of note `note`; false when there is none.
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "the dashboard edits notes and decisions in place")
)]
pub(crate) fn edit_note(conn: &Connection, note: i64, text: &str, now: i64) -> Result<bool> {
    edit_text(conn, "meeting_notes", note, text, now)
}

/// The decisions of meeting `id`, oldest first.
pub(crate) fn decisions(conn: &Connection, id: i64) -> Result<Vec<TextRow>> {
    text_rows(conn, "decisions", id)
}

/// Records a decision of meeting `id`: its id, or `None` for no meeting.
pub(crate) fn add_decision(
    conn: &Connection,
    id: i64,
    text: &str,
    now: i64,
) -> Result<Option<i64>> {
    add_text(conn, "decisions", id, text, now)
}

/// Replaces the text of decision `decision`; false when there is none.
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "the dashboard edits notes and decisions in place")
)]
pub(crate) fn edit_decision(
    conn: &Connection,
    decision: i64,
    text: &str,
    now: i64,
) -> Result<bool> {
    edit_text(conn, "decisions", decision, text, now)
}

/// Removes decision `decision`; false when there is none.
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "the dashboard edits notes and decisions in place")
)]
pub(crate) fn remove_decision(conn: &Connection, decision: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM decisions WHERE id = ?1", [decision])? > 0)
}

/// The file format a transcript came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TranscriptFormat {
    Vtt,
    Srt,
    Txt,
}

impl TranscriptFormat {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TranscriptFormat::Vtt => "vtt",
            TranscriptFormat::Srt => "srt",
            TranscriptFormat::Txt => "txt",
        }
    }

    fn parse(s: &str) -> TranscriptFormat {
        match s {
            "vtt" => TranscriptFormat::Vtt,
            "srt" => TranscriptFormat::Srt,
            _ => TranscriptFormat::Txt,
        }
    }
}

/// A transcript to store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewTranscript<'a> {
    pub format: TranscriptFormat,
    /// The spoken text, timestamps stripped.
    pub text: &'a str,
    /// JSON array of `{start_ms, end_ms, text}` cues, for VTT and SRT.
    pub cues: Option<&'a str>,
    /// The file's name (no directory) or the URL.
    pub source_name: &'a str,
}

/// A stored transcript.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TranscriptRow {
    pub id: i64,
    pub format: TranscriptFormat,
    pub text: String,
    pub cues: Option<String>,
    pub source_name: String,
    pub created_at: i64,
}

/// Attaches a transcript to meeting `id` and marks it received: the
/// transcript's id, or `None` for no meeting.
pub(crate) fn add_transcript(
    conn: &mut Connection,
    id: i64,
    transcript: &NewTranscript<'_>,
    now: i64,
) -> Result<Option<i64>> {
    let tx = conn.transaction()?;
    if !exists(&tx, id)? {
        return Ok(None);
    }
    tx.execute(
        "INSERT INTO transcripts (meeting_id, format, text, cues, source_name, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            transcript.format.as_str(),
            transcript.text,
            transcript.cues,
            transcript.source_name,
            now
        ],
    )?;
    let row = tx.last_insert_rowid();
    tx.execute(
        "UPDATE meetings SET transcript_state = 'received', transcript_next_at = NULL,
                updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    tx.commit()?;
    Ok(Some(row))
}

/// The transcripts of meeting `id`, oldest first.
pub(crate) fn transcripts(conn: &Connection, id: i64) -> Result<Vec<TranscriptRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, format, text, cues, source_name, created_at FROM transcripts
         WHERE meeting_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(TranscriptRow {
            id: r.get(0)?,
            format: TranscriptFormat::parse(&r.get::<_, String>(1)?),
            text: r.get(2)?,
            cues: r.get(3)?,
            source_name: r.get(4)?,
            created_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Sets where meeting `id`'s transcript is expected from (`None`: from
/// nowhere) and resets the tries; false when there is no meeting.
pub(crate) fn expect_transcript(
    conn: &Connection,
    id: i64,
    source: Option<&str>,
    now: i64,
) -> Result<bool> {
    let state = if source.is_some() { "expected" } else { "none" };
    let n = conn.execute(
        "UPDATE meetings SET transcript_source = ?2, transcript_state = ?3,
                transcript_attempts = 0, transcript_next_at = NULL, updated_at = ?4
         WHERE id = ?1",
        params![id, source, state, now],
    )?;
    Ok(n > 0)
}

/// Records one more failed try to fetch meeting `id`'s transcript: the
/// next try at `next_at`, or given up (`None`: state 'missing').
pub(crate) fn transcript_try_failed(
    conn: &Connection,
    id: i64,
    next_at: Option<i64>,
    now: i64,
) -> Result<bool> {
    let state = if next_at.is_some() {
        "expected"
    } else {
        "missing"
    };
    let n = conn.execute(
        "UPDATE meetings SET transcript_attempts = transcript_attempts + 1,
                transcript_state = ?2, transcript_next_at = ?3, updated_at = ?4
         WHERE id = ?1",
        params![id, state, next_at, now],
    )?;
    Ok(n > 0)
}

/// Sets meeting `id`'s consent level and writes the change to the audit
/// log, in one transaction: the level it had, or `None` for no meeting.
pub(crate) fn set_consent(
    conn: &mut Connection,
    id: i64,
    consent: Consent,
    now: i64,
) -> Result<Option<Consent>> {
    let tx = conn.transaction()?;
    let Some(old) = tx
        .query_row("SELECT consent FROM meetings WHERE id = ?1", [id], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
    else {
        return Ok(None);
    };
    let old = Consent::parse(&old).unwrap_or(Consent::Basic);
    if old != consent {
        tx.execute(
            "UPDATE meetings SET consent = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, consent.as_str(), now],
        )?;
        audit::record(
            &tx,
            "meeting consent",
            None,
            &serde_json::json!({
                "meeting": id, "from": old.as_str(), "to": consent.as_str()
            }),
        )?;
    }
    tx.commit()?;
    Ok(Some(old))
}

/// Sets where meeting `id`'s processing stands, with the failure's text
/// for `Failed`; false when there is no meeting.
pub(crate) fn set_processing(
    conn: &Connection,
    id: i64,
    processing: Processing,
    error: Option<&str>,
    now: i64,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE meetings SET processing = ?2, processing_error = ?3, updated_at = ?4
         WHERE id = ?1",
        params![id, processing.as_str(), error, now],
    )?;
    Ok(n > 0)
}

/// Notes that AI call `ai_call` was made for meeting `id`, so forgetting
/// the meeting removes the call's record too.
pub(crate) fn link_ai_call(conn: &Connection, id: i64, ai_call: i64) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO meeting_ai_calls (meeting_id, ai_call_id) VALUES (?1, ?2)",
        params![id, ai_call],
    )?;
    Ok(())
}

/// What forgetting a meeting removed, by kind of row.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Forgotten {
    pub meetings: usize,
    pub events: usize,
    pub stakeholder_links: usize,
    pub notes: usize,
    pub transcripts: usize,
    pub decisions: usize,
    pub actions: usize,
    pub nudges: usize,
    pub briefs: usize,
    pub module_answers: usize,
    pub ai_calls: usize,
}

impl Forgotten {
    /// Every row removed.
    pub(crate) fn rows(&self) -> usize {
        self.meetings
            + self.events
            + self.stakeholder_links
            + self.notes
            + self.transcripts
            + self.decisions
            + self.actions
            + self.nudges
            + self.briefs
            + self.module_answers
            + self.ai_calls
    }
}

/// The hash a forgotten meeting is remembered by: no text of it.
pub(crate) fn forgotten_key(uid: &str, occurrence_key: &str) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    hash.update(uid.as_bytes());
    hash.update([0]);
    hash.update(occurrence_key.as_bytes());
    hex::encode(hash.finalize())
}

/// Removes meeting `id` with everything hung on it, its AI call records,
/// and the calendar's own text of it when no other meeting shares it (a
/// single event, a moved occurrence); a re-import does not bring it back.
/// One transaction, with one audit entry of counts only. `None` for no
/// meeting. The freed pages still hold the text: [`scrub`] after it.
pub(crate) fn forget(conn: &mut Connection, id: i64, now: i64) -> Result<Option<Forgotten>> {
    let tx = conn.transaction()?;
    let Some((uid, key, event)) = tx
        .query_row(
            "SELECT uid, occurrence_key, event_id FROM meetings WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            },
        )
        .optional()?
    else {
        return Ok(None);
    };
    let count = |sql: &str| -> Result<usize> {
        Ok(tx.query_row(sql, [id], |r| r.get::<_, i64>(0))? as usize)
    };
    let mut gone = Forgotten {
        stakeholder_links: count(
            "SELECT count(*) FROM meeting_stakeholders WHERE meeting_id = ?1",
        )?,
        notes: count("SELECT count(*) FROM meeting_notes WHERE meeting_id = ?1")?,
        transcripts: count("SELECT count(*) FROM transcripts WHERE meeting_id = ?1")?,
        decisions: count("SELECT count(*) FROM decisions WHERE meeting_id = ?1")?,
        actions: count("SELECT count(*) FROM action_items WHERE meeting_id = ?1")?,
        nudges: count(
            "SELECT count(*) FROM nudges WHERE action_id IN
             (SELECT id FROM action_items WHERE meeting_id = ?1)",
        )?,
        briefs: count("SELECT count(*) FROM briefs WHERE meeting_id = ?1")?,
        module_answers: count("SELECT count(*) FROM module_answers WHERE meeting_id = ?1")?,
        ..Forgotten::default()
    };
    gone.ai_calls = tx.execute(
        "DELETE FROM ai_calls WHERE id IN (
             SELECT ai_call_id FROM meeting_ai_calls WHERE meeting_id = ?1
             UNION SELECT ai_call_id FROM briefs WHERE meeting_id = ?1 AND ai_call_id IS NOT NULL
             UNION SELECT ai_call_id FROM module_answers
                   WHERE meeting_id = ?1 AND ai_call_id IS NOT NULL)",
        [id],
    )?;
    gone.meetings = tx.execute("DELETE FROM meetings WHERE id = ?1", [id])?;
    if let Some(event) = event {
        let shared: i64 = tx.query_row(
            "SELECT count(*) FROM meetings WHERE event_id = ?1",
            [event],
            |r| r.get(0),
        )?;
        if shared == 0 {
            gone.events = tx.execute("DELETE FROM calendar_events WHERE id = ?1", [event])?;
        }
    }
    tx.execute(
        "INSERT OR REPLACE INTO meetings_forgotten (key_hash, forgotten_at) VALUES (?1, ?2)",
        params![forgotten_key(&uid, &key), now],
    )?;
    audit::record(
        &tx,
        "meeting forget",
        None,
        &serde_json::json!({ "rows": gone.rows(), "detail": &gone }),
    )?;
    tx.commit()?;
    Ok(Some(gone))
}

/// Leaves no deleted text in the database files: the WAL is written back
/// and emptied, and the database rewritten without free pages. Slow on a
/// large store; run after a forget or a purge, on a worker.
pub(crate) fn scrub(conn: &Connection) -> Result<()> {
    // Wait out readers so the checkpoint is complete, then rewrite.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    conn.execute_batch("VACUUM")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

#[cfg(test)]
mod tests;
