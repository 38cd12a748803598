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

/* The highest delivery id ever given (0 when none). */
int store_deliveries_max_id(store_conn *c, int64_t *out, tc_err *err);

#endif
