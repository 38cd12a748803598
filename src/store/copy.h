/* store/copy.h: `tocsin store copy`, moving an install from SQLite to
 * PostgreSQL (store/copy.c says how). */
#ifndef TOCSIN_STORE_COPY_H
#define TOCSIN_STORE_COPY_H

#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

typedef struct {
    /* The source: sqlite:PATH, or a bare PATH; PATH is the database file or
     * a data folder that holds tocsin.db. It is only read. */
    const char *from;
    /* The target: a postgres:// or postgresql:// URL of an empty database
     * (tocsin's tables are created in it if they are not there yet). */
    const char *to;
    /* A line per table copied and a summary at the end; NULL: quiet. */
    FILE *progress;
} store_copy_options;

typedef struct {
    int tables;
    int64_t rows;
    double seconds;
} store_copy_summary;

/* Copies every row of every table of the source into the target, in one
 * transaction of the target, from one snapshot of the source (which may be
 * in use by a running tocsin). A target that has a row in any of the
 * tables copied is refused, and so is a source whose schema is not the one
 * this tocsin writes; on any failure the target is left as it was.
 * summary may be NULL. */
int store_copy(const store_copy_options *opts, store_copy_summary *summary, tc_err *err);

#endif
