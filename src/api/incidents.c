/* incidents.c: the /incident/... paths of the Open API.
 *
 * Each handler reads and checks its fields (api/params.h), then either reads
 * through a reader connection and renders (api/incident_view.h), or hands
 * one writer command the checked request. The command loads the incidents,
 * resolves people, and applies the transitions of core/incident_actions.h.
 *
 * Batch calls (incident_ids, at most 100) are all-or-nothing: the command
 * first loads every incident (an unknown or removed id fails the call,
 * "incident_ids X does not exist"), then applies the change to each in turn
 * and stops at the first refused transition. The writer runs a command in
 * its own SAVEPOINT, so a refusal undoes the incidents already changed by
 * the same call: the answer names the refused incident and nothing changed.
 *
 * The app key's person is the `person` of every change. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/alert_view.h"
#include "api/api.h"
#include "api/incident_view.h"
#include "api/params.h"
#include "core/channel.h"
#include "core/escalation.h"
#include "core/incident_actions.h"
#include "core/state.h"
#include "delivery/sync_send.h"
#include "store/events.h"
#include "store/incident_list.h"
#include "store/listing.h"
#include "util/ids.h"
#include "util/jbuild.h"

#define BATCH_MAX 100
#define PERSONS_MAX 100
#define LIST_WINDOW_MAX_S (31 * 86400)

static const char *const SEVERITIES[] = {"Info", "Warning", "Critical", NULL};

/* --- request pieces ------------------------------------------------------------ */

typedef struct {
    char ids[BATCH_MAX][IDS_OBJECT_LEN + 1];
    size_t n;
    const char *field; /* what an unknown id is reported as */
} id_list;

static void id_list_add(id_list *l, const char *id) {
    char low[IDS_OBJECT_LEN + 1];
    size_t i = 0;
    for (; id[i] && i < IDS_OBJECT_LEN; i++)
        low[i] = (char)tolower((unsigned char)id[i]);
    low[i] = '\0';
    for (size_t k = 0; k < l->n; k++) {
        if (strcmp(l->ids[k], low) == 0)
            return; /* a repeat changes nothing twice */
    }
    if (l->n < BATCH_MAX)
        memcpy(l->ids[l->n++], low, sizeof(low));
}

/* incident_ids: 1..100 hex ids, lowered, without repeats. */
static int read_ids(json_t *body, const char *field, id_list *out, tc_err *err) {
    json_t *arr = NULL;
    out->n = 0;
    out->field = field;
    if (params_object_id_array(body, field, PARAM_REQUIRED, 1, BATCH_MAX, &arr, err) != 0)
        return -1;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        id_list_add(out, json_string_value(v));
    }
    return 0;
}

/* incident_id: one id, as a list of one. */
static int read_one_id(json_t *body, const char *field, id_list *out, tc_err *err) {
    char id[IDS_OBJECT_LEN + 1];
    out->n = 0;
    out->field = field;
    if (params_object_id(body, field, PARAM_REQUIRED, id, err) != 0)
        return -1;
    id_list_add(out, id);
    return 0;
}

/* A string field with the spec's minimum and maximum length (refused). */
static int read_text(json_t *body, const char *field, param_need need, size_t min_chars,
                     size_t max_chars, char **out, tc_err *err) {
    if (params_string(body, field, need, max_chars, PARAM_REFUSE, out, err) != 0)
        return -1;
    if (*out && utf8_len(*out) < min_chars) {
        free(*out);
        *out = NULL;
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be at least %zu characters", field,
                          min_chars);
    }
    return 0;
}

/* People named in a request, checked to exist inside the command. */
typedef struct {
    json_t *ids; /* borrowed int array, or NULL */
    const char *field;
    tc_person *persons;
    size_t n;
} person_list;

static void person_list_clear(person_list *pl) {
    free(pl->persons);
    pl->persons = NULL;
    pl->n = 0;
}

static int person_list_resolve(store_conn *c, person_list *pl, tc_err *err) {
    size_t count = json_array_size(pl->ids);
    pl->n = 0;
    if (count == 0)
        return 0;
    pl->persons = calloc(count, sizeof(*pl->persons));
    if (!pl->persons)
        return tc_err_oom(err, "the persons of a request");
    size_t i;
    json_t *v;
    json_array_foreach(pl->ids, i, v) {
        int64_t id = json_integer_value(v);
        int seen = 0;
        for (size_t k = 0; k < pl->n; k++)
            seen |= pl->persons[k].person_id == id;
        if (seen)
            continue;
        if (incident_person_find(c, id, pl->field, &pl->persons[pl->n], err) != 0)
            return -1;
        pl->n++;
    }
    return 0;
}

/* notify: {follow_preference, personal_channels, template_id}. tocsin sends
 * no notifications of its own, so a notify of the reference's shape is
 * accepted and ignored; one of another shape is refused. */
static int check_notify(json_t *body, tc_err *err) {
    static const param_typed fields[] = {
        {"follow_preference", PARAM_TYPE_BOOL},
        {"personal_channels", PARAM_TYPE_STRING_ARRAY},
        {"template_id", PARAM_TYPE_STRING},
        {NULL, PARAM_TYPE_STRING},
    };
    json_t *notify = NULL;
    if (params_object(body, "notify", PARAM_OPTIONAL, &notify, err) != 0)
        return -1;
    if (notify && params_check_types(notify, fields, err) != 0)
        return params_err_nest(err, "notify");
    return 0;
}

/* What assigned_to asks for: people (person_ids) or a layer of an
 * escalation rule (escalate_rule_id + layer_idx, core/escalation.h). */
typedef struct {
    json_t *person_ids; /* borrowed, or NULL */
    const char *type;
    char rule_id[IDS_OBJECT_LEN + 1]; /* "" when people are named */
    int64_t layer_idx;
} assign_req;

