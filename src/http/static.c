/* static.c: see static.h.
 *
 * Every file goes out with headers that hold the console to its rules:
 * a Content-Security-Policy allowing only tocsin's own scripts, styles and
 * API (no inline script, no CDN, no framing), nosniff so a file is only
 * ever read as its declared type, and Cache-Control no-cache with an ETag,
 * so a browser revalidates and a new binary's console is picked up at once
 * while an unchanged file costs a 304. */
#include "http/static.h"

#include <string.h>

#define STATIC_CSP                                                                                 \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "                 \
    "frame-ancestors 'none'"

const static_file *static_find(const char *url) {
    if (!url || url[0] != '/')
        return NULL;
    if (strcmp(url, "/") == 0)
        url = "/index.html";
    for (const static_file *f = static_files; f->path; f++) {
        if (strcmp(f->path, url) == 0)
            return f;
    }
    return NULL;
}

int static_method_ok(const char *method) {
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* If-None-Match may list several tags ("a", "b") or be "*". */
static int etag_matches(const char *header, const char *etag) {
    if (!header)
        return 0;
    if (strcmp(header, "*") == 0)
        return 1;
    return strstr(header, etag) != NULL;
}

static void add_headers(struct MHD_Response *resp, const static_file *f) {
    MHD_add_response_header(resp, "Content-Type", f->content_type);
    MHD_add_response_header(resp, "ETag", f->etag);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "Content-Security-Policy", STATIC_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

enum MHD_Result static_serve(struct MHD_Connection *conn, const static_file *f) {
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    int unchanged = etag_matches(inm, f->etag);
    /* The bytes live in the binary for its whole life: no copy. */
    struct MHD_Response *resp =
        unchanged
            ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
            : MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    add_headers(resp, f);
    enum MHD_Result r =
        MHD_queue_response(conn, unchanged ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r;
}
