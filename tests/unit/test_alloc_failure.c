/* test_alloc_failure.c: when memory runs out, tocsin fails closed (issue 9).
 *
 * Every Open API and Event API route runs through its real handler on a
 * real store and writer (tests/support/harness.h; no HTTP front, no
 * dispatcher), with fixtures made through the handlers, and with one body
 * that succeeds. Each route is called again and again with the N-th
 * allocation failing (tests/support/alloc_hook.h: tocsin's own allocations,
 * jansson's and libcurl's), for N = 1, 2, 3, ... until a call finishes
 * without reaching N. Whenever the failure was reached, the call must
 * answer -1 with InternalError and a message: never a success (a 200 with
 * part of an answer, or a change half made). When the failure hit the
 * writer thread (inside the command), the store must be as before: the
 * command's SAVEPOINT undid it (a footprint of row counts and document
 * sizes is compared). LeakSanitizer checks at exit that no path leaked.
 *
 * Snooze expiry (the writer's timer) runs the same way: an incident wakes
 * whole or not at all, and the tick itself never fails for it.
 *
 * The push builder runs the same way: loading a target (push_target_load,
 * push_target_from_row) must give an error or a complete target (secrets,
 * template, headers), and push_attempt_prepare must give an error or a
 * request that carries webhook-signature (with both secrets during a
 * rotation): never an unsigned push.
 *
 * Each route is called once unarmed first, so that its statements are in
 * the store's statement cache: store_prepare copies a statement's text to
 * cache it, and when that copy fails it runs the statement uncached, which
 * changes no answer. A failure after the commit (while answering a change
 * made) leaves the change made; the route's fixtures are then made again.
 * The footprint must show each route's own change when it succeeds, or
 * comparing it after a failed command would prove nothing.
 *
 * TOCSIN_ALLOC_ONLY=<part of a path> runs only the routes whose path has
 * it (a failure prints where the allocation was made).
 *
 * Two routes push to an endpoint (/integration/test and
 * /incident/custom-action/do, to a closed port on loopback): for them
 * libcurl's own allocations are not counted, because one failing inside
 * the transfer is an honest failed attempt (recorded, and answered as the
 * push's outcome, never as a delivery). The builder of their request is
 * covered by the push builder part, libcurl counted. Such calls run
 * several commands, so their store is not compared either. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "alloc_hook.h"
#include "core/escalation.h"
#include "core/incident.h"
#include "delivery/history.h"
#include "delivery/push.h"
#include "delivery/target.h"
#include "harness.h"
#include "util/ids.h"
#include "util/log.h"

#define ADMIN_KEY "alloc-admin-app-key-0123456789abcdef"
#define MAX_TRACES 10
/* The window of the list calls: an hour ago to a minute ahead. */
#define WINDOW_S "\"start_time\":$FROM,\"end_time\":$TO"
#define WINDOW_MS "\"start_time\":$FROMMS,\"end_time\":$TOMS"

static harness h;
static int traces;

/* ---- variables of the request bodies ------------------------------------ */

/* $NAME in a body is replaced by the value of NAME: fixture ids, $N (the
 * try's number, for unique names), $FROM and $TO (an hour ago, a minute
 * ahead: a list's window), $FROMMS and $TOMS (the same in ms). A "$"
 * followed by no capital ("$host" in a title rule) stays as it is. */
typedef struct {
    const char *name;
    char value[128];
} var;

static var vars[] = {
    {"CHG", ""},    {"SRCG", ""},   {"SRCGKEY", ""}, {"GHOST", ""},   {"CH", ""},    {"CH2", ""},
    {"SRC", ""},    {"PROM", ""},   {"WH", ""},      {"WH2", ""},     {"WH3", ""},   {"CA", ""},
    {"INC", ""},    {"INC2", ""},   {"AL", ""},      {"AL2", ""},     {"P", ""},     {"M", ""},
    {"M2", ""},     {"EV", ""},     {"RP", ""},      {"N", ""},       {"FROM", ""},  {"TO", ""},
    {"FROMMS", ""}, {"TOMS", ""},   {"SRCKEY", ""},  {"PROMKEY", ""}, {"ALKEY", ""}, {"AL2KEY", ""},
    {"CHS", ""},    {"CHSKEY", ""}, {"RU", ""},      {"CHE", ""},     {"ESC", ""},   {NULL, ""},
};

static var *var_find(const char *name, size_t len) {
    for (var *v = vars; v->name; v++) {
        if (strlen(v->name) == len && strncmp(v->name, name, len) == 0)
            return v;
    }
    fail_msg("no variable $%.*s", (int)len, name);
    return NULL;
}

static void var_set(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void var_set(const char *name, const char *fmt, ...) {
    var *v = var_find(name, strlen(name));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->value, sizeof(v->value), fmt, ap);
    va_end(ap);
}

static const char *var_get(const char *name) {
    return var_find(name, strlen(name))->value;
}

/* The body with every $NAME replaced, into out. */
static void expand(const char *tmpl, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = tmpl; *p;) {
        if (*p != '$') {
            assert_true(n + 1 < cap);
            out[n++] = *p++;
            continue;
        }
        const char *name = ++p;
        while ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
            p++;
        if (p == name) { /* "$host": a title rule's own variable */
            assert_true(n + 1 < cap);
            out[n++] = '$';
            continue;
        }
        const char *value = var_find(name, (size_t)(p - name))->value;
        size_t len = strlen(value);
        assert_true(n + len + 1 < cap);
        memcpy(out + n, value, len);
        n += len;
    }
    out[n] = '\0';
}

/* ---- calls ---------------------------------------------------------------- */

/* Calls path with the body tmpl expanded, as the administrator (key_var:
 * the variable holding an Event API key, or NULL). With arm_n > 0, the
 * handler runs with allocation arm_n failing (the body is parsed before,
 * as the server parses it before any handler runs); *counted receives the
 * allocations counted. */
static int call_armed(const char *path, const char *key_var, const char *tmpl, long arm_n,
                      long *counted, json_t **data, tc_err *err) {
    char text[4096];
    long long now = (long long)time(NULL);
    var_set("FROM", "%lld", now - 3600);
    var_set("TO", "%lld", now + 60);
    var_set("FROMMS", "%lld", (now - 3600) * 1000);
    var_set("TOMS", "%lld", (now + 60) * 1000);
    expand(tmpl, text, sizeof(text));
    json_t *body = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(body))
        fail_msg("not a JSON object: %s", text);
    if (arm_n > 0)
        alloc_hook_arm(arm_n);
    int rc = harness_run(&h, NULL, 1, path, key_var ? var_get(key_var) : NULL, body, data, err);
    long n = arm_n > 0 ? alloc_hook_disarm() : 0;
    if (counted)
        *counted = n;
    json_decref(body);
    return rc;
}

static int call(const char *path, const char *key_var, const char *tmpl, json_t **data,
                tc_err *err) {
    return call_armed(path, key_var, tmpl, 0, NULL, data, err);
}

/* A setup call that must succeed; its data. */
static json_t *must(const char *path, const char *key_var, const char *tmpl) {
    json_t *data = NULL;
    tc_err err;
    if (call(path, key_var, tmpl, &data, &err) != 0)
        fail_msg("setup %s %s failed: %s", path, tmpl, err.message);
    assert_true(json_is_object(data));
    return data;
}

