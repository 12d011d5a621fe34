//! The words sent to a model, from the versioned files under `prompts/`
//! at the top of the repository: the instructions of an edit request
//! (`edit.v1.md`, with one section per edit format) and the follow-up that
//! carries an edit that did not apply (`recover.v1.md`). A changed prompt
//! is a new file with a new version, so every recorded call names the
//! words it was sent with.
//!
//! Also here: what a follow-up shows of a failed edit (the lines the model
//! expected and the closest lines the file has), the names in a request
//! that may duplicate existing ones, and the commit message an answer
//! ends with.

use std::fmt::Write as _;

use crate::patch::reply::Edit;

/// The version of the prompt files in use, recorded on every call.
pub(crate) const VERSION: &str = "edit.v1";

const EDIT: &str = include_str!("../../prompts/edit.v1.md");
const RECOVER: &str = include_str!("../../prompts/recover.v1.md");

/// The edit format asked for when the configuration names none.
pub(crate) const DEFAULT_FORMAT: &str = "search-replace";

const SECTION: &str = "<!-- format: ";

/// The instructions of an edit request asking for `format` (a name of
/// `config::EDIT_FORMATS`; an unknown one gets the default's section).
pub(crate) fn instructions(format: &str) -> String {
    let (template, sections) = EDIT.split_once(SECTION).unwrap_or((EDIT, ""));
    let mut chosen = None;
    let mut fallback = "";
    let all = format!("{SECTION}{sections}");
    for section in all.split(SECTION).skip(1) {
        let (name, body) = section.split_once("-->").unwrap_or((section, ""));
        let name = name.trim();
        let body = body.trim();
        if name == format {
            chosen = Some(body);
        }
        if name == DEFAULT_FORMAT {
            fallback = body;
        }
    }
    template
        .replace("{{format}}", chosen.unwrap_or(fallback))
        .trim_end()
        .to_string()
        + "\n"
}

/// The user's message: the context, the names that look like the ones
/// asked for, then the request itself.
pub(crate) fn request(context: &str, similar: &[String], prompt: &str) -> String {
    let mut out = String::new();
    if !context.is_empty() {
        let _ = writeln!(out, "Workspace context:\n{context}");
    }
    if !similar.is_empty() {
        let _ = writeln!(
            out,
            "Existing names similar to ones in the request (reuse them rather than duplicate them):"
        );
        for name in similar {
            let _ = writeln!(out, "- {name}");
        }
        out.push('\n');
    }
    let _ = write!(out, "Request:\n{}\n", prompt.trim_end());
    out
}

/// The follow-up that sends `failure` back to the model.
pub(crate) fn recovery(failure: &str) -> String {
    RECOVER.replace("{{failure}}", failure.trim_end())
}

/// What a follow-up says of an edit that did not apply: the error, the
/// lines the edit expected, and the closest lines `file` has (numbered).
pub(crate) fn failure_detail(error: &str, edit: Option<&Edit>, file: Option<&str>) -> String {
    let mut out = format!("{error}\n");
    let Some(expected) = edit.and_then(expected_lines) else {
        return out;
    };
    if expected.trim().is_empty() {
        return out;
    }
    let _ = write!(out, "\nThe lines the edit expected:\n```\n{}", expected);
    if !expected.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("```\n");
    match file {
        None => out.push_str("\nThe file does not exist.\n"),
        Some(text) => {
            if let Some(found) = closest(text, &expected) {
                let _ = write!(out, "\nThe closest lines in the file:\n```\n{found}```\n");
            }
        }
    }
    out
}

/// The old lines an edit looks for.
fn expected_lines(edit: &Edit) -> Option<String> {
    match edit {
        Edit::Replace { old, .. } => Some(old.clone()),
        Edit::Update { chunks, .. } => Some(
            chunks
                .iter()
                .map(|c| c.old.as_str())
                .collect::<Vec<_>>()
                .join(""),
        ),
        Edit::Diff { patch, .. } => {
            let mut old = String::new();
            for hunk in &patch.hunks {
                for line in &hunk.lines {
                    if line.kind != crate::patch::LineKind::Added {
                        old.push_str(line.text());
                        old.push('\n');
                    }
                }
            }
            Some(old)
        }
        Edit::Add { .. } | Edit::Delete { .. } | Edit::Lines { .. } => None,
    }
}

