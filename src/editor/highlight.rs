//! Syntax highlighting with syntect and two-face's syntaxes (TSX, Vue,
//! Svelte, TOML and more), highlighting only the lines asked for.
//!
//! Parsing must start at the top of a file, so a [`HighlightCache`] keeps the
//! parser state every [`CHECKPOINT`] lines: a jump to line 900,000 resumes
//! from the nearest checkpoint below it instead of line one, once the lines
//! before it have been seen.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use syntect::highlighting::{
    FontStyle, HighlightState, Highlighter as SyntectHighlighter, RangedHighlightIterator,
    ScopeSelectors, StyleModifier, Theme, ThemeItem, ThemeSettings,
};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};

/// Lines between cached parser states.
pub(crate) const CHECKPOINT: usize = 64;
/// A window this far past the last checkpoint is not parsed from there:
/// highlighting starts fresh [`SYNC_BACK`] lines above it, as vim's
/// `syntax sync minlines` does. Colours can then be off inside a construct
/// that opened further up (a long block comment); the jump stays instant.
pub(crate) const SYNC_LIMIT: usize = 4_096;
pub(crate) const SYNC_BACK: usize = 48;
/// Bytes of a line that are parsed, as vim's `synmaxcol`: the rest of a
/// longer line (minified code, a data dump) is drawn in the text colour, so
/// a megabyte on one line costs no more than this per keystroke.
pub(crate) const MAX_COLUMNS: usize = 3_000;

/// A line cut at [`MAX_COLUMNS`] (on a char boundary): the part to parse
/// and the rest. The parsed part keeps a line ending so the parser ends
/// the line as usual.
fn split_long(line: &str) -> (Cow<'_, str>, &str) {
    if line.len() <= MAX_COLUMNS {
        return (Cow::Borrowed(line), "");
    }
    let mut cut = MAX_COLUMNS;
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    let (head, rest) = line.split_at(cut);
    (Cow::Owned(format!("{head}\n")), rest)
}

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
    /// Shared so a warm-up thread can compile a syntax's patterns (syntect
    /// compiles each on first use) while the UI goes on.
    syntaxes: Arc<SyntaxSet>,
    theme: Theme,
}

type States = (ParseState, HighlightState);
type Spans = Vec<(SpanStyle, String)>;

/// Parser states of one document: at checkpoints every [`CHECKPOINT`]
/// lines, and for each line of the last window drawn, with its spans. An
/// edit forgets what lies at and below it; scrolling and typing reuse the
/// rest, so a keystroke re-parses only the lines below the cursor on screen.
pub struct HighlightCache {
    syntax: String,
    checkpoints: Vec<States>,
    window: BTreeMap<usize, (States, Option<Spans>)>,
}

