/* outbox.c: see outbox.h. */
#include "core/outbox.h"

#include <stdlib.h>

int outbox_next_sequence(writer_txn *txn, int64_t integration_id, const char *lane, int64_t *seq,
                         tc_err *err) {
    store_stmt *st = store_prepare(
        txn->conn,
        "INSERT INTO lane_sequences(integration_id,lane,last_sequence) VALUES(?,?,1)"
        " ON CONFLICT(integration_id,lane) DO UPDATE SET last_sequence=last_sequence+1"
        " RETURNING last_sequence",
        err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, integration_id);
    store_bind_text(st, 2, lane);
    int step = store_step(st, err);
    if (step == STORE_ROW)
        *seq = store_col_int64(st, 0);
    store_stmt_done(st);
    if (step != STORE_ROW)
        return step < 0 ? -1 : tc_err_set(err, TC_INTERNAL, "lane sequence not returned");
    return 0;
}

int outbox_add(writer_txn *txn, int64_t integration_id, int64_t event_seq, const char *lane,
               tc_err *err) {
    int64_t seq = 0;
    if (outbox_next_sequence(txn, integration_id, lane, &seq, err) != 0)
        return -1;
    store_stmt *st = store_prepare(txn->conn,
                                   "INSERT INTO deliveries(integration_id,event_seq,lane,sequence,"
                                   "status,next_at,created_at,updated_at)"
                                   " VALUES(?,?,?,?,'pending',?,?,?)",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, integration_id);
    store_bind_int64(st, 2, event_seq);
    store_bind_text(st, 3, lane);
    store_bind_int64(st, 4, seq);
    store_bind_int64(st, 5, txn->now_ms);
    store_bind_int64(st, 6, txn->now_ms);
    store_bind_int64(st, 7, txn->now_ms);
    if (store_run(st, err) != 0)
        return -1;
    txn->outbox_written = 1;
    int64_t id = store_last_insert_id(txn->conn);
    if (id > txn->outbox_high)
        txn->outbox_high = id;
    return 0;
}

int outbox_fan_out(writer_txn *txn, int64_t event_seq, const char *event_type,
                   const char *object_kind, const char *object_id, int64_t channel_id,
                   tc_err *err) {
    /* Collected first: outbox_add runs other statements, and a statement
     * must not be stepped while another on the same connection is
     * half-read by the same caller in a way that depends on its rows.
     * Every subscriber gets its row: the list grows as needed (it once
     * stopped at 256, and the others silently got nothing). */
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = -1, step;
    store_stmt *q =
        store_prepare(txn->conn,
                      "SELECT DISTINCT s.integration_id FROM subscriptions s"
                      " JOIN integrations i ON i.integration_id = s.integration_id"
                      " WHERE s.kind = ? AND s.event_type IN ('', ?) AND s.channel_id IN (0, ?)"
                      " AND i.status <> 'deleted' ORDER BY s.integration_id",
                      err);
    if (!q)
        return -1;
    store_bind_text(q, 1, object_kind);
    store_bind_text(q, 2, event_type);
    store_bind_int64(q, 3, channel_id);
    while ((step = store_step(q, err)) == STORE_ROW) {
        if (n == cap) {
            size_t grown_cap = cap ? cap * 2 : 16;
            int64_t *grown = realloc(ids, grown_cap * sizeof(*grown));
            if (!grown) {
                step = tc_err_oom(err, "an event's subscribers");
                break;
            }
            ids = grown;
            cap = grown_cap;
        }
        ids[n++] = store_col_int64(q, 0);
    }
    store_stmt_done(q);
    if (step < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (outbox_add(txn, ids[i], event_seq, object_id, err) != 0)
            goto out;
    }
    rc = 0;
out:
    free(ids);
    return rc;
}
