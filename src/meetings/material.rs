//! What a model may see of a meeting: the one place a request about a
//! meeting is built from, with its consent level enforced here.
//!
//! | consent | sent                                                                 |
//! |---------|----------------------------------------------------------------------|
//! | `basic` | the calendar's details only: title, times, zone, place, the names of the organizer and attendees (the name the calendar gives, else the address), and its description as the agenda |
//! | `plus`  | as basic, with the meeting's notes, transcripts, decisions and action items |
//! | `legal` | as plus; the post-brief also asks for legal flags (obligations, deadlines, contract terms) |
//!
//! Text hung on another meeting (an earlier decision of the series, an
//! open action of a stakeholder) is sent only when *that* meeting's
//! consent allows text. The meeting's link (`url`) is never sent: it often
//! carries a passcode. What consent held back is counted, never quoted.

use std::collections::HashMap;
use std::fmt::Write as _;

use rusqlite::Connection;

use crate::store::Result;
use crate::store::meetings::actions::{self, ActionFilter};
use crate::store::meetings::{self, Consent, MeetingRow};

/// At most this many open actions of the stakeholders and earlier
/// decisions go into a pre-brief.
const MAX_RELATED: usize = 50;

/// Whether a level lets note, transcript, decision and action text through.
pub(crate) fn allows_text(consent: Consent) -> bool {
    consent != Consent::Basic
}

/// What the request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Before the meeting: agenda, open actions of the people, earlier
    /// decisions of the series.
    Pre,
    /// After it: notes and transcripts into summary, decisions, actions.
    Post,
}

/// An action item as a model sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ActionLine {
    pub text: String,
    pub owner: Option<String>,
    pub due: Option<String>,
    pub status: &'static str,
}

/// What was held back, by kind: counts only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Withheld {
    pub notes: usize,
    pub transcripts: usize,
    pub decisions: usize,
    pub actions: usize,
    /// Actions and decisions of other meetings whose consent is basic.
    pub related: usize,
}

impl Withheld {
    pub(crate) fn any(&self) -> bool {
        self.notes + self.transcripts + self.decisions + self.actions + self.related > 0
    }

    /// "2 note(s), 1 transcript(s) withheld by consent basic", for the log.
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (n, what) in [
            (self.notes, "note(s)"),
            (self.transcripts, "transcript(s)"),
            (self.decisions, "decision(s)"),
            (self.actions, "action item(s)"),
            (self.related, "item(s) of other meetings"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.join(", ")
    }
}

/// A meeting as a model may see it under its consent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Material {
    pub meeting: MeetingRow,
    pub people: Vec<String>,
    pub agenda: Option<String>,
    pub notes: Vec<String>,
    /// (source name, text) of each transcript.
    pub transcripts: Vec<(String, String)>,
    pub decisions: Vec<String>,
    pub actions: Vec<ActionLine>,
    /// Pre-brief: open actions the people own, from meetings that allow it.
    pub open_actions: Vec<ActionLine>,
    /// Pre-brief: (date, text) of decisions of earlier meetings of the series.
    pub earlier_decisions: Vec<(String, String)>,
    pub withheld: Withheld,
}

fn action_line(a: actions::ActionRow) -> ActionLine {
    ActionLine {
        text: a.text,
        owner: a.owner,
        due: a.due,
        status: a.status.as_str(),
    }
}

/// Gathers what a request about meeting `id` for `purpose` may carry;
/// `None` when there is no such meeting.
pub(crate) fn gather(conn: &Connection, id: i64, purpose: Purpose) -> Result<Option<Material>> {
    let Some(meeting) = meetings::get(conn, id)? else {
        return Ok(None);
    };
    let text_ok = allows_text(meeting.consent);
    let people = meetings::attendees(conn, id)?
        .into_iter()
        .map(|a| {
            let name = a.name.filter(|n| !n.trim().is_empty()).unwrap_or(a.email);
            match a.role {
                meetings::Role::Organizer => format!("{name} (organizer)"),
                meetings::Role::Attendee => name,
            }
        })
        .collect();
    let agenda = meetings::description(conn, id)?.filter(|d| !d.trim().is_empty());
    let mut withheld = Withheld::default();
    let mut material = Material {
        meeting,
        people,
        agenda,
        notes: Vec::new(),
        transcripts: Vec::new(),
        decisions: Vec::new(),
        actions: Vec::new(),
        open_actions: Vec::new(),
        earlier_decisions: Vec::new(),
        withheld: Withheld::default(),
    };
    let notes = meetings::notes(conn, id)?;
    let transcripts = meetings::transcripts(conn, id)?;
    let decisions = meetings::decisions(conn, id)?;
    let own_actions = actions::list(
        conn,
        &ActionFilter {
            meeting_id: Some(id),
            ..ActionFilter::default()
        },
    )?;
    if text_ok {
        material.notes = notes.into_iter().map(|n| n.text).collect();
        if purpose == Purpose::Post {
            material.transcripts = transcripts
                .into_iter()
                .map(|t| (t.source_name, t.text))
                .collect();
        }
        material.decisions = decisions.into_iter().map(|d| d.text).collect();
        material.actions = own_actions.into_iter().map(action_line).collect();
    } else {
        withheld.notes = notes.len();
        withheld.transcripts = transcripts.len();
        withheld.decisions = decisions.len();
        withheld.actions = own_actions.len();
    }
    if purpose == Purpose::Pre {
        let mut consent_of: HashMap<i64, bool> = HashMap::new();
        let mut allowed = |conn: &Connection, meeting: i64| -> Result<bool> {
            if let Some(ok) = consent_of.get(&meeting) {
                return Ok(*ok);
            }
            let ok = meetings::get(conn, meeting)?.is_some_and(|m| allows_text(m.consent));
            consent_of.insert(meeting, ok);
            Ok(ok)
        };
        let mut seen = Vec::new();
        for person in meetings::attendees(conn, id)? {
            let open = actions::list(
                conn,
                &ActionFilter {
                    stakeholder_id: Some(person.stakeholder_id),
                    open: true,
                    ..ActionFilter::default()
                },
            )?;
            for action in open {
                if action.meeting_id == id || seen.contains(&action.id) {
                    continue;
                }
                seen.push(action.id);
                if !allowed(conn, action.meeting_id)? {
                    withheld.related += 1;
                } else if material.open_actions.len() < MAX_RELATED {
                    material.open_actions.push(action_line(action));
                }
            }
        }
        let earlier =
            meetings::earlier_in_series(conn, &material.meeting.uid, material.meeting.start_at)?;
        for past in earlier {
            let texts = meetings::decisions(conn, past.id)?;
            if texts.is_empty() {
                continue;
            }
            if !allows_text(past.consent) {
                withheld.related += texts.len();
                continue;
            }
            let date: String = crate::jobs::format_ms(past.start_at)
                .chars()
                .take(10)
                .collect();
            for d in texts {
                if material.earlier_decisions.len() < MAX_RELATED {
                    material.earlier_decisions.push((date.clone(), d.text));
                }
            }
        }
    }
    material.withheld = withheld;
    Ok(Some(material))
}

