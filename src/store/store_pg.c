/* store_pg.c: the PostgreSQL engine behind store.h (libpq).
 *
 * tocsin's SQL is written once with `?` placeholders; each statement is
 * rewritten to `$1..$n` and prepared once per connection, on first use
 * (named statements, text parameters whose types the server infers from
 * where they stand). Results are read whole (PQexecPrepared): tocsin's
 * reads are bounded by their LIMIT.
 *
 * The writer's batches (store_batch_begin .. store_batch_commit) run in
 * libpq's pipeline mode: a statement nobody reads rows from (store_run) is
 * sent without waiting for its answer, so a batch of hundreds of inserts
 * costs a few round trips instead of hundreds. The answers are read at the
 * next statement that returns rows, or at the commit; an error found there
 * fails the transaction, and with it the batch (store_in_transaction turns
 * false and the writer fails every command of the batch, as it does when
 * SQLite ends a transaction by itself).
 *
 * A batch begins by locking the cluster clock's row (migrations_pg
 * 001_init.sql): the batches of every node run one at a time, each sees
 * everything committed before it, and the id counters it reads there are
 * above every id committed by any node (store.h, "Ids"). The lock is held
 * to the commit, which waits for the WAL flush (synchronous_commit stays
 * on): an answered request is durable, as on SQLite.
 *
 * Connections lost (the server restarted) are opened again before the
 * next transaction or read; a transaction cut by the loss fails. */
#include "store/pool.h"
#include "store/store_engine.h"
#include "util/clock.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#define PG_STMT_SLOTS 512
#define PG_STMT_PROBE 8
/* Pipelined statements between two reads of their answers: the server
 * answers each with a few bytes that wait in its socket buffer until read;
 * reading every so often keeps that buffer far from full (a full one would
 * stall the server while we are still sending). */
#define PG_PIPELINE_MAX 512
/* A migration of several nodes starting at once: one applies, the others
 * wait on this session lock (an arbitrary constant, "tocsin" in ASCII). */
#define PG_MIGRATION_LOCK 0x746f6373696eLL

typedef struct pg_conn pg_conn;
typedef struct pg_store pg_store;

typedef struct pg_stmt_s {
    store_stmt base;
    pg_conn *conn;
    char *sql;  /* as tocsin wrote it (the cache's key) */
    char *text; /* with $n placeholders */
    char name[16];
    int nparams;
    unsigned prepared_gen; /* the connection generation it was prepared on; 0: never */
    const char **values;
    char **owned;     /* per parameter: a copy to free, or NULL */
    char (*ints)[24]; /* per parameter: an integer's text */
    int bind_failed;
    int cached, in_use;
    PGresult *res; /* the rows being read */
    int executed, row, nrows;
    /* A plain INSERT ("INSERT INTO t(cols) VALUES(...)" with every parameter
     * in its one row, nothing after): in a batch its rows wait and go out
     * as one multi-row INSERT (see "deferred rows"). NULL: not of that shape. */
    char *insert_head; /* "INSERT INTO t(cols) VALUES", with ? */
    char *insert_row;  /* "(?,?,'pending',...)" */
    /* The waiting rows' values, nparams per row: offsets into one text
     * buffer (-1: SQL NULL), turned into pointers when they are sent. */
    char *arena;
    size_t arena_len, arena_cap;
    ptrdiff_t *offsets;
    int npending, pending_cap;
    struct pg_stmt_s *next_deferred;
    /* Per j, its 2^j-row form: the connection generation it was prepared
     * on (0: not, or not known to be) and the number in its name. */
    unsigned chunk_gen[9], chunk_name[9];
} pg_stmt;

struct pg_conn {
    store_conn base;
    PGconn *pg;
    pg_store *owner;
    unsigned gen; /* +1 at every (re)connection: prepared statements are per session */
    unsigned next_name;
    int in_tx;    /* BEGIN sent */
    int pipeline; /* in pipeline mode (a batch) */
    int queued;   /* pipelined commands whose answers are unread */
    int failed;   /* the transaction failed: only a rollback ends it */
    char failed_msg[240];
    int64_t changes;
    /* Statements with rows waiting, in the order their first row came; all
     * are sent before anything else goes to the server. */
    pg_stmt *deferred_head, *deferred_tail;
    int last_deferred; /* the last statement run was deferred: it changed 1 row */
    int deferred_rows; /* waiting, all statements together */
    struct {
        char *sql;
        pg_stmt *stmt;
    } cache[PG_STMT_SLOTS];
};

struct pg_store {
    store base;
    char *url;
    char *node_id;
    pg_conn *writer;
    store_pool readers;
};

static const store_engine pg_engine;
static int deferred_flush(pg_conn *c, tc_err *err);

extern const struct {
    const char *name;
    const char *data;
    size_t len;
} store_migrations_pg[];

/* ---- errors ------------------------------------------------------------ */

/* libpq's messages end with a newline and may run over several lines: the
 * first line says what went wrong. */
static int pg_fail(tc_err *err, const char *what, const char *msg) {
    char line[200];
    snprintf(line, sizeof(line), "%s", msg && *msg ? msg : "no message");
    line[strcspn(line, "\n")] = '\0';
    return tc_err_set(err, TC_INTERNAL, "store: %s: %s", what, line);
}

static int conn_failed(pg_conn *c, tc_err *err) {
    return tc_err_set(err, TC_INTERNAL, "store: the transaction failed earlier: %s", c->failed_msg);
}

