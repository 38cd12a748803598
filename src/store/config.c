/* store/config.c: see store/config.h. */
#include "store/config.h"

#include <stdio.h>
#include <string.h>

int store_config_source(store_conn *c, const char *key_hash, store_source_row *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    store_stmt *q = store_prepare(c,
                                  "SELECT i.type, i.integration_key, ch.channel_name, ch.status,"
                                  " i.channel_id"
                                  " FROM integrations i LEFT JOIN channels ch"
                                  " ON ch.channel_id = i.channel_id"
                                  " WHERE i.integration_key_hash = ? AND i.status = 'enabled'",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, key_hash);
    int step = store_step(q, err);
    if (step == STORE_ROW) {
        out->found = 1;
        snprintf(out->type, sizeof(out->type), "%s", store_col_text(q, 0));
        snprintf(out->key, sizeof(out->key), "%s", store_col_text(q, 1));
        snprintf(out->channel_name, sizeof(out->channel_name), "%s", store_col_text(q, 2));
        if (!store_col_is_null(q, 3))
            snprintf(out->channel_status, sizeof(out->channel_status), "%s", store_col_text(q, 3));
        out->channel_id = store_col_int64(q, 4);
    }
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

int store_config_each_integration(store_conn *c,
                                  int (*fn)(void *arg, const store_integration_row *r, tc_err *err),
                                  void *arg, tc_err *err) {
    store_stmt *q =
        store_prepare(c,
                      "SELECT integration_id, type, name, status, channel_id,"
                      " COALESCE(integration_key_hash, ''), COALESCE(integration_key, '')"
                      " FROM integrations WHERE status <> 'deleted'",
                      err);
    if (!q)
        return -1;
    int step = STORE_DONE, rc = 0;
    while (rc == 0 && (step = store_step(q, err)) == STORE_ROW) {
        store_integration_row r = {
            .integration_id = store_col_int64(q, 0),
            .type = store_col_text(q, 1),
            .name = store_col_text(q, 2),
            .status = store_col_text(q, 3),
            .channel_id = store_col_int64(q, 4),
            .key_hash = store_col_text(q, 5),
            .key = store_col_text(q, 6),
        };
        rc = fn(arg, &r, err);
    }
    store_stmt_done(q);
    return rc != 0 || step < 0 ? -1 : 0;
}

int store_config_each_channel(store_conn *c,
                              int (*fn)(void *arg, const store_channel_row *r, tc_err *err),
                              void *arg, tc_err *err) {
    store_stmt *q =
        store_prepare(c, "SELECT channel_id, channel_name, status, rules FROM channels", err);
    if (!q)
        return -1;
    int step = STORE_DONE, rc = 0;
    while (rc == 0 && (step = store_step(q, err)) == STORE_ROW) {
        store_channel_row r = {
            .channel_id = store_col_int64(q, 0),
            .name = store_col_text(q, 1),
            .status = store_col_text(q, 2),
            .rules = store_col_text(q, 3),
        };
        rc = fn(arg, &r, err);
    }
    store_stmt_done(q);
    return rc != 0 || step < 0 ? -1 : 0;
}

int store_config_each_subscription(store_conn *c,
                                   int (*fn)(void *arg, const store_subscription_row *r,
                                             tc_err *err),
                                   void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT s.integration_id, s.kind, s.channel_id, s.event_type"
                                  " FROM subscriptions s JOIN integrations i"
                                  " ON i.integration_id = s.integration_id"
                                  " WHERE i.status <> 'deleted' ORDER BY s.integration_id",
                                  err);
    if (!q)
        return -1;
    int step = STORE_DONE, rc = 0;
    while (rc == 0 && (step = store_step(q, err)) == STORE_ROW) {
        store_subscription_row r = {
            .integration_id = store_col_int64(q, 0),
            .kind = store_col_text(q, 1),
            .channel_id = store_col_int64(q, 2),
            .event_type = store_col_text(q, 3),
        };
        rc = fn(arg, &r, err);
    }
    store_stmt_done(q);
    return rc != 0 || step < 0 ? -1 : 0;
}
