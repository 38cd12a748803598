/* jw.c: see jw.h. Escaping follows jansson 2.14's dump_string exactly:
 * '"' and '\\' are escaped, \b \f \n \r \t by name, every other byte below
 * 0x20 as \u00XX with upper-case hex; '/' and non-ASCII pass through. The
 * input is valid UTF-8 (it came through jansson's parser or tocsin's own
 * constants), so bytes are copied as they are. */
#include "util/jw.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(jw *w) {
    memset(w, 0, sizeof(*w));
    w->first[0] = 1;
}

void jw_clear(jw *w) {
    free(w->buf);
    jw_init(w);
}

static int reserve(jw *w, size_t more) {
    if (w->failed)
        return -1;
    if (w->len + more + 1 <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 512;
    while (cap < w->len + more + 1)
        cap *= 2;
    char *grown = realloc(w->buf, cap);
    if (!grown) {
        w->failed = 1;
        return -1;
    }
    w->buf = grown;
    w->cap = cap;
    return 0;
}

static void put(jw *w, const char *s, size_t n) {
    if (reserve(w, n) != 0)
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* The separator before a value: none after a key, a comma between members. */
static void before_value(jw *w) {
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (!w->first[w->depth])
        put(w, ",", 1);
    w->first[w->depth] = 0;
}

static void put_escaped(jw *w, const char *s) {
    put(w, "\"", 1);
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(w, run, (size_t)(p - run));
        run = p + 1;
        char seq[8];
        switch (c) {
        case '"':
            put(w, "\\\"", 2);
            break;
        case '\\':
            put(w, "\\\\", 2);
            break;
        case '\b':
            put(w, "\\b", 2);
            break;
        case '\f':
            put(w, "\\f", 2);
            break;
        case '\n':
            put(w, "\\n", 2);
            break;
        case '\r':
            put(w, "\\r", 2);
            break;
        case '\t':
            put(w, "\\t", 2);
            break;
        default:
            snprintf(seq, sizeof(seq), "\\u%04X", c);
            put(w, seq, 6);
        }
    }
    put(w, run, strlen(run));
    put(w, "\"", 1);
}

static void open_container(jw *w, char c) {
    before_value(w);
    put(w, &c, 1);
    if (w->depth + 1 >= JW_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    w->first[++w->depth] = 1;
}

static void close_container(jw *w, char c) {
    if (w->depth == 0 || w->after_key) {
        w->failed = 1;
        return;
    }
    w->depth--;
    put(w, &c, 1);
}

void jw_object_begin(jw *w) {
    open_container(w, '{');
}

void jw_object_end(jw *w) {
    close_container(w, '}');
}

void jw_array_begin(jw *w) {
    open_container(w, '[');
}

void jw_array_end(jw *w) {
    close_container(w, ']');
}

void jw_key(jw *w, const char *key) {
    before_value(w);
    put_escaped(w, key);
    put(w, ":", 1);
    w->after_key = 1;
}

void jw_string(jw *w, const char *s) {
    before_value(w);
    put_escaped(w, s ? s : "");
}

void jw_int(jw *w, int64_t v) {
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRId64, v);
    before_value(w);
    put(w, num, (size_t)n);
}

void jw_bool(jw *w, int v) {
    before_value(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(jw *w) {
    before_value(w);
    put(w, "null", 4);
}

void jw_raw(jw *w, const char *json, const char *fallback) {
    const char *text = json && *json ? json : fallback;
    before_value(w);
    put(w, text, strlen(text));
}

void jw_kstring(jw *w, const char *key, const char *s) {
    jw_key(w, key);
    jw_string(w, s);
}

void jw_kint(jw *w, const char *key, int64_t v) {
    jw_key(w, key);
    jw_int(w, v);
}

void jw_kraw(jw *w, const char *key, const char *json, const char *fallback) {
    jw_key(w, key);
    jw_raw(w, json, fallback);
}

char *jw_take(jw *w, size_t *len) {
    char *out = NULL;
    if (!w->failed && w->depth == 0 && !w->after_key && w->buf) {
        out = w->buf;
        if (len)
            *len = w->len;
        w->buf = NULL;
    }
    jw_clear(w);
    return out;
}
