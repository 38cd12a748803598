/* escalation_match.h: whether an escalation rule applies to a new incident
 * (reference/rules.md, "Escalation rules" and "tocsin's decisions"): now
 * inside one of its recurring time windows (none = always) and the
 * incident passing its filters (none = every incident).
 *
 * Pure functions over parsed JSON, unit-testable without a store. The
 * filter values follow filter-conditions.mdx: `/re/` a regular expression
 * (POSIX extended, from libc), `*` or `?` a wildcard (`*` alone: the field
 * exists), anything else exact; `cidr:` and `num:` values are compared as
 * exact text here (escalation filters read titles, severities and labels).
 * The drop/silence/inhibit rules bring the full matcher; this one should
 * give way to it when both are merged. */
#ifndef TOCSIN_ESCALATION_MATCH_H
#define TOCSIN_ESCALATION_MATCH_H

#include <jansson.h>
#include <time.h>

/* The fields a filter reads; labels is the incident's (= its first alert's)
 * labels object, or NULL. */
typedef struct {
    const char *severity;
    const char *title;
    const char *description;
    json_t *labels;
} escalation_subject;

/* 1 when filters (an OR of AND groups; empty = every incident) pass. */
int escalation_filters_match(json_t *filters, const escalation_subject *s);
/* 1 when the local time tm lies in one of the windows (empty = always):
 * HH:MM in the process's zone, end exclusive, end < start wraps past
 * midnight (the part after midnight belongs to the day the window started),
 * repeat = weekdays 0 (Sunday)..6, empty = every day. */
int escalation_time_match(json_t *time_filters, const struct tm *now);
/* Parses "HH:MM" into minutes since midnight; -1 when malformed. */
int escalation_hhmm(const char *s);

#endif
