/* receiver.c: tocsin-test-receiver, the recording HTTP(S) endpoint of the
 * delivery e2e tests.
 *
 *   tocsin-test-receiver --listen 127.0.0.1:PORT --record FILE
 *                        [--tls-cert CERT.pem --tls-key KEY.pem]
 *
 * It prints "listening PORT" once it accepts connections (port 0 picks a
 * free one), appends one JSON line per request to FILE, and stops cleanly on
 * SIGTERM or SIGINT. The first segment of the URL path picks how a request is
 * answered, so one receiver plays many endpoints at once:
 *
 *   /ok/...                200 "ok"
 *   /fail/...              500
 *   /gone/...              410
 *   /bad/...               400
 *   /throttle/SECONDS/...  429 with Retry-After: SECONDS
 *   /unavailable/SECONDS/  503 with Retry-After: SECONDS
 *   /slow/MS/...           200 after MS milliseconds
 *   /reset/...             connection reset (RST), no answer
 *   /hang/...              no answer; the connection stays open until the
 *                          client goes away or the receiver stops
 *   /redirect/REST         302 to /ok/REST
 *   /flaky/N/...           500 for the first N requests to this exact path
 *                          (query string excluded), 200 after
 *   /status/CODE/...       CODE (200..599)
 *   /binary/...            200 with a body and a header that are not UTF-8
 *   anything else          404
 *   GET /_stats            {"received": n}, not recorded
 *
 * Every request is recorded (before it is answered) as
 *   {"t_ms", "n", "method", "path", "headers", "body", "mode", "status"}
 * where t_ms is the wall-clock time the whole request had arrived, n counts
 * recorded requests from 1 (lines are written in n order), path is the raw
 * request target with its query string, header names are lowercased (repeats
 * joined with ", "), and status is the code chosen (0 for reset and hang).
 * A body that is not valid UTF-8 is recorded byte for byte as Latin-1, with
 * "body_encoding": "latin1".
 *
 * libmicrohttpd runs one thread per connection, so /slow and /hang simply
 * wait in their handler without holding up any other connection; the wait
 * wakes on stop (the connection is then dropped) and notices a client that
 * hung up, so abandoned hangs do not pile up threads. Signals are taken with
 * sigwait() in main, so the program has no global state. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

/* A request body larger than this is refused (the connection is dropped):
 * the receiver keeps bodies in memory. */
#define RX_BODY_MAX (64u * 1024 * 1024)
/* How often a waiting /slow or /hang handler checks that its client is
 * still there. */
#define RX_POLL_MS 100

/* One /flaky path and how many requests it has seen. */
typedef struct rx_flaky {
    char *path;
    long seen;
    struct rx_flaky *next;
} rx_flaky;

/* The receiver: everything the handlers share, passed to MHD as cls. */
typedef struct {
    FILE *record;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;  /* broadcast on stop */
    int stopping;
    long received; /* requests recorded so far */
    rx_flaky *flaky;
} receiver;

/* Per-request state: made by the URI log callback (which sees the raw
 * target with its query string), freed by the completion callback. */
typedef struct {
    char *target;
    char *body;
    size_t len, cap;
    int headers_seen; /* the access handler has had its first call */
} rx_request;

/* How the request's path says it should be answered. */
typedef struct {
    const char *mode; /* the name recorded */
    int status;       /* 0: no answer (reset, hang) */
    const char *retry_after;
    long delay_ms;  /* slow: wait before answering */
    int hang;       /* wait until the client leaves or the receiver stops */
    int binary;     /* answer with bytes that are not UTF-8 */
    char *location; /* redirect target (owned) */
} rx_plan;

/* Outcome of waiting in a handler. */
enum rx_wait { RX_WAIT_ELAPSED, RX_WAIT_STOPPING, RX_WAIT_PEER_GONE };

static int64_t rx_now_ms(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the receiver ---- */

static int receiver_init(receiver *rx, const char *record_path) {
    memset(rx, 0, sizeof(*rx));
    rx->record = fopen(record_path, "a");
    if (!rx->record) {
        fprintf(stderr, "tocsin-test-receiver: --record %s: %s\n", record_path, strerror(errno));
        return -1;
    }
    /* Waits use the monotonic clock so a wall-clock step cannot stretch
     * or cut a /slow delay. */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&rx->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&rx->lock, NULL);
    return 0;
}

static void receiver_clear(receiver *rx) {
    rx_flaky *f = rx->flaky;
    while (f) {
        rx_flaky *next = f->next;
        free(f->path);
        free(f);
        f = next;
    }
    rx->flaky = NULL;
    if (rx->record)
        fclose(rx->record);
    rx->record = NULL;
    pthread_cond_destroy(&rx->wake);
    pthread_mutex_destroy(&rx->lock);
}

