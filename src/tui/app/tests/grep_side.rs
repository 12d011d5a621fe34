//! Grep through the app in both storages (matches streamed in, enter opens
//! the file at the line and column), and the side column hidden, narrowed
//! and kept across a restart.

use super::*;

fn grep_view(h: &Harness) -> &crate::tui::panes::grep::GrepView {
    match &h.app.overlay {
        Some(Overlay::Grep(view)) => view,
        _ => panic!("the grep overlay is not open"),
    }
}

fn cursor(h: &Harness) -> (usize, usize) {
    active_tab(h).unwrap().buffer.cursor_line_col()
}

#[tokio::test]
async fn grep_in_a_stored_workspace_opens_the_match_at_its_line_and_column() {
    let mut f = fixture(None).await;
    key(&mut f.h, KeyCode::Char('f'), KeyModifiers::ALT).await;
    typing(&mut f.h, "shop").await;
    let found: Vec<(String, usize)> = grep_view(&f.h)
        .hits()
        .iter()
        .map(|h| (h.path.clone(), h.line))
        .collect();
    // Smart case: lowercase finds `Shop` and `shop`, in path order.
    assert_eq!(
        found,
        [
            ("README.md".to_string(), 1),
            ("README.md".to_string(), 3),
            ("app/layout.tsx".to_string(), 1),
            ("app/page.tsx".to_string(), 2),
            ("package.json".to_string(), 2),
        ]
    );
    insta::assert_snapshot!("grep_100x30", draw(&mut f.h, 100, 30));
    insta::assert_snapshot!("grep_60x20", draw(&mut f.h, 60, 20));
    for _ in 0..3 {
        key(&mut f.h, KeyCode::Down, KeyModifiers::NONE).await;
    }
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert!(f.h.app.overlay.is_none());
    assert_eq!(f.h.app.focus, Focus::Editor);
    assert_eq!(
        active_tab(&f.h).map(|t| t.path.as_str()),
        Some("app/page.tsx")
    );
    // `  return <h1 className="title">Shop</h1>;`: the S of Shop.
    assert_eq!(cursor(&f.h), (1, 31));
}

#[tokio::test]
async fn grep_in_a_folder_and_from_vims_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/a.ts"), "one\n  const total = sum(x);\n").unwrap();
    std::fs::write(root.join("src/b.ts"), "no match here\n").unwrap();
    let mut h = Harness::start(
        &dir.path().join("data"),
        Target::Folder(root.clone()),
        Some("src/b.ts"),
        Some(1),
        options(Some("vim")),
    )
    .await
    .unwrap();
    assert!(h.settle().await);
    typing(&mut h, ":").await;
    typing(&mut h, "grep total").await;
    key(&mut h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(grep_view(&h).hits().len(), 1);
    // A bad regex says why; esc closes and a new grep starts empty.
    key(&mut h, KeyCode::Char('r'), KeyModifiers::ALT).await;
    typing(&mut h, "(").await;
    assert!(grep_view(&h).hits().is_empty());
    assert!(draw(&mut h, 100, 30).contains("not a valid regular expression"));
    key(&mut h, KeyCode::Esc, KeyModifiers::NONE).await;
    assert!(h.app.overlay.is_none());
    typing(&mut h, " /").await;
    assert!(grep_view(&h).hits().is_empty());
    typing(&mut h, "sum(").await;
    key(&mut h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(active_tab(&h).map(|t| t.path.as_str()), Some("src/a.ts"));
    assert_eq!(cursor(&h), (1, 16));
}

#[tokio::test]
async fn the_tree_hides_and_narrows_and_keeps_its_width_across_a_restart() {
    let mut f = fixture(None).await;
    assert_eq!(f.h.app.focus, Focus::Tree);
    // Narrower by two steps at 80 columns: 20 → 12 (the least).
    f.h.screen_at(80, 24);
    for _ in 0..3 {
        key(&mut f.h, KeyCode::Char('<'), KeyModifiers::NONE).await;
    }
    insta::assert_snapshot!("tree_narrow_80x24", draw(&mut f.h, 80, 24));
    key(&mut f.h, KeyCode::Char('>'), KeyModifiers::NONE).await;
    assert_eq!(f.h.app.areas().tree.width, 16);
    // Hidden: the editor has the focus and the whole width; the finder
    // still opens files; tab stays in the editor.
    key(&mut f.h, KeyCode::Char('b'), KeyModifiers::CONTROL).await;
    assert_eq!(f.h.app.focus, Focus::Editor);
    key(&mut f.h, KeyCode::Char('p'), KeyModifiers::CONTROL).await;
    typing(&mut f.h, "cart").await;
    key(&mut f.h, KeyCode::Enter, KeyModifiers::NONE).await;
    assert_eq!(
        active_tab(&f.h).map(|t| t.path.as_str()),
        Some("lib/cart.ts")
    );
    key(&mut f.h, KeyCode::F(6), KeyModifiers::NONE).await;
    key(&mut f.h, KeyCode::Esc, KeyModifiers::NONE).await;
    assert_eq!(
        f.h.app.focus,
        Focus::Editor,
        "esc does not focus a hidden tree"
    );
    insta::assert_snapshot!("tree_hidden_60x20", draw(&mut f.h, 60, 20));
    let data = f.data.clone();
    f.h.shutdown().await.unwrap();

    let mut h = harness_on(&data, Target::Start, None).await;
    assert_eq!(
        h.app.side,
        Side {
            hidden: true,
            width: Some(16)
        }
    );
    assert_eq!(
        h.app.focus,
        Focus::Editor,
        "a hidden tree never has the focus"
    );
    key(&mut h, KeyCode::Char('b'), KeyModifiers::ALT).await;
    h.screen_at(80, 24);
    assert_eq!(h.app.areas().tree.width, 16);
}
