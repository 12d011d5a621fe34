use std::collections::HashMap;

use super::*;
use crate::patch::LineKind;

fn files(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect()
}

/// The reply resolved against `tree`, as the new texts (None: deleted).
fn outcome(
    reply: &str,
    tree: &HashMap<String, String>,
) -> Result<Vec<(String, Option<String>)>, ReplyError> {
    let edits = parse_reply(reply)?;
    let patch = resolve(&edits, |p| tree.get(p).cloned())?;
    Ok(patch
        .files
        .iter()
        .map(|f| {
            let old = f
                .old_path
                .as_ref()
                .and_then(|p| tree.get(p))
                .cloned()
                .unwrap_or_default();
            let new = (f.status != FileStatus::Deleted).then(|| f.apply_to(&old).unwrap());
            (f.path().to_string(), new)
        })
        .collect())
}

#[test]
fn search_replace_blocks_with_paths_fences_and_shared_paths() {
    let tree = files(&[(
        "src/app.ts",
        "const a = 1;\nconst b = 2;\nexport { a, b };\n",
    )]);
    let reply = "Here is the change:\n\nsrc/app.ts\n```ts\n<<<<<<< SEARCH\nconst a = 1;\n=======\nconst a = 10;\n>>>>>>> REPLACE\n```\n\n```ts\n<<<<<<< SEARCH\nexport { a, b };\n=======\nexport { a, b, c };\n>>>>>>> REPLACE\n```\n\n**src/new.ts**\n```ts\n<<<<<<< SEARCH\n=======\nexport const c = 3;\n>>>>>>> REPLACE\n```\n";
    let out = outcome(reply, &tree).unwrap();
    assert_eq!(
        out,
        vec![
            (
                "src/app.ts".into(),
                Some("const a = 10;\nconst b = 2;\nexport { a, b, c };\n".into())
            ),
            ("src/new.ts".into(), Some("export const c = 3;\n".into())),
        ]
    );
}

#[test]
fn an_apply_patch_envelope_adds_updates_moves_and_deletes() {
    let tree = files(&[
        ("a.py", "def f():\n    return 1\n\ndef g():\n    return 1\n"),
        ("old.txt", "bye\n"),
        ("m.txt", "x\n"),
    ]);
    let reply = "*** Begin Patch\n*** Update File: a.py\n@@ def g():\n-    return 1\n+    return 2\n*** Add File: b.py\n+print('b')\n*** Delete File: old.txt\n*** Update File: m.txt\n*** Move to: n.txt\n-x\n+y\n*** End Patch\n";
    let out = outcome(reply, &tree).unwrap();
    assert_eq!(
        out,
        vec![
            (
                "a.py".into(),
                Some("def f():\n    return 1\n\ndef g():\n    return 2\n".into())
            ),
            ("b.py".into(), Some("print('b')\n".into())),
            ("m.txt".into(), None),
            ("n.txt".into(), Some("y\n".into())),
            ("old.txt".into(), None),
        ]
    );
}

#[test]
fn a_unified_diff_in_prose_and_a_line_range_are_read_too() {
    let tree = files(&[
        ("README.md", "# shop\n\nold line\n"),
        ("big.rs", "1\n2\n3\n4\n5\n"),
    ]);
    let reply = "```diff\n--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,3 @@\n # shop\n \n-old line\n+new line\n```\n\n=== lines big.rs 2-3\ntwo\nthree\nthree and a half\n=== end\n";
    let out = outcome(reply, &tree).unwrap();
    assert_eq!(
        out,
        vec![
            ("README.md".into(), Some("# shop\n\nnew line\n".into())),
            (
                "big.rs".into(),
                Some("1\ntwo\nthree\nthree and a half\n4\n5\n".into())
            ),
        ]
    );
}

