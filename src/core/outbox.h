/* outbox.h: fan-out of domain events to the integrations subscribed to them.
 *
 * Runs inside the writer's transaction, right after events_append stored an
 * event: one `deliveries` row per integration whose `subscriptions` match
 * the event's kind, type and channel. A change and the pushes it causes are
 * therefore stored together or not at all, and a restart finds every
 * undelivered push in `deliveries` (status pending).
 *
 * Each row gets its tocsin-sequence: 1, 2, 3 ... per (integration, object),
 * the lane the dispatcher keeps in order. */
#ifndef TOCSIN_OUTBOX_H
#define TOCSIN_OUTBOX_H

#include <stdint.h>

#include "core/writer.h"

/* object_kind: "incident" | "alert". Sets txn->outbox_written when it adds
 * a row. */
int outbox_fan_out(writer_txn *txn, int64_t event_seq, const char *event_type,
                   const char *object_kind, const char *object_id, int64_t channel_id, tc_err *err);

/* The next tocsin-sequence of (integration, lane): for pushes outside the
 * outbox (custom actions) that still number their lane. */
int outbox_next_sequence(writer_txn *txn, int64_t integration_id, const char *lane, int64_t *seq,
                         tc_err *err);

/* Adds one delivery of an existing event to one integration (fan-out, and
 * /webhook/history/resend), with the lane's next sequence. */
int outbox_add(writer_txn *txn, int64_t integration_id, int64_t event_seq, const char *lane,
               tc_err *err);

#endif
