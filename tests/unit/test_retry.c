/* test_retry.c: reading outcomes and the retry schedule (delivery/retry.c;
 * reference/integrations.md "Delivery policy", "How a response is read"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "delivery/retry.h"

static void default_policy(void **state) {
    (void)state;
    retry_policy p;
    retry_policy_default(&p);
    assert_int_equal(p.max_attempts, 8);
    assert_int_equal(p.nschedule, 7);
    const int64_t want[] = {1, 5, 30, 120, 600, 1800, 3600};
    for (int i = 0; i < 7; i++)
        assert_int_equal(p.schedule_s[i], want[i]);
}

static void classify_statuses(void **state) {
    (void)state;
    /* No response at all. */
    assert_int_equal(outcome_classify(0), OUTCOME_RETRY);
    /* 2xx, both ends. */
    assert_int_equal(outcome_classify(200), OUTCOME_DELIVERED);
    assert_int_equal(outcome_classify(201), OUTCOME_DELIVERED);
    assert_int_equal(outcome_classify(204), OUTCOME_DELIVERED);
    assert_int_equal(outcome_classify(299), OUTCOME_DELIVERED);
    /* 1xx as a final status. */
    assert_int_equal(outcome_classify(100), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(199), OUTCOME_FAILED);
    /* 3xx: redirects are not followed. */
    assert_int_equal(outcome_classify(300), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(301), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(302), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(399), OUTCOME_FAILED);
    /* 4xx: failed for good, except 408, 429 (retry) and 410 (gone). */
    assert_int_equal(outcome_classify(400), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(401), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(404), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(407), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(408), OUTCOME_RETRY);
    assert_int_equal(outcome_classify(409), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(410), OUTCOME_GONE);
    assert_int_equal(outcome_classify(411), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(428), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(429), OUTCOME_RETRY);
    assert_int_equal(outcome_classify(430), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(499), OUTCOME_FAILED);
    /* 5xx, both ends, and 503. */
    assert_int_equal(outcome_classify(500), OUTCOME_RETRY);
    assert_int_equal(outcome_classify(502), OUTCOME_RETRY);
    assert_int_equal(outcome_classify(503), OUTCOME_RETRY);
    assert_int_equal(outcome_classify(504), OUTCOME_RETRY);
    assert_int_equal(outcome_classify(599), OUTCOME_RETRY);
    /* Outside HTTP's range. */
    assert_int_equal(outcome_classify(600), OUTCOME_FAILED);
    assert_int_equal(outcome_classify(999), OUTCOME_FAILED);
}

static void schedule_without_jitter(void **state) {
    (void)state;
    retry_policy p;
    retry_policy_default(&p);
    /* random01 = 0.5 is the middle: a factor of exactly 1. */
    const int64_t want[] = {1000, 5000, 30000, 120000, 600000, 1800000, 3600000};
    for (int a = 1; a <= 7; a++)
        assert_int_equal(retry_delay_ms(&p, a, -1, 0.5), want[a - 1]);
    /* The 8th attempt failed: max_attempts reached, give up. */
    assert_int_equal(retry_delay_ms(&p, 8, -1, 0.5), -1);
    assert_int_equal(retry_delay_ms(&p, 9, -1, 0.5), -1);
    assert_int_equal(retry_delay_ms(&p, 8, 10, 0.5), -1);
}

static void last_entry_repeats(void **state) {
    (void)state;
    retry_policy p = {.max_attempts = 10, .nschedule = 2, .schedule_s = {2, 7}};
    assert_int_equal(retry_delay_ms(&p, 1, -1, 0.5), 2000);
    assert_int_equal(retry_delay_ms(&p, 2, -1, 0.5), 7000);
    assert_int_equal(retry_delay_ms(&p, 3, -1, 0.5), 7000);
    assert_int_equal(retry_delay_ms(&p, 9, -1, 0.5), 7000);
    assert_int_equal(retry_delay_ms(&p, 10, -1, 0.5), -1);
    /* max_attempts 1: no retry at all. */
    p.max_attempts = 1;
    assert_int_equal(retry_delay_ms(&p, 1, -1, 0.5), -1);
}

static void jitter_is_ten_percent(void **state) {
    (void)state;
    retry_policy p;
    retry_policy_default(&p);
    assert_int_equal(retry_delay_ms(&p, 1, -1, 0.0), 900);
    assert_int_equal(retry_delay_ms(&p, 1, -1, 0.25), 950);
    assert_int_equal(retry_delay_ms(&p, 1, -1, 0.75), 1050);
    assert_true(retry_delay_ms(&p, 1, -1, 0.999999) <= 1100);
    assert_true(retry_delay_ms(&p, 1, -1, 0.999999) >= 1099);
    assert_int_equal(retry_delay_ms(&p, 3, -1, 0.0), 27000);
    assert_true(retry_delay_ms(&p, 7, -1, 0.999999) <= 3960000);
    assert_true(retry_delay_ms(&p, 7, -1, 0.999999) > 3959000);
    /* Out-of-range draws are clamped into [0, 1). */
    assert_int_equal(retry_delay_ms(&p, 1, -1, -3.0), 900);
    assert_true(retry_delay_ms(&p, 1, -1, 7.0) <= 1100);
    /* Every draw stays within +-10%. */
    for (int i = 0; i < 1000; i++) {
        int64_t d = retry_delay_ms(&p, 2, -1, i / 1000.0);
        assert_true(d >= 4500 && d <= 5500);
    }
}

