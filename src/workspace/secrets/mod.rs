//! The secret scan: files that carry credentials are never imported.
//!
//! A file is secret when its content matches a credential format of the
//! rule table ([`rules`]: provider keys and tokens, JWTs under key-like
//! names, private keys, webhooks, `_authToken` lines, connection URLs with
//! a password), also when the key is split across a string concatenation
//! (`"sk-" + "proj-…"`); when it is an SSH private key by name; when it is
//! an environment file holding a literal value ([`env`]); or, last, when a
//! random-looking value is assigned to a password or secret name. Templates of
//! environment files (`.env.example`, `.env.local.example`, …) are only
//! scanned for credential formats, so a template of placeholders is
//! imported.
//!
//! Each finding names its rule (a stable id such as `stripe-secret-key`),
//! never the matched value: the scan returns no text of the file.

mod env;
mod rules;

use regex::Regex;

use super::path::WorkspacePath;

pub(crate) use env::is_placeholder;

/// What the user should do with a file skipped as secret.
pub(crate) const SECRET_HINT: &str = "not imported: keep the value in an untracked .env file \
     or a secret store and read it from the environment; rotate it if it was ever shared";

/// SSH private keys, recognised by name.
const KEY_NAMES: &[&str] = &["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"];

pub(crate) struct SecretScanner {
    /// Where a rule may start ([`rules::candidates`]).
    candidates: Regex,
    /// [`rules::RULES`], each anchored, in the same order.
    rules: Vec<Regex>,
    url: Regex,
    /// `password = "…"`, `clientSecret: '…'` with a random-looking value.
    assignment: Regex,
}

/// How far past a candidate's start a rule may match.
const WINDOW: usize = 4096;

impl SecretScanner {
    pub(crate) fn new() -> SecretScanner {
        // Candidates are literals, so the search skips most of each file;
        // only at a candidate are the rules tried, each on its own (a
        // single automaton of all rules grows too large to stay fast).
        // The URL rule is apart: its literal (`://`) follows the scheme.
        let compiled = (
            Regex::new(&rules::candidates()),
            rules::RULES
                .iter()
                .map(|r| Regex::new(&rules::anchored(r)))
                .collect::<Result<Vec<_>, _>>(),
            Regex::new(r#"://([^\s:/@'"`<>]*):([^\s/@'"`]+)@([^\s/:'"`?#,;)]+)"#),
            Regex::new(rules::ASSIGNMENT),
        );
        match compiled {
            (Ok(candidates), Ok(rules), Ok(url), Ok(assignment)) => SecretScanner {
                candidates,
                rules,
                url,
                assignment,
            },
            // The patterns are constants covered by tests; this arm is unreachable.
            (Err(e), _, _, _) | (_, Err(e), _, _) | (_, _, Err(e), _) | (_, _, _, Err(e)) => {
                unreachable!("secret pattern does not compile: {e}")
            }
        }
    }

    /// The rule by which `text`, stored at `path`, carries a secret.
    pub(crate) fn scan(&self, path: &WorkspacePath, text: &str) -> Option<&'static str> {
        let name = path.file_name();
        if KEY_NAMES.contains(&name) {
            return Some("ssh-key-file");
        }
        if let Some(rule) = self.key_rule(text) {
            return Some(rule);
        }
        if let Some(joined) = join_concatenations(text)
            && let Some(rule) = self.key_rule(&joined)
        {
            return Some(rule);
        }
        if env::is_env_file(name) && env::has_real_value(text) {
            return Some("env-file");
        }
        // Last: a named format or an env file says more than this rule.
        if self
            .assignment
            .captures_iter(text)
            .any(|c| c.get(1).is_some_and(|v| rules::random_password(v.as_str())))
        {
            return Some("generic-password");
        }
        None
    }

    fn key_rule(&self, text: &str) -> Option<&'static str> {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        for candidate in self.candidates.find_iter(text) {
            let start = candidate.start();
            let mut end = (start + WINDOW).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let window = &text[start..end];
            for (rule, regex) in rules::RULES.iter().zip(&self.rules) {
                if !rule.starts.iter().any(|s| window.starts_with(s)) {
                    continue;
                }
                let Some(m) = regex.find(window) else {
                    continue;
                };
                let (m_start, m_end) = (start, start + m.end());
                if rule.start_boundary && text[..m_start].chars().next_back().is_some_and(word) {
                    continue;
                }
                if rule.end_boundary && text[m_end..].chars().next().is_some_and(word) {
                    continue;
                }
                if (rule.check)(text, m_start, m_end) {
                    return Some(rule.id);
                }
            }
        }
        if self
            .url
            .captures_iter(text)
            .any(|c| url_has_password(text, &c))
        {
            return Some("url-password");
        }
        None
    }
}

