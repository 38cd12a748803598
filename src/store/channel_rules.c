/* store/channel_rules.c: see store/channel_rules.h. */
#include "store/channel_rules.h"

#include <stdio.h>

#define RULE_COLUMNS                                                                               \
    "rule_id, channel_id, kind, rule_name, description, priority, status, body,"                   \
    " from_incident_id, updated_by, created_at, updated_at, deleted_at, expires_at"

/* Evaluation order: lower priority first, then the oldest (ids grow with
 * time, util/ids.h). */
#define RULE_ORDER " ORDER BY priority, created_at, rule_id"

static void read_row(store_stmt *q, store_channel_rule *r) {
    r->rule_id = store_col_text(q, 0);
    r->channel_id = store_col_int64(q, 1);
    r->kind = store_col_text(q, 2);
    r->rule_name = store_col_text(q, 3);
    r->description = store_col_text(q, 4);
    r->priority = store_col_int64(q, 5);
    r->status = store_col_text(q, 6);
    r->body = store_col_text(q, 7);
    r->from_incident_id = store_col_text(q, 8);
    r->updated_by = store_col_int64(q, 9);
    r->created_at = store_col_int64(q, 10);
    r->updated_at = store_col_int64(q, 11);
    r->deleted_at = store_col_int64(q, 12);
    r->expires_at = store_col_int64(q, 13);
}

/* Runs q (bound by the caller) and calls fn for each row; with `one`, at
 * most one row and 1 when there was one. */
static int each_row(store_stmt *q, int one, store_channel_rule_fn fn, void *arg, tc_err *err) {
    int step, rc = 0, seen = 0;
    while ((step = store_step(q, err)) == STORE_ROW) {
        store_channel_rule r;
        read_row(q, &r);
        seen = 1;
        if ((rc = fn(arg, &r, err)) != 0 || one)
            break;
    }
    store_stmt_done(q);
    if (rc != 0 || step < 0)
        return -1;
    return one ? seen : 0;
}

int store_channel_rules_insert(store_conn *c, const store_channel_rule *r, tc_err *err) {
    store_stmt *st = store_prepare(
        c, "INSERT INTO channel_rules(" RULE_COLUMNS ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, r->rule_id);
    store_bind_int64(st, 2, r->channel_id);
    store_bind_text(st, 3, r->kind);
    store_bind_text(st, 4, r->rule_name);
    store_bind_text(st, 5, r->description ? r->description : "");
    store_bind_int64(st, 6, r->priority);
    store_bind_text(st, 7, r->status);
    store_bind_text(st, 8, r->body);
    store_bind_text(st, 9, r->from_incident_id ? r->from_incident_id : "");
    store_bind_int64(st, 10, r->updated_by);
    store_bind_int64(st, 11, r->created_at);
    store_bind_int64(st, 12, r->updated_at);
    store_bind_int64(st, 13, 0);
    store_bind_int64(st, 14, r->expires_at);
    return store_run(st, err);
}

int store_channel_rules_update(store_conn *c, const store_channel_rule *r, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "UPDATE channel_rules SET rule_name=?, description=?,"
                                   " priority=?, body=?, from_incident_id=?, expires_at=?,"
                                   " updated_by=?, updated_at=? WHERE rule_id=? AND deleted_at=0",
                                   err);
    if (!st)
        return -1;
    store_bind_text(st, 1, r->rule_name);
    store_bind_text(st, 2, r->description ? r->description : "");
    store_bind_int64(st, 3, r->priority);
    store_bind_text(st, 4, r->body);
    store_bind_text(st, 5, r->from_incident_id ? r->from_incident_id : "");
    store_bind_int64(st, 6, r->expires_at);
    store_bind_int64(st, 7, r->updated_by);
    store_bind_int64(st, 8, r->updated_at);
    store_bind_text(st, 9, r->rule_id);
    return store_run(st, err);
}

int store_channel_rules_set_status(store_conn *c, const char *rule_id, const char *status,
                                   int64_t updated_by, int64_t now_s, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "UPDATE channel_rules SET status=?, updated_by=?, updated_at=?"
                                   " WHERE rule_id=? AND deleted_at=0",
                                   err);
    if (!st)
        return -1;
    store_bind_text(st, 1, status);
    store_bind_int64(st, 2, updated_by);
    store_bind_int64(st, 3, now_s);
    store_bind_text(st, 4, rule_id);
    return store_run(st, err);
}

int store_channel_rules_delete(store_conn *c, const char *rule_id, int64_t updated_by,
                               int64_t now_s, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "UPDATE channel_rules SET deleted_at=?, updated_by=?,"
                                   " updated_at=? WHERE rule_id=? AND deleted_at=0",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, now_s);
    store_bind_int64(st, 2, updated_by);
    store_bind_int64(st, 3, now_s);
    store_bind_text(st, 4, rule_id);
    return store_run(st, err);
}

int store_channel_rules_get(store_conn *c, int64_t channel_id, const char *kind,
                            const char *rule_id, store_channel_rule_fn fn, void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT " RULE_COLUMNS " FROM channel_rules WHERE rule_id=?"
                                  " AND channel_id=? AND kind=? AND deleted_at=0",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, rule_id);
    store_bind_int64(q, 2, channel_id);
    store_bind_text(q, 3, kind);
    return each_row(q, 1, fn, arg, err);
}

int store_channel_rules_each(store_conn *c, int64_t channel_id, const char *kind,
                             store_channel_rule_fn fn, void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT " RULE_COLUMNS " FROM channel_rules WHERE channel_id=?"
                                  " AND kind=? AND deleted_at=0" RULE_ORDER,
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, channel_id);
    store_bind_text(q, 2, kind);
    return each_row(q, 0, fn, arg, err);
}

int store_channel_rules_each_enabled(store_conn *c, store_channel_rule_fn fn, void *arg,
                                     tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT " RULE_COLUMNS " FROM channel_rules WHERE deleted_at=0"
                                  " AND status='enabled'"
                                  " ORDER BY channel_id, kind, priority, created_at, rule_id",
                                  err);
    return q ? each_row(q, 0, fn, arg, err) : -1;
}

int store_channel_rules_quick_of(store_conn *c, const char *incident_id, store_channel_rule_fn fn,
                                 void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT " RULE_COLUMNS " FROM channel_rules WHERE kind='silence'"
                                  " AND from_incident_id=? AND deleted_at=0" RULE_ORDER,
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, incident_id);
    return each_row(q, 1, fn, arg, err);
}

int store_channel_rules_each_expired(store_conn *c, int64_t now_s, int max,
                                     store_channel_rule_fn fn, void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT " RULE_COLUMNS " FROM channel_rules WHERE deleted_at=0"
                                  " AND expires_at>0 AND expires_at<=? ORDER BY rule_id LIMIT ?",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, now_s);
    store_bind_int64(q, 2, max);
    return each_row(q, 0, fn, arg, err);
}
