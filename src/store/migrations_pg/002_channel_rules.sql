-- Channel rules (issue 12): the same table as SQLite's 008_channel_rules.sql.
CREATE TABLE channel_rules (
    rule_id          TEXT COLLATE "C" PRIMARY KEY,
    channel_id       BIGINT NOT NULL,
    kind             TEXT COLLATE "C" NOT NULL,     -- drop | silence | inhibit
    rule_name        TEXT COLLATE "C" NOT NULL,
    description      TEXT COLLATE "C" NOT NULL DEFAULT '',
    priority         BIGINT NOT NULL DEFAULT 0,
    status           TEXT COLLATE "C" NOT NULL,     -- enabled | disabled
    body             TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    from_incident_id TEXT COLLATE "C" NOT NULL DEFAULT '',
    updated_by       BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    deleted_at       BIGINT NOT NULL DEFAULT 0,
    expires_at       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX channel_rules_channel ON channel_rules(channel_id, kind) WHERE deleted_at = 0;

ALTER TABLE alerts ADD COLUMN ever_muted BIGINT NOT NULL DEFAULT 0;
CREATE INDEX channel_rules_expiry ON channel_rules(expires_at) WHERE expires_at > 0 AND deleted_at = 0;
