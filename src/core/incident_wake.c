/* incident_wake.c: snooze expiry. A snoozed incident whose deadline has
 * passed wakes by itself: snoozed_before back to 0, progress Triggered,
 * i_wake with no person. Driven by timers_tick; the partial index
 * incidents_snoozed keeps the idle probe cheap. */
#include "core/incident.h"

#include <string.h>

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
    int step;
    while (n < WAKE_BATCH && (step = store_step(q, err)) == STORE_ROW)
        snprintf(ids[n++], sizeof(ids[0]), "%s", store_col_text(q, 0));
    store_stmt_done(q);
    for (int i = 0; i < n; i++) {
        incident inc;
        if (incident_load(txn->conn, ids[i], &inc, err) != 0)
            return -1;
        json_object_set_new(inc.doc, "snoozed_before", json_integer(0));
        const char *progress = json_string_value(json_object_get(inc.doc, "progress"));
        if (progress && strcmp(progress, "Closed") != 0)
            json_object_set_new(inc.doc, "progress", json_string("Triggered"));
        int rc = incident_commit(txn, &inc, "i_wake", NULL, NULL, err);
        incident_clear(&inc);
        if (rc != 0)
            return -1;
    }
    return 0;
}
