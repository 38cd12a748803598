/* server.c: see server.h.
 *
 * libmicrohttpd runs a small pool of epoll threads (one per core). No
 * thread waits for the writer on a request's behalf:
 *
 *   - the Event API (api_async_route) is validated on the epoll thread,
 *     its command submitted to the writer, and its connection suspended;
 *     the writer's sync thread resumes it once the change is durable, and
 *     the epoll thread sends the answer;
 *   - every other API call runs on a worker thread (http/workers.h) with
 *     its connection suspended, because those handlers are plain blocking
 *     functions (reads, and writes that wait in writer_run); their volume
 *     is people and scripts, not alert storms;
 *   - /metrics runs on a worker too (it reads the store); /healthz and the
 *     console's files are answered on the epoll thread.
 *
 * The order of checks on every API request is fixed, so a request with
 * several faults always gets the same answer: route (RouteNotFound), method
 * (MethodNotAllowed), body size (413 InvalidParameter), the key's rate limit
 * (429 RequestTooFrequently), key (Unauthorized), Content-Type
 * (InvalidContentType), JSON (InvalidParameter), then the handler's own
 * field checks. Nothing reaches a handler before all pass.
 *
 * An answer is prepared (status, text, headers) wherever it is decided and
 * queued on the connection's epoll thread: libmicrohttpd wants responses
 * queued from its own callbacks. */
#include "http/server.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/auth.h"
#include "core/cluster.h"
#include "http/metrics_page.h"
#include "http/ratelimit.h"
#include "http/routes.h"
#include "http/static.h"
#include "http/workers.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/jbuild.h"
#include "util/log.h"
#include "util/metrics.h"

#define HTTP_DRAIN_TIMEOUT_MS 15000
#define HTTP_WORKERS 16

/* An oversized body up to this size is read and thrown away before the 413
 * is sent, so that every client (which is still sending) reads the answer;
 * past it, the 413 goes out at once and the connection closes, so a hostile
 * sender cannot make tocsin read without end. */
#define HTTP_DISCARD_MAX (16 * 1024 * 1024)

struct http_server {
    tc_app *app;
    struct MHD_Daemon *daemon;
    int port;
    http_workers *workers;
    /* Requests begun and not yet completed (response sent or connection
     * gone). Stopping waits for it to reach 0, so that a change committed
     * during shutdown is also answered. */
    _Atomic int inflight;
    _Atomic int stopping;
    /* Open connections, counted here (not by libmicrohttpd): at its own
     * limit libmicrohttpd stops accepting and new connections wait in the
     * kernel's queue; past --max-connections tocsin closes them at once. */
    _Atomic int connections;
    ratelimit *rate_event; /* per integration_key; NULL = no limit */
    ratelimit *rate_api;   /* per app_key; NULL = no limit */
};

typedef enum {
    RS_READING, /* body arriving */
    RS_WAITING, /* suspended: a worker or the writer has it */
    RS_READY,   /* resumed with an answer prepared */
    RS_ANSWERED,
} request_phase;

/* Per-request state, freed by on_completed. */
typedef struct {
    http_server *srv;
    struct MHD_Connection *conn;
    char request_id[IDS_OBJECT_LEN + 1];
    char *path;
    char *body;
    size_t len, cap;
    int too_large;
    size_t discarded; /* bytes of an oversized body read and dropped */
    request_phase phase;
    int64_t started_ms;
    const api_route *route;   /* the API route of the path, or NULL: found once */
    const char *metrics_path; /* path label of tocsin_http_requests_total */
    /* What a worker needs of the request, copied before it is suspended
     * (the worker must not read the connection). */
    char *key;          /* app_key or integration_key, as the route wants */
    char *content_type; /* NULL when absent */
    int is_metrics;
    api_op *op; /* an Event API call in the writer */
    /* The prepared answer. */
    int status;
    char *text; /* JSON, or the metrics page */
    size_t text_len;
    const char *text_type;
    int retry_after_s; /* > 0: a Retry-After header goes with the answer */
} request_state;

