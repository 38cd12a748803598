/* writer.c: see writer.h.
 *
 * Two threads. tocsin-writer takes the queued commands, runs a batch in one
 * transaction and commits it (WAL frames written, no fsync), then hands the
 * batch's jobs to tocsin-sync and goes on with the next. tocsin-sync makes
 * every job handed to it durable with one store_sync and only then
 * completes them and wakes delivery. Jobs reach tocsin-sync in commit order
 * and are completed in that order. Nothing on this path allocates, so a
 * committed batch cannot fail to be answered.
 *
 * Invariants relied on elsewhere:
 *   - a job's `done` runs after its batch is durable, or after it failed;
 *     never before, never twice;
 *   - the after-commit hook (delivery) never hears of a batch that is not
 *     durable, so nothing is pushed that a crash could take back. */
#include "core/writer.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "core/outbox.h"
#include "core/state.h"
#include "store/cluster.h"
#include "util/clock.h"
#include "util/log.h"

#define WRITER_MAX_BATCH 4096

struct writer {
    store *st;
    const tc_config *cfg;
    pthread_t thread, sync_thread;
    int thread_started, sync_started;
    /* The command queue, and what the writer thread is told. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    writer_job *head, *tail;
    int stopping;
    void (*after_commit)(void *arg, int64_t outbox_high, outbox_delivery *deliveries);
    void *after_commit_arg;
    tc_state *state;
    writer_fn tick_fn;
    void *tick_arg;
    int tick_interval_ms;
    int64_t next_tick_ms;
    /* Jobs of committed batches waiting for their sync (tocsin-sync's
     * queue, in commit order), and what delivery is to hear once they are
     * durable. Linked through the jobs themselves: handing a batch over
     * allocates nothing, so it cannot fail. */
    pthread_mutex_t sync_lock;
    pthread_cond_t sync_wake;
    writer_job *sync_head, *sync_tail;
    int sync_outbox;                  /* a queued batch wrote outbox rows */
    int64_t sync_high;                /* the highest delivery id among them */
    outbox_delivery *sync_deliveries; /* their pushes, oldest first */
    outbox_delivery **sync_deliveries_tail;
    int sync_stop;
    /* The timer's own job: one in flight at a time, never allocated. */
    writer_job tick_job;
    _Atomic int tick_busy;
    _Atomic int running, broken;
    _Atomic int64_t batches, commands;
    store_batch batch; /* the open batch's clock, ids and changes (store.h) */
    /* The cache (state) follows the store: loaded is 0 until the first
     * batch fills it (or after a catch-up failed); seen_seq is the cluster
     * clock it reflects (PostgreSQL). */
    int state_loaded;
    int64_t seen_seq;
    void (*config_hook)(void *arg);
    void *config_hook_arg;
};

/* ---- running a batch ------------------------------------------------- */

/* Runs one command. A failed command's changes are undone: its SAVEPOINT
 * in the store, its marks in the writer's cache, its pushes in the batch.
 * Returns -1 when the batch cannot go on: a failed command's writes could
 * not be undone (its ROLLBACK TO failed, so they would be committed with
 * the others while its caller hears it failed). */
static int run_one(writer_txn *txn, writer_job *j, tc_err *batch_err) {
    tc_err_clear(&j->err);
    j->failed = 0;
    size_t mark = txn->state ? state_mark(txn->state) : 0;
    outbox_delivery *pushes = txn->deliveries;
    if (j->flags & WRITER_NO_SAVEPOINT) {
        j->failed = j->fn(txn, j->arg, &j->err) != 0;
    } else if (store_run_sql(txn->conn, "SAVEPOINT cmd", &j->err) != 0) {
        j->failed = 1;
    } else {
        tc_err scratch;
        /* On PostgreSQL the command's statements are only sent so far:
         * store_check waits for them, so that one that failed fails this
         * command alone. */
        if (j->fn(txn, j->arg, &j->err) != 0 || store_check(txn->conn, &j->err) != 0) {
            j->failed = 1;
            if (store_run_sql(txn->conn, "ROLLBACK TO cmd", batch_err) != 0)
                return -1;
        }
        if (store_run_sql(txn->conn, "RELEASE cmd", &scratch) != 0 && !j->failed) {
            j->failed = 1;
            j->err = scratch;
        }
    }
    if (j->failed) {
        if (txn->state)
            state_undo_to(txn->state, mark);
        outbox_deliveries_drop_to(txn, pushes);
    }
    return 0;
}

