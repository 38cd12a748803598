/* channels.c: the channel calls of the Open API (/channel/...).
 *
 * A channel is where alerts land and incidents live; its `group` rules tell
 * the ingest engine how alerts become incidents. Handlers here validate a
 * request into a finished document or patch (every field through
 * api/params.h; `group` normalized as core/channel.h describes), then hand
 * it to a writer command that checks what only the store can know (the id
 * exists, the name is free) and saves. Reads use a reader connection.
 *
 * Changing channels is the "Channels Manage" permission of the reference,
 * which tocsin grants to administrators; reading is open to every key.
 * Fields of features tocsin lacks (managing_team_ids, flapping,
 * plugin_ids...) are validated, stored and echoed, and do nothing; a
 * create's escalate_rule becomes the rule named "Default". */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/escalate_rules.h"
#include "api/params.h"
#include "core/channel.h"
#include "store/channels.h"
#include "store/incidents.h"
#include "store/integrations.h"
#include "util/clock.h"
#include "util/doc.h"
#include "util/jbuild.h"

/* Group and flapping validation (the rules of core/channel.h) -------------- */

#define GROUP_EQUALS_MAX 5
#define GROUP_TIME_WINDOW_MAX 43200 /* minutes: 30 days */
#define GROUP_STORM_MAX 10000
#define GROUP_STORM_LEVELS_MAX 5
#define GROUP_I_KEYS_MAX 10
#define GROUP_CASES_MAX 100
#define LABEL_KEY_MAX 128 /* a label key's limit at ingest (event-api.md) */

/* params.h names a field by its key inside the object it was given; nested
 * objects prefix the message so it names the full path ("group.method"). */
static int nested(tc_err *err, const char *prefix) {
    char msg[sizeof(err->message)];
    snprintf(msg, sizeof(msg), "%s", err->message);
    return tc_err_set(err, err->code, "%s.%s", prefix, msg);
}

/* A non-empty string of at most LABEL_KEY_MAX characters. */
static int check_label_key(json_t *v, const char *path, tc_err *err) {
    const char *s = json_string_value(v);
    if (!s || !*s)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be a non-empty string", path);
    if (utf8_len(s) > LABEL_KEY_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be at most %d characters", path,
                          LABEL_KEY_MAX);
    return 0;
}

static int normalize_equals(json_t *group, json_t *out, tc_err *err) {
    json_t *equals = NULL;
    if (params_array(group, "equals", PARAM_OPTIONAL, 0, GROUP_EQUALS_MAX, &equals, err) != 0)
        return nested(err, "group");
    size_t i, j;
    json_t *list, *key;
    json_array_foreach(equals, i, list) {
        if (!json_is_array(list) || json_array_size(list) == 0)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "group.equals[%zu] must be a non-empty array of label keys", i);
        json_array_foreach(list, j, key) {
            char path[64];
            snprintf(path, sizeof(path), "group.equals[%zu][%zu]", i, j);
            if (check_label_key(key, path, err) != 0)
                return -1;
        }
    }
    int failed = 0;
    jb_set(out, "equals", equals ? jb_copy(equals) : json_array(), &failed);
    return jb_done(failed, "group.equals", err);
}

static int cmp_int(const void *a, const void *b) {
    json_int_t x = *(const json_int_t *)a, y = *(const json_int_t *)b;
    return (x > y) - (x < y);
}

/* Levels are kept ascending and without repeats: the engine warns once per
 * level, so order and duplicates carry no meaning. */
static int normalize_storm_levels(json_t *group, json_t *out, tc_err *err) {
    json_t *levels = NULL;
    if (params_int64_array(group, "storm_thresholds", PARAM_OPTIONAL, GROUP_STORM_LEVELS_MAX,
                           &levels, err) != 0)
        return nested(err, "group");
    json_int_t v[GROUP_STORM_LEVELS_MAX];
    size_t n = 0, i;
    json_t *x;
    json_array_foreach(levels, i, x) {
        json_int_t level = json_integer_value(x);
        if (level < 1 || level > GROUP_STORM_MAX)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "group.storm_thresholds[%zu] must be between 1 and %d", i,
                              GROUP_STORM_MAX);
        v[n++] = level;
    }
    qsort(v, n, sizeof(v[0]), cmp_int);
    int failed = 0;
    json_t *copy = jb_check(json_array(), &failed);
    for (i = 0; i < n; i++) {
        if (i == 0 || v[i] != v[i - 1])
            jb_append(copy, json_integer(v[i]), &failed);
    }
    if (failed)
        json_decref(copy);
    else
        jb_set(out, "storm_thresholds", copy, &failed);
    return jb_done(failed, "group.storm_thresholds", err);
}

