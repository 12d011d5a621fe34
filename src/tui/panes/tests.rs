//! Each pane drawn alone, at 100x30 and 60x20, from state built by hand:
//! a change to one pane shows in its own snapshots, whatever the rest of
//! the workstation does.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::changes::ChangesPane;
use super::diff::DiffView;
use super::editor::{ConflictKind, DraftConflict, EditorPane, Tab};
use super::jobs::JobsPane;
use super::picker::Picker;
use super::prompt::{ConfirmKind, Prompt, PromptKind};
use super::status::StatusLine;
use super::tree::TreePane;
use super::workspaces::WorkspacesPane;
use crate::editor::buffer::Selection;
use crate::editor::highlight::Highlighter;
use crate::store::Store;
use crate::store::workspaces::{StorageType, Workspace};
use crate::tui::keymap::{Action, Keymap, Scope};
use crate::tui::theme::{ColorDepth, Theme};
use crate::workspace::tree;

const SIZES: [(u16, u16); 2] = [(100, 30), (60, 20)];

fn theme() -> Theme {
    Theme::load("dark", None, ColorDepth::TrueColor).unwrap()
}

/// Draws with `render` at both sizes; the screens, for the snapshots.
fn screens(mut render: impl FnMut(Rect, &mut Buffer)) -> [String; 2] {
    SIZES.map(|(width, height)| {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| render(f.area(), f.buffer_mut())).unwrap();
        terminal.backend().to_string()
    })
}

fn snapshot(name: &str, screens: [String; 2]) {
    for ((width, height), screen) in SIZES.iter().zip(screens) {
        insta::assert_snapshot!(format!("{name}_{width}x{height}"), screen);
    }
}

fn workspace(id: i64, name: &str, storage_type: StorageType, files: u64) -> Workspace {
    Workspace {
        id,
        name: name.into(),
        storage_type,
        source: format!("/exports/{name}.zip"),
        fingerprint: String::new(),
        taken_over_at: "2026-12-01T10:00:00Z".into(),
        files_count: files,
        bytes: files * 900,
        ignored: 0,
        repo_path: None,
    }
}

#[test]
fn workspaces_pane_marks_the_open_one_and_the_selection() {
    let theme = theme();
    let mut pane = WorkspacesPane::new(vec![
        workspace(1, "shop", StorageType::Sqlite, 18),
        workspace(2, "blog", StorageType::Git, 240),
        workspace(3, "landing", StorageType::Sqlite, 5),
    ]);
    let _ = pane.update(Action::Down);
    snapshot(
        "workspaces",
        screens(|area, buf| pane.render(area, buf, true, Some("shop"), &theme)),
    );
}

#[test]
fn a_name_too_long_for_the_tree_ends_with_an_ellipsis() {
    let theme = theme();
    let mut pane = TreePane::new(tree::build([
        "a-very-long-component-name.stories.tsx",
        "b.ts",
    ]));
    let area = Rect::new(0, 0, 20, 5);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    pane.render(area, &mut buf, true, None, None, &theme);
    let row: String = (1..19).map(|x| buf[(x, 1)].symbol().to_string()).collect();
    assert_eq!(row, "  a-very-long-com…");
}

#[test]
fn tree_pane_shows_folders_files_and_git_markers() {
    let theme = theme();
    let paths = [
        "app/page.tsx",
        "app/layout.tsx",
        "components/ui/button.tsx",
        "lib/cart.ts",
        "package.json",
        "README.md",
    ];
    let mut pane = TreePane::new(tree::build(paths));
    let _ = pane.update(Action::Open);
    let _ = pane.update(Action::Down);
    let markers = [("app/page.tsx", 'M'), ("app", '•'), ("README.md", '?')]
        .into_iter()
        .map(|(p, m)| (p.to_string(), m))
        .collect();
    snapshot(
        "tree",
        screens(|area, buf| {
            pane.render(
                area,
                buf,
                true,
                Some("app/page.tsx"),
                Some(&markers),
                &theme,
            )
        }),
    );
}

