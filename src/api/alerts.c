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
 * Lists filter in SQL on the indexed columns (store/alerts.c and
 * store/alert_events.c build the WHERE clause) and page by offset (`p`) or
 * by a search_after_ctx cursor. The two changes are writer commands built
 * on the engine's steps (engine_alert_move, engine_alert_close,
 * engine_incident_refresh), so an incident's counters, status and
 * automatic closing follow the same rules as for ingested events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/alert_view.h"
#include "api/api.h"
#include "api/params.h"
#include "core/alert.h"
#include "core/engine.h"
#include "core/incident_actions.h"
#include "store/alert_events.h"
#include "store/alerts.h"
#include "store/events.h"
#include "store/listing.h"
#include "util/clock.h"
#include "util/doc.h"
#include "util/jbuild.h"

#define ALERT_BATCH_MAX 100                  /* ids in one request */
#define ALERT_LIST_MAX_WINDOW (31 * 86400LL) /* seconds */
#define ALERT_EVENTS_MAX 1000                /* /alert/event/list: the newest ones */
#define ALERT_TIME_MAX 9999999999LL          /* seconds: year 2286 */

static const char *const SEVERITIES[] = {"Critical", "Warning", "Info", "Ok", NULL};
/* a_m_silence / a_m_inhibit: an event a channel rule muted (api/channel_rules.c). */
static const char *const FEED_TYPES[] = {"a_new",       "a_comm",      "a_close",
                                         "a_m_silence", "a_m_inhibit", NULL};

