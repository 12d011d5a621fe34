//! Feeds, pages and plain text read into comparable lines; a watch's
//! versions through real `watch` jobs against a local server, failures to
//! the dead letter; the routine's period.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::ai::client::tests::{Answer, serve};
use crate::config::{Config, MeetingsConfig};
use crate::jobs::queue::{self, Role};
use crate::jobs::{Status, now_ms, runner};
use crate::store::Store;

const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
  <title>Official Journal &amp; notices</title>
  <item><title>AI Act: guidelines</title><link>https://ex.eu/1</link><pubDate>Mon, 07 Dec 2026 09:00:00 GMT</pubDate>
    <description><![CDATA[<p>long text</p>]]></description></item>
  <item><title><![CDATA[Data Act & you]]></title><link>https://ex.eu/2</link></item>
</channel></rss>"#;

const ATOM: &str = r#"<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Rules</title>
  <entry><title>Rule 7 amended</title><link href="https://ex.gov/r7"/><updated>2026-12-01T00:00:00Z</updated></entry>
</feed>"#;

#[test]
fn feeds_pages_and_text_become_lines() {
    assert_eq!(
        content(RSS),
        "# Official Journal & notices\n\
         - Mon, 07 Dec 2026 09:00:00 GMT | AI Act: guidelines <https://ex.eu/1>\n\
         - Data Act & you <https://ex.eu/2>\n"
    );
    assert_eq!(
        content(ATOM),
        "# Rules\n- 2026-12-01T00:00:00Z | Rule 7 amended <https://ex.gov/r7>\n"
    );
    let html = "<!DOCTYPE html><html><head><style>p{}</style><script>var x = '<p>';</script>\
                <title>Rule 7</title></head><body><h1>Rule   7</h1><p>Fees: 10&nbsp;EUR &amp; more</p>\
                <ul><li>one</li><li>two</li></ul></body></html>";
    assert_eq!(
        content(html),
        "Rule 7\nRule 7\nFees: 10 EUR & more\none\ntwo\n"
    );
    assert_eq!(content("plain\r\ntext"), "plain\ntext\n");
    // Not a feed after all: kept as text.
    assert_eq!(
        content("<?xml version=\"1.0\"?><note>x</note>"),
        "<?xml version=\"1.0\"?><note>x</note>\n"
    );
    assert!(url_of("ftp://x/y").is_err());
    assert!(url_of("https://ex.gov/rss").is_ok());
    let d = diff("a\nb\n", "a\nc\n", "watch-1");
    assert!(d.contains("-b\n+c\n"), "{d}");
    assert_eq!(diff("a\n", "a\n", "watch-1"), "");
}

/// Runs one `watch` job of watch `id` to its end.
async fn run(dir: &std::path::Path, id: i64, attempts: u32) -> queue::Job {
    let job = {
        let mut store = Store::open(dir).unwrap();
        let mut new = WatchPayload { watch: id }.job(None);
        new.max_attempts = attempts;
        queue::enqueue(&mut store.conn, &new, now_ms()).unwrap()
    };
    let config = Arc::new(Config::load(Some(dir.to_path_buf())).unwrap());
    let mut o = runner::Options::new(dir.to_path_buf(), config, Role::Worker);
    o.only = Some(job);
    o.run_schedules = false;
    o.routines = false;
    o.poll = Duration::from_millis(20);
    let handle = runner::spawn(o).unwrap();
    tokio::time::timeout(Duration::from_secs(60), handle.wait())
        .await
        .expect("the job ends")
        .unwrap();
    queue::require(&Store::open(dir).unwrap().conn, job).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_feed_is_a_new_version_and_failures_are_retried_then_dead() {
    let changed = RSS.replace("AI Act: guidelines", "AI Act: guidelines (corrected)");
    let (url, seen) = serve(vec![
        Answer::error(200, RSS),
        Answer::error(200, RSS),
        Answer::error(200, &changed),
        Answer::error(500, "down"),
        Answer::error(503, "down"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = Store::open(dir.path()).unwrap();
        watches::add(&store.conn, &format!("{url}/feed.rss"), 3600, 0)
            .unwrap()
            .unwrap()
    };
    for _ in 0..3 {
        assert_eq!(run(dir.path(), id, 1).await.status, Status::Succeeded);
    }
    let store = Store::open(dir.path()).unwrap();
    let versions = watches::versions(&store.conn, id).unwrap();
    assert_eq!(versions.len(), 2, "the same content twice is one version");
    let d = diff(&versions[0].content, &versions[1].content, "w");
    assert!(
        d.contains("+- Mon, 07 Dec 2026 09:00:00 GMT | AI Act: guidelines (corrected)"),
        "{d}"
    );
    drop(store);

    let dead = run(dir.path(), id, 2).await;
    assert_eq!(dead.status, Status::Dead);
    let error = dead.error.unwrap_or_default();
    assert!(error.contains("503"), "{error}");
    assert!(error.contains("kollega jobs retry"), "{error}");
    assert_eq!(seen.lock().unwrap().len(), 5);
    let store = Store::open(dir.path()).unwrap();
    let w = watches::get(&store.conn, id).unwrap().unwrap();
    assert!(w.last_error.unwrap_or_default().contains("503"));
    assert_eq!(watches::versions(&store.conn, id).unwrap().len(), 2, "kept");
}

#[test]
fn the_routine_fetches_a_watch_when_its_period_is_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let id = watches::add(&store.conn, "https://ex.gov/rules.rss", 3600, 0)
        .unwrap()
        .unwrap();
    let config = MeetingsConfig::default();
    let kinds = |ids: &[i64], store: &Store| -> Vec<String> {
        ids.iter()
            .map(|j| queue::require(&store.conn, *j).unwrap().kind.to_string())
            .filter(|k| k == WATCH)
            .collect()
    };
    let t = 1_800_000_000_000;
    let ids = crate::jobs::routine::enqueue_due(&mut store.conn, t, &config).unwrap();
    assert_eq!(kinds(&ids, &store), [WATCH]);
    let ids = crate::jobs::routine::enqueue_due(&mut store.conn, t + 60_000, &config).unwrap();
    assert!(kinds(&ids, &store).is_empty(), "not within the hour");
    // Still queued an hour on: none more.
    let ids = crate::jobs::routine::enqueue_due(&mut store.conn, t + 3_600_000, &config).unwrap();
    assert!(kinds(&ids, &store).is_empty(), "one is waiting");
    store
        .conn
        .execute("UPDATE jobs SET status = 'succeeded'", [])
        .unwrap();
    let ids = crate::jobs::routine::enqueue_due(&mut store.conn, t + 7_200_000, &config).unwrap();
    assert_eq!(kinds(&ids, &store), [WATCH]);
    let job = queue::require(&store.conn, ids[ids.len() - 1]).unwrap();
    assert_eq!(job.payload["watch"], id);
}
