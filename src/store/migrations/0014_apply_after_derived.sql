-- An apply's checkpoint no longer holds each file's content after the
-- apply: it is derived again, when undo, redo or a recovery needs it,
-- from the file's `before` and the hunks of the patch the apply wrote,
-- which are deterministic, and checked against the SHA-256 kept here.
--
-- `applies.hunks`: the applied hunks of the patch, by their 1-based number
-- over the whole patch, as ranges (`1-5000`, `1,3-4`); NULL for a
-- checkpoint whose files keep `after` whole (before this version, an undo
-- or redo's row, an apply that does not derive). `applies.whole_files`:
-- 1 when the patch's files without hunks (renames, mode changes) went
-- with the hunks, as they do unless hunks were picked by number.
-- `apply_files.after_sha256`: the SHA-256 of the derived `after` (whose
-- column is then NULL, and `after_mode` its mode); NULL where `after`
-- holds the content, or where no file is left after the apply.
ALTER TABLE applies ADD COLUMN hunks TEXT;
ALTER TABLE applies ADD COLUMN whole_files INTEGER NOT NULL DEFAULT 1;
ALTER TABLE apply_files ADD COLUMN after_sha256 BLOB;
