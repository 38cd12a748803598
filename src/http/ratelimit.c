/* ratelimit.c: see ratelimit.h.
 *
 * Buckets live in a fixed table (open addressing, short probe window), so
 * memory stays bounded whatever keys a hostile client invents: a key that
 * finds no free slot in its window takes the one touched least recently.
 * Evicting a bucket can only hand that key a full bucket again, which is
 * what a key that has been quiet that long would have anyway; under a flood
 * of invented keys real keys can lose their history, never their service.
 *
 * Keys are hashed with a seed chosen at start so that nobody can aim many
 * keys at one probe window. The table is small and each take is a few
 * arithmetic steps under one mutex: thread-per-connection means many
 * takers, but none holds the lock for more than a hash and a probe. */
#include "http/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/ids.h"

#define RATELIMIT_SLOTS 4096 /* a power of two */
#define RATELIMIT_PROBE 8

typedef struct {
    uint64_t hash; /* 0 = free */
    double tokens;
    int64_t last_ms;
} bucket;

struct ratelimit {
    double rate, burst;
    uint64_t seed;
    pthread_mutex_t lock;
    bucket slots[RATELIMIT_SLOTS];
};

int ratelimit_new(double rate, double burst, ratelimit **out) {
    if (!(rate > 0) || !(burst >= 1))
        return -1;
    ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return -1;
    char seed_hex[17];
    if (ids_random_hex(seed_hex, 8) != 0) {
        free(rl);
        return -1;
    }
    rl->seed = strtoull(seed_hex, NULL, 16);
    rl->rate = rate;
    rl->burst = burst;
    pthread_mutex_init(&rl->lock, NULL);
    *out = rl;
    return 0;
}

void ratelimit_free(ratelimit *rl) {
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

/* FNV-1a over the seed and the key; never 0 (0 marks a free slot). */
static uint64_t key_hash(uint64_t seed, const char *key) {
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    return h ? h : 1;
}

/* The key's bucket, claiming a free or the stalest slot of its window. */
static bucket *bucket_find(ratelimit *rl, uint64_t h, int64_t now_ms) {
    size_t start = (size_t)h & (RATELIMIT_SLOTS - 1);
    bucket *victim = NULL; /* the first free slot, else the stalest */
    for (size_t i = 0; i < RATELIMIT_PROBE; i++) {
        bucket *b = &rl->slots[(start + i) & (RATELIMIT_SLOTS - 1)];
        if (b->hash == h)
            return b;
        if (!victim || (victim->hash != 0 && (b->hash == 0 || b->last_ms < victim->last_ms)))
            victim = b;
    }
    victim->hash = h;
    victim->tokens = rl->burst;
    victim->last_ms = now_ms;
    return victim;
}

int ratelimit_take(ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s) {
    uint64_t h = key_hash(rl->seed, key ? key : "");
    pthread_mutex_lock(&rl->lock);
    bucket *b = bucket_find(rl, h, now_ms);
    if (now_ms > b->last_ms) {
        b->tokens = fmin(rl->burst, b->tokens + (double)(now_ms - b->last_ms) * rl->rate / 1000.0);
        b->last_ms = now_ms;
    }
    int allowed = b->tokens >= 1.0;
    if (allowed)
        b->tokens -= 1.0;
    else
        *retry_after_s = (int)ceil((1.0 - b->tokens) / rl->rate);
    pthread_mutex_unlock(&rl->lock);
    if (!allowed && *retry_after_s < 1)
        *retry_after_s = 1;
    return allowed;
}

int ratelimit_parse(const char *text, double *rate, double *burst) {
    /* strtod also takes spaces, signs, hex and "inf": only digits may start. */
    if (!(*text >= '0' && *text <= '9'))
        return -1;
    char *end = NULL;
    double r = strtod(text, &end);
    if (end == text || !isfinite(r) || r < 0 || r > 1e7)
        return -1;
    double b = 2 * r;
    if (*end == ':') {
        const char *bt = end + 1;
        if (!(*bt >= '0' && *bt <= '9'))
            return -1;
        b = strtod(bt, &end);
        if (end == bt || !isfinite(b) || b < 1 || b > 1e8)
            return -1;
    }
    if (*end != '\0')
        return -1;
    *rate = r;
    *burst = b < 1 ? 1 : b;
    return 0;
}
