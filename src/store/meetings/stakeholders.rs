//! Queries of the `stakeholders` table: every organizer and attendee
//! across meetings, with how many meetings, decisions and open actions
//! each has.

use rusqlite::Connection;

use super::super::Result;

/// A person across meetings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StakeholderRow {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    /// Meetings (not cancelled) they organize or attend.
    pub meetings: i64,
    /// Decisions taken in those meetings.
    pub decisions: i64,
    /// Action items they own that are not done.
    pub open_actions: i64,
}

/// Every stakeholder, by name or email.
pub(crate) fn list(conn: &Connection) -> Result<Vec<StakeholderRow>> {
    let mut stmt = conn.prepare(
        "SELECT s.id, s.email, s.name,
            (SELECT count(*) FROM meeting_stakeholders ms JOIN meetings m ON m.id = ms.meeting_id
             WHERE ms.stakeholder_id = s.id AND m.cancelled = 0),
            (SELECT count(*) FROM decisions d JOIN meeting_stakeholders ms
                 ON ms.meeting_id = d.meeting_id WHERE ms.stakeholder_id = s.id),
            (SELECT count(*) FROM action_items a
             WHERE a.owner_id = s.id AND a.status <> 'done')
         FROM stakeholders s ORDER BY lower(coalesce(s.name, s.email)), s.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(StakeholderRow {
            id: r.get(0)?,
            email: r.get(1)?,
            name: r.get(2)?,
            meetings: r.get(3)?,
            decisions: r.get(4)?,
            open_actions: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The ids of the meetings stakeholder `id` is part of, by start.
pub(crate) fn meetings_of(conn: &Connection, id: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id FROM meeting_stakeholders ms JOIN meetings m ON m.id = ms.meeting_id
         WHERE ms.stakeholder_id = ?1 AND m.cancelled = 0 ORDER BY m.start_at",
    )?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The ids of the decisions of meetings stakeholder `id` was part of.
pub(crate) fn decisions_of(conn: &Connection, id: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id FROM decisions d JOIN meeting_stakeholders ms ON ms.meeting_id = d.meeting_id
         WHERE ms.stakeholder_id = ?1 ORDER BY d.id",
    )?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
