//! `kollega meetings`, `kollega actions` and `kollega stakeholders`: the
//! command line over [`crate::meetings`] and the store's meeting tables.
//! Times are shown in the user's zone (`TZ` honoured); meeting text is
//! printed to the user, never logged.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::output::{print_json, printable};
use crate::error::Error;
use crate::meetings::import::{self, ImportReport};
use crate::meetings::status::{MeetingStatus, status};
use crate::meetings::{MeetingsError, parse_date, refresh, transcript, zone};
use crate::store::meetings::actions::{self, ActionFilter, ActionRow, ActionStatus, NewAction};
use crate::store::meetings::calendar::{self, SourceKind};
use crate::store::meetings::stakeholders;
use crate::store::meetings::{self as rows, Consent, MeetingRow};
use crate::store::{Store, now_ms};

/// `kollega meetings`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct MeetingsArgs {
    #[command(subcommand)]
    pub(crate) action: Option<MeetingsCommand>,
    /// The meetings of this many days from today
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub(crate) days: u32,
    /// Print JSON: [{id, uid, title, start, end, allDay, status}]
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MeetingsCommand {
    /// Import an .ics file, or subscribe to a calendar's https address
    #[command(
        after_help = "Examples:\n  kollega meetings import ~/Downloads/calendar.ics\n  \
                      kollega meetings import https://calendar.example.com/secret/basic.ics --json\n\n\
                      Importing again updates the meetings in place: notes, decisions and\n\
                      actions stay. A malformed file is refused with its line; nothing is stored."
    )]
    Import {
        /// A file path, or an http(s)/webcal URL
        source: String,
        #[arg(long)]
        json: bool,
    },
    /// The calendars: files imported and URLs subscribed, each with its last refresh and error
    #[command(
        after_help = "Examples:\n  kollega meetings calendars\n  kollega meetings calendars --json\n\n\
                      A subscribed URL is fetched again by a calendar-refresh job (run by\n\
                      `kollega worker` or the open TUI); a failed refresh keeps the meetings\n\
                      and shows its error here until a refresh succeeds."
    )]
    Calendars {
        #[arg(long)]
        json: bool,
    },
    /// One meeting in full: time, place, people, consent, notes, transcripts, decisions, actions
    #[command(
        after_help = "Examples:\n  kollega meetings show 12\n  kollega meetings show 12 --json"
    )]
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Add a note to a meeting
    #[command(
        after_help = "Examples:\n  kollega meetings note 12 --text \"Ann owns the release\"\n  \
                      kollega meetings note 12 --file notes.md"
    )]
    Note {
        id: i64,
        /// The note's text
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        text: Option<String>,
        /// Read the note from this file
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Attach a transcript (WebVTT, SRT or plain text); its text is copied into the store
    #[command(
        after_help = "Examples:\n  kollega meetings transcript 12 call.vtt\n  \
                      kollega meetings transcript 12 call.srt --json"
    )]
    Transcript {
        id: i64,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Record a decision taken in a meeting
    #[command(after_help = "Examples:\n  kollega meetings decide 12 \"Ship on Friday\"")]
    Decide {
        id: i64,
        text: String,
        #[arg(long)]
        json: bool,
    },
    /// Set what a model may see of a meeting: basic, plus or legal (audited)
    #[command(after_help = "Examples:\n  kollega meetings consent 12 plus\n\n\
                      basic: metadata only; plus: briefs and extraction of decisions and\n\
                      actions; legal: plus flags for obligations, deadlines and contract terms.")]
    Consent {
        id: i64,
        /// basic, plus or legal
        level: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a meeting with its notes, transcripts, briefs, decisions, actions and AI records
    #[command(after_help = "Examples:\n  kollega meetings forget 12 --yes\n\n\
                      Leaves one audit entry (when, how many rows) and rewrites the database so\n\
                      no text of the meeting remains in its files. A re-import does not bring\n\
                      the meeting back.")]
    Forget {
        id: i64,
        /// Really delete it
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// Ask a model for a meeting's pre-brief or post-brief, within its consent
    #[command(after_help = super::meetings_more::BRIEF_HELP)]
    Brief(super::meetings_more::BriefArgs),
    /// Run a module (prompt pack) on a document for a meeting: copilot or procurement
    #[command(after_help = super::modules::MODULE_HELP)]
    Module(super::modules::ModuleArgs),
    /// Expect a meeting's transcript at a path or URL: looked for at its end, retried, else the notes are analysed
    #[command(after_help = super::meetings_more::EXPECT_HELP)]
    Expect(super::meetings_more::ExpectArgs),
}

/// `kollega actions`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct ActionsArgs {
    #[command(subcommand)]
    pub(crate) action: Option<ActionsCommand>,
    /// Only those of this owner (email or name)
    #[arg(long)]
    pub(crate) owner: Option<String>,
    /// Only those not done
    #[arg(long)]
    pub(crate) open: bool,
    /// Print JSON: [{id, meetingId, meeting, text, owner, due, status}]
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ActionsCommand {
    /// Add an action item to a meeting
    #[command(
        after_help = "Examples:\n  kollega actions add 12 \"Write the release notes\" --owner ann@example.com --due 2026-12-11"
    )]
    Add {
        meeting_id: i64,
        text: String,
        /// An attendee's email or name, or anyone's name
        #[arg(long)]
        owner: Option<String>,
        /// YYYY-MM-DD
        #[arg(long)]
        due: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Mark an action item done
    #[command(after_help = "Examples:\n  kollega actions done 7")]
    Done {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

impl MeetingsArgs {
    pub(crate) fn json(&self) -> bool {
        match &self.action {
            None => self.json,
            Some(
                MeetingsCommand::Import { json, .. }
                | MeetingsCommand::Calendars { json }
                | MeetingsCommand::Show { json, .. }
                | MeetingsCommand::Note { json, .. }
                | MeetingsCommand::Transcript { json, .. }
                | MeetingsCommand::Decide { json, .. }
                | MeetingsCommand::Consent { json, .. }
                | MeetingsCommand::Forget { json, .. },
            ) => *json,
            Some(MeetingsCommand::Brief(a)) => a.json,
            Some(MeetingsCommand::Expect(a)) => a.json,
            Some(MeetingsCommand::Module(a)) => a.json,
        }
    }

    pub(crate) fn only_reads(&self) -> bool {
        matches!(
            self.action,
            None | Some(MeetingsCommand::Show { .. } | MeetingsCommand::Calendars { .. })
        )
    }
}

impl ActionsArgs {
    pub(crate) fn json(&self) -> bool {
        match &self.action {
            None => self.json,
            Some(ActionsCommand::Add { json, .. } | ActionsCommand::Done { json, .. }) => *json,
        }
    }

    pub(crate) fn only_reads(&self) -> bool {
        self.action.is_none()
    }
}

pub(super) fn meetings(store: &mut Store, args: MeetingsArgs) -> Result<ExitCode, Error> {
    let zone = zone::user_zone();
    match args.action {
        None => list(store, args.days, args.json, zone),
        Some(MeetingsCommand::Import { source, json }) => {
            import_calendar(store, &source, json, zone)
        }
        Some(MeetingsCommand::Calendars { json }) => list_calendars(store, json, zone),
        Some(MeetingsCommand::Show { id, json }) => show(store, id, json, zone),
        Some(MeetingsCommand::Note {
            id,
            text,
            file,
            json,
        }) => note(store, id, text, file.as_deref(), json),
        Some(MeetingsCommand::Transcript { id, file, json }) => {
            attach_transcript(store, id, &file, json)
        }
        Some(MeetingsCommand::Decide { id, text, json }) => decide(store, id, &text, json),
        Some(MeetingsCommand::Consent { id, level, json }) => consent(store, id, &level, json),
        Some(MeetingsCommand::Forget { id, yes, json }) => forget(store, id, yes, json),
        // Dispatched before (it runs a job and needs the store whole).
        Some(MeetingsCommand::Brief(_) | MeetingsCommand::Module(_)) => Ok(ExitCode::SUCCESS),
        Some(MeetingsCommand::Expect(a)) => super::meetings_more::expect(store, &a),
    }
}

fn import_calendar(
    store: &mut Store,
    source: &str,
    json: bool,
    zone: chrono_tz::Tz,
) -> Result<ExitCode, Error> {
    let now = now_ms();
    let mut refresh_job = None;
    let report = if import::is_url(source) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| MeetingsError::Fetch {
                url: import::shown_url(source),
                reason: e.to_string(),
            })?;
        let report = runtime.block_on(import::import_url(&mut store.conn, source, zone, now));
        // Subscribed: the jobs engine fetches it again on its interval,
        // also after this fetch failed (a calendar subscribed before).
        if let Some(row) = calendar::calendar_by_source(&store.conn, source)? {
            refresh_job = refresh::schedule_next(&mut store.conn, &row, now, None)?;
        }
        report?
    } else {
        import::import_file(&mut store.conn, Path::new(source), zone, now)?
    };
    tracing::info!(
        calendar = report.counts.calendar,
        imported = report.counts.imported,
        updated = report.counts.updated,
        cancelled = report.counts.cancelled,
        skipped = report.skipped.len(),
        "calendar imported"
    );
    if json {
        let mut value =
            serde_json::to_value(&report).map_err(|e| Error::stdout(std::io::Error::other(e)))?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("refresh_job".into(), json!(refresh_job));
        }
        print_json(&value)?;
    } else {
        print_import(&report, refresh_job);
    }
    Ok(ExitCode::SUCCESS)
}

