//! What an HTTP failure of a provider means for the call: wait and retry,
//! back off and retry, or stop and tell the user what to do.
//!
//! - 429 honours `retry-after` (seconds or an HTTP date; OpenAI also sends
//!   `retry-after-ms`), except OpenAI's `insufficient_quota`, which no wait
//!   fixes.
//! - 5xx, Anthropic's 529 (overloaded) and 408 back off within the job's
//!   attempts.
//! - Every other status (bad key, unknown model, a request too large) is
//!   permanent: retrying sends the same request to the same answer.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::wire::Format;

/// The longest `retry-after` honoured; a longer one is a reason to stop
/// and say so rather than to hold a job for hours.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Retry after the provider's own delay.
    After(Duration),
    /// Retry on the job's backoff.
    Backoff,
    Never,
}

/// A provider's failed HTTP answer, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    /// The provider's error code or type, when it sends one.
    pub(crate) code: Option<String>,
    pub(crate) message: String,
    pub(crate) retry: Retry,
    pub(crate) hint: String,
}

/// The headers that bear on a retry, as received.
#[derive(Debug, Clone, Default)]
pub(crate) struct RetryHeaders<'a> {
    pub(crate) retry_after: Option<&'a str>,
    pub(crate) retry_after_ms: Option<&'a str>,
}

/// Reads a failed answer: `status`, its retry headers and body, given the
/// wire format of the provider that sent it and the time it arrived.
pub(crate) fn classify(
    format: Format,
    status: u16,
    headers: &RetryHeaders<'_>,
    body: &str,
    now: SystemTime,
) -> Failure {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = json.get("error").unwrap_or(&Value::Null);
    // Ollama and llama.cpp send `{"error": "text"}`.
    let code = error
        .get("code")
        .and_then(Value::as_str)
        .or_else(|| error.get("type").and_then(Value::as_str))
        .map(str::to_string);
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| error.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| first_line(body));
    let quota = code.as_deref() == Some("insufficient_quota")
        || error.get("type").and_then(Value::as_str) == Some("insufficient_quota");
    let provider = match format {
        Format::Responses => "OpenAI",
        Format::Messages => "Anthropic",
        Format::ChatCompletions => "the compatible server",
    };
    let (retry, hint) = match status {
        429 if quota => (
            Retry::Never,
            "the account has no credit left: add credit in the provider's billing settings, or pick another provider with --provider".to_string(),
        ),
        429 => match retry_after(headers, now) {
            Some(wait) if wait > MAX_RETRY_AFTER => (
                Retry::Never,
                format!(
                    "{provider} asks to wait {} s: try again later, or pick another provider with --provider",
                    wait.as_secs()
                ),
            ),
            Some(wait) => (Retry::After(wait), format!("rate limited; retrying after {} ms", wait.as_millis())),
            None => (Retry::Backoff, "rate limited; retrying with backoff".to_string()),
        },
        401 => (Retry::Never, key_hint(format)),
        403 => (
            Retry::Never,
            format!("the key may not use this model or endpoint: check the key's project and permissions at {provider}"),
        ),
        404 => (
            Retry::Never,
            "the model or the endpoint does not exist: check --model and the base URL".to_string(),
        ),
        413 => (
            Retry::Never,
            "the request is too large: send fewer or smaller files as context".to_string(),
        ),
        408 | 500..=599 => (
            Retry::Backoff,
            format!("{provider} is failing or overloaded; retrying with backoff"),
        ),
        _ => (
            Retry::Never,
            "the provider refused the request as sent: the message says why".to_string(),
        ),
    };
    Failure {
        status,
        code,
        message,
        retry,
        hint,
    }
}

fn key_hint(format: Format) -> String {
    match format {
        Format::Responses => {
            "the API key was refused: check OPENAI_API_KEY (or the key in config.toml)".into()
        }
        Format::Messages => {
            "the API key was refused: check ANTHROPIC_API_KEY (or the key in config.toml)".into()
        }
        Format::ChatCompletions => {
            "the server refused the key: check KOLLEGA_COMPAT_API_KEY".into()
        }
    }
}

