/* incident_actions.c: see incident_actions.h.
 *
 * Every transition follows the same shape: refuse (naming the incident and
 * the reason) before any change, change doc/meta, then incident_commit with
 * the timeline detail of the spec's FeedDetail* schema for the type. */
#include "core/incident_actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/integration.h"
#include "util/doc.h"
#include "util/ids.h"
#include "util/jbuild.h"

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

static void set_str(json_t *obj, const char *key, const char *v, int *failed) {
    jb_set(obj, key, json_string(v), failed);
}

static const char *inc_id(const incident *inc) {
    return get_str(inc->doc, "incident_id");
}

static int64_t now_s(const writer_txn *txn) {
    return txn->now_ms / 1000;
}

/* Marks a field as edited by hand (meta.pins): alerts no longer change it. */
static void pin_field(json_t *meta, const char *key, int *failed) {
    json_t *pins = json_object_get(meta, "pins");
    if (!json_is_object(pins)) {
        pins = json_object();
        jb_set(meta, "pins", pins, failed);
        if (*failed) /* pins may be gone: the change has failed anyway */
            return;
    }
    jb_set(pins, key, json_true(), failed);
}

/* The change of doc/meta could not be made whole: the incident must not be
 * saved (the command fails and its SAVEPOINT undoes the rest). */
static int changed_or_fail(int failed, tc_err *err) {
    return jb_done(failed, "changing an incident", err);
}

/* --- pure helpers ------------------------------------------------------------ */

json_t *incident_responder_get(json_t *doc, int64_t person_id) {
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "responders"), i, r) {
        if (get_int(r, "person_id") == person_id)
            return r;
    }
    return NULL;
}

int incident_responder_add(json_t *doc, const tc_person *person, int64_t assigned_at) {
    if (incident_responder_get(doc, person->person_id))
        return 0;
    json_t *list = json_object_get(doc, "responders");
    if (!json_is_array(list)) {
        list = json_array();
        if (!list || json_object_set_new(doc, "responders", list) != 0)
            return -1;
    }
    json_t *r = json_pack("{s:I, s:s, s:s, s:I, s:I}", "person_id", (json_int_t)person->person_id,
                          "person_name", person->person_name, "email", person->email, "assigned_at",
                          (json_int_t)assigned_at, "acknowledged_at", (json_int_t)0);
    if (!r || json_array_append_new(list, r) != 0)
        return -1;
    return 1;
}

int incident_ack_count(json_t *doc) {
    int n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "responders"), i, r) {
        if (get_int(r, "acknowledged_at") > 0)
            n++;
    }
    return n;
}

int incident_acks_clear(json_t *doc) {
    size_t i;
    json_t *r;
    int failed = 0;
    json_array_foreach(json_object_get(doc, "responders"), i, r) {
        set_int(r, "acknowledged_at", 0, &failed);
    }
    return failed ? -1 : 0;
}

int incident_is_closed(json_t *doc) {
    return strcmp(get_str(doc, "progress"), "Closed") == 0;
}

/* --- lookups ---------------------------------------------------------------- */

int incident_person_find(store_conn *c, int64_t person_id, const char *field, tc_person *out,
                         tc_err *err) {
    store_stmt *q = store_prepare(
        c, "SELECT person_name, email FROM persons WHERE person_id = ? AND status <> 'deleted'",
        err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, person_id);
    int step = store_step(q, err);
    if (step == STORE_ROW) {
        out->person_id = person_id;
        snprintf(out->person_name, sizeof(out->person_name), "%s", store_col_text(q, 0));
        snprintf(out->email, sizeof(out->email), "%s", store_col_text(q, 1));
    }
    store_stmt_done(q);
    if (step < 0)
        return -1;
    if (step == STORE_DONE)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s %lld does not exist", field,
                          (long long)person_id);
    return 0;
}

/* Rows that let new alerts group into an open incident; a closed or removed
 * incident must take none. */