fn list_calendars(store: &Store, json: bool, zone: chrono_tz::Tz) -> Result<ExitCode, Error> {
    let conn = &store.conn;
    let mut shown = Vec::new();
    for c in calendar::calendars(conn)? {
        let job = calendar::pending_job(conn, refresh::CALENDAR_REFRESH, c.id, None)?;
        let due = match job {
            Some(id) => Some(crate::jobs::queue::require(conn, id)?.next_run_at),
            None => None,
        };
        shown.push((c, job, due));
    }
    let at = |ms: Option<i64>| ms.map(|ms| zone::rfc3339(ms, zone));
    if json {
        let list: Vec<Value> = shown
            .iter()
            .map(|(c, job, due)| {
                json!({
                    "id": c.id,
                    "kind": c.kind.as_str(),
                    "source": c.source,
                    "lastFetched": at(c.last_fetched_at),
                    "lastError": c.last_error,
                    "refreshJob": job,
                    "nextRefresh": at(*due),
                })
            })
            .collect();
        print_json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    if shown.is_empty() {
        println!(
            "No calendars. `kollega meetings import FILE.ics` (or an https address) brings one in."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let short = |ms: i64| zone::local(ms, zone).format("%Y-%m-%d %H:%M").to_string();
    for (c, job, due) in &shown {
        println!(
            "{:>4}  {:<4}  {}",
            c.id,
            c.kind.as_str(),
            printable(&c.source)
        );
        if let Some(fetched) = c.last_fetched_at {
            println!("        read       {}", short(fetched));
        }
        match (job, due) {
            (Some(job), Some(due)) => println!("        next       {} (job {job})", short(*due)),
            _ if c.kind == SourceKind::Url => println!(
                "        next       none waiting (cancelled?): `kollega meetings import {}` queues one",
                printable(&c.source)
            ),
            _ => {}
        }
        if let Some(error) = &c.last_error {
            println!("        failed     {}", printable(error));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_import(report: &ImportReport, refresh_job: Option<i64>) {
    let refresh = || {
        if let Some(job) = refresh_job {
            println!(
                "  subscribed: refreshed every {} min by job {job} (`kollega worker` or the open TUI runs it)",
                import::DEFAULT_REFRESH_S / 60
            );
        }
    };
    if report.not_modified {
        println!(
            "{}: not changed since the last import",
            printable(&report.source)
        );
        refresh();
        return;
    }
    let c = &report.counts;
    println!("{}", printable(&report.source));
    println!("  imported   {}", c.imported);
    println!("  updated    {}", c.updated);
    println!("  cancelled  {}", c.cancelled);
    println!("  unchanged  {}", c.unchanged);
    if c.forgotten > 0 {
        println!(
            "  forgotten  {} (left out: forgotten on purpose)",
            c.forgotten
        );
    }
    println!("  skipped    {}", report.skipped.len());
    for s in &report.skipped {
        let uid = s.uid.as_deref().map(printable).unwrap_or_default();
        let line = if s.line > 0 {
            format!("line {}", s.line)
        } else {
            "series".to_string()
        };
        println!("    {line:<10} {uid}  {}", printable(&s.reason));
    }
    refresh();
}

/// A meeting as `meetings --json` lists it.
fn meeting_json(m: &MeetingRow, now: i64, zone: chrono_tz::Tz) -> Value {
    json!({
        "id": m.id,
        "uid": m.uid,
        "title": m.title,
        "start": zone::rfc3339(m.start_at, zone),
        "end": zone::rfc3339(m.end_at, zone),
        "allDay": m.all_day,
        "status": shown_status(m, now),
    })
}

fn shown_status(m: &MeetingRow, now: i64) -> MeetingStatus {
    status(now, m.start_at, m.end_at, m.processing)
}

fn list(store: &Store, days: u32, json: bool, zone: chrono_tz::Tz) -> Result<ExitCode, Error> {
    let now = now_ms();
    let today = zone::local(now, zone).date_naive();
    let from = zone::midnight(today, zone);
    let last = today
        .checked_add_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(today);
    let to = zone::midnight(last, zone);
    let meetings = rows::between(&store.conn, from, to)?;
    if json {
        let list: Vec<Value> = meetings
            .iter()
            .map(|m| meeting_json(m, now, zone))
            .collect();
        print_json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    if meetings.is_empty() {
        println!(
            "No meetings in the next {days} days. `kollega meetings import FILE.ics` brings a calendar in."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut day = None;
    for m in &meetings {
        let start = zone::local(m.start_at, zone);
        // A meeting begun before today is listed under today.
        let date = start.date_naive().max(today);
        if day != Some(date) {
            if day.is_some() {
                println!();
            }
            println!("{}", date.format("%A %Y-%m-%d"));
            day = Some(date);
        }
        let time = if m.all_day {
            "all day    ".to_string()
        } else {
            format!(
                "{}–{}",
                start.format("%H:%M"),
                zone::local(m.end_at, zone).format("%H:%M")
            )
        };
        println!(
            "  {time}  {:>5}  {:<8}  {}",
            m.id,
            shown_status(m, now).as_str(),
            printable(&m.title)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn meeting(store: &Store, id: i64) -> Result<MeetingRow, Error> {
    Ok(rows::get(&store.conn, id)?.ok_or(MeetingsError::UnknownMeeting(id))?)
}

fn action_json(a: &ActionRow) -> Value {
    json!({
        "id": a.id,
        "meetingId": a.meeting_id,
        "meeting": a.meeting_title,
        "text": a.text,
        "owner": a.owner,
        "due": a.due,
        "status": a.status.as_str(),
    })
}

fn show(store: &Store, id: i64, json: bool, zone: chrono_tz::Tz) -> Result<ExitCode, Error> {
    let m = meeting(store, id)?;
    let now = now_ms();
    let conn = &store.conn;
    let people = rows::attendees(conn, id)?;
    let notes = rows::notes(conn, id)?;
    let transcripts = rows::transcripts(conn, id)?;
    let decisions = rows::decisions(conn, id)?;
    let actions = actions::list(
        conn,
        &ActionFilter {
            meeting_id: Some(id),
            ..ActionFilter::default()
        },
    )?;
    let description = rows::description(conn, id)?;
    let (more_json, more_lines) = super::meetings_more::shown(conn, &m)?;
    if json {
        let mut value = meeting_json(&m, now, zone);
        let extra = json!({
            "location": m.location,
            "url": m.url,
            "timeZone": m.tzid,
            "cancelled": m.cancelled,
            "consent": m.consent.as_str(),
            "description": description,
            "stakeholders": people.iter().map(|p| json!({
                "email": p.email, "name": p.name, "role": p.role.as_str()
            })).collect::<Vec<_>>(),
            "notes": notes.iter().map(|n| json!({"id": n.id, "text": n.text})).collect::<Vec<_>>(),
            "transcripts": transcripts.iter().map(|t| json!({
                "id": t.id, "format": t.format.as_str(), "source": t.source_name, "text": t.text
            })).collect::<Vec<_>>(),
            "decisions": decisions.iter().map(|d| json!({"id": d.id, "text": d.text})).collect::<Vec<_>>(),
            "actions": actions.iter().map(action_json).collect::<Vec<_>>(),
        });
        if let (Some(obj), Value::Object(more)) = (value.as_object_mut(), extra) {
            obj.extend(more);
        }
        if let (Some(obj), Value::Object(more)) = (value.as_object_mut(), more_json) {
            obj.extend(more);
        }
        print_json(&value)?;
        return Ok(ExitCode::SUCCESS);
    }
    let start = zone::local(m.start_at, zone);
    let end = zone::local(m.end_at, zone);
    println!("{}  (meeting {})", printable(&m.title), m.id);
    let when = if m.all_day {
        format!("{} all day", start.format("%A %Y-%m-%d"))
    } else {
        format!(
            "{} {}–{}",
            start.format("%A %Y-%m-%d"),
            start.format("%H:%M"),
            end.format("%H:%M %Z")
        )
    };
    println!("  when      {when}");
    println!(
        "  status    {}{}",
        shown_status(&m, now).as_str(),
        if m.cancelled { " (cancelled)" } else { "" }
    );
    if let Some(place) = &m.location {
        println!("  where     {}", printable(place));
    }
    if let Some(url) = &m.url {
        println!("  link      {}", printable(url));
    }
    println!("  consent   {}", m.consent.as_str());
    if !people.is_empty() {
        println!("  people");
        for p in &people {
            let name = p
                .name
                .as_deref()
                .map(|n| format!("{} ", printable(n)))
                .unwrap_or_default();
            println!("    {name}<{}>  {}", printable(&p.email), p.role.as_str());
        }
    }
    if let Some(text) = &description {
        println!("  agenda");
        for line in text.lines() {
            println!("    {}", printable(line));
        }
    }
    let section = |title: &str, items: &[rows::TextRow]| {
        if !items.is_empty() {
            println!("  {title}");
            for item in items {
                let mut lines = item.text.lines();
                println!(
                    "    {:>4}  {}",
                    item.id,
                    printable(lines.next().unwrap_or_default())
                );
                for line in lines {
                    println!("          {}", printable(line));
                }
            }
        }
    };
    section("notes", &notes);
    if !transcripts.is_empty() {
        println!("  transcripts");
        for t in &transcripts {
            let cues = t.cues.as_deref().and_then(|c| {
                serde_json::from_str::<Vec<serde::de::IgnoredAny>>(c)
                    .ok()
                    .map(|all| all.len())
            });
            println!(
                "    {:>4}  {} ({}, {}, {} characters)",
                t.id,
                printable(&t.source_name),
                t.format.as_str(),
                crate::meetings::transcript::size(cues, t.text.lines().count()),
                t.text.chars().count()
            );
        }
    }
    section("decisions", &decisions);
    if !actions.is_empty() {
        println!("  actions");
        for a in &actions {
            print_action(a);
        }
    }
    for line in more_lines {
        println!("  {line}");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_action(a: &ActionRow) {
    let owner = a.owner.as_deref().map(printable).unwrap_or("-".into());
    let due = a.due.as_deref().unwrap_or("-");
    println!(
        "    {:>4}  {:<5}  {:<10}  {:<20}  {}",
        a.id,
        a.status.as_str(),
        due,
        owner,
        printable(&a.text)
    );
}

fn done(json: bool, value: Value, text: String) -> Result<ExitCode, Error> {
    if json {
        print_json(&value)?;
    } else {
        println!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

fn note(
    store: &Store,
    id: i64,
    text: Option<String>,
    file: Option<&Path>,
    json: bool,
) -> Result<ExitCode, Error> {
    let text = match (text, file) {
        (Some(t), _) => t,
        (None, Some(path)) => {
            std::fs::read_to_string(path).map_err(|source| MeetingsError::Read {
                path: path.to_path_buf(),
                source,
            })?
        }
        (None, None) => {
            return Err(Error::usage(
                "a note needs --text or --file",
                "`kollega meetings note ID --text \"...\"`",
            ));
        }
    };
    if text.trim().is_empty() {
        return Err(Error::usage("the note is empty", "write something in it"));
    }
    let note = rows::add_note(&store.conn, id, &text, now_ms())?
        .ok_or(MeetingsError::UnknownMeeting(id))?;
    tracing::info!(meeting = id, note, "note added");
    done(
        json,
        json!({"id": note, "meetingId": id}),
        format!("note {note} added to meeting {id}"),
    )
}

fn attach_transcript(
    store: &mut Store,
    id: i64,
    file: &Path,
    json: bool,
) -> Result<ExitCode, Error> {
    meeting(store, id)?;
    let loaded = transcript::load(file)?;
    let parsed = &loaded.transcript;
    let row = transcript::attach(&mut store.conn, id, &loaded, now_ms())?
        .ok_or(MeetingsError::UnknownMeeting(id))?;
    tracing::info!(
        meeting = id,
        transcript = row,
        cues = parsed.cues.len(),
        "transcript attached"
    );
    done(
        json,
        json!({"id": row, "meetingId": id, "format": parsed.format.as_str(), "cues": parsed.cues.len()}),
        format!(
            "transcript {row} ({}, {}) attached to meeting {id}",
            parsed.format.as_str(),
            parsed.size()
        ),
    )
}

fn decide(store: &Store, id: i64, text: &str, json: bool) -> Result<ExitCode, Error> {
    if text.trim().is_empty() {
        return Err(Error::usage(
            "the decision is empty",
            "say what was decided",
        ));
    }
    let decision = rows::add_decision(&store.conn, id, text.trim(), now_ms())?
        .ok_or(MeetingsError::UnknownMeeting(id))?;
    tracing::info!(meeting = id, decision, "decision recorded");
    done(
        json,
        json!({"id": decision, "meetingId": id}),
        format!("decision {decision} recorded for meeting {id}"),
    )
}

fn consent(store: &mut Store, id: i64, level: &str, json: bool) -> Result<ExitCode, Error> {
    let consent = Consent::parse(level.trim().to_ascii_lowercase().as_str())
        .ok_or_else(|| MeetingsError::BadConsent(level.to_string()))?;
    let old = rows::set_consent(&mut store.conn, id, consent, now_ms())?
        .ok_or(MeetingsError::UnknownMeeting(id))?;
    tracing::info!(
        meeting = id,
        from = old.as_str(),
        to = consent.as_str(),
        "consent set"
    );
    done(
        json,
        json!({"meetingId": id, "from": old.as_str(), "consent": consent.as_str()}),
        format!(
            "meeting {id}: consent {} (was {})",
            consent.as_str(),
            old.as_str()
        ),
    )
}

fn forget(store: &mut Store, id: i64, yes: bool, json: bool) -> Result<ExitCode, Error> {
    let m = meeting(store, id)?;
    if !yes {
        return Err(Error::refused(
            format!(
                "forgetting meeting {id} ({}) deletes it with its notes, transcripts, decisions and actions",
                printable(&m.title)
            ),
            format!("run `kollega meetings forget {id} --yes` to delete it"),
        ));
    }
    let gone =
        rows::forget(&mut store.conn, id, now_ms())?.ok_or(MeetingsError::UnknownMeeting(id))?;
    rows::scrub(&store.conn)?;
    tracing::info!(meeting = id, rows = gone.rows(), "meeting forgotten");
    done(
        json,
        json!({"meetingId": id, "rows": gone.rows(), "removed": gone}),
        format!("meeting {id} forgotten: {} rows removed", gone.rows()),
    )
}

pub(super) fn actions_verb(store: &mut Store, args: ActionsArgs) -> Result<ExitCode, Error> {
    match args.action {
        None => {
            let list = actions::list(
                &store.conn,
                &ActionFilter {
                    owner: args.owner.as_deref(),
                    open: args.open,
                    ..ActionFilter::default()
                },
            )?;
            if args.json {
                print_json(&list.iter().map(action_json).collect::<Vec<_>>())?;
            } else if list.is_empty() {
                println!("No action items. `kollega actions add MEETING-ID \"...\"` adds one.");
            } else {
                println!(
                    "    {:>4}  {:<5}  {:<10}  {:<20}  text (meeting)",
                    "id", "state", "due", "owner"
                );
                for a in &list {
                    print_action(a);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(ActionsCommand::Add {
            meeting_id,
            text,
            owner,
            due,
            json,
        }) => {
            if text.trim().is_empty() {
                return Err(Error::usage(
                    "the action item is empty",
                    "say what is to be done",
                ));
            }
            let due = due.map(|d| parse_date("--due", &d)).transpose()?;
            let id = actions::add(
                &store.conn,
                &NewAction {
                    meeting_id,
                    text: text.trim(),
                    owner: owner.as_deref().map(str::trim).filter(|o| !o.is_empty()),
                    due: due.as_deref(),
                },
                now_ms(),
            )?
            .ok_or(MeetingsError::UnknownMeeting(meeting_id))?;
            tracing::info!(meeting = meeting_id, action = id, "action added");
            let row = actions::get(&store.conn, id)?.ok_or(MeetingsError::UnknownAction(id))?;
            done(
                json,
                action_json(&row),
                format!("action {id} added to meeting {meeting_id}"),
            )
        }
        Some(ActionsCommand::Done { id, json }) => {
            if !actions::set_status(&store.conn, id, ActionStatus::Done, now_ms())? {
                return Err(MeetingsError::UnknownAction(id).into());
            }
            tracing::info!(action = id, "action done");
            let row = actions::get(&store.conn, id)?.ok_or(MeetingsError::UnknownAction(id))?;
            done(json, action_json(&row), format!("action {id} done"))
        }
    }
}

pub(super) fn stakeholders_verb(store: &Store, json: bool) -> Result<ExitCode, Error> {
    let people = stakeholders::list(&store.conn)?;
    let mut out = Vec::with_capacity(people.len());
    for p in &people {
        let open = actions::list(
            &store.conn,
            &ActionFilter {
                open: true,
                stakeholder_id: Some(p.id),
                ..ActionFilter::default()
            },
        )?;
        out.push((p, open));
    }
    if json {
        let list: Vec<Value> = out
            .iter()
            .map(|(p, open)| {
                Ok(json!({
                    "email": p.email,
                    "name": p.name,
                    "meetings": stakeholders::meetings_of(&store.conn, p.id)?,
                    "decisions": stakeholders::decisions_of(&store.conn, p.id)?,
                    "openActions": open.iter().map(action_json).collect::<Vec<_>>(),
                }))
            })
            .collect::<Result<_, crate::store::StoreError>>()?;
        print_json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    if out.is_empty() {
        println!(
            "No stakeholders yet: they come from the organizers and attendees of imported meetings."
        );
        return Ok(ExitCode::SUCCESS);
    }
    for (p, open) in &out {
        let name = p
            .name
            .as_deref()
            .map(|n| format!("{} ", printable(n)))
            .unwrap_or_default();
        println!(
            "{name}<{}>  {} meetings, {} decisions, {} open actions",
            printable(&p.email),
            p.meetings,
            p.decisions,
            p.open_actions
        );
        for a in open {
            print_action(a);
        }
    }
    Ok(ExitCode::SUCCESS)
}