static void mark_failed(pg_conn *c, const char *msg) {
    if (c->failed)
        return;
    c->failed = 1;
    snprintf(c->failed_msg, sizeof(c->failed_msg), "%s", msg && *msg ? msg : "no message");
    c->failed_msg[strcspn(c->failed_msg, "\n")] = '\0';
}

/* ---- connections ----------------------------------------------------- */

static int conn_connect(pg_conn *c, const char *url, tc_err *err) {
    c->pg = PQconnectdb(url);
    if (!c->pg)
        return tc_err_set(err, TC_INTERNAL, "store: out of memory connecting to PostgreSQL");
    if (PQstatus(c->pg) != CONNECTION_OK)
        return pg_fail(err, "cannot connect to PostgreSQL", PQerrorMessage(c->pg));
    c->gen++;
    /* Times are tocsin's (milliseconds it binds); the session's settings
     * only matter for what the server itself prints. */
    PGresult *r = PQexec(c->pg, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : pg_fail(err, "session settings", PQerrorMessage(c->pg));
}

static int conn_open(pg_store *st, pg_conn **out, tc_err *err) {
    pg_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return tc_err_set(err, TC_INTERNAL, "store: out of memory");
    c->base.engine = &pg_engine;
    c->owner = st;
    if (conn_connect(c, st->url, err) != 0) {
        PQfinish(c->pg);
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

static void stmt_free(pg_stmt *s);

static void conn_close(pg_conn *c) {
    if (!c)
        return;
    for (int i = 0; i < PG_STMT_SLOTS; i++) {
        free(c->cache[i].sql);
        stmt_free(c->cache[i].stmt);
    }
    PQfinish(c->pg);
    free(c);
}

/* Outside a transaction, a lost connection is opened again; its prepared
 * statements went with it (gen tells them apart). */
static int conn_ensure(pg_conn *c, tc_err *err) {
    if (PQstatus(c->pg) == CONNECTION_OK)
        return 0;
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK)
        return pg_fail(err, "PostgreSQL connection lost", PQerrorMessage(c->pg));
    c->gen++;
    c->in_tx = c->pipeline = c->queued = c->failed = 0;
    return 0;
}

/* ---- the pipeline ------------------------------------------------------ */

/* Reads every answer up to the sync just sent. The last command's result
 * is handed back in *keep when asked for (the statement whose rows the
 * caller reads); the first error fails the transaction. */
static int pipeline_read(pg_conn *c, PGresult **keep, tc_err *err) {
    PGresult *last = NULL;
    int last_ok = 0, nulls = 0, synced = 0;
    char msg[240] = "";
    while (!synced) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            /* One NULL ends each command's answer; more in a row means the
             * connection is gone. */
            if (PQstatus(c->pg) != CONNECTION_OK || ++nulls > 2) {
                snprintf(msg, sizeof(msg), "connection lost: %s", PQerrorMessage(c->pg));
                break;
            }
            continue;
        }
        nulls = 0;
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_PIPELINE_SYNC) {
            synced = 1;
            PQclear(r);
            continue;
        }
        if (last)
            PQclear(last);
        last = r;
        last_ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
        if (last_ok) {
            c->changes = atoll(PQcmdTuples(r));
        } else if (s != PGRES_PIPELINE_ABORTED && !msg[0]) {
            snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
        }
    }
    c->queued = 0;
    if (msg[0] || !synced) {
        if (last)
            PQclear(last);
        mark_failed(c, msg[0] ? msg : "the pipeline lost its place");
        return pg_fail(err, "statement failed", msg);
    }
    if (keep && last_ok)
        *keep = last;
    else if (last)
        PQclear(last);
    if (keep && !*keep)
        return tc_err_set(err, TC_INTERNAL, "store: a statement gave no result");
    return 0;
}

/* Sends a sync and reads everything up to it. */
static int pipeline_sync(pg_conn *c, PGresult **keep, tc_err *err) {
    if (keep)
        *keep = NULL;
    if (deferred_flush(c, err) != 0)
        return -1;
    if (PQpipelineSync(c->pg) != 1) {
        mark_failed(c, PQerrorMessage(c->pg));
        return pg_fail(err, "pipeline sync", PQerrorMessage(c->pg));
    }
    return pipeline_read(c, keep, err);
}

static int pipeline_enter(pg_conn *c, tc_err *err) {
    if (PQenterPipelineMode(c->pg) != 1)
        return pg_fail(err, "pipeline mode", PQerrorMessage(c->pg));
    c->pipeline = 1;
    c->queued = 0;
    return 0;
}

static void pipeline_leave(pg_conn *c) {
    if (!c->pipeline)
        return;
    if (c->queued > 0) {
        tc_err ignored;
        pipeline_sync(c, NULL, &ignored);
    }
    if (PQexitPipelineMode(c->pg) != 1) {
        /* Answers still unread (a broken connection): the session cannot
         * be trusted with the next transaction. */
        PQreset(c->pg);
        c->gen++;
    }
    c->pipeline = 0;
}

/* Sends a statement of plain text (no parameters) in the pipeline. */
static int pipeline_send_text(pg_conn *c, const char *sql, tc_err *err) {
    if (deferred_flush(c, err) != 0)
        return -1;
    if (PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0) != 1) {
        mark_failed(c, PQerrorMessage(c->pg));
        return pg_fail(err, "send", PQerrorMessage(c->pg));
    }
    c->queued++;
    return 0;
}

/* ---- statements --------------------------------------------------------- */