static int drop_group_rows(writer_txn *txn, const char *incident_id, tc_err *err) {
    store_stmt *st =
        store_prepare(txn->conn, "DELETE FROM incident_groups WHERE incident_id = ?", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, incident_id);
    return store_run(st, err);
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

/* --- progress ------------------------------------------------------------------ */

int incident_act_ack(writer_txn *txn, incident *inc, const tc_person *who, tc_err *err) {
    json_t *doc = inc->doc;
    if (incident_is_closed(doc))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "incident %s is closed: reopen it before acknowledging it", inc_id(inc));
    int processing = strcmp(get_str(doc, "progress"), "Processing") == 0;
    json_t *r = incident_responder_get(doc, who->person_id);
    if (processing && r && get_int(r, "acknowledged_at") > 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "incident %s is already acknowledged by you",
                          inc_id(inc));
    /* Marks left from before an automatic wake do not count (see header). */
    int failed = !processing && incident_acks_clear(doc) != 0;
    if (!r) {
        if (incident_responder_add(doc, who, now_s(txn)) < 0)
            return changed_or_fail(1, err);
        r = incident_responder_get(doc, who->person_id);
    }
    set_int(r, "acknowledged_at", now_s(txn), &failed);
    set_str(doc, "progress", "Processing", &failed);
    if (get_int(doc, "ack_time") == 0)
        set_int(doc, "ack_time", now_s(txn), &failed);
    if (changed_or_fail(failed, err) != 0)
        return -1;
    return incident_commit(txn, inc, "i_ack", who, json_object(), err);
}

int incident_act_unack(writer_txn *txn, incident *inc, const tc_person *who, tc_err *err) {
    json_t *doc = inc->doc;
    json_t *r = incident_responder_get(doc, who->person_id);
    if (strcmp(get_str(doc, "progress"), "Processing") != 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "incident %s is not acknowledged (progress is %s)", inc_id(inc),
                          get_str(doc, "progress"));
    if (!r || get_int(r, "acknowledged_at") == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "incident %s was not acknowledged by you: only an acknowledger can "
                          "withdraw an acknowledgement",
                          inc_id(inc));
    int failed = 0;
    set_int(r, "acknowledged_at", 0, &failed);
    if (incident_ack_count(doc) == 0)
        set_str(doc, "progress", "Triggered", &failed);
    if (changed_or_fail(failed, err) != 0)
        return -1;
    return incident_commit(txn, inc, "i_unack", who, json_object(), err);
}

int incident_act_snooze(writer_txn *txn, incident *inc, const tc_person *who, int64_t minutes,
                        tc_err *err) {
    if (incident_is_closed(inc->doc))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "incident %s is closed: only an open incident can be snoozed",
                          inc_id(inc));
    int failed = 0;
    set_int(inc->doc, "snoozed_before", now_s(txn) + minutes * 60, &failed);
    if (changed_or_fail(failed, err) != 0)
        return -1;
    return incident_commit(txn, inc, "i_snooze", who,
                           json_pack("{s:I}", "minutes", (json_int_t)minutes), err);
}

int incident_act_wake(writer_txn *txn, incident *inc, const tc_person *who, tc_err *err) {
    int64_t before = get_int(inc->doc, "snoozed_before");
    if (before == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "incident %s is not snoozed", inc_id(inc));
    int failed = incident_acks_clear(inc->doc) != 0;
    set_int(inc->doc, "snoozed_before", 0, &failed);
    set_str(inc->doc, "progress", "Triggered", &failed);
    if (changed_or_fail(failed, err) != 0)
        return -1;
    return incident_commit(txn, inc, "i_wake", who,
                           json_pack("{s:I}", "snoozedBefore", (json_int_t)before), err);
}

int incident_act_resolve(writer_txn *txn, incident *inc, const tc_person *who,
                         const char *root_cause, const char *resolution, tc_err *err) {
    json_t *doc = inc->doc;
    if (incident_is_closed(doc))
        return tc_err_set(err, TC_INVALID_PARAMETER, "incident %s is already closed", inc_id(inc));
    int failed = 0;
    set_str(doc, "progress", "Closed", &failed);
    set_int(doc, "close_time", now_s(txn), &failed);
    if (get_int(doc, "end_time") == 0)
        set_int(doc, "end_time", now_s(txn), &failed);
    set_int(doc, "snoozed_before", 0, &failed);
    if (root_cause)
        set_str(doc, "root_cause", root_cause, &failed);
    if (resolution)
        set_str(doc, "resolution", resolution, &failed);
    person_json_set(doc, "closer", who, &failed);
    set_int(inc->meta, "closer_id", who ? who->person_id : 0, &failed);
    if (changed_or_fail(failed, err) != 0 || drop_group_rows(txn, inc_id(inc), err) != 0)
        return -1;
    return incident_commit(txn, inc, "i_rslv", who, json_pack("{s:s}", "from", "console"), err);
}

