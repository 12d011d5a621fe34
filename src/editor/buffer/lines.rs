//! Whole-line commands: indent and outdent, toggling line comments,
//! moving and duplicating lines. Each works on every line a selection
//! touches, at every cursor, and is one undo step; the selections follow
//! the text they were on.
//!
//! A selection ending at the very start of a line does not take that line
//! (selecting two lines with Shift-Down leaves the cursor at the start of
//! the third). The empty line after a final line break is no line to move:
//! moving never takes a file's last line break away.

use std::ops::Range;

use super::{Buffer, IndentUnit, Selection};

/// The line comment of a file's language, from its name: `//` for Rust,
/// C, Go, JavaScript, TypeScript…, `#` for Python, shell, TOML, YAML…,
/// `--` for SQL and Lua. `None` for a language with no line comment known.
pub(crate) fn line_comment_token(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name {
        "Makefile" | "makefile" | "GNUmakefile" | "Dockerfile" | "Containerfile"
        | "CMakeLists.txt" | "Gemfile" | "Rakefile" | "Justfile" | "justfile" | ".gitignore"
        | ".dockerignore" | ".env" | ".bashrc" | ".zshrc" | ".profile" | ".editorconfig" => {
            return Some("#");
        }
        _ => {}
    }
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "rs" | "c" | "h" | "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" | "m" | "mm" | "js"
        | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" | "go" | "java" | "kt" | "kts"
        | "swift" | "scala" | "sc" | "cs" | "fs" | "fsx" | "dart" | "zig" | "proto" | "php"
        | "jsonc" | "json5" | "groovy" | "gradle" | "sol" | "scss" | "sass" | "less" | "v"
        | "sv" | "glsl" | "hlsl" | "wgsl" | "d" | "odin" | "hx" | "vue" | "svelte" => "//",
        "py" | "pyi" | "pyw" | "sh" | "bash" | "zsh" | "fish" | "ksh" | "toml" | "yaml" | "yml"
        | "rb" | "pl" | "pm" | "r" | "jl" | "nim" | "cmake" | "mk" | "make" | "conf" | "cfg"
        | "tf" | "tfvars" | "hcl" | "nix" | "ex" | "exs" | "ps1" | "psm1" | "dockerfile"
        | "properties" | "env" | "gitignore" | "awk" | "tcl" | "cr" | "coffee" | "graphql"
        | "gql" | "just" | "bzl" | "star" => "#",
        "sql" | "lua" | "hs" | "lhs" | "elm" | "ada" | "adb" | "ads" | "purs" | "vhd" | "vhdl" => {
            "--"
        }
        "lisp" | "lsp" | "cl" | "el" | "clj" | "cljs" | "cljc" | "edn" | "scm" | "ss" | "rkt"
        | "asm" | "s" | "ini" => ";",
        "tex" | "sty" | "cls" | "erl" | "hrl" | "mat" => "%",
        "vim" => "\"",
        "bat" | "cmd" => "REM",
        _ => return None,
    })
}

impl Buffer {
    /// The lines `selection` touches.
    fn lines_of(&self, selection: Selection) -> Range<usize> {
        let first = self.char_to_line(selection.start());
        let mut last = self.char_to_line(selection.end());
        if last > first && self.line_to_char(last) == selection.end() {
            last -= 1;
        }
        first..last + 1
    }

    /// Runs of lines the cursors touch, top to bottom, touching runs joined.
    fn line_blocks(&self) -> Vec<Range<usize>> {
        let mut blocks: Vec<Range<usize>> = Vec::new();
        for selection in self.all_selections() {
            let lines = self.lines_of(selection);
            match blocks.last_mut() {
                Some(last) if lines.start <= last.end => last.end = last.end.max(lines.end),
                _ => blocks.push(lines),
            }
        }
        blocks
    }

    /// Every line the cursors touch, top to bottom.
    fn touched_lines(&self) -> Vec<usize> {
        self.line_blocks().into_iter().flatten().collect()
    }

    /// The spaces and tabs `line` starts with, in chars.
    fn indent_len(&self, line: usize) -> usize {
        let start = self.line_to_char(line);
        self.rope
            .slice(start..self.line_end_char(line))
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .count()
    }

    fn is_blank(&self, line: usize) -> bool {
        self.line_to_char(line) + self.indent_len(line) == self.line_end_char(line)
    }

