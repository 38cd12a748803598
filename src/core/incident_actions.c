/* incident_actions.c: see incident_actions.h.
 *
 * Every transition follows the same shape: refuse (naming the incident and
 * the reason) before any change, change the incident's fields, then
 * incident_commit with the timeline detail of the spec's FeedDetail*
 * schema for the type.
 *
 * The lists and maps of an incident (responders, pins, fields) are JSON
 * text: a change parses the text, changes the tree and dumps it back
 * compact (pins must stay {"key":true,...}: model_incident_pinned reads the
 * text). Text that cannot be read is an InternalError, never an empty list
 * silently saved over it. */
#include "core/incident_actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alert.h"
#include "core/engine.h"
#include "core/escalation.h"
#include "core/integration.h"
#include "core/outbox.h"
#include "store/alerts.h"
#include "store/persons.h"
#include "util/doc.h"
#include "util/ids.h"
#include "util/jbuild.h"
#include "util/log.h"

static int64_t get_int(json_t *obj, const char *key) {
    return json_integer_value(json_object_get(obj, key));
}

static const char *get_str(json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static void set_int(json_t *obj, const char *key, int64_t v, int *failed) {
    jb_set(obj, key, json_integer(v), failed);
}

static const char *str_or_empty(const char *s) {
    return s ? s : "";
}

static int64_t now_s(const writer_txn *txn) {
    return txn->now_ms / 1000;
}

/* ---- the JSON columns ------------------------------------------------------- */

/* Parses one of the incident's JSON columns (NULL or "" reads as `empty`,
 * "[]" or "{}"), which must be of that kind. */
static int parse_column(const tc_incident *inc, const char *text, const char *empty,
                        const char *what, json_t **out, tc_err *err) {
    if (doc_parse(text && *text ? text : empty, what, inc->incident_id, out, err) != 0)
        return -1;
    if (empty[0] == '[' ? json_is_array(*out) : json_is_object(*out))
        return 0;
    json_decref(*out);
    *out = NULL;
    log_error("msg=\"stored document unreadable\" what=%s id=%s error=\"not a JSON %s\"", what,
              inc->incident_id, empty[0] == '[' ? "array" : "object");
    return tc_err_set(err, TC_INTERNAL, "the stored %s %s cannot be read", what, inc->incident_id);
}

static int parse_responders(const tc_incident *inc, json_t **out, tc_err *err) {
    return parse_column(inc, inc->responders, "[]", "incident_responders", out, err);
}

/* Replaces *field with the compact text of v (consumed; NULL is a value
 * that could not be built). */
static int set_json(char **field, json_t *v, tc_err *err) {
    char *text = v ? jb_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text)
        return tc_err_oom(err, "changing an incident");
    free(*field);
    *field = text;
    return 0;
}

/* Marks a field as edited by hand (pins): alerts no longer change it. */
static int pin_field(tc_incident *inc, const char *key, tc_err *err) {
    json_t *pins = NULL;
    if (parse_column(inc, inc->pins, "{}", "incident_pins", &pins, err) != 0)
        return -1;
    if (json_object_set_new(pins, key, json_true()) != 0) {
        json_decref(pins);
        return tc_err_oom(err, "changing an incident");
    }
    return set_json(&inc->pins, pins, err);
}

/* *field = the Person JSON of p (somebody). */
static int set_person(char **field, const tc_person *p, tc_err *err) {
    return set_json(field, person_to_json(p), err);
}

/* The usual end of a change whose detail was built with jansson: a NULL
 * detail is one that could not be built (never "no detail"). */
static int commit(writer_txn *txn, tc_incident *inc, const char *type, const tc_person *who,
                  json_t *detail, tc_err *err) {
    if (!detail)
        return tc_err_oom(err, "a timeline entry");
    return incident_commit(txn, inc, type, who, detail, err);
}

/* --- pure helpers ------------------------------------------------------------ */

json_t *incident_responder_get(json_t *responders, int64_t person_id) {
    size_t i;
    json_t *r;
    json_array_foreach(responders, i, r) {
        if (get_int(r, "person_id") == person_id)
            return r;
    }
    return NULL;
}

