/* store/cluster.h: the tables several nodes share on PostgreSQL.
 *
 * cluster_changes: what each writer batch changed, so that other nodes can
 * bring their writer caches up to date (core/writer.c); cluster_nodes and
 * cluster_leases: who is alive and who serves which lanes and the timers
 * (core/cluster.c). Times of leases are the database's clock, so that
 * nodes whose clocks disagree still agree on who holds what. PostgreSQL
 * only: on SQLite there is one node and none of this exists. */
#ifndef TOCSIN_STORE_CLUSTER_H
#define TOCSIN_STORE_CLUSTER_H

#include "store/store.h"

/* The changes of batches after_seq+1 .. upto_seq, oldest first, at most
 * max of them: *out (store_changes_free) and *n, each with its record;
 * *more when there were more than max. */
int store_cluster_changes(store_conn *c, int64_t after_seq, int64_t upto_seq, size_t max,
                          store_change **out, size_t *n, int *more, tc_err *err);
/* Deletes changes older than keep_ms (by the database's clock) and records
 * the highest clock deleted as the clock row's pruned_seq. Runs inside a
 * writer batch (the clock row is locked by it). */
int store_cluster_changes_prune(store_conn *c, int64_t keep_ms, tc_err *err);

/* ---- nodes and leases ----------------------------------------------------------------- */

typedef struct {
    char name[32];   /* 'bucket:N' or 'timers' */
    int64_t epoch;   /* +1 at every change of owner */
    int64_t expires; /* ms, the database's clock */
} store_lease;

/* Says the node is alive (upsert of its row). */
int store_cluster_heartbeat(store_conn *c, const char *node_id, int64_t started_at, tc_err *err);
/* Nodes seen within alive_ms. */
int store_cluster_live_nodes(store_conn *c, int64_t alive_ms, int64_t *count, tc_err *err);
/* Creates the lease rows that do not exist yet (names: bucket:0..nbuckets-1, timers). */
int store_cluster_leases_ensure(store_conn *c, int nbuckets, tc_err *err);
/* Renews every lease node holds until now + ttl_ms; fills held (up to max)
 * with what it still holds. */
int store_cluster_leases_renew(store_conn *c, const char *node_id, int64_t ttl_ms,
                               store_lease *held, int max, int *n, tc_err *err);
/* Takes one lease that is free or expired (or this node's own), for
 * ttl_ms; 1 taken (lease filled), 0 not (someone else holds it). */
int store_cluster_lease_take(store_conn *c, const char *name, const char *node_id, int64_t ttl_ms,
                             store_lease *lease, tc_err *err);
/* Gives a lease back (it expires at once). */
int store_cluster_lease_release(store_conn *c, const char *name, const char *node_id, tc_err *err);
/* The number of leases each node holds, for /metrics: calls fn per node. */
int store_cluster_lease_counts(store_conn *c, int (*fn)(void *arg, const char *node_id, int64_t n),
                               void *arg, tc_err *err);
/* Inside a writer batch: whether node holds the lease `name` with this
 * epoch and it has not expired (fencing: work done under a lease lost
 * meanwhile is not recorded as the lease's). */
int store_cluster_lease_held(store_conn *c, const char *name, const char *node_id, int64_t epoch,
                             int *held, tc_err *err);

#endif
