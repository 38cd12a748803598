/* history.c: the read side of webhook invocation history
 * (reference/webhooks.md "Invocation history").
 *
 *   /webhook/history/list    ListWebhookHistoryRequest → ListWebhookHistoryResponse
 *   /webhook/history/detail  GetWebhookHistoryDetailRequest → WebhookHistoryDetail
 *
 * Delivery writes one webhook_history row per attempt; these calls only
 * read it, through a reader connection. A list is bounded by a time window
 * on the event's time (milliseconds, at most 7 days: what history keeps),
 * filtered in SQL on the indexed columns, ordered by (event_time,
 * attempt_id) and paged with a search_after_ctx cursor over that pair. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "store/listing.h"
#include "api/params.h"
#include "util/doc.h"
#include "util/jbuild.h"

#define HISTORY_MAX_EVENT_TYPES 50
/* The columns of an item, in the order history_item reads them. */
#define HISTORY_COLUMNS                                                                            \
    "attempt_id, integration_id, event_id, webhook_type, event_type, channel_id, ref_id,"          \
    " endpoint, attempt, duration_ms, status, status_code, error_message, event_time,"             \
    " request_headers, request_body, response_headers, response_body"

typedef struct {
    int64_t start_time, end_time, limit, integration_id;
    int asc;
    char *ref_id;
    const char *status;
    json_t *event_types;
    char *cursor;
    int has_cursor;
    int64_t after_time;
    char after_id[25];
} history_filter;

static void history_filter_clear(history_filter *f) {
    free(f->ref_id);
    free(f->cursor);
}

static int read_filter(json_t *body, history_filter *f, tc_err *err) {
    static const char *const statuses[] = {"success", "failed", NULL};
    static const char *const orderbys[] = {"event_time", NULL};
    const char *orderby = NULL;
    if (params_history_window(body, &f->start_time, &f->end_time, err) ||
        params_int64(body, "limit", PARAM_REQUIRED, 1, 100, &f->limit, err) ||
        params_bool(body, "asc", PARAM_OPTIONAL, &f->asc, err) ||
        params_enum(body, "orderby", PARAM_OPTIONAL, orderbys, &orderby, err) ||
        params_string(body, "ref_id", PARAM_OPTIONAL, 128, PARAM_REFUSE, &f->ref_id, err) ||
        params_int64(body, "integration_id", PARAM_OPTIONAL, 0, INT64_MAX, &f->integration_id,
                     err) ||
        params_string_array(body, "event_types", PARAM_OPTIONAL, HISTORY_MAX_EVENT_TYPES,
                            &f->event_types, err) ||
        params_enum(body, "status", PARAM_OPTIONAL, statuses, &f->status, err) ||
        params_string(body, "search_after_ctx", PARAM_OPTIONAL, 128, PARAM_REFUSE, &f->cursor, err))
        return -1;
    if (f->cursor && f->cursor[0]) {
        if (listing_cursor_decode("search_after_ctx", f->cursor, &f->after_time, f->after_id,
                                  err) != 0)
            return -1;
        /* History cursors name an attempt_id: decimal digits only. */
        if (strspn(f->after_id, "0123456789") != strlen(f->after_id))
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "search_after_ctx is not a cursor returned by this call");
        f->has_cursor = 1;
    }
    return 0;
}

/* WHERE clause of the filter; the cursor only when `paged`. */
static void add_where(listing_query *q, const history_filter *f, int paged) {
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
                              : " AND (event_time, "
                                "attempt_id) < (");
        listing_int(q, f->after_time);
        listing_sql(q, ", ");
        listing_int(q, strtoll(f->after_id, NULL, 10));
        listing_sql(q, ")");
    }
}

/* One row (HISTORY_COLUMNS) as a WebhookHistoryItem; with `detail` also the
 * request and response that were exchanged. NULL when out of memory. */
