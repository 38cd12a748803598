/* test_change_merge.c: the merge rules of change events (core/change.c,
 * change_merge): title and friends follow the newest event, start_time is
 * the first Processing (else the first event), end_time the first Done or
 * Canceled, last_time the latest event_time, and the ids stay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/change.h"

static change_event event(const char *status, const char *title) {
    change_event ev;
    change_event_init(&ev);
    ev.change_key = (char *)"CHG-1";
    ev.title = (char *)title;
    ev.change_status = status;
    ev.labels_text = (char *)"{}";
    return ev;
}

/* Merges an event at time t into *ch (in place, as the writer does with a
 * stored row: the strings stay borrowed from the events, which outlive it). */
static void apply(store_change_row *ch, int *exists, const change_event *ev, int64_t t) {
    store_change_row out;
    change_merge(*exists ? ch : NULL, ev, t, 1000, &out);
    if (!*exists) {
        strcpy(out.change_id, "663a1b2c3d4e5f6789abcdef");
        out.id = 1;
    }
    *ch = out;
    *exists = 1;
}

static void first_event_opens_the_change(void **state) {
    (void)state;
    store_change_row ch;
    int exists = 0;
    change_event planned = event("Planned", "plan");
    apply(&ch, &exists, &planned, 100);
    assert_int_equal(ch.start_time, 100);
    assert_int_equal(ch.last_time, 100);
    assert_int_equal(ch.end_time, 0);
    assert_int_equal(ch.started, 0);
    assert_int_equal(ch.event_cnt, 1);
    assert_int_equal(ch.created_at, 1000);
    assert_string_equal(ch.change_status, "Planned");
}

static void processing_sets_start_once(void **state) {
    (void)state;
    store_change_row ch;
    int exists = 0;
    change_event planned = event("Planned", "plan"), run = event("Processing", "run"),
                 again = event("Processing", "still running");
    apply(&ch, &exists, &planned, 100);
    apply(&ch, &exists, &run, 200);
    assert_int_equal(ch.start_time, 200);
    assert_int_equal(ch.started, 1);
    apply(&ch, &exists, &again, 300);
    assert_int_equal(ch.start_time, 200);
    assert_int_equal(ch.last_time, 300);
    assert_int_equal(ch.event_cnt, 3);
    assert_string_equal(ch.title, "still running");
    assert_string_equal(ch.change_id, "663a1b2c3d4e5f6789abcdef");
}

static void first_end_stays(void **state) {
    (void)state;
    store_change_row ch;
    int exists = 0;
    change_event run = event("Processing", "run"), done = event("Done", "done"),
                 cancel = event("Canceled", "rolled back"), late = event("Ready", "late");
    apply(&ch, &exists, &run, 100);
    apply(&ch, &exists, &done, 200);
    assert_int_equal(ch.end_time, 200);
    apply(&ch, &exists, &cancel, 300);
    assert_int_equal(ch.end_time, 200);
    assert_string_equal(ch.change_status, "Canceled");
    /* An older event_time arriving last: its fields win, last_time does not go back. */
    apply(&ch, &exists, &late, 50);
    assert_int_equal(ch.last_time, 300);
    assert_int_equal(ch.start_time, 100);
    assert_string_equal(ch.title, "late");
    assert_string_equal(ch.change_status, "Ready");
}

static void canceled_first_ends_at_its_start(void **state) {
    (void)state;
    store_change_row ch;
    int exists = 0;
    change_event cancel = event("Canceled", "never ran");
    apply(&ch, &exists, &cancel, 500);
    assert_int_equal(ch.start_time, 500);
    assert_int_equal(ch.end_time, 500);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_event_opens_the_change),
        cmocka_unit_test(processing_sets_start_once),
        cmocka_unit_test(first_end_stays),
        cmocka_unit_test(canceled_first_ends_at_its_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
