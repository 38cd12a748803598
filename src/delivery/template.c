/* template.c: custom request bodies (reference/webhooks.md, "Custom request
 * body"; rules in template.h).
 *
 * The template is parsed with jansson and its tree walked: numbers, bools
 * and null are copied, lists and objects are walked, and every string
 * (values and object keys) is scanned for {{path}} variables. A string that
 * is exactly one variable that resolves becomes the value itself (so
 * "{{incident.labels}}" yields an object); otherwise each resolved variable
 * is replaced by text. The rendered tree is dumped as compact JSON.
 *
 * Decisions the reference leaves open:
 * - Spaces and tabs just inside the braces are trimmed: "{{ incident.title }}"
 *   is "{{incident.title}}". A path segment itself holds no whitespace, `.`,
 *   `{` or `}`.
 * - A list index is a plain decimal number ("0", "12"; not "+1", "01", "-1").
 * - template_check refuses a "{{" without a closing "}}", an empty "{{}}" and
 *   a path with an empty or bad segment ("{{a..b}}"); should such text reach
 *   template_render anyway, it is left as written, like a missing path.
 * - A key whose variable resolves to a non-string uses its compact JSON text;
 *   when two keys render to the same text, the later one wins. */
#include "delivery/template.h"

#include <stdlib.h>
#include <string.h>

#include "util/jbuild.h"

#define TEMPLATE_MAX_BYTES (64 * 1024)
/* A rendered body larger than this is refused: a 64 KiB template that
 * repeats "{{incident}}" could otherwise ask for gigabytes. */
#define TEMPLATE_RENDER_MAX_BYTES (16 * 1024 * 1024)
#define FIELD "body_template"

/* ---- growable text buffer ---- */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} tbuf;

static void tbuf_add(tbuf *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* ---- scanning variables ---- */

/* One "{{...}}" found in a string: where it starts and ends in the text, and
 * the trimmed path inside. */
typedef struct {
    size_t start, end; /* [start, end) covers the braces */
    const char *path;
    size_t path_len;
} tvar;

typedef enum { SCAN_NONE, SCAN_VAR, SCAN_UNCLOSED, SCAN_BAD } scan_result;

static int is_space(char c) {
    return c == ' ' || c == '\t';
}

static int segment_char_ok(char c) {
    return c != '.' && c != '{' && c != '}' && c != ' ' && c != '\t' && c != '\n' && c != '\r';
}

/* A path is one or more non-empty segments separated by '.'. */
static int path_ok(const char *p, size_t n) {
    if (n == 0)
        return 0;
    size_t seg = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (seg == 0)
                return 0;
            seg = 0;
        } else if (!segment_char_ok(p[i])) {
            return 0;
        } else {
            seg++;
        }
    }
    return seg > 0;
}

/* Finds the next "{{" at or after `from` in s[0..n). SCAN_VAR fills v with a
 * well-formed variable; SCAN_UNCLOSED and SCAN_BAD fill v->start (and for
 * SCAN_BAD v->end) so the caller can skip or report it. */
static scan_result scan_next(const char *s, size_t n, size_t from, tvar *v) {
    const char *open = NULL;
    for (size_t i = from; i + 1 < n; i++)
        if (s[i] == '{' && s[i + 1] == '{') {
            open = s + i;
            break;
        }
    if (!open)
        return SCAN_NONE;
    v->start = (size_t)(open - s);
    const char *close = NULL;
    for (size_t i = v->start + 2; i + 1 < n; i++)
        if (s[i] == '}' && s[i + 1] == '}') {
            close = s + i;
            break;
        }
    if (!close)
        return SCAN_UNCLOSED;
    v->end = (size_t)(close - s) + 2;
    const char *p = open + 2;
    const char *e = close;
    while (p < e && is_space(*p))
        p++;
    while (e > p && is_space(e[-1]))
        e--;
    v->path = p;
    v->path_len = (size_t)(e - p);
    return path_ok(p, v->path_len) ? SCAN_VAR : SCAN_BAD;
}

/* ---- resolving paths ---- */

/* A list index: plain decimal, no sign, no leading zero. */
static int parse_index(const char *s, size_t n, size_t *out) {
    if (n == 0 || n > 9 || (n > 1 && s[0] == '0'))
        return 0;
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *out = v;
    return 1;
}