static int normalize_i_keys(json_t *group, json_t *out, tc_err *err) {
    json_t *keys = NULL;
    if (params_array(group, "i_keys", PARAM_OPTIONAL, 0, GROUP_I_KEYS_MAX, &keys, err) != 0)
        return nested(err, "group");
    size_t i;
    json_t *key;
    json_array_foreach(keys, i, key) {
        char path[48];
        snprintf(path, sizeof(path), "group.i_keys[%zu]", i);
        if (check_label_key(key, path, err) != 0)
            return -1;
    }
    int failed = 0;
    jb_set(out, "i_keys", keys ? jb_copy(keys) : json_array(), &failed);
    return jb_done(failed, "group.i_keys", err);
}

static int normalize_extras(json_t *group, json_t *out, tc_err *err) {
    json_t *cases = NULL;
    if (params_array(group, "cases", PARAM_OPTIONAL, 0, GROUP_CASES_MAX, &cases, err) != 0)
        return nested(err, "group");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        if (!json_is_object(c))
            return tc_err_set(err, TC_INVALID_PARAMETER, "group.cases[%zu] must be an object", i);
    }
    json_t *score = json_object_get(group, "i_score_threshold");
    if (score && !json_is_null(score) &&
        (!json_is_number(score) || json_number_value(score) < 0.5 ||
         json_number_value(score) > 1.0))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "group.i_score_threshold must be a number between 0.5 and 1");
    int failed = 0;
    jb_set(out, "cases", cases ? jb_copy(cases) : json_array(), &failed);
    if (score && !json_is_null(score))
        jb_set(out, "i_score_threshold", json_real(json_number_value(score)), &failed);
    return jb_done(failed, "group", err);
}

static int normalize_group_fields(json_t *group, json_t *out, tc_err *err) {
    static const char *const methods[] = {"i", "p", "n", NULL};
    static const char *const windows[] = {"tumbling", "sliding", NULL};
    const char *method = NULL, *window_type = "tumbling";
    int all_required = 0;
    int64_t time_window = 0, storm = 0;
    if (params_enum(group, "method", PARAM_REQUIRED, methods, &method, err) != 0 ||
        params_bool(group, "all_equals_required", PARAM_OPTIONAL, &all_required, err) != 0 ||
        params_int64(group, "time_window", PARAM_OPTIONAL, 0, GROUP_TIME_WINDOW_MAX, &time_window,
                     err) != 0 ||
        params_enum(group, "window_type", PARAM_OPTIONAL, windows, &window_type, err) != 0 ||
        params_int64(group, "storm_threshold", PARAM_OPTIONAL, 0, GROUP_STORM_MAX, &storm, err) !=
            0)
        return nested(err, "group");
    int failed = 0;
    jb_set(out, "method", json_string(method), &failed);
    if (normalize_equals(group, out, err) != 0)
        return -1;
    jb_set(out, "all_equals_required", json_boolean(all_required), &failed);
    jb_set(out, "time_window", json_integer(time_window), &failed);
    jb_set(out, "window_type", json_string(window_type), &failed);
    jb_set(out, "storm_threshold", json_integer(storm), &failed);
    if (normalize_storm_levels(group, out, err) != 0 || normalize_i_keys(group, out, err) != 0 ||
        normalize_extras(group, out, err) != 0)
        return -1;
    return jb_done(failed, "group", err);
}

static int group_normalize(json_t *group, json_t **out, tc_err *err) {
    *out = NULL;
    if (group && !json_is_object(group))
        return tc_err_set(err, TC_INVALID_PARAMETER, "group must be an object");
    json_t *norm = json_object();
    json_t *given = group ? json_incref(group) : json_pack("{s:s}", "method", "n");
    int rc = norm && given ? normalize_group_fields(given, norm, err) : tc_err_oom(err, "group");
    json_decref(given);
    if (rc != 0) {
        json_decref(norm);
        return -1;
    }
    *out = norm;
    return 0;
}

