/* copy.c: `tocsin store copy --from sqlite:DIR/tocsin.db --to postgres://...`,
 * the way an install moves from SQLite to PostgreSQL with everything it
 * holds: people and app keys, channels, integrations (their keys, secrets
 * and failing streaks), incidents, alerts and their raw events, the event
 * log with the timelines, the outbox with its pending deliveries (attempts,
 * next attempt, failing streak), history and bulk replays.
 *
 * The source is opened read-only and read in one read transaction: SQLite's
 * WAL gives it one snapshot while a running tocsin goes on writing (its
 * checkpoints stop short of what the snapshot still reads). The target is
 * opened once with store_open, which applies PostgreSQL's migrations, then
 * on a connection of its own everything happens in one transaction: lock
 * the tables, check that every one is empty, COPY each table's rows, set
 * the counters, commit. A failure anywhere rolls it all back.
 *
 * Tables: the copy knows the final schema's tables by name (copy_tables);
 * their columns are read from both databases and must match, so a migration
 * that changes one engine's schema and not the other's fails the copy
 * instead of losing a column, and so does a source table the copy does not
 * know. Not copied: SQLite's own tables (sqlite_*), schema_migrations (each
 * engine keeps its own series) and PostgreSQL's cluster_* (the target's).
 *
 * Counters: identity columns restart above the highest id copied, and the
 * ids the writer hands out (store.h, "Ids") come on PostgreSQL from
 * cluster_clock's next_* columns, set above the highest copied. SQLite
 * hands out max(id) + 1 (or above sqlite_sequence's entry, for a table with
 * AUTOINCREMENT, if one ever has it): both are considered, so no id is
 * given twice. Each lane's tocsin-sequence lives in its object's row
 * (`lanes`), copied with it, so pushes resume exactly where they stopped. */
#include "store/copy.h"
#include "store/store_engine.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

extern const struct {
    const char *name;
    const char *data;
    size_t len;
} store_migrations[];

/* Every table of the schema SQLite's migrations leave, and of PostgreSQL's
 * beside its cluster_* tables. */
static const char *const copy_tables[] = {
    "persons",       "app_keys",        "channels",
    "integrations",  "subscriptions",   "incidents",
    "alerts",        "alert_events",    "events",
    "deliveries",    "webhook_history", "replays",
    "replay_items",  "changes",         "change_events",
    "channel_rules", "escalate_rules",  "incident_escalations",
};
#define COPY_NTABLES ((int)(sizeof(copy_tables) / sizeof(copy_tables[0])))

/* The cluster clock's counter of each id the writer hands out. */
static const char *const clock_columns[STORE_ID_KINDS] = {
    [STORE_ID_ALERT] = "next_alert",
    [STORE_ID_INCIDENT] = "next_incident",
    [STORE_ID_EVENT] = "next_event",
    [STORE_ID_DELIVERY] = "next_delivery",
};

/* Rows are sent to the server in chunks of about this many bytes. */
#define COPY_CHUNK (256 * 1024)

typedef enum { COL_INT, COL_BOOL, COL_TEXT, COL_BYTEA } col_kind;

typedef struct {
    char *name;
    col_kind kind;
    int identity; /* GENERATED ... AS IDENTITY on the target */
} copy_column;

typedef struct {
    char table[64];
    int64_t seq;
} copy_sequence;

/* Everything one copy holds open; copy_job_free releases it on every path
 * (an open read transaction or target transaction is rolled back). */
typedef struct {
    char *path; /* the source's database file */
    sqlite3 *src;
    int src_in_tx;
    PGconn *pg;
    int pg_in_tx;
    char *buf; /* the COPY data not yet sent */
    size_t len, cap;
    copy_column *cols; /* the columns of the table being copied */
    int ncols;
    copy_sequence *seqs; /* the source's sqlite_sequence, if it has one */
    int nseqs;
} copy_job;

static copy_job *copy_job_new(void) {
    return calloc(1, sizeof(copy_job));
}

