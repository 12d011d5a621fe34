//! Key bindings as data: `keymaps/default.toml`, an optional named keymap
//! (e.g. `vim`) and the user's `keymap.toml`, each merged over the last.
//!
//! A bad file is reported with its name, line and key, and the bindings
//! loaded so far stay in use.

use std::collections::BTreeMap;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Declares [`Action`] with its name in keymap files and its description in
/// the help overlay and the palette, in one place.
macro_rules! actions {
    ($($variant:ident => $name:literal, $describe:literal;)*) => {
        /// Everything a key can do in the workstation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            pub const ALL: &[Action] = &[$(Action::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            pub fn describe(self) -> &'static str {
                match self {
                    $(Action::$variant => $describe,)*
                }
            }
        }
    };
}

actions! {
    Quit => "quit", "quit kollega";
    FocusNext => "focus_next", "focus the next pane";
    FocusPrev => "focus_prev", "focus the previous pane";
    Help => "help", "show or hide the key help";
    Palette => "palette", "command palette: every action by name";
    Finder => "finder", "find a file by name (fuzzy)";
    Grep => "grep", "grep: find text in every file of the workspace";
    ToggleRegex => "toggle_regex", "search and grep: read the text as a regular expression, or literally";
    ToggleTree => "toggle_tree", "hide or show the file tree";
    NarrowTree => "narrow_tree", "make the file tree narrower";
    WidenTree => "widen_tree", "make the file tree wider";
    Up => "up", "move up";
    Down => "down", "move down";
    Left => "left", "move left";
    Right => "right", "move right";
    SelectUp => "select_up", "extend the selection up";
    SelectDown => "select_down", "extend the selection down";
    SelectLeft => "select_left", "extend the selection left";
    SelectRight => "select_right", "extend the selection right";
    PageUp => "page_up", "page up";
    PageDown => "page_down", "page down";
    Top => "top", "go to the top";
    Bottom => "bottom", "go to the bottom";
    Open => "open", "open workspace, folder or file";
    Back => "back", "close folder, go back";
    WordForward => "word_forward", "next word start";
    WordBackward => "word_backward", "previous word start";
    WordEnd => "word_end", "next word end";
    LineStart => "line_start", "line start";
    LineEnd => "line_end", "line end";
    Newline => "newline", "new line with indent";
    Indent => "indent", "insert a soft tab";
    Backspace => "backspace", "delete before the cursor";
    DeleteForward => "delete_forward", "delete under the cursor";
    Save => "save", "save the file";
    CloseTab => "close_tab", "close the tab";
    NextTab => "next_tab", "next tab";
    PrevTab => "prev_tab", "previous tab";
    MoveTabLeft => "move_tab_left", "move the tab left";
    MoveTabRight => "move_tab_right", "move the tab right";
    Undo => "undo", "undo";
    Redo => "redo", "redo";
    Copy => "copy", "copy the selection (also to the terminal clipboard)";
    Cut => "cut", "cut the selection";
    Paste => "paste", "paste";
    SelectAll => "select_all", "select everything";
    Find => "find", "search: the editor for literal text (alt-r in the prompt: a regex; vim's / starts as one), a job's log by regex";
    FindBackward => "find_backward", "search up the text (vim's ?)";
    ToggleWrap => "toggle_wrap", "soft wrap: long lines wrap at the window's width (no sideways scrolling)";
    FindNext => "find_next", "next match";
    FindPrev => "find_prev", "previous match";
    Replace => "replace", "replace all matches (regex)";
    GotoLine => "goto_line", "go to line";
    MatchBracket => "match_bracket", "jump to the matching bracket";
    SelectLineStart => "select_line_start", "extend the selection to the line start (first non-blank, then column 0)";
    SelectLineEnd => "select_line_end", "extend the selection to the line end";
    SelectWordBackward => "select_word_backward", "extend the selection to the previous word start";
    SelectWordForward => "select_word_forward", "extend the selection to the next word start";
    Outdent => "outdent", "outdent the line or the selected lines by one indent";
    ToggleComment => "toggle_comment", "comment or uncomment the line or the selected lines";
    MoveLinesUp => "move_lines_up", "move the line or the selected lines up";
    MoveLinesDown => "move_lines_down", "move the line or the selected lines down";
    DuplicateLines => "duplicate_lines", "duplicate the line or the selected lines below";
    DuplicateLinesUp => "duplicate_lines_up", "duplicate the line or the selected lines above";
    AddNextMatch => "add_next_match", "select the word, then add a cursor at its next occurrence";
    NewFile => "new_file", "create a file";
    NewFolder => "new_folder", "create a folder";
    Rename => "rename", "rename or move";
    Delete => "delete", "delete (asks first)";
    InsertMode => "insert_mode", "insert before the cursor";
    Append => "append", "insert after the cursor";
    OpenBelow => "open_below", "open a line below and insert";
    NormalMode => "normal_mode", "back to normal mode";
    VisualMode => "visual_mode", "start a selection";
    CommandLine => "command_line", "command line (:w :q :e PATH, :N)";
    DeleteLine => "delete_line", "cut the line";
    YankLine => "yank_line", "copy the line";
    PasteAfter => "paste_after", "paste after the cursor";
    Changes => "changes", "git changes: show or hide";
    StageToggle => "stage_toggle", "stage or unstage the file or hunk";
    SplitHunk => "split_hunk", "split the hunk (like git add -p's s)";
    Discard => "discard", "discard the file's or hunk's changes (asks first)";
    Commit => "commit", "commit what is staged";
    Amend => "amend", "amend the last commit";
    Push => "push", "git push (in the background)";
    Pull => "pull", "git pull --ff-only (in the background)";
    ToggleStaged => "toggle_staged", "show the staged or the unstaged diff";
    Refresh => "refresh", "refresh the git status";
    EditFile => "edit_file", "open the changed file in the editor";
    UndoApply => "undo_apply", "undo the last apply of a patch (every file of it)";
    RedoApply => "redo_apply", "redo the apply undone last";
    Regenerate => "regenerate", "ask the model again for the rejected hunks, with their reasons";
    Jobs => "jobs", "jobs: show or hide the jobs and their logs";
    RunTask => "run_task", "Run task…: pick a task of the workspace and run it as a job";
    RunCommand => "run_command", "Run command…: run a shell line in the workspace as a job";
    JobDetails => "job_details", "the job's command, directory, environment, attempts and error";
    RetryJob => "retry_job", "retry the job (failed, dead, cancelled or interrupted)";
    CancelJob => "cancel_job", "cancel the job (asks first)";
    FixWithAi => "fix_with_ai", "ask the model to fix this failed job";
    FilterStatus => "filter_status", "cycle the status filter (all, queued, running, …)";
    FilterKind => "filter_kind", "cycle the kind filter (all, command, git-push, …)";
    CopyCommand => "copy_command", "copy the job's command line (also to the terminal clipboard)";
    CopyLog => "copy_log", "copy the log lines in view (also to the terminal clipboard)";
    Ai => "ai", "AI: ask a model for a change, review it";
    Meetings => "meetings", "meetings: show or hide the dashboard of the next 7 days";
    MeetingsView => "stakeholders", "cycle the dashboard: meetings, stakeholders (their open actions, decisions, meetings), watched pages (the latest change)";
    NextItem => "next_item", "select the next action item (then module answer) of the meeting";
    PrevItem => "prev_item", "select the previous action item (or module answer) of the meeting";
    AddDecision => "add_decision", "record a decision of the selected meeting";
    AddActionItem => "add_action", "add an action item (text, owner, due date) to the selected meeting";
    EditActionItem => "edit_action", "edit the selected action item's text, owner and due date";
    CycleActionItem => "cycle_action", "move the selected action item on: open, doing, done (and open again)";
    AddNote => "add_note", "write a note (several lines) to the selected meeting";
    SetConsent => "set_consent", "set the meeting's consent level: basic, plus or legal (audit logged)";
    AttachTranscript => "attach_transcript", "attach a transcript file (WebVTT, SubRip or plain text) to the selected meeting";
    MeetingBrief => "brief", "ask the model for the meeting's pre-brief (before it) or post-brief (once it has begun), within its consent";
    AcceptHunk => "accept_hunk", "accept the hunk (git add -p's y)";
    RejectHunk => "reject_hunk", "reject the hunk, with a reason for the model";
    EditHunk => "edit_hunk", "edit the hunk's result before it is written";
    AcceptRest => "accept_rest", "accept this and the file's later hunks";
    RejectRest => "reject_rest", "reject this and the file's later hunks";
    WritePatch => "write_patch", "write the accepted hunks, all or nothing";
    ToggleSideBySide => "toggle_side_by_side", "show the diff unified or side by side";
    AddContext => "add_context", "add a file to what the model is sent";
    Conversations => "conversations", "continue a conversation of the workspace";
    NewConversation => "new_conversation", "start a new conversation";
    Submit => "submit", "take what was typed in the prompt";
    NextField => "next_field", "a form's next field (the dashboard's action item: text, owner, due)";
    PrevField => "prev_field", "a form's previous field";
    Yes => "yes", "answer yes to the question";
    No => "no", "answer no to the question";
    QuitLeave => "quit_leave", "quit and leave the running jobs to a worker, which runs them again from the start";
    QuitCancel => "quit_cancel", "quit and cancel the running jobs";
    QuitWait => "quit_wait", "quit once the running jobs have ended";
    TakeOther => "take_other", "take the other version (the draft, or the disk's); undo brings this one back";
    KeepCurrent => "keep_current", "keep the text shown (drop the draft, or keep yours over the disk's)";
    Vim => "vim", "a key of vim's grammar: counts, registers, operators, motions, text objects (see the vim section)";
}

