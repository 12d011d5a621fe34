//! kollega: a terminal workstation for taking over and shaping AI-generated
//! code. The library holds every capability; `src/main.rs` only parses the
//! command line and hands it to [`cli::run`].
//!
//! Dependencies point one way: `cli` and `tui` → services (`jobs`, `git`,
//! `patch`, `workspace`, `editor`, `autosave`, `metrics`) → `store`. Only `tui` knows
//! the terminal. Items are `pub(crate)` unless a test or benchmark outside
//! the crate needs them.

#![deny(clippy::unwrap_used, clippy::expect_used)]

pub(crate) mod ai;
mod autosave;
pub mod cli;
mod config;
mod editor;
mod error;
mod git;
mod jobs;
mod meetings;
pub mod memory;
mod metrics;
mod parallel;
mod patch;
pub(crate) mod proposal;
mod store;
mod telemetry;
mod tui;
mod workspace;

pub use tui::harness;
