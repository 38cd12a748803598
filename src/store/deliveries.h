/* store/deliveries.h: the outbox's pushes, one row per (event,
 * integration), pending until delivered, failed for good or given up.
 * Statements about deliveries live in store/deliveries.c. */
#ifndef TOCSIN_STORE_DELIVERIES_H
#define TOCSIN_STORE_DELIVERIES_H

#include <stdint.h>

#include "store/store.h"

/* A new pending delivery, due at now_ms; *delivery_id receives its id. */
int store_deliveries_insert(store_conn *c, int64_t integration_id, int64_t event_seq,
                            const char *lane, int64_t sequence, int64_t now_ms,
                            int64_t *delivery_id, tc_err *err);

/* The created_at (ms) of the integration's oldest pending delivery, 0 when
 * none is pending. A skip-scan of the covering index of 005_metrics.sql,
 * (integration_id, attempts, created_at) WHERE pending: two index probes
 * per distinct attempts value among its pending rows (at most the retry
 * limit, 20, plus one), never a walk over the backlog. */
int store_deliveries_oldest_pending(store_conn *c, int64_t integration_id, int64_t *created_at,
                                    tc_err *err);

/* The highest delivery id ever given (0 when none). */
int store_deliveries_max_id(store_conn *c, int64_t *out, tc_err *err);

/* What an attempt changed in a delivery (times ms). */
typedef struct {
    int64_t delivery_id;
    const char *status; /* pending | delivered | failed */
    int64_t attempts, next_at, first_failed_at;
    const char *last_error;
    int64_t updated_at;
} store_delivery_outcome;

int store_deliveries_record(store_conn *c, const store_delivery_outcome *o, tc_err *err);

/* A pending delivery as the dispatcher loads it, with its event (times
 * ms; texts valid until the next row; body NULL when the event has none). */
typedef struct {
    int64_t delivery_id, integration_id, event_seq;
    const char *lane;
    int64_t sequence, attempts, next_at, first_failed_at, created_at;
    const char *event_id, *event_type, *object_kind, *object_id;
    int64_t channel_id, event_time;
    const char *body;
    size_t body_len;
} store_pending_row;

/* The pending deliveries with after_id < delivery_id <= upto_id, in id
 * order, at most `limit`, one row at a time: the dispatcher tells a read
 * that could not start (open fails) from one that failed on the way (next
 * fails), and may stop early. Every cursor opened is closed. */
typedef struct {
    store_stmt *q;
} store_pending_cursor;

int store_deliveries_pending_open(store_conn *c, int64_t after_id, int64_t upto_id, int64_t limit,
                                  store_pending_cursor *cur, tc_err *err);
/* STORE_ROW with *r filled, STORE_DONE, or -1 with *err. */
int store_deliveries_pending_next(store_pending_cursor *cur, store_pending_row *r, tc_err *err);
void store_deliveries_pending_close(store_pending_cursor *cur);

/* Pending deliveries of one integration (the metrics page). */
typedef struct {
    int64_t integration_id;
    int64_t pending, retries_pending; /* retries: attempted at least once */
    int64_t oldest_created_at;        /* ms */
} store_pending_count;

/* One row per integration that has pending deliveries (deleted ones too). */
int store_deliveries_pending_counts(store_conn *c,
                                    int (*fn)(void *arg, const store_pending_count *r, tc_err *err),
                                    void *arg, tc_err *err);

/* Deletes up to `limit` finished deliveries last changed before before_ms. */
int store_deliveries_prune(store_conn *c, int64_t before_ms, int64_t limit, tc_err *err);

#endif
