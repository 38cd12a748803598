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
#include "api/params.h"
#include "delivery/replay.h"
#include "store/replays.h"
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
    store_replay_target t;
    if (store_replays_target(c, id, &t, err) != 0)
        return -1;
    if (!t.found)
        return tc_err_set(err, TC_INVALID_PARAMETER, "integration_id %lld does not exist",
                          (long long)id);
    if (strcmp(t.type, "custom_action") == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "integration_id %lld is a custom action: its presses are not replayed "
                          "(press it again with /incident/custom-action/do)",
                          (long long)id);
    if (strncmp(t.type, "webhook_", 8) != 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "integration_id %lld is an alert source: it receives events and pushes "
                          "none",
                          (long long)id);
    return 0;
}

/* The matching events, at most REPLAY_MAX_EVENTS + 1 (one more tells that
 * there are too many). */
static store_replay_match match_of(const replay_request *r) {
    return (store_replay_match){.integration_id = r->integration_id,
                                .start_time = r->start_time,
                                .end_time = r->end_time,
                                .status = r->status,
                                .event_types = r->event_types,
                                .max = REPLAY_MAX_EVENTS + 1};
}

static int too_many(tc_err *err) {
    return tc_err_set(err, TC_INVALID_PARAMETER,
                      "start_time and end_time match more than %d events, the most one replay "
                      "sends: narrow the window or filter by status or event_types",
                      REPLAY_MAX_EVENTS);
}

/* The first REPLAY_FIRST_IDS event ids of a match, and how many there are. */
typedef struct {
    json_t *ids;
    int64_t count;
} id_sink;

static int id_add(void *arg, const char *event_id, tc_err *err) {
    id_sink *sink = arg;
    if (sink->count < REPLAY_FIRST_IDS && json_array_append_new(sink->ids, json_string(event_id)))
        return tc_err_oom(err, "a replay");
    sink->count++;
    return 0;
}

/* Counts the matching events and collects the first ids (dry run). */
static int count_matches(store_conn *c, const replay_request *r, int64_t *count, json_t *ids,
                         tc_err *err) {
    store_replay_match m = match_of(r);
    id_sink sink = {ids, 0};
    if (store_replays_match(c, &m, id_add, &sink, err) != 0)
        return -1;
    *count = sink.count;
    return *count > REPLAY_MAX_EVENTS ? too_many(err) : 0;
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

/* The job and its items (the matched events, in order). */
static int insert_job(writer_txn *txn, create_arg *a, tc_err *err) {
    json_t *types = a->req->event_types;
    char *types_text = types ? jb_dumps(types, JSON_COMPACT) : strdup("[]");
    if (!types_text)
        return tc_err_oom(err, "a replay");
    store_replay_new job = {.replay_id = a->replay_id,
                            .integration_id = a->req->integration_id,
                            .person_id = a->person_id,
                            .start_time = a->req->start_time,
                            .end_time = a->req->end_time,
                            .status_filter = a->req->status ? a->req->status : "",
                            .event_types = types_text,
                            .now = txn->now_ms};
    store_replay_match m = match_of(a->req);
    int rc = store_replays_insert(txn->conn, &job, &m, &a->count, err);
    free(types_text);
    if (rc != 0)
        return -1;
    return a->count > REPLAY_MAX_EVENTS ? too_many(err) : 0;
}

static int finish_job(writer_txn *txn, create_arg *a, tc_err *err) {
    id_sink sink = {a->ids, 0};
    if (store_replays_set_total(txn->conn, a->replay_id, a->count, err) != 0)
        return -1;
    return store_replays_first_ids(txn->conn, a->replay_id, REPLAY_FIRST_IDS, id_add, &sink, err);
}

static int create_cmd(writer_txn *txn, void *argp, tc_err *err) {
    create_arg *a = argp;
    json_array_clear(a->ids);
    if (check_integration(txn->conn, a->req->integration_id, err) != 0 ||
        insert_job(txn, a, err) != 0 || finish_job(txn, a, err) != 0)
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

static int job_json(void *arg, const store_replay_info *r, tc_err *err) {
    json_t **out = arg;
    json_t *types = NULL;
    if (doc_parse(r->event_types, "replay_event_types", r->replay_id, &types, err) != 0)
        return -1;
    *out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:o, s:s, s:s, s:I, s:I, s:I, s:I}",
                     "replay_id", r->replay_id, "integration_id", (json_int_t)r->integration_id,
                     "person_id", (json_int_t)r->person_id, "start_time", (json_int_t)r->start_time,
                     "end_time", (json_int_t)r->end_time, "filter_status", r->status_filter,
                     "event_types", types, "status", r->state, "reason", r->reason, "total",
                     (json_int_t)r->total, "queued", (json_int_t)r->queued, "created_at",
                     (json_int_t)r->created_at, "updated_at", (json_int_t)r->updated_at);
    return *out ? 0 : tc_err_oom(err, "a replay");
}

static int replay_info(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char replay_id[IDS_OBJECT_LEN + 1];
    int found = 0;
    if (api_require_admin(ctx, "read replays", err) != 0 ||
        params_object_id(body, "replay_id", PARAM_REQUIRED, replay_id, err) != 0)
        return -1;
    store_conn *c = store_reader_acquire(ctx->app->st);
    int rc = store_replays_info(c, replay_id, job_json, data, &found, err);
    store_reader_release(ctx->app->st, c);
    if (rc == 0 && !found)
        rc = tc_err_set(err, TC_INVALID_PARAMETER, "replay_id %s does not exist", replay_id);
    return rc;
}

const api_route api_replay_routes[] = {
    {"/webhook/history/replay", history_replay, API_AUTH_APP_KEY},
    {"/webhook/history/replay/info", replay_info, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