/* The value at a well-formed path, borrowed from root; NULL when missing. */
static json_t *resolve(json_t *root, const char *path, size_t n) {
    json_t *cur = root;
    size_t i = 0;
    while (cur && i < n) {
        size_t j = i;
        while (j < n && path[j] != '.')
            j++;
        size_t idx;
        if (json_is_object(cur))
            cur = json_object_getn(cur, path + i, j - i);
        else if (json_is_array(cur) && parse_index(path + i, j - i, &idx))
            cur = json_array_get(cur, idx);
        else
            cur = NULL;
        i = j + 1;
    }
    return cur;
}

/* ---- rendering ---- */

/* The value as text: a string as itself, anything else as compact JSON. */
static void add_value_text(tbuf *b, json_t *v) {
    if (json_is_string(v)) {
        tbuf_add(b, json_string_value(v), json_string_length(v));
        return;
    }
    char *s = jb_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        b->oom = 1;
        return;
    }
    tbuf_add(b, s, strlen(s));
    free(s);
}

/* Renders one string. Returns a new reference: the resolved value itself
 * when the string is exactly one variable, else a string. */
static json_t *render_string(const char *s, size_t n, json_t *body) {
    tvar v;
    size_t pos = 0;
    scan_result r = scan_next(s, n, 0, &v);
    if (r == SCAN_NONE)
        return json_stringn(s, n);
    if (r == SCAN_VAR && v.start == 0 && v.end == n) {
        json_t *val = resolve(body, v.path, v.path_len);
        return val ? json_incref(val) : json_stringn(s, n);
    }
    tbuf b = {0};
    while (r != SCAN_NONE && r != SCAN_UNCLOSED) {
        if (r == SCAN_VAR) {
            json_t *val = resolve(body, v.path, v.path_len);
            tbuf_add(&b, s + pos, v.start - pos);
            if (val)
                add_value_text(&b, val);
            else
                tbuf_add(&b, s + v.start, v.end - v.start);
            pos = v.end;
            r = scan_next(s, n, pos, &v);
        } else {
            /* SCAN_BAD: keep the "{{" literally and look again after it, so
             * "{{{x}}" still finds "{{x}}". */
            r = scan_next(s, n, v.start + 1, &v);
        }
    }
    tbuf_add(&b, s + pos, n - pos);
    json_t *out = b.oom ? NULL : json_stringn(b.p ? b.p : "", b.len);
    free(b.p);
    return out;
}

/* A key as text (keys are always strings). Caller frees. */
static char *render_key(const char *k, size_t n, json_t *body, size_t *out_len) {
    json_t *v = render_string(k, n, body);
    char *out = NULL;
    if (!v)
        return NULL;
    if (json_is_string(v)) {
        *out_len = json_string_length(v);
        out = malloc(*out_len + 1);
        if (out)
            memcpy(out, json_string_value(v), *out_len + 1);
    } else {
        out = jb_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        *out_len = out ? strlen(out) : 0;
    }
    json_decref(v);
    return out;
}

static json_t *render_value(json_t *t, json_t *body);

