/* delivery.c: the calls that push on demand (reference/integrations.md):
 *   /integration/test        a sample event sent at once; answers its outcome
 *   /webhook/history/resend  a recorded event queued again for one integration
 *                            (new attempt, same event_id, through the outbox)
 * Both are for administrators: they make tocsin call out. */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/params.h"
#include "core/outbox.h"
#include "core/render.h"
#include "delivery/sync_send.h"
#include "store/history.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/jbuild.h"

#define TEST_RESPONSE_MAX 4096

static const char *const incident_types[] = {
    "i_new",    "i_assign",   "i_a_rspd", "i_snooze",  "i_wake",       "i_ack",     "i_unack",
    "i_storm",  "i_custom",   "i_rslv",   "i_reopen",  "i_merge",      "i_comm",    "i_r_title",
    "i_r_desc", "i_r_impact", "i_r_rc",   "i_r_rsltn", "i_r_severity", "i_r_field", NULL,
};
static const char *const alert_types[] = {"a_new", "a_update", "a_merge", "a_close", NULL};
static const char *const custom_types[] = {"i_custom", NULL};

/* A sample object in the shape of the real ones, marked as a test. */
static json_t *sample_incident(const char *id, int64_t now) {
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:{s:s}, s:[], s:I, s:s,"
                     " s:s, s:s, s:[]}",
                     "incident_id", id, "title", "tocsin test event", "description",
                     "sent by /integration/test", "incident_severity", "Warning", "incident_status",
                     "Warning", "progress", "Triggered", "created_at", (json_int_t)now,
                     "updated_at", (json_int_t)now, "start_time", (json_int_t)now, "labels",
                     "tocsin_test", "true", "responders", "alert_cnt", (json_int_t)0,
                     "channel_name", "", "detail_url", "", "group_method", "n", "alerts");
}

static json_t *sample_alert(const char *id, int64_t now) {
    return json_pack("{s:s, s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I,"
                     " s:I, s:{s:s}}",
                     "alert_id", id, "data_source_id", (json_int_t)0, "data_source_name",
                     "tocsin test", "data_source_type", "standard", "channel_id", (json_int_t)0,
                     "channel_name", "", "title", "tocsin test event", "alert_key", "tocsin-test",
                     "alert_severity", "Warning", "alert_status", "Warning", "progress",
                     "Triggered", "created_at", (json_int_t)now, "updated_at", (json_int_t)now,
                     "start_time", (json_int_t)now, "last_time", (json_int_t)now, "labels",
                     "tocsin_test", "true");
}

/* The fields of Flashduty's sample bodies that real pushes carry too
 * (core/render.c), with the values of an object of no source and no
 * grouping. A NULL object stays NULL (json_pack failed: flagged below). */
static void sample_extras(json_t *object, int is_alert, const char *id, int *failed) {
    if (!object)
        return;
    if (is_alert) {
        jb_set(object, "data_source_ref_id", json_string(""), failed);
        jb_set(object, "dedup_key", json_string("tocsin-test"), failed);
        return;
    }
    char num[7];
    render_incident_num(id, num);
    jb_set(object, "num", json_string(num), failed);
    jb_set(object, "creator_id", json_integer(0), failed);
    jb_set(object, "data_source_id", json_integer(0), failed);
    jb_set(object, "dedup_key", json_string(""), failed);
    jb_set(object, "equals_md5", json_string(""), failed);
    jb_set(object, "account_id", json_integer(0), failed);
    jb_set(object, "account_name", json_string(RENDER_ACCOUNT_NAME), failed);
}

static int test_body(const push_target *t, const char *event_type, const tc_person *who,
                     history_subject *s, char **out, tc_err *err) {
    char object_id[IDS_OBJECT_LEN + 1];
    if (ids_object_new(s->event_id) != 0 || ids_object_new(object_id) != 0)
        return tc_err_set(err, TC_INTERNAL, "cannot make an id");
    int is_alert = strcmp(t->type, "webhook_alert") == 0;
    int64_t now_ms = clock_now_ms();
    json_t *object = is_alert ? sample_alert(object_id, now_ms / 1000)
                              : sample_incident(object_id, now_ms / 1000);
    int failed = 0;
    sample_extras(object, is_alert, object_id, &failed);
    json_t *body = jb_check(json_pack("{s:I, s:s, s:s, s:o}", "event_time", (json_int_t)now_ms,
                                      "event_type", event_type, "event_id", s->event_id,
                                      is_alert ? "alert" : "incident", object),
                            &failed);
    person_json_set(body, "person", who, &failed);
    *out = failed ? NULL : jb_dumps(body, JSON_COMPACT);
    json_decref(body);
    s->integration_id = t->integration_id;
    s->event_time_ms = now_ms;
    snprintf(s->event_type, sizeof(s->event_type), "%s", event_type);
    snprintf(s->webhook_type, sizeof(s->webhook_type), "%s", is_alert ? "alert" : "incident");
    snprintf(s->ref_id, sizeof(s->ref_id), "%s", object_id);
    return *out ? 0 : tc_err_oom(err, "the sample event");
}

