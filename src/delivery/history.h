/* history.h: invocation history, one row per attempt (reference/webhooks.md
 * "Invocation history"), kept 7 days. */
#ifndef TOCSIN_HISTORY_H
#define TOCSIN_HISTORY_H

#include <stdint.h>

#include "core/writer.h"
#include "delivery/push.h"

#define HISTORY_KEEP_MS (7LL * 24 * 3600 * 1000)

/* What an attempt was about. */
typedef struct {
    int64_t integration_id;
    int64_t delivery_id; /* 0 outside the outbox (test, custom action, resend) */
    int64_t sequence;
    char event_id[32];
    char event_type[32];
    char webhook_type[16]; /* incident | alert */
    int64_t channel_id;
    char ref_id[64];
    int64_t event_time_ms;
    int attempt;
} history_subject;

/* Inserts the history row of a finished attempt. */
int history_insert(writer_txn *txn, const history_subject *s, const char *endpoint,
                   const push_attempt *a, tc_err *err);

/* Deletes rows older than 7 days (at most `limit` per call). */
int history_prune(writer_txn *txn, int limit, tc_err *err);

#endif
