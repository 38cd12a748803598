/* dispatcher.h: delivery of the outbox (reference/webhooks.md,
 * integrations.md "Delivery policy").
 *
 * One thread runs a libcurl multi loop (keep-alive connections reused,
 * thousands of transfers at once). Pending deliveries are grouped into
 * lanes, one per (integration, incident or alert): an ordered lane has one
 * attempt in flight at a time, so one object's events reach an endpoint in
 * order, while every other lane goes on; a slow or dead endpoint holds only
 * its own lanes and at most --max-inflight-per-endpoint connections
 * (default DISPATCHER_MAX_PER_TARGET).
 *
 * Outcomes are recorded (deliveries row, webhook_history row, disabling an
 * integration on 410 or after 24 h of failures) by a recorder thread
 * through the writer, in batches, so the loop never waits for a commit. A
 * delivery whose outcome was not yet committed when tocsin stopped is sent
 * again after the restart, with the same event_id and sequence. */
#ifndef TOCSIN_DISPATCHER_H
#define TOCSIN_DISPATCHER_H

#include <stdint.h>

#include "core/app.h"
#include "delivery/push.h"

#define DISPATCHER_MAX_PER_TARGET 32 /* default attempts in flight per integration */
#define DISPATCHER_MAX_PER_TARGET_LIMIT 1024
#define DISPATCHER_MAX_IN_FLIGHT 4096

typedef struct dispatcher dispatcher;

/* Loads every pending delivery and starts the thread. net is copied. */
int dispatcher_new(tc_app *app, const push_network *net, dispatcher **out, tc_err *err);
/* Stops the loop (transfers in flight are abandoned: still pending, sent
 * again at the next start), then records every outcome already known. */
void dispatcher_free(dispatcher *d);

struct outbox_delivery;
/* New outbox rows up to delivery id outbox_high are durable, and these are
 * their pushes (the writer's after-commit hook; the list is taken over). */
void dispatcher_wake(void *d, int64_t outbox_high, struct outbox_delivery *deliveries);
/* An integration changed: reload the targets (enable resumes waiting lanes). */
void dispatcher_reload(dispatcher *d);

/* The network settings (guard, egress) for synchronous sends. */
const push_network *dispatcher_network(dispatcher *d);

#endif
