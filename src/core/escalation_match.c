/* escalation_match.c: see escalation_match.h. */
#include "core/escalation_match.h"

#include <ctype.h>
#include <fnmatch.h>
#include <regex.h>
#include <string.h>

/* The value of key for the subject, or NULL when absent. */
static const char *field_of(const escalation_subject *s, const char *key) {
    if (strcmp(key, "severity") == 0 || strcmp(key, "incident_severity") == 0 ||
        strcmp(key, "alert_severity") == 0)
        return s->severity;
    if (strcmp(key, "title") == 0)
        return s->title;
    if (strcmp(key, "description") == 0)
        return s->description;
    if (strncmp(key, "labels.", 7) == 0)
        return json_string_value(json_object_get(s->labels, key + 7));
    return NULL;
}

static int regex_match(const char *pattern, size_t len, const char *value) {
    char buf[1024];
    if (len >= sizeof(buf))
        return 0;
    memcpy(buf, pattern, len);
    buf[len] = '\0';
    regex_t re;
    if (regcomp(&re, buf, REG_EXTENDED | REG_NOSUB) != 0)
        return 0; /* refused at create; a stored bad one matches nothing */
    int ok = regexec(&re, value, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

/* One value against the field (NULL = absent). */
static int value_match(const char *want, const char *value) {
    size_t len = strlen(want);
    if (strcmp(want, "*") == 0)
        return value != NULL;
    if (!value)
        return 0;
    if (len >= 2 && want[0] == '/' && want[len - 1] == '/')
        return regex_match(want + 1, len - 2, value);
    if (strpbrk(want, "*?"))
        return fnmatch(want, value, 0) == 0;
    return strcmp(want, value) == 0;
}

static int condition_match(json_t *cond, const escalation_subject *s) {
    const char *key = json_string_value(json_object_get(cond, "key"));
    const char *oper = json_string_value(json_object_get(cond, "oper"));
    const char *value = key ? field_of(s, key) : NULL;
    int any = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cond, "vals"), i, v) {
        const char *want = json_string_value(v);
        if (want && value_match(want, value)) {
            any = 1;
            break;
        }
    }
    return oper && strcmp(oper, "NOTIN") == 0 ? !any : any;
}

int escalation_filters_match(json_t *filters, const escalation_subject *s) {
    if (json_array_size(filters) == 0)
        return 1;
    size_t i, j;
    json_t *group, *cond;
    json_array_foreach(filters, i, group) {
        int all = 1;
        json_array_foreach(group, j, cond) {
            if (!condition_match(cond, s)) {
                all = 0;
                break;
            }
        }
        if (all)
            return 1;
    }
    return 0;
}

int escalation_hhmm(const char *s) {
    if (!s || strlen(s) != 5 || s[2] != ':' || !isdigit((unsigned char)s[0]) ||
        !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[3]) ||
        !isdigit((unsigned char)s[4]))
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h > 23 || m > 59 ? -1 : h * 60 + m;
}

static int day_listed(json_t *repeat, int wday) {
    if (json_array_size(repeat) == 0)
        return 1;
    size_t i;
    json_t *d;
    json_array_foreach(repeat, i, d) {
        if (json_integer_value(d) == wday)
            return 1;
    }
    return 0;
}

static int window_match(json_t *w, const struct tm *now) {
    int start = escalation_hhmm(json_string_value(json_object_get(w, "start")));
    int end = escalation_hhmm(json_string_value(json_object_get(w, "end")));
    json_t *repeat = json_object_get(w, "repeat");
    int minute = now->tm_hour * 60 + now->tm_min;
    if (start < 0 || end < 0)
        return 0;
    if (start <= end)
        return minute >= start && minute < end && day_listed(repeat, now->tm_wday);
    /* wraps: [start, 24:00) of today, or [00:00, end) of yesterday's window */
    if (minute >= start)
        return day_listed(repeat, now->tm_wday);
    return minute < end && day_listed(repeat, (now->tm_wday + 6) % 7);
}

int escalation_time_match(json_t *time_filters, const struct tm *now) {
    if (json_array_size(time_filters) == 0)
        return 1;
    size_t i;
    json_t *w;
    json_array_foreach(time_filters, i, w) {
        if (window_match(w, now))
            return 1;
    }
    return 0;
}
