/* test_prometheus.c: Alertmanager's webhook body as events
 * (core/prometheus.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/prometheus.h"

static void severity_mapping(void **state) {
    (void)state;
    static const struct {
        const char *labels, *want;
    } cases[] = {
        {"{\"severity\":\"critical\"}", "Critical"},
        {"{\"severity\":\"CRITICAL\"}", "Critical"},
        {"{\"severity\":\"warning\"}", "Warning"},
        {"{\"severity\":\"warn\"}", "Warning"},
        {"{\"severity\":\"info\"}", "Info"},
        {"{\"severity\":\"acknowledged\"}", "Info"},
        {"{\"severity\":\"unknown\"}", "Info"},
        {"{\"severity\":\"unk\"}", "Info"},
        {"{\"severity\":\"ok\"}", "Ok"},
        {"{\"severity\":\"none\"}", "Warning"},
        {"{}", "Warning"},
        {"{\"priority\":\"critical\",\"level\":\"info\"}", "Critical"},
        {"{\"level\":\"info\"}", "Info"},
        {"{\"severity\":\"info\",\"priority\":\"critical\"}", "Info"},
        {"{\"severity\":\"P1\",\"level\":\"critical\"}", "Critical"}, /* unknown word: next */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *l = json_loads(cases[i].labels, 0, NULL);
        assert_string_equal(prometheus_severity(l), cases[i].want);
        json_decref(l);
    }
}

static void times(void **state) {
    (void)state;
    assert_int_equal(prometheus_parse_time("2024-05-01T10:00:00Z"), 1714557600);
    assert_int_equal(prometheus_parse_time("2024-05-01T10:00:00.123456789Z"), 1714557600);
    assert_int_equal(prometheus_parse_time("2024-05-01T12:00:00+02:00"), 1714557600);
    assert_int_equal(prometheus_parse_time("2024-05-01T08:30:00-01:30"), 1714557600);
    assert_int_equal(prometheus_parse_time("0001-01-01T00:00:00Z"), 0);
    assert_int_equal(prometheus_parse_time("yesterday"), 0);
    assert_int_equal(prometheus_parse_time(NULL), 0);
}

static const char *body_text =
    "{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"tocsin\","
    "\"alerts\":["
    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"HighLoad\",\"severity\":\"critical\","
    "\"instance\":\"h1\"},\"annotations\":{\"summary\":\"Load on $instance\",\"description\":"
    "\"load is 9\"},\"startsAt\":\"2024-05-01T10:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
    "\"fingerprint\":\"a1b2c3d4e5f60718\"},"
    "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"DiskFull\"},\"annotations\":{},"
    "\"startsAt\":\"2024-05-01T09:00:00Z\",\"endsAt\":\"2024-05-01T10:05:00Z\"}"
    "]}";

static void maps_each_alert(void **state) {
    (void)state;
    json_t *body = json_loads(body_text, 0, NULL);
    engine_event *evs = NULL;
    size_t n = 0;
    tc_err err;
    assert_int_equal(prometheus_map(body, &evs, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(evs[0].alert_key, "a1b2c3d4e5f60718");
    assert_string_equal(evs[0].title_rule, "Load on $instance");
    assert_string_equal(evs[0].event_status, "Critical");
    assert_string_equal(evs[0].description, "load is 9");
    assert_int_equal(evs[0].event_time, 1714557600);
    assert_string_equal(json_string_value(json_object_get(evs[0].labels, "instance")), "h1");
    /* no fingerprint: a key from the labels; no summary: alertname; resolved: Ok */
    assert_int_equal(strlen(evs[1].alert_key), 64);
    assert_string_equal(evs[1].title_rule, "DiskFull");
    assert_string_equal(evs[1].event_status, "Ok");
    assert_null(evs[1].description);
    assert_int_equal(evs[1].event_time, 1714557900);
    for (size_t i = 0; i < n; i++)
        engine_event_clear(&evs[i]);
    free(evs);
    json_decref(body);
}

static void refuses_what_is_not_alertmanager(void **state) {
    (void)state;
    static const struct {
        const char *body, *mentions;
    } cases[] = {
        {"{}", "alerts"},
        {"{\"alerts\":{}}", "alerts"},
        {"{\"alerts\":[1]}", "alerts[0]"},
        {"{\"alerts\":[{\"status\":\"burning\",\"labels\":{}}]}", "alerts[0].status"},
        {"{\"alerts\":[{\"status\":\"firing\",\"labels\":{\"a\":1}}]}", "alerts[0].labels"},
        {"{\"alerts\":[{\"status\":\"firing\",\"labels\":{}},{\"status\":\"firing\","
         "\"labels\":[]}]}",
         "alerts[1].labels"},
        {"{\"alerts\":[{\"status\":\"firing\",\"annotations\":[]}]}", "alerts[0].annotations"},
        {"{\"alerts\":[{\"status\":\"firing\",\"fingerprint\":7}]}", "alerts[0].fingerprint"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *body = json_loads(cases[i].body, 0, NULL);
        assert_non_null(body);
        engine_event *evs = NULL;
        size_t n = 0;
        tc_err err;
        assert_int_equal(prometheus_map(body, &evs, &n, &err), -1);
        assert_int_equal(err.code, TC_INVALID_PARAMETER);
        if (!strstr(err.message, cases[i].mentions))
            fail_msg("case %zu: '%s' does not mention %s", i, err.message, cases[i].mentions);
        assert_null(evs);
        json_decref(body);
    }
}

static void status_from_body_and_empty_list(void **state) {
    (void)state;
    json_t *body = json_loads("{\"status\":\"resolved\",\"alerts\":[{\"labels\":{\"alertname\":"
                              "\"A\"},\"fingerprint\":\"f\"}]}",
                              0, NULL);
    engine_event *evs = NULL;
    size_t n = 0;
    tc_err err;
    assert_int_equal(prometheus_map(body, &evs, &n, &err), 0);
    assert_string_equal(evs[0].event_status, "Ok");
    engine_event_clear(&evs[0]);
    free(evs);
    json_decref(body);
    body = json_loads("{\"alerts\":[]}", 0, NULL);
    assert_int_equal(prometheus_map(body, &evs, &n, &err), 0);
    assert_int_equal(n, 0);
    free(evs);
    json_decref(body);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(severity_mapping),
        cmocka_unit_test(times),
        cmocka_unit_test(maps_each_alert),
        cmocka_unit_test(refuses_what_is_not_alertmanager),
        cmocka_unit_test(status_from_body_and_empty_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