static const char *str_of(json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
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

/* Alerts read from a page, kept to be rendered after the scan (rendering
 * runs queries of its own). */
typedef struct {
    tc_alert *v;
    size_t n, cap;
} alert_vec;

static void alert_vec_clear(alert_vec *av) {
    for (size_t i = 0; i < av->n; i++)
        tc_alert_clear(&av->v[i]);
    free(av->v);
    memset(av, 0, sizeof(*av));
}

static int alert_vec_add(void *arg, const tc_alert *a, tc_err *err) {
    alert_vec *av = arg;
    if (av->n == av->cap) {
        size_t cap = av->cap ? av->cap * 2 : 16;
        tc_alert *grown = realloc(av->v, cap * sizeof(*grown));
        if (!grown)
            return tc_err_oom(err, "an alert list");
        av->v = grown;
        av->cap = cap;
    }
    tc_alert_init(&av->v[av->n]);
    if (tc_alert_copy(&av->v[av->n], a, err) != 0)
        return -1;
    av->n++;
    return 0;
}

/* Renders every alert of av, appended to items. */
static int render_alerts(store_conn *c, const alert_vec *av, json_t *items, tc_err *err) {
    for (size_t i = 0; i < av->n; i++) {
        json_t *item = NULL;
        if (alert_view_load(c, &av->v[i], &item, err) != 0)
            return -1;
        if (json_array_append_new(items, item) != 0)
            return tc_err_oom(err, "an alert list");
    }
    return 0;
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
    store_alert_filter sf;
    int64_t p, limit;
    const char *severities[4];
    json_t *alert_ids; /* owned: lowercased */
    char *severity_csv;
    char *cursor;
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
    int by_updated = 0, ever_muted = 0, asc = 0;
    store_alert_filter *sf = &f->sf;
    if (read_window(body, PARAM_REQUIRED, &sf->start, &sf->end, ALERT_LIST_MAX_WINDOW, err) ||
        params_page(body, 100, 20, &f->p, &f->limit, err) ||
        params_string(body, "search_after_ctx", PARAM_OPTIONAL, 128, PARAM_REFUSE, &f->cursor,
                      err) ||
        params_bool(body, "ever_muted", PARAM_OPTIONAL, &ever_muted, err) ||
        params_string(body, "alert_severity", PARAM_OPTIONAL, 64, PARAM_REFUSE, &f->severity_csv,
                      err) ||
        params_int64_array(body, "channel_ids", PARAM_OPTIONAL, ALERT_BATCH_MAX, &sf->channel_ids,
                           err) ||
        params_int64_array(body, "integration_ids", PARAM_OPTIONAL, ALERT_BATCH_MAX,
                           &sf->integration_ids, err) ||
        params_object_id_array(body, "alert_ids", PARAM_OPTIONAL, 0, ALERT_BATCH_MAX, &given,
                               err) ||
        lower_ids(given, &f->alert_ids, err) ||
        params_string_array(body, "alert_keys", PARAM_OPTIONAL, ALERT_BATCH_MAX, &sf->alert_keys,
                            err) ||
        params_enum(body, "orderby", PARAM_OPTIONAL, orderbys, &orderby, err) ||
        params_bool(body, "asc", PARAM_OPTIONAL, &asc, err) ||
        params_bool(body, "by_updated_at", PARAM_OPTIONAL, &by_updated, err))
        return -1;
    sf->alert_ids = f->alert_ids;
    sf->ever_muted = ever_muted; /* only alerts a silence or inhibit rule held back */
    sf->asc = asc;
    json_t *active = json_object_get(body, "is_active");
    if (active && !json_is_null(active)) {
        if (params_bool(body, "is_active", PARAM_OPTIONAL, &sf->is_active, err) != 0)
            return -1;
        sf->has_is_active = 1;
    }
    if (f->severity_csv) {
        int n =
            listing_csv_enum("alert_severity", f->severity_csv, SEVERITIES, f->severities, 4, err);
        if (n < 0)
            return -1;
        sf->severities = f->severities;
        sf->nseverities = (size_t)n;
    }
    sf->window = by_updated ? STORE_ALERT_UPDATED_AT : STORE_ALERT_START_TIME;
    /* Without orderby, the window's own column: its index serves both. */
    sf->sort = !orderby                             ? sf->window
               : strcmp(orderby, "created_at") == 0 ? STORE_ALERT_CREATED_AT
                                                    : STORE_ALERT_UPDATED_AT;
    sf->after_id = f->after_id;
    return read_cursor(f->cursor, 0, &sf->after_key, f->after_id, &sf->has_cursor, err);
}

static int alert_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    alert_filter f = {0};
    alert_vec page = {0};
    store_conn *c = NULL;
    json_t *items = json_array();
    int64_t total = 0;
    int more = 0, rc = -1;
    char cursor[LISTING_CURSOR_MAX] = "";
    if (!items) {
        tc_err_oom(err, "an alert list");
        goto out;
    }
    if (read_alert_filter(body, &f, err) != 0)
        goto out;
    /* A cursor replaces the page number. */
    int64_t offset = f.sf.has_cursor ? 0 : (f.p - 1) * f.limit;
    c = store_reader_acquire(ctx->app->st);
    if (store_alerts_count(c, &f.sf, &total, err) != 0 ||
        store_alerts_page(c, &f.sf, f.limit, offset, alert_vec_add, &page, &more, err) != 0 ||
        render_alerts(c, &page, items, err) != 0)
        goto out;
    if (more && page.n > 0) {
        const tc_alert *last = &page.v[page.n - 1];
        listing_cursor_encode(store_alert_column_value(last, f.sf.sort), last->alert_id, cursor);
    }
    rc = api_answer(json_pack("{s:I, s:b, s:s, s:O}", "total", (json_int_t)total, "has_next_page",
                              more, "search_after_ctx", cursor, "items", items),
                    "an alert list", data, err);
out:
    if (c)
        store_reader_release(ctx->app->st, c);
    alert_vec_clear(&page);
    alert_filter_clear(&f);
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
static int load_listed(store_conn *c, json_t *ids, size_t i, tc_alert *a, tc_err *err) {
    char id[25];
    lower_id(json_string_value(json_array_get(ids, i)), id);
    if (alert_load(c, id, a, err) != 0) {
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
        tc_alert a;
        json_t *item = NULL;
        if (load_listed(c, ids, i, &a, err) != 0)
            goto out;
        int r = alert_view_load(c, &a, &item, err);
        tc_alert_clear(&a);
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

/* Renders each event into items (prepended when `reverse`). */
typedef struct {
    json_t *items;
    int reverse;
} event_sink;

static int event_add(void *arg, const store_alert_event *e, tc_err *err) {
    event_sink *sink = arg;
    json_t *item = NULL;
    if (alert_view_event(e, &item, err) != 0)
        return -1;
    if (sink->reverse ? json_array_insert_new(sink->items, 0, item)
                      : json_array_append_new(sink->items, item))
        return tc_err_oom(err, "an alert's events");
    return 0;
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
    /* Oldest first; an alert with a very long history shows its newest
     * ALERT_EVENTS_MAX events (event_cnt tells the full count). */
    event_sink sink = {items, 1};
    if (store_alerts_exists(c, id, err) != 0 ||
        store_alert_events_of_alert(c, id, ALERT_EVENTS_MAX, event_add, &sink, err) != 0)
        goto out;
    rc = api_answer(json_pack("{s:O}", "items", items), "an alert's events", data, err);
out:
    store_reader_release(ctx->app->st, c);
    json_decref(items);
    return rc;
}

/* --- /alert-event/list ------------------------------------------------- */

typedef struct {
    store_alert_event_filter sf;
    int64_t p, limit;
    json_t *integration_types; /* borrowed from the body */
    char **types;              /* integration_types as stored: "alert_" + plugin key */
    size_t ntypes;
    const char *statuses[4];
    char *severity_csv;
    char *cursor;
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
    f->sf.integration_types = (const char *const *)f->types;
    f->sf.ntypes = f->ntypes;
    return 0;
}

static int read_event_filter(json_t *body, event_filter *f, tc_err *err) {
    static const char *const orderbys[] = {"event_time", NULL};
    const char *orderby = NULL;
    store_alert_event_filter *sf = &f->sf;
    int asc = 0, has_cursor = 0;
    /* Both ends are optional: the window defaults to the day before end_time
     * (now when absent), or the day after start_time. */
    int64_t day = 86400;
    sf->end = -1;
    sf->start = -1;
    if (params_int64(body, "start_time", PARAM_OPTIONAL, 0, ALERT_TIME_MAX, &sf->start, err) ||
        params_int64(body, "end_time", PARAM_OPTIONAL, 0, ALERT_TIME_MAX, &sf->end, err))
        return -1;
    if (sf->end < 0)
        sf->end = sf->start < 0 ? clock_now_s() : sf->start + day;
    if (sf->start < 0)
        sf->start = sf->end > day ? sf->end - day : 0;
    if (sf->end <= sf->start)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "end_time must be greater than start_time (both Unix seconds)");
    if (sf->end - sf->start > ALERT_LIST_MAX_WINDOW)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "start_time and end_time must be at most 31 days apart");
    if (params_page(body, 100, 20, &f->p, &f->limit, err) ||
        params_string(body, "search_after_ctx", PARAM_OPTIONAL, 128, PARAM_REFUSE, &f->cursor,
                      err) ||
        params_int64_array(body, "integration_ids", PARAM_OPTIONAL, ALERT_BATCH_MAX,
                           &sf->integration_ids, err) ||
        params_string_array(body, "integration_types", PARAM_OPTIONAL, 20, &f->integration_types,
                            err) ||
        params_int64_array(body, "channel_ids", PARAM_OPTIONAL, ALERT_BATCH_MAX, &sf->channel_ids,
                           err) ||
        params_string(body, "severities", PARAM_OPTIONAL, 64, PARAM_REFUSE, &f->severity_csv,
                      err) ||
        params_enum(body, "orderby", PARAM_OPTIONAL, orderbys, &orderby, err) ||
        params_bool(body, "asc", PARAM_OPTIONAL, &asc, err) || read_types(f, err))
        return -1;
    sf->asc = asc;
    if (f->severity_csv) {
        int n = listing_csv_enum("severities", f->severity_csv, SEVERITIES, f->statuses, 4, err);
        if (n < 0)
            return -1;
        sf->statuses = f->statuses;
        sf->nstatuses = (size_t)n;
    }
    /* Event cursors name a seq: decimal digits only. */
    if (read_cursor(f->cursor, 1, &sf->after_time, f->after_id, &has_cursor, err) != 0)
        return -1;
    sf->has_cursor = has_cursor;
    sf->after_seq = has_cursor ? strtoll(f->after_id, NULL, 10) : 0;
    return 0;
}

/* Renders the events of a page, remembering the last one's cursor key. */
typedef struct {
    json_t *items;
    int64_t last_time, last_seq;
} page_sink;

static int page_add(void *arg, const store_alert_event *e, tc_err *err) {
    page_sink *sink = arg;
    json_t *item = NULL;
    if (alert_view_event(e, &item, err) != 0)
        return -1;
    if (json_array_append_new(sink->items, item) != 0)
        return tc_err_oom(err, "an event list");
    sink->last_time = e->event_time;
    sink->last_seq = e->seq;
    return 0;
}

static int alert_event_global_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    event_filter f = {0};
    store_conn *c = NULL;
    json_t *items = json_array();
    int64_t total = 0;
    int more = 0, rc = -1;
    char cursor[LISTING_CURSOR_MAX] = "";
    if (!items) {
        tc_err_oom(err, "an event list");
        goto out;
    }
    if (read_event_filter(body, &f, err) != 0)
        goto out;
    int64_t offset = f.sf.has_cursor ? 0 : (f.p - 1) * f.limit;
    page_sink sink = {.items = items};
    c = store_reader_acquire(ctx->app->st);
    if (store_alert_events_count(c, &f.sf, &total, err) != 0 ||
        store_alert_events_page(c, &f.sf, f.limit, offset, page_add, &sink, &more, err) != 0)
        goto out;
    if (more) {
        char seq[24];
        snprintf(seq, sizeof(seq), "%lld", (long long)sink.last_seq);
        listing_cursor_encode(sink.last_time, seq, cursor);
    }
    rc = api_answer(json_pack("{s:I, s:b, s:s, s:O}", "total", (json_int_t)total, "has_next_page",
                              more, "search_after_ctx", cursor, "items", items),
                    "an event list", data, err);
out:
    if (c)
        store_reader_release(ctx->app->st, c);
    event_filter_clear(&f);
    json_decref(items);
    return rc;
}

