/* test_alert_view.c: alerts and raw events, as stored rows, rendered as
 * AlertItem and AlertEventItem (api/alert_view.c). */
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

static void sample_alert(tc_alert *a) {
    tc_alert_init(a);
    strcpy(a->alert_id, "663a1b2c3d4e5f6789abcdef");
    a->integration_id = 7;
    a->channel_id = 3;
    strcpy(a->incident_id, "663a000000000000deadbeef");
    a->progress = PROGRESS_TRIGGERED;
    a->severity = a->status = RANK_CRITICAL;
    a->created_at = 100;
    a->updated_at = 150;
    a->start_time = 90;
    a->last_time = 140;
    a->event_cnt = 3;
    assert_int_equal(model_set_str(&a->alert_key, "k1"), 0);
    assert_int_equal(model_set_str(&a->title, "CPU high"), 0);
    assert_int_equal(model_set_str(&a->title_rule, "$host CPU"), 0);
    assert_int_equal(model_set_str(&a->description, "d"), 0);
    assert_int_equal(model_set_str(&a->labels, "{\"host\":\"web-01\"}"), 0);
    assert_int_equal(model_set_str(&a->images, "[{\"src\":\"https://img.example/1.png\"}]"), 0);
}

static void item_without_refs(void **state) {
    (void)state;
    tc_alert a;
    sample_alert(&a);
    json_t *item = NULL;
    tc_err err;
    assert_int_equal(alert_view_item(&a, NULL, &item, &err), 0);
    assert_string_equal(s(item, "alert_id"), "663a1b2c3d4e5f6789abcdef");
    assert_int_equal(n(item, "integration_id"), 7);
    assert_int_equal(n(item, "data_source_id"), 7);
    assert_int_equal(n(item, "account_id"), 0);
    assert_string_equal(s(item, "title"), "CPU high");
    assert_string_equal(s(item, "title_rule"), "$host CPU");
    assert_string_equal(s(item, "alert_severity"), "Critical");
    assert_string_equal(s(item, "alert_status"), "Critical");
    assert_string_equal(s(item, "progress"), "Triggered");
    assert_string_equal(s(item, "integration_name"), "");
    assert_string_equal(s(item, "data_source_name"), "");
    assert_string_equal(s(item, "channel_name"), "");
    assert_string_equal(s(item, "channel_status"), "");
    assert_string_equal(s(item, "responder_name"), "");
    assert_true(json_is_false(json_object_get(item, "ever_muted")));
    assert_int_equal(n(item, "event_cnt"), 3);
    assert_int_equal(n(item, "start_time"), 90);
    assert_int_equal(n(item, "end_time"), 0);
    assert_int_equal(n(item, "created_at"), 100);
    assert_int_equal(n(item, "updated_at"), 150);
    assert_string_equal(s(json_object_get(item, "labels"), "host"), "web-01");
    assert_int_equal(json_array_size(json_object_get(item, "images")), 1);
    json_t *inc = json_object_get(item, "incident");
    assert_string_equal(s(inc, "incident_id"), "663a000000000000deadbeef");
    assert_string_equal(s(inc, "title"), "");
    assert_string_equal(s(inc, "progress"), "");
    assert_null(json_object_get(item, "events"));
    json_decref(item);
    tc_alert_clear(&a);
}

static void refs_name_what_it_points_at(void **state) {
    (void)state;
    tc_alert a;
    sample_alert(&a);
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
    json_t *item = NULL;
    tc_err err;
    assert_int_equal(alert_view_item(&a, &refs, &item, &err), 0);
    assert_string_equal(s(item, "integration_name"), "Prom prod");
    assert_string_equal(s(item, "data_source_name"), "Prom prod");
    assert_string_equal(s(item, "data_source_type"), "prometheus");
    assert_string_equal(s(item, "channel_name"), "Production");
    assert_string_equal(s(item, "channel_status"), "disabled");
    assert_string_equal(s(item, "responder_email"), "ann@example.com");
    json_t *inc = json_object_get(item, "incident");
    assert_string_equal(s(inc, "title"), "renamed incident");
    assert_string_equal(s(inc, "progress"), "Processing");
    json_decref(item);
    tc_alert_clear(&a);
}