int incident_act_reopen(writer_txn *txn, incident *inc, const tc_person *who, const char *reason,
                        tc_err *err) {
    json_t *doc = inc->doc;
    if (!incident_is_closed(doc))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "incident %s is not closed (progress is %s): only a closed incident can "
                          "be reopened",
                          inc_id(inc), get_str(doc, "progress"));
    int failed = incident_acks_clear(doc) != 0;
    set_str(doc, "progress", "Triggered", &failed);
    set_int(doc, "close_time", 0, &failed);
    set_int(doc, "end_time", 0, &failed);
    json_object_del(doc, "closer");
    set_int(inc->meta, "closer_id", 0, &failed);
    if (changed_or_fail(failed, err) != 0)
        return -1;
    return incident_commit(txn, inc, "i_reopen", who,
                           json_pack("{s:s}", "reason", reason ? reason : ""), err);
}

/* --- people ------------------------------------------------------------------- */

int incident_act_assign(writer_txn *txn, incident *inc, const tc_person *who,
                        const tc_person *persons, size_t n, const char *type, tc_err *err) {
    for (size_t i = 0; i < n; i++) {
        if (incident_responder_add(inc->doc, &persons[i], now_s(txn)) < 0)
            return changed_or_fail(1, err);
    }
    int failed = 0;
    json_t *assigned = jb_check(json_pack("{s:o, s:s, s:I}", "person_ids", int_array(persons, n),
                                          "type", type, "assigned_at", (json_int_t)now_s(txn)),
                                &failed);
    json_t *detail = jb_check(json_deep_copy(assigned), &failed);
    jb_set(inc->meta, "assigned_to", assigned, &failed);
    jb_set(detail, "to", int_array(persons, n), &failed);
    if (changed_or_fail(failed, err) != 0) {
        json_decref(detail);
        return -1;
    }
    return incident_commit(txn, inc, "i_assign", who, detail, err);
}

int incident_act_add_responders(writer_txn *txn, incident *inc, const tc_person *who,
                                const tc_person *persons, size_t n, tc_err *err) {
    int failed = 0;
    json_t *added = jb_check(json_array(), &failed);
    for (size_t i = 0; i < n && !failed; i++) {
        int rc = incident_responder_add(inc->doc, &persons[i], now_s(txn));
        failed |= rc < 0;
        if (rc == 1)
            jb_append(added, json_integer(persons[i].person_id), &failed);
    }
    if (changed_or_fail(failed, err) != 0) {
        json_decref(added);
        return -1;
    }
    if (json_array_size(added) == 0) {
        json_decref(added);
        return 0; /* everyone was a responder already: nothing changed */
    }
    return incident_commit(txn, inc, "i_a_rspd", who, json_pack("{s:o}", "to", added), err);
}

int incident_act_comment(writer_txn *txn, incident *inc, const tc_person *who, const char *comment,
                         int mute_reply, tc_err *err) {
    return incident_commit(txn, inc, "i_comm", who,
                           json_pack("{s:s, s:b}", "comment", comment, "mute_reply", mute_reply),
                           err);
}

/* --- edits -------------------------------------------------------------------- */

typedef struct {
    const char *key;        /* doc field */
    const char *event_type; /* i_r_* */
    const char *pin;        /* meta.pins key, or NULL when alerts never set it */
    int from_to;            /* detail carries {from, to} */
} field_rule;

static const field_rule FIELD_RULES[] = {
    [INCIDENT_FIELD_TITLE] = {"title", "i_r_title", "title", 1},
    [INCIDENT_FIELD_DESCRIPTION] = {"description", "i_r_desc", "description", 0},
    [INCIDENT_FIELD_IMPACT] = {"impact", "i_r_impact", NULL, 0},
    [INCIDENT_FIELD_ROOT_CAUSE] = {"root_cause", "i_r_rc", NULL, 0},
    [INCIDENT_FIELD_RESOLUTION] = {"resolution", "i_r_rsltn", NULL, 0},
    [INCIDENT_FIELD_SEVERITY] = {"incident_severity", "i_r_severity", "incident_severity", 1},
};

