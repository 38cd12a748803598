/* channel_rules.h: a channel's drop, silence and inhibit rules, compiled.
 *
 * A rule is stored as its row in channel_rules (store/channel_rules.h) with
 * the fields of its kind as JSON text (`body`):
 *   drop     {filters}
 *   silence  {filters, time_filter | time_filters, is_directly_discard}
 *   inhibit  {source_filters, target_filters, equals, is_directly_discard}
 * chan_rule_compile reads such a body (or the request that carries the same
 * fields: api/channel_rules.c validates a request with it, so a stored rule
 * always compiles) into filters whose regexes are compiled once. The
 * writer's cache (core/state.c) keeps each channel's enabled rules compiled,
 * in evaluation order (priority, then oldest), and the ingest engine
 * (core/engine.c) asks them per event: drop before anything, then inhibit,
 * then silence (reference/rules.md, "tocsin's decisions"). A channel without
 * rules costs a test of three counts. */
#ifndef TOCSIN_CHANNEL_RULES_H
#define TOCSIN_CHANNEL_RULES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rule_filter.h"
#include "core/rule_window.h"
#include "util/err.h"
#include "util/ids.h"

typedef enum { RULE_DROP, RULE_SILENCE, RULE_INHIBIT, RULE_KINDS } rule_kind;

/* "drop", "silence", "inhibit" (the store's kind column). */
const char *rule_kind_name(rule_kind k);

#define RULE_EQUALS_MAX 5
#define INHIBIT_SOURCE_AGE_S 600 /* a source's newest event at most this old */

typedef struct {
    char rule_id[IDS_OBJECT_LEN + 1];
    char *rule_name;
    rule_kind kind;
    rule_filter *filters;         /* drop, silence */
    rule_filter *source, *target; /* inhibit */
    rule_window window;           /* silence */
    int discard;                  /* is_directly_discard */
    char *equals[RULE_EQUALS_MAX];
    int nequals;
} chan_rule;

/* Reads and compiles the kind's fields of `body`; errors name the field. */
int chan_rule_compile(rule_kind kind, json_t *body, chan_rule *out, tc_err *err);
void chan_rule_clear(chan_rule *r);

/* The kind's fields of a valid request, as the `body` JSON text to store
 * (NULL when out of memory). */
char *chan_rule_body(rule_kind kind, json_t *request);

/* A channel's enabled rules, each kind in evaluation order. */
typedef struct {
    chan_rule *of[RULE_KINDS];
    size_t n[RULE_KINDS], cap[RULE_KINDS];
} chan_rules;

void chan_rules_clear(chan_rules *rs);
/* Appends a compiled rule (moved in: *r is zeroed). */
int chan_rules_add(chan_rules *rs, chan_rule *r, tc_err *err);

/* The first drop rule s matches, or NULL. */
const chan_rule *chan_rules_drop(const chan_rules *rs, const rule_subject *s);
/* The first silence rule in force at now that s matches, or NULL. */
const chan_rule *chan_rules_silence(const chan_rules *rs, const rule_subject *s, int64_t now);
/* Whether the inhibit rule r pairs target t with source src: src passes
 * source_filters (cidr and num not applied) and every `equals` field is the
 * same on both (an absent field equals only an absent one). t's
 * target_filters are the caller's test (once per rule, not per source). */
int chan_rule_inhibits(const chan_rule *r, const rule_subject *t, const rule_subject *src);

#endif
