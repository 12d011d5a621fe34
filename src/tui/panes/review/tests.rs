//! The review pane alone: drawn from a stored patch, and each key's
//! answer.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;

use super::*;
use crate::store::Store;
use crate::store::patches::{self, NewPatch, Source};
use crate::tui::app::Effect;
use crate::tui::theme::{ColorDepth, Theme};

/// A modified file with two hunks (the second with two runs of changes)
/// and an added file.
pub(crate) const DIFF: &str = "\
diff --git a/src/cart.rs b/src/cart.rs
--- a/src/cart.rs
+++ b/src/cart.rs
@@ -1,5 +1,5 @@
 /// The cart's total.
-pub fn total(prices: &[u32], count: u32) -> u32 {
+pub fn total(prices: &[u32], quantity: u32) -> u32 {
     let sum: u32 = prices.iter().sum();
     sum * count
 }
@@ -10,9 +10,9 @@ impl Cart {
     fn add(&mut self, item: Item) {
-        self.items.push(item);
+        self.items.push(item.clone());
         self.dirty = true;
         self.version += 1;
         self.notify();
         self.log(\"add\");
-        self.save();
+        self.save_later();
     }
 }
diff --git a/src/tax.rs b/src/tax.rs
new file mode 100644
--- /dev/null
+++ b/src/tax.rs
@@ -0,0 +1,3 @@
+pub fn vat(amount: u32) -> u32 {
+    amount * 21 / 100
+}
";

fn theme() -> Theme {
    Theme::load("dark", None, ColorDepth::TrueColor).unwrap()
}

fn row() -> PatchRow {
    PatchRow {
        id: 7,
        workspace_key: "ws:shop".into(),
        source: Source::Ask,
        job_id: None,
        conversation_id: None,
        title: "rename count to quantity".into(),
        message: None,
        diff: DIFF.into(),
        status: PatchStatus::Pending,
        created_at: 0,
        updated_at: 0,
    }
}

fn pane(highlighter: &Highlighter) -> ReviewPane {
    ReviewPane::new(&row(), &[], highlighter).unwrap()
}

fn draw(pane: &mut ReviewPane, width: u16, height: u16, h: &Highlighter) -> Terminal<TestBackend> {
    let theme = theme();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| pane.render(f.area(), f.buffer_mut(), true, h, &theme))
        .unwrap();
    terminal
}

fn ops(outcome: Outcome) -> Vec<ReviewOp> {
    let effects = match outcome {
        Outcome::Effect(e) => vec![e],
        Outcome::Effects(e) => e,
        _ => vec![],
    };
    effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::Review(op) => Some(op),
            _ => None,
        })
        .collect()
}

#[test]
fn unified_below_120_columns_with_files_and_hunks() {
    let h = Highlighter::new(&theme().syntax_palette());
    let mut pane = pane(&h);
    let terminal = draw(&mut pane, 100, 30, &h);
    assert!(!pane.side_by_side());
    insta::assert_snapshot!("review_unified_100x30", terminal.backend().to_string());
    let terminal = draw(&mut pane, 80, 24, &h);
    insta::assert_snapshot!("review_unified_80x24", terminal.backend().to_string());
}

#[test]
fn side_by_side_from_120_columns_and_switchable() {
    let h = Highlighter::new(&theme().syntax_palette());
    let mut pane = pane(&h);
    let terminal = draw(&mut pane, 140, 30, &h);
    assert!(pane.side_by_side());
    insta::assert_snapshot!("review_side_by_side_140x30", terminal.backend().to_string());
    let _ = pane.update(Action::ToggleSideBySide, &h);
    draw(&mut pane, 140, 30, &h);
    assert!(!pane.side_by_side(), "the key wins over the width");
}

