/* store/changes.c: see store/changes.h. */
#include "store/changes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/listing.h"

void store_change_row_clear(store_change_row *ch) {
    free(ch->change_key);
    free(ch->title);
    free(ch->description);
    free(ch->link);
    free(ch->labels);
    memset(ch, 0, sizeof(*ch));
}

/* The columns read into a store_change_row, in this order (read_change); `c`
 * is changes, `i` its integration, `h` its channel. */
#define CHANGE_COLUMNS                                                                             \
    "c.id, c.change_id, c.integration_id, c.channel_id, c.change_key, c.title, c.description,"     \
    " c.link, c.labels, c.change_status, c.start_time, c.last_time, c.end_time, c.started,"        \
    " c.event_cnt, c.created_at, c.updated_at, COALESCE(i.name, ''), COALESCE(h.channel_name, '')"
#define CHANGE_FROM                                                                                \
    " FROM changes c LEFT JOIN integrations i ON i.integration_id = c.integration_id"              \
    " LEFT JOIN channels h ON h.channel_id = c.channel_id"

/* The row of q as a store_change_row whose strings q owns. */
static void read_change(store_stmt *q, store_change_row *ch) {
    memset(ch, 0, sizeof(*ch));
    ch->id = store_col_int64(q, 0);
    snprintf(ch->change_id, sizeof(ch->change_id), "%s", store_col_text(q, 1));
    ch->integration_id = store_col_int64(q, 2);
    ch->channel_id = store_col_int64(q, 3);
    ch->change_key = (char *)store_col_text(q, 4);
    ch->title = (char *)store_col_text(q, 5);
    ch->description = (char *)store_col_text(q, 6);
    ch->link = (char *)store_col_text(q, 7);
    ch->labels = (char *)store_col_text(q, 8);
    snprintf(ch->change_status, sizeof(ch->change_status), "%s", store_col_text(q, 9));
    ch->start_time = store_col_int64(q, 10);
    ch->last_time = store_col_int64(q, 11);
    ch->end_time = store_col_int64(q, 12);
    ch->started = store_col_int64(q, 13) != 0;
    ch->event_cnt = store_col_int64(q, 14);
    ch->created_at = store_col_int64(q, 15);
    ch->updated_at = store_col_int64(q, 16);
    ch->integration_name = store_col_text(q, 17);
    ch->channel_name = store_col_text(q, 18);
}

/* Replaces the borrowed strings of ch with copies; -1 when out of memory
 * (ch then owns what was copied and nothing else). */
static int own_strings(store_change_row *ch) {
    char **fields[] = {&ch->change_key, &ch->title, &ch->description, &ch->link, &ch->labels};
    int rc = 0;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        *fields[i] = rc == 0 ? strdup(*fields[i] ? *fields[i] : "") : NULL;
        if (!*fields[i])
            rc = -1;
    }
    ch->integration_name = ch->channel_name = NULL; /* not kept past the statement */
    return rc;
}

int store_changes_find(store_conn *c, int64_t integration_id, const char *change_key,
                       store_change_row *out, int *found, tc_err *err) {
    *found = 0;
    memset(out, 0, sizeof(*out));
    store_stmt *q = store_prepare(
        c, "SELECT " CHANGE_COLUMNS CHANGE_FROM " WHERE c.integration_id = ? AND c.change_key = ?",
        err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, integration_id);
    store_bind_text(q, 2, change_key);
    int step = store_step(q, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW) {
        read_change(q, out);
        if (own_strings(out) != 0) {
            store_change_row_clear(out);
            rc = tc_err_oom(err, "a change");
        } else {
            *found = 1;
        }
    }
    store_stmt_done(q);
    return rc;
}

/* Binds the columns both statements of store_changes_save share, from 1. */
static void bind_change(store_stmt *q, const store_change_row *ch) {
    store_bind_text_static(q, 1, ch->title ? ch->title : "");
    store_bind_text_static(q, 2, ch->description ? ch->description : "");
    store_bind_text_static(q, 3, ch->link ? ch->link : "");
    store_bind_text_static(q, 4, ch->labels ? ch->labels : "{}");
    store_bind_text_static(q, 5, ch->change_status);
    store_bind_int64(q, 6, ch->start_time);
    store_bind_int64(q, 7, ch->last_time);
    store_bind_int64(q, 8, ch->end_time);
    store_bind_int64(q, 9, ch->started);
    store_bind_int64(q, 10, ch->event_cnt);
    store_bind_int64(q, 11, ch->updated_at);
}

