/* server.h: the HTTP front: libmicrohttpd, the envelope, routing.
 *
 * One thread per connection: handlers are plain blocking functions (a write
 * waits in writer_run for its batch to commit), and many connections waiting
 * at once is exactly what lets the writer group their commits. Stopping the
 * server closes the listening socket and lets requests in flight finish. */
#ifndef TOCSIN_HTTP_SERVER_H
#define TOCSIN_HTTP_SERVER_H

#include "core/app.h"
#include "util/err.h"

#define HTTP_MAX_BODY (1024 * 1024)

typedef struct http_server http_server;

/* Binds and listens on host:port (port 0: a free port) before any thread
 * starts, so that the configuration (base_url needs the real port) is
 * complete first. *port_out receives the port bound. */
int http_listen(const char *host, int port, int *fd_out, int *port_out, tc_err *err);

/* Serves on listen_fd (from http_listen), which the server then owns. */
int http_server_start(tc_app *app, int listen_fd, http_server **out, tc_err *err);
/* The port actually bound (useful with --listen HOST:0). */
int http_server_port(http_server *srv);
void http_server_stop(http_server *srv);

#endif
