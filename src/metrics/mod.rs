//! Metrics: what kollega measures, rendered in the Prometheus text format
//! (`text`) for `kollega metrics` and for the server of `kollega worker
//! --metrics ADDR` (`server`).
//!
//! The figures of jobs are computed from the `jobs` table each time they
//! are rendered. HTTP requests, made (GitHub) or served (the metrics
//! server), are counted with [`record_request`] into `metric_series`
//! (`store::metrics`), one UPSERT per series, so they add up over every
//! process that shares the store.

pub(crate) mod server;
mod text;

use std::collections::BTreeMap;

use rusqlite::Connection;

use crate::store::jobs::Status;
use crate::store::metrics::Buckets;
use crate::store::{self, StoreError};
use text::{Family, Histogram, Kind, labels};

/// Histogram bucket bounds in seconds.
pub(crate) const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0,
];

const HTTP_REQUESTS: &str = "kollega_http_requests_total";
const HTTP_SECONDS: &str = "kollega_http_request_duration_seconds";

/// Counts one outgoing or served HTTP request:
/// `kollega_http_requests_total{service,outcome}` and
/// `kollega_http_request_duration_seconds{service}`. A duration that is
/// negative or not finite counts as zero.
pub(crate) fn record_request(
    conn: &Connection,
    service: &str,
    outcome: &str,
    seconds: f64,
) -> Result<(), StoreError> {
    let seconds = if seconds.is_finite() && seconds > 0.0 {
        seconds
    } else {
        0.0
    };
    store::metrics::count(
        conn,
        HTTP_REQUESTS,
        &labels(&[("outcome", outcome), ("service", service)]),
    )?;
    store::metrics::observe(
        conn,
        HTTP_SECONDS,
        &labels(&[("service", service)]),
        seconds,
        BUCKETS,
    )
}

/// The metrics of the store at `now`, in the text format, families sorted
/// by name and samples by label set.
pub(crate) fn render(conn: &Connection, now: i64) -> Result<String, StoreError> {
    // One read transaction, so the figures agree with each other; inside a
    // caller's transaction that one already does.
    let snapshot = if conn.is_autocommit() {
        Some(conn.unchecked_transaction()?)
    } else {
        None
    };
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    persisted(conn, &mut families)?;
    jobs(conn, now, &mut families)?;
    ai(conn, &mut families)?;
    drop(snapshot);
    Ok(text::write(&families, BUCKETS))
}

/// The series of `metric_series`: counters and histograms.
fn persisted(conn: &Connection, families: &mut BTreeMap<String, Family>) -> Result<(), StoreError> {
    families.insert(
        HTTP_REQUESTS.into(),
        Family::new(
            Kind::Counter,
            "HTTP requests made or served, by service and outcome (a status code or an error).",
        ),
    );
    families.insert(
        HTTP_SECONDS.into(),
        Family::new(
            Kind::Histogram,
            "Duration of HTTP requests made or served, by service.",
        ),
    );
    for series in store::metrics::series(conn)? {
        let store::metrics::Series {
            name,
            labels,
            count,
            sum,
            buckets,
        } = series;
        if !text::valid_name(&name) {
            tracing::warn!(name, "skipped a stored metric series with an invalid name");
            continue;
        }
        let kind = match buckets {
            Buckets::None => Kind::Counter,
            Buckets::Counts(_) | Buckets::Damaged => Kind::Histogram,
        };
        let family = families
            .entry(name.clone())
            .or_insert_with(|| Family::new(kind, &format!("Stored series {name}.")));
        if family.kind != kind {
            tracing::warn!(
                name,
                labels,
                "skipped a stored metric series of another type"
            );
            continue;
        }
        match buckets {
            Buckets::None => {
                family.values.insert(labels, count as f64);
            }
            Buckets::Counts(buckets) if buckets.len() == BUCKETS.len() => {
                family.histograms.insert(
                    labels,
                    Histogram {
                        buckets,
                        count,
                        sum,
                    },
                );
            }
            Buckets::Counts(_) | Buckets::Damaged => {
                tracing::warn!(
                    name,
                    labels,
                    "skipped a stored histogram with damaged buckets"
                );
            }
        }
    }
    Ok(())
}

