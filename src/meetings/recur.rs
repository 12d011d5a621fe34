//! From a parsed calendar to the rows an import stores: each VEVENT as an
//! event, and the occurrences within a horizon as meetings.
//!
//! A series is expanded by `calcard` (RRULE, RDATE, EXDATE, VTIMEZONE and
//! Windows zone names) one master at a time, its rule cut at the horizon's
//! end so a rule without end costs only what the horizon holds. Overrides
//! (RECURRENCE-ID) are merged here, matched by the instant they replace:
//! `calcard` matches them by SEQUENCE too, which real calendars bump on an
//! override, and would show both. The occurrence key is the original
//! start as UTC `YYYYMMDDTHHMMSSZ` (`YYYYMMDD` for all-day), so a moved
//! occurrence keeps its meeting. Floating and all-day times are taken in
//! the user's zone.

use std::collections::HashMap;

use calcard::common::PartialDateTime;
use calcard::common::timezone::Tz as CalTz;
use calcard::icalendar::dates::TimeOrDelta;
use calcard::icalendar::timezone::TzResolver;
use calcard::icalendar::{ICalendar, ICalendarComponent, ICalendarProperty, ICalendarValue};
use chrono::{DateTime, TimeZone};

use super::ics::{self, Document, Skipped};
use crate::store::meetings::Role;
use crate::store::meetings::calendar::{EventStatus, NewEvent, NewOccurrence, Person};

/// Occurrences of one series at most: a rule that makes more within the
/// horizon (every minute for a year) is cut here.
const MAX_PER_SERIES: usize = 5_000;

/// Days before now and after now in which series are expanded.
pub(crate) const HORIZON_PAST_DAYS: i64 = 30;
pub(crate) const HORIZON_AHEAD_DAYS: i64 = 180;

const DAY_MS: i64 = 86_400_000;

/// The horizon around `now` (Unix ms).
pub(crate) fn horizon(now: i64) -> (i64, i64) {
    (
        now - HORIZON_PAST_DAYS * DAY_MS,
        now + HORIZON_AHEAD_DAYS * DAY_MS,
    )
}

/// What a calendar makes: events, occurrences, and what was skipped.
#[derive(Debug, Default)]
pub(crate) struct Expanded {
    pub events: Vec<NewEvent>,
    pub occurrences: Vec<NewOccurrence>,
    pub skipped: Vec<Skipped>,
}

/// One readable VEVENT.
struct Event<'a> {
    comp: &'a ICalendarComponent,
    row: NewEvent,
    has_rule: bool,
}

