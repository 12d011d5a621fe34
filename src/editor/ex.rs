//! The vim command line (`:`): what a typed command means. Parsing only;
//! the workstation carries the command out.

use regex::Regex;

/// A command of the `:` line.
#[derive(Debug, Clone)]
pub(crate) enum ExCommand {
    /// `:w`
    Write,
    /// `:q`, `:q!`, `:qa`, `:qa!`
    Quit,
    /// `:wq`, `:x`
    WriteQuit,
    /// `:e PATH`
    Edit(String),
    /// `:N`, 1-based
    Goto(usize),
    /// `:%s/PATTERN/REPLACEMENT/[g]` over the whole buffer
    Substitute { pattern: Regex, replacement: String },
}

/// Why a command line means nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExError {
    #[error("unknown command :{0} (try :w :q :wq :e PATH :N)")]
    Unknown(String),
    #[error("use :%s/pattern/replacement/g")]
    Substitute,
    #[error("bad pattern: {0}")]
    Pattern(String),
    #[error(":e needs a file: :e PATH")]
    NoPath,
}

impl ExCommand {
    pub(crate) fn parse(line: &str) -> Result<ExCommand, ExError> {
        let command = line.trim();
        Ok(match command {
            "w" => ExCommand::Write,
            "q" | "q!" | "qa" | "qa!" => ExCommand::Quit,
            "wq" | "x" => ExCommand::WriteQuit,
            "e" => return Err(ExError::NoPath),
            _ => {
                if let Some(path) = command.strip_prefix("e ") {
                    match path.trim() {
                        "" => return Err(ExError::NoPath),
                        path => ExCommand::Edit(path.to_string()),
                    }
                } else if let Ok(line) = command.parse::<usize>() {
                    ExCommand::Goto(line)
                } else if let Some(rest) = command.strip_prefix("%s/") {
                    let parts: Vec<&str> = rest.splitn(3, '/').collect();
                    match parts.as_slice() {
                        [pattern, replacement, ..] => ExCommand::Substitute {
                            pattern: Regex::new(pattern)
                                .map_err(|e| ExError::Pattern(e.to_string()))?,
                            replacement: replacement.to_string(),
                        },
                        _ => return Err(ExError::Substitute),
                    }
                } else {
                    return Err(ExError::Unknown(command.to_string()));
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_usual_commands_read_as_vim_reads_them() {
        assert!(matches!(ExCommand::parse("w"), Ok(ExCommand::Write)));
        assert!(matches!(ExCommand::parse(" q! "), Ok(ExCommand::Quit)));
        assert!(matches!(ExCommand::parse("x"), Ok(ExCommand::WriteQuit)));
        assert!(matches!(ExCommand::parse("42"), Ok(ExCommand::Goto(42))));
        assert!(
            matches!(ExCommand::parse("e lib/a b.ts"), Ok(ExCommand::Edit(p)) if p == "lib/a b.ts")
        );
        match ExCommand::parse("%s/Sh(o)p/St${1}re/g") {
            Ok(ExCommand::Substitute {
                pattern,
                replacement,
            }) => {
                assert_eq!(pattern.as_str(), "Sh(o)p");
                assert_eq!(replacement, "St${1}re");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nonsense_says_what_to_type() {
        assert_eq!(
            ExCommand::parse("frobnicate").unwrap_err(),
            ExError::Unknown("frobnicate".into())
        );
        assert_eq!(ExCommand::parse("%s/x").unwrap_err(), ExError::Substitute);
        assert!(matches!(
            ExCommand::parse("%s/(/y/"),
            Err(ExError::Pattern(_))
        ));
        assert_eq!(ExCommand::parse("e ").unwrap_err(), ExError::NoPath);
    }

    proptest! {
        #[test]
        fn any_line_parses_or_says_why(line in "\\PC{0,40}") {
            let _ = ExCommand::parse(&line);
        }
    }
}
