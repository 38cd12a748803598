/* store/incidents.c: see store/incidents.h. */
#include "store/incidents.h"

#include <stdio.h>
#include <string.h>

/* A text column as an owned string; NULL stays NULL when nullable. */
static int take_text(store_stmt *q, int col, int nullable, char **out) {
    if (nullable && store_col_is_null(q, col)) {
        *out = NULL;
        return 0;
    }
    return model_set_str(out, store_col_text(q, col));
}

int store_incidents_read_row(store_stmt *q, tc_incident *inc, tc_err *err) {
    tc_incident_init(inc);
    inc->id = store_col_int64(q, 0);
    snprintf(inc->incident_id, sizeof(inc->incident_id), "%s", store_col_text(q, 1));
    inc->channel_id = store_col_int64(q, 2);
    inc->progress = model_progress_parse(store_col_text(q, 3));
    inc->severity = model_rank_parse(store_col_text(q, 4));
    inc->status = model_rank_parse(store_col_text(q, 5));
    if (inc->progress < 0 || inc->severity < 0 || inc->status < 0) {
        tc_err_set(err, TC_INTERNAL, "incident %s has an unreadable progress or severity",
                   inc->incident_id);
        tc_incident_clear(inc);
        return -1;
    }
    int64_t *times[] = {&inc->start_time, &inc->last_time,      &inc->end_time,   &inc->ack_time,
                        &inc->close_time, &inc->snoozed_before, &inc->created_at, &inc->updated_at,
                        &inc->deleted_at, &inc->creator_id,     &inc->closer_id,  &inc->owner_id};
    for (int i = 0; i < 12; i++)
        *times[i] = store_col_int64(q, 11 + i);
    inc->group_method = store_col_text(q, 25)[0] ? store_col_text(q, 25)[0] : 'n';
    inc->alert_cnt = store_col_int64(q, 26);
    inc->active_alert_cnt = store_col_int64(q, 27);
    inc->alert_event_cnt = store_col_int64(q, 28);
    inc->last_alert_time = store_col_int64(q, 29);
    inc->max_alert_end = store_col_int64(q, 30);
    int failed = take_text(q, 6, 0, &inc->title) || take_text(q, 7, 0, &inc->description) ||
                 take_text(q, 8, 0, &inc->impact) || take_text(q, 9, 0, &inc->root_cause) ||
                 take_text(q, 10, 0, &inc->resolution) || take_text(q, 23, 1, &inc->creator) ||
                 take_text(q, 24, 1, &inc->closer) || take_text(q, 31, 0, &inc->pins) ||
                 take_text(q, 32, 0, &inc->storm_fired) ||
                 take_text(q, 33, 0, &inc->integration_ids) ||
                 take_text(q, 34, 0, &inc->integration_types) ||
                 take_text(q, 35, 1, &inc->labels) || take_text(q, 36, 0, &inc->fields) ||
                 take_text(q, 37, 0, &inc->responders) || take_text(q, 38, 1, &inc->assigned_to) ||
                 take_text(q, 39, 0, &inc->group_keys) || take_text(q, 40, 0, &inc->lanes);
    if (failed) {
        tc_incident_clear(inc);
        return tc_err_oom(err, "an incident");
    }
    return 0;
}

static const char *or_default(const char *s, const char *fallback) {
    return s ? s : fallback;
}

/* Binds the columns that an update writes, from index first on, in the
 * order of UPDATE_SET; returns the next index. */
