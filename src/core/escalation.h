/* escalation.h: escalation rules at work (reference/rules.md, "Escalation
 * rules" and "tocsin's decisions"): which rule a new incident follows, and
 * the clock-driven steps that assign its layers' people.
 *
 * An incident a rule chose has a row of incident_escalations (store/
 * escalations.h): the rule, the layer to enter next, a state and the time
 * of its next step (next_at, ms). The row is written in the same command
 * as the change that decides it (the new incident, an assignment, a wake,
 * a reopen), so a restart finds the schedule exactly where it was; the
 * writer's timer tick (core/timers.c) runs the steps that are due, found
 * through the partial index on next_at.
 *
 * The flow: a new incident's first matching enabled rule (priority, then
 * oldest) is chosen; layer 0 is entered aggr_window seconds later unless
 * the incident closed. Entering a layer assigns its people (they join the
 * responders; earlier ones stay) and fires i_assign, then schedules the
 * next layer escalate_window minutes later. That step is skipped for good
 * when the incident is closed, or acknowledged and the layer it leaves has
 * force_escalate false. After the last layer nothing more is scheduled.
 * A snoozed incident's due step pauses; wake and reopen restart at layer
 * 0 at once. A manual assignment to people takes the incident off its
 * rule; one with escalate_rule_id + layer_idx jumps there.
 *
 * Conditions are checked when a step falls due, not when the incident
 * changes: acknowledge, close and snooze need no hook, and an ack that is
 * withdrawn before the step leaves the escalation running. */
#ifndef TOCSIN_ESCALATION_H
#define TOCSIN_ESCALATION_H

#include <jansson.h>

#include "core/events.h"
#include "core/model.h"
#include "core/writer.h"
#include "store/escalations.h"

/* A rule as the flow reads it; the JSON lists are parsed and owned. */
typedef struct {
    char rule_id[IDS_OBJECT_LEN + 1];
    char rule_name[160];
    int64_t channel_id;
    int64_t aggr_window; /* s */
    int enabled;
    int deleted;
    json_t *layers, *time_filters, *filters;
} escalation_rule;

void escalation_rule_clear(escalation_rule *r);
/* The rule (channel_id 0: of any channel; with_deleted: soft-deleted ones
 * too). Returns 1 found, 0 not, -1 error. */
int escalation_rule_load(store_conn *c, int64_t channel_id, const char *rule_id, int with_deleted,
                         escalation_rule *out, tc_err *err);

/* The rule a new incident of a channel with `nrules` enabled rules follows
 * (nrules 0 reads nothing): *chosen 1 and *out its first step, or 0. Reads
 * only; escalation_begin stores the choice. */
int escalation_choose(writer_txn *txn, const tc_incident *inc, int nrules, store_escalation *out,
                      int *chosen, tc_err *err);
int escalation_begin(writer_txn *txn, const store_escalation *e, tc_err *err);

/* Runs every escalation step that is due (the timer tick's job). Each
 * incident's step runs in a SAVEPOINT of its own: one that fails is undone
 * and logged, and the others still run. */
int escalation_run_due(writer_txn *txn, tc_err *err);

/* Wake and reopen: an incident on a rule starts again at layer 0 now;
 * reason "assign" (wake) or "reopen". Nothing when it follows no rule. */
int escalation_restart(writer_txn *txn, const tc_incident *inc, const char *reason, tc_err *err);
/* A direct assignment to people: the incident leaves its rule. */
int escalation_leave(writer_txn *txn, const tc_incident *inc, tc_err *err);
/* /incident/assign or /incident/create with escalate_rule_id + layer_idx:
 * the rule must be a live rule of the incident's channel and the layer one
 * of its layers (ResourceNotFound / InvalidParameter naming field_prefix's
 * fields); its people are assigned now (type) and the rule goes on from
 * there. */
int escalation_jump(writer_txn *txn, tc_incident *inc, const tc_person *who, const char *rule_id,
                    int64_t layer_idx, const char *type, tc_err *err);

/* The incident's escalation as the console shows it: {rule_id, rule_name,
 * layer_idx, state, next_at (ms)}, or NULL in *out when it follows none. */
int escalation_view(store_conn *c, const char *incident_id, json_t **out, tc_err *err);

#endif
