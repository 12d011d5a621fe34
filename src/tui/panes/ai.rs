//! The AI pane: a multi-line prompt, the context it will send (the open
//! buffer's file and the files added to it, each with its token estimate,
//! as `ai::context` budgets them) shown before sending, then the model's
//! answer streamed live from the `ask` job's log, as the jobs pane follows
//! a log. When the job succeeds with a patch, the app opens it in the
//! review pane. A conversation of the workspace can be continued.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use ratatui_textarea::TextArea;
use serde_json::{Value, json};

use super::job_log::JobLog;
use super::{frame, inner};
use crate::ai::context::{estimate_tokens, is_never_sent};
use crate::jobs::queue::{LogLine, Stream};
use crate::store::conversations::Conversation;
use crate::tui::app::{Effect, Outcome};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;

/// One file of the context: its path and its token estimate, once read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContextFile {
    pub path: String,
    pub tokens: Option<usize>,
}

/// Where the last request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AskState {
    /// Nothing sent yet (or a new prompt is being written).
    Idle,
    /// Queued as job `id`; its answer streams into the log.
    Running {
        id: i64,
    },
    /// The answer came with patch `patch_id` (or no change at all).
    Done {
        id: i64,
        patch_id: Option<i64>,
    },
    Failed {
        id: i64,
        error: String,
    },
}

/// What the pane asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AiOp {
    /// Queue an `ask` job with this payload.
    Send(Value),
    /// Offer the workspace's files to add to the context.
    PickFile,
    /// Offer the workspace's conversations to continue.
    PickConversation,
    Leave,
}

pub(crate) struct AiPane {
    input: TextArea<'static>,
    /// The open buffer's file, always sent, and the files added.
    pub open_file: Option<ContextFile>,
    pub files: Vec<ContextFile>,
    /// The conversation this prompt continues; a new one otherwise.
    pub conversation: Option<Conversation>,
    pub state: AskState,
    /// The stored answer: the `ask` job's log as polled, shown once the
    /// job ends (and while it runs if no live text reaches this process).
    pub log: JobLog,
    /// The answer as this process's runner streams it, with kollega's own
    /// lines from the polled log between; shown while the job runs.
    pub live: JobLog,
    /// The prompt as it was last sent: the same text is not "unsent".
    sent_prompt: Option<String>,
}

/// An empty prompt field, or one holding `text`.
fn prompt_field(text: &str) -> TextArea<'static> {
    let mut input = if text.is_empty() {
        TextArea::default()
    } else {
        TextArea::new(text.split('\n').map(str::to_string).collect())
    };
    input.set_cursor_line_style(Style::default());
    input.set_placeholder_text("What should change? (ctrl-s sends)");
    input
}

impl AiPane {
    pub fn new() -> AiPane {
        AiPane {
            input: prompt_field(""),
            sent_prompt: None,
            open_file: None,
            files: Vec::new(),
            conversation: None,
            state: AskState::Idle,
            log: JobLog::new(),
            live: JobLog::new(),
        }
    }

    pub fn prompt(&self) -> String {
        self.input.lines().join("\n")
    }

    /// The prompt typed and not sent yet (empty when there is none): what
    /// the workspace's editor state keeps across a restart.
    pub fn unsent_prompt(&self) -> String {
        let prompt = self.prompt();
        if self.sent_prompt.as_deref() == Some(prompt.as_str()) {
            String::new()
        } else {
            prompt
        }
    }

    /// Puts back a prompt kept from the last run (or clears the field),
    /// the cursor at its end.
    pub fn restore_prompt(&mut self, text: &str) {
        self.input = prompt_field(text);
        self.input.move_cursor(ratatui_textarea::CursorMove::Bottom);
        self.input.move_cursor(ratatui_textarea::CursorMove::End);
        self.sent_prompt = None;
    }

    /// The tokens of the context as far as its files are read.
    pub fn context_tokens(&self) -> usize {
        self.open_file
            .iter()
            .chain(&self.files)
            .filter_map(|f| f.tokens)
            .sum::<usize>()
            + estimate_tokens(&self.prompt())
    }