static int bind_mutable(store_stmt *st, int i, const tc_incident *inc) {
    store_bind_int64(st, i++, inc->channel_id);
    store_bind_text_static(st, i++, model_progress_name(inc->progress));
    store_bind_text_static(st, i++, model_rank_name(inc->severity));
    store_bind_text_static(st, i++, model_rank_name(inc->status));
    store_bind_text_static(st, i++, or_default(inc->title, ""));
    store_bind_text_static(st, i++, or_default(inc->description, ""));
    store_bind_text_static(st, i++, or_default(inc->impact, ""));
    store_bind_text_static(st, i++, or_default(inc->root_cause, ""));
    store_bind_text_static(st, i++, or_default(inc->resolution, ""));
    const int64_t ints[] = {inc->last_time,      inc->end_time,   inc->ack_time,   inc->close_time,
                            inc->snoozed_before, inc->updated_at, inc->deleted_at, inc->creator_id,
                            inc->closer_id,      inc->owner_id};
    for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
        store_bind_int64(st, i++, ints[k]);
    store_bind_text_static(st, i++, inc->creator);
    store_bind_text_static(st, i++, inc->closer);
    /* Copied: the buffer ends with this function, before the statement runs. */
    char method[2] = {inc->group_method ? inc->group_method : 'n', '\0'};
    store_bind_text(st, i++, method);
    const int64_t counts[] = {inc->alert_cnt, inc->active_alert_cnt, inc->alert_event_cnt,
                              inc->last_alert_time, inc->max_alert_end};
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++)
        store_bind_int64(st, i++, counts[k]);
    store_bind_text_static(st, i++, or_default(inc->pins, "{}"));
    store_bind_text_static(st, i++, or_default(inc->storm_fired, "[]"));
    store_bind_text_static(st, i++, or_default(inc->integration_ids, "[]"));
    store_bind_text_static(st, i++, or_default(inc->integration_types, "[]"));
    store_bind_text_static(st, i++, inc->labels);
    store_bind_text_static(st, i++, or_default(inc->fields, "{}"));
    store_bind_text_static(st, i++, or_default(inc->responders, "[]"));
    store_bind_text_static(st, i++, inc->assigned_to);
    store_bind_text_static(st, i++, or_default(inc->group_keys, "[]"));
    store_bind_text_static(st, i++, or_default(inc->lanes, ""));
    return i;
}

#define MUTABLE_COLUMNS                                                                            \
    "channel_id, progress, incident_severity, incident_status, title, description, impact,"        \
    " root_cause, resolution, last_time, end_time, ack_time, close_time, snoozed_before,"          \
    " updated_at, deleted_at, creator_id, closer_id, owner_id, creator, closer, group_method,"     \
    " alert_cnt, active_alert_cnt, alert_event_cnt, last_alert_time, max_alert_end, pins,"         \
    " storm_fired, integration_ids, integration_types, labels, fields, responders, assigned_to,"   \
    " group_keys, lanes"

#define UPDATE_SET                                                                                 \
    "channel_id=?, progress=?, incident_severity=?, incident_status=?, title=?, description=?,"    \
    " impact=?, root_cause=?, resolution=?, last_time=?, end_time=?, ack_time=?, close_time=?,"    \
    " snoozed_before=?, updated_at=?, deleted_at=?, creator_id=?, closer_id=?, owner_id=?,"        \
    " creator=?, closer=?, group_method=?, alert_cnt=?, active_alert_cnt=?, alert_event_cnt=?,"    \
    " last_alert_time=?, max_alert_end=?, pins=?, storm_fired=?, integration_ids=?,"               \
    " integration_types=?, labels=?, fields=?, responders=?, assigned_to=?, group_keys=?, lanes=?"

int store_incidents_insert(store_conn *c, tc_incident *inc, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "INSERT INTO incidents(id, incident_id, start_time, created_at, new_at, "
        "new_detail, " MUTABLE_COLUMNS ")"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
        "?,?)",
        err);
    if (!st)
        return -1;
    int64_t id = store_batch_next_id(c, STORE_ID_INCIDENT);
    if (id <= 0) {
        store_stmt_done(st);
        return tc_err_set(err, TC_INTERNAL, "store: no id for a new incident");
    }
    store_bind_int64(st, 1, id);
    store_bind_text_static(st, 2, inc->incident_id);
    store_bind_int64(st, 3, inc->start_time);
    store_bind_int64(st, 4, inc->created_at);
    store_bind_int64(st, 5, inc->new_detail ? inc->new_at : 0);
    store_bind_text_static(st, 6, inc->new_detail);
    bind_mutable(st, 7, inc);
    if (store_run(st, err) != 0)
        return -1;
    inc->id = id;
    store_batch_note(c, 'i', inc->incident_id);
    return 0;
}