/// Expands `doc` within `horizon` (Unix ms, `[from, to)`), floating and
/// all-day times taken in `zone`.
pub(crate) fn expand(doc: &Document, zone: chrono_tz::Tz, horizon: (i64, i64)) -> Expanded {
    let resolver = doc
        .calendar
        .build_tz_resolver()
        .with_default(CalTz::Tz(zone));
    let zones: HashMap<&str, &ICalendarComponent> = doc
        .calendar
        .timezones()
        .filter_map(|c| ics::text_ref(c, &ICalendarProperty::Tzid).map(|id| (id, c)))
        .collect();
    let mut out = Expanded::default();
    // Masters and overrides by uid (and key): a later copy with a higher
    // or equal SEQUENCE wins.
    let mut masters: HashMap<String, Event<'_>> = HashMap::new();
    let mut overrides: HashMap<(String, String), Event<'_>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (_, comp, line) in ics::events(doc) {
        let event = match read_event(comp, &resolver, zone) {
            Ok(e) => e,
            Err(reason) => {
                out.skipped.push(Skipped {
                    line,
                    uid: comp.uid().map(str::to_string),
                    reason,
                });
                continue;
            }
        };
        let uid = event.row.uid.clone();
        if !masters.contains_key(&uid) && !overrides.keys().any(|(u, _)| *u == uid) {
            order.push(uid.clone());
        }
        if event.row.recurrence_id.is_empty() {
            match masters.get(&uid) {
                Some(old) if old.row.sequence > event.row.sequence => {}
                _ => {
                    masters.insert(uid, event);
                }
            }
        } else {
            let key = (uid, event.row.recurrence_id.clone());
            match overrides.get(&key) {
                Some(old) if old.row.sequence > event.row.sequence => {}
                _ => {
                    overrides.insert(key, event);
                }
            }
        }
    }
    let mut by_uid: HashMap<String, Vec<(String, Event<'_>)>> = HashMap::new();
    for ((uid, key), event) in overrides {
        by_uid.entry(uid).or_default().push((key, event));
    }
    for uid in order {
        let mut series_overrides: HashMap<String, Event<'_>> = by_uid
            .remove(&uid)
            .unwrap_or_default()
            .into_iter()
            .collect();
        let master = masters.remove(&uid);
        if let Some(master) = &master {
            let master_index = out.events.len();
            out.events.push(master.row.clone());
            if master.has_rule {
                match expand_series(master, &zones, zone, horizon) {
                    Ok(starts) => {
                        for (start, end, key) in starts {
                            if let Some(ov) = series_overrides.remove(&key) {
                                let index = out.events.len();
                                out.events.push(ov.row.clone());
                                let cancelled = ov.row.status == EventStatus::Cancelled
                                    || master.row.status == EventStatus::Cancelled;
                                if in_horizon(ov.row.dtstart, ov.row.dtend, horizon) {
                                    out.occurrences
                                        .push(occurrence(&ov, index, key, None, cancelled));
                                }
                            } else if in_horizon(start, end, horizon) {
                                let cancelled = master.row.status == EventStatus::Cancelled;
                                out.occurrences.push(occurrence(
                                    master,
                                    master_index,
                                    key,
                                    Some((start, end)),
                                    cancelled,
                                ));
                            }
                        }
                    }
                    Err(reason) => {
                        out.events.pop();
                        out.skipped.push(Skipped {
                            line: 0,
                            uid: Some(uid.clone()),
                            reason,
                        });
                        continue;
                    }
                }
            } else {
                let cancelled = master.row.status == EventStatus::Cancelled;
                out.occurrences.push(occurrence(
                    master,
                    master_index,
                    String::new(),
                    None,
                    cancelled,
                ));
            }
        }
        // Overrides of an occurrence the expansion did not reach (outside
        // the horizon, or with no master here): their own time decides.
        let mut rest: Vec<(String, Event<'_>)> = series_overrides.into_iter().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, ov) in rest {
            let index = out.events.len();
            out.events.push(ov.row.clone());
            let cancelled = ov.row.status == EventStatus::Cancelled
                || master
                    .as_ref()
                    .is_some_and(|m| m.row.status == EventStatus::Cancelled);
            if in_horizon(ov.row.dtstart, ov.row.dtend, horizon) {
                out.occurrences
                    .push(occurrence(&ov, index, key, None, cancelled));
            }
        }
    }
    out
}

fn in_horizon(start: i64, end: i64, (from, to): (i64, i64)) -> bool {
    start < to && end.max(start + 1) > from
}

fn occurrence(
    event: &Event<'_>,
    index: usize,
    key: String,
    times: Option<(i64, i64)>,
    cancelled: bool,
) -> NewOccurrence {
    let (start_at, end_at) = times.unwrap_or((event.row.dtstart, event.row.dtend));
    let mut people: Vec<Person> = Vec::new();
    for (prop, role) in [
        (ICalendarProperty::Organizer, Role::Organizer),
        (ICalendarProperty::Attendee, Role::Attendee),
    ] {
        for a in ics::addresses(event.comp, &prop) {
            if !people
                .iter()
                .any(|p| p.email.eq_ignore_ascii_case(&a.email))
            {
                people.push(Person {
                    email: a.email,
                    name: a.name,
                    role,
                });
            }
        }
    }
    NewOccurrence {
        uid: event.row.uid.clone(),
        occurrence_key: key,
        event: index,
        title: event.row.summary.clone(),
        location: event.row.location.clone(),
        url: event.row.url.clone(),
        start_at,
        end_at,
        tzid: event.row.tzid.clone(),
        all_day: event.row.all_day,
        floating: event.row.floating,
        cancelled,
        people,
    }
}

/// The key of an occurrence starting at `dt`.
fn key_of(dt: &DateTime<CalTz>, all_day: bool) -> String {
    if all_day {
        dt.naive_local().format("%Y%m%d").to_string()
    } else {
        dt.naive_utc().format("%Y%m%dT%H%M%SZ").to_string()
    }
}

