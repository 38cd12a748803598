/* fuzz_openapi.c: libFuzzer target for Open API request parsing, through
 * the real handlers on a real store.
 *
 * Once per process (LLVMFuzzerInitialize) a real tc_app is assembled by
 * tests/support/harness.h (as main.c does it, minus the HTTP front and the
 * delivery dispatcher: a store in a fresh folder, the writer thread, the
 * administrator), with a member who is not one, and fixtures (a channel, a
 * standard and an Alertmanager source, an incident webhook, an alert and its
 * incident) made through the handlers themselves. It is all freed at exit,
 * folder included, so LeakSanitizer's exit check sees a clean process.
 *
 * Each input: the first byte picks the route (low 7 bits, modulo the number
 * of routes) and the caller (high bit clear: the administrator; set: the
 * member, or a wrong integration key on the Event API). The rest is the
 * body, parsed as http/server.c parses it. Before parsing, the words $CH,
 * $SRC, $PROM, $WH, $INC, $AL, $P and $M are replaced by the current
 * fixtures' ids (channel, standard source, Alertmanager source, webhook,
 * incident, alert, administrator, member), so that seeds and mutations
 * reach past "X does not exist". A call that may retire a fixture (delete,
 * disable, merge, remove) is followed by a new set of fixtures.
 *
 * Skipped: the routes that call out over the network (/integration/test and
 * /incident/custom-action/do push to an endpoint the input could choose).
 *
 * Checked besides memory safety: a refusal names a code other than
 * InternalError (bad input is the caller's fault, never a 500) and a
 * message the server can send (valid UTF-8); a success returns a JSON object
 * that serializes (the server answers a success without data InternalError).
 *
 * The state lives on from input to input (that is what reaches deep
 * transitions), so a finding may need the inputs before it; libFuzzer's
 * crash file alone usually reproduces it, since most paths need only the
 * fixtures. Seeds: fuzz/corpus/openapi/, one file per route (made from the
 * reference's request examples), and fuzz/openapi.dict. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "api/api.h"
#include "api/auth.h"
#include "core/app.h"
#include "fuzz_common.h"
#include "harness.h"
#include "http/routes.h"
#include "util/log.h"

#define ADMIN_KEY "fuzz-admin-app-key-0123456789abcdef"
#define MAX_ROUTES 128

/* The routes in a fixed order, so that a seed's first byte keeps naming the
 * same route: new routes go at the end. Routes of the tables that are
 * missing here are appended at start (and reported). */
static const char *const route_order[] = {
    "/event/push/alert/standard",
    "/event/push/alert/prometheus",
    "/incident/create",
    "/incident/info",
    "/incident/list",
    "/incident/list-by-ids",
    "/incident/ack",
    "/incident/unack",
    "/incident/snooze",
    "/incident/wake",
    "/incident/resolve",
    "/incident/reopen",
    "/incident/assign",
    "/incident/responder/add",
    "/incident/comment",
    "/incident/reset",
    "/incident/field/reset",
    "/incident/merge",
    "/incident/remove",
    "/incident/feed",
    "/incident/alert/list",
    "/alert/info",
    "/alert/list",
    "/alert/list-by-ids",
    "/alert/event/list",
    "/alert/feed",
    "/alert/merge",
    "/alert/close",
    "/alert-event/list",
    "/channel/create",
    "/channel/info",
    "/channel/infos",
    "/channel/list",
    "/channel/update",
    "/channel/delete",
    "/channel/enable",
    "/channel/disable",
    "/member/invite",
    "/member/list",
    "/member/delete",
    "/member/info",
    "/person/infos",
    "/app-key/create",
    "/integration/create",
    "/integration/update",
    "/integration/delete",
    "/integration/info",
    "/integration/list",
    "/integration/enable",
    "/integration/disable",
    "/integration/rotate-secret",
    "/webhook/history/list",
    "/webhook/history/detail",
    "/webhook/history/resend",
    "/webhook/history/replay",
    "/webhook/history/replay/info",
    "/integration/health",
    "/channel/unsubscribe/rule/list",
    "/channel/unsubscribe/rule/create",
    "/channel/unsubscribe/rule/update",
    "/channel/unsubscribe/rule/delete",
    "/channel/unsubscribe/rule/enable",
    "/channel/unsubscribe/rule/disable",
    "/channel/silence/rule/list",
    "/channel/silence/rule/create",
    "/channel/silence/rule/update",
    "/channel/silence/rule/delete",
    "/channel/silence/rule/enable",
    "/channel/silence/rule/disable",
    "/channel/inhibit/rule/list",
    "/channel/inhibit/rule/create",
    "/channel/inhibit/rule/update",
    "/channel/inhibit/rule/delete",
    "/channel/inhibit/rule/enable",
    "/channel/inhibit/rule/disable",
    NULL,
};

