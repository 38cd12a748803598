/* workers.c: see workers.h. A mutex-protected FIFO and a condition
 * variable; tasks run in the order they were queued. */
#include "http/workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct task {
    void (*fn)(void *arg);
    void *arg;
    struct task *next;
} task;

struct http_workers {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    task *head, *tail;
    int stopping;
    int nthreads;
    pthread_t *threads;
};

static void *worker_main(void *arg) {
    http_workers *p = arg;
    pthread_setname_np(pthread_self(), "tocsin-api");
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->wake, &p->lock);
        task *t = p->head;
        if (!t)
            break; /* stopping, and nothing left */
        p->head = t->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        t->fn(t->arg);
        free(t);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int http_workers_new(int threads, http_workers **out, tc_err *err) {
    http_workers *p = calloc(1, sizeof(*p));
    if (!p || !(p->threads = calloc((size_t)threads, sizeof(*p->threads)))) {
        free(p);
        return tc_err_set(err, TC_INTERNAL, "http workers: out of memory");
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    for (; p->nthreads < threads; p->nthreads++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) != 0) {
            http_workers_free(p);
            return tc_err_set(err, TC_INTERNAL, "http workers: cannot start a thread");
        }
    }
    *out = p;
    return 0;
}

void http_workers_free(http_workers *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p);
}

int http_workers_submit(http_workers *p, void (*fn)(void *arg), void *arg) {
    task *t = malloc(sizeof(*t));
    if (!t)
        return -1;
    t->fn = fn;
    t->arg = arg;
    t->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        free(t);
        return -1;
    }
    if (p->tail)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return 0;
}
