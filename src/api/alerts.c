/* alerts.c: the alert paths of the Open API (reference/event-api.md, "The
 * Open API"; shapes in oncall-openapi.subset.json).
 *
 *   /alert/info, /alert/list, /alert/list-by-ids  alerts as AlertItem
 *   /alert/event/list, /alert-event/list         raw events (AlertEventItem)
 *   /alert/feed                                  an alert's timeline (FeedItem)
 *   /alert/merge                                 move alerts into an incident
 *   /alert/close                                 close alerts by hand (tocsin's own)
 *
 * Reads go through a reader connection and render with api/alert_view.c.
 * Lists filter in SQL on the indexed columns (api/listing.c builds the
 * WHERE clause) and page by offset (`p`) or by a search_after_ctx cursor.
 * The two changes are writer commands built on the engine's steps
 * (engine_alert_join, engine_incident_refresh), so an incident's counters,
 * status and automatic closing follow the same rules as for ingested
 * events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/alert_view.h"
#include "api/api.h"
#include "store/listing.h"
#include "api/params.h"
#include "core/alert.h"
#include "core/engine.h"
#include "core/incident_actions.h"
#include "util/clock.h"
#include "util/doc.h"
#include "util/jbuild.h"

#define ALERT_BATCH_MAX 100                  /* ids in one request */
#define ALERT_LIST_MAX_WINDOW (31 * 86400LL) /* seconds */
#define ALERT_EVENTS_MAX 1000                /* /alert/event/list: the newest ones */
#define ALERT_TIME_MAX 9999999999LL          /* seconds: year 2286 */

static const char *const SEVERITIES[] = {"Critical", "Warning", "Info", "Ok", NULL};
static const char *const FEED_TYPES[] = {"a_new", "a_comm", "a_close", NULL};

static const char *str_of(json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static const char *incident_of(json_t *alert_doc) {
    return str_of(json_object_get(alert_doc, "incident"), "incident_id");
}

/* A time window [start_time, end_time] in seconds, at most max_span long. */
static int read_window(json_t *body, param_need need, int64_t *start, int64_t *end,
                       int64_t max_span, tc_err *err) {
    if (params_int64(body, "start_time", need, 0, ALERT_TIME_MAX, start, err) ||
        params_int64(body, "end_time", need, 0, ALERT_TIME_MAX, end, err))
        return -1;
    if (*end <= *start)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "end_time must be greater than start_time (both Unix seconds)");
    if (*end - *start > max_span)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "start_time and end_time must be at most %lld days apart",
                          (long long)(max_span / 86400));
    return 0;
}

/* Collects up to max docs (of kind `what`) from the rows of st (stepped
 * here): the doc, an integer, the row's id. *more tells whether a row was
 * left. last_int (may be NULL) receives the integer of the last row. */
static int collect_docs(store_stmt *st, const char *what, json_t *docs, int64_t max, int *more,
                        int64_t *last_int, tc_err *err) {
    int step;
    *more = 0;
    while ((step = store_step(st, err)) == STORE_ROW) {
        if ((int64_t)json_array_size(docs) == max) {
            *more = 1;
            break;
        }
        json_t *doc = NULL;
        if (doc_parse(store_col_text(st, 0), what, store_col_text(st, 2), &doc, err) != 0)
            return -1;
        if (json_array_append_new(docs, doc) != 0)
            return tc_err_oom(err, "a list");
        if (last_int)
            *last_int = store_col_int64(st, 1);
    }
    return step < 0 ? -1 : 0;
}

/* search_after_ctx (NULL or "" when absent) into key and id; a `decimal`
 * id is a number (seq), else an alert_id. */
static int read_cursor(const char *cursor, int decimal, int64_t *key, char *id, int *has,
                       tc_err *err) {
    *has = 0;
    if (!cursor || !cursor[0])
        return 0;
    if (listing_cursor_decode("search_after_ctx", cursor, key, id, err) != 0)
        return -1;
    if (decimal && strspn(id, "0123456789") != strlen(id))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "search_after_ctx is not a cursor returned by this call");
    *has = 1;
    return 0;
}

static int count_query(store_conn *c, listing_query *q, int64_t *total, tc_err *err) {
    store_stmt *st = listing_prepare(c, q, err);
    if (!st)
        return -1;
    int step = store_step(st, err);
    if (step == STORE_ROW)
        *total = store_col_int64(st, 0);
    store_stmt_done(st);
    if (step == STORE_DONE)
        return tc_err_set(err, TC_INTERNAL, "a count returned no row");
    return step < 0 ? -1 : 0;
}

/* --- /alert/info ------------------------------------------------------- */

static int alert_info(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char id[25];
    if (params_object_id(body, "alert_id", PARAM_REQUIRED, id, err) != 0)
        return -1;
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = alert_view_load_id(c, id, data, err);
    store_reader_release(ctx->app->st, c);
    return rc;
}

