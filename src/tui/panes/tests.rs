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
fn grep_lists_the_matching_lines_with_the_match_highlighted() {
    use crate::workspace::grep::{Hit, Summary};
    let theme = theme();
    let (mut view, request) = super::grep::GrepView::new("cart");
    let generation = request.map(|r| r.generation).unwrap_or_default();
    let hit = |path: &str, line, column, text: &str| Hit {
        path: path.into(),
        line,
        column,
        text: text.into(),
    };
    assert!(view.batch(
        generation,
        vec![
            hit("app/page.tsx", 4, 9, "  const cart = useCart();"),
            hit(
                "lib/cart.ts",
                1,
                17,
                "export function cartTotal(items: number[]): number {"
            ),
        ]
    ));
    assert!(view.batch(
        generation,
        vec![hit("lib/cart.test.ts", 12, 5, "    CART.clear();")]
    ));
    let screens = screens(|area, buf| {
        view.render(area, buf, &theme);
    });
    assert!(
        screens[0].contains("3 matches in 3 files · searching…"),
        "{}",
        screens[0]
    );
    snapshot("grep", screens);

    let area = Rect::new(0, 0, 100, 30);
    let mut buf = Buffer::empty(area);
    view.render(area, &mut buf, &theme);
    let rows: Vec<String> = (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect()
        })
        .collect();
    let row = rows
        .iter()
        .position(|r| r.contains("app/page.tsx:4: const cart"))
        .unwrap_or_else(|| panic!("{rows:#?}"));
    let line = &rows[row];
    // Columns in cells: every symbol here is one char wide.
    let at = |needle: &str| line[..line.find(needle).unwrap()].chars().count() as u16;
    let marked = theme.ui("title").fg;
    let (c, u) = (at("cart ="), at("useCart"));
    assert_eq!(
        buf[(c, row as u16)].fg,
        marked.unwrap_or_default(),
        "`cart` is marked"
    );
    assert_eq!(
        buf[(u + 3, row as u16)].fg,
        marked.unwrap_or_default(),
        "smart case: `Cart` too"
    );
    assert_ne!(
        buf[(u, row as u16)].fg,
        marked.unwrap_or_default(),
        "`use` is not"
    );
    assert!(view.done(
        generation,
        Ok(Summary {
            files_searched: 40,
            ..Summary::default()
        })
    ));
    let mut buf = Buffer::empty(area);
    view.render(area, &mut buf, &theme);
    let all: String = (0..area.height)
        .flat_map(|y| (0..area.width).map(move |x| (x, y)))
        .map(|p| buf[p].symbol().to_string())
        .collect();
    assert!(
        all.contains("3 matches in 3 files · 40 files searched"),
        "{all}"
    );
}

#[test]
fn a_question_too_long_for_the_terminal_keeps_its_answer_keys() {
    let theme = theme();
    let kind = ConfirmKind::QuitWithJobs {
        running: vec!["make deploy".into()],
    };
    let area = Rect::new(0, 0, 80, 1);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    super::prompt::render_question(kind.answers(), &kind.question(), area, &mut buf, &theme);
    let row: String = (0..80).map(|x| buf[(x, 0)].symbol().to_string()).collect();
    assert!(
        row.starts_with(" [l]eave to a worker  [c]ancel  [w]ait  [esc] stay  1 job running: make"),
        "{row:?}"
    );
    assert!(row.trim_end().ends_with('…'), "{row:?}");
    let kind = ConfirmKind::QuitUnsaved { files: 2 };
    let area = Rect::new(0, 0, 40, 1);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    super::prompt::render_question(kind.answers(), &kind.question(), area, &mut buf, &theme);
    let row: String = (0..40).map(|x| buf[(x, 0)].symbol().to_string()).collect();
    assert!(row.starts_with(" [y]es / [n]o  quit? 2 files"), "{row:?}");
}

