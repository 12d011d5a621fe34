//! Tasks: the commands a workspace offers in the "Run task…" palette and to
//! `kollega run`.
//!
//! They are discovered from the files at the workspace root, in this order:
//! `.kollega.toml` (`[tasks]`), `package.json` (`scripts`), `Cargo.toml` and
//! a Makefile. A task of `.kollega.toml` replaces every discovered task of
//! its name. The files are read through a closure, so the same code serves
//! a folder on disk and a workspace kept in the store. A file that does not
//! parse adds a problem and no tasks; the other files still count.

use std::cell::RefCell;
use std::fmt;
use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The largest root file `discover_dir` reads.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// Lock files that pick the package manager of `package.json` scripts, in
/// the order they are looked for. Only whether they exist counts.
const LOCK_FILES: [(&str, &str); 4] = [
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lockb", "bun"),
    ("bun.lock", "bun"),
];

/// The names GNU make looks for, in its order; the first that exists is used.
const MAKEFILES: [&str; 3] = ["GNUmakefile", "makefile", "Makefile"];

/// The file a task was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TaskSource {
    PackageJson,
    Cargo,
    Makefile,
    Kollega,
}

impl TaskSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TaskSource::PackageJson => "package.json",
            TaskSource::Cargo => "Cargo.toml",
            TaskSource::Makefile => "Makefile",
            TaskSource::Kollega => ".kollega.toml",
        }
    }
}

impl fmt::Display for TaskSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TaskSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A command a workspace offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Task {
    pub name: String,
    pub source: TaskSource,
    /// A shell command line, run at the workspace root.
    pub command: String,
    pub description: Option<String>,
}

/// What `discover` found: the tasks in palette order, and what could not be
/// read, one line each, naming the file (and line and column when known).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Discovery {
    pub tasks: Vec<Task>,
    pub problems: Vec<String>,
}

/// Discovers the tasks of a workspace root. `read(path)` returns the text of
/// a root-level file, or None when it does not exist; for the lock files
/// (`pnpm-lock.yaml`, `yarn.lock`, `bun.lockb`, `bun.lock`) only whether it
/// returns Some counts.
pub(crate) fn discover(read: &dyn Fn(&str) -> Option<String>) -> Discovery {
    let mut problems = Vec::new();
    let mut tasks = match read(".kollega.toml") {
        Some(text) => kollega_tasks(without_bom(&text), &mut problems),
        None => Vec::new(),
    };
    let mut found = Vec::new();
    if let Some(text) = read("package.json") {
        found.extend(package_tasks(without_bom(&text), read, &mut problems));
    }
    if let Some(text) = read("Cargo.toml") {
        found.extend(cargo_tasks(without_bom(&text), &mut problems));
    }
    if let Some(text) = MAKEFILES.iter().find_map(|name| read(name)) {
        found.extend(make_tasks(without_bom(&text)));
    }
    found.retain(|t| !tasks.iter().any(|own| own.name == t.name));
    tasks.extend(found);
    Discovery { tasks, problems }
}

/// Discovers the tasks of the folder `dir`. A file larger than 1 MiB, not
/// UTF-8 or unreadable adds a problem and is left out.
pub(crate) fn discover_dir(dir: &Path) -> Discovery {
    let unread = RefCell::new(Vec::new());
    let read = |name: &str| match read_root_file(dir, name) {
        Ok(text) => text,
        Err(why) => {
            unread.borrow_mut().push(format!("{name}: {why}"));
            None
        }
    };
    let mut found = discover(&read);
    found.problems.extend(unread.into_inner());
    found
}

/// The text of file `name` in `dir`, None when there is no such file.
fn read_root_file(dir: &Path, name: &str) -> Result<Option<String>, String> {
    let path = dir.join(name);
    let meta = match fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be read: {e}")),
    };
    if !meta.is_file() {
        return Ok(None);
    }
    // Lock files are often larger than the limit, and only their presence
    // counts.
    if LOCK_FILES.iter().any(|(lock, _)| *lock == name) {
        return Ok(Some(String::new()));
    }
    let too_large = || "is larger than 1 MiB; it was not read".to_string();
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    File::open(&path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "is not UTF-8 text; it was not read".to_string())
}

fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// `word` as one shell word: as it is when that is safe, else in single
/// quotes.
fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c);
    if !word.is_empty() && !word.starts_with('=') && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A problem line: `file: line L, column C: message`, or `file: message`