int store_incidents_update(store_conn *c, const tc_incident *inc, tc_err *err) {
    store_stmt *st = store_prepare(c, "UPDATE incidents SET " UPDATE_SET " WHERE id=?", err);
    if (!st)
        return -1;
    int next = bind_mutable(st, 1, inc);
    store_bind_int64(st, next, inc->id);
    store_batch_note(c, 'i', inc->incident_id);
    return store_run(st, err);
}

int store_incidents_load(store_conn *c, const char *incident_id, int with_removed, tc_incident *out,
                         tc_err *err) {
    tc_incident_init(out);
    store_stmt *q = store_prepare(
        c, "SELECT " STORE_INCIDENT_COLUMNS " FROM incidents WHERE incident_id = ?", err);
    if (!q)
        return -1;
    store_bind_text(q, 1, incident_id);
    int step = store_step(q, err);
    int rc = -1;
    if (step == STORE_ROW && (with_removed || store_col_int64(q, 19) == 0))
        rc = store_incidents_read_row(q, out, err);
    else if (step >= 0)
        tc_err_set(err, TC_INVALID_PARAMETER, "incident_id %s does not exist", incident_id);
    store_stmt_done(q);
    return rc;
}

int store_incidents_each_open(store_conn *c,
                              int (*fn)(void *arg, const tc_incident *inc, tc_err *err), void *arg,
                              tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT " STORE_INCIDENT_COLUMNS " FROM incidents"
                                  " WHERE progress <> 'Closed' AND deleted_at = 0 ORDER BY id",
                                  err);
    if (!q)
        return -1;
    int step = STORE_DONE, rc = 0;
    while (rc == 0 && (step = store_step(q, err)) == STORE_ROW) {
        tc_incident inc;
        if (store_incidents_read_row(q, &inc, err) != 0) {
            rc = -1;
            break;
        }
        rc = fn(arg, &inc, err);
        tc_incident_clear(&inc);
    }
    if (rc == 0 && step < 0)
        rc = -1;
    store_stmt_done(q);
    return rc;
}

int store_incidents_snooze_due(store_conn *c, int64_t now, char (*ids)[IDS_OBJECT_LEN + 1], int max,
                               tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT incident_id FROM incidents WHERE snoozed_before > 0"
                                  " AND snoozed_before <= ? AND deleted_at = 0"
                                  " ORDER BY snoozed_before LIMIT ?",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, now);
    store_bind_int64(q, 2, max);
    int n = 0, step;
    while ((step = store_step(q, err)) == STORE_ROW && n < max)
        snprintf(ids[n++], IDS_OBJECT_LEN + 1, "%s", store_col_text(q, 0));
    store_stmt_done(q);
    return step < 0 ? -1 : n;
}

int store_incidents_set_lanes(store_conn *c, const char *incident_id, const char *lanes,
                              tc_err *err) {
    store_stmt *st = store_prepare(c, "UPDATE incidents SET lanes = ? WHERE incident_id = ?", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, lanes ? lanes : "");
    store_bind_text(st, 2, incident_id);
    /* Not noted: no node's cache holds lanes (the outbox reads them). */
    return store_run(st, err);
}

int store_incidents_channel_stats(store_conn *c, int64_t channel_id, int64_t since,
                                  store_channel_incidents *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    store_stmt *q = store_prepare(c,
                                  "SELECT progress, COUNT(*) FROM incidents WHERE channel_id = ?"
                                  " AND start_time >= ? AND deleted_at = 0"
                                  " AND progress IN ('Triggered', 'Processing') GROUP BY progress",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, channel_id);
    store_bind_int64(q, 2, since);
    int step;
    while ((step = store_step(q, err)) == STORE_ROW) {
        if (strcmp(store_col_text(q, 0), "Triggered") == 0)
            out->triggered = store_col_int64(q, 1);
        else
            out->processing = store_col_int64(q, 1);
    }
    store_stmt_done(q);
    if (step < 0)
        return -1;
    q = store_prepare(c,
                      "SELECT COALESCE(MAX(start_time), 0) FROM incidents"
                      " WHERE channel_id = ? AND deleted_at = 0",
                      err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, channel_id);
    step = store_step(q, err);
    if (step == STORE_ROW)
        out->last_start = store_col_int64(q, 0);
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}
