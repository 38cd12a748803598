/* integrations.c: the integration calls (reference/integrations.md):
 * /integration/create, update, delete, info, list, enable, disable and
 * rotate-secret.
 *
 * Every kind lives in one table (core/integration.h). What a kind needs is
 * decided in one place, read_kind_fields(), a switch on the kind's family:
 * alert sources (alert_standard, alert_prometheus) take one channel_id,
 * change sources (change_standard) one or none, and both get a random
 * integration_key for their push URL; the pushing kinds
 * (webhook_incident, webhook_alert, custom_action) take their endpoint,
 * headers, channels, event types and delivery policy into the normalized
 * `config` (validated by api/push_config.c) and get a Standard Webhooks
 * signing secret, shown once by create and afterwards to administrators.
 *
 * What needs the store is checked inside the writer command, so that two
 * requests at once cannot both pass: unique names, live channels, and at
 * most 3 custom actions per channel. integration_save rewrites a webhook's
 * subscriptions in the same command; after the commit the dispatcher is
 * told to reload the integration's settings.
 *
 * Changing integrations is for administrators only; any key may read them,
 * but only an administrator sees the integration_key (it lets anyone push
 * alerts) and the signing secrets. Header values that look secret are
 * masked for everyone. The key of a disabled or deleted alert source is
 * refused at push time because the ingest engine accepts only status
 * 'enabled'. */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/params.h"
#include "api/push_config.h"
#include "core/channel.h"
#include "core/integration.h"
#include "core/self_alerts.h"
#include "delivery/dispatcher.h"
#include "delivery/signature.h"
#include "store/integrations.h"
#include "util/clock.h"
#include "util/doc.h"
#include "util/ids.h"
#include "util/jbuild.h"

#define CUSTOM_ACTIONS_PER_CHANNEL 3

typedef enum { FAMILY_ALERT_SOURCE, FAMILY_PUSHING } kind_family;

typedef struct {
    const char *type;
    kind_family family;
    const char *push_path; /* alert sources: where their events are pushed */
    int channel_optional;  /* a source that may route to no channel */
} integration_kind;

static const integration_kind kinds[] = {
    {"alert_standard", FAMILY_ALERT_SOURCE, "/event/push/alert/standard", 0},
    {"alert_prometheus", FAMILY_ALERT_SOURCE, "/event/push/alert/prometheus", 0},
    {"webhook_incident", FAMILY_PUSHING, NULL, 0},
    {"webhook_alert", FAMILY_PUSHING, NULL, 0},
    {"custom_action", FAMILY_PUSHING, NULL, 0},
    /* Change events push like an alert source (a key, a push URL); the key
     * is checked against the type, so it pushes changes only. Changes need
     * no channel, but only those of a channel show beside its incidents. */
    {"change_standard", FAMILY_ALERT_SOURCE, "/event/push/change/standard", 1},
};
#define KIND_COUNT (sizeof(kinds) / sizeof(kinds[0]))

/* The `type` names for params_enum, in the order of kinds[]. */
static const char *const kind_names[] = {"alert_standard",
                                         "alert_prometheus",
                                         "webhook_incident",
                                         "webhook_alert",
                                         "custom_action",
                                         "change_standard",
                                         NULL};

