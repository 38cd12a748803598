/* store/alerts.h: the alerts table (migration 007): typed reads and writes.
 *
 * Every statement about alerts lives in store/alerts.c. Writes happen on
 * the writer's connection inside its transaction; reads on any connection.
 * A tc_alert read here owns its strings (tc_alert_clear). */
#ifndef TOCSIN_STORE_ALERTS_H
#define TOCSIN_STORE_ALERTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

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
/* Every open alert whose newest event arrived at or after `since` (Unix s):
 * what the inhibit rules' source cache is rebuilt from. */
int store_alerts_each_recent(store_conn *c, int64_t since,
                             int (*fn)(void *arg, const tc_alert *a, tc_err *err), void *arg,
                             tc_err *err);
int store_alerts_each_of_incident(store_conn *c, const char *incident_id,
                                  int (*fn)(void *arg, const tc_alert *a, tc_err *err), void *arg,
                                  tc_err *err);

/* ---- the Open API's reads (api/alerts.c) ------------------------------------- */

/* InvalidParameter "alert_id X does not exist" unless the alert exists. */
int store_alerts_exists(store_conn *c, const char *alert_id, tc_err *err);

/* A time column of alerts: a list's window and its order. */
typedef enum {
    STORE_ALERT_START_TIME,
    STORE_ALERT_CREATED_AT,
    STORE_ALERT_UPDATED_AT,
} store_alert_column;

/* The column's value for an alert (a cursor names the last row by it). */
int64_t store_alert_column_value(const tc_alert *a, store_alert_column col);

/* The filter of /alert/list. Arrays are borrowed (NULL or empty: any). */
typedef struct {
    store_alert_column window; /* start_time or updated_at in [start, end] */
    int64_t start, end;
    int has_is_active, is_active; /* open (not Closed) or Closed */
    int ever_muted;               /* only alerts a silence or inhibit rule held back */
    const char *const *severities;
    size_t nseverities;
    json_t *channel_ids, *integration_ids; /* integers */
    json_t *alert_ids, *alert_keys;        /* strings */
    /* Order: by `sort`, then alert_id; a page starts after the cursor
     * (after_key, after_id) when has_cursor. */
    store_alert_column sort;
    int asc;
    int has_cursor;
    int64_t after_key;
    const char *after_id;
} store_alert_filter;

/* How many alerts match (the cursor is not applied). */
int store_alerts_count(store_conn *c, const store_alert_filter *f, int64_t *total, tc_err *err);

/* Calls fn for up to `limit` matching alerts in order, `offset` skipped;
 * *more tells whether another row follows. */
int store_alerts_page(store_conn *c, const store_alert_filter *f, int64_t limit, int64_t offset,
                      int (*fn)(void *arg, const tc_alert *a, tc_err *err), void *arg, int *more,
                      tc_err *err);

#endif