static void must_set(const char *name, const char *path, const char *key_var, const char *tmpl,
                     const char *field) {
    json_t *d = must(path, key_var, tmpl);
    json_t *v = json_object_get(d, field);
    if (json_is_integer(v))
        var_set(name, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        var_set(name, "%s", json_string_value(v));
    else
        fail_msg("setup %s answered no %s", path, field);
    json_decref(d);
}

/* The first column of the first row of sql with one text parameter. */
static void must_query(const char *name, const char *sql, const char *arg) {
    tc_err err;
    store_conn *c = store_reader_acquire(h.app.st);
    store_stmt *q = store_prepare(c, sql, &err);
    assert_non_null(q);
    store_bind_text(q, 1, arg);
    int step = store_step(q, &err);
    if (step == STORE_ROW)
        var_set(name, "%s", store_col_text(q, 0));
    store_stmt_done(q);
    store_reader_release(h.app.st, c);
    if (step != STORE_ROW)
        fail_msg("setup: %s (%s) found nothing", sql, arg);
}

/* ---- fixtures --------------------------------------------------------------- */

static int generation;

static void prep_esc(void);

/* What every route may name: made once. */
static void make_base(void) {
    must_set("CH", "/channel/create", NULL, "{\"channel_name\":\"fx\",\"team_id\":0}",
             "channel_id");
    must_set("SRC", "/integration/create", NULL,
             "{\"type\":\"alert_standard\",\"name\":\"fx-std\",\"channel_id\":$CH}",
             "integration_id");
    must_query("SRCKEY", "SELECT integration_key FROM integrations WHERE integration_id = ?",
               var_get("SRC"));
    must_set("PROM", "/integration/create", NULL,
             "{\"type\":\"alert_prometheus\",\"name\":\"fx-prom\",\"channel_id\":$CH}",
             "integration_id");
    must_query("PROMKEY", "SELECT integration_key FROM integrations WHERE integration_id = ?",
               var_get("PROM"));
    must_set("CHS", "/integration/create", NULL,
             "{\"type\":\"change_standard\",\"name\":\"fx-chg\",\"channel_id\":$CH}",
             "integration_id");
    must_query("CHSKEY", "SELECT integration_key FROM integrations WHERE integration_id = ?",
               var_get("CHS"));
    json_decref(must("/event/push/change/standard", "CHSKEY",
                     "{\"change_key\":\"fx-chg\",\"change_status\":\"Processing\","
                     "\"title\":\"deploy\",\"labels\":{\"svc\":\"api\"}}"));
    /* A webhook with everything a push can carry; its secret is rotated, so
     * it signs with two. Never delivered: there is no dispatcher. */
    must_set("WH", "/integration/create", NULL,
             "{\"type\":\"webhook_incident\",\"name\":\"fx-wh\","
             "\"endpoint\":\"http://127.0.0.1:9/hook?x=1\",\"channel_ids\":[$CH],"
             "\"headers\":{\"X-Custom\":\"custom value\",\"Authorization\":\"Bearer fx\"},"
             "\"event_types\":[\"i_new\",\"i_ack\"],"
             "\"body_template\":\"{\\\"t\\\":\\\"{{incident.title}}\\\",\\\"i\\\":\\\"{{incident}}"
             "\\\"}\"}",
             "integration_id");
    json_decref(must("/integration/rotate-secret", NULL, "{\"integration_id\":$WH}"));
    must_set("WH3", "/integration/create", NULL,
             "{\"type\":\"webhook_alert\",\"name\":\"fx-plain\","
             "\"endpoint\":\"http://127.0.0.1:9/plain\"}",
             "integration_id");
    must_set("CA", "/integration/create", NULL,
             "{\"type\":\"custom_action\",\"name\":\"fx-act\","
             "\"endpoint\":\"http://127.0.0.1:9/act\",\"channel_ids\":[$CH]}",
             "integration_id");
    /* A channel that groups by host and warns of a storm at 2 alerts. */
    must_set("CHG", "/channel/create", NULL,
             "{\"channel_name\":\"fx-grouped\",\"team_id\":0,\"group\":{\"method\":\"p\","
             "\"equals\":[[\"host\"],[\"host\",\"dc\"]],\"storm_thresholds\":[2]}}",
             "channel_id");
    must_set("SRCG", "/integration/create", NULL,
             "{\"type\":\"alert_standard\",\"name\":\"fx-grouped\",\"channel_id\":$CHG}",
             "integration_id");
    must_query("SRCGKEY", "SELECT integration_key FROM integrations WHERE integration_id = ?",
               var_get("SRCG"));
    json_t *d = must("/member/invite", NULL,
                     "{\"members\":[{\"member_name\":\"fxmember\","
                     "\"email\":\"fxmember@example.com\"}]}");
    var_set("M", "%lld",
            (long long)json_integer_value(
                json_object_get(json_array_get(json_object_get(d, "items"), 0), "member_id")));
    json_decref(d);
    var_set("P", "%lld", (long long)h.admin.person_id);
    /* A channel whose incidents follow an escalation rule. */
    must_set("CHE", "/channel/create", NULL, "{\"channel_name\":\"fx-esc\",\"team_id\":0}",
             "channel_id");
    prep_esc();
}

/* Two alerts, each in its own incident (the channel groups nothing), and a
 * history row of the first incident's i_new for the webhook. */
static void make_incidents(void) {
    int g = ++generation;
    char tmpl[256], key[64];
    for (int i = 0; i < 2; i++) {
        snprintf(key, sizeof(key), "fx-%d-%d", g, i);
        snprintf(tmpl, sizeof(tmpl),
                 "{\"title_rule\":\"fx $host\",\"event_status\":\"Warning\","
                 "\"alert_key\":\"%s\",\"labels\":{\"host\":\"db%d\"},"
                 "\"images\":[{\"src\":\"http://x/i.png\",\"alt\":\"a\"}]}",
                 key, i);
        json_decref(must("/event/push/alert/standard", "SRCKEY", tmpl));
        var_set(i ? "AL2KEY" : "ALKEY", "%s", key);
        must_query(i ? "AL2" : "AL", "SELECT alert_id FROM alerts WHERE alert_key = ?", key);
        must_query(i ? "INC2" : "INC", "SELECT incident_id FROM alerts WHERE alert_key = ?", key);
    }
    json_decref(must("/incident/comment", NULL, "{\"incident_ids\":[\"$INC\"],\"comment\":\"c\"}"));
    json_decref(must("/incident/assign", NULL,
                     "{\"incident_id\":\"$INC\",\"assigned_to\":{\"person_ids\":[$M]}}"));
    must_query("EV", "SELECT event_id FROM events WHERE object_id = ? AND event_type = 'i_new'",
               var_get("INC"));
}

typedef struct {
    const char *event_id, *incident_id;
    int64_t integration_id, channel_id;
} seed_arg;

static int seed_cmd(writer_txn *txn, void *argp, tc_err *err) {
    seed_arg *a = argp;
    history_subject s = {.integration_id = a->integration_id,
                         .channel_id = a->channel_id,
                         .event_time_ms = txn->now_ms,
                         .attempt = 1};
    snprintf(s.event_id, sizeof(s.event_id), "%s", a->event_id);
    snprintf(s.event_type, sizeof(s.event_type), "i_new");
    snprintf(s.webhook_type, sizeof(s.webhook_type), "incident");
    snprintf(s.ref_id, sizeof(s.ref_id), "%s", a->incident_id);
    push_attempt at;
    push_attempt_init(&at);
    at.outcome = OUTCOME_FAILED;
    snprintf(at.error, sizeof(at.error), "seeded");
    return history_insert(txn, &s, "http://127.0.0.1:9/hook?x=1", &at, err);
}

static void make_history(void) {
    seed_arg a = {var_get("EV"), var_get("INC"), atoll(var_get("WH")), atoll(var_get("CH"))};
    tc_err err;
    if (writer_run(h.app.w, seed_cmd, &a, &err) != 0)
        fail_msg("setup: history: %s", err.message);
}

/* ---- what each route needs ready ------------------------------------------- */

static void prep_incidents(void) {
    make_incidents();
    make_history();
}

/* An incident of the grouped channel with one alert; the next alert of
 * its host joins it and sets off the storm warning. */
static void prep_grouped(void) {
    char tmpl[256];
    var_set("GHOST", "g%d", ++generation);
    snprintf(tmpl, sizeof(tmpl),
             "{\"title_rule\":\"grouped $host\",\"event_status\":\"Info\","
             "\"labels\":{\"host\":\"%s\",\"dc\":\"x\"}}",
             var_get("GHOST"));
    json_decref(must("/event/push/alert/standard", "SRCGKEY", tmpl));
}

static void prep_acked(void) {
    prep_incidents();
    json_decref(must("/incident/ack", NULL, "{\"incident_ids\":[\"$INC\"]}"));
}

static void prep_snoozed(void) {
    prep_incidents();
    json_decref(must("/incident/snooze", NULL, "{\"incident_ids\":[\"$INC\"],\"minutes\":5}"));
}

static void prep_resolved(void) {
    prep_incidents();
    json_decref(must("/incident/resolve", NULL, "{\"incident_ids\":[\"$INC\"]}"));
}

static void prep_ch2(void) {
    int g = ++generation;
    char tmpl[128];
    snprintf(tmpl, sizeof(tmpl), "{\"channel_name\":\"fx2-%d\",\"team_id\":0}", g);
    must_set("CH2", "/channel/create", NULL, tmpl, "channel_id");
}

/* A silence rule of $CH ($RU) in force, for labels fx_muted=yes only. */
static void prep_rule(void) {
    must_set("RU", "/channel/silence/rule/create", NULL,
             "{\"channel_id\":$CH,\"rule_name\":\"fx-silence\","
             "\"filters\":[[{\"key\":\"labels.fx_muted\",\"oper\":\"IN\",\"vals\":[\"yes\"]}]],"
             "\"time_filter\":{\"start_time\":1000,\"end_time\":4102444800}}",
             "rule_id");
}

static void prep_rule_disabled(void) {
    prep_rule();
    json_decref(
        must("/channel/silence/rule/disable", NULL, "{\"channel_id\":$CH,\"rule_id\":\"$RU\"}"));
}

/* A fresh escalation rule of channel CHE (ESC): delete and update need one. */
#define ESC_RULE_BODY                                                                              \
    "\"rule_name\":\"esc $N\",\"aggr_window\":60,\"filters\":[[{\"key\":\"title\","                \
    "\"oper\":\"IN\",\"vals\":[\"/fx.*/\",\"fx*\"]}]],\"time_filters\":[{\"start\":\"00:00\","     \
    "\"end\":\"23:59\",\"repeat\":[0,1,2,3,4,5,6]}],\"layers\":[{\"target\":{\"person_ids\":"      \
    "[$P],\"emails\":[\"fxmember@example.com\"]},\"escalate_window\":0},{\"target\":"              \
    "{\"person_ids\":[$M]}}]"

static void prep_esc(void) {
    must_set("ESC", "/channel/escalate/rule/create", NULL,
             "{\"channel_id\":$CHE," ESC_RULE_BODY "}", "rule_id");
}

static void prep_ch2_disabled(void) {
    prep_ch2();
    json_decref(must("/channel/disable", NULL, "{\"channel_id\":$CH2}"));
}

static void prep_wh2(void) {
    int g = ++generation;
    char tmpl[256];
    snprintf(tmpl, sizeof(tmpl),
             "{\"type\":\"webhook_incident\",\"name\":\"fx-wh2-%d\","
             "\"endpoint\":\"http://127.0.0.1:9/two\",\"headers\":{\"X-Token\":\"t\"}}",
             g);
    must_set("WH2", "/integration/create", NULL, tmpl, "integration_id");
}

static void prep_wh2_disabled(void) {
    prep_wh2();
    json_decref(must("/integration/disable", NULL, "{\"integration_id\":$WH2}"));
}

static void prep_m2(void) {
    int g = ++generation;
    char tmpl[256];
    snprintf(tmpl, sizeof(tmpl),
             "{\"members\":[{\"member_name\":\"fx two %d\",\"email\":\"fx2-%d@example.com\"}]}", g,
             g);
    json_t *d = must("/member/invite", NULL, tmpl);
    var_set("M2", "%lld",
            (long long)json_integer_value(
                json_object_get(json_array_get(json_object_get(d, "items"), 0), "member_id")));
    json_decref(d);
}

static void prep_replay(void) {
    prep_incidents();
    must_set("RP", "/webhook/history/replay", NULL,
             "{\"integration_id\":$WH," WINDOW_MS ",\"dry_run\":false}", "replay_id");
}

/* ---- the routes -------------------------------------------------------------- */

typedef struct {
    const char *path;
    const char *key_var; /* Event API: the variable holding the key */
    const char *body;
    void (*prep)(void); /* made before the first try, and again after a try that changed the
                           store (a failure after the commit) */
    int multi;          /* runs several commands: the store is not compared */
    int no_curl;        /* pushes over the network: libcurl's allocations not counted */
} route_case;

static const route_case cases[] = {
    /* The lists first, while the store holds the fixture's one change. */
    {"/change/list", NULL,
     "{\"query\":\"dep|done\",\"include_events\":true,\"orderby\":\"last_time\","
     "\"channel_ids\":[$CH]}",
     NULL, 0, 0},
    {"/incident/change/list", NULL, "{\"incident_id\":\"$INC\",\"include_events\":true}",
     prep_incidents, 0, 0},
    /* A new change, and an event merged into the existing one. */
    {"/event/push/change/standard", "CHSKEY",
     "{\"change_key\":\"chg-$N\",\"change_status\":\"Planned\",\"title\":\"t $N\","
     "\"description\":\"d\",\"link\":\"https://ci/$N\",\"labels\":{\"a\":\"b\"}}",
     NULL, 0, 0},
    {"/event/push/change/standard", "CHSKEY",
     "{\"change_key\":\"fx-chg\",\"change_status\":\"Done\",\"title\":\"done $N\"}", NULL, 0, 0},
    {"/event/push/alert/standard", "SRCKEY",
     "{\"title_rule\":\"ev $host $N\",\"event_status\":\"Critical\",\"alert_key\":\"ev-$N\","
     "\"description\":\"d\",\"labels\":{\"host\":\"h1\",\"svc\":\"api\"},"
     "\"images\":[{\"src\":\"http://x/a.png\",\"alt\":\"a\",\"href\":\"http://x\"}]}",
     prep_incidents, 0, 0},
    /* An event of an open alert (a_update, the incident refreshed), and one
     * that recovers it (the incident closes by itself). */
    {"/event/push/alert/standard", "SRCKEY",
     "{\"title_rule\":\"fx $host\",\"event_status\":\"Critical\",\"alert_key\":\"$AL2KEY\","
     "\"labels\":{\"host\":\"db1\",\"new\":\"label\"}}",
     prep_incidents, 0, 0},
    {"/event/push/alert/standard", "SRCKEY",
     "{\"title_rule\":\"fx $host\",\"event_status\":\"Ok\",\"alert_key\":\"$AL2KEY\"}",
     prep_incidents, 0, 0},
    /* An alert that joins the open incident of its group, whose count
     * then reaches the storm threshold. */
    {"/event/push/alert/standard", "SRCGKEY",
     "{\"title_rule\":\"grouped $host\",\"event_status\":\"Critical\",\"alert_key\":\"g-$N\","
     "\"labels\":{\"host\":\"$GHOST\",\"dc\":\"x\"}}",
     prep_grouped, 0, 0},
    {"/event/push/alert/prometheus", "PROMKEY",
     "{\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"cpu\","
     "\"n\":\"$N\",\"severity\":\"critical\"},\"annotations\":{\"summary\":\"cpu $N\","
     "\"description\":\"high\"},\"startsAt\":\"2024-01-01T00:00:00Z\"},{\"status\":\"resolved\","
     "\"labels\":{\"alertname\":\"disk\",\"n\":\"$N\"},\"fingerprint\":\"fp-$N\"}]}",
     NULL, 0, 0},
    {"/incident/create", NULL,
     "{\"incident_severity\":\"Warning\",\"title\":\"made $N\",\"description\":\"d\","
     "\"channel_id\":$CH,\"assigned_to\":{\"person_ids\":[$M]}}",
     NULL, 0, 0},
    {"/incident/info", NULL, "{\"incident_id\":\"$INC\"}", prep_incidents, 0, 0},
    {"/incident/list", NULL,
     "{" WINDOW_S ",\"incident_ids\":[\"$INC\"],\"query\":\"fx\",\"responder_ids\":[$M]}",
     prep_incidents, 0, 0},
    {"/incident/list-by-ids", NULL, "{\"incident_ids\":[\"$INC\"]}", prep_incidents, 0, 0},
    {"/incident/ack", NULL, "{\"incident_ids\":[\"$INC\"]}", prep_incidents, 0, 0},
    {"/incident/unack", NULL, "{\"incident_ids\":[\"$INC\"]}", prep_acked, 0, 0},
    {"/incident/snooze", NULL, "{\"incident_ids\":[\"$INC\"],\"minutes\":10}", prep_incidents, 0,
     0},
    {"/incident/wake", NULL, "{\"incident_ids\":[\"$INC\"]}", prep_snoozed, 0, 0},
    {"/incident/resolve", NULL,
     "{\"incident_ids\":[\"$INC\"],\"root_cause\":\"rc\",\"resolution\":\"fixed\"}", prep_incidents,
     0, 0},
    {"/incident/reopen", NULL, "{\"incident_ids\":[\"$INC\"],\"reason\":\"again\"}", prep_resolved,
     0, 0},
    {"/incident/assign", NULL,
     "{\"incident_id\":\"$INC\",\"assigned_to\":{\"person_ids\":[$P,$M],\"type\":\"reassign\"}}",
     prep_incidents, 0, 0},
    {"/incident/responder/add", NULL, "{\"incident_id\":\"$INC\",\"person_ids\":[$P]}",
     prep_incidents, 0, 0},
    {"/incident/comment", NULL, "{\"incident_ids\":[\"$INC\"],\"comment\":\"hello\"}",
     prep_incidents, 0, 0},
    {"/incident/reset", NULL,
     "{\"incident_id\":\"$INC\",\"title\":\"new title\",\"description\":\"new description\","
     "\"incident_severity\":\"Critical\"}",
     prep_incidents, 0, 0},
    {"/incident/field/reset", NULL,
     "{\"incident_id\":\"$INC\",\"field_name\":\"f\",\"field_value\":{\"a\":[1,\"b\"]}}",
     prep_incidents, 0, 0},
    {"/incident/merge", NULL,
     "{\"source_incident_ids\":[\"$INC2\"],\"target_incident_id\":\"$INC\",\"title\":\"merged\","
     "\"comment\":\"c\",\"owner_id\":$M}",
     prep_incidents, 0, 0},
    {"/incident/merge", NULL,
     "{\"source_incident_ids\":[\"$INC2\"],\"target_incident_id\":\"$INC\","
     "\"remove_source_incidents\":true}",
     prep_incidents, 0, 0},
    {"/incident/remove", NULL, "{\"incident_ids\":[\"$INC2\"]}", prep_incidents, 0, 0},
    {"/incident/feed", NULL, "{\"incident_id\":\"$INC\"}", prep_incidents, 0, 0},
    {"/incident/alert/list", NULL, "{\"incident_id\":\"$INC\",\"include_events\":true}",
     prep_incidents, 0, 0},
    {"/alert/info", NULL, "{\"alert_id\":\"$AL\"}", prep_incidents, 0, 0},
    {"/alert/list", NULL, "{" WINDOW_S ",\"alert_ids\":[\"$AL\"],\"limit\":1}", prep_incidents, 0,
     0},
    {"/alert/list-by-ids", NULL, "{\"alert_ids\":[\"$AL\"]}", prep_incidents, 0, 0},
    {"/alert/event/list", NULL, "{\"alert_id\":\"$AL\"}", prep_incidents, 0, 0},
    {"/alert/feed", NULL, "{\"alert_id\":\"$AL\"}", prep_incidents, 0, 0},
    {"/alert/merge", NULL,
     "{\"alert_ids\":[\"$AL2\"],\"incident_id\":\"$INC\",\"title\":\"m\",\"comment\":\"c\","
     "\"owner_id\":$M}",
     prep_incidents, 0, 0},
    {"/alert/close", NULL, "{\"alert_ids\":[\"$AL\"]}", prep_incidents, 0, 0},
    {"/alert-event/list", NULL,
     "{" WINDOW_S ",\"integration_ids\":[$SRC],\"integration_types\":[\"standard\"],"
     "\"severities\":\"Warning\",\"limit\":1}",
     prep_incidents, 0, 0},
    {"/channel/create", NULL,
     "{\"channel_name\":\"made-$N\",\"team_id\":0,\"description\":\"d\",\"managing_team_ids\":[1],"
     "\"group\":{\"method\":\"p\",\"equals\":[[\"host\"]],\"storm_thresholds\":[10,5],"
     "\"i_keys\":[\"host\"],\"cases\":[{}],\"i_score_threshold\":0.7},"
     "\"flapping\":{\"is_disabled\":true}}",
     NULL, 0, 0},
    /* its escalate_rule becomes the channel's rule "Default" */
    {"/channel/create", NULL,
     "{\"channel_name\":\"made-esc-$N\",\"team_id\":0,\"escalate_rule\":{\"aggr_window\":60,"
     "\"template_id\":\"65a1b2c3d4e5f60718293a4b\",\"target\":{\"person_ids\":[$P],"
     "\"emails\":[\"fxmember@example.com\"],\"by\":{\"follow_preference\":true}}}}",
     NULL, 0, 0},
    {"/channel/info", NULL, "{\"channel_id\":$CH}", NULL, 0, 0},
    {"/channel/escalate/rule/create", NULL, "{\"channel_id\":$CHE," ESC_RULE_BODY "}", NULL, 0, 0},
    {"/channel/escalate/rule/update", NULL,
     "{\"channel_id\":$CHE,\"rule_id\":\"$ESC\"," ESC_RULE_BODY "}", prep_esc, 0, 0},
    {"/channel/escalate/rule/list", NULL, "{\"channel_id\":$CHE}", NULL, 0, 0},
    {"/channel/escalate/rule/info", NULL, "{\"channel_id\":$CHE,\"rule_id\":\"$ESC\"}", NULL, 0, 0},
    {"/channel/escalate/rule/disable", NULL, "{\"channel_id\":$CHE,\"rule_id\":\"$ESC\"}", prep_esc,
     0, 0},
    {"/channel/escalate/rule/enable", NULL, "{\"channel_id\":$CHE,\"rule_id\":\"$ESC\"}", prep_esc,
     0, 0},
    {"/channel/escalate/rule/delete", NULL, "{\"channel_id\":$CHE,\"rule_id\":\"$ESC\"}", prep_esc,
     0, 0},
    {"/incident/create", NULL,
     "{\"incident_severity\":\"Info\",\"title\":\"fx esc $N\",\"channel_id\":$CHE,"
     "\"assigned_to\":{\"escalate_rule_id\":\"$ESC\",\"layer_idx\":1}}",
     prep_esc, 0, 0},
    {"/incident/create", NULL,
     "{\"incident_severity\":\"Info\",\"title\":\"fx auto $N\",\"channel_id\":$CHE}", prep_esc, 0,
     0},
    {"/channel/infos", NULL, "{\"channel_ids\":[$CH,$CH]}", NULL, 0, 0},
    {"/channel/list", NULL, "{\"channel_ids\":[$CH],\"query\":\"fx\",\"limit\":1}", NULL, 0, 0},
    {"/channel/list", NULL, "{\"channel_ids\":[$CH],\"is_brief\":true,\"limit\":1}", NULL, 0, 0},
    {"/channel/update", NULL,
     "{\"channel_id\":$CH2,\"description\":\"updated $N\",\"auto_resolve_mode\":\"update\","
     "\"group\":{\"method\":\"i\",\"i_keys\":[\"host\"]}}",
     prep_ch2, 0, 0},
    {"/channel/delete", NULL, "{\"channel_id\":$CH2}", prep_ch2, 0, 0},
    {"/channel/enable", NULL, "{\"channel_id\":$CH2}", prep_ch2_disabled, 0, 0},
    {"/channel/disable", NULL, "{\"channel_id\":$CH2}", prep_ch2, 0, 0},
    {"/member/invite", NULL,
     "{\"members\":[{\"member_name\":\"inv $N\",\"email\":\"inv$N@example.com\","
     "\"phone\":\"+1 555 0100 $N\",\"role_ids\":[1]},{\"member_name\":\"inv b$N\","
     "\"email\":\"invb$N@example.com\"}]}",
     NULL, 0, 0},
    {"/member/list", NULL, "{\"query\":\"fxmember\",\"limit\":1}", NULL, 0, 0},
    {"/member/delete", NULL, "{\"member_id\":$M2}", prep_m2, 0, 0},
    {"/member/info", NULL, "{}", NULL, 0, 0},
    {"/person/infos", NULL, "{\"person_ids\":[$P,$M,$P]}", NULL, 0, 0},
    {"/app-key/create", NULL, "{\"person_id\":$M,\"name\":\"k\"}", NULL, 0, 0},
    {"/integration/create", NULL,
     "{\"type\":\"webhook_incident\",\"name\":\"made-$N\",\"endpoint\":\"https://127.0.0.1:9/m\","
     "\"headers\":{\"X-A\":\"1\",\"X-Secret\":\"s\"},\"channel_ids\":[$CH],"
     "\"event_types\":[\"i_new\",\"i_rslv\"],\"timeout_ms\":500,\"tls_verify\":false,"
     "\"body_template\":\"{\\\"t\\\":\\\"{{incident.title}}\\\"}\","
     "\"retry\":{\"max_attempts\":3,\"schedule_s\":[1,2]},\"ordered\":false}",
     NULL, 0, 0},
    {"/integration/create", NULL,
     "{\"type\":\"alert_standard\",\"name\":\"made-src-$N\",\"channel_id\":$CH}", NULL, 0, 0},
    {"/integration/update", NULL,
     "{\"integration_id\":$WH2,\"name\":\"upd-$N\",\"description\":\"d\","
     "\"headers\":{\"X-Token\":\"***\",\"X-B\":\"2\"},\"retry\":{\"max_attempts\":4},"
     "\"channel_ids\":[$CH]}",
     prep_wh2, 0, 0},
    {"/integration/delete", NULL, "{\"integration_id\":$WH2}", prep_wh2, 0, 0},
    {"/integration/info", NULL, "{\"integration_id\":$WH}", NULL, 0, 0},
    {"/integration/info", NULL, "{\"integration_id\":$SRC}", NULL, 0, 0},
    {"/integration/list", NULL, "{\"type\":\"custom_action\",\"channel_id\":$CH}", NULL, 0, 0},
    {"/integration/enable", NULL, "{\"integration_id\":$WH2}", prep_wh2_disabled, 0, 0},
    {"/integration/disable", NULL, "{\"integration_id\":$WH2}", prep_wh2, 0, 0},
    {"/integration/rotate-secret", NULL, "{\"integration_id\":$WH2}", prep_wh2, 0, 0},
    {"/integration/health", NULL, "{\"integration_id\":$WH}", prep_incidents, 0, 0},
    {"/webhook/history/list", NULL,
     "{" WINDOW_MS ",\"limit\":2,\"integration_id\":$WH,\"event_types\":[\"i_new\"]}",
     prep_incidents, 0, 0},
    {"/webhook/history/detail", NULL, "{\"event_id\":\"$EV\",\"integration_id\":$WH}",
     prep_incidents, 0, 0},
    {"/webhook/history/resend", NULL, "{\"event_id\":\"$EV\",\"integration_id\":$WH}",
     prep_incidents, 0, 0},
    {"/webhook/history/replay", NULL,
     "{\"integration_id\":$WH," WINDOW_MS ",\"event_types\":[\"i_new\"],\"dry_run\":true}",
     prep_incidents, 0, 0},
    {"/webhook/history/replay", NULL,
     "{\"integration_id\":$WH," WINDOW_MS ",\"status\":\"failed\",\"dry_run\":false}",
     prep_incidents, 0, 0},
    {"/webhook/history/replay/info", NULL, "{\"replay_id\":\"$RP\"}", prep_replay, 0, 0},
    /* Channel rules: every value shape compiled, none matching any push. */
    {"/channel/unsubscribe/rule/create", NULL,
     "{\"channel_id\":$CH,\"rule_name\":\"d$N\",\"filters\":[[{\"key\":\"labels.fx_never\","
     "\"oper\":\"IN\",\"vals\":[\"/^x\\\\d+$/\",\"a*b?\",\"cidr:10.0.0.0/8\",\"num:gt:3\","
     "\"exact\"]}]]}",
     NULL, 0, 0},
    {"/channel/silence/rule/create", NULL,
     "{\"channel_id\":$CH,\"rule_name\":\"s$N\",\"description\":\"d\",\"priority\":2,"
     "\"filters\":[[{\"key\":\"labels.fx_never\",\"oper\":\"NOTIN\",\"vals\":[\"*\"]}]],"
     "\"time_filters\":[{\"start\":\"22:00\",\"end\":\"02:00\",\"repeat\":[0,6]}],"
     "\"is_directly_discard\":true}",
     NULL, 0, 0},
    {"/channel/inhibit/rule/create", NULL,
     "{\"channel_id\":$CH,\"rule_name\":\"i$N\",\"equals\":[\"labels.host\",\"data_source_id\"],"
     "\"source_filters\":[[{\"key\":\"severity\",\"oper\":\"IN\",\"vals\":[\"Critical\"]}]],"
     "\"target_filters\":[[{\"key\":\"labels.fx_never\",\"oper\":\"IN\",\"vals\":[\"x\"]}]]}",
     NULL, 0, 0},
    {"/channel/silence/rule/list", NULL, "{\"channel_id\":$CH}", prep_rule, 0, 0},
    {"/channel/silence/rule/update", NULL,
     "{\"channel_id\":$CH,\"rule_id\":\"$RU\",\"rule_name\":\"u$N\","
     "\"filters\":[[{\"key\":\"labels.fx_muted\",\"oper\":\"IN\",\"vals\":[\"yes\"]}]],"
     "\"time_filter\":{\"start_time\":1000,\"end_time\":4102444800}}",
     prep_rule, 0, 0},
    {"/channel/silence/rule/disable", NULL, "{\"channel_id\":$CH,\"rule_id\":\"$RU\"}", prep_rule,
     0, 0},
    {"/channel/silence/rule/enable", NULL, "{\"channel_id\":$CH,\"rule_id\":\"$RU\"}",
     prep_rule_disabled, 0, 0},
    {"/channel/silence/rule/delete", NULL, "{\"channel_id\":$CH,\"rule_id\":\"$RU\"}", prep_rule, 0,
     0},
    /* A muted event: its alert is kept, marked, in no incident. */
    {"/event/push/alert/standard", "SRCKEY",
     "{\"title_rule\":\"muted $N\",\"event_status\":\"Warning\",\"alert_key\":\"mu-$N\","
     "\"labels\":{\"host\":\"h1\",\"fx_muted\":\"yes\"}}",
     prep_rule, 0, 0},
    {"/integration/test", NULL, "{\"integration_id\":$WH,\"event_type\":\"i_ack\"}", NULL, 1, 1},
    {"/incident/custom-action/do", NULL, "{\"incident_id\":\"$INC\",\"integration_id\":$CA}",
     prep_incidents, 1, 1},
};

/* ---- the store's footprint ----------------------------------------------------- */

/* Row counts and document sizes of every table a handler writes: a command
 * that failed must leave it as it was. The store grows with every try, so
 * the big tables' rows are hashed one by one (sha256_hex, store_sqlite.c):
 * concatenating their whole text made each footprint cost as much as the
 * store's size, and the test quadratic (most of its time, under perf). */
static void footprint(char *out, size_t cap) {
    static const char *const sql =
        "SELECT (SELECT count(*) || ':' || coalesce(group_concat(sha256_hex(event_type"
        " || feed_ref || coalesce(detail, '') || coalesce(body, '')), '|'), '') FROM events)"
        " || ',' || (SELECT count(*) FROM alert_events)"
        " || ',' || (SELECT count(*) || ':' || coalesce(group_concat(sha256_hex(progress"
        " || incident_status || incident_severity || title || description || impact"
        " || root_cause || resolution || responders || fields || pins"
        " || coalesce(assigned_to, '') || coalesce(closer, '') || coalesce(creator, '') || lanes"
        " || group_keys || storm_fired || deleted_at"
        " || snoozed_before || alert_cnt || active_alert_cnt || alert_event_cnt || owner_id),"
        " '|'), '') FROM incidents)"
        " || ',' || (SELECT count(*) || ':' || coalesce(group_concat(sha256_hex(progress"
        " || alert_status || alert_severity || incident_id || title || labels || event_cnt || lanes"
        " || ever_muted), '|'), '') FROM alerts)"
        " || ',' || (SELECT count(*) || ':' || coalesce(group_concat(rule_name || status || body"
        " || deleted_at || priority || from_incident_id, '|'), '') FROM channel_rules)"
        " || ',' || (SELECT count(*) || ':' || total(length(doc) + length(rules)) FROM channels)"
        " || ',' || (SELECT count(*) || ':' || total(length(config) + length(status) +"
        " length(name) + length(coalesce(signing_secret, '')) +"
        " length(coalesce(prev_signing_secret, ''))) FROM integrations)"
        " || ',' || (SELECT count(*) || ':' || total(length(status)) FROM persons)"
        " || ',' || (SELECT count(*) FROM app_keys) || ',' || (SELECT count(*) FROM deliveries)"
        " || ',' || (SELECT count(*) FROM subscriptions) || ',' || (SELECT count(*) FROM replays)"
        " || ',' || (SELECT count(*) FROM replay_items)"
        " || ',' || (SELECT count(*) || ':' || coalesce(group_concat(change_status || title"
        " || event_cnt || end_time, '|'), '') FROM changes)"
        " || ',' || (SELECT count(*) FROM change_events)"
        " || ',' || (SELECT count(*) FROM webhook_history)"
        " || ',' || (SELECT count(*) || ':' || coalesce(group_concat(rule_name || status"
        " || deleted_at || layers || time_filters || filters, '|'), '') FROM escalate_rules)"
        " || ',' || (SELECT count(*) || ':' || coalesce(group_concat(incident_id || rule_id"
        " || layer_idx || state || reason || next_at, '|'), '') FROM incident_escalations)";
    tc_err err;
    store_conn *c = store_reader_acquire(h.app.st);
    store_stmt *q = store_prepare(c, sql, &err);
    assert_non_null(q);
    assert_int_equal(store_step(q, &err), STORE_ROW);
    /* Hashed: the whole text of every row is compared, whatever its length. */
    char hex[65];
    ids_sha256_hex(store_col_text(q, 0), strlen(store_col_text(q, 0)), hex);
    snprintf(out, cap, "%s", hex);
    store_stmt_done(q);
    store_reader_release(h.app.st, c);
}

/* ---- running a route under the hook ------------------------------------------- */

static int violations;

static void violation(const route_case *rc, long n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void violation(const route_case *rc, long n, const char *fmt, ...) {
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    fprintf(stderr, "VIOLATION %s (allocation %ld failing): %s\n", rc->path, n, what);
    violations++;
}

static void prepare(const route_case *rc) {
    if (rc->prep)
        rc->prep();
}

/* Where the failing allocation was, for the first few violations. */
static void trace_failure(void) {
    if (traces++ < MAX_TRACES)
        alloc_hook_print_stack();
}

/* One try: 1 when the n-th allocation was reached. *in_command is set when
 * a failure hit the writer thread. */
static int try_once(const route_case *rc, long n, long *counted, int *in_command) {
    char before[1024], after[1024];
    footprint(before, sizeof(before));
    var_set("N", "%ld", n);
    json_t *data = NULL;
    tc_err err;
    alloc_hook_count_curl(!rc->no_curl);
    int r = call_armed(rc->path, rc->key_var, rc->body, n, counted, &data, &err);
    alloc_hook_count_curl(1);
    int reached = alloc_hook_reached(), off = alloc_hook_failed_off_thread();
    footprint(after, sizeof(after));
    int changed = strcmp(before, after) != 0;
    *in_command |= reached && off;
    if (!reached) {
        if (r != 0)
            violation(rc, n, "failed with nothing failing: %s", err.message);
        else if (!json_is_object(data))
            violation(rc, n, "a success without data");
        /* The footprint must see the route's change, or comparing it after
         * a failed command would prove nothing. */
        else if (*in_command && !changed)
            violation(rc, n, "the footprint does not show this route's change");
    } else if (r == 0) {
        char *dump = json_dumps(data, JSON_COMPACT);
        violation(rc, n, "answered success: %.300s", dump ? dump : "(no data)");
        free(dump);
        json_decref(data);
        trace_failure();
        prepare(rc);
        return 1;
    } else if (err.code != TC_INTERNAL || !err.message[0]) {
        violation(rc, n, "answered %s (%s), not InternalError", tc_code_name(err.code),
                  err.message);
        trace_failure();
    } else if (off && changed && !rc->multi) {
        violation(rc, n, "the failed command changed the store: %s -> %s", before, after);
    }
    json_decref(data);
    /* A failure after the commit leaves the change made: the next try
     * needs its fixtures again. */
    if (reached && changed)
        prepare(rc);
    return reached;
}

static void run_case(const route_case *rc, long *total) {
    prepare(rc);
    long n = 1, counted = 0;
    int in_command = 0;
    while (try_once(rc, n, &counted, &in_command))
        n++;
    *total += n;
    fprintf(stderr, "alloc_failure: %-30s %5ld allocations\n", rc->path, counted);
}

static void routes_fail_closed(void **state) {
    (void)state;
    long tries = 0;
    const char *only = getenv("TOCSIN_ALLOC_ONLY"); /* a path's part: run only those routes */
    make_base();
    prep_incidents();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (only && !strstr(cases[i].path, only))
            continue;
        /* Warmed once, so that the statements are in the store's cache
         * (a statement that cannot be cached runs uncached: harmless). */
        json_t *data = NULL;
        tc_err err;
        prepare(&cases[i]);
        var_set("N", "%zu", 900000 + i);
        if (call(cases[i].path, cases[i].key_var, cases[i].body, &data, &err) != 0)
            fail_msg("%s fails without any failing allocation: %s", cases[i].path, err.message);
        json_decref(data);
        run_case(&cases[i], &tries);
    }
    fprintf(stderr, "alloc_failure: %zu route cases, %ld tries\n", sizeof(cases) / sizeof(cases[0]),
            tries);
    assert_int_equal(violations, 0);
}

/* ---- the timer ------------------------------------------------------------------- */

static int overdue_cmd(writer_txn *txn, void *arg, tc_err *err) {
    store_stmt *st = store_prepare(
        txn->conn, "UPDATE incidents SET snoozed_before = 1 WHERE incident_id = ?", err);
    if (!st)
        return -1;
    store_bind_text(st, 1, arg);
    return store_run(st, err);
}

static int wake_cmd(writer_txn *txn, void *arg, tc_err *err) {
    (void)arg;
    return incident_wake_expired(txn, err);
}

static int is_snoozed(const char *incident_id) {
    must_query("N", "SELECT snoozed_before FROM incidents WHERE incident_id = ?", incident_id);
    return strcmp(var_get("N"), "0") != 0;
}

/* Snooze expiry, run by the writer's timer: an incident wakes whole or not
 * at all (its SAVEPOINT), and one that cannot be woken does not fail the
 * tick (the timer's other jobs still run). */
static void timer_wake_is_whole_or_nothing(void **state) {
    (void)state;
    tc_err err;
    char id[128]; /* a variable holds at most 127 bytes */
    /* Once unarmed first: the statements are then in the cache (as the
     * routes are warmed). */
    for (int warm = 1; warm >= 0; warm--) {
        prep_snoozed();
        snprintf(id, sizeof(id), "%s", var_get("INC"));
        assert_int_equal(writer_run(h.app.w, overdue_cmd, id, &err), 0);
        if (warm)
            assert_int_equal(writer_run(h.app.w, wake_cmd, NULL, &err), 0);
    }
    long n = 1;
    for (;; n++) {
        char before[1024], after[1024];
        footprint(before, sizeof(before));
        alloc_hook_arm(n);
        int rc = writer_run(h.app.w, wake_cmd, NULL, &err);
        alloc_hook_disarm();
        footprint(after, sizeof(after));
        assert_int_equal(rc, 0);
        if (!alloc_hook_reached()) {
            assert_false(is_snoozed(id));
            break;
        }
        if (!is_snoozed(id)) {
            alloc_hook_print_stack();
            fail_msg("allocation %ld failed, and the incident woke all the same", n);
        }
        assert_string_equal(before, after);
    }
    fprintf(stderr, "alloc_failure: snooze expiry %ld allocations\n", n - 1);
}

static int esc_due_cmd(writer_txn *txn, void *arg, tc_err *err) {
    store_stmt *st = store_prepare(txn->conn,
                                   "UPDATE incident_escalations SET next_at = 1, state = 'pending',"
                                   " layer_idx = 0, reason = 'assign' WHERE incident_id = ?",
                                   err);
    if (!st)
        return -1;
    store_bind_text(st, 1, arg);
    return store_run(st, err);
}

/* Every pending step of the routes' incidents due now. */
static int esc_all_due_cmd(writer_txn *txn, void *arg, tc_err *err) {
    (void)arg;
    store_stmt *st = store_prepare(
        txn->conn, "UPDATE incident_escalations SET next_at = 1 WHERE next_at > 0", err);
    return st ? store_run(st, err) : -1;
}

static int esc_tick_cmd(writer_txn *txn, void *arg, tc_err *err) {
    (void)arg;
    return escalation_run_due(txn, err);
}

/* "state:layer_idx:i_assign events" of the incident, in variable N. */
static const char *esc_progress(const char *incident_id) {
    must_query("N",
               "SELECT e.state || ':' || e.layer_idx || ':' || (SELECT COUNT(*) FROM events v"
               " WHERE v.feed_ref = e.incident_id AND v.event_type = 'i_assign')"
               " FROM incident_escalations e WHERE e.incident_id = ?",
               incident_id);
    return var_get("N");
}

/* An escalation step, run by the writer's timer: layer 0 is assigned whole
 * (responders, assigned_to, i_assign, the next step) or not at all, and a
 * step that cannot run does not fail the tick. */
static void timer_escalation_is_whole_or_nothing(void **state) {
    (void)state;
    tc_err err;
    char id[128], before[128];
    json_t *d = must("/incident/create", NULL,
                     "{\"incident_severity\":\"Info\",\"title\":\"fx tick\",\"channel_id\":$CHE}");
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(d, "incident_id")));
    json_decref(d);
    /* Unarmed first: the statements are cached, and every other step that
     * came due while the routes ran is done (each layer takes one tick). */
    for (int warm = 0; warm < 4; warm++) {
        assert_int_equal(writer_run(h.app.w, esc_all_due_cmd, NULL, &err), 0);
        assert_int_equal(writer_run(h.app.w, esc_tick_cmd, NULL, &err), 0);
        assert_int_equal(writer_run(h.app.w, esc_tick_cmd, NULL, &err), 0);
    }
    long n = 1;
    for (;; n++) {
        assert_int_equal(writer_run(h.app.w, esc_due_cmd, id, &err), 0);
        snprintf(before, sizeof(before), "%s", esc_progress(id));
        alloc_hook_arm(n);
        int rc = writer_run(h.app.w, esc_tick_cmd, NULL, &err);
        alloc_hook_disarm();
        assert_int_equal(rc, 0);
        const char *after = esc_progress(id);
        if (!alloc_hook_reached()) {
            assert_true(strncmp(after, "escalate:1:", 11) == 0 || strncmp(after, "done:", 5) == 0);
            break;
        }
        /* Undone: still before layer 0, no new i_assign (next_at was moved
         * a minute on, which esc_due_cmd sets back). */
        if (strcmp(before, after) != 0) {
            alloc_hook_print_stack();
            fail_msg("allocation %ld failed, and the step changed %s into %s", n, before, after);
        }
    }
    fprintf(stderr, "alloc_failure: escalation step %ld allocations\n", n - 1);
}