/* --- /alert/list ------------------------------------------------------- */

typedef struct {
    int64_t start, end, p, limit;
    const char *window_col; /* start_time | updated_at */
    const char *sort_col;   /* start_time | created_at | updated_at */
    int asc;
    int is_active, has_is_active;
    int ever_muted;
    const char *severities[4];
    int nsev;
    json_t *channel_ids, *integration_ids, *alert_keys; /* borrowed from the body */
    json_t *alert_ids;                                  /* owned: lowercased */
    char *severity_csv;
    char *cursor;
    int has_cursor;
    int64_t after_key;
    char after_id[25];
} alert_filter;

static void alert_filter_clear(alert_filter *f) {
    json_decref(f->alert_ids);
    free(f->severity_csv);
    free(f->cursor);
}

/* alert_id lowercased (ids are accepted in either case). out holds 25 bytes. */
static void lower_id(const char *id, char *out) {
    for (int i = 0; i <= 24; i++)
        out[i] = (char)((id[i] >= 'A' && id[i] <= 'F') ? id[i] + 32 : id[i]);
}

/* A new array of the ids of `given`, lowercased as they are stored. */
static int lower_ids(json_t *given, json_t **out, tc_err *err) {
    *out = NULL;
    if (!given)
        return 0;
    json_t *ids = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(given, i, v) {
        char id[25];
        lower_id(json_string_value(v), id);
        if (!ids || json_array_append_new(ids, json_string(id)) != 0) {
            json_decref(ids);
            return tc_err_oom(err, "alert_ids");
        }
    }
    *out = ids;
    return 0;
}

static int read_alert_filter(json_t *body, alert_filter *f, tc_err *err) {
    static const char *const orderbys[] = {"created_at", "updated_at", NULL};
    const char *orderby = NULL;
    json_t *given = NULL;
    int by_updated = 0;
    if (read_window(body, PARAM_REQUIRED, &f->start, &f->end, ALERT_LIST_MAX_WINDOW, err) ||
        params_page(body, 100, 20, &f->p, &f->limit, err) ||
        params_string(body, "search_after_ctx", PARAM_OPTIONAL, 128, PARAM_REFUSE, &f->cursor,
                      err) ||
        params_bool(body, "ever_muted", PARAM_OPTIONAL, &f->ever_muted, err) ||
        params_string(body, "alert_severity", PARAM_OPTIONAL, 64, PARAM_REFUSE, &f->severity_csv,
                      err) ||
        params_int64_array(body, "channel_ids", PARAM_OPTIONAL, ALERT_BATCH_MAX, &f->channel_ids,
                           err) ||
        params_int64_array(body, "integration_ids", PARAM_OPTIONAL, ALERT_BATCH_MAX,
                           &f->integration_ids, err) ||
        params_object_id_array(body, "alert_ids", PARAM_OPTIONAL, 0, ALERT_BATCH_MAX, &given,
                               err) ||
        lower_ids(given, &f->alert_ids, err) ||
        params_string_array(body, "alert_keys", PARAM_OPTIONAL, ALERT_BATCH_MAX, &f->alert_keys,
                            err) ||
        params_enum(body, "orderby", PARAM_OPTIONAL, orderbys, &orderby, err) ||
        params_bool(body, "asc", PARAM_OPTIONAL, &f->asc, err) ||
        params_bool(body, "by_updated_at", PARAM_OPTIONAL, &by_updated, err))
        return -1;
    json_t *active = json_object_get(body, "is_active");
    if (active && !json_is_null(active)) {
        if (params_bool(body, "is_active", PARAM_OPTIONAL, &f->is_active, err) != 0)
            return -1;
        f->has_is_active = 1;
    }
    if (f->severity_csv) {
        f->nsev =
            listing_csv_enum("alert_severity", f->severity_csv, SEVERITIES, f->severities, 4, err);
        if (f->nsev < 0)
            return -1;
    }
    f->window_col = by_updated ? "updated_at" : "start_time";
    /* Without orderby, the window's own column: its index serves both. */
    f->sort_col = orderby ? orderby : f->window_col;
    return read_cursor(f->cursor, 0, &f->after_key, f->after_id, &f->has_cursor, err);
}

static void alert_where(listing_query *q, const alert_filter *f, int paged) {
    listing_sql(q, " WHERE ");
    listing_sql(q, f->window_col);
    listing_sql(q, " >= ");
    listing_int(q, f->start);
    listing_sql(q, " AND ");
    listing_sql(q, f->window_col);
    listing_sql(q, " <= ");
    listing_int(q, f->end);
    if (f->has_is_active)
        listing_sql(q, f->is_active ? " AND progress <> 'Closed'" : " AND progress = 'Closed'");
    if (f->ever_muted) /* tocsin does not silence alerts: none was ever muted */
        listing_sql(q, " AND 1 = 0");
    listing_in_strs(q, "alert_severity", f->severities, (size_t)f->nsev);
    listing_in_ints(q, "channel_id", f->channel_ids);
    listing_in_ints(q, "integration_id", f->integration_ids);
    listing_in_texts(q, "alert_id", f->alert_ids);
    listing_in_texts(q, "alert_key", f->alert_keys);
    if (paged && f->has_cursor) {
        listing_sql(q, " AND (");
        listing_sql(q, f->sort_col);
        listing_sql(q, f->asc ? ", alert_id) > (" : ", alert_id) < (");
        listing_int(q, f->after_key);
        listing_sql(q, ", ");
        listing_text(q, f->after_id);
        listing_sql(q, ")");
    }
}

