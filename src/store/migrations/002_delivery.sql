-- 002_delivery.sql: the outbox and what delivery keeps.
--
-- Fan-out happens in the writer's transaction: for every stored domain
-- event, one `deliveries` row per integration subscribed to it. A row stays
-- `pending` until delivered, failed for good, or given up; the dispatcher
-- loads pending rows at start, so nothing accepted is lost across a crash.

-- What each pushing integration subscribes to, flattened for matching in
-- the fan-out query: one row per (channel, event type) pair; channel_id 0
-- means every channel and event_type '' every type of the integration's kind.
-- Maintained by the integration calls from the integration's config.
CREATE TABLE subscriptions (
    integration_id INTEGER NOT NULL,
    kind           TEXT NOT NULL,               -- incident | alert
    channel_id     INTEGER NOT NULL,
    event_type     TEXT NOT NULL,
    PRIMARY KEY (kind, event_type, channel_id, integration_id)
);
CREATE INDEX subscriptions_integration ON subscriptions(integration_id);

CREATE TABLE deliveries (
    delivery_id    INTEGER PRIMARY KEY,          -- fan-out order
    integration_id INTEGER NOT NULL,
    event_seq      INTEGER NOT NULL,             -- events.seq
    lane           TEXT NOT NULL,                -- the object (incident or alert id)
    sequence       INTEGER NOT NULL,             -- tocsin-sequence within (integration, lane)
    status         TEXT NOT NULL,                -- pending | delivered | failed
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at        INTEGER NOT NULL,             -- ms: earliest next attempt
    first_failed_at INTEGER NOT NULL DEFAULT 0,  -- ms: start of the current failing streak
    last_error     TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,             -- ms
    updated_at     INTEGER NOT NULL              -- ms
);
CREATE INDEX deliveries_pending ON deliveries(delivery_id) WHERE status = 'pending';
CREATE INDEX deliveries_lane ON deliveries(integration_id, lane, sequence);
CREATE INDEX deliveries_updated ON deliveries(updated_at) WHERE status <> 'pending';

-- The last tocsin-sequence given in each lane; kept apart from deliveries
-- so pruning old deliveries never restarts a lane's numbering.
CREATE TABLE lane_sequences (
    integration_id INTEGER NOT NULL,
    lane           TEXT NOT NULL,
    last_sequence  INTEGER NOT NULL,
    PRIMARY KEY (integration_id, lane)
);

-- History rows of the same delivery share its delivery_id (0 for test sends,
-- custom actions and resends outside the outbox).
ALTER TABLE webhook_history ADD COLUMN delivery_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_history ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
CREATE INDEX webhook_history_integration ON webhook_history(integration_id, event_time);
CREATE INDEX webhook_history_created ON webhook_history(created_at);
