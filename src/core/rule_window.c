/* rule_window.c: see rule_window.h. */
#include "core/rule_window.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* "HH:MM" (or "H:MM"), 00:00 to 23:59, or 24:00 when `end`. -1 when not. */
static int parse_hhmm(const char *s, int end) {
    int h = 0, m = 0, n = 0;
    if (!s || sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || s[n] || n < 4 || h < 0 || m < 0 || m > 59)
        return -1;
    int t = h * 60 + m;
    if (h > 24 || t > 1440 || (t == 1440 && !end))
        return -1;
    return t;
}

static int read_once(json_t *tf, rule_window *w, tc_err *err) {
    if (!json_is_object(tf))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filter must be an object {start_time, end_time}");
    json_t *s = json_object_get(tf, "start_time"), *e = json_object_get(tf, "end_time");
    if (!json_is_integer(s) || json_integer_value(s) <= 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filter.start_time must be an integer > 0 (Unix seconds)");
    if (!json_is_integer(e) || json_integer_value(e) <= 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filter.end_time must be an integer > 0 (Unix seconds)");
    if (json_integer_value(e) <= json_integer_value(s))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filter.end_time must be after time_filter.start_time");
    w->once_start = json_integer_value(s);
    w->once_end = json_integer_value(e);
    return 0;
}

static int read_days(json_t *repeat, size_t i, unsigned *days, tc_err *err) {
    *days = 0x7f;
    if (!repeat || json_is_null(repeat))
        return 0;
    if (!json_is_array(repeat) || json_array_size(repeat) > 7)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filters[%zu].repeat must be an array of weekdays 0 to 6", i);
    if (json_array_size(repeat) == 0)
        return 0;
    *days = 0;
    size_t j;
    json_t *d;
    json_array_foreach(repeat, j, d) {
        if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > 6)
            return tc_err_set(err, TC_INVALID_PARAMETER,
                              "time_filters[%zu].repeat[%zu] must be a weekday 0 (Sunday) to 6", i,
                              j);
        *days |= 1u << json_integer_value(d);
    }
    return 0;
}

static int read_recurring(json_t *one, size_t i, rule_recurring *r, tc_err *err) {
    if (!json_is_object(one))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filters[%zu] must be an object {start, end, repeat}", i);
    json_t *cal = json_object_get(one, "cal_id"), *off = json_object_get(one, "is_off");
    if (cal && !json_is_null(cal) && !(json_is_string(cal) && !*json_string_value(cal)))
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filters[%zu].cal_id is not supported: tocsin has no service"
                          " calendars; use repeat",
                          i);
    if (off && !json_is_boolean(off))
        return tc_err_set(err, TC_INVALID_PARAMETER, "time_filters[%zu].is_off must be a boolean",
                          i);
    r->start_min = parse_hhmm(json_string_value(json_object_get(one, "start")), 0);
    if (r->start_min < 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filters[%zu].start must be HH:MM (00:00 to 23:59)", i);
    r->end_min = parse_hhmm(json_string_value(json_object_get(one, "end")), 1);
    if (r->end_min < 0)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filters[%zu].end must be HH:MM (00:00 to 24:00)", i);
    if (r->end_min == r->start_min)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filters[%zu].end must differ from its start (end is exclusive)", i);
    return read_days(json_object_get(one, "repeat"), i, &r->days, err);
}

int rule_window_read(json_t *body, rule_window *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    json_t *once = json_object_get(body, "time_filter"),
           *rec = json_object_get(body, "time_filters");
    if (json_is_null(once))
        once = NULL;
    if (json_is_null(rec) || (json_is_array(rec) && json_array_size(rec) == 0))
        rec = NULL;
    if (once && rec)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filter and time_filters exclude each other: give one");
    if (!once && !rec)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filter or time_filters is required (a one-off or recurring"
                          " window)");
    if (once)
        return read_once(once, out, err);
    return rule_window_read_recurring(rec, out, err);
}

int rule_window_read_recurring(json_t *time_filters, rule_window *out, tc_err *err) {
    memset(out, 0, sizeof(*out));
    if (!time_filters || json_is_null(time_filters))
        return 0;
    if (!json_is_array(time_filters) || json_array_size(time_filters) > RULE_WINDOWS_MAX)
        return tc_err_set(err, TC_INVALID_PARAMETER,
                          "time_filters must be an array of at most %d windows", RULE_WINDOWS_MAX);
    size_t i;
    json_t *one;
    json_array_foreach(time_filters, i, one) {
        if (read_recurring(one, i, &out->rec[i], err) != 0)
            return -1;
        out->nrec = (int)i + 1;
    }
    return 0;
}

static int recurring_active(const rule_recurring *r, int wday, int minute) {
    if (r->start_min < r->end_min)
        return (r->days >> wday & 1) && minute >= r->start_min && minute < r->end_min;
    /* Wraps past midnight: the evening of a listed day, or the morning after it. */
    if ((r->days >> wday & 1) && minute >= r->start_min)
        return 1;
    int yesterday = (wday + 6) % 7;
    return (r->days >> yesterday & 1) && minute < r->end_min;
}

int rule_window_active(const rule_window *w, int64_t now) {
    if (w->once_end)
        return now >= w->once_start && now < w->once_end;
    if (!w->nrec)
        return 1;
    time_t t = (time_t)now;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    int minute = tm.tm_hour * 60 + tm.tm_min;
    for (int i = 0; i < w->nrec; i++) {
        if (recurring_active(&w->rec[i], tm.tm_wday, minute))
            return 1;
    }
    return 0;
}
