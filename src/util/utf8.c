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