    /// The job whose log the pane follows while it runs.
    pub fn running_job(&self) -> Option<i64> {
        match self.state {
            AskState::Running { id } => Some(id),
            _ => None,
        }
    }

    /// Adds `path` to the context; an error when it may never be sent or
    /// is there already.
    pub fn add_file(&mut self, path: &str) -> Result<(), String> {
        if is_never_sent(path) {
            return Err(format!(
                "{path} may hold secrets: kollega never sends it to a model"
            ));
        }
        let here = self
            .open_file
            .iter()
            .chain(&self.files)
            .any(|f| f.path == path);
        if here {
            return Err(format!("{path} is in the context already"));
        }
        self.files.push(ContextFile {
            path: path.to_string(),
            tokens: None,
        });
        Ok(())
    }

    /// A file of the context was read: its estimate.
    pub fn file_read(&mut self, path: &str, text: &str) {
        for file in self.open_file.iter_mut().chain(self.files.iter_mut()) {
            if file.path == path {
                file.tokens = Some(estimate_tokens(text));
            }
        }
    }

    /// The context's file paths, the open buffer's first.
    pub fn context_paths(&self) -> Vec<String> {
        self.open_file
            .iter()
            .chain(&self.files)
            .map(|f| f.path.clone())
            .collect()
    }

    /// The `ask` job's payload for what is typed and chosen.
    pub fn payload(&self) -> Value {
        json!({
            "prompt": self.prompt(),
            "files": self.context_paths(),
            "provider": Value::Null,
            "model": Value::Null,
            "conversation": self.conversation.as_ref().map(|c| c.id),
        })
    }

    /// The job was queued: its answer streams here.
    pub fn sent(&mut self, id: i64) {
        self.sent_prompt = Some(self.prompt());
        self.state = AskState::Running { id };
        self.log.reset(Some(id));
        self.live.reset(Some(id));
    }

    /// Text job `id` streamed; returns whether the pane follows it.
    pub fn streamed(&mut self, id: i64, text: &str) -> bool {
        if self.running_job() != Some(id) {
            return false;
        }
        self.live.stream_text(Stream::Stdout, text);
        true
    }

    /// Whether the answer shown is the live one.
    fn shows_live(&self) -> bool {
        self.running_job().is_some() && self.live.len() > 0
    }

    /// The answer the pane shows.
    fn shown_log(&mut self) -> &mut JobLog {
        if self.shows_live() {
            &mut self.live
        } else {
            &mut self.log
        }
    }

    /// Lines a poll found: all kept for after the end, and kollega's own
    /// also shown between the live text.
    pub fn polled(&mut self, lines: Vec<LogLine>) {
        if self.shows_live() {
            for line in lines.iter().filter(|l| l.stream == Stream::Info) {
                self.live.push_line(Stream::Info, line.line.clone());
            }
        }
        self.log.append(lines);
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        match action {
            Action::Submit => {
                if self.running_job().is_some() {
                    return Outcome::Effect(Effect::Notify(
                        "the model is still answering; the jobs view (alt-j) can cancel it".into(),
                        true,
                    ));
                }
                if self.prompt().trim().is_empty() {
                    return Outcome::Effect(Effect::Notify(
                        "type what should change first".into(),
                        true,
                    ));
                }
                Outcome::Effect(Effect::Ai(AiOp::Send(self.payload())))
            }
            Action::AddContext => Outcome::Effect(Effect::Ai(AiOp::PickFile)),
            Action::Conversations => Outcome::Effect(Effect::Ai(AiOp::PickConversation)),
            Action::NewConversation => {
                self.conversation = None;
                self.state = AskState::Idle;
                self.log.reset(None);
                self.live.reset(None);
                self.input = prompt_field("");
                self.sent_prompt = None;
                Outcome::Redraw
            }
            Action::PageUp | Action::PageDown => {
                let log = self.shown_log();
                let page = log.page();
                log.scroll(if action == Action::PageUp {
                    -page
                } else {
                    page
                });
                Outcome::Redraw
            }
            Action::Back => Outcome::Effect(Effect::Ai(AiOp::Leave)),
            _ => Outcome::Ignored,
        }
    }

