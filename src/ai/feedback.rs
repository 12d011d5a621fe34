//! Regenerate with feedback: the follow-up a reviewed patch sends back.
//!
//! The model is told which hunks were taken as they are, and gets each
//! rejected hunk again with the reason the user gave, so the next answer
//! changes what was rejected and leaves the rest alone. Hunks still
//! undecided are named too: the user has not judged them yet.

use std::fmt::Write as _;

use crate::patch::Patch;
use crate::store::patches::{Decision, HunkDecision};

/// The follow-up prompt for `patch` after review, or `None` when nothing
/// was rejected (there is nothing to regenerate).
pub(crate) fn prompt(patch: &Patch, decisions: &[HunkDecision]) -> Option<String> {
    let decision_of = |file: usize, hunk: usize| {
        decisions
            .iter()
            .find(|d| d.file_index == file && d.hunk_index == hunk)
    };
    let mut accepted = Vec::new();
    let mut pending = Vec::new();
    let mut rejected = String::new();
    let mut number = 0;
    for (f, file) in patch.files.iter().enumerate() {
        for (h, hunk) in file.hunks.iter().enumerate() {
            number += 1;
            let label = format!("hunk {number} ({} @@ -{})", file.path(), hunk.old_start);
            match decision_of(f, h) {
                Some(d) if d.decision == Decision::Rejected => {
                    let _ = writeln!(rejected, "{label} was rejected.");
                    match d.reason.as_deref().map(str::trim) {
                        Some(reason) if !reason.is_empty() => {
                            let _ = writeln!(rejected, "Reason: {reason}");
                        }
                        _ => rejected.push_str("No reason was given.\n"),
                    }
                    rejected.push_str("```diff\n");
                    rejected.push_str(&hunk.header_line());
                    rejected.push('\n');
                    for line in &hunk.lines {
                        rejected.push(line.kind.prefix());
                        rejected.push_str(line.text());
                        rejected.push('\n');
                    }
                    rejected.push_str("```\n\n");
                }
                Some(d) if d.decision == Decision::Accepted => accepted.push(label),
                _ => pending.push(label),
            }
        }
    }
    if rejected.is_empty() {
        return None;
    }
    let mut out = String::from(
        "I reviewed your changes hunk by hunk. Answer with new edits for the rejected \
         hunks only, taking the reasons into account; the files are as they were before \
         your changes.\n\n",
    );
    out.push_str(&rejected);
    if !accepted.is_empty() {
        let _ = writeln!(
            out,
            "Accepted, keep them as they are: {}.",
            accepted.join(", ")
        );
    }
    if !pending.is_empty() {
        let _ = writeln!(out, "Not reviewed yet: {}.", pending.join(", "));
    }
    Some(out)
}

/// The files of the rejected hunks that still exist after the patch, each
/// once, in patch order: sent along with the follow-up, as they are now.
pub(crate) fn rejected_files(patch: &Patch, decisions: &[HunkDecision]) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for d in decisions {
        if d.decision == Decision::Rejected
            && let Some(file) = patch.files.get(d.file_index)
            && file.new_path.is_some()
            && !files.iter().any(|f| f == file.path())
        {
            files.push(file.path().to_string());
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(
        file: usize,
        hunk: usize,
        decision: Decision,
        reason: Option<&str>,
    ) -> HunkDecision {
        HunkDecision {
            file_index: file,
            hunk_index: hunk,
            decision,
            reason: reason.map(str::to_string),
        }
    }

    fn patch() -> Patch {
        crate::patch::parse(
            b"diff --git a/a.rs b/a.rs\n--- a/a.rs\n+++ b/a.rs\n\
             @@ -1,2 +1,2 @@\n-fn a() {}\n+fn a() -> u8 { 1 }\n ctx\n\
             @@ -10,1 +10,1 @@\n-let x = 1;\n+let x = 2;\n\
             diff --git a/b.rs b/b.rs\n--- a/b.rs\n+++ b/b.rs\n\
             @@ -3,1 +3,1 @@\n-old\n+new\n",
        )
        .unwrap()
    }

    #[test]
    fn rejected_hunks_go_back_with_their_reasons() {
        let prompt = prompt(
            &patch(),
            &[
                decision(0, 0, Decision::Accepted, None),
                decision(0, 1, Decision::Rejected, Some("  keep x at 1 ")),
                decision(1, 0, Decision::Pending, None),
            ],
        )
        .unwrap();
        assert!(prompt.contains("hunk 2 (a.rs @@ -10) was rejected.\nReason: keep x at 1\n"));
        assert!(prompt.contains("```diff\n@@ -10 +10 @@\n-let x = 1;\n+let x = 2;\n```"));
        assert!(prompt.contains("Accepted, keep them as they are: hunk 1 (a.rs @@ -1)."));
        assert!(prompt.contains("Not reviewed yet: hunk 3 (b.rs @@ -3)."));
    }

    #[test]
    fn a_rejection_without_a_reason_says_so() {
        let prompt = prompt(&patch(), &[decision(1, 0, Decision::Rejected, Some(" "))]).unwrap();
        assert!(prompt.contains("hunk 3 (b.rs @@ -3) was rejected.\nNo reason was given."));
    }

    #[test]
    fn nothing_rejected_is_nothing_to_regenerate() {
        let all = [
            decision(0, 0, Decision::Accepted, None),
            decision(0, 1, Decision::Accepted, None),
        ];
        assert_eq!(prompt(&patch(), &all), None);
        assert_eq!(prompt(&patch(), &[]), None);
    }
}
