//! Colour themes as data: `themes/*.toml` shipped in the binary, user themes
//! in `<config dir>/themes/`, each able to `inherits` another.
//!
//! Hex colours are kept as given and mapped when drawn to what the terminal
//! can show: true colour, the nearest of 256, the nearest of 16, or none
//! when `NO_COLOR` is set.

use std::path::Path;

use ratatui::style::{Color, Modifier, Style};

use crate::editor::highlight::{Rgb, SpanStyle, SyntaxPalette};

pub const SHIPPED: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// UI keys that mark a place rather than colour a kind of text.
const MARKS: &[&str] = &["selection", "search_match", "status"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorDepth {
    None,
    Ansi16,
    Ansi256,
    TrueColor,
}

impl ColorDepth {
    /// What the terminal supports, from the environment.
    pub fn detect() -> ColorDepth {
        let var = |name| std::env::var(name).unwrap_or_default();
        if !var("NO_COLOR").is_empty() {
            ColorDepth::None
        } else if matches!(var("COLORTERM").as_str(), "truecolor" | "24bit") {
            ColorDepth::TrueColor
        } else if var("TERM").contains("256") {
            ColorDepth::Ansi256
        } else {
            ColorDepth::Ansi16
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("theme {file}: {message}")]
    Invalid { file: String, message: String },
    #[error("no theme named {0:?}; shipped: dark, light, high-contrast")]
    Unknown(String),
    #[error("theme {0:?} inherits itself in a loop")]
    Cycle(String),
}

/// One style as a theme file writes it: a colour or `{ fg, bg, bold, italic }`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThemeStyle {
    pub fg: Option<Rgb>,
    pub bg: Option<Rgb>,
    pub bold: bool,
    pub italic: bool,
}

#[derive(Debug, Clone)]
pub struct Theme {
    ui: toml::Table,
    syntax: Vec<(String, ThemeStyle)>,
    depth: ColorDepth,
}

impl Theme {
    /// Loads theme `name` from the user's theme folder or the shipped ones.
    pub fn load(
        name: &str,
        user_dir: Option<&Path>,
        depth: ColorDepth,
    ) -> Result<Theme, ThemeError> {
        let mut chain = Vec::new();
        let mut next = Some(name.to_string());
        while let Some(current) = next.take() {
            if chain
                .iter()
                .any(|(n, _, _): &(String, String, toml::Table)| *n == current)
            {
                return Err(ThemeError::Cycle(current));
            }
            let (file, text) = find_theme(&current, user_dir)?;
            let table: toml::Table = toml::from_str(&text).map_err(|e| ThemeError::Invalid {
                file: file.clone(),
                message: e.to_string(),
            })?;
            next = match table.get("inherits") {
                Some(toml::Value::String(parent)) => Some(parent.clone()),
                Some(other) => {
                    return Err(ThemeError::Invalid {
                        file,
                        message: format!("`inherits` must be a theme name, found {other}"),
                    });
                }
                None => None,
            };
            chain.push((current, file, table));
        }
        // Apply the root ancestor first, then each child over it.
        let mut ui = toml::Table::new();
        let mut syntax: Vec<(String, ThemeStyle)> = Vec::new();
        for (_, file, table) in chain.into_iter().rev() {
            for (key, value) in &table {
                match (key.as_str(), value) {
                    ("name" | "inherits", _) => {}
                    ("ui", toml::Value::Table(t)) => {
                        for (k, v) in t {
                            parse_style(v).map_err(|m| invalid(&file, &format!("ui.{k}"), &m))?;
                            ui.insert(k.clone(), v.clone());
                        }
                    }
                    ("syntax", toml::Value::Table(t)) => {
                        for (scope, v) in t {
                            let style = parse_style(v)
                                .map_err(|m| invalid(&file, &format!("syntax.{scope}"), &m))?;
                            syntax.retain(|(s, _)| s != scope);
                            syntax.push((scope.clone(), style));
                        }
                    }
                    (other, _) => {
                        return Err(ThemeError::Invalid {
                            file,
                            message: format!(
                                "unknown key `{other}` (expected name, inherits, [ui], [syntax])"
                            ),
                        });
                    }
                }
            }
        }
        Ok(Theme { ui, syntax, depth })
    }

    /// What every cell starts as: the theme's foreground on its
    /// background. A theme that sets a background has it painted, so its
    /// colours read the same on a light or a dark terminal; one that sets
    /// none leaves the terminal's own.
    pub fn base(&self) -> Style {
        let colour = |key: &str| {
            self.ui
                .get(key)
                .and_then(|v| parse_style(v).ok())
                .and_then(|s| s.fg)
                .and_then(|c| self.color(c))
        };
        let mut style = self.ui("foreground");
        if let Some(bg) = colour("background") {
            style = style.bg(bg);
        }
        style
    }

    /// The style of a UI element (`border`, `selection`, …); plain when unset.
    ///
    /// Without colour (`NO_COLOR`), what marks a place (the selection, the
    /// cursor row of a list, a search match, the status bar) is drawn in
    /// reverse video, so it stays visible.
    pub fn ui(&self, key: &str) -> Style {
        if self.depth == ColorDepth::None && key == "search_current" {
            // Stronger than the other matches, and than the selection.
            return Style::default()
                .add_modifier(Modifier::REVERSED | Modifier::UNDERLINED | Modifier::BOLD);
        }
        if self.depth == ColorDepth::None && MARKS.contains(&key) {
            return Style::default().add_modifier(Modifier::REVERSED);
        }
        self.ui
            .get(key)
            .and_then(|v| parse_style(v).ok())
            .map(|s| self.style(&s))
            .unwrap_or_default()
    }

    /// The style of `key`, or of `fallback` when the theme (and every
    /// theme it inherits) leaves `key` out: a user theme written before a
    /// key existed still draws it sensibly.
    pub fn ui_or(&self, key: &str, fallback: &str) -> Style {
        if self.ui.contains_key(key) {
            self.ui(key)
        } else {
            self.ui(fallback)
        }
    }

    /// The colours this terminal shows, for styles that come from outside
    /// the theme (a job's ANSI output).
    pub fn depth(&self) -> ColorDepth {
        self.depth
    }

    pub fn style(&self, s: &ThemeStyle) -> Style {
        let mut style = Style::default();
        if let Some(fg) = s.fg.and_then(|c| self.color(c)) {
            style = style.fg(fg);
        }
        if let Some(bg) = s.bg.and_then(|c| self.color(c)) {
            style = style.bg(bg);
        }
        if s.bold {
            style = style.add_modifier(Modifier::BOLD);
        }
        if s.italic {
            style = style.add_modifier(Modifier::ITALIC);
        }
        style
    }

    pub fn span_style(&self, s: &SpanStyle) -> Style {
        self.style(&ThemeStyle {
            fg: s.fg,
            bg: None,
            bold: s.bold,
            italic: s.italic,
        })
    }

    /// A colour as this terminal can show it.
    pub fn color(&self, Rgb(r, g, b): Rgb) -> Option<Color> {
        match self.depth {
            ColorDepth::None => None,
            ColorDepth::TrueColor => Some(Color::Rgb(r, g, b)),
            ColorDepth::Ansi256 => Some(Color::Indexed(nearest_256(r, g, b))),
            ColorDepth::Ansi16 => Some(nearest_16(r, g, b)),
        }
    }

    /// The syntax scopes for the highlighter.
    pub fn syntax_palette(&self) -> SyntaxPalette {
        SyntaxPalette {
            rules: self
                .syntax
                .iter()
                .map(|(scope, s)| {
                    (
                        scope.clone(),
                        SpanStyle {
                            fg: s.fg,
                            bold: s.bold,
                            italic: s.italic,
                        },
                    )
                })
                .collect(),
        }
    }
}

fn invalid(file: &str, key: &str, message: &str) -> ThemeError {
    ThemeError::Invalid {
        file: file.to_string(),
        message: format!("`{key}`: {message}"),
    }
}

fn find_theme(name: &str, user_dir: Option<&Path>) -> Result<(String, String), ThemeError> {
    if let Some(dir) = user_dir {
        let path = dir.join(format!("{name}.toml"));
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok((path.display().to_string(), text));
        }
    }
    SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| (format!("themes/{n}.toml"), text.to_string()))
        .ok_or_else(|| ThemeError::Unknown(name.to_string()))
}

