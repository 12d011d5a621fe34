-- Meetings: calendars and their events, the occurrences (meetings) the
-- dashboard shows, and everything a user or a model attaches to one:
-- stakeholders, notes, transcripts, decisions, action items and their
-- nudges, briefs, module answers. Regulation watches and their versions.
--
-- Times are Unix milliseconds (UTC instants). An event's original zone is
-- kept by name beside its instants, so it can be shown as the organizer
-- wrote it. Everything hung on a meeting goes with it (ON DELETE CASCADE):
-- forgetting a meeting is one delete, plus its AI call records, which are
-- found through `meeting_ai_calls` first.

-- A source of events: a file imported once, or a URL subscribed to and
-- refreshed with a conditional GET.
CREATE TABLE calendars (
    id              INTEGER PRIMARY KEY,
    -- 'file' (an absolute path) or 'url' (http or https).
    kind            TEXT    NOT NULL CHECK (kind IN ('file', 'url')),
    source          TEXT    NOT NULL UNIQUE,
    etag            TEXT,
    last_modified   TEXT,
    -- Seconds between refreshes of a URL; NULL for a file.
    refresh_every_s INTEGER,
    last_fetched_at INTEGER,
    -- The last refresh's failure, NULL after a success.
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);

-- One VEVENT as the calendar said it: a series' master (recurrence_id '')
-- or one occurrence's override (recurrence_id the original start, as UTC
-- `YYYYMMDDTHHMMSSZ`, or `YYYYMMDD` for an all-day series).
CREATE TABLE calendar_events (
    id            INTEGER PRIMARY KEY,
    calendar_id   INTEGER REFERENCES calendars (id) ON DELETE SET NULL,
    uid           TEXT    NOT NULL,
    recurrence_id TEXT    NOT NULL DEFAULT '',
    sequence      INTEGER NOT NULL DEFAULT 0,
    summary       TEXT    NOT NULL DEFAULT '',
    description   TEXT,
    location      TEXT,
    url           TEXT,
    organizer     TEXT,
    dtstart       INTEGER NOT NULL,
    dtend         INTEGER NOT NULL,
    -- The TZID the times were written in; NULL for UTC, floating or all-day.
    tzid          TEXT,
    all_day       INTEGER NOT NULL DEFAULT 0,
    -- No zone: taken in the user's zone at import.
    floating      INTEGER NOT NULL DEFAULT 0,
    rrule         TEXT,
    rdate         TEXT,
    exdate        TEXT,
    status        TEXT    NOT NULL DEFAULT 'confirmed'
                  CHECK (status IN ('confirmed', 'tentative', 'cancelled')),
    raw           TEXT,
    updated_at    INTEGER NOT NULL,
    UNIQUE (uid, recurrence_id)
);

-- An occurrence: what the dashboard lists and everything below hangs on.
-- Keyed by (uid, occurrence_key) so a re-import finds the same row: the key
-- is '' for a single event and the occurrence's original start (as
-- `recurrence_id` above) in a series, so a moved occurrence keeps its
-- notes. Its times and title are the occurrence's own (an override's, or
-- the master's shifted to this occurrence).
CREATE TABLE meetings (
    id                   INTEGER PRIMARY KEY,
    uid                  TEXT    NOT NULL,
    occurrence_key       TEXT    NOT NULL DEFAULT '',
    event_id             INTEGER REFERENCES calendar_events (id) ON DELETE SET NULL,
    title                TEXT    NOT NULL DEFAULT '',
    location             TEXT,
    url                  TEXT,
    start_at             INTEGER NOT NULL,
    end_at               INTEGER NOT NULL,
    tzid                 TEXT,
    all_day              INTEGER NOT NULL DEFAULT 0,
    floating             INTEGER NOT NULL DEFAULT 0,
    -- Cancelled by the calendar (the event, or this occurrence): kept with
    -- what hangs on it, left off the dashboard.
    cancelled            INTEGER NOT NULL DEFAULT 0,
    consent              TEXT    NOT NULL DEFAULT 'basic'
                         CHECK (consent IN ('basic', 'plus', 'legal')),
    -- Processing after the meeting: 'none' (not started), 'running',
    -- 'done', 'failed'. The shown status (upcoming, lobby, active, post,
    -- done, failed) is derived from it and the clock.
    processing           TEXT    NOT NULL DEFAULT 'none'
                         CHECK (processing IN ('none', 'running', 'done', 'failed')),
    processing_error     TEXT,
    -- Where a transcript is expected from (a path or URL), how often it
    -- was looked for and when next; 'none', 'expected', 'received',
    -- 'missing' (given up: post-analysis of the notes only).
    transcript_source    TEXT,
    transcript_state     TEXT    NOT NULL DEFAULT 'none'
                         CHECK (transcript_state IN ('none', 'expected', 'received', 'missing')),
    transcript_attempts  INTEGER NOT NULL DEFAULT 0,
    transcript_next_at   INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (uid, occurrence_key)
);
CREATE INDEX meetings_start ON meetings (start_at);
-- The longest meeting, found from the index: a listing of days then reads
-- only the meetings that start within that length before its first day.
CREATE INDEX meetings_length ON meetings (end_at - start_at);

