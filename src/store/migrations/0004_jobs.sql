-- Jobs: every background task is a row here, so nothing is lost when the
-- terminal, the SSH link or the process dies.
--
-- Times in these tables are Unix milliseconds (UTC): the runner compares
-- and subtracts them on every poll. The allowed status changes live in
-- `jobs::Status::can_become`; every UPDATE of `status` names the status it
-- expects to leave, so a change that lost a race changes nothing.

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL,
    -- A workspace name, or the canonical path of a folder; NULL for jobs
    -- that belong to no workspace.
    workspace        TEXT,
    -- JSON owned by the kind (a command's argv, an export's target …).
    payload          TEXT    NOT NULL DEFAULT '{}',
    status           TEXT    NOT NULL
                     CHECK (status IN ('queued', 'running', 'succeeded', 'failed',
                                       'retrying', 'dead', 'cancelled')),
    progress         INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    -- Attempts started so far; a claim counts one.
    attempt          INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL DEFAULT 1 CHECK (max_attempts >= 1),
    -- 1 when a failed attempt (a command's non-zero exit, a timeout) is
    -- retried too (`--retries`); transient errors always are.
    retry_failed     INTEGER NOT NULL DEFAULT 0,
    -- When a queued or retrying job may be claimed.
    next_run_at      INTEGER NOT NULL,
    timeout_ms       INTEGER,
    -- The runner holding a running job and until when; a runner renews the
    -- lease with a heartbeat, another takes the job once it expired.
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    -- Set by `jobs cancel` (any process); the holder stops the job.
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    -- JSON the kind returned; for commands the exit code.
    result           TEXT,
    exit_code        INTEGER,
    -- Where the job ran, and the environment it added (JSON object).
    cwd              TEXT,
    env              TEXT,
    -- Log lines written so far over all attempts; the next line's seq.
    log_lines        INTEGER NOT NULL DEFAULT 0,
    schedule_id      INTEGER,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (next_run_at, id) WHERE status IN ('queued', 'retrying');
CREATE INDEX jobs_running ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_updated ON jobs (updated_at);

-- `--after`: job_id waits until every after_id has succeeded, and fails
-- with the reason when one of them ends otherwise.
CREATE TABLE job_deps (
    job_id   INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    after_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    PRIMARY KEY (job_id, after_id)
) WITHOUT ROWID;
CREATE INDEX job_deps_after ON job_deps (after_id);

-- The tail of each job's log (the whole log is a gzip file per attempt
-- under <data dir>/jobs/<id>/). seq runs over all attempts of a job.
CREATE TABLE job_logs (
    job_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    stream  TEXT    NOT NULL CHECK (stream IN ('stdout', 'stderr', 'info')),
    at      INTEGER NOT NULL,
    line    TEXT    NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;

-- Live runners (a `kollega worker`, a TUI, a foreground `kollega run`).
-- The TUI runs queued jobs only while no worker's heartbeat is fresh.
CREATE TABLE runners (
    id           TEXT    PRIMARY KEY,
    role         TEXT    NOT NULL CHECK (role IN ('worker', 'tui', 'cli')),
    pid          INTEGER NOT NULL,
    host         TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

-- `kollega schedule add`: a command run as a job at the times of a cron
-- expression (UTC). next_run_at is the next fire time not yet enqueued.
CREATE TABLE schedules (
    id           INTEGER PRIMARY KEY,
    workspace    TEXT    NOT NULL,
    cron         TEXT    NOT NULL,
    -- JSON array: the command's argv.
    command      TEXT    NOT NULL,
    -- What to do with fire times missed while nothing ran: 'once' enqueues
    -- one run for all of them, 'skip' none, 'all' one per missed time
    -- (at most 100).
    catch_up     TEXT    NOT NULL DEFAULT 'once' CHECK (catch_up IN ('once', 'skip', 'all')),
    timeout_ms   INTEGER,
    next_run_at  INTEGER NOT NULL,
    last_run_at  INTEGER,
    last_job_id  INTEGER,
    created_at   INTEGER NOT NULL
);

-- Counters and histograms that outlive a process (`kollega metrics`);
-- job figures are computed from the jobs table instead.
CREATE TABLE metric_series (
    name    TEXT    NOT NULL,
    -- Prometheus label set, rendered and sorted: `kind="command",status="ok"`.
    labels  TEXT    NOT NULL,
    count   INTEGER NOT NULL DEFAULT 0,
    sum     REAL    NOT NULL DEFAULT 0,
    -- JSON array of cumulative bucket counts for histograms; NULL for counters.
    buckets TEXT,
    PRIMARY KEY (name, labels)
) WITHOUT ROWID;
