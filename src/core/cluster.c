/* cluster.c: see cluster.h. */
#include "core/cluster.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/cluster.h"
#include "util/clock.h"
#include "util/log.h"

struct cluster {
    store *st;
    char node_id[128];
    int shared;
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    int leases_ready; /* the lease rows exist */
    int64_t started_at;
    /* Under lock. */
    uint64_t held;    /* buckets the dispatcher may serve */
    uint64_t leaving; /* given up: not served, given back once drained */
    uint64_t drained; /* of leaving: nothing in flight any more */
    int64_t epoch[CLUSTER_BUCKETS];
    int timers_held;
    int64_t timers_epoch;
    int64_t generation;
    int64_t last_renew_mono; /* when the last good renewal started */
    void (*wake_fn)(void *arg);
    void *wake_arg;
};

static uint64_t bit(int b) {
    return (uint64_t)1 << b;
}

int cluster_bucket_of(int64_t integration_id, const char *lane) {
    /* FNV-1a over the integration and the lane: a lane never moves, and
     * lanes spread evenly over the buckets. */
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 8; i++) {
        h ^= (uint64_t)((integration_id >> (8 * i)) & 0xff);
        h *= 1099511628211ull;
    }
    for (const char *p = lane; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ull;
    }
    return (int)(h % CLUSTER_BUCKETS);
}

static int bucket_of_name(const char *name) {
    if (strncmp(name, "bucket:", 7) != 0)
        return -1;
    int b = atoi(name + 7);
    return b >= 0 && b < CLUSTER_BUCKETS ? b : -1;
}

/* ---- one round of the lease thread ---------------------------------------- */

typedef struct {
    uint64_t held;
    int64_t epoch[CLUSTER_BUCKETS];
    int timers;
    int64_t timers_epoch;
} lease_set;

/* The leases this node still holds, renewed. */
static int renew(cluster *c, store_conn *conn, lease_set *out, tc_err *err) {
    store_lease held[CLUSTER_BUCKETS + 1];
    int n = 0;
    memset(out, 0, sizeof(*out));
    if (store_cluster_leases_renew(conn, c->node_id, CLUSTER_LEASE_TTL_MS, held,
                                   CLUSTER_BUCKETS + 1, &n, err) != 0)
        return -1;
    for (int i = 0; i < n; i++) {
        int b = bucket_of_name(held[i].name);
        if (b >= 0) {
            out->held |= bit(b);
            out->epoch[b] = held[i].epoch;
        } else if (strcmp(held[i].name, "timers") == 0) {
            out->timers = 1;
            out->timers_epoch = held[i].epoch;
        }
    }
    return 0;
}

static int popcount(uint64_t v) {
    return __builtin_popcountll(v);
}

/* Takes free or expired buckets until the node holds `want`, starting at
 * a place of its own so that nodes starting together do not all race for
 * bucket 0. */
static int take_buckets(cluster *c, store_conn *conn, lease_set *s, int want, tc_err *err) {
    int start = cluster_bucket_of(0, c->node_id);
    for (int i = 0; i < CLUSTER_BUCKETS && popcount(s->held) < want; i++) {
        int b = (start + i) % CLUSTER_BUCKETS;
        if (s->held & bit(b))
            continue;
        char name[32];
        snprintf(name, sizeof(name), "bucket:%d", b);
        store_lease l;
        int taken = store_cluster_lease_take(conn, name, c->node_id, CLUSTER_LEASE_TTL_MS, &l, err);
        if (taken < 0)
            return -1;
        if (taken) {
            s->held |= bit(b);
            s->epoch[b] = l.epoch;
        }
    }
    return 0;
}

static void publish(cluster *c, const lease_set *s, uint64_t leaving, int64_t renew_started) {
    pthread_mutex_lock(&c->lock);
    int changed = c->held != s->held || c->leaving != leaving || c->timers_held != s->timers ||
                  c->timers_epoch != s->timers_epoch;
    for (int b = 0; b < CLUSTER_BUCKETS && !changed; b++)
        changed = (s->held & bit(b)) && c->epoch[b] != s->epoch[b];
    c->held = s->held;
    c->leaving = leaving;
    c->drained &= leaving;
    memcpy(c->epoch, s->epoch, sizeof(c->epoch));
    c->timers_held = s->timers;
    c->timers_epoch = s->timers_epoch;
    c->last_renew_mono = renew_started;
    if (changed)
        c->generation++;
    void (*fn)(void *) = c->wake_fn;
    void *arg = c->wake_arg;
    pthread_mutex_unlock(&c->lock);
    if (changed && fn)
        fn(arg);
}

