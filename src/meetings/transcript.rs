//! Transcripts: WebVTT, SubRip and plain text read into spoken text
//! (timestamps stripped) and, for the timed formats, cues.

use std::path::Path;

use super::MeetingsError;
use crate::store::meetings::{self as rows, NewTranscript, TranscriptFormat};

/// One timed cue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Cue {
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
}

/// A transcript read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transcript {
    pub format: TranscriptFormat,
    pub text: String,
    pub cues: Vec<Cue>,
}

impl Transcript {
    /// How long it is, as people say it: its cues when it is timed, else
    /// its lines.
    pub(crate) fn size(&self) -> String {
        let cues = (!self.cues.is_empty()).then_some(self.cues.len());
        size(cues, self.text.lines().count())
    }
}

/// A transcript's length: `1 cue`, `12 cues`, or `1 line`, `30 lines`
/// for one without timed cues.
pub(crate) fn size(cues: Option<usize>, lines: usize) -> String {
    let counted = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    match cues {
        Some(n) => counted(n, "cue"),
        None => counted(lines, "line"),
    }
}

/// A transcript file read and understood, not yet stored: its file
/// name and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Loaded {
    pub name: String,
    pub transcript: Transcript,
}

/// Reads transcript file `file` (WebVTT, SubRip or plain text): an error
/// names the file and what is wrong with it. Reads the disk only.
pub(crate) fn load(file: &Path) -> Result<Loaded, MeetingsError> {
    let content = std::fs::read_to_string(file).map_err(|source| MeetingsError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let transcript = read(&name, &content).map_err(|what| MeetingsError::Transcript {
        path: file.to_path_buf(),
        what,
    })?;
    Ok(Loaded { name, transcript })
}

/// Stores `loaded` as a transcript of meeting `id` (which marks the
/// meeting's transcript received): its row id, or `None` when there is no
/// such meeting.
pub(crate) fn attach(
    conn: &mut rusqlite::Connection,
    id: i64,
    loaded: &Loaded,
    now: i64,
) -> Result<Option<i64>, MeetingsError> {
    let t = &loaded.transcript;
    let cues = (!t.cues.is_empty())
        .then(|| serde_json::to_string(&t.cues))
        .transpose()
        .map_err(|e| MeetingsError::Transcript {
            path: loaded.name.clone().into(),
            what: format!("its cues could not be written: {e}"),
        })?;
    Ok(rows::add_transcript(
        conn,
        id,
        &NewTranscript {
            format: t.format,
            text: &t.text,
            cues: cues.as_deref(),
            source_name: &loaded.name,
        },
        now,
    )?)
}

/// Reads `content`: WebVTT when it starts with `WEBVTT`, SubRip when its
/// first cue has a `-->` timing line after a number, plain text else.
/// `name` (the file's name) breaks a tie by its extension.
pub(crate) fn read(name: &str, content: &str) -> Result<Transcript, String> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let lower = name.to_ascii_lowercase();
    let format = if content.trim_start().starts_with("WEBVTT") || lower.ends_with(".vtt") {
        TranscriptFormat::Vtt
    } else if lower.ends_with(".srt") || looks_like_srt(content) {
        TranscriptFormat::Srt
    } else {
        TranscriptFormat::Txt
    };
    if format == TranscriptFormat::Txt {
        let text = content.trim().to_string();
        if text.is_empty() {
            return Err("the file is empty".into());
        }
        return Ok(Transcript {
            format,
            text,
            cues: Vec::new(),
        });
    }
    let cues = cues(content)?;
    if cues.is_empty() {
        return Err(format!("no cue found in this {} file", format.as_str()));
    }
    let text = cues
        .iter()
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Transcript { format, text, cues })
}

fn looks_like_srt(content: &str) -> bool {
    let mut lines = content.lines().map(str::trim).filter(|l| !l.is_empty());
    matches!(
        (lines.next(), lines.next()),
        (Some(n), Some(t)) if n.parse::<u32>().is_ok() && t.contains("-->")
    )
}

