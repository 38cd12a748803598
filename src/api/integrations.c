/* integrations.c: the integration calls (reference/integrations.md):
 * /integration/create, update, delete, info, list, enable, disable.
 *
 * Every kind lives in one table (core/integration.h). What a kind needs is
 * decided in one place, read_kind_fields(), a switch on the kind's family:
 * alert sources (alert_standard, alert_prometheus) take one channel_id and
 * get a random integration_key for their push URL; the pushing kinds
 * (webhook_incident, webhook_alert, custom_action) will take their
 * endpoint, headers, channel_ids, event_types and policy into `config` and
 * a signing secret, and are refused until then.
 *
 * Changing integrations is for administrators only; any key may read them,
 * but only an administrator sees the integration_key (it lets anyone push
 * alerts). The key of a disabled or deleted integration is refused at push
 * time because the ingest engine accepts only status 'enabled'. */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/params.h"
#include "core/channel.h"
#include "core/integration.h"
#include "util/ids.h"

typedef enum { FAMILY_ALERT_SOURCE, FAMILY_PUSHING } kind_family;

typedef struct {
    const char *type;
    kind_family family;
    const char *push_path; /* alert sources: where their events are pushed */
} integration_kind;

static const integration_kind kinds[] = {
    {"alert_standard", FAMILY_ALERT_SOURCE, "/event/push/alert/standard"},
    {"alert_prometheus", FAMILY_ALERT_SOURCE, "/event/push/alert/prometheus"},
    {"webhook_incident", FAMILY_PUSHING, NULL},
    {"webhook_alert", FAMILY_PUSHING, NULL},
    {"custom_action", FAMILY_PUSHING, NULL},
};
#define KIND_COUNT (sizeof(kinds) / sizeof(kinds[0]))

/* The `type` names for params_enum, in the order of kinds[]. */
static const char *const kind_names[] = {"alert_standard", "alert_prometheus", "webhook_incident",
                                         "webhook_alert",  "custom_action",    NULL};

