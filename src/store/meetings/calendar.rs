//! Queries of the `calendars` and `calendar_events` tables, and the one
//! transaction that stores an import: events as the calendar said them,
//! the occurrences they make within a horizon (upserted by uid and
//! occurrence key, so a re-import changes rows in place and what hangs on
//! them stays), their stakeholders, and the occurrences that vanished
//! marked cancelled.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::super::Result;
use super::{Role, forgotten_key};

/// Where a calendar comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceKind {
    File,
    Url,
}

impl SourceKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SourceKind::File => "file",
            SourceKind::Url => "url",
        }
    }
}

/// A stored calendar.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CalendarRow {
    pub id: i64,
    pub kind: SourceKind,
    pub source: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub refresh_every_s: Option<i64>,
    pub last_fetched_at: Option<i64>,
    pub last_error: Option<String>,
}

fn calendar_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CalendarRow> {
    let kind: String = r.get(1)?;
    Ok(CalendarRow {
        id: r.get(0)?,
        kind: if kind == "url" {
            SourceKind::Url
        } else {
            SourceKind::File
        },
        source: r.get(2)?,
        etag: r.get(3)?,
        last_modified: r.get(4)?,
        refresh_every_s: r.get(5)?,
        last_fetched_at: r.get(6)?,
        last_error: r.get(7)?,
    })
}

const CALENDAR_COLUMNS: &str =
    "id, kind, source, etag, last_modified, refresh_every_s, last_fetched_at, last_error";

/// Every calendar, oldest first.
pub(crate) fn calendars(conn: &Connection) -> Result<Vec<CalendarRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {CALENDAR_COLUMNS} FROM calendars ORDER BY id"
    ))?;
    let rows = stmt.query_map([], calendar_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The calendar read from `source`, if it was imported before.
pub(crate) fn calendar_by_source(conn: &Connection, source: &str) -> Result<Option<CalendarRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {CALENDAR_COLUMNS} FROM calendars WHERE source = ?1"),
            [source],
            calendar_row,
        )
        .optional()?)
}

/// Calendar `id`, if it is stored.
pub(crate) fn calendar(conn: &Connection, id: i64) -> Result<Option<CalendarRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {CALENDAR_COLUMNS} FROM calendars WHERE id = ?1"),
            [id],
            calendar_row,
        )
        .optional()?)
}

/// The job of `kind` still to run (queued, running or waiting to retry)
/// whose payload names calendar `id`, other than job `except` (the one
/// asking), if there is one: a subscription has one refresh waiting at a
/// time.
pub(crate) fn pending_job(
    conn: &Connection,
    kind: &str,
    id: i64,
    except: Option<i64>,
) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT id FROM jobs
             WHERE kind = ?1 AND status IN ('queued', 'running', 'retrying')
               AND json_extract(payload, '$.calendar') = ?2 AND id IS NOT ?3
             ORDER BY id LIMIT 1",
            params![kind, id, except],
            |r| r.get(0),
        )
        .optional()?)
}

/// Records a failed refresh of calendar `id` (nothing else changes).
pub(crate) fn refresh_failed(conn: &Connection, id: i64, error: &str, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE calendars SET last_error = ?2, last_fetched_at = ?3 WHERE id = ?1",
        params![id, error, now],
    )?;
    Ok(())
}

/// Records a refresh of calendar `id` the server answered 304 Not Modified.
pub(crate) fn refresh_unchanged(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE calendars SET last_error = NULL, last_fetched_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// An event's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventStatus {
    Confirmed,
    Tentative,
    Cancelled,
}

impl EventStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventStatus::Confirmed => "confirmed",
            EventStatus::Tentative => "tentative",
            EventStatus::Cancelled => "cancelled",
        }
    }
}

/// One VEVENT to store: a series' master or an occurrence's override.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewEvent {
    pub uid: String,
    /// '' for a master or single event; the overridden occurrence's key.
    pub recurrence_id: String,
    pub sequence: i64,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub url: Option<String>,
    pub organizer: Option<String>,
    pub dtstart: i64,
    pub dtend: i64,
    pub tzid: Option<String>,
    pub all_day: bool,
    pub floating: bool,
    pub rrule: Option<String>,
    pub rdate: Option<String>,
    pub exdate: Option<String>,
    pub status: EventStatus,
    pub raw: Option<String>,
}