int writer_try_item(writer_txn *txn, int (*fn)(writer_txn *, const char *, tc_err *),
                    const char *id, tc_err *one, tc_err *err) {
    if (store_run_sql(txn->conn, "SAVEPOINT item", err) != 0)
        return -1;
    size_t mark = txn->state ? state_mark(txn->state) : 0;
    outbox_delivery *pushes = txn->deliveries;
    int failed = fn(txn, id, one) != 0;
    if (failed) {
        if (store_run_sql(txn->conn, "ROLLBACK TO item", err) != 0)
            return -1;
        if (txn->state)
            state_undo_to(txn->state, mark);
        outbox_deliveries_drop_to(txn, pushes);
    }
    return store_run_sql(txn->conn, "RELEASE item", err) != 0 ? -1 : failed;
}

static void fail_jobs(writer_job *jobs, const char *why, const char *detail) {
    for (writer_job *j = jobs; j; j = j->next) {
        j->failed = 1;
        tc_err_set(&j->err, TC_INTERNAL, "%s: %s", why, detail);
    }
}

/* Completes jobs in order. Reads next first: `done` may free the job. */
static void complete_jobs(writer_job *jobs) {
    for (writer_job *j = jobs, *next; j; j = next) {
        next = j->next;
        j->done(j);
    }
}

/* Runs a batch in one transaction and commits it, or fails it whole.
 *
 * Invariant: a command is answered success only if its changes are in the
 * committed transaction. A store error (disk full, I/O error) can make
 * SQLite roll the whole transaction back inside a command; the commands
 * before it are then undone, and a next SAVEPOINT would silently open a
 * new autocommit transaction. So the batch stops there and fails whole:
 * every caller gets InternalError, nothing is half-stored, and the next
 * batch starts clean. A command that fails without a savepoint (which its
 * flag promised could not happen after a write) also fails the batch. */
/* What a committed batch hands to tocsin-sync. */
typedef struct {
    int outbox_written;
    int64_t outbox_high;
    outbox_delivery *deliveries; /* oldest first */
} batch_result;

/* Reverses the newest-first list of a batch's pushes. */
static outbox_delivery *oldest_first(outbox_delivery *d) {
    outbox_delivery *out = NULL;
    while (d) {
        outbox_delivery *next = d->next;
        d->next = out;
        out = d;
        d = next;
    }
    return out;
}

/* ---- the cache and other nodes ------------------------------------------ */

/* More changes than this since our last batch: reading the whole cache
 * again is cheaper than following them one by one. */
#define CATCH_UP_MAX 20000

static int reload_state(writer *w, store_conn *c, tc_err *err) {
    state_reset(w->state);
    return state_load(w->state, c, err);
}

/* Brings the cache to what the store holds as this batch begins (under
 * the clock's lock: nothing changes while the batch runs). With one node
 * (SQLite, or no other writer since) there is nothing to read. */
static int catch_up(writer *w, store_conn *c, tc_err *err) {
    const store_batch *b = &w->batch;
    int rc = 0, config = 0;
    if (!w->state_loaded || (b->track_changes && b->pruned_seq > w->seen_seq)) {
        rc = reload_state(w, c, err);
        config = 1;
    } else if (b->track_changes && b->seq != w->seen_seq) {
        store_change *changes = NULL;
        size_t n = 0;
        int more = 0;
        rc = store_cluster_changes(c, w->seen_seq, b->seq, CATCH_UP_MAX, &changes, &n, &more, err);
        if (rc == 0 && more) {
            rc = reload_state(w, c, err);
            config = 1;
        } else if (rc == 0) {
            rc = state_refresh(w->state, changes, n, err);
            for (size_t i = 0; i < n && !config; i++)
                config = changes[i].kind == 'c';
        }
        store_changes_free(changes, n);
    }
    /* A catch-up that failed half way leaves the cache unknown: the next
     * batch reads it whole. */
    w->state_loaded = rc == 0;
    if (rc == 0) {
        w->seen_seq = b->seq;
        if (config && b->track_changes) {
            pthread_mutex_lock(&w->lock);
            void (*fn)(void *) = w->config_hook;
            void *arg = w->config_hook_arg;
            pthread_mutex_unlock(&w->lock);
            if (fn)
                fn(arg);
        }
    }
    return rc;
}