/* assigned_to: {person_ids (1..100) | escalate_rule_id [+ layer_idx], type,
 * ...}; person_ids wins when both are given (a direct assignment); the
 * server-filled fields of AssignedTo and type (tocsin sets it: reassign
 * for /incident/assign) are type-checked and ignored. */
static int read_assigned_to(json_t *body, assign_req *req, tc_err *err) {
    static const char *const types[] = {"assign", "reassign", "escalate", "reopen", NULL};
    static const param_typed ignored[] = {
        {"escalate_rule_name", PARAM_TYPE_STRING},
        {"emails", PARAM_TYPE_STRING_ARRAY},
        {"assigned_at", PARAM_TYPE_INT},
        {"id", PARAM_TYPE_STRING},
        {NULL, PARAM_TYPE_STRING},
    };
    json_t *at = NULL;
    memset(req, 0, sizeof(*req));
    req->type = "assign";
    if (params_object(body, "assigned_to", PARAM_OPTIONAL, &at, err) != 0)
        return -1;
    if (!at)
        return 0;
    if (params_int64_array(at, "person_ids", PARAM_OPTIONAL, PERSONS_MAX, &req->person_ids, err) !=
            0 ||
        params_enum(at, "type", PARAM_OPTIONAL, types, &req->type, err) != 0 ||
        params_object_id(at, "escalate_rule_id", PARAM_OPTIONAL, req->rule_id, err) != 0 ||
        params_int64(at, "layer_idx", PARAM_OPTIONAL, 0, 100, &req->layer_idx, err) != 0 ||
        params_check_types(at, ignored, err) != 0 || check_notify(at, err) != 0)
        return params_err_nest(err, "assigned_to");
    int people = json_array_size(req->person_ids) > 0;
    if (people) /* named people win: escalate_rule_id is then only checked */
        req->rule_id[0] = '\0';
    if (!people && !req->rule_id[0])
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "assigned_to.person_ids or assigned_to.escalate_rule_id is required");
    return 0;
}

/* --- the batch command ---------------------------------------------------------- */

typedef struct batch_cmd batch_cmd;
typedef int (*batch_step)(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err);

struct batch_cmd {
    const id_list *ids;
    const tc_person *who;
    batch_step step;
    /* the arguments the steps use */
    int64_t minutes;
    const char *text1, *text2; /* reason | comment | root_cause, resolution */
    int flag;                  /* mute_reply */
    const assign_req *assign;
    person_list people;
    json_t *reset; /* /incident/reset: the request body */
    const char *field_name;
    json_t *field_value;
};

/* Loads an incident, reporting an unknown id under the request's field. */
static int load_for(store_conn *c, const char *field, const char *id, tc_incident *inc,
                    tc_err *err) {
    if (incident_load(c, id, inc, err) == 0)
        return 0;
    if (err->code == TC_INVALID_PARAMETER)
        tc_err_set(err, TC_INVALID_PARAMETER, "%s %s does not exist", field, id);
    return -1;
}

static int run_batch(writer_txn *txn, void *arg, tc_err *err) {
    batch_cmd *b = arg;
    size_t loaded = 0;
    int rc = -1;
    tc_incident *incs = calloc(b->ids->n ? b->ids->n : 1, sizeof(*incs));
    if (!incs) {
        person_list_clear(&b->people);
        return tc_err_oom(err, "the incidents of a request");
    }
    for (; loaded < b->ids->n; loaded++) {
        if (load_for(txn->conn, b->ids->field, b->ids->ids[loaded], &incs[loaded], err) != 0)
            goto out;
    }
    if (person_list_resolve(txn->conn, &b->people, err) != 0)
        goto out;
    for (size_t i = 0; i < loaded; i++) {
        if (b->step(txn, &incs[i], b, err) != 0)
            goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < loaded; i++)
        tc_incident_clear(&incs[i]);
    free(incs);
    person_list_clear(&b->people);
    return rc;
}

static int run_batch_cmd(api_ctx *ctx, batch_cmd *b, json_t **data, tc_err *err) {
    b->who = &ctx->person;
    return api_run_empty(ctx, run_batch, b, data, err);
}

/* --- progress ------------------------------------------------------------------- */

static int step_ack(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    return incident_act_ack(txn, inc, b->who, err);
}

static int step_unack(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    return incident_act_unack(txn, inc, b->who, err);
}

static int step_snooze(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    return incident_act_snooze(txn, inc, b->who, b->minutes, err);
}

static int step_wake(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    return incident_act_wake(txn, inc, b->who, err);
}

static int step_resolve(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    return incident_act_resolve(txn, inc, b->who, b->text1, b->text2, err);
}

static int step_reopen(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    return incident_act_reopen(txn, inc, b->who, b->text1, err);
}

static int step_comment(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    return incident_act_comment(txn, inc, b->who, b->text1, b->flag, err);
}

static int step_remove(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    (void)b;
    return incident_act_remove(txn, inc, err);
}

/* People: a direct assignment (type reassign, rules.md) that takes the
 * incident off its escalation rule; a rule's layer: the rule goes on from
 * there. */
static int step_assign(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    if (b->assign->rule_id[0])
        return escalation_jump(txn, inc, b->who, b->assign->rule_id, b->assign->layer_idx,
                               "reassign", err);
    if (incident_act_assign(txn, inc, b->who, b->people.persons, b->people.n, "reassign", NULL,
                            err) != 0)
        return -1;
    return escalation_leave(txn, inc, err);
}

static int step_add_responders(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    return incident_act_add_responders(txn, inc, b->who, b->people.persons, b->people.n, err);
}

