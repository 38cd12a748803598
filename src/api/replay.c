/* replay.c: bulk replay of recorded webhook events (issue 4, item 8).
 *
 *   /webhook/history/replay       {integration_id, start_time, end_time,
 *                                  status?, event_types?, dry_run}
 *                                 → {count, event_ids[, replay_id]}
 *   /webhook/history/replay/info  {replay_id} → the job's progress
 *
 * A replay sends again every event recorded in the integration's history
 * whose event_time is in [start_time, end_time] (the window and its rules
 * are /webhook/history/list's), optionally only those whose latest attempt
 * has `status` and whose type is in `event_types`. An event counts once
 * however many attempts it had; events come in their outbox order
 * (events.seq), which is each lane's original order.
 *
 * dry_run: true counts them through a reader and changes nothing. false
 * stores the job and the list of matched events in one writer command;
 * nothing is queued yet: delivery/replay.c queues them a few per tick, like
 * /webhook/history/resend does one (same event_id, the lane's next
 * tocsin-sequence), so a large replay never buries live traffic and a
 * restart continues it. Both are for administrators, like resend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "store/listing.h"
#include "api/params.h"
#include "delivery/replay.h"
#include "util/doc.h"
#include "util/ids.h"
#include "util/jbuild.h"

#define REPLAY_FIRST_IDS 100
#define REPLAY_MAX_EVENT_TYPES 50

typedef struct {
    int64_t integration_id, start_time, end_time;
    const char *status;  /* NULL: any */
    json_t *event_types; /* borrowed from the body; NULL or []: any */
    int dry_run;
} replay_request;

static int read_request(json_t *body, replay_request *r, tc_err *err) {
    static const char *const statuses[] = {"success", "failed", NULL};
    if (params_int64(body, "integration_id", PARAM_REQUIRED, 1, INT64_MAX, &r->integration_id,
                     err) != 0 ||
        params_history_window(body, &r->start_time, &r->end_time, err) != 0 ||
        params_enum(body, "status", PARAM_OPTIONAL, statuses, &r->status, err) != 0 ||
        params_string_array(body, "event_types", PARAM_OPTIONAL, REPLAY_MAX_EVENT_TYPES,
                            &r->event_types, err) != 0 ||
        params_bool(body, "dry_run", PARAM_REQUIRED, &r->dry_run, err) != 0)
        return -1;
    return 0;
}

/* Only a webhook that exists has pushes to replay. */
static int check_integration(store_conn *c, int64_t id, tc_err *err) {
    store_stmt *q =
        store_prepare(c, "SELECT type, status FROM integrations WHERE integration_id = ?", err);
    if (!q)
        return -1;
    store_bind_int64(q, 1, id);
    int step = store_step(q, err), rc = -1;
    if (step == STORE_ROW && strcmp(store_col_text(q, 1), "deleted") != 0) {
        const char *type = store_col_text(q, 0);
        if (strcmp(type, "custom_action") == 0)
            tc_err_set(err, TC_INVALID_PARAMETER,
                       "integration_id %lld is a custom action: its presses are not replayed "
                       "(press it again with /incident/custom-action/do)",
                       (long long)id);
        else if (strncmp(type, "webhook_", 8) != 0)
            tc_err_set(err, TC_INVALID_PARAMETER,
                       "integration_id %lld is an alert source: it receives events and pushes "
                       "none",
                       (long long)id);
        else
            rc = 0;
    } else if (step >= 0) {
        tc_err_set(err, TC_INVALID_PARAMETER, "integration_id %lld does not exist", (long long)id);
    }
    store_stmt_done(q);
    return rc;
}

/* FROM ... ORDER BY of the matching events, at most REPLAY_MAX_EVENTS + 1
 * (one more tells that there are too many). Each event's history rows are
 * narrowed to its latest attempt, so an event appears once and `status` is
 * that attempt's. */
static void add_match(listing_query *q, const replay_request *r) {
    listing_sql(q, " FROM webhook_history h JOIN events e ON e.event_id = h.event_id"
                   " WHERE h.integration_id = ");
    listing_int(q, r->integration_id);
    listing_sql(q, " AND h.event_time >= ");
    listing_int(q, r->start_time);
    listing_sql(q, " AND h.event_time <= ");
    listing_int(q, r->end_time);
    listing_sql(q, " AND h.attempt_id = (SELECT MAX(l.attempt_id) FROM webhook_history l"
                   " WHERE l.event_id = h.event_id AND l.integration_id = h.integration_id)");
    if (r->status) {
        listing_sql(q, " AND h.status = ");
        listing_text(q, r->status);
    }
    listing_in_texts(q, "h.event_type", r->event_types);
    listing_sql(q, " ORDER BY e.seq LIMIT ");
    listing_int(q, REPLAY_MAX_EVENTS + 1);
}