static const integration_kind *kind_find(const char *type) {
    for (size_t i = 0; i < KIND_COUNT; i++) {
        if (strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    }
    return NULL;
}

static int require_admin(api_ctx *ctx, const char *what, tc_err *err) {
    if (!ctx->is_admin)
        return tc_err_set(err, TC_ACCESS_DENIED, "only an administrator may %s integrations", what);
    return 0;
}

/* What a create or update asks for, validated. */
typedef struct {
    int64_t integration_id; /* update, enable... */
    const integration_kind *kind;
    char *name, *description; /* NULL: not given (update) */
    int64_t channel_id;       /* 0: not given */
    const char *status;       /* set_status_cmd: the target */
    tc_person person;         /* who asks (disabled_reason) */
    integration result;       /* what was saved */
} integration_request;

static void request_clear(integration_request *r) {
    free(r->name);
    free(r->description);
    integration_clear(&r->result);
}

/* The fields of one kind. Every new kind adds its case here. */
static int read_kind_fields(const integration_kind *kind, json_t *body, int creating,
                            integration_request *r, tc_err *err) {
    switch (kind->family) {
    case FAMILY_ALERT_SOURCE:
        return params_int64(body, "channel_id", creating ? PARAM_REQUIRED : PARAM_OPTIONAL, 1,
                            INT64_MAX, &r->channel_id, err);
    case FAMILY_PUSHING:
        return tc_err_set(err, TC_INVALID_PARAMETER, "type %s is not supported yet", kind->type);
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

/* Commands -------------------------------------------------------------- */

static int create_cmd(writer_txn *txn, void *argp, tc_err *err) {
    integration_request *r = argp;
    integration *in = &r->result;
    integration_clear(in);
    snprintf(in->type, sizeof(in->type), "%s", r->kind->type);
    if (integration_name_free(txn->conn, in->type, r->name, 0, err) != 0 ||
        integration_set_str(&in->name, r->name, err) != 0 ||
        integration_set_str(&in->description, r->description ? r->description : "", err) != 0)
        return -1;
    if (r->kind->family == FAMILY_ALERT_SOURCE) {
        char key[2 * INTEGRATION_KEY_BYTES + 1];
        if (check_channel(txn, r->channel_id, err) != 0)
            return -1;
        if (ids_random_hex(key, INTEGRATION_KEY_BYTES) != 0)
            return tc_err_set(err, TC_INTERNAL, "cannot make an integration key");
        in->channel_id = r->channel_id;
        if (integration_set_str(&in->integration_key, key, err) != 0)
            return -1;
    }
    return integration_save(txn, in, err);
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
    return integration_save(txn, in, err);
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
    return integration_save(txn, in, err);
}

/* Responses ------------------------------------------------------------- */

/* The push URL of an alert source, or NULL for other kinds. */
static json_t *push_url(api_ctx *ctx, const integration *in) {
    const integration_kind *kind = kind_find(in->type);
    if (!kind || !kind->push_path || !in->integration_key)
        return NULL;
    char url[2048];
    snprintf(url, sizeof(url), "%s%s?integration_key=%s", ctx->app->cfg.base_url, kind->push_path,
             in->integration_key);
    return json_string(url);
}

/* One integration as info and list show it. The key (and the URL holding
 * it) is shown to administrators only. */
static json_t *integration_json(api_ctx *ctx, const integration *in) {
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "integration_id",
                  (json_int_t)in->integration_id, "type", in->type, "name",
                  in->name ? in->name : "", "description", in->description ? in->description : "",
                  "status", in->status, "channel_id", (json_int_t)in->channel_id, "created_at",
                  (json_int_t)in->created_at, "updated_at", (json_int_t)in->updated_at,
                  "disabled_reason", in->disabled_reason ? in->disabled_reason : "");
    if (o && ctx->is_admin && in->integration_key) {
        json_object_set_new(o, "integration_key", json_string(in->integration_key));
        json_t *url = push_url(ctx, in);
        if (url)
            json_object_set_new(o, "push_url", url);
    }
    return o;
}

/* Handlers ------------------------------------------------------------- */

static int integration_create(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    integration_request r = {0};
    const char *type = NULL;
    int rc = -1;
    integration_init(&r.result);
    if (require_admin(ctx, "create", err) != 0 ||
        params_enum(body, "type", PARAM_REQUIRED, kind_names, &type, err) != 0)
        goto out;
    r.kind = kind_find(type);
    if (read_kind_fields(r.kind, body, 1, &r, err) != 0 ||
        read_common_fields(body, 1, &r, err) != 0 ||
        writer_run(ctx->app->w, create_cmd, &r, err) != 0)
        goto out;
    json_t *d = json_pack("{s:I}", "integration_id", (json_int_t)r.result.integration_id);
    if (r.result.integration_key) {
        json_object_set_new(d, "integration_key", json_string(r.result.integration_key));
        json_object_set_new(d, "push_url", push_url(ctx, &r.result));
    }
    *data = d;
    rc = 0;
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
    if (require_admin(ctx, "update", err) != 0 ||
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
    if (read_kind_fields(stored, body, 0, &r, err) != 0)
        goto out;
    if (writer_run(ctx->app->w, update_cmd, &r, err) != 0)
        goto out;
    *data = integration_json(ctx, &r.result);
    rc = 0;
out:
    request_clear(&r);
    return rc;
}

static int change_status(api_ctx *ctx, json_t *body, const char *status, const char *what,
                         json_t **data, tc_err *err) {
    integration_request r = {.status = status, .person = ctx->person};
    int rc = -1;
    integration_init(&r.result);
    if (require_admin(ctx, what, err) != 0 ||
        read_integration_id(body, &r.integration_id, err) != 0 ||
        writer_run(ctx->app->w, set_status_cmd, &r, err) != 0)
        goto out;
    *data = json_object();
    rc = 0;
out:
    request_clear(&r);
    return rc;
}

static int integration_delete(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return change_status(ctx, body, "deleted", "delete", data, err);
}

static int integration_enable(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return change_status(ctx, body, "enabled", "enable", data, err);
}

static int integration_disable(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return change_status(ctx, body, "disabled", "disable", data, err);
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
    *data = integration_json(ctx, &in);
    integration_clear(&in);
    return 0;
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

/* The filter as SQL: each condition is off when its argument is empty, so
 * one statement (prepared once) serves every combination. */
#define LIST_WHERE                                                                                 \
    " WHERE (? = '' OR type = ?) AND (? = 0 OR channel_id = ?)"                                    \
    " AND ((? = '' AND status <> 'deleted') OR status = ?)"

static void bind_filter(store_stmt *q, const list_filter *f) {
    store_bind_text(q, 1, f->type);
    store_bind_text(q, 2, f->type);
    store_bind_int64(q, 3, f->channel_id);
    store_bind_int64(q, 4, f->channel_id);
    store_bind_text(q, 5, f->status);
    store_bind_text(q, 6, f->status);
}

static int count_matching(store_conn *c, const list_filter *f, int64_t *total, tc_err *err) {
    store_stmt *q = store_prepare(c, "SELECT COUNT(*) FROM integrations" LIST_WHERE, err);
    if (!q)
        return -1;
    bind_filter(q, f);
    int step = store_step(q, err);
    *total = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    return step == STORE_ROW ? 0 : -1;
}

static int page_ids(store_conn *c, const list_filter *f, json_t *ids, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT integration_id FROM integrations" LIST_WHERE
                                  " ORDER BY integration_id LIMIT ? OFFSET ?",
                                  err);
    if (!q)
        return -1;
    bind_filter(q, f);
    store_bind_int64(q, 7, f->limit);
    store_bind_int64(q, 8, (f->p - 1) * f->limit);
    int step;
    while ((step = store_step(q, err)) == STORE_ROW)
        json_array_append_new(ids, json_integer(store_col_int64(q, 0)));
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

static int integration_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    list_filter f;
    if (read_list_filter(body, &f, err) != 0)
        return -1;
    int64_t total = 0;
    json_t *ids = json_array(), *items = json_array();
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = count_matching(c, &f, &total, err);
    if (rc == 0)
        rc = page_ids(c, &f, ids, err);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        integration in;
        if (rc != 0 || (rc = integration_load(c, json_integer_value(id), &in, err)) != 0)
            break;
        json_array_append_new(items, integration_json(ctx, &in));
        integration_clear(&in);
    }
    store_reader_release(ctx->app->st, c);
    json_decref(ids);
    if (rc != 0) {
        json_decref(items);
        return -1;
    }
    *data = json_pack("{s:o, s:I, s:b}", "items", items, "total", (json_int_t)total,
                      "has_next_page", f.p * f.limit < total);
    return 0;
}

const api_route api_integration_routes[] = {
    {"/integration/create", integration_create, API_AUTH_APP_KEY},
    {"/integration/update", integration_update, API_AUTH_APP_KEY},
    {"/integration/delete", integration_delete, API_AUTH_APP_KEY},
    {"/integration/info", integration_info, API_AUTH_APP_KEY},
    {"/integration/list", integration_list, API_AUTH_APP_KEY},
    {"/integration/enable", integration_enable, API_AUTH_APP_KEY},
    {"/integration/disable", integration_disable, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