/* Renders every doc of docs into items. */
static int render_alerts(store_conn *c, json_t *docs, json_t *items, tc_err *err) {
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc) {
        json_t *item = NULL;
        if (alert_view_load(c, doc, &item, err) != 0)
            return -1;
        if (json_array_append_new(items, item) != 0)
            return tc_err_oom(err, "an alert list");
    }
    return 0;
}

/* Ends an ordered page query and reads it: LIMIT one row more than the
 * page (to know whether another page follows), OFFSET for page `p` only
 * when no cursor was given. Clears q. */
static int run_doc_page(store_conn *c, listing_query *q, const char *what, int64_t limit, int64_t p,
                        int has_cursor, json_t *docs, int *more, int64_t *last_seq, tc_err *err) {
    listing_limit(q, limit + 1, has_cursor ? 0 : (p - 1) * limit);
    int rc = -1;
    store_stmt *st = listing_prepare(c, q, err);
    if (st) {
        rc = collect_docs(st, what, docs, limit, more, last_seq, err);
        store_stmt_done(st);
    }
    listing_query_clear(q);
    return rc;
}

static int read_alert_page(store_conn *c, const alert_filter *f, json_t *docs, int *more,
                           tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT doc, 0, alert_id FROM alerts");
    alert_where(&q, f, 1);
    listing_sql(&q, " ORDER BY ");
    listing_sql(&q, f->sort_col);
    listing_sql(&q, f->asc ? " ASC, alert_id ASC" : " DESC, alert_id DESC");
    return run_doc_page(c, &q, "alert", f->limit, f->p, f->has_cursor, docs, more, NULL, err);
}

static int alert_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    alert_filter f = {0};
    store_conn *c = NULL;
    json_t *docs = json_array(), *items = json_array();
    listing_query count;
    listing_query_init(&count);
    int64_t total = 0;
    int more = 0, rc = -1;
    char cursor[LISTING_CURSOR_MAX] = "";
    if (!docs || !items) {
        tc_err_oom(err, "an alert list");
        goto out;
    }
    if (read_alert_filter(body, &f, err) != 0)
        goto out;
    listing_sql(&count, "SELECT COUNT(*) FROM alerts");
    alert_where(&count, &f, 0);
    c = store_reader_acquire(ctx->app->st);
    if (count_query(c, &count, &total, err) != 0 || read_alert_page(c, &f, docs, &more, err) != 0 ||
        render_alerts(c, docs, items, err) != 0)
        goto out;
    if (more) {
        json_t *last = json_array_get(docs, json_array_size(docs) - 1);
        listing_cursor_encode(json_integer_value(json_object_get(last, f.sort_col)),
                              str_of(last, "alert_id"), cursor);
    }
    rc = api_answer(json_pack("{s:I, s:b, s:s, s:O}", "total", (json_int_t)total, "has_next_page",
                              more, "search_after_ctx", cursor, "items", items),
                    "an alert list", data, err);
out:
    if (c)
        store_reader_release(ctx->app->st, c);
    listing_query_clear(&count);
    alert_filter_clear(&f);
    json_decref(docs);
    json_decref(items);
    return rc;
}

/* --- /alert/list-by-ids ------------------------------------------------ */

/* 1 when the id text already appears in ids before index `upto`. */
static int seen_before(json_t *ids, size_t upto) {
    const char *id = json_string_value(json_array_get(ids, upto));
    for (size_t i = 0; i < upto; i++)
        if (strcasecmp(json_string_value(json_array_get(ids, i)), id) == 0)
            return 1;
    return 0;
}

/* Loads alert `id` for element i of the alert_ids field: its absence is
 * named by the field and index. */
static int load_listed(store_conn *c, json_t *ids, size_t i, json_t **doc, tc_err *err) {
    char id[25];
    lower_id(json_string_value(json_array_get(ids, i)), id);
    if (alert_load(c, id, doc, err) != 0) {
        if (err->code == TC_INVALID_PARAMETER)
            tc_err_set(err, TC_INVALID_PARAMETER, "alert_ids[%zu] %s does not exist", i, id);
        return -1;
    }
    return 0;
}