static const integration_kind *kind_find(const char *type) {
    for (size_t i = 0; i < KIND_COUNT; i++) {
        if (strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    }
    return NULL;
}

/* The dispatcher keeps each pushing integration's settings in memory; it
 * rereads them after any committed change. */
static void notify_dispatcher(api_ctx *ctx, const char *type) {
    if (integration_is_pushing(type) && ctx->app->d)
        dispatcher_reload(ctx->app->d);
}

/* What a create or update asks for, validated. */
typedef struct {
    int64_t integration_id; /* update, enable... */
    const integration_kind *kind;
    char *name, *description; /* NULL: not given (update) */
    int64_t channel_id;       /* alert sources; 0: not given */
    json_t *patch;            /* pushing kinds: the config fields given */
    const char *status;       /* set_status_cmd: the target */
    tc_person person;         /* who asks (disabled_reason) */
    int is_admin;             /* who asks may see keys and secrets */
    integration result;       /* what was saved */
    /* The answer, built by the command from what it saved: it exists iff
     * the change does (a secret shown once is never lost to a failure
     * after the commit). */
    json_t *answer;
} integration_request;

static void request_clear(integration_request *r) {
    free(r->name);
    free(r->description);
    json_decref(r->patch);
    json_decref(r->answer);
    integration_clear(&r->result);
}

/* Hands the answer the command built to *data. */
static int request_answer(integration_request *r, json_t **data, tc_err *err) {
    json_t *answer = r->answer;
    r->answer = NULL;
    return api_answer(answer, "the answer", data, err);
}

/* The fields of one kind. Every new kind adds its case here. */
static int read_kind_fields(const integration_kind *kind, json_t *body, int creating,
                            integration_request *r, tc_err *err) {
    switch (kind->family) {
    case FAMILY_ALERT_SOURCE:
        return params_int64(body, "channel_id",
                            creating && !kind->channel_optional ? PARAM_REQUIRED : PARAM_OPTIONAL,
                            1, INT64_MAX, &r->channel_id, err);
    case FAMILY_PUSHING:
        return push_config_read(kind->type, body, creating, &r->patch, err);
    }
    return tc_err_set(err, TC_INTERNAL, "integration kind %s has no rules", kind->type);
}

static int read_common_fields(json_t *body, int creating, integration_request *r, tc_err *err) {
    if (params_string(body, "name", creating ? PARAM_REQUIRED : PARAM_OPTIONAL,
                      INTEGRATION_NAME_MAX, PARAM_REFUSE, &r->name, err) != 0 ||
        params_string(body, "description", PARAM_OPTIONAL, INTEGRATION_DESCRIPTION_MAX,
                      PARAM_REFUSE, &r->description, err) != 0)
        return -1;
    if (r->name && !*r->name)
        return tc_err_set(err, TC_INVALID_PARAMETER, "name must not be empty");
    return 0;
}

static int read_integration_id(json_t *body, int64_t *id, tc_err *err) {
    return params_int64(body, "integration_id", PARAM_REQUIRED, 1, INT64_MAX, id, err);
}

/* Alert sources send into one channel, which must exist and be kept. */
static int check_channel(writer_txn *txn, int64_t channel_id, tc_err *err) {
    json_t *doc = NULL;
    int rc = channel_load_live(txn->conn, channel_id, "cannot take integrations", &doc, err);
    json_decref(doc);
    return rc;
}

/* Loads the integration, refusing a deleted one (`action` says what was
 * refused). */
static int load_live(writer_txn *txn, int64_t id, const char *action, integration *out,
                     tc_err *err) {
    if (integration_load(txn->conn, id, out, err) != 0)
        return -1;
    if (strcmp(out->status, "deleted") == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "integration_id %lld is deleted and %s",
                          (long long)id, action);
    return 0;
}

/* Pushing kinds: store checks ------------------------------------------- */

static int ids_contain(json_t *ids, int64_t id) {
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        if (json_integer_value(v) == id)
            return 1;
    }
    return 0;
}

/* Every channel newly named in channel_ids must exist and be kept; those
 * already there before (old_ids) may have been deleted since, and an
 * update that leaves them is not refused for it. */
static int check_push_channels(writer_txn *txn, json_t *config, json_t *old_ids, tc_err *err) {
    json_t *ids = json_object_get(config, "channel_ids");
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        if (ids_contain(old_ids, json_integer_value(v)))
            continue;
        if (check_channel(txn, json_integer_value(v), err) != 0) {
            if (err->code != TC_INVALID_PARAMETER)
                return -1; /* the store failed: not the request's fault */
            char why[sizeof(err->message)];
            snprintf(why, sizeof(why), "%s", err->message);
            return tc_err_set(err, TC_INVALID_PARAMETER, "channel_ids[%zu]: %s", i, why);
        }
    }
    return 0;
}

typedef struct {
    json_t *mine; /* the channel ids of the integration checked */
    int *counts;  /* per channel of mine: the other custom actions naming it */
} shared_count;

/* Adds, for each of `mine`, whether the stored config of another custom
 * action names it. */
