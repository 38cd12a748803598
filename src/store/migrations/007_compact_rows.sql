-- 007_compact_rows.sql: alerts, incidents, raw events and the event log as
-- rows of columns instead of whole JSON documents (the hot path of issue
-- 10; docs/ARCHITECTURE.md, "The hot path").
--
-- Why: every ingested event used to write seven JSON documents (5.6 KB per
-- alert on disk) and read two back. Now the writer decides against its own
-- memory (core/state.h) and writes only the columns that changed; webhook
-- bodies are rendered only for events somebody subscribes to.
--
-- What changes:
--   - alerts, incidents: one column per field of the webhook object, plus
--     tocsin's bookkeeping (formerly the `meta` document) as columns; the
--     few lists and maps (labels, responders, fields...) stay JSON text.
--     An integer rowid `id` is the B-tree key, the 24-hex text id a unique
--     column; ids grow with time and a counter (util/ids.h), so every index
--     on them is appended to, never inserted into at random.
--   - channel and integration names are no longer copied into alerts: the
--     objects are rendered with the current names.
--   - `lanes` (on alerts and incidents) holds each lane's last
--     tocsin-sequence ("integration:sequence,..."), written with the row the
--     change writes anyway; lane_sequences goes.
--   - incident_groups goes: the writer keeps the grouping buckets of open
--     incidents in memory and rebuilds them at start from group_keys.
--   - the timelines (incident_feed, alert_feed) become rows of `events`:
--     feed_ref names the object whose timeline shows the row and detail is
--     its FeedDetail. An event is kept when something can read it: a push
--     (then it has its event_id and `body`, the webhook body) or a timeline
--     (feed_ref); one with neither is not written at all.
--   - alert_events: columns instead of the AlertEventItem document.
-- Old data is carried over by reading the documents with SQLite's JSON
-- functions.

-- ---- alerts ------------------------------------------------------------
CREATE TABLE alerts_new (
    id             INTEGER PRIMARY KEY,
    alert_id       TEXT NOT NULL,
    integration_id INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL,
    alert_key      TEXT NOT NULL,
    incident_id    TEXT NOT NULL DEFAULT '',
    progress       TEXT NOT NULL,                 -- Triggered | Closed
    alert_severity TEXT NOT NULL,
    alert_status   TEXT NOT NULL,
    start_time     INTEGER NOT NULL,
    last_time      INTEGER NOT NULL,
    end_time       INTEGER NOT NULL DEFAULT 0,
    close_time     INTEGER NOT NULL DEFAULT 0,
    event_cnt      INTEGER NOT NULL DEFAULT 1,
    event_hash     TEXT NOT NULL DEFAULT '',      -- of its newest event: repeats are dropped
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    title          TEXT NOT NULL DEFAULT '',
    title_rule     TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    labels         TEXT NOT NULL DEFAULT '{}',
    images         TEXT NOT NULL DEFAULT '[]',
    lanes          TEXT NOT NULL DEFAULT ''
);
INSERT INTO alerts_new(alert_id, integration_id, channel_id, alert_key, incident_id, progress,
    alert_severity, alert_status, start_time, last_time, end_time, close_time, event_cnt,
    event_hash, created_at, updated_at, title, title_rule, description, labels, images, lanes)
SELECT a.alert_id, a.integration_id, a.channel_id, a.alert_key, a.incident_id, a.progress,
    a.alert_severity, a.alert_status, a.start_time, a.last_time, a.end_time,
    COALESCE(json_extract(a.doc, '$.close_time'), 0),
    COALESCE(json_extract(a.doc, '$.event_cnt'), 1), a.event_hash, a.created_at, a.updated_at,
    COALESCE(json_extract(a.doc, '$.title'), ''), COALESCE(json_extract(a.doc, '$.title_rule'), ''),
    COALESCE(json_extract(a.doc, '$.description'), ''),
    COALESCE(json_extract(a.doc, '$.labels'), '{}'), COALESCE(json_extract(a.doc, '$.images'), '[]'),
    COALESCE((SELECT group_concat(l.integration_id || ':' || l.last_sequence, ',')
              FROM lane_sequences l WHERE l.lane = a.alert_id), '')
FROM alerts a ORDER BY a.rowid;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE UNIQUE INDEX alerts_alert_id ON alerts(alert_id);
-- The open alerts, read whole at start to rebuild the writer's map of
-- (integration, alert_key) -> open alert; that map, not an index, keeps
-- at most one open alert per key (core/state.h).
CREATE INDEX alerts_open ON alerts(id) WHERE progress <> 'Closed';
CREATE INDEX alerts_incident ON alerts(incident_id);
CREATE INDEX alerts_start ON alerts(start_time);
CREATE INDEX alerts_updated ON alerts(updated_at);
CREATE INDEX alerts_channel ON alerts(channel_id, start_time);