static int alert_list_by_ids(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    json_t *ids = NULL, *items = json_array();
    int rc = -1;
    store_conn *c = NULL;
    if (!items) {
        tc_err_oom(err, "an alert list");
        goto out;
    }
    if (params_object_id_array(body, "alert_ids", PARAM_REQUIRED, 1, ALERT_BATCH_MAX, &ids, err) !=
        0)
        goto out;
    c = store_reader_acquire(ctx->app->st);
    for (size_t i = 0; i < json_array_size(ids); i++) {
        if (seen_before(ids, i))
            continue;
        json_t *doc = NULL, *item = NULL;
        if (load_listed(c, ids, i, &doc, err) != 0)
            goto out;
        int r = alert_view_load(c, doc, &item, err);
        json_decref(doc);
        if (r != 0)
            goto out;
        if (json_array_append_new(items, item) != 0) {
            tc_err_oom(err, "an alert list");
            goto out;
        }
    }
    rc = api_answer(json_pack("{s:I, s:b, s:s, s:O}", "total", (json_int_t)json_array_size(items),
                              "has_next_page", 0, "search_after_ctx", "", "items", items),
                    "an alert list", data, err);
out:
    if (c)
        store_reader_release(ctx->app->st, c);
    json_decref(items);
    return rc;
}

/* --- /alert/event/list ------------------------------------------------- */

/* InvalidParameter "alert_id X does not exist" unless the alert exists. */
static int alert_exists(store_conn *c, const char *id, tc_err *err) {
    store_stmt *st = store_prepare(c, "SELECT 1 FROM alerts WHERE alert_id = ?", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, id);
    int step = store_step(st, err);
    store_stmt_done(st);
    if (step == STORE_DONE)
        return tc_err_set(err, TC_INVALID_PARAMETER, "alert_id %s does not exist", id);
    return step < 0 ? -1 : 0;
}

/* Renders the event documents of the first column of st, appended to items
 * (reversed when `reverse`, i.e. prepended). */
static int render_events(store_stmt *st, json_t *items, int reverse, tc_err *err) {
    int step;
    while ((step = store_step(st, err)) == STORE_ROW) {
        json_t *doc = NULL;
        if (doc_parse(store_col_text(st, 0), "alert_event", store_col_text(st, 1), &doc, err) != 0)
            return -1;
        json_t *item = alert_view_event(doc);
        json_decref(doc);
        if ((reverse ? json_array_insert_new(items, 0, item) : json_array_append_new(items, item)))
            return tc_err_oom(err, "an alert's events");
    }
    return step < 0 ? -1 : 0;
}

static int alert_event_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char id[25];
    if (params_object_id(body, "alert_id", PARAM_REQUIRED, id, err) != 0)
        return -1;
    json_t *items = json_array();
    if (!items)
        return tc_err_oom(err, "an alert's events");
    int rc = -1;
    store_conn *c = store_reader_acquire(ctx->app->st);
    if (alert_exists(c, id, err) != 0)
        goto out;
    /* Oldest first; an alert with a very long history shows its newest
     * ALERT_EVENTS_MAX events (event_cnt tells the full count). */
    store_stmt *st = store_prepare(c,
                                   "SELECT doc, event_id FROM alert_events WHERE alert_id = ?"
                                   " ORDER BY event_time DESC, seq DESC LIMIT ?",
                                   err);
    if (!st)
        goto out;
    store_bind_text(st, 1, id);
    store_bind_int64(st, 2, ALERT_EVENTS_MAX);
    rc = render_events(st, items, 1, err);
    store_stmt_done(st);
    if (rc == 0)
        rc = api_answer(json_pack("{s:O}", "items", items), "an alert's events", data, err);
out:
    store_reader_release(ctx->app->st, c);
    json_decref(items);
    return rc;
}

/* --- /alert-event/list ------------------------------------------------- */

typedef struct {
    int64_t start, end, p, limit;
    int asc;
    json_t *integration_ids, *channel_ids, *integration_types;
    char **types; /* integration_types as stored: "alert_" + plugin key */
    size_t ntypes;
    const char *severities[4];
    int nsev;
    char *severity_csv;
    char *cursor;
    int has_cursor;
    int64_t after_key;
    char after_id[25];
} event_filter;

static void event_filter_clear(event_filter *f) {
    for (size_t i = 0; i < f->ntypes; i++)
        free(f->types[i]);
    free(f->types);
    free(f->severity_csv);
    free(f->cursor);
}

/* integration_types accepts the plugin key ("prometheus") or the stored
 * type ("alert_prometheus"). */
static int read_types(event_filter *f, tc_err *err) {
    size_t n = json_array_size(f->integration_types);
    if (n == 0)
        return 0;
    f->types = calloc(n, sizeof(char *));
    if (!f->types)
        return tc_err_oom(err, "integration_types");
    for (size_t i = 0; i < n; i++) {
        const char *key =
            alert_view_plugin_key(json_string_value(json_array_get(f->integration_types, i)));
        size_t len = strlen(key) + 7;
        f->types[i] = malloc(len);
        if (!f->types[i])
            return tc_err_oom(err, "integration_types");
        f->ntypes++;
        snprintf(f->types[i], len, "alert_%s", key);
    }
    return 0;
}

