/* retry.h: reading a push's outcome and when to try again
 * (reference/integrations.md, "Delivery policy" and "How a response is
 * read"). Pure functions. */
#ifndef TOCSIN_RETRY_H
#define TOCSIN_RETRY_H

#include <stdint.h>

#define RETRY_MAX_SCHEDULE 16
#define RETRY_CAP_MS (3600 * 1000LL) /* Retry-After is capped at 1 hour */

typedef struct {
    int max_attempts;                       /* default 8 */
    int nschedule;                          /* default 7 */
    int64_t schedule_s[RETRY_MAX_SCHEDULE]; /* default 1,5,30,120,600,1800,3600 */
} retry_policy;

void retry_policy_default(retry_policy *p);

typedef enum {
    OUTCOME_DELIVERED, /* any 2xx */
    OUTCOME_RETRY,     /* timeout, transport error, 5xx, 408, 429 */
    OUTCOME_GONE,      /* 410: the integration is disabled */
    OUTCOME_FAILED,    /* any other 3xx/4xx: failed for good */
} outcome_kind;

/* http_status 0 means no response (transport error or timeout). */
outcome_kind outcome_classify(long http_status);

/* The delay before the next attempt after `attempts` failed ones (>= 1):
 * schedule_s[attempts-1] (the last entry repeats) with +-10% jitter drawn
 * from `random01` in [0,1); with a Retry-After (retry_after_s >= 0, on 429
 * or 503), max(Retry-After, that delay) capped at 1 hour. -1 when
 * attempts >= max_attempts: give up. */
int64_t retry_delay_ms(const retry_policy *p, int attempts, int64_t retry_after_s, double random01);

/* Retry-After: delta-seconds or an HTTP-date; seconds from now, or -1 when
 * absent or malformed. */
int64_t retry_after_parse(const char *value, int64_t now_s);

#endif
