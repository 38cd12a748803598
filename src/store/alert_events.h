/* store/alert_events.h: the raw events of alerts (AlertEventItem), one row
 * per accepted event (migration 007). Statements live in
 * store/alert_events.c. */
#ifndef TOCSIN_STORE_ALERT_EVENTS_H
#define TOCSIN_STORE_ALERT_EVENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/ids.h"

typedef struct {
    char event_id[IDS_OBJECT_LEN + 1];
    const char *alert_id;
    int64_t integration_id;
    int64_t channel_id;
    const char *alert_key;
    const char *event_severity; /* the alert's severity after the event */
    const char *event_status;   /* the event's own status (Ok for a recovery) */
    int64_t event_time;         /* s */
    int64_t created_at;         /* s: arrival */
    const char *title, *title_rule, *description;
    const char *labels; /* JSON object text */
    const char *images; /* JSON array text */
} store_alert_event_row;

int store_alert_events_insert(store_conn *c, const store_alert_event_row *row, tc_err *err);

/* ---- the Open API's reads (api/alerts.c) ------------------------------------- */

/* One stored event as read back (strings valid during the callback only). */
typedef struct {
    int64_t seq;
    const char *event_id;
    const char *alert_id;
    int64_t integration_id;
    const char *integration_type; /* its integration's type, "" when unknown */
    int64_t channel_id;
    const char *alert_key;
    const char *event_severity; /* "" when never recorded */
    const char *event_status;
    int64_t event_time; /* s */
    int64_t created_at; /* s */
    const char *title, *title_rule, *description;
    const char *labels, *images; /* JSON text */
} store_alert_event;

typedef int (*store_alert_event_fn)(void *arg, const store_alert_event *e, tc_err *err);

/* The newest `max` events of an alert, newest first (event_time, seq). */
int store_alert_events_of_alert(store_conn *c, const char *alert_id, int64_t max,
                                store_alert_event_fn fn, void *arg, tc_err *err);

/* The filter of /alert-event/list. Arrays are borrowed (NULL or empty:
 * any). */
typedef struct {
    int64_t start, end; /* event_time in [start, end], seconds */
    json_t *integration_ids, *channel_ids;
    const char *const *statuses; /* event_status */
    size_t nstatuses;
    const char *const *integration_types; /* stored types: "alert_prometheus" */
    size_t ntypes;
    /* Order: (event_time, seq); a page starts after the cursor when has_cursor. */
    int asc;
    int has_cursor;
    int64_t after_time, after_seq;
} store_alert_event_filter;

int store_alert_events_count(store_conn *c, const store_alert_event_filter *f, int64_t *total,
                             tc_err *err);
/* Calls fn for up to `limit` matching events in order, `offset` skipped;
 * *more tells whether another row follows. */
int store_alert_events_page(store_conn *c, const store_alert_event_filter *f, int64_t limit,
                            int64_t offset, store_alert_event_fn fn, void *arg, int *more,
                            tc_err *err);

#endif
