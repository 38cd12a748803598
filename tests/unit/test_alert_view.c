/* test_alert_view.c: stored alert documents rendered as AlertItem and
 * AlertEventItem (api/alert_view.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/alert_view.h"

static const char *s(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}
static json_int_t n(json_t *o, const char *k) {
    return json_integer_value(json_object_get(o, k));
}

static json_t *sample_alert(void) {
    return json_pack(
        "{s:s, s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I,"
        " s:I, s:I, s:{s:s}, s:I, s:{s:s, s:s}, s:[{s:s}]}",
        "alert_id", "663a1b2c3d4e5f6789abcdef", "data_source_id", (json_int_t)7, "data_source_name",
        "old name", "data_source_type", "standard", "channel_id", (json_int_t)3, "channel_name",
        "old channel", "title", "CPU high", "title_rule", "$host CPU", "description", "d",
        "alert_key", "k1", "alert_severity", "Critical", "alert_status", "Critical", "progress",
        "Triggered", "created_at", (json_int_t)100, "updated_at", (json_int_t)150, "start_time",
        (json_int_t)90, "last_time", (json_int_t)140, "end_time", (json_int_t)0, "close_time",
        (json_int_t)0, "labels", "host", "web-01", "event_cnt", (json_int_t)3, "incident",
        "incident_id", "663a000000000000deadbeef", "title", "inc title then", "images", "src",
        "https://img.example/1.png");
}

static void item_from_doc_alone(void **state) {
    (void)state;
    json_t *doc = sample_alert();
    json_t *item = alert_view_item(doc, NULL);
    assert_non_null(item);
    assert_string_equal(s(item, "alert_id"), "663a1b2c3d4e5f6789abcdef");
    assert_int_equal(n(item, "integration_id"), 7);
    assert_int_equal(n(item, "data_source_id"), 7);
    assert_string_equal(s(item, "integration_name"), "old name");
    assert_string_equal(s(item, "data_source_name"), "old name");
    assert_string_equal(s(item, "integration_type"), "standard");
    assert_string_equal(s(item, "channel_name"), "old channel");
    assert_string_equal(s(item, "channel_status"), "");
    assert_string_equal(s(item, "responder_name"), "");
    assert_true(json_is_false(json_object_get(item, "ever_muted")));
    assert_int_equal(n(item, "event_cnt"), 3);
    assert_int_equal(n(item, "start_time"), 90);
    assert_int_equal(n(item, "end_time"), 0);
    assert_string_equal(s(json_object_get(item, "labels"), "host"), "web-01");
    assert_int_equal(json_array_size(json_object_get(item, "images")), 1);
    json_t *inc = json_object_get(item, "incident");
    assert_string_equal(s(inc, "incident_id"), "663a000000000000deadbeef");
    assert_string_equal(s(inc, "title"), "inc title then");
    assert_string_equal(s(inc, "progress"), "");
    assert_null(json_object_get(item, "events"));
    json_decref(item);
    json_decref(doc);
}

static void refs_override_what_the_doc_recorded(void **state) {
    (void)state;
    json_t *doc = sample_alert();
    alert_view_refs refs = {
        .integration_name = "Prom prod",
        .integration_type = "prometheus",
        .channel_name = "Production",
        .channel_status = "disabled",
        .responder_name = "Ann",
        .responder_email = "ann@example.com",
        .incident_title = "renamed incident",
        .incident_progress = "Processing",
    };
    json_t *item = alert_view_item(doc, &refs);
    assert_string_equal(s(item, "integration_name"), "Prom prod");
    assert_string_equal(s(item, "data_source_type"), "prometheus");
    assert_string_equal(s(item, "channel_name"), "Production");
    assert_string_equal(s(item, "channel_status"), "disabled");
    assert_string_equal(s(item, "responder_email"), "ann@example.com");
    json_t *inc = json_object_get(item, "incident");
    assert_string_equal(s(inc, "title"), "renamed incident");
    assert_string_equal(s(inc, "progress"), "Processing");
    json_decref(item);
    json_decref(doc);
}

static void empty_doc_still_has_every_field(void **state) {
    (void)state;
    json_t *doc = json_object();
    json_t *item = alert_view_item(doc, NULL);
    const char *strings[] = {"alert_id",       "title",          "alert_key",
                             "alert_severity", "alert_status",   "integration_name",
                             "channel_name",   "responder_name", "data_source_ref_id"};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        assert_true(json_is_string(json_object_get(item, strings[i])));
    assert_string_equal(s(item, "alert_severity"), "Info");
    assert_true(json_is_object(json_object_get(item, "labels")));
    assert_true(json_is_array(json_object_get(item, "images")));
    assert_null(json_object_get(item, "incident"));
    json_decref(item);
    json_decref(doc);
}

static void event_item(void **state) {
    (void)state;
    json_t *doc = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:I, s:{s:s}}", "event_id",
                            "663a1b2c3d4e5f6789abc001", "alert_id", "663a1b2c3d4e5f6789abcdef",
                            "integration_id", (json_int_t)7, "channel_id", (json_int_t)3,
                            "integration_type", "alert_prometheus", "title", "CPU", "event_status",
                            "Ok", "event_time", (json_int_t)1712650000, "labels", "host", "web-01");
    json_t *ev = alert_view_event(doc);
    assert_string_equal(s(ev, "event_id"), "663a1b2c3d4e5f6789abc001");
    assert_int_equal(n(ev, "integration_id"), 7);
    assert_int_equal(n(ev, "data_source_id"), 7);
    assert_string_equal(s(ev, "integration_type"), "prometheus");
    assert_string_equal(s(ev, "event_status"), "Ok");
    assert_string_equal(s(ev, "event_severity"), "Ok");
    assert_int_equal(n(ev, "created_at"), 1712650000);
    assert_int_equal(n(ev, "updated_at"), 1712650000);
    assert_true(json_is_array(json_object_get(ev, "images")));
    assert_string_equal(s(json_object_get(ev, "labels"), "host"), "web-01");
    json_decref(ev);
    json_decref(doc);
    /* A status outside the enum never reaches the client. */
    doc = json_pack("{s:s}", "event_status", "bogus");
    ev = alert_view_event(doc);
    assert_string_equal(s(ev, "event_status"), "Info");
    json_decref(ev);
    json_decref(doc);
}

static void plugin_keys(void **state) {
    (void)state;
    assert_string_equal(alert_view_plugin_key("alert_standard"), "standard");
    assert_string_equal(alert_view_plugin_key("prometheus"), "prometheus");
    assert_string_equal(alert_view_plugin_key(NULL), "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(item_from_doc_alone),
        cmocka_unit_test(refs_override_what_the_doc_recorded),
        cmocka_unit_test(empty_doc_still_has_every_field),
        cmocka_unit_test(event_item),
        cmocka_unit_test(plugin_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
