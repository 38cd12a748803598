/* test_rule_filter.c: channel rules' conditions and time windows
 * (core/rule_filter.c, core/rule_window.c, core/channel_rules.c): each value
 * shape, IN/NOTIN with absent fields, OR of AND groups, the paths errors
 * name, windows that wrap past midnight (also read alone as escalation
 * rules' recurring windows), and inhibit's `equals`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/channel_rules.h"
#include "core/rule_filter.h"
#include "core/rule_window.h"

/* Whether the filter text (JSON) matches a subject with these labels. */
static int matches(const char *filter, const rule_subject *s) {
    json_t *j = json_loads(filter, 0, NULL);
    assert_non_null(j);
    rule_filter *f = NULL;
    tc_err err = {0};
    int rc = rule_filter_compile(j, "filters", &f, &err);
    json_decref(j);
    if (rc != 0)
        fail_msg("does not compile: %s", err.message);
    int m = rule_filter_match(f, s, 0);
    rule_filter_free(f);
    return m;
}

static const char *refusal(const char *filter) {
    static tc_err err;
    memset(&err, 0, sizeof(err));
    json_t *j = json_loads(filter, 0, NULL);
    assert_non_null(j);
    rule_filter *f = NULL;
    int rc = rule_filter_compile(j, "filters", &f, &err);
    json_decref(j);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, TC_INVALID_PARAMETER);
    assert_null(f);
    return err.message;
}

#define ONE(key, oper, vals) "[[{\"key\":\"" key "\",\"oper\":\"" oper "\",\"vals\":" vals "}]]"

static void value_shapes(void **state) {
    (void)state;
    json_t *labels = json_pack("{s:s, s:s, s:s, s:s}", "host", "db-01.eu", "ip", "10.1.2.3", "ip6",
                               "fd00::1", "load", "7.5");
    rule_subject s = {.severity = "Critical",
                      .title = "disk full on db-01",
                      .alert_key = "k1",
                      .data_source_id = 42,
                      .labels = labels};
    assert_true(matches(ONE("severity", "IN", "[\"Info\",\"Critical\"]"), &s));
    assert_true(matches(ONE("alert_severity", "IN", "[\"Critical\"]"), &s));
    assert_true(matches(ONE("incident_severity", "IN", "[\"Critical\"]"), &s));
    assert_false(matches(ONE("severity", "NOTIN", "[\"Critical\"]"), &s));
    assert_true(matches(ONE("title", "IN", "[\"/disk (full|low)/\"]"), &s));
    assert_false(matches(ONE("title", "IN", "[\"/^full/\"]"), &s));
    assert_true(matches(ONE("labels.host", "IN", "[\"db-??.*\"]"), &s));
    assert_false(matches(ONE("labels.host", "IN", "[\"db-?.*\"]"), &s));
    assert_true(matches(ONE("labels.ip", "IN", "[\"cidr:10.0.0.0/8\"]"), &s));
    assert_false(matches(ONE("labels.ip", "IN", "[\"cidr:10.1.3.0/24\"]"), &s));
    assert_true(matches(ONE("labels.ip6", "IN", "[\"cidr:fd00::/8\"]"), &s));
    assert_true(matches(ONE("labels.load", "IN", "[\"num:gt:7\"]"), &s));
    assert_false(matches(ONE("labels.load", "IN", "[\"num:le:7\"]"), &s));
    assert_true(matches(ONE("data_source_id", "IN", "[\"42\"]"), &s));
    assert_true(matches(ONE("alert_key", "IN", "[\"k1\"]"), &s));
    /* `*` alone: exists (NOTIN: absent); an absent field matches nothing. */
    assert_true(matches(ONE("labels.host", "IN", "[\"*\"]"), &s));
    assert_true(matches(ONE("labels.nope", "NOTIN", "[\"*\"]"), &s));
    assert_false(matches(ONE("labels.nope", "IN", "[\"\"]"), &s));
    assert_true(matches(ONE("labels.nope", "NOTIN", "[\"x\"]"), &s));
    assert_false(matches(ONE("description", "IN", "[\"/.*/\"]"), &s));
    /* OR of AND groups. */
    assert_true(matches("[[{\"key\":\"severity\",\"oper\":\"IN\",\"vals\":[\"Info\"]}],"
                        " [{\"key\":\"labels.host\",\"oper\":\"IN\",\"vals\":[\"db-01.eu\"]},"
                        "  {\"key\":\"title\",\"oper\":\"IN\",\"vals\":[\"*db*\"]}]]",
                        &s));
    assert_false(matches("[[{\"key\":\"severity\",\"oper\":\"IN\",\"vals\":[\"Critical\"]},"
                         "  {\"key\":\"labels.host\",\"oper\":\"IN\",\"vals\":[\"x\"]}]]",
                         &s));
    json_decref(labels);
}

