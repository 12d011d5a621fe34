//! The vim command line (`:`): what a typed command means. Parsing only;
//! the workstation carries the command out.

use regex::Regex;

/// A command of the `:` line.
#[derive(Debug, Clone)]
pub(crate) enum ExCommand {
    /// `:w`
    Write,
    /// `:q`, `:qa` (refused with unsaved changes), `:q!`, `:qa!` (`force`: quits; the
    /// drafts stay for the next start).
    Quit { force: bool },
    /// `:wq`, `:x`
    WriteQuit,
    /// `:e PATH`
    Edit(String),
    /// `:N`, 1-based
    Goto(usize),
    /// `:s/PATTERN/REPLACEMENT/[gi]` on the cursor's line, `:%s/...` over
    /// the whole buffer: without `g` the first match of each line.
    Substitute {
        pattern: Regex,
        replacement: String,
        whole: bool,
        global: bool,
    },
    /// `:bd` closes the file's tab (asking first when it has changes),
    /// `:bd!` drops them.
    CloseBuffer { force: bool },
    /// `:set wrap`, `:set nowrap`, `:set wrap!` (`None`: the other way):
    /// soft wrap.
    Wrap(Option<bool>),
    /// `:noh`: the search's matches are no longer highlighted.
    NoHighlight,
    /// `:grep [TEXT]`: the workspace's matching lines (`:gr`, `:rg`).
    Grep(String),
}

/// Why a command line means nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExError {
    #[error("unknown command :{0} (try :w :q :wq :e PATH :N :s :bd :noh :set wrap :grep)")]
    Unknown(String),
    #[error("use :s/pattern/replacement/ or :%s/pattern/replacement/g (flags g and i)")]
    Substitute,
    #[error(":s flag {0:?} is not supported: use g (every match of a line) or i (ignore case)")]
    Flag(char),
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
            "q" | "qa" => ExCommand::Quit { force: false },
            "q!" | "qa!" => ExCommand::Quit { force: true },
            "wq" | "x" => ExCommand::WriteQuit,
            "bd" | "bdelete" => ExCommand::CloseBuffer { force: false },
            "bd!" | "bdelete!" => ExCommand::CloseBuffer { force: true },
            "set wrap" => ExCommand::Wrap(Some(true)),
            "set nowrap" => ExCommand::Wrap(Some(false)),
            "set wrap!" | "set invwrap" => ExCommand::Wrap(None),
            "noh" | "nohl" | "nohlsearch" => ExCommand::NoHighlight,
            "e" => return Err(ExError::NoPath),
            "grep" | "gr" | "rg" => ExCommand::Grep(String::new()),
            _ => {
                if let Some(text) = ["grep ", "gr ", "rg "]
                    .iter()
                    .find_map(|p| command.strip_prefix(p))
                {
                    ExCommand::Grep(text.trim().to_string())
                } else if let Some(path) = command.strip_prefix("e ") {
                    match path.trim() {
                        "" => return Err(ExError::NoPath),
                        path => ExCommand::Edit(path.to_string()),
                    }
                } else if let Ok(line) = command.parse::<usize>() {
                    ExCommand::Goto(line)
                } else if let Some(rest) = command.strip_prefix("%s") {
                    substitute(rest, true)?
                } else if let Some(rest) = command.strip_prefix("s") {
                    substitute(rest, false)?
                } else {
                    return Err(ExError::Unknown(command.to_string()));
                }
            }
        })
    }
}

/// The rest of `:s` after the `s`: a delimiter (any punctuation, usually
/// `/`), the pattern, the replacement and flags. In the replacement `\1`
/// and `&` mean what they mean in vim, beside the regex's own `$1`.
fn substitute(rest: &str, whole: bool) -> Result<ExCommand, ExError> {
    let mut chars = rest.chars();
    let delimiter = match chars.next() {
        Some(c) if c.is_ascii_punctuation() && c != '\\' && c != '"' => c,
        _ => return Err(ExError::Substitute),
    };
    let parts: Vec<&str> = chars.as_str().splitn(3, delimiter).collect();
    let (pattern, replacement, flags) = match parts.as_slice() {
        [pattern, replacement] => (*pattern, *replacement, ""),
        [pattern, replacement, flags] => (*pattern, *replacement, flags.trim()),
        _ => return Err(ExError::Substitute),
    };
    let (mut global, mut ignore_case) = (false, false);
    for flag in flags.chars() {
        match flag {
            'g' => global = true,
            'i' => ignore_case = true,
            'I' => ignore_case = false,
            other => return Err(ExError::Flag(other)),
        }
    }
    let pattern = if ignore_case {
        format!("(?i){pattern}")
    } else {
        pattern.to_string()
    };
    Ok(ExCommand::Substitute {
        pattern: Regex::new(&pattern).map_err(|e| ExError::Pattern(e.to_string()))?,
        replacement: vim_replacement(replacement),
        whole,
        global,
    })
}