static int flapping_normalize(json_t *flapping, json_t **out, tc_err *err) {
    *out = NULL;
    if (!json_is_object(flapping))
        return tc_err_set(err, TC_INVALID_PARAMETER, "flapping must be an object");
    int disabled = 1;
    int64_t max_changes = 4, in_mins = 60, mute_mins = 0;
    if (params_bool(flapping, "is_disabled", PARAM_OPTIONAL, &disabled, err) != 0 ||
        params_int64(flapping, "max_changes", PARAM_OPTIONAL, 2, 100, &max_changes, err) != 0 ||
        params_int64(flapping, "in_mins", PARAM_OPTIONAL, 1, 1440, &in_mins, err) != 0 ||
        params_int64(flapping, "mute_mins", PARAM_OPTIONAL, 0, 1440, &mute_mins, err) != 0)
        return nested(err, "flapping");
    *out = json_pack("{s:b, s:I, s:I, s:I}", "is_disabled", disabled, "max_changes",
                     (json_int_t)max_changes, "in_mins", (json_int_t)in_mins, "mute_mins",
                     (json_int_t)mute_mins);
    return *out ? 0 : tc_err_oom(err, "flapping");
}

/* Request fields -------------------------------------------------------- */

/* True when the request sets `field` (JSON null counts as not set). */
static int is_given(json_t *body, const char *field) {
    json_t *v = json_object_get(body, field);
    return v && !json_is_null(v);
}

/* Copies the integer array `field` (validated) into patch. */
static int take_int_array(json_t *body, const char *field, size_t max, json_t *patch, tc_err *err) {
    json_t *arr = NULL;
    if (params_int64_array(body, field, PARAM_OPTIONAL, max, &arr, err) != 0)
        return -1;
    int failed = 0;
    if (arr)
        jb_set(patch, field, jb_copy(arr), &failed);
    return jb_done(failed, field, err);
}

static int take_bool(json_t *body, const char *field, json_t *patch, tc_err *err) {
    int v = 0;
    if (params_bool(body, field, PARAM_OPTIONAL, &v, err) != 0)
        return -1;
    int failed = 0;
    if (is_given(body, field))
        jb_set(patch, field, json_boolean(v), &failed);
    return jb_done(failed, field, err);
}

static int take_string(json_t *body, const char *field, param_need need, size_t max, json_t *patch,
                       tc_err *err) {
    char *s = NULL;
    if (params_string(body, field, need, max, PARAM_REFUSE, &s, err) != 0)
        return -1;
    int failed = 0;
    if (s)
        jb_set(patch, field, json_string(s), &failed);
    free(s);
    return jb_done(failed, field, err);
}

static int take_int(json_t *body, const char *field, param_need need, int64_t min, int64_t max,
                    json_t *patch, tc_err *err) {
    int64_t v = 0;
    if (params_int64(body, field, need, min, max, &v, err) != 0)
        return -1;
    int failed = 0;
    if (is_given(body, field))
        jb_set(patch, field, json_integer(v), &failed);
    return jb_done(failed, field, err);
}

/* The settable fields of CreateChannelRequest / UpdateChannelRequest, each
 * validated; only the given ones land in patch. `creating` makes team_id
 * and channel_name required. */
/* escalate_rule: kept on the channel document in the reference's shape
 * (CreateChannelRequest: template_id and target required, every known
 * field of its type); on create it also becomes the channel's escalation
 * rule named "Default" (api/escalate_rules.h), so its target must name
 * people as a layer's must. An update changes only the document: the
 * rules are edited through /channel/escalate/rule/update. */
static int escalate_target_check(json_t *target, tc_err *err) {
    static const param_typed fields[] = {
        {"person_ids", PARAM_TYPE_INT_ARRAY},
        {"team_ids", PARAM_TYPE_INT_ARRAY},
        {"emails", PARAM_TYPE_STRING_ARRAY},
        {"schedule_to_role_ids", PARAM_TYPE_OBJECT},
        {"by", PARAM_TYPE_OBJECT},
        {NULL, PARAM_TYPE_STRING},
    };
    json_t *webhooks = NULL, *by = json_object_get(target, "by");
    if (params_check_types(target, fields, err) != 0 ||
        (by && escalate_target_by_check(by, err) != 0))
        return -1;
    return escalate_target_webhooks_check(target, 0, 0, &webhooks, err);
}

