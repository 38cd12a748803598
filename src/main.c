/* main.c: the command line. `tocsin serve` wires the long-lived parts
 * together (config → store → writer → HTTP front), prints how to reach the
 * running service, and waits for SIGINT/SIGTERM to stop in reverse order:
 * the HTTP front first (requests in flight finish), then the writer (its last
 * batch commits), then the store. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "api/auth.h"
#include "core/app.h"
#include "core/cluster.h"
#include "core/state.h"
#include "core/timers.h"
#include "delivery/dispatcher.h"
#include "delivery/guard.h"
#include "delivery/replay.h"
#include "http/ratelimit.h"
#include "http/server.h"
#include "store/copy.h"
#include "util/log.h"
#include "util/metrics.h"

#define TOCSIN_VERSION "0.1.0"

static void usage_main(FILE *out) {
    fputs("tocsin " TOCSIN_VERSION ": a self-hosted alert and incident hub\n"
          "\n"
          "Usage:\n"
          "  tocsin serve [options]   run the server (see `tocsin serve --help`)\n"
          "  tocsin store copy --from sqlite:PATH --to postgres://...\n"
          "                           copy a SQLite install into an empty PostgreSQL\n"
          "                           database (see `tocsin store copy --help`)\n"
          "  tocsin --version         print the version\n"
          "  tocsin --help            this text\n",
          out);
}

static void usage_serve(FILE *out) {
    fputs("Usage: tocsin serve --listen HOST:PORT --data DIR [options]\n"
          "\n"
          "  --listen HOST:PORT     address to serve HTTP on (default 127.0.0.1:8080;\n"
          "                         port 0 picks a free port, printed at start)\n"
          "  --data DIR             data folder: DIR/tocsin.db (SQLite, WAL) and, on first\n"
          "                         start, DIR/admin-app-key (default ./data)\n"
          "  --store URL            keep everything in PostgreSQL instead of SQLite:\n"
          "                         postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?...] (any\n"
          "                         libpq URL); several tocsin nodes may share one\n"
          "                         database (also TOCSIN_STORE)\n"
          "  --node-id NAME         this node's name among several (default HOST:PORT of\n"
          "                         --listen, with this machine's name for 0.0.0.0)\n"
          "  --base-url URL         public URL of this tocsin, used for detail_url in\n"
          "                         webhooks (default http://HOST:PORT)\n"
          "  --log-level LEVEL      debug, info, warn or error (default info)\n"
          "  --max-connections N    concurrent HTTP connections (default 1024); more are\n"
          "                         closed at once\n"
          "  --read-timeout S       close a connection idle or sending for S seconds\n"
          "                         without completing a request (default 30)\n"
          "  --sync normal          fsync the WAL at checkpoints only, not every commit\n"
          "                         (faster; a power loss may lose the newest commits)\n"
          "  --allow-private-targets  let webhooks and custom actions push to loopback,\n"
          "                         private, link-local and other reserved addresses\n"
          "                         (refused by default: checked on the resolved address)\n"
          "  --allow-cidr CIDR      allow pushes to this range only (repeatable), e.g.\n"
          "                         10.1.0.0/16 or fd00::/8\n"
          "  --egress-address ADDR  send every push from this local address\n"
          "  --tls-cert FILE        serve HTTPS with this PEM certificate (chain)\n"
          "  --tls-key FILE         and this PEM private key (both or neither)\n"
          "  --max-inflight-per-endpoint N  push attempts in flight at once per webhook\n"
          "                         or custom action (default 32, at most 1024)\n"
          "  --replay-rate N        events each bulk replay (/webhook/history/replay) puts\n"
          "                         in the outbox per second (default 100, at most 10000)\n"
          "  --rate-limit-event RATE[:BURST]  Event API requests per second per\n"
          "                         integration_key (default 2000:4000); more get 429\n"
          "                         RequestTooFrequently with Retry-After; 0 = no limit\n"
          "  --rate-limit-api RATE[:BURST]    Open API requests per second per app_key\n"
          "                         (default 200:400); 0 = no limit\n"
          "  --time-zone ZONE       IANA zone (e.g. Europe/Paris) in which silence rules'\n"
          "                         recurring windows are read (default: the machine's)\n"
          "  --help                 this text\n"
          "\n"
          "Environment:\n"
          "  TOCSIN_ADMIN_APP_KEY   on first start, the administrator's app key (16-256\n"
          "                         characters) instead of a random one\n"
          "  TOCSIN_STORE           as --store (the flag wins)\n",
          out);
}

static int parse_listen(const char *arg, tc_config *cfg) {
    const char *colon = strrchr(arg, ':');
    if (!colon || colon == arg)
        return -1;
    size_t hlen = (size_t)(colon - arg);
    const char *host = arg;
    if (host[0] == '[' && hlen >= 2 && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    if (hlen >= sizeof(cfg->listen_host))
        return -1;
    memcpy(cfg->listen_host, host, hlen);
    cfg->listen_host[hlen] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!*(colon + 1) || *end || port < 0 || port > 65535)
        return -1;
    cfg->listen_port = (int)port;
    return 0;
}

/* Copies a flag's value into its fixed-size field, refusing one that would
 * not fit: a path cut short would name another file. */
