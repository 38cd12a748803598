/* store/integrations.c: see store/integrations.h. */
#include "store/integrations.h"

#include <stddef.h>

/* The columns read into a store_integration_record, in this order. */
#define RECORD_COLUMNS                                                                             \
    "integration_id, type, name, description, status, disabled_reason, channel_id,"                \
    " integration_key, config, created_at, updated_at, deleted_at, signing_secret,"                \
    " prev_signing_secret, prev_secret_expires_at"

static const char *nullable(store_stmt *q, int col) {
    return store_col_is_null(q, col) ? NULL : store_col_text(q, col);
}

int store_integrations_get(store_conn *c, int64_t integration_id, store_integration_record_fn fn,
                           void *arg, tc_err *err) {
    store_stmt *q = store_prepare(
        c, "SELECT " RECORD_COLUMNS " FROM integrations WHERE integration_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, integration_id);
    int step = store_step(q, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW) {
        store_integration_record r = {
            .integration_id = store_col_int64(q, 0),
            .type = store_col_text(q, 1),
            .name = store_col_text(q, 2),
            .description = store_col_text(q, 3),
            .status = store_col_text(q, 4),
            .disabled_reason = store_col_text(q, 5),
            .channel_id = store_col_int64(q, 6),
            .integration_key = nullable(q, 7),
            .config = store_col_text(q, 8),
            .created_at = store_col_int64(q, 9),
            .updated_at = store_col_int64(q, 10),
            .deleted_at = store_col_int64(q, 11),
            .signing_secret = nullable(q, 12),
            .prev_signing_secret = nullable(q, 13),
            .prev_secret_expires_at = store_col_int64(q, 14),
        };
        rc = fn(arg, &r, err) != 0 ? -1 : 1;
    }
    store_stmt_done(q);
    return rc;
}

static const char *or_empty(const char *s) {
    return s ? s : "";
}

/* Binds parameters 1 to 15: the columns of an insert, in its order. */
static void bind_fields(store_stmt *st, const store_integration_record *r, const char *key_hash) {
    store_bind_text(st, 1, r->type);
    store_bind_text(st, 2, or_empty(r->name));
    store_bind_text(st, 3, or_empty(r->description));
    store_bind_text(st, 4, r->status);
    store_bind_text(st, 5, or_empty(r->disabled_reason));
    store_bind_int64(st, 6, r->channel_id);
    store_bind_text(st, 7, r->integration_key); /* NULL binds NULL */
    store_bind_text(st, 8, r->config);
    store_bind_int64(st, 9, r->created_at);
    store_bind_int64(st, 10, r->updated_at);
    store_bind_int64(st, 11, r->deleted_at);
    store_bind_text(st, 12, r->signing_secret); /* NULL binds NULL */
    store_bind_text(st, 13, r->prev_signing_secret);
    store_bind_int64(st, 14, r->prev_secret_expires_at);
    store_bind_text(st, 15, key_hash);
}

int store_integrations_insert(store_conn *c, const store_integration_record *r,
                              const char *key_hash, int64_t *integration_id, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "INSERT INTO integrations(type, name, description, status, disabled_reason, channel_id,"
        " integration_key, config, created_at, updated_at, deleted_at, signing_secret,"
        " prev_signing_secret, prev_secret_expires_at, integration_key_hash)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING integration_id",
        err);
    if (!st)
        return -1;
    bind_fields(st, r, key_hash);
    int step = store_step(st, err);
    if (step == STORE_ROW)
        *integration_id = store_col_int64(st, 0);
    store_stmt_done(st);
    if (step != STORE_ROW)
        return step < 0 ? -1 : tc_err_set(err, TC_INTERNAL, "integration insert returned no id");
    return 0;
}

int store_integrations_update(store_conn *c, const store_integration_record *r,
                              const char *key_hash, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "UPDATE integrations SET type=?, name=?, description=?, status=?, disabled_reason=?,"
        " channel_id=?, integration_key=?, config=?, created_at=?, updated_at=?, deleted_at=?,"
        " signing_secret=?, prev_signing_secret=?, prev_secret_expires_at=?,"
        " integration_key_hash=?,"
        /* Enabled again (by a person): a new failing streak starts from
         * nothing, or the first failure would disable it at once. SET
         * reads the row as it was, so `status` here is the old one. */
        " failing_since = CASE WHEN status <> 'enabled' AND CAST(? AS TEXT) = 'enabled' THEN 0"
        " ELSE failing_since END WHERE integration_id=?",
        err);
    if (!st)
        return -1;
    bind_fields(st, r, key_hash);
    store_bind_text(st, 16, r->status);
    store_bind_int64(st, 17, r->integration_id);
    return store_run(st, err);
}

