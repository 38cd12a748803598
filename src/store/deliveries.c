/* store/deliveries.c: see store/deliveries.h. */
#include "store/deliveries.h"

#include <string.h>

#include <stddef.h>

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

int store_deliveries_record(store_conn *c, const store_delivery_outcome *o, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "UPDATE deliveries SET status=?, attempts=?, next_at=?,"
                                   " first_failed_at=?, last_error=?, updated_at=?"
                                   " WHERE delivery_id=?",
                                   err);
    if (!st)
        return -1;
    store_bind_text_static(st, 1, o->status); /* run at once: no copies */
    store_bind_int64(st, 2, o->attempts);
    store_bind_int64(st, 3, o->next_at);
    store_bind_int64(st, 4, o->first_failed_at);
    store_bind_text_static(st, 5, o->last_error);
    store_bind_int64(st, 6, o->updated_at);
    store_bind_int64(st, 7, o->delivery_id);
    return store_run(st, err);
}

int store_deliveries_pending_open(store_conn *c, int64_t after_id, int64_t upto_id, int64_t limit,
                                  store_pending_cursor *cur, tc_err *err) {
    cur->q = store_prepare(
        c,
        /* The event comes along: a push loaded from here (a restart, a
         * lane taken over from another node) is then sent without a read
         * of its own. */
        "SELECT d.delivery_id, d.integration_id, d.event_seq, d.lane, d.sequence, d.attempts,"
        " d.next_at, d.first_failed_at, d.created_at, e.event_id, e.event_type, e.object_kind,"
        " e.object_id, e.channel_id, e.event_time, e.body"
        " FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.status = 'pending'"
        " AND d.delivery_id > ? AND d.delivery_id <= ?"
        " ORDER BY d.delivery_id LIMIT ?",
        err);
    if (!cur->q)
        return -1;
    store_bind_int64(cur->q, 1, after_id);
    store_bind_int64(cur->q, 2, upto_id);
    store_bind_int64(cur->q, 3, limit);
    return 0;
}

int store_deliveries_pending_next(store_pending_cursor *cur, store_pending_row *r, tc_err *err) {
    store_stmt *q = cur->q;
    int step = store_step(q, err);
    if (step == STORE_ROW) {
        r->delivery_id = store_col_int64(q, 0);
        r->integration_id = store_col_int64(q, 1);
        r->event_seq = store_col_int64(q, 2);
        r->lane = store_col_text(q, 3);
        r->sequence = store_col_int64(q, 4);
        r->attempts = store_col_int64(q, 5);
        r->next_at = store_col_int64(q, 6);
        r->first_failed_at = store_col_int64(q, 7);
        r->created_at = store_col_int64(q, 8);
        r->event_id = store_col_text(q, 9);
        r->event_type = store_col_text(q, 10);
        r->object_kind = store_col_text(q, 11);
        r->object_id = store_col_text(q, 12);
        r->channel_id = store_col_int64(q, 13);
        r->event_time = store_col_int64(q, 14);
        r->body = store_col_is_null(q, 15) ? NULL : store_col_text(q, 15);
        r->body_len = r->body ? strlen(r->body) : 0;
    }
    return step;
}

void store_deliveries_pending_close(store_pending_cursor *cur) {
    if (cur->q)
        store_stmt_done(cur->q);
    cur->q = NULL;
}

int store_deliveries_pending_counts(store_conn *c,
                                    int (*fn)(void *arg, const store_pending_count *r, tc_err *err),
                                    void *arg, tc_err *err) {
    /* The partial index of 005_metrics.sql covers this query and holds
     * pending rows only: a scrape costs in proportion to the backlog,
     * never to the history of deliveries. */
    store_stmt *q = store_prepare(c,
                                  "SELECT integration_id, count(*),"
                                  " sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END),"
                                  " min(created_at) FROM deliveries WHERE status = 'pending'"
                                  " GROUP BY integration_id",
                                  err);
    if (!q)
        return -1;
    int step, rc = 0;
    while ((step = store_step(q, err)) == STORE_ROW) {
        store_pending_count r = {.integration_id = store_col_int64(q, 0),
                                 .pending = store_col_int64(q, 1),
                                 .retries_pending = store_col_int64(q, 2),
                                 .oldest_created_at = store_col_int64(q, 3)};
        if ((rc = fn(arg, &r, err)) != 0)
            break;
    }
    store_stmt_done(q);
    return rc != 0 || step < 0 ? -1 : 0;
}

/* One integer of a one-row query; *found 0 when it is NULL. */
static int int_of(store_stmt *q, int64_t *out, int *found, tc_err *err) {
    int step = store_step(q, err);
    *found = step == STORE_ROW && !store_col_is_null(q, 0);
    if (*found)
        *out = store_col_int64(q, 0);
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

int store_deliveries_oldest_pending(store_conn *c, int64_t integration_id, int64_t *created_at,
                                    tc_err *err) {
    *created_at = 0;
    int64_t attempts = -1;
    for (;;) {
        store_stmt *q = store_prepare(c,
                                      "SELECT min(attempts) FROM deliveries WHERE status ="
                                      " 'pending' AND integration_id = ? AND attempts > ?",
                                      err);
        int found = 0;
        if (!q)
            return -1;
        store_bind_int64(q, 1, integration_id);
        store_bind_int64(q, 2, attempts);
        if (int_of(q, &attempts, &found, err) != 0)
            return -1;
        if (!found)
            return 0;
        int64_t oldest = 0;
        q = store_prepare(c,
                          "SELECT min(created_at) FROM deliveries WHERE status = 'pending'"
                          " AND integration_id = ? AND attempts = ?",
                          err);
        if (!q)
            return -1;
        store_bind_int64(q, 1, integration_id);
        store_bind_int64(q, 2, attempts);
        if (int_of(q, &oldest, &found, err) != 0)
            return -1;
        if (found && (*created_at == 0 || oldest < *created_at))
            *created_at = oldest;
    }
}

int store_deliveries_prune(store_conn *c, int64_t before_ms, int64_t limit, tc_err *err) {
    /* Never the newest row: SQLite gives max(rowid) + 1 to the next insert,
     * so keeping it is what keeps ids from being handed out twice (the
     * dispatcher reads `delivery_id > last seen`; docs/ARCHITECTURE.md,
     * "Ids and cursors"). */
    store_stmt *st =
        store_prepare(c,
                      "DELETE FROM deliveries WHERE delivery_id IN (SELECT delivery_id FROM"
                      " deliveries WHERE status <> 'pending' AND updated_at < ?"
                      " AND delivery_id < (SELECT MAX(delivery_id) FROM deliveries) LIMIT ?)",
                      err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, before_ms);
    store_bind_int64(st, 2, limit);
    return store_run(st, err);
}
