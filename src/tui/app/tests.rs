//! The whole workstation through the harness: keys in, screens and stored
//! data out, with the real store worker and blocking threads answering.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyEventState, KeyModifiers};

use super::*;
use crate::config::Config;
use crate::store::{self, Store};
use crate::tui::harness::{Drafts, Harness, Options, Target};
use crate::tui::keymap::Keymap;
use crate::tui::panes::editor::Tab;
use crate::tui::session::{EditorState, TabState};
use crate::tui::theme::ColorDepth;
use crate::workspace::files::content_hash;
use crate::workspace::import::{ImportOptions, import};

struct Fixture {
    h: Harness,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

const FILES: &[(&str, &str)] = &[
    (
        "app/page.tsx",
        "export default function Page() {\n  return <h1 className=\"title\">Shop</h1>;\n}\n",
    ),
    (
        "app/layout.tsx",
        "export const metadata = { title: \"Shop\" };\n",
    ),
    (
        "lib/cart.ts",
        "export function total(items: number[]): number {\n  return items.reduce((a, b) => a + b, 0);\n}\n",
    ),
    ("package.json", "{\n  \"name\": \"shop\"\n}\n"),
    ("README.md", "# Shop\n\nA small shop.\n"),
];

fn store_with_workspace(dir: &Path) -> (Store, Config) {
    let src = dir.join("shop");
    for (path, text) in FILES {
        let target = src.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, text).unwrap();
    }
    let config = Config::load(Some(dir.join("data"))).unwrap();
    let mut store = Store::open(&config.data_dir).unwrap();
    import(
        &mut store,
        &config,
        &src,
        &ImportOptions::default(),
        &mut (),
    )
    .unwrap();
    (store, config)
}

fn options(keymap: Option<&str>) -> Options {
    Options {
        keymap: keymap.map(str::to_string),
        drafts: Drafts::Captured,
        ..Options::default()
    }
}

async fn harness_on(data: &Path, target: Target, keymap: Option<&str>) -> Harness {
    let mut h = Harness::start(data, target, None, None, options(keymap))
        .await
        .unwrap();
    assert!(h.settle().await);
    h
}

async fn fixture(keymap: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with_workspace(dir.path());
    drop(store);
    let h = harness_on(&config.data_dir, Target::Start, keymap).await;
    Fixture {
        h,
        data: config.data_dir,
        _dir: dir,
    }
}

fn draw(h: &mut Harness, width: u16, height: u16) -> String {
    h.screen_at(width, height)
}

async fn key(h: &mut Harness, code: KeyCode, modifiers: KeyModifiers) {
    h.app.handle_event(&Event::Key(KeyEvent {
        code,
        modifiers,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    }));
    assert!(h.settle().await, "the workers did not answer");
}

async fn typing(h: &mut Harness, text: &str) {
    for c in text.chars() {
        key(h, KeyCode::Char(c), KeyModifiers::NONE).await;
    }
}

async fn update(h: &mut Harness, action: Action) {
    h.app.update(action);
    assert!(h.settle().await, "the workers did not answer");
}

fn active_tab(h: &Harness) -> Option<&Tab> {
    h.app.active_tab()
}

fn text_of(h: &Harness) -> String {
    active_tab(h).unwrap().buffer.text()
}

