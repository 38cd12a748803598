/* store/persons.h: the reads of persons that incidents need (who is named
 * in a request, and the current name and email of a responder). The
 * member calls (api/members.c) keep their own statements for now. */
#ifndef TOCSIN_STORE_PERSONS_H
#define TOCSIN_STORE_PERSONS_H

#include <stdint.h>

#include "core/events.h"
#include "store/store.h"

/* The person person_id unless deleted: 1 with *out filled (id, name and
 * email), 0 when there is none (out untouched), -1 with *err. */
int store_persons_get(store_conn *c, int64_t person_id, tc_person *out, tc_err *err);

#endif