/* ---- answers ------------------------------------------------------------- */

/* Prepares `doc` (stolen) as the answer. If it cannot be encoded (out of
 * memory, or text jansson refuses) the answer says so instead. */
static void prepare_json(request_state *rs, int status, json_t *doc) {
    char *text = doc ? jb_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        log_error("msg=\"answer not encoded\" request_id=%s status=%d", rs->request_id, status);
        status = 500;
        text = NULL;
        if (asprintf(&text,
                     "{\"request_id\":\"%s\",\"error\":{\"code\":\"InternalError\","
                     "\"message\":\"the answer could not be encoded\"}}",
                     rs->request_id) < 0)
            text = NULL;
    }
    free(rs->text);
    rs->status = status;
    rs->text = text;
    rs->text_len = text ? strlen(text) : 0;
    rs->text_type = "application/json; charset=utf-8";
}

/* A failure always carries a code: one a callee forgot to set must not
 * turn into status 200 (tc_code_http_status(TC_OK)) with an error body. */
static void err_settle(tc_err *err) {
    if (err->code == TC_OK)
        tc_err_set(err, TC_INTERNAL, "the request failed");
}

static void prepare_error(request_state *rs, int status, const tc_err *err) {
    char quoted[sizeof(err->message)];
    log_info("msg=request path=%s request_id=%s status=%d code=%s duration_ms=%lld error=\"%s\"",
             rs->path, rs->request_id, status, tc_code_name(err->code),
             (long long)(clock_mono_ms() - rs->started_ms),
             log_quote(err->message, quoted, sizeof(quoted)));
    prepare_json(rs, status,
                 json_pack("{s:s, s:{s:s, s:s}}", "request_id", rs->request_id, "error", "code",
                           tc_code_name(err->code), "message", err->message));
}

static void prepare_fail(request_state *rs, tc_code code, const char *fmt, const char *arg) {
    tc_err err;
    tc_err_set(&err, code, fmt, arg);
    prepare_error(rs, tc_code_http_status(code), &err);
}

/* A handler's success. A success without data is a handler bug, and is
 * answered as one: never as an empty 200. */
static void prepare_success(request_state *rs, json_t *data) {
    if (!data) {
        tc_err err;
        tc_err_set(&err, TC_INTERNAL, "the request failed: no answer was produced");
        log_error("msg=\"handler returned success without data\" path=%s request_id=%s", rs->path,
                  rs->request_id);
        prepare_error(rs, 500, &err);
        return;
    }
    log_info("msg=request path=%s request_id=%s status=200 duration_ms=%lld", rs->path,
             rs->request_id, (long long)(clock_mono_ms() - rs->started_ms));
    prepare_json(rs, 200, json_pack("{s:s, s:o}", "request_id", rs->request_id, "data", data));
}

