/* incident_wake.c: snooze expiry. A snoozed incident whose deadline has
 * passed wakes by itself, exactly as /incident/wake would wake it
 * (incident_act_wake) but with no person. Driven by timers_tick; the partial index
 * incidents_snoozed keeps the idle probe cheap.
 *
 * Each incident wakes in a SAVEPOINT of its own: one that cannot be woken
 * (its document cannot be read, or memory ran out) is undone whole and
 * logged with its id, and the others still wake. Failing the tick instead
 * would stop every timer job behind it (replays, pruning) for as long as
 * that one incident stays broken. */
#include "core/incident.h"
#include "core/incident_actions.h"

#include <stdio.h>

#include "util/log.h"

#define WAKE_BATCH 256

static int exec_sql(store_conn *c, const char *sql, tc_err *err) {
    store_stmt *st = store_prepare(c, sql, err);
    return st ? store_run(st, err) : -1;
}

static int wake_one(writer_txn *txn, const char *incident_id, tc_err *err) {
    incident inc;
    if (incident_load(txn->conn, incident_id, &inc, err) != 0)
        return -1;
    int rc = incident_act_wake(txn, &inc, NULL, err);
    incident_clear(&inc);
    return rc;
}

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
        tc_err one, scratch;
        if (exec_sql(txn->conn, "SAVEPOINT wake", err) != 0)
            return -1;
        if (wake_one(txn, ids[i], &one) != 0) {
            char quoted[sizeof(one.message)];
            log_error("msg=\"incident not woken\" incident_id=%s error=\"%s\"", ids[i],
                      log_quote(one.message, quoted, sizeof(quoted)));
            if (exec_sql(txn->conn, "ROLLBACK TO wake", &scratch) != 0) {
                *err = scratch;
                return -1; /* its changes may be half made: the tick fails whole */
            }
        }
        if (exec_sql(txn->conn, "RELEASE wake", err) != 0)
            return -1;
    }
    return 0;
}
