/* alert_view.h: alerts and their raw events as the Open API returns them.
 *
 * An alert is a row of columns (core/model.h) and a raw event a row of
 * alert_events (store/alert_events.h). The Open API's AlertItem says more
 * than the row: the integration's and channel's current names and status,
 * the incident's title, progress and first responder. Those are looked up
 * at read time (store/alert_refs.h) rather than copied into every alert,
 * so renaming a channel shows at once and nothing has to be kept in step.
 *
 * alert_view_item and alert_view_event need no store (unit-tested): every
 * field of the schema is present with its type. The labels and images an
 * alert keeps as JSON text are parsed; text that does not parse is a
 * stored document unreadable (util/doc.h), never an empty object.
 * alert_view_load does the look-ups on a reader connection. */
#ifndef TOCSIN_ALERT_VIEW_H
#define TOCSIN_ALERT_VIEW_H

#include <jansson.h>
#include <stdint.h>

#include "core/model.h"
#include "store/alert_events.h"
#include "store/store.h"
#include "util/err.h"

/* Current state of what an alert points at; NULL fields read as "". */
typedef struct {
    const char *integration_name;
    const char *integration_type; /* the plugin key: "standard", "prometheus" */
    const char *channel_name;
    const char *channel_status; /* enabled | disabled | deleted */
    const char *responder_name; /* the incident's first responder */
    const char *responder_email;
    const char *incident_title;
    const char *incident_progress;
} alert_view_refs;

/* The AlertItem of an alert: *out receives a new reference. refs may be
 * NULL. */
int alert_view_item(const tc_alert *a, const alert_view_refs *refs, json_t **out, tc_err *err);

/* The AlertEventItem of a stored raw event: *out receives a new reference. */
int alert_view_event(const store_alert_event *e, json_t **out, tc_err *err);

/* "alert_standard" → "standard": the plugin key of an integration type. */
const char *alert_view_plugin_key(const char *integration_type);

/* Looks up what the alert points at (integration, channel, incident) and
 * renders it. *out receives a new reference. */
int alert_view_load(store_conn *c, const tc_alert *a, json_t **out, tc_err *err);

/* Loads and renders one alert: InvalidParameter "alert_id X does not
 * exist" when absent. */
int alert_view_load_id(store_conn *c, const char *alert_id, json_t **out, tc_err *err);

#endif
