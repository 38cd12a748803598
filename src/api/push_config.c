/* push_config.c: see push_config.h. One reader per field; each refuses
 * with a message naming the field ("headers.X-Foo must not contain CR or
 * LF"), so a caller can fix the request without guessing. */
#include "api/push_config.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/params.h"
#include "core/integration.h"
#include "delivery/retry.h"
#include "delivery/template.h"
#include "util/jbuild.h"
#include "util/utf8.h"

/* Headers tocsin sets itself on every push (framing, routing, signing). */
static const char *const reserved_headers[] = {
    "Content-Type",      "Content-Length",  "Host", "webhook-id", "webhook-timestamp",
    "webhook-signature", "tocsin-sequence", NULL};

static const char *const secret_words[] = {"authorization", "token",  "key", "secret",
                                           "password",      "cookie", NULL};

/* NULL when out of memory, like every builder here. */
static json_t *retry_defaults(void) {
    retry_policy p;
    retry_policy_default(&p);
    int failed = 0;
    json_t *schedule = jb_check(json_array(), &failed);
    for (int i = 0; i < p.nschedule; i++)
        jb_append(schedule, json_integer(p.schedule_s[i]), &failed);
    if (failed) {
        json_decref(schedule);
        return NULL;
    }
    return json_pack("{s:i, s:o}", "max_attempts", p.max_attempts, "schedule_s", schedule);
}

json_t *push_config_defaults(const char *type) {
    int failed = 0;
    json_t *types = jb_check(json_array(), &failed);
    if (strcmp(type, "custom_action") == 0)
        jb_append(types, json_string("i_custom"), &failed);
    if (failed) {
        json_decref(types);
        return NULL;
    }
    return json_pack("{s:s, s:o, s:b, s:i, s:o, s:o, s:s, s:o, s:b, s:b}", "endpoint", "",
                     "headers", json_object(), "tls_verify", 1, "timeout_ms",
                     PUSH_TIMEOUT_MS_DEFAULT, "channel_ids", json_array(), "event_types", types,
                     "body_template", "", "retry", retry_defaults(), "ordered", 1, "signing", 1);
}

/* endpoint ---------------------------------------------------------------- */

static int endpoint_has_host(const char *url, tc_err *err) {
    CURLU *u = curl_url();
    char *host = NULL;
    int rc = 0;
    if (!u)
        return tc_err_oom(err, "endpoint");
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OUT_OF_MEMORY) {
        rc = tc_err_oom(err, "endpoint");
        goto out;
    }
    if (uc != CURLUE_OK) {
        rc = tc_err_set(err, TC_INVALID_PARAMETER, "endpoint is not a valid URL: %s",
                        curl_url_strerror(uc));
        goto out;
    }
    uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (uc == CURLUE_OUT_OF_MEMORY)
        rc = tc_err_oom(err, "endpoint");
    else if (uc != CURLUE_OK || !host || !*host)
        rc = tc_err_set(err, TC_INVALID_PARAMETER, "endpoint must name a host");
out:
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* http(s) only, no spaces or control characters (they could split the
 * request line), parseable with a host. The query string is kept as given. */
static int endpoint_check(const char *url, tc_err *err) {
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "endpoint must start with http:// or https://");
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "endpoint must not contain spaces or control characters");
    }
    return endpoint_has_host(url, err);
}

static int read_endpoint(json_t *body, int creating, json_t *patch, tc_err *err) {
    char *url = NULL;
    int rc = -1;
    if (params_string(body, "endpoint", creating ? PARAM_REQUIRED : PARAM_OPTIONAL,
                      PUSH_ENDPOINT_MAX, PARAM_REFUSE, &url, err) != 0)
        goto out;
    if (url && !*url) {
        tc_err_set(err, TC_INVALID_PARAMETER, "endpoint must not be empty");
        goto out;
    }
    if (url && endpoint_check(url, err) != 0)
        goto out;
    if (url && json_object_set_new(patch, "endpoint", json_string(url)) != 0) {
        tc_err_oom(err, "endpoint");
        goto out;
    }
    rc = 0;
out:
    free(url);
    return rc;
}

