//! Insert and append over a visual selection (`I`, `A`; in a block, down
//! every line of it on `Esc`).

use super::super::VisualKind;
use super::super::edit::{set_cursor, text_start_of_block};
use super::super::motion::Text;
use super::{Insertion, Vim, VimMode};
use crate::editor::buffer::Buffer;

impl Vim {
    /// `I` or `A` out of a visual selection: the cursor where the typing
    /// goes, and the insertion that copies it down a block on `Esc`.
    pub(super) fn block_insert(&mut self, buf: &mut Buffer, kind: VisualKind, append: bool) {
        let text = Text { buf };
        let cursor = buf.cursor();
        let ((l1, l2), (c1, c2)) = self.block(&text, cursor);
        let (start, col) = match (kind, append) {
            (VisualKind::Block, false) => (text.at_col(l1, c1, true), c1),
            (VisualKind::Block, true) => {
                let col = c2.saturating_add(1);
                (text.at_col(l1, col, true), col)
            }
            // Out of a block, `I` and `A` take the selection's lines (vim):
            // `I` inserts at the first line's start, `A` after the
            // selection's end unless that is in the first column.
            (_, false) => (text.start(l1), usize::MAX),
            (_, true) => {
                let end = self.anchor.max(cursor).min(text.last_char(l2));
                let after = if !text.is_empty_line(l2) && text.col(end) != 0 {
                    buf.next_grapheme(end)
                } else {
                    end
                };
                (after, usize::MAX)
            }
        };
        let (have, end) = (text.col(text.end(l1)), text.end(l1));
        buf.begin_group();
        // Appending past a short first line pads it to the block's column.
        let mut start = start;
        if kind == VisualKind::Block
            && append
            && col != usize::MAX
            && have < col
            && self.curswant != Some(usize::MAX)
        {
            buf.replace_range(end..end, &" ".repeat(col - have));
            start = end + (col - have);
        }
        let block_col = if self.curswant == Some(usize::MAX) && append {
            usize::MAX
        } else {
            col
        };
        set_cursor(buf, start);
        self.insertion = Some(Insertion {
            count: 1,
            typed: Vec::new(),
            change: None,
            open_line: false,
            block: (kind == VisualKind::Block).then_some((l1 + 1..l2 + 1, block_col, append)),
            home: (kind == VisualKind::Block).then(|| text_start_of_block(buf, l1, c1)),
        });
        self.set_mode(VimMode::Insert);
    }
}