    /// Inserts `text` at `at` so that cursors at `at` move along with the
    /// text after it (a cursor at a line's start stays before its text).
    fn insert_before_text(&mut self, at: usize, text: &str) {
        let moved = |s: &Selection| (s.anchor == at, s.head == at);
        let primary = moved(&self.selection);
        let others: Vec<_> = self.others.iter().map(moved).collect();
        self.splice_recorded(at..at, text);
        let len = text.chars().count();
        let shift = |s: &mut Selection, (anchor, head): (bool, bool)| {
            if anchor {
                s.anchor += len;
            }
            if head {
                s.head += len;
            }
        };
        shift(&mut self.selection, primary);
        for (s, m) in self.others.iter_mut().zip(others) {
            shift(s, m);
        }
    }

    /// Whether any selection spans more than one line (Tab then indents).
    fn spans_lines(&self) -> bool {
        self.all_selections()
            .into_iter()
            .any(|s| self.lines_of(s).len() > 1)
    }

    /// Tab: with a selection over several lines, indents them; otherwise
    /// a tab (or spaces to the next stop) at every cursor.
    pub(crate) fn tab(&mut self) {
        if self.spans_lines() {
            self.indent_lines();
        } else {
            self.edit_each(Buffer::insert_tab);
        }
    }

    /// Indents every touched line that is not blank by one indent unit.
    pub(crate) fn indent_lines(&mut self) {
        let lines = self.touched_lines();
        let unit = self.indent.text();
        self.as_one_step(|buffer| {
            for &line in lines.iter().rev() {
                if !buffer.is_blank(line) {
                    let at = buffer.line_to_char(line);
                    buffer.insert_before_text(at, &unit);
                }
            }
        });
    }

    /// Shift-Tab: takes one indent unit (a tab, or up to a unit of spaces)
    /// off the start of every touched line.
    pub(crate) fn outdent_lines(&mut self) {
        let lines = self.touched_lines();
        let width = match self.indent {
            IndentUnit::Tab => self.tab_width,
            IndentUnit::Spaces(n) => n,
        }
        .max(1);
        self.as_one_step(|buffer| {
            for &line in lines.iter().rev() {
                let start = buffer.line_to_char(line);
                let end = buffer.line_end_char(line);
                let mut chars = buffer.rope.slice(start..end).chars();
                let len = match chars.next() {
                    Some('\t') => 1,
                    Some(' ') => 1 + chars.take(width - 1).take_while(|c| *c == ' ').count(),
                    _ => 0,
                };
                if len > 0 {
                    buffer.splice_recorded(start..start + len, "");
                }
            }
        });
    }

    /// Comments the touched lines out with `token`, or back in when every
    /// one that is not blank is commented already (VS Code and helix):
    /// `token` and a space go at the smallest indent of the lines, so the
    /// comment marks line up; blank lines stay as they are.
    pub(crate) fn toggle_comment(&mut self, token: &str) {
        let lines = self.touched_lines();
        let text_of = |b: &Buffer, line: usize| {
            let start = b.line_to_char(line) + b.indent_len(line);
            b.rope.slice(start..b.line_end_char(line)).to_string()
        };
        let filled: Vec<usize> = lines
            .iter()
            .copied()
            .filter(|l| !self.is_blank(*l))
            .collect();
        let uncomment =
            !filled.is_empty() && filled.iter().all(|l| text_of(self, *l).starts_with(token));
        // On blank lines only, the comment starts there.
        let targets = if filled.is_empty() { lines } else { filled };
        let indent = targets
            .iter()
            .map(|l| self.indent_len(*l))
            .min()
            .unwrap_or(0);
        let marker = format!("{token} ");
        self.as_one_step(|buffer| {
            for &line in targets.iter().rev() {
                let start = buffer.line_to_char(line);
                if uncomment {
                    let at = start + buffer.indent_len(line);
                    let mut len = token.chars().count();
                    if buffer.rope.get_char(at + len) == Some(' ') {
                        len += 1;
                    }
                    buffer.splice_recorded(at..at + len, "");
                } else {
                    buffer.insert_before_text(start + indent, &marker);
                }
            }
        });
    }

    /// Where each cursor is as (line, char in the line) pairs, primary
    /// first, with the run of lines its selection is in.
    fn cursor_places(&self) -> Vec<[(usize, usize); 2]> {
        let place = |at: usize| {
            let line = self.char_to_line(at);
            (line, at - self.line_to_char(line))
        };
        std::iter::once(self.selection)
            .chain(self.others.iter().copied())
            .map(|s| [place(s.anchor), place(s.head)])
            .collect()
    }

