/* writer.c: see writer.h.
 *
 * Callers block on a per-command semaphore rather than a shared condition
 * variable, so a committed batch wakes exactly its own callers. */
#include "core/writer.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

#define WRITER_MAX_BATCH 4096

typedef struct writer_cmd {
    writer_fn fn;
    void *arg;
    tc_err err;
    int failed;
    sem_t done;
    struct writer_cmd *next;
} writer_cmd;

struct writer {
    store *st;
    const tc_config *cfg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    writer_cmd *head, *tail;
    int stopping;
    int running;
    void (*after_commit)(void *arg);
    void *after_commit_arg;
    writer_fn tick_fn;
    void *tick_arg;
    int tick_interval_ms;
    int64_t next_tick_ms;
    _Atomic int64_t batches, commands;
};

/* Savepoint statements run for every command: prepared once and cached by
 * the store, because parsing them per command cost as much as a row insert. */
static int exec_cached(store_conn *conn, const char *sql, tc_err *err) {
    store_stmt *st = store_prepare(conn, sql, err);
    return st ? store_run(st, err) : -1;
}

static void run_one(writer_txn *txn, writer_cmd *c) {
    tc_err_clear(&c->err);
    c->failed = 0;
    if (exec_cached(txn->conn, "SAVEPOINT cmd", &c->err) != 0) {
        c->failed = 1;
        return;
    }
    tc_err scratch;
    if (c->fn(txn, c->arg, &c->err) != 0) {
        c->failed = 1;
        exec_cached(txn->conn, "ROLLBACK TO cmd", &scratch);
    }
    if (exec_cached(txn->conn, "RELEASE cmd", &scratch) != 0 && !c->failed) {
        c->failed = 1;
        c->err = scratch;
    }
}

/* Runs a batch in one transaction; on a failed BEGIN or COMMIT, every
 * command of the batch fails with the store's error.
 *
 * Invariant: a command is answered success only if its changes are in the
 * committed transaction. A store error (disk full, I/O error) can make
 * SQLite roll the whole transaction back inside a command; the commands
 * before it are then undone, and a next SAVEPOINT would silently open a
 * new autocommit transaction. So the batch stops there and fails whole:
 * every caller gets InternalError, nothing is half-stored, and the next
 * batch starts clean (which is how tocsin recovers once space is back). */
static void run_batch(writer *w, writer_cmd *batch) {
    writer_txn txn = {.conn = store_writer(w->st), .cfg = w->cfg, .now_ms = clock_now_ms()};
    tc_err err;
    int ok = store_begin(txn.conn, &err) == 0;
    int n = 0;
    for (writer_cmd *c = batch; ok && c; c = c->next, n++) {
        run_one(&txn, c);
        if (!store_in_transaction(txn.conn)) {
            err = c->err;
            if (err.code == TC_OK)
                tc_err_set(&err, TC_INTERNAL, "the store ended the transaction");
            ok = 0;
        }
    }
    if (ok && store_commit(txn.conn, &err) != 0) {
        store_rollback(txn.conn);
        ok = 0;
    }
    if (!ok) {
        log_error("msg=\"batch failed\" error=\"%s\"", err.message);
        for (writer_cmd *c = batch; c; c = c->next) {
            c->failed = 1;
            tc_err_set(&c->err, TC_INTERNAL, "the change could not be stored: %s", err.message);
        }
    }
    w->batches++;
    w->commands += n;
    if (ok && txn.outbox_written) {
        /* Under the lock, so writer_set_after_commit(NULL) returns only
         * once no call is running: main relies on that to free the
         * dispatcher the hook points at. */
        pthread_mutex_lock(&w->lock);
        if (w->after_commit)
            w->after_commit(w->after_commit_arg);
        pthread_mutex_unlock(&w->lock);
    }
    /* Read next before posting: the poster's stack frame owns the command. */
    for (writer_cmd *c = batch, *next; c; c = next) {
        next = c->next;
        sem_post(&c->done);
    }
}