static int run_batch(writer *w, writer_job *batch, batch_result *res) {
    writer_txn txn = {
        .conn = store_writer(w->st), .cfg = w->cfg, .now_ms = clock_now_ms(), .state = w->state};
    tc_err err;
    memset(res, 0, sizeof(*res));
    if (w->broken) {
        fail_jobs(batch, "the change could not be stored",
                  "an earlier commit could not be made durable; restart tocsin");
        return -1;
    }
    size_t mark = w->state ? state_mark(w->state) : 0;
    int ok = store_batch_begin(txn.conn, &w->batch, &err) == 0;
    if (ok && w->state && catch_up(w, txn.conn, &err) != 0)
        ok = 0;
    int n = 0;
    for (writer_job *j = batch; ok && j; j = j->next, n++) {
        if (run_one(&txn, j, &err) != 0) {
            ok = 0;
            break;
        }
        if (!store_in_transaction(txn.conn) ||
            (j->failed && (j->flags & WRITER_NO_SAVEPOINT) && j->err.code == TC_INTERNAL)) {
            err = j->err;
            if (err.code == TC_OK)
                tc_err_set(&err, TC_INTERNAL, "the store ended the transaction");
            ok = 0;
        }
    }
    /* Other nodes' caches follow this one's as the batch leaves it. */
    if (ok && w->state && w->batch.track_changes &&
        state_change_records(w->state, &w->batch, &err) != 0)
        ok = 0;
    if (ok && store_batch_commit(txn.conn, &w->batch, &err) != 0)
        ok = 0;
    if (!ok) {
        store_rollback(txn.conn);
        log_error("msg=\"batch failed\" error=\"%s\"", err.message);
        fail_jobs(batch, "the change could not be stored", err.message);
        if (w->state)
            state_undo_to(w->state, mark);
        outbox_deliveries_free(txn.deliveries);
        return -1;
    }
    if (w->state)
        state_commit(w->state);
    w->seen_seq = w->batch.committed_seq;
    w->batches++;
    w->commands += n;
    res->outbox_written = txn.outbox_written;
    res->outbox_high = txn.outbox_high;
    res->deliveries = oldest_first(txn.deliveries);
    return 0;
}

/* ---- making batches durable (tocsin-sync) ------------------------------ */

/* Queues a committed batch's jobs and pushes for tocsin-sync. */
static void sync_enqueue(writer *w, writer_job *jobs, batch_result *res) {
    writer_job *last = jobs;
    while (last->next)
        last = last->next;
    pthread_mutex_lock(&w->sync_lock);
    if (w->sync_tail)
        w->sync_tail->next = jobs;
    else
        w->sync_head = jobs;
    w->sync_tail = last;
    w->sync_outbox |= res->outbox_written;
    if (res->outbox_high > w->sync_high)
        w->sync_high = res->outbox_high;
    if (res->deliveries) {
        *w->sync_deliveries_tail = res->deliveries;
        outbox_delivery *d = res->deliveries;
        while (d->next)
            d = d->next;
        w->sync_deliveries_tail = &d->next;
    }
    pthread_cond_signal(&w->sync_wake);
    pthread_mutex_unlock(&w->sync_lock);
}