/* A call that takes only incident_ids. */
static int simple_batch(api_ctx *ctx, json_t *body, batch_step step, json_t **data, tc_err *err) {
    id_list ids;
    if (read_ids(body, "incident_ids", &ids, err) != 0)
        return -1;
    batch_cmd b = {.ids = &ids, .step = step};
    return run_batch_cmd(ctx, &b, data, err);
}

static int h_ack(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return simple_batch(ctx, body, step_ack, data, err);
}

static int h_unack(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return simple_batch(ctx, body, step_unack, data, err);
}

static int h_wake(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return simple_batch(ctx, body, step_wake, data, err);
}

static int h_remove(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return simple_batch(ctx, body, step_remove, data, err);
}

static int h_snooze(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    id_list ids;
    batch_cmd b = {.ids = &ids, .step = step_snooze};
    if (read_ids(body, "incident_ids", &ids, err) != 0 ||
        params_int64(body, "minutes", PARAM_REQUIRED, INCIDENT_SNOOZE_MIN, INCIDENT_SNOOZE_MAX,
                     &b.minutes, err) != 0)
        return -1;
    return run_batch_cmd(ctx, &b, data, err);
}

static int h_resolve(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    id_list ids;
    char *root_cause = NULL, *resolution = NULL;
    int rc = -1;
    if (read_ids(body, "incident_ids", &ids, err) != 0 ||
        params_string(body, "root_cause", PARAM_OPTIONAL, 1024, PARAM_REFUSE, &root_cause, err) !=
            0 ||
        params_string(body, "resolution", PARAM_OPTIONAL, 1024, PARAM_REFUSE, &resolution, err) !=
            0)
        goto out;
    batch_cmd b = {.ids = &ids, .step = step_resolve, .text1 = root_cause, .text2 = resolution};
    rc = run_batch_cmd(ctx, &b, data, err);
out:
    free(root_cause);
    free(resolution);
    return rc;
}

static int h_reopen(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    id_list ids;
    char *reason = NULL;
    int rc = -1;
    /* The schema marks reason optional; tocsin requires one (event-api.md). */
    if (read_ids(body, "incident_ids", &ids, err) != 0 ||
        params_string(body, "reason", PARAM_REQUIRED, 1024, PARAM_REFUSE, &reason, err) != 0)
        goto out;
    batch_cmd b = {.ids = &ids, .step = step_reopen, .text1 = reason};
    rc = run_batch_cmd(ctx, &b, data, err);
out:
    free(reason);
    return rc;
}

static int h_comment(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    id_list ids;
    char *comment = NULL;
    int mute_reply = 0, rc = -1;
    if (read_ids(body, "incident_ids", &ids, err) != 0 ||
        params_string(body, "comment", PARAM_REQUIRED, 1024, PARAM_REFUSE, &comment, err) != 0 ||
        params_bool(body, "mute_reply", PARAM_OPTIONAL, &mute_reply, err) != 0)
        goto out;
    batch_cmd b = {.ids = &ids, .step = step_comment, .text1 = comment, .flag = mute_reply};
    rc = run_batch_cmd(ctx, &b, data, err);
out:
    free(comment);
    return rc;
}

/* --- people -------------------------------------------------------------------- */

static int h_assign(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    id_list ids;
    batch_cmd b = {.ids = &ids, .step = step_assign};
    /* incident_ids wins when both are given (the schema says so). */
    if (json_object_get(body, "incident_ids")) {
        if (read_ids(body, "incident_ids", &ids, err) != 0)
            return -1;
    } else if (json_object_get(body, "incident_id")) {
        if (read_one_id(body, "incident_id", &ids, err) != 0)
            return -1;
    } else {
        return tc_err_set(err, TC_INVALID_PARAMETER, "incident_id or incident_ids is required");
    }
    json_t *assigned_to = NULL;
    assign_req req;
    if (params_object(body, "assigned_to", PARAM_REQUIRED, &assigned_to, err) != 0 ||
        read_assigned_to(body, &req, err) != 0)
        return -1;
    b.assign = &req;
    b.people.ids = req.person_ids;
    b.people.field = "assigned_to.person_ids";
    return run_batch_cmd(ctx, &b, data, err);
}

static int h_responder_add(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    id_list ids;
    batch_cmd b = {.ids = &ids, .step = step_add_responders};
    if (read_one_id(body, "incident_id", &ids, err) != 0 ||
        params_int64_array(body, "person_ids", PARAM_REQUIRED, PERSONS_MAX, &b.people.ids, err) !=
            0 ||
        check_notify(body, err) != 0)
        return -1;
    if (json_array_size(b.people.ids) == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "person_ids must have at least 1 item");
    b.people.field = "person_ids";
    return run_batch_cmd(ctx, &b, data, err);
}

/* --- edits ------------------------------------------------------------------------ */

/* The fields of UpdateIncidentFieldsRequest, in the order their events go. */
typedef struct {
    const char *field;
    incident_field which;
    size_t min_chars, max_chars; /* 0 max: an enum */
} reset_rule;

static const reset_rule RESET_RULES[] = {
    {"title", INCIDENT_FIELD_TITLE, 3, 200},
    {"description", INCIDENT_FIELD_DESCRIPTION, 3, 6144},
    {"impact", INCIDENT_FIELD_IMPACT, 3, 6144},
    {"root_cause", INCIDENT_FIELD_ROOT_CAUSE, 3, 6144},
    {"resolution", INCIDENT_FIELD_RESOLUTION, 3, 6144},
    {"incident_severity", INCIDENT_FIELD_SEVERITY, 0, 0},
};
#define RESET_N (sizeof(RESET_RULES) / sizeof(RESET_RULES[0]))

static int step_reset(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    for (size_t i = 0; i < RESET_N; i++) {
        const char *value = json_string_value(json_object_get(b->reset, RESET_RULES[i].field));
        if (value && incident_act_reset(txn, inc, b->who, RESET_RULES[i].which, value, err) != 0)
            return -1;
    }
    return 0;
}