impl Action {
    /// A move within a list, a log or a diff.
    pub fn is_movement(self) -> bool {
        matches!(
            self,
            Action::Up
                | Action::Down
                | Action::PageUp
                | Action::PageDown
                | Action::Top
                | Action::Bottom
        )
    }

    /// Whether the palette offers it: the answers of the overlays (submit,
    /// yes, no, take or keep a version, grep's regex switch) mean nothing
    /// anywhere else.
    pub fn in_palette(self) -> bool {
        !matches!(
            self,
            Action::Submit
                | Action::NextField
                | Action::PrevField
                | Action::Yes
                | Action::No
                | Action::QuitLeave
                | Action::QuitCancel
                | Action::QuitWait
                | Action::TakeOther
                | Action::KeepCurrent
                | Action::ToggleRegex
                | Action::Vim
        )
    }

    fn parse(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
}

/// A key with its modifiers, as bindings name it ("ctrl-c", "G",
/// "shift-down"). Shift is part of a character itself ("G"), so it only
/// counts for named keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyChord {
    code: KeyCodeKey,
    ctrl: bool,
    alt: bool,
    shift: bool,
}

/// The subset of key codes bindings can name, orderable for the help list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyCodeKey {
    Char(char),
    F(u8),
    Named(&'static str),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("space", KeyCode::Char(' ')),
];

