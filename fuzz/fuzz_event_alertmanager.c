/* fuzz_event_alertmanager.c: libFuzzer target for the Alertmanager body.
 *
 * Bytes -> the path a POST /event/push/alert/prometheus body takes before it
 * reaches the writer: parsed as the server parses it, then prometheus_map
 * (core/prometheus.c), which turns each alert into an engine_event. Checked
 * besides memory safety: a refusal names a code and a message and returns
 * no events; an accepted body gives one event per alert, each with a title
 * within its limit, a known status, a key, labels, and a time that is not
 * negative. Seeds: fuzz/corpus/event_alertmanager/. */
#include <string.h>

#include "core/event_input.h"
#include "core/prometheus.h"
#include "fuzz_common.h"
#include "util/utf8.h"

static int is_status(const char *s) {
    return strcmp(s, "Critical") == 0 || strcmp(s, "Warning") == 0 || strcmp(s, "Info") == 0 ||
           strcmp(s, "Ok") == 0;
}

static void check_event(const engine_event *ev) {
    FUZZ_CHECK(ev->title_rule && ev->title_rule[0]);
    FUZZ_CHECK(utf8_len(ev->title_rule) <= EVENT_TITLE_RULE_MAX);
    FUZZ_CHECK(ev->event_status && is_status(ev->event_status));
    FUZZ_CHECK(ev->alert_key && ev->alert_key[0]);
    FUZZ_CHECK(utf8_len(ev->alert_key) <= EVENT_ALERT_KEY_MAX);
    FUZZ_CHECK(!ev->description || utf8_len(ev->description) <= EVENT_DESCRIPTION_MAX);
    FUZZ_CHECK(json_is_object(ev->labels));
    FUZZ_CHECK(json_object_size(ev->labels) <= EVENT_LABELS_MAX);
    FUZZ_CHECK(ev->event_time >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *body = fuzz_parse_body(data, size);
    if (!body)
        return 0;
    engine_event *evs = NULL;
    size_t n = 0;
    tc_err err;
    tc_err_clear(&err);
    if (prometheus_map(body, &evs, &n, &err) != 0) {
        fuzz_check_refusal(&err);
        FUZZ_CHECK(evs == NULL && n == 0);
    } else {
        FUZZ_CHECK(n == json_array_size(json_object_get(body, "alerts")));
        for (size_t i = 0; i < n; i++)
            check_event(&evs[i]);
    }
    for (size_t i = 0; i < n; i++)
        engine_event_clear(&evs[i]);
    free(evs);
    json_decref(body);
    return 0;
}
