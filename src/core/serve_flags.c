/* serve_flags.c: the table of `tocsin serve`'s settings and their checkers
 * (see serve_flags.h). A new setting is one row below and one checker:
 * main.c builds getopt's options from the table, and the config file takes
 * its key from the same row, so the flag and the key arrive together. */
#include "core/serve_flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/self_alerts.h"
#include "delivery/dispatcher.h"
#include "delivery/guard.h"
#include "delivery/replay.h"
#include "http/ratelimit.h"
#include "util/log.h"

/* Copies value into a fixed-size field, refusing one that would not fit: a
 * path cut short would name another file. */
static int set_text(char *dst, size_t cap, const char *value, tc_err *err) {
    size_t n = strlen(value);
    if (n >= cap)
        return tc_err_set(err, TC_INVALID_PARAMETER, "is too long (%zu bytes; at most %zu)", n,
                          cap - 1);
    memcpy(dst, value, n + 1);
    return 0;
}

/* A whole number in [min, max]: "12abc", "" and "1e3" are refused (atoi
 * would read 12, 0 and 1). */
static int set_int(int *dst, const char *value, int min, int max, const char *unit, tc_err *err) {
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (!value[0] || *end || errno == ERANGE || v < min || v > max)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "must be a whole number from %d to %d%s%s, "
                          "not '%.40s'",
                          min, max, unit[0] ? " " : "", unit, value);
    *dst = (int)v;
    return 0;
}

static int set_listen(tc_config *cfg, const char *value, tc_err *err) {
    const char *colon = strrchr(value, ':');
    const char *host = value;
    size_t hlen = colon ? (size_t)(colon - value) : 0;
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || hlen == 0 || hlen >= sizeof(cfg->listen_host) || !colon[1] || *end || port < 0 ||
        port > 65535)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "must be HOST:PORT (PORT 0 to 65535), not '%.100s'", value);
    memcpy(cfg->listen_host, host, hlen);
    cfg->listen_host[hlen] = '\0';
    cfg->listen_port = (int)port;
    return 0;
}

static int set_data(tc_config *cfg, const char *value, tc_err *err) {
    return set_text(cfg->data_dir, sizeof(cfg->data_dir), value, err);
}

static int set_store(tc_config *cfg, const char *value, tc_err *err) {
    /* The URL may hold a password: it is never repeated in an error. */
    if (strncmp(value, "postgres://", 11) != 0 && strncmp(value, "postgresql://", 13) != 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "must be a postgres:// or postgresql:// URL");
    return set_text(cfg->store_url, sizeof(cfg->store_url), value, err);
}

/* A libpq URL names a secret when it carries a password: user:password@
 * before the host, or a password= parameter. */
static int store_is_secret(const char *value) {
    const char *p = strstr(value, "://");
    p = p ? p + 3 : value;
    size_t userinfo = strcspn(p, "@/?");
    if (p[userinfo] == '@' && memchr(p, ':', userinfo))
        return 1;
    return strstr(value, "password=") != NULL;
}

static int always_secret(const char *value) {
    (void)value;
    return 1;
}

static int set_node_id(tc_config *cfg, const char *value, tc_err *err) {
    return set_text(cfg->node_id, sizeof(cfg->node_id), value, err);
}

static int set_base_url(tc_config *cfg, const char *value, tc_err *err) {
    if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "must start with http:// or https://, not '%.100s'", value);
    if (set_text(cfg->base_url, sizeof(cfg->base_url), value, err) != 0)
        return -1;
    size_t n = strlen(cfg->base_url); /* detail_url adds its own slash */
    while (n && cfg->base_url[n - 1] == '/')
        cfg->base_url[--n] = '\0';
    return 0;
}

static int set_log_level(tc_config *cfg, const char *value, tc_err *err) {
    log_level lv;
    if (log_parse_level(value, &lv) != 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "must be debug, info, warn or error, not '%.40s'", value);
    cfg->log_level = (int)lv;
    return 0;
}

static int set_max_connections(tc_config *cfg, const char *value, tc_err *err) {
    return set_int(&cfg->max_connections, value, 1, 100000, "", err);
}

static int set_read_timeout(tc_config *cfg, const char *value, tc_err *err) {
    return set_int(&cfg->read_timeout_s, value, 1, 3600, "seconds", err);
}

