-- 009_escalation.sql: escalation rules and each incident's progress
-- through its rule (reference/rules.md, "Escalation rules").
--
-- escalate_rules: one row per rule of a channel. layers, time_filters and
-- filters are kept as the request gave them (JSON text, validated by the
-- API); deleted rules stay with deleted_at set (soft delete).
--
-- incident_escalations: the rule an incident follows and its next step,
-- a row only for incidents a rule chose. next_at (ms, 0 = nothing due) is
-- what the timer tick reads through the partial index, so an idle tick is
-- one index probe and a restart continues the schedule where it was.
-- state: pending (enter layer_idx at next_at, after the delay window or a
-- wake/reopen), escalate (enter layer_idx at next_at unless acknowledged
-- without force_escalate, or closed), paused (snoozed), done (after the
-- last layer), stopped (acknowledged or closed), off (manual assignment).
-- reason is the AssignedTo.type the next entry takes (assign | escalate |
-- reopen).
CREATE TABLE escalate_rules (
    rule_id      TEXT PRIMARY KEY,
    channel_id   INTEGER NOT NULL,
    rule_name    TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    priority     INTEGER NOT NULL DEFAULT 0,
    aggr_window  INTEGER NOT NULL DEFAULT 0,
    template_id  TEXT NOT NULL DEFAULT '',
    layers       TEXT NOT NULL DEFAULT '[]',
    time_filters TEXT NOT NULL DEFAULT '[]',
    filters      TEXT NOT NULL DEFAULT '[]',
    status       TEXT NOT NULL DEFAULT 'enabled',
    updated_by   INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX escalate_rules_channel ON escalate_rules(channel_id, priority, created_at)
    WHERE deleted_at = 0;

CREATE TABLE incident_escalations (
    incident_id TEXT PRIMARY KEY,
    rule_id     TEXT NOT NULL,
    layer_idx   INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT 'assign',
    next_at     INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX incident_escalations_due ON incident_escalations(next_at) WHERE next_at > 0;
