/* engine.h: from event to alert to incident (reference/event-api.md,
 * "From event to alert to incident" and "Incident progress").
 *
 * engine_ingest_many runs inside a writer command for the normalized
 * events of one request: it finds the alert source by key, dedupes against
 * the open alert of the same alert_key (a_new / a_update, identical
 * repeats dropped, Ok recovers), groups a new alert into an incident by
 * the channel's `group` rules (i_new / a_merge), fires storm warnings
 * (i_storm), and keeps the incident's status and counters true, closing it
 * when all its alerts have recovered (i_rslv, no person).
 *
 * Everything it searches for is in the writer's cache (core/state.h): a new
 * alert in a new incident reads nothing from the store. What a request can
 * do without the writer (parsing, limits, the key derived, the content
 * hash, the title, the labels encoded) is done before, on the HTTP thread
 * (engine_event_prepare).
 *
 * engine_alert_close, engine_alert_move and engine_incident_refresh are the
 * steps other changes reuse: /alert/close, /alert/merge and /incident/merge. */
#ifndef TOCSIN_ENGINE_H
#define TOCSIN_ENGINE_H

#include <jansson.h>
#include <stddef.h>

#include "core/incident.h"
#include "core/model.h"
#include "core/writer.h"

/* One incoming event, normalized and validated by api/events.c. All limits
 * of the reference are already applied (cut or refused). Owned strings. */
typedef struct {
    char *title_rule;   /* as given (cut to 512) */
    char *event_status; /* Critical | Warning | Info | Ok */
    char *alert_key;    /* NULL: the engine derives one */
    char *description;  /* may be NULL */
    json_t *labels;     /* object string->string, may be NULL */
    json_t *images;     /* array of {alt, src, href}, may be NULL */
    int64_t event_time; /* Unix seconds; 0 = now */
    /* Set by engine_event_prepare (off the writer thread). */
    int prepared;
    char *title;       /* title_rule rendered with `labels` (NULL labels: none) */
    char *labels_text; /* compact JSON, NULL when labels is NULL */
    char *images_text; /* compact JSON, NULL when images is NULL */
    char hash[EVENT_HASH_LEN + 1];
} engine_event;

void engine_event_init(engine_event *ev);
void engine_event_clear(engine_event *ev);
/* Everything the writer need not do: the key when absent (InvalidParameter
 * for an Ok event without one), the content hash, the title, the labels and
 * images as text. */
int engine_event_prepare(engine_event *ev, tc_err *err);

typedef struct {
    char alert_key[256 * 4 + 1]; /* the key used (given or derived) */
    char alert_id[25];           /* the alert it went to ("" when dropped) */
    int dropped;                 /* identical to the previous event, or a rule's */
    /* A drop rule discarded the event (/metrics counts it per rule). */
    int64_t drop_channel_id;
    char drop_rule_id[25]; /* "" when no drop rule did */
} engine_result;

/* For n prepared events of one integration (an Alertmanager body has
 * several): the key is checked once, the events are applied in order, out
 * has n entries. Unauthorized for an unknown, disabled or deleted key, or
 * one that is not an alert source of `expected_type` ("alert_standard",
 * "alert_prometheus"); AccessDenied when its channel is disabled. Every
 * check comes before the first change, so the command runs without a
 * SAVEPOINT (WRITER_NO_SAVEPOINT): a later failure is the store's, and
 * fails the batch. */
int engine_ingest_many(writer_txn *txn, const char *integration_key, const char *key_hash,
                       const char *expected_type, engine_event *evs, size_t n, engine_result *out,
                       tc_err *err);

/* An event tocsin raises about itself (core/self_alerts.c), on the path a
 * pushed event takes from the writer on: the same dedupe, grouping,
 * recovery, outbox and escalation. Its source is no integration: the
 * alert's integration_id is 0, and it goes into channel_id, which must
 * exist and be enabled (InvalidParameter naming it otherwise; nothing is
 * changed then). The event need not be prepared. */
int engine_ingest_internal(writer_txn *txn, int64_t channel_id, engine_event *ev,
                           engine_result *out, tc_err *err);

/* The SHA-256 hex of a key a source is found by, computed off the writer
 * and passed to engine_ingest_many (NULL there: it computes it). -1 for a
 * key that cannot be one (empty, longer than 256). */
int engine_key_hash(const char *integration_key, char out[65]);

/* The key check of engine_ingest_many alone, on any connection (a reader):
 * 0 when integration_key names an enabled alert source of expected_type
 * whose channel takes alerts, else the error ingesting would give. The API
 * uses it so that a bad key is reported before a bad body. */
int engine_source_check(store_conn *c, const char *integration_key, const char *expected_type,
                        tc_err *err);

/* The key check of engine_ingest_many inside a writer command, for
 * another stream pushed with an integration key (change events,
 * core/change.c): the same refusals, from the writer's cache; on success
 * the source's integration and channel. */
int engine_source_ids(writer_txn *txn, const char *integration_key, const char *key_hash,
                      const char *expected_type, int64_t *integration_id, int64_t *channel_id,
                      tc_err *err);

/* Closes an alert by hand (a_close with the person, on its timeline) and
 * refreshes its incident. */
int engine_alert_close(writer_txn *txn, tc_alert *a, const tc_person *who, tc_err *err);

/* Puts an existing alert into another incident: the alert's incident
 * changes, the target's counters, severity/status (unless pinned) and
 * last_alert_time follow, a_merge is emitted (on the target's timeline)
 * and storm warnings fire. The target is saved; the incident the alert
 * left is not touched (the caller refreshes it). */
int engine_alert_move(writer_txn *txn, tc_alert *a, tc_incident *target, const tc_person *who,
                      tc_err *err);

/* Recomputes the incident's status, alert_cnt, active_alert_cnt, last_time
 * and end_time from its alerts and saves it; when it is open and no alert
 * is open any more, closes it (close_time, i_rslv with no person). It is
 * recovered (status Ok, end_time) only when every alert it holds recovered;
 * alerts closed by hand leave status and end_time as they were. No-op for
 * a removed incident. */
int engine_incident_refresh(writer_txn *txn, const char *incident_id, tc_err *err);

#endif