impl KeyChord {
    pub fn parse(text: &str) -> Option<KeyChord> {
        let (mut ctrl, mut alt, mut shift) = (false, false, false);
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("shift-") {
                shift = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = if let Some(&(name, _)) = NAMED.iter().find(|(n, _)| *n == rest) {
            if name == "space" {
                KeyCodeKey::Char(' ')
            } else {
                KeyCodeKey::Named(name)
            }
        } else if let Some(n) = rest.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
            KeyCodeKey::F(n)
        } else {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => KeyCodeKey::Char(c),
                _ => return None,
            }
        };
        // Shift-Tab is its own key code; Shift with a letter is its
        // capital ("ctrl-shift-z" is what a terminal sends as Ctrl-Z with
        // Shift, a `Z`).
        let (code, shift) = match code {
            KeyCodeKey::Named("tab") if shift => (KeyCodeKey::Named("backtab"), false),
            KeyCodeKey::Char(c) if shift && c.is_ascii_lowercase() => {
                (KeyCodeKey::Char(c.to_ascii_uppercase()), false)
            }
            KeyCodeKey::Char(_) => (code, false),
            _ => (code, shift),
        };
        Some(KeyChord {
            code,
            ctrl,
            alt,
            shift,
        })
    }

    pub fn from_event(event: &KeyEvent) -> Option<KeyChord> {
        let code = match event.code {
            KeyCode::Char(c) => KeyCodeKey::Char(c),
            KeyCode::F(n) => KeyCodeKey::F(n),
            other => KeyCodeKey::Named(NAMED.iter().find(|(_, k)| *k == other)?.0),
        };
        Some(KeyChord {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
            // Terminals send Shift-Tab as a key of its own, with Shift.
            shift: event.modifiers.contains(KeyModifiers::SHIFT)
                && !matches!(code, KeyCodeKey::Char(_) | KeyCodeKey::Named("backtab")),
        })
    }

    /// The character this chord types, if it is a plain character.
    pub fn typed_char(&self) -> Option<char> {
        match self.code {
            KeyCodeKey::Char(c) if !self.ctrl && !self.alt => Some(c),
            _ => None,
        }
    }

    pub fn label(&self) -> String {
        let mut out = String::new();
        if self.ctrl {
            out.push_str("ctrl-");
        }
        if self.alt {
            out.push_str("alt-");
        }
        if self.shift {
            out.push_str("shift-");
        }
        match self.code {
            KeyCodeKey::Char(' ') => out.push_str("space"),
            // "ctrl-shift-z" reads better than "ctrl-Z" and parses back.
            KeyCodeKey::Char(c) if (self.ctrl || self.alt) && c.is_ascii_uppercase() => {
                out.push_str("shift-");
                out.push(c.to_ascii_lowercase());
            }
            KeyCodeKey::Named("backtab") => out.push_str("shift-tab"),
            KeyCodeKey::Char(c) => out.push(c),
            KeyCodeKey::F(n) => out.push_str(&format!("f{n}")),
            KeyCodeKey::Named(name) => out.push_str(name),
        }
        out
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("keymap {file}, line {line}: {message}")]
pub struct KeymapError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Which bindings apply. `Global` ones apply everywhere unless the pane's
/// own table binds the key; `List` is the workspaces list and the tree;
/// `Editor` the modeless editor; `Normal`, `Insert`, `Visual` the modes of
/// the vim keymap; `Changes` the git changes list and diff; `Jobs` the
/// jobs list and the job's log; `Review` the review of a patch; `Ai` the
/// AI pane (keys bound nowhere are typed into its prompt); `Meetings` the
/// meeting dashboard; `Compose` a multi-line text being edited (a hunk's
/// result, a meeting's note; keys bound nowhere are typed). The overlays have tables of their own,
/// without the global ones: `Picker` (finder, palette, tasks), `Prompt`
/// (one-line inputs; keys bound nowhere are typed), `Confirm` (yes/no
/// questions; an unbound key answers no) and `Conflict` (which version of
/// a file to keep; an unbound key puts the question off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    List,
    Editor,
    Normal,
    Insert,
    Visual,
    Changes,
    Jobs,
    Review,
    Ai,
    Meetings,
    Compose,
    Picker,
    Prompt,
    Confirm,
    Conflict,
}