#[test]
fn editor_pane_shows_tabs_a_selection_and_a_banner() {
    let theme = theme();
    let highlighter = Highlighter::new(&theme.syntax_palette());
    let page = "export default function Page() {\n  return <h1 className=\"title\">Shop</h1>;\n}\n";
    let mut first = Tab::new("app/page.tsx".into(), Some(page), &highlighter);
    first.buffer.set_selection(Selection::new(15, 23));
    let mut second = Tab::new(
        "lib/cart.ts".into(),
        Some("export const x = 1;\n"),
        &highlighter,
    );
    second.buffer.insert("// typed\n");
    let mut pane = EditorPane::new(vec![first, second], 0, false);
    snapshot(
        "editor",
        screens(|area, buf| {
            pane.render(
                area,
                buf,
                true,
                Some(("read-only: shop is open in another kollega", true)),
                &highlighter,
                &theme,
            );
        }),
    );
}

const STATUS: &[u8] = b"# branch.oid 1111111111111111111111111111111111111111\0# branch.head main\0# branch.upstream origin/main\0# branch.ab +2 -1\0\
1 .M N... 100644 100644 100644 1111111111111111111111111111111111111111 1111111111111111111111111111111111111111 app/page.tsx\0\
1 M. N... 100644 100644 100644 1111111111111111111111111111111111111111 2222222222222222222222222222222222222222 lib/cart.ts\0\
1 MM N... 100644 100644 100644 1111111111111111111111111111111111111111 2222222222222222222222222222222222222222 README.md\0\
? notes.txt\0";

#[test]
fn changes_pane_shows_staged_and_unstaged_letters() {
    let theme = theme();
    let status = crate::git::status::parse(STATUS).unwrap();
    let mut pane = ChangesPane::new();
    pane.replace(&status);
    let _ = pane.update(Action::Down);
    snapshot(
        "changes",
        screens(|area, buf| pane.render(area, buf, true, Some(&status), &theme)),
    );
}

const DIFF: &str = "diff --git a/lib/cart.ts b/lib/cart.ts
--- a/lib/cart.ts
+++ b/lib/cart.ts
@@ -1,4 +1,5 @@
 export function total(items: number[]): number {
-  return items.reduce((a, b) => a + b, 0);
+  const sum = items.reduce((a, b) => a + b, 0);
+  return Math.round(sum * 100) / 100;
 }
 
@@ -10,3 +11,3 @@ export function count(items: number[]) {
   // how many
-  return items.length;
+  return items.filter(Boolean).length;
 }
";

#[test]
fn diff_view_shows_hunks_numbers_and_the_selected_hunk() {
    let theme = theme();
    let highlighter = Highlighter::new(&theme.syntax_palette());
    let patch = crate::patch::parse(DIFF.as_bytes()).unwrap();
    let mut view = DiffView::new(patch.files[0].clone(), false, &highlighter);
    view.select(true);
    snapshot(
        "diff",
        screens(|area, buf| view.render(area, buf, true, &highlighter, &theme)),
    );
}

#[test]
fn jobs_pane_shows_the_list_and_the_selected_jobs_log() {
    use crate::jobs::payload::{CommandPayload, JobPayload};
    use crate::jobs::queue::{self, Filter, Outcome, Stream};
    const T0: i64 = 1_767_323_045_000;
    let theme = theme();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let c = &mut store.conn;
    let job = |argv: &str| CommandPayload::argv(vec![argv.to_string()]).job(Some("shop".into()));
    let built = queue::enqueue(c, &job("cargo build"), T0).unwrap();
    queue::claim_id(c, built, "tui:h:1:1", T0 + 1_000, 30_000).unwrap();
    queue::finish(
        c,
        built,
        "tui:h:1:1",
        &Outcome::Succeeded(serde_json::json!({})),
        T0 + 9_000,
    )
    .unwrap();
    let tested = queue::enqueue(c, &job("npm test"), T0 + 10_000).unwrap();
    queue::claim_id(c, tested, "tui:h:1:1", T0 + 10_000, 30_000).unwrap();
    let lines: Vec<(Stream, i64, String)> = [
        "> shop@1.0.0 test",
        "PASS lib/cart.test.ts",
        "\x1b[31mFAIL\x1b[0m app/page.test.tsx",
    ]
    .iter()
    .map(|l| (Stream::Stdout, T0 + 11_000, l.to_string()))
    .collect();
    let tx = c.transaction().unwrap();
    queue::append_logs(&tx, tested, 1, &lines, 0, 2000).unwrap();
    tx.commit().unwrap();
    let mut pane = JobsPane::new();
    pane.merge(queue::list(c, &Filter::default()).unwrap());
    pane.select_id(tested);
    pane.sync_log();
    pane.log
        .append(queue::logs_after(c, tested, -1, 100).unwrap());
    snapshot(
        "jobs",
        screens(|area, buf| pane.render(area, buf, Some(true), &theme, T0 + 14_000)),
    );
}

