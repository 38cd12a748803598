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
#include "core/config_file.h"
#include "core/serve_flags.h"
#include "core/state.h"
#include "core/timers.h"
#include "delivery/dispatcher.h"
#include "delivery/guard.h"
#include "delivery/replay.h"
#include "http/ratelimit.h"
#include "http/server.h"
#include "store/backup.h"
#include "store/copy.h"
#include "util/log.h"
#include "util/metrics.h"
#include "version.h" /* TOCSIN_VERSION, TOCSIN_COMMIT: made by cmake/version.cmake */

static void usage_main(FILE *out) {
    fputs("tocsin " TOCSIN_VERSION ": a self-hosted alert and incident hub\n"
          "\n"
          "Usage:\n"
          "  tocsin serve [options]   run the server (see `tocsin serve --help`)\n"
          "  tocsin serve --config FILE [options]\n"
          "                           the same, with settings from FILE; the options\n"
          "                           given as well override the file's\n"
          "  tocsin check-config FILE\n"
          "                           check a config file: every problem, with its\n"
          "                           line; exits 0 and prints ok when there is none\n"
          "  tocsin store copy --from sqlite:PATH --to postgres://...\n"
          "                           copy a SQLite install into an empty PostgreSQL\n"
          "                           database (see `tocsin store copy --help`)\n"
          "  tocsin backup --data DIR --to FILE\n"
          "                           copy a SQLite install, running or not, into FILE\n"
          "                           (see `tocsin backup --help`)\n"
          "  tocsin --version         print the version and the commit it was built from\n"
          "  tocsin --help            this text\n",
          out);
}

static void usage_serve(FILE *out) {
    fputs("Usage: tocsin serve --listen HOST:PORT --data DIR [options]\n"
          "       tocsin serve --config FILE [options]\n"
          "\n"
          "  --config FILE          read the settings below from FILE first: one\n"
          "                         NAME = VALUE a line, NAME an option below without\n"
          "                         its -- (e.g. listen = 127.0.0.1:8080), a switch\n"
          "                         taking true or false, # and ; starting comments;\n"
          "                         options given here override the file's (a repeated\n"
          "                         one, --allow-cidr, replaces the file's list). Check\n"
          "                         a file with `tocsin check-config FILE`. A file\n"
          "                         holding a secret (tls-key, a store password) must\n"
          "                         not be readable by every user (chmod 640)\n"
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
          "  --self-alerts-channel-id ID  open an incident in channel ID when a webhook\n"
          "                         integration is disabled (410, 24 h of failures) or\n"
          "                         its pushes are late (default 0: off)\n"
          "  --self-alerts-lag S    a pending push older than S seconds is late\n"
          "                         (default 300, 10 to 86400)\n"
          "  --time-zone ZONE       IANA zone (e.g. Europe/Paris) in which silence rules'\n"
          "                         recurring windows are read (default: the machine's)\n"
          "  --help                 this text\n"
          "\n"
          "Environment:\n"
          "  TOCSIN_ADMIN_APP_KEY   on first start, the administrator's app key (16-256\n"
          "                         characters) instead of a random one\n"
          "  TOCSIN_STORE           as --store (the flag wins; it wins over the file)\n",
          out);
}

/* One option of the command line, kept until the config file is read:
 * the options are applied after the file, so they win. */
typedef struct {
    const serve_flag *flag;
    const char *value;
} cli_setting;

enum { OPT_CONFIG = 1, OPT_HELP, OPT_FLAG = 0x100 };

/* getopt's options: one per row of the flag table (core/serve_flags.c),
 * then --config and --help. */
static void serve_options(struct option *opts) {
    size_t n = serve_flags_count();
    for (size_t i = 0; i < n; i++) {
        const serve_flag *f = serve_flags_at(i);
        opts[i] =
            (struct option){f->name, f->kind == SERVE_FLAG_SWITCH ? no_argument : required_argument,
                            NULL, OPT_FLAG + (int)i};
    }
    opts[n] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    opts[n + 1] = (struct option){"help", no_argument, NULL, OPT_HELP};
    opts[n + 2] = (struct option){NULL, 0, NULL, 0};
}

static int load_config_file(const char *path, tc_config *cfg) {
    config_file_report rep;
    config_file_report_init(&rep);
    int status = config_file_load(path, 0, cfg, &rep);
    if (status != 0) {
        config_file_report_print(&rep, stderr);
        fprintf(stderr, "tocsin: not started: the config file %s has problems\n", path);
    }
    config_file_report_clear(&rep);
    return status;
}

/* TOCSIN_STORE: over the file, under --store. */
static int apply_env_store(tc_config *cfg, const cli_setting *given, int ngiven) {
    const char *env = getenv("TOCSIN_STORE");
    const serve_flag *store = serve_flags_find("store");
    for (int i = 0; i < ngiven; i++)
        if (given[i].flag == store)
            return 0;
    tc_err err;
    if (env && env[0] && serve_flag_apply(store, cfg, env, &err) != 0) {
        fprintf(stderr, "tocsin: TOCSIN_STORE: %s\n", err.message);
        return -1;
    }
    return 0;
}

