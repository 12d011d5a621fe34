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
    let mut wrapper = Wrapper::new(width, tab_width);
    let mut last = 0;
    for g in line.graphemes(true) {
        last = wrapper.place(g).row;
        if last + 1 >= cap {
            return cap.max(1);
        }
    }
    last + 1
}

/// The row and column of char `at` of `line` (the cursor), or of the end
/// of the line when `at` is past it.
pub(crate) fn position(line: &str, at: usize, width: usize, tab_width: usize) -> (usize, usize) {
    let mut wrapper = Wrapper::new(width, tab_width);
    let mut chars = 0;
    for g in line.graphemes(true) {
        let placed = wrapper.place(g);
        if chars >= at {
            return placed.into();
        }
        chars += g.chars().count();
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
    for g in line.graphemes(true) {
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
}
