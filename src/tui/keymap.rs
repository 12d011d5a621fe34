//! Key bindings as data: `keymaps/default.toml`, an optional named keymap
//! (e.g. `vim`) and the user's `keymap.toml`, each merged over the last.
//!
//! A bad file is reported with its name, line and key, and the bindings
//! loaded so far stay in use.

use std::collections::BTreeMap;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

/// Everything a key can do in the workstation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    FocusNext,
    FocusPrev,
    Help,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::Quit,
        Action::FocusNext,
        Action::FocusPrev,
        Action::Help,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Open,
        Action::Back,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::FocusNext => "focus_next",
            Action::FocusPrev => "focus_prev",
            Action::Help => "help",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Open => "open",
            Action::Back => "back",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit kollega",
            Action::FocusNext => "focus the next pane",
            Action::FocusPrev => "focus the previous pane",
            Action::Help => "show or hide this help",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "go to the top",
            Action::Bottom => "go to the bottom",
            Action::Open => "open workspace, folder or file",
            Action::Back => "close folder, go back",
        }
    }

    fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// A key with its modifiers, as bindings name it ("ctrl-c", "G", "pageup").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyChord {
    code: KeyCodeKey,
    ctrl: bool,
    alt: bool,
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
        let (mut ctrl, mut alt) = (false, false);
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
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
        Some(KeyChord { code, ctrl, alt })
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
        })
    }

    pub fn label(&self) -> String {
        let mut out = String::new();
        if self.ctrl {
            out.push_str("ctrl-");
        }
        if self.alt {
            out.push_str("alt-");
        }
        match self.code {
            KeyCodeKey::Char(' ') => out.push_str("space"),
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

/// Which bindings apply: global ones everywhere, list ones in the panes
/// that show a list or a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    List,
}

#[derive(Debug, Clone, Default)]
pub struct Keymap {
    bindings: BTreeMap<(Scope, KeyChord), Action>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeymapFile {
    #[serde(default)]
    global: BTreeMap<String, toml::Spanned<String>>,
    #[serde(default)]
    list: BTreeMap<String, toml::Spanned<String>>,
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
        let parsed: KeymapFile = toml::from_str(text).map_err(|e| KeymapError {
            file: file.to_string(),
            line: e.span().map(|s| line_of(s.start)).unwrap_or(0),
            message: e.message().to_string(),
        })?;
        let mut staged = Vec::new();
        for (scope, table) in [(Scope::Global, parsed.global), (Scope::List, parsed.list)] {
            for (key, action) in table {
                let line = line_of(action.span().start);
                let chord = KeyChord::parse(&key).ok_or_else(|| KeymapError {
                    file: file.to_string(),
                    line,
                    message: format!("unknown key {key:?}"),
                })?;
                let name = action.get_ref();
                let action = Action::parse(name).ok_or_else(|| KeymapError {
                    file: file.to_string(),
                    line,
                    message: format!("key {key:?}: unknown action {name:?}"),
                })?;
                staged.push(((scope, chord), action));
            }
        }
        self.bindings.extend(staged);
        Ok(())
    }

    /// The action for a key pressed in a pane of `scope`: the pane's own
    /// bindings first, then the global ones.
    pub fn action(&self, scope: Scope, event: &KeyEvent) -> Option<Action> {
        let chord = KeyChord::from_event(event)?;
        self.bindings
            .get(&(scope, chord))
            .or_else(|| self.bindings.get(&(Scope::Global, chord)))
            .copied()
    }

    /// Every action with the keys bound to it, for the help overlay.
    pub fn help(&self) -> Vec<(Action, Vec<String>)> {
        Action::ALL
            .iter()
            .map(|&action| {
                let mut keys: Vec<String> = self
                    .bindings
                    .iter()
                    .filter(|(_, a)| **a == action)
                    .map(|((_, chord), _)| chord.label())
                    .collect();
                keys.dedup();
                (action, keys)
            })
            .filter(|(_, keys)| !keys.is_empty())
            .collect()
    }
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

    #[test]
    fn every_shipped_keymap_parses() {
        for (name, text) in SHIPPED {
            let mut keymap = Keymap::default();
            keymap.merge(name, text).unwrap();
            assert!(!keymap.help().is_empty(), "{name}");
        }
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
            keymap.action(
                Scope::Global,
                &key(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            keymap.action(Scope::List, &key(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
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
    }
}

/// The key table of `docs/keybindings.md` for the shipped keymaps.
#[cfg(test)]
pub(crate) fn docs_table() -> String {
    let mut out = String::new();
    for (name, _) in SHIPPED {
        let (keymap, _) = Keymap::load(Some(name), None);
        out.push_str(&format!(
            "\n### `{name}`\n\n| keys | action | what it does |\n| --- | --- | --- |\n"
        ));
        for (action, keys) in keymap.help() {
            let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            out.push_str(&format!(
                "| {} | `{}` | {} |\n",
                keys.join(" "),
                action.name(),
                action.describe()
            ));
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
