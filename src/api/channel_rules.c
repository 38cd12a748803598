/* channel_rules.c: the Open API of a channel's drop, silence and inhibit
 * rules: /channel/{unsubscribe,silence,inhibit}/rule/{list,create,update,
 * delete,enable,disable} (reference/rules.md, oncall-openapi.rules.json).
 *
 * A handler validates the whole request on its own thread, the kind's
 * fields by compiling them exactly as the writer's cache will
 * (core/channel_rules.h: a bad regex is refused with PCRE2's message), then
 * hands a finished row to a writer command, which checks what only the
 * store knows (the channel and rule exist) and saves. Saving marks the
 * configuration changed (state_config_changed and a 'c' change record), so
 * this node's cache recompiles the rules and other nodes' caches do too.
 *
 * Update replaces the whole rule (tocsin's decisions). Unknown channel or
 * rule ids are ResourceNotFound (HTTP 400). Writes need "Channels Manage"
 * (administrators), except on the drop-rule paths, which take any valid
 * app_key as the reference says; lists are open to every key.
 *
 * Quick silence: a silence created with from_incident_id (the incident's
 * channel, a one-off window) is the incident's quick silence. A second one
 * for the same incident edits that rule instead of adding another, and it
 * is deleted by the writer's timer once its window has ended
 * (core/timers.c, quick_silences_expire). */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/params.h"
#include "core/channel_rules.h"
#include "core/state.h"
#include "store/channel_rules.h"
#include "store/channels.h"
#include "store/incidents.h"
#include "util/clock.h"
#include "util/doc.h"
#include "util/ids.h"
#include "util/jbuild.h"

#define RULE_NAME_MAX 39
#define RULE_DESCRIPTION_MAX 500
#define PRIORITY_MIN (-2147483647 - 1)
#define PRIORITY_MAX 2147483647

/* ---- checks the store answers (on the writer's or a reader's connection) ------------- */

static int channel_found(void *arg, const store_channel_brief *ch, tc_err *err) {
    (void)arg, (void)ch, (void)err;
    return 0;
}

static int channel_exists(store_conn *c, int64_t channel_id, tc_err *err) {
    int r = store_channels_brief(c, channel_id, channel_found, NULL, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return tc_err_set(err, TC_RESOURCE_NOT_FOUND, "channel_id %lld does not exist",
                          (long long)channel_id);
    return 0;
}

/* What a command needs of a stored rule. */
typedef struct {
    char status[16];
    int64_t created_at;
} rule_seen;

static int rule_found(void *arg, const store_channel_rule *r, tc_err *err) {
    (void)err;
    rule_seen *s = arg;
    snprintf(s->status, sizeof(s->status), "%s", r->status);
    s->created_at = r->created_at;
    return 0;
}

static int rule_exists(store_conn *c, int64_t channel_id, rule_kind kind, const char *rule_id,
                       rule_seen *seen, tc_err *err) {
    int r = store_channel_rules_get(c, channel_id, rule_kind_name(kind), rule_id, rule_found, seen,
                                    err);
    if (r < 0)
        return -1;
    if (r == 0)
        return tc_err_set(err, TC_RESOURCE_NOT_FOUND,
                          "rule_id %s does not exist among the %s rules of channel_id %lld",
                          rule_id, rule_kind_name(kind), (long long)channel_id);
    return 0;
}

/* The configuration changed: this cache recompiles, other nodes' too. */
static void rules_changed(writer_txn *txn) {
    if (txn->state)
        state_config_changed(txn->state);
    store_batch_note(txn->conn, 'c', "");
}

/* ---- writer commands ------------------------------------------------------------- */

typedef struct {
    rule_kind kind;
    int64_t channel_id;
    char rule_id[IDS_OBJECT_LEN + 1];
    char *rule_name, *description, *body;
    int64_t priority, person_id, expires_at;
    char from_incident_id[IDS_OBJECT_LEN + 1];
    const char *status; /* enable/disable/delete: "enabled", "disabled", "deleted" */
    json_t *answer;     /* create: built in the command, so it exists iff the rule does */
} rule_change;

static void rule_change_clear(rule_change *a) {
    free(a->rule_name);
    free(a->description);
    free(a->body);
}

static store_channel_rule row_of(const rule_change *a, int64_t now) {
    store_channel_rule r = {.rule_id = a->rule_id,
                            .channel_id = a->channel_id,
                            .kind = rule_kind_name(a->kind),
                            .rule_name = a->rule_name,
                            .description = a->description,
                            .priority = a->priority,
                            .status = "enabled",
                            .body = a->body,
                            .from_incident_id = a->from_incident_id,
                            .updated_by = a->person_id,
                            .created_at = now,
                            .updated_at = now,
                            .expires_at = a->expires_at};
    return r;
}

/* The incident a quick silence is made from: it must exist in the channel. */
static int incident_in_channel(store_conn *c, const rule_change *a, tc_err *err) {
    tc_incident inc;
    tc_err ignored = {0};
    if (store_incidents_load(c, a->from_incident_id, 0, &inc, &ignored) != 0)
        return tc_err_set(err, TC_RESOURCE_NOT_FOUND, "from_incident_id %s does not exist",
                          a->from_incident_id);
    int64_t channel = inc.channel_id;
    tc_incident_clear(&inc);
    if (channel != a->channel_id)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "from_incident_id %s belongs to channel_id %lld, not %lld",
                          a->from_incident_id, (long long)channel, (long long)a->channel_id);
    return 0;
}

