//! What a module answers, as JSON checked against its module's schema: the
//! copilot's answer with the lines it cites, the procurement check's
//! verdict per criterion and (under consent `legal` only) its flags.
//!
//! A cited line outside the lines the model was given is kept but marked
//! (`outOfRange`), never trusted. Answers of the `v1` prompts were plain
//! text; [`Stored::of`] tells them apart by prompt version, so both show.
//! [`lines`] lays an answer out once for the CLI and the dashboard, each
//! piece with a [`Tone`] the dashboard colours.

use serde::{Deserialize, Serialize};

use crate::meetings::schema::{self, check_count, check_text};

/// The most items of any list in an answer.
const MAX_ITEMS: usize = 100;
/// The longest answer text, in characters.
const MAX_ANSWER: usize = 4_000;
/// The longest quote, passage or flag text, in characters.
const MAX_TEXT: usize = 1_000;

fn is_false(b: &bool) -> bool {
    !*b
}

/// A line of the document the copilot relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Citation {
    pub line: i64,
    pub quote: String,
    /// The line is not one the model was given: kept, not trusted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub out_of_range: bool,
}

/// The document copilot's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CopilotAnswer {
    pub answer: String,
    pub citations: Vec<Citation>,
}

/// Whether the document meets a criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Verdict {
    Met,
    Unmet,
    Unclear,
}

impl Verdict {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Unmet => "unmet",
            Verdict::Unclear => "unclear",
        }
    }
}

/// One criterion checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Criterion {
    pub criterion: String,
    pub verdict: Verdict,
    pub passage: String,
    pub line: Option<i64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub out_of_range: bool,
}

/// What a procurement flag is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FlagKind {
    Obligation,
    Deadline,
    Term,
}

impl FlagKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FlagKind::Obligation => "obligation",
            FlagKind::Deadline => "deadline",
            FlagKind::Term => "term",
        }
    }
}

/// An obligation, deadline or contract term the document states (consent
/// `legal` only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Flag {
    pub kind: FlagKind,
    pub text: String,
    pub line: Option<i64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub out_of_range: bool,
}

/// The procurement check's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProcurementAnswer {
    pub criteria: Vec<Criterion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
}

/// A module answer that fits its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Copilot(CopilotAnswer),
    Procurement(ProcurementAnswer),
}

fn in_range(line: i64, lines: usize) -> bool {
    line >= 1 && usize::try_from(line).is_ok_and(|l| l <= lines)
}

impl Answer {
    /// Reads `text` as the answer of the module that `asks` (the copilot)
    /// or checks `criteria` criteria: the answer, or every problem found.
    pub(crate) fn read(asks: bool, criteria: usize, text: &str) -> Result<Answer, Vec<String>> {
        if asks {
            return schema::parse(text, |a: &CopilotAnswer, problems| {
                check_text(problems, "answer", &a.answer, MAX_ANSWER);
                check_count(problems, "citations", a.citations.len(), MAX_ITEMS);
                for (i, c) in a.citations.iter().enumerate() {
                    check_text(
                        problems,
                        &format!("citations[{i}].quote"),
                        &c.quote,
                        MAX_TEXT,
                    );
                }
            })
            .map(Answer::Copilot);
        }
        schema::parse(text, |a: &ProcurementAnswer, problems| {
            if a.criteria.len() != criteria {
                problems.push(format!(
                    "criteria has {} entries for the {criteria} criteria given: one entry per criterion, in their order",
                    a.criteria.len()
                ));
            }
            for (i, c) in a.criteria.iter().enumerate() {
                check_text(problems, &format!("criteria[{i}].criterion"), &c.criterion, MAX_TEXT);
                check_text(problems, &format!("criteria[{i}].passage"), &c.passage, MAX_TEXT);
            }
            check_count(problems, "flags", a.flags.len(), MAX_ITEMS);
            for (i, f) in a.flags.iter().enumerate() {
                check_text(problems, &format!("flags[{i}].text"), &f.text, MAX_TEXT);
            }
        })
        .map(Answer::Procurement)
    }

    /// Marks every cited line that is not one of the `lines` the model was
    /// given: how many were marked.
    pub(crate) fn mark_lines(&mut self, lines: usize) -> usize {
        let mut marked = 0;
        let mut mark = |line: Option<i64>, out: &mut bool| {
            *out = line.is_some_and(|l| !in_range(l, lines));
            marked += usize::from(*out);
        };
        match self {
            Answer::Copilot(a) => {
                for c in &mut a.citations {
                    mark(Some(c.line), &mut c.out_of_range);
                }
            }
            Answer::Procurement(a) => {
                for c in &mut a.criteria {
                    mark(c.line, &mut c.out_of_range);
                }
                for f in &mut a.flags {
                    mark(f.line, &mut f.out_of_range);
                }
            }
        }
        marked
    }

