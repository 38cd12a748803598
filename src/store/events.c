/* store/events.c: see store/events.h. */
#include "store/events.h"

#include "store/listing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_events_append(store_conn *c, store_event_row *row, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "INSERT INTO events(seq, event_id, event_time, event_type,"
                                   " object_kind, object_id, channel_id, person_id, feed_ref,"
                                   " detail, body) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                                   err);
    if (!st)
        return -1;
    int64_t seq = store_batch_next_id(c, STORE_ID_EVENT);
    store_bind_int64(st, 1, seq);
    store_bind_text_static(st, 2, row->event_id[0] ? row->event_id : NULL);
    store_bind_int64(st, 3, row->event_time);
    store_bind_text_static(st, 4, row->event_type);
    store_bind_text_static(st, 5, row->object_kind);
    store_bind_text_static(st, 6, row->object_id);
    store_bind_int64(st, 7, row->channel_id);
    store_bind_int64(st, 8, row->person_id);
    store_bind_text_static(st, 9, row->feed_ref ? row->feed_ref : "");
    store_bind_text_static(st, 10, row->detail);
    store_bind_text_static(st, 11, row->body);
    if (seq <= 0) {
        store_stmt_done(st);
        return tc_err_set(err, TC_INTERNAL, "store: no id for a new event");
    }
    if (store_run(st, err) != 0)
        return -1;
    row->seq = seq;
    return 0;
}

void store_event_clear(store_event *e) {
    free(e->body);
    memset(e, 0, sizeof(*e));
}

static int read_one(store_stmt *q, const char *what, store_event *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    int step = store_step(q, err);
    int rc = -1;
    if (step == STORE_ROW) {
        out->seq = store_col_int64(q, 0);
        snprintf(out->event_id, sizeof(out->event_id), "%s", store_col_text(q, 1));
        snprintf(out->event_type, sizeof(out->event_type), "%s", store_col_text(q, 2));
        snprintf(out->object_kind, sizeof(out->object_kind), "%s", store_col_text(q, 3));
        snprintf(out->object_id, sizeof(out->object_id), "%s", store_col_text(q, 4));
        out->channel_id = store_col_int64(q, 5);
        out->event_time = store_col_int64(q, 6);
        rc = 0;
        if (!store_col_is_null(q, 7) && !(out->body = strdup(store_col_text(q, 7))))
            rc = tc_err_oom(err, "an event's body");
    } else if (step == STORE_DONE) {
        tc_err_set(err, TC_INVALID_PARAMETER, "event %s does not exist", what);
    }
    store_stmt_done(q);
    return rc;
}

#define EVENT_COLUMNS                                                                              \
    "seq, event_id, event_type, object_kind, object_id, channel_id, event_time, body"

int store_events_by_seq(store_conn *c, int64_t seq, store_event *out, tc_err *err) {
    store_stmt *q = store_prepare(
        c, "SELECT " EVENT_COLUMNS " FROM events WHERE seq = ? AND event_id IS NOT NULL", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, seq);
    char what[32];
    snprintf(what, sizeof(what), "%lld", (long long)seq);
    return read_one(q, what, out, err);
}

int store_events_by_event_id(store_conn *c, const char *event_id, store_event *out, tc_err *err) {
    store_stmt *q =
        store_prepare(c, "SELECT " EVENT_COLUMNS " FROM events WHERE event_id = ?", err);
    if (!q)
        return -1;
    store_bind_text(q, 1, event_id);
    return read_one(q, event_id, out, err);
}

/* The creation entry kept in the object's row, as a timeline row with seq
 * 0: before every row of `events`, whose seqs start at 1. */
static void creation_entry(listing_query *q, const char *object_kind, const char *feed_ref) {
    int incident = strcmp(object_kind, "incident") == 0;
    listing_sql(q, incident ? "SELECT 0 AS seq, 'i_new' AS event_type, creator_id AS person_id,"
                              " new_at AS event_time, new_detail AS detail FROM incidents"
                              " WHERE incident_id = "
                            : "SELECT 0 AS seq, 'a_new' AS event_type, 0 AS person_id,"
                              " new_at AS event_time, new_detail AS detail FROM alerts"
                              " WHERE alert_id = ");
    listing_text(q, feed_ref);
    listing_sql(q, " AND new_detail IS NOT NULL");
}

int store_events_feed(store_conn *c, const char *object_kind, const char *feed_ref, int asc,
                      json_t *types, int64_t p, int64_t limit,
                      int (*fn)(void *arg, const store_feed_row *r, tc_err *err), void *arg,
                      int *more, tc_err *err) {
    *more = 0;
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT seq, event_type, person_id, event_time, detail FROM (");
    creation_entry(&q, object_kind, feed_ref);
    listing_sql(&q, " UNION ALL SELECT seq, event_type, person_id, event_time,"
                    " COALESCE(detail, '{}') FROM events WHERE feed_ref = ");
    listing_text(&q, feed_ref);
    listing_sql(&q, ") AS feed WHERE 1 = 1");
    listing_in_texts(&q, "event_type", types);
    listing_sql(&q, asc ? " ORDER BY seq ASC" : " ORDER BY seq DESC");
    listing_limit(&q, limit + 1, (p - 1) * limit);
    store_stmt *st = listing_prepare(c, &q, err);
    int rc = st ? 0 : -1, step = STORE_DONE;
    int64_t n = 0;
    while (rc == 0 && (step = store_step(st, err)) == STORE_ROW) {
        if (n++ == limit) {
            *more = 1;
            break;
        }
        store_feed_row r = {.seq = store_col_int64(st, 0),
                            .type = store_col_text(st, 1),
                            .person_id = store_col_int64(st, 2),
                            .created_at = store_col_int64(st, 3),
                            .detail = store_col_text(st, 4)};
        rc = fn(arg, &r, err);
    }
    if (rc == 0 && step < 0)
        rc = -1;
    store_stmt_done(st);
    listing_query_clear(&q);
    return rc;
}
