//! Reading an iCalendar file: its structure checked line by line (so a
//! malformed file is refused with the line that is wrong, before anything
//! is stored), then parsed with `calcard` into the events [`recur`]
//! expands. An event that cannot be understood (no UID, no start, a zone
//! nobody knows, a rule that does not parse) is skipped and listed with
//! its line; the rest is read.
//!
//! [`recur`]: super::recur

use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarParameterName,
    ICalendarProperty, ICalendarStatus, ICalendarValue,
};

use super::MeetingsError;

/// A calendar's text that is not iCalendar: the physical line and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    pub line: usize,
    pub what: String,
}

/// An event left out of an import, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Skipped {
    /// The line its `BEGIN:VEVENT` is on.
    pub line: usize,
    pub uid: Option<String>,
    pub reason: String,
}

/// Checks that `text` is well-formed iCalendar: it starts with
/// `BEGIN:VCALENDAR`, every content line (after unfolding) has a name and
/// a colon, and every `BEGIN` has its `END`. Answers the lines each
/// `BEGIN:VEVENT` is on, in order.
pub(crate) fn check_structure(text: &str) -> Result<Vec<usize>, Malformed> {
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut events = Vec::new();
    let mut seen_any = false;
    let mut logical: Option<(usize, String)> = None;
    let lines = text.split('\n').enumerate();
    let bad = |line: usize, what: String| Malformed { line, what };
    let mut check = |line: usize, content: &str| -> Result<(), Malformed> {
        let Some(colon) = value_colon(content) else {
            return Err(bad(
                line,
                format!("\"{}\" has no colon after its name", clip(content)),
            ));
        };
        let head = &content[..colon];
        let name = head.split(';').next().unwrap_or_default();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(bad(
                line,
                format!("\"{}\" is not a property name", clip(name)),
            ));
        }
        let value = content[colon + 1..].trim();
        let opens_calendar =
            name.eq_ignore_ascii_case("BEGIN") && value.eq_ignore_ascii_case("VCALENDAR");
        if !seen_any && !opens_calendar {
            return Err(bad(line, "a calendar starts with BEGIN:VCALENDAR".into()));
        }
        seen_any = true;
        if name.eq_ignore_ascii_case("BEGIN") {
            if stack.is_empty() && !value.eq_ignore_ascii_case("VCALENDAR") {
                return Err(bad(line, format!("BEGIN:{value} outside the calendar")));
            }
            if value.eq_ignore_ascii_case("VEVENT") {
                events.push(line);
            }
            stack.push((value.to_ascii_uppercase(), line));
        } else if name.eq_ignore_ascii_case("END") {
            match stack.pop() {
                Some((open, _)) if open.eq_ignore_ascii_case(value) => {}
                Some((open, at)) => {
                    return Err(bad(
                        line,
                        format!("END:{value} where END:{open} (begun on line {at}) was expected"),
                    ));
                }
                None => return Err(bad(line, format!("END:{value} without its BEGIN"))),
            }
        } else if stack.is_empty() {
            return Err(bad(line, format!("{name} outside the calendar")));
        }
        Ok(())
    };
    for (index, raw) in lines {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.starts_with([' ', '\t']) {
            match &mut logical {
                Some((_, content)) => content.push_str(&raw[1..]),
                None => {
                    return Err(bad(
                        index + 1,
                        "a folded line with nothing before it".into(),
                    ));
                }
            }
            continue;
        }
        if let Some((line, content)) = logical.take() {
            check(line, &content)?;
        }
        if !raw.trim().is_empty() {
            logical = Some((index + 1, raw.to_string()));
        }
    }
    if let Some((line, content)) = logical.take() {
        check(line, &content)?;
    }
    if let Some((open, line)) = stack.last() {
        return Err(bad(line.to_owned(), format!("BEGIN:{open} is never ended")));
    }
    if !seen_any {
        return Err(bad(1, "the file is empty".into()));
    }
    Ok(events)
}

