/* template.h: custom request bodies (reference/webhooks.md, "Custom
 * request body").
 *
 * A template is JSON text. Inside its string values (and object keys),
 * {{a.b.c}} names a path into the default body: `.` separates levels, a
 * number indexes a list ({{incident.responders.0.email}}). A string that is
 * exactly one variable takes the value's own JSON type (object, list,
 * number, bool, null); a variable inside longer text is replaced by the
 * value as text (a string as itself, anything else as compact JSON). A path
 * that does not exist is left as written, braces included. */
#ifndef TOCSIN_TEMPLATE_H
#define TOCSIN_TEMPLATE_H

#include <jansson.h>

#include "util/err.h"

/* Checks a template at configuration time: valid JSON, at most 64 KiB,
 * variables well-formed. InvalidParameter naming `body_template`. */
int template_check(const char *tmpl, tc_err *err);
/* Renders tmpl against the default body; *out is malloc'd compact JSON. */
int template_render(const char *tmpl, json_t *default_body, char **out, tc_err *err);

#endif