static int h_reset(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    id_list ids;
    if (read_one_id(body, "incident_id", &ids, err) != 0)
        return -1;
    int failed = 0;
    json_t *checked = jb_check(json_object(), &failed);
    int rc = -1;
    for (size_t i = 0; i < RESET_N; i++) {
        const reset_rule *r = &RESET_RULES[i];
        char *s = NULL;
        const char *sev = NULL;
        if (r->max_chars == 0) {
            if (params_enum(body, r->field, PARAM_OPTIONAL, SEVERITIES, &sev, err) != 0)
                goto out;
            if (sev)
                jb_set(checked, r->field, json_string(sev), &failed);
            continue;
        }
        if (read_text(body, r->field, PARAM_OPTIONAL, r->min_chars, r->max_chars, &s, err) != 0)
            goto out;
        if (s)
            jb_set(checked, r->field, json_string(s), &failed);
        free(s);
    }
    if (jb_done(failed, "an incident reset", err) != 0)
        goto out;
    if (json_object_size(checked) == 0) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "at least one of title, description, impact, root_cause, resolution, "
                   "incident_severity is required");
        goto out;
    }
    batch_cmd b = {.ids = &ids, .step = step_reset, .reset = checked};
    rc = run_batch_cmd(ctx, &b, data, err);
out:
    json_decref(checked);
    return rc;
}

static int step_set_field(writer_txn *txn, tc_incident *inc, const batch_cmd *b, tc_err *err) {
    json_t *value = b->field_value ? json_deep_copy(b->field_value) : NULL;
    if (b->field_value && !value) /* never a "clear" instead of a failed "set" */
        return tc_err_oom(err, "a field value");
    return incident_act_set_field(txn, inc, b->who, b->field_name, value, err);
}

static int h_field_reset(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    id_list ids;
    char *name = NULL;
    int rc = -1;
    if (read_one_id(body, "incident_id", &ids, err) != 0 ||
        params_string(body, "field_name", PARAM_REQUIRED, 128, PARAM_REFUSE, &name, err) != 0)
        goto out;
    /* field_value may be any JSON value; absent or null clears the field. */
    json_t *value = json_object_get(body, "field_value");
    batch_cmd b = {.ids = &ids,
                   .step = step_set_field,
                   .field_name = name,
                   .field_value = json_is_null(value) ? NULL : value};
    rc = run_batch_cmd(ctx, &b, data, err);
out:
    free(name);
    return rc;
}

/* --- create ------------------------------------------------------------------------ */

typedef struct {
    const tc_person *who;
    const char *title, *description, *severity;
    int64_t channel_id;
    person_list people;
    assign_req assign;
    json_t *answer; /* out: built in the command, so it exists iff the change does */
} create_cmd;

/* A new incident's assignment: the people named, else the layer of the
 * rule named, else (in a channel) the first matching rule of the channel,
 * as for an incident ingest opens. */
static int create_assign(writer_txn *txn, create_cmd *c, tc_incident *inc, int64_t nrules,
                         tc_err *err) {
    if (c->people.n)
        return incident_act_assign(txn, inc, c->who, c->people.persons, c->people.n, "assign", NULL,
                                   err);
    if (c->assign.rule_id[0])
        return escalation_jump(txn, inc, c->who, c->assign.rule_id, c->assign.layer_idx,
                               c->assign.layer_idx == 0 ? "assign" : "escalate", err);
    store_escalation esc;
    int chosen = 0;
    if (escalation_choose(txn, inc, (int)nrules, &esc, &chosen, err) != 0)
        return -1;
    return chosen ? escalation_begin(txn, &esc, err) : 0;
}

static int run_create(writer_txn *txn, void *arg, tc_err *err) {
    create_cmd *c = arg;
    json_t *channel = NULL;
    tc_incident inc;
    tc_incident_init(&inc);
    int rc = -1;
    if (c->channel_id != 0 && channel_load_live(txn->conn, c->channel_id,
                                                "cannot take new incidents", &channel, err) != 0)
        goto out;
    if (person_list_resolve(txn->conn, &c->people, err) != 0)
        goto out;
    if (incident_new(txn, c->title, incident_severity_rank(c->severity), c->channel_id, &inc,
                     err) != 0)
        goto out;
    int failed = c->description && model_set_str(&inc.description, c->description) != 0;
    if (!failed && c->who->person_id != 0) {
        json_t *creator = person_to_json(c->who);
        failed = !creator || !(inc.creator = jb_dumps(creator, JSON_COMPACT));
        json_decref(creator);
    }
    if (jb_done(failed, "a new incident", err) != 0)
        goto out;
    inc.creator_id = c->who->person_id;
    json_t *detail = json_pack("{s:s, s:s}", "severity", c->severity, "title", c->title);
    if (!detail) {
        tc_err_oom(err, "a timeline entry");
        goto out;
    }
    if (incident_commit(txn, &inc, "i_new", c->who, detail, err) != 0)
        goto out;
    const state_channel *ch = NULL;
    if (c->channel_id != 0 && txn->state &&
        state_channel_find(txn->state, txn->conn, c->channel_id, &ch, err) != 0)
        goto out;
    if (create_assign(txn, c, &inc, ch ? ch->escalate_rules : 0, err) != 0)
        goto out;
    c->answer = json_pack("{s:s, s:s}", "incident_id", inc.incident_id, "title", c->title);
    rc = c->answer ? 0 : tc_err_oom(err, "the answer");
out:
    json_decref(channel);
    tc_incident_clear(&inc);
    person_list_clear(&c->people);
    return rc;
}

