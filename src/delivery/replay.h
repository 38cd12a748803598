/* replay.h: the paced sending of bulk replays (POST /webhook/history/replay).
 *
 * api/replay.c accepts a replay: it stores a job row (`replays`) and the
 * events it matched (`replay_items`, in outbox order) in one transaction.
 * Nothing is queued then. replay_step, run by the writer's timer tick
 * (core/timers.c, every 250 ms), queues each running job's next items into
 * the outbox exactly as /webhook/history/resend does (outbox_requeue: same
 * event_id, the lane's next tocsin-sequence), at most `--replay-rate`
 * events per second per job, and advances the job's cursor in the same
 * transaction as the outbox rows it adds.
 *
 * Why pace at enqueue time: the dispatcher serves an integration's lanes
 * with at most DISPATCHER_MAX_PER_TARGET attempts in flight and lets the
 * rest wait in a FIFO; ten thousand replayed rows queued at once would put
 * every live event of that integration behind them. Queued a few per tick,
 * the replay's backlog stays small and live lanes keep their turn. Because
 * queuing goes through the outbox in event order, each lane's order and
 * sequence numbering are the same as for live traffic, and a crash loses or
 * doubles nothing: the cursor and the rows it queued commit together. */
#ifndef TOCSIN_REPLAY_H
#define TOCSIN_REPLAY_H

#include <stdint.h>

#include "core/writer.h"

#define REPLAY_RATE_DEFAULT 100 /* events per second per job */
#define REPLAY_RATE_MAX 10000
#define REPLAY_MAX_EVENTS 100000                /* matched by one replay */
#define REPLAY_JOBS_PER_TICK 8                  /* the oldest running jobs advance first */
#define REPLAY_KEEP_MS (7LL * 24 * 3600 * 1000) /* finished jobs, like history */

/* Advances every running job that is due (txn->cfg->replay_rate, or
 * REPLAY_RATE_DEFAULT when 0), and prunes jobs finished over 7 days ago.
 * A job whose step fails is rolled back alone and logged; the tick goes on.
 * Returns -1 only when the store fails outside a job. */
int replay_step(writer_txn *txn, tc_err *err);

/* The pacing arithmetic, apart for testing: how many events a job may queue
 * at now_ms at `rate` per second, moving *paced_at on by the time they use
 * (never further back than one second before now, never past now). */
int64_t replay_budget(int64_t rate, int64_t now_ms, int64_t *paced_at);

#endif