#[test]
fn picker_shows_the_query_and_the_ranked_matches() {
    let theme = theme();
    let items = [
        "app/page.tsx",
        "app/layout.tsx",
        "lib/cart.ts",
        "package.json",
    ]
    .iter()
    .map(|p| (p.to_string(), String::new(), p.to_string()))
    .collect();
    let mut picker = Picker::new("Files", items);
    for c in "pa".chars() {
        let key = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c));
        let _ = picker.handle_key(None, key);
    }
    snapshot(
        "picker",
        screens(|area, buf| {
            picker.render(area, buf, &theme);
        }),
    );
}

#[test]
fn finder_ranks_a_match_in_the_file_name_first_and_marks_the_matched_characters() {
    let theme = theme();
    let items = ["app/api/tasks/route.ts", "lib/tasks.ts", "tests/keys.rs"]
        .iter()
        .map(|p| (p.to_string(), String::new(), p.to_string()))
        .collect();
    let mut picker = Picker::of_paths("Files", items);
    for c in "tsks".chars() {
        let key = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c));
        let _ = picker.handle_key(None, key);
    }
    let area = Rect::new(0, 0, 60, 10);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    picker.render(area, &mut buf, &theme);
    let rows: Vec<String> = (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect()
        })
        .collect();
    let first = rows.iter().position(|r| r.contains("lib/tasks.ts"));
    let second = rows
        .iter()
        .position(|r| r.contains("app/api/tasks/route.ts"));
    assert!(first.is_some() && first < second, "{rows:#?}");
    // The matched characters of `lib/tasks.ts` are in `tasks.ts`, drawn
    // in the title style; the folder is not.
    let row = first.unwrap_or_default() as u16;
    let x0 = rows[row as usize].find("lib/tasks.ts").unwrap_or_default() as u16;
    let hit = theme.ui("title").fg;
    assert_ne!(
        buf[(x0, row)].fg,
        hit.unwrap_or_default(),
        "`l` is not matched"
    );
    assert_eq!(
        buf[(x0 + 4, row)].style().fg,
        hit,
        "`t` of tasks is matched"
    );
}

#[test]
fn a_question_too_long_for_the_terminal_keeps_its_answer_keys() {
    let theme = theme();
    let question = ConfirmKind::QuitWithJobs { running: 1 }.question();
    let area = Rect::new(0, 0, 50, 1);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    super::prompt::render_question(&question, area, &mut buf, &theme);
    let row: String = (0..50).map(|x| buf[(x, 0)].symbol().to_string()).collect();
    assert!(
        row.starts_with(" [y]es / [n]o  quit? 1 running job"),
        "{row:?}"
    );
    assert!(row.trim_end().ends_with('…'), "{row:?}");
}

#[test]
fn prompt_and_question_take_the_status_line() {
    let theme = theme();
    let prompt = Prompt::new(PromptKind::Rename { from: "app".into() }, "app");
    let question = ConfirmKind::CancelJob {
        id: 12,
        title: "npm test".into(),
    }
    .question();
    snapshot(
        "prompt_and_question",
        screens(|area, buf| {
            let top = Rect { height: 1, ..area };
            prompt.render(top, buf, &theme);
            let below = Rect { y: 2, ..top };
            super::prompt::render_question(&question, below, buf, &theme);
        }),
    );
}