fn date_time<'c>(
    comp: &'c ICalendarComponent,
    prop: &'c ICalendarProperty,
) -> Option<(&'c PartialDateTime, Option<&'c str>)> {
    comp.properties(prop)
        .find_map(|entry| match entry.values.first() {
            Some(ICalendarValue::PartialDateTime(dt)) => Some((dt.as_ref(), entry.tz_id())),
            _ => None,
        })
}

/// `dt` (written in zone `tzid`, or floating) as an instant.
fn instant(
    dt: &PartialDateTime,
    tzid: Option<&str>,
    resolver: &TzResolver<&str>,
) -> Option<DateTime<CalTz>> {
    dt.to_date_time()?
        .to_date_time_with_tz(resolver.resolve_or_default(tzid))
}

fn read_event<'a>(
    comp: &'a ICalendarComponent,
    resolver: &TzResolver<&str>,
    zone: chrono_tz::Tz,
) -> Result<Event<'a>, String> {
    let uid = comp
        .uid()
        .map(str::to_string)
        .filter(|u| !u.trim().is_empty())
        .ok_or("it has no UID")?;
    for prop in [
        ICalendarProperty::Dtstart,
        ICalendarProperty::Dtend,
        ICalendarProperty::RecurrenceId,
        ICalendarProperty::Exdate,
        ICalendarProperty::Rdate,
    ] {
        for entry in comp.properties(&prop) {
            if let Some(name) = entry.tz_id()
                && resolver.resolve(name).is_none()
            {
                return Err(format!(
                    "its time zone \"{name}\" is unknown and has no VTIMEZONE"
                ));
            }
        }
    }
    let (start, tzid) = date_time(comp, &ICalendarProperty::Dtstart)
        .ok_or("it has no DTSTART (or one that is not a date)")?;
    let all_day = !start.has_time();
    let floating = !all_day && tzid.is_none() && !start.has_zone();
    let start_dt = instant(start, tzid, resolver)
        .ok_or("its DTSTART does not exist in its time zone (a DST gap or overlap)")?;
    let dtstart = start_dt.timestamp_millis();
    let dtend = match date_time(comp, &ICalendarProperty::Dtend) {
        Some((end, end_tz)) => instant(end, end_tz.or(tzid), resolver)
            .ok_or("its DTEND does not exist in its time zone")?
            .timestamp_millis(),
        None => match comp
            .property(&ICalendarProperty::Duration)
            .and_then(|e| e.values.first())
        {
            Some(ICalendarValue::Duration(d)) => dtstart + d.as_seconds() * 1000,
            _ if all_day => {
                let next = start_dt
                    .date_naive()
                    .succ_opt()
                    .unwrap_or(start_dt.date_naive());
                super::zone::midnight(next, zone)
            }
            _ => dtstart,
        },
    }
    .max(dtstart);
    let has_rule = match comp.property(&ICalendarProperty::Rrule) {
        Some(entry) => match entry.values.first() {
            Some(ICalendarValue::RecurrenceRule(_)) => true,
            _ => return Err("its RRULE cannot be read".into()),
        },
        None => comp.has_property(&ICalendarProperty::Rdate),
    };
    let recurrence_id = match date_time(comp, &ICalendarProperty::RecurrenceId) {
        Some((rid, rid_tz)) => {
            let at = instant(rid, rid_tz.or(tzid), resolver)
                .ok_or("its RECURRENCE-ID does not exist in its time zone")?;
            key_of(&at, !rid.has_time())
        }
        None => String::new(),
    };
    let status = if ics::cancelled(comp) {
        EventStatus::Cancelled
    } else if ics::tentative(comp) {
        EventStatus::Tentative
    } else {
        EventStatus::Confirmed
    };
    let organizer = ics::addresses(comp, &ICalendarProperty::Organizer)
        .into_iter()
        .next()
        .map(|a| a.email);
    let sequence = comp
        .property(&ICalendarProperty::Sequence)
        .and_then(|e| e.values.first())
        .and_then(|v| v.as_integer())
        .unwrap_or(0);
    Ok(Event {
        comp,
        has_rule: has_rule && recurrence_id.is_empty(),
        row: NewEvent {
            uid,
            recurrence_id,
            sequence,
            summary: ics::text(comp, &ICalendarProperty::Summary).unwrap_or_default(),
            description: ics::text(comp, &ICalendarProperty::Description),
            location: ics::text(comp, &ICalendarProperty::Location),
            url: ics::text(comp, &ICalendarProperty::Url),
            organizer,
            dtstart,
            dtend,
            tzid: tzid.map(str::to_string),
            all_day,
            floating,
            rrule: ics::lines_of(comp, &ICalendarProperty::Rrule),
            rdate: ics::lines_of(comp, &ICalendarProperty::Rdate),
            exdate: ics::lines_of(comp, &ICalendarProperty::Exdate),
            status,
            raw: None,
        },
    })
}

