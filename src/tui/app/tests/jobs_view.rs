//! The jobs view through the harness: the list and the log as the store
//! holds them, the keys that change jobs, and what the runner reports.

use super::*;
use crate::jobs::queue::{self as job_queue, NewJob, Outcome as JobOutcome, Stream};
use crate::jobs::{JobError, Status};

/// Milliseconds the seeded jobs start at: 2026-01-02T03:04:05Z.
const T0: i64 = 1_767_323_045_000;

fn command_job(argv: &str) -> NewJob {
    NewJob {
        kind: "command".into(),
        workspace: Some("shop".into()),
        payload: serde_json::json!({ "argv": [argv] }),
        max_attempts: 3,
        ..NewJob::default()
    }
}

/// Jobs in every status, one running at 40% with a coloured log.
fn seed_jobs(data: &Path) -> i64 {
    let mut store = Store::open(data).unwrap();
    let c = &mut store.conn;
    let owner = "tui:host:1:1";
    let ok = job_queue::enqueue(c, &command_job("npm test"), T0).unwrap();
    job_queue::claim_id(c, ok, owner, T0 + 1_000, 30_000).unwrap();
    job_queue::finish(
        c,
        ok,
        owner,
        &JobOutcome::Succeeded(serde_json::json!({})),
        T0 + 13_300,
    )
    .unwrap();
    let failed = job_queue::enqueue(c, &command_job("npm run lint"), T0).unwrap();
    job_queue::claim_id(c, failed, owner, T0 + 2_000, 30_000).unwrap();
    let exit =
        JobError::failed("exited with code 1").with_program(crate::jobs::ProgramEnd::exited(1));
    job_queue::finish(c, failed, owner, &JobOutcome::Error(exit), T0 + 4_500).unwrap();
    let push = job_queue::enqueue(
        c,
        &NewJob {
            kind: "git-push".into(),
            workspace: Some("shop".into()),
            payload: serde_json::json!({}),
            max_attempts: 4,
            ..NewJob::default()
        },
        T0,
    )
    .unwrap();
    job_queue::claim_id(c, push, owner, T0 + 3_000, 30_000).unwrap();
    job_queue::finish(
        c,
        push,
        owner,
        &JobOutcome::Error(JobError::permanent(
            "exited with code 128: Permission denied",
        )),
        T0 + 3_800,
    )
    .unwrap();
    let retrying = job_queue::enqueue(c, &command_job("curl https://example.com"), T0).unwrap();
    job_queue::claim_id(c, retrying, owner, T0 + 5_000, 30_000).unwrap();
    job_queue::finish(
        c,
        retrying,
        owner,
        &JobOutcome::Error(JobError::transient("connection reset")),
        T0 + 6_000,
    )
    .unwrap();
    let cancelled = job_queue::enqueue(c, &command_job("sleep 100"), T0 + 7_000).unwrap();
    job_queue::request_cancel(c, cancelled, T0 + 8_000).unwrap();
    job_queue::enqueue(c, &command_job("make deploy"), T0 + 9_000).unwrap();
    let running =
        job_queue::enqueue(c, &command_job("cargo build --release"), T0 + 10_000).unwrap();
    job_queue::claim_id(c, running, owner, T0 + 10_000, 30_000).unwrap();
    job_queue::set_progress(c, running, owner, 40, T0 + 20_000).unwrap();
    let lines: Vec<(Stream, i64, String)> = [
        "\x1b[1m   Compiling\x1b[0m kollega v0.1.0",
        "\x1b[1;33mwarning\x1b[0m: unused variable: `x`",
        "\x1b[1;31merror\x1b[0m[E0308]: mismatched types",
        "\tsrc/main.rs:12:5",
        "\x1b]0;window title\x07\x1b[2Kprogress 40%",
        "\x1b[32mok\x1b[0m: the error above is fixed",
    ]
    .iter()
    .map(|l| (Stream::Stdout, T0 + 11_000, l.to_string()))
    .collect();
    let tx = c.transaction().unwrap();
    job_queue::append_logs(&tx, running, 1, &lines, 0, 2000).unwrap();
    tx.commit().unwrap();
    running
}

