/* escalation.c: see escalation.h. */
#include "core/escalation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/incident.h"
#include "core/incident_actions.h"
#include "core/outbox.h"
#include "core/rule_filter.h"
#include "core/rule_window.h"
#include "core/state.h"
#include "store/persons.h"
#include "util/doc.h"
#include "util/log.h"

/* Due steps taken per tick; more wait for the next tick (250 ms). */
#define DUE_BATCH 256
/* People a layer assigns at most (person_ids + emails). */
#define LAYER_PEOPLE_MAX 200

void escalation_rule_clear(escalation_rule *r) {
    json_decref(r->layers);
    json_decref(r->time_filters);
    json_decref(r->filters);
    memset(r, 0, sizeof(*r));
}

/* A stored JSON list of the rule (util/doc.h: unreadable text, or no
 * memory to read it, is an InternalError, never an empty list). */
static int list_of(const char *text, const char *what, const char *rule_id, json_t **out,
                   tc_err *err) {
    if (doc_parse(text && *text ? text : "[]", what, rule_id, out, err) != 0)
        return -1;
    if (json_is_array(*out))
        return 0;
    json_decref(*out);
    *out = NULL;
    return tc_err_set(err, TC_INTERNAL, "the stored %s of rule %s is not a list", what, rule_id);
}

static int rule_fill(escalation_rule *out, const store_escalate_rule *r, tc_err *err) {
    memset(out, 0, sizeof(*out));
    snprintf(out->rule_id, sizeof(out->rule_id), "%s", r->rule_id);
    snprintf(out->rule_name, sizeof(out->rule_name), "%s", r->rule_name);
    out->channel_id = r->channel_id;
    out->aggr_window = r->aggr_window;
    out->enabled = strcmp(r->status, "enabled") == 0;
    out->deleted = r->deleted_at != 0;
    if (list_of(r->layers, "escalation_layers", r->rule_id, &out->layers, err) != 0 ||
        list_of(r->time_filters, "escalation_time_filters", r->rule_id, &out->time_filters, err) !=
            0 ||
        list_of(r->filters, "escalation_filters", r->rule_id, &out->filters, err) != 0) {
        escalation_rule_clear(out);
        return -1;
    }
    return 0;
}

static int take_rule(void *arg, const store_escalate_rule *r, tc_err *err) {
    return rule_fill(arg, r, err);
}

int escalation_rule_load(store_conn *c, int64_t channel_id, const char *rule_id, int with_deleted,
                         escalation_rule *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    return store_escalate_rules_get(c, channel_id, rule_id, with_deleted, take_rule, out, err);
}

/* ---- choosing a rule ---------------------------------------------------------- */

typedef struct {
    const rule_subject *subject;
    int64_t now_s;
    escalation_rule chosen;
    int found;
} chooser;

/* Whether the rule's windows (none = always) and filters (none = every
 * incident, so an empty list is not compiled: rule_filter refuses it) let
 * it apply. They are compiled from the stored text for each incident that
 * opens on a channel with enabled escalation rules: a rule holds at most 20
 * groups of 20 conditions, compiling is microseconds next to the store
 * reads around it, and it keeps the writer's cache free of compiled
 * escalation filters. A stored filter that no longer compiles (written
 * under an older, laxer matcher) applies to nothing and is logged. */
static int rule_applies(const escalation_rule *rule, const rule_subject *s, int64_t now_s,
                        int *applies, tc_err *err) {
    rule_window w;
    rule_filter *f = NULL;
    *applies = 0;
    if (rule_window_read_recurring(rule->time_filters, &w, err) != 0 ||
        (json_array_size(rule->filters) > 0 &&
         rule_filter_compile(rule->filters, "filters", &f, err) != 0)) {
        if (err->code != TC_INVALID_PARAMETER)
            return -1;
        log_warn("msg=\"escalation rule skipped: its stored filters do not compile\" rule_id=%s "
                 "error=\"%s\"",
                 rule->rule_id, err->message);
        tc_err_clear(err);
        return 0;
    }
    *applies = rule_window_active(&w, now_s) && (!f || rule_filter_match(f, s, 0));
    rule_filter_free(f);
    return 0;
}

