/* events.h: the standard event body as an engine_event, and a change
 * event's body as a change_event.
 *
 * The Event API's standard push (api/events.c) reads its body with this one
 * function before anything reaches the writer; it is public so that the
 * fuzz target fuzz/fuzz_event_standard.c drives exactly the same reading. */
#ifndef TOCSIN_API_EVENTS_H
#define TOCSIN_API_EVENTS_H

#include <jansson.h>

#include "core/change.h"
#include "core/engine.h"
#include "util/err.h"

/* Reads a standard event body (reference/event-api.md) into ev (initialized
 * by the caller with engine_event_init, cleared by it with
 * engine_event_clear whatever the outcome): every limit applied, long text
 * cut, alert_key derived when absent. InvalidParameter naming the field. */
int events_standard_read(json_t *body, engine_event *ev, tc_err *err);

/* Reads a change event body (reference/rules.md, "Change events") into ev
 * (initialized by the caller with change_event_init, cleared by it with
 * change_event_clear whatever the outcome): title and description cut,
 * change_key and link refused when too long, labels as for alerts.
 * InvalidParameter naming the field. */
int events_change_read(json_t *body, change_event *ev, tc_err *err);

#endif