int incident_responder_add(json_t *responders, const tc_person *person, int64_t assigned_at) {
    if (incident_responder_get(responders, person->person_id))
        return 0;
    json_t *r = json_pack("{s:I, s:s, s:s, s:I, s:I}", "person_id", (json_int_t)person->person_id,
                          "person_name", person->person_name, "email", person->email, "assigned_at",
                          (json_int_t)assigned_at, "acknowledged_at", (json_int_t)0);
    if (!r || json_array_append_new(responders, r) != 0)
        return -1;
    return 1;
}

int incident_ack_count(json_t *responders) {
    int n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(responders, i, r) {
        if (get_int(r, "acknowledged_at") > 0)
            n++;
    }
    return n;
}

int incident_acks_clear(json_t *responders) {
    size_t i;
    json_t *r;
    int failed = 0;
    json_array_foreach(responders, i, r) {
        set_int(r, "acknowledged_at", 0, &failed);
    }
    return failed ? -1 : 0;
}

int incident_is_closed(const tc_incident *inc) {
    return inc->progress == PROGRESS_CLOSED;
}

/* --- lookups ---------------------------------------------------------------- */

int incident_person_find(store_conn *c, int64_t person_id, const char *field, tc_person *out,
                         tc_err *err) {
    int found = store_persons_get(c, person_id, out, err);
    if (found < 0)
        return -1;
    if (!found)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s %lld does not exist", field,
                          (long long)person_id);
    return 0;
}

/* The persons' ids as a new array, or NULL when out of memory. */
static json_t *int_array(const tc_person *persons, size_t n) {
    json_t *a = json_array();
    int failed = 0;
    for (size_t i = 0; a && i < n; i++)
        jb_append(a, json_integer(persons[i].person_id), &failed);
    if (failed) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Every acknowledgement mark of the incident's responders cleared (every
 * way back to Triggered starts from none). */
static int clear_acks(tc_incident *inc, tc_err *err) {
    json_t *list = NULL;
    if (parse_responders(inc, &list, err) != 0)
        return -1;
    if (incident_acks_clear(list) != 0) {
        json_decref(list);
        return tc_err_oom(err, "changing an incident");
    }
    return set_json(&inc->responders, list, err);
}

/* --- progress ------------------------------------------------------------------ */

int incident_act_ack(writer_txn *txn, tc_incident *inc, const tc_person *who, tc_err *err) {
    if (incident_is_closed(inc))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "incident %s is closed: reopen it before acknowledging it",
                          inc->incident_id);
    int processing = inc->progress == PROGRESS_PROCESSING;
    json_t *list = NULL;
    if (parse_responders(inc, &list, err) != 0)
        return -1;
    json_t *r = incident_responder_get(list, who->person_id);
    if (processing && r && get_int(r, "acknowledged_at") > 0) {
        json_decref(list);
        return tc_err_set(err, TC_INVALID_PARAMETER, "incident %s is already acknowledged by you",
                          inc->incident_id);
    }
    /* Marks left from before an automatic wake do not count (see header). */
    int failed = !processing && incident_acks_clear(list) != 0;
    if (!failed && !r) {
        failed = incident_responder_add(list, who, now_s(txn)) < 0;
        r = incident_responder_get(list, who->person_id);
    }
    if (!failed)
        set_int(r, "acknowledged_at", now_s(txn), &failed);
    if (failed) {
        json_decref(list);
        return tc_err_oom(err, "changing an incident");
    }
    if (set_json(&inc->responders, list, err) != 0)
        return -1;
    inc->progress = PROGRESS_PROCESSING;
    if (inc->ack_time == 0)
        inc->ack_time = now_s(txn);
    return incident_commit(txn, inc, "i_ack", who, NULL, err);
}