static int too_many(tc_err *err) {
    return tc_err_set(err, TC_INVALID_PARAMETER,
                      "start_time and end_time match more than %d events, the most one replay "
                      "sends: narrow the window or filter by status or event_types",
                      REPLAY_MAX_EVENTS);
}

/* Counts the matching events and collects the first ids (dry run). */
static int count_matches(store_conn *c, const replay_request *r, int64_t *count, json_t *ids,
                         tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT e.event_id");
    add_match(&q, r);
    int rc = -1, step = -1;
    store_stmt *st = listing_prepare(c, &q, err);
    if (!st)
        goto out;
    *count = 0;
    while ((step = store_step(st, err)) == STORE_ROW) {
        if (*count < REPLAY_FIRST_IDS &&
            json_array_append_new(ids, json_string(store_col_text(st, 0))) != 0) {
            step = tc_err_oom(err, "a replay");
            break;
        }
        (*count)++;
    }
    store_stmt_done(st);
    if (step >= 0)
        rc = *count > REPLAY_MAX_EVENTS ? too_many(err) : 0;
out:
    listing_query_clear(&q);
    return rc;
}

typedef struct {
    const replay_request *req;
    const char *replay_id;
    int64_t person_id;
    int64_t count;  /* out */
    json_t *ids;    /* out: filled in */
    json_t *answer; /* out: built in the command, so it exists iff the job does */
} create_arg;

/* {count, event_ids[, replay_id]}, or NULL when out of memory. */
static json_t *replay_answer(int64_t count, json_t *ids, const char *replay_id) {
    int failed = 0;
    json_t *answer =
        jb_check(json_pack("{s:I, s:O}", "count", (json_int_t)count, "event_ids", ids), &failed);
    if (replay_id)
        jb_set(answer, "replay_id", json_string(replay_id), &failed);
    if (failed) {
        json_decref(answer);
        return NULL;
    }
    return answer;
}

static int insert_job(writer_txn *txn, const create_arg *a, tc_err *err) {
    json_t *types = a->req->event_types;
    char *types_text = types ? jb_dumps(types, JSON_COMPACT) : strdup("[]");
    if (!types_text)
        return tc_err_oom(err, "a replay");
    store_stmt *st = store_prepare(
        txn->conn,
        "INSERT INTO replays(replay_id, integration_id, person_id, start_time, end_time,"
        " status_filter, event_types, state, paced_at, created_at, updated_at)"
        " VALUES(?,?,?,?,?,?,?,'running',?,?,?)",
        err);
    int rc = -1;
    if (st) {
        store_bind_text(st, 1, a->replay_id);
        store_bind_int64(st, 2, a->req->integration_id);
        store_bind_int64(st, 3, a->person_id);
        store_bind_int64(st, 4, a->req->start_time);
        store_bind_int64(st, 5, a->req->end_time);
        store_bind_text(st, 6, a->req->status ? a->req->status : "");
        store_bind_text(st, 7, types_text);
        store_bind_int64(st, 8, txn->now_ms);
        store_bind_int64(st, 9, txn->now_ms);
        store_bind_int64(st, 10, txn->now_ms);
        rc = store_run(st, err);
    }
    free(types_text);
    return rc;
}

/* The matched events become the job's items, in order. */
static int insert_items(writer_txn *txn, create_arg *a, tc_err *err) {
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "INSERT INTO replay_items(replay_id, event_seq) SELECT ");
    listing_text(&q, a->replay_id);
    listing_sql(&q, ", e.seq");
    add_match(&q, a->req);
    int rc = -1;
    store_stmt *st = listing_prepare(txn->conn, &q, err);
    if (st && store_run(st, err) == 0) {
        a->count = store_changes(txn->conn);
        rc = a->count > REPLAY_MAX_EVENTS ? too_many(err) : 0;
    }
    listing_query_clear(&q);
    return rc;
}

static int finish_job(writer_txn *txn, create_arg *a, tc_err *err) {
    store_stmt *st = store_prepare(
        txn->conn, "UPDATE replays SET total = ?, state = ? WHERE replay_id = ?", err);
    if (!st)
        return -1;
    store_bind_int64(st, 1, a->count);
    store_bind_text(st, 2, a->count > 0 ? "running" : "done");
    store_bind_text(st, 3, a->replay_id);
    if (store_run(st, err) != 0)
        return -1;
    st = store_prepare(txn->conn,
                       "SELECT e.event_id FROM replay_items r JOIN events e ON e.seq = r.event_seq"
                       " WHERE r.replay_id = ? ORDER BY r.event_seq LIMIT ?",
                       err);
    if (!st)
        return -1;
    store_bind_text(st, 1, a->replay_id);
    store_bind_int64(st, 2, REPLAY_FIRST_IDS);
    int step;
    while ((step = store_step(st, err)) == STORE_ROW) {
        if (json_array_append_new(a->ids, json_string(store_col_text(st, 0))) != 0) {
            step = tc_err_oom(err, "a replay");
            break;
        }
    }
    store_stmt_done(st);
    return step < 0 ? -1 : 0;
}