static int quick_found(void *arg, const store_channel_rule *r, tc_err *err) {
    (void)err;
    snprintf(arg, IDS_OBJECT_LEN + 1, "%s", r->rule_id);
    return 0;
}

/* The create's answer, made last inside the command: when it cannot be
 * made, the command fails and its change is undone with it. */
static int create_answer(rule_change *a, tc_err *err) {
    a->answer = json_pack("{s:s, s:s}", "rule_id", a->rule_id, "rule_name", a->rule_name);
    return a->answer ? 0 : tc_err_oom(err, "the answer");
}

static int create_cmd(writer_txn *txn, void *argp, tc_err *err) {
    rule_change *a = argp;
    int64_t now = txn->now_ms / 1000;
    if (channel_exists(txn->conn, a->channel_id, err) != 0)
        return -1;
    store_channel_rule row = row_of(a, now);
    if (a->from_incident_id[0]) {
        if (incident_in_channel(txn->conn, a, err) != 0)
            return -1;
        char existing[IDS_OBJECT_LEN + 1] = "";
        int r = store_channel_rules_quick_of(txn->conn, a->from_incident_id, quick_found, existing,
                                             err);
        if (r < 0)
            return -1;
        if (r == 1) { /* the incident's quick silence: edited, not repeated */
            memcpy(a->rule_id, existing, sizeof(a->rule_id));
            rules_changed(txn);
            return store_channel_rules_update(txn->conn, &row, err) != 0 ? -1
                                                                         : create_answer(a, err);
        }
    }
    if (ids_object_new(a->rule_id) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make a rule id");
    rules_changed(txn);
    return store_channel_rules_insert(txn->conn, &row, err) != 0 ? -1 : create_answer(a, err);
}

static int update_cmd(writer_txn *txn, void *argp, tc_err *err) {
    rule_change *a = argp;
    rule_seen seen;
    if (channel_exists(txn->conn, a->channel_id, err) != 0 ||
        rule_exists(txn->conn, a->channel_id, a->kind, a->rule_id, &seen, err) != 0 ||
        (a->from_incident_id[0] && incident_in_channel(txn->conn, a, err) != 0))
        return -1;
    store_channel_rule row = row_of(a, txn->now_ms / 1000);
    rules_changed(txn);
    return store_channel_rules_update(txn->conn, &row, err);
}

static int status_cmd(writer_txn *txn, void *argp, tc_err *err) {
    rule_change *a = argp;
    rule_seen seen;
    int64_t now = txn->now_ms / 1000;
    if (channel_exists(txn->conn, a->channel_id, err) != 0 ||
        rule_exists(txn->conn, a->channel_id, a->kind, a->rule_id, &seen, err) != 0)
        return -1;
    rules_changed(txn);
    if (strcmp(a->status, "deleted") == 0)
        return store_channel_rules_delete(txn->conn, a->rule_id, a->person_id, now, err);
    return store_channel_rules_set_status(txn->conn, a->rule_id, a->status, a->person_id, now, err);
}

/* ---- request reading ---------------------------------------------------------------- */

static int may_write(api_ctx *ctx, rule_kind kind, const char *what, tc_err *err) {
    return kind == RULE_DROP ? 0 : api_require_admin(ctx, what, err);
}

static int read_ids(json_t *body, int with_rule, rule_change *a, tc_err *err) {
    if (params_int64(body, "channel_id", PARAM_REQUIRED, 1, INT64_MAX, &a->channel_id, err) != 0)
        return -1;
    return with_rule ? params_object_id(body, "rule_id", PARAM_REQUIRED, a->rule_id, err) : 0;
}

/* A quick silence: its incident, and the end of its one-off window, after
 * which the timer deletes it. */
static int read_quick(json_t *body, rule_change *a, tc_err *err) {
    json_t *v = json_object_get(body, "from_incident_id");
    if (!v || json_is_null(v))
        return 0;
    /* The reference's list example shows 24 zeros for "none". */
    if (json_is_string(v) && strcmp(json_string_value(v), "000000000000000000000000") == 0)
        return 0;
    if (params_object_id(body, "from_incident_id", PARAM_OPTIONAL, a->from_incident_id, err) != 0)
        return -1;
    json_t *once = json_object_get(body, "time_filter");
    if (!json_is_object(once))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "from_incident_id: a quick silence takes a one-off time_filter only");
    a->expires_at = json_integer_value(json_object_get(once, "end_time"));
    return 0;
}

