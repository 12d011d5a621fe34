//! Schedules: a command run as a job at the times of a cron expression.
//!
//! Expressions have the five classic fields (minute hour day-of-month month
//! day-of-week) or one of the aliases `@hourly`, `@daily`, `@weekly`,
//! `@monthly` and `@yearly`, and are read in UTC. A schedule's `next_run_at`
//! is its next fire time not yet enqueued; [`enqueue_due`] turns every fire
//! time that has come into jobs, by the schedule's catch-up policy, inside
//! one IMMEDIATE transaction, so two runners on one store never enqueue a
//! fire time twice.

use std::cmp::Ordering;

use croner::errors::CronError;
use croner::parser::{CronParser, Seconds, Year};
use croner::{CivilDate, CivilDateTime, CivilTime, Cron, CronDateTime, Resolution, Weekday};
use rusqlite::{Connection, TransactionBehavior};

use super::JobsError;
use super::payload::{CommandPayload, JobPayload};
use super::queue;
use crate::store::schedules::{self, NewSchedule};
pub(crate) use crate::store::schedules::{CatchUp, Schedule};

type Result<T, E = JobsError> = std::result::Result<T, E>;

/// A fire time this close to now (ms) is on time, not a catch-up.
const ON_TIME_MS: i64 = 60_000;
/// At most this many jobs for the missed fire times of `all`.
const MAX_CATCH_UP: usize = 100;
/// Attempts of a scheduled command's job.
const MAX_ATTEMPTS: u32 = 3;

/// The fields of an expression, with what each accepts (for errors).
const FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31, L or a W day"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 or SUN-SAT (0 and 7 are Sunday), L or #"),
];

/// The aliases and the expressions they stand for.
const ALIASES: [(&str, &str); 5] = [
    ("@hourly", "0 * * * *"),
    ("@daily", "0 0 * * *"),
    ("@weekly", "0 0 * * 0"),
    ("@monthly", "0 0 1 * *"),
    ("@yearly", "0 0 1 1 *"),
];

fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
}

/// Parses a five-field expression or an alias. The error names the
/// expression, the field at fault and what that field accepts.
pub(crate) fn parse(expr: &str) -> Result<Cron, JobsError> {
    let bad = |message: String| JobsError::BadCron {
        expr: expr.to_string(),
        message,
    };
    let text = expr.trim();
    let text = if text.starts_with('@') {
        ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(text))
            .map(|(_, fields)| *fields)
            .ok_or_else(|| {
                let names: Vec<&str> = ALIASES.iter().map(|(alias, _)| *alias).collect();
                bad(format!(
                    "{text:?} is not an alias; the aliases are {}",
                    names.join(", ")
                ))
            })?
    } else {
        text
    };
    let fields: Vec<&str> = text.split_whitespace().collect();
    match fields.len() {
        5 => {}
        0 => return Err(bad("it is empty".into())),
        6 | 7 => {
            return Err(bad(format!(
                "it has {} fields; schedules run to the minute, so it takes 5 (minute hour \
                 day-of-month month day-of-week), without seconds or years",
                fields.len()
            )));
        }
        n => {
            let s = if n == 1 { "" } else { "s" };
            return Err(bad(format!(
                "it has {n} field{s}; it takes 5: minute hour day-of-month month day-of-week"
            )));
        }
    }
    let parser = parser();
    parser
        .parse(&fields.join(" "))
        .map_err(|e| bad(explain(&parser, &fields, &e)))
}

/// Says which field an expression's error is in: the first field that
/// fails on its own with every other field `*`.
fn explain(parser: &CronParser, fields: &[&str], whole: &CronError) -> String {
    for (index, (name, accepts)) in FIELDS.iter().enumerate() {
        let Some(value) = fields.get(index) else {
            break;
        };
        let mut probe = ["*"; 5];
        probe[index] = value;
        if let Err(e) = parser.parse(&probe.join(" ")) {
            return format!(
                "the {name} field {value:?} is not valid ({}); {name} takes {accepts}",
                reason(&e)
            );
        }
    }
    reason(whole)
}

/// A parse error's reason, as a phrase.
fn reason(e: &CronError) -> String {
    let text = match e {
        CronError::IllegalCharacters(_) => "it has a character cron does not accept".to_string(),
        CronError::InvalidPattern(m) | CronError::ComponentError(m) => m.clone(),
        other => other.to_string(),
    };
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "it does not parse".to_string(),
    }
}

