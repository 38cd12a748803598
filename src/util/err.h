/* err.h: the error value every fallible call fills.
 *
 * A tc_err carries the API error code of reference/event-api.md (the string
 * the client sees, e.g. "InvalidParameter") and a message a person can act
 * on. Functions return 0 on success and -1 on failure, filling *err; the
 * HTTP layer maps the code to its status. No code path writes a partial
 * error: tc_err_set always sets both fields. */
#ifndef TOCSIN_ERR_H
#define TOCSIN_ERR_H

#include <stdarg.h>

typedef enum {
    TC_OK = 0,
    TC_INVALID_PARAMETER,
    TC_INVALID_CONTENT_TYPE,
    TC_METHOD_NOT_ALLOWED,
    TC_UNAUTHORIZED,
    TC_ACCESS_DENIED,
    TC_ROUTE_NOT_FOUND,
    TC_TOO_FREQUENT,
    TC_INTERNAL,
    TC_RESOURCE_NOT_FOUND, /* an unknown id on the rule paths (reference/rules.md) */
} tc_code;

typedef struct {
    tc_code code;
    char message[512];
} tc_err;

void tc_err_clear(tc_err *err);
/* Sets code and printf-style message; always returns -1 so callers can write
 * `return tc_err_set(err, ...)`. */
int tc_err_set(tc_err *err, tc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* InternalError "out of memory (<what>)", with a log line naming `what`:
 * the one way an allocation that failed is reported. Returns -1. */
int tc_err_oom(tc_err *err, const char *what);
const char *tc_code_name(tc_code code);
int tc_code_http_status(tc_code code);

#endif
