/* jbuild.c: see jbuild.h: jansson's allocator, watched, and parsing and
 * encoding through it. */
#include "util/jbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set when one of jansson's allocations on this thread failed; each parse
 * or encoding clears it first. */
static _Thread_local int jansson_failed;

static void *watched_malloc(size_t n) {
    void *p = malloc(n);
    if (!p)
        jansson_failed = 1;
    return p;
}

/* Before main: every allocation jansson makes, in any thread, is watched. */
__attribute__((constructor)) static void watch_jansson(void) {
    json_set_alloc_funcs(watched_malloc, free);
}

/* Set while this thread is inside jansson's parser (jb_parsing). */
static _Thread_local int parsing;

int jb_parsing(void) {
    return parsing;
}

json_t *jb_loadb(const char *buf, size_t len, size_t flags, json_error_t *error, int *oom) {
    jansson_failed = 0;
    parsing = 1;
    json_t *v = json_loadb(buf, len, flags, error);
    parsing = 0;
    int failed = jansson_failed;
    if (failed) {
        /* Parsed, perhaps, but not necessarily from the text as written. */
        json_decref(v);
        v = NULL;
        if (error)
            snprintf(error->text, sizeof(error->text), "out of memory");
    }
    if (oom)
        *oom = failed;
    return v;
}

typedef struct {
    char *text;
    size_t len, cap;
    int failed; /* sticky: jansson ignores some of this callback's failures */
} dump_buf;

static int dump_add(const char *data, size_t n, void *arg) {
    dump_buf *b = arg;
    if (b->failed)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->text, cap);
        if (!grown) {
            b->failed = 1;
            return -1;
        }
        b->text = grown;
        b->cap = cap;
    }
    memcpy(b->text + b->len, data, n);
    b->len += n;
    b->text[b->len] = '\0';
    return 0;
}

char *jb_dumps(const json_t *json, size_t flags) {
    dump_buf b = {0};
    jansson_failed = 0;
    if (json_dump_callback(json, dump_add, &b, flags) != 0 || b.failed || jansson_failed ||
        !b.text) {
        free(b.text);
        return NULL;
    }
    return b.text;
}
