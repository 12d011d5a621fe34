-- Whether each new version of a watched page gets an AI summary of its
-- change (`kollega watch add URL --summarize`, `kollega watch summarize ID
-- on|off`). The summary and the call it took are kept on the version
-- (`regwatch_versions.summary`, `ai_call_id`, there since 0009).
ALTER TABLE regwatches ADD COLUMN summarize INTEGER NOT NULL DEFAULT 0
    CHECK (summarize IN (0, 1));
