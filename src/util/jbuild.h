/* jbuild.h: JSON built whole or not at all.
 *
 * Every jansson constructor and setter can fail (out of memory), and
 * json_object_set_new / json_array_append_new consume their value even
 * then. Checking each call would bury the code, and leaving one unchecked
 * silently drops a key or an item: an answer or a stored document shorter
 * than it should be. So a function builds through these steps, which record
 * any failure in a flag (a NULL value counts: the constructor that made it
 * failed), and checks the flag once at the end (jb_done). Each step consumes
 * the value it is given, on every path, so a failed build leaks nothing. */
#ifndef TOCSIN_JBUILD_H
#define TOCSIN_JBUILD_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

/* v, flagging a failed constructor (v NULL). */
static inline json_t *jb_check(json_t *v, int *failed) {
    if (!v)
        *failed = 1;
    return v;
}

/* obj[key] = value (consumed). */
static inline void jb_set(json_t *obj, const char *key, json_t *value, int *failed) {
    if (json_object_set_new(obj, key, value) != 0)
        *failed = 1;
}

/* obj[key] = value (borrowed: a reference is added). */
static inline void jb_set_ref(json_t *obj, const char *key, json_t *value, int *failed) {
    if (!value || json_object_set(obj, key, value) != 0)
        *failed = 1;
}

/* Appends value (consumed) to arr. */
static inline void jb_append(json_t *arr, json_t *value, int *failed) {
    if (json_array_append_new(arr, value) != 0)
        *failed = 1;
}

/* 0, or InternalError naming `what` (and a log line) when a step failed. */
static inline int jb_done(int failed, const char *what, tc_err *err) {
    return failed ? tc_err_oom(err, what) : 0;
}

/* A copy of v that is whole or NULL. (json_copy ignores the failures of
 * its own setters: a copy made out of memory may silently lack members, so
 * tocsin copies with json_deep_copy, which checks them.) */
static inline json_t *jb_copy(json_t *v) {
    return json_deep_copy(v);
}

/* Parsing and encoding, whole or not at all.
 *
 * jansson (2.14, and its master) ignores two of its own allocation
 * failures: its lexer drops a byte of a token it cannot save, so json_loads
 * may return a document with a number or a string silently altered; and
 * its encoder drops an object key it cannot write, so json_dumps may return
 * text missing a key. tocsin therefore gives jansson an allocator that
 * remembers, per thread, that an allocation failed (jbuild.c installs it
 * at start), and parses and encodes only through these two, which fail
 * whenever one did.
 *
 * jb_loadb: json_loadb, or NULL. *oom (may be NULL) tells an allocation
 * failure (InternalError for the caller) from text that is not JSON (the
 * sender's fault). */
json_t *jb_loadb(const char *buf, size_t len, size_t flags, json_error_t *error, int *oom);
/* json_dumps, or NULL when any part of the text could not be made. */
char *jb_dumps(const json_t *json, size_t flags);

/* 1 while this thread is inside jansson's parser. jansson 2.14's lexer
 * does not survive every allocation failure: when the buffer of a string
 * token cannot grow at its closing quote it loses the quote, then scans
 * past the buffer's end looking for it (reproduced with the 4th allocation
 * of json_loadb("[\"http://x/i.png\"]") failing; its master branch has the
 * same code). tocsin cannot mend the library; the allocation-failure test
 * leaves the parser's own allocations alone (tests/support/alloc_hook.c)
 * and checks every other one. */
int jb_parsing(void);

#endif
