//! What the meeting dashboard reads in one go: the occurrences of the
//! coming days with the selected one's detail, the stakeholders with the
//! selected one's actions, decisions and meetings, and the count of open
//! action items a nudge would be due for (the status bar's badge).

use rusqlite::{Connection, params};

use super::super::Result;
use super::actions::{self, ActionFilter, ActionRow};
use super::stakeholders::{self, StakeholderRow};
use super::{Attendee, MeetingRow, TextRow};

/// A transcript as the dashboard lists it: its name and length, not its
/// text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TranscriptInfo {
    pub id: i64,
    pub source_name: String,
    pub format: String,
    /// Characters of spoken text.
    pub chars: i64,
    /// Timed cues, for WebVTT and SubRip.
    pub cues: Option<i64>,
    /// Lines of spoken text.
    pub lines: i64,
}

/// Everything the dashboard shows of one meeting.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MeetingDetail {
    pub meeting: MeetingRow,
    /// The calendar's description: the agenda.
    pub description: Option<String>,
    pub attendees: Vec<Attendee>,
    /// The latest pre-brief's JSON, if one was made.
    pub pre_brief: Option<String>,
    /// The latest post-brief's JSON, likewise.
    pub post_brief: Option<String>,
    pub notes: Vec<TextRow>,
    pub transcripts: Vec<TranscriptInfo>,
    pub decisions: Vec<TextRow>,
    pub actions: Vec<ActionRow>,
    /// The latest answer of each module, by module name.
    pub module_answers: Vec<super::modules::AnswerRow>,
}

/// Meeting `id` with everything hung on it, or `None` when it is gone.
pub(crate) fn detail(conn: &Connection, id: i64) -> Result<Option<MeetingDetail>> {
    let Some(meeting) = super::get(conn, id)? else {
        return Ok(None);
    };
    let brief = |kind: &str| -> Result<Option<String>> {
        Ok(conn
            .prepare_cached(
                "SELECT json FROM briefs WHERE meeting_id = ?1 AND kind = ?2
                 ORDER BY created_at DESC, id DESC LIMIT 1",
            )?
            .query_map(params![id, kind], |r| r.get::<_, String>(0))?
            .next()
            .transpose()?)
    };
    let pre_brief = brief("pre")?;
    let post_brief = brief("post")?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, source_name, format, length(text),
                CASE WHEN cues IS NULL THEN NULL ELSE json_array_length(cues) END,
                length(text) - length(replace(text, char(10), '')) + 1
         FROM transcripts WHERE meeting_id = ?1 ORDER BY id",
    )?;
    let transcripts = stmt
        .query_map([id], |r| {
            Ok(TranscriptInfo {
                id: r.get(0)?,
                source_name: r.get(1)?,
                format: r.get(2)?,
                chars: r.get(3)?,
                cues: r.get(4)?,
                lines: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(MeetingDetail {
        description: super::description(conn, id)?,
        attendees: super::attendees(conn, id)?,
        pre_brief,
        post_brief,
        notes: super::notes(conn, id)?,
        transcripts,
        decisions: super::decisions(conn, id)?,
        actions: actions::list(
            conn,
            &ActionFilter {
                meeting_id: Some(id),
                ..ActionFilter::default()
            },
        )?,
        module_answers: super::modules::latest(conn, id)?,
        meeting,
    }))
}

/// A decision with the meeting it was taken in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DecisionOf {
    pub meeting_title: String,
    pub text: String,
}

/// What the dashboard shows of one stakeholder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StakeholderDetail {
    pub open_actions: Vec<ActionRow>,
    pub decisions: Vec<DecisionOf>,
    /// The meetings they organize or attend, by start.
    pub meetings: Vec<MeetingRow>,
}

