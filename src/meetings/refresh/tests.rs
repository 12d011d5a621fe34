use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::jobs::Status;
use crate::jobs::kinds::Registry;
use crate::jobs::queue;
use crate::store::Store;

const CALENDAR: &str = include_str!("../../../tests/fixtures/ics/weekly_stockholm.ics");

/// 2026-10-01 00:00 UTC: the fixture's series is within the horizon.
fn clock() -> i64 {
    1_790_812_800_000
}

/// What the server answers, and what it was asked.
#[derive(Default)]
struct State {
    body: String,
    etag: String,
    /// Answer this status instead of the calendar.
    fail: Option<u16>,
    /// The If-None-Match and If-Modified-Since of each request.
    asked: Vec<(Option<String>, Option<String>)>,
}

/// A calendar server on 127.0.0.1 that honours If-None-Match.
struct Server {
    url: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start(body: &str) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/secret/basic.ics", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            body: body.to_string(),
            etag: "\"v1\"".into(),
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let (mut etag, mut since) = (None, None);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        let value = Some(value.trim().to_string());
                        if name.eq_ignore_ascii_case("if-none-match") {
                            etag = value;
                        } else if name.eq_ignore_ascii_case("if-modified-since") {
                            since = value;
                        }
                    }
                }
                let mut s = shared.lock().unwrap();
                let response = if let Some(code) = s.fail {
                    format!(
                        "HTTP/1.1 {code} Oops\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    )
                } else if etag.as_deref() == Some(s.etag.as_str()) {
                    format!(
                        "HTTP/1.1 304 Not Modified\r\netag: {}\r\nconnection: close\r\n\r\n",
                        s.etag
                    )
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/calendar\r\netag: {}\r\n\
                         last-modified: Wed, 30 Sep 2026 08:00:00 GMT\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{}",
                        s.etag,
                        s.body.len(),
                        s.body
                    )
                };
                s.asked.push((etag, since));
                drop(s);
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Server { url, state }
    }
}

/// A store with `server`'s calendar subscribed, its first refresh queued.
async fn subscribed(dir: &std::path::Path, server: &Server) -> (Db, CalendarRow, i64) {
    let mut store = Store::open(dir).unwrap();
    let tz = chrono_tz::Europe::Stockholm;
    let report = import::import_url(&mut store.conn, &server.url, tz, clock())
        .await
        .unwrap();
    assert!(report.counts.imported >= 6, "{report:?}");
    let row = calendar::calendar(&store.conn, report.counts.calendar)
        .unwrap()
        .unwrap();
    let job = schedule_next(&mut store.conn, &row, clock(), None)
        .unwrap()
        .unwrap();
    (Db::new(store), row, job)
}

async fn with_store<T: Send + 'static>(
    db: &Db,
    f: impl FnOnce(&mut Store) -> T + Send + 'static,
) -> T {
    db.call(move |s| Ok(f(s))).await.unwrap()
}

async fn row(db: &Db, id: i64) -> CalendarRow {
    with_store(db, move |s| {
        calendar::calendar(&s.conn, id).unwrap().unwrap()
    })
    .await
}

async fn titles(db: &Db) -> Vec<String> {
    with_store(db, |s| {
        crate::store::meetings::between(&s.conn, 0, i64::MAX)
            .unwrap()
            .into_iter()
            .map(|m| m.title)
            .collect()
    })
    .await
}

async fn pending(db: &Db, id: i64, except: i64) -> Option<crate::jobs::queue::Job> {
    with_store(db, move |s| {
        calendar::pending_job(&s.conn, CALENDAR_REFRESH, id, Some(except))
            .unwrap()
            .map(|job| queue::require(&s.conn, job).unwrap())
    })
    .await
}

fn attempt(job: i64, last_try: bool) -> Attempt {
    Attempt { job, last_try }
}