static int try_rule(void *arg, const store_escalate_rule *r, tc_err *err) {
    chooser *ch = arg;
    int applies = 0;
    if (ch->found)
        return 0;
    escalation_rule rule;
    if (rule_fill(&rule, r, err) != 0)
        return -1;
    if (rule_applies(&rule, ch->subject, ch->now_s, &applies, err) != 0) {
        escalation_rule_clear(&rule);
        return -1;
    }
    if (applies) {
        ch->chosen = rule;
        ch->found = 1;
        return 0;
    }
    escalation_rule_clear(&rule);
    return 0;
}

/* The incident's first integration id (its data_source_id in filters), 0
 * when it has none (a hand-made incident). Unreadable text or no memory to
 * read it is an error (util/doc.h), never a guess. */
static int first_integration(const tc_incident *inc, int64_t *out, tc_err *err) {
    json_t *ids = NULL;
    *out = 0;
    if (doc_parse(inc->integration_ids && *inc->integration_ids ? inc->integration_ids : "[]",
                  "incident_integration_ids", inc->incident_id, &ids, err) != 0)
        return -1;
    *out = json_integer_value(json_array_get(ids, 0));
    json_decref(ids);
    return 0;
}

static void progress_init(store_escalation *e, const char *incident_id, const char *rule_id,
                          int64_t layer_idx, const char *state, const char *reason, int64_t next_at,
                          int64_t now_ms) {
    memset(e, 0, sizeof(*e));
    snprintf(e->incident_id, sizeof(e->incident_id), "%s", incident_id);
    snprintf(e->rule_id, sizeof(e->rule_id), "%s", rule_id);
    e->layer_idx = layer_idx;
    snprintf(e->state, sizeof(e->state), "%s", state);
    snprintf(e->reason, sizeof(e->reason), "%s", reason);
    e->next_at = next_at;
    e->updated_at = now_ms;
}

int escalation_choose(writer_txn *txn, const tc_incident *inc, int nrules, store_escalation *out,
                      int *chosen, tc_err *err) {
    *chosen = 0;
    if (nrules <= 0 || inc->channel_id == 0)
        return 0;
    json_t *labels = NULL;
    int64_t source = 0;
    if (first_integration(inc, &source, err) != 0 ||
        doc_parse(inc->labels && *inc->labels ? inc->labels : "{}", "incident_labels",
                  inc->incident_id, &labels, err) != 0)
        return -1;
    rule_subject subject = {.severity = model_rank_name(inc->severity),
                            .title = inc->title ? inc->title : "",
                            .description = inc->description,
                            .data_source_id = source,
                            .labels = labels};
    chooser ch = {.subject = &subject, .now_s = txn->now_ms / 1000};
    int rc = store_escalate_rules_each(txn->conn, inc->channel_id, 1, try_rule, &ch, err);
    json_decref(labels);
    if (rc != 0)
        return -1;
    if (!ch.found)
        return 0;
    progress_init(out, inc->incident_id, ch.chosen.rule_id, 0, "pending", "assign",
                  txn->now_ms + ch.chosen.aggr_window * 1000, txn->now_ms);
    escalation_rule_clear(&ch.chosen);
    *chosen = 1;
    return 0;
}

int escalation_begin(writer_txn *txn, const store_escalation *e, tc_err *err) {
    return store_escalations_put(txn->conn, e, err);
}

/* ---- entering a layer ----------------------------------------------------------- */

static int add_person(store_conn *c, int64_t id, tc_person *people, size_t *n, tc_err *err) {
    for (size_t k = 0; k < *n; k++) {
        if (people[k].person_id == id)
            return 0;
    }
    if (*n >= LAYER_PEOPLE_MAX)
        return 0;
    tc_person p = {.person_id = id};
    int found = store_persons_get(c, id, &p, err);
    if (found < 0)
        return -1;
    if (found)
        people[(*n)++] = p;
    else /* deleted since the rule was written: the others are still assigned */
        log_warn("msg=\"escalation target gone\" person_id=%lld", (long long)id);
    return 0;
}

/* The people of a layer's target: person_ids, then the members whose
 * e-mail is listed. Persons deleted since are left out. */
static int layer_people(store_conn *c, json_t *layer, tc_person *people, size_t *n, tc_err *err) {
    json_t *target = json_object_get(layer, "target");
    size_t i;
    json_t *v;
    *n = 0;
    json_array_foreach(json_object_get(target, "person_ids"), i, v) {
        if (add_person(c, json_integer_value(v), people, n, err) != 0)
            return -1;
    }
    json_array_foreach(json_object_get(target, "emails"), i, v) {
        int64_t id = 0;
        int owned = store_persons_email_owner(c, json_string_value(v), &id, err);
        if (owned < 0)
            return -1;
        if (owned && add_person(c, id, people, n, err) != 0)
            return -1;
    }
    return 0;
}

