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
/* Bytes of the well-formed UTF-8 character at s, by jansson's rules (no
 * overlong forms, surrogates or code points past U+10FFFF), or 0. */
size_t utf8_char_len(const char *s);
/* Replaces every byte that does not belong to a well-formed character with
 * '?', in place, so that s can go into a JSON string. For text that did not
 * come through jansson: a receiver's answer, a cut message. Returns the
 * number of bytes replaced. */
size_t utf8_sanitize(char *s);

#endif