/// Stakeholder `id`'s open actions, the decisions of their meetings and
/// those meetings.
pub(crate) fn stakeholder_detail(conn: &Connection, id: i64) -> Result<StakeholderDetail> {
    let open_actions = actions::list(
        conn,
        &ActionFilter {
            open: true,
            stakeholder_id: Some(id),
            ..ActionFilter::default()
        },
    )?;
    let mut meetings = Vec::new();
    for meeting in stakeholders::meetings_of(conn, id)? {
        meetings.extend(super::get(conn, meeting)?);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT m.title, d.text FROM decisions d JOIN meetings m ON m.id = d.meeting_id
         WHERE d.id = ?1",
    )?;
    let mut decisions = Vec::new();
    for decision in stakeholders::decisions_of(conn, id)? {
        let row = stmt
            .query_map([decision], |r| {
                Ok(DecisionOf {
                    meeting_title: r.get(0)?,
                    text: r.get(1)?,
                })
            })?
            .next()
            .transpose()?;
        decisions.extend(row);
    }
    Ok(StakeholderDetail {
        open_actions,
        decisions,
        meetings,
    })
}

/// Every stakeholder (see [`stakeholders::list`]).
pub(crate) fn stakeholders(conn: &Connection) -> Result<Vec<StakeholderRow>> {
    stakeholders::list(conn)
}

/// How many action items are not done and untouched since
/// `untouched_before` (Unix ms): the ones a nudge is about, nudged yet or
/// not.
pub(crate) fn nudge_worthy(conn: &Connection, untouched_before: i64) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM action_items WHERE status <> 'done' AND updated_at < ?1",
        params![untouched_before],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::meetings::actions::{ActionStatus, NewAction};

    /// A meeting row straight in the table, as an import leaves one.
    fn meeting(store: &Store, uid: &str, title: &str, start: i64) -> i64 {
        store
            .conn
            .execute(
                "INSERT INTO meetings (uid, occurrence_key, title, start_at, end_at, created_at, updated_at)
                 VALUES (?1, '', ?2, ?3, ?4, 0, 0)",
                params![uid, title, start, start + 3_600_000],
            )
            .unwrap();
        store.conn.last_insert_rowid()
    }

    #[test]
    fn detail_lists_what_hangs_on_a_meeting_and_transcripts_by_length() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let id = meeting(&store, "u1", "Planning", 1_000_000);
        super::super::add_decision(&store.conn, id, "ship friday", 5).unwrap();
        super::super::add_note(&store.conn, id, "line one\nline two", 5).unwrap();
        let transcript = super::super::NewTranscript {
            format: super::super::TranscriptFormat::Txt,
            text: "hello there",
            cues: None,
            source_name: "call.txt",
        };
        super::super::add_transcript(&mut store.conn, id, &transcript, 6).unwrap();
        let action = NewAction {
            meeting_id: id,
            text: "write notes",
            owner: Some("ann"),
            due: Some("2026-12-09"),
        };
        actions::add(&store.conn, &action, 7).unwrap();
        let got = detail(&store.conn, id).unwrap().unwrap();
        assert_eq!(got.meeting.title, "Planning");
        assert_eq!(got.decisions[0].text, "ship friday");
        assert_eq!(got.notes[0].text, "line one\nline two");
        assert_eq!(
            (
                got.transcripts[0].source_name.as_str(),
                got.transcripts[0].chars
            ),
            ("call.txt", 11)
        );
        assert_eq!(got.actions[0].owner.as_deref(), Some("ann"));
        assert_eq!(got.pre_brief, None);
        assert_eq!(detail(&store.conn, id + 1).unwrap(), None);
    }

    #[test]
    fn nudge_worthy_counts_open_items_untouched_since() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let id = meeting(&store, "u1", "Planning", 1_000_000);
        let add = |text, at| {
            let action = NewAction {
                meeting_id: id,
                text,
                owner: None,
                due: None,
            };
            actions::add(&store.conn, &action, at).unwrap().unwrap()
        };
        let old = add("old", 100);
        add("fresh", 900);
        let done = add("old but done", 100);
        actions::set_status(&store.conn, done, ActionStatus::Done, 100).unwrap();
        assert_eq!(nudge_worthy(&store.conn, 500).unwrap(), 1);
        // A touch (a status change) makes it fresh again.
        actions::set_status(&store.conn, old, ActionStatus::Doing, 600).unwrap();
        assert_eq!(nudge_worthy(&store.conn, 500).unwrap(), 0);
    }
}