static int h_create(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    create_cmd c = {.who = &ctx->person, .people.field = "assigned_to.person_ids"};
    char *title = NULL, *description = NULL;
    int rc = -1;
    /* title is optional in the schema, but an incident without one cannot
     * be told apart from others anywhere: tocsin requires it. */
    if (params_enum(body, "incident_severity", PARAM_REQUIRED, SEVERITIES, &c.severity, err) != 0 ||
        params_string(body, "title", PARAM_REQUIRED, 512, PARAM_REFUSE, &title, err) != 0 ||
        params_string(body, "description", PARAM_OPTIONAL, 1024, PARAM_REFUSE, &description, err) !=
            0 ||
        params_int64(body, "channel_id", PARAM_OPTIONAL, 0, INT64_MAX, &c.channel_id, err) != 0 ||
        (json_object_get(body, "assigned_to") && read_assigned_to(body, &c.assign, err) != 0))
        goto out;
    c.people.ids = c.assign.person_ids;
    c.title = title;
    c.description = description;
    if (writer_run(ctx->app->w, run_create, &c, err) != 0) {
        json_decref(c.answer); /* built, but its batch was not committed */
        goto out;
    }
    *data = c.answer;
    rc = 0;
out:
    free(title);
    free(description);
    return rc;
}

/* --- merge -------------------------------------------------------------------------- */

typedef struct {
    const tc_person *who;
    id_list sources;
    char target[IDS_OBJECT_LEN + 1];
    incident_merge_opts opts;
} merge_cmd;

static int run_merge(writer_txn *txn, void *arg, tc_err *err) {
    merge_cmd *m = arg;
    tc_incident target;
    size_t loaded = 0;
    int rc = -1;
    tc_incident_init(&target);
    tc_incident *sources = calloc(m->sources.n ? m->sources.n : 1, sizeof(*sources));
    if (!sources)
        return tc_err_oom(err, "the incidents of a request");
    if (load_for(txn->conn, "target_incident_id", m->target, &target, err) != 0)
        goto out;
    for (; loaded < m->sources.n; loaded++) {
        if (load_for(txn->conn, m->sources.field, m->sources.ids[loaded], &sources[loaded], err) !=
            0)
            goto out;
    }
    tc_person owner;
    if (m->opts.owner_id &&
        incident_person_find(txn->conn, m->opts.owner_id, "owner_id", &owner, err) != 0)
        goto out;
    rc = incident_act_merge(txn, &target, sources, loaded, m->who, &m->opts, err);
out:
    tc_incident_clear(&target);
    for (size_t i = 0; i < loaded; i++)
        tc_incident_clear(&sources[i]);
    free(sources);
    return rc;
}

static int h_merge(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    merge_cmd m = {.who = &ctx->person};
    char *title = NULL, *comment = NULL;
    int rc = -1;
    if (read_ids(body, "source_incident_ids", &m.sources, err) != 0 ||
        params_object_id(body, "target_incident_id", PARAM_REQUIRED, m.target, err) != 0 ||
        params_string(body, "title", PARAM_OPTIONAL, 512, PARAM_REFUSE, &title, err) != 0 ||
        params_string(body, "comment", PARAM_OPTIONAL, 1024, PARAM_REFUSE, &comment, err) != 0 ||
        params_int64(body, "owner_id", PARAM_OPTIONAL, 0, INT64_MAX, &m.opts.owner_id, err) != 0 ||
        params_bool(body, "remove_source_incidents", PARAM_OPTIONAL, &m.opts.remove_sources, err) !=
            0)
        goto out;
    if (title && !*title) {
        tc_err_set(err, TC_INVALID_PARAMETER, "title must not be empty");
        goto out;
    }
    /* "The target incident is removed from this set automatically." */
    size_t keep = 0;
    for (size_t i = 0; i < m.sources.n; i++) {
        if (strcmp(m.sources.ids[i], m.target) != 0)
            memmove(m.sources.ids[keep++], m.sources.ids[i], sizeof(m.sources.ids[0]));
    }
    m.sources.n = keep;
    if (keep == 0) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "source_incident_ids must name at least one incident other than "
                   "target_incident_id");
        goto out;
    }
    m.opts.title = title;
    m.opts.comment = comment;
    rc = api_run_empty(ctx, run_merge, &m, data, err);
out:
    free(title);
    free(comment);
    return rc;
}

/* --- reads ---------------------------------------------------------------------------- */

static const char *base_url(const api_ctx *ctx) {
    return ctx->app->cfg ? ctx->app->cfg->base_url : "";
}

static int h_info(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char id[IDS_OBJECT_LEN + 1];
    if (params_object_id(body, "incident_id", PARAM_REQUIRED, id, err) != 0)
        return -1;
    store_conn *c = store_reader_acquire(ctx->app->st);
    tc_incident inc;
    int rc = incident_load(c, id, &inc, err);
    if (rc == 0)
        rc = incident_view_render(c, base_url(ctx), &inc, data, err);
    /* tocsin's addition for the console: the escalation rule the incident
     * follows and its next step (absent when it follows none). */
    json_t *esc = NULL;
    if (rc == 0 && (rc = escalation_view(c, id, &esc, err)) == 0 && esc &&
        json_object_set_new(*data, "escalation", esc) != 0)
        rc = tc_err_oom(err, "an incident's escalation");
    if (rc != 0) {
        json_decref(*data);
        *data = NULL;
    }
    tc_incident_clear(&inc);
    store_reader_release(ctx->app->st, c);
    return rc;
}