static int escalate_rule_check(json_t *rule, tc_err *err) {
    char id[25];
    int64_t aggr = 0;
    json_t *target = NULL;
    if (params_int64(rule, "aggr_window", PARAM_OPTIONAL, 0, 3600, &aggr, err) != 0 ||
        params_object_id(rule, "template_id", PARAM_REQUIRED, id, err) != 0 ||
        params_object(rule, "target", PARAM_REQUIRED, &target, err) != 0)
        return params_err_nest(err, "escalate_rule");
    if (escalate_target_check(target, err) != 0)
        return params_err_nest(err, "escalate_rule.target");
    return 0;
}

static int read_channel_fields(json_t *body, int creating, json_t *patch, tc_err *err) {
    static const char *const modes[] = {"trigger", "update", NULL};
    static const char *const flags[] = {"is_private", "disable_outlier_detection",
                                        "disable_auto_close", "is_external_report_enabled", NULL};
    param_need need = creating ? PARAM_REQUIRED : PARAM_OPTIONAL;
    if (take_int(body, "team_id", need, 0, INT64_MAX, patch, err) != 0 ||
        take_string(body, "channel_name", need, 59, patch, err) != 0)
        return -1;
    const char *name = json_string_value(json_object_get(patch, "channel_name"));
    if (name && !*name)
        return tc_err_set(err, TC_INVALID_PARAMETER, "channel_name must not be empty");
    if (take_string(body, "description", PARAM_OPTIONAL, 500, patch, err) != 0 ||
        take_int_array(body, "managing_team_ids", 3, patch, err) != 0 ||
        take_int_array(body, "plugin_ids", 0, patch, err) != 0 ||
        take_int(body, "auto_resolve_timeout", PARAM_OPTIONAL, 0, 2592000, patch, err) != 0)
        return -1;
    const char *mode = NULL;
    int failed = 0;
    if (params_enum(body, "auto_resolve_mode", PARAM_OPTIONAL, modes, &mode, err) != 0)
        return -1;
    if (mode)
        jb_set(patch, "auto_resolve_mode", json_string(mode), &failed);
    for (int i = 0; flags[i]; i++) {
        if (take_bool(body, flags[i], patch, err) != 0)
            return -1;
    }
    json_t *obj = NULL, *norm = NULL;
    if (params_object(body, "escalate_rule", PARAM_OPTIONAL, &obj, err) != 0)
        return -1;
    if (obj && escalate_rule_check(obj, err) != 0)
        return -1;
    if (obj)
        jb_set(patch, "escalate_rule", jb_copy(obj), &failed);
    if (is_given(body, "group")) {
        if (group_normalize(json_object_get(body, "group"), &norm, err) != 0)
            return -1;
        jb_set(patch, "group", norm, &failed);
    }
    if (is_given(body, "flapping")) {
        if (flapping_normalize(json_object_get(body, "flapping"), &norm, err) != 0)
            return -1;
        jb_set(patch, "flapping", norm, &failed);
    }
    return jb_done(failed, "a channel", err);
}

/* A new channel's document: every ChannelItem field tocsin keeps, defaults
 * first, then the request's fields over them. */
static int new_channel_doc(json_t *body, int64_t creator_id, json_t **out, tc_err *err) {
    *out = NULL;
    json_t *fields = json_object(), *no_flapping = json_object();
    json_t *group = NULL, *flapping = NULL;
    int rc = -1;
    if (!fields || !no_flapping) {
        tc_err_oom(err, "a new channel");
        goto out;
    }
    if (read_channel_fields(body, 1, fields, err) != 0 || group_normalize(NULL, &group, err) != 0 ||
        flapping_normalize(no_flapping, &flapping, err) != 0)
        goto out;
    json_t *doc = json_pack(
        "{s:I, s:s, s:s, s:I, s:[], s:I, s:I, s:s, s:I, s:I, s:s, s:b, s:b, s:b, s:b, s:O, s:O}",
        "channel_id", (json_int_t)0, "channel_name", "", "description", "", "team_id",
        (json_int_t)0, "managing_team_ids", "creator_id", (json_int_t)creator_id, "account_id",
        (json_int_t)1, "status", "enabled", "deleted_at", (json_int_t)0, "auto_resolve_timeout",
        (json_int_t)0, "auto_resolve_mode", "trigger", "is_private", 0, "disable_outlier_detection",
        0, "disable_auto_close", 0, "is_external_report_enabled", 0, "group", group, "flapping",
        flapping);
    if (!doc || json_object_update(doc, fields) != 0) {
        json_decref(doc);
        tc_err_oom(err, "a new channel");
        goto out;
    }
    *out = doc;
    rc = 0;
out:
    json_decref(fields);
    json_decref(no_flapping);
    json_decref(group);
    json_decref(flapping);
    return rc;
}

