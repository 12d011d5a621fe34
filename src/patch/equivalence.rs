//! Diffs made by `git diff` between real trees, applied by kollega, give
//! exactly what `git apply` gives on the same trees.

use std::collections::BTreeMap;

use crate::git::fixture::TestRepo;

/// A small deterministic generator, so a failure names its seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn line(rng: &mut Lcg) -> String {
    const WORDS: [&str; 8] = ["let", "x", "=", "fn", "{", "}", "\tif", "return 1;"];
    let n = rng.below(4);
    let mut text: String = (0..n)
        .map(|_| WORDS[rng.below(WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ");
    if rng.below(12) == 0 {
        text.push('\r');
    }
    text
}

fn text(rng: &mut Lcg) -> String {
    let n = rng.below(40);
    let mut out: String = (0..n).map(|_| format!("{}\n", line(rng))).collect();
    if rng.below(6) == 0 {
        out.push_str(&line(rng));
        if out.ends_with('\r') || out.is_empty() {
            out.push('x');
        }
    }
    out
}

fn edited(rng: &mut Lcg, old: &str) -> String {
    let mut lines: Vec<String> = old.split_inclusive('\n').map(str::to_string).collect();
    for _ in 0..rng.below(5) + 1 {
        let at = rng.below(lines.len() + 1);
        match rng.below(3) {
            0 => lines.insert(at, format!("{}\n", line(rng))),
            1 if at < lines.len() => {
                lines.remove(at);
            }
            _ if at < lines.len() => lines[at] = format!("{} changed\n", line(rng)),
            _ => lines.push(format!("{}\n", line(rng))),
        }
    }
    // Sometimes the edit also drops the final newline.
    if rng.below(8) == 0
        && let Some(last) = lines.last_mut()
        && last.ends_with('\n')
        && last.len() > 1
        && !last.ends_with("\r\n")
    {
        last.pop();
    }
    lines.concat()
}

fn tree(repo: &TestRepo) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(repo.path()).into_iter().flatten() {
        let path = entry.path();
        let relative = path
            .strip_prefix(repo.path())
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        if entry.file_type().is_file() && !relative.starts_with(".git/") && relative != ".git" {
            files.insert(relative, std::fs::read_to_string(path).unwrap());
        }
    }
    files
}

#[test]
fn git_diffs_applied_by_kollega_match_git_apply() {
    for seed in 1..=6u64 {
        let mut rng = Lcg(seed);
        let repo = TestRepo::new();
        let mut before = BTreeMap::new();
        for i in 0..25 {
            let path = format!("src/f{i}.txt");
            let content = text(&mut rng);
            repo.write(&path, &content);
            before.insert(path, content);
        }
        repo.commit_all("before");
        for (path, old) in &before {
            match rng.below(6) {
                0 => std::fs::remove_file(repo.path().join(path)).unwrap(),
                1 | 2 => repo.write(path, &edited(&mut rng, old)),
                _ => {}
            }
        }
        for i in 0..rng.below(3) {
            repo.write(&format!("new/n{i}.txt"), &text(&mut rng));
        }
        repo.git(&["add", "-A"]);
        let diff = repo.git(&["diff", "--cached", "--no-renames", "--no-color"]);
        let expected = tree(&repo);

        // kollega: parse git's diff and apply each file's patch in memory.
        let patch = crate::patch::parse(diff.as_bytes()).unwrap();
        assert!(
            patch.files.len() >= 5,
            "seed {seed}: too few changes to compare"
        );
        let mut ours = before.clone();
        for file in &patch.files {
            let old = file
                .old_path
                .as_ref()
                .and_then(|p| before.get(p))
                .cloned()
                .unwrap_or_default();
            let new = file
                .apply_to(&old)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            match &file.new_path {
                Some(path) => {
                    ours.insert(path.clone(), new);
                }
                None => {
                    ours.remove(file.path());
                }
            }
        }
        assert_eq!(
            ours, expected,
            "seed {seed}: kollega's result differs from the edited tree"
        );

        // git: the same diff applied by `git apply` to the tree before.
        repo.git(&["reset", "-q", "--hard", "HEAD"]);
        repo.git(&["clean", "-q", "-fd"]);
        std::fs::write(repo.path().join(".git/change.diff"), &diff).unwrap();
        repo.git(&["apply", ".git/change.diff"]);
        assert_eq!(
            tree(&repo),
            ours,
            "seed {seed}: git apply's result differs from kollega's"
        );
    }
}
