/* dispatcher.c: see dispatcher.h.
 *
 * Where a lane is. A lane exists while it has pending deliveries and is in
 * exactly one of these places:
 *   - the heap, waiting for its head's next_at (due now, or a retry later);
 *   - its target's blocked list, waiting for a free slot or for the
 *     integration to be enabled again;
 *   - in flight: its head is being sent (ordered lanes: one at a time).
 * Every state change of a lane happens on the dispatcher thread; the only
 * things other threads touch are the wake/reload flags and the recorder
 * queue, each under its own synchronisation.
 *
 * Unordered integrations (ordered: false) give each delivery a lane of its
 * own, so nothing waits on anything else.
 *
 * Several nodes (PostgreSQL): a lane belongs to one of the cluster's
 * buckets (core/cluster.h), by its stored lane, and only the node holding
 * the bucket's lease serves it. The dispatcher serves the buckets it holds
 * (served), loads the outbox from the store (any node's writer may have
 * written it: no hand-over), forgets a bucket's lanes when the lease goes,
 * and takes a bucket up only when nothing of it is in flight any more, so
 * that a lane is never served twice at once. Each outcome is recorded
 * under the bucket's epoch: one recorded after the lease was lost (the
 * new owner sends it again, same event_id and tocsin-sequence) changes
 * only the history. */
#include "delivery/dispatcher.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cluster.h"
#include "core/self_alerts.h"
#include "core/outbox.h"
#include "delivery/history.h"
#include "store/cluster.h"
#include "store/deliveries.h"
#include "store/events.h"
#include "store/integrations.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"

#define LANE_BUCKETS 65536
#define LOAD_BATCH 5000
#define FAILING_DISABLE_MS (24LL * 3600 * 1000)
#define IDLE_POLL_MS 1000
#define EASY_POOL 256
#define DISPATCHER_MAX_CONNECTIONS 1024
/* Bodies the dispatcher keeps in memory for pushes waiting their turn;
 * past this, a push's body is read from the store when it is sent. */
#define BODY_BUDGET (64u * 1024 * 1024)
/* A push that could not be prepared for want of memory, or whose
 * integration could not be read, is tried again after this. */
#define TRANSIENT_RETRY_MS 1000
/* Several nodes: how often the outbox is read for pushes other nodes
 * wrote, and the integrations for what other nodes changed in them. */
#define SHARED_POLL_MS 100
#define SHARED_TARGETS_MS 5000

typedef struct pending {
    int64_t delivery_id, event_seq, sequence;
    int64_t next_at;         /* ms */
    int64_t first_failed_at; /* ms; 0 while no attempt failed */
    int64_t created_at;      /* ms: queued in the outbox (metrics' latency base) */
    int attempts;
    /* The event, when the writer handed it over (else read from the store
     * when sent): history's subject, and the body while the budget lasts. */
    int has_event;
    history_subject subj;
    outbox_body *body;
    struct pending *next;
} pending;

typedef struct lane {
    int64_t integration_id;
    char *key;
    int bucket; /* the cluster's bucket (core/cluster.h) of its stored lane */
    int forget; /* its bucket went while it was in flight: freed when it lands */
    pending *head, *tail;
    int in_flight;
    struct lane *hnext; /* hash chain */
    struct lane *bnext; /* target's blocked list */
} lane;

typedef struct target_state {
    push_target t;
    int present;       /* found at the last reload (not deleted) */
    int disabled_here; /* disabled by an outcome (410, 24 h); cleared by a reload */
    int in_flight;
    /* Start of the current streak of failed attempts (0: the last attempt
     * succeeded). Read from the store when the target is first loaded and
     * written back through every record that begins or ends a streak, so
     * that 24 hours of failures disable the endpoint across restarts. The
     * memory copy leads the store's (records are written after the fact),
     * so a reload keeps it, except when the integration is enabled again:
     * that starts afresh, as the enable itself did in the store. */
    int64_t failing_since_ms;
    lane *blocked_head, *blocked_tail;
    struct target_state *next;
} target_state;

typedef struct transfer {
    push_attempt a; /* first: CURLOPT_PRIVATE points at it */
    lane *ln;
    target_state *ts;
    history_subject subj;
    int64_t epoch;                /* its bucket's lease epoch when it started */
    struct transfer *prev, *next; /* the dispatcher's in-flight list */
} transfer;

/* An outcome on its way to the store. Owns its attempt's buffers. */
typedef struct record {
    history_subject subj;
    char endpoint[PUSH_TARGET_ENDPOINT_MAX + 1];
    push_attempt a;
    int64_t delivery_id;
    const char *status; /* pending | delivered | failed */
    int attempts;
    int64_t next_at, first_failed_at;
    char disable_reason[300]; /* non-empty: disable the integration */
    int disable_by_streak;    /* the 24-hour rule: only if the store's streak agrees */
    int streak_changed;       /* the integration's failing streak began or ended */
    int64_t failing_since;    /* ms: its start, 0 = ended (integrations.failing_since) */
    int no_history;           /* only the deliveries row changes */
    /* Several nodes: recorded as the deliveries row's only if this node
     * still holds the bucket's lease with this epoch. */
    int fenced, bucket;
    int64_t epoch;
    struct record *next;
} record;

struct dispatcher {
    tc_app *app;
    push_network net;
    CURLM *multi;
    store_conn *reader;
    pthread_t thread;
    int thread_running, recorder_running;
    atomic_int stop, wake, reload;
    /* The highest delivery id known durable (writer's after-commit hook):
     * rows above it may be committed and visible, but not yet synced, and
     * must not be pushed before a crash could no longer take them back. */
    _Atomic int64_t durable_high;
    transfer *transfers; /* in flight */
    lane *buckets[LANE_BUCKETS];
    lane **heap;
    size_t nheap, capheap;
    target_state *targets;
    int targets_incomplete; /* the last reload could not read every integration */
    int64_t last_loaded_id;
    int in_flight;
    /* Pushes the writer handed over (dispatcher_wake), oldest first, taken
     * by the dispatcher thread; and what is loaded from the store instead
     * when a hand-over could not be taken whole. */
    pthread_mutex_t in_lock;
    outbox_delivery *in_head, **in_tail;
    int reload_outbox; /* load_new from last_loaded_id */
    size_t body_bytes; /* bodies held in pending deliveries */
    /* Easy handles kept for the next attempts (curl_easy_reset on reuse). */
    CURL *easy_pool[EASY_POOL];
    int neasy;
    unsigned short rand_state[3];
    /* recorder */
    pthread_t recorder;
    pthread_mutex_t rec_lock;
    pthread_cond_t rec_wake;
    record *rec_head, *rec_tail;
    int rec_stop;
    /* several nodes */
    cluster *cl;
    int shared;
    uint64_t served; /* buckets whose lanes are loaded and sent here */
    int64_t epoch[CLUSTER_BUCKETS];
    int bucket_inflight[CLUSTER_BUCKETS];
    int64_t next_poll_ms, next_targets_ms;
};

