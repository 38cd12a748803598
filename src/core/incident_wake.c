/* incident_wake.c: snooze expiry. A snoozed incident whose deadline has
 * passed wakes by itself, exactly as /incident/wake would wake it
 * (incident_act_wake) but with no person. Driven by timers_tick; the
 * partial index incidents_snoozed keeps the idle probe cheap.
 *
 * Each incident wakes in a SAVEPOINT of its own: one that cannot be woken
 * (a stored column cannot be read, or memory ran out) is undone whole (its
 * rows, its changes to the writer's cache, its pushes) and logged with its
 * id, and the others still wake. Failing the tick instead would stop every
 * timer job behind it (replays, pruning) for as long as that one incident
 * stays broken. */
#include "core/incident.h"
#include "core/incident_actions.h"

#include <stdio.h>

#include "core/outbox.h"
#include "core/state.h"
#include "store/incidents.h"
#include "util/log.h"

#define WAKE_BATCH 256

static int wake_one(writer_txn *txn, const char *incident_id, tc_err *err) {
    tc_incident inc;
    if (incident_load(txn->conn, incident_id, &inc, err) != 0)
        return -1;
    int rc = incident_act_wake(txn, &inc, NULL, err);
    tc_incident_clear(&inc);
    return rc;
}

int incident_wake_expired(writer_txn *txn, tc_err *err) {
    char ids[WAKE_BATCH][IDS_OBJECT_LEN + 1];
    int n = store_incidents_snooze_due(txn->conn, txn->now_ms / 1000, ids, WAKE_BATCH, err);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        tc_err one;
        int rc = writer_try_item(txn, wake_one, ids[i], &one, err);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            char quoted[sizeof(one.message)];
            log_error("msg=\"incident not woken\" incident_id=%s error=\"%s\"", ids[i],
                      log_quote(one.message, quoted, sizeof(quoted)));
        }
    }
    return 0;
}
