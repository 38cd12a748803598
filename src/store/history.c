/* store/history.c: see store/history.h. */
#include "store/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/listing.h"

/* The columns of an attempt, in the order read_row reads them. */
#define HISTORY_COLUMNS                                                                            \
    "attempt_id, integration_id, event_id, webhook_type, event_type, channel_id, ref_id,"          \
    " endpoint, attempt, duration_ms, status, status_code, error_message, event_time,"             \
    " request_headers, CASE WHEN request_body <> '' THEN request_body ELSE"                        \
    " COALESCE((SELECT e.body FROM events e WHERE e.event_id = webhook_history.event_id), '')"     \
    " END, response_headers, response_body"

static void read_row(store_stmt *q, store_history_row *r) {
    r->attempt_id = store_col_int64(q, 0);
    r->integration_id = store_col_int64(q, 1);
    r->event_id = store_col_text(q, 2);
    r->webhook_type = store_col_text(q, 3);
    r->event_type = store_col_text(q, 4);
    r->channel_id = store_col_int64(q, 5);
    r->ref_id = store_col_text(q, 6);
    r->endpoint = store_col_text(q, 7);
    r->attempt = store_col_int64(q, 8);
    r->duration_ms = store_col_int64(q, 9);
    r->status = store_col_text(q, 10);
    r->status_code = store_col_int64(q, 11);
    r->error_message = store_col_text(q, 12);
    r->event_time = store_col_int64(q, 13);
    r->request_headers = store_col_text(q, 14);
    r->request_body = store_col_text(q, 15);
    r->response_headers = store_col_text(q, 16);
    r->response_body = store_col_text(q, 17);
}

/* WHERE clause of the filter; the cursor only when `paged`. */
static void filter_where(listing_query *q, const store_history_filter *f, int paged) {
    listing_sql(q, " WHERE event_time >= ");
    listing_int(q, f->start_time);
    listing_sql(q, " AND event_time <= ");
    listing_int(q, f->end_time);
    if (f->ref_id && f->ref_id[0]) {
        listing_sql(q, " AND ref_id = ");
        listing_text(q, f->ref_id);
    }
    if (f->integration_id > 0) {
        listing_sql(q, " AND integration_id = ");
        listing_int(q, f->integration_id);
    }
    if (f->status) {
        listing_sql(q, " AND status = ");
        listing_text(q, f->status);
    }
    listing_in_texts(q, "event_type", f->event_types);
    if (paged && f->has_cursor) {
        listing_sql(q, f->asc ? " AND (event_time, attempt_id) > ("
                              : " AND (event_time, attempt_id) < (");
        listing_int(q, f->after_time);
        listing_sql(q, ", ");
        listing_int(q, f->after_attempt);
        listing_sql(q, ")");
    }
}

int store_history_count(store_conn *c, const store_history_filter *f, int64_t *total, tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT COUNT(*) FROM webhook_history");
    filter_where(&q, f, 0);
    int rc = -1;
    store_stmt *st = listing_prepare(c, &q, err);
    if (st) {
        int step = store_step(st, err);
        if (step == STORE_ROW) {
            *total = store_col_int64(st, 0);
            rc = 0;
        } else if (step == STORE_DONE) {
            tc_err_set(err, TC_INTERNAL, "counting history returned no row");
        }
        store_stmt_done(st);
    }
    listing_query_clear(&q);
    return rc;
}

int store_history_page(store_conn *c, const store_history_filter *f, int64_t limit,
                       store_history_fn fn, void *arg, int *more, tc_err *err) {
    *more = 0;
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT " HISTORY_COLUMNS " FROM webhook_history");
    filter_where(&q, f, 1);
    listing_sql(&q, f->asc ? " ORDER BY event_time ASC, attempt_id ASC"
                           : " ORDER BY event_time DESC, attempt_id DESC");
    /* One more tells whether a next page exists. */
    listing_limit(&q, limit + 1, 0);
    store_stmt *st = listing_prepare(c, &q, err);
    int rc = st ? 0 : -1, step = STORE_DONE;
    int64_t n = 0;
    while (rc == 0 && (step = store_step(st, err)) == STORE_ROW) {
        if (n++ == limit) {
            *more = 1;
            break;
        }
        store_history_row r;
        read_row(st, &r);
        rc = fn(arg, &r, err);
    }
    if (rc == 0 && step < 0)
        rc = -1;
    store_stmt_done(st);
    listing_query_clear(&q);
    return rc;
}

int store_history_latest(store_conn *c, const char *event_id, int64_t integration_id,
                         store_history_fn fn, void *arg, int *found, tc_err *err) {
    *found = 0;
    /* Several attempts share an event id: the newest one. */
    store_stmt *st = store_prepare(c,
                                   "SELECT " HISTORY_COLUMNS " FROM webhook_history"
                                   " WHERE event_id = ? AND integration_id = ?"
                                   " ORDER BY attempt DESC, attempt_id DESC LIMIT 1",
                                   err);
    if (!st)
        return -1;
    store_bind_text(st, 1, event_id);
    store_bind_int64(st, 2, integration_id);
    int step = store_step(st, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW) {
        store_history_row r;
        read_row(st, &r);
        *found = 1;
        rc = fn(arg, &r, err);
    }
    store_stmt_done(st);
    return rc;
}

int store_history_ref_title(store_conn *c, const char *kind, const char *ref_id, char **title,
                            tc_err *err) {
    *title = NULL;
    const char *sql = strcmp(kind, "incident") == 0
                          ? "SELECT title FROM incidents WHERE incident_id = ?"
                          : "SELECT title FROM alerts WHERE alert_id = ?";
    store_stmt *st = store_prepare(c, sql, err);
    if (!st)
        return -1;
    store_bind_text(st, 1, ref_id);
    int step = store_step(st, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW && !(*title = strdup(store_col_text(st, 0))))
        rc = tc_err_oom(err, "a history entry");
    store_stmt_done(st);
    return rc;
}

