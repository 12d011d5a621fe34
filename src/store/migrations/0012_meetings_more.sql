-- Who wrote a decision or an action item: a user, or a model's post-brief
-- (shown as such, and replaced by the next post-brief while nobody has
-- touched it).
ALTER TABLE decisions ADD COLUMN origin TEXT NOT NULL DEFAULT 'user'
    CHECK (origin IN ('user', 'model'));
ALTER TABLE action_items ADD COLUMN origin TEXT NOT NULL DEFAULT 'user'
    CHECK (origin IN ('user', 'model'));
