/* incident.h: the incident record: load, save, timeline, events.
 *
 * An incident is stored as two JSON documents:
 *   doc  - the Incident object of reference/webhooks.md, exactly what a
 *          webhook carries (incident_id, title, ..., responders, alert_cnt,
 *          channel_id, channel_name, detail_url, group_method);
 *   meta - tocsin's bookkeeping that is not part of that object:
 *          "pins": {"title":true, "incident_severity":true, "description":true}
 *                  fields edited by hand, which merging alerts no longer change;
 *          "storm_fired": [thresholds already warned about];
 *          "integration_ids": [...], "integration_types": [...];
 *          "creator_id", "closer_id": int (0 = automatic);
 *          "last_alert_time": newest alert joined (sliding group windows);
 *          "active_alert_cnt", "alert_event_cnt": counters for IncidentInfo.
 * incident_save derives the indexed columns from both, so they cannot drift.
 *
 * Every change of an incident goes: load → change doc/meta → incident_commit
 * (save + feed entry + domain event), inside one writer command. */
#ifndef TOCSIN_INCIDENT_H
#define TOCSIN_INCIDENT_H

#include <jansson.h>

#include "core/events.h"
#include "core/writer.h"

typedef struct {
    json_t *doc;
    json_t *meta;
} incident;

void incident_init(incident *inc);
void incident_clear(incident *inc);

/* InvalidParameter "incident_id X does not exist" when absent or removed;
 * InternalError when its doc or meta cannot be read (util/doc.h). */
int incident_load(store_conn *c, const char *incident_id, incident *out, tc_err *err);
/* Inserts or updates; sets doc.updated_at to the batch time. */
int incident_save(writer_txn *txn, incident *inc, tc_err *err);
/* incident_save that also hands back the saved doc encoded (*doc_text_out,
 * caller frees), so that its event reuses the encoding. */
int incident_store(writer_txn *txn, incident *inc, char **doc_text_out, tc_err *err);

/* Appends a timeline entry (type i_*; detail is stolen). A NULL detail is
 * one that could not be built: InternalError. */
int incident_feed_add(writer_txn *txn, const char *incident_id, const char *type,
                      const tc_person *person, json_t *detail, tc_err *err);

/* Saves, adds the feed entry and appends the domain event `type` with the
 * saved doc. The usual last step of every incident change. */
int incident_commit(writer_txn *txn, incident *inc, const char *type, const tc_person *person,
                    json_t *feed_detail, tc_err *err);

/* A fresh doc/meta for a new incident with every always-present field set:
 * progress Triggered, times = now, counters 0, detail_url from cfg. */
int incident_new(writer_txn *txn, const char *title, const char *severity, int64_t channel_id,
                 const char *channel_name, incident *out, tc_err *err);

/* Severity order: Info < Warning < Critical; Ok is below all. */
int incident_severity_rank(const char *severity);

/* Wakes every incident whose snooze deadline has passed (i_wake, no person). */
int incident_wake_expired(writer_txn *txn, tc_err *err);

#endif
