//! The text model: documents, highlighting. Knows nothing of the terminal.

pub(crate) mod buffer;
pub(crate) mod ex;
pub(crate) mod grapheme;
pub(crate) mod highlight;
pub(crate) mod search;
pub(crate) mod undo;
pub(crate) mod vim;
