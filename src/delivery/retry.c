/* retry.c: how the dispatcher reads a push's outcome and when it tries
 * again (reference/integrations.md, "Delivery policy" and "How a response
 * is read").
 *
 * Pure functions: the dispatcher passes the clock and a random draw in, so
 * the rules are tested without time or randomness. Retry-After accepts
 * delta-seconds and the IMF-fixdate form of HTTP-date ("Sun, 06 Nov 1994
 * 08:49:37 GMT", the only form RFC 9110 lets a sender generate); the
 * obsolete RFC 850 and asctime forms are read as malformed, which only
 * means the schedule's own delay applies. */
#include "delivery/retry.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

void retry_policy_default(retry_policy *p) {
    static const int64_t schedule[] = {1, 5, 30, 120, 600, 1800, 3600};
    memset(p, 0, sizeof(*p));
    p->max_attempts = 8;
    p->nschedule = (int)(sizeof(schedule) / sizeof(schedule[0]));
    memcpy(p->schedule_s, schedule, sizeof(schedule));
}

outcome_kind outcome_classify(long http_status) {
    if (http_status <= 0)
        return OUTCOME_RETRY; /* no response: timeout or transport error */
    if (http_status >= 200 && http_status <= 299)
        return OUTCOME_DELIVERED;
    if (http_status == 408 || http_status == 429 || (http_status >= 500 && http_status <= 599))
        return OUTCOME_RETRY;
    if (http_status == 410)
        return OUTCOME_GONE;
    /* 1xx as a final status, other 3xx (redirects are not followed) and
     * 4xx, and anything outside HTTP's range: the receiver said no. */
    return OUTCOME_FAILED;
}

int64_t retry_delay_ms(const retry_policy *p, int attempts, int64_t retry_after_s,
                       double random01) {
    if (attempts >= p->max_attempts)
        return -1;
    if (attempts < 1)
        attempts = 1;
    int64_t base_s = 0;
    if (p->nschedule > 0) {
        int n = p->nschedule < RETRY_MAX_SCHEDULE ? p->nschedule : RETRY_MAX_SCHEDULE;
        base_s = p->schedule_s[attempts - 1 < n ? attempts - 1 : n - 1];
    }
    if (!(random01 >= 0.0)) /* also catches NaN */
        random01 = 0.0;
    if (random01 >= 1.0)
        random01 = nextafter(1.0, 0.0);
    /* +-10%: a factor in [0.9, 1.1) spreads the retries of many lanes that
     * failed together. */
    int64_t delay = llround((double)base_s * 1000.0 * (0.9 + 0.2 * random01));
    if (retry_after_s < 0)
        return delay;
    int64_t after_ms = retry_after_s >= RETRY_CAP_MS / 1000 ? RETRY_CAP_MS : retry_after_s * 1000;
    int64_t d = after_ms > delay ? after_ms : delay;
    return d > RETRY_CAP_MS ? RETRY_CAP_MS : d;
}

/* ---- Retry-After ---- */

static int is_ows(char c) {
    return c == ' ' || c == '\t';
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Exactly n digits at s. */
static int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so no time zone or locale is involved. */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m) {
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (exactly 29 characters). */
static int parse_imf_fixdate(const char *s, size_t n, int64_t *out) {
    static const char *const wdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        s[19] != ':' || s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
        return 0;
    int wday_ok = 0;
    for (int i = 0; i < 7; i++)
        wday_ok |= memcmp(s, wdays[i], 3) == 0;
    int mon = 0;
    for (int i = 0; i < 12; i++)
        if (memcmp(s + 8, months[i], 3) == 0)
            mon = i + 1;
    int day, year, hh, mm, ss;
    if (!wday_ok || !mon || !digits(s + 5, 2, &day) || !digits(s + 12, 4, &year) ||
        !digits(s + 17, 2, &hh) || !digits(s + 20, 2, &mm) || !digits(s + 23, 2, &ss))
        return 0;
    if (day < 1 || day > days_in_month(year, mon) || hh > 23 || mm > 59 || ss > 60)
        return 0;
    *out = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
    return 1;
}

int64_t retry_after_parse(const char *value, int64_t now_s) {
    if (!value)
        return -1;
    const char *s = value;
    while (is_ows(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_ows(s[n - 1]))
        n--;
    if (n == 0)
        return -1;
    /* delta-seconds; a negative number (not HTTP, but seen) means now. */
    size_t i = s[0] == '-' ? 1 : 0;
    if (i < n && is_digit(s[i])) {
        int64_t v = 0;
        for (; i < n; i++) {
            if (!is_digit(s[i]))
                return -1;
            /* saturate: the caller caps the delay at an hour anyway */
            if (v < INT64_MAX / 10000)
                v = v * 10 + (s[i] - '0');
        }
        return s[0] == '-' ? 0 : v;
    }
    int64_t when;
    if (!parse_imf_fixdate(s, n, &when))
        return -1;
    return when > now_s ? when - now_s : 0;
}
