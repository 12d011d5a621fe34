//! Applies a file's patch to a text in memory: the check behind staging
//! tests now, the AI patch review later.
//!
//! Like libgit2 and `git apply` without fuzz: every context and removed
//! line must match exactly, final newline included. A hunk is tried where
//! its numbers put it first, then at the nearest offset where it matches,
//! as `git apply` does when lines moved.

use super::{FilePatch, LineKind, PatchError};

/// A line of the text being patched, and whether a `\n` ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line<'a> {
    text: &'a str,
    newline: bool,
}

impl FilePatch {
    /// `text` with this patch applied. A binary patch has nothing to
    /// apply and is refused.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "the AI review, still to come, applies accepted hunks to the buffers"
        )
    )]
    pub(crate) fn apply_to(&self, text: &str) -> Result<String, PatchError> {
        self.apply_with_fuzz(text, 0)
    }

    /// `text` with this patch applied as `patch` does with fuzz: a hunk
    /// whose lines match nowhere is tried again without up to `fuzz` of
    /// its first and last context lines. For patches written by a model,
    /// whose context is often slightly off; staging never uses it.
    pub(crate) fn apply_with_fuzz(&self, text: &str, fuzz: usize) -> Result<String, PatchError> {
        let fail = |hunk: usize, old_start: u32, why: String| PatchError::DoesNotApply {
            path: self.path().to_string(),
            hunk: hunk + 1,
            old_start,
            why,
        };
        if self.binary {
            return Err(fail(0, 0, "it is a binary patch".into()));
        }
        let added: usize = self
            .hunks
            .iter()
            .flat_map(|h| &h.lines)
            .filter(|l| l.kind == LineKind::Added)
            .count();
        // Room for every line the hunks add: the image does not grow
        // (and move) as they go in.
        let mut image: Vec<Line<'_>> = lines_of(text, added);
        let mut offset: i64 = 0;
        let longest = self.hunks.iter().map(|h| h.lines.len()).max().unwrap_or(0);
        let (mut pre, mut post) = (Vec::with_capacity(longest), Vec::with_capacity(longest));
        for (index, hunk) in self.hunks.iter().enumerate() {
            pre.clear();
            post.clear();
            for line in &hunk.lines {
                let l = Line {
                    text: line.text(),
                    newline: !line.no_newline_at_end,
                };
                match line.kind {
                    LineKind::Context => {
                        pre.push(l.clone());
                        post.push(l);
                    }
                    LineKind::Removed => pre.push(l),
                    LineKind::Added => post.push(l),
                }
            }
            let first = if hunk.old_lines == 0 {
                i64::from(hunk.old_start)
            } else {
                i64::from(hunk.old_start) - 1
            };
            let lead = hunk
                .lines
                .iter()
                .take_while(|l| l.kind == LineKind::Context)
                .count();
            let trail = hunk
                .lines
                .iter()
                .rev()
                .take_while(|l| l.kind == LineKind::Context)
                .count()
                .min(hunk.lines.len() - lead);
            let mut placed = None;
            for f in 0..=fuzz {
                let (cut_lead, cut_trail) = (f.min(lead), f.min(trail));
                if f > 0 && cut_lead + cut_trail == 0 {
                    break;
                }
                let old = &pre[cut_lead..pre.len() - cut_trail];
                let expected = (first + offset + cut_lead as i64).clamp(0, image.len() as i64);
                if let Some(at) = find(&image, old, expected as usize) {
                    placed = Some((at, expected, cut_lead, cut_trail));
                    break;
                }
            }
            let (at, expected, cut_lead, cut_trail) = placed.ok_or_else(|| {
                fail(
                    index,
                    hunk.old_start,
                    format!("its {} old lines are not in the text", pre.len()),
                )
            })?;
            let old_len = pre.len() - cut_lead - cut_trail;
            let new = &post[cut_lead..post.len() - cut_trail];
            offset += at as i64 - expected;
            offset += new.len() as i64 - old_len as i64;
            image.splice(at..at + old_len, new.iter().cloned());
        }
        let size = image
            .iter()
            .map(|l| l.text.len() + usize::from(l.newline))
            .sum();
        let mut out = String::with_capacity(size);
        for line in &image {
            out.push_str(line.text);
            if line.newline {
                out.push('\n');
            }
        }
        Ok(out)
    }
}

/// The lines of `text`, with room for `more`.
fn lines_of(text: &str, more: usize) -> Vec<Line<'_>> {
    let count = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
    let mut lines = Vec::with_capacity(count + more);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        lines.push(Line {
            text: &text[start..end],
            newline: true,
        });
        start = end + 1;
    }
    if start < text.len() {
        lines.push(Line {
            text: &text[start..],
            newline: false,
        });
    }
    lines
}

/// Where `pre` matches `image`: at `expected`, else the nearest offset.
fn find(image: &[Line<'_>], pre: &[Line<'_>], expected: usize) -> Option<usize> {
    let fits = |at: usize| image.get(at..at + pre.len()).is_some_and(|s| s == pre);
    if fits(expected) {
        return Some(expected);
    }
    if pre.is_empty() {
        return None;
    }
    (1..=image.len()).find_map(|d| {
        [expected.checked_sub(d), expected.checked_add(d)]
            .into_iter()
            .flatten()
            .find(|&at| fits(at))
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{diff_texts, strategies};

    proptest! {
        #[test]
        fn diff_of_two_texts_turns_one_into_the_other(
            old in strategies::text(),
            new in strategies::text(),
        ) {
            let patch = diff_texts(&old, &new, "f");
            prop_assert_eq!(patch.apply_to(&old).ok(), Some(new.clone()));
            prop_assert_eq!(patch.reversed().apply_to(&new).ok(), Some(old));
        }
    }

    #[test]
    fn hunk_whose_lines_moved_applies_at_the_nearest_offset() {
        let patch = diff_texts("a\nb\nc\n", "a\nB\nc\n", "f");
        assert_eq!(
            patch.apply_to("x\ny\na\nb\nc\n").unwrap(),
            "x\ny\na\nB\nc\n"
        );
    }

    #[test]
    fn hunk_whose_lines_are_gone_is_refused() {
        let patch = diff_texts("a\nb\nc\n", "a\nB\nc\n", "f");
        let err = patch.apply_to("a\nc\n").unwrap_err();
        assert!(err.to_string().contains("hunk 1 of f"), "{err}");
    }

    #[test]
    fn fuzz_drops_outer_context_that_no_longer_matches() {
        let patch = diff_texts("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\n", "f");
        let drifted = "a\nB\nc\nd\ne\nF\ng\n";
        assert!(patch.apply_to(drifted).is_err());
        assert!(patch.apply_with_fuzz(drifted, 1).is_err());
        assert_eq!(
            patch.apply_with_fuzz(drifted, 2).unwrap(),
            "a\nB\nc\nD\ne\nF\ng\n"
        );
        // The changed lines themselves must still match.
        assert!(patch.apply_with_fuzz("a\nb\nc\nX\ne\nf\ng\n", 3).is_err());
    }

    #[test]
    fn missing_final_newline_must_match() {
        let patch = diff_texts("a\nb", "a\nc", "f");
        assert_eq!(patch.apply_to("a\nb").unwrap(), "a\nc");
        assert!(patch.apply_to("a\nb\n").is_err());
    }
}
