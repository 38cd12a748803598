-- 001_init.sql: the core schema: people, keys, channels, integrations,
-- alerts, alert events, incidents, feeds and the domain event log.
--
-- Objects that the contracts return whole (incident, alert, channel, alert
-- event) keep their full JSON document in `doc`; the columns beside it are
-- the ones queried, filtered or indexed on, and are written from the same
-- document in the same statement, so they never disagree.
-- Times: *_time / *_at columns are Unix seconds unless named *_ms.

CREATE TABLE persons (
    person_id    INTEGER PRIMARY KEY,
    person_name  TEXT NOT NULL,
    email        TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    country_code TEXT NOT NULL DEFAULT '',
    is_admin     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'enabled',   -- enabled | deleted
    ref_id       TEXT NOT NULL DEFAULT '',
    locale       TEXT NOT NULL DEFAULT '',
    time_zone    TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX persons_email ON persons(email) WHERE email <> '' AND status <> 'deleted';

-- App keys are stored only as the SHA-256 hex of the key.
CREATE TABLE app_keys (
    key_hash   TEXT PRIMARY KEY,
    person_id  INTEGER NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX app_keys_person ON app_keys(person_id);

CREATE TABLE channels (
    channel_id   INTEGER PRIMARY KEY,
    channel_name TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'enabled',   -- enabled | disabled | deleted
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER NOT NULL DEFAULT 0,
    doc          TEXT NOT NULL,                     -- ChannelItem, with its `group`
    -- What the engine reads for every event ({"group", "disable_auto_close"}),
    -- kept apart so ingest parses ~100 bytes instead of the whole ChannelItem.
    rules        TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX channels_name ON channels(channel_name) WHERE status <> 'deleted';

-- One table for every integration kind (reference/integrations.md). Alert
-- sources use channel_id and integration_key; the pushing kinds keep their
-- endpoint, headers, channel_ids, event_types, template and delivery policy
-- in `config` (JSON) and their secrets in the signing columns.
CREATE TABLE integrations (
    integration_id          INTEGER PRIMARY KEY,
    type                    TEXT NOT NULL,
    name                    TEXT NOT NULL,
    description             TEXT NOT NULL DEFAULT '',
    status                  TEXT NOT NULL DEFAULT 'enabled', -- enabled | disabled | deleted
    disabled_reason         TEXT NOT NULL DEFAULT '',
    channel_id              INTEGER NOT NULL DEFAULT 0,
    integration_key         TEXT,
    config                  TEXT NOT NULL DEFAULT '{}',
    signing_secret          TEXT,
    prev_signing_secret     TEXT,
    prev_secret_expires_at  INTEGER NOT NULL DEFAULT 0,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    deleted_at              INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX integrations_key ON integrations(integration_key)
    WHERE integration_key IS NOT NULL;
CREATE UNIQUE INDEX integrations_name ON integrations(type, lower(name)) WHERE status <> 'deleted';

CREATE TABLE alerts (
    alert_id       TEXT PRIMARY KEY,
    integration_id INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL,
    alert_key      TEXT NOT NULL,
    incident_id    TEXT NOT NULL DEFAULT '',
    progress       TEXT NOT NULL,                   -- Triggered | Closed
    alert_severity TEXT NOT NULL,
    alert_status   TEXT NOT NULL,
    start_time     INTEGER NOT NULL,
    last_time      INTEGER NOT NULL,
    end_time       INTEGER NOT NULL DEFAULT 0,
    event_hash     TEXT NOT NULL DEFAULT '',        -- of its newest event: repeats are dropped
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    doc            TEXT NOT NULL                    -- the Alert object of webhooks.md
);
-- Invariant the engine relies on: at most one open alert per (integration, key).
CREATE UNIQUE INDEX alerts_open_key ON alerts(integration_id, alert_key) WHERE progress <> 'Closed';
CREATE INDEX alerts_incident ON alerts(incident_id);
CREATE INDEX alerts_start ON alerts(start_time);
-- /alert/list: by_updated_at windows, and a channel's alerts in a window.
CREATE INDEX alerts_updated ON alerts(updated_at);
CREATE INDEX alerts_channel ON alerts(channel_id, start_time);

-- seq is arrival order: event_time has one-second steps (and may be the
-- sender's), so events of the same second are ordered by seq.
CREATE TABLE alert_events (
    seq            INTEGER PRIMARY KEY,
    event_id       TEXT NOT NULL,                   -- random 24-hex; not looked up by itself
    alert_id       TEXT NOT NULL,
    integration_id INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL,
    event_status   TEXT NOT NULL,
    event_time     INTEGER NOT NULL,
    doc            TEXT NOT NULL                    -- AlertEventItem
);
CREATE INDEX alert_events_alert ON alert_events(alert_id, event_time, seq);
CREATE INDEX alert_events_time ON alert_events(event_time, seq);

CREATE TABLE incidents (
    incident_id       TEXT PRIMARY KEY,
    channel_id        INTEGER NOT NULL DEFAULT 0,
    progress          TEXT NOT NULL,                -- Triggered | Processing | Closed
    incident_severity TEXT NOT NULL,
    incident_status   TEXT NOT NULL,
    start_time        INTEGER NOT NULL,
    last_alert_time   INTEGER NOT NULL DEFAULT 0,   -- newest alert joined: sliding windows
    close_time        INTEGER NOT NULL DEFAULT 0,
    snoozed_before    INTEGER NOT NULL DEFAULT 0,
    creator_id        INTEGER NOT NULL DEFAULT 0,
    closer_id         INTEGER NOT NULL DEFAULT 0,
    deleted_at        INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    doc               TEXT NOT NULL,                -- the Incident object of webhooks.md
    meta              TEXT NOT NULL DEFAULT '{}'    -- tocsin's bookkeeping (see core/incident.h)
);
CREATE INDEX incidents_start ON incidents(start_time);
CREATE INDEX incidents_snoozed ON incidents(snoozed_before) WHERE snoozed_before > 0;
-- A channel's incidents: its counts and newest incident (/channel/info, list).
CREATE INDEX incidents_channel ON incidents(channel_id, start_time);

-- Rule-based grouping: an open incident is findable by the values its first
-- alert had for each `equals` key list. Rows are removed when it closes.
CREATE TABLE incident_groups (
    channel_id  INTEGER NOT NULL,
    group_key   TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    PRIMARY KEY (channel_id, group_key, incident_id)
);
CREATE INDEX incident_groups_incident ON incident_groups(incident_id);

-- Timelines. created_at is in milliseconds, as the feed schemas say.
CREATE TABLE incident_feed (
    feed_id     INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL,
    type        TEXT NOT NULL,
    creator_id  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_feed_incident ON incident_feed(incident_id, feed_id);

CREATE TABLE alert_feed (
    feed_id    INTEGER PRIMARY KEY,
    alert_id   TEXT NOT NULL,
    type       TEXT NOT NULL,
    creator_id INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_feed_alert ON alert_feed(alert_id, feed_id);

-- The domain event log (i_*, a_*): the outbox delivery drains. `seq` is
-- commit order; `body` is the default webhook body of reference/webhooks.md
-- exactly as it will be sent: {event_time, event_type, event_id, person?,
-- incident|alert}.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    event_time  INTEGER NOT NULL,                   -- milliseconds
    event_type  TEXT NOT NULL,
    object_kind TEXT NOT NULL,                      -- incident | alert
    object_id   TEXT NOT NULL,
    channel_id  INTEGER NOT NULL DEFAULT 0,
    person_id   INTEGER NOT NULL DEFAULT 0,
    body        TEXT NOT NULL
);

-- Invocation history: one row per delivery attempt (written by delivery,
-- read by /webhook/history/*), kept 7 days. Times in milliseconds.
CREATE TABLE webhook_history (
    attempt_id       INTEGER PRIMARY KEY,
    integration_id   INTEGER NOT NULL,
    event_id         TEXT NOT NULL,
    webhook_type     TEXT NOT NULL,                  -- incident | alert
    event_type       TEXT NOT NULL,
    channel_id       INTEGER NOT NULL DEFAULT 0,
    ref_id           TEXT NOT NULL DEFAULT '',
    endpoint         TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    status           TEXT NOT NULL,                  -- success | failed
    status_code      INTEGER NOT NULL DEFAULT 0,
    error_message    TEXT NOT NULL DEFAULT '',
    request_headers  TEXT NOT NULL DEFAULT '',
    request_body     TEXT NOT NULL DEFAULT '',
    response_headers TEXT NOT NULL DEFAULT '',
    response_body    TEXT NOT NULL DEFAULT '',
    event_time       INTEGER NOT NULL,               -- the event's time, ms
    created_at       INTEGER NOT NULL                -- the attempt's time, ms
);
CREATE INDEX webhook_history_time ON webhook_history(event_time);
CREATE INDEX webhook_history_ref ON webhook_history(ref_id, event_time);
CREATE INDEX webhook_history_event ON webhook_history(event_id);
