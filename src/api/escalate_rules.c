/* escalate_rules.c: the Open API's /channel/escalate/rule/{list, info,
 * create, update, delete, enable, disable} (reference/rules.md,
 * oncall-openapi.rules.json). What the rules do is core/escalation.h.
 *
 * A request is checked whole on the HTTP thread and turned into the rule's
 * stored form (every layer with its defaults filled in); what needs the
 * store (the channel, the rule, the people a layer names) is checked in
 * the writer command before anything is written, so a refusal changes
 * nothing. Unknown channel, rule or person ids are ResourceNotFound (HTTP
 * 400). Update replaces the whole rule (tocsin's decisions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/escalate_rules.h"

#include "api/api.h"
#include "api/params.h"
#include "core/rule_filter.h"
#include "core/rule_window.h"
#include "core/state.h"
#include "store/channels.h"
#include "store/escalations.h"
#include "store/persons.h"
#include "util/doc.h"
#include "util/ids.h"
#include "util/jbuild.h"

/* Not capped by the reference; bounds so one rule stays a small row. */
#define LAYERS_MAX 20
#define TARGET_PEOPLE_MAX 100

/* Layer defaults for omitted fields: the console's (30 minutes, no
 * repeat); notify_step 10 as in the reference's examples. */
#define DEFAULT_ESCALATE_WINDOW 30
#define DEFAULT_NOTIFY_STEP 10

/* A request's rule in its stored form. */
typedef struct {
    int64_t channel_id;
    char rule_id[IDS_OBJECT_LEN + 1];
    char *rule_name, *description;
    int64_t priority, aggr_window;
    char template_id[IDS_OBJECT_LEN + 1];
    json_t *layers, *time_filters, *filters; /* owned */
} rule_req;

static void rule_req_clear(rule_req *r) {
    free(r->rule_name);
    free(r->description);
    json_decref(r->layers);
    json_decref(r->time_filters);
    json_decref(r->filters);
    memset(r, 0, sizeof(*r));
}

static void name_at(char *out, size_t size, const char *parent, size_t i) {
    snprintf(out, size, "%s[%zu]", parent, i);
}

/* ---- target ----------------------------------------------------------------- */

static int target_refuse_unsupported(json_t *target, tc_err *err) {
    json_t *teams = json_object_get(target, "team_ids");
    json_t *sched = json_object_get(target, "schedule_to_role_ids");
    if (teams && !json_is_null(teams))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "team_ids is not supported: tocsin has no teams (name people with "
                          "person_ids or emails)");
    if (sched && !json_is_null(sched))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "schedule_to_role_ids is not supported: tocsin has no on-call "
                          "schedules (name people with person_ids or emails)");
    return 0;
}

int escalate_target_webhooks_check(json_t *target, size_t max, size_t type_max, json_t **out,
                                   tc_err *err) {
    json_t *hooks = NULL;
    *out = NULL;
    if (params_array(target, "webhooks", PARAM_OPTIONAL, 0, max, &hooks, err) != 0)
        return -1;
    size_t i;
    json_t *hook;
    json_array_foreach(hooks, i, hook) {
        char name[64];
        char *type = NULL;
        json_t *settings = NULL;
        name_at(name, sizeof(name), "webhooks", i);
        if (!json_is_object(hook))
            return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be an object", name);
        int rc = params_string(hook, "type", PARAM_REQUIRED, type_max, PARAM_REFUSE, &type, err);
        free(type);
        if (rc != 0 || params_object(hook, "settings", PARAM_REQUIRED, &settings, err) != 0)
            return params_err_nest(err, name);
    }
    *out = hooks;
    return 0;
}

int escalate_target_by_check(json_t *by, tc_err *err) {
    static const param_typed by_fields[] = {
        {"follow_preference", PARAM_TYPE_BOOL},
        {"critical", PARAM_TYPE_STRING_ARRAY},
        {"warning", PARAM_TYPE_STRING_ARRAY},
        {"info", PARAM_TYPE_STRING_ARRAY},
        {NULL, PARAM_TYPE_STRING},
    };
    return params_check_types(by, by_fields, err) != 0 ? params_err_nest(err, "by") : 0;
}

/* The stored target: person_ids, emails, by, webhooks (by and webhooks kept
 * as given: tocsin sends nothing through them). */