/// The figures of the `jobs` table.
fn jobs(
    conn: &Connection,
    now: i64,
    families: &mut BTreeMap<String, Family>,
) -> Result<(), StoreError> {
    let mut by_status = Family::new(Kind::Gauge, "Jobs in the store, by kind and status.");
    let mut attempts = Family::new(
        Kind::Counter,
        "Attempts started, summed over the jobs in the store, by kind.",
    );
    let mut dead = 0i64;
    let mut running = 0i64;
    let mut counts: BTreeMap<String, BTreeMap<&'static str, i64>> = BTreeMap::new();
    let mut attempt_sums: BTreeMap<String, f64> = BTreeMap::new();
    for count in store::jobs::counts(conn)? {
        let kind = count.kind.to_string();
        *attempt_sums.entry(kind.clone()).or_default() += count.attempts;
        match count.status {
            Status::Dead => dead += count.jobs,
            Status::Running => running += count.jobs,
            _ => {}
        }
        let per_status = counts
            .entry(kind)
            .or_insert_with(|| Status::ALL.iter().map(|s| (s.as_str(), 0)).collect());
        per_status.insert(count.status.as_str(), count.jobs);
    }
    for (kind, per_status) in &counts {
        for (status, count) in per_status {
            by_status
                .values
                .insert(labels(&[("kind", kind), ("status", status)]), *count as f64);
        }
    }
    for (kind, sum) in &attempt_sums {
        attempts.values.insert(labels(&[("kind", kind)]), *sum);
    }
    families.insert("kollega_jobs".into(), by_status);
    families.insert("kollega_job_attempts_total".into(), attempts);

    let depth = store::jobs::due_count(conn, now)?;
    let mut gauge = |name: &str, help: &str, value: i64| {
        let mut family = Family::new(Kind::Gauge, help);
        family.values.insert(String::new(), value as f64);
        families.insert(name.into(), family);
    };
    gauge(
        "kollega_queue_depth",
        "Queued and retrying jobs whose time to run has come.",
        depth,
    );
    gauge(
        "kollega_jobs_dead",
        "Dead letters: jobs that failed permanently or ran out of attempts.",
        dead,
    );
    gauge("kollega_jobs_running", "Jobs a runner holds now.", running);

    families.insert("kollega_job_run_duration_seconds".into(), durations(conn)?);
    Ok(())
}

/// The figures of the `ai_calls` table: tokens by kind, cost, requests
/// by outcome and their duration, by provider and model.
fn ai(conn: &Connection, families: &mut BTreeMap<String, Family>) -> Result<(), StoreError> {
    let mut tokens = Family::new(
        Kind::Counter,
        "Tokens of model calls, by provider, model and kind (input, output, cached; cached tokens are part of input).",
    );
    let mut cost = Family::new(
        Kind::Counter,
        "What model calls cost in US dollars, by provider and model (calls of unpriced models count zero).",
    );
    let mut requests = Family::new(
        Kind::Counter,
        "HTTP requests to models, by provider, model and outcome.",
    );
    let mut seconds = Family::new(
        Kind::Histogram,
        "Duration of HTTP requests to models, by provider and model.",
    );
    for call in store::ai_calls::figures(conn)? {
        let model = [
            ("model", call.model.as_str()),
            ("provider", call.provider.as_str()),
        ];
        for (kind, n) in [
            ("cached", call.cached_tokens),
            ("input", call.input_tokens),
            ("output", call.output_tokens),
        ] {
            *tokens
                .values
                .entry(labels(&[("kind", kind), model[0], model[1]]))
                .or_default() += n as f64;
        }
        *cost.values.entry(labels(&model)).or_default() +=
            call.cost_micros.unwrap_or(0) as f64 / 1_000_000.0;
        *requests
            .values
            .entry(labels(&[
                model[0],
                ("outcome", call.outcome.as_str()),
                model[1],
            ]))
            .or_default() += 1.0;
        let took = call.duration_ms.max(0) as f64 / 1000.0;
        let h = seconds
            .histograms
            .entry(labels(&model))
            .or_insert_with(|| Histogram {
                buckets: vec![0; BUCKETS.len()],
                count: 0,
                sum: 0.0,
            });
        for (bound, count) in BUCKETS.iter().zip(h.buckets.iter_mut()) {
            if took <= *bound {
                *count += 1;
            }
        }
        h.count += 1;
        h.sum += took;
    }
    families.insert("kollega_ai_tokens_total".into(), tokens);
    families.insert("kollega_ai_cost_dollars_total".into(), cost);
    families.insert("kollega_ai_requests_total".into(), requests);
    families.insert("kollega_ai_request_duration_seconds".into(), seconds);
    Ok(())
}

