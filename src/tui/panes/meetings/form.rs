//! The dashboard's in-place forms: a decision, an action item (text,
//! owner, due date; new or edited), a note of several lines, a consent
//! level, the path of a transcript file to attach. Text input is ratatui-textarea's, as the AI pane's prompt.
//!
//! A one-line field takes the `[prompt]` keys: `submit` moves to the next
//! field, and on the last checks the form and hands back the [`Write`];
//! `back` drops the form. A note takes the `[compose]` keys: enter is a new
//! line, `submit` stores it.

use crossterm::event::KeyEvent;
use ratatui::style::Style;
use ratatui_textarea::TextArea;

use super::Write;
use crate::store::meetings::Consent;
use crate::store::meetings::actions::ActionRow;
use crate::tui::keymap::Action;

/// An action item's text, owner and due date (YYYY-MM-DD).
type ActionFields = (String, Option<String>, Option<String>);

/// What a form is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormKind {
    Decision { meeting: i64 },
    NewAction { meeting: i64 },
    EditAction { id: i64 },
    Note { meeting: i64 },
    Consent { meeting: i64 },
    Transcript { meeting: i64 },
}

/// One input of a form.
pub(crate) struct Field {
    pub label: &'static str,
    pub input: TextArea<'static>,
}

impl Field {
    fn new(label: &'static str, text: &str, placeholder: &str) -> Field {
        let mut input = TextArea::from(text.lines().map(str::to_string).collect::<Vec<_>>());
        input.set_cursor_line_style(Style::default());
        input.set_placeholder_text(placeholder);
        input.move_cursor(ratatui_textarea::CursorMove::Bottom);
        input.move_cursor(ratatui_textarea::CursorMove::End);
        Field { label, input }
    }

    pub fn text(&self) -> String {
        self.input.lines().join("\n")
    }
}

/// A form open in the pane.
pub(crate) struct Form {
    pub kind: FormKind,
    pub fields: Vec<Field>,
    /// The field with the cursor.
    pub at: usize,
}

/// What a key did to a form.
#[derive(Debug, PartialEq)]
pub(crate) enum FormOutcome {
    Editing,
    Cancelled,
    /// The form is not right yet: why, and what to write.
    Invalid(String),
    Done(Write),
    /// Attach the transcript file at `path` (as typed) to `meeting`.
    Attach {
        meeting: i64,
        path: String,
    },
}

impl Form {
    fn with(kind: FormKind, fields: Vec<Field>) -> Form {
        Form {
            kind,
            fields,
            at: 0,
        }
    }

    pub fn decision(meeting: i64) -> Form {
        Form::with(
            FormKind::Decision { meeting },
            vec![Field::new("Decision", "", "what was decided")],
        )
    }

    fn action_fields(text: &str, owner: &str, due: &str) -> Vec<Field> {
        vec![
            Field::new("Action", text, "what is to be done"),
            Field::new("Owner", owner, "email or name (may be empty)"),
            Field::new("Due", due, "YYYY-MM-DD (may be empty)"),
        ]
    }

    pub fn new_action(meeting: i64) -> Form {
        Form::with(
            FormKind::NewAction { meeting },
            Form::action_fields("", "", ""),
        )
    }

    pub fn edit_action(action: &ActionRow) -> Form {
        Form::with(
            FormKind::EditAction { id: action.id },
            Form::action_fields(
                &action.text,
                action.owner.as_deref().unwrap_or(""),
                action.due.as_deref().unwrap_or(""),
            ),
        )
    }

    pub fn note(meeting: i64) -> Form {
        Form::with(
            FormKind::Note { meeting },
            vec![Field::new(
                "Note",
                "",
                "type the note; enter starts a new line",
            )],
        )
    }

    pub fn consent(meeting: i64, now: Consent) -> Form {
        Form::with(
            FormKind::Consent { meeting },
            vec![Field::new("Consent", now.as_str(), "basic, plus or legal")],
        )
    }

    pub fn transcript(meeting: i64) -> Form {
        Form::with(
            FormKind::Transcript { meeting },
            vec![Field::new(
                "File",
                "",
                "path of a .vtt, .srt or .txt file (~ and relative paths work)",
            )],
        )
    }

    /// A note: enter is a new line.
    pub fn multiline(&self) -> bool {
        matches!(self.kind, FormKind::Note { .. })
    }

