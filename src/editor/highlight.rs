//! Syntax highlighting with syntect and two-face's syntaxes (TSX, Vue,
//! Svelte, TOML and more), highlighting only the lines asked for.
//!
//! Parsing must start at the top of a file, so a [`HighlightCache`] keeps the
//! parser state every [`CHECKPOINT`] lines: a jump to line 900,000 resumes
//! from the nearest checkpoint below it instead of line one, once the lines
//! before it have been seen.

use std::borrow::Cow;
use std::str::FromStr;

use syntect::highlighting::{
    FontStyle, HighlightState, Highlighter as SyntectHighlighter, RangedHighlightIterator,
    ScopeSelectors, StyleModifier, Theme, ThemeItem, ThemeSettings,
};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};

/// Lines between cached parser states.
pub(crate) const CHECKPOINT: usize = 128;
/// A window this far past the last checkpoint is not parsed from there:
/// highlighting starts fresh [`SYNC_BACK`] lines above it, as vim's
/// `syntax sync minlines` does. Colours can then be off inside a construct
/// that opened further up (a long block comment); the jump stays instant.
pub(crate) const SYNC_LIMIT: usize = 4_096;
pub(crate) const SYNC_BACK: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// How one highlighted piece of text looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpanStyle {
    pub fg: Option<Rgb>,
    pub bold: bool,
    pub italic: bool,
}

/// Scope selectors (e.g. `keyword`, `entity.name.function`) and their styles,
/// as a theme file gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyntaxPalette {
    pub rules: Vec<(String, SpanStyle)>,
}

pub struct Highlighter {
    syntaxes: SyntaxSet,
    theme: Theme,
}

/// Parser states at checkpoints of one document. Drop it when the text
/// changes above the last line it covers.
pub struct HighlightCache {
    syntax: String,
    checkpoints: Vec<(ParseState, HighlightState)>,
}

impl HighlightCache {
    /// Forgets parser states at and after `line`, after an edit there.
    pub fn invalidate_from(&mut self, line: usize) {
        // Checkpoint k holds the state before line (k + 1) * CHECKPOINT,
        // which an edit at `line` leaves intact when it lies above it.
        self.checkpoints.truncate(line / CHECKPOINT);
    }
}

impl Highlighter {
    pub fn new(palette: &SyntaxPalette) -> Highlighter {
        let scopes = palette
            .rules
            .iter()
            .filter_map(|(selector, style)| {
                let scope = ScopeSelectors::from_str(selector).ok()?;
                let mut font = FontStyle::empty();
                if style.bold {
                    font |= FontStyle::BOLD;
                }
                if style.italic {
                    font |= FontStyle::ITALIC;
                }
                Some(ThemeItem {
                    scope,
                    style: StyleModifier {
                        foreground: style.fg.map(|Rgb(r, g, b)| syntect::highlighting::Color {
                            r,
                            g,
                            b,
                            a: 0xff,
                        }),
                        background: None,
                        font_style: Some(font),
                    },
                })
            })
            .collect();
        Highlighter {
            syntaxes: two_face::syntax::extra_newlines(),
            theme: Theme {
                name: Some("kollega".into()),
                author: None,
                settings: ThemeSettings::default(),
                scopes,
            },
        }
    }

    /// The syntax for a file path, by extension or name; plain text otherwise.
    fn syntax_for(&self, path: &str) -> &SyntaxReference {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or(name);
        self.syntaxes
            .find_syntax_by_extension(ext)
            .or_else(|| self.syntaxes.find_syntax_by_extension(name))
            .unwrap_or_else(|| self.syntaxes.find_syntax_plain_text())
    }

    /// The name of the syntax used for `path` (shown in the status bar).
    pub fn syntax_name(&self, path: &str) -> &str {
        &self.syntax_for(path).name
    }

    pub fn cache_for(&self, path: &str) -> HighlightCache {
        HighlightCache {
            syntax: self.syntax_for(path).name.clone(),
            checkpoints: Vec::new(),
        }
    }

