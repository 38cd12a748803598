/* ids.c: see ids.h. */
#include "util/ids.h"

#include <openssl/rand.h>
#include <pthread.h>
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

/* The process's random part and the counter, drawn once. */
static unsigned char process_random[5];
static _Atomic uint32_t counter;
static int seeded_ok;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void seed(void) {
    uint32_t start = 0;
    seeded_ok = RAND_bytes(process_random, sizeof(process_random)) == 1 &&
                RAND_bytes((unsigned char *)&start, sizeof(start)) == 1;
    counter = start;
}

int ids_object_new(char *out) {
    if (pthread_once(&seed_once, seed) != 0 || !seeded_ok)
        return -1;
    unsigned char raw[12];
    uint32_t now = (uint32_t)time(NULL);
    uint32_t n = counter++;
    raw[0] = (unsigned char)(now >> 24);
    raw[1] = (unsigned char)(now >> 16);
    raw[2] = (unsigned char)(now >> 8);
    raw[3] = (unsigned char)now;
    memcpy(raw + 4, process_random, sizeof(process_random));
    raw[9] = (unsigned char)(n >> 16);
    raw[10] = (unsigned char)(n >> 8);
    raw[11] = (unsigned char)n;
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
