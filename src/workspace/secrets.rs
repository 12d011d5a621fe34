//! The secret scan: files that carry credentials are never imported.
//!
//! A file is secret when its content matches a known key format (OpenAI,
//! Anthropic, GitHub, AWS, Slack, Google, npm, PEM private keys), when it is
//! an SSH private key by name, or when it is an environment file (`.env`,
//! `.env.local`, …) holding a value that is not a placeholder. Example
//! environment files (`.env.example`, `.env.sample`, …) are only scanned for
//! key formats, so a template of placeholders is imported.

use regex::Regex;

use super::path::WorkspacePath;

pub(crate) struct SecretScanner {
    keys: Regex,
}

/// Environment-file suffixes that mark a template rather than real values.
const TEMPLATE_SUFFIXES: &[&str] = &[
    "example", "sample", "template", "dist", "defaults", "schema",
];

const KEY_NAMES: &[&str] = &["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"];

impl SecretScanner {
    pub(crate) fn new() -> SecretScanner {
        // Alternatives start with a literal so the regex engine's prefilter
        // skips most of each file; word boundaries are checked afterwards.
        let keys = Regex::new(concat!(
            r"sk-ant-[A-Za-z0-9_\-]{20,}",
            r"|sk-(?:proj-|svcacct-|admin-|live-|test-)?[A-Za-z0-9_\-]{20,}",
            r"|gh[pousr]_[A-Za-z0-9]{36,}",
            r"|github_pat_[A-Za-z0-9_]{22,}",
            r"|AKIA[0-9A-Z]{16}",
            r"|-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----",
            r"|xox[abprs]-[A-Za-z0-9\-]{10,}",
            r"|AIza[0-9A-Za-z_\-]{35}",
            r"|npm_[A-Za-z0-9]{36}",
        ));
        match keys {
            Ok(keys) => SecretScanner { keys },
            // The pattern is a constant covered by tests; this arm is unreachable.
            Err(e) => unreachable!("secret pattern does not compile: {e}"),
        }
    }

    /// Whether `text`, stored at `path`, carries a secret.
    pub(crate) fn is_secret(&self, path: &WorkspacePath, text: &str) -> bool {
        let name = path.file_name();
        if KEY_NAMES.contains(&name) {
            return true;
        }
        if is_env_file(name) && env_has_real_value(text) {
            return true;
        }
        self.keys.find_iter(text).any(|m| {
            let before = text[..m.start()].chars().next_back();
            let at_boundary =
                !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            let matched = m.as_str();
            // `sk-` also starts CSS classes and slugs; a real key has digits.
            let plausible =
                !matched.starts_with("sk-") || matched.bytes().any(|b| b.is_ascii_digit());
            at_boundary && plausible
        })
    }
}

/// `.env`, `.env.local`, `.env.production`, … but not `.env.example`.
fn is_env_file(name: &str) -> bool {
    if name == ".env" {
        return true;
    }
    match name.strip_prefix(".env.") {
        Some(suffix) => !TEMPLATE_SUFFIXES.contains(&suffix.to_ascii_lowercase().as_str()),
        None => false,
    }
}

fn env_has_real_value(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        if line.starts_with('#') {
            return false;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        match line.split_once('=') {
            Some((_, value)) => !is_placeholder(value),
            None => false,
        }
    })
}

fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value)
        .trim();
    if value.is_empty() || value.starts_with('<') || value.starts_with("${") {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    [
        "your",
        "xxx",
        "changeme",
        "change-me",
        "change_me",
        "placeholder",
        "example",
        "replace",
        "todo",
        "dummy",
        "...",
        "insert",
        "secret-here",
        "key-here",
    ]
    .iter()
    .any(|marker| lower.contains(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(path: &str, text: &str) -> bool {
        SecretScanner::new().is_secret(&WorkspacePath::parse(path).unwrap(), text)
    }

    #[test]
    fn key_formats_are_found() {
        assert!(secret(
            "lib/ai.ts",
            "const k = \"sk-proj-4f9aB2c7D1e0F3a9b8C7d6E5\";"
        ));
        assert!(secret(
            "lib/ai.ts",
            "key: sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv123"
        ));
        assert!(secret(
            "a.yml",
            "token: ghp_0123456789abcdefghijABCDEFGHIJ0123456789"
        ));
        assert!(secret(
            "aws.txt",
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"
        ));
        assert!(secret("k.pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"));
        assert!(secret("k.pem", "-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        assert!(secret("deploy/id_ed25519", "anything"));
    }

    #[test]
    fn ordinary_code_is_not_secret() {
        assert!(!secret(
            "app/page.tsx",
            "<div className=\"task-list-item-container-wrapper\" />"
        ));
        assert!(!secret(
            "app/page.tsx",
            "const desk-organizer-component-list-2024 = 1"
        ));
        assert!(!secret("a.css", ".sk-this-is-a-long-css-class-name { }"));
        assert!(!secret("cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n"));
        assert!(!secret("deploy/id_ed25519.pub", "ssh-ed25519 AAAA"));
    }

    #[test]
    fn env_files_with_real_values_are_secret_and_templates_are_not() {
        assert!(secret(
            ".env",
            "DATABASE_URL=postgres://app:hunter2@db:5432/app\n"
        ));
        assert!(secret(
            "web/.env.local",
            "# local\nexport STRIPE_KEY='rk_live_51H'\n"
        ));
        assert!(!secret(
            ".env.local",
            "# nothing set yet\nOPENAI_API_KEY=\n"
        ));
        assert!(!secret(
            ".env.example",
            "OPENAI_API_KEY=your-openai-key-here\nURL=http://localhost:3000\n"
        ));
        assert!(!secret(".env", "OPENAI_API_KEY=<your key>\nTOKEN=\"\"\n"));
        // A template that holds a real key is still caught by the key scan.
        assert!(secret(
            ".env.example",
            "OPENAI_API_KEY=sk-4f9aB2c7D1e0F3a9b8C7d6E5f4\n"
        ));
    }
}
