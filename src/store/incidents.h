/* store/incidents.h: the incidents table (migration 007): typed reads and
 * writes. Every statement about incidents lives in store/incidents.c. */
#ifndef TOCSIN_STORE_INCIDENTS_H
#define TOCSIN_STORE_INCIDENTS_H

#include "core/model.h"
#include "store/store.h"

/* Inserts a new incident; sets inc->id. */
int store_incidents_insert(store_conn *c, tc_incident *inc, tc_err *err);
/* Writes every column that can change, by rowid. */
int store_incidents_update(store_conn *c, const tc_incident *inc, tc_err *err);

/* Only the lanes column (a resend, replay or custom action numbered a lane). */
int store_incidents_set_lanes(store_conn *c, const char *incident_id, const char *lanes,
                              tc_err *err);

/* By text id. A removed incident (deleted_at) reads as absent unless
 * with_removed: InvalidParameter "incident_id X does not exist". */
int store_incidents_load(store_conn *c, const char *incident_id, int with_removed, tc_incident *out,
                         tc_err *err);

/* Calls fn for each open incident (not Closed, not removed) in rowid
 * order: start-up, the writer's map of open incidents. */
int store_incidents_each_open(store_conn *c,
                              int (*fn)(void *arg, const tc_incident *inc, tc_err *err), void *arg,
                              tc_err *err);

/* Up to max ids of incidents whose snooze deadline is at or before now,
 * oldest deadline first. Returns how many, or -1. */
int store_incidents_snooze_due(store_conn *c, int64_t now, char (*ids)[IDS_OBJECT_LEN + 1], int max,
                               tc_err *err);

#endif
