//! The meeting dashboard in the workstation: opening and leaving it, its
//! reads and writes on the store worker (each answer tagged with the
//! request's generation; an answer older than the latest load is not
//! shown), transcript files read on a blocking task before they are
//! stored, briefs queued as `brief` jobs (this process's runner runs them;
//! their end is reported and the detail read again), the clock's tick
//! that moves statuses on, and the nudge badge of the status bar.
//!
//! Idle stays idle: the tick re-reads only while the dashboard is open,
//! the badge's count once a minute, and neither redraws unless what is
//! shown changed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{App, AppMsg, Focus};
use crate::ai::ask::Env;
use crate::error::describe;
use crate::jobs::payload::JobPayload;
use crate::meetings::brief::BriefPayload;
use crate::meetings::transcript;
use crate::store::jobs::Job;
use crate::store::meetings::briefs::BriefKind;
use crate::store::meetings::pane::{self, MeetingDetail, StakeholderDetail};
use crate::store::meetings::{self, actions};
use crate::tui::panes::meetings::{Loaded, MeetingsOp, MeetingsPane, Query, WatchChange, Write};
use crate::workspace::files::Files;

/// An action item untouched this long is worth a nudge (the
/// `[meetings] nudge_after` default).
pub(crate) const NUDGE_AFTER: Duration = Duration::from_secs(48 * 3600);

/// Heartbeats between two counts of the badge while the dashboard is
/// closed.
const BADGE_EVERY: u32 = 6;

/// Answers for the dashboard.
pub(crate) enum MeetingsMsg {
    Loaded {
        generation: u64,
        /// The change stored first, for the status bar.
        wrote: Option<Write>,
        result: Result<Box<Loaded>, String>,
        /// The brief job followed (its id), as it stands now: `None`
        /// inside when its row is gone.
        brief: Option<(i64, Option<Box<Job>>)>,
    },
    /// A transcript file read (or why not), to store for `meeting`.
    TranscriptRead {
        meeting: i64,
        query: Query,
        result: Result<Box<transcript::Loaded>, String>,
    },
    /// A brief job queued (its id), or why not.
    BriefQueued {
        kind: BriefKind,
        metadata_only: bool,
        result: Result<i64, String>,
    },
    /// Open action items untouched past `nudge_after`.
    Badge(Result<i64, String>),
}

/// The dashboard, its clock and the badge.
pub(crate) struct MeetingsState {
    pub pane: MeetingsPane,
    back_to: Focus,
    /// Bumped by every request; answers of older loads are not shown.
    generation: u64,
    /// The clock, Unix ms (tests set a fixed one).
    pub clock: fn() -> i64,
    pub nudge_after: Duration,
    /// Action items worth a nudge, once counted.
    pub badge: Option<i64>,
    /// The count grew since the last frame: the terminal bell rings once.
    bell: bool,
    beats: u32,
    /// Where a model provider's key and address are read (the process's
    /// environment; tests set their own), to know before queueing a brief
    /// whether one can be asked.
    pub ai_env: Env,
    /// The brief job queued here and not ended yet: its id and kind.
    brief_job: Option<(i64, BriefKind)>,
}

impl MeetingsState {
    pub fn new() -> MeetingsState {
        let clock: fn() -> i64 = crate::store::now_ms;
        MeetingsState {
            pane: MeetingsPane::new(crate::meetings::zone::user_zone(), clock()),
            back_to: Focus::Workspaces,
            generation: 0,
            clock,
            nudge_after: NUDGE_AFTER,
            badge: None,
            bell: false,
            beats: 0,
            ai_env: std::sync::Arc::new(|name| std::env::var(name).ok()),
            brief_job: None,
        }
    }
}

/// What a load answers: the change stored first, what was read, and the
/// brief job followed as it stands.
type Answer = (Option<Write>, Box<Loaded>, Option<(i64, Option<Box<Job>>)>);

