/* store/alert_refs.h: what an alert points at, read when an alert is shown
 * (api/alert_view.c): its integration's and channel's current names and
 * status, and its incident's title, progress and responders. Alerts keep
 * none of these: renaming a channel shows at once.
 *
 * The incident query lives here rather than in store/incidents.c because
 * it reads only what an alert's view shows. */
#ifndef TOCSIN_STORE_ALERT_REFS_H
#define TOCSIN_STORE_ALERT_REFS_H

#include <stdint.h>

#include "store/store.h"

/* Owned strings; NULL when the row does not exist. */
typedef struct {
    char *integration_name, *integration_type; /* the stored type: "alert_standard" */
    char *channel_name, *channel_status;
    char *incident_title, *incident_progress;
    char *incident_responders; /* JSON array text of Responder */
} store_alert_refs;

void store_alert_refs_clear(store_alert_refs *r);

/* Reads the integration, the channel and (incident_id not "") the incident,
 * removed or not. */
int store_alert_refs_load(store_conn *c, int64_t integration_id, int64_t channel_id,
                          const char *incident_id, store_alert_refs *out, tc_err *err);

/* The channel's name alone (*name NULL when there is no such channel). */
int store_alert_refs_channel_name(store_conn *c, int64_t channel_id, char **name, tc_err *err);

#endif
