/* events.h: who made a change (tc_person), and its Person JSON.
 *
 * Domain events themselves are written by core/outbox.h. */
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

#endif
