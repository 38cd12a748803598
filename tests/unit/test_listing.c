/* test_listing.c: the helpers of list calls (api/listing.c): the query
 * builder, cursors, comma lists, time text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/listing.h"

static void query_keeps_values_out_of_the_text(void **state) {
    (void)state;
    listing_query q;
    listing_query_init(&q);
    json_t *ids = json_pack("[I,I,I]", (json_int_t)1, (json_int_t)2, (json_int_t)3);
    json_t *keys = json_pack("[s]", "x' OR 1=1 --");
    json_t *none = json_array();
    listing_sql(&q, "SELECT 1 FROM t WHERE a >= ");
    listing_int(&q, 42);
    listing_in_ints(&q, "channel_id", ids);
    listing_in_texts(&q, "alert_key", keys);
    listing_in_texts(&q, "ignored", none);
    listing_in_ints(&q, "ignored", NULL);
    const char *sev[] = {"Critical", "Info"};
    listing_in_strs(&q, "sev", sev, 2);
    assert_false(q.oom);
    assert_string_equal(q.sql, "SELECT 1 FROM t WHERE a >= ? AND channel_id IN (?,?,?)"
                               " AND alert_key IN (?) AND sev IN (?,?)");
    assert_int_equal(q.nbinds, 7);
    assert_int_equal(q.binds[0].i, 42);
    assert_int_equal(q.binds[3].i, 3);
    assert_true(q.binds[4].is_text);
    assert_string_equal(q.binds[4].s, "x' OR 1=1 --");
    assert_string_equal(q.binds[6].s, "Info");
    listing_query_clear(&q);
    assert_null(q.sql);
    json_decref(ids);
    json_decref(keys);
    json_decref(none);
}

static void query_grows(void **state) {
    (void)state;
    listing_query q;
    listing_query_init(&q);
    for (int i = 0; i < 1000; i++) {
        listing_sql(&q, i ? "," : "(");
        listing_int(&q, i);
    }
    assert_false(q.oom);
    assert_int_equal(q.nbinds, 1000);
    assert_int_equal(q.binds[999].i, 999);
    assert_int_equal(strlen(q.sql), 2000);
    listing_query_clear(&q);
}

/* A page: LIMIT always, OFFSET only past the first page; both bound. */
static void limit_and_offset(void **state) {
    (void)state;
    listing_query q;
    listing_query_init(&q);
    listing_sql(&q, "SELECT 1");
    listing_limit(&q, 21, 0);
    assert_string_equal(q.sql, "SELECT 1 LIMIT ?");
    assert_int_equal(q.nbinds, 1);
    assert_int_equal(q.binds[0].i, 21);
    listing_query_clear(&q);
    listing_query_init(&q);
    listing_sql(&q, "SELECT 1");
    listing_limit(&q, 21, 40);
    assert_string_equal(q.sql, "SELECT 1 LIMIT ? OFFSET ?");
    assert_int_equal(q.nbinds, 2);
    assert_int_equal(q.binds[1].i, 40);
    listing_query_clear(&q);
}

static void cursors_round_trip(void **state) {
    (void)state;
    char c[LISTING_CURSOR_MAX], id[25];
    int64_t key = 0;
    tc_err err;
    listing_cursor_encode(1712650000, "663a1b2c3d4e5f6789abcdef", c);
    assert_string_equal(c, "1712650000_663a1b2c3d4e5f6789abcdef");
    assert_int_equal(listing_cursor_decode("search_after_ctx", c, &key, id, &err), 0);
    assert_int_equal(key, 1712650000);
    assert_string_equal(id, "663a1b2c3d4e5f6789abcdef");
    listing_cursor_encode(-5, "42", c);
    assert_int_equal(listing_cursor_decode("search_after_ctx", c, &key, id, &err), 0);
    assert_int_equal(key, -5);
    assert_string_equal(id, "42");
}

static void bad_cursors_are_refused(void **state) {
    (void)state;
    const char *bad[] = {"",
                         "_abc",
                         "12",
                         "12_",
                         "x_12",
                         "12_ABC",
                         "12_abc_1",
                         "1 _1",
                         "12_abcdefabcdefabcdefabcdef0",
                         "1234567890123456789_1",
                         "-_1"};
    char id[25];
    int64_t key;
    tc_err err;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(listing_cursor_decode("search_after_ctx", bad[i], &key, id, &err), -1);
        assert_int_equal(err.code, TC_INVALID_PARAMETER);
        assert_non_null(strstr(err.message, "search_after_ctx"));
    }
}

static void csv_enums(void **state) {
    (void)state;
    static const char *const allowed[] = {"Critical", "Warning", "Info", "Ok", NULL};
    const char *out[4];
    tc_err err;
    assert_int_equal(
        listing_csv_enum("alert_severity", "Critical, Warning,,Critical ", allowed, out, 4, &err),
        2);
    assert_ptr_equal(out[0], allowed[0]);
    assert_ptr_equal(out[1], allowed[1]);
    assert_int_equal(listing_csv_enum("alert_severity", "", allowed, out, 4, &err), 0);
    assert_int_equal(listing_csv_enum("alert_severity", " , ", allowed, out, 4, &err), 0);
    assert_int_equal(listing_csv_enum("alert_severity", "Critical,critical", allowed, out, 4, &err),
                     -1);
    assert_string_equal(err.message, "alert_severity: \"critical\" is not one of Critical, "
                                     "Warning, Info, Ok (comma-separated)");
}

static void times_as_text(void **state) {
    (void)state;
    char t[32];
    listing_format_ms(1775971871357, t, sizeof(t));
    assert_string_equal(t, "2026-04-12T05:31:11.357Z");
    listing_format_ms(1000000000000, t, sizeof(t));
    assert_string_equal(t, "2001-09-09T01:46:40.000Z");
    listing_format_ms(0, t, sizeof(t));
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(query_keeps_values_out_of_the_text),
        cmocka_unit_test(query_grows),
        cmocka_unit_test(limit_and_offset),
        cmocka_unit_test(cursors_round_trip),
        cmocka_unit_test(bad_cursors_are_refused),
        cmocka_unit_test(csv_enums),
        cmocka_unit_test(times_as_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