int store_integrations_name_owner(store_conn *c, const char *type, const char *name,
                                  int64_t except_id, int64_t *integration_id, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT integration_id FROM integrations WHERE type = ?"
                                  " AND lower(name) = lower(?) AND status <> 'deleted'"
                                  " AND integration_id <> ?",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, type);
    store_bind_text(q, 2, name);
    store_bind_int64(q, 3, except_id);
    int step = store_step(q, err);
    *integration_id = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    return step < 0 ? -1 : step == STORE_ROW;
}

int store_integrations_list_ids(store_conn *c, const char *type, const char *status,
                                int (*fn)(void *arg, int64_t integration_id, tc_err *err),
                                void *arg, tc_err *err) {
    /* Each condition is off when its argument is empty, so one statement
     * serves every combination. */
    store_stmt *q = store_prepare(c,
                                  "SELECT integration_id FROM integrations"
                                  " WHERE (CAST(? AS TEXT) = '' OR type = ?)"
                                  " AND ((CAST(? AS TEXT) = '' AND status <> 'deleted')"
                                  " OR status = ?)"
                                  " ORDER BY integration_id",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, type);
    store_bind_text(q, 2, type);
    store_bind_text(q, 3, status);
    store_bind_text(q, 4, status);
    int step, rc = 0;
    while ((step = store_step(q, err)) == STORE_ROW) {
        if ((rc = fn(arg, store_col_int64(q, 0), err)) != 0)
            break;
    }
    store_stmt_done(q);
    return rc != 0 || step < 0 ? -1 : 0;
}

int store_integrations_each_custom_action(store_conn *c, int64_t except_id,
                                          int (*fn)(void *arg, const store_integration_config *r,
                                                    tc_err *err),
                                          void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT config, integration_id FROM integrations"
                                  " WHERE type = 'custom_action' AND status <> 'deleted'"
                                  " AND integration_id <> ?",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, except_id);
    int step, rc = 0;
    while ((step = store_step(q, err)) == STORE_ROW) {
        store_integration_config r = {.integration_id = store_col_int64(q, 1),
                                      .config = store_col_text(q, 0)};
        if ((rc = fn(arg, &r, err)) != 0)
            break;
    }
    store_stmt_done(q);
    return rc != 0 || step < 0 ? -1 : 0;
}

int store_integrations_count_sources(store_conn *c, int64_t channel_id, int64_t *n, tc_err *err) {
    store_stmt *q =
        store_prepare(c,
                      "SELECT COUNT(*) FROM integrations WHERE channel_id = ?"
                      " AND status <> 'deleted'"
                      " AND type IN ('alert_standard', 'alert_prometheus', 'change_standard')",
                      err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, channel_id);
    int step = store_step(q, err);
    *n = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    if (step == STORE_DONE)
        return tc_err_set(err, TC_INTERNAL, "counting alert sources returned no row");
    return step == STORE_ROW ? 0 : -1;
}

int store_integrations_each_live(store_conn *c,
                                 int (*fn)(void *arg, const store_integration_brief *r,
                                           tc_err *err),
                                 void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT integration_id, type, name, status FROM integrations"
                                  " WHERE status <> 'deleted' ORDER BY integration_id",
                                  err);
    if (!q)
        return -1;
    int step, rc = 0;
    while ((step = store_step(q, err)) == STORE_ROW) {
        store_integration_brief r = {.integration_id = store_col_int64(q, 0),
                                     .type = store_col_text(q, 1),
                                     .name = store_col_text(q, 2),
                                     .status = store_col_text(q, 3)};
        if ((rc = fn(arg, &r, err)) != 0)
            break;
    }
    store_stmt_done(q);
    return rc != 0 || step < 0 ? -1 : 0;
}

/* ---- subscriptions ---------------------------------------------------------- */

int store_integrations_subscriptions_clear(store_conn *c, int64_t integration_id, tc_err *err) {
    store_stmt *st = store_prepare(c, "DELETE FROM subscriptions WHERE integration_id = ?", err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, integration_id);
    return store_run(st, err);
}

