/* store/alert_events.h: the raw events of alerts (AlertEventItem), one row
 * per accepted event (migration 007). Statements live in
 * store/alert_events.c. */
#ifndef TOCSIN_STORE_ALERT_EVENTS_H
#define TOCSIN_STORE_ALERT_EVENTS_H

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

#endif