static json_t *history_item(store_stmt *q, int detail) {
    char when[32];
    listing_format_ms(store_col_int64(q, 13), when, sizeof(when));
    json_t *item = json_pack(
        "{s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:s, s:I, s:s, s:s}", "integration_id",
        (json_int_t)store_col_int64(q, 1), "event_id", store_col_text(q, 2), "webhook_type",
        store_col_text(q, 3), "event_type", store_col_text(q, 4), "channel_id",
        (json_int_t)store_col_int64(q, 5), "ref_id", store_col_text(q, 6), "endpoint",
        store_col_text(q, 7), "attempt", (json_int_t)store_col_int64(q, 8), "duration",
        (json_int_t)store_col_int64(q, 9), "status", store_col_text(q, 10), "status_code",
        (json_int_t)store_col_int64(q, 11), "error_message", store_col_text(q, 12), "event_time",
        when);
    int failed = !item;
    if (detail) {
        jb_set(item, "request_headers", json_string(store_col_text(q, 14)), &failed);
        jb_set(item, "request_body", json_string(store_col_text(q, 15)), &failed);
        jb_set(item, "response_headers", json_string(store_col_text(q, 16)), &failed);
        jb_set(item, "response_body", json_string(store_col_text(q, 17)), &failed);
    }
    if (failed) {
        json_decref(item);
        return NULL;
    }
    return item;
}

static int count_rows(store_conn *c, const history_filter *f, int64_t *total, tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT COUNT(*) FROM webhook_history");
    add_where(&q, f, 0);
    int rc = -1;
    store_stmt *st = listing_prepare(c, &q, err);
    if (st) {
        int step = store_step(st, err);
        if (step == STORE_ROW) {
            *total = store_col_int64(st, 0);
            rc = 0;
        } else if (step == STORE_DONE) {
            rc = tc_err_set(err, TC_INTERNAL, "counting history returned no row");
        }
        store_stmt_done(st);
    }
    listing_query_clear(&q);
    return rc;
}

/* Fills items with up to f->limit rows; cursor receives the next page's
 * search_after_ctx, left "" when this is the last page. */
static int read_page(store_conn *c, const history_filter *f, json_t *items, char *cursor,
                     tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT " HISTORY_COLUMNS " FROM webhook_history");
    add_where(&q, f, 1);
    listing_sql(&q, f->asc ? " ORDER BY event_time ASC, attempt_id ASC LIMIT "
                           : " ORDER BY event_time DESC, attempt_id DESC LIMIT ");
    listing_int(&q, f->limit + 1); /* one more tells whether a next page exists */
    int rc = -1;
    store_stmt *st = listing_prepare(c, &q, err);
    if (!st)
        goto out;
    int64_t last_time = 0, last_id = 0;
    int step;
    while ((step = store_step(st, err)) == STORE_ROW) {
        if ((int64_t)json_array_size(items) == f->limit) {
            char id[24];
            snprintf(id, sizeof(id), "%lld", (long long)last_id);
            listing_cursor_encode(last_time, id, cursor);
            break;
        }
        json_t *item = history_item(st, 0);
        if (json_array_append_new(items, item) != 0) {
            step = tc_err_oom(err, "a history list");
            break;
        }
        last_id = store_col_int64(st, 0);
        last_time = store_col_int64(st, 13);
    }
    store_stmt_done(st);
    rc = step < 0 ? -1 : 0;
out:
    listing_query_clear(&q);
    return rc;
}

static int history_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    history_filter f = {0};
    int rc = -1;
    store_conn *c = NULL;
    json_t *items = NULL;
    char cursor[LISTING_CURSOR_MAX] = "";
    int64_t total = 0;
    if (read_filter(body, &f, err) != 0)
        goto out;
    items = json_array();
    if (!items) {
        tc_err_oom(err, "a history list");
        goto out;
    }
    c = store_reader_acquire(ctx->app->st);
    if (count_rows(c, &f, &total, err) != 0 || read_page(c, &f, items, cursor, err) != 0)
        goto out;
    rc = api_answer(json_pack("{s:O, s:I, s:s}", "items", items, "total", (json_int_t)total,
                              "search_after_ctx", cursor),
                    "a history list", data, err);
