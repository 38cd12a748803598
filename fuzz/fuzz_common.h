/* fuzz_common.h: what the libFuzzer targets under fuzz/ share.
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput for one way untrusted
 * bytes enter tocsin. They feed those bytes in as the HTTP server does
 * (http/server.c: json_loadb with JSON_REJECT_DUPLICATES, then "must be an
 * object"), and besides the sanitizers' own findings they check the
 * promises the code makes: FUZZ_CHECK aborts, which libFuzzer reports as a
 * crash and saves the input. Built only with -DTOCSIN_FUZZ=ON and clang
 * (fuzz/CMakeLists.txt); run by `make fuzz`. */
#ifndef TOCSIN_FUZZ_COMMON_H
#define TOCSIN_FUZZ_COMMON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/err.h"

/* A broken invariant: say which, and crash so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: invariant broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A refusal always names a code and says why, in text the server can put in
 * its JSON envelope (valid UTF-8: json_pack refuses anything else, and the
 * client would get no answer at all). */
static inline void fuzz_check_refusal(const tc_err *err) {
    FUZZ_CHECK(err->code != TC_OK);
    FUZZ_CHECK(err->message[0] != '\0');
    json_t *msg = json_string(err->message);
    FUZZ_CHECK(msg != NULL);
    json_decref(msg);
}

/* The request body as the server accepts it: a JSON object, or NULL when
 * the server would refuse it before any handler runs. A body that is not
 * JSON is refused with jansson's error text in the message (as
 * http/server.c words it), which must be sendable too. */
static inline json_t *fuzz_parse_body(const uint8_t *data, size_t size) {
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!body) {
        tc_err err;
        tc_err_set(&err, TC_INVALID_PARAMETER, "the body is not valid JSON: line %d, column %d: %s",
                   jerr.line, jerr.column, jerr.text);
        fuzz_check_refusal(&err);
    }
    if (body && !json_is_object(body)) {
        json_decref(body);
        body = NULL;
    }
    return body;
}

#endif