int incident_act_unack(writer_txn *txn, tc_incident *inc, const tc_person *who, tc_err *err) {
    if (inc->progress != PROGRESS_PROCESSING)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "incident %s is not acknowledged (progress is %s)", inc->incident_id,
                          model_progress_name(inc->progress));
    json_t *list = NULL;
    if (parse_responders(inc, &list, err) != 0)
        return -1;
    json_t *r = incident_responder_get(list, who->person_id);
    if (!r || get_int(r, "acknowledged_at") == 0) {
        json_decref(list);
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "incident %s was not acknowledged by you: only an acknowledger can "
                          "withdraw an acknowledgement",
                          inc->incident_id);
    }
    int failed = 0;
    set_int(r, "acknowledged_at", 0, &failed);
    if (failed) {
        json_decref(list);
        return tc_err_oom(err, "changing an incident");
    }
    int none_left = incident_ack_count(list) == 0;
    if (set_json(&inc->responders, list, err) != 0)
        return -1;
    if (none_left)
        inc->progress = PROGRESS_TRIGGERED;
    return incident_commit(txn, inc, "i_unack", who, NULL, err);
}

int incident_act_snooze(writer_txn *txn, tc_incident *inc, const tc_person *who, int64_t minutes,
                        tc_err *err) {
    if (incident_is_closed(inc))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "incident %s is closed: only an open incident can be snoozed",
                          inc->incident_id);
    json_t *detail = json_pack("{s:I}", "minutes", (json_int_t)minutes);
    if (!detail)
        return tc_err_oom(err, "a timeline entry");
    inc->snoozed_before = now_s(txn) + minutes * 60;
    return incident_commit(txn, inc, "i_snooze", who, detail, err);
}

int incident_act_wake(writer_txn *txn, tc_incident *inc, const tc_person *who, tc_err *err) {
    int64_t before = inc->snoozed_before;
    if (before == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "incident %s is not snoozed",
                          inc->incident_id);
    if (clear_acks(inc, err) != 0)
        return -1;
    inc->snoozed_before = 0;
    inc->progress = PROGRESS_TRIGGERED;
    if (commit(txn, inc, "i_wake", who, json_pack("{s:I}", "snoozedBefore", (json_int_t)before),
               err) != 0)
        return -1;
    return escalation_restart(txn, inc, "assign", err); /* rules.md: wake restarts at layer 0 */
}

int incident_act_resolve(writer_txn *txn, tc_incident *inc, const tc_person *who,
                         const char *root_cause, const char *resolution, tc_err *err) {
    if (incident_is_closed(inc))
        return tc_err_set(err, TC_INVALID_PARAMETER, "incident %s is already closed",
                          inc->incident_id);
    if (who && who->person_id != 0 && set_person(&inc->closer, who, err) != 0)
        return -1;
    if ((root_cause && model_set_str(&inc->root_cause, root_cause) != 0) ||
        (resolution && model_set_str(&inc->resolution, resolution) != 0))
        return tc_err_oom(err, "changing an incident");
    inc->progress = PROGRESS_CLOSED;
    /* A hand resolve is no recovery: status and end_time stay as they were
     * (reference/webhooks.md: end_time is the recovery time). */
    inc->close_time = now_s(txn);
    inc->snoozed_before = 0;
    inc->closer_id = who ? who->person_id : 0;
    /* Closing takes the incident out of grouping (incident_track). */
    return commit(txn, inc, "i_rslv", who, json_pack("{s:s}", "from", "console"), err);
}

int incident_act_reopen(writer_txn *txn, tc_incident *inc, const tc_person *who, const char *reason,
                        tc_err *err) {
    if (!incident_is_closed(inc))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "incident %s is not closed (progress is %s): only a closed incident can "
                          "be reopened",
                          inc->incident_id, model_progress_name(inc->progress));
    json_t *detail = json_pack("{s:s}", "reason", reason ? reason : "");
    if (!detail)
        return tc_err_oom(err, "a timeline entry");
    if (clear_acks(inc, err) != 0) {
        json_decref(detail);
        return -1;
    }
    inc->progress = PROGRESS_TRIGGERED;
    inc->close_time = 0;
    inc->end_time = 0;
    free(inc->closer);
    inc->closer = NULL;
    inc->closer_id = 0;
    if (incident_commit(txn, inc, "i_reopen", who, detail, err) != 0)
        return -1;
    return escalation_restart(txn, inc, "reopen", err); /* and so does reopen */
}

