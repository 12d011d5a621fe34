//! Soft wrap: where each grapheme of a line goes when long lines wrap at
//! the window's width instead of scrolling sideways. One rule places them
//! for drawing, for the cursor, for scrolling and for clicks, so they
//! agree: a grapheme that does not fit in what is left of a row starts the
//! next one (a CJK character never straddles two rows), and tabs reach the
//! next tab stop counted from the row's start. A line takes at least one
//! row; its ending takes no cell but, as the cursor may stand on it, wraps
//! like a one-cell grapheme.

use unicode_segmentation::UnicodeSegmentation;

use crate::editor::grapheme;

/// The place of one grapheme on the rows of its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placed {
    /// The visual row within the line, from 0.
    pub row: usize,
    /// The column within the row.
    pub col: usize,
    /// Cells the grapheme takes there.
    pub width: usize,
}

/// A piece of a line: a run of printable ASCII (each char one grapheme of
/// one cell, placed by arithmetic: a megabyte of minified code is not
/// segmented grapheme by grapheme), or one grapheme.
enum Piece<'a> {
    Run(usize),
    One(&'a str),
}

/// The pieces of `line`, in order. The last char of an ASCII run that text
/// follows goes alone, as a combining mark after it joins its grapheme.
fn pieces(line: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = line;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let run = rest
            .bytes()
            .take_while(|b| (0x20..0x7f).contains(b))
            .count();
        let run = if run < rest.len() {
            run.saturating_sub(1)
        } else {
            run
        };
        if run > 0 {
            rest = &rest[run..];
            return Some(Piece::Run(run));
        }
        let g = rest.graphemes(true).next().unwrap_or(rest);
        rest = &rest[g.len()..];
        Some(Piece::One(g))
    })
}

/// Places the graphemes of a line one after another, wrapping at `width`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wrapper {
    width: usize,
    tab_width: usize,
    row: usize,
    col: usize,
}

impl Wrapper {
    pub(crate) fn new(width: usize, tab_width: usize) -> Wrapper {
        Wrapper {
            width: width.max(1),
            tab_width,
            row: 0,
            col: 0,
        }
    }

    /// Where `grapheme` goes, after the ones placed before it.
    pub(crate) fn place(&mut self, grapheme: &str) -> Placed {
        let mut width = grapheme::width(grapheme, self.col, self.tab_width);
        if self.col > 0 && self.col + width.max(1) > self.width {
            self.row += 1;
            self.col = 0;
            width = grapheme::width(grapheme, 0, self.tab_width);
        }
        let placed = Placed {
            row: self.row,
            col: self.col,
            width,
        };
        self.col += width;
        placed
    }

    /// Where a cursor after everything placed so far stands (the end of
    /// a last line without a line ending).
    pub(crate) fn end(&self) -> (usize, usize) {
        let mut after = *self;
        after.place(" ").into()
    }

    /// Where the `j`th of a run of one-cell graphemes placed next goes.
    fn in_run(&self, j: usize) -> (usize, usize) {
        let (row, col) = self.normal();
        let t = col + j;
        (row + t / self.width, t % self.width)
    }

    /// The place the next one-cell grapheme takes: a full row wraps.
    fn normal(&self) -> (usize, usize) {
        if self.col >= self.width {
            (self.row + 1, 0)
        } else {
            (self.row, self.col)
        }
    }

    /// Places `n` one-cell graphemes.
    fn advance(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let (row, col) = self.in_run(n - 1);
        self.row = row;
        self.col = col + 1;
    }

    /// Places the graphemes of `text` that go on rows before `row`: the
    /// bytes placed. What follows starts on `row` or later.
    pub(crate) fn skip_rows(&mut self, text: &str, row: usize) -> usize {
        let mut used = 0;
        for piece in pieces(text) {
            match piece {
                Piece::Run(n) => {
                    let (r, c) = self.normal();
                    if r >= row {
                        return used;
                    }
                    // Cells left on the rows before `row`.
                    let room = (row - r) * self.width - c;
                    if n > room {
                        self.advance(room);
                        return used + room;
                    }
                    self.advance(n);
                    used += n;
                }
                Piece::One(g) => {
                    let mut next = *self;
                    if next.place(g).row >= row {
                        return used;
                    }
                    *self = next;
                    used += g.len();
                }
            }
        }
        used
    }
}

