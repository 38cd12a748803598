/* state.h: what the writer keeps in memory beside the store.
 *
 * A cache the writer thread alone owns and alone changes, so that an
 * ingested event is decided without searching the store: the open alert of
 * an (integration, alert_key), the open incidents and their grouping
 * buckets, the alert sources by key, the channels' rules and names, and
 * who subscribes to what. Everything here is rebuilt from the store at
 * start (state_load); nothing is only here.
 *
 *   open alerts      (integration_id, alert_key) -> state_alert: its ids,
 *                    incident, severity, status and newest event hash.
 *                    Invariant relied on by the engine: an alert is in the
 *                    map exactly when its row is not Closed. This map, not
 *                    an index, is what keeps one open alert per key.
 *   open incidents   incident_id -> state_incident: channel, start, newest
 *                    alert, open alerts per status (so a status is
 *                    recomputed without reading its alerts), grouping keys.
 *                    In the map exactly when not Closed and not removed.
 *   buckets          (channel_id, group_key) -> the open incidents a new
 *                    alert with those labels may join (method p).
 *   sources          integration key hash -> alert source and its channel;
 *   channels         id -> name, status, grouping rules, and the enabled
 *                    drop/silence/inhibit rules compiled (core/channel_rules.h);
 *   integrations     id -> name and type (to render alerts);
 *   subscriptions    who wants which (kind, event type, channel).
 * The last four are configuration: any command that changes integrations
 * or channels calls state_config_changed, and they are read again from
 * the store (on the writer's connection, so inside the same transaction)
 * when next needed.
 *
 * Changes to the alert and incident maps are logged, so that a command
 * that fails (its SAVEPOINT rolled back) or a batch that fails (rolled
 * back whole) leaves the maps as the store is: the writer calls
 * state_mark before each command, state_undo_to when it fails, and
 * state_commit once the batch committed. A change that cannot be logged
 * (out of memory) fails before it is made.
 *
 * Memory: about 200 bytes per open alert plus its key, and about 150 per
 * open incident plus 65 per grouping key (docs/ARCHITECTURE.md, "The
 * writer's cache"); closed alerts and incidents leave it. */
#ifndef TOCSIN_STATE_H
#define TOCSIN_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/channel_rules.h"
#include "core/grouping.h"
#include "core/inhibit_sources.h"
#include "core/model.h"
#include "store/store.h"
#include "util/err.h"

typedef struct tc_state tc_state;

typedef struct state_alert {
    struct state_alert *next; /* the key map's chain */
    int64_t id;               /* rowid */
    char alert_id[IDS_OBJECT_LEN + 1];
    int64_t integration_id;
    char *alert_key;
    char incident_id[IDS_OBJECT_LEN + 1];
    int severity, status; /* ranks */
    char event_hash[EVENT_HASH_LEN + 1];
} state_alert;

typedef struct state_incident {
    struct state_incident *next; /* the id map's chain */
    int64_t id;                  /* rowid */
    char incident_id[IDS_OBJECT_LEN + 1];
    int64_t channel_id;
    int64_t start_time, last_alert_time;
    int64_t open_by_status[4]; /* its open alerts per status rank */
    char (*group_keys)[EVENT_HASH_LEN + 1];
    int ngroup_keys;
} state_incident;

typedef struct {
    int64_t integration_id;
    char type[32];
    char *name;
    int64_t channel_id; /* 0 when its channel is gone */
} state_source;

typedef struct {
    int64_t channel_id;
    char *name;
    char status[16]; /* enabled | disabled | deleted */
    group_rules rules;
    chan_rules filters; /* its enabled drop, silence and inhibit rules, compiled */
    int escalate_rules; /* enabled escalation rules: 0 = a new incident reads none */
} state_channel;

typedef struct {
    int64_t integration_id;
    char *name;
    char type[32];
} state_integration;

int state_new(tc_state **out, tc_err *err);
void state_free(tc_state *s);

/* Fills the alert and incident maps from the store's open rows. */
int state_load(tc_state *s, store_conn *c, tc_err *err);
/* Empties the alert and incident maps (before state_load reads them all
 * again: another node's changes could not be followed one by one). */