/* Stops using every lease: the renewals failed for too long, the database
 * may already give them to others. */
static void fence_self(cluster *c) {
    pthread_mutex_lock(&c->lock);
    int changed = c->held || c->leaving || c->timers_held;
    c->held = c->leaving = c->drained = 0;
    c->timers_held = 0;
    if (changed)
        c->generation++;
    void (*fn)(void *) = c->wake_fn;
    void *arg = c->wake_arg;
    pthread_mutex_unlock(&c->lock);
    if (changed) {
        log_error("msg=\"cluster: leases not renewed in time; this node stops delivering until "
                  "it renews them\"");
        if (fn)
            fn(arg);
    }
}

static int round_once(cluster *c, store_conn *conn, tc_err *err) {
    int64_t renew_started = clock_mono_ms();
    if (!c->leases_ready) {
        if (store_cluster_leases_ensure(conn, CLUSTER_BUCKETS, err) != 0)
            return -1;
        c->leases_ready = 1;
    }
    lease_set s;
    int64_t live = 1;
    if (store_cluster_heartbeat(conn, c->node_id, c->started_at, err) != 0 ||
        renew(c, conn, &s, err) != 0 ||
        store_cluster_live_nodes(conn, CLUSTER_ALIVE_MS, &live, err))
        return -1;
    pthread_mutex_lock(&c->lock);
    uint64_t leaving = c->leaving & s.held, drained = c->drained & leaving;
    pthread_mutex_unlock(&c->lock);
    /* Given back: the leaving buckets the dispatcher has drained. */
    for (int b = 0; b < CLUSTER_BUCKETS; b++) {
        if (!(drained & bit(b)))
            continue;
        char name[32];
        snprintf(name, sizeof(name), "bucket:%d", b);
        if (store_cluster_lease_release(conn, name, c->node_id, err) != 0)
            return -1;
        s.held &= ~bit(b);
        leaving &= ~bit(b);
    }
    s.held &= ~leaving; /* served by nobody until given back */
    int fair = (int)((CLUSTER_BUCKETS + (live > 0 ? live : 1) - 1) / (live > 0 ? live : 1));
    int have = popcount(s.held) + popcount(leaving);
    if (have < fair && take_buckets(c, conn, &s, fair - popcount(leaving), err) != 0)
        return -1;
    /* Beyond the fair share: leave the highest buckets (any will do). */
    for (int b = CLUSTER_BUCKETS - 1; b >= 0 && popcount(s.held) > fair; b--) {
        if (s.held & bit(b)) {
            s.held &= ~bit(b);
            leaving |= bit(b);
        }
    }
    if (!s.timers) {
        store_lease l;
        int taken =
            store_cluster_lease_take(conn, "timers", c->node_id, CLUSTER_LEASE_TTL_MS, &l, err);
        if (taken < 0)
            return -1;
        if (taken) {
            s.timers = 1;
            s.timers_epoch = l.epoch;
        }
    }
    publish(c, &s, leaving, renew_started);
    return 0;
}