    /// A key bound to nothing in the `[ai]` table: typed into the prompt.
    pub fn type_key(&mut self, key: KeyEvent) -> bool {
        self.input.input(key)
    }

    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        focused: bool,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let context_rows = (self.files.len() as u16 + 1).clamp(1, 6) + 2;
        let prompt_rows = (self.input.lines().len() as u16).clamp(3, 8) + 2;
        let [context, prompt, answer] = split(area, [context_rows, prompt_rows]);

        let conversation = match &self.conversation {
            Some(c) => format!(
                " Context — continuing \"{}\" ({}/{}) ",
                crate::tui::ansi::strip(&c.title),
                c.provider,
                c.model
            ),
            None => " Context — new conversation ".to_string(),
        };
        frame(&conversation, false, theme).render(context, buf);
        let estimate = |f: &ContextFile| match f.tokens {
            Some(t) => format!("~{t} tokens"),
            None => "reading…".to_string(),
        };
        let mut lines: Vec<Line> = Vec::new();
        match &self.open_file {
            Some(f) => lines.push(Line::from(vec![
                Span::styled(format!(" {} ", f.path), theme.ui("foreground")),
                Span::styled(format!("(open) {}", estimate(f)), theme.ui("muted")),
            ])),
            None => lines.push(Line::styled(
                " no file open: ctrl-o adds files",
                theme.ui("muted"),
            )),
        }
        for f in &self.files {
            lines.push(Line::from(vec![
                Span::styled(format!(" {} ", f.path), theme.ui("foreground")),
                Span::styled(estimate(f), theme.ui("muted")),
            ]));
        }
        Paragraph::new(lines).render(inner(context), buf);
        let total = format!(
            " ~{} tokens with the prompt (4 bytes a token) ",
            self.context_tokens()
        );
        let width = total.chars().count() as u16;
        if context.width > width + 2 {
            Paragraph::new(Span::styled(total, theme.ui("title"))).render(
                Rect {
                    x: context.x + context.width - width - 1,
                    y: context.y + context.height - 1,
                    width,
                    height: 1,
                },
                buf,
            );
        }

        frame(" Prompt (ctrl-s sends) ", focused, theme).render(prompt, buf);
        let field = inner(prompt);
        self.input.render(field, buf);
        let cursor = self.input.cursor();
        let (row, col) = (cursor.0, cursor.1);

        let title = match &self.state {
            AskState::Idle => " Answer ".to_string(),
            AskState::Running { id } => format!(" Answer (job {id}, streaming…) "),
            AskState::Done {
                id,
                patch_id: Some(p),
            } => format!(" Answer (job {id}) — patch {p} opened for review "),
            AskState::Done { id, patch_id: None } => {
                format!(" Answer (job {id}) — no change proposed ")
            }
            AskState::Failed { id, .. } => format!(" Answer (job {id} failed) "),
        };
        if self.state == AskState::Idle {
            frame(&title, false, theme).render(answer, buf);
            Paragraph::new(Line::styled(
                "the model's answer streams here; its patch then opens for review",
                theme.ui("muted"),
            ))
            .render(inner(answer), buf);
        } else {
            self.shown_log().render(answer, buf, &title, false, theme);
        }
        if let AskState::Failed { error, .. } = &self.state {
            let body = inner(answer);
            if body.height > 0 {
                Paragraph::new(Span::styled(
                    crate::tui::ansi::strip(error),
                    theme.ui("error"),
                ))
                .render(
                    Rect {
                        y: body.y + body.height - 1,
                        height: 1,
                        ..body
                    },
                    buf,
                );
            }
        }
        focused.then(|| {
            (
                field.x + (col as u16).min(field.width.saturating_sub(1)),
                field.y + (row as u16).min(field.height.saturating_sub(1)),
            )
        })
    }
}

/// `area` cut into rows of the given heights and the rest.
fn split(area: Rect, heights: [u16; 2]) -> [Rect; 3] {
    let first = heights[0].min(area.height);
    let second = heights[1].min(area.height - first);
    [
        Rect {
            height: first,
            ..area
        },
        Rect {
            y: area.y + first,
            height: second,
            ..area
        },
        Rect {
            y: area.y + first + second,
            height: area.height - first - second,
            ..area
        },
    ]
}

#[cfg(test)]
mod tests;
