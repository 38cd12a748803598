/* sync_send.c: see sync_send.h. */
#include "delivery/sync_send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/incident.h"
#include "core/incident_actions.h"
#include "core/outbox.h"
#include "core/render.h"
#include "core/state.h"
#include "delivery/dispatcher.h"
#include "store/alerts.h"
#include "store/incidents.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/jbuild.h"
#include "util/jw.h"
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
        /* A second try only when the endpoint cannot have seen the first:
         * the connection failed before any byte of the request went out.
         * A request sent and not answered (a timeout) may have run: a
         * "restart the host" button must not restart it twice. An answer,
         * even 5xx, is the answer. */
        const push_attempt *last = &attempts[n - 1];
        int unsent = last->status == 0 && !last->request_sent && last->outcome == OUTCOME_RETRY;
        if (!retry_once || !unsent)
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
    char *incident; /* the Incident object as pushed with i_custom (JSON text) */
} emit_arg;

/* The Incident object of inc as its webhooks get it (the channel's current
 * name, the detail_url). */
static char *incident_text(writer_txn *txn, const tc_incident *inc, tc_err *err) {
    const state_channel *ch = NULL;
    if (state_channel_find(txn->state, txn->conn, inc->channel_id, &ch, err) != 0)
        return NULL;
    render_incident_ctx ctx = {.base_url = txn->cfg ? txn->cfg->base_url : "",
                               .channel_name = ch ? ch->name : ""};
    jw w;
    jw_init(&w);
    render_incident(&w, inc, &ctx);
    char *text = jw_take(&w, NULL);
    if (!text)
        tc_err_oom(err, "a custom action's body");
    return text;
}

/* Stores i_custom (incident webhooks subscribe to it like to any event:
 * the incident as it is, no timeline entry, the row unchanged but for the
 * lanes its pushes numbered) and numbers the action's own lane. The
 * incident is re-read here, in the writer, so the pushed object is exactly
 * the one the event carries. */
static int emit_cmd(writer_txn *txn, void *argp, tc_err *err) {
    emit_arg *arg = argp;
    tc_incident inc;
    if (incident_load(txn->conn, arg->incident_id, &inc, err) != 0)
        return -1;
    arg->channel_id = inc.channel_id;
    outbox_event ev = {.event_type = "i_custom", .person = arg->who, .incident = &inc};
    int rc = -1;
    if (outbox_emit(txn, &ev, arg->event_id, err) != 0 ||
        store_incidents_set_lanes(txn->conn, arg->incident_id, inc.lanes, err) != 0 ||
        outbox_next_sequence(txn, arg->integration_id, "incident", arg->incident_id, &arg->sequence,
                             err) != 0)
        goto out;
    free(arg->incident);
    if (!(arg->incident = incident_text(txn, &inc, err)))
        goto out;
    rc = 0;
out:
    tc_incident_clear(&inc);
    return rc;
}

/* The alerts of an incident for a custom-action body: their own fields;
 * the source, channel and incident they belong to are left out. */
static int alert_add(void *argp, const tc_alert *a, tc_err *err) {
    static const char *const omitted[] = {"data_source_name", "data_source_type", "channel_id",
                                          "channel_name",     "incident",         NULL};
    json_t *alerts = argp;
    render_alert_ctx ctx = {
        .source_name = "", .source_type = "", .channel_name = "", .incident_title = ""};
    jw w;
    jw_init(&w);
    render_alert(&w, a, &ctx);
    size_t len = 0;
    char *text = jw_take(&w, &len);
    if (!text)
        return tc_err_oom(err, "a custom action's body");
    json_error_t jerr;
    int oom = 0;
    json_t *obj = jb_loadb(text, len, 0, &jerr, &oom);
    free(text);
    if (!obj)
        return oom ? tc_err_oom(err, "a custom action's body")
                   : tc_err_set(err, TC_INTERNAL, "alert %s rendered as no JSON: %s", a->alert_id,
                                jerr.text);
    for (int i = 0; omitted[i]; i++)
        json_object_del(obj, omitted[i]);
    /* Every alert goes out, or the action fails: never a shorter list. */
    if (json_array_append_new(alerts, obj) != 0)
        return tc_err_oom(err, "a custom action's body");
    return 0;
}

