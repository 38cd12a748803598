/* store/replays.c: see store/replays.h. */
#include "store/replays.h"

#include <stdio.h>
#include <string.h>

#include "store/listing.h"

int store_replays_target(store_conn *c, int64_t integration_id, store_replay_target *out,
                         tc_err *err) {
    memset(out, 0, sizeof(*out));
    store_stmt *q =
        store_prepare(c, "SELECT type, status FROM integrations WHERE integration_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, integration_id);
    int step = store_step(q, err);
    if (step == STORE_ROW && strcmp(store_col_text(q, 1), "deleted") != 0) {
        out->found = 1;
        snprintf(out->type, sizeof(out->type), "%s", store_col_text(q, 0));
        snprintf(out->status, sizeof(out->status), "%s", store_col_text(q, 1));
    }
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

/* FROM ... ORDER BY ... LIMIT of the matching events. Each event's history
 * rows are narrowed to its latest attempt, so an event appears once and
 * `status` is that attempt's. */
static void add_match(listing_query *q, const store_replay_match *m) {
    listing_sql(q, " FROM webhook_history h JOIN events e ON e.event_id = h.event_id"
                   " WHERE h.integration_id = ");
    listing_int(q, m->integration_id);
    listing_sql(q, " AND h.event_time >= ");
    listing_int(q, m->start_time);
    listing_sql(q, " AND h.event_time <= ");
    listing_int(q, m->end_time);
    listing_sql(q, " AND h.attempt_id = (SELECT MAX(l.attempt_id) FROM webhook_history l"
                   " WHERE l.event_id = h.event_id AND l.integration_id = h.integration_id)");
    if (m->status) {
        listing_sql(q, " AND h.status = ");
        listing_text(q, m->status);
    }
    listing_in_texts(q, "h.event_type", m->event_types);
    listing_sql(q, " ORDER BY e.seq LIMIT ");
    listing_int(q, m->max);
}

/* Steps q and calls fn with its first column of each row. */
static int each_id(store_stmt *q, int (*fn)(void *arg, const char *event_id, tc_err *err),
                   void *arg, tc_err *err) {
    int rc = 0, step = STORE_DONE;
    while (rc == 0 && (step = store_step(q, err)) == STORE_ROW)
        rc = fn(arg, store_col_text(q, 0), err);
    if (rc == 0 && step < 0)
        rc = -1;
    store_stmt_done(q);
    return rc;
}

int store_replays_match(store_conn *c, const store_replay_match *m,
                        int (*fn)(void *arg, const char *event_id, tc_err *err), void *arg,
                        tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT e.event_id");
    add_match(&q, m);
    store_stmt *st = listing_prepare(c, &q, err);
    int rc = st ? each_id(st, fn, arg, err) : -1;
    listing_query_clear(&q);
    return rc;
}

int store_replays_insert(store_conn *c, const store_replay_new *job, const store_replay_match *m,
                         int64_t *count, tc_err *err) {
    store_stmt *st = store_prepare(
        c,
        "INSERT INTO replays(replay_id, integration_id, person_id, start_time, end_time,"
        " status_filter, event_types, state, paced_at, created_at, updated_at)"
        " VALUES(?,?,?,?,?,?,?,'running',?,?,?)",
        err);
    if (!st)
        return -1;
    store_bind_text(st, 1, job->replay_id);
    store_bind_int64(st, 2, job->integration_id);
    store_bind_int64(st, 3, job->person_id);
    store_bind_int64(st, 4, job->start_time);
    store_bind_int64(st, 5, job->end_time);
    store_bind_text(st, 6, job->status_filter ? job->status_filter : "");
    store_bind_text(st, 7, job->event_types ? job->event_types : "[]");
    store_bind_int64(st, 8, job->now);
    store_bind_int64(st, 9, job->now);
    store_bind_int64(st, 10, job->now);
    if (store_run(st, err) != 0)
        return -1;
    /* The matched events become the job's items, in order. */
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "INSERT INTO replay_items(replay_id, event_seq) SELECT CAST(");
    listing_text(&q, job->replay_id);
    listing_sql(&q, " AS TEXT), e.seq");
    add_match(&q, m);
    int rc = -1;
    st = listing_prepare(c, &q, err);
    if (st && store_run(st, err) == 0) {
        *count = store_changes(c);
        rc = 0;
    }
    listing_query_clear(&q);
    return rc;
}

int store_replays_set_total(store_conn *c, const char *replay_id, int64_t total, tc_err *err) {
    store_stmt *st =
        store_prepare(c, "UPDATE replays SET total = ?, state = ? WHERE replay_id = ?", err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, total);
    store_bind_text(st, 2, total > 0 ? "running" : "done");
    store_bind_text(st, 3, replay_id);
    return store_run(st, err);
}

int store_replays_first_ids(store_conn *c, const char *replay_id, int64_t max,
                            int (*fn)(void *arg, const char *event_id, tc_err *err), void *arg,
                            tc_err *err) {
    store_stmt *st =
        store_prepare(c,
                      "SELECT e.event_id FROM replay_items r JOIN events e ON e.seq = r.event_seq"
                      " WHERE r.replay_id = ? ORDER BY r.event_seq LIMIT ?",
                      err);
    if (!st)
        return -1;
    store_bind_text(st, 1, replay_id);
    store_bind_int64(st, 2, max);
    return each_id(st, fn, arg, err);
}

int store_replays_info(store_conn *c, const char *replay_id,
                       int (*fn)(void *arg, const store_replay_info *r, tc_err *err), void *arg,
                       int *found, tc_err *err) {
    *found = 0;
    store_stmt *q = store_prepare(c,
                                  "SELECT replay_id, integration_id, person_id, start_time,"
                                  " end_time, status_filter, event_types, state, reason, total,"
                                  " queued, created_at, updated_at FROM replays"
                                  " WHERE replay_id = ?",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, replay_id);
    int step = store_step(q, err), rc = step < 0 ? -1 : 0;
    if (step == STORE_ROW) {
        store_replay_info r = {.replay_id = store_col_text(q, 0),
                               .integration_id = store_col_int64(q, 1),
                               .person_id = store_col_int64(q, 2),
                               .start_time = store_col_int64(q, 3),
                               .end_time = store_col_int64(q, 4),
                               .status_filter = store_col_text(q, 5),
                               .event_types = store_col_text(q, 6),
                               .state = store_col_text(q, 7),
                               .reason = store_col_text(q, 8),
                               .total = store_col_int64(q, 9),
                               .queued = store_col_int64(q, 10),
                               .created_at = store_col_int64(q, 11),
                               .updated_at = store_col_int64(q, 12)};
        *found = 1;
        rc = fn(arg, &r, err);
    }
    store_stmt_done(q);
    return rc;
}

/* ---- the writer's tick ---------------------------------------------------------- */

int store_replays_running(store_conn *c, store_replay_job *jobs, int max, int *n, tc_err *err) {
    /* Paused jobs (integration disabled) are left out, so they never hold
     * the places of jobs that can go on. */
    store_stmt *q =
        store_prepare(c,
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
        store_replay_job *j = &jobs[(*n)++];
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

int store_replays_next_items(store_conn *c, const char *replay_id, int64_t cursor, int64_t max,
                             int64_t *seqs, int64_t *n, tc_err *err) {
    store_stmt *q = store_prepare(c,
                                  "SELECT r.event_seq FROM replay_items r"
                                  " JOIN events e ON e.seq = r.event_seq"
                                  " WHERE r.replay_id = ? AND r.event_seq > ?"
                                  " ORDER BY r.event_seq LIMIT ?",
                                  err);
    if (!q)
        return -1;
    store_bind_text(q, 1, replay_id);
    store_bind_int64(q, 2, cursor);
    store_bind_int64(q, 3, max);
    int step;
    *n = 0;
    while ((step = store_step(q, err)) == STORE_ROW && *n < max)
        seqs[(*n)++] = store_col_int64(q, 0);
    store_stmt_done(q);
    return step < 0 ? -1 : 0;
}

int store_replays_drop_items(store_conn *c, const char *replay_id, int64_t upto, tc_err *err) {
    store_stmt *st =
        store_prepare(c, "DELETE FROM replay_items WHERE replay_id = ? AND event_seq <= ?", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, replay_id);
    store_bind_int64(st, 2, upto);
    return store_run(st, err);
}

int store_replays_cancel(store_conn *c, const char *replay_id, const char *reason, int64_t now,
                         tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "UPDATE replays SET state = 'cancelled', reason = ?,"
                                   " updated_at = ? WHERE replay_id = ?",
                                   err);
    if (!st)
        return -1;
    store_bind_text(st, 1, reason);
    store_bind_int64(st, 2, now);
    store_bind_text(st, 3, replay_id);
    if (store_run(st, err) != 0)
        return -1;
    return store_replays_drop_items(c, replay_id, INT64_MAX, err);
}

int store_replays_progress(store_conn *c, const store_replay_job *j, int done, int64_t now,
                           tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "UPDATE replays SET cursor = ?, queued = ?, paced_at = ?,"
                                   " state = ?, updated_at = ? WHERE replay_id = ?",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, j->cursor);
    store_bind_int64(st, 2, j->queued);
    store_bind_int64(st, 3, j->paced_at);
    store_bind_text(st, 4, done ? "done" : "running");
    store_bind_int64(st, 5, now);
    store_bind_text(st, 6, j->replay_id);
    return store_run(st, err);
}

int store_replays_prune(store_conn *c, int64_t before, int64_t limit, tc_err *err) {
    store_stmt *st = store_prepare(c,
                                   "DELETE FROM replays WHERE replay_id IN (SELECT replay_id"
                                   " FROM replays WHERE state <> 'running' AND updated_at < ?"
                                   " ORDER BY updated_at LIMIT ?)",
                                   err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, before);
    store_bind_int64(st, 2, limit);
    return store_run(st, err);
}

int store_replays_step_begin(store_conn *c, tc_err *err) {
    return store_run_sql(c, "SAVEPOINT replay_job", err);
}

int store_replays_step_undo(store_conn *c, tc_err *err) {
    return store_run_sql(c, "ROLLBACK TO replay_job", err);
}

int store_replays_step_end(store_conn *c, tc_err *err) {
    return store_run_sql(c, "RELEASE replay_job", err);
}
