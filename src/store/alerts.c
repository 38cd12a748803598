/* store/alerts.c: see store/alerts.h. */
#include "store/alerts.h"

#include <stdio.h>
#include <string.h>

#include "store/listing.h"

/* The columns read into a tc_alert, in this order (read_row). */
#define ALERT_COLUMNS                                                                              \
    "id, alert_id, integration_id, channel_id, alert_key, incident_id, progress, alert_severity,"  \
    " alert_status, start_time, last_time, end_time, close_time, event_cnt, event_hash,"           \
    " created_at, updated_at, title, title_rule, description, labels, images, lanes, ever_muted"

static int read_row(store_stmt *q, tc_alert *a, tc_err *err) {
    tc_alert_init(a);
    a->id = store_col_int64(q, 0);
    snprintf(a->alert_id, sizeof(a->alert_id), "%s", store_col_text(q, 1));
    a->integration_id = store_col_int64(q, 2);
    a->channel_id = store_col_int64(q, 3);
    snprintf(a->incident_id, sizeof(a->incident_id), "%s", store_col_text(q, 5));
    a->progress = model_progress_parse(store_col_text(q, 6));
    a->severity = model_rank_parse(store_col_text(q, 7));
    a->status = model_rank_parse(store_col_text(q, 8));
    a->start_time = store_col_int64(q, 9);
    a->last_time = store_col_int64(q, 10);
    a->end_time = store_col_int64(q, 11);
    a->close_time = store_col_int64(q, 12);
    a->event_cnt = store_col_int64(q, 13);
    snprintf(a->event_hash, sizeof(a->event_hash), "%s", store_col_text(q, 14));
    a->created_at = store_col_int64(q, 15);
    a->updated_at = store_col_int64(q, 16);
    a->ever_muted = store_col_int64(q, 23) != 0;
    if (a->progress < 0 || a->severity < 0 || a->status < 0) {
        tc_alert_clear(a);
        return tc_err_set(err, TC_INTERNAL, "alert %s has an unreadable progress or severity",
                          store_col_text(q, 1));
    }
    if (model_set_str(&a->alert_key, store_col_text(q, 4)) != 0 ||
        model_set_str(&a->title, store_col_text(q, 17)) != 0 ||
        model_set_str(&a->title_rule, store_col_text(q, 18)) != 0 ||
        model_set_str(&a->description, store_col_text(q, 19)) != 0 ||
        model_set_str(&a->labels, store_col_text(q, 20)) != 0 ||
        model_set_str(&a->images, store_col_text(q, 21)) != 0 ||
        model_set_str(&a->lanes, store_col_text(q, 22)) != 0) {
        tc_alert_clear(a);
        return tc_err_oom(err, "an alert");
    }
    return 0;
}

static const char *str_or_empty(const char *s) {
    return s ? s : "";
}

int store_alerts_insert(store_conn *c, tc_alert *a, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "INSERT INTO alerts(id, alert_id, integration_id, channel_id, alert_key, incident_id, "
        "progress,"
        " alert_severity, alert_status, start_time, last_time, end_time, close_time, event_cnt,"
        " event_hash, created_at, updated_at, title, title_rule, description, labels, images,"
        " lanes, ever_muted, new_at, new_detail)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        err);
    if (!st)
        return -1;
    int64_t id = store_batch_next_id(c, STORE_ID_ALERT);
    if (id <= 0) {
        store_stmt_done(st);
        return tc_err_set(err, TC_INTERNAL, "store: no id for a new alert");
    }
    store_bind_int64(st, 1, id);
    store_bind_text_static(st, 2, a->alert_id);
    store_bind_int64(st, 3, a->integration_id);
    store_bind_int64(st, 4, a->channel_id);
    store_bind_text_static(st, 5, str_or_empty(a->alert_key));
    store_bind_text_static(st, 6, a->incident_id);
    store_bind_text_static(st, 7, model_progress_name(a->progress));
    store_bind_text_static(st, 8, model_rank_name(a->severity));
    store_bind_text_static(st, 9, model_rank_name(a->status));
    store_bind_int64(st, 10, a->start_time);
    store_bind_int64(st, 11, a->last_time);
    store_bind_int64(st, 12, a->end_time);
    store_bind_int64(st, 13, a->close_time);
    store_bind_int64(st, 14, a->event_cnt);
    store_bind_text_static(st, 15, a->event_hash);
    store_bind_int64(st, 16, a->created_at);
    store_bind_int64(st, 17, a->updated_at);
    store_bind_text_static(st, 18, str_or_empty(a->title));
    store_bind_text_static(st, 19, str_or_empty(a->title_rule));
    store_bind_text_static(st, 20, str_or_empty(a->description));
    store_bind_text_static(st, 21, a->labels ? a->labels : "{}");
    store_bind_text_static(st, 22, a->images ? a->images : "[]");
    store_bind_text_static(st, 23, str_or_empty(a->lanes));
    store_bind_int64(st, 24, a->ever_muted);
    store_bind_int64(st, 25, a->new_detail ? a->new_at : 0);
    store_bind_text_static(st, 26, a->new_detail);
    if (store_run(st, err) != 0)
        return -1;
    a->id = id;
    store_batch_note_alert(c, a->alert_id, a->integration_id, a->alert_key);
    return 0;
}