static int read_event_filter(json_t *body, event_filter *f, tc_err *err) {
    static const char *const orderbys[] = {"event_time", NULL};
    const char *orderby = NULL;
    /* Both ends are optional: the window defaults to the day before end_time
     * (now when absent), or the day after start_time. */
    int64_t day = 86400;
    f->end = -1;
    f->start = -1;
    if (params_int64(body, "start_time", PARAM_OPTIONAL, 0, ALERT_TIME_MAX, &f->start, err) ||
        params_int64(body, "end_time", PARAM_OPTIONAL, 0, ALERT_TIME_MAX, &f->end, err))
        return -1;
    if (f->end < 0)
        f->end = f->start < 0 ? clock_now_s() : f->start + day;
    if (f->start < 0)
        f->start = f->end > day ? f->end - day : 0;
    if (f->end <= f->start)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "end_time must be greater than start_time (both Unix seconds)");
    if (f->end - f->start > ALERT_LIST_MAX_WINDOW)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "start_time and end_time must be at most 31 days apart");
    if (params_page(body, 100, 20, &f->p, &f->limit, err) ||
        params_string(body, "search_after_ctx", PARAM_OPTIONAL, 128, PARAM_REFUSE, &f->cursor,
                      err) ||
        params_int64_array(body, "integration_ids", PARAM_OPTIONAL, ALERT_BATCH_MAX,
                           &f->integration_ids, err) ||
        params_string_array(body, "integration_types", PARAM_OPTIONAL, 20, &f->integration_types,
                            err) ||
        params_int64_array(body, "channel_ids", PARAM_OPTIONAL, ALERT_BATCH_MAX, &f->channel_ids,
                           err) ||
        params_string(body, "severities", PARAM_OPTIONAL, 64, PARAM_REFUSE, &f->severity_csv,
                      err) ||
        params_enum(body, "orderby", PARAM_OPTIONAL, orderbys, &orderby, err) ||
        params_bool(body, "asc", PARAM_OPTIONAL, &f->asc, err) || read_types(f, err))
        return -1;
    if (f->severity_csv) {
        f->nsev =
            listing_csv_enum("severities", f->severity_csv, SEVERITIES, f->severities, 4, err);
        if (f->nsev < 0)
            return -1;
    }
    /* Event cursors name a seq: decimal digits only. */
    return read_cursor(f->cursor, 1, &f->after_key, f->after_id, &f->has_cursor, err);
}

static void event_where(listing_query *q, const event_filter *f, int paged) {
    listing_sql(q, " WHERE event_time >= ");
    listing_int(q, f->start);
    listing_sql(q, " AND event_time <= ");
    listing_int(q, f->end);
    listing_in_ints(q, "integration_id", f->integration_ids);
    listing_in_ints(q, "channel_id", f->channel_ids);
    listing_in_strs(q, "event_status", f->severities, (size_t)f->nsev);
    if (f->ntypes) {
        listing_sql(q, " AND integration_id IN (SELECT integration_id FROM integrations"
                       " WHERE 1 = 1");
        listing_in_strs(q, "type", (const char *const *)f->types, f->ntypes);
        listing_sql(q, ")");
    }
    if (paged && f->has_cursor) {
        listing_sql(q, f->asc ? " AND (event_time, seq) > (" : " AND (event_time, seq) < (");
        listing_int(q, f->after_key);
        listing_sql(q, ", ");
        listing_int(q, strtoll(f->after_id, NULL, 10));
        listing_sql(q, ")");
    }
}

static int read_event_page(store_conn *c, const event_filter *f, json_t *docs, int *more,
                           int64_t *last_seq, tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT doc, seq, event_id FROM alert_events");
    event_where(&q, f, 1);
    listing_sql(&q, f->asc ? " ORDER BY event_time ASC, seq ASC"
                           : " ORDER BY event_time DESC, seq DESC");
    return run_doc_page(c, &q, "alert_event", f->limit, f->p, f->has_cursor, docs, more, last_seq,
                        err);
}