static void refusals_name_the_path(void **state) {
    (void)state;
    assert_non_null(strstr(refusal("[]"), "filters must be"));
    assert_non_null(strstr(refusal("[[]]"), "filters[0] must be"));
    assert_non_null(strstr(refusal(ONE("severity", "LIKE", "[\"x\"]")), "filters[0][0].oper"));
    assert_non_null(strstr(refusal(ONE("what", "IN", "[\"x\"]")), "filters[0][0].key"));
    assert_non_null(strstr(refusal(ONE("title", "IN", "[\"ok\",\"/a(/\"]")),
                           "filters[0][0].vals[1] is not a valid regular expression: missing"));
    assert_non_null(strstr(refusal(ONE("labels.ip", "IN", "[\"cidr:1.2.3.4/40\"]")),
                           "filters[0][0].vals[0] must be cidr"));
    assert_non_null(strstr(refusal(ONE("labels.n", "IN", "[\"num:gt:\"]")),
                           "filters[0][0].vals[0] must be num"));
    assert_non_null(strstr(refusal(ONE("labels.n", "IN", "[]")), "filters[0][0].vals must be"));
}

static int window_at(const char *body, int64_t t) {
    json_t *j = json_loads(body, 0, NULL);
    assert_non_null(j);
    rule_window w;
    tc_err err = {0};
    if (rule_window_read(j, &w, &err) != 0)
        fail_msg("window refused: %s", err.message);
    json_decref(j);
    return rule_window_active(&w, t);
}

static void windows(void **state) {
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    /* One-off: end exclusive. */
    const char *once = "{\"time_filter\":{\"start_time\":100,\"end_time\":200}}";
    assert_true(window_at(once, 100));
    assert_true(window_at(once, 199));
    assert_false(window_at(once, 200));
    /* 1970-01-01 was a Thursday (4). 22:00-02:00 on Thursdays wraps into Friday. */
    const char *wrap =
        "{\"time_filters\":[{\"start\":\"22:00\",\"end\":\"02:00\",\"repeat\":[4]}]}";
    assert_true(window_at(wrap, 23 * 3600));
    assert_true(window_at(wrap, 86400 + 3600));
    assert_false(window_at(wrap, 86400 + 2 * 3600));
    assert_false(window_at(wrap, 3600)); /* Thursday 01:00: Wednesday was not listed */
    const char *day = "{\"time_filters\":[{\"start\":\"09:00\",\"end\":\"17:00\"}]}";
    assert_true(window_at(day, 9 * 3600));
    assert_false(window_at(day, 17 * 3600));
    json_t *bad = json_loads("{\"time_filters\":[{\"start\":\"09:00\",\"end\":\"10:00\","
                             "\"cal_id\":\"workdays\"}]}",
                             0, NULL);
    rule_window w;
    tc_err err = {0};
    assert_int_equal(rule_window_read(bad, &w, &err), -1);
    assert_non_null(strstr(err.message, "time_filters[0].cal_id"));
    json_decref(bad);
}

/* Whether the recurring list (JSON, or NULL) is active at t, as escalation
 * rules read their windows. */
