//! The terminal UI never waits for SQLite. With another program holding the
//! store's write lock for three seconds (a `kollega worker`, a backup, the
//! `sqlite3` shell), every key still reaches the screen within a frame, and
//! the save asked for meanwhile is written once the lock is let go.
//!
//! It runs the real workstation in-process through `kollega::harness`,
//! alone in this test binary so no other test competes for the cores.

mod common;

use std::time::{Duration, Instant};

use common::{Kollega, tree, write_tree};
use kollega::harness::{Harness, Options, Target};

const PAGE: &str = "export default function Page() {\n  return null;\n}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_reach_the_screen_while_another_program_holds_the_write_lock() {
    let k = Kollega::new();
    let src = k.scratch("shop");
    write_tree(&src, &tree([("app/page.tsx", PAGE)]));
    k.import(&src, "shop", &[]);
    let mut h = Harness::start(
        &k.data,
        Target::Workspace("shop".into()),
        Some("app/page.tsx"),
        None,
        Options::default(),
    )
    .await
    .unwrap();
    assert!(h.settle().await);
    h.draw();
    assert_eq!(h.text().as_deref(), Some(PAGE));

    // Another program takes the write lock and keeps it for 3 s.
    let db = k.db_path();
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(Instant::now()).unwrap();
        std::thread::sleep(Duration::from_secs(3));
        conn.execute_batch("COMMIT").unwrap();
        Instant::now()
    });
    let locked_at = locked.recv().unwrap();

    // Keys while the lock is held, ctrl-s after the 50th; each frame is
    // timed from the key to the end of the draw.
    let mut frames = Vec::new();
    let mut typed = 0;
    while locked_at.elapsed() < Duration::from_millis(2_600) {
        let started = Instant::now();
        h.type_text("x");
        typed += 1;
        if typed == 50 {
            h.key("ctrl-s");
        }
        h.pump();
        h.draw();
        frames.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let slowest = frames.iter().max().copied().unwrap_or_default();
    assert!(typed > 50, "only {typed} keys in 2.6 s");
    assert!(
        slowest < Duration::from_millis(16),
        "a frame took {slowest:?} while the store was locked ({} frames)",
        frames.len()
    );
    let screen = h.screen();
    assert!(
        screen.contains(&"x".repeat(20)),
        "the typed keys are on the screen:\n{screen}"
    );
    // The save is still waiting for the lock: nothing was written yet.
    let cat = k.run(["cat", "shop", "app/page.tsx"]);
    assert_eq!(String::from_utf8_lossy(&cat.stdout), PAGE);

    let released_at = holder.join().unwrap();
    assert!(h.settle().await, "the save did not come back");
    let saved_at = Instant::now();
    assert!(saved_at >= released_at);
    let cat = k.run(["cat", "shop", "app/page.tsx"]);
    assert_eq!(
        String::from_utf8_lossy(&cat.stdout),
        format!("{}{PAGE}", "x".repeat(50))
    );
    assert_eq!(h.status_message(), Some("saved app/page.tsx"));
    // What was typed after the save is not lost either: it is a draft.
    assert!(h.dirty());
    h.shutdown().await.unwrap();
    let drafts: i64 = k
        .db()
        .query_row("SELECT count(*) FROM drafts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(drafts, 1);
}