static int set_sync(tc_config *cfg, const char *value, tc_err *err) {
    if (strcmp(value, "normal") != 0 && strcmp(value, "full") != 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "must be full or normal, not '%.40s'", value);
    cfg->sync_full = strcmp(value, "full") == 0;
    return 0;
}

static int set_allow_private_targets(tc_config *cfg, const char *value, tc_err *err) {
    (void)err;
    cfg->allow_private_targets = strcmp(value, "true") == 0;
    return 0;
}

static int set_allow_cidr(tc_config *cfg, const char *value, tc_err *err) {
    enum { MAX = sizeof(cfg->allow_cidrs) / sizeof(cfg->allow_cidrs[0]) };
    if (cfg->nallow_cidrs == MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER, "is given more than %d times", MAX);
    if (!guard_cidr_valid(value))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "must be an IPv4 or IPv6 address with an optional /PREFIX "
                          "(e.g. 10.0.0.0/8 or fd00::/8), not '%.60s'",
                          value);
    if (set_text(cfg->allow_cidrs[cfg->nallow_cidrs], sizeof(cfg->allow_cidrs[0]), value, err) != 0)
        return -1;
    cfg->nallow_cidrs++;
    return 0;
}

static void clear_allow_cidr(tc_config *cfg) {
    cfg->nallow_cidrs = 0;
}

static int set_egress_address(tc_config *cfg, const char *value, tc_err *err) {
    return set_text(cfg->egress_address, sizeof(cfg->egress_address), value, err);
}

static int set_tls_cert(tc_config *cfg, const char *value, tc_err *err) {
    return set_text(cfg->tls_cert, sizeof(cfg->tls_cert), value, err);
}

static int set_tls_key(tc_config *cfg, const char *value, tc_err *err) {
    return set_text(cfg->tls_key, sizeof(cfg->tls_key), value, err);
}

static int set_max_inflight(tc_config *cfg, const char *value, tc_err *err) {
    return set_int(&cfg->max_inflight_per_endpoint, value, 1, DISPATCHER_MAX_PER_TARGET_LIMIT, "",
                   err);
}

static int set_replay_rate(tc_config *cfg, const char *value, tc_err *err) {
    return set_int(&cfg->replay_rate, value, 1, REPLAY_RATE_MAX, "events per second", err);
}

static int set_rate(double *rate, double *burst, const char *value, tc_err *err) {
    if (ratelimit_parse(value, rate, burst) != 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "must be RATE or RATE:BURST (requests per second, 0 = no limit; "
                          "BURST >= 1), not '%.40s'",
                          value);
    return 0;
}

static int set_rate_event(tc_config *cfg, const char *value, tc_err *err) {
    return set_rate(&cfg->rate_event, &cfg->rate_event_burst, value, err);
}

static int set_rate_api(tc_config *cfg, const char *value, tc_err *err) {
    return set_rate(&cfg->rate_api, &cfg->rate_api_burst, value, err);
}

/* Channel ids are JSON numbers: at most 2^53 - 1; 0 turns self-alerts off. */
static int set_self_alerts_channel(tc_config *cfg, const char *value, tc_err *err) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (!value[0] || *end || errno == ERANGE || v < 0 || v > 9007199254740991LL)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "must be a channel id (a whole number, 0 = off), not '%.40s'", value);
    cfg->self_alerts_channel_id = v;
    return 0;
}

static int set_self_alerts_lag(tc_config *cfg, const char *value, tc_err *err) {
    return set_int(&cfg->self_alerts_lag_s, value, SELF_ALERTS_LAG_MIN_S, SELF_ALERTS_LAG_MAX_S,
                   "seconds", err);
}

/* The order is --help's. */
/* An IANA zone name (Europe/Paris) naming a file of the system's zone
 * database; main sets TZ from it before any thread starts (the zone of
 * silence rules' recurring windows, core/rule_window.h). */
static int set_time_zone(tc_config *cfg, const char *value, tc_err *err) {
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", value);
    struct stat st;
    if (value[0] == '/' || strstr(value, "..") || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "must be an IANA zone name such as Europe/Paris (not found: %s)", path);
    return set_text(cfg->time_zone, sizeof(cfg->time_zone), value, err);
}