/* Commands -------------------------------------------------------------- */

typedef struct {
    int64_t channel_id;
    json_t *default_layers; /* create with escalate_rule: its rule "Default"'s layers */
    int64_t who;
    json_t *doc;        /* create: the whole new document; update: the patch */
    const char *status; /* set_status: enabled | disabled | deleted */
    json_t *answer;     /* create: built in the command, so it exists iff the channel does */
} channel_change;

static int create_cmd(writer_txn *txn, void *argp, tc_err *err) {
    channel_change *a = argp;
    const char *name = json_string_value(json_object_get(a->doc, "channel_name"));
    if (channel_name_free(txn->conn, name, 0, err) != 0 || channel_save(txn, a->doc, err) != 0)
        return -1;
    a->channel_id = json_integer_value(json_object_get(a->doc, "channel_id"));
    if (a->default_layers &&
        escalate_rules_default_insert(txn, a->channel_id, json_object_get(a->doc, "escalate_rule"),
                                      a->default_layers, a->who, err) != 0)
        return -1;
    a->answer = json_pack("{s:I, s:O}", "channel_id", (json_int_t)a->channel_id, "channel_name",
                          json_object_get(a->doc, "channel_name"));
    return a->answer ? 0 : tc_err_oom(err, "the answer");
}

static int update_cmd(writer_txn *txn, void *argp, tc_err *err) {
    channel_change *a = argp;
    json_t *doc = NULL;
    int rc = -1;
    if (channel_load_live(txn->conn, a->channel_id, "cannot be updated", &doc, err) != 0)
        goto out;
    const char *name = json_string_value(json_object_get(a->doc, "channel_name"));
    if (name && channel_name_free(txn->conn, name, a->channel_id, err) != 0)
        goto out;
    if (json_object_update(doc, a->doc) != 0) {
        tc_err_oom(err, "updating a channel");
        goto out;
    }
    rc = channel_save(txn, doc, err);
out:
    json_decref(doc);
    return rc;
}

static int set_status_cmd(writer_txn *txn, void *argp, tc_err *err) {
    channel_change *a = argp;
    int deleting = strcmp(a->status, "deleted") == 0;
    const char *action = deleting                            ? "cannot be deleted again"
                         : strcmp(a->status, "enabled") == 0 ? "cannot be enabled"
                                                             : "cannot be disabled";
    json_t *doc = NULL;
    int rc = -1;
    if (channel_load_live(txn->conn, a->channel_id, action, &doc, err) != 0)
        goto out;
    if (deleting) {
        /* Alert sources that still send into the channel: deleting it
         * would leave their pushes nowhere to go, so they are deleted (or
         * moved) first. */
        int64_t sources = 0;
        if (store_integrations_count_sources(txn->conn, a->channel_id, &sources, err) != 0)
            goto out;
        if (sources > 0) {
            tc_err_set(err, TC_INVALID_PARAMETER,
                       "channel_id %lld still has %lld alert integration%s; delete them or move"
                       " them to another channel first",
                       (long long)a->channel_id, (long long)sources, sources == 1 ? "" : "s");
            goto out;
        }
        if (json_object_set_new(doc, "deleted_at", json_integer(txn->now_ms / 1000)) != 0) {
            tc_err_oom(err, "deleting a channel");
            goto out;
        }
    }
    if (json_object_set_new(doc, "status", json_string(a->status)) != 0) {
        tc_err_oom(err, "changing a channel");
        goto out;
    }
    rc = channel_save(txn, doc, err);
out:
    json_decref(doc);
    return rc;
}

/* Reads ------------------------------------------------------------------ */

#define COUNT_WINDOW_S (30 * 86400) /* IncProgressCnts counts the last 30 days */

