//! Queries of the `action_items` and `nudges` tables: the actions agreed
//! in a meeting, their owner, due date and status, and the nudges sent
//! about the ones left untouched.

use rusqlite::{Connection, OptionalExtension, params};

use super::super::Result;

/// Where an action item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionStatus {
    Open,
    Doing,
    Done,
}

impl ActionStatus {
    pub(crate) const ALL: [ActionStatus; 3] =
        [ActionStatus::Open, ActionStatus::Doing, ActionStatus::Done];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::Doing => "doing",
            ActionStatus::Done => "done",
        }
    }

    /// The status named `s`, or `None`.
    pub(crate) fn parse(s: &str) -> Option<ActionStatus> {
        ActionStatus::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// An action item to add.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewAction<'a> {
    pub meeting_id: i64,
    pub text: &'a str,
    /// An email, matched to a known stakeholder, or any name.
    pub owner: Option<&'a str>,
    /// `YYYY-MM-DD`, checked by the caller.
    pub due: Option<&'a str>,
}

/// A stored action item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ActionRow {
    pub id: i64,
    pub meeting_id: i64,
    pub meeting_title: String,
    pub text: String,
    pub owner_id: Option<i64>,
    /// The stakeholder's email, or the name typed.
    pub owner: Option<String>,
    pub due: Option<String>,
    pub status: ActionStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_nudged_at: Option<i64>,
}

const ACTION_SELECT: &str = "SELECT a.id, a.meeting_id, m.title, a.text, a.owner_id,
        coalesce(s.email, a.owner_name), a.due, a.status, a.created_at, a.updated_at,
        a.last_nudged_at
     FROM action_items a JOIN meetings m ON m.id = a.meeting_id
     LEFT JOIN stakeholders s ON s.id = a.owner_id";

fn action_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ActionRow> {
    let status: String = r.get(7)?;
    Ok(ActionRow {
        id: r.get(0)?,
        meeting_id: r.get(1)?,
        meeting_title: r.get(2)?,
        text: r.get(3)?,
        owner_id: r.get(4)?,
        owner: r.get(5)?,
        due: r.get(6)?,
        status: ActionStatus::parse(&status).unwrap_or(ActionStatus::Open),
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
        last_nudged_at: r.get(10)?,
    })
}

/// The stakeholder whose email or name is `owner`, if one is.
fn stakeholder(conn: &Connection, owner: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT id FROM stakeholders WHERE email = ?1 COLLATE NOCASE
                 OR name = ?1 COLLATE NOCASE ORDER BY email = ?1 COLLATE NOCASE DESC LIMIT 1",
            [owner],
            |r| r.get(0),
        )
        .optional()?)
}

/// Adds an action item: its id, or `None` when the meeting does not exist.
pub(crate) fn add(conn: &Connection, action: &NewAction<'_>, now: i64) -> Result<Option<i64>> {
    let meeting: Option<i64> = conn
        .query_row(
            "SELECT id FROM meetings WHERE id = ?1",
            [action.meeting_id],
            |r| r.get(0),
        )
        .optional()?;
    if meeting.is_none() {
        return Ok(None);
    }
    let owner_id = match action.owner {
        Some(owner) => stakeholder(conn, owner)?,
        None => None,
    };
    let owner_name = if owner_id.is_some() {
        None
    } else {
        action.owner
    };
    conn.execute(
        "INSERT INTO action_items (meeting_id, text, owner_id, owner_name, due, status,
                                   created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6, ?6)",
        params![
            action.meeting_id,
            action.text,
            owner_id,
            owner_name,
            action.due,
            now
        ],
    )?;
    Ok(Some(conn.last_insert_rowid()))
}

/// Action item `id`.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<ActionRow>> {
    Ok(conn
        .query_row(
            &format!("{ACTION_SELECT} WHERE a.id = ?1"),
            [id],
            action_row,
        )
        .optional()?)
}

