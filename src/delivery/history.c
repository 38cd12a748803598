/* history.c: see history.h. */
#include "delivery/history.h"

int history_insert(writer_txn *txn, const history_subject *s, const char *endpoint,
                   const push_attempt *a, tc_err *err) {
    store_stmt *st = store_prepare(
        txn->conn,
        "INSERT INTO webhook_history(integration_id,event_id,webhook_type,event_type,channel_id,"
        "ref_id,endpoint,attempt,duration_ms,status,status_code,error_message,request_headers,"
        "request_body,response_headers,response_body,event_time,created_at,delivery_id,sequence)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, s->integration_id);
    store_bind_text(st, 2, s->event_id);
    store_bind_text(st, 3, s->webhook_type);
    store_bind_text(st, 4, s->event_type);
    store_bind_int64(st, 5, s->channel_id);
    store_bind_text(st, 6, s->ref_id);
    store_bind_text(st, 7, endpoint);
    store_bind_int64(st, 8, s->attempt);
    store_bind_int64(st, 9, a->duration_ms);
    store_bind_text(st, 10, a->outcome == OUTCOME_DELIVERED ? "success" : "failed");
    store_bind_int64(st, 11, a->status);
    store_bind_text(st, 12, a->error);
    store_bind_text(st, 13, a->headers_text ? a->headers_text : "");
    /* '' stands for the event's own body (store/history.c reads it from
     * there): a push's body is most of an attempt's bytes, and without a
     * template every attempt of an event sends the same one. */
    store_bind_text(st, 14, a->body && !a->body_is_event ? a->body : "");
    store_bind_text(st, 15, a->resp_headers ? a->resp_headers : "");
    store_bind_text(st, 16, a->resp_body ? a->resp_body : "");
    store_bind_int64(st, 17, s->event_time_ms);
    store_bind_int64(st, 18, txn->now_ms);
    store_bind_int64(st, 19, s->delivery_id);
    store_bind_int64(st, 20, s->sequence);
    return store_run(st, err);
}

/* Never the newest row of a table: SQLite gives max(rowid) + 1 to the next
 * insert, so keeping it is what keeps ids from being handed out twice
 * (the dispatcher reads `delivery_id > last seen`; docs/ARCHITECTURE.md,
 * "Ids and cursors"). */
int history_prune(writer_txn *txn, int limit, tc_err *err) {
    store_stmt *st = store_prepare(txn->conn,
                                   "DELETE FROM webhook_history WHERE attempt_id IN"
                                   " (SELECT attempt_id FROM webhook_history WHERE created_at < ?"
                                   " AND attempt_id < (SELECT MAX(attempt_id) FROM webhook_history)"
                                   " ORDER BY created_at LIMIT ?)",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, txn->now_ms - HISTORY_KEEP_MS);
    store_bind_int64(st, 2, limit);
    if (store_run(st, err) != 0)
        return -1;
    st = store_prepare(txn->conn,
                       "DELETE FROM deliveries WHERE delivery_id IN (SELECT delivery_id FROM"
                       " deliveries WHERE status <> 'pending' AND updated_at < ?"
                       " AND delivery_id < (SELECT MAX(delivery_id) FROM deliveries) LIMIT ?)",
                       err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, txn->now_ms - HISTORY_KEEP_MS);
    store_bind_int64(st, 2, limit);
    return store_run(st, err);
}
