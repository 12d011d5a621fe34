//! Feeds, pages and plain text read into comparable lines; a watch's
//! versions through real `watch` jobs against a local server, failures to
//! the dead letter with their cause; pages in another charset; the
//! routine's period; the summaries of changes through real
//! `watch-summary` jobs against a local server speaking the Chat
//! Completions stream.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::ai::ask::Env;
use crate::ai::client::tests::{Answer, chat, serve};
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

/// A page served with `content_type`, its body as raw bytes.
fn serve_bytes(body: Vec<u8>, content_type: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    url
}

/// A `[ai] provider = "compat"` config, and an environment whose compatible
/// server is `url` (`None`: no provider can be asked).
fn setup(dir: &std::path::Path, url: Option<&str>) -> (Config, Env) {
    let mut config = Config::load(Some(dir.to_path_buf())).unwrap();
    config.config_dir = None;
    let env: Env = match url {
        Some(url) => {
            config.ai.provider = "compat".into();
            let base = format!("{url}/v1");
            Arc::new(move |name: &str| (name == "KOLLEGA_COMPAT_BASE_URL").then(|| base.clone()))
        }
        None => Arc::new(|_: &str| None),
    };
    (config, env)
}

/// Enqueues `new` and runs it to its end with the watch kinds reading `env`.
async fn run_with(
    dir: &std::path::Path,
    new: crate::store::jobs::NewJob,
    config: &Config,
    env: &Env,
) -> queue::Job {
    let job = {
        let mut store = Store::open(dir).unwrap();
        queue::enqueue(&mut store.conn, &new, now_ms()).unwrap()
    };
    run_existing(dir, job, config, env).await
}

/// Runs the queued job `job` to its end.
async fn run_existing(dir: &std::path::Path, job: i64, config: &Config, env: &Env) -> queue::Job {
    let mut o = runner::Options::new(dir.to_path_buf(), Arc::new(config.clone()), Role::Worker);
    o.only = Some(job);
    o.run_schedules = false;
    o.routines = false;
    o.parallel = 1;
    o.poll = Duration::from_millis(20);
    let tuning = crate::meetings::model::Tuning {
        timeouts: crate::ai::client::Timeouts {
            connect: Duration::from_secs(5),
            idle: Duration::from_secs(5),
        },
        max_output_tokens: 1024,
    };
    o.kinds.register(Arc::new(WatchJob::with(env.clone())));
    o.kinds
        .register(Arc::new(SummaryJob::with(env.clone(), tuning)));
    let handle = runner::spawn(o).unwrap();
    tokio::time::timeout(Duration::from_secs(60), handle.wait())
        .await
        .expect("the job ends")
        .unwrap();
    queue::require(&Store::open(dir).unwrap().conn, job).unwrap()
}

fn fetch_job(id: i64) -> crate::store::jobs::NewJob {
    let mut new = WatchPayload { watch: id }.job(None);
    new.max_attempts = 1;
    new
}

