/* events.h: the domain event log (i_*, a_*), written inside a command.
 *
 * events_append stores one event with the default webhook body of
 * reference/webhooks.md: {event_time (ms), event_type, event_id, person
 * (only when a person acted), incident|alert (the full object after the
 * change)}. Because it runs inside the writer's transaction, an event
 * exists exactly when the change that caused it was committed: this table
 * is the outbox delivery drains. */
#ifndef TOCSIN_EVENTS_H
#define TOCSIN_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "core/writer.h"

/* Who made a change; person_id 0 means nobody (an automatic change). */
typedef struct {
    int64_t person_id;
    char person_name[256];
    char email[256];
} tc_person;

/* Person JSON {person_id, person_name, email}, or NULL for nobody (and
 * when out of memory: callers that must tell them apart use
 * person_json_set). New ref. */
json_t *person_to_json(const tc_person *p);

/* obj[key] = the person JSON when p is somebody; nothing for nobody. A
 * failure is flagged in *failed (util/jbuild.h). */
void person_json_set(json_t *obj, const char *key, const tc_person *p, int *failed);

/* object_kind is "incident" or "alert"; object is borrowed, not stolen.
 * event_id_out (25 bytes) may be NULL. */
int events_append(writer_txn *txn, const char *event_type, const char *object_kind,
                  const char *object_id, int64_t channel_id, const tc_person *person,
                  json_t *object, char *event_id_out, tc_err *err);

/* events_append for an object already encoded as compact JSON text: the body
 * is composed around object_json, so a document that is saved and announced
 * in the same change is encoded once. Same body, byte for byte. */
int events_append_encoded(writer_txn *txn, const char *event_type, const char *object_kind,
                          const char *object_id, int64_t channel_id, const tc_person *person,
                          const char *object_json, char *event_id_out, tc_err *err);

#endif
