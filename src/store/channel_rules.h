/* store/channel_rules.h: the channel_rules table (migration 008 / pg 002).
 *
 * One row per drop, silence or inhibit rule of a channel (reference/rules.md);
 * what differs between the kinds is the JSON text `body`, which
 * api/channel_rules.c validates and core/channel_rules.c compiles. The
 * writer's cache reads the enabled rules of every channel at once
 * (store_channel_rules_each_enabled) whenever the configuration changed;
 * the Open API lists a channel's rules of one kind. A deleted rule keeps
 * its row (deleted_at) and is in no list. Every statement about rules lives
 * here. */
#ifndef TOCSIN_STORE_CHANNEL_RULES_H
#define TOCSIN_STORE_CHANNEL_RULES_H

#include <stdint.h>

#include "store/store.h"

/* A row (strings valid during a callback only when read). */
typedef struct {
    const char *rule_id; /* 24 hex */
    int64_t channel_id;
    const char *kind; /* drop | silence | inhibit */
    const char *rule_name, *description;
    int64_t priority;
    const char *status; /* enabled | disabled */
    const char *body;   /* JSON object text: the kind's fields */
    const char *from_incident_id;
    int64_t updated_by, created_at, updated_at, deleted_at; /* Unix s */
    int64_t expires_at; /* a quick silence's end, deleted by the timer after; 0: never */
} store_channel_rule;

typedef int (*store_channel_rule_fn)(void *arg, const store_channel_rule *r, tc_err *err);

int store_channel_rules_insert(store_conn *c, const store_channel_rule *r, tc_err *err);

/* Replaces name, description, priority, body, from_incident_id,
 * expires_at, updated_by and updated_at of the live rule r->rule_id. */
int store_channel_rules_update(store_conn *c, const store_channel_rule *r, tc_err *err);

/* Sets the status of a live rule (enabled | disabled). */
int store_channel_rules_set_status(store_conn *c, const char *rule_id, const char *status,
                                   int64_t updated_by, int64_t now_s, tc_err *err);

/* Soft delete: deleted_at = now_s. */
int store_channel_rules_delete(store_conn *c, const char *rule_id, int64_t updated_by,
                               int64_t now_s, tc_err *err);

/* The live rule rule_id of (channel_id, kind): 1 after fn ran on it, 0 when
 * there is none, -1 with *err. */
int store_channel_rules_get(store_conn *c, int64_t channel_id, const char *kind,
                            const char *rule_id, store_channel_rule_fn fn, void *arg, tc_err *err);

/* The live rules of (channel_id, kind) in evaluation order (priority, then
 * oldest first). */
int store_channel_rules_each(store_conn *c, int64_t channel_id, const char *kind,
                             store_channel_rule_fn fn, void *arg, tc_err *err);

/* Every enabled live rule of every channel, by channel, kind and evaluation
 * order: what the writer's cache compiles. */
int store_channel_rules_each_enabled(store_conn *c, store_channel_rule_fn fn, void *arg,
                                     tc_err *err);

/* The live quick silence made from incident_id: 1 after fn, 0 when none. */
int store_channel_rules_quick_of(store_conn *c, const char *incident_id, store_channel_rule_fn fn,
                                 void *arg, tc_err *err);

/* At most `max` live rules whose expires_at is set and at or before now_s
 * (expired quick silences, which the writer's timer deletes). */
int store_channel_rules_each_expired(store_conn *c, int64_t now_s, int max,
                                     store_channel_rule_fn fn, void *arg, tc_err *err);

#endif