/* They push to an endpoint: never from a fuzzer. */
static const char *const skipped[] = {"/integration/test", "/incident/custom-action/do", NULL};

/* After a success on one of these, a fixture may be gone or disabled. */
static const char *const retiring[] = {
    "/channel/delete",
    "/channel/disable",
    "/integration/delete",
    "/integration/disable",
    "/incident/remove",
    "/incident/merge",
    "/alert/merge",
    "/member/delete",
    "/integration/update",
    "/integration/rotate-secret",
    NULL,
};

/* Everything the target keeps between inputs. libFuzzer gives the input
 * function no context, so this one process-wide pointer is the harness's
 * state (tocsin itself has no such global). */
typedef struct {
    harness h;
    tc_person member;
    const api_route *routes[MAX_ROUTES];
    size_t nroutes;
    int generation; /* fixtures made so far: names stay unique */
    /* The fixtures, as text ready to substitute. */
    char channel_id[24], source_id[24], prom_id[24], webhook_id[24], person_id[24], member_id[24];
    char source_key[128], prom_key[128];
    char incident_id[32], alert_id[32];
} fuzz_env;

static fuzz_env *env;

static int in_list(const char *const *list, const char *path) {
    for (size_t i = 0; list[i]; i++) {
        if (strcmp(list[i], path) == 0)
            return 1;
    }
    return 0;
}

static void add_route(const api_route *r) {
    for (size_t i = 0; i < env->nroutes; i++) {
        if (env->routes[i] == r)
            return;
    }
    FUZZ_CHECK(env->nroutes < MAX_ROUTES);
    env->routes[env->nroutes++] = r;
}

/* route_order first, then whatever else the tables of api.h hold. */
static void collect_routes(void) {
    const api_route *const *all = routes_tables();
    for (size_t i = 0; route_order[i]; i++) {
        const api_route *r = routes_find(route_order[i]);
        if (r)
            add_route(r);
        else
            fprintf(stderr, "fuzz_openapi: route %s no longer exists\n", route_order[i]);
    }
    for (size_t t = 0; all[t]; t++) {
        for (const api_route *r = all[t]; r->path; r++) {
            if (in_list(skipped, r->path) || in_list(route_order, r->path))
                continue;
            fprintf(stderr, "fuzz_openapi: new route %s fuzzed at the end\n", r->path);
            add_route(r);
        }
    }
}