static int create_cmd(writer_txn *txn, void *argp, tc_err *err) {
    create_arg *a = argp;
    json_array_clear(a->ids);
    if (check_integration(txn->conn, a->req->integration_id, err) != 0 ||
        insert_job(txn, a, err) != 0 || insert_items(txn, a, err) != 0 ||
        finish_job(txn, a, err) != 0)
        return -1;
    json_decref(a->answer);
    a->answer = replay_answer(a->count, a->ids, a->replay_id);
    return a->answer ? 0 : tc_err_oom(err, "the answer");
}

static int history_replay(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    replay_request req = {0};
    char replay_id[IDS_OBJECT_LEN + 1] = "";
    int64_t count = 0;
    int rc = -1;
    json_t *ids = NULL;
    if (api_require_admin(ctx, "replay events", err) != 0 || read_request(body, &req, err) != 0)
        return -1;
    if (!(ids = json_array()))
        return tc_err_oom(err, "a replay");
    if (req.dry_run) {
        store_conn *c = store_reader_acquire(ctx->app->st);
        int ok = check_integration(c, req.integration_id, err) == 0 &&
                 count_matches(c, &req, &count, ids, err) == 0;
        store_reader_release(ctx->app->st, c);
        if (!ok)
            goto out;
    } else {
        if (ids_object_new(replay_id) != 0) {
            tc_err_set(err, TC_INTERNAL, "cannot make an id");
            goto out;
        }
        create_arg a = {
            .req = &req, .replay_id = replay_id, .person_id = ctx->person.person_id, .ids = ids};
        if (writer_run(ctx->app->w, create_cmd, &a, err) != 0) {
            json_decref(a.answer); /* built, but its batch was not committed */
            goto out;
        }
        rc = api_answer(a.answer, "a replay", data, err);
        goto out;
    }
    rc = api_answer(replay_answer(count, ids, NULL), "a replay", data, err);
out:
    json_decref(ids);
    return rc;
}

/* The columns of a job, in the order job_json reads them. */
#define REPLAY_COLUMNS                                                                             \
    "replay_id, integration_id, person_id, start_time, end_time, status_filter, event_types,"      \
    " state, reason, total, queued, created_at, updated_at"

static int job_json(store_stmt *q, json_t **out, tc_err *err) {
    json_t *types = NULL;
    if (doc_parse(store_col_text(q, 6), "replay_event_types", store_col_text(q, 0), &types, err) !=
        0)
        return -1;
    *out = json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:s, s:o, s:s, s:s, s:I, s:I, s:I, s:I}", "replay_id",
        store_col_text(q, 0), "integration_id", (json_int_t)store_col_int64(q, 1), "person_id",
        (json_int_t)store_col_int64(q, 2), "start_time", (json_int_t)store_col_int64(q, 3),
        "end_time", (json_int_t)store_col_int64(q, 4), "filter_status", store_col_text(q, 5),
        "event_types", types, "status", store_col_text(q, 7), "reason", store_col_text(q, 8),
        "total", (json_int_t)store_col_int64(q, 9), "queued", (json_int_t)store_col_int64(q, 10),
        "created_at", (json_int_t)store_col_int64(q, 11), "updated_at",
        (json_int_t)store_col_int64(q, 12));
    return *out ? 0 : tc_err_oom(err, "a replay");
}

static int replay_info(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char replay_id[IDS_OBJECT_LEN + 1];
    if (api_require_admin(ctx, "read replays", err) != 0 ||
        params_object_id(body, "replay_id", PARAM_REQUIRED, replay_id, err) != 0)
        return -1;
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = -1;
    store_stmt *q =
        store_prepare(c, "SELECT " REPLAY_COLUMNS " FROM replays WHERE replay_id = ?", err);
    if (q) {
        store_bind_text(q, 1, replay_id);
        int step = store_step(q, err);
        if (step == STORE_ROW)
            rc = job_json(q, data, err);
        else if (step == STORE_DONE)
            tc_err_set(err, TC_INVALID_PARAMETER, "replay_id %s does not exist", replay_id);
        store_stmt_done(q);
    }
    store_reader_release(ctx->app->st, c);
    return rc;
}

const api_route api_replay_routes[] = {
    {"/webhook/history/replay", history_replay, API_AUTH_APP_KEY},
    {"/webhook/history/replay/info", replay_info, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
