/* events.c: see events.h. */
#include "core/events.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/outbox.h"
#include "util/ids.h"
#include "util/jbuild.h"

json_t *person_to_json(const tc_person *p) {
    if (!p || p->person_id == 0)
        return NULL;
    return json_pack("{s:I, s:s, s:s}", "person_id", (json_int_t)p->person_id, "person_name",
                     p->person_name, "email", p->email);
}

void person_json_set(json_t *obj, const char *key, const tc_person *p, int *failed) {
    if (p && p->person_id != 0)
        jb_set(obj, key, person_to_json(p), failed);
}