/* A setup call that must succeed; its data, or abort. */
static json_t *must_call(const char *path, const char *integration_key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *must_call(const char *path, const char *integration_key, const char *fmt, ...) {
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    json_t *data = NULL;
    tc_err err;
    if (harness_call(&env->h, NULL, 1, path, integration_key, body, &data, &err) != 0) {
        fprintf(stderr, "fuzz_openapi: setup %s %s failed: %s\n", path, body, err.message);
        abort();
    }
    FUZZ_CHECK(data != NULL);
    return data;
}

static void set_int(char *out, size_t cap, json_t *data, const char *key) {
    json_t *v = json_object_get(data, key);
    FUZZ_CHECK(json_is_integer(v));
    snprintf(out, cap, "%lld", (long long)json_integer_value(v));
}

static void set_str(char *out, size_t cap, json_t *data, const char *key) {
    const char *v = json_string_value(json_object_get(data, key));
    FUZZ_CHECK(v != NULL);
    snprintf(out, cap, "%s", v);
}

/* The alert the standard source's event made, and its incident. */
static void find_alert(void) {
    tc_err err;
    store_conn *c = store_reader_acquire(env->h.app.st);
    store_stmt *q = store_prepare(c,
                                  "SELECT alert_id, incident_id FROM alerts WHERE "
                                  "integration_id = ? ORDER BY rowid DESC LIMIT 1",
                                  &err);
    FUZZ_CHECK(q != NULL);
    store_bind_int64(q, 1, strtoll(env->source_id, NULL, 10));
    int rc = store_step(q, &err);
    if (rc == STORE_ROW) {
        snprintf(env->alert_id, sizeof(env->alert_id), "%s", store_col_text(q, 0));
        snprintf(env->incident_id, sizeof(env->incident_id), "%s", store_col_text(q, 1));
    }
    store_stmt_done(q);
    store_reader_release(env->h.app.st, c);
    FUZZ_CHECK(rc == STORE_ROW);
}

/* A fresh set of fixtures; the old ones stay in the store as they are. */
static void make_fixtures(void) {
    int g = ++env->generation;
    json_t *d =
        must_call("/channel/create", NULL, "{\"channel_name\":\"fuzz-%d\",\"team_id\":0}", g);
    set_int(env->channel_id, sizeof(env->channel_id), d, "channel_id");
    json_decref(d);
    d = must_call("/integration/create", NULL,
                  "{\"type\":\"alert_standard\",\"name\":\"fuzz-std-%d\",\"channel_id\":%s}", g,
                  env->channel_id);
    set_int(env->source_id, sizeof(env->source_id), d, "integration_id");
    set_str(env->source_key, sizeof(env->source_key), d, "integration_key");
    json_decref(d);
    d = must_call("/integration/create", NULL,
                  "{\"type\":\"alert_prometheus\",\"name\":\"fuzz-prom-%d\",\"channel_id\":%s}", g,
                  env->channel_id);
    set_int(env->prom_id, sizeof(env->prom_id), d, "integration_id");
    set_str(env->prom_key, sizeof(env->prom_key), d, "integration_key");
    json_decref(d);
    /* Never delivered: there is no dispatcher. Its deliveries pile up. */
    d = must_call("/integration/create", NULL,
                  "{\"type\":\"webhook_incident\",\"name\":\"fuzz-wh-%d\","
                  "\"endpoint\":\"http://127.0.0.1:9/hook\"}",
                  g);
    set_int(env->webhook_id, sizeof(env->webhook_id), d, "integration_id");
    json_decref(d);
    d = must_call("/member/invite", NULL,
                  "{\"members\":[{\"member_name\":\"fuzz member %d\","
                  "\"email\":\"fuzz%d@example.com\"}]}",
                  g, g);
    json_t *item = json_array_get(json_object_get(d, "items"), 0);
    set_int(env->member_id, sizeof(env->member_id), item, "member_id");
    json_decref(d);
    d = must_call("/app-key/create", NULL, "{\"person_id\":%s}", env->member_id);
    const char *key = json_string_value(json_object_get(d, "app_key"));
    tc_err err;
    int is_admin = 0;
    FUZZ_CHECK(key && auth_app_key(&env->h.app, key, &env->member, &is_admin, &err) == 0);
    json_decref(d);
    d = must_call("/event/push/alert/standard", env->source_key,
                  "{\"title_rule\":\"fuzz $host\",\"event_status\":\"Critical\","
                  "\"alert_key\":\"fuzz-%d\",\"labels\":{\"host\":\"db%d\"}}",
                  g, g);
    json_decref(d);
    find_alert();
}

static void env_free(void) {
    if (!env)
        return;
    harness_close(&env->h);
    free(env);
    env = NULL;
    curl_global_cleanup();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    log_set_level(LOG_ERROR); /* one info line per change would drown the fuzzer's output */
    env = calloc(1, sizeof(*env));
    FUZZ_CHECK(env != NULL);
    tc_err err;
    if (harness_open(&env->h, "fuzz", ADMIN_KEY, &err) != 0) {
        fprintf(stderr, "fuzz_openapi: cannot assemble tocsin: %s\n", err.message);
        abort();
    }
    snprintf(env->person_id, sizeof(env->person_id), "%lld", (long long)env->h.admin.person_id);
    atexit(env_free);
    collect_routes();
    make_fixtures();
    return 0;
}

/* The fixture a placeholder names, or NULL. */
static const char *placeholder(const char *p, size_t n, size_t *used) {
    static const struct {
        const char *word;
        size_t off;
    } words[] = {
        {"$PROM", offsetof(fuzz_env, prom_id)},    {"$SRC", offsetof(fuzz_env, source_id)},
        {"$INC", offsetof(fuzz_env, incident_id)}, {"$CH", offsetof(fuzz_env, channel_id)},
        {"$WH", offsetof(fuzz_env, webhook_id)},   {"$AL", offsetof(fuzz_env, alert_id)},
        {"$P", offsetof(fuzz_env, person_id)},     {"$M", offsetof(fuzz_env, member_id)},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t len = strlen(words[i].word);
        if (n >= len && memcmp(p, words[i].word, len) == 0) {
            *used = len;
            return (const char *)env + words[i].off;
        }
    }
    return NULL;
}

/* The body with every placeholder replaced; malloc'd, *out_len bytes. */
static char *expand(const uint8_t *data, size_t size, size_t *out_len) {
    size_t cap = size + 1, len = 0;
    char *out = malloc(cap);
    FUZZ_CHECK(out != NULL);
    for (size_t i = 0; i < size;) {
        size_t used = 1;
        const char *sub =
            data[i] == '$' ? placeholder((const char *)data + i, size - i, &used) : NULL;
        const char *from = sub ? sub : (const char *)data + i;
        size_t n = sub ? strlen(sub) : 1;
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            out = realloc(out, cap);
            FUZZ_CHECK(out != NULL);
        }
        memcpy(out + len, from, n);
        len += n;
        i += used;
    }
    out[len] = '\0';
    *out_len = len;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    const api_route *r = env->routes[(data[0] & 0x7f) % env->nroutes];
    int as_member = (data[0] & 0x80) != 0;
    size_t len = 0;
    char *text = expand(data + 1, size - 1, &len);
    json_t *body = fuzz_parse_body((const uint8_t *)text, len);
    free(text);
    if (!body)
        return 0;
    api_ctx ctx = {.app = &env->h.app, .request_id = "fuzz"};
    if (r->auth == API_AUTH_APP_KEY) {
        ctx.person = as_member ? env->member : env->h.admin;
        ctx.is_admin = !as_member;
    } else if (r->auth == API_AUTH_INTEGRATION_KEY) {
        int prom = strcmp(r->path, "/event/push/alert/prometheus") == 0;
        ctx.integration_key = as_member ? "not-a-key" : prom ? env->prom_key : env->source_key;
    }
    json_t *out = NULL;
    tc_err err;
    tc_err_clear(&err);
    int rc = r->handler(&ctx, body, &out, &err);
    json_decref(body);
    if (rc != 0) {
        fuzz_check_refusal(&err);
        if (err.code == TC_INTERNAL)
            fprintf(stderr, "fuzz_openapi: %s answered InternalError: %s\n", r->path, err.message);
        FUZZ_CHECK(err.code != TC_INTERNAL);
    } else {
        FUZZ_CHECK(json_is_object(out));
        char *dumped = json_dumps(out, JSON_COMPACT);
        FUZZ_CHECK(dumped != NULL);
        free(dumped);
        if (in_list(retiring, r->path))
            make_fixtures();
    }
    json_decref(out);
    return 0;
}
