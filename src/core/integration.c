/* integration.c: see integration.h. Loading and saving integration rows,
 * and keeping a webhook's `subscriptions` rows (what the outbox fan-out
 * matches events against) in step with its config on every save. */
#include "core/integration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"
#include "util/doc.h"
#include "util/ids.h"
#include "util/jbuild.h"

void integration_init(integration *in) {
    memset(in, 0, sizeof(*in));
    snprintf(in->status, sizeof(in->status), "enabled");
}

void integration_clear(integration *in) {
    free(in->name);
    free(in->description);
    free(in->disabled_reason);
    free(in->integration_key);
    free(in->signing_secret);
    free(in->prev_signing_secret);
    json_decref(in->config);
    integration_init(in);
}

int integration_set_str(char **field, const char *value, tc_err *err) {
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return tc_err_oom(err, "an integration");
    free(*field);
    *field = copy;
    return 0;
}

static int read_row(store_stmt *q, integration *out, tc_err *err) {
    out->integration_id = store_col_int64(q, 0);
    snprintf(out->type, sizeof(out->type), "%s", store_col_text(q, 1));
    snprintf(out->status, sizeof(out->status), "%s", store_col_text(q, 4));
    out->channel_id = store_col_int64(q, 6);
    out->created_at = store_col_int64(q, 9);
    out->updated_at = store_col_int64(q, 10);
    out->deleted_at = store_col_int64(q, 11);
    out->prev_secret_expires_at = store_col_int64(q, 14);
    if (doc_parse_n(store_col_text(q, 8), "integration_config", out->integration_id, &out->config,
                    err) != 0)
        return -1;
    if (integration_set_str(&out->name, store_col_text(q, 2), err) != 0 ||
        integration_set_str(&out->description, store_col_text(q, 3), err) != 0 ||
        integration_set_str(&out->disabled_reason, store_col_text(q, 5), err) != 0 ||
        integration_set_str(&out->integration_key,
                            store_col_is_null(q, 7) ? NULL : store_col_text(q, 7), err) != 0 ||
        integration_set_str(&out->signing_secret,
                            store_col_is_null(q, 12) ? NULL : store_col_text(q, 12), err) != 0 ||
        integration_set_str(&out->prev_signing_secret,
                            store_col_is_null(q, 13) ? NULL : store_col_text(q, 13), err) != 0)
        return -1;
    return 0;
}

int integration_load(store_conn *c, int64_t integration_id, integration *out, tc_err *err) {
    integration_init(out);
    store_stmt *q = store_prepare(c,
                                  "SELECT integration_id, type, name, description, status,"
                                  " disabled_reason, channel_id, integration_key, config,"
                                  " created_at, updated_at, deleted_at, signing_secret,"
                                  " prev_signing_secret, prev_secret_expires_at"
                                  " FROM integrations WHERE integration_id = ?",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, integration_id);
    int rc = -1;
    int step = store_step(q, err);
    if (step == STORE_ROW)
        rc = read_row(q, out, err);
    else if (step == STORE_DONE)
        tc_err_set(err, TC_INVALID_PARAMETER, "integration_id %lld does not exist",
                   (long long)integration_id);
    store_stmt_done(q);
    if (rc != 0)
        integration_clear(out);
    return rc;
}

int integration_name_free(store_conn *c, const char *type, const char *name, int64_t except_id,
                          tc_err *err) {
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
    int64_t other = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    if (step < 0)
        return -1;
    if (step == STORE_ROW)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "name '%s' is already used by %s integration %lld", name, type,
                          (long long)other);
    return 0;
}

static void bind_fields(store_stmt *st, const integration *in, const char *config) {
    store_bind_text(st, 1, in->type);
    store_bind_text(st, 2, in->name ? in->name : "");
    store_bind_text(st, 3, in->description ? in->description : "");
    store_bind_text(st, 4, in->status);
    store_bind_text(st, 5, in->disabled_reason ? in->disabled_reason : "");
    store_bind_int64(st, 6, in->channel_id);
    store_bind_text(st, 7, in->integration_key); /* NULL binds NULL */
    store_bind_text(st, 8, config);
    store_bind_int64(st, 9, in->created_at);
    store_bind_int64(st, 10, in->updated_at);
    store_bind_int64(st, 11, in->deleted_at);
    store_bind_text(st, 12, in->signing_secret); /* NULL binds NULL */
    store_bind_text(st, 13, in->prev_signing_secret);
    store_bind_int64(st, 14, in->prev_secret_expires_at);
    char key_hash[65];
    if (in->integration_key) {
        ids_sha256_hex(in->integration_key, strlen(in->integration_key), key_hash);
        store_bind_text(st, 15, key_hash);
    } else {
        store_bind_text(st, 15, NULL);
    }
}

static int insert_row(writer_txn *txn, integration *in, const char *config, tc_err *err) {
    store_stmt *st = store_prepare(
        txn->conn,
        "INSERT INTO integrations(type, name, description, status, disabled_reason, channel_id,"
        " integration_key, config, created_at, updated_at, deleted_at, signing_secret,"
        " prev_signing_secret, prev_secret_expires_at, integration_key_hash)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING integration_id",
        err);
    if (!st)
        return -1;
    bind_fields(st, in, config);
    int step = store_step(st, err);
    if (step == STORE_ROW)
        in->integration_id = store_col_int64(st, 0);
    store_stmt_done(st);
    if (step != STORE_ROW)
        return step < 0 ? -1 : tc_err_set(err, TC_INTERNAL, "integration insert returned no id");
    return 0;
}