int store_changes_save(store_conn *c, const store_change_row *ch, tc_err *err) {
    store_stmt *q;
    if (ch->id) {
        q = store_prepare(c,
                          "UPDATE changes SET title = ?, description = ?, link = ?, labels = ?,"
                          " change_status = ?, start_time = ?, last_time = ?, end_time = ?,"
                          " started = ?, event_cnt = ?, updated_at = ? WHERE id = ?",
                          err);
        if (!q)
            return -1;
        bind_change(q, ch);
        store_bind_int64(q, 12, ch->id);
        return store_run(q, err);
    }
    q = store_prepare(c,
                      "INSERT INTO changes(title, description, link, labels, change_status,"
                      " start_time, last_time, end_time, started, event_cnt, updated_at,"
                      " change_id, integration_id, channel_id, change_key, created_at)"
                      " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      err);
    if (!q)
        return -1;
    bind_change(q, ch);
    store_bind_text_static(q, 12, ch->change_id);
    store_bind_int64(q, 13, ch->integration_id);
    store_bind_int64(q, 14, ch->channel_id);
    store_bind_text_static(q, 15, ch->change_key);
    store_bind_int64(q, 16, ch->created_at);
    return store_run(q, err);
}

int store_change_events_insert(store_conn *c, const store_change_event *e, tc_err *err) {
    store_stmt *q =
        store_prepare(c,
                      "INSERT INTO change_events(event_id, change_id, integration_id, change_key,"
                      " change_status, event_time, created_at, title, description, link, labels)"
                      " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                      err);
    if (!q)
        return -1;
    store_bind_text_static(q, 1, e->event_id);
    store_bind_text_static(q, 2, e->change_id);
    store_bind_int64(q, 3, e->integration_id);
    store_bind_text_static(q, 4, e->change_key);
    store_bind_text_static(q, 5, e->change_status);
    store_bind_int64(q, 6, e->event_time);
    store_bind_int64(q, 7, e->created_at);
    store_bind_text_static(q, 8, e->title ? e->title : "");
    store_bind_text_static(q, 9, e->description ? e->description : "");
    store_bind_text_static(q, 10, e->link ? e->link : "");
    store_bind_text_static(q, 11, e->labels ? e->labels : "{}");
    return store_run(q, err);
}

/* ---- reads ---------------------------------------------------------------- */

int store_changes_each(store_conn *c, const store_change_filter *f, store_change_fn fn, void *arg,
                       tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT " CHANGE_COLUMNS CHANGE_FROM " WHERE c.start_time <= ");
    listing_int(&q, f->end);
    listing_sql(&q, " AND (c.end_time = 0 OR c.end_time >= ");
    listing_int(&q, f->start);
    listing_sql(&q, ")");
    listing_in_ints(&q, "c.integration_id", f->integration_ids);
    listing_in_ints(&q, "c.channel_id", f->channel_ids);
    if (f->by_last_time)
        listing_sql(&q, f->asc ? " ORDER BY c.last_time ASC, c.id ASC"
                               : " ORDER BY c.last_time DESC, c.id DESC");
    else
        listing_sql(&q, f->asc ? " ORDER BY c.start_time ASC, c.id ASC"
                               : " ORDER BY c.start_time DESC, c.id DESC");
    store_stmt *st = listing_prepare(c, &q, err);
    int rc = st ? 0 : -1, step = STORE_DONE;
    while (rc == 0 && (step = store_step(st, err)) == STORE_ROW) {
        store_change_row ch;
        read_change(st, &ch);
        rc = fn(arg, &ch, err);
    }
    if (rc == 0 && step < 0)
        rc = -1;
    if (st)
        store_stmt_done(st);
    listing_query_clear(&q);
    return rc;
}

int store_change_events_of(store_conn *c, const char *change_id, int64_t max,
                           store_change_event_fn fn, void *arg, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT event_id, change_id, integration_id, change_key,"
                                  " change_status, event_time, created_at, title, description,"
                                  " link, labels FROM change_events WHERE change_id = ?"
                                  " ORDER BY seq DESC LIMIT ?",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, change_id);
    store_bind_int64(q, 2, max);
    int rc = 0, step = STORE_DONE;
    while (rc == 0 && (step = store_step(q, err)) == STORE_ROW) {
        store_change_event e = {
            .change_id = store_col_text(q, 1),
            .integration_id = store_col_int64(q, 2),
            .change_key = store_col_text(q, 3),
            .change_status = store_col_text(q, 4),
            .event_time = store_col_int64(q, 5),
            .created_at = store_col_int64(q, 6),
            .title = store_col_text(q, 7),
            .description = store_col_text(q, 8),
            .link = store_col_text(q, 9),
            .labels = store_col_text(q, 10),
        };
        snprintf(e.event_id, sizeof(e.event_id), "%s", store_col_text(q, 0));
        rc = fn(arg, &e, err);
    }
    if (rc == 0 && step < 0)
        rc = -1;
    store_stmt_done(q);
    return rc;
}
