/* outbox.c: see outbox.h. */
#include "core/outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grouping.h"
#include "core/render.h"
#include "core/state.h"
#include "store/alerts.h"
#include "store/deliveries.h"
#include "store/incidents.h"
#include "util/ids.h"

#define OUTBOX_MAX_SUBSCRIBERS 4096

/* ---- shared bodies --------------------------------------------------------------- */

outbox_body *outbox_body_new(const char *text, size_t len) {
    outbox_body *b = malloc(sizeof(*b) + len + 1);
    if (!b)
        return NULL;
    b->refs = 1;
    b->len = len;
    memcpy(b->text, text, len);
    b->text[len] = '\0';
    return b;
}

outbox_body *outbox_body_ref(outbox_body *b) {
    if (b)
        b->refs++;
    return b;
}

void outbox_body_unref(outbox_body *b) {
    if (b && --b->refs == 0)
        free(b);
}

void outbox_deliveries_free(outbox_delivery *list) {
    for (outbox_delivery *d = list, *next; d; d = next) {
        next = d->next;
        outbox_body_unref(d->body);
        free(d);
    }
}

void outbox_deliveries_drop_to(writer_txn *txn, outbox_delivery *keep) {
    while (txn->deliveries && txn->deliveries != keep) {
        outbox_delivery *d = txn->deliveries;
        txn->deliveries = d->next;
        d->next = NULL;
        outbox_deliveries_free(d);
    }
}

/* ---- lanes -------------------------------------------------------------------- */

/* `lanes` is "integration:sequence" pairs joined by commas, in the order
 * the lanes were first used: small (one pair per subscribed integration),
 * written by this file only. */