/* Wakes every waiting handler; later waits return at once. */
static void receiver_stop(receiver *rx) {
    pthread_mutex_lock(&rx->lock);
    rx->stopping = 1;
    pthread_cond_broadcast(&rx->wake);
    pthread_mutex_unlock(&rx->lock);
}

/* Counts a request to a /flaky path and returns how many came before it. */
static long receiver_flaky_seen(receiver *rx, const char *path) {
    long seen = -1;
    pthread_mutex_lock(&rx->lock);
    rx_flaky *f = rx->flaky;
    while (f && strcmp(f->path, path) != 0)
        f = f->next;
    if (!f) {
        f = calloc(1, sizeof(*f));
        if (f && !(f->path = strdup(path))) {
            free(f);
            f = NULL;
        }
        if (f) {
            f->next = rx->flaky;
            rx->flaky = f;
        }
    }
    if (f)
        seen = f->seen++;
    pthread_mutex_unlock(&rx->lock);
    return seen;
}

/* ---- recording ---- */

/* The body as a JSON string: UTF-8 as is, anything else as Latin-1 (every
 * byte one code point), so the line is always valid JSON and lossless. */
static json_t *body_json(const rx_request *rq, int *latin1) {
    const char *body = rq->body ? rq->body : "";
    json_t *s = json_stringn(body, rq->len);
    *latin1 = 0;
    if (s)
        return s;
    char *wide = malloc(rq->len * 2 + 1);
    if (!wide)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < rq->len; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c < 0x80) {
            wide[j++] = (char)c;
        } else {
            wide[j++] = (char)(0xC0 | (c >> 6));
            wide[j++] = (char)(0x80 | (c & 0x3F));
        }
    }
    s = json_stringn(wide, j);
    free(wide);
    *latin1 = 1;
    return s;
}

/* MHD header iterator: adds one header, lowercased, to a JSON object. */
static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value) {
    (void)kind;
    json_t *headers = cls;
    char *name = strdup(key);
    if (!name)
        return MHD_YES;
    for (char *p = name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    const char *v = value ? value : "";
    json_t *prev = json_object_get(headers, name);
    if (prev) {
        /* A repeated header: joined as HTTP allows for list values. */
        size_t n = strlen(json_string_value(prev)) + 2 + strlen(v) + 1;
        char *joined = malloc(n);
        if (joined) {
            snprintf(joined, n, "%s, %s", json_string_value(prev), v);
            json_object_set_new(headers, name, json_string(joined));
            free(joined);
        }
    } else {
        json_object_set_new(headers, name, json_string(v));
    }
    free(name);
    return MHD_YES;
}

/* The client's address as text ("" when unknown): lets tests see which
 * source address a push came from (tocsin's --egress-address). */
static const char *peer_address(struct MHD_Connection *conn, char *text, size_t cap) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    text[0] = '\0';
    if (info && info->client_addr) {
        const struct sockaddr *sa = info->client_addr;
        const void *addr = sa->sa_family == AF_INET6
                               ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                               : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
        if (!inet_ntop(sa->sa_family, addr, text, (socklen_t)cap))
            text[0] = '\0';
    }
    return text;
}

/* Appends the request's line to the record file. The counter and the write
 * share the lock, so lines appear in n order. */
static void record_request(receiver *rx, struct MHD_Connection *conn, const char *method,
                           const rx_request *rq, const rx_plan *plan) {
    int latin1 = 0;
    json_t *headers = json_object();
    json_t *line = json_object();
    if (!headers || !line)
        goto out;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header, headers);
    json_object_set_new(line, "t_ms", json_integer(rx_now_ms(CLOCK_REALTIME)));
    json_object_set_new(line, "method", json_string(method));
    json_object_set_new(line, "path", json_string(rq->target ? rq->target : ""));
    json_object_set(line, "headers", headers);
    json_object_set_new(line, "body", body_json(rq, &latin1));
    if (latin1)
        json_object_set_new(line, "body_encoding", json_string("latin1"));
    json_object_set_new(line, "mode", json_string(plan->mode));
    json_object_set_new(line, "status", json_integer(plan->status));
    char peer[INET6_ADDRSTRLEN];
    json_object_set_new(line, "peer", json_string(peer_address(conn, peer, sizeof(peer))));

    pthread_mutex_lock(&rx->lock);
    json_object_set_new(line, "n", json_integer(++rx->received));
    char *text = json_dumps(line, JSON_COMPACT);
    if (text) {
        fputs(text, rx->record);
        fputc('\n', rx->record);
        fflush(rx->record);
        free(text);
    } else {
        fprintf(stderr, "tocsin-test-receiver: cannot record request %ld\n", rx->received);
    }
    pthread_mutex_unlock(&rx->lock);