static int count_shared_channels(void *arg, const store_integration_config *other, tc_err *err) {
    shared_count *sc = arg;
    json_t *cfg = NULL;
    if (doc_parse_n(other->config, "integration_config", other->integration_id, &cfg, err) != 0)
        return -1;
    json_t *theirs = json_object_get(cfg, "channel_ids");
    size_t i;
    json_t *v;
    json_array_foreach(sc->mine, i, v) {
        sc->counts[i] += ids_contain(theirs, json_integer_value(v));
    }
    json_decref(cfg);
    return 0;
}

/* A channel holds at most 3 custom actions (disabled ones included: they
 * may be enabled again without a check). Counted here, in the command, so
 * two creates at once cannot both take the last place. */
static int check_custom_action_limit(writer_txn *txn, const integration *in, tc_err *err) {
    if (strcmp(in->type, "custom_action") != 0)
        return 0;
    json_t *mine = json_object_get(in->config, "channel_ids");
    size_t n = json_array_size(mine);
    int *counts = calloc(n ? n : 1, sizeof(*counts));
    int rc = -1;
    if (!counts)
        return tc_err_oom(err, "counting custom actions");
    shared_count sc = {mine, counts};
    if (store_integrations_each_custom_action(txn->conn, in->integration_id, count_shared_channels,
                                              &sc, err) != 0)
        goto out;
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (counts[i] >= CUSTOM_ACTIONS_PER_CHANNEL)
            rc = tc_err_set(err, TC_INVALID_PARAMETER,
                            "channel_ids[%zu]: channel %lld already has %d custom actions (at "
                            "most %d per channel)",
                            i, (long long)json_integer_value(json_array_get(mine, i)), counts[i],
                            CUSTOM_ACTIONS_PER_CHANNEL);
    }
out:
    free(counts);
    return rc;
}

/* Lays the request's patch over base into in->config and checks it against
 * the store. old_ids: the channels the integration had (update), or NULL. */
static int apply_push_config(writer_txn *txn, integration_request *r, json_t *base, json_t *old_ids,
                             integration *in, tc_err *err) {
    json_t *config = push_config_apply(base, r->patch);
    if (!config)
        return tc_err_oom(err, "an integration's config");
    json_decref(in->config);
    in->config = config;
    if (check_push_channels(txn, config, old_ids, err) != 0 ||
        check_custom_action_limit(txn, in, err) != 0)
        return -1;
    return 0;
}

static int new_secret(char **field, tc_err *err) {
    char secret[SIGNATURE_SECRET_MAX];
    if (signature_secret_new(secret, err) != 0)
        return -1;
    return integration_set_str(field, secret, err);
}

/* Responses ------------------------------------------------------------- */

/* The push URL of an alert source, or NULL for other kinds (and when out
 * of memory: callers call it only for alert sources). */
static json_t *push_url(const tc_config *cfg, const integration *in) {
    const integration_kind *kind = kind_find(in->type);
    if (!kind || !kind->push_path || !in->integration_key)
        return NULL;
    char url[2048];
    snprintf(url, sizeof(url), "%s%s?integration_key=%s", cfg->base_url, kind->push_path,
             in->integration_key);
    return json_string(url);
}

/* The secrets, for administrators: the current one, and the previous one
 * while it still signs. */
static void add_secrets(json_t *o, const integration *in, int *failed) {
    if (in->signing_secret)
        jb_set(o, "signing_secret", json_string(in->signing_secret), failed);
    if (in->prev_signing_secret && in->prev_secret_expires_at > clock_now_s()) {
        jb_set(o, "prev_signing_secret", json_string(in->prev_signing_secret), failed);
        jb_set(o, "prev_secret_expires_at", json_integer(in->prev_secret_expires_at), failed);
    }
}

/* A pushing integration: its config laid over the defaults (so a field is
 * never missing), secret-looking header values masked. */
static void pushing_json(int is_admin, const integration *in, json_t *o, int *failed) {
    static const char *const fields[] = {
        "endpoint",      "headers", "tls_verify", "timeout_ms", "channel_ids", "event_types",
        "body_template", "retry",   "ordered",    "signing",    NULL};
    json_t *config = jb_check(push_config_defaults(in->type), failed);
    if (config && json_object_update(config, in->config) != 0)
        *failed = 1;
    jb_set(config, "headers", push_config_shown_headers(json_object_get(config, "headers")),
           failed);
    for (int i = 0; fields[i]; i++)
        jb_set_ref(o, fields[i], json_object_get(config, fields[i]), failed);
    json_decref(config);
    if (is_admin)
        add_secrets(o, in, failed);
}

