/* store/deliveries.c: see store/deliveries.h. */
#include "store/deliveries.h"

int store_deliveries_insert(store_conn *c, int64_t integration_id, int64_t event_seq,
                            const char *lane, int64_t sequence, int64_t now_ms,
                            int64_t *delivery_id, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "INSERT INTO deliveries(delivery_id, integration_id, event_seq,"
                                   " lane, sequence, status, next_at, created_at, updated_at)"
                                   " VALUES(?,?,?,?,?,'pending',?,?,?)",
                                   err);
    if (!st)
        return -1;
    int64_t id = store_batch_next_id(c, STORE_ID_DELIVERY);
    if (id <= 0) {
        store_stmt_done(st);
        return tc_err_set(err, TC_INTERNAL, "store: no id for a new delivery");
    }
    store_bind_int64(st, 1, id);
    store_bind_int64(st, 2, integration_id);
    store_bind_int64(st, 3, event_seq);
    store_bind_text_static(st, 4, lane);
    store_bind_int64(st, 5, sequence);
    store_bind_int64(st, 6, now_ms);
    store_bind_int64(st, 7, now_ms);
    store_bind_int64(st, 8, now_ms);
    if (store_run(st, err) != 0)
        return -1;
    *delivery_id = id;
    return 0;
}

int store_deliveries_max_id(store_conn *c, int64_t *out, tc_err *err) {
    store_stmt *q = store_prepare(c, "SELECT COALESCE(MAX(delivery_id), 0) FROM deliveries", err);
    if (!q)
        return -1;
    int step = store_step(q, err);
    *out = step == STORE_ROW ? store_col_int64(q, 0) : 0;
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}
