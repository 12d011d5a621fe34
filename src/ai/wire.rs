//! The providers' streamed replies, decoded into one shape: text deltas as
//! they arrive, then a [`Reply`] with the response id, the usage and why
//! the model stopped.
//!
//! - OpenAI Responses: `response.created`, `response.output_text.delta`,
//!   then `response.completed` (or `.incomplete`, `.failed`, `error`); no
//!   `[DONE]` sentinel.
//! - Anthropic Messages: `message_start` (id, input usage),
//!   `content_block_delta` with `text_delta`, `message_delta` (stop reason,
//!   output usage), `message_stop`; `ping` and `error` between them.
//! - Chat Completions (Ollama, llama.cpp, vLLM): chunks of
//!   `choices[0].delta.content`, usage in the last chunk when asked for,
//!   ending in `data: [DONE]`.
//!
//! A body that ends before its last event is [`WireError::Cut`], and an
//! event that is not the JSON its provider documents is
//! [`WireError::Malformed`]; both keep the text received so far.

use std::fmt;

use serde_json::Value;

use super::sse::{self, SseError};

/// The three wire formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Responses,
    Messages,
    ChatCompletions,
}

/// Tokens of one call. `input` counts every prompt token, cached ones
/// included; `cached` is the part read from the provider's prompt cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) input: u64,
    pub(crate) output: u64,
    pub(crate) cached: u64,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    Finished,
    /// The reply was cut by the output budget (or a filter): the text is
    /// incomplete. Holds the provider's reason.
    Truncated(String),
}

/// A whole reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) text: String,
    pub(crate) response_id: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) usage: Usage,
    pub(crate) stop: Stop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WireError {
    /// The body ended before the provider's last event.
    Cut {
        partial: String,
    },
    /// An event that is not what the provider documents.
    Malformed {
        event: String,
        reason: String,
        partial: String,
    },
    /// The provider reported a failure inside the stream.
    Failed {
        code: String,
        message: String,
        partial: String,
    },
    Stream {
        source: SseError,
        partial: String,
    },
}

impl WireError {
    /// The text received before the failure, kept for the job's log.
    pub(crate) fn partial(&self) -> &str {
        match self {
            WireError::Cut { partial }
            | WireError::Malformed { partial, .. }
            | WireError::Failed { partial, .. }
            | WireError::Stream { partial, .. } => partial,
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Cut { partial } => write!(
                f,
                "the reply stream ended before the reply did ({} characters received)",
                partial.chars().count()
            ),
            WireError::Malformed { event, reason, .. } => {
                write!(f, "the provider sent a malformed `{event}` event: {reason}")
            }
            WireError::Failed { code, message, .. } => {
                write!(f, "the provider failed mid-reply ({code}): {message}")
            }
            WireError::Stream { source, .. } => write!(f, "{source}"),
        }
    }
}

impl std::error::Error for WireError {}

/// Decodes one streamed reply; feed it the body's chunks as they come.
#[derive(Debug)]
pub(crate) struct StreamDecoder {
    format: Format,
    sse: sse::Decoder,
    text: String,
    response_id: Option<String>,
    model: Option<String>,
    usage: Usage,
    stop: Option<Stop>,
    /// The provider's closing event was seen.
    done: bool,
}

impl StreamDecoder {
    pub(crate) fn new(format: Format) -> StreamDecoder {
        StreamDecoder {
            format,
            sse: sse::Decoder::new(),
            text: String::new(),
            response_id: None,
            model: None,
            usage: Usage::default(),
            stop: None,
            done: false,
        }
    }

