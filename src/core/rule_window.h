/* rule_window.h: the time windows of silence and escalation rules (reference/rules.md,
 * "Time filters", and tocsin's decisions).
 *
 * Either one one-off window `time_filter` {start_time, end_time} (Unix s,
 * both > 0, start < end, end exclusive), or recurring windows `time_filters`
 * [{start "HH:MM", end "HH:MM", repeat [0..6] (0 = Sunday, empty = every
 * day), cal_id, is_off}], OR'ed. Recurring windows are read in the process's
 * zone, which main fixes once at start from --time-zone (TZ + tzset before
 * any thread), so localtime_r is safe from every thread. `end` is exclusive;
 * an end before its start wraps past midnight (the part after midnight
 * belongs to the day the window started on). `cal_id` is refused: tocsin has
 * no service calendars. */
#ifndef TOCSIN_RULE_WINDOW_H
#define TOCSIN_RULE_WINDOW_H

#include <jansson.h>
#include <stdint.h>

#include "util/err.h"

#define RULE_WINDOWS_MAX 20

typedef struct {
    int start_min, end_min; /* minutes of the day; end 1..1440 */
    unsigned days;          /* bit d: weekday d (0 Sunday); all seven when repeat is empty */
} rule_recurring;

typedef struct {
    int64_t once_start, once_end; /* both 0: no one-off window */
    rule_recurring rec[RULE_WINDOWS_MAX];
    int nrec;
} rule_window;

/* Reads time_filter xor time_filters from `body` (exactly one must be
 * given); errors name the field. */
int rule_window_read(json_t *body, rule_window *out, tc_err *err);

/* Reads only recurring windows, the list `time_filters` (escalation rules
 * have no one-off window): absent, null or empty is no window, which is
 * always active. Errors name the field as rule_window_read's do. */
int rule_window_read_recurring(json_t *time_filters, rule_window *out, tc_err *err);

/* Whether now (Unix s) lies inside the window. */
int rule_window_active(const rule_window *w, int64_t now);

#endif
