//! The text model: documents, highlighting. Knows nothing of the terminal.

// Parts of the text model the TUI does not call yet are allowed to sit
// unused: used by the editor pane.
#[allow(dead_code)]
pub(crate) mod buffer;
#[allow(dead_code)]
pub(crate) mod grapheme;
pub(crate) mod highlight;
#[allow(dead_code)]
pub(crate) mod search;
#[allow(dead_code)]
pub(crate) mod undo;
