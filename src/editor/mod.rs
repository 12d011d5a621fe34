//! The text model: documents, highlighting. Knows nothing of the terminal.

pub(crate) mod highlight;
