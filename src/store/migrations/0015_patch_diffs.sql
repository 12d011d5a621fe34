-- A patch's diff moves to a table of its own. SQLite writes a row whole
-- whenever one of its columns changes: a patch of megabytes had its diff
-- written again by every change of its status (an apply, an undo, a
-- redo, a reject), and read by every list of a workspace's patches.
-- Now those touch the small `patches` row only.
CREATE TABLE patch_diffs (
    patch_id INTEGER PRIMARY KEY REFERENCES patches (id) ON DELETE CASCADE,
    diff     TEXT    NOT NULL
);
INSERT INTO patch_diffs (patch_id, diff) SELECT id, diff FROM patches;
ALTER TABLE patches DROP COLUMN diff;
