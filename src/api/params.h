/* params.h: reading and validating request fields, one rule per call.
 *
 * Each getter looks up `field` in a JSON object body and enforces its rule;
 * on a violation it fills *err with InvalidParameter and a message naming
 * the field and the limit, and returns -1. A missing optional field leaves
 * *out untouched (callers preset defaults) and returns 0; `present` tells
 * them apart when it matters.
 *
 * Lengths are in characters (UTF-8 code points), as the reference counts
 * them; jansson guarantees strings are valid UTF-8. `cut` selects the
 * reference's "longer is cut" (truncate at a character boundary, no error)
 * over "at most" (refuse). */
#ifndef TOCSIN_PARAMS_H
#define TOCSIN_PARAMS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/utf8.h"

typedef enum { PARAM_OPTIONAL = 0, PARAM_REQUIRED = 1 } param_need;
typedef enum { PARAM_REFUSE = 0, PARAM_CUT = 1 } param_overflow;

/* *out is a new malloc'd string (caller frees), possibly cut. */
int params_string(json_t *body, const char *field, param_need need, size_t max_chars,
                  param_overflow overflow, char **out, tc_err *err);
int params_int64(json_t *body, const char *field, param_need need, int64_t min, int64_t max,
                 int64_t *out, tc_err *err);
int params_bool(json_t *body, const char *field, param_need need, int *out, tc_err *err);
/* A 24-hex object id (incident_id, alert_id); out holds 25 bytes. */
int params_object_id(json_t *body, const char *field, param_need need, char *out, tc_err *err);
/* One of the NULL-terminated `allowed` values; *out points into `allowed`. */
int params_enum(json_t *body, const char *field, param_need need, const char *const *allowed,
                const char **out, tc_err *err);
/* A JSON array of at most max_items elements (min_items when present);
 * *out is borrowed from body. */
int params_array(json_t *body, const char *field, param_need need, size_t min_items,
                 size_t max_items, json_t **out, tc_err *err);
/* An array whose every element is a 24-hex object id. Borrowed. */
int params_object_id_array(json_t *body, const char *field, param_need need, size_t min_items,
                           size_t max_items, json_t **out, tc_err *err);
/* An array whose every element is an integer. Borrowed. */
int params_int64_array(json_t *body, const char *field, param_need need, size_t max_items,
                       json_t **out, tc_err *err);
/* An array whose every element is a string. Borrowed. */
int params_string_array(json_t *body, const char *field, param_need need, size_t max_items,
                        json_t **out, tc_err *err);
/* A JSON object. Borrowed. */
int params_object(json_t *body, const char *field, param_need need, json_t **out, tc_err *err);

/* The JSON type a field must have, for params_check_types. */
typedef enum {
    PARAM_TYPE_STRING,
    PARAM_TYPE_INT,
    PARAM_TYPE_BOOL,
    PARAM_TYPE_OBJECT,
    PARAM_TYPE_STRING_ARRAY,
    PARAM_TYPE_INT_ARRAY,
} param_type;

typedef struct {
    const char *field;
    param_type type;
} param_typed;

/* Fields of features tocsin lacks are accepted and ignored, but only with
 * the type the reference gives them: checks each present field of `fields`
 * (ended by a NULL field) and fails naming the first of the wrong type. */
int params_check_types(json_t *body, const param_typed *fields, tc_err *err);

/* Prefixes the field named in err's message with its parent object, so a
 * check of a nested object reports "parent.field must be ...". Returns -1. */
int params_err_nest(tc_err *err, const char *parent);

/* Page arguments of list calls: p >= 1 (default 1), limit 1..max (default
 * def_limit). */
int params_page(json_t *body, int64_t max_limit, int64_t def_limit, int64_t *p, int64_t *limit,
                tc_err *err);

/* The window of the webhook history calls (list, replay): start_time and
 * end_time, both required, in milliseconds since the epoch (13 digits),
 * end_time after start_time and at most 7 days apart (what history keeps). */
int params_history_window(json_t *body, int64_t *start, int64_t *end, tc_err *err);

#endif