#[tokio::test]
async fn jobs_view_shows_statuses_progress_colours_filter_and_search() {
    let mut f = fixture(None).await;
    let running = seed_jobs(&f.data);
    f.h.app.jobs.fixed_now = Some(T0 + 22_300);
    key(&mut f.h, KeyCode::Char('j'), KeyModifiers::ALT).await;
    assert_eq!(f.h.app.focus, Focus::Jobs);
    assert_eq!(f.h.app.jobs.pane.jobs().len(), 7);
    // Down the list to the running job; its log follows.
    while f.h.app.jobs.pane.selected_job().map(|j| j.id) != Some(running) {
        key(&mut f.h, KeyCode::Char('j'), KeyModifiers::NONE).await;
    }
    assert_eq!(f.h.app.jobs.pane.log.job, Some(running));
    assert_eq!(f.h.app.jobs.pane.log.len(), 6);
    insta::assert_snapshot!("jobs_100x30", draw(&mut f.h, 100, 30));
    insta::assert_snapshot!("jobs_60x20", draw(&mut f.h, 60, 20));
    let screen = draw(&mut f.h, 80, 24);
    for text in ["KIND", "40%", "cargo build --release", "mismatched types"] {
        assert!(screen.contains(text), "{text} at 80x24:\n{screen}");
    }

    // Kind filter: the git push goes; the title says why.
    key(&mut f.h, KeyCode::Char('F'), KeyModifiers::NONE).await;
    assert_eq!(f.h.app.jobs.pane.kind_filter.as_deref(), Some("command"));
    // Search the log, into the log pane.
    key(&mut f.h, KeyCode::Tab, KeyModifiers::NONE).await;
    assert_eq!(f.h.app.focus, Focus::JobLog);
    key(&mut f.h, KeyCode::Char('/'), KeyModifiers::NONE).await;
    typing(&mut f.h, "error").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    let screen = draw(&mut f.h, 100, 30);
    assert!(
        screen.contains("kind command") && screen.contains("/error"),
        "{screen}"
    );
    assert!(!screen.contains("git-push"), "{screen}");
    insta::assert_snapshot!("jobs_filtered_search_100x30", screen);
    insta::assert_snapshot!("jobs_filtered_search_60x20", draw(&mut f.h, 60, 20));

    // The command's colours are drawn: "error" in bold red, the hit of the
    // search over it.
    draw(&mut f.h, 100, 30);
    let buf = f.h.buffer().clone();
    let row_of = |text: &str| {
        (0..buf.area.height)
            .find(|&y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    .contains(text)
            })
            .unwrap()
    };
    let y = row_of("mismatched types");
    let x = (0..buf.area.width)
        .find(|&x| buf[(x, y)].symbol() == "e" && buf[(x + 1, y)].symbol() == "r")
        .unwrap();
    assert!(
        buf[(x, y)]
            .modifier
            .contains(ratatui::style::Modifier::BOLD)
    );
    let y = row_of("Compiling");
    let x = (0..buf.area.width)
        .find(|&x| buf[(x, y)].symbol() == "C")
        .unwrap();
    assert!(
        buf[(x, y)]
            .modifier
            .contains(ratatui::style::Modifier::BOLD)
    );
    let y = row_of("the error above");
    let x = (0..buf.area.width)
        .find(|&x| buf[(x, y)].symbol() == "o")
        .unwrap();
    assert_eq!(buf[(x, y)].fg, ratatui::style::Color::Green);
    // The window title and the erase did not reach the screen.
    let screen = f.h.screen();
    assert!(!screen.contains("window title"), "{screen}");

    // Details of the job.
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    let screen = draw(&mut f.h, 100, 30);
    assert!(
        screen.contains("cargo build --release") && screen.contains("1 of 3"),
        "{screen}"
    );
    insta::assert_snapshot!("job_details_60x20", draw(&mut f.h, 60, 20));
    key(&mut f.h, KeyCode::Esc, KeyModifiers::NONE).await;
    assert!(f.h.app.overlay.is_none());
    key(&mut f.h, KeyCode::Char('j'), KeyModifiers::ALT).await;
    assert_eq!(f.h.app.focus, Focus::Tree);
}