out:
    json_decref(headers);
    json_decref(line);
}

/* ---- choosing the answer ---- */

/* Copies path segment i (0-based) of url into buf; returns 0 if missing. */
static int path_segment(const char *url, int i, char *buf, size_t size) {
    const char *p = url;
    for (int k = 0; k <= i; k++) {
        while (*p == '/')
            p++;
        if (!*p)
            return 0;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (k == i) {
            if (len >= size)
                return 0;
            memcpy(buf, p, len);
            buf[len] = '\0';
            return 1;
        }
        p += len;
    }
    return 0;
}

/* Parses a non-negative decimal; -1 if s is not one. */
static long parse_count(const char *s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return -1;
    return v;
}

static void plan_set(rx_plan *plan, const char *mode, int status) {
    plan->mode = mode;
    plan->status = status;
}

/* Fills plan from the URL path (decoded, without query string). Argument
 * segments (SECONDS, MS, N, CODE) live in args, which the plan points into. */
static void plan_request(receiver *rx, const char *url, char *args, size_t args_size,
                         rx_plan *plan) {
    char first[32];
    memset(plan, 0, sizeof(*plan));
    plan->mode = "unknown";
    plan->status = 404;
    if (!path_segment(url, 0, first, sizeof(first)))
        return;
    int has_arg = path_segment(url, 1, args, args_size);
    long num = has_arg ? parse_count(args) : -1;

    if (!strcmp(first, "ok")) {
        plan_set(plan, "ok", 200);
    } else if (!strcmp(first, "fail")) {
        plan_set(plan, "fail", 500);
    } else if (!strcmp(first, "gone")) {
        plan_set(plan, "gone", 410);
    } else if (!strcmp(first, "bad")) {
        plan_set(plan, "bad", 400);
    } else if (!strcmp(first, "throttle") && has_arg) {
        plan_set(plan, "throttle", 429);
        plan->retry_after = args;
    } else if (!strcmp(first, "unavailable") && has_arg) {
        plan_set(plan, "unavailable", 503);
        plan->retry_after = args;
    } else if (!strcmp(first, "slow") && num >= 0) {
        plan_set(plan, "slow", 200);
        plan->delay_ms = num;
    } else if (!strcmp(first, "reset")) {
        plan_set(plan, "reset", 0);
    } else if (!strcmp(first, "hang")) {
        plan_set(plan, "hang", 0);
        plan->hang = 1;
    } else if (!strcmp(first, "redirect")) {
        const char *rest = strstr(url, "redirect") + strlen("redirect");
        while (*rest == '/')
            rest++;
        size_t n = strlen("/ok/") + strlen(rest) + 1;
        plan->location = malloc(n);
        if (plan->location) {
            snprintf(plan->location, n, "/ok/%s", rest);
            plan_set(plan, "redirect", 302);
        } else {
            plan_set(plan, "redirect", 500);
        }
    } else if (!strcmp(first, "flaky") && num >= 0) {
        long seen = receiver_flaky_seen(rx, url);
        /* seen < 0 (out of memory) still answers as a failure. */
        plan_set(plan, "flaky", (seen < 0 || seen < num) ? 500 : 200);
    } else if (!strcmp(first, "binary")) {
        plan_set(plan, "binary", 200);
        plan->binary = 1;
    } else if (!strcmp(first, "status") && num >= 200 && num <= 599) {
        plan_set(plan, "status", (int)num);
    }
}

/* ---- answering ---- */