/// Paths with unsaved text in this session.
fn dirty_paths(h: &Harness) -> HashSet<String> {
    h.app
        .editor()
        .map(|e| {
            e.tabs
                .iter()
                .filter(|t| t.is_dirty())
                .map(|t| t.path.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The autosave events the app sent since the last call.
fn autosaved(h: &mut Harness) -> Vec<AutosaveEvent> {
    h.drain_captured()
}

/// Opens app/page.tsx from the tree: expand app/, down to page.tsx.
async fn open_page(h: &mut Harness) {
    assert_eq!(h.app.focus, Focus::Tree);
    update(h, Action::Open).await;
    update(h, Action::Down).await;
    update(h, Action::Down).await;
    update(h, Action::Open).await;
    assert_eq!(active_tab(h).map(|t| t.path.as_str()), Some("app/page.tsx"));
}

#[tokio::test]
async fn single_workspace_opens_its_tree() {
    let mut f = fixture(None).await;
    assert_eq!(f.h.app.focus, Focus::Tree);
    insta::assert_snapshot!("tree_100x30", draw(&mut f.h, 100, 30));
    insta::assert_snapshot!("tree_60x20", draw(&mut f.h, 60, 20));
}

#[tokio::test]
async fn opening_a_file_shows_it_with_line_numbers_and_cursor() {
    let mut f = fixture(None).await;
    open_page(&mut f.h).await;
    assert_eq!(f.h.app.focus, Focus::Editor);
    insta::assert_snapshot!("editor_100x30", draw(&mut f.h, 100, 30));
    insta::assert_snapshot!("editor_60x20", draw(&mut f.h, 60, 20));
    key(&mut f.h, KeyCode::Esc, KeyModifiers::NONE).await;
    assert_eq!(f.h.app.focus, Focus::Tree);
}

#[tokio::test]
async fn quitting_with_unsaved_changes_asks_and_q_refuses_like_vim() {
    let mut f = fixture(None).await;
    open_page(&mut f.h).await;
    typing(&mut f.h, "// hi").await;
    // ctrl-q asks; "n" keeps kollega running.
    key(&mut f.h, KeyCode::Char('q'), KeyModifiers::CONTROL).await;
    assert!(matches!(
        f.h.app.overlay,
        Some(Overlay::Confirm(ConfirmKind::QuitUnsaved { files: 1 }))
    ));
    key(&mut f.h, KeyCode::Char('n'), KeyModifiers::NONE).await;
    assert!(!f.h.app.quit);
    // `:q` refuses and says what to do; `:q!` quits.
    let refused = f.h.app.run_ex("q");
    f.h.app.carry_out(refused);
    assert!(!f.h.app.quit);
    let said =
        f.h.app
            .message
            .as_ref()
            .map(|(m, _)| m.clone())
            .unwrap_or_default();
    assert!(said.contains(":q! quits"), "{said}");
    let _ = f.h.app.run_ex("q!");
    assert!(f.h.app.quit);
}

#[tokio::test]
async fn typing_edits_the_buffer_and_sends_a_draft() {
    let mut f = fixture(None).await;
    open_page(&mut f.h).await;
    typing(&mut f.h, "// hi").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert!(text_of(&f.h).starts_with("// hi\nexport default"));
    let mut saw_draft = false;
    for event in autosaved(&mut f.h) {
        if let AutosaveEvent::Changed { key, drafts, .. } = event {
            assert_eq!(key, "ws:shop");
            saw_draft |= drafts.iter().any(|d| matches!(d, crate::autosave::DraftChange::Edited { path, content, .. } if path == "app/page.tsx" && content.to_string().starts_with("// hi\n")));
        }
    }
    assert!(saw_draft);
    insta::assert_snapshot!("editor_dirty_60x20", draw(&mut f.h, 60, 20));
}

#[tokio::test]
async fn save_writes_the_store_and_clears_the_draft() {
    let mut f = fixture(None).await;
    open_page(&mut f.h).await;
    typing(&mut f.h, "X").await;
    autosaved(&mut f.h);
    key(&mut f.h, KeyCode::Char('s'), KeyModifiers::CONTROL).await;
    assert!(dirty_paths(&f.h).is_empty());
    let store = Store::open(&f.data).unwrap();
    let ws = store::workspaces::find(&store.conn, "shop")
        .unwrap()
        .unwrap();
    let saved = store::files::content(&store.conn, ws.id, "app/page.tsx")
        .unwrap()
        .unwrap();
    assert!(saved.starts_with("Xexport default"));
    let cleaned = autosaved(&mut f.h).iter().any(|event| {
        matches!(event, AutosaveEvent::Changed { drafts, .. } if drafts
            .iter()
            .any(|d| matches!(d, crate::autosave::DraftChange::Clean { path } if path == "app/page.tsx")))
    });
    assert!(cleaned);
}

#[tokio::test]
async fn typing_while_a_save_is_written_stays_unsaved() {
    let mut f = fixture(None).await;
    open_page(&mut f.h).await;
    typing(&mut f.h, "A").await;
    // The save goes out; a key comes before its answer.
    f.h.key("ctrl-s");
    f.h.type_text("B");
    assert!(f.h.settle().await);
    let store = Store::open(&f.data).unwrap();
    let ws = store::workspaces::find(&store.conn, "shop")
        .unwrap()
        .unwrap();
    let saved = store::files::content(&store.conn, ws.id, "app/page.tsx")
        .unwrap()
        .unwrap();
    assert!(saved.starts_with("Aexport"), "{saved}");
    assert!(text_of(&f.h).starts_with("ABexport"));
    assert!(f.h.dirty(), "the B typed after the save is not saved");
}

#[tokio::test]
async fn drafts_and_tabs_come_back_on_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let (store, config) = store_with_workspace(dir.path());
    let saved = FILES[0].1;
    let mut conn = store;
    let draft = store::drafts::Draft {
        path: "app/page.tsx".into(),
        content: format!("// typed before the crash\n{saved}"),
        base_hash: Some(content_hash(saved)),
        updated_at: String::new(),
    };
    store::drafts::save_batch(&mut conn.conn, "ws:shop", &[draft], &[]).unwrap();
    let state = EditorState {
        tabs: vec![TabState {
            path: "app/page.tsx".into(),
            anchor: 5,
            head: 5,
            top: 0,
        }],
        active: 0,
        focus: "editor".into(),
        prompt: String::new(),
    };
    store::editor_state::save(
        &conn.conn,
        "ws:shop",
        &serde_json::to_string(&state).unwrap(),
    )
    .unwrap();
    drop(conn);
    let h = harness_on(&config.data_dir, Target::Start, None).await;
    assert_eq!(h.app.focus, Focus::Editor);
    let tab = active_tab(&h).unwrap();
    assert!(tab.buffer.text().starts_with("// typed before the crash\n"));
    assert_eq!(tab.buffer.cursor(), 5);
    assert!(tab.is_dirty());
}

#[tokio::test]
async fn a_stale_draft_is_offered_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, config) = store_with_workspace(dir.path());
    let draft = store::drafts::Draft {
        path: "lib/cart.ts".into(),
        content: "// my unsaved idea\n".into(),
        base_hash: Some(content_hash(
            "what the file held before someone else saved it\n",
        )),
        updated_at: String::new(),
    };
    store::drafts::save_batch(&mut store.conn, "ws:shop", &[draft], &[]).unwrap();
    drop(store);
    let mut h = harness_on(&config.data_dir, Target::Start, None).await;
    // The saved file wins and the draft is shown as a diff.
    assert_eq!(text_of(&h), FILES[2].1);
    assert!(matches!(h.app.overlay, Some(Overlay::Conflict)));
    insta::assert_snapshot!("conflict_100x30", draw(&mut h, 100, 30));
    insta::assert_snapshot!("conflict_60x20", draw(&mut h, 60, 20));
    key(&mut h, KeyCode::Char('t'), KeyModifiers::NONE).await;
    assert_eq!(text_of(&h), "// my unsaved idea\n");
    // Undo brings the saved text back: nothing is lost either way.
    h.app.focus = Focus::Editor;
    key(&mut h, KeyCode::Char('z'), KeyModifiers::CONTROL).await;
    assert_eq!(text_of(&h), FILES[2].1);
}

#[tokio::test]
async fn a_second_kollega_opens_read_only() {
    let mut first = fixture(None).await;
    // Pretend the first holder is another live process: our own pid
    // would count as "ours", so use the parent's (alive) pid.
    let parent = std::os::unix::process::parent_id();
    Store::open(&first.data)
        .unwrap()
        .conn
        .execute("UPDATE workspace_locks SET pid = ?1", [parent])
        .unwrap();
    let mut second = harness_on(&first.data, Target::Start, None).await;
    let read_only = second.app.editor().unwrap().read_only.clone();
    assert!(read_only.unwrap_or_default().contains("read-only"));
    open_page(&mut second).await;
    let before = text_of(&second);
    typing(&mut second, "nope").await;
    assert_eq!(text_of(&second), before);
    let screen = draw(&mut second, 100, 30);
    assert!(screen.contains("read-only"), "{screen}");
    first.h.app.quit = true;
}

#[tokio::test]
async fn the_palette_lists_the_commands_picked_lately_first() {
    let mut f = fixture(None).await;
    let first_row = |screen: &str| {
        screen
            .lines()
            .find(|l| l.contains(" — "))
            .unwrap_or_default()
            .to_string()
    };
    key(&mut f.h, KeyCode::Char('p'), KeyModifiers::ALT).await;
    assert!(!first_row(&draw(&mut f.h, 100, 30)).contains("jobs —"));
    typing(&mut f.h, "jobs").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    // Picked: the jobs view opened; the palette now starts with it.
    update(&mut f.h, Action::Jobs).await;
    key(&mut f.h, KeyCode::Char('p'), KeyModifiers::ALT).await;
    let row = first_row(&draw(&mut f.h, 100, 30));
    assert!(row.contains("jobs —"), "{row}");
}

#[tokio::test]
async fn help_palette_and_finder_overlays() {
    let mut f = fixture(None).await;
    update(&mut f.h, Action::Help).await;
    let screen = draw(&mut f.h, 100, 30);
    assert!(screen.contains("quit kollega"));
    insta::assert_snapshot!("help_100x30", screen);
    insta::assert_snapshot!("help_60x20", draw(&mut f.h, 60, 20));
    key(&mut f.h, KeyCode::Esc, KeyModifiers::NONE).await;
    assert!(f.h.app.overlay.is_none());

    key(&mut f.h, KeyCode::Char('p'), KeyModifiers::CONTROL).await;
    typing(&mut f.h, "cart").await;
    insta::assert_snapshot!("finder_60x20", draw(&mut f.h, 60, 20));
    insta::assert_snapshot!("finder_100x30", draw(&mut f.h, 100, 30));
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(
        active_tab(&f.h).map(|t| t.path.as_str()),
        Some("lib/cart.ts")
    );

    key(&mut f.h, KeyCode::Char('p'), KeyModifiers::ALT).await;
    typing(&mut f.h, "goto").await;
    insta::assert_snapshot!("palette_100x30", draw(&mut f.h, 100, 30));
    insta::assert_snapshot!("palette_60x20", draw(&mut f.h, 60, 20));
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert!(matches!(f.h.app.overlay, Some(Overlay::Prompt(_))));
    typing(&mut f.h, "3").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(active_tab(&f.h).unwrap().buffer.cursor_line_col().0, 2);
}

fn rows(h: &Harness) -> Vec<String> {
    h.app
        .session
        .as_ref()
        .unwrap()
        .tree
        .rows
        .iter()
        .map(|r| r.path.clone())
        .collect()
}

#[tokio::test]
async fn tree_creates_renames_and_deletes_in_the_store() {
    let mut f = fixture(None).await;
    key(&mut f.h, KeyCode::Char('a'), KeyModifiers::NONE).await;
    // The prompt starts in the selected folder ("app/").
    typing(&mut f.h, "new.ts").await;
    insta::assert_snapshot!("prompt_60x20", draw(&mut f.h, 60, 20));
    insta::assert_snapshot!("prompt_100x30", draw(&mut f.h, 100, 30));
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(
        active_tab(&f.h).map(|t| t.path.as_str()),
        Some("app/new.ts")
    );
    key(&mut f.h, KeyCode::Esc, KeyModifiers::NONE).await;
    // Expand app/ and rename the folder.
    update(&mut f.h, Action::Top).await;
    update(&mut f.h, Action::Open).await;
    assert!(rows(&f.h).contains(&"app/new.ts".to_string()));
    key(&mut f.h, KeyCode::Char('r'), KeyModifiers::NONE).await;
    for _ in 0..3 {
        key(&mut f.h, KeyCode::Backspace, KeyModifiers::NONE).await;
    }
    typing(&mut f.h, "web").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    let store = Store::open(&f.data).unwrap();
    let ws = store::workspaces::find(&store.conn, "shop")
        .unwrap()
        .unwrap();
    let paths: Vec<String> = store::files::list(&store.conn, ws.id)
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert!(
        paths.contains(&"web/new.ts".to_string()) && paths.contains(&"web/page.tsx".to_string()),
        "{paths:?}"
    );
    assert_eq!(
        active_tab(&f.h).map(|t| t.path.as_str()),
        Some("web/new.ts")
    );
    // Delete asks first; "n" keeps it, "y" deletes. Rows: lib, web, …
    update(&mut f.h, Action::Top).await;
    update(&mut f.h, Action::Down).await;
    key(&mut f.h, KeyCode::Char('d'), KeyModifiers::NONE).await;
    key(&mut f.h, KeyCode::Char('n'), KeyModifiers::NONE).await;
    assert!(rows(&f.h).iter().any(|p| p.starts_with("web")));
    key(&mut f.h, KeyCode::Char('d'), KeyModifiers::NONE).await;
    key(&mut f.h, KeyCode::Char('y'), KeyModifiers::NONE).await;
    assert!(
        !rows(&f.h).iter().any(|p| p.starts_with("web")),
        "{:?} {:?}",
        rows(&f.h),
        f.h.app.message
    );
    assert!(rows(&f.h).contains(&"lib".to_string()));
}

#[tokio::test]
async fn vim_keys_edit_with_modes_and_sequences() {
    let mut f = fixture(Some("vim")).await;
    open_page(&mut f.h).await;
    assert_eq!(f.h.app.mode(), Mode::Normal);
    // Normal mode: letters are commands, not text.
    typing(&mut f.h, "dd").await;
    assert!(text_of(&f.h).starts_with("  return"));
    typing(&mut f.h, "u").await;
    assert!(text_of(&f.h).starts_with("export default"));
    typing(&mut f.h, "Gggi").await;
    assert_eq!(f.h.app.mode(), Mode::Insert);
    typing(&mut f.h, "// top").await;
    key(&mut f.h, KeyCode::Esc, KeyModifiers::NONE).await;
    assert_eq!(f.h.app.mode(), Mode::Normal);
    assert!(text_of(&f.h).starts_with("// topexport"));
    typing(&mut f.h, "yyp").await;
    assert!(text_of(&f.h).starts_with("// topexport default function Page() {\n// topexport"));
    insta::assert_snapshot!("vim_normal_60x20", draw(&mut f.h, 60, 20));
    typing(&mut f.h, ":w").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert!(dirty_paths(&f.h).is_empty());
    typing(&mut f.h, ":q").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert!(f.h.app.quit);
}

#[tokio::test]
async fn write_quit_leaves_only_after_the_save_is_written() {
    let mut f = fixture(Some("vim")).await;
    open_page(&mut f.h).await;
    typing(&mut f.h, "iX").await;
    key(&mut f.h, KeyCode::Esc, KeyModifiers::NONE).await;
    f.h.type_text(":wq");
    f.h.key("enter");
    assert!(!f.h.app.quit, "quit before the save was written");
    assert!(f.h.settle().await);
    assert!(f.h.app.quit);
    assert!(dirty_paths(&f.h).is_empty());
}

#[tokio::test]
async fn search_replace_and_copy_reach_the_clipboard() {
    let mut f = fixture(None).await;
    open_page(&mut f.h).await;
    key(&mut f.h, KeyCode::Char('f'), KeyModifiers::CONTROL).await;
    typing(&mut f.h, "Sh(o)p").await;
    // Literal at first: alt-r makes it a regex.
    key(&mut f.h, KeyCode::Char('r'), KeyModifiers::ALT).await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    key(&mut f.h, KeyCode::Char('c'), KeyModifiers::CONTROL).await;
    assert_eq!(f.h.app.take_clipboard().as_deref(), Some("Shop"));
    key(&mut f.h, KeyCode::Char('r'), KeyModifiers::CONTROL).await;
    typing(&mut f.h, "Sh(o)p").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    typing(&mut f.h, "St${1}re").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert!(text_of(&f.h).contains(">Store</h1>"), "{}", text_of(&f.h));
    // One undo step takes the whole replace back.
    key(&mut f.h, KeyCode::Char('z'), KeyModifiers::CONTROL).await;
    assert!(text_of(&f.h).contains(">Shop</h1>"));
}

#[tokio::test]
async fn folder_workspace_saves_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), "<h1>hi</h1>\r\n").unwrap();
    let mut h = Harness::start(
        &dir.path().join("data"),
        Target::Folder(root.clone()),
        Some("index.html"),
        Some(1),
        options(None),
    )
    .await
    .unwrap();
    assert_eq!(h.app.session.as_ref().unwrap().files.storage_label(), "dir");
    key(&mut h, KeyCode::End, KeyModifiers::NONE).await;
    typing(&mut h, "!").await;
    key(&mut h, KeyCode::Char('s'), KeyModifiers::CONTROL).await;
    assert_eq!(
        std::fs::read(root.join("index.html")).unwrap(),
        b"<h1>hi</h1>!\r\n"
    );
}

