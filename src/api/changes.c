/* changes.c: reading change events (reference/rules.md, "Change events"):
 *
 *   POST /change/list            changes active in a window, filtered, paged
 *   POST /incident/change/list   the changes around one incident
 *
 * Changes arrive through the Event API (api/events.c, core/change.c) and
 * are only read here, on a reader connection, by any valid app key. The
 * store hands the changes of the window in order; the regex `query` (POSIX
 * extended, over title, description and change_key) is applied here, so
 * the page and the total are counted after it. Changes are few beside
 * alerts (one per deployment), and the window is at most 31 days. */
#include "api/api.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/params.h"
#include "core/change.h"
#include "core/incident.h"
#include "store/changes.h"
#include "util/clock.h"
#include "util/jbuild.h"

#define CHANGE_LIST_MAX_WINDOW (31 * 86400) /* s */
#define CHANGE_LIST_DEFAULT_WINDOW 3600     /* s: both ends absent = the last hour */
#define CHANGE_QUERY_MAX 256                /* characters of the regex */
#define CHANGE_IDS_MAX 100                  /* integration_ids, channel_ids */
#define CHANGE_EVENTS_SHOWN 100             /* include_events: the newest of a change */
#define INCIDENT_LOOKBACK 7200              /* s: changes 2 h before an incident count */

typedef struct {
    store_change_filter f;
    int64_t p, limit;
    int include_events;
    int has_query;
    regex_t query;
} change_list_req;

static void list_req_clear(change_list_req *r) {
    if (r->has_query)
        regfree(&r->query);
    r->has_query = 0;
}

/* start_time/end_time (Unix s): both absent is the last hour, one absent
 * is an hour from (or to) the other, at most 31 days apart. */
static int read_window(json_t *body, int64_t now, int64_t *start, int64_t *end, tc_err *err) {
    *start = -1;
    *end = -1;
    if (params_int64(body, "start_time", PARAM_OPTIONAL, 0, CHANGE_TIME_MAX, start, err) != 0 ||
        params_int64(body, "end_time", PARAM_OPTIONAL, 0, CHANGE_TIME_MAX, end, err) != 0)
        return -1;
    if (*end < 0)
        *end = *start < 0 ? now : *start + CHANGE_LIST_DEFAULT_WINDOW;
    if (*start < 0)
        *start = *end > CHANGE_LIST_DEFAULT_WINDOW ? *end - CHANGE_LIST_DEFAULT_WINDOW : 0;
    if (*end <= *start)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "end_time must be greater than start_time (both Unix seconds)");
    if (*end - *start > CHANGE_LIST_MAX_WINDOW)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "start_time and end_time must be at most 31 days apart");
    return 0;
}

/* query: a POSIX extended regex; a bad one is refused with regcomp's word. */
static int read_query(json_t *body, change_list_req *r, tc_err *err) {
    char *text = NULL;
    if (params_string(body, "query", PARAM_OPTIONAL, CHANGE_QUERY_MAX, PARAM_REFUSE, &text, err) !=
        0)
        return -1;
    if (!text || !*text) {
        free(text);
        return 0;
    }
    int rc = regcomp(&r->query, text, REG_EXTENDED | REG_NOSUB);
    free(text);
    if (rc != 0) {
        char why[128];
        regerror(rc, &r->query, why, sizeof(why));
        return tc_err_set(err, TC_INVALID_PARAMETER, "query is not a valid regular expression: %s",
                          why);
    }
    r->has_query = 1;
    return 0;
}

static int read_list_req(json_t *body, change_list_req *r, tc_err *err) {
    static const char *const orderbys[] = {"start_time", "last_time", NULL};
    const char *orderby = "start_time";
    memset(r, 0, sizeof(*r));
    if (read_window(body, clock_now_s(), &r->f.start, &r->f.end, err) != 0 ||
        params_page(body, 100, 10, &r->p, &r->limit, err) != 0 ||
        params_int64_array(body, "integration_ids", PARAM_OPTIONAL, CHANGE_IDS_MAX,
                           &r->f.integration_ids, err) != 0 ||
        params_int64_array(body, "channel_ids", PARAM_OPTIONAL, CHANGE_IDS_MAX, &r->f.channel_ids,
                           err) != 0 ||
        params_enum(body, "orderby", PARAM_OPTIONAL, orderbys, &orderby, err) != 0 ||
        params_bool(body, "asc", PARAM_OPTIONAL, &r->f.asc, err) != 0 ||
        params_bool(body, "include_events", PARAM_OPTIONAL, &r->include_events, err) != 0)
        return -1;
    r->f.by_last_time = strcmp(orderby, "last_time") == 0;
    return read_query(body, r, err);
}

/* ---- rendering ---------------------------------------------------------------- */

/* A JSON object from stored text ({} when the text is not one), or NULL
 * when out of memory: the pack it goes into then fails as a whole. */
static json_t *labels_json(const char *text) {
    const char *t = text && *text ? text : "{}";
    int oom = 0;
    json_t *o = jb_loadb(t, strlen(t), 0, NULL, &oom);
    if (o && json_is_object(o))
        return o;
    json_decref(o);
    return oom ? NULL : json_object();
}

static int add_event(void *arg, const store_change_event *e, tc_err *err) {
    json_t *events = arg;
    json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "event_id", e->event_id,
                          "integration_id", (json_int_t)e->integration_id, "title", e->title,
                          "description", e->description, "change_key", e->change_key,
                          "change_status", e->change_status, "link", e->link, "event_time",
                          (json_int_t)e->event_time, "labels", labels_json(e->labels));
    if (!o || json_array_append_new(events, o) != 0)
        return tc_err_oom(err, "a change's events");
    return 0;
}