static void columns_clear(copy_job *j) {
    for (int i = 0; i < j->ncols; i++)
        free(j->cols[i].name);
    free(j->cols);
    j->cols = NULL;
    j->ncols = 0;
}

static void copy_job_free(copy_job *j) {
    if (!j)
        return;
    if (j->pg) {
        if (j->pg_in_tx)
            PQclear(PQexec(j->pg, "ROLLBACK"));
        PQfinish(j->pg);
    }
    if (j->src) {
        if (j->src_in_tx)
            sqlite3_exec(j->src, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(j->src);
    }
    columns_clear(j);
    free(j->seqs);
    free(j->buf);
    free(j->path);
    free(j);
}

/* ---- errors ------------------------------------------------------------ */

/* libpq's messages end with a newline and may run over several lines: the
 * first line says what went wrong. */
static int pg_fail(tc_err *err, const char *what, const char *msg) {
    char line[300];
    snprintf(line, sizeof(line), "%s", msg && *msg ? msg : "no message");
    line[strcspn(line, "\n")] = '\0';
    return tc_err_set(err, TC_INTERNAL, "%s: %s", what, line);
}

static int src_fail(tc_err *err, copy_job *j, const char *what) {
    return tc_err_set(err, TC_INTERNAL, "source %s: %s: %s", j->path, what,
                      j->src ? sqlite3_errmsg(j->src) : "?");
}

/* ---- the source ----------------------------------------------------------- */

/* sqlite:PATH (also sqlite://PATH) or PATH; a folder means its tocsin.db. */
static int source_path(copy_job *j, const char *from, tc_err *err) {
    if (strncmp(from, "postgres://", 11) == 0 || strncmp(from, "postgresql://", 13) == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "--from must be a SQLite database (sqlite:PATH): copying from "
                          "PostgreSQL is not supported");
    const char *p = from;
    if (strncmp(p, "sqlite:", 7) == 0) {
        p += 7;
        if (strncmp(p, "//", 2) == 0)
            p += 2;
    }
    if (!*p)
        return tc_err_set(err, TC_INVALID_PARAMETER, "--from names no file");
    struct stat sb;
    if (stat(p, &sb) != 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "--from: no such file or folder: %s", p);
    int folder = S_ISDIR(sb.st_mode);
    if (asprintf(&j->path, folder ? "%s/tocsin.db" : "%s", p) < 0) {
        j->path = NULL;
        return tc_err_oom(err, "the source's path");
    }
    if (folder && (stat(j->path, &sb) != 0 || !S_ISREG(sb.st_mode)))
        return tc_err_set(err, TC_INVALID_PARAMETER, "--from: the folder %s holds no tocsin.db", p);
    if (!S_ISREG(sb.st_mode))
        return tc_err_set(err, TC_INVALID_PARAMETER, "--from: %s is not a file", j->path);
    return 0;
}

/* A query's one integer; -1 with *err when it fails or has no row. */
static int src_int(copy_job *j, const char *sql, int64_t *out, tc_err *err) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(j->src, sql, -1, &q, NULL) != SQLITE_OK)
        return src_fail(err, j, "prepare");
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(q, 0);
    else
        src_fail(err, j, rc == SQLITE_DONE ? "no row" : "read");
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Opens the source read-only and starts the read transaction that every
 * read of the copy belongs to; checks the schema is this tocsin's. */
