/* incident_wake.c: snooze expiry. A snoozed incident whose deadline has
 * passed wakes by itself, exactly as /incident/wake would wake it
 * (incident_act_wake) but with no person. Driven by timers_tick; the partial index
 * incidents_snoozed keeps the idle probe cheap. */
#include "core/incident.h"
#include "core/incident_actions.h"

#include <stdio.h>

#define WAKE_BATCH 256

int incident_wake_expired(writer_txn *txn, tc_err *err) {
    char ids[WAKE_BATCH][25];
    int n = 0;
    store_stmt *q = store_prepare(txn->conn,
                                  "SELECT incident_id FROM incidents WHERE snoozed_before > 0"
                                  " AND snoozed_before <= ? AND deleted_at = 0 LIMIT 256",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, txn->now_ms / 1000);
    int step = STORE_DONE;
    while (n < WAKE_BATCH && (step = store_step(q, err)) == STORE_ROW)
        snprintf(ids[n++], sizeof(ids[0]), "%s", store_col_text(q, 0));
    store_stmt_done(q);
    if (step < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        incident inc;
        if (incident_load(txn->conn, ids[i], &inc, err) != 0)
            return -1;
        int rc = incident_act_wake(txn, &inc, NULL, err);
        incident_clear(&inc);
        if (rc != 0)
            return -1;
    }
    return 0;
}
