//! The terminal UI. The only module that knows ratatui and crossterm.
//!
//! Draws only when something changed, each frame wrapped in synchronized
//! output (DECSET 2026) so SSH and tmux never show half a frame; the
//! terminal is restored on exit, on error and on panic.

mod app;
pub(crate) mod keymap;
mod panes;
pub(crate) mod theme;

use std::io::{Write, stdout};

use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, event, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::config::Config;
use crate::store::Store;
use app::App;
use keymap::Keymap;
use theme::{ColorDepth, Theme};

/// Builds the app from the config: theme and keymap errors are shown in the
/// status bar, and the defaults stay in use.
pub(crate) fn build_app(store: Store, config: &Config) -> anyhow::Result<App> {
    let depth = ColorDepth::detect();
    let user_themes = config.config_dir.as_ref().map(|d| d.join("themes"));
    let mut problems = Vec::new();
    let theme = match Theme::load(&config.theme, user_themes.as_deref(), depth) {
        Ok(theme) => theme,
        Err(e) => {
            problems.push(e.to_string());
            Theme::load("dark", None, depth)?
        }
    };
    let user_keymap = config.config_dir.as_ref().map(|d| d.join("keymap.toml"));
    let (keymap, errors) = Keymap::load(config.keymap.as_deref(), user_keymap.as_deref());
    problems.extend(errors.iter().map(ToString::to_string));
    let mut app = App::new(store, theme, keymap)?;
    if !problems.is_empty() {
        app.notify(format!("{} (defaults in use)", problems.join("; ")), true);
    }
    Ok(app)
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(stdout(), LeaveAlternateScreen, cursor::Show);
}

/// Runs the UI until the user quits.
pub fn run(store: Store, config: &Config) -> anyhow::Result<()> {
    let mut app = build_app(store, config)?;

    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        default_hook(info);
    }));
    enable_raw_mode()?;
    execute!(stdout(), EnterAlternateScreen, cursor::Hide)?;
    let result = event_loop(&mut app);
    restore_terminal();
    result
}

fn event_loop(app: &mut App) -> anyhow::Result<()> {
    let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
    let mut dirty = true;
    while !app.quit {
        if dirty {
            execute!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
            terminal.draw(|frame| app.render(frame.area(), frame.buffer_mut()))?;
            execute!(terminal.backend_mut(), EndSynchronizedUpdate)?;
            terminal.backend_mut().flush()?;
        }
        // Block until the next event: no redraw, no CPU, while idle.
        let ev = event::read()?;
        dirty = app.handle_event(&ev);
        // Drain what is already queued before drawing once.
        while !app.quit && event::poll(std::time::Duration::ZERO)? {
            dirty |= app.handle_event(&event::read()?);
        }
    }
    Ok(())
}