const PAGE_1: &str = "<!DOCTYPE html><html><body><h1>Rule 7</h1><p>Fees: 10 EUR.</p></body></html>";
const PAGE_2: &str = "<!DOCTYPE html><html><body><h1>Rule 7</h1><p>Fees: 12 EUR from 1 March 2027.</p></body></html>";
const SUMMARY: &str = "The fee for Rule 7 rises from 10 EUR to 12 EUR.\nTeams paying it must budget 12 EUR from 1 March 2027.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_summarized_watch_has_each_change_summarized_and_the_call_recorded() {
    let (page, _) = serve(vec![Answer::error(200, PAGE_1), Answer::error(200, PAGE_2)]);
    let (provider, asked) = serve(vec![chat(SUMMARY)]);
    let dir = tempfile::tempdir().unwrap();
    let (config, env) = setup(dir.path(), Some(&provider));
    let id = {
        let store = Store::open(dir.path()).unwrap();
        let id = watches::add(
            &store.conn,
            &format!("{page}/rule-7?session=s3cr3t"),
            3600,
            0,
        )
        .unwrap()
        .unwrap();
        assert!(watches::set_summarize(&store.conn, id, true).unwrap());
        id
    };
    // The first version has nothing to compare with: no summary asked.
    let first = run_with(dir.path(), fetch_job(id), &config, &env).await;
    assert_eq!(first.status, Status::Succeeded, "{:?}", first.error);
    assert_eq!(first.result.clone().unwrap()["summaryJob"], Value::Null);
    let second = run_with(dir.path(), fetch_job(id), &config, &env).await;
    assert_eq!(second.status, Status::Succeeded, "{:?}", second.error);
    let summary_job = second.result.clone().unwrap()["summaryJob"]
        .as_i64()
        .expect("a summary job is queued");
    assert!(
        asked.lock().unwrap().is_empty(),
        "the fetch asks no model itself"
    );

    let summarized = run_existing(dir.path(), summary_job, &config, &env).await;
    assert_eq!(summarized.kind.to_string(), "watch-summary");
    assert_eq!(
        summarized.status,
        Status::Succeeded,
        "{:?}",
        summarized.error
    );
    let seen: Vec<_> = asked.lock().unwrap().drain(..).collect();
    assert_eq!(seen.len(), 1);
    let body = &seen[0].body;
    assert!(body.contains("+Fees: 12 EUR from 1 March 2027."), "{body}");
    assert!(body.contains("-Fees: 10 EUR."), "{body}");
    assert!(
        body.contains("may oblige a team"),
        "the instructions: {body}"
    );
    assert!(
        !body.contains("s3cr3t"),
        "the address's query stays home: {body}"
    );

    let store = Store::open(dir.path()).unwrap();
    let versions = watches::versions(&store.conn, id).unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].summary, None);
    assert_eq!(versions[1].summary.as_deref(), Some(SUMMARY));
    let call = versions[1]
        .summary_call
        .clone()
        .expect("the call is recorded");
    assert_eq!(
        (
            call.provider.as_str(),
            call.prompt_version.as_str(),
            call.input_tokens,
            call.output_tokens
        ),
        ("compat", "watch/summary.v1", 1000, 200)
    );
    assert!(call.cost_micros.is_some_and(|c| c > 0), "{call:?}");
    let (outcome, job_id, duration): (String, i64, i64) = store
        .conn
        .query_row(
            "SELECT outcome, job_id, duration_ms FROM ai_calls WHERE id = ?1",
            [call.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((outcome.as_str(), job_id), ("ok", summary_job));
    assert!(duration >= 0);
    let linked: i64 = store
        .conn
        .query_row("SELECT count(*) FROM meeting_ai_calls", [], |r| r.get(0))
        .unwrap();
    assert_eq!(linked, 0, "a watch's call is no meeting's");
    // What `kollega watch show` prints of it.
    let shown = crate::cli::watch::version_lines(&versions[1]).join("\n");
    assert!(
        shown.contains("summary of the change (compat gpt-4o-mini, watch/summary.v1):"),
        "{shown}"
    );
    assert!(
        shown.contains("      Teams paying it must budget 12 EUR from 1 March 2027."),
        "{shown}"
    );
    assert!(
        !crate::cli::watch::version_lines(&versions[0])
            .join("\n")
            .contains("summary")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_summarize_or_without_a_provider_no_model_is_asked() {
    let (page, _) = serve(vec![
        Answer::error(200, PAGE_1),
        Answer::error(200, PAGE_2),
        Answer::error(200, PAGE_1),
        Answer::error(200, PAGE_2),
    ]);
    let (provider, asked) = serve(vec![chat(SUMMARY)]);
    let dir = tempfile::tempdir().unwrap();
    let (config, env) = setup(dir.path(), Some(&provider));
    let (plain, keyless) = {
        let store = Store::open(dir.path()).unwrap();
        let plain = watches::add(&store.conn, &format!("{page}/a"), 3600, 0)
            .unwrap()
            .unwrap();
        let keyless = watches::add(&store.conn, &format!("{page}/b"), 3600, 0)
            .unwrap()
            .unwrap();
        watches::set_summarize(&store.conn, keyless, true).unwrap();
        (plain, keyless)
    };
    for _ in 0..2 {
        let job = run_with(dir.path(), fetch_job(plain), &config, &env).await;
        assert_eq!(job.status, Status::Succeeded, "{:?}", job.error);
        assert_eq!(job.result.unwrap()["summaryJob"], Value::Null);
    }
    // Summaries on, but the provider [ai] names (openai) has no key.
    let (no_provider, no_env) = setup(dir.path(), None);
    for _ in 0..2 {
        let job = run_with(dir.path(), fetch_job(keyless), &no_provider, &no_env).await;
        assert_eq!(job.status, Status::Succeeded, "{:?}", job.error);
        assert_eq!(job.result.unwrap()["summaryJob"], Value::Null);
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(watches::versions(&store.conn, plain).unwrap().len(), 2);
    assert_eq!(watches::versions(&store.conn, keyless).unwrap().len(), 2);
    let queued: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM jobs WHERE kind = 'watch-summary'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(queued, 0);
    assert!(asked.lock().unwrap().is_empty(), "no model was asked");
    let calls: i64 = store
        .conn
        .query_row("SELECT count(*) FROM ai_calls", [], |r| r.get(0))
        .unwrap();
    assert_eq!(calls, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_provider_error_fails_the_summary_clearly_and_stores_none() {
    let quota = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
    let (provider, asked) = serve(vec![Answer::error(429, quota)]);
    let dir = tempfile::tempdir().unwrap();
    let (config, env) = setup(dir.path(), Some(&provider));
    let (id, version) = {
        let store = Store::open(dir.path()).unwrap();
        let id = watches::add(&store.conn, "https://ex.gov/rules", 3600, 0)
            .unwrap()
            .unwrap();
        watches::add_version(&store.conn, id, "a\n", &hash("a\n"), 1).unwrap();
        let v = watches::add_version(&store.conn, id, "b\n", &hash("b\n"), 2)
            .unwrap()
            .unwrap();
        (id, v)
    };
    let payload = SummaryPayload {
        watch: id,
        version,
        provider: None,
        model: None,
    };
    let job = run_with(dir.path(), payload.job(None), &config, &env).await;
    assert_eq!(job.status, Status::Dead);
    assert_eq!(job.attempt, 1, "not retried");
    let error = job.error.unwrap_or_default();
    assert!(error.contains("quota"), "{error}");
    assert!(error.contains("add credit"), "says what to do: {error}");
    assert_eq!(asked.lock().unwrap().len(), 1);
    let store = Store::open(dir.path()).unwrap();
    let versions = watches::versions(&store.conn, id).unwrap();
    assert_eq!(versions[1].summary, None);
    let outcome: String = store
        .conn
        .query_row("SELECT outcome FROM ai_calls", [], |r| r.get(0))
        .unwrap();
    assert_eq!(outcome, "quota");

    // A first version has no change to summarize: said, nothing asked.
    let first = SummaryPayload {
        watch: id,
        version: versions[0].id,
        provider: None,
        model: None,
    };
    let job = run_with(dir.path(), first.job(None), &config, &env).await;
    assert_eq!(job.status, Status::Dead);
    assert!(
        job.error
            .unwrap_or_default()
            .contains("no change to summarize"),
        "a first version"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_provider_failure_is_retried_by_the_jobs_engine() {
    let (provider, asked) = serve(vec![
        Answer::error(503, r#"{"error":{"message":"busy"}}"#),
        chat(SUMMARY),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let (config, env) = setup(dir.path(), Some(&provider));
    let (id, version) = {
        let store = Store::open(dir.path()).unwrap();
        let id = watches::add(&store.conn, "https://ex.gov/rules", 3600, 0)
            .unwrap()
            .unwrap();
        watches::add_version(&store.conn, id, "a\n", &hash("a\n"), 1).unwrap();
        let v = watches::add_version(&store.conn, id, "b\n", &hash("b\n"), 2)
            .unwrap()
            .unwrap();
        (id, v)
    };
    let payload = SummaryPayload {
        watch: id,
        version,
        provider: None,
        model: None,
    };
    let job = run_with(dir.path(), payload.job(None), &config, &env).await;
    assert_eq!(job.status, Status::Succeeded, "{:?}", job.error);
    assert_eq!(job.attempt, 2, "the 503 was tried again");
    assert_eq!(asked.lock().unwrap().len(), 2);
    let store = Store::open(dir.path()).unwrap();
    let versions = watches::versions(&store.conn, id).unwrap();
    assert_eq!(versions[1].summary.as_deref(), Some(SUMMARY));
    let outcomes: Vec<String> = store
        .conn
        .prepare("SELECT outcome FROM ai_calls ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(outcomes.len(), 2, "both tries are recorded: {outcomes:?}");
    assert_ne!(outcomes[0], "ok");
    assert_eq!(outcomes[1], "ok");
}

#[test]
fn a_long_diff_is_cut_to_the_budget_and_says_so() {
    let diff: String = (0..100).map(|i| format!("+line {i}\n")).collect();
    let (whole, cut) = summary::request("https://ex.gov/r?k=1", &diff, 10_000);
    assert!(!cut);
    assert!(
        whole.starts_with("Watched page: https://ex.gov/…\n"),
        "{whole}"
    );
    assert!(whole.contains("+line 99\n"));
    let (part, cut) = summary::request("https://ex.gov/r", &diff, 300);
    assert!(cut);
    assert!(part.len() < 300 + 200, "{}", part.len());
    assert!(part.contains("+line 0\n"));
    assert!(!part.contains("+line 99"));
    assert!(part.contains("of its 100 lines were left out"), "{part}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_error_carries_its_cause_without_the_addresss_secrets() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let (config, env) = setup(dir.path(), None);
    let id = {
        let store = Store::open(dir.path()).unwrap();
        watches::add(
            &store.conn,
            &format!("http://me:pw-s3cret@127.0.0.1:{port}/feed?token=tok-s3cret"),
            3600,
            0,
        )
        .unwrap()
        .unwrap()
    };
    let job = run_with(dir.path(), fetch_job(id), &config, &env).await;
    assert_eq!(job.status, Status::Dead);
    let error = job.error.unwrap_or_default();
    assert!(
        error.to_lowercase().contains("connection refused"),
        "{error}"
    );
    assert!(!error.contains("s3cret"), "{error}");
    let store = Store::open(dir.path()).unwrap();
    let last = watches::get(&store.conn, id).unwrap().unwrap().last_error;
    let last = last.unwrap_or_default();
    assert!(last.to_lowercase().contains("connection refused"), "{last}");
    assert!(!last.contains("s3cret"), "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latin1_page_is_read_by_its_charset_and_stored() {
    let page = b"<!DOCTYPE html><html><body><p>Geb\xfchren: 10 \x80</p></body></html>".to_vec();
    let url = serve_bytes(page, "text/html; charset=ISO-8859-1");
    let dir = tempfile::tempdir().unwrap();
    let (config, env) = setup(dir.path(), None);
    let id = {
        let store = Store::open(dir.path()).unwrap();
        watches::add(&store.conn, &format!("{url}/fees"), 3600, 0)
            .unwrap()
            .unwrap()
    };
    let job = run_with(dir.path(), fetch_job(id), &config, &env).await;
    assert_eq!(job.status, Status::Succeeded, "{:?}", job.error);
    let store = Store::open(dir.path()).unwrap();
    let versions = watches::versions(&store.conn, id).unwrap();
    assert_eq!(versions[0].content, "Gebühren: 10 €\n");
}
