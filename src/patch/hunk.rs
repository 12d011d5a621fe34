//! Hunk arithmetic: checking counts, splitting like `git add -p`'s `s`,
//! joining the pieces back, and reversing a hunk to undo it.

use super::{DiffLine, Hunk, LineKind};

impl Hunk {
    /// Whether the header counts match the lines: old = context + removed,
    /// new = context + added.
    #[cfg(test)]
    pub(crate) fn counts_consistent(&self) -> bool {
        let (old, new) = side_counts(&self.lines);
        old == self.old_lines && new == self.new_lines
    }

    /// The hunk cut at every run of context between two changes, as
    /// `git add -p` splits: each piece keeps the whole context run on each
    /// side, so neighbours share those lines, and every piece applies on
    /// its own. A hunk with one run of changes comes back whole.
    pub(crate) fn split(&self) -> Vec<Hunk> {
        let blocks = change_blocks(&self.lines);
        if blocks.len() < 2 {
            return vec![self.clone()];
        }
        // Line numbers where each line of the hunk sits on each side.
        let mut old_at = Vec::with_capacity(self.lines.len());
        let mut new_at = Vec::with_capacity(self.lines.len());
        let (mut old_no, mut new_no) = (self.old_start, self.new_start);
        for line in &self.lines {
            old_at.push(old_no);
            new_at.push(new_no);
            match line.kind {
                LineKind::Context => {
                    old_no += 1;
                    new_no += 1;
                }
                LineKind::Removed => old_no += 1,
                LineKind::Added => new_no += 1,
            }
        }
        let last = blocks.len() - 1;
        (0..blocks.len())
            .map(|k| {
                let start = if k == 0 { 0 } else { blocks[k - 1].1 };
                let end = if k == last {
                    self.lines.len()
                } else {
                    blocks[k + 1].0
                };
                let lines = self.lines[start..end].to_vec();
                let (old_lines, new_lines) = side_counts(&lines);
                Hunk {
                    old_start: old_at[start],
                    old_lines,
                    new_start: new_at[start],
                    new_lines,
                    header: self.header.clone(),
                    lines,
                }
            })
            .collect()
    }

    /// Pieces of one hunk, in order, merged where they share context:
    /// the inverse of [`Hunk::split`]. `None` when the pieces leave a gap
    /// or their shared lines differ.
    #[cfg(test)]
    pub(crate) fn join(pieces: &[Hunk]) -> Option<Hunk> {
        let (first, rest) = pieces.split_first()?;
        let mut joined = first.clone();
        for piece in rest {
            let end = joined.old_start + joined.old_lines;
            let overlap = end.checked_sub(piece.old_start)? as usize;
            let shared = piece.lines.get(..overlap)?;
            let tail = joined
                .lines
                .get(joined.lines.len().checked_sub(overlap)?..)?;
            if shared != tail || shared.iter().any(|l| l.kind != LineKind::Context) {
                return None;
            }
            joined.lines.extend_from_slice(&piece.lines[overlap..]);
            let (old_lines, new_lines) = side_counts(&joined.lines);
            joined.old_lines = old_lines;
            joined.new_lines = new_lines;
        }
        Some(joined)
    }

    /// The hunk that undoes this one: sides swapped, added lines removed
    /// and back, each run of changes in git's order (removed first).
    pub(crate) fn reversed(&self) -> Hunk {
        let mut lines: Vec<DiffLine> = self
            .lines
            .iter()
            .map(|l| DiffLine {
                kind: match l.kind {
                    LineKind::Added => LineKind::Removed,
                    LineKind::Removed => LineKind::Added,
                    LineKind::Context => LineKind::Context,
                },
                ..l.clone()
            })
            .collect();
        for (start, end) in change_blocks(&lines) {
            lines[start..end].sort_by_key(|l| l.kind != LineKind::Removed);
        }
        Hunk {
            old_start: self.new_start,
            old_lines: self.new_lines,
            new_start: self.old_start,
            new_lines: self.old_lines,
            header: self.header.clone(),
            lines,
        }
    }

    /// How many pieces [`Hunk::split`] would give.
    #[cfg(test)]
    pub(crate) fn split_count(&self) -> usize {
        change_blocks(&self.lines).len().max(1)
    }
}