impl Scope {
    const TABLES: [(&'static str, Scope); 16] = [
        ("global", Scope::Global),
        ("list", Scope::List),
        ("editor", Scope::Editor),
        ("normal", Scope::Normal),
        ("insert", Scope::Insert),
        ("visual", Scope::Visual),
        ("changes", Scope::Changes),
        ("jobs", Scope::Jobs),
        ("review", Scope::Review),
        ("ai", Scope::Ai),
        ("meetings", Scope::Meetings),
        ("compose", Scope::Compose),
        ("picker", Scope::Picker),
        ("prompt", Scope::Prompt),
        ("confirm", Scope::Confirm),
        ("conflict", Scope::Conflict),
    ];

    /// The overlays' tables stand alone: a global key typed into a prompt
    /// is text, not a command.
    fn falls_back_to_global(self) -> bool {
        !matches!(
            self,
            Scope::Picker | Scope::Prompt | Scope::Confirm | Scope::Conflict | Scope::Compose
        )
    }
}

/// The answer to a key (or a key sequence such as `g g`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Action(Action),
    /// The keys so far start a longer binding: wait for the next key.
    Pending,
    None,
}

type Sequence = Vec<KeyChord>;

#[derive(Debug, Clone, Default)]
pub struct Keymap {
    bindings: BTreeMap<(Scope, Sequence), Action>,
    /// Whether the editor is modal (the vim keymap has a `[normal]` table).
    pub modal: bool,
}