static int target_read(json_t *layer, json_t **out, tc_err *err) {
    json_t *target = NULL, *persons = NULL, *emails = NULL, *by = NULL, *hooks = NULL;
    *out = NULL;
    if (params_object(layer, "target", PARAM_REQUIRED, &target, err) != 0)
        return -1;
    if (target_refuse_unsupported(target, err) != 0 ||
        params_int64_array(target, "person_ids", PARAM_OPTIONAL, TARGET_PEOPLE_MAX, &persons,
                           err) != 0 ||
        params_string_array(target, "emails", PARAM_OPTIONAL, TARGET_PEOPLE_MAX, &emails, err) !=
            0 ||
        params_object(target, "by", PARAM_OPTIONAL, &by, err) != 0 ||
        (by && escalate_target_by_check(by, err) != 0) ||
        escalate_target_webhooks_check(target, 20, 64, &hooks, err) != 0)
        return params_err_nest(err, "target");
    size_t i;
    json_t *e;
    json_array_foreach(emails, i, e) {
        if (!strchr(json_string_value(e), '@'))
            return tc_err_set(err, TC_INVALID_PARAMETER, "target.emails[%zu] is not an e-mail", i);
    }
    if (json_array_size(persons) == 0 && json_array_size(emails) == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "target needs person_ids or emails (a layer without a target notifies "
                          "nobody)");
    int failed = 0;
    json_t *t = jb_check(json_object(), &failed);
    jb_set(t, "person_ids", persons ? json_deep_copy(persons) : json_array(), &failed);
    jb_set(t, "emails", emails ? json_deep_copy(emails) : json_array(), &failed);
    jb_set(t, "by", by ? json_deep_copy(by) : json_object(), &failed);
    if (hooks)
        jb_set(t, "webhooks", json_deep_copy(hooks), &failed);
    if (jb_done(failed, "an escalation target", err) != 0) {
        json_decref(t);
        return -1;
    }
    *out = t;
    return 0;
}

/* ---- layers ---------------------------------------------------------------------- */

static int notify_step_read(json_t *layer, double *out, tc_err *err) {
    json_t *v = json_object_get(layer, "notify_step");
    *out = DEFAULT_NOTIFY_STEP;
    if (!v)
        return 0;
    if (!json_is_number(v))
        return tc_err_set(err, TC_INVALID_PARAMETER, "notify_step must be a number");
    double x = json_number_value(v);
    /* 0.5..120 minutes in steps of 0.5 */
    if (x < 0.5 || x > 120 || (double)(int64_t)(x * 2) != x * 2)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "notify_step must be between 0.5 and 120 minutes, in steps of 0.5");
    *out = x;
    return 0;
}

static int layer_read(json_t *layer, json_t **out, tc_err *err) {
    int64_t window = DEFAULT_ESCALATE_WINDOW, max_times = 0;
    int force = 0;
    double step = DEFAULT_NOTIFY_STEP;
    json_t *target = NULL;
    *out = NULL;
    if (!json_is_object(layer))
        return tc_err_set(err, TC_INVALID_PARAMETER, "must be an object");
    if (params_int64(layer, "escalate_window", PARAM_OPTIONAL, 0, 720, &window, err) != 0 ||
        params_int64(layer, "max_times", PARAM_OPTIONAL, 0, 6, &max_times, err) != 0 ||
        notify_step_read(layer, &step, err) != 0 ||
        params_bool(layer, "force_escalate", PARAM_OPTIONAL, &force, err) != 0 ||
        target_read(layer, &target, err) != 0)
        return -1;
    json_t *l = json_pack("{s:I, s:f, s:o, s:I, s:b}", "max_times", (json_int_t)max_times,
                          "notify_step", step, "target", target, "escalate_window",
                          (json_int_t)window, "force_escalate", force);
    if (!l)
        return tc_err_oom(err, "an escalation layer");
    *out = l;
    return 0;
}

static int layers_read(json_t *body, json_t **out, tc_err *err) {
    json_t *layers = NULL;
    *out = NULL;
    if (params_array(body, "layers", PARAM_REQUIRED, 1, LAYERS_MAX, &layers, err) != 0)
        return -1;
    json_t *all = json_array();
    if (!all)
        return tc_err_oom(err, "escalation layers");
    size_t i;
    json_t *layer;
    json_array_foreach(layers, i, layer) {
        json_t *l = NULL;
        char name[64];
        name_at(name, sizeof(name), "layers", i);
        if (layer_read(layer, &l, err) != 0) {
            json_decref(all);
            return err->code == TC_INVALID_PARAMETER && strncmp(err->message, "must be", 7) == 0
                       ? tc_err_set(err, TC_INVALID_PARAMETER, "%s must be an object", name)
                       : params_err_nest(err, name);
        }
        if (json_array_append_new(all, l) != 0) {
            json_decref(all);
            return tc_err_oom(err, "escalation layers");
        }
    }
    *out = all;
    return 0;
}

