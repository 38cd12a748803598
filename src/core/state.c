/* state.c: see state.h.
 *
 * Three chained hash tables (open alerts by key, open incidents by id,
 * buckets by channel and grouping key), each doubling when it holds as
 * many entries as slots. The change log records, for each change to the
 * alert and incident maps, what undoes it: an entry added (undo: take it
 * out and free it), an entry taken out (undo: put it back; it is freed
 * only at commit), an entry changed (undo: copy back the saved fields).
 * Configuration is cached separately and simply read again when stale. */
#include "core/state.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/alerts.h"
#include "store/channel_rules.h"
#include "store/config.h"
#include "store/escalations.h"
#include "store/incidents.h"
#include "util/doc.h"
#include "util/log.h"

/* ---- hashing ------------------------------------------------------------------ */

static uint64_t hash_bytes(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static uint64_t hash_str(uint64_t h, const char *s) {
    return hash_bytes(h, s, strlen(s));
}

#define HASH_SEED 14695981039346656037ULL

static uint64_t alert_hash(int64_t integration_id, const char *key) {
    return hash_str(hash_bytes(HASH_SEED, &integration_id, sizeof(integration_id)), key);
}

static uint64_t incident_hash(const char *incident_id) {
    return hash_str(HASH_SEED, incident_id);
}

static uint64_t bucket_hash(int64_t channel_id, const char *key) {
    return hash_str(hash_bytes(HASH_SEED, &channel_id, sizeof(channel_id)), key);
}

/* ---- the structure --------------------------------------------------------------- */

typedef struct bucket {
    struct bucket *next;
    int64_t channel_id;
    char key[EVENT_HASH_LEN + 1];
    state_incident **incidents; /* oldest first */
    int n, cap;
} bucket;

typedef enum {
    LOG_ALERT_ADDED,
    LOG_ALERT_REMOVED,
    LOG_ALERT_CHANGED,
    LOG_INCIDENT_ADDED,
    LOG_INCIDENT_REMOVED,
    LOG_INCIDENT_CHANGED
} log_kind;

typedef struct {
    log_kind kind;
    void *entry;
    union {
        state_alert alert;       /* LOG_ALERT_CHANGED: the fields before */
        state_incident incident; /* LOG_INCIDENT_CHANGED */
    } before;
} log_record;

/* An alert source with what it is found and checked by. */
typedef struct {
    state_source pub;
    char key_hash[65];
    char *key;
} source_entry;

typedef struct {
    int64_t kind_is_incident; /* 1: incident, 0: alert */
    int64_t channel_id;       /* 0: every channel */
    char event_type[32];      /* "": every type */
    int64_t integration_id;
} subscription;

struct tc_state {
    state_alert **alerts;
    size_t nalerts, alert_slots;
    state_incident **incidents;
    size_t nincidents, incident_slots;
    bucket **buckets;
    size_t nbuckets, bucket_slots;
    log_record *log;
    size_t nlog, caplog;
    /* configuration */
    int config_loaded;
    source_entry *sources; /* enabled alert sources */
    size_t nsources, capsources;
    state_channel *channels;
    size_t nchannels;
    state_integration *integrations;
    size_t nintegrations;
    subscription *subs;
    size_t nsubs, capsubs;
    inhibit_sources *recent; /* candidates for inhibit rules' sources */
};

/* ---- tables ---------------------------------------------------------------------- */

/* Doubles a chained table of `slots` (a power of two) when full. */
#define GROW_TABLE(type, table, slots, count, hashfn)                                              \
    do {                                                                                           \
        if ((count) < (slots))                                                                     \
            break;                                                                                 \
        size_t grown_slots = (slots)*2;                                                            \
        type **grown = calloc(grown_slots, sizeof(*grown));                                        \
        if (!grown)                                                                                \
            break; /* chains just get longer */                                                    \
        for (size_t i = 0; i < (slots); i++) {                                                     \
            for (type *e = (table)[i], *next; e; e = next) {                                       \
                next = e->next;                                                                    \
                size_t b = (size_t)(hashfn) & (grown_slots - 1);                                   \
                e->next = grown[b];                                                                \
                grown[b] = e;                                                                      \
            }                                                                                      \
        }                                                                                          \
        free(table);                                                                               \
        (table) = grown;                                                                           \
        (slots) = grown_slots;                                                                     \
    } while (0)

static void alert_link(tc_state *s, state_alert *e) {
    GROW_TABLE(state_alert, s->alerts, s->alert_slots, s->nalerts,
               alert_hash(e->integration_id, e->alert_key));
    size_t b = alert_hash(e->integration_id, e->alert_key) & (s->alert_slots - 1);
    e->next = s->alerts[b];
    s->alerts[b] = e;
    s->nalerts++;
}

static void alert_unlink(tc_state *s, state_alert *e) {
    state_alert **pp =
        &s->alerts[alert_hash(e->integration_id, e->alert_key) & (s->alert_slots - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = e->next;
        s->nalerts--;
    }
}

static void alert_entry_free(state_alert *e) {
    if (e) {
        free(e->alert_key);
        free(e);
    }
}

static bucket *bucket_get(tc_state *s, int64_t channel_id, const char *key, int create) {
    size_t b = bucket_hash(channel_id, key) & (s->bucket_slots - 1);
    for (bucket *k = s->buckets[b]; k; k = k->next) {
        if (k->channel_id == channel_id && strcmp(k->key, key) == 0)
            return k;
    }
    if (!create)
        return NULL;
    GROW_TABLE(bucket, s->buckets, s->bucket_slots, s->nbuckets,
               bucket_hash(e->channel_id, e->key));
    bucket *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->channel_id = channel_id;
    snprintf(k->key, sizeof(k->key), "%s", key);
    b = bucket_hash(channel_id, key) & (s->bucket_slots - 1);
    k->next = s->buckets[b];
    s->buckets[b] = k;
    s->nbuckets++;
    return k;
}

static void bucket_drop_if_empty(tc_state *s, bucket *k) {
    if (k->n)
        return;
    bucket **pp = &s->buckets[bucket_hash(k->channel_id, k->key) & (s->bucket_slots - 1)];
    while (*pp && *pp != k)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = k->next;
        s->nbuckets--;
    }
    free(k->incidents);
    free(k);
}

/* Adds e to every bucket of its keys. -1 when out of memory (e is then in
 * none of them). */
static int buckets_add(tc_state *s, state_incident *e) {
    for (int i = 0; i < e->ngroup_keys; i++) {
        bucket *k = bucket_get(s, e->channel_id, e->group_keys[i], 1);
        if (k && k->n == k->cap) {
            int cap = k->cap ? k->cap * 2 : 2;
            state_incident **grown = realloc(k->incidents, (size_t)cap * sizeof(*grown));
            if (grown) {
                k->incidents = grown;
                k->cap = cap;
            }
        }
        if (!k || k->n == k->cap) {
            for (int j = 0; j < i; j++) { /* take the ones added back out */
                bucket *added = bucket_get(s, e->channel_id, e->group_keys[j], 0);
                if (added && added->n) {
                    added->n--;
                    bucket_drop_if_empty(s, added);
                }
            }
            if (k)
                bucket_drop_if_empty(s, k);
            return -1;
        }
        k->incidents[k->n++] = e;
    }
    return 0;
}

static void buckets_remove(tc_state *s, state_incident *e) {
    for (int i = 0; i < e->ngroup_keys; i++) {
        bucket *k = bucket_get(s, e->channel_id, e->group_keys[i], 0);
        if (!k)
            continue;
        for (int j = 0; j < k->n; j++) {
            if (k->incidents[j] == e) {
                memmove(&k->incidents[j], &k->incidents[j + 1],
                        (size_t)(k->n - j - 1) * sizeof(*k->incidents));
                k->n--;
                break;
            }
        }
        bucket_drop_if_empty(s, k);
    }
}

static void incident_link(tc_state *s, state_incident *e) {
    GROW_TABLE(state_incident, s->incidents, s->incident_slots, s->nincidents,
               incident_hash(e->incident_id));
    size_t b = incident_hash(e->incident_id) & (s->incident_slots - 1);
    e->next = s->incidents[b];
    s->incidents[b] = e;
    s->nincidents++;
}

static void incident_unlink(tc_state *s, state_incident *e) {
    state_incident **pp = &s->incidents[incident_hash(e->incident_id) & (s->incident_slots - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = e->next;
        s->nincidents--;
    }
}

static void incident_entry_free(state_incident *e) {
    if (e) {
        free(e->group_keys);
        free(e);
    }
}

/* ---- the change log ------------------------------------------------------------------ */

static log_record *log_push(tc_state *s, log_kind kind, void *entry, tc_err *err) {
    if (s->nlog == s->caplog) {
        size_t cap = s->caplog ? s->caplog * 2 : 256;
        log_record *grown = realloc(s->log, cap * sizeof(*grown));
        if (!grown) {
            tc_err_oom(err, "the writer's change log");
            return NULL;
        }
        s->log = grown;
        s->caplog = cap;
    }
    log_record *r = &s->log[s->nlog++];
    r->kind = kind;
    r->entry = entry;
    return r;
}

size_t state_mark(tc_state *s) {
    return s->nlog;
}

void state_undo_to(tc_state *s, size_t mark) {
    if (s->nlog > mark)
        inhibit_sources_invalidate(s->recent); /* it may hold what is undone */
    while (s->nlog > mark) {
        log_record *r = &s->log[--s->nlog];
        switch (r->kind) {
        case LOG_ALERT_ADDED:
            alert_unlink(s, r->entry);
            alert_entry_free(r->entry);
            break;
        case LOG_ALERT_REMOVED:
            alert_link(s, r->entry);
            break;
        case LOG_ALERT_CHANGED: {
            state_alert *e = r->entry;
            state_alert *next = e->next;
            *e = r->before.alert;
            e->next = next;
            break;
        }
        case LOG_INCIDENT_ADDED:
            buckets_remove(s, r->entry);
            incident_unlink(s, r->entry);
            incident_entry_free(r->entry);
            break;
        case LOG_INCIDENT_REMOVED:
            incident_link(s, r->entry);
            if (buckets_add(s, r->entry) != 0)
                log_error("msg=\"writer cache: an incident's grouping buckets could not be "
                          "restored\" incident_id=%s",
                          ((state_incident *)r->entry)->incident_id);
            break;
        case LOG_INCIDENT_CHANGED: {
            state_incident *e = r->entry;
            state_incident *next = e->next;
            *e = r->before.incident;
            e->next = next;
            break;
        }
        }
    }
}

void state_commit(tc_state *s) {
    for (size_t i = 0; i < s->nlog; i++) {
        if (s->log[i].kind == LOG_ALERT_REMOVED)
            alert_entry_free(s->log[i].entry);
        else if (s->log[i].kind == LOG_INCIDENT_REMOVED)
            incident_entry_free(s->log[i].entry);
    }
    s->nlog = 0;
}

/* ---- open alerts ---------------------------------------------------------------------- */

state_alert *state_alert_find(tc_state *s, int64_t integration_id, const char *alert_key) {
    size_t b = alert_hash(integration_id, alert_key) & (s->alert_slots - 1);
    for (state_alert *e = s->alerts[b]; e; e = e->next) {
        if (e->integration_id == integration_id && strcmp(e->alert_key, alert_key) == 0)
            return e;
    }
    return NULL;
}

static void alert_fields(state_alert *e, const tc_alert *a) {
    e->id = a->id;
    memcpy(e->alert_id, a->alert_id, sizeof(e->alert_id));
    e->integration_id = a->integration_id;
    memcpy(e->incident_id, a->incident_id, sizeof(e->incident_id));
    e->severity = a->severity;
    e->status = a->status;
    memcpy(e->event_hash, a->event_hash, sizeof(e->event_hash));
}

/* The entry, linked, without logging (state_load and state_alert_open). */
static state_alert *alert_add(tc_state *s, const tc_alert *a, tc_err *err) {
    state_alert *e = calloc(1, sizeof(*e));
    if (!e || !(e->alert_key = strdup(a->alert_key ? a->alert_key : ""))) {
        free(e);
        tc_err_oom(err, "the writer's map of open alerts");
        return NULL;
    }
    alert_fields(e, a);
    alert_link(s, e);
    return e;
}

int state_alert_open(tc_state *s, const tc_alert *a, tc_err *err) {
    log_record *r = log_push(s, LOG_ALERT_ADDED, NULL, err);
    if (!r)
        return -1;
    state_alert *e = alert_add(s, a, err);
    if (!e) {
        s->nlog--;
        return -1;
    }
    r->entry = e;
    return 0;
}

int state_alert_update(tc_state *s, state_alert *e, const tc_alert *a, tc_err *err) {
    log_record *r = log_push(s, LOG_ALERT_CHANGED, e, err);
    if (!r)
        return -1;
    r->before.alert = *e;
    alert_fields(e, a);
    return 0;
}

int state_alert_close(tc_state *s, state_alert *e, tc_err *err) {
    if (!log_push(s, LOG_ALERT_REMOVED, e, err))
        return -1;
    alert_unlink(s, e);
    return 0;
}

/* ---- open incidents ------------------------------------------------------------------ */

state_incident *state_incident_find(tc_state *s, const char *incident_id) {
    size_t b = incident_hash(incident_id) & (s->incident_slots - 1);
    for (state_incident *e = s->incidents[b]; e; e = e->next) {
        if (strcmp(e->incident_id, incident_id) == 0)
            return e;
    }
    return NULL;
}

/* The grouping keys of a stored incident (JSON array text). */
static int parse_group_keys(state_incident *e, const char *text, tc_err *err) {
    if (!text || !*text || strcmp(text, "[]") == 0)
        return 0;
    json_t *keys = NULL;
    if (doc_parse(text, "incident group_keys", e->incident_id, &keys, err) != 0)
        return -1;
    size_t n = json_array_size(keys);
    if (n && !(e->group_keys = calloc(n, sizeof(*e->group_keys)))) {
        json_decref(keys);
        return tc_err_oom(err, "an incident's grouping keys");
    }
    for (size_t i = 0; i < n; i++) {
        const char *k = json_string_value(json_array_get(keys, i));
        if (k && strlen(k) == EVENT_HASH_LEN)
            memcpy(e->group_keys[e->ngroup_keys++], k, EVENT_HASH_LEN + 1);
    }
    json_decref(keys);
    return 0;
}

static state_incident *incident_add(tc_state *s, const tc_incident *inc, tc_err *err) {
    state_incident *e = calloc(1, sizeof(*e));
    if (!e) {
        tc_err_oom(err, "the writer's map of open incidents");
        return NULL;
    }
    e->id = inc->id;
    memcpy(e->incident_id, inc->incident_id, sizeof(e->incident_id));
    e->channel_id = inc->channel_id;
    e->start_time = inc->start_time;
    e->last_alert_time = inc->last_alert_time;
    if (parse_group_keys(e, inc->group_keys, err) != 0) {
        incident_entry_free(e);
        return NULL;
    }
    incident_link(s, e);
    if (buckets_add(s, e) != 0) {
        incident_unlink(s, e);
        incident_entry_free(e);
        tc_err_oom(err, "the writer's grouping buckets");
        return NULL;
    }
    return e;
}

int state_incident_open(tc_state *s, const tc_incident *inc, tc_err *err) {
    log_record *r = log_push(s, LOG_INCIDENT_ADDED, NULL, err);
    if (!r)
        return -1;
    state_incident *e = incident_add(s, inc, err);
    if (!e) {
        s->nlog--;
        return -1;
    }
    r->entry = e;
    return 0;
}

int state_incident_touch(tc_state *s, state_incident *e, tc_err *err) {
    log_record *r = log_push(s, LOG_INCIDENT_CHANGED, e, err);
    if (!r)
        return -1;
    r->before.incident = *e;
    return 0;
}

int state_incident_close(tc_state *s, state_incident *e, tc_err *err) {
    if (!log_push(s, LOG_INCIDENT_REMOVED, e, err))
        return -1;
    buckets_remove(s, e);
    incident_unlink(s, e);
    return 0;
}

state_incident *state_bucket_find(tc_state *s, int64_t channel_id,
                                  const char (*keys)[EVENT_HASH_LEN + 1], int nkeys,
                                  const group_rules *rules, int64_t now) {
    for (int i = 0; i < nkeys; i++) {
        bucket *k = bucket_get(s, channel_id, keys[i], 0);
        state_incident *best = NULL;
        for (int j = 0; k && j < k->n; j++) {
            state_incident *e = k->incidents[j];
            if (group_window_open(rules, e->start_time, e->last_alert_time, now) &&
                (!best || e->start_time >= best->start_time))
                best = e;
        }
        if (best)
            return best;
    }
    return NULL;
}

/* ---- loading ---------------------------------------------------------------------- */

static int load_incident(void *arg, const tc_incident *inc, tc_err *err) {
    return incident_add(arg, inc, err) ? 0 : -1;
}

static int load_alert(void *arg, const tc_alert *a, tc_err *err) {
    tc_state *s = arg;
    if (!alert_add(s, a, err))
        return -1;
    state_incident *inc = a->incident_id[0] ? state_incident_find(s, a->incident_id) : NULL;
    if (inc && a->status >= 0 && a->status <= 3)
        inc->open_by_status[a->status]++;
    return 0;
}

/* ---- other nodes' changes ---------------------------------------------------------- */

static void config_clear(tc_state *s);

/* Only one alert per key is open, so an entry for a record's key that is
 * not the record's own alert is stale when the record is open (that alert
 * was closed, or replaced, on the other node). */
static void count_alert(tc_state *s, const char *incident_id, int status, int delta) {
    state_incident *inc = incident_id[0] ? state_incident_find(s, incident_id) : NULL;
    if (inc && status >= 0 && status <= 3)
        inc->open_by_status[status] += delta;
}

/* A record is one line of tab-separated fields (keys escaped: \\ \t \n):
 *   a<alert_id> 1 <id> <integration> <incident_id> <severity> <status> <event_hash> <key>
 *   a<alert_id> 0 0 <integration> - 0 0 - <key>          (closed, or replaced)
 *   i<incident_id> 1 <id> <channel> <start> <last_alert> <open by status x4> <keys,...>
 *   i<incident_id> 0                                     (closed or removed)
 *   c                                                    (configuration)
 * Built from this cache as a batch leaves it, so applying a batch's records
 * in order gives another node's cache exactly this one's entries for them. */

static char *escaped(const char *key) {
    char *out = malloc(strlen(key) * 2 + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = key; *p; p++) {
        if (*p == '\\' || *p == '\t' || *p == '\n') {
            *o++ = '\\';
            *o++ = *p == '\t' ? 't' : *p == '\n' ? 'n' : '\\';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static void unescape(char *key) {
    char *o = key;
    for (const char *p = key; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            *o++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

static char *alert_record(tc_state *s, const store_change *c) {
    char *key = escaped(c->alert_key ? c->alert_key : "");
    if (!key)
        return NULL;
    state_alert *e = state_alert_find(s, c->integration_id, c->alert_key ? c->alert_key : "");
    char *out = NULL;
    int n;
    if (e && strcmp(e->alert_id, c->id) == 0)
        n = asprintf(&out, "a%s\t1\t%lld\t%lld\t%s\t%d\t%d\t%s\t%s", c->id, (long long)e->id,
                     (long long)e->integration_id, e->incident_id[0] ? e->incident_id : "-",
                     e->severity, e->status, e->event_hash[0] ? e->event_hash : "-", key);
    else
        n = asprintf(&out, "a%s\t0\t0\t%lld\t-\t0\t0\t-\t%s", c->id, (long long)c->integration_id,
                     key);
    free(key);
    return n < 0 ? NULL : out;
}

static char *incident_record(tc_state *s, const store_change *c) {
    state_incident *e = state_incident_find(s, c->id);
    char *out = NULL;
    if (!e)
        return asprintf(&out, "i%s\t0", c->id) < 0 ? NULL : out;
    size_t keys_len = (size_t)e->ngroup_keys * (EVENT_HASH_LEN + 1) + 1;
    char *keys = malloc(keys_len), *k = keys;
    if (!keys)
        return NULL;
    *k = '\0';
    for (int i = 0; i < e->ngroup_keys; i++)
        k += sprintf(k, "%s%s", i ? "," : "", e->group_keys[i]);
    int n = asprintf(&out, "i%s\t1\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%s", c->id,
                     (long long)e->id, (long long)e->channel_id, (long long)e->start_time,
                     (long long)e->last_alert_time, (long long)e->open_by_status[0],
                     (long long)e->open_by_status[1], (long long)e->open_by_status[2],
                     (long long)e->open_by_status[3], keys);
    free(keys);
    return n < 0 ? NULL : out;
}

int state_change_records(tc_state *s, store_batch *b, tc_err *err) {
    for (size_t i = 0; i < b->nchanges; i++) {
        store_change *c = &b->changes[i];
        free(c->record);
        c->record = c->kind == 'a'   ? alert_record(s, c)
                    : c->kind == 'i' ? incident_record(s, c)
                                     : strdup("c");
        if (!c->record)
            return tc_err_oom(err, "the batch's change records");
    }
    return 0;
}

/* Splits a record (a copy, changed in place) into at most max fields. */
static int record_fields(char *line, char **f, int max) {
    int n = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *tab = n < max ? strchr(p, '\t') : NULL;
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

static int64_t field_int(const char *f) {
    return strtoll(f, NULL, 10);
}

static void field_id(char *dst, size_t cap, const char *f) {
    snprintf(dst, cap, "%s", strcmp(f, "-") == 0 ? "" : f);
}

/* An alert record: in the map exactly when open; a closed alert leaves
 * alone a newer open one of the same key. */
static int apply_alert(tc_state *s, char *line, tc_err *err) {
    char *f[9];
    if (record_fields(line, f, 9) != 9)
        return tc_err_set(err, TC_INTERNAL, "another node's change record is malformed");
    unescape(f[8]);
    tc_alert a;
    memset(&a, 0, sizeof(a));
    field_id(a.alert_id, sizeof(a.alert_id), f[0] + 1);
    a.progress = field_int(f[1]) ? PROGRESS_TRIGGERED : PROGRESS_CLOSED;
    a.id = field_int(f[2]);
    a.integration_id = field_int(f[3]);
    field_id(a.incident_id, sizeof(a.incident_id), f[4]);
    a.severity = (int)field_int(f[5]);
    a.status = (int)field_int(f[6]);
    field_id(a.event_hash, sizeof(a.event_hash), f[7]);
    a.alert_key = f[8];
    int open = a.progress != PROGRESS_CLOSED;
    state_alert *e = state_alert_find(s, a.integration_id, a.alert_key);
    if (e && (open || strcmp(e->alert_id, a.alert_id) == 0)) {
        count_alert(s, e->incident_id, e->status, -1);
        alert_unlink(s, e);
        alert_entry_free(e);
    }
    if (open) {
        if (!alert_add(s, &a, err))
            return -1;
        count_alert(s, a.incident_id, a.status, +1);
    }
    return 0;
}

/* An incident record: the entry as the other node's cache has it, counts
 * of open alerts included (they override what the alerts' records did). */
static int apply_incident(tc_state *s, char *line, tc_err *err) {
    char *f[11];
    int n = record_fields(line, f, 11);
    state_incident *old = state_incident_find(s, f[0] + 1);
    if (old) {
        buckets_remove(s, old);
        incident_unlink(s, old);
        incident_entry_free(old);
    }
    if (n == 2 && field_int(f[1]) == 0)
        return 0;
    if (n != 11)
        return tc_err_set(err, TC_INTERNAL, "another node's change record is malformed");
    state_incident *e = calloc(1, sizeof(*e));
    size_t nkeys = f[10][0] ? 1 : 0;
    for (const char *p = f[10]; *p; p++)
        nkeys += *p == ',';
    if (!e || (nkeys && !(e->group_keys = calloc(nkeys, sizeof(*e->group_keys))))) {
        free(e);
        return tc_err_oom(err, "the writer's map of open incidents");
    }
    field_id(e->incident_id, sizeof(e->incident_id), f[0] + 1);
    e->id = field_int(f[2]);
    e->channel_id = field_int(f[3]);
    e->start_time = field_int(f[4]);
    e->last_alert_time = field_int(f[5]);
    for (int i = 0; i < 4; i++)
        e->open_by_status[i] = field_int(f[6 + i]);
    for (const char *p = f[10]; *p;) {
        size_t len = strcspn(p, ",");
        if (len == EVENT_HASH_LEN) {
            memcpy(e->group_keys[e->ngroup_keys], p, EVENT_HASH_LEN);
            e->group_keys[e->ngroup_keys++][EVENT_HASH_LEN] = '\0';
        }
        p += len;
        if (*p == ',')
            p++;
    }
    incident_link(s, e);
    if (buckets_add(s, e) != 0) {
        incident_unlink(s, e);
        incident_entry_free(e);
        return tc_err_oom(err, "the writer's grouping buckets");
    }
    return 0;
}

int state_refresh(tc_state *s, const store_change *changes, size_t n, tc_err *err) {
    /* Alerts first, then incidents: an incident's record carries its counts
     * of open alerts, which override what the alerts' pass added or took
     * away for it. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const store_change *c = &changes[i];
            if (pass == 0 && c->kind == 'c') {
                state_config_changed(s);
                continue;
            }
            if (c->kind != (pass == 0 ? 'a' : 'i') || !c->record)
                continue;
            char *line = strdup(c->record);
            if (!line)
                return tc_err_oom(err, "another node's change record");
            if (pass == 0)
                inhibit_sources_invalidate(s->recent); /* another node's alert */
            int rc = pass == 0 ? apply_alert(s, line, err) : apply_incident(s, line, err);
            free(line);
            if (rc != 0)
                return -1;
        }
    }
    return 0;
}

void state_reset(tc_state *s) {
    state_commit(s);
    for (size_t i = 0; i < s->alert_slots; i++) {
        for (state_alert *e = s->alerts[i], *next; e; e = next) {
            next = e->next;
            alert_entry_free(e);
        }
        s->alerts[i] = NULL;
    }
    for (size_t i = 0; i < s->bucket_slots; i++) {
        for (bucket *k = s->buckets[i], *next; k; k = next) {
            next = k->next;
            free(k->incidents);
            free(k);
        }
        s->buckets[i] = NULL;
    }
    for (size_t i = 0; i < s->incident_slots; i++) {
        for (state_incident *e = s->incidents[i], *next; e; e = next) {
            next = e->next;
            incident_entry_free(e);
        }
        s->incidents[i] = NULL;
    }
    s->nalerts = s->nincidents = s->nbuckets = 0;
    config_clear(s); /* and the inhibit sources */
}

int state_load(tc_state *s, store_conn *c, tc_err *err) {
    if (store_incidents_each_open(c, load_incident, s, err) != 0 ||
        store_alerts_each_open(c, load_alert, s, err) != 0)
        return -1;
    log_info("msg=\"writer cache loaded\" open_alerts=%zu open_incidents=%zu", s->nalerts,
             s->nincidents);
    return 0;
}

/* ---- configuration --------------------------------------------------------------- */

static void config_clear(tc_state *s) {
    for (size_t i = 0; i < s->nsources; i++) {
        free(s->sources[i].pub.name);
        free(s->sources[i].key);
    }
    free(s->sources);
    for (size_t i = 0; i < s->nchannels; i++) {
        free(s->channels[i].name);
        group_rules_clear(&s->channels[i].rules);
        chan_rules_clear(&s->channels[i].filters);
    }
    /* Rules may have changed, and the list holds only channels with some. */
    if (s->recent)
        inhibit_sources_invalidate(s->recent);
    free(s->channels);
    for (size_t i = 0; i < s->nintegrations; i++)
        free(s->integrations[i].name);
    free(s->integrations);
    free(s->subs);
    s->sources = NULL;
    s->channels = NULL;
    s->integrations = NULL;
    s->subs = NULL;
    s->nsources = s->capsources = s->nchannels = s->nintegrations = s->nsubs = s->capsubs = 0;
    s->config_loaded = 0;
}

void state_config_changed(tc_state *s) {
    config_clear(s);
}

/* Appends to an array of `size`-byte elements, doubling its capacity. */
static void *grow(void *array, size_t n, size_t *cap, size_t size) {
    if (n < *cap)
        return array;
    size_t c = *cap ? *cap * 2 : 16;
    void *grown = realloc(array, c * size);
    if (grown)
        *cap = c;
    return grown;
}

typedef struct {
    tc_state *s;
    size_t cap_channels, cap_integrations;
} config_loader;

static int take_integration(void *arg, const store_integration_row *r, tc_err *err) {
    config_loader *l = arg;
    tc_state *s = l->s;
    size_t cap = l->cap_integrations;
    state_integration *ints = grow(s->integrations, s->nintegrations, &cap, sizeof(*ints));
    if (!ints)
        return tc_err_oom(err, "the writer's integrations");
    s->integrations = ints;
    l->cap_integrations = cap;
    state_integration *it = &s->integrations[s->nintegrations];
    memset(it, 0, sizeof(*it));
    it->integration_id = r->integration_id;
    snprintf(it->type, sizeof(it->type), "%s", r->type);
    if (!(it->name = strdup(r->name)))
        return tc_err_oom(err, "the writer's integrations");
    s->nintegrations++;
    if (!r->key_hash[0] || strcmp(r->status, "enabled") != 0)
        return 0;
    source_entry *src = grow(s->sources, s->nsources, &s->capsources, sizeof(*src));
    if (!src)
        return tc_err_oom(err, "the writer's alert sources");
    s->sources = src;
    source_entry *e = &s->sources[s->nsources++];
    memset(e, 0, sizeof(*e));
    e->pub.integration_id = r->integration_id;
    snprintf(e->pub.type, sizeof(e->pub.type), "%s", r->type);
    e->pub.channel_id = r->channel_id;
    snprintf(e->key_hash, sizeof(e->key_hash), "%s", r->key_hash);
    if (!(e->key = strdup(r->key)) || !(e->pub.name = strdup(r->name)))
        return tc_err_oom(err, "the writer's alert sources");
    return 0;
}

static int take_channel(void *arg, const store_channel_row *r, tc_err *err) {
    config_loader *l = arg;
    tc_state *s = l->s;
    size_t cap = l->cap_channels;
    state_channel *chs = grow(s->channels, s->nchannels, &cap, sizeof(*chs));
    if (!chs)
        return tc_err_oom(err, "the writer's channels");
    s->channels = chs;
    l->cap_channels = cap;
    state_channel *ch = &s->channels[s->nchannels];
    memset(ch, 0, sizeof(*ch));
    group_rules_init(&ch->rules);
    s->nchannels++;
    ch->channel_id = r->channel_id;
    snprintf(ch->status, sizeof(ch->status), "%s", r->status);
    if (!(ch->name = strdup(r->name)))
        return tc_err_oom(err, "the writer's channels");
    json_t *rules = NULL;
    if (doc_parse_n(r->rules, "channel rules", r->channel_id, &rules, err) != 0)
        return -1;
    int rc = group_rules_from_channel(rules, &ch->rules);
    json_decref(rules);
    return rc == 0 ? 0 : tc_err_oom(err, "a channel's grouping rules");
}

static int take_subscription(void *arg, const store_subscription_row *r, tc_err *err) {
    config_loader *l = arg;
    tc_state *s = l->s;
    size_t cap = s->capsubs;
    subscription *subs = grow(s->subs, s->nsubs, &cap, sizeof(*subs));
    if (!subs)
        return tc_err_oom(err, "the writer's subscriptions");
    s->subs = subs;
    s->capsubs = cap;
    subscription *x = &s->subs[s->nsubs++];
    x->kind_is_incident = strcmp(r->kind, "incident") == 0;
    x->channel_id = r->channel_id;
    snprintf(x->event_type, sizeof(x->event_type), "%s", r->event_type);
    x->integration_id = r->integration_id;
    return 0;
}

static state_channel *channel_of(tc_state *s, int64_t channel_id) {
    for (size_t i = 0; i < s->nchannels; i++) {
        if (s->channels[i].channel_id == channel_id)
            return &s->channels[i];
    }
    return NULL;
}

/* A stored rule, compiled into its channel's list (rows come in evaluation
 * order). A rule that no longer compiles (it passed the same checks when
 * saved) is skipped with a warning rather than stopping every ingest. */
static int take_rule(void *arg, const store_channel_rule *r, tc_err *err) {
    config_loader *l = arg;
    state_channel *ch = channel_of(l->s, r->channel_id);
    rule_kind kind = RULE_KINDS;
    for (int k = 0; k < RULE_KINDS; k++) {
        if (strcmp(r->kind, rule_kind_name((rule_kind)k)) == 0)
            kind = (rule_kind)k;
    }
    if (!ch || kind == RULE_KINDS)
        return 0;
    json_t *body = NULL;
    chan_rule rule;
    tc_err why = {0};
    int rc = 0;
    if (doc_parse(r->body, "channel_rule", r->rule_id, &body, err) != 0)
        return -1; /* a rule silently missing would let through what it mutes */
    if (chan_rule_compile(kind, body, &rule, &why) != 0) {
        if (why.code == TC_INTERNAL) {
            *err = why;
            rc = -1;
        } else {
            log_warn("msg=\"channel rule skipped: it does not compile\" rule_id=%s error=\"%s\"",
                     r->rule_id, why.message);
        }
    } else {
        snprintf(rule.rule_id, sizeof(rule.rule_id), "%s", r->rule_id);
        if (!(rule.rule_name = strdup(r->rule_name)))
            rc = tc_err_oom(err, "a channel rule");
        else
            rc = chan_rules_add(&ch->filters, &rule, err);
        chan_rule_clear(&rule);
    }
    json_decref(body);
    return rc;
}

/* Channels come first (store_config_each_channel), so each count finds its
 * channel; a count for a channel that is gone is dropped. */
static int take_escalate_count(void *arg, int64_t channel_id, int64_t n, tc_err *err) {
    config_loader *l = arg;
    (void)err;
    for (size_t i = 0; i < l->s->nchannels; i++) {
        if (l->s->channels[i].channel_id == channel_id)
            l->s->channels[i].escalate_rules = (int)n;
    }
    return 0;
}

static int config_load(tc_state *s, store_conn *c, tc_err *err) {
    if (s->config_loaded)
        return 0;
    config_clear(s);
    config_loader l = {.s = s};
    if (store_config_each_integration(c, take_integration, &l, err) != 0 ||
        store_config_each_channel(c, take_channel, &l, err) != 0 ||
        store_config_each_subscription(c, take_subscription, &l, err) != 0 ||
        store_channel_rules_each_enabled(c, take_rule, &l, err) != 0 ||
        store_escalate_rules_counts(c, take_escalate_count, &l, err) != 0) {
        config_clear(s);
        return -1;
    }
    s->config_loaded = 1;
    return 0;
}

int state_source_find(tc_state *s, store_conn *c, const char *key_hash, const state_source **out,
                      const char **key, tc_err *err) {
    *out = NULL;
    *key = NULL;
    if (config_load(s, c, err) != 0)
        return -1;
    for (size_t i = 0; i < s->nsources; i++) {
        if (strcmp(s->sources[i].key_hash, key_hash) == 0) {
            *out = &s->sources[i].pub;
            *key = s->sources[i].key;
            return 0;
        }
    }
    return 0;
}

int state_channel_find(tc_state *s, store_conn *c, int64_t channel_id, const state_channel **out,
                       tc_err *err) {
    *out = NULL;
    if (config_load(s, c, err) != 0)
        return -1;
    for (size_t i = 0; i < s->nchannels; i++) {
        if (s->channels[i].channel_id == channel_id) {
            *out = &s->channels[i];
            break;
        }
    }
    return 0;
}

int state_integration_find(tc_state *s, store_conn *c, int64_t integration_id,
                           const state_integration **out, tc_err *err) {
    *out = NULL;
    if (config_load(s, c, err) != 0)
        return -1;
    for (size_t i = 0; i < s->nintegrations; i++) {
        if (s->integrations[i].integration_id == integration_id) {
            *out = &s->integrations[i];
            break;
        }
    }
    return 0;
}

int state_subscribers(tc_state *s, store_conn *c, const char *kind, const char *event_type,
                      int64_t channel_id, int64_t *ids, int max, int *n, tc_err *err) {
    *n = 0;
    if (config_load(s, c, err) != 0)
        return -1;
    int incident = strcmp(kind, "incident") == 0;
    for (size_t i = 0; i < s->nsubs; i++) {
        const subscription *x = &s->subs[i];
        if (x->kind_is_incident != incident || (x->channel_id && x->channel_id != channel_id) ||
            (x->event_type[0] && strcmp(x->event_type, event_type) != 0))
            continue;
        /* Rows come ordered by integration: a repeat is the last one taken. */
        if (*n && ids[*n - 1] == x->integration_id)
            continue;
        if (*n == max)
            return tc_err_set(err, TC_INTERNAL, "more than %d integrations subscribe to %s", max,
                              event_type);
        ids[(*n)++] = x->integration_id;
    }
    return 0;
}

/* ---- life cycle ----------------------------------------------------------------- */

int state_new(tc_state **out, tc_err *err) {
    tc_state *s = calloc(1, sizeof(*s));
    if (!s)
        return tc_err_oom(err, "the writer's cache");
    s->alert_slots = s->incident_slots = s->bucket_slots = 1024;
    s->alerts = calloc(s->alert_slots, sizeof(*s->alerts));
    s->incidents = calloc(s->incident_slots, sizeof(*s->incidents));
    s->buckets = calloc(s->bucket_slots, sizeof(*s->buckets));
    s->recent = inhibit_sources_new();
    if (!s->alerts || !s->incidents || !s->buckets || !s->recent) {
        state_free(s);
        return tc_err_oom(err, "the writer's cache");
    }
    *out = s;
    return 0;
}

void state_free(tc_state *s) {
    if (!s)
        return;
    state_commit(s); /* frees entries taken out and not yet freed */
    for (size_t i = 0; s->alerts && i < s->alert_slots; i++) {
        for (state_alert *e = s->alerts[i], *next; e; e = next) {
            next = e->next;
            alert_entry_free(e);
        }
    }
    for (size_t i = 0; s->buckets && i < s->bucket_slots; i++) {
        for (bucket *k = s->buckets[i], *next; k; k = next) {
            next = k->next;
            free(k->incidents);
            free(k);
        }
    }
    for (size_t i = 0; s->incidents && i < s->incident_slots; i++) {
        for (state_incident *e = s->incidents[i], *next; e; e = next) {
            next = e->next;
            incident_entry_free(e);
        }
    }
    free(s->alerts);
    free(s->incidents);
    free(s->buckets);
    free(s->log);
    config_clear(s);
    inhibit_sources_free(s->recent);
    free(s);
}

/* ---- inhibit rules' sources ---------------------------------------------------- */

int state_inhibit_note(tc_state *s, const state_channel *ch, const tc_alert *a, tc_err *err) {
    /* A stale list is rebuilt from the store, which then holds this alert. */
    if (!ch || ch->filters.n[RULE_INHIBIT] == 0 || inhibit_sources_stale(s->recent))
        return 0;
    return inhibit_sources_note(s->recent, a, err);
}

static int take_recent(void *arg, const tc_alert *a, tc_err *err) {
    tc_state *s = arg;
    state_channel *ch = channel_of(s, a->channel_id);
    if (!ch || ch->filters.n[RULE_INHIBIT] == 0)
        return 0;
    return inhibit_sources_note(s->recent, a, err);
}

int state_inhibit_sources(tc_state *s, store_conn *c, int64_t now, inhibit_sources **out,
                          tc_err *err) {
    *out = NULL;
    if (config_load(s, c, err) != 0)
        return -1;
    int64_t since = now - INHIBIT_SOURCE_AGE_S;
    if (inhibit_sources_stale(s->recent)) {
        inhibit_sources_invalidate(s->recent);
        if (store_alerts_each_recent(c, since, take_recent, s, err) != 0) {
            inhibit_sources_invalidate(s->recent);
            return -1;
        }
        inhibit_sources_fresh(s->recent);
    }
    inhibit_sources_prune(s->recent, since);
    *out = s->recent;
    return 0;
}

int state_inhibit_source_open(tc_state *s, const inhibit_source *e) {
    const state_alert *a = state_alert_find(s, e->subject.data_source_id, e->subject.alert_key);
    return a && strcmp(a->alert_id, e->alert_id) == 0;
}

void state_counts(tc_state *s, size_t *open_alerts, size_t *open_incidents) {
    *open_alerts = s->nalerts;
    *open_incidents = s->nincidents;
}