-- ---- incidents -----------------------------------------------------------
CREATE TABLE incidents_new (
    id                INTEGER PRIMARY KEY,
    incident_id       TEXT NOT NULL,
    channel_id        INTEGER NOT NULL DEFAULT 0,
    progress          TEXT NOT NULL,              -- Triggered | Processing | Closed
    incident_severity TEXT NOT NULL,
    incident_status   TEXT NOT NULL,
    title             TEXT NOT NULL DEFAULT '',
    description       TEXT NOT NULL DEFAULT '',
    impact            TEXT NOT NULL DEFAULT '',
    root_cause        TEXT NOT NULL DEFAULT '',
    resolution        TEXT NOT NULL DEFAULT '',
    start_time        INTEGER NOT NULL,
    last_time         INTEGER NOT NULL DEFAULT 0,
    end_time          INTEGER NOT NULL DEFAULT 0,
    ack_time          INTEGER NOT NULL DEFAULT 0,
    close_time        INTEGER NOT NULL DEFAULT 0,
    snoozed_before    INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted_at        INTEGER NOT NULL DEFAULT 0,
    creator_id        INTEGER NOT NULL DEFAULT 0,
    closer_id         INTEGER NOT NULL DEFAULT 0,
    owner_id          INTEGER NOT NULL DEFAULT 0,
    creator           TEXT,                       -- Person JSON, only for hand-made incidents
    closer            TEXT,                       -- Person JSON, only when closed by hand
    group_method      TEXT NOT NULL DEFAULT 'n',
    alert_cnt         INTEGER NOT NULL DEFAULT 0,
    active_alert_cnt  INTEGER NOT NULL DEFAULT 0,
    alert_event_cnt   INTEGER NOT NULL DEFAULT 0,
    last_alert_time   INTEGER NOT NULL DEFAULT 0, -- newest alert joined: sliding windows
    max_alert_end     INTEGER NOT NULL DEFAULT 0, -- newest recovery among its alerts
    pins              TEXT NOT NULL DEFAULT '{}', -- fields edited by hand: {"title": true, ...}
    storm_fired       TEXT NOT NULL DEFAULT '[]', -- storm thresholds already warned about
    integration_ids   TEXT NOT NULL DEFAULT '[]',
    integration_types TEXT NOT NULL DEFAULT '[]',
    labels            TEXT,                       -- NULL for a hand-made incident
    fields            TEXT NOT NULL DEFAULT '{}',
    responders        TEXT NOT NULL DEFAULT '[]',
    assigned_to       TEXT,
    group_keys        TEXT NOT NULL DEFAULT '[]', -- grouping buckets while open
    lanes             TEXT NOT NULL DEFAULT ''
);
INSERT INTO incidents_new(incident_id, channel_id, progress, incident_severity, incident_status,
    title, description, impact, root_cause, resolution, start_time, last_time, end_time,
    ack_time, close_time, snoozed_before, created_at, updated_at, deleted_at, creator_id,
    closer_id, owner_id, creator, closer, group_method, alert_cnt, active_alert_cnt,
    alert_event_cnt, last_alert_time, max_alert_end, pins, storm_fired, integration_ids,
    integration_types, labels, fields, responders, assigned_to, group_keys, lanes)
SELECT i.incident_id, i.channel_id, i.progress, i.incident_severity, i.incident_status,
    COALESCE(json_extract(i.doc, '$.title'), ''), COALESCE(json_extract(i.doc, '$.description'), ''),
    COALESCE(json_extract(i.doc, '$.impact'), ''), COALESCE(json_extract(i.doc, '$.root_cause'), ''),
    COALESCE(json_extract(i.doc, '$.resolution'), ''), i.start_time,
    COALESCE(json_extract(i.doc, '$.last_time'), 0), COALESCE(json_extract(i.doc, '$.end_time'), 0),
    COALESCE(json_extract(i.doc, '$.ack_time'), 0), i.close_time, i.snoozed_before, i.created_at,
    i.updated_at, i.deleted_at, i.creator_id, i.closer_id,
    COALESCE(json_extract(i.meta, '$.owner_id'), 0),
    json_extract(i.doc, '$.creator'), json_extract(i.doc, '$.closer'),
    COALESCE(json_extract(i.doc, '$.group_method'), 'n'),
    COALESCE(json_extract(i.doc, '$.alert_cnt'), 0),
    COALESCE(json_extract(i.meta, '$.active_alert_cnt'), 0),
    COALESCE(json_extract(i.meta, '$.alert_event_cnt'), 0), i.last_alert_time,
    COALESCE((SELECT MAX(a.end_time) FROM alerts a WHERE a.incident_id = i.incident_id), 0),
    COALESCE(json_extract(i.meta, '$.pins'), '{}'),
    COALESCE(json_extract(i.meta, '$.storm_fired'), '[]'),
    COALESCE(json_extract(i.meta, '$.integration_ids'), '[]'),
    COALESCE(json_extract(i.meta, '$.integration_types'), '[]'),
    json_extract(i.doc, '$.labels'), COALESCE(json_extract(i.doc, '$.fields'), '{}'),
    COALESCE(json_extract(i.doc, '$.responders'), '[]'), json_extract(i.meta, '$.assigned_to'),
    COALESCE((SELECT json_group_array(g.group_key) FROM incident_groups g
              WHERE g.incident_id = i.incident_id), '[]'),
    COALESCE((SELECT group_concat(l.integration_id || ':' || l.last_sequence, ',')
              FROM lane_sequences l WHERE l.lane = i.incident_id), '')
