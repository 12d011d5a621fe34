//! The bundled demo export: a small Next.js-style app that a first start on
//! an empty store takes over, so a new user lands in something real; and
//! beside it a small calendar of the team's next days, so the meeting
//! dashboard (alt-m) has something to show.

use std::path::Path;

use super::import::{ImportOptions, import};
use super::{ImportError, Report};
use crate::config::Config;
use crate::store::{self, Store};

include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));

const OFFERED_KEY: &str = "demo_offered";
pub(crate) const DEMO_NAME: &str = "demo";

/// Imports the demo once, the first time a store is opened with no
/// workspace. Returns the report when it did.
pub fn offer_once(store: &mut Store, config: &Config) -> Result<Option<Report>, ImportError> {
    if store::settings::get(&store.conn, OFFERED_KEY)?.is_some()
        || store::workspaces::count(&store.conn)? > 0
    {
        return Ok(None);
    }
    let dir = config.data_dir.join("demo-export");
    write_files(&dir).map_err(|source| ImportError::SourceUnreadable {
        path: dir.clone(),
        source,
    })?;
    let options = ImportOptions {
        name: Some(DEMO_NAME.into()),
        ..ImportOptions::default()
    };
    let report = import(store, config, &dir, &options, &mut ())?;
    store::settings::set(&store.conn, OFFERED_KEY, &report.taken_over_at)?;
    // The calendar is a nicety: without it the demo is still whole.
    if let Err(e) = offer_calendar(store, config) {
        tracing::warn!(error = %e, "the demo calendar could not be imported");
    }
    Ok(Some(report))
}

/// Writes the demo calendar beside the demo export and imports it like
/// any calendar file (`kollega meetings import` on it again updates it).
fn offer_calendar(store: &mut Store, config: &Config) -> Result<(), String> {
    let zone = crate::meetings::zone::user_zone();
    let now = store::now_ms();
    let today = crate::meetings::zone::local(now, zone).date_naive();
    let path = config.data_dir.join("demo-calendar.ics");
    std::fs::write(&path, calendar(today)).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::meetings::import::import_file(&mut store.conn, &path, zone, now)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The demo team's calendar from `today` on, in floating local times: a
/// standup every weekday, a review of the checkout this afternoon, a
/// planning in three days.
fn calendar(today: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let day = |offset: i64| (today + chrono::Duration::days(offset)).format("%Y%m%d");
    let people = "ORGANIZER;CN=Anna Berg:mailto:anna@example.com\r\n\
        ATTENDEE;CN=Deniz Kaya:mailto:deniz@example.com\r\n\
        ATTENDEE;CN=Sam Lind:mailto:sam@example.com\r\n";
    let event = |uid: &str, start: String, end: String, extra: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:{uid}@demo.kollega\r\nDTSTAMP:20260101T000000Z\r\n\
             DTSTART:{start}\r\nDTEND:{end}\r\n{extra}{people}END:VEVENT\r\n"
        )
    };
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//kollega//demo//EN\r\n");
    // The series starts on a weekday: its first day is always one of it.
    let first_weekday = match today.weekday() {
        chrono::Weekday::Sat => 2,
        chrono::Weekday::Sun => 1,
        _ => 0,
    };
    out.push_str(&event(
        "standup",
        format!("{}T093000", day(first_weekday)),
        format!("{}T094500", day(first_weekday)),
        "SUMMARY:Standup\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\nLOCATION:https://meet.example.com/standup\r\n",
    ));
    out.push_str(&event(
        "checkout-review",
        format!("{}T150000", day(0)),
        format!("{}T160000", day(0)),
        "SUMMARY:Checkout redesign review\r\n\
         DESCRIPTION:Agenda: the task form's validation\\, the API errors the user sees\\, who owns the next step.\r\n",
    ));
    out.push_str(&event(
        "planning",
        format!("{}T100000", day(3)),
        format!("{}T110000", day(3)),
        "SUMMARY:Sprint planning\r\nDESCRIPTION:What ships next week\\, and what the AI patches left to review.\r\n",
    ));
    out.push_str("END:VCALENDAR\r\n");
    out
}

fn write_files(dir: &Path) -> std::io::Result<()> {
    for (path, content) in DEMO_FILES {
        let target = path.split('/').fold(dir.to_path_buf(), |p, c| p.join(c));
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, content)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_files_match_the_examples_folder() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo-export");
        let on_disk = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .count();
        assert_eq!(DEMO_FILES.len(), on_disk);
        for (path, content) in DEMO_FILES {
            assert_eq!(
                std::fs::read_to_string(root.join(path)).unwrap(),
                *content,
                "{path}"
            );
        }
        assert!(DEMO_FILES.iter().any(|(p, _)| *p == "package.json"));
    }

    #[test]
    fn the_demo_calendar_fills_the_next_days() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(Some(dir.path().join("data"))).unwrap();
        let mut store = Store::open(&config.data_dir).unwrap();
        let report = offer_once(&mut store, &config).unwrap();
        assert!(report.is_some());
        let zone = crate::meetings::zone::user_zone();
        let now = store::now_ms();
        let week =
            store::meetings::between(&store.conn, now - 86_400_000, now + 7 * 86_400_000).unwrap();
        let titles: Vec<&str> = week.iter().map(|m| m.title.as_str()).collect();
        assert!(titles.contains(&"Standup"), "{titles:?}");
        assert!(titles.contains(&"Checkout redesign review"), "{titles:?}");
        assert!(titles.contains(&"Sprint planning"), "{titles:?}");
        // Floating times are taken in the user's zone: 09:30 there.
        let standup = week.iter().find(|m| m.title == "Standup").unwrap();
        let start = crate::meetings::zone::local(standup.start_at, zone);
        assert_eq!(start.format("%H:%M").to_string(), "09:30");
    }
}
