/* alert_view.h: stored alerts and alert events as the Open API returns them.
 *
 * The store keeps an alert as the webhook Alert object (core/alert.h) and a
 * raw event as its AlertEventItem document. The Open API's AlertItem says
 * more than the webhook object: the integration's and channel's current
 * names and status, the incident's progress and first responder. Those are
 * looked up at read time (alert_view_refs) rather than copied into every
 * alert, so renaming a channel shows at once and nothing has to be kept in
 * step.
 *
 * alert_view_item and alert_view_event are pure (unit-tested): every field
 * of the schema is present with its type, whatever an older or partial
 * document lacks. alert_view_load does the look-ups on a reader
 * connection. */
#ifndef TOCSIN_ALERT_VIEW_H
#define TOCSIN_ALERT_VIEW_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

/* Current state of what an alert points at; NULL fields fall back to what
 * the alert document recorded (or "" when it has nothing either). */
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

/* The AlertItem for an Alert document (a new reference; NULL when out of
 * memory). refs may be NULL. */
json_t *alert_view_item(json_t *doc, const alert_view_refs *refs);

/* The AlertEventItem for a stored event document (a new reference; NULL
 * when out of memory). */
json_t *alert_view_event(json_t *doc);

/* "alert_standard" → "standard": the plugin key of an integration type. */
const char *alert_view_plugin_key(const char *integration_type);

/* Looks up what doc points at (integration, channel, incident) and renders
 * it. *out receives a new reference. */
int alert_view_load(store_conn *c, json_t *doc, json_t **out, tc_err *err);

/* Loads and renders one alert: InvalidParameter "alert_id X does not
 * exist" when absent. */
int alert_view_load_id(store_conn *c, const char *alert_id, json_t **out, tc_err *err);

#endif
