/* inhibit_sources.h: the open alerts an inhibit rule may take as its source.
 *
 * An inhibit rule holds back a new event when its channel has an alert that
 * is still Triggered, got an event in the last INHIBIT_SOURCE_AGE_S seconds
 * and matches the rule's source filters (reference/rules.md). Testing that
 * needs the alerts' severity, title, description and labels, which the
 * writer's map of open alerts does not keep; reading them with SQL for
 * each event would put a query on the hot path. So the writer's cache
 * (core/state.c) keeps this list beside the map: the alerts of channels
 * that have inhibit rules, noted by the engine as their events arrive, and
 * forgotten once older than the window.
 *
 * It is a cache of the store, never more: whenever it may disagree (the
 * configuration changed, a command or batch was undone, another node
 * changed alerts, the maps were reset), it is marked stale and rebuilt with
 * one query (open alerts with a recent event) when next asked. Whether an
 * entry is still open is checked against the map of open alerts at each
 * use, so an alert closed by any path (recovery, /alert/close, another
 * node) stops counting at once. */
#ifndef TOCSIN_INHIBIT_SOURCES_H
#define TOCSIN_INHIBIT_SOURCES_H

#include <stdint.h>

#include "core/model.h"
#include "core/rule_filter.h"
#include "util/err.h"

typedef struct inhibit_sources inhibit_sources;

/* One entry, as a rule subject. */
typedef struct {
    char alert_id[IDS_OBJECT_LEN + 1];
    int64_t channel_id, last_time;
    rule_subject subject; /* owns its strings and labels */
} inhibit_source;

inhibit_sources *inhibit_sources_new(void);
void inhibit_sources_free(inhibit_sources *l);

/* Forget everything; the next use rebuilds from the store. */
void inhibit_sources_invalidate(inhibit_sources *l);
int inhibit_sources_stale(const inhibit_sources *l);
/* Marks the list fresh (after the caller refilled it with notes). */
void inhibit_sources_fresh(inhibit_sources *l);

/* The alert after an event: kept (replacing its entry) while Triggered,
 * dropped once Closed. */
int inhibit_sources_note(inhibit_sources *l, const tc_alert *a, tc_err *err);

/* The entries, of every channel, in no order (valid until the next note
 * or prune). */
const inhibit_source *inhibit_sources_at(inhibit_sources *l, size_t i);
size_t inhibit_sources_count(inhibit_sources *l);
/* Forgets the entries whose last event came before since. */
void inhibit_sources_prune(inhibit_sources *l, int64_t since);

#endif
