/* store/escalations.c: see store/escalations.h. */
#include "store/escalations.h"

#include <stdio.h>
#include <string.h>

#define RULE_COLUMNS                                                                               \
    "rule_id, channel_id, rule_name, description, priority, aggr_window, template_id, layers,"     \
    " time_filters, filters, status, updated_by, created_at, updated_at, deleted_at"

static void rule_from_row(store_stmt *q, store_escalate_rule *r) {
    r->rule_id = store_col_text(q, 0);
    r->channel_id = store_col_int64(q, 1);
    r->rule_name = store_col_text(q, 2);
    r->description = store_col_text(q, 3);
    r->priority = store_col_int64(q, 4);
    r->aggr_window = store_col_int64(q, 5);
    r->template_id = store_col_text(q, 6);
    r->layers = store_col_text(q, 7);
    r->time_filters = store_col_text(q, 8);
    r->filters = store_col_text(q, 9);
    r->status = store_col_text(q, 10);
    r->updated_by = store_col_int64(q, 11);
    r->created_at = store_col_int64(q, 12);
    r->updated_at = store_col_int64(q, 13);
    r->deleted_at = store_col_int64(q, 14);
}

/* Steps q to its end, handing each row to fn; returns the rows seen or -1. */
static int each_rule(store_stmt *q, store_escalate_rule_fn fn, void *arg, tc_err *err) {
    int step, rc = 0, n = 0;
    while ((step = store_step(q, err)) == STORE_ROW) {
        store_escalate_rule r;
        rule_from_row(q, &r);
        n++;
        if ((rc = fn(arg, &r, err)) != 0)
            break;
    }
    store_stmt_done(q);
    return rc != 0 || step < 0 ? -1 : n;
}

int store_escalate_rules_insert(store_conn *c, const store_escalate_rule *r, tc_err *err) {
    store_stmt *st = store_prepare(
        c, "INSERT INTO escalate_rules(" RULE_COLUMNS ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        err);
    if (!st)
        return -1;
    store_bind_text(st, 1, r->rule_id);
    store_bind_int64(st, 2, r->channel_id);
    store_bind_text(st, 3, r->rule_name);
    store_bind_text(st, 4, r->description ? r->description : "");
    store_bind_int64(st, 5, r->priority);
    store_bind_int64(st, 6, r->aggr_window);
    store_bind_text(st, 7, r->template_id ? r->template_id : "");
    store_bind_text(st, 8, r->layers);
    store_bind_text(st, 9, r->time_filters ? r->time_filters : "[]");
    store_bind_text(st, 10, r->filters ? r->filters : "[]");
    store_bind_text(st, 11, r->status ? r->status : "enabled");
    store_bind_int64(st, 12, r->updated_by);
    store_bind_int64(st, 13, r->created_at);
    store_bind_int64(st, 14, r->updated_at);
    store_bind_int64(st, 15, 0);
    store_batch_note(c, 'c', "");
    return store_run(st, err);
}

int store_escalate_rules_update(store_conn *c, const store_escalate_rule *r, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "UPDATE escalate_rules SET rule_name = ?, description = ?, priority = ?, aggr_window = ?,"
        " template_id = ?, layers = ?, time_filters = ?, filters = ?, updated_by = ?,"
        " updated_at = ? WHERE rule_id = ? AND channel_id = ? AND deleted_at = 0",
        err);
    if (!st)
        return -1;
    store_bind_text(st, 1, r->rule_name);
    store_bind_text(st, 2, r->description ? r->description : "");
    store_bind_int64(st, 3, r->priority);
    store_bind_int64(st, 4, r->aggr_window);
    store_bind_text(st, 5, r->template_id ? r->template_id : "");
    store_bind_text(st, 6, r->layers);
    store_bind_text(st, 7, r->time_filters ? r->time_filters : "[]");
    store_bind_text(st, 8, r->filters ? r->filters : "[]");
    store_bind_int64(st, 9, r->updated_by);
    store_bind_int64(st, 10, r->updated_at);
    store_bind_text(st, 11, r->rule_id);
    store_bind_int64(st, 12, r->channel_id);
    store_batch_note(c, 'c', "");
    return store_run(st, err);
}

int store_escalate_rules_set_status(store_conn *c, int64_t channel_id, const char *rule_id,
                                    const char *status, int64_t updated_by, int64_t now,
                                    tc_err *err) {
    int deleting = strcmp(status, "deleted") == 0;
    store_stmt *st = store_prepare(
        c,
        deleting ? "UPDATE escalate_rules SET deleted_at = ?, updated_by = ?, updated_at = ?"
                   " WHERE rule_id = ? AND channel_id = ? AND deleted_at = 0"
                 : "UPDATE escalate_rules SET status = ?, updated_by = ?, updated_at = ?"
                   " WHERE rule_id = ? AND channel_id = ? AND deleted_at = 0",
        err);
    if (!st)
        return -1;
    if (deleting)
        store_bind_int64(st, 1, now);
    else
        store_bind_text(st, 1, status);
    store_bind_int64(st, 2, updated_by);
    store_bind_int64(st, 3, now);
    store_bind_text(st, 4, rule_id);
    store_bind_int64(st, 5, channel_id);
    store_batch_note(c, 'c', "");
    return store_run(st, err);
}

