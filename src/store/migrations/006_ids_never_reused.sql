-- 006_ids_never_reused.sql: ids that are never handed out twice, and the
-- failing streak that disables an endpoint after 24 hours, kept in the store.
--
-- A plain INTEGER PRIMARY KEY is max(rowid) + 1: once the newest row is
-- deleted its id is given again. Pruning deletes finished deliveries and
-- history after 7 days, so after a quiet week the next delivery got an id
-- the dispatcher had already read past (it loads `delivery_id > last seen`)
-- and was not sent until a restart. AUTOINCREMENT keeps the highest id
-- ever given in sqlite_sequence, so ids only grow, across deletes and
-- restarts. Every table whose id is a cursor or an order (docs/
-- ARCHITECTURE.md, "Ids and cursors") is rebuilt with it; SQLite cannot
-- add AUTOINCREMENT to an existing table. Copying the rows with their ids
-- sets sqlite_sequence to the highest id present.

-- persons: /member/list orders by (created_at, person_id).
CREATE TABLE persons_new (
    person_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    person_name  TEXT NOT NULL,
    email        TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    country_code TEXT NOT NULL DEFAULT '',
    is_admin     INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL DEFAULT 'enabled',
    ref_id       TEXT NOT NULL DEFAULT '',
    locale       TEXT NOT NULL DEFAULT '',
    time_zone    TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
INSERT INTO persons_new SELECT person_id, person_name, email, phone, country_code, is_admin,
    status, ref_id, locale, time_zone, created_at, updated_at FROM persons;
DROP TABLE persons;
ALTER TABLE persons_new RENAME TO persons;
CREATE UNIQUE INDEX persons_email ON persons(email) WHERE email <> '' AND status <> 'deleted';

-- channels: /channel/list orders by channel_id.
CREATE TABLE channels_new (
    channel_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_name TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'enabled',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER NOT NULL DEFAULT 0,
    doc          TEXT NOT NULL,
    rules        TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO channels_new SELECT channel_id, channel_name, status, created_at, updated_at,
    deleted_at, doc, rules FROM channels;
DROP TABLE channels;
ALTER TABLE channels_new RENAME TO channels;
CREATE UNIQUE INDEX channels_name ON channels(channel_name) WHERE status <> 'deleted';

-- integrations: /integration/list orders by integration_id. failing_since
-- (ms, 0 = not failing) is the start of the current streak of failed
-- attempts: stored, so that 24 hours of failures disable the endpoint
-- across any number of restarts (delivery/dispatcher.c).
CREATE TABLE integrations_new (
    integration_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type                    TEXT NOT NULL,
    name                    TEXT NOT NULL,
    description             TEXT NOT NULL DEFAULT '',
    status                  TEXT NOT NULL DEFAULT 'enabled',
    disabled_reason         TEXT NOT NULL DEFAULT '',
    channel_id              INTEGER NOT NULL DEFAULT 0,
    integration_key         TEXT,
    config                  TEXT NOT NULL DEFAULT '{}',
    signing_secret          TEXT,
    prev_signing_secret     TEXT,
    prev_secret_expires_at  INTEGER NOT NULL DEFAULT 0,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    deleted_at              INTEGER NOT NULL DEFAULT 0,
    integration_key_hash    TEXT,
    failing_since           INTEGER NOT NULL DEFAULT 0
);
INSERT INTO integrations_new SELECT integration_id, type, name, description, status,
    disabled_reason, channel_id, integration_key, config, signing_secret, prev_signing_secret,
    prev_secret_expires_at, created_at, updated_at, deleted_at, integration_key_hash, 0
    FROM integrations;
DROP TABLE integrations;
ALTER TABLE integrations_new RENAME TO integrations;
CREATE UNIQUE INDEX integrations_name ON integrations(type, lower(name)) WHERE status <> 'deleted';
CREATE UNIQUE INDEX integrations_key_hash ON integrations(integration_key_hash)
    WHERE integration_key_hash IS NOT NULL;

-- alert_events: an alert's events are ordered by (event_time, seq).
CREATE TABLE alert_events_new (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT NOT NULL,
    alert_id       TEXT NOT NULL,
    integration_id INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL,
    event_status   TEXT NOT NULL,
    event_time     INTEGER NOT NULL,
    doc            TEXT NOT NULL
);
INSERT INTO alert_events_new SELECT seq, event_id, alert_id, integration_id, channel_id,
    event_status, event_time, doc FROM alert_events;
DROP TABLE alert_events;
ALTER TABLE alert_events_new RENAME TO alert_events;
CREATE INDEX alert_events_alert ON alert_events(alert_id, event_time, seq);
CREATE INDEX alert_events_time ON alert_events(event_time, seq);

-- Timelines are ordered by feed_id.
CREATE TABLE incident_feed_new (
    feed_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    type        TEXT NOT NULL,
    creator_id  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO incident_feed_new SELECT feed_id, incident_id, type, creator_id, created_at, detail
    FROM incident_feed;
DROP TABLE incident_feed;
ALTER TABLE incident_feed_new RENAME TO incident_feed;
CREATE INDEX incident_feed_incident ON incident_feed(incident_id, feed_id);

CREATE TABLE alert_feed_new (
    feed_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id   TEXT NOT NULL,
    type       TEXT NOT NULL,
    creator_id INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO alert_feed_new SELECT feed_id, alert_id, type, creator_id, created_at, detail
    FROM alert_feed;
DROP TABLE alert_feed;
ALTER TABLE alert_feed_new RENAME TO alert_feed;
CREATE INDEX alert_feed_alert ON alert_feed(alert_id, feed_id);

-- events: seq is the outbox order; deliveries.event_seq, replay_items and
-- a replay's cursor (`event_seq > cursor`) point at it.
CREATE TABLE events_new (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT NOT NULL UNIQUE,
    event_time  INTEGER NOT NULL,
    event_type  TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    channel_id  INTEGER NOT NULL DEFAULT 0,
    person_id   INTEGER NOT NULL DEFAULT 0,
    body        TEXT NOT NULL
);
INSERT INTO events_new SELECT seq, event_id, event_time, event_type, object_kind, object_id,
    channel_id, person_id, body FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;

-- webhook_history: the newest attempt of an event is MAX(attempt_id), and
-- lists order by (event_time, attempt_id). Pruned after 7 days.
CREATE TABLE webhook_history_new (
    attempt_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id   INTEGER NOT NULL,
    event_id         TEXT NOT NULL,
    webhook_type     TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    channel_id       INTEGER NOT NULL DEFAULT 0,
    ref_id           TEXT NOT NULL DEFAULT '',
    endpoint         TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    status           TEXT NOT NULL,
    status_code      INTEGER NOT NULL DEFAULT 0,
    error_message    TEXT NOT NULL DEFAULT '',
    request_headers  TEXT NOT NULL DEFAULT '',
    request_body     TEXT NOT NULL DEFAULT '',
    response_headers TEXT NOT NULL DEFAULT '',
    response_body    TEXT NOT NULL DEFAULT '',
    event_time       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    delivery_id      INTEGER NOT NULL DEFAULT 0,
    sequence         INTEGER NOT NULL DEFAULT 0
);
INSERT INTO webhook_history_new SELECT attempt_id, integration_id, event_id, webhook_type,
    event_type, channel_id, ref_id, endpoint, attempt, duration_ms, status, status_code,
    error_message, request_headers, request_body, response_headers, response_body, event_time,
    created_at, delivery_id, sequence FROM webhook_history;
DROP TABLE webhook_history;
ALTER TABLE webhook_history_new RENAME TO webhook_history;
CREATE INDEX webhook_history_time ON webhook_history(event_time);
CREATE INDEX webhook_history_ref ON webhook_history(ref_id, event_time);
CREATE INDEX webhook_history_event ON webhook_history(event_id);
CREATE INDEX webhook_history_integration ON webhook_history(integration_id, event_time);
CREATE INDEX webhook_history_created ON webhook_history(created_at);

-- deliveries: the dispatcher's cursor (`delivery_id > last loaded`). The
-- bug this migration fixes.
CREATE TABLE deliveries_new (
    delivery_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id  INTEGER NOT NULL,
    event_seq       INTEGER NOT NULL,
    lane            TEXT NOT NULL,
    sequence        INTEGER NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         INTEGER NOT NULL,
    first_failed_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
INSERT INTO deliveries_new SELECT delivery_id, integration_id, event_seq, lane, sequence, status,
    attempts, next_at, first_failed_at, last_error, created_at, updated_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_pending ON deliveries(delivery_id) WHERE status = 'pending';
CREATE INDEX deliveries_lane ON deliveries(integration_id, lane, sequence);
CREATE INDEX deliveries_updated ON deliveries(updated_at) WHERE status <> 'pending';
CREATE INDEX deliveries_pending_integration ON deliveries(integration_id, attempts, created_at)
    WHERE status = 'pending';