/* One integration as info and list show it, or NULL when out of memory.
 * The key (and the URL holding it) and the signing secrets are shown to
 * administrators only. */
static json_t *integration_json(const tc_config *cfg, int is_admin, const integration *in) {
    int failed = 0;
    json_t *o = jb_check(json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "integration_id",
                                   (json_int_t)in->integration_id, "type", in->type, "name",
                                   in->name ? in->name : "", "description",
                                   in->description ? in->description : "", "status", in->status,
                                   "created_at", (json_int_t)in->created_at, "updated_at",
                                   (json_int_t)in->updated_at, "disabled_reason",
                                   in->disabled_reason ? in->disabled_reason : ""),
                         &failed);
    if (integration_is_pushing(in->type)) {
        pushing_json(is_admin, in, o, &failed);
    } else {
        jb_set(o, "channel_id", json_integer(in->channel_id), &failed);
        if (is_admin && in->integration_key) {
            jb_set(o, "integration_key", json_string(in->integration_key), &failed);
            jb_set(o, "push_url", push_url(cfg, in), &failed);
        }
    }
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* What /integration/create answers: the id, and what is shown only now or
 * to administrators: the key with its push URL, the signing secret. */
static json_t *created_json(const tc_config *cfg, const integration *in) {
    int failed = 0;
    json_t *d =
        jb_check(json_pack("{s:I}", "integration_id", (json_int_t)in->integration_id), &failed);
    if (in->integration_key) {
        jb_set(d, "integration_key", json_string(in->integration_key), &failed);
        jb_set(d, "push_url", push_url(cfg, in), &failed);
    }
    if (in->signing_secret)
        jb_set(d, "signing_secret", json_string(in->signing_secret), &failed);
    if (failed) {
        json_decref(d);
        return NULL;
    }
    return d;
}

/* Commands -------------------------------------------------------------- */