/// The run time of ended jobs (their last attempt, from start to end).
fn durations(conn: &Connection) -> Result<Family, StoreError> {
    let mut family = Family::new(
        Kind::Histogram,
        "Run time of ended jobs' last attempt, by kind and final status.",
    );
    // Every bound is a whole number of milliseconds.
    let bounds_ms: Vec<i64> = BUCKETS
        .iter()
        .map(|bound| (bound * 1000.0).round() as i64)
        .collect();
    for times in store::jobs::run_times(conn, &bounds_ms)? {
        family.histograms.insert(
            labels(&[
                ("kind", times.kind.as_str()),
                ("status", times.status.as_str()),
            ]),
            Histogram {
                buckets: times.at_most,
                count: times.count,
                sum: times.sum_ms / 1000.0,
            },
        );
    }
    Ok(family)
}

#[cfg(test)]
mod tests {
    use rusqlite::params;

    use super::text::check::{assert_well_formed, value};
    use super::*;
    use crate::store::Store;
    use crate::store::jobs::NewJob;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn assert_histograms_hold_together(text: &str) {
        text::check::assert_histograms_hold_together(text, BUCKETS.len());
    }

    #[test]
    fn an_empty_store_renders_zeros() {
        let (_d, store) = store();
        let text = render(&store.conn, 0).unwrap();
        assert_well_formed(&text);
        let expected = "\
# HELP kollega_ai_cost_dollars_total What model calls cost in US dollars, by provider and model (calls of unpriced models count zero).
# TYPE kollega_ai_cost_dollars_total counter
# HELP kollega_ai_request_duration_seconds Duration of HTTP requests to models, by provider and model.
# TYPE kollega_ai_request_duration_seconds histogram
# HELP kollega_ai_requests_total HTTP requests to models, by provider, model and outcome.
# TYPE kollega_ai_requests_total counter
# HELP kollega_ai_tokens_total Tokens of model calls, by provider, model and kind (input, output, cached; cached tokens are part of input).
# TYPE kollega_ai_tokens_total counter
# HELP kollega_http_request_duration_seconds Duration of HTTP requests made or served, by service.
# TYPE kollega_http_request_duration_seconds histogram
# HELP kollega_http_requests_total HTTP requests made or served, by service and outcome (a status code or an error).
# TYPE kollega_http_requests_total counter
# HELP kollega_job_attempts_total Attempts started, summed over the jobs in the store, by kind.
# TYPE kollega_job_attempts_total counter
# HELP kollega_job_run_duration_seconds Run time of ended jobs' last attempt, by kind and final status.
# TYPE kollega_job_run_duration_seconds histogram
# HELP kollega_jobs Jobs in the store, by kind and status.
# TYPE kollega_jobs gauge
# HELP kollega_jobs_dead Dead letters: jobs that failed permanently or ran out of attempts.
# TYPE kollega_jobs_dead gauge
kollega_jobs_dead 0
# HELP kollega_jobs_running Jobs a runner holds now.
# TYPE kollega_jobs_running gauge
kollega_jobs_running 0
# HELP kollega_queue_depth Queued and retrying jobs whose time to run has come.
# TYPE kollega_queue_depth gauge
kollega_queue_depth 0
";
        assert_eq!(text, expected);
    }