/* headers ------------------------------------------------------------------ */

/* The name as a message may show it: control characters escaped. */
static void printable(const char *s, char *out, size_t cap) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 5 < cap;) {
        if (*p < 0x20 || *p == 0x7f) {
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", *p++);
            continue;
        }
        /* A whole character or none: a cut inside one left a message that
         * is not UTF-8, which the error envelope cannot carry, so the client
         * got no answer (found by fuzz/fuzz_openapi). */
        size_t len = 1;
        while ((p[len] & 0xC0) == 0x80)
            len++;
        if (n + len + 5 > cap)
            break;
        memcpy(out + n, p, len);
        n += len;
        p += len;
    }
    out[n] = '\0';
}

/* RFC 9110 token characters: what a field name may be made of. */
static int is_tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int has_cr_lf(const char *s, size_t len) {
    return memchr(s, '\r', len) || memchr(s, '\n', len);
}

static int header_name_check(json_t *headers, const char *name, size_t len, tc_err *err) {
    char shown[160];
    printable(name, shown, sizeof(shown));
    if (len == 0)
        return tc_err_set(err, TC_INVALID_PARAMETER, "headers must not have an empty name");
    if (strlen(name) != len)
        return tc_err_set(err, TC_INVALID_PARAMETER, "headers.%s must not contain NUL", shown);
    if (has_cr_lf(name, len))
        return tc_err_set(err, TC_INVALID_PARAMETER, "headers.%s must not contain CR or LF", shown);
    if (len > PUSH_HEADER_NAME_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "headers: a header name must be at most %d characters",
                          PUSH_HEADER_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        if (!is_tchar((unsigned char)name[i]))
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "headers.%s is not a valid header name (letters, digits and "
                              "!#$%%&'*+-.^_`|~ only)",
                              shown);
    }
    for (int i = 0; reserved_headers[i]; i++) {
        if (strcasecmp(name, reserved_headers[i]) == 0)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "headers.%s may not be set: tocsin sets %s itself", shown,
                              reserved_headers[i]);
    }
    /* JSON already refuses two identical keys; this catches "X-A" and "x-a"
     * (the first of them is the one kept in `headers` so far). */
    const char *other;
    json_t *unused;
    json_object_foreach(headers, other, unused) {
        if (strcasecmp(other, name) == 0)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "headers.%s appears twice (header names are case-insensitive)",
                              shown);
    }
    return 0;
}

/* Any byte a field value may carry: no NUL, CR, LF or other control
 * character but horizontal tab. */
static int header_value_check(const char *shown, json_t *v, tc_err *err) {
    if (!json_is_string(v))
        return tc_err_set(err, TC_INVALID_PARAMETER, "headers.%s must be a string", shown);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (strlen(s) != len)
        return tc_err_set(err, TC_INVALID_PARAMETER, "headers.%s must not contain NUL", shown);
    if (has_cr_lf(s, len))
        return tc_err_set(err, TC_INVALID_PARAMETER, "headers.%s must not contain CR or LF", shown);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "headers.%s must not contain control characters", shown);
    }
    if (utf8_len(s) > PUSH_HEADER_VALUE_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER, "headers.%s must be at most %d characters",
                          shown, PUSH_HEADER_VALUE_MAX);
    return 0;
}