/// A person of an occurrence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Person {
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
}

/// One occurrence to store as a meeting.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewOccurrence {
    pub uid: String,
    /// '' for a single event, the original start in a series.
    pub occurrence_key: String,
    /// Index into [`ImportBatch::events`] of the event it takes its
    /// description from (its override, else the master).
    pub event: usize,
    pub title: String,
    pub location: Option<String>,
    pub url: Option<String>,
    pub start_at: i64,
    pub end_at: i64,
    pub tzid: Option<String>,
    pub all_day: bool,
    pub floating: bool,
    pub cancelled: bool,
    pub people: Vec<Person>,
}

/// Everything one import stores.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ImportBatch {
    pub kind: SourceKind,
    /// An absolute path or a URL.
    pub source: String,
    /// Seconds between refreshes, for a URL.
    pub refresh_every_s: Option<i64>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub events: Vec<NewEvent>,
    pub occurrences: Vec<NewOccurrence>,
    /// `[from, to)` in which the occurrences were expanded: a stored
    /// meeting of one of these uids (or of this calendar) in it that the
    /// batch no longer has is cancelled.
    pub horizon: (i64, i64),
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct ImportCounts {
    /// Meetings that were not there before.
    pub imported: usize,
    /// Meetings whose time, title or place changed.
    pub updated: usize,
    /// Meetings cancelled by this import.
    pub cancelled: usize,
    /// Meetings found as they were.
    pub unchanged: usize,
    /// Occurrences left out because the user forgot them.
    pub forgotten: usize,
    /// The calendar's id.
    pub calendar: i64,
}

/// SQLite's page cache during an import, in KiB: a large calendar's
/// meetings and their indexes stay in memory, so the transaction neither
/// reads pages back nor spills them to the WAL before it commits. The
/// connection's own size is put back afterwards.
const IMPORT_CACHE_KIB: i64 = 64 * 1024;

/// Stores `batch` in one transaction.
pub(crate) fn import(conn: &mut Connection, batch: &ImportBatch, now: i64) -> Result<ImportCounts> {
    let before: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)?;
    let result = import_in_transaction(conn, batch, now);
    let restored = conn.pragma_update(None, "cache_size", before);
    let counts = result?;
    restored?;
    Ok(counts)
}

fn import_in_transaction(
    conn: &mut Connection,
    batch: &ImportBatch,
    now: i64,
) -> Result<ImportCounts> {
    let tx = conn.transaction()?;
    let calendar = upsert_calendar(&tx, batch, now)?;
    let mut counts = ImportCounts {
        calendar,
        ..ImportCounts::default()
    };
    let mut event_ids = Vec::with_capacity(batch.events.len());
    {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO calendar_events (calendar_id, uid, recurrence_id, sequence, summary,
                 description, location, url, organizer, dtstart, dtend, tzid, all_day, floating,
                 rrule, rdate, exdate, status, raw, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18, ?19, ?20)
             ON CONFLICT (uid, recurrence_id) DO UPDATE SET
                 calendar_id = excluded.calendar_id, sequence = excluded.sequence,
                 summary = excluded.summary, description = excluded.description,
                 location = excluded.location, url = excluded.url,
                 organizer = excluded.organizer, dtstart = excluded.dtstart,
                 dtend = excluded.dtend, tzid = excluded.tzid, all_day = excluded.all_day,
                 floating = excluded.floating, rrule = excluded.rrule, rdate = excluded.rdate,
                 exdate = excluded.exdate, status = excluded.status, raw = excluded.raw,
                 updated_at = excluded.updated_at
             RETURNING id",
        )?;
        for e in &batch.events {
            let id: i64 = upsert.query_row(
                params![
                    calendar,
                    e.uid,
                    e.recurrence_id,
                    e.sequence,
                    e.summary,
                    e.description,
                    e.location,
                    e.url,
                    e.organizer,
                    e.dtstart,
                    e.dtend,
                    e.tzid,
                    e.all_day,
                    e.floating,
                    e.rrule,
                    e.rdate,
                    e.exdate,
                    e.status.as_str(),
                    e.raw,
                    now
                ],
                |r| r.get(0),
            )?;
            event_ids.push(id);
        }
    }
    let forgotten = forgotten_keys(&tx)?;
    let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(batch.occurrences.len());
    let mut stakeholder_ids: HashMap<String, i64> = HashMap::new();
    for o in &batch.occurrences {
        if !forgotten.is_empty() && forgotten.contains(&forgotten_key(&o.uid, &o.occurrence_key)) {
            counts.forgotten += 1;
            continue;
        }
        seen.insert((&o.uid, &o.occurrence_key));
        let event_id = event_ids.get(o.event).copied();
        let (id, fresh) = upsert_occurrence(&tx, o, event_id, now, &mut counts)?;
        link_people(&tx, id, fresh, &o.people, &mut stakeholder_ids)?;
    }
    counts.cancelled += cancel_vanished(&tx, batch, calendar, &seen, now)?;
    tx.commit()?;
    Ok(counts)
}