/* `?` -> `$n`, outside quotes and comments. */
static char *translate(const char *sql, int *nparams) {
    size_t n = strlen(sql);
    char *out = malloc(n * 4 + 1);
    if (!out)
        return NULL;
    char *o = out;
    int count = 0;
    for (const char *p = sql; *p; p++) {
        if (*p == '\'' || *p == '"') {
            char q = *p;
            *o++ = *p++;
            while (*p && *p != q)
                *o++ = *p++;
            if (!*p)
                break;
            *o++ = *p;
            continue;
        }
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                *o++ = *p++;
            if (!*p)
                break;
            *o++ = *p;
            continue;
        }
        if (*p == '?') {
            o += sprintf(o, "$%d", ++count);
            continue;
        }
        *o++ = *p;
    }
    *o = '\0';
    *nparams = count;
    return out;
}

static void stmt_reset(pg_stmt *s) {
    PQclear(s->res);
    s->res = NULL;
    s->executed = s->row = s->nrows = 0;
    for (int i = 0; i < s->nparams; i++) {
        free(s->owned[i]);
        s->owned[i] = NULL;
        s->values[i] = NULL;
    }
    s->bind_failed = 0;
}

static void stmt_drop_pending(pg_stmt *s) {
    s->npending = 0;
    s->arena_len = 0;
}

static void stmt_free(pg_stmt *s) {
    if (!s)
        return;
    stmt_reset(s);
    free(s->arena);
    free(s->offsets);
    free(s->insert_head);
    free(s->insert_row);
    free(s->sql);
    free(s->text);
    free(s->values);
    free(s->owned);
    free(s->ints);
    free(s);
}

/* Whether s is a plain INSERT whose rows can wait (see "deferred rows"):
 * "INSERT INTO t(cols) VALUES(...)" ending there, its one row holding every
 * parameter and no parenthesis (no call, no subquery). -1: out of memory. */
static int insert_shape(pg_stmt *s) {
    const char *sql = s->sql;
    if (strncmp(sql, "INSERT INTO ", 12) != 0 || s->nparams == 0)
        return 0;
    const char *v = strstr(sql, "VALUES(");
    if (!v || strstr(v + 1, "VALUES("))
        return 0;
    const char *row = v + 6, *end = sql + strlen(sql) - 1;
    if (*end != ')')
        return 0;
    int marks = 0;
    for (const char *p = row + 1; p < end; p++) {
        if (*p == '\'') {
            p = strchr(p + 1, '\'');
            if (!p || p >= end)
                return 0;
        } else if (*p == '(' || *p == ')' || *p == '"' || *p == '-' || *p == ';') {
            return 0;
        } else if (*p == '?') {
            marks++;
        }
    }
    if (marks != s->nparams)
        return 0;
    s->insert_head = strndup(sql, (size_t)(row - sql));
    s->insert_row = strdup(row);
    return s->insert_head && s->insert_row ? 0 : -1;
}

static pg_stmt *stmt_new(pg_conn *c, const char *sql) {
    pg_stmt *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->base.engine = &pg_engine;
    s->conn = c;
    s->sql = strdup(sql);
    s->text = translate(sql, &s->nparams);
    int n = s->nparams > 0 ? s->nparams : 1;
    s->values = calloc((size_t)n, sizeof(*s->values));
    s->owned = calloc((size_t)n, sizeof(*s->owned));
    s->ints = calloc((size_t)n, sizeof(*s->ints));
    if (!s->sql || !s->text || !s->values || !s->owned || !s->ints) {
        stmt_free(s);
        return NULL;
    }
    snprintf(s->name, sizeof(s->name), "t%u", ++c->next_name);
    if (insert_shape(s) != 0) {
        stmt_free(s);
        return NULL;
    }
    return s;
}

/* The same cheap hash as the SQLite engine's (length, first and last 48
 * bytes): statements are told apart by their text, compared in full. */