static int read_headers(json_t *body, json_t *patch, tc_err *err) {
    json_t *given = NULL;
    if (params_object(body, "headers", PARAM_OPTIONAL, &given, err) != 0)
        return -1;
    if (!given)
        return 0;
    if (json_object_size(given) > PUSH_HEADERS_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER, "headers must have at most %d entries",
                          PUSH_HEADERS_MAX);
    json_t *headers = json_object();
    if (!headers)
        return tc_err_oom(err, "headers");
    void *it;
    for (it = json_object_iter(given); it; it = json_object_iter_next(given, it)) {
        const char *name = json_object_iter_key(it);
        size_t len = json_object_iter_key_len(it);
        json_t *v = json_object_iter_value(it);
        char shown[160];
        printable(name, shown, sizeof(shown));
        if (header_name_check(headers, name, len, err) != 0 ||
            header_value_check(shown, v, err) != 0) {
            json_decref(headers);
            return -1;
        }
        /* A header left out here would be a header never sent. */
        if (json_object_set(headers, name, v) != 0) {
            json_decref(headers);
            return tc_err_oom(err, "headers");
        }
    }
    if (json_object_set_new(patch, "headers", headers) != 0)
        return tc_err_oom(err, "headers");
    return 0;
}

static int contains_nocase(const char *s, const char *word) {
    size_t n = strlen(word);
    for (; *s; s++) {
        if (strncasecmp(s, word, n) == 0)
            return 1;
    }
    return 0;
}

int push_header_is_secret(const char *name) {
    for (int i = 0; secret_words[i]; i++) {
        if (contains_nocase(name, secret_words[i]))
            return 1;
    }
    return 0;
}

json_t *push_config_shown_headers(json_t *headers) {
    int failed = 0;
    json_t *shown = jb_check(json_object(), &failed);
    const char *name;
    json_t *v;
    json_object_foreach(headers, name, v) {
        jb_set(shown, name,
               push_header_is_secret(name) ? json_string(PUSH_HEADER_MASK) : jb_copy(v), &failed);
    }
    if (failed) {
        json_decref(shown);
        return NULL;
    }
    return shown;
}

/* channel_ids and event_types ----------------------------------------------- */

static int read_channel_ids(const char *type, json_t *body, int creating, json_t *patch,
                            tc_err *err) {
    int custom = strcmp(type, "custom_action") == 0;
    json_t *ids = NULL;
    if (params_int64_array(body, "channel_ids", PARAM_OPTIONAL, PUSH_CHANNELS_MAX, &ids, err) != 0)
        return -1;
    /* A custom action is a button on the incidents of its channels. */
    if (custom && (ids || creating) &&
        params_array(body, "channel_ids", PARAM_REQUIRED, 1, PUSH_CHANNELS_MAX, &ids, err) != 0)
        return -1;
    if (!ids)
        return 0;
    size_t i, j;
    json_t *v;
    json_array_foreach(ids, i, v) {
        if (json_integer_value(v) < 1)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "channel_ids[%zu] must be a channel id (1 or more)", i);
        for (j = 0; j < i; j++) {
            if (json_integer_value(json_array_get(ids, j)) == json_integer_value(v))
                return tc_err_set(err, TC_INVALID_PARAMETER,
                                  "channel_ids[%zu] repeats channel %lld", i,
                                  (long long)json_integer_value(v));
        }
    }
    if (json_object_set(patch, "channel_ids", ids) != 0)
        return tc_err_oom(err, "channel_ids");
    return 0;
}

static int type_allowed(const char *const *allowed, const char *name) {
    for (int i = 0; allowed[i]; i++) {
        if (strcmp(allowed[i], name) == 0)
            return 1;
    }
    return 0;
}

static int refuse_event_type(const char *type, size_t i, const char *name, tc_err *err) {
    const char *const *allowed = integration_event_types(type);
    char list[400] = "";
    for (int k = 0; allowed[k]; k++) {
        strncat(list, k ? ", " : "", sizeof(list) - strlen(list) - 1);
        strncat(list, allowed[k], sizeof(list) - strlen(list) - 1);
    }
    char shown[64];
    printable(name, shown, sizeof(shown));
    return tc_err_set(err, TC_INVALID_PARAMETER, "event_types[%zu] '%s' is not one of %s: %s", i,
                      shown, type, list);
}

/* Webhooks: a list of their kind's types, [] = all. A custom action always
 * sends i_custom, so it takes [] or ["i_custom"] and nothing else. */
