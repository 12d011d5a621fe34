//! The meeting dashboard: the next 7 days grouped by day in the user's
//! zone, each meeting with its time, title and status (from the clock, see
//! `meetings::status`), beside the selected meeting's detail (time, place,
//! people, consent, pre-brief, notes, transcripts, decisions, action
//! items and the latest answer of each module); or the stakeholders, each with their open actions, decisions
//! and meetings.
//!
//! Decisions, action items, notes and the consent level are added and
//! changed in place through the forms of [`form`]; every change and every
//! read is a [`MeetingsOp`] the app carries out on the store worker, whose
//! answer comes back as a [`Loaded`]. A transcript file is attached by its
//! path (the app reads it off the UI task, then stores it as a
//! [`Write::Transcript`]), and a brief is asked for as a `brief` job: the
//! pre-brief before the meeting, the post-brief once it has begun. The pane's clock (`now`) and zone
//! are set from outside, so a tick changes a status only when the clock
//! says so, and tests draw a fixed moment.

mod form;
mod render;
#[cfg(test)]
mod tests;

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use crossterm::event::KeyEvent;

use crate::meetings::status::{MeetingStatus, status};
use crate::meetings::transcript;
use crate::meetings::zone;
use crate::store::meetings::actions::{ActionRow, ActionStatus};
use crate::store::meetings::briefs::BriefKind;
use crate::store::meetings::pane::{MeetingDetail, StakeholderDetail};
use crate::store::meetings::stakeholders::StakeholderRow;
use crate::store::meetings::watches::WatchRow;
use crate::store::meetings::{Consent, MeetingRow};
use crate::tui::app::{Effect, Outcome};
use crate::tui::keymap::Action;
pub(crate) use form::Form;

/// Days the dashboard shows, today first.
pub(crate) const DAYS: u32 = 7;

/// What the pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    Agenda,
    Stakeholders,
    /// Watched pages and feeds, with the latest change of the selected one.
    Watches,
}

/// A change the pane asks the store for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Write {
    Decision {
        meeting: i64,
        text: String,
    },
    NewAction {
        meeting: i64,
        text: String,
        owner: Option<String>,
        due: Option<String>,
    },
    EditAction {
        id: i64,
        text: String,
        owner: Option<String>,
        due: Option<String>,
    },
    ActionStatus {
        id: i64,
        status: ActionStatus,
    },
    Note {
        meeting: i64,
        text: String,
    },
    Consent {
        meeting: i64,
        consent: Consent,
    },
    /// A transcript file the app has read (off the UI task) for the
    /// path the pane was given.
    Transcript {
        meeting: i64,
        loaded: Box<transcript::Loaded>,
    },
}

impl Write {
    /// What the status bar says once it is stored.
    pub(crate) fn done_note(&self) -> String {
        match self {
            Write::Decision { .. } => "decision recorded".into(),
            Write::NewAction { .. } => "action item added".into(),
            Write::EditAction { id, .. } => format!("action item {id} changed"),
            Write::ActionStatus { id, status } => {
                format!("action item {id} is {}", status.as_str())
            }
            Write::Note { .. } => "note added".into(),
            Write::Consent { consent, .. } => {
                format!("consent set to {} (audit logged)", consent.as_str())
            }
            Write::Transcript { loaded, .. } => {
                let t = &loaded.transcript;
                let size = t.size();
                format!(
                    "transcript {} attached ({}, {size})",
                    crate::tui::ansi::strip(&loaded.name),
                    t.format.as_str()
                )
            }
        }
    }
}

/// Which rows a load reads besides the coming days' meetings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Query {
    /// `[from, to)` in Unix ms: the days shown.
    pub window: (i64, i64),
    pub meeting: Option<i64>,
    /// The stakeholders are read only in their view.
    pub stakeholders: bool,
    pub stakeholder: Option<i64>,
    /// The watched pages likewise, with the latest change of `watch`.
    pub watches: bool,
    pub watch: Option<i64>,
}

/// What the pane asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MeetingsOp {
    Load(Query),
    /// Store the change, then load `Query` again.
    Write(Write, Query),
    /// Read the transcript file at `path` (as typed: `~` is the home
    /// folder, a relative path starts at the workspace's folder, else the
    /// current one), then store it as a [`Write::Transcript`].
    Attach {
        meeting: i64,
        path: String,
        query: Query,
    },
    /// Queue the `kind` brief of `meeting` as a `brief` job. `metadata_only`:
    /// its consent is basic, so only the calendar's details reach the model.
    Brief {
        meeting: i64,
        kind: BriefKind,
        metadata_only: bool,
    },
    Leave,
}