/// Reads what `query` asks for.
fn load(conn: &rusqlite::Connection, query: Query) -> Result<Loaded, String> {
    let (from, to) = query.window;
    let meetings = meetings::between(conn, from, to).map_err(|e| describe(&e))?;
    let detail: Option<MeetingDetail> = match query.meeting {
        Some(id) => pane::detail(conn, id).map_err(|e| describe(&e))?,
        None => None,
    };
    let (stakeholders, stakeholder) = if query.stakeholders {
        let people = pane::stakeholders(conn).map_err(|e| describe(&e))?;
        let chosen = query.stakeholder.or_else(|| people.first().map(|p| p.id));
        let detail: Option<StakeholderDetail> = match chosen {
            Some(id) => Some(pane::stakeholder_detail(conn, id).map_err(|e| describe(&e))?),
            None => None,
        };
        (people, detail)
    } else {
        (Vec::new(), None)
    };
    let (watches, change) = if query.watches {
        let watches = meetings::watches::list(conn).map_err(|e| describe(&e))?;
        let chosen = query
            .watch
            .and_then(|id| watches.iter().find(|w| w.id == id))
            .or_else(|| watches.first());
        let change = match chosen {
            Some(watch) => Some(latest_change(conn, watch).map_err(|e| describe(&e))?),
            None => None,
        };
        (watches, change)
    } else {
        (Vec::new(), None)
    };
    Ok(Loaded {
        meetings,
        detail,
        stakeholders,
        stakeholder,
        watches,
        change,
    })
}

/// The diff of `watch`'s last two versions and the newest one's summary,
/// or what stands in for them.
fn latest_change(
    conn: &rusqlite::Connection,
    watch: &meetings::watches::WatchRow,
) -> crate::store::Result<WatchChange> {
    let versions = meetings::watches::versions(conn, watch.id)?;
    let at = versions.last().map(|v| v.fetched_at);
    let summary = match versions.as_slice() {
        [.., _, new] => new.summary.clone(),
        _ => None,
    };
    let text = match versions.as_slice() {
        [.., old, new] => crate::meetings::watch::diff(&old.content, &new.content, &watch.url),
        [only] => format!(
            "one version so far ({} lines); a change shows here once the page differs",
            only.content.lines().count()
        ),
        [] => match &watch.last_error {
            Some(e) => format!("not read yet: {e}"),
            None => "not read yet: the first fetch is queued".into(),
        },
    };
    Ok(WatchChange {
        watch: watch.id,
        at,
        text,
        summary,
    })
}

/// Stores `write`; an error names what is missing.
fn store_write(conn: &mut rusqlite::Connection, write: &Write, now: i64) -> Result<(), String> {
    let missing = |what: &str, id: i64| {
        Err(format!(
            "{what} {id} is gone (deleted elsewhere?); the dashboard shows what is stored now"
        ))
    };
    let fail = |e: crate::store::StoreError| describe(&e);
    match write {
        Write::Decision { meeting, text } => {
            match meetings::add_decision(conn, *meeting, text, now).map_err(fail)? {
                Some(_) => Ok(()),
                None => missing("meeting", *meeting),
            }
        }
        Write::Note { meeting, text } => {
            match meetings::add_note(conn, *meeting, text, now).map_err(fail)? {
                Some(_) => Ok(()),
                None => missing("meeting", *meeting),
            }
        }
        Write::NewAction {
            meeting,
            text,
            owner,
            due,
        } => {
            let action = actions::NewAction {
                meeting_id: *meeting,
                text,
                owner: owner.as_deref(),
                due: due.as_deref(),
            };
            match actions::add(conn, &action, now).map_err(fail)? {
                Some(_) => Ok(()),
                None => missing("meeting", *meeting),
            }
        }
        Write::EditAction {
            id,
            text,
            owner,
            due,
        } => {
            if actions::edit(conn, *id, text, owner.as_deref(), due.as_deref(), now)
                .map_err(fail)?
            {
                Ok(())
            } else {
                missing("action item", *id)
            }
        }
        Write::ActionStatus { id, status } => {
            if actions::set_status(conn, *id, *status, now).map_err(fail)? {
                Ok(())
            } else {
                missing("action item", *id)
            }
        }
        Write::Consent { meeting, consent } => {
            match meetings::set_consent(conn, *meeting, *consent, now).map_err(fail)? {
                Some(_) => Ok(()),
                None => missing("meeting", *meeting),
            }
        }
        Write::Transcript { meeting, loaded } => {
            match transcript::attach(conn, *meeting, loaded, now).map_err(|e| describe(&e))? {
                Some(_) => Ok(()),
                None => missing("meeting", *meeting),
            }
        }
    }
}

