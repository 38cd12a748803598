/* doc.h: reading a JSON document the store holds.
 *
 * Incidents, alerts, channels, raw events, feed entries and integration
 * configs are stored as JSON text. Such a text that cannot be parsed again
 * (the row is corrupt, or there is no memory to parse it) is one error
 * class, handled one way everywhere: InternalError naming the object, and a
 * log line `msg="stored document unreadable" what=<kind> id=<id>` so the row
 * can be found. A reader never skips such a document (a list silently
 * shorter, a merge silently partial) nor replaces it by a default. */
#ifndef TOCSIN_DOC_H
#define TOCSIN_DOC_H

#include <jansson.h>
#include <stdint.h>

#include "util/err.h"

/* Parses text (a JSON object or array) into *out, a new reference. `what`
 * names the kind of object, one word ("incident", "channel_rules"), id the
 * row. */
int doc_parse(const char *text, const char *what, const char *id, json_t **out, tc_err *err);

/* doc_parse for rows named by an integer id. */
int doc_parse_n(const char *text, const char *what, int64_t id, json_t **out, tc_err *err);

#endif