    fn job(store: &mut Store, kind: &str, now: i64) -> i64 {
        let new = NewJob {
            kind: kind.into(),
            workspace: Some("demo".into()),
            payload: serde_json::json!({ "argv": ["true"] }),
            max_attempts: 3,
            ..NewJob::default()
        };
        store::jobs::enqueue(&mut store.conn, &new, now).unwrap()
    }

    /// Puts a job in a status with an attempt count and run times.
    fn set(
        store: &Store,
        id: i64,
        status: &str,
        attempt: i64,
        started: Option<i64>,
        finished: Option<i64>,
    ) {
        store
            .conn
            .execute(
                "UPDATE jobs SET status = ?2, attempt = ?3, started_at = ?4, finished_at = ?5 \
                 WHERE id = ?1",
                params![id, status, attempt, started, finished],
            )
            .unwrap();
    }

    #[test]
    fn jobs_are_counted_by_kind_and_status() {
        let (_d, mut store) = store();
        let now = 1_000_000;
        // Two queued commands, one due later.
        job(&mut store, "command", now);
        let later = job(&mut store, "command", now);
        store
            .conn
            .execute(
                "UPDATE jobs SET next_run_at = ?2 WHERE id = ?1",
                params![later, now + 60_000],
            )
            .unwrap();
        // One retrying command, due.
        let retrying = job(&mut store, "command", now);
        set(
            &store,
            retrying,
            "retrying",
            1,
            Some(now - 10),
            Some(now - 5),
        );
        // Ended commands: 3 ms, 40 ms and 2 s; one cancelled before it ran.
        let a = job(&mut store, "command", now);
        set(&store, a, "succeeded", 1, Some(now), Some(now + 3));
        let b = job(&mut store, "command", now);
        set(&store, b, "succeeded", 2, Some(now), Some(now + 40));
        let c = job(&mut store, "command", now);
        set(&store, c, "failed", 1, Some(now), Some(now + 2000));
        let d = job(&mut store, "command", now);
        set(&store, d, "cancelled", 0, None, Some(now));
        // An export running and one dead after 3 attempts of 10 minutes.
        let e = job(&mut store, "export", now);
        set(&store, e, "running", 1, Some(now), None);
        let f = job(&mut store, "export", now);
        set(&store, f, "dead", 3, Some(now), Some(now + 600_000));

        let text = render(&store.conn, now).unwrap();
        assert_well_formed(&text);
        let jobs = |kind: &str, status: &str| {
            value(
                &text,
                &format!("kollega_jobs{{kind=\"{kind}\",status=\"{status}\"}}"),
            )
        };
        assert_eq!(jobs("command", "queued"), Some(2.0));
        assert_eq!(jobs("command", "retrying"), Some(1.0));
        assert_eq!(jobs("command", "succeeded"), Some(2.0));
        assert_eq!(jobs("command", "failed"), Some(1.0));
        assert_eq!(jobs("command", "cancelled"), Some(1.0));
        assert_eq!(jobs("command", "running"), Some(0.0));
        assert_eq!(jobs("command", "dead"), Some(0.0));
        assert_eq!(jobs("export", "running"), Some(1.0));
        assert_eq!(jobs("export", "dead"), Some(1.0));
        assert_eq!(jobs("export", "queued"), Some(0.0));
        assert_eq!(jobs("import", "queued"), None);
        assert_eq!(jobs("command", "interrupted"), Some(0.0));
        // Every status of both kinds, sorted.
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("kollega_jobs{"))
            .collect();
        assert_eq!(lines.len(), 2 * Status::ALL.len());
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted);

        assert_eq!(value(&text, "kollega_queue_depth"), Some(2.0));
        assert_eq!(value(&text, "kollega_jobs_dead"), Some(1.0));
        assert_eq!(value(&text, "kollega_jobs_running"), Some(1.0));
        assert_eq!(
            value(&text, "kollega_job_attempts_total{kind=\"command\"}"),
            Some(5.0)
        );
        assert_eq!(
            value(&text, "kollega_job_attempts_total{kind=\"export\"}"),
            Some(4.0)
        );

        let run = |labels: &str, le: &str| {
            value(
                &text,
                &format!("kollega_job_run_duration_seconds_bucket{{{labels},le=\"{le}\"}}"),
            )
        };
        let ok = "kind=\"command\",status=\"succeeded\"";
        assert_eq!(run(ok, "0.001"), None);
        assert_eq!(run(ok, "0.005"), Some(1.0));
        assert_eq!(run(ok, "0.025"), Some(1.0));
        assert_eq!(run(ok, "0.05"), Some(2.0));
        assert_eq!(run(ok, "+Inf"), Some(2.0));
        assert_eq!(
            value(
                &text,
                &format!("kollega_job_run_duration_seconds_sum{{{ok}}}")
            ),
            Some(0.043)
        );
        assert_eq!(
            value(
                &text,
                &format!("kollega_job_run_duration_seconds_count{{{ok}}}")
            ),
            Some(2.0)
        );
        let failed = "kind=\"command\",status=\"failed\"";
        assert_eq!(run(failed, "1"), Some(0.0));
        assert_eq!(run(failed, "2.5"), Some(1.0));
        let dead = "kind=\"export\",status=\"dead\"";
        assert_eq!(run(dead, "300"), Some(0.0));
        assert_eq!(run(dead, "1800"), Some(1.0));
        // A job that never started has no run time.
        assert!(!text.contains("status=\"cancelled\"}_"));
        assert!(!text.contains(
            "kollega_job_run_duration_seconds_count{kind=\"command\",status=\"cancelled\"}"
        ));
        assert_histograms_hold_together(&text);
    }

    #[test]
    fn requests_accumulate_in_cumulative_buckets_across_connections() {
        let dir = tempfile::tempdir().unwrap();
        let one = Store::open(dir.path()).unwrap();
        let two = Store::open(dir.path()).unwrap();
        record_request(&one.conn, "github", "200", 0.003).unwrap();
        record_request(&two.conn, "github", "200", 0.2).unwrap();
        record_request(&one.conn, "github", "error", 7200.0).unwrap();
        record_request(&two.conn, "github", "503", 1.0).unwrap();
        record_request(&one.conn, "ollama", "200", -1.0).unwrap();
        record_request(&two.conn, "ollama", "200", f64::NAN).unwrap();

        let text = render(&one.conn, 0).unwrap();
        assert_well_formed(&text);
        assert_histograms_hold_together(&text);
        let requests = |service: &str, outcome: &str| {
            value(
                &text,
                &format!(
                    "kollega_http_requests_total{{outcome=\"{outcome}\",service=\"{service}\"}}"
                ),
            )
        };
        assert_eq!(requests("github", "200"), Some(2.0));
        assert_eq!(requests("github", "error"), Some(1.0));
        assert_eq!(requests("github", "503"), Some(1.0));
        assert_eq!(requests("ollama", "200"), Some(2.0));

        let bucket = |service: &str, le: &str| {
            value(
                &text,
                &format!(
                    "kollega_http_request_duration_seconds_bucket{{service=\"{service}\",le=\"{le}\"}}"
                ),
            )
        };
        assert_eq!(bucket("github", "0.005"), Some(1.0));
        assert_eq!(bucket("github", "0.1"), Some(1.0));
        assert_eq!(bucket("github", "0.25"), Some(2.0));
        assert_eq!(bucket("github", "1"), Some(3.0));
        assert_eq!(bucket("github", "1800"), Some(3.0));
        assert_eq!(bucket("github", "+Inf"), Some(4.0));
        assert_eq!(
            value(
                &text,
                "kollega_http_request_duration_seconds_count{service=\"github\"}"
            ),
            Some(4.0)
        );
        let sum = value(
            &text,
            "kollega_http_request_duration_seconds_sum{service=\"github\"}",
        )
        .unwrap();
        assert!((sum - 7201.203).abs() < 1e-9, "{sum}");
        // Negative and NaN durations count as zero.
        assert_eq!(bucket("ollama", "0.005"), Some(2.0));
        assert_eq!(
            value(
                &text,
                "kollega_http_request_duration_seconds_sum{service=\"ollama\"}"
            ),
            Some(0.0)
        );
        // Both connections see the same text.
        assert_eq!(render(&two.conn, 0).unwrap(), text);
    }

    #[test]
    fn a_histogram_row_that_does_not_fit_starts_over() {
        let (_d, store) = store();
        store
            .conn
            .execute(
                "INSERT INTO metric_series (name, labels, count, sum, buckets) \
                 VALUES (?1, 'service=\"x\"', 9, 9.0, '[1,2]')",
                [HTTP_SECONDS],
            )
            .unwrap();
        let text = render(&store.conn, 0).unwrap();
        assert!(!text.contains("service=\"x\""));
        record_request(&store.conn, "x", "200", 0.5).unwrap();
        let text = render(&store.conn, 0).unwrap();
        assert_eq!(
            value(
                &text,
                "kollega_http_request_duration_seconds_count{service=\"x\"}"
            ),
            Some(1.0)
        );
        assert_histograms_hold_together(&text);
    }

    #[test]
    fn model_calls_are_counted_by_provider_model_and_kind() {
        let (_dir, store) = store();
        for (outcome, cost, ms) in [("ok", Some(1_500), 800), ("rate-limited", None, 40)] {
            let call = crate::store::ai_calls::NewCall {
                workspace_key: Some("ws:a"),
                job_id: None,
                conversation_id: None,
                session: "s",
                provider: "openai",
                model: "gpt-5.1",
                prompt_version: "edit.v1",
                response_id: None,
                input_tokens: 100,
                output_tokens: 20,
                cached_tokens: 60,
                cost_micros: cost,
                duration_ms: ms,
                outcome,
            };
            crate::store::ai_calls::insert(&store.conn, &call, 1).unwrap();
        }
        let text = render(&store.conn, 1).unwrap();
        assert_well_formed(&text);
        assert_histograms_hold_together(&text);
        let at = |series: &str| value(&text, series);
        assert_eq!(
            at("kollega_ai_tokens_total{kind=\"cached\",model=\"gpt-5.1\",provider=\"openai\"}"),
            Some(120.0)
        );
        assert_eq!(
            at(
                "kollega_ai_requests_total{model=\"gpt-5.1\",outcome=\"rate-limited\",provider=\"openai\"}"
            ),
            Some(1.0)
        );
        assert_eq!(
            at("kollega_ai_cost_dollars_total{model=\"gpt-5.1\",provider=\"openai\"}"),
            Some(0.0015)
        );
        assert_eq!(
            at(
                "kollega_ai_request_duration_seconds_bucket{model=\"gpt-5.1\",provider=\"openai\",le=\"0.05\"}"
            ),
            Some(1.0)
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let (_d, mut store) = store();
        record_request(&store.conn, "a\"b\\c\nd", "ok", 0.01).unwrap();
        job(&mut store, "we\"ird\\kind\n", 0);
        let text = render(&store.conn, 0).unwrap();
        assert_well_formed(&text);
        assert!(text.contains(
            "kollega_http_requests_total{outcome=\"ok\",service=\"a\\\"b\\\\c\\nd\"} 1\n"
        ));
        assert!(text.contains(
            "kollega_http_request_duration_seconds_bucket{service=\"a\\\"b\\\\c\\nd\",le=\"0.01\"} 1\n"
        ));
        assert!(text.contains("kollega_jobs{kind=\"we\\\"ird\\\\kind\\n\",status=\"queued\"} 1\n"));
    }
}
