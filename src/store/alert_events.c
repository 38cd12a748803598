/* store/alert_events.c: see store/alert_events.h. */
#include "store/alert_events.h"

#include "store/listing.h"

int store_alert_events_insert(store_conn *c, const store_alert_event_row *row, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "INSERT INTO alert_events(event_id, alert_id, integration_id, channel_id, alert_key,"
        " event_severity, event_status, event_time, created_at, title, title_rule, description,"
        " labels, images) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        err);
    if (!st)
        return -1;
    store_bind_text_static(st, 1, row->event_id);
    store_bind_text_static(st, 2, row->alert_id);
    store_bind_int64(st, 3, row->integration_id);
    store_bind_int64(st, 4, row->channel_id);
    store_bind_text_static(st, 5, row->alert_key ? row->alert_key : "");
    store_bind_text_static(st, 6, row->event_severity ? row->event_severity : "");
    store_bind_text_static(st, 7, row->event_status);
    store_bind_int64(st, 8, row->event_time);
    store_bind_int64(st, 9, row->created_at);
    store_bind_text_static(st, 10, row->title ? row->title : "");
    store_bind_text_static(st, 11, row->title_rule ? row->title_rule : "");
    store_bind_text_static(st, 12, row->description ? row->description : "");
    store_bind_text_static(st, 13, row->labels ? row->labels : "{}");
    store_bind_text_static(st, 14, row->images ? row->images : "[]");
    return store_run(st, err);
}

/* ---- the Open API's reads ------------------------------------------------------ */

/* The columns read into a store_alert_event, in this order (read_event);
 * `e` is alert_events, `i` its integration. */
#define EVENT_COLUMNS                                                                              \
    "e.seq, e.event_id, e.alert_id, e.integration_id, COALESCE(i.type, ''), e.channel_id,"         \
    " e.alert_key, e.event_severity, e.event_status, e.event_time, e.created_at, e.title,"         \
    " e.title_rule, e.description, e.labels, e.images"
#define EVENT_FROM                                                                                 \
    " FROM alert_events e LEFT JOIN integrations i ON i.integration_id = e.integration_id"

static void read_event(store_stmt *q, store_alert_event *e) {
    e->seq = store_col_int64(q, 0);
    e->event_id = store_col_text(q, 1);
    e->alert_id = store_col_text(q, 2);
    e->integration_id = store_col_int64(q, 3);
    e->integration_type = store_col_text(q, 4);
    e->channel_id = store_col_int64(q, 5);
    e->alert_key = store_col_text(q, 6);
    e->event_severity = store_col_text(q, 7);
    e->event_status = store_col_text(q, 8);
    e->event_time = store_col_int64(q, 9);
    e->created_at = store_col_int64(q, 10);
    e->title = store_col_text(q, 11);
    e->title_rule = store_col_text(q, 12);
    e->description = store_col_text(q, 13);
    e->labels = store_col_text(q, 14);
    e->images = store_col_text(q, 15);
}

/* Steps q (bound by the caller) and calls fn for up to `limit` rows (-1:
 * every row); *more (may be NULL) tells whether a row was left. */
static int each_event(store_stmt *q, int64_t limit, store_alert_event_fn fn, void *arg, int *more,
                      tc_err *err) {
    int rc = 0, step = STORE_DONE;
    int64_t n = 0;
    if (more)
        *more = 0;
    while (rc == 0 && (step = store_step(q, err)) == STORE_ROW) {
        if (limit >= 0 && n++ == limit) {
            if (more)
                *more = 1;
            break;
        }
        store_alert_event e;
        read_event(q, &e);
        rc = fn(arg, &e, err);
    }
    if (rc == 0 && step < 0)
        rc = -1;
    store_stmt_done(q);
    return rc;
}

int store_alert_events_of_alert(store_conn *c, const char *alert_id, int64_t max,
                                store_alert_event_fn fn, void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT " EVENT_COLUMNS EVENT_FROM " WHERE e.alert_id = ?"
                                  " ORDER BY e.event_time DESC, e.seq DESC LIMIT ?",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, alert_id);
    store_bind_int64(q, 2, max);
    return each_event(q, -1, fn, arg, NULL, err);
}

/* The WHERE clause of a filter; the cursor only when `paged`. */
static void filter_where(listing_query *q, const store_alert_event_filter *f, int paged) {
    listing_sql(q, " WHERE e.event_time >= ");
    listing_int(q, f->start);
    listing_sql(q, " AND e.event_time <= ");
    listing_int(q, f->end);
    listing_in_ints(q, "e.integration_id", f->integration_ids);
    listing_in_ints(q, "e.channel_id", f->channel_ids);
    listing_in_strs(q, "e.event_status", f->statuses, f->nstatuses);
    if (f->ntypes) {
        listing_sql(q, " AND e.integration_id IN (SELECT t.integration_id FROM integrations t"
                       " WHERE 1 = 1");
        listing_in_strs(q, "t.type", f->integration_types, f->ntypes);
        listing_sql(q, ")");
    }
    if (paged && f->has_cursor) {
        listing_sql(q,
                    f->asc ? " AND (e.event_time, e.seq) > (" : " AND (e.event_time, e.seq) < (");
        listing_int(q, f->after_time);
        listing_sql(q, ", ");
        listing_int(q, f->after_seq);
        listing_sql(q, ")");
    }
}

int store_alert_events_count(store_conn *c, const store_alert_event_filter *f, int64_t *total,
                             tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT COUNT(*) FROM alert_events e");
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

int store_alert_events_page(store_conn *c, const store_alert_event_filter *f, int64_t limit,
                            int64_t offset, store_alert_event_fn fn, void *arg, int *more,
                            tc_err *err) {
    *more = 0;
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT " EVENT_COLUMNS EVENT_FROM);
    filter_where(&q, f, 1);
    listing_sql(&q, f->asc ? " ORDER BY e.event_time ASC, e.seq ASC"
                           : " ORDER BY e.event_time DESC, e.seq DESC");
    listing_limit(&q, limit + 1, offset);
    store_stmt *st = listing_prepare(c, &q, err);
    int rc = st ? each_event(st, limit, fn, arg, more, err) : -1;
    listing_query_clear(&q);
    return rc;
}