static json_t *result_json(const history_subject *s, const sync_result *r) {
    int failed = 0;
    json_t *data = jb_check(json_pack("{s:b, s:I, s:I, s:s}", "success", r->delivered,
                                      "status_code", (json_int_t)r->status_code, "duration_ms",
                                      (json_int_t)r->duration_ms, "event_id", s->event_id),
                            &failed);
    if (r->message[0])
        jb_set(data, "message", json_string(r->message), &failed);
    if (r->response_body) {
        size_t keep = utf8_prefix(r->response_body, TEST_RESPONSE_MAX);
        jb_set(data, "response_body", json_stringn(r->response_body, keep), &failed);
    }
    if (failed) {
        json_decref(data);
        return NULL;
    }
    return data;
}

static int integration_test(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    int64_t id = 0;
    const char *event_type = NULL;
    push_target t;
    char *text = NULL;
    sync_result r = {0};
    history_subject s = {0};
    int rc = -1;
    push_target_init(&t);
    if (api_require_admin(ctx, "send a test event", err) != 0 ||
        params_int64(body, "integration_id", PARAM_REQUIRED, 1, INT64_MAX, &id, err) != 0)
        return -1;
    store_conn *c = store_reader_acquire(ctx->app->st);
    int loaded = push_target_load(c, id, clock_now_s(), &t, err);
    store_reader_release(ctx->app->st, c);
    if (loaded != 0)
        goto out;
    const char *const *allowed = strcmp(t.type, "webhook_alert") == 0   ? alert_types
                                 : strcmp(t.type, "custom_action") == 0 ? custom_types
                                                                        : incident_types;
    event_type = allowed[0];
    if (params_enum(body, "event_type", PARAM_OPTIONAL, allowed, &event_type, err) != 0 ||
        test_body(&t, event_type, &ctx->person, &s, &text, err) != 0 ||
        sync_send(ctx->app, &t, &s, text, 0, &r, err) != 0)
        goto out;
    rc = api_answer(result_json(&s, &r), "the test's outcome", data, err);
out:
    sync_result_clear(&r);
    free(text);
    push_target_clear(&t);
    return rc;
}

typedef struct {
    const char *event_id;
    int64_t integration_id;
} resend_arg;

static int resend_cmd(writer_txn *txn, void *argp, tc_err *err) {
    resend_arg *arg = argp;
    push_target t;
    int64_t seq = 0;
    if (push_target_load(txn->conn, arg->integration_id, txn->now_ms / 1000, &t, err) != 0)
        return -1;
    int custom = strcmp(t.type, "custom_action") == 0;
    push_target_clear(&t);
    if (custom)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "integration_id %lld is a custom action: press it again with "
                          "/incident/custom-action/do",
                          (long long)arg->integration_id);
    if (store_history_event_seq(txn->conn, arg->event_id, arg->integration_id, &seq, err) != 0)
        return -1;
    if (seq == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "event_id %s has no recorded delivery to integration_id %lld",
                          arg->event_id, (long long)arg->integration_id);
    return outbox_requeue(txn, arg->integration_id, seq, err);
}

static int history_resend(api_ctx *ctx, json_t *body, json_t **data, tc_err *err) {
    char event_id[IDS_OBJECT_LEN + 1];
    resend_arg arg = {.event_id = event_id};
    if (api_require_admin(ctx, "resend an event", err) != 0 ||
        params_object_id(body, "event_id", PARAM_REQUIRED, event_id, err) != 0 ||
        params_int64(body, "integration_id", PARAM_REQUIRED, 1, INT64_MAX, &arg.integration_id,
                     err) != 0)
        return -1;
    return api_run_empty(ctx, resend_cmd, &arg, data, err);
}

const api_route api_delivery_routes[] = {
    {"/integration/test", integration_test, API_AUTH_APP_KEY},
    {"/webhook/history/resend", history_resend, API_AUTH_APP_KEY},
    {NULL, NULL, API_AUTH_NONE},
};
