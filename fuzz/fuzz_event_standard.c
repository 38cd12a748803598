/* fuzz_event_standard.c: libFuzzer target for the standard event body.
 *
 * Bytes -> the path a POST /event/push/alert/standard body takes before it
 * reaches the writer: parsed as the server parses it, then
 * events_standard_read (api/events.c), which applies every field rule of
 * reference/event-api.md. Checked besides memory safety: a refusal names a
 * code and a message; an accepted event keeps every limit of event_input.h
 * (cut fields within their length, a key of at most 255 characters or a
 * derived 64-hex one), and hashes as the engine would hash it.
 * Seeds: fuzz/corpus/event_standard/. */
#include <string.h>

#include "api/events.h"
#include "core/event_input.h"
#include "fuzz_common.h"
#include "util/utf8.h"

static int is_status(const char *s) {
    return strcmp(s, "Critical") == 0 || strcmp(s, "Warning") == 0 || strcmp(s, "Info") == 0 ||
           strcmp(s, "Ok") == 0;
}

static void check_labels(json_t *labels) {
    if (!labels)
        return;
    FUZZ_CHECK(json_is_object(labels));
    FUZZ_CHECK(json_object_size(labels) <= EVENT_LABELS_MAX);
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v) {
        FUZZ_CHECK(k[0] != '\0' && utf8_len(k) <= EVENT_LABEL_KEY_MAX);
        FUZZ_CHECK(json_is_string(v));
        FUZZ_CHECK(utf8_len(json_string_value(v)) <= EVENT_LABEL_VALUE_MAX);
    }
}

static void check_images(json_t *images) {
    if (!images)
        return;
    FUZZ_CHECK(json_is_array(images));
    size_t i;
    json_t *img;
    json_array_foreach(images, i, img) {
        const char *src = json_string_value(json_object_get(img, "src"));
        const char *alt = json_string_value(json_object_get(img, "alt"));
        const char *href = json_string_value(json_object_get(img, "href"));
        FUZZ_CHECK(src && src[0] && utf8_len(src) <= EVENT_IMAGE_SRC_MAX);
        FUZZ_CHECK(!alt || utf8_len(alt) <= EVENT_IMAGE_ALT_MAX);
        FUZZ_CHECK(!href || utf8_len(href) <= EVENT_IMAGE_HREF_MAX);
    }
}

static void check_event(const engine_event *ev) {
    FUZZ_CHECK(ev->title_rule && utf8_len(ev->title_rule) <= EVENT_TITLE_RULE_MAX);
    FUZZ_CHECK(ev->event_status && is_status(ev->event_status));
    FUZZ_CHECK(ev->alert_key && ev->alert_key[0]);
    FUZZ_CHECK(utf8_len(ev->alert_key) <= EVENT_ALERT_KEY_MAX);
    FUZZ_CHECK(!ev->description || utf8_len(ev->description) <= EVENT_DESCRIPTION_MAX);
    check_labels(ev->labels);
    check_images(ev->images);
    char hash[EVENT_HASH_LEN + 1];
    FUZZ_CHECK(event_content_hash(ev->event_status, ev->title_rule, ev->description, ev->labels,
                                  ev->images, hash) == 0);
    FUZZ_CHECK(strlen(hash) == EVENT_HASH_LEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *body = fuzz_parse_body(data, size);
    if (!body)
        return 0;
    engine_event ev;
    tc_err err;
    engine_event_init(&ev);
    tc_err_clear(&err);
    if (events_standard_read(body, &ev, &err) != 0)
        fuzz_check_refusal(&err);
    else
        check_event(&ev);
    engine_event_clear(&ev);
    json_decref(body);
    return 0;
}