/// The file `typed` names: `~` is the home folder, a relative path starts
/// at `base`.
pub(super) fn transcript_path(typed: &str, base: &Path) -> PathBuf {
    let home = || directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
    let typed = typed.trim();
    let path = match typed.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => match home() {
            Some(home) => home.join(rest.trim_start_matches('/')),
            None => PathBuf::from(typed),
        },
        _ => PathBuf::from(typed),
    };
    base.join(path)
}

/// Checks that a brief can be asked (a provider is set up: the check the
/// jobs make, `ask::endpoint_for`), then queues the `kind` brief of
/// `meeting`: the job's id.
fn queue_brief(
    store: &mut crate::store::Store,
    env: &Env,
    meeting: i64,
    kind: BriefKind,
) -> Result<i64, String> {
    let data_dir = store.path().parent().map(Path::to_path_buf);
    let (config, _) = crate::config::Config::load_lenient(data_dir).map_err(|e| describe(&e))?;
    crate::ai::ask::endpoint_for(&config.ai, None, None, env).map_err(|e| {
        format!(
            "no AI provider is set up ({}); set its key, or [ai] provider in config.toml (`kollega doctor` checks it)",
            e.message
        )
    })?;
    if meetings::get(&store.conn, meeting)
        .map_err(|e| describe(&e))?
        .is_none()
    {
        return Err(format!(
            "meeting {meeting} is gone (deleted elsewhere?); the dashboard shows what is stored now"
        ));
    }
    let payload = BriefPayload {
        meeting,
        kind: kind.as_str().into(),
        provider: None,
        model: None,
    };
    crate::jobs::queue::enqueue(&mut store.conn, &payload.job(None), crate::jobs::now_ms())
        .map_err(|e| describe(&e))
}

impl App {
    /// Opens the dashboard (or closes it when open).
    pub(crate) fn toggle_meetings(&mut self) -> bool {
        if self.focus == Focus::Meetings {
            self.leave_meetings();
            return true;
        }
        self.meetings.back_to = self.focus;
        self.focus = Focus::Meetings;
        let now = (self.meetings.clock)();
        self.meetings.pane.tick(now);
        let query = self.meetings.pane.query();
        self.meetings_op(MeetingsOp::Load(query));
        self.count_badge();
        true
    }

    pub(crate) fn leave_meetings(&mut self) {
        self.meetings.pane.form = None;
        self.focus = match self.meetings.back_to {
            Focus::Editor if self.active_tab().is_some() => Focus::Editor,
            Focus::Tree if self.session.is_some() => Focus::Tree,
            Focus::Jobs | Focus::JobLog | Focus::Review | Focus::Ai => self.meetings.back_to,
            _ => Focus::Workspaces,
        };
    }