/* Queues the prepared answer (on the connection's epoll thread). */
static enum MHD_Result queue_prepared(request_state *rs) {
    if (!rs->text)
        return MHD_NO; /* not even an error could be built: close */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(rs->text_len, rs->text, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        return MHD_NO;
    rs->text = NULL; /* the response frees it */
    MHD_add_response_header(resp, "Content-Type", rs->text_type);
    MHD_add_response_header(resp, "Flashcat-Request-Id", rs->request_id);
    if (rs->retry_after_s > 0) {
        char seconds[16];
        snprintf(seconds, sizeof(seconds), "%d", rs->retry_after_s);
        MHD_add_response_header(resp, "Retry-After", seconds);
    }
    /* Counted before the answer leaves, so a client that has its answer
     * always finds it counted in the next scrape. */
    metrics_http_request(rs->srv->app->m, rs->metrics_path, rs->status,
                         (double)(clock_mono_ms() - rs->started_ms) / 1000.0);
    enum MHD_Result r = MHD_queue_response(rs->conn, (unsigned)rs->status, resp);
    MHD_destroy_response(resp);
    if (r == MHD_YES)
        rs->phase = RS_ANSWERED;
    return r;
}

static enum MHD_Result answer_error(request_state *rs, tc_code code, const char *fmt,
                                    const char *arg) {
    prepare_fail(rs, code, fmt, arg);
    return queue_prepared(rs);
}

/* ---- checks ----------------------------------------------------------------- */

static int is_json_content_type(const char *ct) {
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The path label of tocsin_http_requests_total: a route's own path, or
 * "other", so that random URLs cannot grow the metrics registry. */
static const char *metrics_path_of(const char *url, const api_route *route) {
    if (route)
        return route->path;
    if (strcmp(url, "/healthz") == 0)
        return "/healthz";
    if (strcmp(url, "/metrics") == 0)
        return "/metrics";
    return "other";
}

/* The rate limit of the key the request carries (a request without one
 * is refused by authentication next, at no cost to the store). Checked
 * before the key is looked up, so a flood costs a hash, not a read.
 * Returns 1 and prepares the 429 when the key is over its limit. */
static int over_rate(request_state *rs, const char *key) {
    http_server *srv = rs->srv;
    ratelimit *rl = NULL;
    const char *param = NULL;
    if (rs->route->auth == API_AUTH_APP_KEY) {
        rl = srv->rate_api;
        param = "app_key";
    } else if (rs->route->auth == API_AUTH_INTEGRATION_KEY) {
        rl = srv->rate_event;
        param = "integration_key";
    }
    if (!rl || !key || !*key || ratelimit_take(rl, key, clock_mono_ms(), &rs->retry_after_s))
        return 0;
    tc_err err;
    const tc_config *cfg = srv->app->cfg;
    int api = rl == srv->rate_api;
    tc_err_set(&err, TC_TOO_FREQUENT,
               "too many requests for this %s: the limit is %g per second (burst %g); retry "
               "after %d s",
               param, api ? cfg->rate_api : cfg->rate_event,
               api ? cfg->rate_api_burst : cfg->rate_event_burst, rs->retry_after_s);
    prepare_error(rs, 429, &err);
    return 1;
}

/* Content-Type and JSON, in that order; NULL with the answer prepared. */
static json_t *parse_body(request_state *rs) {
    if (!is_json_content_type(rs->content_type)) {
        prepare_fail(rs, TC_INVALID_CONTENT_TYPE, "Content-Type must be application/json, not '%s'",
                     rs->content_type ? rs->content_type : "(none)");
        return NULL;
    }
    json_error_t jerr;
    int oom = 0;
    json_t *body = jb_loadb(rs->body ? rs->body : "", rs->len, JSON_REJECT_DUPLICATES, &jerr, &oom);
    if (!body && oom) {
        prepare_fail(rs, TC_INTERNAL, "out of memory reading the body%s", "");
        return NULL;
    }
    if (!body) {
        char msg[300];
        snprintf(msg, sizeof(msg), "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        prepare_fail(rs, TC_INVALID_PARAMETER, "the body is not valid JSON: %s", msg);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        prepare_fail(rs, TC_INVALID_PARAMETER, "the body must be a JSON object%s", "");
        return NULL;
    }
    return body;
}

/* ---- blocking calls, on a worker ----------------------------------------- */

static void serve_metrics(request_state *rs) {
    metrics_text page;
    metrics_text_init(&page);
    tc_err err;
    if (metrics_page_render(rs->srv->app, &page, &err) != 0) {
        metrics_text_clear(&page);
        prepare_error(rs, tc_code_http_status(err.code), &err);
        return;
    }
    free(rs->text);
    rs->status = 200;
    rs->text = page.buf; /* taken over */
    rs->text_len = page.len;
    rs->text_type = METRICS_CONTENT_TYPE;
    log_info("msg=request path=/metrics request_id=%s status=200 duration_ms=%lld", rs->request_id,
             (long long)(clock_mono_ms() - rs->started_ms));
}

/* An Open API call, from the key on: auth, Content-Type, JSON, handler. */
static void run_call(request_state *rs) {
    tc_app *app = rs->srv->app;
    api_ctx ctx = {.app = app, .request_id = rs->request_id};
    tc_err err;
    tc_err_clear(&err);
    if (rs->route->auth == API_AUTH_APP_KEY) {
        if (auth_app_key(app, rs->key, &ctx.person, &ctx.is_admin, &err) != 0) {
            err_settle(&err);
            prepare_error(rs, tc_code_http_status(err.code), &err);
            return;
        }
    } else if (rs->route->auth == API_AUTH_INTEGRATION_KEY) {
        ctx.integration_key = rs->key;
    }
    json_t *body = parse_body(rs);
    if (!body)
        return;
    json_t *data = NULL;
    int rc = rs->route->handler(&ctx, body, &data, &err);
    json_decref(body);
    if (rc != 0) {
        json_decref(data);
        err_settle(&err);
        prepare_error(rs, tc_code_http_status(err.code), &err);
        return;
    }
    prepare_success(rs, data);
}

/* On a worker thread: the call, then back to the epoll thread. */
static void worker_run(void *arg) {
    request_state *rs = arg;
    if (rs->is_metrics)
        serve_metrics(rs);
    else
        run_call(rs);
    rs->phase = RS_READY;
    MHD_resume_connection(rs->conn);
}

/* ---- the Event API: no thread waits ------------------------------------- */

/* On the writer's sync thread (or wherever the job failed). */
static void op_done(writer_job *job) {
    request_state *rs = job->done_arg;
    MHD_resume_connection(rs->conn);
}

static void finish_op(request_state *rs) {
    json_t *data = NULL;
    tc_err err;
    tc_err_clear(&err);
    int rc = rs->op->finish(rs->op, &data, &err);
    rs->op->release(rs->op);
    rs->op = NULL;
    if (rc != 0) {
        json_decref(data);
        err_settle(&err);
        prepare_error(rs, tc_code_http_status(err.code), &err);
        return;
    }
    prepare_success(rs, data);
}

/* Validates on this epoll thread and submits to the writer; answers at
 * once when the call is refused. */
static enum MHD_Result start_call(request_state *rs, api_start start) {
    tc_app *app = rs->srv->app;
    if (!rs->key || !*rs->key)
        return answer_error(rs, TC_UNAUTHORIZED,
                            "integration_key is required (?integration_key=...)%s", "");
    json_t *body = parse_body(rs);
    if (!body)
        return queue_prepared(rs);
    api_ctx ctx = {.app = app, .request_id = rs->request_id, .integration_key = rs->key};
    api_op *op = NULL;
    json_t *data = NULL;
    tc_err err;
    tc_err_clear(&err);
    int rc = start(&ctx, body, &op, &data, &err);
    json_decref(body);
    if (rc != 0) {
        err_settle(&err);
        prepare_error(rs, tc_code_http_status(err.code), &err);
        return queue_prepared(rs);
    }
    if (!op) {
        prepare_success(rs, data);
        return queue_prepared(rs);
    }
    rs->op = op;
    op->job.done = op_done;
    op->job.done_arg = rs;
    rs->phase = RS_WAITING;
    /* Suspended before the submit: the job may be done (and resume the
     * connection) before writer_submit returns. */
    MHD_suspend_connection(rs->conn);
    writer_submit(app->w, &op->job);
    return MHD_YES;
}

/* ---- the request callback ---------------------------------------------------- */

static enum MHD_Result send_too_large(request_state *rs) {
    tc_err err;
    tc_err_set(&err, TC_INVALID_PARAMETER, "the body is larger than %d bytes (1 MiB)",
               HTTP_MAX_BODY);
    prepare_error(rs, 413, &err);
    return queue_prepared(rs);
}

static int append_body(request_state *rs, const char *data, size_t size) {
    if (rs->too_large || rs->len + size > HTTP_MAX_BODY) {
        rs->too_large = 1;
        rs->discarded += size;
        return 0;
    }
    if (rs->len + size + 1 > rs->cap) {
        size_t cap = rs->cap ? rs->cap : 4096;
        while (cap < rs->len + size + 1)
            cap *= 2;
        char *grown = realloc(rs->body, cap);
        if (!grown)
            return -1;
        rs->body = grown;
        rs->cap = cap;
    }
    memcpy(rs->body + rs->len, data, size);
    rs->len += size;
    rs->body[rs->len] = '\0';
    return 0;
}

/* Answered on the HTTP thread from what the writer and the lease thread
 * last saw: no store round trip, so a load balancer's probe never waits
 * on the database. On PostgreSQL the store is healthy while the leases
 * renew (every second, through the store). */
static enum MHD_Result serve_health(request_state *rs) {
    const tc_app *app = rs->srv->app;
    int writer_up = writer_is_running(app->w);
    cluster *c = app->cluster;
    int shared = c && cluster_is_shared(c);
    int leases_ok = !c || cluster_healthy(c);
    int up = writer_up && leases_ok;
    int64_t epoch = 0;
    prepare_json(rs, up ? 200 : 503,
                 json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:{s:b, s:i, s:b}}}", "request_id",
                           rs->request_id, "data", "status", up ? "ok" : "unavailable", "engine",
                           shared ? "postgres" : "sqlite", "node_id", c ? cluster_node_id(c) : "",
                           "store", up ? "ok" : "failing", "leases", "healthy", leases_ok,
                           "buckets", c ? cluster_buckets_held_count(c) : 0, "timers",
                           c ? cluster_timers_held(c, &epoch) : 0));
    return queue_prepared(rs);
}

