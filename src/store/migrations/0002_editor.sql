-- Editing: unsaved drafts, the editor's layout per workspace, and the lock
-- that keeps two kollega processes from editing one workspace at once.
--
-- A workspace_key is `ws:<name>` for a workspace stored here and
-- `dir:<canonical path>` for a folder opened from disk. It is a name, not a
-- foreign key: drafts of a folder have no workspace row, and drafts must
-- outlive a workspace that is removed or re-imported under them.

CREATE TABLE drafts (
    workspace_key  TEXT NOT NULL,
    path           TEXT NOT NULL,
    content        TEXT NOT NULL,
    -- SHA-256 hex of the saved content the draft was edited from; NULL for a
    -- file that was never saved. Restoring compares it with the file now.
    base_hash      TEXT,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (workspace_key, path)
);

CREATE TABLE editor_state (
    workspace_key  TEXT PRIMARY KEY,
    -- JSON owned by the TUI (tabs, cursors, layout); the store keeps it opaque.
    state          TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE workspace_locks (
    workspace_key  TEXT PRIMARY KEY,
    pid            INTEGER NOT NULL,
    host           TEXT    NOT NULL,
    acquired_at    TEXT    NOT NULL,
    heartbeat_at   TEXT    NOT NULL
);
