use super::*;
use crate::store::settings;

fn with_value(dir: &Path, value: &str) -> Store {
    let store = Store::open(dir).unwrap();
    settings::set(&store.conn, "probe", value).unwrap();
    store
}

#[test]
fn a_backup_restores_over_later_changes_and_keeps_the_store_before() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut store = with_value(data.path(), "before");
    let file = out.path().join("k.db");
    let copied = backup(&store.conn, &file, false).unwrap();
    assert_eq!(copied.schema_version, SCHEMA_VERSION);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = backup(&store.conn, &file, false).unwrap_err();
    assert!(matches!(again, BackupError::Exists { .. }), "{again}");
    settings::set(&store.conn, "probe", "after").unwrap();

    let restored = restore(&mut store, data.path(), &file, 86_400_000).unwrap();
    assert_eq!(
        settings::get(&store.conn, "probe").unwrap().as_deref(),
        Some("before")
    );
    // Another connection sees the restored store too.
    let other = Store::open(data.path()).unwrap();
    assert_eq!(
        settings::get(&other.conn, "probe").unwrap().as_deref(),
        Some("before")
    );
    let previous = restored.previous.unwrap();
    assert!(previous.ends_with("backups/pre-restore-19700102-000000.db"));
    let kept = Connection::open(&previous).unwrap();
    assert_eq!(
        settings::get(&kept, "probe").unwrap().as_deref(),
        Some("after")
    );
    assert!(
        audit::actions(&store.conn)
            .unwrap()
            .iter()
            .any(|(a, _)| a == "restore")
    );
    assert!(
        !data
            .path()
            .join(format!(".restore-{}", std::process::id()))
            .exists()
    );
}

#[test]
fn restore_refuses_what_is_not_a_kollega_store_and_changes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut store = with_value(data.path(), "live");

    let text = out.path().join("notes.txt");
    std::fs::write(
        &text,
        "just some text, long enough to not be a header at all\n".repeat(100),
    )
    .unwrap();
    let e = restore(&mut store, data.path(), &text, 0).unwrap_err();
    assert!(matches!(e, BackupError::NotKollega { .. }), "{e}");
    assert!(e.to_string().contains("is not a kollega database"), "{e}");

    let other = out.path().join("other.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); PRAGMA user_version = 3;")
        .unwrap();
    let e = restore(&mut store, data.path(), &other, 0).unwrap_err();
    assert!(e.to_string().contains("without kollega's tables"), "{e}");

    let newer = out.path().join("newer.db");
    backup(&store.conn, &newer, false).unwrap();
    Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let e = restore(&mut store, data.path(), &newer, 0).unwrap_err();
    assert!(matches!(e, BackupError::Newer { .. }), "{e}");
    assert!(
        e.to_string().contains("newer than this kollega knows"),
        "{e}"
    );

    let e = restore(&mut store, data.path(), &out.path().join("gone.db"), 0).unwrap_err();
    assert!(matches!(e, BackupError::Read { .. }), "{e}");
    assert_eq!(
        settings::get(&store.conn, "probe").unwrap().as_deref(),
        Some("live")
    );
    assert!(!data.path().join(BACKUPS_DIR).exists(), "nothing was begun");
}

#[test]
fn daily_backups_keep_the_newest() {
    let data = tempfile::tempdir().unwrap();
    let store = with_value(data.path(), "x");
    for day in 0..5 {
        let (copied, _) = daily(&store.conn, data.path(), 3, day * 86_400_000).unwrap();
        assert!(copied.path.exists());
    }
    let mut names: Vec<String> = std::fs::read_dir(data.path().join(BACKUPS_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "kollega-19700103-000000.db",
            "kollega-19700104-000000.db",
            "kollega-19700105-000000.db"
        ]
    );
    assert_eq!(
        check(&data.path().join(BACKUPS_DIR).join(&names[0])).unwrap(),
        SCHEMA_VERSION
    );
}

/// A store made with pages of `size` bytes (4 KiB: made before the
/// stores of 16 KiB pages) holding `value`.
fn with_pages(dir: &Path, size: i64, value: &str) -> Store {
    crate::store::tests::store_file_with_pages(dir, size);
    let store = with_value(dir, value);
    let found: i64 = store
        .conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    assert_eq!(found, size);
    store
}

#[test]
fn a_backup_restores_into_a_store_of_another_page_size() {
    for (live_size, backup_size) in [(16384, 4096), (4096, 16384)] {
        let data = tempfile::tempdir().unwrap();
        let old = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut store = with_pages(data.path(), live_size, "live");
        let source = with_pages(old.path(), backup_size, "backed up");
        let file = out.path().join("k.db");
        backup(&source.conn, &file, false).unwrap();
        restore(&mut store, data.path(), &file, 1).unwrap();
        assert_eq!(
            settings::get(&store.conn, "probe").unwrap().as_deref(),
            Some("backed up"),
            "{backup_size} into {live_size}"
        );
        let size: i64 = store
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(size, live_size);
    }
}