static int alert_event_global_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    event_filter f = {0};
    store_conn *c = NULL;
    json_t *docs = json_array(), *items = json_array();
    listing_query count;
    listing_query_init(&count);
    int64_t total = 0;
    int more = 0, rc = -1;
    char cursor[LISTING_CURSOR_MAX] = "";
    if (!docs || !items) {
        tc_err_oom(err, "an event list");
        goto out;
    }
    if (read_event_filter(body, &f, err) != 0)
        goto out;
    listing_sql(&count, "SELECT COUNT(*) FROM alert_events");
    event_where(&count, &f, 0);
    c = store_reader_acquire(ctx->app->st);
    int64_t last_seq = 0;
    if (count_query(c, &count, &total, err) != 0 ||
        read_event_page(c, &f, docs, &more, &last_seq, err) != 0)
        goto out;
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc) {
        if (json_array_append_new(items, alert_view_event(doc)) != 0) {
            tc_err_oom(err, "an event list");
            goto out;
        }
    }
    if (more) {
        json_t *last = json_array_get(items, json_array_size(items) - 1);
        char seq[24];
        snprintf(seq, sizeof(seq), "%lld", (long long)last_seq);
        listing_cursor_encode(json_integer_value(json_object_get(last, "event_time")), seq, cursor);
    }
    rc = api_answer(json_pack("{s:I, s:b, s:s, s:O}", "total", (json_int_t)total, "has_next_page",
                              more, "search_after_ctx", cursor, "items", items),
                    "an event list", data, err);
out:
    if (c)
        store_reader_release(ctx->app->st, c);
    listing_query_clear(&count);
    event_filter_clear(&f);
    json_decref(docs);
    json_decref(items);
    return rc;
}

/* --- /alert/feed ------------------------------------------------------- */

/* The detail of a feed row, shaped as the FeedDetailAlert* schema of its
 * type: a_new {severity, status}, a_comm {comment}, a_close {}. NULL when
 * out of memory. */
static json_t *feed_detail(const char *type, json_t *stored) {
    int failed = 0;
    json_t *out = jb_check(json_object(), &failed);
    if (strcmp(type, "a_new") == 0) {
        const char *keys[] = {"severity", "status"};
        for (int i = 0; i < 2; i++) {
            const char *v = str_of(stored, keys[i]);
            for (int k = 0; SEVERITIES[k]; k++)
                if (strcmp(v, SEVERITIES[k]) == 0)
                    jb_set(out, keys[i], json_string(v), &failed);
        }
    } else if (strcmp(type, "a_comm") == 0) {
        jb_set(out, "comment", json_string(str_of(stored, "comment")), &failed);
    }
    if (failed) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* One FeedItem from a row (type, creator_id, detail, created_at, feed_id). */
static int feed_item(store_stmt *st, const char *alert_id, json_t **out, tc_err *err) {
    const char *type = store_col_text(st, 0);
    json_t *stored = NULL;
    if (doc_parse_n(store_col_text(st, 2), "alert_feed", store_col_int64(st, 4), &stored, err) != 0)
        return -1;
    json_t *detail = feed_detail(type, stored);
    json_decref(stored);
    json_int_t at = store_col_int64(st, 3);
    *out = detail
               ? json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I}", "ref_id", alert_id, "type", type,
                           "detail", detail, "account_id", (json_int_t)0, "creator_id",
                           (json_int_t)store_col_int64(st, 1), "created_at", at, "updated_at", at)
               : NULL;
    return *out ? 0 : tc_err_oom(err, "a timeline entry");
}

static int read_feed(store_conn *c, const char *alert_id, json_t *types, int asc, int64_t p,
                     int64_t limit, json_t *items, int *more, tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT type, creator_id, detail, created_at, feed_id FROM alert_feed"
                    " WHERE alert_id = ");
    listing_text(&q, alert_id);
    /* Only the types the FeedItem schema knows; types narrows them. */
    if (json_array_size(types))
        listing_in_texts(&q, "type", types);
    else
        listing_in_strs(&q, "type", FEED_TYPES, 3);
    listing_sql(&q, asc ? " ORDER BY feed_id ASC" : " ORDER BY feed_id DESC");
    listing_limit(&q, limit + 1, (p - 1) * limit);
    int rc = -1, step = 0;
    *more = 0;
    store_stmt *st = listing_prepare(c, &q, err);
    if (!st)
        goto out;
    while ((step = store_step(st, err)) == STORE_ROW) {
        if ((int64_t)json_array_size(items) == limit) {
            *more = 1;
            break;
        }
        json_t *item = NULL;
        if (feed_item(st, alert_id, &item, err) != 0) {
            step = -1;
            break;
        }
        if (json_array_append_new(items, item) != 0) {
            step = tc_err_oom(err, "a timeline");
            break;
        }
    }
    store_stmt_done(st);
    rc = step < 0 ? -1 : 0;
out:
    listing_query_clear(&q);
    return rc;
}

