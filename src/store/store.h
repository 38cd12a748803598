/* store.h: the one interface between the core and storage.
 *
 * The core speaks SQL through this thin layer (prepare, bind, step, read
 * columns) rather than through an engine's own API, so that the SQLite
 * engine (store_sqlite.c) and a PostgreSQL engine can sit behind the same
 * calls. SQL written for the store uses `?` placeholders and the dialect
 * both engines share (INSERT ... ON CONFLICT, no engine-only functions).
 *
 * Threads: a store has one writer connection, owned by the writer thread
 * (core/writer.c), and a pool of reader connections for request handlers
 * that only read. A connection is used by one thread at a time; that is the
 * invariant the prepared-statement cache relies on.
 *
 * Statements: store_prepare() returns a statement from the connection's
 * cache (prepared once, reused), reset and with no bindings. Callers bind,
 * step, read, then always call store_stmt_done(), on every path. */
#ifndef TOCSIN_STORE_H
#define TOCSIN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct store store;
typedef struct store_conn store_conn;
typedef struct store_stmt store_stmt;

enum { STORE_DONE = 0, STORE_ROW = 1 };

typedef enum { STORE_ENGINE_SQLITE, STORE_ENGINE_POSTGRES } store_engine_kind;

typedef struct {
    const char *path;    /* SQLite: the database file */
    const char *url;     /* PostgreSQL: a libpq URL (postgres://...); set: path is not used */
    const char *node_id; /* this node's name in the cluster (PostgreSQL) */
    int readers;         /* reader connections in the pool; >= 1 */
    int sync_full;       /* 1: every commit durable before it is answered (store_sync) */
} store_options;

/* Opens the database (SQLite: creating the file 0600 if absent) and applies
 * migrations. */
int store_open(const store_options *opts, store **out, tc_err *err);
void store_free(store *st);
store_engine_kind store_kind(const store *st);
store_engine_kind store_conn_kind(const store_conn *conn);

/* Makes every transaction committed so far durable (one fdatasync of the
 * WAL; nothing with sync_full 0). Called by the writer's sync thread only,
 * never inside a transaction's thread of work. */
int store_sync(store *st, tc_err *err);

store_conn *store_writer(store *st);
/* Blocks until a reader connection is free. */
store_conn *store_reader_acquire(store *st);
void store_reader_release(store *st, store_conn *conn);

/* Runs SQL without parameters or results (may hold several statements). */
int store_exec(store_conn *conn, const char *sql, tc_err *err);
int store_begin(store_conn *conn, tc_err *err);
int store_commit(store_conn *conn, tc_err *err);
void store_rollback(store_conn *conn);
/* Whether a transaction is open. SQLite ends one by itself on some errors
 * (disk full, I/O error, out of memory): the writer checks this after each
 * command, because a batch whose transaction vanished must fail whole. */
int store_in_transaction(store_conn *conn);
/* Waits until every statement sent so far has run; -1 (err set) when one
 * failed. SQLite runs each statement as it is stepped: nothing to wait
 * for. PostgreSQL pipelines a batch's statements: the writer asks this at
 * the end of a command in a SAVEPOINT, so that a failed statement fails
 * its own command (ROLLBACK TO) and not the whole batch. */
int store_check(store_conn *conn, tc_err *err);

store_stmt *store_prepare(store_conn *conn, const char *sql, tc_err *err);
void store_bind_int64(store_stmt *stmt, int idx, int64_t value);
/* NULL binds SQL NULL; the text is copied. */
void store_bind_text(store_stmt *stmt, int idx, const char *text);
/* The same without the copy: the text must stay as it is until the
 * statement is done (the hot path's inserts, which bind and run at once). */
void store_bind_text_static(store_stmt *stmt, int idx, const char *text);

void store_bind_null(store_stmt *stmt, int idx);
/* STORE_ROW, STORE_DONE, or -1 with *err set (InternalError). */
int store_step(store_stmt *stmt, tc_err *err);
int64_t store_col_int64(store_stmt *stmt, int col);
/* Never NULL: SQL NULL reads as "". Valid until the next step or done. */
const char *store_col_text(store_stmt *stmt, int col);
int store_col_is_null(store_stmt *stmt, int col);
void store_stmt_done(store_stmt *stmt);

/* Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t store_changes(store_conn *conn);

/* Runs a prepared statement whose rows nobody reads, then done. On
 * PostgreSQL the writer's statements inside a batch are pipelined: sent
 * without waiting, their errors found at the next read or at the commit
 * (which then fails the batch). */
int store_run(store_stmt *stmt, tc_err *err);

/* store_exec for a fixed statement run again and again (SAVEPOINT, BEGIN,
 * COMMIT): prepared once through the statement cache and run. store_exec
 * parses its text every time, which cost as much as a row insert. */
int store_run_sql(store_conn *conn, const char *sql, tc_err *err);

/* ---- the writer's batches -------------------------------------------------
 *
 * The writer runs each batch in one transaction opened by store_batch_begin
 * and ended by store_batch_commit (or store_rollback). On PostgreSQL the
 * begin locks the cluster's clock row, so the batches of every node run one
 * at a time, in the order of the clock (docs/ARCHITECTURE.md, "Several
 * nodes"); on SQLite the file's write lock does the same for one process.
 *
 * Ids: rows whose ids the writer needs at once (and that cursors read in
 * order) get them from store_batch_next_id, never from the engine: a
 * batch's ids are above every id committed before it, on every node,
 * because the counters are read under the clock's lock (PostgreSQL) or kept
 * by the one writer (SQLite, from the tables' highest ids at start).
 *
 * Changes: the rows of alerts and incidents a batch writes are noted
 * (store_batch_note) and, on PostgreSQL, stored with the batch's clock, so
 * that other nodes can bring their caches up to date. */
typedef enum {
    STORE_ID_ALERT,    /* alerts.id */
    STORE_ID_INCIDENT, /* incidents.id */
    STORE_ID_EVENT,    /* events.seq */
    STORE_ID_DELIVERY, /* deliveries.delivery_id */
    STORE_ID_KINDS
} store_id_kind;

typedef struct {
    char kind; /* 'a' alert, 'i' incident, 'c' configuration */
    char id[25];
    /* Alerts: the key the writer's cache finds it by (alert_key owned). */
    int64_t integration_id;
    char *alert_key;
    /* What other nodes' caches take from it, one line (core/state.c,
     * state_change_records): set by the writer before the commit, owned;
     * read back by store_cluster_changes. */
    char *record;
} store_change;

typedef struct {
    /* Read at begin. PostgreSQL: the clock as the previous batch of any node
     * left it (this batch commits seq + 1) and the highest clock whose
     * changes were pruned; SQLite: both 0. */
    int64_t seq, pruned_seq;
    int64_t next_id[STORE_ID_KINDS];
    int64_t first_id[STORE_ID_KINDS]; /* next_id as begin read it */
    /* Set by commit: the clock the batch left (PostgreSQL: seq + 1, or seq
     * when the batch changed nothing another node must see; SQLite: 0). */
    int64_t committed_seq;
    int track_changes; /* set by the engine: 1 when other nodes may read them */
    store_change *changes;
    size_t nchanges, cap;
    int note_failed; /* a change could not be noted: the batch must fail */
} store_batch;

int store_batch_begin(store_conn *conn, store_batch *b, tc_err *err);
/* The batch's changes are kept until store_batch_clear. */
int store_batch_commit(store_conn *conn, store_batch *b, tc_err *err);
void store_batch_clear(store_batch *b);
int64_t store_batch_next_id(store_conn *conn, store_id_kind kind);
/* Notes that a row changed (id: the alert or incident id; "" for
 * configuration). Outside a batch, does nothing. */
void store_batch_note(store_conn *conn, char kind, const char *id);
/* An alert changed: its id and the key its cache entry is found by. */
void store_batch_note_alert(store_conn *conn, const char *alert_id, int64_t integration_id,
                            const char *alert_key);
/* Frees n changes' records and the array (store_cluster_changes' list). */
void store_changes_free(store_change *changes, size_t n);

#endif
