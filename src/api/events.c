/* events.c: the Event API: monitoring systems push alert events here,
 * and deployment tools their change events.
 *
 *   POST /event/push/alert/standard?integration_key=KEY    one standard event
 *   POST /event/push/alert/prometheus?integration_key=KEY  an Alertmanager body
 *   POST /event/push/change/standard?integration_key=KEY   one change event
 *
 * Every field rule of reference/event-api.md is checked here, in the HTTP
 * thread, before anything reaches the writer; a refused request changes
 * nothing. The accepted events then go to the writer as ONE command (all the
 * alerts of an Alertmanager body together), whose engine_ingest_many
 * (core/engine.c) checks the key and folds them into alerts and incidents.
 *
 * The key is checked in the writer, so a valid request costs no extra read.
 * When the body is refused, the key is checked first on a reader, so that a
 * request with a bad key and a bad body is answered Unauthorized, as the
 * server's fixed order (key before body) promises. */
#include <stdlib.h>
#include <string.h>

#include "api/events.h"

#include "api/api.h"
#include "api/params.h"
#include "core/change.h"
#include "core/engine.h"
#include "core/event_input.h"
#include "core/prometheus.h"
#include "util/jbuild.h"
#include "util/metrics.h"

#define TYPE_STANDARD "alert_standard"
#define TYPE_PROMETHEUS "alert_prometheus"

static const char *const event_statuses[] = {"Critical", "Warning", "Info", "Ok", NULL};

/* A standard event body to an engine_event, every limit applied (events.h). */
int events_standard_read(json_t *body, engine_event *ev, tc_err *err) {
    const char *status = NULL;
    if (params_string(body, "title_rule", PARAM_REQUIRED, EVENT_TITLE_RULE_MAX, PARAM_CUT,
                      &ev->title_rule, err) != 0 ||
        params_enum(body, "event_status", PARAM_REQUIRED, event_statuses, &status, err) != 0 ||
        params_string(body, "alert_key", PARAM_OPTIONAL, EVENT_ALERT_KEY_MAX, PARAM_REFUSE,
                      &ev->alert_key, err) != 0 ||
        params_string(body, "description", PARAM_OPTIONAL, EVENT_DESCRIPTION_MAX, PARAM_CUT,
                      &ev->description, err) != 0 ||
        event_labels_normalize(json_object_get(body, "labels"), "labels", &ev->labels, err) != 0 ||
        event_images_normalize(json_object_get(body, "images"), "images", &ev->images, err) != 0)
        return -1;
    if (!(ev->event_status = strdup(status)))
        return tc_err_oom(err, "an event");
    if (ev->alert_key && !ev->alert_key[0]) { /* "" means not given */
        free(ev->alert_key);
        ev->alert_key = NULL;
    }
    if (!ev->alert_key && strcmp(status, "Ok") == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "alert_key is required for an Ok event (it names the alert to recover)");
    if (!ev->alert_key) {
        char key[EVENT_HASH_LEN + 1];
        if (event_key_derive(ev->title_rule, ev->labels, key) != 0 ||
            !(ev->alert_key = strdup(key)))
            return tc_err_oom(err, "an event's alert_key");
    }
    return 0;
}

/* A refused body: report a bad key instead, when the key is bad too. */
static int refuse(api_ctx *ctx, const char *type, tc_err *err) {
    tc_err key_err;
    tc_err_clear(&key_err);
    store_conn *c = store_reader_acquire(ctx->app->st);
    int key_ok = engine_source_check(c, ctx->integration_key, type, &key_err) == 0;
    store_reader_release(ctx->app->st, c);
    if (!key_ok && (key_err.code == TC_UNAUTHORIZED || key_err.code == TC_ACCESS_DENIED))
        *err = key_err;
    return -1;
}

/* The outcome label of tocsin_events_ingested_total for a request. */
static metrics_ingest ingest_outcome(int rc, const tc_err *err) {
    if (rc == 0)
        return METRICS_INGEST_ACCEPTED;
    switch (err->code) {
    case TC_INVALID_PARAMETER:
        return METRICS_INGEST_REFUSED;
    case TC_UNAUTHORIZED:
    case TC_ACCESS_DENIED:
        return METRICS_INGEST_UNAUTHORIZED;
    default:
        return METRICS_INGEST_ERROR;
    }
}