/// A UTC instant to the second: the time type croner searches over here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UtcSecond(i64);

const SECONDS_PER_DAY: i64 = 86_400;

impl UtcSecond {
    fn from_ms(ms: i64) -> UtcSecond {
        UtcSecond(ms.div_euclid(1000))
    }

    fn to_ms(self) -> Option<i64> {
        self.0.checked_mul(1000)
    }
}

/// The civil date of a day counted from 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day, counted from 1970-01-01, of a civil date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl CronDateTime for UtcSecond {
    fn to_civil(&self) -> CivilDateTime {
        let days = self.0.div_euclid(SECONDS_PER_DAY);
        let secs = self.0.rem_euclid(SECONDS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        // Millisecond times reach about 292 million years, inside an i32.
        let year = i32::try_from(year).unwrap_or(if year < 0 { i32::MIN } else { i32::MAX });
        CivilDateTime::new(
            CivilDate::from_parts_unchecked(year, month, day),
            CivilTime::from_parts_unchecked(secs / 3600, secs / 60 % 60, secs % 60),
        )
    }

    fn civil_weekday(&self) -> Weekday {
        // 1970-01-01 was a Thursday, four days from Sunday.
        let days = self.0.div_euclid(SECONDS_PER_DAY);
        Weekday::from_days_from_sunday((days + 4).rem_euclid(7) as u32)
    }

    fn resolve_civil(&self, civil: CivilDateTime) -> Result<Resolution<Self>, CronError> {
        // UTC has no gaps and no repeated times.
        let days = days_from_civil(i64::from(civil.year()), civil.month(), civil.day());
        let secs = days
            .checked_mul(SECONDS_PER_DAY)
            .and_then(|s| {
                s.checked_add(
                    i64::from(civil.hour()) * 3600
                        + i64::from(civil.minute()) * 60
                        + i64::from(civil.second()),
                )
            })
            .ok_or(CronError::InvalidTime)?;
        Ok(Resolution::Single(UtcSecond(secs)))
    }

    fn checked_add_seconds(&self, seconds: i64) -> Option<Self> {
        self.0.checked_add(seconds).map(UtcSecond)
    }

    fn cmp_instant(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

/// The first fire time strictly after `after_ms`, or `None` when the
/// expression never fires again.
pub(crate) fn next_after(cron: &Cron, after_ms: i64) -> Option<i64> {
    cron.find_next_occurrence(&UtcSecond::from_ms(after_ms), false)
        .ok()?
        .to_ms()
}

/// The last fire time at or before `at_ms`.
fn last_at_or_before(cron: &Cron, at_ms: i64) -> Option<i64> {
    cron.find_previous_occurrence(&UtcSecond::from_ms(at_ms), true)
        .ok()?
        .to_ms()
}

/// The last fire time strictly before `before_ms` (a whole second).
fn last_before(cron: &Cron, before_ms: i64) -> Option<i64> {
    cron.find_previous_occurrence(&UtcSecond::from_ms(before_ms), false)
        .ok()?
        .to_ms()
}

/// Adds a schedule; its first fire time is the first after `now`.
pub(crate) fn add(
    conn: &Connection,
    workspace: &str,
    expr: &str,
    argv: &[String],
    catch_up: CatchUp,
    timeout_ms: Option<i64>,
    now: i64,
) -> Result<Schedule, JobsError> {
    if workspace.trim().is_empty() {
        return Err(JobsError::BadInput(
            "a schedule needs a workspace or folder to run in".into(),
        ));
    }
    if argv.first().is_none_or(|program| program.is_empty()) {
        return Err(JobsError::BadInput(
            "a schedule needs a command to run, e.g. `-- make test`".into(),
        ));
    }
    if let Some(ms) = timeout_ms
        && ms <= 0
    {
        return Err(JobsError::BadInput(format!(
            "a timeout must be positive, not {ms} ms"
        )));
    }
    let cron = parse(expr)?;
    let next = next_after(&cron, now).ok_or_else(|| JobsError::BadCron {
        expr: expr.to_string(),
        message: format!("it never fires after {}", super::format_ms(now)),
    })?;
    // Named now, kept by its row from here on; a folder by its path.
    let workspace_id = crate::store::workspaces::id_of(conn, workspace)?;
    let new = NewSchedule {
        workspace,
        workspace_id,
        cron: expr.trim(),
        command: argv,
        catch_up,
        timeout_ms,
        next_run_at: next,
    };
    let id = schedules::insert(conn, &new, now)?;
    get(conn, id)?.ok_or(JobsError::UnknownSchedule(id))
}

/// One schedule, if it exists.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<Schedule>, JobsError> {
    Ok(schedules::get(conn, id)?)
}

/// Every schedule, oldest first.
pub(crate) fn list(conn: &Connection) -> Result<Vec<Schedule>, JobsError> {
    Ok(schedules::list(conn)?)
}

/// Removes a schedule and returns it. Jobs it enqueued stay.
pub(crate) fn remove(conn: &Connection, id: i64) -> Result<Schedule, JobsError> {
    let schedule = get(conn, id)?.ok_or(JobsError::UnknownSchedule(id))?;
    if !schedules::remove(conn, id)? {
        // Removed by another process since it was read.
        return Err(JobsError::UnknownSchedule(id));
    }
    Ok(schedule)
}

/// The fire times a due schedule enqueues, oldest first: of the missed
/// times from `from` (its `next_run_at`) up to `now`, one for `once`, the
/// latest if it is on time for `skip`, the latest 100 for `all`.
fn fire_times(cron: &Cron, catch_up: CatchUp, from: i64, now: i64) -> Vec<i64> {
    // `from` is a fire time itself; it stands in when the search finds none
    // in the range.
    let latest = last_at_or_before(cron, now)
        .filter(|t| *t >= from)
        .unwrap_or(from);
    match catch_up {
        CatchUp::Once => vec![latest],
        CatchUp::Skip if now - latest <= ON_TIME_MS => vec![latest],
        CatchUp::Skip => Vec::new(),
        CatchUp::All => {
            let mut times = vec![latest];
            while times.len() < MAX_CATCH_UP {
                let Some(earlier) = times
                    .last()
                    .and_then(|t| last_before(cron, *t))
                    .filter(|t| *t >= from)
                else {
                    break;
                };
                times.push(earlier);
            }
            times.reverse();
            times
        }
    }
}

/// Enqueues the jobs of every schedule whose next_run_at <= now, in one IMMEDIATE transaction, so two runners on one database never enqueue a fire time twice. Returns the new job ids.
///
/// Each schedule then moves on to its first fire time after `now`; one
/// that never fires again is parked at `i64::MAX`. `last_run_at` and
/// `last_job_id` change only when a job was enqueued.
pub(crate) fn enqueue_due(conn: &mut Connection, now: i64) -> Result<Vec<i64>, JobsError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut enqueued = Vec::new();
    for schedule in schedules::due(&tx, now)? {
        let cron = match parse(&schedule.cron) {
            Ok(cron) => cron,
            Err(e) => {
                // Stored by an older kollega or by hand: park it rather
                // than fail every other schedule on every poll.
                tracing::warn!(
                    schedule = schedule.id,
                    error = %e,
                    "a schedule's cron expression does not parse; it will not run until it is replaced"
                );
                schedules::advance(&tx, schedule.id, i64::MAX, None, now)?;
                continue;
            }
        };
        let mut last_job = None;
        for fire_at in fire_times(&cron, schedule.catch_up, schedule.next_run_at, now) {
            let payload = CommandPayload {
                schedule: Some(schedule.id),
                fire_at: Some(fire_at),
                ..CommandPayload::argv(schedule.command.clone())
            };
            let mut job = payload.job(Some(schedule.workspace.clone()));
            job.workspace_id = schedule.workspace_id;
            job.max_attempts = MAX_ATTEMPTS;
            job.timeout_ms = schedule.timeout_ms;
            job.schedule_id = Some(schedule.id);
            let id = queue::enqueue_in(&tx, &job, now)?;
            enqueued.push(id);
            last_job = Some(id);
        }
        let next = next_after(&cron, now).unwrap_or_else(|| {
            tracing::warn!(
                schedule = schedule.id,
                cron = %schedule.cron,
                "a schedule's cron expression never fires again; it will not run any more"
            );
            i64::MAX
        });
        schedules::advance(&tx, schedule.id, next, last_job, now)?;
    }
    tx.commit()?;
    Ok(enqueued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::params;

    use crate::jobs::queue::{self, Filter};
    use crate::store::Store;

    /// A UTC time as Unix ms.
    fn at(year: i32, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> i64 {
        let month = time::Month::try_from(month).unwrap();
        let date = time::Date::from_calendar_date(year, month, day).unwrap();
        let t = date.with_hms(hour, minute, second).unwrap().assume_utc();
        t.unix_timestamp() * 1000
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn cron_error(expr: &str) -> String {
        match parse(expr) {
            Err(e @ JobsError::BadCron { .. }) => e.to_string(),
            Err(other) => panic!("{expr:?}: not a cron error: {other}"),
            Ok(_) => panic!("{expr:?} parsed"),
        }
    }

    #[test]
    fn good_expressions_parse() {
        for expr in [
            "* * * * *",
            "*/15 * * * *",
            "0 3 * * 1-5",
            "  30 2 1,15 * *  ",
            "0 9 * JAN-MAR mon",
            "0 0 L * *",
            "0 0 * * 5#2",
            "@hourly",
            "@DAILY",
            "@weekly",
            "@monthly",
            "@yearly",
        ] {
            assert!(parse(expr).is_ok(), "{expr:?}: {:?}", parse(expr).err());
        }
    }

    #[test]
    fn bad_expressions_say_where_and_why() {
        let e = cron_error("61 * * * *");
        assert!(e.contains("\"61 * * * *\""), "{e}");
        assert!(e.contains("minute field \"61\""), "{e}");
        assert!(e.contains("0-59"), "{e}");

        let e = cron_error("0 24 * * *");
        assert!(e.contains("hour field \"24\"") && e.contains("0-23"), "{e}");

        let e = cron_error("0 0 * 13 *");
        assert!(
            e.contains("month field \"13\"") && e.contains("1-12"),
            "{e}"
        );

        let e = cron_error("* * *");
        assert!(e.contains("\"* * *\""), "{e}");
        assert!(e.contains("3 fields") && e.contains("takes 5"), "{e}");

        let e = cron_error("hello");
        assert!(e.contains("\"hello\"") && e.contains("1 field;"), "{e}");

        let e = cron_error("0 * * * * *");
        assert!(e.contains("without seconds"), "{e}");

        let e = cron_error("*/0 * * * *");
        assert!(e.contains("minute field \"*/0\""), "{e}");

        let e = cron_error("x * * * *");
        assert!(
            e.contains("minute field \"x\"") && e.contains("character"),
            "{e}"
        );

        let e = cron_error("@often");
        assert!(e.contains("@hourly") && e.contains("@yearly"), "{e}");

        let e = cron_error("   ");
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn civil_days_agree_with_the_calendar() {
        let mut t = time::OffsetDateTime::from_unix_timestamp(-20_000_000_000).unwrap();
        let step = time::Duration::seconds(86_400 * 13 + 3_607);
        while t.year() < 2400 {
            let secs = t.unix_timestamp();
            let civil = UtcSecond(secs).to_civil();
            assert_eq!(
                (civil.year(), civil.month(), civil.day()),
                (t.year(), u32::from(u8::from(t.month())), u32::from(t.day())),
                "{t}"
            );
            assert_eq!(
                (civil.hour(), civil.minute(), civil.second()),
                (
                    u32::from(t.hour()),
                    u32::from(t.minute()),
                    u32::from(t.second())
                )
            );
            assert_eq!(
                UtcSecond(secs).civil_weekday().num_days_from_sunday(),
                u32::from(t.weekday().number_days_from_sunday())
            );
            let back = UtcSecond(0).resolve_civil(civil).unwrap();
            assert_eq!(back, Resolution::Single(UtcSecond(secs)));
            t += step;
        }
    }

    #[test]
    fn next_after_is_strictly_after_across_boundaries() {
        let every_15 = parse("*/15 * * * *").unwrap();
        // On a fire time, the next one; just before it, that one.
        let t = at(2025, 3, 1, 10, 15, 0);
        assert_eq!(next_after(&every_15, t), Some(at(2025, 3, 1, 10, 30, 0)));
        assert_eq!(next_after(&every_15, t - 1), Some(t));
        assert_eq!(
            next_after(&every_15, t + 1),
            Some(at(2025, 3, 1, 10, 30, 0))
        );
        // Across an hour, a day, a month and a year.
        assert_eq!(
            next_after(&every_15, at(2025, 3, 1, 10, 50, 0)),
            Some(at(2025, 3, 1, 11, 0, 0))
        );
        assert_eq!(
            next_after(&every_15, at(2025, 3, 1, 23, 59, 59)),
            Some(at(2025, 3, 2, 0, 0, 0))
        );
        assert_eq!(
            next_after(&every_15, at(2024, 2, 29, 23, 45, 0)),
            Some(at(2024, 3, 1, 0, 0, 0))
        );
        assert_eq!(
            next_after(&every_15, at(2024, 12, 31, 23, 59, 0)),
            Some(at(2025, 1, 1, 0, 0, 0))
        );
        // Daily at 03:00: past today's run, tomorrow's; at month's end, the
        // next month's first.
        let daily = parse("0 3 * * *").unwrap();
        assert_eq!(
            next_after(&daily, at(2025, 4, 30, 3, 0, 0)),
            Some(at(2025, 5, 1, 3, 0, 0))
        );
        // Monthly on the 31st skips months without one.
        let on_31st = parse("0 0 31 * *").unwrap();
        assert_eq!(
            next_after(&on_31st, at(2025, 3, 31, 0, 0, 0)),
            Some(at(2025, 5, 31, 0, 0, 0))
        );
        // Leap day only.
        let leap = parse("0 12 29 2 *").unwrap();
        assert_eq!(
            next_after(&leap, at(2025, 1, 1, 0, 0, 0)),
            Some(at(2028, 2, 29, 12, 0, 0))
        );
        // Weekdays: Friday evening goes to Monday.
        let weekdays = parse("0 9 * * MON-FRI").unwrap();
        assert_eq!(
            next_after(&weekdays, at(2025, 6, 6, 18, 0, 0)),
            Some(at(2025, 6, 9, 9, 0, 0))
        );
        // Aliases.
        assert_eq!(
            next_after(&parse("@yearly").unwrap(), at(2025, 6, 6, 18, 0, 0)),
            Some(at(2026, 1, 1, 0, 0, 0))
        );
        // A date that does not exist never fires.
        assert_eq!(
            next_after(&parse("0 0 30 2 *").unwrap(), at(2025, 1, 1, 0, 0, 0)),
            None
        );
    }

    #[test]
    fn add_list_remove() {
        let (_d, store) = store();
        let now = at(2025, 1, 1, 12, 7, 0);
        let a = add(
            &store.conn,
            "demo",
            " */30 * * * * ",
            &argv(&["make", "test"]),
            CatchUp::Once,
            Some(60_000),
            now,
        )
        .unwrap();
        assert_eq!(a.cron, "*/30 * * * *");
        assert_eq!(a.command, argv(&["make", "test"]));
        assert_eq!(a.next_run_at, at(2025, 1, 1, 12, 30, 0));
        assert_eq!((a.last_run_at, a.last_job_id), (None, None));
        assert_eq!((a.created_at, a.timeout_ms), (now, Some(60_000)));
        let b = add(
            &store.conn,
            "/home/me/proj",
            "@daily",
            &argv(&["echo", "hi there"]),
            CatchUp::All,
            None,
            now,
        )
        .unwrap();
        assert_eq!(b.next_run_at, at(2025, 1, 2, 0, 0, 0));
        assert_eq!(list(&store.conn).unwrap(), vec![a.clone(), b.clone()]);

        // Bad input is refused before anything is stored.
        assert!(matches!(
            add(
                &store.conn,
                "demo",
                "* *",
                &argv(&["x"]),
                CatchUp::Once,
                None,
                now
            ),
            Err(JobsError::BadCron { .. })
        ));
        assert!(matches!(
            add(
                &store.conn,
                "demo",
                "* * * * *",
                &[],
                CatchUp::Once,
                None,
                now
            ),
            Err(JobsError::BadInput(_))
        ));
        assert!(matches!(
            add(&store.conn, "demo", "0 0 30 2 *", &argv(&["x"]), CatchUp::Once, None, now),
            Err(JobsError::BadCron { message, .. }) if message.contains("never fires")
        ));
        assert!(matches!(
            add(
                &store.conn,
                "demo",
                "* * * * *",
                &argv(&["x"]),
                CatchUp::Once,
                Some(0),
                now
            ),
            Err(JobsError::BadInput(_))
        ));
        assert_eq!(list(&store.conn).unwrap().len(), 2);

        assert_eq!(remove(&store.conn, a.id).unwrap(), a);
        assert!(matches!(
            remove(&store.conn, a.id),
            Err(JobsError::UnknownSchedule(id)) if id == a.id
        ));
        assert_eq!(list(&store.conn).unwrap(), vec![b]);

        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["catch_up"], "once");
        assert_eq!(json["command"], serde_json::json!(["make", "test"]));
    }

    /// The fire times of a store's scheduled jobs, in job order.
    fn fired(store: &Store) -> Vec<(i64, i64)> {
        let mut jobs = queue::list(&store.conn, &Filter::default()).unwrap();
        jobs.reverse();
        jobs.iter()
            .map(|j| {
                assert_eq!(j.kind, "command");
                assert_eq!(j.payload["schedule"], j.schedule_id.unwrap());
                (
                    j.schedule_id.unwrap(),
                    j.payload["fire_at"].as_i64().unwrap(),
                )
            })
            .collect()
    }

    /// A `*/30` schedule added at 00:05, then three hours of nothing.
    fn gap(catch_up: CatchUp) -> (tempfile::TempDir, Store, Schedule, Vec<i64>) {
        let (dir, mut store) = store();
        let added = at(2025, 5, 1, 0, 5, 0);
        let s = add(
            &store.conn,
            "demo",
            "*/30 * * * *",
            &argv(&["backup"]),
            catch_up,
            Some(5_000),
            added,
        )
        .unwrap();
        let ids = enqueue_due(&mut store.conn, added + 3 * 3_600_000).unwrap();
        (dir, store, s, ids)
    }

    #[test]
    fn once_enqueues_one_job_for_a_gap() {
        let (_d, mut store, s, ids) = gap(CatchUp::Once);
        let now = at(2025, 5, 1, 3, 5, 0);
        assert_eq!(ids.len(), 1);
        assert_eq!(fired(&store), vec![(s.id, at(2025, 5, 1, 3, 0, 0))]);
        let job = queue::require(&store.conn, ids[0]).unwrap();
        assert_eq!(job.workspace.as_deref(), Some("demo"));
        assert_eq!(job.payload["argv"], serde_json::json!(["backup"]));
        assert_eq!((job.timeout_ms, job.max_attempts), (Some(5_000), 3));
        assert_eq!(job.next_run_at, now);
        let after = get(&store.conn, s.id).unwrap().unwrap();
        assert_eq!(after.next_run_at, at(2025, 5, 1, 3, 30, 0));
        assert_eq!(after.last_run_at, Some(now));
        assert_eq!(after.last_job_id, Some(ids[0]));
        // The same time again finds nothing due.
        assert!(enqueue_due(&mut store.conn, now).unwrap().is_empty());
        // Nor does a minute before the next fire; the fire time itself does.
        assert!(
            enqueue_due(&mut store.conn, at(2025, 5, 1, 3, 29, 59))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            enqueue_due(&mut store.conn, at(2025, 5, 1, 3, 30, 0))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn all_enqueues_one_job_per_missed_time() {
        let (_d, mut store, s, ids) = gap(CatchUp::All);
        let expected: Vec<(i64, i64)> = (0..6)
            .map(|i| (s.id, at(2025, 5, 1, 0, 30, 0) + i * 1_800_000))
            .collect();
        assert_eq!(ids.len(), 6);
        assert_eq!(fired(&store), expected);
        let after = get(&store.conn, s.id).unwrap().unwrap();
        assert_eq!(after.last_job_id, ids.last().copied());
        assert!(
            enqueue_due(&mut store.conn, at(2025, 5, 1, 3, 5, 0))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn all_keeps_the_latest_hundred() {
        let (_d, mut store) = store();
        let added = at(2025, 5, 1, 0, 0, 30);
        let s = add(
            &store.conn,
            "demo",
            "* * * * *",
            &argv(&["tick"]),
            CatchUp::All,
            None,
            added,
        )
        .unwrap();
        let now = at(2025, 5, 1, 5, 0, 10);
        let ids = enqueue_due(&mut store.conn, now).unwrap();
        assert_eq!(ids.len(), 100);
        let times = fired(&store);
        assert_eq!(times.first(), Some(&(s.id, at(2025, 5, 1, 3, 21, 0))));
        assert_eq!(times.last(), Some(&(s.id, at(2025, 5, 1, 5, 0, 0))));
        assert!(times.windows(2).all(|w| w[1].1 - w[0].1 == 60_000));
    }

    #[test]
    fn skip_enqueues_only_a_time_that_is_on_time() {
        let (_d, mut store, s, ids) = gap(CatchUp::Skip);
        assert!(ids.is_empty());
        let after = get(&store.conn, s.id).unwrap().unwrap();
        assert_eq!(after.next_run_at, at(2025, 5, 1, 3, 30, 0));
        assert_eq!((after.last_run_at, after.last_job_id), (None, None));
        // 40 seconds late is on time.
        let ids = enqueue_due(&mut store.conn, at(2025, 5, 1, 3, 30, 40)).unwrap();
        assert_eq!(ids.len(), 1);
        assert_eq!(fired(&store), vec![(s.id, at(2025, 5, 1, 3, 30, 0))]);
        // Two minutes late is not.
        assert!(
            enqueue_due(&mut store.conn, at(2025, 5, 1, 4, 2, 0))
                .unwrap()
                .is_empty()
        );
        let after = get(&store.conn, s.id).unwrap().unwrap();
        assert_eq!(after.last_job_id, Some(ids[0]));
        assert_eq!(after.next_run_at, at(2025, 5, 1, 4, 30, 0));
    }

    #[test]
    fn a_schedule_that_never_fires_again_is_parked() {
        let (_d, mut store) = store();
        let now = at(2025, 1, 1, 0, 0, 0);
        let s = add(
            &store.conn,
            "demo",
            "0 0 1 1 *",
            &argv(&["x"]),
            CatchUp::Once,
            None,
            now,
        )
        .unwrap();
        // As if it had been stored with a time it cannot reach again.
        store
            .conn
            .execute(
                "UPDATE schedules SET cron = '0 0 30 2 *', next_run_at = ?2 WHERE id = ?1",
                params![s.id, now],
            )
            .unwrap();
        let ids = enqueue_due(&mut store.conn, now + 1000).unwrap();
        assert_eq!(ids.len(), 1);
        assert_eq!(
            get(&store.conn, s.id).unwrap().unwrap().next_run_at,
            i64::MAX
        );
        assert!(
            enqueue_due(&mut store.conn, now + 10_000_000_000)
                .unwrap()
                .is_empty()
        );
        // An expression that does not parse is parked too, and the other
        // schedules still run.
        let ok = add(
            &store.conn,
            "demo",
            "* * * * *",
            &argv(&["y"]),
            CatchUp::Once,
            None,
            now,
        )
        .unwrap();
        store
            .conn
            .execute(
                "UPDATE schedules SET cron = 'nonsense', next_run_at = 0 WHERE id = ?1",
                [s.id],
            )
            .unwrap();
        let ids = enqueue_due(&mut store.conn, now + 60_000).unwrap();
        assert_eq!(ids.len(), 1);
        assert_eq!(
            queue::require(&store.conn, ids[0]).unwrap().schedule_id,
            Some(ok.id)
        );
        assert_eq!(
            get(&store.conn, s.id).unwrap().unwrap().next_run_at,
            i64::MAX
        );
    }

    #[test]
    fn two_runners_enqueue_each_fire_time_once() {
        let dir = tempfile::tempdir().unwrap();
        let added = at(2025, 5, 1, 0, 5, 0);
        {
            let store = Store::open(dir.path()).unwrap();
            for (i, catch_up) in [CatchUp::All, CatchUp::Once, CatchUp::All]
                .into_iter()
                .enumerate()
            {
                let expr = ["*/30 * * * *", "*/10 * * * *", "*/5 * * * *"][i];
                add(
                    &store.conn,
                    "demo",
                    expr,
                    &argv(&["x"]),
                    catch_up,
                    None,
                    added,
                )
                .unwrap();
            }
        }
        for round in 0..3 {
            let now = added + 3 * 3_600_000 + round * 600_000;
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let runners: Vec<_> = (0..2)
                .map(|_| {
                    let path = dir.path().to_path_buf();
                    let barrier = barrier.clone();
                    std::thread::spawn(move || {
                        let mut store = Store::open(&path).unwrap();
                        barrier.wait();
                        enqueue_due(&mut store.conn, now).unwrap()
                    })
                })
                .collect();
            let mut got: Vec<Vec<i64>> = runners.into_iter().map(|r| r.join().unwrap()).collect();
            got.sort_by_key(Vec::len);
            if round == 0 {
                // One runner got everything, the other nothing.
                assert!(got[0].is_empty(), "{got:?}");
                assert_eq!(got[1].len(), 6 + 1 + 36);
            }
        }
        let store = Store::open(dir.path()).unwrap();
        let mut times = fired(&store);
        let total = times.len();
        times.sort();
        times.dedup();
        assert_eq!(times.len(), total, "a fire time was enqueued twice");
    }
}