    /// Takes the next chunk of the body; returns the text it added.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Result<String, WireError> {
        let events = self.sse.feed(chunk).map_err(|source| WireError::Stream {
            source,
            partial: self.text.clone(),
        })?;
        let mut added = String::new();
        for event in events {
            if self.done {
                continue;
            }
            let delta = match self.format {
                Format::Responses => self.responses(&event)?,
                Format::Messages => self.messages(&event)?,
                Format::ChatCompletions => self.chat(&event)?,
            };
            if let Some(delta) = delta {
                self.text.push_str(&delta);
                added.push_str(&delta);
            }
        }
        Ok(added)
    }

    /// The end of the body: the whole reply, or why there is none.
    pub(crate) fn finish(self) -> Result<Reply, WireError> {
        // Chat servers that end the body right after the finishing chunk,
        // without `[DONE]`, have still sent the whole reply.
        let finished = self.done
            || (self.format == Format::ChatCompletions
                && self.stop.is_some()
                && !self.sse.is_mid_event());
        if !finished {
            return Err(WireError::Cut { partial: self.text });
        }
        Ok(Reply {
            text: self.text,
            response_id: self.response_id,
            model: self.model,
            usage: self.usage,
            stop: self.stop.unwrap_or(Stop::Finished),
        })
    }

    fn json(&self, event: &sse::Event, name: &str) -> Result<Value, WireError> {
        serde_json::from_str(&event.data).map_err(|e| self.malformed(name, &e.to_string()))
    }

    fn malformed(&self, event: &str, reason: &str) -> WireError {
        WireError::Malformed {
            event: event.to_string(),
            reason: reason.to_string(),
            partial: self.text.clone(),
        }
    }

    fn failed(&self, error: &Value, fallback: &str) -> WireError {
        let code = str_at(error, &["code"])
            .or_else(|| str_at(error, &["type"]))
            .unwrap_or(fallback);
        let message = str_at(error, &["message"]).unwrap_or("no message");
        WireError::Failed {
            code: code.to_string(),
            message: message.to_string(),
            partial: self.text.clone(),
        }
    }

    fn responses(&mut self, event: &sse::Event) -> Result<Option<String>, WireError> {
        let name = if event.name.is_empty() {
            "message"
        } else {
            &event.name
        };
        let json = self.json(event, name)?;
        let kind = str_at(&json, &["type"]).unwrap_or(name).to_string();
        match kind.as_str() {
            "response.created" | "response.in_progress" => {
                self.response_id = str_at(&json, &["response", "id"]).map(str::to_string);
                self.model = str_at(&json, &["response", "model"]).map(str::to_string);
                Ok(None)
            }
            "response.output_text.delta" => match str_at(&json, &["delta"]) {
                Some(delta) => Ok(Some(delta.to_string())),
                None => Err(self.malformed(&kind, "no `delta` text")),
            },
            "response.completed" | "response.incomplete" => {
                let response = json
                    .get("response")
                    .ok_or_else(|| self.malformed(&kind, "no `response` object"))?;
                if let Some(id) = str_at(response, &["id"]) {
                    self.response_id = Some(id.to_string());
                }
                if let Some(model) = str_at(response, &["model"]) {
                    self.model = Some(model.to_string());
                }
                self.usage = Usage {
                    input: u64_at(response, &["usage", "input_tokens"]),
                    output: u64_at(response, &["usage", "output_tokens"]),
                    cached: u64_at(
                        response,
                        &["usage", "input_tokens_details", "cached_tokens"],
                    ),
                };
                if kind == "response.incomplete" {
                    let reason =
                        str_at(response, &["incomplete_details", "reason"]).unwrap_or("incomplete");
                    self.stop = Some(Stop::Truncated(reason.to_string()));
                }
                self.done = true;
                Ok(None)
            }
            "response.failed" => {
                let error = json
                    .get("response")
                    .and_then(|r| r.get("error"))
                    .unwrap_or(&Value::Null);
                Err(self.failed(error, "response.failed"))
            }
            "error" => Err(self.failed(&json, "error")),
            _ => Ok(None),
        }
    }

    fn messages(&mut self, event: &sse::Event) -> Result<Option<String>, WireError> {
        let json = self.json(event, &event.name)?;
        let kind = str_at(&json, &["type"]).unwrap_or(&event.name).to_string();
        match kind.as_str() {
            "message_start" => {
                let message = json
                    .get("message")
                    .ok_or_else(|| self.malformed(&kind, "no `message` object"))?;
                self.response_id = str_at(message, &["id"]).map(str::to_string);
                self.model = str_at(message, &["model"]).map(str::to_string);
                self.anthropic_usage(message.get("usage"));
                Ok(None)
            }
            "content_block_delta" => match str_at(&json, &["delta", "type"]) {
                Some("text_delta") => match str_at(&json, &["delta", "text"]) {
                    Some(text) => Ok(Some(text.to_string())),
                    None => Err(self.malformed(&kind, "a text_delta without `text`")),
                },
                // Thinking, signatures and tool input are not reply text.
                _ => Ok(None),
            },
            "message_delta" => {
                match str_at(&json, &["delta", "stop_reason"]) {
                    Some("max_tokens") => self.stop = Some(Stop::Truncated("max_tokens".into())),
                    Some("refusal") => self.stop = Some(Stop::Truncated("refusal".into())),
                    Some(_) => self.stop = Some(Stop::Finished),
                    None => {}
                }
                self.anthropic_usage(json.get("usage"));
                Ok(None)
            }
            "message_stop" => {
                self.done = true;
                Ok(None)
            }
            "error" => Err(self.failed(json.get("error").unwrap_or(&Value::Null), "error")),
            // ping, content_block_start, content_block_stop.
            _ => Ok(None),
        }
    }

    /// Anthropic counts cache reads and writes apart from `input_tokens`, and
    /// sends running totals: `message_delta` repeats or raises them.
    fn anthropic_usage(&mut self, usage: Option<&Value>) {
        let Some(usage) = usage else { return };
        let fresh = u64_at(usage, &["input_tokens"]);
        let written = u64_at(usage, &["cache_creation_input_tokens"]);
        let read = u64_at(usage, &["cache_read_input_tokens"]);
        self.usage.input = self.usage.input.max(fresh + written + read);
        self.usage.cached = self.usage.cached.max(read);
        self.usage.output = self.usage.output.max(u64_at(usage, &["output_tokens"]));
    }

    fn chat(&mut self, event: &sse::Event) -> Result<Option<String>, WireError> {
        if event.data.trim() == "[DONE]" {
            self.done = true;
            return Ok(None);
        }
        let json = self.json(event, "chunk")?;
        if let Some(error) = json.get("error") {
            return Err(self.failed(error, "error"));
        }
        if let Some(id) = str_at(&json, &["id"]) {
            self.response_id = Some(id.to_string());
        }
        if let Some(model) = str_at(&json, &["model"]) {
            self.model = Some(model.to_string());
        }
        if let Some(usage) = json.get("usage").filter(|u| u.is_object()) {
            self.usage = Usage {
                input: u64_at(usage, &["prompt_tokens"]),
                output: u64_at(usage, &["completion_tokens"]),
                cached: u64_at(usage, &["prompt_tokens_details", "cached_tokens"]),
            };
        }
        let Some(choice) = json.get("choices").and_then(|c| c.get(0)) else {
            // The usage chunk has no choices.
            return Ok(None);
        };
        match str_at(choice, &["finish_reason"]) {
            Some("length") => self.stop = Some(Stop::Truncated("length".into())),
            Some("content_filter") => self.stop = Some(Stop::Truncated("content_filter".into())),
            Some(_) => self.stop = Some(Stop::Finished),
            None => {}
        }
        Ok(str_at(choice, &["delta", "content"]).map(str::to_string))
    }
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
}

