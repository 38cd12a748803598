/* timers.h: work that is due by the clock rather than by a request.
 *
 * The writer calls timers_tick in a batch of its own every
 * TIMERS_INTERVAL_MS: snooze expiry (i_wake) and pruning of invocation
 * history and finished deliveries older than 7 days, the paced steps
 * of bulk replays (delivery/replay.h), and the deletion of quick silences
 * whose window has ended (reference/rules.md). (Due retries are the
 * dispatcher's own timer heap.) Each job is a
 * query on an indexed due-time column, so an idle tick costs a few index
 * probes and no thread waits per timer. */
#ifndef TOCSIN_TIMERS_H
#define TOCSIN_TIMERS_H

#include "core/writer.h"

#define TIMERS_INTERVAL_MS 250

/* arg is the tc_app. */
int timers_tick(writer_txn *txn, void *arg, tc_err *err);

#endif
