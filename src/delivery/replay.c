/* replay.c: see replay.h.
 *
 * One step per writer tick. For each running job (the oldest
 * REPLAY_JOBS_PER_TICK), the pacing clock `paced_at` says how many events
 * it may queue now: rate * (now - paced_at) / 1000, after which paced_at
 * moves on by the time those events "used". The clock never lags more than
 * one second behind now, so a job that waited (a disabled integration, a
 * slow tick, a restart) resumes at its rate instead of in one burst. Each
 * job runs in a savepoint of its own: a job that fails is undone alone and
 * the tick's other work (snooze expiry, pruning) still commits. */
#include "delivery/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/outbox.h"
#include "core/state.h"
#include "store/replays.h"
#include "util/log.h"

#define PACE_MAX_LAG_MS 1000
#define PRUNE_BATCH 100

int64_t replay_budget(int64_t rate, int64_t now_ms, int64_t *paced_at) {
    if (*paced_at > now_ms) /* the clock went back: start again from now */
        *paced_at = now_ms;
    if (now_ms - *paced_at > PACE_MAX_LAG_MS)
        *paced_at = now_ms - PACE_MAX_LAG_MS;
    int64_t budget = rate * (now_ms - *paced_at) / 1000;
    /* Rounded up, so the average never exceeds the rate; still <= now,
     * since budget * 1000 / rate <= now - paced_at. */
    *paced_at += (budget * 1000 + rate - 1) / rate;
    return budget;
}

/* Queues up to `budget` events of j into the outbox and records how far it got. */
static int advance(writer_txn *txn, store_replay_job *j, int64_t budget, tc_err *err) {
    int64_t n = 0;
    int rc = -1;
    int64_t *seqs = calloc((size_t)budget, sizeof(*seqs));
    if (!seqs)
        return tc_err_oom(err, "a replay step");
    if (store_replays_next_items(txn->conn, j->replay_id, j->cursor, budget, seqs, &n, err) != 0)
        goto out;
    for (int64_t i = 0; i < n; i++) {
        if (outbox_requeue(txn, j->integration_id, seqs[i], err) != 0)
            goto out;
    }
    if (n > 0)
        j->cursor = seqs[n - 1];
    j->queued += n;
    /* Fewer than asked for: the list is exhausted (an item whose event is
     * gone is skipped, and the job still ends). */
    int done = n < budget || j->queued >= j->total;
    if (store_replays_drop_items(txn->conn, j->replay_id, done ? INT64_MAX : j->cursor, err) != 0 ||
        store_replays_progress(txn->conn, j, done, txn->now_ms, err) != 0)
        goto out;
    if (done)
        log_info("msg=\"replay done\" replay_id=%s integration_id=%lld queued=%lld total=%lld",
                 j->replay_id, (long long)j->integration_id, (long long)j->queued,
                 (long long)j->total);
    rc = 0;
out:
    free(seqs);
    return rc;
}

static int cancel_job(writer_txn *txn, const store_replay_job *j, const char *reason, tc_err *err) {
    if (store_replays_cancel(txn->conn, j->replay_id, reason, txn->now_ms, err) != 0)
        return -1;
    log_info("msg=\"replay cancelled\" replay_id=%s queued=%lld total=%lld reason=\"%s\"",
             j->replay_id, (long long)j->queued, (long long)j->total, reason);
    return 0;
}

static int step_job(writer_txn *txn, store_replay_job *j, int64_t rate, tc_err *err) {
    store_replay_target t;
    if (store_replays_target(txn->conn, j->integration_id, &t, err) != 0)
        return -1;
    if (!t.found)
        return cancel_job(txn, j, "the integration was deleted", err);
    if (strcmp(t.status, "enabled") != 0)
        return 0; /* paused: its pushes would only wait; the live ones go first */
    int64_t stored = j->paced_at;
    int64_t budget = replay_budget(rate, txn->now_ms, &j->paced_at);
    if (budget > 0)
        return advance(txn, j, budget, err);
    return j->paced_at == stored ? 0 : store_replays_progress(txn->conn, j, 0, txn->now_ms, err);
}

/* One job's step in a savepoint of its own. A step that fails is undone
 * alone (its rows, its pushes, the writer's cache) and logged; -1 only when
 * it could not be undone, which fails the tick: its writes would otherwise
 * be committed with the rest. */
static int run_job(writer_txn *txn, store_replay_job *j, int64_t rate, tc_err *err) {
    size_t mark = txn->state ? state_mark(txn->state) : 0;
    outbox_delivery *pushes = txn->deliveries;
    tc_err job_err;
    if (store_replays_step_begin(txn->conn, err) != 0)
        return -1;
    if (step_job(txn, j, rate, &job_err) != 0) {
        log_error("msg=\"replay step failed\" replay_id=%s error=\"%s\"", j->replay_id,
                  job_err.message);
        if (store_replays_step_undo(txn->conn, err) != 0)
            return -1;
        if (txn->state)
            state_undo_to(txn->state, mark);
        outbox_deliveries_drop_to(txn, pushes);
    }
    return store_replays_step_end(txn->conn, err);
}

int replay_step(writer_txn *txn, tc_err *err) {
    store_replay_job jobs[REPLAY_JOBS_PER_TICK];
    int n = 0;
    int64_t rate =
        txn->cfg && txn->cfg->replay_rate > 0 ? txn->cfg->replay_rate : REPLAY_RATE_DEFAULT;
    if (store_replays_running(txn->conn, jobs, REPLAY_JOBS_PER_TICK, &n, err) != 0)
        return -1;
    for (int i = 0; i < n; i++) {
        if (run_job(txn, &jobs[i], rate, err) != 0)
            return -1;
    }
    return store_replays_prune(txn->conn, txn->now_ms - REPLAY_KEEP_MS, PRUNE_BATCH, err);
}