/* ---- time filters and filters ------------------------------------------------------- */

/* The stored form of one window already read by rule_window: {start, end,
 * repeat} (repeat [] = every day); is_off is accepted and not kept. */
static json_t *window_stored(json_t *w) {
    json_t *repeat = json_object_get(w, "repeat");
    return json_pack("{s:s, s:s, s:o}", "start", json_string_value(json_object_get(w, "start")),
                     "end", json_string_value(json_object_get(w, "end")), "repeat",
                     json_is_array(repeat) ? json_deep_copy(repeat) : json_array());
}

/* Recurring windows only (oncall-openapi.rules.json has no one-off
 * time_filter for escalation), checked by the reader the channel rules
 * use, so both refuse the same input with the same messages. */
static int time_filters_read(json_t *body, json_t **out, tc_err *err) {
    json_t *list = json_object_get(body, "time_filters");
    rule_window w;
    *out = NULL;
    if (rule_window_read_recurring(list, &w, err) != 0)
        return -1;
    json_t *all = json_array();
    if (!all)
        return tc_err_oom(err, "time filters");
    size_t i;
    json_t *one;
    json_array_foreach(list, i, one) {
        if (json_array_append_new(all, window_stored(one)) != 0) {
            json_decref(all);
            return tc_err_oom(err, "time filters");
        }
    }
    *out = all;
    return 0;
}

/* Filters are compiled as the channel rules' are (PCRE2 regexes, cidr,
 * num; errors name "filters[i][j].vals[k]"), then stored as given. An
 * absent or empty list means every incident, so it is not compiled:
 * rule_filter refuses an empty list. */
static int filters_read(json_t *body, json_t **out, tc_err *err) {
    json_t *groups = json_object_get(body, "filters");
    rule_filter *f = NULL;
    *out = NULL;
    if (groups && !json_is_null(groups) && !json_is_array(groups))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "filters must be an array of condition groups");
    if (json_array_size(groups) > 0 && rule_filter_compile(groups, "filters", &f, err) != 0)
        return -1;
    rule_filter_free(f);
    *out = json_array_size(groups) > 0 ? json_deep_copy(groups) : json_array();
    return *out ? 0 : tc_err_oom(err, "filters");
}

/* ---- the request -------------------------------------------------------------------------- */

static int rule_req_read(json_t *body, int updating, rule_req *r, tc_err *err) {
    memset(r, 0, sizeof(*r));
    if (params_int64(body, "channel_id", PARAM_REQUIRED, 1, INT64_MAX, &r->channel_id, err) != 0 ||
        (updating && params_object_id(body, "rule_id", PARAM_REQUIRED, r->rule_id, err) != 0) ||
        params_string(body, "rule_name", PARAM_REQUIRED, 39, PARAM_REFUSE, &r->rule_name, err) !=
            0 ||
        params_string(body, "description", PARAM_OPTIONAL, 500, PARAM_REFUSE, &r->description,
                      err) != 0 ||
        params_int64(body, "priority", PARAM_OPTIONAL, 0, 200, &r->priority, err) != 0 ||
        params_int64(body, "aggr_window", PARAM_OPTIONAL, 0, 3600, &r->aggr_window, err) != 0 ||
        params_object_id(body, "template_id", PARAM_OPTIONAL, r->template_id, err) != 0 ||
        layers_read(body, &r->layers, err) != 0 ||
        time_filters_read(body, &r->time_filters, err) != 0 ||
        filters_read(body, &r->filters, err) != 0)
        goto fail;
    if (!*r->rule_name) {
        tc_err_set(err, TC_INVALID_PARAMETER, "rule_name must be 1 to 39 characters");
        goto fail;
    }
    return 0;
fail:
    rule_req_clear(r);
    return -1;
}

/* ---- checks against the store ------------------------------------------------------------ */

static int take_brief(void *arg, const store_channel_brief *ch, tc_err *err) {
    (void)arg;
    (void)ch;
    (void)err;
    return 0;
}

static int channel_must_exist(store_conn *c, int64_t channel_id, tc_err *err) {
    int found = store_channels_brief(c, channel_id, take_brief, NULL, err);
    if (found < 0)
        return -1;
    if (!found)
        return tc_err_set(err, TC_RESOURCE_NOT_FOUND, "channel_id %lld does not exist",
                          (long long)channel_id);
    return 0;
}

