/* cluster.h: several nodes on one PostgreSQL database: leases.
 *
 * Lanes are spread over CLUSTER_BUCKETS buckets by a hash of (integration,
 * lane); each bucket is leased to one node at a time, and only that node's
 * dispatcher sends the bucket's pushes, in lane order. The timers (snooze
 * expiry, pruning, replay pacing) run only on the node holding the
 * `timers` lease. A lease lasts CLUSTER_LEASE_TTL_MS from its last renewal,
 * by the database's clock; its epoch grows at every change of owner and
 * fences work done under a lease lost meanwhile (the writer checks it in
 * the transaction that records the work).
 *
 * The tocsin-lease thread renews what this node holds every
 * CLUSTER_RENEW_MS, says the node is alive, and takes free or expired
 * leases up to its fair share (buckets / live nodes, rounded up), giving
 * back what it holds beyond that share once its dispatcher has nothing in
 * flight there. A node that cannot renew stops using its leases before they
 * can expire in the database (CLUSTER_SELF_FENCE_MS after its last good
 * renewal), so two nodes never serve a bucket at once while the database
 * works; a node that died is replaced within CLUSTER_LEASE_TTL_MS plus one
 * renewal period.
 *
 * On SQLite there is one node: cluster_new gives a cluster that holds
 * every bucket and the timers, with no thread and no store traffic. */
#ifndef TOCSIN_CLUSTER_H
#define TOCSIN_CLUSTER_H

#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

#define CLUSTER_BUCKETS 64
#define CLUSTER_LEASE_TTL_MS 6000
#define CLUSTER_RENEW_MS 1000
#define CLUSTER_SELF_FENCE_MS 4500
/* A node not seen for this long counts as gone for fair shares. */
#define CLUSTER_ALIVE_MS 6000

typedef struct cluster cluster;

/* Starts the lease thread on PostgreSQL. node_id is copied. */
int cluster_new(store *st, const char *node_id, cluster **out, tc_err *err);
void cluster_free(cluster *c);

int cluster_is_shared(const cluster *c); /* 1 on PostgreSQL */
const char *cluster_node_id(const cluster *c);

/* The bucket of a lane. */
int cluster_bucket_of(int64_t integration_id, const char *lane);

/* What this node may serve now: a bit per bucket, and each held bucket's
 * epoch. generation grows at every change, so the dispatcher knows when to
 * look again. */
typedef struct {
    uint64_t held;
    int64_t epoch[CLUSTER_BUCKETS];
    int64_t generation;
} cluster_view;
void cluster_buckets(cluster *c, cluster_view *out);
int64_t cluster_generation(cluster *c);
/* The dispatcher has nothing in flight in these buckets any more (the
 * ones the cluster asked it to leave): they can be given back. */
void cluster_buckets_drained(cluster *c, uint64_t buckets);
/* Called (from the lease thread) when the view changes; set before start. */
void cluster_set_wake(cluster *c, void (*fn)(void *arg), void *arg);

/* Whether this node runs the timers now, and under which epoch. */
int cluster_timers_held(cluster *c, int64_t *epoch);

/* For /healthz and /metrics: the last renewal worked recently. */
int cluster_healthy(cluster *c);
/* Buckets held by this node now. */
int cluster_buckets_held_count(cluster *c);

#endif
