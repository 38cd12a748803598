-- 011_creation_entries.sql: the first entry of a timeline lives in its
-- object's row (issue 10; docs/ARCHITECTURE.md, "The hot path").
--
-- Every alert's timeline starts with a_new and every incident's with
-- i_new. Kept as rows of `events`, they cost a new alert four of its
-- nineteen B-tree insertions (two rows, two entries of events_feed) for
-- what the object's own row can say: when (new_at, ms), by whom (0 for an
-- alert; the incident's creator_id) and the detail as the timeline shows
-- it. The feed reads them back as its first entry (store/events.c).
--
-- Rows made before this migration keep their entry in `events` and have
-- new_detail NULL, so no timeline shows its first entry twice. An alert
-- that rules muted at first keeps its a_new in `events` too: it comes
-- later, when the alert joins an incident, after its a_m_silence entries.
ALTER TABLE alerts ADD COLUMN new_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN new_detail TEXT;
ALTER TABLE incidents ADD COLUMN new_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN new_detail TEXT;