fn action_text(a: &ActionLine) -> String {
    let mut line = a.text.clone();
    let mut extra = Vec::new();
    if let Some(owner) = &a.owner {
        extra.push(format!("owner: {owner}"));
    }
    if let Some(due) = &a.due {
        extra.push(format!("due: {due}"));
    }
    extra.push(a.status.to_string());
    let _ = write!(line, " ({})", extra.join(", "));
    line
}

impl Material {
    /// The meeting as the user's message of a request, within
    /// `budget_chars` (transcripts are cut first, from their end).
    pub(crate) fn render(&self, budget_chars: usize) -> String {
        let m = &self.meeting;
        let mut out = String::new();
        let _ = writeln!(out, "Meeting: {}", m.title);
        let zone = m.tzid.as_deref().unwrap_or("UTC");
        if m.all_day {
            let day: String = crate::jobs::format_ms(m.start_at)
                .chars()
                .take(10)
                .collect();
            let _ = writeln!(out, "When: {day}, all day");
        } else {
            let _ = writeln!(
                out,
                "When: {} to {} (written in {zone})",
                crate::jobs::format_ms(m.start_at),
                crate::jobs::format_ms(m.end_at)
            );
        }
        if let Some(place) = m.location.as_deref().filter(|l| !l.trim().is_empty()) {
            let _ = writeln!(out, "Where: {place}");
        }
        if !self.people.is_empty() {
            let _ = writeln!(out, "People: {}", self.people.join(", "));
        }
        let _ = writeln!(out, "Consent: {}", m.consent.as_str());
        if !allows_text(m.consent) {
            out.push_str(
                "Only the calendar's details are given: the consent level keeps this meeting's notes, transcripts, decisions and action items from you.\n",
            );
        }
        if m.transcript_state == "missing" {
            out.push_str(
                "The transcript expected for this meeting did not arrive: work from the notes only, and say so in the summary.\n",
            );
        }
        if let Some(agenda) = &self.agenda {
            let _ = write!(
                out,
                "\nAgenda (the calendar's description):\n{}\n",
                agenda.trim_end()
            );
        }
        let list = |out: &mut String, title: &str, items: &[String]| {
            if items.is_empty() {
                return;
            }
            let _ = writeln!(out, "\n{title}:");
            for item in items {
                let _ = writeln!(out, "- {}", item.trim_end().replace('\n', "\n  "));
            }
        };
        list(&mut out, "Notes", &self.notes);
        list(&mut out, "Decisions recorded so far", &self.decisions);
        let actions: Vec<String> = self.actions.iter().map(action_text).collect();
        list(&mut out, "Action items recorded so far", &actions);
        let open: Vec<String> = self.open_actions.iter().map(action_text).collect();
        list(
            &mut out,
            "Open action items of the people invited, from other meetings",
            &open,
        );
        let earlier: Vec<String> = self
            .earlier_decisions
            .iter()
            .map(|(date, text)| format!("{date}: {text}"))
            .collect();
        list(
            &mut out,
            "Decisions of earlier meetings of this series",
            &earlier,
        );
        for (name, text) in &self.transcripts {
            let room = budget_chars.saturating_sub(out.chars().count() + name.len() + 64);
            let count = text.chars().count();
            let _ = writeln!(out, "\nTranscript ({name}):");
            if count <= room {
                let _ = writeln!(out, "{}", text.trim_end());
            } else {
                let kept: String = text.chars().take(room).collect();
                let _ = writeln!(
                    out,
                    "{}\n[… {} more characters of the transcript left out]",
                    kept.trim_end(),
                    count - room
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
