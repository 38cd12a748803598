/* server.c: see server.h.
 *
 * The order of checks on every API request is fixed, so a request with
 * several faults always gets the same answer: route (RouteNotFound), method
 * (MethodNotAllowed), body size (413 InvalidParameter), the key's rate limit
 * (429 RequestTooFrequently), key (Unauthorized),
 * Content-Type (InvalidContentType), JSON (InvalidParameter), then the
 * handler's own field checks. Nothing reaches a handler before all pass.
 * A GET or HEAD of a path that is no API route may name a file of the
 * embedded console (http/static.h), which is served without an envelope. */
#include "http/server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/auth.h"
#include "http/metrics_page.h"
#include "http/ratelimit.h"
#include "http/routes.h"
#include "http/static.h"
#include "util/clock.h"
#include "util/ids.h"
#include "util/jbuild.h"
#include "util/log.h"
#include "util/metrics.h"

struct http_server {
    tc_app *app;
    struct MHD_Daemon *daemon;
    int port;
    /* Requests begun and not yet completed (response sent or connection
     * gone). Stopping waits for it to reach 0, so that a change committed
     * during shutdown is also answered. */
    _Atomic int inflight;
    _Atomic int stopping;
    ratelimit *rate_event; /* per integration_key; NULL = no limit */
    ratelimit *rate_api;   /* per app_key; NULL = no limit */
};

#define HTTP_DRAIN_TIMEOUT_MS 15000

/* An oversized body up to this size is read and thrown away before the 413
 * is sent, so that every client (which is still sending) reads the answer;
 * past it, the 413 goes out at once and the connection closes, so a hostile
 * sender cannot make tocsin read without end. */
#define HTTP_DISCARD_MAX (16 * 1024 * 1024)

/* Per-request state, freed by on_completed. */
typedef struct {
    char request_id[IDS_OBJECT_LEN + 1];
    char *body;
    size_t len, cap;
    int too_large;
    size_t discarded; /* bytes of an oversized body read and dropped */
    int responded;    /* a response is queued: later calls must not dispatch */
    int64_t started_ms;
    int retry_after_s;        /* > 0: a Retry-After header goes with the answer */
    metrics *m;               /* the app's registry (may be NULL) */
    const char *metrics_path; /* path label of tocsin_http_requests_total */
    const api_route *route;   /* the API route of the path, or NULL: found once */
} request_state;

static enum MHD_Result send_json(struct MHD_Connection *conn, request_state *rs, int status,
                                 json_t *doc) {
    char *text = doc ? jb_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        /* The answer could not be built (out of memory, or text jansson
         * refuses): say so rather than close the connection without one. */
        log_error("msg=\"answer not encoded\" request_id=%s status=%d", rs->request_id, status);
        status = 500;
        size_t cap = 160;
        text = malloc(cap);
        if (!text)
            return MHD_NO;
        snprintf(text, cap,
                 "{\"request_id\":\"%s\",\"error\":{\"code\":\"InternalError\","
                 "\"message\":\"the answer could not be encoded\"}}",
                 rs->request_id);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
    MHD_add_response_header(resp, "Flashcat-Request-Id", rs->request_id);
    if (rs->retry_after_s > 0) {
        char seconds[16];
        snprintf(seconds, sizeof(seconds), "%d", rs->retry_after_s);
        MHD_add_response_header(resp, "Retry-After", seconds);
    }
    /* Counted before the answer leaves, so a client that has its answer
     * always finds it counted in the next scrape. */
    metrics_http_request(rs->m, rs->metrics_path, status,
                         (double)(clock_mono_ms() - rs->started_ms) / 1000.0);
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (r == MHD_YES)
        rs->responded = 1;
    return r;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, request_state *rs, int status,
                                  const tc_err *err, const char *path) {
    char quoted[sizeof(err->message)];
    log_info("msg=request path=%s request_id=%s status=%d code=%s duration_ms=%lld error=\"%s\"",
             path, rs->request_id, status, tc_code_name(err->code),
             (long long)(clock_mono_ms() - rs->started_ms),
             log_quote(err->message, quoted, sizeof(quoted)));
    json_t *doc = json_pack("{s:s, s:{s:s, s:s}}", "request_id", rs->request_id, "error", "code",
                            tc_code_name(err->code), "message", err->message);
    return send_json(conn, rs, status, doc);
}

