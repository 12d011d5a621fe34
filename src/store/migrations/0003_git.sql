-- Git workspaces and the takeover into git.
--
-- A workspace whose storage_type is 'git' keeps its files in the repository
-- at repo_path; its files rows are gone, drafts and editor state stay.
--
-- A takeovers row is written before a takeover touches the repository and
-- names everything the takeover will create (branch, tag, the HEAD it starts
-- from), so that a run killed at any point can be finished by the same
-- command, or reported, without ever making a second baseline commit.

ALTER TABLE workspaces ADD COLUMN repo_path TEXT;

CREATE TABLE takeovers (
    id            INTEGER PRIMARY KEY,
    workspace     TEXT    NOT NULL,
    -- Canonical path of the folder or ZIP, or `workspace:<name>` for the
    -- promotion of a SQLite workspace.
    source        TEXT    NOT NULL,
    repo_path     TEXT    NOT NULL,
    -- UTC yyyymmdd-hhmmss of started_at; names the branch and the tag.
    stamp         TEXT    NOT NULL,
    branch        TEXT    NOT NULL,
    tag           TEXT    NOT NULL,
    -- The commit the branch starts from; NULL when the repository had none.
    base_commit   TEXT,
    -- 1 when this takeover created the repository (or its .git).
    created_repo  INTEGER NOT NULL DEFAULT 0,
    state         TEXT    NOT NULL
                  CHECK (state IN ('started', 'committed', 'tagged', 'checked-out', 'done')),
    commit_id     TEXT,
    -- The tree of the imported files alone (no handoff.json): equal trees
    -- mean the same import.
    files_tree    TEXT,
    -- The process running the takeover; a live one is not resumed under it.
    pid           INTEGER,
    -- What the remote steps set up; never a token.
    remote_url    TEXT,
    github_repo   TEXT,
    started_at    TEXT    NOT NULL,
    finished_at   TEXT
);
-- At most one unfinished takeover per workspace name.
CREATE UNIQUE INDEX takeovers_unfinished ON takeovers (workspace) WHERE state <> 'done';
CREATE INDEX takeovers_workspace ON takeovers (workspace, id);