/* The configuration, in order of precedence from low to high: the
 * defaults, the config file, TOCSIN_STORE, the command line. */
static int configure(tc_config *cfg, const char *config, const cli_setting *given, int ngiven) {
    serve_flags_defaults(cfg);
    if (config && load_config_file(config, cfg) != 0)
        return -1;
    if (apply_env_store(cfg, given, ngiven) != 0)
        return -1;
    unsigned char cleared[SERVE_FLAGS_MAX] = {0};
    tc_err err;
    for (int i = 0; i < ngiven; i++) {
        const serve_flag *f = given[i].flag;
        size_t k = serve_flags_index(f);
        if (f->kind == SERVE_FLAG_LIST && !cleared[k]) {
            f->clear(cfg); /* the command line's list replaces the file's */
            cleared[k] = 1;
        }
        if (serve_flag_apply(f, cfg, given[i].value, &err) != 0) {
            fprintf(stderr, "tocsin: --%s: %s\n", f->name, err.message);
            return -1;
        }
    }
    if (serve_flags_finish(cfg, &err) != 0) {
        fprintf(stderr, "tocsin: %s\n", err.message);
        return -1;
    }
    return 0;
}

/* 0: cfg is complete; 1: --help was printed; -1: refused (said why). */
static int parse_serve_args(int argc, char **argv, tc_config *cfg) {
    struct option opts[SERVE_FLAGS_MAX + 3];
    serve_options(opts);
    cli_setting *given = calloc((size_t)argc, sizeof(*given));
    if (!given) {
        fprintf(stderr, "tocsin: out of memory\n");
        return -1;
    }
    const char *config = NULL;
    int ngiven = 0, status = 0, c;
    optind = 1;
    while (status == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c >= OPT_FLAG) {
            given[ngiven++] =
                (cli_setting){serve_flags_at((size_t)(c - OPT_FLAG)), optarg ? optarg : "true"};
        } else if (c == OPT_CONFIG && !config) {
            config = optarg;
        } else if (c == OPT_CONFIG) {
            fprintf(stderr, "tocsin: --config is given twice\n");
            status = -1;
        } else if (c == OPT_HELP) {
            usage_serve(stdout);
            status = 1;
        } else {
            usage_serve(stderr);
            status = -1;
        }
    }
    if (status == 0 && optind < argc) {
        fprintf(stderr, "tocsin: unexpected argument '%s'\n", argv[optind]);
        status = -1;
    }
    if (status == 0)
        status = configure(cfg, config, given, ngiven);
    free(given);
    return status;
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

/* --time-zone (checked by core/serve_flags.c): the zone recurring silence
 * windows are read in (core/rule_window.h). One zone serves the whole
 * process, so it is set once, before any thread starts (TZ, then tzset),
 * and localtime_r is then safe on every thread. "" keeps the machine's. */
static void time_zone_apply(const char *zone) {
    if (zone[0])
        setenv("TZ", zone, 1);
    tzset();
}

