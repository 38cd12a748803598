/* history.c: the read side of webhook invocation history
 * (reference/webhooks.md "Invocation history").
 *
 *   /webhook/history/list    ListWebhookHistoryRequest → ListWebhookHistoryResponse
 *   /webhook/history/detail  GetWebhookHistoryDetailRequest → WebhookHistoryDetail
 *
 * Delivery writes one webhook_history row per attempt; these calls only
 * read it, through a reader connection. A list is bounded by a time window
 * on the event's time (milliseconds, at most 7 days: what history keeps),
 * filtered in SQL on the indexed columns (store/history.c), ordered by
 * (event_time, attempt_id) and paged with a search_after_ctx cursor over
 * that pair. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/params.h"
#include "store/alert_refs.h"
#include "store/history.h"
#include "store/listing.h"
#include "util/jbuild.h"

#define HISTORY_MAX_EVENT_TYPES 50

typedef struct {
    store_history_filter sf;
    int64_t limit;
    char *ref_id;
    char *cursor;
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
    store_history_filter *sf = &f->sf;
    int asc = 0;
    if (params_history_window(body, &sf->start_time, &sf->end_time, err) ||
        params_int64(body, "limit", PARAM_REQUIRED, 1, 100, &f->limit, err) ||
        params_bool(body, "asc", PARAM_OPTIONAL, &asc, err) ||
        params_enum(body, "orderby", PARAM_OPTIONAL, orderbys, &orderby, err) ||
        params_string(body, "ref_id", PARAM_OPTIONAL, 128, PARAM_REFUSE, &f->ref_id, err) ||
        params_int64(body, "integration_id", PARAM_OPTIONAL, 0, INT64_MAX, &sf->integration_id,
                     err) ||
        params_string_array(body, "event_types", PARAM_OPTIONAL, HISTORY_MAX_EVENT_TYPES,
                            &sf->event_types, err) ||
        params_enum(body, "status", PARAM_OPTIONAL, statuses, &sf->status, err) ||
        params_string(body, "search_after_ctx", PARAM_OPTIONAL, 128, PARAM_REFUSE, &f->cursor, err))
        return -1;
    sf->asc = asc;
    sf->ref_id = f->ref_id;
    if (f->cursor && f->cursor[0]) {
        if (listing_cursor_decode("search_after_ctx", f->cursor, &sf->after_time, f->after_id,
                                  err) != 0)
            return -1;
        /* History cursors name an attempt_id: decimal digits only. */
        if (strspn(f->after_id, "0123456789") != strlen(f->after_id))
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "search_after_ctx is not a cursor returned by this call");
        sf->after_attempt = strtoll(f->after_id, NULL, 10);
        sf->has_cursor = 1;
    }
    return 0;
}

/* One attempt as a WebhookHistoryItem; with `detail` also the request and
 * response that were exchanged. NULL when out of memory. */
static json_t *history_item(const store_history_row *r, int detail) {
    char when[32];
    listing_format_ms(r->event_time, when, sizeof(when));
    json_t *item = json_pack(
        "{s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:s, s:I, s:s, s:s}", "integration_id",
        (json_int_t)r->integration_id, "event_id", r->event_id, "webhook_type", r->webhook_type,
        "event_type", r->event_type, "channel_id", (json_int_t)r->channel_id, "ref_id", r->ref_id,
        "endpoint", r->endpoint, "attempt", (json_int_t)r->attempt, "duration",
        (json_int_t)r->duration_ms, "status", r->status, "status_code", (json_int_t)r->status_code,
        "error_message", r->error_message, "event_time", when);
    int failed = !item;
    if (detail) {
        jb_set(item, "request_headers", json_string(r->request_headers), &failed);
        jb_set(item, "request_body", json_string(r->request_body), &failed);
        jb_set(item, "response_headers", json_string(r->response_headers), &failed);
        jb_set(item, "response_body", json_string(r->response_body), &failed);
    }
    if (failed) {
        json_decref(item);
        return NULL;
    }
    return item;
}

typedef struct {
    json_t *items;
    int64_t last_time, last_id;
} page_sink;

static int page_add(void *arg, const store_history_row *r, tc_err *err) {
    page_sink *sink = arg;
    if (json_array_append_new(sink->items, history_item(r, 0)) != 0)
        return tc_err_oom(err, "a history list");
    sink->last_id = r->attempt_id;
    sink->last_time = r->event_time;
    return 0;
}

static int history_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    history_filter f = {0};
    int rc = -1, more = 0;
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
    page_sink sink = {.items = items};
    c = store_reader_acquire(ctx->app->st);
    if (store_history_count(c, &f.sf, &total, err) != 0 ||
        store_history_page(c, &f.sf, f.limit, page_add, &sink, &more, err) != 0)
        goto out;
    if (more) {
        char id[24];
        snprintf(id, sizeof(id), "%lld", (long long)sink.last_id);
        listing_cursor_encode(sink.last_time, id, cursor);
    }
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

static int detail_item(void *arg, const store_history_row *r, tc_err *err) {
    json_t **item = arg;
    *item = history_item(r, 1);
    return *item ? 0 : tc_err_oom(err, "a history entry");
}

/* The title of the incident or alert an attempt was about ("" if gone),
 * and the name of its channel ("" if gone). */
static int add_names(store_conn *c, json_t *item, tc_err *err) {
    char *title = NULL, *channel = NULL;
    const char *kind = json_string_value(json_object_get(item, "webhook_type"));
    const char *ref_id = json_string_value(json_object_get(item, "ref_id"));
    int rc = -1, failed = 0;
    if (store_history_ref_title(c, kind ? kind : "", ref_id ? ref_id : "", &title, err) != 0 ||
        store_alert_refs_channel_name(c, json_integer_value(json_object_get(item, "channel_id")),
                                      &channel, err) != 0)
        goto out;
    jb_set(item, "ref_title", json_string(title ? title : ""), &failed);
    jb_set(item, "channel_name", json_string(channel ? channel : ""), &failed);
    rc = jb_done(failed, "a history entry", err);
out:
    free(title);
    free(channel);
    return rc;
}

static int history_detail(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char *event_id = NULL;
    int64_t integration_id = 0;
    int rc = -1, found = 0;
    store_conn *c = NULL;
    json_t *item = NULL;
    if (params_string(body, "event_id", PARAM_REQUIRED, 64, PARAM_REFUSE, &event_id, err) ||
        params_int64(body, "integration_id", PARAM_REQUIRED, 1, INT64_MAX, &integration_id, err))
        goto out;
    c = store_reader_acquire(ctx->app->st);
    if (store_history_latest(c, event_id, integration_id, detail_item, &item, &found, err) != 0)
        goto out;
    if (!found) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "event_id %s does not exist in the history of integration_id %lld", event_id,
                   (long long)integration_id);
        goto out;
    }
    if (add_names(c, item, err) != 0)
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