/* --- people ------------------------------------------------------------------- */

/* The AssignedTo object of an assignment: a fresh id, the rule and layer
 * that made it (absent for a direct one: escalate_rule_id is a 24-hex id
 * when present), and the people. */
static json_t *assigned_to_new(const writer_txn *txn, const tc_person *persons, size_t n,
                               const char *type, const incident_assign_rule *rule, int *failed) {
    char id[IDS_OBJECT_LEN + 1];
    if (ids_object_new(id) != 0) {
        *failed = 1;
        return NULL;
    }
    json_t *at = jb_check(json_pack("{s:s, s:s}", "id", id, "type", type), failed);
    if (at && rule) {
        jb_set(at, "escalate_rule_id", json_string(rule->rule_id), failed);
        jb_set(at, "escalate_rule_name", json_string(rule->rule_name), failed);
        jb_set(at, "layer_idx", json_integer(rule->layer_idx), failed);
    }
    if (at) {
        jb_set(at, "assigned_at", json_integer(now_s(txn)), failed);
        jb_set(at, "person_ids", int_array(persons, n), failed);
    }
    return at;
}

int incident_act_assign(writer_txn *txn, tc_incident *inc, const tc_person *who,
                        const tc_person *persons, size_t n, const char *type,
                        const incident_assign_rule *rule, tc_err *err) {
    json_t *list = NULL;
    if (parse_responders(inc, &list, err) != 0)
        return -1;
    int failed = 0;
    for (size_t i = 0; i < n && !failed; i++)
        failed = incident_responder_add(list, &persons[i], now_s(txn)) < 0;
    json_t *assigned = failed ? NULL : assigned_to_new(txn, persons, n, type, rule, &failed);
    json_t *detail = assigned ? jb_check(json_deep_copy(assigned), &failed) : NULL;
    if (detail)
        jb_set(detail, "to", int_array(persons, n), &failed);
    if (failed) {
        json_decref(list);
        json_decref(assigned);
        json_decref(detail);
        return tc_err_oom(err, "changing an incident");
    }
    if (set_json(&inc->responders, list, err) != 0) {
        json_decref(assigned);
        json_decref(detail);
        return -1;
    }
    if (set_json(&inc->assigned_to, assigned, err) != 0) {
        json_decref(detail);
        return -1;
    }
    return incident_commit(txn, inc, "i_assign", who, detail, err);
}

int incident_act_add_responders(writer_txn *txn, tc_incident *inc, const tc_person *who,
                                const tc_person *persons, size_t n, tc_err *err) {
    json_t *list = NULL;
    if (parse_responders(inc, &list, err) != 0)
        return -1;
    int failed = 0;
    json_t *added = jb_check(json_array(), &failed);
    for (size_t i = 0; i < n && !failed; i++) {
        int rc = incident_responder_add(list, &persons[i], now_s(txn));
        failed |= rc < 0;
        if (rc == 1)
            jb_append(added, json_integer(persons[i].person_id), &failed);
    }
    if (failed || json_array_size(added) == 0) {
        json_decref(list);
        json_decref(added);
        /* none new: everyone was a responder already, nothing changed */
        return failed ? tc_err_oom(err, "changing an incident") : 0;
    }
    json_t *detail = json_pack("{s:o}", "to", added);
    if (!detail) {
        json_decref(list);
        return tc_err_oom(err, "a timeline entry");
    }
    if (set_json(&inc->responders, list, err) != 0) {
        json_decref(detail);
        return -1;
    }
    return incident_commit(txn, inc, "i_a_rspd", who, detail, err);
}

int incident_act_comment(writer_txn *txn, tc_incident *inc, const tc_person *who,
                         const char *comment, int mute_reply, tc_err *err) {
    return commit(txn, inc, "i_comm", who,
                  json_pack("{s:s, s:b}", "comment", comment, "mute_reply", mute_reply), err);
}

/* --- edits -------------------------------------------------------------------- */