/* Events of an Alertmanager body for tocsin_events_ingested_total: each
 * alert is one (reference/event-api.md). A body refused before its alerts
 * were mapped (n == 0) counts as many as it carries, at least one. */
static size_t alertmanager_events(json_t *body, size_t n, int rc) {
    if (n || rc == 0)
        return n;
    size_t carried = json_array_size(json_object_get(body, "alerts"));
    return carried ? carried : 1;
}

typedef struct {
    const char *key;
    const char *type;
    engine_event *evs;
    size_t n;
    engine_result *results;
    char key_hash[65]; /* "" when the key cannot be one: the engine refuses it */
} ingest_arg;

static int ingest_cmd(writer_txn *txn, void *argp, tc_err *err) {
    ingest_arg *a = argp;
    return engine_ingest_many(txn, a->key, a->key_hash[0] ? a->key_hash : NULL, a->type, a->evs,
                              a->n, a->results, err);
}

/* One push on its way through the writer (api_op): everything the command
 * and the answer need, owned here, so no thread waits for the commit. */
typedef struct {
    api_op op;
    ingest_arg arg;
    char *key;
    metrics *m;
    metrics_source source;
    size_t counted; /* events the request counts as in tocsin_events_ingested_total */
} ingest_op;

static void ingest_release(api_op *op) {
    ingest_op *x = (ingest_op *)op;
    for (size_t i = 0; i < x->arg.n; i++)
        engine_event_clear(&x->arg.evs[i]);
    free(x->arg.evs);
    free(x->arg.results);
    free(x->key);
    free(x);
}

static int ingest_finish(api_op *op, json_t **data, tc_err *err) {
    ingest_op *x = (ingest_op *)op;
    int rc = -1;
    if (op->job.failed) {
        *err = op->job.err;
    } else if (x->source == METRICS_SOURCE_STANDARD) {
        rc = api_answer(json_pack("{s:s}", "alert_key", x->arg.results[0].alert_key), "the answer",
                        data, err);
    } else {
        int failed = 0;
        json_t *keys = jb_check(json_array(), &failed);
        for (size_t i = 0; i < x->arg.n; i++)
            jb_append(keys, json_string(x->arg.results[i].alert_key), &failed);
        if (failed) {
            json_decref(keys);
            keys = NULL;
        }
        rc = api_answer(keys ? json_pack("{s:o}", "alert_keys", keys) : NULL, "the answer", data,
                        err);
    }
    metrics_events_ingested(x->m, x->source, ingest_outcome(rc, err), x->counted);
    for (size_t i = 0; rc == 0 && i < x->arg.n; i++)
        metrics_rule_drop(x->m, x->arg.results[i].drop_channel_id, x->arg.results[i].drop_rule_id);
    return rc;
}

/* The prepared command for evs[0..n) (taken over, freed by release). */
static int ingest_prepare(api_ctx *ctx, const char *type, metrics_source source, engine_event *evs,
                          size_t n, api_op **out, tc_err *err) {
    /* Everything the writer need not do, done here on the HTTP thread. */
    for (size_t i = 0; i < n; i++) {
        if (engine_event_prepare(&evs[i], err) != 0) {
            for (size_t j = 0; j < n; j++)
                engine_event_clear(&evs[j]);
            free(evs);
            return -1;
        }
    }
    ingest_op *x = calloc(1, sizeof(*x));
    engine_result *res = calloc(n ? n : 1, sizeof(*res));
    char *key = strdup(ctx->integration_key ? ctx->integration_key : "");
    if (!x || !res || !key) {
        free(x);
        free(res);
        free(key);
        for (size_t i = 0; i < n; i++)
            engine_event_clear(&evs[i]);
        free(evs);
        return tc_err_oom(err, "an event push");
    }
    x->key = key;
    x->arg = (ingest_arg){key, type, evs, n, res, ""};
    if (engine_key_hash(key, x->arg.key_hash) != 0)
        x->arg.key_hash[0] = '\0';
    x->m = ctx->app->m;
    x->source = source;
    x->counted = n;
    x->op.job.fn = ingest_cmd;
    x->op.job.arg = &x->arg;
    /* The engine refuses only before its first write (engine.h). */
    x->op.job.flags = WRITER_NO_SAVEPOINT;
    x->op.finish = ingest_finish;
    x->op.release = ingest_release;
    *out = &x->op;
    return 0;
}

