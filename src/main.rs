//! The `kollega` binary: parses the command line and runs it; the exit code
//! is 0 ok, 1 failure, 2 usage (`kollega run` passes on its command's).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    kollega::memory::tune_allocator();
    match kollega::cli::Cli::try_parse() {
        Ok(cli) => kollega::cli::run(cli),
        Err(e) => kollega::cli::refused(e),
    }
}