int store_history_event_seq(store_conn *c, const char *event_id, int64_t integration_id,
                            int64_t *seq, tc_err *err) {
    *seq = 0;
    store_stmt *q = store_prepare(c,
                                  "SELECT e.seq FROM events e WHERE e.event_id = ?"
                                  " AND EXISTS (SELECT 1 FROM webhook_history h WHERE"
                                  " h.event_id = e.event_id AND h.integration_id = ?)",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, event_id);
    store_bind_int64(q, 2, integration_id);
    int step = store_step(q, err);
    if (step == STORE_ROW)
        *seq = store_col_int64(q, 0);
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

/* Runs an aggregate query (bound by the caller), which always has a row. */
static int one_row(store_stmt *q, tc_err *err) {
    int step = store_step(q, err);
    if (step == STORE_DONE)
        return tc_err_set(err, TC_INTERNAL, "an aggregate returned no row");
    return step < 0 ? -1 : 0;
}

int store_history_health_read(store_conn *c, int64_t integration_id, int64_t since,
                              store_history_health *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    /* Attempts and failures within the window. */
    store_stmt *q =
        store_prepare(c,
                      "SELECT count(*),"
                      " coalesce(sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0),"
                      " coalesce(max(CASE WHEN status = 'success'"
                      " THEN created_at END), 0)"
                      " FROM webhook_history WHERE integration_id = ?"
                      " AND created_at >= ?",
                      err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, integration_id);
    store_bind_int64(q, 2, since);
    int rc = one_row(q, err);
    if (rc == 0) {
        out->attempts = store_col_int64(q, 0);
        out->failures = store_col_int64(q, 1);
        out->last_success_at = store_col_int64(q, 2);
    }
    store_stmt_done(q);
    if (rc != 0)
        return -1;
    /* The newest failed attempt that history still keeps. */
    q = store_prepare(c,
                      "SELECT created_at, status_code, error_message"
                      " FROM webhook_history WHERE integration_id = ?"
                      " AND status = 'failed' ORDER BY created_at DESC,"
                      " attempt_id DESC LIMIT 1",
                      err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, integration_id);
    int step = store_step(q, err);
    if (step == STORE_ROW) {
        out->last_error_at = store_col_int64(q, 0);
        out->last_error_code = store_col_int64(q, 1);
        snprintf(out->last_error, sizeof(out->last_error), "%s", store_col_text(q, 2));
    }
    store_stmt_done(q);
    if (step < 0)
        return -1;
    /* The outbox rows still waiting, and when the oldest was queued. */
    q = store_prepare(c,
                      "SELECT count(*), coalesce(min(created_at), 0) FROM deliveries"
                      " WHERE status = 'pending' AND integration_id = ?",
                      err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, integration_id);
    rc = one_row(q, err);
    if (rc == 0) {
        out->pending = store_col_int64(q, 0);
        out->oldest_pending_at = store_col_int64(q, 1);
    }
    store_stmt_done(q);
    return rc;
}

/* ---- writes ---------------------------------------------------------------------- */

int store_history_insert(store_conn *c, const store_history_new *h, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "INSERT INTO webhook_history(integration_id,event_id,webhook_type,event_type,channel_id,"
        "ref_id,endpoint,attempt,duration_ms,status,status_code,error_message,request_headers,"
        "request_body,response_headers,response_body,event_time,created_at,delivery_id,sequence)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        err);
    if (!st)
        return -1;
    /* Bound without copies: the statement runs here, before h's text can
     * change (response bodies of up to 64 KB were copied once more). */
    store_bind_int64(st, 1, h->integration_id);
    store_bind_text_static(st, 2, h->event_id);
    store_bind_text_static(st, 3, h->webhook_type);
    store_bind_text_static(st, 4, h->event_type);
    store_bind_int64(st, 5, h->channel_id);
    store_bind_text_static(st, 6, h->ref_id);
    store_bind_text_static(st, 7, h->endpoint);
    store_bind_int64(st, 8, h->attempt);
    store_bind_int64(st, 9, h->duration_ms);
    store_bind_text_static(st, 10, h->status);
    store_bind_int64(st, 11, h->status_code);
    store_bind_text_static(st, 12, h->error_message);
    store_bind_text_static(st, 13, h->request_headers);
    store_bind_text_static(st, 14, h->request_body);
    store_bind_text_static(st, 15, h->response_headers);
    store_bind_text_static(st, 16, h->response_body);
    store_bind_int64(st, 17, h->event_time);
    store_bind_int64(st, 18, h->created_at);
    store_bind_int64(st, 19, h->delivery_id);
    store_bind_int64(st, 20, h->sequence);
    return store_run(st, err);
}

/* Never the newest row of the table: SQLite gives max(rowid) + 1 to the
 * next insert, so keeping it is what keeps ids from being handed out twice
 * (docs/ARCHITECTURE.md, "Ids and cursors"). */
int store_history_prune(store_conn *c, int64_t before_ms, int64_t limit, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "DELETE FROM webhook_history WHERE attempt_id IN"
                                   " (SELECT attempt_id FROM webhook_history WHERE created_at < ?"
                                   " AND attempt_id < (SELECT MAX(attempt_id) FROM webhook_history)"
                                   " ORDER BY created_at LIMIT ?)",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, before_ms);
    store_bind_int64(st, 2, limit);
    return store_run(st, err);
}