static int h_list_by_ids(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    id_list ids;
    if (read_ids(body, "incident_ids", &ids, err) != 0)
        return -1;
    json_t *items = json_array();
    if (!items)
        return tc_err_oom(err, "an incident list");
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = 0;
    for (size_t i = 0; i < ids.n && rc == 0; i++) {
        tc_incident inc;
        json_t *item = NULL;
        if (incident_load(c, ids.ids[i], &inc, err) != 0) {
            /* an unknown id is simply not in the answer */
            rc = err->code == TC_INVALID_PARAMETER ? 0 : -1;
            continue;
        }
        rc = incident_view_render(c, base_url(ctx), &inc, &item, err);
        tc_incident_clear(&inc);
        if (rc == 0 && json_array_append_new(items, item) != 0)
            rc = tc_err_oom(err, "an incident list");
    }
    store_reader_release(ctx->app->st, c);
    if (rc != 0) {
        json_decref(items);
        return -1;
    }
    return api_answer(json_pack("{s:o, s:I, s:b}", "items", items, "total",
                                (json_int_t)json_array_size(items), "has_next_page", 0),
                      "an incident list", data, err);
}

/* /incident/list: every filter and the paging run in SQL
 * (store/incident_list.h), so total and paging count exactly what
 * matches and a page reads only its own rows. */
typedef struct {
    int64_t start, end, p, limit;
    const char *progress[3], *severity[4];
    int nprogress, nseverity;
    json_t *channel_ids, *creator_ids, *closer_ids, *acker_ids, *responder_ids, *nums;
    json_t *incident_ids; /* owned: lowered copies */
    char *query;
    int is_snoozed, asc, none;
    int has_cursor;
    int64_t cursor_key;
    char cursor_id[IDS_OBJECT_LEN + 1];
} list_req;

static void list_req_clear(list_req *r) {
    json_decref(r->incident_ids);
    free(r->query);
}

static int read_list_req(json_t *body, list_req *r, tc_err *err) {
    static const char *const progress[] = {"Triggered", "Processing", "Closed", NULL};
    static const char *const severity[] = {"Critical", "Warning", "Info", "Ok", NULL};
    char *prog = NULL, *sev = NULL, *cursor = NULL;
    json_t *ids = NULL, *team_ids = NULL;
    int ever_muted = 0, is_rare = 0, my_team = 0, my_channel = 0, rc = -1;
    if (params_int64(body, "start_time", PARAM_REQUIRED, 0, INT64_MAX / 2, &r->start, err) != 0 ||
        params_int64(body, "end_time", PARAM_REQUIRED, 0, INT64_MAX / 2, &r->end, err) != 0)
        goto out;
    if (r->end <= r->start) {
        tc_err_set(err, TC_INVALID_PARAMETER, "end_time must be greater than start_time");
        goto out;
    }
    if (r->end - r->start > LIST_WINDOW_MAX_S) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "the window from start_time to end_time must be at most 31 days");
        goto out;
    }
    if (params_page(body, 100, 20, &r->p, &r->limit, err) != 0 ||
        params_bool(body, "asc", PARAM_OPTIONAL, &r->asc, err) != 0 ||
        params_bool(body, "is_snoozed", PARAM_OPTIONAL, &r->is_snoozed, err) != 0 ||
        params_bool(body, "ever_muted", PARAM_OPTIONAL, &ever_muted, err) != 0 ||
        params_bool(body, "is_rare", PARAM_OPTIONAL, &is_rare, err) != 0 ||
        params_bool(body, "is_my_team", PARAM_OPTIONAL, &my_team, err) != 0 ||
        params_bool(body, "is_my_channel", PARAM_OPTIONAL, &my_channel, err) != 0 ||
        params_string(body, "progress", PARAM_OPTIONAL, 256, PARAM_REFUSE, &prog, err) != 0 ||
        params_string(body, "incident_severity", PARAM_OPTIONAL, 256, PARAM_REFUSE, &sev, err) !=
            0 ||
        params_string(body, "query", PARAM_OPTIONAL, 512, PARAM_REFUSE, &r->query, err) != 0 ||
        params_string(body, "search_after_ctx", PARAM_OPTIONAL, 128, PARAM_REFUSE, &cursor, err) !=
            0 ||
        params_int64_array(body, "channel_ids", PARAM_OPTIONAL, 1000, &r->channel_ids, err) != 0 ||
        params_int64_array(body, "creator_ids", PARAM_OPTIONAL, 1000, &r->creator_ids, err) != 0 ||
        params_int64_array(body, "closer_ids", PARAM_OPTIONAL, 1000, &r->closer_ids, err) != 0 ||
        params_int64_array(body, "acker_ids", PARAM_OPTIONAL, 1000, &r->acker_ids, err) != 0 ||
        params_int64_array(body, "responder_ids", PARAM_OPTIONAL, 1000, &r->responder_ids, err) !=
            0 ||
        params_int64_array(body, "team_ids", PARAM_OPTIONAL, 1000, &team_ids, err) != 0 ||
        params_string_array(body, "nums", PARAM_OPTIONAL, 1000, &r->nums, err) != 0 ||
        params_string_array(body, "incident_ids", PARAM_OPTIONAL, 1000, &ids, err) != 0)
        goto out;
    if (prog &&
        (r->nprogress = listing_csv_enum("progress", prog, progress, r->progress, 3, err)) < 0)
        goto out;
    if (sev && (r->nseverity =
                    listing_csv_enum("incident_severity", sev, severity, r->severity, 4, err)) < 0)
        goto out;
    if (cursor && *cursor) {
        if (listing_cursor_decode("search_after_ctx", cursor, &r->cursor_key, r->cursor_id, err) !=
            0)
            goto out;
        r->has_cursor = 1;
    }
    if (ids) {
        int failed = 0;
        r->incident_ids = jb_check(json_array(), &failed);
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v) {
            char *low = strdup(json_string_value(v));
            for (char *q = low; q && *q; q++)
                *q = (char)tolower((unsigned char)*q);
            jb_append(r->incident_ids, low ? json_string(low) : NULL, &failed);
            free(low);
        }
        if (jb_done(failed, "incident_ids", err) != 0)
            goto out;
    }
    /* tocsin never silences incidents nor rates them rare, and has no teams
     * nor channel owners (as /channel/list's is_my_team): these filters
     * match nothing. */
    r->none = ever_muted || is_rare || my_team || my_channel;
    rc = 0;