static int source_open(copy_job *j, tc_err *err) {
    if (sqlite3_open_v2(j->path, &j->src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return src_fail(err, j, "open");
    if (sqlite3_busy_timeout(j->src, 10000) != SQLITE_OK)
        return src_fail(err, j, "busy timeout");
    if (sqlite3_exec(j->src, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return src_fail(err, j, "begin");
    j->src_in_tx = 1;
    /* The snapshot starts with the transaction's first read: this one. */
    int64_t has = 0, version = 0;
    if (src_int(j,
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                " AND name = 'schema_migrations'",
                &has, err) != 0)
        return -1;
    if (!has)
        return tc_err_set(err, TC_INVALID_PARAMETER, "source %s is not a tocsin database", j->path);
    if (src_int(j, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &version, err) != 0)
        return -1;
    int latest = 0;
    for (int i = 0; store_migrations[i].name; i++)
        latest = atoi(store_migrations[i].name);
    if (version < latest)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "source %s has schema version %lld, this tocsin writes %d: start this "
                          "tocsin on it once (it migrates at start), then copy",
                          j->path, (long long)version, latest);
    if (version > latest)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "source %s has schema version %lld, newer than this tocsin's %d: copy "
                          "with the tocsin that wrote it",
                          j->path, (long long)version, latest);
    return 0;
}

static int known_table(const char *name) {
    for (int i = 0; i < COPY_NTABLES; i++) {
        if (strcmp(copy_tables[i], name) == 0)
            return 1;
    }
    return 0;
}

/* Every table of the source is one the copy knows (or one it skips on
 * purpose), and every table it copies is there. */
static int source_check_tables(copy_job *j, int *has_sequences, tc_err *err) {
    sqlite3_stmt *q = NULL;
    int seen[COPY_NTABLES] = {0};
    int rc = -1, step;
    *has_sequences = 0;
    if (sqlite3_prepare_v2(j->src, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &q,
                           NULL) != SQLITE_OK)
        return src_fail(err, j, "list the tables");
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        if (!name)
            continue;
        if (strcmp(name, "sqlite_sequence") == 0)
            *has_sequences = 1;
        if (strncmp(name, "sqlite_", 7) == 0 || strcmp(name, "schema_migrations") == 0)
            continue;
        int known = 0;
        for (int i = 0; i < COPY_NTABLES; i++) {
            if (strcmp(copy_tables[i], name) == 0)
                seen[i] = known = 1;
        }
        if (!known) {
            tc_err_set(err, TC_INVALID_PARAMETER,
                       "source %s has a table store copy does not know: %s (nothing was "
                       "copied; store copy must learn it first)",
                       j->path, name);
            goto done;
        }
    }
    if (step != SQLITE_DONE) {
        src_fail(err, j, "list the tables");
        goto done;
    }
    for (int i = 0; i < COPY_NTABLES; i++) {
        if (!seen[i]) {
            tc_err_set(err, TC_INVALID_PARAMETER, "source %s has no table %s", j->path,
                       copy_tables[i]);
            goto done;
        }
    }
    rc = 0;
done:
    sqlite3_finalize(q);
    return rc;
}

/* sqlite_sequence: the highest id ever given in each AUTOINCREMENT table. */
static int source_read_sequences(copy_job *j, tc_err *err) {
    sqlite3_stmt *q = NULL;
    int rc = -1, step;
    if (sqlite3_prepare_v2(j->src, "SELECT name, seq FROM sqlite_sequence", -1, &q, NULL) !=
        SQLITE_OK)
        return src_fail(err, j, "read sqlite_sequence");
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        if (!name || !known_table(name))
            continue;
        copy_sequence *grown = realloc(j->seqs, (size_t)(j->nseqs + 1) * sizeof(*grown));
        if (!grown) {
            tc_err_oom(err, "sqlite_sequence");
            goto done;
        }
        j->seqs = grown;
        snprintf(grown[j->nseqs].table, sizeof(grown[j->nseqs].table), "%s", name);
        grown[j->nseqs++].seq = sqlite3_column_int64(q, 1);
    }
    if (step != SQLITE_DONE) {
        src_fail(err, j, "read sqlite_sequence");
        goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(q);
    return rc;
}

/* The highest id sqlite_sequence says was given in a table (0: none). */
static int64_t sequence_floor(const copy_job *j, const char *table) {
    for (int i = 0; i < j->nseqs; i++) {
        if (strcmp(j->seqs[i].table, table) == 0)
            return j->seqs[i].seq;
    }
    return 0;
}

/* ---- the target ------------------------------------------------------------ */

/* A statement without rows to read. */
static int pg_run(copy_job *j, const char *sql, const char *what, tc_err *err) {
    PGresult *r = PQexec(j->pg, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        pg_fail(err, what, r ? PQresultErrorMessage(r) : PQerrorMessage(j->pg));
    PQclear(r);
    return ok ? 0 : -1;
}

/* A query with text parameters; *out holds its rows (PQclear them). */
static int pg_rows(copy_job *j, const char *sql, int nparams, const char *const *params,
                   const char *what, PGresult **out, tc_err *err) {
    PGresult *r = PQexecParams(j->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_fail(err, what, r ? PQresultErrorMessage(r) : PQerrorMessage(j->pg));
        PQclear(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* Creates tocsin's tables in the target if they are not there: the store's
 * own open applies the migrations, as `tocsin serve --store` would. */
static int target_migrate(const char *url, tc_err *err) {
    store_options so = {.url = url, .node_id = "store-copy", .readers = 1, .sync_full = 1};
    store *st = NULL;
    if (store_open(&so, &st, err) != 0)
        return -1;
    store_free(st);
    return 0;
}

/* Connects, opens the one transaction of the copy and locks every table it
 * writes against other writers (a tocsin started on the target meanwhile
 * waits, then finds the rows). */
static int target_open(copy_job *j, const char *url, tc_err *err) {
    j->pg = PQconnectdb(url);
    if (!j->pg)
        return tc_err_oom(err, "the PostgreSQL connection");
    if (PQstatus(j->pg) != CONNECTION_OK)
        return pg_fail(err, "cannot connect to the target", PQerrorMessage(j->pg));
    if (pg_run(j, "SET client_min_messages = warning", "target session", err) != 0 ||
        pg_run(j, "BEGIN", "target begin", err) != 0)
        return -1;
    j->pg_in_tx = 1;
    char sql[512];
    size_t n = (size_t)snprintf(sql, sizeof(sql), "LOCK TABLE cluster_clock");
    for (int i = 0; i < COPY_NTABLES; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", \"%s\"", copy_tables[i]);
    snprintf(sql + n, sizeof(sql) - n, " IN EXCLUSIVE MODE");
    if (pg_run(j, "SET LOCAL lock_timeout = '30s'", "target session", err) != 0 ||
        pg_run(j, sql, "cannot lock the target's tables (is a tocsin running on it?)", err) != 0)
        return -1;
    return 0;
}

static int target_check_empty(copy_job *j, tc_err *err) {
    for (int i = 0; i < COPY_NTABLES; i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT 1 FROM \"%s\" LIMIT 1", copy_tables[i]);
        PGresult *r = NULL;
        if (pg_rows(j, sql, 0, NULL, "target check", &r, err) != 0)
            return -1;
        int rows = PQntuples(r);
        PQclear(r);
        if (rows > 0)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "target database is not empty: table %s has rows (store copy "
                              "writes only into an empty database; nothing was copied)",
                              copy_tables[i]);
    }
    return 0;
}

/* ---- one table ---------------------------------------------------------------- */

static int column_kind(const char *pg_type, col_kind *kind) {
    static const struct {
        const char *type;
        col_kind kind;
    } kinds[] = {
        {"bigint", COL_INT},     {"integer", COL_INT}, {"smallint", COL_INT},
        {"boolean", COL_BOOL},   {"bytea", COL_BYTEA}, {"text", COL_TEXT},
        {"jsonb", COL_TEXT},     {"json", COL_TEXT},   {"character varying", COL_TEXT},
        {"character", COL_TEXT},
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(kinds[i].type, pg_type) == 0) {
            *kind = kinds[i].kind;
            return 0;
        }
    }
    return -1;
}

/* The target's columns of table (names, types, identities), checked
 * against the source's: the same names, in any order. */
static int table_columns(copy_job *j, const char *table, tc_err *err) {
    columns_clear(j);
    PGresult *r = NULL;
    const char *params[1] = {table};
    if (pg_rows(j,
                "SELECT column_name, data_type, is_identity FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = $1"
                " ORDER BY ordinal_position",
                1, params, "target columns", &r, err) != 0)
        return -1;
    int rc = -1, n = PQntuples(r);
    sqlite3_stmt *q = NULL;
    if (n == 0) {
        tc_err_set(err, TC_INTERNAL, "the target has no table %s", table);
        goto done;
    }
    j->cols = calloc((size_t)n, sizeof(*j->cols));
    if (!j->cols) {
        tc_err_oom(err, "a table's columns");
        goto done;
    }
    for (int i = 0; i < n; i++, j->ncols++) {
        copy_column *c = &j->cols[i];
        if (!(c->name = strdup(PQgetvalue(r, i, 0)))) {
            tc_err_oom(err, "a column's name");
            goto done;
        }
        if (strchr(c->name, '"') || column_kind(PQgetvalue(r, i, 1), &c->kind) != 0) {
            tc_err_set(err, TC_INTERNAL,
                       "target column %s.%s: type %s is not one store copy "
                       "knows",
                       table, c->name, PQgetvalue(r, i, 1));
            goto done;
        }
        c->identity = strcmp(PQgetvalue(r, i, 2), "YES") == 0;
    }
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s')", table);
    if (sqlite3_prepare_v2(j->src, sql, -1, &q, NULL) != SQLITE_OK) {
        src_fail(err, j, "read a table's columns");
        goto done;
    }
    int nsrc = 0, step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        int found = 0;
        for (int i = 0; name && i < j->ncols; i++)
            found |= strcmp(j->cols[i].name, name) == 0;
        if (!found) {
            tc_err_set(err, TC_INTERNAL,
                       "column %s.%s of the source is not in the target's schema (the engines' "
                       "migrations disagree; nothing was copied)",
                       table, name ? name : "?");
            goto done;
        }
        nsrc++;
    }
    if (step != SQLITE_DONE) {
        src_fail(err, j, "read a table's columns");
        goto done;
    }
    if (nsrc != j->ncols) {
        tc_err_set(err, TC_INTERNAL,
                   "table %s has %d columns in the target and %d in the source (the engines' "
                   "migrations disagree; nothing was copied)",
                   table, j->ncols, nsrc);
        goto done;
    }
    rc = 0;
done:
    sqlite3_finalize(q);
    PQclear(r);
    return rc;
}

static int buf_reserve(copy_job *j, size_t more, tc_err *err) {
    if (j->len + more <= j->cap)
        return 0;
    size_t cap = j->cap ? j->cap : COPY_CHUNK * 2;
    while (cap < j->len + more)
        cap *= 2;
    char *grown = realloc(j->buf, cap);
    if (!grown)
        return tc_err_oom(err, "the COPY buffer");
    j->buf = grown;
    j->cap = cap;
    return 0;
}

/* Text in COPY's text format: backslash, tab, newline and carriage return
 * escaped. PostgreSQL's text cannot hold a NUL byte. */
static int put_text(copy_job *j, const unsigned char *s, size_t n, tc_err *err) {
    if (buf_reserve(j, 2 * n + 2, err) != 0)
        return -1;
    char *o = j->buf + j->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = s[i];
        switch (ch) {
        case '\\':
            *o++ = '\\';
            *o++ = '\\';
            break;
        case '\t':
            *o++ = '\\';
            *o++ = 't';
            break;
        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            break;
        case '\r':
            *o++ = '\\';
            *o++ = 'r';
            break;
        case '\0':
            return tc_err_set(err, TC_INVALID_PARAMETER, "a text holds a NUL byte");
        default:
            *o++ = (char)ch;
        }
    }
    j->len = (size_t)(o - j->buf);
    return 0;
}