#[test]
fn changed_words_are_marked_within_the_line() {
    let h = Highlighter::new(&theme().syntax_palette());
    let mut pane = pane(&h);
    let terminal = draw(&mut pane, 100, 30, &h);
    let buf = terminal.backend().buffer();
    let theme = theme();
    let word_bg = theme.ui("diff_added_word").bg;
    let line_bg = theme.ui("diff_added").bg;
    let row_text = |y: u16| -> String {
        (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect()
    };
    let column =
        |row: &str, needle: &str| row.find(needle).map(|at| row[..at].chars().count() as u16);
    let y = (0..buf.area.height)
        .find(|y| row_text(*y).contains("quantity: u32"))
        .unwrap();
    let row = row_text(y);
    let x = column(&row, "quantity: u32").unwrap();
    let word = &buf[(x, y)];
    assert!(word.modifier.contains(Modifier::BOLD), "{word:?}");
    assert_eq!(Some(word.bg), word_bg);
    let x = column(&row, "prices").unwrap();
    let plain = &buf[(x, y)];
    assert!(!plain.modifier.contains(Modifier::BOLD), "{plain:?}");
    assert_eq!(Some(plain.bg), line_bg);
}

#[test]
fn decisions_show_on_hunks_and_in_the_file_list() {
    let h = Highlighter::new(&theme().syntax_palette());
    let decisions = [
        HunkDecision {
            file_index: 0,
            hunk_index: 0,
            decision: Decision::Accepted,
            reason: None,
        },
        HunkDecision {
            file_index: 0,
            hunk_index: 1,
            decision: Decision::Rejected,
            reason: Some("keep push by value".into()),
        },
    ];
    let mut pane = ReviewPane::new(&row(), &decisions, &h).unwrap();
    // The first pending hunk: the added file.
    assert_eq!(pane.at(), (1, 0));
    let _ = pane.update(Action::Top, &h);
    let terminal = draw(&mut pane, 100, 30, &h);
    insta::assert_snapshot!("review_decisions_100x30", terminal.backend().to_string());
}

#[test]
fn y_accepts_and_moves_to_the_next_hunk() {
    let h = Highlighter::new(&theme().syntax_palette());
    let mut pane = pane(&h);
    let got = ops(pane.update(Action::AcceptHunk, &h));
    assert_eq!(
        got,
        [ReviewOp::Decide {
            patch_id: 7,
            at: (0, 0),
            decision: Decision::Accepted,
            reason: None
        }]
    );
    assert_eq!(pane.at(), (0, 1));
    assert_eq!(pane.accepted(), 1);
}

#[test]
fn n_asks_for_a_reason_then_rejects() {
    let h = Highlighter::new(&theme().syntax_palette());
    let mut pane = pane(&h);
    let Outcome::Effect(Effect::Overlay(overlay)) = pane.update(Action::RejectHunk, &h) else {
        panic!("n asks for a reason");
    };
    let crate::tui::app::Overlay::Prompt(prompt) = *overlay else {
        panic!("a prompt");
    };
    assert_eq!(
        prompt.kind,
        PromptKind::RejectReason {
            patch_id: 7,
            file: 0,
            hunk: 0
        }
    );
    let got = ops(pane.decide((0, 0), Decision::Rejected, Some("too broad".into()), &h));
    assert!(
        matches!(&got[0], ReviewOp::Decide { reason: Some(r), decision: Decision::Rejected, .. } if r == "too broad")
    );
    assert_eq!(pane.decision((0, 0)).unwrap().0, Decision::Rejected);
    // An empty reason is none.
    let got = ops(pane.decide((0, 1), Decision::Rejected, Some("  ".into()), &h));
    assert!(matches!(&got[0], ReviewOp::Decide { reason: None, .. }));
}

#[test]
fn s_splits_a_hunk_with_two_runs_and_not_one_with_one() {
    let h = Highlighter::new(&theme().syntax_palette());
    let mut pane = pane(&h);
    assert!(ops(pane.update(Action::SplitHunk, &h)).is_empty());
    let _ = pane.update(Action::Down, &h);
    assert_eq!(pane.at(), (0, 1));
    let got = ops(pane.update(Action::SplitHunk, &h));
    let [
        ReviewOp::Replace {
            at, parts, diff, ..
        },
    ] = &got[..]
    else {
        panic!("{got:?}");
    };
    assert_eq!((*at, *parts), ((0, 1), 2));
    assert_eq!(pane.hunk_count(0), 3);
    let reparsed = crate::patch::parse(diff.as_bytes()).unwrap();
    assert_eq!(reparsed.files[0].hunks.len(), 3);
    assert_eq!(reparsed.files[1].hunks.len(), 1);
}

#[test]
fn e_edits_the_hunks_result_and_keeps_its_old_side() {
    let h = Highlighter::new(&theme().syntax_palette());
    let mut pane = pane(&h);
    let _ = pane.update(Action::EditHunk, &h);
    assert!(pane.editing.is_some());
    // Esc drops the edit.
    let esc = KeyEvent::from(crossterm::event::KeyCode::Esc);
    let _ = pane.edit_key(Some(Action::Back), esc, &h);
    assert!(pane.editing.is_none());
    let _ = pane.update(Action::EditHunk, &h);
    for c in "// edited\n".chars() {
        let code = if c == '\n' {
            crossterm::event::KeyCode::Enter
        } else {
            crossterm::event::KeyCode::Char(c)
        };
        let _ = pane.edit_key(None, KeyEvent::from(code), &h);
    }
    let got = ops(pane.edit_key(Some(Action::Submit), esc, &h));
    let [ReviewOp::Replace { parts: 1, diff, .. }] = &got[..] else {
        panic!("{got:?}");
    };
    let hunk = &crate::patch::parse(diff.as_bytes()).unwrap().files[0].hunks[0];
    assert!(hunk.counts_consistent());
    assert_eq!(hunk.old_lines, 5);
    assert_eq!(hunk.new_lines, 6);
    assert!(
        hunk.lines
            .iter()
            .any(|l| l.kind == LineKind::Added && l.text() == "// edited")
    );
}

#[test]
fn a_and_d_decide_the_rest_of_the_file() {
    let h = Highlighter::new(&theme().syntax_palette());
    let mut pane = pane(&h);
    let got = ops(pane.update(Action::AcceptRest, &h));
    assert_eq!(got.len(), 2);
    assert_eq!(pane.at(), (1, 0), "on to the next file");
    let got = ops(pane.update(Action::RejectRest, &h));
    assert!(matches!(
        &got[..],
        [ReviewOp::Decide {
            at: (1, 0),
            decision: Decision::Rejected,
            ..
        }]
    ));
}

#[test]
fn j_k_move_across_files_and_w_writes_only_with_an_accepted_hunk() {
    let h = Highlighter::new(&theme().syntax_palette());
    let mut pane = pane(&h);
    let _ = pane.update(Action::Down, &h);
    let _ = pane.update(Action::Down, &h);
    assert_eq!(pane.at(), (1, 0));
    let _ = pane.update(Action::Up, &h);
    assert_eq!(pane.at(), (0, 1));
    assert!(matches!(
        pane.update(Action::WritePatch, &h),
        Outcome::Effect(Effect::Notify(_, true))
    ));
    let _ = pane.update(Action::AcceptHunk, &h);
    assert_eq!(
        ops(pane.update(Action::WritePatch, &h)),
        [ReviewOp::Write { patch_id: 7 }]
    );
    assert_eq!(ops(pane.update(Action::Back, &h)), [ReviewOp::Leave]);
}

#[test]
fn a_diff_that_does_not_parse_names_the_patch() {
    let h = Highlighter::new(&theme().syntax_palette());
    let mut bad = row();
    bad.diff = "@@ -1 +1 @@\n-a\n+b\n".into();
    if let Err(e) = ReviewPane::new(&bad, &[], &h) {
        assert!(e.contains("patch 7"), "{e}");
    }
}

#[tokio::test]
async fn decisions_go_to_the_store_and_come_back_on_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let mut store = Store::open(dir.path()).unwrap();
        patches::insert(
            &mut store.conn,
            &NewPatch {
                workspace_key: "ws:shop",
                source: Source::Ask,
                job_id: None,
                conversation_id: None,
                title: "rename",
                message: None,
                diff: DIFF,
            },
            1,
        )
        .unwrap()
    };
    let worker = crate::store::worker::StoreWorker::spawn(dir.path()).unwrap();
    let store = worker.handle();
    let h = Highlighter::new(&theme().syntax_palette());
    let (row, decisions, _) = store.load_patch(id).await.unwrap().unwrap();
    let mut pane = ReviewPane::new(&row, &decisions, &h).unwrap();
    let mut sent = ops(pane.update(Action::AcceptHunk, &h));
    sent.extend(ops(pane.update(Action::SplitHunk, &h)));
    sent.extend(ops(pane.decide(
        pane.at(),
        Decision::Rejected,
        Some("no".into()),
        &h,
    )));
    for op in sent {
        match op {
            ReviewOp::Decide {
                patch_id,
                at,
                decision,
                reason,
            } => {
                assert!(
                    store
                        .decide_hunk(patch_id, at, decision, reason)
                        .await
                        .unwrap()
                );
            }
            ReviewOp::Replace {
                patch_id,
                at,
                parts,
                diff,
            } => {
                assert!(store.replace_hunk(patch_id, at, parts, diff).await.unwrap());
            }
            other => panic!("{other:?}"),
        }
    }
    drop(pane);
    let (row, decisions, _) = store.load_patch(id).await.unwrap().unwrap();
    let again = ReviewPane::new(&row, &decisions, &h).unwrap();
    assert_eq!(again.hunk_count(0), 3, "the split is kept");
    assert_eq!(again.decision((0, 0)).unwrap().0, Decision::Accepted);
    assert_eq!(
        again.decision((0, 1)).unwrap(),
        &(Decision::Rejected, Some("no".to_string()))
    );
    assert_eq!(again.decision((0, 2)).unwrap().0, Decision::Pending);
    assert_eq!(again.at(), (0, 2), "the review goes on where it was left");
    worker.shutdown().unwrap();
}

#[test]
fn the_benchmark_hook_draws_frames_of_a_generated_patch() {
    let times = crate::tui::harness::review_frames(2_000, 8, 140, 40).unwrap();
    assert_eq!(times.len(), 8);
}

#[test]
fn a_duplicate_warning_shows_above_the_file_list() {
    let h = Highlighter::new(&theme().syntax_palette());
    let mut pane = pane(&h);
    pane.warnings = vec!["lib/userService.ts is new, and looks like lib/user_service.ts".into()];
    let terminal = draw(&mut pane, 100, 30, &h);
    let screen: String = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(screen.contains("! lib/userService.ts is new"), "{screen}");
}