static int take_nothing(void *arg, const store_escalate_rule *r, tc_err *err) {
    (void)arg;
    (void)r;
    (void)err;
    return 0;
}

static int rule_must_exist(store_conn *c, int64_t channel_id, const char *rule_id, tc_err *err) {
    int found = store_escalate_rules_get(c, channel_id, rule_id, 0, take_nothing, NULL, err);
    if (found < 0)
        return -1;
    if (!found)
        return tc_err_set(err, TC_RESOURCE_NOT_FOUND,
                          "rule_id %s is not an escalation rule of channel %lld", rule_id,
                          (long long)channel_id);
    return 0;
}

/* Every person and e-mail a layer names must be a member; `single` names
 * the one layer of a channel's escalate_rule in messages (NULL: layers[i]). */
static int people_must_exist(store_conn *c, json_t *layers, const char *single, tc_err *err) {
    size_t i, k;
    json_t *layer, *v;
    json_array_foreach(layers, i, layer) {
        char where[48];
        if (single)
            snprintf(where, sizeof(where), "%s", single);
        else
            snprintf(where, sizeof(where), "layers[%zu]", i);
        json_t *target = json_object_get(layer, "target");
        json_array_foreach(json_object_get(target, "person_ids"), k, v) {
            int enabled = 0;
            int exists = store_persons_is_enabled(c, json_integer_value(v), &enabled, err);
            if (exists < 0)
                return -1;
            if (!exists || !enabled)
                return tc_err_set(err, TC_RESOURCE_NOT_FOUND,
                                  "%s.target.person_ids[%zu]: person %lld does not exist", where, k,
                                  (long long)json_integer_value(v));
        }
        json_array_foreach(json_object_get(target, "emails"), k, v) {
            int64_t id = 0;
            int owned = store_persons_email_owner(c, json_string_value(v), &id, err);
            if (owned < 0)
                return -1;
            if (!owned)
                return tc_err_set(err, TC_RESOURCE_NOT_FOUND,
                                  "%s.target.emails[%zu]: no member has the e-mail %s", where, k,
                                  json_string_value(v));
        }
    }
    return 0;
}

/* ---- write commands -------------------------------------------------------------------------- */

typedef struct {
    rule_req *req;
    int64_t who;
    int updating;
} save_cmd;

static void config_changed(writer_txn *txn) {
    /* The cache's count of enabled rules per channel is read again. */
    if (txn->state)
        state_config_changed(txn->state);
}

static int stored_text(json_t *v, char **out, tc_err *err) {
    *out = jb_dumps(v, JSON_COMPACT);
    return *out ? 0 : tc_err_oom(err, "an escalation rule");
}

static int run_save(writer_txn *txn, void *arg, tc_err *err) {
    save_cmd *s = arg;
    rule_req *r = s->req;
    char *layers = NULL, *windows = NULL, *filters = NULL;
    int rc = -1;
    if (channel_must_exist(txn->conn, r->channel_id, err) != 0 ||
        (s->updating && rule_must_exist(txn->conn, r->channel_id, r->rule_id, err) != 0) ||
        people_must_exist(txn->conn, r->layers, NULL, err) != 0)
        goto out;
    if (!s->updating && ids_object_new(r->rule_id) != 0) {
        tc_err_set(err, TC_INTERNAL, "no random bytes for a rule id");
        goto out;
    }
    if (stored_text(r->layers, &layers, err) != 0 ||
        stored_text(r->time_filters, &windows, err) != 0 ||
        stored_text(r->filters, &filters, err) != 0)
        goto out;
    int64_t now = txn->now_ms / 1000;
    store_escalate_rule row = {.rule_id = r->rule_id,
                               .channel_id = r->channel_id,
                               .rule_name = r->rule_name,
                               .description = r->description,
                               .priority = r->priority,
                               .aggr_window = r->aggr_window,
                               .template_id = r->template_id,
                               .layers = layers,
                               .time_filters = windows,
                               .filters = filters,
                               .status = "enabled",
                               .updated_by = s->who,
                               .created_at = now,
                               .updated_at = now};
    rc = s->updating ? store_escalate_rules_update(txn->conn, &row, err)
                     : store_escalate_rules_insert(txn->conn, &row, err);
    if (rc == 0)
        config_changed(txn);
out:
    free(layers);
    free(windows);
    free(filters);
    return rc;
}