/* Assigns layer L's people (type), then schedules what follows into e. */
static int enter_layer(writer_txn *txn, tc_incident *inc, const tc_person *who,
                       const escalation_rule *rule, int64_t L, const char *type,
                       store_escalation *e, tc_err *err) {
    json_t *layer = json_array_get(rule->layers, (size_t)L);
    tc_person *people = calloc(LAYER_PEOPLE_MAX, sizeof(*people));
    size_t n = 0;
    if (!people)
        return tc_err_oom(err, "an escalation layer's people");
    incident_assign_rule via = {
        .rule_id = rule->rule_id, .rule_name = rule->rule_name, .layer_idx = L};
    int rc = layer_people(txn->conn, layer, people, &n, err) != 0 ||
                     incident_act_assign(txn, inc, who, people, n, type, &via, err) != 0
                 ? -1
                 : 0;
    free(people);
    if (rc != 0)
        return -1;
    size_t nlayers = json_array_size(rule->layers);
    if ((size_t)L + 1 < nlayers) {
        int64_t window = json_integer_value(json_object_get(layer, "escalate_window"));
        progress_init(e, inc->incident_id, rule->rule_id, L + 1, "escalate", "escalate",
                      txn->now_ms + window * 60 * 1000, txn->now_ms);
    } else {
        progress_init(e, inc->incident_id, rule->rule_id, L, "done", type, 0, txn->now_ms);
    }
    return 0;
}

/* ---- the due steps --------------------------------------------------------------- */

static void stop(store_escalation *e, const char *state, int64_t now_ms) {
    snprintf(e->state, sizeof(e->state), "%s", state);
    e->next_at = 0;
    e->updated_at = now_ms;
}

/* Whether the step into layer L may happen: an escalation (L > 0 after a
 * layer) is held back by an acknowledgement unless the layer it leaves
 * forces it. */
static int ack_holds(const escalation_rule *rule, const tc_incident *inc,
                     const store_escalation *e) {
    if (strcmp(e->state, "escalate") != 0 || inc->progress != PROGRESS_PROCESSING)
        return 0;
    json_t *from = json_array_get(rule->layers, (size_t)(e->layer_idx - 1));
    return !json_is_true(json_object_get(from, "force_escalate"));
}

static int step_loaded(writer_txn *txn, tc_incident *inc, const escalation_rule *rule,
                       store_escalation *e, tc_err *err) {
    if (rule->deleted || !rule->enabled || (size_t)e->layer_idx >= json_array_size(rule->layers)) {
        stop(e, "stopped", txn->now_ms);
    } else if (incident_is_closed(inc) || ack_holds(rule, inc, e)) {
        stop(e, "stopped", txn->now_ms);
    } else if (inc->snoozed_before > txn->now_ms / 1000) {
        stop(e, "paused", txn->now_ms);
    } else {
        char type[STORE_ESC_STATE_LEN];
        snprintf(type, sizeof(type), "%s", e->reason);
        if (enter_layer(txn, inc, NULL, rule, e->layer_idx, type, e, err) != 0)
            return -1;
    }
    return store_escalations_put(txn->conn, e, err);
}

static int step_one(writer_txn *txn, const char *incident_id, tc_err *err) {
    store_escalation e;
    int found = store_escalations_get(txn->conn, incident_id, &e, err);
    if (found <= 0)
        return found;
    if (e.next_at == 0 || e.next_at > txn->now_ms)
        return 0;
    tc_incident inc;
    if (incident_load(txn->conn, incident_id, &inc, err) != 0) {
        if (err->code != TC_INVALID_PARAMETER)
            return -1;
        stop(&e, "stopped", txn->now_ms); /* removed since */
        return store_escalations_put(txn->conn, &e, err);
    }
    escalation_rule rule;
    found = escalation_rule_load(txn->conn, 0, e.rule_id, 1, &rule, err);
    int rc = -1;
    if (found < 0)
        goto out;
    if (found == 0) {
        stop(&e, "stopped", txn->now_ms);
        rc = store_escalations_put(txn->conn, &e, err);
        goto out;
    }
    rc = step_loaded(txn, &inc, &rule, &e, err);
out:
    escalation_rule_clear(&rule);
    tc_incident_clear(&inc);
    return rc;
}