    /// Puts the cursors back from [`cursor_places`], each line moved by
    /// `shift(line)`.
    ///
    /// [`cursor_places`]: Buffer::cursor_places
    fn restore_places(&mut self, places: &[[(usize, usize); 2]], shift: impl Fn(usize) -> usize) {
        let at = |b: &Buffer, (line, offset): (usize, usize)| {
            let line = shift(line);
            (b.line_to_char(line) + offset).min(b.line_end_char(line).max(b.line_to_char(line)))
        };
        let mut selections: Vec<Selection> = places
            .iter()
            .map(|[anchor, head]| Selection::new(at(self, *anchor), at(self, *head)))
            .collect();
        if selections.is_empty() {
            return;
        }
        self.selection = selections.remove(0);
        self.others = selections;
    }

    /// The last line moving can take: the empty line after a final line
    /// break is not one.
    fn last_movable_line(&self) -> usize {
        let last = self.last_line();
        if last > 0 && self.line_to_char(last) == self.len_chars() {
            last - 1
        } else {
            last
        }
    }

    /// Alt-Up / Alt-Down: swaps the touched lines with the line above or
    /// below them. `false`, changing nothing, at the top or bottom.
    pub(crate) fn move_lines(&mut self, up: bool) -> bool {
        let blocks = self.line_blocks();
        let (Some(first), Some(last)) = (blocks.first(), blocks.last()) else {
            return false;
        };
        let limit = self.last_movable_line();
        if (up && first.start == 0) || (!up && last.end > limit) || last.end > limit + 1 {
            return false;
        }
        // An empty line that would end up last, in a file without a final
        // line break, would become the empty line after a final break: no
        // line to move back.
        let region_end = if up { last.end } else { last.end + 1 };
        let comes_last = if up { last.start - 1 } else { last.end - 1 };
        if region_end == self.len_lines()
            && self.line_to_char(comes_last) == self.line_end_char(comes_last)
        {
            return false;
        }
        let places = self.cursor_places();
        self.as_one_step(|buffer| {
            for block in blocks.iter().rev() {
                let region = if up {
                    block.start - 1..block.end
                } else {
                    block.start..block.end + 1
                };
                let (chars, text) = buffer.rotated(region, up);
                buffer.splice_recorded(chars, &text);
            }
            buffer.restore_places(&places, |line| if up { line - 1 } else { line + 1 });
        });
        true
    }

    /// The text of `lines` with the first line moved to the end (`up`, the
    /// block below it rises) or the last to the front; each line ending
    /// stays where it was, so a last line without one keeps none.
    fn rotated(&self, lines: Range<usize>, up: bool) -> (Range<usize>, String) {
        let chars = self.line_to_char(lines.start)..self.line_to_char(lines.end);
        let mut texts = Vec::new();
        let mut endings = Vec::new();
        for line in lines {
            let (start, end) = (self.line_to_char(line), self.line_end_char(line));
            texts.push(self.rope.slice(start..end).to_string());
            endings.push(
                self.rope
                    .slice(end..self.line_to_char(line + 1))
                    .to_string(),
            );
        }
        if up {
            texts.rotate_left(1);
        } else {
            texts.rotate_right(1);
        }
        let text = texts
            .iter()
            .zip(&endings)
            .map(|(t, e)| format!("{t}{e}"))
            .collect();
        (chars, text)
    }

    /// Alt-Shift-Down (`below`) or Alt-Shift-Up: a copy of the touched
    /// lines below or above them; the cursors go to the copy (the lower
    /// lines, or the upper ones).
    pub(crate) fn duplicate_lines(&mut self, below: bool) {
        let blocks = self.line_blocks();
        let places = self.cursor_places();
        let ending = self.line_ending.as_str();
        self.as_one_step(|buffer| {
            for block in blocks.iter().rev() {
                let start = buffer.line_to_char(block.start);
                let end = buffer.line_end_char(block.end - 1);
                let copy = format!("{ending}{}", buffer.rope.slice(start..end));
                buffer.splice_recorded(end..end, &copy);
            }
            // A line moves down by the size of every run above it, and of
            // its own when the cursors go to the lower copy.
            buffer.restore_places(&places, |line| {
                line + blocks
                    .iter()
                    .filter(|b| b.end <= line || (below && b.start <= line))
                    .map(|b| b.len())
                    .sum::<usize>()
            });
        });
    }
}

#[cfg(test)]
mod tests;
