/* sync_send.c: see sync_send.h. */
#include "delivery/sync_send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/incident.h"
#include "core/incident_actions.h"
#include "core/outbox.h"
#include "delivery/dispatcher.h"
#include "util/clock.h"
#include "util/doc.h"
#include "util/ids.h"
#include "util/jbuild.h"
#include "util/log.h"

#define SYNC_MAX_ATTEMPTS 2

void sync_result_clear(sync_result *r) {
    free(r->response_body);
    memset(r, 0, sizeof(*r));
}

typedef struct {
    const history_subject *s;
    const char *endpoint;
    push_attempt *attempts;
    int n;
} record_arg;

static int record_attempts_cmd(writer_txn *txn, void *argp, tc_err *err) {
    record_arg *arg = argp;
    for (int i = 0; i < arg->n; i++) {
        history_subject s = *arg->s;
        s.attempt = i + 1;
        if (history_insert(txn, &s, arg->endpoint, &arg->attempts[i], err) != 0)
            return -1;
    }
    return 0;
}

static int fill_result(const push_attempt *a, int attempts, sync_result *out, tc_err *err) {
    out->delivered = a->outcome == OUTCOME_DELIVERED;
    out->status_code = a->status;
    out->duration_ms = a->duration_ms;
    out->attempts = attempts;
    if (!out->delivered)
        snprintf(out->message, sizeof(out->message), "%s", a->error);
    if (a->resp_body && !(out->response_body = strdup(a->resp_body)))
        return tc_err_oom(err, "an endpoint's answer");
    return 0;
}

int sync_send(tc_app *app, const push_target *t, const history_subject *s, const char *body,
              int retry_once, sync_result *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    push_attempt attempts[SYNC_MAX_ATTEMPTS];
    const push_network *net = app->d ? dispatcher_network(app->d) : NULL;
    int n = 0, rc = -1;
    while (n < SYNC_MAX_ATTEMPTS) {
        if (push_attempt_prepare(&attempts[n], t, net, s->event_id, s->sequence, body,
                                 clock_now_s(), err) != 0)
            goto out;
        push_attempt_perform(&attempts[n], clock_now_s());
        char quoted[sizeof(attempts[n].error)];
        log_info("msg=attempt integration_id=%lld event_id=%s event_type=%s attempt=%d "
                 "status=%ld duration_ms=%lld outcome=%s error=\"%s\"",
                 (long long)t->integration_id, s->event_id, s->event_type, n + 1,
                 attempts[n].status, (long long)attempts[n].duration_ms,
                 attempts[n].outcome == OUTCOME_DELIVERED ? "delivered" : "failed",
                 log_quote(attempts[n].error, quoted, sizeof(quoted)));
        n++;
        /* Only a transport failure (no answer at all) is worth a second try
         * while the caller waits; an answer, even 5xx, is the answer. */
        int transport = attempts[n - 1].status == 0 && attempts[n - 1].outcome == OUTCOME_RETRY;
        if (!retry_once || !transport)
            break;
    }
    /* Recorded first: the attempts were made, whatever happens next. */
    record_arg arg = {.s = s, .endpoint = t->endpoint, .attempts = attempts, .n = n};
    if (writer_run(app->w, record_attempts_cmd, &arg, err) != 0 ||
        fill_result(&attempts[n - 1], n, out, err) != 0)
        goto out;
    rc = 0;
out:
    for (int i = 0; i < n; i++)
        push_attempt_clear(&attempts[i]);
    return rc;
}

/* ---- custom actions ---------------------------------------------------------- */

typedef struct {
    const char *incident_id;
    int64_t integration_id;
    const tc_person *who;
    /* out */
    char event_id[IDS_OBJECT_LEN + 1];
    int64_t sequence;
    int64_t channel_id;
    json_t *incident; /* the doc as stored with i_custom */
} emit_arg;

/* Stores i_custom (incident webhooks subscribe to it like to any event)
 * and numbers the action's own lane. The incident is re-read here, in the
 * writer, so the pushed object is exactly the one stored with the event. */
static int emit_cmd(writer_txn *txn, void *argp, tc_err *err) {
    emit_arg *arg = argp;
    incident inc;
    if (incident_load(txn->conn, arg->incident_id, &inc, err) != 0)
        return -1;
    arg->channel_id = json_integer_value(json_object_get(inc.doc, "channel_id"));
    int rc = events_append(txn, "i_custom", "incident", arg->incident_id, arg->channel_id, arg->who,
                           inc.doc, arg->event_id, err);
    if (rc == 0)
        rc = outbox_next_sequence(txn, arg->integration_id, arg->incident_id, &arg->sequence, err);
    if (rc == 0)
        arg->incident = json_incref(inc.doc);
    incident_clear(&inc);
    return rc;
}

/* The alerts of an incident for a custom-action body: their own fields;
 * the source, channel and incident they belong to are left out. */