/// when the position is not known.
fn problem(file: &str, text: &str, offset: Option<usize>, message: &str) -> String {
    match offset.and_then(|o| line_column(text, o)) {
        Some((line, column)) => format!("{file}: line {line}, column {column}: {message}"),
        None => format!("{file}: {message}"),
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> Option<(usize, usize)> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    Some((line, before[line_start..].chars().count() + 1))
}

fn toml_problem(file: &str, text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', "; ");
    problem(file, text, e.span().map(|s| s.start), &message)
}

/// The entries of a map in the order they are read. A repeated key keeps
/// its first place and its last value, as JavaScript's `JSON.parse` does.
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<V>(std::marker::PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = Ordered<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table (an object in JSON)")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut entries: Vec<(String, V)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, V>()? {
                    match entries.iter_mut().find(|(k, _)| *k == key) {
                        Some(entry) => entry.1 = value,
                        None => entries.push((key, value)),
                    }
                }
                Ok(Ordered(entries))
            }
        }

        d.deserialize_map(Entries(std::marker::PhantomData))
    }
}

// .kollega.toml

#[derive(Deserialize)]
struct KollegaFile {
    #[serde(default)]
    tasks: Option<Ordered<toml::Spanned<toml::Value>>>,
}

fn kollega_tasks(text: &str, problems: &mut Vec<String>) -> Vec<Task> {
    const FILE: &str = ".kollega.toml";
    let file: KollegaFile = match toml::from_str(text) {
        Ok(file) => file,
        Err(e) => {
            problems.push(toml_problem(FILE, text, &e));
            return Vec::new();
        }
    };
    let mut entries = file.tasks.map(|t| t.0).unwrap_or_default();
    // The TOML reader may hand tables over sorted by key; the spans give the
    // order of the file.
    entries.sort_by_key(|(_, value)| value.span().start);
    let mut tasks = Vec::new();
    for (name, value) in entries {
        let at = Some(value.span().start);
        let mut bad = |message: String| problems.push(problem(FILE, text, at, &message));
        if name.trim().is_empty() {
            bad("a task has an empty name; give it one".to_string());
            continue;
        }
        let (command, description) = match value.into_inner() {
            toml::Value::String(command) => (command, None),
            toml::Value::Table(table) => {
                let mut command = None;
                let mut description = None;
                for (key, value) in table {
                    match (key.as_str(), value) {
                        ("cmd", toml::Value::String(s)) => command = Some(s),
                        ("description", toml::Value::String(s)) => description = Some(s),
                        ("cmd" | "description", other) => bad(format!(
                            "task {name:?}: {key} must be a string (found {})",
                            other.type_str()
                        )),
                        (other, _) => bad(format!(
                            "task {name:?}: unknown key {other:?}; a task has cmd and description"
                        )),
                    }
                }
                let Some(command) = command else {
                    bad(format!(
                        "task {name:?} has no cmd; write {} = {{ cmd = \"...\" }}",
                        toml_key(&name)
                    ));
                    continue;
                };
                (command, description)
            }
            other => {
                bad(format!(
                    "task {name:?} is not a command (found {}); write {} = \"command\" or {} = {{ cmd = \"...\", description = \"...\" }}",
                    other.type_str(),
                    toml_key(&name),
                    toml_key(&name)
                ));
                continue;
            }
        };
        if command.trim().is_empty() {
            bad(format!("task {name:?} has an empty command"));
            continue;
        }
        tasks.push(Task {
            name,
            source: TaskSource::Kollega,
            command,
            description,
        });
    }
    tasks
}

/// `name` as a TOML key, quoted when it must be.
fn toml_key(name: &str) -> String {
    let bare = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if !name.is_empty() && name.chars().all(bare) {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

// package.json

#[derive(Default)]
struct PackageJson {
    scripts: Option<Ordered<serde_json::Value>>,
    package_manager: Option<String>,
}

impl<'de> Deserialize<'de> for PackageJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;

        impl<'de> Visitor<'de> for Fields {
            type Value = PackageJson;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PackageJson, A::Error> {
                let mut package = PackageJson::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "scripts" => package.scripts = map.next_value()?,
                        "packageManager" => {
                            let value: serde_json::Value = map.next_value()?;
                            package.package_manager = value.as_str().map(str::to_string);
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(package)
            }
        }

        d.deserialize_map(Fields)
    }
}

fn json_problem(file: &str, e: &serde_json::Error) -> String {
    let text = e.to_string();
    if e.line() == 0 {
        return format!("{file}: {text}");
    }
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text);
    format!(
        "{file}: line {}, column {}: {message}",
        e.line(),
        e.column()
    )
}

