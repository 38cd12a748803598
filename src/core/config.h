/* config.h: the settings of one running tocsin, fixed at start.
 * Built by main from the config file and the command line (through the one
 * table of core/serve_flags.c) and passed down read-only; it is one of the
 * few long-lived singletons (with the writer and the store). It owns every
 * byte it holds: no field points into argv or into the config file's text. */
#ifndef TOCSIN_CONFIG_H
#define TOCSIN_CONFIG_H

#include <stdint.h>

typedef struct {
    char listen_host[256];
    int listen_port;
    char data_dir[1024];
    /* PostgreSQL instead of SQLite: a libpq URL ("" = SQLite in data_dir). */
    char store_url[2048];
    /* This node's name among several on one database (default host:port). */
    char node_id[128];
    char base_url[1024]; /* detail_url prefix, no trailing slash */
    int sync_full;       /* synchronous=FULL: every commit fsync'ed */
    int log_level;       /* a log_level (util/log.h), set by main before any thread */
    int max_connections;
    int read_timeout_s; /* an idle or slow connection is closed after this */
    /* Delivery's address guard and source address (delivery/guard.h). */
    int allow_private_targets;
    char allow_cidrs[32][56]; /* a CIDR is at most INET6_ADDRSTRLEN + "/128" */
    int nallow_cidrs;
    char egress_address[64]; /* "" = the system's choice */
    /* HTTPS for the listener: PEM files ("" = plain HTTP). */
    char tls_cert[1024];
    char tls_key[1024];
    /* Push attempts in flight at once per webhook or custom action, so one
     * slow endpoint cannot take every connection (delivery/dispatcher.c). */
    int max_inflight_per_endpoint;
    /* Bulk replay: events each replay queues per second (delivery/replay.h). */
    int replay_rate;
    /* Per-key request rate limits (http/ratelimit.h): requests per second
     * and bucket size; a rate of 0 means no limit. */
    double rate_event, rate_event_burst; /* per integration_key */
    double rate_api, rate_api_burst;     /* per app_key */
    /* Self-alerts (core/self_alerts.h): the channel their incidents open in
     * (0 = off) and the age of a pending delivery that counts as late. */
    int64_t self_alerts_channel_id;
    int self_alerts_lag_s;
    /* IANA zone of silence rules' recurring windows ("" = the machine's);
     * main sets TZ from it once, before any thread starts. */
    char time_zone[64];
} tc_config;

#endif
