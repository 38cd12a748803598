/* jw.h: a JSON writer for the hot path: appends compact JSON to a buffer.
 *
 * The webhook bodies of an alert storm are rendered on the writer thread,
 * one per subscribed event; building a jansson tree and dumping it cost
 * about as much as the rest of the event (bench/BENCHMARKS.md). This
 * writer appends straight to one buffer, and its output is byte for byte
 * what json_dumps(JSON_COMPACT) prints for the same members in the same
 * order (strings escaped as jansson escapes them, integers in decimal), so
 * receivers, templates and tests see no difference.
 *
 * Errors are sticky: once an allocation fails every call is a no-op and
 * jw_take returns NULL; callers check once, at the end. */
#ifndef TOCSIN_JW_H
#define TOCSIN_JW_H

#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 16

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
    int depth;
    unsigned char first[JW_MAX_DEPTH]; /* no member written yet at this depth */
    int after_key;                     /* a key was written: its value comes next */
} jw;

void jw_init(jw *w);
void jw_clear(jw *w);
/* The text (NUL-terminated, caller frees) or NULL when anything failed or
 * the document is not closed; the writer is left empty either way. */
char *jw_take(jw *w, size_t *len);

void jw_object_begin(jw *w);
void jw_object_end(jw *w);
void jw_array_begin(jw *w);
void jw_array_end(jw *w);
/* The key of the next member of the current object. */
void jw_key(jw *w, const char *key);

void jw_string(jw *w, const char *s); /* NULL writes "" */
void jw_int(jw *w, int64_t v);
void jw_bool(jw *w, int v);
void jw_null(jw *w);
/* Text that is already JSON (a stored labels object, say); NULL or "" write
 * `fallback` ("{}", "[]"). The caller vouches that it is valid JSON in
 * jansson's compact form. */
void jw_raw(jw *w, const char *json, const char *fallback);

/* key + value in one call, for the common members. */
void jw_kstring(jw *w, const char *key, const char *s);
void jw_kint(jw *w, const char *key, int64_t v);
void jw_kraw(jw *w, const char *key, const char *json, const char *fallback);

#endif
