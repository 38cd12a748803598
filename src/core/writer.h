/* writer.h: the one thread that changes state (group commit).
 *
 * Every state change is a command: a function run on the writer thread
 * against the writer's store connection. The writer takes every command
 * waiting, runs them in one transaction, commits once, and only once that
 * commit is durable reports each command's outcome. A command therefore
 * never looks accepted before it is durable, and domain events written by a
 * command are stored with the change that caused them or not at all.
 *
 * Durability is pipelined: the COMMIT returns without an fsync and the
 * batch goes to the writer's sync thread, which makes it durable
 * (store_sync: one fdatasync for every batch committed meanwhile) and then
 * completes its commands. The writer is already running the next batch, so
 * the disk's latency costs the writer no CPU time and one fsync serves as
 * many batches as arrive while it runs.
 *
 * A command either cannot fail after its first write (flag
 * WRITER_NO_SAVEPOINT: it decides everything first, then writes), or runs
 * inside a SAVEPOINT of its own so that its failure undoes only itself.
 * Commands must change nothing outside the store but the writer's cache
 * (core/state.h), whose changes the writer undoes with a failed command or
 * batch: if the commit fails, every command of the batch fails with
 * InternalError and the store and the cache are as before. */
#ifndef TOCSIN_WRITER_H
#define TOCSIN_WRITER_H

#include <stdint.h>

#include "core/config.h"
#include "store/store.h"
#include "util/err.h"

typedef struct writer writer;
struct tc_state;
struct outbox_delivery;

/* What a command sees while it runs. */
typedef struct {
    store_conn *conn;
    const tc_config *cfg;
    int64_t now_ms;         /* one clock reading per batch: all its changes share it */
    struct tc_state *state; /* the writer's cache (core/state.h); NULL when none is set */
    /* Pushes written in this batch (outbox.h), newest first: handed to
     * delivery once the batch is durable, dropped with a failed command. */
    struct outbox_delivery *deliveries;
    int outbox_written;  /* set by the fan-out: wake delivery after the commit */
    int64_t outbox_high; /* the highest delivery id the batch wrote */
} writer_txn;

typedef int (*writer_fn)(writer_txn *txn, void *arg, tc_err *err);

/* The command never fails after its first write: no SAVEPOINT around it. */
#define WRITER_NO_SAVEPOINT 1u

typedef struct writer_job writer_job;
/* Called exactly once per submitted job: on the sync thread once the batch
 * is durable, or on whichever thread learns first that it failed. */
typedef void (*writer_done_fn)(writer_job *job);

/* A command submitted without waiting. The caller owns the memory and must
 * keep it alive until `done` is called. */
struct writer_job {
    writer_fn fn;
    void *arg;
    unsigned flags;
    writer_done_fn done;
    void *done_arg;
    /* Filled by the writer before `done`. */
    int failed;
    tc_err err;
    writer_job *next; /* the writer's */
};

int writer_new(store *st, const tc_config *cfg, writer **out, tc_err *err);
/* Stops taking commands, runs, commits and syncs what is queued, joins. */
void writer_free(writer *w);

/* Queues job; its `done` runs when it is durable or has failed. */
void writer_submit(writer *w, writer_job *job);

/* Runs fn(arg) on the writer thread and waits until its batch is durable.
 * Returns 0, or -1 with *err from fn (nothing of fn kept) or InternalError
 * when the commit or the sync failed (nothing of the batch kept, or its
 * durability unknown: see writer_is_running). */
int writer_run(writer *w, writer_fn fn, void *arg, tc_err *err);
/* writer_run for a command that never fails after its first write. */
int writer_run_flags(writer *w, writer_fn fn, void *arg, unsigned flags, tc_err *err);

/* A function the writer calls in a batch of its own every `interval_ms`
 * (snooze expiry, replay steps, pruning). Set before any command. */
void writer_set_tick(writer *w, writer_fn fn, void *arg, int interval_ms);

/* Called on the sync thread after batches that wrote outbox rows are
 * durable (never for a failed batch): how delivery learns of new work. It
 * gets the pushes those batches wrote (oldest first; it owns the list) and
 * the highest delivery id they wrote (later ids may be committed, not yet
 * durable). It runs under the writer's queue lock: it must be quick and
 * must not call writer_run. Setting NULL waits for a call in progress to
 * end; with no hook the pushes are dropped (the store still has them). */
void writer_set_after_commit(writer *w,
                             void (*fn)(void *arg, int64_t outbox_high,
                                        struct outbox_delivery *deliveries),
                             void *arg);

/* The writer's cache (core/state.h): each command's changes to it are
 * undone with the command, and the whole batch's with the batch. Set
 * before any command; the writer does not own it. The first batch after
 * this fills it from the store; on PostgreSQL each batch first brings it
 * up to date with what other nodes changed since this node's last batch
 * (docs/ARCHITECTURE.md, "Several nodes"). */
void writer_set_state(writer *w, struct tc_state *state);
/* Called (on the writer thread, inside a batch) when another node changed
 * configuration: the dispatcher reads its targets again. Set before any
 * command. */
void writer_set_config_hook(writer *w, void (*fn)(void *arg), void *arg);

/* True once the thread runs and while every commit has been made durable;
 * false after a failed sync (tocsin must be restarted): what /healthz
 * reports. */
int writer_is_running(writer *w);

/* Batches and commands committed so far (for tests and /metrics). */
void writer_stats(writer *w, int64_t *batches, int64_t *commands);

/* Runs fn(txn, id, one) in a SAVEPOINT of its own, for the timer tick's
 * jobs that act on many items (snooze expiry, escalation steps): one item
 * that fails is undone whole (its writes, its marks in the writer's cache,
 * its pushes) while the others go on. Returns 0 when fn succeeded, 1 when
 * it failed and was undone (its error in *one), -1 when the batch cannot
 * go on (err set: the savepoint itself failed, so the item's changes may
 * be half made). */
int writer_try_item(writer_txn *txn, int (*fn)(writer_txn *, const char *, tc_err *),
                    const char *id, tc_err *one, tc_err *err);

#endif