static void retry_after_is_a_floor_capped_at_an_hour(void **state) {
    (void)state;
    retry_policy p;
    retry_policy_default(&p);
    /* Retry-After longer than the schedule wins. */
    assert_int_equal(retry_delay_ms(&p, 1, 10, 0.5), 10000);
    /* Shorter: the schedule's delay wins. */
    assert_int_equal(retry_delay_ms(&p, 3, 10, 0.5), 30000);
    assert_int_equal(retry_delay_ms(&p, 3, 0, 0.0), 27000);
    /* Equal. */
    assert_int_equal(retry_delay_ms(&p, 2, 5, 0.5), 5000);
    /* Capped at one hour: both the Retry-After and the jittered schedule. */
    assert_int_equal(retry_delay_ms(&p, 1, 3599, 0.5), 3599000);
    assert_int_equal(retry_delay_ms(&p, 1, 3600, 0.5), RETRY_CAP_MS);
    assert_int_equal(retry_delay_ms(&p, 1, 3601, 0.5), RETRY_CAP_MS);
    assert_int_equal(retry_delay_ms(&p, 1, 86400 * 365, 0.5), RETRY_CAP_MS);
    assert_int_equal(retry_delay_ms(&p, 1, INT64_MAX, 0.5), RETRY_CAP_MS);
    assert_int_equal(retry_delay_ms(&p, 7, 0, 0.99), RETRY_CAP_MS);
    /* Without Retry-After the schedule is not capped (3600 s + 10%). */
    assert_true(retry_delay_ms(&p, 7, -1, 0.99) > RETRY_CAP_MS);
}

static void parse_delta_seconds(void **state) {
    (void)state;
    assert_int_equal(retry_after_parse("0", 1000), 0);
    assert_int_equal(retry_after_parse("120", 1000), 120);
    assert_int_equal(retry_after_parse("  7\t", 1000), 7);
    assert_int_equal(retry_after_parse("007", 1000), 7);
    /* Negative: not valid HTTP, read as "now". */
    assert_int_equal(retry_after_parse("-5", 1000), 0);
    assert_int_equal(retry_after_parse("-0", 1000), 0);
    /* Huge values saturate instead of overflowing. */
    assert_true(retry_after_parse("99999999999999999999999999", 1000) > 3600);
}

static void parse_garbage(void **state) {
    (void)state;
    assert_int_equal(retry_after_parse(NULL, 1000), -1);
    assert_int_equal(retry_after_parse("", 1000), -1);
    assert_int_equal(retry_after_parse("   ", 1000), -1);
    assert_int_equal(retry_after_parse("soon", 1000), -1);
    assert_int_equal(retry_after_parse("1.5", 1000), -1);
    assert_int_equal(retry_after_parse("+5", 1000), -1);
    assert_int_equal(retry_after_parse("5s", 1000), -1);
    assert_int_equal(retry_after_parse("5 5", 1000), -1);
    assert_int_equal(retry_after_parse("-", 1000), -1);
    assert_int_equal(retry_after_parse("--5", 1000), -1);
    /* Dates that are not IMF-fixdate, or are impossible. */
    assert_int_equal(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", 0), -1); /* RFC 850 */
    assert_int_equal(retry_after_parse("Sun Nov  6 08:49:37 1994", 0), -1);       /* asctime */
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 UTC", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 +0000", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 6 Nov 1994 08:49:37 GMT", 0), -1);
    assert_int_equal(retry_after_parse("Xyz, 06 Nov 1994 08:49:37 GMT", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 06 Nox 1994 08:49:37 GMT", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 31 Nov 1994 08:49:37 GMT", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 29 Feb 2023 08:49:37 GMT", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 00 Nov 1994 08:49:37 GMT", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 24:00:00 GMT", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:60:00 GMT", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:61 GMT", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMTx", 0), -1);
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 8:49:37 GMT", 0), -1);
}

static void parse_http_dates(void **state) {
    (void)state;
    /* RFC 9110's example: 784111777 = Sun, 06 Nov 1994 08:49:37 GMT. */
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30), 30);
    assert_int_equal(retry_after_parse(" Sun, 06 Nov 1994 08:49:37 GMT ", 784111777 - 1), 1);
    /* Now, and in the past: 0. */
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", 784111777), 0);
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", 784111778), 0);
    assert_int_equal(retry_after_parse("Thu, 01 Jan 1970 00:00:00 GMT", 1700000000), 0);
    /* 1700000000 = Tue, 14 Nov 2023 22:13:20 GMT; a leap day; year ends. */
    assert_int_equal(retry_after_parse("Tue, 14 Nov 2023 22:15:20 GMT", 1700000000), 120);
    assert_int_equal(retry_after_parse("Thu, 29 Feb 2024 00:00:00 GMT", 1709164800 - 5), 5);
    assert_int_equal(retry_after_parse("Tue, 29 Feb 2000 00:00:00 GMT", 951782400 - 5), 5);
    assert_int_equal(retry_after_parse("Fri, 31 Dec 2100 23:59:59 GMT", 4133980799 - 9), 9);
    assert_int_equal(retry_after_parse("Thu, 01 Jan 1970 00:00:10 GMT", 0), 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_policy),
        cmocka_unit_test(classify_statuses),
        cmocka_unit_test(schedule_without_jitter),
        cmocka_unit_test(last_entry_repeats),
        cmocka_unit_test(jitter_is_ten_percent),
        cmocka_unit_test(retry_after_is_a_floor_capped_at_an_hour),
        cmocka_unit_test(parse_delta_seconds),
        cmocka_unit_test(parse_garbage),
        cmocka_unit_test(parse_http_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