/* --- /alert/feed ------------------------------------------------------- */

/* The detail of a timeline entry, shaped as the FeedDetailAlert* schema of
 * its type: a_new {severity, status}, a_comm {comment}, a_close {}. NULL
 * when out of memory. */
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
    } else if (strcmp(type, "a_m_silence") == 0 || strcmp(type, "a_m_inhibit") == 0) {
        jb_set(out, "rule_id", json_string(str_of(stored, "rule_id")), &failed);
        jb_set(out, "rule_name", json_string(str_of(stored, "rule_name")), &failed);
    }
    if (failed) {
        json_decref(out);
        return NULL;
    }
    return out;
}

typedef struct {
    const char *alert_id;
    json_t *items;
} feed_sink;

/* One FeedItem from a timeline entry. */
static int feed_add(void *arg, const store_feed_row *r, tc_err *err) {
    feed_sink *sink = arg;
    json_t *stored = NULL;
    if (doc_parse_n(r->detail, "alert_feed", r->seq, &stored, err) != 0)
        return -1;
    json_t *detail = feed_detail(r->type, stored);
    json_decref(stored);
    json_int_t at = r->created_at;
    json_t *item =
        detail ? json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I}", "ref_id", sink->alert_id, "type",
                           r->type, "detail", detail, "account_id", (json_int_t)0, "creator_id",
                           (json_int_t)r->person_id, "created_at", at, "updated_at", at)
               : NULL;
    if (!item || json_array_append_new(sink->items, item) != 0)
        return tc_err_oom(err, "a timeline entry");
    return 0;
}