static int save(api_ctx *ctx, json_t *body, int updating, json_t **data, tc_err *err) {
    rule_req r;
    if (rule_req_read(body, updating, &r, err) != 0)
        return -1;
    save_cmd s = {.req = &r, .who = ctx->person.person_id, .updating = updating};
    int rc = writer_run(ctx->app->w, run_save, &s, err);
    if (rc == 0)
        rc = api_answer(
            updating ? json_object()
                     : json_pack("{s:s, s:s}", "rule_id", r.rule_id, "rule_name", r.rule_name),
            "an escalation rule", data, err);
    rule_req_clear(&r);
    return rc;
}

static int h_create(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return save(ctx, body, 0, data, err);
}

static int h_update(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return save(ctx, body, 1, data, err);
}

typedef struct {
    int64_t channel_id;
    char rule_id[IDS_OBJECT_LEN + 1];
    const char *status; /* enabled | disabled | deleted */
    int64_t who;
} status_cmd;

static int run_status(writer_txn *txn, void *arg, tc_err *err) {
    status_cmd *s = arg;
    if (channel_must_exist(txn->conn, s->channel_id, err) != 0 ||
        rule_must_exist(txn->conn, s->channel_id, s->rule_id, err) != 0 ||
        store_escalate_rules_set_status(txn->conn, s->channel_id, s->rule_id, s->status, s->who,
                                        txn->now_ms / 1000, err) != 0)
        return -1;
    config_changed(txn);
    return 0;
}

static int read_rule_ref(json_t *body, int64_t *channel_id, char *rule_id, tc_err *err) {
    return params_int64(body, "channel_id", PARAM_REQUIRED, 1, INT64_MAX, channel_id, err) != 0 ||
                   params_object_id(body, "rule_id", PARAM_REQUIRED, rule_id, err) != 0
               ? -1
               : 0;
}

static int set_status(api_ctx *ctx, json_t *body, const char *status, json_t **data, tc_err *err) {
    status_cmd s = {.status = status, .who = ctx->person.person_id};
    if (read_rule_ref(body, &s.channel_id, s.rule_id, err) != 0 ||
        writer_run(ctx->app->w, run_status, &s, err) != 0)
        return -1;
    return api_answer(json_object(), "an escalation rule", data, err);
}

static int h_delete(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return set_status(ctx, body, "deleted", data, err);
}

static int h_enable(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return set_status(ctx, body, "enabled", data, err);
}

static int h_disable(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return set_status(ctx, body, "disabled", data, err);
}

/* ---- channel create's escalate_rule -------------------------------------------------------- */

int escalate_rules_default_read(json_t *escalate_rule, json_t **layers, tc_err *err) {
    json_t *layer = NULL,
           *one = json_pack("{s:O}", "target", json_object_get(escalate_rule, "target"));
    *layers = NULL;
    if (!one)
        return tc_err_oom(err, "an escalation layer");
    int rc = layer_read(one, &layer, err);
    json_decref(one);
    if (rc != 0)
        return params_err_nest(err, "escalate_rule");
    if (!(*layers = json_array())) {
        json_decref(layer);
        return tc_err_oom(err, "escalation layers");
    }
    if (json_array_append_new(*layers, layer) != 0) { /* it took layer, even failing */
        json_decref(*layers);
        *layers = NULL;
        return tc_err_oom(err, "escalation layers");
    }
    return 0;
}

int escalate_rules_default_insert(writer_txn *txn, int64_t channel_id, json_t *escalate_rule,
                                  json_t *layers, int64_t who, tc_err *err) {
    if (people_must_exist(txn->conn, layers, "escalate_rule", err) != 0)
        return -1;
    rule_req r = {.channel_id = channel_id,
                  .priority = 0,
                  .aggr_window = json_integer_value(json_object_get(escalate_rule, "aggr_window"))};
    const char *tmpl = json_string_value(json_object_get(escalate_rule, "template_id"));
    snprintf(r.template_id, sizeof(r.template_id), "%s", tmpl ? tmpl : "");
    int rc = -1;
    if (!(r.rule_name = strdup("Default")) || !(r.description = strdup("")) ||
        !(r.layers = json_deep_copy(layers)) || !(r.time_filters = json_array()) ||
        !(r.filters = json_array())) {
        tc_err_oom(err, "the Default escalation rule");
        goto out;
    }
    save_cmd s = {.req = &r, .who = who, .updating = 0};
    rc = run_save(txn, &s, err);
out:
    rule_req_clear(&r);
    return rc;
}

