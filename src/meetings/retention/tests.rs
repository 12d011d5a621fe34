use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::config::Config;
use crate::jobs::queue::Role;
use crate::jobs::runner;
use crate::meetings::fixture;
use crate::store::Store;
use crate::store::meetings::Consent;

const DAY: i64 = 86_400_000;

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn meetings_past_retention_are_purged_like_forget_with_audit_entries() {
    let dir = tempfile::tempdir().unwrap();
    let base = 1_800_000_000_000;
    {
        let mut store = Store::open(dir.path()).unwrap();
        let old = fixture::meeting(&mut store.conn, "old", base - 366 * DAY, Consent::Plus);
        fixture::fill(&mut store.conn, old, "OLD-TEXT");
        let recent = fixture::meeting(&mut store.conn, "new", base - 300 * DAY, Consent::Plus);
        fixture::fill(&mut store.conn, recent, "RECENT-TEXT");
    }
    let clock = Clock::tokio(base);
    let config = Arc::new(Config::load(Some(dir.path().to_path_buf())).unwrap());
    let mut o = runner::Options::new(dir.path().to_path_buf(), config, Role::Worker);
    o.clock = clock;
    o.poll = Duration::from_secs(600);
    o.kinds.register(Arc::new(RetentionJob::on(clock)));
    let handle = runner::spawn(o).unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
    let titles = |dir: &std::path::Path| -> Vec<String> {
        let store = Store::open(dir).unwrap();
        store
            .conn
            .prepare("SELECT uid FROM meetings ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(titles(dir.path()), ["new"]);
    // 66 days on, the other one's year is up too.
    tokio::time::sleep(Duration::from_secs(66 * 86_400)).await;
    assert!(titles(dir.path()).is_empty());
    handle.shutdown().await.unwrap();
    let store = Store::open(dir.path()).unwrap();
    let audits = crate::store::audit::actions(&store.conn).unwrap();
    let forgets = audits.iter().filter(|(a, _)| a == "meeting forget").count();
    assert_eq!(forgets, 2);
    let notes: i64 = store
        .conn
        .query_row("SELECT count(*) FROM meeting_notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(notes, 0);
    // Scrubbed: no text of them left in the database file.
    let bytes = std::fs::read(dir.path().join(crate::store::DB_FILE)).unwrap();
    for text in ["OLD-TEXT", "RECENT-TEXT"] {
        assert!(
            !bytes.windows(text.len()).any(|w| w == text.as_bytes()),
            "{text} is still in the file"
        );
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_backup_is_written_each_day_at_three_and_the_newest_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    // Midnight UTC.
    let base = 1_800_057_600_000;
    assert_eq!(base % DAY, 0);
    {
        let mut store = Store::open(dir.path()).unwrap();
        fixture::meeting(&mut store.conn, "kept", base, Consent::Plus);
    }
    let clock = Clock::tokio(base);
    let mut config = Config::load(Some(dir.path().to_path_buf())).unwrap();
    config.meetings.backups_keep = 2;
    let mut o = runner::Options::new(dir.path().to_path_buf(), Arc::new(config), Role::Worker);
    o.clock = clock;
    o.poll = Duration::from_secs(600);
    o.kinds.register(Arc::new(BackupJob::on(clock)));
    let handle = runner::spawn(o).unwrap();
    let copies = |dir: &std::path::Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.join("backups"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    tokio::time::sleep(Duration::from_secs(2 * 3600)).await;
    assert!(copies(dir.path()).is_empty(), "not before 03:00");
    tokio::time::sleep(Duration::from_secs(2 * 3600)).await;
    assert_eq!(copies(dir.path()).len(), 1);
    tokio::time::sleep(Duration::from_secs(3 * 86_400)).await;
    handle.shutdown().await.unwrap();
    let names = copies(dir.path());
    assert_eq!(names.len(), 2, "{names:?}");
    // Each is a whole store with the meeting in it.
    let last = dir.path().join("backups").join(&names[1]);
    assert!(crate::store::backup::check(&last).is_ok());
    let conn = rusqlite::Connection::open(&last).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM meetings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}