static int start_standard(api_ctx *ctx, json_t *body, api_op **op, json_t **data, tc_err *err) {
    (void)data;
    engine_event *ev = calloc(1, sizeof(*ev));
    if (!ev) {
        tc_err_oom(err, "an event");
        metrics_events_ingested(ctx->app->m, METRICS_SOURCE_STANDARD, METRICS_INGEST_ERROR, 1);
        return -1;
    }
    engine_event_init(ev);
    if (events_standard_read(body, ev, err) != 0) {
        refuse(ctx, TYPE_STANDARD, err);
        metrics_events_ingested(ctx->app->m, METRICS_SOURCE_STANDARD, ingest_outcome(-1, err), 1);
        engine_event_clear(ev);
        free(ev);
        return -1;
    }
    if (ingest_prepare(ctx, TYPE_STANDARD, METRICS_SOURCE_STANDARD, ev, 1, op, err) != 0) {
        metrics_events_ingested(ctx->app->m, METRICS_SOURCE_STANDARD, METRICS_INGEST_ERROR, 1);
        return -1;
    }
    return 0;
}

static int start_prometheus(api_ctx *ctx, json_t *body, api_op **op, json_t **data, tc_err *err) {
    (void)data;
    engine_event *evs = NULL;
    size_t n = 0;
    if (prometheus_map(body, &evs, &n, err) != 0) {
        refuse(ctx, TYPE_PROMETHEUS, err);
        metrics_events_ingested(ctx->app->m, METRICS_SOURCE_PROMETHEUS, ingest_outcome(-1, err),
                                alertmanager_events(body, n, -1));
        for (size_t i = 0; i < n; i++)
            engine_event_clear(&evs[i]);
        free(evs);
        return -1;
    }
    if (ingest_prepare(ctx, TYPE_PROMETHEUS, METRICS_SOURCE_PROMETHEUS, evs, n, op, err) != 0) {
        metrics_events_ingested(ctx->app->m, METRICS_SOURCE_PROMETHEUS, METRICS_INGEST_ERROR,
                                alertmanager_events(body, n, -1));
        return -1;
    }
    return 0;
}

/* ---- change events (core/change.h) ---------------------------------------- */

int events_change_read(json_t *body, change_event *ev, tc_err *err) {
    if (params_string(body, "change_key", PARAM_REQUIRED, CHANGE_KEY_MAX, PARAM_REFUSE,
                      &ev->change_key, err) != 0 ||
        params_enum(body, "change_status", PARAM_REQUIRED, change_statuses, &ev->change_status,
                    err) != 0 ||
        params_string(body, "title", PARAM_REQUIRED, CHANGE_TITLE_MAX, PARAM_CUT, &ev->title,
                      err) != 0 ||
        params_int64(body, "event_time", PARAM_OPTIONAL, 1, CHANGE_TIME_MAX, &ev->event_time,
                     err) != 0 ||
        params_string(body, "description", PARAM_OPTIONAL, CHANGE_DESCRIPTION_MAX, PARAM_CUT,
                      &ev->description, err) != 0 ||
        params_string(body, "link", PARAM_OPTIONAL, CHANGE_LINK_MAX, PARAM_REFUSE, &ev->link,
                      err) != 0 ||
        event_labels_normalize(json_object_get(body, "labels"), "labels", &ev->labels, err) != 0)
        return -1;
    /* Off the writer: the labels as the text the rows keep. */
    ev->labels_text = ev->labels ? jb_dumps(ev->labels, JSON_COMPACT) : strdup("{}");
    if (!ev->labels_text)
        return tc_err_oom(err, "a change event's labels");
    return 0;
}