static int read_event_types(const char *type, json_t *body, json_t *patch, tc_err *err) {
    const char *const *allowed = integration_event_types(type);
    int custom = strcmp(type, "custom_action") == 0;
    json_t *types = NULL;
    if (params_string_array(body, "event_types", PARAM_OPTIONAL, 64, &types, err) != 0)
        return -1;
    if (!types)
        return 0;
    size_t i, j;
    json_t *v;
    json_array_foreach(types, i, v) {
        const char *name = json_string_value(v);
        if (custom && strcmp(name, "i_custom") != 0)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "event_types: a custom_action always sends i_custom and takes no "
                              "other event types");
        if (!type_allowed(allowed, name))
            return refuse_event_type(type, i, name, err);
        for (j = 0; j < i; j++) {
            if (strcmp(json_string_value(json_array_get(types, j)), name) == 0)
                return tc_err_set(err, TC_INVALID_PARAMETER, "event_types[%zu] repeats %s", i,
                                  name);
        }
    }
    if (!custom && json_object_set(patch, "event_types", types) != 0)
        return tc_err_oom(err, "event_types");
    return 0;
}

/* body_template, retry, scalars --------------------------------------------- */

static int read_body_template(const char *type, json_t *body, json_t *patch, tc_err *err) {
    char *tmpl = NULL;
    int rc = -1;
    if (params_string(body, "body_template", PARAM_OPTIONAL, 0, PARAM_REFUSE, &tmpl, err) != 0)
        goto out;
    if (tmpl && *tmpl && strcmp(type, "custom_action") == 0) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "body_template is for webhooks only: a custom_action sends the incident "
                   "with its alerts");
        goto out;
    }
    if (tmpl && *tmpl && template_check(tmpl, err) != 0)
        goto out;
    if (tmpl && json_object_set_new(patch, "body_template", json_string(tmpl)) != 0) {
        tc_err_oom(err, "body_template");
        goto out;
    }
    rc = 0;
out:
    free(tmpl);
    return rc;
}

static int read_schedule(json_t *retry, json_t *out, tc_err *err) {
    json_t *schedule = NULL;
    if (params_int64_array(retry, "schedule_s", PARAM_OPTIONAL, RETRY_MAX_SCHEDULE, &schedule,
                           err) != 0 ||
        (schedule && params_array(retry, "schedule_s", PARAM_OPTIONAL, 1, RETRY_MAX_SCHEDULE,
                                  &schedule, err) != 0))
        return params_err_nest(err, "retry");
    if (!schedule)
        return 0;
    size_t i;
    json_t *v;
    json_array_foreach(schedule, i, v) {
        json_int_t s = json_integer_value(v);
        if (s < 1 || s > PUSH_SCHEDULE_S_MAX)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "retry.schedule_s[%zu] must be between 1 and %d", i,
                              PUSH_SCHEDULE_S_MAX);
    }
    if (json_object_set(out, "schedule_s", schedule) != 0)
        return tc_err_oom(err, "retry.schedule_s");
    return 0;
}

static int read_retry(json_t *body, json_t *patch, tc_err *err) {
    json_t *retry = NULL;
    int64_t max_attempts = 0;
    if (params_object(body, "retry", PARAM_OPTIONAL, &retry, err) != 0)
        return -1;
    if (!retry)
        return 0;
    if (params_int64(retry, "max_attempts", PARAM_OPTIONAL, 1, PUSH_MAX_ATTEMPTS_MAX, &max_attempts,
                     err) != 0)
        return params_err_nest(err, "retry");
    int failed = 0;
    json_t *out = jb_check(json_object(), &failed);
    if (max_attempts)
        jb_set(out, "max_attempts", json_integer(max_attempts), &failed);
    if (jb_done(failed, "retry", err) != 0 || read_schedule(retry, out, err) != 0) {
        json_decref(out);
        return -1;
    }
    jb_set(patch, "retry", out, &failed);
    return jb_done(failed, "retry", err);
}