-- A meeting forgotten on purpose: a re-import does not bring it back. Only
-- a hash of its uid and occurrence key is kept, no text of it.
CREATE TABLE meetings_forgotten (
    key_hash     TEXT    PRIMARY KEY,
    forgotten_at INTEGER NOT NULL
);

CREATE TABLE stakeholders (
    id    INTEGER PRIMARY KEY,
    email TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name  TEXT
);

CREATE TABLE meeting_stakeholders (
    meeting_id     INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    stakeholder_id INTEGER NOT NULL REFERENCES stakeholders (id) ON DELETE CASCADE,
    role           TEXT    NOT NULL CHECK (role IN ('organizer', 'attendee')),
    PRIMARY KEY (meeting_id, stakeholder_id)
);
CREATE INDEX meeting_stakeholders_person ON meeting_stakeholders (stakeholder_id);

CREATE TABLE meeting_notes (
    id         INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX meeting_notes_meeting ON meeting_notes (meeting_id);

-- A transcript's text, copied in (never left as a file under the data
-- dir). `cues` is a JSON array of {start_ms, end_ms, text} for WebVTT and
-- SRT, NULL for plain text.
CREATE TABLE transcripts (
    id          INTEGER PRIMARY KEY,
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    format      TEXT    NOT NULL CHECK (format IN ('vtt', 'srt', 'txt')),
    text        TEXT    NOT NULL,
    cues        TEXT,
    -- The file name or URL it came from (no directory of a local file).
    source_name TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX transcripts_meeting ON transcripts (meeting_id);

CREATE TABLE decisions (
    id         INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX decisions_meeting ON decisions (meeting_id);

CREATE TABLE action_items (
    id             INTEGER PRIMARY KEY,
    meeting_id     INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    text           TEXT    NOT NULL,
    -- A known stakeholder, or only a name typed by the user.
    owner_id       INTEGER REFERENCES stakeholders (id) ON DELETE SET NULL,
    owner_name     TEXT,
    -- A calendar date, `YYYY-MM-DD`.
    due            TEXT,
    status         TEXT    NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'doing', 'done')),
    created_at     INTEGER NOT NULL,
    -- Any change by a user: nudges look for items untouched since.
    updated_at     INTEGER NOT NULL,
    last_nudged_at INTEGER
);
CREATE INDEX action_items_meeting ON action_items (meeting_id);
CREATE INDEX action_items_open ON action_items (status, updated_at);

-- Each nudge sent (or tried) for an action item, per channel.
CREATE TABLE nudges (
    id         INTEGER PRIMARY KEY,
    action_id  INTEGER NOT NULL REFERENCES action_items (id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    -- 'badge', 'bell', 'desktop', 'webhook'.
    channel    TEXT    NOT NULL,
    -- 'ok', 'failed', 'dead'.
    outcome    TEXT    NOT NULL,
    error      TEXT
);
CREATE INDEX nudges_action ON nudges (action_id, at);

CREATE TABLE briefs (
    id             INTEGER PRIMARY KEY,
    meeting_id     INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL CHECK (kind IN ('pre', 'post')),
    -- The brief as JSON, checked against its schema before it is stored.
    json           TEXT    NOT NULL,
    prompt_version TEXT    NOT NULL,
    ai_call_id     INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX briefs_meeting ON briefs (meeting_id, kind);

-- Every AI call made for a meeting (briefs, extraction, modules, failed
-- ones too): forget removes these `ai_calls` rows.
CREATE TABLE meeting_ai_calls (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    ai_call_id INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, ai_call_id)
);

-- Prompt-pack modules turned on per workspace (`ws:<name>` / `dir:<path>`).
CREATE TABLE meeting_modules (
    workspace_key TEXT    NOT NULL,
    module        TEXT    NOT NULL,
    enabled_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_key, module)
);

CREATE TABLE module_answers (
    id             INTEGER PRIMARY KEY,
    meeting_id     INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    module         TEXT    NOT NULL,
    prompt_version TEXT    NOT NULL,
    question       TEXT,
    answer         TEXT    NOT NULL,
    ai_call_id     INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX module_answers_meeting ON module_answers (meeting_id);

-- A page or feed polled for changes.
CREATE TABLE regwatches (
    id              INTEGER PRIMARY KEY,
    url             TEXT    NOT NULL UNIQUE,
    every_s         INTEGER NOT NULL,
    etag            TEXT,
    last_modified   TEXT,
    last_fetched_at INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);

-- Each changed content of a watch, newest last.
CREATE TABLE regwatch_versions (
    id           INTEGER PRIMARY KEY,
    watch_id     INTEGER NOT NULL REFERENCES regwatches (id) ON DELETE CASCADE,
    content      TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    fetched_at   INTEGER NOT NULL,
    -- An optional AI summary of the change from the version before.
    summary      TEXT,
    ai_call_id   INTEGER
);
CREATE INDEX regwatch_versions_watch ON regwatch_versions (watch_id, id);