void state_reset(tc_state *s);
/* Brings the maps up to date with rows another node changed (the alerts
 * and incidents named in changes, read again from the store); a 'c'
 * change drops the configuration. Called by the writer at the start of a
 * batch, before any command: the change log is empty then, and what this
 * does is not undone with the batch (it is what the store holds). */
/* Several nodes. state_change_records gives each change of the batch its
 * record: what this cache now holds of the object (an open alert's or
 * incident's entry, or that it is gone), one line. state_refresh applies
 * other nodes' records, oldest first, without reading the store. */
int state_change_records(tc_state *s, store_batch *b, tc_err *err);
int state_refresh(tc_state *s, const store_change *changes, size_t n, tc_err *err);

/* ---- the change log (called by the writer) --------------------------------- */
size_t state_mark(tc_state *s);
void state_undo_to(tc_state *s, size_t mark);
void state_commit(tc_state *s);

/* ---- open alerts ----------------------------------------------------------------- */
state_alert *state_alert_find(tc_state *s, int64_t integration_id, const char *alert_key);
/* Adds an open alert (copied from a). */
int state_alert_open(tc_state *s, const tc_alert *a, tc_err *err);
/* Copies a's incident, severity, status and event hash into its entry. */
int state_alert_update(tc_state *s, state_alert *e, const tc_alert *a, tc_err *err);
/* The alert closed: it leaves the map. */
int state_alert_close(tc_state *s, state_alert *e, tc_err *err);

/* ---- open incidents -------------------------------------------------------------- */
state_incident *state_incident_find(tc_state *s, const char *incident_id);
/* Adds an open incident (and its grouping keys to the buckets). */
int state_incident_open(tc_state *s, const tc_incident *inc, tc_err *err);
/* Logs e before the caller changes its counters or times. */
int state_incident_touch(tc_state *s, state_incident *e, tc_err *err);
/* The incident closed or was removed: it leaves the map and its buckets. */
int state_incident_close(tc_state *s, state_incident *e, tc_err *err);
/* The newest open incident of the channel in a bucket among keys (in
 * order) whose window still takes alerts at now, or NULL. */
state_incident *state_bucket_find(tc_state *s, int64_t channel_id,
                                  const char (*keys)[EVENT_HASH_LEN + 1], int nkeys,
                                  const group_rules *rules, int64_t now);

/* ---- configuration ------------------------------------------------------------- */
/* Integrations or channels changed: read them again when next needed. */
void state_config_changed(tc_state *s);
/* The enabled alert source with this key's SHA-256, or NULL; *key is its
 * stored key, which the caller compares in constant time with the one
 * given (the hash says nothing of how much of a key was right). */
int state_source_find(tc_state *s, store_conn *c, const char *key_hash, const state_source **out,
                      const char **key, tc_err *err);
/* The channel (NULL when absent). */
int state_channel_find(tc_state *s, store_conn *c, int64_t channel_id, const state_channel **out,
                       tc_err *err);
/* An integration of any kind that is not deleted (NULL when absent). */
int state_integration_find(tc_state *s, store_conn *c, int64_t integration_id,
                           const state_integration **out, tc_err *err);
/* The integrations subscribed to an event (ascending ids, at most max). */
int state_subscribers(tc_state *s, store_conn *c, const char *kind, const char *event_type,
                      int64_t channel_id, int64_t *ids, int max, int *n, tc_err *err);

/* ---- inhibit rules' sources (core/inhibit_sources.h) ------------------------- */
/* The alert after an event of channel ch: noted when ch has inhibit rules. */
int state_inhibit_note(tc_state *s, const state_channel *ch, const tc_alert *a, tc_err *err);
/* The list of candidate sources, rebuilt from the store when stale and
 * pruned to the window ending at now. Entries may name alerts closed since:
 * the caller checks state_inhibit_source_open. */
int state_inhibit_sources(tc_state *s, store_conn *c, int64_t now, inhibit_sources **out,
                          tc_err *err);
/* Whether the entry's alert is still open (in the map of open alerts). */
int state_inhibit_source_open(tc_state *s, const inhibit_source *e);

/* Counts, for /metrics and tests. */
void state_counts(tc_state *s, size_t *open_alerts, size_t *open_incidents);

#endif