/// `scheme://user:password@host` with a real password: not a placeholder
/// (`${DB_PASSWORD}`, `password`, `<pass>`), not the user name again
/// (`postgres:postgres@`), and not for a database on this machine.
fn url_has_password(text: &str, caps: &regex::Captures<'_>) -> bool {
    let (Some(all), Some(user), Some(password), Some(host)) =
        (caps.get(0), caps.get(1), caps.get(2), caps.get(3))
    else {
        return false;
    };
    let scheme = text[..all.start()]
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
        .count();
    if scheme == 0 {
        return false;
    }
    let (user, password, host) = (user.as_str(), password.as_str(), host.as_str());
    let lower = password.to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    let local = host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with("127.")
        || host == "0.0.0.0"
        || host.starts_with("[::1]");
    let stand_in = is_placeholder(password)
        || password.starts_with('$')
        || password.contains("${")
        || password.contains("{{")
        || password.starts_with('%')
        || lower.contains("password")
        || lower.contains("passwd")
        || password == user;
    !(local || stand_in)
}

/// `text` with the joints of string concatenations removed (`"sk-" +
/// "proj-…"` becomes `"sk-proj-…"`), when it has any.
fn join_concatenations(text: &str) -> Option<String> {
    const QUOTES: &[char] = &['"', '\'', '`'];
    let mut joints = Vec::new();
    for (plus, _) in text.match_indices('+') {
        let before = text[..plus].trim_end();
        let after = text[plus + 1..].trim_start();
        if before.ends_with(QUOTES) && after.starts_with(QUOTES) {
            let start = before.len() - 1;
            let end = text.len() - after.len() + 1;
            joints.push((start, end));
        }
    }
    if joints.is_empty() {
        return None;
    }
    let mut joined = String::with_capacity(text.len());
    let mut from = 0;
    for (start, end) in joints {
        if start < from {
            continue;
        }
        joined.push_str(&text[from..start]);
        from = end;
    }
    joined.push_str(&text[from..]);
    Some(joined)
}
#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str, text: &str) -> Option<&'static str> {
        SecretScanner::new().scan(&WorkspacePath::parse(path).unwrap(), text)
    }

    fn secret(path: &str, text: &str) -> bool {
        rule(path, text).is_some()
    }

    /// `a` + `b`: keeps whole key shapes out of this file.
    fn cat(a: &str, b: &str) -> String {
        format!("{a}{b}")
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
        assert!(!secret("a.css", ".sk-folding-cube-rotate-angle-90deg { }"));
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

    #[test]
    fn a_placeholder_word_inside_a_real_value_does_not_make_it_a_placeholder() {
        let at = "@";
        for url in [
            format!("postgres://admin:S3cr3t{at}prod-db.internal:5432/todo_app"),
            format!("postgres://admin:S3cr3t{at}db.example.com:5432/app"),
            format!("postgres://admin:S3cr3t{at}10.0.0.5:5432/your_app"),
        ] {
            assert_eq!(
                rule(".env.local", &format!("DATABASE_URL={url}\n")),
                Some("url-password"),
                "{url}"
            );
            assert_eq!(
                rule("lib/db.ts", &format!("const url = \"{url}\";\n")),
                Some("url-password"),
                "{url}"
            );
        }
        // Env values that merely contain a marker word are values.
        assert_eq!(
            rule(".env.local", "APP_NAME=todo-example-app\n"),
            Some("env-file")
        );
        assert_eq!(
            rule(".env", "SESSION_SECRET=changeme4f9aB2c7D1e0\n"),
            Some("env-file")
        );
    }

    #[test]
    fn placeholders_are_recognised_by_their_whole_shape() {
        for value in [
            "",
            "changeme",
            "CHANGE_ME",
            "<your key>",
            "[token]",
            "{{API_KEY}}",
            "${OPENAI_API_KEY}",
            "xxx",
            "xxxxxxxxxxxxxxxx",
            "****",
            "...",
            "your-key-here",
            "YOUR_OPENAI_API_KEY",
            "paste_token_here",
            "sk-...",
            "sk-proj-...",
            "sk_test_xxxxxxxx",
            "whsec_...",
        ] {
            assert!(is_placeholder(value), "{value:?} is a placeholder");
        }
        for value in [
            "todo_app",
            "postgres://admin:S3cr3t@db/todo",
            "sk-proj-4f9aB2c7D1e0F3a9b8C7d6E5",
            "abcxxx",
            "production",
            "3000",
        ] {
            assert!(!is_placeholder(value), "{value:?} is a value");
        }
    }

    #[test]
    fn url_passwords_are_secret_unless_a_placeholder_or_a_local_default() {
        let at = "@";
        for text in [
            format!("redis://default:Xy7pQ2rLm9{at}cache.internal:6379"),
            format!("https://deploy:glT0k3nValue{at}git.example.org/repo.git"),
            format!("mongodb+srv://app:Zk3pQ9w{at}cluster0.abcd.mongodb.net/db"),
            format!("amqp://:Qw3rtY9z{at}mq.prod:5672"),
        ] {
            assert_eq!(rule("config.yml", &text), Some("url-password"), "{text}");
        }
        for text in [
            format!("postgres://user:${{DB_PASSWORD}}{at}db:5432/app"),
            format!("postgres://user:$DB_PASSWORD{at}db:5432/app"),
            format!("postgres://user:password{at}localhost:5432/db"),
            format!("postgres://USER:PASSWORD{at}HOST:5432/DB"),
            format!("postgres://user:pass{at}localhost/app"),
            format!("postgresql://postgres:postgres{at}127.0.0.1:54322/postgres"),
            format!("postgres://app:S3cr3t{at}localhost:5432/app"),
            format!("postgres://postgres:postgres{at}db:5432/app"),
            format!("postgres://user:<password>{at}host/db"),
            format!("postgres://user:{{password}}{at}host/db"),
            format!("https://example.com:8080/a{at}b"),
            format!("mailto:someone{at}example.com"),
        ] {
            assert_eq!(rule("README.md", &text), None, "{text}");
        }
    }

    #[test]
    fn template_env_files_are_documentation_and_envrc_and_dev_vars_are_env_files() {
        for name in [
            ".env.example",
            ".env.local.example",
            ".env.example.local",
            ".env.sample",
            ".env.template",
            ".env.production.sample",
            ".dev.vars.example",
        ] {
            assert!(!env::is_env_file(name), "{name} is a template");
            assert_eq!(rule(name, "API_TOKEN=4f9aB2c7D1e0F3a9b8\n"), None, "{name}");
        }
        for name in [
            ".env",
            ".env.local",
            ".env.production",
            ".envrc",
            ".dev.vars",
        ] {
            assert!(env::is_env_file(name), "{name} is an env file");
            assert_eq!(
                rule(name, "export API_TOKEN=4f9aB2c7D1e0F3a9b8\n"),
                Some("env-file"),
                "{name}"
            );
        }
        // direnv commands and references to other variables are no values.
        assert_eq!(
            rule(
                ".envrc",
                "use flake\ndotenv_if_exists\nexport PATH=$PWD/bin:$PATH\nexport K=$(op read op://x/y)\n"
            ),
            None
        );
        assert_eq!(
            rule(".env", "AUTH_SECRET= # openssl rand -base64 32\n"),
            None
        );
    }

    #[test]
    fn each_rule_names_itself() {
        let key = "4f9aB2c7D1e0F3a9b8C7d6E5f4A3b2C1d0E9f8A7b6C5d4E3";
        let hex = "4f9ab2c7d1e0f3a9b8c7d6e5f4a3b2c1";
        let jwt = cat(
            "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0",
            ".Xk3pQ9wLm2Zr7Yt4Vb8Nc1",
        );
        let cases = [
            ("stripe-secret-key", cat("sk_live_", key)),
            ("stripe-secret-key", cat("rk_test_", key)),
            ("gitlab-pat", cat("glpat-", &key[..20])),
            (
                "sendgrid-api-key",
                format!("SG.{}.{}", &key[..22], &cat(key, key)[..43]),
            ),
            ("twilio-api-key", cat("SK", hex)),
            ("mailgun-api-key", cat("key-", hex)),
            ("shopify-token", cat("shpat_", hex)),
            (
                "huggingface-token",
                cat("hf_", "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"),
            ),
            ("groq-api-key", cat("gsk_", &cat(key, key)[..52])),
            ("npm-token", cat("npm_", &key[..36])),
            ("google-api-key", cat("AIza", &key[..35])),
            ("slack-token", cat("xoxb-", "123456789012-Xk3pQ9wLm2")),
            (
                "slack-webhook",
                cat(
                    "https://hooks.slack.com/services/",
                    "T0AB12CD3/B0AB12CD3EF/Xk3pQ9wLm2Zr7Yt4Vb8Nc1Aa",
                ),
            ),
            (
                "discord-webhook",
                format!("https://discord.com/api/webhooks/123456789012345678/{key}{key}"),
            ),
            ("jwt", format!("const serviceRoleKey = \"{jwt}\";")),
            (
                "aws-secret-access-key",
                format!("aws_secret_access_key = {}", &cat(key, "+/AbCdEf")[..40]),
            ),
            (
                "npmrc-auth-token",
                format!("//registry.npmjs.org/:_authToken={hex}"),
            ),
            (
                "gcp-service-account",
                cat(
                    "{\"private_key\": \"-----BEGIN PRIVATE",
                    " KEY-----\\nMIIEvQIBADANBg\"}",
                ),
            ),
            (
                "openai-api-key",
                format!("const k = \"sk-\" + \"proj-{key}\";"),
            ),
            ("stripe-secret-key", format!("k = 'sk_' + 'live_{key}'")),
        ];
        for (expected, text) in cases {
            assert_eq!(rule("src/config.ts", &text), Some(expected), "{text}");
        }
    }

    #[test]
    fn random_values_assigned_to_password_or_secret_names_are_secret_and_words_are_not() {
        for text in [
            "const dbPassword = \"Xk3pQ9wLm2Zr7Yt4\";",
            "DB_PASSWORD: 'aB3dE5gH7jK9mN1p'",
            "client_secret = \"4f9ab2c7d1e0f3a9b8c7d6e5f4a3b2c1\"",
            "$config['smtp_password'] => 'Qw3rTy7uIo9pAs2d';",
        ] {
            assert_eq!(
                rule("config/app.ts", text),
                Some("generic-password"),
                "{text}"
            );
        }
        for text in [
            "const password = formData.get(\"password\");",
            "password: \"Password123\"",
            "password = \"correct-horse-battery-staple\"",
            "secretName = \"password-reset-token-2\"",
            "\"passwordResetTitle\": \"Reset your password\"",
            "password: \"${DB_PASSWORD}\"",
            "clientSecret: \"your-client-secret-here\"",
            "const passwordPattern = \"^(?=.*[A-Z])(?=.*\\d).{8,}$\"",
            "secretsManagerArn = \"arn:aws:secretsmanager:eu-west-1\"",
            "SECRET_KEY_BASE = \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
            "const PASSWORD_MIN_LENGTH = 12;",
        ] {
            assert_eq!(rule("src/form.ts", text), None, "{text}");
        }
    }

    #[test]
    fn documentation_shapes_of_keys_are_not_secret() {
        let jwt = cat(
            "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0",
            ".Xk3pQ9wLm2Zr7Yt4Vb8Nc1",
        );
        for text in [
            "Set STRIPE_SECRET_KEY=sk_live_... and sk_test_xxxxxxxxxxxxxxxx".to_string(),
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX".into(),
            "aws_secret_access_key = YOUR_SECRET_ACCESS_KEY".into(),
            "//registry.npmjs.org/:_authToken=${NPM_TOKEN}".into(),
            "format!(\"//registry.npmjs.org/:_authToken={}-{}\\n\", a, b)".into(),
            cat(
                "\"private_key\": \"-----BEGIN PRIVATE",
                " KEY-----\\nYOUR_PRIVATE_KEY\\n\"",
            ),
            format!("expect(decode(\"{jwt}\")).toBeTruthy();"),
            format!("console.log(\"{jwt}\");"),
            "MAILGUN_API_KEY=key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into(),
        ] {
            assert_eq!(rule("README.md", &text), None, "{text}");
        }
    }
}
