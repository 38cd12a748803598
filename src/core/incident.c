/* incident.c: see incident.h. */
#include "core/incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/outbox.h"
#include "core/state.h"
#include "store/alerts.h"
#include "store/incidents.h"
#include "util/ids.h"
#include "util/jbuild.h"

int incident_severity_rank(const char *severity) {
    int r = model_rank_parse(severity);
    return r < 0 ? 0 : r;
}

int incident_load(store_conn *c, const char *incident_id, tc_incident *out, tc_err *err) {
    return store_incidents_load(c, incident_id, 0, out, err);
}

int incident_new(writer_txn *txn, const char *title, int rank, int64_t channel_id, tc_incident *out,
                 tc_err *err) {
    tc_incident_init(out);
    if (ids_object_new(out->incident_id) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make an incident id");
    int64_t now = txn->now_ms / 1000;
    out->channel_id = channel_id;
    out->progress = PROGRESS_TRIGGERED;
    out->severity = out->status = rank;
    out->created_at = out->updated_at = out->start_time = now;
    out->group_method = 'n';
    if (model_set_str(&out->title, title) != 0) {
        tc_incident_clear(out);
        return tc_err_oom(err, "an incident");
    }
    return 0;
}

/* ---- the cache ----------------------------------------------------------------- */

typedef struct {
    int64_t *open_by_status, *total, *last_time, *max_end, *recovered;
    int *any_rank;
} alert_counts;

static int count_one(void *arg, const tc_alert *a, tc_err *err) {
    (void)err;
    alert_counts *c = arg;
    (*c->total)++;
    if (a->progress != PROGRESS_CLOSED && a->status >= 0 && a->status <= 3)
        c->open_by_status[a->status]++;
    if (a->last_time > *c->last_time)
        *c->last_time = a->last_time;
    if (a->end_time > *c->max_end)
        *c->max_end = a->end_time;
    if (a->end_time > 0)
        (*c->recovered)++;
    if (a->severity > *c->any_rank)
        *c->any_rank = a->severity;
    return 0;
}

int incident_count_alerts(store_conn *c, const char *incident_id, int64_t open_by_status[4],
                          int64_t *total, int64_t *last_time, int64_t *max_end, int64_t *recovered,
                          int *any_rank, tc_err *err) {
    memset(open_by_status, 0, 4 * sizeof(*open_by_status));
    *total = *last_time = *max_end = *recovered = 0;
    *any_rank = 0;
    alert_counts counts = {open_by_status, total, last_time, max_end, recovered, any_rank};
    return store_alerts_each_of_incident(c, incident_id, count_one, &counts, err);
}

int incident_track(writer_txn *txn, tc_incident *inc, tc_err *err) {
    int open = inc->progress != PROGRESS_CLOSED && inc->deleted_at == 0;
    if (!open && inc->group_keys && strcmp(inc->group_keys, "[]") != 0 &&
        model_set_str(&inc->group_keys, "[]") != 0)
        return tc_err_oom(err, "an incident");
    if (!txn->state)
        return 0;
    state_incident *e = state_incident_find(txn->state, inc->incident_id);
    if (!open)
        return e ? state_incident_close(txn->state, e, err) : 0;
    if (e) {
        if (state_incident_touch(txn->state, e, err) != 0)
            return -1;
        e->channel_id = inc->channel_id;
        e->start_time = inc->start_time;
        e->last_alert_time = inc->last_alert_time;
        return 0;
    }
    if (state_incident_open(txn->state, inc, err) != 0)
        return -1;
    if (inc->id == 0)
        return 0; /* new: no alert yet */
    /* Open again (reopened): its open alerts are counted from the store. */
    e = state_incident_find(txn->state, inc->incident_id);
    int64_t total, last, max_end, recovered;
    int any;
    return incident_count_alerts(txn->conn, inc->incident_id, e->open_by_status, &total, &last,
                                 &max_end, &recovered, &any, err);
}

/* ---- the store ------------------------------------------------------------------ */

int incident_write(writer_txn *txn, tc_incident *inc, tc_err *err) {
    inc->updated_at = txn->now_ms / 1000;
    if (inc->id == 0)
        return store_incidents_insert(txn->conn, inc, err);
    return store_incidents_update(txn->conn, inc, err);
}

int incident_save(writer_txn *txn, tc_incident *inc, tc_err *err) {
    return incident_track(txn, inc, err) != 0 ? -1 : incident_write(txn, inc, err);
}

int incident_commit(writer_txn *txn, tc_incident *inc, const char *type, const tc_person *who,
                    json_t *detail, tc_err *err) {
    char *text = detail ? jb_dumps(detail, JSON_COMPACT) : NULL;
    int detail_failed = detail && !text;
    json_decref(detail);
    if (detail_failed)
        return tc_err_oom(err, "a timeline entry");
    inc->updated_at = txn->now_ms / 1000;
    /* An incident not stored yet is being made (i_new, by its creator_id):
     * its first timeline entry goes into its row (migration 011). */
    int creating = inc->id == 0;
    if (creating) {
        inc->new_at = txn->now_ms;
        if (model_set_str(&inc->new_detail, text ? text : "{}") != 0) {
            free(text);
            return tc_err_oom(err, "a timeline entry");
        }
    }
    outbox_event ev = {.event_type = type,
                       .person = who,
                       .feed_ref = creating ? NULL : inc->incident_id,
                       .detail = text ? text : "{}",
                       .incident = inc};
    int rc = incident_track(txn, inc, err) != 0 || outbox_emit(txn, &ev, NULL, err) != 0 ||
                     incident_write(txn, inc, err) != 0
                 ? -1
                 : 0;
    free(text);
    return rc;
}