/* Every field of a create or update (update replaces the whole rule). */
static int read_rule(json_t *body, rule_kind kind, rule_change *a, tc_err *err) {
    a->kind = kind;
    if (params_string(body, "rule_name", PARAM_REQUIRED, RULE_NAME_MAX, PARAM_REFUSE, &a->rule_name,
                      err) != 0 ||
        params_string(body, "description", PARAM_OPTIONAL, RULE_DESCRIPTION_MAX, PARAM_REFUSE,
                      &a->description, err) != 0 ||
        params_int64(body, "priority", PARAM_OPTIONAL, PRIORITY_MIN, PRIORITY_MAX, &a->priority,
                     err) != 0)
        return -1;
    chan_rule compiled;
    if (chan_rule_compile(kind, body, &compiled, err) != 0)
        return -1;
    chan_rule_clear(&compiled);
    if (kind == RULE_SILENCE && read_quick(body, a, err) != 0)
        return -1;
    if (!(a->body = chan_rule_body(kind, body)))
        return tc_err_oom(err, "a rule");
    return 0;
}

/* ---- handlers ------------------------------------------------------------------------ */

static int rule_create(api_ctx *ctx, json_t *body, rule_kind kind, json_t **data, tc_err *err) {
    rule_change a = {.person_id = ctx->person.person_id};
    int rc = -1;
    if (may_write(ctx, kind, "create channel rules", err) == 0 && read_ids(body, 0, &a, err) == 0 &&
        read_rule(body, kind, &a, err) == 0)
        rc = writer_run(ctx->app->w, create_cmd, &a, err);
    if (rc == 0)
        *data = a.answer;
    else
        json_decref(a.answer); /* built, but its batch was not committed */
    rule_change_clear(&a);
    return rc;
}

static int rule_update(api_ctx *ctx, json_t *body, rule_kind kind, json_t **data, tc_err *err) {
    rule_change a = {.person_id = ctx->person.person_id};
    int rc = -1;
    if (may_write(ctx, kind, "update channel rules", err) == 0 && read_ids(body, 1, &a, err) == 0 &&
        read_rule(body, kind, &a, err) == 0)
        rc = api_run_empty(ctx, update_cmd, &a, data, err);
    rule_change_clear(&a);
    return rc;
}

static int rule_status(api_ctx *ctx, json_t *body, rule_kind kind, const char *status,
                       json_t **data, tc_err *err) {
    rule_change a = {.kind = kind, .person_id = ctx->person.person_id, .status = status};
    if (may_write(ctx, kind, "change channel rules", err) != 0 || read_ids(body, 1, &a, err) != 0)
        return -1;
    return api_run_empty(ctx, status_cmd, &a, data, err);
}

/* ---- list ----------------------------------------------------------------------------- */

typedef struct {
    json_t *items;
    int64_t now;
    int failed;
} list_arg;

static void put_body_fields(json_t *item, rule_kind kind, json_t *b, int *failed) {
    static const char *const drop[] = {"filters", NULL};
    static const char *const silence[] = {"filters", "time_filter", "is_directly_discard", NULL};
    static const char *const inhibit[] = {"source_filters", "target_filters", "equals",
                                          "is_directly_discard", NULL};
    const char *const *fields = kind == RULE_DROP ? drop : kind == RULE_SILENCE ? silence : inhibit;
    for (int i = 0; fields[i]; i++) {
        json_t *v = json_object_get(b, fields[i]);
        if (v)
            jb_set(item, fields[i], jb_copy(v), failed);
    }
    if (kind == RULE_SILENCE) {
        json_t *tfs = json_object_get(b, "time_filters");
        jb_set(item, "time_filters", tfs ? jb_copy(tfs) : json_array(), failed);
    }
}

static int is_effective(rule_kind kind, json_t *b, const char *status, int64_t now) {
    if (strcmp(status, "enabled") != 0)
        return 0;
    if (kind != RULE_SILENCE)
        return 1;
    rule_window w;
    tc_err ignored = {0};
    return rule_window_read(b, &w, &ignored) == 0 && rule_window_active(&w, now);
}