fn parse_style(value: &toml::Value) -> Result<ThemeStyle, String> {
    match value {
        toml::Value::String(hex) => Ok(ThemeStyle {
            fg: Some(parse_hex(hex)?),
            ..ThemeStyle::default()
        }),
        toml::Value::Table(t) => {
            let mut style = ThemeStyle::default();
            for (k, v) in t {
                match (k.as_str(), v) {
                    ("fg", toml::Value::String(h)) => style.fg = Some(parse_hex(h)?),
                    ("bg", toml::Value::String(h)) => style.bg = Some(parse_hex(h)?),
                    ("bold", toml::Value::Boolean(b)) => style.bold = *b,
                    ("italic", toml::Value::Boolean(b)) => style.italic = *b,
                    _ => return Err(format!("unexpected `{k}` (use fg, bg, bold, italic)")),
                }
            }
            Ok(style)
        }
        other => Err(format!("expected \"#rrggbb\" or a table, found {other}")),
    }
}

fn parse_hex(text: &str) -> Result<Rgb, String> {
    let hex = text.strip_prefix('#').unwrap_or(text);
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
    };
    match (hex.len(), channel(0), channel(2), channel(4)) {
        (6, Some(r), Some(g), Some(b)) => Ok(Rgb(r, g, b)),
        _ => Err(format!("{text:?} is not a colour like \"#1d2021\"")),
    }
}