static json_t *incident_alerts(store_conn *c, const char *incident_id, tc_err *err) {
    static const char *const omitted[] = {"data_source_name", "data_source_type", "channel_id",
                                          "channel_name",     "incident",         NULL};
    json_t *alerts = json_array();
    store_stmt *q = store_prepare(c,
                                  "SELECT doc, alert_id FROM alerts WHERE incident_id = ?"
                                  " ORDER BY start_time, alert_id",
                                  err);
    if (!alerts || !q) {
        if (q)
            tc_err_oom(err, "a custom action's body");
        json_decref(alerts);
        store_stmt_done(q);
        return NULL;
    }
    store_bind_text(q, 1, incident_id);
    int step;
    /* Every alert goes out, or the action fails: never a shorter list. */
    while ((step = store_step(q, err)) == STORE_ROW) {
        json_t *doc = NULL;
        if (doc_parse(store_col_text(q, 0), "alert", store_col_text(q, 1), &doc, err) != 0) {
            step = -1;
            break;
        }
        for (int i = 0; omitted[i]; i++)
            json_object_del(doc, omitted[i]);
        if (json_array_append_new(alerts, doc) != 0) {
            step = tc_err_oom(err, "a custom action's body");
            break;
        }
    }
    store_stmt_done(q);
    if (step < 0) {
        json_decref(alerts);
        return NULL;
    }
    return alerts;
}

static char *custom_action_body(const emit_arg *e, json_t *alerts, int64_t now_ms) {
    int failed = 0;
    json_t *incident = jb_check(json_deep_copy(e->incident), &failed);
    jb_set_ref(incident, "alerts", alerts, &failed);
    json_t *body =
        jb_check(json_pack("{s:I, s:s, s:s, s:o}", "event_time", (json_int_t)now_ms, "event_type",
                           "i_custom", "event_id", e->event_id, "incident", incident),
                 &failed);
    person_json_set(body, "person", e->who, &failed);
    char *text = failed ? NULL : jb_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

typedef struct {
    const char *incident_id;
    const tc_person *who;
    const push_target *t;
    const sync_result *result;
} feed_arg;

static int feed_cmd(writer_txn *txn, void *argp, tc_err *err) {
    feed_arg *arg = argp;
    json_t *detail = json_pack(
        "{s:I, s:s, s:s, s:I, s:s}", "integration_id", (json_int_t)arg->t->integration_id,
        "integration_name", arg->t->name, "status", arg->result->delivered ? "success" : "failed",
        "status_code", (json_int_t)arg->result->status_code, "message", arg->result->message);
    return incident_feed_add(txn, arg->incident_id, "i_custom", arg->who, detail, err);
}

/* The checks of incident_custom_action_find, on a reader. */
static int check_action(tc_app *app, const char *incident_id, int64_t integration_id,
                        push_target *t, json_t **alerts, tc_err *err) {
    store_conn *c = store_reader_acquire(app->st);
    incident inc;
    incident_custom_action ca;
    int rc = incident_load(c, incident_id, &inc, err);
    if (rc == 0) {
        rc = incident_custom_action_find(c, &inc, integration_id, &ca, err);
        if (rc == 0)
            incident_custom_action_clear(&ca);
        incident_clear(&inc);
    }
    if (rc == 0)
        rc = push_target_load(c, integration_id, clock_now_s(), t, err);
    if (rc == 0 && !(*alerts = incident_alerts(c, incident_id, err)))
        rc = -1;
    store_reader_release(app->st, c);
    return rc;
}

int custom_action_do(tc_app *app, const char *incident_id, int64_t integration_id,
                     const tc_person *who, json_t **data, tc_err *err) {
    push_target t;
    json_t *alerts = NULL;
    char *body = NULL;
    sync_result result = {0};
    emit_arg e = {.incident_id = incident_id, .integration_id = integration_id, .who = who};
    int rc = -1;
    push_target_init(&t);
    if (check_action(app, incident_id, integration_id, &t, &alerts, err) != 0 ||
        writer_run(app->w, emit_cmd, &e, err) != 0)
        goto out;
    if (!(body = custom_action_body(&e, alerts, clock_now_ms()))) {
        tc_err_oom(err, "a custom action's body");
        goto out;
    }
    history_subject s = {.integration_id = integration_id,
                         .sequence = e.sequence,
                         .channel_id = e.channel_id,
                         .event_time_ms = clock_now_ms()};
    snprintf(s.event_id, sizeof(s.event_id), "%s", e.event_id);
    snprintf(s.event_type, sizeof(s.event_type), "i_custom");
    snprintf(s.webhook_type, sizeof(s.webhook_type), "incident");
    snprintf(s.ref_id, sizeof(s.ref_id), "%s", incident_id);
    if (sync_send(app, &t, &s, body, 1, &result, err) != 0)
        goto out;
    feed_arg f = {.incident_id = incident_id, .who = who, .t = &t, .result = &result};
    if (writer_run(app->w, feed_cmd, &f, err) != 0)
        goto out;
    *data = result.delivered ? json_object() : json_pack("{s:s}", "message", result.message);
    rc = *data ? 0 : tc_err_oom(err, "the answer");
out:
    sync_result_clear(&result);
    free(body);
    json_decref(alerts);
    json_decref(e.incident);
    push_target_clear(&t);
    return rc;
}
