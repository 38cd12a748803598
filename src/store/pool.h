/* pool.h: a store's reader connections, handed out to one caller at a
 * time and waited for when all are out. Both engines (store_sqlite.c,
 * store_pg.c) keep theirs in one; what a connection is stays theirs. */
#ifndef TOCSIN_STORE_POOL_H
#define TOCSIN_STORE_POOL_H

#include <pthread.h>

#include "store/store_engine.h"

typedef struct {
    store_conn **conns; /* n of them, filled by the engine after init */
    int *free;
    int n;
    int ready; /* init succeeded: the lock and arrays exist */
    pthread_mutex_t lock;
    pthread_cond_t available;
} store_pool;

/* n slots, none handed out; -1 out of memory. */
int store_pool_init(store_pool *p, int n);
/* Frees the slots, not the connections (the engine closes them first).
 * Safe on a zeroed pool. */
void store_pool_clear(store_pool *p);
store_conn *store_pool_acquire(store_pool *p);
void store_pool_release(store_pool *p, store_conn *conn);

#endif
