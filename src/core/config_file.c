/* config_file.c: reads a config file with inih into a tc_config, through
 * the flag table's checkers (core/serve_flags.c), and collects every
 * problem with its line (see config_file.h).
 *
 * inih gives its handler no line number and returns only the first
 * malformed line. So the file is read into memory and handed to inih line
 * by line through our own reader, which counts them: inih calls the
 * handler for a line before it asks for the next, so the count is the
 * handler's line. After a malformed line, inih is run again from the line
 * after it, with a handler that ignores keys, to find the next one. */
#include "core/config_file.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/serve_flags.h"

#define CONFIG_FILE_MAX_BYTES (1024 * 1024)

void config_file_report_init(config_file_report *rep) {
    memset(rep, 0, sizeof(*rep));
}

void config_file_report_clear(config_file_report *rep) {
    config_file_report_init(rep);
}

/* Where a problem sorts: by line, the file as a whole (line 0) last. */
static long problem_rank(int line) {
    return line > 0 ? line : (long)INT_MAX + 1;
}

/* Keeps the problems sorted by line, in the order found within a line. */
static void add_problem(config_file_report *rep, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_problem(config_file_report *rep, int line, const char *key, const char *fmt, ...) {
    rep->total++;
    if (rep->nproblems == CONFIG_FILE_MAX_PROBLEMS)
        return;
    size_t at = rep->nproblems;
    while (at > 0 && problem_rank(rep->problems[at - 1].line) > problem_rank(line))
        at--;
    memmove(&rep->problems[at + 1], &rep->problems[at],
            (rep->nproblems - at) * sizeof(rep->problems[0]));
    config_file_problem *p = &rep->problems[at];
    p->line = line;
    snprintf(p->key, sizeof(p->key), "%s", key ? key : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
    va_end(ap);
    rep->nproblems++;
}

/* The file's text, served to inih one line at a time. */
typedef struct {
    const char *text;
    size_t len, pos;
    int line;                /* of the line last served */
    int indented;            /* that line starts with a blank */
    config_file_report *rep; /* NULL: a rescan, whose long lines are known */
} line_reader;

static void reader_start(line_reader *r, const char *text, size_t len, int first_line,
                         config_file_report *rep) {
    *r = (line_reader){.text = text, .len = len, .rep = rep};
    while (r->line + 1 < first_line && r->pos < len) {
        const char *nl = memchr(text + r->pos, '\n', len - r->pos);
        r->pos = nl ? (size_t)(nl - text) + 1 : len;
        r->line++;
    }
}

/* inih's ini_reader. A line longer than inih's buffer (num - 3 characters,
 * as ini.h says) would be split by inih into two lines: it is reported
 * and served as a blank line instead, so the count stays true. */
static char *reader_next(char *str, int num, void *stream) {
    line_reader *r = stream;
    if (r->pos >= r->len)
        return NULL;
    const char *start = r->text + r->pos;
    const char *nl = memchr(start, '\n', r->len - r->pos);
    size_t n = nl ? (size_t)(nl - start) + 1 : r->len - r->pos;
    size_t content = n;
    while (content && (start[content - 1] == '\n' || start[content - 1] == '\r'))
        content--;
    r->pos += n;
    r->line++;
    r->indented = start[0] == ' ' || start[0] == '\t';
    if (num < 4 || content > (size_t)num - 3) {
        if (r->rep)
            add_problem(r->rep, r->line, NULL, "line is longer than %d characters", num - 3);
        snprintf(str, (size_t)num, "\n");
        return str;
    }
    memcpy(str, start, n);
    str[n] = '\0';
    return str;
}

typedef struct {
    line_reader *reader;
    config_file_report *rep;
    tc_config *cfg;
    int line_of[SERVE_FLAGS_MAX]; /* the line each key was first given on */
    char prev_key[64];
    int secret_line; /* the first key holding a secret */
    char secret_key[64];
} loader;

static void unknown_key(loader *ld, int line, const char *name) {
    char dashed[64];
    snprintf(dashed, sizeof(dashed), "%s", name);
    for (char *p = dashed; *p; p++)
        if (*p == '_')
            *p = '-';
    if (strncmp(name, "--", 2) == 0 && serve_flags_find(name + 2))
        add_problem(ld->rep, line, name, "unknown key: write it without the leading --");
    else if (strcmp(dashed, name) != 0 && serve_flags_find(dashed))
        add_problem(ld->rep, line, name,
                    "unknown key: did you mean %s? (keys keep the dashes "
                    "of their flags)",
                    dashed);
    else
        add_problem(ld->rep, line, name,
                    "unknown key: the keys are the flags of `tocsin serve --help` without "
                    "their leading --");
}

/* inih's handler: one NAME = VALUE. Always returns 1 (no error for inih):
 * the problems are ours to record, and inih's error count is left to
 * malformed lines alone. */
static int on_key(void *user, const char *section, const char *name, const char *value) {
    loader *ld = user;
    int line = ld->reader->line;
    int continued = ld->reader->indented && strcmp(name, ld->prev_key) == 0;
    snprintf(ld->prev_key, sizeof(ld->prev_key), "%s", name);
    if (section[0] && strcmp(section, "serve") != 0) {
        add_problem(ld->rep, line, name,
                    "is in section [%.60s]: keys go at the top level, or under [serve]", section);
        return 1;
    }
    if (continued) {
        add_problem(ld->rep, line, name,
                    "an indented line continues the value of the key above it; remove "
                    "the indentation");
        return 1;
    }
    const serve_flag *f = serve_flags_find(name);
    if (!f) {
        unknown_key(ld, line, name);
        return 1;
    }
    size_t i = serve_flags_index(f);
    if (ld->line_of[i] && f->kind != SERVE_FLAG_LIST) {
        add_problem(ld->rep, line, name, "is given twice (first on line %d)", ld->line_of[i]);
        return 1;
    }
    if (!ld->line_of[i])
        ld->line_of[i] = line;
    tc_err err;
    if (serve_flag_apply(f, ld->cfg, value, &err) != 0) {
        add_problem(ld->rep, line, name, "%s", err.message);
        return 1;
    }
    if (f->is_secret && f->is_secret(value) && !ld->secret_line) {
        ld->secret_line = line;
        snprintf(ld->secret_key, sizeof(ld->secret_key), "%s", name);
    }
    return 1;
}

static int ignore_key(void *user, const char *section, const char *name, const char *value) {
    (void)user;
    (void)section;
    (void)name;
    (void)value;
    return 1;
}

/* Every malformed line from first_bad on: inih reports only its first, so
 * it runs again from the line after each. */
static void find_malformed(const char *text, size_t len, int first_bad, config_file_report *rep) {
    int bad = first_bad;
    while (bad > 0 && rep->nproblems < CONFIG_FILE_MAX_PROBLEMS) {
        add_problem(rep, bad, NULL,
                    "malformed line: expected KEY = VALUE, [serve], or a comment (# or ;)");
        line_reader r;
        reader_start(&r, text, len, bad + 1, NULL);
        int base = r.line;
        int next = ini_parse_stream(reader_next, &r, ignore_key, NULL);
        bad = next > 0 ? base + next : 0;
    }
}

/* The whole file, or a problem at line 0. On success *text is the caller's
 * to free. */
static int read_file(const char *path, config_file_report *rep, char **text, size_t *len,
                     mode_t *mode) {
    *text = NULL;
    FILE *f = fopen(path, "rb");
    struct stat st;
    int status = -1;
    if (!f) {
        add_problem(rep, 0, NULL, "cannot read the config file: %s", strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) != 0) {
        add_problem(rep, 0, NULL, "cannot read the config file: %s", strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        add_problem(rep, 0, NULL, "is not a regular file");
    } else if (st.st_size > CONFIG_FILE_MAX_BYTES) {
        add_problem(rep, 0, NULL, "is larger than %d bytes: not a config file",
                    CONFIG_FILE_MAX_BYTES);
    } else if (!(*text = malloc((size_t)st.st_size + 1))) {
        add_problem(rep, 0, NULL, "out of memory reading the config file");
    } else {
        *len = fread(*text, 1, (size_t)st.st_size, f);
        if (ferror(f)) {
            add_problem(rep, 0, NULL, "cannot read the config file: %s", strerror(errno));
        } else {
            (*text)[*len] = '\0';
            *mode = st.st_mode;
            status = 0;
        }
    }
    fclose(f);
    if (status != 0) {
        free(*text);
        *text = NULL;
    }
    return status;
}

int config_file_load(const char *path, int complete, tc_config *cfg, config_file_report *rep) {
    snprintf(rep->path, sizeof(rep->path), "%s", path);
    char *text = NULL;
    size_t len = 0;
    mode_t mode = 0;
    if (read_file(path, rep, &text, &len, &mode) != 0)
        return -1;
    line_reader r;
    reader_start(&r, text, len, 1, rep);
    loader ld = {.reader = &r, .rep = rep, .cfg = cfg};
    int bad = ini_parse_stream(reader_next, &r, on_key, &ld);
    if (bad < 0)
        add_problem(rep, 0, NULL, "inih could not read the config file (error %d)", bad);
    find_malformed(text, len, bad, rep);
    free(text);
    if (ld.secret_line && (mode & S_IROTH))
        add_problem(rep, ld.secret_line, ld.secret_key,
                    "holds a secret, and %s can be read by every user of this machine (mode "
                    "%04o); make it private: chmod 640 %s",
                    path, (unsigned)(mode & 07777), path);
    tc_err err;
    if (complete && serve_flags_finish(cfg, &err) != 0)
        add_problem(rep, 0, NULL, "%s", err.message);
    return rep->total ? -1 : 0;
}

void config_file_report_print(const config_file_report *rep, FILE *out) {
    for (size_t i = 0; i < rep->nproblems; i++) {
        const config_file_problem *p = &rep->problems[i];
        if (p->line > 0)
            fprintf(out, "%s:%d: ", rep->path, p->line);
        else
            fprintf(out, "%s: ", rep->path);
        if (p->key[0])
            fprintf(out, "%s: ", p->key);
        fprintf(out, "%s\n", p->reason);
    }
    if (rep->total > rep->nproblems)
        fprintf(out, "%s: and %zu more problems\n", rep->path, rep->total - rep->nproblems);
}