#[tokio::test]
async fn quitting_while_jobs_run_here_asks_to_leave_cancel_or_wait() {
    use crate::jobs::Status;
    use crate::jobs::runner::{Event, Stop};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut h = harness_on(&data, Target::Start, None).await;
    h.app.job_event(Event::Started {
        id: 7,
        title: "make deploy".into(),
    });
    h.settle().await;
    update(&mut h, Action::Quit).await;
    assert!(!h.app.quit, "quit without asking");
    let screen = draw(&mut h, 120, 24);
    assert!(
        screen.contains(
            " [l]eave to a worker  [c]ancel  [w]ait  [esc] stay  1 job running: make deploy"
        ),
        "{screen}"
    );
    // A key that answers nothing stays, as esc does.
    key(&mut h, KeyCode::Char('y'), KeyModifiers::NONE).await;
    assert!(!h.app.quit && h.app.overlay.is_none());
    update(&mut h, Action::Quit).await;
    key(&mut h, KeyCode::Esc, KeyModifiers::NONE).await;
    assert!(!h.app.quit && h.app.overlay.is_none());

    // Cancel and leave quit at once, saying what becomes of the jobs.
    update(&mut h, Action::Quit).await;
    key(&mut h, KeyCode::Char('c'), KeyModifiers::NONE).await;
    assert!(h.app.quit);
    assert_eq!(h.app.quit_stop, Stop::Cancel);
    h.app.quit = false;
    update(&mut h, Action::Quit).await;
    key(&mut h, KeyCode::Char('l'), KeyModifiers::NONE).await;
    assert!(h.app.quit);
    assert_eq!(h.app.quit_stop, Stop::HandOver);
    h.app.quit = false;
    h.app.quit_stop = Stop::Interrupt;

    // Wait: stays open, says so, quits by itself when the job ends.
    update(&mut h, Action::Quit).await;
    key(&mut h, KeyCode::Char('w'), KeyModifiers::NONE).await;
    assert!(!h.app.quit);
    let screen = draw(&mut h, 100, 24);
    assert!(
        screen.contains(" [esc] stay open  quitting when 1 job ends: make deploy"),
        "{screen}"
    );
    // Esc puts the wait off; w again waits again.
    key(&mut h, KeyCode::Esc, KeyModifiers::NONE).await;
    assert!(h.app.overlay.is_none());
    update(&mut h, Action::Quit).await;
    key(&mut h, KeyCode::Char('w'), KeyModifiers::NONE).await;
    h.app.job_event(Event::Ended {
        id: 7,
        title: "make deploy".into(),
        status: Status::Succeeded,
    });
    assert!(h.app.quit, "the wait ends with the job");
    assert_eq!(h.app.quit_stop, Stop::Interrupt);

    // With nothing running here, quit is at once.
    let mut h2 = harness_on(&data, Target::Start, None).await;
    update(&mut h2, Action::Quit).await;
    assert!(h2.app.quit);
}

