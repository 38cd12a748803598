/* test_push_config.c: the pushing integrations' request fields
 * (api/push_config.c): the patch holds only what was given, apply lays it
 * over a base, masked secret headers keep their stored value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/push_config.h"

static json_t *parse(const char *text) {
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    return v;
}

static void defaults_fill_every_field(void **state) {
    (void)state;
    json_t *d = push_config_defaults("webhook_alert");
    json_t *want = parse("{\"endpoint\": \"\", \"headers\": {}, \"tls_verify\": true,"
                         " \"timeout_ms\": 1000, \"channel_ids\": [], \"event_types\": [],"
                         " \"body_template\": \"\", \"retry\": {\"max_attempts\": 8,"
                         " \"schedule_s\": [1, 5, 30, 120, 600, 1800, 3600]},"
                         " \"ordered\": true, \"signing\": true}");
    assert_true(json_equal(d, want));
    json_decref(d);
    json_decref(want);
    d = push_config_defaults("custom_action");
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "event_types"), 0)),
                        "i_custom");
    json_decref(d);
}

static void patch_holds_only_given_fields(void **state) {
    (void)state;
    json_t *body = parse("{\"name\": \"x\", \"timeout_ms\": 20, \"retry\": {\"max_attempts\": 2},"
                         " \"ordered\": false, \"tls_verify\": null}");
    json_t *patch = NULL;
    tc_err err;
    assert_int_equal(push_config_read("webhook_incident", body, 0, &patch, &err), 0);
    json_t *want = parse("{\"timeout_ms\": 20, \"retry\": {\"max_attempts\": 2},"
                         " \"ordered\": false}");
    assert_true(json_equal(patch, want));
    json_decref(want);
    json_decref(patch);
    json_decref(body);
}

static void creating_requires_endpoint(void **state) {
    (void)state;
    json_t *body = parse("{\"name\": \"x\"}");
    json_t *patch = NULL;
    tc_err err;
    assert_int_equal(push_config_read("webhook_incident", body, 1, &patch, &err), -1);
    assert_string_equal(err.message, "endpoint is required");
    assert_null(patch);
    json_decref(body);
}

static void apply_merges_retry_and_keeps_masked_secrets(void **state) {
    (void)state;
    json_t *base = push_config_defaults("webhook_incident");
    json_object_set_new(base, "headers",
                        parse("{\"Authorization\": \"Bearer s\", \"X-Team\": \"ops\"}"));
    json_t *patch = parse("{\"retry\": {\"schedule_s\": [9]}, \"headers\": {\"authorization\":"
                          " \"***\", \"X-Team\": \"***\", \"X-New\": \"1\"}}");
    json_t *out = push_config_apply(base, patch);
    json_t *want_retry = parse("{\"max_attempts\": 8, \"schedule_s\": [9]}");
    json_t *want_headers = parse("{\"authorization\": \"Bearer s\", \"X-Team\": \"***\","
                                 " \"X-New\": \"1\"}");
    assert_true(json_equal(json_object_get(out, "retry"), want_retry));
    assert_true(json_equal(json_object_get(out, "headers"), want_headers));
    /* The base is not changed. */
    assert_int_equal(json_array_size(json_object_get(json_object_get(base, "retry"), "schedule_s")),
                     7);
    json_decref(want_retry);
    json_decref(want_headers);
    json_decref(out);
    json_decref(patch);
    json_decref(base);
}

static void secret_headers_are_masked(void **state) {
    (void)state;
    assert_true(push_header_is_secret("Authorization"));
    assert_true(push_header_is_secret("X-API-KEY"));
    assert_true(push_header_is_secret("x-auth-token"));
    assert_true(push_header_is_secret("Set-Cookie"));
    assert_false(push_header_is_secret("X-Team"));
    json_t *headers = parse("{\"X-Secret-Id\": \"a\", \"Accept\": \"b\"}");
    json_t *shown = push_config_shown_headers(headers);
    json_t *want = parse("{\"X-Secret-Id\": \"***\", \"Accept\": \"b\"}");
    assert_true(json_equal(shown, want));
    json_decref(want);
    json_decref(shown);
    json_decref(headers);
}

/* A refused header name or event type is quoted whole characters only, so
 * the message stays UTF-8 (fuzz/corpus/openapi/crash-header-name-utf8 and
 * crash-event-type-utf8). */
static void refusals_quote_whole_characters(void **state) {
    (void)state;
    char name[2 + 100 * 2 + 1] = "X-", type[2 + 40 * 2 + 1] = "i_";
    for (int i = 0; i < 100; i++)
        strcat(name, "\u00e9"); /* é: 2 bytes */
    for (int i = 0; i < 40; i++)
        strcat(type, "\u00e9");
    json_t *bodies[2] = {
        json_pack("{s:s, s:{s:s}}", "endpoint", "https://example.com/h", "headers", name, "v"),
        json_pack("{s:s, s:[s]}", "endpoint", "https://example.com/h", "event_types", type)};
    for (int i = 0; i < 2; i++) {
        json_t *patch = NULL;
        tc_err err;
        assert_non_null(bodies[i]);
        assert_int_equal(push_config_read("webhook_incident", bodies[i], 1, &patch, &err), -1);
        assert_int_equal(err.code, TC_INVALID_PARAMETER);
        json_t *msg = json_string(err.message); /* NULL unless valid UTF-8 */
        assert_non_null(msg);
        json_decref(msg);
        json_decref(bodies[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_fill_every_field),
        cmocka_unit_test(patch_holds_only_given_fields),
        cmocka_unit_test(creating_requires_endpoint),
        cmocka_unit_test(apply_merges_retry_and_keeps_masked_secrets),
        cmocka_unit_test(secret_headers_are_masked),
        cmocka_unit_test(refusals_quote_whole_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
