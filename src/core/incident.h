/* incident.h: an incident's life inside a writer command: load, change,
 * announce, save, with the writer's cache (core/state.h) kept true.
 *
 * Every change of an incident goes: load (or incident_new) → change the
 * fields → incident_commit (the domain event with its timeline entry, then
 * the row). Saving is split in two because an event numbers its pushes in
 * the incident's `lanes`: incident_track updates the cache first, the
 * events are emitted, then incident_write stores the row as it ends up. */
#ifndef TOCSIN_INCIDENT_H
#define TOCSIN_INCIDENT_H

#include <jansson.h>

#include "core/events.h"
#include "core/model.h"
#include "core/writer.h"

/* InvalidParameter "incident_id X does not exist" when absent or removed. */
int incident_load(store_conn *c, const char *incident_id, tc_incident *out, tc_err *err);

/* A new incident in memory (not stored): a fresh id, progress Triggered,
 * severity and status `rank`, times now, counters 0. */
int incident_new(writer_txn *txn, const char *title, int rank, int64_t channel_id, tc_incident *out,
                 tc_err *err);

/* The cache half of a save: an open incident is in the writer's map (with
 * its open alerts counted from the store when it enters again), a closed or
 * removed one leaves it, and its grouping keys are forgotten for good. */
int incident_track(writer_txn *txn, tc_incident *inc, tc_err *err);
/* The store half: inserts (id 0) or updates the row; sets updated_at. */
int incident_write(writer_txn *txn, tc_incident *inc, tc_err *err);
/* Both. */
int incident_save(writer_txn *txn, tc_incident *inc, tc_err *err);

/* The usual last step of a change: updated_at, the event `type` (person
 * `who`, NULL for none) with its timeline entry (detail stolen; NULL
 * means {}), then the save. For an incident not stored yet (i_new) the
 * entry is kept in its row, by its creator_id, not as a timeline row. */
int incident_commit(writer_txn *txn, tc_incident *inc, const char *type, const tc_person *who,
                    json_t *detail, tc_err *err);

/* The open alerts of a stored incident, per status rank (a store scan: for
 * an incident entering the cache, and for merges). */
int incident_count_alerts(store_conn *c, const char *incident_id, int64_t open_by_status[4],
                          int64_t *total, int64_t *last_time, int64_t *max_end, int64_t *recovered,
                          int *any_rank, tc_err *err);

/* Severity order: Info < Warning < Critical; Ok is below all. */
int incident_severity_rank(const char *severity);

/* Wakes every incident whose snooze deadline has passed (i_wake, no person). */
int incident_wake_expired(writer_txn *txn, tc_err *err);

#endif