int incident_act_reset(writer_txn *txn, incident *inc, const tc_person *who, incident_field field,
                       const char *value, tc_err *err) {
    const field_rule *rule = &FIELD_RULES[field];
    json_t *detail =
        rule->from_to ? json_pack("{s:s, s:s}", "from", get_str(inc->doc, rule->key), "to", value)
                      : json_object();
    int failed = 0;
    set_str(inc->doc, rule->key, value, &failed);
    if (field == INCIDENT_FIELD_SEVERITY && get_int(inc->doc, "alert_cnt") == 0 &&
        !incident_is_closed(inc->doc))
        /* No alert decides the status of a hand-made incident: it follows. */
        set_str(inc->doc, "incident_status", value, &failed);
    if (rule->pin)
        pin_field(inc->meta, rule->pin, &failed);
    if (changed_or_fail(failed, err) != 0) {
        json_decref(detail);
        return -1;
    }
    return incident_commit(txn, inc, rule->event_type, who, detail, err);
}

int incident_act_set_field(writer_txn *txn, incident *inc, const tc_person *who, const char *name,
                           json_t *value, tc_err *err) {
    json_t *detail = json_pack("{s:s, s:O}", "field_name", name, "to", value ? value : json_null());
    json_t *fields = json_object_get(inc->doc, "fields");
    int failed = 0;
    if (!json_is_object(fields)) {
        fields = json_object();
        jb_set(inc->doc, "fields", fields, &failed);
    }
    if (failed) /* fields may be gone */
        json_decref(value);
    else if (value)
        jb_set(fields, name, value, &failed);
    else
        json_object_del(fields, name);
    if (changed_or_fail(failed, err) != 0) {
        json_decref(detail);
        return -1;
    }
    return incident_commit(txn, inc, "i_r_field", who, detail, err);
}

int incident_act_remove(writer_txn *txn, incident *inc, tc_err *err) {
    store_stmt *st = store_prepare(
        txn->conn, "UPDATE incidents SET deleted_at = ?, updated_at = ? WHERE incident_id = ?",
        err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, now_s(txn));
    store_bind_int64(st, 2, now_s(txn));
    store_bind_text(st, 3, inc_id(inc));
    if (store_run(st, err) != 0)
        return -1;
    return drop_group_rows(txn, inc_id(inc), err);
}

/* --- merge ------------------------------------------------------------------------ */

/* The alert documents of an incident, read whole before any moves (joining
 * rewrites the rows a cursor would be walking). */
