/* store/replays.h: bulk replay jobs and their items (migration 004): what
 * /webhook/history/replay stores (api/replay.c) and what the writer's tick
 * advances (delivery/replay.c). Every statement about replays lives in
 * store/replays.c. Times are milliseconds. */
#ifndef TOCSIN_STORE_REPLAYS_H
#define TOCSIN_STORE_REPLAYS_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"
#include "util/ids.h"

/* The integration a replay names: *found 0 when it does not exist or is
 * deleted. */
typedef struct {
    int found;
    char type[32];
    char status[16]; /* enabled | disabled */
} store_replay_target;

int store_replays_target(store_conn *c, int64_t integration_id, store_replay_target *out,
                         tc_err *err);

/* What a replay matches: the events the integration's history holds in
 * the window, each once (its latest attempt decides `status`), in outbox
 * order (events.seq); at most `max` rows are read. event_types borrowed
 * (NULL or empty: any). */
typedef struct {
    int64_t integration_id, start_time, end_time;
    const char *status; /* NULL: any */
    json_t *event_types;
    int64_t max;
} store_replay_match;

/* Calls fn with the event_id of each matched event (a dry run). */
int store_replays_match(store_conn *c, const store_replay_match *m,
                        int (*fn)(void *arg, const char *event_id, tc_err *err), void *arg,
                        tc_err *err);

/* A new running job and its items (the matched events); *count receives
 * how many. */
typedef struct {
    const char *replay_id;
    int64_t integration_id, person_id, start_time, end_time;
    const char *status_filter; /* "" | success | failed */
    const char *event_types;   /* JSON array text */
    int64_t now;
} store_replay_new;

int store_replays_insert(store_conn *c, const store_replay_new *job, const store_replay_match *m,
                         int64_t *count, tc_err *err);
/* Records the job's total: running, or done at once when it has none. */
int store_replays_set_total(store_conn *c, const char *replay_id, int64_t total, tc_err *err);
/* Calls fn with the event_id of the job's first `max` items, in order. */
int store_replays_first_ids(store_conn *c, const char *replay_id, int64_t max,
                            int (*fn)(void *arg, const char *event_id, tc_err *err), void *arg,
                            tc_err *err);

/* A job as /webhook/history/replay/info shows it (strings valid during
 * the callback only). */
typedef struct {
    const char *replay_id;
    int64_t integration_id, person_id, start_time, end_time;
    const char *status_filter, *event_types, *state, *reason;
    int64_t total, queued, created_at, updated_at;
} store_replay_info;

/* *found 0 when there is no such job (fn not called). */
int store_replays_info(store_conn *c, const char *replay_id,
                       int (*fn)(void *arg, const store_replay_info *r, tc_err *err), void *arg,
                       int *found, tc_err *err);

/* ---- the writer's tick (delivery/replay.c) --------------------------------- */

typedef struct {
    char replay_id[IDS_OBJECT_LEN + 1];
    int64_t integration_id, cursor, queued, total, paced_at;
} store_replay_job;

/* Up to max running jobs, oldest first, leaving out those whose
 * integration is disabled (paused). */
int store_replays_running(store_conn *c, store_replay_job *jobs, int max, int *n, tc_err *err);
/* Up to max items after the cursor whose event still exists, in order. */
int store_replays_next_items(store_conn *c, const char *replay_id, int64_t cursor, int64_t max,
                             int64_t *seqs, int64_t *n, tc_err *err);
/* Deletes the job's items up to event_seq `upto`. */
int store_replays_drop_items(store_conn *c, const char *replay_id, int64_t upto, tc_err *err);
/* Cancels a job (its items go). */
int store_replays_cancel(store_conn *c, const char *replay_id, const char *reason, int64_t now,
                         tc_err *err);
/* Saves the job's cursor, count and pacing clock; done or still running. */
int store_replays_progress(store_conn *c, const store_replay_job *j, int done, int64_t now,
                           tc_err *err);
/* Deletes up to `limit` jobs finished before `before`. */
int store_replays_prune(store_conn *c, int64_t before, int64_t limit, tc_err *err);

/* One job's step runs in a savepoint of its own: begin, then end (keep)
 * or undo (roll back, then end). */
int store_replays_step_begin(store_conn *c, tc_err *err);
int store_replays_step_undo(store_conn *c, tc_err *err);
int store_replays_step_end(store_conn *c, tc_err *err);

#endif