static int serve(int argc, char **argv) {
    static tc_config cfg; /* lives as long as every thread that reads it */
    int parsed = parse_serve_args(argc, argv, &cfg);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    /* The configuration is complete: nothing below writes it, and nothing
     * was created or started before it was. */
    log_set_level((log_level)cfg.log_level);
    time_zone_apply(cfg.time_zone);
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
    const char *cidrs[sizeof(cfg.allow_cidrs) / sizeof(cfg.allow_cidrs[0])];
    for (int i = 0; i < cfg.nallow_cidrs; i++)
        cidrs[i] = cfg.allow_cidrs[i];
    if (guard_new(cfg.allow_private_targets, cidrs, (size_t)cfg.nallow_cidrs, &g, &err) != 0)
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

static void usage_check_config(FILE *out) {
    fputs("Usage: tocsin check-config FILE\n"
          "\n"
          "Checks a config file of `tocsin serve --config FILE` as the whole\n"
          "configuration (no options beside it), the way serve would read it: every\n"
          "key is an option of serve, every value passes that option's checks, no\n"
          "line is malformed, and a file holding a secret is not readable by every\n"
          "user. Prints every problem as FILE:LINE: KEY: REASON and exits 1, or\n"
          "prints FILE: ok and exits 0.\n",
          out);
}

/* `tocsin check-config FILE`: argv[0] is "check-config". */
static int check_config_cmd(int argc, char **argv) {
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage_check_config(stdout);
        return 0;
    }
    if (argc != 2) {
        usage_check_config(stderr);
        return 2;
    }
    tc_config cfg;
    config_file_report rep;
    serve_flags_defaults(&cfg);
    config_file_report_init(&rep);
    int status = 0;
    if (config_file_load(argv[1], 1, &cfg, &rep) != 0) {
        config_file_report_print(&rep, stderr);
        fprintf(stderr, "%s: %zu problem%s\n", argv[1], rep.total, rep.total == 1 ? "" : "s");
        status = 1;
    } else {
        printf("%s: ok\n", argv[1]);
    }
    config_file_report_clear(&rep);
    return status;
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

static void usage_backup(FILE *out) {
    fputs("Usage: tocsin backup --data DIR --to FILE [--force]\n"
          "       tocsin backup --config FILE --to FILE [--force]\n"
          "\n"
          "Copies DIR/tocsin.db, the SQLite database of an install, into FILE with\n"
          "SQLite's online backup: one consistent snapshot, taken while tocsin runs\n"
          "(pushes go on; what they write after the snapshot is not in the copy).\n"
          "FILE is written as FILE.tmp, checked with PRAGMA integrity_check, fsynced\n"
          "and renamed, so it is complete or absent. To restore, stop tocsin, put FILE\n"
          "in an empty data folder as tocsin.db and start tocsin with --data on it.\n"
          "\n"
          "  --data DIR     the data folder of the install (holding tocsin.db)\n"
          "  --config FILE  the install's config file (tocsin serve --config): its\n"
          "                 data and store keys say where the install is (--data wins)\n"
          "  --to FILE      the backup file (mode 0600: it holds app keys and secrets)\n"
          "  --force        replace FILE if it exists (refused otherwise)\n"
          "  --help         this text\n"
          "\n"
          "An install on PostgreSQL (--store, TOCSIN_STORE or the file's store key)\n"
          "is backed up with pg_dump instead.\n",
          out);
}

typedef struct {
    const char *config, *data, *to, *store;
    int force;
} backup_args;

/* Returns 0, 1 after --help, or 2 after a usage error. */
static int backup_parse(int argc, char **argv, backup_args *a) {
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"to", required_argument, NULL, 't'},
        {"force", no_argument, NULL, 'f'},
        {"store", required_argument, NULL, 'S'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            a->data = optarg;
            break;
        case 't':
            a->to = optarg;
            break;
        case 'f':
            a->force = 1;
            break;
        case 'S':
            a->store = optarg;
            break;
        case 'c':
            a->config = optarg;
            break;
        case 'h':
            usage_backup(stdout);
            return 1;
        default:
            usage_backup(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tocsin: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

/* Where the install is, in serve's order: --data over the config file's
 * data; --store over TOCSIN_STORE over the file's store. An install on
 * PostgreSQL is refused. cfg receives the file; *data_dir points into it
 * or into argv. */
static int backup_locate(const backup_args *a, tc_config *cfg, const char **data_dir) {
    serve_flags_defaults(cfg);
    if (a->config) {
        config_file_report rep;
        config_file_report_init(&rep);
        int bad = config_file_load(a->config, 0, cfg, &rep) != 0;
        if (bad) {
            config_file_report_print(&rep, stderr);
            fprintf(stderr, "tocsin: backup: the config file %s has problems\n", a->config);
        }
        config_file_report_clear(&rep);
        if (bad)
            return -1;
    }
    const char *env = getenv("TOCSIN_STORE");
    const char *store = a->store ? a->store : env && env[0] ? env : cfg->store_url;
    if (store[0]) {
        fprintf(stderr, "tocsin: backup copies a SQLite install; this one is on PostgreSQL "
                        "(--store, TOCSIN_STORE or the config file's store): back it up with "
                        "pg_dump -Fc, restore with pg_restore (README, \"Backup and restore\")\n");
        return -1;
    }
    *data_dir = a->data ? a->data : a->config ? cfg->data_dir : NULL;
    return 0;
}

/* `tocsin backup ...`: argv[0] is "backup". */
static int backup_cmd(int argc, char **argv) {
    backup_args a = {0};
    int rc = backup_parse(argc, argv, &a);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    tc_config *cfg = calloc(1, sizeof(*cfg)); /* ~9 KB: not on the stack */
    store_backup_options bo = {.to = a.to, .force = a.force, .progress = stdout};
    tc_err err;
    rc = 2;
    if (!cfg) {
        fprintf(stderr, "tocsin: backup: out of memory\n");
        goto done;
    }
    if (backup_locate(&a, cfg, &bo.data_dir) != 0)
        goto done;
    if (!bo.data_dir || !bo.to) {
        fprintf(stderr, "tocsin: backup needs %s\n\n",
                !bo.data_dir ? "--data (or --config)" : "--to");
        usage_backup(stderr);
        goto done;
    }
    rc = store_backup(&bo, NULL, &err) == 0 ? 0 : 1;
    if (rc != 0)
        fprintf(stderr, "tocsin: backup: %s\n", err.message);
done:
    free(cfg);
    return rc;
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
        puts("tocsin " TOCSIN_VERSION " (commit " TOCSIN_COMMIT ")");
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "store") == 0)
        return store_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "check-config") == 0)
        return check_config_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "backup") == 0)
        return backup_cmd(argc - 1, argv + 1);
    fprintf(stderr, "tocsin: unknown command '%s'\n\n", argv[1]);
    usage_main(stderr);
    return 2;
}