/* Attempts in flight at once per integration (--max-inflight-per-endpoint). */
static int per_target(const dispatcher *d) {
    int n = d->app->cfg->max_inflight_per_endpoint;
    return n > 0 ? n : DISPATCHER_MAX_PER_TARGET;
}

/* ---- lanes ----------------------------------------------------------------- */

static unsigned lane_hash(int64_t integration_id, const char *key) {
    unsigned h = 2166136261u ^ (unsigned)integration_id;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h % LANE_BUCKETS;
}

static lane *lane_get(dispatcher *d, int64_t integration_id, const char *key, int bucket,
                      int create) {
    unsigned b = lane_hash(integration_id, key);
    for (lane *ln = d->buckets[b]; ln; ln = ln->hnext) {
        if (ln->integration_id == integration_id && strcmp(ln->key, key) == 0)
            return ln;
    }
    if (!create)
        return NULL;
    lane *ln = calloc(1, sizeof(*ln));
    if (!ln || !(ln->key = strdup(key))) {
        free(ln);
        return NULL;
    }
    ln->integration_id = integration_id;
    ln->bucket = bucket;
    ln->hnext = d->buckets[b];
    d->buckets[b] = ln;
    return ln;
}

/* Drops a pending delivery's body (read from the store when it is sent). */
static void pending_drop_body(dispatcher *d, pending *p) {
    if (p->body) {
        d->body_bytes -= p->body->len;
        outbox_body_unref(p->body);
        p->body = NULL;
    }
}

static void pending_free(dispatcher *d, pending *p) {
    pending_drop_body(d, p);
    free(p);
}

static void lane_free(dispatcher *d, lane *ln) {
    lane **pp = &d->buckets[lane_hash(ln->integration_id, ln->key)];
    while (*pp && *pp != ln)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = ln->hnext;
    for (pending *p = ln->head, *next; p; p = next) {
        next = p->next;
        pending_free(d, p);
    }
    free(ln->key);
    free(ln);
}

/* ---- the heap of waiting lanes, keyed by their head's next_at ---------- */

static int64_t due(const lane *ln) {
    return ln->head->next_at;
}

static void heap_swap(dispatcher *d, size_t i, size_t j) {
    lane *tmp = d->heap[i];
    d->heap[i] = d->heap[j];
    d->heap[j] = tmp;
}

