-- The apply journal: a checkpoint whose files a process is writing into a
-- folder. `writing` is 'apply', 'undo' or 'redo' from the moment the step
-- is journaled (before the first file is renamed) until every file is
-- written and the step is recorded; NULL otherwise. `writer_pid` and
-- `writer_boot` (the kernel's boot id) name the writer: a step whose
-- writer is gone was cut short and is taken back from the checkpoint's
-- rows, every file to its side before the step.
ALTER TABLE applies ADD COLUMN writing TEXT CHECK (writing IN ('apply', 'undo', 'redo'));
ALTER TABLE applies ADD COLUMN writer_pid INTEGER;
ALTER TABLE applies ADD COLUMN writer_boot TEXT;