/* One store_sync for every job taken; then they complete, in commit order,
 * and delivery hears of the new outbox rows. A failed sync leaves
 * durability unknown: the jobs are answered InternalError and the writer
 * refuses every later batch (PostgreSQL likewise stops on a failed fsync:
 * the kernel may have dropped the pages it could not write). */
static void sync_jobs(writer *w, writer_job *jobs, batch_result *res) {
    tc_err err;
    int ok = !w->broken && store_sync(w->st, &err) == 0;
    if (!ok && !w->broken) {
        w->broken = 1;
        log_error("msg=\"commit not durable; refusing changes until restart\" error=\"%s\"",
                  err.message);
    }
    if (!ok) {
        fail_jobs(jobs, "the change may not be durable", "the store could not sync");
    } else if (res->outbox_written) {
        /* Under the lock, so writer_set_after_commit(NULL) returns only
         * once no call is running: main relies on that to free the
         * dispatcher the hook points at. */
        pthread_mutex_lock(&w->lock);
        if (w->after_commit) {
            w->after_commit(w->after_commit_arg, res->outbox_high, res->deliveries);
            res->deliveries = NULL;
        }
        pthread_mutex_unlock(&w->lock);
    }
    outbox_deliveries_free(res->deliveries);
    complete_jobs(jobs);
}

static void *sync_main(void *arg) {
    writer *w = arg;
    pthread_setname_np(pthread_self(), "tocsin-sync");
    pthread_mutex_lock(&w->sync_lock);
    for (;;) {
        while (!w->sync_head && !w->sync_stop)
            pthread_cond_wait(&w->sync_wake, &w->sync_lock);
        writer_job *jobs = w->sync_head;
        batch_result res = {.outbox_written = w->sync_outbox,
                            .outbox_high = w->sync_high,
                            .deliveries = w->sync_deliveries};
        w->sync_head = w->sync_tail = NULL;
        w->sync_outbox = 0;
        w->sync_deliveries = NULL;
        w->sync_deliveries_tail = &w->sync_deliveries;
        if (!jobs)
            break; /* stopping, and nothing left */
        pthread_mutex_unlock(&w->sync_lock);
        sync_jobs(w, jobs, &res);
        pthread_mutex_lock(&w->sync_lock);
    }
    pthread_mutex_unlock(&w->sync_lock);
    return NULL;
}

/* A committed batch goes to tocsin-sync; a failed one completes now. */
static void finish_batch(writer *w, writer_job *jobs, int committed, batch_result *res) {
    if (committed)
        sync_enqueue(w, jobs, res);
    else
        complete_jobs(jobs);
}

/* ---- the writer thread -------------------------------------------------- */

static void tick_done(writer_job *j) {
    writer *w = j->done_arg;
    if (j->failed)
        log_error("msg=\"timer batch failed\" error=\"%s\"", j->err.message);
    w->tick_busy = 0;
}

static int tick_cmd(writer_txn *txn, void *arg, tc_err *err) {
    writer *w = arg;
    return w->tick_fn(txn, w->tick_arg, err);
}

/* The timer's batch. Skipped while the previous one is still syncing: the
 * next tick does what this one would have. */
static void run_tick_if_due(writer *w) {
    if (!w->tick_fn || clock_mono_ms() < w->next_tick_ms || w->tick_busy)
        return;
    w->next_tick_ms = clock_mono_ms() + w->tick_interval_ms;
    writer_job *j = &w->tick_job;
    memset(j, 0, sizeof(*j));
    j->fn = tick_cmd;
    j->arg = w;
    j->done = tick_done;
    j->done_arg = w;
    w->tick_busy = 1;
    batch_result res;
    int committed = run_batch(w, j, &res) == 0;
    finish_batch(w, j, committed, &res);
}

