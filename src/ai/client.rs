//! One streamed call to a provider: where it goes and with which key
//! (from the environment, as the official SDKs read it), the request body
//! in the provider's documented shape, and the reply read chunk by chunk
//! under a connect and an idle timeout.
//!
//! | provider    | endpoint                       | key                        | base URL variable (default)                      |
//! |-------------|--------------------------------|----------------------------|--------------------------------------------------|
//! | `openai`    | `POST {base}/responses`        | `OPENAI_API_KEY`           | `OPENAI_BASE_URL` (`https://api.openai.com/v1`)  |
//! | `anthropic` | `POST {base}/v1/messages`      | `ANTHROPIC_API_KEY`        | `ANTHROPIC_BASE_URL` (`https://api.anthropic.com`) |
//! | `compat`    | `POST {base}/chat/completions` | `KOLLEGA_COMPAT_API_KEY` (optional) | `KOLLEGA_COMPAT_BASE_URL` (`http://127.0.0.1:11434/v1`) |
//!
//! The key goes only into its header, marked sensitive; it is never part of
//! an error, a `Debug` print or a log line.

use std::fmt;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::{Value, json};

use super::failure::{self, Failure, RetryHeaders};
use super::wire::{Format, Reply, StreamDecoder, WireError};
use crate::error::Hint;

/// The Anthropic API version the Messages format here follows.
const ANTHROPIC_VERSION: &str = "2023-06-01";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    OpenAi,
    Anthropic,
    Compat,
}

impl Provider {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Compat => "compat",
        }
    }

    pub(crate) fn format(self) -> Format {
        match self {
            Provider::OpenAi => Format::Responses,
            Provider::Anthropic => Format::Messages,
            Provider::Compat => Format::ChatCompletions,
        }
    }

    /// The model used when neither `--model` nor the environment names one.
    pub(crate) fn default_model(self) -> &'static str {
        match self {
            Provider::OpenAi => "gpt-5.1",
            Provider::Anthropic => "claude-sonnet-4-5",
            Provider::Compat => "qwen2.5-coder",
        }
    }

    pub(crate) fn key_var(self) -> &'static str {
        match self {
            Provider::OpenAi => "OPENAI_API_KEY",
            Provider::Anthropic => "ANTHROPIC_API_KEY",
            Provider::Compat => "KOLLEGA_COMPAT_API_KEY",
        }
    }

    pub(crate) fn base_var(self) -> &'static str {
        match self {
            Provider::OpenAi => "OPENAI_BASE_URL",
            Provider::Anthropic => "ANTHROPIC_BASE_URL",
            Provider::Compat => "KOLLEGA_COMPAT_BASE_URL",
        }
    }

    fn default_base(self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com/v1",
            Provider::Anthropic => "https://api.anthropic.com",
            Provider::Compat => "http://127.0.0.1:11434/v1",
        }
    }
}

/// A key that never prints.
#[derive(Clone)]
pub(crate) struct Key(String);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(***)")
    }
}

/// Where a call goes.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) provider: Provider,
    pub(crate) base_url: reqwest::Url,
    pub(crate) model: String,
    key: Option<Key>,
}

impl Endpoint {
    /// The endpoint of `provider` from the environment (read through `env`),
    /// with `model` if given, else `KOLLEGA_COMPAT_MODEL` for the compatible
    /// server, else the provider's default.
    pub(crate) fn from_env(
        provider: Provider,
        model: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Endpoint, CallError> {
        let set = |name: &str| {
            env(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let key = set(provider.key_var()).map(Key);
        if key.is_none() && provider != Provider::Compat {
            return Err(CallError::NoKey { provider });
        }
        let base = set(provider.base_var()).unwrap_or_else(|| provider.default_base().into());
        let base_url = reqwest::Url::parse(base.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| CallError::BadBaseUrl {
                variable: provider.base_var(),
                value: base.clone(),
            })?;
        let model = match model {
            Some(model) => model.to_string(),
            None if provider == Provider::Compat => {
                set("KOLLEGA_COMPAT_MODEL").unwrap_or_else(|| provider.default_model().into())
            }
            None => provider.default_model().into(),
        };
        Ok(Endpoint {
            provider,
            base_url,
            model,
            key,
        })
    }

    fn url(&self) -> String {
        let base = self.base_url.as_str().trim_end_matches('/');
        match self.provider {
            Provider::OpenAi => format!("{base}/responses"),
            Provider::Anthropic => format!("{base}/v1/messages"),
            Provider::Compat => format!("{base}/chat/completions"),
        }
    }

    fn headers(&self) -> Result<HeaderMap, CallError> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("accept", HeaderValue::from_static("text/event-stream"));
        let Some(Key(key)) = &self.key else {
            return Ok(headers);
        };
        let bad_key = || CallError::BadKey {
            variable: self.provider.key_var(),
        };
        match self.provider {
            Provider::Anthropic => {
                let mut value = HeaderValue::from_str(key).map_err(|_| bad_key())?;
                value.set_sensitive(true);
                headers.insert("x-api-key", value);
                headers.insert(
                    "anthropic-version",
                    HeaderValue::from_static(ANTHROPIC_VERSION),
                );
            }
            Provider::OpenAi | Provider::Compat => {
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| bad_key())?;
                value.set_sensitive(true);
                headers.insert("authorization", value);
            }
        }
        Ok(headers)
    }

    fn key(&self) -> Option<&str> {
        self.key.as_ref().map(|k| k.0.as_str())
    }
}

/// An earlier turn of the conversation, resent to providers that keep no
/// state between requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) assistant: bool,
    pub(crate) text: String,
}