impl From<Placed> for (usize, usize) {
    fn from(p: Placed) -> (usize, usize) {
        (p.row, p.col)
    }
}

/// The rows `line` takes at `width` columns, counted no further than
/// `cap` (a megabyte on one line is not walked to say it fills the
/// window).
pub(crate) fn rows(line: &str, width: usize, tab_width: usize, cap: usize) -> usize {
    let cap = cap.max(1);
    let mut wrapper = Wrapper::new(width, tab_width);
    let mut last = 0;
    for piece in pieces(line) {
        last = match piece {
            Piece::Run(n) => {
                wrapper.advance(n);
                wrapper.row
            }
            Piece::One(g) => wrapper.place(g).row,
        };
        if last + 1 >= cap {
            return cap;
        }
    }
    last + 1
}

/// The row and column of char `at` of `line` (the cursor), or of the end
/// of the line when `at` is past it.
pub(crate) fn position(line: &str, at: usize, width: usize, tab_width: usize) -> (usize, usize) {
    let mut wrapper = Wrapper::new(width, tab_width);
    let mut chars = 0;
    for piece in pieces(line) {
        match piece {
            Piece::Run(n) => {
                if at < chars + n {
                    return wrapper.in_run(at.saturating_sub(chars));
                }
                wrapper.advance(n);
                chars += n;
            }
            Piece::One(g) => {
                let placed = wrapper.place(g);
                if chars >= at {
                    return placed.into();
                }
                chars += g.chars().count();
            }
        }
    }
    wrapper.end()
}