#[tokio::test]
async fn a_refresh_asks_conditionally_keeps_data_on_304_and_queues_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(CALENDAR);
    let (db, cal, first_job) = subscribed(dir.path(), &server).await;
    assert_eq!(cal.etag.as_deref(), Some("\"v1\""));
    let before = titles(&db).await;

    // One refresh waits at a time, due the interval after the import.
    let again = with_store(&db, move |s| {
        let row = calendar::calendar(&s.conn, cal.id).unwrap().unwrap();
        schedule_next(&mut s.conn, &row, clock(), None).unwrap()
    })
    .await;
    assert_eq!(again, Some(first_job));
    let job = with_store(&db, move |s| queue::require(&s.conn, first_job).unwrap()).await;
    assert_eq!(job.kind, JobKind::Other(CALENDAR_REFRESH.into()));
    assert_eq!(job.next_run_at, clock() + DEFAULT_REFRESH_S * 1000);
    assert_eq!(job.max_attempts, MAX_ATTEMPTS);

    // The refresh sends the ETag and Last-Modified back: 304 keeps all.
    let tz = chrono_tz::Europe::Stockholm;
    let done = refresh(&db, cal.id, attempt(first_job, false), tz, clock)
        .await
        .unwrap();
    assert_eq!(done["notModified"], true, "{done}");
    assert_eq!(
        server.state.lock().unwrap().asked.last().unwrap(),
        &(
            Some("\"v1\"".to_string()),
            Some("Wed, 30 Sep 2026 08:00:00 GMT".to_string())
        )
    );
    assert_eq!(titles(&db).await, before);
    let next = pending(&db, cal.id, first_job).await.unwrap();
    assert_eq!(done["nextJob"], next.id);
    assert_eq!(next.next_run_at, clock() + DEFAULT_REFRESH_S * 1000);

    // The calendar changes on the server: a new ETag, the new title stored.
    {
        let mut s = server.state.lock().unwrap();
        s.body = CALENDAR.replace(
            "SUMMARY:Weekly sync (moved)",
            "SUMMARY:Weekly sync (room 5)",
        );
        s.etag = "\"v2\"".into();
    }
    let done = refresh(&db, cal.id, attempt(next.id, false), tz, clock)
        .await
        .unwrap();
    assert_eq!(
        (done["notModified"].clone(), done["updated"].clone()),
        (false.into(), 1.into()),
        "{done}"
    );
    assert!(
        titles(&db)
            .await
            .contains(&"Weekly sync (room 5)".to_string())
    );
    assert_eq!(row(&db, cal.id).await.etag.as_deref(), Some("\"v2\""));
}

#[tokio::test]
async fn a_failed_refresh_is_recorded_retried_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(CALENDAR);
    let (db, cal, job) = subscribed(dir.path(), &server).await;
    let before = titles(&db).await;
    let tz = chrono_tz::Europe::Stockholm;

    // A 500: a transient error for the engine to retry; the failure is on
    // the calendar row, the meetings stay, no other refresh is queued.
    server.state.lock().unwrap().fail = Some(500);
    let e = refresh(&db, cal.id, attempt(job, false), tz, clock)
        .await
        .unwrap_err();
    assert_eq!(e.class, crate::jobs::ErrorClass::Transient, "{e}");
    assert!(e.message.contains("500"), "{e}");
    let failed = row(&db, cal.id).await;
    assert!(failed.last_error.unwrap().contains("500"));
    assert_eq!(
        failed.etag.as_deref(),
        Some("\"v1\""),
        "the last good answer's ETag stays"
    );
    assert_eq!(titles(&db).await, before);
    assert!(pending(&db, cal.id, job).await.is_none());

    // The last attempt fails too: the next regular refresh is queued.
    let e = refresh(&db, cal.id, attempt(job, true), tz, clock)
        .await
        .unwrap_err();
    assert!(e.message.contains("next refresh (job"), "{e}");
    let next = pending(&db, cal.id, job).await.unwrap();
    assert_eq!(next.next_run_at, clock() + DEFAULT_REFRESH_S * 1000);

    // The server is back: the refresh succeeds and the error is cleared.
    server.state.lock().unwrap().fail = None;
    let done = refresh(&db, cal.id, attempt(next.id, false), tz, clock)
        .await
        .unwrap();
    assert_eq!(done["notModified"], true, "{done}");
    assert_eq!(row(&db, cal.id).await.last_error, None);

    // A calendar that does not parse is not retried soon: the error is
    // permanent, recorded, and the next regular refresh is queued.
    {
        let mut s = server.state.lock().unwrap();
        s.body = "BEGIN:VCALENDAR\r\nSUMMARY no colon\r\nEND:VCALENDAR\r\n".into();
        s.etag = "\"broken\"".into();
    }
    let following = pending(&db, cal.id, next.id).await.unwrap();
    let e = refresh(&db, cal.id, attempt(following.id, false), tz, clock)
        .await
        .unwrap_err();
    assert_eq!(e.class, crate::jobs::ErrorClass::Permanent, "{e}");
    assert!(e.message.contains("line 2"), "{e}");
    assert!(
        row(&db, cal.id)
            .await
            .last_error
            .unwrap()
            .contains("line 2")
    );
    assert!(pending(&db, cal.id, following.id).await.is_some());
    assert_eq!(titles(&db).await, before);
}