/* ---- the push builder --------------------------------------------------------------- */

static int load_target(const char *id_var, push_target *t, tc_err *err) {
    store_conn *c = store_reader_acquire(h.app.st);
    int rc = push_target_load(c, atoll(var_get(id_var)), time(NULL), t, err);
    store_reader_release(h.app.st, c);
    return rc;
}

/* Loading a target: an error, or all of it. */
static void target_loading_fails_closed(void **state) {
    (void)state;
    const char *const ids[] = {"WH", "WH3"};
    for (size_t k = 0; k < 2; k++) {
        long n = 1;
        for (;; n++) {
            push_target t;
            tc_err err;
            alloc_hook_arm(n);
            int rc = load_target(ids[k], &t, &err);
            alloc_hook_disarm();
            if (rc != 0) {
                assert_true(alloc_hook_reached());
                assert_int_equal(err.code, TC_INTERNAL);
                continue;
            }
            assert_non_null(t.name);
            assert_non_null(t.endpoint);
            assert_non_null(t.secret);
            assert_non_null(t.headers);
            if (k == 0) { /* the webhook with everything */
                assert_non_null(t.prev_secret);
                assert_non_null(t.body_template);
                assert_int_equal(json_object_size(t.headers), 2);
            }
            int reached = alloc_hook_reached();
            push_target_clear(&t);
            if (!reached)
                break;
        }
        fprintf(stderr, "alloc_failure: target %s %ld allocations\n", ids[k], n - 1);
    }
}

