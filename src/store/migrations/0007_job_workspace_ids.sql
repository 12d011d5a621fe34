-- Jobs and schedules name their workspace by its row, never by a name that
-- is resolved again when they run: a workspace removed and another made
-- under its name, or a folder of that name where a worker was started,
-- must not receive them.
--
-- `workspace` stays, for display: the workspace's name when the job was
-- queued, or the absolute canonical path of a folder. `workspace_id` is the
-- workspace's row, NULL for a folder (and for a job that belongs to none).
-- A job whose workspace_id names no workspace fails with that reason;
-- removing a workspace cancels its jobs and removes its schedules.

ALTER TABLE jobs ADD COLUMN workspace_id INTEGER;
ALTER TABLE schedules ADD COLUMN workspace_id INTEGER;

-- Rows from before: a name that names a workspace now gets its row. A job
-- whose name does not keeps a NULL id and, not being an absolute path,
-- fails when it runs rather than running in a folder of that name; a
-- schedule whose workspace is gone (an older `rm` left it) is removed.
UPDATE jobs SET workspace_id =
    (SELECT w.id FROM workspaces w WHERE w.state = 'ready' AND w.name = jobs.workspace)
 WHERE workspace IS NOT NULL AND substr(workspace, 1, 1) <> '/';
UPDATE schedules SET workspace_id =
    (SELECT w.id FROM workspaces w WHERE w.state = 'ready' AND w.name = schedules.workspace)
 WHERE substr(workspace, 1, 1) <> '/';

DELETE FROM schedules WHERE workspace_id IS NULL AND substr(workspace, 1, 1) <> '/';

CREATE INDEX jobs_workspace ON jobs (workspace_id) WHERE workspace_id IS NOT NULL;
CREATE INDEX schedules_workspace ON schedules (workspace_id) WHERE workspace_id IS NOT NULL;
