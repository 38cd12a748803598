/* test_ratelimit.c: the token buckets behind 429 RequestTooFrequently
 * (http/ratelimit.c). Time is a parameter, so refills are exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/ratelimit.h"

static void burst_then_refused(void **state) {
    (void)state;
    ratelimit *rl = NULL;
    assert_int_equal(ratelimit_new(10, 3, &rl), 0);
    int retry = -1;
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_take(rl, "k", 1000, &retry), 1);
    assert_int_equal(ratelimit_take(rl, "k", 1000, &retry), 0);
    assert_int_equal(retry, 1); /* 0.1 s to the next token, rounded up */
    /* 100 ms later one token is back, and only one. */
    assert_int_equal(ratelimit_take(rl, "k", 1100, &retry), 1);
    assert_int_equal(ratelimit_take(rl, "k", 1100, &retry), 0);
    /* A long pause refills to the burst, not beyond. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_take(rl, "k", 100000, &retry), 1);
    assert_int_equal(ratelimit_take(rl, "k", 100000, &retry), 0);
    ratelimit_free(rl);
}

static void keys_are_separate(void **state) {
    (void)state;
    ratelimit *rl = NULL;
    assert_int_equal(ratelimit_new(1, 1, &rl), 0);
    int retry = 0;
    assert_int_equal(ratelimit_take(rl, "a", 0, &retry), 1);
    assert_int_equal(ratelimit_take(rl, "a", 0, &retry), 0);
    assert_int_equal(ratelimit_take(rl, "b", 0, &retry), 1);
    assert_int_equal(ratelimit_take(rl, "", 0, &retry), 1);
    ratelimit_free(rl);
}

static void retry_after_counts_whole_seconds(void **state) {
    (void)state;
    ratelimit *rl = NULL;
    assert_int_equal(ratelimit_new(0.01, 1, &rl), 0); /* one per 100 s */
    int retry = 0;
    assert_int_equal(ratelimit_take(rl, "k", 0, &retry), 1);
    assert_int_equal(ratelimit_take(rl, "k", 0, &retry), 0);
    assert_int_equal(retry, 100);
    assert_int_equal(ratelimit_take(rl, "k", 40000, &retry), 0);
    assert_int_equal(retry, 60);
    assert_int_equal(ratelimit_take(rl, "k", 100000, &retry), 1);
    ratelimit_free(rl);
}

/* Far more keys than slots: memory is fixed, every key is still served
 * (an evicted key comes back with a full bucket), and a key in active use
 * keeps its state against a flood of one-shot keys in other windows. */
static void many_keys_stay_bounded(void **state) {
    (void)state;
    ratelimit *rl = NULL;
    assert_int_equal(ratelimit_new(1, 2, &rl), 0);
    int retry = 0;
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "flood-%d", i);
        assert_int_equal(ratelimit_take(rl, key, i, &retry), 1);
    }
    ratelimit_free(rl);
}

static void parse_flags(void **state) {
    (void)state;
    double r = -1, b = -1;
    assert_int_equal(ratelimit_parse("100", &r, &b), 0);
    assert_true(r == 100 && b == 200);
    assert_int_equal(ratelimit_parse("5:7", &r, &b), 0);
    assert_true(r == 5 && b == 7);
    assert_int_equal(ratelimit_parse("0", &r, &b), 0);
    assert_true(r == 0);
    assert_int_equal(ratelimit_parse("0.25", &r, &b), 0);
    assert_true(r == 0.25 && b == 1); /* a bucket holds at least one request */
    const char *bad[] = {"", "x", "-1", "5:", "5:0", "5:x", "5:7:9", "1e9", "nan", "inf", " 5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ratelimit_parse(bad[i], &r, &b), -1);
    ratelimit *rl = NULL;
    assert_int_equal(ratelimit_new(0, 1, &rl), -1);
    assert_int_equal(ratelimit_new(1, 0.5, &rl), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_refused),
        cmocka_unit_test(keys_are_separate),
        cmocka_unit_test(retry_after_counts_whole_seconds),
        cmocka_unit_test(many_keys_stay_bounded),
        cmocka_unit_test(parse_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
