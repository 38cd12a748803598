/* change.h: change events (reference/rules.md, "Change events").
 *
 * A change_standard integration pushes events about deployments and other
 * changes; events with the same change_key from the same integration merge
 * into one change, stored beside the incidents (store/changes.h) and shown
 * next to them, but never opening an alert or incident and firing no
 * webhook. api/events.c reads and checks a push's body on the HTTP thread
 * (events_change_read); change_ingest runs in the writer, so the change is
 * committed before the push is answered, like an alert event.
 *
 * Merge rules (tocsin's decisions in rules.md): title, description, link
 * and labels follow the newest event (the last one received); change_status
 * is the newest event's; start_time is the first Processing event's
 * event_time, or the first event's until a Processing one arrives;
 * end_time is the first Done or Canceled event's and stays; last_time is
 * the latest event_time seen. */
#ifndef TOCSIN_CHANGE_H
#define TOCSIN_CHANGE_H

#include <jansson.h>
#include <stdint.h>

#include "core/writer.h"
#include "store/changes.h"
#include "util/err.h"

#define CHANGE_TYPE "change_standard"
#define CHANGE_KEY_MAX 255           /* characters; longer is refused */
#define CHANGE_TITLE_MAX 512         /* characters; longer is cut */
#define CHANGE_DESCRIPTION_MAX 2048  /* characters; longer is cut */
#define CHANGE_LINK_MAX 2048         /* characters; longer is refused */
#define CHANGE_TIME_MAX 9999999999LL /* Unix seconds (year 2286): ms are refused */

/* One pushed event, validated. Owned strings. */
typedef struct {
    char *change_key, *title, *description, *link;
    const char *change_status; /* static: one of change_statuses */
    json_t *labels;            /* object string->string, may be NULL */
    char *labels_text;         /* compact JSON of labels, "{}" when none */
    int64_t event_time;        /* Unix s; 0: the batch's time */
} change_event;

extern const char *const change_statuses[]; /* NULL-terminated */

void change_event_init(change_event *ev);
void change_event_clear(change_event *ev);

/* The change after the event: `old` is the stored change (NULL for a new
 * one), event_time the event's time (its own, or now). *out gets old's
 * ids and counts updated, its strings borrowed from ev, and everything
 * else decided by the merge rules above. Pure: no store, no clock. */
void change_merge(const store_change_row *old, const change_event *ev, int64_t event_time,
                  int64_t now_s, store_change_row *out);

/* The writer command's body: checks the key (Unauthorized for one that is
 * not an enabled change_standard integration, as for alert sources), then
 * merges the event into its change and stores both. change_id (25 bytes)
 * receives the change's id. Refuses only before its first write. */
int change_ingest(writer_txn *txn, const char *integration_key, const char *key_hash,
                  const change_event *ev, char *change_id, tc_err *err);

#endif