static int copy_arg(char *dst, size_t cap, const char *value, const char *flag) {
    size_t n = strlen(value);
    if (n >= cap) {
        fprintf(stderr, "tocsin: %s is too long (%zu bytes; at most %zu)\n", flag, n, cap - 1);
        return -1;
    }
    memcpy(dst, value, n + 1);
    return 0;
}

/* --time-zone: the zone recurring rule windows are read in
 * (core/rule_window.h). One zone serves the whole process, so it is set
 * once here, before any thread starts (TZ, then tzset), and localtime_r is
 * then safe everywhere. An IANA name must name a file of the system's zone
 * database; "" keeps the machine's local zone. */
static int time_zone_set(const char *name) {
    if (!name[0]) {
        tzset();
        return 0;
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", name);
    struct stat st;
    if (name[0] == '/' || strstr(name, "..") || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr,
                "tocsin: --time-zone must be an IANA zone name such as Europe/Paris"
                " (not found: %s)\n",
                path);
        return -1;
    }
    if (setenv("TZ", name, 1) != 0) {
        fprintf(stderr, "tocsin: cannot set the time zone\n");
        return -1;
    }
    tzset();
    return 0;
}

static int parse_serve_args(int argc, char **argv, tc_config *cfg) {
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"data", required_argument, NULL, 'd'},
        {"base-url", required_argument, NULL, 'b'},
        {"log-level", required_argument, NULL, 'v'},
        {"max-connections", required_argument, NULL, 'c'},
        {"sync", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {"allow-private-targets", no_argument, NULL, 'P'},
        {"allow-cidr", required_argument, NULL, 'C'},
        {"egress-address", required_argument, NULL, 'E'},
        {"tls-cert", required_argument, NULL, 'T'},
        {"read-timeout", required_argument, NULL, 'R'},
        {"tls-key", required_argument, NULL, 'K'},
        {"replay-rate", required_argument, NULL, 'Y'},
        {"max-inflight-per-endpoint", required_argument, NULL, 'F'},
        {"rate-limit-event", required_argument, NULL, 'r'},
        {"rate-limit-api", required_argument, NULL, 'a'},
        {"store", required_argument, NULL, 'S'},
        {"node-id", required_argument, NULL, 'N'},
        {"time-zone", required_argument, NULL, 'Z'},
        {NULL, 0, NULL, 0},
    };
    snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
    cfg->listen_port = 8080;
    snprintf(cfg->data_dir, sizeof(cfg->data_dir), "./data");
    cfg->sync_full = 1;
    cfg->max_connections = 1024;
    cfg->read_timeout_s = 30;
    cfg->replay_rate = REPLAY_RATE_DEFAULT;
    cfg->max_inflight_per_endpoint = DISPATCHER_MAX_PER_TARGET;
    cfg->rate_event = 2000;
    cfg->rate_event_burst = 4000;
    cfg->rate_api = 200;
    cfg->rate_api_burst = 400;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (parse_listen(optarg, cfg) != 0) {
                fprintf(stderr, "tocsin: --listen must be HOST:PORT, not '%s'\n", optarg);
                return -1;
            }
            break;
        case 'd':
            if (copy_arg(cfg->data_dir, sizeof(cfg->data_dir), optarg, "--data") != 0)
                return -1;
            break;
        case 'b':
            if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0) {
                fprintf(stderr, "tocsin: --base-url must start with http:// or https://\n");
                return -1;
            }
            if (copy_arg(cfg->base_url, sizeof(cfg->base_url), optarg, "--base-url") != 0)
                return -1;
            break;
        case 'v': {
            log_level lv;
            if (log_parse_level(optarg, &lv) != 0) {
                fprintf(stderr, "tocsin: --log-level must be debug, info, warn or error\n");
                return -1;
            }
            log_set_level(lv);
            break;
        }
        case 'c':
            cfg->max_connections = atoi(optarg);
            if (cfg->max_connections < 1 || cfg->max_connections > 100000) {
                fprintf(stderr, "tocsin: --max-connections must be 1 to 100000\n");
                return -1;
            }
            break;
        case 's':
            if (strcmp(optarg, "normal") != 0 && strcmp(optarg, "full") != 0) {
                fprintf(stderr, "tocsin: --sync must be full or normal\n");
                return -1;
            }
            cfg->sync_full = strcmp(optarg, "full") == 0;
            break;
        case 'P':
            cfg->allow_private_targets = 1;
            break;
        case 'C':
            if (cfg->nallow_cidrs ==
                (int)(sizeof(cfg->allow_cidrs) / sizeof(cfg->allow_cidrs[0]))) {
                fprintf(stderr, "tocsin: at most 32 --allow-cidr\n");
                return -1;
            }
            cfg->allow_cidrs[cfg->nallow_cidrs++] = optarg;
            break;
        case 'E':
            if (copy_arg(cfg->egress_address, sizeof(cfg->egress_address), optarg,
                         "--egress-address") != 0)
                return -1;
            break;
        case 'R':
            cfg->read_timeout_s = atoi(optarg);
            if (cfg->read_timeout_s < 1 || cfg->read_timeout_s > 3600) {
                fprintf(stderr, "tocsin: --read-timeout must be 1 to 3600 seconds\n");
                return -1;
            }
            break;
        case 'T':
            if (copy_arg(cfg->tls_cert, sizeof(cfg->tls_cert), optarg, "--tls-cert") != 0)
                return -1;
            break;
        case 'F':
            cfg->max_inflight_per_endpoint = atoi(optarg);
            if (cfg->max_inflight_per_endpoint < 1 ||
                cfg->max_inflight_per_endpoint > DISPATCHER_MAX_PER_TARGET_LIMIT) {
                fprintf(stderr, "tocsin: --max-inflight-per-endpoint must be 1 to %d\n",
                        DISPATCHER_MAX_PER_TARGET_LIMIT);
                return -1;
            }
            break;
        case 'Y':
            cfg->replay_rate = atoi(optarg);
            if (cfg->replay_rate < 1 || cfg->replay_rate > REPLAY_RATE_MAX) {
                fprintf(stderr, "tocsin: --replay-rate must be 1 to %d events per second\n",
                        REPLAY_RATE_MAX);
                return -1;
            }
            break;
        case 'K':
            if (copy_arg(cfg->tls_key, sizeof(cfg->tls_key), optarg, "--tls-key") != 0)
                return -1;
            break;
        case 'S':
            if (copy_arg(cfg->store_url, sizeof(cfg->store_url), optarg, "--store") != 0)
                return -1;
            break;
        case 'Z':
            if (copy_arg(cfg->time_zone, sizeof(cfg->time_zone), optarg, "--time-zone") != 0)
                return -1;
            break;
        case 'N':
            if (!optarg[0] ||
                copy_arg(cfg->node_id, sizeof(cfg->node_id), optarg, "--node-id") != 0) {
                if (!optarg[0])
                    fprintf(stderr, "tocsin: --node-id must not be empty\n");
                return -1;
            }
            break;
        case 'r':
        case 'a': {
            double *rate = c == 'r' ? &cfg->rate_event : &cfg->rate_api;
            double *burst = c == 'r' ? &cfg->rate_event_burst : &cfg->rate_api_burst;
            if (ratelimit_parse(optarg, rate, burst) != 0) {
                fprintf(stderr,
                        "tocsin: --rate-limit-%s must be RATE or RATE:BURST (requests per "
                        "second, 0 = no limit; BURST >= 1), not '%s'\n",
                        c == 'r' ? "event" : "api", optarg);
                return -1;
            }
            break;
        }
        case 'h':
            usage_serve(stdout);
            exit(0);
        default:
            usage_serve(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tocsin: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    const char *env_store = getenv("TOCSIN_STORE");
    if (!cfg->store_url[0] && env_store && env_store[0] &&
        copy_arg(cfg->store_url, sizeof(cfg->store_url), env_store, "TOCSIN_STORE") != 0)
        return -1;
    if (cfg->store_url[0] && strncmp(cfg->store_url, "postgres://", 11) != 0 &&
        strncmp(cfg->store_url, "postgresql://", 13) != 0) {
        fprintf(stderr, "tocsin: --store must be a postgres:// or postgresql:// URL\n");
        return -1;
    }
    if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
        fprintf(stderr, "tocsin: --tls-cert and --tls-key go together\n");
        return -1;
    }
    if (time_zone_set(cfg->time_zone) != 0)
        return -1;
    size_t n = strlen(cfg->base_url);
    while (n && cfg->base_url[n - 1] == '/')
        cfg->base_url[--n] = '\0';
    return 0;
}

