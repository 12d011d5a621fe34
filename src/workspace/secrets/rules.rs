//! The rule table: each credential format the scan knows, with its stable
//! id, the literals it starts with and the check a match must pass. The
//! scan searches for those literals only (a multi-literal search that skips
//! the bytes between) and tries a rule's pattern where one of its starts is.

use super::env::is_placeholder;

/// One credential format.
pub(super) struct Rule {
    /// Stable id, stored with a skipped entry and shown to the user.
    pub id: &'static str,
    /// The literals a match starts with; the scan tries the rule only
    /// where one of them is.
    pub starts: &'static [&'static str],
    pub pattern: &'static str,
    /// Whether a match must not follow a word character (`-` included).
    pub start_boundary: bool,
    /// Whether a match must not be followed by a word character, for
    /// formats of a fixed length.
    pub end_boundary: bool,
    /// A further test of the match at `start..end` of `text`.
    pub check: fn(text: &str, start: usize, end: usize) -> bool,
}

const fn rule(id: &'static str, starts: &'static [&'static str], pattern: &'static str) -> Rule {
    Rule {
        id,
        starts,
        pattern,
        start_boundary: true,
        end_boundary: false,
        check: always,
    }
}

/// The rules, in order of preference where two match at the same place.
pub(super) const RULES: &[Rule] = &[
    Rule {
        end_boundary: true,
        ..rule(
            "anthropic-admin-key",
            &["sk-ant-admin01-"],
            r"sk-ant-admin01-[A-Za-z0-9_\-]{93}AA",
        )
    },
    Rule {
        check: random_key,
        ..rule(
            "anthropic-api-key",
            &["sk-ant-"],
            r"sk-ant-[A-Za-z0-9_\-]{20,}",
        )
    },
    Rule {
        check: openai_key,
        ..rule(
            "openai-api-key",
            &["sk-"],
            r"sk-(?:proj-|svcacct-|admin-|live-|test-)?[A-Za-z0-9_\-]{20,}",
        )
    },
    Rule {
        check: random_key,
        ..rule(
            "stripe-secret-key",
            &["sk_", "rk_"],
            r"[rs]k_(?:live|test|prod)_[A-Za-z0-9]{10,}",
        )
    },
    Rule {
        check: random_key,
        ..rule(
            "github-token",
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
            r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
        )
    },
    Rule {
        end_boundary: true,
        check: random_key,
        ..rule("gitlab-pat", &["glpat-"], r"glpat-[A-Za-z0-9_\-]{20,}")
    },
    Rule {
        end_boundary: true,
        ..rule(
            "aws-access-key-id",
            &["AKIA", "ASIA"],
            r"(?:AKIA|ASIA)[0-9A-Z]{16}",
        )
    },
    Rule {
        start_boundary: false,
        end_boundary: true,
        check: aws_secret,
        ..rule(
            "aws-secret-access-key",
            &[
                "aws_secret_access_key",
                "AWS_SECRET_ACCESS_KEY",
                "aws_secret_key",
                "AWS_SECRET_KEY",
                "secretAccessKey",
                "SecretAccessKey",
            ],
            r#"(?:aws_secret_access_key|AWS_SECRET_ACCESS_KEY|aws_secret_key|AWS_SECRET_KEY|secretAccessKey|SecretAccessKey)["']?\s*(?::|=>?)\s*["']?[A-Za-z0-9/+]{40}"#,
        )
    },
    Rule {
        start_boundary: false,
        check: pem_body_follows,
        ..rule(
            "gcp-service-account",
            &[r#""private_key""#],
            r#""private_key"\s*:\s*"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----"#,
        )
    },
    Rule {
        start_boundary: false,
        check: pem_body_follows,
        ..rule(
            "private-key",
            &["-----BEGIN"],
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
        )
    },
    Rule {
        check: random_key,
        ..rule("slack-token", &["xox"], r"xox[abprs]-[A-Za-z0-9\-]{10,}")
    },
    Rule {
        start_boundary: false,
        check: random_key,
        ..rule(
            "slack-webhook",
            &["hooks.slack.com/"],
            r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{40,}",
        )
    },
    Rule {
        start_boundary: false,
        ..rule(
            "discord-webhook",
            &["discord.com/", "discordapp.com/"],
            r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,}",
        )
    },
    Rule {
        end_boundary: true,
        ..rule("google-api-key", &["AIza"], r"AIza[0-9A-Za-z_\-]{35}")
    },
    Rule {
        start_boundary: false,
        check: npmrc_token,
        ..rule(
            "npmrc-auth-token",
            &["_authToken"],
            r#"_authToken\s*=\s*["']?[^\s"']+"#,
        )
    },
    Rule {
        end_boundary: true,
        ..rule("npm-token", &["npm_"], r"npm_[A-Za-z0-9]{36}")
    },
    Rule {
        end_boundary: true,
        ..rule(
            "sendgrid-api-key",
            &["SG."],
            r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}",
        )
    },
    Rule {
        end_boundary: true,
        check: random_key,
        ..rule("twilio-api-key", &["SK"], r"SK[0-9a-fA-F]{32}")
    },
    Rule {
        end_boundary: true,
        check: random_key,
        ..rule("mailgun-api-key", &["key-"], r"key-[0-9a-f]{32}")
    },
    Rule {
        end_boundary: true,
        ..rule(
            "shopify-token",
            &["shp"],
            r"shp(?:at|ca|pa|ss)_[0-9a-fA-F]{32}",
        )
    },
    Rule {
        end_boundary: true,
        check: random_key,
        ..rule(
            "huggingface-token",
            &["hf_", "api_org_"],
            r"(?:hf_|api_org_)[A-Za-z]{34}",
        )
    },
    Rule {
        end_boundary: true,
        ..rule("groq-api-key", &["gsk_"], r"gsk_[A-Za-z0-9]{52}")
    },
    Rule {
        check: jwt_under_key_name,
        ..rule(
            "jwt",
            &["eyJ"],
            r"eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}",
        )
    },
];

