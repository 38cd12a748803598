/* test_template.c: custom request bodies (delivery/template.c;
 * reference/webhooks.md "Custom request body"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "delivery/template.h"

/* A default body shaped as reference/webhooks.md's incident webhook. */
static const char *BODY =
    "{\"event_time\":1700000000123,\"event_type\":\"i_ack\",\"event_id\":\"e1\","
    "\"person\":{\"person_id\":7,\"person_name\":\"Ann\",\"email\":\"ann@x.io\"},"
    "\"incident\":{\"incident_id\":\"65a1b2c3d4e5f60718293a4b\",\"title\":\"CPU \\\"hot\\\"\","
    "\"incident_severity\":\"Critical\",\"progress\":\"Processing\",\"alert_cnt\":3,"
    "\"labels\":{\"host\":\"db1\",\"a.b\":\"dotted\"},"
    "\"fields\":{\"ratio\":0.5,\"on\":true,\"off\":false,\"none\":null,\"empty\":\"\"},"
    "\"responders\":[{\"person_id\":7,\"email\":\"ann@x.io\"},"
    "{\"person_id\":8,\"email\":\"bob@x.io\"}],"
    "\"tags\":[[1,2],[3]]}}";

/* Renders tmpl against BODY and compares the output text exactly. */
static void expect_render(const char *tmpl, const char *want) {
    json_t *body = json_loads(BODY, 0, NULL);
    assert_non_null(body);
    char *out = NULL;
    tc_err err;
    tc_err_clear(&err);
    if (template_render(tmpl, body, &out, &err) != 0)
        fail_msg("render failed: %s", err.message);
    if (strcmp(out, want) != 0)
        fail_msg("template %s\n  got  %s\n  want %s", tmpl, out, want);
    free(out);
    json_decref(body);
}

static void expect_check_fails(const char *tmpl, const char *mention) {
    tc_err err;
    tc_err_clear(&err);
    if (template_check(tmpl, &err) != -1)
        fail_msg("template_check accepted %s", tmpl ? tmpl : "(null)");
    assert_int_equal(err.code, TC_INVALID_PARAMETER);
    assert_non_null(strstr(err.message, "body_template"));
    if (mention && !strstr(err.message, mention))
        fail_msg("message \"%s\" does not mention \"%s\"", err.message, mention);
}

static void expect_check_ok(const char *tmpl) {
    tc_err err;
    tc_err_clear(&err);
    if (template_check(tmpl, &err) != 0)
        fail_msg("template_check refused %s: %s", tmpl, err.message);
}

static void no_variables_is_copied(void **state) {
    (void)state;
    expect_render("{\"a\": 1, \"b\": [true, null, \"x\"], \"c\": {}}",
                  "{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{}}");
    expect_render("[]", "[]");
    /* Key order of the template is kept. */
    expect_render("{\"z\":1,\"a\":2,\"m\":3}", "{\"z\":1,\"a\":2,\"m\":3}");
}

static void nested_paths(void **state) {
    (void)state;
    expect_render("{\"t\":\"{{incident.title}}\"}", "{\"t\":\"CPU \\\"hot\\\"\"}");
    expect_render("{\"h\":\"{{incident.labels.host}}\",\"p\":\"{{person.person_name}}\"}",
                  "{\"h\":\"db1\",\"p\":\"Ann\"}");
    expect_render("{\"e\":\"{{event_type}}\"}", "{\"e\":\"i_ack\"}");
    expect_render("{\"deep\":{\"list\":[\"{{incident.incident_id}}\"]}}",
                  "{\"deep\":{\"list\":[\"65a1b2c3d4e5f60718293a4b\"]}}");
}

static void list_indexes(void **state) {
    (void)state;
    expect_render("{\"r\":\"{{incident.responders.0.email}}\"}", "{\"r\":\"ann@x.io\"}");
    expect_render("{\"r\":\"{{incident.responders.1.email}}\"}", "{\"r\":\"bob@x.io\"}");
    expect_render("{\"r\":\"{{incident.tags.0.1}}\"}", "{\"r\":2}");
    expect_render("{\"r\":\"{{incident.tags.1}}\"}", "{\"r\":[3]}");
}

