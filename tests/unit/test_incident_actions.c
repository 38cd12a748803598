/* test_incident_actions.c: the pure parts of incident changes and views:
 * responders and acknowledgement marks (core/incident_actions.c), the short
 * display id and manual overrides (api/incident_view.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/incident_view.h"
#include "core/incident_actions.h"
#include "util/log.h"

static tc_person person(int64_t id, const char *name) {
    tc_person p = {.person_id = id};
    strcpy(p.person_name, name);
    strcpy(p.email, "x@example.com");
    return p;
}

static void responders_are_added_once(void **state) {
    (void)state;
    json_t *list = json_array(); /* no responder yet */
    tc_person a = person(7, "alice"), b = person(8, "bob");
    assert_null(incident_responder_get(list, 7));
    assert_int_equal(incident_responder_add(list, &a, 100), 1);
    assert_int_equal(incident_responder_add(list, &a, 200), 0);
    assert_int_equal(incident_responder_add(list, &b, 300), 1);
    json_t *r = incident_responder_get(list, 7);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "person_name")), "alice");
    assert_int_equal(json_integer_value(json_object_get(r, "assigned_at")), 100);
    assert_int_equal(json_integer_value(json_object_get(r, "acknowledged_at")), 0);
    assert_int_equal(json_array_size(list), 2);
    /* Stored compact, in the order the webhook Responder has. */
    char *text = json_dumps(r, JSON_COMPACT);
    assert_string_equal(text, "{\"person_id\":7,\"person_name\":\"alice\","
                              "\"email\":\"x@example.com\",\"assigned_at\":100,"
                              "\"acknowledged_at\":0}");
    free(text);
    json_decref(list);
}

static void ack_marks_are_counted_and_cleared(void **state) {
    (void)state;
    json_t *list = json_array();
    tc_person a = person(1, "a"), b = person(2, "b");
    incident_responder_add(list, &a, 1);
    incident_responder_add(list, &b, 1);
    assert_int_equal(incident_ack_count(list), 0);
    json_object_set_new(incident_responder_get(list, 1), "acknowledged_at", json_integer(50));
    json_object_set_new(incident_responder_get(list, 2), "acknowledged_at", json_integer(60));
    assert_int_equal(incident_ack_count(list), 2);
    incident_acks_clear(list);
    assert_int_equal(incident_ack_count(list), 0);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
}

/* Not a list (a stored value that is not one): nothing is found or counted,
 * and nothing can be added. */
static void responders_must_be_a_list(void **state) {
    (void)state;
    json_t *obj = json_object();
    tc_person a = person(1, "a");
    assert_null(incident_responder_get(obj, 1));
    assert_int_equal(incident_ack_count(obj), 0);
    assert_int_equal(incident_responder_add(obj, &a, 1), -1);
    assert_int_equal(json_object_size(obj), 0);
    json_decref(obj);
}

static void closed_is_read_from_progress(void **state) {
    (void)state;
    tc_incident inc;
    tc_incident_init(&inc);
    inc.progress = PROGRESS_CLOSED;
    assert_true(incident_is_closed(&inc));
    inc.progress = PROGRESS_PROCESSING;
    assert_false(incident_is_closed(&inc));
    inc.progress = PROGRESS_TRIGGERED;
    assert_false(incident_is_closed(&inc));
}

static void num_is_the_last_six_hex_upper_case(void **state) {
    (void)state;
    char num[7];
    incident_view_num("69da451ef77b1b51f40e83ee", num);
    assert_string_equal(num, "0E83EE");
    incident_view_num("abc", num);
    assert_string_equal(num, "ABC");
}

