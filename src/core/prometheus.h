/* prometheus.h: Alertmanager's webhook body as tocsin events.
 *
 * Alertmanager (any version with webhook body version "4") posts
 * {version, status, receiver, groupLabels, commonLabels, externalURL,
 *  alerts: [{status, labels, annotations, startsAt, endsAt, generatorURL,
 *            fingerprint}]}.
 * Each alert is one event, mapped as reference/event-api.md says:
 *   alert_key   fingerprint; when absent, derived from the labels alone;
 *   title_rule  the `summary` annotation, else the `alertname` label, else
 *               "Alertmanager alert";
 *   status      `resolved` -> Ok; otherwise severity from the first of the
 *               labels severity, priority, level that holds a known value
 *               (case-insensitive): critical -> Critical, warning/warn ->
 *               Warning, info/acknowledged/unknown/unk -> Info, ok -> Ok,
 *               none -> Warning; no such label -> Warning;
 *   description the `description` annotation;
 *   labels      the alert's labels (same limits as a standard event);
 *   event_time  startsAt (firing) or endsAt (resolved); the engine replaces
 *               a missing, zero or future time by the time of arrival. */
#ifndef TOCSIN_PROMETHEUS_H
#define TOCSIN_PROMETHEUS_H

#include <jansson.h>
#include <stddef.h>

#include "core/engine.h"

/* Maps body to *n events in *out (a new array; free each with
 * engine_event_clear, then the array). InvalidParameter naming the field
 * (e.g. "alerts[3].labels") when the body is not an Alertmanager body. */
int prometheus_map(json_t *body, engine_event **out, size_t *n, tc_err *err);

/* The event status for an alert's labels (not resolved): Critical, Warning,
 * Info or Ok. */
const char *prometheus_severity(json_t *labels);

/* Unix seconds of an RFC 3339 time ("2024-05-01T10:00:00.123+02:00"), or 0
 * when it is not one or before 1970 (Alertmanager's "0001-01-01T00:00:00Z"). */
int64_t prometheus_parse_time(const char *s);

#endif