static unsigned sql_hash(const char *s) {
    size_t n = strlen(s);
    unsigned h = 2166136261u ^ (unsigned)n;
    size_t head = n < 48 ? n : 48;
    for (size_t i = 0; i < head; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    for (size_t i = n > 48 ? n - 48 : head; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static store_stmt *pg_prepare(store_conn *base, const char *sql, tc_err *err) {
    pg_conn *c = (pg_conn *)base;
    unsigned home = sql_hash(sql) % PG_STMT_SLOTS;
    int free_slot = -1, victim = -1;
    for (unsigned i = 0; i < PG_STMT_PROBE; i++) {
        unsigned slot = (home + i) % PG_STMT_SLOTS;
        if (!c->cache[slot].sql) {
            if (free_slot < 0)
                free_slot = (int)slot;
            continue;
        }
        pg_stmt *s = c->cache[slot].stmt;
        if (strcmp(c->cache[slot].sql, sql) == 0) {
            if (s->in_use)
                break; /* nested use: a one-off below */
            s->in_use = 1;
            return &s->base;
        }
        if (victim < 0 && !s->in_use && s->npending == 0)
            victim = (int)slot;
    }
    pg_stmt *s = stmt_new(c, sql);
    if (!s) {
        tc_err_set(err, TC_INTERNAL, "store: out of memory");
        return NULL;
    }
    s->in_use = 1;
    int slot = free_slot >= 0 ? free_slot : victim;
    char *key = slot >= 0 ? strdup(sql) : NULL;
    if (!key)
        return &s->base; /* not cached: freed by done */
    /* An evicted statement stays prepared on the server under its name,
     * unused: names are never reused, so it does no harm. */
    free(c->cache[slot].sql);
    stmt_free(c->cache[slot].stmt);
    c->cache[slot].sql = key;
    c->cache[slot].stmt = s;
    s->cached = 1;
    return &s->base;
}

static void pg_bind_int64(store_stmt *base, int idx, int64_t value) {
    pg_stmt *s = (pg_stmt *)base;
    if (idx < 1 || idx > s->nparams) {
        s->bind_failed = 1;
        return;
    }
    snprintf(s->ints[idx - 1], sizeof(s->ints[idx - 1]), "%lld", (long long)value);
    s->values[idx - 1] = s->ints[idx - 1];
}

static void pg_bind_text(store_stmt *base, int idx, const char *text, int copy) {
    pg_stmt *s = (pg_stmt *)base;
    if (idx < 1 || idx > s->nparams) {
        s->bind_failed = 1;
        return;
    }
    free(s->owned[idx - 1]);
    s->owned[idx - 1] = NULL;
    if (text && copy) {
        s->owned[idx - 1] = strdup(text);
        if (!s->owned[idx - 1])
            s->bind_failed = 1;
        text = s->owned[idx - 1];
    }
    s->values[idx - 1] = text;
}

static void pg_bind_null(store_stmt *base, int idx) {
    pg_bind_text(base, idx, NULL, 0);
}

/* Prepares the statement on this session if it is not yet. In a pipeline
 * that is a round trip of its own, so that a bad statement is reported as
 * itself (it happens once per statement and session). */
static int stmt_ensure_prepared(pg_stmt *s, tc_err *err) {
    pg_conn *c = s->conn;
    if (s->prepared_gen == c->gen)
        return 0;
    /* A fresh name for every attempt: one that failed in a pipeline may
     * still have been prepared (the error may be a later statement's). */
    snprintf(s->name, sizeof(s->name), "t%u", ++c->next_name);
    if (c->pipeline) {
        if (deferred_flush(c, err) != 0)
            return -1;
        if (PQsendPrepare(c->pg, s->name, s->text, s->nparams, NULL) != 1) {
            mark_failed(c, PQerrorMessage(c->pg));
            return pg_fail(err, "prepare", PQerrorMessage(c->pg));
        }
        c->queued++;
        if (pipeline_sync(c, NULL, err) != 0)
            return -1;
    } else {
        PGresult *r = PQprepare(c->pg, s->name, s->text, s->nparams, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) {
            pg_fail(err, "prepare", PQresultErrorMessage(r));
            if (c->in_tx)
                mark_failed(c, PQresultErrorMessage(r));
        }
        PQclear(r);
        if (!ok)
            return -1;
    }
    s->prepared_gen = c->gen;
    return 0;
}

static int stmt_send(pg_stmt *s, tc_err *err) {
    pg_conn *c = s->conn;
    if (deferred_flush(c, err) != 0)
        return -1;
    c->last_deferred = 0;
    if (PQsendQueryPrepared(c->pg, s->name, s->nparams, s->values, NULL, NULL, 0) != 1) {
        mark_failed(c, PQerrorMessage(c->pg));
        return pg_fail(err, "send", PQerrorMessage(c->pg));
    }
    c->queued++;
    return 0;
}

/* Runs the statement now and keeps its rows. */
static int stmt_execute(pg_stmt *s, tc_err *err) {
    pg_conn *c = s->conn;
    if (c->failed)
        return conn_failed(c, err);
    if (!c->in_tx && conn_ensure(c, err) != 0)
        return -1;
    if (stmt_ensure_prepared(s, err) != 0)
        return -1;
    if (c->pipeline) {
        if (stmt_send(s, err) != 0)
            return -1;
        return pipeline_sync(c, &s->res, err);
    }
    s->res = PQexecPrepared(c->pg, s->name, s->nparams, s->values, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(s->res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        const char *msg = s->res ? PQresultErrorMessage(s->res) : PQerrorMessage(c->pg);
        pg_fail(err, "statement failed", msg);
        if (c->in_tx)
            mark_failed(c, msg);
        PQclear(s->res);
        s->res = NULL;
        return -1;
    }
    c->changes = atoll(PQcmdTuples(s->res));
    return 0;
}

static int pg_step(store_stmt *base, tc_err *err) {
    pg_stmt *s = (pg_stmt *)base;
    if (s->bind_failed)
        return tc_err_set(err, TC_INTERNAL, "store: a statement parameter could not be bound");
    if (!s->executed) {
        s->executed = 1;
        if (stmt_execute(s, err) != 0)
            return -1;
        s->nrows = PQresultStatus(s->res) == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
        s->row = -1;
    }
    if (s->row + 1 >= s->nrows)
        return STORE_DONE;
    s->row++;
    return STORE_ROW;
}

static void pg_stmt_done(store_stmt *base) {
    pg_stmt *s = (pg_stmt *)base;
    if (!s->cached) {
        stmt_free(s);
        return;
    }
    stmt_reset(s);
    s->in_use = 0;
}

/* ---- deferred rows ---------------------------------------------------------
 *
 * In a batch, a plain INSERT's row is not sent at once: its values are
 * copied and wait beside the statement, and the waiting rows go out as
 * multi-row INSERTs of 2^j rows (send_rows) just before anything else is
 * sent (a read, an UPDATE, COMMIT). The server's cost per statement
 * (executor start and end, the portal, the protocol's messages) was a
 * fifth of its time per event; it is now paid once per 2^j rows. The
 * server's CPU per ingested event (bench/cluster.sh, one node): 107 us
 * before, 96-105 after.
 *
 * Invariant relied on: nothing else reaches the server while rows wait
 * (every other send, and every sync, sends them first), so every statement
 * still sees every row inserted before it. They also go every
 * PG_DEFERRED_SEND_ROWS rows, all statements' together. Only INSERTs of
 * different tables trade places among themselves, which changes nothing
 * (no foreign keys, no triggers). A failing row fails the batch, as it
 * would have alone. */

/* Waiting rows of all statements that make the connection send them: a
 * batch's INSERTs go out in a few messages while the writer carries on,
 * so that the server works on them meanwhile rather than all at COMMIT. */
#define PG_DEFERRED_SEND_ROWS 128

static int arena_add(pg_stmt *s, const char *v, tc_err *err) {
    size_t n = strlen(v) + 1;
    if (s->arena_len + n > s->arena_cap) {
        size_t cap = s->arena_cap ? s->arena_cap : 4096;
        while (cap < s->arena_len + n)
            cap *= 2;
        char *grown = realloc(s->arena, cap);
        if (!grown)
            return tc_err_set(err, TC_INTERNAL, "store: out of memory keeping a row");
        s->arena = grown;
        s->arena_cap = cap;
    }
    memcpy(s->arena + s->arena_len, v, n);
    s->arena_len += n;
    return 0;
}

static int defer_row(pg_conn *c, pg_stmt *s, tc_err *err) {
    if (s->npending == s->pending_cap) {
        int cap = s->pending_cap ? s->pending_cap * 2 : 16;
        ptrdiff_t *grown = realloc(s->offsets, (size_t)cap * (size_t)s->nparams * sizeof(*grown));
        if (!grown)
            return tc_err_set(err, TC_INTERNAL, "store: out of memory keeping a row");
        s->offsets = grown;
        s->pending_cap = cap;
    }
    ptrdiff_t *row = s->offsets + (size_t)s->npending * (size_t)s->nparams;
    size_t mark = s->arena_len;
    for (int i = 0; i < s->nparams; i++) {
        row[i] = s->values[i] ? (ptrdiff_t)s->arena_len : -1;
        if (s->values[i] && arena_add(s, s->values[i], err) != 0) {
            s->arena_len = mark;
            return -1;
        }
    }
    if (s->npending++ == 0) {
        s->next_deferred = NULL;
        if (c->deferred_tail)
            c->deferred_tail->next_deferred = s;
        else
            c->deferred_head = s;
        c->deferred_tail = s;
    }
    c->last_deferred = 1;
    c->changes = 1;
    if (++c->deferred_rows < PG_DEFERRED_SEND_ROWS)
        return 0;
    if (deferred_flush(c, err) != 0)
        return -1;
    return c->queued >= PG_PIPELINE_MAX ? pipeline_sync(c, NULL, err) : 0;
}

/* Prepares s's form with 2^j rows on this session, if it is not yet. No
 * sync here (a flush runs inside one): a bad statement fails the batch at
 * its next sync. */
static void chunk_name(const pg_stmt *s, int j, char *name, size_t cap) {
    snprintf(name, cap, "%s_%d_%u", s->name, j, s->chunk_name[j]);
}

static int chunk_prepare(pg_conn *c, pg_stmt *s, int j, char *name, size_t cap, tc_err *err) {
    if (s->chunk_gen[j] == c->gen)
        return 0;
    /* A fresh name each time: a prepare whose batch failed may or may not
     * exist on the server (see deferred_forget). */
    s->chunk_name[j] = ++c->next_name;
    chunk_name(s, j, name, cap);
    size_t head = strlen(s->insert_head), row = strlen(s->insert_row), n = (size_t)1 << j;
    char *sql = malloc(head + n * (row + 1) + 1), *p = sql;
    if (!sql)
        return tc_err_set(err, TC_INTERNAL, "store: out of memory preparing rows");
    memcpy(p, s->insert_head, head);
    p += head;
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        memcpy(p, s->insert_row, row);
        p += row;
    }
    *p = '\0';
    int nparams = 0;
    char *text = translate(sql, &nparams);
    free(sql);
    if (!text)
        return tc_err_set(err, TC_INTERNAL, "store: out of memory preparing rows");
    int ok = PQsendPrepare(c->pg, name, text, nparams, NULL) == 1;
    free(text);
    if (!ok) {
        mark_failed(c, PQerrorMessage(c->pg));
        return pg_fail(err, "prepare", PQerrorMessage(c->pg));
    }
    c->queued++;
    s->chunk_gen[j] = c->gen;
    return 0;
}

/* Sends s's waiting rows as INSERTs of 2^j rows each (at most one per j
 * below the largest): prepared once per session, so the server neither
 * parses nor plans them again. */
static int send_rows(pg_conn *c, pg_stmt *s, tc_err *err) {
    size_t nvalues = (size_t)s->npending * (size_t)s->nparams;
    const char **values = malloc(nvalues * sizeof(*values));
    if (!values)
        return tc_err_set(err, TC_INTERNAL, "store: out of memory sending rows");
    for (size_t i = 0; i < nvalues; i++)
        values[i] = s->offsets[i] < 0 ? NULL : s->arena + s->offsets[i];
    int at = 0, rc = 0;
    for (int j = 8; rc == 0 && j >= 0; j--) {
        int n = 1 << j;
        char name[48];
        chunk_name(s, j, name, sizeof(name));
        while (rc == 0 && s->npending - at >= n) {
            rc = chunk_prepare(c, s, j, name, sizeof(name), err);
            if (rc == 0 &&
                PQsendQueryPrepared(c->pg, name, n * s->nparams,
                                    values + (size_t)at * (size_t)s->nparams, NULL, NULL, 0) != 1) {
                mark_failed(c, PQerrorMessage(c->pg));
                rc = pg_fail(err, "send", PQerrorMessage(c->pg));
            }
            if (rc == 0)
                c->queued++;
            at += n;
        }
    }
    free(values);
    return rc;
}

static int deferred_flush(pg_conn *c, tc_err *err) {
    int rc = 0;
    for (pg_stmt *s = c->deferred_head; s; s = s->next_deferred) {
        if (rc == 0)
            rc = send_rows(c, s, err);
        stmt_drop_pending(s);
    }
    c->deferred_head = c->deferred_tail = NULL;
    c->deferred_rows = 0;
    return rc;
}

/* A failed batch: the prepares of 2^j-row forms sent in it were never
 * confirmed (they are not waited for), so each is prepared again, under a
 * new name, when next needed. */
static void deferred_forget(pg_conn *c) {
    for (int i = 0; i < PG_STMT_SLOTS; i++) {
        pg_stmt *s = c->cache[i].stmt;
        if (s && s->insert_head)
            memset(s->chunk_gen, 0, sizeof(s->chunk_gen));
    }
}

/* A rollback: the waiting rows were never sent. */
static void deferred_drop(pg_conn *c) {
    for (pg_stmt *s = c->deferred_head; s; s = s->next_deferred)
        stmt_drop_pending(s);
    c->deferred_head = c->deferred_tail = NULL;
    c->deferred_rows = 0;
    c->last_deferred = 0;
}

/* ROLLBACK TO a savepoint in a failed transaction (the one statement the
 * server then takes): waited for, and on success the transaction is usable
 * again, without the failed command's writes. */
static int rollback_to(pg_conn *c, const char *sql, tc_err *err) {
    c->failed = 0;
    if (pipeline_send_text(c, sql, err) != 0 || pipeline_sync(c, NULL, err) != 0)
        return -1;
    c->failed_msg[0] = '\0';
    return 0;
}

static int pg_run(store_stmt *base, tc_err *err) {
    pg_stmt *s = (pg_stmt *)base;
    pg_conn *c = s->conn;
    if (!c->pipeline) {
        int rc = pg_step(base, err);
        pg_stmt_done(base);
        return rc < 0 ? -1 : 0;
    }
    int rc = -1;
    if (s->bind_failed)
        tc_err_set(err, TC_INTERNAL, "store: a statement parameter could not be bound");
    else if (c->failed && strncmp(s->sql, "ROLLBACK TO ", 12) == 0)
        rc = rollback_to(c, s->sql, err);
    else if (c->failed)
        conn_failed(c, err);
    else if (s->insert_head && s->cached) /* an uncached one is freed by done */
        rc = defer_row(c, s, err);
    else if (stmt_ensure_prepared(s, err) == 0 && stmt_send(s, err) == 0)
        rc = c->queued >= PG_PIPELINE_MAX ? pipeline_sync(c, NULL, err) : 0;
    pg_stmt_done(base);
    return rc;
}

static int64_t pg_col_int64(store_stmt *base, int col) {
    pg_stmt *s = (pg_stmt *)base;
    if (!s->res || s->row < 0 || s->row >= s->nrows || col >= PQnfields(s->res))
        return 0;
    const char *v = PQgetvalue(s->res, s->row, col);
    /* A boolean reads as 1 or 0, as in SQLite. */
    if (v[0] == 't' && !v[1])
        return 1;
    return strtoll(v, NULL, 10);
}

static const char *pg_col_text(store_stmt *base, int col) {
    pg_stmt *s = (pg_stmt *)base;
    if (!s->res || s->row < 0 || s->row >= s->nrows || col >= PQnfields(s->res))
        return "";
    return PQgetvalue(s->res, s->row, col);
}

static int pg_col_is_null(store_stmt *base, int col) {
    pg_stmt *s = (pg_stmt *)base;
    if (!s->res || s->row < 0 || s->row >= s->nrows || col >= PQnfields(s->res))
        return 1;
    return PQgetisnull(s->res, s->row, col);
}

/* The rows changed by the last statement; a pipelined one is waited for. */
static int64_t pg_changes(store_conn *base) {
    pg_conn *c = (pg_conn *)base;
    if (c->last_deferred)
        return 1; /* a deferred INSERT: one row, whenever it goes */
    if (c->pipeline && c->queued > 0) {
        tc_err ignored;
        if (pipeline_sync(c, NULL, &ignored) != 0)
            return 0;
    }
    return c->changes;
}

/* ---- text statements and transactions ----------------------------------- */

static int pg_exec(store_conn *base, const char *sql, tc_err *err) {
    pg_conn *c = (pg_conn *)base;
    if (c->failed)
        return conn_failed(c, err);
    if (c->pipeline)
        return pipeline_send_text(c, sql, err);
    if (!c->in_tx && conn_ensure(c, err) != 0)
        return -1;
    PGresult *r = PQexec(c->pg, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        pg_fail(err, "statement failed", PQresultErrorMessage(r));
        if (c->in_tx)
            mark_failed(c, PQresultErrorMessage(r));
    }
    PQclear(r);
    return ok ? 0 : -1;
}

static int pg_begin(store_conn *base, tc_err *err) {
    pg_conn *c = (pg_conn *)base;
    if (conn_ensure(c, err) != 0 || pg_exec(base, "BEGIN", err) != 0)
        return -1;
    c->in_tx = 1;
    c->failed = 0;
    return 0;
}

static int pg_commit(store_conn *base, tc_err *err) {
    pg_conn *c = (pg_conn *)base;
    if (c->failed)
        return conn_failed(c, err);
    int rc = pg_exec(base, "COMMIT", err);
    if (rc == 0 && c->pipeline)
        rc = pipeline_sync(c, NULL, err);
    if (rc == 0) {
        pipeline_leave(c);
        c->in_tx = 0;
    }
    return rc;
}

static void pg_rollback(store_conn *base) {
    pg_conn *c = (pg_conn *)base;
    deferred_drop(c);
    if (c->in_tx)
        deferred_forget(c);
    pipeline_leave(c);
    if (c->in_tx && PQstatus(c->pg) == CONNECTION_OK) {
        PGresult *r = PQexec(c->pg, "ROLLBACK");
        PQclear(r);
    }
    c->in_tx = 0;
    c->failed = 0;
}

static int pg_check(store_conn *base, tc_err *err) {
    pg_conn *c = (pg_conn *)base;
    if (c->failed)
        return conn_failed(c, err);
    return c->pipeline ? pipeline_sync(c, NULL, err) : 0;
}

static int pg_in_transaction(store_conn *base) {
    pg_conn *c = (pg_conn *)base;
    return c->in_tx && !c->failed;
}

/* ---- batches ----------------------------------------------------------- */

static int pg_batch_begin(store_conn *base, store_batch *b, tc_err *err) {
    pg_conn *c = (pg_conn *)base;
    if (conn_ensure(c, err) != 0 || pipeline_enter(c, err) != 0)
        return -1;
    c->in_tx = 1;
    c->failed = 0;
    PGresult *r = NULL;
    if (pipeline_send_text(c, "BEGIN", err) != 0 ||
        pipeline_send_text(c,
                           "SELECT seq, pruned_seq, next_alert, next_incident, next_event,"
                           " next_delivery FROM cluster_clock WHERE id = 1 FOR UPDATE",
                           err) != 0 ||
        pipeline_sync(c, &r, err) != 0) {
        pg_rollback(base);
        return -1;
    }
    if (PQntuples(r) != 1 || PQnfields(r) != 6) {
        PQclear(r);
        pg_rollback(base);
        return tc_err_set(err, TC_INTERNAL, "store: the cluster clock row is missing");
    }
    b->seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    b->pruned_seq = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    for (int k = 0; k < STORE_ID_KINDS; k++)
        b->first_id[k] = b->next_id[k] = strtoll(PQgetvalue(r, 0, 2 + k), NULL, 10);
    PQclear(r);
    b->track_changes = 1;
    return 0;
}

/* The batch's changes as one text: their records (state_change_record),
 * one per line; a change without one is its kind and id. */
static char *changes_text(const store_batch *b) {
    size_t cap = 1, len = 0;
    for (size_t i = 0; i < b->nchanges; i++)
        cap += (b->changes[i].record ? strlen(b->changes[i].record) : 26) + 1;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < b->nchanges; i++) {
        const store_change *c = &b->changes[i];
        if (c->record)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "\n" : "", c->record);
        else
            len += (size_t)snprintf(out + len, cap - len, "%s%c%s", i ? "\n" : "", c->kind, c->id);
    }
    return out;
}

static int record_changes(pg_conn *c, store_batch *b, tc_err *err) {
    if (b->nchanges == 0)
        return 0;
    char *text = changes_text(b);
    if (!text)
        return tc_err_set(err, TC_INTERNAL, "store: out of memory recording the batch's changes");
    int rc = -1;
    store_stmt *st = pg_prepare(&c->base,
                                "INSERT INTO cluster_changes(seq, changes, created_at) VALUES(?, ?,"
                                " CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT))",
                                err);
    if (st) {
        pg_bind_int64(st, 1, b->seq + 1);
        pg_bind_text(st, 2, text, 0);
        rc = pg_run(st, err);
    }
    free(text);
    return rc;
}

static int pg_batch_commit(store_conn *base, store_batch *b, tc_err *err) {
    pg_conn *c = (pg_conn *)base;
    if (c->failed) {
        conn_failed(c, err);
        pg_rollback(base);
        return -1;
    }
    /* A batch that noted no change and took no id (a timer tick with
     * nothing due, an outcome recorded) leaves the clock alone: other nodes
     * have nothing to catch up on, and an idle cluster writes nothing. */
    if (b->nchanges == 0 && memcmp(b->first_id, b->next_id, sizeof(b->next_id)) == 0) {
        if (pg_commit(base, err) != 0)
            goto fail;
        b->committed_seq = b->seq;
        return 0;
    }
    store_stmt *st = NULL;
    if (record_changes(c, b, err) != 0)
        goto fail;
    st = pg_prepare(base,
                    "UPDATE cluster_clock SET seq = ?, node_id = ?, next_alert = ?,"
                    " next_incident = ?, next_event = ?, next_delivery = ? WHERE id = 1",
                    err);
    if (!st)
        goto fail;
    pg_bind_int64(st, 1, b->seq + 1);
    pg_bind_text(st, 2, c->owner->node_id, 0);
    for (int k = 0; k < STORE_ID_KINDS; k++)
        pg_bind_int64(st, 3 + k, b->next_id[k]);
    if (pg_run(st, err) != 0 || pg_commit(base, err) != 0)
        goto fail;
    b->committed_seq = b->seq + 1;
    return 0;
fail:
    pg_rollback(base);
    return -1;
}

/* ---- the store -------------------------------------------------------------- */

static int sync_nothing(store *st, tc_err *err) {
    /* Each commit waited for its WAL flush (synchronous_commit on). */
    (void)st;
    (void)err;
    return 0;
}

static store_conn *pg_writer(store *base) {
    return &((pg_store *)base)->writer->base;
}

static store_conn *pg_reader_acquire(store *base) {
    return store_pool_acquire(&((pg_store *)base)->readers);
}

static void pg_reader_release(store *base, store_conn *conn) {
    /* A reader handed back inside a transaction (a caller's error path)
     * must not carry it to the next one. */
    if (((pg_conn *)conn)->in_tx)
        pg_rollback(conn);
    store_pool_release(&((pg_store *)base)->readers, conn);
}

static int query_int(pg_conn *c, const char *sql, int64_t *out, tc_err *err) {
    PGresult *r = PQexec(c->pg, sql);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok)
        *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else
        pg_fail(err, "reading the schema's version", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

static int apply_one(pg_conn *c, int version, const char *name, const char *sql, tc_err *err) {
    if (pg_begin(&c->base, err) != 0)
        return -1;
    if (pg_exec(&c->base, sql, err) != 0)
        goto fail;
    store_stmt *rec = pg_prepare(
        &c->base, "INSERT INTO schema_migrations(version, name, applied_at) VALUES(?,?,?)", err);
    if (!rec)
        goto fail;
    pg_bind_int64(rec, 1, version);
    pg_bind_text(rec, 2, name, 0);
    pg_bind_int64(rec, 3, clock_now_ms() / 1000);
    if (pg_run(rec, err) != 0 || pg_commit(&c->base, err) != 0)
        goto fail;
    return 0;
fail:
    pg_rollback(&c->base);
    return -1;
}

static int apply_migrations(pg_conn *c, tc_err *err) {
    char lock[96];
    snprintf(lock, sizeof(lock), "SELECT pg_advisory_lock(%lld)", (long long)PG_MIGRATION_LOCK);
    if (pg_exec(&c->base, lock, err) != 0)
        return -1;
    int rc = -1;
    int64_t current = 0;
    if (pg_exec(&c->base,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                err) != 0 ||
        query_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &current, err) != 0)
        goto done;
    int latest = 0;
    for (int i = 0; store_migrations_pg[i].name; i++)
        latest = atoi(store_migrations_pg[i].name);
    /* A downgrade: see store_sqlite.c's apply_migrations. */
    if (current > latest) {
        tc_err_set(err, TC_INTERNAL,
                   "store: the database has schema version %lld, newer than this tocsin's %d "
                   "(a downgrade): run the tocsin that made it, or restore the backup taken "
                   "before the upgrade",
                   (long long)current, latest);
        goto done;
    }
    for (int i = 0; store_migrations_pg[i].name; i++) {
        int version = atoi(store_migrations_pg[i].name);
        if (version > current && apply_one(c, version, store_migrations_pg[i].name,
                                           store_migrations_pg[i].data, err) != 0)
            goto done;
    }
    rc = 0;
done:
    snprintf(lock, sizeof(lock), "SELECT pg_advisory_unlock(%lld)", (long long)PG_MIGRATION_LOCK);
    tc_err ignored;
    pg_exec(&c->base, lock, &ignored);
    return rc;
}

static void pg_free(store *base) {
    pg_store *st = (pg_store *)base;
    for (int i = 0; i < st->readers.n; i++)
        conn_close((pg_conn *)st->readers.conns[i]);
    store_pool_clear(&st->readers);
    conn_close(st->writer);
    free(st->url);
    free(st->node_id);
    free(st);
}

int store_pg_open(const store_options *opts, store **out, tc_err *err) {
    pg_store *st = calloc(1, sizeof(*st));
    if (!st)
        return tc_err_set(err, TC_INTERNAL, "store: out of memory");
    st->base.engine = &pg_engine;
    st->url = strdup(opts->url);
    st->node_id = strdup(opts->node_id ? opts->node_id : "");
    if (!st->url || !st->node_id) {
        tc_err_set(err, TC_INTERNAL, "store: out of memory");
        goto fail;
    }
    if (conn_open(st, &st->writer, err) != 0 || apply_migrations(st->writer, err) != 0)
        goto fail;
    if (store_pool_init(&st->readers, opts->readers) != 0) {
        tc_err_set(err, TC_INTERNAL, "store: out of memory");
        goto fail;
    }
    for (int i = 0; i < st->readers.n; i++) {
        pg_conn *c = NULL;
        if (conn_open(st, &c, err) != 0)
            goto fail;
        st->readers.conns[i] = &c->base;
    }
    *out = &st->base;
    return 0;
fail:
    pg_free(&st->base);
    return -1;
}

static const store_engine pg_engine = {
    .kind = STORE_ENGINE_POSTGRES,
    .free = pg_free,
    .sync = sync_nothing,
    .writer = pg_writer,
    .reader_acquire = pg_reader_acquire,
    .reader_release = pg_reader_release,
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .in_transaction = pg_in_transaction,
    .check = pg_check,
    .prepare = pg_prepare,
    .bind_int64 = pg_bind_int64,
    .bind_text = pg_bind_text,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .run = pg_run,
    .col_int64 = pg_col_int64,
    .col_text = pg_col_text,
    .col_is_null = pg_col_is_null,
    .stmt_done = pg_stmt_done,
    .changes = pg_changes,
    .batch_begin = pg_batch_begin,
    .batch_commit = pg_batch_commit,
};