static int count_prefix(const struct curl_slist *l, const char *prefix) {
    int n = 0;
    for (; l; l = l->next)
        n += strncmp(l->data, prefix, strlen(prefix)) == 0;
    return n;
}

static const char *header_value(const struct curl_slist *l, const char *prefix) {
    for (; l; l = l->next)
        if (strncmp(l->data, prefix, strlen(prefix)) == 0)
            return l->data + strlen(prefix);
    return NULL;
}

/* The stored i_new body of the fixture incident: what a push sends. */
static char *event_body(void) {
    tc_err err;
    store_conn *c = store_reader_acquire(h.app.st);
    store_stmt *q = store_prepare(c, "SELECT body FROM events WHERE event_id = ?", &err);
    assert_non_null(q);
    store_bind_text(q, 1, var_get("EV"));
    assert_int_equal(store_step(q, &err), STORE_ROW);
    char *body = strdup(store_col_text(q, 0));
    store_stmt_done(q);
    store_reader_release(h.app.st, c);
    assert_non_null(body);
    return body;
}

/* A request is built whole, signed, or not at all. */
static void push_is_never_unsigned(void **state) {
    (void)state;
    const char *const ids[] = {"WH", "WH3"};
    char *body = event_body();
    for (size_t k = 0; k < 2; k++) {
        push_target t;
        tc_err err;
        assert_int_equal(load_target(ids[k], &t, &err), 0);
        long n = 1;
        for (;; n++) {
            push_attempt a;
            alloc_hook_arm(n);
            int rc = push_attempt_prepare(&a, &t, NULL, var_get("EV"), 7, body, time(NULL), &err);
            alloc_hook_disarm();
            int reached = alloc_hook_reached();
            if (rc != 0) {
                assert_true(reached);
                assert_int_equal(err.code, TC_INTERNAL);
                continue;
            }
            /* Sent only signed: with both secrets while the old one still signs. */
            const char *sig = header_value(a.headers, "webhook-signature: ");
            assert_non_null(sig);
            assert_int_equal(strncmp(sig, "v1,", 3), 0);
            assert_true((strchr(sig, ' ') != NULL) == (t.prev_secret != NULL));
            assert_int_equal(count_prefix(a.headers, "webhook-id: "), 1);
            assert_int_equal(count_prefix(a.headers, "tocsin-sequence: 7"), 1);
            assert_non_null(a.easy);
            if (k == 0) {
                assert_int_equal(count_prefix(a.headers, "X-Custom: custom value"), 1);
                assert_int_equal(count_prefix(a.headers, "Authorization: Bearer fx"), 1);
                assert_int_equal(strncmp(a.body, "{\"t\":\"fx db0\"", 13), 0);
                assert_non_null(strstr(a.headers_text, "Authorization: ***"));
            } else {
                assert_string_equal(a.body, body);
            }
            push_attempt_clear(&a);
            if (!reached)
                break;
        }
        fprintf(stderr, "alloc_failure: push %s %ld allocations\n", ids[k], n - 1);
        push_target_clear(&t);
    }
    free(body);
}

