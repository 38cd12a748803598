/* integration.h: the integration record (reference/integrations.md).
 *
 * One row of the integrations table, for every kind: alert sources
 * (alert_standard, alert_prometheus) use channel_id and integration_key;
 * the pushing kinds (webhook_incident, webhook_alert, custom_action) keep
 * their endpoint, headers, channel_ids, event_types, template and delivery
 * policy in `config` and their secrets in the signing columns. The API
 * (api/integrations.c, api/push_config.c for the pushing kinds' config)
 * validates requests into this struct; the ingest
 * engine and delivery read the rows by key or id through the store
 * (store/config.h, store/integrations.h).
 *
 * status is enabled | disabled | deleted; a deleted row is kept (alerts and
 * history point at it) but its name is free again and its key refused.
 *
 * `config` of the pushing kinds: the contract between the integration calls
 * (which validate and normalize it, every default filled in) and delivery
 * (delivery/target.c, which reads it):
 *   {"endpoint": "https://host/path?query",      http(s), <= 2048 chars
 *    "headers": {"X-Name": "value", ...},        custom headers, {} if none
 *    "tls_verify": true,
 *    "timeout_ms": 1000,                         1..10000
 *    "channel_ids": [1, 2],                      [] = all (webhooks only)
 *    "event_types": ["i_new", "i_ack"],          [] = all of the kind
 *    "body_template": "",                        "" = the default body
 *    "retry": {"max_attempts": 8, "schedule_s": [1, 5, 30, 120, 600, 1800, 3600]},
 *    "ordered": true,
 *    "signing": true}
 * custom_action: channel_ids has 1+ channels, event_types is ["i_custom"].
 * Whenever config, status or the secrets change, the `subscriptions` rows
 * of the integration are rewritten in the same command (integration_save
 * does it), and the caller tells the dispatcher (dispatcher_reload). */
#ifndef TOCSIN_INTEGRATION_H
#define TOCSIN_INTEGRATION_H

#include <jansson.h>
#include <stdint.h>

#include "core/writer.h"
#include "store/store.h"
#include "util/err.h"

#define INTEGRATION_NAME_MAX 128
#define INTEGRATION_DESCRIPTION_MAX 500
#define INTEGRATION_KEY_BYTES 16 /* 32 hex characters */

typedef struct {
    int64_t integration_id; /* 0 until inserted */
    char type[32];
    char *name;
    char *description;
    char status[16];
    char *disabled_reason;
    int64_t channel_id;    /* alert sources; 0 otherwise */
    char *integration_key; /* alert sources; NULL otherwise */
    json_t *config;        /* pushing kinds; {} otherwise */
    /* Pushing kinds: the Standard Webhooks secret ("whsec_..."), and the one
     * it replaced, still signed with until prev_secret_expires_at (Unix s). */
    char *signing_secret;
    char *prev_signing_secret;
    int64_t prev_secret_expires_at;
    int64_t created_at, updated_at, deleted_at;
} integration;

/* How long a rotated-out secret still signs (reference: 24 hours). */
#define INTEGRATION_PREV_SECRET_TTL_S (24 * 3600)

void integration_init(integration *in);
void integration_clear(integration *in);

/* Replaces a string field with a copy of value (NULL allowed). */
int integration_set_str(char **field, const char *value, tc_err *err);

/* Loads any row, deleted included. InvalidParameter
 * "integration_id X does not exist" when there is none. */
int integration_load(store_conn *c, int64_t integration_id, integration *out, tc_err *err);

/* Inserts (integration_id 0: sets it and created_at) or updates the row;
 * sets updated_at to the batch time; and rewrites the integration's
 * `subscriptions` rows from its config: for a webhook that is not deleted,
 * one row per (channel, event type), channel_id 0 meaning every channel and
 * event_type '' every type of its kind. A disabled webhook keeps its rows
 * (its events keep queueing); a deleted one and every other kind have none. */
int integration_save(writer_txn *txn, integration *in, tc_err *err);

/* True for webhook_incident, webhook_alert and custom_action. */
int integration_is_pushing(const char *type);

/* The object kind a webhook type is subscribed to: "incident" for
 * webhook_incident, "alert" for webhook_alert; NULL for other types
 * (custom actions are pushed only when pressed). */
const char *integration_subscription_kind(const char *type);

/* The event types a pushing type may subscribe to (reference/webhooks.md),
 * NULL-terminated: the i_* list for webhook_incident, the a_* list for
 * webhook_alert, {"i_custom"} for custom_action; NULL for other types. */
const char *const *integration_event_types(const char *type);

/* InvalidParameter naming `name` when another integration of the same type
 * that is not deleted (other than except_id) has this name, compared
 * without regard to case. */
int integration_name_free(store_conn *c, const char *type, const char *name, int64_t except_id,
                          tc_err *err);

#endif
