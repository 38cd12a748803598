/* ratelimit.h: per-key request rate limits (token buckets).
 *
 * The HTTP layer keeps one limiter for the Event API (keyed by
 * integration_key) and one for the Open API (keyed by app_key). A request
 * takes one token from its key's bucket; an empty bucket answers 429
 * RequestTooFrequently with Retry-After instead of letting one sender take
 * the writer from everyone else. */
#ifndef TOCSIN_HTTP_RATELIMIT_H
#define TOCSIN_HTTP_RATELIMIT_H

#include <stdint.h>

typedef struct ratelimit ratelimit;

/* rate: tokens per second (> 0); burst: bucket size (>= 1). */
int ratelimit_new(double rate, double burst, ratelimit **out);
void ratelimit_free(ratelimit *rl);

/* Takes a token for key at now_ms. Returns 1 when the request may go on;
 * 0 when the bucket is empty, with *retry_after_s set to the whole seconds
 * (at least 1) after which a token will be there. */
int ratelimit_take(ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s);

/* Parses "RATE" or "RATE:BURST" (RATE 0 = no limit; BURST defaults to
 * 2 x RATE). Returns 0, or -1 when the text is not that. */
int ratelimit_parse(const char *text, double *rate, double *burst);

#endif