static void empty_alert_still_has_every_field(void **state) {
    (void)state;
    tc_alert a;
    tc_alert_init(&a);
    a.severity = RANK_INFO;
    json_t *item = NULL;
    tc_err err;
    assert_int_equal(alert_view_item(&a, NULL, &item, &err), 0);
    const char *strings[] = {"alert_id",       "title",          "alert_key",
                             "alert_severity", "alert_status",   "integration_name",
                             "channel_name",   "responder_name", "data_source_ref_id"};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        assert_true(json_is_string(json_object_get(item, strings[i])));
    assert_string_equal(s(item, "alert_severity"), "Info");
    assert_string_equal(s(item, "alert_status"), "Ok");
    assert_true(json_is_object(json_object_get(item, "labels")));
    assert_true(json_is_array(json_object_get(item, "images")));
    assert_null(json_object_get(item, "incident"));
    json_decref(item);
    tc_alert_clear(&a);
}

static void unreadable_labels_are_an_error(void **state) {
    (void)state;
    tc_alert a;
    sample_alert(&a);
    assert_int_equal(model_set_str(&a.labels, "{\"host\":"), 0);
    json_t *item = NULL;
    tc_err err;
    assert_int_equal(alert_view_item(&a, NULL, &item, &err), -1);
    assert_null(item);
    assert_int_equal(err.code, TC_INTERNAL);
    /* Of the wrong kind, too: never shown as an empty object. */
    assert_int_equal(model_set_str(&a.labels, "[]"), 0);
    assert_int_equal(alert_view_item(&a, NULL, &item, &err), -1);
    assert_int_equal(err.code, TC_INTERNAL);
    tc_alert_clear(&a);
}

static void event_item(void **state) {
    (void)state;
    store_alert_event e = {
        .seq = 12,
        .event_id = "663a1b2c3d4e5f6789abc001",
        .alert_id = "663a1b2c3d4e5f6789abcdef",
        .integration_id = 7,
        .integration_type = "alert_prometheus",
        .channel_id = 3,
        .alert_key = "k1",
        .event_severity = "",
        .event_status = "Ok",
        .event_time = 1712650000,
        .created_at = 1712650003,
        .title = "CPU",
        .title_rule = "CPU",
        .description = "",
        .labels = "{\"host\":\"web-01\"}",
        .images = "[]",
    };
    json_t *ev = NULL;
    tc_err err;
    assert_int_equal(alert_view_event(&e, &ev, &err), 0);
    assert_string_equal(s(ev, "event_id"), "663a1b2c3d4e5f6789abc001");
    assert_string_equal(s(ev, "alert_id"), "663a1b2c3d4e5f6789abcdef");
    assert_int_equal(n(ev, "account_id"), 0);
    assert_int_equal(n(ev, "integration_id"), 7);
    assert_int_equal(n(ev, "data_source_id"), 7);
    assert_int_equal(n(ev, "channel_id"), 3);
    assert_string_equal(s(ev, "integration_type"), "prometheus");
    assert_string_equal(s(ev, "alert_key"), "k1");
    assert_string_equal(s(ev, "event_status"), "Ok");
    assert_string_equal(s(ev, "event_severity"), "Ok");
    assert_int_equal(n(ev, "event_time"), 1712650000);
    assert_int_equal(n(ev, "created_at"), 1712650003);
    assert_int_equal(n(ev, "updated_at"), 1712650003);
    assert_int_equal(n(ev, "deleted_at"), 0);
    assert_true(json_is_array(json_object_get(ev, "images")));
    assert_string_equal(s(json_object_get(ev, "labels"), "host"), "web-01");
    json_decref(ev);
    /* A status outside the enum never reaches the client. */
    e.event_status = "bogus";
    e.event_severity = "Warning";
    assert_int_equal(alert_view_event(&e, &ev, &err), 0);
    assert_string_equal(s(ev, "event_status"), "Info");
    assert_string_equal(s(ev, "event_severity"), "Warning");
    json_decref(ev);
}

static void plugin_keys(void **state) {
    (void)state;
    assert_string_equal(alert_view_plugin_key("alert_standard"), "standard");
    assert_string_equal(alert_view_plugin_key("prometheus"), "prometheus");
    assert_string_equal(alert_view_plugin_key(NULL), "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(item_without_refs),
        cmocka_unit_test(refs_name_what_it_points_at),
        cmocka_unit_test(empty_alert_still_has_every_field),
        cmocka_unit_test(unreadable_labels_are_an_error),
        cmocka_unit_test(event_item),
        cmocka_unit_test(plugin_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