/// The colon that ends a content line's name and parameters: the first
/// outside a quoted parameter value.
fn value_colon(content: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, b) in content.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// A parsed calendar: its components and the line of each VEVENT.
pub(crate) struct Document {
    pub calendar: ICalendar,
    /// `event_lines[i]` is the line of the i-th VEVENT component.
    pub event_lines: Vec<usize>,
}

/// Checks and parses `text`, read from `source_name` (for messages).
pub(crate) fn parse(source_name: &str, text: &str) -> Result<Document, MeetingsError> {
    let malformed = |m: Malformed| MeetingsError::Malformed {
        source_name: source_name.to_string(),
        line: m.line,
        what: m.what,
    };
    let event_lines = check_structure(text).map_err(malformed)?;
    let calendar = ICalendar::parse(text).map_err(|entry| {
        malformed(Malformed {
            line: 1,
            what: format!("not an iCalendar file ({entry:?})"),
        })
    })?;
    Ok(Document {
        calendar,
        event_lines,
    })
}

/// The first value of `prop` as text.
pub(crate) fn text(comp: &ICalendarComponent, prop: &ICalendarProperty) -> Option<String> {
    let entry = comp.property(prop)?;
    entry.values.first().and_then(value_text)
}

/// The first value of `prop` as text, borrowed.
pub(crate) fn text_ref<'c>(
    comp: &'c ICalendarComponent,
    prop: &ICalendarProperty,
) -> Option<&'c str> {
    comp.property(prop)?.values.first()?.as_text()
}

fn value_text(value: &ICalendarValue) -> Option<String> {
    match value {
        ICalendarValue::Text(t) => Some(t.clone()),
        ICalendarValue::Uri(u) => Some(u.to_unwrapped_string()),
        other => other.as_text().map(str::to_string),
    }
    .filter(|t| !t.is_empty())
}

/// A person named by an ORGANIZER or ATTENDEE line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Address {
    pub email: String,
    pub name: Option<String>,
}

/// The ORGANIZER or ATTENDEEs of `comp`: the address without `mailto:`
/// and the CN. An address that is no email (a room's URN) is left out.
pub(crate) fn addresses(comp: &ICalendarComponent, prop: &ICalendarProperty) -> Vec<Address> {
    comp.properties(prop)
        .filter_map(|entry| {
            let raw = entry.values.first().and_then(value_text)?;
            let email = calcard::icalendar::utils::strip_mailto_scheme(raw.trim()).to_string();
            if !email.contains('@') {
                return None;
            }
            let name = entry
                .parameter(&ICalendarParameterName::Cn)
                .and_then(|v| v.as_text())
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty());
            Some(Address { email, name })
        })
        .collect()
}

/// Whether `comp` says STATUS:CANCELLED.
pub(crate) fn cancelled(comp: &ICalendarComponent) -> bool {
    matches!(comp.status(), Some(ICalendarStatus::Cancelled))
}

/// Whether `comp` says STATUS:TENTATIVE.
pub(crate) fn tentative(comp: &ICalendarComponent) -> bool {
    matches!(comp.status(), Some(ICalendarStatus::Tentative))
}

/// The VEVENT components of `doc` with their lines.
pub(crate) fn events(doc: &Document) -> impl Iterator<Item = (u32, &ICalendarComponent, usize)> {
    doc.calendar
        .components
        .iter()
        .enumerate()
        .filter(|(_, c)| c.component_type == ICalendarComponentType::VEvent)
        .enumerate()
        .map(|(n, (id, c))| (id as u32, c, doc.event_lines.get(n).copied().unwrap_or(0)))
}

/// The text of the lines of property `prop` as written, for keeping:
/// `RRULE:...`, `EXDATE;TZID=...:...` joined by newlines.
pub(crate) fn lines_of(comp: &ICalendarComponent, prop: &ICalendarProperty) -> Option<String> {
    let mut out = String::new();
    for entry in comp.properties(prop) {
        let mut line = String::new();
        if entry.write_to(&mut line).is_ok() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(line.trim_end());
        }
    }
    (!out.is_empty()).then_some(out)
}
