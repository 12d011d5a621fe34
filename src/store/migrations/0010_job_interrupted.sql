-- A job whose runner went away mid-attempt (kollega quit without handing
-- it over, a hangup, kill -9, a crash) and whose kind is not safe to run
-- twice (a person's command, which may be `make deploy`) becomes
-- 'interrupted': nothing runs it again until a person says so.
--
-- SQLite cannot change a CHECK constraint with ALTER TABLE, and rebuilding
-- `jobs` inside this transaction (foreign keys on) would cascade into
-- `job_logs` and `job_deps`. Widening the CHECK of the stored schema is the
-- change SQLite documents for loosening a constraint: every row that
-- passed the old check passes the new one, and nothing on disk moves.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''dead'', ''cancelled'')', '''dead'', ''cancelled'', ''interrupted'')')
 WHERE type = 'table' AND name = 'jobs';
PRAGMA writable_schema = RESET;

-- The start of the TUI and `kollega jobs` count the interrupted jobs; the
-- new index also moves the schema cookie, so every open connection reads
-- the widened check.
CREATE INDEX jobs_interrupted ON jobs (id) WHERE status = 'interrupted';