static enum MHD_Result fail(struct MHD_Connection *conn, request_state *rs, tc_code code,
                            const char *path, const char *fmt, const char *arg) {
    tc_err err;
    tc_err_set(&err, code, fmt, arg);
    return send_error(conn, rs, tc_code_http_status(code), &err, path);
}

static int is_json_content_type(const char *ct) {
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static enum MHD_Result serve_health(struct MHD_Connection *conn, request_state *rs,
                                    http_server *srv) {
    int up = writer_is_running(srv->app->w);
    json_t *doc = json_pack("{s:s, s:{s:s}}", "request_id", rs->request_id, "data", "status",
                            up ? "ok" : "starting");
    return send_json(conn, rs, up ? 200 : 503, doc);
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

/* GET /metrics: the Prometheus text format (util/metrics.h). No key:
 * Prometheus scrapes without one, and nothing secret is in it (README,
 * "Metrics", says how to keep it private). */
static enum MHD_Result serve_metrics(struct MHD_Connection *conn, request_state *rs,
                                     http_server *srv, const char *method) {
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return fail(conn, rs, TC_METHOD_NOT_ALLOWED, "/metrics", "%s only accepts GET", "/metrics");
    metrics_text page;
    metrics_text_init(&page);
    tc_err err;
    if (metrics_page_render(srv->app, &page, &err) != 0) {
        metrics_text_clear(&page);
        return send_error(conn, rs, tc_code_http_status(err.code), &err, "/metrics");
    }
    /* The response takes the buffer (freed by libmicrohttpd). */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(page.len, page.buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        metrics_text_clear(&page);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", METRICS_CONTENT_TYPE);
    MHD_add_response_header(resp, "Flashcat-Request-Id", rs->request_id);
    int64_t duration_ms = clock_mono_ms() - rs->started_ms;
    metrics_http_request(rs->m, rs->metrics_path, 200, (double)duration_ms / 1000.0);
    log_info("msg=request path=/metrics request_id=%s status=200 duration_ms=%lld", rs->request_id,
             (long long)duration_ms);
    enum MHD_Result r = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    if (r == MHD_YES)
        rs->responded = 1;
    return r;
}

/* The rate limit of the key the request carries (a request without one
 * is refused by authentication next, at no cost to the store). Checked
 * before the key is looked up, so a flood costs a hash, not a read. */
static enum MHD_Result check_rate(http_server *srv, struct MHD_Connection *conn, request_state *rs,
                                  const api_route *route, const char *path, int *limited) {
    *limited = 0;
    ratelimit *rl = NULL;
    const char *param = NULL;
    if (route->auth == API_AUTH_APP_KEY) {
        rl = srv->rate_api;
        param = "app_key";
    } else if (route->auth == API_AUTH_INTEGRATION_KEY) {
        rl = srv->rate_event;
        param = "integration_key";
    }
    const char *key =
        param ? MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, param) : NULL;
    if (!rl || !key || !*key || ratelimit_take(rl, key, clock_mono_ms(), &rs->retry_after_s))
        return MHD_YES;
    *limited = 1;
    tc_err err;
    const tc_config *cfg = &srv->app->cfg;
    int api = rl == srv->rate_api;
    tc_err_set(&err, TC_TOO_FREQUENT,
               "too many requests for this %s: the limit is %g per second (burst %g); retry "
               "after %d s",
               param, api ? cfg->rate_api : cfg->rate_event,
               api ? cfg->rate_api_burst : cfg->rate_event_burst, rs->retry_after_s);
    return send_error(conn, rs, 429, &err, path);
}

/* A console file (http/static.h): not an API call, no envelope. */
static enum MHD_Result serve_static(struct MHD_Connection *conn, request_state *rs,
                                    const static_file *file, const char *path) {
    enum MHD_Result r = static_serve(conn, file);
    if (r == MHD_YES)
        rs->responded = 1;
    log_info("msg=static path=%s request_id=%s duration_ms=%lld", path, rs->request_id,
             (long long)(clock_mono_ms() - rs->started_ms));
    return r;
}

/* A failure always carries a code: one a callee forgot to set must not
 * turn into status 200 (tc_code_http_status(TC_OK)) with an error body. */
static void err_settle(tc_err *err) {
    if (err->code == TC_OK)
        tc_err_set(err, TC_INTERNAL, "the request failed");
}

static enum MHD_Result dispatch(http_server *srv, struct MHD_Connection *conn, request_state *rs,
                                const api_route *route, const char *path) {
    api_ctx ctx = {.app = srv->app, .request_id = rs->request_id};
    tc_err err;
    tc_err_clear(&err);
    int limited = 0;
    enum MHD_Result limit_answer = check_rate(srv, conn, rs, route, path, &limited);
    if (limited)
        return limit_answer;
    if (route->auth == API_AUTH_APP_KEY) {
        const char *key = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "app_key");
        if (auth_app_key(srv->app, key, &ctx.person, &ctx.is_admin, &err) != 0) {
            err_settle(&err);
            return send_error(conn, rs, tc_code_http_status(err.code), &err, path);
        }
    } else if (route->auth == API_AUTH_INTEGRATION_KEY) {
        ctx.integration_key =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "integration_key");
        if (!ctx.integration_key || !*ctx.integration_key)
            return fail(conn, rs, TC_UNAUTHORIZED, path,
                        "integration_key is required (?integration_key=...)%s", "");
    }
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (!is_json_content_type(ct))
        return fail(conn, rs, TC_INVALID_CONTENT_TYPE, path,
                    "Content-Type must be application/json, not '%s'", ct ? ct : "(none)");
    json_error_t jerr;
    int oom = 0;
    json_t *body = jb_loadb(rs->body ? rs->body : "", rs->len, JSON_REJECT_DUPLICATES, &jerr, &oom);
    if (!body && oom)
        return fail(conn, rs, TC_INTERNAL, path, "out of memory reading the body%s", "");
    if (!body) {
        char msg[300];
        snprintf(msg, sizeof(msg), "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return fail(conn, rs, TC_INVALID_PARAMETER, path, "the body is not valid JSON: %s", msg);
    }
    if (!json_is_object(body)) {
        json_decref(body);
        return fail(conn, rs, TC_INVALID_PARAMETER, path, "the body must be a JSON object%s", "");
    }
    json_t *data = NULL;
    int rc = route->handler(&ctx, body, &data, &err);
    json_decref(body);
    if (rc != 0) {
        json_decref(data);
        err_settle(&err);
        return send_error(conn, rs, tc_code_http_status(err.code), &err, path);
    }
    if (!data) {
        /* A success must carry its answer: a handler that lost it (an
         * allocation it did not check) is a failure, never a `{}`. */
        log_error("msg=\"success without data\" path=%s request_id=%s", path, rs->request_id);
        tc_err_set(&err, TC_INTERNAL, "the answer could not be built");
        return send_error(conn, rs, 500, &err, path);
    }
    log_info("msg=request path=%s request_id=%s status=200 duration_ms=%lld", path, rs->request_id,
             (long long)(clock_mono_ms() - rs->started_ms));
    return send_json(conn, rs, 200,
                     json_pack("{s:s, s:o}", "request_id", rs->request_id, "data", data));
}

static enum MHD_Result send_too_large(struct MHD_Connection *conn, request_state *rs,
                                      const char *path) {
    tc_err err;
    tc_err_set(&err, TC_INVALID_PARAMETER, "the body is larger than %d bytes (1 MiB)",
               HTTP_MAX_BODY);
    return send_error(conn, rs, 413, &err, path);
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)version;
    http_server *srv = cls;
    request_state *rs = *con_cls;
    if (!rs) {
        rs = calloc(1, sizeof(*rs));
        if (!rs || ids_object_new(rs->request_id) != 0) {
            free(rs);
            return MHD_NO;
        }
        rs->started_ms = clock_mono_ms();
        rs->m = srv->app->m;
        rs->route = routes_find(url);
        rs->metrics_path = metrics_path_of(url, rs->route);
        *con_cls = rs;
        srv->inflight++;
        if (srv->stopping) {
            /* A new request on a kept-alive connection during shutdown. */
            tc_err err;
            tc_err_set(&err, TC_INTERNAL, "tocsin is shutting down; retry on another node");
            return send_error(conn, rs, 503, &err, url);
        }
        /* Refuse an announced oversized body before reading any of it. */
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long announced = cl ? strtoull(cl, NULL, 10) : 0;
        if (announced > HTTP_DISCARD_MAX)
            return send_too_large(conn, rs, url);
        rs->too_large = announced > HTTP_MAX_BODY;
        return MHD_YES;
    }
    if (rs->responded) {
        /* Answered early (413, 503): whatever else arrives is discarded,
         * never dispatched, so the answer the client gets is the truth. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (append_body(rs, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        if (rs->too_large && rs->discarded > HTTP_DISCARD_MAX) {
            *upload_data_size = 0;
            return send_too_large(conn, rs, url);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/healthz") == 0)
        return serve_health(conn, rs, srv);
    if (strcmp(url, "/metrics") == 0)
        return serve_metrics(conn, rs, srv, method);
    const api_route *route = rs->route;
    const static_file *file = route ? NULL : static_find(url);
    if (file && static_method_ok(method))
        return serve_static(conn, rs, file, url);
    if (!route)
        return fail(conn, rs, TC_ROUTE_NOT_FOUND, url, "no such path: %s", url);
    if (strcmp(method, "POST") != 0)
        return fail(conn, rs, TC_METHOD_NOT_ALLOWED, url, "%s only accepts POST", url);
    if (rs->too_large)
        return send_too_large(conn, rs, url);
    return dispatch(srv, conn, rs, route, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    http_server *srv = cls;
    (void)conn;
    (void)toe;
    request_state *rs = *con_cls;
    if (rs) {
        free(rs->body);
        free(rs);
        srv->inflight--;
    }
    *con_cls = NULL;
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
    ratelimit_free(srv->rate_event);
    ratelimit_free(srv->rate_api);
    free(srv);
}

int http_server_start(tc_app *app, http_server **out, tc_err *err) {
    http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return tc_err_set(err, TC_INTERNAL, "out of memory");
    srv->app = app;
    if ((app->cfg.rate_event > 0 &&
         ratelimit_new(app->cfg.rate_event, app->cfg.rate_event_burst, &srv->rate_event) != 0) ||
        (app->cfg.rate_api > 0 &&
         ratelimit_new(app->cfg.rate_api, app->cfg.rate_api_burst, &srv->rate_api) != 0)) {
        server_free(srv);
        return tc_err_set(err, TC_INTERNAL, "cannot set up the rate limits");
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", app->cfg.listen_port);
    if (getaddrinfo(app->cfg.listen_host, port, &hints, &ai) != 0 || !ai) {
        server_free(srv);
        return tc_err_set(err, TC_INVALID_PARAMETER, "--listen: cannot resolve host '%s'",
                          app->cfg.listen_host);
    }
    /* ITC: needed to quiesce (stop accepting) before stopping. */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    char *cert = NULL, *key = NULL;
    if (app->cfg.tls_cert[0]) {
        if (read_pem(app->cfg.tls_cert, "--tls-cert", &cert, err) != 0 ||
            read_pem(app->cfg.tls_key, "--tls-key", &key, err) != 0) {
            free(cert);
            freeaddrinfo(ai);
            server_free(srv);
            return -1;
        }
        flags |= MHD_USE_TLS;
    }
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The logger first: options before it would log through MHD's own. */
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)app->cfg.listen_port, NULL, NULL, on_request, srv,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)app->cfg.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)app->cfg.read_timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
        MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
    freeaddrinfo(ai);
    /* libmicrohttpd parses the PEM at start and keeps its own copy. */
    free(cert);
    free(key);
    if (!srv->daemon) {
        server_free(srv);
        return tc_err_set(
            err, TC_INTERNAL,
            "cannot listen on %s:%d (in use? with HTTPS: do the certificate and key match?)",
            app->cfg.listen_host, app->cfg.listen_port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : app->cfg.listen_port;
    *out = srv;
    return 0;
}

int http_server_port(http_server *srv) {
    return srv->port;
}

/* Stop in three steps: stop accepting connections; answer any new request
 * on an open connection with 503 and close; wait (bounded) until every
 * request in flight has been answered. Only then tear the connections down:
 * MHD_stop_daemon closes their sockets, so a request still waiting for its
 * batch would commit but never be answered, and a client retrying it would
 * apply it twice. */
void http_server_stop(http_server *srv) {
    if (!srv)
        return;
    srv->stopping = 1;
    MHD_socket listener = MHD_quiesce_daemon(srv->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    int64_t deadline = clock_mono_ms() + HTTP_DRAIN_TIMEOUT_MS;
    while (srv->inflight > 0 && clock_mono_ms() < deadline) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 5 * 1000000L};
        nanosleep(&pause, NULL);
    }
    if (srv->inflight > 0)
        log_warn("msg=\"stopping with requests unanswered\" inflight=%d", (int)srv->inflight);
    MHD_stop_daemon(srv->daemon);
    server_free(srv);
}
