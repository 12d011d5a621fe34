//! The Prometheus text exposition format (version 0.0.4): label sets and
//! their escaping, sample values, and families of counters, gauges and
//! histograms, written sorted by name and label set.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The `Content-Type` of the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label set as the text format writes it: `a="x",b="y"`, in the order
/// given (callers give names sorted).
pub(crate) fn labels(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        escape_label(&mut out, value);
        out.push('"');
    }
    out
}

/// A label value: backslash, double quote and line feed escaped.
fn escape_label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// HELP text: backslash and line feed escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as the text format writes it.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        // Rust never writes an exponent here: `0.005`, `3`, `1800`.
        format!("{value}")
    }
}

/// How a family's samples are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One histogram series: cumulative counts per bound.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Histogram {
    pub buckets: Vec<u64>,
    pub count: u64,
    pub sum: f64,
}

/// A metric family: its samples keyed by their rendered label set.
#[derive(Debug)]
pub(crate) struct Family {
    help: String,
    pub kind: Kind,
    pub values: BTreeMap<String, f64>,
    pub histograms: BTreeMap<String, Histogram>,
}

impl Family {
    pub(crate) fn new(kind: Kind, help: &str) -> Family {
        Family {
            help: help.to_string(),
            kind,
            values: BTreeMap::new(),
            histograms: BTreeMap::new(),
        }
    }

    fn write(&self, name: &str, bounds: &[f64], out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {}", escape_help(&self.help));
        let _ = writeln!(out, "# TYPE {name} {}", self.kind.as_str());
        for (labels, value) in &self.values {
            let _ = writeln!(out, "{name}{} {}", braces(labels), number(*value));
        }
        for (labels, h) in &self.histograms {
            let sep = if labels.is_empty() { "" } else { "," };
            for (bound, count) in bounds.iter().zip(&h.buckets) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{{labels}{sep}le=\"{}\"}} {count}",
                    number(*bound)
                );
            }
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{} {}", braces(labels), number(h.sum));
            let _ = writeln!(out, "{name}_count{} {}", braces(labels), h.count);
        }
    }
}

fn braces(labels: &str) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    }
}

/// Whether a metric name fits the text format.
pub(crate) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The text of `families`, sorted by name; histograms count against
/// `bounds` (seconds).
pub(crate) fn write(families: &BTreeMap<String, Family>, bounds: &[f64]) -> String {
    let mut out = String::new();
    for (name, family) in families {
        family.write(name, bounds, &mut out);
    }
    out
}

#[cfg(test)]
pub(crate) mod check {
    //! What a test of a rendered text looks at.

    use std::collections::BTreeMap;

    /// Every sample line has the shape of the text format.
    pub(crate) fn assert_well_formed(text: &str) {
        let sample = regex::Regex::new(
            r#"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+-]+|[+-]Inf|NaN)$"#,
        )
        .unwrap();
        let comment = regex::Regex::new(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$").unwrap();
        assert!(text.ends_with('\n'));
        for line in text.lines() {
            if line.starts_with('#') {
                assert!(comment.is_match(line), "bad comment line: {line:?}");
            } else {
                assert!(sample.is_match(line), "bad sample line: {line:?}");
            }
        }
    }

    /// The value of one sample line, by its name and labels.
    pub(crate) fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .map(|v| v.parse().unwrap())
    }

    /// Every histogram's buckets only grow, and `+Inf` equals `_count`.
    pub(crate) fn assert_histograms_hold_together(text: &str, buckets_per_series: usize) {
        let mut buckets: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut counts: BTreeMap<String, f64> = BTreeMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (series, v) = line.rsplit_once(' ').unwrap();
            let v: f64 = v.parse().unwrap();
            if let Some((name, rest)) = series.split_once("_bucket{") {
                let labels = rest.split("le=").next().unwrap().trim_end_matches(',');
                buckets
                    .entry(format!("{name}{{{labels}}}"))
                    .or_default()
                    .push(v);
            } else if let Some((name, rest)) = series.split_once("_count") {
                let labels = rest.trim_start_matches('{').trim_end_matches('}');
                counts.insert(format!("{name}{{{labels}}}"), v);
            }
        }
        assert!(!buckets.is_empty());
        for (series, values) in &buckets {
            assert_eq!(values.len(), buckets_per_series + 1, "{series}");
            assert!(
                values.windows(2).all(|w| w[0] <= w[1]),
                "{series}: {values:?}"
            );
            assert_eq!(values.last(), counts.get(series), "{series}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check::assert_well_formed;
    use super::*;

    #[test]
    fn the_format_check_catches_bad_lines() {
        let bad = std::panic::catch_unwind(|| assert_well_formed("metric{a=\"x} 1\n"));
        assert!(bad.is_err());
        let bad = std::panic::catch_unwind(|| assert_well_formed("9metric 1\n"));
        assert!(bad.is_err());
        assert_well_formed("m{a=\"x\\\"y\",b=\"\"} -1.5\nm_bucket{le=\"+Inf\"} 3\n");
    }

    #[test]
    fn help_text_is_escaped() {
        assert_eq!(escape_help("a\\b\nc"), "a\\\\b\\nc");
        assert_eq!(labels(&[("a", "x\"y"), ("b", "")]), "a=\"x\\\"y\",b=\"\"");
    }
}
