-- Channel rules (issue 12): drop ("unsubscribe"), silence and inhibit rules,
-- one table for the three kinds (reference/rules.md). What differs between
-- the kinds (filters, time windows, equals, is_directly_discard) is the JSON
-- text `body`, parsed and compiled once into the writer's cache
-- (core/channel_rules.h). A deleted rule keeps its row with deleted_at set.
CREATE TABLE channel_rules (
    rule_id          TEXT PRIMARY KEY,              -- 24 hex (util/ids.h)
    channel_id       INTEGER NOT NULL,
    kind             TEXT NOT NULL,                 -- drop | silence | inhibit
    rule_name        TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    priority         INTEGER NOT NULL DEFAULT 0,    -- lower is evaluated first
    status           TEXT NOT NULL,                 -- enabled | disabled
    body             TEXT NOT NULL DEFAULT '{}',    -- the kind's fields (JSON)
    from_incident_id TEXT NOT NULL DEFAULT '',      -- quick silence: its incident
    updated_by       INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,              -- Unix s
    updated_at       INTEGER NOT NULL,
    deleted_at       INTEGER NOT NULL DEFAULT 0,    -- 0: not deleted
    expires_at       INTEGER NOT NULL DEFAULT 0     -- quick silence: deleted by the timer after
);
CREATE INDEX channel_rules_channel ON channel_rules(channel_id, kind) WHERE deleted_at = 0;

-- An alert that a silence or inhibit rule ever held back.
ALTER TABLE alerts ADD COLUMN ever_muted INTEGER NOT NULL DEFAULT 0;
-- The timer's probe for quick silences to delete (store_channel_rules_each_expired).
CREATE INDEX channel_rules_expiry ON channel_rules(expires_at) WHERE expires_at > 0 AND deleted_at = 0;
