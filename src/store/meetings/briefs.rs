//! Queries of the `briefs` table and what a post-brief writes with it:
//! the decisions and action items a model extracted (origin 'model'), and
//! what a meeting's AI calls cost. The brief's JSON was checked against
//! its schema by `meetings::brief` before it gets here.

use rusqlite::{Connection, OptionalExtension, params};

use super::super::Result;
use super::Processing;

/// A brief's kind: before the meeting, or after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BriefKind {
    Pre,
    Post,
}

impl BriefKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BriefKind::Pre => "pre",
            BriefKind::Post => "post",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<BriefKind> {
        match s {
            "pre" => Some(BriefKind::Pre),
            "post" => Some(BriefKind::Post),
            _ => None,
        }
    }
}

/// A stored brief.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BriefRow {
    pub id: i64,
    pub meeting_id: i64,
    pub kind: BriefKind,
    pub json: String,
    pub prompt_version: String,
    pub ai_call_id: Option<i64>,
    pub created_at: i64,
}

/// A brief to store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewBrief<'a> {
    pub meeting_id: i64,
    pub kind: BriefKind,
    pub json: &'a str,
    pub prompt_version: &'a str,
    /// The call whose answer it is.
    pub ai_call_id: Option<i64>,
    /// Every call made for it, failed ones and repairs included.
    pub calls: &'a [i64],
}

/// An action item a model extracted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelAction<'a> {
    pub text: &'a str,
    pub owner: Option<&'a str>,
    /// `YYYY-MM-DD`, checked by the caller.
    pub due: Option<&'a str>,
}

/// What a post-brief adds to its meeting.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Extracted<'a> {
    pub decisions: Vec<&'a str>,
    pub actions: Vec<ModelAction<'a>>,
}

/// What storing a brief changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Stored {
    pub brief_id: i64,
    pub decisions_added: usize,
    pub actions_added: usize,
    /// Earlier model-made rows nobody had touched, replaced by these.
    pub replaced: usize,
}

/// Stores a brief, links its calls to the meeting and, for a post-brief,
/// replaces the model's earlier untouched decisions and actions with the
/// extracted ones and marks the meeting's processing done; one
/// transaction. `None` when the meeting is gone (forgotten meanwhile).
pub(crate) fn store(
    conn: &mut Connection,
    brief: &NewBrief<'_>,
    extracted: &Extracted<'_>,
    now: i64,
) -> Result<Option<Stored>> {
    let tx = conn.transaction()?;
    let exists = tx
        .query_row(
            "SELECT 1 FROM meetings WHERE id = ?1",
            [brief.meeting_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !exists {
        return Ok(None);
    }
    for call in brief.calls {
        super::link_ai_call(&tx, brief.meeting_id, *call)?;
    }
    tx.execute(
        "INSERT INTO briefs (meeting_id, kind, json, prompt_version, ai_call_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            brief.meeting_id,
            brief.kind.as_str(),
            brief.json,
            brief.prompt_version,
            brief.ai_call_id,
            now
        ],
    )?;
    let mut stored = Stored {
        brief_id: tx.last_insert_rowid(),
        ..Stored::default()
    };
    if brief.kind == BriefKind::Post {
        // A user's edit (or status change) makes a row theirs to keep.
        stored.replaced += tx.execute(
            "DELETE FROM decisions WHERE meeting_id = ?1 AND origin = 'model'
                 AND updated_at = created_at",
            [brief.meeting_id],
        )?;
        stored.replaced += tx.execute(
            "DELETE FROM action_items WHERE meeting_id = ?1 AND origin = 'model'
                 AND updated_at = created_at AND status = 'open'",
            [brief.meeting_id],
        )?;
        for text in &extracted.decisions {
            tx.execute(
                "INSERT INTO decisions (meeting_id, text, created_at, updated_at, origin)
                 VALUES (?1, ?2, ?3, ?3, 'model')",
                params![brief.meeting_id, text, now],
            )?;
            stored.decisions_added += 1;
        }
        for action in &extracted.actions {
            let new = super::actions::NewAction {
                meeting_id: brief.meeting_id,
                text: action.text,
                owner: action.owner,
                due: action.due,
            };
            if let Some(id) = super::actions::add(&tx, &new, now)? {
                tx.execute(
                    "UPDATE action_items SET origin = 'model' WHERE id = ?1",
                    [id],
                )?;
                stored.actions_added += 1;
            }
        }
        super::set_processing(&tx, brief.meeting_id, Processing::Done, None, now)?;
    }
    tx.commit()?;
    Ok(Some(stored))
}

fn brief_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BriefRow> {
    let kind: String = r.get(2)?;
    Ok(BriefRow {
        id: r.get(0)?,
        meeting_id: r.get(1)?,
        kind: BriefKind::parse(&kind).unwrap_or(BriefKind::Post),
        json: r.get(3)?,
        prompt_version: r.get(4)?,
        ai_call_id: r.get(5)?,
        created_at: r.get(6)?,
    })
}

/// The newest brief of `kind` for meeting `id`.
pub(crate) fn latest(conn: &Connection, id: i64, kind: BriefKind) -> Result<Option<BriefRow>> {
    Ok(conn
        .query_row(
            "SELECT id, meeting_id, kind, json, prompt_version, ai_call_id, created_at
             FROM briefs WHERE meeting_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
            params![id, kind.as_str()],
            brief_row,
        )
        .optional()?)
}

/// What the AI calls made for one meeting came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MeetingUsage {
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Millionths of a dollar, over the priced calls.
    pub cost_micros: i64,
    /// Calls whose model has no price.
    pub unpriced: i64,
}