#[test]
fn help_lists_the_keys_in_effect() {
    let theme = theme();
    let (keymap, _) = Keymap::load(None, None);
    snapshot(
        "help",
        screens(|area, buf| {
            super::help::HelpView::default().render(
                &keymap,
                &[Scope::Global, Scope::Changes],
                area,
                buf,
                &theme,
            )
        }),
    );
}

#[test]
fn help_scrolls_filters_and_closes_with_esc_or_q() {
    use crossterm::event::{KeyCode, KeyEvent};
    let theme = theme();
    let (keymap, _) = Keymap::load(None, None);
    let scopes = [Scope::Global, Scope::Editor];
    let area = Rect::new(0, 0, 80, 24);
    let text = |view: &mut super::help::HelpView| {
        let mut buf = ratatui::buffer::Buffer::empty(area);
        view.render(&keymap, &scopes, area, &mut buf, &theme);
        (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let press = |view: &mut super::help::HelpView, code: KeyCode| {
        let key = KeyEvent::from(code);
        view.handle_key(keymap.action(Scope::List, &key), key)
    };
    let total = keymap.help(&scopes).len();
    let mut view = super::help::HelpView::default();
    let first = text(&mut view);
    assert!(first.contains(&format!("of {total}")), "{first}");
    // Scrolling shows the entries below the first page.
    assert!(press(&mut view, KeyCode::Char('G')));
    let last = text(&mut view);
    assert!(last.contains(&format!("of {total}")) && last != first);
    let bottom = keymap
        .help(&scopes)
        .last()
        .map(|(a, _)| a.describe())
        .unwrap_or_default();
    let bottom: String = bottom.chars().take(30).collect();
    assert!(
        last.contains(&bottom),
        "the last entry is reachable: {last}"
    );
    // `/` filters by what a key does.
    assert!(press(&mut view, KeyCode::Char('/')));
    for c in "save".chars() {
        assert!(press(&mut view, KeyCode::Char(c)));
    }
    assert!(press(&mut view, KeyCode::Enter));
    let filtered = text(&mut view);
    assert!(
        filtered.contains("ctrl-s") && !filtered.contains(&format!("of {total}")),
        "{filtered}"
    );
    // Other keys do not close it; esc and q do.
    assert!(press(&mut view, KeyCode::Char('x')));
    assert!(!press(&mut view.clone(), KeyCode::Esc));
    assert!(!press(&mut view, KeyCode::Char('q')));
}

#[test]
fn status_line_shows_the_workspace_file_and_message() {
    let theme = theme();
    snapshot(
        "status",
        screens(|area, buf| {
            StatusLine {
                git: Some("main ↑2 ↓1 ●3"),
                format: Some("LF 2sp"),
                hint: "f1 help  alt-p commands  ctrl-q quit",
                mode: Some("NORMAL"),
                workspace: Some(("shop", "git")),
                file: Some(("app/page.tsx", "TypeScriptReact", 12, 7, true)),
                message: Some("saved app/page.tsx"),
                is_error: false,
                usage: None,
                nudges: None,
            }
            .render(Rect { height: 1, ..area }, buf, &theme)
        }),
    );
}

#[test]
fn conflict_shows_the_two_versions_as_a_diff() {
    let theme = theme();
    let highlighter = Highlighter::new(&theme.syntax_palette());
    let mut tab = Tab::new(
        "lib/cart.ts".into(),
        Some("export const rate = 1;\nexport const tax = 0.2;\n"),
        &highlighter,
    );
    tab.conflict = Some(DraftConflict {
        other: "export const rate = 2;\nexport const tax = 0.2;\n".into(),
        kind: ConflictKind::ChangedOnDisk,
    });
    snapshot(
        "conflict",
        screens(|area, buf| super::conflict::render(&tab, area, buf, &theme)),
    );
}