/// Sets action item `id`'s status: false when there is none.
pub(crate) fn set_status(
    conn: &Connection,
    id: i64,
    status: ActionStatus,
    now: i64,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE action_items SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, status.as_str(), now],
    )?;
    Ok(n > 0)
}

/// Changes action item `id`'s text, owner and due date: false when
/// there is none.
pub(crate) fn edit(
    conn: &Connection,
    id: i64,
    text: &str,
    owner: Option<&str>,
    due: Option<&str>,
    now: i64,
) -> Result<bool> {
    let owner_id = match owner {
        Some(owner) => stakeholder(conn, owner)?,
        None => None,
    };
    let owner_name = if owner_id.is_some() { None } else { owner };
    let n = conn.execute(
        "UPDATE action_items SET text = ?2, owner_id = ?3, owner_name = ?4, due = ?5,
                updated_at = ?6 WHERE id = ?1",
        params![id, text, owner_id, owner_name, due, now],
    )?;
    Ok(n > 0)
}

/// Which action items to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ActionFilter<'a> {
    /// Owned by this email or name (case-insensitive).
    pub owner: Option<&'a str>,
    /// Only those not done.
    pub open: bool,
    pub meeting_id: Option<i64>,
    pub stakeholder_id: Option<i64>,
}

/// The action items `filter` picks, by due date (undated last), then id.
pub(crate) fn list(conn: &Connection, filter: &ActionFilter<'_>) -> Result<Vec<ActionRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{ACTION_SELECT}
         WHERE (?1 IS NULL OR coalesce(s.email, a.owner_name) = ?1 COLLATE NOCASE
                OR s.name = ?1 COLLATE NOCASE)
           AND (?2 = 0 OR a.status <> 'done')
           AND (?3 IS NULL OR a.meeting_id = ?3)
           AND (?4 IS NULL OR a.owner_id = ?4)
         ORDER BY a.due IS NULL, a.due, a.id"
    ))?;
    let rows = stmt.query_map(
        params![
            filter.owner,
            filter.open,
            filter.meeting_id,
            filter.stakeholder_id
        ],
        action_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Action items not done, untouched since `untouched_before`, and not
/// nudged since `nudged_before`: the ones a nudge is due for.
pub(crate) fn due_for_nudge(
    conn: &Connection,
    untouched_before: i64,
    nudged_before: i64,
) -> Result<Vec<ActionRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{ACTION_SELECT}
         WHERE a.status <> 'done' AND a.updated_at < ?1
           AND (a.last_nudged_at IS NULL OR a.last_nudged_at < ?2)
         ORDER BY a.id"
    ))?;
    let rows = stmt.query_map(params![untouched_before, nudged_before], action_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Logs a nudge of action item `id` on `channel` ('badge', 'bell',
/// 'desktop', 'webhook') with its `outcome` ('ok', 'failed', 'dead'), and
/// marks the item nudged now. A nudge is not a user's touch: `updated_at`
/// stays.
pub(crate) fn record_nudge(
    conn: &Connection,
    id: i64,
    channel: &str,
    outcome: &str,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO nudges (action_id, at, channel, outcome, error) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, now, channel, outcome, error],
    )?;
    conn.execute(
        "UPDATE action_items SET last_nudged_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// One logged nudge.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NudgeRow {
    pub id: i64,
    pub action_id: i64,
    pub at: i64,
    pub channel: String,
    pub outcome: String,
    pub error: Option<String>,
}

/// The nudges of action item `id`, oldest first.
pub(crate) fn nudges(conn: &Connection, id: i64) -> Result<Vec<NudgeRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, action_id, at, channel, outcome, error FROM nudges
         WHERE action_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(NudgeRow {
            id: r.get(0)?,
            action_id: r.get(1)?,
            at: r.get(2)?,
            channel: r.get(3)?,
            outcome: r.get(4)?,
            error: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