/* Adds what is derived from the channel's incidents: progress counts of the
 * last 30 days and the newest incident's start. */
static int add_incident_stats(store_conn *c, json_t *doc, tc_err *err) {
    int64_t id = json_integer_value(json_object_get(doc, "channel_id"));
    store_channel_incidents stats;
    if (store_incidents_channel_stats(c, id, clock_now_s() - COUNT_WINDOW_S, &stats, err) != 0)
        return -1;
    int failed = 0;
    jb_set(doc, "progress_to_incident_cnts",
           json_pack("{s:I, s:I}", "Triggered", (json_int_t)stats.triggered, "Processing",
                     (json_int_t)stats.processing),
           &failed);
    jb_set(doc, "last_incident_at", json_integer(stats.last_start), &failed);
    jb_set(doc, "is_starred", json_false(), &failed);
    return jb_done(failed, "a channel's incident counts", err);
}

static int read_channel_id(json_t *body, int64_t *id, tc_err *err) {
    return params_int64(body, "channel_id", PARAM_REQUIRED, 1, INT64_MAX, id, err);
}

/* Handlers ------------------------------------------------------------- */

static int channel_create(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    channel_change a = {.who = ctx->person.person_id};
    if (api_require_admin(ctx, "create channels", err) != 0 ||
        new_channel_doc(body, ctx->person.person_id, &a.doc, err) != 0)
        return -1;
    json_t *esc = json_object_get(a.doc, "escalate_rule");
    int rc = esc ? escalate_rules_default_read(esc, &a.default_layers, err) : 0;
    if (rc == 0)
        rc = writer_run(ctx->app->w, create_cmd, &a, err);
    if (rc == 0)
        *data = a.answer;
    else
        json_decref(a.answer); /* built, but its batch was not committed */
    json_decref(a.default_layers);
    json_decref(a.doc);
    return rc;
}

static int channel_update(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    channel_change a = {0};
    if (api_require_admin(ctx, "update channels", err) != 0 ||
        read_channel_id(body, &a.channel_id, err) != 0)
        return -1;
    a.doc = json_object();
    int rc = a.doc ? read_channel_fields(body, 0, a.doc, err) : tc_err_oom(err, "a channel");
    if (rc == 0)
        rc = api_run_empty(ctx, update_cmd, &a, data, err);
    json_decref(a.doc);
    return rc;
}

static int change_status(api_ctx *ctx, json_t *body, const char *status, const char *what,
                         json_t **data, tc_err *err) {
    channel_change a = {.status = status};
    if (api_require_admin(ctx, what, err) != 0 || read_channel_id(body, &a.channel_id, err) != 0)
        return -1;
    return api_run_empty(ctx, set_status_cmd, &a, data, err);
}

static int channel_delete(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return change_status(ctx, body, "deleted", "delete channels", data, err);
}

static int channel_enable(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return change_status(ctx, body, "enabled", "enable channels", data, err);
}

static int channel_disable(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return change_status(ctx, body, "disabled", "disable channels", data, err);
}

static int channel_info(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    int64_t id = 0;
    if (read_channel_id(body, &id, err) != 0)
        return -1;
    json_t *doc = NULL;
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = channel_load(c, id, &doc, err);
    if (rc == 0)
        rc = add_incident_stats(c, doc, err);
    store_reader_release(ctx->app->st, c);
    if (rc != 0) {
        json_decref(doc);
        return -1;
    }
    *data = doc;
    return 0;
}

typedef struct {
    json_t *items;
    int seen; /* the id came earlier in the request: answered once */
    int *failed;
} brief_arg;

static int add_brief(void *argp, const store_channel_brief *ch, tc_err *err) {
    (void)err;
    brief_arg *a = argp;
    if (!a->seen)
        jb_append(a->items,
                  json_pack("{s:I, s:s, s:s}", "channel_id", (json_int_t)ch->channel_id,
                            "channel_name", ch->name, "status", ch->status),
                  a->failed);
    return 0;
}

/* ChannelShort items of the ids that name a channel that is not deleted;
 * unknown ids are left out (a batch lookup answers what it can). */