static int create_alert_source(writer_txn *txn, integration_request *r, integration *in,
                               tc_err *err) {
    char key[2 * INTEGRATION_KEY_BYTES + 1];
    /* channel_id 0: a change source that routes to no channel. */
    if (r->channel_id && check_channel(txn, r->channel_id, err) != 0)
        return -1;
    if (ids_random_hex(key, INTEGRATION_KEY_BYTES) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make an integration key");
    in->channel_id = r->channel_id;
    return integration_set_str(&in->integration_key, key, err);
}

static int create_pushing(writer_txn *txn, integration_request *r, integration *in, tc_err *err) {
    json_t *defaults = push_config_defaults(in->type);
    int rc = apply_push_config(txn, r, defaults, NULL, in, err);
    json_decref(defaults);
    if (rc == 0)
        rc = new_secret(&in->signing_secret, err);
    return rc;
}

static int create_cmd(writer_txn *txn, void *argp, tc_err *err) {
    integration_request *r = argp;
    integration *in = &r->result;
    integration_clear(in);
    snprintf(in->type, sizeof(in->type), "%s", r->kind->type);
    if (integration_name_free(txn->conn, in->type, r->name, 0, err) != 0 ||
        integration_set_str(&in->name, r->name, err) != 0 ||
        integration_set_str(&in->description, r->description ? r->description : "", err) != 0)
        return -1;
    int rc = r->kind->family == FAMILY_ALERT_SOURCE ? create_alert_source(txn, r, in, err)
                                                    : create_pushing(txn, r, in, err);
    if (rc != 0 || integration_save(txn, in, err) != 0)
        return -1;
    json_decref(r->answer);
    r->answer = created_json(txn->cfg, in);
    return r->answer ? 0 : tc_err_oom(err, "the answer");
}

static int update_pushing(writer_txn *txn, integration_request *r, integration *in, tc_err *err) {
    json_t *stored = json_incref(in->config);
    int rc = apply_push_config(txn, r, stored, json_object_get(stored, "channel_ids"), in, err);
    json_decref(stored);
    return rc;
}

static int update_cmd(writer_txn *txn, void *argp, tc_err *err) {
    integration_request *r = argp;
    integration *in = &r->result;
    integration_clear(in);
    if (load_live(txn, r->integration_id, "cannot be updated", in, err) != 0)
        return -1;
    if (r->name &&
        (integration_name_free(txn->conn, in->type, r->name, in->integration_id, err) != 0 ||
         integration_set_str(&in->name, r->name, err) != 0))
        return -1;
    if (r->description && integration_set_str(&in->description, r->description, err) != 0)
        return -1;
    /* r->kind is the stored kind: the handler read it to validate fields. */
    if (r->kind->family == FAMILY_ALERT_SOURCE && r->channel_id) {
        if (check_channel(txn, r->channel_id, err) != 0)
            return -1;
        in->channel_id = r->channel_id;
    }
    if (r->kind->family == FAMILY_PUSHING && update_pushing(txn, r, in, err) != 0)
        return -1;
    if (integration_save(txn, in, err) != 0)
        return -1;
    json_decref(r->answer);
    r->answer = integration_json(txn->cfg, r->is_admin, in);
    return r->answer ? 0 : tc_err_oom(err, "the answer");
}

static int set_status_cmd(writer_txn *txn, void *argp, tc_err *err) {
    integration_request *r = argp;
    integration *in = &r->result;
    integration_clear(in);
    int deleting = strcmp(r->status, "deleted") == 0;
    int enabling = strcmp(r->status, "enabled") == 0;
    const char *action = deleting   ? "cannot be deleted again"
                         : enabling ? "cannot be enabled"
                                    : "cannot be disabled";
    if (load_live(txn, r->integration_id, action, in, err) != 0)
        return -1;
    if (enabling && in->channel_id && check_channel(txn, in->channel_id, err) != 0)
        return -1;
    char reason[400] = "";
    if (strcmp(r->status, "disabled") == 0)
        snprintf(reason, sizeof(reason), "disabled by %s (person %lld)", r->person.person_name,
                 (long long)r->person.person_id);
    if (!deleting && integration_set_str(&in->disabled_reason, reason, err) != 0)
        return -1;
    if (deleting)
        in->deleted_at = txn->now_ms / 1000;
    snprintf(in->status, sizeof(in->status), "%s", r->status);
    if (integration_save(txn, in, err) != 0)
        return -1;
    return deleting ? self_alerts_forget(txn, txn->cfg, in->integration_id, in->name, err) : 0;
}

/* The old secret keeps signing for 24 hours, so receivers can switch
 * without losing a push; a second rotation within them drops the oldest. */
static int rotate_secret_cmd(writer_txn *txn, void *argp, tc_err *err) {
    integration_request *r = argp;
    integration *in = &r->result;
    integration_clear(in);
    if (load_live(txn, r->integration_id, "has no secret to rotate", in, err) != 0)
        return -1;
    if (!integration_is_pushing(in->type))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "integration_id %lld is %s, which has no signing secret (only "
                          "webhook_incident, webhook_alert and custom_action do)",
                          (long long)in->integration_id, in->type);
    char *old = in->signing_secret;
    in->signing_secret = NULL;
    free(in->prev_signing_secret);
    in->prev_signing_secret = old;
    in->prev_secret_expires_at = old ? txn->now_ms / 1000 + INTEGRATION_PREV_SECRET_TTL_S : 0;
    if (new_secret(&in->signing_secret, err) != 0 || integration_save(txn, in, err) != 0)
        return -1;
    json_decref(r->answer);
    r->answer = json_pack("{s:s}", "signing_secret", in->signing_secret);
    return r->answer ? 0 : tc_err_oom(err, "the answer");
}

/* Handlers ------------------------------------------------------------- */