static json_t *incident_alerts(store_conn *c, const char *incident_id, tc_err *err) {
    json_t *alerts = json_array();
    if (!alerts) {
        tc_err_oom(err, "a custom action's body");
        return NULL;
    }
    if (store_alerts_each_of_incident(c, incident_id, alert_add, alerts, err) != 0) {
        json_decref(alerts);
        return NULL;
    }
    return alerts;
}

/* {"event_time":T,"event_type":"i_custom","event_id":E,"incident":{...,
 * "alerts":[...]}[,"person":P]}: the incident as i_custom carried it, its
 * alerts last. */
static char *custom_action_body(const emit_arg *e, json_t *alerts, int64_t now_ms) {
    char *alerts_text = jb_dumps(alerts, JSON_COMPACT);
    size_t ilen = strlen(e->incident);
    char *incident = NULL;
    /* The incident object always has members: its closing brace gives way
     * to one more. */
    if (alerts_text && ilen >= 2 && e->incident[ilen - 1] == '}' &&
        asprintf(&incident, "%.*s,\"alerts\":%s}", (int)(ilen - 1), e->incident, alerts_text) < 0)
        incident = NULL;
    free(alerts_text);
    if (!incident)
        return NULL;
    jw w;
    jw_init(&w);
    render_body_begin(&w, now_ms, "i_custom", e->event_id, "incident");
    jw_raw(&w, incident, "{}");
    render_body_end(&w, e->who);
    free(incident);
    return jw_take(&w, NULL);
}

typedef struct {
    const char *incident_id;
    int64_t channel_id;
    const tc_person *who;
    const push_target *t;
    const sync_result *result;
} feed_arg;

/* The outcome on the incident's timeline (an entry, no event). */
static int feed_cmd(writer_txn *txn, void *argp, tc_err *err) {
    feed_arg *arg = argp;
    jw w;
    jw_init(&w);
    jw_object_begin(&w);
    jw_kint(&w, "integration_id", arg->t->integration_id);
    jw_kstring(&w, "integration_name", arg->t->name);
    jw_kstring(&w, "status", arg->result->delivered ? "success" : "failed");
    jw_kint(&w, "status_code", arg->result->status_code);
    jw_kstring(&w, "message", arg->result->message);
    jw_object_end(&w);
    char *detail = jw_take(&w, NULL);
    if (!detail)
        return tc_err_oom(err, "a timeline entry");
    int rc = outbox_feed_only(txn, "i_custom", "incident", arg->incident_id, arg->channel_id,
                              arg->who, detail, err);
    free(detail);
    return rc;
}

/* The checks of incident_custom_action_find, on a reader; the alerts to
 * push. */
static int check_action(tc_app *app, const char *incident_id, int64_t integration_id,
                        push_target *t, json_t **alerts, tc_err *err) {
    store_conn *c = store_reader_acquire(app->st);
    tc_incident inc;
    incident_custom_action ca;
    int rc = incident_load(c, incident_id, &inc, err);
    if (rc == 0) {
        rc = incident_custom_action_find(c, &inc, integration_id, &ca, err);
        if (rc == 0)
            incident_custom_action_clear(&ca);
        tc_incident_clear(&inc);
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
    feed_arg f = {.incident_id = incident_id,
                  .channel_id = e.channel_id,
                  .who = who,
                  .t = &t,
                  .result = &result};
    if (writer_run(app->w, feed_cmd, &f, err) != 0)
        goto out;
    *data = result.delivered ? json_object() : json_pack("{s:s}", "message", result.message);
    rc = *data ? 0 : tc_err_oom(err, "the answer");
out:
    sync_result_clear(&result);
    free(body);
    json_decref(alerts);
    free(e.incident);
    push_target_clear(&t);
    return rc;
}