static int channel_infos(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    json_t *ids = NULL;
    if (params_int64_array(body, "channel_ids", PARAM_REQUIRED, 1000, &ids, err) != 0)
        return -1;
    json_t *items = json_array();
    if (!items)
        return tc_err_oom(err, "a channel list");
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = 0, failed = 0;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        brief_arg a = {.items = items, .failed = &failed};
        for (size_t j = 0; j < i && !a.seen; j++)
            a.seen = json_integer_value(json_array_get(ids, j)) == json_integer_value(v);
        if (store_channels_brief(c, json_integer_value(v), add_brief, &a, err) < 0 ||
            (rc = jb_done(failed, "a channel list", err)) != 0) {
            rc = -1;
            break;
        }
    }
    store_reader_release(ctx->app->st, c);
    if (rc != 0) {
        json_decref(items);
        return -1;
    }
    return api_answer(json_pack("{s:o}", "items", items), "a channel list", data, err);
}

/* /channel/list: channels are few (a team has tens, a company hundreds), so
 * the non-deleted ones are read whole and filtered, sorted and paged here;
 * that keeps every filter of ListChannelsRequest in one readable place. */
typedef struct {
    const char *orderby;
    int asc;
    int brief;
    int match_none;                 /* a "mine" filter no channel can pass (no stars, no teams) */
    json_t *team_ids, *channel_ids; /* borrowed from the body */
    char *query, *channel_name;
} list_filter;

static void list_filter_clear(list_filter *f) {
    free(f->query);
    free(f->channel_name);
}

static int read_list_filter(api_ctx *ctx, json_t *body, list_filter *f, tc_err *err) {
    static const char *const orders[] = {"ranking",      "created_at",       "updated_at",
                                         "channel_name", "last_incident_at", NULL};
    int managed = 0, starred = 0, team = 0;
    f->orderby = "created_at";
    if (params_enum(body, "orderby", PARAM_OPTIONAL, orders, &f->orderby, err) != 0 ||
        params_bool(body, "asc", PARAM_OPTIONAL, &f->asc, err) != 0 ||
        params_bool(body, "is_brief", PARAM_OPTIONAL, &f->brief, err) != 0 ||
        params_bool(body, "is_my_managed", PARAM_OPTIONAL, &managed, err) != 0 ||
        params_bool(body, "is_my_starred", PARAM_OPTIONAL, &starred, err) != 0 ||
        params_bool(body, "is_my_team", PARAM_OPTIONAL, &team, err) != 0 ||
        params_int64_array(body, "team_ids", PARAM_OPTIONAL, 0, &f->team_ids, err) != 0 ||
        params_int64_array(body, "channel_ids", PARAM_OPTIONAL, 0, &f->channel_ids, err) != 0 ||
        params_string(body, "query", PARAM_OPTIONAL, 200, PARAM_REFUSE, &f->query, err) != 0 ||
        params_string(body, "channel_name", PARAM_OPTIONAL, 59, PARAM_REFUSE, &f->channel_name,
                      err) != 0)
        return -1;
    if (starred && team)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "is_my_starred and is_my_team cannot both be true");
    /* tocsin has no stars and no teams; administrators manage every channel. */
    f->match_none = starred || team || (managed && !ctx->is_admin);
    return 0;
}

static int in_int_array(json_t *arr, json_int_t x) {
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (json_integer_value(v) == x)
            return 1;
    }
    return 0;
}

static int list_matches(const list_filter *f, json_t *doc) {
    const char *name = json_string_value(json_object_get(doc, "channel_name"));
    const char *desc = json_string_value(json_object_get(doc, "description"));
    if (f->match_none)
        return 0;
    if (f->team_ids &&
        !in_int_array(f->team_ids, json_integer_value(json_object_get(doc, "team_id"))))
        return 0;
    if (f->channel_ids &&
        !in_int_array(f->channel_ids, json_integer_value(json_object_get(doc, "channel_id"))))
        return 0;
    if (f->channel_name && *f->channel_name)
        return name && strcmp(name, f->channel_name) == 0;
    if (f->query && *f->query)
        return (name && strcasestr(name, f->query)) || (desc && strcasestr(desc, f->query));
    return 1;
}