int escalation_run_due(writer_txn *txn, tc_err *err) {
    char ids[DUE_BATCH][IDS_OBJECT_LEN + 1];
    int n = store_escalations_due(txn->conn, txn->now_ms, ids, DUE_BATCH, err);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        tc_err one;
        int rc = writer_try_item(txn, step_one, ids[i], &one, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        char quoted[sizeof(one.message)];
        log_error("msg=\"escalation step failed\" incident_id=%s error=\"%s\"", ids[i],
                  log_quote(one.message, quoted, sizeof(quoted)));
        /* Not retried every tick: the failed step waits a minute. */
        store_escalation e;
        int found = store_escalations_get(txn->conn, ids[i], &e, err);
        if (found < 0)
            return -1;
        e.next_at = txn->now_ms + 60 * 1000;
        if (found && store_escalations_put(txn->conn, &e, err) != 0)
            return -1;
    }
    return 0;
}

/* ---- hooks from the incident's actions ---------------------------------------------- */

int escalation_restart(writer_txn *txn, const tc_incident *inc, const char *reason, tc_err *err) {
    store_escalation e;
    int found = store_escalations_get(txn->conn, inc->incident_id, &e, err);
    if (found <= 0 || strcmp(e.state, "off") == 0)
        return found < 0 ? -1 : 0;
    char rule_id[IDS_OBJECT_LEN + 1];
    snprintf(rule_id, sizeof(rule_id), "%s", e.rule_id);
    progress_init(&e, inc->incident_id, rule_id, 0, "pending", reason, txn->now_ms, txn->now_ms);
    return store_escalations_put(txn->conn, &e, err);
}

int escalation_leave(writer_txn *txn, const tc_incident *inc, tc_err *err) {
    store_escalation e;
    int found = store_escalations_get(txn->conn, inc->incident_id, &e, err);
    if (found <= 0)
        return found < 0 ? -1 : 0;
    stop(&e, "off", txn->now_ms);
    return store_escalations_put(txn->conn, &e, err);
}

int escalation_jump(writer_txn *txn, tc_incident *inc, const tc_person *who, const char *rule_id,
                    int64_t layer_idx, const char *type, tc_err *err) {
    escalation_rule rule;
    int found = inc->channel_id == 0
                    ? 0
                    : escalation_rule_load(txn->conn, inc->channel_id, rule_id, 0, &rule, err);
    if (found < 0)
        return -1;
    if (found == 0)
        return tc_err_set(err, TC_RESOURCE_NOT_FOUND,
                          "assigned_to.escalate_rule_id %s is not an escalation rule of the "
                          "incident's channel",
                          rule_id);
    int rc = -1;
    store_escalation e;
    if (layer_idx < 0 || (size_t)layer_idx >= json_array_size(rule.layers)) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "assigned_to.layer_idx must be between 0 and %zu (the rule's layers)",
                   json_array_size(rule.layers) - 1);
        goto out;
    }
    if (enter_layer(txn, inc, who, &rule, layer_idx, type, &e, err) != 0 ||
        store_escalations_put(txn->conn, &e, err) != 0)
        goto out;
    rc = 0;
out:
    escalation_rule_clear(&rule);
    return rc;
}

/* ---- the view -------------------------------------------------------------------------- */

int escalation_view(store_conn *c, const char *incident_id, json_t **out, tc_err *err) {
    store_escalation e;
    *out = NULL;
    int found = store_escalations_get(c, incident_id, &e, err);
    if (found <= 0)
        return found;
    escalation_rule rule;
    found = escalation_rule_load(c, 0, e.rule_id, 1, &rule, err);
    if (found < 0)
        return -1;
    *out = json_pack("{s:s, s:s, s:I, s:I, s:s, s:I}", "rule_id", e.rule_id, "rule_name",
                     found ? rule.rule_name : "", "layer_idx", (json_int_t)e.layer_idx, "layers",
                     (json_int_t)(found ? json_array_size(rule.layers) : 0), "state", e.state,
                     "next_at", (json_int_t)e.next_at);
    if (found)
        escalation_rule_clear(&rule);
    return *out ? 0 : tc_err_oom(err, "an incident's escalation");
}