    /// The form's title.
    pub fn title(&self) -> &'static str {
        match self.kind {
            FormKind::Decision { .. } => "New decision",
            FormKind::NewAction { .. } => "New action item",
            FormKind::EditAction { .. } => "Edit action item",
            FormKind::Note { .. } => "New note",
            FormKind::Consent { .. } => "Consent level",
            FormKind::Transcript { .. } => "Attach a transcript",
        }
    }

    pub fn key(&mut self, action: Option<Action>, key: KeyEvent) -> FormOutcome {
        match action {
            Some(Action::Back) => FormOutcome::Cancelled,
            Some(Action::Submit) if !self.multiline() && self.at + 1 < self.fields.len() => {
                self.at += 1;
                FormOutcome::Editing
            }
            Some(Action::NextField) if !self.fields.is_empty() => {
                self.at = (self.at + 1) % self.fields.len();
                FormOutcome::Editing
            }
            Some(Action::PrevField) if !self.fields.is_empty() => {
                self.at = (self.at + self.fields.len() - 1) % self.fields.len();
                FormOutcome::Editing
            }
            Some(Action::Submit) => match (self.kind, self.value(0)) {
                (FormKind::Transcript { .. }, path) if path.is_empty() => FormOutcome::Invalid(
                    "no file given: type the transcript's path, or esc to drop it".into(),
                ),
                (FormKind::Transcript { meeting }, path) => FormOutcome::Attach { meeting, path },
                _ => self.submit(),
            },
            _ => {
                if let Some(field) = self.fields.get_mut(self.at) {
                    field.input.input(key);
                }
                FormOutcome::Editing
            }
        }
    }

    /// The form checked and handed back, or the field at fault.
    fn submit(&mut self) -> FormOutcome {
        match self.write() {
            Ok(write) => FormOutcome::Done(write),
            Err((field, message)) => {
                self.at = field;
                FormOutcome::Invalid(message)
            }
        }
    }

    fn value(&self, field: usize) -> String {
        self.fields
            .get(field)
            .map(|f| f.text().trim().to_string())
            .unwrap_or_default()
    }

    fn optional(&self, field: usize) -> Option<String> {
        Some(self.value(field)).filter(|v| !v.is_empty())
    }

    /// The change the form asks for, or the field that is wrong and why.
    fn write(&self) -> Result<Write, (usize, String)> {
        let text = self.value(0);
        let needed = |what: &str| {
            Err((
                0,
                format!("the {what} is empty: type it, or esc to drop it"),
            ))
        };
        Ok(match self.kind {
            FormKind::Decision { meeting } => {
                if text.is_empty() {
                    return needed("decision");
                }
                Write::Decision { meeting, text }
            }
            FormKind::Note { meeting } => {
                if text.is_empty() {
                    return needed("note");
                }
                // A note keeps its own line breaks and indents.
                Write::Note {
                    meeting,
                    text: self.fields[0].text().trim_end().to_string(),
                }
            }
            FormKind::Consent { meeting } => match Consent::parse(&text.to_lowercase()) {
                Some(consent) => Write::Consent { meeting, consent },
                None => {
                    return Err((
                        0,
                        format!("{text:?} is not a consent level: write basic, plus or legal"),
                    ));
                }
            },
            FormKind::Transcript { .. } => {
                return Err((0, "a transcript is read from its file first".into()));
            }
            FormKind::NewAction { meeting } => {
                let (text, owner, due) = self.action()?;
                Write::NewAction {
                    meeting,
                    text,
                    owner,
                    due,
                }
            }
            FormKind::EditAction { id } => {
                let (text, owner, due) = self.action()?;
                Write::EditAction {
                    id,
                    text,
                    owner,
                    due,
                }
            }
        })
    }

    /// An action item's text, owner and due date, checked; else the
    /// field at fault and why.
    fn action(&self) -> Result<ActionFields, (usize, String)> {
        let text = self.value(0);
        if text.is_empty() {
            return Err((
                0,
                "the action item is empty: type it, or esc to drop it".into(),
            ));
        }
        let due = match self.optional(2) {
            None => None,
            Some(due) => Some(
                chrono::NaiveDate::parse_from_str(&due, "%Y-%m-%d")
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .map_err(|_| {
                        (
                            2,
                            format!(
                                "{due:?} is not a date: write the due date as YYYY-MM-DD, e.g. 2026-12-31"
                            ),
                        )
                    })?,
            ),
        };
        Ok((text, self.optional(1), due))
    }
}