static int update_row(writer_txn *txn, const integration *in, const char *config, tc_err *err) {
    store_stmt *st = store_prepare(
        txn->conn,
        "UPDATE integrations SET type=?, name=?, description=?, status=?, disabled_reason=?,"
        " channel_id=?, integration_key=?, config=?, created_at=?, updated_at=?, deleted_at=?,"
        " signing_secret=?, prev_signing_secret=?, prev_secret_expires_at=?,"
        " integration_key_hash=?,"
        /* Enabled again (by a person): a new failing streak starts from
         * nothing, or the first failure would disable it at once. SET
         * reads the row as it was, so `status` here is the old one. */
        " failing_since = CASE WHEN status <> 'enabled' AND ? = 'enabled' THEN 0"
        " ELSE failing_since END WHERE integration_id=?",
        err);
    if (!st)
        return -1;
    bind_fields(st, in, config);
    store_bind_text(st, 16, in->status);
    store_bind_int64(st, 17, in->integration_id);
    return store_run(st, err);
}

/* Subscriptions ---------------------------------------------------------- */

static const char *const incident_event_types[] = {
    "i_new",    "i_assign",   "i_a_rspd", "i_snooze",  "i_wake",       "i_ack",     "i_unack",
    "i_storm",  "i_custom",   "i_rslv",   "i_reopen",  "i_merge",      "i_comm",    "i_r_title",
    "i_r_desc", "i_r_impact", "i_r_rc",   "i_r_rsltn", "i_r_severity", "i_r_field", NULL};
static const char *const alert_event_types[] = {"a_new", "a_update", "a_merge", "a_close", NULL};
static const char *const custom_event_types[] = {"i_custom", NULL};

int integration_is_pushing(const char *type) {
    return integration_event_types(type) != NULL;
}

const char *integration_subscription_kind(const char *type) {
    if (strcmp(type, "webhook_incident") == 0)
        return "incident";
    if (strcmp(type, "webhook_alert") == 0)
        return "alert";
    return NULL;
}

const char *const *integration_event_types(const char *type) {
    if (strcmp(type, "webhook_incident") == 0)
        return incident_event_types;
    if (strcmp(type, "webhook_alert") == 0)
        return alert_event_types;
    if (strcmp(type, "custom_action") == 0)
        return custom_event_types;
    return NULL;
}

static int subscription_insert(writer_txn *txn, int64_t integration_id, const char *kind,
                               int64_t channel_id, const char *event_type, tc_err *err) {
    store_stmt *st = store_prepare(txn->conn,
                                   "INSERT INTO subscriptions(integration_id, kind, channel_id,"
                                   " event_type) VALUES(?,?,?,?) ON CONFLICT DO NOTHING",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, integration_id);
    store_bind_text(st, 2, kind);
    store_bind_int64(st, 3, channel_id);
    store_bind_text(st, 4, event_type);
    return store_run(st, err);
}

/* One row per (channel, event type) of the config; an empty list stands
 * for "all" (channel 0, type ''), so it still yields one row per pair. */
static int subscriptions_insert(writer_txn *txn, const integration *in, const char *kind,
                                tc_err *err) {
    json_t *channels = json_object_get(in->config, "channel_ids");
    json_t *types = json_object_get(in->config, "event_types");
    size_t nc = json_array_size(channels), nt = json_array_size(types);
    for (size_t c = 0; c < (nc ? nc : 1); c++) {
        int64_t channel_id = nc ? json_integer_value(json_array_get(channels, c)) : 0;
        for (size_t t = 0; t < (nt ? nt : 1); t++) {
            const char *type = nt ? json_string_value(json_array_get(types, t)) : "";
            if (subscription_insert(txn, in->integration_id, kind, channel_id, type ? type : "",
                                    err) != 0)
                return -1;
        }
    }
    return 0;
}

/* Delete, then insert what the config says now: cheaper to reason about
 * than a diff, and an integration holds few rows. */
static int subscriptions_rewrite(writer_txn *txn, const integration *in, tc_err *err) {
    store_stmt *st =
        store_prepare(txn->conn, "DELETE FROM subscriptions WHERE integration_id = ?", err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, in->integration_id);
    if (store_run(st, err) != 0)
        return -1;
    const char *kind = integration_subscription_kind(in->type);
    if (!kind || strcmp(in->status, "deleted") == 0 || !in->config)
        return 0;
    return subscriptions_insert(txn, in, kind, err);
}

int integration_save(writer_txn *txn, integration *in, tc_err *err) {
    /* The writer's cache reads sources, channels and subscriptions again
     * when next needed (core/state.h). */
    if (txn->state)
        state_config_changed(txn->state);
    store_batch_note(txn->conn, 'c', "");
    int64_t now = txn->now_ms / 1000;
    if (in->integration_id == 0)
        in->created_at = now;
    in->updated_at = now;
    char *config = in->config ? jb_dumps(in->config, JSON_COMPACT) : strdup("{}");
    if (!config)
        return tc_err_oom(err, "encoding an integration's config");
    int rc = in->integration_id == 0 ? insert_row(txn, in, config, err)
                                     : update_row(txn, in, config, err);
    free(config);
    if (rc == 0)
        rc = subscriptions_rewrite(txn, in, err);
    return rc;
}