/// The package manager that runs the scripts: the one `packageManager`
/// names, else the one whose lock file is there, else npm.
fn package_manager(named: Option<&str>, read: &dyn Fn(&str) -> Option<String>) -> &'static str {
    const KNOWN: [&str; 4] = ["npm", "pnpm", "yarn", "bun"];
    if let Some(named) = named {
        let tool = named.split('@').next().unwrap_or_default();
        if let Some(known) = KNOWN.into_iter().find(|k| *k == tool) {
            return known;
        }
    }
    LOCK_FILES
        .iter()
        .find(|(lock, _)| read(lock).is_some())
        .map_or("npm", |(_, tool)| *tool)
}

fn package_tasks(
    text: &str,
    read: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> Vec<Task> {
    const FILE: &str = "package.json";
    let package: PackageJson = match serde_json::from_str(text) {
        Ok(package) => package,
        Err(e) => {
            problems.push(json_problem(FILE, &e));
            return Vec::new();
        }
    };
    let Some(scripts) = package.scripts else {
        return Vec::new();
    };
    let tool = package_manager(package.package_manager.as_deref(), read);
    let mut tasks = Vec::new();
    for (name, script) in scripts.0 {
        let serde_json::Value::String(script) = script else {
            problems.push(format!(
                "{FILE}: script {name:?} is not a string; it was left out"
            ));
            continue;
        };
        tasks.push(Task {
            command: format!("{tool} run {}", shell_quote(&name)),
            name,
            source: TaskSource::PackageJson,
            description: Some(script),
        });
    }
    tasks
}

// Cargo.toml

fn cargo_tasks(text: &str, problems: &mut Vec<String>) -> Vec<Task> {
    const FILE: &str = "Cargo.toml";
    let manifest: toml::Table = match toml::from_str(text) {
        Ok(manifest) => manifest,
        Err(e) => {
            problems.push(toml_problem(FILE, text, &e));
            return Vec::new();
        }
    };
    let is_table = |key: &str| manifest.get(key).is_some_and(toml::Value::is_table);
    let task = |name: &str, command: &str, description: &str| Task {
        name: name.to_string(),
        source: TaskSource::Cargo,
        command: command.to_string(),
        description: Some(description.to_string()),
    };
    if is_table("package") {
        vec![
            task("build", "cargo build", "Compile the package"),
            task("test", "cargo test", "Run the package's tests"),
            task("run", "cargo run", "Build and run the package's binary"),
            task("clippy", "cargo clippy", "Lint the package with Clippy"),
            task("check", "cargo check", "Check the package for errors"),
        ]
    } else if is_table("workspace") {
        vec![
            task("build", "cargo build --workspace", "Compile every member"),
            task("test", "cargo test --workspace", "Run every member's tests"),
            task(
                "clippy",
                "cargo clippy --workspace",
                "Lint every member with Clippy",
            ),
            task(
                "check",
                "cargo check --workspace",
                "Check every member for errors",
            ),
        ]
    } else {
        problems.push(format!(
            "{FILE}: has neither [package] nor [workspace]; cargo cannot build it"
        ));
        Vec::new()
    }
}

// Makefile

/// The explicit targets of a Makefile, in file order, each once.
fn make_tasks(text: &str) -> Vec<Task> {
    let mut tasks: Vec<Task> = Vec::new();
    // A `## text` line just above the current line.
    let mut above: Option<String> = None;
    let mut continued = false;
    let mut define_depth = 0usize;
    for line in text.lines() {
        let is_continuation = continued;
        continued = ends_in_continuation(line);
        let description_above = above.take();
        if is_continuation {
            continue;
        }
        if define_depth > 0 {
            if line.split_whitespace().next() == Some("endef") {
                define_depth -= 1;
            } else if starts_define(line) {
                define_depth += 1;
            }
            continue;
        }
        if line.starts_with('\t') {
            // A recipe line.
            continue;
        }
        let trimmed = line.trim_start();
        if let Some(comment) = trimmed.strip_prefix("##") {
            above = description(comment);
            continue;
        }
        if starts_define(line) {
            define_depth = 1;
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            continue;
        }
        let Some((names, inline)) = rule_targets(line) else {
            continue;
        };
        // `.PHONY: build` between a `## text` line and `build:` keeps it.
        if names.is_empty() && line.starts_with('.') {
            above = description_above;
            continue;
        }
        let description = inline.or(description_above);
        for name in names {
            match tasks.iter_mut().find(|t| t.name == name) {
                Some(task) => {
                    if task.description.is_none() {
                        task.description = description.clone();
                    }
                }
                None => tasks.push(Task {
                    command: format!("make {}", shell_quote(name)),
                    name: name.to_string(),
                    source: TaskSource::Makefile,
                    description: description.clone(),
                }),
            }
        }
    }
    tasks
}

/// Whether `line` ends in an odd number of backslashes, continuing on the
/// next line.
fn ends_in_continuation(line: &str) -> bool {
    line.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// Whether `line` starts a multi-line variable (`define NAME`, also after
/// `export`, `override` or `private`), whose lines up to `endef` are text.
fn starts_define(line: &str) -> bool {
    line.split_whitespace()
        .find(|w| !matches!(*w, "export" | "override" | "private"))
        == Some("define")
}

fn description(comment: &str) -> Option<String> {
    let text = comment.trim_start_matches('#').trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The explicit targets a rule line declares and its `## text`, or None
/// when the line is not a rule (an assignment, a directive, a
/// target-specific variable). Targets that start with `.`, pattern rules
/// and names built from variables or wildcards are left out.
fn rule_targets(line: &str) -> Option<(Vec<&str>, Option<String>)> {
    let (code, comment) = match line.find('#') {
        Some(i) => (&line[..i], Some(&line[i + 1..])),
        None => (line, None),
    };
    let colon = code.find(':')?;
    let (targets, rest) = (&code[..colon], &code[colon + 1..]);
    // `name := x`, `name ::= x` and `name :::= x` assign.
    if rest.trim_start_matches(':').starts_with('=') {
        return None;
    }
    // `NAME = a:b`, `NAME ?= c:d`: the colon is in the value.
    if targets.contains('=') {
        return None;
    }
    // `target: VAR = x` sets a variable for that target only.
    let prerequisites = rest.split(';').next().unwrap_or_default();
    if prerequisites.contains('=') {
        return None;
    }
    let targets = targets.trim_end();
    let targets = targets.strip_suffix('&').unwrap_or(targets);
    let names = targets
        .split_whitespace()
        .filter(|name| {
            !name.starts_with('.')
                && !name.contains(['%', '$', '*', '?', '[', ']', '\\', '(', ')', '{', '}'])
        })
        .collect();
    let inline = comment
        .and_then(|c| c.strip_prefix('#'))
        .and_then(description);
    Some((names, inline))
}

/// The tasks of a workspace's root: read from the store for a SQLite
/// workspace, from the folder for a folder or a repository.
pub(crate) fn for_place(store: &crate::store::Store, place: &super::kinds::Place) -> Discovery {
    use super::kinds::Place;
    match place {
        Place::Store { id, .. } => {
            let id = *id;
            discover(&|path: &str| {
                crate::store::files::content(&store.conn, id, path)
                    .ok()
                    .flatten()
            })
        }
        Place::Git { dir, .. } | Place::Dir(dir) => discover_dir(dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn files(list: &[(&str, &str)]) -> HashMap<String, String> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn found(list: &[(&str, &str)]) -> Discovery {
        let files = files(list);
        discover(&|name: &str| files.get(name).cloned())
    }

    /// (name, command) of every task.
    fn commands(d: &Discovery) -> Vec<(&str, &str)> {
        d.tasks
            .iter()
            .map(|t| (t.name.as_str(), t.command.as_str()))
            .collect()
    }

    fn names(d: &Discovery) -> Vec<&str> {
        d.tasks.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn package_scripts_run_with_npm_in_file_order() {
        let d = found(&[(
            "package.json",
            r#"{"name": "site", "scripts": {"dev": "next dev", "build": "next build", "lint": "eslint ."}}"#,
        )]);
        assert_eq!(
            commands(&d),
            [
                ("dev", "npm run dev"),
                ("build", "npm run build"),
                ("lint", "npm run lint")
            ]
        );
        assert_eq!(d.tasks[0].source, TaskSource::PackageJson);
        assert_eq!(d.tasks[0].description.as_deref(), Some("next dev"));
        assert!(d.problems.is_empty());
    }

    #[test]
    fn lock_files_pick_the_package_manager() {
        let package = r#"{"scripts": {"dev": "vite"}}"#;
        for (lock, tool) in [
            ("pnpm-lock.yaml", "pnpm"),
            ("yarn.lock", "yarn"),
            ("bun.lockb", "bun"),
            ("bun.lock", "bun"),
            ("package-lock.json", "npm"),
        ] {
            let d = found(&[("package.json", package), (lock, "")]);
            assert_eq!(d.tasks[0].command, format!("{tool} run dev"), "{lock}");
        }
        // `packageManager` wins over a lock file.
        let d = found(&[
            (
                "package.json",
                r#"{"packageManager": "yarn@4.1.0", "scripts": {"dev": "vite"}}"#,
            ),
            ("pnpm-lock.yaml", ""),
        ]);
        assert_eq!(d.tasks[0].command, "yarn run dev");
    }

    #[test]
    fn script_names_are_quoted_for_the_shell() {
        let d = found(&[(
            "package.json",
            r#"{"scripts": {"build:prod": "a", "test e2e": "b", "it's": "c", "$(rm -rf ~)": "d", "": "e", "@x/y+z": "f"}}"#,
        )]);
        assert_eq!(
            commands(&d),
            [
                ("build:prod", "npm run build:prod"),
                ("test e2e", "npm run 'test e2e'"),
                ("it's", r"npm run 'it'\''s'"),
                ("$(rm -rf ~)", "npm run '$(rm -rf ~)'"),
                ("", "npm run ''"),
                ("@x/y+z", "npm run @x/y+z"),
            ]
        );
    }

    #[test]
    fn odd_package_json_content() {
        // A repeated script keeps its place and takes the last text.
        let d = found(&[(
            "package.json",
            "\u{feff}{\"scripts\": {\"a\": \"1\", \"b\": 2, \"a\": \"3\"}}",
        )]);
        assert_eq!(commands(&d), [("a", "npm run a")]);
        assert_eq!(d.tasks[0].description.as_deref(), Some("3"));
        assert_eq!(
            d.problems,
            ["package.json: script \"b\" is not a string; it was left out"]
        );
        // No scripts, or null scripts: no tasks and no problem.
        for text in [r#"{"name": "x"}"#, r#"{"scripts": null}"#] {
            let d = found(&[("package.json", text)]);
            assert_eq!(d, Discovery::default(), "{text}");
        }
    }

    #[test]
    fn malformed_json_is_a_problem_with_its_position() {
        let d = found(&[
            (
                "package.json",
                "{\n  \"scripts\": {\n    \"dev\" \"vite\"\n}",
            ),
            ("Makefile", "all:\n"),
        ]);
        assert_eq!(names(&d), ["all"]);
        assert_eq!(
            d.problems,
            ["package.json: line 3, column 11: expected `:`"]
        );
        for text in [
            "[]",
            "\"x\"",
            r#"{"scripts": []}"#,
            r#"{"scripts": "dev"}"#,
            "",
        ] {
            let d = found(&[("package.json", text)]);
            assert!(d.tasks.is_empty(), "{text}");
            assert_eq!(d.problems.len(), 1, "{text}");
            assert!(d.problems[0].starts_with("package.json: "), "{text}");
        }
    }

    #[test]
    fn a_cargo_package_offers_build_test_run_clippy_check() {
        let d = found(&[(
            "Cargo.toml",
            "[package]\nname = \"x\"\nversion = \"0.1.0\"\n\n[workspace]\n",
        )]);
        assert_eq!(
            commands(&d),
            [
                ("build", "cargo build"),
                ("test", "cargo test"),
                ("run", "cargo run"),
                ("clippy", "cargo clippy"),
                ("check", "cargo check"),
            ]
        );
        assert!(d.tasks.iter().all(|t| t.source == TaskSource::Cargo));
        assert!(d.tasks.iter().all(|t| t.description.is_some()));
    }

    #[test]
    fn a_cargo_workspace_offers_workspace_wide_tasks_without_run() {
        let d = found(&[("Cargo.toml", "[workspace]\nmembers = [\"a\", \"b\"]\n")]);
        assert_eq!(
            commands(&d),
            [
                ("build", "cargo build --workspace"),
                ("test", "cargo test --workspace"),
                ("clippy", "cargo clippy --workspace"),
                ("check", "cargo check --workspace"),
            ]
        );
    }

    #[test]
    fn malformed_toml_is_a_problem_with_its_position() {
        let d = found(&[
            ("Cargo.toml", "[package]\nname = \"x\nversion = 1\n"),
            ("package.json", r#"{"scripts": {"dev": "vite"}}"#),
        ]);
        assert_eq!(names(&d), ["dev"]);
        assert_eq!(d.problems.len(), 1);
        assert!(
            d.problems[0].starts_with("Cargo.toml: line 2, column "),
            "{:?}",
            d.problems
        );

        let d = found(&[("Cargo.toml", "[dependencies]\nserde = \"1\"\n")]);
        assert!(d.tasks.is_empty());
        assert_eq!(
            d.problems,
            ["Cargo.toml: has neither [package] nor [workspace]; cargo cannot build it"]
        );

        let d = found(&[(".kollega.toml", "[tasks]\ndev = \"a\"\ndev = \"b\"\n")]);
        assert!(d.tasks.is_empty());
        assert!(
            d.problems[0].starts_with(".kollega.toml: line 3, column 1: "),
            "{:?}",
            d.problems
        );
    }

    #[test]
    fn makefile_targets_in_file_order_with_descriptions() {
        let make = "\
# Build settings
CC := gcc
CFLAGS ?= -O2 -DX=a:b
PREFIX = /usr/local:/opt
SHELL ::= /bin/bash
LATE :::= x
.DEFAULT_GOAL := build

## Compile everything
.PHONY: build
build: main.o util.o ## Build the binary
\t$(CC) -o app main.o util.o

## Run the tests
test: build
\t./run-tests.sh target: not-a-target

%.o: %.c
\t$(CC) -c $<

$(BUILD_DIR)/x: y
debug: CFLAGS += -g
debug: build

lint fmt: ## Tidy up
clean::
\trm -f app
clean::
\trm -f *.o
# plain comment
install: ; cp app $(PREFIX)
build: again
deploy  :   build
weird\\
continued: nope
define RECIPE
inside: define
endef
after-define:
";
        let d = found(&[("Makefile", make)]);
        assert_eq!(
            names(&d),
            [
                "build",
                "test",
                "debug",
                "lint",
                "fmt",
                "clean",
                "install",
                "deploy",
                "after-define"
            ]
        );
        assert!(d.tasks.iter().all(|t| t.source == TaskSource::Makefile));
        let described: Vec<(&str, Option<&str>)> = d
            .tasks
            .iter()
            .map(|t| (t.name.as_str(), t.description.as_deref()))
            .collect();
        assert_eq!(
            described[..5],
            [
                ("build", Some("Build the binary")),
                ("test", Some("Run the tests")),
                ("debug", None),
                ("lint", Some("Tidy up")),
                ("fmt", Some("Tidy up")),
            ]
        );
        assert_eq!(d.tasks[0].command, "make build");
        assert!(d.problems.is_empty());
    }

    #[test]
    fn makefile_descriptions_above_and_names() {
        let d = found(&[(
            "makefile",
            "## Start the server\n.PHONY: serve\nserve:\n\n## far away\n\nfar:\n# one hash\nnear:\nodd'name:\n",
        )]);
        assert_eq!(
            d.tasks
                .iter()
                .map(|t| (t.command.as_str(), t.description.as_deref()))
                .collect::<Vec<_>>(),
            [
                ("make serve", Some("Start the server")),
                ("make far", None),
                ("make near", None),
                (r"make 'odd'\''name'", None),
            ]
        );
        // GNU make reads GNUmakefile first, then makefile, then Makefile.
        let d = found(&[("Makefile", "a:\n"), ("GNUmakefile", "b:\n")]);
        assert_eq!(names(&d), ["b"]);
        let d = found(&[("Makefile", "a:\r\n\techo\r\nb: a\r\n")]);
        assert_eq!(names(&d), ["a", "b"]);
    }

    #[test]
    fn kollega_tasks_come_first_and_override() {
        let d = found(&[
            (
                ".kollega.toml",
                r#"
[editor]
theme = "dark"

[tasks]
test = { cmd = "npm test -- --watch=false", description = "Tests once" }
serve = "python -m http.server"
"build all" = { cmd = "make all" }
"#,
            ),
            (
                "package.json",
                r#"{"scripts": {"test": "vitest", "dev": "vite"}}"#,
            ),
            ("Cargo.toml", "[package]\nname = \"x\"\n"),
            ("Makefile", "serve:\n\nall:\n"),
        ]);
        assert_eq!(
            d.tasks
                .iter()
                .map(|t| (t.source, t.name.as_str()))
                .collect::<Vec<_>>(),
            [
                (TaskSource::Kollega, "test"),
                (TaskSource::Kollega, "serve"),
                (TaskSource::Kollega, "build all"),
                (TaskSource::PackageJson, "dev"),
                (TaskSource::Cargo, "build"),
                (TaskSource::Cargo, "run"),
                (TaskSource::Cargo, "clippy"),
                (TaskSource::Cargo, "check"),
                (TaskSource::Makefile, "all"),
            ]
        );
        assert_eq!(d.tasks[0].command, "npm test -- --watch=false");
        assert_eq!(d.tasks[0].description.as_deref(), Some("Tests once"));
        assert_eq!(d.tasks[1].description, None);
        assert!(d.problems.is_empty(), "{:?}", d.problems);
    }

    #[test]
    fn bad_kollega_entries_are_problems_and_the_rest_count() {
        let d = found(&[(
            ".kollega.toml",
            "[tasks]\nok = \"true\"\nnum = 3\nnocmd = { description = \"x\" }\ntypo = { cmd = \"ls\", descripton = \"y\" }\nempty = \"  \"\n",
        )]);
        assert_eq!(names(&d), ["ok", "typo"]);
        assert_eq!(
            d.problems,
            [
                ".kollega.toml: line 3, column 7: task \"num\" is not a command (found integer); write num = \"command\" or num = { cmd = \"...\", description = \"...\" }",
                ".kollega.toml: line 4, column 9: task \"nocmd\" has no cmd; write nocmd = { cmd = \"...\" }",
                ".kollega.toml: line 5, column 8: task \"typo\": unknown key \"descripton\"; a task has cmd and description",
                ".kollega.toml: line 6, column 9: task \"empty\" has an empty command",
            ]
        );
        // `tasks` that is not a table spoils the file.
        let d = found(&[(".kollega.toml", "tasks = 3\n")]);
        assert!(d.tasks.is_empty());
        assert!(d.problems[0].starts_with(".kollega.toml: line 1, column 9: "));
    }

    #[test]
    fn discover_dir_reads_the_root_and_skips_what_it_cannot() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("package.json"),
            r#"{"scripts": {"dev": "vite"}}"#,
        )
        .unwrap();
        // A lock file counts however large, and is not read.
        fs::write(dir.path().join("bun.lockb"), [0xff, 0x00, 0xfe]).unwrap();
        fs::write(
            dir.path().join("Cargo.toml"),
            "#".repeat(MAX_FILE_BYTES as usize + 1),
        )
        .unwrap();
        fs::write(dir.path().join("Makefile"), [b'a', b':', 0xff]).unwrap();
        let d = discover_dir(dir.path());
        assert_eq!(commands(&d), [("dev", "bun run dev")]);
        assert_eq!(
            d.problems,
            [
                "Cargo.toml: is larger than 1 MiB; it was not read",
                "Makefile: is not UTF-8 text; it was not read",
            ]
        );
        assert_eq!(
            discover_dir(&dir.path().join("missing")),
            Discovery::default()
        );
    }

    fn contents() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(prop_oneof![
            any::<String>(),
            "[{}\\[\\]\":, a-z0-9\n\\\\]{0,64}",
            "[\\[\\]=\"'{}., a-z\n#]{0,64}",
            "[a-z.:=%$()&;#\t \n\\\\]{0,64}",
        ])
    }

    proptest! {
        #[test]
        fn discover_never_panics(
            kollega in contents(),
            package in contents(),
            cargo in contents(),
            make in contents(),
            lock in contents(),
        ) {
            let mut files = HashMap::new();
            for (name, text) in [
                (".kollega.toml", kollega),
                ("package.json", package),
                ("Cargo.toml", cargo),
                ("Makefile", make),
                ("yarn.lock", lock),
            ] {
                if let Some(text) = text {
                    files.insert(name, text);
                }
            }
            let d = discover(&|name: &str| files.get(name).cloned());
            for task in &d.tasks {
                prop_assert!(!task.command.trim().is_empty());
            }
            for p in &d.problems {
                prop_assert!(
                    [".kollega.toml: ", "package.json: ", "Cargo.toml: "]
                        .iter()
                        .any(|f| p.starts_with(f)),
                    "{}",
                    p
                );
            }
        }
    }
}
