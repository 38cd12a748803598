/* config_file.h: `tocsin serve --config FILE` and `tocsin check-config FILE`.
 *
 * The file is INI, read by inih (libinih): NAME = VALUE lines at the top
 * level (or under an optional [serve] section), where NAME is a flag of
 * `tocsin serve` without its "--" (core/serve_flags.h: one table for both)
 * and a switch takes true or false; `#` and `;` start a comment line.
 * Every value goes through its flag's checker. An unknown key, a bad
 * value, a malformed line, a key given twice, and a secret in a file every
 * user may read are problems; loading finds them all, each with its line,
 * instead of stopping at the first. */
#ifndef TOCSIN_CONFIG_FILE_H
#define TOCSIN_CONFIG_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "core/config.h"

/* At most this many problems are kept (a file that is not a config file at
 * all would otherwise have one per line); the count goes on. */
#define CONFIG_FILE_MAX_PROBLEMS 100

typedef struct {
    int line; /* 0: about the file as a whole */
    char key[64];
    char reason[440];
} config_file_problem;

typedef struct {
    char path[1024];
    config_file_problem problems[CONFIG_FILE_MAX_PROBLEMS]; /* by line, line 0 last */
    size_t nproblems;                                       /* kept */
    size_t total;                                           /* found, kept or not */
} config_file_report;

void config_file_report_init(config_file_report *rep);
void config_file_report_clear(config_file_report *rep);

/* Reads path into cfg, on top of what cfg holds (the defaults). complete:
 * the file is the whole configuration (check-config), so the checks
 * between settings (tls-cert with tls-key) run too; `serve` runs them
 * itself once its flags are applied as well. Returns 0 when the file has
 * no problem, else -1 with every problem in rep (cfg is then half-written
 * and must not be used). */
int config_file_load(const char *path, int complete, tc_config *cfg, config_file_report *rep);

/* Prints each problem as "FILE:LINE: KEY: REASON" (FILE: REASON for the
 * file as a whole), one a line. */
void config_file_report_print(const config_file_report *rep, FILE *out);

#endif