int store_escalate_rules_get(store_conn *c, int64_t channel_id, const char *rule_id,
                             int with_deleted, store_escalate_rule_fn fn, void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT " RULE_COLUMNS " FROM escalate_rules WHERE rule_id = ?"
                                  " AND (CAST(? AS BIGINT) = 0 OR channel_id = ?) AND (CAST(? AS "
                                  "BIGINT) = 1 OR deleted_at = 0)",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, rule_id);
    store_bind_int64(q, 2, channel_id);
    store_bind_int64(q, 3, channel_id);
    store_bind_int64(q, 4, with_deleted ? 1 : 0);
    int n = each_rule(q, fn, arg, err);
    return n < 0 ? -1 : n > 0;
}

int store_escalate_rules_each(store_conn *c, int64_t channel_id, int enabled_only,
                              store_escalate_rule_fn fn, void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT " RULE_COLUMNS " FROM escalate_rules"
                                  " WHERE channel_id = ? AND deleted_at = 0"
                                  " AND (CAST(? AS BIGINT) = 0 OR status = 'enabled')"
                                  " ORDER BY priority, created_at, rule_id",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, channel_id);
    store_bind_int64(q, 2, enabled_only ? 1 : 0);
    return each_rule(q, fn, arg, err) < 0 ? -1 : 0;
}

int store_escalate_rules_counts(store_conn *c,
                                int (*fn)(void *arg, int64_t channel_id, int64_t n, tc_err *err),
                                void *arg, tc_err *err) {
    store_stmt *q =
        store_prepare(c,
                      "SELECT channel_id, COUNT(*) FROM escalate_rules"
                      " WHERE deleted_at = 0 AND status = 'enabled' GROUP BY channel_id",
                      err);
    if (!q)
        return -1;
    int step, rc = 0;
    while ((step = store_step(q, err)) == STORE_ROW) {
        if ((rc = fn(arg, store_col_int64(q, 0), store_col_int64(q, 1), err)) != 0)
            break;
    }
    store_stmt_done(q);
    return rc != 0 || step < 0 ? -1 : 0;
}

int store_escalations_put(store_conn *c, const store_escalation *e, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "INSERT INTO incident_escalations(incident_id, rule_id, layer_idx, state, reason, next_at,"
        " updated_at) VALUES(?,?,?,?,?,?,?) ON CONFLICT (incident_id) DO UPDATE SET"
        " rule_id = excluded.rule_id, layer_idx = excluded.layer_idx, state = excluded.state,"
        " reason = excluded.reason, next_at = excluded.next_at, updated_at = excluded.updated_at",
        err);
    if (!st)
        return -1;
    store_bind_text(st, 1, e->incident_id);
    store_bind_text(st, 2, e->rule_id);
    store_bind_int64(st, 3, e->layer_idx);
    store_bind_text(st, 4, e->state);
    store_bind_text(st, 5, e->reason);
    store_bind_int64(st, 6, e->next_at);
    store_bind_int64(st, 7, e->updated_at);
    return store_run(st, err);
}

int store_escalations_get(store_conn *c, const char *incident_id, store_escalation *out,
                          tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT rule_id, layer_idx, state, reason, next_at, updated_at"
                                  " FROM incident_escalations WHERE incident_id = ?",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, incident_id);
    int step = store_step(q, err);
    if (step == STORE_ROW) {
        snprintf(out->incident_id, sizeof(out->incident_id), "%s", incident_id);
        snprintf(out->rule_id, sizeof(out->rule_id), "%s", store_col_text(q, 0));
        out->layer_idx = store_col_int64(q, 1);
        snprintf(out->state, sizeof(out->state), "%s", store_col_text(q, 2));
        snprintf(out->reason, sizeof(out->reason), "%s", store_col_text(q, 3));
        out->next_at = store_col_int64(q, 4);
        out->updated_at = store_col_int64(q, 5);
    }
    store_stmt_done(q);
    return step < 0 ? -1 : step == STORE_ROW;
}

int store_escalations_due(store_conn *c, int64_t now_ms, char (*ids)[IDS_OBJECT_LEN + 1], int max,
                          tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT incident_id FROM incident_escalations WHERE next_at > 0"
                                  " AND next_at <= ? ORDER BY next_at LIMIT ?",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, now_ms);
    store_bind_int64(q, 2, max);
    int n = 0, step;
    while ((step = store_step(q, err)) == STORE_ROW && n < max)
        snprintf(ids[n++], IDS_OBJECT_LEN + 1, "%s", store_col_text(q, 0));
    store_stmt_done(q);
    return step < 0 ? -1 : n;
}