/// The random part of a key: what follows its last `_`/`-` separated
/// prefix word that is all lowercase letters (`sk-proj-`, `sk_live_`).
fn key_body(key: &str) -> &str {
    let mut body = key;
    while let Some(at) = body.find(['-', '_']) {
        let word = &body[..at];
        if word.is_empty()
            || word.len() > 8
            || !word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            break;
        }
        body = &body[at + 1..];
    }
    body
}

/// Not a documentation stand-in: `xxxx…`, `your-…`, `…example…`.
fn random_key(text: &str, start: usize, end: usize) -> bool {
    let key = &text[start..end];
    let lower = key.to_ascii_lowercase();
    let stand_in = [
        "xxxxx",
        "00000000",
        "your",
        "example",
        "placeholder",
        "dummy",
        "fake",
    ]
    .iter()
    .any(|w| lower.contains(w));
    !stand_in && !is_placeholder(key)
}

/// `sk-` also starts CSS classes and slugs: a key's random part mixes
/// upper and lower case and digits.
fn openai_key(text: &str, start: usize, end: usize) -> bool {
    let body = key_body(&text[start..end]);
    let has = |f: fn(&u8) -> bool| body.as_bytes().iter().any(f);
    has(u8::is_ascii_uppercase)
        && has(u8::is_ascii_lowercase)
        && has(u8::is_ascii_digit)
        && random_key(text, start, end)
}

/// The 40 characters after the name are a key, not AWS's documented
/// example or a word.
fn aws_secret(text: &str, _start: usize, end: usize) -> bool {
    let value = &text[end.saturating_sub(40)..end];
    let has = |f: fn(&u8) -> bool| value.as_bytes().iter().any(f);
    has(u8::is_ascii_uppercase)
        && has(u8::is_ascii_lowercase)
        && has(u8::is_ascii_digit)
        && random_key(text, end.saturating_sub(40), end)
}

