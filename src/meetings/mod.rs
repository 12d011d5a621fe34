//! Meetings: the shown status of an occurrence and the user's time zone.
//!
//! [`status`] derives upcoming/lobby/active/post/done/failed from the
//! clock, and [`zone`] finds the user's time zone. The store's `meetings`
//! module holds the rows; nothing here knows the terminal.

pub(crate) mod status;
pub(crate) mod zone;