/* Hands the request to a worker with its connection suspended. */
static enum MHD_Result to_worker(request_state *rs) {
    rs->phase = RS_WAITING;
    MHD_suspend_connection(rs->conn);
    if (http_workers_submit(rs->srv->workers, worker_run, rs) != 0) {
        MHD_resume_connection(rs->conn);
        rs->phase = RS_READING;
        return answer_error(rs, TC_INTERNAL, "tocsin is shutting down%s", "");
    }
    return MHD_YES;
}

/* A console file (http/static.h): not an API call, no envelope. */
static enum MHD_Result serve_static(request_state *rs, const static_file *file) {
    enum MHD_Result r = static_serve(rs->conn, file);
    if (r == MHD_YES)
        rs->phase = RS_ANSWERED;
    log_info("msg=static path=%s request_id=%s duration_ms=%lld", rs->path, rs->request_id,
             (long long)(clock_mono_ms() - rs->started_ms));
    return r;
}

/* The whole body is in: route, method, size, rate limit, then the call. */
static enum MHD_Result dispatch(request_state *rs, const char *method) {
    struct MHD_Connection *conn = rs->conn;
    if (strcmp(rs->path, "/healthz") == 0)
        return serve_health(rs);
    if (strcmp(rs->path, "/metrics") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return answer_error(rs, TC_METHOD_NOT_ALLOWED, "%s only accepts GET", "/metrics");
        rs->is_metrics = 1;
        return to_worker(rs);
    }
    const api_route *route = rs->route;
    const static_file *file = route ? NULL : static_find(rs->path);
    if (file && static_method_ok(method))
        return serve_static(rs, file);
    if (!route)
        return answer_error(rs, TC_ROUTE_NOT_FOUND, "no such path: %s", rs->path);
    if (strcmp(method, "POST") != 0)
        return answer_error(rs, TC_METHOD_NOT_ALLOWED, "%s only accepts POST", rs->path);
    if (rs->too_large)
        return send_too_large(rs);
    const char *param = route->auth == API_AUTH_APP_KEY           ? "app_key"
                        : route->auth == API_AUTH_INTEGRATION_KEY ? "integration_key"
                                                                  : NULL;
    const char *key =
        param ? MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, param) : NULL;
    if (over_rate(rs, key))
        return queue_prepared(rs);
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if ((key && !(rs->key = strdup(key))) || (ct && !(rs->content_type = strdup(ct))))
        return answer_error(rs, TC_INTERNAL, "out of memory%s", "");
    api_start start = routes_find_start(route->path);
    return start ? start_call(rs, start) : to_worker(rs);
}

