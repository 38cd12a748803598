/* serve_flags.h: every setting of `tocsin serve`, in one table.
 *
 * The same row gives a setting its command-line flag (--NAME) and its
 * config file key (NAME, dashes kept: core/config_file.c), and holds the
 * one checker both go through, so the file and the flags cannot drift
 * apart and a value refused on one is refused on the other. Adding a row
 * to the table in serve_flags.c adds both the flag and the key.
 *
 * The checkers write only into the tc_config they are given; nothing here
 * touches global state, so `tocsin check-config` can run them all. */
#ifndef TOCSIN_SERVE_FLAGS_H
#define TOCSIN_SERVE_FLAGS_H

#include <stddef.h>

#include "core/config.h"
#include "util/err.h"

typedef enum {
    SERVE_FLAG_VALUE,  /* --NAME VALUE; in the file NAME = VALUE (never empty) */
    SERVE_FLAG_SWITCH, /* --NAME; in the file NAME = true or false */
    SERVE_FLAG_LIST,   /* --NAME VALUE, repeatable; in the file, the key repeated */
} serve_flag_kind;

typedef struct {
    const char *name; /* the long flag without "--", and the file's key */
    serve_flag_kind kind;
    /* Checks value and stores it in cfg. On a bad value InvalidParameter
     * with the reason only ("must be 1 to 100000, not 'x'"): the caller
     * names where it came from (--NAME, or FILE:LINE: NAME). A SWITCH's
     * checker gets "true" or "false", already checked. */
    int (*set)(tc_config *cfg, const char *value, tc_err *err);
    /* LIST only: forgets the values so far (the command line's replace the
     * file's). */
    void (*clear)(tc_config *cfg);
    /* 1 when this value is, or names the file of, a secret (a TLS private
     * key, a database password): a config file holding it must not be
     * readable by every user. NULL: never a secret. */
    int (*is_secret)(const char *value);
} serve_flag;

/* The table's size is at most this (checked where it is defined), so
 * callers may keep a fixed array per flag. */
#define SERVE_FLAGS_MAX 64

/* The defaults, before the config file and the flags. */
void serve_flags_defaults(tc_config *cfg);

size_t serve_flags_count(void);
const serve_flag *serve_flags_at(size_t i);
/* The row of a flag name / file key, or NULL. */
const serve_flag *serve_flags_find(const char *name);
size_t serve_flags_index(const serve_flag *f);

/* Checks value's kind (a switch takes true or false, a value flag a
 * non-empty value), then applies it through the row's checker. */
int serve_flag_apply(const serve_flag *f, tc_config *cfg, const char *value, tc_err *err);

/* The checks between settings, once every source is applied: --tls-cert
 * and --tls-key go together. */
int serve_flags_finish(const tc_config *cfg, tc_err *err);

#endif