/// The provider's requested wait, if it sent one that can be read.
fn retry_after(headers: &RetryHeaders<'_>, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = headers
        .retry_after_ms
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_millis(ms as u64));
    }
    let value = headers.retry_after?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // An HTTP date (RFC 9110's IMF-fixdate), always in GMT.
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    Some(
        SystemTime::from(at)
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
    )
}

/// A body that is not JSON: its first line, short, as the message.
fn first_line(body: &str) -> String {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty());
    match line {
        Some(line) if line.chars().count() > 200 => {
            format!("{}…", line.chars().take(200).collect::<String>())
        }
        Some(line) => line.to_string(),
        None => "no message".to_string(),
    }
}

/// `text` with every occurrence of `key` masked; for anything a provider
/// sends back that may echo the key.
pub(crate) fn redact(text: &str, key: Option<&str>) -> String {
    match key.map(str::trim).filter(|k| k.len() >= 8) {
        Some(key) => text.replace(key, "[redacted]"),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(status: u16, headers: RetryHeaders<'_>, body: &str) -> Failure {
        classify(
            Format::Responses,
            status,
            &headers,
            body,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )
    }

    #[test]
    fn insufficient_quota_is_never_retried_and_says_what_to_do() {
        let body = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
        let failure = at(
            429,
            RetryHeaders {
                retry_after: Some("1"),
                ..Default::default()
            },
            body,
        );
        assert_eq!(failure.retry, Retry::Never);
        assert_eq!(failure.code.as_deref(), Some("insufficient_quota"));
        assert!(failure.hint.contains("credit"), "{}", failure.hint);
    }

    #[test]
    fn rate_limits_wait_as_long_as_the_provider_asks() {
        let body = r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
        let secs = at(
            429,
            RetryHeaders {
                retry_after: Some("3"),
                ..Default::default()
            },
            body,
        );
        assert_eq!(secs.retry, Retry::After(Duration::from_secs(3)));
        let ms = at(
            429,
            RetryHeaders {
                retry_after: Some("3"),
                retry_after_ms: Some("250"),
            },
            body,
        );
        assert_eq!(ms.retry, Retry::After(Duration::from_millis(250)));
        let date = at(
            429,
            RetryHeaders {
                retry_after: Some("Tue, 14 Nov 2023 22:13:40 GMT"),
                ..Default::default()
            },
            body,
        );
        assert_eq!(date.retry, Retry::After(Duration::from_secs(20)));
        let none = at(429, RetryHeaders::default(), body);
        assert_eq!(none.retry, Retry::Backoff);
        let hours = at(
            429,
            RetryHeaders {
                retry_after: Some("7200"),
                ..Default::default()
            },
            body,
        );
        assert_eq!(hours.retry, Retry::Never);
        let garbage = at(
            429,
            RetryHeaders {
                retry_after: Some("soon"),
                ..Default::default()
            },
            body,
        );
        assert_eq!(garbage.retry, Retry::Backoff);
    }

    #[test]
    fn overload_and_server_errors_back_off_and_the_rest_are_permanent() {
        let overloaded = classify(
            Format::Messages,
            529,
            &RetryHeaders::default(),
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(overloaded.retry, Retry::Backoff);
        assert_eq!(overloaded.code.as_deref(), Some("overloaded_error"));
        assert_eq!(overloaded.message, "Overloaded");
        assert_eq!(
            at(500, RetryHeaders::default(), "<html>bad gateway</html>").retry,
            Retry::Backoff
        );
        let key = classify(
            Format::Messages,
            401,
            &RetryHeaders::default(),
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(key.retry, Retry::Never);
        assert!(key.hint.contains("ANTHROPIC_API_KEY"));
        let ollama = classify(
            Format::ChatCompletions,
            404,
            &RetryHeaders::default(),
            r#"{"error":"model 'llama9' not found, try pulling it first"}"#,
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(ollama.retry, Retry::Never);
        assert_eq!(
            ollama.message,
            "model 'llama9' not found, try pulling it first"
        );
    }

    #[test]
    fn an_echoed_key_is_masked() {
        let key = "sk-proj-abcdefghijklmnop";
        assert_eq!(
            redact(&format!("Incorrect API key provided: {key}."), Some(key)),
            "Incorrect API key provided: [redacted]."
        );
        assert_eq!(redact("nothing here", None), "nothing here");
    }
}