static int integration_create(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    integration_request r = {0};
    const char *type = NULL;
    int rc = -1;
    integration_init(&r.result);
    if (api_require_admin(ctx, "create integrations", err) != 0 ||
        params_enum(body, "type", PARAM_REQUIRED, kind_names, &type, err) != 0)
        goto out;
    r.kind = kind_find(type);
    if (read_kind_fields(r.kind, body, 1, &r, err) != 0 ||
        read_common_fields(body, 1, &r, err) != 0 ||
        writer_run(ctx->app->w, create_cmd, &r, err) != 0)
        goto out;
    notify_dispatcher(ctx, r.result.type);
    rc = request_answer(&r, data, err);
out:
    request_clear(&r);
    return rc;
}

/* The kind of a stored integration, deleted ones included. */
static int stored_kind(api_ctx *ctx, int64_t id, const integration_kind **kind, tc_err *err) {
    integration in;
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = integration_load(c, id, &in, err);
    store_reader_release(ctx->app->st, c);
    if (rc != 0)
        return -1;
    *kind = kind_find(in.type);
    if (!*kind)
        rc = tc_err_set(err, TC_INTERNAL, "integration %lld has unknown type %s", (long long)id,
                        in.type);
    integration_clear(&in);
    return rc;
}

static int integration_update(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    integration_request r = {0};
    const integration_kind *stored = NULL;
    const char *type = NULL;
    int rc = -1;
    integration_init(&r.result);
    if (api_require_admin(ctx, "update integrations", err) != 0 ||
        read_integration_id(body, &r.integration_id, err) != 0 ||
        params_enum(body, "type", PARAM_OPTIONAL, kind_names, &type, err) != 0 ||
        read_common_fields(body, 0, &r, err) != 0)
        goto out;
    /* The kind's own fields follow the stored type. A type never changes, so
     * reading it before the command cannot race with another update. */
    if (stored_kind(ctx, r.integration_id, &stored, err) != 0)
        goto out;
    if (type && strcmp(type, stored->type) != 0) {
        tc_err_set(err, TC_INVALID_PARAMETER, "type cannot be changed: integration %lld is %s",
                   (long long)r.integration_id, stored->type);
        goto out;
    }
    r.kind = stored;
    r.is_admin = ctx->is_admin;
    if (read_kind_fields(stored, body, 0, &r, err) != 0)
        goto out;
    if (writer_run(ctx->app->w, update_cmd, &r, err) != 0)
        goto out;
    notify_dispatcher(ctx, r.result.type);
    rc = request_answer(&r, data, err);
out:
    request_clear(&r);
    return rc;
}

static int change_status(api_ctx *ctx, json_t *body, const char *status, const char *what,
                         json_t **data, tc_err *err) {
    integration_request r = {.status = status, .person = ctx->person};
    int rc = -1;
    integration_init(&r.result);
    if (api_require_admin(ctx, what, err) != 0 ||
        read_integration_id(body, &r.integration_id, err) != 0 ||
        api_run_empty(ctx, set_status_cmd, &r, data, err) != 0)
        goto out;
    notify_dispatcher(ctx, r.result.type);
    rc = 0;
out:
    request_clear(&r);
    return rc;
}

static int integration_delete(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return change_status(ctx, body, "deleted", "delete integrations", data, err);
}

static int integration_enable(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return change_status(ctx, body, "enabled", "enable integrations", data, err);
}

static int integration_disable(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return change_status(ctx, body, "disabled", "disable integrations", data, err);
}

static int integration_rotate_secret(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    integration_request r = {0};
    int rc = -1;
    integration_init(&r.result);
    if (api_require_admin(ctx, "rotate the secrets of integrations", err) != 0 ||
        read_integration_id(body, &r.integration_id, err) != 0 ||
        writer_run(ctx->app->w, rotate_secret_cmd, &r, err) != 0)
        goto out;
    notify_dispatcher(ctx, r.result.type);
    rc = request_answer(&r, data, err);
out:
    request_clear(&r);
    return rc;
}

static int integration_info(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    int64_t id = 0;
    if (read_integration_id(body, &id, err) != 0)
        return -1;
    integration in;
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = integration_load(c, id, &in, err);
    store_reader_release(ctx->app->st, c);
    if (rc != 0)
        return -1;
    rc = api_answer(integration_json(ctx->app->cfg, ctx->is_admin, &in), "an integration", data,
                    err);
    integration_clear(&in);
    return rc;
}

/* List ------------------------------------------------------------------ */