#[tokio::test]
async fn run_task_enqueues_the_task_and_opens_the_jobs_view_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("Makefile"),
        "build:\n\techo built\n\ntest:\n\techo tested\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut h = harness_on(&data, Target::Folder(root.clone()), None).await;
    // From the palette, by name.
    key(&mut h, KeyCode::Char('p'), KeyModifiers::ALT).await;
    typing(&mut h, "run_task").await;
    key(&mut h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert!(matches!(h.app.overlay, Some(Overlay::Tasks(_))));
    let screen = draw(&mut h, 80, 24);
    assert!(
        screen.contains("build") && screen.contains("make build"),
        "{screen}"
    );
    typing(&mut h, "test").await;
    key(&mut h, KeyCode::Enter, KeyModifiers::NONE).await;

    let store = Store::open(&data).unwrap();
    let jobs = job_queue::list(&store.conn, &job_queue::Filter::default()).unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    let canonical = root.canonicalize().unwrap();
    assert_eq!(job.kind, "command");
    assert_eq!(job.status, Status::Queued);
    assert_eq!(job.workspace.as_deref(), Some(canonical.to_str().unwrap()));
    assert_eq!(job.payload["argv"], serde_json::json!(["make test"]));
    assert_eq!(job.payload["task"], "test");
    // Asked for colour, which the log pane renders.
    assert_eq!(job.payload["env"]["FORCE_COLOR"], "1");
    // The view is open on it, and the status bar says so.
    assert_eq!(h.app.focus, Focus::Jobs);
    assert_eq!(h.app.jobs.pane.selected_job().map(|j| j.id), Some(job.id));
    assert_eq!(h.app.jobs.pane.log.job, Some(job.id));
    let screen = draw(&mut h, 80, 24);
    assert!(
        screen.contains(&format!("job {} queued: make test", job.id)),
        "{screen}"
    );

    // "Run command…" takes any shell line.
    key(&mut h, KeyCode::Char('!'), KeyModifiers::NONE).await;
    typing(&mut h, "ls | wc -l").await;
    key(&mut h, KeyCode::Enter, KeyModifiers::NONE).await;
    let jobs = job_queue::list(&store.conn, &job_queue::Filter::default()).unwrap();
    assert_eq!(jobs[0].payload["argv"], serde_json::json!(["ls | wc -l"]));
    assert_eq!(
        h.app.jobs.pane.selected_job().map(|j| j.id),
        Some(jobs[0].id)
    );
}

#[tokio::test]
async fn cancel_asks_first_and_retry_queues_again() {
    let mut f = fixture(None).await;
    let id = {
        let mut store = Store::open(&f.data).unwrap();
        job_queue::enqueue(&mut store.conn, &command_job("sleep 60"), T0).unwrap()
    };
    let status = |data: &Path| {
        job_queue::require(&Store::open(data).unwrap().conn, id)
            .unwrap()
            .status
    };
    key(&mut f.h, KeyCode::Char('j'), KeyModifiers::ALT).await;
    key(&mut f.h, KeyCode::Char('x'), KeyModifiers::NONE).await;
    let screen = draw(&mut f.h, 80, 24);
    assert!(
        screen.contains(&format!("cancel job {id} (sleep 60)?")),
        "{screen}"
    );
    // "n" keeps it.
    key(&mut f.h, KeyCode::Char('n'), KeyModifiers::NONE).await;
    assert_eq!(status(&f.data), Status::Queued);
    key(&mut f.h, KeyCode::Char('x'), KeyModifiers::NONE).await;
    key(&mut f.h, KeyCode::Char('y'), KeyModifiers::NONE).await;
    assert_eq!(status(&f.data), Status::Cancelled);
    assert_eq!(
        f.h.app.jobs.pane.job(id).map(|j| j.status),
        Some(Status::Cancelled)
    );
    // An ended job is not asked about.
    key(&mut f.h, KeyCode::Char('x'), KeyModifiers::NONE).await;
    assert!(f.h.app.overlay.is_none());
    key(&mut f.h, KeyCode::Char('r'), KeyModifiers::NONE).await;
    assert_eq!(status(&f.data), Status::Queued);
    assert!(draw(&mut f.h, 80, 24).contains(&format!("job {id} queued again")));
    // y copies the command line to the terminal clipboard.
    key(&mut f.h, KeyCode::Char('y'), KeyModifiers::NONE).await;
    assert_eq!(f.h.app.take_clipboard().as_deref(), Some("sleep 60"));
}

