//! Environment files and placeholder values.
//!
//! An environment file (`.env`, `.env.local`, `.envrc`, Cloudflare's
//! `.dev.vars`, …) is secret when it holds a value that is neither a
//! placeholder nor a reference to another variable. Templates
//! (`.env.example`, `.env.local.example`, `.env.sample.local`, …) are
//! documentation: only the key rules apply to them.
//!
//! A placeholder is recognised by the shape of the WHOLE value, never by a
//! word inside it: `postgres://…@db/todo_app` is a value, `changeme` is not.

/// Name parts that mark a template rather than real values.
const TEMPLATE_WORDS: &[&str] = &[
    "example", "sample", "template", "dist", "default", "defaults", "schema", "tpl", "tmpl", "stub",
];

/// Whole values that stand for a value (compared without case, `-`, `_`
/// and spaces).
const PLACEHOLDER_WORDS: &[&str] = &[
    "changeme",
    "changethis",
    "changeit",
    "replaceme",
    "placeholder",
    "todo",
    "tbd",
    "fixme",
    "dummy",
    "example",
    "sample",
    "none",
    "null",
    "nil",
    "redacted",
    "secret",
    "password",
    "pass",
    "passwd",
    "pwd",
    "token",
    "apikey",
    "key",
    "value",
];

/// `.env`, `.env.local`, `.env.production`, `.envrc`, `.dev.vars`, … but
/// not `.env.example`, `.env.local.example` or `.env.example.local`.
pub(super) fn is_env_file(name: &str) -> bool {
    if name == ".envrc" {
        return true;
    }
    let rest = if name == ".env" || name == ".dev.vars" {
        ""
    } else if let Some(rest) = name.strip_prefix(".env.") {
        rest
    } else if let Some(rest) = name.strip_prefix(".dev.vars.") {
        rest
    } else {
        return false;
    };
    !rest
        .split(['.', '-', '_'])
        .any(|part| TEMPLATE_WORDS.contains(&part.to_ascii_lowercase().as_str()))
}

/// Whether an environment file sets some variable to a literal value.
pub(super) fn has_real_value(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        if line.starts_with('#') {
            return false;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((name, value)) = line.split_once('=') else {
            return false;
        };
        let name = name.trim_end();
        let is_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        is_name && !is_stand_in(&unquote(value))
    })
}

/// The value of `NAME=value`: inside its quotes, or up to a ` #` comment.
fn unquote(value: &str) -> String {
    let value = value.trim();
    for quote in ['"', '\'', '`'] {
        if let Some(inner) = value.strip_prefix(quote) {
            return match inner.find(quote) {
                Some(end) => inner[..end].to_string(),
                None => inner.to_string(),
            };
        }
    }
    if value.starts_with('#') {
        return String::new();
    }
    let value = match value.find(" #").or_else(|| value.find("\t#")) {
        Some(at) => &value[..at],
        None => value,
    };
    value.trim().to_string()
}

/// A placeholder, or a value made of other variables (`$PWD/bin`,
/// `$(op read …)`, `postgres://app:${PASSWORD}@db/app`).
fn is_stand_in(value: &str) -> bool {
    value.starts_with('$') || value.contains("${") || is_placeholder(value)
}

/// Whether `value`, as a whole, is a stand-in for a value: empty,
/// `<your key>`, `[token]`, `{{KEY}}`, `%KEY%`, `${VAR}`, `changeme`,
/// `xxxx`, `your-key-here`, `YOUR_API_KEY`, `sk-...`, `sk_test_xxxx`.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    if value.is_empty() {
        return true;
    }
    let wrapped = |open: &str, close: &str| value.starts_with(open) && value.ends_with(close);
    if wrapped("<", ">")
        || wrapped("[", "]")
        || wrapped("{", "}")
        || wrapped("%", "%")
        || value.starts_with("${")
    {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    let bare: String = lower
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '.'))
        .collect();
    if PLACEHOLDER_WORDS.contains(&bare.as_str()) {
        return true;
    }
    let words: Vec<&str> = lower
        .split(['-', '_', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    let first = words.first().copied().unwrap_or_default();
    let last = words.last().copied().unwrap_or_default();
    if words.len() > 1
        && (matches!(
            first,
            "your" | "replace" | "insert" | "paste" | "enter" | "put" | "add"
        ) || last == "here")
    {
        return true;
    }
    // A prefix and filler: `...`, `xxxx`, `****`, `sk-...`, `sk_test_xxxx`.
    let filler = |c: char| matches!(c, '.' | 'x' | 'X' | '*' | '…' | '#');
    let stem = value.trim_end_matches(filler);
    let filler_len = value.len() - stem.len();
    filler_len >= 3 && (stem.is_empty() || stem.ends_with(['-', '_']))
}