/// What a load read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Loaded {
    pub meetings: Vec<MeetingRow>,
    pub detail: Option<MeetingDetail>,
    pub stakeholders: Vec<StakeholderRow>,
    pub stakeholder: Option<StakeholderDetail>,
    pub watches: Vec<WatchRow>,
    pub change: Option<WatchChange>,
}

/// The latest change of a watched page: the diff of its last two
/// versions, or why there is none yet, with the AI summary of the change
/// when it has one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WatchChange {
    pub watch: i64,
    /// When the newest version was fetched.
    pub at: Option<i64>,
    /// A unified diff, or a sentence when there is nothing to compare.
    pub text: String,
    /// The summary stored on the newest version, shown above the diff.
    pub summary: Option<String>,
}

/// The dashboard's state.
pub(crate) struct MeetingsPane {
    /// The user's zone: days and times are shown in it.
    pub zone: Tz,
    /// The clock, Unix ms: statuses and "overdue" are measured against it.
    pub now: i64,
    pub view: View,
    pub data: Loaded,
    /// Whether a load has answered yet.
    pub loaded: bool,
    /// Index into `data.meetings`.
    pub selected: usize,
    /// Index into the selected meeting's action items, then on into its
    /// module answers (the detail scrolls to the one selected).
    pub item: usize,
    /// Index into `data.stakeholders`.
    pub person: usize,
    /// Index into `data.watches`.
    pub watch: usize,
    /// The statuses shown, as of `now`, one per meeting.
    statuses: Vec<MeetingStatus>,
    pub form: Option<Form>,
    /// Rows of the list in the last frame, for page moves.
    page: u16,
}

impl MeetingsPane {
    pub fn new(zone: Tz, now: i64) -> MeetingsPane {
        MeetingsPane {
            zone,
            now,
            view: View::Agenda,
            data: Loaded::default(),
            loaded: false,
            selected: 0,
            item: 0,
            person: 0,
            watch: 0,
            statuses: Vec::new(),
            form: None,
            page: 10,
        }
    }

    /// Today's date in the user's zone.
    pub fn today(&self) -> NaiveDate {
        zone::local(self.now, self.zone).date_naive()
    }

    /// The days shown: from today's midnight for [`DAYS`] days.
    pub fn window(&self) -> (i64, i64) {
        let today = self.today();
        let end = today
            .checked_add_days(chrono::Days::new(u64::from(DAYS)))
            .unwrap_or(today);
        (
            zone::midnight(today, self.zone),
            zone::midnight(end, self.zone),
        )
    }

    pub fn selected_meeting(&self) -> Option<&MeetingRow> {
        self.data.meetings.get(self.selected)
    }

    /// The selected meeting's detail, once loaded for it.
    pub fn detail(&self) -> Option<&MeetingDetail> {
        let id = self.selected_meeting()?.id;
        self.data.detail.as_ref().filter(|d| d.meeting.id == id)
    }

    pub fn selected_action(&self) -> Option<&ActionRow> {
        self.detail()?.actions.get(self.item)
    }

    /// What the item keys step through in the detail: the action items,
    /// then the module answers.
    fn detail_items(&self) -> usize {
        self.detail()
            .map_or(0, |d| d.actions.len() + d.module_answers.len())
    }

    fn selected_person(&self) -> Option<&StakeholderRow> {
        self.data.stakeholders.get(self.person)
    }

    fn selected_watch(&self) -> Option<&WatchRow> {
        self.data.watches.get(self.watch)
    }

    /// The load that shows what is selected now.
    pub fn query(&self) -> Query {
        Query {
            window: self.window(),
            meeting: self.selected_meeting().map(|m| m.id),
            stakeholders: self.view == View::Stakeholders,
            stakeholder: match self.view {
                View::Stakeholders => self.selected_person().map(|p| p.id),
                View::Agenda | View::Watches => None,
            },
            watches: self.view == View::Watches,
            watch: match self.view {
                View::Watches => self.selected_watch().map(|w| w.id),
                View::Agenda | View::Stakeholders => None,
            },
        }
    }

    fn load(&self) -> Outcome {
        Outcome::Effect(Effect::Meetings(MeetingsOp::Load(self.query())))
    }