#[tokio::test]
async fn the_log_ring_stays_bounded_when_a_job_floods_it() {
    let mut f = fixture(None).await;
    let id = {
        let mut store = Store::open(&f.data).unwrap();
        job_queue::enqueue(&mut store.conn, &command_job("seq 100000"), T0).unwrap()
    };
    key(&mut f.h, KeyCode::Char('j'), KeyModifiers::ALT).await;
    assert_eq!(f.h.app.jobs.pane.log.job, Some(id));
    for batch in 0..50 {
        let from = batch * 2000;
        let lines = (from..from + 2000)
            .map(|seq| job_queue::LogLine {
                seq,
                attempt: 1,
                stream: Stream::Stdout,
                at: T0,
                line: format!("\x1b[32m{}\x1b[0m", seq + 1),
            })
            .collect();
        let after = f.h.app.jobs.pane.log.last_seq;
        f.h.app.jobs_msg(JobsMsg::Polled {
            jobs: Ok(Vec::new()),
            log: Some((id, after, Ok(lines))),
        });
        assert!(f.h.app.jobs.pane.log.len() <= crate::tui::panes::job_log::LOG_LINES);
    }
    let log = &f.h.app.jobs.pane.log;
    assert_eq!(log.len(), crate::tui::panes::job_log::LOG_LINES);
    assert_eq!(log.last_seq, 99_999);
    assert_eq!(log.entries().last().map(|e| e.seq), Some(99_999));
    assert_eq!(log.entries().next().map(|e| e.seq), Some(95_000));
    // An answer from an older place in the log is dropped.
    f.h.app.jobs_msg(JobsMsg::Polled {
        jobs: Ok(Vec::new()),
        log: Some((id, 10, Ok(vec![]))),
    });
    let screen = draw(&mut f.h, 60, 20);
    assert!(screen.contains("100000"), "{screen}");
    // Y copies what is in view, as drawn.
    key(&mut f.h, KeyCode::Char('Y'), KeyModifiers::NONE).await;
    let copied = f.h.app.take_clipboard().unwrap();
    assert!(
        copied.ends_with("99999\n100000") && !copied.contains('\x1b'),
        "{copied:?}"
    );
}

#[tokio::test]
async fn push_in_the_changes_view_is_a_git_push_job() {
    let (mut h, dir, repo) = git_fixture().await;
    key(&mut h, KeyCode::Char('g'), KeyModifiers::ALT).await;
    key(&mut h, KeyCode::Char('P'), KeyModifiers::NONE).await;
    let data = dir.path().join("data");
    let store = Store::open(&data).unwrap();
    let jobs = job_queue::list(&store.conn, &job_queue::Filter::default()).unwrap();
    assert_eq!(jobs.len(), 1);
    let canonical = repo.canonicalize().unwrap();
    assert_eq!(jobs[0].kind, "git-push");
    assert_eq!(
        jobs[0].workspace.as_deref(),
        Some(canonical.to_str().unwrap())
    );
    assert_eq!(jobs[0].max_attempts, 4);
    let screen = draw(&mut h, 100, 30);
    assert!(
        screen.contains(&format!("push: job {} queued", jobs[0].id)),
        "{screen}"
    );
    assert!(screen.contains("(push…)"), "{screen}");
    // A second push waits for the first.
    key(&mut h, KeyCode::Char('P'), KeyModifiers::NONE).await;
    assert!(draw(&mut h, 100, 30).contains("a push is still queued or running"));
    // Its end (here: as a worker would write it) reaches the status bar.
    {
        let mut store = Store::open(&data).unwrap();
        let now = crate::jobs::now_ms();
        job_queue::claim_id(&mut store.conn, jobs[0].id, "worker:x:1:1", now, 30_000)
            .unwrap()
            .unwrap();
        job_queue::finish(
            &mut store.conn,
            jobs[0].id,
            "worker:x:1:1",
            &JobOutcome::Error(JobError::permanent("has no upstream branch")),
            crate::jobs::now_ms(),
        )
        .unwrap();
    }
    assert!(h.app.wants_job_poll());
    h.app.poll_jobs();
    assert!(h.settle().await);
    let screen = draw(&mut h, 100, 30);
    assert!(
        screen.contains(&format!(
            "push: job {} dead (has no upstream branch)",
            jobs[0].id
        )),
        "{screen}"
    );
    assert!(!screen.contains("(push…)"), "{screen}");
    assert!(!h.app.wants_job_poll());
    // Pull queues a git-pull job the same way.
    key(&mut h, KeyCode::Char('p'), KeyModifiers::NONE).await;
    let jobs = job_queue::list(&store.conn, &job_queue::Filter::default()).unwrap();
    assert_eq!(jobs[0].kind, "git-pull");
}

