/* rule_filter.h: the filter conditions of channel rules, compiled once.
 *
 * A filter (reference/rules.md, "Filters") is `[[{key, oper, vals}, ...], ...]`:
 * the outer list is an OR of groups, each group an AND of conditions. `oper`
 * is IN (some value matches) or NOTIN (no value matches). Each value is read
 * by its shape:
 *   /re/           a regular expression, searched (unanchored) with PCRE2,
 *                  compiled once here; PCRE2's message refuses a bad one;
 *   * and ?        a wildcard over the whole value; `*` alone: the field
 *                  exists (under NOTIN: it is absent);
 *   cidr:A/N       an IPv4 or IPv6 range (inet_pton);
 *   num:OP:N       OP gt|ge|lt|le, the field read as a number;
 *   anything else  the exact value.
 * Keys: severity (alert_severity and incident_severity are read as
 * severity), title, description, data_source_id (the integration id as a
 * string), alert_key, labels.<name>; check, resource, service and cluster
 * (named by the OpenAPI text) are read as the labels of those names. An
 * absent field matches no value, so IN fails and NOTIN holds.
 *
 * rule_filter_compile validates request input and is also what the writer's
 * cache compiles stored rules with: an error names the field's full path
 * ("filters[0][1].vals[2]"). Matching allocates nothing; a compiled filter
 * is used by one thread at a time (its regexes share one match block). */
#ifndef TOCSIN_RULE_FILTER_H
#define TOCSIN_RULE_FILTER_H

#include <jansson.h>
#include <stdint.h>

#include "util/err.h"

typedef struct rule_filter rule_filter;

/* What a filter is tested against: an event, or an open alert. */
typedef struct {
    const char *severity; /* Critical | Warning | Info | Ok */
    const char *title;
    const char *description; /* NULL: absent */
    const char *alert_key;
    int64_t data_source_id;
    json_t *labels; /* object string->string, NULL: none */
} rule_subject;

/* Limits tocsin sets where the reference has none. */
#define RULE_FILTER_GROUPS_MAX 20
#define RULE_FILTER_CONDITIONS_MAX 20
#define RULE_FILTER_VALS_MAX 100
#define RULE_FILTER_VAL_MAX 1024 /* characters */

/* Compiles `groups` (a JSON array); `path` names it in errors. An empty
 * list is refused (reference/rules.md: a rule that matches everything must
 * say so with a condition). */
int rule_filter_compile(json_t *groups, const char *path, rule_filter **out, tc_err *err);
void rule_filter_free(rule_filter *f);

/* Whether s passes. `no_cidr_num`: cidr and num values are not applied
 * (never match), as when an inhibit rule tests its source alerts. */
int rule_filter_match(const rule_filter *f, const rule_subject *s, int no_cidr_num);

/* The value of a key (as in filters) for s: NULL when absent. buf holds
 * data_source_id's text. */
const char *rule_subject_value(const rule_subject *s, const char *key, char buf[24]);

/* InvalidParameter naming `path` unless key is one filters accept. */
int rule_filter_check_key(const char *key, const char *path, tc_err *err);

#endif
