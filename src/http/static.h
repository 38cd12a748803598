/* static.h: the web console's files (web/), embedded into the binary at
 * build time by cmake/embed_web.cmake and served for GET and HEAD.
 *
 * The console is a single page with hash routing (#/incidents ...), so the
 * server only ever serves real files: `/` is web/index.html, every other
 * path must name an embedded file, and anything else stays a 404 from the
 * API's own envelope (http/server.c asks here only for paths that are not
 * API routes). The console talks to tocsin through the public API alone. */
#ifndef TOCSIN_HTTP_STATIC_H
#define TOCSIN_HTTP_STATIC_H

#include <microhttpd.h>
#include <stddef.h>

typedef struct {
    const char *path;         /* "/index.html", "/js/app.js" */
    const char *content_type; /* with charset for text */
    const char *etag;         /* quoted hash of the content */
    const unsigned char *data;
    size_t len;
} static_file;

/* The generated table, ended by an entry whose path is NULL. */
extern const static_file static_files[];

/* The embedded file for a request path ("/" is "/index.html"; a query
 * string is not part of url), or NULL. */
const static_file *static_find(const char *url);

/* 1 for the methods static files answer (GET, HEAD). */
int static_method_ok(const char *method);

/* Queues the file's response (200, or 304 when the request's If-None-Match
 * names its ETag) with the console's security headers. MHD leaves the body
 * out of a HEAD answer by itself. */
enum MHD_Result static_serve(struct MHD_Connection *conn, const static_file *f);

#endif