int store_alerts_update(store_conn *c, const tc_alert *a, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "UPDATE alerts SET incident_id=?, progress=?, alert_severity=?, alert_status=?,"
        " last_time=?, end_time=?, close_time=?, event_cnt=?, event_hash=?, updated_at=?,"
        " title=?, title_rule=?, description=?, labels=?, images=?, lanes=?, ever_muted=?"
        " WHERE id=?",
        err);
    if (!st)
        return -1;
    store_bind_text_static(st, 1, a->incident_id);
    store_bind_text_static(st, 2, model_progress_name(a->progress));
    store_bind_text_static(st, 3, model_rank_name(a->severity));
    store_bind_text_static(st, 4, model_rank_name(a->status));
    store_bind_int64(st, 5, a->last_time);
    store_bind_int64(st, 6, a->end_time);
    store_bind_int64(st, 7, a->close_time);
    store_bind_int64(st, 8, a->event_cnt);
    store_bind_text_static(st, 9, a->event_hash);
    store_bind_int64(st, 10, a->updated_at);
    store_bind_text_static(st, 11, str_or_empty(a->title));
    store_bind_text_static(st, 12, str_or_empty(a->title_rule));
    store_bind_text_static(st, 13, str_or_empty(a->description));
    store_bind_text_static(st, 14, a->labels ? a->labels : "{}");
    store_bind_text_static(st, 15, a->images ? a->images : "[]");
    store_bind_text_static(st, 16, str_or_empty(a->lanes));
    store_bind_int64(st, 17, a->ever_muted);
    store_bind_int64(st, 18, a->id);
    store_batch_note_alert(c, a->alert_id, a->integration_id, a->alert_key);
    return store_run(st, err);
}

int store_alerts_load(store_conn *c, const char *alert_id, tc_alert *out, tc_err *err) {
    tc_alert_init(out);
    store_stmt *q =
        store_prepare(c, "SELECT " ALERT_COLUMNS " FROM alerts WHERE alert_id = ?", err);
    if (!q)
        return -1;
    store_bind_text(q, 1, alert_id);
    int step = store_step(q, err);
    int rc = -1;
    if (step == STORE_ROW)
        rc = read_row(q, out, err);
    else if (step == STORE_DONE)
        tc_err_set(err, TC_INVALID_PARAMETER, "alert_id %s does not exist", alert_id);
    store_stmt_done(q);
    return rc;
}

/* Runs q (bound by the caller) and calls fn for each row. */
static int each_row(store_stmt *q, int (*fn)(void *arg, const tc_alert *a, tc_err *err), void *arg,
                    tc_err *err) {
    int step = STORE_DONE, rc = 0;
    while (rc == 0 && (step = store_step(q, err)) == STORE_ROW) {
        tc_alert a;
        if (read_row(q, &a, err) != 0) {
            rc = -1;
            break;
        }
        rc = fn(arg, &a, err);
        tc_alert_clear(&a);
    }
    if (rc == 0 && step < 0)
        rc = -1;
    store_stmt_done(q);
    return rc;
}

int store_alerts_each_open(store_conn *c, int (*fn)(void *arg, const tc_alert *a, tc_err *err),
                           void *arg, tc_err *err) {
    store_stmt *q = store_prepare(
        c, "SELECT " ALERT_COLUMNS " FROM alerts WHERE progress <> 'Closed' ORDER BY id", err);
    return q ? each_row(q, fn, arg, err) : -1;
}

int store_alerts_each_recent(store_conn *c, int64_t since,
                             int (*fn)(void *arg, const tc_alert *a, tc_err *err), void *arg,
                             tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT " ALERT_COLUMNS " FROM alerts WHERE progress <> 'Closed'"
                                  " AND last_time >= ? ORDER BY id",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, since);
    return each_row(q, fn, arg, err);
}

int store_alerts_each_of_incident(store_conn *c, const char *incident_id,
                                  int (*fn)(void *arg, const tc_alert *a, tc_err *err), void *arg,
                                  tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT " ALERT_COLUMNS " FROM alerts WHERE incident_id = ?"
                                  " ORDER BY start_time, alert_id",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, incident_id);
    return each_row(q, fn, arg, err);
}