fn upsert_calendar(tx: &Transaction<'_>, batch: &ImportBatch, now: i64) -> Result<i64> {
    Ok(tx.query_row(
        "INSERT INTO calendars (kind, source, etag, last_modified, refresh_every_s,
                                last_fetched_at, last_error, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?6)
         ON CONFLICT (source) DO UPDATE SET
             etag = excluded.etag, last_modified = excluded.last_modified,
             refresh_every_s = coalesce(excluded.refresh_every_s, refresh_every_s),
             last_fetched_at = excluded.last_fetched_at, last_error = NULL
         RETURNING id",
        params![
            batch.kind.as_str(),
            batch.source,
            batch.etag,
            batch.last_modified,
            batch.refresh_every_s,
            now
        ],
        |r| r.get(0),
    )?)
}

fn forgotten_keys(tx: &Transaction<'_>) -> Result<HashSet<String>> {
    let mut stmt = tx.prepare("SELECT key_hash FROM meetings_forgotten")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

type Shown = (
    i64,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<String>,
    bool,
    bool,
    bool,
    Option<i64>,
);

/// Inserts or updates the meeting of `o`: its id, and whether it is new.
fn upsert_occurrence(
    tx: &Transaction<'_>,
    o: &NewOccurrence,
    event_id: Option<i64>,
    now: i64,
    counts: &mut ImportCounts,
) -> Result<(i64, bool)> {
    let existing: Option<Shown> = tx
        .prepare_cached(
            "SELECT id, title, location, url, start_at, end_at, tzid, all_day, floating,
                    cancelled, event_id
             FROM meetings WHERE uid = ?1 AND occurrence_key = ?2",
        )?
        .query_row(params![o.uid, o.occurrence_key], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        })
        .optional()?;
    let fresh: Shown = (
        existing.as_ref().map_or(0, |e| e.0),
        o.title.clone(),
        o.location.clone(),
        o.url.clone(),
        o.start_at,
        o.end_at,
        o.tzid.clone(),
        o.all_day,
        o.floating,
        o.cancelled,
        event_id,
    );
    match existing {
        Some(old) if old == fresh => {
            counts.unchanged += 1;
            Ok((old.0, false))
        }
        Some(old) => {
            if o.cancelled && !old.9 {
                counts.cancelled += 1;
            } else {
                counts.updated += 1;
            }
            tx.prepare_cached(
                "UPDATE meetings SET title = ?2, location = ?3, url = ?4, start_at = ?5,
                        end_at = ?6, tzid = ?7, all_day = ?8, floating = ?9, cancelled = ?10,
                        event_id = ?11, updated_at = ?12
                 WHERE id = ?1",
            )?
            .execute(params![
                old.0,
                o.title,
                o.location,
                o.url,
                o.start_at,
                o.end_at,
                o.tzid,
                o.all_day,
                o.floating,
                o.cancelled,
                event_id,
                now
            ])?;
            Ok((old.0, false))
        }
        None => {
            if o.cancelled {
                counts.cancelled += 1;
            } else {
                counts.imported += 1;
            }
            tx.prepare_cached(
                "INSERT INTO meetings (uid, occurrence_key, event_id, title, location, url,
                        start_at, end_at, tzid, all_day, floating, cancelled, created_at,
                        updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
            )?
            .execute(params![
                o.uid,
                o.occurrence_key,
                event_id,
                o.title,
                o.location,
                o.url,
                o.start_at,
                o.end_at,
                o.tzid,
                o.all_day,
                o.floating,
                o.cancelled,
                now
            ])?;
            Ok((tx.last_insert_rowid(), true))
        }
    }
}