#[tokio::test]
async fn a_finished_job_of_the_runner_is_reported_in_the_status_bar() {
    let mut f = fixture(None).await;
    f.h.app.job_event(crate::jobs::runner::Event::Ended {
        id: 12,
        title: "npm test".into(),
        status: Status::Succeeded,
    });
    assert!(f.h.settle().await);
    assert_eq!(
        f.h.app.message,
        Some(("job 12 succeeded: npm test".into(), false))
    );
    f.h.app.job_event(crate::jobs::runner::Event::Ended {
        id: 13,
        title: "npm run lint".into(),
        status: Status::Failed,
    });
    assert!(f.h.settle().await);
    assert_eq!(
        f.h.app.message,
        Some(("job 13 failed: npm run lint".into(), true))
    );
}

#[tokio::test]
async fn fix_with_ai_queues_an_ask_job_with_the_log_tail_and_follows_it() {
    let mut f = fixture(None).await;
    let (failed, queued) = {
        let mut store = Store::open(&f.data).unwrap();
        let c = &mut store.conn;
        let owner = "tui:host:1:1";
        let failed = job_queue::enqueue(c, &command_job("npx tsc"), T0).unwrap();
        job_queue::claim_id(c, failed, owner, T0 + 1_000, 30_000).unwrap();
        let tx = c.transaction().unwrap();
        let lines = vec![
            (
                Stream::Stdout,
                T0 + 1_500,
                "lib/cart.ts(2,10): error TS2304: Cannot find name 'itemz'.".to_string(),
            ),
            (Stream::Stdout, T0 + 1_600, "Found 1 error.".to_string()),
        ];
        job_queue::append_logs(&tx, failed, 1, &lines, 0, 2000).unwrap();
        tx.commit().unwrap();
        let exit = JobError::permanent("exited with code 2")
            .with_program(crate::jobs::ProgramEnd::exited(2));
        job_queue::finish(c, failed, owner, &JobOutcome::Error(exit), T0 + 2_000).unwrap();
        let queued = job_queue::enqueue(c, &command_job("make deploy"), T0 + 3_000).unwrap();
        (failed, queued)
    };
    key(&mut f.h, KeyCode::Char('j'), KeyModifiers::ALT).await;
    // The newest job first: one that has not failed is refused, by name.
    assert_eq!(f.h.app.jobs.pane.selected_job().map(|j| j.id), Some(queued));
    key(&mut f.h, KeyCode::Char('A'), KeyModifiers::SHIFT).await;
    let message = f.h.status_message().unwrap_or_default().to_string();
    assert!(
        message.contains(&format!("cannot fix job {queued} with AI"))
            && message.contains("reads the log of a job that failed")
            && message.contains("kollega jobs ls --status failed"),
        "{message}"
    );
    assert_eq!(f.h.app.focus, Focus::Jobs);
    key(&mut f.h, KeyCode::Char('j'), KeyModifiers::NONE).await;
    assert_eq!(f.h.app.jobs.pane.selected_job().map(|j| j.id), Some(failed));
    key(&mut f.h, KeyCode::Char('A'), KeyModifiers::SHIFT).await;
    assert_eq!(f.h.app.focus, Focus::Ai, "{:?}", f.h.status_message());
    let crate::tui::panes::ai::AskState::Running { id: ask } = f.h.app.ai.pane.state else {
        panic!("{:?}", f.h.app.ai.pane.state);
    };
    let row = job_queue::require(&Store::open(&f.data).unwrap().conn, ask).unwrap();
    assert_eq!(row.kind.as_str(), "ask");
    assert_eq!(row.workspace.as_deref(), Some("shop"));
    let prompt = row.payload["prompt"].as_str().unwrap_or_default();
    assert!(
        prompt.contains("npx tsc") && prompt.contains("Cannot find name 'itemz'"),
        "{prompt}"
    );
    assert_eq!(row.payload["files"], serde_json::json!(["lib/cart.ts"]));
    let screen = draw(&mut f.h, 100, 30);
    assert!(screen.contains(&format!("job {ask}")), "{screen}");
}
