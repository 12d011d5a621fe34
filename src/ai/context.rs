//! What a request tells the model about the workspace: chosen files and
//! ranges, a compact map of paths and top-level symbols, within a token
//! budget the user sees before sending; and the guard that keeps secrets
//! out of it.
//!
//! Tokens are estimated at four bytes each, the rule of thumb the
//! providers give for English and code; the provider's own count arrives
//! with the reply's usage.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

/// Bytes per token, estimated.
const BYTES_PER_TOKEN: usize = 4;

pub(crate) fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(BYTES_PER_TOKEN)
}

/// Whether `path` may never be sent: any `.env*` file, wherever it sits,
/// templates included (unlike the import's secret scan, which takes a
/// `.env.example` of placeholders: a model has no need of either).
/// Files the importer skipped as secrets are not in the workspace at all;
/// the caller passes their paths too, for files written since.
pub(crate) fn is_never_sent(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == ".env" || name.starts_with(".env.") || name == ".envrc" || name == ".dev.vars"
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ContextError {
    #[error("{path} is never sent to a model: it holds or may hold secrets")]
    Secret { path: String },
    #[error("{path} needs about {needs} tokens; {left} of the budget's {budget} are left")]
    OverBudget {
        path: String,
        needs: usize,
        left: usize,
        budget: usize,
    },
    #[error("{path} has {lines} lines; lines {first}-{last} are not in it")]
    BadRange {
        path: String,
        first: usize,
        last: usize,
        lines: usize,
    },
}

/// The context of one request, built part by part.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    budget: usize,
    used: usize,
    parts: Vec<Part>,
    secret_paths: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    title: String,
    text: String,
}

impl Context {
    /// An empty context of `budget` tokens; `secret_paths` are the paths
    /// the importer flagged, refused like `.env` files.
    pub(crate) fn new(budget: usize, secret_paths: Vec<String>) -> Context {
        Context {
            budget,
            used: 0,
            parts: Vec::new(),
            secret_paths,
        }
    }

    /// Tokens used so far, estimated.
    pub(crate) fn tokens(&self) -> usize {
        self.used
    }

    fn guard(&self, path: &str) -> Result<(), ContextError> {
        if is_never_sent(path) || self.secret_paths.iter().any(|p| p == path) {
            return Err(ContextError::Secret {
                path: path.to_string(),
            });
        }
        Ok(())
    }

    fn push(&mut self, path: &str, title: String, text: String) -> Result<(), ContextError> {
        let needs = estimate_tokens(&title) + estimate_tokens(&text);
        let left = self.budget.saturating_sub(self.used);
        if needs > left {
            return Err(ContextError::OverBudget {
                path: path.to_string(),
                needs,
                left,
                budget: self.budget,
            });
        }
        self.used += needs;
        self.parts.push(Part { title, text });
        Ok(())
    }

    /// The whole of a file.
    pub(crate) fn add_file(&mut self, path: &str, text: &str) -> Result<(), ContextError> {
        self.guard(path)?;
        self.push(path, path.to_string(), text.to_string())
    }

    /// Lines `first` to `last` (1-based, inclusive) of a file, numbered so
    /// the model can answer with a line range.
    pub(crate) fn add_range(
        &mut self,
        path: &str,
        text: &str,
        first: usize,
        last: usize,
    ) -> Result<(), ContextError> {
        self.guard(path)?;
        let lines: Vec<&str> = text.lines().collect();
        if first == 0 || first > last || last > lines.len() {
            return Err(ContextError::BadRange {
                path: path.to_string(),
                first,
                last,
                lines: lines.len(),
            });
        }
        let mut body = String::new();
        for (n, line) in lines[first - 1..last].iter().enumerate() {
            let _ = writeln!(body, "{:>5} {line}", first + n);
        }
        self.push(path, format!("{path} lines {first}-{last}"), body)
    }

    /// The workspace map: every path with its top-level symbols, secret
    /// files left out.
    pub(crate) fn add_map<'a>(
        &mut self,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), ContextError> {
        let mut map = String::new();
        for (path, text) in files {
            if self.guard(path).is_err() {
                continue;
            }
            let symbols = symbols(path, text);
            if symbols.is_empty() {
                let _ = writeln!(map, "{path}");
            } else {
                let _ = writeln!(map, "{path}: {}", symbols.join(", "));
            }
        }
        self.push("the workspace map", "workspace map".into(), map)
    }

    /// The context as the prompt carries it.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            let _ = write!(out, "=== {}\n{}", part.title, part.text);
            if !part.text.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }
}

struct Language {
    extensions: &'static [&'static str],
    definition: Regex,
}

static LANGUAGES: LazyLock<Vec<Language>> = LazyLock::new(|| {
    let table: [(&[&str], &str); 4] = [
        (
            &["rs"],
            r"(?m)^(?:pub(?:\([^)]*\))?\s+)?(?:async\s+|const\s+|unsafe\s+)*(?:fn|struct|enum|trait|mod|type|static|const)\s+([A-Za-z_][A-Za-z0-9_]*)",
        ),
        (
            &["ts", "tsx", "js", "jsx", "mjs", "cjs"],
            r"(?m)^(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?|class|const|let|var|interface|type|enum)\s+([A-Za-z_$][A-Za-z0-9_$]*)",
        ),
        (
            &["py"],
            r"(?m)^(?:async\s+)?(?:def|class)\s+([A-Za-z_][A-Za-z0-9_]*)",
        ),
        (
            &["go"],
            r"(?m)^(?:func(?:\s+\([^)]*\))?|type)\s+([A-Za-z_][A-Za-z0-9_]*)",
        ),
    ];
    table
        .into_iter()
        .filter_map(|(extensions, pattern)| {
            Regex::new(pattern).ok().map(|definition| Language {
                extensions,
                definition,
            })
        })
        .collect()
});