static void out_of_range_and_bad_indexes_stay_as_written(void **state) {
    (void)state;
    expect_render("{\"r\":\"{{incident.responders.2.email}}\"}",
                  "{\"r\":\"{{incident.responders.2.email}}\"}");
    expect_render("{\"r\":\"{{incident.responders.-1.email}}\"}",
                  "{\"r\":\"{{incident.responders.-1.email}}\"}");
    expect_render("{\"r\":\"{{incident.responders.01.email}}\"}",
                  "{\"r\":\"{{incident.responders.01.email}}\"}");
    expect_render("{\"r\":\"{{incident.responders.x}}\"}", "{\"r\":\"{{incident.responders.x}}\"}");
    expect_render("{\"r\":\"{{incident.responders.99999999999}}\"}",
                  "{\"r\":\"{{incident.responders.99999999999}}\"}");
    /* A number does not index an object. */
    expect_render("{\"r\":\"{{incident.labels.0}}\"}", "{\"r\":\"{{incident.labels.0}}\"}");
}

static void missing_path_stays_as_written(void **state) {
    (void)state;
    expect_render("{\"a\":\"{{incident.nope}}\"}", "{\"a\":\"{{incident.nope}}\"}");
    expect_render("{\"a\":\"{{nope}}\"}", "{\"a\":\"{{nope}}\"}");
    /* Going below a scalar is missing too. */
    expect_render("{\"a\":\"{{incident.title.x}}\"}", "{\"a\":\"{{incident.title.x}}\"}");
    expect_render("{\"a\":\"x {{incident.nope}} y {{event_id}}\"}",
                  "{\"a\":\"x {{incident.nope}} y e1\"}");
    /* Spaces inside braces are kept as written when missing. */
    expect_render("{\"a\":\"{{ nope }}\"}", "{\"a\":\"{{ nope }}\"}");
    /* A key with a dot cannot be reached: "a.b" is two levels. */
    expect_render("{\"a\":\"{{incident.labels.a.b}}\"}", "{\"a\":\"{{incident.labels.a.b}}\"}");
}

static void exact_variable_keeps_type(void **state) {
    (void)state;
    expect_render("{\"l\":\"{{incident.labels}}\"}",
                  "{\"l\":{\"host\":\"db1\",\"a.b\":\"dotted\"}}");
    expect_render("{\"r\":\"{{incident.responders}}\"}",
                  "{\"r\":[{\"person_id\":7,\"email\":\"ann@x.io\"},"
                  "{\"person_id\":8,\"email\":\"bob@x.io\"}]}");
    expect_render("{\"n\":\"{{incident.alert_cnt}}\"}", "{\"n\":3}");
    expect_render("{\"n\":\"{{event_time}}\"}", "{\"n\":1700000000123}");
    expect_render("{\"n\":\"{{incident.fields.ratio}}\"}", "{\"n\":0.5}");
    expect_render("{\"b\":\"{{incident.fields.on}}\",\"c\":\"{{incident.fields.off}}\"}",
                  "{\"b\":true,\"c\":false}");
    expect_render("{\"z\":\"{{incident.fields.none}}\"}", "{\"z\":null}");
    expect_render("{\"s\":\"{{incident.fields.empty}}\"}", "{\"s\":\"\"}");
    /* A top-level string template: the whole value. */
    expect_render("\"{{person}}\"",
                  "{\"person_id\":7,\"person_name\":\"Ann\",\"email\":\"ann@x.io\"}");
    /* The same object twice in one body. */
    expect_render("[\"{{person.person_id}}\",\"{{person.person_id}}\"]", "[7,7]");
}

static void mixed_text_becomes_text(void **state) {
    (void)state;
    expect_render("{\"m\":\"[{{incident.incident_severity}}] {{incident.title}}\"}",
                  "{\"m\":\"[Critical] CPU \\\"hot\\\"\"}");
    expect_render("{\"m\":\"n={{incident.alert_cnt}}\"}", "{\"m\":\"n=3\"}");
    expect_render("{\"m\":\"on={{incident.fields.on}} none={{incident.fields.none}}\"}",
                  "{\"m\":\"on=true none=null\"}");
    expect_render("{\"m\":\"labels: {{incident.labels}}\"}",
                  "{\"m\":\"labels: {\\\"host\\\":\\\"db1\\\",\\\"a.b\\\":\\\"dotted\\\"}\"}");
    expect_render("{\"m\":\"{{incident.responders.0}}!\"}",
                  "{\"m\":\"{\\\"person_id\\\":7,\\\"email\\\":\\\"ann@x.io\\\"}!\"}");
    /* Two variables with nothing between them are text, not one value. */
    expect_render("{\"m\":\"{{incident.alert_cnt}}{{incident.alert_cnt}}\"}", "{\"m\":\"33\"}");
    /* A space outside the braces makes it text. */
    expect_render("{\"m\":\" {{incident.alert_cnt}}\"}", "{\"m\":\" 3\"}");
    /* UTF-8 around a variable is kept. */
    expect_render("{\"m\":\"\xc3\xa9{{event_id}}\xc3\xa9\"}", "{\"m\":\"\xc3\xa9"
                                                              "e1\xc3\xa9\"}");
}

