/* sync_send.h: pushes that a caller waits for: custom actions
 * (/incident/custom-action/do) and /integration/test.
 *
 * Unlike the outbox, the caller holds the request open for the outcome, so
 * these go out at once from the request's thread, with the dispatcher's
 * network settings (address guard, egress address). Every attempt is
 * recorded in the invocation history like any other. */
#ifndef TOCSIN_SYNC_SEND_H
#define TOCSIN_SYNC_SEND_H

#include <jansson.h>

#include "core/app.h"
#include "core/events.h"
#include "delivery/history.h"
#include "delivery/target.h"

typedef struct {
    int delivered;
    long status_code;
    int64_t duration_ms;
    int attempts;
    char message[600];   /* why it failed; "" when delivered */
    char *response_body; /* malloc'd, capped; may be NULL */
} sync_result;

void sync_result_clear(sync_result *r);

/* Sends body to t now; when retry_once, a connection that failed before
 * any byte of the request went out is tried once more (never a request
 * that went out unanswered: the endpoint may have acted on it). Records
 * every attempt in history (s describes the event). */
int sync_send(tc_app *app, const push_target *t, const history_subject *s, const char *body,
              int retry_once, sync_result *out, tc_err *err);

/* /incident/custom-action/do: stores i_custom (incident webhooks get it
 * too), pushes the incident with its alerts to the action's endpoint,
 * waits for the outcome (one retry if nothing of the request went out), puts the outcome
 * on the incident's timeline and returns it: *data is {} on success,
 * {"message": why} on failure. */
int custom_action_do(tc_app *app, const char *incident_id, int64_t integration_id,
                     const tc_person *who, json_t **data, tc_err *err);

#endif
