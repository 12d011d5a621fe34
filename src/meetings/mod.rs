//! Meetings: what the AI does with them within their consent, and the
//! store's safety copies.
//!
//! [`material`] is the one place a request about a meeting is built from,
//! consent enforced; [`model`] makes and records a meeting's calls;
//! [`brief`] is the `brief` job (pre- and post-briefs as schema-checked
//! JSON, with one repair request).

pub(crate) mod brief;
#[cfg(test)]
pub(crate) mod fixture;
pub(crate) mod material;
pub(crate) mod model;