static int alerts_of(store_conn *c, const char *incident_id, json_t **out, tc_err *err) {
    *out = json_array();
    store_stmt *q = store_prepare(
        c, "SELECT alert_id, doc FROM alerts WHERE incident_id = ? ORDER BY start_time, alert_id",
        err);
    if (!q || !*out) {
        json_decref(*out);
        *out = NULL;
        store_stmt_done(q);
        return q ? tc_err_oom(err, "the alerts of an incident") : -1;
    }
    store_bind_text(q, 1, incident_id);
    int step;
    /* Every alert moves, or the merge fails: one that cannot be read is
     * never skipped (it would stay behind in a closed incident). */
    while ((step = store_step(q, err)) == STORE_ROW) {
        json_t *doc = NULL;
        if (doc_parse(store_col_text(q, 1), "alert", store_col_text(q, 0), &doc, err) != 0) {
            step = -1;
            break;
        }
        if (json_array_append_new(*out, doc) != 0) {
            step = tc_err_oom(err, "the alerts of an incident");
            break;
        }
    }
    store_stmt_done(q);
    if (step < 0) {
        json_decref(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static json_t *short_ref(const incident *inc) {
    return json_pack("{s:s, s:s, s:s}", "incident_id", inc_id(inc), "title",
                     get_str(inc->doc, "title"), "progress", get_str(inc->doc, "progress"));
}

/* One source: its responders join the target (ids appended to carried), it
 * is closed by `who` or removed, its alerts move, its counters are redone. */
static int merge_source(writer_txn *txn, incident *target, incident *src, const tc_person *who,
                        const incident_merge_opts *opts, json_t *carried, tc_err *err) {
    size_t i;
    json_t *r, *alerts = NULL;
    json_array_foreach(json_object_get(src->doc, "responders"), i, r) {
        tc_person p = {.person_id = get_int(r, "person_id")};
        snprintf(p.person_name, sizeof(p.person_name), "%s", get_str(r, "person_name"));
        snprintf(p.email, sizeof(p.email), "%s", get_str(r, "email"));
        int added = incident_responder_add(target->doc, &p, now_s(txn));
        if (added < 0)
            return changed_or_fail(1, err);
        if (added && json_array_append_new(carried, json_integer(p.person_id)) != 0)
            return tc_err_oom(err, "merging responders");
    }
    if (opts->remove_sources) {
        if (incident_act_remove(txn, src, err) != 0)
            return -1;
    } else {
        if (!incident_is_closed(src->doc) &&
            incident_act_resolve(txn, src, who, NULL, NULL, err) != 0)
            return -1;
        json_t *note = json_pack("{s:s, s:o}", "comment", opts->comment ? opts->comment : "",
                                 "target_incident", short_ref(target));
        if (incident_feed_add(txn, inc_id(src), "i_merge", who, note, err) != 0)
            return -1;
    }
    if (alerts_of(txn->conn, inc_id(src), &alerts, err) != 0)
        return -1;
    int rc = 0;
    json_t *a;
    json_array_foreach(alerts, i, a) {
        if ((rc = engine_alert_join(txn, a, target, who, err)) != 0)
            break;
    }
    json_decref(alerts);
    if (rc != 0)
        return -1;
    return engine_incident_refresh(txn, inc_id(src), err);
}

int incident_act_merge(writer_txn *txn, incident *target, incident *sources, size_t n,
                       const tc_person *who, const incident_merge_opts *opts, tc_err *err) {
    char target_id[IDS_OBJECT_LEN + 1];
    snprintf(target_id, sizeof(target_id), "%s", inc_id(target));
    if (incident_is_closed(target->doc))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "target_incident_id %s is closed: reopen it before merging into it",
                          target_id);
    json_t *carried = json_array(), *refs = json_array();
    int rc = -1, failed = !carried || !refs;
    if (changed_or_fail(failed, err) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (merge_source(txn, target, &sources[i], who, opts, carried, err) != 0)
            goto out;
        jb_append(refs, short_ref(&sources[i]), &failed);
        if (changed_or_fail(failed, err) != 0)
            goto out;
    }
    /* The engine saved the target as the alerts joined; refresh recounts it
     * from its alerts. Reload so the last change starts from what is stored,
     * keeping the responders carried over. */
    json_t *responders = json_incref(json_object_get(target->doc, "responders"));
    if (engine_incident_refresh(txn, target_id, err) != 0) {
        json_decref(responders);
        goto out;
    }
    incident_clear(target);
    if (incident_load(txn->conn, target_id, target, err) != 0) {
        json_decref(responders);
        goto out;
    }
    if (responders)
        jb_set(target->doc, "responders", responders, &failed);
    if (opts->title) {
        set_str(target->doc, "title", opts->title, &failed);
        pin_field(target->meta, "title", &failed);
    }
    if (opts->owner_id)
        set_int(target->meta, "owner_id", opts->owner_id, &failed);
    if (changed_or_fail(failed, err) != 0)
        goto out;
    json_t *detail = json_pack(
        "{s:s, s:O, s:o, s:I, s:s, s:b, s:O}", "comment", opts->comment ? opts->comment : "",
        "source_incidents", refs, "target_incident", short_ref(target), "owner_id",
        (json_int_t)opts->owner_id, "title", get_str(target->doc, "title"),
        "remove_source_incidents", opts->remove_sources, "source_responders", carried);
    rc = incident_commit(txn, target, "i_merge", who, detail, err);
out:
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

int incident_custom_action_find(store_conn *c, const incident *inc, int64_t integration_id,
                                incident_custom_action *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    int64_t channel_id = get_int(inc->doc, "channel_id");
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