out:
    if (c)
        store_reader_release(ctx->app->st, c);
    json_decref(items);
    history_filter_clear(&f);
    return rc;
}

/* The title of the incident or alert an attempt was about ("" if gone). */
static int ref_title(store_conn *c, const char *kind, const char *ref_id, json_t *out,
                     tc_err *err) {
    int incident = strcmp(kind, "incident") == 0;
    const char *sql = incident ? "SELECT doc FROM incidents WHERE incident_id = ?"
                               : "SELECT doc FROM alerts WHERE alert_id = ?";
    store_stmt *st = store_prepare(c, sql, err);
    if (!st)
        return -1;
    store_bind_text(st, 1, ref_id);
    int step = store_step(st, err), rc = step < 0 ? -1 : 0;
    json_t *doc = NULL;
    if (step == STORE_ROW)
        rc = doc_parse(store_col_text(st, 0), incident ? "incident" : "alert", ref_id, &doc, err);
    const char *title = json_string_value(json_object_get(doc, "title"));
    if (rc == 0 && json_object_set_new(out, "ref_title", json_string(title ? title : "")) != 0)
        rc = tc_err_oom(err, "a history entry");
    json_decref(doc);
    store_stmt_done(st);
    return rc;
}

static int channel_name(store_conn *c, int64_t channel_id, json_t *out, tc_err *err) {
    store_stmt *st =
        store_prepare(c, "SELECT channel_name FROM channels WHERE channel_id = ?", err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, channel_id);
    int step = store_step(st, err), rc = step < 0 ? -1 : 0;
    if (rc == 0 &&
        json_object_set_new(out, "channel_name",
                            json_string(step == STORE_ROW ? store_col_text(st, 0) : "")) != 0)
        rc = tc_err_oom(err, "a history entry");
    store_stmt_done(st);
    return rc;
}

static int history_detail(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char *event_id = NULL;
    int64_t integration_id = 0;
    int rc = -1;
    store_conn *c = NULL;
    json_t *item = NULL;
    if (params_string(body, "event_id", PARAM_REQUIRED, 64, PARAM_REFUSE, &event_id, err) ||
        params_int64(body, "integration_id", PARAM_REQUIRED, 1, INT64_MAX, &integration_id, err))
        goto out;
    c = store_reader_acquire(ctx->app->st);
    /* Several attempts share an event id: the detail is the newest one. */
    store_stmt *st = store_prepare(c,
                                   "SELECT " HISTORY_COLUMNS " FROM webhook_history"
                                   " WHERE event_id = ? AND integration_id = ?"
                                   " ORDER BY attempt DESC, attempt_id DESC LIMIT 1",
                                   err);
    if (!st)
        goto out;
    store_bind_text(st, 1, event_id);
    store_bind_int64(st, 2, integration_id);
    int step = store_step(st, err);
    if (step == STORE_ROW)
        item = history_item(st, 1);
    store_stmt_done(st);
    if (step < 0)
        goto out;
    if (step == STORE_DONE) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "event_id %s does not exist in the history of integration_id %lld", event_id,
                   (long long)integration_id);
        goto out;
    }
    if (!item) {
        tc_err_oom(err, "a history entry");
        goto out;
    }
    if (ref_title(c, json_string_value(json_object_get(item, "webhook_type")),
                  json_string_value(json_object_get(item, "ref_id")), item, err) != 0 ||
        channel_name(c, json_integer_value(json_object_get(item, "channel_id")), item, err) != 0)
        goto out;
    *data = item;
    item = NULL;
    rc = 0;
out:
    if (c)
        store_reader_release(ctx->app->st, c);
    json_decref(item);
    free(event_id);
    return rc;
}

const api_route api_history_routes[] = {
    {"/webhook/history/list", history_list, API_AUTH_APP_KEY},
    {"/webhook/history/detail", history_detail, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