static int read_bool(json_t *body, const char *field, json_t *patch, tc_err *err) {
    int flag = 0;
    json_t *v = json_object_get(body, field);
    if (params_bool(body, field, PARAM_OPTIONAL, &flag, err) != 0)
        return -1;
    if (v && !json_is_null(v) && json_object_set_new(patch, field, json_boolean(flag)) != 0)
        return tc_err_oom(err, field);
    return 0;
}

static int read_timeout(json_t *body, json_t *patch, tc_err *err) {
    int64_t ms = 0;
    if (params_int64(body, "timeout_ms", PARAM_OPTIONAL, 1, PUSH_TIMEOUT_MS_MAX, &ms, err) != 0)
        return -1;
    if (ms && json_object_set_new(patch, "timeout_ms", json_integer(ms)) != 0)
        return tc_err_oom(err, "timeout_ms");
    return 0;
}

int push_config_read(const char *type, json_t *body, int creating, json_t **patch, tc_err *err) {
    json_t *p = json_object();
    json_t *v = json_object_get(body, "channel_id");
    int rc = -1;
    if (!p) {
        tc_err_oom(err, "an integration's config");
        goto out;
    }
    if (v && !json_is_null(v)) {
        tc_err_set(err, TC_INVALID_PARAMETER,
                   "channel_id is for alert sources; %s takes channel_ids", type);
        goto out;
    }
    if (read_endpoint(body, creating, p, err) != 0 || read_headers(body, p, err) != 0 ||
        read_bool(body, "tls_verify", p, err) != 0 || read_timeout(body, p, err) != 0 ||
        read_channel_ids(type, body, creating, p, err) != 0 ||
        read_event_types(type, body, p, err) != 0 || read_body_template(type, body, p, err) != 0 ||
        read_retry(body, p, err) != 0 || read_bool(body, "ordered", p, err) != 0 ||
        read_bool(body, "signing", p, err) != 0)
        goto out;
    *patch = p;
    p = NULL;
    rc = 0;
out:
    json_decref(p);
    return rc;
}

/* apply --------------------------------------------------------------------- */

/* The stored value of a masked secret header, looked up case-insensitively
 * (borrowed), or NULL. */
static json_t *stored_secret(json_t *base_headers, const char *name, json_t *v) {
    if (!push_header_is_secret(name) || strcmp(json_string_value(v), PUSH_HEADER_MASK) != 0)
        return NULL;
    const char *stored;
    json_t *sv;
    json_object_foreach(base_headers, stored, sv) {
        if (strcasecmp(stored, name) == 0)
            return sv;
    }
    return NULL;
}

/* NULL when out of memory. */
static json_t *merge_headers(json_t *base_headers, json_t *given) {
    int failed = 0;
    json_t *out = jb_check(json_object(), &failed);
    const char *name;
    json_t *v;
    json_object_foreach(given, name, v) {
        json_t *kept = stored_secret(base_headers, name, v);
        jb_set_ref(out, name, kept ? kept : v, &failed);
    }
    if (failed) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *push_config_apply(json_t *base, json_t *patch) {
    int failed = 0;
    json_t *out = jb_check(json_deep_copy(base), &failed);
    const char *field;
    json_t *v;
    json_object_foreach(patch, field, v) {
        if (failed)
            break;
        if (strcmp(field, "retry") == 0) {
            json_t *retry = json_object_get(out, "retry");
            if (!json_is_object(retry)) {
                jb_set(out, "retry", retry = retry_defaults(), &failed);
                if (failed)
                    break;
            }
            if (json_object_update(retry, v) != 0)
                failed = 1;
        } else if (strcmp(field, "headers") == 0) {
            jb_set(out, "headers", merge_headers(json_object_get(base, "headers"), v), &failed);
        } else {
            jb_set_ref(out, field, v, &failed);
        }
    }
    if (failed) {
        json_decref(out);
        return NULL;
    }
    return out;
}