/* Only the types the FeedItem schema knows; `types` narrows them. */
static int feed_types(json_t *given, json_t **out, tc_err *err) {
    *out = NULL;
    if (json_array_size(given)) {
        *out = json_incref(given);
        return 0;
    }
    int failed = 0;
    json_t *all = jb_check(json_array(), &failed);
    for (int k = 0; !failed && FEED_TYPES[k]; k++)
        jb_append(all, json_string(FEED_TYPES[k]), &failed);
    if (failed) {
        json_decref(all);
        return tc_err_oom(err, "a timeline");
    }
    *out = all;
    return 0;
}

static int alert_feed(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char id[25];
    int64_t p = 1, limit = 20;
    int asc = 0, more = 0;
    json_t *types = NULL, *wanted = NULL;
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
                              "types[%zu] must be one of: a_new, a_comm, a_close, a_m_silence,"
                              " a_m_inhibit",
                              i);
    }
    json_t *items = json_array();
    if (!items)
        return tc_err_oom(err, "a timeline");
    if (feed_types(types, &wanted, err) != 0) {
        json_decref(items);
        return -1;
    }
    int rc = -1;
    feed_sink sink = {id, items};
    store_conn *c = store_reader_acquire(ctx->app->st);
    if (store_alerts_exists(c, id, err) != 0 ||
        store_events_feed(c, "alert", id, asc, wanted, p, limit, feed_add, &sink, &more, err) != 0)
        goto out;
    rc = api_answer(json_pack("{s:b, s:O}", "has_next_page", more, "items", items), "a timeline",
                    data, err);
