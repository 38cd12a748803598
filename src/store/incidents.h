/* store/incidents.h: the incidents table (migration 007): typed reads and
 * writes. Every statement about incidents lives in store/incidents.c. */
#ifndef TOCSIN_STORE_INCIDENTS_H
#define TOCSIN_STORE_INCIDENTS_H

#include "core/model.h"
#include "store/store.h"

/* The columns store_incidents_read_row reads, in its order, for the
 * statements of other store files that read whole incidents
 * (store/incident_list.c): "SELECT " STORE_INCIDENT_COLUMNS " FROM incidents ...". */
#define STORE_INCIDENT_COLUMNS                                                                     \
    "id, incident_id, channel_id, progress, incident_severity, incident_status, title,"            \
    " description, impact, root_cause, resolution, start_time, last_time, end_time, ack_time,"     \
    " close_time, snoozed_before, created_at, updated_at, deleted_at, creator_id, closer_id,"      \
    " owner_id, creator, closer, group_method, alert_cnt, active_alert_cnt, alert_event_cnt,"      \
    " last_alert_time, max_alert_end, pins, storm_fired, integration_ids, integration_types,"      \
    " labels, fields, responders, assigned_to, group_keys, lanes"

/* The current row of q (selected as STORE_INCIDENT_COLUMNS, from column 0)
 * into *out (initialised here; tc_incident_clear it). InternalError when its
 * progress or severity cannot be read. */
int store_incidents_read_row(store_stmt *q, tc_incident *out, tc_err *err);

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

/* What a channel shows of its incidents that are not removed: how many of
 * those started since `since` are Triggered and Processing, and the start
 * of the newest one (0 when none). */
typedef struct {
    int64_t triggered, processing;
    int64_t last_start;
} store_channel_incidents;

int store_incidents_channel_stats(store_conn *c, int64_t channel_id, int64_t since,
                                  store_channel_incidents *out, tc_err *err);

#endif