static void read_admin_key(const tc_config *cfg, char *out, size_t cap) {
    out[0] = '\0';
    const char *env = getenv("TOCSIN_ADMIN_APP_KEY");
    if (env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    char path[1200];
    snprintf(path, sizeof(path), "%s/admin-app-key", cfg->data_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(out, (int)cap, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
}

/* The store's URL as it may be printed: a password in it (user:password@
 * or password=...) becomes ***. */
static void url_for_print(const char *url, char *out, size_t cap) {
    size_t o = 0;
    const char *scheme_end = strstr(url, "://");
    const char *host_start = scheme_end ? scheme_end + 3 : url;
    const char *at = strchr(host_start, '@');
    const char *slash = strchr(host_start, '/');
    const char *colon = at ? memchr(host_start, ':', (size_t)(at - host_start)) : NULL;
    if (at && slash && at > slash)
        colon = NULL;
    for (const char *p = url; *p && o + 4 < cap;) {
        if (colon && p == colon + 1) {
            o += (size_t)snprintf(out + o, cap - o, "***");
            p = at;
            continue;
        }
        if (strncmp(p, "password=", 9) == 0) {
            o += (size_t)snprintf(out + o, cap - o, "password=***");
            p += 9;
            while (*p && *p != '&')
                p++;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

static void print_banner(const tc_config *cfg, int port, int first_start) {
    char key[300];
    read_admin_key(cfg, key, sizeof(key));
    char url[1100];
    snprintf(url, sizeof(url), "%s://%s:%d", cfg->tls_cert[0] ? "https" : "http",
             strcmp(cfg->listen_host, "0.0.0.0") == 0 ? "127.0.0.1" : cfg->listen_host, port);
    printf("\ntocsin %s is running%s\n", TOCSIN_VERSION, first_start ? " (first start)" : "");
    printf("  url:      %s\n", url);
    printf("  console:  %s/  (log in with the app key)\n", url);
    if (cfg->store_url[0]) {
        char shown[sizeof(cfg->store_url) + 16];
        url_for_print(cfg->store_url, shown, sizeof(shown));
        printf("  store:    %s (PostgreSQL, node %s)\n", shown, cfg->node_id);
    } else {
        printf("  data:     %s/tocsin.db\n", cfg->data_dir);
    }
    if (key[0]) {
        printf("  app key:  %s%s\n", key,
               getenv("TOCSIN_ADMIN_APP_KEY") ? "  (from TOCSIN_ADMIN_APP_KEY)"
                                              : "  (also in admin-app-key in the data folder)");
        printf("\nTry it:\n"
               "  curl -s -X POST '%s/channel/list?app_key=%s' \\\n"
               "       -H 'Content-Type: application/json' -d '{}'%s%s\n",
               url, key, cfg->tls_cert[0] ? " --cacert " : "",
               cfg->tls_cert[0] ? cfg->tls_cert : "");
        if (cfg->tls_cert[0])
            printf("  (--cacert is needed only for a self-signed certificate)\n");
    } else {
        printf("  app key:  (not shown: use the key you were given at first start)\n");
    }
    printf("\nStop with Ctrl-C.\n\n");
    fflush(stdout);
}

/* Another node changed integrations or channels: the dispatcher's
 * targets are read again. */
static void config_changed_elsewhere(void *arg) {
    dispatcher_reload(arg);
}

/* An empty command: the writer's first batch fills its cache. */
static int first_batch_cmd(writer_txn *txn, void *arg, tc_err *err) {
    (void)txn;
    (void)arg;
    (void)err;
    return 0;
}

/* Everything the configuration needs from the machine, before any thread
 * starts: the data folder, and the listening socket (base_url needs the
 * port actually bound when --listen asks for port 0). After this the
 * configuration is complete, and it is never written again. */
static int serve_prepare(tc_config *cfg, int *listen_fd, int *port, tc_err *err) {
    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST)
        return tc_err_set(err, TC_INTERNAL, "cannot create data folder %s: %s", cfg->data_dir,
                          strerror(errno));
    if (http_listen(cfg->listen_host, cfg->listen_port, listen_fd, port, err) != 0)
        return -1;
    int v6 = strchr(cfg->listen_host, ':') != NULL; /* an IPv6 address goes in brackets */
    if (!cfg->base_url[0] &&
        snprintf(cfg->base_url, sizeof(cfg->base_url), "%s://%s%s%s:%d",
                 cfg->tls_cert[0] ? "https" : "http", v6 ? "[" : "", cfg->listen_host,
                 v6 ? "]" : "", *port) >= (int)sizeof(cfg->base_url))
        return tc_err_set(err, TC_INVALID_PARAMETER, "--listen: the host name is too long");
    if (!cfg->node_id[0]) {
        char host[256] = "";
        int any = strcmp(cfg->listen_host, "0.0.0.0") == 0 || strcmp(cfg->listen_host, "::") == 0;
        if (!any || gethostname(host, sizeof(host) - 1) != 0)
            snprintf(host, sizeof(host), "%s", cfg->listen_host);
        if (snprintf(cfg->node_id, sizeof(cfg->node_id), "%s:%d", host, *port) >=
            (int)sizeof(cfg->node_id))
            return tc_err_set(err, TC_INVALID_PARAMETER, "--node-id: the host name is too long");
    }
    return 0;
}

static int serve(int argc, char **argv) {
    static tc_config cfg; /* lives as long as every thread that reads it */
    if (parse_serve_args(argc, argv, &cfg) != 0)
        return 2;
    tc_err err;
    int listen_fd = -1, port = 0;
    if (serve_prepare(&cfg, &listen_fd, &port, &err) != 0) {
        fprintf(stderr, "tocsin: %s\n", err.message);
        return 1;
    }
    tc_app app = {.cfg = &cfg};
    /* Block the stop signals before any thread starts, so that every thread
     * inherits the mask and only sigwait below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A file-size limit (ulimit -f) then surfaces as a store error that is
     * answered and recovered from, instead of killing the process. */
    signal(SIGXFSZ, SIG_IGN);

    char db_path[sizeof(cfg.data_dir) + 16];
    snprintf(db_path, sizeof(db_path), "%s/tocsin.db", cfg.data_dir);
    store_options so = {.path = db_path,
                        .url = cfg.store_url[0] ? cfg.store_url : NULL,
                        .node_id = cfg.node_id,
                        .readers = 4,
                        .sync_full = cfg.sync_full};
    http_server *srv = NULL;
    guard *g = NULL;
    tc_state *state = NULL;
    int status = 1, created = 0;
    if (store_open(&so, &app.st, &err) != 0)
        goto done;
    if (state_new(&state, &err) != 0 || writer_new(app.st, app.cfg, &app.w, &err) != 0)
        goto done;
    writer_set_state(app.w, state);
    /* The writer's cache is filled on the writer's own connection, before
     * any request: from then on only the writer thread touches it. */
    if (writer_run(app.w, first_batch_cmd, NULL, &err) != 0)
        goto done;
    if (!(app.m = metrics_new())) {
        tc_err_set(&err, TC_INTERNAL, "out of memory");
        goto done;
    }
    if (auth_bootstrap_admin(&app, &created, &err) != 0)
        goto done;
    if (guard_new(cfg.allow_private_targets, cfg.allow_cidrs, (size_t)cfg.nallow_cidrs, &g, &err) !=
        0)
        goto done;
    push_network net = {.g = g,
                        .egress_address = cfg.egress_address[0] ? cfg.egress_address : NULL};
    if (cluster_new(app.st, cfg.node_id, &app.cluster, &err) != 0)
        goto done;
    /* After the cluster: on PostgreSQL the timers run only under its lease. */
    writer_set_tick(app.w, timers_tick, &app, TIMERS_INTERVAL_MS);
    if (dispatcher_new(&app, &net, &app.d, &err) != 0)
        goto done;
    writer_set_after_commit(app.w, dispatcher_wake, app.d);
    writer_set_config_hook(app.w, config_changed_elsewhere, app.d);
    int fd = listen_fd;
    listen_fd = -1; /* the server owns it now, even if it fails to start */
    if (http_server_start(&app, fd, &srv, &err) != 0)
        goto done;
    log_info("msg=listening address=%s:%d data=%s store=%s node=%s", cfg.listen_host, port,
             cfg.data_dir, cfg.store_url[0] ? "postgres" : "sqlite", cfg.node_id);
    print_banner(&cfg, port, created);
    int sig = 0;
    sigwait(&stop, &sig);
    log_info("msg=\"stopping\" signal=%d", sig);
    status = 0;
done:
    if (status != 0)
        fprintf(stderr, "tocsin: %s\n", err.message);
    if (listen_fd >= 0)
        close(listen_fd);
    http_server_stop(srv);
    /* After the HTTP front (no new changes), before the writer (the
     * dispatcher records its last outcomes through it). */
    if (app.w)
        writer_set_after_commit(app.w, NULL, NULL);
    dispatcher_free(app.d);
    guard_free(g);
    writer_free(app.w);
    /* After the dispatcher (it gives back the buckets the dispatcher served)
     * and after the writer (whose timer batches read the timers lease). */
    cluster_free(app.cluster);
    state_free(state);   /* after the writer: its last batch used it */
    metrics_free(app.m); /* last: everything above may still count */
    store_free(app.st);
    if (status == 0)
        log_info("msg=stopped");
    return status;
}

static void usage_store_copy(FILE *out) {
    fputs("Usage: tocsin store copy --from sqlite:PATH --to postgres://...\n"
          "\n"
          "Copies everything a SQLite install holds (people and app keys, channels,\n"
          "integrations, incidents, alerts, timelines, events, pending deliveries,\n"
          "history, replays) into an empty PostgreSQL database, then\n"
          "`tocsin serve --store postgres://...` carries on from there: pending pushes\n"
          "resume where they stopped, and new ids continue above the copied ones.\n"
          "\n"
          "  --from SOURCE   the SQLite database: sqlite:PATH or PATH, where PATH is\n"
          "                  the file (DIR/tocsin.db) or the data folder holding it;\n"
          "                  only read, from one snapshot: tocsin may be running on it\n"
          "                  (what it writes after the snapshot is not copied)\n"
          "  --to URL        the PostgreSQL database, postgres://USER[:PASSWORD]@HOST\n"
          "                  [:PORT]/DB[?...] (any libpq URL); tocsin's tables are made\n"
          "                  if missing, and a database with a row in any of them is\n"
          "                  refused. Everything is written in one transaction.\n"
          "  --help          this text\n",
          out);
}

/* `tocsin store copy ...`: argv[0] is "copy". */
static int store_copy_cmd(int argc, char **argv) {
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    store_copy_options co = {.progress = stdout};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            co.from = optarg;
            break;
        case 't':
            co.to = optarg;
            break;
        case 'h':
            usage_store_copy(stdout);
            return 0;
        default:
            usage_store_copy(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tocsin: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!co.from || !co.to) {
        fprintf(stderr, "tocsin: store copy needs --from and --to\n\n");
        usage_store_copy(stderr);
        return 2;
    }
    tc_err err;
    if (store_copy(&co, NULL, &err) != 0) {
        fprintf(stderr, "tocsin: store copy: %s\n", err.message);
        return 1;
    }
    return 0;
}

/* `tocsin store SUBCOMMAND ...`: argv[0] is "store". */
static int store_cmd(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "copy") == 0)
        return store_copy_cmd(argc - 1, argv + 1);
    int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    if (!help && argc >= 2)
        fprintf(stderr, "tocsin: unknown store command '%s'\n\n", argv[1]);
    else if (!help)
        fprintf(stderr, "tocsin: store needs a command\n\n");
    usage_store_copy(help ? stdout : stderr);
    return help ? 0 : 2;
}

int main(int argc, char **argv) {
    /* Before any thread: libcurl's global state is not thread-safe to set up. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage_main(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        puts("tocsin " TOCSIN_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "store") == 0)
        return store_cmd(argc - 1, argv + 1);
    fprintf(stderr, "tocsin: unknown command '%s'\n\n", argv[1]);
    usage_main(stderr);
    return 2;
}
