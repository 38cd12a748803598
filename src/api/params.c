/* params.c: see params.h. */
#include "api/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ids.h"
#include "util/utf8.h"

static int missing(param_need need, const char *field, tc_err *err) {
    if (need == PARAM_REQUIRED)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s is required", field);
    return 0;
}

/* Returns the value, or NULL when absent or JSON null (both mean "not given"). */
static json_t *lookup(json_t *body, const char *field) {
    json_t *v = json_object_get(body, field);
    return json_is_null(v) ? NULL : v;
}

int params_string(json_t *body, const char *field, param_need need, size_t max_chars,
                  param_overflow overflow, char **out, tc_err *err) {
    json_t *v = lookup(body, field);
    if (!v)
        return missing(need, field, err);
    if (!json_is_string(v))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be a string", field);
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must not contain NUL characters", field);
    if (need == PARAM_REQUIRED && s[0] == '\0')
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must not be empty", field);
    size_t keep = strlen(s);
    if (max_chars && utf8_len(s) > max_chars) {
        if (overflow == PARAM_REFUSE)
            return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be at most %zu characters", field,
                              max_chars);
        keep = utf8_prefix(s, max_chars);
    }
    char *copy = strndup(s, keep);
    if (!copy)
        return tc_err_oom(err, field);
    *out = copy;
    return 0;
}

int params_int64(json_t *body, const char *field, param_need need, int64_t min, int64_t max,
                 int64_t *out, tc_err *err) {
    json_t *v = lookup(body, field);
    if (!v)
        return missing(need, field, err);
    if (!json_is_integer(v))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be an integer", field);
    int64_t x = json_integer_value(v);
    if (x < min || x > max)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be between %lld and %lld", field,
                          (long long)min, (long long)max);
    *out = x;
    return 0;
}

int params_bool(json_t *body, const char *field, param_need need, int *out, tc_err *err) {
    json_t *v = lookup(body, field);
    if (!v)
        return missing(need, field, err);
    if (!json_is_boolean(v))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be true or false", field);
    *out = json_is_true(v);
    return 0;
}

int params_object_id(json_t *body, const char *field, param_need need, char *out, tc_err *err) {
    json_t *v = lookup(body, field);
    if (!v)
        return missing(need, field, err);
    if (!json_is_string(v) || !ids_is_object_id(json_string_value(v)))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be a 24-character hex id", field);
    const char *s = json_string_value(v);
    for (int i = 0; i <= IDS_OBJECT_LEN; i++)
        out[i] = (char)((s[i] >= 'A' && s[i] <= 'F') ? s[i] + 32 : s[i]);
    return 0;
}

int params_enum(json_t *body, const char *field, param_need need, const char *const *allowed,
                const char **out, tc_err *err) {
    json_t *v = lookup(body, field);
    if (!v)
        return missing(need, field, err);
    if (json_is_string(v)) {
        for (int i = 0; allowed[i]; i++) {
            if (strcmp(allowed[i], json_string_value(v)) == 0) {
                *out = allowed[i];
                return 0;
            }
        }
    }
    char list[256] = "";
    for (int i = 0; allowed[i]; i++) {
        strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
        strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
    }
    return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be one of: %s", field, list);
}

int params_array(json_t *body, const char *field, param_need need, size_t min_items,
                 size_t max_items, json_t **out, tc_err *err) {
    json_t *v = lookup(body, field);
    if (!v)
        return missing(need, field, err);
    if (!json_is_array(v))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be an array", field);
    size_t n = json_array_size(v);
    if (n < min_items)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must have at least %zu item%s", field,
                          min_items, min_items == 1 ? "" : "s");
    if (max_items && n > max_items)
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must have at most %zu items", field,
                          max_items);
    *out = v;
    return 0;
}

int params_object_id_array(json_t *body, const char *field, param_need need, size_t min_items,
                           size_t max_items, json_t **out, tc_err *err) {
    json_t *arr = NULL;
    if (params_array(body, field, need, min_items, max_items, &arr, err) != 0)
        return -1;
    if (!arr)
        return 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v) || !ids_is_object_id(json_string_value(v)))
            return tc_err_set(err, TC_INVALID_PARAMETER, "%s[%zu] must be a 24-character hex id",
                              field, i);
    }
    *out = arr;
    return 0;
}

