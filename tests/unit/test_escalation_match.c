/* test_escalation_match.c: which incidents an escalation rule applies to
 * (core/escalation_match.c): filters over severity, title, description and
 * labels; recurring time windows (end exclusive, wrapping past midnight,
 * weekdays). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/escalation_match.h"

static int match(const char *filters_json, const escalation_subject *s) {
    json_t *f = json_loads(filters_json, 0, NULL);
    assert_non_null(f);
    int ok = escalation_filters_match(f, s);
    json_decref(f);
    return ok;
}

static void filters(void **state) {
    (void)state;
    json_t *labels = json_pack("{s:s, s:s}", "service", "dbmain", "env", "prod");
    escalation_subject s = {
        .severity = "Critical", .title = "disk full", .description = "", .labels = labels};
    assert_true(match("[]", &s)); /* no filters: every incident */
    assert_true(match("[[{\"key\":\"severity\",\"oper\":\"IN\",\"vals\":[\"Critical\"]}]]", &s));
    assert_true(
        match("[[{\"key\":\"alert_severity\",\"oper\":\"IN\",\"vals\":[\"Critical\"]}]]", &s));
    assert_false(match("[[{\"key\":\"severity\",\"oper\":\"IN\",\"vals\":[\"Info\"]}]]", &s));
    assert_true(match("[[{\"key\":\"severity\",\"oper\":\"NOTIN\",\"vals\":[\"Info\"]}]]", &s));
    /* wildcard, regex, exists */
    assert_true(match("[[{\"key\":\"labels.service\",\"oper\":\"IN\",\"vals\":[\"db*\"]}]]", &s));
    assert_true(match("[[{\"key\":\"title\",\"oper\":\"IN\",\"vals\":[\"/^disk/\"]}]]", &s));
    assert_false(match("[[{\"key\":\"title\",\"oper\":\"IN\",\"vals\":[\"/^cpu/\"]}]]", &s));
    assert_true(match("[[{\"key\":\"labels.env\",\"oper\":\"IN\",\"vals\":[\"*\"]}]]", &s));
    assert_false(match("[[{\"key\":\"labels.zone\",\"oper\":\"IN\",\"vals\":[\"*\"]}]]", &s));
    assert_true(match("[[{\"key\":\"labels.zone\",\"oper\":\"NOTIN\",\"vals\":[\"*\"]}]]", &s));
    /* AND inside a group, OR between groups */
    assert_false(match("[[{\"key\":\"labels.env\",\"oper\":\"IN\",\"vals\":[\"prod\"]},"
                       "{\"key\":\"severity\",\"oper\":\"IN\",\"vals\":[\"Info\"]}]]",
                       &s));
    assert_true(match("[[{\"key\":\"severity\",\"oper\":\"IN\",\"vals\":[\"Info\"]}],"
                      "[{\"key\":\"labels.env\",\"oper\":\"IN\",\"vals\":[\"prod\"]}]]",
                      &s));
    json_decref(labels);
}

static int at(const char *windows_json, int wday, int hour, int min) {
    json_t *w = json_loads(windows_json, 0, NULL);
    assert_non_null(w);
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_wday = wday;
    tm.tm_hour = hour;
    tm.tm_min = min;
    int ok = escalation_time_match(w, &tm);
    json_decref(w);
    return ok;
}

static void time_windows(void **state) {
    (void)state;
    const char *office = "[{\"start\":\"09:00\",\"end\":\"18:00\",\"repeat\":[1,2,3,4,5]}]";
    assert_true(at("[]", 0, 3, 0)); /* no windows: always */
    assert_true(at(office, 1, 9, 0));
    assert_true(at(office, 5, 17, 59));
    assert_false(at(office, 5, 18, 0)); /* end is exclusive */
    assert_false(at(office, 0, 12, 0)); /* Sunday is not listed */
    /* 22:00-06:00 wraps: the early hours belong to the day it started */
    const char *night = "[{\"start\":\"22:00\",\"end\":\"06:00\",\"repeat\":[5]}]";
    assert_true(at(night, 5, 23, 0));
    assert_true(at(night, 6, 5, 59)); /* Saturday morning: Friday's window */
    assert_false(at(night, 5, 5, 0)); /* Friday morning: Thursday's, not listed */
    assert_false(at(night, 6, 6, 0));
    /* several windows are OR'ed; empty repeat = every day */
    assert_true(at("[{\"start\":\"01:00\",\"end\":\"02:00\"},{\"start\":\"03:00\",\"end\":"
                   "\"04:00\",\"repeat\":[]}]",
                   3, 3, 30));
    assert_int_equal(escalation_hhmm("23:59"), 23 * 60 + 59);
    assert_int_equal(escalation_hhmm("24:00"), -1);
    assert_int_equal(escalation_hhmm("9:00"), -1);
    assert_int_equal(escalation_hhmm(NULL), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(filters),
        cmocka_unit_test(time_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