static void overrides_list_the_true_pins(void **state) {
    (void)state;
    tc_incident inc;
    tc_incident_init(&inc);
    snprintf(inc.incident_id, sizeof(inc.incident_id), "69da451ef77b1b51f40e83ee");
    assert_int_equal(
        model_set_str(&inc.pins,
                      "{\"title\":true,\"description\":false,\"incident_severity\":true}"),
        0);
    json_t *o = NULL;
    tc_err err;
    assert_int_equal(incident_view_overrides(&inc, &o, &err), 0);
    assert_int_equal(json_array_size(o), 2);
    assert_string_equal(json_string_value(json_array_get(o, 0)), "title");
    assert_string_equal(json_string_value(json_array_get(o, 1)), "incident_severity");
    json_decref(o);
    /* the pins the incident's model reads agree */
    assert_true(model_incident_pinned(&inc, "title"));
    assert_false(model_incident_pinned(&inc, "description"));
    tc_incident_clear(&inc);
    o = NULL;
    assert_int_equal(incident_view_overrides(&inc, &o, &err), 0); /* no pins: none */
    assert_int_equal(json_array_size(o), 0);
    json_decref(o);
}

/* Pins that cannot be read are an error naming the incident, never an
 * empty list. */
static void unreadable_pins_are_an_internal_error(void **state) {
    (void)state;
    tc_incident inc;
    tc_incident_init(&inc);
    snprintf(inc.incident_id, sizeof(inc.incident_id), "69da451ef77b1b51f40e83ee");
    assert_int_equal(model_set_str(&inc.pins, "{\"title\":"), 0);
    json_t *o = NULL;
    tc_err err;
    log_set_level((log_level)(LOG_ERROR + 1)); /* the log line it writes is expected */
    assert_int_equal(incident_view_overrides(&inc, &o, &err), -1);
    log_set_level(LOG_INFO);
    assert_null(o);
    assert_int_equal(err.code, TC_INTERNAL);
    assert_non_null(strstr(err.message, "69da451ef77b1b51f40e83ee"));
    tc_incident_clear(&inc);
}

static void feed_item_has_every_required_field(void **state) {
    (void)state;
    json_t *it = NULL;
    tc_err err;
    assert_int_equal(incident_view_feed_item("69da451ef77b1b51f40e83ee", 7, "i_comm", 3,
                                             1712000000123, "{\"comment\":\"hi\"}", &it, &err),
                     0);
    assert_string_equal(json_string_value(json_object_get(it, "ref_id")),
                        "69da451ef77b1b51f40e83ee");
    assert_string_equal(json_string_value(json_object_get(it, "type")), "i_comm");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(it, "detail"), "comment")), "hi");
    assert_int_equal(json_integer_value(json_object_get(it, "creator_id")), 3);
    assert_int_equal(json_integer_value(json_object_get(it, "created_at")), 1712000000123);
    assert_int_equal(json_integer_value(json_object_get(it, "updated_at")), 1712000000123);
    assert_int_equal(json_integer_value(json_object_get(it, "account_id")), 0);
    json_decref(it);
}

/* A stored detail that cannot be read is an error naming the row, never an
 * entry with an empty detail (util/doc.h). */
static void unreadable_feed_detail_is_an_internal_error(void **state) {
    (void)state;
    json_t *it = NULL;
    tc_err err;
    log_set_level((log_level)(LOG_ERROR + 1)); /* the log line it writes is expected */
    assert_int_equal(incident_view_feed_item("69da451ef77b1b51f40e83ee", 7, "i_ack", 0, 1,
                                             "not json", &it, &err),
                     -1);
    log_set_level(LOG_INFO);
    assert_null(it);
    assert_int_equal(err.code, TC_INTERNAL);
    assert_non_null(strstr(err.message, "incident_feed 7"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(responders_are_added_once),
        cmocka_unit_test(ack_marks_are_counted_and_cleared),
        cmocka_unit_test(responders_must_be_a_list),
        cmocka_unit_test(closed_is_read_from_progress),
        cmocka_unit_test(num_is_the_last_six_hex_upper_case),
        cmocka_unit_test(overrides_list_the_true_pins),
        cmocka_unit_test(unreadable_pins_are_an_internal_error),
        cmocka_unit_test(feed_item_has_every_required_field),
        cmocka_unit_test(unreadable_feed_detail_is_an_internal_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