/// A rule's UNTIL in Unix seconds: its instant, or the end of its day
/// (UTC) for a date, which all-day series write.
fn until_s(until: &PartialDateTime) -> Option<i64> {
    until.to_timestamp().or_else(|| {
        let date = chrono::NaiveDate::from_ymd_opt(
            i32::from(until.year?),
            u32::from(until.month?),
            u32::from(until.day?),
        )?;
        Some(date.and_hms_opt(23, 59, 59)?.and_utc().timestamp())
    })
}

/// The occurrences of a series' master as (start, end, key), cut at the
/// horizon's end.
fn expand_series(
    master: &Event<'_>,
    zones: &HashMap<&str, &ICalendarComponent>,
    zone: chrono_tz::Tz,
    horizon: (i64, i64),
) -> Result<Vec<(i64, i64, String)>, String> {
    if master.row.dtstart >= horizon.1 {
        return Ok(Vec::new());
    }
    let mut comp = master.comp.clone();
    // Overrides are merged by the caller, alarms are not needed.
    comp.component_ids.clear();
    if let Some(entry) = comp.property_mut(&ICalendarProperty::Rrule)
        && let Some(ICalendarValue::RecurrenceRule(rule)) = entry.values.first_mut()
    {
        let end_s = horizon.1 / 1000 + 86_400;
        let past_end = rule
            .until
            .as_ref()
            .and_then(until_s)
            .is_none_or(|u| u > end_s);
        if rule.count.is_none() && past_end {
            rule.until = Some(if master.row.all_day {
                PartialDateTime::from_date_timestamp(end_s)
            } else {
                PartialDateTime::from_utc_timestamp(end_s)
            });
        }
    }
    let mut components = vec![comp];
    if let Some(tzid) = &master.row.tzid
        && let Some(tz) = zones.get(tzid.as_str())
    {
        components.push((*tz).clone());
    }
    let calendar = ICalendar { components };
    // `calcard` takes a time without TZID in the default zone, also one
    // written in UTC: a UTC series expands in UTC, a floating or all-day
    // one in the user's zone.
    let utc = !master.row.all_day && !master.row.floating && master.row.tzid.is_none();
    let default = if utc { chrono_tz::UTC } else { zone };
    let expanded = calendar.expand_dates(CalTz::Tz(default), MAX_PER_SERIES);
    if let Some(error) = expanded.errors.first() {
        return Err(format!(
            "its recurrence cannot be expanded: {}",
            error.error
        ));
    }
    let mut out = Vec::with_capacity(expanded.events.len());
    for event in expanded.events {
        let start = event.start;
        let key = key_of(&start, master.row.all_day);
        let start_ms = start.timestamp_millis();
        let end_ms = match event.end {
            TimeOrDelta::Time(end) => end.timestamp_millis(),
            TimeOrDelta::Delta(delta) => start
                .naive_local()
                .checked_add_signed(delta)
                .and_then(|end| start.timezone().from_local_datetime(&end).earliest())
                .map_or(start_ms + delta.num_milliseconds(), |e| {
                    e.timestamp_millis()
                }),
        };
        out.push((start_ms, end_ms.max(start_ms), key));
    }
    out.sort_by_key(|(start, _, _)| *start);
    out.dedup_by(|a, b| a.2 == b.2);
    Ok(out)
}

#[cfg(test)]
mod tests;
