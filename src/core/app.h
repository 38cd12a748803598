/* app.h: the long-lived parts of one running tocsin, created in main and
 * passed down to every handler: the configuration, the store and the
 * writer, and the delivery dispatcher. Nothing else is global. */
#ifndef TOCSIN_APP_H
#define TOCSIN_APP_H

#include "core/config.h"
#include "core/writer.h"
#include "store/store.h"

struct dispatcher;
struct metrics;
struct cluster;

typedef struct {
    /* Complete before any thread starts and never written after: threads
     * read it without a lock (main.c builds it, then starts the parts). */
    const tc_config *cfg;
    store *st;
    writer *w;
    struct dispatcher *d;    /* delivery; NULL until started */
    struct metrics *m;       /* /metrics counters (util/metrics.h); NULL: none kept */
    struct cluster *cluster; /* leases (core/cluster.h); NULL until started */
} tc_app;

#endif
