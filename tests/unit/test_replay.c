/* test_replay.c: the pacing arithmetic of bulk replays (delivery/replay.c,
 * replay_budget): never more than `rate` events per second since the job
 * began, the full rate when ticks are regular, no burst after a pause, and
 * no stall when the clock goes back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "delivery/replay.h"

static void regular_ticks_reach_the_rate(void **state) {
    (void)state;
    int64_t rates[] = {1, 2, 3, 7, 100, 333, 10000};
    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
        int64_t paced = 1000000, total = 0;
        for (int64_t now = 1000000 + 250; now <= 1000000 + 60000; now += 250) {
            total += replay_budget(rates[r], now, &paced);
            assert_true(paced <= now);
            /* Never ahead of the rate since the start. */
            assert_true(total * 1000 <= rates[r] * (now - 1000000));
        }
        /* And close to it: each step rounds the time it used up by under
         * 1 ms, so four steps a second lose under 0.4%. */
        assert_true(total * 1000 >= rates[r] * 60 * 996 - 1000);
    }
}

static void irregular_ticks_never_exceed_the_rate(void **state) {
    (void)state;
    unsigned seed = 7;
    for (int round = 0; round < 200; round++) {
        int64_t rate = 1 + rand_r(&seed) % 500, start = 5000, paced = start, total = 0;
        int64_t now = start;
        for (int i = 0; i < 200; i++) {
            now += rand_r(&seed) % 700;
            total += replay_budget(rate, now, &paced);
            assert_true(total * 1000 <= rate * (now - start));
            assert_true(paced <= now);
        }
    }
}

static void a_pause_gives_at_most_one_second(void **state) {
    (void)state;
    int64_t paced = 0;
    assert_int_equal(replay_budget(50, 3600000, &paced), 50);
    assert_int_equal(paced, 3600000);
    assert_int_equal(replay_budget(50, 3600000, &paced), 0);
}

static void clock_going_back_restarts_from_now(void **state) {
    (void)state;
    int64_t paced = 10000;
    assert_int_equal(replay_budget(4, 9000, &paced), 0);
    assert_int_equal(paced, 9000);
    assert_int_equal(replay_budget(4, 9500, &paced), 2);
    assert_int_equal(paced, 9500);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(regular_ticks_reach_the_rate),
        cmocka_unit_test(irregular_ticks_never_exceed_the_rate),
        cmocka_unit_test(a_pause_gives_at_most_one_second),
        cmocka_unit_test(clock_going_back_restarts_from_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