static enum MHD_Result send_answer(struct MHD_Connection *conn, const rx_plan *plan) {
    char text[64];
    int empty = plan->status == 204 || plan->status == 304;
    if (plan->binary) /* a stray byte, a cut 3-byte character, a surrogate */
        snprintf(text, sizeof(text), "ok \xff\xfe end \xe2\x82 \xed\xa0\x80!");
    else if (plan->status == 200)
        snprintf(text, sizeof(text), "ok");
    else
        snprintf(text, sizeof(text), "%s %d", plan->mode, plan->status);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(empty ? 0 : strlen(text), text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    if (plan->retry_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, plan->retry_after);
    if (plan->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, plan->location);
    if (plan->binary)
        MHD_add_response_header(resp, "X-Latin1", "caf\xe9");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)plan->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_stats(receiver *rx, struct MHD_Connection *conn) {
    char text[64];
    pthread_mutex_lock(&rx->lock);
    snprintf(text, sizeof(text), "{\"received\":%ld}", rx->received);
    pthread_mutex_unlock(&rx->lock);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Drops the connection with an RST. MHD always sends a FIN (shutdown
 * SHUT_WR) before it closes, so the client would read an orderly end of
 * stream; connect() to AF_UNSPEC instead makes Linux abort the TCP
 * connection at once (tcp_disconnect sends the RST). The descriptor stays
 * open for MHD to close; linger 0 covers a kernel that refuses. */
static enum MHD_Result reset_connection(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(info->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        struct sockaddr unspec = {.sa_family = AF_UNSPEC};
        connect(info->connect_fd, &unspec, sizeof(unspec));
    }
    return MHD_NO;
}

/* True once the client has closed its side or the socket failed. */
static int peer_gone(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info)
        return 0;
    struct pollfd pfd = {.fd = info->connect_fd, .events = POLLRDHUP};
    if (poll(&pfd, 1, 0) <= 0)
        return 0;
    return (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* Waits delay_ms (forever if negative) in a handler thread, waking early
 * when the receiver stops or the client leaves. */
static enum rx_wait wait_in_handler(receiver *rx, struct MHD_Connection *conn, long delay_ms) {
    int64_t deadline = delay_ms < 0 ? INT64_MAX : rx_now_ms(CLOCK_MONOTONIC) + delay_ms;
    enum rx_wait why = RX_WAIT_ELAPSED;
    pthread_mutex_lock(&rx->lock);
    for (;;) {
        if (rx->stopping) {
            why = RX_WAIT_STOPPING;
            break;
        }
        int64_t now = rx_now_ms(CLOCK_MONOTONIC);
        if (now >= deadline)
            break;
        int64_t until = deadline - now < RX_POLL_MS ? deadline : now + RX_POLL_MS;
        struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000};
        pthread_cond_timedwait(&rx->wake, &rx->lock, &ts);
        if (rx->stopping)
            continue;
        /* The socket check needs no lock; drop it so others go on. */
        pthread_mutex_unlock(&rx->lock);
        int gone = peer_gone(conn);
        pthread_mutex_lock(&rx->lock);
        if (gone) {
            why = RX_WAIT_PEER_GONE;
            break;
        }
    }
    pthread_mutex_unlock(&rx->lock);
    return why;
}

/* ---- MHD callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
    (void)cls;
    (void)conn;
    rx_request *rq = calloc(1, sizeof(*rq));
    if (rq)
        rq->target = strdup(uri);
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)conn;
    (void)toe;
    rx_request *rq = *req_cls;
    if (rq) {
        free(rq->target);
        free(rq->body);
        free(rq);
    }
    *req_cls = NULL;
}

/* Appends a chunk of the request body; -1 past RX_BODY_MAX or out of memory. */
static int take_body(rx_request *rq, const char *data, size_t size) {
    if (size > RX_BODY_MAX - rq->len)
        return -1;
    if (rq->len + size + 1 > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 4096;
        while (cap < rq->len + size + 1)
            cap *= 2;
        char *grown = realloc(rq->body, cap);
        if (!grown)
            return -1;
        rq->body = grown;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, size);
    rq->len += size;
    rq->body[rq->len] = '\0';
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls) {
    (void)version;
    receiver *rx = cls;
    rx_request *rq = *req_cls;
    if (!rq)
        return MHD_NO; /* on_uri ran out of memory */
    if (!rq->headers_seen) {
        rq->headers_seen = 1;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (take_body(rq, upload_data, *upload_data_size) < 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!strcmp(url, "/_stats"))
        return send_stats(rx, conn);

    char args[256];
    rx_plan plan;
    plan_request(rx, url, args, sizeof(args), &plan);
    record_request(rx, conn, method, rq, &plan);

    enum MHD_Result ret = MHD_NO;
    if (!strcmp(plan.mode, "reset")) {
        ret = reset_connection(conn);
    } else if (plan.hang) {
        wait_in_handler(rx, conn, -1);
        ret = MHD_NO; /* never answered: the connection is dropped */
    } else if (plan.delay_ms > 0 && wait_in_handler(rx, conn, plan.delay_ms) != RX_WAIT_ELAPSED) {
        ret = MHD_NO;
    } else {
        ret = send_answer(conn, &plan);
    }
    free(plan.location);
    return ret;
}

/* ---- command line and main ---- */

typedef struct {
    const char *listen;
    const char *record;
    const char *tls_cert;
    const char *tls_key;
} rx_options;

static void usage(FILE *out) {
    fputs("Usage: tocsin-test-receiver --listen HOST:PORT --record FILE\n"
          "                            [--tls-cert CERT.pem --tls-key KEY.pem]\n"
          "\n"
          "A recording HTTP endpoint for tocsin's delivery tests: the URL path's\n"
          "first segment chooses the answer (ok, fail, gone, bad, throttle/S,\n"
          "unavailable/S, slow/MS, reset, hang, redirect, flaky/N, status/CODE, binary);\n"
          "every request is appended to FILE as one JSON line. Port 0 picks a free\n"
          "port; \"listening PORT\" is printed once ready. Stops on SIGTERM/SIGINT.\n",
          out);
}

/* Returns 0 to run, 1 when --help was printed, -1 on a usage error. */
static int parse_options(int argc, char **argv, rx_options *opt) {
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},   {"record", required_argument, NULL, 'r'},
        {"tls-cert", required_argument, NULL, 'c'}, {"tls-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    memset(opt, 0, sizeof(*opt));
    opt->listen = "127.0.0.1:0";
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            opt->listen = optarg;
            break;
        case 'r':
            opt->record = optarg;
            break;
        case 'c':
            opt->tls_cert = optarg;
            break;
        case 'k':
            opt->tls_key = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc || !opt->record) {
        fputs("tocsin-test-receiver: --record FILE is required\n", stderr);
        return -1;
    }
    if (!opt->tls_cert != !opt->tls_key) {
        fputs("tocsin-test-receiver: --tls-cert and --tls-key go together\n", stderr);
        return -1;
    }
    return 0;
}

/* Resolves HOST:PORT (or [V6]:PORT), numeric only, into addr. */
static int parse_listen(const char *spec, struct sockaddr_storage *addr) {
    char host[128];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof(host))
        goto bad;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    char *h = host;
    size_t hl = strlen(h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(h, colon + 1, &hints, &res) != 0 || !res)
        goto bad;
    memset(addr, 0, sizeof(*addr));
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
bad:
    fprintf(stderr, "tocsin-test-receiver: --listen %s: expected HOST:PORT (numeric)\n", spec);
    return -1;
}

/* Reads a whole file as a NUL-terminated string (MHD wants PEM text). */
static char *read_file(const char *path) {
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        goto fail;
    if (fseek(f, 0, SEEK_END) != 0)
        goto fail;
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size)
        goto fail;
    buf[size] = '\0';
    fclose(f);
    return buf;
fail:
    fprintf(stderr, "tocsin-test-receiver: cannot read %s: %s\n", path, strerror(errno));
    free(buf);
    if (f)
        fclose(f);
    return NULL;
}