int store_integrations_subscription_add(store_conn *c, int64_t integration_id, const char *kind,
                                        int64_t channel_id, const char *event_type, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "INSERT INTO subscriptions(integration_id, kind, channel_id,"
                                   " event_type) VALUES(?,?,?,?) ON CONFLICT"
                                   " (kind, event_type, channel_id, integration_id) DO NOTHING",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, integration_id);
    store_bind_text(st, 2, kind);
    store_bind_int64(st, 3, channel_id);
    store_bind_text(st, 4, event_type);
    return store_run(st, err);
}

/* ---- delivery ------------------------------------------------------------------ */

/* The columns read into a store_push_target_row, in this order. */
#define PUSH_TARGET_COLUMNS                                                                        \
    "integration_id, type, name, status, config, signing_secret, prev_signing_secret,"             \
    " prev_secret_expires_at"
#define PUSH_TARGET_NCOLUMNS 8

static void read_push_target(store_stmt *q, store_push_target_row *r) {
    r->integration_id = store_col_int64(q, 0);
    r->type = store_col_text(q, 1);
    r->name = store_col_text(q, 2);
    r->status = store_col_text(q, 3);
    r->config = store_col_text(q, 4);
    r->signing_secret = store_col_text(q, 5);
    r->prev_signing_secret = store_col_text(q, 6);
    r->prev_secret_expires_at = store_col_int64(q, 7);
    r->failing_since = 0;
}

int store_integrations_push_target(store_conn *c, int64_t integration_id,
                                   int (*fn)(void *arg, const store_push_target_row *r,
                                             tc_err *err),
                                   void *arg, tc_err *err) {
    store_stmt *q =
        store_prepare(c,
                      "SELECT " PUSH_TARGET_COLUMNS " FROM integrations"
                      " WHERE integration_id = ? AND status <> 'deleted'"
                      " AND type IN ('webhook_incident','webhook_alert','custom_action')",
                      err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, integration_id);
    int step = store_step(q, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW) {
        store_push_target_row r;
        read_push_target(q, &r);
        rc = fn(arg, &r, err) != 0 ? -1 : 1;
    }
    store_stmt_done(q);
    return rc;
}

int store_integrations_push_targets_open(store_conn *c, store_push_target_cursor *cur,
                                         tc_err *err) {
    cur->q = store_prepare(c,
                           "SELECT " PUSH_TARGET_COLUMNS ", failing_since FROM integrations"
                           " WHERE type IN ('webhook_incident','webhook_alert','custom_action')"
                           " AND status <> 'deleted'",
                           err);
    return cur->q ? 0 : -1;
}

int store_integrations_push_targets_next(store_push_target_cursor *cur, store_push_target_row *r,
                                         tc_err *err) {
    int step = store_step(cur->q, err);
    if (step == STORE_ROW) {
        read_push_target(cur->q, r);
        r->failing_since = store_col_int64(cur->q, PUSH_TARGET_NCOLUMNS);
    }
    return step;
}

void store_integrations_push_targets_close(store_push_target_cursor *cur) {
    if (cur->q)
        store_stmt_done(cur->q);
    cur->q = NULL;
}

int store_integrations_set_failing_since(store_conn *c, int64_t integration_id,
                                         int64_t failing_since, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "UPDATE integrations SET failing_since ="
                                   " CASE WHEN CAST(? AS BIGINT) = 0 OR failing_since = 0 THEN ?"
                                   " ELSE failing_since END WHERE integration_id=?",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, failing_since);
    store_bind_int64(st, 2, failing_since);
    store_bind_int64(st, 3, integration_id);
    return store_run(st, err);
}

int store_integrations_disable(store_conn *c, int64_t integration_id, const char *reason,
                               int64_t now_s, int64_t failing_before, tc_err *err) {
    store_stmt *st =
        store_prepare(c,
                      "UPDATE integrations SET status='disabled', disabled_reason=?, updated_at=?"
                      " WHERE integration_id=? AND status='enabled'"
                      " AND (CAST(? AS BIGINT) = 0 OR (failing_since > 0 AND failing_since <= ?))",
                      err);
    if (!st)
        return -1;
    store_bind_text(st, 1, reason);
    store_bind_int64(st, 2, now_s);
    store_bind_int64(st, 3, integration_id);
    store_bind_int64(st, 4, failing_before);
    store_bind_int64(st, 5, failing_before);
    /* Other nodes read their targets again (core/writer.c). */
    store_batch_note(c, 'c', "");
    return store_run(st, err);
}