FROM incidents i ORDER BY i.rowid;
DROP TABLE incidents;
ALTER TABLE incidents_new RENAME TO incidents;
DROP TABLE incident_groups;
DROP TABLE lane_sequences;
CREATE UNIQUE INDEX incidents_incident_id ON incidents(incident_id);
CREATE INDEX incidents_open ON incidents(id) WHERE progress <> 'Closed' AND deleted_at = 0;
CREATE INDEX incidents_start ON incidents(start_time);
CREATE INDEX incidents_snoozed ON incidents(snoozed_before) WHERE snoozed_before > 0;
CREATE INDEX incidents_channel ON incidents(channel_id, start_time);

-- ---- raw alert events -----------------------------------------------------------
CREATE TABLE alert_events_new (
    seq            INTEGER PRIMARY KEY,
    event_id       TEXT NOT NULL,
    alert_id       TEXT NOT NULL,
    integration_id INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL,
    alert_key      TEXT NOT NULL DEFAULT '',
    event_severity TEXT NOT NULL DEFAULT '',
    event_status   TEXT NOT NULL,
    event_time     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL DEFAULT 0,
    title          TEXT NOT NULL DEFAULT '',
    title_rule     TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    labels         TEXT NOT NULL DEFAULT '{}',
    images         TEXT NOT NULL DEFAULT '[]'
);
INSERT INTO alert_events_new(seq, event_id, alert_id, integration_id, channel_id, alert_key,
    event_severity, event_status, event_time, created_at, title, title_rule, description,
    labels, images)
SELECT e.seq, e.event_id, e.alert_id, e.integration_id, e.channel_id,
    COALESCE(json_extract(e.doc, '$.alert_key'), ''),
    COALESCE(json_extract(e.doc, '$.event_severity'), ''), e.event_status, e.event_time,
    COALESCE(json_extract(e.doc, '$.created_at'), e.event_time),
    COALESCE(json_extract(e.doc, '$.title'), ''), COALESCE(json_extract(e.doc, '$.title_rule'), ''),
    COALESCE(json_extract(e.doc, '$.description'), ''),
    COALESCE(json_extract(e.doc, '$.labels'), '{}'), COALESCE(json_extract(e.doc, '$.images'), '[]')
FROM alert_events e ORDER BY e.seq;
DROP TABLE alert_events;
ALTER TABLE alert_events_new RENAME TO alert_events;
CREATE INDEX alert_events_alert ON alert_events(alert_id, event_time, seq);
CREATE INDEX alert_events_time ON alert_events(event_time, seq);

-- ---- the event log and the timelines --------------------------------------------
CREATE TABLE events_new (
    seq         INTEGER PRIMARY KEY,
    event_id    TEXT,                             -- NULL: never pushed (a timeline entry)
    event_time  INTEGER NOT NULL,                 -- milliseconds
    event_type  TEXT NOT NULL,
    object_kind TEXT NOT NULL,                    -- incident | alert
    object_id   TEXT NOT NULL,
    channel_id  INTEGER NOT NULL DEFAULT 0,
    person_id   INTEGER NOT NULL DEFAULT 0,
    feed_ref    TEXT NOT NULL DEFAULT '',         -- the incident or alert whose timeline shows it
    detail      TEXT,                             -- its FeedDetail (JSON) on that timeline
    body        TEXT                              -- the webhook body; NULL: nobody subscribed
);
INSERT INTO events_new(seq, event_id, event_time, event_type, object_kind, object_id, channel_id,
    person_id, body)
SELECT seq, event_id, event_time, event_type, object_kind, object_id, channel_id, person_id, body
FROM events ORDER BY seq;
INSERT INTO events_new(event_time, event_type, object_kind, object_id, channel_id, person_id,
    feed_ref, detail)
SELECT f.created_at, f.type, 'incident', f.incident_id, 0, f.creator_id, f.incident_id, f.detail
FROM incident_feed f ORDER BY f.feed_id;
INSERT INTO events_new(event_time, event_type, object_kind, object_id, channel_id, person_id,
    feed_ref, detail)
SELECT f.created_at, f.type, 'alert', f.alert_id, 0, f.creator_id, f.alert_id, f.detail
FROM alert_feed f ORDER BY f.feed_id;
DROP TABLE events;
DROP TABLE incident_feed;
DROP TABLE alert_feed;
ALTER TABLE events_new RENAME TO events;
-- Only pushed events have an id (store/events.h): timeline entries don't.
CREATE UNIQUE INDEX events_event_id ON events(event_id) WHERE event_id IS NOT NULL;
CREATE INDEX events_feed ON events(feed_ref, seq) WHERE feed_ref <> '';

-- deliveries: nothing reads by lane (the dispatcher keeps lanes in memory).
DROP INDEX deliveries_lane;
