/* store/escalations.h: escalation rules (table escalate_rules) and each
 * incident's progress through its rule (incident_escalations), for
 * core/escalation.c and the /channel/escalate/rule/ handlers.
 *
 * Rules are handed to a callback one row at a time; strings are borrowed
 * for the call. Progress is a small struct of plain values. */
#ifndef TOCSIN_STORE_ESCALATIONS_H
#define TOCSIN_STORE_ESCALATIONS_H

#include <stdint.h>

#include "store/store.h"
#include "util/ids.h"

typedef struct {
    const char *rule_id;
    int64_t channel_id;
    const char *rule_name;
    const char *description;
    int64_t priority;
    int64_t aggr_window; /* s */
    const char *template_id;
    const char *layers;       /* JSON array text */
    const char *time_filters; /* JSON array text */
    const char *filters;      /* JSON array text */
    const char *status;       /* enabled | disabled */
    int64_t updated_by;
    int64_t created_at, updated_at, deleted_at; /* Unix s */
} store_escalate_rule;

typedef int (*store_escalate_rule_fn)(void *arg, const store_escalate_rule *r, tc_err *err);

int store_escalate_rules_insert(store_conn *c, const store_escalate_rule *r, tc_err *err);
/* Replaces the editable fields of a live rule (name, description, priority,
 * aggr_window, template_id, layers, time_filters, filters, updated_by,
 * updated_at); the caller has checked that it exists (store_escalate_rules_get):
 * on PostgreSQL a batch's writes are pipelined and count no rows. */
int store_escalate_rules_update(store_conn *c, const store_escalate_rule *r, tc_err *err);
/* status enabled | disabled, or deleted (sets deleted_at = now). */
int store_escalate_rules_set_status(store_conn *c, int64_t channel_id, const char *rule_id,
                                    const char *status, int64_t updated_by, int64_t now,
                                    tc_err *err);
/* One rule of the channel (channel_id 0: of any channel), deleted ones too
 * when with_deleted. Returns 1 found, 0 not, -1 error. */
int store_escalate_rules_get(store_conn *c, int64_t channel_id, const char *rule_id,
                             int with_deleted, store_escalate_rule_fn fn, void *arg, tc_err *err);
/* The live rules of a channel in matching order (priority, then oldest);
 * enabled ones only when enabled_only. */
int store_escalate_rules_each(store_conn *c, int64_t channel_id, int enabled_only,
                              store_escalate_rule_fn fn, void *arg, tc_err *err);
/* (channel_id, number of enabled rules) for every channel that has one:
 * what the writer's cache keeps, so an incident of a channel without rules
 * reads nothing. */
int store_escalate_rules_counts(store_conn *c,
                                int (*fn)(void *arg, int64_t channel_id, int64_t n, tc_err *err),
                                void *arg, tc_err *err);

/* ---- progress ---- */

#define STORE_ESC_STATE_LEN 16

typedef struct {
    char incident_id[IDS_OBJECT_LEN + 1];
    char rule_id[IDS_OBJECT_LEN + 1];
    int64_t layer_idx;
    char state[STORE_ESC_STATE_LEN];  /* pending | escalate | paused | done | stopped | off */
    char reason[STORE_ESC_STATE_LEN]; /* assign | escalate | reopen */
    int64_t next_at;                  /* ms; 0 = nothing due */
    int64_t updated_at;               /* ms */
} store_escalation;

/* Inserts or replaces the incident's progress. */
int store_escalations_put(store_conn *c, const store_escalation *e, tc_err *err);
/* Returns 1 found (out filled), 0 not, -1 error. */
int store_escalations_get(store_conn *c, const char *incident_id, store_escalation *out,
                          tc_err *err);
/* The incidents whose next step is due (next_at <= now_ms), oldest first,
 * at most max: one probe of the partial index incident_escalations_due. */
int store_escalations_due(store_conn *c, int64_t now_ms, char (*ids)[IDS_OBJECT_LEN + 1], int max,
                          tc_err *err);

#endif
