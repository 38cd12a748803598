/* metrics.c: see metrics.h.
 *
 * Three kinds of storage, by how often each is touched and by whom:
 *   - Event API counters: a fixed [source][outcome] array of atomics;
 *   - HTTP: a small table of (path, status) -> count plus one duration
 *     histogram, behind http_lock (every request takes it once, briefly);
 *   - delivery: a table of per-integration counters sorted by id, behind
 *     integ_lock (the dispatcher thread takes it once per attempt).
 * A scrape copies the tables under their locks, then renders without them. */
#include "util/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_PATH_MAX 96

/* Delivery latency: 1 ms to 60 s (a retry schedule's first steps included). */
static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                        0.5,   1,      2.5,   5,    10,    30,   60};
#define NLATENCY (sizeof(latency_bounds) / sizeof(latency_bounds[0]))

static const double http_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                     0.25,  0.5,   1,    2.5,   5,    10};
#define NHTTP_BOUNDS (sizeof(http_bounds) / sizeof(http_bounds[0]))

static const char *const source_names[METRICS_NSOURCES] = {"standard", "prometheus", "change"};
static const char *const ingest_names[METRICS_NINGEST] = {"accepted", "refused", "unauthorized",
                                                          "error"};
static const char *const attempt_names[METRICS_NATTEMPT] = {"delivered", "retry", "gone", "failed"};

typedef struct {
    char path[HTTP_PATH_MAX];
    int status;
    uint64_t count;
} http_series;

typedef struct {
    int64_t integration_id;
    uint64_t attempts[METRICS_NATTEMPT];
    uint64_t delivered, failed;
    uint64_t latency[NLATENCY + 1];
    double latency_sum;
} integ_series;

typedef struct {
    int64_t channel_id;
    char rule_id[25];
    uint64_t count;
} rule_series;

struct metrics {
    _Atomic uint64_t ingested[METRICS_NSOURCES][METRICS_NINGEST];

    pthread_mutex_t http_lock;
    http_series *http;
    size_t nhttp, caphttp;
    uint64_t http_duration[NHTTP_BOUNDS + 1];
    double http_duration_sum;

    pthread_mutex_t integ_lock;
    integ_series *integ; /* sorted by integration_id */
    size_t ninteg, capinteg;

    pthread_mutex_t rule_lock;
    rule_series *rules; /* drop rules that dropped something, in order of first drop */
    size_t nrules, caprules;
};

metrics *metrics_new(void) {
    metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    pthread_mutex_init(&m->http_lock, NULL);
    pthread_mutex_init(&m->integ_lock, NULL);
    pthread_mutex_init(&m->rule_lock, NULL);
    return m;
}

void metrics_free(metrics *m) {
    if (!m)
        return;
    pthread_mutex_destroy(&m->http_lock);
    pthread_mutex_destroy(&m->integ_lock);
    pthread_mutex_destroy(&m->rule_lock);
    free(m->rules);
    free(m->http);
    free(m->integ);
    free(m);
}

static size_t bucket_of(const double *bounds, size_t n, double v) {
    size_t i = 0;
    while (i < n && v > bounds[i])
        i++;
    return i;
}

/* ---- counting ----------------------------------------------------------- */

void metrics_events_ingested(metrics *m, metrics_source src, metrics_ingest outcome, uint64_t n) {
    if (!m || src >= METRICS_NSOURCES || outcome >= METRICS_NINGEST)
        return;
    atomic_fetch_add_explicit(&m->ingested[src][outcome], n, memory_order_relaxed);
}

