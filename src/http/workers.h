/* workers.h: a fixed pool of threads for the API calls that block.
 *
 * Open API handlers are plain blocking functions: they read the store and
 * wait in writer_run for their commit. The HTTP front's epoll threads must
 * never wait, so such a call runs here, its connection suspended, and
 * resumes it when done. A queue in front of the pool absorbs bursts: the
 * pool bounds how many such calls run at once, never how many may wait. */
#ifndef TOCSIN_HTTP_WORKERS_H
#define TOCSIN_HTTP_WORKERS_H

#include "util/err.h"

typedef struct http_workers http_workers;

int http_workers_new(int threads, http_workers **out, tc_err *err);
/* Runs every task queued, then joins the threads. NULL is a no-op. */
void http_workers_free(http_workers *p);

/* Queues fn(arg). -1 (nothing queued) once the pool is stopping or when
 * out of memory. */
int http_workers_submit(http_workers *p, void (*fn)(void *arg), void *arg);

#endif
