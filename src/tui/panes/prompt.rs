//! One-line inputs (search, replace, go to line, new file, rename, the vim
//! command line) and yes/no questions, drawn over the status line. Text
//! input is ratatui-textarea's.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};
use ratatui_textarea::TextArea;
use unicode_width::UnicodeWidthStr;

use crate::editor::search::{Query, QueryError};
use crate::error::Hint;
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;

/// What a prompt's answer is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PromptKind {
    /// Text to find in the editor: literal or a regex (`alt-r` switches),
    /// down the text or up (vim's `?`).
    Find {
        regex: bool,
        backward: bool,
    },
    ReplacePattern,
    ReplaceWith {
        pattern: String,
    },
    GotoLine,
    NewFile,
    NewFolder,
    Rename {
        from: String,
    },
    Command,
    Commit {
        amend: bool,
    },
    /// A shell line to run as a job of the workspace.
    RunCommand,
    /// A regex to find in the selected job's log.
    LogSearch,
    /// Why a hunk of a patch in review is rejected (may be empty).
    RejectReason {
        patch_id: i64,
        file: usize,
        hunk: usize,
    },
}

impl PromptKind {
    fn label(&self) -> String {
        match self {
            PromptKind::Find { regex, backward } => format!(
                "{} [{}]: ",
                if *backward { "search up" } else { "search" },
                if *regex { "regex" } else { "literal" }
            ),
            PromptKind::ReplacePattern => "replace (regex): ".into(),
            PromptKind::ReplaceWith { pattern } => {
                format!("replace {pattern} with ($1 for groups): ")
            }
            PromptKind::GotoLine => "go to line: ".into(),
            PromptKind::NewFile => "new file: ".into(),
            PromptKind::NewFolder => "new folder: ".into(),
            PromptKind::Rename { from } => format!("rename {from} to: "),
            PromptKind::Command => ":".into(),
            PromptKind::Commit { amend: false } => "commit message: ".into(),
            PromptKind::Commit { amend: true } => "amend (empty keeps the message): ".into(),
            PromptKind::RunCommand => "run in the workspace: ".into(),
            PromptKind::LogSearch => "search the log (regex): ".into(),
            PromptKind::RejectReason { .. } => "why? (sent to the model, optional): ".into(),
        }
    }
}

/// What a yes/no question confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfirmKind {
    Delete {
        path: String,
    },
    DiscardTab {
        index: usize,
    },
    /// Discard a file's unstaged changes, or one hunk of them.
    Discard {
        path: String,
        hunk: Option<usize>,
    },
    /// Cancel a queued, retrying or running job.
    CancelJob {
        id: i64,
        title: String,
    },
    /// Quit while this process runs jobs: leave them to a worker, cancel
    /// them, or wait for them (the titles of the running jobs).
    QuitWithJobs {
        running: Vec<String>,
    },
    /// Quit with unsaved changes (kept as drafts for the next start).
    QuitUnsaved {
        files: usize,
    },
}

impl ConfirmKind {
    /// The question, as the status line asks it.
    pub(crate) fn question(&self) -> String {
        match self {
            ConfirmKind::Delete { path } => format!("delete {path}?"),
            ConfirmKind::Discard {
                path,
                hunk: Some(_),
            } => format!("discard this hunk of {path} from the working tree?"),
            ConfirmKind::Discard { path, hunk: None } => {
                format!("discard every unstaged change of {path}?")
            }
            ConfirmKind::DiscardTab { .. } => {
                "close the tab and drop its unsaved changes?".to_string()
            }
            ConfirmKind::CancelJob { id, title } => {
                format!("cancel job {id} ({})?", crate::tui::ansi::strip(title))
            }
            ConfirmKind::QuitUnsaved { files } => format!(
                "quit? {files} file{} with unsaved changes (kept as drafts for the next start)",
                if *files == 1 { "" } else { "s" },
            ),
            ConfirmKind::QuitWithJobs { running } => {
                let (n, it) = match running.len() {
                    1 => ("1 job".to_string(), "it"),
                    n => (format!("{n} jobs"), "them"),
                };
                let titles: Vec<String> =
                    running.iter().map(|t| crate::tui::ansi::strip(t)).collect();
                format!(
                    "{n} running: {} — a worker runs {it} again from the start",
                    titles.join(", ")
                )
            }
        }
    }