#[test]
fn prompt_and_question_take_the_status_line() {
    let theme = theme();
    let prompt = Prompt::new(PromptKind::Rename { from: "app".into() }, "app");
    let kind = ConfirmKind::CancelJob {
        id: 12,
        title: "npm test".into(),
    };
    let question = kind.question();
    snapshot(
        "prompt_and_question",
        screens(|area, buf| {
            let top = Rect { height: 1, ..area };
            prompt.render(top, buf, &theme);
            let below = Rect { y: 2, ..top };
            super::prompt::render_question(kind.answers(), &question, below, buf, &theme);
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

/// Draws with `render` at `width` x `height`: the screen and its cells.
fn screen_at(width: u16, height: u16, render: impl FnOnce(Rect, &mut Buffer)) -> (String, Buffer) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| render(f.area(), f.buffer_mut())).unwrap();
    let cells = terminal.backend().buffer().clone();
    (terminal.backend().to_string(), cells)
}

/// The text of the cells of row `y` drawn in `style`'s colours, as runs.
fn styled_runs(cells: &Buffer, y: u16, style: ratatui::style::Style) -> Vec<String> {
    let mut runs = Vec::new();
    let mut run = String::new();
    for x in 0..cells.area.width {
        let cell = &cells[(x, y)];
        if cell.bg == style.bg.unwrap_or_default()
            && cell.modifier.contains(style.add_modifier)
            && style.bg.is_some() | !style.add_modifier.is_empty()
        {
            run.push_str(cell.symbol());
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

const CART: &str = "import { useCart } from \"./cart\";\n\nexport function Cart() {\n  const cart = useCart();\n  return cart.items.length;\n}\n";

#[test]
fn editor_search_highlights_every_match_and_shows_the_count() {
    use crate::editor::search::Query;
    use crate::tui::app::{Effect, Outcome};
    let theme = theme();
    let highlighter = Highlighter::new(&theme.syntax_palette());
    let tab = Tab::new("lib/cart.ts".into(), Some(CART), &highlighter);
    let mut pane = EditorPane::new(vec![tab], 0, false);
    let query = |pattern: &str| Query {
        pattern: pattern.into(),
        regex: false,
    };
    // Literal and smart-cased: `cart` is any case, 5 matches; the first
    // after the cursor is the second one (`useCart` on line 1).
    let note = |outcome| match outcome {
        Outcome::Effect(Effect::Notify(message, false)) => message,
        _ => panic!("no note"),
    };
    assert_eq!(note(pane.search(query("cart"), false)), "/cart [1/6]");
    assert_eq!(note(pane.update(Action::FindNext)), "/cart [2/6]");
    let (screen, cells) = screen_at(60, 12, |area, buf| {
        pane.render(area, buf, true, None, &highlighter, &theme);
    });
    insta::assert_snapshot!("editor_search_60x12", screen);
    let matches = styled_runs(&cells, 2, theme.ui("search_match"));
    let current = styled_runs(&cells, 2, theme.ui("search_current"));
    assert_eq!(matches, ["Cart"], "the other match of the line");
    assert_eq!(current, ["cart"], "the match the search stands on");
    assert_eq!(styled_runs(&cells, 4, theme.ui("search_match")), ["Cart"]);
    assert_eq!(
        styled_runs(&cells, 5, theme.ui("search_match")),
        ["cart", "Cart"]
    );
    assert_eq!(styled_runs(&cells, 6, theme.ui("search_match")), ["cart"]);
    // Round the end: vim's words, and the count starts again.
    for _ in 0..4 {
        let _ = pane.update(Action::FindNext);
    }
    assert_eq!(
        note(pane.update(Action::FindNext)),
        "search hit BOTTOM, continuing at TOP [1/6]"
    );
    assert_eq!(
        note(pane.update(Action::FindPrev)),
        "search hit TOP, continuing at BOTTOM [6/6]"
    );
    // A capital makes it exact.
    let _ = pane.update(Action::Top);
    assert_eq!(note(pane.search(query("Cart"), false)), "/Cart [1/3]");
    // Nothing anywhere.
    assert_eq!(
        note(pane.search(query("nothing"), false)),
        "no match for nothing"
    );
    // Esc hides the matches; the count goes with a change.
    let _ = pane.search(query("cart"), false);
    pane.active_tab_mut().unwrap().buffer.insert("x");
    let (screen, _) = screen_at(60, 12, |area, buf| {
        pane.render(area, buf, true, None, &highlighter, &theme);
    });
    assert!(!screen.contains("/6 "), "{screen}");
    let _ = pane.update(Action::Back);
    let (_, cells) = screen_at(60, 12, |area, buf| {
        pane.render(area, buf, true, None, &highlighter, &theme);
    });
    assert!(styled_runs(&cells, 5, theme.ui("search_match")).is_empty());
}

#[test]
fn without_colour_matches_are_reverse_and_the_current_one_underlined() {
    use crate::editor::search::Query;
    let theme = Theme::load("dark", None, ColorDepth::None).unwrap();
    let highlighter = Highlighter::new(&theme.syntax_palette());
    let tab = Tab::new("lib/cart.ts".into(), Some(CART), &highlighter);
    // vim: `/` searches a regex and leaves the cursor on the match.
    let mut pane = EditorPane::new(vec![tab], 0, true);
    let _ = pane.search(
        Query {
            pattern: "c.rt".into(),
            regex: true,
        },
        false,
    );
    let (_, cells) = screen_at(60, 12, |area, buf| {
        pane.render(area, buf, true, None, &highlighter, &theme);
    });
    use ratatui::style::Modifier;
    let reversed = |x: u16, y: u16| cells[(x, y)].modifier;
    // Line 1, `useCart`: the current match at columns 13..17 of the text.
    let row: String = (0..60)
        .map(|x| {
            cells[(x, 2)]
                .symbol()
                .chars()
                .next()
                .filter(char::is_ascii)
                .unwrap_or('?')
        })
        .collect();
    let at = row.find("Cart").unwrap() as u16;
    assert!(reversed(at, 2).contains(Modifier::REVERSED | Modifier::UNDERLINED));
    let other = row.find("cart").unwrap() as u16;
    assert!(reversed(other, 2).contains(Modifier::REVERSED));
    assert!(!reversed(other, 2).contains(Modifier::UNDERLINED));
    assert!(!reversed(other - 2, 2).contains(Modifier::REVERSED));
}

#[test]
fn soft_wrap_wraps_a_long_line_at_the_window_and_marks_the_rest() {
    let theme = theme();
    let highlighter = Highlighter::new(&theme.syntax_palette());
    let long = format!(
        "const items = [{}];\nshort\n",
        (1..=30)
            .map(|i| format!("\"item{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let tab = Tab::new("lib/items.ts".into(), Some(&long), &highlighter);
    let mut pane = EditorPane::new(vec![tab], 0, false);
    pane.wrap_all(true);
    let (screen, _) = screen_at(40, 14, |area, buf| {
        pane.render(area, buf, true, None, &highlighter, &theme);
    });
    insta::assert_snapshot!("editor_wrap_40x14", screen);
    // The cursor at the end of the long line is drawn on its last row.
    let _ = pane.update(Action::LineEnd);
    let mut cursor = None;
    let (screen, _) = screen_at(40, 14, |area, buf| {
        cursor = pane.render(area, buf, true, None, &highlighter, &theme);
    });
    let (x, y) = cursor.unwrap();
    let rows: Vec<&str> = screen.lines().collect();
    let row: Vec<char> = rows[usize::from(y)].trim_matches('"').chars().collect();
    assert_eq!(row[usize::from(x) - 1], ';', "{screen}");
    // Off again: one row, marked as going on.
    let _ = pane.update(Action::ToggleWrap);
    let _ = pane.update(Action::Top);
    let (screen, _) = screen_at(40, 14, |area, buf| {
        pane.render(area, buf, true, None, &highlighter, &theme);
    });
    assert!(screen.lines().nth(2).unwrap().contains('›'), "{screen}");
    assert!(
        screen.lines().nth(3).unwrap().contains("2 short"),
        "{screen}"
    );
}

#[test]
fn soft_wrap_keeps_wide_characters_whole() {
    let theme = theme();
    let highlighter = Highlighter::new(&theme.syntax_palette());
    let text =
        "# 标题\n\n这是一个很长的中文句子，它会在窗口的边缘换行，而且每个字都占两个格子。\nend\n";
    let tab = Tab::new("README.md".into(), Some(text), &highlighter);
    let mut pane = EditorPane::new(vec![tab], 0, false);
    pane.wrap_all(true);
    let (screen, _) = screen_at(40, 10, |area, buf| {
        pane.render(area, buf, true, None, &highlighter, &theme);
    });
    insta::assert_snapshot!("editor_wrap_cjk_40x10", screen);
}

#[test]
fn a_click_on_a_wrapped_row_lands_on_its_character() {
    let theme = theme();
    let highlighter = Highlighter::new(&theme.syntax_palette());
    let text = format!("{}\nnext\n", "abcdefghij".repeat(10));
    let tab = Tab::new("a.txt".into(), Some(&text), &highlighter);
    let mut pane = EditorPane::new(vec![tab], 0, false);
    pane.wrap_all(true);
    let area = Rect::new(0, 0, 40, 10);
    screen_at(40, 10, |a, buf| {
        pane.render(a, buf, true, None, &highlighter, &theme);
    });
    let tab = pane.active_tab().unwrap();
    // The body starts at row 2 (frame, tabs); the text after the frame
    // and a 2-cell gutter: 36 columns a row.
    let hit = super::editor::click_target(tab, area, false, 3 + 4, 3).unwrap();
    assert_eq!(hit, 36 + 4);
    let next = super::editor::click_target(tab, area, false, 3, 2 + 3).unwrap();
    assert_eq!(next, 101, "the row after the long line is line 2");
}

#[test]
fn soft_wrap_scrolls_through_a_line_longer_than_the_window() {
    let theme = theme();
    let highlighter = Highlighter::new(&theme.syntax_palette());
    // Longer than the highlight budget: the tail is plain text.
    let long: String = (0..800).map(|i| format!("v{i:04};")).collect();
    let text = format!("{long}\nnext\n");
    let tab = Tab::new("bundle.min.js".into(), Some(&text), &highlighter);
    let mut pane = EditorPane::new(vec![tab], 0, false);
    pane.wrap_all(true);
    let _ = pane.update(Action::LineEnd);
    let mut cursor = None;
    let (screen, _) = screen_at(40, 10, |area, buf| {
        cursor = pane.render(area, buf, true, None, &highlighter, &theme);
    });
    let tab = pane.active_tab().unwrap();
    assert_eq!(tab.top, 0);
    assert!(
        tab.top_row > 100,
        "scrolled within the line: {}",
        tab.top_row
    );
    let (x, y) = cursor.expect("the cursor is drawn");
    let rows: Vec<Vec<char>> = screen
        .lines()
        .map(|l| l.trim_matches('"').chars().collect())
        .collect();
    assert_eq!(usize::from(y), 9 - 1, "on the last row: {screen}");
    assert_eq!(rows[usize::from(y)][usize::from(x) - 1], ';', "{screen}");
    assert!(rows[2][1] == '↪', "a continuation row at the top: {screen}");
    // Down goes to the next buffer line; up comes back to the long one.
    let _ = pane.update(Action::Down);
    let (screen, _) = screen_at(40, 10, |area, buf| {
        cursor = pane.render(area, buf, true, None, &highlighter, &theme);
    });
    assert!(screen.contains("2 next"), "{screen}");
    let _ = pane.update(Action::Top);
    let (screen, _) = screen_at(40, 10, |area, buf| {
        pane.render(area, buf, true, None, &highlighter, &theme);
    });
    assert_eq!(pane.active_tab().unwrap().top_row, 0);
    assert!(screen.contains("1 v0000;"), "{screen}");
}

#[test]
fn the_search_prompt_switches_to_a_regex_and_says_what_is_wrong_with_one() {
    use super::prompt::PromptOutcome;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let theme = theme();
    let keymap = Keymap::load(None, None).0;
    let mut prompt = Prompt::new(
        PromptKind::Find {
            regex: false,
            backward: false,
        },
        "",
    );
    let press = |prompt: &mut Prompt, code: KeyCode, modifiers: KeyModifiers| {
        let key = KeyEvent::new(code, modifiers);
        prompt.handle_key(keymap.action(Scope::Prompt, &key), key)
    };
    for c in "a(b".chars() {
        press(&mut prompt, KeyCode::Char(c), KeyModifiers::NONE);
    }
    let draw = |prompt: &Prompt| {
        screen_at(100, 1, |area, buf| {
            prompt.render(area, buf, &theme);
        })
        .0
    };
    // Literal: `a(` is text, nothing is wrong.
    assert!(
        draw(&prompt).contains("search [literal]: a(b "),
        "{}",
        draw(&prompt)
    );
    // alt-r: a regex, and an unclosed group is said after the text.
    press(&mut prompt, KeyCode::Char('r'), KeyModifiers::ALT);
    let screen = draw(&prompt);
    assert!(
        screen.contains("search [regex]: a(b  not a valid regex: unclosed group"),
        "{screen}"
    );
    insta::assert_snapshot!("prompt_bad_regex_100x1", screen);
    // Enter keeps the prompt open until the regex is fixed.
    assert!(matches!(
        press(&mut prompt, KeyCode::Enter, KeyModifiers::NONE),
        PromptOutcome::Editing
    ));
    press(&mut prompt, KeyCode::Char(')'), KeyModifiers::NONE);
    assert!(!draw(&prompt).contains("not a valid"));
    assert!(matches!(
        press(&mut prompt, KeyCode::Enter, KeyModifiers::NONE),
        PromptOutcome::Submitted(text) if text == "a(b)"
    ));
    assert_eq!(
        prompt.kind,
        PromptKind::Find {
            regex: true,
            backward: false
        }
    );
}