/* A target that signs but has no secret (a copy that failed upstream) is
 * refused, never sent unsigned. */
static void signing_without_a_secret_is_refused(void **state) {
    (void)state;
    push_target t;
    tc_err err;
    assert_int_equal(load_target("WH3", &t, &err), 0);
    free(t.secret);
    t.secret = NULL;
    push_attempt a;
    assert_int_equal(push_attempt_prepare(&a, &t, NULL, "e1", 1, "{}", time(NULL), &err), -1);
    assert_int_equal(err.code, TC_INTERNAL);
    assert_null(a.headers);
    assert_null(a.easy);
    push_target_clear(&t);
}

int main(void) {
    alloc_hook_install();
    /* Every failure writes its log line: thousands of them here. */
    log_set_level((log_level)(LOG_ERROR + 1));
    tc_err err;
    if (harness_open(&h, "alloc", ADMIN_KEY, &err) != 0) {
        fprintf(stderr, "test_alloc_failure: %s\n", err.message);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_fail_closed),
        cmocka_unit_test(timer_wake_is_whole_or_nothing),
        cmocka_unit_test(timer_escalation_is_whole_or_nothing),
        cmocka_unit_test(target_loading_fails_closed),
        cmocka_unit_test(push_is_never_unsigned),
        cmocka_unit_test(signing_without_a_secret_is_refused),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    harness_close(&h);
    curl_global_cleanup();
    return failed;
}