    /// The status of `meeting` at the pane's clock.
    pub fn status_of(&self, meeting: &MeetingRow) -> MeetingStatus {
        status(
            self.now,
            meeting.start_at,
            meeting.end_at,
            meeting.processing,
        )
    }

    fn statuses(&self) -> Vec<MeetingStatus> {
        self.data
            .meetings
            .iter()
            .map(|m| self.status_of(m))
            .collect()
    }

    /// Whether `action` is past its due date and not done.
    pub fn overdue(&self, action: &ActionRow) -> bool {
        action.status != ActionStatus::Done
            && action
                .due
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .is_some_and(|due| due < self.today())
    }

    /// The clock moved to `now`: whether anything shown changed (a status,
    /// or the day), so that an idle dashboard is not redrawn.
    pub fn tick(&mut self, now: i64) -> bool {
        let day = self.today();
        self.now = now;
        let statuses = self.statuses();
        let changed =
            statuses != self.statuses || self.today().num_days_from_ce() != day.num_days_from_ce();
        self.statuses = statuses;
        changed
    }

    /// A load answered: keeps the selection on the same meeting (and
    /// person) where it can. Returns whether anything shown changed and
    /// the load still needed when the detail is not the selected
    /// meeting's (the selection moved while it was read).
    pub fn loaded(&mut self, data: Loaded) -> (bool, Option<Query>) {
        let was_meeting = self.selected_meeting().map(|m| m.id);
        let was_person = self.selected_person().map(|p| p.id);
        let was_watch = self.selected_watch().map(|w| w.id);
        let changed = !self.loaded || data != self.data;
        self.loaded = true;
        self.data = data;
        if let Some(at) =
            was_meeting.and_then(|id| self.data.meetings.iter().position(|m| m.id == id))
        {
            self.selected = at;
        }
        self.selected = self
            .selected
            .min(self.data.meetings.len().saturating_sub(1));
        if let Some(at) =
            was_person.and_then(|id| self.data.stakeholders.iter().position(|p| p.id == id))
        {
            self.person = at;
        }
        self.person = self
            .person
            .min(self.data.stakeholders.len().saturating_sub(1));
        if let Some(at) = was_watch.and_then(|id| self.data.watches.iter().position(|w| w.id == id))
        {
            self.watch = at;
        }
        self.watch = self.watch.min(self.data.watches.len().saturating_sub(1));
        self.item = self.item.min(self.detail_items().saturating_sub(1));
        self.statuses = self.statuses();
        let query = self.query();
        let stale = query.meeting != self.data.detail.as_ref().map(|d| d.meeting.id)
            || (query.stakeholders
                && query.stakeholder.is_some()
                && self.data.stakeholder.is_none())
            || (query.watches
                && query.watch.is_some()
                && query.watch != self.data.change.as_ref().map(|c| c.watch));
        (changed, stale.then_some(query))
    }

    pub fn update(&mut self, action: Action) -> Outcome {
        if self.form.is_some() {
            return Outcome::Ignored;
        }
        match action {
            Action::Back => Outcome::Effect(Effect::Meetings(MeetingsOp::Leave)),
            Action::MeetingsView => {
                self.view = match self.view {
                    View::Agenda => View::Stakeholders,
                    View::Stakeholders => View::Watches,
                    View::Watches => View::Agenda,
                };
                self.load()
            }
            _ if action.is_movement() => {
                let (at, len) = match self.view {
                    View::Agenda => (self.selected, self.data.meetings.len()),
                    View::Stakeholders => (self.person, self.data.stakeholders.len()),
                    View::Watches => (self.watch, self.data.watches.len()),
                };
                let Some(to) = super::moved(at, len, self.page, action) else {
                    return Outcome::Ignored;
                };
                if to == at {
                    return Outcome::Ignored;
                }
                match self.view {
                    View::Agenda => {
                        self.selected = to;
                        self.item = 0;
                    }
                    View::Stakeholders => self.person = to,
                    View::Watches => self.watch = to,
                }
                self.load()
            }
            Action::NextItem | Action::PrevItem if self.view == View::Agenda => {
                let len = self.detail_items();
                let delta = if action == Action::NextItem { 1 } else { -1 };
                let to = super::step(self.item, len, delta);
                if to == self.item {
                    return Outcome::Ignored;
                }
                self.item = to;
                Outcome::Redraw
            }
            Action::AddDecision
            | Action::AddActionItem
            | Action::EditActionItem
            | Action::CycleActionItem
            | Action::AddNote
            | Action::SetConsent
            | Action::AttachTranscript => self.change(action),
            Action::MeetingBrief => self.brief(),
            _ => Outcome::Ignored,
        }
    }

