/* ids.c: see ids.h. */
#include "util/ids.h"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static void hex_encode(const unsigned char *in, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int ids_object_new(char *out) {
    unsigned char raw[12];
    uint32_t now = (uint32_t)time(NULL);
    raw[0] = (unsigned char)(now >> 24);
    raw[1] = (unsigned char)(now >> 16);
    raw[2] = (unsigned char)(now >> 8);
    raw[3] = (unsigned char)now;
    if (RAND_bytes(raw + 4, 8) != 1)
        return -1;
    hex_encode(raw, sizeof(raw), out);
    return 0;
}

int ids_random_hex(char *out, size_t nbytes) {
    unsigned char raw[64];
    if (nbytes > sizeof(raw) || RAND_bytes(raw, (int)nbytes) != 1)
        return -1;
    hex_encode(raw, nbytes, out);
    return 0;
}

int ids_is_object_id(const char *s) {
    if (!s || strlen(s) != IDS_OBJECT_LEN)
        return 0;
    for (size_t i = 0; i < IDS_OBJECT_LEN; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

void ids_sha256_hex(const void *data, size_t len, char *out) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    hex_encode(md, sizeof(md), out);
}