/* ---- reads --------------------------------------------------------------------------------------
 */

/* A stored JSON list as a value; NULL when it cannot be read (util/doc.h:
 * an InternalError, never an empty list in its place). */
static json_t *stored_list(const char *text, const char *what, const char *rule_id) {
    json_t *v = NULL;
    tc_err err;
    if (doc_parse(text && *text ? text : "[]", what, rule_id, &v, &err) != 0)
        return NULL;
    return v;
}

/* EscalateRuleItem. */
static json_t *rule_item(const store_escalate_rule *r) {
    int failed = 0;
    json_t *v = jb_check(json_object(), &failed);
    jb_set(v, "account_id", json_integer(0), &failed);
    jb_set(v, "channel_id", json_integer(r->channel_id), &failed);
    jb_set(v, "priority", json_integer(r->priority), &failed);
    jb_set(v, "aggr_window", json_integer(r->aggr_window), &failed);
    jb_set(v, "rule_name", json_string(r->rule_name), &failed);
    jb_set(v, "description", json_string(r->description), &failed);
    jb_set(v, "layers", stored_list(r->layers, "escalation_layers", r->rule_id), &failed);
    jb_set(v, "time_filters", stored_list(r->time_filters, "escalation_time_filters", r->rule_id),
           &failed);
    jb_set(v, "filters", stored_list(r->filters, "escalation_filters", r->rule_id), &failed);
    jb_set(v, "status", json_string(r->status), &failed);
    if (*r->template_id) /* optional in tocsin: absent when none was given */
        jb_set(v, "template_id", json_string(r->template_id), &failed);
    jb_set(v, "rule_id", json_string(r->rule_id), &failed);
    jb_set(v, "updated_by", json_integer(r->updated_by), &failed);
    jb_set(v, "created_at", json_integer(r->created_at), &failed);
    jb_set(v, "updated_at", json_integer(r->updated_at), &failed);
    if (r->deleted_at)
        jb_set(v, "deleted_at", json_integer(r->deleted_at), &failed);
    if (failed) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static int collect(void *arg, const store_escalate_rule *r, tc_err *err) {
    json_t *item = rule_item(r);
    if (!item || json_array_append_new(arg, item) != 0)
        return tc_err_oom(err, "an escalation rule list");
    return 0;
}

static int h_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    int64_t channel_id = 0;
    if (params_int64(body, "channel_id", PARAM_REQUIRED, 1, INT64_MAX, &channel_id, err) != 0)
        return -1;
    json_t *items = json_array();
    if (!items)
        return tc_err_oom(err, "an escalation rule list");
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = channel_must_exist(c, channel_id, err) != 0 ||
                     store_escalate_rules_each(c, channel_id, 0, collect, items, err) != 0
                 ? -1
                 : 0;
    store_reader_release(ctx->app->st, c);
    if (rc != 0) {
        json_decref(items);
        return -1;
    }
    return api_answer(json_pack("{s:o}", "items", items), "an escalation rule list", data, err);
}

static int h_info(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    int64_t channel_id = 0;
    char rule_id[IDS_OBJECT_LEN + 1];
    if (read_rule_ref(body, &channel_id, rule_id, err) != 0)
        return -1;
    json_t *items = json_array();
    if (!items)
        return tc_err_oom(err, "an escalation rule");
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = channel_must_exist(c, channel_id, err) != 0 ||
                     rule_must_exist(c, channel_id, rule_id, err) != 0 ||
                     store_escalate_rules_get(c, channel_id, rule_id, 0, collect, items, err) < 0
                 ? -1
                 : 0;
    store_reader_release(ctx->app->st, c);
    if (rc == 0)
        rc = api_answer(json_incref(json_array_get(items, 0)), "an escalation rule", data, err);
    json_decref(items);
    return rc;
}

const api_route api_escalate_rule_routes[] = {
    {"/channel/escalate/rule/list", h_list, API_AUTH_APP_KEY},
    {"/channel/escalate/rule/info", h_info, API_AUTH_APP_KEY},
    {"/channel/escalate/rule/create", h_create, API_AUTH_APP_KEY},
    {"/channel/escalate/rule/update", h_update, API_AUTH_APP_KEY},
    {"/channel/escalate/rule/delete", h_delete, API_AUTH_APP_KEY},
    {"/channel/escalate/rule/enable", h_enable, API_AUTH_APP_KEY},
    {"/channel/escalate/rule/disable", h_disable, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