static json_t *render_object(json_t *t, json_t *body) {
    json_t *out = json_object();
    const char *key;
    size_t key_len;
    json_t *val;
    if (!out)
        return NULL;
    json_object_keylen_foreach(t, key, key_len, val) {
        size_t k_len = 0;
        char *k = render_key(key, key_len, body, &k_len);
        json_t *v = k ? render_value(val, body) : NULL;
        int rc = v ? json_object_setn_new(out, k, k_len, v) : -1;
        free(k);
        if (rc < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *render_array(json_t *t, json_t *body) {
    json_t *out = json_array();
    size_t i;
    json_t *val;
    if (!out)
        return NULL;
    json_array_foreach(t, i, val) {
        json_t *v = render_value(val, body);
        if (!v || json_array_append_new(out, v) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *render_value(json_t *t, json_t *body) {
    switch (json_typeof(t)) {
    case JSON_OBJECT:
        return render_object(t, body);
    case JSON_ARRAY:
        return render_array(t, body);
    case JSON_STRING:
        return render_string(json_string_value(t), json_string_length(t), body);
    default:
        return json_incref(t);
    }
}

/* ---- checking ---- */

/* The length of an excerpt of s[0..n) quoted in a message: at most max
 * bytes, cut where a character starts. Found by fuzz/fuzz_template: a plain
 * byte cut could split a character, and a message that is not UTF-8 cannot
 * go into the JSON error envelope (the client got no answer at all). */
static int excerpt_len(const char *s, size_t n, size_t max) {
    if (n <= max)
        return (int)n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

static int check_string(const char *s, size_t n, tc_err *err) {
    tvar v;
    size_t pos = 0;
    for (;;) {
        scan_result r = scan_next(s, n, pos, &v);
        if (r == SCAN_NONE)
            return 0;
        if (r == SCAN_UNCLOSED)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              FIELD " has a \"{{\" without a closing \"}}\" in \"%.*s\"",
                              excerpt_len(s, n, 80), s);
        if (r == SCAN_BAD) {
            size_t len = v.end - v.start;
            if (v.path_len == 0)
                return tc_err_set(err, TC_INVALID_PARAMETER,
                                  FIELD " has an empty variable \"%.*s\"",
                                  excerpt_len(s + v.start, len, 80), s + v.start);
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              FIELD " has a malformed variable \"%.*s\": a path is names or list "
                                    "indexes separated by \".\", like {{incident.title}}",
                              excerpt_len(s + v.start, len, 80), s + v.start);
        }
        pos = v.end;
    }
}

static int check_value(json_t *t, tc_err *err) {
    const char *key;
    size_t key_len, i;
    json_t *val;
    switch (json_typeof(t)) {
    case JSON_OBJECT:
        json_object_keylen_foreach(t, key, key_len, val) {
            if (check_string(key, key_len, err) < 0 || check_value(val, err) < 0)
                return -1;
        }
        return 0;
    case JSON_ARRAY:
        json_array_foreach(t, i, val) {
            if (check_value(val, err) < 0)
                return -1;
        }
        return 0;
    case JSON_STRING:
        return check_string(json_string_value(t), json_string_length(t), err);
    default:
        return 0;
    }
}

/* Parses a template within the size limit. Any JSON value is accepted at
 * the top ("{{incident}}" alone sends the incident object). */
static json_t *template_parse(const char *tmpl, tc_err *err) {
    if (!tmpl) {
        tc_err_set(err, TC_INVALID_PARAMETER, FIELD " is required");
        return NULL;
    }
    size_t len = strlen(tmpl);
    if (len > TEMPLATE_MAX_BYTES) {
        tc_err_set(err, TC_INVALID_PARAMETER, FIELD " must be at most %d bytes, got %zu",
                   TEMPLATE_MAX_BYTES, len);
        return NULL;
    }
    json_error_t jerr;
    int oom = 0;
    json_t *t = jb_loadb(tmpl, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr, &oom);
    if (!t && oom)
        tc_err_oom(err, "reading " FIELD);
    else if (!t)
        tc_err_set(err, TC_INVALID_PARAMETER, FIELD " is not valid JSON: %s (line %d, column %d)",
                   jerr.text, jerr.line, jerr.column);
    return t;
}

int template_check(const char *tmpl, tc_err *err) {
    json_t *t = template_parse(tmpl, err);
    if (!t)
        return -1;
    int rc = check_value(t, err);
    json_decref(t);
    return rc;
}

int template_render(const char *tmpl, json_t *default_body, char **out, tc_err *err) {
    int rc = -1;
    json_t *rendered = NULL;
    json_t *t = template_parse(tmpl, err);
    *out = NULL;
    if (!t)
        goto out;
    rendered = render_value(t, default_body);
    if (!rendered) {
        tc_err_oom(err, "rendering " FIELD);
        goto out;
    }
    *out = jb_dumps(rendered, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!*out) {
        tc_err_oom(err, "rendering " FIELD);
        goto out;
    }
    if (strlen(*out) > TEMPLATE_RENDER_MAX_BYTES) {
        free(*out);
        *out = NULL;
        tc_err_set(err, TC_INVALID_PARAMETER, FIELD " renders to more than %d bytes",
                   TEMPLATE_RENDER_MAX_BYTES);
        goto out;
    }
    rc = 0;
out:
    json_decref(rendered);
    json_decref(t);
    return rc;
}