/// The language of `path` by its extension, if its definitions are known.
fn language_of(path: &str) -> Option<&'static Language> {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    LANGUAGES.iter().find(|l| l.extensions.contains(&extension))
}

/// Whether [`symbols`] knows the definitions of `path`'s language (read
/// a file only then).
pub(crate) fn has_symbols(path: &str) -> bool {
    language_of(path).is_some()
}

/// The names a file defines at its top level, in file order.
pub(crate) fn symbols(path: &str, text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (name, _) in symbol_lines(path, text) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Every top-level definition of a file with its 1-based line, in file
/// order (a name defined twice comes twice).
pub(crate) fn symbol_lines(path: &str, text: &str) -> Vec<(String, usize)> {
    let Some(language) = language_of(path) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let (mut line, mut counted) = (1, 0);
    for captures in language.definition.captures_iter(text) {
        if let Some(name) = captures.get(1) {
            line += text[counted..name.start()].matches('\n').count();
            counted = name.start();
            found.push((name.as_str().to_string(), line));
        }
    }
    found
}

/// Whether two definitions have the same name once case, `_` and `-` are
/// set aside (`format_date`, `formatDate`, `FormatDate`); names under
/// three letters never match.
pub(crate) fn same_symbol(a: &str, b: &str) -> bool {
    let (a, b) = (key(a), key(b));
    a.len() >= 3 && a == b
}

/// A name reduced to what makes it the same thing: lower case, without
/// separators and without the file extension.
fn key(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    stem.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            previous = here;
        }
    }
    row[b.len()]
}

/// Which `existing` names look like `wanted`: the same after case,
/// separators and extension are set aside, or within a small edit
/// distance (`userService` and `user_service.ts`, `formatDate` and
/// `formatDates`). For the prompt before a new file, and for the review's
/// duplicate warning.
pub(crate) fn similar<'a>(
    wanted: &str,
    existing: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let want = key(wanted);
    if want.len() < 3 {
        return Vec::new();
    }
    let allowed = if want.len() < 8 { 1 } else { 2 };
    existing
        .into_iter()
        .filter(|name| {
            let have = key(name);
            have.len() >= 3 && edit_distance(&want, &have) <= allowed
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_and_flagged_secrets_never_enter_a_context() {
        let mut context = Context::new(10_000, vec!["config/keys.json".into()]);
        for path in [
            ".env",
            "web/.env.local",
            ".env.example",
            ".envrc",
            ".dev.vars",
            "config/keys.json",
        ] {
            assert_eq!(
                context.add_file(path, "X=1\n"),
                Err(ContextError::Secret { path: path.into() }),
                "{path}"
            );
        }
        context
            .add_map([
                (".env", "SECRET=1"),
                ("src/main.rs", "fn main() {}\n"),
                ("config/keys.json", "{}"),
            ])
            .unwrap();
        let sent = context.render();
        assert!(sent.contains("src/main.rs: main"), "{sent}");
        assert!(
            !sent.contains(".env") && !sent.contains("keys.json"),
            "{sent}"
        );
    }

    #[test]
    fn the_budget_is_kept_and_ranges_are_numbered() {
        let mut context = Context::new(20, Vec::new());
        let text = "a\nb\nc\nd\n";
        context.add_range("src/x.rs", text, 2, 3).unwrap();
        assert!(
            context.render().contains("    2 b\n    3 c\n"),
            "{}",
            context.render()
        );
        let big = "x".repeat(400);
        let err = context.add_file("big.txt", &big).unwrap_err();
        assert!(
            matches!(
                err,
                ContextError::OverBudget {
                    needs: 102,
                    left: 11,
                    ..
                }
            ),
            "{err}"
        );
        assert!(context.tokens() <= 20);
        assert!(matches!(
            context.add_range("src/x.rs", text, 3, 9),
            Err(ContextError::BadRange { lines: 4, .. })
        ));
    }

    #[test]
    fn top_level_symbols_per_language() {
        assert_eq!(
            symbols(
                "src/lib.rs",
                "pub fn a() {}\nstruct B;\npub(crate) async fn c() {}\n    fn inner() {}\nimpl B {}\n"
            ),
            ["a", "B", "c"]
        );
        assert_eq!(
            symbols(
                "app/page.tsx",
                "export default function Page() {}\nexport const revalidate = 60;\ninterface Props {}\n  const local = 1;\n"
            ),
            ["Page", "revalidate", "Props"]
        );
        assert_eq!(
            symbols(
                "tool.py",
                "class Tool:\n    def run(self): ...\nasync def main(): ...\n"
            ),
            ["Tool", "main"]
        );
        assert_eq!(
            symbols(
                "main.go",
                "func (s *S) Serve() {}\ntype S struct{}\nfunc main() {}\n"
            ),
            ["Serve", "S", "main"]
        );
        assert!(symbols("README.md", "# fn nothing\n").is_empty());
    }

    #[test]
    fn similar_names_are_found_across_case_separators_and_extensions() {
        let existing = [
            "src/user_service.ts",
            "src/formatDate.ts",
            "src/orders.ts",
            "db",
        ];
        assert_eq!(
            similar("UserService.tsx", existing),
            ["src/user_service.ts"]
        );
        assert_eq!(similar("formatDates", existing), ["src/formatDate.ts"]);
        assert!(similar("payments", existing).is_empty());
        assert!(similar("db", existing).is_empty(), "too short to compare");
    }
}