typedef struct {
    const char *event_type; /* i_r_* */
    const char *pin;        /* pins key, or NULL when alerts never set it */
    int from_to;            /* detail carries {from, to} */
} field_rule;

static const field_rule FIELD_RULES[] = {
    [INCIDENT_FIELD_TITLE] = {"i_r_title", "title", 1},
    [INCIDENT_FIELD_DESCRIPTION] = {"i_r_desc", "description", 0},
    [INCIDENT_FIELD_IMPACT] = {"i_r_impact", NULL, 0},
    [INCIDENT_FIELD_ROOT_CAUSE] = {"i_r_rc", NULL, 0},
    [INCIDENT_FIELD_RESOLUTION] = {"i_r_rsltn", NULL, 0},
    [INCIDENT_FIELD_SEVERITY] = {"i_r_severity", "incident_severity", 1},
};

/* The text field a reset changes (NULL for the severity, a rank). */
static char **text_field(tc_incident *inc, incident_field field) {
    switch (field) {
    case INCIDENT_FIELD_TITLE:
        return &inc->title;
    case INCIDENT_FIELD_DESCRIPTION:
        return &inc->description;
    case INCIDENT_FIELD_IMPACT:
        return &inc->impact;
    case INCIDENT_FIELD_ROOT_CAUSE:
        return &inc->root_cause;
    case INCIDENT_FIELD_RESOLUTION:
        return &inc->resolution;
    case INCIDENT_FIELD_SEVERITY:
        break;
    }
    return NULL;
}

int incident_act_reset(writer_txn *txn, tc_incident *inc, const tc_person *who,
                       incident_field field, const char *value, tc_err *err) {
    const field_rule *rule = &FIELD_RULES[field];
    char **text = text_field(inc, field);
    int rank = text ? 0 : model_rank_parse(value);
    if (!text && rank <= RANK_OK) /* the API lets only Info, Warning, Critical through */
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "incident_severity must be one of Info, Warning, Critical");
    const char *from = text ? str_or_empty(*text) : model_rank_name(inc->severity);
    json_t *detail =
        rule->from_to ? json_pack("{s:s, s:s}", "from", from, "to", value) : json_object();
    if (!detail)
        return tc_err_oom(err, "a timeline entry");
    if (text && model_set_str(text, value) != 0) {
        json_decref(detail);
        return tc_err_oom(err, "changing an incident");
    }
    if (!text) {
        inc->severity = rank;
        if (inc->alert_cnt == 0 && !incident_is_closed(inc))
            /* No alert decides the status of a hand-made incident: it follows. */
            inc->status = rank;
    }
    if (rule->pin && pin_field(inc, rule->pin, err) != 0) {
        json_decref(detail);
        return -1;
    }
    return incident_commit(txn, inc, rule->event_type, who, detail, err);
}

int incident_act_set_field(writer_txn *txn, tc_incident *inc, const tc_person *who,
                           const char *name, json_t *value, tc_err *err) {
    json_t *detail = json_pack("{s:s, s:O}", "field_name", name, "to", value ? value : json_null());
    json_t *fields = NULL;
    if (!detail) {
        json_decref(value);
        return tc_err_oom(err, "a timeline entry");
    }
    if (parse_column(inc, inc->fields, "{}", "incident_fields", &fields, err) != 0) {
        json_decref(value);
        json_decref(detail);
        return -1;
    }
    int failed = 0;
    if (value)
        jb_set(fields, name, value, &failed);
    else
        json_object_del(fields, name);
    if (failed) {
        json_decref(fields);
        json_decref(detail);
        return tc_err_oom(err, "changing an incident");
    }
    if (set_json(&inc->fields, fields, err) != 0) {
        json_decref(detail);
        return -1;
    }
    return incident_commit(txn, inc, "i_r_field", who, detail, err);
}

int incident_act_remove(writer_txn *txn, tc_incident *inc, tc_err *err) {
    /* Saving a removed incident takes it out of the cache and of grouping. */
    inc->deleted_at = now_s(txn);
    return incident_save(txn, inc, err);
}

/* --- merge ------------------------------------------------------------------------ */

/* The ids of an incident's alerts, read whole before any moves (a move
 * rewrites the rows a cursor would be walking). */
