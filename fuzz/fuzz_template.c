/* fuzz_template.c: libFuzzer target for custom request bodies ({{path}}
 * templates, delivery/template.c).
 *
 * Input: the first line is the template (as stored in an integration's
 * body_template; not valid UTF-8 or holding a NUL: skipped, since a JSON
 * string never is); the rest is the default body it renders against (any
 * JSON; when it is not JSON, a fixed i_new webhook body). Each input goes
 * through template_check, as /integration/create does, and template_render,
 * as every push does. Checked besides memory safety:
 * - a refusal names a code and a message the API can send (valid UTF-8);
 * - a template that passed template_check renders (the only refusal left
 *   is the rendered-size limit);
 * - whatever renders is valid JSON, with no key twice;
 * - a template without "{{" renders to itself.
 * Seeds: fuzz/corpus/template/. */
#include <string.h>

#include "delivery/template.h"
#include "fuzz_common.h"

/* The default body of an i_new incident webhook (reference/webhooks.md). */
static const char sample_body[] =
    "{\"event_time\":1715000000000,\"event_type\":\"i_new\","
    "\"event_id\":\"0123456789abcdef01234567\","
    "\"person\":{\"person_id\":1,\"person_name\":\"Ada\",\"email\":\"ada@example.com\"},"
    "\"incident\":{\"incident_id\":\"66a1b2c3d4e5f60718293a4b\",\"title\":\"disk full\","
    "\"description\":\"/var at 99%\",\"incident_severity\":\"Critical\","
    "\"incident_status\":\"Critical\",\"progress\":\"Triggered\",\"created_at\":1715000000,"
    "\"updated_at\":1715000000,\"start_time\":1715000000,\"labels\":{\"host\":\"db1\","
    "\"service\":\"pg\"},\"fields\":{\"impact\":null,\"n\":3.5,\"ok\":true},"
    "\"responders\":[{\"person_id\":1,\"person_name\":\"Ada\",\"email\":\"ada@example.com\"}],"
    "\"alert_cnt\":1,\"channel_id\":7,\"channel_name\":\"ops\","
    "\"detail_url\":\"http://127.0.0.1:8080/incident/66a1b2c3d4e5f60718293a4b\","
    "\"group_method\":\"p\"}}";

/* Would template_check find a variable at all? */
static int has_braces(const char *tmpl) {
    return strstr(tmpl, "{{") != NULL;
}

static void check_rendered(const char *tmpl, const char *out) {
    json_error_t jerr;
    json_t *got = json_loads(out, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    FUZZ_CHECK(got != NULL);
    if (!has_braces(tmpl)) {
        json_t *want = json_loads(tmpl, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        FUZZ_CHECK(want != NULL);
        FUZZ_CHECK(json_equal(got, want));
        json_decref(want);
    }
    json_decref(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size);
    size_t tlen = nl ? (size_t)(nl - data) : size;
    /* A template only ever comes from a JSON string (the API's
     * body_template, or the store it wrote): valid UTF-8, no NUL. */
    if (memchr(data, '\0', tlen))
        return 0;
    json_t *as_string = json_stringn((const char *)data, tlen);
    if (!as_string)
        return 0;
    json_decref(as_string);
    /* Templates are stored and passed as C strings. */
    char *tmpl = malloc(tlen + 1);
    if (!tmpl)
        return 0;
    memcpy(tmpl, data, tlen);
    tmpl[tlen] = '\0';
    json_error_t jerr;
    json_t *body = NULL;
    if (nl)
        body = json_loadb((const char *)nl + 1, size - tlen - 1, JSON_DECODE_ANY, &jerr);
    if (!body)
        body = json_loads(sample_body, 0, &jerr);
    FUZZ_CHECK(body != NULL);

    tc_err check_err, render_err;
    tc_err_clear(&check_err);
    tc_err_clear(&render_err);
    int checked = template_check(tmpl, &check_err) == 0;
    if (!checked)
        fuzz_check_refusal(&check_err);
    char *out = NULL;
    if (template_render(tmpl, body, &out, &render_err) == 0) {
        FUZZ_CHECK(out != NULL);
        check_rendered(tmpl, out);
    } else {
        fuzz_check_refusal(&render_err);
        FUZZ_CHECK(out == NULL);
        FUZZ_CHECK(!checked || strstr(render_err.message, "renders to more than"));
    }
    free(out);
    json_decref(body);
    free(tmpl);
    return 0;
}