/// The window of `text` (as many lines as `expected` has) whose lines
/// are most like `expected` once whitespace is set aside, numbered from
/// 1; `None` when nothing in the file is alike.
pub(crate) fn closest(text: &str, expected: &str) -> Option<String> {
    let file: Vec<&str> = text.lines().collect();
    let want: Vec<&str> = expected.lines().collect();
    if file.is_empty() || want.is_empty() {
        return None;
    }
    let size = want.len().min(file.len());
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let want: Vec<String> = want.iter().map(|l| norm(l)).collect();
    let have: Vec<String> = file.iter().map(|l| norm(l)).collect();
    let alike = |a: &str, b: &str| -> f32 {
        if a.is_empty() || b.is_empty() {
            0.0
        } else if a == b {
            1.0
        } else {
            similar::TextDiff::from_chars(a, b).ratio()
        }
    };
    let mut best = (0usize, 0.0f32);
    for start in 0..=file.len() - size {
        let score: f32 = (0..size).map(|i| alike(&want[i], &have[start + i])).sum();
        if score > best.1 {
            best = (start, score);
        }
    }
    // Less than half alike on average is no match worth showing.
    if best.1 < size as f32 * 0.5 {
        return None;
    }
    let mut out = String::new();
    for (n, line) in file[best.0..best.0 + size].iter().enumerate() {
        let _ = writeln!(out, "{:>5} {line}", best.0 + n + 1);
    }
    Some(out)
}

/// The commit message an answer ends with (`Commit: …`), if it gives one.
pub(crate) fn commit_message(reply: &str) -> Option<String> {
    reply.lines().rev().find_map(|line| {
        let line = line.trim().trim_matches('*').trim();
        let rest = line
            .strip_prefix("Commit:")
            .or_else(|| line.strip_prefix("Commit message:"))?;
        let message = rest
            .trim()
            .trim_start_matches('*')
            .trim()
            .trim_matches('`')
            .trim();
        (!message.is_empty()).then(|| message.to_string())
    })
}

/// The words of a request that may name a file or a symbol: identifiers
/// of three characters or more with a capital, an underscore, a dash or a
/// dot inside (`UserService`, `user_service.ts`, `format-date`).
pub(crate) fn names_in(prompt: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for word in prompt.split(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')))
    {
        let word = word.trim_matches(|c: char| matches!(c, '.' | '-' | '/'));
        let shaped =
            word.chars().skip(1).any(|c| c.is_uppercase()) || word.contains(['_', '-', '.', '/']);
        if word.chars().count() >= 3 && shaped && !names.iter().any(|n| n == word) {
            names.push(word.to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_gets_its_own_section_and_the_template_around_it() {
        for format in crate::config::EDIT_FORMATS {
            let text = instructions(format);
            assert!(text.contains("careful senior engineer"), "{format}");
            assert!(
                !text.contains("{{format}}") && !text.contains(SECTION),
                "{format}: {text}"
            );
        }
        assert!(instructions("search-replace").contains("<<<<<<< SEARCH"));
        assert!(instructions("unified-diff").contains("+++ b/path/to/file.ts"));
        assert!(instructions("apply-patch").contains("*** Begin Patch"));
        assert!(instructions("line-ranges").contains("=== lines"));
        assert_eq!(instructions("nonsense"), instructions(DEFAULT_FORMAT));
    }

    #[test]
    fn the_closest_lines_are_found_despite_whitespace_and_numbered() {
        let file = "fn a() {}\n\nfn greet(name: &str) {\n    println!(\"hi {name}\");\n}\n";
        let expected = "fn greet(name:  &str) {\n  println!(\"hello {name}\");\n}\n";
        let found = closest(file, expected).unwrap();
        assert_eq!(
            found,
            "    3 fn greet(name: &str) {\n    4     println!(\"hi {name}\");\n    5 }\n"
        );
        assert!(closest(file, "nothing like it\n").is_none());
    }

    #[test]
    fn a_failure_detail_names_the_expected_and_the_closest_lines() {
        let edit = Edit::Replace {
            line: 3,
            path: "src/a.rs".into(),
            old: "fn greet() {\n".into(),
            new: "fn hello() {\n".into(),
        };
        let detail = failure_detail(
            "the edit at line 3 of the reply (src/a.rs) does not apply",
            Some(&edit),
            Some("// top\nfn greet(x: u8) {\n}\n"),
        );
        assert!(
            detail.contains("The lines the edit expected:\n```\nfn greet() {\n```"),
            "{detail}"
        );
        assert!(detail.contains("    2 fn greet(x: u8) {"), "{detail}");
        let missing = failure_detail("gone", Some(&edit), None);
        assert!(missing.contains("The file does not exist."), "{missing}");
        assert!(recovery(&detail).contains("could not be applied"));
    }

    #[test]
    fn commit_messages_and_names_are_read() {
        assert_eq!(
            commit_message("edits\n\nCommit: rename greet to hello\n").as_deref(),
            Some("rename greet to hello")
        );
        assert_eq!(
            commit_message("**Commit message:** `fix it`").as_deref(),
            Some("fix it")
        );
        assert_eq!(commit_message("no message"), None);
        assert_eq!(
            names_in("Add a UserService in user_service.ts, like format-date does. And it."),
            ["UserService", "user_service.ts", "format-date"]
        );
    }
}