/// A private key header followed by key material, not by `YOUR_KEY`,
/// `...` or the footer.
fn pem_body_follows(text: &str, _start: usize, end: usize) -> bool {
    let mut rest = &text[end..];
    loop {
        let trimmed = rest.trim_start();
        // In JSON the line breaks are `\n` escapes.
        match trimmed
            .strip_prefix("\\n")
            .or_else(|| trimmed.strip_prefix("\\r\\n"))
        {
            Some(after) => rest = after,
            None => {
                rest = trimmed;
                break;
            }
        }
    }
    let head: String = rest
        .chars()
        .take(12)
        .collect::<String>()
        .to_ascii_lowercase();
    let stand_in = [
        "your", "...", "<", "xxx", "insert", "paste", "-----end", "\"",
    ]
    .iter()
    .any(|w| head.starts_with(w));
    let body = rest
        .bytes()
        .take_while(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b':' | b'-' | b',')
        })
        .count();
    !stand_in && (body >= 4 || rest.is_empty())
}

/// `_authToken=` with a literal token, not `${NPM_TOKEN}`.
fn npmrc_token(text: &str, start: usize, end: usize) -> bool {
    let matched = &text[start..end];
    let value = matched
        .split_once('=')
        .map(|(_, v)| v.trim().trim_matches(['"', '\'']))
        .unwrap_or_default();
    // A token has no braces or escapes: `{}` and `\n` are a format string's.
    value.len() >= 8
        && !value.starts_with('$')
        && !value.contains(['{', '}', '\\'])
        && !is_placeholder(value)
}

/// A JWT is a credential when it is assigned to a key-like name
/// (`SUPABASE_SERVICE_ROLE_KEY=`, `accessToken:`, `apiSecret =`); a test
/// fixture passed to a function is not.
fn jwt_under_key_name(text: &str, start: usize, _end: usize) -> bool {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..start]
        .trim_end_matches(|c: char| c.is_whitespace() || "\"'`:=>".contains(c));
    let name_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .map_or(0, |i| i + 1);
    let name = before[name_start..]
        .to_ascii_lowercase()
        .replace(['-', '.'], "_");
    [
        "key",
        "token",
        "secret",
        "service_role",
        "servicerole",
        "password",
        "credential",
        "jwt",
    ]
    .iter()
    .any(|w| name.contains(w))
}

/// `password = "…"`, `DB_PASSWORD: '…'`, `clientSecret => "…"`: a quoted
/// value assigned to a password- or secret-like name; its value is group 1.
/// Only values that look random count ([`random_password`]).
pub(super) const ASSIGNMENT: &str = concat!(
    r"(?:password|Password|PASSWORD|passwd|PASSWD|secret|Secret|SECRET)",
    r#"[A-Za-z0-9_]*["']?\]?\s*(?::=|=>|:|=)\s*["']([^"'\s]{12,200})["']"#,
);

/// A value that looks generated: long enough, upper and lower case and
/// digits mixed (or 32+ hex digits), varied characters, and no template or
/// URL in it. Words, slugs and identifiers are not.
pub(super) fn random_password(value: &str) -> bool {
    let has = |f: fn(&u8) -> bool| value.as_bytes().iter().any(f);
    let mixed =
        has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase) && has(u8::is_ascii_digit);
    let hex = value.len() >= 32 && value.bytes().all(|b| b.is_ascii_hexdigit());
    // Templates, URLs and patterns (`^(?=.*[A-Z]).{8,}$`) are no secrets.
    let templated = ["${", "{{", "%s", "://", "process.env", "<", ">"]
        .iter()
        .any(|t| value.contains(t))
        || value.contains(['(', '[', '{', '\\', '^']);
    (mixed || hex) && !templated && entropy(value) >= 3.0 && random_key(value, 0, value.len())
}

/// Shannon entropy of `value` in bits per byte.
fn entropy(value: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in value.bytes() {
        counts[b as usize] += 1;
    }
    let len = value.len() as f64;
    counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f64::from(n) / len;
            -p * p.log2()
        })
        .sum()
}

/// Where some rule can start: the union of the rules' literal starts, so
/// finding candidates is a multi-literal search and the bytes between are
/// never matched against the rules.
pub(super) fn candidates() -> String {
    RULES
        .iter()
        .flat_map(|r| r.starts.iter())
        .map(|s| regex::escape(s))
        .collect::<Vec<_>>()
        .join("|")
}

/// Each rule's pattern, anchored: tried at a candidate's start only.
pub(super) fn anchored(rule: &Rule) -> String {
    format!("^(?:{})", rule.pattern)
}

fn always(_text: &str, _start: usize, _end: usize) -> bool {
    true
}
