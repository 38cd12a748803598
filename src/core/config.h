/* config.h: the settings of one running tocsin, fixed at start.
 * Built by main from the command line and passed down read-only; it is one
 * of the few long-lived singletons (with the writer and the store). */
#ifndef TOCSIN_CONFIG_H
#define TOCSIN_CONFIG_H

typedef struct {
    char listen_host[256];
    int listen_port;
    char data_dir[1024];
    char base_url[1024]; /* detail_url prefix, no trailing slash */
    int sync_full;       /* synchronous=FULL: every commit fsync'ed */
    int max_connections;
} tc_config;

#endif
