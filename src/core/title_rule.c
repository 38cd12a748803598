/* title_rule.c: see title_rule.h. A single left-to-right pass that copies
 * text and substitutes references; no regular expressions, no recursion
 * (a label value containing `$x` is copied as is, never expanded again). */
#include "core/title_rule.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
} strbuf;

static void sb_add(strbuf *sb, const char *s, size_t n) {
    if (sb->failed)
        return;
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (cap < sb->len + n + 1)
            cap *= 2;
        char *grown = realloc(sb->buf, cap);
        if (!grown) {
            sb->failed = 1;
            return;
        }
        sb->buf = grown;
        sb->cap = cap;
    }
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

static int is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The value of label name[0..n), or NULL when absent or not a string. */
static const char *label_value(json_t *labels, const char *name, size_t n) {
    if (!labels || n == 0)
        return NULL;
    return json_string_value(json_object_getn(labels, name, n));
}

/* Cuts s in place to at most max_chars UTF-8 characters. */
static void cut_chars(char *s, size_t max_chars) {
    size_t chars = 0;
    for (size_t i = 0; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (chars == max_chars) {
                s[i] = '\0';
                return;
            }
            chars++;
        }
    }
}

char *title_rule_render(const char *rule, json_t *labels) {
    strbuf sb = {0};
    sb_add(&sb, "", 0);
    const char *p = rule;
    while (*p) {
        const char *dollar = strchr(p, '$');
        if (!dollar) {
            sb_add(&sb, p, strlen(p));
            break;
        }
        sb_add(&sb, p, (size_t)(dollar - p));
        const char *name = dollar + 1, *end;
        size_t n;
        if (*name == '{') {
            name++;
            const char *close = strchr(name, '}');
            if (!close) { /* "${" without "}": plain text */
                sb_add(&sb, dollar, 2);
                p = dollar + 2;
                continue;
            }
            n = (size_t)(close - name);
            end = close + 1;
        } else {
            end = name;
            while (is_name_char(*end))
                end++;
            n = (size_t)(end - name);
        }
        const char *value = label_value(labels, name, n);
        if (value)
            sb_add(&sb, value, strlen(value));
        else
            sb_add(&sb, dollar, n ? (size_t)(end - dollar) : 1);
        p = n ? end : dollar + 1;
    }
    if (sb.failed) {
        free(sb.buf);
        return NULL;
    }
    cut_chars(sb.buf, TITLE_RULE_MAX_CHARS);
    return sb.buf;
}
