-- AI patches: the calls made to models, the conversations they belong to,
-- the patches they proposed (or that came from elsewhere) with a decision
-- per hunk, and each apply as a checkpoint that can be undone and redone.
--
-- A workspace is named by its key, as drafts name it: `ws:<name>` for a
-- workspace stored here, `dir:<canonical path>` for a folder. Removing a
-- workspace removes the rows under its key. Times are Unix milliseconds.
-- No key, header or secret is ever written here: requests are not stored,
-- only what they cost and the text the user typed and the model answered.

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    workspace_key    TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    provider         TEXT    NOT NULL,
    model            TEXT    NOT NULL,
    -- The Responses API's id of the last answer, sent as
    -- `previous_response_id` by a follow-up; NULL for other providers.
    last_response_id TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX conversations_workspace ON conversations (workspace_key, updated_at);

-- What was said, in order: the user's prompts (without the context
-- files, which are read again) and the model's answers.
CREATE TABLE conversation_turns (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    text            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX conversation_turns_order ON conversation_turns (conversation_id, id);

-- One row per HTTP request to a model, whatever its end.
CREATE TABLE ai_calls (
    id              INTEGER PRIMARY KEY,
    workspace_key   TEXT,
    job_id          INTEGER,
    conversation_id INTEGER,
    -- The process (TUI or CLI run) that made it, for per-session totals.
    session         TEXT    NOT NULL,
    provider        TEXT    NOT NULL,
    model           TEXT    NOT NULL,
    prompt_version  TEXT    NOT NULL,
    response_id     TEXT,
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    cached_tokens   INTEGER NOT NULL DEFAULT 0,
    -- Millionths of a US dollar; NULL when the pricing table does not know
    -- the model.
    cost_micros     INTEGER,
    duration_ms     INTEGER NOT NULL,
    -- 'ok', or the failure's short name ('rate-limited', 'cut', …).
    outcome         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX ai_calls_workspace ON ai_calls (workspace_key, created_at);
CREATE INDEX ai_calls_session ON ai_calls (session);

-- A patch proposed to a workspace. `diff` is the whole patch as a unified
-- diff (git style), the form every edit format is turned into; hunks are
-- numbered in its order, files from 0 and hunks from 0 within a file.
CREATE TABLE patches (
    id              INTEGER PRIMARY KEY,
    workspace_key   TEXT    NOT NULL,
    -- 'ask' (a model's answer), 'import' (`patch import`), 'fix' (fix with
    -- AI from a failed job).
    source          TEXT    NOT NULL CHECK (source IN ('ask', 'import', 'fix')),
    job_id          INTEGER,
    conversation_id INTEGER REFERENCES conversations (id) ON DELETE SET NULL,
    title           TEXT    NOT NULL,
    -- The model's commit message, when it gave one.
    message         TEXT,
    diff            TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'applied', 'rejected')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX patches_workspace ON patches (workspace_key, id);

-- The review's decision on each hunk. A hunk split in review replaces its
-- row by one per part (the patch's `diff` is rewritten with it).
CREATE TABLE patch_hunks (
    patch_id   INTEGER NOT NULL REFERENCES patches (id) ON DELETE CASCADE,
    file_index INTEGER NOT NULL,
    hunk_index INTEGER NOT NULL,
    decision   TEXT    NOT NULL DEFAULT 'pending'
               CHECK (decision IN ('pending', 'accepted', 'rejected')),
    -- Why it was rejected, sent back to the model by "regenerate".
    reason     TEXT,
    PRIMARY KEY (patch_id, file_index, hunk_index)
);

-- Each apply is a checkpoint: the files it changed, before and after, so
-- that undo and redo restore whole applies. `state` is 'applied' or
-- 'undone'; a new apply drops the undone ones after it (like an editor's
-- redo after a new edit).
CREATE TABLE applies (
    id            INTEGER PRIMARY KEY,
    workspace_key TEXT    NOT NULL,
    patch_id      INTEGER REFERENCES patches (id) ON DELETE SET NULL,
    state         TEXT    NOT NULL CHECK (state IN ('applied', 'undone')),
    -- The commit made for it in a git workspace, when asked for.
    commit_id     TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX applies_workspace ON applies (workspace_key, id);

CREATE TABLE apply_files (
    apply_id    INTEGER NOT NULL REFERENCES applies (id) ON DELETE CASCADE,
    path        TEXT    NOT NULL,
    -- NULL: the file did not exist before (after) the apply.
    before      BLOB,
    after       BLOB,
    before_mode INTEGER,
    after_mode  INTEGER,
    PRIMARY KEY (apply_id, path)
);
