//! The ignore rules of an import (`[import] ignore` in config.toml): lines
//! in gitignore syntax, matched against paths relative to the root of what
//! is imported.
//!
//! As in a `.gitignore`, a pattern with a slash at the start or in the
//! middle is anchored at the root (`/build/` is the root's `build` folder
//! only), a trailing slash matches folders only (`node_modules/`), a bare
//! name matches files and folders at any depth (`.DS_Store`), and `!`
//! takes a path back in. A folder that is ignored is not entered: nothing
//! under it can be taken back in.

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// Compiled ignore rules.
#[derive(Debug, Clone)]
pub(crate) struct IgnoreRules {
    matcher: Gitignore,
}

impl IgnoreRules {
    /// Compiles `patterns`; a line that is not a valid pattern is left out
    /// (the config loader refuses such lines, see [`check_pattern`]).
    pub(crate) fn new(patterns: &[String]) -> IgnoreRules {
        let mut builder = GitignoreBuilder::new("/");
        for pattern in patterns {
            if let Err(e) = builder.add_line(None, pattern) {
                tracing::warn!(%pattern, error = %e, "ignore pattern left out");
            }
        }
        let matcher = builder.build().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "ignore rules left out");
            Gitignore::empty()
        });
        IgnoreRules { matcher }
    }

    /// The rule that ignores `path` (relative, `/`-separated), if one does
    /// and no later `!` rule takes it back.
    pub(crate) fn rule_for(&self, path: &str, is_dir: bool) -> Option<String> {
        match self.matcher.matched(path, is_dir) {
            Match::Ignore(glob) => Some(glob.original().to_string()),
            Match::None | Match::Whitelist(_) => None,
        }
    }

    /// The outermost ignored folder above `path` (a file's path), or the
    /// file itself, with the rule: where a walk of names would have stopped.
    pub(crate) fn cut(&self, path: &str) -> Option<(String, String)> {
        for (i, _) in path.match_indices('/') {
            let folder = &path[..i];
            if let Some(rule) = self.rule_for(folder, true) {
                return Some((folder.to_string(), rule));
            }
        }
        self.rule_for(path, false)
            .map(|rule| (path.to_string(), rule))
    }
}

/// Why `pattern` is not a usable ignore line, if it is not.
pub(crate) fn check_pattern(pattern: &str) -> Result<(), String> {
    let mut builder = GitignoreBuilder::new("/");
    builder.add_line(None, pattern).map_err(|e| e.to_string())?;
    builder.build().map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> IgnoreRules {
        let patterns: Vec<String> = crate::config::DEFAULT_IGNORED
            .iter()
            .map(|s| s.to_string())
            .collect();
        IgnoreRules::new(&patterns)
    }

    #[test]
    fn build_folders_are_ignored_at_the_root_only_and_as_folders_only() {
        let rules = defaults();
        assert_eq!(rules.rule_for("build", true).as_deref(), Some("/build/"));
        assert_eq!(rules.rule_for("app/build", true), None);
        assert_eq!(rules.rule_for("scripts/build", false), None);
        assert_eq!(rules.rule_for("build", false), None, "a file named build");
        assert_eq!(rules.cut("app/build/page.tsx"), None);
        assert_eq!(
            rules.cut("web/node_modules/x/i.js"),
            Some(("web/node_modules".into(), "node_modules/".into()))
        );
        assert_eq!(
            rules.cut("a/.DS_Store"),
            Some(("a/.DS_Store".into(), ".DS_Store".into()))
        );
        assert_eq!(
            rules.cut("dist/app.js"),
            Some(("dist".into(), "/dist/".into()))
        );
    }

    #[test]
    fn patterns_are_gitignore_lines() {
        let rules = IgnoreRules::new(&["*.log".into(), "!keep.log".into(), "/tmp/".into()]);
        assert_eq!(rules.rule_for("a/b.log", false).as_deref(), Some("*.log"));
        assert_eq!(rules.rule_for("keep.log", false), None);
        assert_eq!(rules.rule_for("tmp", true).as_deref(), Some("/tmp/"));
        assert!(check_pattern("[z-a]").is_err());
        assert!(check_pattern("/build/").is_ok());
    }
}
