/* prometheus.c: see prometheus.h. */
#include "core/prometheus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/event_input.h"

static const char *map_severity_word(const char *v) {
    static const struct {
        const char *word, *status;
    } words[] = {
        {"critical", "Critical"}, {"warning", "Warning"}, {"warn", "Warning"}, {"info", "Info"},
        {"acknowledged", "Info"}, {"unknown", "Info"},    {"unk", "Info"},     {"ok", "Ok"},
        {"none", "Warning"},
    };
    for (size_t i = 0; v && i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasecmp(v, words[i].word) == 0)
            return words[i].status;
    }
    return NULL;
}

const char *prometheus_severity(json_t *labels) {
    static const char *const names[] = {"severity", "priority", "level"};
    for (size_t i = 0; i < 3; i++) {
        const char *s = map_severity_word(json_string_value(json_object_get(labels, names[i])));
        if (s)
            return s;
    }
    return "Warning";
}

int64_t prometheus_parse_time(const char *s) {
    int y, mo, d, h, mi, sec, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return 0;
    const char *p = s + n;
    if (*p == '.') /* fractions of a second: skipped */
        for (p++; *p >= '0' && *p <= '9'; p++) {
        }
    int64_t offset = 0;
    if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
            return 0;
        offset = (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
    } else if (*p != 'Z' && *p != 'z') {
        return 0;
    }
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    int64_t t = (int64_t)timegm(&tm) - offset;
    return t > 0 ? t : 0;
}

static char *dup_cut(const char *s, size_t max_chars) {
    return strndup(s, utf8_prefix(s, max_chars));
}

/* A non-empty string member of obj, or NULL. */
static const char *nonempty(json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

static int map_alert(json_t *a, size_t i, const char *body_status, engine_event *ev, tc_err *err) {
    char field[64];
    if (!json_is_object(a))
        return tc_err_set(err, TC_INVALID_PARAMETER, "alerts[%zu] must be an object", i);
    json_t *st = json_object_get(a, "status");
    const char *status = st ? json_string_value(st) : body_status;
    if (!status || (strcmp(status, "firing") != 0 && strcmp(status, "resolved") != 0))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "alerts[%zu].status must be firing or resolved", i);
    snprintf(field, sizeof(field), "alerts[%zu].labels", i);
    if (event_labels_normalize(json_object_get(a, "labels"), field, &ev->labels, err) != 0)
        return -1;
    if (!ev->labels && !(ev->labels = json_object()))
        return tc_err_oom(err, "an Alertmanager body");
    json_t *ann = json_object_get(a, "annotations");
    if (ann && !json_is_object(ann) && !json_is_null(ann))
        return tc_err_set(err, TC_INVALID_PARAMETER, "alerts[%zu].annotations must be an object",
                          i);
    json_t *fp = json_object_get(a, "fingerprint");
    if (fp && !json_is_null(fp) && !json_is_string(fp))
        return tc_err_set(err, TC_INVALID_PARAMETER, "alerts[%zu].fingerprint must be a string", i);
    const char *fingerprint = nonempty(a, "fingerprint");
    if (fingerprint && utf8_len(fingerprint) > EVENT_ALERT_KEY_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "alerts[%zu].fingerprint must be at most %d characters", i,
                          EVENT_ALERT_KEY_MAX);
    const char *title = nonempty(ann, "summary");
    if (!title)
        title = nonempty(ev->labels, "alertname");
    const char *desc = nonempty(ann, "description");
    int resolved = strcmp(status, "resolved") == 0;
    ev->title_rule = dup_cut(title ? title : "Alertmanager alert", EVENT_TITLE_RULE_MAX);
    ev->event_status = strdup(resolved ? "Ok" : prometheus_severity(ev->labels));
    ev->description = desc ? dup_cut(desc, EVENT_DESCRIPTION_MAX) : NULL;
    ev->event_time = prometheus_parse_time(
        json_string_value(json_object_get(a, resolved ? "endsAt" : "startsAt")));
    if (fingerprint) {
        ev->alert_key = strdup(fingerprint);
    } else {
        char key[EVENT_HASH_LEN + 1];
        if (event_key_derive("", ev->labels, key) == 0)
            ev->alert_key = strdup(key);
    }
    if (!ev->title_rule || !ev->event_status || (desc && !ev->description) || !ev->alert_key)
        return tc_err_oom(err, "an Alertmanager body");
    return 0;
}

int prometheus_map(json_t *body, engine_event **out, size_t *n, tc_err *err) {
    *out = NULL;
    *n = 0;
    json_t *alerts = json_object_get(body, "alerts");
    if (!json_is_array(alerts))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "alerts is required: a list of Alertmanager alerts (webhook body "
                          "version 4)");
    json_t *bs = json_object_get(body, "status");
    if (bs && !json_is_null(bs) && !json_is_string(bs))
        return tc_err_set(err, TC_INVALID_PARAMETER, "status must be a string");
    size_t count = json_array_size(alerts);
    engine_event *evs = calloc(count ? count : 1, sizeof(*evs));
    if (!evs)
        return tc_err_oom(err, "an Alertmanager body");
    size_t i;
    json_t *a;
    for (i = 0; i < count; i++)
        engine_event_init(&evs[i]);
    json_array_foreach(alerts, i, a) {
        if (map_alert(a, i, json_string_value(bs), &evs[i], err) != 0)
            goto fail;
    }
    *out = evs;
    *n = count;
    return 0;
fail:
    for (i = 0; i < count; i++)
        engine_event_clear(&evs[i]);
    free(evs);
    return -1;
}
