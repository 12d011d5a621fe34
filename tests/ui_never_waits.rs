//! The terminal UI never waits for SQLite. With another program holding the
//! store's write lock for three seconds (a `kollega worker`, a backup, the
//! `sqlite3` shell), every key still reaches the screen at once (no frame
//! waits for the lock: each is far shorter than SQLite's busy wait), and
//! the save asked for meanwhile is written once the lock is let go. How
//! fast a frame is belongs to the benchmarks (`benches/ui.rs`), not here.
//!
//! It runs the real workstation in-process through `kollega::harness`,
//! alone in this test binary so no other test competes for the cores.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use kollega::harness::{Harness, Options, Target};

const PAGE: &str = "export default function Page() {\n  return null;\n}\n";

/// The real binary on the store in `data`.
fn kollega(data: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kollega"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("KOLLEGA_CONFIG_DIR", data.join("no-config"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kollega {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_reach_the_screen_while_another_program_holds_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let src = dir.path().join("shop");
    std::fs::create_dir_all(src.join("app")).unwrap();
    std::fs::write(src.join("app/page.tsx"), PAGE).unwrap();
    kollega(&data, &["import", src.to_str().unwrap(), "--name", "shop"]);
    let cat = || {
        String::from_utf8_lossy(&kollega(&data, &["cat", "shop", "app/page.tsx"]).stdout)
            .into_owned()
    };
    let mut h = Harness::start(
        &data,
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
    let db = data.join("kollega.db");
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let lock_db = db.clone();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&lock_db).unwrap();
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
    // A frame that waited on the lock would take the store's busy wait
    // (seconds); a busy machine stretches frames by milliseconds only.
    assert!(
        slowest < Duration::from_millis(500),
        "a frame took {slowest:?} while the store was locked: it waited for SQLite ({} frames)",
        frames.len()
    );
    let screen = h.screen();
    assert!(
        screen.contains(&"x".repeat(20)),
        "the typed keys are on the screen:\n{screen}"
    );
    // The save is still waiting for the lock: nothing was written yet.
    assert_eq!(cat(), PAGE);

    let released_at = holder.join().unwrap();
    assert!(h.settle().await, "the save did not come back");
    let saved_at = Instant::now();
    assert!(saved_at >= released_at);
    assert_eq!(cat(), format!("{}{PAGE}", "x".repeat(50)));
    assert_eq!(h.status_message(), Some("saved app/page.tsx"));
    // What was typed after the save is not lost either: it is a draft.
    assert!(h.dirty());
    h.shutdown().await.unwrap();
    let drafts: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM drafts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(drafts, 1);
}