/// `hh:mm:ss.mmm`, `mm:ss.mmm` or SRT's `hh:mm:ss,mmm` in ms.
fn timestamp(s: &str) -> Option<i64> {
    let s = s.trim().replace(',', ".");
    let (clock, frac) = s.split_once('.').unwrap_or((s.as_str(), "0"));
    let parts: Vec<i64> = clock
        .split(':')
        .map(|p| p.parse::<i64>().ok())
        .collect::<Option<_>>()?;
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => (*h, *m, *s),
        [m, s] => (0, *m, *s),
        _ => return None,
    };
    let frac: String = frac.chars().take(3).collect();
    let ms = format!("{frac:0<3}").parse::<i64>().ok()?;
    Some(((h * 60 + m) * 60 + sec) * 1000 + ms)
}

fn cues(content: &str) -> Result<Vec<Cue>, String> {
    let mut out = Vec::new();
    let mut lines = content.lines().enumerate().peekable();
    while let Some((index, line)) = lines.next() {
        let Some((from, rest)) = line.split_once("-->") else {
            continue;
        };
        // VTT settings follow the end time after a space.
        let to = rest.split_whitespace().next().unwrap_or_default();
        let (Some(start_ms), Some(end_ms)) = (timestamp(from), timestamp(to)) else {
            return Err(format!(
                "line {}: \"{}\" is not a cue timing",
                index + 1,
                line.trim()
            ));
        };
        let mut text = Vec::new();
        while let Some((_, next)) = lines.peek() {
            if next.trim().is_empty() {
                break;
            }
            text.push(strip_tags(next.trim()));
            lines.next();
        }
        let text = text.join(" ");
        if !text.is_empty() {
            out.push(Cue {
                start_ms,
                end_ms,
                text,
            });
        }
    }
    Ok(out)
}

/// Removes `<v Speaker>`-style tags, keeping the speaker's name.
fn strip_tags(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let tag = &rest[open + 1..open + close];
        if let Some(speaker) = tag.strip_prefix("v ") {
            out.push_str(speaker.trim());
            out.push_str(": ");
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_is_said_in_cues_or_lines_with_one_and_many() {
        assert_eq!(size(Some(1), 4), "1 cue");
        assert_eq!(size(Some(2), 4), "2 cues");
        assert_eq!(size(None, 1), "1 line");
        assert_eq!(size(None, 0), "0 lines");
        let one = read("call.vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\nHi.\n").unwrap();
        assert_eq!(one.size(), "1 cue");
        assert_eq!(read("notes.txt", "a\nb\n").unwrap().size(), "2 lines");
    }

    #[test]
    fn webvtt_keeps_cues_and_speakers() {
        let vtt = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.500 align:start\n<v Ann>We ship on Friday.</v>\n\n00:05.000 --> 00:07.000\nAgreed.\n";
        let t = read("call.vtt", vtt).unwrap();
        assert_eq!(t.format, TranscriptFormat::Vtt);
        assert_eq!(t.text, "Ann: We ship on Friday.\nAgreed.");
        assert_eq!(
            (t.cues[0].start_ms, t.cues[0].end_ms, t.cues[1].start_ms),
            (1000, 4500, 5000)
        );
    }

    #[test]
    fn srt_is_read_with_comma_millis() {
        let srt = "1\r\n00:00:01,200 --> 00:00:02,000\r\nHello\r\nthere\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nBye\r\n";
        let t = read("x.txt", srt).unwrap();
        assert_eq!(t.format, TranscriptFormat::Srt);
        assert_eq!(t.text, "Hello there\nBye");
        assert_eq!(t.cues[0].start_ms, 1200);
    }

    #[test]
    fn plain_text_is_kept_and_empty_or_bad_timing_refused() {
        assert_eq!(read("n.txt", " notes \n").unwrap().text, "notes");
        assert!(read("n.txt", "  \n").is_err());
        let err = read("a.vtt", "WEBVTT\n\nxx --> 00:01.000\nhi\n").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
    }
}
