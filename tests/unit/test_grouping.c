/* test_grouping.c: the channel's group rules as pure decisions
 * (core/grouping.c): bucket keys, incident digests, tumbling vs sliding windows, storm
 * thresholds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/grouping.h"

static void rules_from(const char *channel_json, group_rules *g) {
    json_t *doc = json_loads(channel_json, 0, NULL);
    assert_non_null(doc);
    group_rules_from_channel(doc, g);
    json_decref(doc);
}

static void missing_group_is_n(void **state) {
    (void)state;
    group_rules g;
    rules_from("{\"channel_name\":\"x\"}", &g);
    assert_int_equal(g.method, 'n');
    assert_false(group_rules_pattern(&g));
    group_rules_clear(&g);
    group_rules_from_channel(NULL, &g);
    assert_int_equal(g.method, 'n');
    group_rules_clear(&g);
    rules_from("{\"group\":{\"method\":\"p\",\"equals\":[]}}", &g);
    assert_false(group_rules_pattern(&g)); /* p with no lists groups nothing */
    group_rules_clear(&g);
}

static void reads_p_and_i(void **state) {
    (void)state;
    group_rules g;
    rules_from("{\"disable_auto_close\":true,\"group\":{\"method\":\"p\",\"equals\":[[\"a\",\"b\"],"
               "[\"c\"],[1]],\"all_equals_required\":true,\"time_window\":5,"
               "\"window_type\":\"sliding\",\"storm_threshold\":10,\"storm_thresholds\":[50,"
               "5,10]}}",
               &g);
    assert_int_equal(g.method, 'p');
    assert_true(group_rules_pattern(&g));
    assert_int_equal(json_array_size(g.equals), 2); /* [1] is not a list of keys */
    assert_true(g.all_equals_required);
    assert_int_equal(g.window_s, 300);
    assert_true(g.sliding);
    assert_true(g.disable_auto_close);
    assert_int_equal(g.nstorm, 3);
    assert_int_equal(g.storm[0], 5);
    assert_int_equal(g.storm[1], 10);
    assert_int_equal(g.storm[2], 50);
    group_rules_clear(&g);
    rules_from("{\"group\":{\"method\":\"i\",\"i_keys\":[\"host\"]}}", &g);
    assert_int_equal(g.method, 'i');
    assert_true(group_rules_pattern(&g)); /* falls back to p on i_keys */
    assert_int_equal(json_array_size(g.equals), 1);
    assert_false(g.sliding);
    assert_int_equal(g.window_s, 0);
    group_rules_clear(&g);
}

static void bucket_keys(void **state) {
    (void)state;
    json_t *ab = json_pack("[s,s]", "a", "b");
    json_t *ba = json_pack("[s,s]", "b", "a");
    json_t *l1 = json_pack("{s:s, s:s, s:s}", "a", "1", "b", "2", "other", "x");
    json_t *l2 = json_pack("{s:s, s:s}", "b", "2", "a", "1");
    json_t *l3 = json_pack("{s:s}", "a", "1");
    json_t *l4 = json_pack("{s:s, s:s}", "a", "1", "b", "");
    char k1[65], k2[65], k3[65], k4[65];
    assert_int_equal(group_key(ab, l1, 1, k1), 0);
    assert_int_equal(group_key(ba, l2, 1, k2), 0);
    assert_string_equal(k1, k2);                   /* other labels and key order do not matter */
    assert_int_equal(group_key(ab, l3, 1, k3), 1); /* b missing: the list does not apply */
    assert_int_equal(group_key(ab, l3, 0, k3), 0); /* missing compares as empty */
    assert_int_equal(group_key(ab, l4, 0, k4), 0);
    assert_string_equal(k3, k4);
    assert_string_not_equal(k1, k3);
    json_t *empty = json_array();
    assert_int_equal(group_key(empty, l1, 0, k1), 1);
    json_decref(empty);
    json_decref(ab);
    json_decref(ba);
    json_decref(l1);
    json_decref(l2);
    json_decref(l3);
    json_decref(l4);
}

/* dedup_key and equals_md5 of an incident: the first list that applies to
 * its labels, as SHA-256 (the bucket key itself) and MD5 hex. */