static int compare_channels(const void *pa, const void *pb, void *ctxp) {
    const list_filter *f = ctxp;
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    int c = 0;
    if (strcmp(f->orderby, "channel_name") == 0) {
        c = strcmp(json_string_value(json_object_get(a, "channel_name")),
                   json_string_value(json_object_get(b, "channel_name")));
    } else {
        /* "ranking" ranks channels by their newest incident. */
        const char *key = strcmp(f->orderby, "ranking") == 0 ? "last_incident_at" : f->orderby;
        json_int_t x = json_integer_value(json_object_get(a, key));
        json_int_t y = json_integer_value(json_object_get(b, key));
        c = (x > y) - (x < y);
    }
    if (c == 0) {
        json_int_t x = json_integer_value(json_object_get(a, "channel_id"));
        json_int_t y = json_integer_value(json_object_get(b, "channel_id"));
        c = (x > y) - (x < y);
    }
    return f->asc ? c : -c;
}

/* Every non-deleted channel passing the filter, with its incident stats. */
typedef struct {
    const list_filter *f;
    json_t *out;
} matching_arg;

static int keep_matching(void *argp, const store_channel_doc *ch, tc_err *err) {
    matching_arg *a = argp;
    json_t *doc = NULL;
    if (doc_parse_n(ch->doc, "channel", ch->channel_id, &doc, err) != 0)
        return -1;
    int kept = !list_matches(a->f, doc) || json_array_append(a->out, doc) == 0;
    json_decref(doc);
    return kept ? 0 : tc_err_oom(err, "a channel list");
}

static int load_matching(store_conn *c, const list_filter *f, json_t *out, tc_err *err) {
    matching_arg a = {f, out};
    if (store_channels_each_live(c, keep_matching, &a, err) != 0)
        return -1;
    size_t i;
    json_t *doc;
    json_array_foreach(out, i, doc) {
        if (add_incident_stats(c, doc, err) != 0)
            return -1;
    }
    return 0;
}

static json_t *brief_item(json_t *doc) {
    return json_pack("{s:O, s:O, s:O, s:O}", "channel_id", json_object_get(doc, "channel_id"),
                     "channel_name", json_object_get(doc, "channel_name"), "description",
                     json_object_get(doc, "description"), "status", json_object_get(doc, "status"));
}

static int channel_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    list_filter f = {0};
    int64_t p = 1, limit = 100;
    json_t *all = json_array(), *items = NULL;
    json_t **sorted = NULL;
    int rc = -1, failed = 0;
    if (!all) {
        tc_err_oom(err, "a channel list");
        goto out;
    }
    if (read_list_filter(ctx, body, &f, err) != 0 ||
        params_page(body, 100, 100, &p, &limit, err) != 0)
        goto out;
    store_conn *c = store_reader_acquire(ctx->app->st);
    int loaded = load_matching(c, &f, all, err);
    store_reader_release(ctx->app->st, c);
    if (loaded != 0)
        goto out;
    size_t n = json_array_size(all);
    sorted = calloc(n ? n : 1, sizeof(*sorted));
    if (!sorted) {
        tc_err_oom(err, "a channel list");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = json_array_get(all, i);
    qsort_r(sorted, n, sizeof(*sorted), compare_channels, &f);
    items = jb_check(json_array(), &failed);
    size_t first = (size_t)((p - 1) * limit);
    for (size_t i = first; i < n && i < first + (size_t)limit; i++)
        jb_append(items, f.brief ? brief_item(sorted[i]) : json_incref(sorted[i]), &failed);
    if (jb_done(failed, "a channel list", err) != 0)
        goto out;
    rc = api_answer(json_pack("{s:o, s:I, s:b}", "items", items, "total", (json_int_t)n,
                              "has_next_page", first + (size_t)limit < n),
                    "a channel list", data, err);
    items = NULL;
out:
    free(sorted);
    json_decref(all);
    json_decref(items);
    list_filter_clear(&f);
    return rc;
}

const api_route api_channel_routes[] = {
    {"/channel/create", channel_create, API_AUTH_APP_KEY},
    {"/channel/info", channel_info, API_AUTH_APP_KEY},
    {"/channel/infos", channel_infos, API_AUTH_APP_KEY},
    {"/channel/list", channel_list, API_AUTH_APP_KEY},
    {"/channel/update", channel_update, API_AUTH_APP_KEY},
    {"/channel/delete", channel_delete, API_AUTH_APP_KEY},
    {"/channel/enable", channel_enable, API_AUTH_APP_KEY},
    {"/channel/disable", channel_disable, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
