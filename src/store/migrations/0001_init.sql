-- Workspaces and their files, the import staging they need, and an audit log.
--
-- A workspace row is `importing` while an import stages its files and
-- becomes `ready` in the one transaction that publishes it; a killed import
-- leaves an `importing` row that the next run of the same import resumes.

CREATE TABLE workspaces (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('importing', 'ready')),
    storage_type   TEXT    NOT NULL CHECK (storage_type IN ('sqlite', 'git')),
    source         TEXT    NOT NULL,
    fingerprint    TEXT,
    taken_over_at  TEXT,
    files_count    INTEGER NOT NULL DEFAULT 0,
    bytes          INTEGER NOT NULL DEFAULT 0,
    ignored_count  INTEGER NOT NULL DEFAULT 0,
    importer_pid   INTEGER,
    created_at     TEXT    NOT NULL
);
CREATE UNIQUE INDEX workspaces_ready_name ON workspaces (name) WHERE state = 'ready';
CREATE UNIQUE INDEX workspaces_importing_name ON workspaces (name) WHERE state = 'importing';

CREATE TABLE files (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    path          TEXT    NOT NULL,
    content       TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    hash          TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    UNIQUE (workspace_id, path)
);

CREATE TABLE skipped_entries (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    path          TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    size          INTEGER,
    PRIMARY KEY (workspace_id, path)
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    action     TEXT NOT NULL,
    workspace  TEXT,
    detail     TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
