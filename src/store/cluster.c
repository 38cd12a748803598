/* store/cluster.c: see store/cluster.h. */
#include "store/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The database's clock in ms: leases are judged by one clock, the
 * server's, never by each node's own. */
#define DB_NOW_MS "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"

int store_cluster_changes(store_conn *c, int64_t after_seq, int64_t upto_seq, size_t max,
                          store_change **out, size_t *n, int *more, tc_err *err) {
    *out = NULL;
    *n = 0;
    *more = 0;
    store_stmt *q = store_prepare(
        c, "SELECT changes FROM cluster_changes WHERE seq > ? AND seq <= ? ORDER BY seq", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, after_seq);
    store_bind_int64(q, 2, upto_seq);
    store_change *list = NULL;
    size_t count = 0, cap = 0;
    int step, rc = 0;
    while (rc == 0 && !*more && (step = store_step(q, err)) == STORE_ROW) {
        for (const char *p = store_col_text(q, 0); *p && rc == 0;) {
            size_t len = strcspn(p, "\n");
            if (count == max) {
                *more = 1;
                break;
            }
            if (count == cap) {
                size_t grown_cap = cap ? cap * 2 : 64;
                store_change *grown = realloc(list, grown_cap * sizeof(*grown));
                if (!grown) {
                    rc = tc_err_oom(err, "another node's changes");
                    break;
                }
                list = grown;
                cap = grown_cap;
            }
            store_change *c = &list[count];
            memset(c, 0, sizeof(*c));
            c->kind = p[0];
            size_t id_len = len > 0 ? strcspn(p + 1, "\t\n") : 0;
            snprintf(c->id, sizeof(c->id), "%.*s", (int)id_len, p + 1);
            if (!(c->record = strndup(p, len))) {
                rc = tc_err_oom(err, "another node's changes");
                break;
            }
            count++;
            p += len;
            if (*p == '\n')
                p++;
        }
    }
    store_stmt_done(q);
    if (rc != 0 || step < 0) {
        store_changes_free(list, count);
        return -1;
    }
    *out = list;
    *n = count;
    return 0;
}

int store_cluster_changes_prune(store_conn *c, int64_t keep_ms, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "WITH gone AS (DELETE FROM cluster_changes WHERE created_at < " DB_NOW_MS " - ?"
        " RETURNING seq)"
        " UPDATE cluster_clock SET pruned_seq = GREATEST(pruned_seq,"
        " (SELECT COALESCE(MAX(seq), 0) FROM gone)) WHERE id = 1",
        err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, keep_ms);
    return store_run(st, err);
}

int store_cluster_heartbeat(store_conn *c, const char *node_id, int64_t started_at, tc_err *err) {
    store_stmt *st =
        store_prepare(c,
                      "INSERT INTO cluster_nodes(node_id, started_at, seen_at)"
                      " VALUES(?, ?, " DB_NOW_MS ") ON CONFLICT (node_id) DO UPDATE"
                      " SET started_at = excluded.started_at, seen_at = excluded.seen_at",
                      err);
    if (!st)
        return -1;
    store_bind_text(st, 1, node_id);
    store_bind_int64(st, 2, started_at);
    return store_run(st, err);
}

int store_cluster_live_nodes(store_conn *c, int64_t alive_ms, int64_t *count, tc_err *err) {
    store_stmt *q = store_prepare(
        c, "SELECT COUNT(*) FROM cluster_nodes WHERE seen_at > " DB_NOW_MS " - ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, alive_ms);
    int step = store_step(q, err);
    if (step == STORE_ROW)
        *count = store_col_int64(q, 0);
    store_stmt_done(q);
    return step == STORE_ROW ? 0 : -1;
}

int store_cluster_leases_ensure(store_conn *c, int nbuckets, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "INSERT INTO cluster_leases(name) SELECT 'bucket:' ||"
                                   " CAST(g AS TEXT) FROM generate_series(0, ?) AS g"
                                   " UNION ALL SELECT 'timers' ON CONFLICT (name) DO NOTHING",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, nbuckets - 1);
    return store_run(st, err);
}

static void read_lease(store_stmt *q, store_lease *l) {
    snprintf(l->name, sizeof(l->name), "%s", store_col_text(q, 0));
    l->epoch = store_col_int64(q, 1);
    l->expires = store_col_int64(q, 2);
}

int store_cluster_leases_renew(store_conn *c, const char *node_id, int64_t ttl_ms,
                               store_lease *held, int max, int *n, tc_err *err) {
    *n = 0;
    store_stmt *q = store_prepare(c,
                                  "UPDATE cluster_leases SET expires_at = " DB_NOW_MS " + ?"
                                  " WHERE node_id = ? AND expires_at > " DB_NOW_MS
                                  " RETURNING name, epoch, expires_at",
                                  err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, ttl_ms);
    store_bind_text(q, 2, node_id);
    int step;
    while ((step = store_step(q, err)) == STORE_ROW) {
        if (*n < max)
            read_lease(q, &held[(*n)++]);
    }
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

int store_cluster_lease_take(store_conn *c, const char *name, const char *node_id, int64_t ttl_ms,
                             store_lease *lease, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "UPDATE cluster_leases SET node_id = ?, epoch = epoch + 1,"
                                  " expires_at = " DB_NOW_MS " + ? WHERE name = ?"
                                  " AND (node_id = '' OR expires_at <= " DB_NOW_MS ")"
                                  " RETURNING name, epoch, expires_at",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, node_id);
    store_bind_int64(q, 2, ttl_ms);
    store_bind_text(q, 3, name);
    int step = store_step(q, err);
    if (step == STORE_ROW)
        read_lease(q, lease);
    store_stmt_done(q);
    return step < 0 ? -1 : step == STORE_ROW;
}

int store_cluster_lease_release(store_conn *c, const char *name, const char *node_id, tc_err *err) {
    store_stmt *st = store_prepare(
        c, "UPDATE cluster_leases SET node_id = '', expires_at = 0 WHERE name = ? AND node_id = ?",
        err);
    if (!st)
        return -1;
    store_bind_text(st, 1, name);
    store_bind_text(st, 2, node_id);
    return store_run(st, err);
}

int store_cluster_lease_counts(store_conn *c, int (*fn)(void *arg, const char *node_id, int64_t n),
                               void *arg, tc_err *err) {
    store_stmt *q =
        store_prepare(c,
                      "SELECT node_id, COUNT(*) FROM cluster_leases WHERE node_id <> ''"
                      " AND expires_at > " DB_NOW_MS " GROUP BY node_id ORDER BY node_id",
                      err);
    if (!q)
        return -1;
    int step, rc = 0;
    while (rc == 0 && (step = store_step(q, err)) == STORE_ROW)
        rc = fn(arg, store_col_text(q, 0), store_col_int64(q, 1));
    store_stmt_done(q);
    return rc != 0 || step < 0 ? -1 : 0;
}

int store_cluster_lease_held(store_conn *c, const char *name, const char *node_id, int64_t epoch,
                             int *held, tc_err *err) {
    store_stmt *q =
        store_prepare(c,
                      "SELECT COUNT(*) FROM cluster_leases WHERE name = ? AND node_id = ?"
                      " AND epoch = ? AND expires_at > " DB_NOW_MS,
                      err);
    if (!q)
        return -1;
    store_bind_text(q, 1, name);
    store_bind_text(q, 2, node_id);
    store_bind_int64(q, 3, epoch);
    int step = store_step(q, err);
    *held = step == STORE_ROW && store_col_int64(q, 0) > 0;
    store_stmt_done(q);
    return step == STORE_ROW ? 0 : -1;
}
