//! The AI pane's unsent prompt survives a restart (and a kill -9 after
//! the debounce) like drafts do: it rides in the workspace's editor state
//! through the one autosave debouncer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::*;
use crate::autosave::{Autosave, AutosaveBatch, AutosaveEvent, DraftSink, SinkError};
use crate::tui::panes::ai::AiPane;

/// Writes editor states into a real store, synchronously: a worker thread
/// would let the paused clock run ahead while the test waits.
#[derive(Clone)]
struct StateSink(Arc<Mutex<Store>>);

impl DraftSink for StateSink {
    async fn write(&self, batch: &AutosaveBatch) -> Result<(), SinkError> {
        if let Some(json) = &batch.editor_state {
            let store = self.0.lock().unwrap();
            store::editor_state::save(&store.conn, &batch.key, json)?;
        }
        Ok(())
    }
}

fn type_into(pane: &mut AiPane, text: &str) {
    for c in text.chars() {
        pane.type_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
}

/// Lets the autosave task run until it waits again.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

async fn step(by: Duration) {
    tokio::time::advance(by).await;
    settle().await;
}

#[tokio::test(start_paused = true)]
async fn an_unsent_prompt_is_stored_after_the_debounce_and_put_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(Store::open(dir.path()).unwrap()));
    let (reports, _reports) = mpsc::unbounded_channel();
    let (events, _task) = Autosave::spawn(StateSink(store.clone()), reports);
    let mut pane = AiPane::new();
    // Each key's snapshot, as the app's sync after every event sends it.
    for word in ["rename ", "the ", "cart"] {
        type_into(&mut pane, word);
        let state = EditorState::of(&[], 0, "ai", pane.unsent_prompt());
        events
            .send(AutosaveEvent::Changed {
                key: "ws:shop".into(),
                drafts: Vec::new(),
                editor_state: Some(serde_json::to_string(&state).unwrap()),
            })
            .unwrap();
        settle().await;
        step(Duration::from_millis(100)).await;
    }
    let stored = || store::editor_state::load(&store.lock().unwrap().conn, "ws:shop").unwrap();
    step(Duration::from_millis(399)).await;
    assert_eq!(stored(), None, "written before 500 ms of quiet");
    step(Duration::from_millis(1)).await;
    let state = EditorState::parse(stored().as_deref());
    assert_eq!(state.prompt, "rename the cart");

    // The next run puts it back in the field, ready to send.
    let mut next = AiPane::new();
    next.restore_prompt(&state.prompt);
    assert_eq!(next.prompt(), "rename the cart");
    assert_eq!(next.unsent_prompt(), "rename the cart");
    // Once sent it is no longer unsent; an edit of it is again.
    next.sent(7);
    assert_eq!(next.unsent_prompt(), "");
    type_into(&mut next, "s");
    assert_eq!(next.unsent_prompt(), "rename the carts");
}

#[tokio::test]
async fn the_ai_panes_prompt_goes_to_autosave_and_comes_back_on_the_next_start() {
    let mut f = fixture(None).await;
    update(&mut f.h, Action::Ai).await;
    assert_eq!(f.h.app.focus, Focus::Ai);
    autosaved(&mut f.h);
    typing(&mut f.h, "add a total").await;
    let last_state = autosaved(&mut f.h)
        .into_iter()
        .filter_map(|event| match event {
            AutosaveEvent::Changed { editor_state, .. } => editor_state,
            _ => None,
        })
        .last()
        .expect("the editor state was sent");
    assert_eq!(EditorState::parse(Some(&last_state)).prompt, "add a total");

    // What autosave would have written, read by the next start.
    let data = f.data.clone();
    drop(f.h);
    {
        let store = Store::open(&data).unwrap();
        store::editor_state::save(&store.conn, "ws:shop", &last_state).unwrap();
    }
    let h = harness_on(&data, Target::Start, None).await;
    assert_eq!(h.app.ai.pane.prompt(), "add a total");
}
