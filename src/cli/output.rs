//! Text and JSON printing shared by the verbs. Anything that came from a
//! file, an export or a user goes through [`printable`] before it reaches
//! the terminal.

use std::io::Write;

use crate::error::Error;
use crate::store::workspaces::SkippedEntry;
use crate::workspace::Report;

pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<(), Error> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| Error::stdout(std::io::Error::other(e)))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(Error::stdout)
}

/// Writes `bytes` to stdout as they are.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(Error::stdout)
}

/// `text` with control characters escaped, so a file name cannot move the
/// cursor, retitle the terminal or forge a line of a report.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// How a column of a [`Table`] lines up.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Align {
    Left(usize),
    Right(usize),
}

/// A plain text table: columns of a fixed width, two spaces apart, and a
/// last column that takes the rest of the line. Cells are printed as
/// given: escape what came from outside with [`printable`] first.
pub(crate) struct Table<'a> {
    columns: &'a [(&'a str, Align)],
    last: &'a str,
}

impl<'a> Table<'a> {
    pub(crate) fn new(columns: &'a [(&'a str, Align)], last: &'a str) -> Table<'a> {
        Table { columns, last }
    }

    fn line(&self, cells: &[&str], last: &str) -> String {
        let mut out = String::new();
        for ((_, align), cell) in self.columns.iter().zip(cells) {
            match *align {
                Align::Left(width) => out.push_str(&format!("{cell:<width$}  ")),
                Align::Right(width) => out.push_str(&format!("{cell:>width$}  ")),
            }
        }
        out.push_str(last);
        out
    }

    /// The header, then one line per row (its cells, then the last column).
    pub(crate) fn print(&self, rows: impl IntoIterator<Item = (Vec<String>, String)>) {
        let names: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        println!("{}", self.line(&names, self.last));
        for (cells, last) in rows {
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            println!("{}", self.line(&cells, &last));
        }
    }
}

/// 1536 → "1.5 KiB".
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A workspace's metadata and what was skipped, as `import` and `show` print it.
pub(crate) fn print_report(report: &Report) {
    println!("  workspace   {}", report.workspace);
    println!("  storage     {}", report.storage_type.as_str());
    println!("  source      {}", printable(&report.source));
    if let Some(repo) = &report.repo_path {
        println!("  repository  {}", printable(repo));
    }
    println!("  taken over  {}", report.taken_over_at);
    println!("  files       {}", report.files_count);
    println!(
        "  bytes       {} ({})",
        report.bytes,
        human_bytes(report.bytes)
    );
    println!("  ignored     {}", report.ignored);
    for entry in report.ignored_paths.iter().flatten() {
        println!(
            "    {}  (rule {})",
            printable(&entry.path),
            printable(&entry.rule)
        );
    }
    println!("  skipped     {}", report.skipped.len());
    for entry in &report.skipped {
        let size = entry
            .size
            .map(|size| format!(" ({})", human_bytes(size)))
            .unwrap_or_default();
        println!(
            "    {:<12} {}{size}{}",
            entry.reason,
            printable(&entry.path),
            rule_note(entry)
        );
    }
    print_secret_hint(&report.skipped);
}

/// `  [rule stripe-secret-key]` after a skipped secret's path.
pub(crate) fn rule_note(entry: &SkippedEntry) -> String {
    match &entry.rule {
        Some(rule) => format!("  [rule {}]", printable(rule)),
        None => String::new(),
    }
}

/// What to do about skipped secrets, once under the list.
pub(crate) fn print_secret_hint(skipped: &[SkippedEntry]) {
    if let Some(hint) = skipped.iter().find_map(|e| e.hint) {
        println!("  secrets     {hint}");
    }
}