/// Makes the stored people of meeting `id` the calendar's: a person the
/// calendar dropped leaves the meeting (not the stakeholders). A meeting
/// that is not `fresh` is rewritten only when its people changed, so a
/// re-import of an unchanged calendar writes nothing here.
fn link_people(
    tx: &Transaction<'_>,
    id: i64,
    fresh: bool,
    people: &[Person],
    ids: &mut HashMap<String, i64>,
) -> Result<()> {
    let mut wanted: Vec<(i64, Role)> = Vec::with_capacity(people.len());
    for p in people {
        let key = p.email.to_lowercase();
        let stakeholder = match ids.get(&key) {
            Some(&s) => s,
            None => {
                let s: i64 = tx
                    .prepare_cached(
                        "INSERT INTO stakeholders (email, name) VALUES (?1, ?2)
                         ON CONFLICT (email) DO UPDATE SET name = coalesce(excluded.name, name)
                         RETURNING id",
                    )?
                    .query_row(params![p.email, p.name], |r| r.get(0))?;
                ids.insert(key, s);
                s
            }
        };
        match wanted.iter_mut().find(|(s, _)| *s == stakeholder) {
            // An organizer who is also listed as an attendee stays organizer.
            Some((_, role)) => {
                if p.role == Role::Organizer {
                    *role = Role::Organizer;
                }
            }
            None => wanted.push((stakeholder, p.role)),
        }
    }
    wanted.sort_unstable_by_key(|(s, _)| *s);
    if !fresh {
        let have: Vec<(i64, String)> = tx
            .prepare_cached(
                "SELECT stakeholder_id, role FROM meeting_stakeholders
                 WHERE meeting_id = ?1 ORDER BY stakeholder_id",
            )?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let same = have.len() == wanted.len()
            && have
                .iter()
                .zip(&wanted)
                .all(|((hs, hr), (ws, wr))| hs == ws && hr == wr.as_str());
        if same {
            return Ok(());
        }
        tx.prepare_cached("DELETE FROM meeting_stakeholders WHERE meeting_id = ?1")?
            .execute([id])?;
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO meeting_stakeholders (meeting_id, stakeholder_id, role) VALUES (?1, ?2, ?3)",
    )?;
    for (stakeholder, role) in &wanted {
        insert.execute(params![id, stakeholder, role.as_str()])?;
    }
    Ok(())
}

/// Cancels the stored meetings within the horizon of a uid in the batch,
/// or of this calendar, that the batch no longer has (an EXDATE added, a
/// series shortened, an event deleted from a subscribed calendar).
fn cancel_vanished(
    tx: &Transaction<'_>,
    batch: &ImportBatch,
    calendar: i64,
    seen: &HashSet<(&str, &str)>,
    now: i64,
) -> Result<usize> {
    let (from, to) = batch.horizon;
    let uids: HashSet<&str> = batch.events.iter().map(|e| e.uid.as_str()).collect();
    let mut stmt = tx.prepare(
        "SELECT m.id, m.uid, m.occurrence_key, e.calendar_id FROM meetings m
         LEFT JOIN calendar_events e ON e.id = m.event_id
         WHERE m.cancelled = 0 AND m.start_at >= ?1 AND m.start_at < ?2",
    )?;
    let stale: Vec<i64> = stmt
        .query_map(params![from, to], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?
        .filter_map(|row| match row {
            Ok((id, uid, key, cal)) => {
                let ours = uids.contains(uid.as_str()) || cal == Some(calendar);
                (ours && !seen.contains(&(uid.as_str(), key.as_str()))).then_some(Ok(id))
            }
            Err(e) => Some(Err(e)),
        })
        .collect::<rusqlite::Result<_>>()?;
    let mut cancel =
        tx.prepare_cached("UPDATE meetings SET cancelled = 1, updated_at = ?2 WHERE id = ?1")?;
    for id in &stale {
        cancel.execute(params![id, now])?;
    }
    Ok(stale.len())
}
