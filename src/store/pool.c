/* pool.c: see pool.h. */
#include "store/pool.h"

#include <stdlib.h>

int store_pool_init(store_pool *p, int n) {
    p->n = n > 0 ? n : 1;
    p->conns = calloc((size_t)p->n, sizeof(*p->conns));
    p->free = calloc((size_t)p->n, sizeof(*p->free));
    if (!p->conns || !p->free) {
        free(p->conns);
        free(p->free);
        p->conns = NULL;
        p->free = NULL;
        p->n = 0;
        return -1;
    }
    for (int i = 0; i < p->n; i++)
        p->free[i] = 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->available, NULL);
    p->ready = 1;
    return 0;
}

void store_pool_clear(store_pool *p) {
    if (!p->ready)
        return;
    free(p->conns);
    free(p->free);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->available);
    p->ready = 0;
    p->n = 0;
}

store_conn *store_pool_acquire(store_pool *p) {
    pthread_mutex_lock(&p->lock);
    for (;;) {
        for (int i = 0; i < p->n; i++) {
            if (p->free[i]) {
                p->free[i] = 0;
                pthread_mutex_unlock(&p->lock);
                return p->conns[i];
            }
        }
        pthread_cond_wait(&p->available, &p->lock);
    }
}

void store_pool_release(store_pool *p, store_conn *conn) {
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->n; i++) {
        if (p->conns[i] == conn)
            p->free[i] = 1;
    }
    pthread_cond_signal(&p->available);
    pthread_mutex_unlock(&p->lock);
}