#[test]
fn an_edit_that_does_not_apply_is_named_by_its_reply_line() {
    let tree = files(&[("a.txt", "one\ntwo\none\n")]);
    let missing = "a.txt\n<<<<<<< SEARCH\nthree\n=======\n3\n>>>>>>> REPLACE\n";
    let err = outcome(missing, &tree).unwrap_err();
    assert_eq!(
        err,
        ReplyError::DoesNotApply {
            line: 2,
            path: "a.txt".into(),
            why:
                "its old text matches no lines of the file; quote the lines as they are in the file"
                    .into()
        }
    );
    let ambiguous = "intro\n\na.txt\n<<<<<<< SEARCH\none\n=======\n1\n>>>>>>> REPLACE\n";
    let err = outcome(ambiguous, &tree).unwrap_err();
    assert!(
        err.to_string().contains("line 4") && err.to_string().contains("2 places"),
        "{err}"
    );
    let past_end = "=== lines a.txt 2-9\nx\n=== end\n";
    assert!(
        outcome(past_end, &tree)
            .unwrap_err()
            .to_string()
            .contains("past the end")
    );
    let no_file = "*** Begin Patch\n*** Update File: nope.txt\n-a\n+b\n*** End Patch\n";
    assert!(
        outcome(no_file, &tree)
            .unwrap_err()
            .to_string()
            .contains("does not exist")
    );
}

#[test]
fn malformed_replies_say_where_and_prose_alone_has_no_edits() {
    assert_eq!(
        parse_reply("I would rename the function.").unwrap_err(),
        ReplyError::NoEdits
    );
    let unclosed = "a.txt\n<<<<<<< SEARCH\nx\n=======\ny\n";
    let err = parse_reply(unclosed).unwrap_err();
    assert!(
        matches!(err, ReplyError::Malformed { line: 2, .. }),
        "{err}"
    );
    let no_path = "\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n";
    assert!(
        parse_reply(no_path)
            .unwrap_err()
            .to_string()
            .contains("no file path")
    );
    let no_end = "*** Begin Patch\n*** Add File: x\n+a\n";
    assert!(
        parse_reply(no_end)
            .unwrap_err()
            .to_string()
            .contains("End Patch")
    );
    let bad_range = "=== lines a.txt 9-2\nx\n=== end\n";
    assert!(
        parse_reply(bad_range)
            .unwrap_err()
            .to_string()
            .contains("line range")
    );
}

#[test]
fn the_patch_holds_hunks_for_review_and_nothing_for_untouched_files() {
    let tree = files(&[("a.txt", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n")]);
    let reply = "a.txt\n<<<<<<< SEARCH\n2\n=======\ntwo\n>>>>>>> REPLACE\n\na.txt\n<<<<<<< SEARCH\n11\n=======\neleven\n>>>>>>> REPLACE\n";
    let edits = parse_reply(reply).unwrap();
    let patch = resolve(&edits, |p| tree.get(p).cloned()).unwrap();
    assert_eq!(patch.files.len(), 1);
    assert_eq!(patch.files[0].hunks.len(), 2);
    let added: Vec<&str> = patch.files[0]
        .hunks
        .iter()
        .flat_map(|h| &h.lines)
        .filter(|l| l.kind == LineKind::Added)
        .map(|l| l.text())
        .collect();
    assert_eq!(added, ["two", "eleven"]);
    let noop = "a.txt\n<<<<<<< SEARCH\n5\n=======\n5\n>>>>>>> REPLACE\n";
    let patch = resolve(&parse_reply(noop).unwrap(), |p| tree.get(p).cloned()).unwrap();
    assert!(patch.files.is_empty());
}

#[test]
fn a_diff_alone_reads_the_same_as_in_prose_and_with_crlf_lines() {
    let tree = files(&[("a.txt", "one\ntwo\n"), ("b.txt", "x\n")]);
    let diff = "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n\
                --- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-x\n+y\n";
    let want = vec![
        ("a.txt".to_string(), Some("one\nTWO\n".to_string())),
        ("b.txt".to_string(), Some("y\n".to_string())),
    ];
    assert_eq!(outcome(diff, &tree).unwrap(), want);
    // Without its last newline, with `\r\n` line ends, after prose.
    assert_eq!(outcome(diff.trim_end(), &tree).unwrap(), want);
    assert_eq!(outcome(&diff.replace('\n', "\r\n"), &tree).unwrap(), want);
    let prose = format!("Here is the fix:\n\n{diff}\nThat is all.\n");
    assert_eq!(outcome(&prose, &tree).unwrap(), want);
    // A diff beside a search/replace block still reads whole.
    let mixed = format!("{diff}c.txt\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n");
    let tree = files(&[
        ("a.txt", "one\ntwo\n"),
        ("b.txt", "x\n"),
        ("c.txt", "old\n"),
    ]);
    let mut both = want.clone();
    both.push(("c.txt".to_string(), Some("new\n".to_string())));
    assert_eq!(outcome(&mixed, &tree).unwrap(), both);
}
