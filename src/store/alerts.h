/* store/alerts.h: the alerts table (migration 007): typed reads and writes.
 *
 * Every statement about alerts lives in store/alerts.c. Writes happen on
 * the writer's connection inside its transaction; reads on any connection.
 * A tc_alert read here owns its strings (tc_alert_clear). */
#ifndef TOCSIN_STORE_ALERTS_H
#define TOCSIN_STORE_ALERTS_H

#include "core/model.h"
#include "store/store.h"

/* Inserts a new alert; sets a->id. */
int store_alerts_insert(store_conn *c, tc_alert *a, tc_err *err);
/* Writes every column that can change, by rowid. */
int store_alerts_update(store_conn *c, const tc_alert *a, tc_err *err);

/* Only the lanes column (a resend or replay numbered a lane). */
int store_alerts_set_lanes(store_conn *c, const char *alert_id, const char *lanes, tc_err *err);

/* By text id: InvalidParameter "alert_id X does not exist" when absent. */
int store_alerts_load(store_conn *c, const char *alert_id, tc_alert *out, tc_err *err);

/* Calls fn for each open alert in rowid order (start-up: the writer's map
 * of open alerts). fn owns nothing of *a after it returns. */
int store_alerts_each_open(store_conn *c, int (*fn)(void *arg, const tc_alert *a, tc_err *err),
                           void *arg, tc_err *err);

/* Calls fn for each alert of an incident, oldest first (start_time, then
 * alert_id). */
int store_alerts_each_of_incident(store_conn *c, const char *incident_id,
                                  int (*fn)(void *arg, const tc_alert *a, tc_err *err), void *arg,
                                  tc_err *err);

#endif