/// vim's replacement syntax in the regex's: `\1` is `${1}`, `&` the whole
/// match, `\&` and `\/` literal.
fn vim_replacement(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(d @ '0'..='9') => out.push_str(&format!("${{{d}}}")),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '&' => out.push_str("${0}"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_usual_commands_read_as_vim_reads_them() {
        assert!(matches!(ExCommand::parse("w"), Ok(ExCommand::Write)));
        assert!(matches!(
            ExCommand::parse(" q! "),
            Ok(ExCommand::Quit { force: true })
        ));
        assert!(matches!(
            ExCommand::parse("q"),
            Ok(ExCommand::Quit { force: false })
        ));
        assert!(matches!(ExCommand::parse("x"), Ok(ExCommand::WriteQuit)));
        assert!(matches!(ExCommand::parse("42"), Ok(ExCommand::Goto(42))));
        assert!(
            matches!(ExCommand::parse("grep useCart"), Ok(ExCommand::Grep(t)) if t == "useCart")
        );
        assert!(matches!(ExCommand::parse("gr"), Ok(ExCommand::Grep(t)) if t.is_empty()));
        assert!(
            matches!(ExCommand::parse("e lib/a b.ts"), Ok(ExCommand::Edit(p)) if p == "lib/a b.ts")
        );
        match ExCommand::parse("%s/Sh(o)p/St${1}re/g") {
            Ok(ExCommand::Substitute {
                pattern,
                replacement,
                whole: true,
                global: true,
            }) => {
                assert_eq!(pattern.as_str(), "Sh(o)p");
                assert_eq!(replacement, "St${1}re");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ExCommand::parse("bd"),
            Ok(ExCommand::CloseBuffer { force: false })
        ));
        assert!(matches!(
            ExCommand::parse("bd!"),
            Ok(ExCommand::CloseBuffer { force: true })
        ));
        assert!(matches!(
            ExCommand::parse("set wrap"),
            Ok(ExCommand::Wrap(Some(true)))
        ));
        assert!(matches!(
            ExCommand::parse("set nowrap"),
            Ok(ExCommand::Wrap(Some(false)))
        ));
        assert!(matches!(
            ExCommand::parse("set wrap!"),
            Ok(ExCommand::Wrap(None))
        ));
        assert!(matches!(
            ExCommand::parse("noh"),
            Ok(ExCommand::NoHighlight)
        ));
        assert!(matches!(
            ExCommand::parse("nohlsearch"),
            Ok(ExCommand::NoHighlight)
        ));
    }

    #[test]
    fn substitute_reads_vim_flags_and_replacements() {
        match ExCommand::parse("s#a(b)#<\\1&>#i") {
            Ok(ExCommand::Substitute {
                pattern,
                replacement,
                whole: false,
                global: false,
            }) => {
                assert!(pattern.is_match("xAB"));
                assert_eq!(replacement, "<${1}${0}>");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ExCommand::parse("s/a/b/c").unwrap_err(), ExError::Flag('c'));
        assert!(matches!(
            ExCommand::parse("s/a/b"),
            Ok(ExCommand::Substitute { global: false, .. })
        ));
        assert_eq!(ExCommand::parse("s").unwrap_err(), ExError::Substitute);
    }

    #[test]
    fn substitute_without_g_takes_the_first_match_of_each_line_as_one_step() {
        let mut buf = crate::editor::buffer::Buffer::from_text("a a\na a\nb\n");
        let Ok(ExCommand::Substitute {
            pattern,
            replacement,
            ..
        }) = ExCommand::parse("%s/a/[&]/")
        else {
            panic!("no substitute");
        };
        assert_eq!(buf.substitute(&pattern, &replacement, None, false), 2);
        assert_eq!(buf.text(), "[a] a\n[a] a\nb\n");
        assert_eq!(buf.substitute(&pattern, "x", Some(1..2), true), 2);
        assert_eq!(buf.text(), "[a] a\n[x] x\nb\n");
        buf.undo();
        buf.undo();
        assert_eq!(buf.text(), "a a\na a\nb\n");
    }

    #[test]
    fn nonsense_says_what_to_type() {
        assert_eq!(
            ExCommand::parse("frobnicate").unwrap_err(),
            ExError::Unknown("frobnicate".into())
        );
        assert_eq!(ExCommand::parse("%s/x").unwrap_err(), ExError::Substitute);
        assert_eq!(ExCommand::parse("sx").unwrap_err(), ExError::Substitute);
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