/* One Change as the lists show it, with its events when asked. */
static json_t *change_json(store_conn *c, const store_change_row *ch, int with_events,
                           tc_err *err) {
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:s, s:I, s:s, s:I, s:s}", "change_id",
        ch->change_id, "change_key", ch->change_key, "title", ch->title, "description",
        ch->description, "change_status", ch->change_status, "start_time",
        (json_int_t)ch->start_time, "last_time", (json_int_t)ch->last_time, "end_time",
        (json_int_t)ch->end_time, "labels", labels_json(ch->labels), "link", ch->link,
        "integration_id", (json_int_t)ch->integration_id, "integration_name",
        ch->integration_name ? ch->integration_name : "", "channel_id", (json_int_t)ch->channel_id,
        "channel_name", ch->channel_name ? ch->channel_name : "");
    if (!o) {
        tc_err_oom(err, "a change");
        return NULL;
    }
    if (!with_events)
        return o;
    json_t *events = json_array();
    if (!events || json_object_set_new(o, "events", events) != 0) {
        json_decref(o);
        tc_err_oom(err, "a change's events");
        return NULL;
    }
    if (store_change_events_of(c, ch->change_id, CHANGE_EVENTS_SHOWN, add_event, events, err) !=
        0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- the walk ---------------------------------------------------------------- */

typedef struct {
    const change_list_req *r;
    store_conn *c;
    json_t *items;
    int64_t total;
} list_walk;

static int query_matches(const change_list_req *r, const store_change_row *ch) {
    if (!r->has_query)
        return 1;
    const char *fields[] = {ch->title, ch->description, ch->change_key};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i] && regexec(&r->query, fields[i], 0, NULL, 0) == 0)
            return 1;
    }
    return 0;
}

/* Counts the matches; those on the requested page become items. The events
 * are read on another statement of the same connection while the changes'
 * statement is open, which both engines allow. */
static int take_change(void *arg, const store_change_row *ch, tc_err *err) {
    list_walk *w = arg;
    if (!query_matches(w->r, ch))
        return 0;
    int64_t first = (w->r->p - 1) * w->r->limit;
    int64_t n = w->total++;
    if (n < first || n >= first + w->r->limit)
        return 0;
    json_t *item = change_json(w->c, ch, w->r->include_events, err);
    if (!item)
        return -1;
    if (json_array_append_new(w->items, item) != 0)
        return tc_err_oom(err, "a change list");
    return 0;
}

static int list_answer(api_ctx *ctx, const change_list_req *r, json_t **data, tc_err *err) {
    list_walk w = {.r = r, .items = json_array()};
    if (!w.items)
        return tc_err_oom(err, "a change list");
    w.c = store_reader_acquire(ctx->app->st);
    int rc = store_changes_each(w.c, &r->f, take_change, &w, err);
    store_reader_release(ctx->app->st, w.c);
    if (rc != 0) {
        json_decref(w.items);
        return -1;
    }
    return api_answer(json_pack("{s:o, s:I, s:b}", "items", w.items, "total", (json_int_t)w.total,
                                "has_next_page", r->p * r->limit < w.total),
                      "a change list", data, err);
}

static int h_change_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    change_list_req r;
    int rc = read_list_req(body, &r, err);
    if (rc == 0)
        rc = list_answer(ctx, &r, data, err);
    list_req_clear(&r);
    return rc;
}

/* The incident's window: from 2 hours before it started to its end (its
 * close or recovery, whichever is later), or now while it is open; and its
 * channel. */
static int incident_window(api_ctx *ctx, const char *incident_id, store_change_filter *f,
                           int64_t *channel_id, tc_err *err) {
    tc_incident inc;
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = incident_load(c, incident_id, &inc, err);
    store_reader_release(ctx->app->st, c);
    if (rc == 0) {
        int64_t end = inc.close_time > inc.end_time ? inc.close_time : inc.end_time;
        f->start = inc.start_time > INCIDENT_LOOKBACK ? inc.start_time - INCIDENT_LOOKBACK : 0;
        f->end = end > 0 ? end : clock_now_s();
        *channel_id = inc.channel_id;
    }
    tc_incident_clear(&inc);
    return rc;
}

static int h_incident_change_list(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char id[IDS_OBJECT_LEN + 1];
    change_list_req r;
    int64_t channel_id = 0;
    memset(&r, 0, sizeof(r));
    if (params_object_id(body, "incident_id", PARAM_REQUIRED, id, err) != 0 ||
        params_page(body, 100, 100, &r.p, &r.limit, err) != 0 ||
        params_bool(body, "include_events", PARAM_OPTIONAL, &r.include_events, err) != 0 ||
        incident_window(ctx, id, &r.f, &channel_id, err) != 0)
        return -1;
    /* An incident made by hand without a channel has no channel's changes
     * (and must not match the changes of sources routed to none). */
    if (channel_id == 0)
        return api_answer(json_pack("{s:[], s:i, s:b}", "items", "total", 0, "has_next_page", 0),
                          "a change list", data, err);
    json_t *channel_ids = json_pack("[I]", (json_int_t)channel_id);
    if (!channel_ids)
        return tc_err_oom(err, "an incident's changes");
    r.f.channel_ids = channel_ids;
    int rc = list_answer(ctx, &r, data, err);
    json_decref(channel_ids);
    return rc;
}

const api_route api_change_routes[] = {
    {"/change/list", h_change_list, API_AUTH_APP_KEY},
    {"/incident/change/list", h_incident_change_list, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