#[tokio::test]
async fn several_workspaces_start_in_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, config) = store_with_workspace(dir.path());
    let other = dir.path().join("blog");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("index.md"), "# Blog\n").unwrap();
    import(
        &mut store,
        &config,
        &other,
        &ImportOptions::default(),
        &mut (),
    )
    .unwrap();
    drop(store);
    let mut h = harness_on(&config.data_dir, Target::Start, None).await;
    assert_eq!(h.app.focus, Focus::Workspaces);
    assert!(h.app.session.is_none());
    insta::assert_snapshot!("workspaces_100x30", draw(&mut h, 100, 30));
    insta::assert_snapshot!("workspaces_60x20", draw(&mut h, 60, 20));
    update(&mut h, Action::Down).await;
    update(&mut h, Action::Open).await;
    assert_eq!(
        h.app.session.as_ref().map(|s| s.name.as_str()),
        Some("shop")
    );
}

#[test]
fn every_keymap_and_theme_file_on_disk_loads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(root.join("keymaps")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (_, errors) = Keymap::load(Some(&name), None);
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        assert!(
            crate::tui::keymap::SHIPPED.iter().any(|(n, _)| *n == name),
            "{name} is not shipped"
        );
    }
    for entry in std::fs::read_dir(root.join("themes")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        Theme::load(&name, None, ColorDepth::TrueColor)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[tokio::test]
async fn the_cursor_lands_on_wide_text_as_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("a.txt"), "中文\t😀e\u{301}x\n").unwrap();
    let mut h = Harness::start(
        &dir.path().join("data"),
        Target::Folder(root),
        Some("a.txt"),
        None,
        options(None),
    )
    .await
    .unwrap();
    assert!(h.settle().await);
    key(&mut h, KeyCode::End, KeyModifiers::NONE).await;
    key(&mut h, KeyCode::Left, KeyModifiers::NONE).await;
    draw(&mut h, 60, 20);
    let (x, y) = h.cursor().unwrap();
    // One step left of the end sits on "x", drawn after 中文 (4 cells),
    // a tab to column 8, 😀 (2 cells) and é (1 cell): column 11.
    assert_eq!(h.buffer()[(x, y)].symbol(), "x");
    assert_eq!(active_tab(&h).unwrap().buffer.cursor_line_col(), (0, 11));
}