/* bytea in COPY's text format: \\x and two hex digits a byte. */
static int put_bytea(copy_job *j, const unsigned char *s, size_t n, tc_err *err) {
    static const char hex[] = "0123456789abcdef";
    if (buf_reserve(j, 2 * n + 4, err) != 0)
        return -1;
    char *o = j->buf + j->len;
    *o++ = '\\';
    *o++ = '\\';
    *o++ = 'x';
    for (size_t i = 0; i < n; i++) {
        *o++ = hex[s[i] >> 4];
        *o++ = hex[s[i] & 15];
    }
    j->len = (size_t)(o - j->buf);
    return 0;
}

static int put_raw(copy_job *j, const char *s, tc_err *err) {
    size_t n = strlen(s);
    if (buf_reserve(j, n, err) != 0)
        return -1;
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    return 0;
}

/* One value of the source's row as the target column's type wants it. An
 * integer column takes integers only (a real with no fraction too): SQLite
 * may hold any type in any column, and a value that does not fit stops the
 * copy rather than change on the way. */
static int put_value(copy_job *j, sqlite3_stmt *q, int i, const copy_column *c, tc_err *err) {
    int type = sqlite3_column_type(q, i);
    char num[32];
    if (type == SQLITE_NULL)
        return put_raw(j, "\\N", err);
    if (c->kind == COL_INT || c->kind == COL_BOOL) {
        long long v;
        if (type == SQLITE_INTEGER) {
            v = sqlite3_column_int64(q, i);
        } else if (type == SQLITE_FLOAT &&
                   sqlite3_column_double(q, i) == (double)(long long)sqlite3_column_double(q, i)) {
            v = (long long)sqlite3_column_double(q, i);
        } else {
            return tc_err_set(err, TC_INVALID_PARAMETER, "'%.40s' is not an integer",
                              (const char *)sqlite3_column_text(q, i));
        }
        if (c->kind == COL_BOOL)
            return put_raw(j, v ? "t" : "f", err);
        snprintf(num, sizeof(num), "%lld", v);
        return put_raw(j, num, err);
    }
    if (c->kind == COL_BYTEA) {
        const unsigned char *b = sqlite3_column_blob(q, i);
        return put_bytea(j, b, (size_t)sqlite3_column_bytes(q, i), err);
    }
    const unsigned char *t = sqlite3_column_text(q, i);
    if (!t)
        return tc_err_oom(err, "a text value");
    return put_text(j, t, (size_t)sqlite3_column_bytes(q, i), err);
}