    /// Carries out what the dashboard asked for, on the store worker.
    pub(crate) fn meetings_op(&mut self, op: MeetingsOp) {
        let (write, query) = match op {
            MeetingsOp::Leave => return self.leave_meetings(),
            MeetingsOp::Load(query) => (None, query),
            MeetingsOp::Write(write, query) => (Some(write), query),
            MeetingsOp::Attach {
                meeting,
                path,
                query,
            } => return self.read_transcript(meeting, path, query),
            MeetingsOp::Brief {
                meeting,
                kind,
                metadata_only,
            } => return self.ask_brief(meeting, kind, metadata_only),
        };
        self.meetings.generation += 1;
        let generation = self.meetings.generation;
        let now = (self.meetings.clock)();
        let brief_job = self.meetings.brief_job.map(|(id, _)| id);
        self.store_work(
            move |store| {
                if let Some(write) = &write {
                    store_write(&mut store.conn, write, now)?;
                }
                // The followed job as it stands, read before the meeting:
                // a brief is stored before its job ends. A failed read of
                // it is tried again with the next load.
                let job = brief_job.and_then(|id| {
                    crate::store::jobs::get(&store.conn, id)
                        .ok()
                        .map(|job| (id, job.map(Box::new)))
                });
                let loaded = load(&store.conn, query)?;
                Ok((write, Box::new(loaded), job))
            },
            move |result: Result<Answer, String>| {
                let (wrote, result, brief) = match result {
                    Ok((wrote, loaded, job)) => (wrote, Ok(loaded), job),
                    Err(e) => (None, Err(e), None),
                };
                AppMsg::Meetings(MeetingsMsg::Loaded {
                    generation,
                    wrote,
                    result,
                    brief,
                })
            },
        );
    }

    /// Reads the transcript file typed for `meeting` on a blocking task;
    /// stored once read ([`MeetingsMsg::TranscriptRead`]).
    fn read_transcript(&mut self, meeting: i64, typed: String, query: Query) {
        let base = self.session.as_ref().and_then(|s| match &s.files {
            Files::Dir(disk) => Some(disk.root().to_path_buf()),
            Files::Sqlite { .. } => None,
        });
        self.spawn_blocking(move || {
            let result = base
                .map_or_else(std::env::current_dir, Ok)
                .map_err(|e| {
                    format!(
                        "cannot read the current folder ({e}) to find {typed:?}: give an absolute path"
                    )
                })
                .and_then(|base| {
                    transcript::load(&transcript_path(&typed, &base))
                        .map(Box::new)
                        .map_err(|e| describe(&e))
                });
            AppMsg::Meetings(MeetingsMsg::TranscriptRead {
                meeting,
                query,
                result,
            })
        });
    }

    /// Queues the `kind` brief of `meeting` on the store worker, once a
    /// provider is known to be set up.
    fn ask_brief(&mut self, meeting: i64, kind: BriefKind, metadata_only: bool) {
        if let Some((job, running)) = self.meetings.brief_job {
            self.notify(
                format!(
                    "the {}-brief (job {job}) is still being written; `kollega jobs log {job}` shows it",
                    running.as_str()
                ),
                true,
            );
            return;
        }
        let env = self.meetings.ai_env.clone();
        self.store_work(
            move |store| queue_brief(store, &env, meeting, kind),
            move |result| {
                AppMsg::Meetings(MeetingsMsg::BriefQueued {
                    kind,
                    metadata_only,
                    result,
                })
            },
        );
    }

    /// The brief job followed, `read` as it stands (`None`: its row is
    /// gone): once it has ended, says how and forgets it. Returns whether
    /// it ended.
    fn brief_progress(&mut self, read: i64, job: Option<&Job>) -> bool {
        let Some((id, kind)) = self.meetings.brief_job else {
            return false;
        };
        if read != id {
            return false;
        }
        let Some(job) = job else {
            self.meetings.brief_job = None;
            self.notify(
                format!(
                    "the {}-brief job {id} is gone (its meeting forgotten, or the job deleted); b asks again",
                    kind.as_str()
                ),
                true,
            );
            return true;
        };
        if !job.status.is_final() {
            return false;
        }
        self.meetings.brief_job = None;
        if job.status == crate::jobs::Status::Succeeded {
            self.notify(format!("{}-brief written (job {id})", kind.as_str()), false);
        } else {
            let why = job.error.as_deref().unwrap_or("no reason was recorded");
            self.notify(
                format!(
                    "the {}-brief job {id} {}: {}; `kollega jobs log {id}` shows each try",
                    kind.as_str(),
                    job.status,
                    crate::tui::ansi::strip(why)
                ),
                true,
            );
        }
        true
    }