/* One change push on its way through the writer, owned here like
 * ingest_op: answered once the batch holding it is durable. */
typedef struct {
    api_op op;
    change_event ev;
    metrics *m;
    char *key;
    char key_hash[65]; /* "" when the key cannot be one: the check refuses it */
    char change_id[IDS_OBJECT_LEN + 1];
} change_op;

static int change_cmd(writer_txn *txn, void *argp, tc_err *err) {
    change_op *x = argp;
    return change_ingest(txn, x->key, x->key_hash[0] ? x->key_hash : NULL, &x->ev, x->change_id,
                         err);
}

static void change_release(api_op *op) {
    change_op *x = (change_op *)op;
    change_event_clear(&x->ev);
    free(x->key);
    free(x);
}

static int change_finish(api_op *op, json_t **data, tc_err *err) {
    change_op *x = (change_op *)op;
    int rc = -1;
    if (op->job.failed)
        *err = op->job.err;
    else
        rc = api_answer(
            json_pack("{s:s, s:s}", "change_key", x->ev.change_key, "change_id", x->change_id),
            "the answer", data, err);
    metrics_events_ingested(x->m, METRICS_SOURCE_CHANGE, ingest_outcome(rc, err), 1);
    return rc;
}

static int start_change(api_ctx *ctx, json_t *body, api_op **op, json_t **data, tc_err *err) {
    (void)data;
    change_op *x = calloc(1, sizeof(*x));
    if (!x) {
        metrics_events_ingested(ctx->app->m, METRICS_SOURCE_CHANGE, METRICS_INGEST_ERROR, 1);
        return tc_err_oom(err, "a change event");
    }
    change_event_init(&x->ev);
    x->m = ctx->app->m;
    x->op.job.fn = change_cmd;
    x->op.job.arg = x;
    /* change_ingest refuses only before its first write. */
    x->op.job.flags = WRITER_NO_SAVEPOINT;
    x->op.finish = change_finish;
    x->op.release = change_release;
    if (events_change_read(body, &x->ev, err) != 0) {
        refuse(ctx, CHANGE_TYPE, err);
        metrics_events_ingested(x->m, METRICS_SOURCE_CHANGE, ingest_outcome(-1, err), 1);
        change_release(&x->op);
        return -1;
    }
    if (!(x->key = strdup(ctx->integration_key ? ctx->integration_key : ""))) {
        metrics_events_ingested(x->m, METRICS_SOURCE_CHANGE, METRICS_INGEST_ERROR, 1);
        change_release(&x->op);
        return tc_err_oom(err, "a change event");
    }
    if (engine_key_hash(x->key, x->key_hash) != 0)
        x->key_hash[0] = '\0';
    *op = &x->op;
    return 0;
}

/* The whole call on the calling thread (harnesses that call handlers). */
static int run_blocking(api_start start, api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    api_op *op = NULL;
    if (start(ctx, body, &op, data, err) != 0)
        return -1;
    if (!op)
        return 0;
    if (writer_run_flags(ctx->app->w, op->job.fn, op->job.arg, op->job.flags, &op->job.err) != 0)
        op->job.failed = 1;
    int rc = op->finish(op, data, err);
    op->release(op);
    return rc;
}

static int push_standard(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return run_blocking(start_standard, ctx, body, data, err);
}

static int push_prometheus(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return run_blocking(start_prometheus, ctx, body, data, err);
}

static int push_change(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    return run_blocking(start_change, ctx, body, data, err);
}

const api_route api_event_routes[] = {
    {"/event/push/alert/standard", push_standard, API_AUTH_INTEGRATION_KEY},
    {"/event/push/alert/prometheus", push_prometheus, API_AUTH_INTEGRATION_KEY},
    {"/event/push/change/standard", push_change, API_AUTH_INTEGRATION_KEY},
    {NULL, NULL, API_AUTH_NONE},
};

const api_async_route api_event_async_routes[] = {
    {"/event/push/alert/standard", start_standard},
    {"/event/push/alert/prometheus", start_prometheus},
    {"/event/push/change/standard", start_change},
    {NULL, NULL},
};