static void keys_with_variables(void **state) {
    (void)state;
    expect_render("{\"{{incident.labels.host}}\":\"{{incident.progress}}\"}",
                  "{\"db1\":\"Processing\"}");
    expect_render("{\"k_{{event_type}}\":1}", "{\"k_i_ack\":1}");
    /* A key is always text: a number key becomes its JSON text. */
    expect_render("{\"{{incident.alert_cnt}}\":1}", "{\"3\":1}");
    expect_render("{\"{{nope}}\":1}", "{\"{{nope}}\":1}");
    /* Two keys that render alike: the later wins. */
    expect_render("{\"{{incident.labels.host}}\":1,\"db1\":2}", "{\"db1\":2}");
}

static void whitespace_inside_braces_is_trimmed(void **state) {
    (void)state;
    expect_render("{\"t\":\"{{ incident.title }}\"}", "{\"t\":\"CPU \\\"hot\\\"\"}");
    expect_render("{\"t\":\"{{\\tincident.alert_cnt  }}\"}", "{\"t\":3}");
    expect_check_ok("{\"t\":\"{{ incident.title }}\"}");
    /* Whitespace inside the path is malformed, and left as written. */
    expect_check_fails("{\"t\":\"{{incident. title}}\"}", "malformed");
    expect_render("{\"t\":\"{{incident. title}}\"}", "{\"t\":\"{{incident. title}}\"}");
}

static void malformed_variables(void **state) {
    (void)state;
    expect_check_fails("{\"a\":\"x {{incident.title\"}", "without a closing");
    expect_check_fails("{\"a\":\"{{}}\"}", "empty variable");
    expect_check_fails("{\"a\":\"{{   }}\"}", "empty variable");
    expect_check_fails("{\"a\":\"{{a..b}}\"}", "malformed");
    expect_check_fails("{\"a\":\"{{.a}}\"}", "malformed");
    expect_check_fails("{\"a\":\"{{a.}}\"}", "malformed");
    expect_check_fails("{\"a\":\"{{{a}}\"}", "malformed");
    expect_check_fails("{\"{{x\":1}", "without a closing"); /* in a key too */
    expect_check_fails("[[{\"a\":[\"ok {{event_id}}\",\"{{}}\"]}]]", "empty variable");
    /* Rendering (should an unchecked template reach it) leaves them as text. */
    expect_render("{\"a\":\"x {{incident.title\"}", "{\"a\":\"x {{incident.title\"}");
    expect_render("{\"a\":\"{{}} {{event_id}}\"}", "{\"a\":\"{{}} e1\"}");
    expect_render("{\"a\":\"{{{event_id}}}\"}", "{\"a\":\"{e1}\"}");
    expect_render("{\"a\":\"{{a..b}}\"}", "{\"a\":\"{{a..b}}\"}");
    /* Single braces and a lone "}}" are plain text. */
    expect_check_ok("{\"a\":\"{x} }} {\"}");
    expect_render("{\"a\":\"{x} }} {\"}", "{\"a\":\"{x} }} {\"}");
}

/* The text a refusal quotes is cut where a character starts, so the message
 * stays UTF-8 (fuzz/corpus/template/crash-unclosed-excerpt-utf8). */
static void refusal_excerpt_keeps_characters_whole(void **state) {
    (void)state;
    char tmpl[256] = "[\"x";
    for (int i = 0; i < 60; i++)
        strcat(tmpl, "\u00e9"); /* é: 2 bytes, so byte 80 falls inside one */
    strcat(tmpl, "{{unclosed\"]");
    tc_err err;
    assert_int_equal(template_check(tmpl, &err), -1);
    assert_non_null(strstr(err.message, "without a closing"));
    json_t *msg = json_string(err.message); /* NULL unless valid UTF-8 */
    assert_non_null(msg);
    json_decref(msg);
}