typedef struct {
    const char *type;   /* "" = any */
    int64_t channel_id; /* 0 = any */
    const char *status; /* "" = any but deleted */
    int64_t p, limit;
} list_filter;

static int read_list_filter(json_t *body, list_filter *f, tc_err *err) {
    static const char *const statuses[] = {"enabled", "disabled", "deleted", NULL};
    f->type = "";
    f->status = "";
    f->channel_id = 0;
    if (params_enum(body, "type", PARAM_OPTIONAL, kind_names, &f->type, err) != 0 ||
        params_int64(body, "channel_id", PARAM_OPTIONAL, 1, INT64_MAX, &f->channel_id, err) != 0 ||
        params_enum(body, "status", PARAM_OPTIONAL, statuses, &f->status, err) != 0 ||
        params_page(body, 100, 20, &f->p, &f->limit, err) != 0)
        return -1;
    return 0;
}

static int add_id(void *ids, int64_t integration_id, tc_err *err) {
    if (json_array_append_new(ids, json_integer(integration_id)) != 0)
        return tc_err_oom(err, "an integration list");
    return 0;
}

/* Type and status are filtered in SQL, the channel here (serves_channel). */
static int matching_ids(store_conn *c, const list_filter *f, json_t *ids, tc_err *err) {
    return store_integrations_list_ids(c, f->type, f->status, add_id, ids, err);
}

/* The channel filter: an alert source sends into its channel; a pushing
 * integration serves the channels of its config, and a webhook with no
 * channels serves them all. */
static int serves_channel(const integration *in, int64_t channel_id) {
    if (channel_id == 0)
        return 1;
    if (!integration_is_pushing(in->type))
        return in->channel_id == channel_id;
    json_t *ids = json_object_get(in->config, "channel_ids");
    if (json_array_size(ids) == 0)
        return strcmp(in->type, "custom_action") != 0;
    return ids_contain(ids, channel_id);
}

/* Walks the matches in id order, counting those that serve the channel and
 * showing the ones on the requested page. */
static int list_page(api_ctx *ctx, store_conn *c, const list_filter *f, json_t *items,
                     int64_t *total, tc_err *err) {
    json_t *ids = json_array();
    int64_t first = (f->p - 1) * f->limit;
    int rc = ids ? matching_ids(c, f, ids, err) : tc_err_oom(err, "an integration list");
    size_t i;
    json_t *id;
    *total = 0;
    json_array_foreach(ids, i, id) {
        integration in;
        if (rc != 0 || (rc = integration_load(c, json_integer_value(id), &in, err)) != 0)
            break;
        if (serves_channel(&in, f->channel_id)) {
            if (*total >= first && *total < first + f->limit &&
                json_array_append_new(items, integration_json(ctx->app->cfg, ctx->is_admin, &in)) !=
                    0)
                rc = tc_err_oom(err, "an integration list");
            (*total)++;
        }
        integration_clear(&in);
    }
    json_decref(ids);
    return rc;
}

static int integration_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    list_filter f;
    if (read_list_filter(body, &f, err) != 0)
        return -1;
    int64_t total = 0;
    json_t *items = json_array();
    if (!items)
        return tc_err_oom(err, "an integration list");
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = list_page(ctx, c, &f, items, &total, err);
    store_reader_release(ctx->app->st, c);
    if (rc != 0) {
        json_decref(items);
        return -1;
    }
    return api_answer(json_pack("{s:o, s:I, s:b}", "items", items, "total", (json_int_t)total,
                                "has_next_page", f.p * f.limit < total),
                      "an integration list", data, err);
}

const api_route api_integration_routes[] = {
    {"/integration/create", integration_create, API_AUTH_APP_KEY},
    {"/integration/update", integration_update, API_AUTH_APP_KEY},
    {"/integration/delete", integration_delete, API_AUTH_APP_KEY},
    {"/integration/info", integration_info, API_AUTH_APP_KEY},
    {"/integration/list", integration_list, API_AUTH_APP_KEY},
    {"/integration/enable", integration_enable, API_AUTH_APP_KEY},
    {"/integration/disable", integration_disable, API_AUTH_APP_KEY},
    {"/integration/rotate-secret", integration_rotate_secret, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