    /// Highlights lines `start..end` of a document whose line `i` (with its
    /// line ending) `line(i)` returns. Returns one span list per line.
    pub fn highlight<'a>(
        &self,
        cache: &mut HighlightCache,
        line: impl Fn(usize) -> Option<Cow<'a, str>>,
        start: usize,
        end: usize,
    ) -> Vec<Vec<(SpanStyle, String)>> {
        let syntax = self
            .syntaxes
            .find_syntax_by_name(&cache.syntax)
            .unwrap_or_else(|| self.syntaxes.find_syntax_plain_text());
        let highlighter = SyntectHighlighter::new(&self.theme);
        let fresh = || {
            (
                ParseState::new(syntax),
                HighlightState::new(&highlighter, ScopeStack::new()),
            )
        };
        // Resume from the nearest checkpoint at or below `start`, or, far
        // past the last one, sync a little above the window.
        let usable = (start / CHECKPOINT).min(cache.checkpoints.len());
        let far = start > usable * CHECKPOINT + SYNC_LIMIT;
        let (mut parse, mut state, mut index) = if far {
            let (parse, state) = fresh();
            (parse, state, start - SYNC_BACK)
        } else {
            let (parse, state) = match usable.checked_sub(1).and_then(|i| cache.checkpoints.get(i))
            {
                Some(saved) => saved.clone(),
                None => fresh(),
            };
            (parse, state, usable * CHECKPOINT)
        };
        let mut out = Vec::with_capacity(end.saturating_sub(start));
        while index < end {
            let Some(text) = line(index) else { break };
            let text: &str = &text;
            // Checkpoint k holds the state before line (k + 1) * CHECKPOINT.
            if !far
                && index > 0
                && index.is_multiple_of(CHECKPOINT)
                && cache.checkpoints.len() < index / CHECKPOINT
            {
                cache.checkpoints.push((parse.clone(), state.clone()));
            }
            let ops = parse.parse_line(text, &self.syntaxes).unwrap_or_default();
            if index >= start {
                let spans = RangedHighlightIterator::new(&mut state, &ops, text, &highlighter)
                    .map(|(style, piece, _)| {
                        let fg = style.foreground;
                        (
                            SpanStyle {
                                // ThemeSettings has no foreground, so an
                                // unstyled scope comes back fully transparent.
                                fg: (fg.a != 0).then_some(Rgb(fg.r, fg.g, fg.b)),
                                bold: style.font_style.contains(FontStyle::BOLD),
                                italic: style.font_style.contains(FontStyle::ITALIC),
                            },
                            piece.trim_end_matches(['\n', '\r']).to_string(),
                        )
                    })
                    .filter(|(_, piece)| !piece.is_empty())
                    .collect();
                out.push(spans);
            } else {
                // Advance the highlight state without producing spans.
                for _ in RangedHighlightIterator::new(&mut state, &ops, text, &highlighter) {}
            }
            index += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn palette() -> SyntaxPalette {
        SyntaxPalette {
            rules: vec![
                (
                    "keyword".into(),
                    SpanStyle {
                        fg: Some(Rgb(255, 0, 0)),
                        ..Default::default()
                    },
                ),
                (
                    "string".into(),
                    SpanStyle {
                        fg: Some(Rgb(0, 255, 0)),
                        ..Default::default()
                    },
                ),
            ],
        }
    }

    #[test]
    fn tsx_keywords_and_strings_get_colours() {
        let h = Highlighter::new(&palette());
        assert_eq!(h.syntax_name("app/page.tsx"), "TypeScriptReact");
        let lines = ["export const title = \"Board\";\n"];
        let mut cache = h.cache_for("app/page.tsx");
        let out = h.highlight(
            &mut cache,
            |i| lines.get(i).map(|l| Cow::Borrowed(*l)),
            0,
            1,
        );
        let colour_of = |text: &str| {
            out[0]
                .iter()
                .find(|(_, piece)| piece.contains(text))
                .and_then(|(style, _)| style.fg)
        };
        assert_eq!(colour_of("export"), Some(Rgb(255, 0, 0)));
        assert_eq!(colour_of("Board"), Some(Rgb(0, 255, 0)));
    }

    #[test]
    fn a_late_window_matches_highlighting_from_the_top() {
        let h = Highlighter::new(&palette());
        let lines: Vec<String> = (0..1000)
            .map(|i| {
                if i % 7 == 0 {
                    "/* open\n".to_string()
                } else if i % 7 == 3 {
                    "close */ let x = 'a';\n".into()
                } else {
                    format!("const v{i} = {i};\n")
                }
            })
            .collect();
        let get = |i: usize| lines.get(i).map(|l| Cow::Borrowed(l.as_str()));
        let mut full = h.cache_for("a.ts");
        let from_top = h.highlight(&mut full, get, 0, 1000);
        let mut cache = h.cache_for("a.ts");
        let _ = h.highlight(&mut cache, get, 0, 900);
        assert!(cache.checkpoints.len() >= 900 / CHECKPOINT - 1);
        let window = h.highlight(&mut cache, get, 900, 920);
        assert_eq!(window, from_top[900..920].to_vec());
    }

    #[test]
    fn edits_keep_checkpoints_above_them_and_far_jumps_sync_nearby() {
        let h = Highlighter::new(&palette());
        let lines: Vec<String> = (0..6_000).map(|i| format!("const v{i} = \"s{i}\";\n")).collect();
        let get = |i: usize| lines.get(i).map(|l| Cow::Borrowed(l.as_str()));
        let mut cache = h.cache_for("a.ts");
        let _ = h.highlight(&mut cache, get, 0, 1_000);
        assert_eq!(cache.checkpoints.len(), 999 / CHECKPOINT);
        cache.invalidate_from(700);
        assert_eq!(cache.checkpoints.len(), 700 / CHECKPOINT);
        // Far past the last checkpoint: parsed from nearby, nothing cached.
        let far = h.highlight(&mut cache, get, 5_900, 5_910);
        assert_eq!(cache.checkpoints.len(), 700 / CHECKPOINT);
        let mut full = h.cache_for("a.ts");
        let from_top = h.highlight(&mut full, get, 0, 5_910);
        assert_eq!(far, from_top[5_900..5_910].to_vec());
    }
}