    /// A job of this process's runner ended: when it is the brief followed,
    /// the dashboard is read again (with the job) at once.
    pub(crate) fn meetings_job_ended(&mut self, id: i64) {
        if self.meetings.brief_job.is_some_and(|(job, _)| job == id) {
            let query = self.meetings.pane.query();
            self.meetings_op(MeetingsOp::Load(query));
        }
    }

    /// Whether the terminal bell should ring with this frame: once for
    /// each time more action items came to need a nudge.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.meetings.bell)
    }

    /// Counts the action items worth a nudge, for the badge.
    fn count_badge(&mut self) {
        let before = (self.meetings.clock)() - self.meetings.nudge_after.as_millis() as i64;
        self.store_work(
            move |store| pane::nudge_worthy(&store.conn, before).map_err(|e| describe(&e)),
            |result| AppMsg::Meetings(MeetingsMsg::Badge(result)),
        );
    }

    /// Takes an answer for the dashboard; returns whether to redraw.
    pub(crate) fn meetings_msg(&mut self, msg: MeetingsMsg) -> bool {
        match msg {
            MeetingsMsg::Badge(Ok(count)) => {
                // Not at the first count: what was due before the start
                // is on the badge, not worth a ring.
                if self.meetings.badge.is_some_and(|before| count > before) {
                    self.meetings.bell = true;
                }
                let changed = self.meetings.badge != Some(count);
                self.meetings.badge = Some(count);
                changed
            }
            // The badge is a hint: a failed count leaves the last one.
            MeetingsMsg::Badge(Err(_)) => false,
            MeetingsMsg::TranscriptRead {
                meeting,
                query,
                result,
            } => {
                match result {
                    Ok(loaded) => self.meetings_op(MeetingsOp::Write(
                        Write::Transcript { meeting, loaded },
                        query,
                    )),
                    Err(e) => self.notify(format!("transcript not attached: {e}"), true),
                }
                true
            }
            MeetingsMsg::BriefQueued {
                kind,
                metadata_only,
                result,
            } => {
                match result {
                    Ok(job) => {
                        self.meetings.brief_job = Some((job, kind));
                        // Short enough for an 80-column status line.
                        let scope = if metadata_only {
                            "; consent basic: calendar only"
                        } else {
                            ""
                        };
                        self.notify(
                            format!("{}-brief queued (job {job}){scope}", kind.as_str()),
                            false,
                        );
                        if let Some(runner) = self.services.runner.as_ref() {
                            runner.wake();
                        }
                    }
                    Err(e) => self.notify(format!("no brief: {e}"), true),
                }
                true
            }
            MeetingsMsg::Loaded {
                generation,
                wrote,
                result,
                brief,
            } => {
                let mut redraw =
                    brief.is_some_and(|(id, job)| self.brief_progress(id, job.as_deref()));
                if let Some(write) = &wrote {
                    self.notify(write.done_note(), false);
                    self.count_badge();
                    redraw = true;
                }
                match result {
                    Err(e) => {
                        self.notify(format!("meetings: {e}"), true);
                        true
                    }
                    Ok(_) if generation != self.meetings.generation => redraw,
                    Ok(loaded) => {
                        let (changed, again) = self.meetings.pane.loaded(*loaded);
                        if let Some(query) = again {
                            self.meetings_op(MeetingsOp::Load(query));
                        }
                        redraw || (changed && self.focus == Focus::Meetings)
                    }
                }
            }
        }
    }

    /// The clock's tick: statuses move on while the dashboard is open and
    /// what it shows is re-read; the badge is counted now and then.
    /// Returns whether to redraw.
    pub(crate) fn meetings_tick(&mut self) -> bool {
        self.meetings.beats = self.meetings.beats.wrapping_add(1);
        let open = self.focus == Focus::Meetings;
        if open || self.meetings.beats % BADGE_EVERY == 1 {
            self.count_badge();
        }
        if !open {
            return false;
        }
        let changed = self.meetings.pane.tick((self.meetings.clock)());
        if self.meetings.pane.form.is_none() {
            let query = self.meetings.pane.query();
            self.meetings_op(MeetingsOp::Load(query));
        }
        changed
    }
}
