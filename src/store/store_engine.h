/* store_engine.h: what an engine behind store.h provides (private to src/store).
 *
 * store.c is the public face: each call of store.h goes to the engine of
 * the store, connection or statement it is given, through the table below.
 * Every engine's own structs begin with the matching base struct here, so
 * store.c can find the table from any handle; nothing outside an engine's
 * file looks further inside. One indirect call per store call costs nothing
 * beside the statement it runs (measured on the hot path: below perf's
 * noise). */
#ifndef TOCSIN_STORE_ENGINE_H
#define TOCSIN_STORE_ENGINE_H

#include "store/store.h"

typedef struct store_engine store_engine;

struct store {
    const store_engine *engine;
};
struct store_conn {
    const store_engine *engine;
    store_batch *batch; /* the writer's open batch (store_batch_begin), or NULL */
};
struct store_stmt {
    const store_engine *engine;
};

struct store_engine {
    store_engine_kind kind;
    void (*free)(store *st);
    int (*sync)(store *st, tc_err *err);
    store_conn *(*writer)(store *st);
    store_conn *(*reader_acquire)(store *st);
    void (*reader_release)(store *st, store_conn *conn);
    int (*exec)(store_conn *conn, const char *sql, tc_err *err);
    int (*begin)(store_conn *conn, tc_err *err);
    int (*commit)(store_conn *conn, tc_err *err);
    void (*rollback)(store_conn *conn);
    int (*in_transaction)(store_conn *conn);
    int (*check)(store_conn *conn, tc_err *err); /* NULL: every statement ran when sent */
    store_stmt *(*prepare)(store_conn *conn, const char *sql, tc_err *err);
    void (*bind_int64)(store_stmt *stmt, int idx, int64_t value);
    /* copy 0: the text outlives the statement's run (store_bind_text_static). */
    void (*bind_text)(store_stmt *stmt, int idx, const char *text, int copy);
    void (*bind_null)(store_stmt *stmt, int idx);
    int (*step)(store_stmt *stmt, tc_err *err);
    /* Runs a statement whose rows nobody reads, then done: an engine may
     * send it without waiting for its answer (PostgreSQL's pipeline). */
    int (*run)(store_stmt *stmt, tc_err *err);
    int64_t (*col_int64)(store_stmt *stmt, int col);
    const char *(*col_text)(store_stmt *stmt, int col);
    int (*col_is_null)(store_stmt *stmt, int col);
    void (*stmt_done)(store_stmt *stmt);
    int64_t (*changes)(store_conn *conn);
    int (*batch_begin)(store_conn *conn, store_batch *b, tc_err *err);
    int (*batch_commit)(store_conn *conn, store_batch *b, tc_err *err);
};

/* The tables of store_id_kind, for engines that read the highest ids. */
extern const char *const store_id_tables[STORE_ID_KINDS][2];

int store_sqlite_open(const store_options *opts, store **out, tc_err *err);
int store_pg_open(const store_options *opts, store **out, tc_err *err);

#endif