static writer_job *take_batch(writer *w) {
    writer_job *batch = w->head, *j = w->head;
    int n = 1;
    while (j->next && n < WRITER_MAX_BATCH) {
        j = j->next;
        n++;
    }
    w->head = j->next;
    if (!w->head)
        w->tail = NULL;
    j->next = NULL;
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
        writer_job *batch = w->head ? take_batch(w) : NULL;
        pthread_mutex_unlock(&w->lock);
        if (batch) {
            batch_result res;
            int committed = run_batch(w, batch, &res) == 0;
            finish_batch(w, batch, committed, &res);
        }
        run_tick_if_due(w);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* ---- life cycle and submission -------------------------------------------- */

static void writer_destroy(writer *w) {
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->sync_lock);
    pthread_cond_destroy(&w->sync_wake);
    store_batch_clear(&w->batch);
    free(w);
}

int writer_new(store *st, const tc_config *cfg, writer **out, tc_err *err) {
    writer *w = calloc(1, sizeof(*w));
    if (!w)
        return tc_err_set(err, TC_INTERNAL, "writer: out of memory");
    w->st = st;
    w->cfg = cfg;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_mutex_init(&w->sync_lock, NULL);
    pthread_cond_init(&w->sync_wake, NULL);
    w->sync_deliveries_tail = &w->sync_deliveries;
    if (pthread_create(&w->sync_thread, NULL, sync_main, w) != 0) {
        writer_destroy(w);
        return tc_err_set(err, TC_INTERNAL, "writer: cannot start the sync thread");
    }
    w->sync_started = 1;
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        writer_free(w);
        return tc_err_set(err, TC_INTERNAL, "writer: cannot start thread");
    }
    w->thread_started = 1;
    w->running = 1;
    *out = w;
    return 0;
}

void writer_free(writer *w) {
    if (!w)
        return;
    if (w->thread_started) {
        pthread_mutex_lock(&w->lock);
        w->stopping = 1;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
    }
    /* After the writer thread: every batch it committed is queued. */
    if (w->sync_started) {
        pthread_mutex_lock(&w->sync_lock);
        w->sync_stop = 1;
        pthread_cond_signal(&w->sync_wake);
        pthread_mutex_unlock(&w->sync_lock);
        pthread_join(w->sync_thread, NULL);
    }
    writer_destroy(w);
}

void writer_submit(writer *w, writer_job *job) {
    job->next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->stopping) {
        pthread_mutex_unlock(&w->lock);
        job->failed = 1;
        tc_err_set(&job->err, TC_INTERNAL, "tocsin is shutting down");
        job->done(job);
        return;
    }
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

typedef struct {
    writer_job job;
    sem_t done;
} blocking_job;

static void blocking_done(writer_job *job) {
    sem_post(&((blocking_job *)job)->done);
}

int writer_run_flags(writer *w, writer_fn fn, void *arg, unsigned flags, tc_err *err) {
    blocking_job b = {.job = {.fn = fn, .arg = arg, .flags = flags, .done = blocking_done}};
    sem_init(&b.done, 0, 0);
    writer_submit(w, &b.job);
    while (sem_wait(&b.done) != 0) {
    }
    sem_destroy(&b.done);
    if (b.job.failed) {
        *err = b.job.err;
        return -1;
    }
    return 0;
}

int writer_run(writer *w, writer_fn fn, void *arg, tc_err *err) {
    return writer_run_flags(w, fn, arg, 0, err);
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

void writer_set_after_commit(
    writer *w, void (*fn)(void *arg, int64_t outbox_high, outbox_delivery *deliveries), void *arg) {
    pthread_mutex_lock(&w->lock);
    w->after_commit = fn;
    w->after_commit_arg = arg;
    pthread_mutex_unlock(&w->lock);
}

void writer_set_state(writer *w, tc_state *state) {
    pthread_mutex_lock(&w->lock);
    w->state = state;
    w->state_loaded = 0;
    pthread_mutex_unlock(&w->lock);
}

void writer_set_config_hook(writer *w, void (*fn)(void *arg), void *arg) {
    pthread_mutex_lock(&w->lock);
    w->config_hook = fn;
    w->config_hook_arg = arg;
    pthread_mutex_unlock(&w->lock);
}

int writer_is_running(writer *w) {
    return w && w->running && !w->broken;
}

void writer_stats(writer *w, int64_t *batches, int64_t *commands) {
    *batches = w->batches;
    *commands = w->commands;
}