impl HighlightCache {
    /// Forgets parser states at and after `line`, after an edit there.
    pub fn invalidate_from(&mut self, line: usize) {
        // Checkpoint k holds the state before line (k + 1) * CHECKPOINT,
        // which an edit at `line` leaves intact when it lies above it.
        self.checkpoints.truncate(line / CHECKPOINT);
        // The state before `line` is still good; its spans are not.
        drop(self.window.split_off(&(line + 1)));
        if let Some((_, spans)) = self.window.get_mut(&line) {
            *spans = None;
        }
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
            syntaxes: Arc::new(two_face::syntax::extra_newlines()),
            theme: Theme {
                name: Some("kollega".into()),
                author: None,
                // syntect draws a token no rule colours in the settings'
                // foreground, and in opaque black when there is none
                // (invisible on a dark terminal). A transparent one marks
                // such tokens, which then take the theme's foreground.
                settings: ThemeSettings {
                    foreground: Some(syntect::highlighting::Color {
                        r: 0,
                        g: 0,
                        b: 0,
                        a: 0,
                    }),
                    ..ThemeSettings::default()
                },
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

    /// A file name for each syntax this highlighter knows (by its first
    /// extension), for tests that go through every syntax.
    #[cfg(test)]
    pub(crate) fn sample_paths(&self) -> Vec<String> {
        self.syntaxes
            .syntaxes()
            .iter()
            .filter_map(|s| s.file_extensions.first())
            .map(|ext| format!("sample.{ext}"))
            .collect()
    }

    /// Parses the text of `file` as the syntax of `path` on a thread of its
    /// own (reading it there too), so the patterns it needs are compiled
    /// before a pane first draws that file type (the first TSX frame
    /// otherwise pays ~10 ms for them).
    pub fn warm_up_file(
        &self,
        path: &str,
        file: std::path::PathBuf,
    ) -> std::thread::JoinHandle<()> {
        self.warm_up_with(path, move || {
            std::fs::read(&file)
                .ok()
                .map(|mut bytes| {
                    bytes.truncate(256 * 1024);
                    String::from_utf8_lossy(&bytes).into_owned()
                })
                .unwrap_or_default()
        })
    }

    fn warm_up_with(
        &self,
        path: &str,
        text: impl FnOnce() -> String + Send + 'static,
    ) -> std::thread::JoinHandle<()> {
        let syntaxes = Arc::clone(&self.syntaxes);
        let name = self.syntax_for(path).name.clone();
        std::thread::spawn(move || {
            let Some(syntax) = syntaxes.find_syntax_by_name(&name) else {
                return;
            };
            let mut parse = ParseState::new(syntax);
            for line in text().split_inclusive('\n').take(2_000) {
                let _ = parse.parse_line(line, &syntaxes);
            }
        })
    }

    /// The name of the syntax used for `path` (shown in the status bar).
    pub fn syntax_name(&self, path: &str) -> &str {
        &self.syntax_for(path).name
    }

    pub fn cache_for(&self, path: &str) -> HighlightCache {
        HighlightCache {
            syntax: self.syntax_for(path).name.clone(),
            checkpoints: Vec::new(),
            window: BTreeMap::new(),
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
        // Lines of the last window that are unchanged come from the cache.
        let mut out: Vec<Spans> = Vec::with_capacity(end.saturating_sub(start));
        let mut index = start;
        while index < end {
            match cache.window.get(&index) {
                Some((_, Some(spans))) => out.push(spans.clone()),
                _ => break,
            }
            index += 1;
        }
        let mut parsed = false;
        let resume = if index < end {
            cache.window.get(&index).map(|(states, _)| states.clone())
        } else {
            None
        };
        let (mut parse, mut state, far) = match resume {
            Some((parse, state)) => (parse, state, false),
            None if index >= end => (
                ParseState::new(syntax),
                HighlightState::new(&highlighter, ScopeStack::new()),
                false,
            ),
            None => {
                // Resume from the nearest checkpoint at or below `start`, or,
                // far past the last one, sync a little above the window.
                out.clear();
                let usable = (start / CHECKPOINT).min(cache.checkpoints.len());
                let far = start > usable * CHECKPOINT + SYNC_LIMIT;
                let (parse, state) = if far {
                    index = start - SYNC_BACK;
                    fresh()
                } else {
                    index = usable * CHECKPOINT;
                    match usable.checked_sub(1).and_then(|i| cache.checkpoints.get(i)) {
                        Some(saved) => saved.clone(),
                        None => fresh(),
                    }
                };
                (parse, state, far)
            }
        };
        while index < end {
            let Some(whole) = line(index) else { break };
            let (head, rest) = split_long(&whole);
            let text: &str = &head;
            // Checkpoint k holds the state before line (k + 1) * CHECKPOINT.
            if !far
                && index > 0
                && index.is_multiple_of(CHECKPOINT)
                && cache.checkpoints.len() < index / CHECKPOINT
            {
                cache.checkpoints.push((parse.clone(), state.clone()));
            }
            parsed = true;
            let before = (index >= start).then(|| (parse.clone(), state.clone()));
            let ops = parse.parse_line(text, &self.syntaxes).unwrap_or_default();
            match before {
                Some(before) => {
                    let spans: Spans =
                        RangedHighlightIterator::new(&mut state, &ops, text, &highlighter)
                            .map(|(style, piece, _)| {
                                let fg = style.foreground;
                                (
                                    SpanStyle {
                                        // A token no rule colours comes back in the
                                        // transparent settings foreground.
                                        fg: (fg.a != 0).then_some(Rgb(fg.r, fg.g, fg.b)),
                                        bold: style.font_style.contains(FontStyle::BOLD),
                                        italic: style.font_style.contains(FontStyle::ITALIC),
                                    },
                                    piece.trim_end_matches(['\n', '\r']).to_string(),
                                )
                            })
                            .chain((!rest.is_empty()).then(|| {
                                (
                                    SpanStyle::default(),
                                    rest.trim_end_matches(['\n', '\r']).to_string(),
                                )
                            }))
                            .filter(|(_, piece)| !piece.is_empty())
                            .collect();
                    cache.window.insert(index, (before, Some(spans.clone())));
                    out.push(spans);
                }
                // Advance the highlight state without producing spans.
                None => {
                    for _ in RangedHighlightIterator::new(&mut state, &ops, text, &highlighter) {}
                }
            }
            index += 1;
        }
        // Keep the window just drawn, and the state that follows it.
        if parsed && index == end && !cache.window.contains_key(&end) {
            cache.window.insert(end, ((parse, state), None));
        }
        cache.window.retain(|l, _| (start..=end).contains(l));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_parsed_up_to_the_column_budget_and_drawn_whole() {
        let palette = SyntaxPalette {
            rules: vec![(
                "storage, keyword".into(),
                SpanStyle {
                    fg: Some(Rgb(1, 2, 3)),
                    ..SpanStyle::default()
                },
            )],
        };
        let highlighter = Highlighter::new(&palette);
        let mut cache = highlighter.cache_for("bundle.min.js");
        let line = "var a=1;".repeat(MAX_COLUMNS / 4) + "é" + &"var b=2;".repeat(10) + "\n";
        let spans = highlighter.highlight(
            &mut cache,
            |i| (i == 0).then_some(Cow::Borrowed(line.as_str())),
            0,
            1,
        );
        let drawn: String = spans[0].iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(drawn, line.trim_end());
        assert_eq!(
            spans[0][0],
            (palette.rules[0].1, "var".to_string()),
            "the start is coloured"
        );
        let (style, tail) = spans[0].last().unwrap();
        assert_eq!(
            *style,
            SpanStyle::default(),
            "past the budget the text is plain"
        );
        assert!(tail.ends_with("var b=2;") && tail.len() > 2 * MAX_COLUMNS - MAX_COLUMNS);
    }

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
        let lines: Vec<String> = (0..6_000)
            .map(|i| format!("const v{i} = \"s{i}\";\n"))
            .collect();
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

    #[test]
    fn the_window_cache_matches_a_fresh_highlight_after_edits_and_scrolls() {
        let h = Highlighter::new(&palette());
        let mut lines: Vec<String> = (0..400)
            .map(|i| match i % 9 {
                0 => "/* open\n".to_string(),
                4 => "close */ let s = 'x';\n".to_string(),
                _ => format!("const v{i} = \"{i}\";\n"),
            })
            .collect();
        let fresh = |lines: &Vec<String>, start: usize, end: usize| {
            let mut cache = h.cache_for("a.ts");
            h.highlight(
                &mut cache,
                |i| lines.get(i).map(|l| Cow::Borrowed(l.as_str())),
                start,
                end,
            )
        };
        let mut cache = h.cache_for("a.ts");
        for (start, edit) in [
            (100, None),
            (101, None),
            (101, Some(110)),
            (101, Some(101)),
            (90, Some(95)),
            (300, Some(120)),
        ] {
            if let Some(at) = edit {
                // Opening a comment changes everything below it.
                lines[at] = if lines[at].starts_with("/*") {
                    "let plain = 1;\n".into()
                } else {
                    "/* opened\n".into()
                };
                cache.invalidate_from(at);
            }
            let got = h.highlight(
                &mut cache,
                |i| lines.get(i).map(|l| Cow::Borrowed(l.as_str())),
                start,
                start + 30,
            );
            assert_eq!(
                got,
                fresh(&lines, start, start + 30),
                "window at {start} after edit {edit:?}"
            );
        }
    }
}