typedef struct {
    char (*ids)[IDS_OBJECT_LEN + 1];
    size_t n, cap;
} id_vec;

static int collect_id(void *arg, const tc_alert *a, tc_err *err) {
    id_vec *v = arg;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void *grown = realloc(v->ids, cap * sizeof(*v->ids));
        if (!grown)
            return tc_err_oom(err, "the alerts of an incident");
        v->ids = grown;
        v->cap = cap;
    }
    memcpy(v->ids[v->n++], a->alert_id, sizeof(v->ids[0]));
    return 0;
}

/* Every alert of source moves into target, or the merge fails: one that
 * cannot be read is never skipped (it would stay behind in a closed
 * incident). */
static int move_alerts(writer_txn *txn, const char *source_id, tc_incident *target,
                       const tc_person *who, tc_err *err) {
    id_vec v = {0};
    int rc = store_alerts_each_of_incident(txn->conn, source_id, collect_id, &v, err);
    for (size_t i = 0; rc == 0 && i < v.n; i++) {
        tc_alert a;
        if (alert_load(txn->conn, v.ids[i], &a, err) != 0) {
            rc = -1;
            break;
        }
        rc = engine_alert_move(txn, &a, target, who, err);
        tc_alert_clear(&a);
    }
    free(v.ids);
    return rc;
}

static json_t *short_ref(const tc_incident *inc) {
    return json_pack("{s:s, s:s, s:s}", "incident_id", inc->incident_id, "title",
                     str_or_empty(inc->title), "progress", model_progress_name(inc->progress));
}

/* The source's responders join the target (ids appended to carried). */
static int carry_responders(writer_txn *txn, tc_incident *target, const tc_incident *src,
                            json_t *carried, tc_err *err) {
    json_t *from = NULL, *to = NULL;
    if (parse_responders(src, &from, err) != 0)
        return -1;
    if (parse_responders(target, &to, err) != 0) {
        json_decref(from);
        return -1;
    }
    size_t i;
    json_t *r;
    int failed = 0;
    json_array_foreach(from, i, r) {
        tc_person p = {.person_id = get_int(r, "person_id")};
        snprintf(p.person_name, sizeof(p.person_name), "%s", get_str(r, "person_name"));
        snprintf(p.email, sizeof(p.email), "%s", get_str(r, "email"));
        int added = incident_responder_add(to, &p, now_s(txn));
        if (added < 0) {
            failed = 1;
            break;
        }
        if (added)
            jb_append(carried, json_integer(p.person_id), &failed);
        if (failed)
            break;
    }
    json_decref(from);
    if (failed) {
        json_decref(to);
        return tc_err_oom(err, "merging responders");
    }
    return set_json(&target->responders, to, err);
}

/* One source: its responders join the target, it is closed by `who` or
 * removed, its alerts move, its counters are redone. */
static int merge_source(writer_txn *txn, tc_incident *target, tc_incident *src,
                        const tc_person *who, const incident_merge_opts *opts, json_t *carried,
                        tc_err *err) {
    if (carry_responders(txn, target, src, carried, err) != 0)
        return -1;
    if (opts->remove_sources) {
        if (incident_act_remove(txn, src, err) != 0)
            return -1;
    } else {
        if (!incident_is_closed(src) && incident_act_resolve(txn, src, who, NULL, NULL, err) != 0)
            return -1;
        json_t *note = json_pack("{s:s, s:o}", "comment", opts->comment ? opts->comment : "",
                                 "target_incident", short_ref(target));
        char *text = note ? jb_dumps(note, JSON_COMPACT) : NULL;
        json_decref(note);
        if (!text)
            return tc_err_oom(err, "a timeline entry");
        int rc = outbox_feed_only(txn, "i_merge", "incident", src->incident_id, src->channel_id,
                                  who, text, err);
        free(text);
        if (rc != 0)
            return -1;
    }
    if (move_alerts(txn, src->incident_id, target, who, err) != 0)
        return -1;
    return engine_incident_refresh(txn, src->incident_id, err);
}