static int alert_feed(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char id[25];
    int64_t p = 1, limit = 20;
    int asc = 0, more = 0;
    json_t *types = NULL;
    if (params_object_id(body, "alert_id", PARAM_REQUIRED, id, err) ||
        params_page(body, 100, 20, &p, &limit, err) ||
        params_bool(body, "asc", PARAM_OPTIONAL, &asc, err) ||
        params_string_array(body, "types", PARAM_OPTIONAL, 10, &types, err))
        return -1;
    for (size_t i = 0; i < json_array_size(types); i++) {
        const char *t = json_string_value(json_array_get(types, i));
        int known = 0;
        for (int k = 0; FEED_TYPES[k]; k++)
            known |= strcmp(t, FEED_TYPES[k]) == 0;
        if (!known)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "types[%zu] must be one of: a_new, a_comm, a_close", i);
    }
    json_t *items = json_array();
    if (!items)
        return tc_err_oom(err, "a timeline");
    int rc = -1;
    store_conn *c = store_reader_acquire(ctx->app->st);
    if (alert_exists(c, id, err) != 0 ||
        read_feed(c, id, types, asc, p, limit, items, &more, err) != 0)
        goto out;
    rc = api_answer(json_pack("{s:b, s:O}", "has_next_page", more, "items", items), "a timeline",
                    data, err);
out:
    store_reader_release(ctx->app->st, c);
    json_decref(items);
    return rc;
}

/* --- changes: shared --------------------------------------------------- */

/* A set of distinct incident ids, in the order first seen. */
#define ID_SET_MAX (ALERT_BATCH_MAX + 1) /* the incidents of 100 alerts, and a target */
typedef struct {
    char ids[ID_SET_MAX][25];
    size_t n;
} id_set;

/* Ignores "" (no incident); the set cannot overflow: callers add at most
 * one id per alert of a batch, plus one. */
static void id_set_add(id_set *s, const char *id) {
    if (!id[0] || s->n == ID_SET_MAX)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return;
    snprintf(s->ids[s->n++], 25, "%s", id);
}

/* Refreshes every incident of the set (counters, status, automatic close). */
static int refresh_all(writer_txn *txn, const id_set *s, tc_err *err) {
    for (size_t i = 0; i < s->n; i++)
        if (engine_incident_refresh(txn, s->ids[i], err) != 0)
            return -1;
    return 0;
}

/* --- /alert/merge ------------------------------------------------------ */

/* Closes every open incident of the set that has no alert left. */
static int close_emptied(writer_txn *txn, const id_set *s, const tc_person *who, tc_err *err) {
    for (size_t i = 0; i < s->n; i++) {
        incident inc;
        if (incident_load(txn->conn, s->ids[i], &inc, err) != 0) {
            if (err->code != TC_INVALID_PARAMETER)
                return -1;
            continue; /* removed meanwhile: nothing to close */
        }
        int rc = 0;
        if (json_integer_value(json_object_get(inc.doc, "alert_cnt")) == 0 &&
            !incident_is_closed(inc.doc))
            rc = incident_act_resolve(txn, &inc, who, NULL, NULL, err);
        incident_clear(&inc);
        if (rc != 0)
            return -1;
    }
    return 0;
}

typedef struct {
    json_t *alert_ids; /* borrowed from the body */
    char incident_id[25];
    char *title, *comment;
    int64_t owner_id;
    const tc_person *who;
} merge_cmd;

/* Title, comment and owner the request asked for, applied to the target
 * after its alerts are in, each with its own incident event. */
static int merge_extras(writer_txn *txn, merge_cmd *m, incident *target, tc_err *err) {
    if (m->title && m->title[0] && strcmp(m->title, str_of(target->doc, "title")) != 0 &&
        incident_act_reset(txn, target, m->who, INCIDENT_FIELD_TITLE, m->title, err) != 0)
        return -1;
    if (m->owner_id > 0) {
        tc_person owner;
        if (incident_person_find(txn->conn, m->owner_id, "owner_id", &owner, err) != 0 ||
            incident_act_assign(txn, target, m->who, &owner, 1, "assign", err) != 0)
            return -1;
    }
    if (m->comment && m->comment[0] &&
        incident_act_comment(txn, target, m->who, m->comment, 0, err) != 0)
        return -1;
    return 0;
}

/* Joins one alert into the target unless it is already there; the incident
 * it leaves goes into `left`. */
static int merge_one(writer_txn *txn, merge_cmd *m, size_t i, incident *target, id_set *left,
                     tc_err *err) {
    json_t *doc = NULL;
    if (load_listed(txn->conn, m->alert_ids, i, &doc, err) != 0)
        return -1;
    int rc = 0;
    const char *from = incident_of(doc);
    if (strcmp(from, m->incident_id) != 0) {
        char old[25];
        snprintf(old, sizeof(old), "%s", from);
        rc = engine_alert_join(txn, doc, target, m->who, err);
        if (rc == 0)
            id_set_add(left, old);
    }
    json_decref(doc);
    return rc;
}