static int tick_cmd(writer_txn *txn, void *arg, tc_err *err) {
    writer *w = arg;
    return w->tick_fn(txn, w->tick_arg, err);
}

static void run_tick_if_due(writer *w) {
    if (!w->tick_fn || clock_mono_ms() < w->next_tick_ms)
        return;
    w->next_tick_ms = clock_mono_ms() + w->tick_interval_ms;
    writer_cmd c = {.fn = tick_cmd, .arg = w};
    sem_init(&c.done, 0, 0);
    run_batch(w, &c);
    sem_wait(&c.done);
    if (c.failed)
        log_error("msg=\"timer batch failed\" error=\"%s\"", c.err.message);
    sem_destroy(&c.done);
}

static writer_cmd *take_batch(writer *w) {
    writer_cmd *batch = w->head, *c = w->head;
    int n = 1;
    while (c->next && n < WRITER_MAX_BATCH) {
        c = c->next;
        n++;
    }
    w->head = c->next;
    if (!w->head)
        w->tail = NULL;
    c->next = NULL;
    return batch;
}

static void wait_for_work(writer *w) {
    if (!w->tick_fn) {
        pthread_cond_wait(&w->wake, &w->lock);
        return;
    }
    int64_t wait_ms = w->next_tick_ms - clock_mono_ms();
    if (wait_ms <= 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += wait_ms / 1000;
    ts.tv_nsec += (wait_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&w->wake, &w->lock, &ts);
}

static void *writer_main(void *arg) {
    writer *w = arg;
    pthread_setname_np(pthread_self(), "tocsin-writer");
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping && !(w->tick_fn && clock_mono_ms() >= w->next_tick_ms))
            wait_for_work(w);
        if (!w->head && w->stopping)
            break;
        writer_cmd *batch = w->head ? take_batch(w) : NULL;
        pthread_mutex_unlock(&w->lock);
        if (batch)
            run_batch(w, batch);
        run_tick_if_due(w);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int writer_new(store *st, const tc_config *cfg, writer **out, tc_err *err) {
    writer *w = calloc(1, sizeof(*w));
    if (!w)
        return tc_err_set(err, TC_INTERNAL, "writer: out of memory");
    w->st = st;
    w->cfg = cfg;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->wake);
        free(w);
        return tc_err_set(err, TC_INTERNAL, "writer: cannot start thread");
    }
    w->running = 1;
    *out = w;
    return 0;
}

void writer_free(writer *w) {
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w);
}

int writer_run(writer *w, writer_fn fn, void *arg, tc_err *err) {
    writer_cmd c = {.fn = fn, .arg = arg};
    sem_init(&c.done, 0, 0);
    pthread_mutex_lock(&w->lock);
    if (w->stopping) {
        pthread_mutex_unlock(&w->lock);
        sem_destroy(&c.done);
        return tc_err_set(err, TC_INTERNAL, "tocsin is shutting down");
    }
    if (w->tail)
        w->tail->next = &c;
    else
        w->head = &c;
    w->tail = &c;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    while (sem_wait(&c.done) != 0) {
    }
    sem_destroy(&c.done);
    if (c.failed) {
        *err = c.err;
        return -1;
    }
    return 0;
}

void writer_set_tick(writer *w, writer_fn fn, void *arg, int interval_ms) {
    pthread_mutex_lock(&w->lock);
    w->tick_fn = fn;
    w->tick_arg = arg;
    w->tick_interval_ms = interval_ms;
    w->next_tick_ms = clock_mono_ms() + interval_ms;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void writer_set_after_commit(writer *w, void (*fn)(void *arg), void *arg) {
    pthread_mutex_lock(&w->lock);
    w->after_commit = fn;
    w->after_commit_arg = arg;
    pthread_mutex_unlock(&w->lock);
}

int writer_is_running(writer *w) {
    return w && w->running;
}

void writer_stats(writer *w, int64_t *batches, int64_t *commands) {
    *batches = w->batches;
    *commands = w->commands;
}
