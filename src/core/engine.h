/* engine.h: from event to alert to incident (reference/event-api.md,
 * "From event to alert to incident" and "Incident progress").
 *
 * engine_ingest runs inside a writer command for one normalized event:
 * it finds the alert source by key, dedupes against the open alert of the
 * same alert_key (a_new / a_update, identical repeats dropped, Ok recovers),
 * groups a new alert into an incident by the channel's `group` rules
 * (i_new / a_merge), fires storm warnings (i_storm), and keeps the incident's
 * status and counters true, closing it when all its alerts have recovered
 * (i_rslv, no person).
 *
 * engine_alert_join and engine_incident_refresh are the two steps other
 * changes reuse: /alert/merge and /incident/merge move alerts between
 * incidents, /alert/close closes alerts by hand; each then refreshes the
 * incidents involved. */
#ifndef TOCSIN_ENGINE_H
#define TOCSIN_ENGINE_H

#include <jansson.h>
#include <stddef.h>

#include "core/incident.h"
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
} engine_event;

void engine_event_init(engine_event *ev);
void engine_event_clear(engine_event *ev);

typedef struct {
    char alert_key[256 * 4 + 1]; /* the key used (given or derived) */
    char alert_id[25];           /* the alert it went to ("" when dropped) */
    int dropped;                 /* identical to the previous event */
} engine_result;

/* Unauthorized for an unknown, disabled or deleted key, or one that is not
 * an alert source of `expected_type` ("alert_standard", "alert_prometheus");
 * AccessDenied when its channel is disabled. Derives ev->alert_key when it
 * is NULL (InvalidParameter for an Ok event). */
int engine_ingest(writer_txn *txn, const char *integration_key, const char *expected_type,
                  engine_event *ev, engine_result *out, tc_err *err);

/* engine_ingest for n events of one integration (an Alertmanager body):
 * the key is checked once, the events are applied in order, out has n
 * entries. All or nothing: the first failure fails the command. */
int engine_ingest_many(writer_txn *txn, const char *integration_key, const char *expected_type,
                       engine_event *evs, size_t n, engine_result *out, tc_err *err);

/* The key check of engine_ingest alone, on any connection (a reader): 0 when
 * integration_key names an enabled alert source of expected_type whose
 * channel takes alerts, else the error engine_ingest would give. The API
 * uses it so that a bad key is reported before a bad body. */
int engine_source_check(store_conn *c, const char *integration_key, const char *expected_type,
                        tc_err *err);

/* Puts the alert into the incident: sets alert.incident, bumps the
 * incident's counters, severity/status (unless pinned) and last_alert_time,
 * fires storm warnings, saves both, emits a_merge. Does not emit i_* for
 * the incident besides i_storm; the caller decides (i_new, i_merge). */
int engine_alert_join(writer_txn *txn, json_t *alert_doc, incident *inc, const tc_person *who,
                      tc_err *err);

/* Recomputes the incident's incident_status, alert_cnt, active_alert_cnt,
 * last_time and end_time from its alerts and saves it; when it is open and
 * every alert has recovered, closes it (end_time, close_time, i_rslv with no
 * person). No-op for a removed incident. */
int engine_incident_refresh(writer_txn *txn, const char *incident_id, tc_err *err);

#endif