    /// The changes to the selected meeting (or its selected action).
    fn change(&mut self, action: Action) -> Outcome {
        let notify = |text: &str| Outcome::Effect(Effect::Notify(text.to_string(), true));
        if self.view != View::Agenda {
            return notify("the meetings view (s) changes meetings; this one lists the people");
        }
        let Some(meeting) = self.selected_meeting().map(|m| (m.id, m.consent)) else {
            return notify(
                "no meeting in the next 7 days: `kollega meetings import <file.ics>` brings a calendar in",
            );
        };
        let (id, consent) = meeting;
        if self.detail().is_none() {
            return notify("the meeting is still being read; try again in a moment");
        }
        self.form = Some(match action {
            Action::AddDecision => Form::decision(id),
            Action::AddActionItem => Form::new_action(id),
            Action::AddNote => Form::note(id),
            Action::SetConsent => Form::consent(id, consent),
            Action::AttachTranscript => Form::transcript(id),
            Action::EditActionItem | Action::CycleActionItem => {
                let Some(item) = self.selected_action() else {
                    if self.item < self.detail_items() {
                        return notify("a module answer is selected, not an action item");
                    }
                    return notify("no action item selected: a adds one");
                };
                if action == Action::EditActionItem {
                    Form::edit_action(item)
                } else {
                    let next = match item.status {
                        ActionStatus::Open => ActionStatus::Doing,
                        ActionStatus::Doing => ActionStatus::Done,
                        ActionStatus::Done => ActionStatus::Open,
                    };
                    let write = Write::ActionStatus {
                        id: item.id,
                        status: next,
                    };
                    return Outcome::Effect(Effect::Meetings(MeetingsOp::Write(
                        write,
                        self.query(),
                    )));
                }
            }
            _ => return Outcome::Ignored,
        });
        Outcome::Redraw
    }

    /// Asks for the selected meeting's brief: the pre-brief while it is
    /// still to come, the post-brief once it has begun. Consent `basic`
    /// has no post-brief (no note or transcript may reach a model).
    fn brief(&self) -> Outcome {
        let notify = |text: String| Outcome::Effect(Effect::Notify(text, true));
        if self.view != View::Agenda {
            return notify("briefs are asked for in the meetings view (s)".into());
        }
        let Some(meeting) = self.selected_meeting() else {
            return notify(
                "no meeting in the next 7 days: `kollega meetings import <file.ics>` brings a calendar in"
                    .into(),
            );
        };
        let kind = match self.status_of(meeting) {
            MeetingStatus::Upcoming | MeetingStatus::Lobby => BriefKind::Pre,
            MeetingStatus::Active
            | MeetingStatus::Post
            | MeetingStatus::Done
            | MeetingStatus::Failed => BriefKind::Post,
        };
        let basic = meeting.consent == Consent::Basic;
        if basic && kind == BriefKind::Post {
            // Short enough for the status line of an 80-column terminal.
            return notify("no post-brief under consent basic; C sets plus".into());
        }
        Outcome::Effect(Effect::Meetings(MeetingsOp::Brief {
            meeting: meeting.id,
            kind,
            metadata_only: basic,
        }))
    }

    /// Whether the open form takes several lines (its keys are the
    /// `[compose]` table's, else the `[prompt]` table's).
    pub fn form_is_multiline(&self) -> Option<bool> {
        self.form.as_ref().map(Form::multiline)
    }

    /// A key for the open form: `action` is what the form's table binds
    /// it to, if anything; any other key is typed.
    pub fn form_key(&mut self, action: Option<Action>, key: KeyEvent) -> Outcome {
        let Some(form) = self.form.as_mut() else {
            return Outcome::Ignored;
        };
        match form.key(action, key) {
            form::FormOutcome::Editing => Outcome::Redraw,
            form::FormOutcome::Cancelled => {
                self.form = None;
                Outcome::Redraw
            }
            form::FormOutcome::Invalid(message) => Outcome::Effect(Effect::Notify(message, true)),
            form::FormOutcome::Done(write) => {
                self.form = None;
                Outcome::Effect(Effect::Meetings(MeetingsOp::Write(write, self.query())))
            }
            form::FormOutcome::Attach { meeting, path } => {
                self.form = None;
                Outcome::Effect(Effect::Meetings(MeetingsOp::Attach {
                    meeting,
                    path,
                    query: self.query(),
                }))
            }
        }
    }
}
