/* metrics.h: tocsin's own counters, gauges and histograms, and their
 * rendering in the Prometheus text exposition format (version 0.0.4),
 * served unauthenticated at GET /metrics (http/metrics_page.c).
 *
 * The registry is owned by the app (tc_app.m, created in main next to the
 * writer). Every call is NULL-safe: a NULL registry counts nothing, so unit
 * tests and tools that build a tc_app without one keep working.
 *
 * Cost on the hot paths: the Event API counters are atomics (a fixed label
 * set); the per-(path, code) HTTP table and the per-integration delivery
 * table each sit behind their own small mutex, held only to bump a number.
 * A scrape copies each table under its lock and renders the copy, so the
 * dispatcher thread never waits for a scrape (nor for the scrape's SQL,
 * which runs before the registry is touched).
 *
 * Gauges that the store knows better than memory (the outbox depth and lag,
 * pending retries, whether an integration is enabled) are not kept here:
 * the scrape reads them with SQL and passes them in (metrics_store_state).
 *
 * Cardinality: the caller bounds every label. HTTP paths are the route
 * table's paths (anything else is "other"), codes are HTTP statuses, and
 * integrations are the store's. */
#ifndef TOCSIN_METRICS_H
#define TOCSIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct metrics metrics;

metrics *metrics_new(void);
void metrics_free(metrics *m);

/* ---- what is counted -------------------------------------------------- */

typedef enum {
    METRICS_SOURCE_STANDARD,   /* /event/push/alert/standard */
    METRICS_SOURCE_PROMETHEUS, /* /event/push/alert/prometheus */
    METRICS_SOURCE_CHANGE,     /* /event/push/change/standard */
    METRICS_NSOURCES
} metrics_source;

typedef enum {
    METRICS_INGEST_ACCEPTED,     /* stored (duplicates that are dropped included) */
    METRICS_INGEST_REFUSED,      /* the body broke a rule: InvalidParameter */
    METRICS_INGEST_UNAUTHORIZED, /* unknown/disabled key, or its channel disabled */
    METRICS_INGEST_ERROR,        /* anything else (InternalError) */
    METRICS_NINGEST
} metrics_ingest;

/* n events of one request: 1 for a standard event, one per alert of an
 * Alertmanager body (reference/event-api.md: each alert is one event). */
void metrics_events_ingested(metrics *m, metrics_source src, metrics_ingest outcome, uint64_t n);

/* One answered HTTP request. path must be one of a bounded set (a route's
 * path, "/healthz", "/metrics" or "other"); it is copied. */
void metrics_http_request(metrics *m, const char *path, int status, double seconds);

/* The dispatcher's outcome of one attempt (delivery/retry.h outcome_kind). */
typedef enum {
    METRICS_ATTEMPT_DELIVERED,
    METRICS_ATTEMPT_RETRY,
    METRICS_ATTEMPT_GONE,
    METRICS_ATTEMPT_FAILED,
    METRICS_NATTEMPT
} metrics_attempt;

void metrics_delivery_attempt(metrics *m, int64_t integration_id, metrics_attempt outcome);
/* A delivery ended delivered; latency_s: queued in the outbox (a live
 * event's commit) -> delivered. */
void metrics_delivery_delivered(metrics *m, int64_t integration_id, double latency_s);
/* A delivery ended failed (4xx, retries exhausted, or not sendable). */
void metrics_delivery_failed(metrics *m, int64_t integration_id);

/* An event a channel's drop rule discarded (bounded by the rules there are). */
void metrics_rule_drop(metrics *m, int64_t channel_id, const char *rule_id);

/* ---- rendering ---------------------------------------------------------- */

/* A growing text buffer. A failed allocation sets oom and stops appending. */
typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
} metrics_text;

void metrics_text_init(metrics_text *t);
void metrics_text_clear(metrics_text *t);
/* Appends what more holds. */
void metrics_text_append(metrics_text *t, const metrics_text *more);

typedef struct {
    const char *name;  /* a fixed, valid label name */
    const char *value; /* any UTF-8; escaped (\\, \", \n) when written */
} metrics_label;

/* # HELP and # TYPE lines. help is written escaped (\\ and \n). */
void metrics_text_family(metrics_text *t, const char *name, const char *type, const char *help);
/* name{labels} value */
void metrics_text_sample(metrics_text *t, const char *name, const metrics_label *labels,
                         size_t nlabels, double value);
/* name_bucket{labels,le} (cumulative), name_sum, name_count. counts has
 * nbounds + 1 entries, per bucket (not cumulative), the last one past the
 * highest bound. */
void metrics_text_histogram(metrics_text *t, const char *name, const metrics_label *labels,
                            size_t nlabels, const double *bounds, size_t nbounds,
                            const uint64_t *counts, double sum);

/* What the store says, read at scrape time (http/metrics_page.c). */
typedef struct {
    int64_t integration_id;
    const char *name;
    const char *type;
    int enabled;
    int pushes;              /* a webhook: the delivery series are rendered */
    int64_t pending;         /* its deliveries not yet delivered or failed */
    int64_t retries_pending; /* of those, the ones that already failed once */
} metrics_integration;

typedef struct {
    int64_t outbox_pending;
    double outbox_oldest_age_s; /* 0 when nothing is pending */
    const metrics_integration *integrations;
    size_t nintegrations; /* sorted by integration_id */
} metrics_store_state;

/* Every family, with its HELP and TYPE, into out. -1 when out of memory. */
int metrics_render(metrics *m, const metrics_store_state *s, metrics_text *out);

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