pub const DEFAULT: &str = include_str!("../../keymaps/default.toml");
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", DEFAULT),
    ("vim", include_str!("../../keymaps/vim.toml")),
];

impl Keymap {
    /// The default bindings, the named keymap and the user's file merged in
    /// order. Errors are returned beside a keymap that stays usable.
    pub fn load(named: Option<&str>, user_file: Option<&Path>) -> (Keymap, Vec<KeymapError>) {
        let mut keymap = Keymap::default();
        let mut errors = Vec::new();
        if let Err(e) = keymap.merge("keymaps/default.toml", DEFAULT) {
            errors.push(e);
        }
        if let Some(name) = named.filter(|n| *n != "default") {
            match SHIPPED.iter().find(|(n, _)| *n == name) {
                Some((_, text)) => {
                    if let Err(e) = keymap.merge(&format!("keymaps/{name}.toml"), text) {
                        errors.push(e);
                    }
                }
                None => errors.push(KeymapError {
                    file: "config.toml".into(),
                    line: 0,
                    message: format!("no keymap named {name:?}; shipped: default, vim"),
                }),
            }
        }
        if let Some(path) = user_file.filter(|p| p.is_file()) {
            let label = path.display().to_string();
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    if let Err(e) = keymap.merge(&label, &text) {
                        errors.push(e);
                    }
                }
                Err(e) => errors.push(KeymapError {
                    file: label,
                    line: 0,
                    message: e.to_string(),
                }),
            }
        }
        (keymap, errors)
    }

    /// Merges one keymap file. All or nothing: a file with an error changes
    /// no binding.
    pub fn merge(&mut self, file: &str, text: &str) -> Result<(), KeymapError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].lines().count().max(1);
        let error = |line, message| KeymapError {
            file: file.to_string(),
            line,
            message,
        };
        let parsed: BTreeMap<String, BTreeMap<String, toml::Spanned<String>>> =
            toml::from_str(text).map_err(|e| {
                error(
                    e.span().map(|s| line_of(s.start)).unwrap_or(0),
                    e.message().to_string(),
                )
            })?;
        let mut staged = Vec::new();
        let mut modal = self.modal;
        for (table, keys) in parsed {
            let Some(&(_, scope)) = Scope::TABLES.iter().find(|(n, _)| *n == table) else {
                let line = keys
                    .values()
                    .next()
                    .map(|v| line_of(v.span().start).saturating_sub(1))
                    .unwrap_or(0);
                return Err(error(
                    line,
                    format!(
                        "unknown table [{table}] (expected global, list, editor, normal, insert, visual, changes, jobs, review, ai, meetings, compose, picker, prompt, confirm, conflict)"
                    ),
                ));
            };
            modal |= scope == Scope::Normal;
            for (key, action) in keys {
                let line = line_of(action.span().start);
                let sequence = key
                    .split_whitespace()
                    .map(KeyChord::parse)
                    .collect::<Option<Vec<_>>>()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| error(line, format!("unknown key {key:?}")))?;
                let name = action.get_ref();
                let action = Action::parse(name)
                    .ok_or_else(|| error(line, format!("key {key:?}: unknown action {name:?}")))?;
                staged.push(((scope, sequence), action));
            }
        }
        self.bindings.extend(staged);
        self.modal = modal;
        Ok(())
    }

    /// The action for the keys pressed so far in a pane of `scope`: the
    /// pane's own bindings first, then the global ones.
    pub fn lookup(&self, scope: Scope, keys: &[KeyChord]) -> Lookup {
        let scopes: &[Scope] = if scope.falls_back_to_global() {
            &[scope, Scope::Global]
        } else {
            &[scope]
        };
        for &scope in scopes {
            let key = (scope, keys.to_vec());
            if let Some(action) = self.bindings.get(&key) {
                return Lookup::Action(*action);
            }
            let longer = self
                .bindings
                .range((scope, keys.to_vec())..)
                .next()
                .is_some_and(|((s, seq), _)| {
                    *s == scope && seq.len() > keys.len() && seq.starts_with(keys)
                });
            if longer {
                return Lookup::Pending;
            }
        }
        Lookup::None
    }

    /// The action for one key event, for the overlays (no sequences).
    pub fn action(&self, scope: Scope, event: &KeyEvent) -> Option<Action> {
        match self.lookup(scope, &[KeyChord::from_event(event)?]) {
            Lookup::Action(action) => Some(action),
            _ => None,
        }
    }

    /// Every action bound in `scopes` with its keys, for the help overlay
    /// and the palette.
    pub fn help(&self, scopes: &[Scope]) -> Vec<(Action, Vec<String>)> {
        Action::ALL
            .iter()
            .map(|&action| {
                let mut keys: Vec<String> = self
                    .bindings
                    .iter()
                    .filter(|((scope, _), a)| **a == action && scopes.contains(scope))
                    .map(|((_, seq), _)| sequence_label(seq))
                    .collect();
                keys.sort();
                keys.dedup();
                (action, keys)
            })
            .filter(|(_, keys)| !keys.is_empty())
            .collect()
    }

    /// The bindings of one table, in key order.
    #[cfg(test)]
    pub fn table(&self, scope: Scope) -> Vec<(String, Action)> {
        self.bindings
            .iter()
            .filter(|((s, _), _)| *s == scope)
            .map(|((_, seq), action)| (sequence_label(seq), *action))
            .collect()
    }
}