out:
    free(prog);
    free(sev);
    free(cursor);
    return rc;
}

static void list_filter(const list_req *r, store_incident_filter *f) {
    *f = (store_incident_filter){.start = r->start,
                                 .end = r->end,
                                 .progress = r->progress,
                                 .nprogress = (size_t)r->nprogress,
                                 .severity = r->severity,
                                 .nseverity = (size_t)r->nseverity,
                                 .channel_ids = r->channel_ids,
                                 .creator_ids = r->creator_ids,
                                 .closer_ids = r->closer_ids,
                                 .responder_ids = r->responder_ids,
                                 .acker_ids = r->acker_ids,
                                 .nums = r->nums,
                                 .incident_ids = r->incident_ids,
                                 .query = r->query,
                                 .is_snoozed = r->is_snoozed,
                                 .asc = r->asc};
}

static int h_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    list_req r;
    memset(&r, 0, sizeof(r));
    json_t *items = json_array();
    tc_incident *page = NULL;
    size_t n = 0;
    int64_t total = 0;
    int has_next = 0, rc = -1;
    store_conn *c = NULL;
    if (!items) {
        tc_err_oom(err, "an incident list");
        goto out;
    }
    if (read_list_req(body, &r, err) != 0)
        goto out;
    if (!(page = calloc((size_t)r.limit, sizeof(*page)))) {
        tc_err_oom(err, "an incident list");
        goto out;
    }
    c = store_reader_acquire(ctx->app->st);
    if (!r.none) {
        store_incident_filter f;
        list_filter(&r, &f);
        if (store_incident_list_count(c, &f, &total, err) != 0 ||
            store_incident_list_page(c, &f, r.has_cursor ? r.cursor_id : NULL, r.cursor_key,
                                     (r.p - 1) * r.limit, r.limit, page, &n, &has_next, err) != 0)
            goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = NULL;
        if (incident_view_render(c, base_url(ctx), &page[i], &item, err) != 0)
            goto out;
        if (json_array_append_new(items, item) != 0) {
            tc_err_oom(err, "an incident list");
            goto out;
        }
    }
    int failed = 0;
    json_t *answer = jb_check(json_pack("{s:O, s:I, s:b}", "items", items, "total",
                                        (json_int_t)total, "has_next_page", has_next),
                              &failed);
    if (has_next && n) {
        char cursor[LISTING_CURSOR_MAX];
        listing_cursor_encode(page[n - 1].start_time, page[n - 1].incident_id, cursor);
        jb_set(answer, "search_after_ctx", json_string(cursor), &failed);
    }
    if (failed)
        json_decref(answer);
    rc = api_answer(failed ? NULL : answer, "an incident list", data, err);
out:
    if (c)
        store_reader_release(ctx->app->st, c);
    for (size_t i = 0; i < n; i++)
        tc_incident_clear(&page[i]);
    free(page);
    json_decref(items);
    list_req_clear(&r);
    return rc;
}

/* /incident/feed: the timeline, newest first unless asc. */
static const char *const FEED_TYPES[] = {
    "i_new",        "i_assign",       "i_a_rspd",     "i_notify",   "i_storm",  "i_snooze",
    "i_wake",       "i_ack",          "i_unack",      "i_comm",     "i_rslv",   "i_reopen",
    "i_merge",      "i_r_title",      "i_r_desc",     "i_r_impact", "i_r_rc",   "i_r_rsltn",
    "i_r_severity", "i_r_field",      "i_m_flapping", "i_m_reply",  "i_custom", "i_wr_create",
    "i_wr_delete",  "i_auto_refresh", "a_merge",      NULL};

static int read_feed_types(json_t *body, json_t **types, tc_err *err) {
    if (params_string_array(body, "types", PARAM_OPTIONAL, 64, types, err) != 0)
        return -1;
    size_t i;
    json_t *v;
    json_array_foreach(*types, i, v) {
        int known = 0;
        for (int k = 0; FEED_TYPES[k]; k++)
            known |= strcmp(FEED_TYPES[k], json_string_value(v)) == 0;
        if (!known)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "types[%zu] \"%.64s\" is not an incident feed type", i,
                              json_string_value(v));
    }
    return 0;
}

typedef struct {
    const char *incident_id;
    json_t *items;
} feed_ctx;

static int feed_row(void *arg, const store_feed_row *r, tc_err *err) {
    feed_ctx *f = arg;
    json_t *item = NULL;
    if (incident_view_feed_item(f->incident_id, r->seq, r->type, r->person_id, r->created_at,
                                r->detail, &item, err) != 0)
        return -1;
    if (json_array_append_new(f->items, item) != 0)
        return tc_err_oom(err, "a timeline");
    return 0;
}

static int h_feed(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char id[IDS_OBJECT_LEN + 1];
    int64_t p = 1, limit = 20;
    int asc = 0;
    json_t *types = NULL;
    if (params_object_id(body, "incident_id", PARAM_REQUIRED, id, err) != 0 ||
        params_page(body, 100, 20, &p, &limit, err) != 0 ||
        params_bool(body, "asc", PARAM_OPTIONAL, &asc, err) != 0 ||
        read_feed_types(body, &types, err) != 0)
        return -1;
    feed_ctx f = {.incident_id = id, .items = json_array()};
    if (!f.items)
        return tc_err_oom(err, "a timeline");
    store_conn *c = store_reader_acquire(ctx->app->st);
    tc_incident inc;
    int rc = -1, more = 0;
    if (incident_load(c, id, &inc, err) != 0)
        goto out;
    tc_incident_clear(&inc);
    if (store_events_feed(c, "incident", id, asc, types, p, limit, feed_row, &f, &more, err) != 0)
        goto out;
    rc = api_answer(json_pack("{s:b, s:O}", "has_next_page", more, "items", f.items), "a timeline",
                    data, err);
out:
    store_reader_release(ctx->app->st, c);
    json_decref(f.items);
    return rc;
}