static int recurring_at(const char *list, int64_t t) {
    json_t *j = list ? json_loads(list, 0, NULL) : NULL;
    assert_true(!list || j);
    rule_window w;
    tc_err err = {0};
    if (rule_window_read_recurring(j, &w, &err) != 0)
        fail_msg("windows refused: %s", err.message);
    json_decref(j);
    return rule_window_active(&w, t);
}

static const char *recurring_refusal(const char *list) {
    static tc_err err;
    memset(&err, 0, sizeof(err));
    json_t *j = json_loads(list, 0, NULL);
    assert_non_null(j);
    rule_window w;
    assert_int_equal(rule_window_read_recurring(j, &w, &err), -1);
    json_decref(j);
    assert_int_equal(err.code, TC_INVALID_PARAMETER);
    return err.message;
}

static void recurring_windows(void **state) {
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    /* No windows (absent or empty): always. 1970-01-04 was a Sunday. */
    assert_true(recurring_at(NULL, 3 * 86400 + 3 * 3600));
    assert_true(recurring_at("[]", 3 * 86400 + 3 * 3600));
    const char *office = "[{\"start\":\"09:00\",\"end\":\"18:00\",\"repeat\":[1,2,3,4,5]}]";
    assert_true(recurring_at(office, 9 * 3600));               /* Thursday 09:00 */
    assert_false(recurring_at(office, 3 * 86400 + 12 * 3600)); /* Sunday is not listed */
    /* Several windows are OR'ed; an empty repeat is every day; 24:00 ends a day. */
    const char *two = "[{\"start\":\"01:00\",\"end\":\"02:00\"},"
                      "{\"start\":\"23:00\",\"end\":\"24:00\",\"repeat\":[]}]";
    assert_true(recurring_at(two, 3 * 86400 + 23 * 3600 + 59 * 60));
    assert_true(recurring_at(two, 3600));
    assert_false(recurring_at(two, 2 * 3600));
    assert_non_null(strstr(recurring_refusal("[{\"start\":\"24:00\",\"end\":\"01:00\"}]"),
                           "time_filters[0].start"));
    assert_non_null(strstr(recurring_refusal("[{\"start\":\"01:00\",\"end\":\"01:00\"}]"),
                           "time_filters[0].end"));
    assert_non_null(strstr(recurring_refusal("{}"), "time_filters must be"));
}

static void inhibit_equals(void **state) {
    (void)state;
    json_t *body =
        json_loads("{\"equals\":[\"labels.cluster\"],"
                   "\"source_filters\":" ONE(
                       "severity", "IN", "[\"Critical\"]") ","
                                                           "\"target_filters\":" ONE(
                                                               "severity", "IN", "[\"Info\"]") "}",
                   0, NULL);
    chan_rule r;
    tc_err err = {0};
    assert_int_equal(chan_rule_compile(RULE_INHIBIT, body, &r, &err), 0);
    json_t *a = json_pack("{s:s}", "cluster", "a"), *b = json_pack("{s:s}", "cluster", "b");
    json_t *none = json_object();
    rule_subject src = {.severity = "Critical", .title = "", .alert_key = "s", .labels = a};
    rule_subject t = {.severity = "Info", .title = "", .alert_key = "t", .labels = a};
    assert_true(chan_rule_inhibits(&r, &t, &src));
    t.labels = b;
    assert_false(chan_rule_inhibits(&r, &t, &src));
    t.labels = none; /* absent equals only absent */
    assert_false(chan_rule_inhibits(&r, &t, &src));
    src.labels = none;
    assert_true(chan_rule_inhibits(&r, &t, &src));
    src.severity = "Warning";
    assert_false(chan_rule_inhibits(&r, &t, &src));
    chan_rule_clear(&r);
    json_decref(a);
    json_decref(b);
    json_decref(none);
    json_decref(body);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(value_shapes),   cmocka_unit_test(refusals_name_the_path),
        cmocka_unit_test(windows),        cmocka_unit_test(recurring_windows),
        cmocka_unit_test(inhibit_equals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