int store_alerts_set_lanes(store_conn *c, const char *alert_id, const char *lanes, tc_err *err) {
    store_stmt *st = store_prepare(c, "UPDATE alerts SET lanes = ? WHERE alert_id = ?", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, lanes ? lanes : "");
    store_bind_text(st, 2, alert_id);
    /* Not noted: no node's cache holds lanes (the outbox reads them). */
    return store_run(st, err);
}

/* ---- the Open API's reads ------------------------------------------------------ */

int store_alerts_exists(store_conn *c, const char *alert_id, tc_err *err) {
    store_stmt *st = store_prepare(c, "SELECT 1 FROM alerts WHERE alert_id = ?", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, alert_id);
    int step = store_step(st, err);
    store_stmt_done(st);
    if (step == STORE_DONE)
        return tc_err_set(err, TC_INVALID_PARAMETER, "alert_id %s does not exist", alert_id);
    return step < 0 ? -1 : 0;
}

static const char *column_name(store_alert_column col) {
    switch (col) {
    case STORE_ALERT_CREATED_AT:
        return "created_at";
    case STORE_ALERT_UPDATED_AT:
        return "updated_at";
    default:
        return "start_time";
    }
}

int64_t store_alert_column_value(const tc_alert *a, store_alert_column col) {
    switch (col) {
    case STORE_ALERT_CREATED_AT:
        return a->created_at;
    case STORE_ALERT_UPDATED_AT:
        return a->updated_at;
    default:
        return a->start_time;
    }
}

/* The WHERE clause of a filter; the cursor only when `paged`. */
static void filter_where(listing_query *q, const store_alert_filter *f, int paged) {
    const char *window = column_name(f->window);
    listing_sql(q, " WHERE ");
    listing_sql(q, window);
    listing_sql(q, " >= ");
    listing_int(q, f->start);
    listing_sql(q, " AND ");
    listing_sql(q, window);
    listing_sql(q, " <= ");
    listing_int(q, f->end);
    if (f->has_is_active)
        listing_sql(q, f->is_active ? " AND progress <> 'Closed'" : " AND progress = 'Closed'");
    if (f->ever_muted)
        listing_sql(q, " AND ever_muted <> 0");
    listing_in_strs(q, "alert_severity", f->severities, f->nseverities);
    listing_in_ints(q, "channel_id", f->channel_ids);
    listing_in_ints(q, "integration_id", f->integration_ids);
    listing_in_texts(q, "alert_id", f->alert_ids);
    listing_in_texts(q, "alert_key", f->alert_keys);
    if (paged && f->has_cursor) {
        listing_sql(q, " AND (");
        listing_sql(q, column_name(f->sort));
        listing_sql(q, f->asc ? ", alert_id) > (" : ", alert_id) < (");
        listing_int(q, f->after_key);
        listing_sql(q, ", ");
        listing_text(q, f->after_id);
        listing_sql(q, ")");
    }
}

int store_alerts_count(store_conn *c, const store_alert_filter *f, int64_t *total, tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT COUNT(*) FROM alerts");
    filter_where(&q, f, 0);
    int rc = -1;
    store_stmt *st = listing_prepare(c, &q, err);
    if (st) {
        int step = store_step(st, err);
        if (step == STORE_ROW) {
            *total = store_col_int64(st, 0);
            rc = 0;
        } else if (step == STORE_DONE) {
            tc_err_set(err, TC_INTERNAL, "a count returned no row");
        }
        store_stmt_done(st);
    }
    listing_query_clear(&q);
    return rc;
}

int store_alerts_page(store_conn *c, const store_alert_filter *f, int64_t limit, int64_t offset,
                      int (*fn)(void *arg, const tc_alert *a, tc_err *err), void *arg, int *more,
                      tc_err *err) {
    *more = 0;
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT " ALERT_COLUMNS " FROM alerts");
    filter_where(&q, f, 1);
    listing_sql(&q, " ORDER BY ");
    listing_sql(&q, column_name(f->sort));
    listing_sql(&q, f->asc ? " ASC, alert_id ASC" : " DESC, alert_id DESC");
    /* One row more than the page tells whether another page follows. */
    listing_limit(&q, limit + 1, offset);
    store_stmt *st = listing_prepare(c, &q, err);
    int rc = st ? 0 : -1, step = STORE_DONE;
    int64_t n = 0;
    while (rc == 0 && (step = store_step(st, err)) == STORE_ROW) {
        if (n++ == limit) {
            *more = 1;
            break;
        }
        tc_alert a;
        if (read_row(st, &a, err) != 0) {
            rc = -1;
            break;
        }
        rc = fn(arg, &a, err);
        tc_alert_clear(&a);
    }
    if (rc == 0 && step < 0)
        rc = -1;
    if (st)
        store_stmt_done(st);
    listing_query_clear(&q);
    return rc;
}