/// What is asked.
#[derive(Debug, Clone)]
pub(crate) struct Request<'a> {
    pub(crate) instructions: &'a str,
    /// The conversation so far, oldest first; empty on the Responses API
    /// when `previous_response_id` carries it.
    pub(crate) history: &'a [Message],
    pub(crate) prompt: &'a str,
    /// A Responses API follow-up: the id of the reply it follows.
    pub(crate) previous_response_id: Option<&'a str>,
    pub(crate) max_output_tokens: u32,
}

/// The request body in the provider's documented shape, streaming on.
pub(crate) fn body(endpoint: &Endpoint, request: &Request<'_>) -> Value {
    let role = |m: &Message| if m.assistant { "assistant" } else { "user" };
    let plain = |system: Option<&str>| {
        let mut messages: Vec<Value> = system
            .map(|s| json!({"role": "system", "content": s}))
            .into_iter()
            .collect();
        messages.extend(
            request
                .history
                .iter()
                .map(|m| json!({"role": role(m), "content": m.text})),
        );
        messages.push(json!({"role": "user", "content": request.prompt}));
        messages
    };
    match endpoint.provider {
        Provider::OpenAi => {
            let mut input: Vec<Value> = request
                .history
                .iter()
                .map(|m| {
                    let kind = if m.assistant {
                        "output_text"
                    } else {
                        "input_text"
                    };
                    json!({"role": role(m), "content": [{"type": kind, "text": m.text}]})
                })
                .collect();
            input.push(json!({
                "role": "user",
                "content": [{"type": "input_text", "text": request.prompt}],
            }));
            let mut body = json!({
                "model": endpoint.model,
                "instructions": request.instructions,
                "input": input,
                "max_output_tokens": request.max_output_tokens,
                "stream": true,
            });
            if let Some(id) = request.previous_response_id {
                body["previous_response_id"] = json!(id);
            }
            body
        }
        Provider::Anthropic => json!({
            "model": endpoint.model,
            "system": request.instructions,
            "messages": plain(None),
            "max_tokens": request.max_output_tokens,
            "stream": true,
        }),
        Provider::Compat => json!({
            "model": endpoint.model,
            "messages": plain(Some(request.instructions)),
            "max_tokens": request.max_output_tokens,
            "stream": true,
            "stream_options": {"include_usage": true},
        }),
    }
}

/// How long a call may wait: for the connection, and for each next chunk
/// (the first one included) once connected.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            idle: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    #[error("no API key for {}: {} is not set", .provider.name(), .provider.key_var())]
    NoKey { provider: Provider },
    #[error("{variable} holds characters an HTTP header cannot carry")]
    BadKey { variable: &'static str },
    #[error("{variable}={value:?} is not an http(s) URL")]
    BadBaseUrl {
        variable: &'static str,
        value: String,
    },
    #[error("cannot reach {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("{url} sent nothing for {} s", .after.as_secs())]
    Idle {
        url: String,
        after: Duration,
        partial: String,
    },
    #[error("{} answered {}: {}", .provider.name(), .failure.status, .failure.message)]
    Http {
        provider: Provider,
        failure: Failure,
    },
    #[error("{source}")]
    Wire { source: WireError },
}

