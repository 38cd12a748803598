/* incident_view.h: an incident as the Open API shows it.
 *
 * The store keeps an incident as a row of columns (core/model.h: the
 * webhook Incident object's fields plus tocsin's bookkeeping).
 * /incident/info, list and list-by-ids answer with the spec's IncidentInfo
 * instead: every required field present and typed, including those of
 * features tocsin lacks (AI summary, post-mortems, dedup keys: empty),
 * counters and integrations from the bookkeeping columns, hand-edited
 * fields (pins) as manual_overrides, responders' names and emails and the
 * channel's name and status read fresh, detail_url from the configured
 * base URL. /incident/feed answers with IncidentFeedItem rows, and
 * /incident/alert/list's include_events with AlertEventItem rows.
 * Rendering only reads, through the caller's reader connection. */
#ifndef TOCSIN_INCIDENT_VIEW_H
#define TOCSIN_INCIDENT_VIEW_H

#include <jansson.h>
#include <stdint.h>

#include "core/model.h"
#include "store/incident_list.h"
#include "store/store.h"
#include "util/err.h"

/* The short display id: the last 6 hex digits of the id, upper case.
 * out holds 7 bytes. */
void incident_view_num(const char *incident_id, char *out);

/* The pinned field names of the incident's pins (those set to true), as a
 * new array in *out. InternalError when the stored pins cannot be read
 * (util/doc.h) or out of memory. */
int incident_view_overrides(const tc_incident *inc, json_t **out, tc_err *err);

/* IncidentInfo of inc (new reference in *out); base_url is the prefix of
 * detail_url (tc_config.base_url). */
int incident_view_render(store_conn *c, const char *base_url, const tc_incident *inc, json_t **out,
                         tc_err *err);

/* One IncidentFeedItem from a timeline row (detail is its JSON text;
 * times in milliseconds; feed_id is the row's seq) into *out.
 * InternalError when the stored detail cannot be read (util/doc.h) or out
 * of memory. */
int incident_view_feed_item(const char *incident_id, int64_t feed_id, const char *type,
                            int64_t creator_id, int64_t created_at_ms, const char *detail_text,
                            json_t **out, tc_err *err);

/* One AlertEventItem from a stored raw event into *out. InternalError when
 * its labels or images cannot be read or out of memory. */
int incident_view_alert_event(const store_alert_event_item *e, json_t **out, tc_err *err);

#endif
