-- 005_creation_entries.sql: the first entry of a timeline in its object's
-- row, as SQLite's 011_creation_entries.sql (read its comment).
ALTER TABLE alerts ADD COLUMN new_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN new_detail TEXT;
ALTER TABLE incidents ADD COLUMN new_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN new_detail TEXT;
