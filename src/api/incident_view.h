/* incident_view.h: an incident as the Open API shows it.
 *
 * The store keeps an incident as the webhook Incident object (doc) plus
 * tocsin's bookkeeping (meta, see core/incident.h). /incident/info, list and
 * list-by-ids answer with the spec's IncidentInfo instead: every required
 * field present and typed, including those of features tocsin lacks (AI
 * summary, post-mortems, dedup keys: empty), counters and integrations from
 * meta, hand-edited fields (meta.pins) as manual_overrides, and responders'
 * names and emails read fresh from persons. /incident/feed answers with
 * IncidentFeedItem rows. Rendering only reads, through the caller's reader
 * connection. */
#ifndef TOCSIN_INCIDENT_VIEW_H
#define TOCSIN_INCIDENT_VIEW_H

#include <jansson.h>
#include <stdint.h>

#include "core/incident.h"
#include "store/store.h"
#include "util/err.h"

/* The short display id: the last 6 hex digits of the id, upper case.
 * out holds 7 bytes. */
void incident_view_num(const char *incident_id, char *out);

/* The pinned field names of meta.pins (those set to true), as a new array
 * (NULL when out of memory). */
json_t *incident_view_overrides(json_t *meta);

/* IncidentInfo of inc (new reference in *out). */
int incident_view_render(store_conn *c, const incident *inc, json_t **out, tc_err *err);

/* One IncidentFeedItem from an incident_feed row (detail is its JSON text;
 * times in milliseconds) into *out. InternalError when the stored detail
 * cannot be read (util/doc.h) or out of memory. */
int incident_view_feed_item(const char *incident_id, int64_t feed_id, const char *type,
                            int64_t creator_id, int64_t created_at_ms, const char *detail_text,
                            json_t **out, tc_err *err);

#endif