    /// The answer keys, drawn before the question so that they are never
    /// cut.
    pub(crate) fn answers(&self) -> &'static str {
        match self {
            ConfirmKind::QuitWithJobs { .. } => {
                " [l]eave to a worker  [c]ancel  [w]ait  [esc] stay "
            }
            _ => " [y]es / [n]o ",
        }
    }
}

pub(crate) struct Prompt {
    pub kind: PromptKind,
    input: TextArea<'static>,
    /// Why the text cannot be taken as it is (a search's bad regex), shown
    /// after it.
    error: Option<String>,
}

/// The answer to a key in a prompt.
pub(crate) enum PromptOutcome {
    Editing,
    Cancelled,
    Submitted(String),
}

impl Prompt {
    pub fn new(kind: PromptKind, initial: &str) -> Prompt {
        let mut input = TextArea::default();
        input.set_cursor_line_style(ratatui::style::Style::default());
        input.insert_str(initial);
        Prompt {
            kind,
            input,
            error: None,
        }
    }

    /// `action` is what the `[prompt]` keymap table binds the key to; a
    /// key bound to nothing is typed.
    pub fn handle_key(&mut self, action: Option<Action>, key: KeyEvent) -> PromptOutcome {
        match action {
            Some(Action::Back) => return PromptOutcome::Cancelled,
            Some(Action::Submit) => {
                self.check();
                if self.error.is_none() {
                    return PromptOutcome::Submitted(self.text());
                }
            }
            Some(Action::ToggleRegex) if matches!(self.kind, PromptKind::Find { .. }) => {
                if let PromptKind::Find { regex, .. } = &mut self.kind {
                    *regex = !*regex;
                }
                self.check();
            }
            _ => {
                self.input.input(key);
                self.check();
            }
        }
        PromptOutcome::Editing
    }

    /// Checks a search's text as it is typed: a bad regex is said in the
    /// prompt (and Enter keeps the prompt open), never taken.
    fn check(&mut self) {
        self.error = match &self.kind {
            PromptKind::Find { regex: true, .. } if !self.text().is_empty() => Query {
                pattern: self.text(),
                regex: true,
            }
            .compile()
            .err()
            .map(|e| match e {
                // Short, beside the text: what is wrong and the way out.
                QueryError::BadRegex { why, .. } => {
                    format!("not a valid regex: {why} · alt-r searches the text literally")
                }
                other => format!("{other}: {}", other.hint()),
            }),
            _ => None,
        };
    }

    pub fn text(&self) -> String {
        self.input.lines().first().cloned().unwrap_or_default()
    }

    /// Draws the prompt in `area` (one line); returns the cursor position.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) -> (u16, u16) {
        // Over the status line: nothing of it may show through.
        Clear.render(area, buf);
        Block::default().style(theme.ui("status")).render(area, buf);
        let label = self.kind.label();
        let width = (label.chars().count() as u16).min(area.width / 2);
        Paragraph::new(Line::styled(label, theme.ui("title")))
            .style(theme.ui("status"))
            .render(Rect { width, ..area }, buf);
        let field = Rect {
            x: area.x + width,
            width: area.width - width,
            ..area
        };
        self.input.render(field, buf);
        let col = self.input.cursor().1;
        if let Some(error) = &self.error {
            // After the text typed, as far as the line goes.
            let typed = (self.text().width() as u16 + 2).min(field.width);
            let room = Rect {
                x: field.x + typed,
                width: field.width - typed,
                ..field
            };
            Paragraph::new(Line::styled(error.clone(), theme.ui("error")))
                .style(theme.ui("status"))
                .render(room, buf);
        }
        (
            field.x + (col as u16).min(field.width.saturating_sub(1)),
            field.y,
        )
    }
}

pub(crate) fn render_question(
    keys: &str,
    question: &str,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) {
    // Over the status line: nothing of it may show past the question. The
    // answer keys come first, so a narrow terminal cuts the question (with
    // an ellipsis), never the keys.
    Clear.render(area, buf);
    let room = usize::from(area.width).saturating_sub(keys.width() + 1);
    let question = super::fit(question, room.min(question.width()), false);
    Paragraph::new(Line::from(vec![
        Span::styled(keys.to_string(), theme.ui("title")),
        Span::styled(format!(" {question}"), theme.ui("warning")),
    ]))
    .style(theme.ui("status"))
    .render(area, buf);
}