int outbox_lanes_next(char **lanes, int64_t integration_id, int64_t *seq, tc_err *err) {
    const char *p = *lanes ? *lanes : "";
    size_t cap = strlen(p) + 48;
    char *out = malloc(cap);
    if (!out)
        return tc_err_oom(err, "a lane's sequence");
    size_t len = 0;
    int found = 0;
    while (*p) {
        char *end = NULL;
        long long id = strtoll(p, &end, 10);
        if (*end != ':')
            break; /* never written so: keep what was read */
        long long n = strtoll(end + 1, &end, 10);
        if (id == integration_id && !found) {
            *seq = ++n;
            found = 1;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%lld:%lld", len ? "," : "", id, n);
        if (*end != ',')
            break;
        p = end + 1;
    }
    if (!found) {
        *seq = 1;
        snprintf(out + len, cap - len, "%s%" PRId64 ":1", len ? "," : "", integration_id);
    }
    free(*lanes);
    *lanes = out;
    return 0;
}

/* ---- emitting ------------------------------------------------------------------- */

/* The body of the event for the object, as its subscribers get it. */
static outbox_body *render(writer_txn *txn, const outbox_event *ev, const char *event_id,
                           tc_err *err) {
    jw w;
    jw_init(&w);
    const char *kind = ev->incident ? "incident" : "alert";
    render_body_begin(&w, txn->now_ms, ev->event_type, event_id, kind);
    if (ev->incident) {
        const state_channel *ch = NULL;
        if (state_channel_find(txn->state, txn->conn, ev->incident->channel_id, &ch, err) != 0) {
            jw_clear(&w);
            return NULL;
        }
        /* Worked out from the cached rules and the incident's labels: no
         * store read; only a grouping channel parses the labels. */
        char key[65], md5[33];
        if (group_incident_digests(ch ? &ch->rules : NULL, ev->incident->labels, key, md5) != 0) {
            jw_clear(&w);
            tc_err_oom(err, "a webhook body");
            return NULL;
        }
        render_incident_ctx ctx = {.base_url = txn->cfg ? txn->cfg->base_url : "",
                                   .channel_name = ch ? ch->name : "",
                                   .dedup_key = key,
                                   .equals_md5 = md5};
        render_incident(&w, ev->incident, &ctx);
    } else {
        const state_channel *ch = NULL;
        const state_integration *src = NULL;
        if (state_channel_find(txn->state, txn->conn, ev->alert->channel_id, &ch, err) != 0 ||
            state_integration_find(txn->state, txn->conn, ev->alert->integration_id, &src, err) !=
                0) {
            jw_clear(&w);
            return NULL;
        }
        render_alert_ctx ctx = {.source_name = src ? src->name : "",
                                .source_type = src ? render_source_type(src->type) : "",
                                .channel_name = ch ? ch->name : "",
                                .incident_title = ev->incident_title ? ev->incident_title : ""};
        render_alert(&w, ev->alert, &ctx);
    }
    render_body_end(&w, ev->person);
    size_t len = 0;
    char *text = jw_take(&w, &len);
    outbox_body *b = text ? outbox_body_new(text, len) : NULL;
    free(text);
    if (!b)
        tc_err_oom(err, "a webhook body");
    return b;
}

/* One pending delivery of the event at seq, numbered in lanes, stored and
 * queued for the dispatcher (txn->deliveries, newest first). */
static int add_delivery(writer_txn *txn, int64_t integration_id, const store_event_row *row,
                        char **lanes, outbox_body *body, tc_err *err) {
    outbox_delivery *d = calloc(1, sizeof(*d));
    if (!d)
        return tc_err_oom(err, "a delivery");
    d->integration_id = integration_id;
    d->event_seq = row->seq;
    d->created_at = txn->now_ms;
    snprintf(d->lane, sizeof(d->lane), "%s", row->object_id);
    snprintf(d->event_id, sizeof(d->event_id), "%s", row->event_id);
    snprintf(d->event_type, sizeof(d->event_type), "%s", row->event_type);
    snprintf(d->object_kind, sizeof(d->object_kind), "%s", row->object_kind);
    d->channel_id = row->channel_id;
    d->event_time = row->event_time;
    const char *lane = row->object_id;
    int64_t seq = row->seq;
    if (outbox_lanes_next(lanes, integration_id, &d->sequence, err) != 0 ||
        store_deliveries_insert(txn->conn, integration_id, seq, lane, d->sequence, txn->now_ms,
                                &d->delivery_id, err) != 0) {
        free(d);
        return -1;
    }
    d->body = outbox_body_ref(body);
    d->next = txn->deliveries;
    txn->deliveries = d;
    txn->outbox_written = 1;
    if (d->delivery_id > txn->outbox_high)
        txn->outbox_high = d->delivery_id;
    return 0;
}

int outbox_emit(writer_txn *txn, outbox_event *ev, char *event_id_out, tc_err *err) {
    const char *kind = ev->incident ? "incident" : "alert";
    const char *object_id = ev->incident ? ev->incident->incident_id : ev->alert->alert_id;
    int64_t channel_id = ev->incident ? ev->incident->channel_id : ev->alert->channel_id;
    char **lanes = ev->incident ? &ev->incident->lanes : &ev->alert->lanes;
    int64_t subs[OUTBOX_MAX_SUBSCRIBERS];
    int nsubs = 0;
    store_event_row row = {.event_time = txn->now_ms,
                           .event_type = ev->event_type,
                           .object_kind = kind,
                           .object_id = object_id,
                           .channel_id = channel_id,
                           .person_id = ev->person ? ev->person->person_id : 0,
                           .feed_ref = ev->feed_ref,
                           .detail = ev->feed_ref ? ev->detail : NULL};
    if (ids_object_new(row.event_id) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make an event id");
    if (state_subscribers(txn->state, txn->conn, kind, ev->event_type, channel_id, subs,
                          OUTBOX_MAX_SUBSCRIBERS, &nsubs, err) != 0)
        return -1;
    /* An event nobody subscribes to and no timeline shows is not kept:
     * nothing could ever read it (history, resend and replay start from a
     * push). Its id is kept only when a push carries it. */
    if (nsubs == 0 && !ev->feed_ref && !event_id_out)
        return 0;
    outbox_body *body = NULL;
    if (nsubs > 0) {
        if (!(body = render(txn, ev, row.event_id, err)))
            return -1;
        row.body = body->text;
    }
    char event_id[IDS_OBJECT_LEN + 1];
    memcpy(event_id, row.event_id, sizeof(event_id));
    if (nsubs == 0 && !event_id_out)
        row.event_id[0] = '\0';
    int rc = store_events_append(txn->conn, &row, err);
    for (int i = 0; rc == 0 && i < nsubs; i++)
        rc = add_delivery(txn, subs[i], &row, lanes, body, err);
    outbox_body_unref(body);
    if (rc == 0 && event_id_out)
        memcpy(event_id_out, event_id, sizeof(event_id));
    return rc;
}

int outbox_feed_only(writer_txn *txn, const char *type, const char *object_kind,
                     const char *object_id, int64_t channel_id, const tc_person *who,
                     const char *detail, tc_err *err) {
    store_event_row row = {.event_time = txn->now_ms,
                           .event_type = type,
                           .object_kind = object_kind,
                           .object_id = object_id,
                           .channel_id = channel_id,
                           .person_id = who ? who->person_id : 0,
                           .feed_ref = object_id,
                           .detail = detail ? detail : "{}"};
    return store_events_append(txn->conn, &row, err);
}

/* ---- lanes of stored objects -------------------------------------------------------------- */

/* Reads the object's lanes, numbers the next push of integration_id and
 * writes the lanes back. */
static int object_next_sequence(writer_txn *txn, int64_t integration_id, const char *kind,
                                const char *object_id, int64_t *seq, tc_err *err) {
    int rc = -1;
    if (strcmp(kind, "incident") == 0) {
        tc_incident inc;
        if (store_incidents_load(txn->conn, object_id, 1, &inc, err) != 0)
            return -1;
        if (outbox_lanes_next(&inc.lanes, integration_id, seq, err) == 0)
            rc = store_incidents_set_lanes(txn->conn, object_id, inc.lanes, err);
        tc_incident_clear(&inc);
        return rc;
    }
    tc_alert a;
    if (store_alerts_load(txn->conn, object_id, &a, err) != 0)
        return -1;
    if (outbox_lanes_next(&a.lanes, integration_id, seq, err) == 0)
        rc = store_alerts_set_lanes(txn->conn, object_id, a.lanes, err);
    tc_alert_clear(&a);
    return rc;
}

int outbox_next_sequence(writer_txn *txn, int64_t integration_id, const char *object_kind,
                         const char *object_id, int64_t *seq, tc_err *err) {
    return object_next_sequence(txn, integration_id, object_kind, object_id, seq, err);
}

int outbox_requeue(writer_txn *txn, int64_t integration_id, int64_t event_seq, tc_err *err) {
    store_event ev;
    if (store_events_by_seq(txn->conn, event_seq, &ev, err) != 0)
        return -1;
    int rc = -1;
    outbox_delivery *d = calloc(1, sizeof(*d));
    if (!d) {
        tc_err_oom(err, "a delivery");
        goto out;
    }
    d->integration_id = integration_id;
    d->event_seq = event_seq;
    d->created_at = txn->now_ms;
    snprintf(d->lane, sizeof(d->lane), "%s", ev.object_id);
    snprintf(d->event_id, sizeof(d->event_id), "%s", ev.event_id);
    snprintf(d->event_type, sizeof(d->event_type), "%s", ev.event_type);
    snprintf(d->object_kind, sizeof(d->object_kind), "%s", ev.object_kind);
    d->channel_id = ev.channel_id;
    d->event_time = ev.event_time;
    if (object_next_sequence(txn, integration_id, ev.object_kind, ev.object_id, &d->sequence,
                             err) != 0 ||
        store_deliveries_insert(txn->conn, integration_id, event_seq, ev.object_id, d->sequence,
                                txn->now_ms, &d->delivery_id, err) != 0) {
        free(d);
        goto out;
    }
    if (ev.body && !(d->body = outbox_body_new(ev.body, strlen(ev.body)))) {
        free(d);
        tc_err_oom(err, "a delivery");
        goto out;
    }
    d->next = txn->deliveries;
    txn->deliveries = d;
    txn->outbox_written = 1;
    if (d->delivery_id > txn->outbox_high)
        txn->outbox_high = d->delivery_id;
    rc = 0;
out:
    store_event_clear(&ev);
    return rc;
}
