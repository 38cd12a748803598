/* alert.h: the alert record: load, save, timeline, events.
 *
 * doc is the Alert object of reference/webhooks.md (alert_id,
 * data_source_id/name/type, channel_id/name, title, title_rule, description,
 * alert_key, alert_severity, alert_status, progress, created_at, updated_at,
 * start_time, last_time, end_time, close_time, labels, event_cnt,
 * incident {incident_id, title}) plus `images`. The columns of the alerts
 * table are derived from it at save. */
#ifndef TOCSIN_ALERT_H
#define TOCSIN_ALERT_H

#include <jansson.h>

#include "core/events.h"
#include "core/writer.h"

/* *doc receives a new reference. InvalidParameter when absent. */
int alert_load(store_conn *c, const char *alert_id, json_t **doc, tc_err *err);
/* The open alert of (integration, key), or *doc = NULL when there is none. */
int alert_find_open(store_conn *c, int64_t integration_id, const char *alert_key, json_t **doc,
                    char *event_hash_out, tc_err *err);
/* Inserts or updates; sets updated_at. event_hash may be NULL (unchanged). */
int alert_save(writer_txn *txn, json_t *doc, const char *event_hash, tc_err *err);
/* alert_save that also hands back the saved doc encoded (*text_out, caller
 * frees), for events_append_encoded: the engine saves and announces an alert
 * with one encoding. */
int alert_store(writer_txn *txn, json_t *doc, const char *event_hash, char **text_out, tc_err *err);
/* detail is stolen; NULL (a detail that could not be built) fails. */
int alert_feed_add(writer_txn *txn, const char *alert_id, const char *type, const tc_person *person,
                   json_t *detail, tc_err *err);
/* Appends the domain event `type` (a_*) carrying doc. */
int alert_emit(writer_txn *txn, json_t *doc, const char *type, const tc_person *person,
               tc_err *err);

#endif