/// The nearest xterm-256 index: the 6x6x6 cube or the grey ramp.
pub fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let cube = |v: u8| {
        LEVELS
            .iter()
            .enumerate()
            .min_by_key(|(_, l)| (i32::from(**l) - i32::from(v)).abs())
            .map(|(i, _)| i as u8)
            .unwrap_or(0)
    };
    let (cr, cg, cb) = (cube(r), cube(g), cube(b));
    let cube_rgb = (
        LEVELS[cr as usize],
        LEVELS[cg as usize],
        LEVELS[cb as usize],
    );
    let avg = (u16::from(r) + u16::from(g) + u16::from(b)) / 3;
    let grey_index = ((avg.saturating_sub(8)) / 10).min(23) as u8;
    let grey = 8 + 10 * grey_index;
    let dist = |(x, y, z): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        d(x, r) + d(y, g) + d(z, b)
    };
    if dist((grey, grey, grey)) < dist(cube_rgb) {
        232 + grey_index
    } else {
        16 + 36 * cr + 6 * cg + cb
    }
}

/// The nearest of the 16 ANSI colours.
pub fn nearest_16(r: u8, g: u8, b: u8) -> Color {
    const ANSI: [(Color, (u8, u8, u8)); 16] = [
        (Color::Black, (0, 0, 0)),
        (Color::Red, (205, 0, 0)),
        (Color::Green, (0, 205, 0)),
        (Color::Yellow, (205, 205, 0)),
        (Color::Blue, (0, 0, 238)),
        (Color::Magenta, (205, 0, 205)),
        (Color::Cyan, (0, 205, 205)),
        (Color::Gray, (229, 229, 229)),
        (Color::DarkGray, (127, 127, 127)),
        (Color::LightRed, (255, 0, 0)),
        (Color::LightGreen, (0, 255, 0)),
        (Color::LightYellow, (255, 255, 0)),
        (Color::LightBlue, (92, 92, 255)),
        (Color::LightMagenta, (255, 0, 255)),
        (Color::LightCyan, (0, 255, 255)),
        (Color::White, (255, 255, 255)),
    ];
    let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
    ANSI.iter()
        .min_by_key(|(_, (x, y, z))| d(*x, r) + d(*y, g) + d(*z, b))
        .map(|(c, _)| *c)
        .unwrap_or(Color::Reset)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG's contrast ratio of two colours.
    fn contrast(a: Rgb, b: Rgb) -> f64 {
        fn luminance(Rgb(r, g, b): Rgb) -> f64 {
            let channel = |c: u8| {
                let c = f64::from(c) / 255.0;
                if c <= 0.039_28 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
        }
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// Text with the tokens of many languages: comments, strings, numbers,
    /// keywords, names, properties, tags, markup, headings.
    const SAMPLE: &str = "# Heading\n\
        A paragraph of **bold**, _emphasis_ and `code` with a [link](http://x.y).\n\
        // a comment\n/* a block */\n\
        import { a } from \"b\";\n\
        const x = 1.5; let y = 'str'; function f(p) { return p.prop + this.x; }\n\
        export default () => <div className=\"c\" onClick={f}>text {y}</div>;\n\
        def g(self, n: int) -> None:\n    return print(n, True)  # py\n\
        key = \"value\"\n[table]\nSELECT * FROM t WHERE id = 1;\n\
        <?php echo $v; ?>\n#include <stdio.h>\nfn main() -> u8 { 0 }\n";

    #[test]
    fn every_token_of_every_syntax_is_readable_in_every_theme() {
        let mut bad = Vec::new();
        for (name, _) in SHIPPED {
            let theme = Theme::load(name, None, ColorDepth::TrueColor).unwrap();
            let ui = |key: &str| theme.ui.get(key).and_then(|v| parse_style(v).ok());
            let background = ui("background").and_then(|s| s.fg).unwrap();
            let foreground = ui("foreground").and_then(|s| s.fg).unwrap();
            let highlighter = crate::editor::highlight::Highlighter::new(&theme.syntax_palette());
            let lines: Vec<&str> = SAMPLE.lines().collect();
            for path in highlighter.sample_paths() {
                let mut cache = highlighter.cache_for(&path);
                let spans = highlighter.highlight(
                    &mut cache,
                    |i| lines.get(i).map(|l| std::borrow::Cow::Borrowed(*l)),
                    0,
                    lines.len(),
                );
                for (style, text) in spans.into_iter().flatten() {
                    let fg = style.fg.unwrap_or(foreground);
                    let ratio = contrast(fg, background);
                    if ratio < 3.0 && !text.trim().is_empty() {
                        bad.push(format!(
                            "{name} {path} {text:?}: {fg:?} on {background:?} is {ratio:.1}:1"
                        ));
                    }
                }
            }
        }
        bad.sort();
        bad.dedup();
        assert!(
            bad.is_empty(),
            "{} unreadable spans:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }

    #[test]
    fn the_theme_background_is_painted_unless_colour_is_off() {
        let dark = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
        assert_eq!(dark.base().bg, Some(Color::Rgb(0x1d, 0x20, 0x21)));
        assert_eq!(dark.base().fg, Some(Color::Rgb(0xd5, 0xc4, 0xa1)));
        let light = Theme::load("light", None, ColorDepth::Ansi256).unwrap();
        assert!(matches!(light.base().bg, Some(Color::Indexed(_))));
        let plain = Theme::load("dark", None, ColorDepth::None).unwrap();
        assert_eq!(plain.base(), Style::default());
        assert_eq!(
            plain.ui("selection"),
            Style::default().add_modifier(Modifier::REVERSED),
            "without colour the selection is reverse video"
        );
        assert_eq!(
            plain.ui("title"),
            Style::default().add_modifier(Modifier::BOLD)
        );
    }

    #[test]
    fn every_shipped_theme_loads() {
        for (name, _) in SHIPPED {
            let theme = Theme::load(name, None, ColorDepth::TrueColor).unwrap();
            assert!(!theme.syntax_palette().rules.is_empty(), "{name}");
            assert_ne!(theme.ui("border"), Style::default(), "{name}");
        }
    }

    #[test]
    fn inherits_overrides_only_what_it_sets() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "inherits = \"dark\"\n[ui]\nborder = \"#ff0000\"\n",
        )
        .unwrap();
        let mine = Theme::load("mine", Some(dir.path()), ColorDepth::TrueColor).unwrap();
        let dark = Theme::load("dark", None, ColorDepth::TrueColor).unwrap();
        assert_eq!(mine.ui("border").fg, Some(Color::Rgb(255, 0, 0)));
        assert_eq!(mine.ui("title"), dark.ui("title"));
        std::fs::write(dir.path().join("loop.toml"), "inherits = \"loop\"\n").unwrap();
        assert!(matches!(
            Theme::load("loop", Some(dir.path()), ColorDepth::TrueColor),
            Err(ThemeError::Cycle(_))
        ));
        std::fs::write(dir.path().join("bad.toml"), "[ui]\nborder = \"red\"\n").unwrap();
        let err = Theme::load("bad", Some(dir.path()), ColorDepth::TrueColor)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.toml") && err.contains("ui.border"),
            "{err}"
        );
    }

    #[test]
    fn job_colours_are_in_every_theme_and_fall_back_when_missing() {
        for (name, _) in SHIPPED {
            let theme = Theme::load(name, None, ColorDepth::TrueColor).unwrap();
            for key in [
                "job_queued",
                "job_running",
                "job_succeeded",
                "job_failed",
                "job_retrying",
                "job_dead",
                "job_cancelled",
                "job_interrupted",
                "search_match",
                "search_current",
            ] {
                assert!(theme.ui.contains_key(key), "{name} has no {key}");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("old.toml"), "[ui]\nerror = \"#ff0000\"\n").unwrap();
        let old = Theme::load("old", Some(dir.path()), ColorDepth::TrueColor).unwrap();
        assert_eq!(
            old.ui_or("job_failed", "error").fg,
            Some(Color::Rgb(255, 0, 0))
        );
    }

    #[test]
    fn colours_degrade_to_what_the_terminal_has() {
        let rgb = Rgb(0xfb, 0x49, 0x34);
        let at = |depth| Theme::load("dark", None, depth).unwrap().color(rgb);
        assert_eq!(
            at(ColorDepth::TrueColor),
            Some(Color::Rgb(0xfb, 0x49, 0x34))
        );
        assert_eq!(at(ColorDepth::Ansi256), Some(Color::Indexed(203)));
        assert_eq!(at(ColorDepth::Ansi16), Some(Color::LightRed));
        assert_eq!(at(ColorDepth::None), None);
        assert_eq!(nearest_256(0, 0, 0), 16);
        assert_eq!(nearest_256(128, 128, 128), 244);
    }
}