static request_state *request_begin(http_server *srv, struct MHD_Connection *conn,
                                    const char *url) {
    request_state *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return NULL;
    if (ids_object_new(rs->request_id) != 0 || !(rs->path = strdup(url))) {
        free(rs);
        return NULL;
    }
    rs->srv = srv;
    rs->conn = conn;
    rs->started_ms = clock_mono_ms();
    rs->route = routes_find(url);
    rs->metrics_path = metrics_path_of(url, rs->route);
    return rs;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)version;
    http_server *srv = cls;
    request_state *rs = *con_cls;
    if (!rs) {
        if (!(rs = request_begin(srv, conn, url)))
            return MHD_NO;
        *con_cls = rs;
        srv->inflight++;
        if (srv->stopping) {
            /* A new request on a kept-alive connection during shutdown. */
            return answer_error(rs, TC_INTERNAL, "tocsin is shutting down; retry on another node%s",
                                "");
        }
        /* Refuse an announced oversized body before reading any of it. */
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long announced = cl ? strtoull(cl, NULL, 10) : 0;
        if (announced > HTTP_DISCARD_MAX)
            return send_too_large(rs);
        rs->too_large = announced > HTTP_MAX_BODY;
        return MHD_YES;
    }
    switch (rs->phase) {
    case RS_ANSWERED:
        /* Answered early (413, 503): whatever else arrives is discarded,
         * never dispatched, so the answer the client gets is the truth. */
        *upload_data_size = 0;
        return MHD_YES;
    case RS_WAITING:
        if (!rs->op)
            return MHD_YES; /* not ours to answer yet (spurious call) */
        finish_op(rs);      /* resumed by the writer */
        return queue_prepared(rs);
    case RS_READY:
        return queue_prepared(rs);
    case RS_READING:
        break;
    }
    if (*upload_data_size) {
        if (append_body(rs, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        *upload_data_size = 0;
        if (rs->too_large && rs->discarded > HTTP_DISCARD_MAX)
            return send_too_large(rs);
        return MHD_YES;
    }
    return dispatch(rs, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    http_server *srv = cls;
    (void)conn;
    (void)toe;
    request_state *rs = *con_cls;
    if (rs) {
        if (rs->op)
            rs->op->release(rs->op);
        free(rs->path);
        free(rs->body);
        free(rs->key);
        free(rs->content_type);
        free(rs->text);
        free(rs);
        srv->inflight--;
    }
    *con_cls = NULL;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen) {
    (void)addr;
    (void)addrlen;
    http_server *srv = cls;
    /* Stopping (http_server_stop): a new connection is closed at once. */
    if (srv->stopping)
        return MHD_NO;
    return srv->connections < srv->app->cfg->max_connections ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    (void)conn;
    (void)socket_context;
    http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        srv->connections++;
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        srv->connections--;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    log_warn("msg=\"http: %s\"", line);
}

/* ---- life cycle -------------------------------------------------------------- */

/* A PEM file read whole (certificates and keys are small). */
static int read_pem(const char *path, const char *flag, char **out, tc_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s: cannot read %s", flag, path);
    char *buf = calloc(1, 256 * 1024 + 1);
    size_t n = buf ? fread(buf, 1, 256 * 1024, f) : 0;
    int complete = buf && feof(f);
    fclose(f);
    if (!buf || n == 0 || !complete || !strstr(buf, "-----BEGIN ")) {
        free(buf);
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s: %s is not a PEM file (at most 256 KiB)",
                          flag, path);
    }
    *out = buf;
    return 0;
}

static void server_free(http_server *srv) {
    http_workers_free(srv->workers);
    ratelimit_free(srv->rate_event);
    ratelimit_free(srv->rate_api);
    free(srv);
}

int http_listen(const char *host, int port, int *fd_out, int *port_out, tc_err *err) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    if (getaddrinfo(host, service, &hints, &ai) != 0 || !ai)
        return tc_err_set(err, TC_INVALID_PARAMETER, "--listen: cannot resolve host '%s'", host);
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    int ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
             bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0 &&
             getsockname(fd, (struct sockaddr *)&bound, &blen) == 0;
    int family = ai->ai_family;
    freeaddrinfo(ai);
    if (!ok) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return tc_err_set(err, TC_INTERNAL, "cannot listen on %s:%d: %s", host, port, strerror(e));
    }
    *port_out = family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                   : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    *fd_out = fd;
    return 0;
}