#[tokio::test]
async fn a_click_lands_on_the_character_drawn_there() {
    let mut f = fixture(None).await;
    open_page(&mut f.h).await;
    let screen = draw(&mut f.h, 100, 30);
    // "Shop" on line 2: click its "S".
    let (row, line) = screen
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("Shop</h1>"))
        .unwrap();
    // Each line of the screen is quoted: its first cell follows the '"'.
    let column = (line[..line.find("Shop").unwrap()].chars().count() - 1) as u16;
    f.h.app
        .handle_event(&Event::Mouse(crossterm::event::MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row: row as u16,
            modifiers: KeyModifiers::NONE,
        }));
    let tab = active_tab(&f.h).unwrap();
    let at = tab.buffer.cursor();
    assert_eq!(
        tab.buffer
            .text()
            .chars()
            .skip(at)
            .take(4)
            .collect::<String>(),
        "Shop"
    );
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A repository with one commit, two changed hunks in a.txt and an
/// untracked b.txt, opened in the app.
async fn git_fixture() -> (Harness, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Test"]);
    git(&repo, &["config", "user.email", "test@example.com"]);
    let lines: String = (1..=12).map(|i| format!("line{i}\n")).collect();
    std::fs::write(repo.join("a.txt"), &lines).unwrap();
    std::fs::write(repo.join(".gitignore"), "build/\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "init"]);
    std::fs::write(
        repo.join("a.txt"),
        lines
            .replace("line2\n", "LINE2\n")
            .replace("line11\n", "LINE11\n"),
    )
    .unwrap();
    std::fs::write(repo.join("b.txt"), "new\n").unwrap();
    std::fs::create_dir_all(repo.join("build")).unwrap();
    std::fs::write(repo.join("build/out.js"), "ignored\n").unwrap();
    let h = harness_on(&dir.path().join("data"), Target::Folder(repo.clone()), None).await;
    (h, dir, repo)
}

fn git_pane(h: &Harness) -> &crate::tui::panes::git::GitPane {
    h.app.git().unwrap()
}

#[tokio::test]
async fn a_git_workspace_shows_markers_and_respects_gitignore() {
    let (mut h, _dir, _repo) = git_fixture().await;
    assert_eq!(h.app.session.as_ref().unwrap().storage_label(), "git");
    assert_eq!(
        rows(&h),
        [".gitignore", "a.txt", "b.txt"],
        "build/ is ignored by git"
    );
    let screen = draw(&mut h, 100, 30);
    assert!(screen.contains("[git main ●2]"), "{screen}");
    insta::assert_snapshot!("git_tree_60x20", draw(&mut h, 60, 20));
}

#[tokio::test]
async fn changes_view_stages_one_hunk_and_commits_it() {
    let (mut h, _dir, repo) = git_fixture().await;
    key(&mut h, KeyCode::Char('g'), KeyModifiers::ALT).await;
    assert_eq!(h.app.focus, Focus::Changes);
    insta::assert_snapshot!("changes_100x30", draw(&mut h, 100, 30));
    insta::assert_snapshot!("changes_60x20", draw(&mut h, 60, 20));
    // Into the diff of a.txt; stage its first hunk only.
    key(&mut h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(h.app.focus, Focus::Diff);
    key(&mut h, KeyCode::Char(' '), KeyModifiers::NONE).await;
    let cached = git(&repo, &["diff", "--cached"]);
    assert!(
        cached.contains("+LINE2") && !cached.contains("LINE11"),
        "{cached}"
    );
    // Commit it with a message typed in the prompt.
    key(&mut h, KeyCode::Char('c'), KeyModifiers::NONE).await;
    typing(&mut h, "Capitalise line two").await;
    insta::assert_snapshot!("commit_prompt_60x20", draw(&mut h, 60, 20));
    key(&mut h, KeyCode::Enter, KeyModifiers::NONE).await;
    let log = git(&repo, &["log", "--format=%s"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        ["Capitalise line two", "init"]
    );
    let left = git(&repo, &["diff"]);
    assert!(
        left.contains("+LINE11") && !left.contains("LINE2"),
        "{left}"
    );
    // The status follows: one file still modified, one untracked.
    let status = git_pane(&h).status.clone().unwrap();
    assert_eq!(status.dirty_count(), 2);
}

#[tokio::test]
async fn a_split_holds_across_refreshes_and_enter_stays_in_the_diff() {
    let (mut h, _dir, repo) = git_fixture().await;
    let lines: String = (1..=6).map(|i| format!("line{i}\n")).collect();
    std::fs::write(
        repo.join("a.txt"),
        lines.replace("line2", "TWO").replace("line5", "FIVE"),
    )
    .unwrap();
    git(&repo, &["add", "a.txt"]);
    git(&repo, &["commit", "-q", "-m", "a"]);
    std::fs::write(
        repo.join("a.txt"),
        lines.replace("line2", "2").replace("line5", "5"),
    )
    .unwrap();
    key(&mut h, KeyCode::Char('g'), KeyModifiers::ALT).await;
    key(&mut h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(h.app.focus, Focus::Diff);
    key(&mut h, KeyCode::Char('s'), KeyModifiers::NONE).await;
    assert_eq!(git_pane(&h).diff.as_ref().unwrap().hunk_count(), 2);
    // A refresh (the watcher's, or `r`) reads the same diff: the split
    // holds, so `space` stages only the first part.
    key(&mut h, KeyCode::Char('r'), KeyModifiers::NONE).await;
    h.settle().await;
    assert_eq!(git_pane(&h).diff.as_ref().unwrap().hunk_count(), 2);
    // Enter in the diff does not leave it for the file.
    key(&mut h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(h.app.focus, Focus::Diff);
    key(&mut h, KeyCode::Char(' '), KeyModifiers::NONE).await;
    let cached = git(&repo, &["diff", "--cached", "a.txt"]);
    assert!(cached.contains("+2") && !cached.contains("+5"), "{cached}");
    // `e` opens the file.
    key(&mut h, KeyCode::Char('e'), KeyModifiers::NONE).await;
    h.settle().await;
    assert_eq!(h.app.focus, Focus::Editor);
}

fn message(h: &Harness) -> String {
    h.app
        .message
        .as_ref()
        .map(|(m, _)| m.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_commit_with_nothing_staged_says_so_and_a_failed_one_keeps_its_message() {
    let (mut h, _dir, repo) = git_fixture().await;
    key(&mut h, KeyCode::Char('g'), KeyModifiers::ALT).await;
    key(&mut h, KeyCode::Char('c'), KeyModifiers::NONE).await;
    assert!(h.app.overlay.is_none(), "no prompt for a commit of nothing");
    assert!(message(&h).contains("nothing is staged"));
    // A pre-commit hook refuses: the message typed is offered again.
    let hook = repo.join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\necho no >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    git(&repo, &["add", "b.txt"]);
    key(&mut h, KeyCode::Char('r'), KeyModifiers::NONE).await;
    h.settle().await;
    key(&mut h, KeyCode::Char('c'), KeyModifiers::NONE).await;
    typing(&mut h, "Add b").await;
    key(&mut h, KeyCode::Enter, KeyModifiers::NONE).await;
    h.settle().await;
    assert!(message(&h).contains("message is kept"), "{}", message(&h));
    key(&mut h, KeyCode::Char('c'), KeyModifiers::NONE).await;
    match &h.app.overlay {
        Some(Overlay::Prompt(p)) => assert_eq!(p.text(), "Add b"),
        _ => panic!("the commit prompt opens again"),
    }
}

#[tokio::test]
async fn a_split_hunk_stages_half_and_discard_asks_first() {
    let (mut h, _dir, repo) = git_fixture().await;
    // One hunk with two separate changes: lines 2 and 5.
    let lines: String = (1..=6).map(|i| format!("line{i}\n")).collect();
    std::fs::write(repo.join("c.txt"), &lines).unwrap();
    git(&repo, &["add", "c.txt"]);
    git(&repo, &["commit", "-q", "-m", "c"]);
    std::fs::write(
        repo.join("c.txt"),
        lines.replace("line2", "TWO").replace("line5", "FIVE"),
    )
    .unwrap();
    key(&mut h, KeyCode::Char('g'), KeyModifiers::ALT).await;
    // Rows: a.txt, b.txt, c.txt (sorted by path).
    let paths: Vec<String> = git_pane(&h)
        .changes
        .entries
        .iter()
        .map(|e| e.path.clone())
        .collect();
    let c = paths.iter().position(|p| p == "c.txt").unwrap();
    for _ in 0..c {
        key(&mut h, KeyCode::Char('j'), KeyModifiers::NONE).await;
    }
    key(&mut h, KeyCode::Enter, KeyModifiers::NONE).await;
    key(&mut h, KeyCode::Char('s'), KeyModifiers::NONE).await;
    assert_eq!(git_pane(&h).diff.as_ref().unwrap().hunk_count(), 2);
    key(&mut h, KeyCode::Char(' '), KeyModifiers::NONE).await;
    let cached = git(&repo, &["diff", "--cached", "c.txt"]);
    assert!(
        cached.contains("+TWO") && !cached.contains("FIVE"),
        "{cached}"
    );
    // Discard the rest: "n" keeps it, "y" discards.
    key(&mut h, KeyCode::Char('d'), KeyModifiers::NONE).await;
    key(&mut h, KeyCode::Char('n'), KeyModifiers::NONE).await;
    assert!(
        std::fs::read_to_string(repo.join("c.txt"))
            .unwrap()
            .contains("FIVE")
    );
    key(&mut h, KeyCode::Char('d'), KeyModifiers::NONE).await;
    key(&mut h, KeyCode::Char('y'), KeyModifiers::NONE).await;
    let text = std::fs::read_to_string(repo.join("c.txt")).unwrap();
    assert!(text.contains("TWO") && !text.contains("FIVE"), "{text}");
}

#[tokio::test]
async fn a_change_on_disk_reloads_clean_buffers_and_offers_beside_dirty_ones() {
    let (mut h, _dir, repo) = git_fixture().await;
    h.app.open_file("a.txt", None);
    h.settle().await;
    h.app.open_file("b.txt", None);
    h.settle().await;
    std::fs::write(repo.join("b.txt"), "changed elsewhere\n").unwrap();
    h.app
        .on_watch(crate::workspace::watch::WatchEvent::Changed {
            paths: vec!["b.txt".into()],
            git: false,
        });
    assert!(h.settle().await);
    assert_eq!(text_of(&h), "changed elsewhere\n");
    assert!(!active_tab(&h).unwrap().is_dirty());
    typing(&mut h, "mine ").await;
    std::fs::write(repo.join("b.txt"), "theirs\n").unwrap();
    h.app.on_watch(crate::workspace::watch::WatchEvent::Rescan);
    assert!(h.settle().await);
    // The typed text stays; the disk's version is offered as a diff.
    assert_eq!(text_of(&h), "mine changed elsewhere\n");
    assert!(matches!(h.app.overlay, Some(Overlay::Conflict)));
    insta::assert_snapshot!("disk_conflict_60x20", draw(&mut h, 60, 20));
    key(&mut h, KeyCode::Char('t'), KeyModifiers::NONE).await;
    assert_eq!(text_of(&h), "theirs\n");
    assert!(!active_tab(&h).unwrap().is_dirty());
}

mod ai_prompt;
mod grep_side;
mod jobs_view;
mod meetings_flow;
mod review_flow;
mod vim_keys;

#[tokio::test]
async fn vim_search_counts_notes_the_wrap_and_wraps_lines_on_request() {
    let mut f = fixture(Some("vim")).await;
    open_page(&mut f.h).await;
    // `/` is a regex for vim users, smart-cased: `sh.p` finds `Shop`.
    typing(&mut f.h, "/sh.p").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(f.h.app.status_message(), Some("/sh.p [1/1]"));
    let (line, col) = active_tab(&f.h).unwrap().buffer.cursor_line_col();
    assert_eq!((line, col), (1, 31));
    assert!(draw(&mut f.h, 100, 30).contains(" 1/1 "));
    typing(&mut f.h, "n").await;
    assert_eq!(
        f.h.app.status_message(),
        Some("search hit BOTTOM, continuing at TOP [1/1]")
    );
    // `?` searches up; `n` goes on up, round the top.
    typing(&mut f.h, "?return").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(f.h.app.status_message(), Some("?return [1/1]"));
    typing(&mut f.h, "ggn").await;
    assert_eq!(
        f.h.app.status_message(),
        Some("search hit TOP, continuing at BOTTOM [1/1]")
    );
    // Nothing anywhere: said, for the search and for `n` after it.
    typing(&mut f.h, "/zzz").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(f.h.app.status_message(), Some("no match for zzz"));
    f.h.app.notify("", false);
    typing(&mut f.h, "n").await;
    assert_eq!(f.h.app.status_message(), Some("no match for zzz"));
    typing(&mut f.h, ":set wrap").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert!(active_tab(&f.h).unwrap().wrap);
    typing(&mut f.h, ":noh").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    key(&mut f.h, KeyCode::Char('z'), KeyModifiers::ALT).await;
    assert!(!active_tab(&f.h).unwrap().wrap);
}

#[tokio::test]
async fn the_bell_rings_once_when_more_action_items_need_a_nudge() {
    let mut f = fixture(None).await;
    let app = &mut f.h.app;
    // The first count is what was due before the start: no ring.
    app.meetings.badge = None;
    app.meetings_msg(MeetingsMsg::Badge(Ok(1)));
    assert!(!app.take_bell());
    app.meetings_msg(MeetingsMsg::Badge(Ok(2)));
    assert!(app.take_bell());
    assert!(!app.take_bell(), "one ring per rise");
    app.meetings_msg(MeetingsMsg::Badge(Ok(2)));
    app.meetings_msg(MeetingsMsg::Badge(Ok(1)));
    assert!(!app.take_bell(), "no ring when nothing new is due");
    assert_eq!(app.meetings.badge, Some(1));
}
