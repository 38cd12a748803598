/* store.c: the engine-neutral face of store.h.
 *
 * Each call goes to the engine of its handle (store_engine.h): SQLite
 * (store_sqlite.c) unless the options name a PostgreSQL URL
 * (store_pg.c). What both engines share lives here: the batch's noted
 * changes and the hand-out of ids from counters the engine filled at the
 * batch's begin. */
#include "store/store_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const store_id_tables[STORE_ID_KINDS][2] = {
    [STORE_ID_ALERT] = {"alerts", "id"},
    [STORE_ID_INCIDENT] = {"incidents", "id"},
    [STORE_ID_EVENT] = {"events", "seq"},
    [STORE_ID_DELIVERY] = {"deliveries", "delivery_id"},
};

static int is_postgres_url(const char *url) {
    return url && (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0);
}

int store_open(const store_options *opts, store **out, tc_err *err) {
    if (opts->url) {
        if (!is_postgres_url(opts->url))
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "store: the store URL must start with postgres:// or postgresql://");
        return store_pg_open(opts, out, err);
    }
    return store_sqlite_open(opts, out, err);
}

void store_free(store *st) {
    if (st)
        st->engine->free(st);
}

store_engine_kind store_kind(const store *st) {
    return st->engine->kind;
}

store_engine_kind store_conn_kind(const store_conn *conn) {
    return conn->engine->kind;
}

int store_sync(store *st, tc_err *err) {
    return st->engine->sync(st, err);
}

store_conn *store_writer(store *st) {
    return st->engine->writer(st);
}

store_conn *store_reader_acquire(store *st) {
    return st->engine->reader_acquire(st);
}

void store_reader_release(store *st, store_conn *conn) {
    st->engine->reader_release(st, conn);
}

int store_exec(store_conn *conn, const char *sql, tc_err *err) {
    return conn->engine->exec(conn, sql, err);
}

int store_begin(store_conn *conn, tc_err *err) {
    return conn->engine->begin(conn, err);
}

int store_commit(store_conn *conn, tc_err *err) {
    return conn->engine->commit(conn, err);
}

void store_rollback(store_conn *conn) {
    conn->engine->rollback(conn);
    conn->batch = NULL;
}

int store_in_transaction(store_conn *conn) {
    return conn->engine->in_transaction(conn);
}

int store_check(store_conn *conn, tc_err *err) {
    return conn->engine->check ? conn->engine->check(conn, err) : 0;
}

store_stmt *store_prepare(store_conn *conn, const char *sql, tc_err *err) {
    return conn->engine->prepare(conn, sql, err);
}

void store_bind_int64(store_stmt *stmt, int idx, int64_t value) {
    stmt->engine->bind_int64(stmt, idx, value);
}

void store_bind_text(store_stmt *stmt, int idx, const char *text) {
    stmt->engine->bind_text(stmt, idx, text, 1);
}

void store_bind_text_static(store_stmt *stmt, int idx, const char *text) {
    stmt->engine->bind_text(stmt, idx, text, 0);
}

void store_bind_null(store_stmt *stmt, int idx) {
    stmt->engine->bind_null(stmt, idx);
}

int store_step(store_stmt *stmt, tc_err *err) {
    return stmt->engine->step(stmt, err);
}

int store_run(store_stmt *stmt, tc_err *err) {
    return stmt->engine->run(stmt, err);
}

int store_run_sql(store_conn *conn, const char *sql, tc_err *err) {
    store_stmt *st = store_prepare(conn, sql, err);
    return st ? store_run(st, err) : -1;
}

int64_t store_col_int64(store_stmt *stmt, int col) {
    return stmt->engine->col_int64(stmt, col);
}

const char *store_col_text(store_stmt *stmt, int col) {
    return stmt->engine->col_text(stmt, col);
}

int store_col_is_null(store_stmt *stmt, int col) {
    return stmt->engine->col_is_null(stmt, col);
}

void store_stmt_done(store_stmt *stmt) {
    if (stmt)
        stmt->engine->stmt_done(stmt);
}

int64_t store_changes(store_conn *conn) {
    return conn->engine->changes(conn);
}

/* ---- batches ----------------------------------------------------------- */

int store_batch_begin(store_conn *conn, store_batch *b, tc_err *err) {
    /* The array is kept from batch to batch; what its entries own is not. */
    for (size_t i = 0; i < b->nchanges; i++) {
        free(b->changes[i].record);
        free(b->changes[i].alert_key);
    }
    b->nchanges = 0;
    b->note_failed = 0;
    if (conn->engine->batch_begin(conn, b, err) != 0)
        return -1;
    conn->batch = b;
    return 0;
}

int store_batch_commit(store_conn *conn, store_batch *b, tc_err *err) {
    if (b->note_failed) {
        store_rollback(conn);
        return tc_err_set(err, TC_INTERNAL, "store: out of memory noting the batch's changes");
    }
    int rc = conn->engine->batch_commit(conn, b, err);
    conn->batch = NULL;
    return rc;
}

void store_batch_clear(store_batch *b) {
    store_changes_free(b->changes, b->nchanges);
    b->changes = NULL;
    b->nchanges = b->cap = 0;
}

/* Outside a batch (a unit test writing rows, a tool), the next id is read
 * from the table: there is no other writer then. */
static int64_t next_id_from_table(store_conn *conn, store_id_kind kind) {
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(%s), 0) + 1 FROM %s", store_id_tables[kind][1],
             store_id_tables[kind][0]);
    tc_err err;
    store_stmt *q = store_prepare(conn, sql, &err);
    if (!q)
        return -1;
    int64_t id = store_step(q, &err) == STORE_ROW ? store_col_int64(q, 0) : -1;
    store_stmt_done(q);
    return id;
}

int64_t store_batch_next_id(store_conn *conn, store_id_kind kind) {
    if (!conn->batch)
        return next_id_from_table(conn, kind);
    return conn->batch->next_id[kind]++;
}

static store_change *note(store_conn *conn, char kind, const char *id) {
    store_batch *b = conn->batch;
    if (!b || !b->track_changes)
        return NULL;
    /* The same object is often changed several times in a batch (an alert
     * and its incident, by each of a burst's events): the last one noted is
     * the one most likely to repeat. */
    if (b->nchanges > 0 && b->changes[b->nchanges - 1].kind == kind &&
        strcmp(b->changes[b->nchanges - 1].id, id) == 0)
        return &b->changes[b->nchanges - 1];
    if (b->nchanges == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        store_change *grown = realloc(b->changes, cap * sizeof(*grown));
        if (!grown) {
            b->note_failed = 1;
            return NULL;
        }
        b->changes = grown;
        b->cap = cap;
    }
    store_change *c = &b->changes[b->nchanges++];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    snprintf(c->id, sizeof(c->id), "%s", id);
    return c;
}

void store_batch_note(store_conn *conn, char kind, const char *id) {
    note(conn, kind, id);
}

void store_batch_note_alert(store_conn *conn, const char *alert_id, int64_t integration_id,
                            const char *alert_key) {
    store_change *c = note(conn, 'a', alert_id);
    if (!c || c->alert_key)
        return;
    c->integration_id = integration_id;
    c->alert_key = strdup(alert_key ? alert_key : "");
    if (!c->alert_key)
        conn->batch->note_failed = 1;
}

void store_changes_free(store_change *changes, size_t n) {
    for (size_t i = 0; changes && i < n; i++) {
        free(changes[i].record);
        free(changes[i].alert_key);
    }
    free(changes);
}