/// The char of `line` drawn at `row` and `col` (a click): the grapheme
/// there, the last one of the row when the click is past its end, the
/// line's end past the last row.
pub(crate) fn char_at(line: &str, row: usize, col: usize, width: usize, tab_width: usize) -> usize {
    let mut wrapper = Wrapper::new(width, tab_width);
    let mut chars = 0;
    let mut last_on_row = None;
    for piece in pieces(line) {
        match piece {
            Piece::Run(n) => {
                let (r, c) = wrapper.normal();
                if r > row {
                    return last_on_row.unwrap_or(chars);
                }
                // The run's cell at `col` of `row`, or the row's last one.
                let want = (row - r) * wrapper.width + col.min(wrapper.width - 1);
                if let Some(j) = want.checked_sub(c).filter(|j| *j < n) {
                    return chars + j;
                }
                if wrapper.in_run(n - 1).0 == row {
                    last_on_row = Some(chars + n - 1);
                }
                wrapper.advance(n);
                chars += n;
            }
            Piece::One(g) => {
                let placed = wrapper.place(g);
                if placed.row > row {
                    return last_on_row.unwrap_or(chars);
                }
                if placed.row == row {
                    if col < placed.col + placed.width.max(1) {
                        return chars;
                    }
                    last_on_row = Some(chars);
                }
                chars += g.chars().count();
            }
        }
    }
    chars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_the_width_and_wide_characters_never_straddle() {
        assert_eq!(rows("abcdefghij\n", 4, 4, 100), 3);
        assert_eq!(rows("abcd\n", 4, 4, 100), 2, "the ending wraps like a cell");
        assert_eq!(rows("abcd", 4, 4, 100), 1);
        assert_eq!(rows("", 4, 4, 100), 1);
        assert_eq!(
            rows(&"x".repeat(1_000_000), 10, 4, 5),
            5,
            "counted up to the cap"
        );
        // 中 takes two cells: at column 3 of 4 it goes to the next row.
        let mut w = Wrapper::new(4, 4);
        let placed: Vec<(usize, usize)> = "ab中中"
            .graphemes(true)
            .map(|g| w.place(g).into())
            .collect();
        assert_eq!(placed, [(0, 0), (0, 1), (0, 2), (1, 0)]);
        let mut w = Wrapper::new(4, 4);
        let placed: Vec<(usize, usize)> =
            "abc中".graphemes(true).map(|g| w.place(g).into()).collect();
        assert_eq!(placed, [(0, 0), (0, 1), (0, 2), (1, 0)]);
        // A tab reaches the next stop of its row.
        let mut w = Wrapper::new(6, 4);
        let tabbed: Vec<Placed> = "abcde\tx".graphemes(true).map(|g| w.place(g)).collect();
        assert_eq!(
            tabbed[5],
            Placed {
                row: 1,
                col: 0,
                width: 4
            }
        );
        assert_eq!(
            tabbed[6],
            Placed {
                row: 1,
                col: 4,
                width: 1
            }
        );
    }

    #[test]
    fn the_cursor_and_clicks_agree_with_the_drawing() {
        let line = "abcdefghij\n";
        assert_eq!(position(line, 0, 4, 4), (0, 0));
        assert_eq!(position(line, 5, 4, 4), (1, 1));
        assert_eq!(position(line, 10, 4, 4), (2, 2), "on the line ending");
        assert_eq!(
            position("abcd", 4, 4, 4),
            (1, 0),
            "the end of a full last line"
        );
        for at in 0..=10 {
            let (row, col) = position(line, at, 4, 4);
            assert_eq!(char_at(line, row, col, 4, 4), at, "{at}");
        }
        assert_eq!(
            char_at(line, 0, 30, 4, 4),
            3,
            "past a row's end: its last char"
        );
        assert_eq!(char_at(line, 9, 0, 4, 4), 11, "past the last row: the end");
        let cjk = "中文字符\n";
        assert_eq!(position(cjk, 2, 5, 4), (1, 0));
        assert_eq!(char_at(cjk, 0, 3, 5, 4), 1, "the right half of a wide char");
    }

    /// The same answers as placing every grapheme one by one.
    #[test]
    fn ascii_runs_are_placed_as_graphemes_one_by_one_would_be() {
        /// Per char: where it goes if a grapheme starts there.
        fn slow(line: &str, width: usize) -> Vec<Option<(usize, usize)>> {
            let mut w = Wrapper::new(width, 4);
            let mut out = Vec::new();
            for g in line.graphemes(true) {
                out.push(Some(w.place(g).into()));
                out.extend(std::iter::repeat_n(None, g.chars().count() - 1));
            }
            out.push(Some(w.end()));
            out
        }
        let lines = [
            "abcdefghijklmnopqrstuvwxyz0123456789\n",
            "ab\tcd\tefghij\t\tk\n",
            "e\u{301}abce\u{301}\u{301}xyz 中文 abc\r\n",
            "x中y中z中w中v中u中t中s中",
            "abcd",
            "",
        ];
        for line in lines {
            for width in [1, 2, 3, 4, 5, 7, 36] {
                let slow = slow(line, width);
                for (at, want) in slow.iter().enumerate() {
                    if let Some(want) = want {
                        assert_eq!(
                            position(line, at, width, 4),
                            *want,
                            "{line:?} at {width}: {at}"
                        );
                    }
                }
                let want: Vec<(usize, usize)> = slow.iter().flatten().copied().collect();
                let last_row = want.iter().map(|p| p.0).max().unwrap_or(0);
                let full = rows(line, width, 4, usize::MAX);
                assert!(
                    full == last_row + 1 || full == last_row,
                    "{line:?} at {width}"
                );
                let boundaries: Vec<usize> =
                    (0..slow.len()).filter(|i| slow[*i].is_some()).collect();
                for (&at, &(row, col)) in boundaries.iter().zip(&want) {
                    let hit = char_at(line, row, col, width, 4);
                    assert_eq!(
                        position(line, hit, width, 4),
                        (row, col),
                        "{line:?} at {width}: char {at}"
                    );
                }
                for row in 0..=last_row + 1 {
                    let mut w = Wrapper::new(width, 4);
                    let used = w.skip_rows(line, row);
                    let chars = line[..used].chars().count();
                    let before = slow[..chars].iter().flatten();
                    // (The end's slot is no grapheme to keep.)
                    let first_kept = slow[..slow.len() - 1]
                        .get(chars)
                        .copied()
                        .flatten()
                        .map_or(usize::MAX, |p| p.0);
                    assert!(
                        first_kept >= row && before.clone().all(|p| p.0 < row),
                        "{line:?} at {width}, skipping {row} rows: {used} bytes, first kept on {first_kept}"
                    );
                }
            }
        }
        // A megabyte is counted by arithmetic.
        let long = "x".repeat(1 << 20);
        assert_eq!(rows(&long, 100, 4, usize::MAX), (1 << 20) / 100 + 1);
        assert_eq!(
            position(&long, 1 << 20, 100, 4),
            ((1 << 20) / 100, (1 << 20) % 100)
        );
    }
}
