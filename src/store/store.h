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

#include <stdint.h>

#include "util/err.h"

typedef struct store store;
typedef struct store_conn store_conn;
typedef struct store_stmt store_stmt;

enum { STORE_DONE = 0, STORE_ROW = 1 };

typedef struct {
    const char *path; /* database file */
    int readers;      /* reader connections in the pool; >= 1 */
    int sync_full;    /* 1: every commit durable before it is answered (store_sync) */
} store_options;

/* Opens (creating 0600 if absent) the database and applies migrations. */
int store_open(const store_options *opts, store **out, tc_err *err);
void store_free(store *st);

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

/* The rowid of the last row inserted on this connection. */
int64_t store_last_insert_id(store_conn *conn);

/* Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t store_changes(store_conn *conn);

/* Convenience: run a prepared statement that returns no rows. */
int store_run(store_stmt *stmt, tc_err *err);

#endif