fn u64_at(value: &Value, path: &[&str]) -> u64 {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(format: Format, body: &str) -> (String, Result<Reply, WireError>) {
        let mut decoder = StreamDecoder::new(format);
        let mut shown = String::new();
        // Byte by byte: the worst chunking a network can do.
        for byte in body.as_bytes() {
            match decoder.feed(std::slice::from_ref(byte)) {
                Ok(text) => shown.push_str(&text),
                Err(e) => return (shown, Err(e)),
            }
        }
        (shown, decoder.finish())
    }

    const RESPONSES: &str = "event: response.created\n\
        data: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-5\",\"status\":\"in_progress\"}}\n\n\
        event: response.output_text.delta\n\
        data: {\"type\":\"response.output_text.delta\",\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hej \"}\n\n\
        event: response.output_text.delta\n\
        data: {\"type\":\"response.output_text.delta\",\"delta\":\"världen\"}\n\n\
        event: response.completed\n\
        data: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-5\",\"status\":\"completed\",\
        \"usage\":{\"input_tokens\":120,\"input_tokens_details\":{\"cached_tokens\":100},\"output_tokens\":7,\"total_tokens\":127}}}\n\n";

    #[test]
    fn a_responses_stream_gives_text_id_and_usage() {
        let (shown, reply) = decode(Format::Responses, RESPONSES);
        let reply = reply.unwrap();
        assert_eq!(shown, "Hej världen");
        assert_eq!(reply.text, "Hej världen");
        assert_eq!(reply.response_id.as_deref(), Some("resp_1"));
        assert_eq!(reply.model.as_deref(), Some("gpt-5"));
        assert_eq!(
            reply.usage,
            Usage {
                input: 120,
                output: 7,
                cached: 100
            }
        );
        assert_eq!(reply.stop, Stop::Finished);
    }

    #[test]
    fn a_responses_stream_cut_before_completed_keeps_the_partial_text() {
        let cut = &RESPONSES[..RESPONSES.find("event: response.completed").unwrap()];
        let (shown, reply) = decode(Format::Responses, cut);
        assert_eq!(shown, "Hej världen");
        let err = reply.unwrap_err();
        assert_eq!(err.partial(), "Hej världen");
        assert!(matches!(err, WireError::Cut { .. }));
    }

    #[test]
    fn responses_failures_and_limits_are_told_apart() {
        let failed = "data: {\"type\":\"response.output_text.delta\",\"delta\":\"a\"}\n\n\
            data: {\"type\":\"response.failed\",\"response\":{\"error\":{\"code\":\"server_error\",\"message\":\"boom\"}}}\n\n";
        let err = decode(Format::Responses, failed).1.unwrap_err();
        assert_eq!(
            err,
            WireError::Failed {
                code: "server_error".into(),
                message: "boom".into(),
                partial: "a".into()
            }
        );
        let incomplete = "data: {\"type\":\"response.incomplete\",\"response\":{\"id\":\"r\",\
            \"incomplete_details\":{\"reason\":\"max_output_tokens\"},\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}}\n\n";
        let reply = decode(Format::Responses, incomplete).1.unwrap();
        assert_eq!(reply.stop, Stop::Truncated("max_output_tokens".into()));
        let malformed = "data: {\"type\":\"response.output_text.delta\",\"delta\":\"a\"}\n\ndata: {\"type\":\n\n";
        let err = decode(Format::Responses, malformed).1.unwrap_err();
        assert!(
            matches!(&err, WireError::Malformed { event, .. } if event == "message"),
            "{err}"
        );
        assert_eq!(err.partial(), "a");
    }

    const MESSAGES: &str = "event: message_start\n\
        data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\
        \"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":10,\"cache_read_input_tokens\":300,\"output_tokens\":1}}}\n\n\
        event: content_block_start\n\
        data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
        event: ping\n\
        data: {\"type\": \"ping\"}\n\n\
        event: content_block_delta\n\
        data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Merhaba\"}}\n\n\
        event: content_block_delta\n\
        data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" dünya\"}}\n\n\
        event: content_block_stop\n\
        data: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
        event: message_delta\n\
        data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n\
        event: message_stop\n\
        data: {\"type\":\"message_stop\"}\n\n";

    #[test]
    fn a_messages_stream_gives_text_id_and_usage_with_cache_reads() {
        let (shown, reply) = decode(Format::Messages, MESSAGES);
        let reply = reply.unwrap();
        assert_eq!(shown, "Merhaba dünya");
        assert_eq!(reply.response_id.as_deref(), Some("msg_1"));
        assert_eq!(
            reply.usage,
            Usage {
                input: 335,
                output: 15,
                cached: 300
            }
        );
        assert_eq!(reply.stop, Stop::Finished);
    }

    #[test]
    fn an_overloaded_error_mid_stream_and_a_cut_stream_keep_the_partial_text() {
        let upto = MESSAGES.find("event: message_delta").unwrap();
        let overloaded = format!(
            "{}event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}}}\n\n",
            &MESSAGES[..upto]
        );
        let err = decode(Format::Messages, &overloaded).1.unwrap_err();
        assert_eq!(
            err,
            WireError::Failed {
                code: "overloaded_error".into(),
                message: "Overloaded".into(),
                partial: "Merhaba dünya".into()
            }
        );
        let cut = decode(Format::Messages, &MESSAGES[..upto]).1.unwrap_err();
        assert_eq!(
            cut,
            WireError::Cut {
                partial: "Merhaba dünya".into()
            }
        );
    }

    const CHAT: &str = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"qwen2.5-coder\",\
        \"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n\
        data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hallå\"},\"finish_reason\":null}]}\n\n\
        data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
        data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12,\
        \"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n\
        data: [DONE]\n\n";

    #[test]
    fn a_chat_stream_ends_at_done_with_the_usage_chunk() {
        let (shown, reply) = decode(Format::ChatCompletions, CHAT);
        let reply = reply.unwrap();
        assert_eq!(shown, "Hallå");
        assert_eq!(reply.response_id.as_deref(), Some("chatcmpl-1"));
        assert_eq!(
            reply.usage,
            Usage {
                input: 9,
                output: 3,
                cached: 4
            }
        );
    }

    #[test]
    fn a_chat_stream_without_done_is_whole_only_after_its_finish_reason() {
        let without_done = &CHAT[..CHAT.find("data: [DONE]").unwrap()];
        assert!(decode(Format::ChatCompletions, without_done).1.is_ok());
        let before_finish = &CHAT[..CHAT
            .find("data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},")
            .unwrap()];
        let err = decode(Format::ChatCompletions, before_finish)
            .1
            .unwrap_err();
        assert_eq!(
            err,
            WireError::Cut {
                partial: "Hallå".into()
            }
        );
        let error = "data: {\"error\":{\"message\":\"model not found\",\"type\":\"invalid_request_error\"}}\n\n";
        let err = decode(Format::ChatCompletions, error).1.unwrap_err();
        assert!(matches!(&err, WireError::Failed { code, .. } if code == "invalid_request_error"));
    }
}
