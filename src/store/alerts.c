/* store/alerts.c: see store/alerts.h. */
#include "store/alerts.h"

#include <stdio.h>
#include <string.h>

/* The columns read into a tc_alert, in this order (read_row). */
#define ALERT_COLUMNS                                                                              \
    "id, alert_id, integration_id, channel_id, alert_key, incident_id, progress, alert_severity,"  \
    " alert_status, start_time, last_time, end_time, close_time, event_cnt, event_hash,"           \
    " created_at, updated_at, title, title_rule, description, labels, images, lanes"

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
        "INSERT INTO alerts(alert_id, integration_id, channel_id, alert_key, incident_id, progress,"
        " alert_severity, alert_status, start_time, last_time, end_time, close_time, event_cnt,"
        " event_hash, created_at, updated_at, title, title_rule, description, labels, images,"
        " lanes) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        err);
    if (!st)
        return -1;
    store_bind_text(st, 1, a->alert_id);
    store_bind_int64(st, 2, a->integration_id);
    store_bind_int64(st, 3, a->channel_id);
    store_bind_text(st, 4, str_or_empty(a->alert_key));
    store_bind_text(st, 5, a->incident_id);
    store_bind_text(st, 6, model_progress_name(a->progress));
    store_bind_text(st, 7, model_rank_name(a->severity));
    store_bind_text(st, 8, model_rank_name(a->status));
    store_bind_int64(st, 9, a->start_time);
    store_bind_int64(st, 10, a->last_time);
    store_bind_int64(st, 11, a->end_time);
    store_bind_int64(st, 12, a->close_time);
    store_bind_int64(st, 13, a->event_cnt);
    store_bind_text(st, 14, a->event_hash);
    store_bind_int64(st, 15, a->created_at);
    store_bind_int64(st, 16, a->updated_at);
    store_bind_text(st, 17, str_or_empty(a->title));
    store_bind_text(st, 18, str_or_empty(a->title_rule));
    store_bind_text(st, 19, str_or_empty(a->description));
    store_bind_text(st, 20, a->labels ? a->labels : "{}");
    store_bind_text(st, 21, a->images ? a->images : "[]");
    store_bind_text(st, 22, str_or_empty(a->lanes));
    if (store_run(st, err) != 0)
        return -1;
    a->id = store_last_insert_id(c);
    return 0;
}

int store_alerts_update(store_conn *c, const tc_alert *a, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "UPDATE alerts SET incident_id=?, progress=?, alert_severity=?, alert_status=?,"
        " last_time=?, end_time=?, close_time=?, event_cnt=?, event_hash=?, updated_at=?,"
        " title=?, title_rule=?, description=?, labels=?, images=?, lanes=? WHERE id=?",
        err);
    if (!st)
        return -1;
    store_bind_text(st, 1, a->incident_id);
    store_bind_text(st, 2, model_progress_name(a->progress));
    store_bind_text(st, 3, model_rank_name(a->severity));
    store_bind_text(st, 4, model_rank_name(a->status));
    store_bind_int64(st, 5, a->last_time);
    store_bind_int64(st, 6, a->end_time);
    store_bind_int64(st, 7, a->close_time);
    store_bind_int64(st, 8, a->event_cnt);
    store_bind_text(st, 9, a->event_hash);
    store_bind_int64(st, 10, a->updated_at);
    store_bind_text(st, 11, str_or_empty(a->title));
    store_bind_text(st, 12, str_or_empty(a->title_rule));
    store_bind_text(st, 13, str_or_empty(a->description));
    store_bind_text(st, 14, a->labels ? a->labels : "{}");
    store_bind_text(st, 15, a->images ? a->images : "[]");
    store_bind_text(st, 16, str_or_empty(a->lanes));
    store_bind_int64(st, 17, a->id);
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
    return store_run(st, err);
}