static int copy_flush(copy_job *j, tc_err *err) {
    if (j->len == 0)
        return 0;
    if (PQputCopyData(j->pg, j->buf, (int)j->len) != 1)
        return pg_fail(err, "sending rows", PQerrorMessage(j->pg));
    j->len = 0;
    return 0;
}

/* Ends the COPY: ok 1 sends its end, ok 0 aborts it (the transaction
 * fails). *rows: the rows the server took. */
static int copy_end(copy_job *j, int ok, const char *table, int64_t *rows, tc_err *err) {
    if (PQputCopyEnd(j->pg, ok ? NULL : "stopped by tocsin store copy") != 1) {
        if (ok)
            pg_fail(err, table, PQerrorMessage(j->pg));
        ok = 0;
    }
    PGresult *r;
    while ((r = PQgetResult(j->pg))) {
        if (ok && PQresultStatus(r) != PGRES_COMMAND_OK) {
            char what[96];
            snprintf(what, sizeof(what), "copying table %s", table);
            pg_fail(err, what, PQresultErrorMessage(r));
            ok = 0;
        } else if (ok) {
            *rows = atoll(PQcmdTuples(r));
        }
        PQclear(r);
    }
    return ok ? 0 : -1;
}

/* Copies every row of one table (columns by name, in the target's order). */
static int copy_rows(copy_job *j, const char *table, int64_t *copied, tc_err *err) {
    char *select = NULL, *copy = NULL;
    sqlite3_stmt *q = NULL;
    int rc = -1, copying = 0, step;
    size_t cap = 64 + strlen(table);
    for (int i = 0; i < j->ncols; i++)
        cap += strlen(j->cols[i].name) + 4;
    select = malloc(cap);
    copy = malloc(cap);
    if (!select || !copy) {
        tc_err_oom(err, "a table's statements");
        goto done;
    }
    size_t ns = (size_t)snprintf(select, cap, "SELECT ");
    size_t nc = (size_t)snprintf(copy, cap, "COPY \"%s\" (", table);
    for (int i = 0; i < j->ncols; i++) {
        ns += (size_t)snprintf(select + ns, cap - ns, "%s\"%s\"", i ? ", " : "", j->cols[i].name);
        nc += (size_t)snprintf(copy + nc, cap - nc, "%s\"%s\"", i ? ", " : "", j->cols[i].name);
    }
    snprintf(select + ns, cap - ns, " FROM \"%s\"", table);
    snprintf(copy + nc, cap - nc, ") FROM STDIN");
    if (sqlite3_prepare_v2(j->src, select, -1, &q, NULL) != SQLITE_OK) {
        src_fail(err, j, "read a table");
        goto done;
    }
    PGresult *r = PQexec(j->pg, copy);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        pg_fail(err, "starting COPY", r ? PQresultErrorMessage(r) : PQerrorMessage(j->pg));
        PQclear(r);
        goto done;
    }
    PQclear(r);
    copying = 1;
    int64_t n = 0;
    j->len = 0;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        n++;
        for (int i = 0; i < j->ncols; i++) {
            if ((i && put_raw(j, "\t", err) != 0) || put_value(j, q, i, &j->cols[i], err) != 0) {
                char why[sizeof(err->message)];
                snprintf(why, sizeof(why), "%s", err->message);
                tc_err_set(err, TC_INVALID_PARAMETER, "table %s, row %lld, column %s: %s", table,
                           (long long)n, j->cols[i].name, why);
                goto done;
            }
        }
        if (put_raw(j, "\n", err) != 0 || (j->len >= COPY_CHUNK && copy_flush(j, err) != 0))
            goto done;
    }
    if (step != SQLITE_DONE) {
        src_fail(err, j, "read a table");
        goto done;
    }
    if (copy_flush(j, err) != 0)
        goto done;
    copying = 0;
    int64_t taken = -1;
    if (copy_end(j, 1, table, &taken, err) != 0)
        goto done;
    if (taken != n) {
        tc_err_set(err, TC_INTERNAL, "table %s: %lld rows read, the target took %lld", table,
                   (long long)n, (long long)taken);
        goto done;
    }
    *copied = n;
    rc = 0;
