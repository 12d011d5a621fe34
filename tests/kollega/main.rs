//! kollega's integration tests, one module per capability, in one test
//! binary (one link, shared helpers in `common`). Each drives the real
//! binary (`assert_cmd`, tmux for the terminal UI) against temporary data
//! and config directories.

mod common;

mod ask_cli;
mod cli;
mod e2e_meetings;
mod e2e_quit;
mod e2e_tui;
mod export;
mod fidelity;
mod git_bad_states;
mod git_commit;
mod git_status;
mod grep;
mod import;
mod jobs_cli;
mod limits;
mod meetings;
mod meetings_more;
mod patch_cli;
mod placement;
mod resume;
mod secrets_corpus;
mod takeover_cli;
mod watch_cli;
mod zip_safety;