/* The (path, status) entry; appended when new. NULL when out of memory. */
static http_series *http_find(metrics *m, const char *path, int status) {
    for (size_t i = 0; i < m->nhttp; i++) {
        if (m->http[i].status == status && strcmp(m->http[i].path, path) == 0)
            return &m->http[i];
    }
    if (m->nhttp == m->caphttp) {
        size_t cap = m->caphttp ? m->caphttp * 2 : 64;
        http_series *grown = realloc(m->http, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        m->http = grown;
        m->caphttp = cap;
    }
    http_series *s = &m->http[m->nhttp++];
    snprintf(s->path, sizeof(s->path), "%s", path);
    s->status = status;
    s->count = 0;
    return s;
}

void metrics_http_request(metrics *m, const char *path, int status, double seconds) {
    if (!m || !path)
        return;
    if (seconds < 0)
        seconds = 0;
    pthread_mutex_lock(&m->http_lock);
    http_series *s = http_find(m, path, status);
    if (s)
        s->count++;
    m->http_duration[bucket_of(http_bounds, NHTTP_BOUNDS, seconds)]++;
    m->http_duration_sum += seconds;
    pthread_mutex_unlock(&m->http_lock);
}

/* The integration's entry (binary search; inserted in order when new).
 * Called with integ_lock held. NULL when out of memory. */
static integ_series *integ_find(metrics *m, int64_t id) {
    size_t lo = 0, hi = m->ninteg;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->integ[mid].integration_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->ninteg && m->integ[lo].integration_id == id)
        return &m->integ[lo];
    if (m->ninteg == m->capinteg) {
        size_t cap = m->capinteg ? m->capinteg * 2 : 16;
        integ_series *grown = realloc(m->integ, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        m->integ = grown;
        m->capinteg = cap;
    }
    memmove(&m->integ[lo + 1], &m->integ[lo], (m->ninteg - lo) * sizeof(*m->integ));
    m->ninteg++;
    memset(&m->integ[lo], 0, sizeof(m->integ[lo]));
    m->integ[lo].integration_id = id;
    return &m->integ[lo];
}

void metrics_delivery_attempt(metrics *m, int64_t integration_id, metrics_attempt outcome) {
    if (!m || outcome >= METRICS_NATTEMPT)
        return;
    pthread_mutex_lock(&m->integ_lock);
    integ_series *s = integ_find(m, integration_id);
    if (s)
        s->attempts[outcome]++;
    pthread_mutex_unlock(&m->integ_lock);
}

void metrics_delivery_delivered(metrics *m, int64_t integration_id, double latency_s) {
    if (!m)
        return;
    if (latency_s < 0) /* the wall clock stepped back */
        latency_s = 0;
    pthread_mutex_lock(&m->integ_lock);
    integ_series *s = integ_find(m, integration_id);
    if (s) {
        s->delivered++;
        s->latency[bucket_of(latency_bounds, NLATENCY, latency_s)]++;
        s->latency_sum += latency_s;
    }
    pthread_mutex_unlock(&m->integ_lock);
}

void metrics_delivery_failed(metrics *m, int64_t integration_id) {
    if (!m)
        return;
    pthread_mutex_lock(&m->integ_lock);
    integ_series *s = integ_find(m, integration_id);
    if (s)
        s->failed++;
    pthread_mutex_unlock(&m->integ_lock);
}

void metrics_rule_drop(metrics *m, int64_t channel_id, const char *rule_id) {
    if (!m || !rule_id || !rule_id[0])
        return;
    pthread_mutex_lock(&m->rule_lock);
    size_t i = 0;
    while (i < m->nrules &&
           (m->rules[i].channel_id != channel_id || strcmp(m->rules[i].rule_id, rule_id) != 0))
        i++;
    if (i == m->nrules && m->nrules == m->caprules) {
        size_t cap = m->caprules ? m->caprules * 2 : 16;
        rule_series *grown = realloc(m->rules, cap * sizeof(*grown));
        if (grown) {
            m->rules = grown;
            m->caprules = cap;
        }
    }
    if (i < m->caprules) {
        if (i == m->nrules) {
            m->rules[i].channel_id = channel_id;
            snprintf(m->rules[i].rule_id, sizeof(m->rules[i].rule_id), "%s", rule_id);
            m->rules[i].count = 0;
            m->nrules++;
        }
        m->rules[i].count++;
    }
    pthread_mutex_unlock(&m->rule_lock);
}

/* ---- the text format ---------------------------------------------------- */

void metrics_text_init(metrics_text *t) {
    memset(t, 0, sizeof(*t));
}

void metrics_text_clear(metrics_text *t) {
    free(t->buf);
    metrics_text_init(t);
}

static int text_reserve(metrics_text *t, size_t more) {
    if (t->oom)
        return -1;
    if (t->len + more + 1 <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *grown = realloc(t->buf, cap);
    if (!grown) {
        t->oom = 1;
        return -1;
    }
    t->buf = grown;
    t->cap = cap;
    return 0;
}

static void text_append(metrics_text *t, const char *s, size_t n) {
    if (text_reserve(t, n) != 0)
        return;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void text_puts(metrics_text *t, const char *s) {
    text_append(t, s, strlen(s));
}

void metrics_text_append(metrics_text *t, const metrics_text *more) {
    if (more->len)
        text_append(t, more->buf, more->len);
}

/* Escapes \ and newline (HELP text), and " too in a label value. */
static void text_escaped(metrics_text *t, const char *s, int quote) {
    for (; *s; s++) {
        if (*s == '\\')
            text_puts(t, "\\\\");
        else if (*s == '\n')
            text_puts(t, "\\n");
        else if (*s == '"' && quote)
            text_puts(t, "\\\"");
        else
            text_append(t, s, 1);
    }
}

/* Integers as integers; other values in the shortest form that reads back
 * exactly. */
static void format_value(char *buf, size_t cap, double v) {
    if (isnan(v)) {
        snprintf(buf, cap, "NaN");
    } else if (isinf(v)) {
        snprintf(buf, cap, v > 0 ? "+Inf" : "-Inf");
    } else if (v == trunc(v) && fabs(v) < 1e15) {
        snprintf(buf, cap, "%.0f", v);
    } else {
        snprintf(buf, cap, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, cap, "%.17g", v);
    }
}

void metrics_text_family(metrics_text *t, const char *name, const char *type, const char *help) {
    text_puts(t, "# HELP ");
    text_puts(t, name);
    text_puts(t, " ");
    text_escaped(t, help, 0);
    text_puts(t, "\n# TYPE ");
    text_puts(t, name);
    text_puts(t, " ");
    text_puts(t, type);
    text_puts(t, "\n");
}

/* {a="x",b="y"[,le="z"]}; nothing when there are no labels at all. */
static void text_labels(metrics_text *t, const metrics_label *labels, size_t n, const char *le) {
    if (n == 0 && !le)
        return;
    text_puts(t, "{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            text_puts(t, ",");
        text_puts(t, labels[i].name);
        text_puts(t, "=\"");
        text_escaped(t, labels[i].value ? labels[i].value : "", 1);
        text_puts(t, "\"");
    }
    if (le) {
        text_puts(t, n ? ",le=\"" : "le=\"");
        text_puts(t, le);
        text_puts(t, "\"");
    }
    text_puts(t, "}");
}

static void text_sample_le(metrics_text *t, const char *name, const char *suffix,
                           const metrics_label *labels, size_t n, const char *le, double value) {
    char num[40];
    format_value(num, sizeof(num), value);
    text_puts(t, name);
    text_puts(t, suffix);
    text_labels(t, labels, n, le);
    text_puts(t, " ");
    text_puts(t, num);
    text_puts(t, "\n");
}

void metrics_text_sample(metrics_text *t, const char *name, const metrics_label *labels,
                         size_t nlabels, double value) {
    text_sample_le(t, name, "", labels, nlabels, NULL, value);
}

void metrics_text_histogram(metrics_text *t, const char *name, const metrics_label *labels,
                            size_t nlabels, const double *bounds, size_t nbounds,
                            const uint64_t *counts, double sum) {
    uint64_t cumulative = 0;
    char le[40];
    for (size_t i = 0; i <= nbounds; i++) {
        cumulative += counts[i];
        if (i < nbounds)
            format_value(le, sizeof(le), bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        text_sample_le(t, name, "_bucket", labels, nlabels, le, (double)cumulative);
    }
    text_sample_le(t, name, "_sum", labels, nlabels, NULL, sum);
    text_sample_le(t, name, "_count", labels, nlabels, NULL, (double)cumulative);
}

/* ---- the page ------------------------------------------------------------ */

static int http_series_cmp(const void *a, const void *b) {
    const http_series *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->status > y->status) - (x->status < y->status);
}

/* The registry's tables, copied under their locks. */
typedef struct {
    http_series *http;
    size_t nhttp;
    uint64_t http_duration[NHTTP_BOUNDS + 1];
    double http_duration_sum;
    integ_series *integ;
    size_t ninteg;
} snapshot;

static int snapshot_take(metrics *m, snapshot *s) {
    memset(s, 0, sizeof(*s));
    int rc = 0;
    pthread_mutex_lock(&m->http_lock);
    if (m->nhttp && !(s->http = malloc(m->nhttp * sizeof(*s->http)))) {
        rc = -1;
    } else {
        if (m->nhttp)
            memcpy(s->http, m->http, m->nhttp * sizeof(*s->http));
        s->nhttp = m->nhttp;
        memcpy(s->http_duration, m->http_duration, sizeof(s->http_duration));
        s->http_duration_sum = m->http_duration_sum;
    }
    pthread_mutex_unlock(&m->http_lock);
    if (rc != 0)
        return -1;
    pthread_mutex_lock(&m->integ_lock);
    if (m->ninteg && !(s->integ = malloc(m->ninteg * sizeof(*s->integ)))) {
        rc = -1;
    } else {
        if (m->ninteg)
            memcpy(s->integ, m->integ, m->ninteg * sizeof(*s->integ));
        s->ninteg = m->ninteg;
    }
    pthread_mutex_unlock(&m->integ_lock);
    if (s->nhttp)
        qsort(s->http, s->nhttp, sizeof(*s->http), http_series_cmp);
    return rc;
}

static void snapshot_clear(snapshot *s) {
    free(s->http);
    free(s->integ);
}

static const integ_series *snapshot_integ(const snapshot *s, int64_t id) {
    size_t lo = 0, hi = s->ninteg;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->integ[mid].integration_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->ninteg && s->integ[lo].integration_id == id ? &s->integ[lo] : NULL;
}

static void render_ingest(metrics *m, metrics_text *t) {
    metrics_text_family(t, "tocsin_events_ingested_total", "counter",
                        "Alert events received by the Event API, by source and outcome. A "
                        "standard push is one event; an Alertmanager push is one event per "
                        "alert in its body. Requests refused before the body is read (method, "
                        "size, rate limit, missing key, Content-Type, JSON) count only in "
                        "tocsin_http_requests_total.");
    for (int s = 0; s < METRICS_NSOURCES; s++) {
        for (int o = 0; o < METRICS_NINGEST; o++) {
            metrics_label l[] = {{"source", source_names[s]}, {"outcome", ingest_names[o]}};
            metrics_text_sample(t, "tocsin_events_ingested_total", l, 2,
                                (double)atomic_load(&m->ingested[s][o]));
        }
    }
}

static void render_http(const snapshot *s, metrics_text *t) {
    metrics_text_family(t, "tocsin_http_requests_total", "counter",
                        "HTTP requests answered, by path and HTTP status. path is the API "
                        "route, /healthz or /metrics; any other path is \"other\".");
    for (size_t i = 0; i < s->nhttp; i++) {
        char code[16];
        snprintf(code, sizeof(code), "%d", s->http[i].status);
        metrics_label l[] = {{"path", s->http[i].path}, {"code", code}};
        metrics_text_sample(t, "tocsin_http_requests_total", l, 2, (double)s->http[i].count);
    }
    metrics_text_family(t, "tocsin_http_request_duration_seconds", "histogram",
                        "Time from a request's arrival to its answer, every path together.");
    metrics_text_histogram(t, "tocsin_http_request_duration_seconds", NULL, 0, http_bounds,
                           NHTTP_BOUNDS, s->http_duration, s->http_duration_sum);
}

static void render_outbox(const metrics_store_state *st, metrics_text *t) {
    metrics_text_family(t, "tocsin_outbox_pending", "gauge",
                        "Deliveries (one per event and subscribed integration) not yet delivered "
                        "or failed, waiting or in flight.");
    metrics_text_sample(t, "tocsin_outbox_pending", NULL, 0, (double)st->outbox_pending);
    metrics_text_family(t, "tocsin_outbox_oldest_pending_age_seconds", "gauge",
                        "Age of the oldest pending delivery (since its event was committed); 0 "
                        "when none is pending. The delivery lag.");
    metrics_text_sample(t, "tocsin_outbox_oldest_pending_age_seconds", NULL, 0,
                        st->outbox_oldest_age_s);
}

/* integration_id, name, type of one integration. */
static void integ_labels(const metrics_integration *in, char *id, size_t cap, metrics_label *l) {
    snprintf(id, cap, "%lld", (long long)in->integration_id);
    l[0] = (metrics_label){"integration_id", id};
    l[1] = (metrics_label){"name", in->name};
    l[2] = (metrics_label){"type", in->type};
}

typedef enum { PUSH_DELIVERED, PUSH_FAILED, PUSH_LATENCY, PUSH_PENDING, PUSH_RETRIES } push_family;

/* One per-integration family, for every webhook integration: its counters
 * come from the registry (zero when nothing happened yet), its gauges from
 * the store. */
static void render_push_family(const snapshot *s, const metrics_store_state *st, metrics_text *t,
                               push_family which, const char *name, const char *type,
                               const char *help) {
    static const integ_series zero;
    char id[24];
    metrics_label l[3];
    metrics_text_family(t, name, type, help);
    for (size_t i = 0; i < st->nintegrations; i++) {
        const metrics_integration *in = &st->integrations[i];
        if (!in->pushes)
            continue;
        const integ_series *c = snapshot_integ(s, in->integration_id);
        if (!c)
            c = &zero;
        integ_labels(in, id, sizeof(id), l);
        switch (which) {
        case PUSH_DELIVERED:
            metrics_text_sample(t, name, l, 3, (double)c->delivered);
            break;
        case PUSH_FAILED:
            metrics_text_sample(t, name, l, 3, (double)c->failed);
            break;
        case PUSH_LATENCY:
            metrics_text_histogram(t, name, l, 3, latency_bounds, NLATENCY, c->latency,
                                   c->latency_sum);
            break;
        case PUSH_PENDING:
            metrics_text_sample(t, name, l, 3, (double)in->pending);
            break;
        case PUSH_RETRIES:
            metrics_text_sample(t, name, l, 3, (double)in->retries_pending);
            break;
        }
    }
}

static void render_integrations(const snapshot *s, const metrics_store_state *st, metrics_text *t) {
    static const integ_series zero;
    char id[24];
    metrics_label l[4];
    metrics_text_family(t, "tocsin_integration_enabled", "gauge",
                        "1 when the integration is enabled, 0 when disabled (by a person, a 410 "
                        "or 24 hours of failures). Every integration that is not deleted.");
    for (size_t i = 0; i < st->nintegrations; i++) {
        integ_labels(&st->integrations[i], id, sizeof(id), l);
        metrics_text_sample(t, "tocsin_integration_enabled", l, 3, st->integrations[i].enabled);
    }
    metrics_text_family(t, "tocsin_delivery_attempts_total", "counter",
                        "Webhook push attempts by the dispatcher, by outcome: delivered (2xx), "
                        "retry (timeout, transport error, 5xx, 408, 429), gone (410: the "
                        "integration is disabled), failed (other 3xx/4xx, or not sendable).");
    for (size_t i = 0; i < st->nintegrations; i++) {
        const metrics_integration *in = &st->integrations[i];
        const integ_series *c = snapshot_integ(s, in->integration_id);
        if (!in->pushes)
            continue;
        integ_labels(in, id, sizeof(id), l);
        for (int o = 0; o < METRICS_NATTEMPT; o++) {
            l[3] = (metrics_label){"outcome", attempt_names[o]};
            metrics_text_sample(t, "tocsin_delivery_attempts_total", l, 4,
                                (double)(c ? c : &zero)->attempts[o]);
        }
    }
    render_push_family(s, st, t, PUSH_DELIVERED, "tocsin_deliveries_total", "counter",
                       "Deliveries that ended delivered.");
    render_push_family(s, st, t, PUSH_FAILED, "tocsin_deliveries_failed_total", "counter",
                       "Deliveries that ended failed: a 3xx/4xx other than 408, 410 and 429, "
                       "retries exhausted, or not sendable.");
    render_push_family(s, st, t, PUSH_LATENCY, "tocsin_delivery_latency_seconds", "histogram",
                       "Time from an event's commit to its delivery (2xx), retries included (for a "
                       "resend or replay: from the moment it was queued).");
    render_push_family(s, st, t, PUSH_PENDING, "tocsin_delivery_pending", "gauge",
                       "Deliveries not yet delivered or failed.");
    render_push_family(s, st, t, PUSH_RETRIES, "tocsin_delivery_retries_pending", "gauge",
                       "Pending deliveries that already failed at least once, waiting for a "
                       "retry (or for the integration to be enabled again).");
}

/* Few series (one per drop rule that ever dropped): rendered under the lock. */
static void render_rule_drops(metrics *m, metrics_text *t) {
    metrics_text_family(t, "tocsin_rule_drops_total", "counter",
                        "Alert events a channel's drop rule discarded, by channel and rule "
                        "(answered 200, stored nowhere).");
    pthread_mutex_lock(&m->rule_lock);
    for (size_t i = 0; i < m->nrules; i++) {
        char channel[24];
        snprintf(channel, sizeof(channel), "%lld", (long long)m->rules[i].channel_id);
        metrics_label l[] = {{"channel_id", channel}, {"rule_id", m->rules[i].rule_id}};
        metrics_text_sample(t, "tocsin_rule_drops_total", l, 2, (double)m->rules[i].count);
    }
    pthread_mutex_unlock(&m->rule_lock);
}

int metrics_render(metrics *m, const metrics_store_state *st, metrics_text *out) {
    static const metrics_store_state empty;
    snapshot s;
    if (!m)
        return -1;
    if (!st)
        st = &empty;
    if (snapshot_take(m, &s) != 0) {
        snapshot_clear(&s);
        return -1;
    }
    render_ingest(m, out);
    render_http(&s, out);
    render_outbox(st, out);
    render_integrations(&s, st, out);
    render_rule_drops(m, out);
    snapshot_clear(&s);
    return out->oom ? -1 : 0;
}