int incident_act_merge(writer_txn *txn, tc_incident *target, tc_incident *sources, size_t n,
                       const tc_person *who, const incident_merge_opts *opts, tc_err *err) {
    char target_id[IDS_OBJECT_LEN + 1];
    memcpy(target_id, target->incident_id, sizeof(target_id));
    if (incident_is_closed(target))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "target_incident_id %s is closed: reopen it before merging into it",
                          target_id);
    json_t *carried = json_array(), *refs = json_array();
    char *responders = NULL;
    int rc = -1, failed = !carried || !refs;
    if (jb_done(failed, "merging incidents", err) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (merge_source(txn, target, &sources[i], who, opts, carried, err) != 0)
            goto out;
        jb_append(refs, short_ref(&sources[i]), &failed);
        if (jb_done(failed, "merging incidents", err) != 0)
            goto out;
    }
    /* The engine saved the target as the alerts moved; refresh recounts it
     * from its alerts. Reload so the last change starts from what is stored,
     * keeping the responders carried over. */
    if (!(responders = strdup(str_or_empty(target->responders)))) {
        tc_err_oom(err, "merging incidents");
        goto out;
    }
    if (engine_incident_refresh(txn, target_id, err) != 0)
        goto out;
    tc_incident_clear(target);
    if (incident_load(txn->conn, target_id, target, err) != 0)
        goto out;
    free(target->responders);
    target->responders = responders;
    responders = NULL;
    if (opts->title) {
        if (model_set_str(&target->title, opts->title) != 0) {
            tc_err_oom(err, "merging incidents");
            goto out;
        }
        if (pin_field(target, "title", err) != 0)
            goto out;
    }
    if (opts->owner_id)
        target->owner_id = opts->owner_id;
    json_t *detail = json_pack(
        "{s:s, s:O, s:o, s:I, s:s, s:b, s:O}", "comment", opts->comment ? opts->comment : "",
        "source_incidents", refs, "target_incident", short_ref(target), "owner_id",
        (json_int_t)opts->owner_id, "title", str_or_empty(target->title), "remove_source_incidents",
        opts->remove_sources, "source_responders", carried);
    rc = commit(txn, target, "i_merge", who, detail, err);
out:
    free(responders);
    json_decref(carried);
    json_decref(refs);
    return rc;
}

/* --- custom actions -------------------------------------------------------- */

void incident_custom_action_clear(incident_custom_action *ca) {
    json_decref(ca->config);
    memset(ca, 0, sizeof(*ca));
}

/* A custom action is bound to the channels listed in its config. */
static int bound_to_channel(json_t *config, int64_t channel_id) {
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(config, "channel_ids"), i, v) {
        if (json_integer_value(v) == channel_id)
            return 1;
    }
    return 0;
}

int incident_custom_action_find(store_conn *c, const tc_incident *inc, int64_t integration_id,
                                incident_custom_action *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    int64_t channel_id = inc->channel_id;
    integration in;
    integration_init(&in);
    int rc = -1;
    if (integration_load(c, integration_id, &in, err) != 0)
        goto out;
    if (strcmp(in.status, "deleted") == 0) {
        tc_err_set(err, TC_INVALID_PARAMETER, "integration_id %lld does not exist",
                   (long long)integration_id);
        goto out;
    }
    if (strcmp(in.type, "custom_action") != 0) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "integration_id %lld is not a custom action (it is a %s integration)",
                   (long long)integration_id, in.type);
        goto out;
    }
    if (strcmp(in.status, "enabled") != 0) {
        tc_err_set(err, TC_INVALID_PARAMETER, "integration_id %lld is disabled",
                   (long long)integration_id);
        goto out;
    }
    if (!bound_to_channel(in.config, channel_id)) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "integration_id %lld is not a custom action of the incident's channel %lld",
                   (long long)integration_id, (long long)channel_id);
        goto out;
    }
    out->integration_id = integration_id;
    snprintf(out->name, sizeof(out->name), "%s", in.name ? in.name : "");
    out->config = json_incref(in.config);
    rc = 0;
out:
    integration_clear(&in);
    return rc;
}