fn sequence_label(seq: &[KeyChord]) -> String {
    seq.iter()
        .map(KeyChord::label)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: crossterm::event::KeyEventState::NONE,
        }
    }

    fn chord(text: &str) -> KeyChord {
        KeyChord::parse(text).unwrap()
    }

    #[test]
    fn every_shipped_keymap_parses() {
        for (name, text) in SHIPPED {
            let mut keymap = Keymap::default();
            keymap.merge(name, text).unwrap();
            assert!(
                Scope::TABLES
                    .iter()
                    .any(|(_, s)| !keymap.table(*s).is_empty()),
                "{name}"
            );
        }
        let (vim, errors) = Keymap::load(Some("vim"), None);
        assert!(errors.is_empty() && vim.modal, "{errors:?}");
    }

    #[test]
    fn keys_resolve_with_pane_bindings_first() {
        let (keymap, errors) = Keymap::load(None, None);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            keymap.action(Scope::List, &key(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            keymap.action(Scope::List, &key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action(Scope::Editor, &key(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            keymap.action(
                Scope::Editor,
                &key(KeyCode::Char('s'), KeyModifiers::CONTROL)
            ),
            Some(Action::Save)
        );
        assert_eq!(
            keymap.action(Scope::List, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            keymap.action(Scope::Editor, &key(KeyCode::Down, KeyModifiers::SHIFT)),
            Some(Action::SelectDown)
        );
    }

    #[test]
    fn editing_chords_parse_and_match_what_terminals_send() {
        let shift_ctrl = KeyModifiers::SHIFT | KeyModifiers::CONTROL;
        for (name, event) in [
            ("ctrl-shift-left", key(KeyCode::Left, shift_ctrl)),
            ("ctrl-shift-right", key(KeyCode::Right, shift_ctrl)),
            ("shift-home", key(KeyCode::Home, KeyModifiers::SHIFT)),
            ("shift-end", key(KeyCode::End, KeyModifiers::SHIFT)),
            ("shift-tab", key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            ("backtab", key(KeyCode::BackTab, KeyModifiers::NONE)),
            ("ctrl-shift-z", key(KeyCode::Char('Z'), shift_ctrl)),
            ("ctrl-/", key(KeyCode::Char('/'), KeyModifiers::CONTROL)),
            ("alt-up", key(KeyCode::Up, KeyModifiers::ALT)),
            (
                "alt-shift-down",
                key(KeyCode::Down, KeyModifiers::ALT | KeyModifiers::SHIFT),
            ),
            ("ctrl-d", key(KeyCode::Char('d'), KeyModifiers::CONTROL)),
        ] {
            assert_eq!(
                KeyChord::parse(name),
                KeyChord::from_event(&event),
                "{name}"
            );
        }
        // Ctrl-Shift-Z is not Ctrl-Z, and labels read back as they parse.
        assert_ne!(chord("ctrl-shift-z"), chord("ctrl-z"));
        assert_eq!(chord("ctrl-Z"), chord("ctrl-shift-z"));
        for name in ["ctrl-shift-z", "shift-tab", "alt-shift-down", "ctrl-/", "G"] {
            assert_eq!(chord(name).label(), name);
        }
        let (keymap, _) = Keymap::load(None, None);
        for (name, action) in [
            ("shift-home", Action::SelectLineStart),
            ("shift-end", Action::SelectLineEnd),
            ("ctrl-shift-left", Action::SelectWordBackward),
            ("ctrl-shift-right", Action::SelectWordForward),
            ("shift-tab", Action::Outdent),
            ("ctrl-shift-z", Action::Redo),
            ("ctrl-y", Action::Redo),
            ("ctrl-/", Action::ToggleComment),
            ("alt-up", Action::MoveLinesUp),
            ("alt-down", Action::MoveLinesDown),
            ("alt-shift-down", Action::DuplicateLines),
            ("alt-shift-up", Action::DuplicateLinesUp),
            ("ctrl-d", Action::AddNextMatch),
        ] {
            assert_eq!(
                keymap.lookup(Scope::Editor, &[chord(name)]),
                Lookup::Action(action),
                "{name}"
            );
        }
    }

    #[test]
    fn sequences_wait_for_their_next_key() {
        let (vim, _) = Keymap::load(Some("vim"), None);
        assert_eq!(vim.lookup(Scope::Normal, &[chord("g")]), Lookup::Pending);
        // vim's grammar reads the keys from its entry points on.
        assert_eq!(
            vim.lookup(Scope::Normal, &[chord("g"), chord("g")]),
            Lookup::Action(Action::Vim)
        );
        assert_eq!(
            vim.lookup(Scope::Normal, &[chord("g"), chord("t")]),
            Lookup::Action(Action::NextTab)
        );
        assert_eq!(
            vim.lookup(Scope::Normal, &[chord("d")]),
            Lookup::Action(Action::Vim)
        );
        assert_eq!(
            vim.lookup(Scope::Normal, &[chord("esc")]),
            Lookup::Action(Action::Vim)
        );
        assert_eq!(
            vim.lookup(Scope::Visual, &[chord("ctrl-v")]),
            Lookup::Action(Action::Vim)
        );
        assert_eq!(
            vim.lookup(Scope::Normal, &[chord("g"), chord("x")]),
            Lookup::None
        );
        // Space is the vim keymap's leader.
        assert_eq!(
            vim.lookup(Scope::Normal, &[chord("space"), chord("j")]),
            Lookup::Action(Action::Jobs)
        );
        assert_eq!(
            vim.lookup(Scope::Jobs, &[chord("alt-j")]),
            Lookup::Action(Action::Jobs)
        );
    }

    #[test]
    fn a_bad_user_keymap_names_file_line_and_key_and_defaults_stay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keymap.toml");
        std::fs::write(&path, "[list]\n\"x\" = \"down\"\n\"ctrl-\" = \"up\"\n").unwrap();
        let (keymap, errors) = Keymap::load(None, Some(&path));
        assert_eq!(errors.len(), 1);
        let e = &errors[0];
        assert_eq!(e.line, 3);
        assert!(
            e.to_string().contains("keymap.toml") && e.message.contains("ctrl-"),
            "{e}"
        );
        // Nothing of the bad file applied; the defaults work.
        assert_eq!(
            keymap.action(Scope::List, &key(KeyCode::Char('x'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            keymap.action(Scope::List, &key(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );

        std::fs::write(&path, "[list]\n\"x\" = \"fly\"\n").unwrap();
        let (_, errors) = Keymap::load(None, Some(&path));
        assert!(
            errors[0].message.contains("fly") && errors[0].line == 2,
            "{:?}",
            errors[0]
        );
        std::fs::write(&path, "[lists]\n\"x\" = \"down\"\n").unwrap();
        let (_, errors) = Keymap::load(None, Some(&path));
        assert!(errors[0].message.contains("[lists]"), "{:?}", errors[0]);
    }
}

/// The key tables of `docs/keybindings.md` for the shipped keymaps: each
/// table of each file as written (the vim file merges over the default).
#[cfg(test)]
pub(crate) fn docs_table() -> String {
    let mut out = String::new();
    for (name, text) in SHIPPED {
        let mut keymap = Keymap::default();
        if keymap.merge(name, text).is_err() {
            continue;
        }
        out.push_str(&format!("\n### `keymaps/{name}.toml`\n"));
        for (table, scope) in Scope::TABLES {
            let rows = keymap.table(scope);
            if rows.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "\n`[{table}]`\n\n| key | action | what it does |\n| --- | --- | --- |\n"
            ));
            for (key, action) in rows {
                let key = key.replace('|', "\\|");
                out.push_str(&format!(
                    "| `{key}` | `{}` | {} |\n",
                    action.name(),
                    action.describe()
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod docs_tests {
    /// docs/keybindings.md is generated from the keymap files; run with
    /// KOLLEGA_UPDATE_DOCS=1 to rewrite it after changing a keymap.
    #[test]
    fn keybindings_doc_matches_the_keymap_files() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/keybindings.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let (head, rest) = doc.split_once("<!-- keys:begin -->").unwrap();
        let (_, tail) = rest.split_once("<!-- keys:end -->").unwrap();
        let expected = format!(
            "{head}<!-- keys:begin -->\n{}\n<!-- keys:end -->{tail}",
            super::docs_table()
        );
        if std::env::var_os("KOLLEGA_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        assert_eq!(
            doc, expected,
            "docs/keybindings.md is stale: run KOLLEGA_UPDATE_DOCS=1 cargo test keybindings_doc"
        );
    }
}
