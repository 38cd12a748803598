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
#include "util/ids.h"
#include "util/log.h"

#define PACE_MAX_LAG_MS 1000
#define PRUNE_BATCH 100

typedef struct {
    char replay_id[IDS_OBJECT_LEN + 1];
    int64_t integration_id, cursor, queued, total, paced_at;
} replay_job;

typedef struct {
    int64_t seq;
    char lane[IDS_OBJECT_LEN + 1];
} replay_item;

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

static int exec_cached(store_conn *c, const char *sql, tc_err *err) {
    store_stmt *st = store_prepare(c, sql, err);
    return st ? store_run(st, err) : -1;
}

static int load_running(writer_txn *txn, replay_job *jobs, int max, int *n, tc_err *err) {
    /* Paused jobs (integration disabled) are left out, so they never hold
     * the places of jobs that can go on. */
    store_stmt *q =
        store_prepare(txn->conn,
                      "SELECT r.replay_id, r.integration_id, r.cursor, r.queued, r.total,"
                      " r.paced_at FROM replays r"
                      " LEFT JOIN integrations i ON i.integration_id = r.integration_id"
                      " WHERE r.state = 'running' AND COALESCE(i.status, '') <> 'disabled'"
                      " ORDER BY r.created_at LIMIT ?",
                      err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, max);
    int step;
    *n = 0;
    while ((step = store_step(q, err)) == STORE_ROW && *n < max) {
        replay_job *j = &jobs[(*n)++];
        snprintf(j->replay_id, sizeof(j->replay_id), "%s", store_col_text(q, 0));
        j->integration_id = store_col_int64(q, 1);
        j->cursor = store_col_int64(q, 2);
        j->queued = store_col_int64(q, 3);
        j->total = store_col_int64(q, 4);
        j->paced_at = store_col_int64(q, 5);
    }
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

/* The integration's status: "enabled", "disabled", or "" when it is gone. */
static int integration_status(writer_txn *txn, int64_t id, char *out, size_t cap, tc_err *err) {
    store_stmt *q =
        store_prepare(txn->conn, "SELECT status FROM integrations WHERE integration_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, id);
    int step = store_step(q, err);
    snprintf(out, cap, "%s", step == STORE_ROW ? store_col_text(q, 0) : "");
    store_stmt_done(q);
    if (strcmp(out, "deleted") == 0)
        out[0] = '\0';
    return step < 0 ? -1 : 0;
}

static int drop_items(writer_txn *txn, const char *replay_id, int64_t upto, tc_err *err) {
    store_stmt *st = store_prepare(
        txn->conn, "DELETE FROM replay_items WHERE replay_id = ? AND event_seq <= ?", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, replay_id);
    store_bind_int64(st, 2, upto);
    return store_run(st, err);
}

static int cancel_job(writer_txn *txn, const replay_job *j, const char *reason, tc_err *err) {
    store_stmt *st = store_prepare(txn->conn,
                                   "UPDATE replays SET state = 'cancelled', reason = ?,"
                                   " updated_at = ? WHERE replay_id = ?",
                                   err);
    if (!st)
        return -1;
    store_bind_text(st, 1, reason);
    store_bind_int64(st, 2, txn->now_ms);
    store_bind_text(st, 3, j->replay_id);
    if (store_run(st, err) != 0 || drop_items(txn, j->replay_id, INT64_MAX, err) != 0)
        return -1;
    log_info("msg=\"replay cancelled\" replay_id=%s queued=%lld total=%lld reason=\"%s\"",
             j->replay_id, (long long)j->queued, (long long)j->total, reason);
    return 0;
}

/* Reads up to `max` items after the cursor, with their lanes, in order. */
static int next_items(writer_txn *txn, const replay_job *j, replay_item *items, int64_t max,
                      int64_t *n, tc_err *err) {
    store_stmt *q = store_prepare(txn->conn,
                                  "SELECT r.event_seq, e.object_id FROM replay_items r"
                                  " JOIN events e ON e.seq = r.event_seq"
                                  " WHERE r.replay_id = ? AND r.event_seq > ?"
                                  " ORDER BY r.event_seq LIMIT ?",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, j->replay_id);
    store_bind_int64(q, 2, j->cursor);
    store_bind_int64(q, 3, max);
    int step;
    *n = 0;
    while ((step = store_step(q, err)) == STORE_ROW && *n < max) {
        items[*n].seq = store_col_int64(q, 0);
        snprintf(items[*n].lane, sizeof(items[*n].lane), "%s", store_col_text(q, 1));
        (*n)++;
    }
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

static int save_progress(writer_txn *txn, const replay_job *j, int done, tc_err *err) {
    store_stmt *st = store_prepare(txn->conn,
                                   "UPDATE replays SET cursor = ?, queued = ?, paced_at = ?,"
                                   " state = ?, updated_at = ? WHERE replay_id = ?",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, j->cursor);
    store_bind_int64(st, 2, j->queued);
    store_bind_int64(st, 3, j->paced_at);
    store_bind_text(st, 4, done ? "done" : "running");
    store_bind_int64(st, 5, txn->now_ms);
    store_bind_text(st, 6, j->replay_id);
    return store_run(st, err);
}

/* Queues up to `budget` events of j into the outbox and records how far it got. */
static int advance(writer_txn *txn, replay_job *j, int64_t budget, tc_err *err) {
    int64_t n = 0;
    int rc = -1;
    replay_item *items = calloc((size_t)budget, sizeof(*items));
    if (!items)
        return tc_err_set(err, TC_INTERNAL, "replay: out of memory");
    if (next_items(txn, j, items, budget, &n, err) != 0)
        goto out;
    for (int64_t i = 0; i < n; i++) {
        if (outbox_add(txn, j->integration_id, items[i].seq, items[i].lane, err) != 0)
            goto out;
    }
    if (n > 0)
        j->cursor = items[n - 1].seq;
    j->queued += n;
    /* Fewer than asked for: the list is exhausted (an item whose event is
     * gone is skipped, and the job still ends). */
    int done = n < budget || j->queued >= j->total;
    if (drop_items(txn, j->replay_id, done ? INT64_MAX : j->cursor, err) != 0 ||
        save_progress(txn, j, done, err) != 0)
        goto out;
    if (done)
        log_info("msg=\"replay done\" replay_id=%s integration_id=%lld queued=%lld total=%lld",
                 j->replay_id, (long long)j->integration_id, (long long)j->queued,
                 (long long)j->total);
    rc = 0;
out:
    free(items);
    return rc;
}

static int step_job(writer_txn *txn, replay_job *j, int64_t rate, tc_err *err) {
    char status[32];
    if (integration_status(txn, j->integration_id, status, sizeof(status), err) != 0)
        return -1;
    if (!status[0])
        return cancel_job(txn, j, "the integration was deleted", err);
    if (strcmp(status, "enabled") != 0)
        return 0; /* paused: its pushes would only wait; the live ones go first */
    int64_t stored = j->paced_at;
    int64_t budget = replay_budget(rate, txn->now_ms, &j->paced_at);
    if (budget > 0)
        return advance(txn, j, budget, err);
    return j->paced_at == stored ? 0 : save_progress(txn, j, 0, err);
}

static int prune_finished(writer_txn *txn, tc_err *err) {
    store_stmt *st = store_prepare(txn->conn,
                                   "DELETE FROM replays WHERE replay_id IN (SELECT replay_id"
                                   " FROM replays WHERE state <> 'running' AND updated_at < ?"
                                   " ORDER BY updated_at LIMIT ?)",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, txn->now_ms - REPLAY_KEEP_MS);
    store_bind_int64(st, 2, PRUNE_BATCH);
    return store_run(st, err);
}

int replay_step(writer_txn *txn, tc_err *err) {
    replay_job jobs[REPLAY_JOBS_PER_TICK];
    int n = 0;
    int64_t rate =
        txn->cfg && txn->cfg->replay_rate > 0 ? txn->cfg->replay_rate : REPLAY_RATE_DEFAULT;
    if (load_running(txn, jobs, REPLAY_JOBS_PER_TICK, &n, err) != 0)
        return -1;
    for (int i = 0; i < n; i++) {
        tc_err job_err, scratch;
        if (exec_cached(txn->conn, "SAVEPOINT replay_job", err) != 0)
            return -1;
        if (step_job(txn, &jobs[i], rate, &job_err) != 0) {
            log_error("msg=\"replay step failed\" replay_id=%s error=\"%s\"", jobs[i].replay_id,
                      job_err.message);
            exec_cached(txn->conn, "ROLLBACK TO replay_job", &scratch);
        }
        if (exec_cached(txn->conn, "RELEASE replay_job", err) != 0)
            return -1;
    }
    return prune_finished(txn, err);
}
