/* title_rule.h: building an alert's title from its title_rule and labels.
 *
 * A title_rule is text in which `$name` or `${name}` stands for the value of
 * the label `name` (reference/event-api.md: "may use `$label` references to
 * build the title from labels"). The rules, chosen to be predictable:
 *   - `$name`: the name is the longest run of ASCII letters, digits and
 *     underscores after the `$` ("$service::$cluster" -> labels service and
 *     cluster; "$service_name" is the label service_name, never service);
 *   - `${name}`: any characters up to the next `}`, for label names that hold
 *     other characters (`${app.kubernetes.io/name}`);
 *   - a reference to a label that is absent stays as written, `$` included;
 *     a `$` not followed by a name (or a `${` without `}`) is plain text;
 *   - the rendered title is cut to TITLE_RULE_MAX_CHARS characters, the
 *     same limit as the rule itself. */
#ifndef TOCSIN_TITLE_RULE_H
#define TOCSIN_TITLE_RULE_H

#include <jansson.h>

#define TITLE_RULE_MAX_CHARS 512

/* A new malloc'd title (caller frees), or NULL when out of memory.
 * labels may be NULL; non-string label values never substitute. */
char *title_rule_render(const char *rule, json_t *labels);

#endif
