-- 010_changes.sql: change events (deployments, config changes) pushed by
-- change_standard integrations (reference/rules.md, "Change events").
--
-- A change aggregates the events sent with one change_key by one
-- integration: `changes` holds the merged change (title, description,
-- link and labels of its newest event, its status, start, newest and end
-- times), `change_events` every accepted event as sent. The writer's
-- command reads the change by (integration_id, change_key), which the
-- unique index makes one row, and writes both in the push's batch.
-- Changes are not cached in memory and open no alert or incident.
CREATE TABLE changes (
    id             INTEGER PRIMARY KEY,
    change_id      TEXT NOT NULL,
    integration_id INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL DEFAULT 0,   -- the integration's channel at the first event
    change_key     TEXT NOT NULL,
    title          TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    link           TEXT NOT NULL DEFAULT '',
    labels         TEXT NOT NULL DEFAULT '{}',
    change_status  TEXT NOT NULL,                 -- Planned | Ready | Processing | Canceled | Done
    start_time     INTEGER NOT NULL,              -- s: the first Processing event, else the first event
    last_time      INTEGER NOT NULL,              -- s: the newest event_time
    end_time       INTEGER NOT NULL DEFAULT 0,    -- s: the first Done or Canceled event; 0 until then
    started        INTEGER NOT NULL DEFAULT 0,    -- 1 once a Processing event set start_time
    event_cnt      INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX changes_change_id ON changes(change_id);
CREATE UNIQUE INDEX changes_key ON changes(integration_id, change_key);
CREATE INDEX changes_start ON changes(start_time);
CREATE INDEX changes_channel ON changes(channel_id, start_time);

CREATE TABLE change_events (
    seq            INTEGER PRIMARY KEY,
    event_id       TEXT NOT NULL,
    change_id      TEXT NOT NULL,
    integration_id INTEGER NOT NULL,
    change_key     TEXT NOT NULL,
    change_status  TEXT NOT NULL,
    event_time     INTEGER NOT NULL,              -- s
    created_at     INTEGER NOT NULL,              -- s: arrival
    title          TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    link           TEXT NOT NULL DEFAULT '',
    labels         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX change_events_change ON change_events(change_id, seq);
