-- What a file is besides its text, so that export, takeover and the jobs'
-- working copy write it back as it came in; and every path an import's
-- ignore rules dropped, with the rule.

-- 1 for a file that came in executable (any x bit, a ZIP entry's unix mode
-- 0o755): written back 0755, committed 100755.
ALTER TABLE files ADD COLUMN executable INTEGER NOT NULL DEFAULT 0;
-- The encoding the file came in, when it was not UTF-8 (only
-- 'windows-1252', which covers Latin-1); `content` is always UTF-8 and is
-- encoded back to this on the way out. NULL is UTF-8.
ALTER TABLE files ADD COLUMN encoding TEXT;

CREATE TABLE ignored_entries (
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    path          TEXT    NOT NULL,
    rule          TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, path)
);
