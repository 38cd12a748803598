/* alert.c: see alert.h. */
#include "core/alert.h"

#include <string.h>

#include "core/outbox.h"
#include "core/state.h"
#include "store/alerts.h"

int alert_load(store_conn *c, const char *alert_id, tc_alert *out, tc_err *err) {
    return store_alerts_load(c, alert_id, out, err);
}

/* Moves one open alert of status `status` in or out of an incident's
 * counts (+1 or -1); an incident not in the cache (closed) keeps none. */
static int count_in(writer_txn *txn, const char *incident_id, int status, int delta, tc_err *err) {
    if (!incident_id[0] || status < 0 || status > 3)
        return 0;
    state_incident *e = state_incident_find(txn->state, incident_id);
    if (!e)
        return 0;
    if (state_incident_touch(txn->state, e, err) != 0)
        return -1;
    e->open_by_status[status] += delta;
    return 0;
}

int alert_track(writer_txn *txn, const tc_alert *a, tc_err *err) {
    if (!txn->state)
        return 0;
    int open = a->progress != PROGRESS_CLOSED;
    state_alert *e = state_alert_find(txn->state, a->integration_id, a->alert_key);
    /* By text id: a new alert's rowid is known only once its row is
     * written, after its events (alert.h). */
    if (e && strcmp(e->alert_id, a->alert_id) != 0)
        e = NULL; /* another alert of the key is open: this one is an old, closed one */
    if (e && count_in(txn, e->incident_id, e->status, -1, err) != 0)
        return -1;
    if (open && count_in(txn, a->incident_id, a->status, +1, err) != 0)
        return -1;
    if (e && !open)
        return state_alert_close(txn->state, e, err);
    if (e)
        return state_alert_update(txn->state, e, a, err);
    return open ? state_alert_open(txn->state, a, err) : 0;
}

int alert_write(writer_txn *txn, tc_alert *a, tc_err *err) {
    a->updated_at = txn->now_ms / 1000;
    if (a->id == 0)
        return store_alerts_insert(txn->conn, a, err);
    return store_alerts_update(txn->conn, a, err);
}

int alert_save(writer_txn *txn, tc_alert *a, tc_err *err) {
    return alert_track(txn, a, err) != 0 ? -1 : alert_write(txn, a, err);
}

int alert_emit(writer_txn *txn, tc_alert *a, const char *type, const tc_person *who,
               const char *detail, const char *incident_title, tc_err *err) {
    a->updated_at = txn->now_ms / 1000;
    outbox_event ev = {.event_type = type,
                       .person = who,
                       .feed_ref = detail ? a->alert_id : NULL,
                       .detail = detail,
                       .alert = a,
                       .incident_title = incident_title ? incident_title : ""};
    return outbox_emit(txn, &ev, NULL, err);
}