static int merge_run(writer_txn *txn, void *arg, tc_err *err) {
    merge_cmd *m = arg;
    incident target;
    id_set left = {.n = 0};
    int rc = -1;
    if (incident_load(txn->conn, m->incident_id, &target, err) != 0)
        return -1;
    if (incident_is_closed(target.doc)) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "incident_id %s is closed: reopen it before merging alerts into it",
                   m->incident_id);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(m->alert_ids); i++) {
        if (!seen_before(m->alert_ids, i) && merge_one(txn, m, i, &target, &left, err) != 0)
            goto out;
    }
    /* The incidents the alerts left recount (and close by themselves when
     * what remains has recovered); one left empty is closed by the person
     * who emptied it, as /alert/merge promises. */
    if (refresh_all(txn, &left, err) != 0 || close_emptied(txn, &left, m->who, err) != 0)
        goto out;
    /* The target recounts from its alerts, some of which may have recovered. */
    incident_clear(&target);
    if (engine_incident_refresh(txn, m->incident_id, err) != 0)
        goto out;
    if (incident_load(txn->conn, m->incident_id, &target, err) != 0 ||
        merge_extras(txn, m, &target, err) != 0)
        goto out;
    rc = 0;
out:
    incident_clear(&target);
    return rc;
}

static int alert_merge(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    merge_cmd m = {0};
    m.who = &ctx->person;
    int rc = -1;
    if (params_object_id_array(body, "alert_ids", PARAM_REQUIRED, 1, ALERT_BATCH_MAX, &m.alert_ids,
                               err) ||
        params_object_id(body, "incident_id", PARAM_REQUIRED, m.incident_id, err) ||
        params_string(body, "title", PARAM_OPTIONAL, 512, PARAM_REFUSE, &m.title, err) ||
        params_string(body, "comment", PARAM_OPTIONAL, 1024, PARAM_REFUSE, &m.comment, err) ||
        params_int64(body, "owner_id", PARAM_OPTIONAL, 0, INT64_MAX, &m.owner_id, err))
        goto out;
    rc = api_run_empty(ctx, merge_run, &m, data, err);
out:
    free(m.title);
    free(m.comment);
    return rc;
}

/* --- /alert/close ------------------------------------------------------ */

typedef struct {
    json_t *alert_ids; /* borrowed from the body */
    const tc_person *who;
} close_cmd;

/* A hand close ends the alert as a recovery would (progress Closed, status
 * Ok, end_time and close_time now): it takes no further events (the next
 * event of its key starts a new alert), so its incident's status and
 * automatic close treat it as recovered. */
static int close_one(writer_txn *txn, close_cmd *cmd, size_t i, id_set *touched, tc_err *err) {
    json_t *doc = NULL;
    if (load_listed(txn->conn, cmd->alert_ids, i, &doc, err) != 0)
        return -1;
    int rc = -1;
    const char *id = str_of(doc, "alert_id");
    if (strcmp(str_of(doc, "progress"), "Closed") == 0) {
        tc_err_set(err, TC_INVALID_PARAMETER, "alert_ids[%zu] %s is already closed", i, id);
        goto out;
    }
    json_int_t now = txn->now_ms / 1000;
    int failed = 0;
    jb_set(doc, "progress", json_string("Closed"), &failed);
    jb_set(doc, "alert_status", json_string("Ok"), &failed);
    jb_set(doc, "close_time", json_integer(now), &failed);
    if (json_integer_value(json_object_get(doc, "end_time")) == 0)
        jb_set(doc, "end_time", json_integer(now), &failed);
    if (jb_done(failed, "closing an alert", err) != 0 || alert_save(txn, doc, NULL, err) != 0 ||
        alert_feed_add(txn, id, "a_close", cmd->who, json_object(), err) != 0 ||
        alert_emit(txn, doc, "a_close", cmd->who, err) != 0)
        goto out;
    id_set_add(touched, incident_of(doc));
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

static int close_run(writer_txn *txn, void *arg, tc_err *err) {
    close_cmd *cmd = arg;
    id_set touched = {.n = 0};
    for (size_t i = 0; i < json_array_size(cmd->alert_ids); i++) {
        if (!seen_before(cmd->alert_ids, i) && close_one(txn, cmd, i, &touched, err) != 0)
            return -1;
    }
    return refresh_all(txn, &touched, err);
}

static int alert_close(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    close_cmd cmd = {NULL, &ctx->person};
    if (params_object_id_array(body, "alert_ids", PARAM_REQUIRED, 1, ALERT_BATCH_MAX,
                               &cmd.alert_ids, err) != 0)
        return -1;
    return api_run_empty(ctx, close_run, &cmd, data, err);
}

const api_route api_alert_routes[] = {
    {"/alert/info", alert_info, API_AUTH_APP_KEY},
    {"/alert/list", alert_list, API_AUTH_APP_KEY},
    {"/alert/list-by-ids", alert_list_by_ids, API_AUTH_APP_KEY},
    {"/alert/event/list", alert_event_list, API_AUTH_APP_KEY},
    {"/alert/feed", alert_feed, API_AUTH_APP_KEY},
    {"/alert/merge", alert_merge, API_AUTH_APP_KEY},
    {"/alert/close", alert_close, API_AUTH_APP_KEY},
    {"/alert-event/list", alert_event_global_list, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