static int heap_push(dispatcher *d, lane *ln) {
    if (d->nheap == d->capheap) {
        size_t cap = d->capheap ? d->capheap * 2 : 1024;
        lane **grown = realloc(d->heap, cap * sizeof(*grown));
        if (!grown)
            return -1;
        d->heap = grown;
        d->capheap = cap;
    }
    size_t i = d->nheap++;
    d->heap[i] = ln;
    while (i > 0 && due(d->heap[(i - 1) / 2]) > due(d->heap[i])) {
        heap_swap(d, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static lane *heap_pop(dispatcher *d) {
    lane *top = d->heap[0];
    d->heap[0] = d->heap[--d->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < d->nheap && due(d->heap[l]) < due(d->heap[m]))
            m = l;
        if (r < d->nheap && due(d->heap[r]) < due(d->heap[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(d, i, m);
        i = m;
    }
    return top;
}

/* ---- targets ---------------------------------------------------------------- */

static target_state *target_find(dispatcher *d, int64_t integration_id) {
    for (target_state *ts = d->targets; ts; ts = ts->next) {
        if (ts->t.integration_id == integration_id)
            return ts->present ? ts : NULL;
    }
    return NULL;
}

static int target_open(const target_state *ts) {
    return ts->t.enabled && !ts->disabled_here;
}

static void block(target_state *ts, lane *ln) {
    ln->bnext = NULL;
    if (ts->blocked_tail)
        ts->blocked_tail->bnext = ln;
    else
        ts->blocked_head = ln;
    ts->blocked_tail = ln;
}

/* Moves up to n blocked lanes of ts back to the heap (n < 0: all). */
static void unblock(dispatcher *d, target_state *ts, int n) {
    while (ts->blocked_head && n-- != 0) {
        lane *ln = ts->blocked_head;
        ts->blocked_head = ln->bnext;
        if (!ts->blocked_head)
            ts->blocked_tail = NULL;
        if (heap_push(d, ln) != 0)
            log_error("msg=\"dispatcher: out of memory; a lane waits for the next start\"");
    }
}

static void drop_lane(dispatcher *d, lane *ln);

static void targets_reload(dispatcher *d) {
    tc_err err;
    int64_t now_s = clock_now_s();
    for (target_state *ts = d->targets; ts; ts = ts->next)
        ts->present = 0;
    store_push_target_cursor cur;
    int opened = store_integrations_push_targets_open(d->reader, &cur, &err);
    d->targets_incomplete = 0;
    if (opened != 0) {
        /* Nothing read: every target stays as it was, none is taken for
         * deleted. */
        log_error("msg=\"dispatcher: cannot read integrations\" error=\"%s\"", err.message);
        for (target_state *ts = d->targets; ts; ts = ts->next)
            ts->present = 1;
        d->targets_incomplete = 1;
        return;
    }
    int step;
    store_push_target_row row;
    while ((step = store_integrations_push_targets_next(&cur, &row, &err)) == STORE_ROW) {
        push_target t;
        if (push_target_from_row(&row, now_s, &t, &err) != 0) {
            /* Kept as it was (a passing failure, memory say, must not look
             * like a deletion: that would fail its pushes for good). */
            int64_t id = row.integration_id;
            log_error("msg=\"dispatcher: an integration could not be read\" integration_id=%lld "
                      "error=\"%s\"",
                      (long long)id, err.message);
            for (target_state *ts = d->targets; ts; ts = ts->next) {
                if (ts->t.integration_id == id)
                    ts->present = 1;
            }
            d->targets_incomplete = 1;
            continue;
        }
        int64_t stored_failing_since = row.failing_since;
        target_state *ts = d->targets;
        while (ts && ts->t.integration_id != t.integration_id)
            ts = ts->next;
        if (!ts) {
            if (!(ts = calloc(1, sizeof(*ts)))) {
                push_target_clear(&t);
                d->targets_incomplete = 1;
                continue;
            }
            ts->next = d->targets;
            d->targets = ts;
            ts->failing_since_ms = stored_failing_since;
        } else {
            /* Several nodes: the store's streak is the cluster's (a success
             * anywhere ended it); one node: the memory copy leads. */
            if (d->shared || (!target_open(ts) && t.enabled))
                ts->failing_since_ms = stored_failing_since;
            push_target_clear(&ts->t);
        }
        ts->t = t;
        ts->present = 1;
        ts->disabled_here = 0;
    }
    store_integrations_push_targets_close(&cur);
    if (step < 0) {
        for (target_state *ts = d->targets; ts; ts = ts->next)
            ts->present = 1;
        d->targets_incomplete = 1;
    }
    for (target_state *ts = d->targets; ts; ts = ts->next) {
        if (ts->present && target_open(ts))
            unblock(d, ts, per_target(d));
        while (!ts->present && ts->blocked_head) {
            lane *ln = ts->blocked_head;
            ts->blocked_head = ln->bnext;
            if (!ts->blocked_head)
                ts->blocked_tail = NULL;
            drop_lane(d, ln);
        }
    }
}

/* ---- recording ------------------------------------------------------------ */

static void record_free(record *r) {
    push_attempt_clear(&r->a);
    free(r);
}

/* The batch of outcomes the recorder hands to the writer. */
typedef struct {
    dispatcher *d;
    record *list;
    /* Leases checked in this batch: 0 unknown, 1 held, -1 not. */
    signed char lease[CLUSTER_BUCKETS];
    int64_t lease_epoch[CLUSTER_BUCKETS];
} record_batch;

/* Whether the deliveries row of r is still this node's to record: its
 * bucket's lease is held with the epoch the attempt started under. Asked
 * once per bucket and epoch in a batch, under the clock's lock. */
static int record_owned(writer_txn *txn, record_batch *rb, const record *r, tc_err *err) {
    if (!r->fenced)
        return 1;
    if (rb->lease[r->bucket] != 0 && rb->lease_epoch[r->bucket] == r->epoch)
        return rb->lease[r->bucket] > 0;
    char name[32];
    snprintf(name, sizeof(name), "bucket:%d", r->bucket);
    int held = 0;
    if (store_cluster_lease_held(txn->conn, name, cluster_node_id(rb->d->cl), r->epoch, &held,
                                 err) != 0)
        return -1;
    rb->lease[r->bucket] = held ? 1 : -1;
    rb->lease_epoch[r->bucket] = r->epoch;
    return held;
}

static int record_one(writer_txn *txn, record_batch *rb, record *r, tc_err *err) {
    if (!r->no_history && history_insert(txn, &r->subj, r->endpoint, &r->a, err) != 0)
        return -1;
    /* The attempt happened, so history keeps it either way; the row and
     * the streak are the lease holder's to change. */
    int owned = record_owned(txn, rb, r, err);
    if (owned <= 0)
        return owned;
    store_delivery_outcome o = {.delivery_id = r->delivery_id,
                                .status = r->status,
                                .attempts = r->attempts,
                                .next_at = r->next_at,
                                .first_failed_at = r->first_failed_at,
                                .last_error = r->a.error,
                                .updated_at = txn->now_ms};
    if (store_deliveries_record(txn->conn, &o, err) != 0)
        return -1;
    const tc_config *cfg = rb->d->app->cfg;
    if (strcmp(r->status, "delivered") == 0 &&
        self_alerts_delivered(txn, cfg, r->subj.integration_id, err) != 0)
        return -1;
    if (r->streak_changed && store_integrations_set_failing_since(txn->conn, r->subj.integration_id,
                                                                  r->failing_since, err) != 0)
        return -1;
    if (!r->disable_reason[0])
        return 0;
    int64_t failing_before = r->disable_by_streak ? txn->now_ms - FAILING_DISABLE_MS : 0;
    if (store_integrations_disable(txn->conn, r->subj.integration_id, r->disable_reason,
                                   txn->now_ms / 1000, failing_before, err) != 0)
        return -1;
    /* Only the record that did disable it raises the alert. */
    if (!cfg->self_alerts_channel_id || store_changes(txn->conn) == 0)
        return 0;
    return self_alerts_disabled(txn, cfg, r->subj.integration_id, r->disable_reason, err);
}

static int record_cmd(writer_txn *txn, void *arg, tc_err *err) {
    record_batch *rb = arg;
    memset(rb->lease, 0, sizeof(rb->lease));
    for (record *r = rb->list; r; r = r->next) {
        if (record_one(txn, rb, r, err) != 0)
            return -1;
    }
    return 0;
}

/* Puts a batch that could not be recorded back in front of the queue, so
 * that it is retried with whatever arrived meanwhile, in the same order. */
static void recorder_requeue(dispatcher *d, record *batch) {
    record *last = batch;
    while (last->next)
        last = last->next;
    last->next = d->rec_head;
    d->rec_head = batch;
    if (!d->rec_tail)
        d->rec_tail = last;
}

static void recorder_pause(dispatcher *d, int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&d->rec_wake, &d->rec_lock, &ts);
}

/* Records outcomes through the writer. A batch the store refuses (disk
 * full, I/O error) is kept and retried with a growing pause (up to 30 s)
 * until the store takes it: the pushes went out, and their outcomes must
 * reach the deliveries and history rows once the cause is gone, or a
 * restart would send them all again. Only at shutdown is a batch that
 * still fails given up: its deliveries stay pending in the store and are
 * sent again (same event_id) after the restart. */
static void *recorder_main(void *arg) {
    dispatcher *d = arg;
    pthread_setname_np(pthread_self(), "tocsin-record");
    int pause_ms = 0;
    pthread_mutex_lock(&d->rec_lock);
    for (;;) {
        while (!d->rec_head && !d->rec_stop)
            pthread_cond_wait(&d->rec_wake, &d->rec_lock);
        record *batch = d->rec_head;
        d->rec_head = d->rec_tail = NULL;
        if (!batch && d->rec_stop)
            break;
        int stopping = d->rec_stop;
        pthread_mutex_unlock(&d->rec_lock);
        tc_err err;
        record_batch rb = {.d = d, .list = batch};
        int failed = writer_run(d->app->w, record_cmd, &rb, &err) != 0;
        pthread_mutex_lock(&d->rec_lock);
        if (failed && !stopping) {
            pause_ms = pause_ms ? (pause_ms * 2 > 30000 ? 30000 : pause_ms * 2) : 500;
            log_error("msg=\"cannot record delivery outcomes; retrying\" retry_in_ms=%d "
                      "error=\"%s\"",
                      pause_ms, err.message);
            recorder_requeue(d, batch);
            recorder_pause(d, pause_ms);
            continue;
        }
        if (failed)
            log_error("msg=\"cannot record delivery outcomes at shutdown; they stay pending\" "
                      "error=\"%s\"",
                      err.message);
        else if (pause_ms)
            log_info("msg=\"delivery outcomes recorded again\"");
        pause_ms = 0;
        pthread_mutex_unlock(&d->rec_lock);
        for (record *r = batch, *next; r; r = next) {
            next = r->next;
            record_free(r);
        }
        pthread_mutex_lock(&d->rec_lock);
    }
    pthread_mutex_unlock(&d->rec_lock);
    return NULL;
}

static void record_push(dispatcher *d, record *r) {
    pthread_mutex_lock(&d->rec_lock);
    if (d->rec_tail)
        d->rec_tail->next = r;
    else
        d->rec_head = r;
    d->rec_tail = r;
    pthread_cond_signal(&d->rec_wake);
    pthread_mutex_unlock(&d->rec_lock);
}

/* ---- loading the outbox -------------------------------------------------- */

/* Bit b of a bucket mask. */
static uint64_t bucket_bit(int b) {
    return (uint64_t)1 << b;
}

/* Puts p at the end of its lane: 0, or 1 when its bucket is not served
 * here (p is not taken), or -1 out of memory. */
static int add_pending(dispatcher *d, int64_t integration_id, const char *lane_key, pending *p) {
    /* The bucket comes from the stored lane, which every node reads the
     * same, whatever each thinks of the integration's ordering. */
    int bucket = d->shared ? cluster_bucket_of(integration_id, lane_key) : 0;
    if (d->shared && !(d->served & bucket_bit(bucket)))
        return 1;
    target_state *ts = target_find(d, integration_id);
    char own[32];
    if (ts && !ts->t.ordered) {
        snprintf(own, sizeof(own), "#%lld", (long long)p->delivery_id);
        lane_key = own;
    }
    lane *ln = lane_get(d, integration_id, lane_key, bucket, 1);
    if (!ln)
        return -1;
    int idle = !ln->head;
    if (ln->tail)
        ln->tail->next = p;
    else
        ln->head = p;
    ln->tail = p;
    /* A lane that already had work is in the heap, blocked or in flight. */
    return idle ? heap_push(d, ln) : 0;
}

/* A history subject's event fields: one event, wherever it was read from
 * (the store's row, the writer's hand-over). */
static void subject_set_event(history_subject *s, const char *event_id, const char *event_type,
                              const char *kind, const char *ref_id, int64_t channel_id,
                              int64_t event_time_ms) {
    snprintf(s->event_id, sizeof(s->event_id), "%s", event_id);
    snprintf(s->event_type, sizeof(s->event_type), "%s", event_type);
    snprintf(s->webhook_type, sizeof(s->webhook_type), "%s", kind);
    snprintf(s->ref_id, sizeof(s->ref_id), "%s", ref_id);
    s->channel_id = channel_id;
    s->event_time_ms = event_time_ms;
}

/* A pending delivery as loaded from the store, with its event (and its
 * body while the budget lasts). NULL: out of memory. */
static pending *pending_from_row(dispatcher *d, const store_pending_row *row) {
    pending *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->delivery_id = row->delivery_id;
    p->event_seq = row->event_seq;
    p->sequence = row->sequence;
    p->attempts = (int)row->attempts;
    p->next_at = row->next_at;
    p->first_failed_at = row->first_failed_at;
    p->created_at = row->created_at;
    p->has_event = 1;
    subject_set_event(&p->subj, row->event_id, row->event_type, row->object_kind, row->object_id,
                      row->channel_id, row->event_time);
    /* No body, or none in memory: read when sent (start_transfer). */
    if (row->body && d->body_bytes + row->body_len <= BODY_BUDGET &&
        (p->body = outbox_body_new(row->body, row->body_len)))
        d->body_bytes += row->body_len;
    return p;
}

/* Several nodes: the upper bound of a load is every committed row (each
 * commit waited for its flush); one node: the highest durable one. */
static int64_t load_upto(const dispatcher *d) {
    return d->shared ? INT64_MAX : d->durable_high;
}

/* Loads pending deliveries newer than the last loaded one, in order. */
static void load_new(dispatcher *d) {
    tc_err err;
    for (;;) {
        int n = 0, step;
        store_pending_cursor cur;
        if (store_deliveries_pending_open(d->reader, d->last_loaded_id, load_upto(d), LOAD_BATCH,
                                          &cur, &err) != 0) {
            log_error("msg=\"dispatcher: cannot read the outbox\" error=\"%s\"", err.message);
            return;
        }
        int stuck = 0;
        store_pending_row row;
        while ((step = store_deliveries_pending_next(&cur, &row, &err)) == STORE_ROW) {
            pending *p = pending_from_row(d, &row);
            if (!p) {
                stuck = 1; /* not past it: the next load starts here */
                break;
            }
            int added = add_pending(d, row.integration_id, row.lane, p);
            if (added < 0) {
                pending_free(d, p);
                stuck = 1;
                break;
            }
            if (added > 0)
                pending_free(d, p); /* another node's bucket */
            d->last_loaded_id = row.delivery_id;
            n++;
        }
        store_deliveries_pending_close(&cur);
        if (step < 0)
            log_error("msg=\"dispatcher: reading the outbox failed\" error=\"%s\"", err.message);
        if (stuck || step < 0) {
            /* Loaded up to last_loaded_id; the rest is loaded later. */
            log_error("msg=\"dispatcher: the outbox is loaded in part; retrying\"");
            d->reload_outbox = 1;
            return;
        }
        d->reload_outbox = 0;
        if (n < LOAD_BATCH)
            return;
    }
}

/* ---- several nodes ----------------------------------------------------------- */

/* Rebuilds the heap's order after lanes were taken out of it. */
static void heap_fix(dispatcher *d) {
    for (size_t start = d->nheap / 2; start-- > 0;) {
        size_t i = start;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < d->nheap && due(d->heap[l]) < due(d->heap[m]))
                m = l;
            if (r < d->nheap && due(d->heap[r]) < due(d->heap[m]))
                m = r;
            if (m == i)
                break;
            heap_swap(d, i, m);
            i = m;
        }
    }
}

/* The lanes of buckets no longer served here are let go: their rows stay
 * pending for the bucket's next owner. A lane in flight goes when its
 * attempt lands (settle). */
static void forget_buckets(dispatcher *d, uint64_t lost) {
    size_t kept = 0;
    for (size_t i = 0; i < d->nheap; i++) {
        lane *ln = d->heap[i];
        if (lost & bucket_bit(ln->bucket))
            lane_free(d, ln);
        else
            d->heap[kept++] = ln;
    }
    d->nheap = kept;
    heap_fix(d);
    for (target_state *ts = d->targets; ts; ts = ts->next) {
        lane **pp = &ts->blocked_head, *last = NULL;
        while (*pp) {
            lane *ln = *pp;
            if (lost & bucket_bit(ln->bucket)) {
                *pp = ln->bnext;
                lane_free(d, ln);
            } else {
                last = ln;
                pp = &ln->bnext;
            }
        }
        ts->blocked_tail = last;
    }
    for (transfer *x = d->transfers; x; x = x->next) {
        if (lost & bucket_bit(x->ln->bucket))
            x->ln->forget = 1;
    }
}

/* Buckets just taken up: their pending deliveries up to what is loaded
 * already (later ones come with the next loads), in order. */
static int load_gained(dispatcher *d, uint64_t gained) {
    tc_err err;
    int64_t after = 0;
    for (;;) {
        store_pending_cursor cur;
        if (store_deliveries_pending_open(d->reader, after, d->last_loaded_id, LOAD_BATCH, &cur,
                                          &err) != 0) {
            log_error("msg=\"dispatcher: cannot read the outbox\" error=\"%s\"", err.message);
            return -1;
        }
        int n = 0, step, rc = 0;
        store_pending_row row;
        while ((step = store_deliveries_pending_next(&cur, &row, &err)) == STORE_ROW) {
            after = row.delivery_id;
            n++;
            if (!(gained & bucket_bit(cluster_bucket_of(row.integration_id, row.lane))))
                continue;
            pending *p = pending_from_row(d, &row);
            /* served already includes gained (add_pending checks it). */
            if (!p || add_pending(d, row.integration_id, row.lane, p) != 0) {
                if (p)
                    pending_free(d, p);
                rc = -1;
                break;
            }
        }
        store_deliveries_pending_close(&cur);
        if (rc != 0 || step < 0) {
            log_error("msg=\"dispatcher: a bucket taken over could not be loaded; trying again\"");
            return -1;
        }
        if (n < LOAD_BATCH)
            return 0;
    }
}

/* Follows the cluster's leases: lets go of buckets lost, takes up buckets
 * gained once nothing of theirs is in flight, and says which buckets it
 * has let go of entirely (the cluster gives those back). */
static void cluster_follow(dispatcher *d) {
    cluster_view v;
    cluster_buckets(d->cl, &v);
    uint64_t busy = 0;
    for (int b = 0; b < CLUSTER_BUCKETS; b++) {
        if (d->bucket_inflight[b] > 0)
            busy |= bucket_bit(b);
    }
    uint64_t lost = d->served & ~v.held;
    if (lost) {
        forget_buckets(d, lost);
        d->served &= ~lost;
    }
    uint64_t gained = v.held & ~d->served & ~busy;
    for (int b = 0; b < CLUSTER_BUCKETS; b++) {
        if (v.held & bucket_bit(b))
            d->epoch[b] = v.epoch[b];
    }
    if (gained) {
        d->served |= gained;
        if (load_gained(d, gained) != 0) {
            /* Let go again and taken up at the next turn. */
            forget_buckets(d, gained);
            d->served &= ~gained;
        }
    }
    cluster_buckets_drained(d->cl, ~v.held & ~busy);
}

/* A record of an attempt on this lane: fenced by its bucket's epoch. */
static void record_fence(const dispatcher *d, record *r, const lane *ln, int64_t epoch) {
    r->fenced = d->shared;
    r->bucket = ln->bucket;
    r->epoch = epoch;
}

/* ---- sending ---------------------------------------------------------------- */

/* The event a delivery pushes, when the writer did not hand it over (or
 * its body was let go): its history subject and body, from the store. */
static char *read_event(dispatcher *d, int64_t seq, history_subject *s, tc_err *err) {
    store_event ev;
    if (store_events_by_seq(d->reader, seq, &ev, err) != 0)
        return NULL;
    subject_set_event(s, ev.event_id, ev.event_type, ev.object_kind, ev.object_id, ev.channel_id,
                      ev.event_time);
    char *body = ev.body;
    ev.body = NULL;
    if (!body)
        tc_err_set(err, TC_INVALID_PARAMETER, "event %lld was stored without a body",
                   (long long)seq);
    store_event_clear(&ev);
    return body;
}

/* ---- taking the writer's hand-over --------------------------------------- */

/* A pending delivery for a pushed event the writer handed over. */
static pending *pending_from(dispatcher *d, const outbox_delivery *o) {
    pending *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->delivery_id = o->delivery_id;
    p->event_seq = o->event_seq;
    p->sequence = o->sequence;
    p->next_at = o->created_at;
    p->created_at = o->created_at;
    p->has_event = 1;
    subject_set_event(&p->subj, o->event_id, o->event_type, o->object_kind, o->lane, o->channel_id,
                      o->event_time);
    if (o->body && d->body_bytes + o->body->len <= BODY_BUDGET) {
        p->body = outbox_body_ref(o->body);
        d->body_bytes += o->body->len;
    }
    return p;
}

/* Puts every handed-over push into its lane, in order. Should one not
 * fit (out of memory), the rest of the list is let go and the outbox is
 * loaded from the store from there on: nothing is skipped, nothing is
 * taken twice. */
static void take_handed_over(dispatcher *d) {
    pthread_mutex_lock(&d->in_lock);
    outbox_delivery *list = d->in_head;
    d->in_head = NULL;
    d->in_tail = &d->in_head;
    pthread_mutex_unlock(&d->in_lock);
    if (d->shared) {
        /* Other nodes' pushes may sit between these ids: the store has
         * them all, in order. */
        outbox_deliveries_free(list);
        d->reload_outbox = 1;
        return;
    }
    outbox_delivery *o = list;
    for (; o && !d->reload_outbox; o = o->next) {
        if (o->delivery_id <= d->last_loaded_id)
            continue; /* loaded from the store already */
        pending *p = pending_from(d, o);
        if (!p || add_pending(d, o->integration_id, o->lane, p) != 0) {
            if (p)
                pending_free(d, p);
            log_error("msg=\"dispatcher: out of memory taking new pushes; loading them from the "
                      "store\"");
            d->reload_outbox = 1;
            break;
        }
        d->last_loaded_id = o->delivery_id;
    }
    outbox_deliveries_free(list);
}

static void lane_advance(dispatcher *d, lane *ln, target_state *ts);

/* tocsin_delivery_* (util/metrics.h): one attempt's outcome and, when it
 * ended the delivery (ended: "delivered" or "failed"), the delivery's end
 * with its latency since it was queued: a live event's commit (the fan-out
 * is in the same transaction), or the moment a resend or replay queued an
 * old event, whose own time would say nothing about delivery. */
static void count_attempt(dispatcher *d, int64_t integration_id, outcome_kind outcome,
                          const char *ended, int64_t latency_ms) {
    static const metrics_attempt kinds[] = {
        [OUTCOME_DELIVERED] = METRICS_ATTEMPT_DELIVERED,
        [OUTCOME_RETRY] = METRICS_ATTEMPT_RETRY,
        [OUTCOME_GONE] = METRICS_ATTEMPT_GONE,
        [OUTCOME_FAILED] = METRICS_ATTEMPT_FAILED,
    };
    metrics_delivery_attempt(d->app->m, integration_id, kinds[outcome]);
    if (ended && strcmp(ended, "delivered") == 0)
        metrics_delivery_delivered(d->app->m, integration_id, (double)latency_ms / 1000.0);
    else if (ended)
        metrics_delivery_failed(d->app->m, integration_id);
}

/* Records a delivery that cannot even be attempted (its event or template
 * is broken) as failed, and moves the lane on. */
static void fail_unsendable(dispatcher *d, lane *ln, target_state *ts, history_subject *s,
                            const char *why) {
    pending *p = ln->head;
    record *r = calloc(1, sizeof(*r));
    if (r) {
        push_attempt_init(&r->a);
        r->subj = *s;
        snprintf(r->endpoint, sizeof(r->endpoint), "%s", ts->t.endpoint);
        r->delivery_id = p->delivery_id;
        r->status = "failed";
        r->attempts = p->attempts + 1;
        r->subj.attempt = r->attempts;
        r->a.outcome = OUTCOME_FAILED;
        snprintf(r->a.error, sizeof(r->a.error), "not sent: %.480s", why);
        record_fence(d, r, ln, d->epoch[ln->bucket]);
        record_push(d, r);
    }
    log_warn("msg=\"delivery not sent\" delivery_id=%lld error=\"%s\"", (long long)p->delivery_id,
             why);
    count_attempt(d, ts->t.integration_id, OUTCOME_FAILED, "failed", 0);
    ln->head = p->next;
    if (!ln->head)
        ln->tail = NULL;
    pending_free(d, p);
    lane_advance(d, ln, ts);
}

/* An attempt that could not be prepared for a passing reason (memory, a
 * store read): the lane waits a moment, the delivery is not failed. */
static void retry_later(dispatcher *d, lane *ln, const char *why) {
    log_error("msg=\"dispatcher: an attempt waits\" delivery_id=%lld error=\"%s\"",
              (long long)ln->head->delivery_id, why);
    ln->head->next_at = clock_now_ms() + TRANSIENT_RETRY_MS;
    if (heap_push(d, ln) != 0)
        log_error("msg=\"dispatcher: out of memory; a lane waits for the next start\"");
}

static void start_transfer(dispatcher *d, lane *ln, target_state *ts) {
    pending *p = ln->head;
    transfer *x = calloc(1, sizeof(*x));
    tc_err err;
    history_subject s = p->has_event ? p->subj : (history_subject){0};
    s.integration_id = ts->t.integration_id;
    s.delivery_id = p->delivery_id;
    s.sequence = p->sequence;
    s.attempt = p->attempts + 1;
    if (!x) {
        retry_later(d, ln, "out of memory");
        return;
    }
    char *read = NULL;
    const char *body = p->body ? p->body->text : NULL;
    if (!body && !(body = read = read_event(d, p->event_seq, &s, &err))) {
        free(x);
        if (err.code == TC_INTERNAL)
            retry_later(d, ln, err.message);
        else
            fail_unsendable(d, ln, ts, &s, err.message);
        return;
    }
    CURL *reuse = d->neasy ? d->easy_pool[--d->neasy] : NULL;
    int rc = push_attempt_prepare_reusing(&x->a, reuse, &ts->t, &d->net, s.event_id, p->sequence,
                                          body, clock_now_s(), &err);
    free(read);
    if (rc != 0) {
        free(x);
        /* A template that cannot render fails for good; memory that ran out
         * passes. */
        if (err.code == TC_INTERNAL)
            retry_later(d, ln, err.message);
        else
            fail_unsendable(d, ln, ts, &s, err.message);
        return;
    }
    x->a.body_is_event = !ts->t.body_template;
    /* Sent once: the body is not needed again unless retried, and then it
     * is read from the store. */
    pending_drop_body(d, p);
    x->ln = ln;
    x->ts = ts;
    x->subj = s;
    x->epoch = d->epoch[ln->bucket];
    if (curl_multi_add_handle(d->multi, x->a.easy) != CURLM_OK) {
        push_attempt_clear(&x->a);
        free(x);
        retry_later(d, ln, "libcurl refused the transfer");
        return;
    }
    x->next = d->transfers;
    if (d->transfers)
        d->transfers->prev = x;
    d->transfers = x;
    ln->in_flight = 1;
    ts->in_flight++;
    d->in_flight++;
    d->bucket_inflight[ln->bucket]++;
}

/* Keeps an easy handle for the next attempt (its connection stays in the
 * multi handle's cache either way; reusing the handle saves building one). */
static void easy_release(dispatcher *d, CURL *easy) {
    if (d->neasy < EASY_POOL)
        d->easy_pool[d->neasy++] = easy;
    else
        curl_easy_cleanup(easy);
}

static void transfer_unlink(dispatcher *d, transfer *x) {
    if (x->prev)
        x->prev->next = x->next;
    else
        d->transfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
}

/* A lane whose integration is gone: its deliveries end as failed. */
static void drop_lane(dispatcher *d, lane *ln) {
    for (pending *p = ln->head; p; p = p->next) {
        record *r = calloc(1, sizeof(*r));
        if (!r)
            break;
        push_attempt_init(&r->a);
        r->no_history = 1;
        r->delivery_id = p->delivery_id;
        r->status = "failed";
        r->attempts = p->attempts;
        r->next_at = p->next_at;
        r->first_failed_at = p->first_failed_at;
        snprintf(r->a.error, sizeof(r->a.error), "not sent: the integration was deleted");
        record_fence(d, r, ln, d->epoch[ln->bucket]);
        record_push(d, r);
    }
    lane_free(d, ln);
}

/* Starts every lane that is due, as far as the limits allow. */
static void start_due(dispatcher *d) {
    /* Leases not renewed lately may already be another node's: nothing
     * starts until the lease thread renews them (or lets them go). */
    if (d->shared && !cluster_healthy(d->cl))
        return;
    int64_t now = clock_now_ms();
    int reloaded = 0;
    while (d->nheap > 0 && due(d->heap[0]) <= now && d->in_flight < DISPATCHER_MAX_IN_FLIGHT) {
        lane *ln = heap_pop(d);
        target_state *ts = target_find(d, ln->integration_id);
        if (!ts && !reloaded) {
            /* Deliveries can reach the outbox before the reload that an
             * integration's creation asks for: look again before deciding
             * it is gone. */
            targets_reload(d);
            reloaded = 1;
            ts = target_find(d, ln->integration_id);
        }
        if (!ts && d->targets_incomplete) {
            retry_later(d, ln, "its integration could not be read");
            continue;
        }
        if (!ts) {
            drop_lane(d, ln);
            continue;
        }
        if (!target_open(ts) || ts->in_flight >= per_target(d)) {
            block(ts, ln);
            continue;
        }
        start_transfer(d, ln, ts);
    }
}

/* After the head of a lane changed: where the lane goes next. */
static void lane_advance(dispatcher *d, lane *ln, target_state *ts) {
    if (!ln->head) {
        lane_free(d, ln);
        return;
    }
    if (!target_open(ts))
        block(ts, ln);
    else if (heap_push(d, ln) != 0)
        log_error("msg=\"dispatcher: out of memory; a lane waits for the next start\"");
}

static void disable_target(target_state *ts, record *r, const char *why) {
    ts->disabled_here = 1;
    snprintf(r->disable_reason, sizeof(r->disable_reason), "%s", why);
    log_warn("msg=\"integration disabled\" integration_id=%lld reason=\"%s\"",
             (long long)ts->t.integration_id, why);
}

/* Applies one finished attempt to its lane and queues its record. */
static void settle(dispatcher *d, transfer *x, int64_t now) {
    lane *ln = x->ln;
    target_state *ts = x->ts;
    pending *p = ln->head;
    push_attempt *a = &x->a;
    record *r = calloc(1, sizeof(*r));
    p->attempts++;
    int done = 0;
    const char *status = "pending";
    char why[300] = "";
    int by_streak = 0;
    int64_t failing_before = ts->failing_since_ms;
    if (a->outcome != OUTCOME_DELIVERED && p->first_failed_at == 0)
        p->first_failed_at = now;
    switch (a->outcome) {
    case OUTCOME_DELIVERED:
        ts->failing_since_ms = 0;
        status = "delivered";
        done = 1;
        break;
    case OUTCOME_FAILED:
        status = "failed";
        done = 1;
        break;
    case OUTCOME_GONE:
        /* Kept pending: it goes out when the integration is enabled again. */
        p->next_at = now;
        snprintf(why, sizeof(why), "the endpoint answered 410 Gone");
        break;
    case OUTCOME_RETRY: {
        double r01 = erand48(d->rand_state);
        int64_t delay = retry_delay_ms(&ts->t.retry, p->attempts, a->retry_after_s, r01);
        if (delay < 0) {
            status = "failed";
            done = 1;
            size_t len = strlen(a->error);
            snprintf(a->error + len, sizeof(a->error) - len, " (gave up after %d attempts)",
                     p->attempts);
        } else {
            p->next_at = now + delay;
        }
        break;
    }
    }
    if (a->outcome != OUTCOME_DELIVERED) {
        if (ts->failing_since_ms == 0)
            ts->failing_since_ms = now;
        else if (!why[0] && now - ts->failing_since_ms >= FAILING_DISABLE_MS) {
            snprintf(why, sizeof(why), "every attempt failed for 24 hours");
            by_streak = 1;
        }
    }
    count_attempt(d, ts->t.integration_id, a->outcome, done ? status : NULL, now - p->created_at);
    if (r) {
        r->subj = x->subj;
        snprintf(r->endpoint, sizeof(r->endpoint), "%s", ts->t.endpoint);
        r->delivery_id = p->delivery_id;
        r->status = status;
        r->attempts = p->attempts;
        r->next_at = p->next_at;
        r->first_failed_at = p->first_failed_at;
        r->streak_changed = ts->failing_since_ms != failing_before;
        r->failing_since = ts->failing_since_ms;
        record_fence(d, r, ln, x->epoch);
        r->disable_by_streak = by_streak;
        if (why[0])
            disable_target(ts, r, why);
        curl_multi_remove_handle(d->multi, a->easy);
        easy_release(d, a->easy);
        a->easy = NULL;
        r->a = *a; /* the record takes the attempt's buffers */
        record_push(d, r);
    } else {
        curl_multi_remove_handle(d->multi, a->easy);
        push_attempt_clear(a);
        log_error("msg=\"dispatcher: out of memory; an outcome is not recorded\"");
    }
    transfer_unlink(d, x);
    free(x);
    ln->in_flight = 0;
    ts->in_flight--;
    d->in_flight--;
    d->bucket_inflight[ln->bucket]--;
    if (done) {
        ln->head = p->next;
        if (!ln->head)
            ln->tail = NULL;
        pending_free(d, p);
    }
    if (ln->forget)
        lane_free(d, ln); /* its bucket went: the next owner has its rows */
    else
        lane_advance(d, ln, ts);
    if (target_open(ts))
        unblock(d, ts, 1);
}

static void collect_done(dispatcher *d) {
    CURLMsg *msg;
    int left;
    int64_t now = clock_now_ms();
    while ((msg = curl_multi_info_read(d->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        transfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        push_attempt_finish(&x->a, msg->data.result, now / 1000);
        char quoted[sizeof(x->a.error)];
        log_info("msg=attempt integration_id=%lld delivery_id=%lld event_id=%s event_type=%s "
                 "sequence=%lld attempt=%d status=%ld duration_ms=%lld outcome=%s error=\"%s\"",
                 (long long)x->subj.integration_id, (long long)x->subj.delivery_id,
                 x->subj.event_id, x->subj.event_type, (long long)x->subj.sequence, x->subj.attempt,
                 x->a.status, (long long)x->a.duration_ms,
                 x->a.outcome == OUTCOME_DELIVERED ? "delivered" : "failed",
                 log_quote(x->a.error, quoted, sizeof(quoted)));
        settle(d, x, now);
    }
}

static int poll_timeout(dispatcher *d) {
    int64_t now = clock_now_ms();
    int64_t wait = d->nheap == 0 ? IDLE_POLL_MS : due(d->heap[0]) - now;
    if (d->shared && d->next_poll_ms - now < wait)
        wait = d->next_poll_ms - now;
    if (wait < 0)
        return 0;
    return wait > IDLE_POLL_MS ? IDLE_POLL_MS : (int)wait;
}

/* Several nodes: what the other nodes wrote is read on a short timer. */
static void shared_poll(dispatcher *d) {
    int64_t now = clock_now_ms();
    if (now >= d->next_targets_ms) {
        d->reload = 1;
        d->next_targets_ms = now + SHARED_TARGETS_MS;
    }
    if (now >= d->next_poll_ms) {
        d->reload_outbox = 1;
        d->next_poll_ms = now + SHARED_POLL_MS;
    }
    cluster_follow(d);
}

static void *dispatcher_main(void *arg) {
    dispatcher *d = arg;
    pthread_setname_np(pthread_self(), "tocsin-deliver");
    while (!d->stop) {
        if (d->shared)
            shared_poll(d);
        if (atomic_exchange(&d->reload, 0))
            targets_reload(d);
        if (atomic_exchange(&d->wake, 0))
            take_handed_over(d);
        if (d->reload_outbox)
            load_new(d);
        start_due(d);
        int running = 0;
        curl_multi_perform(d->multi, &running);
        collect_done(d);
        curl_multi_poll(d->multi, NULL, 0, poll_timeout(d), NULL);
        curl_multi_perform(d->multi, &running);
        collect_done(d);
    }
    return NULL;
}

/* ---- life cycle ------------------------------------------------------------ */

int dispatcher_new(tc_app *app, const push_network *net, dispatcher **out, tc_err *err) {
    dispatcher *d = calloc(1, sizeof(*d));
    if (!d)
        return tc_err_set(err, TC_INTERNAL, "dispatcher: out of memory");
    d->app = app;
    d->net = *net;
    d->cl = app->cluster;
    d->shared = d->cl && cluster_is_shared(d->cl);
    pthread_mutex_init(&d->rec_lock, NULL);
    pthread_cond_init(&d->rec_wake, NULL);
    pthread_mutex_init(&d->in_lock, NULL);
    d->in_tail = &d->in_head;
    /* libcurl's default connection cache is 4 per easy handle added at
     * the moment, so it shrinks whenever the backlog does and keep-alive
     * connections get closed and opened again (measured: one close per
     * ~130 deliveries in a drain). Keep as many as can be in flight. */
    if (RAND_bytes((unsigned char *)d->rand_state, sizeof(d->rand_state)) != 1 ||
        !(d->multi = curl_multi_init()) ||
        curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, (long)DISPATCHER_MAX_CONNECTIONS) !=
            CURLM_OK) {
        dispatcher_free(d);
        return tc_err_set(err, TC_INTERNAL, "dispatcher: cannot start libcurl");
    }
    d->reader = store_reader_acquire(app->st);
    /* Everything in the file at start is durable (the writer syncs
     * migrations; anything recovered from a crash was committed); later
     * rows arrive through dispatcher_wake. */
    int64_t high = 0;
    if (store_deliveries_max_id(d->reader, &high, err) != 0) {
        dispatcher_free(d);
        return -1;
    }
    d->durable_high = high;
    targets_reload(d);
    if (d->shared)
        cluster_follow(d); /* the buckets held now; loaded below */
    load_new(d);
    if (pthread_create(&d->recorder, NULL, recorder_main, d) != 0) {
        dispatcher_free(d);
        return tc_err_set(err, TC_INTERNAL, "dispatcher: cannot start the recorder thread");
    }
    d->recorder_running = 1;
    if (pthread_create(&d->thread, NULL, dispatcher_main, d) != 0) {
        dispatcher_free(d);
        return tc_err_set(err, TC_INTERNAL, "dispatcher: cannot start its thread");
    }
    d->thread_running = 1;
    *out = d;
    return 0;
}

void dispatcher_free(dispatcher *d) {
    if (!d)
        return;
    if (d->thread_running) {
        d->stop = 1;
        curl_multi_wakeup(d->multi);
        pthread_join(d->thread, NULL);
    }
    /* Transfers still in flight are abandoned: their rows stay pending. */
    while (d->transfers) {
        transfer *x = d->transfers;
        d->transfers = x->next;
        curl_multi_remove_handle(d->multi, x->a.easy);
        push_attempt_clear(&x->a);
        free(x);
    }
    for (lane **b = d->buckets; b < d->buckets + LANE_BUCKETS; b++) {
        while (*b)
            lane_free(d, *b);
    }
    if (d->recorder_running) {
        pthread_mutex_lock(&d->rec_lock);
        d->rec_stop = 1;
        pthread_cond_signal(&d->rec_wake);
        pthread_mutex_unlock(&d->rec_lock);
        pthread_join(d->recorder, NULL);
    }
    for (target_state *ts = d->targets, *next; ts; ts = next) {
        next = ts->next;
        push_target_clear(&ts->t);
        free(ts);
    }
    if (d->reader)
        store_reader_release(d->app->st, d->reader);
    outbox_deliveries_free(d->in_head);
    while (d->neasy > 0)
        curl_easy_cleanup(d->easy_pool[--d->neasy]);
    if (d->multi)
        curl_multi_cleanup(d->multi);
    free(d->heap);
    pthread_mutex_destroy(&d->in_lock);
    pthread_mutex_destroy(&d->rec_lock);
    pthread_cond_destroy(&d->rec_wake);
    free(d);
}

void dispatcher_wake(void *arg, int64_t outbox_high, outbox_delivery *deliveries) {
    dispatcher *d = arg;
    int64_t cur = d->durable_high;
    while (outbox_high > cur &&
           !atomic_compare_exchange_weak(&d->durable_high, &cur, outbox_high)) {
    }
    if (deliveries) {
        outbox_delivery *last = deliveries;
        while (last->next)
            last = last->next;
        pthread_mutex_lock(&d->in_lock);
        *d->in_tail = deliveries;
        d->in_tail = &last->next;
        pthread_mutex_unlock(&d->in_lock);
    }
    d->wake = 1;
    curl_multi_wakeup(d->multi);
}

void dispatcher_reload(dispatcher *d) {
    d->reload = 1;
    curl_multi_wakeup(d->multi);
}

const push_network *dispatcher_network(dispatcher *d) {
    return &d->net;
}
