/* integration.c: see integration.h. Loading and saving integration rows,
 * and keeping a webhook's `subscriptions` rows (what the outbox fan-out
 * matches events against) in step with its config on every save. */
#include "core/integration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"
#include "store/integrations.h"
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

static int read_record(void *arg, const store_integration_record *r, tc_err *err) {
    integration *out = arg;
    out->integration_id = r->integration_id;
    snprintf(out->type, sizeof(out->type), "%s", r->type);
    snprintf(out->status, sizeof(out->status), "%s", r->status);
    out->channel_id = r->channel_id;
    out->created_at = r->created_at;
    out->updated_at = r->updated_at;
    out->deleted_at = r->deleted_at;
    out->prev_secret_expires_at = r->prev_secret_expires_at;
    if (doc_parse_n(r->config, "integration_config", out->integration_id, &out->config, err) != 0)
        return -1;
    if (integration_set_str(&out->name, r->name, err) != 0 ||
        integration_set_str(&out->description, r->description, err) != 0 ||
        integration_set_str(&out->disabled_reason, r->disabled_reason, err) != 0 ||
        integration_set_str(&out->integration_key, r->integration_key, err) != 0 ||
        integration_set_str(&out->signing_secret, r->signing_secret, err) != 0 ||
        integration_set_str(&out->prev_signing_secret, r->prev_signing_secret, err) != 0)
        return -1;
    return 0;
}

int integration_load(store_conn *c, int64_t integration_id, integration *out, tc_err *err) {
    integration_init(out);
    int found = store_integrations_get(c, integration_id, read_record, out, err);
    if (found == 0)
        tc_err_set(err, TC_INVALID_PARAMETER, "integration_id %lld does not exist",
                   (long long)integration_id);
    if (found != 1) {
        integration_clear(out);
        return -1;
    }
    return 0;
}

int integration_name_free(store_conn *c, const char *type, const char *name, int64_t except_id,
                          tc_err *err) {
    int64_t other = 0;
    int taken = store_integrations_name_owner(c, type, name, except_id, &other, err);
    if (taken < 0)
        return -1;
    if (taken)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "name '%s' is already used by %s integration %lld", name, type,
                          (long long)other);
    return 0;
}

/* Inserts or updates the row of in (its config already encoded). */
static int write_row(writer_txn *txn, integration *in, const char *config, tc_err *err) {
    store_integration_record r = {
        .integration_id = in->integration_id,
        .type = in->type,
        .name = in->name,
        .description = in->description,
        .status = in->status,
        .disabled_reason = in->disabled_reason,
        .channel_id = in->channel_id,
        .integration_key = in->integration_key,
        .config = config,
        .created_at = in->created_at,
        .updated_at = in->updated_at,
        .deleted_at = in->deleted_at,
        .signing_secret = in->signing_secret,
        .prev_signing_secret = in->prev_signing_secret,
        .prev_secret_expires_at = in->prev_secret_expires_at,
    };
    char key_hash[65];
    if (in->integration_key)
        ids_sha256_hex(in->integration_key, strlen(in->integration_key), key_hash);
    const char *hash = in->integration_key ? key_hash : NULL;
    if (in->integration_id == 0)
        return store_integrations_insert(txn->conn, &r, hash, &in->integration_id, err);
    return store_integrations_update(txn->conn, &r, hash, err);
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
            if (store_integrations_subscription_add(txn->conn, in->integration_id, kind, channel_id,
                                                    type ? type : "", err) != 0)
                return -1;
        }
    }
    return 0;
}

/* Delete, then insert what the config says now: cheaper to reason about
 * than a diff, and an integration holds few rows. */
static int subscriptions_rewrite(writer_txn *txn, const integration *in, tc_err *err) {
    if (store_integrations_subscriptions_clear(txn->conn, in->integration_id, err) != 0)
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
    int rc = write_row(txn, in, config, err);
    free(config);
    if (rc == 0)
        rc = subscriptions_rewrite(txn, in, err);
    return rc;
}