/// (old, new) line counts of `lines`.
fn side_counts(lines: &[DiffLine]) -> (u32, u32) {
    let mut old = 0;
    let mut new = 0;
    for line in lines {
        match line.kind {
            LineKind::Context => {
                old += 1;
                new += 1;
            }
            LineKind::Removed => old += 1,
            LineKind::Added => new += 1,
        }
    }
    (old, new)
}

/// Half-open index ranges of the maximal runs of changed lines.
fn change_blocks(lines: &[DiffLine]) -> Vec<(usize, usize)> {
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].kind == LineKind::Context {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && lines[i].kind != LineKind::Context {
            i += 1;
        }
        blocks.push((start, i));
    }
    blocks
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{FilePatch, diff_texts, strategies};
    use super::*;
    use crate::patch::parse;

    fn hunk_of(text: &str) -> Hunk {
        let diff = format!("--- a/x\n+++ b/x\n{text}");
        parse(diff.as_bytes())
            .unwrap()
            .files
            .remove(0)
            .hunks
            .remove(0)
    }

    #[test]
    fn split_cuts_at_context_between_changes_and_shares_it() {
        let hunk = hunk_of("@@ -1,6 +1,6 @@ f\n a\n-b\n+B\n c\n d\n-e\n+E\n f\n");
        let pieces = hunk.split();
        let text: Vec<String> = pieces
            .iter()
            .map(|h| {
                let mut out = String::new();
                h.write_unified(&mut out);
                out
            })
            .collect();
        assert_eq!(
            text,
            [
                "@@ -1,4 +1,4 @@ f\n a\n-b\n+B\n c\n d\n",
                "@@ -3,4 +3,4 @@ f\n c\n d\n-e\n+E\n f\n",
            ]
        );
        assert_eq!(Hunk::join(&pieces), Some(hunk));
    }

    #[test]
    fn hunk_with_one_run_of_changes_does_not_split() {
        let hunk = hunk_of("@@ -1,3 +1,3 @@\n a\n-b\n+c\n d\n");
        assert_eq!(hunk.split(), vec![hunk.clone()]);
        assert_eq!(hunk.split_count(), 1);
    }

    #[test]
    fn reversed_hunk_lists_removed_lines_first() {
        let hunk = hunk_of("@@ -4,3 +4,4 @@\n a\n-b\n+c\n+d\n e\n");
        let mut out = String::new();
        hunk.reversed().write_unified(&mut out);
        assert_eq!(out, "@@ -4,4 +4,3 @@\n a\n-c\n-d\n+b\n e\n");
    }

    fn texts_and_patch() -> impl Strategy<Value = (String, String, FilePatch)> {
        (strategies::text(), strategies::text()).prop_map(|(old, new)| {
            let patch = diff_texts(&old, &new, "f");
            (old, new, patch)
        })
    }

    proptest! {
        #[test]
        fn generated_hunks_have_consistent_counts(hunk in strategies::hunk()) {
            prop_assert!(hunk.counts_consistent());
            for piece in hunk.split() {
                prop_assert!(piece.counts_consistent(), "{:?}", piece);
            }
            prop_assert!(hunk.reversed().counts_consistent());
        }

        #[test]
        fn split_pieces_join_back_into_the_hunk(hunk in strategies::hunk()) {
            let pieces = hunk.split();
            prop_assert_eq!(pieces.len(), hunk.split_count());
            prop_assert_eq!(Hunk::join(&pieces), Some(hunk));
        }

        #[test]
        fn reversing_twice_gives_the_hunk_back(hunk in strategies::hunk()) {
            prop_assert_eq!(hunk.reversed().reversed(), hunk);
        }

        #[test]
        fn each_split_piece_applies_alone((old, _new, patch) in texts_and_patch()) {
            for hunk in &patch.hunks {
                for piece in hunk.split() {
                    let one = patch.with_hunks([piece.clone()]);
                    prop_assert!(one.apply_to(&old).is_ok(), "{:?}", one);
                }
            }
        }

        #[test]
        fn applying_every_piece_in_turn_gives_the_new_text(
            (old, new, patch) in texts_and_patch()
        ) {
            // Stage piece by piece the way a user would: each time diff
            // what is left and take the first piece.
            let mut current = old.clone();
            for _ in 0..200 {
                let left = diff_texts(&current, &new, "f");
                let Some(hunk) = left.hunks.first() else { break };
                let piece = hunk.split().remove(0);
                current = left.with_hunks([piece]).apply_to(&current)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            prop_assert_eq!(current, new);
            let _ = patch;
        }
    }
}