    /// Drops the procurement flags (a meeting whose consent is not
    /// `legal`): how many there were.
    pub(crate) fn drop_flags(&mut self) -> usize {
        match self {
            Answer::Procurement(a) => std::mem::take(&mut a.flags).len(),
            Answer::Copilot(_) => 0,
        }
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Answer::Copilot(a) => serde_json::to_value(a),
            Answer::Procurement(a) => serde_json::to_value(a),
        }
        .unwrap_or(serde_json::Value::Null)
    }
}

/// A stored answer as it shows: plain text (the `v1` prompts), or the
/// structured answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stored {
    Text(String),
    Answer(Answer),
}

impl Stored {
    /// The answer stored for `module` under `prompt_version`: structured
    /// when the prompt asked for JSON and it reads as such, else its text.
    pub(crate) fn of(module: &str, prompt_version: &str, answer: &str) -> Stored {
        let plain = prompt_version.ends_with(".v1");
        let structured = match module {
            "copilot" => serde_json::from_str::<CopilotAnswer>(answer).map(Answer::Copilot),
            "procurement" => {
                serde_json::from_str::<ProcurementAnswer>(answer).map(Answer::Procurement)
            }
            _ => return Stored::Text(answer.to_string()),
        };
        match structured {
            Ok(a) if !plain => Stored::Answer(a),
            _ => Stored::Text(answer.to_string()),
        }
    }

    /// Its JSON for `--json` output: the object, or the text as a string.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Stored::Text(text) => serde_json::Value::String(text.clone()),
            Stored::Answer(a) => a.to_json(),
        }
    }
}

/// How a piece of a shown answer looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Text,
    Muted,
    Verdict(Verdict),
    /// Something not to trust: a line outside the document.
    Warning,
}

/// A shown line: its pieces.
pub(crate) type ShownLine = Vec<(Tone, String)>;

fn cited(line: Option<i64>, out_of_range: bool) -> Vec<(Tone, String)> {
    match line {
        Some(l) if out_of_range => vec![(
            Tone::Warning,
            format!(" [L{l}: not a line of the document]"),
        )],
        Some(l) => vec![(Tone::Muted, format!(" [L{l}]"))],
        None => Vec::new(),
    }
}

/// `stored` laid out as lines, text as it is (the caller strips escapes).
pub(crate) fn lines(stored: &Stored) -> Vec<ShownLine> {
    let mut out: Vec<ShownLine> = Vec::new();
    match stored {
        Stored::Text(text) => {
            out.extend(text.lines().map(|l| vec![(Tone::Text, l.to_string())]));
        }
        Stored::Answer(Answer::Copilot(a)) => {
            out.extend(a.answer.lines().map(|l| vec![(Tone::Text, l.to_string())]));
            for c in &a.citations {
                let mut line = vec![(Tone::Muted, format!("\u{201c}{}\u{201d}", c.quote))];
                line.extend(cited(Some(c.line), c.out_of_range));
                out.push(line);
            }
        }
        Stored::Answer(Answer::Procurement(a)) => {
            let mut counts = [0; 3];
            for c in &a.criteria {
                counts[c.verdict as usize] += 1;
                let mut line = vec![
                    (Tone::Verdict(c.verdict), c.verdict.as_str().to_string()),
                    (Tone::Text, format!(" {}", c.criterion)),
                    (
                        Tone::Muted,
                        format!(" \u{2014} \u{201c}{}\u{201d}", c.passage),
                    ),
                ];
                line.extend(cited(c.line, c.out_of_range));
                out.push(line);
            }
            out.push(vec![(
                Tone::Muted,
                format!(
                    "{} met, {} unmet, {} unclear",
                    counts[0], counts[1], counts[2]
                ),
            )]);
            for f in &a.flags {
                let mut line = vec![
                    (Tone::Muted, format!("{} ", f.kind.as_str())),
                    (Tone::Text, f.text.clone()),
                ];
                line.extend(cited(f.line, f.out_of_range));
                out.push(line);
            }
        }
    }
    out
}

/// A shown line as plain text.
pub(crate) fn plain(line: &ShownLine) -> String {
    line.iter().map(|(_, s)| s.as_str()).collect()
}