static void incident_digests(void **state) {
    (void)state;
    group_rules g;
    char key[65], md5[33], bucket[65];
    rules_from("{\"group\":{\"method\":\"p\",\"equals\":[[\"a\",\"b\"],[\"c\"]],"
               "\"all_equals_required\":true}}",
               &g);
    assert_int_equal(group_incident_digests(&g, "{\"c\":\"3\",\"a\":\"1\"}", key, md5), 0);
    json_t *c = json_pack("[s]", "c"), *labels = json_pack("{s:s}", "c", "3");
    assert_int_equal(group_key(c, labels, 1, bucket), 0); /* [a,b] needs b: [c] applies */
    assert_string_equal(key, bucket);
    assert_int_equal(strlen(md5), 32);
    assert_string_not_equal(md5, "");
    assert_int_equal(group_incident_digests(&g, "{\"x\":\"1\"}", key, md5), 0);
    assert_string_equal(key, ""); /* no list applies */
    assert_string_equal(md5, "");
    assert_int_equal(group_incident_digests(&g, NULL, key, md5), 0); /* a hand-made incident */
    assert_string_equal(key, "");
    assert_int_equal(group_incident_digests(&g, "not json", key, md5), 0);
    assert_string_equal(md5, "");
    group_rules_clear(&g);
    rules_from("{}", &g); /* method n groups nothing */
    assert_int_equal(group_incident_digests(&g, "{\"c\":\"3\"}", key, md5), 0);
    assert_string_equal(key, "");
    assert_int_equal(group_incident_digests(NULL, "{\"c\":\"3\"}", key, md5), 0);
    assert_string_equal(md5, "");
    group_rules_clear(&g);
    json_decref(c);
    json_decref(labels);
}

static void tumbling_and_sliding_windows(void **state) {
    (void)state;
    group_rules g;
    rules_from("{\"group\":{\"method\":\"p\",\"equals\":[[\"a\"]],\"time_window\":1}}", &g);
    /* tumbling: from the incident's start, whatever joined since */
    assert_true(group_window_open(&g, 1000, 0, 1000));
    assert_true(group_window_open(&g, 1000, 1050, 1059));
    assert_false(group_window_open(&g, 1000, 1050, 1060));
    assert_false(group_window_open(&g, 1000, 1059, 1070));
    group_rules_clear(&g);
    rules_from("{\"group\":{\"method\":\"p\",\"equals\":[[\"a\"]],\"time_window\":1,"
               "\"window_type\":\"sliding\"}}",
               &g);
    /* sliding: from the newest alert */
    assert_true(group_window_open(&g, 1000, 1050, 1070));
    assert_true(group_window_open(&g, 1000, 1050, 1109));
    assert_false(group_window_open(&g, 1000, 1050, 1110));
    assert_false(group_window_open(&g, 1000, 0, 1060)); /* no alert yet: from the start */
    group_rules_clear(&g);
    rules_from("{\"group\":{\"method\":\"p\",\"equals\":[[\"a\"]],\"time_window\":0}}", &g);
    assert_true(group_window_open(&g, 1000, 0, 1000 + 86400 * 30)); /* 0: no limit */
    group_rules_clear(&g);
}

static void storm_once_per_threshold(void **state) {
    (void)state;
    group_rules g;
    rules_from("{\"group\":{\"method\":\"n\",\"storm_threshold\":3,\"storm_thresholds\":[5]}}", &g);
    int64_t due[GROUP_MAX_STORM];
    json_t *fired = json_array();
    assert_int_equal(group_storm_due(&g, 2, fired, due), 0);
    assert_int_equal(group_storm_due(&g, 3, fired, due), 1);
    assert_int_equal(due[0], 3);
    json_array_append_new(fired, json_integer(3));
    assert_int_equal(group_storm_due(&g, 4, fired, due), 0);
    assert_int_equal(group_storm_due(&g, 6, fired, due), 1);
    assert_int_equal(due[0], 5);
    json_array_append_new(fired, json_integer(5));
    assert_int_equal(group_storm_due(&g, 100, fired, due), 0);
    /* a jump past two thresholds warns about both */
    assert_int_equal(group_storm_due(&g, 9, NULL, due), 2);
    json_decref(fired);
    group_rules_clear(&g);
    rules_from("{\"group\":{\"method\":\"n\",\"storm_threshold\":0}}", &g);
    assert_int_equal(group_storm_due(&g, 1000, NULL, due), 0); /* 0: off */
    group_rules_clear(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(missing_group_is_n),
        cmocka_unit_test(reads_p_and_i),
        cmocka_unit_test(bucket_keys),
        cmocka_unit_test(incident_digests),
        cmocka_unit_test(tumbling_and_sliding_windows),
        cmocka_unit_test(storm_once_per_threshold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