out:
    store_reader_release(ctx->app->st, c);
    json_decref(wanted);
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
        tc_incident inc;
        if (incident_load(txn->conn, s->ids[i], &inc, err) != 0) {
            if (err->code != TC_INVALID_PARAMETER)
                return -1;
            continue; /* removed meanwhile: nothing to close */
        }
        int rc = 0;
        if (inc.alert_cnt == 0 && !incident_is_closed(&inc))
            rc = incident_act_resolve(txn, &inc, who, NULL, NULL, err);
        tc_incident_clear(&inc);
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
static int merge_extras(writer_txn *txn, merge_cmd *m, tc_incident *target, tc_err *err) {
    if (m->title && m->title[0] && strcmp(m->title, target->title ? target->title : "") != 0 &&
        incident_act_reset(txn, target, m->who, INCIDENT_FIELD_TITLE, m->title, err) != 0)
        return -1;
    if (m->owner_id > 0) {
        tc_person owner;
        if (incident_person_find(txn->conn, m->owner_id, "owner_id", &owner, err) != 0 ||
            incident_act_assign(txn, target, m->who, &owner, 1, "assign", NULL, err) != 0)
            return -1;
    }
    if (m->comment && m->comment[0] &&
        incident_act_comment(txn, target, m->who, m->comment, 0, err) != 0)
        return -1;
    return 0;
}

/* Moves one alert into the target unless it is already there; the
 * incident it leaves goes into `left`. */
static int merge_one(writer_txn *txn, merge_cmd *m, size_t i, tc_incident *target, id_set *left,
                     tc_err *err) {
    tc_alert a;
    if (load_listed(txn->conn, m->alert_ids, i, &a, err) != 0)
        return -1;
    int rc = 0;
    if (strcmp(a.incident_id, m->incident_id) != 0) {
        char old[IDS_OBJECT_LEN + 1];
        memcpy(old, a.incident_id, sizeof(old));
        rc = engine_alert_move(txn, &a, target, m->who, err);
        if (rc == 0)
            id_set_add(left, old);
    }
    tc_alert_clear(&a);
    return rc;
}

static int merge_run(writer_txn *txn, void *arg, tc_err *err) {
    merge_cmd *m = arg;
    tc_incident target;
    id_set left = {.n = 0};
    int rc = -1;
    if (incident_load(txn->conn, m->incident_id, &target, err) != 0)
        return -1;
    if (incident_is_closed(&target)) {
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
    tc_incident_clear(&target);
    if (engine_incident_refresh(txn, m->incident_id, err) != 0)
        goto out;
    if (incident_load(txn->conn, m->incident_id, &target, err) != 0 ||
        merge_extras(txn, m, &target, err) != 0)
        goto out;
    rc = 0;
out:
    tc_incident_clear(&target);
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

/* A hand close ends the alert without recovering it (progress Closed,
 * close_time now; status and end_time stay as they were, reference/
 * webhooks.md): it takes no further events (the next event of its key
 * starts a new alert). engine_alert_close refreshes the incident at once:
 * its counters and automatic close follow each alert closed, and it
 * recovers only when every alert it holds recovered. */
static int close_one(writer_txn *txn, close_cmd *cmd, size_t i, tc_err *err) {
    tc_alert a;
    if (load_listed(txn->conn, cmd->alert_ids, i, &a, err) != 0)
        return -1;
    int rc = -1;
    if (a.progress == PROGRESS_CLOSED)
        tc_err_set(err, TC_INVALID_PARAMETER, "alert_ids[%zu] %s is already closed", i, a.alert_id);
    else
        rc = engine_alert_close(txn, &a, cmd->who, err);
    tc_alert_clear(&a);
    return rc;
}

static int close_run(writer_txn *txn, void *arg, tc_err *err) {
    close_cmd *cmd = arg;
    for (size_t i = 0; i < json_array_size(cmd->alert_ids); i++) {
        if (!seen_before(cmd->alert_ids, i) && close_one(txn, cmd, i, err) != 0)
            return -1;
    }
    return 0;
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
