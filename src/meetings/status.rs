//! A meeting's shown status: a pure function of the clock, its times and
//! where its processing stands, so the dashboard, the CLI and the jobs
//! agree without storing it.

use crate::store::meetings::Processing;

/// How long before its start a meeting is in the lobby.
pub(crate) const LOBBY_MS: i64 = 10 * 60 * 1000;

/// What a meeting looks like now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MeetingStatus {
    /// Starts later than the lobby.
    Upcoming,
    /// Starts within ten minutes.
    Lobby,
    /// Under way.
    Active,
    /// Ended, not processed yet (or being processed).
    Post,
    /// Ended and processed.
    Done,
    /// Processing failed.
    Failed,
}

impl MeetingStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MeetingStatus::Upcoming => "upcoming",
            MeetingStatus::Lobby => "lobby",
            MeetingStatus::Active => "active",
            MeetingStatus::Post => "post",
            MeetingStatus::Done => "done",
            MeetingStatus::Failed => "failed",
        }
    }
}

/// The status at `now` of a meeting from `start` to `end` (Unix ms) whose
/// processing stands at `processing`. A failure shows whenever it
/// happened; "done" only once the meeting has ended.
pub(crate) fn status(now: i64, start: i64, end: i64, processing: Processing) -> MeetingStatus {
    if processing == Processing::Failed {
        return MeetingStatus::Failed;
    }
    if now < start - LOBBY_MS {
        MeetingStatus::Upcoming
    } else if now < start {
        MeetingStatus::Lobby
    } else if now < end.max(start) {
        MeetingStatus::Active
    } else if processing == Processing::Done {
        MeetingStatus::Done
    } else {
        MeetingStatus::Post
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_000_000_000;
    const END: i64 = START + 3_600_000;

    #[test]
    fn status_follows_the_clock() {
        let at = |now| status(now, START, END, Processing::None);
        assert_eq!(at(START - LOBBY_MS - 1), MeetingStatus::Upcoming);
        assert_eq!(at(START - LOBBY_MS), MeetingStatus::Lobby);
        assert_eq!(at(START - 1), MeetingStatus::Lobby);
        assert_eq!(at(START), MeetingStatus::Active);
        assert_eq!(at(END - 1), MeetingStatus::Active);
        assert_eq!(at(END), MeetingStatus::Post);
    }

    #[test]
    fn processing_decides_after_the_end() {
        assert_eq!(
            status(END + 1, START, END, Processing::Running),
            MeetingStatus::Post
        );
        assert_eq!(
            status(END + 1, START, END, Processing::Done),
            MeetingStatus::Done
        );
        // Done before the end (notes processed early) still shows the clock.
        assert_eq!(
            status(START + 1, START, END, Processing::Done),
            MeetingStatus::Active
        );
        assert_eq!(
            status(START - 1, START, END, Processing::Failed),
            MeetingStatus::Failed
        );
        assert_eq!(
            status(END + 1, START, END, Processing::Failed),
            MeetingStatus::Failed
        );
    }

    #[test]
    fn a_meeting_without_length_is_active_for_no_time() {
        assert_eq!(
            status(START, START, START, Processing::None),
            MeetingStatus::Post
        );
        assert_eq!(
            status(START - 1, START, START, Processing::None),
            MeetingStatus::Lobby
        );
    }
}