/* /incident/alert/list: the incident's alerts, oldest first, as AlertInfo;
 * include_events adds each alert's newest events (at most 100 each: the
 * full history is /alert/event/list's, paged). */

#define ALERT_EVENTS_MAX 100

static int event_row(void *arg, const store_alert_event_item *e, tc_err *err) {
    json_t *item = NULL;
    if (incident_view_alert_event(e, &item, err) != 0)
        return -1;
    if (json_array_append_new(arg, item) != 0)
        return tc_err_oom(err, "an alert's events");
    return 0;
}

/* AlertInfo of each alert (rendered after the ids are read: rendering
 * runs queries of its own), with its events when asked. */
static int render_alerts(store_conn *c, char (*ids)[IDS_OBJECT_LEN + 1], size_t n, int with_events,
                         json_t *items, tc_err *err) {
    for (size_t i = 0; i < n; i++) {
        json_t *item = NULL, *events = NULL;
        if (alert_view_load_id(c, ids[i], &item, err) != 0)
            return -1;
        if (json_array_append_new(items, item) != 0)
            return tc_err_oom(err, "an incident's alerts");
        if (!with_events)
            continue;
        if (!(events = json_array()))
            return tc_err_oom(err, "an alert's events");
        if (store_incident_alert_events(c, ids[i], ALERT_EVENTS_MAX, event_row, events, err) != 0) {
            json_decref(events);
            return -1;
        }
        if (json_object_set_new(item, "events", events) != 0)
            return tc_err_oom(err, "an alert's events");
    }
    return 0;
}

static int h_alert_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char id[IDS_OBJECT_LEN + 1];
    int64_t p = 1, limit = 1000, total = 0;
    int is_active = -1, with_events = 0;
    if (params_object_id(body, "incident_id", PARAM_REQUIRED, id, err) != 0 ||
        params_page(body, 1000, 1000, &p, &limit, err) != 0 ||
        params_bool(body, "is_active", PARAM_OPTIONAL, &is_active, err) != 0 ||
        params_bool(body, "include_events", PARAM_OPTIONAL, &with_events, err) != 0)
        return -1;
    json_t *items = json_array();
    char(*ids)[IDS_OBJECT_LEN + 1] = calloc((size_t)limit, sizeof(*ids));
    size_t n = 0;
    if (!items || !ids) {
        json_decref(items);
        free(ids);
        return tc_err_oom(err, "an incident's alerts");
    }
    store_conn *c = store_reader_acquire(ctx->app->st);
    tc_incident inc;
    int rc = incident_load(c, id, &inc, err);
    tc_incident_clear(&inc);
    if (rc == 0)
        rc = store_incident_alerts_count(c, id, is_active, &total, err);
    if (rc == 0)
        rc = store_incident_alerts_page(c, id, is_active, (p - 1) * limit, limit, ids, &n, err);
    if (rc == 0)
        rc = render_alerts(c, ids, n, with_events, items, err);
    store_reader_release(ctx->app->st, c);
    free(ids);
    if (rc != 0) {
        json_decref(items);
        return -1;
    }
    return api_answer(json_pack("{s:o, s:I}", "items", items, "total", (json_int_t)total),
                      "an incident's alerts", data, err);
}

/* --- custom actions ----------------------------------------------------------------- */

/* The checks (incident exists, the integration is an enabled custom action
 * of its channel) and the push live in delivery/sync_send.c. */
static int h_custom_action(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char id[IDS_OBJECT_LEN + 1];
    int64_t integration_id = 0;
    if (params_object_id(body, "incident_id", PARAM_REQUIRED, id, err) != 0 ||
        params_int64(body, "integration_id", PARAM_REQUIRED, 1, INT64_MAX, &integration_id, err) !=
            0)
        return -1;
    return custom_action_do(ctx->app, id, integration_id, &ctx->person, data, err);
}

const api_route api_incident_routes[] = {
    {"/incident/create", h_create, API_AUTH_APP_KEY},
    {"/incident/info", h_info, API_AUTH_APP_KEY},
    {"/incident/list", h_list, API_AUTH_APP_KEY},
    {"/incident/list-by-ids", h_list_by_ids, API_AUTH_APP_KEY},
    {"/incident/ack", h_ack, API_AUTH_APP_KEY},
    {"/incident/unack", h_unack, API_AUTH_APP_KEY},
    {"/incident/snooze", h_snooze, API_AUTH_APP_KEY},
    {"/incident/wake", h_wake, API_AUTH_APP_KEY},
    {"/incident/resolve", h_resolve, API_AUTH_APP_KEY},
    {"/incident/reopen", h_reopen, API_AUTH_APP_KEY},
    {"/incident/assign", h_assign, API_AUTH_APP_KEY},
    {"/incident/responder/add", h_responder_add, API_AUTH_APP_KEY},
    {"/incident/comment", h_comment, API_AUTH_APP_KEY},
    {"/incident/reset", h_reset, API_AUTH_APP_KEY},
    {"/incident/field/reset", h_field_reset, API_AUTH_APP_KEY},
    {"/incident/merge", h_merge, API_AUTH_APP_KEY},
    {"/incident/remove", h_remove, API_AUTH_APP_KEY},
    {"/incident/feed", h_feed, API_AUTH_APP_KEY},
    {"/incident/alert/list", h_alert_list, API_AUTH_APP_KEY},
    {"/incident/custom-action/do", h_custom_action, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