int params_int64_array(json_t *body, const char *field, param_need need, size_t max_items,
                       json_t **out, tc_err *err) {
    json_t *arr = NULL;
    if (params_array(body, field, need, 0, max_items, &arr, err) != 0)
        return -1;
    if (!arr)
        return 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (!json_is_integer(v))
            return tc_err_set(err, TC_INVALID_PARAMETER, "%s[%zu] must be an integer", field, i);
    }
    *out = arr;
    return 0;
}

int params_string_array(json_t *body, const char *field, param_need need, size_t max_items,
                        json_t **out, tc_err *err) {
    json_t *arr = NULL;
    if (params_array(body, field, need, 0, max_items, &arr, err) != 0)
        return -1;
    if (!arr)
        return 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v))
            return tc_err_set(err, TC_INVALID_PARAMETER, "%s[%zu] must be a string", field, i);
    }
    *out = arr;
    return 0;
}

int params_object(json_t *body, const char *field, param_need need, json_t **out, tc_err *err) {
    json_t *v = lookup(body, field);
    if (!v)
        return missing(need, field, err);
    if (!json_is_object(v))
        return tc_err_set(err, TC_INVALID_PARAMETER, "%s must be an object", field);
    *out = v;
    return 0;
}

int params_page(json_t *body, int64_t max_limit, int64_t def_limit, int64_t *p, int64_t *limit,
                tc_err *err) {
    *p = 1;
    *limit = def_limit;
    if (params_int64(body, "p", PARAM_OPTIONAL, 0, 1000000, p, err) != 0 ||
        params_int64(body, "limit", PARAM_OPTIONAL, 0, max_limit, limit, err) != 0)
        return -1;
    if (*p == 0)
        *p = 1;
    if (*limit == 0)
        *limit = def_limit;
    return 0;
}

int params_history_window(json_t *body, int64_t *start, int64_t *end, tc_err *err) {
    const int64_t min_ms = 1000000000000LL, max_ms = 9999999999999LL;
    const int64_t max_span_ms = 7LL * 24 * 3600 * 1000;
    if (params_int64(body, "start_time", PARAM_REQUIRED, min_ms, max_ms, start, err) != 0 ||
        params_int64(body, "end_time", PARAM_REQUIRED, min_ms, max_ms, end, err) != 0)
        return -1;
    if (*end <= *start)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "end_time must be greater than start_time (both in milliseconds)");
    if (*end - *start > max_span_ms)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "start_time and end_time must be at most 7 days apart (history is kept "
                          "7 days)");
    return 0;
}

int params_check_types(json_t *body, const param_typed *fields, tc_err *err) {
    for (const param_typed *f = fields; f->field; f++) {
        json_t *unused = NULL;
        int64_t number = 0;
        int flag = 0;
        char *text = NULL;
        int rc = 0;
        switch (f->type) {
        case PARAM_TYPE_STRING:
            rc = params_string(body, f->field, PARAM_OPTIONAL, 0, PARAM_REFUSE, &text, err);
            free(text);
            break;
        case PARAM_TYPE_INT:
            rc = params_int64(body, f->field, PARAM_OPTIONAL, INT64_MIN, INT64_MAX, &number, err);
            break;
        case PARAM_TYPE_BOOL:
            rc = params_bool(body, f->field, PARAM_OPTIONAL, &flag, err);
            break;
        case PARAM_TYPE_OBJECT:
            rc = params_object(body, f->field, PARAM_OPTIONAL, &unused, err);
            break;
        case PARAM_TYPE_STRING_ARRAY:
            rc = params_string_array(body, f->field, PARAM_OPTIONAL, 0, &unused, err);
            break;
        case PARAM_TYPE_INT_ARRAY:
            rc = params_int64_array(body, f->field, PARAM_OPTIONAL, 0, &unused, err);
            break;
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

int params_err_nest(tc_err *err, const char *parent) {
    char msg[sizeof(err->message)];
    snprintf(msg, sizeof(msg), "%s", err->message);
    return tc_err_set(err, err->code, "%s.%s", parent, msg);
}