static void *lease_main(void *arg) {
    cluster *c = arg;
    pthread_setname_np(pthread_self(), "tocsin-lease");
    int failing = 0;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        pthread_mutex_unlock(&c->lock);
        store_conn *conn = store_reader_acquire(c->st);
        tc_err err;
        int rc = round_once(c, conn, &err);
        store_reader_release(c->st, conn);
        if (rc != 0) {
            if (!failing)
                log_error("msg=\"cluster: cannot renew leases\" error=\"%s\"", err.message);
            failing = 1;
            pthread_mutex_lock(&c->lock);
            int64_t since = clock_mono_ms() - c->last_renew_mono;
            pthread_mutex_unlock(&c->lock);
            if (since > CLUSTER_SELF_FENCE_MS)
                fence_self(c);
        } else if (failing) {
            log_info("msg=\"cluster: leases renewed again\"");
            failing = 0;
        }
        pthread_mutex_lock(&c->lock);
        if (c->stop)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += CLUSTER_RENEW_MS / 1000;
        ts.tv_nsec += (long)(CLUSTER_RENEW_MS % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->wake, &c->lock, &ts);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* ---- life cycle ----------------------------------------------------------------- */

int cluster_new(store *st, const char *node_id, cluster **out, tc_err *err) {
    cluster *c = calloc(1, sizeof(*c));
    if (!c)
        return tc_err_oom(err, "the cluster's leases");
    c->st = st;
    snprintf(c->node_id, sizeof(c->node_id), "%s", node_id ? node_id : "");
    c->shared = store_kind(st) == STORE_ENGINE_POSTGRES;
    c->started_at = clock_now_ms();
    c->last_renew_mono = clock_mono_ms();
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (!c->shared) {
        c->held = ~(uint64_t)0;
        c->timers_held = 1;
        *out = c;
        return 0;
    }
    /* The first round before anything serves, so that a node that starts
     * alone delivers at once. */
    store_conn *conn = store_reader_acquire(st);
    int rc = round_once(c, conn, err);
    store_reader_release(st, conn);
    if (rc != 0 || pthread_create(&c->thread, NULL, lease_main, c) != 0) {
        if (rc == 0)
            tc_err_set(err, TC_INTERNAL, "cluster: cannot start the lease thread");
        cluster_free(c);
        return -1;
    }
    c->started = 1;
    *out = c;
    return 0;
}

void cluster_free(cluster *c) {
    if (!c)
        return;
    if (c->started) {
        pthread_mutex_lock(&c->lock);
        c->stop = 1;
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
        /* Given back at once, so that another node takes over now rather
         * than when they expire. Anything still in flight was abandoned
         * by the dispatcher (stopped before this): its rows stay pending
         * and the next owner sends them. */
        store_conn *conn = store_reader_acquire(c->st);
        for (int b = 0; b < CLUSTER_BUCKETS; b++) {
            if ((c->held | c->leaving) & bit(b)) {
                char name[32];
                snprintf(name, sizeof(name), "bucket:%d", b);
                tc_err ignored;
                store_cluster_lease_release(conn, name, c->node_id, &ignored);
            }
        }
        if (c->timers_held) {
            tc_err ignored;
            store_cluster_lease_release(conn, "timers", c->node_id, &ignored);
        }
        store_reader_release(c->st, conn);
    }
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    free(c);
}

/* ---- reading the view ----------------------------------------------------------- */

int cluster_is_shared(const cluster *c) {
    return c->shared;
}

const char *cluster_node_id(const cluster *c) {
    return c->node_id;
}

void cluster_buckets(cluster *c, cluster_view *out) {
    pthread_mutex_lock(&c->lock);
    out->held = c->held;
    memcpy(out->epoch, c->epoch, sizeof(out->epoch));
    out->generation = c->generation;
    pthread_mutex_unlock(&c->lock);
}

int64_t cluster_generation(cluster *c) {
    pthread_mutex_lock(&c->lock);
    int64_t g = c->generation;
    pthread_mutex_unlock(&c->lock);
    return g;
}

void cluster_buckets_drained(cluster *c, uint64_t buckets) {
    pthread_mutex_lock(&c->lock);
    c->drained |= buckets & c->leaving;
    pthread_mutex_unlock(&c->lock);
}

void cluster_set_wake(cluster *c, void (*fn)(void *arg), void *arg) {
    pthread_mutex_lock(&c->lock);
    c->wake_fn = fn;
    c->wake_arg = arg;
    pthread_mutex_unlock(&c->lock);
}

int cluster_timers_held(cluster *c, int64_t *epoch) {
    pthread_mutex_lock(&c->lock);
    int held = c->timers_held;
    if (epoch)
        *epoch = c->timers_epoch;
    pthread_mutex_unlock(&c->lock);
    return held;
}

int cluster_healthy(cluster *c) {
    if (!c->shared)
        return 1;
    pthread_mutex_lock(&c->lock);
    int64_t since = clock_mono_ms() - c->last_renew_mono;
    pthread_mutex_unlock(&c->lock);
    return since <= CLUSTER_SELF_FENCE_MS;
}

int cluster_buckets_held_count(cluster *c) {
    pthread_mutex_lock(&c->lock);
    int n = popcount(c->held);
    pthread_mutex_unlock(&c->lock);
    return n;
}