static const serve_flag flags[] = {
    {"listen", SERVE_FLAG_VALUE, set_listen, NULL, NULL},
    {"data", SERVE_FLAG_VALUE, set_data, NULL, NULL},
    {"store", SERVE_FLAG_VALUE, set_store, NULL, store_is_secret},
    {"node-id", SERVE_FLAG_VALUE, set_node_id, NULL, NULL},
    {"base-url", SERVE_FLAG_VALUE, set_base_url, NULL, NULL},
    {"log-level", SERVE_FLAG_VALUE, set_log_level, NULL, NULL},
    {"max-connections", SERVE_FLAG_VALUE, set_max_connections, NULL, NULL},
    {"read-timeout", SERVE_FLAG_VALUE, set_read_timeout, NULL, NULL},
    {"sync", SERVE_FLAG_VALUE, set_sync, NULL, NULL},
    {"allow-private-targets", SERVE_FLAG_SWITCH, set_allow_private_targets, NULL, NULL},
    {"allow-cidr", SERVE_FLAG_LIST, set_allow_cidr, clear_allow_cidr, NULL},
    {"egress-address", SERVE_FLAG_VALUE, set_egress_address, NULL, NULL},
    {"tls-cert", SERVE_FLAG_VALUE, set_tls_cert, NULL, NULL},
    {"tls-key", SERVE_FLAG_VALUE, set_tls_key, NULL, always_secret},
    {"max-inflight-per-endpoint", SERVE_FLAG_VALUE, set_max_inflight, NULL, NULL},
    {"replay-rate", SERVE_FLAG_VALUE, set_replay_rate, NULL, NULL},
    {"rate-limit-event", SERVE_FLAG_VALUE, set_rate_event, NULL, NULL},
    {"rate-limit-api", SERVE_FLAG_VALUE, set_rate_api, NULL, NULL},
    {"self-alerts-channel-id", SERVE_FLAG_VALUE, set_self_alerts_channel, NULL, NULL},
    {"self-alerts-lag", SERVE_FLAG_VALUE, set_self_alerts_lag, NULL, NULL},
    {"time-zone", SERVE_FLAG_VALUE, set_time_zone, NULL, NULL},
};

_Static_assert(sizeof(flags) / sizeof(flags[0]) <= SERVE_FLAGS_MAX, "raise SERVE_FLAGS_MAX");

void serve_flags_defaults(tc_config *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
    cfg->listen_port = 8080;
    snprintf(cfg->data_dir, sizeof(cfg->data_dir), "./data");
    cfg->log_level = LOG_INFO;
    cfg->sync_full = 1;
    cfg->max_connections = 1024;
    cfg->read_timeout_s = 30;
    cfg->replay_rate = REPLAY_RATE_DEFAULT;
    cfg->max_inflight_per_endpoint = DISPATCHER_MAX_PER_TARGET;
    cfg->rate_event = 2000;
    cfg->rate_event_burst = 4000;
    cfg->rate_api = 200;
    cfg->rate_api_burst = 400;
    cfg->self_alerts_lag_s = SELF_ALERTS_LAG_DEFAULT_S;
}

size_t serve_flags_count(void) {
    return sizeof(flags) / sizeof(flags[0]);
}

const serve_flag *serve_flags_at(size_t i) {
    return i < serve_flags_count() ? &flags[i] : NULL;
}

const serve_flag *serve_flags_find(const char *name) {
    for (size_t i = 0; i < serve_flags_count(); i++)
        if (strcmp(flags[i].name, name) == 0)
            return &flags[i];
    return NULL;
}

size_t serve_flags_index(const serve_flag *f) {
    return (size_t)(f - flags);
}

int serve_flag_apply(const serve_flag *f, tc_config *cfg, const char *value, tc_err *err) {
    if (f->kind == SERVE_FLAG_SWITCH && strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "is a switch (a flag without a value): it takes true or false, "
                          "not '%.40s'",
                          value);
    if (f->kind != SERVE_FLAG_SWITCH && !value[0])
        return tc_err_set(err, TC_INVALID_PARAMETER, "needs a value");
    return f->set(cfg, value, err);
}

int serve_flags_finish(const tc_config *cfg, tc_err *err) {
    if (!cfg->tls_cert[0] != !cfg->tls_key[0])
        return tc_err_set(
            err, TC_INVALID_PARAMETER,
            "--tls-cert and --tls-key go together (flags or config keys): give both or "
            "neither");
    return 0;
}