#[tokio::test]
async fn a_removed_calendar_or_a_file_is_not_refreshed() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::new(Store::open(dir.path()).unwrap());
    let tz = chrono_tz::UTC;
    let done = refresh(&db, 42, attempt(1, false), tz, clock)
        .await
        .unwrap();
    assert_eq!(done["removed"], true);

    let file = dir.path().join("cal.ics");
    std::fs::write(&file, CALENDAR).unwrap();
    let id = with_store(&db, move |s| {
        import::import_file(&mut s.conn, &file, tz, clock())
            .unwrap()
            .counts
            .calendar
    })
    .await;
    let row = row(&db, id).await;
    let queued = with_store(&db, move |s| {
        schedule_next(&mut s.conn, &row, clock(), None).unwrap()
    })
    .await;
    assert_eq!(queued, None, "a file is imported, not subscribed");
    let e = refresh(&db, id, attempt(1, false), tz, clock)
        .await
        .unwrap_err();
    assert_eq!(e.class, crate::jobs::ErrorClass::Permanent, "{e}");
}

#[tokio::test]
async fn the_jobs_engine_runs_a_refresh_and_records_a_failure_for_retry() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(CALENDAR);
    let (db, cal, _) = subscribed(dir.path(), &server).await;
    drop(db);
    server.state.lock().unwrap().fail = Some(503);
    assert!(
        Registry::standard()
            .names()
            .contains(&CALENDAR_REFRESH.to_string())
    );
    // A refresh due now, run by a worker as `kollega worker` runs it.
    let id = {
        let mut store = Store::open(dir.path()).unwrap();
        let mut job = RefreshPayload { calendar: cal.id }.job(None);
        job.max_attempts = MAX_ATTEMPTS;
        queue::enqueue(&mut store.conn, &job, now_ms()).unwrap()
    };
    let config = Arc::new(crate::config::Config::load(Some(dir.path().to_path_buf())).unwrap());
    let mut options = crate::jobs::runner::Options::new(
        dir.path().to_path_buf(),
        config,
        crate::jobs::queue::Role::Worker,
    );
    options.poll = Duration::from_millis(20);
    let handle = crate::jobs::runner::spawn(options).unwrap();
    let mut job = None;
    for _ in 0..500 {
        let j = queue::require(&Store::open(dir.path()).unwrap().conn, id).unwrap();
        if j.status == Status::Retrying {
            job = Some(j);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.shutdown().await.unwrap();
    let job = job.expect("the refresh never failed over to retrying");
    assert_eq!(job.attempt, 1);
    assert!(job.error.unwrap_or_default().contains("503"));
    let store = Store::open(dir.path()).unwrap();
    let row = calendar::calendar(&store.conn, cal.id).unwrap().unwrap();
    assert!(row.last_error.unwrap().contains("503"));
}

#[tokio::test]
async fn a_cancelled_refresh_is_queued_again_by_the_routines_at_its_regular_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(CALENDAR);
    let (db, cal, first_job) = subscribed(dir.path(), &server).await;
    let fetched = cal.last_fetched_at.unwrap();
    let config = crate::config::MeetingsConfig::default();
    let (again, twice, job) = with_store(&db, move |s| {
        crate::store::jobs::request_cancel(&mut s.conn, first_job, clock()).unwrap();
        assert_eq!(
            calendar::pending_job(&s.conn, CALENDAR_REFRESH, cal.id, None).unwrap(),
            None
        );
        let now = clock() + 60_000;
        let again = crate::jobs::routine::enqueue_due(&mut s.conn, now, &config).unwrap();
        let twice = crate::jobs::routine::enqueue_due(&mut s.conn, now + 1, &config).unwrap();
        let job = calendar::pending_job(&s.conn, CALENDAR_REFRESH, cal.id, None).unwrap();
        let job = job.map(|id| queue::require(&s.conn, id).unwrap());
        let listed = crate::jobs::routine::list(&s.conn, now, &config).unwrap();
        let listed = listed
            .into_iter()
            .find(|r| r.kind == CALENDAR_REFRESH)
            .unwrap();
        assert_eq!(listed.job_id, job.as_ref().map(|j| j.id));
        assert_eq!(listed.when, "every 30 minutes");
        (again, twice, job)
    })
    .await;
    let job = job.expect("a refresh waits again");
    assert!(again.contains(&job.id), "{again:?}");
    assert!(!twice.contains(&job.id), "one waits at a time: {twice:?}");
    assert_eq!(job.next_run_at, fetched + DEFAULT_REFRESH_S * 1000);
    assert_eq!(job.max_attempts, MAX_ATTEMPTS);
}
