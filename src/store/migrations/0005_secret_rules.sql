-- The rule of each skipped secret: a stable id such as `stripe-secret-key`,
-- `jwt`, `url-password` or `env-file`; never the matched value. NULL for
-- other reasons, and for secrets skipped before this version.

ALTER TABLE skipped_entries ADD COLUMN rule TEXT;