done:
    if (copying) {
        int64_t ignored;
        tc_err also;
        copy_end(j, 0, table, &ignored, &also);
    }
    sqlite3_finalize(q);
    free(select);
    free(copy);
    return rc;
}

/* Identity columns restart above the highest id copied (and above what
 * sqlite_sequence says SQLite gave). */
static int restart_identities(copy_job *j, const char *table, tc_err *err) {
    for (int i = 0; i < j->ncols; i++) {
        if (!j->cols[i].identity)
            continue;
        char sql[400];
        snprintf(sql, sizeof(sql),
                 "SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'),"
                 " GREATEST(COALESCE(MAX(\"%s\"), 0), %lld) + 1, false) FROM \"%s\"",
                 table, j->cols[i].name, j->cols[i].name, (long long)sequence_floor(j, table),
                 table);
        PGresult *r = NULL;
        if (pg_rows(j, sql, 0, NULL, "restarting an identity", &r, err) != 0)
            return -1;
        PQclear(r);
    }
    return 0;
}

static int copy_table(copy_job *j, const char *table, int64_t *rows, tc_err *err) {
    if (table_columns(j, table, err) != 0 || copy_rows(j, table, rows, err) != 0 ||
        restart_identities(j, table, err) != 0)
        return -1;
    return 0;
}