/* One epoll thread per core: they only parse, route and answer; every wait
 * happens elsewhere. */
static unsigned pool_size(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

int http_server_start(tc_app *app, int listen_fd, http_server **out, tc_err *err) {
    http_server *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        close(listen_fd);
        return tc_err_set(err, TC_INTERNAL, "out of memory");
    }
    srv->app = app;
    const tc_config *cfg = app->cfg;
    char *cert = NULL, *key = NULL;
    if ((cfg->rate_event > 0 &&
         ratelimit_new(cfg->rate_event, cfg->rate_event_burst, &srv->rate_event) != 0) ||
        (cfg->rate_api > 0 &&
         ratelimit_new(cfg->rate_api, cfg->rate_api_burst, &srv->rate_api) != 0)) {
        tc_err_set(err, TC_INTERNAL, "cannot set up the rate limits");
        goto fail;
    }
    if (http_workers_new(HTTP_WORKERS, &srv->workers, err) != 0)
        goto fail;
    /* ITC: needed to resume suspended connections from other threads. */
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    if (cfg->tls_cert[0]) {
        if (read_pem(cfg->tls_cert, "--tls-cert", &cert, err) != 0 ||
            read_pem(cfg->tls_key, "--tls-key", &key, err) != 0)
            goto fail;
        flags |= MHD_USE_TLS;
    }
    /* The logger first: options before it would log through MHD's own. */
    srv->daemon = MHD_start_daemon(
        flags, 0, on_accept, srv, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_THREAD_POOL_SIZE, pool_size(),
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections + 64 * pool_size(), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->read_timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
        MHD_OPTION_END);
    /* libmicrohttpd parses the PEM at start and keeps its own copy. */
    free(cert);
    free(key);
    cert = key = NULL;
    if (!srv->daemon) {
        tc_err_set(err, TC_INTERNAL,
                   "cannot serve on %s:%d (with HTTPS: do the certificate and key match?)",
                   cfg->listen_host, cfg->listen_port);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : cfg->listen_port;
    *out = srv;
    return 0;
fail:
    free(cert);
    free(key);
    close(listen_fd);
    server_free(srv);
    return -1;
}

int http_server_port(http_server *srv) {
    return srv->port;
}

/* Stop in three steps: stop taking connections; answer any new request
 * on an open connection with 503 and close; wait (bounded) until every
 * request in flight has been answered (suspended ones are resumed by their
 * worker or by the writer, which is still running). Only then tear the
 * connections down: MHD_stop_daemon closes their sockets, so a request
 * still waiting for its batch would commit but never be answered, and a
 * client retrying it would apply it twice. */
void http_server_stop(http_server *srv) {
    if (!srv)
        return;
    /* From here on_accept closes every new connection; the listener itself
     * is closed by MHD_stop_daemon. Not MHD_quiesce_daemon: with epoll
     * worker threads it races the workers' own removal of the listener from
     * their epoll sets, and libmicrohttpd 0.9.75 then aborts the process
     * ("Failed to remove listen FD from epoll set", an open defect of its
     * own, seen twice in CI: the listener closed early or late alike). */
    srv->stopping = 1;
    int64_t deadline = clock_mono_ms() + HTTP_DRAIN_TIMEOUT_MS;
    while (srv->inflight > 0 && clock_mono_ms() < deadline) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 5 * 1000000L};
        nanosleep(&pause, NULL);
    }
    if (srv->inflight > 0)
        log_warn("msg=\"stopping with requests unanswered\" inflight=%d", (int)srv->inflight);
    /* Workers first: a call still running finishes and resumes its
     * connection before the daemon goes. */
    http_workers_free(srv->workers);
    srv->workers = NULL;
    MHD_stop_daemon(srv->daemon);
    server_free(srv);
}