static int add_item(void *argp, const store_channel_rule *r, tc_err *err) {
    list_arg *l = argp;
    rule_kind kind = strcmp(r->kind, "drop") == 0      ? RULE_DROP
                     : strcmp(r->kind, "silence") == 0 ? RULE_SILENCE
                                                       : RULE_INHIBIT;
    json_t *b = NULL;
    if (doc_parse(r->body, "channel_rule", r->rule_id, &b, err) != 0)
        return -1;
    json_t *item =
        json_pack("{s:i, s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "account_id", 0,
                  "channel_id", (json_int_t)r->channel_id, "priority", (json_int_t)r->priority,
                  "rule_name", r->rule_name, "description", r->description, "status", r->status,
                  "rule_id", r->rule_id, "updated_by", (json_int_t)r->updated_by, "created_at",
                  (json_int_t)r->created_at, "updated_at", (json_int_t)r->updated_at);
    if (item) {
        put_body_fields(item, kind, b, &l->failed);
        if (kind == RULE_SILENCE) {
            if (r->from_incident_id[0])
                jb_set(item, "from_incident_id", json_string(r->from_incident_id), &l->failed);
            jb_set(item, "is_effective", json_boolean(is_effective(kind, b, r->status, l->now)),
                   &l->failed);
        }
    }
    jb_append(l->items, item, &l->failed);
    json_decref(b);
    return 0;
}

static int rule_list(api_ctx *ctx, json_t *body, rule_kind kind, json_t **data, tc_err *err) {
    int64_t channel_id = 0;
    if (params_int64(body, "channel_id", PARAM_REQUIRED, 1, INT64_MAX, &channel_id, err) != 0)
        return -1;
    list_arg l = {.items = json_array(), .now = clock_now_s()};
    if (!l.items)
        return tc_err_oom(err, "a rule list");
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = channel_exists(c, channel_id, err) != 0 ||
                     store_channel_rules_each(c, channel_id, rule_kind_name(kind), add_item, &l,
                                              err) != 0
                 ? -1
                 : 0;
    store_reader_release(ctx->app->st, c);
    if (rc == 0 && l.failed)
        rc = tc_err_oom(err, "a rule list");
    if (rc != 0) {
        json_decref(l.items);
        return -1;
    }
    return api_answer(json_pack("{s:o}", "items", l.items), "a rule list", data, err);
}

/* ---- the 18 routes ---------------------------------------------------------------- */

#define RULE_ROUTES(prefix, kind)                                                                  \
    static int prefix##_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {             \
        return rule_list(ctx, body, kind, data, err);                                              \
    }                                                                                              \
    static int prefix##_create(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {           \
        return rule_create(ctx, body, kind, data, err);                                            \
    }                                                                                              \
    static int prefix##_update(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {           \
        return rule_update(ctx, body, kind, data, err);                                            \
    }                                                                                              \
    static int prefix##_delete(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {           \
        return rule_status(ctx, body, kind, "deleted", data, err);                                 \
    }                                                                                              \
    static int prefix##_enable(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {           \
        return rule_status(ctx, body, kind, "enabled", data, err);                                 \
    }                                                                                              \
    static int prefix##_disable(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {          \
        return rule_status(ctx, body, kind, "disabled", data, err);                                \
    }

RULE_ROUTES(drop, RULE_DROP)
RULE_ROUTES(silence, RULE_SILENCE)
RULE_ROUTES(inhibit, RULE_INHIBIT)

#define ROUTE(path, fn)                                                                            \
    { path, fn, API_AUTH_APP_KEY }

const api_route api_channel_rule_routes[] = {
    ROUTE("/channel/unsubscribe/rule/list", drop_list),
    ROUTE("/channel/unsubscribe/rule/create", drop_create),
    ROUTE("/channel/unsubscribe/rule/update", drop_update),
    ROUTE("/channel/unsubscribe/rule/delete", drop_delete),
    ROUTE("/channel/unsubscribe/rule/enable", drop_enable),
    ROUTE("/channel/unsubscribe/rule/disable", drop_disable),
    ROUTE("/channel/silence/rule/list", silence_list),
    ROUTE("/channel/silence/rule/create", silence_create),
    ROUTE("/channel/silence/rule/update", silence_update),
    ROUTE("/channel/silence/rule/delete", silence_delete),
    ROUTE("/channel/silence/rule/enable", silence_enable),
    ROUTE("/channel/silence/rule/disable", silence_disable),
    ROUTE("/channel/inhibit/rule/list", inhibit_list),
    ROUTE("/channel/inhibit/rule/create", inhibit_create),
    ROUTE("/channel/inhibit/rule/update", inhibit_update),
    ROUTE("/channel/inhibit/rule/delete", inhibit_delete),
    ROUTE("/channel/inhibit/rule/enable", inhibit_enable),
    ROUTE("/channel/inhibit/rule/disable", inhibit_disable),
    {NULL, NULL, API_AUTH_NONE},
};