int main(int argc, char **argv) {
    int rc = 1;
    rx_options opt;
    receiver rx;
    int rx_ready = 0;
    struct MHD_Daemon *daemon = NULL;
    char *cert = NULL, *key = NULL;
    struct sockaddr_storage addr;

    int parsed = parse_options(argc, argv, &opt);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    if (parse_listen(opt.listen, &addr) < 0)
        return 2;
    if (opt.tls_cert) {
        if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
            fputs("tocsin-test-receiver: libmicrohttpd was built without TLS\n", stderr);
            goto out;
        }
        if (!(cert = read_file(opt.tls_cert)) || !(key = read_file(opt.tls_key)))
            goto out;
    }
    if (receiver_init(&rx, opt.record) < 0)
        goto out;
    rx_ready = 1;

    /* Block the stop signals before any thread exists, so every MHD thread
     * inherits the mask and sigwait() below is the only taker. */
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (cert)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {{MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
                                        {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
                                        {MHD_OPTION_END, 0, NULL}};
    daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, &rx, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, &rx, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &rx,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024), MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)2000, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_ARRAY,
        cert ? tls_opts : &tls_opts[2], MHD_OPTION_END);
    if (!daemon) {
        fprintf(stderr, "tocsin-test-receiver: cannot listen on %s\n", opt.listen);
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening %u\n", info ? (unsigned)info->port : 0u);
    fflush(stdout);

    int sig = 0;
    sigwait(&stop_set, &sig);
    /* Waiting handlers first (hung connections are dropped), then MHD
     * closes every connection and joins its threads. */
    receiver_stop(&rx);
    MHD_stop_daemon(daemon);
    daemon = NULL;
    rc = 0;
out:
    if (daemon)
        MHD_stop_daemon(daemon);
    if (rx_ready)
        receiver_clear(&rx);
    free(cert);
    free(key);
    return rc;
}
