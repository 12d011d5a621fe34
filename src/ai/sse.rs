//! Server-sent events, as the providers stream them: bytes in, whole events
//! out, whatever the chunking of the network.
//!
//! Follows the WHATWG event-stream rules that matter for an HTTP client:
//! lines end in LF, CR or CRLF; `data:` lines join with `\n`; `event:` names
//! the event; lines starting with `:` are comments (keep-alives); a blank
//! line dispatches; one space after the colon is dropped; a leading BOM is
//! skipped. `id:` and `retry:` are read and ignored: a model call is never
//! resumed by reconnecting.

use std::fmt;

/// The longest line kept while waiting for its end. A provider's longest
/// line is one JSON event; anything past this is not a stream of ours.
const MAX_LINE: usize = 16 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// The `event:` field; empty when the stream names none.
    pub(crate) name: String,
    pub(crate) data: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SseError {
    /// A line grew past [`MAX_LINE`] without ending.
    LineTooLong,
    /// A line is not UTF-8.
    NotText { line: usize },
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::LineTooLong => {
                write!(f, "a line of the event stream is over {MAX_LINE} bytes")
            }
            SseError::NotText { line } => {
                write!(f, "line {line} of the event stream is not UTF-8 text")
            }
        }
    }
}

impl std::error::Error for SseError {}

/// An incremental decoder: [`Decoder::feed`] the body's chunks as they come.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    /// Bytes of the line not yet ended.
    pending: Vec<u8>,
    /// The previous chunk ended in CR: an LF opening the next one belongs to it.
    after_cr: bool,
    started: bool,
    lines: usize,
    name: String,
    data: String,
    has_data: bool,
}

impl Decoder {
    pub(crate) fn new() -> Decoder {
        Decoder::default()
    }

    /// Takes the next chunk of the body; returns the events it completed.
    pub(crate) fn feed(&mut self, mut chunk: &[u8]) -> Result<Vec<Event>, SseError> {
        let mut events = Vec::new();
        if chunk.is_empty() {
            return Ok(events);
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (line, rest) = chunk.split_at(end);
            let crlf = rest.starts_with(b"\r\n");
            if rest.len() == 1 && rest[0] == b'\r' {
                self.after_cr = true;
            }
            chunk = &rest[if crlf { 2 } else { 1 }..];
            if self.pending.is_empty() {
                self.line(line, &mut events)?;
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                self.line(&whole, &mut events)?;
            }
        }
        if self.pending.len() + chunk.len() > MAX_LINE {
            return Err(SseError::LineTooLong);
        }
        self.pending.extend_from_slice(chunk);
        Ok(events)
    }

    /// Whether the stream stopped in the middle of an event: bytes of an
    /// unended line, or fields not yet dispatched by a blank line.
    pub(crate) fn is_mid_event(&self) -> bool {
        !self.pending.is_empty() || self.has_data || !self.name.is_empty()
    }

    fn line(&mut self, line: &[u8], events: &mut Vec<Event>) -> Result<(), SseError> {
        self.lines += 1;
        let mut line = line;
        if !self.started {
            self.started = true;
            line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        }
        if line.is_empty() {
            if self.has_data {
                events.push(Event {
                    name: std::mem::take(&mut self.name),
                    data: std::mem::take(&mut self.data),
                });
            }
            self.name.clear();
            self.data.clear();
            self.has_data = false;
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::NotText { line: self.lines })?;
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => value.clone_into(&mut self.name),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(body: &[u8]) -> Vec<Event> {
        let mut decoder = Decoder::new();
        let events = decoder.feed(body).unwrap();
        assert!(!decoder.is_mid_event(), "{body:?}");
        events
    }

    fn event(name: &str, data: &str) -> Event {
        Event {
            name: name.into(),
            data: data.into(),
        }
    }

    #[test]
    fn fields_comments_and_line_ends_follow_the_event_stream_rules() {
        let body = "\u{feff}: keep-alive\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\n\
                    data:first\ndata: second\n\nid: 7\nretry: 10\n\n\
                    event:ping\rdata\r\r";
        assert_eq!(
            all(body.as_bytes()),
            vec![
                event("message_start", "{\"a\":1}"),
                event("", "first\nsecond"),
                event("ping", ""),
            ]
        );
    }

    #[test]
    fn a_stream_cut_inside_an_event_is_seen() {
        let mut decoder = Decoder::new();
        let events = decoder
            .feed(b"data: {\"done\":true}\n\ndata: {\"par")
            .unwrap();
        assert_eq!(events, vec![event("", "{\"done\":true}")]);
        assert!(decoder.is_mid_event());
        let mut decoder = Decoder::new();
        decoder.feed(b"data: whole line\n").unwrap();
        assert!(decoder.is_mid_event(), "fields without their blank line");
    }

    #[test]
    fn bad_lines_are_errors_that_say_which() {
        let mut decoder = Decoder::new();
        let err = decoder.feed(b"data: ok\n\ndata: \xff\xfe\n\n").unwrap_err();
        assert_eq!(err, SseError::NotText { line: 3 });
        let mut decoder = Decoder::new();
        let long = vec![b'x'; MAX_LINE + 1];
        assert_eq!(decoder.feed(&long).unwrap_err(), SseError::LineTooLong);
    }

    proptest! {
        /// However the network cuts the body, the events are the same.
        #[test]
        fn chunking_never_changes_the_events(
            texts in proptest::collection::vec("[a-z{}\":é ]{0,12}", 1..6),
            ends in proptest::collection::vec(0usize..3, 1..6),
            cuts in proptest::collection::vec(0usize..200, 0..8),
        ) {
            let mut body = String::new();
            for (i, text) in texts.iter().enumerate() {
                let end = ["\n", "\r\n", "\r"][ends[i % ends.len()]];
                body.push_str(&format!("event: e{i}{end}data: {text}{end}{end}"));
            }
            let whole = all(body.as_bytes());
            prop_assert_eq!(whole.len(), texts.len());
            let bytes = body.as_bytes();
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut decoder = Decoder::new();
            let mut pieces = Vec::new();
            let mut from = 0;
            for point in points.into_iter().chain([bytes.len()]) {
                pieces.extend(decoder.feed(&bytes[from..point]).unwrap());
                from = point;
            }
            prop_assert_eq!(pieces, whole);
        }
    }
}
