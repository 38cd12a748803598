/* writer.h: the one thread that changes state (group commit).
 *
 * Every state change is a command: a function run on the writer thread
 * against the writer's store connection. The writer takes every command
 * waiting, runs each inside its own SAVEPOINT (so a failing command undoes
 * only itself), commits the whole batch once (one fsync for many requests),
 * and only then reports each command's outcome. A command therefore never
 * looks accepted before it is durable, and domain events written by a command
 * are stored with the change that caused them or not at all.
 *
 * Commands must change nothing outside the store: if the batch's commit
 * fails, every command in it fails with InternalError and the store is as
 * before. */
#ifndef TOCSIN_WRITER_H
#define TOCSIN_WRITER_H

#include <stdint.h>

#include "core/config.h"
#include "store/store.h"
#include "util/err.h"

typedef struct writer writer;

/* What a command sees while it runs. */
typedef struct {
    store_conn *conn;
    const tc_config *cfg;
    int64_t now_ms;     /* one clock reading per batch: all its changes share it */
    int outbox_written; /* set by the fan-out: wake delivery after the commit */
} writer_txn;

typedef int (*writer_fn)(writer_txn *txn, void *arg, tc_err *err);

int writer_new(store *st, const tc_config *cfg, writer **out, tc_err *err);
/* Stops taking commands, runs and commits what is queued, joins the thread. */
void writer_free(writer *w);

/* Runs fn(arg) on the writer thread and waits until its batch has committed.
 * Returns 0, or -1 with *err from fn (nothing of fn kept) or InternalError
 * when the commit failed (nothing of the batch kept). */
int writer_run(writer *w, writer_fn fn, void *arg, tc_err *err);

/* A function the writer calls in a batch of its own every `interval_ms`
 * (snooze expiry, and later retries and pruning). Set before any command. */
void writer_set_tick(writer *w, writer_fn fn, void *arg, int interval_ms);

/* Called on the writer thread after a batch that wrote outbox rows has
 * committed (never for a failed batch): how delivery learns of new work.
 * It runs under the writer's queue lock: it must be quick and must not
 * call writer_run. Setting NULL waits for a call in progress to end. */
void writer_set_after_commit(writer *w, void (*fn)(void *arg), void *arg);

/* True once the thread runs and the store is open: what /healthz reports. */
int writer_is_running(writer *w);

/* Batches and commands committed so far (for tests and /metrics). */
void writer_stats(writer *w, int64_t *batches, int64_t *commands);

#endif