/// The calls, tokens and cost of meeting `id`'s AI work.
pub(crate) fn usage(conn: &Connection, id: i64) -> Result<MeetingUsage> {
    Ok(conn.query_row(
        "SELECT count(*), coalesce(sum(c.input_tokens), 0), coalesce(sum(c.output_tokens), 0),
                coalesce(sum(c.cost_micros), 0),
                coalesce(sum(c.cost_micros IS NULL AND c.outcome = 'ok'), 0)
         FROM meeting_ai_calls l JOIN ai_calls c ON c.id = l.ai_call_id
         WHERE l.meeting_id = ?1",
        [id],
        |r| {
            Ok(MeetingUsage {
                calls: r.get(0)?,
                input_tokens: r.get(1)?,
                output_tokens: r.get(2)?,
                cost_micros: r.get(3)?,
                unpriced: r.get(4)?,
            })
        },
    )?)
}

/// The ids of meeting `id`'s decisions and of its action items that a
/// model wrote.
pub(crate) fn model_items(conn: &Connection, id: i64) -> Result<(Vec<i64>, Vec<i64>)> {
    let ids = |sql: &str| -> Result<Vec<i64>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    Ok((
        ids("SELECT id FROM decisions WHERE meeting_id = ?1 AND origin = 'model' ORDER BY id")?,
        ids("SELECT id FROM action_items WHERE meeting_id = ?1 AND origin = 'model' ORDER BY id")?,
    ))
}

/// Whether decision or action row `id` of `table` was written by a model.
#[cfg(test)]
pub(crate) fn from_model(conn: &Connection, table: Origin, id: i64) -> Result<bool> {
    let sql = match table {
        Origin::Decision => "SELECT origin = 'model' FROM decisions WHERE id = ?1",
        Origin::Action => "SELECT origin = 'model' FROM action_items WHERE id = ?1",
    };
    Ok(conn
        .query_row(sql, [id], |r| r.get::<_, bool>(0))
        .optional()?
        .unwrap_or(false))
}

/// The rows that carry an origin.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Decision,
    Action,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn meeting(conn: &Connection) -> i64 {
        conn.execute(
            "INSERT INTO meetings (uid, title, start_at, end_at, created_at, updated_at)
             VALUES ('u', 'Review', 0, 1, 0, 0)",
            [],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    #[test]
    fn a_new_post_brief_replaces_only_the_untouched_model_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Store::open(dir.path()).unwrap();
        let id = meeting(&db.conn);
        super::super::add_decision(&db.conn, id, "typed by a user", 1).unwrap();
        let brief = NewBrief {
            meeting_id: id,
            kind: BriefKind::Post,
            json: "{}",
            prompt_version: "meetings/post.v1",
            ai_call_id: None,
            calls: &[],
        };
        let first = Extracted {
            decisions: vec!["ship on friday", "keep the old api"],
            actions: vec![ModelAction {
                text: "write the notes",
                owner: Some("ann"),
                due: Some("2026-12-31"),
            }],
        };
        let stored = super::store(&mut db.conn, &brief, &first, 10)
            .unwrap()
            .unwrap();
        assert_eq!((stored.decisions_added, stored.actions_added), (2, 1));
        let kept = super::super::decisions(&db.conn, id).unwrap();
        // A user edits one of the model's decisions: it is theirs now.
        super::super::edit_decision(&db.conn, kept[1].id, "ship on monday", 20).unwrap();
        assert!(from_model(&db.conn, Origin::Decision, kept[1].id).unwrap());
        assert!(!from_model(&db.conn, Origin::Decision, kept[0].id).unwrap());
        let second = Extracted {
            decisions: vec!["ship on monday"],
            actions: vec![],
        };
        let stored = super::store(&mut db.conn, &brief, &second, 30)
            .unwrap()
            .unwrap();
        assert_eq!(stored.replaced, 2, "the untouched decision and action");
        let texts: Vec<String> = super::super::decisions(&db.conn, id)
            .unwrap()
            .into_iter()
            .map(|d| d.text)
            .collect();
        assert_eq!(
            texts,
            ["typed by a user", "ship on monday", "ship on monday"]
        );
        let row = super::super::get(&db.conn, id).unwrap().unwrap();
        assert_eq!(row.processing, Processing::Done);
        assert_eq!(
            latest(&db.conn, id, BriefKind::Post).unwrap().unwrap().json,
            "{}"
        );
        assert!(latest(&db.conn, id, BriefKind::Pre).unwrap().is_none());
        assert!(
            super::store(
                &mut db.conn,
                &NewBrief {
                    meeting_id: 99,
                    ..brief
                },
                &second,
                40
            )
            .unwrap()
            .is_none()
        );
    }
}
