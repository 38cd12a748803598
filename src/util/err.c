/* err.c: error codes of the API envelope and their HTTP statuses. */
#include "util/err.h"

#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/utf8.h"

void tc_err_clear(tc_err *err) {
    err->code = TC_OK;
    err->message[0] = '\0';
}

int tc_err_set(tc_err *err, tc_code code, const char *fmt, ...) {
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    /* The message goes into a JSON envelope, which must be UTF-8, or the
     * client gets no answer at all. Text quoted from a request or from
     * jansson's parse errors ("invalid escape near '"\u12\xc7'") can hold
     * part of a character, and the cut above can split one: such bytes
     * become '?'. Found by the fuzz targets (fuzz/). */
    utf8_sanitize(err->message);
    return -1;
}

int tc_err_oom(tc_err *err, const char *what) {
    log_error("msg=\"out of memory\" what=\"%s\"", what);
    return tc_err_set(err, TC_INTERNAL, "out of memory (%s)", what);
}

static const struct {
    const char *name;
    int status;
} codes[] = {
    [TC_OK] = {"OK", 200},
    [TC_INVALID_PARAMETER] = {"InvalidParameter", 400},
    [TC_INVALID_CONTENT_TYPE] = {"InvalidContentType", 400},
    [TC_METHOD_NOT_ALLOWED] = {"MethodNotAllowed", 400},
    [TC_UNAUTHORIZED] = {"Unauthorized", 401},
    [TC_ACCESS_DENIED] = {"AccessDenied", 403},
    [TC_ROUTE_NOT_FOUND] = {"RouteNotFound", 404},
    [TC_TOO_FREQUENT] = {"RequestTooFrequently", 429},
    [TC_INTERNAL] = {"InternalError", 500},
    [TC_RESOURCE_NOT_FOUND] = {"ResourceNotFound", 400},
};

const char *tc_code_name(tc_code code) {
    return codes[code].name;
}

int tc_code_http_status(tc_code code) {
    return codes[code].status;
}
