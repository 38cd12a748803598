/* utf8.c: see utf8.h. */
#include "util/utf8.h"

static int is_lead_byte(unsigned char c) {
    return (c & 0xC0) != 0x80;
}

size_t utf8_len(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += is_lead_byte((unsigned char)*s);
    return n;
}

size_t utf8_prefix(const char *s, size_t max_chars) {
    size_t chars = 0, i = 0;
    for (; s[i]; i++) {
        if (is_lead_byte((unsigned char)s[i])) {
            if (chars == max_chars)
                break;
            chars++;
        }
    }
    return i;
}

size_t utf8_char_len(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    size_t n;
    unsigned long cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) { /* stops at the NUL: it is no continuation */
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

size_t utf8_sanitize(char *s) {
    size_t replaced = 0;
    while (*s) {
        size_t n = utf8_char_len(s);
        if (n == 0) {
            *s++ = '?';
            replaced++;
        } else {
            s += n;
        }
    }
    return replaced;
}
