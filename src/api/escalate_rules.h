/* escalate_rules.h: what api/channels.c uses of the escalation rule calls:
 * channel create's legacy `escalate_rule` {aggr_window, template_id,
 * target} becomes the channel's rule named "Default" (one layer: the
 * target, with the layer defaults), as Flashduty's list example shows
 * (reference/rules.md, "Escalation rules"). */
#ifndef TOCSIN_API_ESCALATE_RULES_H
#define TOCSIN_API_ESCALATE_RULES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/writer.h"
#include "util/err.h"

/* A target's `webhooks` (at most max, 0 = no bound; each {type of at most
 * type_max characters (0 = no bound), settings}) and `by`, checked alike
 * by the rule calls and by channel create/update's escalate_rule. *out
 * is the list given (borrowed), NULL when absent. */
int escalate_target_webhooks_check(json_t *target, size_t max, size_t type_max, json_t **out,
                                   tc_err *err);
int escalate_target_by_check(json_t *by, tc_err *err);

/* Checks escalate_rule's target as a layer's (on the HTTP thread; errors
 * name escalate_rule.target...) and gives the Default rule's layers. */
int escalate_rules_default_read(json_t *escalate_rule, json_t **layers, tc_err *err);
/* Inside the channel's create command: the people must be members
 * (ResourceNotFound), then the rule is stored. */
int escalate_rules_default_insert(writer_txn *txn, int64_t channel_id, json_t *escalate_rule,
                                  json_t *layers, int64_t who, tc_err *err);

#endif