static void check_accepts_good_templates(void **state) {
    (void)state;
    expect_check_ok("{}");
    expect_check_ok("{\"a\":\"{{incident.responders.0.email}}\",\"b\":[1,2.5,null,true]}");
    expect_check_ok("\"{{incident}}\"");
    expect_check_ok("{\"{{incident.labels.host}}\":\"x {{event_id}} y {{event_type}}\"}");
    /* A variable may name a path that does not exist in every body. */
    expect_check_ok("{\"a\":\"{{incident.labels.team}}\"}");
}

static void check_refuses_bad_json_and_size(void **state) {
    (void)state;
    expect_check_fails(NULL, "required");
    expect_check_fails("", "not valid JSON");
    expect_check_fails("{\"a\":", "not valid JSON");
    expect_check_fails("{\"a\":1} x", "not valid JSON");
    expect_check_fails("{\"a\":1,\"a\":2}", "not valid JSON");

    /* 64 KiB exactly is fine; one byte more is refused. */
    size_t n = 64 * 1024;
    char *big = malloc(n + 2);
    assert_non_null(big);
    big[0] = '"';
    memset(big + 1, 'x', n - 2);
    big[n - 1] = '"';
    big[n] = '\0';
    expect_check_ok(big);
    big[n - 1] = 'x';
    big[n] = '"';
    big[n + 1] = '\0';
    expect_check_fails(big, "at most 65536 bytes");
    json_t *body = json_object();
    char *out = (char *)"untouched";
    tc_err err;
    assert_int_equal(template_render(big, body, &out, &err), -1);
    assert_null(out);
    assert_int_equal(err.code, TC_INVALID_PARAMETER);
    json_decref(body);
    free(big);
}

static void render_size_is_bounded(void **state) {
    (void)state;
    /* A body of ~1 MiB repeated by a 64 KiB template would be ~4 GiB. */
    json_t *body = json_object();
    char *chunk = malloc(1024 * 1024 + 1);
    assert_non_null(chunk);
    memset(chunk, 'a', 1024 * 1024);
    chunk[1024 * 1024] = '\0';
    json_object_set_new(body, "big", json_string(chunk));
    free(chunk);
    /* "[" + 20 x "\"{{big}}\"," ... + "]": 20 MiB when rendered. */
    char tmpl[512] = "[";
    for (int i = 0; i < 20; i++)
        strcat(tmpl, i ? ",\"{{big}}\"" : "\"{{big}}\"");
    strcat(tmpl, "]");
    char *out = NULL;
    tc_err err;
    assert_int_equal(template_render(tmpl, body, &out, &err), -1);
    assert_null(out);
    assert_non_null(strstr(err.message, "body_template renders to more than"));
    json_decref(body);
}

static void render_against_non_object_body(void **state) {
    (void)state;
    json_t *body = json_pack("[s,i]", "zero", 1);
    char *out = NULL;
    tc_err err;
    assert_int_equal(template_render("[\"{{0}}\",\"{{1}}\",\"{{2}}\"]", body, &out, &err), 0);
    assert_string_equal(out, "[\"zero\",1,\"{{2}}\"]");
    free(out);
    json_decref(body);
    /* No body at all: everything is missing. */
    assert_int_equal(template_render("{\"a\":\"{{x}}\"}", NULL, &out, &err), 0);
    assert_string_equal(out, "{\"a\":\"{{x}}\"}");
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_variables_is_copied),
        cmocka_unit_test(nested_paths),
        cmocka_unit_test(list_indexes),
        cmocka_unit_test(out_of_range_and_bad_indexes_stay_as_written),
        cmocka_unit_test(missing_path_stays_as_written),
        cmocka_unit_test(exact_variable_keeps_type),
        cmocka_unit_test(mixed_text_becomes_text),
        cmocka_unit_test(keys_with_variables),
        cmocka_unit_test(whitespace_inside_braces_is_trimmed),
        cmocka_unit_test(malformed_variables),
        cmocka_unit_test(check_accepts_good_templates),
        cmocka_unit_test(refusal_excerpt_keeps_characters_whole),
        cmocka_unit_test(check_refuses_bad_json_and_size),
        cmocka_unit_test(render_size_is_bounded),
        cmocka_unit_test(render_against_non_object_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
