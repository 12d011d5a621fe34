//! vim's registers: the unnamed one, `"0` (the last yank), `"1`–`"9` (the
//! last deletes of lines), `"-` (the last small delete), `"a`–`"z`
//! (uppercase appends), `"_` (discards) and `"+` (the terminal clipboard:
//! what is put there also goes out as an effect); and the marks of a
//! buffer.

/// The shape of a register's text, which decides how it is put back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Shape {
    #[default]
    Chars,
    /// Whole lines: the text ends with a line break.
    Lines,
    /// A block: one piece per line.
    Block,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Register {
    pub text: String,
    pub shape: Shape,
}

impl Register {
    /// The pieces of a block register, one per line.
    pub fn pieces(&self) -> Vec<&str> {
        self.text.split('\n').collect()
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Registers {
    /// Which register the unnamed one is (the last written).
    last: Option<char>,
    named: [Register; 26],
    numbered: [Register; 10],
    small_delete: Register,
    clipboard: Register,
}

/// Why text goes into a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    Yank,
    /// A delete: whole lines, several lines, or some motions go to `"1`.
    Delete {
        big: bool,
    },
}

impl Registers {
    /// Stores `reg` as `name` says (`None`: the unnamed register). Returns
    /// the text for the terminal clipboard when it went to `"+`.
    pub fn store(&mut self, name: Option<char>, reg: Register, why: Why) -> Option<String> {
        match name {
            Some('_') => return None,
            Some(c) if c.is_ascii_lowercase() => {
                self.named[letter(c)] = reg;
                self.last = Some(c);
            }
            Some(c) if c.is_ascii_uppercase() => {
                let old = &mut self.named[letter(c.to_ascii_lowercase())];
                let lower = c.to_ascii_lowercase();
                if old.shape == Shape::Lines || reg.shape == Shape::Lines {
                    if !old.text.is_empty() && !old.text.ends_with('\n') {
                        old.text.push('\n');
                    }
                    old.text.push_str(&reg.text);
                    if !old.text.ends_with('\n') {
                        old.text.push('\n');
                    }
                    old.shape = Shape::Lines;
                } else {
                    old.text.push_str(&reg.text);
                }
                self.last = Some(lower);
            }
            Some('+' | '*') => {
                self.clipboard = reg.clone();
                self.last = Some('+');
                return Some(reg.text);
            }
            _ => {
                match why {
                    Why::Yank => self.numbered[0] = reg,
                    Why::Delete { big: true } => {
                        self.numbered[1..].rotate_right(1);
                        self.numbered[1] = reg;
                    }
                    Why::Delete { big: false } => self.small_delete = reg,
                }
                self.last = Some(match why {
                    Why::Yank => '0',
                    Why::Delete { big: true } => '1',
                    Why::Delete { big: false } => '-',
                });
            }
        }
        None
    }

    /// The register `name` (`None`: the unnamed one).
    pub fn get(&self, name: Option<char>) -> Option<&Register> {
        let name = match name {
            None | Some('"') => self.last?,
            Some(c) => c,
        };
        let reg = match name {
            c if c.is_ascii_alphabetic() => &self.named[letter(c.to_ascii_lowercase())],
            c if c.is_ascii_digit() => &self.numbered[(c as u8 - b'0') as usize],
            '-' => &self.small_delete,
            '+' | '*' => &self.clipboard,
            _ => return None,
        };
        (!reg.text.is_empty() || reg.shape == Shape::Lines).then_some(reg)
    }
}

fn letter(c: char) -> usize {
    usize::from((c as u8).wrapping_sub(b'a')).min(25)
}

/// The marks `a`–`z` of one buffer: line and char column.
#[derive(Debug, Clone, Default)]
pub(crate) struct Marks {
    marks: [Option<(usize, usize)>; 26],
}

impl Marks {
    pub(crate) fn get(&self, name: char) -> Option<(usize, usize)> {
        let i = (name as usize).checked_sub('a' as usize)?;
        self.marks.get(i).copied().flatten()
    }

    /// Lines were added below line `from` (`delta` > 0), or lines from
    /// `from` on were removed (`delta` < 0): the marks below follow their
    /// text; marks on removed lines go.
    pub(super) fn shift(&mut self, from: usize, delta: isize) {
        let removed = from..from.saturating_add(delta.unsigned_abs());
        for slot in &mut self.marks {
            let Some((line, col)) = *slot else { continue };
            *slot = if delta > 0 {
                Some((
                    if line > from {
                        line + delta.unsigned_abs()
                    } else {
                        line
                    },
                    col,
                ))
            } else if removed.contains(&line) {
                None
            } else if line >= removed.end {
                Some((line - delta.unsigned_abs(), col))
            } else {
                Some((line, col))
            };
        }
    }

    pub(super) fn set(&mut self, name: char, at: (usize, usize)) {
        if let Some(slot) = (name as usize)
            .checked_sub('a' as usize)
            .and_then(|i| self.marks.get_mut(i))
        {
            *slot = Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Register {
        Register {
            text: text.into(),
            shape: Shape::Chars,
        }
    }

    #[test]
    fn uppercase_appends_and_the_unnamed_register_follows_the_last_write() {
        let mut regs = Registers::default();
        regs.store(Some('a'), chars("one"), Why::Yank);
        regs.store(Some('A'), chars(" two"), Why::Yank);
        assert_eq!(
            regs.get(Some('a')).map(|r| r.text.as_str()),
            Some("one two")
        );
        assert_eq!(regs.get(None).map(|r| r.text.as_str()), Some("one two"));
        regs.store(None, chars("x"), Why::Delete { big: false });
        assert_eq!(regs.get(None).map(|r| r.text.as_str()), Some("x"));
        assert_eq!(regs.get(Some('-')).map(|r| r.text.as_str()), Some("x"));
    }

    #[test]
    fn the_clipboard_register_hands_its_text_out_and_black_hole_keeps_nothing() {
        let mut regs = Registers::default();
        assert_eq!(
            regs.store(Some('+'), chars("c"), Why::Yank),
            Some("c".into())
        );
        assert_eq!(regs.store(Some('_'), chars("gone"), Why::Yank), None);
        assert_eq!(regs.get(None).map(|r| r.text.as_str()), Some("c"));
    }

    #[test]
    fn deletes_of_lines_shift_through_the_numbered_registers() {
        let mut regs = Registers::default();
        regs.store(None, chars("first\n"), Why::Delete { big: true });
        regs.store(None, chars("second\n"), Why::Delete { big: true });
        assert_eq!(
            regs.get(Some('1')).map(|r| r.text.as_str()),
            Some("second\n")
        );
        assert_eq!(
            regs.get(Some('2')).map(|r| r.text.as_str()),
            Some("first\n")
        );
    }
}
