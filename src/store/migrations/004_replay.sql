-- 004_replay.sql: bulk replay jobs (POST /webhook/history/replay).
--
-- A replay is accepted in one transaction: its job row and the list of the
-- events it matched (replay_items, in the events' outbox order), so the
-- count answered is exactly what will be sent. The writer's timer then
-- queues the items into the outbox a few at a time (delivery/replay.c),
-- advancing `cursor` and deleting the queued items in the same transaction
-- as the outbox rows it adds: a restart continues where the last committed
-- step stopped, and nothing is queued twice.
CREATE TABLE replays (
    replay_id      TEXT PRIMARY KEY,            -- 24 hex characters
    integration_id INTEGER NOT NULL,
    person_id      INTEGER NOT NULL DEFAULT 0,  -- who asked
    start_time     INTEGER NOT NULL,            -- ms: the window asked for
    end_time       INTEGER NOT NULL,            -- ms
    status_filter  TEXT NOT NULL DEFAULT '',    -- '' | success | failed
    event_types    TEXT NOT NULL DEFAULT '[]',  -- JSON array as asked ([] = all)
    state          TEXT NOT NULL,               -- running | done | cancelled
    reason         TEXT NOT NULL DEFAULT '',    -- why it was cancelled
    total          INTEGER NOT NULL DEFAULT 0,  -- events matched
    queued         INTEGER NOT NULL DEFAULT 0,  -- events put in the outbox so far
    cursor         INTEGER NOT NULL DEFAULT 0,  -- events.seq of the last queued item
    paced_at       INTEGER NOT NULL,            -- ms: the pacing clock (delivery/replay.c)
    created_at     INTEGER NOT NULL,            -- ms
    updated_at     INTEGER NOT NULL             -- ms
);
CREATE INDEX replays_running ON replays(created_at) WHERE state = 'running';
CREATE INDEX replays_finished ON replays(updated_at) WHERE state <> 'running';

-- The events a running replay has still to queue, in order of event_seq.
CREATE TABLE replay_items (
    replay_id TEXT NOT NULL,
    event_seq INTEGER NOT NULL,                 -- events.seq
    PRIMARY KEY (replay_id, event_seq)
);
