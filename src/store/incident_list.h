/* store/incident_list.h: the reads behind the lists of the incident calls:
 * incidents by filters (/incident/list), the alerts of an incident and
 * their newest raw events (/incident/alert/list).
 *
 * Every filter and the paging run in SQL, so a page reads only its own
 * rows and `total` counts exactly what matches. The alert reads belong to
 * the alerts' table family but live here, beside the only call that needs
 * them (store/alerts.c has another owner). */
#ifndef TOCSIN_STORE_INCIDENT_LIST_H
#define TOCSIN_STORE_INCIDENT_LIST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "store/store.h"
#include "util/ids.h"

/* The filters of /incident/list; each one not given (NULL, empty, 0)
 * filters nothing. Removed incidents never match. */
typedef struct {
    int64_t start, end;          /* start_time within [start, end] */
    const char *const *progress; /* progress names, nprogress of them */
    size_t nprogress;
    const char *const *severity; /* incident_severity names, nseverity of them */
    size_t nseverity;
    json_t *channel_ids;              /* integers */
    json_t *creator_ids, *closer_ids; /* integers */
    json_t *responder_ids;            /* integers: any responder among them */
    json_t *acker_ids;                /* integers: any acknowledging responder among them */
    json_t *nums;                     /* strings: the id's last 6 hex digits, any case */
    json_t *incident_ids;             /* strings, lower case */
    const char *query;                /* the title contains it (ASCII letters in any case) */
    int is_snoozed;                   /* only snoozed ones (snoozed_before set) */
    int asc;                          /* order: (start_time, incident_id), ascending when set */
} store_incident_filter;

/* How many incidents match. */
int store_incident_list_count(store_conn *c, const store_incident_filter *f, int64_t *total,
                              tc_err *err);

/* One page of matching incidents in the filter's order, read whole into
 * out[0..*n) (at most limit; the caller clears each): those strictly after
 * the cursor (start_time after_key, incident_id after_id) when after_id is
 * non-NULL, else those after the first `offset`. *has_next tells whether
 * more follow the page. */
int store_incident_list_page(store_conn *c, const store_incident_filter *f, const char *after_id,
                             int64_t after_key, int64_t offset, int64_t limit, tc_incident *out,
                             size_t *n, int *has_next, tc_err *err);

/* The alerts of an incident: is_active 1 only open ones (alert_status not
 * Ok), 0 only recovered ones, -1 all. */
int store_incident_alerts_count(store_conn *c, const char *incident_id, int is_active,
                                int64_t *total, tc_err *err);
/* Their ids, oldest first (start_time, alert_id), `limit` from `offset`,
 * into ids[0..*n). */
int store_incident_alerts_page(store_conn *c, const char *incident_id, int is_active,
                               int64_t offset, int64_t limit, char (*ids)[IDS_OBJECT_LEN + 1],
                               size_t *n, tc_err *err);

/* One raw event of an alert (strings valid during the callback only). */
typedef struct {
    const char *event_id, *alert_id;
    int64_t integration_id, channel_id;
    const char *integration_type; /* its integration's type ("alert_standard"); "" when gone */
    const char *alert_key, *event_severity, *event_status;
    int64_t event_time, created_at; /* s */
    const char *title, *title_rule, *description;
    const char *labels, *images; /* JSON text */
} store_alert_event_item;

/* The newest `limit` events of an alert, newest first (event_time, then
 * arrival); fn per event. */
int store_incident_alert_events(store_conn *c, const char *alert_id, int64_t limit,
                                int (*fn)(void *arg, const store_alert_event_item *e, tc_err *err),
                                void *arg, tc_err *err);

#endif
