/* store/backup.h: `tocsin backup`, a consistent copy of a running SQLite
 * install's database (store/backup.c says how). */
#ifndef TOCSIN_STORE_BACKUP_H
#define TOCSIN_STORE_BACKUP_H

#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

/* Pages each sqlite3_backup_step copies (4 MiB with tocsin's 4 KiB pages);
 * store/backup.c says why this size. */
#define STORE_BACKUP_STEP_PAGES 1024

typedef struct {
    const char *data_dir; /* the data folder: DATA/tocsin.db is backed up */
    const char *to;       /* the backup file, written as TO.tmp then renamed */
    int force;            /* replace an existing TO */
    FILE *progress;       /* a line per step and a summary; NULL: quiet */
} store_backup_options;

typedef struct {
    int64_t pages;
    int64_t bytes;
    int steps;
    double longest_step_ms;
    double seconds;
} store_backup_summary;

/* Copies DATA/tocsin.db, as one snapshot, to opts->to: written to TO.tmp,
 * checked with PRAGMA integrity_check, fsynced, then renamed over TO (and
 * the folder fsynced), so TO is either absent, the old file (--force), or a
 * complete checked copy. A tocsin may be running on the database: the
 * backup only reads it and never makes its writer wait. summary may be NULL.
 * Errors name the flag at fault (--data, --to) where it is the input's. */
int store_backup(const store_backup_options *opts, store_backup_summary *summary, tc_err *err);

#endif
