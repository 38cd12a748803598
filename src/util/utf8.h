/* utf8.h: counting characters the way the reference counts them.
 * Limits in reference/ are in characters (code points), not bytes; jansson
 * guarantees every string it hands us is valid UTF-8, so counting lead
 * bytes is exact. */
#ifndef TOCSIN_UTF8_H
#define TOCSIN_UTF8_H

#include <stddef.h>

/* Number of characters in s. */
size_t utf8_len(const char *s);
/* Byte length of the first max_chars characters of s (a cut that never
 * splits a character). */
size_t utf8_prefix(const char *s, size_t max_chars);

#endif