impl CallError {
    /// The reply text received before the failure.
    pub(crate) fn partial(&self) -> &str {
        match self {
            CallError::Idle { partial, .. } => partial,
            CallError::Wire { source } => source.partial(),
            _ => "",
        }
    }
}

impl Hint for CallError {
    fn hint(&self) -> String {
        match self {
            CallError::NoKey { provider } => format!(
                "export {} (kollega never stores it), or pick another provider with --provider",
                provider.key_var()
            ),
            CallError::BadKey { variable } => format!("check {variable}: copy the key again"),
            CallError::BadBaseUrl { variable, .. } => {
                format!(
                    "set {variable} to the provider's base URL, like https://host/v1, or unset it"
                )
            }
            CallError::Connect { .. } => {
                "check the network and the base URL; the call is retried within the job's attempts"
                    .into()
            }
            CallError::Idle { .. } => {
                "the provider stalled; the call is retried within the job's attempts".into()
            }
            CallError::Http { failure, .. } => failure.hint.clone(),
            CallError::Wire { .. } => {
                "the text received so far is in the job's log; ask again".into()
            }
        }
    }
}

/// A client for provider calls: no redirects (a redirect to another host
/// would carry the key along), no proxy for a loopback server.
pub(crate) fn http_client(
    endpoint: &Endpoint,
    timeouts: Timeouts,
) -> Result<reqwest::Client, CallError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .redirect(reqwest::redirect::Policy::none());
    let loopback = matches!(
        endpoint.base_url.host_str(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    );
    if loopback {
        builder = builder.no_proxy();
    }
    builder.build().map_err(|e| CallError::Connect {
        url: endpoint.url(),
        reason: e.to_string(),
    })
}

/// Sends `request` and reads the streamed reply, handing each piece of text
/// to `on_text` as it arrives. Dropping the future cancels the call.
pub(crate) async fn stream(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    request: &Request<'_>,
    timeouts: Timeouts,
    mut on_text: impl FnMut(&str),
) -> Result<Reply, CallError> {
    let url = endpoint.url();
    let key = endpoint.key();
    let connect_failed = |reason: String| CallError::Connect {
        url: url.clone(),
        reason: failure::redact(&reason, key),
    };
    let send = client
        .post(&url)
        .headers(endpoint.headers()?)
        .json(&body(endpoint, request))
        .send();
    let mut response = match tokio::time::timeout(timeouts.connect + timeouts.idle, send).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => return Err(connect_failed(without_url(&e))),
        Err(_) => {
            return Err(CallError::Idle {
                url,
                after: timeouts.connect + timeouts.idle,
                partial: String::new(),
            });
        }
    };
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let retry = RetryHeaders {
            retry_after: text(RETRY_AFTER.as_str()),
            retry_after_ms: text("retry-after-ms"),
        };
        let body = match tokio::time::timeout(timeouts.idle, response.text()).await {
            Ok(Ok(body)) => body,
            _ => String::new(),
        };
        let mut failure = failure::classify(
            endpoint.provider.format(),
            status.as_u16(),
            &retry,
            &body,
            std::time::SystemTime::now(),
        );
        failure.message = failure::redact(&failure.message, key);
        return Err(CallError::Http {
            provider: endpoint.provider,
            failure,
        });
    }
    let mut decoder = StreamDecoder::new(endpoint.provider.format());
    let mut received = String::new();
    loop {
        let chunk = match tokio::time::timeout(timeouts.idle, response.chunk()).await {
            Err(_) => {
                return Err(CallError::Idle {
                    url,
                    after: timeouts.idle,
                    partial: received,
                });
            }
            // A connection reset mid-body is a cut stream.
            Ok(Err(_)) => None,
            Ok(Ok(chunk)) => chunk,
        };
        let Some(chunk) = chunk else { break };
        let text = decoder
            .feed(&chunk)
            .map_err(|source| CallError::Wire { source })?;
        if !text.is_empty() {
            on_text(&text);
            received.push_str(&text);
        }
    }
    decoder
        .finish()
        .map_err(|source| CallError::Wire { source })
}

/// The innermost cause of a request error: reqwest's own text repeats the
/// URL, which the error names already.
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = e;
    while let Some(inner) = last.source() {
        last = inner;
    }
    last.to_string()
}

#[cfg(test)]
pub(crate) mod tests;