/* The writer's counters (cluster_clock, store.h "Ids") above every id
 * copied; next[] gets them, for the summary. */
static int set_clock(copy_job *j, int64_t next[STORE_ID_KINDS], tc_err *err) {
    char sql[1024];
    size_t n = (size_t)snprintf(sql, sizeof(sql), "UPDATE cluster_clock SET ");
    for (int k = 0; k < STORE_ID_KINDS; k++)
        n += (size_t)snprintf(
            sql + n, sizeof(sql) - n,
            "%s%s = GREATEST(%s, (SELECT GREATEST(COALESCE(MAX(\"%s\"), 0), %lld) + 1 FROM "
            "\"%s\"))",
            k ? ", " : "", clock_columns[k], clock_columns[k], store_id_tables[k][1],
            (long long)sequence_floor(j, store_id_tables[k][0]), store_id_tables[k][0]);
    n += (size_t)snprintf(sql + n, sizeof(sql) - n, " WHERE id = 1 RETURNING ");
    for (int k = 0; k < STORE_ID_KINDS; k++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s%s", k ? ", " : "", clock_columns[k]);
    if (n >= sizeof(sql))
        return tc_err_set(err, TC_INTERNAL, "the clock's statement is too long");
    PGresult *r = NULL;
    if (pg_rows(j, sql, 0, NULL, "setting the id counters", &r, err) != 0)
        return -1;
    int ok = PQntuples(r) == 1;
    for (int k = 0; ok && k < STORE_ID_KINDS; k++)
        next[k] = strtoll(PQgetvalue(r, 0, k), NULL, 10);
    PQclear(r);
    return ok ? 0 : tc_err_set(err, TC_INTERNAL, "the target's cluster_clock row is missing");
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int store_copy(const store_copy_options *opts, store_copy_summary *summary, tc_err *err) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (!opts->to ||
        (strncmp(opts->to, "postgres://", 11) != 0 && strncmp(opts->to, "postgresql://", 13) != 0))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "--to must be a postgres:// or postgresql:// URL");
    if (!opts->from)
        return tc_err_set(err, TC_INVALID_PARAMETER, "--from is required");
    copy_job *j = copy_job_new();
    if (!j)
        return tc_err_oom(err, "the copy");
    int rc = -1, has_sequences = 0;
    int64_t total = 0, next[STORE_ID_KINDS] = {0};
    if (source_path(j, opts->from, err) != 0 || source_open(j, err) != 0 ||
        source_check_tables(j, &has_sequences, err) != 0 ||
        (has_sequences && source_read_sequences(j, err) != 0))
        goto done;
    if (target_migrate(opts->to, err) != 0 || target_open(j, opts->to, err) != 0 ||
        target_check_empty(j, err) != 0)
        goto done;
    if (opts->progress)
        fprintf(opts->progress, "copying %s (one snapshot) into PostgreSQL\n", j->path);
    for (int i = 0; i < COPY_NTABLES; i++) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int64_t rows = 0;
        if (copy_table(j, copy_tables[i], &rows, err) != 0)
            goto done;
        total += rows;
        if (opts->progress) {
            fprintf(opts->progress, "  %-16s %10lld rows  %6.1f s\n", copy_tables[i],
                    (long long)rows, seconds_since(&t0));
            fflush(opts->progress);
        }
    }
    if (set_clock(j, next, err) != 0 || pg_run(j, "COMMIT", "target commit", err) != 0)
        goto done;
    j->pg_in_tx = 0;
    double took = seconds_since(&start);
    if (opts->progress)
        fprintf(opts->progress,
                "copied %lld rows of %d tables in %.1f s; next ids: alert %lld, incident %lld, "
                "event %lld, delivery %lld\n",
                (long long)total, COPY_NTABLES, took, (long long)next[STORE_ID_ALERT],
                (long long)next[STORE_ID_INCIDENT], (long long)next[STORE_ID_EVENT],
                (long long)next[STORE_ID_DELIVERY]);
    if (summary) {
        summary->tables = COPY_NTABLES;
        summary->rows = total;
        summary->seconds = took;
    }
    rc = 0;
done:
    copy_job_free(j);
    return rc;
}
